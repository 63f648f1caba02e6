//! Structured zip fuzzing: `arbitrary` picks a PyTorch-checkpoint-like archive (members,
//! contents, compression) and then corrupts its header fields — local/central flags,
//! methods, CRCs, sizes, offsets, names, zip64 extras, end records, prepended data — so
//! that the zip reader's deeper paths (inflation, CRC checks, zip64, prefixes, polyglots,
//! nested archives, storages) are reached far more often than with raw byte mutation.
#![no_main]

use std::io::Write;

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use modelgate::limits::Limits;
use modelgate::scan::scan_bytes;
use modelgate::source::MemSource;

/// A torch-like `data.pkl` (protocol 2): an OrderedDict-rebuilt tensor with a persistent
/// storage id. Hand-assembled; see `fuzz/README.md`.
const TORCH_PKL: &[u8] = b"\x80\x02}q\x00(X\x06\x00\x00\x00weightq\x01ctorch._utils\n_rebuild_tensor_v2\nq\x02((X\x07\x00\x00\x00storageq\x03ctorch\nFloatStorage\nq\x04X\x01\x00\x00\x000q\x05X\x03\x00\x00\x00cpuq\x06K\x04tq\x07QK\x00K\x02K\x02\x86q\x08K\x02K\x01\x86q\x09\x89ccollections\nOrderedDict\nq\x0a)Rq\x0btq\x0cRq\x0du.";
/// Protocol 0 `posix.system("echo hi")`.
const EVIL_PKL: &[u8] = b"cposix\nsystem\n(S'echo hi'\ntR.";
/// Protocol 4 with a frame, memoize and STACK_GLOBAL.
const P4_PKL: &[u8] = b"\x80\x04\x95\x1d\x00\x00\x00\x00\x00\x00\x00\x8c\x08builtins\x94\x8c\x04eval\x94\x93\x94\x8c\x011\x94\x85\x94R\x94.";
/// `pickle.loads(b"<EVIL_PKL>")`: a nested pickle.
const NESTED_PKL: &[u8] = b"\x80\x02cpickle\nloads\nC\x1dcposix\nsystem\n(S'echo hi'\ntR.\x85R.";

const TEMPLATES: &[&[u8]] = &[TORCH_PKL, EVIL_PKL, P4_PKL, NESTED_PKL];

#[derive(Arbitrary, Debug)]
enum Content {
    /// One of the templates, optionally with one byte overwritten.
    Pickle { which: u8, patch: Option<(u16, u8)> },
    /// Two templates back to back (legacy torch / multi-pickle streams).
    TwoPickles(u8, u8),
    /// Fuzzer-chosen bytes.
    Raw(Vec<u8>),
    /// Storage bytes, optionally starting like a pickle.
    Storage { pickle_head: bool, len: u8 },
    /// A whole archive inside this one (only one level, built from `Inner`).
    Nested(Box<InnerZip>),
    Version,
}

#[derive(Arbitrary, Debug)]
enum Name {
    DataPkl,
    Version,
    Storage(u8),
    Dir,
    /// Same name as the previous member (duplicate entries).
    SameAsPrevious,
    Custom(String),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Num32 {
    Keep,
    Set(u32),
    Add(i16),
    Max,
}

impl Num32 {
    fn apply(self, v: u32) -> u32 {
        match self {
            Num32::Keep => v,
            Num32::Set(x) => x,
            Num32::Add(d) => v.wrapping_add(d as i32 as u32),
            Num32::Max => u32::MAX,
        }
    }
}

#[derive(Arbitrary, Debug, Default)]
struct Tweaks {
    local_flags: Option<u16>,
    central_flags: Option<u16>,
    central_method: Option<u16>,
    crc: Option<u32>,
    csize: Option<Num32>,
    usize: Option<Num32>,
    local_offset: Option<Num32>,
    local_name: Option<String>,
    /// Zip64 extra field in the central entry: (usize, csize, offset) as u64.
    zip64_extra: Option<(u64, u64, u64)>,
    central_extra: Option<Vec<u8>>,
    local_extra_len: Option<u16>,
    name_len: Option<u16>,
}

#[derive(Arbitrary, Debug)]
struct Member {
    name: Name,
    content: Content,
    deflate: bool,
    tweaks: Option<Tweaks>,
}

#[derive(Arbitrary, Debug, Default)]
struct EndTweaks {
    total: Option<u16>,
    cd_size: Option<Num32>,
    cd_offset: Option<Num32>,
    comment_len: Option<u16>,
    comment: Vec<u8>,
    /// Zip64 end record + locator: (total, cd_size, cd_offset, recorded record offset).
    zip64: Option<(Option<u64>, Option<u64>, Option<u64>, Option<u64>)>,
}

#[derive(Arbitrary, Debug)]
enum Prefix {
    None,
    Pickle(u8),
    Raw(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
struct Spec {
    prefix: Prefix,
    members: Vec<Member>,
    end: EndTweaks,
    /// Final byte-level patches on the built archive: (position, value).
    patches: Vec<(u16, u8)>,
}

#[derive(Arbitrary, Debug)]
struct InnerZip {
    members: Vec<(Name, u8, bool)>,
    end: EndTweaks,
}

fn template(i: u8) -> &'static [u8] {
    TEMPLATES[i as usize % TEMPLATES.len()]
}

fn content_bytes(c: &Content) -> Vec<u8> {
    match c {
        Content::Pickle { which, patch } => {
            let mut v = template(*which).to_vec();
            if let Some((pos, b)) = patch {
                let n = v.len();
                v[*pos as usize % n] = *b;
            }
            v
        }
        Content::TwoPickles(a, b) => [template(*a), template(*b)].concat(),
        Content::Raw(v) => v.clone(),
        Content::Storage { pickle_head, len } => {
            let mut v = vec![0x11u8; *len as usize];
            if *pickle_head && v.len() >= 2 {
                v[0] = 0x80;
                v[1] = 0x02;
            }
            v
        }
        Content::Nested(inner) => {
            let members: Vec<Member> = inner
                .members
                .iter()
                .take(4)
                .map(|(n, t, d)| Member {
                    name: clone_name(n),
                    content: Content::Pickle { which: *t, patch: None },
                    deflate: *d,
                    tweaks: None,
                })
                .collect();
            build(&[], &members, &inner.end, 1)
        }
        Content::Version => b"3\n".to_vec(),
    }
}

fn clone_name(n: &Name) -> Name {
    match n {
        Name::DataPkl => Name::DataPkl,
        Name::Version => Name::Version,
        Name::Storage(i) => Name::Storage(*i),
        Name::Dir => Name::Dir,
        Name::SameAsPrevious => Name::SameAsPrevious,
        Name::Custom(s) => Name::Custom(s.clone()),
    }
}

fn deflate(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn put16(v: &mut Vec<u8>, x: u16) {
    v.extend_from_slice(&x.to_le_bytes());
}
fn put32(v: &mut Vec<u8>, x: u32) {
    v.extend_from_slice(&x.to_le_bytes());
}
fn put64(v: &mut Vec<u8>, x: u64) {
    v.extend_from_slice(&x.to_le_bytes());
}

/// Builds an archive: local headers + data, central directory, optional zip64 end
/// record and locator, end record. `depth` stops nested archives from nesting further.
fn build(prefix: &[u8], members: &[Member], end: &EndTweaks, depth: u32) -> Vec<u8> {
    let mut out = prefix.to_vec();
    let base = out.len();
    let mut central = Vec::new();
    let mut prev_name = String::from("archive/data.pkl");
    let default_tweaks = Tweaks::default();
    for m in members.iter().take(6) {
        let name = match &m.name {
            Name::DataPkl => "archive/data.pkl".to_string(),
            Name::Version => "archive/version".to_string(),
            Name::Storage(i) => format!("archive/data/{i}"),
            Name::Dir => "archive/data/".to_string(),
            Name::SameAsPrevious => prev_name.clone(),
            Name::Custom(s) => s.chars().take(64).collect(),
        };
        prev_name = name.clone();
        let data = match (&m.content, depth) {
            (Content::Nested(_), d) if d > 0 => b"PK\x05\x06".to_vec(),
            (c, _) => content_bytes(c),
        };
        let crc = {
            let mut c = flate2::Crc::new();
            c.update(&data);
            c.sum()
        };
        let (method, stored) = if m.deflate { (8u16, deflate(&data)) } else { (0u16, data.clone()) };
        let t = m.tweaks.as_ref().unwrap_or(&default_tweaks);
        let lflags = t.local_flags.unwrap_or(0);
        let cflags = t.central_flags.unwrap_or(lflags);
        let csize = t.csize.unwrap_or(Num32::Keep).apply(stored.len() as u32);
        let usize_ = t.usize.unwrap_or(Num32::Keep).apply(data.len() as u32);
        let crc = t.crc.unwrap_or(crc);
        let offset = (out.len() - base) as u32;
        let local_offset = t.local_offset.unwrap_or(Num32::Keep).apply(offset);
        let lname = t.local_name.as_deref().map(|s| s.chars().take(64).collect::<String>()).unwrap_or_else(|| name.clone());
        // Local header.
        out.extend_from_slice(b"PK\x03\x04");
        put16(&mut out, 20);
        put16(&mut out, lflags);
        put16(&mut out, method);
        put32(&mut out, 0);
        put32(&mut out, crc);
        put32(&mut out, csize);
        put32(&mut out, usize_);
        put16(&mut out, t.name_len.unwrap_or(lname.len() as u16));
        let lextra = t.local_extra_len.unwrap_or(0);
        put16(&mut out, lextra);
        out.extend_from_slice(lname.as_bytes());
        out.extend(std::iter::repeat_n(0u8, (lextra as usize).min(64)));
        out.extend_from_slice(&stored);
        // Central entry.
        let mut extra = Vec::new();
        if let Some((u, c, o)) = t.zip64_extra {
            put16(&mut extra, 1);
            put16(&mut extra, 24);
            put64(&mut extra, u);
            put64(&mut extra, c);
            put64(&mut extra, o);
        }
        if let Some(e) = &t.central_extra {
            extra.extend(e.iter().take(64));
        }
        let (cs, us, lo) = if t.zip64_extra.is_some() { (u32::MAX, u32::MAX, u32::MAX) } else { (csize, usize_, local_offset) };
        central.extend_from_slice(b"PK\x01\x02");
        put16(&mut central, 20);
        put16(&mut central, 20);
        put16(&mut central, cflags);
        put16(&mut central, t.central_method.unwrap_or(method));
        put32(&mut central, 0);
        put32(&mut central, crc);
        put32(&mut central, cs);
        put32(&mut central, us);
        put16(&mut central, name.len() as u16);
        put16(&mut central, extra.len() as u16);
        put16(&mut central, 0);
        put16(&mut central, 0);
        put16(&mut central, 0);
        put32(&mut central, 0);
        put32(&mut central, lo);
        central.extend_from_slice(name.as_bytes());
        central.extend_from_slice(&extra);
    }
    let n = members.len().min(6) as u16;
    let cd_offset = (out.len() - base) as u32;
    let cd_size = central.len() as u32;
    out.extend_from_slice(&central);
    if let Some((total, size, off, rec)) = end.zip64 {
        let rec_off = (out.len() - base) as u64;
        out.extend_from_slice(b"PK\x06\x06");
        put64(&mut out, 44);
        put16(&mut out, 45);
        put16(&mut out, 45);
        put32(&mut out, 0);
        put32(&mut out, 0);
        put64(&mut out, total.unwrap_or(n as u64));
        put64(&mut out, total.unwrap_or(n as u64));
        put64(&mut out, size.unwrap_or(cd_size as u64));
        put64(&mut out, off.unwrap_or(cd_offset as u64));
        out.extend_from_slice(b"PK\x06\x07");
        put32(&mut out, 0);
        put64(&mut out, rec.unwrap_or(rec_off));
        put32(&mut out, 1);
    }
    out.extend_from_slice(b"PK\x05\x06");
    put16(&mut out, 0);
    put16(&mut out, 0);
    let total = end.total.unwrap_or(n);
    put16(&mut out, total);
    put16(&mut out, total);
    put32(&mut out, end.cd_size.unwrap_or(Num32::Keep).apply(cd_size));
    put32(&mut out, end.cd_offset.unwrap_or(Num32::Keep).apply(cd_offset));
    let comment: Vec<u8> = end.comment.iter().copied().take(256).collect();
    put16(&mut out, end.comment_len.unwrap_or(comment.len() as u16));
    out.extend_from_slice(&comment);
    out
}

fn limits() -> &'static Limits {
    static L: std::sync::OnceLock<Limits> = std::sync::OnceLock::new();
    L.get_or_init(|| Limits {
        max_pickle_opcodes: 200_000,
        max_member_size: 16 << 20,
        max_total_expanded: 64 << 20,
        ..Limits::default()
    })
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(spec) = Spec::arbitrary(&mut u) else {
        return;
    };
    let prefix = match &spec.prefix {
        Prefix::None => Vec::new(),
        Prefix::Pickle(i) => template(*i).to_vec(),
        Prefix::Raw(v) => v.iter().copied().take(512).collect(),
    };
    let mut bytes = build(&prefix, &spec.members, &spec.end, 0);
    if !bytes.is_empty() {
        for (pos, b) in spec.patches.iter().take(8) {
            let n = bytes.len();
            bytes[*pos as usize % n] = *b;
        }
    }
    let allow = |_: &str, _: &str| false;
    let src = MemSource::new(bytes);
    let _ = scan_bytes(&src, "fuzz", limits(), &allow);
});
