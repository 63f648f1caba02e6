//! Remote sources end to end, against a mock Hub the tests start on 127.0.0.1
//! (tests/common/mockhub.rs): hf:// repositories, plain URLs, the local Hugging Face
//! cache, the Hub's own verdict, trusted publishers and Rego policies.

// Integration tests: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "common/mockhub.rs"]
mod mockhub;

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use common::*;
use mockhub::{Content, MockFile, MockHub, MockRepo, TOKEN};
use serde_json::{json, Value};

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";
const CLEAN_SHA: &str = "1111111111111111111111111111111111111111";
const PRIVATE_SHA: &str = "2222222222222222222222222222222222222222";
/// The synthetic checkpoint's tensor member: 300 MiB of zeros, served from a generator.
const BIG: u64 = 300 << 20;

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(root().join("tests/fixtures").join(rel)).expect("fixture")
}

fn bytes(b: Vec<u8>) -> Content {
    Content::Bytes(Arc::new(b))
}

/// A real torch.save zip (a benign fixture) re-packed with a 300 MiB tensor member.
fn big_checkpoint() -> Content {
    static BIG_ZIP: std::sync::OnceLock<Content> = std::sync::OnceLock::new();
    BIG_ZIP
        .get_or_init(|| {
            let members = mockhub::zip_members(&fixture("benign/torch_state_dict_float32.pt"));
            mockhub::sparse_zip(&members, "torch_state_dict_float32/data/99", BIG)
        })
        .clone()
}

fn repos() -> Vec<MockRepo> {
    vec![
        MockRepo {
            id: "acme/tiny-torch".into(),
            sha: SHA.into(),
            private: false,
            files: vec![
                MockFile {
                    path: "README.md".into(),
                    content: bytes(b"# tiny torch\n".to_vec()),
                    lfs: false,
                    security: "safe",
                },
                MockFile {
                    path: "config.json".into(),
                    content: bytes(br#"{"model_type": "tiny"}"#.to_vec()),
                    lfs: false,
                    security: "safe",
                },
                MockFile {
                    path: "evil/payload.pkl".into(),
                    content: bytes(fixture("malicious/builtins_eval_reduce.pkl")),
                    lfs: true,
                    security: "unsafe",
                },
                MockFile {
                    path: "pytorch_model.bin".into(),
                    content: big_checkpoint(),
                    lfs: true,
                    security: "queued",
                },
            ],
            security: json!({
                "scansDone": true,
                "filesWithIssues": [{"path": "evil/payload.pkl", "level": "danger"}],
            }),
        },
        MockRepo {
            id: "acme/clean".into(),
            sha: CLEAN_SHA.into(),
            private: false,
            files: vec![
                MockFile {
                    path: "README.md".into(),
                    content: bytes(b"# clean\n".to_vec()),
                    lfs: false,
                    security: "safe",
                },
                MockFile {
                    path: "config.json".into(),
                    content: bytes(b"{}".to_vec()),
                    lfs: false,
                    security: "safe",
                },
            ],
            security: json!({"scansDone": true, "filesWithIssues": []}),
        },
        MockRepo {
            id: "private-org/secret-model".into(),
            sha: PRIVATE_SHA.into(),
            private: true,
            files: vec![MockFile {
                path: "model.pkl".into(),
                content: bytes(fixture("malicious/builtins_eval_reduce.pkl")),
                lfs: true,
                security: "safe",
            }],
            security: json!({"scansDone": true, "filesWithIssues": []}),
        },
    ]
}

fn hub() -> MockHub {
    mockhub::start(repos())
}

/// The binary pointed at the mock Hub, with a short retry backoff and no ambient HF state.
fn cmd(hub: &MockHub) -> assert_cmd::Command {
    modelgate_against_hub(&hub.endpoint)
}

fn run_json(mut c: assert_cmd::Command, args: &[&str]) -> (i32, Value, String) {
    let out = c
        .args(["scan", "--format", "json", "--no-progress"])
        .args(args)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {stderr}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    (out.status.code().unwrap_or(-1), v, stderr)
}

fn rules_of(file: &Value) -> Vec<String> {
    file["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

fn loc(path: &str) -> String {
    format!("hf://acme/tiny-torch@{SHA}/{path}")
}

#[test]
fn hf_repo_is_scanned_with_range_reads_and_reported_at_its_commit() {
    let hub = hub();
    let sarif_dir = tempfile::tempdir().unwrap();
    let sarif = sarif_dir.path().join("out.sarif");
    let mut c = cmd(&hub);
    c.env("HF_TOKEN", TOKEN);
    let (code, v, stderr) = run_json(
        c,
        &[
            "--no-config",
            "hf://acme/tiny-torch",
            "--sarif",
            sarif.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 1, "{stderr}");

    // Every location names the resolved commit.
    let paths: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            loc("README.md"),
            loc("config.json"),
            loc("evil/payload.pkl"),
            loc("pytorch_model.bin")
        ]
    );
    let evil = file(&v, &loc("evil/payload.pkl"));
    assert!(
        rules_of(evil).contains(&"pickle-code-execution".to_string()),
        "{evil}"
    );
    assert_eq!(
        evil["findings"][0]["location"]["path"],
        loc("evil/payload.pkl")
    );
    let big = file(&v, &loc("pytorch_model.bin"));
    assert_eq!(big["size"], BIG + big_checkpoint().len() - BIG);
    assert_eq!(big["status"], "scanned");
    assert!(rank(worst(big)) <= rank("low"), "{big}");
    assert!(
        rules_of(big).contains(&"pickle-format".to_string()),
        "{big}"
    );

    // Range reads at work: the 300 MiB checkpoint cost a tiny fraction of its bytes.
    let served = hub.served("acme/tiny-torch/pytorch_model.bin");
    let size = big_checkpoint().len();
    assert!(served > 0);
    assert!(
        served * 1000 < size,
        "served {served} of {size} bytes: more than 0.1%"
    );
    eprintln!("pytorch_model.bin: {served} of {size} bytes served");
    // Redirected to the CDN, which never saw the token; one 429 was retried; the tree
    // listing was paginated.
    let requests = hub.stats.requests.lock().unwrap().clone();
    assert!(requests
        .iter()
        .any(|r| r.starts_with("cdn:/blobs/acme/tiny-torch/pytorch_model.bin")));
    assert!(!hub.stats.auth_at_cdn.load(Ordering::SeqCst));
    assert_eq!(hub.stats.rate_limited.load(Ordering::SeqCst), 1);
    assert_eq!(hub.stats.server_errors.load(Ordering::SeqCst), 1);
    assert!(requests
        .iter()
        .any(|r| r.contains("/tree/") && r.contains("cursor=2")));
    assert!(requests.iter().any(|r| r.contains("cursor=4")));

    // The token appears in no output.
    let sarif_text = std::fs::read_to_string(&sarif).unwrap();
    assert!(
        !v.to_string().contains(TOKEN) && !stderr.contains(TOKEN) && !sarif_text.contains(TOKEN)
    );
    // SARIF stays valid with absolute hf:// URIs.
    let s: Value = serde_json::from_str(&sarif_text).unwrap();
    assert_valid_sarif(&s);
    let uris: Vec<String> = s["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(uris.contains(&loc("evil/payload.pkl")), "{uris:?}");
}

#[test]
fn text_and_github_outputs_name_the_commit() {
    let hub = hub();
    let out = cmd(&hub)
        .args([
            "scan",
            "--no-config",
            "--no-progress",
            "hf://acme/tiny-torch",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("{}  (pickle, scanned)", loc("evil/payload.pkl"))),
        "{text}"
    );
    let out = cmd(&hub)
        .args([
            "scan",
            "--no-config",
            "--format",
            "github",
            "hf://acme/tiny-torch",
        ])
        .output()
        .unwrap();
    let gh = String::from_utf8_lossy(&out.stdout);
    let line = gh
        .lines()
        .find(|l| l.starts_with("::error"))
        .unwrap_or_else(|| panic!("{gh}"));
    assert!(
        line.starts_with("::error title=pickle-code-execution (critical)::")
            && line.contains(&loc("evil/payload.pkl")),
        "{line}"
    );
}

#[test]
fn huggingface_flag_and_revisions() {
    let hub = hub();
    let (code, v, stderr) = run_json(
        cmd(&hub),
        &[
            "--no-config",
            "--huggingface",
            &format!("acme/clean@{CLEAN_SHA}"),
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    file(&v, &format!("hf://acme/clean@{CLEAN_SHA}/config.json"));

    let out = cmd(&hub)
        .args(["scan", "--no-config", "hf://acme/clean@no-such-branch"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("acme/clean@no-such-branch") && err.contains("404"),
        "{err}"
    );

    let out = cmd(&hub)
        .args(["scan", "--no-config", "hf://a/b/c"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn globs_and_shards_apply_to_remote_paths() {
    let hub = hub();
    let (code, v, stderr) = run_json(
        cmd(&hub),
        &[
            "--no-config",
            "--exclude",
            "**/*.pkl",
            "--show-skipped",
            "hf://acme/tiny-torch",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let evil = file(&v, &loc("evil/payload.pkl"));
    assert_eq!(evil["status"], "skipped");
    assert!(
        evil["reason"].as_str().unwrap().contains("exclude"),
        "{evil}"
    );
    assert_eq!(hub.served("acme/tiny-torch/evil/payload.pkl"), 0);

    let mut seen = Vec::new();
    for k in 1..=2 {
        let shard = format!("{k}/2");
        let (_, v, _) = run_json(
            cmd(&hub),
            &["--no-config", "--shard", &shard, "hf://acme/tiny-torch"],
        );
        for f in v["files"].as_array().unwrap() {
            seen.push(f["path"].as_str().unwrap().to_string());
        }
    }
    seen.sort();
    assert_eq!(
        seen,
        [
            loc("README.md"),
            loc("config.json"),
            loc("evil/payload.pkl"),
            loc("pytorch_model.bin")
        ]
    );
}

#[test]
fn private_repo_needs_the_token_which_is_never_printed() {
    let hub = hub();
    let out = cmd(&hub)
        .args(["scan", "--no-config", "hf://private-org/secret-model"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("401") && err.contains("HF_TOKEN"), "{err}");

    // A wrong token: still 401, and the token is not echoed.
    let mut c = cmd(&hub);
    c.env("HF_TOKEN", "hf_wrong_token_987");
    let out = c
        .args(["scan", "--no-config", "hf://private-org/secret-model"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains("hf_wrong_token_987"), "{all}");

    let mut c = cmd(&hub);
    c.env("HF_TOKEN", TOKEN);
    let (code, v, stderr) = run_json(c, &["--no-config", "hf://private-org/secret-model"]);
    assert_eq!(code, 1, "{stderr}");
    let f = file(
        &v,
        &format!("hf://private-org/secret-model@{PRIVATE_SHA}/model.pkl"),
    );
    assert_eq!(worst(f), "critical");
    assert!(!v.to_string().contains(TOKEN) && !stderr.contains(TOKEN));
    assert!(!hub.stats.auth_at_cdn.load(Ordering::SeqCst));
}

#[test]
fn hub_verdict_and_untrusted_publisher() {
    let hub = hub();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "modelgate.yml",
        b"huggingface:\n  hub-scan: true\n  trusted-orgs: [google]\n",
    );
    let (code, v, stderr) = run_json(
        cmd(&hub),
        &["-c", cfg.to_str().unwrap(), "hf://acme/tiny-torch"],
    );
    assert_eq!(code, 1, "{stderr}");
    let evil = file(&v, &loc("evil/payload.pkl"));
    let flagged: Vec<&Value> = evil["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "hf-hub-flagged")
        .collect();
    assert_eq!(flagged.len(), 1, "{evil}");
    assert_eq!(flagged[0]["severity"], "high");
    let big = file(&v, &loc("pytorch_model.bin"));
    assert!(
        rules_of(big).contains(&"hf-hub-scan-incomplete".to_string()),
        "{big}"
    );
    let cfgj = file(&v, &loc("config.json"));
    assert!(rules_of(cfgj).is_empty(), "{cfgj}");
    let repo = file(&v, &format!("hf://acme/tiny-torch@{SHA}"));
    assert_eq!(repo["format"], "target");
    assert_eq!(repo["findings"][0]["rule"], "hf-untrusted-publisher");
    assert_eq!(repo["findings"][0]["severity"], "medium");
    assert_eq!(repo["findings"][0]["evidence"], "acme");

    // A trusted owner, and a repository without code-bearing files: no publisher finding.
    let cfg2 = write(
        dir.path(),
        "trusted.yml",
        b"huggingface:\n  trusted-orgs: [ACME]\n",
    );
    let (_, v, _) = run_json(
        cmd(&hub),
        &["-c", cfg2.to_str().unwrap(), "hf://acme/tiny-torch"],
    );
    assert!(v["files"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["format"] != "target"));
    let (code, v, _) = run_json(cmd(&hub), &["-c", cfg.to_str().unwrap(), "hf://acme/clean"]);
    assert_eq!(code, 0, "{v}");
}

#[test]
fn plain_urls_are_read_with_ranges_too() {
    let hub = hub();
    let url = format!(
        "{}/blobs/acme/tiny-torch/pytorch_model.bin?X-Amz-Signature=abc",
        hub.cdn
    );
    let evil = format!("{}/blobs/acme/tiny-torch/evil/payload.pkl", hub.cdn);
    let (code, v, stderr) = run_json(cmd(&hub), &["--no-config", &url, &evil]);
    assert_eq!(code, 1, "{stderr}");
    // Shown without the query (signed URLs carry credentials there).
    let big = file(
        &v,
        &format!("{}/blobs/acme/tiny-torch/pytorch_model.bin", hub.cdn),
    );
    assert!(rank(worst(big)) <= rank("low"), "{big}");
    assert_eq!(worst(file(&v, &evil)), "critical");
    let served = hub.served("acme/tiny-torch/pytorch_model.bin");
    assert!(served * 1000 < big_checkpoint().len(), "served {served}");

    // A server that ignores Range: small files are taken whole, a large one is refused
    // from its Content-Length without downloading it.
    let before = hub.served("acme/tiny-torch/pytorch_model.bin");
    let small = format!("{}/norange/blobs/acme/tiny-torch/evil/payload.pkl", hub.cdn);
    let large = format!(
        "{}/norange/blobs/acme/tiny-torch/pytorch_model.bin",
        hub.cdn
    );
    let (code, v, stderr) = run_json(cmd(&hub), &["--no-config", &small, &large]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(worst(file(&v, &small)), "critical");
    let f = file(&v, &large);
    assert_eq!(f["status"], "error", "{f}");
    assert_eq!(f["findings"][0]["rule"], "remote-fetch-failed");
    assert!(
        f["reason"]
            .as_str()
            .unwrap()
            .contains("ignores range requests"),
        "{f}"
    );
    let after = hub.served("acme/tiny-torch/pytorch_model.bin");
    assert!(
        after - before < 64 << 20,
        "read {} bytes from a server ignoring Range",
        after - before
    );

    // A URL that does not exist is an errored file, not an aborted scan.
    let missing = format!("{}/blobs/acme/tiny-torch/nope.bin", hub.cdn);
    let (code, v, _) = run_json(cmd(&hub), &["--no-config", &missing]);
    assert_eq!(code, 1);
    let f = file(&v, &missing);
    assert_eq!(f["status"], "error");
    assert_eq!(f["findings"][0]["rule"], "remote-fetch-failed");
}

/// `models--acme--cached/{blobs,refs,snapshots}` with two snapshots sharing one blob.
#[cfg(unix)]
fn cache_tree(root: &Path) {
    use std::os::unix::fs::symlink;
    let repo = root.join("models--acme--cached");
    std::fs::create_dir_all(repo.join("blobs")).unwrap();
    std::fs::create_dir_all(repo.join("refs")).unwrap();
    std::fs::write(
        repo.join("blobs/e3b0evil"),
        fixture("malicious/builtins_eval_reduce.pkl"),
    )
    .unwrap();
    std::fs::write(repo.join("blobs/c0ffeecfg"), b"{}").unwrap();
    std::fs::write(repo.join("refs/main"), format!("{SHA}\n")).unwrap();
    for snap in [CLEAN_SHA, SHA] {
        let d = repo.join("snapshots").join(snap);
        std::fs::create_dir_all(d.join("sub")).unwrap();
        symlink("../../../blobs/e3b0evil", d.join("sub/model.pkl")).unwrap();
        symlink("../../blobs/c0ffeecfg", d.join("config.json")).unwrap();
    }
}

#[cfg(unix)]
#[test]
fn hf_cache_is_recognised_and_each_blob_reported_per_snapshot() {
    let hub = hub();
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("hub");
    cache_tree(&cache);
    let snap = |rev: &str, p: &str| format!("models--acme--cached/snapshots/{rev}/{p}");

    // The cache folder as a target.
    let (code, v, stderr) = run_json(cmd(&hub), &["--no-config", cache.to_str().unwrap()]);
    assert_eq!(code, 1, "{stderr}");
    let paths: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            snap(SHA, "config.json"),
            snap(SHA, "sub/model.pkl"),
            snap(CLEAN_SHA, "config.json"),
            snap(CLEAN_SHA, "sub/model.pkl"),
        ]
    );
    for rev in [CLEAN_SHA, SHA] {
        let f = file(&v, &snap(rev, "sub/model.pkl"));
        assert_eq!(worst(f), "critical");
        assert_eq!(
            f["findings"][0]["location"]["path"],
            snap(rev, "sub/model.pkl")
        );
    }

    // HF_HOME itself is recognised too (its cache is hub/).
    let (_, v2, _) = run_json(cmd(&hub), &["--no-config", tmp.path().to_str().unwrap()]);
    assert_eq!(v2["files"], v["files"]);

    // hf-cache://owner/name@ref through HF_HUB_CACHE.
    let mut c = cmd(&hub);
    c.env("HF_HUB_CACHE", &cache);
    let (_, v, stderr) = run_json(c, &["--no-config", "hf-cache://acme/cached@main"]);
    let paths: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [snap(SHA, "config.json"), snap(SHA, "sub/model.pkl")],
        "{stderr}"
    );

    // HF_HUB_OFFLINE: hf:// is served from the cache (HF_HOME/hub), or fails with exit 2.
    let mut c = cmd(&hub);
    c.env("HF_HOME", tmp.path()).env("HF_HUB_OFFLINE", "1");
    let (code, v, stderr) = run_json(c, &["--no-config", "hf://acme/cached"]);
    assert_eq!(code, 1, "{stderr}");
    file(&v, &snap(SHA, "sub/model.pkl"));
    let mut c = cmd(&hub);
    c.env("HF_HOME", tmp.path()).env("HF_HUB_OFFLINE", "1");
    let out = c
        .args(["scan", "--no-config", "hf://acme/tiny-torch"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("HF_HUB_OFFLINE"));
    assert!(
        hub.stats.requests.lock().unwrap().is_empty(),
        "offline mode made requests"
    );
}

fn copy_example_policies(dir: &Path) {
    std::fs::create_dir_all(dir.join("policies")).unwrap();
    for name in ["model-scan-not-safe.rego", "risky-extensions.rego"] {
        std::fs::copy(
            root().join("examples/policies").join(name),
            dir.join("policies").join(name),
        )
        .unwrap();
    }
}

fn policy_findings(v: &Value, target: &str) -> Vec<(String, String, String)> {
    v["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"] == target)
        .flat_map(|f| f["findings"].as_array().unwrap().iter())
        .filter(|f| f["rule"] == "policy-violation")
        .map(|f| {
            (
                f["severity"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
                f["evidence"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn example_epm_policies_evaluate_unchanged() {
    let hub = hub();
    let dir = tempfile::tempdir().unwrap();
    copy_example_policies(dir.path());
    let cfg = write(
        dir.path(),
        ".modelgate.yml",
        b"policy:\n  rego:\n    - policies/model-scan-not-safe.rego\n    - file: policies/risky-extensions.rego\n      severity: medium\n",
    );
    let (code, v, stderr) = run_json(
        cmd(&hub),
        &["-c", cfg.to_str().unwrap(), "hf://acme/tiny-torch"],
    );
    assert_eq!(code, 1, "{stderr}");
    let found = policy_findings(&v, &format!("hf://acme/tiny-torch@{SHA}"));
    assert!(
        found.contains(&(
            "high".into(),
            "model security scan is UNSAFE, not SAFE".into(),
            "policies/model-scan-not-safe.rego: data.cloudsmith.match".into()
        )),
        "{found:?}"
    );
    for f in [
        "evil/payload.pkl has a risky extension (.pkl)",
        "pytorch_model.bin has a risky extension (.bin)",
    ] {
        assert!(
            found.contains(&(
                "medium".into(),
                f.into(),
                "policies/risky-extensions.rego: data.cloudsmith.match".into()
            )),
            "{found:?}"
        );
    }
    assert_eq!(found.len(), 3, "{found:?}");

    // A clean repository: SAFE, COMPLETE, no risky extension — the policies stay quiet.
    let (code, v, stderr) = run_json(cmd(&hub), &["-c", cfg.to_str().unwrap(), "hf://acme/clean"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(policy_findings(&v, &format!("hf://acme/clean@{CLEAN_SHA}")).is_empty());

    // An unreadable file makes the scan INCOMPLETE.
    let missing = format!("{}/blobs/acme/clean/gone.json", hub.cdn);
    let (_, v, _) = run_json(cmd(&hub), &["-c", cfg.to_str().unwrap(), &missing]);
    let found = policy_findings(&v, &missing);
    assert!(
        found.iter().any(|f| f.1.contains("INCOMPLETE")),
        "{found:?}"
    );
}

#[test]
fn user_policies_deny_v0_syntax_suppression_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let models = dir.path().join("models");
    std::fs::create_dir_all(&models).unwrap();
    std::fs::write(
        models.join("weights.pkl"),
        b"\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01.",
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("policies")).unwrap();
    write(
        dir.path(),
        "policies/no-pickles.rego",
        b"package modelgate.pickles\n\nimport rego.v1\n\ndeny contains msg if {\n\tsome f in input.files\n\tf.format == \"pickle\"\n\tmsg := sprintf(\"pickle not allowed: %s\", [f.path])\n}\n",
    );
    // Rego v0 syntax (no `if` / `contains`) is accepted too.
    write(
        dir.path(),
        "policies/legacy.rego",
        b"package legacy\n\ndeny[msg] {\n\tinput.v0[\"package\"].format == \"local\"\n\tcount(input.v0[\"package\"].files) > 0\n\tmsg := \"local files scanned\"\n}\n",
    );
    let cfg = write(
        dir.path(),
        ".modelgate.yml",
        b"policy:\n  rego:\n    - file: \"policies/*.rego\"\n      severity: low\n",
    );
    let (code, v, stderr) = run_json(
        modelgate(),
        &["-c", cfg.to_str().unwrap(), models.to_str().unwrap()],
    );
    assert_eq!(code, 0, "low findings do not fail by default: {stderr}");
    let target = discover_display(&models);
    let found = policy_findings(&v, &target);
    let weights = format!("{target}/weights.pkl");
    assert!(
        found.contains(&(
            "low".into(),
            format!("pickle not allowed: {weights}"),
            "policies/no-pickles.rego: data.modelgate.pickles.deny".into()
        )),
        "{found:?}"
    );
    assert!(
        found.iter().any(|f| f.1 == "local files scanned"),
        "{found:?}"
    );

    // Policy findings obey `ignore:` like any other.
    let cfg2 = write(
        dir.path(),
        "ignore.yml",
        b"policy:\n  rego: [\"policies/no-pickles.rego\"]\nignore:\n  - rule: policy-violation\n    paths: [\"**\"]\n    reason: reviewed\n",
    );
    let (code, v, _) = run_json(
        modelgate(),
        &["-c", cfg2.to_str().unwrap(), models.to_str().unwrap()],
    );
    assert_eq!(code, 0);
    assert_eq!(v["summary"]["suppressed"], 1, "{v}");

    // A policy that does not compile: exit 2 naming file and line.
    write(
        dir.path(),
        "bad/broken.rego",
        b"package broken\nimport rego.v1\ndeny contains msg if {\n  msg := \n}\n",
    );
    let cfg3 = write(
        dir.path(),
        "bad.yml",
        b"policy:\n  rego: [bad/broken.rego]\n",
    );
    let out = modelgate()
        .args([
            "scan",
            "-c",
            cfg3.to_str().unwrap(),
            models.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken.rego:4:"), "{err}");
    // A glob that matches nothing is an error too.
    let cfg4 = write(
        dir.path(),
        "none.yml",
        b"policy:\n  rego: [\"nothing/*.rego\"]\n",
    );
    let out = modelgate()
        .args([
            "scan",
            "-c",
            cfg4.to_str().unwrap(),
            models.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("matches no file"));
}

/// The display path of a local target, as discover.rs writes it.
fn discover_display(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

/// A safetensors file of 100 MB of zeros whose header length's first byte is `P` (the
/// pickle PERSID opcode, which reads up to a newline): the pickle probe read it to its
/// end looking for one, which over `hf://` fetched the whole file. The header was written
/// by safetensors itself (tests/fixtures/generate_routing.py).
#[test]
fn safetensors_starting_with_a_pickle_opcode_is_not_read_to_its_end() {
    let head = fixture("benign/routing/safetensors_zeros_p.head");
    assert_eq!(head.first(), Some(&b'P'));
    let zeros = 100_000_088 - head.len() as u64;
    let hub = mockhub::start(vec![MockRepo {
        id: "acme/zeros".into(),
        sha: "0123456789abcdef0123456789abcdef01234567".into(),
        private: false,
        files: vec![MockFile {
            path: "model.safetensors".into(),
            content: mockhub::Content::Sparse {
                head: Arc::new(head),
                zeros,
                tail: Arc::new(Vec::new()),
            },
            lfs: true,
            security: "safe",
        }],
        security: json!({"scansDone": true, "filesWithIssues": []}),
    }]);
    let (code, v, stderr) = run_json(cmd(&hub), &["--no-config", "hf://acme/zeros"]);
    assert_eq!(code, 0, "{v} {stderr}");
    let f = &v["files"][0];
    assert_eq!(f["format"], "safetensors", "{f}");
    assert!(rank(worst(f)) <= rank("info"), "{f}");
    let served = hub.served("acme/zeros/model.safetensors");
    assert!(
        served * 1000 < 100_000_088 * 5,
        "served {served} bytes of 100 MB: more than 0.5%"
    );
}
