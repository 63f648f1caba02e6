//! Constant folding of pure builtins, so that an import whose name is computed in the
//! stream — `STACK_GLOBAL("".join(["po", "six"]), codecs.decode("flfgrz", "rot13"))` —
//! is reported as the `posix.system` it is, not only as "not a constant". Only functions
//! without side effects, on constants, with bounded output, are evaluated: string and bytes
//! methods, `codecs` text and binary transforms, base64/binascii decoders, zlib.

/// A constant value the folder works on.
#[derive(Clone, Debug, PartialEq)]
pub enum Const {
    Str(String),
    Bytes(Vec<u8>),
    Int(i64),
    None,
    /// A list or tuple of constants.
    Seq(Vec<Const>),
    /// The `str`, `bytes` or `bytearray` type itself (`builtins.str`): its methods are
    /// unbound (`str.join(sep, parts)`).
    Type(&'static str),
}

/// Longest folded result: names are short; a bound keeps a hostile stream from building
/// large values.
pub const MAX_FOLDED: usize = 4096;

/// Methods of `str` / `bytes` that are pure.
const PURE_METHODS: &[&str] = &[
    "join",
    "replace",
    "upper",
    "lower",
    "strip",
    "lstrip",
    "rstrip",
    "decode",
    "encode",
    "format",
    "__add__",
    "__mod__",
    "__getitem__",
    "removeprefix",
    "removesuffix",
    "swapcase",
    "title",
    "capitalize",
    "casefold",
    "zfill",
    "fromhex",
    "translate",
];

/// Whether `name` is a pure method of str/bytes (what `getattr(const, name)` may fold to).
pub fn is_pure_method(name: &str) -> bool {
    PURE_METHODS.contains(&name)
}

/// The result of calling the global `module.name` (aliases already folded) on `args`,
/// when it is a pure builtin and the result is a bounded constant.
pub fn call_global(module: &str, name: &str, args: &[Const]) -> Option<Const> {
    let out = match (module, name, args) {
        ("builtins", "str", [Const::Str(s)]) => Const::Str(s.clone()),
        ("builtins", "str", [Const::Bytes(b), Const::Str(enc)]) => Const::Str(decode(b, enc)?),
        ("builtins", "str", [Const::Int(i)]) => Const::Str(i.to_string()),
        ("builtins", "bytes" | "bytearray", [Const::Bytes(b)]) => Const::Bytes(b.clone()),
        ("builtins", "bytes" | "bytearray", [Const::Str(s), Const::Str(enc)]) => {
            Const::Bytes(encode(s, enc)?)
        }
        ("builtins", "bytes" | "bytearray", [Const::Seq(items)]) => Const::Bytes(
            items
                .iter()
                .map(|c| match c {
                    Const::Int(i) => u8::try_from(*i).ok(),
                    _ => None,
                })
                .collect::<Option<Vec<u8>>>()?,
        ),
        ("builtins", "chr", [Const::Int(i)]) => {
            Const::Str(char::from_u32(u32::try_from(*i).ok()?)?.to_string())
        }
        ("codecs", "decode" | "encode", [v]) => codec(v, "utf-8")?,
        ("codecs", "decode" | "encode", [v, Const::Str(c)]) => codec(v, c)?,
        ("base64", "b64decode" | "standard_b64decode" | "decodebytes", [v]) => {
            Const::Bytes(b64(&as_bytes(v)?, false)?)
        }
        ("base64", "urlsafe_b64decode", [v]) => Const::Bytes(b64(&as_bytes(v)?, true)?),
        ("base64", "b16decode", [v]) => Const::Bytes(unhex(&as_bytes(v)?)?),
        ("base64", "b32decode", [v]) => Const::Bytes(b32(&as_bytes(v)?)?),
        ("binascii", "unhexlify" | "a2b_hex", [v]) => Const::Bytes(unhex(&as_bytes(v)?)?),
        ("binascii", "a2b_base64", [v]) => Const::Bytes(b64(&as_bytes(v)?, false)?),
        ("zlib", "decompress", [Const::Bytes(b)]) => Const::Bytes(inflate(b)?),
        ("operator", "add" | "concat", [a, b]) => add(a, b)?,
        _ => return None,
    };
    bounded(out)
}

/// The result of `recv.name(*args)` for a pure method of str/bytes (or of the type, with
/// the receiver as the first argument).
pub fn call_method(recv: &Const, name: &str, args: &[Const]) -> Option<Const> {
    if let Const::Type(t) = recv {
        if name == "fromhex" {
            return match args {
                [Const::Str(h)] if *t != "str" => {
                    let clean: String = h.chars().filter(|c| !c.is_whitespace()).collect();
                    bounded(Const::Bytes(unhex(clean.as_bytes())?))
                }
                _ => None,
            };
        }
        let (first, rest) = args.split_first()?;
        return call_method(first, name, rest);
    }
    let out = match (recv, name, args) {
        (Const::Str(s), "join", [Const::Seq(parts)]) => {
            let parts: Option<Vec<&str>> = parts
                .iter()
                .map(|p| match p {
                    Const::Str(x) => Some(x.as_str()),
                    _ => None,
                })
                .collect();
            Const::Str(parts?.join(s))
        }
        (Const::Bytes(s), "join", [Const::Seq(parts)]) => {
            let parts: Option<Vec<&[u8]>> = parts
                .iter()
                .map(|p| match p {
                    Const::Bytes(x) => Some(x.as_slice()),
                    _ => None,
                })
                .collect();
            Const::Bytes(parts?.join(s.as_slice()))
        }
        (Const::Str(s), "replace", [Const::Str(a), Const::Str(b)]) => {
            Const::Str(s.replace(a.as_str(), b))
        }
        (Const::Str(s), "upper", []) => Const::Str(s.to_uppercase()),
        (Const::Str(s), "lower" | "casefold", []) => Const::Str(s.to_lowercase()),
        (Const::Str(s), "strip", []) => Const::Str(s.trim().to_string()),
        (Const::Str(s), "lstrip", []) => Const::Str(s.trim_start().to_string()),
        (Const::Str(s), "rstrip", []) => Const::Str(s.trim_end().to_string()),
        (Const::Str(s), "strip", [Const::Str(c)]) => {
            Const::Str(s.trim_matches(|x| c.contains(x)).to_string())
        }
        (Const::Str(s), "swapcase", []) => Const::Str(
            s.chars()
                .map(|c| {
                    if c.is_uppercase() {
                        c.to_lowercase().collect::<String>()
                    } else {
                        c.to_uppercase().collect()
                    }
                })
                .collect(),
        ),
        (Const::Str(s), "removeprefix", [Const::Str(p)]) => {
            Const::Str(s.strip_prefix(p.as_str()).unwrap_or(s).to_string())
        }
        (Const::Str(s), "removesuffix", [Const::Str(p)]) => {
            Const::Str(s.strip_suffix(p.as_str()).unwrap_or(s).to_string())
        }
        (Const::Str(s), "__add__", [Const::Str(t)]) => Const::Str(format!("{s}{t}")),
        (Const::Bytes(s), "__add__", [Const::Bytes(t)]) => Const::Bytes([&s[..], &t[..]].concat()),
        (Const::Str(s), "__mod__", [arg]) => Const::Str(percent(s, arg)?),
        (Const::Str(s), "format", args) => Const::Str(brace_format(s, args)?),
        (Const::Str(s), "__getitem__", [Const::Int(i)]) => {
            let chars: Vec<char> = s.chars().collect();
            let i = if *i < 0 { chars.len() as i64 + i } else { *i };
            Const::Str(chars.get(usize::try_from(i).ok()?)?.to_string())
        }
        (Const::Str(s), "encode", []) => Const::Bytes(s.as_bytes().to_vec()),
        (Const::Str(s), "encode", [Const::Str(enc), ..]) => Const::Bytes(encode(s, enc)?),
        (Const::Bytes(b), "decode", []) => Const::Str(decode(b, "utf-8")?),
        (Const::Bytes(b), "decode", [Const::Str(enc), ..]) => Const::Str(decode(b, enc)?),
        _ => return None,
    };
    bounded(out)
}

fn bounded(c: Const) -> Option<Const> {
    let len = match &c {
        Const::Str(s) => s.len(),
        Const::Bytes(b) => b.len(),
        _ => 0,
    };
    (len <= MAX_FOLDED).then_some(c)
}

fn as_bytes(v: &Const) -> Option<Vec<u8>> {
    match v {
        Const::Bytes(b) => Some(b.clone()),
        Const::Str(s) if s.is_ascii() => Some(s.as_bytes().to_vec()),
        _ => None,
    }
}

fn add(a: &Const, b: &Const) -> Option<Const> {
    match (a, b) {
        (Const::Str(x), Const::Str(y)) => Some(Const::Str(format!("{x}{y}"))),
        (Const::Bytes(x), Const::Bytes(y)) => Some(Const::Bytes([&x[..], &y[..]].concat())),
        (Const::Int(x), Const::Int(y)) => x.checked_add(*y).map(Const::Int),
        _ => None,
    }
}

fn norm(codec: &str) -> String {
    codec.to_ascii_lowercase().replace(['-', ' '], "_")
}

/// `codecs.decode(v, codec)` / `codecs.encode`: text and binary transforms by name.
fn codec(v: &Const, codec: &str) -> Option<Const> {
    let c = norm(codec);
    Some(match (v, c.as_str()) {
        (Const::Str(s), "rot13" | "rot_13") => Const::Str(rot13(s)),
        (Const::Bytes(b), "hex" | "hex_codec") => Const::Bytes(unhex(b)?),
        (Const::Bytes(b), "base64" | "base64_codec" | "base_64") => Const::Bytes(b64(b, false)?),
        (Const::Bytes(b), "zlib" | "zlib_codec" | "zip") => Const::Bytes(inflate(b)?),
        (Const::Bytes(b), enc) => Const::Str(decode(b, enc)?),
        (Const::Str(s), enc) => Const::Bytes(encode(s, enc)?),
        _ => return None,
    })
}

fn rot13(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'a'..='z' => (((c as u8 - b'a') + 13) % 26 + b'a') as char,
            'A'..='Z' => (((c as u8 - b'A') + 13) % 26 + b'A') as char,
            other => other,
        })
        .collect()
}

fn decode(b: &[u8], enc: &str) -> Option<String> {
    match norm(enc).as_str() {
        "utf_8" | "utf8" | "u8" => String::from_utf8(b.to_vec()).ok(),
        "ascii" | "us_ascii" => b.is_ascii().then(|| b.iter().map(|&c| c as char).collect()),
        "latin_1" | "latin1" | "iso8859_1" | "iso_8859_1" | "l1" => {
            Some(b.iter().map(|&c| c as char).collect())
        }
        _ => None,
    }
}

fn encode(s: &str, enc: &str) -> Option<Vec<u8>> {
    match norm(enc).as_str() {
        "utf_8" | "utf8" | "u8" => Some(s.as_bytes().to_vec()),
        "ascii" | "us_ascii" => s.is_ascii().then(|| s.as_bytes().to_vec()),
        "latin_1" | "latin1" | "iso8859_1" | "iso_8859_1" | "l1" => {
            s.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
        }
        _ => None,
    }
}

fn unhex(b: &[u8]) -> Option<Vec<u8>> {
    if !b.len().is_multiple_of(2) {
        return None;
    }
    b.chunks(2)
        .map(|p| {
            let s = std::str::from_utf8(p).ok()?;
            u8::from_str_radix(s, 16).ok()
        })
        .collect()
}

/// Standard or URL-safe base64; non-alphabet bytes are discarded as binascii does by
/// default, padding is required to complete the last group.
fn b64(b: &[u8], urlsafe: bool) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' if !urlsafe => 62,
            b'/' if !urlsafe => 63,
            b'-' if urlsafe => 62,
            b'_' if urlsafe => 63,
            _ => return None,
        })
    };
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut n = 0;
    for &c in b {
        if c == b'=' {
            break;
        }
        let Some(v) = val(c) else { continue };
        acc = (acc << 6) | v;
        n += 1;
        if n == 4 {
            out.extend_from_slice(&acc.to_be_bytes()[1..]);
            acc = 0;
            n = 0;
        }
    }
    match n {
        0 => {}
        2 => out.push((acc >> 4) as u8),
        3 => {
            out.push((acc >> 10) as u8);
            out.push((acc >> 2) as u8);
        }
        _ => return None,
    }
    Some(out)
}

fn b32(b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut acc: u64 = 0;
    let mut bits = 0;
    for &c in b {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 5) | u64::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

fn inflate(b: &[u8]) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut out = Vec::new();
    let d = flate2::read::ZlibDecoder::new(b);
    d.take(MAX_FOLDED as u64 + 1).read_to_end(&mut out).ok()?;
    Some(out)
}

/// `"%s.%s" % ("os", "system")`: `%s`, `%r`-free formats only.
fn percent(fmt: &str, arg: &Const) -> Option<String> {
    let args: Vec<&Const> = match arg {
        Const::Seq(items) => items.iter().collect(),
        other => vec![other],
    };
    let mut out = String::new();
    let mut it = args.into_iter();
    let mut chars = fmt.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            '%' => out.push('%'),
            's' => out.push_str(&text(it.next()?)?),
            'd' => match it.next()? {
                Const::Int(i) => out.push_str(&i.to_string()),
                _ => return None,
            },
            _ => return None,
        }
    }
    it.next().is_none().then_some(out)
}

/// `"{}{}".format("po", "six")`: positional `{}` and `{N}` fields without format specs.
fn brace_format(fmt: &str, args: &[Const]) -> Option<String> {
    let mut out = String::new();
    let mut auto = 0;
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                let mut field = String::new();
                for d in chars.by_ref() {
                    if d == '}' {
                        break;
                    }
                    field.push(d);
                }
                let i = if field.is_empty() {
                    auto += 1;
                    auto - 1
                } else {
                    field.parse().ok()?
                };
                out.push_str(&text(args.get(i)?)?);
            }
            '}' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

fn text(c: &Const) -> Option<String> {
    match c {
        Const::Str(s) => Some(s.clone()),
        Const::Int(i) => Some(i.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Const {
        Const::Str(x.into())
    }

    #[test]
    fn names_computed_by_pure_builtins_fold() {
        assert_eq!(
            call_method(&s(""), "join", &[Const::Seq(vec![s("po"), s("six")])]),
            Some(s("posix"))
        );
        assert_eq!(
            call_method(
                &Const::Type("str"),
                "join",
                &[s(""), Const::Seq(vec![s("o"), s("s")])]
            ),
            Some(s("os"))
        );
        assert_eq!(
            call_global("codecs", "decode", &[s("flfgrz"), s("rot13")]),
            Some(s("system"))
        );
        assert_eq!(
            call_global("base64", "b64decode", &[s("cG9zaXg=")]),
            Some(Const::Bytes(b"posix".to_vec()))
        );
        assert_eq!(
            call_method(&Const::Bytes(b"posix".to_vec()), "decode", &[]),
            Some(s("posix"))
        );
        assert_eq!(
            call_method(
                &s("%s%s"),
                "__mod__",
                &[Const::Seq(vec![s("po"), s("six")])]
            ),
            Some(s("posix"))
        );
        assert_eq!(
            call_method(&s("{}{}"), "format", &[s("sys"), s("tem")]),
            Some(s("system"))
        );
        assert_eq!(
            call_global("binascii", "unhexlify", &[s("6f73")]),
            Some(Const::Bytes(b"os".to_vec()))
        );
        assert_eq!(
            call_global("builtins", "chr", &[Const::Int(111)]),
            Some(s("o"))
        );
        // Not pure, or not constant: no folding.
        assert_eq!(call_global("os", "getcwd", &[]), None);
        assert_eq!(call_method(&s("x"), "split", &[]), None);
    }

    #[test]
    fn folded_values_are_bounded() {
        let big = "a".repeat(MAX_FOLDED);
        assert_eq!(call_method(&s(&big), "__add__", &[s("b")]), None);
    }
}
