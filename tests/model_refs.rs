//! Model references in code (SPEC §8), offline: a repository whose code pulls models and
//! commits none. `modelgate scan .` reports the unpinned reference at its call site
//! (file, line, column; SARIF region) and nothing for the pinned one.

// Integration tests: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
// Only part of the mock Hub is used here.
#[allow(dead_code)]
#[path = "common/mockhub.rs"]
mod mockhub;

use std::sync::Arc;

use common::*;
use mockhub::{Content, MockFile, MockRepo};
use serde_json::{json, Value};

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

const HARMLESS_SHA: &str = "3333333333333333333333333333333333333333";
const BIG_SHA: &str = "89abcdef0123456789abcdef0123456789abcdef";

fn repo(id: &str, sha: &str, files: Vec<(&str, Vec<u8>)>) -> MockRepo {
    MockRepo {
        id: id.into(),
        sha: sha.into(),
        private: false,
        files: files
            .into_iter()
            .map(|(path, b)| MockFile {
                path: path.into(),
                content: Content::Bytes(Arc::new(b)),
                lfs: path.ends_with(".bin"),
                security: "safe",
            })
            .collect(),
        security: json!({"scansDone": true, "filesWithIssues": []}),
    }
}

/// SPEC §8's example: with `--resolve-models` against a Hub whose `acme/totally-harmless`
/// checkpoint carries an `eval` payload, the scan fails with `model-ref-risky` (critical)
/// at the call's line, the checkpoint's own findings at its hf:// location; the pinned,
/// clean reference stays quiet; a reference to a repository the Hub does not have is
/// `model-ref-unresolved`.
#[test]
fn resolved_references_carry_the_models_findings_to_the_call_site() {
    let payload = std::fs::read(root().join("examples/malicious/eval_in_checkpoint.pt")).unwrap();
    let clean = std::fs::read(root().join("examples/benign/weights.safetensors")).unwrap();
    let hub = mockhub::start(vec![
        repo(
            "acme/totally-harmless",
            HARMLESS_SHA,
            vec![
                ("config.json", b"{}".to_vec()),
                ("pytorch_model.bin", payload),
            ],
        ),
        repo(
            "acme/big-model",
            BIG_SHA,
            vec![("model.safetensors", clean)],
        ),
    ]);
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "train.py", TRAIN.as_bytes());
    write(dir.path(), "demo.ipynb", NOTEBOOK.as_bytes());
    write(
        dir.path(),
        "other.py",
        b"from huggingface_hub import snapshot_download\nsnapshot_download(\"acme/missing\", revision=\"4444444444444444444444444444444444444444\")\n",
    );
    let out = modelgate_against_hub(&hub.endpoint)
        .current_dir(dir.path())
        .args([
            "scan",
            ".",
            "--no-config",
            "--no-progress",
            "--resolve-models",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let files = report["files"].as_array().unwrap();
    let train = files.iter().find(|f| f["path"] == "train.py").unwrap();
    let risky: Vec<&Value> = train["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "model-ref-risky")
        .collect();
    // Both calls in train.py name acme/totally-harmless: the pinned tokenizer call (at a
    // commit the Hub does not serve) and the unpinned model call.
    let at_9 = risky
        .iter()
        .find(|f| f["location"]["line"] == 9)
        .expect("risky at line 9");
    assert_eq!(at_9["severity"], "critical", "{train:#}");
    assert!(at_9["related"][0]["location"]["path"]
        .as_str()
        .unwrap()
        .starts_with("hf://acme/totally-harmless@"));
    // The model's own finding, at its hf:// location.
    assert!(files.iter().any(
        |f| f["path"].as_str().unwrap().ends_with("/pytorch_model.bin")
            && f["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["severity"] == "critical")
    ));
    // The pinned clean reference: no call-site finding.
    let nb = files.iter().find(|f| f["path"] == "demo.ipynb").unwrap();
    assert_eq!(nb["findings"].as_array().unwrap().len(), 0, "{nb:#}");
    // The missing repository is a finding, not a pass.
    let other = files.iter().find(|f| f["path"] == "other.py").unwrap();
    assert!(
        other["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "model-ref-unresolved"),
        "{other:#}"
    );
}

/// The job summary lists the references with their call sites.
#[test]
fn job_summary_lists_the_models_the_code_pulls() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "train.py", TRAIN.as_bytes());
    let summary = dir.path().join("summary.md");
    let out = modelgate()
        .current_dir(dir.path())
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args([
            "scan",
            "train.py",
            "--no-config",
            "--no-progress",
            "--format",
            "github",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.contains("### Models the code pulls"), "{md}");
    assert!(
        md.contains(r"<code>train.py\:9</code> | `model-ref-unpinned`"),
        "{md}"
    );
}
