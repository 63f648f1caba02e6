#!/usr/bin/env python3
"""Generate the modelgate benchmark tree (benign model files only).

    /work/venv/bin/python bench/generate.py [--out bench/out/tree] [--force]

Needs torch, numpy and scikit-learn (see bench/requirements.txt). Usually run through
`python3 bench/run.py --generate`, which calls this script with $BENCH_PYTHON
(default /work/venv/bin/python).

Everything is deterministic (fixed seeds). The tree (about 1.5 GB) contains:

  zip_50mb/model.pt        torch zip state_dict, ~50 MB   (8 float32 tensors)
  zip_200mb/model.pt       torch zip state_dict, ~200 MB
  zip_400mb/model.pt       torch zip state_dict, ~400 MB
  legacy_200mb/model.pt    the same ~200 MB state_dict, legacy (non-zip) torch format
  objects_300k/data.pkl    ~10 MB protocol-4 pickle: a list of 300k small dicts
  sklearn_rf/model.pkl     scikit-learn RandomForestClassifier, protocol-4 pickle, a few MB
  many_small/ckpt_NNN.pt   200 small torch zip checkpoints
  pair_10mb/model.pt       torch zip, 4 tensors 640x1024 zeros      (~10 MB)
  pair_400mb/model.pt      torch zip, 4 tensors 25600x1024 zeros   (~400 MB)

The pair shares the same file name (so the same archive prefix), keys, dtypes and
tensor count; their data.pkl have the same length and the same opcode sequence and differ
only in the shape/numel integers. Only the tensor bytes differ (10 MB vs 400 MB), which
isolates the cost of tensor bytes from the cost of the pickle.

A manifest (manifest.json) records each case's file count, bytes and data.pkl facts.
"""
import argparse
import hashlib
import io
import json
import os
import pickle
import pickletools
import random
import shutil
import sys
import zipfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
COLS = 1024


def state_dict(rows, seed, zeros=False, layers=4):
    """`layers` (weight rows x 1024, bias 1024) float32 pairs."""
    g = torch.Generator().manual_seed(seed)
    sd = {}
    for i in range(layers):
        if zeros:
            w = torch.zeros(rows, COLS, dtype=torch.float32)
            b = torch.zeros(COLS, dtype=torch.float32)
        else:
            w = torch.randn(rows, COLS, generator=g, dtype=torch.float32)
            b = torch.randn(COLS, generator=g, dtype=torch.float32)
        sd[f"layers.{i}.weight"] = w
        sd[f"layers.{i}.bias"] = b
    return sd


def rows_for(mb, layers=4):
    # weight bytes dominate: layers * rows * 1024 * 4 bytes
    return round(mb * 1e6 / (layers * COLS * 4))


def save_zip(sd, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.save(sd, path)


def save_legacy(sd, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.save(sd, path, _use_new_zipfile_serialization=False)


def data_pkl_info(path):
    with zipfile.ZipFile(path) as z:
        name = next(n for n in z.namelist() if n.endswith("/data.pkl"))
        data = z.read(name)
    ops = [op.name for op, _arg, _pos in pickletools.genops(data)]
    return {
        "member": name,
        "bytes": len(data),
        "opcodes": len(ops),
        "opcode_seq_sha256": hashlib.sha256("\n".join(ops).encode()).hexdigest(),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def gen_zip_sizes(out, log):
    for mb, seed in ((50, 50), (200, 200), (400, 400)):
        p = os.path.join(out, f"zip_{mb}mb", "model.pt")
        log(f"zip_{mb}mb: rows={rows_for(mb)}")
        sd = state_dict(rows_for(mb), seed)
        save_zip(sd, p)
        if mb == 200:
            log("legacy_200mb: same state_dict, legacy format")
            save_legacy(sd, os.path.join(out, "legacy_200mb", "model.pt"))
        del sd


def gen_objects(out, log, n=300_000):
    log(f"objects_300k: {n} small dicts, protocol 4")
    rng = random.Random(300)
    tags = ["alpha", "beta", "gamma", "delta", "eps"]
    objs = [
        {"id": i, "score": rng.random(), "tag": tags[i % 5], "name": f"n{i:06d}"}
        for i in range(n)
    ]
    p = os.path.join(out, "objects_300k", "data.pkl")
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        pickle.dump(objs, f, protocol=4)


def gen_sklearn(out, log):
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    log("sklearn_rf: RandomForestClassifier(n_estimators=100, max_depth=12)")
    X, y = make_classification(n_samples=4000, n_features=20, n_informative=10, random_state=0)
    clf = RandomForestClassifier(n_estimators=100, max_depth=12, random_state=0, n_jobs=1).fit(X, y)
    p = os.path.join(out, "sklearn_rf", "model.pkl")
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        pickle.dump(clf, f, protocol=4)


def gen_many_small(out, log, n=200):
    log(f"many_small: {n} small torch zip checkpoints")
    d = os.path.join(out, "many_small")
    os.makedirs(d, exist_ok=True)
    for i in range(n):
        g = torch.Generator().manual_seed(1000 + i)
        sd = {
            "fc.weight": torch.randn(64, 64, generator=g),
            "fc.bias": torch.randn(64, generator=g),
            "step": i,
        }
        torch.save(sd, os.path.join(d, f"ckpt_{i:03d}.pt"))


def gen_pair(out, log):
    # 640 and 25600 rows: both BININT2 in the pickle, numels both BININT, so the two
    # data.pkl have identical length and opcode sequence.
    for name, rows in (("pair_10mb", 640), ("pair_400mb", 25600)):
        log(f"{name}: rows={rows} zeros")
        sd = state_dict(rows, 0, zeros=True)
        save_zip(sd, os.path.join(out, name, "model.pt"))
        del sd


def case_stats(root):
    files, total = 0, 0
    for dp, _dn, fn in os.walk(root):
        for f in fn:
            files += 1
            total += os.path.getsize(os.path.join(dp, f))
    return files, total


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(HERE, "out", "tree"))
    ap.add_argument("--force", action="store_true", help="delete an existing tree first")
    args = ap.parse_args()
    out = os.path.abspath(args.out)
    if os.path.exists(out):
        if not args.force:
            sys.exit(f"{out} exists; pass --force to regenerate")
        shutil.rmtree(out)
    os.makedirs(out)

    def log(msg):
        print(f"[generate] {msg}", flush=True)

    torch.set_num_threads(1)
    gen_zip_sizes(out, log)
    gen_objects(out, log)
    gen_sklearn(out, log)
    gen_many_small(out, log)
    gen_pair(out, log)

    import sklearn

    manifest = {
        "generator": {
            "python": sys.version.split()[0],
            "torch": torch.__version__,
            "numpy": np.__version__,
            "scikit-learn": sklearn.__version__,
        },
        "cases": {},
    }
    for case in sorted(os.listdir(out)):
        p = os.path.join(out, case)
        if not os.path.isdir(p):
            continue
        files, total = case_stats(p)
        manifest["cases"][case] = {"files": files, "bytes": total}
    for case in ("pair_10mb", "pair_400mb", "zip_50mb", "zip_200mb", "zip_400mb"):
        manifest["cases"][case]["data_pkl"] = data_pkl_info(os.path.join(out, case, "model.pt"))
    a = manifest["cases"]["pair_10mb"]["data_pkl"]
    b = manifest["cases"]["pair_400mb"]["data_pkl"]
    manifest["pair_same_pickle_structure"] = (
        a["bytes"] == b["bytes"] and a["opcode_seq_sha256"] == b["opcode_seq_sha256"]
    )
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    for case, info in manifest["cases"].items():
        log(f"{case:14s} files={info['files']:4d} bytes={info['bytes']:>12,d}")
    log(f"pair data.pkl same length and opcode sequence: {manifest['pair_same_pickle_structure']}")


if __name__ == "__main__":
    main()
