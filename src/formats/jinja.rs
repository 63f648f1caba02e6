//! Static analysis of Jinja2 chat templates (GGUF `tokenizer.chat_template*`).
//!
//! llama-cpp-python before 0.2.72 rendered a GGUF's chat template with a plain
//! `jinja2.Environment()` — not the sandbox — so a template could walk from any value to
//! Python internals (`().__class__.__base__.__subclasses__()` ... `__builtins__`,
//! `__import__('os').popen(...)`): CVE-2024-34359. Outside the sandbox every route to
//! internals goes through an attribute or item whose name starts with `_` (Jinja's own
//! sandbox draws the line at the same place), so the analysis looks for exactly that, in
//! every form a template can spell it:
//!
//! - attribute access `x.__class__`, item access `x['__class__']` (Jinja's subscript falls
//!   back to `getattr`), the `attr` filter, `attribute=` arguments of `map`, `selectattr`,
//!   `groupby`, `sort`, `sum`, ..., and `str.format` fields (`'{0.__class__}'.format(x)`);
//! - names built at run time: string literals are unescaped as Jinja does (`'\x5f'`),
//!   adjacent literals joined, and `~`, `+`, `*`, `%`, slicing, `format`, `join`,
//!   `replace`, `reverse`, `lower`/`upper`, `first`/`last`, `dict(__x=1)|first` ... are
//!   folded, through `set` variables (every value ever assigned is kept);
//! - a name that cannot be folded because it was computed from non-constant text
//!   (`(lipsum|string)[18]`) used as an attribute or item name is reported as dynamic
//!   access (high): it hides what it reaches, and real chat templates never do it.
//!
//! A token-level pass runs as well, so a template the parser cannot follow still has its
//! `.__x`, `'__x__'` and `__x` tokens reported.

use std::collections::HashMap;

use crate::finding::Severity;

/// What the analysis found: one line per problem.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Hit {
    pub severity: Severity,
    pub what: String,
    /// Byte offset in the template of the tag (`{{` / `{%`) where it was found (the
    /// first such tag when the same thing is found several times).
    pub at: usize,
}

#[derive(Debug, Default)]
pub struct Analysis {
    pub hits: Vec<Hit>,
    /// The template has syntax this parser could not follow (only the token-level pass
    /// covered that part).
    pub unparsed: Option<String>,
}

/// Most hits kept per template.
const MAX_HITS: usize = 16;
/// Expression nesting the parser follows.
const MAX_DEPTH: usize = 64;
/// Alternatives tracked per folded value (a variable assigned many times, conditionals).
const MAX_ALTS: usize = 16;
/// Longest folded string (`'_' * 10**9` must not allocate a gigabyte).
const MAX_STR: usize = 1024;
/// Expressions evaluated per template; past it the analysis stops folding and says so.
const MAX_WORK: u32 = 500_000;

/// Attribute names that reach interpreter internals without a leading underscore.
const GADGETS: &[&str] = &[
    "mro",
    "func_globals",
    "func_code",
    "f_globals",
    "f_builtins",
    "f_locals",
    "f_back",
    "gi_frame",
    "gi_code",
    "cr_frame",
    "cr_code",
    "ag_frame",
    "ag_code",
    "tb_frame",
    "tb_next",
    "co_code",
    "im_func",
    "popen",
    "import_module",
];

pub fn analyse(template: &str) -> Analysis {
    let mut a = Analyser::default();
    let segments = match lex(template) {
        Ok(s) => s,
        Err((msg, partial)) => {
            a.unparsed = Some(msg);
            partial
        }
    };
    for seg in &segments {
        if let Seg::Tag { toks, at, .. } = seg {
            a.at = *at;
            a.token_pass(toks);
        }
    }
    a.run(&segments);
    let mut hits = a.hits;
    hits.sort_by(|x, y| {
        y.severity
            .cmp(&x.severity)
            .then(x.what.cmp(&y.what))
            .then(x.at.cmp(&y.at))
    });
    hits.dedup_by(|later, first| later.severity == first.severity && later.what == first.what);
    hits.truncate(MAX_HITS);
    Analysis {
        hits,
        unparsed: a.unparsed,
    }
}

// ---------------------------------------------------------------------------------------
// Lexer

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Name(String),
    Str(String),
    Int(i64),
    Float,
    Op(&'static str),
}

#[derive(Debug)]
enum Seg {
    Text(String),
    /// `{{ }}` (`print`) or `{% %}`, starting at byte `at` of the template.
    Tag {
        print: bool,
        toks: Vec<Tok>,
        at: usize,
    },
}

type LexErr = (String, Vec<Seg>);

const OPS: &[&str] = &[
    "//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "(", ")", "[", "]", "{", "}",
    ".", ",", ":", "|", "=", "<", ">", ";",
];

fn lex(src: &str) -> Result<Vec<Seg>, LexErr> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut text_start = 0;
    while let Some(&[open, kind]) = b.get(i..i + 2) {
        if open != b'{' || !matches!(kind, b'{' | b'%' | b'#') {
            i += 1;
            continue;
        }
        if text_start < i {
            out.push(Seg::Text(src[text_start..i].to_string()));
        }
        let tag_at = i;
        i += 2;
        if kind == b'#' {
            match src[i..].find("#}") {
                Some(p) => i += p + 2,
                None => return Err(("unterminated comment".into(), out)),
            }
            text_start = i;
            continue;
        }
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        let (toks, end) = match lex_tag(src, i, kind == b'{') {
            Ok(x) => x,
            Err((e, toks)) => {
                // Keep what was read so the token pass still sees it.
                out.push(Seg::Tag {
                    print: false,
                    toks,
                    at: tag_at,
                });
                return Err((e, out));
            }
        };
        i = end;
        // `{% raw %}` ... `{% endraw %}`: text, not tags.
        if kind == b'%' && toks.first() == Some(&Tok::Name("raw".into())) {
            let rest = &src[i..];
            let mut j = 0;
            let mut found = None;
            while let Some(p) = rest[j..].find("{%") {
                let after = rest[j + p + 2..].trim_start_matches(['-', '+', ' ', '\t', '\n']);
                if after.starts_with("endraw") {
                    found = Some(j + p);
                    break;
                }
                j += p + 2;
            }
            let Some(p) = found else {
                return Err(("unterminated raw block".into(), out));
            };
            out.push(Seg::Text(rest[..p].to_string()));
            match rest[p..].find("%}") {
                Some(q) => i += p + q + 2,
                None => return Err(("unterminated raw block".into(), out)),
            }
            text_start = i;
            continue;
        }
        out.push(Seg::Tag {
            print: kind == b'{',
            toks,
            at: tag_at,
        });
        text_start = i;
    }
    if text_start < src.len() {
        out.push(Seg::Text(src[text_start..].to_string()));
    }
    Ok(out)
}

/// Tokens of one tag from `i` to its closing `}}` / `%}` (outside strings and brackets,
/// as Jinja's lexer balances them); returns the tokens and the index after the closer.
fn lex_tag(src: &str, mut i: usize, print: bool) -> Result<(Vec<Tok>, usize), (String, Vec<Tok>)> {
    let b = src.as_bytes();
    let mut toks = Vec::new();
    let mut depth = 0usize;
    loop {
        while b.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        let Some(&c) = b.get(i) else {
            return Err(("unterminated tag".into(), toks));
        };
        let rest = &src[i..];
        if depth == 0 {
            let closer = if print { "}}" } else { "%}" };
            for pre in ["-", "+", ""] {
                if rest.starts_with(pre) && rest[pre.len()..].starts_with(closer) {
                    return Ok((toks, i + pre.len() + 2));
                }
            }
        }
        if c == b'\'' || c == b'"' {
            let mut j = i + 1;
            while let Some(&d) = b.get(j).filter(|&&d| d != c) {
                if d == b'\\' {
                    j += 1;
                }
                j += 1;
            }
            if j >= b.len() {
                return Err(("unterminated string".into(), toks));
            }
            toks.push(Tok::Str(unescape(&src[i + 1..j])));
            i = j + 1;
        } else if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 {
            let mut j = i;
            while b
                .get(j)
                .is_some_and(|&d| d.is_ascii_alphanumeric() || d == b'_' || d >= 0x80)
            {
                j += 1;
            }
            // Stay on a char boundary (non-ASCII identifiers are taken whole).
            while !src.is_char_boundary(j) {
                j += 1;
            }
            toks.push(Tok::Name(src[i..j].to_string()));
            i = j;
        } else if c.is_ascii_digit() {
            let mut j = i;
            while b
                .get(j)
                .is_some_and(|&d| d.is_ascii_alphanumeric() || d == b'_')
            {
                j += 1;
            }
            let mut float = false;
            if matches!(b.get(j..j + 2), Some(&[b'.', d]) if d.is_ascii_digit()) {
                float = true;
                j += 1;
                while b
                    .get(j)
                    .is_some_and(|&d| d.is_ascii_alphanumeric() || d == b'_')
                {
                    j += 1;
                }
            }
            let lit = src[i..j].replace('_', "").to_ascii_lowercase();
            let v = if float || lit.contains('e') && !lit.starts_with("0x") {
                None
            } else if let Some(h) = lit.strip_prefix("0x") {
                i64::from_str_radix(h, 16).ok()
            } else if let Some(o) = lit.strip_prefix("0o") {
                i64::from_str_radix(o, 8).ok()
            } else if let Some(bn) = lit.strip_prefix("0b") {
                i64::from_str_radix(bn, 2).ok()
            } else {
                lit.parse().ok()
            };
            toks.push(v.map_or(Tok::Float, Tok::Int));
            i = j;
        } else {
            let Some(op) = OPS.iter().find(|o| rest.starts_with(**o)) else {
                return Err((
                    format!("unexpected character {:?}", rest.chars().next()),
                    toks,
                ));
            };
            match *op {
                "(" | "[" | "{" => depth += 1,
                ")" | "]" | "}" => depth = depth.saturating_sub(1),
                _ => {}
            }
            toks.push(Tok::Op(op));
            i += op.len();
        }
    }
}

/// Jinja decodes string literals with Python's `unicode-escape` codec.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = it.next() else {
            out.push('\\');
            break;
        };
        let hex = |it: &mut std::iter::Peekable<std::str::Chars>, n: usize| {
            let mut v = 0u32;
            for _ in 0..n {
                v = v * 16 + it.next()?.to_digit(16)?;
            }
            char::from_u32(v)
        };
        match e {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'v' => out.push('\x0b'),
            '\n' => {}
            'x' => out.extend(hex(&mut it, 2)),
            'u' => out.extend(hex(&mut it, 4)),
            'U' => out.extend(hex(&mut it, 8)),
            '0'..='7' => {
                let mut v = e.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match it.peek().and_then(|c| c.to_digit(8)) {
                        Some(d) => {
                            v = v * 8 + d;
                            it.next();
                        }
                        None => break,
                    }
                }
                out.extend(char::from_u32(v));
            }
            '\\' | '\'' | '"' => out.push(e),
            other => {
                out.push('\\');
                out.push(other);
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Parser

#[derive(Clone, Debug)]
enum E {
    Name(String),
    Str(String),
    Int(i64),
    Other,
    List(Vec<E>),
    Dict(Vec<(E, E)>),
    Attr(Box<E>, String),
    Item(Box<E>, Box<E>),
    Slice(Box<E>, [Option<Box<E>>; 3]),
    Call(Box<E>, Vec<E>, Vec<(String, E)>),
    Filter(Box<E>, String, Vec<E>, Vec<(String, E)>),
    Test(Box<E>, Vec<E>),
    Bin(&'static str, Box<E>, Box<E>),
    Unary(Box<E>),
    Cond(Box<E>, Box<E>, Option<Box<E>>),
}

struct P<'t> {
    t: &'t [Tok],
    i: usize,
    depth: usize,
}

type R<T> = Result<T, String>;
/// Positional and keyword arguments of a call or filter.
type Args = (Vec<E>, Vec<(String, E)>);

impl<'t> P<'t> {
    fn new(t: &'t [Tok]) -> P<'t> {
        P { t, i: 0, depth: 0 }
    }
    fn peek(&self) -> Option<&'t Tok> {
        self.t.get(self.i)
    }
    fn at_op(&self, op: &str) -> bool {
        matches!(self.peek(), Some(Tok::Op(o)) if *o == op)
    }
    fn at_name(&self, n: &str) -> bool {
        matches!(self.peek(), Some(Tok::Name(x)) if x == n)
    }
    fn eat_op(&mut self, op: &str) -> bool {
        let y = self.at_op(op);
        if y {
            self.i += 1;
        }
        y
    }
    fn eat_name(&mut self, n: &str) -> bool {
        let y = self.at_name(n);
        if y {
            self.i += 1;
        }
        y
    }
    fn expect_op(&mut self, op: &str) -> R<()> {
        if self.eat_op(op) {
            Ok(())
        } else {
            Err(format!("expected `{op}`"))
        }
    }
    fn name(&mut self) -> R<String> {
        match self.peek() {
            Some(Tok::Name(n)) => {
                self.i += 1;
                Ok(n.clone())
            }
            _ => Err("expected a name".into()),
        }
    }
    fn done(&self) -> bool {
        self.i >= self.t.len()
    }
    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("expression nested too deeply".into());
        }
        Ok(())
    }

    /// `a, b` → a list; a single expression stays itself.
    fn tuple(&mut self, cond: bool) -> R<E> {
        let first = self.expr(cond)?;
        if !self.at_op(",") {
            return Ok(first);
        }
        let mut v = vec![first];
        while self.eat_op(",") {
            if self.done() || self.at_op(")") || self.at_op("=") || self.at_name("in") {
                break;
            }
            v.push(self.expr(cond)?);
        }
        Ok(E::List(v))
    }

    fn expr(&mut self, cond: bool) -> R<E> {
        self.enter()?;
        let mut e = self.or()?;
        if cond {
            while self.eat_name("if") {
                let c = self.or()?;
                let alt = if self.eat_name("else") {
                    Some(Box::new(self.expr(true)?))
                } else {
                    None
                };
                e = E::Cond(Box::new(e), Box::new(c), alt);
            }
        }
        self.depth -= 1;
        Ok(e)
    }
    fn or(&mut self) -> R<E> {
        let mut l = self.and()?;
        while self.eat_name("or") {
            l = E::Bin("or", Box::new(l), Box::new(self.and()?));
        }
        Ok(l)
    }
    fn and(&mut self) -> R<E> {
        let mut l = self.not()?;
        while self.eat_name("and") {
            l = E::Bin("and", Box::new(l), Box::new(self.not()?));
        }
        Ok(l)
    }
    fn not(&mut self) -> R<E> {
        if self.eat_name("not") {
            self.enter()?;
            let e = self.not()?;
            self.depth -= 1;
            return Ok(E::Unary(Box::new(e)));
        }
        self.compare()
    }
    fn compare(&mut self) -> R<E> {
        let mut l = self.math1()?;
        loop {
            let op = match self.peek() {
                Some(Tok::Op(o)) if matches!(*o, "==" | "!=" | "<" | ">" | "<=" | ">=") => {
                    self.i += 1;
                    "cmp"
                }
                Some(Tok::Name(n)) if n == "in" => {
                    self.i += 1;
                    "cmp"
                }
                Some(Tok::Name(n))
                    if n == "not"
                        && matches!(self.t.get(self.i + 1), Some(Tok::Name(x)) if x == "in") =>
                {
                    self.i += 2;
                    "cmp"
                }
                _ => return Ok(l),
            };
            l = E::Bin(op, Box::new(l), Box::new(self.math1()?));
        }
    }
    fn math1(&mut self) -> R<E> {
        let mut l = self.concat()?;
        loop {
            let op = if self.eat_op("+") {
                "+"
            } else if self.eat_op("-") {
                "-"
            } else {
                return Ok(l);
            };
            l = E::Bin(op, Box::new(l), Box::new(self.concat()?));
        }
    }
    fn concat(&mut self) -> R<E> {
        let mut l = self.math2()?;
        while self.eat_op("~") {
            l = E::Bin("~", Box::new(l), Box::new(self.math2()?));
        }
        Ok(l)
    }
    fn math2(&mut self) -> R<E> {
        let mut l = self.pow()?;
        loop {
            let op = ["*", "/", "//", "%"].into_iter().find(|o| self.at_op(o));
            let Some(op) = op else { return Ok(l) };
            self.i += 1;
            l = E::Bin(op, Box::new(l), Box::new(self.pow()?));
        }
    }
    fn pow(&mut self) -> R<E> {
        let mut l = self.unary()?;
        while self.eat_op("**") {
            l = E::Bin("**", Box::new(l), Box::new(self.unary()?));
        }
        Ok(l)
    }
    fn unary(&mut self) -> R<E> {
        self.enter()?;
        let e = if self.eat_op("-") || self.eat_op("+") {
            E::Unary(Box::new(self.unary()?))
        } else {
            self.primary()?
        };
        let e = self.postfix(e)?;
        let e = self.filters(e)?;
        self.depth -= 1;
        Ok(e)
    }
    fn primary(&mut self) -> R<E> {
        let Some(t) = self.peek() else {
            return Err("unexpected end of expression".into());
        };
        self.i += 1;
        Ok(match t {
            Tok::Name(n) => match n.as_str() {
                "true" | "false" | "none" | "True" | "False" | "None" => E::Other,
                _ => E::Name(n.clone()),
            },
            Tok::Str(s) => {
                let mut s = s.clone();
                while let Some(Tok::Str(more)) = self.peek() {
                    s.push_str(more);
                    self.i += 1;
                }
                E::Str(s)
            }
            Tok::Int(v) => E::Int(*v),
            Tok::Float => E::Other,
            Tok::Op("(") => {
                if self.eat_op(")") {
                    return Ok(E::List(vec![]));
                }
                let e = self.tuple(true)?;
                self.expect_op(")")?;
                e
            }
            Tok::Op("[") => {
                let mut v = Vec::new();
                while !self.eat_op("]") {
                    v.push(self.expr(true)?);
                    if !self.eat_op(",") {
                        self.expect_op("]")?;
                        break;
                    }
                }
                E::List(v)
            }
            Tok::Op("{") => {
                let mut v = Vec::new();
                while !self.eat_op("}") {
                    let k = self.expr(true)?;
                    self.expect_op(":")?;
                    v.push((k, self.expr(true)?));
                    if !self.eat_op(",") {
                        self.expect_op("}")?;
                        break;
                    }
                }
                E::Dict(v)
            }
            t => return Err(format!("unexpected {t:?}")),
        })
    }
    fn postfix(&mut self, mut e: E) -> R<E> {
        loop {
            if self.eat_op(".") {
                e = match self.peek() {
                    Some(Tok::Name(n)) => E::Attr(Box::new(e), n.clone()),
                    Some(Tok::Int(v)) => E::Item(Box::new(e), Box::new(E::Int(*v))),
                    _ => return Err("expected a name after `.`".into()),
                };
                self.i += 1;
            } else if self.eat_op("[") {
                e = self.subscript(e)?;
            } else if self.at_op("(") {
                self.i += 1;
                let (a, k) = self.args()?;
                e = E::Call(Box::new(e), a, k);
            } else {
                return Ok(e);
            }
        }
    }
    fn subscript(&mut self, base: E) -> R<E> {
        let mut parts: [Option<Box<E>>; 3] = [None, None, None];
        let mut slot = 0;
        let mut slice = false;
        loop {
            if self.eat_op("]") {
                break;
            }
            if self.eat_op(":") {
                slice = true;
                slot += 1;
                if slot > 2 {
                    return Err("bad slice".into());
                }
                continue;
            }
            if self.eat_op(",") {
                continue;
            }
            *parts.get_mut(slot).ok_or("bad slice")? = Some(Box::new(self.expr(true)?));
        }
        Ok(if slice {
            E::Slice(Box::new(base), parts)
        } else {
            let key = parts[0].take().ok_or("empty subscript")?;
            E::Item(Box::new(base), key)
        })
    }
    /// Arguments after `(`, up to and including `)`.
    fn args(&mut self) -> R<Args> {
        let mut a = Vec::new();
        let mut k = Vec::new();
        while !self.eat_op(")") {
            if self.eat_op("**") || self.eat_op("*") {
                a.push(self.expr(true)?);
            } else if matches!(self.peek(), Some(Tok::Name(_)))
                && matches!(self.t.get(self.i + 1), Some(Tok::Op("=")))
            {
                let n = self.name()?;
                self.i += 1;
                k.push((n, self.expr(true)?));
            } else {
                a.push(self.expr(true)?);
            }
            if !self.eat_op(",") {
                self.expect_op(")")?;
                break;
            }
        }
        Ok((a, k))
    }
    fn filter_name(&mut self) -> R<String> {
        let mut n = self.name()?;
        while self.at_op(".") && matches!(self.t.get(self.i + 1), Some(Tok::Name(_))) {
            self.i += 1;
            n.push('.');
            n.push_str(&self.name()?);
        }
        Ok(n)
    }
    fn filters(&mut self, mut e: E) -> R<E> {
        loop {
            if self.eat_op("|") {
                let n = self.filter_name()?;
                let (a, k) = if self.eat_op("(") {
                    self.args()?
                } else {
                    (vec![], vec![])
                };
                e = E::Filter(Box::new(e), n, a, k);
            } else if self.eat_name("is") {
                self.eat_name("not");
                self.filter_name()?;
                let mut args = Vec::new();
                if self.eat_op("(") {
                    args = self.args()?.0;
                } else if matches!(
                    self.peek(),
                    Some(Tok::Str(_) | Tok::Int(_) | Tok::Float | Tok::Op("(" | "[" | "{"))
                ) || matches!(self.peek(), Some(Tok::Name(n)) if !matches!(n.as_str(), "and" | "or" | "else" | "if" | "in" | "is" | "not" | "recursive"))
                {
                    args.push(self.primary().and_then(|p| self.postfix(p))?);
                }
                e = E::Test(Box::new(e), args);
            } else if self.eat_op("(") {
                // Jinja calls the result of a filter directly: `x|attr('popen')('id')`.
                let (a, k) = self.args()?;
                e = E::Call(Box::new(e), a, k);
            } else {
                return Ok(e);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Folding and checks

#[derive(Clone, Debug, PartialEq)]
enum C {
    Str(String),
    Int(i64),
    List(Vec<C>),
}

/// What an expression may evaluate to: constant alternatives, and/or a value from the
/// render context (`data`), and/or a string computed from non-constant inputs (`built`).
#[derive(Clone, Debug, Default)]
struct V {
    alts: Vec<C>,
    data: bool,
    built: bool,
}

impl V {
    fn c(c: C) -> V {
        V {
            alts: vec![c],
            ..V::default()
        }
    }
    fn data() -> V {
        V {
            data: true,
            ..V::default()
        }
    }
    fn built() -> V {
        V {
            built: true,
            ..V::default()
        }
    }
    fn union(mut self, o: V) -> V {
        for c in o.alts {
            if self.alts.len() >= MAX_ALTS {
                self.built = true;
                break;
            }
            if !self.alts.contains(&c) {
                self.alts.push(c);
            }
        }
        self.data |= o.data;
        self.built |= o.built;
        self
    }
    fn has_str(&self) -> bool {
        self.alts.iter().any(|c| matches!(c, C::Str(_)))
    }
    /// The value after a string operation whose constant results are `f` of each
    /// alternative (or pair of alternatives).
    fn map(&self, f: impl Fn(&C) -> Option<C>) -> V {
        let mut out = V {
            data: false,
            built: self.built || self.data,
            alts: vec![],
        };
        for c in &self.alts {
            match f(c) {
                Some(r) => out = out.union(V::c(r)),
                None => out.built = true,
            }
        }
        out
    }
    fn zip(&self, o: &V, f: impl Fn(&C, &C) -> Option<C>) -> V {
        let mut out = V {
            data: false,
            built: self.built || self.data || o.built || o.data,
            alts: vec![],
        };
        let mut pairs = 0;
        for a in &self.alts {
            for b in &o.alts {
                // At most MAX_ALTS results are computed; the rest count as computed text.
                pairs += 1;
                if pairs > MAX_ALTS {
                    out.built = true;
                    break;
                }
                match f(a, b) {
                    Some(r) => out = out.union(V::c(r)),
                    None => out.built = true,
                }
            }
        }
        // A constant side joined with a non-constant one makes a computed string.
        if (!self.alts.is_empty() && (o.data || o.built))
            || (!o.alts.is_empty() && (self.data || self.built))
        {
            out.built = true;
        }
        out
    }
}

fn cap(s: String) -> Option<C> {
    (s.len() <= MAX_STR).then_some(C::Str(s))
}

fn as_text(c: &C) -> Option<String> {
    match c {
        C::Str(s) => Some(s.clone()),
        C::Int(i) => Some(i.to_string()),
        C::List(_) => None,
    }
}

/// Python's `%`-formatting for the conversions a name-builder needs (`%c`, `%s`, `%d`).
fn percent(fmt: &str, args: &C) -> Option<C> {
    let args: Vec<C> = match args {
        C::List(v) => v.clone(),
        c => vec![c.clone()],
    };
    let mut it = args.iter();
    let mut out = String::new();
    let mut chars = fmt.chars();
    while let Some(ch) = chars.next() {
        if ch != '%' {
            out.push(ch);
            continue;
        }
        match chars.next()? {
            '%' => out.push('%'),
            'c' => match it.next()? {
                C::Int(i) => out.push(char::from_u32(u32::try_from(*i).ok()?)?),
                C::Str(s) if s.chars().count() == 1 => out.push_str(s),
                _ => return None,
            },
            's' | 'd' | 'i' => out.push_str(&as_text(it.next()?)?),
            _ => return None,
        }
    }
    cap(out)
}

/// `str.format` with positional `{}` / `{0}` fields.
fn brace_format(fmt: &str, args: &[C]) -> Option<C> {
    let mut out = String::new();
    let mut auto = 0;
    let mut rest = fmt;
    while let Some(p) = rest.find(['{', '}']) {
        out.push_str(&rest[..p]);
        let r = &rest[p..];
        if r.starts_with("{{") || r.starts_with("}}") {
            out.push_str(&r[..1]);
            rest = &r[2..];
            continue;
        }
        let end = r.find('}')?;
        let field = &r[1..end];
        let idx = if field.is_empty() {
            auto += 1;
            auto - 1
        } else {
            field.parse().ok()?
        };
        out.push_str(&as_text(args.get(idx)?)?);
        rest = &r[end + 1..];
    }
    out.push_str(rest);
    cap(out)
}

fn slice_str(s: &str, a: Option<i64>, b: Option<i64>, step: Option<i64>) -> Option<C> {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len() as i64;
    let step = step.unwrap_or(1);
    if step == 0 {
        return None;
    }
    let norm = |x: i64| if x < 0 { (x + n).max(0) } else { x.min(n) };
    let mut out = String::new();
    if step > 0 {
        let (mut i, e) = (a.map_or(0, norm), b.map_or(n, norm));
        while i < e {
            let Some(&c) = chars.get(i as usize) else {
                break;
            };
            out.push(c);
            i = i.saturating_add(step);
        }
    } else {
        let clamp = |x: i64| if x < 0 { x + n } else { x.min(n - 1) };
        let mut i = a.map_or(n - 1, clamp);
        let e = b.map_or(-1, clamp);
        while i > e && i >= 0 {
            let Some(&c) = chars.get(i as usize) else {
                break;
            };
            out.push(c);
            i = i.saturating_add(step);
        }
    }
    cap(out)
}

/// Whether `name`, used as an attribute or item name, reaches Python internals.
fn internal_name(name: &str) -> bool {
    name.starts_with('_') || GADGETS.contains(&name)
}

/// Whether a constant string spells a dunder name (`__class__`), or a `str.format`
/// field that walks into one (`{0.__class__}`).
fn dunder_text(s: &str) -> Option<String> {
    let mut from = 0;
    while let Some(p) = s[from..].find("__") {
        let start = from + p;
        let body_start = start + 2;
        if let Some(q) = s[body_start..].find("__") {
            let body = &s[body_start..body_start + q];
            if !body.is_empty()
                && body.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
                && body.bytes().any(|c| c.is_ascii_alphabetic())
            {
                return Some(format!("__{body}__"));
            }
        }
        from = start + 1;
    }
    None
}

#[derive(Default)]
struct Analyser {
    hits: Vec<Hit>,
    unparsed: Option<String>,
    env: HashMap<String, V>,
    work: u32,
    /// Open `{% set x %}...{% endset %}` blocks: the name and the pieces rendered so far.
    blocks: Vec<(String, V)>,
    /// Byte offset of the tag being analysed.
    at: usize,
}

impl Analyser {
    fn hit(&mut self, severity: Severity, what: String) {
        if self.hits.len() < 4 * MAX_HITS {
            let at = self.at;
            self.hits.push(Hit { severity, what, at });
        }
    }

    fn token_pass(&mut self, toks: &[Tok]) {
        for (i, t) in toks.iter().enumerate() {
            match t {
                Tok::Name(n)
                    if internal_name(n)
                        && i.checked_sub(1).and_then(|p| toks.get(p)) == Some(&Tok::Op(".")) =>
                {
                    self.hit(Severity::Critical, format!("attribute `.{n}`"));
                }
                Tok::Name(n) if n.starts_with("__") => {
                    self.hit(Severity::Critical, format!("name `{n}`"));
                }
                Tok::Str(s) => {
                    if let Some(d) = dunder_text(s) {
                        self.hit(Severity::Critical, format!("string naming `{d}`"));
                    }
                }
                _ => {}
            }
        }
    }

    fn run(&mut self, segs: &[Seg]) {
        for seg in segs {
            match seg {
                Seg::Text(t) => self.output(V::c(C::Str(t.clone()))),
                Seg::Tag {
                    print: true,
                    toks,
                    at,
                } => {
                    self.at = *at;
                    let mut p = P::new(toks);
                    match p.tuple(true) {
                        Ok(e) if p.done() => {
                            let v = self.eval(&e);
                            self.output(v);
                        }
                        Ok(_) => self.unparsed("expression has trailing tokens"),
                        Err(m) => self.unparsed(&m),
                    }
                }
                Seg::Tag {
                    print: false,
                    toks,
                    at,
                } => {
                    self.at = *at;
                    if let Err(m) = self.statement(toks) {
                        self.unparsed(&m);
                    }
                }
            }
        }
    }

    fn unparsed(&mut self, m: &str) {
        if self.unparsed.is_none() {
            self.unparsed = Some(m.to_string());
        }
    }

    /// Output inside a `{% set x %}` block becomes part of `x`.
    fn output(&mut self, v: V) {
        if let Some((_, acc)) = self.blocks.last_mut() {
            let joined = acc.zip(&v, |a, b| cap(as_text(a)? + &as_text(b)?));
            *acc = joined;
        }
    }

    fn assign(&mut self, target: &E, v: V) {
        match target {
            E::Name(n) => {
                let merged = match self.env.remove(n) {
                    Some(old) => old.union(v),
                    None => v,
                };
                self.env.insert(n.clone(), merged);
            }
            E::List(items) => {
                for t in items {
                    self.assign(t, V::data());
                }
            }
            _ => {}
        }
    }

    fn statement(&mut self, toks: &[Tok]) -> R<()> {
        let mut p = P::new(toks);
        let Some(Tok::Name(kw)) = p.peek() else {
            return Err("statement without a keyword".into());
        };
        p.i += 1;
        match kw.as_str() {
            "for" => {
                let mut targets = Vec::new();
                while !p.at_name("in") {
                    match p.peek() {
                        Some(Tok::Name(n)) => targets.push(E::Name(n.clone())),
                        Some(Tok::Op("," | "(" | ")")) => {}
                        _ => return Err("bad for target".into()),
                    }
                    p.i += 1;
                }
                p.i += 1;
                let it = p.tuple(false)?;
                let v = self.eval(&it);
                // One loop variable takes every item of a constant list (or character of
                // a constant string): `{% for k in ['__ssalc'] %}` folds like a `set`.
                let mut item = V::data();
                for c in &v.alts {
                    match c {
                        C::List(l) => {
                            for x in l {
                                item = item.union(V::c(x.clone()));
                            }
                        }
                        C::Str(st) => {
                            for ch in st.chars().take(MAX_STR) {
                                item = item.union(V::c(C::Str(ch.into())));
                            }
                        }
                        C::Int(_) => {}
                    }
                }
                item.built |= v.built;
                for t in &targets {
                    let value = if targets.len() == 1 {
                        item.clone()
                    } else {
                        V::data()
                    };
                    self.assign(t, value);
                }
                if p.eat_name("if") {
                    let c = p.expr(false)?;
                    self.eval(&c);
                }
                p.eat_name("recursive");
            }
            "if" | "elif" | "do" => {
                let e = p.tuple(true)?;
                self.eval(&e);
            }
            "set" => {
                let target = p.tuple(false);
                if p.eat_op("=") {
                    let e = p.tuple(true)?;
                    let v = self.eval(&e);
                    if let Ok(t) = target {
                        self.assign(&t, v);
                    }
                } else {
                    let name = match target {
                        Ok(E::Name(n)) => n,
                        _ => String::new(),
                    };
                    // A block filter (`{% set x | upper %}`) is parsed with the target.
                    self.blocks.push((name, V::c(C::Str(String::new()))));
                }
            }
            "endset" => {
                if let Some((name, v)) = self.blocks.pop() {
                    if !name.is_empty() {
                        self.assign(&E::Name(name), v);
                    }
                }
            }
            "macro" | "call" => {
                if kw == "call" && p.eat_op("(") {
                    for (n, d) in params(&mut p)? {
                        let v = d.map_or_else(V::data, |d| self.eval(&d).union(V::data()));
                        self.assign(&E::Name(n), v);
                    }
                }
                if kw == "macro" {
                    p.name()?;
                    p.expect_op("(")?;
                    for (n, d) in params(&mut p)? {
                        let v = d.map_or_else(V::data, |d| self.eval(&d).union(V::data()));
                        self.assign(&E::Name(n), v);
                    }
                } else {
                    let e = p.expr(true)?;
                    self.eval(&e);
                }
            }
            "with" => {
                while !p.done() {
                    let n = p.name()?;
                    p.expect_op("=")?;
                    let e = p.expr(true)?;
                    let v = self.eval(&e);
                    self.assign(&E::Name(n), v);
                    p.eat_op(",");
                }
            }
            "filter" => {
                let e = p.filters(E::Other);
                let e = match e {
                    Ok(E::Other) | Err(_) => {
                        // `{% filter upper %}`: no leading `|`.
                        p.i = 1;
                        let n = p.filter_name()?;
                        let (a, k) = if p.eat_op("(") {
                            p.args()?
                        } else {
                            (vec![], vec![])
                        };
                        p.filters(E::Filter(Box::new(E::Other), n, a, k))?
                    }
                    Ok(e) => e,
                };
                self.eval(&e);
            }
            _ => {
                // include/import/extends/block/else/end*/break/continue/generation...:
                // evaluate whatever expressions they hold; the token pass saw the rest.
                while !p.done() {
                    if p.tuple(true).map(|e| self.eval(&e)).is_err() {
                        p.i += 1;
                    }
                }
            }
        }
        if !p.done() {
            return Err(format!("unexpected tokens after `{kw}`"));
        }
        Ok(())
    }

    /// Checks a name used for attribute or item access.
    fn access(&mut self, key: &V, how: &str, data_is_dynamic: bool) {
        for c in &key.alts {
            if let C::Str(s) = c {
                // `map(attribute='a.__class__')` walks a dotted path.
                if s.split('.').any(internal_name) {
                    self.hit(Severity::Critical, format!("{how} `{}`", show(s)));
                }
            }
        }
        if key.built || (data_is_dynamic && key.data) {
            self.hit(
                Severity::High,
                format!("{how} with a name computed at render time"),
            );
        }
    }

    fn eval(&mut self, e: &E) -> V {
        self.work += 1;
        if self.work > MAX_WORK {
            self.unparsed("template too large to analyse (expression budget exhausted)");
            return V::built();
        }
        let v = self.eval_inner(e);
        for c in &v.alts {
            if let C::Str(s) = c {
                if let Some(d) = dunder_text(s) {
                    self.hit(Severity::Critical, format!("string built to `{d}`"));
                }
            }
        }
        v
    }

    fn eval_inner(&mut self, e: &E) -> V {
        match e {
            E::Name(n) => self.env.get(n).cloned().unwrap_or_else(V::data),
            E::Str(s) => V::c(C::Str(s.clone())),
            E::Int(i) => V::c(C::Int(*i)),
            E::Other => V::data(),
            E::List(items) => {
                let vs: Vec<V> = items.iter().map(|x| self.eval(x)).collect();
                if vs.iter().all(|v| v.alts.len() == 1 && !v.data && !v.built) {
                    V::c(C::List(
                        vs.into_iter()
                            .filter_map(|v| v.alts.into_iter().next())
                            .collect(),
                    ))
                } else {
                    let built = vs.iter().any(|v| v.built);
                    V { built, ..V::data() }
                }
            }
            E::Dict(kv) => {
                for (k, v) in kv {
                    self.eval(k);
                    self.eval(v);
                }
                V::data()
            }
            E::Attr(base, name) => {
                let b = self.eval(base);
                if internal_name(name) {
                    self.hit(Severity::Critical, format!("attribute `.{name}`"));
                }
                V {
                    built: b.built,
                    ..V::data()
                }
            }
            E::Item(base, key) => {
                let b = self.eval(base);
                let k = self.eval(key);
                self.access(&k, "item", false);
                let mut out = b.zip(&k, |a, b| match (a, b) {
                    (C::Str(s), C::Int(i)) => {
                        let n = s.chars().count() as i64;
                        let i = if *i < 0 { i + n } else { *i };
                        s.chars()
                            .nth(usize::try_from(i).ok()?)
                            .map(|c| C::Str(c.into()))
                    }
                    (C::List(l), C::Int(i)) => {
                        let n = l.len() as i64;
                        let i = if *i < 0 { i + n } else { *i };
                        l.get(usize::try_from(i).ok()?).cloned()
                    }
                    _ => None,
                });
                // A constant list indexed by data may be any of its items.
                if k.data || k.built {
                    for c in &b.alts {
                        if let C::List(l) = c {
                            for x in l {
                                out = out.union(V::c(x.clone()));
                            }
                        }
                    }
                }
                // Indexing data is data (`messages[loop.index0]`, `message['role']`);
                // picking characters out of a string is not.
                if out.alts.is_empty() && !b.has_str() && !b.built && !k.built {
                    out = V::data();
                }
                out
            }
            E::Slice(base, parts) => {
                let b = self.eval(base);
                let [lo, hi, step] = parts.each_ref().map(|p| p.as_ref().map(|x| self.eval(x)));
                let one = |v: &Option<V>| -> Result<Option<i64>, ()> {
                    match v {
                        None => Ok(None),
                        Some(v) => match v.alts.as_slice() {
                            [C::Int(i)] if !v.data && !v.built => Ok(Some(*i)),
                            _ => Err(()),
                        },
                    }
                };
                match (one(&lo), one(&hi), one(&step)) {
                    (Ok(a), Ok(c), Ok(s)) => {
                        let out = b.map(|x| match x {
                            C::Str(st) => slice_str(st, a, c, s),
                            _ => None,
                        });
                        if b.alts.is_empty() && !b.built {
                            V::data()
                        } else {
                            out
                        }
                    }
                    _ if b.has_str() || b.built => V::built(),
                    _ => V::data(),
                }
            }
            E::Call(f, args, kwargs) => self.call(f, args, kwargs),
            E::Filter(base, name, args, kwargs) => self.filter(base, name, args, kwargs),
            E::Test(base, args) => {
                self.eval(base);
                for a in args {
                    self.eval(a);
                }
                V::data()
            }
            E::Bin(op, l, r) => {
                let a = self.eval(l);
                let b = self.eval(r);
                match *op {
                    "~" => a.zip(&b, |x, y| cap(as_text(x)? + &as_text(y)?)),
                    "+" if a.has_str() || b.has_str() || a.built || b.built => {
                        a.zip(&b, |x, y| match (x, y) {
                            (C::Str(x), C::Str(y)) => cap(x.clone() + y),
                            (C::Int(x), C::Int(y)) => x.checked_add(*y).map(C::Int),
                            (C::List(x), C::List(y)) => {
                                Some(C::List(x.iter().chain(y).cloned().collect()))
                            }
                            _ => None,
                        })
                    }
                    "*" if a.has_str() || b.has_str() || a.built || b.built => {
                        a.zip(&b, |x, y| match (x, y) {
                            (C::Str(s), C::Int(n)) | (C::Int(n), C::Str(s)) => {
                                let n = usize::try_from(*n).unwrap_or(0);
                                (s.len().saturating_mul(n) <= MAX_STR).then(|| C::Str(s.repeat(n)))
                            }
                            (C::Int(x), C::Int(y)) => x.checked_mul(*y).map(C::Int),
                            _ => None,
                        })
                    }
                    "%" if a.has_str() || a.built => a.zip(&b, |x, y| match x {
                        C::Str(f) => percent(f, y),
                        _ => None,
                    }),
                    "or" => a.union(b),
                    "and" => b.union(V::data()),
                    "+" | "-" | "*" | "//" | "%" => {
                        let mut out = a.zip(&b, |x, y| match (x, y) {
                            (C::Int(x), C::Int(y)) => match *op {
                                "+" => x.checked_add(*y),
                                "-" => x.checked_sub(*y),
                                "*" => x.checked_mul(*y),
                                "//" => x.checked_div(*y),
                                _ => x.checked_rem(*y),
                            }
                            .map(C::Int),
                            _ => None,
                        });
                        // Arithmetic on data is data (`loop.index0 + 1`), not a string.
                        if a.data || b.data {
                            out.built = a.built || b.built;
                            out = out.union(V::data());
                        }
                        out
                    }
                    _ => V::data(),
                }
            }
            E::Unary(x) => {
                self.eval(x);
                V::data()
            }
            E::Cond(a, c, b) => {
                self.eval(c);
                let va = self.eval(a);
                match b {
                    Some(b) => {
                        let vb = self.eval(b);
                        va.union(vb)
                    }
                    None => va.union(V::c(C::Str(String::new()))),
                }
            }
        }
    }

    fn call(&mut self, f: &E, args: &[E], kwargs: &[(String, E)]) -> V {
        let av: Vec<V> = args.iter().map(|a| self.eval(a)).collect();
        let mut kv = Vec::new();
        for (k, v) in kwargs {
            if internal_name(k) && k.starts_with("__") {
                self.hit(Severity::Critical, format!("keyword argument `{k}`"));
            }
            kv.push((k.clone(), self.eval(v)));
        }
        // Methods of a string (`''.join(...)`, `'{}'.format(...)`).
        if let E::Attr(base, m) = f {
            let b = self.eval(base);
            if internal_name(m) {
                self.hit(Severity::Critical, format!("attribute `.{m}`"));
            }
            let consts: Option<Vec<C>> = av
                .iter()
                .map(|v| match v.alts.as_slice() {
                    [c] if !v.data && !v.built => Some(c.clone()),
                    _ => None,
                })
                .collect();
            let string_method = matches!(
                m.as_str(),
                "join"
                    | "format"
                    | "replace"
                    | "upper"
                    | "lower"
                    | "strip"
                    | "lstrip"
                    | "rstrip"
                    | "title"
                    | "capitalize"
                    | "swapcase"
                    | "center"
                    | "ljust"
                    | "rjust"
                    | "zfill"
                    | "removeprefix"
                    | "removesuffix"
                    | "casefold"
                    | "split"
                    | "rsplit"
                    | "partition"
                    | "format_map"
            );
            if !string_method {
                return V {
                    built: b.built,
                    ..V::data()
                };
            }
            if !b.has_str() && !b.built {
                // A method of a data value (`message.content.strip()`): still data.
                return V::data();
            }
            let Some(consts) = consts else {
                return V::built();
            };
            return b.map(|c| {
                let C::Str(s) = c else { return None };
                match (m.as_str(), consts.as_slice()) {
                    ("join", [C::List(items)]) => {
                        let parts: Option<Vec<String>> = items.iter().map(as_text).collect();
                        cap(parts?.join(s))
                    }
                    ("join", [C::Str(chars)]) => {
                        let parts: Vec<String> = chars.chars().map(String::from).collect();
                        cap(parts.join(s))
                    }
                    ("format", args) => brace_format(s, args),
                    ("replace", [C::Str(a), C::Str(b)]) if !a.is_empty() => {
                        cap(s.replace(a.as_str(), b))
                    }
                    ("upper", []) => cap(s.to_uppercase()),
                    ("lower" | "casefold", []) => cap(s.to_lowercase()),
                    ("strip", []) => cap(s.trim().to_string()),
                    ("lstrip", []) => cap(s.trim_start().to_string()),
                    ("rstrip", []) => cap(s.trim_end().to_string()),
                    _ => None,
                }
            });
        }
        let fv = self.eval(f);
        if let E::Name(n) = f {
            if n == "dict" && args.is_empty() {
                return V::c(C::List(
                    kwargs.iter().map(|(k, _)| C::Str(k.clone())).collect(),
                ));
            }
        }
        let _ = (fv, kv);
        V::data()
    }

    fn filter(&mut self, base: &E, name: &str, args: &[E], kwargs: &[(String, E)]) -> V {
        let b = self.eval(base);
        let av: Vec<V> = args.iter().map(|a| self.eval(a)).collect();
        let kv: Vec<(String, V)> = kwargs
            .iter()
            .map(|(k, v)| (k.clone(), self.eval(v)))
            .collect();
        for (k, v) in &kv {
            if k == "attribute" {
                self.access(v, "attribute path", false);
            }
        }
        match name {
            "attr" => {
                if let Some(k) = av.first() {
                    self.access(k, "`attr` filter", true);
                }
            }
            "map" => {
                // `map('attr', name)` is `attr` on every item.
                let is_attr = av
                    .first()
                    .is_some_and(|f| f.alts.contains(&C::Str("attr".into())) || f.built);
                if is_attr {
                    for k in av.iter().skip(1) {
                        self.access(k, "`map('attr', ...)`", true);
                    }
                }
            }
            "selectattr" | "rejectattr" | "groupby" => {
                if let Some(k) = av.first() {
                    self.access(k, &format!("`{name}` attribute"), false);
                }
            }
            _ => {}
        }
        let one_const = |i: usize| -> Option<&C> {
            let v = av.get(i)?;
            match v.alts.as_slice() {
                [c] if !v.data && !v.built => Some(c),
                _ => None,
            }
        };
        let folded = match name {
            "string" | "e" | "escape" | "safe" | "forceescape" => {
                if b.has_str() || b.built {
                    b.map(|c| match c {
                        C::List(_) => None,
                        c => as_text(c).map(C::Str),
                    })
                } else {
                    // `lipsum|string`, `messages|string`: Python reprs, full of `_`.
                    V::built()
                }
            }
            "lower" => b.map(|c| match c {
                C::Str(s) => cap(s.to_lowercase()),
                _ => None,
            }),
            "upper" => b.map(|c| match c {
                C::Str(s) => cap(s.to_uppercase()),
                _ => None,
            }),
            "trim" => b.map(|c| match c {
                C::Str(s) => cap(s.trim().to_string()),
                _ => None,
            }),
            "reverse" => b.map(|c| match c {
                C::Str(s) => cap(s.chars().rev().collect()),
                C::List(l) => Some(C::List(l.iter().rev().cloned().collect())),
                _ => None,
            }),
            "list" => b.map(|c| match c {
                C::Str(s) => Some(C::List(s.chars().map(|c| C::Str(c.into())).collect())),
                C::List(l) => Some(C::List(l.clone())),
                _ => None,
            }),
            "first" | "last" => b.map(|c| {
                let l: Vec<C> = match c {
                    C::Str(s) => s.chars().map(|c| C::Str(c.into())).collect(),
                    C::List(l) => l.clone(),
                    _ => return None,
                };
                if name == "first" {
                    l.first().cloned()
                } else {
                    l.last().cloned()
                }
            }),
            "join" => {
                let sep = match one_const(0) {
                    Some(C::Str(s)) => Some(s.clone()),
                    None if av.is_empty() => Some(String::new()),
                    _ => None,
                };
                match sep {
                    Some(sep) => b.map(|c| match c {
                        C::List(l) => {
                            let parts: Option<Vec<String>> = l.iter().map(as_text).collect();
                            cap(parts?.join(&sep))
                        }
                        C::Str(s) => {
                            cap(s.chars().map(String::from).collect::<Vec<_>>().join(&sep))
                        }
                        _ => None,
                    }),
                    None => V::built(),
                }
            }
            "replace" => match (one_const(0), one_const(1)) {
                (Some(C::Str(x)), Some(C::Str(y))) if !x.is_empty() => b.map(|c| match c {
                    C::Str(s) => cap(s.replace(x.as_str(), y)),
                    _ => None,
                }),
                _ => V::built(),
            },
            "format" => {
                let args: Option<Vec<C>> = (0..av.len()).map(|i| one_const(i).cloned()).collect();
                match args {
                    Some(a) => b.map(|c| match c {
                        C::Str(f) => percent(f, &C::List(a.clone())),
                        _ => None,
                    }),
                    None => V::built(),
                }
            }
            "title" | "capitalize" | "center" | "truncate" | "wordwrap" | "urlencode"
            | "striptags" | "indent" | "tojson" | "pprint" | "xmlattr" | "filesizeformat"
            | "batch" | "slice" | "sort" | "unique" | "min" | "max" | "random" | "map"
            | "select" | "reject" | "selectattr" | "rejectattr" | "dictsort" | "items" | "attr"
            | "default" | "d" | "sum" | "groupby" | "int" | "float" | "abs" | "round"
            | "length" | "count" | "wordcount" | "bool" => {
                if b.has_str() || b.built {
                    V::built()
                } else {
                    V::data()
                }
            }
            _ => {
                if b.built {
                    V::built()
                } else {
                    V::data()
                }
            }
        };
        // `x|default('...')` may be its argument.
        if matches!(name, "default" | "d") {
            let mut v = folded;
            for a in av {
                v = v.union(a);
            }
            return v;
        }
        folded
    }
}

fn params(p: &mut P) -> R<Vec<(String, Option<E>)>> {
    let mut out = Vec::new();
    while !p.eat_op(")") {
        let n = p.name()?;
        let d = if p.eat_op("=") {
            Some(p.expr(true)?)
        } else {
            None
        };
        out.push((n, d));
        if !p.eat_op(",") {
            p.expect_op(")")?;
            break;
        }
    }
    Ok(out)
}

fn show(s: &str) -> String {
    crate::finding::shorten(s, 60)
}

#[cfg(test)]
mod tests;
