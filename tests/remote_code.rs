//! Hugging Face remote code (`auto_map`) is found the same way in a local folder, on
//! `hf://` (the mock Hub of tests/common/mockhub.rs) and in a local Hugging Face cache:
//! the payload's file and line, `remote-code-present` at the config, and nothing for a
//! `.py` file that no config names.

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

const SHA: &str = "c0de0000c0de0000c0de0000c0de0000c0de0000";
const DIR: &str = "tests/fixtures/malicious/coderun/hf_remote_code/import_time";
/// An ordinary repository script: subprocess, but no config names it.
const SCRIPT: &[u8] = b"import subprocess\nsubprocess.run(['nvidia-smi'])\n";
const NAMES: [&str; 4] = [
    "config.json",
    "configuration_x.py",
    "modeling_x.py",
    "model.safetensors",
];

fn files() -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = NAMES
        .iter()
        .map(|n| {
            (
                n.to_string(),
                std::fs::read(root().join(DIR).join(n)).unwrap(),
            )
        })
        .collect();
    v.push(("train.py".into(), SCRIPT.to_vec()));
    v
}

fn run(args: &[&str], hub: Option<&str>) -> Value {
    let mut c = modelgate();
    c.env_remove("HTTP_PROXY")
        .env_remove("HTTPS_PROXY")
        .env_remove("ALL_PROXY");
    c.env_remove("http_proxy")
        .env_remove("https_proxy")
        .env_remove("all_proxy");
    if let Some(h) = hub {
        c.env("HF_ENDPOINT", h)
            .env("MODELGATE_HTTP_BACKOFF_MS", "1");
    }
    let out = c
        .args(["scan", "--format", "json", "--no-progress", "--no-config"])
        .args(args)
        .output()
        .expect("runs");
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)))
}

fn check(v: &Value, prefix: &str) {
    let f = |name: &str| file(v, &format!("{prefix}{name}"));
    let modeling = f("modeling_x.py");
    let hit = modeling["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["rule"] == "python-code-execution")
        .unwrap_or_else(|| panic!("{modeling:#}"));
    assert_eq!(hit["severity"], "critical");
    assert_eq!(hit["location"]["line"], 8);
    assert_eq!(hit["location"]["path"], format!("{prefix}modeling_x.py"));
    assert!(hit["evidence"].as_str().unwrap().contains("os.system"));
    let config = f("config.json");
    assert!(
        config["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["rule"] == "remote-code-present"),
        "{config:#}"
    );
    let script = f("train.py");
    assert_eq!(script["findings"], json!([]), "{script:#}");
}

#[test]
fn remote_code_in_a_local_folder() {
    let tmp = tempfile::tempdir().unwrap();
    for (n, b) in files() {
        std::fs::write(tmp.path().join(&n), b).unwrap();
    }
    let target = tmp.path().to_str().unwrap().to_string();
    let v = run(&[&target], None);
    check(&v, &format!("{target}/"));
}

#[test]
fn remote_code_on_the_hub() {
    let hub = mockhub::start(vec![MockRepo {
        id: "acme/remote-code".into(),
        sha: SHA.into(),
        private: false,
        files: files()
            .into_iter()
            .map(|(path, b)| MockFile {
                path,
                content: Content::Bytes(Arc::new(b)),
                lfs: false,
                security: "safe",
            })
            .collect(),
        security: json!({"scansDone": true, "filesWithIssues": []}),
    }]);
    let v = run(&["hf://acme/remote-code"], Some(&hub.endpoint));
    check(&v, &format!("hf://acme/remote-code@{SHA}/"));
}

#[cfg(unix)]
#[test]
fn remote_code_in_the_hf_cache() {
    use std::os::unix::fs::symlink;
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("hub");
    let repo = cache.join("models--acme--remote-code");
    std::fs::create_dir_all(repo.join("blobs")).unwrap();
    std::fs::create_dir_all(repo.join("refs")).unwrap();
    std::fs::write(repo.join("refs/main"), format!("{SHA}\n")).unwrap();
    let snap = repo.join("snapshots").join(SHA);
    std::fs::create_dir_all(&snap).unwrap();
    for (i, (n, b)) in files().into_iter().enumerate() {
        std::fs::write(repo.join(format!("blobs/b{i}")), b).unwrap();
        symlink(format!("../../blobs/b{i}"), snap.join(&n)).unwrap();
    }
    let v = run(&[cache.to_str().unwrap()], None);
    check(&v, &format!("models--acme--remote-code/snapshots/{SHA}/"));
}
