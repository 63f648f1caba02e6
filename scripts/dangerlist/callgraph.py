"""Static call graph and parameter taint over installed Python source (never imported, never
run). Used by build_dangerlist.py; the model is described in README.md.

Vocabulary
  module record   one parsed .py file: its namespace (defs, classes, imports, aliases)
  func record     a module-level function or a method (nested defs and lambdas are folded
                  into the function that contains them)
  label           where a value comes from, inside one function: 'p:<param>' (a parameter),
                  'f:<attr>' (attribute <attr> of self), 'n:<param>' (a parameter of a nested
                  function or lambda that the function returns: a closure the caller can call)
  call record     a call site some of whose arguments carry labels, with a symbolic callee
                  (resolved once every module is loaded)
  summary         label -> the shortest path (in calls) from the function to a sink whose
                  relevant argument carries that label
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field
from typing import Optional

import sinks as S

EMPTY = frozenset()

# Builtins whose result carries no data of their argument worth following.
NO_FLOW_BUILTINS = {
    "isinstance",
    "issubclass",
    "hasattr",
    "callable",
    "len",
    "id",
    "bool",
    "hash",
    "type",
    "print",
    "repr",
}
# Methods on an untainted container whose result is an entry of that container (a lookup in a
# constant table), not the key.
LOOKUP_METHODS = {"get", "pop", "setdefault", "__getitem__"}
# Methods whose call with attacker data makes the receiver carry that data.
WRITE_METHODS = {"write", "writelines"}
OPENERS = {"open", "NamedTemporaryFile", "TemporaryFile", "SpooledTemporaryFile", "FileIO"}
REBUILD_METHODS = ("__setstate__", "__del__", "__setitem__", "__setattr__", "extend", "append")


# ------------------------------------------------------------------------------------------
# Records
# ------------------------------------------------------------------------------------------


@dataclass
class FuncRec:
    module: str
    qual: str  # "f", "C.m"
    lineno: int
    params: list  # positional-capable params in order (posonly + args)
    posonly: int
    kwonly: list
    vararg: Optional[str]
    kwarg: Optional[str]
    kind: str  # function | method | staticmethod | classmethod | property
    cls: Optional[str] = None  # class qual for methods
    defaults: dict = field(default_factory=dict)  # param -> constant default value
    gate_ok: frozenset = EMPTY  # params usable as guards (never set to a truthy value)
    calls: list = field(default_factory=list)
    field_labels: dict = field(default_factory=dict)  # attr -> labels assigned to self.attr
    field_wild: frozenset = EMPTY
    nested_labels: frozenset = EMPTY  # 'n:' labels of returned closures
    summary: dict = field(default_factory=dict)  # (label, tier) -> (hops, path, sink, noun, note)

    @property
    def canon(self):
        return f"{self.module}.{self.qual}"

    def self_param(self):
        if self.kind in ("method", "property", "classmethod") and self.params:
            return self.params[0]
        return None

    def all_param_labels(self):
        out = [f"p:{p}" for p in self.params] + [f"p:{p}" for p in self.kwonly]
        if self.vararg:
            out.append(f"p:{self.vararg}")
        if self.kwarg:
            out.append(f"p:{self.kwarg}")
        return out


@dataclass
class ClassRec:
    module: str
    qual: str
    lineno: int
    bases: list  # refs
    methods: dict  # name -> FuncRec
    attrs: dict  # name -> list of (ref, is_staticmethod): class-level aliases
    field_types: dict  # attr -> list of refs to constructors assigned to self.attr

    @property
    def canon(self):
        return f"{self.module}.{self.qual}"


@dataclass
class ModRec:
    name: str
    path: str
    dist: str
    is_pkg: bool
    ns: dict  # name -> list of bindings
    star: list  # module names star-imported
    all: Optional[list]
    shim: bool
    funcs: dict  # qual -> FuncRec
    classes: dict  # qual -> ClassRec


# Bindings in a module namespace: ('func', FuncRec) ('class', ClassRec) ('ref', ref)
# ('instance', ref-of-class) ('value', None)
# A ref is ('mod', module_name, (attr, ...)): the attribute chain starting at that module.


@dataclass
class CallRec:
    desc: tuple  # symbolic callee, see LocalAnalysis._describe
    recv: Optional[S.Arg]
    args: list
    kwargs: dict
    star_labels: frozenset
    dstar_labels: frozenset
    n_plain_positional: int
    result_used: bool
    lineno: int
    gates: frozenset = EMPTY  # (param, truthy?) that must hold for the call to run
    dstar_is_kwarg: bool = False  # `**kwargs` passes the caller's own **kwargs on


# ------------------------------------------------------------------------------------------
# Module parsing (namespace)
# ------------------------------------------------------------------------------------------


def resolve_relative(module: str, is_pkg: bool, level: int, target: Optional[str]) -> str:
    if level == 0:
        return target or ""
    parts = module.split(".")
    if not is_pkg:
        parts = parts[:-1]
    if level > 1:
        parts = parts[: len(parts) - (level - 1)]
    base = ".".join(parts)
    if target:
        return f"{base}.{target}" if base else target
    return base


def dotted(expr) -> Optional[list]:
    """`a.b.c` -> ['a', 'b', 'c'] for Name/Attribute chains, else None."""
    out = []
    while isinstance(expr, ast.Attribute):
        out.append(expr.attr)
        expr = expr.value
    if isinstance(expr, ast.Name):
        out.append(expr.id)
        return out[::-1]
    return None


def import_bindings(node, module, is_pkg):
    """(local name, ref) pairs an import statement binds."""
    out = []
    if isinstance(node, ast.Import):
        for a in node.names:
            if a.asname:
                out.append((a.asname, ("mod", a.name, ())))
            else:
                head = a.name.split(".")[0]
                out.append((head, ("mod", head, ())))
    elif isinstance(node, ast.ImportFrom):
        base = resolve_relative(module, is_pkg, node.level, node.module)
        for a in node.names:
            if a.name == "*":
                continue
            out.append((a.asname or a.name, ("mod", base, (a.name,))))
    return out


def decorator_kind(fn) -> str:
    kind = "function"
    for d in fn.decorator_list:
        parts = dotted(d.func if isinstance(d, ast.Call) else d) or []
        last = parts[-1] if parts else ""
        if last == "staticmethod":
            kind = "staticmethod"
        elif last == "classmethod":
            kind = "classmethod"
        elif last in ("property", "cached_property", "setter", "getter", "deleter"):
            kind = "property"
    return kind


def make_func(module, qual, fn, kind, cls=None) -> FuncRec:
    a = fn.args
    params = [p.arg for p in a.posonlyargs] + [p.arg for p in a.args]
    defaults = {}
    for p, d in zip(params[len(params) - len(a.defaults) :], a.defaults):
        if isinstance(d, ast.Constant):
            defaults[p] = d.value
    for p, d in zip(a.kwonlyargs, a.kw_defaults):
        if isinstance(d, ast.Constant):
            defaults[p.arg] = d.value
    return FuncRec(
        defaults=defaults,
        module=module,
        qual=qual,
        lineno=fn.lineno,
        params=params,
        posonly=len(a.posonlyargs),
        kwonly=[p.arg for p in a.kwonlyargs],
        vararg=a.vararg.arg if a.vararg else None,
        kwarg=a.kwarg.arg if a.kwarg else None,
        kind=kind,
        cls=cls,
    )


def module_level_statements(body):
    """Top-level statements, descending into if/try/with blocks (conditional definitions and
    `if TYPE_CHECKING:` imports count; every branch is taken)."""
    for st in body:
        if isinstance(st, ast.If):
            yield from module_level_statements(st.body)
            yield from module_level_statements(st.orelse)
        elif isinstance(st, ast.Try) or (sys.version_info >= (3, 11) and isinstance(st, getattr(ast, "TryStar", ()))):
            yield from module_level_statements(st.body)
            for h in st.handlers:
                yield from module_level_statements(h.body)
            yield from module_level_statements(st.orelse)
            yield from module_level_statements(st.finalbody)
        elif isinstance(st, (ast.With, ast.AsyncWith)):
            yield from module_level_statements(st.body)
        else:
            yield st


def ref_of_expr(expr, module, local_imports=None):
    """A ref for a Name/Attribute chain written in `module` (module scope, or a function
    whose own imports are `local_imports`), or None. Builtins are ('mod', 'builtins', ...)."""
    parts = dotted(expr)
    if not parts:
        return None
    head, rest = parts[0], tuple(parts[1:])
    if local_imports and head in local_imports:
        kind, base, attrs = local_imports[head]
        return (kind, base, attrs + rest)
    return ("modname", module, (head,) + rest)  # resolved against module ns, then builtins


def parse_module(name, path, dist, is_pkg, tree) -> tuple[ModRec, list]:
    ns: dict = {}
    star: list = []
    all_names = None
    funcs: dict = {}
    classes: dict = {}
    shim = True
    to_analyse = []  # (FuncRec, ast node, ClassRec|None)

    def bind(n, b):
        ns.setdefault(n, []).append(b)

    for st in module_level_statements(tree.body):
        if isinstance(st, (ast.Import, ast.ImportFrom)):
            for n, ref in import_bindings(st, name, is_pkg):
                bind(n, ("ref", ref))
            if isinstance(st, ast.ImportFrom) and any(a.name == "*" for a in st.names):
                star.append(resolve_relative(name, is_pkg, st.level, st.module))
            continue
        if isinstance(st, ast.Expr) and isinstance(st.value, ast.Constant):
            continue  # docstring
        if isinstance(st, (ast.Assign, ast.AnnAssign)) and any(
            isinstance(t, ast.Name) and t.id == "__all__"
            for t in (st.targets if isinstance(st, ast.Assign) else [st.target])
        ):
            v = st.value
            if isinstance(v, (ast.List, ast.Tuple)):
                vals = [e.value for e in v.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
                all_names = (all_names or []) + vals
            continue
        if isinstance(st, ast.AugAssign) and isinstance(st.target, ast.Name) and st.target.id == "__all__":
            if isinstance(st.value, (ast.List, ast.Tuple)):
                vals = [e.value for e in st.value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
                all_names = (all_names or []) + vals
            continue
        shim = False
        if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef)):
            fr = make_func(name, st.name, st, "function")
            funcs[st.name] = fr
            bind(st.name, ("func", fr))
            to_analyse.append((fr, st, None))
        elif isinstance(st, ast.ClassDef):
            cr = parse_class(name, st, funcs, to_analyse, is_pkg)
            classes[st.name] = cr
            bind(st.name, ("class", cr))
        elif isinstance(st, (ast.Assign, ast.AnnAssign)):
            targets = st.targets if isinstance(st, ast.Assign) else [st.target]
            v = st.value
            if v is None:
                continue
            for t in targets:
                if not isinstance(t, ast.Name):
                    continue
                r = ref_of_expr(v, name)
                if r is not None:
                    bind(t.id, ("ref", r))
                elif isinstance(v, ast.Call):
                    cref = ref_of_expr(v.func, name)
                    if cref is not None and (dotted(v.func) or [""])[-1] in ("staticmethod", "classmethod") and v.args:
                        inner = ref_of_expr(v.args[0], name)
                        bind(t.id, ("ref", inner) if inner else ("value", None))
                    elif cref is not None:
                        bind(t.id, ("instance", cref))
                    else:
                        bind(t.id, ("value", None))
                else:
                    bind(t.id, ("value", None))
    return (
        ModRec(
            name=name,
            path=path,
            dist=dist,
            is_pkg=is_pkg,
            ns=ns,
            star=star,
            all=all_names,
            shim=shim and bool(ns),
            funcs=funcs,
            classes=classes,
        ),
        to_analyse,
    )


def parse_class(module, node, funcs, to_analyse, is_pkg=False) -> ClassRec:
    bases = []
    for b in node.bases:
        r = ref_of_expr(b, module)
        if r is not None:
            bases.append(r)
    cr = ClassRec(
        module=module,
        qual=node.name,
        lineno=node.lineno,
        bases=bases,
        methods={},
        attrs={},
        field_types={},
    )
    for st in module_level_statements(node.body):
        if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef)):
            kind = decorator_kind(st)
            if kind == "function":
                kind = "method"
            fr = make_func(module, f"{node.name}.{st.name}", st, kind, cls=node.name)
            cr.methods[st.name] = fr
            funcs[fr.qual] = fr
            to_analyse.append((fr, st, cr))
            # self.X = Ctor(...) anywhere in the method: a typed field.
            nodes = list(ast.walk(st))
            local_imports = function_imports(st, module, is_pkg, nodes)
            for sub in nodes:
                if isinstance(sub, ast.Assign) and isinstance(sub.value, ast.Call):
                    for t in sub.targets:
                        if (
                            isinstance(t, ast.Attribute)
                            and isinstance(t.value, ast.Name)
                            and fr.params
                            and t.value.id == fr.params[0]
                        ):
                            r = ref_of_expr(sub.value.func, module, local_imports)
                            if r is not None:
                                cr.field_types.setdefault(t.attr, []).append(r)
        elif isinstance(st, ast.Assign):
            for t in st.targets:
                if not isinstance(t, ast.Name):
                    continue
                v = st.value
                static = False
                if isinstance(v, ast.Call) and (dotted(v.func) or [""])[-1] in ("staticmethod", "classmethod") and v.args:
                    static = (dotted(v.func) or [""])[-1] == "staticmethod"
                    v = v.args[0]
                r = ref_of_expr(v, module)
                if r is not None:
                    cr.attrs.setdefault(t.id, []).append((r, static))
    return cr


def function_imports(fn, module, is_pkg, nodes=None):
    """Imports anywhere inside a function body: local name -> ref."""
    out = {}
    for sub in nodes if nodes is not None else ast.walk(fn):
        if isinstance(sub, (ast.Import, ast.ImportFrom)):
            for n, ref in import_bindings(sub, module, is_pkg):
                out.setdefault(n, ref)
    return out


# ------------------------------------------------------------------------------------------
# Local (intraprocedural) analysis
# ------------------------------------------------------------------------------------------


class _Body:
    """A statement list to walk as if it were the body of a scope."""

    def __init__(self, body):
        self.body = body


class Scope:
    __slots__ = ("node", "parent", "locals", "is_class", "params", "nested_tag", "globals_")

    def __init__(self, node, parent, is_class=False):
        self.node = node
        self.parent = parent
        self.locals = set()
        self.params = []
        self.is_class = is_class
        self.nested_tag = None
        self.globals_ = set()


def _arg_names(a: ast.arguments):
    names = [p.arg for p in a.posonlyargs] + [p.arg for p in a.args] + [p.arg for p in a.kwonlyargs]
    if a.vararg:
        names.append(a.vararg.arg)
    if a.kwarg:
        names.append(a.kwarg.arg)
    return names


def _store_names(target):
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, (ast.Tuple, ast.List)):
        for e in target.elts:
            yield from _store_names(e)
    elif isinstance(target, ast.Starred):
        yield from _store_names(target.value)


class LocalAnalysis:
    """Flow-insensitive taint inside one function (nested functions, lambdas and
    comprehensions folded in, each with its own scope for name lookup)."""

    def __init__(self, fr: FuncRec, fn, mod_name, is_pkg):
        self.fr = fr
        self.fn = fn
        self.mod = mod_name
        self.is_pkg = is_pkg
        self.nodes = list(ast.walk(fn))
        self.imports = function_imports(fn, mod_name, is_pkg, self.nodes)
        self.scopes = {}  # ast node -> Scope
        self.scope_of = {}  # id(ast node) -> Scope it is evaluated in
        self.labels = {}  # (scope id, name) -> frozenset
        self.refs = {}  # (scope id, name) -> set of refs (aliases of callables/modules)
        self.types = {}  # (scope id, name) -> set of refs (classes of constructed objects)
        self.files = {}  # (scope id, file var) -> set of (scope id, path var)
        self.field_labels = {}
        self.field_wild = EMPTY
        self.parents = {}
        self.nested_funcs = {}  # (scope id, name) -> nested def Scope
        self.returned = set()  # names returned (closures), and lambdas returned
        self.called_or_returned = set()  # var keys called or returned
        self.selfname = fr.self_param() if fr.kind in ("method", "property") else None
        self.clsname = fr.params[0] if fr.kind == "classmethod" and fr.params else None

    # -- scopes ---------------------------------------------------------------------------
    def build_scopes(self):
        root = Scope(self.fn, None)
        root.params = _arg_names(self.fn.args)
        root.locals.update(root.params)
        self.root = root
        self.scopes[self.fn] = root
        self._walk_scope(self.fn, root)

    def _walk_scope(self, node, scope):
        body = node.body if isinstance(node.body, list) else [node.body]
        todo = list(body)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            todo += list(node.args.defaults) + [d for d in node.args.kw_defaults if d is not None]
        stack = todo[::-1]
        while stack:
            n = stack.pop()
            self.scope_of[id(n)] = scope
            for ch in ast.iter_child_nodes(n):
                self.parents[id(ch)] = n
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                if not isinstance(n, ast.Lambda):
                    scope.locals.add(n.name)
                    for d in n.decorator_list:
                        stack.append(d)
                for d in list(n.args.defaults) + [d for d in n.args.kw_defaults if d is not None]:
                    stack.append(d)
                sub = Scope(n, scope)
                sub.params = _arg_names(n.args)
                sub.locals.update(sub.params)
                self.scopes[n] = sub
                if not isinstance(n, ast.Lambda):
                    self.nested_funcs[(id(scope), n.name)] = sub
                self._walk_scope(n, sub)
                continue
            if isinstance(n, ast.ClassDef):
                scope.locals.add(n.name)
                for b in n.bases + n.decorator_list:
                    stack.append(b)
                sub = Scope(n, scope, is_class=True)
                self.scopes[n] = sub
                self._walk_scope(n, sub)
                continue
            if isinstance(n, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
                sub = Scope(n, scope)
                self.scopes[n] = sub
                for i, g in enumerate(n.generators):
                    # The first iterable is evaluated in the enclosing scope.
                    if i == 0:
                        self.scope_of[id(g.iter)] = scope
                        self.parents[id(g.iter)] = n
                        self._walk_expr_in(g.iter, scope)
                    else:
                        self._walk_expr_in(g.iter, sub)
                    for nm in _store_names(g.target):
                        sub.locals.add(nm)
                    self._walk_expr_in(g.target, sub)
                    for c in g.ifs:
                        self._walk_expr_in(c, sub)
                elts = [n.key, n.value] if isinstance(n, ast.DictComp) else [n.elt]
                for e in elts:
                    self._walk_expr_in(e, sub)
                continue
            if isinstance(n, (ast.Global, ast.Nonlocal)):
                scope.globals_.update(n.names)
            if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
                scope.locals.add(n.id)
            if isinstance(n, (ast.Import, ast.ImportFrom)):
                for nm, _ in import_bindings(n, self.mod, self.is_pkg):
                    scope.locals.add(nm)
            if isinstance(n, ast.ExceptHandler) and n.name:
                scope.locals.add(n.name)
            if isinstance(n, ast.NamedExpr) and isinstance(n.target, ast.Name):
                scope.locals.add(n.target.id)
            for ch in reversed(list(ast.iter_child_nodes(n))):
                stack.append(ch)
        scope.locals -= scope.globals_

    def _walk_expr_in(self, e, scope):
        """Walk an expression (or target) that belongs to `scope`; it may itself hold
        comprehensions or lambdas."""
        self._walk_scope(_Body([e]), scope)

    # -- name lookup ----------------------------------------------------------------------
    def key(self, name, scope):
        s = scope
        first = True
        while s is not None:
            if s.is_class and not first:
                s = s.parent
                continue
            if name in s.locals:
                return (id(s), name)
            first = False
            s = s.parent
        return None

    def is_self(self, expr):
        return (
            self.selfname is not None
            and isinstance(expr, ast.Name)
            and self.key(expr.id, self.scope_of.get(id(expr), self.root)) == (id(self.root), self.selfname)
        )

    def is_cls(self, expr):
        return (
            self.clsname is not None
            and isinstance(expr, ast.Name)
            and self.key(expr.id, self.scope_of.get(id(expr), self.root)) == (id(self.root), self.clsname)
        )

    # -- labels ---------------------------------------------------------------------------
    def L(self, e) -> frozenset:
        if e is None:
            return EMPTY
        if isinstance(e, ast.Name):
            sc = self.scope_of.get(id(e), self.root)
            k = self.key(e.id, sc)
            if k is None:
                return EMPTY
            return self.labels.get(k, EMPTY)
        if isinstance(e, ast.Attribute):
            if self.is_self(e.value):
                return self.field(e.attr)
            if self.is_cls(e.value):
                return EMPTY
            return self.L(e.value)
        if isinstance(e, ast.Subscript):
            return self.L(e.value)
        if isinstance(e, ast.Call):
            return self.call_result_labels(e)
        if isinstance(e, ast.Constant):
            return EMPTY
        if isinstance(e, ast.Compare):
            return EMPTY
        if isinstance(e, ast.IfExp):
            return self.L(e.body) | self.L(e.orelse)
        if isinstance(e, ast.Lambda):
            return EMPTY
        if isinstance(e, (ast.ListComp, ast.SetComp, ast.GeneratorExp)):
            return self.L(e.elt)
        if isinstance(e, ast.DictComp):
            return self.L(e.key) | self.L(e.value)
        if isinstance(e, ast.NamedExpr):
            return self.L(e.value)
        out = EMPTY
        for ch in ast.iter_child_nodes(e):
            if isinstance(ch, ast.expr):
                out = out | self.L(ch)
            elif isinstance(ch, ast.keyword):
                out = out | self.L(ch.value)
        return out

    def field(self, attr):
        return frozenset({f"f:{attr}"}) | self.field_labels.get(attr, EMPTY) | self.field_wild

    def call_result_labels(self, c: ast.Call) -> frozenset:
        f = c.func
        args = EMPTY
        for a in c.args:
            args |= self.L(a)
        for k in c.keywords:
            args |= self.L(k.value)
        if isinstance(f, ast.Name):
            sc = self.scope_of.get(id(f), self.root)
            if self.key(f.id, sc) is None and f.id in NO_FLOW_BUILTINS:
                return EMPTY
            if self.key(f.id, sc) is None and f.id == "getattr":
                out = self.L(c.args[0]) if c.args else EMPTY
                if len(c.args) > 2:
                    out |= self.L(c.args[2])
                return out
            return args | self.L(f)
        if isinstance(f, ast.Attribute):
            recv = self.L(f.value)
            if f.attr in LOOKUP_METHODS and not recv:
                return self.L(c.args[1]) if len(c.args) > 1 else EMPTY
            return recv | args
        return args | self.L(f)

    # -- flows ----------------------------------------------------------------------------
    def assign(self, target, labels, scope, value=None):
        changed = False
        if isinstance(target, ast.Name):
            k = self.key(target.id, scope)
            if k is not None:
                old = self.labels.get(k, EMPTY)
                if not labels <= old:
                    self.labels[k] = old | labels
                    changed = True
        elif isinstance(target, (ast.Tuple, ast.List)):
            for e in target.elts:
                changed |= self.assign(e, labels, scope)
        elif isinstance(target, ast.Starred):
            changed |= self.assign(target.value, labels, scope)
        elif isinstance(target, ast.Attribute):
            if self.is_self(target.value):
                old = self.field_labels.get(target.attr, EMPTY)
                if not labels <= old:
                    self.field_labels[target.attr] = old | labels
                    changed = True
            else:
                changed |= self.taint_base(target.value, labels, scope)
        elif isinstance(target, ast.Subscript):
            changed |= self.taint_base(target.value, labels, scope)
        return changed

    def taint_base(self, e, labels, scope):
        """`x.a = v`, `x[k] = v`, `x.update(v)`: x now carries v's labels."""
        if not labels:
            return False
        while isinstance(e, (ast.Attribute, ast.Subscript)):
            if isinstance(e, ast.Attribute) and self.is_self(e.value):
                if e.attr == "__dict__":
                    if not labels <= self.field_wild:
                        self.field_wild |= labels
                        return True
                    return False
                old = self.field_labels.get(e.attr, EMPTY)
                if not labels <= old:
                    self.field_labels[e.attr] = old | labels
                    return True
                return False
            e = e.value
        if isinstance(e, ast.Name) and not self.is_self(e):
            return self.assign(e, labels, self.scope_of.get(id(e), scope))
        return False

    def run(self):
        self.build_scopes()
        for st in self.fn.body:
            self.parents[id(st)] = self.fn
        self.collect_aliases()
        self.compute_gate_ok()
        # Seed parameters. Nested function params are seeded after the closure check.
        for p in self.root.params:
            if p == self.clsname:
                continue
            self.labels[(id(self.root), p)] = frozenset({f"p:{p}"})
        # Closures the function returns (directly, or a lambda): their parameters are the
        # caller's to choose.
        ret_names = set()
        for n in self.nodes:
            if isinstance(n, ast.Return) and n.value is not None:
                for sub in ast.walk(n.value):
                    if isinstance(sub, ast.Name):
                        ret_names.add(sub.id)
                    if isinstance(sub, ast.Lambda) and sub in self.scopes:
                        self._seed_nested(self.scopes[sub])
        for (sid, name), sc in self.nested_funcs.items():
            if name in ret_names and sid == id(self.root):
                self._seed_nested(sc)
        nested_labels = set()
        for (sid, p), labs in self.labels.items():
            for l in labs:
                if l.startswith("n:"):
                    nested_labels.add(l)
        self.fr.nested_labels = frozenset(nested_labels)

        # Collect flow statements once; iterate to a fixpoint.
        flows = []
        calls = []
        for n in self.nodes:
            sc = self.scope_of.get(id(n))
            if sc is None and n is not self.fn:
                # targets in comprehension generators get their scope from _walk_expr_in
                sc = self.root
            if isinstance(n, ast.Assign):
                for t in n.targets:
                    flows.append(("assign", t, n.value, sc))
            elif isinstance(n, ast.AnnAssign) and n.value is not None:
                flows.append(("assign", n.target, n.value, sc))
            elif isinstance(n, ast.AugAssign):
                flows.append(("assign", n.target, n.value, sc))
            elif isinstance(n, (ast.For, ast.AsyncFor)):
                flows.append(("assign", n.target, n.iter, sc))
            elif isinstance(n, (ast.With, ast.AsyncWith)):
                for it in n.items:
                    if it.optional_vars is not None:
                        flows.append(("assign", it.optional_vars, it.context_expr, sc))
            elif isinstance(n, ast.NamedExpr):
                flows.append(("assign", n.target, n.value, sc))
            elif isinstance(n, ast.comprehension):
                csc = self.scope_of.get(id(n.target), sc)
                flows.append(("assign", n.target, n.iter, csc))
            elif isinstance(n, ast.Call):
                calls.append(n)
        for c in calls:
            sc = self.scope_of.get(id(c), self.root)
            f = c.func
            if isinstance(f, ast.Attribute):
                flows.append(("method", c, None, sc))
            elif isinstance(f, ast.Name):
                flows.append(("namecall", c, None, sc))
        # File objects: f = open(P) / with open(P) as f -> writing to f taints P.
        for kind, t, v, sc in flows:
            if kind == "assign" and isinstance(t, ast.Name) and isinstance(v, ast.Call):
                fparts = dotted(v.func)
                if fparts and fparts[-1] in OPENERS:
                    fk = self.key(t.id, sc)
                    if fk is not None and v.args and isinstance(v.args[0], ast.Name):
                        pk = self.key(v.args[0].id, self.scope_of.get(id(v.args[0]), sc))
                        if pk is not None:
                            self.files.setdefault(fk, set()).add(pk)
                    elif fk is not None and v.args:
                        a0 = v.args[0]
                        if isinstance(a0, ast.Call) and a0.args and isinstance(a0.args[0], ast.Name):
                            pk = self.key(a0.args[0].id, self.scope_of.get(id(a0.args[0]), sc))
                            if pk is not None:
                                self.files.setdefault(fk, set()).add(pk)
        self.deps = {}
        for kind, t, v, sc in flows:
            if kind == "assign" and isinstance(t, ast.Name) and v is not None:
                self.deps.setdefault(t.id, set()).update(n.id for n in ast.walk(v) if isinstance(n, ast.Name))
        for _ in range(12):
            changed = False
            for kind, t, v, sc in flows:
                if kind == "assign":
                    changed |= self.assign(t, self.L(v), sc)
                elif kind == "method":
                    c = t
                    f = c.func
                    labs = EMPTY
                    for a in c.args:
                        labs |= self.L(a)
                    for k in c.keywords:
                        labs |= self.L(k.value)
                    if not labs:
                        continue
                    base = f.value
                    if isinstance(base, ast.Name) and base.id in ("setattr",):
                        continue
                    if self._is_module_ref(base, sc):
                        continue
                    changed |= self.taint_base_call(base, labs, sc, f.attr)
                elif kind == "namecall":
                    c = t
                    f = c.func
                    k = self.key(f.id, sc)
                    if k is None and f.id == "setattr" and len(c.args) >= 3 and self.is_self(c.args[0]):
                        labs = self.L(c.args[2])
                        if labs and not labs <= self.field_wild:
                            self.field_wild |= labs
                            changed = True
                    nested = self.nested_funcs.get(k) if k else None
                    if nested is not None:
                        changed |= self._bind_nested(nested, c)
            if not changed:
                break
        # `vars(self).update(x)` / `self.__dict__.update(x)` handled in taint_base_call.
        self.fr.field_labels = {k: v for k, v in self.field_labels.items() if v}
        self.fr.field_wild = self.field_wild

        # Result use for getattr (returned, called, or bound to a name later called/returned).
        for n in self.nodes:
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name):
                sc = self.scope_of.get(id(n.func), self.root)
                k = self.key(n.func.id, sc)
                if k is not None:
                    self.called_or_returned.add(k)
            if isinstance(n, ast.Return) and isinstance(n.value, ast.Name):
                sc = self.scope_of.get(id(n.value), self.root)
                k = self.key(n.value.id, sc)
                if k is not None:
                    self.called_or_returned.add(k)
        out = []
        for c in calls:
            rec = self.call_record(c)
            if rec is not None:
                out.append(rec)
        self.fr.calls = out

    def _seed_nested(self, sc: Scope):
        for p in sc.params:
            k = (id(sc), p)
            self.labels[k] = self.labels.get(k, EMPTY) | frozenset({f"n:{p}"})

    def _bind_nested(self, sc: Scope, c: ast.Call):
        changed = False
        fn = sc.node
        pos = [p.arg for p in fn.args.posonlyargs] + [p.arg for p in fn.args.args]
        for i, a in enumerate(c.args):
            if isinstance(a, ast.Starred):
                labs = self.L(a.value)
                for p in pos[i:] + ([fn.args.vararg.arg] if fn.args.vararg else []):
                    changed |= self._add_label((id(sc), p), labs)
                break
            if i < len(pos):
                changed |= self._add_label((id(sc), pos[i]), self.L(a))
            elif fn.args.vararg:
                changed |= self._add_label((id(sc), fn.args.vararg.arg), self.L(a))
        names = set(pos) | {p.arg for p in fn.args.kwonlyargs}
        for k in c.keywords:
            if k.arg is None:
                labs = self.L(k.value)
                for p in names | ({fn.args.kwarg.arg} if fn.args.kwarg else set()):
                    changed |= self._add_label((id(sc), p), labs)
            elif k.arg in names:
                changed |= self._add_label((id(sc), k.arg), self.L(k.value))
            elif fn.args.kwarg:
                changed |= self._add_label((id(sc), fn.args.kwarg.arg), self.L(k.value))
        return changed

    def _add_label(self, k, labs):
        if not labs:
            return False
        old = self.labels.get(k, EMPTY)
        if labs <= old:
            return False
        self.labels[k] = old | labs
        return True

    def taint_base_call(self, base, labs, sc, meth):
        # self.__dict__.update(x) / vars(self).update(x)
        if (
            isinstance(base, ast.Attribute)
            and base.attr == "__dict__"
            and self.is_self(base.value)
        ) or (
            isinstance(base, ast.Call)
            and isinstance(base.func, ast.Name)
            and base.func.id == "vars"
            and base.args
            and self.is_self(base.args[0])
        ):
            if not labs <= self.field_wild:
                self.field_wild |= labs
                return True
            return False
        if self.is_self(base):
            return False  # self.method(x): the callee decides (no field effect followed)
        changed = self.taint_base(base, labs, sc) if not isinstance(base, ast.Call) else False
        if meth in WRITE_METHODS and isinstance(base, ast.Name):
            fk = self.key(base.id, self.scope_of.get(id(base), sc))
            for pk in self.files.get(fk, ()):
                changed |= self._add_label(pk, labs)
        return changed

    def _is_module_ref(self, e, sc):
        """Is `e` (the receiver of a method call) a module or other global reference?"""
        parts = dotted(e)
        if not parts:
            return False
        k = self.key(parts[0], self.scope_of.get(id(e), sc))
        if k is None:
            return True  # a global name: module, class, function
        return k[1] in self.imports and k not in self.labels

    # -- call records ---------------------------------------------------------------------
    def arginfo(self, e) -> S.Arg:
        labels = self.L(e)
        const = None
        is_const = False
        if isinstance(e, ast.Constant):
            const, is_const = e.value, True
        names = set()
        for sub in ast.walk(e):
            if isinstance(sub, ast.Name):
                names.add(sub.id)
            elif isinstance(sub, ast.Attribute):
                names.add(sub.attr)
            if len(names) > 20:
                break
        elems = None
        if isinstance(e, (ast.List, ast.Tuple)) and not any(isinstance(x, ast.Starred) for x in e.elts[:1]):
            elems = tuple(self.arginfo(x) for x in e.elts[:8])
            if len(e.elts) > 8:
                rest = EMPTY
                for x in e.elts[8:]:
                    rest |= self.L(x)
                elems = elems + (S.Arg(labels=rest),)
        param = None
        if isinstance(e, ast.Name):
            param = self.guard_name(e)
        return S.Arg(
            labels=labels, const=const, is_const=is_const, names=frozenset(names), elems=elems, param=param
        )

    def ref(self, e, sc):
        """Refs for a Name/Attribute chain evaluated in scope sc: a global name is looked
        up in the module (then builtins), a name bound by an import inside the function
        follows that import, any other local name is unknown."""
        parts = dotted(e)
        if not parts:
            return []
        head, rest = parts[0], tuple(parts[1:])
        k = self.key(head, sc)
        if k is None:
            return [("modname", self.mod, (head,) + rest)]
        if head in self.imports:
            kind, base, attrs = self.imports[head]
            return [(kind, base, attrs + rest)]
        return []

    def describe(self, c: ast.Call):
        """Symbolic callee: ('ref', ref) ('self', meth) ('super', meth) ('typed', class ref,
        meth) ('selffield', attr, meth) ('nested',) or None (unresolvable)."""
        f = c.func
        sc = self.scope_of.get(id(c), self.root)
        if isinstance(f, ast.Name):
            k = self.key(f.id, sc)
            if k is not None and k in self.nested_funcs:
                return ("nested",)
            # Local alias: x = some.callable ; x(...)
            if k is not None and f.id not in self.imports:
                r = self.local_alias.get(k)
                if r:
                    return ("refs", tuple(sorted(r)))
                return None
            rs = self.ref(f, sc)
            return ("refs", tuple(rs)) if rs else None
        if isinstance(f, ast.Attribute):
            v = f.value
            if self.is_self(v):
                return ("self", f.attr)
            if self.is_cls(v):
                return ("cls", f.attr)
            if (
                isinstance(v, ast.Call)
                and isinstance(v.func, ast.Name)
                and v.func.id == "super"
                and self.key("super", sc) is None
            ):
                return ("super", f.attr)
            if isinstance(v, ast.Attribute) and self.is_self(v.value):
                return ("selffield", v.attr, f.attr)
            if isinstance(v, ast.Call):
                # Ctor(...).meth(...)
                inner = self.ref(v.func, self.scope_of.get(id(v.func), sc)) if dotted(v.func) else []
                if isinstance(v.func, ast.Name):
                    kk = self.key(v.func.id, sc)
                    if kk is not None and kk in self.local_alias:
                        inner = sorted(self.local_alias[kk])
                if inner:
                    return ("typed", tuple(inner), f.attr)
                return ("method", f.attr)
            if isinstance(v, ast.Name):
                k = self.key(v.id, sc)
                if k is not None and v.id not in self.imports:
                    t = self.local_types.get(k)
                    if t:
                        return ("typed", tuple(sorted(t)), f.attr)
                    r = self.local_alias.get(k)
                    if r:
                        return ("refs", tuple(sorted((kind, b, a + (f.attr,)) for kind, b, a in r)))
                    return ("method", f.attr)
            rs = self.ref(f, sc)
            if rs:
                return ("refs", tuple(rs))
            return ("method", f.attr)
        return None

    def collect_aliases(self):
        """x = some.callable (alias) and x = Ctor(...) (typed) for local names."""
        self.local_alias = {}
        self.local_types = {}
        for n in self.nodes:
            if isinstance(n, (ast.Assign, ast.With, ast.AsyncWith)):
                pairs = []
                if isinstance(n, ast.Assign):
                    pairs = [(t, n.value) for t in n.targets]
                else:
                    pairs = [(it.optional_vars, it.context_expr) for it in n.items if it.optional_vars is not None]
                for t, v in pairs:
                    if not isinstance(t, ast.Name):
                        continue
                    sc = self.scope_of.get(id(t), self.root)
                    k = self.key(t.id, sc)
                    if k is None:
                        continue
                    vsc = self.scope_of.get(id(v), sc)
                    if isinstance(v, (ast.Name, ast.Attribute)) and not isinstance(n, (ast.With, ast.AsyncWith)):
                        if isinstance(v, ast.Name):
                            vk = self.key(v.id, vsc)
                            if vk is not None and v.id not in self.imports:
                                continue
                        for r in self.ref(v, vsc):
                            self.local_alias.setdefault(k, set()).add(r)
                    elif isinstance(v, ast.Call) and dotted(v.func):
                        rs = self.ref(v.func, vsc)
                        if isinstance(v.func, ast.Name):
                            vk = self.key(v.func.id, vsc)
                            if vk is not None and vk in self.local_alias:
                                rs = list(self.local_alias[vk])
                        for r in rs:
                            self.local_types.setdefault(k, set()).add(r)

    # -- guards -------------------------------------------------------------------------
    def compute_gate_ok(self):
        """Guards the analysis can follow: parameters, and locals read from the **kwargs
        parameter (`flag = kwargs.pop("flag", None)`, named '**flag'), that are never set
        to anything but a call result or a falsy constant
        (`trust_remote_code = resolve_trust_remote_code(trust_remote_code, ...)`)."""
        ok = set(self.root.params)
        self.virtual = {}  # local name -> keyword
        kw = self.fr.kwarg
        bad = set()
        for n in self.nodes:
            if isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name):
                bad.add(n.target.id)
            elif isinstance(n, (ast.Assign, ast.AnnAssign, ast.NamedExpr)):
                targets = n.targets if isinstance(n, ast.Assign) else [n.target]
                v = n.value
                if v is None:
                    continue
                fine = isinstance(v, ast.Call) or (isinstance(v, ast.Constant) and not v.value)
                for t in targets:
                    for nm in _store_names(t):
                        if not fine or not isinstance(t, ast.Name):
                            bad.add(nm)
                if (
                    kw
                    and len(targets) == 1
                    and isinstance(targets[0], ast.Name)
                    and isinstance(v, ast.Call)
                    and isinstance(v.func, ast.Attribute)
                    and v.func.attr in ("pop", "get")
                    and isinstance(v.func.value, ast.Name)
                    and v.func.value.id == kw
                    and v.args
                    and isinstance(v.args[0], ast.Constant)
                    and isinstance(v.args[0].value, str)
                ):
                    name = targets[0].id
                    k = v.args[0].value
                    if name not in self.virtual:
                        self.virtual[name] = k
                        if len(v.args) > 1 and isinstance(v.args[1], ast.Constant):
                            self.fr.defaults.setdefault(f"**{k}", v.args[1].value)
                        elif len(v.args) == 1 and v.func.attr == "get":
                            self.fr.defaults.setdefault(f"**{k}", None)
            elif isinstance(n, (ast.For, ast.AsyncFor, ast.With, ast.AsyncWith)):
                tg = [n.target] if isinstance(n, (ast.For, ast.AsyncFor)) else [i.optional_vars for i in n.items if i.optional_vars is not None]
                for t in tg:
                    for nm in _store_names(t):
                        bad.add(nm)
        ok -= bad
        self.virtual = {k: v for k, v in self.virtual.items() if k not in bad and k not in self.root.params}
        self.gate_ok = frozenset(ok)
        self.fr.gate_ok = frozenset(ok | {f"**{k}" for k in self.virtual.values()})

    def guard_name(self, e):
        """The guard a Name stands for ('flag' or '**flag'), or None."""
        k = self.key(e.id, self.scope_of.get(id(e), self.root))
        if k != (id(self.root), e.id):
            return None
        if e.id in self.gate_ok:
            return e.id
        if e.id in self.virtual:
            return f"**{self.virtual[e.id]}"
        return None

    def _atoms(self, e, pol):
        if isinstance(e, ast.Name):
            g = self.guard_name(e)
            return {(g, pol)} if g else set()
        if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.Not):
            return self._atoms(e.operand, not pol)
        if isinstance(e, ast.BoolOp):
            if isinstance(e.op, ast.And) and pol:
                out = set()
                for v in e.values:
                    out |= self._atoms(v, True)
                return out
            if isinstance(e.op, ast.Or) and not pol:
                out = set()
                for v in e.values:
                    out |= self._atoms(v, False)
                return out
        return set()

    # -- sanitizers: membership in a constant collection ---------------------------------
    def _restricts(self, e, pol):
        """Local names whose value the test pins to a fixed set when it is `pol`."""
        if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.Not):
            return self._restricts(e.operand, not pol)
        if isinstance(e, ast.BoolOp):
            parts = [self._restricts(v, pol) for v in e.values]
            if isinstance(e.op, ast.Or) == pol:  # or/True, and/False: every branch must pin it
                out = parts[0]
                for p in parts[1:]:
                    out = out & p
                return out
            out = set()
            for p in parts:
                out |= p
            return out
        if isinstance(e, ast.Compare) and len(e.ops) == 1 and isinstance(e.left, ast.Name):
            op, rhs = e.ops[0], e.comparators[0]
            constish = isinstance(rhs, ast.Constant) or (
                isinstance(rhs, (ast.Set, ast.List, ast.Tuple, ast.Dict))
                and all(isinstance(x, ast.Constant) for x in (rhs.keys if isinstance(rhs, ast.Dict) else rhs.elts))
            ) or (isinstance(rhs, (ast.Name, ast.Attribute)) and self._is_global(rhs))
            if not constish:
                return set()
            if (isinstance(op, (ast.In, ast.Eq)) and pol) or (isinstance(op, (ast.NotIn, ast.NotEq)) and not pol):
                return {e.left.id}
            return set()
        if (
            pol
            and isinstance(e, ast.Call)
            and isinstance(e.func, ast.Attribute)
            and e.func.attr == "startswith"
            and isinstance(e.func.value, ast.Name)
            and e.args
            and isinstance(e.args[0], (ast.Constant, ast.Tuple))
        ):
            return {e.func.value.id}
        return set()

    def _is_global(self, e):
        parts = dotted(e)
        return bool(parts) and self.key(parts[0], self.scope_of.get(id(e), self.root)) is None

    def sanitized_of(self, c):
        out = set()
        node = c
        while True:
            par = self.parents.get(id(node))
            if par is None or isinstance(par, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                if par is self.fn:
                    self._early_sanitizers(self.fn.body, node, out)
                break
            if isinstance(par, (ast.If, ast.While)):
                if node in par.body:
                    out |= self._restricts(par.test, True)
                elif node in par.orelse:
                    out |= self._restricts(par.test, False)
            for fld in ("body", "orelse", "finalbody"):
                lst = getattr(par, fld, None)
                if isinstance(lst, list) and node in lst:
                    self._early_sanitizers(lst, node, out)
            node = par
        return out

    def _early_sanitizers(self, lst, node, out):
        for st in lst:
            if st is node:
                break
            if isinstance(st, ast.If) and not st.orelse and self._exits(st.body):
                out |= self._restricts(st.test, False)

    def _sanitize(self, arg, expr, sanitized):
        names = {n.id for n in ast.walk(expr) if isinstance(n, ast.Name)}
        drop = EMPTY
        for x in sanitized:
            if x in names or names & self.deps.get(x, set()):
                kx = self.key(x, self.scope_of.get(id(expr), self.root))
                if kx is not None:
                    drop |= self.labels.get(kx, EMPTY)
        if not drop or not (arg.labels & drop):
            return arg
        return S.Arg(
            labels=arg.labels - drop,
            const=arg.const,
            is_const=arg.is_const,
            names=arg.names,
            elems=arg.elems,
            param=arg.param,
        )

    @staticmethod
    def _exits(body):
        return bool(body) and isinstance(body[-1], (ast.Raise, ast.Return))

    def gates_of(self, c):
        """(param, truthy) conditions under which the call runs: enclosing `if`s, and earlier
        `if <test>: raise/return` (or `assert`) statements of the same blocks."""
        out = set()
        node = c
        while True:
            par = self.parents.get(id(node))
            if par is None or isinstance(par, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                if par is None or par is not self.fn:
                    if par is not None:
                        break
                # statements directly in the function body: early exits before them
                if par is self.fn:
                    self._early_exits(self.fn.body, node, out)
                break
            if isinstance(par, (ast.If, ast.While)):
                if node in par.body:
                    out |= self._atoms(par.test, True)
                elif node in par.orelse:
                    out |= self._atoms(par.test, False)
            elif isinstance(par, ast.IfExp):
                if node is par.body:
                    out |= self._atoms(par.test, True)
                elif node is par.orelse:
                    out |= self._atoms(par.test, False)
            for fld in ("body", "orelse", "finalbody"):
                lst = getattr(par, fld, None)
                if isinstance(lst, list) and node in lst:
                    self._early_exits(lst, node, out)
            node = par
        return frozenset(out)

    def _early_exits(self, lst, node, out):
        for st in lst:
            if st is node:
                break
            if isinstance(st, ast.If) and not st.orelse and self._exits(st.body):
                out |= self._atoms(st.test, False)
            elif isinstance(st, ast.Assert):
                out |= self._atoms(st.test, True)

    def call_record(self, c: ast.Call) -> Optional[CallRec]:
        desc = self.describe(c)
        if desc is None or desc == ("nested",):
            return None
        sc = self.scope_of.get(id(c), self.root)
        args = []
        star = EMPTY
        nplain = 0
        seen_star = False
        for a in c.args:
            if isinstance(a, ast.Starred):
                star |= self.L(a.value)
                seen_star = True
                continue
            if seen_star:
                star |= self.L(a)
                continue
            args.append(self.arginfo(a))
            nplain += 1
        kwargs = {}
        dstar = EMPTY
        dstar_is_kwarg = False
        for k in c.keywords:
            if k.arg is None:
                dstar |= self.L(k.value)
                if isinstance(k.value, ast.Name) and k.value.id == self.fr.kwarg:
                    dstar_is_kwarg = True
            else:
                kwargs[k.arg] = self.arginfo(k.value)
        recv = None
        if isinstance(c.func, ast.Attribute):
            v = c.func.value
            recv = S.Arg(labels=self.L(v))
        has_labels = bool(star or dstar or (recv and recv.labels)) or any(a.labels for a in args) or any(
            a.labels for a in kwargs.values()
        )
        if not has_labels and desc[0] not in ("self", "super", "selffield"):
            return None
        # result use
        parent = self.parents.get(id(c))
        used = False
        if isinstance(parent, ast.Return):
            used = True
        elif isinstance(parent, ast.Call) and parent.func is c:
            used = True
        elif isinstance(parent, (ast.Assign, ast.NamedExpr)):
            targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
            for t in targets:
                if isinstance(t, ast.Name):
                    k = self.key(t.id, self.scope_of.get(id(t), sc))
                    if k in self.called_or_returned:
                        used = True
        sanitized = self.sanitized_of(c)
        if sanitized:
            args = [self._sanitize(a, x, sanitized) for a, x in zip(args, [a for a in c.args if not isinstance(a, ast.Starred)])]
            kwargs = {k.arg: self._sanitize(kwargs[k.arg], k.value, sanitized) for k in c.keywords if k.arg is not None}
        return CallRec(
            dstar_is_kwarg=dstar_is_kwarg,
            gates=self.gates_of(c),
            desc=desc,
            recv=recv,
            args=args,
            kwargs=kwargs,
            star_labels=star,
            dstar_labels=dstar,
            n_plain_positional=nplain,
            result_used=used,
            lineno=c.lineno,
        )


def analyse_function(fr, fn, mod_name, is_pkg):
    la = LocalAnalysis(fr, fn, mod_name, is_pkg)
    la.run()
    return la
