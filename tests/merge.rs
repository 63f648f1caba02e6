//! `modelgate merge`: shard runs merged give exactly the report of one full run, and
//! reports that cannot be shards of one scan are refused with exit 2.

// Test helpers: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use common::{assert_valid_sarif, modelgate};
use serde_json::Value;

const TARGETS: [&str; 2] = ["examples", "tests/fixtures"];

/// Runs `scan` with `extra` args, writing JSON and SARIF into `dir` under `stem`.
fn scan(dir: &Path, stem: &str, extra: &[&str]) -> (i32, PathBuf, PathBuf) {
    let json = dir.join(format!("{stem}.json"));
    let sarif = dir.join(format!("{stem}.sarif"));
    let out = modelgate()
        .args(["scan", "--no-config", "--no-progress", "--format", "text"])
        .args(["--category", "models/"])
        .arg("--json")
        .arg(&json)
        .arg("--sarif")
        .arg(&sarif)
        .args(extra)
        .args(TARGETS)
        .output()
        .expect("runs");
    let code = out.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 1,
        "scan {extra:?} exited {code}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (code, json, sarif)
}

fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).expect("read")).expect("JSON")
}

fn paths(report: &Value) -> Vec<String> {
    report["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| f["path"].as_str().expect("path").to_string())
        .collect()
}

#[test]
fn shard_runs_merged_equal_a_single_full_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (full_code, full_json, full_sarif) = scan(dir.path(), "full", &[]);
    let full = read_json(&full_json);
    assert_eq!(full_code, 1, "the malicious examples fail the full run");
    assert!(
        paths(&full).len() > 50,
        "enough files to spread over shards"
    );

    let n = 3;
    let mut shard_reports = Vec::new();
    let mut seen = 0;
    for k in 1..=n {
        let shard = format!("{k}/{n}");
        let (_, json, _) = scan(dir.path(), &format!("shard{k}"), &["--shard", &shard]);
        let files = paths(&read_json(&json));
        assert!(!files.is_empty(), "shard {shard} is empty");
        seen += files.len();
        shard_reports.push(json);
    }
    assert_eq!(seen, paths(&full).len(), "shards partition the files");

    // Reports in any order; outputs through --json/--sarif and stdout.
    shard_reports.reverse();
    let merged_json = dir.path().join("merged.json");
    let merged_sarif = dir.path().join("merged.sarif");
    let out = modelgate()
        .args([
            "merge",
            "--no-config",
            "--format",
            "json",
            "--category",
            "models/",
        ])
        .arg("--json")
        .arg(&merged_json)
        .arg("--sarif")
        .arg(&merged_sarif)
        .args(&shard_reports)
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(full_code),
        "same exit code as the full run; stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout: Value = serde_json::from_slice(&out.stdout).expect("stdout JSON");

    assert_eq!(read_json(&merged_json), full, "merged JSON == full JSON");
    assert_eq!(stdout, full, "stdout JSON == full JSON");
    assert_eq!(
        std::fs::read(&merged_json).unwrap(),
        std::fs::read(&full_json).unwrap(),
        "byte for byte"
    );
    let sarif = read_json(&merged_sarif);
    assert_eq!(sarif, read_json(&full_sarif), "merged SARIF == full SARIF");
    assert_valid_sarif(&sarif);
    assert_eq!(sarif["runs"][0]["automationDetails"]["id"], "models/");
}

#[test]
fn merge_applies_thresholds_once_from_fail_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut reports = Vec::new();
    for k in 1..=2 {
        // Each shard passes on its own with everything off...
        let shard = format!("{k}/2");
        let (code, json, _) = scan(
            dir.path(),
            &format!("s{k}"),
            &[
                "--shard",
                &shard,
                "--fail-on",
                "critical=off,high=off,medium=off",
            ],
        );
        assert_eq!(code, 0);
        reports.push(json);
    }
    // ...and the merge decides with its own thresholds, counting across shards.
    let full = read_json(&scan(dir.path(), "full", &[]).1);
    let criticals = full["summary"]["critical"].as_u64().unwrap();
    assert!(criticals >= 2);
    let out = modelgate()
        .args(["merge", "--no-config", "--format", "json"])
        .arg(format!(
            "--fail-on=critical={criticals},high=off,medium=off"
        ))
        .args(&reports)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["reached"], serde_json::json!(["critical"]));
    assert_eq!(v["summary"]["critical"].as_u64(), Some(criticals));

    let out = modelgate()
        .args(["merge", "--no-config", "--format", "json"])
        .arg(format!(
            "--fail-on=critical={},high=off,medium=off",
            criticals + 1
        ))
        .args(&reports)
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "one short of the threshold passes"
    );
}

fn merge_error(args: &[&Path]) -> String {
    let out = modelgate()
        .args(["merge", "--no-config"])
        .args(args)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "exit 2 for {args:?}");
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    err
}

#[test]
fn overlapping_duplicate_foreign_and_sarif_reports_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, s1, sarif) = scan(dir.path(), "s1", &["--shard", "1/2"]);
    let (_, full, _) = scan(dir.path(), "full", &[]);

    let err = merge_error(&[&s1, &full]);
    assert!(err.contains("shards must not overlap"), "{err}");
    let err = merge_error(&[&s1, &s1]);
    assert!(err.contains("is in both"), "{err}");

    let mut other = read_json(&s1);
    other["tool"]["version"] = "0.0.0-other".into();
    let p = dir.path().join("other.json");
    std::fs::write(&p, serde_json::to_vec(&other).unwrap()).unwrap();
    let err = merge_error(&[&p]);
    assert!(err.contains("modelgate 0.0.0-other"), "{err}");

    let err = merge_error(&[&sarif]);
    assert!(err.contains("SARIF report"), "{err}");

    let err = merge_error(&[&dir.path().join("missing.json")]);
    assert!(err.contains("missing.json"), "{err}");

    let out = modelgate().args(["merge"]).output().expect("runs");
    assert_eq!(
        out.status.code(),
        Some(2),
        "at least one report is required"
    );
}

#[test]
fn merge_writes_github_outputs_and_summary() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, s1, _) = scan(dir.path(), "s1", &["--shard", "1/2"]);
    let (_, s2, _) = scan(dir.path(), "s2", &["--shard", "2/2"]);
    let outputs = dir.path().join("out.txt");
    let summary = dir.path().join("summary.md");
    let out = modelgate()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &outputs)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args(["merge", "--no-config"])
        .args([&s1, &s2])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("::error file=examples/malicious/"),
        "{stdout}"
    );
    let outputs = std::fs::read_to_string(&outputs).unwrap();
    assert!(outputs.contains("verdict=fail\n"), "{outputs}");
    assert!(std::fs::read_to_string(&summary)
        .unwrap()
        .contains("modelgate: FAIL"));
}
