//! Pickles in a row: the per-stream limit and later pickles that fail.

use super::*;
use crate::limits::Limits;
use crate::source::MemSource;

fn rules(data: &[u8], limits: &Limits) -> Vec<(String, String)> {
    let allow = |_: &str, _: &str| false;
    let ctx = Ctx::new(limits, &allow);
    let src = MemSource::new(data.to_vec());
    scan_stream(&src, 0, &ctx, &Location::file("x.pkl"))
        .findings
        .into_iter()
        .map(|f| (f.rule.to_string(), f.message))
        .collect()
}

#[test]
fn more_pickles_than_the_limit_are_a_finding_not_a_skip() {
    // Protocol 0, no header: only the probe can claim it. Before, it gave up after
    // `max_pickles_per_stream` data-only pickles and the file was skipped.
    let limits = Limits {
        max_pickles_per_stream: 4,
        ..Limits::default()
    };
    let mut data = b"N.".repeat(6);
    data.extend_from_slice(b"cposix\nsystem\n(S'echo x'\ntR.");
    let allow = |_: &str, _: &str| false;
    let ctx = Ctx::new(&limits, &allow);
    assert!(probe(&MemSource::new(data.clone()), 0, &ctx));
    let r = rules(&data, &limits);
    assert!(
        r.iter().any(|(rule, _)| rule == "pickle-limit-reached"),
        "{r:?}"
    );
    // The default reads far more than 64 pickles in a row.
    let mut data = b"N.".repeat(100);
    data.extend_from_slice(b"cposix\nsystem\n(S'echo x'\ntR.");
    let r = rules(&data, &Limits::default());
    assert!(
        r.iter().any(|(rule, _)| rule == "pickle-code-execution"),
        "{r:?}"
    );
}

#[test]
fn a_later_pickle_failing_before_any_import_is_reported() {
    let data = b"N.\xffcposix\nsystem\n(S'echo x'\ntR.";
    let r = rules(data, &Limits::default());
    assert!(
        r.iter()
            .any(|(rule, m)| rule == "pickle-trailing-data" && m.contains("after 1 complete")),
        "{r:?}"
    );
    // A newline after the last pickle is not a pickle that failed.
    let r = rules(b"\x80\x02N.\n", &Limits::default());
    assert!(
        r.iter().all(|(rule, _)| rule != "pickle-trailing-data"),
        "{r:?}"
    );
}
