//! A Python tokenizer: names, numbers, operators and strings of every kind (single and
//! triple quotes; prefixes `r`, `b`, `u`, `f` in any case and order; f-strings, whose
//! replacement fields are tokenized in place so that a call inside `f"{os.system(x)}"` is a
//! call like any other), comments, explicit (`\`) and implicit (brackets) line joining.
//! The output is a list of logical statements (split at NEWLINE and at `;`), each with the
//! column of the first token of its line — the indentation the analysis needs to know which
//! `def` or `class` a statement belongs to. Every token carries its 1-based line and column
//! (in characters) and its byte span in the source.
//!
//! The tokenizer never fails: an unterminated string runs to the end of the input, an
//! unknown character is an operator token of its own. Its work is linear in the input.

/// One token.
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub kind: Tok,
    pub line: u32,
    pub col: u32,
    /// Byte span in the source.
    pub start: usize,
    pub end: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Name(String),
    Number,
    /// A string literal with its decoded value (escapes applied unless raw; bytes as
    /// Latin-1 characters) and whether it is a bytes literal.
    Str {
        value: String,
        bytes: bool,
    },
    /// The start and end of an f-string; the tokens of its replacement fields come between
    /// them. Its text is not a constant.
    FStrStart,
    FStrEnd,
    Op(&'static str),
    /// A character that is no Python token (kept so that nothing is silently dropped).
    Other(char),
}

/// A logical statement: its tokens and the column of the first token of its line.
#[derive(Clone, Debug, Default)]
pub struct Stmt {
    pub indent: u32,
    pub tokens: Vec<Token>,
}

const OPS3: &[&str] = &["**=", "//=", ">>=", "<<=", "...", "!=="];
const OPS2: &[&str] = &[
    "**", "//", "->", ":=", "==", "!=", "<=", ">=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=",
    "@=", "<<", ">>",
];
const OPS1: &[&str] = &[
    "(", ")", "[", "]", "{", "}", ",", ":", ".", ";", "@", "=", "+", "-", "*", "/", "%", "&", "|",
    "^", "~", "<", ">", "!",
];

struct Lexer<'a> {
    src: &'a str,
    chars: Vec<(usize, char)>,
    i: usize,
    line: u32,
    /// Char index of the start of the current line.
    line_start: usize,
    depth: u32,
    stmts: Vec<Stmt>,
    cur: Stmt,
    /// Indentation of the current physical logical line.
    line_indent: Option<u32>,
}

/// Tokenizes `src` into logical statements.
pub fn tokenize(src: &str) -> Vec<Stmt> {
    let mut lx = Lexer {
        src,
        chars: src.char_indices().collect(),
        i: 0,
        line: 1,
        line_start: 0,
        depth: 0,
        stmts: Vec::new(),
        cur: Stmt::default(),
        line_indent: None,
    };
    lx.run();
    lx.stmts
}

impl Lexer<'_> {
    fn peek(&self, k: usize) -> Option<char> {
        self.chars.get(self.i + k).map(|&(_, c)| c)
    }

    fn byte_at(&self, i: usize) -> usize {
        self.chars.get(i).map(|&(b, _)| b).unwrap_or(self.src.len())
    }

    fn col(&self) -> u32 {
        u32::try_from(self.i - self.line_start + 1).unwrap_or(u32::MAX)
    }

    fn newline_char(&mut self) {
        // Called with `i` on a '\n' (or a lone '\r').
        self.i += 1;
        self.line = self.line.saturating_add(1);
        self.line_start = self.i;
    }

    fn end_stmt(&mut self) {
        if !self.cur.tokens.is_empty() {
            let s = std::mem::take(&mut self.cur);
            self.stmts.push(s);
        }
    }

    fn push(&mut self, kind: Tok, start_i: usize, line: u32, col: u32) {
        if self.cur.tokens.is_empty() {
            self.cur.indent = match self.line_indent {
                Some(ind) => ind,
                None => {
                    self.line_indent = Some(col);
                    col
                }
            };
        }
        if self.line_indent.is_none() {
            self.line_indent = Some(col);
        }
        let tok = Token {
            kind,
            line,
            col,
            start: self.byte_at(start_i),
            end: self.byte_at(self.i),
        };
        self.cur.tokens.push(tok);
    }

    fn run(&mut self) {
        while let Some(c) = self.peek(0) {
            match c {
                '\n' | '\r' => {
                    if c == '\r' && self.peek(1) == Some('\n') {
                        self.i += 1;
                    }
                    self.newline_char();
                    if self.depth == 0 {
                        self.end_stmt();
                        self.line_indent = None;
                    }
                }
                '#' => {
                    while let Some(c) = self.peek(0) {
                        if c == '\n' || c == '\r' {
                            break;
                        }
                        self.i += 1;
                    }
                }
                '\\' if matches!(self.peek(1), Some('\n' | '\r')) => {
                    self.i += 1;
                    if self.peek(0) == Some('\r') && self.peek(1) == Some('\n') {
                        self.i += 1;
                    }
                    self.newline_char();
                }
                c if c.is_whitespace() => self.i += 1,
                c if is_id_start(c) => self.name_or_string(),
                '0'..='9' => self.number(),
                '.' if self.peek(1).is_some_and(|d| d.is_ascii_digit()) => self.number(),
                '"' | '\'' => self.string(0, false, false, false),
                _ => self.op(),
            }
        }
        self.end_stmt();
    }

    fn name_or_string(&mut self) {
        let start = self.i;
        let (line, col) = (self.line, self.col());
        while self.peek(0).is_some_and(is_id_continue) {
            self.i += 1;
        }
        let word: String = self
            .chars
            .iter()
            .take(self.i)
            .skip(start)
            .map(|&(_, c)| c)
            .collect();
        if matches!(self.peek(0), Some('"' | '\'')) && word.len() <= 3 {
            let lower = word.to_ascii_lowercase();
            let ok = lower.chars().all(|c| "rbuf".contains(c))
                && !(lower.contains('b') && (lower.contains('f') || lower.contains('u')))
                && !(lower.contains('u') && lower.len() > 1);
            let mut uniq: Vec<char> = lower.chars().collect();
            uniq.sort_unstable();
            uniq.dedup();
            if ok && uniq.len() == lower.len() {
                let raw = lower.contains('r');
                let bytes = lower.contains('b');
                let f = lower.contains('f');
                self.i = start;
                self.string(word.chars().count(), raw, bytes, f);
                return;
            }
        }
        self.push(Tok::Name(word), start, line, col);
    }

    fn number(&mut self) {
        let start = self.i;
        let (line, col) = (self.line, self.col());
        while let Some(c) = self.peek(0) {
            if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
                let exp = (c == 'e' || c == 'E')
                    && matches!(self.peek(1), Some('+' | '-'))
                    && !self
                        .chars
                        .iter()
                        .take(self.i)
                        .skip(start)
                        .any(|&(_, c)| c == 'x' || c == 'X');
                self.i += if exp { 2 } else { 1 };
            } else {
                break;
            }
        }
        self.push(Tok::Number, start, line, col);
    }

    fn op(&mut self) {
        let start = self.i;
        let (line, col) = (self.line, self.col());
        let rest: String = self
            .chars
            .iter()
            .skip(self.i)
            .take(3)
            .map(|&(_, c)| c)
            .collect();
        for table in [OPS3, OPS2, OPS1] {
            if let Some(op) = table.iter().find(|op| rest.starts_with(**op)) {
                self.i += op.chars().count();
                match *op {
                    "(" | "[" | "{" => self.depth = self.depth.saturating_add(1),
                    ")" | "]" | "}" => self.depth = self.depth.saturating_sub(1),
                    _ => {}
                }
                if *op == ";" && self.depth == 0 {
                    self.end_stmt();
                    return;
                }
                self.push(Tok::Op(op), start, line, col);
                return;
            }
        }
        let c = self.peek(0).unwrap_or('\0');
        self.i += 1;
        self.push(Tok::Other(c), start, line, col);
    }

    /// A string literal whose prefix is `prefix_len` characters long, starting at `i`.
    fn string(&mut self, prefix_len: usize, raw: bool, bytes: bool, f: bool) {
        let start = self.i;
        let (line, col) = (self.line, self.col());
        self.i += prefix_len;
        let q = self.peek(0).unwrap_or('"');
        let triple = self.peek(1) == Some(q) && self.peek(2) == Some(q);
        self.i += if triple { 3 } else { 1 };
        if f {
            self.push(Tok::FStrStart, start, line, col);
        }
        let mut value = String::new();
        while let Some(c) = self.peek(0) {
            if c == q {
                if !triple {
                    self.i += 1;
                    break;
                }
                if self.peek(1) == Some(q) && self.peek(2) == Some(q) {
                    self.i += 3;
                    break;
                }
            }
            if (c == '\n' || c == '\r') && !triple {
                // Unterminated single-quoted string: it ends at the line end.
                break;
            }
            if c == '\\' {
                let Some(n) = self.peek(1) else {
                    self.i += 1;
                    break;
                };
                if n == '\n' || n == '\r' {
                    self.i += 1;
                    if n == '\r' && self.peek(1) == Some('\n') {
                        self.i += 1;
                    }
                    self.newline_char();
                    if raw {
                        value.push('\\');
                        value.push('\n');
                    }
                    continue;
                }
                if raw {
                    value.push('\\');
                    value.push(n);
                    self.i += 2;
                    continue;
                }
                self.i += 2;
                self.escape(n, bytes, &mut value);
                continue;
            }
            if f && c == '{' {
                if self.peek(1) == Some('{') {
                    self.i += 2;
                    continue;
                }
                self.i += 1;
                self.fstring_field(q, triple);
                continue;
            }
            if c == '\n' || c == '\r' {
                if c == '\r' && self.peek(1) == Some('\n') {
                    self.i += 1;
                }
                self.newline_char();
                value.push('\n');
                continue;
            }
            value.push(c);
            self.i += 1;
        }
        if f {
            let end_i = self.i;
            self.push(Tok::FStrEnd, end_i.saturating_sub(1), self.line, self.col());
        } else {
            self.push(Tok::Str { value, bytes }, start, line, col);
        }
    }

    /// The replacement field of an f-string after its `{`: tokens up to the matching `}`
    /// (format specs and conversions are skipped as text).
    fn fstring_field(&mut self, q: char, triple: bool) {
        let mut depth = 0u32;
        let outer_depth = self.depth;
        self.depth = self.depth.saturating_add(1);
        while let Some(c) = self.peek(0) {
            if c == q && !triple && depth == 0 {
                break; // the string ends: an unterminated field
            }
            match c {
                '}' if depth == 0 => {
                    self.i += 1;
                    break;
                }
                ':' | '!' if depth == 0 && self.peek(1) != Some('=') => {
                    // Conversion or format spec: text up to the closing brace (nested
                    // fields in a spec are rare; their names are still text).
                    let mut nest = 0u32;
                    while let Some(c) = self.peek(0) {
                        if c == '{' {
                            nest += 1;
                        } else if c == '}' {
                            if nest == 0 {
                                break;
                            }
                            nest -= 1;
                        } else if c == q && !triple {
                            break;
                        } else if c == '\n' {
                            self.newline_char();
                            continue;
                        }
                        self.i += 1;
                    }
                }
                '(' | '[' | '{' => {
                    depth += 1;
                    self.op();
                }
                ')' | ']' | '}' => {
                    depth = depth.saturating_sub(1);
                    self.op();
                }
                '\n' | '\r' => self.newline_char(),
                '#' => self.i += 1,
                c if c.is_whitespace() => self.i += 1,
                c if is_id_start(c) => self.name_or_string(),
                '0'..='9' => self.number(),
                '"' | '\'' => self.string(0, false, false, false),
                _ => self.op(),
            }
        }
        self.depth = outer_depth;
    }

    fn escape(&mut self, n: char, bytes: bool, out: &mut String) {
        match n {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            '0'..='7' => {
                let mut v = n.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match self.peek(0).and_then(|c| c.to_digit(8)) {
                        Some(d) => {
                            v = v * 8 + d;
                            self.i += 1;
                        }
                        None => break,
                    }
                }
                out.push(char::from_u32(v).unwrap_or('\u{fffd}'));
            }
            'x' => self.hex_escape(2, out),
            'u' | 'U' if !bytes => self.hex_escape(if n == 'u' { 4 } else { 8 }, out),
            'a' => out.push('\u{7}'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'v' => out.push('\u{b}'),
            '\\' | '\'' | '"' => out.push(n),
            'N' if !bytes && self.peek(0) == Some('{') => {
                // A named character: kept as written (names are not needed here).
                out.push_str("\\N");
            }
            other => {
                out.push('\\');
                if other == '\n' {
                    self.line = self.line.saturating_add(1);
                    self.line_start = self.i;
                }
                out.push(other);
            }
        }
    }

    fn hex_escape(&mut self, digits: usize, out: &mut String) {
        let mut v = 0u32;
        let mut got = 0;
        while got < digits {
            match self.peek(0).and_then(|c| c.to_digit(16)) {
                Some(d) => {
                    v = v.saturating_mul(16).saturating_add(d);
                    self.i += 1;
                    got += 1;
                }
                None => break,
            }
        }
        out.push(char::from_u32(v).unwrap_or('\u{fffd}'));
    }
}

fn is_id_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_id_continue(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}
