//! Nested deserialisers judged by their bytes: `torch.storage._load_from_bytes(b"...")`,
//! which plain `pickle.dumps` of a module writes once per tensor storage.

use super::*;
use crate::limits::Limits;
use crate::scan::Ctx;
use crate::source::MemSource;

fn scan(bytes: &[u8]) -> Vec<Finding> {
    let limits = Limits::default();
    let allow = |_: &str, _: &str| false;
    let ctx = Ctx::new(&limits, &allow);
    let src = MemSource::new(bytes.to_vec());
    scan_stream(&src, 0, &ctx, &Location::file("t.pkl")).findings
}

/// `_load_from_bytes(inner)` for each of `inners` (the global memoised, fetched again),
/// in a tuple; protocol 3 (SHORT_BINBYTES).
fn loads(inners: &[&[u8]]) -> Vec<u8> {
    let mut p = b"\x80\x03(".to_vec();
    for (i, inner) in inners.iter().enumerate() {
        if i == 0 {
            p.extend(b"ctorch.storage\n_load_from_bytes\nq\x00");
        } else {
            p.extend(b"h\x00");
        }
        p.push(b'C');
        p.push(u8::try_from(inner.len()).unwrap());
        p.extend(*inner);
        p.extend(b"\x85R");
    }
    p.extend(b"t.");
    p
}

const SAFE: &[u8] = b"\x80\x02ccollections\nOrderedDict\n)R.";
const EVIL: &[u8] = b"\x80\x02cposix\nsystem\nX\x02\x00\x00\x00id\x85R.";

fn rule_of<'a>(f: &'a [Finding], what: &str) -> Vec<&'a str> {
    f.iter()
        .filter(|x| x.message.contains(what))
        .map(|x| x.rule.as_str())
        .collect()
}

#[test]
fn storage_loads_of_scanned_bytes_are_judged_by_them() {
    let f = scan(&loads(&[SAFE, SAFE, SAFE]));
    assert_eq!(
        rule_of(&f, "_load_from_bytes"),
        ["pickle-unknown-global"],
        "{f:#?}"
    );
    assert!(f.iter().all(|x| x.severity <= Severity::Medium), "{f:#?}");
    // A payload in the nested bytes is reported as what it is.
    let f = scan(&loads(&[SAFE, EVIL]));
    assert!(
        f.iter()
            .any(|x| x.rule == "pickle-code-execution" && x.location.member.is_some()),
        "{f:#?}"
    );
    // Bytes that are not a pickle (or not a constant) leave the loader critical.
    let f = scan(&loads(&[SAFE, b"not a pickle"]));
    assert_eq!(
        rule_of(&f, "_load_from_bytes"),
        ["pickle-code-execution"],
        "{f:#?}"
    );
    let f = scan(b"\x80\x03ctorch.storage\n_load_from_bytes\nq\x00N\x85R.");
    assert_eq!(
        rule_of(&f, "_load_from_bytes"),
        ["pickle-code-execution"],
        "{f:#?}"
    );
    // pickle.loads of the same bytes is not vetted this way.
    let mut p = b"\x80\x03cpickle\nloads\nq\x00C".to_vec();
    p.push(u8::try_from(SAFE.len()).unwrap());
    p.extend(SAFE);
    p.extend(b"\x85R.");
    let f = scan(&p);
    assert_eq!(
        rule_of(&f, "pickle.loads"),
        ["pickle-code-execution"],
        "{f:#?}"
    );
}
