//! Keras and TensorFlow routing through the real binary: names that route protobufs,
//! archives recognised as Keras by content, SavedModel directories file by file.

// Integration tests: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::Value;

fn by_suffix<'a>(report: &'a Value, suffix: &str) -> &'a Value {
    report["files"]
        .as_array()
        .expect("files")
        .iter()
        .find(|f| f["path"].as_str().is_some_and(|p| p.ends_with(suffix)))
        .unwrap_or_else(|| panic!("{suffix} not in report: {report:#}"))
}

fn rules_of(f: &Value) -> Vec<&str> {
    f["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|x| x["rule"].as_str().expect("rule"))
        .collect()
}

#[test]
fn protobufs_are_read_only_under_their_savedmodel_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    let junk = b"\x08\x96\x01\x12\x07garbage\xff\xff\xff\xff".to_vec();
    std::fs::write(dir.path().join("graph.pb"), &junk).expect("write");
    std::fs::create_dir(dir.path().join("m")).expect("mkdir");
    std::fs::write(dir.path().join("m/saved_model.pb"), &junk).expect("write");
    let (_, r) = scan_json(&[dir.path().to_str().expect("utf-8")]);
    let random = by_suffix(&r, "/graph.pb");
    assert_eq!(random["status"], "skipped", "{random:#}");
    assert!(rules_of(random).is_empty());
    let named = by_suffix(&r, "m/saved_model.pb");
    assert_eq!(named["format"], "tensorflow-savedmodel");
    assert_eq!(rules_of(named), ["tf-malformed"]);
}

#[test]
fn a_savedmodel_directory_reports_each_file() {
    let (_, r) = scan_json(&["tests/fixtures/malicious/keras/tf_keras_lambda_savedmodel"]);
    let sm = by_suffix(&r, "tf_keras_lambda_savedmodel/saved_model.pb");
    assert_eq!(sm["format"], "tensorflow-savedmodel");
    let md = by_suffix(&r, "tf_keras_lambda_savedmodel/keras_metadata.pb");
    assert_eq!(md["format"], "keras-metadata");
    assert!(rules_of(md).contains(&"keras-lambda"));
    // Variables are data: skipped, not errors.
    let var = by_suffix(&r, "variables/variables.index");
    assert_eq!(var["status"], "skipped");
}

#[test]
fn keras_archives_are_recognised_by_content_whatever_their_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        root().join("tests/fixtures/malicious/keras/lambda_os_system.keras"),
        dir.path().join("innocent.zip"),
    )
    .expect("copy");
    std::fs::copy(
        root().join("tests/fixtures/benign/keras/sequential_dense.keras"),
        dir.path().join("plain.keras"),
    )
    .expect("copy");
    let (code, r) = scan_json(&[dir.path().to_str().expect("utf-8")]);
    assert_eq!(code, 1);
    let evil = by_suffix(&r, "innocent.zip");
    assert_eq!(evil["format"], "keras");
    assert_eq!(rules_of(evil), ["keras-lambda"], "{evil:#}");
    let f = &evil["findings"][0];
    assert_eq!(f["location"]["member"], "config.json");
    let plain = by_suffix(&r, "plain.keras");
    assert_eq!(plain["format"], "keras");
    assert!(rules_of(plain).is_empty(), "{plain:#}");
}

#[test]
fn weights_only_and_plain_hdf5_are_not_alarms() {
    let (code, r) = scan_json(&[
        "tests/fixtures/benign/keras/sequential_dense.weights.h5",
        "tests/fixtures/benign/keras/plain_dataset.h5",
    ]);
    assert_eq!(code, 0, "{r:#}");
    for p in ["sequential_dense.weights.h5", "plain_dataset.h5"] {
        let f = by_suffix(&r, p);
        assert_eq!(f["format"], "hdf5");
        assert!(rules_of(f).is_empty());
    }
}

#[test]
fn json_files_are_keras_configs_only_when_they_serialise_a_keras_model() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A Hugging Face config.json: not Keras, skipped.
    std::fs::write(
        dir.path().join("config.json"),
        br#"{"architectures": ["BertModel"], "model_type": "bert", "hidden_size": 768}"#,
    )
    .expect("write");
    // A keras_hub preset config.json with a module outside Keras.
    std::fs::create_dir(dir.path().join("preset")).expect("mkdir");
    std::fs::write(
        dir.path().join("preset/config.json"),
        br#"{"module": "keras_hub.src.models.bert.bert_backbone", "class_name": "BertBackbone",
             "config": {"name": "b", "activation": {"module": "subprocess", "class_name": "function", "config": "getoutput"}},
             "registered_name": "keras_hub>BertBackbone"}"#,
    )
    .expect("write");
    let (_, r) = scan_json(&[dir.path().to_str().expect("utf-8")]);
    let hf = by_suffix(&r, "/config.json");
    let preset = by_suffix(&r, "preset/config.json");
    assert_eq!(hf["status"], "skipped", "{hf:#}");
    assert_eq!(preset["format"], "keras-config");
    assert_eq!(rules_of(preset), ["keras-code-execution"], "{preset:#}");
}

#[test]
fn a_keras_archive_without_metadata_is_still_read() {
    // Keras loads a .keras zip with no metadata.json; its config.json is deflated here so
    // that only the archive-level check can reach it.
    let src = std::fs::read(root().join("tests/fixtures/malicious/keras/lambda_os_system.keras"))
        .expect("read");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("nometa.keras");
    let config = extract_stored(&src, "config.json");
    std::fs::write(&path, deflated_zip(&[("config.json", &config)])).expect("write");
    let (_, r) = scan_json(&[path.to_str().expect("utf-8")]);
    let f = by_suffix(&r, "nometa.keras");
    assert_eq!(f["format"], "keras");
    assert_eq!(rules_of(f), ["keras-lambda"], "{f:#}");
}

/// The data of a stored member of a small zip (local headers walked from the start).
fn extract_stored(zip: &[u8], name: &str) -> Vec<u8> {
    let mut i = 0;
    while zip[i..].starts_with(b"PK\x03\x04") {
        let u16le = |o: usize| u16::from_le_bytes([zip[i + o], zip[i + o + 1]]) as usize;
        let size = u32::from_le_bytes(zip[i + 18..i + 22].try_into().expect("4")) as usize;
        let (nlen, elen) = (u16le(26), u16le(28));
        let n = &zip[i + 30..i + 30 + nlen];
        let data = i + 30 + nlen + elen;
        if n == name.as_bytes() {
            assert_eq!(u16le(8), 0, "stored");
            return zip[data..data + size].to_vec();
        }
        i = data + size;
    }
    panic!("{name} not found");
}

#[test]
fn deny_formats_keras_and_tensorflow_cover_their_variants() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("modelgate.yml");
    std::fs::write(&cfg, "deny:\n  formats: [keras, tensorflow]\n").expect("write");
    let out = modelgate()
        .args([
            "scan",
            "--format",
            "json",
            "-c",
            cfg.to_str().expect("utf-8"),
        ])
        .args([
            "tests/fixtures/benign/keras/sequential_dense_legacy.h5",
            "tests/fixtures/benign/keras/sequential_dense.keras",
            "tests/fixtures/benign/keras/savedmodel_tf_module/saved_model.pb",
            "tests/fixtures/benign/keras/plain_dataset.h5",
        ])
        .output()
        .expect("runs");
    let r: Value = serde_json::from_slice(&out.stdout).expect("json");
    for p in [
        "sequential_dense_legacy.h5",
        "sequential_dense.keras",
        "savedmodel_tf_module/saved_model.pb",
    ] {
        assert_eq!(rules_of(by_suffix(&r, p)), ["policy-denied-format"], "{p}");
    }
    assert!(rules_of(by_suffix(&r, "plain_dataset.h5")).is_empty());
}
