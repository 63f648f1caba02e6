use super::*;

fn repo_file(path: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn every_spec_reports_its_own_name_and_labels_are_unique() {
    let mut owner: Vec<(&str, &str)> = Vec::new();
    for f in FORMATS {
        assert_eq!(f.labels.first().map(|l| l.name), Some(f.name), "{}", f.name);
        for l in f.labels {
            if let Some((_, other)) = owner.iter().find(|(label, _)| *label == l.name) {
                // The same format may be registered twice with two detectors (a zip found
                // by its head or by its tail), never two formats with one label.
                assert_eq!(*other, f.name, "label {} in two formats", l.name);
            }
            owner.push((l.name, f.name));
        }
        assert_eq!(spec_named(f.name).map(|s| s.name), Some(f.name));
    }
}

#[test]
fn header_only_labels_are_the_ones_read_from_their_header() {
    let got: Vec<&str> = known_labels()
        .into_iter()
        .filter(|l| header_only(l))
        .collect();
    assert_eq!(
        got,
        ["numpy", "hdf5", "keras-h5", "gguf", "safetensors", "onnx"]
    );
    assert!(!header_only("numpy-object"));
    assert!(!header_only("pickle"));
}

#[test]
fn docs_name_every_format_label() {
    let docs = repo_file("docs/config.md");
    let missing: Vec<&str> = crate::config::known_formats()
        .into_iter()
        .filter(|l| !docs.contains(&format!("`{l}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/config.md (deny.formats) does not list {missing:?}"
    );
}

/// The extensions in the hook's `files:` regex (`(?i)\.(a|b|c)$`).
fn hook_extensions() -> Vec<String> {
    let hooks = repo_file(".pre-commit-hooks.yaml");
    let line = hooks
        .lines()
        .find(|l| l.trim_start().starts_with("files:"))
        .expect("a files: line");
    let start = line.find("\\.(").expect("\\.( in files:") + 3;
    let end = line.rfind(")$").expect(")$ in files:");
    line.get(start..end)
        .expect("the alternation")
        .split('|')
        .map(str::to_string)
        .collect()
}

#[test]
fn the_pre_commit_hook_matches_every_format_extension() {
    let hook = hook_extensions();
    let mut missing = Vec::new();
    for f in FORMATS {
        let promised = f.promised_by.iter().map(|(e, _)| *e);
        for ext in f.extensions.iter().copied().chain(promised) {
            if !hook.iter().any(|h| h == ext) && !missing.contains(&ext) {
                missing.push(ext);
            }
        }
    }
    assert!(
        missing.is_empty(),
        ".pre-commit-hooks.yaml files: misses {missing:?}"
    );
}

#[test]
fn promises_name_registered_formats_only() {
    for (exts, _) in DATA_ONLY_PROMISES {
        for e in *exts {
            assert!(
                !FORMATS
                    .iter()
                    .any(|f| f.promised_by.iter().any(|(p, _)| p == e)),
                ".{e} promises both data only and a format"
            );
        }
    }
}
