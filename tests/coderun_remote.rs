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
    let mut c = modelgate();
    for k in [
        "HF_TOKEN",
        "HUGGING_FACE_HUB_TOKEN",
        "HF_HUB_OFFLINE",
        "HF_HOME",
        "HF_HUB_CACHE",
        "XDG_CACHE_HOME",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        c.env_remove(k);
    }
    let out = c
        .env("HF_ENDPOINT", &hub.endpoint)
        .env("MODELGATE_HTTP_BACKOFF_MS", "1")
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
