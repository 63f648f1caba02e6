//! Shared helpers for the integration tests: run the real binary with a clean
//! environment, parse its JSON, validate SARIF against the vendored OASIS schema.

#![allow(dead_code)]
// Test helpers: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Whether an ambient variable could change what the binary does: CI and GitHub
/// runner state, colour, Hugging Face settings and tokens, modelgate's own knobs.
pub fn scrubbed(k: &str) -> bool {
    k == "CI"
        || k == "NO_COLOR"
        || k == "HUGGING_FACE_HUB_TOKEN"
        || k == "XDG_CACHE_HOME"
        || ["GITHUB_", "RUNNER_", "HF_", "MODELGATE_"]
            .iter()
            .any(|p| k.starts_with(p))
}

/// The binary with ambient CI / GitHub / Hugging Face / modelgate variables removed, run
/// from the repository root.
pub fn modelgate() -> Command {
    let mut cmd = Command::cargo_bin("modelgate").expect("binary");
    for (k, _) in std::env::vars() {
        if scrubbed(&k) {
            cmd.env_remove(&k);
        }
    }
    cmd.current_dir(root());
    cmd
}

/// The binary pointed at a mock Hub at `endpoint` (tests/common/mockhub.rs), with a short
/// retry backoff, no ambient Hugging Face state and no proxy (the mock listens on
/// 127.0.0.1: an ambient proxy must not intercept it).
pub fn modelgate_against_hub(endpoint: &str) -> Command {
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
    c.env("HF_ENDPOINT", endpoint)
        .env("MODELGATE_HTTP_BACKOFF_MS", "1");
    c
}

/// Scans `args` with `--format json --no-config` and returns (exit code, report).
pub fn scan_json(args: &[&str]) -> (i32, Value) {
    let out = modelgate()
        .args(["scan", "--format", "json", "--no-config"])
        .args(args)
        .output()
        .expect("runs");
    let code = out.status.code().unwrap_or(-1);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (code, v)
}

pub fn file<'a>(report: &'a Value, path: &str) -> &'a Value {
    report["files"]
        .as_array()
        .expect("files")
        .iter()
        .find(|f| f["path"] == path)
        .unwrap_or_else(|| panic!("{path} not in report"))
}

pub fn rank(sev: &str) -> u8 {
    match sev {
        "info" => 0,
        "low" => 1,
        "medium" => 2,
        "high" => 3,
        "critical" => 4,
        other => panic!("unknown severity {other}"),
    }
}

/// Highest unsuppressed severity among a file's findings ("info" when none).
pub fn worst(file: &Value) -> &str {
    file["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f.get("suppressed").is_none())
        .map(|f| f["severity"].as_str().expect("severity"))
        .max_by_key(|s| rank(s))
        .unwrap_or("info")
}

pub fn schema() -> Value {
    let text =
        std::fs::read_to_string(root().join("tests/data/sarif-schema-2.1.0.json")).expect("schema");
    serde_json::from_str(&text).expect("schema JSON")
}

/// Validates under draft-04 (as the schema declares) and draft-07 (which also checks
/// `uri-reference` formats).
pub fn assert_valid_sarif(value: &Value) {
    let schema = schema();
    for draft in [jsonschema::Draft::Draft4, jsonschema::Draft::Draft7] {
        let validator = jsonschema::options()
            .with_draft(draft)
            .should_validate_formats(true)
            .build(&schema)
            .expect("schema compiles");
        let errors: Vec<String> = validator
            .iter_errors(value)
            .map(|e| format!("{} at {}", e, e.instance_path))
            .collect();
        assert!(errors.is_empty(), "{draft:?}: invalid SARIF: {errors:#?}");
    }
}

pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(&p, bytes).expect("write");
    p
}

/// A zip of deflated members, as `zipfile.ZIP_DEFLATED` writes it.
pub fn deflated_zip(members: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in members {
        let mut enc =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(data).expect("deflate");
        let comp = enc.finish().expect("deflate");
        let mut crc = flate2::Crc::new();
        crc.update(data);
        let offset = out.len() as u32;
        let header = |sig: &[u8], central: bool| {
            let mut h = sig.to_vec();
            if central {
                h.extend([20, 0]);
            }
            h.extend([20, 0, 0, 0, 8, 0, 0, 0, 0, 0]);
            h.extend(crc.sum().to_le_bytes());
            h.extend((comp.len() as u32).to_le_bytes());
            h.extend((data.len() as u32).to_le_bytes());
            h.extend((name.len() as u16).to_le_bytes());
            h.extend([0, 0]);
            if central {
                // comment length, disk, internal and external attributes
                h.extend([0u8; 10]);
                h.extend(offset.to_le_bytes());
            }
            h.extend(name.as_bytes());
            h
        };
        out.extend(header(b"PK\x03\x04", false));
        out.extend(&comp);
        central.extend(header(b"PK\x01\x02", true));
    }
    let cd_offset = out.len() as u32;
    out.extend(&central);
    out.extend(b"PK\x05\x06\x00\x00\x00\x00");
    out.extend((members.len() as u16).to_le_bytes());
    out.extend((members.len() as u16).to_le_bytes());
    out.extend((central.len() as u32).to_le_bytes());
    out.extend(cd_offset.to_le_bytes());
    out.extend([0, 0]);
    out
}
