//! Extension/content mismatch (`extension-mismatch`): a file whose extension promises one
//! format while its content is another format that can carry code. Routing stays by
//! content (a pickle named `.safetensors` is scanned as a pickle); this adds a medium
//! finding on top, because people and name-based tools trust the name (CVE-2025-10155).
//!
//! What each extension promises is registry data ([`FormatSpec::promised_by`] and
//! [`DATA_ONLY_PROMISES`]). Extensions that legitimately hold several formats (`.pt`,
//! `.pth`, `.bin`, `.ckpt`, `.pkl`, `.pickle`, `.joblib`, `.model`, `.mar`, `.nemo`,
//! `.tar`, `.zip`, ...) promise nothing, so their content never contradicts them.

use crate::finding::{Finding, Location};
use crate::formats::registry::{FormatSpec, DATA_ONLY_PROMISES, FORMATS};
use crate::rules::RuleId;

/// What `ext` (lowercase, no dot) promises, and whether `content` keeps the promise.
/// `None` when the extension promises nothing.
fn promise(ext: &str, content: &FormatSpec) -> Option<(&'static str, bool)> {
    let mut promised: Option<&'static str> = None;
    for spec in FORMATS {
        if let Some((_, what)) = spec.promised_by.iter().find(|(e, _)| *e == ext) {
            if std::ptr::eq(spec, content) || spec.name == content.name {
                return Some((what, true));
            }
            promised = promised.or(Some(what));
        }
    }
    if let Some(what) = promised {
        return Some((what, false));
    }
    DATA_ONLY_PROMISES
        .iter()
        .find(|(exts, _)| exts.contains(&ext))
        .map(|(_, what)| (*what, false))
}

/// The finding for `name` (a file or member name) holding content of `format`, if its
/// extension promises something else. Only content that can carry code counts.
pub fn check(name: &str, format: Option<&FormatSpec>, loc: &Location) -> Option<Finding> {
    let format = format.filter(|f| f.carries_code)?;
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let (stem, ext) = base.rsplit_once('.')?;
    if stem.is_empty() {
        return None;
    }
    let ext = ext.to_ascii_lowercase();
    let (promised, kept) = promise(&ext, format)?;
    if kept {
        return None;
    }
    let content = format.name;
    Some(
        Finding::new(
            RuleId::ExtensionMismatch,
            loc.clone(),
            format!("the extension `.{ext}` promises {promised}, but the content is {content}"),
        )
        .with_evidence(format!(".{ext} -> {content}")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::registry::spec_named;

    fn hit(name: &str, f: &str) -> bool {
        let spec = spec_named(f).expect("a registered format");
        check(name, Some(spec), &Location::file(name)).is_some()
    }

    #[test]
    fn table() {
        assert!(hit("model.safetensors", "pickle"));
        assert!(hit("weights.NPY", "zip"));
        assert!(hit("a/b/config.json", "pickle"));
        assert!(hit("x.npz", "pickle"));
        assert!(hit("cat.png", "7z"));
        // Legitimate pairs.
        assert!(!hit("x.npy", "numpy"));
        assert!(!hit("x.npz", "zip"));
        assert!(!hit("model.keras", "zip"));
        assert!(!hit("model.keras", "hdf5"));
        assert!(!hit("model.safetensors", "safetensors"));
        assert!(!hit("model.onnx", "onnx"));
        assert!(!hit("model.gguf", "gguf"));
        assert!(hit("model.safetensors", "gguf"));
        assert!(hit("model.npy", "onnx"));
        assert!(check("notes.txt", None, &Location::file("notes.txt")).is_none());
        // Extensions that hold several formats never mismatch.
        for n in [
            "m.pt",
            "m.pth",
            "pytorch_model.bin",
            "m.ckpt",
            "m.pkl",
            "noext",
            ".json",
        ] {
            assert!(!hit(n, "pickle"), "{n}");
            assert!(!hit(n, "zip"), "{n}");
        }
    }
}
