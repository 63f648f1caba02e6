//! Model references in code (SPEC §8), offline: a repository whose code pulls models and
//! commits none. `modelgate scan .` reports the unpinned reference at its call site
//! (file, line, column; SARIF region) and nothing for the pinned one.

// Integration tests: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::Value;

const TRAIN: &str = "import torch\nfrom transformers import AutoModel, AutoTokenizer\n\nMODEL = \"acme/totally-harmless\"\n\n\ndef main():\n    tok = AutoTokenizer.from_pretrained(MODEL, revision=\"0123456789abcdef0123456789abcdef01234567\")\n    model = AutoModel.from_pretrained(\"acme/totally-harmless\")\n    return tok, model\n";

const NOTEBOOK: &str = r#"{
 "cells": [
  {
   "cell_type": "code",
   "execution_count": null,
   "metadata": {},
   "outputs": [],
   "source": [
    "from transformers import pipeline\n",
    "p = pipeline(model=\"acme/big-model\", revision=\"89abcdef0123456789abcdef0123456789abcdef\")\n"
   ]
  }
 ],
 "metadata": {},
 "nbformat": 4,
 "nbformat_minor": 5
}
"#;

#[test]
fn unpinned_reference_fails_the_build_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "train.py", TRAIN.as_bytes());
    write(dir.path(), "demo.ipynb", NOTEBOOK.as_bytes());
    let out = modelgate()
        .current_dir(dir.path())
        .args(["scan", ".", "--no-config", "--format", "sarif"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_valid_sarif(&sarif);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let refs: Vec<&Value> = results
        .iter()
        .filter(|r| {
            r["ruleId"]
                .as_str()
                .is_some_and(|id| id.starts_with("model-ref"))
        })
        .collect();
    assert_eq!(refs.len(), 1, "{refs:#?}");
    let r = refs[0];
    assert_eq!(r["ruleId"], "model-ref-unpinned");
    let loc = &r["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "train.py");
    assert_eq!(loc["region"]["startLine"], 9);
    assert_eq!(loc["region"]["startColumn"], 13);
    assert!(r["message"]["text"]
        .as_str()
        .unwrap()
        .contains("acme/totally-harmless"));
}

#[test]
fn json_names_the_call_and_the_notebook_is_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let nb = NOTEBOOK.replace(
        ", revision=\\\"89abcdef0123456789abcdef0123456789abcdef\\\"",
        "",
    );
    write(dir.path(), "demo.ipynb", nb.as_bytes());
    let (code, report) = scan_json(&[dir.path().to_str().unwrap()]);
    assert_eq!(code, 1);
    let f = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("demo.ipynb"))
        .unwrap();
    assert_eq!(f["format"], "notebook");
    let finding = &f["findings"][0];
    assert_eq!(finding["rule"], "model-ref-unpinned", "{f:#}");
    // The line of the call in the .ipynb file (its JSON source array).
    assert_eq!(finding["location"]["line"], 10);
    assert!(finding["evidence"].as_str().unwrap().contains("pipeline("));
}
