//! Snapshots of what users read: every report format of a scan of the bundled examples,
//! and the rule catalogue. A change to any of them shows in review as a snapshot diff
//! (`cargo insta review`, or `INSTA_UPDATE=always cargo test --test snapshots` and read
//! the diff). The harness (`common::modelgate`) scrubs CI, GitHub runner, Hugging Face and
//! modelgate variables and `NO_COLOR` from the environment; the tool version is replaced
//! by `@@VERSION@@` so a release does not rewrite every snapshot.

// Test helpers: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;

fn run(args: &[&str]) -> String {
    let out = modelgate().args(args).output().expect("runs");
    let text = String::from_utf8(out.stdout).expect("UTF-8 output");
    scrub(&text)
}

fn scrub(s: &str) -> String {
    s.replace(env!("CARGO_PKG_VERSION"), "@@VERSION@@")
}

const SCAN: [&str; 4] = ["scan", "examples", "--no-config", "--no-progress"];

#[test]
fn text_report_of_the_examples() {
    insta::assert_snapshot!(run(&SCAN));
}

#[test]
fn json_report_of_the_examples() {
    insta::assert_snapshot!(run(&[&SCAN[..], &["--format", "json"]].concat()));
}

#[test]
fn sarif_report_of_the_examples() {
    insta::assert_snapshot!(run(&[&SCAN[..], &["--format", "sarif"]].concat()));
}

#[test]
fn github_annotations_of_the_examples() {
    insta::assert_snapshot!(run(&[&SCAN[..], &["--format", "github"]].concat()));
}

#[test]
fn github_job_summary_of_the_examples() {
    let dir = tempfile::tempdir().expect("tempdir");
    let summary = dir.path().join("summary.md");
    let out = modelgate()
        .args(SCAN)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let md = std::fs::read_to_string(&summary).expect("summary written");
    insta::assert_snapshot!(scrub(&md));
}

#[test]
fn rule_catalogue_text() {
    insta::assert_snapshot!(run(&["rules"]));
}
