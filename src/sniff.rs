//! Content → views. Every file is routed by its bytes, never by its name: a pickle named
//! `.bin`, `.txt`, `.safetensors` or nothing is still a pickle (CVE-2025-10155).
//!
//! Every detector of [`FORMATS`] sees every file (the polyglot principle): a file is
//! scanned as every format whose real loader would accept it. The first content claim in
//! registry order is the file's *primary* view and gives its label. A pickle claim beside
//! another one is a second view — `pickle.load` of a tar whose first member name is a
//! pickle program runs that program — and reports only what a pickle load would import or
//! call before failing, so that a valid safetensors whose header length happens to start
//! with `80 03` is not called a malformed pickle. Name claims (formats without magic) are
//! used only when the bytes matched nothing.
//!
//! Detection reads bounded bytes: the head and tail of the file ([`Probe`]), plus what a
//! detector documents (the HDF5 superblock search reads 8 bytes at 512·2^k; a pickle probe
//! reads a window that grows only while the stream stays valid and nothing else claimed
//! the file).

use std::cell::Cell;

use crate::formats::registry::{Claim, FormatSpec, FORMATS};
use crate::formats::zip;
use crate::scan::Ctx;
use crate::source::ByteSource;

/// Bytes of the head every detector sees.
pub const HEAD: u64 = 16 << 10;

/// What detectors look at.
pub struct Probe<'a> {
    pub src: &'a dyn ByteSource,
    /// The first [`HEAD`] bytes (the whole content when it is shorter).
    pub head: &'a [u8],
    /// The last [`zip::EOCD_SEARCH`] bytes (the whole content when it is shorter).
    pub tail: &'a [u8],
    /// The file or member name (a member path for archive members).
    pub name: &'a str,
    pub ctx: &'a Ctx<'a>,
    claimed: Cell<bool>,
}

impl Probe<'_> {
    /// Case-insensitive suffix test on the name.
    pub fn name_ends_with(&self, suffix: &str) -> bool {
        let n = self.name.as_bytes();
        n.len() >= suffix.len()
            && n.get(n.len() - suffix.len()..)
                .is_some_and(|end| end.eq_ignore_ascii_case(suffix.as_bytes()))
    }

    /// Whether a detector earlier in registry order recognised the content: a detector
    /// that would read more to decide (the pickle probe) reads less, since its view would
    /// be a second one.
    pub fn claimed_before(&self) -> bool {
        self.claimed.get()
    }
}

/// How one piece of content is to be scanned.
#[derive(Clone, Copy, Debug, Default)]
pub struct Route {
    /// The view that gives the label; `None` when no format claims the content.
    pub primary: Option<&'static FormatSpec>,
    /// A pickle view beside the primary one.
    pub pickle_view: bool,
    /// The content is also a Git LFS pointer text (reported beside the real content).
    pub lfs_pointer: bool,
}

impl Route {
    /// The route for content of `spec` alone.
    pub fn only(spec: &'static FormatSpec) -> Route {
        Route {
            primary: Some(spec),
            ..Route::default()
        }
    }
}

fn read_into(src: &dyn ByteSource, offset: u64, buf: &mut [u8]) -> usize {
    let mut got = 0;
    while let Some(rest) = buf.get_mut(got..) {
        if rest.is_empty() {
            break;
        }
        match src.read_at(offset + got as u64, rest) {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
    }
    got
}

/// Runs every detector on `src` (named `name`) and decides its views.
pub fn route(src: &dyn ByteSource, name: &str, ctx: &Ctx) -> Route {
    let len = src.len();
    let mut head = vec![0u8; usize::try_from(len.min(HEAD)).unwrap_or(0)];
    let n = read_into(src, 0, &mut head);
    head.truncate(n);
    if head.is_empty() {
        return Route::default();
    }
    let tail_buf;
    let tail: &[u8] = if len <= head.len() as u64 {
        &head
    } else {
        let t = len.min(zip::EOCD_SEARCH);
        let mut buf = vec![0u8; usize::try_from(t).unwrap_or(0)];
        let n = read_into(src, len - t, &mut buf);
        buf.truncate(n);
        tail_buf = buf;
        &tail_buf
    };
    let probe = Probe {
        src,
        head: &head,
        tail,
        name,
        ctx,
        claimed: Cell::new(false),
    };
    let mut route = Route::default();
    let mut by_name: Option<&'static FormatSpec> = None;
    for spec in FORMATS {
        match (spec.detect)(&probe) {
            Some(Claim::Content) => {
                if spec.name == "git-lfs-pointer" {
                    route.lfs_pointer = true;
                } else if spec.name == "pickle" && route.primary.is_some() {
                    route.pickle_view = true;
                } else if route.primary.is_none() {
                    route.primary = Some(spec);
                }
                probe.claimed.set(true);
            }
            Some(Claim::Name) => {
                by_name = by_name.or(Some(spec));
            }
            None => {}
        }
    }
    if route.primary.is_none() && !route.lfs_pointer {
        route.primary = by_name;
    }
    route
}

/// Cheap check on the first bytes of an archive member: could a scanner find anything?
/// (Used before inflating a whole compressed member.)
pub fn might_carry_code(head: &[u8]) -> bool {
    let Some(&first) = head.first() else {
        return false;
    };
    // Zip, other magic, or a pickle (any opcode can start one: it is run, not guessed).
    head.starts_with(b"PK")
        || magic(head)
        // An ONNX model as onnx and torch.onnx write it: field 1 (ir_version) first.
        || (first == 0x08 && head.get(1).is_some_and(|v| (1..=15).contains(v)))
        || crate::formats::pickle::could_be_pickle(head)
}

/// Whether `head` starts with the magic bytes of a format (a format whose detector looks
/// at fixed bytes of the head only).
fn magic(head: &[u8]) -> bool {
    const MAGIC: &[&[u8]] = &[
        b"\x93NUMPY",
        crate::formats::hdf5::MAGIC,
        b"7z\xbc\xaf\x27\x1c",
        b"GGUF",
        b"ZF\x00",
    ];
    MAGIC.iter().any(|m| head.starts_with(m))
        || crate::formats::compressed::Kind::sniff(head).is_some()
        || head.get(257..262) == Some(b"ustar")
}
