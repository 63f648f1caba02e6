//! CycloneDX 1.6 output (`--cyclonedx FILE`, `-f cyclonedx`; SPEC §8): validated against
//! the official CycloneDX 1.6 JSON schema (with the SPDX and JSF schemas it references,
//! all three in tests/data/cyclonedx), for model files on disk and for the models the
//! code pulls, resolved against the mock Hub.

// Integration tests: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
// Only part of the mock Hub is used here.
#[allow(dead_code)]
#[path = "common/mockhub.rs"]
mod mockhub;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::*;
use jsonschema::Resource;
use mockhub::Content;
use serde_json::{json, Value};

fn load(name: &str) -> Value {
    let p = root().join("tests/data/cyclonedx").join(name);
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// The official CycloneDX 1.6 schema with the two schemas it references, compiled
/// without network access.
fn validator() -> jsonschema::Validator {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(true)
        .with_resource(
            "http://cyclonedx.org/schema/spdx.schema.json",
            Resource::from_contents(load("spdx.schema.json")).unwrap(),
        )
        .with_resource(
            "http://cyclonedx.org/schema/jsf-0.82.schema.json",
            Resource::from_contents(load("jsf-0.82.schema.json")).unwrap(),
        )
        .build(&load("bom-1.6.schema.json"))
        .expect("schema compiles")
}

/// Every schema error of `bom`, plus what the schema cannot say: unique `bom-ref`s and
/// dependencies that name existing components.
fn assert_valid_bom(bom: &Value) {
    let errors: Vec<String> = validator()
        .iter_errors(bom)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "invalid CycloneDX: {errors:#?}\n{bom:#}");
    let mut refs = BTreeSet::new();
    fn walk<'a>(c: &'a Value, refs: &mut BTreeSet<&'a str>) {
        for c in c["components"].as_array().into_iter().flatten() {
            let r = c["bom-ref"]
                .as_str()
                .expect("every component has a bom-ref");
            assert!(refs.insert(r), "duplicate bom-ref {r}");
            walk(c, refs);
        }
    }
    walk(bom, &mut refs);
    for d in bom["dependencies"].as_array().into_iter().flatten() {
        assert!(refs.contains(d["ref"].as_str().unwrap()), "{d}");
        for on in d["dependsOn"].as_array().unwrap() {
            assert!(refs.contains(on.as_str().unwrap()), "{d}");
        }
    }
}

/// A BOM the schema rejects is rejected by this check (the validator is not vacuous).
#[test]
fn the_schema_check_rejects_a_broken_bom() {
    let bad = json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "components": [{"type": "ml-model", "name": "x"}],
    });
    assert!(!validator().is_valid(&bad));
}

/// The bundled examples: every model file is a `machine-learning-model` component with
/// its SHA-256 and verdict; non-model files are not components.
#[test]
fn examples_bom_validates_and_lists_every_model_file() {
    let dir = tempfile::tempdir().unwrap();
    let bom_path = dir.path().join("bom.json");
    let out = modelgate()
        .current_dir(root())
        .args([
            "scan",
            "examples",
            "--no-config",
            "--no-progress",
            "-f",
            "json",
            "--cyclonedx",
        ])
        .arg(&bom_path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let bom: Value = serde_json::from_str(&std::fs::read_to_string(&bom_path).unwrap()).unwrap();
    assert_valid_bom(&bom);
    assert_eq!(bom["specVersion"], "1.6");
    let comps = bom["components"].as_array().unwrap();
    let by_name = |n: &str| {
        comps
            .iter()
            .find(|c| c["name"].as_str().unwrap().ends_with(n))
            .unwrap_or_else(|| panic!("no component {n}: {bom:#}"))
    };
    let st = by_name("examples/benign/weights.safetensors");
    assert_eq!(st["type"], "machine-learning-model");
    use sha2::Digest;
    let bytes = std::fs::read(root().join("examples/benign/weights.safetensors")).unwrap();
    let hex: String = sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(st["hashes"][0]["alg"], "SHA-256");
    assert_eq!(st["hashes"][0]["content"], hex.as_str());
    let prop = |c: &Value, name: &str| {
        c["properties"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == format!("modelgate:{name}"))
            .map(|p| p["value"].as_str().unwrap().to_string())
    };
    assert_eq!(prop(st, "format").as_deref(), Some("safetensors"));
    let evil = by_name("examples/malicious/os_system.pkl");
    assert_eq!(prop(evil, "verdict").as_deref(), Some("critical"));
    assert!(!comps
        .iter()
        .any(|c| c["name"].as_str().unwrap().ends_with("README.md")));
    assert_eq!(
        bom["metadata"]["properties"][0],
        json!({"name": "modelgate:verdict", "value": "fail"})
    );
}

/// Models the code pulls, resolved: one component per reference with its purl, commit,
/// downloaded files (hashes from the Hub listing) and call sites; the source file
/// depends on it. `-f cyclonedx` writes the same document to stdout.
#[test]
fn referenced_models_become_components_with_hub_hashes() {
    let weights = std::fs::read(root().join("examples/benign/weights.safetensors")).unwrap();
    let sha = "89abcdef0123456789abcdef0123456789abcdef";
    let hub = mockhub::start(vec![mockhub::public_repo(
        "acme/big-model",
        sha,
        vec![
            ("config.json", b"{}".to_vec()),
            ("model.safetensors", weights.clone()),
        ],
    )]);
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "app.py",
        b"from transformers import AutoModel as AM\nm = AM.from_pretrained(\"acme/big-model\")\nn = AM.from_pretrained(\"acme/big-model\", revision=\"main\")\nq = AM.from_pretrained(\"acme/gone\")\n",
    );
    let out = modelgate_against_hub(&hub.endpoint)
        .current_dir(dir.path())
        .args([
            "scan",
            ".",
            "--no-config",
            "--no-progress",
            "--resolve-models",
            "-f",
            "cyclonedx",
        ])
        .output()
        .unwrap();
    // acme/gone cannot be resolved, and the other two are unpinned: the build fails.
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bom: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_valid_bom(&bom);
    let comps = bom["components"].as_array().unwrap();
    let models: Vec<&Value> = comps
        .iter()
        .filter(|c| {
            c["purl"]
                .as_str()
                .is_some_and(|p| p.starts_with("pkg:huggingface/"))
        })
        .collect();
    // Three references, two resolving to the same commit: three components.
    assert_eq!(models.len(), 3, "{bom:#}");
    let resolved: Vec<&&Value> = models
        .iter()
        .filter(|c| c["purl"] == format!("pkg:huggingface/acme/big-model@{sha}"))
        .collect();
    assert_eq!(resolved.len(), 2);
    for m in &resolved {
        assert_eq!(m["group"], "acme");
        assert_eq!(m["version"], sha);
        let files = m["components"].as_array().unwrap();
        let st = files
            .iter()
            .find(|f| f["name"] == "model.safetensors")
            .unwrap();
        assert_eq!(
            st["hashes"][0]["content"],
            Content::Bytes(Arc::new(weights.clone())).digest().as_str()
        );
    }
    let gone = models
        .iter()
        .find(|c| c["purl"] == "pkg:huggingface/acme/gone")
        .unwrap();
    assert!(gone["properties"]
        .as_array()
        .unwrap()
        .contains(&json!({"name": "modelgate:state", "value": "unresolved"})));
    let deps = bom["dependencies"].as_array().unwrap();
    assert_eq!(deps.len(), 1);
    assert_eq!(deps[0]["ref"], "source:app.py");
    assert_eq!(deps[0]["dependsOn"].as_array().unwrap().len(), 3);
}
