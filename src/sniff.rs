//! Content → format. Every file is routed by its bytes, never by its name: a pickle named
//! `.bin`, `.txt`, `.safetensors` or nothing is still a pickle (CVE-2025-10155).

use crate::formats::{compressed, onnx, pickle, safetensors, zip};
use crate::scan::Ctx;
use crate::source::ByteSource;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Zip,
    Tar,
    SevenZip,
    Numpy,
    Compressed(crate::formats::compressed::Kind),
    Pickle,
    Gguf,
    Safetensors,
    Onnx,
    /// HDF5 (a legacy Keras `.h5` model, or weights/data).
    Hdf5,
    /// A protobuf recognised by its file name (`saved_model.pb`, `keras_metadata.pb`).
    SavedModel(crate::formats::savedmodel::Kind),
    /// A `.json` file holding a serialised Keras model (`model.to_json()`, keras_hub
    /// preset `config.json`): what `model_from_json` / `from_preset` deserialise.
    KerasConfig,
    /// Formats that can carry code and have no scanner in this release yet.
    Unsupported(&'static str),
    /// Formats that hold data only.
    Inert(&'static str),
    GitLfsPointer,
    Unknown,
}

impl Format {
    pub fn label(self) -> &'static str {
        match self {
            Format::Zip => "zip",
            Format::Tar => "tar",
            Format::SevenZip => "7z",
            Format::Numpy => "numpy",
            Format::Compressed(k) => k.label(),
            Format::Pickle => "pickle",
            Format::Gguf => "gguf",
            Format::Safetensors => "safetensors",
            Format::Onnx => "onnx",
            Format::Hdf5 => "hdf5",
            Format::SavedModel(k) => k.label(),
            Format::KerasConfig => "keras-config",
            Format::Unsupported(l) | Format::Inert(l) => l,
            Format::GitLfsPointer => "git-lfs-pointer",
            Format::Unknown => "unknown",
        }
    }
}

const HEAD: usize = 512;

pub fn sniff(src: &dyn ByteSource, ctx: &Ctx) -> Format {
    let mut head = [0u8; HEAD];
    let n = read_head(src, &mut head);
    let h = &head[..n];
    if n == 0 {
        return Format::Unknown;
    }
    if h.starts_with(b"PK\x03\x04") || h.starts_with(b"PK\x05\x06") {
        return Format::Zip;
    }
    if h.starts_with(b"version https://git-lfs.github.com/spec/") {
        return Format::GitLfsPointer;
    }
    if let Some(f) = magic(h) {
        return f;
    }
    // A zip with data in front of it (or a pickle/zip polyglot): the zip reader scans the
    // prefix as content of its own.
    if zip::find_eocd(src).is_some() {
        return Format::Zip;
    }
    // HDF5 after a user block (any bytes, 512·2^k long): h5py and Keras open it.
    if crate::formats::hdf5::find_superblock(src).is_some() {
        return Format::Hdf5;
    }
    if pickle::probe(src, 0, ctx) {
        return Format::Pickle;
    }
    if safetensors::looks_like(h) {
        return Format::Safetensors;
    }
    // ONNX has no magic: the whole file must walk as a ModelProto (checked last, after
    // every format that can hide code in a polyglot).
    if onnx::looks_like(src) {
        return Format::Onnx;
    }
    Format::Unknown
}

/// Formats without magic bytes, recognised by file name when the content matched nothing
/// else, then confirmed by content: protobuf `saved_model.pb` / `keras_metadata.pb` (the
/// scanner then checks that it parses as that message), Keras JSON configs
/// (`model.to_json()` files, keras_hub preset `config.json`), and ONNX (content that matched
/// nothing in a file named `.onnx` is scanned as ONNX, so that a broken or disguised model
/// is reported as `onnx-malformed` instead of skipped). `name` is a file path or a member
/// path. Names never override a format found in the content.
pub fn refine_by_name(src: &dyn ByteSource, format: Format, name: &str) -> Format {
    if format != Format::Unknown {
        return format;
    }
    if let Some(k) = crate::formats::savedmodel::Kind::from_name(name) {
        return Format::SavedModel(k);
    }
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".json") && crate::formats::keras::looks_like_keras_json(src) {
        return Format::KerasConfig;
    }
    if lower.ends_with(".onnx") {
        return Format::Onnx;
    }
    format
}

fn read_head(src: &dyn ByteSource, buf: &mut [u8]) -> usize {
    let mut got = 0;
    while got < buf.len() {
        match src.read_at(got as u64, &mut buf[got..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
    }
    got
}

fn magic(h: &[u8]) -> Option<Format> {
    let table: &[(&[u8], Format)] = &[
        (b"\x93NUMPY", Format::Numpy),
        (crate::formats::hdf5::MAGIC, Format::Hdf5),
        (b"\x1f\x8b", Format::Compressed(compressed::Kind::Gzip)),
        (b"BZh", Format::Compressed(compressed::Kind::Bzip2)),
        (b"\xfd7zXZ\x00", Format::Compressed(compressed::Kind::Xz)),
        // lzma-alone: properties byte 0x5D (lc=3 lp=0 pb=2, what every encoder writes by
        // default), then a 4-byte dictionary size that is a multiple of 64 KiB.
        (
            b"\x5d\x00\x00",
            Format::Compressed(compressed::Kind::LzmaAlone),
        ),
        (
            b"\x28\xb5\x2f\xfd",
            Format::Compressed(compressed::Kind::Zstd),
        ),
        (
            b"\x04\x22\x4d\x18",
            Format::Compressed(compressed::Kind::Lz4),
        ),
        (b"7z\xbc\xaf\x27\x1c", Format::SevenZip),
        (b"GGUF", Format::Gguf),
        (b"ZF\x00", Format::Unsupported("joblib-zlib")),
    ];
    for (m, f) in table {
        if h.starts_with(m) {
            return Some(*f);
        }
    }
    if compressed::is_zlib(h) {
        return Some(Format::Compressed(compressed::Kind::Zlib));
    }
    if h.len() >= 262 && &h[257..262] == b"ustar" {
        return Some(Format::Tar);
    }
    None
}

/// Cheap check on the first bytes of an archive member: could a scanner find anything?
/// (Used before inflating a whole compressed member.)
pub fn might_carry_code(head: &[u8]) -> bool {
    let Some(&first) = head.first() else {
        return false;
    };
    // Zip, pickle protocol 2+, other magic, or a protocol 0/1 opening opcode.
    head.starts_with(b"PK")
        || crate::formats::pickle::is_proto_header(head)
        || magic(head).is_some()
        // An ONNX model as onnx and torch.onnx write it: field 1 (ir_version) first.
        || (first == 0x08 && head.get(1).is_some_and(|v| (1..=15).contains(v)))
        || b"(cdl]})NSVIiLFJKMUTX".contains(&first)
}
