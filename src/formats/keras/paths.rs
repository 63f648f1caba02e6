//! Keras layers whose config makes the loader read a path: lookup layers
//! (`StringLookup`, `IntegerLookup`, `TextVectorization`) given their `vocabulary` as a
//! file, keras_hub tokenizers given `vocabulary` / `merges` / `proto` as a file, and
//! `TFSMLayer`, which `tf.saved_model.load`s the SavedModel at `filepath` (its graph runs
//! as part of the model). Keras 3.15.1 refuses a vocabulary file outside the archive and
//! any TFSMLayer in its default `safe_mode=True`; earlier Keras 3 releases, tf_keras and
//! `safe_mode=False` read them.
//!
//! An absolute path, a URL (`tf.io.gfile` reads `gs://`, `s3://`, `http(s)://`...), a
//! home path or one that climbs out with `..` is high; a relative path inside the
//! model's folder is medium (it is resolved from the working directory, next to the
//! model in the usual layout).

use serde_json::{Map, Value};

use crate::finding::{Finding, Location, Severity};
use crate::rules::RuleId;

/// Layers whose `vocabulary` may be a file path.
const LOOKUP_LAYERS: &[&str] = &[
    "StringLookup",
    "IntegerLookup",
    "TextVectorization",
    "IndexLookup",
];
/// Config keys of keras_hub tokenizers that may be file paths.
const TOKENIZER_KEYS: &[&str] = &["vocabulary", "merges", "proto"];

/// Why `p` points outside the model's folder, if it does.
pub fn outside(p: &str) -> Option<&'static str> {
    let t = p.trim();
    if let Some((scheme, _)) = t.split_once("://") {
        if !scheme.is_empty()
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+')
        {
            return Some("a URL");
        }
    }
    if t.starts_with('~') {
        return Some("a home-directory path");
    }
    if t.starts_with("\\\\") {
        return Some("a network path");
    }
    crate::formats::paths::escape(t)
}

/// The finding for a layer of class `class` (config `cfg`) that names a path the loader
/// reads, if it does. `at` names the layer.
pub fn check(class: &str, cfg: &Map<String, Value>, at: &str, loc: &Location) -> Option<Finding> {
    let (key, what) = if class == "TFSMLayer" {
        ("filepath", "loads the TensorFlow SavedModel at")
    } else if LOOKUP_LAYERS.contains(&class) {
        ("vocabulary", "reads its vocabulary from the file")
    } else if class.ends_with("Tokenizer") {
        let key = TOKENIZER_KEYS.iter().find(|k| {
            cfg.get(**k)
                .and_then(Value::as_str)
                .is_some_and(|s| !s.trim().is_empty())
        })?;
        (*key, "reads its tokenizer data from the file")
    } else {
        return None;
    };
    let path = cfg.get(key).and_then(Value::as_str)?;
    if path.trim().is_empty() {
        return None;
    }
    let shown = crate::finding::shorten(path, 300);
    let f = match outside(path) {
        Some(why) => Finding::new(
            RuleId::KerasExternalFile,
            loc.clone(),
            format!(
                "{at} is a `{class}` that {what} `{shown}` (`{key}`), {why} outside the model: loading reads what is there (Keras 3.15.1 refuses it in safe mode; earlier releases and safe_mode=False read it)"
            ),
        ),
        None => Finding::new(
            RuleId::KerasExternalFile,
            loc.clone(),
            format!(
                "{at} is a `{class}` that {what} `{shown}` (`{key}`), a relative path read from the working directory, beside the model in the usual layout"
            ),
        )
        .with_severity(Severity::Medium),
    };
    Some(f.with_evidence(shown))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sev(class: &str, key: &str, v: &str) -> Option<Severity> {
        let mut cfg = Map::new();
        cfg.insert(key.into(), Value::String(v.into()));
        check(class, &cfg, "`x`", &Location::file("m.keras")).map(|f| f.severity)
    }

    #[test]
    fn paths_outside_are_high_inside_medium() {
        assert_eq!(
            sev("StringLookup", "vocabulary", "/etc/passwd"),
            Some(Severity::High)
        );
        assert_eq!(
            sev("TextVectorization", "vocabulary", "../v.txt"),
            Some(Severity::High)
        );
        assert_eq!(
            sev("IntegerLookup", "vocabulary", "gs://b/v.txt"),
            Some(Severity::High)
        );
        assert_eq!(sev("TFSMLayer", "filepath", "~/sm"), Some(Severity::High));
        assert_eq!(sev("TFSMLayer", "filepath", "C:\\sm"), Some(Severity::High));
        assert_eq!(
            sev("TFSMLayer", "filepath", "savedmodel"),
            Some(Severity::Medium)
        );
        assert_eq!(
            sev("BytePairTokenizer", "merges", "a/../../m.txt"),
            Some(Severity::High)
        );
        assert_eq!(sev("StringLookup", "vocabulary", ""), None);
        assert_eq!(sev("Dense", "vocabulary", "/etc/passwd"), None);
        let mut cfg = Map::new();
        cfg.insert("vocabulary".into(), serde_json::json!(["a", "b"]));
        assert!(check("StringLookup", &cfg, "`x`", &Location::file("m")).is_none());
    }
}
