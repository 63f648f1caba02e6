#!/usr/bin/env python3
"""Random PyTorch-style zip archives, judged by torch.load and zipfile, compared with
modelgate.

    PY=<python with torch>; $PY scripts/differential/gen_zips.py --seed 1 --count 100 \\
        --out DIR [--modelgate PATH] [--report FILE] [--no-check]

Starts from a real `torch.save` output (two small tensors in a dict), rewrites it with its
own zip writer and random mutations (stored/deflated members, data descriptors with and
without signature, zip64 end records and locators, decoy zip64 records, comments holding a
second end record, gaps, prefixes, duplicate names, local/central name mismatches, CRC
errors, encryption flag bits, the pickle member renamed, another archive folder name) and
random `data.pkl` contents (the original, an injected call of a stand-in global, a pickle
whose first opcode is not PROTO, frames that a read straddles).

Ground truth (zips.jsonl), recorded in a worker process:
- `torch.load(path, weights_only=False, pickle_module=<recording module>)`: every
  find_class of torch's UnpicklerWrapper and every call, with stand-ins for every global
  (recorder.py). torch's own zip reader (`torch._C.PyTorchFileReader`, miniz) still reads
  the archive: `reader` says whether `_open_zipfile_reader` was used ("PyTorchFileReader")
  or torch fell back to its legacy (pre-zip) loader ("legacy").
- `zipfile`: Python's zipfile opens the archive, and each member named `*.pkl` it reads
  (the last entry of a duplicated name, as `ZipFile.read` does) is unpickled as
  pickle.loads would (stand-ins, encoding utf-8, a persistent_load).
"""

import argparse
import io
import json
import os
import random
import struct
import subprocess
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

MARKER = "echo MARKER"


def base_members():
    import torch

    b = io.BytesIO()
    torch.save({"w": torch.arange(4, dtype=torch.float32), "b": torch.zeros(2)}, b)
    import zipfile

    z = zipfile.ZipFile(io.BytesIO(b.getvalue()))
    return [(i.filename.split("/", 1)[1], z.read(i)) for i in z.infolist()]


# ---------- data.pkl contents ----------
def injected(orig, rng, kind, g=None):
    """data.pkl with a stand-in call before the original state dict."""
    body = orig[2:]  # original without PROTO 2
    choice = rng.choice([("posix", "system"), ("builtins", "exec"), ("os", "system"), ("subprocess", "Popen"), ("mypkg.models", "Net")])
    g = g or choice
    # A harmless marker for what the real callable would do with it.
    arg = (b"print('MARKER')" if g == ("builtins", "exec") else MARKER.encode())
    if kind == "global":
        call = b"c%s\n%s\n(X%s%stR0" % (g[0].encode(), g[1].encode(), struct.pack("<I", len(arg)), arg)
        return b"\x80\x02" + call + body, "injected GLOBAL %s.%s" % g
    if kind == "stack-global-no-proto":
        # A protocol-4 style stream without its PROTO header: first opcode SHORT_BINUNICODE.
        m, n = g[0].encode(), g[1].encode()
        call = b"\x8c" + bytes([len(m)]) + m + b"\x8c" + bytes([len(n)]) + n + b"\x93\x8c" + bytes([len(arg)]) + arg + b"\x85R0"
        return call + body, "no PROTO, first opcode SHORT_BINUNICODE, STACK_GLOBAL %s.%s" % g
    if kind == "proto1-header":
        call = b"c%s\n%s\n(X%s%stR0" % (g[0].encode(), g[1].encode(), struct.pack("<I", len(arg)), arg)
        return b"\x80\x01" + call + body, "PROTO 1 header, GLOBAL %s.%s" % g
    if kind == "frame-straddle":
        return frame_straddle(body), "FRAME straddled by a SHORT_BINUNICODE: torch's BytesIO reads posix.system, pickle.loads a string"
    raise ValueError(kind)


def frame_straddle(body):
    """A stream that pickle.loads reads as two strings and torch.load (an io.BytesIO, no
    peek) as a call of posix.system.

    The frame ends one byte into a SHORT_BINUNICODE's 32 bytes. `_Unpickler_ReadImpl`
    drops the byte left in the frame buffer and reads 32 fresh bytes from the stream, so
    torch's view runs one byte ahead: where pickle.loads reads `U` `c` (SHORT_BINSTRING
    of 99 bytes), torch reads GLOBAL `posix system` and a call; both views meet again
    after those 99 bytes."""
    cmd = MARKER
    while True:
        payload = b"posix\nsystem\n(X" + struct.pack("<I", len(cmd)) + cmd.encode() + b"tR"
        if (99 - len(payload)) % 2 == 0:
            break
        cmd += " "
    payload += b"N0" * ((99 - len(payload)) // 2)
    assert len(payload) == 99
    frame = b"\x8c\x20A"  # SHORT_BINUNICODE, 32 bytes, one of them in the frame
    after = b"B" * 31 + b"U" + b"c" + payload + b"00"
    out = b"\x80\x04\x95" + struct.pack("<Q", len(frame)) + frame + after + body
    return out


# ---------- zip writer ----------
def dos_time():
    return 0, (0 << 9) | (1 << 5) | 1  # 1980-01-01 00:00


def write_zip(members, rng, opts):
    """members: list of dicts name, data, method, flags, local_name, crc, descriptor.
    Returns bytes."""
    t, d = dos_time()
    out = bytearray(opts.get("prefix", b""))
    cd = bytearray()
    base = len(out) if opts.get("offsets_from_prefix_end") else 0
    for m in members:
        data = m["data"]
        comp = zlib.compress(data, 9)[2:-4] if m["method"] == 8 else data
        crc = m.get("crc", zlib.crc32(data) & 0xFFFFFFFF)
        lname = m.get("local_name", m["name"]).encode()
        cname = m["name"].encode()
        flags = m.get("flags", 0) | (0x08 if m.get("descriptor") else 0)
        off = len(out) - base
        # Align data to 64 bytes as torch's writer does (an 'FB' padding extra field).
        hdr_len = 30 + len(lname)
        pad = (-(len(out) + hdr_len + 4)) % 64
        extra = struct.pack("<HH", 0x4246, pad) + b"Z" * pad if opts.get("align", True) else b""
        lcrc, lcs, lus = (0, 0, 0) if m.get("descriptor") else (crc, len(comp), len(data))
        out += struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, flags, m["method"], t, d, lcrc, lcs, lus, len(lname), len(extra)) + lname + extra
        out += comp
        if m.get("descriptor"):
            if m.get("descriptor_sig", True):
                out += b"PK\x07\x08"
            out += struct.pack("<III", crc, len(comp), len(data))
        out += opts.get("gap_after_member", b"")
        cd += struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, flags, m["method"], t, d, crc, len(comp), len(data), len(cname), 0, 0, 0, 0, 0, off) + cname
    out += opts.get("gap_before_cd", b"")
    cd_off = len(out) - base
    if opts.get("decoy_cd"):
        # A second, decoy central directory listing only harmless members.
        pass
    out += cd
    out += opts.get("gap_after_cd", b"")
    n = len(members)
    if opts.get("zip64", True):
        z64 = len(out) - base
        out += struct.pack("<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, n, n, len(cd), cd_off)
        out += struct.pack("<4sIQI", b"PK\x06\x07", 0, opts.get("z64_locator_offset", z64), 1)
    comment = opts.get("comment", b"")
    out += struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, n, n, len(cd), cd_off, len(comment)) + comment
    return bytes(out)


def fake_eocd(n, cd_size, cd_off, comment_len=0):
    return struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, n, n, cd_size, cd_off, comment_len)


def make_case(rng, members0):
    """A random archive: (bytes, features list, note)."""
    feats = []
    folder = rng.choice(["archive"] * 4 + ["model", "checkpoint", "a.b", "x"])
    if folder != "archive":
        feats.append("folder-name")
    orig = dict(members0)["data.pkl"]
    k = rng.random()
    if k < 0.25:
        pkl, note = orig, "original data.pkl"
        feats.append("pkl-original")
    else:
        kind = rng.choice(["global", "global", "stack-global-no-proto", "proto1-header", "frame-straddle"])
        pkl, note = injected(orig, rng, kind)
        feats.append("pkl-" + kind)
    members = []
    for name, data in members0:
        m = {"name": folder + "/" + name, "data": pkl if name == "data.pkl" else data, "method": 0}
        if rng.random() < 0.3 or (name == "data.pkl" and rng.random() < 0.4):
            m["method"] = 8
            feats.append("deflated" + ("-pkl" if name == "data.pkl" else ""))
        if rng.random() < 0.1:
            m["descriptor"] = True
            m["descriptor_sig"] = rng.random() < 0.7
            feats.append("data-descriptor" + ("" if m["descriptor_sig"] else "-nosig"))
        members.append(m)
    pk = [m for m in members if m["name"].endswith("/data.pkl")][0]
    opts = {}
    r = rng.random
    if r() < 0.1:
        pk["crc"] = (zlib.crc32(pk["data"]) ^ 0x1234) & 0xFFFFFFFF
        feats.append("crc-error")
    if r() < 0.08:
        pk["flags"] = rng.choice([0x1, 0x20, 0x40])
        feats.append("encryption-flag")
    if r() < 0.08:
        pk["local_name"] = folder + "/data.txt"
        feats.append("local-central-name-mismatch")
    if r() < 0.06:
        pk["name"] = folder + "/" + rng.choice(["data.txt", "data", "Data.pkl"])
        feats.append("pkl-renamed")
    if r() < 0.08:
        # A duplicate: a second member of the same name with the original pickle.
        dup = {"name": pk["name"], "data": orig, "method": rng.choice([0, 8])}
        if r() < 0.5:
            members.append(dup)
        else:
            members.insert(0, dup)
        feats.append("duplicate-name")
    if r() < 0.15:
        members = members[:1] + rng.sample(members[1:], len(members) - 1)
        if r() < 0.5:
            rng.shuffle(members)
        feats.append("member-order")
    if r() < 0.08:
        opts["prefix"] = rng.choice([b"\x00" * 64, b"junk" * 10, b"N."])
        opts["offsets_from_prefix_end"] = r() < 0.5
        feats.append("prefix" + ("-offsets-shifted" if opts["offsets_from_prefix_end"] else ""))
    if r() < 0.1:
        opts["gap_before_cd"] = b"\x00" * rng.choice([1, 16, 100])
        feats.append("gap-before-cd")
    if r() < 0.1:
        opts["gap_after_cd"] = b"\x00" * rng.choice([4, 32])
        feats.append("gap-after-cd")
    if r() < 0.1:
        opts["gap_after_member"] = b"\x00" * 8
        feats.append("gap-after-member")
    if r() < 0.15:
        opts["zip64"] = False
        feats.append("no-zip64")
    elif r() < 0.1:
        opts["z64_locator_offset"] = rng.choice([0, 12345])
        feats.append("zip64-locator-wrong-offset")
    if r() < 0.15:
        c = rng.random()
        if c < 0.5:
            opts["comment"] = b"a comment"
            feats.append("comment")
        else:
            # A second end record inside the comment, pointing at offset 0 / nonsense.
            opts["comment"] = b"xx" + fake_eocd(1, 46, 0) + b"yy"
            feats.append("comment-holds-eocd")
    if r() < 0.05:
        opts["align"] = False
        feats.append("unaligned")
    data = write_zip(members, rng, opts)
    return data, sorted(set(feats)), note


def curated(members0):
    """Hand-built cases for disagreement classes (deterministic)."""
    orig = dict(members0)["data.pkl"]
    out = []

    def ms(pkl, method=0, folder="archive"):
        return [{"name": folder + "/" + n, "data": pkl if n == "data.pkl" else d, "method": method if n == "data.pkl" else 0} for n, d in members0]

    rng = random.Random(0)
    fs, _ = injected(orig, rng, "frame-straddle")
    out.append((write_zip(ms(fs), rng, {}), ["curated", "pkl-frame-straddle"], "frame straddled: torch.load runs posix.system, pickle.loads reads strings"))
    np_, _ = injected(orig, random.Random(1), "stack-global-no-proto", ("posix", "system"))
    out.append((write_zip(ms(np_, 8), rng, {}), ["curated", "deflated-pkl", "pkl-stack-global-no-proto"], "deflated data.pkl starting with SHORT_BINUNICODE (not in might_carry_code)"))
    p1, _ = injected(orig, random.Random(1), "proto1-header", ("posix", "system"))
    out.append((write_zip(ms(p1, 8), rng, {}), ["curated", "deflated-pkl", "pkl-proto1-header"], "deflated data.pkl starting with PROTO 1"))
    # Gap of 100 zero bytes between the members and the central directory.
    inj, _ = injected(orig, random.Random(2), "global", ("posix", "system"))
    out.append((write_zip(ms(inj), rng, {"gap_before_cd": b"\x00" * 100}), ["curated", "gap-before-cd"], "gap before the central directory"))
    # A zip64 locator pointing at a decoy zip64 end record.
    out.append((write_zip(ms(inj), rng, {"z64_locator_offset": 0}), ["curated", "zip64-locator-wrong-offset"], "zip64 locator pointing at offset 0"))
    out.append((write_zip(ms(inj), rng, {"comment": b"xx" + fake_eocd(1, 46, 0) + b"yy"}), ["curated", "comment-holds-eocd"], "a second end record inside the comment"))
    # Two archives in one file: an archive whose data.pkl calls posix.system, then a
    # benign one whose comment holds the first archive's end record (miniz takes the
    # record it finds first from the end: the one inside the comment). Then the same with
    # the inner record's comment length too large to fit the file.
    e = write_zip(ms(inj), rng, {"zip64": False})
    e_body, e_eocd = e[: e.rfind(b"PK\x05\x06")], e[e.rfind(b"PK\x05\x06") :]
    out.append((write_zip(ms(orig), rng, {"zip64": False, "prefix": e_body, "comment": e_eocd}), ["curated", "comment-holds-eocd"], "the comment holds the end record of an archive in front"))
    bad = e_eocd[:20] + struct.pack("<H", 0xFFFF)
    out.append((write_zip(ms(orig), rng, {"zip64": False, "prefix": e_body, "comment": bad}), ["curated", "comment-holds-eocd"], "the comment holds the end record of an archive in front, its comment length too large"))
    # Two whole archives in a row, the payload in the last one / the first one.
    out.append((write_zip(ms(orig), rng, {"zip64": False, "prefix": e}), ["curated", "two-archives"], "an archive with a payload, then a benign archive"))
    b = write_zip(ms(orig), rng, {"zip64": False})
    out.append((write_zip(ms(inj), rng, {"zip64": False, "prefix": b}), ["curated", "two-archives"], "a benign archive, then an archive with a payload"))
    return out


# ---------- ground truth (worker) ----------
WORKER = r'''
import io, json, os, sys, warnings, zipfile
warnings.simplefilter("ignore")
sys.path.insert(0, sys.argv[1])
import recorder, torch, torch.serialization as ser
used = {"zip": False}
orig_init = ser._open_zipfile_reader.__init__
def init(self, *a, **k):
    used["zip"] = True
    return orig_init(self, *a, **k)
ser._open_zipfile_reader.__init__ = init
for line in sys.stdin:
    path = line.strip()
    res = {}
    log = recorder.Log()
    used["zip"] = False
    err = None
    try:
        torch.load(path, weights_only=False, pickle_module=recorder.recording_module(log))
    except BaseException as e:
        err = "%s: %s" % (type(e).__name__, str(e)[:200])
    res["torch"] = {"loads": err is None, "error": err, "imports": log.imports, "calls": log.calls,
                    "reader": "PyTorchFileReader" if used["zip"] else "legacy"}
    z = {"loads": True, "error": None, "imports": [], "calls": [], "members": []}
    try:
        zf = zipfile.ZipFile(path)
        names = zf.namelist()
        z["members"] = names
        for n in sorted(set(names)):
            if n.endswith(".pkl"):
                r = recorder.record_loads(zf.read(n), persistent=True, encoding="utf-8")
                z["imports"] += r["imports"]; z["calls"] += r["calls"]
                if not r["loads"]:
                    z["loads"] = False; z["error"] = r["error"]
    except BaseException as e:
        z["loads"] = False; z["error"] = "%s: %s" % (type(e).__name__, str(e)[:200])
    res["zipfile"] = z
    print(json.dumps(res), flush=True)
'''


def record_all(paths, python):
    p = subprocess.Popen([python, "-c", WORKER, HERE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=os.path.dirname(paths[0]) if paths else None)
    out, _ = p.communicate("\n".join(paths) + "\n")
    res = [json.loads(x) for x in out.splitlines() if x.startswith("{")]
    if len(res) != len(paths):
        raise SystemExit("worker returned %d results for %d cases (rc %s)" % (len(res), len(paths), p.returncode))
    return res


def line(name, loader, g, feats, note, extra=None):
    ln = {
        "file": name,
        "loader": loader,
        "loads": g["loads"],
        "imports": [[i[0], i[1]] for i in g["imports"]],
        "calls": [[c[0], c[1], c[2]] for c in g["calls"]],
        "call_args": [c[4] for c in g["calls"]],
        "computed": [],
        "error": g.get("error"),
        "features": feats,
        "note": note,
    }
    ln.update(extra or {})
    return ln


def main(argv=None):
    if os.environ.get("PYTHONHASHSEED") != "0":
        # Set and frozenset reprs in the ground truth depend on string hashing.
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable] + sys.argv)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--out", required=True)
    ap.add_argument("--modelgate", default="modelgate")
    ap.add_argument("--report", default=None)
    ap.add_argument("--no-check", action="store_true")
    ap.add_argument("--no-curated", action="store_true")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    members0 = base_members()
    rng = random.Random(args.seed)
    cases = [] if args.no_curated else [("c%02d.pt" % i, d, f, n) for i, (d, f, n) in enumerate(curated(members0))]
    for i in range(args.count):
        d, f, n = make_case(rng, members0)
        cases.append(("z%05d.pt" % i, d, f, n))
    paths = []
    for name, data, _, _ in cases:
        p = os.path.abspath(os.path.join(args.out, name))
        with open(p, "wb") as fh:
            fh.write(data)
        paths.append(p)
    res = record_all(paths, sys.executable)
    with open(os.path.join(args.out, "zips.jsonl"), "w") as fh:
        for (name, _, feats, note), r in zip(cases, res):
            t = r["torch"]
            fh.write(json.dumps(line(name, "torch.load", t, feats, note, {"reader": t["reader"]}), sort_keys=True) + "\n")
            z = r["zipfile"]
            fh.write(json.dumps(line(name, "zipfile", z, feats, note, {"members": z["members"]}), sort_keys=True) + "\n")
    loads = sum(r["torch"]["loads"] for r in res)
    print("generated %d archives; torch.load loads %d, zipfile reads %d" % (len(cases), loads, sum(r["zipfile"]["loads"] for r in res)), file=sys.stderr)
    if not args.no_check:
        import compare

        return compare.main(["--cases", args.out, "--truth", "zips.jsonl", "--modelgate", args.modelgate, ] + (["--report", args.report] if args.report else []))
    return 0


if __name__ == "__main__":
    sys.exit(main())
