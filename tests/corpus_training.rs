//! A tree of ordinary training outputs (tests/corpus/training, written by real libraries by
//! tests/fixtures/generate_training_tree.py: an HF cache with safetensors shards, torch
//! training-script checkpoints and TrainingArguments, a transformers Trainer checkpoint,
//! Lightning checkpoints, an MLflow `mlruns/` of scikit-learn models, ultralytics weights)
//! passes the default config: every model file is scanned and nothing is at medium or above.
//!
//! The ones that are still false alarms today are listed in `KNOWN_FALSE_ALARMS`; the test
//! checks that they are the only offenders, so fixing one makes it fail until the entry
//! is removed.

// Integration tests: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::*;

const TREE: &str = "tests/corpus/training";

/// (path under tests/corpus/training, rule id) of every medium-or-above finding today.
const KNOWN_FALSE_ALARMS: &[(&str, &str)] = &[];

/// Model files at stable paths (under tests/corpus/training) that must be scanned.
const MODEL_FILES: &[&str] = &[
    "runs/train/checkpoint_epoch_1.pt",
    "runs/train/best.pt",
    "runs/train/training_args.bin",
    "runs/train/seq2seq_training_args.bin",
    "runs/hf-trainer/checkpoint-2/model.safetensors",
    "runs/hf-trainer/checkpoint-2/optimizer.pt",
    "runs/hf-trainer/checkpoint-2/scheduler.pt",
    "runs/hf-trainer/checkpoint-2/rng_state.pth",
    "runs/hf-trainer/checkpoint-2/training_args.bin",
    "lightning_logs/version_0/checkpoints/epoch=0-step=4.ckpt",
    "lightning_logs/version_0/checkpoints/last.ckpt",
    "yolo/runs/detect/train/weights/best.pt",
    "yolo/runs/detect/train/weights/last.pt",
];

/// Other files the writers put beside the models (not model files; must exist).
const SIDE_FILES: &[&str] = &[
    "README.md",
    "hf-cache/hub/models--acme--tiny-bert/refs/main",
    "runs/hf-trainer/checkpoint-2/config.json",
    "runs/hf-trainer/checkpoint-2/trainer_state.json",
    "lightning_logs/version_0/hparams.yaml",
    "lightning_logs/version_0/metrics.csv",
    "mlruns/0/meta.yaml",
    "yolo/runs/detect/train/args.yaml",
];

const HF_REPO: &str = "hf-cache/hub/models--acme--tiny-bert";
const HF_SHARDS: &[&str] = &[
    "model-00001-of-00003.safetensors",
    "model-00002-of-00003.safetensors",
    "model-00003-of-00003.safetensors",
];

/// Every regular file under `dir` (symlinks not followed), as paths relative to `base`.
fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let meta = std::fs::symlink_metadata(&p).unwrap();
        if meta.is_dir() {
            walk(base, &p, out);
        } else if meta.is_file() {
            out.push(
                p.strip_prefix(base)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/"),
            );
        }
    }
}

#[test]
fn training_outputs_pass_the_defaults() {
    let dir = root().join(TREE);
    let mut all = Vec::new();
    walk(&dir, &dir, &mut all);
    all.sort();

    for rel in MODEL_FILES.iter().chain(SIDE_FILES) {
        assert!(dir.join(rel).is_file(), "{TREE}/{rel} missing");
    }

    // The HF cache: snapshot entries are relative symlinks to blobs; the shards' blobs
    // (named by their sha256, as LFS files are) are what must be scanned.
    let commit = std::fs::read_to_string(dir.join(HF_REPO).join("refs/main")).unwrap();
    assert_eq!(commit.len(), 40, "refs/main: {commit:?}");
    let snap = dir.join(HF_REPO).join("snapshots").join(&commit);
    assert!(snap.join("model.safetensors.index.json").exists());
    assert!(snap.join("config.json").exists());
    let mut models: Vec<String> = MODEL_FILES.iter().map(|s| s.to_string()).collect();
    for shard in HF_SHARDS {
        let link = std::fs::read_link(snap.join(shard)).unwrap();
        assert!(link.is_relative(), "{shard} -> {link:?}");
        let blob = link.file_name().unwrap().to_string_lossy().to_string();
        assert_eq!(
            blob.len(),
            64,
            "{shard}: LFS blobs are named by their sha256"
        );
        models.push(format!("{HF_REPO}/blobs/{blob}"));
    }

    // MLflow: ids are random, so find the logged models by name.
    let named = |name: &str| -> Vec<String> {
        all.iter()
            .filter(|p| p.starts_with("mlruns/") && p.ends_with(&format!("/artifacts/{name}")))
            .cloned()
            .collect()
    };
    assert_eq!(named("model.skops").len(), 1, "{all:#?}");
    assert_eq!(named("model.pkl").len(), 1, "{all:#?}");
    assert_eq!(named("MLmodel").len(), 2, "{all:#?}");
    for side in ["conda.yaml", "python_env.yaml", "requirements.txt"] {
        assert_eq!(named(side).len(), 2, "{side}: {all:#?}");
    }
    models.extend(named("model.skops"));
    models.extend(named("model.pkl"));
    models.extend(named("MLmodel"));

    // Any file with a model extension counts as a model file too.
    let exts = [
        ".pt",
        ".pth",
        ".bin",
        ".ckpt",
        ".safetensors",
        ".pkl",
        ".skops",
    ];
    for p in &all {
        if exts.iter().any(|e| p.ends_with(e)) && !models.contains(p) {
            models.push(p.clone());
        }
    }

    // Nothing machine-specific may be left in the fixtures.
    for p in &all {
        let bytes = std::fs::read(dir.join(p)).unwrap();
        for needle in ["/tmp/", "/work/", "/root/", "/home/"] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{TREE}/{p} holds the machine path {needle}"
            );
        }
    }

    let (code, report) = scan_json(&[TREE]);
    assert_eq!(
        report["summary"]["files_errored"], 0,
        "{:#}",
        report["summary"]
    );
    for rel in &models {
        let f = file(&report, &format!("{TREE}/{rel}"));
        assert_eq!(f["status"], "scanned", "{rel}: {f:#}");
    }
    for f in report["files"].as_array().unwrap() {
        assert_ne!(f["status"], "errored", "{f:#}");
    }

    let mut offenders = BTreeSet::new();
    let mut detail = Vec::new();
    for f in report["files"].as_array().unwrap() {
        let path = f["path"].as_str().unwrap();
        let short = path.strip_prefix(&format!("{TREE}/")).unwrap();
        for x in f["findings"].as_array().unwrap() {
            let sev = x["severity"].as_str().unwrap();
            if x.get("suppressed").is_none() && rank(sev) >= rank("medium") {
                let rule = x["rule"].as_str().unwrap();
                if offenders.insert((short.to_string(), rule.to_string()))
                    && !KNOWN_FALSE_ALARMS.contains(&(short, rule))
                {
                    detail.push(format!("{path}: {sev} {rule}: {:#}", f["findings"]));
                }
            }
        }
        // Nothing here is expected above `low` (the pickle-format note on every pickle).
        assert!(
            rank(worst(f)) <= rank("low") || offenders.iter().any(|(p, _)| p == short),
            "{path}: {f:#}"
        );
    }
    let known: BTreeSet<(String, String)> = KNOWN_FALSE_ALARMS
        .iter()
        .map(|(p, r)| (p.to_string(), r.to_string()))
        .collect();
    let fixed: Vec<_> = known.difference(&offenders).collect();
    assert!(
        detail.is_empty(),
        "{} new medium-or-above finding(s) on ordinary training outputs:\n{}",
        detail.len(),
        detail.join("\n")
    );
    assert!(
        fixed.is_empty(),
        "no longer false alarms, remove them from KNOWN_FALSE_ALARMS: {fixed:?}"
    );
    let expected = if KNOWN_FALSE_ALARMS.is_empty() { 0 } else { 1 };
    assert_eq!(
        code, expected,
        "exit code under the default thresholds: {:#}",
        report["summary"]
    );
}
