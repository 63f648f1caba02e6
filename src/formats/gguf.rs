//! GGUF (llama.cpp): a header, typed key/value metadata, tensor descriptors, then tensor
//! data that is never read. Versions 1–3, little- or big-endian (the magic is always the
//! bytes `GGUF`; a big-endian file is recognised by its byte-swapped version, as gguf-py
//! does). Version 1 used 32-bit counts and string lengths, later versions 64-bit.
//!
//! What can carry code is the chat template (`tokenizer.chat_template` and the named
//! `tokenizer.chat_template.<name>` variants): llama-cpp-python < 0.2.72 rendered it
//! outside Jinja's sandbox (CVE-2024-34359), so it is analysed by [`super::jinja`].
//! Every count and length is checked against the bytes left in the file before it is
//! used; a header that claims more than the file can hold is `gguf-malformed`.

use crate::bytes::ParseError;
use crate::finding::{Finding, Location, Severity};
use crate::formats::jinja;
use crate::formats::window::Window;
use crate::rules::RuleId;
use crate::scan::Ctx;
use crate::source::ByteSource;

/// Chat templates longer than this are not analysed (real ones are a few KiB).
const MAX_TEMPLATE: u64 = 1 << 20;
/// Keys longer than this are malformed (llama.cpp keys are short dotted names).
const MAX_KEY: u64 = 64 << 10;
/// Nesting of arrays inside arrays.
const MAX_ARRAY_DEPTH: u32 = 4;
/// llama.cpp's GGML_MAX_DIMS.
const MAX_DIMS: u32 = 4;
/// Findings about templates per file.
const MAX_TEMPLATE_FINDINGS: usize = 32;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ty {
    U8,
    I8,
    U16,
    I16,
    U32,
    I32,
    F32,
    Bool,
    Str,
    Array,
    U64,
    I64,
    F64,
}

impl Ty {
    fn from(v: u32) -> Option<Ty> {
        Some(match v {
            0 => Ty::U8,
            1 => Ty::I8,
            2 => Ty::U16,
            3 => Ty::I16,
            4 => Ty::U32,
            5 => Ty::I32,
            6 => Ty::F32,
            7 => Ty::Bool,
            8 => Ty::Str,
            9 => Ty::Array,
            10 => Ty::U64,
            11 => Ty::I64,
            12 => Ty::F64,
            _ => return None,
        })
    }
    fn fixed_size(self) -> Option<u64> {
        Some(match self {
            Ty::U8 | Ty::I8 | Ty::Bool => 1,
            Ty::U16 | Ty::I16 => 2,
            Ty::U32 | Ty::I32 | Ty::F32 => 4,
            Ty::U64 | Ty::I64 | Ty::F64 => 8,
            Ty::Str | Ty::Array => return None,
        })
    }
}

struct Reader<'a> {
    w: Window<'a>,
    pos: u64,
    big: bool,
    v1: bool,
}

type R<T> = Result<T, ParseError>;

impl Reader<'_> {
    fn left(&self) -> u64 {
        self.w.len().saturating_sub(self.pos)
    }
    fn bytes<const N: usize>(&mut self, what: &str) -> R<[u8; N]> {
        let at = self.pos;
        let b = self
            .w
            .get(at, N)
            .ok_or_else(|| ParseError::new(at, format!("truncated while reading {what}")))?;
        let mut a = [0u8; N];
        a.copy_from_slice(b);
        if self.big {
            a.reverse();
        }
        self.pos += N as u64;
        Ok(a)
    }
    fn u32(&mut self, what: &str) -> R<u32> {
        Ok(u32::from_le_bytes(self.bytes::<4>(what)?))
    }
    fn u64(&mut self, what: &str) -> R<u64> {
        Ok(u64::from_le_bytes(self.bytes::<8>(what)?))
    }
    /// A count or length: u32 in version 1, u64 after.
    fn count(&mut self, what: &str) -> R<u64> {
        if self.v1 {
            self.u32(what).map(u64::from)
        } else {
            self.u64(what)
        }
    }
    /// A string's length, checked against the bytes left.
    fn str_len(&mut self, what: &str) -> R<u64> {
        let at = self.pos;
        let n = self.count(what)?;
        if n > self.left() {
            return Err(ParseError::new(
                at,
                format!(
                    "{what} declares a length of {n} bytes, but only {} bytes follow",
                    self.left()
                ),
            ));
        }
        Ok(n)
    }
    fn skip(&mut self, n: u64) {
        self.pos = self.pos.saturating_add(n);
    }
    fn read_string(&mut self, n: u64) -> R<String> {
        let at = self.pos;
        let len = usize::try_from(n).map_err(|_| ParseError::new(at, "string too long"))?;
        let v = self
            .w
            .source()
            .read_vec(at, len)
            .map_err(|e| ParseError::new(at, format!("unreadable string: {e}")))?;
        self.pos += n;
        Ok(String::from_utf8_lossy(&v).into_owned())
    }
}

/// Returns the format label; findings go to `out`.
pub fn scan(
    src: &dyn ByteSource,
    ctx: &Ctx,
    loc: &Location,
    out: &mut Vec<Finding>,
) -> &'static str {
    let mut r = Reader {
        w: Window::new(src),
        pos: 4,
        big: false,
        v1: false,
    };
    if let Err(ParseError {
        offset: at,
        message: msg,
    }) = parse(&mut r, ctx, loc, out)
    {
        out.push(
            Finding::new(
                RuleId::GgufMalformed,
                loc_at(loc, at),
                format!("malformed GGUF header: {msg}"),
            )
            .with_evidence(format!("offset {at}")),
        );
    }
    "gguf"
}

fn parse(r: &mut Reader, ctx: &Ctx, loc: &Location, out: &mut Vec<Finding>) -> R<()> {
    let raw = r.u32("the version")?;
    let version = if raw & 0xffff == 0 {
        r.big = true;
        raw.swap_bytes()
    } else {
        raw
    };
    if !(1..=3).contains(&version) {
        return Err(ParseError::new(
            4,
            format!("unknown GGUF version {version}"),
        ));
    }
    r.v1 = version == 1;
    let at = r.pos;
    let n_tensors = r.count("the tensor count")?;
    let n_kv = r.count("the key/value count")?;
    // The smallest key/value pair is a zero-length key, a type and a one-byte value; the
    // smallest tensor descriptor an empty name, zero dimensions, a type and an offset.
    let small_kv = if r.v1 { 4 + 4 + 1 } else { 8 + 4 + 1 };
    let small_tensor = if r.v1 { 4 + 4 + 4 + 8 } else { 8 + 4 + 4 + 8 };
    let need = n_kv.checked_mul(small_kv).and_then(|a| {
        n_tensors
            .checked_mul(small_tensor)
            .and_then(|b| a.checked_add(b))
    });
    if need.is_none_or(|n| n > r.left()) {
        return Err(ParseError::new(at, format!(
                "declares {n_kv} key/value pairs and {n_tensors} tensors, more than the {} bytes that follow can hold",
                r.left()
            )));
    }
    let mut alignment = 32u64;
    let mut keys = std::collections::HashSet::new();
    let mut templates = 0usize;
    for _ in 0..n_kv {
        if ctx.expired() {
            return Err(ParseError::new(
                r.pos,
                "time budget exceeded in the metadata",
            ));
        }
        let key_at = r.pos;
        let klen = r.str_len("a key")?;
        if klen > MAX_KEY {
            return Err(ParseError::new(key_at, format!("key of {klen} bytes")));
        }
        let key = r.read_string(klen)?;
        if !keys.insert(key.clone()) {
            out.push(
                Finding::new(
RuleId::GgufMalformed,
                    loc_at(loc, key_at),
                    format!(
                        "key `{}` appears twice: readers disagree on which value wins (llama.cpp rejects the file)",
                        short(&key)
                    ),
                )
                .with_evidence(format!("offset {key_at}")),
            );
        }
        let ty_at = r.pos;
        let ty = r.u32("a value type")?;
        let ty = Ty::from(ty).ok_or_else(|| {
            ParseError::new(
                ty_at,
                format!("key `{}` has unknown value type {ty}", short(&key)),
            )
        })?;
        let is_template =
            key == "tokenizer.chat_template" || key.starts_with("tokenizer.chat_template.");
        if key == "general.alignment" {
            if ty != Ty::U32 {
                return Err(ParseError::new(ty_at, "`general.alignment` is not a u32"));
            }
            let a = r.u32("the alignment")?;
            if a == 0 || !a.is_power_of_two() {
                return Err(ParseError::new(
                    ty_at,
                    format!("`general.alignment` is {a}, not a power of two"),
                ));
            }
            alignment = a.into();
            continue;
        }
        if is_template && ty == Ty::Str {
            let s_at = r.pos;
            let n = r.str_len("the chat template")?;
            if n > MAX_TEMPLATE {
                out.push(Finding::new(
                    RuleId::ContentNotScanned,
                    loc_at(loc, s_at),
                    format!(
                        "chat template `{}` is {n} bytes, over the {MAX_TEMPLATE} analysed",
                        short(&key)
                    ),
                ));
                r.skip(n);
                continue;
            }
            let t = r.read_string(n)?;
            if templates < MAX_TEMPLATE_FINDINGS {
                templates += template_findings(&key, &t, loc_at(loc, s_at), out);
            }
            continue;
        }
        skip_value(r, ty, 0, ctx)?;
    }
    let mut last_offset = 0u64;
    for i in 0..n_tensors {
        if ctx.expired() {
            return Err(ParseError::new(
                r.pos,
                "time budget exceeded in the tensor descriptors",
            ));
        }
        let t_at = r.pos;
        let n = r.str_len("a tensor name")?;
        r.skip(n);
        let dims_at = r.pos;
        let n_dims = r.u32("a tensor's dimension count")?;
        if n_dims > MAX_DIMS {
            return Err(ParseError::new(
                dims_at,
                format!("tensor {i} has {n_dims} dimensions (llama.cpp allows {MAX_DIMS})"),
            ));
        }
        for _ in 0..n_dims {
            r.count("a tensor dimension")?;
        }
        r.u32("a tensor type")?;
        let off = r.u64("a tensor offset")?;
        if off % alignment != 0 {
            return Err(ParseError::new(
                t_at,
                format!("tensor {i} has offset {off}, not a multiple of the alignment {alignment}"),
            ));
        }
        last_offset = last_offset.max(off);
    }
    // Tensor data starts at the next multiple of the alignment; every tensor must at
    // least start inside the file (sizes would need ggml's block tables).
    let data_start = r.pos.div_ceil(alignment).saturating_mul(alignment);
    if n_tensors > 0 && data_start.saturating_add(last_offset) >= r.w.len() {
        return Err(ParseError::new(
            r.pos,
            format!(
                "tensor data at offset {} is past the end of the file ({} bytes): truncated",
                data_start.saturating_add(last_offset),
                r.w.len()
            ),
        ));
    }
    Ok(())
}

/// Skips one value of type `ty` at the reader's position, checking every length.
fn skip_value(r: &mut Reader, ty: Ty, depth: u32, ctx: &Ctx) -> R<()> {
    if let Some(n) = ty.fixed_size() {
        if n > r.left() {
            return Err(ParseError::new(r.pos, "truncated value"));
        }
        r.skip(n);
        return Ok(());
    }
    match ty {
        Ty::Str => {
            let n = r.str_len("a string value")?;
            r.skip(n);
        }
        _ => {
            let at = r.pos;
            if depth >= MAX_ARRAY_DEPTH {
                return Err(ParseError::new(
                    at,
                    format!("arrays nested deeper than {MAX_ARRAY_DEPTH}"),
                ));
            }
            let it = r.u32("an array item type")?;
            let item = Ty::from(it)
                .ok_or_else(|| ParseError::new(at, format!("array of unknown type {it}")))?;
            let count = r.count("an array length")?;
            let smallest = match item {
                Ty::Str => {
                    if r.v1 {
                        4
                    } else {
                        8
                    }
                }
                Ty::Array => 4 + if r.v1 { 4 } else { 8 },
                t => t.fixed_size().unwrap_or(1),
            };
            if count.checked_mul(smallest).is_none_or(|n| n > r.left()) {
                return Err(ParseError::new(
                    at,
                    format!(
                        "array declares {count} items, more than the {} bytes that follow can hold",
                        r.left()
                    ),
                ));
            }
            if let Some(sz) = item.fixed_size() {
                r.skip(count * sz);
            } else {
                for i in 0..count {
                    if i % 4096 == 0 && ctx.expired() {
                        return Err(ParseError::new(r.pos, "time budget exceeded in an array"));
                    }
                    skip_value(r, item, depth + 1, ctx)?;
                }
            }
        }
    }
    Ok(())
}

/// Findings for one chat template (one per severity, listing what was found); returns
/// how many were added.
fn template_findings(key: &str, t: &str, loc: Location, out: &mut Vec<Finding>) -> usize {
    let a = jinja::analyse(t);
    let before = out.len();
    for sev in [Severity::Critical, Severity::High] {
        let what: Vec<&str> = a
            .hits
            .iter()
            .filter(|h| h.severity == sev)
            .map(|h| h.what.as_str())
            .collect();
        if what.is_empty() {
            continue;
        }
        let list = what.join("; ");
        let (rule, msg) = if sev == Severity::Critical {
            (
                RuleId::GgufTemplateInjection,
                format!(
                    "chat template `{}` reaches Python internals ({list}): rendering it outside Jinja's sandbox runs code (CVE-2024-34359)",
                    short(key)
                ),
            )
        } else {
            (
                RuleId::GgufTemplateDynamicAccess,
                format!(
                    "chat template `{}` accesses attributes or items whose names are computed at render time ({list})",
                    short(key)
                ),
            )
        };
        out.push(Finding::new(rule, loc.clone(), msg).with_evidence(list));
    }
    if let Some(why) = a.unparsed {
        out.push(Finding::new(
RuleId::ContentNotScanned,
            loc,
            format!(
                "chat template `{}` could not be fully parsed ({why}); only its tokens were checked",
                short(key)
            ),
        ));
    }
    out.len() - before
}

fn loc_at(loc: &Location, offset: u64) -> Location {
    Location {
        offset: Some(offset),
        ..loc.clone()
    }
}

fn short(s: &str) -> String {
    crate::finding::shorten(s, 80)
}

#[cfg(test)]
mod tests;
