#!/usr/bin/env python3
"""Build src/formats/pickle/data/dangerous_globals.tsv: the pickle globals of the ML
ecosystem that reach a dangerous sink with arguments the pickle chooses.

USAGE (run by hand, CPython 3.11; see README.md beside this file):

    # 1. source trees of the pinned distributions (pip --no-deps --target; nothing is run)
    bash scripts/dangerlist/setup_sources.sh SRC
    # 2. the table
    python3 scripts/dangerlist/build_dangerlist.py --src SRC
    #    options: --root ENV=DIR[,DIR...] (extra trees searched before SRC/ENV, e.g. an
    #             existing venv's site-packages), --hops N (default 4), --keep-covered,
    #             --explain MODULE:NAME (print the call path and stop), --report FILE

The analysed code is parsed with `ast` only: never imported, never executed.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import sys
import sysconfig
import time
import warnings
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import callgraph as CG  # noqa: E402
import sinks as S  # noqa: E402

REPO = HERE.parent.parent
OUT = REPO / "src/formats/pickle/data/dangerous_globals.tsv"
GLOBALS_RS = REPO / "src/formats/pickle/globals.rs"
SAFE_TSV = REPO / "src/formats/pickle/data/safe_globals.tsv"

EMPTY = frozenset()


# ------------------------------------------------------------------------------------------
# Inventory: pinned distributions and their .py files
# ------------------------------------------------------------------------------------------


def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(path):
    pins = defaultdict(dict)
    for line in Path(path).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        env, spec = line.split()
        dist, ver = spec.split("==")
        pins[env][norm(dist)] = ver
    envs = {"main": dict(pins["main"])}
    for env, over in pins.items():
        if env != "main":
            merged = dict(pins["main"])
            merged.update(over)
            envs[env] = merged
    return envs, pins


def dist_infos(root: Path):
    """norm name -> (version, dist-info dir) for every *.dist-info in root."""
    out = {}
    if not root.is_dir():
        return out
    for d in sorted(root.glob("*.dist-info")):
        meta = d / "METADATA"
        if not meta.exists():
            continue
        name = ver = None
        for line in meta.read_text(errors="replace").splitlines():
            if line.startswith("Name:") and name is None:
                name = line.split(":", 1)[1].strip()
            elif line.startswith("Version:") and ver is None:
                ver = line.split(":", 1)[1].strip()
            if name and ver:
                break
        if name:
            out.setdefault(norm(name), (ver, d))
    return out


def dist_files(root: Path, info_dir: Path):
    rec = info_dir / "RECORD"
    files = []
    for line in rec.read_text(errors="replace").splitlines():
        p = line.rsplit(",", 2)[0]
        if p.startswith('"') and p.endswith('"'):
            p = p[1:-1]
        if p.endswith(".py") and not p.startswith(".."):
            files.append(p)
    return sorted(set(files))


def module_name(rel: str):
    parts = rel[:-3].split("/")
    is_pkg = parts[-1] == "__init__"
    if is_pkg:
        parts = parts[:-1]
    if not parts or not all(p.isidentifier() for p in parts):
        return None, False
    return ".".join(parts), is_pkg


STDLIB_SKIP_TOP = {"site-packages", "dist-packages", "lib-dynload", "__pycache__", "__phello__"}


def stdlib_files(stdlib: Path):
    out = []
    for p in sorted(stdlib.rglob("*.py")):
        rel = p.relative_to(stdlib).as_posix()
        top = rel.split("/")[0]
        if top in STDLIB_SKIP_TOP or top.startswith("config-"):
            continue
        # CPython's own regression tests: `test.support` (helpers) is kept, the test
        # cases (`test/test_*.py`, their data folders) are not: distributions ship them
        # separately and they are never a library a model file would name.
        if top == "test" and not (rel.startswith("test/support/") or rel.startswith("test/libregrtest/") or rel == "test/__init__.py"):
            continue
        if "/__pycache__/" in rel:
            continue
        out.append(rel)
    return out


def inventory(env, pins, roots, stdlib):
    """[(module, path, dist)] for the env's pinned dists (first root that has the exact
    version wins) plus the stdlib. Refuses to run if a pin is missing."""
    found = {}
    infos = [(r, dist_infos(r)) for r in roots]
    missing = []
    for dist, ver in sorted(pins.items()):
        for r, inf in infos:
            if dist in inf and inf[dist][0] == ver:
                found[dist] = (ver, r, inf[dist][1])
                break
        else:
            have = sorted({inf[dist][0] for r, inf in infos if dist in inf})
            missing.append(f"{dist}=={ver} (have: {', '.join(have) or 'none'})")
    if missing:
        sys.exit(f"[{env}] pinned distributions not found in the source trees:\n  " + "\n  ".join(missing))
    mods = {}
    for rel in stdlib_files(stdlib):
        name, is_pkg = module_name(rel)
        if name:
            mods.setdefault(name, (str(stdlib / rel), "python", is_pkg))
    for dist, (ver, r, info) in sorted(found.items()):
        for rel in dist_files(r, info):
            name, is_pkg = module_name(rel)
            if name and (r / rel).exists():
                # A dist never overrides the stdlib, nor an earlier dist.
                mods.setdefault(name, (str(r / rel), dist, is_pkg))
    return mods, found


# ------------------------------------------------------------------------------------------
# World: every module, name resolution
# ------------------------------------------------------------------------------------------


class World:
    def __init__(self):
        self.mods: dict[str, CG.ModRec] = {}
        self.funcs: list[CG.FuncRec] = []
        self.parse_errors = []
        self._attr_memo = {}
        self._mro_memo = {}
        self._in_progress = set()
        self._exports_memo = {}

    # -- loading --------------------------------------------------------------------------
    def load(self, mods, progress=True):
        t0 = time.time()
        n = 0
        for name in sorted(mods):
            path, dist, is_pkg = mods[name]
            try:
                src = Path(path).read_bytes()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    tree = ast.parse(src, filename=path)
            except (SyntaxError, ValueError, RecursionError) as e:
                self.parse_errors.append((name, dist, type(e).__name__))
                continue
            mr, todo = CG.parse_module(name, path, dist, is_pkg, tree)
            self.mods[name] = mr
            for fr, fn, cr in todo:
                try:
                    CG.analyse_function(fr, fn, name, is_pkg)
                except RecursionError:
                    self.parse_errors.append((f"{name}.{fr.qual}", dist, "RecursionError"))
                    fr.calls = []
                self.funcs.append(fr)
            del tree
            n += 1
            if progress and n % 2000 == 0:
                print(f"  parsed {n} modules ({time.time() - t0:.0f}s)", file=sys.stderr)

    # -- resolution -----------------------------------------------------------------------
    # Targets: ('func', FuncRec) ('bound', FuncRec) ('class', ClassRec) ('instance', ClassRec)
    # ('module', name) ('ext', qualified name). Each result: (target, names) where names are
    # the qualified names met on the way (for sink matching).

    def resolve(self, ref):
        kind, base, attrs = ref
        if kind == "modname":
            head = attrs[0]
            m = self.mods.get(base)
            if m is not None and (head in m.ns or self._star_has(m, head)):
                cur = self.resolve_attr(base, head)
            else:
                cur = [(("ext", f"builtins.{head}"), frozenset({f"builtins.{head}"}))]
            rest = attrs[1:]
        else:
            if base in self.mods:
                cur = [(("module", base), frozenset({base}))]
            else:
                cur = [(("ext", base), frozenset({base}))]
            rest = attrs
        for a in rest:
            nxt = []
            for t, names in cur:
                for t2, n2 in self.walk(t, a):
                    nxt.append((t2, names | n2))
            cur = nxt[:16]
            if not cur:
                break
        return cur

    def walk(self, t, attr):
        k = t[0]
        if k == "module":
            return self.resolve_attr(t[1], attr)
        if k == "class":
            return self.member(t[1], attr, bound=False)
        if k == "instance":
            return self.member(t[1], attr, bound=True)
        if k in ("func", "bound"):
            s = f"{t[1].canon}.{attr}"
            return [(("ext", s), frozenset({s}))]
        if k == "ext":
            s = f"{t[1]}.{attr}"
            return [(("ext", s), frozenset({s}))]
        return []

    def _exports(self, modname):
        if modname in self._exports_memo:
            return self._exports_memo[modname]
        self._exports_memo[modname] = set()
        m = self.mods.get(modname)
        if m is None:
            return set()
        if m.all is not None:
            out = set(m.all)
        else:
            out = {n for n in m.ns if not n.startswith("_")}
            for s in m.star:
                out |= self._exports(s)
        self._exports_memo[modname] = out
        return out

    def _star_has(self, m, name):
        return any(name in self._exports(s) for s in m.star)

    def resolve_attr(self, modname, name):
        key = (modname, name)
        if key in self._attr_memo:
            return self._attr_memo[key]
        if key in self._in_progress:
            return []
        self._in_progress.add(key)
        raw = f"{modname}.{name}"
        out = []
        m = self.mods.get(modname)
        if m is None:
            out = [(("ext", raw), frozenset({raw}))]
        else:
            for b in m.ns.get(name, ()):
                kind = b[0]
                if kind == "func":
                    out.append((("func", b[1]), frozenset({raw})))
                elif kind == "class":
                    out.append((("class", b[1]), frozenset({raw})))
                elif kind == "ref":
                    for t, n in self.resolve(b[1]):
                        out.append((t, n | {raw}))
                elif kind == "instance":
                    for t, n in self.resolve(b[1]):
                        if t[0] == "class":
                            out.append((("instance", t[1]), frozenset({raw})))
                        elif t[0] == "ext":
                            out.append((("ext", raw), frozenset({raw})))
            if not out and name not in m.ns:
                for s in m.star:
                    if name in self._exports(s):
                        for t, n in self.resolve_attr(s, name):
                            out.append((t, n | {raw}))
            if not out and raw in self.mods:
                out.append((("module", raw), frozenset({raw})))
            if not out and name not in m.ns:
                out.append((("ext", raw), frozenset({raw})))
        # dedupe
        seen = set()
        ded = []
        for t, n in out:
            tk = (t[0], id(t[1]) if not isinstance(t[1], str) else t[1])
            if tk in seen:
                continue
            seen.add(tk)
            ded.append((t, n))
        self._in_progress.discard(key)
        self._attr_memo[key] = ded
        return ded

    def mro(self, cr: CG.ClassRec):
        """Classes (ClassRec) and unparsed bases (str) in depth-first order."""
        key = id(cr)
        if key in self._mro_memo:
            return self._mro_memo[key]
        self._mro_memo[key] = [cr]
        out = [cr]
        seen = {id(cr)}
        for b in cr.bases:
            for t, _ in self.resolve(b)[:4]:
                if t[0] == "class":
                    for c in self.mro(t[1]):
                        ck = id(c) if not isinstance(c, str) else c
                        if ck not in seen:
                            seen.add(ck)
                            out.append(c)
                elif t[0] == "ext" and t[1] not in seen:
                    seen.add(t[1])
                    out.append(t[1])
        self._mro_memo[key] = out
        return out

    def member(self, cr, attr, bound, start_after=None):
        """Attribute `attr` of class `cr`: methods (func/bound), class-level aliases."""
        mro = self.mro(cr)
        if start_after is not None:
            idx = next((i for i, c in enumerate(mro) if c is start_after), -1)
            mro = mro[idx + 1 :]
        for c in mro:
            if isinstance(c, str):
                s = f"{c}.{attr}"
                return [(("ext", s), frozenset({s}))]
            if attr in c.methods:
                fr = c.methods[attr]
                names = frozenset({f"{c.canon}.{attr}"})
                if fr.kind in ("staticmethod", "classmethod") or not bound:
                    return [(("func", fr), names)]
                return [(("bound", fr), names)]
            if attr in c.attrs:
                out = []
                for r, static in c.attrs[attr]:
                    for t, n in self.resolve(r):
                        if t[0] == "func" and bound and not static and t[1].kind in ("function", "method"):
                            t = ("bound", t[1])
                        out.append((t, n | {f"{c.canon}.{attr}"}))
                return out
        s = f"{cr.canon}.{attr}"
        return [(("ext", s), frozenset({s}))]

    def class_sink_names(self, cr, attr=None):
        out = []
        for c in self.mro(cr):
            base = c if isinstance(c, str) else c.canon
            out.append(f"{base}.{attr}" if attr else base)
        return out


# ------------------------------------------------------------------------------------------
# Call sites -> direct sinks and edges
# ------------------------------------------------------------------------------------------


class Binder:
    """Maps a callee's labels to the caller's, for one call site."""

    __slots__ = ("callee", "call", "shift", "self_labels", "fields", "caller", "memo")

    def __init__(self, callee, call, shift, self_labels, fields, caller):
        self.callee = callee
        self.call = call
        self.shift = shift
        self.self_labels = self_labels
        self.fields = fields  # 'own' | 'recv' | 'none'
        self.caller = caller
        self.memo = {}

    def map(self, lab):
        r = self.memo.get(lab)
        if r is None:
            r = self._map(lab)
            self.memo[lab] = r
        return r

    def req(self, q, pol):
        """A callee guard `q is truthy == pol` seen from this call site: 'dead' when the call
        passes (or defaults to) a constant that fails it, ('p', guard) when the caller passes
        its own guard straight through (by name, or inside its **kwargs), None when unknown
        (assumed satisfiable)."""
        g, c = self.callee, self.call
        arg = None
        kwname = q[2:] if q.startswith("**") else q
        if q.startswith("**") or q in g.kwonly:
            if kwname in c.kwargs:
                arg = c.kwargs[kwname]
            elif c.dstar_labels:
                return ("p", f"**{kwname}") if c.dstar_is_kwarg else None
        elif q in g.params:
            i = g.params.index(q)
            if i < self.shift:
                return None
            j = i - self.shift
            if j < len(c.args):
                arg = c.args[j]
            elif i >= g.posonly and q in c.kwargs:
                arg = c.kwargs[q]
            elif c.star_labels:
                return None
            elif c.dstar_labels and i >= g.posonly:
                return ("p", f"**{q}") if c.dstar_is_kwarg else None
        else:
            return None
        if arg is None:
            if q in g.defaults:
                return None if bool(g.defaults[q]) == pol else "dead"
            return None
        if arg.is_const:
            try:
                return None if bool(arg.const) == pol else "dead"
            except Exception:
                return None
        if arg.param is not None and arg.param in self.caller.gate_ok:
            return ("p", arg.param)
        return None

    def _map(self, lab):
        g, c = self.callee, self.call
        kind, _, name = lab.partition(":")
        if kind == "f":
            if self.fields == "own":
                fr = self.caller
                return frozenset({lab}) | fr.field_labels.get(name, EMPTY) | fr.field_wild
            if self.fields == "recv":
                return c.recv.labels if c.recv else EMPTY
            return EMPTY
        if kind == "n":
            return EMPTY
        if name in g.params:
            i = g.params.index(name)
            if i < self.shift:
                return self.self_labels
            j = i - self.shift
            if j < len(c.args):
                return c.args[j].labels
            out = EMPTY
            if i >= g.posonly and name in c.kwargs:
                return c.kwargs[name].labels
            if c.star_labels:
                out |= c.star_labels
            if i >= g.posonly and c.dstar_labels:
                out |= c.dstar_labels
            return out
        if name in g.kwonly:
            if name in c.kwargs:
                return c.kwargs[name].labels
            return c.dstar_labels
        if name == g.vararg:
            out = c.star_labels
            for a in c.args[max(0, len(g.params) - self.shift) :]:
                out |= a.labels
            return out
        if name == g.kwarg:
            out = c.dstar_labels
            known = set(g.params) | set(g.kwonly)
            for k, a in c.kwargs.items():
                if k not in known:
                    out |= a.labels
            return out
        return EMPTY


def shift_call(call, n):
    """The same call with n leading positional arguments dropped (for matching sinks whose
    positions count from the first real argument)."""
    return call


def check_sink(names, call, positional_offset=0):
    """(sink display, Sink, labels, tier, note) or None."""
    hit = S.lookup(sorted(names, key=lambda n: (len(n), n)))
    if hit is None:
        return None
    name, sink = hit
    pos = sink.pos
    if isinstance(pos, int):
        pos = pos + positional_offset
    arg = S._arg_of(call, pos, sink.kw)
    if arg is None:
        return None
    if sink.cond is None:
        res = (sink.tier, "") if arg.labels else None
    else:
        if positional_offset:
            # conditions read other positional arguments relative to the sink's signature
            call = _OffsetCall(call, positional_offset)
            arg = S._arg_of(call, sink.pos, sink.kw)
            if arg is None:
                return None
        res = sink.cond(call, arg)
    if res is None or not arg.labels:
        return None
    tier, note = res
    return name, sink, arg.labels, tier, note


class _OffsetCall:
    def __init__(self, call, off):
        self.args = call.args[off:]
        self.kwargs = call.kwargs
        self.recv = call.recv
        self.star_labels = call.star_labels
        self.dstar_labels = call.dstar_labels
        self.n_plain_positional = max(0, call.n_plain_positional - off)
        self.result_used = call.result_used


def link(world: World, trusted=lambda module, name: False):
    """For every function: direct sinks and edges. Calls into a global the allowlist trusts
    (`trusted(module, name)`, e.g. collections.namedtuple) are not followed: the allowlist
    says they are safe with a pickle's arguments, and any of them the pass would flag on its
    own is reported as an overlap instead."""
    stats = Counter()
    classes_by_func = {}
    for m in world.mods.values():
        for cr in m.classes.values():
            for fr in cr.methods.values():
                classes_by_func[id(fr)] = cr
    for fr in world.funcs:
        direct = []
        edges = []
        cr = classes_by_func.get(id(fr))
        for call in fr.calls:
            d = call.desc
            kind = d[0]
            targets = []  # (target, names, shift, self_labels, fields)
            recv_labels = call.recv.labels if call.recv else EMPTY
            if kind == "refs":
                for ref in d[1]:
                    for t, names in world.resolve(ref):
                        targets.append((t, names, None, EMPTY, "none"))
            elif kind in ("self", "cls", "super"):
                if cr is None:
                    stats["self-call outside class"] += 1
                    continue
                meth = d[1]
                own = kind != "cls" and fr.kind != "classmethod"
                res = world.member(cr, meth, bound=own, start_after=cr if kind == "super" else None)
                for t, names in res:
                    names = names | frozenset(world.class_sink_names(cr, meth))
                    if own:
                        targets.append((t, names, None, recv_labels or frozenset({f"p:{fr.params[0]}"}) if fr.params else EMPTY, "own"))
                    else:
                        targets.append((t, names, None, EMPTY, "none"))
            elif kind == "selffield":
                if cr is None:
                    continue
                attr, meth = d[1], d[2]
                for r in cr.field_types.get(attr, [])[:4]:
                    for t, names in world.resolve(r):
                        targets.extend(_typed_targets(world, t, names, meth, recv_labels))
            elif kind == "typed":
                for r in d[1]:
                    for t, names in world.resolve(r):
                        targets.extend(_typed_targets(world, t, names, d[2], recv_labels))
            elif kind == "method":
                n = f"loader.{d[1]}"  # matched on the method name alone
                targets.append((("ext", n), frozenset({n}), None, EMPTY, "none"))
            for t, names, shift, self_labels, fields in targets:
                tk = t[0]
                if tk in ("class", "func") and "." not in t[1].qual and trusted(t[1].module, t[1].qual):
                    stats["trusted callee not followed"] += 1
                    continue
                if tk == "class":
                    c = t[1]
                    snames = set(names) | set(world.class_sink_names(c))
                    hit = check_sink(snames, call)
                    if hit and not _restricted_unpickler(world, c, hit):
                        direct.append(hit + (call.gates,))
                        continue
                    if hit:
                        continue
                    for meth in ("__init__", "__new__"):
                        found = _find_method(world, c, meth)
                        if found is None:
                            continue
                        # constructing a sink class through a subclass without its own __init__
                        if isinstance(found, str):
                            hit = check_sink({found.rsplit(".", 1)[0]}, call)
                            if hit:
                                direct.append(hit + (call.gates,))
                            continue
                        edges.append(Binder(found, call, 1, EMPTY, "none", fr))
                    continue
                if tk in ("func", "bound"):
                    g = t[1]
                    hit = check_sink(set(names) | {g.canon}, call)
                    if hit:
                        direct.append(hit + (call.gates,))
                        continue
                    if shift is None:
                        if tk == "bound":
                            shift = 1
                        elif g.kind == "classmethod":
                            shift = 1
                        else:
                            shift = 0
                    if tk == "func" and g.kind in ("method", "property") and fields == "own":
                        shift = 1
                    edges.append(Binder(g, call, shift, self_labels, fields if shift else "none", fr))
                    continue
                if tk in ("ext", "instance"):
                    nm = set(names)
                    if tk == "ext":
                        nm.add(t[1])
                    hit = check_sink(nm, call)
                    if hit:
                        direct.append(hit + (call.gates,))
                    continue
        fr.direct = direct
        fr.edges = edges
        stats["direct"] += len(direct)
        stats["edges"] += len(edges)
    return stats


def _restricted_unpickler(world, cr, hit):
    """A subclass of pickle.Unpickler (or dill's) that overrides find_class restricts what
    it loads: not counted as a nested loader (README: blind spots)."""
    if hit[1].kind != "nested":
        return False
    for c in world.mro(cr):
        if isinstance(c, str):
            return False
        if c.canon in S.SINKS:
            return False
        if "find_class" in c.methods:
            return True
    return False


def _find_method(world, cr, meth):
    for c in world.mro(cr):
        if isinstance(c, str):
            return f"{c}.{meth}" if c not in ("builtins.object", "object") else None
        if meth in c.methods:
            return c.methods[meth]
    return None


def _typed_targets(world, t, names, meth, recv_labels):
    out = []
    if t[0] == "class":
        c = t[1]
        snames = frozenset(world.class_sink_names(c, meth))
        for t2, n2 in world.member(c, meth, bound=True):
            out.append((t2, n2 | snames, None, recv_labels, "recv"))
    elif t[0] == "func" and t[1].kind == "classmethod" and t[1].cls:
        m = world.mods.get(t[1].module)
        c = m.classes.get(t[1].cls) if m else None
        if c is not None:
            out.extend(_typed_targets(world, ("class", c), names, meth, recv_labels))
    elif t[0] == "ext":
        # an unparsed class (a C type): only `<class>.<meth>` can name a sink
        s = f"{t[1]}.{meth}"
        out.append((("ext", s), frozenset({s}), None, EMPTY, "none"))
    # a function's return value has no known class: nothing
    return out


# ------------------------------------------------------------------------------------------
# Summaries
# ------------------------------------------------------------------------------------------


MAX_ALTS = 3


def insert(summ, key, val, reqs):
    """Keep, per (label, tier), the entries no other entry beats on both length and guards."""
    alts = summ.get(key)
    if alts is None:
        summ[key] = [(val, reqs)]
        return True
    for v, r in alts:
        if v <= val and r <= reqs:
            return False
    alts = [(v, r) for v, r in alts if not (val <= v and reqs <= r)]
    alts.append((val, reqs))
    alts.sort(key=lambda x: (x[0], len(x[1]), sorted(x[1])))
    summ[key] = alts[:MAX_ALTS]
    return True


def summarise(world: World, hops: int):
    funcs = [f for f in world.funcs if f.direct or f.edges]
    for fr in world.funcs:
        fr.summary = {}
    for fr in funcs:
        for name, sink, labels, tier, note, gates in fr.direct:
            val = (1, (), name, sink.noun, note)
            for lab in labels:
                insert(fr.summary, (lab, tier), val, gates)
    rounds = 0
    while True:
        rounds += 1
        changed = 0
        for fr in funcs:
            summ = fr.summary
            for b in fr.edges:
                gs = b.callee.summary
                if not gs:
                    continue
                gates = b.call.gates
                for (lab, tier), alts in list(gs.items()):
                    mapped = None
                    for (h, path, sname, noun, note), reqs in alts:
                        if h >= hops:
                            continue
                        new = set(gates)
                        dead = False
                        for q, pol in reqs:
                            r = b.req(q, pol)
                            if r == "dead":
                                dead = True
                                break
                            if r is not None:
                                new.add((r[1], pol))
                        if dead:
                            continue
                        if mapped is None:
                            mapped = b.map(lab)
                        if not mapped:
                            break
                        val = (h + 1, (b.callee.qual,) + path, sname, noun, note)
                        fz = frozenset(new)
                        for L in mapped:
                            if insert(summ, (L, tier), val, fz):
                                changed += 1
        if not changed or rounds > hops + 6:
            break
    return rounds


# ------------------------------------------------------------------------------------------
# Entries: what a pickle can call
# ------------------------------------------------------------------------------------------


def describe_label(lab):
    kind, _, name = lab.partition(":")
    if kind == "p":
        return f"argument '{name}'"
    if kind == "f":
        return f"attribute '{name}' of the object"
    if kind == "n":
        return f"argument '{name}' of the closure it returns"
    return lab


def best_for(fr, labels, self_label=None):
    """Best (tier, val, label) over the given entry labels; self_label: whether p:<self> and
    f:* count."""
    best = {}
    for (lab, tier), alts in fr.summary.items():
        ok = lab in labels or (self_label and (lab.startswith("f:") or lab == self_label))
        if not ok:
            continue
        # every parameter is the pickle's to choose, so every guard can be met
        val = min(v for v, _ in alts)
        cur = best.get(tier)
        cand = (val, lab)
        if cur is None or cand < cur:
            best[tier] = cand
    return best


def fmt_reason(entry, val, lab, self_name=None):
    h, path, sname, noun, note = val
    chain = [entry] + list(path) + [sname]
    src = describe_label(lab)
    if self_name and lab == f"p:{self_name}":
        src = "the object"
    extra = f"; {note}" if note else ""
    return " -> ".join(chain) + f" ({noun} from {src}{extra})"


def entries(world: World):
    """rows: {(module, name): (tier, reason, dist, kind)}"""
    rows = {}

    def put(key, tier, reason, dist, kind):
        old = rows.get(key)
        cand = (S.TIER_RANK[tier], -len(reason.split(" -> ")), reason)
        if old is None or cand > (S.TIER_RANK[old[0]], -len(old[1].split(" -> ")), old[1]):
            rows[key] = (tier, reason, dist, kind)

    for mname in sorted(world.mods):
        m = world.mods[mname]
        for fname, fr in sorted(m.funcs.items()):
            if fr.cls is not None:
                continue
            if fname in ("__getattr__", "__dir__"):
                continue  # PEP 562 hooks: calling one is the lookup find_class already does
            labels = set(fr.all_param_labels()) | set(fr.nested_labels)
            b = best_for(fr, labels)
            for tier in (S.CRITICAL, S.HIGH):
                if tier in b:
                    val, lab = b[tier]
                    put((mname, fname), tier, fmt_reason(fname, val, lab), m.dist, "function")
                    break
        for cname, cr in sorted(m.classes.items()):
            best = None
            # constructed: __init__ / __new__ with the caller's arguments
            for meth in ("__init__", "__new__"):
                f = _find_method(world, cr, meth)
                if isinstance(f, str):
                    hit = S.lookup([f.rsplit(".", 1)[0]])
                    continue
                if f is None:
                    continue
                labels = set(f.all_param_labels()[1:]) | set(f.nested_labels)
                b = best_for(f, labels)
                for tier, (val, lab) in b.items():
                    reason = fmt_reason(f"{cname} -> {f.qual}", val, lab)
                    cand = (S.TIER_RANK[tier], -val[0], reason)
                    if best is None or cand > best[0]:
                        best = (cand, tier, reason)
            # rebuilt by the unpickler: state setters and finalisers run on attacker state
            for meth in CG.REBUILD_METHODS:
                f = _find_method(world, cr, meth)
                if f is None or isinstance(f, str) or f.kind != "method":
                    continue
                selfp = f.params[0] if f.params else None
                labels = set(f.all_param_labels()) | set(f.nested_labels)
                b = best_for(f, labels, self_label=f"p:{selfp}" if selfp else None)
                for tier, (val, lab) in b.items():
                    reason = fmt_reason(f"{cname} (unpickled: {f.qual})", val, lab, self_name=selfp)
                    cand = (S.TIER_RANK[tier], -val[0] - 1, reason)
                    if best is None or cand > best[0]:
                        best = (cand, tier, reason)
            if best is not None:
                put((mname, cname), best[1], best[2], m.dist, "class")
            # Class.method gadgets: the method called unbound with an object the pickle built.
            for meth, f in sorted(cr.methods.items()):
                if f.kind == "property" or (meth.startswith("__") and meth.endswith("__")):
                    continue
                if f.kind == "classmethod":
                    labels = set(f.all_param_labels()[1:]) | set(f.nested_labels)
                    b = best_for(f, labels)
                    selfp = None
                elif f.kind == "staticmethod":
                    labels = set(f.all_param_labels()) | set(f.nested_labels)
                    b = best_for(f, labels)
                    selfp = None
                else:
                    selfp = f.params[0] if f.params else None
                    labels = set(f.all_param_labels()) | set(f.nested_labels)
                    b = best_for(f, labels, self_label=f"p:{selfp}" if selfp else None)
                if S.CRITICAL in b:
                    val, lab = b[S.CRITICAL]
                    put(
                        (mname, f"{cname}.{meth}"),
                        S.CRITICAL,
                        fmt_reason(f.qual, val, lab, self_name=selfp),
                        m.dist,
                        "method",
                    )
    return rows


def reexports(world: World, rows):
    """Public names that re-export a listed callable: package __init__ modules, modules
    listing the name in __all__, and import-only shim modules, within the same top-level
    package as the definition."""
    by_target = {}
    for (mod, name), v in rows.items():
        m = world.mods.get(mod)
        if m is None or "." in name:
            continue
        obj = m.funcs.get(name) or m.classes.get(name)
        if obj is not None:
            by_target[id(obj)] = (mod, name, v)
    extra = {}
    for mname in sorted(world.mods):
        m = world.mods[mname]
        public = m.is_pkg or m.shim
        for name, binds in sorted(m.ns.items()):
            if not any(b[0] == "ref" for b in binds):
                continue
            if not (public or (m.all and name in m.all)):
                continue
            for t, _ in world.resolve_attr(mname, name):
                if t[0] not in ("func", "class"):
                    continue
                hit = by_target.get(id(t[1]))
                if hit is None:
                    continue
                dmod, dname, (tier, reason, dist, kind) = hit
                if (mname, name) == (dmod, dname):
                    continue
                if mname.split(".")[0] != dmod.split(".")[0]:
                    continue
                if name.startswith("_") and not dname.startswith("_"):
                    continue
                extra.setdefault((mname, name), (tier, reason, dist, kind + "-reexport"))
        # star re-exports
        if m.is_pkg or m.shim:
            for s in m.star:
                for name in sorted(world._exports(s)):
                    if name in m.ns:
                        continue
                    for t, _ in world.resolve_attr(mname, name):
                        if t[0] not in ("func", "class"):
                            continue
                        hit = by_target.get(id(t[1]))
                        if hit is None:
                            continue
                        dmod, dname, (tier, reason, dist, kind) = hit
                        if mname.split(".")[0] != dmod.split(".")[0] or (mname, name) == (dmod, dname):
                            continue
                        extra.setdefault((mname, name), (tier, reason, dist, kind + "-reexport"))
    for k, v in extra.items():
        if k not in rows:
            rows[k] = v
    return len(extra)


# ------------------------------------------------------------------------------------------
# The hand lists in globals.rs (read-only): coverage and allowlist overlaps
# ------------------------------------------------------------------------------------------


def read_globals_rs(path=GLOBALS_RS):
    text = path.read_text()

    def block(name):
        i = text.index(f"static {name}")
        j = text.index("];", i)
        return text[i:j]

    tiers = {"Code": S.CRITICAL, "System": S.HIGH, "Dynamic": S.HIGH, "Unknown": None}
    names = []
    for m in re.finditer(r'\(\s*"([^"]+)",\s*"([^"]+)",\s*Tier::(\w+)', block("DANGEROUS_NAMES")):
        names.append((m.group(1), m.group(2), tiers[m.group(3)]))
    modules = []
    for m in re.finditer(r'\(\s*"([^"]+)",\s*Tier::(\w+)', block("DANGEROUS_MODULES")):
        modules.append((m.group(1), tiers[m.group(2)]))
    safe = []
    for m in re.finditer(r'\(\s*"([^"]+)",\s*"([^"]+)"\s*\)', block("SAFE")):
        safe.append((m.group(1), m.group(2)))
    return names, modules, safe


def covered_by_module(module, tier, dmodules):
    for m, t in dmodules:
        if t is None:
            continue
        if (module == m or module.startswith(m + ".")) and S.TIER_RANK[t] >= S.TIER_RANK[tier]:
            return m
    return None


def rust_safe(module, name, safe):
    """The allowlist of globals.rs, with its predicate functions (mirrored here)."""
    if any(m == module and (n == "*" or n == name) for m, n in safe):
        return "SAFE"
    first_cap = name[:1].isupper()
    if module.startswith("__torch__"):
        return "torchscript_class"
    if name.startswith("__pyx_unpickle_") and any(
        module.startswith(p) for p in ("numpy.random.", "pandas._libs.", "sklearn.", "scipy.")
    ):
        return "cython_unpickler"
    if module.startswith("sklearn."):
        rest = module[len("sklearn.") :]
        if not any(rest.startswith(p) for p in ("utils._testing", "externals", "datasets", "_build_utils", "_config")):
            c = name.lstrip("_")[:1]
            if c.isupper() or name.startswith("__pyx_unpickle_") or name == "newObj":
                return "sklearn_safe"
    if first_cap and any(
        module.startswith(p)
        for p in (
            "torch.nn.modules.",
            "torch.ao.nn.",
            "torch.nn.quantized.",
            "torch.nn.utils.prune",
            "torch.nn.utils.weight_norm",
            "torch.nn.utils.spectral_norm",
            "torch.nn.utils.parametrize",
            "torch.nn.utils.parametrizations",
        )
    ):
        return "torch_module_safe"
    if first_cap:
        if module.startswith("transformers.models."):
            leaf = module.rsplit(".", 1)[-1]
            if leaf.startswith("modeling_") or leaf.startswith("configuration_"):
                return "transformers_class_safe"
        if module in (
            "transformers.activations",
            "transformers.pytorch_utils",
            "transformers.configuration_utils",
            "transformers.generation.configuration_utils",
            "transformers.modeling_utils",
        ):
            return "transformers_class_safe"
    return None


def read_safe_tsv(path=SAFE_TSV):
    out = set()
    if not path.exists():
        return None
    for line in path.read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) >= 2:
            out.add((parts[0], parts[1]))
    return out


# ------------------------------------------------------------------------------------------
# Driver
# ------------------------------------------------------------------------------------------


def _cache_key(mods):
    import hashlib

    h = hashlib.sha256()
    h.update((HERE / "callgraph.py").read_bytes())
    h.update((HERE / "sinks.py").read_bytes())
    for name in sorted(mods):
        path, dist, is_pkg = mods[name]
        st = os.stat(path)
        h.update(f"{name}\0{path}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    return h.hexdigest()[:16]


def load_world(env, mods, cache):
    import pickle

    if cache:
        cache.mkdir(parents=True, exist_ok=True)
        f = cache / f"world-{env}-{_cache_key(mods)}.pickle"
        if f.exists():
            print(f"[{env}] parsed modules from cache {f.name}", file=sys.stderr)
            with open(f, "rb") as fh:
                return pickle.load(fh)
    w = World()
    t0 = time.time()
    w.load(mods)
    print(f"[{env}] parsed in {time.time() - t0:.0f}s; {len(w.funcs)} functions; {len(w.parse_errors)} parse errors", file=sys.stderr)
    if cache:
        with open(f, "wb") as fh:
            pickle.dump(w, fh, protocol=5)
    return w


def run_env(env, pins, roots, stdlib, hops, explain=None, cache=None):
    print(f"[{env}] inventory", file=sys.stderr)
    mods, found = inventory(env, pins, roots, stdlib)
    tv = found.get("torch", ("0",))[0]
    major_minor = tuple(int(x) for x in re.findall(r"\d+", tv)[:2])
    S.TORCH_LOAD_DEFAULT_SAFE = major_minor >= (2, 6)
    print(f"[{env}] {len(mods)} modules from {len(found)} distributions + stdlib", file=sys.stderr)
    w = load_world(env, mods, cache)
    t0 = time.time()
    _, _, safe = read_globals_rs()
    st = link(w, trusted=lambda m, n: rust_safe(m, n, safe) is not None)
    print(f"[{env}] linked in {time.time() - t0:.0f}s: {dict(st)}", file=sys.stderr)
    t0 = time.time()
    rounds = summarise(w, hops)
    print(f"[{env}] summaries in {time.time() - t0:.0f}s ({rounds} rounds)", file=sys.stderr)
    rows = entries(w)
    n_re = reexports(w, rows)
    print(f"[{env}] {len(rows)} rows ({n_re} re-exports)", file=sys.stderr)
    if explain:
        for spec in explain:
            mod, _, name = spec.partition(":")
            print(f"{spec}: {rows.get((mod, name))}")
            m = w.mods.get(mod)
            obj = m and (m.funcs.get(name) or m.funcs.get(name))
            if obj:
                for k, v in sorted(obj.summary.items()):
                    print("   ", k, v)
                for c in obj.calls[:80]:
                    print("    call", c.desc, [sorted(a.labels) for a in c.args], {k: sorted(a.labels) for k, a in c.kwargs.items()})
    versions = {d: v for d, (v, _, _) in found.items()}
    return rows, versions, w.parse_errors


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--src", type=Path, help="folder made by setup_sources.sh (SRC/<env>/ per env)")
    ap.add_argument("--root", action="append", default=[], help="ENV=DIR[,DIR...] searched before SRC/ENV")
    ap.add_argument("--stdlib", type=Path, default=Path(sysconfig.get_paths()["stdlib"]))
    ap.add_argument("--pins", type=Path, default=HERE / "pins.txt")
    ap.add_argument("--hops", type=int, default=4)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--report", type=Path, help="write a JSON report (counts, overlaps, covered rows)")
    ap.add_argument("--keep-covered", action="store_true", help="keep rows whose module a DANGEROUS_MODULES entry already covers at that tier")
    ap.add_argument("--env", action="append", help="only these envs (default: all in pins.txt)")
    ap.add_argument("--explain", action="append", help="MODULE:NAME to print in detail (main env)")
    ap.add_argument("--cache", type=Path, help="folder for parsed-module caches (reused while sources and the analysis code are unchanged)")
    a = ap.parse_args()
    if sys.version_info[:2] != (3, 11):
        sys.exit("run with CPython 3.11 (the analysed stdlib is the running interpreter's)")
    sys.setrecursionlimit(10000)
    envs, raw_pins = read_pins(a.pins)
    extra_roots = defaultdict(list)
    for r in a.root:
        env, _, dirs = r.partition("=")
        extra_roots[env] += [Path(d) for d in dirs.split(",") if d]
    results = {}
    for env in envs:
        if a.env and env not in a.env:
            continue
        roots = list(extra_roots.get(env, []))
        if env != "main":
            roots += extra_roots.get("main", [])
        if a.src:
            roots.append(a.src / env)
            if env != "main":
                roots.append(a.src / "main")
        results[env] = run_env(env, envs[env], roots, a.stdlib, a.hops, a.explain if env == "main" else None, a.cache)

    # Union of the envs: a row only the legacy env finds says so.
    rows = {}
    main_rows = results.get("main", ({}, {}, []))[0]
    for env, (r, versions, _) in results.items():
        for k, v in r.items():
            if env == "main":
                rows[k] = v
            elif norm(v[2]) not in raw_pins[env]:
                # Only the dists this env swaps: other libraries' current releases do not
                # run on the legacy numpy/torch, so their rows come from main alone.
                continue
            else:
                old = rows.get(k)
                if old is None or S.TIER_RANK[v[0]] > S.TIER_RANK[old[0]]:
                    diff = ", ".join(f"{d} {raw_pins[env][d]}" for d in sorted(raw_pins[env]))
                    rows[k] = (v[0], f"{v[1]} [{diff}]", v[2], v[3])

    dnames, dmodules, safe = read_globals_rs()
    covered = {}
    final = {}
    for k, v in rows.items():
        c = covered_by_module(k[0], v[0], dmodules)
        if c and not a.keep_covered:
            covered[k] = (v, c)
            continue
        final[k] = v

    # Allowlist overlaps (the rows are kept; each is listed in the report for review).
    safe_tsv = read_safe_tsv()
    overlaps = []
    for k, v in sorted(final.items()):
        why = rust_safe(k[0], k[1], safe)
        if why:
            overlaps.append({"module": k[0], "name": k[1], "tier": v[0], "allowlist": f"globals.rs {why}", "reason": v[1]})
        if safe_tsv is not None and k in safe_tsv:
            overlaps.append({"module": k[0], "name": k[1], "tier": v[0], "allowlist": "safe_globals.tsv", "reason": v[1]})

    versions = results["main"][1] if "main" in results else {}
    hdr = [
        "# modelgate dangerous pickle globals, generated by scripts/dangerlist/build_dangerlist.py; do not edit.",
        f"# CPython {sys.version.split()[0]} stdlib; hop limit {a.hops}; see src/formats/pickle/data/DANGER.md.",
        "# module\tname\ttier\treason",
    ]
    lines = []
    for (mod, name), (tier, reason, dist, kind) in sorted(final.items()):
        reason = reason.replace("\t", " ").replace("\n", " ")
        lines.append(f"{mod}\t{name}\t{tier}\t{reason}")
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text("\n".join(hdr + lines) + "\n")

    per_lib = defaultdict(Counter)
    for (mod, name), (tier, reason, dist, kind) in final.items():
        per_lib[dist][tier] += 1
    cov_lib = Counter(v[2] for (v, c) in covered.values())
    hand_confirmed = sorted(
        f"{m}.{n}" for m, n, t in dnames if (m, n) in final
    )
    report = {
        "versions": {env: r[1] for env, r in results.items()},
        "hops": a.hops,
        "rows": len(final),
        "tiers": dict(Counter(v[0] for v in final.values())),
        "kinds": dict(Counter(v[3] for v in final.values())),
        "per_library": {d: dict(c) for d, c in sorted(per_lib.items())},
        "covered_by_module_list": len(covered),
        "covered_per_library": dict(sorted(cov_lib.items())),
        "hand_names_also_found": hand_confirmed,
        "allowlist_overlaps": overlaps,
        "safe_globals_tsv": SAFE_TSV.exists(),
        "parse_errors": {env: sorted({f"{m} ({d}): {e}" for m, d, e in r[2]}) for env, r in results.items()},
    }
    if a.report:
        a.report.write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    print(json.dumps({k: report[k] for k in ("rows", "tiers", "kinds", "covered_by_module_list")}, indent=1))
    print(f"{len(overlaps)} allowlist overlaps; wrote {a.out}")


if __name__ == "__main__":
    main()
