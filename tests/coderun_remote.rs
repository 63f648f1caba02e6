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

/// Per file (its path below the fixture root), the findings as (rule, severity, line,
/// member), from a report whose paths start with `prefix`.
fn findings_below(v: &Value, prefix: &str) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut out = std::collections::BTreeMap::new();
    for f in v["files"].as_array().unwrap() {
        let Some(rel) = f["path"].as_str().unwrap().strip_prefix(prefix) else {
            continue;
        };
        let mut got: Vec<String> = f["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                format!(
                    "{} {} line {} member {}",
                    x["rule"], x["severity"], x["location"]["line"], x["location"]["member"]
                )
            })
            .collect();
        got.sort();
        out.insert(rel.to_string(), got);
    }
    out
}

/// Every code-on-load fixture (tests/fixtures/manifest-coderun.json, benign and
/// malicious) gives the same findings, at the same lines, when its files are scanned in a
/// local folder, from a Hub repository and from the HF cache.
#[cfg(unix)]
#[test]
fn every_coderun_fixture_reports_the_same_locally_on_the_hub_and_in_the_cache() {
    use std::os::unix::fs::symlink;
    let fixtures = root().join("tests/fixtures");
    let manifest: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(fixtures.join("manifest-coderun.json")).unwrap(),
    )
    .unwrap();
    // Every file of every entry (an entry is a file or a folder), by its path below
    // tests/fixtures.
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for e in &manifest {
        let rel = e["path"].as_str().unwrap();
        let at = fixtures.join(rel);
        let mut stack = vec![at];
        while let Some(p) = stack.pop() {
            if p.is_dir() {
                stack.extend(std::fs::read_dir(&p).unwrap().map(|d| d.unwrap().path()));
            } else {
                let rel = p
                    .strip_prefix(&fixtures)
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_string();
                files.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    files.sort();
    files.dedup_by(|a, b| a.0 == b.0);
    assert!(files.len() >= 95, "{} files", files.len());

    // A local copy (only these files, so the three trees are the same).
    let tmp = tempfile::tempdir().unwrap();
    let local = tmp.path().join("local");
    for (rel, b) in &files {
        let p = local.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, b).unwrap();
    }
    // The HF cache: blobs and snapshot symlinks.
    let repo = tmp.path().join("hub/models--acme--coderun");
    std::fs::create_dir_all(repo.join("blobs")).unwrap();
    std::fs::create_dir_all(repo.join("refs")).unwrap();
    std::fs::write(repo.join("refs/main"), format!("{SHA}\n")).unwrap();
    let snap = repo.join("snapshots").join(SHA);
    for (i, (rel, b)) in files.iter().enumerate() {
        let blob = format!("c{i:039}");
        std::fs::write(repo.join("blobs").join(&blob), b).unwrap();
        let p = snap.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        let up = "../".repeat(rel.matches('/').count() + 2);
        symlink(format!("{up}blobs/{blob}"), p).unwrap();
    }
    // The Hub.
    let hub = mockhub::start(vec![MockRepo {
        id: "acme/coderun".into(),
        sha: SHA.into(),
        private: false,
        files: files
            .iter()
            .map(|(rel, b)| MockFile {
                path: rel.clone(),
                content: Content::Bytes(Arc::new(b.clone())),
                lfs: b.len() > 10_000,
                security: "safe",
            })
            .collect(),
        security: json!({"scansDone": true, "filesWithIssues": []}),
    }]);

    let scan = |target: &str, hub: Option<&str>| -> Value {
        let mut c = modelgate();
        for k in [
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
            "http_proxy",
            "https_proxy",
            "all_proxy",
        ] {
            c.env_remove(k);
        }
        c.env_remove("HF_HUB_CACHE").env_remove("HF_HOME");
        if let Some(h) = hub {
            c.env("HF_ENDPOINT", h)
                .env("MODELGATE_HTTP_BACKOFF_MS", "1");
        }
        let out = c
            .args(["scan", "--format", "json", "--no-progress", "--no-config"])
            .arg(target)
            .output()
            .expect("runs");
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{target}: not JSON ({e}): {}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
    };
    let local_s = local.to_str().unwrap().to_string();
    let here = findings_below(&scan(&local_s, None), &format!("{local_s}/"));
    let cache = findings_below(
        &scan(tmp.path().join("hub").to_str().unwrap(), None),
        &format!("models--acme--coderun/snapshots/{SHA}/"),
    );
    let remote = findings_below(
        &scan("hf://acme/coderun", Some(&hub.endpoint)),
        &format!("hf://acme/coderun@{SHA}/"),
    );
    // Every malicious entry was found locally at all (the comparison below then carries
    // it to the other two).
    for e in manifest.iter().filter(|e| e["kind"] == "malicious") {
        let rel = e["path"].as_str().unwrap();
        assert!(
            here.iter()
                .any(|(p, f)| (p == rel || p.starts_with(&format!("{rel}/"))) && !f.is_empty()),
            "{rel}: no finding locally"
        );
    }
    let mut diffs = Vec::new();
    for (what, other) in [("HF cache", &cache), ("hf://", &remote)] {
        for (path, want) in &here {
            match other.get(path) {
                Some(got) if got == want => {}
                got => diffs.push(format!("{what} {path}:\n  local {want:?}\n  there {got:?}")),
            }
        }
    }
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}
