"""Runs inside one venv: writes files with the libraries' own save paths, reads back which
globals each file imports and how (pickle_uses.py), enumerates further classes of class-rich
libraries, and reviews every global statically (review.py). Writes OUT/record.json.

    PYTHONHASHSEED=0 VENV/bin/python scripts/allowlist/record.py --env NAME --out DIR

(generate.py runs this for every venv, in an empty working directory.)
"""
import argparse
import contextlib
import importlib
import importlib.metadata
import io
import json
import os
import pickle
import random
import sys
import time
import traceback
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pickle_uses  # noqa: E402
import review  # noqa: E402

warnings.filterwarnings("ignore")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("WANDB_DISABLED", "true")
os.environ.setdefault("YOLO_OFFLINE", "1")

DIST = {  # import name -> distribution name, for versions
    "sklearn": "scikit-learn", "numpy": "numpy", "scipy": "scipy", "pandas": "pandas",
    "joblib": "joblib", "xgboost": "xgboost", "lightgbm": "lightgbm", "catboost": "catboost",
    "statsmodels": "statsmodels", "torch": "torch", "torchvision": "torchvision",
    "transformers": "transformers", "tokenizers": "tokenizers", "accelerate": "accelerate",
    "lightning": "lightning", "pytorch_lightning": "pytorch-lightning", "omegaconf": "omegaconf",
    "timm": "timm", "sentence_transformers": "sentence-transformers", "peft": "peft",
    "diffusers": "diffusers", "ultralytics": "ultralytics", "flair": "flair", "gensim": "gensim",
    "spacy": "spacy", "thinc": "thinc", "prophet": "prophet", "sklearn_crfsuite": "sklearn-crfsuite",
    "pycrfsuite": "python-crfsuite", "dill": "dill", "cloudpickle": "cloudpickle",
    "hydra": "hydra-core", "torchmetrics": "torchmetrics", "safetensors": "safetensors",
    "lightning_fabric": "lightning-fabric", "cmdstanpy": "cmdstanpy", "srsly": "srsly",
    "nemo": "nemo-toolkit", "fairseq": "fairseq", "huggingface_hub": "huggingface-hub",
}


def version(mod):
    try:
        return importlib.metadata.version(DIST.get(mod, mod))
    except Exception:
        return None


class Ctx:
    def __init__(self, out, env):
        self.out = out
        self.env = env
        self.files = []
        self.memory = []
        self.enumerated = {}  # (m, n) -> {"use":, "libs": set}
        self.errors = []
        self.current = None
        self.compat = {}  # (old module, old name) -> (module, name, library): names old files hold

    def lib_dir(self, lib):
        v = version(lib) or "unknown"
        d = os.path.join("files", f"{DIST.get(lib, lib)}-{v}")
        os.makedirs(d, exist_ok=True)
        return d

    def path(self, lib, name):
        """A relative path for a file the scenario writes (the cwd is a neutral temp dir)."""
        return os.path.join(self.lib_dir(lib), name)

    def add(self, path, lib, writer, note, corpus=True):
        self.files.append({"path": path, "library": DIST.get(lib, lib), "version": version(lib),
                           "writer": writer, "note": note, "corpus": corpus,
                           "scenario": self.current})

    def dump(self, lib, name, obj, writer="pickle.dump", note="", protocol=None, corpus=True, **kw):
        """Writes obj with one of the standard writers and registers the file."""
        p = self.path(lib, name)
        if writer == "pickle.dump":
            with open(p, "wb") as fh:
                pickle.dump(obj, fh, protocol=protocol if protocol is not None else pickle.DEFAULT_PROTOCOL)
            writer = f"pickle.dump(protocol={protocol if protocol is not None else pickle.DEFAULT_PROTOCOL})"
        elif writer == "joblib.dump":
            import joblib

            joblib.dump(obj, p, **kw)
            if kw:
                writer = "joblib.dump(" + ", ".join(f"{k}={v!r}" for k, v in kw.items()) + ")"
        elif writer == "torch.save":
            import torch

            torch.save(obj, p, **kw)
            if kw:
                writer = "torch.save(" + ", ".join(f"{k}={v!r}" for k, v in kw.items()) + ")"
        else:
            raise ValueError(writer)
        self.add(p, lib, writer, note, corpus)
        return p

    def mem(self, lib, label, data, writer="pickle.dumps"):
        """Analyses bytes that are not kept as corpus files (enumeration-driven pickles)."""
        self.memory.append({"label": label, "library": DIST.get(lib, lib), "version": version(lib),
                            "writer": writer, "data": data, "scenario": self.current})

    def enum(self, lib, module, name, use):
        e = self.enumerated.setdefault((module, name), {"use": use, "libs": set()})
        if pickle_uses.RANK[use] > pickle_uses.RANK[e["use"]]:
            e["use"] = use
        e["libs"].add(DIST.get(lib, lib))


def seed_all(n=0):
    random.seed(n)
    try:
        import numpy

        numpy.random.seed(n)
    except Exception:
        pass
    try:
        import torch

        torch.manual_seed(n)
    except Exception:
        pass


def resolve(module, name):
    """What find_class would return, following the unpickler (py2 names mapped as for
    protocol < 3 with fix_imports)."""
    import _compat_pickle

    m, n = module, name
    if (m, n) in _compat_pickle.NAME_MAPPING:
        m, n = _compat_pickle.NAME_MAPPING[(m, n)]
    elif m in _compat_pickle.IMPORT_MAPPING:
        m = _compat_pickle.IMPORT_MAPPING[m]
    __import__(m)
    obj = sys.modules[m]
    for part in n.split("."):
        obj = getattr(obj, part)
    return obj, (m, n) != (module, name) and f"{m}.{n}"


def tags(obj):
    """Facts about an object that the family rules in generate.py use."""
    import dataclasses
    import enum
    import inspect

    t = []
    mod = sys.modules.get(getattr(obj, "__module__", "") or "")
    f = getattr(mod, "__file__", "") or ""
    if f.endswith((".so", ".pyd")):
        t.append("compiled-module")
    if f:
        for dist in ("sklearn", "scipy", "pandas", "numpy", "torch", "spacy", "thinc", "srsly", "gensim",
                     "statsmodels", "xgboost", "lightgbm", "catboost", "blis", "cymem", "preshed", "tokenizers"):
            if f"/site-packages/{dist}/" in f:
                t.append(f"file-in:{dist}")
    if inspect.isclass(obj):
        if issubclass(obj, enum.Enum):
            t.append("enum")
        if dataclasses.is_dataclass(obj):
            t.append("dataclass")
        if issubclass(obj, BaseException):
            t.append("exception")
        checks = [("numpy", "generic", "numpy-scalar"), ("numpy", "ndarray", "ndarray"), ("numpy", "dtype", "numpy-dtype"),
                  ("torch.nn", "Module", "nn-module"), ("torch.optim", "Optimizer", "optimizer"),
                  ("sklearn.base", "BaseEstimator", "sklearn-estimator"),
                  ("transformers", "PretrainedConfig", "hf-config"), ("transformers", "PreTrainedModel", "hf-model"),
                  ("transformers", "PreTrainedTokenizerBase", "hf-tokenizer")]
        for m, n, tag in checks:
            mm = sys.modules.get(m)
            base = getattr(mm, n, None) if mm else None
            if isinstance(base, type) and issubclass(obj, base):
                t.append(tag)
        if "__reduce_cython__" in dir(obj):
            t.append("cython-autopickle")
    else:
        tn = type(obj).__name__
        if tn == "ufunc":
            t.append("ufunc")
        if tn in ("cython_function_or_method", "fused_cython_function"):
            t.append("cython-function")
        if tn in ("builtin_function_or_method",):
            t.append("builtin-function")
        if inspect.isfunction(obj):
            t.append("python-function")
        tm = type(obj).__module__
        if tm in ("torch",) and tn in ("dtype", "layout", "memory_format", "qscheme"):
            t.append("torch-value")
        if isinstance(obj, enum.Enum):
            t.append("enum-member")
    return t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--env", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--only", default=None, help="comma-separated scenario modules")
    a = ap.parse_args()
    out = os.path.abspath(a.out)
    os.makedirs(out, exist_ok=True)
    os.chdir(out)
    ctx = Ctx(out, a.env)
    sys.path.insert(0, os.path.join(HERE, "scenarios"))
    mods = sorted(f[:-3] for f in os.listdir(os.path.join(HERE, "scenarios"))
                  if f.endswith(".py") and not f.startswith("_"))
    if a.only:
        mods = [m for m in mods if m in a.only.split(",")]
    timings = {}
    for modname in mods:
        mod = importlib.import_module(modname)
        req = getattr(mod, "REQUIRES", [])
        missing = [r for r in req if importlib.util.find_spec(r) is None]
        if missing:
            continue
        for fname in sorted(n for n in dir(mod) if n.startswith("s_")):
            ctx.current = f"{modname}.{fname}"
            seed_all(0)
            t = time.time()
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    getattr(mod, fname)(ctx)
            except Exception as e:
                ctx.errors.append({"scenario": ctx.current, "error": f"{type(e).__name__}: {e}",
                                   "trace": traceback.format_exc().splitlines()[-6:]})
            timings[ctx.current] = round(time.time() - t, 1)
            print(f"{ctx.current}: {timings[ctx.current]}s", file=sys.stderr, flush=True)
    # Analyse every written file and every in-memory pickle.
    observed = {}  # (m, n) -> {"use":, "files": [...], "libs": set}

    def note_uses(uses, label, lib_versions):
        for (m, n), use in uses.uses.items():
            o = observed.setdefault((m, n), {"use": use, "where": [], "libs": set()})
            if pickle_uses.RANK[use] > pickle_uses.RANK[o["use"]]:
                o["use"] = use
            if len(o["where"]) < 6:
                o["where"].append(label)
            o["libs"].add(lib_versions)

    for f in ctx.files:
        try:
            u, notes = pickle_uses.analyse_file(f["path"])
        except Exception as e:
            u, notes = pickle_uses.Uses(), [f"analysis failed: {type(e).__name__}: {e}"]
        f["uses"] = sorted([m, n, use] for (m, n), use in u.uses.items())
        f["analysis"] = notes
        f["dynamic"] = u.dynamic
        f["size"] = os.path.getsize(f["path"])
        note_uses(u, f["path"], f"{f['library']} {f['version']}")
    mem_out = []
    for m in ctx.memory:
        try:
            u, notes = pickle_uses.analyse_bytes(m["data"])
        except Exception as e:
            u, notes = pickle_uses.Uses(), [f"analysis failed: {type(e).__name__}: {e}"]
        note_uses(u, f"<{m['writer']} {m['label']}>", f"{m['library']} {m['version']}")
        mem_out.append({"label": m["label"], "library": m["library"], "version": m["version"],
                        "scenario": m["scenario"], "analysis": notes, "n_globals": len(u.uses)})
    # Review every global (observed with its use; enumerated with the use its enumerator gives).
    rev = review.Reviewer()
    globals_out = []
    keys = set(observed) | set(ctx.enumerated)
    resolved_objs = {}  # id(obj) -> (obj, (module, name)) of every global that resolved as named
    for key in sorted(keys):
        m, n = key
        o = observed.get(key)
        e = ctx.enumerated.get(key)
        use = o["use"] if o else e["use"]
        if o and e and pickle_uses.RANK[e["use"]] > pickle_uses.RANK[use]:
            use = e["use"]
        rec = {"module": m, "name": n, "use": use, "observed": bool(o),
               "observed_use": o["use"] if o else None,
               "libs": sorted((o["libs"] if o else set()) | {f"{l} {version_of_dist(l)}" for l in (e["libs"] if e else set())}),
               "where": o["where"] if o else []}
        try:
            obj, mapped = resolve(m, n)
            if not mapped:
                resolved_objs.setdefault(id(obj), (obj, key))
            rec["resolved"] = mapped or None
            rec["info"] = review.review_global(rev, obj, use)
            rec["info"]["defined_in"] = getattr(obj, "__module__", None) if not isinstance(obj, type(sys)) else None
            rec["info"]["tags"] = tags(obj)
        except Exception as ex:
            rec["resolved"] = None
            rec["error"] = f"{type(ex).__name__}: {ex}"[:300]
        globals_out.append(rec)
    aliases = find_aliases(resolved_objs, keys)
    versions = {}
    for imp, dist in sorted(DIST.items()):
        v = version(imp)
        if v:
            versions[dist] = v
    for f in ctx.files:
        f.pop("data", None)
    data = {"env": a.env, "python": sys.version.split()[0], "versions": versions, "files": ctx.files,
            "memory": mem_out, "globals": globals_out,
            "aliases": aliases,
            "compat": sorted([om, on, nm, nn, lib] for (om, on), (nm, nn, lib) in ctx.compat.items()), "errors": ctx.errors, "timings": timings}
    with open(os.path.join(out, "record.json"), "w") as fh:
        json.dump(data, fh, indent=1, sort_keys=True, default=sorted)
    print(f"{a.env}: {len(ctx.files)} files, {len(mem_out)} in-memory pickles, {len(globals_out)} globals, "
          f"{len(ctx.errors)} scenario errors", file=sys.stderr)


# Module path parts whose modules are not library code a load path imports.
NOT_LOAD_PATH = {"tests", "test", "testing", "_testing", "conftest", "commands", "cli", "__main__", "benchmarks"}


def find_aliases(resolved_objs, keys):
    """Other names under which find_class returns the very object of a recorded global:
    backward-compatibility aliases (gensim's `keyedvectors.Vocab = CompatVocab`, the
    `keyedvectors.FastTextKeyedVectors` that gensim.models.fasttext assigns), re-exports
    (`sklearn.linear_model.LogisticRegression`) and the old module paths that files written by
    older versions name. Only attributes of the tracked libraries' modules that this process
    imported while saving (a load of the alias imports the same library), never of test or
    command-line modules. Returns sorted [alias module, alias name, module, name]."""
    tracked = set(DIST)
    out = set()
    for mname, mod in sorted(sys.modules.items()):
        if mod is None or mname.split(".")[0] not in tracked or NOT_LOAD_PATH & set(mname.split(".")):
            continue
        try:
            items = list(vars(mod).items())
        except TypeError:
            continue
        for n, v in items:
            hit = resolved_objs.get(id(v))
            if hit is None or hit[0] is not v or (mname, n) in keys:
                continue
            out.add((mname, n) + hit[1])
    return sorted(list(x) for x in out)


def version_of_dist(dist):
    try:
        return importlib.metadata.version(dist)
    except Exception:
        return "?"


if __name__ == "__main__":
    main()
