//! NumPy `.npy` (format versions 1–3): the header is a Python dict literal; arrays whose
//! dtype holds objects are stored as a pickle right after it, which
//! `numpy.load(allow_pickle=True)` unpickles. Numeric array bytes are never read.

use crate::finding::{Finding, Location};
use crate::formats::pickle;
use crate::rules::RuleId;
use crate::scan::Ctx;
use crate::source::{ByteSource, SliceSource};

/// Largest header accepted (numpy itself refuses headers over 10 000 bytes by default).
const MAX_HEADER: u64 = 1 << 20;

/// Where a `.npy` header is, from the file's first bytes (at least 10; 12 for versions
/// 2 and 3): `(header length, offset of the header)`, or the format version that is not
/// one numpy writes.
pub fn header_span(h: &[u8]) -> Result<(u64, u64), u8> {
    let b = |i: usize| h.get(i).copied().unwrap_or(0);
    match b(6) {
        1 if h.len() >= 10 => Ok((u64::from(u16::from_le_bytes([b(8), b(9)])), 10)),
        2 | 3 if h.len() >= 12 => Ok((
            u64::from(u32::from_le_bytes([b(8), b(9), b(10), b(11)])),
            12,
        )),
        v => Err(v),
    }
}

/// Returns the format label; findings go to `out`.
pub fn scan(
    src: &dyn ByteSource,
    ctx: &Ctx,
    loc: &Location,
    out: &mut Vec<Finding>,
) -> &'static str {
    let malformed = |out: &mut Vec<Finding>, msg: &str| {
        out.push(Finding::new(
            RuleId::ContentNotScanned,
            loc.clone(),
            format!("malformed .npy file: {msg}"),
        ));
    };
    let Ok(h) = src.read_vec(0, 12) else {
        malformed(out, "unreadable header");
        return "numpy";
    };
    if h.len() < 10 {
        malformed(out, "truncated header");
        return "numpy";
    }
    let (hlen, start) = match header_span(&h) {
        Ok(span) => span,
        Err(v) => {
            malformed(out, &format!("unknown format version {v}"));
            return "numpy";
        }
    };
    if hlen > MAX_HEADER || start + hlen > src.len() {
        malformed(out, &format!("header length {hlen} does not fit the file"));
        return "numpy";
    }
    let Ok(header) = src.read_vec(start, hlen as usize) else {
        malformed(out, "unreadable header");
        return "numpy";
    };
    let header = String::from_utf8_lossy(&header);
    let Some(descr) = descr_of(&header) else {
        malformed(out, "header has no 'descr'");
        return "numpy";
    };
    // Object dtype: `|O`, or a structured dtype with an object field at any depth. Only
    // type codes count: field names such as `Open` or `Volume` are not types.
    if !has_object(&descr) {
        return "numpy";
    }
    let body = SliceSource::new(src, start + hlen, src.len() - (start + hlen));
    let r = pickle::scan_stream(&body, 0, ctx, loc);
    out.extend(r.findings.into_iter().map(|mut f| {
        f.location.offset = f.location.offset.map(|o| o + start + hlen);
        f
    }));
    "numpy-object"
}

/// Whether `head` (the first bytes of a member) is a complete `.npy` header describing
/// an array without Python objects. `false` whenever in doubt (not npy, header cut off,
/// unparsable): the caller then scans the whole member.
pub fn header_says_numeric(head: &[u8]) -> bool {
    if !head.starts_with(b"\x93NUMPY") || head.len() < 10 {
        return false;
    }
    let Ok((hlen, start)) = header_span(head) else {
        return false;
    };
    let (Ok(hlen), Ok(start)) = (usize::try_from(hlen), usize::try_from(start)) else {
        return false;
    };
    let Some(h) = head.get(start..start.saturating_add(hlen)) else {
        return false;
    };
    match descr_of(&String::from_utf8_lossy(h)) {
        Some(d) => !has_object(&d),
        None => false,
    }
}

/// A Python literal as numpy writes it in `.npy` headers (`repr` of the header dict).
#[derive(Debug, PartialEq)]
enum Lit {
    Str(String),
    Seq(Vec<Lit>),
    Dict(Vec<(Lit, Lit)>),
    Other,
}

/// Nesting accepted in a header (numpy's own dtypes nest a few levels).
const MAX_DEPTH: usize = 64;

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Option<Lit> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.ws();
        let c = *self.s.get(self.i)?;
        match c {
            b'\'' | b'"' => {
                self.i += 1;
                let start = self.i;
                while let Some(&b) = self.s.get(self.i).filter(|&&b| b != c) {
                    if b == b'\\' {
                        self.i += 1;
                    }
                    self.i += 1;
                }
                let text = String::from_utf8_lossy(self.s.get(start..self.i)?).into_owned();
                self.i += 1;
                Some(Lit::Str(text))
            }
            b'[' | b'(' => {
                let close = if c == b'[' { b']' } else { b')' };
                self.i += 1;
                let mut items = Vec::new();
                loop {
                    self.ws();
                    if self.s.get(self.i) == Some(&close) {
                        self.i += 1;
                        return Some(Lit::Seq(items));
                    }
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    if self.s.get(self.i) == Some(&b',') {
                        self.i += 1;
                    }
                }
            }
            b'{' => {
                self.i += 1;
                let mut items = Vec::new();
                loop {
                    self.ws();
                    if self.s.get(self.i) == Some(&b'}') {
                        self.i += 1;
                        return Some(Lit::Dict(items));
                    }
                    let k = self.value(depth + 1)?;
                    self.ws();
                    if self.s.get(self.i) != Some(&b':') {
                        return None;
                    }
                    self.i += 1;
                    let v = self.value(depth + 1)?;
                    items.push((k, v));
                    self.ws();
                    if self.s.get(self.i) == Some(&b',') {
                        self.i += 1;
                    }
                }
            }
            _ => {
                // Numbers, True/False/None: skip the token.
                let start = self.i;
                while self
                    .s
                    .get(self.i)
                    .is_some_and(|b| !b",)]}: \t\n".contains(b))
                {
                    self.i += 1;
                }
                (self.i > start).then_some(Lit::Other)
            }
        }
    }
}

/// The `'descr'` entry of the header dict.
fn descr_of(header: &str) -> Option<Lit> {
    let mut p = Parser {
        s: header.as_bytes(),
        i: 0,
    };
    match p.value(0)? {
        Lit::Dict(items) => items
            .into_iter()
            .find(|(k, _)| *k == Lit::Str("descr".into()))
            .map(|(_, v)| v),
        _ => None,
    }
}

/// Whether a dtype description holds Python objects: a type string whose code is `O`
/// (`'|O'`, `'O'`), or a structured list whose field types do, at any depth. Field
/// entries are `(name, type)` or `(name, type, shape)`; names (or `(title, name)`) are
/// never type codes.
fn has_object(descr: &Lit) -> bool {
    match descr {
        Lit::Str(t) => t.trim_start_matches(['<', '>', '|', '=']).starts_with('O'),
        Lit::Seq(fields) => fields.iter().any(|f| match f {
            Lit::Seq(parts) => parts.get(1).is_some_and(has_object),
            _ => false,
        }),
        // Not what numpy writes: treat it as possibly holding objects.
        Lit::Dict(_) | Lit::Other => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(header: &str) -> bool {
        has_object(&descr_of(header).expect("descr"))
    }

    #[test]
    fn object_dtypes_are_recognised_by_type_code_only() {
        assert!(!obj(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }"
        ));
        assert!(obj(
            "{'descr': '|O', 'fortran_order': False, 'shape': (3,), }"
        ));
        assert!(obj(
            "{'descr': [('a', '<f8'), ('b', '|O')], 'fortran_order': False, 'shape': (1,), }"
        ));
        // Field names with a capital O are names, not types (market data: Open, Close).
        assert!(!obj("{'descr': [('Open', '<f8'), ('Close', '<f8'), ('Volume', '<i8')], 'fortran_order': False, 'shape': (2,), }"));
        // Nested structured field and subarray shape.
        assert!(obj("{'descr': [('outer', [('inner', '|O')]), ('x', '<f4', (3,))], 'fortran_order': False, 'shape': (1,), }"));
        // A titled field named like a type code.
        assert!(!obj(
            "{'descr': [(('Title', 'O'), '<f8')], 'fortran_order': False, 'shape': (1,), }"
        ));
    }

    #[test]
    fn numeric_headers_are_recognised_from_the_head() {
        let hdr = b"{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }       \n";
        let mut head = b"\x93NUMPY\x01\x00".to_vec();
        head.extend((hdr.len() as u16).to_le_bytes());
        head.extend(hdr);
        assert!(header_says_numeric(&head));
        // Cut off, or object dtype: not numeric (the caller scans everything).
        assert!(!header_says_numeric(&head[..20]));
        let obj = b"{'descr': '|O', 'fortran_order': False, 'shape': (3,), }        \n";
        let mut head = b"\x93NUMPY\x01\x00".to_vec();
        head.extend((obj.len() as u16).to_le_bytes());
        head.extend(obj);
        assert!(!header_says_numeric(&head));
    }

    #[test]
    fn hostile_headers_do_not_panic() {
        for h in [
            "{'descr': \u{fffd}<f8\u{fffd}, }",
            "{",
            "{'descr'",
            "{'descr': [",
            "[[[[[[[[",
            "'''",
        ] {
            let _ = descr_of(h);
        }
        let deep = format!("{{'descr': {}}}", "[".repeat(10_000));
        assert!(descr_of(&deep).is_none());
    }
}
