//! The list of formats: one [`FormatSpec`] per format modelgate reads, in one table.
//!
//! Everything else that needs to know the formats is derived from [`FORMATS`] or checked
//! against it by a test: routing (every detector sees every file, see `sniff.rs`), the
//! labels `deny.formats` knows, which members of an archive are read for their CRC, which
//! files are exempt from `limits.max-file-size`, the extensions whose names promise a
//! format (`extension-mismatch`), `docs/config.md` and the pre-commit hook's `files:`.
//!
//! Adding a format: write its module under `formats/`, give it a detector and a scanner
//! with the [`ScanFn`] signature, and add one line to [`FORMATS`]. `docs/development.md`
//! lists the rest (its rules, its tests, its fixtures).

use crate::finding::{Finding, Location};
use crate::formats::{
    compressed, config, gguf, hdf5, keras, numpy, onnx, pickle, safetensors, savedmodel, sevenz,
    tar, zip,
};
use crate::rules::RuleId;
use crate::scan::Ctx;
use crate::sniff::Probe;
use crate::source::ByteSource;

macro_rules! compressed_spec {
    ($kind:ident, $label:literal, $exts:expr) => {
        FormatSpec {
            name: $label,
            labels: &[label($label)],
            detect: |p| {
                (compressed::Kind::sniff(p.head) == Some(compressed::Kind::$kind))
                    .then_some(Claim::Content)
            },
            scan: |src, ctx, loc, out| {
                compressed::scan(src, compressed::Kind::$kind, ctx, loc, out);
                Outcome::label($label)
            },
            bounded_reads: false,
            carries_code: true,
            promised_by: &[],
            extensions: $exts,
        }
    };
}

/// How a format's scanner is called: the bytes, the context, where they are, and where
/// findings go. Returns what the content turned out to be.
pub type ScanFn = fn(&dyn ByteSource, &Ctx, &Location, &mut Vec<Finding>) -> Outcome;

/// Whether the content is (possibly) this format, judged from a [`Probe`].
pub type DetectFn = fn(&Probe) -> Option<Claim>;

/// How a detector recognised the content.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Claim {
    /// By the file's name alone (formats without magic bytes: `saved_model.pb`, a Keras
    /// `.json`, a broken `.onnx`). Name claims count only when no content claim was made:
    /// a name never overrides what the bytes are.
    Name,
    /// By the bytes: a magic number, a structure check, or a pickle that a load would run.
    Content,
}

/// One label a scanner can report (`FileReport.format`).
#[derive(Debug)]
pub struct Label {
    pub name: &'static str,
    /// Content with this label is read for its header or structure only, never for its
    /// payload (numeric arrays, HDF5 weights, safetensors, GGUF, ONNX): an archive does not
    /// read such a member whole, not even for its CRC.
    pub header_only: bool,
}

const fn label(name: &'static str) -> Label {
    Label {
        name,
        header_only: false,
    }
}

const fn header_label(name: &'static str) -> Label {
    Label {
        name,
        header_only: true,
    }
}

/// What a scan made of the content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The label to report: one of the spec's [`Label`]s.
    pub label: &'static str,
    /// The bytes before the format proper (data before a zip, an HDF5 user block) were
    /// scanned as content of their own: other views of the same bytes would repeat them.
    pub prefix_scanned: bool,
}

impl Outcome {
    pub const fn label(label: &'static str) -> Outcome {
        Outcome {
            label,
            prefix_scanned: false,
        }
    }
}

/// One format.
#[derive(Debug)]
pub struct FormatSpec {
    /// The format's main label (`deny.formats` families are prefixes of labels).
    pub name: &'static str,
    /// Every label its scanner reports; the first is `name`.
    pub labels: &'static [Label],
    pub detect: DetectFn,
    pub scan: ScanFn,
    /// The scanner's reads do not grow with the file (a zip's directory and code members,
    /// a GGUF/safetensors/ONNX header): exempt from `limits.max-file-size`.
    pub bounded_reads: bool,
    /// The format can hold code, or hide content that can: content of this format under
    /// an extension that promises another is an `extension-mismatch`.
    pub carries_code: bool,
    /// A file named with one of these extensions promises this format (the text says what
    /// is promised). Extensions that legitimately hold several formats (`.pt`, `.bin`,
    /// `.pkl`, `.ckpt`, ...) promise nothing, so their content never contradicts them.
    pub promised_by: &'static [(&'static str, &'static str)],
    /// Extensions files of this format usually have: the pre-commit hook's `files:` must
    /// match each (a test checks it).
    pub extensions: &'static [&'static str],
}

const ZIP: FormatSpec = FormatSpec {
    name: "zip",
    labels: &[
        label("zip"),
        label("pytorch-zip"),
        label("keras"),
        label("skops"),
    ],
    detect: zip::detect,
    scan: zip::scan,
    bounded_reads: true,
    carries_code: true,
    promised_by: &[
        ("npz", "a NumPy zip of .npy files"),
        ("keras", "a Keras archive"),
    ],
    extensions: &["zip", "pt", "pth", "npz", "keras", "mar", "bin", "ckpt"],
};

const HDF5: FormatSpec = FormatSpec {
    name: "hdf5",
    labels: &[header_label("hdf5"), header_label("keras-h5")],
    detect: detect_hdf5,
    scan: scan_hdf5,
    bounded_reads: false,
    carries_code: true,
    promised_by: &[
        ("h5", "HDF5"),
        ("hdf5", "HDF5"),
        ("keras", "a Keras archive"),
    ],
    extensions: &["h5", "hdf5", "keras"],
};

/// Every format, in the order that chooses the label when several views of one file are
/// scanned (a tar whose first member name is a pickle is reported as `tar`).
pub static FORMATS: &[FormatSpec] = &[
    FormatSpec {
        name: "git-lfs-pointer",
        labels: &[label("git-lfs-pointer")],
        detect: detect_lfs_pointer,
        scan: scan_lfs_pointer,
        bounded_reads: true,
        carries_code: false,
        promised_by: &[],
        extensions: &[],
    },
    ZIP,
    FormatSpec {
        name: "numpy",
        labels: &[header_label("numpy"), label("numpy-object")],
        detect: detect_numpy,
        scan: scan_numpy,
        bounded_reads: false,
        carries_code: true,
        promised_by: &[("npy", "a NumPy array")],
        extensions: &["npy"],
    },
    HDF5,
    compressed_spec!(Gzip, "gzip", &["gz", "tgz"]),
    compressed_spec!(Bzip2, "bz2", &["bz2"]),
    compressed_spec!(Xz, "xz", &["xz"]),
    compressed_spec!(LzmaAlone, "lzma", &["lzma"]),
    compressed_spec!(Zstd, "zstd", &["zst"]),
    compressed_spec!(Lz4, "lz4", &["lz4"]),
    compressed_spec!(Zlib, "zlib", &["joblib"]),
    FormatSpec {
        name: "7z",
        labels: &[label("7z")],
        detect: detect_7z,
        scan: scan_7z,
        bounded_reads: false,
        carries_code: true,
        promised_by: &[],
        extensions: &["7z"],
    },
    FormatSpec {
        name: "gguf",
        labels: &[header_label("gguf")],
        detect: detect_gguf,
        scan: scan_gguf,
        bounded_reads: true,
        carries_code: true,
        promised_by: &[("gguf", "GGUF")],
        extensions: &["gguf"],
    },
    FormatSpec {
        name: "joblib-zlib",
        labels: &[label("joblib-zlib")],
        detect: detect_joblib_zlib,
        scan: scan_unsupported,
        bounded_reads: false,
        carries_code: true,
        promised_by: &[],
        extensions: &["joblib", "jl"],
    },
    FormatSpec {
        name: "tar",
        labels: &[label("tar"), label("pytorch-legacy-tar")],
        detect: detect_tar,
        scan: scan_tar,
        bounded_reads: false,
        carries_code: true,
        promised_by: &[],
        extensions: &["tar", "nemo", "pt", "pth"],
    },
    // Weaker signals, tried after every magic number: an end-of-central-directory record
    // in the tail (data in front of a zip, or a pickle/zip polyglot), an HDF5 superblock
    // after a user block.
    FormatSpec {
        detect: zip::detect_by_tail,
        ..ZIP
    },
    FormatSpec {
        detect: detect_hdf5_after_user_block,
        ..HDF5
    },
    FormatSpec {
        name: "safetensors",
        labels: &[header_label("safetensors")],
        detect: detect_safetensors,
        scan: scan_safetensors,
        bounded_reads: true,
        carries_code: false,
        promised_by: &[("safetensors", "safetensors")],
        extensions: &["safetensors"],
    },
    FormatSpec {
        name: "onnx",
        labels: &[header_label("onnx")],
        detect: detect_onnx,
        scan: scan_onnx,
        bounded_reads: true,
        carries_code: true,
        promised_by: &[("onnx", "an ONNX protobuf")],
        extensions: &["onnx"],
    },
    // Pickle last among content formats: when another reader also opens the file, the
    // pickle is a second view of it (see `sniff::route`).
    FormatSpec {
        name: "pickle",
        labels: &[label("pickle"), label("joblib"), label("pytorch-legacy")],
        detect: pickle::detect,
        scan: pickle::scan,
        bounded_reads: false,
        carries_code: true,
        promised_by: &[],
        extensions: &[
            "pkl", "pickle", "pk", "pt", "pth", "bin", "ckpt", "joblib", "jl", "dill", "sav",
        ],
    },
    FormatSpec {
        name: "tensorflow-savedmodel",
        labels: &[label("tensorflow-savedmodel")],
        detect: detect_saved_model,
        scan: scan_saved_model,
        bounded_reads: false,
        carries_code: true,
        promised_by: &[],
        extensions: &["pb"],
    },
    FormatSpec {
        name: "tensorflow-savedmodel-text",
        labels: &[label("tensorflow-savedmodel-text")],
        detect: detect_saved_model_text,
        scan: scan_saved_model_text,
        bounded_reads: false,
        carries_code: true,
        promised_by: &[],
        extensions: &["pbtxt"],
    },
    FormatSpec {
        name: "keras-metadata",
        labels: &[label("keras-metadata")],
        detect: detect_keras_metadata,
        scan: scan_keras_metadata,
        bounded_reads: false,
        carries_code: true,
        promised_by: &[],
        extensions: &["pb"],
    },
    FormatSpec {
        name: "keras-config",
        labels: &[label("keras-config")],
        detect: detect_keras_config,
        scan: scan_keras_config,
        bounded_reads: false,
        carries_code: false,
        promised_by: &[],
        extensions: &[],
    },
    // After keras-config: a `.json` Keras model is that format's. YAML/JSON configs that
    // Hydra/OmegaConf instantiate (`_target_`), NeMo's model_config.yaml, chat templates
    // in tokenizer_config.json / chat_template.json and `.jinja` files (name claims; the
    // detector reads a `.yaml`/`.json` only to search it, see `config::detect`).
    FormatSpec {
        name: "hydra-config",
        labels: &[
            label("hydra-config"),
            label("chat-template"),
            label("model-config"),
        ],
        detect: config::detect,
        scan: scan_text_config,
        bounded_reads: false,
        carries_code: false,
        promised_by: &[],
        extensions: &[],
    },
    // Python source and notebooks: the models the code pulls (SPEC §8; name claims).
    FormatSpec {
        name: "python-source",
        labels: &[label("python-source"), label("notebook")],
        detect: crate::refs::detect,
        scan: |src, ctx, loc, out| Outcome::label(crate::refs::scan(src, ctx, loc, out)),
        bounded_reads: false,
        carries_code: false,
        promised_by: &[],
        extensions: &[],
    },
];

/// Names whose extension promises content that cannot carry code at all (text, images, a
/// TFLite flatbuffer): any code-carrying content under such a name is a mismatch.
pub static DATA_ONLY_PROMISES: &[(&[&str], &str)] = &[
    (&["tflite"], "a TFLite flatbuffer"),
    (
        &[
            "json", "txt", "md", "yaml", "yml", "csv", "toml", "cfg", "ini",
        ],
        "text",
    ),
    (&["png", "jpg", "jpeg", "gif", "webp", "bmp"], "an image"),
];

/// The spec of the format `name`.
pub fn spec_named(name: &str) -> Option<&'static FormatSpec> {
    FORMATS.iter().find(|f| f.name == name)
}

/// The spec a label belongs to.
pub fn spec_of(label: &str) -> Option<&'static FormatSpec> {
    FORMATS
        .iter()
        .find(|f| f.labels.iter().any(|l| l.name == label))
}

/// Whether content reported under `label` was read for its header or structure only.
pub fn header_only(label: &str) -> bool {
    FORMATS
        .iter()
        .flat_map(|f| f.labels.iter())
        .any(|l| l.name == label && l.header_only)
}

/// Every label a scan can report, in registry order, each once.
pub fn known_labels() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for l in FORMATS.iter().flat_map(|f| f.labels.iter()) {
        if !out.contains(&l.name) {
            out.push(l.name);
        }
    }
    out
}

fn magic(p: &Probe, m: &[u8]) -> Option<Claim> {
    p.head.starts_with(m).then_some(Claim::Content)
}

fn detect_lfs_pointer(p: &Probe) -> Option<Claim> {
    magic(p, b"version https://git-lfs.github.com/spec/")
}

fn scan_lfs_pointer(
    _: &dyn ByteSource,
    _: &Ctx,
    loc: &Location,
    out: &mut Vec<Finding>,
) -> Outcome {
    out.push(Finding::new(
        RuleId::GitLfsPointer,
        loc.clone(),
        "not scanned: Git LFS pointer — check out with `lfs: true`",
    ));
    Outcome::label("git-lfs-pointer")
}

fn detect_numpy(p: &Probe) -> Option<Claim> {
    magic(p, b"\x93NUMPY")
}

fn scan_numpy(src: &dyn ByteSource, ctx: &Ctx, loc: &Location, out: &mut Vec<Finding>) -> Outcome {
    Outcome::label(numpy::scan(src, ctx, loc, out))
}

fn detect_hdf5(p: &Probe) -> Option<Claim> {
    magic(p, hdf5::MAGIC)
}

/// HDF5 after a user block (any bytes, 512·2^k long): h5py and Keras open it.
fn detect_hdf5_after_user_block(p: &Probe) -> Option<Claim> {
    hdf5::find_superblock(p.src)
        .is_some_and(|at| at > 0)
        .then_some(Claim::Content)
}

fn scan_hdf5(src: &dyn ByteSource, ctx: &Ctx, loc: &Location, out: &mut Vec<Finding>) -> Outcome {
    Outcome {
        label: hdf5::scan(src, ctx, loc, out),
        // The user block before a superblock found further in is scanned as content.
        prefix_scanned: hdf5::find_superblock(src).is_some_and(|at| at > 0),
    }
}

fn detect_7z(p: &Probe) -> Option<Claim> {
    magic(p, b"7z\xbc\xaf\x27\x1c")
}

fn scan_7z(src: &dyn ByteSource, ctx: &Ctx, loc: &Location, out: &mut Vec<Finding>) -> Outcome {
    sevenz::scan(src, ctx, loc, out);
    Outcome::label("7z")
}

fn detect_gguf(p: &Probe) -> Option<Claim> {
    magic(p, b"GGUF")
}

fn scan_gguf(src: &dyn ByteSource, ctx: &Ctx, loc: &Location, out: &mut Vec<Finding>) -> Outcome {
    Outcome::label(gguf::scan(src, ctx, loc, out))
}

fn detect_joblib_zlib(p: &Probe) -> Option<Claim> {
    magic(p, b"ZF\x00")
}

/// Formats that can carry code and have no scanner in this release yet.
fn scan_unsupported(
    _: &dyn ByteSource,
    _: &Ctx,
    loc: &Location,
    out: &mut Vec<Finding>,
) -> Outcome {
    out.push(Finding::new(
        RuleId::ContentNotScanned,
        loc.clone(),
        "joblib-zlib content can carry code, and this release of modelgate cannot look inside it yet",
    ));
    Outcome::label("joblib-zlib")
}

fn detect_tar(p: &Probe) -> Option<Claim> {
    (p.head.get(257..262) == Some(b"ustar")).then_some(Claim::Content)
}

fn scan_tar(src: &dyn ByteSource, ctx: &Ctx, loc: &Location, out: &mut Vec<Finding>) -> Outcome {
    let members = tar::scan(src, ctx, loc, out);
    let legacy = crate::formats::torch::is_legacy_tar(&members);
    // NeMo restores a `.nemo` (a tar with its model_config.yaml) with extractall; torch
    // extracts the legacy tar format's members to a temporary folder; any other tar is
    // used by unpacking it (`tar -x`, `tarfile.extractall`, `shutil.unpack_archive`).
    let nemo = members
        .iter()
        .any(|m| m.name.trim_start_matches("./") == "model_config.yaml");
    let who = if legacy || nemo {
        "this archive's loader extracts it"
    } else {
        "a tar archive is used by unpacking it"
    };
    tar::escape_findings(&members, Some(who), loc, out);
    Outcome::label(if legacy { "pytorch-legacy-tar" } else { "tar" })
}

fn detect_safetensors(p: &Probe) -> Option<Claim> {
    safetensors::looks_like(p.head).then_some(Claim::Content)
}

fn scan_safetensors(
    src: &dyn ByteSource,
    _: &Ctx,
    loc: &Location,
    out: &mut Vec<Finding>,
) -> Outcome {
    safetensors::scan(src, loc, out);
    Outcome::label("safetensors")
}

fn detect_onnx(p: &Probe) -> Option<Claim> {
    // ONNX has no magic: the whole file must walk as a ModelProto. Content that matched
    // nothing in a file named `.onnx` is scanned as ONNX too, so that a broken or
    // disguised model is reported as `onnx-malformed` instead of skipped.
    if onnx::looks_like(p.src) {
        Some(Claim::Content)
    } else {
        p.name_ends_with(".onnx").then_some(Claim::Name)
    }
}

fn scan_onnx(src: &dyn ByteSource, ctx: &Ctx, loc: &Location, out: &mut Vec<Finding>) -> Outcome {
    Outcome::label(onnx::scan(src, ctx, loc, out))
}

fn saved_model_kind(p: &Probe, want: savedmodel::Kind) -> Option<Claim> {
    (savedmodel::Kind::from_name(p.name) == Some(want)).then_some(Claim::Name)
}

fn detect_saved_model(p: &Probe) -> Option<Claim> {
    saved_model_kind(p, savedmodel::Kind::SavedModel)
}

fn detect_saved_model_text(p: &Probe) -> Option<Claim> {
    saved_model_kind(p, savedmodel::Kind::SavedModelText)
}

fn detect_keras_metadata(p: &Probe) -> Option<Claim> {
    saved_model_kind(p, savedmodel::Kind::KerasMetadata)
}

fn scan_saved_model(
    src: &dyn ByteSource,
    ctx: &Ctx,
    loc: &Location,
    out: &mut Vec<Finding>,
) -> Outcome {
    Outcome::label(savedmodel::scan(
        src,
        savedmodel::Kind::SavedModel,
        ctx,
        loc,
        out,
    ))
}

fn scan_saved_model_text(
    src: &dyn ByteSource,
    ctx: &Ctx,
    loc: &Location,
    out: &mut Vec<Finding>,
) -> Outcome {
    Outcome::label(savedmodel::scan(
        src,
        savedmodel::Kind::SavedModelText,
        ctx,
        loc,
        out,
    ))
}

fn scan_keras_metadata(
    src: &dyn ByteSource,
    ctx: &Ctx,
    loc: &Location,
    out: &mut Vec<Finding>,
) -> Outcome {
    Outcome::label(savedmodel::scan(
        src,
        savedmodel::Kind::KerasMetadata,
        ctx,
        loc,
        out,
    ))
}

fn scan_text_config(
    src: &dyn ByteSource,
    ctx: &Ctx,
    loc: &Location,
    out: &mut Vec<Finding>,
) -> Outcome {
    Outcome::label(config::scan(src, ctx, loc, out))
}

fn detect_keras_config(p: &Probe) -> Option<Claim> {
    // A `.json` holding a serialised Keras model (`model.to_json()`, a keras_hub preset's
    // `config.json`): what `model_from_json` / `from_preset` deserialise.
    (p.name_ends_with(".json") && keras::looks_like_keras_json(p.src)).then_some(Claim::Name)
}

fn scan_keras_config(
    src: &dyn ByteSource,
    ctx: &Ctx,
    loc: &Location,
    out: &mut Vec<Finding>,
) -> Outcome {
    keras::scan_json_file(src, ctx, loc, out);
    Outcome::label("keras-config")
}

#[cfg(test)]
mod tests;
