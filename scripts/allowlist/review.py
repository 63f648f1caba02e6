"""Static review of the code a pickle load runs for one global (runs inside a venv).

Nothing here calls the reviewed code: classes and functions are imported (their modules are
the installed library's own), their source is read with inspect and parsed with ast.

For a global and its use, the code that runs on load is:
  ref     nothing (the object is only pushed); a function's body is still reviewed, since the
          library calls it later (FunctionTransformer(func), activation functions ...)
  object  cls.__new__ and then __setstate__ (or, without one, __setattr__ for slot state)
  call    a class: the metaclass __call__, __new__, __init__ (and __setstate__ for a following
          BUILD); a function: its body
Every Python function on that list is parsed; calls on self/cls/super() and to functions of the
same package are followed (depth 3). A call or import that touches files, imports by name,
reaches the network, runs code or a nested loader is a flag, and a flagged global is never safe.
Compiled code (C, Cython) cannot be read here: it is reported as native, and only the family
rules in generate.py can vouch for it.
"""
import ast
import builtins
import inspect
import textwrap
import types

NATIVE_TYPES = ("builtin_function_or_method", "method_descriptor", "wrapper_descriptor",
                "cython_function_or_method", "getset_descriptor", "classmethod_descriptor",
                "method-wrapper", "fused_cython_function", "_cython_3_0_11.cython_function_or_method")

# Calls whose last attribute alone is a flag, whatever the owner.
LAST_FLAGS = {
    "exec": "code", "eval": "code", "execfile": "code", "__import__": "import",
    "import_module": "import", "reload": "import", "run_path": "code", "run_module": "code",
    "unsafe_load": "code", "full_load": "code", "pickle_loads": "code", "cloudpickle_loads": "code",
    "system": "process", "popen": "process", "Popen": "process", "check_output": "process",
    "check_call": "process", "spawnv": "process", "execv": "process", "execve": "process",
    "instantiate": "code", "locate": "import", "_locate": "import", "resolve_name": "import",
    "mkstemp": "files", "mkdtemp": "files", "NamedTemporaryFile": "files",
    "TemporaryDirectory": "files", "TemporaryFile": "files", "SpooledTemporaryFile": "files",
    "write_text": "files", "write_bytes": "files", "read_text": "files", "read_bytes": "files",
    "unlink": "files", "rmtree": "files", "fromfile": "files", "tofile": "files",
    "urlopen": "network", "hf_hub_download": "network", "snapshot_download": "network",
    "cached_file": "network", "cached_path": "network", "from_pretrained": "network",
    "load_state_dict_from_url": "network", "download_url_to_file": "network",
    "load_library": "code", "dlopen": "code", "CDLL": "code", "LoadLibrary": "code",
    "getoutput": "process", "getstatusoutput": "process",
}
# owner.last pairs: (owner's last component, last) -> flag
OWNER_FLAGS = {
    "pickle": {"load": "code", "loads": "code", "Unpickler": "code"},
    "cPickle": {"load": "code", "loads": "code"},
    "_pickle": {"load": "code", "loads": "code"},
    "dill": {"load": "code", "loads": "code"},
    "cloudpickle": {"load": "code", "loads": "code"},
    "marshal": {"load": "code", "loads": "code"},
    "torch": {"load": "code"},
    "serialization": {"load": "code"},
    "joblib": {"load": "code"},
    "np": {"load": "code", "memmap": "files", "save": "files", "savez": "files", "loadtxt": "files"},
    "numpy": {"load": "code", "memmap": "files", "save": "files", "savez": "files", "loadtxt": "files"},
    "yaml": {"load": "code", "load_all": "code"},
    "srsly": {"pickle_loads": "code", "read_pickle": "code"},
    "importlib": {"*": "import"},
    "subprocess": {"*": "process"},
    "os": {k: "files" for k in ("remove", "unlink", "rmdir", "removedirs", "rename", "replace", "makedirs",
                                "mkdir", "open", "fdopen", "listdir", "scandir", "walk", "chmod", "chown",
                                "link", "symlink", "truncate", "utime", "stat", "lstat", "chdir")} |
          {k: "process" for k in ("system", "popen", "execv", "execve", "execl", "execvp", "spawnv", "spawnl",
                                  "fork", "kill", "posix_spawn", "startfile", "putenv")},
    "path": {k: "files" for k in ("exists", "isfile", "isdir", "getsize", "getmtime", "lexists", "islink",
                                  "realpath", "samefile")},
    "shutil": {"*": "files"},
    "tempfile": {"*": "files"},
    "socket": {"*": "network"},
    "requests": {"*": "network"},
    "urllib": {"*": "network"},
    "request": {"*": "network"},
    "http": {"*": "network"},
    "ctypes": {k: "code" for k in ("CDLL", "PyDLL", "WinDLL", "OleDLL", "LibraryLoader", "cast", "memmove",
                                   "memset", "string_at", "wstring_at", "pythonapi", "cdll", "pydll")},
    "cdll": {"LoadLibrary": "code"},
    "io": {"open": "files", "FileIO": "files"},
    "codecs": {"open": "files"},
    "gzip": {"open": "files"},
    "bz2": {"open": "files"},
    "lzma": {"open": "files"},
    "sys": {"modules": "import"},
    "builtins": {"open": "files", "eval": "code", "exec": "code", "__import__": "import"},
}
BARE_FLAGS = {"open": "files", "exec": "code", "eval": "code", "compile": "code",
              "__import__": "import", "globals": "code", "breakpoint": "code", "input": "code"}
# Fixed imports of these inside load-time code are flags too (a module that itself loads or
# runs things); other fixed imports are noted.
IMPORT_FLAGS = ("pickle", "dill", "cloudpickle", "marshal", "subprocess", "importlib",
                "tempfile", "shutil", "socket", "urllib", "requests", "ctypes", "runpy")


def dotted(expr):
    parts = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if isinstance(expr, ast.Name):
        parts.append(expr.id)
    elif isinstance(expr, ast.Call):
        inner = dotted(expr.func)
        parts.append((inner or "?") + "()")
    else:
        return None
    return ".".join(reversed(parts))


def is_native(f):
    return type(f).__name__ in NATIVE_TYPES or (callable(f) and not inspect.isfunction(inspect.unwrap(f))
                                                and not inspect.ismethod(f))


def qual(f):
    m = getattr(f, "__module__", None) or getattr(getattr(f, "__objclass__", None), "__module__", "?")
    q = getattr(f, "__qualname__", None) or getattr(f, "__name__", repr(f))
    return f"{m}.{q}"


class Reviewer:
    def __init__(self):
        self.cache = {}  # qualname -> (flags list, notes list, native bool)

    def review_function(self, f, owner_cls=None, depth=0, seen=None):
        """Returns (flags, notes, native): flags are (category, text) pairs."""
        seen = seen if seen is not None else set()
        if isinstance(f, (staticmethod, classmethod)):
            f = f.__func__
        f = inspect.unwrap(f) if callable(f) else f
        key = qual(f)
        if key in seen:
            return [], [], False
        seen.add(key)
        if depth == 0 and key in self.cache:
            return self.cache[key]
        if not inspect.isfunction(f):
            res = ([], [f"native {key}"], True)
            if depth == 0:
                self.cache[key] = res
            return res
        try:
            src = textwrap.dedent(inspect.getsource(f))
            tree = ast.parse(src)
        except (OSError, TypeError, SyntaxError, IndentationError) as e:
            res = ([], [f"no source for {key}: {type(e).__name__}"], True)
            if depth == 0:
                self.cache[key] = res
            return res
        flags, notes = [], []
        parents = {}
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                parents[child] = node
        g = getattr(f, "__globals__", {})
        pkg = (getattr(f, "__module__", "") or "").split(".")[0]
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or "."]
                for m in mods:
                    if m.split(".")[0] in IMPORT_FLAGS:
                        flags.append(("import", f"{key} imports {m}"))
                    else:
                        notes.append(f"{key} imports {m}")
            elif isinstance(node, ast.Call):
                name = dotted(node.func)
                if not name:
                    continue
                parts = name.split(".")
                last = parts[-1]
                cat = None
                # importlib.import_module("a.fixed.module") is a fixed import, judged as the
                # `import` statement above (torch.nn.functional imports torch._decomp this way
                # to break an import cycle); only a computed name is an import by name.
                if last == "import_module" and node.args and isinstance(node.args[0], ast.Constant) \
                        and isinstance(node.args[0].value, str) and not node.args[0].value.startswith("."):
                    m = node.args[0].value
                    if m.split(".")[0] in IMPORT_FLAGS:
                        flags.append(("import", f"{key} imports {m}"))
                    else:
                        notes.append(f"{key} imports {m} (importlib.import_module with a constant name)")
                    continue
                if len(parts) == 1:
                    cat = BARE_FLAGS.get(last) or LAST_FLAGS.get(last)
                    if last == "getattr" and len(node.args) >= 2 and not isinstance(node.args[1], ast.Constant):
                        target = dotted(node.args[0]) or ""
                        if target not in ("self", "cls", "obj", "other", "state") and target.split(".")[0] not in ("self", "cls"):
                            notes.append(f"{key} getattr({target}, <computed>)")
                else:
                    owner = parts[-2].rstrip("()")
                    of = OWNER_FLAGS.get(owner)
                    if of:
                        cat = of.get(last) or of.get("*")
                    if not cat:
                        cat = LAST_FLAGS.get(last)
                if cat:
                    flags.append((cat, f"{key} calls {name}()"))
                    continue
                if parts[0] in ("_LIB", "_lib", "_LIBRARY") or (len(parts) > 1 and parts[-2] in ("_LIB", "_lib")):
                    notes.append(f"{key} calls the library's own C API {name}()")
                if depth >= 3:
                    continue
                # Follow self/cls/super() calls and same-package functions.
                target = None
                if len(parts) == 2 and parts[0] in ("self", "cls") and owner_cls is not None:
                    target = _lookup(owner_cls, last)
                elif len(parts) == 2 and parts[0] == "super()" and owner_cls is not None:
                    target = _lookup(owner_cls, last, skip_first=True)
                elif len(parts) == 1 and last in g:
                    cand = g[last]
                    if inspect.isfunction(cand) and (getattr(cand, "__module__", "") or "").split(".")[0] == pkg:
                        target = cand
                    elif inspect.isclass(cand) and (getattr(cand, "__module__", "") or "").split(".")[0] == pkg:
                        for meth in ("__init__", "__new__"):
                            t = cand.__dict__.get(meth)
                            if t is not None and inspect.isfunction(t):
                                fl, nt, _ = self.review_function(t, cand, depth + 1, seen)
                                flags += fl
                                notes += nt
                elif len(parts) == 2 and parts[0] in g and inspect.ismodule(g[parts[0]]):
                    mod = g[parts[0]]
                    if mod.__name__.split(".")[0] == pkg:
                        cand = getattr(mod, last, None)
                        if inspect.isfunction(cand):
                            target = cand
                if target is not None:
                    fl, nt, _ = self.review_function(target, owner_cls, depth + 1, seen)
                    flags += fl
                    notes += nt
            elif isinstance(node, ast.Attribute):
                d = dotted(node)
                if d == "sys.modules":
                    p = parents.get(node)
                    ok = (isinstance(p, ast.Subscript) and isinstance(p.slice, ast.Constant)) or \
                        isinstance(p, ast.Compare) or \
                        (isinstance(p, ast.Attribute) and p.attr == "get" and isinstance(parents.get(p), ast.Call)
                         and parents[p].args and isinstance(parents[p].args[0], ast.Constant))
                    if ok:
                        notes.append(f"{key} reads sys.modules with a constant key")
                        continue
                    flags.append(("import", f"{key} reads sys.modules with a computed key"))
                elif d == "builtins.__dict__" or (d or "").endswith(".__globals__") or \
                        (d or "").endswith(".__builtins__") or (d or "").endswith(".__code__"):
                    flags.append(("code", f"{key} reads {d}"))
        res = (sorted(set(flags)), sorted(set(notes)), False)
        if depth == 0:
            self.cache[key] = res
        return res


def _lookup(cls, name, skip_first=False):
    mro = getattr(cls, "__mro__", ())
    for i, k in enumerate(mro):
        if skip_first and i == 0:
            continue
        if name in k.__dict__:
            v = k.__dict__[name]
            if isinstance(v, (staticmethod, classmethod)):
                v = v.__func__
            if isinstance(v, property):
                v = v.fget
            return v if inspect.isfunction(v) else None
    return None


def origin(cls, name):
    """(defining class qualname, the attribute) for name on cls, following the MRO."""
    for k in getattr(cls, "__mro__", ()):
        if name in k.__dict__:
            return f"{k.__module__}.{k.__qualname__}", k.__dict__[name], k
    return None, None, None


DEFAULT_OWNERS = ("builtins.object", "builtins.type")


def methods_for(cls, use):
    """The methods a load runs for cls with this use."""
    out = []
    if use == "object":
        out.append("__new__")
        if origin(cls, "__setstate__")[0] is not None:
            out.append("__setstate__")
        else:
            out.append("__setattr__")
    elif use == "call":
        out += ["__new__", "__init__"]
        if origin(cls, "__setstate__")[0] is not None:
            out.append("__setstate__")
    return out


def review_global(rev, obj, use):
    """A dict describing the object and the review of what a load runs for it."""
    info = {"type": type(obj).__name__}
    flags, notes, natives = [], [], []
    if inspect.isclass(obj):
        info["kind"] = "class"
        info["bases"] = [f"{b.__module__}.{b.__qualname__}" for b in obj.__mro__[1:4]]
        meta = type(obj)
        if meta is not type:
            info["metaclass"] = f"{meta.__module__}.{meta.__qualname__}"
        origins = {}
        for m in ("__reduce__", "__reduce_ex__", "__setstate__", "__init__", "__new__", "__setattr__",
                  "__reduce_cython__", "__setstate_cython__"):
            o, attr, owner = origin(obj, m)
            if o is not None:
                origins[m] = o
        info["origins"] = origins
        info["cython_autopickle"] = "__reduce_cython__" in origins
        info["enum"] = _is_enum(obj)
        run = methods_for(obj, use)
        if use == "call" and meta is not type:
            o, attr, owner = origin(meta, "__call__")
            if o and o not in DEFAULT_OWNERS:
                fl, nt, nat = rev.review_function(attr, meta)
                flags += fl
                notes += nt
                if nat:
                    natives.append(f"{o}.__call__")
        for m in run:
            o, attr, owner = origin(obj, m)
            if o is None or o in DEFAULT_OWNERS:
                continue
            fl, nt, nat = rev.review_function(attr, owner)
            flags += fl
            notes += nt
            if nat:
                natives.append(f"{o}.{m}")
        info["ran"] = run
        if natives:
            fl, pyx = pyx_review(obj, set(run) | {"__reduce__", "__setstate__", "__init__"})
            flags += fl
            info["pyx_reviewed"] = pyx
    elif isinstance(obj, (types.FunctionType, types.BuiltinFunctionType, types.MethodType)) or \
            type(obj).__name__ in NATIVE_TYPES:
        info["kind"] = "function"
        info["qualname"] = qual(obj)
        fl, nt, nat = rev.review_function(obj)
        flags += fl
        notes += nt
        if nat:
            natives.append(qual(obj))
            if type(obj).__name__ in ("cython_function_or_method", "fused_cython_function"):
                info["kind"] = "cython-function"
                fl, pyx = pyx_review_function(obj)
                flags += fl
                info["pyx_reviewed"] = pyx
    else:
        tn = type(obj).__name__
        info["kind"] = "instance"
        info["class"] = f"{type(obj).__module__}.{type(obj).__qualname__}"
        if tn == "ufunc":
            info["kind"] = "ufunc"
        elif callable(obj) and use == "call":
            o, attr, owner = origin(type(obj), "__call__")
            if o:
                fl, nt, nat = rev.review_function(attr, owner)
                flags += fl
                notes += nt
                if nat:
                    natives.append(f"{o}.__call__")
    info["flags"] = [list(x) for x in sorted(set(flags))]
    info["notes"] = sorted(set(notes))[:20]
    info["native"] = sorted(set(natives))
    return info


def _is_enum(cls):
    try:
        import enum

        return issubclass(cls, enum.Enum)
    except TypeError:
        return False


# --- Cython sources ------------------------------------------------------------------------
import os
import re
import sys

PYX_TOKENS = [
    (r"\bopen\s*\(", "files"), (r"\bexec\s*\(", "code"),
    (r"\beval\s*\(", "code"), (r"\bpickle\.", "code"), (r"\btempfile\b", "files"), (r"\bos\.(?!path\.join)", "files"),
    (r"\bsubprocess\b", "process"), (r"\bimportlib\b", "import"), (r"__import__", "import"),
    (r"\b(urllib|requests|socket)\b", "network"), (r"\btorch\.load\b", "code"), (r"\b(np|numpy)\.load\b", "code"),
    # nested loaders (spaCy's unpickle_vocab/unpickle_doc call srsly.pickle_loads on embedded bytes),
    # as LAST_FLAGS/OWNER_FLAGS do for Python code
    (r"\bpickle_loads\b", "code"), (r"\bread_pickle\b", "code"), (r"\bUnpickler\b", "code"),
    (r"\b(cloudpickle|dill|marshal|joblib|srsly)\.(load|loads)\b", "code"),
    (r"\byaml\.(unsafe_|full_)?load\b", "code"),
]


# Fixed Python imports in .pyx method bodies (`import m`, `from m import x`; `cimport` is
# compile-time): the same rule as for Python code above: an import of a module that itself
# loads or runs things (IMPORT_FLAGS) is a flag, a fixed import of any other module (pandas'
# own `from pandas.core.construction import extract_array`) is not. Imports by name
# (__import__, importlib) stay flags through PYX_TOKENS.
PYX_IMPORT = re.compile(r"^\s*(?:from\s+([\w.]+)\s+import\b|import\s+([\w., ]+))", re.M)


def _pyx_import_flags(code):
    out = []
    for m in PYX_IMPORT.finditer(code):
        mods = [m.group(1)] if m.group(1) else [x.strip().split(" ")[0] for x in m.group(2).split(",")]
        for mod in mods:
            if mod and mod.split(".")[0] in IMPORT_FLAGS:
                out.append(mod)
    return out


def _pyx_path(modname):
    mod = sys.modules.get(modname)
    f = getattr(mod, "__file__", None) or ""
    if not f.endswith((".so", ".pyd")):
        return None
    base = f.split(".cpython")[0].split(".cp3")[0]
    for ext in (".pyx", ".pyx.tp", ".pyx.in"):
        if os.path.exists(base + ext):
            return base + ext
    return None


def _method_bodies(text, clsname, methods):
    """Bodies of `def method` inside `cdef class clsname` (or every such def in the file when
    the class is written by a template)."""
    lines = text.splitlines()
    blocks = []
    start = None
    for i, l in enumerate(lines):
        if re.match(rf"^(cdef\s+)?class\s+{re.escape(clsname)}\b", l):
            start = i
            break
    ranges = []
    if start is not None:
        end = len(lines)
        for j in range(start + 1, len(lines)):
            if lines[j] and not lines[j][0].isspace() and not lines[j].startswith("#"):
                end = j
                break
        ranges.append((start, end))
    else:
        ranges.append((0, len(lines)))
    for a, b in ranges:
        i = a
        while i < b:
            m = re.match(r"^(\s+)(?:c?p?def)\s+(?:[\w\[\]*]+\s+)?(\w+)\s*\(", lines[i])
            if m and m.group(2) in methods:
                ind = len(m.group(1))
                body = [lines[i]]
                k = i + 1
                while k < b and (not lines[k].strip() or len(lines[k]) - len(lines[k].lstrip()) > ind):
                    body.append(lines[k])
                    k += 1
                blocks.append((m.group(2), "\n".join(body)))
                i = k
            else:
                i += 1
    return blocks, start is not None


def pyx_review(cls, methods):
    """Reads the Cython source shipped next to a compiled module (when the wheel ships it)
    and scans the bodies of the given methods for file, import, network or code access."""
    flags, notes = [], []
    reviewed = []
    for k in getattr(cls, "__mro__", (cls,)):
        if k is object:
            continue
        mod = getattr(k, "__module__", "")
        path = _pyx_path(mod)
        if not path:
            continue
        text = open(path, encoding="utf-8", errors="replace").read()
        blocks, found = _method_bodies(text, k.__name__, set(methods) | {"__cinit__"})
        for meth, body in blocks:
            code = "\n".join(l.split("#")[0] for l in body.splitlines())
            for pat, cat in PYX_TOKENS:
                if re.search(pat, code):
                    flags.append((cat, f"{mod}.{k.__name__}.{meth} ({os.path.basename(path)}) matches {pat}"))
            for imp in _pyx_import_flags(code):
                flags.append(("import", f"{mod}.{k.__name__}.{meth} ({os.path.basename(path)}) imports {imp}"))
            reviewed.append(f"{mod}.{k.__name__}.{meth}" + ("" if found else " (template)"))
    return flags, sorted(set(reviewed))


def pyx_review_function(f):
    """A module-level Cython function: its body in the shipped .pyx, scanned as above.
    __pyx_unpickle_* functions are generated by Cython and have no source."""
    name = getattr(f, "__name__", "")
    mod = getattr(f, "__module__", "")
    path = _pyx_path(mod)
    if not path or name.startswith("__pyx_unpickle_"):
        return [], []
    text = open(path, encoding="utf-8", errors="replace").read()
    lines = text.splitlines()
    flags, reviewed = [], []
    for i, l in enumerate(lines):
        if re.match(rf"^c?p?def\s+(?:[\w\[\]*]+\s+)?{re.escape(name)}\s*\(", l):
            body = [l]
            for k in range(i + 1, len(lines)):
                if lines[k].strip() and not lines[k][0].isspace():
                    break
                body.append(lines[k])
            code = "\n".join(x.split("#")[0] for x in body)
            for pat, cat in PYX_TOKENS:
                if re.search(pat, code):
                    flags.append((cat, f"{mod}.{name} ({os.path.basename(path)}) matches {pat}"))
            for imp in _pyx_import_flags(code):
                flags.append(("import", f"{mod}.{name} ({os.path.basename(path)}) imports {imp}"))
            reviewed.append(f"{mod}.{name}")
            break
    return flags, reviewed
