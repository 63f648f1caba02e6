//! `modelgate convert` against the ground truth in tests/fixtures/convert/expected.json,
//! written by tests/fixtures/generate_convert.py with the real libraries (torch.load with
//! weights_only=True, numpy.load): every convertible fixture converts to a safetensors
//! file whose tensors have the recorded names, dtypes, shapes and sha256, bit for bit; every
//! file that must be refused exits 1 (usage errors 2) and leaves no output.

// Integration tests: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
// Only part of the mock Hub is used here.
#[allow(dead_code)]
#[path = "common/mockhub.rs"]
mod mockhub;

use std::sync::Arc;

use common::*;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// (header without `__metadata__`, metadata, data section) of a safetensors file.
fn read_safetensors(path: &std::path::Path) -> (serde_json::Map<String, Value>, Value, Vec<u8>) {
    let b = std::fs::read(path).unwrap();
    let n = u64::from_le_bytes(b[..8].try_into().unwrap()) as usize;
    assert_eq!(n % 8, 0, "header length is padded to 8");
    let Value::Object(mut h) = serde_json::from_slice(&b[8..8 + n]).unwrap() else {
        panic!("header is not an object")
    };
    let meta = h.remove("__metadata__").unwrap_or(Value::Null);
    (h, meta, b[8 + n..].to_vec())
}

fn check_output(
    label: &str,
    out: &std::path::Path,
    want: &Value,
    single: bool,
    problems: &mut Vec<String>,
) {
    let (mut header, _, data) = read_safetensors(out);
    let want = want.as_object().unwrap();
    if single && header.len() == 1 && want.len() == 1 {
        let v = header.values().next().unwrap().clone();
        header = serde_json::Map::from_iter([(want.keys().next().unwrap().clone(), v)]);
    }
    let mut got_names: Vec<&String> = header.keys().collect();
    let mut want_names: Vec<&String> = want.keys().collect();
    got_names.sort();
    want_names.sort();
    if got_names != want_names {
        problems.push(format!("{label}: names {got_names:?}, want {want_names:?}"));
        return;
    }
    // Offsets tile the data section exactly, as the safetensors library requires.
    let mut spans: Vec<(u64, u64)> = header
        .values()
        .map(|e| {
            (
                e["data_offsets"][0].as_u64().unwrap(),
                e["data_offsets"][1].as_u64().unwrap(),
            )
        })
        .collect();
    spans.sort();
    let mut at = 0;
    for (s, e) in &spans {
        if *s != at {
            problems.push(format!(
                "{label}: data offsets leave a gap or overlap at {at}"
            ));
        }
        at = *e;
    }
    if at != data.len() as u64 {
        problems.push(format!(
            "{label}: data section is {} bytes, offsets cover {at}",
            data.len()
        ));
    }
    for (name, w) in want {
        let e = &header[name];
        let (s, t) = (
            e["data_offsets"][0].as_u64().unwrap() as usize,
            e["data_offsets"][1].as_u64().unwrap() as usize,
        );
        if e["dtype"] != w["dtype"] || e["shape"] != w["shape"] {
            problems.push(format!(
                "{label}: {name}: {} {} (want {} {})",
                e["dtype"], e["shape"], w["dtype"], w["shape"]
            ));
        }
        let hash = format!(
            "{:x}",
            Sha256::digest(&data[s.min(data.len())..t.min(data.len())])
        );
        if hash != w["sha256"] {
            problems.push(format!(
                "{label}: {name}: bytes differ from the real loader's"
            ));
        }
    }
}

#[test]
fn every_convert_fixture_matches_the_real_loader() {
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/convert/expected.json")).unwrap(),
    )
    .unwrap();
    let files = expected["files"].as_object().unwrap();
    assert!(files.len() >= 80, "expected.json unexpectedly small");
    let dir = tempfile::tempdir().unwrap();
    let mut problems = Vec::new();
    let (mut converted, mut refused) = (0, 0);
    for (path, rec) in files {
        let input = root().join("tests/fixtures").join(path);
        let mut cases = vec![(None, rec.clone())];
        for k in rec["keys"].as_array().into_iter().flatten() {
            cases.push((Some(k["key"].as_str().unwrap().to_string()), k.clone()));
        }
        for (key, case) in cases {
            let label = format!(
                "{path}{}",
                key.as_ref()
                    .map(|k| format!(" --key {k}"))
                    .unwrap_or_default()
            );
            let out = dir
                .path()
                .join(format!("{}.safetensors", converted + refused));
            let mut cmd = modelgate();
            cmd.arg("convert")
                .arg(&input)
                .arg(&out)
                .arg("--verify")
                .arg("--metadata");
            if let Some(k) = &key {
                cmd.args(["--key", k]);
            }
            let run = cmd.output().unwrap();
            let stderr = String::from_utf8_lossy(&run.stderr);
            match case["outcome"].as_str().unwrap() {
                "convert" => {
                    converted += 1;
                    if run.status.code() != Some(0) || !out.exists() {
                        problems.push(format!(
                            "{label}: not converted ({:?}): {stderr}",
                            run.status.code()
                        ));
                        continue;
                    }
                    let single = rec["single_array"].as_bool().unwrap_or(false);
                    check_output(&label, &out, &case["tensors"], single, &mut problems);
                    // Non-tensor leaves are in __metadata__ as JSON of their values.
                    let (_, meta, _) = read_safetensors(&out);
                    for (k, v) in case["metadata"].as_object().into_iter().flatten() {
                        let got = meta
                            .get(k)
                            .and_then(Value::as_str)
                            .map(|s| serde_json::from_str::<Value>(s).unwrap());
                        if got.as_ref() != Some(v) {
                            problems.push(format!("{label}: metadata {k} = {got:?}, want {v}"));
                        }
                    }
                }
                outcome => {
                    refused += 1;
                    let code = if outcome == "error" { 2 } else { 1 };
                    if run.status.code() != Some(code) {
                        problems.push(format!(
                            "{label}: {outcome} expected (exit {code}), got {:?}: {stderr}",
                            run.status.code()
                        ));
                    }
                    if out.exists() {
                        problems.push(format!("{label}: an output file was left behind"));
                    }
                }
            }
        }
    }
    assert!(
        converted >= 70 && refused >= 12,
        "{converted} converted, {refused} refused"
    );
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
    // No temporary file remains either.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
}

#[test]
fn refusal_names_the_payload_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.safetensors");
    let run = modelgate()
        .arg("convert")
        .arg(root().join("tests/fixtures/convert/malicious/state_dict_posix_system.pt"))
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("system"), "{stderr}");
    assert!(!out.exists());
}

/// `hf://OWNER/NAME@REV/FILE` is converted through range reads, like a local file.
#[test]
fn a_hub_checkpoint_converts_over_http() {
    let sha = "5555555555555555555555555555555555555555";
    let ckpt = std::fs::read(root().join("tests/fixtures/convert/torch/nested.pt")).unwrap();
    let hub = mockhub::start(vec![mockhub::MockRepo {
        id: "acme/ckpt".into(),
        sha: sha.into(),
        private: false,
        files: vec![mockhub::MockFile {
            path: "weights/nested.pt".into(),
            content: mockhub::Content::Bytes(Arc::new(ckpt)),
            lfs: true,
            security: "safe",
        }],
        security: serde_json::json!({"scansDone": true, "filesWithIssues": []}),
    }]);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("nested.safetensors");
    let run = modelgate_against_hub(&hub.endpoint)
        .arg("convert")
        .arg(format!("hf://acme/ckpt@{sha}/weights/nested.pt"))
        .arg(&out)
        .arg("--verify")
        .output()
        .unwrap();
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/convert/expected.json")).unwrap(),
    )
    .unwrap();
    let mut problems = Vec::new();
    check_output(
        "hf nested.pt",
        &out,
        &expected["files"]["convert/torch/nested.pt"]["tensors"],
        false,
        &mut problems,
    );
    assert!(problems.is_empty(), "{problems:#?}");
    // A file the repository does not have is a usage error, and nothing is written.
    let missing = dir.path().join("missing.safetensors");
    let run = modelgate_against_hub(&hub.endpoint)
        .arg("convert")
        .arg(format!("hf://acme/ckpt@{sha}/nope.pt"))
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(!missing.exists());
}
