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

/// A checkpoint holding the project's own dataclass (`trainlib.RunConfig`, written by
/// torch.save: tests/fixtures/convert/malicious/custom_class_leaf.pt) is medium alone, and
/// low beside the `trainlib/config.py` that defines it (first-party, rebuilt as an object).
#[test]
fn first_party_classes_are_low_beside_their_source() {
    let ckpt = std::fs::read(root().join("tests/fixtures/convert/malicious/custom_class_leaf.pt"))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "checkpoints/last.pt", &ckpt);
    let (code, report) = scan_json(&[dir.path().to_str().unwrap()]);
    assert_eq!(code, 1);
    let f = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("last.pt"))
        .unwrap();
    assert_eq!(worst(f), "medium", "{f:#}");

    write(
        dir.path(),
        "src/trainlib/config.py",
        b"import dataclasses\n\n\n@dataclasses.dataclass\nclass RunConfig:\n    lr: float = 0.001\n    epochs: int = 3\n",
    );
    write(
        dir.path(),
        "src/trainlib/__init__.py",
        b"from .config import RunConfig\n",
    );
    let (code, report) = scan_json(&[dir.path().to_str().unwrap()]);
    let f = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("last.pt"))
        .unwrap();
    assert_eq!(worst(f), "low", "{f:#}");
    assert!(
        f["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["evidence"]
                .as_str()
                .is_some_and(|e| e.contains("trainlib.RunConfig"))),
        "{f:#}"
    );
    assert_eq!(code, 0, "{report:#}");
}
