#!/usr/bin/env python3
"""Generate the modelgate benchmark tree (benign model files only).

    $BENCH_PYTHON bench/generate.py [--out bench/out/tree] [--force]

Needs torch, numpy and scikit-learn (see bench/requirements.txt). Usually run through
`python3 bench/run.py --generate`, which calls this script with $BENCH_PYTHON
(default python3).

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

Container cases (issue 3; need joblib and pandas too, lz4 optional):

  joblib_rf/model.joblib        the sklearn_rf forest, joblib.dump uncompressed (arrays in-band)
  joblib_rf_zlib/model.joblib   the same, joblib.dump(compress=3) (zlib)
  joblib_rf_lz4/model.joblib    the same, joblib.dump(compress="lz4") (skipped without lz4)
  npz_numeric/arrays.npz        np.savez of 4 numeric arrays, ~50 MB (stored)
  npz_compressed/arrays.npz     np.savez_compressed, ~20 MB
  pandas_xz/frame.pkl.xz        DataFrame of 200k rows, to_pickle(compression="xz")

`--only NAME[,NAME]` generates just those cases into an existing tree (other cases are left
alone) and merges them into manifest.json, e.g.
`bench/generate.py --only joblib_rf,npz_numeric`.

The pair shares the same file name (so the same archive prefix), keys, dtypes and
tensor count; their data.pkl have the same length and the same opcode sequence and differ
only in the shape/numel integers. Only the tensor bytes differ (10 MB vs 400 MB), which
isolates the cost of tensor bytes from the cost of the pickle.

Format cases (non-pickle formats; bench/generate_formats.py, run with $BENCH_PYTHON_ONNX
for safetensors/GGUF/ONNX and $BENCH_PYTHON_TF for Keras, all tensor data zeros):

  safetensors_400mb/model.safetensors  8 float32 tensors, ~400 MB
  gguf_llama3_300mb/model.gguf         real Llama 3 chat template, 32000 tokens, ~300 MB of tensors
  onnx_256mb/model.onnx                MatMul + Add, one ~268 MB initializer inside the protobuf
  keras_dense_134mb/model.keras        Keras 3 .keras archive, Dense(4096) x 2, ~134 MB
  h5_dense_134mb/model.h5              the same model, legacy HDF5 model.save

e.g. `bench/generate.py --only safetensors_400mb,gguf_llama3_300mb,onnx_256mb,keras_dense_134mb,h5_dense_134mb`.

A manifest (manifest.json) records each case's file count, bytes and data.pkl facts.
"""
import argparse
import ast
import subprocess
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


def fit_forest():
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    X, y = make_classification(n_samples=4000, n_features=20, n_informative=10, random_state=0)
    return RandomForestClassifier(n_estimators=100, max_depth=12, random_state=0, n_jobs=1).fit(X, y)


def gen_sklearn(out, log):
    log("sklearn_rf: RandomForestClassifier(n_estimators=100, max_depth=12)")
    clf = fit_forest()
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


def gen_joblib(out, log, which):
    """The sklearn_rf forest through joblib.dump: NumpyArrayWrapper records with the array
    bytes in-band in the pickle stream (uncompressed), or the whole stream zlib/lz4-compressed."""
    import joblib

    clf = fit_forest()
    for name, compress in (("joblib_rf", 0), ("joblib_rf_zlib", 3), ("joblib_rf_lz4", "lz4")):
        if name not in which:
            continue
        if compress == "lz4":
            try:
                import lz4  # noqa: F401
            except ImportError:
                log(f"{name}: lz4 not installed, skipped")
                continue
        log(f"{name}: joblib.dump(compress={compress!r})")
        p = os.path.join(out, name, "model.joblib")
        os.makedirs(os.path.dirname(p), exist_ok=True)
        joblib.dump(clf, p, compress=compress)


def npz_arrays(seed, n_float):
    """A few numeric arrays: one big float32 block plus smaller float64/int64/uint8 ones."""
    rng = np.random.default_rng(seed)
    return {
        "embeddings": rng.standard_normal((n_float, 256), dtype=np.float32),
        "bias": rng.standard_normal(4096),
        "ids": np.arange(n_float, dtype=np.int64),
        "mask": (rng.random(n_float) < 0.5).astype(np.uint8),
    }


def gen_npz(out, log, which):
    # (np.savez writes zip timestamps of the moment, so the files are deterministic in
    # content, not byte for byte)
    if "npz_numeric" in which:
        arrs = npz_arrays(50, 48_000)  # 48000*256*4 = 49.2 MB + 0.4 MB
        log("npz_numeric: np.savez, ~50 MB")
        p = os.path.join(out, "npz_numeric", "arrays.npz")
        os.makedirs(os.path.dirname(p), exist_ok=True)
        np.savez(p, **arrs)
    if "npz_compressed" in which:
        # random normal float32 compresses only ~10%: 22 MB raw -> ~20 MB
        arrs = npz_arrays(20, 21_000)
        log("npz_compressed: np.savez_compressed, ~20 MB")
        p = os.path.join(out, "npz_compressed", "arrays.npz")
        os.makedirs(os.path.dirname(p), exist_ok=True)
        np.savez_compressed(p, **arrs)


def gen_pandas_xz(out, log, n=200_000):
    import pandas as pd

    log(f"pandas_xz: DataFrame {n} rows, to_pickle(compression='xz')")
    rng = np.random.default_rng(200)
    df = pd.DataFrame({
        "id": np.arange(n, dtype=np.int64),
        "ts": pd.date_range("2024-01-01", periods=n, freq="min"),
        "price": rng.standard_normal(n).cumsum() + 100.0,
        "qty": rng.integers(1, 1000, n, dtype=np.int32),
        "side": pd.Categorical(np.where(rng.random(n) < 0.5, "buy", "sell")),
        "venue": np.array(["XNAS", "XNYS", "BATS", "ARCX"], dtype=object)[rng.integers(0, 4, n)],
    })
    p = os.path.join(out, "pandas_xz", "frame.pkl.xz")
    os.makedirs(os.path.dirname(p), exist_ok=True)
    df.to_pickle(p, compression="xz")


BASE_CASES = ["zip_50mb", "zip_200mb", "zip_400mb", "legacy_200mb", "objects_300k", "sklearn_rf",
              "many_small", "pair_10mb", "pair_400mb"]
CONTAINER_CASES = ["joblib_rf", "joblib_rf_zlib", "joblib_rf_lz4", "npz_numeric", "npz_compressed",
                   "pandas_xz"]

FORMAT_PYTHONS = {
    "onnx": (os.environ.get("BENCH_PYTHON_ONNX", "python3"),
             ["safetensors_400mb", "gguf_llama3_300mb", "onnx_256mb"]),
    "tf": (os.environ.get("BENCH_PYTHON_TF", "python3"),
           ["keras_dense_134mb", "h5_dense_134mb"]),
}
FORMAT_CASES = [c for _py, cases in FORMAT_PYTHONS.values() for c in cases]


def gen_formats(out, log, which, gen_versions):
    """Run bench/generate_formats.py with the python that has each format's libraries."""
    for key, (py, cases) in FORMAT_PYTHONS.items():
        sel = [c for c in cases if c in which]
        if not sel:
            continue
        log(f"formats ({key}): {','.join(sel)} with {py}")
        r = subprocess.run([py, os.path.join(HERE, "generate_formats.py"), "--out", out] + sel,
                           check=True, stdout=subprocess.PIPE, text=True)
        for line in r.stdout.splitlines():
            if line.startswith("VERSIONS "):
                gen_versions[f"formats_{key}"] = ast.literal_eval(line[len("VERSIONS "):])
            else:
                print(line, flush=True)


def gen_containers(out, log, which):
    if which & {"joblib_rf", "joblib_rf_zlib", "joblib_rf_lz4"}:
        gen_joblib(out, log, which)
    if which & {"npz_numeric", "npz_compressed"}:
        gen_npz(out, log, which)
    if "pandas_xz" in which:
        gen_pandas_xz(out, log)


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
    ap.add_argument("--only", default="",
                    help="comma-separated container or format cases to (re)generate into an existing tree: "
                         + ",".join(CONTAINER_CASES + FORMAT_CASES))
    args = ap.parse_args()
    out = os.path.abspath(args.out)

    def log(msg):
        print(f"[generate] {msg}", flush=True)

    torch.set_num_threads(1)
    mpath = os.path.join(out, "manifest.json")
    if args.only:
        which = set(args.only.split(","))
        bad = which - set(CONTAINER_CASES) - set(FORMAT_CASES)
        if bad:
            sys.exit(f"--only takes {','.join(CONTAINER_CASES + FORMAT_CASES)}; unknown: {','.join(sorted(bad))}")
        os.makedirs(out, exist_ok=True)
        for case in which:
            shutil.rmtree(os.path.join(out, case), ignore_errors=True)
        gen_containers(out, log, which)
        fmt_versions = {}
        gen_formats(out, log, which, fmt_versions)
        with open(mpath) if os.path.exists(mpath) else io.StringIO("{}") as f:
            manifest = json.load(f)
        manifest.setdefault("cases", {})
        manifest.setdefault("generator", {})
    else:
        if os.path.exists(out):
            if not args.force:
                sys.exit(f"{out} exists; pass --force to regenerate")
            shutil.rmtree(out)
        os.makedirs(out)
        gen_zip_sizes(out, log)
        gen_objects(out, log)
        gen_sklearn(out, log)
        gen_many_small(out, log)
        gen_pair(out, log)
        gen_containers(out, log, set(CONTAINER_CASES))
        fmt_versions = {}
        gen_formats(out, log, set(FORMAT_CASES), fmt_versions)
        manifest = {"generator": {}, "cases": {}}
        which = set(BASE_CASES) | set(CONTAINER_CASES) | set(FORMAT_CASES)

    import sklearn

    gen = manifest["generator"]
    gen.update({
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
    })
    gen.update(fmt_versions)
    for mod in ("joblib", "pandas", "lz4"):
        try:
            gen[mod] = __import__(mod).__version__
        except ImportError:
            pass
    for case in sorted(os.listdir(out)):
        p = os.path.join(out, case)
        if not os.path.isdir(p) or case not in which:
            continue
        files, total = case_stats(p)
        manifest["cases"][case] = {"files": files, "bytes": total}
    if args.only:
        with open(mpath, "w") as f:
            json.dump(manifest, f, indent=2)
        for case in sorted(which):
            info = manifest["cases"].get(case)
            if info:
                log(f"{case:14s} files={info['files']:4d} bytes={info['bytes']:>12,d}")
        return
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
