//! What Python source does when it is imported or its classes are constructed, found
//! from the syntax tree of ruff's parser (`ruff_python_parser`) without running anything.
//!
//! The source is parsed with error recovery: a file with a syntax error (or Python 2
//! source) still gives the statements that parse. Before parsing, a pass over the
//! parser's own tokens bounds the nesting (brackets, indentation, operator chains) the
//! recursive-descent parser and the tree would recurse through; a source beyond
//! [`MAX_NESTING`] / [`MAX_INDENT`] / [`MAX_CHAIN`] is not parsed and is reported as not
//! analysed ([`Analysis::truncated`]). The walk over the tree is depth-bounded too.
//!
//! Two passes over the tree:
//! 1. bindings: `import x as y`, `from x import y as z`, `from m import *`, and simple
//!    assignments `s = os.system` / `CMD = "..."` / `(c := "...")` (flow-insensitive: a
//!    name bound anywhere is that binding everywhere);
//! 2. calls: every call site (`callee(args)`, including calls on call results such as
//!    `getattr(__import__("o" + "s"), "sys" + "tem")(...)`), every `os.environ[...]`
//!    read, with the callee resolved through the bindings and constant arguments folded
//!    (string concatenation, f-strings of constants, `getattr` of a constant name,
//!    `__import__` / `importlib.import_module` of a constant, the pure decoders of
//!    `formats::pickle::fold`).
//!
//! Each statement belongs to a scope (module level, a class body, a function) given by
//! the tree. What runs at load time: module level and class bodies (outside an
//! `if __name__ == "__main__":` block), default arguments and decorators, constructors
//! (`__init__`, `__new__`, `__post_init__`, `__init_subclass__`, `__set_name__`), the
//! caller's entry points, and every function of the file that one of those calls by name
//! (`helper()`, `self.helper()`), transitively. Everything else runs only when called
//! later (`forward`, `save_vocabulary`, a lambda's body) and is reported as deferred.
//!
//! Positions are 1-based lines and 1-based columns in characters (a line ends at `\n`,
//! `\r\n` or a lone `\r`).

use std::collections::{BTreeSet, HashMap, HashSet};

use ruff_python_ast::token::TokenKind;
use ruff_python_ast::{
    self as ast, ArgOrKeyword, CmpOp, ConversionFlag, Expr, InterpolatedStringElement, Operator,
    Stmt,
};
use ruff_python_parser::{lexer, parse_unchecked_source, Mode};
use ruff_text_size::{Ranged, TextRange};

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
/// Tree-node visits allowed for one source (evaluation revisits nested arguments); when
/// they run out the analysis stops and says so.
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
    /// Only part of the source was analysed: it is longer than [`MAX_SOURCE`], nested
    /// beyond [`MAX_NESTING`] / [`MAX_INDENT`] / [`MAX_CHAIN`] (then nothing of it is), or
    /// the walk ran out of budget or depth.
    pub truncated: bool,
}

/// Analyses `src`. `entry_points` are function names the loader calls besides the
/// constructors (MLflow's `_load_pyfunc`), whose behaviours count as load time.
pub fn analyze(src: &str, entry_points: &[&str]) -> Analysis {
    on_own_stack(src, entry_points, 0)
}

/// The parser and the tree recurse on nesting, which [`nesting_ok`] bounds; the work runs
/// on a thread with a known stack so that the bound holds whatever thread the caller is
/// on (rayon workers, test threads), and decoded code analysed inside gets its own.
fn on_own_stack(src: &str, entry_points: &[&str], decode_depth: u32) -> Analysis {
    let run = || analyze_depth(src, entry_points, decode_depth);
    std::thread::scope(|s| {
        match std::thread::Builder::new()
            .name("modelgate-python".into())
            .stack_size(STACK)
            .spawn_scoped(s, run)
        {
            Ok(h) => h.join().ok(),
            Err(_) => None,
        }
    })
    .unwrap_or_else(|| Analysis {
        truncated: true,
        ..Analysis::default()
    })
}

/// Stack of the analysis thread (the parser's recursion up to [`MAX_NESTING`] and the
/// walk up to [`MAX_WALK`] use a fraction of it, in debug builds too).
const STACK: usize = 32 << 20;
/// Brackets (and f-strings, lambdas) nested inside each other, as CPython's tokenizer
/// (200).
pub const MAX_NESTING: u32 = 200;
/// Indentation levels, as CPython (100).
pub const MAX_INDENT: u32 = 100;
/// Operators chained in one expression (`a.b.c...`, `"a" + "a" + ...`, `- - x`): the
/// depth of the tree they build.
pub const MAX_CHAIN: u32 = 4_000;
/// Depth of the walk over the tree (a deeper subtree is not walked; the source is then
/// reported as not fully analysed).
const MAX_WALK: u32 = 4_400;

fn analyze_depth(src: &str, entry_points: &[&str], decode_depth: u32) -> Analysis {
    let mut truncated = false;
    let src = if src.len() > MAX_SOURCE {
        truncated = true;
        let mut end = MAX_SOURCE;
        while !src.is_char_boundary(end) {
            end -= 1;
        }
        src.get(..end).unwrap_or("")
    } else {
        src
    };
    let mut a = Analyzer {
        src,
        lines: LineIndex::new(src),
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
        walk_depth: 0,
    };
    if !nesting_ok(src) {
        a.out.truncated = true;
        return a.finish(entry_points);
    }
    let parsed = parse_unchecked_source(src, ast::PySourceType::Python);
    let module = parsed.syntax();
    a.bind_body(&module.body, 0);
    a.body(&module.body, &Scope::Module);
    a.finish(entry_points)
}

/// Whether the nesting of `src` stays within the bounds, from the parser's own tokens
/// (iterative, linear).
fn nesting_ok(src: &str) -> bool {
    // Per open bracket: the chain count when it opened; `lambda` opens a level that its
    // `:` closes (commas between its parameters do not start a new operand).
    let mut stack: Vec<(u32, bool)> = Vec::new();
    let mut chain = 0u32;
    let mut indent = 0u32;
    let mut lx = lexer::lex(src, Mode::Module);
    loop {
        let k = lx.next_token();
        match k {
            TokenKind::EndOfFile => return true,
            TokenKind::Indent => {
                indent += 1;
                if indent > MAX_INDENT {
                    return false;
                }
            }
            TokenKind::Dedent => indent = indent.saturating_sub(1),
            TokenKind::Newline => {
                stack.clear();
                chain = 0;
            }
            TokenKind::Semi if stack.is_empty() => chain = 0,
            TokenKind::Lpar
            | TokenKind::Lsqb
            | TokenKind::Lbrace
            | TokenKind::FStringStart
            | TokenKind::TStringStart
            | TokenKind::Lambda => {
                chain += 1;
                stack.push((chain, k == TokenKind::Lambda));
                if stack.len() > MAX_NESTING as usize {
                    return false;
                }
            }
            TokenKind::Rpar
            | TokenKind::Rsqb
            | TokenKind::Rbrace
            | TokenKind::FStringEnd
            | TokenKind::TStringEnd => {
                while let Some((_, true)) = stack.last() {
                    stack.pop();
                }
                if let Some((c, _)) = stack.pop() {
                    chain = c;
                }
            }
            TokenKind::Colon if matches!(stack.last(), Some((_, true))) => {
                if let Some((c, _)) = stack.pop() {
                    chain = c;
                }
            }
            TokenKind::Comma => chain = stack.last().map(|(c, _)| c + 1).unwrap_or(1),
            TokenKind::Name
            | TokenKind::Int
            | TokenKind::Float
            | TokenKind::Complex
            | TokenKind::String
            | TokenKind::FStringMiddle
            | TokenKind::TStringMiddle
            | TokenKind::Comment
            | TokenKind::NonLogicalNewline
            | TokenKind::Semi => {}
            _ => {
                chain += 1;
            }
        }
        if chain > MAX_CHAIN + indent {
            return false;
        }
    }
}

/// Byte offsets to 1-based lines and character columns.
struct LineIndex {
    /// Byte offset where each line starts.
    starts: Vec<usize>,
    /// The last column computed: (line index, byte offset, column), so that columns on a
    /// long line are counted from there rather than from the line start.
    last: Option<(usize, usize, u32)>,
}

impl LineIndex {
    fn new(src: &str) -> Self {
        let mut starts = vec![0];
        let b = src.as_bytes();
        let mut i = 0;
        while let Some(&c) = b.get(i) {
            if c == b'\n' || (c == b'\r' && b.get(i + 1) != Some(&b'\n')) {
                starts.push(i + 1);
            }
            i += 1;
        }
        LineIndex { starts, last: None }
    }

    fn at(&mut self, src: &str, offset: usize) -> (u32, u32) {
        let line = self
            .starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1);
        let start = self.starts.get(line).copied().unwrap_or(0);
        let (from, base) = match self.last {
            Some((l, o, c)) if l == line && o <= offset => (o, c),
            _ => (start, 1),
        };
        let n = src
            .get(from..offset)
            .map(|s| s.chars().count())
            .unwrap_or(0);
        let col = base.saturating_add(u32::try_from(n).unwrap_or(u32::MAX));
        self.last = Some((line, offset, col));
        (u32::try_from(line + 1).unwrap_or(u32::MAX), col)
    }
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
    /// Byte offset of the call (calls are listed in source order).
    offset: usize,
    /// Resolution notes (`getattr(...)` → os.system) from the evaluator.
    note: Option<String>,
    /// Code strings this call executes when its argument folds to a constant.
    decoded: Option<String>,
    /// The argument of exec/eval goes through a decoder.
    decoder: Option<String>,
    /// The callee is rooted in an import or a builtin (see [`Val::Path`]).
    rooted: bool,
}

/// An `os.environ[...]` read or a whole-environment use.
struct EnvRead {
    key: Option<String>,
    range: TextRange,
    scope: Scope,
}

struct Analyzer<'a> {
    src: &'a str,
    lines: LineIndex,
    bindings: HashMap<String, Binding>,
    /// Modules of `from m import *`.
    star: Vec<String>,
    out: Analysis,
    raw: Vec<RawCall>,
    env_reads: Vec<EnvRead>,
    /// Calls by name from a function (or a load-time scope, `None`) to a name.
    edges: Vec<(Option<String>, String)>,
    decode_depth: u32,
    budget: u64,
    /// Depth of the recording walk (see [`MAX_WALK`]).
    walk_depth: u32,
}

fn start(r: TextRange) -> usize {
    r.start().to_usize()
}

/// A plain dotted name (`a.b.c`) as written.
fn dotted(e: &Expr) -> Option<String> {
    let mut parts = Vec::new();
    let mut cur = e;
    loop {
        match cur {
            Expr::Name(n) => {
                parts.push(n.id.as_str());
                break;
            }
            Expr::Attribute(a) => {
                parts.push(a.attr.id.as_str());
                cur = &a.value;
            }
            _ => return None,
        }
        if parts.len() > 64 {
            return None;
        }
    }
    parts.reverse();
    Some(parts.join("."))
}

fn is_main_guard(test: &Expr) -> bool {
    let Expr::Compare(c) = test else { return false };
    let (Some(CmpOp::Eq), 1, Some(right)) = (c.ops.first(), c.ops.len(), c.comparators.first())
    else {
        return false;
    };
    let is_name = |e: &Expr| matches!(e, Expr::Name(n) if n.id.as_str() == "__name__");
    let is_main = |e: &Expr| matches!(e, Expr::StringLiteral(s) if s.value.to_str() == "__main__");
    (is_name(&c.left) && is_main(right)) || (is_main(&c.left) && is_name(right))
}

impl Analyzer<'_> {
    fn pos(&mut self, r: TextRange) -> (u32, u32) {
        self.lines.at(self.src, start(r))
    }

    /// The source of `r` on one line, bounded.
    fn text(&self, r: TextRange) -> String {
        let s = self.src.get(start(r)..r.end().to_usize()).unwrap_or("");
        let mut one_line = String::new();
        let mut chars = 0usize;
        for w in s.split_whitespace() {
            if !one_line.is_empty() {
                one_line.push(' ');
                chars += 1;
            }
            one_line.push_str(w);
            chars += w.chars().count();
            if chars > 240 {
                break;
            }
        }
        crate::finding::shorten(&one_line, 240)
    }

    // ---- pass 1: bindings ----

    fn bind_body(&mut self, body: &[Stmt], depth: u32) {
        for s in body {
            self.bind_stmt(s, depth);
        }
    }

    fn bind_stmt(&mut self, s: &Stmt, depth: u32) {
        if depth > MAX_INDENT + 8 {
            return;
        }
        let d = depth + 1;
        match s {
            Stmt::Import(i) => self.bind_import(i),
            Stmt::ImportFrom(i) => self.bind_from(i),
            Stmt::Assign(x) => {
                self.bind_walrus(&x.value, 0);
                self.bind_assign(&x.targets, &x.value);
            }
            Stmt::FunctionDef(f) => {
                self.bindings.insert(f.name.id.to_string(), Binding::Opaque);
                self.out.definitions.insert(f.name.id.to_string());
                self.bind_body(&f.body, d);
            }
            Stmt::ClassDef(c) => {
                self.bindings.insert(c.name.id.to_string(), Binding::Opaque);
                self.out.definitions.insert(c.name.id.to_string());
                self.bind_body(&c.body, d);
            }
            Stmt::If(i) => {
                self.bind_walrus(&i.test, 0);
                self.bind_body(&i.body, d);
                for c in &i.elif_else_clauses {
                    if let Some(t) = &c.test {
                        self.bind_walrus(t, 0);
                    }
                    self.bind_body(&c.body, d);
                }
            }
            Stmt::While(w) => {
                self.bind_walrus(&w.test, 0);
                self.bind_body(&w.body, d);
                self.bind_body(&w.orelse, d);
            }
            Stmt::For(f) => {
                self.bind_body(&f.body, d);
                self.bind_body(&f.orelse, d);
            }
            Stmt::With(w) => self.bind_body(&w.body, d),
            Stmt::Try(t) => {
                self.bind_body(&t.body, d);
                for h in &t.handlers {
                    let ast::ExceptHandler::ExceptHandler(h) = h;
                    self.bind_body(&h.body, d);
                }
                self.bind_body(&t.orelse, d);
                self.bind_body(&t.finalbody, d);
            }
            Stmt::Match(m) => {
                for c in &m.cases {
                    self.bind_body(&c.body, d);
                }
            }
            Stmt::Expr(e) => self.bind_walrus(&e.value, 0),
            _ => {}
        }
    }

    /// `(name := value)` at the top of an expression or in its operands.
    fn bind_walrus(&mut self, e: &Expr, depth: u32) {
        if depth > 8 {
            return;
        }
        match e {
            Expr::Named(n) => {
                self.bind_assign(std::slice::from_ref(&*n.target), &n.value);
                self.bind_walrus(&n.value, depth + 1);
            }
            Expr::BoolOp(b) => {
                for v in &b.values {
                    self.bind_walrus(v, depth + 1);
                }
            }
            Expr::UnaryOp(u) => self.bind_walrus(&u.operand, depth + 1),
            Expr::Compare(c) => self.bind_walrus(&c.left, depth + 1),
            Expr::Call(c) => {
                for a in c.arguments.args.iter() {
                    self.bind_walrus(a, depth + 1);
                }
            }
            _ => {}
        }
    }

    fn bind_import(&mut self, i: &ast::StmtImport) {
        let (line, _) = self.pos(i.range);
        for alias in &i.names {
            let dotted = alias.name.id.to_string();
            if dotted.is_empty() {
                continue;
            }
            self.push_import(Import {
                module: dotted.clone(),
                names: Vec::new(),
                line,
            });
            if let Some(a) = &alias.asname {
                self.bindings
                    .insert(a.id.to_string(), Binding::Path(dotted.clone()));
            } else if let Some(first) = dotted.split('.').next() {
                self.bindings
                    .insert(first.to_string(), Binding::Path(first.to_string()));
            }
        }
    }

    fn bind_from(&mut self, i: &ast::StmtImportFrom) {
        let (line, column) = self.pos(i.range);
        let module = i
            .module
            .as_ref()
            .map(|m| m.id.to_string())
            .unwrap_or_default();
        let mut names = Vec::new();
        let mut aliases = Vec::new();
        for a in &i.names {
            let n = a.name.id.as_str();
            if n.is_empty() {
                continue;
            }
            names.push(n.to_string());
            if n == "*" {
                continue;
            }
            let alias = a.asname.as_ref().map(|x| x.id.as_str()).unwrap_or(n);
            aliases.push((alias.to_string(), n.to_string()));
        }
        if i.level > 0 {
            if self.out.relative_imports.len() < MAX_RECORDS {
                self.out.relative_imports.push(RelativeImport {
                    level: i.level,
                    module: module.clone(),
                    names: names.clone(),
                    line,
                    column,
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
            line,
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
    fn bind_assign(&mut self, targets: &[Expr], value: &Expr) {
        if !targets.iter().any(|t| matches!(t, Expr::Name(_))) {
            return;
        }
        let binding = match self.eval(value, 0) {
            Val::Path(p) => Binding::Path(p),
            Val::Const(c @ (Const::Str(_) | Const::Bytes(_))) => Binding::Const(c),
            _ => Binding::Opaque,
        };
        for t in targets {
            let Expr::Name(n) = t else { continue };
            let n = n.id.as_str();
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

    /// The value of `e`.
    fn eval(&mut self, e: &Expr, depth: u32) -> Val {
        if depth > MAX_DEPTH || self.budget == 0 {
            return Val::Unknown;
        }
        self.budget -= 1;
        match e {
            Expr::Name(n) => self.resolve_name(n.id.as_str()),
            Expr::NoneLiteral(_) => Val::Const(Const::None),
            Expr::StringLiteral(s) => Val::Const(Const::Str(s.value.to_str().to_string())),
            Expr::BytesLiteral(b) => Val::Const(Const::Bytes(
                b.value.bytes().take(fold::MAX_FOLDED * 64).collect(),
            )),
            Expr::FString(f) => self.eval_fstring(f, depth),
            Expr::BinOp(b) if b.op == Operator::Add => self.eval_concat(e, depth),
            Expr::Attribute(a) => {
                let n = a.attr.id.as_str();
                match self.eval(&a.value, depth + 1) {
                    Val::Path(p) => Val::Path(format!("{p}.{n}")),
                    Val::Local(p) => Val::Local(format!("{p}.{n}")),
                    Val::Const(c) if fold::is_pure_method(n) => {
                        Val::Method(Box::new(c), n.to_string())
                    }
                    _ => Val::Unknown,
                }
            }
            Expr::Call(c) => {
                let f = self.eval(&c.func, depth + 1);
                let args = self.args(&c.arguments, depth + 1);
                self.call_value(&f, &args)
            }
            Expr::Subscript(s) => match self.eval(&s.value, depth + 1) {
                Val::Path(p) if is_namespace(&p) => match self.eval(&s.slice, depth + 1) {
                    Val::Const(Const::Str(k)) => self.item_of(&p, &k),
                    _ => Val::Unknown,
                },
                _ => Val::Unknown,
            },
            Expr::List(l) => {
                let mut items = Vec::new();
                for x in &l.elts {
                    match self.eval(x, depth + 1) {
                        Val::Const(c) => items.push(c),
                        _ => return Val::Unknown,
                    }
                    if items.len() > 4096 {
                        return Val::Unknown;
                    }
                }
                Val::Const(Const::Seq(items))
            }
            _ => Val::Unknown,
        }
    }

    /// `a + b + c`: the operands of a left-leaning chain of `+`, folded left to right.
    fn eval_concat(&mut self, e: &Expr, depth: u32) -> Val {
        let mut operands = Vec::new();
        let mut cur = e;
        while let Expr::BinOp(b) = cur {
            if b.op != Operator::Add || operands.len() > 4096 {
                break;
            }
            operands.push(&*b.right);
            cur = &b.left;
        }
        if operands.len() > 4096 {
            return Val::Unknown;
        }
        operands.push(cur);
        let mut acc: Option<Const> = None;
        for x in operands.into_iter().rev() {
            let Val::Const(c) = self.eval(x, depth + 1) else {
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
            let long = match &acc {
                Some(Const::Str(s)) => s.len(),
                Some(Const::Bytes(b)) => b.len(),
                _ => 0,
            };
            if long > fold::MAX_FOLDED * 64 {
                return Val::Unknown;
            }
        }
        acc.map(Val::Const).unwrap_or(Val::Unknown)
    }

    /// An f-string whose fields are constant strings (no conversion or format) folds.
    fn eval_fstring(&mut self, f: &ast::ExprFString, depth: u32) -> Val {
        let mut s = String::new();
        for part in f.value.iter() {
            match part {
                ast::FStringPart::Literal(l) => s.push_str(&l.value),
                ast::FStringPart::FString(fs) => {
                    for el in fs.elements.iter() {
                        match el {
                            InterpolatedStringElement::Literal(l) => s.push_str(&l.value),
                            InterpolatedStringElement::Interpolation(i) => {
                                if i.conversion != ConversionFlag::None
                                    || i.format_spec.is_some()
                                    || i.debug_text.is_some()
                                {
                                    return Val::Unknown;
                                }
                                match self.eval(&i.expression, depth + 1) {
                                    Val::Const(Const::Str(v)) => s.push_str(&v),
                                    _ => return Val::Unknown,
                                }
                            }
                        }
                    }
                }
            }
            if s.len() > fold::MAX_FOLDED * 64 {
                return Val::Unknown;
            }
        }
        Val::Const(Const::Str(s))
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

    /// The arguments in source order, as recorded and as values.
    fn args(&mut self, a: &ast::Arguments, depth: u32) -> Vec<(Arg, Val)> {
        let mut out = Vec::new();
        for x in a.arguments_source_order() {
            let (keyword, e) = match x {
                ArgOrKeyword::Arg(Expr::Starred(_)) => {
                    out.push((
                        Arg {
                            keyword: None,
                            value: ArgValue::Other,
                        },
                        Val::Unknown,
                    ));
                    continue;
                }
                ArgOrKeyword::Arg(e) => (None, e),
                ArgOrKeyword::Keyword(k) => match &k.arg {
                    Some(n) => (Some(n.id.to_string()), &k.value),
                    None => {
                        out.push((
                            Arg {
                                keyword: None,
                                value: ArgValue::Other,
                            },
                            Val::Unknown,
                        ));
                        continue;
                    }
                },
            };
            let val = self.eval(e, depth + 1);
            let value = match (&val, e) {
                // `True` / `False` / `None` written as such (`trust_remote_code=True`).
                (_, Expr::BooleanLiteral(b)) => {
                    ArgValue::Name(if b.value { "True" } else { "False" }.into())
                }
                (_, Expr::NoneLiteral(_)) => ArgValue::Name("None".into()),
                (Val::Const(Const::Str(s)), _) => ArgValue::Str(s.clone()),
                (Val::Const(Const::Bytes(b)), _) => ArgValue::Bytes(b.clone()),
                (Val::Path(p) | Val::Local(p), _) => ArgValue::Name(p.clone()),
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

    fn body(&mut self, body: &[Stmt], scope: &Scope) {
        for s in body {
            self.stmt(s, scope);
        }
    }

    /// Records the calls of one statement (and of the statements in it).
    fn stmt(&mut self, s: &Stmt, scope: &Scope) {
        if self.budget == 0 || self.walk_depth > MAX_WALK {
            self.out.truncated = true;
            return;
        }
        self.budget -= 1;
        self.walk_depth += 1;
        let mut r = Recorder { a: self, scope };
        match s {
            Stmt::Import(_) | Stmt::ImportFrom(_) => {}
            Stmt::FunctionDef(f) => {
                // Decorators, defaults and annotations run where the `def` is.
                for d in &f.decorator_list {
                    r.decorator(d);
                }
                if let Some(tp) = &f.type_params {
                    ast::visitor::Visitor::visit_type_params(&mut r, tp);
                }
                ast::visitor::Visitor::visit_parameters(&mut r, &f.parameters);
                if let Some(ret) = &f.returns {
                    ast::visitor::Visitor::visit_expr(&mut r, ret);
                }
                let inner = match scope {
                    Scope::Deferred => Scope::Deferred,
                    Scope::Class(c) => Scope::Function {
                        class: Some(c.clone()),
                        name: f.name.id.to_string(),
                    },
                    _ => Scope::Function {
                        class: None,
                        name: f.name.id.to_string(),
                    },
                };
                self.body(&f.body, &inner);
            }
            Stmt::ClassDef(c) => {
                for d in &c.decorator_list {
                    r.decorator(d);
                }
                if let Some(tp) = &c.type_params {
                    ast::visitor::Visitor::visit_type_params(&mut r, tp);
                }
                if let Some(args) = &c.arguments {
                    ast::visitor::Visitor::visit_arguments(&mut r, args);
                }
                self.body(&c.body, &Scope::Class(c.name.id.to_string()));
            }
            Stmt::If(i) => {
                ast::visitor::Visitor::visit_expr(&mut r, &i.test);
                if is_main_guard(&i.test) {
                    self.body(&i.body, &Scope::Deferred);
                } else {
                    self.body(&i.body, scope);
                }
                for c in &i.elif_else_clauses {
                    if let Some(t) = &c.test {
                        let mut r = Recorder { a: self, scope };
                        ast::visitor::Visitor::visit_expr(&mut r, t);
                    }
                    self.body(&c.body, scope);
                }
            }
            Stmt::While(w) => {
                ast::visitor::Visitor::visit_expr(&mut r, &w.test);
                self.body(&w.body, scope);
                self.body(&w.orelse, scope);
            }
            Stmt::For(f) => {
                ast::visitor::Visitor::visit_expr(&mut r, &f.target);
                ast::visitor::Visitor::visit_expr(&mut r, &f.iter);
                self.body(&f.body, scope);
                self.body(&f.orelse, scope);
            }
            Stmt::With(w) => {
                for item in &w.items {
                    ast::visitor::Visitor::visit_with_item(&mut r, item);
                }
                self.body(&w.body, scope);
            }
            Stmt::Try(t) => {
                self.body(&t.body, scope);
                for h in &t.handlers {
                    let ast::ExceptHandler::ExceptHandler(h) = h;
                    if let Some(ty) = &h.type_ {
                        let mut r = Recorder { a: self, scope };
                        ast::visitor::Visitor::visit_expr(&mut r, ty);
                    }
                    self.body(&h.body, scope);
                }
                self.body(&t.orelse, scope);
                self.body(&t.finalbody, scope);
            }
            Stmt::Match(m) => {
                ast::visitor::Visitor::visit_expr(&mut r, &m.subject);
                for c in &m.cases {
                    let mut r = Recorder { a: self, scope };
                    ast::visitor::Visitor::visit_pattern(&mut r, &c.pattern);
                    if let Some(g) = &c.guard {
                        ast::visitor::Visitor::visit_expr(&mut r, g);
                    }
                    self.body(&c.body, scope);
                }
            }
            other => ast::visitor::walk_stmt(&mut r, other),
        }
        self.walk_depth -= 1;
    }

    fn record_call(&mut self, c: &ast::ExprCall, f: &Val, args: &[(Arg, Val)], scope: &Scope) {
        let literal = self.text(c.func.range());
        self.record(c.range, literal, f, args, Some(&c.arguments), scope);
    }

    /// Records one call site: `range` is the call, `literal` its callee as written.
    fn record(
        &mut self,
        range: TextRange,
        literal: String,
        f: &Val,
        args: &[(Arg, Val)],
        arguments: Option<&ast::Arguments>,
        scope: &Scope,
    ) {
        if self.raw.len() >= MAX_RECORDS {
            return;
        }
        let (callee, rooted) = match f {
            Val::Path(p) => (Some(p.clone()), true),
            Val::Local(p) => (Some(p.clone()), false),
            _ => (None, false),
        };
        let text = self.text(range);
        let (line, column) = self.pos(range);
        // What the callee text says literally, to see whether resolution added anything.
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
            let first = arguments.and_then(|a| a.arguments_source_order().next());
            if let Some(ArgOrKeyword::Arg(e)) = first {
                if let Some(d) = self.leftmost_callee(e) {
                    if is_decoder(&d) {
                        decoder = Some(d);
                    }
                }
            }
        }
        self.raw.push(RawCall {
            offset: start(range),
            call: Call {
                callee,
                text,
                line,
                column,
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

    /// The resolved dotted callee of the first call written in `e`
    /// (`base64.b64decode` in `base64.b64decode(s).decode()`).
    fn leftmost_callee(&self, e: &Expr) -> Option<String> {
        let mut cur = e;
        for _ in 0..64 {
            match cur {
                Expr::Call(c) => {
                    if let Some(d) = dotted(&c.func) {
                        let (root, rest) = d.split_once('.').unwrap_or((&d, ""));
                        return match self.resolve_name(root) {
                            Val::Path(p) if rest.is_empty() => Some(p),
                            Val::Path(p) => Some(format!("{p}.{rest}")),
                            _ => None,
                        };
                    }
                    cur = &c.func;
                }
                Expr::Attribute(a) => cur = &a.value,
                _ => return None,
            }
        }
        None
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
        let mut raw = std::mem::take(&mut self.raw);
        // Source order (the walk visits a comprehension's loops before its element); a
        // call on a call result comes after the inner call (stable sort).
        raw.sort_by_key(|r| r.offset);
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
        for EnvRead { key, range, scope } in reads {
            let secret = key.as_deref().map(is_secret_name).unwrap_or(true);
            if !secret {
                continue;
            }
            let evidence = self.text(range);
            let (line, column) = self.pos(range);
            self.out.behaviours.push(Behaviour {
                kind: Kind::SecretEnv,
                what: "os.environ".into(),
                evidence,
                note: Some(match &key {
                    Some(k) => format!("reads the environment variable {k}"),
                    None => "reads the whole environment".into(),
                }),
                line,
                column,
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
                let inner = on_own_stack(code, &[], self.decode_depth + 1);
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

/// The recording walk over the expressions of one statement, in one scope.
struct Recorder<'r, 's> {
    a: &'r mut Analyzer<'s>,
    scope: &'r Scope,
}

impl Recorder<'_, '_> {
    /// A decorator is called with the function it decorates.
    fn decorator(&mut self, d: &ast::Decorator) {
        ast::visitor::Visitor::visit_expr(self, &d.expression);
        if matches!(d.expression, Expr::Call(_)) {
            return;
        }
        let v = self.a.eval(&d.expression, 0);
        if let Val::Path(p) | Val::Local(p) = &v {
            if !p.ends_with(')') {
                let literal = self.a.text(d.expression.range());
                self.a
                    .record(d.expression.range(), literal, &v, &[], None, self.scope);
            }
        }
    }

    fn call(&mut self, c: &ast::ExprCall) {
        // Calls in the callee first (`a(x).b(y)` records `a(x)`), then this one, then
        // those in its arguments.
        ast::visitor::Visitor::visit_expr(self, &c.func);
        let f = self.a.eval(&c.func, 0);
        let args = self.a.args(&c.arguments, 0);
        self.a.record_call(c, &f, &args, self.scope);
        // Whole-environment uses: `dict(os.environ)`, `json.dumps(os.environ)`.
        let fname = match &*c.func {
            Expr::Name(n) => Some(n.id.as_str()),
            Expr::Attribute(a) => Some(a.attr.id.as_str()),
            _ => None,
        };
        if matches!(fname, Some("dict" | "str" | "repr" | "dumps" | "list")) {
            if let Some(ArgOrKeyword::Arg(e)) = c.arguments.arguments_source_order().next() {
                if matches!(self.a.eval(e, 0), Val::Path(p) if p == "os.environ") {
                    self.a.env_reads.push(EnvRead {
                        key: None,
                        range: e.range(),
                        scope: self.scope.clone(),
                    });
                }
            }
        }
        for x in c.arguments.arguments_source_order() {
            ast::visitor::Visitor::visit_expr(self, x.value());
        }
    }
}

impl<'x> ast::visitor::Visitor<'x> for Recorder<'_, '_> {
    fn visit_stmt(&mut self, s: &'x Stmt) {
        self.a.stmt(s, self.scope);
    }

    fn visit_expr(&mut self, e: &'x Expr) {
        if self.a.budget == 0 || self.a.walk_depth > MAX_WALK {
            self.a.out.truncated = true;
            return;
        }
        self.a.budget -= 1;
        self.a.walk_depth += 1;
        match e {
            Expr::Call(c) => self.call(c),
            Expr::Subscript(s) => {
                if matches!(self.a.eval(&s.value, 0), Val::Path(p) if p == "os.environ") {
                    let key = match self.a.eval(&s.slice, 0) {
                        Val::Const(Const::Str(k)) => Some(k),
                        _ => None,
                    };
                    self.a.env_reads.push(EnvRead {
                        key,
                        range: s.range,
                        scope: self.scope.clone(),
                    });
                }
                ast::visitor::walk_expr(self, e);
            }
            Expr::Lambda(l) => {
                // Defaults run where the lambda is; its body when it is called.
                if let Some(p) = &l.parameters {
                    ast::visitor::Visitor::visit_parameters(self, p);
                }
                let mut inner = Recorder {
                    a: &mut *self.a,
                    scope: &Scope::Deferred,
                };
                ast::visitor::Visitor::visit_expr(&mut inner, &l.body);
            }
            _ => ast::visitor::walk_expr(self, e),
        }
        self.a.walk_depth -= 1;
    }
}

/// Values whose items are modules or callables (see [`Analyzer::item_of`]).
fn is_namespace(p: &str) -> bool {
    matches!(
        p,
        "sys.modules" | "builtins" | "builtins.globals()" | "builtins.locals()"
    ) || p.ends_with(".__dict__")
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
