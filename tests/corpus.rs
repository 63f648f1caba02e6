//! Files that pinned versions of real libraries write (tests/corpus/libraries, recorded by
//! scripts/allowlist/generate.py) pass the default thresholds: nothing at medium or above.
//! Every false alarm here is a build a user would have to turn `medium` off for.

// Integration tests: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::Value;

#[test]
fn library_files_stay_below_medium() {
    let dir = root().join("tests/corpus/libraries");
    let manifest: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    assert!(manifest.len() >= 70, "corpus unexpectedly small");
    let (code, report) = scan_json(&["tests/corpus/libraries"]);
    let mut off = Vec::new();
    for e in &manifest {
        let path = format!("tests/corpus/{}", e["path"].as_str().unwrap());
        let f = file(&report, &path);
        assert_eq!(f["status"], "scanned", "{path}: {f:#}");
        let got = worst(f);
        if rank(got) >= rank("medium") {
            off.push(format!(
                "{path} ({} {}, {}): {got}: {:#}",
                e["library"], e["version"], e["writer"], f["findings"]
            ));
        }
    }
    assert!(
        off.is_empty(),
        "{} library file(s) fail the defaults:\n{}",
        off.len(),
        off.join("\n")
    );
    assert_eq!(code, 0, "the corpus must pass the default thresholds");
}
