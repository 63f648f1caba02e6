//! The text arguments of protocol 0 opcodes, parsed exactly as CPython's `_pickle.c`
//! parses them. A reader that is stricter than the loader calls a file malformed (and
//! stops analysing it) while the loader runs it; one that is looser reports imports the
//! loader never makes. Each function names the C code it follows.
//!
//! Every line here is the opcode's argument without its terminating `\n` (`_Unpickler_
//! Readline` keeps the newline and copies the line into a NUL-terminated buffer, so C
//! functions see the line, then `\n`, then NUL: a NUL inside the line ends what they see).

/// Value of an integer argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Int {
    Small(i64),
    /// Does not fit 64 bits (CPython makes a Python int of any size).
    Big,
}

/// What `INT` (`I`) pushes (`load_int`): `True`/`False` for exactly `00`/`01` (any two
/// characters that `strtol` reads as 0 or 1), else an int.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IntOp {
    Bool(bool),
    Int(Int),
}

/// The part of `line` a C function sees: up to the first NUL.
fn c_str(line: &[u8]) -> &[u8] {
    match line.iter().position(|&b| b == 0) {
        Some(i) => line.get(..i).unwrap_or(line),
        None => line,
    }
}

/// C `isspace` in the "C" locale.
fn c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// `strtol(s, &end, 0)` on a C string (`s` is the line then `\n`): the value and whether
/// parsing stopped at `\n` or at the end (what `load_int` requires). `None` on overflow
/// (errno set).
fn strtol0(s: &[u8]) -> Option<(i64, bool)> {
    let mut i = 0;
    while s.get(i).copied().is_some_and(c_space) {
        i += 1;
    }
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let (base, digits_start) = match (s.get(i), s.get(i + 1), s.get(i + 2)) {
        (Some(b'0'), Some(b'x' | b'X'), Some(h)) if h.is_ascii_hexdigit() => (16, i + 2),
        (Some(b'0'), _, _) => (8, i),
        _ => (10, i),
    };
    let mut j = digits_start;
    let mut v: i128 = 0;
    let mut overflow = false;
    while let Some(d) = s.get(j).and_then(|&c| (c as char).to_digit(base)) {
        // Past i64's range only "overflowed" matters: stop growing `v` so that a line
        // of any length cannot overflow the accumulator itself.
        if !overflow {
            v = v * i128::from(base) + i128::from(d);
            overflow = v > i128::from(i64::MAX) + 1;
        }
        j += 1;
    }
    if j == digits_start {
        // No digits: strtol consumed nothing, `end` is the start of the string.
        let at_end = s.first().is_none_or(|&c| c == b'\n');
        return Some((0, at_end));
    }
    let v = if neg { -v } else { v };
    if overflow || v > i128::from(i64::MAX) || v < i128::from(i64::MIN) {
        return None;
    }
    let at_end = s.get(j).is_none_or(|&c| c == b'\n');
    Some((v as i64, at_end))
}

/// `PyLong_FromString(s, NULL, base)` for base 0 or 10 on a C string: Python's `int()`
/// literal rules (whitespace around, a sign, `0x`/`0o`/`0b` prefixes in base 0,
/// underscores between digits, no leading zeros in a base-0 decimal). `None` when Python
/// raises.
pub fn py_long(s: &[u8], base: u32) -> Option<Int> {
    let t = std::str::from_utf8(s).ok()?;
    let t = t.trim_matches(|c: char| c.is_ascii() && c_space(c as u8));
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, t.get(1..)?),
        Some(b'+') => (false, t.get(1..)?),
        _ => (false, t),
    };
    let lower = t.to_ascii_lowercase();
    let (radix, body, prefixed) = if base == 0 {
        if let Some(r) = lower.strip_prefix("0x") {
            (16, r.to_string(), true)
        } else if let Some(r) = lower.strip_prefix("0o") {
            (8, r.to_string(), true)
        } else if let Some(r) = lower.strip_prefix("0b") {
            (2, r.to_string(), true)
        } else {
            (10, lower.clone(), false)
        }
    } else {
        (base, lower.clone(), false)
    };
    // Underscores: one between digits, or one right after a prefix.
    let body = match body.strip_prefix('_') {
        Some(rest) if prefixed => rest.to_string(),
        _ => body,
    };
    if body.is_empty() || body.starts_with('_') || body.ends_with('_') || body.contains("__") {
        return None;
    }
    let digits: String = body.chars().filter(|&c| c != '_').collect();
    if !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    // Base 0 rejects `010` (but not `0`, `00`, `0_0`).
    if base == 0 && !prefixed && digits.starts_with('0') && digits.chars().any(|c| c != '0') {
        return None;
    }
    match i128::from_str_radix(&digits, radix) {
        Ok(v) => {
            let v = if neg { -v } else { v };
            Some(i64::try_from(v).map_or(Int::Big, Int::Small))
        }
        Err(_) => Some(Int::Big),
    }
}

/// `INT`: `load_int`.
pub fn int_op(line: &[u8]) -> Option<IntOp> {
    if line.is_empty() {
        return None; // bad_readline
    }
    let s = c_str(line);
    let mut with_nl = s.to_vec();
    if s.len() == line.len() {
        with_nl.push(b'\n');
    }
    match strtol0(&with_nl) {
        Some((x, true)) => {
            // `len` counts the newline: two characters and a newline.
            if line.len() == 2 && (x == 0 || x == 1) {
                Some(IntOp::Bool(x == 1))
            } else {
                Some(IntOp::Int(Int::Small(x)))
            }
        }
        _ => py_long(&with_nl, 0).map(IntOp::Int),
    }
}

/// `LONG`: `load_long` (a trailing `L` is dropped, then base 0).
pub fn long_op(line: &[u8]) -> Option<Int> {
    if line.is_empty() {
        return None;
    }
    let l = match line.last() {
        Some(b'L') => line.get(..line.len() - 1).unwrap_or_default(),
        _ => line,
    };
    py_long(c_str(l), 0)
}

/// The index of `PUT` and `GET` (`load_put`, `load_get`): base 10, not negative.
pub fn memo_index(line: &[u8]) -> Result<u64, &'static str> {
    if line.is_empty() {
        return Err("pickle data was truncated");
    }
    match py_long(c_str(line), 10) {
        Some(Int::Small(i)) if i >= 0 => Ok(i as u64),
        Some(Int::Small(_)) => Err("negative PUT argument"),
        Some(Int::Big) => Err("memo index too large"),
        None => Err("invalid literal for int() with base 10"),
    }
}

/// `FLOAT`: `load_float` (`PyOS_string_to_double`, then the rest must be the newline).
pub fn float_op(line: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(c_str(line)).ok()?;
    // Python float literals without underscores; no leading whitespace.
    let ok = |t: &str| {
        let t = t.strip_prefix(['+', '-']).unwrap_or(t);
        let l = t.to_ascii_lowercase();
        matches!(l.as_str(), "inf" | "infinity" | "nan")
            || (!t.is_empty()
                && t.chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
                && t.chars().any(|c| c.is_ascii_digit()))
    };
    if !ok(s) {
        return None;
    }
    let v: f64 = s.parse().ok()?;
    // OverflowError for a finite literal that does not fit.
    if v.is_infinite() && !s.to_ascii_lowercase().contains("inf") {
        return None;
    }
    Some(v)
}

/// `STRING`: `load_string`. The line (newline already stripped) must start and end with
/// the same quote — a `\r` before the newline is not stripped — and the inside is decoded
/// with `PyBytes_DecodeEscape`. `cut` says the line was longer than what was kept: its
/// last byte is then `last`.
pub fn string_op(line: &[u8], last: Option<u8>, cut: bool) -> Result<Vec<u8>, &'static str> {
    let first = line.first().copied();
    let end = if cut { last } else { line.last().copied() };
    let long_enough = cut || line.len() >= 2;
    if !(long_enough && first == end && matches!(first, Some(b'\'' | b'"'))) {
        return Err("the STRING opcode argument must be quoted");
    }
    let inner = if cut {
        line.get(1..).unwrap_or_default()
    } else {
        line.get(1..line.len() - 1).unwrap_or_default()
    };
    decode_escape(inner, cut)
}

/// `PyBytes_DecodeEscape`: `\\ \' \" \a \b \f \n \r \t \v`, 1–3 octal digits, `\x` with
/// exactly two hex digits (else an error), a backslash before anything else kept as is,
/// and a lone trailing backslash an error. `cut`: the input is a prefix, so an escape cut
/// off at its end is not an error.
pub fn decode_escape(s: &[u8], cut: bool) -> Result<Vec<u8>, &'static str> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while let Some(&c) = s.get(i) {
        i += 1;
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let Some(&e) = s.get(i) else {
            if cut {
                break;
            }
            return Err("Trailing \\ in string");
        };
        i += 1;
        match e {
            b'\n' => {}
            b'\\' => out.push(b'\\'),
            b'\'' => out.push(b'\''),
            b'"' => out.push(b'"'),
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b't' => out.push(b'\t'),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b'v' => out.push(0x0b),
            b'a' => out.push(0x07),
            b'0'..=b'7' => {
                let mut v = u32::from(e - b'0');
                for _ in 0..2 {
                    match s.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                // Values over 0o377 wrap to a byte (with a warning in CPython).
                out.push((v & 0xff) as u8);
            }
            b'x' => {
                let hex = |b: Option<&u8>| b.and_then(|&b| (b as char).to_digit(16));
                match (hex(s.get(i)), hex(s.get(i + 1))) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ if cut && i + 2 > s.len() => break,
                    _ => return Err("invalid \\x escape"),
                }
            }
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    Ok(out)
}

/// `UNICODE`: `PyUnicode_DecodeRawUnicodeEscape`: bytes are Latin-1; `\uXXXX` and
/// `\UXXXXXXXX` after an odd number of backslashes are escapes, which must be complete
/// (and, for `\U`, a valid code point). `max_chars` bounds the result.
pub fn raw_unicode_escape(line: &[u8], max_chars: usize) -> Result<String, &'static str> {
    let mut out = String::new();
    let mut i = 0;
    let mut backslashes = 0usize;
    while let Some(&c) = line.get(i) {
        if out.len() >= max_chars {
            break;
        }
        if c == b'\\' {
            backslashes += 1;
            out.push('\\');
            i += 1;
            continue;
        }
        let escape = backslashes % 2 == 1 && (c == b'u' || c == b'U');
        backslashes = 0;
        if !escape {
            out.push(c as char);
            i += 1;
            continue;
        }
        let w = if c == b'u' { 4 } else { 8 };
        let hex = line
            .get(i + 1..i + 1 + w)
            .and_then(|h| std::str::from_utf8(h).ok())
            .filter(|h| h.chars().all(|d| d.is_ascii_hexdigit()));
        let Some(hex) = hex else {
            return Err(if c == b'u' {
                "truncated \\uXXXX escape"
            } else {
                "truncated \\UXXXXXXXX escape"
            });
        };
        let cp = u32::from_str_radix(hex, 16).map_err(|_| "bad escape")?;
        let Some(ch) = char::from_u32(cp) else {
            return Err("\\Uxxxxxxxx out of range");
        };
        out.pop(); // the backslash that started the escape
        out.push(ch);
        i += 1 + w;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_follows_strtol_then_pylong() {
        assert_eq!(int_op(b"00"), Some(IntOp::Bool(false)));
        assert_eq!(int_op(b"01"), Some(IntOp::Bool(true)));
        assert_eq!(int_op(b"+1"), Some(IntOp::Bool(true)));
        assert_eq!(int_op(b"1"), Some(IntOp::Int(Int::Small(1))));
        assert_eq!(int_op(b"0x1f"), Some(IntOp::Int(Int::Small(31))));
        assert_eq!(int_op(b"010"), Some(IntOp::Int(Int::Small(8))));
        assert_eq!(int_op(b"12\0garbage"), Some(IntOp::Int(Int::Small(12))));
        assert_eq!(int_op(b"1_0"), Some(IntOp::Int(Int::Small(10))));
        assert_eq!(int_op(b" 7 "), Some(IntOp::Int(Int::Small(7))));
        assert_eq!(
            int_op(b"123456789012345678901234567890"),
            Some(IntOp::Int(Int::Big))
        );
        // Longer than any accumulator (a fuzzer's find: the strtol emulation overflowed).
        let long = [b'8'; 60];
        assert_eq!(int_op(&long), Some(IntOp::Int(Int::Big)));
        let mut hex = b"0x".to_vec();
        hex.extend([b'f'; 60]);
        assert_eq!(int_op(&hex), Some(IntOp::Int(Int::Big)));
        assert_eq!(
            int_op(b"-9223372036854775808"),
            Some(IntOp::Int(Int::Small(i64::MIN)))
        );
        assert_eq!(int_op(b""), None);
        assert_eq!(int_op(b"x"), None);
        assert_eq!(int_op(b"1__0"), None);
        assert_eq!(int_op(b"0x"), None);
    }

    #[test]
    fn memo_indexes_are_base_10() {
        assert_eq!(memo_index(b"1_0"), Ok(10));
        assert_eq!(memo_index(b"010"), Ok(10));
        assert_eq!(memo_index(b"3\0x"), Ok(3));
        assert!(memo_index(b"-1").is_err());
        assert!(memo_index(b"0x1").is_err());
    }

    #[test]
    fn long_drops_its_suffix() {
        assert_eq!(long_op(b"5L"), Some(Int::Small(5)));
        assert_eq!(long_op(b"0x10L"), Some(Int::Small(16)));
        assert_eq!(long_op(b"010"), None);
    }

    #[test]
    fn floats() {
        assert_eq!(float_op(b"1.5"), Some(1.5));
        assert!(float_op(b"nan").is_some_and(f64::is_nan));
        assert_eq!(float_op(b" 1.5"), None);
        assert_eq!(float_op(b"1e999"), None);
        assert_eq!(float_op(b"2\0junk"), Some(2.0));
    }

    #[test]
    fn strings_decode_every_escape() {
        assert_eq!(string_op(b"'\\157s'", None, false), Ok(b"os".to_vec()));
        assert_eq!(string_op(b"'\\x6fs'", None, false), Ok(b"os".to_vec()));
        assert_eq!(
            string_op(b"'a\\ab\\q'", None, false),
            Ok(b"a\x07b\\q".to_vec())
        );
        assert!(string_op(b"'abc'\r", None, false).is_err());
        assert!(string_op(b"'a\\x4'", None, false).is_err());
        assert!(string_op(b"'", None, false).is_err());
        // A line longer than what was kept: its last byte decides.
        assert_eq!(string_op(b"'abc", Some(b'\''), true), Ok(b"abc".to_vec()));
        assert!(string_op(b"'abc", Some(b'x'), true).is_err());
    }

    #[test]
    fn raw_unicode_escapes() {
        assert_eq!(raw_unicode_escape(b"a\\u0041", 100).as_deref(), Ok("aA"));
        assert_eq!(
            raw_unicode_escape(b"\\\\u0041", 100).as_deref(),
            Ok("\\\\u0041")
        );
        assert!(raw_unicode_escape(b"\\u00", 100).is_err());
        assert_eq!(raw_unicode_escape(b"\xe9", 100).as_deref(), Ok("\u{e9}"));
    }
}
