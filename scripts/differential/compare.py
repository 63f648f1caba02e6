#!/usr/bin/env python3
"""Compare modelgate's findings with ground truth recorded from the real loaders.

    python3 scripts/differential/compare.py --cases DIR [--truth pickles.jsonl]
        [--modelgate PATH] [--report FILE] [--json FILE]

Runs `modelgate scan DIR --no-config -f json` once over the case directory and checks,
for every ground-truth line whose loader loaded the file:

- every import the loader made is reported: a global modelgate classifies as known-safe
  must be listed in the `pickle-format` finding's evidence (when that finding is there
  and its list is not cut short with "(+N more)"); any other global must be named in a
  finding message as "`module.name`". An import through EXT counts as reported when a
  finding names its extension code; an import whose module or name was computed at load
  time counts as reported when there is a `pickle-dynamic-import` finding;
- every non-safe global the loader called has a finding whose evidence shows the call
  (`module.name(`), and when the arguments were constants, evidence equal to one of the
  calls made;
- a stream the loader reads is never `pickle-malformed`, never skipped or left
  unscanned, and never stops on a scanner limit (`pickle-limit-reached`);
- modelgate names no global the loader never imported (a decoding difference); a finding
  from modelgate's stream view (its message says "read as from a stream without
  peek()": how `torch.load` and `pickle.load(io.BytesIO(...))` read a FRAME that an
  argument straddles) is another loader's reading and is not held against a
  `pickle.loads` line;
- the file's worst severity is at least the tier of every global imported (a lower one
  is a bypass of that tier; `verdict-pass` when nothing above low was reported at all).

How modelgate classifies a global is learnt from modelgate itself: each distinct global
is scanned alone (`PROTO 4, SHORT_BINUNICODE module, SHORT_BINUNICODE name,
STACK_GLOBAL, STOP`), and the tier it reports there is the one expected.
"""

import argparse
import collections
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

SEV = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}


def ext_registry():
    from gen_pickles import EXTENSIONS

    return {(m, n): c for (m, n, c) in EXTENSIONS}


def run_modelgate(modelgate, target):
    p = subprocess.run(
        [os.path.abspath(modelgate) if os.sep in modelgate else modelgate, "scan", ".", "--no-config", "-f", "json", "--no-progress", "-j", "2"],
        capture_output=True,
        cwd=target,
        env={**os.environ, "NO_COLOR": "1"},
    )
    if p.returncode not in (0, 1):
        raise SystemExit("modelgate failed (%d): %s" % (p.returncode, p.stderr.decode()[:500]))
    return json.loads(p.stdout)


def by_relpath(report, root):
    out = {}
    for f in report["files"]:
        out[os.path.normpath(f["path"]).replace(os.sep, "/")] = f
    return out


def oracle(modelgate, names, cache_path=None):
    """(module, name) -> ('safe', 1) | (rule, severity) as modelgate reports it alone."""
    cache = {}
    if cache_path and os.path.exists(cache_path):
        for ln in open(cache_path):
            d = json.loads(ln)
            cache[(d["m"], d["n"])] = (d["rule"], d["sev"])
    todo = [k for k in names if k not in cache]
    if todo:
        d = tempfile.mkdtemp(prefix="mg-oracle-")
        try:
            for i, (m, n) in enumerate(todo):
                mb, nb = m.encode("utf-8", "surrogatepass"), n.encode("utf-8", "surrogatepass")
                data = b"\x80\x04\x8d" + struct.pack("<Q", len(mb)) + mb + b"\x8d" + struct.pack("<Q", len(nb)) + nb + b"\x93."
                with open(os.path.join(d, "g%05d.pkl" % i), "wb") as f:
                    f.write(data)
            rep = by_relpath(run_modelgate(modelgate, d), d)
            for i, (m, n) in enumerate(todo):
                fr = rep.get("g%05d.pkl" % i)
                full = "%s.%s" % (m, n)
                res = ("unclassified", 0)
                for fd in (fr or {}).get("findings", []):
                    if fd["rule"] == "pickle-format" and full in split_safe(fd.get("evidence", ""))[0]:
                        res = ("safe", SEV["low"])
                    elif ("`%s`" % full) in fd["message"] and fd["rule"].startswith("pickle-"):
                        if SEV[fd["severity"]] > res[1]:
                            res = (fd["rule"], SEV[fd["severity"]])
                cache[(m, n)] = res
        finally:
            shutil.rmtree(d, ignore_errors=True)
        if cache_path:
            with open(cache_path, "w") as f:
                for (m, n), (rule, sev) in sorted(cache.items()):
                    f.write(json.dumps({"m": m, "n": n, "rule": rule, "sev": sev}) + "\n")
    return cache


def split_safe(evidence):
    cut = False
    m = re.search(r" \(\+\d+ more\)$", evidence)
    if m:
        evidence = evidence[: m.start()]
        cut = True
    if evidence == "no globals":
        return set(), cut
    return set(x for x in evidence.split(", ") if x), cut


def rust_debug_str(s):
    out = ['"']
    for ch in s:
        if ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\0":
            out.append("\\0")
        elif ch.isprintable() or ch == " ":
            out.append(ch)
        else:
            out.append("\\u{%x}" % ord(ch))
    out.append('"')
    return "".join(out)


def render_call(m, n, args):
    """modelgate's rendering of a call with constant arguments, or None if not comparable."""
    parts = []
    for a in args:
        if isinstance(a, bool):
            parts.append("True" if a else "False")
        elif a is None:
            parts.append("None")
        elif isinstance(a, int):
            if not -(2**63) <= a < 2**63:
                parts.append("<int>")
            else:
                parts.append(str(a))
        elif isinstance(a, str):
            if len(a) > 300:
                return None
            parts.append(rust_debug_str(a))
        else:
            return None  # floats and bytes render differently; not compared
    s = "%s.%s(%s)" % (m, n, ", ".join(parts))
    return s if len(s) <= 400 else None


COMPUTING_NAMES = ["%s.%s(" % g for g in __import__("recorder").COMPUTING]
STREAM_VIEW = "(read as from a stream without peek()"
NAME_RE = re.compile(r"^(GLOBAL|STACK_GLOBAL|INST|EXT\S*) `([^`]+)`")


def check_file(fname, lines, fr, tiers, exts, features=None):
    """Disagreements for one case: list of (class, detail)."""
    out = []
    if fr is None:
        return [("not-in-report", "modelgate did not list the file")]
    findings = fr.get("findings", [])
    status = fr.get("status")
    fmt = fr.get("format")
    pickle_findings = [f for f in findings if f["rule"].startswith("pickle-")]
    any_loads = any(ln["loads"] for ln in lines)
    if any_loads and (status != "scanned" or not pickle_findings):
        out.append(("skipped", "status=%s format=%s rules=%s" % (status, fmt, sorted({f["rule"] for f in findings}))))
    worst = max([SEV[f["severity"]] for f in findings] + [0])
    named = set()
    named_evidence = collections.defaultdict(list)
    reported_globals = set()
    contiguous = set()
    # Globals named only by findings of the stream view (another loader's reading).
    stream_only = set()
    for f in findings:
        for x in re.findall(r"`([^`]+)`", f["message"]):
            named.add(x)
        m = NAME_RE.match(f["message"])
        if m:
            named_evidence[m.group(2)].append(f.get("evidence", ""))
            reported_globals.add(m.group(2))
            if STREAM_VIEW in f["message"]:
                stream_only.add(m.group(2))
            else:
                contiguous.add(m.group(2))
    safe_listed, safe_cut, have_format = set(), False, False
    for f in findings:
        if f["rule"] == "pickle-format":
            have_format = True
            s, c = split_safe(f.get("evidence", ""))
            safe_listed |= s
            safe_cut |= c
    ext_reported = set(int(x) for f in findings for x in re.findall(r"extension code (\d+)", f.get("evidence", "") + " " + f["message"]))
    dynamic = any(f["rule"] == "pickle-dynamic-import" for f in findings)
    for f in findings if any_loads else []:
        if f["rule"] == "pickle-malformed":
            msg = re.sub(r"\d+", "N", f["message"].split(" (opcodes before")[0])
            out.append(("malformed-on-valid", msg))
        elif f["rule"] == "pickle-limit-reached":
            out.append(("limit-on-valid", re.sub(r"\d+", "N", f["message"][:120])))
        elif f["rule"] == "content-not-scanned":
            out.append(("content-not-scanned", f["message"][:160]))
    truth_imports = set()
    for ln in lines:
        # A load that failed still ran what it read before failing.
        if not ln["loads"] and not ln["imports"]:
            continue
        computed = set(map(tuple, ln.get("computed", [])))
        for m, n in ln["imports"]:
            truth_imports.add("%s.%s" % (m, n))
        for m, n in {tuple(x) for x in ln["imports"]}:
            full = "%s.%s" % (m, n)
            rule, sev = tiers.get((m, n), ("unclassified", 0))
            by_name = full in named
            if by_name:
                ok = True
            elif rule == "safe":
                # Listed, or not listable: the list is cut short, or the file has pickle
                # findings above low (then the known-safe globals are not listed).
                ok = full in safe_listed or safe_cut or any(SEV[f["severity"]] > SEV["low"] for f in pickle_findings)
            else:
                ok = False
            if not ok and (m, n) in exts and exts[(m, n)] in ext_reported:
                ok = True
            if not ok and (m, n) in computed and dynamic:
                ok = True
            if not ok:
                out.append(("missed-import" if rule != "safe" else "missed-safe-import", "%s [%s] via %s" % (full, rule, ln["loader"])))
            # An import through EXT or a computed name is reported as a computed import
            # (high) by design: modelgate cannot know what it resolves to.
            if by_name and rule != "safe" and sev > worst:
                out.append(("severity-too-low", "%s is %s alone, file's worst is %s" % (full, rule, worst)))
        # Python 2 names that find_class maps (_compat_pickle) are judged by their target.
        for m, n, m2, n2 in ln.get("effective", []):
            rule2, sev2 = tiers.get((m2, n2), ("unclassified", 0))
            if rule2 != "safe" and sev2 > worst:
                out.append(("py2-alias-severity", "%s.%s is %s.%s (%s) when loaded; file's worst is %s" % (m, n, m2, n2, rule2, worst)))
        # calls
        called = collections.defaultdict(list)
        for (m, n, _r), a in zip(ln["calls"], ln.get("call_args", [None] * len(ln["calls"]))):
            called[(m, n)].append(a)
        for (m, n), argss in called.items():
            full = "%s.%s" % (m, n)
            rule, _ = tiers.get((m, n), ("unclassified", 0))
            if rule == "safe" or full not in reported_globals or (m, n) in computed:
                continue
            evs = named_evidence[full]
            if not any(e.startswith(full + "(") for e in evs):
                out.append(("call-not-shown", "%s called by the loader; evidence %s" % (full, evs[:2])))
                continue
            if any(c in e for e in evs for c in COMPUTING_NAMES):
                continue  # modelgate shows the computation, e.g. os.system(builtins.str("x"))
            expected = [render_call(m, n, a) for a in argss if a is not None]
            expected = [e for e in expected if e]
            if expected and len(expected) == len([a for a in argss]) and not any(e in expected for e in evs):
                out.append(("call-args-differ", "evidence %s, loader called %s" % (evs[:1], expected[:2])))
    if any(ln["loads"] and ln["loader"].startswith("pickle") for ln in lines):
        for g in sorted(reported_globals - truth_imports - (stream_only - contiguous)):
            out.append(("phantom-import", "modelgate names `%s`, the loader imported %s" % (g, sorted(truth_imports)[:6])))
    nonsafe = [i for ln in lines for i in map(tuple, ln["imports"]) if tiers.get(i, ("", 0))[0] != "safe"]
    if nonsafe and worst <= SEV["low"]:
        out.append(("verdict-pass", "loader imported %s; modelgate's worst finding is %s" % (sorted(set("%s.%s" % g for g in nonsafe))[:4], worst)))
    return out


def collect(args, results, byfile):
    """The smallest `per_class` files of every (class, detail kind) signature, with their
    ground-truth lines, appended to COLLECT/<truth name>."""
    os.makedirs(args.collect, exist_ok=True)
    sigs = collections.defaultdict(list)
    for fname, ds in results.items():
        size = os.path.getsize(os.path.join(args.cases, fname))
        for cls, detail in ds:
            key = detail if cls in ("malformed-on-valid", "limit-on-valid", "skipped", "content-not-scanned") else ""
            sigs[(cls, key)].append((size, fname))
    chosen = set()
    for k in sorted(sigs):
        for _, fname in sorted(set(sigs[k]))[: args.per_class]:
            chosen.add(fname)
    truth_name = os.path.basename(args.truth)
    with open(os.path.join(args.collect, truth_name), "a") as out:
        for fname in sorted(chosen):
            new = args.prefix + fname
            shutil.copyfile(os.path.join(args.cases, fname), os.path.join(args.collect, new))
            for ln in byfile[fname]:
                out.write(json.dumps(dict(ln, file=new), sort_keys=True) + "\n")
    print("collected %d files into %s" % (len(chosen), args.collect))


def hexdump(data, limit=256):
    lines = []
    for i in range(0, min(len(data), limit), 16):
        chunk = data[i : i + 16]
        hx = " ".join("%02x" % b for b in chunk)
        asc = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append("%08x  %-47s  %s" % (i, hx, asc))
    if len(data) > limit:
        lines.append("... (%d bytes)" % len(data))
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", required=True)
    ap.add_argument("--truth", default="pickles.jsonl")
    ap.add_argument("--modelgate", default="modelgate")
    ap.add_argument("--report", default=None)
    ap.add_argument("--json", default=None, help="machine-readable disagreements")
    ap.add_argument("--oracle-cache", default=None)
    ap.add_argument("--examples", type=int, default=3)
    ap.add_argument("--collect", default=None, help="copy the smallest disagreeing cases of each class here")
    ap.add_argument("--per-class", type=int, default=2)
    ap.add_argument("--prefix", default="", help="file name prefix for --collect")
    args = ap.parse_args(argv)
    truth_path = args.truth if os.path.isabs(args.truth) else os.path.join(args.cases, args.truth)
    lines = [json.loads(x) for x in open(truth_path)]
    byfile = collections.OrderedDict()
    for ln in lines:
        byfile.setdefault(ln["file"], []).append(ln)
    names = sorted({tuple(i) for ln in lines for i in ln["imports"]} | {tuple(e[2:]) for ln in lines for e in ln.get("effective", [])})
    tiers = oracle(args.modelgate, names, args.oracle_cache)
    rep = by_relpath(run_modelgate(args.modelgate, args.cases), args.cases)
    exts = ext_registry()
    results = {}
    for fname, lns in byfile.items():
        results[fname] = check_file(fname, lns, rep.get(fname), tiers, exts)
    counts = collections.Counter()
    sub = collections.defaultdict(collections.Counter)
    examples = collections.defaultdict(list)
    for fname, ds in results.items():
        for cls in sorted({c for c, _ in ds}):
            counts[cls] += 1
        for cls, detail in ds:
            key = detail if cls in ("malformed-on-valid", "limit-on-valid", "skipped", "content-not-scanned") else ""
            sub[cls][key] += 1
            if len(examples[cls]) < args.examples and fname not in [e[0] for e in examples[cls]]:
                examples[cls].append((fname, detail))
    if args.collect:
        collect(args, results, byfile)
    bad = sum(1 for ds in results.values() if ds)
    summary = "%d case files, %d with disagreements" % (len(results), bad)
    print(summary)
    for cls, n in counts.most_common():
        print("  %-22s %d files" % (cls, n))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({k: v for k, v in results.items() if v}, f, indent=1, sort_keys=True)
    if args.report:
        with open(args.report, "w") as f:
            f.write("# Differential report\n\n%s (modelgate: `%s`).\n\n" % (summary, os.path.basename(args.modelgate)))
            f.write("| class | files |\n|---|---|\n")
            for cls, n in counts.most_common():
                f.write("| %s | %d |\n" % (cls, n))
            for cls, n in counts.most_common():
                f.write("\n## %s (%d files)\n\n" % (cls, n))
                for key, k in sub[cls].most_common(12):
                    if key:
                        f.write("- %d× %s\n" % (k, key))
                for fname, detail in examples[cls]:
                    data = open(os.path.join(args.cases, fname), "rb").read()
                    f.write("\n`%s`: %s\n\n```\n%s\n```\n" % (fname, detail, hexdump(data)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
