//! The model inventory as a CycloneDX 1.6 BOM (`--cyclonedx FILE`, `-f cyclonedx`;
//! SPEC §8): one `machine-learning-model` component per model file scanned and per model
//! the code pulls (purl `pkg:huggingface/OWNER/NAME@SHA`, with the files the calls
//! download as sub-components), SHA-256 hashes where known, the format and the verdict
//! as `modelgate:` properties, and a dependency from each source file to the models it
//! pulls.
//!
//! Written with serde_json: `cyclonedx-bom` (0.8) models specification 1.5 at most, and
//! the output is small. `tests/cyclonedx.rs` validates it against the official 1.6 JSON
//! schema.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};

use serde_json::{json, Value};

use super::{FileReport, FileStatus, ModelRef, Origin, RenderOptions, Report};
use crate::finding::Severity;

/// Format labels of files that are models (or model weights); containers, configs,
/// source code and pointers are not.
fn is_model_format(label: &str) -> bool {
    const MODEL: &[&str] = &[
        "pickle",
        "joblib",
        "pytorch",
        "numpy",
        "keras",
        "hdf5",
        "tensorflow",
        "onnx",
        "gguf",
        "safetensors",
        "skops",
    ];
    MODEL
        .iter()
        .any(|m| label == *m || label.starts_with(&format!("{m}-")))
}

/// Largest local file hashed for the BOM (bytes); larger ones get no hash.
const MAX_HASHED: u64 = 64 << 30;

/// SHA-256 of a local file, streamed.
fn sha256_of(path: &str) -> Option<String> {
    use sha2::{Digest, Sha256};
    let file = std::fs::File::open(path).ok()?;
    if file.metadata().ok()?.len() > MAX_HASHED {
        return None;
    }
    let mut hasher = Sha256::new();
    let mut reader = io::BufReader::with_capacity(1 << 20, file);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = reader.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        hasher.update(buf.get(..n)?);
    }
    Some(
        hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    )
}

fn verdict(findings: Option<Severity>) -> &'static str {
    findings.map_or("none", Severity::as_str)
}

fn worst(f: &FileReport) -> Option<Severity> {
    f.findings
        .iter()
        .filter(|x| x.suppressed.is_none())
        .map(|x| x.severity)
        .max()
}

fn prop(name: &str, value: impl Into<String>) -> Value {
    json!({"name": format!("modelgate:{name}"), "value": value.into()})
}

fn sha256_hash(h: Option<&str>) -> Option<Value> {
    h.map(|h| json!([{"alg": "SHA-256", "content": h}]))
}

/// `pkg:huggingface/OWNER/NAME[@COMMIT]`.
fn purl(m: &ModelRef) -> String {
    let base = format!("pkg:huggingface/{}", m.repo);
    match &m.commit {
        Some(c) => format!("{base}@{}", c.to_ascii_lowercase()),
        None => base,
    }
}

/// The component's `bom-ref`: one per reference (repository and requested revision), so
/// two references that resolve to one commit, or none, stay two unique refs.
fn model_ref_id(m: &ModelRef) -> String {
    format!(
        "model:{}@{}",
        m.repo,
        m.requested.as_deref().unwrap_or("(default branch)")
    )
}

fn model_ref_component(m: &ModelRef) -> Value {
    let (group, name) = m.repo.split_once('/').unwrap_or(("", &m.repo));
    let mut props = vec![
        prop("state", m.state.as_str()),
        prop(
            "requested-revision",
            m.requested.as_deref().unwrap_or("(default branch)"),
        ),
    ];
    if m.state != super::ModelState::NotResolved && m.state != super::ModelState::Unresolved {
        props.push(prop("verdict", verdict(m.verdict)));
    }
    for s in &m.sites {
        let at = match s.line {
            Some(l) => format!("{}:{l}", s.path),
            None => s.path.clone(),
        };
        props.push(prop("call-site", format!("{at} {}", s.callee)));
    }
    let mut c = json!({
        "type": "machine-learning-model",
        "bom-ref": model_ref_id(m),
        "name": name,
        "purl": purl(m),
        "properties": props,
    });
    if !group.is_empty() {
        super::set(&mut c, "group", json!(group));
    }
    if let Some(commit) = &m.commit {
        super::set(&mut c, "version", json!(commit));
    }
    let files: Vec<Value> = m
        .files
        .iter()
        .map(|f| {
            let mut fc = json!({
                "type": "file",
                "bom-ref": format!("{}#{}", model_ref_id(m), f.path),
                "name": f.path,
                "properties": [
                    prop("size", f.size.to_string()),
                    prop("verdict", verdict(f.verdict)),
                ],
            });
            if let Some(h) = sha256_hash(f.sha256.as_deref()) {
                super::set(&mut fc, "hashes", h);
            }
            fc
        })
        .collect();
    if !files.is_empty() {
        super::set(&mut c, "components", json!(files));
    }
    c
}

fn model_file_component(f: &FileReport, hash: bool) -> Value {
    let mut props = vec![
        prop("format", f.format.clone().unwrap_or_default()),
        prop("verdict", verdict(worst(f))),
        prop(
            "findings",
            f.findings
                .iter()
                .filter(|x| x.suppressed.is_none())
                .count()
                .to_string(),
        ),
    ];
    if f.status == FileStatus::Error {
        props.push(prop("status", "error"));
    }
    let mut c = json!({
        "type": "machine-learning-model",
        "bom-ref": format!("file:{}", f.path),
        "name": f.path,
        "properties": props,
    });
    if hash && f.origin.is_local() {
        if let Some(h) = sha256_hash(sha256_of(&f.path).as_deref()) {
            super::set(&mut c, "hashes", h);
        }
    }
    c
}

/// The BOM as a JSON value. `hash_local` reads local model files to hash them.
pub fn bom(report: &Report, hash_local: bool) -> Value {
    let mut components = Vec::new();
    // Files of referenced models are listed under their model, not again at the top.
    let under_model = |path: &str| {
        report.models.iter().any(|m| {
            m.commit
                .as_ref()
                .is_some_and(|c| path.starts_with(&format!("hf://{}@{c}/", m.repo)))
        })
    };
    for f in &report.files {
        let is_model = f.format.as_deref().is_some_and(is_model_format);
        if is_model && !(f.origin == Origin::Hf && under_model(&f.path)) {
            components.push(model_file_component(f, hash_local));
        }
    }
    let mut pulls: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for m in &report.models {
        components.push(model_ref_component(m));
        for s in &m.sites {
            let deps = pulls.entry(s.path.as_str()).or_default();
            if !deps.contains(&model_ref_id(m)) {
                deps.push(model_ref_id(m));
            }
        }
    }
    let mut dependencies = Vec::new();
    for (source, deps) in &pulls {
        components.push(json!({
            "type": "file",
            "bom-ref": format!("source:{source}"),
            "name": source,
        }));
        dependencies.push(json!({"ref": format!("source:{source}"), "dependsOn": deps}));
    }
    let timestamp = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        });
    let mut metadata = json!({
        "tools": {"components": [{
            "type": "application",
            "name": report.tool.name,
            "version": report.tool.version,
        }]},
        "properties": [prop("verdict", match report.verdict {
            super::Verdict::Pass => "pass",
            super::Verdict::Fail => "fail",
        })],
    });
    if let Some(t) = timestamp {
        super::set(&mut metadata, "timestamp", json!(t));
    }
    let mut bom = json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "metadata": metadata,
        "components": components,
    });
    if !dependencies.is_empty() {
        super::set(&mut bom, "dependencies", json!(dependencies));
    }
    bom
}

pub fn render(report: &Report, _opts: &RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &bom(report, true))?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::refs::lock::LockedFile;
    use crate::report::{ModelSite, ModelState};

    #[test]
    fn models_and_files_become_components_with_dependencies() {
        let mut report = crate::report::testutil::sample_report();
        report.models = vec![ModelRef {
            repo: "acme/m".into(),
            requested: None,
            commit: Some("A".repeat(40)),
            state: ModelState::Locked,
            verdict: Some(Severity::Critical),
            files: vec![LockedFile {
                path: "pytorch_model.bin".into(),
                size: 10,
                sha256: Some("c".repeat(64)),
                git_oid: None,
                verdict: Some(Severity::Critical),
            }],
            sites: vec![ModelSite {
                path: "train.py".into(),
                line: Some(3),
                column: Some(9),
                callee: "transformers.AutoModel.from_pretrained".into(),
            }],
        }];
        let v = bom(&report, false);
        let comps = v["components"].as_array().unwrap();
        let m = comps
            .iter()
            .find(|c| c["purl"] == format!("pkg:huggingface/acme/m@{}", "a".repeat(40)))
            .unwrap();
        assert_eq!(m["type"], "machine-learning-model");
        assert_eq!(m["group"], "acme");
        assert_eq!(m["components"][0]["hashes"][0]["content"], "c".repeat(64));
        assert!(m["properties"]
            .as_array()
            .unwrap()
            .contains(&prop("verdict", "critical")));
        assert_eq!(v["dependencies"][0]["ref"], "source:train.py");
        assert_eq!(v["dependencies"][0]["dependsOn"][0], m["bom-ref"]);
        // The sample's pickle files are model components; its config is not.
        assert!(comps
            .iter()
            .any(|c| c["type"] == "machine-learning-model" && c["bom-ref"] != m["bom-ref"]));
    }
}
