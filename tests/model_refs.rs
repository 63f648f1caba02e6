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
use mockhub::{public_repo, Content};
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
        public_repo(
            "acme/totally-harmless",
            HARMLESS_SHA,
            vec![
                ("config.json", b"{}".to_vec()),
                ("pytorch_model.bin", payload),
            ],
        ),
        public_repo(
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
    // One row per reference, pinned or not, with its publisher and what is known.
    assert!(
        md.contains("| <code>acme/totally-harmless</code> | acme | default branch (unpinned) | — | not resolved | not scanned | <code>train.py\\:9</code> |"),
        "{md}"
    );
    assert!(
        md.contains("| <code>acme/totally-harmless</code> | acme | <code>0123456789ab</code> (pinned) | <code>0123456789ab</code> | not resolved | not scanned | <code>train.py\\:8</code> |"),
        "{md}"
    );
    assert!(
        md.contains(r"<code>train.py\:9</code> | `model-ref-unpinned`"),
        "{md}"
    );
}

const LOCK_TRAIN: &str = "from transformers import AutoModel\nfrom huggingface_hub import hf_hub_download\n\nmodel = AutoModel.from_pretrained(\"acme/totally-harmless\")\ncfg = hf_hub_download(\"acme/big-model\", \"config.json\", revision=\"89abcdef0123456789abcdef0123456789abcdef\")\n";

/// The pipeline() call pins the same commit as the hf_hub_download call.
const LOCK_NOTEBOOK_PIN: &str = BIG_SHA;

fn lock_hub() -> mockhub::MockHub {
    let payload = std::fs::read(root().join("examples/malicious/eval_in_checkpoint.pt")).unwrap();
    let clean = std::fs::read(root().join("examples/benign/weights.safetensors")).unwrap();
    mockhub::start(vec![
        public_repo(
            "acme/totally-harmless",
            HARMLESS_SHA,
            vec![
                ("config.json", b"{}".to_vec()),
                ("pytorch_model.bin", payload.clone()),
            ],
        ),
        public_repo(
            "acme/big-model",
            BIG_SHA,
            vec![
                ("config.json", b"{\"model_type\": \"bert\"}".to_vec()),
                ("model.safetensors", clean),
                // The library loads model.safetensors; this one is never downloaded.
                ("pytorch_model.bin", payload),
                ("README.md", b"# big model\n".to_vec()),
            ],
        ),
    ])
}

fn requests(hub: &mockhub::MockHub) -> Vec<String> {
    hub.stats.requests.lock().unwrap().clone()
}

fn run_in(hub: &mockhub::MockHub, dir: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = modelgate_against_hub(&hub.endpoint)
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn findings_of<'a>(report: &'a Value, path: &str) -> Vec<&'a Value> {
    report["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"] == path)
        .flat_map(|f| f["findings"].as_array().unwrap())
        .collect()
}

/// `modelgate lock` resolves every reference once and writes a sorted, reviewable lock
/// with the files each call downloads (hf_hub_download: that file; a model loader: the
/// safetensors weights, not the pickle beside them) and their Hub hashes; a second run
/// rewrites nothing and fetches nothing; `scan --resolve-models` with the lock fetches
/// nothing and still fails on the locked risky model at its call site.
#[test]
fn lock_round_trip_fetches_nothing_new() {
    let hub = lock_hub();
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "train.py", LOCK_TRAIN.as_bytes());
    write(
        dir.path(),
        "serve.py",
        format!("from transformers import pipeline\np = pipeline(model=\"acme/big-model\", revision=\"{LOCK_NOTEBOOK_PIN}\")\n").as_bytes(),
    );
    let (code, _, stderr) = run_in(&hub, dir.path(), &["lock", "--no-config"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("wrote"), "{stderr}");
    let text = std::fs::read_to_string(dir.path().join("modelgate.lock")).unwrap();
    let lock: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(lock["version"], 1);
    let models = lock["models"].as_array().unwrap();
    let keys: Vec<(String, Value)> = models
        .iter()
        .map(|m| {
            (
                m["repo"].as_str().unwrap().to_string(),
                m["requested"].clone(),
            )
        })
        .collect();
    // Sorted by repository, one entry per (repository, revision): the pipeline() pin
    // and the hf_hub_download pin are the same commit, so one reference.
    assert_eq!(
        keys,
        [
            ("acme/big-model".to_string(), json!(BIG_SHA)),
            ("acme/totally-harmless".to_string(), Value::Null),
        ],
        "{text}"
    );
    let big = &models[0];
    assert_eq!(big["commit"], BIG_SHA);
    let big_files: Vec<&str> = big["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    // pipeline() downloads config + safetensors weights; hf_hub_download the config.
    assert!(big_files.contains(&"config.json"), "{big_files:?}");
    assert!(big_files.contains(&"model.safetensors"), "{big_files:?}");
    assert!(!big_files.contains(&"pytorch_model.bin"), "{big_files:?}");
    assert!(!big_files.contains(&"README.md"), "{big_files:?}");
    assert_eq!(big["verdict"], Value::Null, "{text}");
    assert_eq!(hub.served("acme/big-model/pytorch_model.bin"), 0);
    let harmless = &models[1];
    assert_eq!(harmless["commit"], HARMLESS_SHA);
    assert_eq!(harmless["verdict"], "critical");
    let bin = harmless["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "pytorch_model.bin")
        .unwrap();
    assert_eq!(bin["verdict"], "critical");
    let payload = std::fs::read(root().join("examples/malicious/eval_in_checkpoint.pt")).unwrap();
    let digest = Content::Bytes(Arc::new(payload)).digest();
    assert_eq!(bin["sha256"], digest.as_str());

    // Unchanged code: the lock is not rewritten and nothing is fetched.
    let before = requests(&hub).len();
    let (code, _, stderr) = run_in(&hub, dir.path(), &["lock", "--no-config"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("unchanged"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("modelgate.lock")).unwrap(),
        text
    );
    assert_eq!(
        requests(&hub).len(),
        before,
        "{:?}",
        &requests(&hub)[before..]
    );

    // scan --resolve-models with the lock: no request, the locked verdict at the call.
    let (code, stdout, stderr) = run_in(
        &hub,
        dir.path(),
        &[
            "scan",
            ".",
            "--no-config",
            "--no-progress",
            "--resolve-models",
            "-f",
            "json",
        ],
    );
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        requests(&hub).len(),
        before,
        "{:?}",
        &requests(&hub)[before..]
    );
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let train = findings_of(&report, "train.py");
    let risky = train
        .iter()
        .find(|f| f["rule"] == "model-ref-risky")
        .unwrap_or_else(|| panic!("{train:#?}"));
    assert_eq!(risky["severity"], "critical");
    assert_eq!(risky["location"]["line"], 4);
    assert!(risky["related"][0]["location"]["path"]
        .as_str()
        .unwrap()
        .ends_with(&format!(
            "acme/totally-harmless@{HARMLESS_SHA}/pytorch_model.bin"
        )));
    let states: Vec<&str> = report["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["locked", "locked"], "{:#}", report["models"]);
}

/// With a lock, a pin the lock does not record is `model-ref-drift` and a reference the
/// lock lacks is `model-ref-unlocked`, both offline; the locked risky model stays
/// critical without the network.
#[test]
fn a_changed_pin_drifts_and_a_new_reference_is_unlocked() {
    let hub = lock_hub();
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "train.py", LOCK_TRAIN.as_bytes());
    let (code, _, stderr) = run_in(&hub, dir.path(), &["lock", "--no-config"]);
    assert_eq!(code, 0, "{stderr}");
    // Re-pin the hf_hub_download call, add a new reference.
    let changed = LOCK_TRAIN.replace(BIG_SHA, "fedcba9876543210fedcba9876543210fedcba98");
    write(dir.path(), "train.py", changed.as_bytes());
    write(
        dir.path(),
        "extra.py",
        b"from diffusers import DiffusionPipeline\npipe = DiffusionPipeline.from_pretrained(\"acme/new-model\", revision=\"v1.0\")\n",
    );
    let before = requests(&hub).len();
    let out = modelgate_against_hub(&hub.endpoint)
        .env("HF_HUB_OFFLINE", "1")
        .current_dir(dir.path())
        .args(["scan", ".", "--no-config", "--no-progress", "-f", "sarif"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(requests(&hub).len(), before);
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_valid_sarif(&sarif);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let at = |rule: &str| -> Vec<(String, i64, i64, String)> {
        results
            .iter()
            .filter(|r| r["ruleId"] == rule)
            .map(|r| {
                let l = &r["locations"][0]["physicalLocation"];
                (
                    l["artifactLocation"]["uri"].as_str().unwrap().to_string(),
                    l["region"]["startLine"].as_i64().unwrap(),
                    l["region"]["startColumn"].as_i64().unwrap(),
                    r["level"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    assert_eq!(
        at("model-ref-drift"),
        [("train.py".to_string(), 5, 7, "error".to_string())]
    );
    assert_eq!(
        at("model-ref-unlocked"),
        [("extra.py".to_string(), 2, 8, "warning".to_string())]
    );
    let risky = at("model-ref-risky");
    assert_eq!(risky.len(), 1, "{risky:?}");
    assert_eq!((risky[0].0.as_str(), risky[0].1), ("train.py", 4));
    let text = results
        .iter()
        .find(|r| r["ruleId"] == "model-ref-drift")
        .unwrap()["message"]["text"]
        .as_str()
        .unwrap();
    assert!(text.contains(BIG_SHA), "{text}");

    // `modelgate lock` again: only the changed references are fetched; the kept entry
    // is not. The new reference names a repository the Hub lacks: exit 1, reported.
    let before = requests(&hub).len();
    let (code, _, stderr) = run_in(&hub, dir.path(), &["lock", "--no-config"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("not locked: hf://acme/new-model@v1.0: "),
        "{stderr}"
    );
    let new_requests = requests(&hub)[before..].to_vec();
    assert!(
        !new_requests.iter().any(|r| r.contains("totally-harmless")),
        "{new_requests:?}"
    );
    assert!(
        new_requests.iter().any(|r| r.contains("big-model")),
        "{new_requests:?}"
    );
}

/// Configs name models too (SPEC §8): YAML (Hydra/Lightning style), JSON and TOML keys
/// give their findings at the value's line and column; a pinned one is quiet; the
/// configs libraries write into model folders (`config.json` with `_name_or_path`) and
/// bare library model names are not references.
#[test]
fn config_keys_are_references_at_their_value() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "configs/train.yaml",
        b"model:\n  _target_: transformers.AutoModelForCausalLM.from_pretrained\n  pretrained_model_name_or_path: acme/totally-harmless\n  trust_remote_code: true\ndata:\n  tokenizer_name: acme/tok\n  tokenizer_revision: 0123456789abcdef0123456789abcdef01234567\n",
    );
    write(
        dir.path(),
        "pyproject.toml",
        b"[project]\nname = \"x\"\n\n[tool.finetune]\nbase_model = \"acme/base\"\nrevision = \"v2\"\n",
    );
    write(
        dir.path(),
        "model/config.json",
        b"{\"_name_or_path\": \"acme/base\", \"architectures\": [\"BertModel\"], \"model_type\": \"bert\"}\n",
    );
    write(dir.path(), "vision.yaml", b"model_name_or_path: resnet50\n");
    let out = modelgate()
        .current_dir(dir.path())
        .args(["scan", ".", "--no-config", "--no-progress", "-f", "sarif"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_valid_sarif(&sarif);
    let mut got: Vec<(String, String, i64, i64)> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ruleId"].as_str().unwrap().starts_with("model-ref"))
        .map(|r| {
            let l = &r["locations"][0]["physicalLocation"];
            (
                r["ruleId"].as_str().unwrap().to_string(),
                l["artifactLocation"]["uri"].as_str().unwrap().to_string(),
                l["region"]["startLine"].as_i64().unwrap(),
                l["region"]["startColumn"].as_i64().unwrap(),
            )
        })
        .collect();
    got.sort();
    let want = [
        ("model-ref-remote-code", "configs/train.yaml", 3, 34),
        ("model-ref-unpinned", "configs/train.yaml", 3, 34),
        ("model-ref-unpinned", "pyproject.toml", 5, 14),
    ];
    let want: Vec<(String, String, i64, i64)> = want
        .iter()
        .map(|(a, b, c, d)| (a.to_string(), b.to_string(), *c, *d))
        .collect();
    assert_eq!(got, want);
}

/// A config's reference is resolved like a call's: the risky model fails the build at the
/// config line.
#[test]
fn config_reference_is_resolved() {
    let hub = lock_hub();
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "finetune.yml",
        b"base_model: acme/totally-harmless\nlr: 0.0001\n",
    );
    let (code, stdout, stderr) = run_in(
        &hub,
        dir.path(),
        &[
            "scan",
            ".",
            "--no-config",
            "--no-progress",
            "--resolve-models",
            "-f",
            "json",
        ],
    );
    assert_eq!(code, 1, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let f = findings_of(&report, "finetune.yml");
    let risky = f
        .iter()
        .find(|x| x["rule"] == "model-ref-risky")
        .unwrap_or_else(|| panic!("{f:#?}"));
    assert_eq!(risky["severity"], "critical");
    assert_eq!(risky["location"]["line"], 1);
    assert_eq!(report["models"][0]["sites"][0]["callee"], "base_model");
    assert_eq!(report["models"][0]["state"], "resolved");
}
