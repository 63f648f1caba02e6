//! Every fixture in tests/fixtures/manifest.json (and in any `manifest-<area>.json` beside
//! it, one per generator script), produced by the real libraries through
//! tests/fixtures/generate*.py, is scanned by the real binary and checked against what
//! the manifest says it must be: benign files at or below their allowed severity,
//! malicious ones at or above theirs, naming the global and the rules expected.

// Integration tests: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::Value;

/// `manifest.json` plus every `manifest-*.json`: each generator script owns one file.
fn manifest() -> Vec<Value> {
    let dir = root().join("tests/fixtures");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("fixtures dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n == "manifest.json" || (n.starts_with("manifest-") && n.ends_with(".json")))
        .collect();
    names.sort();
    let mut entries = Vec::new();
    for name in names {
        let text = std::fs::read_to_string(dir.join(&name)).expect("manifest");
        let part: Vec<Value> = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{name} is not a JSON array of entries: {e}"));
        entries.extend(part);
    }
    entries
}

#[test]
fn every_fixture_meets_its_expectation() {
    let (_, report) = scan_json(&["tests/fixtures"]);
    let mut failures = Vec::new();
    let entries = manifest();
    assert!(
        entries.len() >= 30,
        "manifest unexpectedly small: {}",
        entries.len()
    );
    for e in &entries {
        let path = format!("tests/fixtures/{}", e["path"].as_str().expect("path"));
        // A folder entry (a model repository, an MLflow model) is judged by every file
        // under it.
        let folder = root().join(&path).is_dir();
        let files: Vec<&Value> = if folder {
            let prefix = format!("{path}/");
            let under: Vec<&Value> = report["files"]
                .as_array()
                .expect("files")
                .iter()
                .filter(|f| f["path"].as_str().is_some_and(|p| p.starts_with(&prefix)))
                .collect();
            assert!(
                !under.is_empty(),
                "{path}: no file of the folder in the report"
            );
            under
        } else {
            vec![file(&report, &path)]
        };
        let got = files
            .iter()
            .map(|f| worst(f))
            .max_by_key(|s| rank(s))
            .unwrap_or("info");
        let findings: Vec<&Value> = files
            .iter()
            .flat_map(|f| f["findings"].as_array().expect("findings"))
            .collect();
        match e["kind"].as_str() {
            Some("benign") => {
                let max = e["expect_max"].as_str().unwrap_or("low");
                if rank(got) > rank(max) {
                    failures.push(format!(
                        "{path}: benign but {got} (max {max}): {findings:#?}"
                    ));
                }
            }
            Some("malicious") => {
                let min = e["expect_min"].as_str().expect("expect_min");
                if rank(got) < rank(min) {
                    failures.push(format!(
                        "{path}: malicious but only {got} (min {min}): {findings:#?}"
                    ));
                }
                if let Some(g) = e.get("expect_global").and_then(Value::as_str) {
                    let named = findings.iter().any(|x| {
                        x["evidence"].as_str().is_some_and(|ev| ev.contains(g))
                            || x["message"].as_str().is_some_and(|m| m.contains(g))
                    });
                    if !named {
                        failures.push(format!("{path}: no finding names `{g}`: {findings:#?}"));
                    }
                }
                // The payload's place: a finding at that line of the file (or archive
                // member, or code string) that holds it.
                if let Some(line) = e.get("expect_line").and_then(Value::as_u64) {
                    let holder = e["payload_file"]
                        .as_str()
                        .expect("payload_file with expect_line");
                    let placed = findings.iter().any(|x| {
                        let l = &x["location"];
                        let names_holder = [&l["path"], &l["member"]]
                            .iter()
                            .any(|v| v.as_str().is_some_and(|s| s.ends_with(holder)))
                            || x["message"].as_str().is_some_and(|m| m.contains(holder));
                        l["line"].as_u64() == Some(line) && names_holder
                    });
                    if !placed {
                        failures.push(format!(
                            "{path}: no finding at line {line} of {holder}: {findings:#?}"
                        ));
                    }
                }
            }
            other => failures.push(format!("{path}: unknown kind {other:?}")),
        }
        for rule in e
            .get("expect_rules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let rule = rule.as_str().expect("rule");
            if !findings.iter().any(|x| x["rule"] == rule) {
                failures.push(format!("{path}: expected rule {rule}: {findings:#?}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} fixture(s) off:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn fixtures_sarif_validates() {
    let out = modelgate()
        .args([
            "scan",
            "--format",
            "sarif",
            "--no-config",
            "tests/fixtures",
            "examples",
        ])
        .output()
        .expect("runs");
    let v: Value = serde_json::from_slice(&out.stdout).expect("SARIF is JSON");
    assert_valid_sarif(&v);
    let results = v["runs"][0]["results"].as_array().expect("results");
    assert!(
        results.iter().any(|r| r["level"] == "error"),
        "malicious fixtures must give error-level results"
    );
    for r in results {
        let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .expect("uri");
        assert!(
            !uri.starts_with('/') && !uri.contains('\\'),
            "uri must be repo-relative: {uri}"
        );
        // Line 1 for binary content; the payload's line in a text file (a config, a
        // template, shipped source).
        let start = &r["locations"][0]["physicalLocation"]["region"]["startLine"];
        assert!(
            start.as_u64().is_some_and(|l| l >= 1),
            "startLine must be a positive line: {r:#}"
        );
    }
}

#[test]
fn no_fixture_carries_a_machine_path() {
    let mut bad = Vec::new();
    for entry in walkdir::WalkDir::new(root().join("tests/fixtures"))
        .into_iter()
        .flatten()
    {
        if entry.file_type().is_file() {
            let bytes = std::fs::read(entry.path()).expect("read");
            for needle in [&b"/work/"[..], b"/root/", b"/home/"] {
                if bytes.windows(needle.len()).any(|w| w == needle)
                    && !entry.path().ends_with("generate.py")
                    && !entry.path().ends_with("verify.py")
                {
                    bad.push(entry.path().display().to_string());
                }
            }
        }
    }
    assert!(bad.is_empty(), "fixtures carrying absolute paths: {bad:?}");
}
