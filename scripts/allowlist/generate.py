"""Generates modelgate's ecosystem pickle allowlist from what real libraries write.

How to run (by hand; needs network access to PyPI for step 1, about 25 GB of disk for the
venvs, and 1-2 hours on 2 cores):

    python3 scripts/allowlist/generate.py all --venvs DIR --work DIR

or step by step:

    python3 scripts/allowlist/generate.py venvs  --venvs DIR            # 1. pinned venvs
    python3 scripts/allowlist/generate.py record --venvs DIR --work DIR [ENV ...]   # 2+3.
    python3 scripts/allowlist/generate.py tables --work DIR             # 4+5. tables, corpus

1. venvs: one venv per scripts/allowlist/envs/<env>.in, installed from the frozen
   envs/<env>.txt (see venvs.py). A failed install is recorded in envs/<env>.error.
2. record: in each venv, record.py runs the scenarios in scenarios/ (each library's own
   save paths on realistic objects), reads every written file back with pickle_uses.py
   (which global, and how the stream uses it: ref < object < call), enumerates the classes
   of class-rich libraries, and reviews each global statically with review.py. Output:
   WORK/<env>/record.json and WORK/<env>/files/.
3. tables: merges the records, refuses anything the scanner's dangerous lists name
   (denycheck.py reads them from src/formats/pickle/globals.rs), puts every global whose
   load-time code was flagged by the review into risky_globals.tsv, assigns the rest to a
   family with a stated reason (or leaves them out), and writes
   src/formats/pickle/data/{safe_globals.tsv,safe_families.tsv,risky_globals.tsv,README.md},
   scripts/allowlist/review.tsv (the per-entry evidence), the corpus under
   tests/corpus/libraries/ with its manifest.json, and WORK/report.md (refusals, current
   hand-typed entries the generator could not justify, and, when --modelgate BIN is given,
   how that scanner judges the corpus).

Everything written is sorted and deterministic for the same records.
"""
import argparse
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import denycheck  # noqa: E402
import pickle_uses  # noqa: E402
import venvs  # noqa: E402

DATA = os.path.join(ROOT, "src", "formats", "pickle", "data")
CORPUS = os.path.join(ROOT, "tests", "corpus")
CORPUS_LIB = os.path.join(CORPUS, "libraries")
RANK = pickle_uses.RANK

# --------------------------------------------------------------------------------------------
# Ownership: which distribution a module belongs to (for the versions column).
# --------------------------------------------------------------------------------------------
TOP_DIST = {
    "sklearn": "scikit-learn", "_loss": "scikit-learn", "numpy": "numpy", "scipy": "scipy", "pandas": "pandas",
    "joblib": "joblib", "xgboost": "xgboost", "lightgbm": "lightgbm", "catboost": "catboost",
    "statsmodels": "statsmodels", "torch": "torch", "torchvision": "torchvision", "transformers": "transformers",
    "tokenizers": "tokenizers", "accelerate": "accelerate", "lightning": "lightning",
    "pytorch_lightning": "pytorch-lightning", "lightning_fabric": "lightning-fabric", "omegaconf": "omegaconf",
    "timm": "timm", "sentence_transformers": "sentence-transformers", "peft": "peft", "diffusers": "diffusers",
    "ultralytics": "ultralytics", "flair": "flair", "gensim": "gensim", "spacy": "spacy", "thinc": "thinc",
    "prophet": "prophet", "sklearn_crfsuite": "sklearn-crfsuite", "pycrfsuite": "python-crfsuite", "dill": "dill",
    "cloudpickle": "cloudpickle", "hydra": "hydra-core", "torchmetrics": "torchmetrics", "srsly": "srsly",
    "cmdstanpy": "cmdstanpy", "pytz": "pytz", "dateutil": "python-dateutil", "huggingface_hub": "huggingface-hub",
    "safetensors": "safetensors", "cymem": "cymem", "preshed": "preshed", "blis": "blis", "confection": "confection",
    "pydantic": "pydantic", "pydantic_core": "pydantic-core", "tzdata": "tzdata", "patsy": "patsy",
    "holidays": "holidays", "stanio": "stanio", "smart_open": "smart-open", "weasel": "weasel",
    "catalogue": "catalogue", "wasabi": "wasabi", "murmurhash": "murmurhash", "typing_extensions": "typing-extensions",
    "packaging": "packaging", "threadpoolctl": "threadpoolctl", "lightning_utilities": "lightning-utilities",
    "sentencepiece": "sentencepiece", "regex": "regex", "PIL": "pillow", "cv2": "opencv-python",
    "polars": "polars", "segtok": "segtok", "bioc": "bioc", "conllu": "conllu",
}
PY2_STDLIB = {"__builtin__", "copy_reg", "_codecs", "exceptions", "cPickle", "UserDict", "UserList",
              "UserString", "Queue", "repr", "StringIO", "cStringIO", "sets", "__main__"}


def owner(module):
    top = module.split(".")[0]
    if top in TOP_DIST:
        return TOP_DIST[top]
    if top in sys.stdlib_module_names or top in PY2_STDLIB:
        return "python"
    return None


# --------------------------------------------------------------------------------------------
# Explicitly vetted entries. Every one of these is code the static review cannot read (C) or
# flags for a reason a reader can check in one line; each carries that reason.
# --------------------------------------------------------------------------------------------
BUILTIN_VALUES = {"set", "frozenset", "list", "dict", "tuple", "bytearray", "bytes", "str", "int", "float",
                  "complex", "bool", "slice", "range", "object", "NoneType", "Ellipsis", "NotImplemented",
                  "xrange", "unicode", "long", "basestring", "memoryview", "reversed", "enumerate", "zip", "map",
                  "filter", "property", "staticmethod", "classmethod"}
# Classes whose call only builds a value from the arguments (the arguments are data).
BUILTIN_CALL_OK = {"set", "frozenset", "list", "dict", "tuple", "bytearray", "bytes", "str", "int", "float",
                   "complex", "bool", "slice", "range", "object", "xrange", "unicode", "long"}
STDLIB_DATA = {
    ("collections", "OrderedDict"), ("collections", "defaultdict"), ("collections", "deque"),
    ("collections", "Counter"), ("collections", "ChainMap"), ("collections", "UserDict"),
    ("collections", "UserList"), ("datetime", "datetime"), ("datetime", "date"), ("datetime", "time"),
    ("datetime", "timedelta"), ("datetime", "timezone"), ("decimal", "Decimal"), ("fractions", "Fraction"),
    ("uuid", "UUID"), ("uuid", "SafeUUID"), ("argparse", "Namespace"), ("types", "SimpleNamespace"),
    ("types", "MappingProxyType"), ("enum", "Enum"), ("enum", "IntEnum"), ("enum", "Flag"), ("enum", "IntFlag"),
    ("re", "_compile"), ("re", "Pattern"), ("re", "RegexFlag"), ("array", "array"), ("array", "_array_reconstructor"),
    ("typing", "Any"), ("typing", "Union"), ("typing", "Optional"),
    ("ipaddress", "IPv4Address"), ("ipaddress", "IPv6Address"), ("string", "Template"),
    ("_codecs", "encode"), ("codecs", "encode"), ("copyreg", "_reconstructor"), ("copyreg", "__newobj__"),
    ("copyreg", "__newobj_ex__"), ("copy_reg", "_reconstructor"), ("copy_reg", "__newobj__"),
    ("pathlib", "Path"), ("pathlib", "PosixPath"), ("pathlib", "WindowsPath"), ("pathlib", "PurePath"),
    ("pathlib", "PurePosixPath"), ("pathlib", "PureWindowsPath"), ("collections", "namedtuple"),
}
# Wrappers the scanner judges by the callable they wrap (globals.rs special-cases them after the
# generated table): a table entry would shadow that rule (partial(os.system, ...) judged as safe).
SCANNER_WRAPPERS = {("functools", "partial"), ("dill._dill", "_create_array")}
# Stdlib entries the deny check's module rules would refuse but that are values only: pure
# path objects touch no file when built (pathlib's module rule is about its I/O methods).
MODULE_EXCEPTIONS = {
    ("pathlib", "Path"): "builds a path value; touches no file", ("pathlib", "PosixPath"): "builds a path value",
    ("pathlib", "WindowsPath"): "builds a path value", ("pathlib", "PurePath"): "builds a path value",
    ("pathlib", "PurePosixPath"): "builds a path value", ("pathlib", "PureWindowsPath"): "builds a path value",
}
# Flagged by the review, vetted by reading the flagged line: (module, name) -> reason.
VETTED_FLAGS = {
    ("pathlib", "Path"): "os.fspath() converts the argument to str; no file access",
    ("pathlib", "PosixPath"): "os.fspath() converts the argument to str; no file access",
    ("pathlib", "WindowsPath"): "os.fspath() converts the argument to str; no file access",
    ("pathlib", "PurePath"): "os.fspath() converts the argument to str; no file access",
    ("pathlib", "PurePosixPath"): "os.fspath() converts the argument to str; no file access",
    ("pathlib", "PureWindowsPath"): "os.fspath() converts the argument to str; no file access",
    ("pytz", "_p"): "pytz.timezone(name) reads pytz's bundled zone file only for a name in all_timezones_set",
    ("zoneinfo", "ZoneInfo"): "reads the bundled tzdata file of a zone key (keys are validated, no path traversal)",
    ("zoneinfo", "ZoneInfo._unpickle"): "reads the bundled tzdata file of a zone key (validated key)",
    ("zoneinfo._common", "load_data"): "reads the bundled tzdata file of a zone key (validated key)",
    ("dateutil.tz._tzfile", "tzfile"): "rebuilds a tz from pickled transition lists (no file read on unpickle)",
    ("dateutil.tz.tz", "tzfile"): "rebuilds a tz from pickled transition lists (no file read on unpickle)",
}
# Native (C / compiled) entries vouched for by name, with the reason.
NATIVE_VETTED = {
    ("numpy.core.multiarray", "_reconstruct"): "allocates an empty ndarray of a given subtype/shape/dtype",
    ("numpy._core.multiarray", "_reconstruct"): "allocates an empty ndarray of a given subtype/shape/dtype",
    ("numpy.core._multiarray_umath", "_reconstruct"): "allocates an empty ndarray",
    ("numpy._core._multiarray_umath", "_reconstruct"): "allocates an empty ndarray",
    ("numpy.core.multiarray", "scalar"): "builds a numpy scalar from a dtype and its bytes",
    ("numpy._core.multiarray", "scalar"): "builds a numpy scalar from a dtype and its bytes",
    ("numpy.core._multiarray_umath", "scalar"): "builds a numpy scalar from a dtype and its bytes",
    ("numpy.core.numeric", "_frombuffer"): "builds an array from bytes",
    ("numpy._core.numeric", "_frombuffer"): "builds an array from bytes",
    ("numpy", "dtype"): "numpy.dtype(str, align, copy) and its __setstate__ build a data type",
    ("numpy", "ndarray"): "ndarray.__new__ / __setstate__ rebuild array data",
    ("numpy.ma.core", "MaskedArray"): "masked array data + mask",
    ("numpy.ma.core", "_mareconstruct"): "allocates an empty masked array",
    ("builtins", "getattr"): None,  # never: listed so the intent is explicit (deny list wins anyway)
    # tokenizers (Rust, bindings/python/src/encoding.rs): #[new] is Encoding::default(), __setstate__
    # is serde_json::from_slice of the pickled bytes into the Encoding struct (transformers' BatchEncoding)
    ("tokenizers", "Encoding"): "Rust: __new__ builds an empty Encoding, __setstate__ parses the pickled JSON "
                                "bytes (serde_json) into ids, tokens, offsets and masks",
}
# Pure built-in functions that ordinary files store by reference only (gensim's Word2Vec(hashfxn=hash)).
# Only the `ref` use is allowed: the unpickler pushes them, it does not call them.
BUILTIN_REF_FUNCS = {"hash"}


NATIVE_ORIGINS = [
    # (prefix of the compiled method's qualified name, reason)
    (("builtins.", "datetime.", "_datetime.", "collections.", "_collections.", "decimal.", "_decimal.",
      "uuid.", "re.", "array.", "types.", "enum.", "functools.", "_functools.", "zoneinfo.", "_zoneinfo."),
     "CPython built-in / standard-library value type (C implementation)"),
    (("numpy.", "numpy._core.", "numpy.core."), "numpy's own array/scalar/dtype types (C): build values from bytes"),
    (("pandas._libs.",), "pandas compiled core (pandas/_libs, source not shipped in the wheel): scalar, offset, "
                         "interval, block and index types whose constructors and __setstate__ take the numbers, "
                         "strings and arrays pandas' own __reduce__ wrote"),
    (("sklearn.", "_loss."), "scikit-learn Cython type (tree, loss, distance metric, neighbours tree): constructors "
                             "take sizes and parameters, __setstate__ takes arrays"),
    (("scipy.",), "scipy compiled type (KD-tree, rotation, ...): state is arrays"),
    (("statsmodels.tsa.statespace.",), "statsmodels state-space Cython types (representation, Kalman filter/"
                                       "smoother, initialization): constructors and __setstate__ take model arrays"),
    (("torch._C.TensorBase.", "torch._C._TensorBase.", "torch.Size.", "torch.device.", "torch.finfo.",
      "torch.iinfo.", "torch.Generator.", "torch._C.Generator.", "torch.dtype.", "torch.layout.",
      "torch.memory_format.", "torch.Tensor.__new__"), "torch C value types (Size, device, dtype, finfo, tensor base)"),
]


def native_vouched(m, n, rec):
    """A reason when the compiled code this global runs on load may be trusted, else None."""
    if (m, n) in NATIVE_VETTED:
        return NATIVE_VETTED[(m, n)]
    tags = rec["tags"]
    if rec["flags"]:
        return None
    if m in ("builtins", "__builtin__") and n in BUILTIN_VALUES:
        return "CPython built-in value type"
    if (m, n) in STDLIB_DATA:
        return "CPython standard-library value type (C implementation)"
    if n.startswith("__pyx_unpickle_"):
        return "Cython-generated unpickler: checks the layout checksum, assigns the pickled state tuple to the " \
               "type's C fields (and __dict__), runs no user code"
    if "ufunc" in tags:
        return "numpy ufunc: a pure element-wise array function (pickled by name)"
    if "torch-value" in tags:
        return "torch dtype/layout/memory-format singleton"
    if m.startswith(("torch._C._nn", "torch._C._VariableFunctions", "torch._C._special", "torch._C._fft",
                     "torch._C._linalg")) and rec["use"] == "ref":
        return "torch tensor operator (ATen) stored by reference: pure tensor computation"
    reasons = set()
    pyx = {x.split(" ")[0] for x in rec.get("pyx_reviewed", ())}
    for origin in sorted(rec["natives"]):
        if origin in pyx or any(origin.startswith(p.rsplit(".", 1)[0] + ".") and origin.endswith(p.rsplit(".", 1)[-1])
                                for p in pyx):
            reasons.add("compiled from the .pyx source shipped in the wheel, read and clean")
            continue
        if "cython-autopickle" in tags and origin.endswith(("__setstate_cython__", "__reduce_cython__", "__new__")):
            reasons.add("Cython extension type with Cython's generated pickling")
            continue
        for prefixes, why in NATIVE_ORIGINS:
            if origin.startswith(prefixes):
                reasons.add(why)
                break
        else:
            return None
    return "; ".join(sorted(reasons)) or None


# --------------------------------------------------------------------------------------------
# Families: (key, predicate, reason). First match wins. Predicates see the merged record.
# --------------------------------------------------------------------------------------------
def _cls(r):
    return r["kind"] == "class"


def _fn(r):
    return r["kind"] in ("function", "cython-function")


FAMILY_REASONS = {
    "python-builtins": "CPython built-in value types (list, dict, set, bytes, int, slice ...) and the Python 2 names "
                       "the unpickler maps to them (__builtin__.*): calling them with pickled values builds data.",
    "python-stdlib-data": "Standard-library value types (OrderedDict, datetime, Decimal, UUID, Namespace, "
                          "SimpleNamespace, pure paths, compiled regex) and the copyreg/codecs helpers protocols "
                          "0-2 use: constructors and __setstate__ only store values (C code or reviewed Python).",
    "python-builtin-functions": "CPython built-in functions without side effects (hash) stored by reference "
                                "(gensim's Word2Vec(hashfxn=hash)): allowed only as a value, the unpickler does "
                                "not call them.",
    "tokenizers-native": "Hugging Face tokenizers' Rust value types (Encoding): __new__ builds an empty value and "
                         "__setstate__ parses the pickled JSON bytes with serde_json into the Rust struct; no "
                         "files, imports, network or code.",
    "python-timezones": "Time-zone constructors (zoneinfo, pytz, dateutil): read only the library's bundled zone data "
                        "for a validated zone name, or rebuild from pickled transition lists.",
    "numpy-core": "numpy array, scalar, dtype and masked-array reconstructors (numpy.core and numpy._core spellings): "
                  "allocate arrays and scalars from pickled bytes, shapes and dtype descriptions.",
    "numpy-ufunc": "numpy ufuncs and array functions stored by reference (FunctionTransformer(np.log1p), "
                   "aggregation functions): pure numeric functions, the unpickler does not call them.",
    "numpy-random": "numpy.random generators, bit generators, SeedSequence and their _pickle constructors: state is "
                    "integers and arrays.",
    "numpy-other": "Other numpy classes and functions read statically: build values only.",
    "scipy-sparse": "scipy.sparse matrices and arrays: plain Python classes holding index/data arrays "
                    "(no __setstate__ of their own; reviewed __new__/attribute assignment).",
    "scipy-stats": "scipy.stats distributions and frozen distributions: hold parameters; __setstate__/__init__ "
                   "reviewed statically.",
    "scipy-other": "scipy interpolators, KD-trees, rotations, optimisation results: arrays and parameters; Python "
                   "parts reviewed statically, compiled parts are Cython types whose state is arrays.",
    "sklearn-estimator": "scikit-learn estimators (every class sklearn.utils.all_estimators lists, plus those observed "
                         "in fitted pickles): rebuilt as objects; BaseEstimator.__setstate__ (reviewed) only updates "
                         "__dict__ and checks the version.",
    "sklearn-cython": "scikit-learn Cython extension types (trees, splitters, losses including the bare `_loss` module "
                      "name of scikit-learn >= 1.8, distance metrics, KD/Ball trees) and Cython's generated "
                      "__pyx_unpickle_* / newObj helpers: constructors take sizes/parameters, state is arrays.",
    "sklearn-class": "Other scikit-learn classes seen in fitted models (kernels, loss objects, scorers, bunches, "
                     "binning mappers): constructors and __setstate__ reviewed statically.",
    "sklearn-function": "scikit-learn functions stored by reference in fitted models (metric and score functions "
                        "held by scorers and SelectKBest): the unpickler does not call them; bodies are numeric.",
    "pandas-data": "pandas frames, series, indexes, extension arrays and dtypes, block managers, their _new_* "
                   "reconstructors: rebuild containers from arrays (Python parts reviewed statically).",
    "pandas-libs": "pandas compiled scalars, offsets, intervals, blocks, sparse indexes and their unpicklers "
                   "(pandas/_libs): rebuild values from numbers, strings and arrays.",
    "alias": "Other names under which find_class returns the very object of a safe entry: backward-compatibility "
             "aliases (gensim's keyedvectors.Vocab = CompatVocab, phrases.Phraser = FrozenPhrases), re-exports "
             "(sklearn.linear_model.LogisticRegression) and the old paths older versions wrote; found by "
             "comparing module attributes with the recorded objects, in modules the library imports itself. "
             "Allowed for the least use any venv allows its target.",
    "pandas-compat": "Names older pandas versions wrote, mapped by pandas.compat.pickle_compat to classes that are "
                     "safe here (same use as the class they map to).",
    "torch-tensor": "torch tensor, parameter and storage rebuilders and storage types: rebuild tensors from storages "
                    "already loaded by the container (torch._utils / torch._tensor, reviewed statically).",
    "torch-value": "torch dtype, layout, memory-format, device, Size, finfo/iinfo values.",
    "torch-nn": "torch.nn (and torch.ao.nn) module classes, every one enumerated: rebuilt as objects; "
                "Module.__setstate__ (reviewed) restores __dict__ and fills defaults.",
    "torch-functional": "torch.nn.functional functions and ATen operators stored by reference (activation=F.gelu): "
                        "pure tensor functions, not called by the unpickler.",
    "torch-optim": "torch optimizers and LR schedulers: rebuilt as objects; Optimizer.__setstate__ (reviewed) "
                   "restores state dicts.",
    "torch-other": "Other torch classes seen in ordinary saves (GradScaler, parametrizations, datasets, "
                   "TorchScript list builders): reviewed statically.",
    "transformers-config": "transformers configuration classes (every CONFIG_MAPPING entry): rebuilt as objects, "
                           "attributes only.",
    "transformers-model": "transformers modeling classes (every nn.Module of every modeling module the auto mappings "
                          "name): rebuilt as objects through torch's Module.__setstate__.",
    "transformers-training": "transformers TrainingArguments / Seq2SeqTrainingArguments and their enums, "
                             "GenerationConfig, BatchEncoding: dataclasses and enums rebuilt from values.",
}


def lib_reason(lib, kind):
    base = {
        "class": f"{lib} classes seen in files {lib} writes: rebuilt as objects or constructed with pickled values; "
                 "their __new__/__init__/__setstate__ (and the same-package methods they call) were read statically "
                 "and only store values.",
        "function": f"{lib} functions seen in files {lib} writes: called with pickled values or stored by reference; "
                    "bodies read statically: no file, import, network or code access.",
        "enum": f"{lib} enums: called with a member value (Enum lookup).",
        "cython": f"{lib} compiled types and Cython unpicklers: Cython-generated pickling or .pyx source read.",
    }
    return base[kind]


def family(m, n, r):
    top = m.split(".")[0]
    tags = r["tags"]
    kind = r["kind"]
    if top in ("builtins", "__builtin__") and n in BUILTIN_VALUES:
        return "python-builtins"
    if top in ("builtins", "__builtin__") and n in BUILTIN_REF_FUNCS:
        return "python-builtin-functions" if r["use"] == "ref" else None
    if top == "tokenizers" and (m, n) in NATIVE_VETTED:
        return "tokenizers-native"
    if (m, n) in VETTED_FLAGS and m.split(".")[0] in ("zoneinfo", "pytz", "dateutil"):
        return "python-timezones"
    if m in ("pytz", "dateutil.tz.tz", "dateutil.tz._tzfile", "pytz.tzinfo", "pytz.reference"):
        return "python-timezones"
    if (m, n) in STDLIB_DATA or (owner(m) == "python" and top in ("datetime", "collections", "decimal", "fractions",
                                                                   "uuid", "enum", "types", "copyreg", "copy_reg")):
        return "python-stdlib-data"
    if top == "numpy":
        if "ufunc" in tags or (r["use"] == "ref" and _fn(r)):
            return "numpy-ufunc"
        if m.startswith("numpy.random"):
            return "numpy-random"
        if ("numpy-scalar" in tags or "numpy-dtype" in tags or "ndarray" in tags or (m, n) in NATIVE_VETTED
                or m.startswith(("numpy.core", "numpy._core", "numpy.dtypes", "numpy.ma", "numpy.matrixlib"))):
            return "numpy-core"
        return "numpy-other"
    if top == "scipy":
        if m.startswith("scipy.sparse"):
            return "scipy-sparse"
        if m.startswith("scipy.stats"):
            return "scipy-stats"
        return "scipy-other"
    if top in ("sklearn", "_loss"):
        if n.startswith("__pyx_unpickle_") or n == "newObj" or top == "_loss" or \
                ("compiled-module" in tags and kind == "class"):
            return "sklearn-cython"
        if "sklearn-estimator" in tags:
            return "sklearn-estimator"
        if _fn(r):
            return "sklearn-function"
        return "sklearn-class"
    if top == "pandas":
        if r.get("compat"):
            return "pandas-compat"
        if m.startswith("pandas._libs") or "compiled-module" in tags:
            return "pandas-libs"
        return "pandas-data"
    if top == "torch":
        if m in ("torch._utils", "torch._tensor", "torch.storage", "torch.nn.parameter", "torch.serialization") or \
                n.endswith("Storage"):
            return "torch-tensor"
        if "torch-value" in tags or (m == "torch" and n in ("Size", "device", "finfo", "iinfo", "dtype", "layout",
                                                            "memory_format", "Generator", "Tensor")):
            return "torch-value"
        if m.startswith("torch.nn.functional") or m.startswith("torch._C."):
            return "torch-functional"
        if "nn-module" in tags and m.startswith(("torch.nn", "torch.ao.nn")):
            return "torch-nn"
        if m.startswith("torch.optim") or "optimizer" in tags:
            return "torch-optim"
        return "torch-other"
    if top == "transformers":
        if "hf-config" in tags:
            return "transformers-config"
        if "nn-module" in tags:
            return "transformers-model"
        if m.startswith(("transformers.training_args", "transformers.trainer_utils", "transformers.debug_utils",
                         "transformers.generation", "transformers.tokenization_utils_base",
                         "transformers.utils.generic", "transformers.trainer_pt_utils", "transformers.utils")):
            return "transformers-training"
    lib = owner(m)
    if lib is None or lib == "python":
        return None
    if "enum" in tags:
        return f"{lib}-enum"
    if "compiled-module" in tags or kind == "cython-function":
        return f"{lib}-cython"
    if _fn(r):
        return f"{lib}-function"
    if kind == "class":
        return f"{lib}-class"
    return None


def family_reason(key):
    if key in FAMILY_REASONS:
        return FAMILY_REASONS[key]
    lib, _, kind = key.rpartition("-")
    return lib_reason(lib, kind)


# --------------------------------------------------------------------------------------------
# The current hand-typed table (globals.rs), for the superset check.
# --------------------------------------------------------------------------------------------
def current_safe():
    src = open(denycheck.GLOBALS_RS).read()
    i = src.index("static SAFE: &[(&str, &str)] = &[")
    j = src.index("\n];", i)
    return sorted(set(re.findall(r'\(\s*"([^"]+)",\s*"([^"]+)"\s*\)', src[i:j])))


def old_rule_safe(m, n):
    """Python versions of the pattern rules of globals.rs (sklearn_safe, torch_module_safe,
    transformers_class_safe, cython_unpickler), to list what they allow that we observed."""
    first = n.lstrip("_")[:1]
    if m.startswith("sklearn."):
        rest = m[len("sklearn."):]
        if not rest.startswith(("utils._testing", "externals", "datasets", "_build_utils", "_config")):
            if first.isupper() or n.startswith("__pyx_unpickle_") or n == "newObj":
                return "sklearn_safe"
    if n.startswith("__pyx_unpickle_") and m.startswith(("numpy.random.", "pandas._libs.", "sklearn.", "scipy.")):
        return "cython_unpickler"
    if m.startswith(("torch.nn.modules.", "torch.ao.nn.", "torch.nn.quantized.", "torch.nn.utils.prune",
                     "torch.nn.utils.weight_norm", "torch.nn.utils.spectral_norm", "torch.nn.utils.parametrize",
                     "torch.nn.utils.parametrizations")) and n[:1].isupper():
        return "torch_module_safe"
    if n[:1].isupper():
        if m.startswith("transformers.models."):
            leaf = m.rsplit(".", 1)[-1]
            if leaf.startswith(("modeling_", "configuration_")):
                return "transformers_class_safe"
        if m in ("transformers.activations", "transformers.pytorch_utils", "transformers.configuration_utils",
                 "transformers.generation.configuration_utils", "transformers.modeling_utils"):
            return "transformers_class_safe"
    return None


# --------------------------------------------------------------------------------------------
# Steps
# --------------------------------------------------------------------------------------------
def step_venvs(a):
    bad = []
    for n in a.envs or venvs.env_names():
        if not venvs.setup(a.venvs, n, os.path.join(a.venvs, f"allowlist-{n}.log")):
            bad.append(n)
    if bad:
        print("venvs that failed (see envs/<name>.error):", " ".join(bad))


def step_record(a):
    for n in a.envs or venvs.env_names():
        py = venvs.python_of(a.venvs, n)
        if not os.path.exists(py):
            print(f"[{n}] no venv, skipped")
            continue
        out = os.path.join(a.work, n)
        shutil.rmtree(out, ignore_errors=True)
        env = dict(os.environ, PYTHONHASHSEED="0", CUDA_VISIBLE_DEVICES="")
        with tempfile.TemporaryDirectory() as cwd:
            r = subprocess.run([py, os.path.join(HERE, "record.py"), "--env", n, "--out", out], cwd=cwd, env=env)
        print(f"[{n}] record.py exit {r.returncode}")


def load_records(work):
    recs = []
    for n in sorted(os.listdir(work)):
        p = os.path.join(work, n, "record.json")
        if os.path.exists(p):
            with open(p) as fh:
                recs.append(json.load(fh))
    return recs


def merge(records):
    g = {}
    for rec in records:
        env = rec["env"]
        vers = dict(rec["versions"], python=rec["python"])
        for e in rec["globals"]:
            key = (e["module"], e["name"])
            r = g.setdefault(key, {"use": e["use"], "observed": False, "envs": set(), "versions": set(),
                                   "flags": set(), "natives": set(), "tags": set(), "kind": None,
                                   "pyx_reviewed": set(), "errors": set(), "where": [], "origins": {},
                                   "resolved": None, "notes": set(), "libs": set()})
            if RANK[e["use"]] > RANK[r["use"]]:
                r["use"] = e["use"]
            r["observed"] |= e["observed"]
            r["envs"].add(env)
            r["libs"] |= set(e.get("libs", []))
            if len(r["where"]) < 4:
                r["where"] += [f"{env}:{w}" for w in e["where"][:2]]
            if "error" in e:
                r["errors"].add(e["error"])
                continue
            info = e["info"]
            r["resolved_ok"] = True
            r["kind"] = r["kind"] or info.get("kind")
            r["flags"] |= {f"{c}: {t}" for c, t in info.get("flags", [])}
            r["natives"] |= set(info.get("native", []))
            r["tags"] |= set(info.get("tags", []))
            r["pyx_reviewed"] |= set(info.get("pyx_reviewed", []))
            r["notes"] |= set(info.get("notes", []))
            r["origins"].update(info.get("origins", {}))
            r["resolved"] = r["resolved"] or e.get("resolved")
            o = owner(e["module"])
            if o is None and "file-in:sklearn" in info.get("tags", []):
                o = "scikit-learn"
            if o and o in vers:
                r["versions"].add((o, vers[o]))
            elif o is None:
                for l in e.get("libs", []):
                    d, _, v = l.rpartition(" ")
                    r["versions"].add((d, v))
    return g


def vkey(v):
    return [int(x) if x.isdigit() else x for x in re.split(r"[.+]", v)]


def versions_str(vs):
    by = collections.defaultdict(set)
    for d, v in vs:
        by[d].add(v)
    return "; ".join(f"{d} {','.join(sorted(by[d], key=vkey))}" for d in sorted(by))


def strip_check(path):
    """True when no machine path is in the file (also inside zip members and compressed streams)."""
    bad = (b"/work/", b"/root/", b"/home/", b"/tmp/", b"/private/var/", b"site-packages")
    data = open(path, "rb").read()
    blobs = [data]
    import bz2
    import gzip
    import io
    import lzma
    import zipfile
    import zlib

    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            blobs += [z.read(i) for i in z.infolist()]
    for dec in (gzip.decompress, bz2.decompress, lzma.decompress, zlib.decompress):
        try:
            blobs.append(dec(data))
        except Exception:
            pass
    return not any(b in blob for blob in blobs for b in bad)


def step_tables(a):
    records = load_records(a.work)
    if not records:
        raise SystemExit(f"no record.json under {a.work}")
    deny = denycheck.Deny()
    g = merge(records)
    # pandas compat names: old (module, name) -> class; judged with the class they map to.
    compat = {}
    for rec in records:
        for om, on, nm, nn, lib in rec.get("compat", []):
            compat[(om, on)] = (nm, nn, rec["versions"].get("pandas"))

    safe, risky, refused, unjustified, nofamily, unresolved = {}, {}, [], [], [], []
    review_rows = []
    fam_count = collections.Counter()
    for key in sorted(g):
        m, n = key
        r = g[key]
        nd = deny.deny_name(m, n)
        dm = deny.deny_module(m, n)
        if nd or (dm and key not in MODULE_EXCEPTIONS):
            t, why, matched = nd or dm
            refused.append((m, n, r["use"], f"{t}: {why} (matches {matched})", r["observed"]))
            print(f"refused {m}.{n}: {why} (deny list: {matched})", file=sys.stderr)
            continue
        if key in SCANNER_WRAPPERS:
            nofamily.append((m, n, r["use"], "wrapper: the scanner judges it by the callable it wraps", r["observed"]))
            continue
        if not r.get("resolved_ok"):
            unresolved.append((m, n, sorted(r["errors"])[0] if r["errors"] else "", r["observed"]))
            continue
        flags = sorted(r["flags"])
        if flags and key not in VETTED_FLAGS:
            risky[key] = "on load " + "; ".join(sorted({f.split(": ", 1)[1] for f in flags}))[:600]
            review_rows.append((m, n, r["use"], "risky", "; ".join(flags)[:800]))
            continue
        fam = family(m, n, {**r, "tags": r["tags"], "kind": r["kind"]})
        if fam is None:
            nofamily.append((m, n, r["use"], r["kind"], r["observed"]))
            continue
        native_ok = True
        why_native = ""
        if r["natives"]:
            why_native = native_vouched(m, n, {**r, "flags": flags, "tags": r["tags"]})
            native_ok = bool(why_native)
        if not native_ok:
            nofamily.append((m, n, r["use"], "native not vouched: " + ", ".join(sorted(r["natives"]))[:200], r["observed"]))
            continue
        safe[key] = (r["use"], fam, versions_str(r["versions"]) or "-")
        fam_count[fam] += 1
        ev = []
        if key in VETTED_FLAGS:
            ev.append("vetted: " + VETTED_FLAGS[key] + " [" + "; ".join(flags) + "]")
        if r["origins"]:
            ev.append("origins " + ", ".join(f"{k}={v}" for k, v in sorted(r["origins"].items())
                                              if k in ("__new__", "__init__", "__setstate__", "__reduce__", "__reduce_ex__")))
        if r["natives"]:
            ev.append("native " + ", ".join(sorted(r["natives"])) + " -> " + why_native)
        if r["pyx_reviewed"]:
            ev.append("pyx read: " + ", ".join(sorted(r["pyx_reviewed"])))
        review_rows.append((m, n, r["use"], fam, " | ".join(ev)[:800] or "python, reviewed clean"))
    # pandas compat aliases
    for (om, on), (nm, nn, ver) in sorted(compat.items()):
        if (om, on) in safe or deny.deny_name(om, on) or deny.deny_module(om, on):
            continue
        tgt = safe.get((nm, nn))
        if tgt:
            safe[(om, on)] = (tgt[0], "pandas-compat", f"pandas {ver}")
            fam_count["pandas-compat"] += 1
            review_rows.append((om, on, tgt[0], "pandas-compat", f"pandas.compat.pickle_compat maps it to {nm}.{nn}"))
    # Other names of safe globals (aliases, re-exports, old module paths): the same object,
    # so the same use is safe. Never a name the deny lists match, never one judged above.
    aliases = {}
    for rec in records:
        for om, on, nm, nn in rec.get("aliases", []):
            aliases.setdefault((om, on), set()).add((nm, nn))
    for (om, on), tgts in sorted(aliases.items()):
        if (om, on) in safe or (om, on) in g or deny.deny_name(om, on) or deny.deny_module(om, on):
            continue
        hits = [safe[t] for t in sorted(tgts) if t in safe]
        if len(hits) != len(tgts):
            continue  # one venv's object under this name is not safe: leave the name out
        use = min((h[0] for h in hits), key=lambda u: RANK[u])
        safe[(om, on)] = (use, "alias", hits[0][2])
        fam_count["alias"] += 1
        review_rows.append((om, on, use, "alias", "the same object as " + ", ".join(f"{a}.{b}" for a, b in sorted(tgts))))
    # Current hand table: superset check.
    for m, n in current_safe():
        if n == "*":
            covered = any(k[0] == m for k in safe)
            if not covered:
                unjustified.append((m, n, "wildcard: no name of this module observed or enumerated"))
            continue
        if (m, n) in safe:
            continue
        why = "not observed or enumerated in any venv"
        for x in refused:
            if (x[0], x[1]) == (m, n):
                why = "refused by the deny check: " + x[3]
        if (m, n) in risky:
            why = "review flagged it: " + risky[(m, n)]
        for x in unresolved:
            if (x[0], x[1]) == (m, n):
                why = "could not be imported: " + x[2]
        for x in nofamily:
            if (x[0], x[1]) == (m, n):
                why = "no family/vouch: " + str(x[3])
        unjustified.append((m, n, why))

    os.makedirs(DATA, exist_ok=True)
    envs_line = ", ".join(f"{r['env']}" for r in records)
    with open(os.path.join(DATA, "safe_globals.tsv"), "w") as fh:
        fh.write("# module\tname\tuse\tfamily\tversions\n")
        fh.write("# Generated by scripts/allowlist/generate.py; do not edit. module and name exactly as the unpickler's\n")
        fh.write("# find_class receives them. use: ref (only pushed as a value) < object (NEWOBJ/copyreg\n")
        fh.write("# reconstructor target, then BUILD) < call (called by REDUCE/INST/OBJ); an entry allows its use\n")
        fh.write("# and every lower one. family: see safe_families.tsv. versions: library versions it was\n")
        fh.write("# observed or enumerated in.\n")
        for (m, n), (use, fam, vs) in sorted(safe.items()):
            fh.write(f"{m}\t{n}\t{use}\t{fam}\t{vs}\n")
    with open(os.path.join(DATA, "safe_families.tsv"), "w") as fh:
        fh.write("# family\treason (why every entry of the family is safe to load)\n")
        for fam in sorted(fam_count):
            fh.write(f"{fam}\t{family_reason(fam)}\n")
    with open(os.path.join(DATA, "risky_globals.tsv"), "w") as fh:
        fh.write("# module\tname\treason\n")
        fh.write("# Globals ordinary files contain whose load-time code does something a reviewer must see\n")
        fh.write("# (files, imports, network, code). They stay medium; the reason is shown to users.\n")
        for (m, n), why in sorted(risky.items()):
            fh.write(f"{m}\t{n}\t{why}\n")
    with open(os.path.join(HERE, "review.tsv"), "w") as fh:
        fh.write("# module\tname\tuse\tverdict (family or risky)\tevidence: where the load-time methods come from, "
                 "native code and why it is vouched, .pyx methods read\n")
        for row in sorted(review_rows):
            fh.write("\t".join(str(x).replace("\t", " ").replace("\n", " ") for x in row) + "\n")

    corpus_rows, corpus_skipped = write_corpus(a, records, risky)
    report = write_report(a, records, safe, risky, refused, unjustified, nofamily, unresolved, fam_count,
                          corpus_rows, corpus_skipped)
    write_data_readme(records, safe, risky, fam_count, refused, unjustified)
    print(report)


def write_corpus(a, records, risky=None):
    """Copies small, path-free files written during recording into tests/corpus/libraries."""
    rows, skipped = [], []
    deny = denycheck.Deny()
    total = 0
    budget = 15 * 1024 * 1024
    if os.path.isdir(CORPUS_LIB):
        shutil.rmtree(CORPUS_LIB)
    os.makedirs(CORPUS_LIB, exist_ok=True)
    seen = set()
    cands = []
    for rec in records:
        for f in rec["files"]:
            cands.append((rec["env"], f))
    cands.sort(key=lambda x: (x[1]["library"], x[1]["version"] or "", x[1]["path"]))
    for env, f in cands:
        src = os.path.join(a.work, env, f["path"])
        # Files the standard library writes carry no library version: name the Python.
        version = f["version"] or f"{sys.version_info.major}.{sys.version_info.minor}"
        rel_dir = f"{f['library']}-{version}"
        name = os.path.basename(f["path"])
        parent = os.path.basename(os.path.dirname(f["path"]))
        if not parent.startswith(f["library"]):
            name = f"{parent}_{name}"
        rel = os.path.join("libraries", rel_dir, name)
        if rel in seen:
            continue
        if not f.get("corpus", True):
            skipped.append((rel, "not a corpus file (large or not deterministic)"))
            continue
        if not os.path.exists(src):
            skipped.append((rel, "missing"))
            continue
        size = os.path.getsize(src)
        if size >= 300 * 1024:
            skipped.append((rel, f"{size} bytes >= 300 KB"))
            continue
        if total + size > budget:
            skipped.append((rel, "corpus budget reached"))
            continue
        if not strip_check(src):
            skipped.append((rel, "contains a machine path"))
            continue
        if any("error" in x or "fail" in x for x in f.get("analysis", [])):
            skipped.append((rel, "stream did not parse: " + "; ".join(f["analysis"])))
            continue
        # A file that holds a global the scanner's dangerous lists name is not a false alarm to
        # pin (torch's plain-pickle tensors call torch.storage._load_from_bytes, a second loader).
        # (getattr and type are judged by the scanner from what they are applied to: protocol 2-5
        # pickles of methods and of `type(None)` are ordinary and stay in the corpus.)
        denied = sorted({f"{u[0]}.{u[1]}" for u in f.get("uses", [])
                         if u[1] not in ("getattr", "type") and (deny.deny_name(u[0], u[1]) or
                         (deny.deny_module(u[0], u[1]) and (u[0], u[1]) not in MODULE_EXCEPTIONS))})
        if denied:
            seen.add(rel)
            skipped.append((rel, "holds a global the deny check refuses: " + ", ".join(denied)))
            continue
        # A file holding a risky global is medium by design (the reason is shown): not a corpus file.
        held = sorted({f"{u[0]}.{u[1]}" for u in f.get("uses", []) if (u[0], u[1]) in (risky or {})})
        if held:
            seen.add(rel)
            skipped.append((rel, "holds a risky global (medium by design): " + ", ".join(held)))
            continue
        dst = os.path.join(CORPUS, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(src, dst)
        os.utime(dst, (0, 0))
        seen.add(rel)
        total += size
        rows.append({"path": rel, "library": f["library"], "version": f["version"], "writer": f["writer"],
                     "note": f["note"]})
    rows.sort(key=lambda r: r["path"])
    with open(os.path.join(CORPUS_LIB, "manifest.json"), "w") as fh:
        json.dump(rows, fh, indent=1, sort_keys=True)
        fh.write("\n")
    return rows, skipped


def scan_with(binary, safe, risky):
    """Runs a modelgate binary over the corpus; returns the globals it calls medium."""
    out = subprocess.run([binary, "scan", CORPUS_LIB, "--no-config", "-f", "json", "--no-progress"],
                         capture_output=True, text=True)
    try:
        rep = json.loads(out.stdout)
    except Exception:
        return None, f"could not parse output: {out.stderr[:300]}"
    names = {f"{m}.{n}": (m, n) for (m, n) in list(safe) + list(risky)}
    medium = collections.Counter()
    sev = collections.Counter()
    for f in rep.get("files", []):
        for x in f.get("findings", []):
            sev[x["severity"]] += 1
            if x["severity"] == "medium" and x["rule"] == "pickle-unknown-global":
                mm = re.search(r"`([^`]+)`", x["message"])
                if mm:
                    medium[mm.group(1)] += 1
    return (medium, sev, rep.get("summary", {}), names), None


def write_report(a, records, safe, risky, refused, unjustified, nofamily, unresolved, fam_count, corpus_rows,
                 corpus_skipped):
    L = ["# allowlist generation report", ""]
    for rec in records:
        L.append(f"- {rec['env']}: {len(rec['files'])} files, {len(rec['memory'])} in-memory pickles, "
                 f"{len(rec['globals'])} globals, {len(rec['errors'])} scenario errors")
        for e in rec["errors"]:
            L.append(f"  - error in {e['scenario']}: {e['error'][:300]}")
    L += ["", f"safe entries: {len(safe)}; risky: {len(risky)}; refused by deny check: {len(refused)}; "
              f"no family / not vouched: {len(nofamily)}; unresolved: {len(unresolved)}", "", "## families"]
    L += [f"- {k}: {v}" for k, v in sorted(fam_count.items())]
    L += ["", "## refused by the deny check (observed ones)"]
    L += [f"- {m}.{n} ({u}): {why}" for m, n, u, why, obs in refused if obs]
    L += ["", "## risky"]
    L += [f"- {m}.{n}: {why}" for (m, n), why in sorted(risky.items())]
    L += ["", "## current hand-typed SAFE entries not justified"]
    L += [f"- {m}.{n}: {why}" for m, n, why in unjustified]
    L += ["", "## observed globals without a family or with unvouched native code (stay medium)"]
    L += [f"- {m}.{n} ({u}): {k}" for m, n, u, k, obs in nofamily if obs]
    L += ["", "## observed globals that could not be imported"]
    L += [f"- {m}.{n}: {e}" for m, n, e, obs in unresolved if obs]
    L += ["", f"## corpus: {len(corpus_rows)} files, {sum(os.path.getsize(os.path.join(CORPUS, r['path'])) for r in corpus_rows)} bytes; skipped:"]
    L += [f"- {p}: {why}" for p, why in corpus_skipped]
    if a.modelgate:
        res, err = scan_with(a.modelgate, safe, risky)
        L += ["", f"## {a.modelgate} scan of the corpus (--no-config)"]
        if err:
            L.append(err)
        else:
            medium, sev, summary, names = res
            L.append(f"summary: {json.dumps(summary, sort_keys=True)}")
            now_safe = sorted(x for x in medium if x in names and names[x] in safe)
            now_risky = sorted(x for x in medium if x in names and names[x] in risky)
            other = sorted(x for x in medium if x not in names)
            L.append(f"### medium today, safe in the generated table ({len(now_safe)})")
            L += [f"- {x} ({safe[names[x]][1]}, {safe[names[x]][0]})" for x in now_safe]
            L.append(f"### medium today, risky in the generated table ({len(now_risky)})")
            L += [f"- {x}: {risky[names[x]]}" for x in now_risky]
            L.append(f"### medium today, in neither table ({len(other)})")
            L += [f"- {x}" for x in other]
    text = "\n".join(L) + "\n"
    with open(os.path.join(a.work, "report.md"), "w") as fh:
        fh.write(text)
    return text


def write_data_readme(records, safe, risky, fam_count, refused, unjustified):
    vers = collections.defaultdict(set)
    for rec in records:
        for d, v in rec["versions"].items():
            vers[d].add(v)
        vers["python"].add(rec["python"])
    L = ["# Generated pickle allowlist tables", "",
         "Generated by `scripts/allowlist/generate.py` (see `scripts/allowlist/README.md` for how to run it); "
         "do not edit by hand. The scanner reads them; the per-entry evidence is in `scripts/allowlist/review.tsv`.",
         "", "- `safe_globals.tsv`: `module<TAB>name<TAB>use<TAB>family<TAB>versions`. `use` is what the entry "
             "allows: `ref` (the global is only pushed and used as a value), `object` (rebuilt as an object: "
             "NEWOBJ/NEWOBJ_EX target or `copyreg._reconstructor`/`__newobj__` argument, then BUILD), `call` "
             "(called with arguments by REDUCE/INST/OBJ); an entry allows its use and every lower one. Module and "
             "name are exactly as `find_class` receives them (both `numpy.core.*` and `numpy._core.*`, Python 2 "
             "names such as `__builtin__.set`, scikit-learn's bare `_loss` module). No wildcards.",
         "- `safe_families.tsv`: `family<TAB>reason`: why every entry of a family is safe.",
         "- `risky_globals.tsv`: `module<TAB>name<TAB>reason`: globals that ordinary files contain but whose "
             "load-time code touches files, imports, the network or code; they stay medium and the reason is shown.",
         "", "How an entry got here: a real library wrote it into a file (or it was enumerated from the library: "
             "every scikit-learn estimator, torch.nn module, transformers configuration/modeling class, numpy "
             "ufunc ...); the code a load runs for its use (`__new__`, `__setstate__`/`__setattr__`, `__init__`, "
             "the metaclass `__call__`, a function's body, and the same-package functions those call) was parsed "
             "with `ast` and found free of file, import, network, process and code access; compiled code was "
             "accepted only when its `.pyx` source ships and reads clean, when it is Cython's generated pickling, "
             "or by a named reason (numpy reconstructors, CPython value types, pandas' compiled core); and it is "
             "not named by the scanner's dangerous lists (checked on every alias and dotted split).", "",
         f"Entries: {len(safe)} safe, {len(risky)} risky.", "", "| family | entries |", "|---|---|"]
    L += [f"| {k} | {v} |" for k, v in sorted(fam_count.items())]
    L += ["", "Library versions the records come from:", ""]
    L += [f"- {d}: {', '.join(sorted(v, key=vkey))}" for d, v in sorted(vers.items())]
    if unjustified:
        L += ["", "Entries of the previous hand-typed table the generator could not justify (see the generator's "
                  "report for each reason): " + ", ".join(f"`{m}.{n}`" for m, n, _ in unjustified) + "."]
    with open(os.path.join(DATA, "README.md"), "w") as fh:
        fh.write("\n".join(L) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("step", choices=["venvs", "record", "tables", "all"])
    ap.add_argument("envs", nargs="*")
    ap.add_argument("--venvs", help="folder for the venvs")
    ap.add_argument("--work", help="folder for records and written files")
    ap.add_argument("--modelgate", help="a modelgate binary to judge the corpus with (report only)")
    a = ap.parse_args()
    if a.step in ("venvs", "record", "all") and not a.venvs:
        ap.error("--venvs is required")
    if a.step in ("record", "tables", "all") and not a.work:
        ap.error("--work is required")
    if a.step in ("venvs", "all"):
        step_venvs(a)
    if a.step in ("record", "all"):
        step_record(a)
    if a.step in ("tables", "all"):
        step_tables(a)


if __name__ == "__main__":
    main()
