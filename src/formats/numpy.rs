//! NumPy `.npy` (format versions 1–3): the header is a Python dict literal; arrays whose
//! dtype holds objects are stored as a pickle right after it, which
//! `numpy.load(allow_pickle=True)` unpickles. Numeric array bytes are never read.

use crate::finding::{Finding, Location, Severity};
use crate::formats::pickle;
use crate::scan::Ctx;
use crate::source::{ByteSource, SliceSource};

/// Largest header accepted (numpy itself refuses headers over 10 000 bytes by default).
const MAX_HEADER: u64 = 1 << 20;

/// Returns the format label; findings go to `out`.
pub fn scan(
    src: &dyn ByteSource,
    ctx: &Ctx,
    loc: &Location,
    out: &mut Vec<Finding>,
) -> &'static str {
    let malformed = |out: &mut Vec<Finding>, msg: &str| {
        out.push(Finding::new(
            "content-not-scanned",
            Severity::Medium,
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
    let (hlen, start) = match h[6] {
        1 => (u16::from_le_bytes([h[8], h[9]]) as u64, 10u64),
        2 | 3 if h.len() >= 12 => (u32::from_le_bytes([h[8], h[9], h[10], h[11]]) as u64, 12u64),
        v => {
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
    // Object dtype: `|O`, or a structured dtype with an `O` field.
    let has_object = descr.contains('O');
    if !has_object {
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

/// The value of `'descr'` in the header dict, as written (`'<f8'`, `'|O'`, or a list).
fn descr_of(header: &str) -> Option<String> {
    let i = header.find("'descr'")? + "'descr'".len();
    let rest = header[i..].trim_start().strip_prefix(':')?.trim_start();
    if rest.starts_with('[') {
        let end = rest.find("],")?;
        return Some(rest[..=end].to_string());
    }
    let q = rest.chars().next()?;
    // `q` may be any character of a hostile header, multi-byte included.
    let inner = &rest[q.len_utf8()..];
    let end = inner.find(q)?;
    Some(inner[..end].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descr_starting_with_a_multibyte_character_does_not_panic() {
        // Found by tests/robustness.rs: a mutated header put U+FFFD where the quote was.
        assert_eq!(
            descr_of("{'descr': \u{fffd}<f8\u{fffd}, }").as_deref(),
            Some("<f8")
        );
    }

    #[test]
    fn descr_parsing() {
        assert_eq!(
            descr_of("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }").as_deref(),
            Some("<f8")
        );
        assert_eq!(
            descr_of("{'descr': '|O', 'fortran_order': False, 'shape': (3,), }").as_deref(),
            Some("|O")
        );
        assert!(descr_of("{'descr': [('a', '|O')], 'shape': (1,), }")
            .unwrap()
            .contains('O'));
    }
}
