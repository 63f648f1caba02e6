//! Extension/content mismatch (`extension-mismatch`): a file whose extension promises one
//! format while its content is another format that can carry code. Routing stays by
//! content (a pickle named `.safetensors` is scanned as a pickle); this adds a medium
//! finding on top, because people and name-based tools trust the name (CVE-2025-10155).

use crate::finding::{Finding, Location};
use crate::rules::RuleId;
use crate::sniff::Format;

/// Extensions that promise a format, what they promise (in words), and the content
/// labels ([`Format::label`]) they may legitimately hold. Content that cannot carry code
/// (text, JSON, safetensors, unknown bytes) is never a mismatch, so an empty list means
/// "no code-carrying format at all".
///
/// Deliberately absent: `.pt`, `.pth`, `.bin`, `.ckpt`, `.pkl`, `.pickle`, `.joblib`,
/// `.model`, `.mar`, `.nemo`, `.tar`, `.zip`, ... — they legitimately hold legacy
/// pickles, zip checkpoints, tars or compressed pickles, so their content never
/// contradicts them.
const PROMISES: &[(&[&str], &str, &[&str])] = &[
    (&["safetensors"], "safetensors", &[]),
    (&["npy"], "a NumPy array", &["numpy"]),
    (&["npz"], "a NumPy zip of .npy files", &["zip"]),
    (&["gguf"], "GGUF", &["gguf"]),
    (&["onnx"], "an ONNX protobuf", &["onnx"]),
    (&["h5", "hdf5"], "HDF5", &["hdf5"]),
    (&["keras"], "a Keras archive", &["zip", "hdf5"]),
    (&["tflite"], "a TFLite flatbuffer", &[]),
    (
        &[
            "json", "txt", "md", "yaml", "yml", "csv", "toml", "cfg", "ini",
        ],
        "text",
        &[],
    ),
    (
        &["png", "jpg", "jpeg", "gif", "webp", "bmp"],
        "an image",
        &[],
    ),
];

/// Content kinds that count: formats that can carry code or hide content that can.
fn carries_code(format: Format) -> bool {
    matches!(
        format,
        Format::Pickle
            | Format::Zip
            | Format::Tar
            | Format::SevenZip
            | Format::Numpy
            | Format::Compressed(_)
            | Format::Gguf
            | Format::Onnx
            | Format::Unsupported(_)
            | Format::Hdf5
            | Format::SavedModel(_)
    )
}

/// The finding for `name` (a file or member name) holding `format`, if its extension
/// promises something else.
pub fn check(name: &str, format: Format, loc: &Location) -> Option<Finding> {
    if !carries_code(format) {
        return None;
    }
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let (stem, ext) = base.rsplit_once('.')?;
    if stem.is_empty() {
        return None;
    }
    let ext = ext.to_ascii_lowercase();
    let (_, promise, allowed) = PROMISES
        .iter()
        .find(|(exts, _, _)| exts.contains(&ext.as_str()))?;
    let content = format.label();
    if allowed.contains(&content) {
        return None;
    }
    Some(
        Finding::new(
            RuleId::ExtensionMismatch,
            loc.clone(),
            format!("the extension `.{ext}` promises {promise}, but the content is {content}"),
        )
        .with_evidence(format!(".{ext} -> {content}")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(name: &str, f: Format) -> bool {
        check(name, f, &Location::file(name)).is_some()
    }

    #[test]
    fn table() {
        assert!(hit("model.safetensors", Format::Pickle));
        assert!(hit("weights.NPY", Format::Zip));
        assert!(hit("a/b/config.json", Format::Pickle));
        assert!(hit("x.npz", Format::Pickle));
        assert!(hit("cat.png", Format::SevenZip));
        // Legitimate pairs.
        assert!(!hit("x.npy", Format::Numpy));
        assert!(!hit("x.npz", Format::Zip));
        assert!(!hit("model.keras", Format::Zip));
        assert!(!hit("model.safetensors", Format::Safetensors));
        assert!(!hit("model.onnx", Format::Onnx));
        assert!(!hit("model.gguf", Format::Gguf));
        assert!(hit("model.safetensors", Format::Gguf));
        assert!(hit("model.npy", Format::Onnx));
        assert!(!hit("notes.txt", Format::Unknown));
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
            assert!(!hit(n, Format::Pickle), "{n}");
            assert!(!hit(n, Format::Zip), "{n}");
        }
    }
}
