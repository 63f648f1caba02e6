#!/usr/bin/env python3
"""Random valid pickles, judged by CPython's C unpickler, compared with modelgate.

    python3 scripts/differential/gen_pickles.py --seed 1 --count 300 --out DIR
        [--modelgate PATH] [--report FILE] [--no-check]

Writes DIR/NNNNN.pkl and DIR/pickles.jsonl (one ground-truth line per case and loader),
then (unless --no-check) scans DIR with `modelgate scan DIR --no-config -f json` and
writes a disagreement report (see compare.py).

Every case is an opcode program built at random (protocols 0-5, every opcode the C
unpickler knows except NEXT_BUFFER/READONLY_BUFFER's out-of-band use), or the output of
the real `pickle.dumps` of random objects, or several of those in a row. A case is kept
only if CPython's C unpickler loads it (recorder.py: stand-ins for every global, so
nothing real is imported or called).
"""

import argparse
import io
import json
import os
import pickle
import random
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import recorder  # noqa: E402

# Globals the programs import: known-safe ML globals, unknown ones, dangerous ones,
# dotted names, Python 2 names. All are stand-ins when loaded.
POOL = [
    ("collections", "OrderedDict"),
    ("torch._utils", "_rebuild_tensor_v2"),
    ("torch", "FloatStorage"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy", "dtype"),
    ("numpy", "ndarray"),
    ("builtins", "set"),
    ("builtins", "complex"),
    ("builtins", "slice"),
    ("_codecs", "encode"),
    ("copy_reg", "_reconstructor"),
    ("copyreg", "_reconstructor"),
    ("__builtin__", "object"),
    ("datetime", "datetime"),
    ("mypkg.models", "Net"),
    ("foo", "Bar"),
    ("builtins", "print"),
    ("posix", "system"),
    ("os", "system"),
    ("nt", "system"),
    ("builtins", "eval"),
    ("__builtin__", "eval"),
    ("builtins", "exec"),
    ("subprocess", "Popen"),
    ("subprocess", "check_output"),
    ("runpy", "_run_code"),
    ("operator", "attrgetter"),
    ("builtins", "getattr"),
    ("socket", "create_connection"),
    ("shutil", "rmtree"),
    ("webbrowser", "open"),
    ("pickle", "loads"),
    ("_pickle", "loads"),
    ("torch", "load"),
    ("pathlib", "os.system"),
    ("asyncio.unix_events", "_UnixSubprocessTransport"),
    ("pty", "spawn"),
]
SAFE_POOL = POOL[:14]
DANGER_POOL = [g for g in POOL if g not in SAFE_POOL]
COMPUTERS = [("builtins", "str"), ("operator", "add"), ("_operator", "add"), ("__builtin__", "str")]

# copyreg extension codes registered in the recording process (EXT1/EXT2/EXT4 ranges).
EXTENSIONS = [
    ("posix", "system", 7),
    ("collections", "OrderedDict", 200),
    ("builtins", "eval", 300),
    ("mypkg.models", "Net", 40000),
    ("os", "system", 70000),
    ("subprocess", "Popen", 0x7FFFFFF0),
]

# Generator features that can be switched off (--exclude) to look for disagreements
# other than the ones they are known to cause.
EXCLUDABLE = {
    "text-variants": "INT/LONG/FLOAT/PUT/GET arguments spelled other than str(v)",
    "string-escapes": "STRING bodies with escapes (a literal body instead)",
    "multi-pickle": "several pickles in a row in one file",
    "frames": "FRAME opcodes",
    "ext": "EXT1/EXT2/EXT4",
    "computed": "STACK_GLOBAL operands computed by a call",
}
EXCLUDE = set()

MARKER_ARGS = ["echo MARKER", "touch marker", "print('MARKER')", "marker"]


def text_int_forms(v):
    """Spellings of v that `load_int` (strtol base 0, then PyLong_FromString base 0 on the
    NUL-terminated line) reads as v. The `len == 3` rule makes `00`/`01` bools."""
    forms = [str(v)]
    if "text-variants" in EXCLUDE:
        return forms
    a = abs(v)
    sign = "-" if v < 0 else ""
    forms += [sign + "0x%x" % a, sign + "0X%X" % a, " " + str(v), str(v) + " ", str(v) + "\0junk"]
    if v >= 0:
        forms.append("+" + str(v))
    if a > 0:
        forms += [sign + "0%o" % a, sign + "0o%o" % a, sign + "0b" + bin(a)[2:]]
    if a >= 10:
        s = str(a)
        forms.append(sign + s[0] + "_" + s[1:])
    return forms


def text_long_forms(v):
    """Spellings `load_long` reads as v (trailing L optional, PyLong_FromString base 0)."""
    a = abs(v)
    sign = "-" if v < 0 else ""
    if "text-variants" in EXCLUDE:
        return [str(v) + "L"]
    forms = [str(v) + "L", str(v), sign + "0x%xL" % a, " " + str(v) + "L", str(v) + "\0zzL"]
    if a >= 10:
        s = str(a)
        forms.append(sign + s[0] + "_" + s[1:] + "L")
    return forms


def text_index_forms(i):
    """Spellings of a memo index for PUT/GET (PyLong_FromString base 10)."""
    if "text-variants" in EXCLUDE:
        return [str(i)]
    forms = [str(i), " %d" % i, "%d " % i, "+%d" % i, "0%d" % i, "%d\0x" % i]
    if i >= 10:
        s = str(i)
        forms.append(s[0] + "_" + s[1:])
    return forms


def string_escape(s, rng):
    """A protocol-0 STRING body that PyBytes_DecodeEscape decodes to s (ASCII)."""
    named = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\v": "\\v", "\t": "\\t", "\n": "\\n", "\r": "\\r"}
    out = []
    for idx, ch in enumerate(s):
        o = ord(ch)
        nxt = s[idx + 1] if idx + 1 < len(s) else ""
        r = rng.random()
        if ch == "\\":
            out.append("\\\\")
        elif ch in named and r < 0.7:
            out.append(named[ch])
        elif ch == "\n" or ch == "\r" or ch == "\0":
            out.append("\\%03o" % o)
        elif r < 0.15:
            out.append("\\%03o" % o)
        elif r < 0.22 and nxt not in "01234567":
            out.append("\\%o" % o)
        elif r < 0.35:
            out.append("\\x%02x" % o)
        elif r < 0.4:
            out.append("\\X%02X" % o if False else "\\x%02X" % o)
        elif ch in "'\"" and r < 0.7:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def raw_unicode_escape(s, rng):
    out = []
    for ch in s:
        o = ord(ch)
        if ch in "\\\n\r\0\x1a" or o > 0xFF or rng.random() < 0.2:
            out.append("\\u%04x" % o if o <= 0xFFFF and rng.random() < 0.8 else "\\U%08x" % o)
        else:
            out.append(ch)
    return "".join(out).encode("latin-1")


class Prog:
    """One pickle: a list of opcode chunks (framed afterwards for protocol 4+)."""

    def __init__(self, rng, proto, persistent, data_only=False, features=None):
        self.rng = rng
        self.proto = proto
        self.persistent = persistent
        self.data_only = data_only
        self.chunks = []
        self.memo = {}  # index -> tag
        self.features = features if features is not None else set()
        self.depth = 0

    def op(self, b, feature=None):
        self.chunks.append(bytes(b))
        if feature:
            self.features.add(feature)

    # ---------- memo ----------
    def maybe_put(self, tag):
        r = self.rng.random()
        if r > 0.3:
            return
        k = self.rng.random()
        if k < 0.35 and self.proto >= 4:
            idx = len(self.memo)
            self.op(b"\x94", "MEMOIZE")
        elif k < 0.55:
            idx = self.rng.choice([len(self.memo), self.rng.randrange(0, 300)])
            form = self.rng.choice(text_index_forms(idx))
            self.op(b"p" + form.encode() + b"\n", "PUT" if form == str(idx) else "PUT-text-variant")
        elif k < 0.85:
            idx = self.rng.randrange(0, 256)
            self.op(b"q" + bytes([idx]), "BINPUT")
        else:
            idx = self.rng.randrange(0, 1 << 20)
            self.op(b"r" + struct.pack("<I", idx), "LONG_BINPUT")
        self.memo[idx] = tag

    def get(self, pred):
        cands = [i for i, t in self.memo.items() if pred(t)]
        if not cands:
            return None
        idx = self.rng.choice(cands)
        k = self.rng.random()
        if k < 0.3:
            form = self.rng.choice(text_index_forms(idx))
            self.op(b"g" + form.encode() + b"\n", "GET" if form == str(idx) else "GET-text-variant")
        elif k < 0.7 and idx < 256:
            self.op(b"h" + bytes([idx]), "BINGET")
        else:
            self.op(b"j" + struct.pack("<I", idx), "LONG_BINGET")
        return self.memo[idx]

    # ---------- scalars ----------
    def v_int(self):
        rng = self.rng
        v = rng.choice([0, 1, 2, 7, 255, 256, 65535, 65536, -1, -300, 2**31 - 1, -(2**31), 2**40, -(2**63), 10**30, rng.randrange(-10**6, 10**6)])
        k = rng.random()
        if k < 0.25:
            form = rng.choice(text_int_forms(v))
            self.op(b"I" + form.encode() + b"\n", "INT" if form == str(v) else "INT-text-variant")
        elif k < 0.35:
            form = rng.choice(text_long_forms(v))
            self.op(b"L" + form.encode() + b"\n", "LONG" if form == str(v) + "L" else "LONG-text-variant")
        elif k < 0.45:
            self.op(b"I0%d\n" % rng.choice([0, 1]), "INT-bool")
        elif 0 <= v < 256 and k < 0.6:
            self.op(b"K" + bytes([v]), "BININT1")
        elif 0 <= v < 65536 and k < 0.7:
            self.op(b"M" + struct.pack("<H", v), "BININT2")
        elif -(2**31) <= v < 2**31 and k < 0.8:
            self.op(b"J" + struct.pack("<i", v), "BININT")
        else:
            n = (v.bit_length() + 8) // 8 if v else rng.choice([0, 1])
            b = v.to_bytes(n, "little", signed=True) if n else b""
            if rng.random() < 0.8:
                self.op(b"\x8a" + bytes([n]) + b, "LONG1")
            else:
                self.op(b"\x8b" + struct.pack("<i", n) + b, "LONG4")
        return ("int",)

    def v_float(self):
        rng = self.rng
        v = rng.choice([0.5, -1.25, 1e300, 3.0, 1e-5])
        k = rng.random()
        if k < 0.4:
            form = repr(v) if "text-variants" in EXCLUDE else rng.choice([repr(v), "%.3e" % v, repr(v) + "\0zz", "inf", "-inf", "nan", "1E3", "Infinity"])
            self.op(b"F" + form.encode() + b"\n", "FLOAT" if form == repr(v) else "FLOAT-text-variant")
        else:
            self.op(b"G" + struct.pack(">d", v), "BINFLOAT")
        return ("float",)

    def rand_text(self):
        rng = self.rng
        k = rng.random()
        if k < 0.4:
            return rng.choice(["weight", "bias", "layer.0", "state_dict", "x", "", "a b", "quote'd", 'dq"s'])
        if k < 0.7:
            return "".join(rng.choice("abcdefghij_.0123\t\n\\'\" \x07") for _ in range(rng.randrange(0, 12)))
        return "".join(chr(rng.choice([0x41, 0x7A, 0xE9, 0x20AC, 0x1F600, 0x5C, 0x0A])) for _ in range(rng.randrange(1, 6)))

    def v_str(self, s=None, allow_get=True, allow_computed=True):
        rng = self.rng
        if s is None:
            s = self.rand_text()
        if allow_get and rng.random() < 0.25:
            t = self.get(lambda t: t[0] == "str" and t[1] == s)
            if t is not None:
                self.features.add("str-from-memo")
                return t
        if allow_computed and "computed" not in EXCLUDE and not self.data_only and self.depth < 4 and len(s) >= 2 and rng.random() < 0.06:
            self.depth += 1
            m, n = rng.choice(COMPUTERS)
            self.v_global_plain(m, n)
            cut = rng.randrange(1, len(s))
            if n == "str":
                self.v_str(s, allow_computed=False)
                self.op(b"\x85", "TUPLE1")
            else:
                self.v_str(s[:cut], allow_computed=False)
                self.v_str(s[cut:], allow_computed=False)
                self.op(b"\x86", "TUPLE2")
            self.op(b"R", "computed-string")
            self.depth -= 1
            tag = ("str", s)
            self.maybe_put(tag)
            return tag
        ascii_ok = all(ord(c) < 128 for c in s)
        latin = all(ord(c) < 256 for c in s)
        enc = s.encode("utf-8", "surrogatepass")
        choices = []
        if ascii_ok and not ("string-escapes" in EXCLUDE and any(c in s for c in "\\\n\r\0")):
            choices += ["STRING"] * 3 + ["BINSTRING", "SHORT_BINSTRING"]
        choices += ["UNICODE"] * 2
        if self.proto >= 1 or rng.random() < 0.1:
            choices += ["BINUNICODE"] * 2
        if self.proto >= 4 or rng.random() < 0.1:
            choices += ["SHORT_BINUNICODE"] * 4 + ["BINUNICODE8"]
        if self.proto == 0:
            choices = [c for c in choices if c in ("STRING", "UNICODE")] or choices
        kind = rng.choice(choices)
        if kind == "STRING":
            q = rng.choice("'\"")
            body = s if "string-escapes" in EXCLUDE else string_escape(s, rng)
            self.op(b"S" + q.encode() + body.encode() + q.encode() + b"\n", "STRING-escapes" if body != s else "STRING")
        elif kind == "BINSTRING":
            self.op(b"T" + struct.pack("<i", len(enc)) + enc, kind)
        elif kind == "SHORT_BINSTRING" and len(enc) < 256:
            self.op(b"U" + bytes([len(enc)]) + enc, kind)
        elif kind == "UNICODE" or (kind == "SHORT_BINSTRING"):
            self.op(b"V" + raw_unicode_escape(s, rng) + b"\n", "UNICODE")
        elif kind == "BINUNICODE":
            self.op(b"X" + struct.pack("<I", len(enc)) + enc, kind)
        elif kind == "SHORT_BINUNICODE" and len(enc) < 256:
            self.op(b"\x8c" + bytes([len(enc)]) + enc, kind)
        else:
            self.op(b"\x8d" + struct.pack("<Q", len(enc)) + enc, "BINUNICODE8")
        tag = ("str", s)
        self.maybe_put(tag)
        return tag

    def v_bytes(self):
        rng = self.rng
        b = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 20)))
        k = rng.random()
        if k < 0.4:
            self.op(b"C" + bytes([len(b)]) + b, "SHORT_BINBYTES")
        elif k < 0.7:
            self.op(b"B" + struct.pack("<I", len(b)) + b, "BINBYTES")
        elif k < 0.85:
            self.op(b"\x8e" + struct.pack("<Q", len(b)) + b, "BINBYTES8")
        else:
            self.op(b"\x96" + struct.pack("<Q", len(b)) + b, "BYTEARRAY8")
            return ("bytearray",)
        return ("bytes",)

    def v_scalar(self, hashable=False):
        k = self.rng.random()
        if k < 0.1:
            self.op(b"N", "NONE")
            t = ("none",)
        elif k < 0.18:
            self.op(self.rng.choice([b"\x88", b"\x89"]), "NEWTRUE/NEWFALSE")
            t = ("bool",)
        elif k < 0.45:
            t = self.v_int()
        elif k < 0.55:
            t = self.v_float()
        elif k < 0.85 or hashable:
            t = self.v_str()
            return t
        else:
            t = self.v_bytes()
            if t[0] == "bytearray" and hashable:
                self.op(b"0", "POP")
                return self.v_scalar(hashable=True)
        self.maybe_put(t)
        return t

    # ---------- containers ----------
    def items(self, n, hashable=False):
        for _ in range(n):
            if hashable:
                self.v_scalar(hashable=True)
            else:
                self.v_any()

    def v_tuple(self, n=None, hashable=False):
        rng = self.rng
        if n is None:
            n = rng.randrange(0, 5)
        if n == 0 and rng.random() < 0.6:
            self.op(b")", "EMPTY_TUPLE")
        elif 1 <= n <= 3 and rng.random() < 0.6:
            self.items(n, hashable)
            self.op(bytes([0x84 + n]), "TUPLE%d" % n)
        else:
            self.op(b"(", "MARK")
            self.items(n, hashable)
            self.op(b"t", "TUPLE")
        t = ("tuple",)
        self.maybe_put(t)
        return t

    def v_list(self):
        rng = self.rng
        n = rng.randrange(0, 5)
        k = rng.random()
        if k < 0.4:
            self.op(b"]", "EMPTY_LIST")
            self.maybe_put(("list",))
            if n and rng.random() < 0.5:
                self.op(b"(", "MARK")
                self.items(n)
                self.op(b"e", "APPENDS")
            else:
                for _ in range(n):
                    self.v_any()
                    self.op(b"a", "APPEND")
            if rng.random() < 0.1:
                self.op(b"(e", "APPENDS-empty")
        else:
            self.op(b"(", "MARK")
            self.items(n)
            self.op(b"l", "LIST")
        t = ("list",)
        self.maybe_put(t)
        return t

    def v_dict(self, n=None, str_keys=False):
        rng = self.rng
        if n is None:
            n = rng.randrange(0, 4)
        k = rng.random()

        def pair():
            if str_keys:
                self.v_str(self.rng.choice(["a", "b", "eps", "k"]))
            else:
                self.v_scalar(hashable=True)
            self.v_any()

        if k < 0.5:
            self.op(b"}", "EMPTY_DICT")
            self.maybe_put(("dict",))
            if n and rng.random() < 0.5:
                self.op(b"(", "MARK")
                for _ in range(n):
                    pair()
                self.op(b"u", "SETITEMS")
            else:
                for _ in range(n):
                    pair()
                    self.op(b"s", "SETITEM")
        else:
            self.op(b"(", "MARK")
            for _ in range(n):
                pair()
            self.op(b"d", "DICT")
        t = ("dict",)
        self.maybe_put(t)
        return t

    def v_set(self):
        rng = self.rng
        n = rng.randrange(0, 4)
        if rng.random() < 0.5:
            self.op(b"\x8f", "EMPTY_SET")
            self.op(b"(", "MARK")
            self.items(n, hashable=True)
            self.op(b"\x90", "ADDITEMS")
            t = ("set",)
        else:
            self.op(b"(", "MARK")
            self.items(n, hashable=True)
            self.op(b"\x91", "FROZENSET")
            t = ("frozenset",)
        self.maybe_put(t)
        return t

    # ---------- globals and calls ----------
    def pick_global(self):
        r = self.rng.random()
        if r < 0.45:
            return self.rng.choice(SAFE_POOL)
        return self.rng.choice(DANGER_POOL)

    def v_global_plain(self, m, n):
        self.op(b"c" + m.encode() + b"\n" + n.encode() + b"\n", "GLOBAL")
        t = ("global", m, n)
        self.maybe_put(t)
        return t

    def v_global(self, g=None):
        rng = self.rng
        m, n = g or self.pick_global()
        k = rng.random()
        if k < 0.12:
            t = self.get(lambda t: t[0] == "global")
            if t is not None:
                self.features.add("global-from-memo")
                return t
        if k < 0.4:
            return self.v_global_plain(m, n)
        if k < 0.5 and "ext" not in EXCLUDE:
            exts = [e for e in EXTENSIONS if (e[0], e[1]) == (m, n)] or EXTENSIONS
            em, en, code = rng.choice(exts)
            if code < 256:
                self.op(b"\x82" + bytes([code]), "EXT1")
            elif code < 65536:
                self.op(b"\x83" + struct.pack("<H", code), "EXT2")
            else:
                self.op(b"\x84" + struct.pack("<i", code), "EXT4")
            t = ("global", em, en)
            self.maybe_put(t)
            return t
        # STACK_GLOBAL, its operands possibly memoised, computed, or put through no-ops.
        self.v_str(m)
        if rng.random() < 0.2:
            self.noise()
        self.v_str(n)
        self.op(b"\x93", "STACK_GLOBAL")
        t = ("global", m, n)
        self.maybe_put(t)
        return t

    def args_tuple(self, danger):
        rng = self.rng
        if danger and rng.random() < 0.7:
            if rng.random() < 0.7:
                self.v_str(rng.choice(MARKER_ARGS))
                self.op(b"\x85", "TUPLE1")
            else:
                self.op(b"(", "MARK")
                self.v_str(rng.choice(MARKER_ARGS))
                self.op(b"t", "TUPLE")
            self.maybe_put(("tuple",))
            return
        self.v_tuple()

    def v_call(self):
        rng = self.rng
        self.depth += 1
        k = rng.random()
        g = self.pick_global()
        danger = g in DANGER_POOL
        if k < 0.45:
            self.v_global(g)
            if rng.random() < 0.1:
                self.noise()
            self.args_tuple(danger)
            self.op(b"R", "REDUCE")
        elif k < 0.6:
            self.op(b"(", "MARK")
            self.v_global(g)
            for _ in range(rng.randrange(0, 3)):
                self.v_any()
            self.op(b"o", "OBJ")
        elif k < 0.75:
            m, n = g
            self.op(b"(", "MARK")
            if danger and rng.random() < 0.5:
                self.v_str(rng.choice(MARKER_ARGS))
            for _ in range(rng.randrange(0, 2)):
                self.v_any()
            self.op(b"i" + m.encode() + b"\n" + n.encode() + b"\n", "INST")
        elif k < 0.9:
            self.v_global(g)
            self.args_tuple(danger)
            self.op(b"\x81", "NEWOBJ")
        else:
            self.v_global(g)
            self.args_tuple(danger)
            self.v_dict(rng.randrange(0, 2), str_keys=True)
            self.op(b"\x92", "NEWOBJ_EX")
        if rng.random() < 0.3:
            kk = rng.random()
            if kk < 0.5:
                self.v_dict()
            elif kk < 0.7:
                self.op(b"N", "NONE")
            else:
                self.v_dict(1, str_keys=True)
                self.v_dict(1, str_keys=True)
                self.op(b"\x86", "TUPLE2")
            self.op(b"b", "BUILD")
        self.depth -= 1
        t = ("call",)
        self.maybe_put(t)
        return t

    def v_persid(self):
        if self.rng.random() < 0.5:
            pid = self.rng.choice(["0", "storage", "data/1", "x y"])
            self.op(b"P" + pid.encode() + b"\n", "PERSID")
        else:
            self.v_tuple(self.rng.randrange(0, 3))
            self.op(b"Q", "BINPERSID")
        t = ("persistent",)
        self.maybe_put(t)
        return t

    def v_any(self):
        rng = self.rng
        if self.depth > 5:
            return self.v_scalar()
        if rng.random() < 0.08:
            t = self.get(lambda t: True)
            if t is not None:
                return t
        k = rng.random()
        self.depth += 1
        try:
            if k < 0.4:
                t = self.v_scalar()
            elif k < 0.5:
                t = self.v_tuple()
            elif k < 0.6:
                t = self.v_list()
            elif k < 0.68:
                t = self.v_dict()
            elif k < 0.72:
                t = self.v_set()
            elif k < 0.75 and self.persistent:
                t = self.v_persid()
            elif self.data_only:
                t = self.v_scalar()
            elif k < 0.82:
                t = self.v_global()
            else:
                t = self.v_call()
        finally:
            self.depth -= 1
        if rng.random() < 0.04:
            self.op(b"20", "DUP+POP")
        if t[0] in ("list", "dict", "tuple") and rng.random() < 0.05:
            self.op(b"Nb", "BUILD-None-on-builtin")
        return t

    def noise(self):
        """Stack-neutral opcode sequences a normal pickler never writes."""
        rng = self.rng
        k = rng.random()
        if k < 0.2:
            self.op(b"(0", "MARK+POP-pops-mark")
        elif k < 0.4:
            self.v_any()
            self.op(b"0", "POP")
        elif k < 0.6:
            self.op(b"(", "MARK")
            for _ in range(rng.randrange(0, 3)):
                self.v_any()
            self.op(b"1", "POP_MARK")
        elif k < 0.75:
            self.op(b"\x80" + bytes([rng.randrange(0, 6)]), "PROTO-midstream")
        elif k < 0.9:
            self.v_any()
            self.op(b"2", "DUP")
            self.op(b"0", "POP")
            self.op(b"0", "POP")
        elif "frames" not in EXCLUDE:
            self.op(b"\x95" + struct.pack("<Q", 0), "FRAME-empty")

    def build(self, shape):
        rng = self.rng
        if self.proto >= 2:
            self.op(b"\x80" + bytes([self.proto]), "PROTO")
        elif rng.random() < 0.05:
            self.op(b"\x80" + bytes([self.proto]), "PROTO-0/1")
        if rng.random() < 0.15:
            # Values left under the result: STOP pops only the top.
            self.v_any()
            self.features.add("junk-under-result")
        if rng.random() < 0.08:
            self.op(b"(", "MARK-left-open")
        for _ in range(rng.randrange(0, 3)):
            if rng.random() < 0.5:
                self.noise()
        if shape == "payload" and not self.data_only:
            self.v_call()
        elif shape == "state" and not self.data_only:
            # What torch.save / pickle of an ML object looks like: a dict of calls.
            self.v_dict(rng.randrange(1, 4), str_keys=True)
        else:
            self.v_any()
        if rng.random() < 0.2:
            self.noise()
        self.op(b".", "STOP")

    def frame(self, straddle=False):
        """Protocol 4+: group chunks into FRAMEs (the PROTO op stays outside, as the
        pickler writes it). With straddle, frame ends fall inside opcodes."""
        if self.proto < 4 or "frames" in EXCLUDE or self.rng.random() < 0.2:
            return b"".join(self.chunks)
        head = self.chunks[0] if self.chunks and self.chunks[0].startswith(b"\x80") else b""
        body = b"".join(self.chunks[1:] if head else self.chunks)
        out = bytearray(head)
        if straddle:
            pos = 0
            while pos < len(body):
                n = self.rng.randrange(1, max(2, len(body) - pos + 1))
                out += b"\x95" + struct.pack("<Q", n) + body[pos : pos + n]
                pos += n
            self.features.add("FRAME-straddling")
            return bytes(out)
        # At opcode boundaries, as the pickler does (one frame per ~64 KiB: here random).
        chunks = self.chunks[1:] if head else self.chunks
        i = 0
        while i < len(chunks):
            j = min(len(chunks), i + self.rng.randrange(1, 12))
            part = b"".join(chunks[i:j])
            if self.rng.random() < 0.85:
                out += b"\x95" + struct.pack("<Q", len(part))
            out += part
            i = j
        self.features.add("FRAME")
        return bytes(out)


# ---------- real pickler output ----------
def real_object(rng, depth=0):
    import collections
    import datetime
    import decimal
    import fractions

    k = rng.random()
    if depth > 3 or k < 0.35:
        return rng.choice([0, 1, -5, 2**70, 1.5, "w", "été", b"\x00\x01", None, True, (), "x" * rng.randrange(0, 40)])
    if k < 0.5:
        return [real_object(rng, depth + 1) for _ in range(rng.randrange(0, 4))]
    if k < 0.6:
        return tuple(real_object(rng, depth + 1) for _ in range(rng.randrange(0, 4)))
    if k < 0.7:
        return {rng.choice(["a", "b", 1, 2]): real_object(rng, depth + 1) for _ in range(rng.randrange(0, 4))}
    if k < 0.75:
        return collections.OrderedDict(w=real_object(rng, depth + 1))
    if k < 0.8:
        return datetime.datetime(2020, 1, 2, 3, 4, 5)
    if k < 0.84:
        return decimal.Decimal("1.5")
    if k < 0.88:
        return fractions.Fraction(1, 3)
    if k < 0.92:
        return {1, 2, "s"}
    if k < 0.95:
        return frozenset([3])
    if k < 0.97:
        return bytearray(b"ab")
    x = [1]
    return [x, x, {"self": x}]


def real_pickle(rng, proto):
    obj = real_object(rng)
    return pickle.dumps(obj, protocol=proto)


# ---------- cases ----------
def make_case(rng, idx):
    """Returns (bytes, meta) or None."""
    features = set()
    r = rng.random()
    persistent = rng.random() < 0.15
    n_pickles = 1
    if r < 0.15 and "multi-pickle" not in EXCLUDE:
        n_pickles = rng.randrange(2, 5)
    parts = []
    protos = []
    for i in range(n_pickles):
        proto = rng.randrange(0, 6)
        protos.append(proto)
        last = i == n_pickles - 1
        if rng.random() < 0.15:
            parts.append(real_pickle(rng, proto))
            features.add("real-pickler-p%d" % proto)
            continue
        data_only = (not last) and n_pickles > 1 and rng.random() < 0.5
        if data_only:
            proto = rng.choice([0, 1, proto])
            protos[-1] = proto
            features.add("data-only-before-payload")
        p = Prog(rng, proto, persistent, data_only=data_only, features=features)
        p.build(rng.choice(["payload", "state", "any"]))
        parts.append(p.frame(straddle=rng.random() < 0.15))
        features.add("proto%d" % proto)
    if n_pickles > 1:
        features.add("multi-pickle")
    if persistent:
        features.add("persistent_load")
    return b"".join(parts), {"protos": protos, "pickles": n_pickles, "persistent": persistent, "features": sorted(f for f in features if f)}


def scale_cases():
    """Large benign cases that exercise the scanner's limits (not random)."""
    out = []
    # A py2-era pickle: one long STRING line (300 KB, over the emulator's 256 KiB line).
    s = "A" * 300_000
    out.append((b"(dp0\nS'payload'\np1\nS'" + s.encode() + b"'\np2\ns.", "long STRING line (300 KB)"))
    # A benign list of more than a million small items on the stack (MARK ... APPENDS).
    out.append((b"\x80\x02]q\x00(" + b"N" * 1_000_001 + b"e.", "list of 1,000,001 None under one MARK"))
    return out


def curated_cases():
    """Hand-built minimal cases, one per disagreement class found (each still has to load
    in CPython to be kept). (bytes, note, pickles, persistent)."""
    sysc = b"cposix\nsystem\n(S'echo MARKER'\ntR."
    c = [
        (b"I0x1f\n0" + sysc, "INT in hex (strtol base 0), then posix.system", 1),
        (b"I1_0\n0" + sysc, "INT with an underscore (PyLong_FromString fallback), then posix.system", 1),
        (b"I5\x00junk\n0" + sysc, "INT with a NUL after the digits, then posix.system", 1),
        (b"I017\n0" + sysc, "INT in C octal, then posix.system", 1),
        (b"L0x1fL\n0" + sysc, "LONG in hex, then posix.system", 1),
        (b"F1.5\x00z\n0" + sysc, "FLOAT with a NUL after the number, then posix.system", 1),
        (b"cposix\nsystem\np1_0\n0g10\n(S'echo MARKER'\ntR.", "PUT 1_0 / GET 10 (PyLong_FromString base 10 allows underscores)", 1),
        (b"cposix\nsystem\np 3\x00x\n0g3\n(S'echo MARKER'\ntR.", "PUT with a leading space and a NUL", 1),
        (b"\x80\x04S'p\\157six'\nS'system'\n\x93S'echo MARKER'\n\x85R.", "STRING octal escape in a STACK_GLOBAL module name", 1),
        (b"\x80\x04S'posi\\x78'\nS'system'\n\x93S'echo MARKER'\n\x85R.", "STRING \\x escape as the last characters", 1),
        (b"\x80\x04S'os'\nS'sys\\x74em'\n\x93S'\\a'\n\x85R.", "STRING \\x escape in the name, \\a as the argument", 1),
        (b"\x80\x04V\\\\u0070osix\nVsystem\n\x93S'x'\n\x85R.", "UNICODE: an even number of backslashes before u is no escape (raw-unicode-escape)", 1),
        (b"N.N." + sysc, "two data-only protocol 0 pickles in front of an importing one", 3),
        (b"K\x01.]." + sysc, "two data-only pickles (BININT1, EMPTY_LIST) in front", 3),
        (b"\x80\x01N." + sysc, "a PROTO 1 data-only pickle in front", 2),
        (b"cbuiltins\nset\n)R." * 64 + sysc, "the payload in the 65th pickle of a row", 65),
        (b"c__builtin__\nreduce\n(cbuiltins\nslice\n(I1\ntI2\ntR.", "protocol 0: __builtin__.reduce is functools.reduce (_compat_pickle)", 1),
        (b"ccStringIO\nopen\n(S'marker'\nS'w'\ntR.", "protocol 0: cStringIO.open is io.open (_compat_pickle)", 1),
        (b"N.garbage", "a data-only pickle followed by bytes that are not a pickle", 1),
        (b"\x80\x02N.\x80\x00]." + sysc, "PROTO 0 header in the second pickle", 3),
        (b"cbuiltins\nset\n)R.I0x1f\n0" + sysc, "a later pickle that the emulator rejects before its first import is dropped without a finding", 2),
    ]
    return c


def effective(imports, proto_lt3):
    """What find_class really imports: `_compat_pickle` maps Python 2 names when the
    stream's protocol is below 3 (fix_imports)."""
    import _compat_pickle as cp

    out = []
    for m, n in imports:
        if not proto_lt3:
            continue
        if (m, n) in cp.NAME_MAPPING:
            out.append([m, n] + list(cp.NAME_MAPPING[(m, n)]))
        elif m in cp.IMPORT_MAPPING:
            out.append([m, n, cp.IMPORT_MAPPING[m], n])
    return out


def ground_truth(path, data, meta):
    """Ground-truth lines for one case."""
    lines = []
    first = recorder.record_loads(data, persistent=meta["persistent"])
    lines.append({"loader": "pickle.loads", **first})
    if meta["pickles"] > 1:
        rep = recorder.record_load_repeated(path, persistent=meta["persistent"])
        lines.append({"loader": "pickle.load", **rep})
    return lines


def main(argv=None):
    if os.environ.get("PYTHONHASHSEED") != "0":
        # Set and frozenset reprs in the ground truth depend on string hashing.
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable] + sys.argv)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--out", required=True)
    ap.add_argument("--modelgate", default="modelgate")
    ap.add_argument("--report", default=None, help="write the disagreement report (Markdown) here")
    ap.add_argument("--no-check", action="store_true")
    ap.add_argument("--exclude", default="", help="comma-separated features to leave out: " + ", ".join(sorted(EXCLUDABLE)))
    ap.add_argument("--no-curated", action="store_true", help="leave out the hand-built cases")
    ap.add_argument("--scale-cases", action="store_true", help="also write the large limit cases")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    for x in filter(None, args.exclude.split(",")):
        if x not in EXCLUDABLE:
            ap.error("unknown feature %r" % x)
        EXCLUDE.add(x)
    recorder.register_extensions(EXTENSIONS)
    rng = random.Random(args.seed)
    lines = []
    kept = tried = 0
    while kept < args.count:
        tried += 1
        data, meta = make_case(rng, kept)
        name = "p%05d.pkl" % kept
        path = os.path.join(args.out, name)
        with open(path, "wb") as f:
            f.write(data)
        gt = ground_truth(path, data, meta)
        if not all(g["loads"] for g in gt):
            os.unlink(path)
            continue
        for g in gt:
            lines.append(line_for(name, g, meta))
        kept += 1
    if not args.no_curated:
        for i, (data, note, npk) in enumerate(curated_cases()):
            name = "c%02d.pkl" % i
            path = os.path.join(args.out, name)
            with open(path, "wb") as f:
                f.write(data)
            meta = {"persistent": False, "pickles": npk, "features": ["curated"], "protos": []}
            gt = ground_truth(path, data, meta)
            if not all(g["loads"] for g in gt):
                print("curated case %s does not load: %s" % (name, [g["error"] for g in gt]), file=sys.stderr)
                os.unlink(path)
                continue
            for g in gt:
                ln = line_for(name, g, meta, note)
                ln["effective"] = effective(ln["imports"], not data.startswith(b"\x80") or data[1] < 3)
                lines.append(ln)
    if args.scale_cases:
        for i, (data, note) in enumerate(scale_cases()):
            name = "scale%02d.pkl" % i
            path = os.path.join(args.out, name)
            with open(path, "wb") as f:
                f.write(data)
            meta = {"persistent": False, "pickles": 1, "features": ["scale"], "protos": []}
            for g in ground_truth(path, data, meta):
                assert g["loads"], (note, g)
                lines.append(line_for(name, g, meta, note))
    with open(os.path.join(args.out, "pickles.jsonl"), "w") as f:
        for ln in lines:
            f.write(json.dumps(ln, sort_keys=True) + "\n")
    print("generated %d cases (%d tried, %d rejected by CPython)" % (kept, tried, tried - kept), file=sys.stderr)
    if not args.no_check:
        import compare

        rc = compare.main(["--cases", args.out, "--truth", "pickles.jsonl", "--modelgate", args.modelgate, ] + (["--report", args.report] if args.report else []))
        return rc
    return 0


def line_for(name, g, meta, note=None):
    calls = [[c[0], c[1], c[2]] for c in g["calls"]]
    ln = {
        "file": name,
        "loader": g["loader"],
        "loads": g["loads"],
        "imports": [[i[0], i[1]] for i in g["imports"]],
        "calls": calls,
        "call_args": [c[4] for c in g["calls"]],
        "computed": [[i[0], i[1]] for i in g["imports"] if i[2]],
        "persistent_load": meta["persistent"],
        "features": meta["features"],
        "note": note or ("%d pickle(s), protocols %s" % (meta["pickles"], meta["protos"])),
    }
    if g["loader"] == "pickle.load":
        ln["pickles"] = g["pickles"]
    return ln


if __name__ == "__main__":
    sys.exit(main())
