//! Config instantiation, chat templates and skops files from an `hf://` repository (a mock
//! Hub on 127.0.0.1, tests/common/mockhub.rs): the same findings, at the same lines, as
//! for the local fixtures, with locations under the repository's commit.

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

const SHA: &str = "3333333333333333333333333333333333333333";

fn file_of(rel: &str, path: &str, lfs: bool) -> MockFile {
    MockFile {
        path: path.into(),
        content: Content::Bytes(Arc::new(
            std::fs::read(root().join("tests/fixtures").join(rel)).expect("fixture"),
        )),
        lfs,
        security: "safe",
    }
}

#[test]
fn hf_repository_configs_templates_and_skops_are_reported_at_their_lines() {
    let hub = mockhub::start(vec![MockRepo {
        id: "acme/configs".into(),
        sha: SHA.into(),
        private: false,
        files: vec![
            file_of(
                "malicious/coderun/hydra_config/merge_key.yaml",
                "conf/model.yaml",
                false,
            ),
            file_of(
                "malicious/coderun/chat_template/tokenizer_config_cycler/tokenizer_config.json",
                "tokenizer_config.json",
                false,
            ),
            file_of(
                "malicious/coderun/chat_template/jinja_file_lipsum/chat_template.jinja",
                "chat_template.jinja",
                false,
            ),
            file_of(
                "malicious/coderun/nemo/optim_exec_gz.nemo",
                "model.nemo",
                true,
            ),
            file_of(
                "malicious/coderun/skops/constructor_os_system.skops",
                "model.skops",
                true,
            ),
            file_of(
                "benign/coderun/hydra_config/no_targets.yaml",
                "conf/data.yaml",
                false,
            ),
        ],
        security: json!({"scansDone": true, "filesWithIssues": []}),
    }]);
    let out = modelgate_against_hub(&hub.endpoint)
        .args(["scan", "--format", "json", "--no-progress", "--no-config"])
        .arg("hf://acme/configs")
        .output()
        .expect("runs");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
    });
    let at = |path: &str| format!("hf://acme/configs@{SHA}/{path}");
    // (file, rule, member suffix, line)
    let want = [
        ("conf/model.yaml", "hydra-target-code-execution", None, 6),
        ("tokenizer_config.json", "chat-template-injection", None, 30),
        ("chat_template.jinja", "chat-template-injection", None, 16),
        (
            "model.nemo",
            "hydra-target-code-execution",
            Some("model_config.yaml"),
            17,
        ),
        (
            "model.skops",
            "skops-code-execution",
            Some("schema.json"),
            509,
        ),
    ];
    for (path, rule, member, line) in want {
        let f = file(&v, &at(path));
        let found = f["findings"].as_array().unwrap().iter().any(|x| {
            x["rule"] == rule
                && x["location"]["line"] == line
                && member.is_none_or(|m| {
                    x["location"]["member"]
                        .as_str()
                        .is_some_and(|s| s.ends_with(m))
                })
        });
        assert!(found, "{path}: no {rule} at line {line}: {f:#}");
    }
    let quiet = file(&v, &at("conf/data.yaml"));
    assert!(
        quiet["findings"].as_array().unwrap().is_empty(),
        "{quiet:#}"
    );
}

/// The same files in a local Hugging Face cache (`models--*/snapshots/<rev>/` symlinks
/// into `blobs/`): routed by the snapshot names, reported at the same lines.
#[cfg(unix)]
#[test]
fn hf_cache_configs_templates_and_skops_are_reported_at_their_lines() {
    use std::os::unix::fs::symlink;
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("hub/models--acme--configs");
    std::fs::create_dir_all(repo.join("blobs")).unwrap();
    std::fs::create_dir_all(repo.join("refs")).unwrap();
    std::fs::write(repo.join("refs/main"), format!("{SHA}\n")).unwrap();
    let snap = repo.join("snapshots").join(SHA);
    std::fs::create_dir_all(snap.join("conf")).unwrap();
    let files = [
        (
            "malicious/coderun/hydra_config/interpolation.yaml",
            "conf/model.yaml",
        ),
        (
            "malicious/coderun/chat_template/named_tool_use/tokenizer_config.json",
            "tokenizer_config.json",
        ),
        (
            "malicious/coderun/nemo/encoder_os_system.nemo",
            "model.nemo",
        ),
        (
            "malicious/coderun/skops/constructor_builtins_eval.skops",
            "model.skops",
        ),
    ];
    for (i, (rel, path)) in files.iter().enumerate() {
        let blob = format!("b{i:040}");
        std::fs::write(
            repo.join("blobs").join(&blob),
            std::fs::read(root().join("tests/fixtures").join(rel)).unwrap(),
        )
        .unwrap();
        let depth = path.matches('/').count() + 2;
        let up = "../".repeat(depth);
        symlink(format!("{up}blobs/{blob}"), snap.join(path)).unwrap();
    }
    let out = modelgate()
        .env_remove("HF_HUB_CACHE")
        .env_remove("HF_HOME")
        .args(["scan", "--format", "json", "--no-progress", "--no-config"])
        .arg(tmp.path().join("hub"))
        .output()
        .expect("runs");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
    });
    let at = |p: &str| format!("models--acme--configs/snapshots/{SHA}/{p}");
    let want = [
        ("conf/model.yaml", "hydra-target-code-execution", 5),
        ("tokenizer_config.json", "chat-template-injection", 37),
        ("model.nemo", "hydra-target-code-execution", 6),
        ("model.skops", "skops-code-execution", 509),
    ];
    for (path, rule, line) in want {
        let f = file(&v, &at(path));
        let found = f["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["rule"] == rule && x["location"]["line"] == line);
        assert!(found, "{path}: no {rule} at line {line}: {f:#}");
    }
}
