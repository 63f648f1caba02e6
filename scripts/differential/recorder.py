"""Ground truth for the differential tests: what CPython's C unpickler (`_pickle`) imports
and calls when it loads a stream, with nothing real ever imported or run.

`find_class` is replaced (on the instance, so that it also sees what a subclass such as
torch's `UnpicklerWrapper` resolves before calling up) by a recorder that returns a
*stand-in* for every global: a class whose metaclass `__call__` and whose `__new__` record
`(module, name, args repr)` and return an inert object. No module named by a stream is ever
imported, and no real callable named by a stream is ever called.

A few stand-ins compute a real string from string arguments (`builtins.str`,
`operator.add` and their aliases), so that a pickle can hand a computed string to
STACK_GLOBAL as a real load would; imports whose names come from such results are marked
`computed`.

Loaders emulated:
- `pickle.loads(data)`: an `Unpickler` over a file object whose `peek()` returns all the
  remaining bytes, so the C unpickler reads everything from one buffer exactly as
  `pickle.loads` does (`_Unpickler_ReadFromFile` prefetches through `peek`; frames and
  reads never straddle a refill). A subclass is needed to replace `find_class`, and
  `pickle.loads` cannot take one.
- `pickle.load` repeated on one real file object (`open(path, "rb")`, a BufferedReader),
  until EOF: what a loader reading several pickles in a row reads.
- `torch.load(path, weights_only=False, pickle_module=recording_module(...))` lives in
  gen_zips.py and uses `recording_module` from here.
"""

import copyreg
import io
import pickle
import reprlib
import warnings

warnings.simplefilter("ignore", DeprecationWarning)

_repr = reprlib.Repr()
_repr.maxstring = 120
_repr.maxother = 60
_repr.maxlevel = 3

# Stand-ins that compute a string from their arguments, as the real callables would.
COMPUTING = {
    ("builtins", "str"),
    ("__builtin__", "str"),
    ("operator", "add"),
    ("_operator", "add"),
    ("operator", "concat"),
    ("_operator", "concat"),
}


class Inert:
    """What every stand-in call returns. Accepts what the unpickler does to objects."""

    def __init__(self, label="inert"):
        object.__setattr__(self, "_label", label)

    def __repr__(self):
        return "<%s>" % self._label

    def __setstate__(self, state):
        pass

    def append(self, x):
        pass

    def extend(self, xs):
        pass

    def add(self, x):
        pass

    def __setitem__(self, k, v):
        pass

    def __setattr__(self, k, v):
        pass


def arg_repr(args, kwargs=None):
    try:
        parts = [_repr.repr(a) for a in args]
        if kwargs:
            parts += ["%s=%s" % (k, _repr.repr(v)) for k, v in kwargs.items()]
        s = ", ".join(parts)
    except Exception as e:  # noqa: BLE001 - a hostile __repr__ cannot happen with stand-ins
        s = "<unreprable %s>" % type(e).__name__
    return s[:400]


def simple_args(args):
    """JSON-able copy of the arguments when every one is a constant scalar."""
    out = []
    for a in args:
        if isinstance(a, bool) or a is None or isinstance(a, (int, float, str)):
            if isinstance(a, int) and not isinstance(a, bool) and abs(a) > 2**62:
                return None
            if isinstance(a, float) and a != a:
                return None
            out.append(a)
        elif isinstance(a, (bytes, bytearray)):
            out.append({"bytes": bytes(a).hex()})
        else:
            return None
    return out


class Log:
    def __init__(self):
        self.imports = []  # [module, name, computed]
        self.calls = []  # [module, name, args repr, how, simple args or None]
        self.pids = []
        self.computed = set()
        self._standins = {}

    def standin(self, module, name):
        key = (module, name)
        s = self._standins.get(key)
        if s is not None:
            return s
        log = self

        def result(args):
            if key in COMPUTING and args and all(isinstance(a, str) for a in args):
                r = "".join(args)
                log.computed.add(r)
                return r
            return Inert("%s.%s()" % (module, name))

        class Meta(type):
            def __call__(cls, *args, **kwargs):
                log.calls.append([module, name, arg_repr(args, kwargs), "call", simple_args(args) if not kwargs else None])
                return result(args)

            def __repr__(cls):
                return "%s.%s" % (module, name)

        def new(cls, *args, **kwargs):
            log.calls.append([module, name, arg_repr(args, kwargs), "new", simple_args(args) if not kwargs else None])
            return Inert("%s.%s.__new__()" % (module, name))

        s = Meta("StandIn", (), {"__new__": new})
        self._standins[key] = s
        return s

    def find_class(self, module, name):
        computed = (isinstance(module, str) and module in self.computed) or (
            isinstance(name, str) and name in self.computed
        )
        self.imports.append([module, name, computed])
        return self.standin(module, name)

    def persistent_load(self, pid):
        self.pids.append(arg_repr([pid]))
        return Inert("persistent")


class RecordingUnpickler(pickle.Unpickler):
    """`pickle.Unpickler` (the C `_pickle.Unpickler`) whose find_class records and returns
    stand-ins. Set `log` on the class (or pass log=) before use."""

    log = None

    def __init__(self, file, *args, log=None, **kwargs):
        super().__init__(file, *args, **kwargs)
        lg = log or type(self).log
        self._log = lg
        # On the instance: method lookup finds it before any subclass's find_class, so a
        # wrapper that answers some names itself (torch's Storage shortcut) is seen too.
        self.find_class = lg.find_class

    def persistent_load(self, pid):
        return self._log.persistent_load(pid)


class PeekAll(io.RawIOBase):
    """A file whose peek() hands out everything that is left: the C unpickler then reads
    the whole stream from one buffer, as pickle.loads does."""

    def __init__(self, data):
        self._b = bytes(data)
        self._p = 0

    def readable(self):
        return True

    def read(self, n=-1):
        if n is None or n < 0:
            n = len(self._b) - self._p
        r = self._b[self._p : self._p + n]
        self._p += len(r)
        return r

    def readinto(self, buf):
        r = self.read(len(buf))
        buf[: len(r)] = r
        return len(r)

    def readline(self, size=-1):
        i = self._b.find(b"\n", self._p)
        end = len(self._b) if i < 0 else i + 1
        r = self._b[self._p : end]
        self._p = end
        return r

    def peek(self, n=0):
        return self._b[self._p :]


def _err(e):
    return "%s: %s" % (type(e).__name__, str(e)[:200])


def record_loads(data, persistent=False, encoding="ASCII"):
    """pickle.loads semantics. Returns dict(loads, imports, calls, error)."""
    log = Log()
    f = PeekAll(data)
    u = RecordingUnpickler(f, log=log, encoding=encoding)
    if not persistent:
        # Drop the class-level persistent_load so PERSID fails as in pickle.loads.
        u = _NoPersist(f, log=log, encoding=encoding)
    err = None
    try:
        u.load()
    except BaseException as e:  # noqa: BLE001 - anything a load raises is the outcome
        err = _err(e)
    return {"loads": err is None, "imports": log.imports, "calls": log.calls, "error": err}


class _NoPersist(pickle.Unpickler):
    def __init__(self, file, *args, log=None, **kwargs):
        super().__init__(file, *args, **kwargs)
        self.find_class = log.find_class


def record_load_repeated(path, persistent=False, encoding="ASCII", max_pickles=10000):
    """Repeated pickle.load on one open file until EOF; returns what was read."""
    log = Log()
    n = 0
    err = None
    with open(path, "rb") as f:
        while n < max_pickles:
            if not f.peek(1):
                break
            cls = RecordingUnpickler if persistent else _NoPersist
            u = cls(f, log=log, encoding=encoding)
            try:
                u.load()
            except BaseException as e:  # noqa: BLE001
                err = _err(e)
                break
            n += 1
    return {"loads": err is None, "pickles": n, "imports": log.imports, "calls": log.calls, "error": err}


def recording_module(log):
    """A module object to pass as torch.load(pickle_module=...)."""
    import types

    m = types.ModuleType("recording_pickle")

    class U(RecordingUnpickler):
        pass

    U.log = log
    m.Unpickler = U
    m.UnpicklingError = pickle.UnpicklingError
    m.load = lambda f, **kw: U(f, log=log, **kw).load()
    m.loads = lambda b, **kw: U(io.BytesIO(b), log=log, **kw).load()
    m.__version__ = "recording"
    return m


def register_extensions(table):
    """copyreg.add_extension for every (module, name, code) of table, in this process."""
    for module, name, code in table:
        key = (module, name)
        if copyreg._extension_registry.get(key) == code:
            continue
        copyreg.add_extension(module, name, code)
