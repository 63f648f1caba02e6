"""What a pickle stream does with each global it imports, read from the written bytes.

Standard library only (numpy is used, when importable, to size joblib's in-band arrays).
The stream is walked with pickletools.genops and a symbolic model of the unpickler's stack,
metastack (MARK) and memo, so a global fetched back from the memo is still the same global.
Every global gets one use, the highest seen:

  ref     pushed and only used as a value (stored in a container or in object state);
  object  only rebuilt as an object: NEWOBJ / NEWOBJ_EX target, the class argument of
          copyreg._reconstructor / copyreg.__newobj__(_ex__), then BUILD;
  call    called with arguments by REDUCE / INST / OBJ (or the base class that
          copyreg._reconstructor calls with the state).

Containers handled: plain pickles (several in a row), PyTorch zip checkpoints (every .pkl
member), PyTorch legacy stacked pickles, joblib files (in-band array bytes skipped the way
joblib's NumpyArrayWrapper.read_array does; zlib/gzip/bz2/xz/lzma/lz4 compression), .npy
object arrays, .npz, tar archives, and zip archives holding any of those.
"""
import bz2
import gzip
import io
import lzma
import pickletools
import struct
import tarfile
import zipfile
import zlib

USES = ("ref", "object", "call")
RANK = {u: i for i, u in enumerate(USES)}

TORCH_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


class Mark:
    pass


MARK = Mark()


class V:
    """A symbolic stack value."""

    __slots__ = ("kind", "val", "items")

    def __init__(self, kind, val=None, items=None):
        self.kind = kind  # global, str, int, bool, tuple, list, dict, obj, other
        self.val = val
        self.items = items


OTHER = V("other")


class Uses:
    def __init__(self):
        self.uses = {}  # (module, name) -> use
        self.dynamic = 0  # STACK_GLOBAL with non-constant operands
        self.ext = set()

    def add(self, g, use):
        key = (g[0], g[1])
        if key not in self.uses or RANK[use] > RANK[self.uses[key]]:
            self.uses[key] = use

    def merge(self, other):
        for k, u in other.uses.items():
            self.add(k, u)
        self.dynamic += other.dynamic
        self.ext |= other.ext


def _pop_mark(stack):
    for i in range(len(stack) - 1, -1, -1):
        if stack[i] is MARK:
            items = stack[i + 1 :]
            del stack[i:]
            return items
    raise ValueError("MARK not found")


def _is(g, module, name):
    return g.kind == "global" and g.val[1] == name and g.val[0] in module


COPYREG = ("copyreg", "copy_reg")
BUILTINS = ("builtins", "__builtin__")


def _dtype_itemsize(dt):
    """numpy.dtype(...) REDUCE + BUILD modelled as an obj whose val is (str, state)."""
    if dt is None or dt.kind != "obj" or not dt.val or dt.val[0] != "dtype":
        return None
    code = dt.val[1]
    try:
        import numpy

        dt = numpy.dtype(code)
        return dt.itemsize, dt.kind == "O"
    except Exception:
        pass
    table = {"b1": 1, "i1": 1, "u1": 1, "i2": 2, "u2": 2, "f2": 2, "i4": 4, "u4": 4, "f4": 4,
             "i8": 8, "u8": 8, "f8": 8, "c8": 8, "c16": 16, "f16": 16, "O8": 8, "M8": 8, "m8": 8}
    return table.get(code.lstrip("<>|=")), code.lstrip("<>|=").startswith("O")


def _joblib_skip(state, data, pos):
    """Bytes joblib's NumpyArrayWrapper.read_array consumes after the BUILD at pos."""
    if state.kind != "dict" or not state.items:
        return None
    d = state.items
    shape = d.get("shape")
    dt = d.get("dtype")
    if shape is None or shape.kind != "tuple":
        return None
    n = 1
    for s in shape.items:
        if s.kind != "int":
            return None
        n *= s.val
    size = _dtype_itemsize(dt)
    if size is None or size[0] is None:
        return None
    itemsize, is_object = size
    if is_object:
        return "pickle"  # an object array is a nested pickle stream right here
    skip = 0
    if "numpy_array_alignment_bytes" in d:
        if pos >= len(data):
            return None
        skip = 1 + data[pos]
    if n == 0:
        return skip
    return skip + n * itemsize


class _Scanner:
    """The same machine as scan_pickle, re-entrant after joblib array skips."""

    def __init__(self, data, uses, joblib=False):
        self.data = data
        self.uses = uses
        self.joblib = joblib
        self.stack = []
        self.memo = {}

    def run(self, start):
        """Runs one pickle from start; returns the offset after its STOP. A joblib array
        skip restarts genops after the array bytes with the same stack and memo."""
        data = self.data
        while True:
            end, resume = _step(data, start, self)
            if resume is None:
                return end
            start = resume


def _step(data, start, sc):
    """Runs opcodes from start until STOP (returns (end, None)) or a joblib array skip
    (returns (None, resume_offset))."""
    stack, memo, uses = sc.stack, sc.memo, sc.uses
    f = io.BytesIO(data)
    f.seek(start)
    for op, arg, pos in pickletools.genops(f):
        r = _apply(op, arg, pos, f, data, stack, memo, uses, sc.joblib)
        if r is not None:
            kind, off = r
            if kind == "stop":
                return off, None
            return None, off
    raise ValueError("no STOP")


def _apply(op, arg, pos, f, data, stack, memo, uses, joblib):
    name = op.name
    if name in ("PROTO", "FRAME"):
        return None
    if name == "STOP":
        return ("stop", f.tell())
    if name == "BUILD":
        state = stack.pop()
        obj = stack[-1]
        if joblib and obj.kind == "obj" and obj.val and obj.val[0] == "new" and obj.val[1] and \
                obj.val[1][1] == "NumpyArrayWrapper":
            here = f.tell()
            skip = _joblib_skip(state, data, here)
            if skip is None:
                raise ValueError(f"cannot size joblib array at {here}")
            if skip == "pickle":
                sub = _Scanner(data, uses, joblib=True)
                after = sub.run(here)
                return ("resume", after)
            return ("resume", here + skip)
        return None
    _generic(name, arg, pos, stack, memo, uses)
    return None


def _generic(name, arg, pos, stack, memo, uses):
    if name == "MARK":
        stack.append(MARK)
    elif name in ("STRING", "BINSTRING", "SHORT_BINSTRING", "UNICODE", "SHORT_BINUNICODE",
                  "BINUNICODE", "BINUNICODE8"):
        stack.append(V("str", arg))
    elif name in ("INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4"):
        stack.append(V("bool", arg) if isinstance(arg, bool) else V("int", arg))
    elif name in ("NEWTRUE", "NEWFALSE"):
        stack.append(V("bool", name == "NEWTRUE"))
    elif name in ("NONE", "FLOAT", "BINFLOAT", "BINBYTES", "SHORT_BINBYTES", "BINBYTES8",
                  "BYTEARRAY8", "NEXT_BUFFER", "PERSID"):
        stack.append(OTHER)
    elif name == "READONLY_BUFFER":
        pass
    elif name == "EMPTY_TUPLE":
        stack.append(V("tuple", items=[]))
    elif name == "EMPTY_LIST":
        stack.append(V("list"))
    elif name == "EMPTY_DICT":
        stack.append(V("dict", items={}))
    elif name == "EMPTY_SET":
        stack.append(V("other"))
    elif name == "TUPLE":
        stack.append(V("tuple", items=_pop_mark(stack)))
    elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
        k = int(name[-1])
        items = stack[-k:]
        del stack[-k:]
        stack.append(V("tuple", items=items))
    elif name == "LIST":
        _pop_mark(stack)
        stack.append(V("list"))
    elif name == "DICT":
        items = _pop_mark(stack)
        d = {}
        for i in range(0, len(items) - 1, 2):
            if items[i].kind == "str":
                d[items[i].val] = items[i + 1]
        stack.append(V("dict", items=d))
    elif name == "FROZENSET":
        _pop_mark(stack)
        stack.append(OTHER)
    elif name == "APPEND":
        stack.pop()
    elif name in ("APPENDS", "ADDITEMS"):
        _pop_mark(stack)
    elif name == "SETITEM":
        v = stack.pop()
        k = stack.pop()
        t = stack[-1]
        if t.kind == "dict" and k.kind == "str":
            t.items[k.val] = v
    elif name == "SETITEMS":
        items = _pop_mark(stack)
        t = stack[-1]
        if t.kind == "dict":
            for i in range(0, len(items) - 1, 2):
                if items[i].kind == "str":
                    t.items[items[i].val] = items[i + 1]
    elif name == "POP":
        stack.pop()
    elif name == "POP_MARK":
        _pop_mark(stack)
    elif name == "DUP":
        stack.append(stack[-1])
    elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
        memo[arg] = stack[-1]
    elif name == "MEMOIZE":
        memo[len(memo)] = stack[-1]
    elif name in ("GET", "BINGET", "LONG_BINGET"):
        stack.append(memo.get(arg, OTHER))
    elif name == "GLOBAL":
        m, n = arg.split(" ", 1)
        g = V("global", (m, n))
        uses.add(g.val, "ref")
        stack.append(g)
    elif name == "STACK_GLOBAL":
        n = stack.pop()
        m = stack.pop()
        if m.kind == "str" and n.kind == "str":
            g = V("global", (m.val, n.val))
            uses.add(g.val, "ref")
            stack.append(g)
        else:
            uses.dynamic += 1
            stack.append(OTHER)
    elif name in ("EXT1", "EXT2", "EXT4"):
        uses.ext.add(arg)
        stack.append(OTHER)
    elif name == "BINPERSID":
        stack.pop()
        stack.append(OTHER)
    elif name == "INST":
        m, n = arg.split(" ", 1)
        _pop_mark(stack)
        uses.add((m, n), "call")
        stack.append(V("obj", ("inst", (m, n))))
    elif name == "OBJ":
        items = _pop_mark(stack)
        if items and items[0].kind == "global":
            uses.add(items[0].val, "call")
        stack.append(V("obj"))
    elif name == "REDUCE":
        args = stack.pop()
        func = stack.pop()
        result = V("obj")
        if func.kind == "global":
            uses.add(func.val, "call")
            targs = args.items if args.kind == "tuple" else []
            if _is(func, COPYREG, "_reconstructor") and targs:
                if targs[0].kind == "global":
                    uses.add(targs[0].val, "object")
                if len(targs) > 1 and targs[1].kind == "global" and not _is(targs[1], BUILTINS, "object"):
                    uses.add(targs[1].val, "call")
            elif (_is(func, COPYREG, "__newobj__") or _is(func, COPYREG, "__newobj_ex__")) and targs:
                if targs[0].kind == "global":
                    uses.add(targs[0].val, "object")
                result = V("obj", ("new", targs[0].val if targs[0].kind == "global" else None))
            elif func.val[1] == "dtype" and targs and targs[0].kind == "str":
                result = V("obj", ("dtype", targs[0].val))
        stack.append(result)
    elif name == "NEWOBJ":
        stack.pop()
        cls = stack.pop()
        if cls.kind == "global":
            uses.add(cls.val, "object")
        stack.append(V("obj", ("new", cls.val if cls.kind == "global" else None)))
    elif name == "NEWOBJ_EX":
        stack.pop()
        stack.pop()
        cls = stack.pop()
        if cls.kind == "global":
            uses.add(cls.val, "object")
        stack.append(V("obj", ("new", cls.val if cls.kind == "global" else None)))
    else:
        raise ValueError(f"unhandled opcode {name} at {pos}")


def scan_stream(data, uses, joblib=False, start=0, max_pickles=None):
    """Scans consecutive pickles from start; returns (count, error or None)."""
    count = 0
    pos = start
    while pos < len(data) and (max_pickles is None or count < max_pickles):
        try:
            pos = _Scanner(data, uses, joblib=joblib).run(pos)
        except Exception as e:  # a stream that does not parse is reported, not hidden
            return count, f"{type(e).__name__}: {e}"
        count += 1
        while pos < len(data) and data[pos:pos + 1] in (b"\n", b" "):
            pos += 1
    return count, None


def _decompress(data):
    if data[:2] == b"\x1f\x8b":
        return gzip.decompress(data), "gzip"
    if data[:3] == b"BZh":
        return bz2.decompress(data), "bz2"
    if data[:6] == b"\xfd7zXZ\x00":
        return lzma.decompress(data), "xz"
    if data[:3] == b"\x5d\x00\x00":
        return lzma.decompress(data, format=lzma.FORMAT_ALONE), "lzma"
    if data[:4] == b"\x04\x22\x4d\x18":
        import lz4.frame

        return lz4.frame.decompress(data), "lz4"
    if data[:2] == b"ZF":  # joblib < 0.10 zlib container: 'ZF' + 19-byte hex length
        return zlib.decompress(data[21:]), "joblib-zf"
    if data[:1] == b"\x78" and data[1:2] in (b"\x01", b"\x5e", b"\x9c", b"\xda"):
        return zlib.decompress(data), "zlib"
    return None, None


def _torch_legacy(data):
    # pickle 1 is the magic number: PROTO 2, LONG1 10 bytes.
    if data[:4] != b"\x80\x02\x8a\x0a":
        return False
    return int.from_bytes(data[4:14], "little") == TORCH_LEGACY_MAGIC


def _npy_pickle_offset(data):
    if data[:6] != b"\x93NUMPY":
        return None
    major = data[6]
    if major == 1:
        hlen = struct.unpack("<H", data[8:10])[0]
        off = 10
    else:
        hlen = struct.unpack("<I", data[8:12])[0]
        off = 12
    header = data[off:off + hlen].decode("latin1")
    if "'O'" in header or '"O"' in header or "|O" in header:
        return off + hlen
    return -1


def analyse_bytes(data, name="", depth=0):
    """Returns (uses, notes): notes lists the views read and any parse error."""
    uses = Uses()
    notes = []
    if depth > 4:
        notes.append("nesting too deep")
        return uses, notes
    if data[:4] == b"PK\x03\x04" or data[:4] == b"PK\x05\x06":
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            for info in z.infolist():
                n = info.filename
                if n.endswith("/"):
                    continue
                raw = z.read(n)
                if n.endswith(".pkl") or n.endswith(".npy") or _looks_pickle(raw) or raw[:4] == b"PK\x03\x04":
                    u, nn = analyse_bytes(raw, n, depth + 1)
                    uses.merge(u)
                    notes += [f"{n}: {x}" for x in nn]
        return uses, notes
    if data[257:262] == b"ustar":
        with tarfile.open(fileobj=io.BytesIO(data)) as t:
            for m in t.getmembers():
                if not m.isfile():
                    continue
                raw = t.extractfile(m).read()
                if _looks_pickle(raw) or raw[:4] == b"PK\x03\x04" or m.name.endswith((".ckpt", ".pt", ".pkl", ".bin")):
                    u, nn = analyse_bytes(raw, m.name, depth + 1)
                    uses.merge(u)
                    notes += [f"{m.name}: {x}" for x in nn]
        return uses, notes
    off = _npy_pickle_offset(data)
    if off is not None:
        if off >= 0:
            c, err = scan_stream(data, uses, start=off, max_pickles=1)
            notes.append("npy object array" + (f" error {err}" if err else ""))
        else:
            notes.append("npy numeric (no pickle)")
        return uses, notes
    raw, kind = _decompress(data)
    if raw is not None:
        u, nn = analyse_bytes(raw, name, depth + 1)
        notes += [f"{kind}: {x}" for x in nn]
        return u, notes
    if _torch_legacy(data):
        c, err = scan_stream(data, uses, max_pickles=5)
        notes.append(f"torch legacy: {c} pickles" + (f", error {err}" if err else ""))
        return uses, notes
    joblib = b"NumpyArrayWrapper" in data[:1 << 20] or b"joblib" in data[:4096]
    c, err = scan_stream(data, uses, joblib=joblib)
    notes.append(f"{c} pickle(s)" + (" joblib" if joblib else "") + (f", error {err}" if err else ""))
    return uses, notes


def _looks_pickle(raw):
    return raw[:1] == b"\x80" and raw[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")


def analyse_file(path):
    with open(path, "rb") as fh:
        return analyse_bytes(fh.read(), path)


if __name__ == "__main__":
    import sys

    for p in sys.argv[1:]:
        u, notes = analyse_file(p)
        print(p, notes)
        for (m, n), use in sorted(u.uses.items()):
            print(f"  {use:7} {m}.{n}")
