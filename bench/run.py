#!/usr/bin/env python3
"""modelgate benchmark: modelgate vs picklescan, modelaudit and modelscan, side by side.

Usage (from the repository root):

    python3 bench/run.py --build --generate   # build modelgate, create bench/out/tree, benchmark
    python3 bench/run.py                      # benchmark an existing tree with an existing binary
    python3 bench/run.py --reps 5 --cases objects_300k,zip_400mb --tools modelgate,picklescan

Set up once (see BENCHMARKS.md):

    python3 -m venv bench/out/venv && bench/out/venv/bin/pip install -r bench/requirements.txt
    # the generator needs torch, numpy and scikit-learn in $BENCH_PYTHON

Environment:
    BENCH_PYTHON  python with torch/numpy/sklearn used by --generate (default python3)
    BENCH_VENV    venv holding the peer scanners (default bench/out/venv)
    MODELGATE     modelgate binary (default bench/out/target/release/modelgate)
    BENCH_TARGET  cargo target dir used by --build (default bench/out/target)
    BENCH_SRC     where --build exports the committed source (default bench/out/src)

--build exports the committed HEAD (`git archive HEAD`, so uncommitted edits in the
work tree are not measured) to $BENCH_SRC, runs `cargo build --release` there with
CARGO_TARGET_DIR=$BENCH_TARGET, and records the commit next to the binary
(<binary>.build.json); the report names that commit.

This script uses the standard library only. For every case it runs each available tool
N times (default 3) in the same run, rotating the tool order on every repetition, each
run in a fresh process under `/usr/bin/time -v` (peak RSS) with a wall clock taken
around it here (time.perf_counter) and the CPU time (user+sys) of the process tree from
os.wait4. It reports the median wall time and the median peak
RSS, and peer_time / modelgate_time. The page cache is warmed (every file of the case is
read once) before each case: the numbers are warm-cache numbers.

Raw results go to bench/out/results.json (--results), the output of every run to
bench/out/logs-results/ (logs-<results name>), and the Markdown tables to stdout.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(HERE, "out")
TREE = os.path.join(OUT, "tree")

BENCH_PYTHON = os.environ.get("BENCH_PYTHON", "python3")
BENCH_VENV = os.environ.get("BENCH_VENV", os.path.join(OUT, "venv"))
BENCH_TARGET = os.environ.get("BENCH_TARGET", os.path.join(OUT, "target"))
BENCH_SRC = os.environ.get("BENCH_SRC", os.path.join(OUT, "src"))
MODELGATE = os.environ.get("MODELGATE", os.path.join(BENCH_TARGET, "release", "modelgate"))
TIME_BIN = "/usr/bin/time"

# (case name, path inside the tree, description)
CASES = [
    ("zip_50mb", "zip_50mb/model.pt", "torch zip state_dict, 8 float32 tensors"),
    ("zip_200mb", "zip_200mb/model.pt", "torch zip state_dict, 8 float32 tensors"),
    ("zip_400mb", "zip_400mb/model.pt", "torch zip state_dict, 8 float32 tensors"),
    ("legacy_200mb", "legacy_200mb/model.pt", "same 200 MB state_dict, legacy torch format"),
    ("objects_300k", "objects_300k/data.pkl", "protocol-4 pickle, list of 300k small dicts"),
    ("sklearn_rf", "sklearn_rf/model.pkl", "scikit-learn RandomForest, protocol-4 pickle"),
    ("many_small", "many_small", "directory of 200 small torch zip checkpoints"),
    ("pair_10mb", "pair_10mb/model.pt", "torch zip, same pickle as pair_400mb, 10 MB of tensors"),
    ("pair_400mb", "pair_400mb/model.pt", "torch zip, same pickle as pair_10mb, 400 MB of tensors"),
    # container cases (issue 3): generate.py --only joblib_rf,... adds them to an existing tree
    ("joblib_rf", "joblib_rf/model.joblib", "the sklearn_rf forest, joblib.dump uncompressed (in-band arrays)"),
    ("joblib_rf_zlib", "joblib_rf_zlib/model.joblib", "the same forest, joblib.dump(compress=3), zlib"),
    ("joblib_rf_lz4", "joblib_rf_lz4/model.joblib", "the same forest, joblib.dump(compress='lz4')"),
    ("npz_numeric", "npz_numeric/arrays.npz", "np.savez, 4 numeric arrays, ~50 MB"),
    ("npz_compressed", "npz_compressed/arrays.npz", "np.savez_compressed, 4 numeric arrays, ~20 MB"),
    ("pandas_xz", "pandas_xz/frame.pkl.xz", "pandas DataFrame, 200k rows, to_pickle(compression='xz')"),
    # format cases (non-pickle formats): generate.py --only safetensors_400mb,... (bench/generate_formats.py)
    ("safetensors_400mb", "safetensors_400mb/model.safetensors", "safetensors, 8 float32 zero tensors, ~400 MB"),
    ("gguf_llama3_300mb", "gguf_llama3_300mb/model.gguf",
     "GGUF, real Llama 3 chat template, 32000 tokens, ~300 MB of zero tensors"),
    ("onnx_256mb", "onnx_256mb/model.onnx", "ONNX MatMul+Add, one ~268 MB zero initializer inside the protobuf"),
    ("keras_dense_134mb", "keras_dense_134mb/model.keras", "Keras 3 .keras archive, Dense(4096) x 2, ~134 MB"),
    ("h5_dense_134mb", "h5_dense_134mb/model.h5", "the same Keras model, legacy HDF5 model.save"),
]

# Environment for every tool: no telemetry, no hub access, no colour.
TOOL_ENV = {
    "PROMPTFOO_DISABLE_TELEMETRY": "1",  # modelaudit telemetry off
    "NO_ANALYTICS": "1",  # modelaudit telemetry off (second switch)
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "NO_COLOR": "1",
    "TERM": "dumb",
    "PYTHONDONTWRITEBYTECODE": "1",
}


def venv_bin(name):
    return os.path.join(BENCH_VENV, "bin", name)


def tool_specs(logdir):
    """name -> (argv builder(path, logprefix), completed exit codes, version command)."""
    return {
        "modelgate": (
            lambda p, lp: [MODELGATE, "scan", p, "--no-config", "--format", "json"],
            {0, 1},
            [MODELGATE, "--version"],
        ),
        "picklescan": (
            lambda p, lp: [venv_bin("picklescan"), "--path", p],
            {0, 1},
            [venv_bin("python"), "-c", "import importlib.metadata as m; print(m.version('picklescan'))"],
        ),
        # Plain local scan: JSON report, results cache off; telemetry off via TOOL_ENV.
        "modelaudit": (
            lambda p, lp: [venv_bin("modelaudit"), "scan", "--no-cache", "--format", "json", p],
            {0, 1},
            [venv_bin("modelaudit"), "--version"],
        ),
        # modelscan writes its JSON report to a file; stdout keeps the console log.
        "modelscan": (
            lambda p, lp: [venv_bin("modelscan"), "scan", "-p", p, "-r", "json", "-o", lp + ".report.json"],
            {0, 1},
            [venv_bin("python"), "-c", "import importlib.metadata as m; print(m.version('modelscan'))"],
        ),
    }


def tool_available(name):
    exe = MODELGATE if name == "modelgate" else venv_bin(name)
    return os.access(exe, os.X_OK)


def parse_time_v(path):
    res = {}
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return res
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    if m:
        res["peak_rss_kb"] = int(m.group(1))
    m = re.search(r"User time \(seconds\): ([\d.]+)", text)
    if m:
        res["user_s"] = float(m.group(1))
    m = re.search(r"System time \(seconds\): ([\d.]+)", text)
    if m:
        res["sys_s"] = float(m.group(1))
    m = re.search(r"Exit status: (\d+)", text)
    if m:
        res["exit_status"] = int(m.group(1))
    m = re.search(r"Command terminated by signal (\d+)", text)
    if m:
        res["signal"] = int(m.group(1))
    return res


def group_members(pgid):
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[2]) == pgid:  # field 5 of stat: pgrp
                    pids.append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    return pids


def killpg_quiet(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_once(name, argv, ok_codes, logprefix, timeout):
    env = dict(os.environ)
    env.update(TOOL_ENV)
    tv = logprefix + ".time"
    with open(logprefix + ".stdout", "wb") as out, open(logprefix + ".stderr", "wb") as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(
            [TIME_BIN, "-v", "-o", tv] + argv,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=OUT,  # tools that look for config in the cwd find none there
            start_new_session=True,
        )
        timed_out = threading.Event()

        def kill():
            # Kill the tool's processes but not /usr/bin/time (the group leader), so that it
            # reaps the tool (no zombies left to init) and still reports its peak RSS.
            timed_out.set()
            for pid in group_members(p.pid):
                if pid != p.pid:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            last_resort = threading.Timer(10, lambda: killpg_quiet(p.pid))
            last_resort.daemon = True
            last_resort.start()

        watchdog = threading.Timer(timeout, kill)
        watchdog.start()
        # Blocking wait4: no polling granularity in the wall time, and a rusage with
        # microsecond CPU times for /usr/bin/time and everything it reaped (the tool's tree).
        _pid, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        watchdog.cancel()
        rc = os.waitstatus_to_exitcode(status)
        p.returncode = rc
    rec = {"tool": name, "argv": argv, "wall_s": round(wall, 4), "rc": rc}
    rec.update(parse_time_v(tv))
    rec["cpu_s"] = round(ru.ru_utime + ru.ru_stime, 4)
    rec["wait4_maxrss_kb"] = ru.ru_maxrss
    code = rec.get("exit_status", rc)
    if timed_out.is_set():
        rec["status"] = "timeout"
    elif "signal" in rec or rc < 0:
        rec["status"] = "crashed"
    elif code in ok_codes:
        rec["status"] = "completed"
    else:
        rec["status"] = "failed"
    rec["exit_code"] = code
    return rec


def warm_cache(path):
    paths = []
    if os.path.isdir(path):
        for dp, _dn, fn in os.walk(path):
            paths += [os.path.join(dp, f) for f in fn]
    else:
        paths = [path]
    total = 0
    for p in paths:
        with open(p, "rb") as f:
            while True:
                b = f.read(1 << 20)
                if not b:
                    break
                total += len(b)
    return len(paths), total


def read(path, limit=None):
    try:
        with open(path, errors="replace") as f:
            return f.read() if limit is None else f.read(limit)
    except OSError:
        return ""


def summarize_output(name, logprefix):
    """What the tool reported, from its saved output (best effort)."""
    out = read(logprefix + ".stdout")
    err = read(logprefix + ".stderr")
    s = {}
    try:
        if name == "modelgate":
            d = json.loads(out)
            s = dict(d.get("summary", {}))
            s["verdict"] = d.get("verdict")
            rules = {}
            for f in d.get("files", []):
                for fd in f.get("findings", []):
                    key = f"{fd.get('severity')}:{fd.get('rule')}"
                    rules[key] = rules.get(key, 0) + 1
            s["rules"] = rules
            errs = [f.get("reason") for f in d.get("files", []) if f.get("status") == "error"]
            if errs:
                s["errors"] = errs[:5]
        elif name == "picklescan":
            for key, label in (
                ("scanned_files", "Scanned files"),
                ("infected_files", "Infected files"),
                ("dangerous_globals", "Dangerous globals"),
                ("suspicious_globals", "Suspicious globals"),
            ):
                m = re.search(label + r": (\d+)", out)
                if m:
                    s[key] = int(m.group(1))
            errs = [ln for ln in (out + err).splitlines() if "ERROR" in ln or "Error" in ln]
            s["error_lines"] = len(errs)
            if errs:
                s["errors"] = [e[:300] for e in errs[:3]]
        elif name == "modelaudit":
            d = json.loads(out)
            sev = {}
            rules = {}
            for i in d.get("issues", []):
                sev[i.get("severity")] = sev.get(i.get("severity"), 0) + 1
                key = f"{i.get('severity')}:{i.get('rule_code')}:{i.get('message', '')[:60]}"
                rules[key] = rules.get(key, 0) + 1
            s = {
                "files_scanned": d.get("files_scanned"),
                "bytes_scanned": d.get("bytes_scanned"),
                "has_errors": d.get("has_errors"),
                "success": d.get("success"),
                "issues_by_severity": sev,
                "top_issues": dict(sorted(rules.items(), key=lambda kv: -kv[1])[:8]),
            }
        elif name == "modelscan":
            d = json.loads(read(logprefix + ".report.json") or "{}")
            summ = d.get("summary", {})
            s = {
                "total_issues": summ.get("total_issues"),
                "issues_by_severity": summ.get("total_issues_by_severity"),
                "scanned": len((summ.get("scanned") or {}).get("scanned_files", []) or []),
                "skipped": len((summ.get("skipped") or {}).get("skipped_files", []) or []),
                "errors": [
                    (e.get("description") or str(e))[:300] for e in (d.get("errors") or [])[:3]
                ],
                "n_errors": len(d.get("errors") or []),
            }
    except (ValueError, AttributeError) as e:
        s["parse_error"] = str(e)[:200]
        tail = (out[-400:] + "\n" + err[-400:]).strip()
        s["output_tail"] = tail
    return s


def git(*args):
    return subprocess.run(["git", "-C", ROOT] + list(args), capture_output=True, text=True,
                          check=True).stdout.strip()


def build():
    """Build the committed HEAD into $BENCH_TARGET; record the commit next to the binary."""
    commit = git("rev-parse", "HEAD")
    shutil.rmtree(BENCH_SRC, ignore_errors=True)
    os.makedirs(BENCH_SRC)
    archive = subprocess.Popen(["git", "-C", ROOT, "archive", "--format=tar", commit], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", BENCH_SRC], stdin=archive.stdout, check=True)
    if archive.wait() != 0:
        sys.exit("git archive failed")
    print(f"[bench] building {commit[:10]} in {BENCH_SRC} (CARGO_TARGET_DIR={BENCH_TARGET})", file=sys.stderr)
    subprocess.run(["cargo", "build", "--release", "--locked"], cwd=BENCH_SRC, check=True,
                   env=dict(os.environ, CARGO_TARGET_DIR=BENCH_TARGET))
    info = {
        "commit": commit,
        "subject": git("log", "-1", "--format=%s", commit),
        "commit_date": git("log", "-1", "--format=%cI", commit),
        "built": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "source": "git archive of the commit (work-tree edits excluded)",
    }
    with open(os.path.join(BENCH_TARGET, "release", "modelgate.build.json"), "w") as f:
        json.dump(info, f, indent=2)


def versions(tools):
    v = {}
    specs = tool_specs(None)
    for name in tools:
        try:
            r = subprocess.run(specs[name][2], capture_output=True, text=True, timeout=120,
                               env=dict(os.environ, **TOOL_ENV))
            v[name] = (r.stdout.strip() or r.stderr.strip()).splitlines()[-1] if (r.stdout or r.stderr) else "?"
        except Exception as e:  # noqa: BLE001 - report, don't die
            v[name] = f"? ({e})"
    info = read(MODELGATE + ".build.json")
    if info and os.path.getmtime(MODELGATE) > os.path.getmtime(MODELGATE + ".build.json"):
        info = ""  # binary rebuilt since --build recorded it: provenance unknown
    if info:
        v["modelgate_build"] = json.loads(info)
    else:
        v["modelgate_build"] = {"commit": "unknown (binary not built by --build)",
                                "work_tree_head": git("rev-parse", "HEAD")}
    v["python(run.py)"] = platform.python_version()
    return v


def machine():
    m = {"nproc": os.cpu_count(), "platform": platform.platform()}
    cpu = read("/proc/cpuinfo")
    mm = re.search(r"model name\s*:\s*(.*)", cpu)
    m["cpu"] = mm.group(1).strip() if mm else platform.processor()
    mem = read("/proc/meminfo")
    mm = re.search(r"MemTotal:\s*(\d+) kB", mem)
    if mm:
        m["ram_gib"] = round(int(mm.group(1)) / 1024 / 1024, 1)
    return m


def fmt_time(s):
    if s is None:
        return "—"
    return f"{s * 1000:.0f} ms" if s < 1 else f"{s:.2f} s"


def fmt_mb(kb):
    return "—" if kb is None else f"{kb / 1024:.0f}"


def fmt_size(b):
    return f"{b / 1e6:.1f} MB" if b >= 1e5 else f"{b / 1e3:.0f} kB"


def aggregate(runs):
    done = [r for r in runs if r["status"] == "completed"]
    statuses = sorted({r["status"] for r in runs})
    agg = {"statuses": statuses, "n": len(runs), "n_completed": len(done)}
    src = done if done else [r for r in runs if r["status"] == "failed"]
    if src:
        agg["median_wall_s"] = round(statistics.median(r["wall_s"] for r in src), 4)
        agg["min_wall_s"] = round(min(r["wall_s"] for r in src), 4)
        agg["max_wall_s"] = round(max(r["wall_s"] for r in src), 4)
        rss = [r["peak_rss_kb"] for r in src if "peak_rss_kb" in r]
        if rss:
            agg["median_peak_rss_kb"] = int(statistics.median(rss))
        cpu = [r["cpu_s"] for r in src]
        agg["median_cpu_s"] = round(statistics.median(cpu), 3)
    agg["time_is_of"] = "completed" if done else ("failed runs" if src else "none")
    return agg


def markdown(results, tools):
    peers = [t for t in tools if t != "modelgate"]
    head = ["case", "size"]
    for t in tools:
        head += [f"{t} time", f"{t} peak MB"]
    head += [f"{p}/modelgate" for p in peers]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for c in results["cases"]:
        row = [c["case"], fmt_size(c["bytes"]) + (f" ({c['files']} files)" if c["files"] > 1 else "")]
        for t in tools:
            a = c["tools"].get(t)
            if not a:
                row += ["n/a", "n/a"]
                continue
            mark = ""
            if a["time_is_of"] == "failed runs":
                mark = " (failed)"
            elif a["time_is_of"] == "none":
                mark = " (" + "/".join(a["statuses"]) + ")"
            elif a["n_completed"] < a["n"]:
                mark = f" ({a['n_completed']}/{a['n']} ok)"
            row.append(fmt_time(a.get("median_wall_s")) + mark)
            row.append(fmt_mb(a.get("median_peak_rss_kb")))
        mg = c["tools"].get("modelgate", {}).get("median_wall_s")
        for p in peers:
            pt = c["tools"].get(p, {}).get("median_wall_s")
            if mg and pt and c["tools"][p]["time_is_of"] == "completed":
                row.append(f"{pt / mg:.1f}×")
            elif mg and pt:
                row.append(f"({pt / mg:.1f}×, {c['tools'][p]['time_is_of']})")
            else:
                row.append("—")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def markdown_cpu(results, tools):
    """Median CPU time (user+sys of the process tree), less sensitive to a busy machine."""
    peers = [t for t in tools if t != "modelgate"]
    head = ["case"] + [f"{t} CPU" for t in tools] + [f"{p}/modelgate" for p in peers]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for c in results["cases"]:
        row = [c["case"]]
        for t in tools:
            row.append(fmt_time(c["tools"].get(t, {}).get("median_cpu_s")))
        mg = c["tools"].get("modelgate", {}).get("median_cpu_s")
        for p in peers:
            pt = c["tools"].get(p, {}).get("median_cpu_s")
            row.append(f"{pt / mg:.1f}×" if mg and pt else "—")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description="modelgate side-by-side benchmark", epilog=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", action="store_true", help="build the committed HEAD into $BENCH_TARGET first")
    ap.add_argument("--generate", action="store_true", help="(re)create the tree with $BENCH_PYTHON first")
    ap.add_argument("--reps", type=int, default=3, help="repetitions per tool and case (median taken)")
    ap.add_argument("--timeout", type=float, default=600, help="seconds per run before it is killed")
    ap.add_argument("--cases", default="", help="comma-separated subset of cases")
    ap.add_argument("--tools", default="", help="comma-separated subset of modelgate,picklescan,modelaudit,modelscan")
    ap.add_argument("--results", default=os.path.join(OUT, "results.json"))
    args = ap.parse_args()

    if not os.access(TIME_BIN, os.X_OK):
        sys.exit(f"{TIME_BIN} not found: apt-get install -y time")

    if args.build:
        build()
    if args.generate:
        subprocess.run([BENCH_PYTHON, os.path.join(HERE, "generate.py"), "--out", TREE, "--force"], check=True)
    if not os.path.isdir(TREE):
        sys.exit(f"no tree at {TREE}: run with --generate (needs torch in $BENCH_PYTHON={BENCH_PYTHON})")

    all_tools = ["modelgate", "picklescan", "modelaudit", "modelscan"]
    wanted = [t for t in args.tools.split(",") if t] or all_tools
    tools, missing = [], []
    for t in wanted:
        (tools if tool_available(t) else missing).append(t)
    if "modelgate" not in tools:
        sys.exit(f"modelgate binary not found at {MODELGATE}: run with --build")
    for t in missing:
        print(f"[bench] {t}: not installed in {BENCH_VENV}, skipped", file=sys.stderr)

    cases = CASES
    if args.cases:
        sel = set(args.cases.split(","))
        cases = [c for c in CASES if c[0] in sel]

    results_path = os.path.abspath(args.results)
    logroot = os.path.join(os.path.dirname(results_path),
                           "logs-" + os.path.splitext(os.path.basename(results_path))[0])
    shutil.rmtree(logroot, ignore_errors=True)
    specs = tool_specs(logroot)

    results = {
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "versions": versions(tools),
        "not_installed": missing,
        "reps": args.reps,
        "timeout_s": args.timeout,
        "tree_manifest": json.loads(read(os.path.join(TREE, "manifest.json")) or "{}"),
        "load_avg_start": os.getloadavg(),
        "cases": [],
    }
    print(f"[bench] tools: {', '.join(tools)}; reps={args.reps}; load avg {os.getloadavg()}", file=sys.stderr)

    for ci, (case, rel, desc) in enumerate(cases):
        path = os.path.join(TREE, rel)
        if not os.path.exists(path):
            print(f"[bench] {case}: {path} missing, skipped", file=sys.stderr)
            continue
        nfiles, nbytes = warm_cache(path)
        crec = {"case": case, "path": rel, "description": desc, "files": nfiles, "bytes": nbytes,
                "load_avg_before": os.getloadavg(), "runs": [], "tools": {}, "reported": {}}
        logdir = os.path.join(logroot, case)
        os.makedirs(logdir, exist_ok=True)
        for rep in range(args.reps):
            k = (rep + ci) % len(tools)
            order = tools[k:] + tools[:k]  # rotate the order each repetition
            for t in order:
                argv_of, ok, _ = specs[t]
                lp = os.path.join(logdir, f"{t}.{rep}")
                rec = run_once(t, argv_of(path, lp), ok, lp, args.timeout)
                rec["rep"] = rep
                rec["position"] = order.index(t)
                crec["runs"].append(rec)
                print(f"[bench] {case:13s} rep {rep} {t:10s} {rec['status']:9s} rc={rec['exit_code']} "
                      f"{fmt_time(rec['wall_s']):>9s} {fmt_mb(rec.get('peak_rss_kb')):>6s} MB",
                      file=sys.stderr, flush=True)
        for t in tools:
            crec["tools"][t] = aggregate([r for r in crec["runs"] if r["tool"] == t])
            crec["reported"][t] = summarize_output(t, os.path.join(logdir, f"{t}.{args.reps - 1}"))
        results["cases"].append(crec)

    results["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    results["load_avg_end"] = os.getloadavg()
    os.makedirs(os.path.dirname(os.path.abspath(args.results)), exist_ok=True)
    with open(args.results, "w") as f:
        json.dump(results, f, indent=2)

    print(f"Machine: {results['machine']}  ")
    print(f"Versions: {results['versions']}  ")
    print(f"Median of {args.reps} runs, warm page cache; time = wall clock, peak MB = max RSS.\n")
    print(markdown(results, tools))
    print("\nCPU time (user+sys of the whole process tree, median):\n")
    print(markdown_cpu(results, tools))
    print(f"\n[bench] raw results: {args.results}", file=sys.stderr)


if __name__ == "__main__":
    main()
