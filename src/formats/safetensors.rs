//! safetensors: an 8-byte little-endian header length, a JSON header, then raw tensor
//! bytes that are never read. The format cannot carry code; what can go wrong is a header
//! that lies about the data (a loader or converter that trusts it reads out of bounds or
//! aliases tensors), so the header is checked with the rules the reference `safetensors`
//! library applies when it opens a file, and each violation is a medium
//! `safetensors-malformed` finding.

use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

use crate::finding::{Finding, Location};
use crate::rules::RuleId;
use crate::source::ByteSource;

/// The reference library refuses headers over 100 MB (`MAX_HEADER_SIZE`).
pub const MAX_HEADER: u64 = 100_000_000;
/// Problems reported per file; the rest are counted in one last finding.
const MAX_FINDINGS: usize = 20;
const RULE: RuleId = RuleId::SafetensorsMalformed;

/// Element size in bits (sub-byte float types exist since safetensors 0.6).
fn dtype_bits(d: &str) -> Option<u64> {
    Some(match d {
        "BOOL" | "U8" | "I8" | "F8_E5M2" | "F8_E4M3" | "F8_E8M0" => 8,
        "F4" => 4,
        "F6_E2M3" | "F6_E3M2" => 6,
        "I16" | "U16" | "F16" | "BF16" => 16,
        "I32" | "U32" | "F32" => 32,
        "I64" | "U64" | "F64" | "C64" => 64,
        _ => return None,
    })
}

/// Whether the first bytes look like a safetensors file: a header length that is not
/// absurd for a real file, then `{`. Deliberately loose about the rest, so that a header
/// longer than the file or a non-JSON header is validated (and reported) rather than
/// skipped as unknown bytes.
pub fn looks_like(h: &[u8]) -> bool {
    if h.len() < 10 {
        return false;
    }
    let Some(n) = crate::bytes::u64_le_at(h, 0) else {
        return false;
    };
    h.get(8) == Some(&b'{') && (2..1 << 32).contains(&n)
}

/// The header's top-level members in file order, duplicates kept (serde_json's own map
/// keeps the last of two equal keys silently).
struct Entries(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Entries;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Entries, A::Error> {
                let mut v = Vec::new();
                while let Some(e) = m.next_entry::<String, Value>()? {
                    v.push(e);
                }
                Ok(Entries(v))
            }
        }
        d.deserialize_map(V)
    }
}

struct Tensor {
    name: String,
    start: u64,
    end: u64,
}

pub fn scan(src: &dyn ByteSource, loc: &Location, out: &mut Vec<Finding>) {
    let mut problems: Vec<String> = Vec::new();
    check(src, &mut problems);
    let extra = problems.len().saturating_sub(MAX_FINDINGS);
    for p in problems.into_iter().take(MAX_FINDINGS) {
        out.push(Finding::new(
            RULE,
            loc.clone(),
            format!("malformed safetensors header: {p}"),
        ));
    }
    if extra > 0 {
        out.push(Finding::new(
            RULE,
            loc.clone(),
            format!("malformed safetensors header: {extra} more problem(s) not listed"),
        ));
    }
}

fn check(src: &dyn ByteSource, problems: &mut Vec<String>) {
    let len = src.len();
    let mut l = [0u8; 8];
    if src.read_exact_at(0, &mut l).is_err() {
        problems.push(format!(
            "file of {len} bytes is shorter than the 8-byte header length"
        ));
        return;
    }
    let n = u64::from_le_bytes(l);
    if n > MAX_HEADER {
        problems.push(format!(
            "header length {n} is over the 100 MB the safetensors library accepts"
        ));
        return;
    }
    if n.saturating_add(8) > len {
        problems.push(format!(
            "header length {n} is longer than the file ({} bytes after the length)",
            len - 8
        ));
        return;
    }
    // n <= 100 MB, so this fits in memory and in usize.
    let Ok(bytes) = src.read_vec(8, n as usize) else {
        problems.push("header unreadable".into());
        return;
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        problems.push("header is not valid UTF-8".into());
        return;
    };
    if !text.starts_with('{') {
        problems.push("header does not start with `{`".into());
        return;
    }
    let entries = match serde_json::from_str::<Entries>(text) {
        Ok(e) => e.0,
        Err(e) => {
            problems.push(format!("header is not a JSON object: {e}"));
            return;
        }
    };
    let data_len = len - 8 - n;
    let mut seen = std::collections::HashSet::new();
    let mut tensors = Vec::new();
    for (name, v) in &entries {
        if !seen.insert(name.as_str()) {
            problems.push(format!(
                "`{}` is declared twice (readers disagree on which one wins)",
                short(name)
            ));
        }
        if name == "__metadata__" {
            check_metadata(v, problems);
            continue;
        }
        if let Some(t) = check_tensor(name, v, problems) {
            tensors.push(t);
        }
    }
    tensors.sort_by_key(|t| (t.start, t.end));
    let mut at = 0u64;
    for t in &tensors {
        if t.start < at {
            problems.push(format!(
                "tensor `{}` at [{}, {}) overlaps the previous tensor (ending at {at})",
                short(&t.name),
                t.start,
                t.end
            ));
        } else if t.start > at {
            problems.push(format!(
                "tensor `{}` starts at {} but the previous tensor ends at {at}: a gap of unaccounted bytes",
                short(&t.name),
                t.start
            ));
        }
        at = at.max(t.end);
    }
    if at > data_len {
        problems.push(format!(
            "tensor data ends at {at}, past the end of the file's {data_len} data bytes"
        ));
    } else if at < data_len {
        problems.push(format!(
            "{} byte(s) after the last tensor belong to no tensor",
            data_len - at
        ));
    }
}

fn check_metadata(v: &Value, problems: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some((k, _)) = m.iter().find(|(_, v)| !v.is_string()) {
                problems.push(format!(
                    "`__metadata__` must map strings to strings; `{}` is not a string",
                    short(k)
                ));
            }
        }
        // The reference library reads `__metadata__` as an optional map.
        Value::Null => {}
        _ => problems.push("`__metadata__` is not an object".into()),
    }
}

fn check_tensor(name: &str, v: &Value, problems: &mut Vec<String>) -> Option<Tensor> {
    let n = short(name);
    let Some(obj) = v.as_object() else {
        problems.push(format!("tensor `{n}` is not an object"));
        return None;
    };
    let dtype = obj.get("dtype").and_then(Value::as_str);
    let bits = match dtype {
        Some(d) => match dtype_bits(d) {
            Some(b) => Some(b),
            None => {
                problems.push(format!("tensor `{n}` has unknown dtype `{}`", short(d)));
                None
            }
        },
        None => {
            problems.push(format!("tensor `{n}` has no string `dtype`"));
            None
        }
    };
    let shape: Option<Vec<u64>> = obj
        .get("shape")
        .and_then(Value::as_array)
        .and_then(|a| a.iter().map(Value::as_u64).collect());
    if shape.is_none() {
        problems.push(format!(
            "tensor `{n}` has no `shape` list of non-negative integers"
        ));
    }
    let offsets = obj
        .get("data_offsets")
        .and_then(Value::as_array)
        .and_then(|a| match a.as_slice() {
            [s, e] => Some((s.as_u64()?, e.as_u64()?)),
            _ => None,
        });
    let Some((start, end)) = offsets else {
        problems.push(format!(
            "tensor `{n}` has no `data_offsets` pair of non-negative integers"
        ));
        return None;
    };
    if end < start {
        problems.push(format!(
            "tensor `{n}` ends ({end}) before it starts ({start})"
        ));
        return None;
    }
    if let (Some(bits), Some(shape)) = (bits, shape) {
        let elements = shape.iter().try_fold(1u64, |a, &d| a.checked_mul(d));
        match elements.and_then(|e| e.checked_mul(bits)) {
            None => problems.push(format!(
                "tensor `{n}`: shape {shape:?} overflows when multiplied out"
            )),
            Some(b) if b % 8 != 0 => problems.push(format!(
                "tensor `{n}`: shape {shape:?} of {} is not a whole number of bytes",
                dtype.unwrap_or_default()
            )),
            Some(b) if b / 8 != end - start => problems.push(format!(
                "tensor `{n}`: shape {shape:?} of {} needs {} bytes, but its offsets span {}",
                dtype.unwrap_or_default(),
                b / 8,
                end - start
            )),
            Some(_) => {}
        }
    }
    Some(Tensor {
        name: name.to_string(),
        start,
        end,
    })
}

/// Names and values from the file are shown cut to a readable length.
fn short(s: &str) -> String {
    crate::finding::shorten(s, 80)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Severity;
    use crate::source::MemSource;

    fn file(header: &str, data: usize) -> Vec<u8> {
        let mut v = (header.len() as u64).to_le_bytes().to_vec();
        v.extend_from_slice(header.as_bytes());
        v.extend(std::iter::repeat_n(0u8, data));
        v
    }

    fn problems(bytes: Vec<u8>) -> Vec<String> {
        let mut out = Vec::new();
        scan(&MemSource::new(bytes), &Location::file("x"), &mut out);
        assert!(out
            .iter()
            .all(|f| f.rule == RULE && f.severity == Severity::Medium));
        out.into_iter().map(|f| f.message).collect()
    }

    #[test]
    fn a_well_formed_file_has_no_findings() {
        let h = r#"{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"BF16","shape":[3],"data_offsets":[16,22]},"e":{"dtype":"I64","shape":[0],"data_offsets":[22,22]}}  "#;
        assert!(problems(file(h, 22)).is_empty());
        // Sub-byte dtypes count bits.
        let h = r#"{"__metadata__":null,"q":{"dtype":"F4","shape":[4],"data_offsets":[0,2]}}"#;
        assert!(problems(file(h, 2)).is_empty());
    }

    #[test]
    fn each_violation_is_reported() {
        let cases: &[(&str, usize, &str)] = &[
            (
                r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
                12,
                "overlaps",
            ),
            (
                r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
                4,
                "past the end",
            ),
            (
                r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
                12,
                "belong to no tensor",
            ),
            (
                r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
                12,
                "a gap",
            ),
            (
                r#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#,
                8,
                "needs 12 bytes",
            ),
            (
                r#"{"a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}}"#,
                8,
                "overflows",
            ),
            (
                r#"{"a":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}}"#,
                8,
                "unknown dtype",
            ),
            (
                r#"{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#,
                8,
                "shape",
            ),
            (
                r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#,
                8,
                "before it starts",
            ),
            (
                r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
                8,
                "declared twice",
            ),
            (r#"{"__metadata__":{"k":1}}"#, 0, "strings to strings"),
            (r#"{"__metadata__":[]}"#, 0, "not an object"),
            (r#"{"a":[]}"#, 0, "not an object"),
            (r#"{not json}"#, 0, "not a JSON object"),
            (
                r#"{"a":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}"#,
                2,
                "whole number of bytes",
            ),
        ];
        for (h, data, want) in cases {
            let p = problems(file(h, *data));
            assert!(p.iter().any(|m| m.contains(want)), "{h}: {p:?}");
        }
    }

    #[test]
    fn lengths_that_do_not_fit() {
        let mut v = 1000u64.to_le_bytes().to_vec();
        v.extend_from_slice(b"{\"a\":1}");
        assert!(problems(v)[0].contains("longer than the file"));
        let mut v = (MAX_HEADER + 1).to_le_bytes().to_vec();
        v.push(b'{');
        assert!(problems(v)[0].contains("100 MB"));
        assert!(problems(vec![1, 2, 3])[0].contains("shorter than"));
        let mut v = 4u64.to_le_bytes().to_vec();
        v.extend_from_slice(b"{\xff\xfe}");
        assert!(problems(v)[0].contains("UTF-8"));
    }

    #[test]
    fn findings_are_capped() {
        let mut h = String::from("{");
        for i in 0..50 {
            h.push_str(&format!(
                r#""t{i}":{{"dtype":"X","shape":[1],"data_offsets":[0,1]}},"#
            ));
        }
        h.push_str(r#""z":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#);
        let p = problems(file(&h, 1));
        assert_eq!(p.len(), MAX_FINDINGS + 1);
        assert!(p.last().is_some_and(|m| m.contains("more problem")));
    }

    #[test]
    fn sniffing() {
        assert!(looks_like(&file(r#"{"a":1}"#, 0)));
        assert!(!looks_like(b"hello world, this is text"));
        assert!(!looks_like(&[0u8; 16]));
    }
}
