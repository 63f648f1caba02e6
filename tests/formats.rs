//! GGUF, safetensors and ONNX through the real binary: format labels, file accounting,
//! routing (content first, `.onnx` name only for unrecognised content), the file-size
//! exemption, and extension mismatches between these formats.

// Integration tests: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;

const GGUF_OK: &str = "tests/fixtures/benign/formats/gguf/llama3_v3_le.gguf";
const GGUF_CVE: &str = "tests/fixtures/malicious/formats/gguf/cve_2024_34359_subclasses.gguf";
const ST_OK: &str = "tests/fixtures/benign/formats/safetensors/numpy_save_file.safetensors";
const ONNX_OK: &str = "tests/fixtures/benign/formats/onnx/matmul_if_subgraphs.onnx";

#[test]
fn good_files_are_scanned_clean_and_pass() {
    let (code, report) = scan_json(&[GGUF_OK, ST_OK, ONNX_OK]);
    assert_eq!(code, 0, "{report:#}");
    for (path, label) in [(GGUF_OK, "gguf"), (ST_OK, "safetensors"), (ONNX_OK, "onnx")] {
        let f = file(&report, path);
        assert_eq!(f["status"], "scanned", "{f:#}");
        assert_eq!(f["format"], label, "{f:#}");
        assert_eq!(worst(f), "info", "{f:#}");
    }
}

#[test]
fn header_only_formats_are_exempt_from_max_file_size() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = write(dir.path(), "c.yml", b"limits:\n  max-file-size: 100\n");
    let out = modelgate()
        .args(["scan", "--format", "json", "-c"])
        .arg(&cfg)
        .args([GGUF_CVE, ST_OK])
        .output()
        .expect("runs");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let g = file(&report, GGUF_CVE);
    assert_eq!(worst(g), "critical", "{g:#}");
    let s = file(&report, ST_OK);
    assert_eq!(s["format"], "safetensors", "{s:#}");
    assert!(
        s["findings"].as_array().expect("findings").is_empty(),
        "{s:#}"
    );
}

#[test]
fn names_label_but_content_routes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gguf = std::fs::read(root().join(GGUF_CVE)).expect("read");
    write(dir.path(), "weights.safetensors", &gguf);
    write(dir.path(), "noise.onnx", b"this is not a protobuf at all");
    write(dir.path(), "noise.bin", b"this is not a protobuf at all");
    let d = dir.path().to_str().expect("utf-8");
    let (code, report) = scan_json(&[d]);
    assert_eq!(code, 1);
    let f = file(&report, &format!("{d}/weights.safetensors"));
    assert_eq!(f["format"], "gguf");
    let rules: Vec<&str> = f["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|x| x["rule"].as_str().expect("rule"))
        .collect();
    assert!(rules.contains(&"gguf-template-injection"), "{rules:?}");
    assert!(rules.contains(&"extension-mismatch"), "{rules:?}");
    let f = file(&report, &format!("{d}/noise.onnx"));
    assert_eq!(f["findings"][0]["rule"], "onnx-malformed", "{f:#}");
    let f = file(&report, &format!("{d}/noise.bin"));
    assert_eq!(f["status"], "skipped", "{f:#}");
}

#[test]
fn deflated_onnx_member_is_scanned() {
    let model = std::fs::read(
        root().join("tests/fixtures/malicious/formats/onnx/external_data_traversal/model.onnx"),
    )
    .expect("read");
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "bundle.zip",
        &deflated_zip(&[("model/model.onnx", &model)]),
    );
    let d = dir.path().to_str().expect("utf-8");
    let (_, report) = scan_json(&[d]);
    let f = file(&report, &format!("{d}/bundle.zip"));
    assert!(
        f["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|x| x["rule"] == "onnx-external-data"),
        "{f:#}"
    );
}

/// Routing by what each loader accepts, not by a first match (tests/fixtures/
/// generate_routing.py made both files with the real libraries).
#[test]
fn every_view_a_loader_takes_is_scanned_and_only_what_it_would_do_is_reported() {
    const ST_896: &str = "tests/fixtures/benign/routing/safetensors_header_896.safetensors";
    const TAR_PICKLE: &str = "tests/fixtures/malicious/routing/tar_member_name_is_pickle.tar";
    let (code, report) = scan_json(&[ST_896, TAR_PICKLE]);
    assert_eq!(code, 1);
    // A valid safetensors whose 8-byte header length starts 80 03 (a pickle PROTO 3
    // header): a pickle load fails on the next byte before importing anything.
    let st = file(&report, ST_896);
    assert_eq!(st["format"], "safetensors", "{st:#}");
    assert_eq!(worst(st), "info", "{st:#}");
    // A valid tar whose first member name is a pickle program: the tar view and the
    // pickle view are both scanned; pickle.load of the file runs posix.system.
    let t = file(&report, TAR_PICKLE);
    assert_eq!(t["format"], "tar", "{t:#}");
    assert_eq!(worst(t), "critical", "{t:#}");
    assert!(
        t["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["evidence"] == "posix.system(\"echo ROUTING TAR RAN\")"),
        "{t:#}"
    );
}
