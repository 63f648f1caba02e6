//! What Python source does when it is imported or its classes are constructed, found
//! from the tokens of [`super::lex`] without running anything.
//!
//! Two passes over the logical statements:
//! 1. bindings: `import x as y`, `from x import y as z`, `from m import *`, and simple
//!    assignments `s = os.system` / `CMD = "..."` (flow-insensitive: a name bound
//!    anywhere is that binding everywhere);
//! 2. calls: every call site (`callee(args)`, including calls on call results such as
//!    `getattr(__import__("o" + "s"), "sys" + "tem")(...)`), every `os.environ[...]`
//!    read, with the callee resolved through the bindings and constant arguments folded
//!    (string concatenation, `getattr` of a constant name, `__import__` /
//!    `importlib.import_module` of a constant, the pure decoders of
//!    `formats::pickle::fold`).
//!
//! Each statement belongs to a scope (module level, a class body, a function) found from
//! indentation. What runs at load time: module level and class bodies (outside an
//! `if __name__ == "__main__":` block), default arguments and decorators, constructors
//! (`__init__`, `__new__`, `__post_init__`, `__init_subclass__`, `__set_name__`), the
//! caller's entry points, and every function of the file that one of those calls by name
//! (`helper()`, `self.helper()`), transitively. Everything else runs only when called
//! later (`forward`, `save_vocabulary`) and is reported as deferred.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::lex::{tokenize, Stmt, Tok, Token};
use crate::formats::pickle::fold::{self, Const};

/// Functions that run when a class is defined or an instance is built.
const CONSTRUCTORS: &[&str] = &[
    "__init__",
    "__new__",
    "__post_init__",
    "__init_subclass__",
    "__set_name__",
    "__class_getitem__",
];

/// Python's builtins that matter here (a bare name not bound in the file is one of these).
const BUILTINS: &[&str] = &[
    "exec",
    "eval",
    "compile",
    "__import__",
    "open",
    "getattr",
    "setattr",
    "globals",
    "locals",
    "vars",
    "breakpoint",
    "input",
    "print",
    "str",
    "bytes",
    "bytearray",
    "chr",
    "dict",
];

/// Most source analysed (a larger file is analysed up to here).
pub const MAX_SOURCE: usize = 4 << 20;
/// Nesting of evaluation (brackets inside brackets) followed.
const MAX_DEPTH: u32 = 24;
/// Decoded code strings (`exec(base64.b64decode("..."))`) analysed inside each other.
const MAX_DECODE_DEPTH: u32 = 3;
/// Token visits allowed for one source (evaluation revisits nested arguments); when they
/// run out the analysis stops and says so.
const BUDGET: u64 = 20_000_000;
/// Records kept per kind (calls, behaviours) for one source.
const MAX_RECORDS: usize = 20_000;

/// Where a statement is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    Module,
    /// The body of `class NAME`.
    Class(String),
    /// The body of `def NAME` (inside `class`, when it is a method).
    Function {
        class: Option<String>,
        name: String,
    },
    /// The body of a `lambda` or of an `if __name__ == "__main__":` block.
    Deferred,
}

impl Scope {
    /// "module level", "class body of X", "X.__init__", ...
    pub fn describe(&self) -> String {
        match self {
            Scope::Module => "module level".into(),
            Scope::Class(c) => format!("class body of {c}"),
            Scope::Function {
                class: Some(c),
                name,
            } => format!("{c}.{name}"),
            Scope::Function { class: None, name } => format!("{name}()"),
            Scope::Deferred => "a lambda or __main__ block".into(),
        }
    }
}

/// One argument of a call.
#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    /// `name=` of a keyword argument.
    pub keyword: Option<String>,
    pub value: ArgValue,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ArgValue {
    /// A constant string (literal, concatenation of literals, or a name bound to one).
    Str(String),
    /// Constant bytes.
    Bytes(Vec<u8>),
    /// A name or attribute path, resolved through the imports (`os.system`).
    Name(String),
    /// Anything else (a call, a number, an f-string, `*args`).
    Other,
}

/// One call site.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// The callee's dotted name after resolving imports and aliases (`os.system`,
    /// `transformers.AutoModel.from_pretrained`); `NAME()` marks a call result
    /// (`pathlib.Path().write_text`). `None` when it is not a name at all.
    pub callee: Option<String>,
    /// The call as written (bounded).
    pub text: String,
    pub line: u32,
    pub column: u32,
    pub args: Vec<Arg>,
    pub scope: Scope,
    /// Whether it runs at import or construction time (see the module doc).
    pub load_time: bool,
}

impl Call {
    /// The `i`-th positional argument.
    pub fn positional(&self, i: usize) -> Option<&ArgValue> {
        self.args
            .iter()
            .filter(|a| a.keyword.is_none())
            .nth(i)
            .map(|a| &a.value)
    }

    /// The keyword argument `name`.
    pub fn keyword(&self, name: &str) -> Option<&ArgValue> {
        self.args
            .iter()
            .find(|a| a.keyword.as_deref() == Some(name))
            .map(|a| &a.value)
    }
}

/// `from .helper import x` / `from . import helper` / `from ..pkg.mod import y`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelativeImport {
    /// Number of leading dots.
    pub level: u32,
    /// The dotted module after the dots (empty for `from . import x`).
    pub module: String,
    /// The names imported (`*` for a star import).
    pub names: Vec<String>,
    pub line: u32,
    pub column: u32,
}

impl RelativeImport {
    /// Module paths (dotted, relative to the importing package) this import may load:
    /// `module` itself, and `module.name` for each name (a name can be a submodule).
    pub fn candidates(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.module.is_empty() {
            out.push(self.module.clone());
        }
        for n in &self.names {
            if n != "*" {
                out.push(if self.module.is_empty() {
                    n.clone()
                } else {
                    format!("{}.{n}", self.module)
                });
            }
        }
        out
    }
}

/// An absolute import (`import a.b`, `from a.b import c`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Import {
    pub module: String,
    /// Names imported from it (`from a.b import c` gives `c`).
    pub names: Vec<String>,
    pub line: u32,
}

/// What kind of thing a behaviour does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// Runs a command or a program (`os.system`, `subprocess.*`, `pty.spawn`).
    Process,
    /// Runs Python code it computes or loads (`exec`, `eval`, `compile`, `__import__`,
    /// `runpy`, `marshal.loads`, nested deserialisers, native libraries).
    Code,
    /// Opens network connections.
    Network,
    /// Writes, moves or deletes files.
    FileWrite,
    /// Reads secrets from the environment (a credential-like variable, or all of it).
    SecretEnv,
}

impl Kind {
    /// Runs commands or code (critical at load time).
    pub fn executes(self) -> bool {
        matches!(self, Kind::Process | Kind::Code)
    }

    pub fn describe(self) -> &'static str {
        match self {
            Kind::Process => "runs a command",
            Kind::Code => "runs dynamically computed or loaded code",
            Kind::Network => "opens a network connection",
            Kind::FileWrite => "writes or deletes files",
            Kind::SecretEnv => "reads secrets from the environment",
        }
    }
}

/// One thing the code does.
#[derive(Clone, Debug, PartialEq)]
pub struct Behaviour {
    pub kind: Kind,
    /// The callable or access, resolved (`os.system`, `builtins.exec`, `os.environ`).
    pub what: String,
    /// The source text (bounded), e.g. `os.system("echo hi")`.
    pub evidence: String,
    /// How `what` was resolved when the text does not say it (`getattr(__import__("o" +
    /// "s"), ...)` resolves to `os.system`), or what decoded code holds.
    pub note: Option<String>,
    pub line: u32,
    pub column: u32,
    pub scope: Scope,
    pub load_time: bool,
}

/// The result of analysing one source.
#[derive(Clone, Debug, Default)]
pub struct Analysis {
    pub behaviours: Vec<Behaviour>,
    pub calls: Vec<Call>,
    pub relative_imports: Vec<RelativeImport>,
    pub imports: Vec<Import>,
    /// Names of the functions and classes defined at module level.
    pub definitions: BTreeSet<String>,
    /// The source was longer than [`MAX_SOURCE`] and analysed only up to it.
    pub truncated: bool,
}

/// Analyses `src`. `entry_points` are function names the loader calls besides the
/// constructors (MLflow's `_load_pyfunc`), whose behaviours count as load time.
pub fn analyze(src: &str, entry_points: &[&str]) -> Analysis {
    analyze_depth(src, entry_points, 0)
}

fn analyze_depth(src: &str, entry_points: &[&str], decode_depth: u32) -> Analysis {
    let mut truncated = false;
    let src = if src.len() > MAX_SOURCE {
        truncated = true;
        let mut end = MAX_SOURCE;
        while !src.is_char_boundary(end) {
            end -= 1;
        }
        &src[..end]
    } else {
        src
    };
    let stmts = tokenize(src);
    let mut a = Analyzer {
        src,
        bindings: HashMap::new(),
        star: Vec::new(),
        out: Analysis {
            truncated,
            ..Analysis::default()
        },
        raw: Vec::new(),
        env_reads: Vec::new(),
        edges: Vec::new(),
        decode_depth,
        budget: BUDGET,
    };
    let scoped = scopes(&stmts);
    for (stmt, _) in &scoped {
        a.bind(stmt);
    }
    for (stmt, scope) in &scoped {
        a.statement(stmt, scope);
    }
    a.finish(entry_points)
}

/// Each statement with the scope it runs in (the header of a `def`/`class` runs in the
/// enclosing scope; its body in the new one).
fn scopes(stmts: &[Stmt]) -> Vec<(Stmt, Scope)> {
    struct Block {
        indent: u32,
        scope: Scope,
        class: Option<String>,
    }
    let mut stack: Vec<Block> = Vec::new();
    let mut out = Vec::new();
    for s in stmts {
        while stack.last().is_some_and(|b| b.indent >= s.indent) {
            stack.pop();
        }
        let current = stack
            .last()
            .map(|b| b.scope.clone())
            .unwrap_or(Scope::Module);
        let class_here = stack.last().and_then(|b| b.class.clone());
        let toks = &s.tokens;
        let mut i = 0;
        while matches!(toks.get(i).map(|t| &t.kind), Some(Tok::Name(n)) if n == "async") {
            i += 1;
        }
        let head = name_at(toks, i);
        let header = match head {
            Some("def") | Some("class") => name_at(toks, i + 1).map(|n| (head, n.to_string())),
            _ => None,
        };
        if let Some((kind, name)) = header {
            // Header up to the `:` that ends it, then an optional one-line body.
            let colon = header_colon(toks, i + 2);
            let (new_scope, class) = if kind == Some("class") {
                (Scope::Class(name.clone()), Some(name))
            } else if current == Scope::Deferred {
                (Scope::Deferred, None)
            } else {
                (
                    Scope::Function {
                        class: if matches!(current, Scope::Class(_)) {
                            class_here.clone()
                        } else {
                            None
                        },
                        name,
                    },
                    None,
                )
            };
            let split = colon.map(|c| c + 1).unwrap_or(toks.len()).min(toks.len());
            let (header_toks, body_toks) = toks.split_at_checked(split).unwrap_or((toks, &[]));
            out.push((
                Stmt {
                    indent: s.indent,
                    tokens: header_toks.to_vec(),
                },
                current.clone(),
            ));
            if !body_toks.is_empty() {
                out.push((
                    Stmt {
                        indent: s.indent + 1,
                        tokens: body_toks.to_vec(),
                    },
                    new_scope.clone(),
                ));
            }
            stack.push(Block {
                indent: s.indent,
                scope: new_scope,
                class,
            });
            continue;
        }
        if is_main_guard(toks) {
            stack.push(Block {
                indent: s.indent,
                scope: Scope::Deferred,
                class: None,
            });
        }
        out.push((s.clone(), current));
    }
    out
}

fn name_at(toks: &[Token], i: usize) -> Option<&str> {
    match toks.get(i).map(|t| &t.kind) {
        Some(Tok::Name(n)) => Some(n.as_str()),
        _ => None,
    }
}

fn kind_at(toks: &[Token], i: usize) -> Option<&Tok> {
    toks.get(i).map(|t| &t.kind)
}

fn op_at(toks: &[Token], i: usize) -> Option<&'static str> {
    match toks.get(i).map(|t| &t.kind) {
        Some(Tok::Op(o)) => Some(o),
        _ => None,
    }
}

/// The `:` that ends a `def`/`class` header starting at `from` (after brackets).
fn header_colon(toks: &[Token], from: usize) -> Option<usize> {
    let mut depth = 0i32;
    for (i, t) in toks.iter().enumerate().skip(from) {
        match &t.kind {
            Tok::Op("(" | "[" | "{") => depth += 1,
            Tok::Op(")" | "]" | "}") => depth -= 1,
            Tok::Op(":") if depth <= 0 => return Some(i),
            _ => {}
        }
    }
    None
}

fn is_main_guard(toks: &[Token]) -> bool {
    let names: Vec<String> = toks
        .iter()
        .map(|t| match &t.kind {
            Tok::Name(n) => n.clone(),
            Tok::Str { value, .. } => format!("'{value}'"),
            Tok::Op(o) => o.to_string(),
            _ => String::new(),
        })
        .collect();
    let j = names.join(" ");
    j == "if __name__ == '__main__' :" || j == "if '__main__' == __name__ :"
}

const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield", "match", "case", "type",
];

/// Soft keywords that are ordinary names in an expression.
fn is_keyword(n: &str) -> bool {
    !matches!(n, "match" | "case" | "type") && KEYWORDS.contains(&n)
}

/// A value while evaluating an expression.
#[derive(Clone, Debug)]
enum Val {
    Const(Const),
    /// A dotted path rooted in an import or a builtin (`os.system`, `builtins.exec`).
    Path(String),
    /// A dotted path rooted in a name the file defines or that is not bound at all
    /// (`self.helper`, `model_cls.from_pretrained`).
    Local(String),
    /// A pure method of a constant (`"".join`).
    Method(Box<Const>, String),
    Unknown,
}

#[derive(Clone, Debug)]
enum Binding {
    Path(String),
    Const(Const),
    /// Bound to something that is neither (a local function, a computed value).
    Opaque,
}

struct RawCall {
    call: Call,
    /// Resolution notes (`getattr(...)` → os.system) from the evaluator.
    note: Option<String>,
    /// Code strings this call executes when its argument folds to a constant.
    decoded: Option<String>,
    /// The argument of exec/eval goes through a decoder.
    decoder: Option<String>,
    /// The callee is rooted in an import or a builtin (see [`Val::Path`]).
    rooted: bool,
}

struct Analyzer<'a> {
    src: &'a str,
    bindings: HashMap<String, Binding>,
    /// Modules of `from m import *`.
    star: Vec<String>,
    out: Analysis,
    raw: Vec<RawCall>,
    /// `os.environ[...]` reads and whole-environment uses: (what, key, token, scope).
    env_reads: Vec<(String, Option<String>, Token, Token, Scope)>,
    /// Calls by name from a function (or a load-time scope, `None`) to a name.
    edges: Vec<(Option<String>, String)>,
    decode_depth: u32,
    budget: u64,
}

impl Analyzer<'_> {
    fn text(&self, a: &Token, b: &Token) -> String {
        let s = self.src.get(a.start..b.end.max(a.start)).unwrap_or("");
        let one_line: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
        crate::finding::shorten(&one_line, 240)
    }

    // ---- pass 1: bindings ----

    fn bind(&mut self, stmt: &Stmt) {
        let t = &stmt.tokens;
        match name_at(t, 0) {
            Some("import") => self.bind_import(t),
            Some("from") => self.bind_from(t),
            _ => self.bind_assign(t),
        }
    }

    fn bind_import(&mut self, t: &[Token]) {
        let line = t.first().map(|x| x.line).unwrap_or(0);
        for part in split_top(t, 1, t.len(), ",") {
            let (dotted, after) = dotted_at(t, part.0, part.1);
            if dotted.is_empty() {
                continue;
            }
            self.push_import(Import {
                module: dotted.clone(),
                names: Vec::new(),
                line,
            });
            if name_at(t, after) == Some("as") {
                if let Some(alias) = name_at(t, after + 1) {
                    self.bindings
                        .insert(alias.to_string(), Binding::Path(dotted.clone()));
                }
            } else if let Some(first) = dotted.split('.').next() {
                self.bindings
                    .insert(first.to_string(), Binding::Path(first.to_string()));
            }
        }
    }

    fn bind_from(&mut self, t: &[Token]) {
        let Some(first) = t.first() else { return };
        let mut i = 1;
        let mut level = 0u32;
        loop {
            match op_at(t, i) {
                Some(".") => level += 1,
                Some("...") => level += 3,
                _ => break,
            }
            i += 1;
        }
        let (module, after) = dotted_at(t, i, t.len());
        if name_at(t, after) != Some("import") {
            return;
        }
        let mut names = Vec::new();
        let mut aliases = Vec::new();
        let (la, lb) = strip_parens(t, after + 1, t.len());
        for (a, b) in split_top(t, la, lb, ",") {
            if op_at(t, a) == Some("*") {
                names.push("*".to_string());
                continue;
            }
            let Some(n) = name_at(t, a) else { continue };
            let alias = if name_at(t, a + 1) == Some("as") && a + 2 < b {
                name_at(t, a + 2).unwrap_or(n)
            } else {
                n
            };
            names.push(n.to_string());
            aliases.push((alias.to_string(), n.to_string()));
        }
        if level > 0 {
            if self.out.relative_imports.len() < MAX_RECORDS {
                self.out.relative_imports.push(RelativeImport {
                    level,
                    module: module.clone(),
                    names: names.clone(),
                    line: first.line,
                    column: first.col,
                });
            }
            for (alias, _) in aliases {
                self.bindings.insert(alias, Binding::Opaque);
            }
            return;
        }
        if module.is_empty() {
            return;
        }
        self.push_import(Import {
            module: module.clone(),
            names: names.clone(),
            line: first.line,
        });
        if names.iter().any(|n| n == "*") && self.star.len() < 64 {
            self.star.push(module.clone());
        }
        for (alias, n) in aliases {
            self.bindings
                .insert(alias, Binding::Path(format!("{module}.{n}")));
        }
    }

    fn push_import(&mut self, i: Import) {
        if self.out.imports.len() < MAX_RECORDS {
            self.out.imports.push(i);
        }
    }

    /// `a = b = value`: each plain-name target gets the value's binding.
    fn bind_assign(&mut self, t: &[Token]) {
        let eqs: Vec<usize> = top_positions(t, 0, t.len(), "=");
        let Some(&last) = eqs.last() else {
            // `def f` / `class C` bind names that shadow builtins and imports.
            if let (Some("def" | "class"), Some(n)) = (name_at(t, 0), name_at(t, 1)) {
                self.bindings.insert(n.to_string(), Binding::Opaque);
                self.out.definitions.insert(n.to_string());
            } else if let (Some("async"), Some("def"), Some(n)) =
                (name_at(t, 0), name_at(t, 1), name_at(t, 2))
            {
                self.bindings.insert(n.to_string(), Binding::Opaque);
                self.out.definitions.insert(n.to_string());
            }
            return;
        };
        let value = self.eval_range(t, last + 1, t.len(), 0);
        let binding = match value {
            Val::Path(p) => Binding::Path(p),
            Val::Const(c @ (Const::Str(_) | Const::Bytes(_))) => Binding::Const(c),
            _ => Binding::Opaque,
        };
        let mut start = 0;
        for &e in &eqs {
            if e == start + 1 {
                if let Some(n) = name_at(t, start) {
                    if !is_keyword(n) {
                        // A name bound twice to different things is opaque.
                        let b = match self.bindings.get(n) {
                            Some(Binding::Path(p)) if matches!(&binding, Binding::Path(q) if q != p) => {
                                Binding::Opaque
                            }
                            _ => binding.clone(),
                        };
                        self.bindings.insert(n.to_string(), b);
                    }
                }
            }
            start = e + 1;
        }
    }

    // ---- evaluation (pure) ----

    fn resolve_name(&self, n: &str) -> Val {
        match self.bindings.get(n) {
            Some(Binding::Path(p)) => Val::Path(p.clone()),
            Some(Binding::Const(c)) => Val::Const(c.clone()),
            Some(Binding::Opaque) => Val::Local(n.to_string()),
            None if BUILTINS.contains(&n) => Val::Path(format!("builtins.{n}")),
            None if n == "__builtins__" => Val::Path("builtins".into()),
            None => {
                for m in &self.star {
                    let full = format!("{m}.{n}");
                    if classify(&full).is_some() {
                        return Val::Path(full);
                    }
                }
                Val::Local(n.to_string())
            }
        }
    }

    /// The value of `t[a..b]` as one expression.
    fn eval_range(&mut self, t: &[Token], a: usize, b: usize, depth: u32) -> Val {
        if a >= b || depth > MAX_DEPTH || self.budget == 0 {
            return Val::Unknown;
        }
        self.budget = self.budget.saturating_sub((b - a) as u64);
        let plus = top_positions(t, a, b, "+");
        if !plus.is_empty() {
            let mut bounds = vec![a];
            for p in &plus {
                bounds.push(*p);
                bounds.push(*p + 1);
            }
            bounds.push(b);
            let mut acc: Option<Const> = None;
            for pair in bounds.chunks(2) {
                let (x, y) = match *pair {
                    [x, y, ..] => (x, y),
                    [x] => (x, b),
                    [] => continue,
                };
                let Val::Const(c) = self.eval_range(t, x, y, depth + 1) else {
                    return Val::Unknown;
                };
                acc = Some(match (acc, c) {
                    (None, c) => c,
                    (Some(Const::Str(l)), Const::Str(r)) => Const::Str(l + &r),
                    (Some(Const::Bytes(mut l)), Const::Bytes(r)) => {
                        l.extend(r);
                        Const::Bytes(l)
                    }
                    _ => return Val::Unknown,
                });
                if matches!(&acc, Some(Const::Str(s)) if s.len() > fold::MAX_FOLDED * 64) {
                    return Val::Unknown;
                }
            }
            return acc.map(Val::Const).unwrap_or(Val::Unknown);
        }
        let (v, end) = self.chain(t, a, b, depth, None);
        if end == b {
            v
        } else {
            Val::Unknown
        }
    }

    /// Parses a primary and its trailers (`.name`, `(args)`, `[index]`) from `i`, up to
    /// `b`; returns its value and where it ends. With `rec` the calls and environment reads
    /// inside are recorded (in that scope).
    fn chain(
        &mut self,
        t: &[Token],
        i: usize,
        b: usize,
        depth: u32,
        rec: Option<&Scope>,
    ) -> (Val, usize) {
        if i >= b || depth > MAX_DEPTH {
            return (Val::Unknown, i + 1);
        }
        let Some(first) = t.get(i) else {
            return (Val::Unknown, i + 1);
        };
        let start_tok = i;
        let (mut v, mut j) = match &first.kind {
            Tok::Name(n) if !is_keyword(n) => (self.resolve_name(n), i + 1),
            Tok::Name(n) if n == "None" => (Val::Const(Const::None), i + 1),
            Tok::Str { .. } => {
                // Adjacent literals concatenate.
                let mut s = String::new();
                let mut bytes: Vec<u8> = Vec::new();
                let mut is_bytes = false;
                let mut j = i;
                let mut constant = true;
                while j < b {
                    match kind_at(t, j) {
                        Some(Tok::Str { value, bytes: bb }) => {
                            is_bytes = *bb;
                            if *bb {
                                bytes.extend(value.chars().map(|c| c as u32 as u8));
                            } else {
                                s.push_str(value);
                            }
                        }
                        Some(Tok::FStrStart) => {
                            constant = false;
                            j = self.skip_fstring(t, j, b, depth, rec);
                            continue;
                        }
                        _ => break,
                    }
                    j += 1;
                }
                let v = if !constant {
                    Val::Unknown
                } else if is_bytes {
                    Val::Const(Const::Bytes(bytes))
                } else {
                    Val::Const(Const::Str(s))
                };
                (v, j)
            }
            Tok::FStrStart => {
                let mut j = self.skip_fstring(t, i, b, depth, rec);
                while j < b {
                    match kind_at(t, j) {
                        Some(Tok::FStrStart) => j = self.skip_fstring(t, j, b, depth, rec),
                        Some(Tok::Str { .. }) => j += 1,
                        _ => break,
                    }
                }
                (Val::Unknown, j)
            }
            Tok::Op("(" | "[" | "{") => {
                let close = matching(t, i, b);
                let inner = if let Some(r) = rec {
                    self.walk(t, i + 1, close, depth + 1, r);
                    Val::Unknown
                } else {
                    Val::Unknown
                };
                let v = if rec.is_some() {
                    // Walking records calls; values are evaluated by `eval_range` where
                    // they matter (arguments, assignments).
                    inner
                } else if op_at(t, i) == Some("(") {
                    // A parenthesised expression keeps its value.
                    let commas = top_positions(t, i + 1, close, ",");
                    if commas.is_empty() {
                        self.eval_range(t, i + 1, close, depth + 1)
                    } else {
                        inner
                    }
                } else if op_at(t, i) == Some("[") {
                    self.eval_list(t, i + 1, close, depth + 1)
                } else {
                    inner
                };
                (v, (close + 1).min(b))
            }
            _ => return (Val::Unknown, i + 1),
        };
        loop {
            match op_at(t, j) {
                Some(".") if j + 1 < b => {
                    let Some(n) = name_at(t, j + 1) else { break };
                    v = match v {
                        Val::Path(p) => Val::Path(format!("{p}.{n}")),
                        Val::Local(p) => Val::Local(format!("{p}.{n}")),
                        Val::Const(c) if fold::is_pure_method(n) => {
                            Val::Method(Box::new(c), n.to_string())
                        }
                        _ => Val::Unknown,
                    };
                    j += 2;
                }
                Some("(") if j < b => {
                    let close = matching(t, j, b);
                    let args = self.args(t, j + 1, close, depth + 1);
                    let result = self.call_value(&v, &args);
                    if let Some(scope) = rec {
                        self.record_call(t, start_tok, j, close, &v, &args, scope, depth);
                        self.walk(t, j + 1, close, depth + 1, scope);
                    }
                    v = result;
                    j = (close + 1).min(b);
                }
                Some("[") if j < b => {
                    let close = matching(t, j, b);
                    if let Some(scope) = rec {
                        if let Val::Path(p) = &v {
                            if p == "os.environ" {
                                let key = match self.eval_range(t, j + 1, close, depth + 1) {
                                    Val::Const(Const::Str(s)) => Some(s),
                                    _ => None,
                                };
                                if let Some(end) = t.get(close).or_else(|| t.get(j)) {
                                    self.env_reads.push((
                                        "os.environ".into(),
                                        key,
                                        first.clone(),
                                        end.clone(),
                                        scope.clone(),
                                    ));
                                }
                            }
                        }
                        self.walk(t, j + 1, close, depth + 1, scope);
                    }
                    v = match &v {
                        Val::Path(p) if is_namespace(p) => {
                            match self.eval_range(t, j + 1, close, depth + 1) {
                                Val::Const(Const::Str(k)) => self.item_of(p, &k),
                                _ => Val::Unknown,
                            }
                        }
                        _ => Val::Unknown,
                    };
                    j = (close + 1).min(b);
                }
                _ => break,
            }
        }
        (v, j)
    }

    /// `namespace[key]` for the namespaces that map names to modules and callables:
    /// `sys.modules["os"]`, `os.__dict__["system"]`, `vars(os)["system"]`,
    /// `__builtins__["exec"]`, `globals()["__builtins__"]`, `globals()["os"]`.
    fn item_of(&self, p: &str, k: &str) -> Val {
        if p == "sys.modules" {
            return Val::Path(k.to_string());
        }
        if matches!(p, "builtins.globals()" | "builtins.locals()") {
            return if k == "__builtins__" {
                Val::Path("builtins".into())
            } else {
                self.resolve_name(k)
            };
        }
        let base = p.strip_suffix(".__dict__").unwrap_or(p);
        Val::Path(format!("{base}.{k}"))
    }

    /// Walks the tokens of an f-string from its start token; returns the index after it.
    fn skip_fstring(
        &mut self,
        t: &[Token],
        i: usize,
        b: usize,
        depth: u32,
        rec: Option<&Scope>,
    ) -> usize {
        let mut nest = 0u32;
        let mut j = i;
        while j < b {
            let Some(tok) = t.get(j) else {
                break;
            };
            match tok.kind {
                Tok::FStrStart => nest += 1,
                Tok::FStrEnd => {
                    nest = nest.saturating_sub(1);
                    if nest == 0 {
                        break;
                    }
                }
                _ => {}
            }
            j += 1;
        }
        if let Some(scope) = rec {
            self.walk(t, i + 1, j.min(b), depth + 1, scope);
        }
        (j + 1).min(b.max(i + 1))
    }

    fn eval_list(&mut self, t: &[Token], a: usize, b: usize, depth: u32) -> Val {
        let mut items = Vec::new();
        if a >= b {
            return Val::Const(Const::Seq(items));
        }
        for (x, y) in split_top(t, a, b, ",") {
            if x >= y {
                continue;
            }
            match self.eval_range(t, x, y, depth + 1) {
                Val::Const(c) => items.push(c),
                _ => return Val::Unknown,
            }
            if items.len() > 4096 {
                return Val::Unknown;
            }
        }
        Val::Const(Const::Seq(items))
    }

    fn args(&mut self, t: &[Token], a: usize, b: usize, depth: u32) -> Vec<(Arg, Val)> {
        let mut out = Vec::new();
        if a >= b {
            return out;
        }
        for (x, y) in split_top(t, a, b, ",") {
            if x >= y {
                continue;
            }
            if matches!(op_at(t, x), Some("*" | "**")) {
                out.push((
                    Arg {
                        keyword: None,
                        value: ArgValue::Other,
                    },
                    Val::Unknown,
                ));
                continue;
            }
            let (keyword, vx) = match (name_at(t, x), op_at(t, x + 1)) {
                (Some(k), Some("=")) if x + 1 < y => (Some(k.to_string()), x + 2),
                _ => (None, x),
            };
            let val = self.eval_range(t, vx, y, depth + 1);
            let value = match &val {
                // `True` / `False` / `None` written as such (`trust_remote_code=True`).
                _ if vx + 1 == y && matches!(name_at(t, vx), Some("True" | "False" | "None")) => {
                    ArgValue::Name(name_at(t, vx).unwrap_or_default().to_string())
                }
                Val::Const(Const::Str(s)) => ArgValue::Str(s.clone()),
                Val::Const(Const::Bytes(b)) => ArgValue::Bytes(b.clone()),
                Val::Path(p) | Val::Local(p) => ArgValue::Name(p.clone()),
                _ => ArgValue::Other,
            };
            out.push((Arg { keyword, value }, val));
            if out.len() > 256 {
                break;
            }
        }
        out
    }

    /// The value of calling `f` with `args`: imports, getattr, pure decoders.
    fn call_value(&mut self, f: &Val, args: &[(Arg, Val)]) -> Val {
        let pos: Vec<&Val> = args
            .iter()
            .filter(|(a, _)| a.keyword.is_none())
            .map(|(_, v)| v)
            .collect();
        let consts: Option<Vec<Const>> = pos
            .iter()
            .map(|v| match v {
                Val::Const(c) => Some(c.clone()),
                _ => None,
            })
            .collect();
        match f {
            Val::Method(recv, name) => consts
                .and_then(|cs| fold::call_method(recv, name, &cs))
                .map(Val::Const)
                .unwrap_or(Val::Unknown),
            Val::Local(p) => Val::Local(format!("{p}()")),
            Val::Path(p) => match (p.as_str(), pos.as_slice()) {
                (
                    "builtins.__import__" | "importlib.import_module" | "importlib.__import__",
                    [Val::Const(Const::Str(m)), ..],
                ) => Val::Path(m.clone()),
                ("builtins.getattr", [Val::Path(o), Val::Const(Const::Str(n)), ..]) => {
                    Val::Path(format!("{o}.{n}"))
                }
                ("builtins.vars", [Val::Path(o)]) => Val::Path(format!("{o}.__dict__")),
                ("builtins.getattr", [Val::Local(o), Val::Const(Const::Str(n)), ..]) => {
                    Val::Local(format!("{o}.{n}"))
                }
                ("builtins.getattr", [Val::Const(c), Val::Const(Const::Str(n)), ..])
                    if fold::is_pure_method(n) =>
                {
                    Val::Method(Box::new(c.clone()), n.clone())
                }
                _ => {
                    if let (Some(cs), Some((m, n))) = (consts, p.rsplit_once('.')) {
                        if let Some(c) = fold::call_global(m, n, &cs) {
                            return Val::Const(c);
                        }
                    }
                    Val::Path(format!("{p}()"))
                }
            },
            _ => Val::Unknown,
        }
    }

    // ---- pass 2: recording ----

    fn statement(&mut self, stmt: &Stmt, scope: &Scope) {
        let t = &stmt.tokens;
        match name_at(t, 0) {
            Some("import") => return,
            Some("from")
                if t.iter()
                    .any(|x| matches!(&x.kind, Tok::Name(n) if n == "import")) =>
            {
                return
            }
            _ => {}
        }
        if op_at(t, 0) == Some("@") {
            // A decorator is called with the function it decorates.
            let (v, end) = self.chain(t, 1, t.len(), 0, Some(scope));
            if end == t.len() {
                if let Val::Path(p) | Val::Local(p) = &v {
                    if !p.ends_with(')') {
                        self.record_call(t, 1, t.len(), t.len(), &v, &[], scope, 0);
                    }
                }
            }
            return;
        }
        self.walk(t, 0, t.len(), 0, scope);
    }

    /// Records every call in `t[a..b]`.
    fn walk(&mut self, t: &[Token], a: usize, b: usize, depth: u32, scope: &Scope) {
        if depth > MAX_DEPTH {
            return;
        }
        let mut i = a;
        while i < b {
            if self.budget == 0 {
                return;
            }
            self.budget -= 1;
            let Some(tok) = t.get(i) else {
                return;
            };
            match &tok.kind {
                Tok::Name(n) if n == "lambda" => {
                    // Its body runs when the lambda is called.
                    let end = lambda_end(t, i, b);
                    self.walk(t, i + 1, end, depth + 1, &Scope::Deferred);
                    i = end;
                }
                Tok::Name(n) if is_keyword(n) => i += 1,
                Tok::Name(_) | Tok::Str { .. } | Tok::FStrStart | Tok::Op("(" | "[" | "{") => {
                    // `def f(` and `class C(`: the parentheses are a header, not a call.
                    let prev = if i > a { name_at(t, i - 1) } else { None };
                    if matches!(prev, Some("def" | "class")) {
                        i += 1;
                        continue;
                    }
                    let (v, end) = self.chain(t, i, b, depth, Some(scope));
                    if let Val::Path(p) = &v {
                        self.note_env_use(t, i, end, p, scope);
                    }
                    i = end.max(i + 1);
                }
                _ => i += 1,
            }
        }
    }

    /// Whole-environment uses: `dict(os.environ)`, `os.environ.copy()` are reported where
    /// the name appears as a value (its `.get`/`[...]` reads are handled as calls).
    fn note_env_use(&mut self, t: &[Token], i: usize, end: usize, p: &str, scope: &Scope) {
        if p == "os.environ" && end > i {
            if let Some(prev) = i.checked_sub(2) {
                // `dict(os.environ)`, `str(os.environ)`, `json.dumps(os.environ)`
                if op_at(t, i - 1) == Some("(") {
                    let found = (kind_at(t, prev), t.get(i), t.get(end - 1));
                    if let (Some(Tok::Name(f)), Some(first), Some(last)) = found {
                        if matches!(f.as_str(), "dict" | "str" | "repr" | "dumps" | "list") {
                            self.env_reads.push((
                                "os.environ".into(),
                                None,
                                first.clone(),
                                last.clone(),
                                scope.clone(),
                            ));
                        }
                    }
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn record_call(
        &mut self,
        t: &[Token],
        start: usize,
        open: usize,
        close: usize,
        f: &Val,
        args: &[(Arg, Val)],
        scope: &Scope,
        _depth: u32,
    ) {
        if self.raw.len() >= MAX_RECORDS {
            return;
        }
        let (callee, rooted) = match f {
            Val::Path(p) => (Some(p.clone()), true),
            Val::Local(p) => (Some(p.clone()), false),
            _ => (None, false),
        };
        let Some(first) = t.get(start) else {
            return;
        };
        let last = t.get(close).or_else(|| t.last()).unwrap_or(first);
        let text = self.text(first, last);
        // What the callee text says literally, to see whether resolution added anything.
        let literal = self.text(first, t.get(open.saturating_sub(1)).unwrap_or(first));
        let note = callee.as_ref().and_then(|c| {
            let shown = c.strip_prefix("builtins.").unwrap_or(c);
            if literal.replace(' ', "") == shown || literal.ends_with(shown) {
                None
            } else {
                Some(format!("`{literal}` resolves to `{shown}`"))
            }
        });
        // Functions of this file called by name: the call graph for load-time reach.
        if let (Some(c), false) = (&callee, rooted) {
            let target = c
                .strip_prefix("self.")
                .or_else(|| c.strip_prefix("cls."))
                .unwrap_or(c);
            if !target.contains('.') && !target.contains('(') {
                let from = match scope {
                    Scope::Module | Scope::Class(_) => None,
                    Scope::Function { name, .. } => Some(name.clone()),
                    Scope::Deferred => Some("<deferred>".into()),
                };
                self.edges.push((from, target.to_string()));
            }
        }
        let (mut decoded, mut decoder) = (None, None);
        if matches!(
            callee.as_deref(),
            Some("builtins.exec" | "builtins.eval" | "builtins.compile")
        ) {
            if let Some((_, v)) = args.iter().find(|(a, _)| a.keyword.is_none()) {
                match v {
                    Val::Const(Const::Str(s)) => decoded = Some(s.clone()),
                    Val::Const(Const::Bytes(b)) => {
                        decoded = std::str::from_utf8(b).ok().map(str::to_string)
                    }
                    _ => {}
                }
            }
            // The first argument's own callee, when it is a decoder.
            let arg_start = open + 1;
            let (av, _) = self.chain_callee(t, arg_start, close);
            if let Some(d) = av {
                if is_decoder(&d) {
                    decoder = Some(d);
                }
            }
        }
        self.raw.push(RawCall {
            call: Call {
                callee,
                text,
                line: first.line,
                column: first.col,
                args: args.iter().map(|(a, _)| a.clone()).collect(),
                scope: scope.clone(),
                load_time: false,
            },
            note,
            decoded,
            decoder,
            rooted,
        });
    }

    /// The callee path of a call expression starting at `a` (`base64.b64decode(...)`).
    fn chain_callee(&mut self, t: &[Token], a: usize, b: usize) -> (Option<String>, usize) {
        let mut j = a;
        let mut path = String::new();
        while j < b {
            match kind_at(t, j) {
                Some(Tok::Name(n)) if path.is_empty() || path.ends_with('.') => {
                    if path.is_empty() {
                        match self.resolve_name(n) {
                            Val::Path(p) => path = p,
                            _ => return (None, j),
                        }
                    } else {
                        path.push_str(n);
                    }
                }
                Some(Tok::Op(".")) if !path.is_empty() => path.push('.'),
                Some(Tok::Op("(")) if !path.is_empty() => return (Some(path), j),
                _ => return (None, j),
            }
            j += 1;
        }
        (None, j)
    }

    // ---- results ----

    fn finish(mut self, entry_points: &[&str]) -> Analysis {
        if self.budget == 0 {
            self.out.truncated = true;
        }
        // Load-time functions: constructors, entry points, and what load-time code calls.
        let mut live: HashSet<String> = CONSTRUCTORS
            .iter()
            .chain(entry_points.iter())
            .map(|s| s.to_string())
            .collect();
        let mut changed = true;
        let mut rounds = 0;
        while changed && rounds < 64 {
            changed = false;
            rounds += 1;
            for (from, to) in &self.edges {
                let from_live = match from {
                    None => true,
                    Some(f) => live.contains(f),
                };
                if from_live && !live.contains(to) {
                    live.insert(to.clone());
                    changed = true;
                }
            }
        }
        let is_live = |scope: &Scope| match scope {
            Scope::Module | Scope::Class(_) => true,
            Scope::Function { name, .. } => live.contains(name),
            Scope::Deferred => false,
        };
        let raw = std::mem::take(&mut self.raw);
        for mut r in raw {
            r.call.load_time = is_live(&r.call.scope);
            if let Some(b) = self.behaviour_of(&r) {
                if self.out.behaviours.len() < MAX_RECORDS {
                    self.out.behaviours.push(b);
                }
            }
            self.out.calls.push(r.call);
        }
        let reads = std::mem::take(&mut self.env_reads);
        for (what, key, first, last, scope) in reads {
            let secret = key.as_deref().map(is_secret_name).unwrap_or(true);
            if !secret {
                continue;
            }
            let evidence = self.text(&first, &last);
            self.out.behaviours.push(Behaviour {
                kind: Kind::SecretEnv,
                what: what.clone(),
                evidence,
                note: Some(match &key {
                    Some(k) => format!("reads the environment variable {k}"),
                    None => "reads the whole environment".into(),
                }),
                line: first.line,
                column: first.col,
                load_time: is_live(&scope),
                scope,
            });
        }
        self.out
            .behaviours
            .sort_by_key(|b| (b.line, b.column, b.kind));
        self.out.behaviours.dedup_by(|a, b| {
            a.line == b.line && a.column == b.column && a.kind == b.kind && a.what == b.what
        });
        self.out
    }

    fn behaviour_of(&self, r: &RawCall) -> Option<Behaviour> {
        let c = &r.call;
        if !r.rooted {
            return None;
        }
        let callee = c.callee.as_deref()?;
        // A method of a call result that is itself reported (`urlopen(...).read()`).
        if let Some((inner, _)) = callee.split_once("().") {
            if classify(inner).is_some() {
                return None;
            }
        }
        let mut note = r.note.clone();
        let (kind, what) = if let Some(k) = classify(callee) {
            (k, callee.to_string())
        } else if matches!(callee, "builtins.open" | "io.open" | "codecs.open") {
            let mode = c.positional(1).or_else(|| c.keyword("mode"));
            match mode {
                Some(ArgValue::Str(m)) if m.contains(['w', 'a', 'x', '+']) => {
                    (Kind::FileWrite, callee.to_string())
                }
                _ => return None,
            }
        } else if let Some(key) = env_get(callee) {
            let k = match c.positional(0) {
                Some(ArgValue::Str(s)) => Some(s.clone()),
                _ => None,
            };
            if key == "all" {
                note = Some("reads the whole environment".into());
            } else {
                match &k {
                    Some(k) if is_secret_name(k) => {
                        note = Some(format!("reads the environment variable {k}"))
                    }
                    Some(_) => return None,
                    None => note = Some("reads an environment variable chosen at run time".into()),
                }
            }
            (Kind::SecretEnv, callee.to_string())
        } else {
            return None;
        };
        // What decoded code would do, when the argument of exec/eval folds to a constant.
        if let Some(d) = &r.decoder {
            note = Some(match note {
                Some(n) => format!("{n}; executes code decoded by `{d}` at load time"),
                None => format!("executes code decoded by `{d}` at load time"),
            });
        }
        if let Some(code) = &r.decoded {
            if self.decode_depth < MAX_DECODE_DEPTH {
                let inner = analyze_depth(code, &[], self.decode_depth + 1);
                let mut whats: Vec<String> = inner
                    .behaviours
                    .iter()
                    .map(|b| format!("{} ({})", b.what, b.evidence))
                    .collect();
                whats.dedup();
                if !whats.is_empty() {
                    let s = crate::finding::shorten(&whats.join(", "), 300);
                    note = Some(match note {
                        Some(n) => format!("{n}; the executed code calls {s}"),
                        None => format!("the executed code calls {s}"),
                    });
                }
            }
        }
        Some(Behaviour {
            kind,
            what,
            evidence: c.text.clone(),
            note,
            line: c.line,
            column: c.column,
            scope: c.scope.clone(),
            load_time: c.load_time,
        })
    }
}

/// Values whose items are modules or callables (see [`Analyzer::item_of`]).
fn is_namespace(p: &str) -> bool {
    matches!(
        p,
        "sys.modules" | "builtins" | "builtins.globals()" | "builtins.locals()"
    ) || p.ends_with(".__dict__")
}

/// `(start, end)` ranges of `t[a..b]` split at top-level `sep`.
fn split_top(t: &[Token], a: usize, b: usize, sep: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = a;
    for p in top_positions(t, a, b, sep) {
        out.push((start, p));
        start = p + 1;
    }
    out.push((start, b));
    out
}

/// Positions of top-level (bracket depth 0) operator `op` in `t[a..b]`; for `=`, only
/// plain assignment (not inside a lambda's defaults or a call's keywords).
fn top_positions(t: &[Token], a: usize, b: usize, op: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut in_lambda = false;
    for (i, tok) in t.iter().enumerate().take(b).skip(a) {
        match &tok.kind {
            Tok::Op("(" | "[" | "{") => depth += 1,
            Tok::Op(")" | "]" | "}") => depth -= 1,
            Tok::Name(n) if n == "lambda" && depth == 0 => in_lambda = true,
            Tok::Op(":") if depth == 0 => in_lambda = false,
            Tok::Op(o) if depth == 0 && *o == op && !(op == "=" && in_lambda) => out.push(i),
            _ => {}
        }
        if out.len() > 4096 {
            break;
        }
    }
    out
}

/// Index of the bracket closing the one at `i` (or `b` when unbalanced).
fn matching(t: &[Token], i: usize, b: usize) -> usize {
    let mut depth = 0i32;
    for (j, tok) in t.iter().enumerate().take(b).skip(i) {
        match tok.kind {
            Tok::Op("(" | "[" | "{") => depth += 1,
            Tok::Op(")" | "]" | "}") => {
                depth -= 1;
                if depth == 0 {
                    return j;
                }
            }
            _ => {}
        }
    }
    b
}

/// Where a lambda's body ends: the next top-level `,` or the end of the range.
fn lambda_end(t: &[Token], i: usize, b: usize) -> usize {
    let mut depth = 0i32;
    for (j, tok) in t.iter().enumerate().take(b).skip(i) {
        match tok.kind {
            Tok::Op("(" | "[" | "{") => depth += 1,
            Tok::Op(")" | "]" | "}") => {
                depth -= 1;
                if depth < 0 {
                    return j;
                }
            }
            Tok::Op(",") if depth == 0 => return j,
            _ => {}
        }
    }
    b
}

/// A dotted name at `t[a..]`, and the index after it.
fn dotted_at(t: &[Token], a: usize, b: usize) -> (String, usize) {
    let mut s = String::new();
    let mut j = a;
    while j < b {
        match (kind_at(t, j), s.is_empty() || s.ends_with('.')) {
            (Some(Tok::Name(n)), true) if n != "import" => s.push_str(n),
            (Some(Tok::Op(".")), false) => s.push('.'),
            _ => break,
        }
        j += 1;
    }
    (s.trim_end_matches('.').to_string(), j)
}

fn strip_parens(t: &[Token], mut a: usize, mut b: usize) -> (usize, usize) {
    while a < b && op_at(t, a) == Some("(") {
        a += 1;
    }
    while b > a && op_at(t, b - 1) == Some(")") {
        b -= 1;
    }
    (a, b)
}

fn is_decoder(p: &str) -> bool {
    matches!(
        p,
        "base64.b64decode"
            | "base64.standard_b64decode"
            | "base64.urlsafe_b64decode"
            | "base64.b32decode"
            | "base64.b16decode"
            | "base64.b85decode"
            | "base64.a85decode"
            | "base64.decodebytes"
            | "binascii.a2b_base64"
            | "binascii.unhexlify"
            | "binascii.a2b_hex"
            | "zlib.decompress"
            | "gzip.decompress"
            | "bz2.decompress"
            | "lzma.decompress"
            | "codecs.decode"
            | "marshal.loads"
            | "bytes.fromhex"
    ) || p.ends_with(".decode()")
}

/// `os.environ.get` and friends: `Some("key")` for a read of one variable, `Some("all")`
/// for the whole environment.
fn env_get(p: &str) -> Option<&'static str> {
    match p {
        "os.environ.get"
        | "os.getenv"
        | "os.environ.pop"
        | "os.environ.setdefault"
        | "os.environ.__getitem__"
        | "posix.getenv" => Some("key"),
        "os.environ.copy"
        | "os.environ.items"
        | "os.environ.values"
        | "os.environ.keys"
        | "os.environ.__repr__" => Some("all"),
        _ => None,
    }
}

/// Whether an environment variable name looks like it holds a credential.
pub fn is_secret_name(k: &str) -> bool {
    let u = k.to_ascii_uppercase();
    [
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "CREDENTIAL",
        "API_KEY",
        "APIKEY",
        "ACCESS_KEY",
        "PRIVATE_KEY",
        "AUTH",
        "SESSION",
        "COOKIE",
        "AWS_",
        "AZURE_",
        "GCP_",
        "GOOGLE_APPLICATION",
        "OPENAI",
        "ANTHROPIC",
        "WANDB_API",
        "SSH_",
        "GITHUB_",
        "NPM_",
        "PYPI",
    ]
    .iter()
    .any(|n| u.contains(n))
}

/// What a resolved callee does, when it is on one of the lists (module prefixes match
/// submodules: `urllib.request.urlopen`, `subprocess.Popen().communicate`).
pub fn classify(p: &str) -> Option<Kind> {
    let p = p.strip_suffix("()").unwrap_or(p);
    let (m, n) = p.rsplit_once('.').unwrap_or(("", p));
    let module_in = |mods: &[&str]| {
        mods.iter()
            .any(|x| p == *x || m == *x || p.starts_with(&format!("{x}.")))
    };
    // Process execution.
    if (matches!(m, "os" | "posix" | "nt")
        && (matches!(
            n,
            "system" | "popen" | "popen2" | "popen3" | "startfile" | "posix_spawn" | "posix_spawnp"
        ) || n.starts_with("exec")
            || n.starts_with("spawn")))
        || module_in(&[
            "subprocess",
            "pty",
            "commands",
            "popen2",
            "pexpect",
            "sh",
            "plumbum",
        ])
        || matches!(
            p,
            "platform.popen" | "asyncio.create_subprocess_exec" | "asyncio.create_subprocess_shell"
        )
        || p.starts_with("asyncio.subprocess.")
    {
        return Some(Kind::Process);
    }
    // Code execution and code loading.
    if matches!(
        p,
        "builtins.exec"
            | "builtins.eval"
            | "builtins.compile"
            | "builtins.__import__"
            | "builtins.breakpoint"
            | "importlib.__import__"
            | "importlib.reload"
            | "importlib.util.spec_from_file_location"
            | "importlib.util.module_from_spec"
            | "importlib.machinery.SourceFileLoader"
            | "imp.load_source"
            | "imp.load_module"
            | "marshal.loads"
            | "marshal.load"
            | "types.CodeType"
            | "types.FunctionType"
            | "pickle.loads"
            | "pickle.load"
            | "pickle.Unpickler"
            | "_pickle.loads"
            | "_pickle.load"
            | "cPickle.loads"
            | "cPickle.load"
            | "dill.loads"
            | "dill.load"
            | "cloudpickle.loads"
            | "cloudpickle.load"
            | "shelve.open"
            | "code.interact"
            | "code.InteractiveInterpreter"
            | "code.InteractiveConsole"
            | "pip.main"
            | "ctypes.CDLL"
            | "ctypes.cdll.LoadLibrary"
            | "ctypes.PyDLL"
            | "ctypes.WinDLL"
            | "ctypes.windll.LoadLibrary"
            | "torch.ops.load_library"
            | "torch.utils.cpp_extension.load"
            | "torch.utils.cpp_extension.load_inline"
            | "sys.settrace"
            | "sys.setprofile"
    ) || module_in(&["runpy", "pip._internal"])
        || m == "ctypes.cdll"
    {
        return Some(Kind::Code);
    }
    // Network.
    if module_in(&[
        "socket",
        "urllib.request",
        "urllib2",
        "urllib3",
        "http.client",
        "httplib",
        "requests",
        "httpx",
        "aiohttp",
        "ftplib",
        "smtplib",
        "telnetlib",
        "poplib",
        "imaplib",
        "nntplib",
        "paramiko",
        "websocket",
        "websockets",
        "pycurl",
        "xmlrpc.client",
    ]) || matches!(
        p,
        "urllib.urlopen"
            | "urllib.urlretrieve"
            | "webbrowser.open"
            | "webbrowser.open_new"
            | "webbrowser.open_new_tab"
            | "asyncio.open_connection"
    ) {
        // Importing names is not a connection; only calls reach here.
        return Some(Kind::Network);
    }
    // File writes and deletes.
    if matches!(
        p,
        "os.remove"
            | "os.unlink"
            | "os.rmdir"
            | "os.removedirs"
            | "os.rename"
            | "os.renames"
            | "os.replace"
            | "os.chmod"
            | "os.chown"
            | "os.lchown"
            | "os.truncate"
            | "os.symlink"
            | "os.link"
            | "shutil.rmtree"
            | "shutil.move"
            | "shutil.copy"
            | "shutil.copy2"
            | "shutil.copyfile"
            | "shutil.copytree"
            | "shutil.chown"
            | "shutil.unpack_archive"
    ) || (p.starts_with("pathlib.")
        && matches!(
            n,
            "write_text"
                | "write_bytes"
                | "unlink"
                | "rmdir"
                | "rename"
                | "replace"
                | "chmod"
                | "touch"
                | "symlink_to"
                | "hardlink_to"
        ))
    {
        return Some(Kind::FileWrite);
    }
    None
}
