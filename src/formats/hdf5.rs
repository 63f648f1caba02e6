//! A minimal, bounded HDF5 reader: the superblock, the root group's object header and its
//! attribute messages — all that is needed to find the Keras `model_config` a legacy
//! `.h5` model keeps on its root group (CVE-2024-3660: Lambda layers in that config run
//! marshalled bytecode on load). Tensor data is never read.
//!
//! Supported: a user block before the superblock, superblock versions 0–3, object header versions 1 and 2 (with continuation
//! chunks), attribute message versions 1–3, fixed-length strings stored inline and
//! variable-length strings stored in a global heap collection (what h5py writes for a
//! Python `str`). Attributes kept in dense storage (a fractal heap: h5py writes one with
//! `libver="latest"` and more than 8 attributes) are found by searching the heap's direct
//! blocks for the Keras attribute names; a heap that cannot be searched that way
//! (filtered, nested indirect blocks, huge objects) is reported as not read.

use crate::finding::{Finding, Location};
use crate::rules::RuleId;
use crate::scan::Ctx;
use crate::source::ByteSource;

mod refs;

pub const MAGIC: &[u8; 8] = b"\x89HDF\r\n\x1a\n";
/// Most header messages read from one object header, continuation chunks included.
const MAX_MESSAGES: usize = 4096;
/// Most continuation chunks followed for one object header.
const MAX_CHUNKS: usize = 64;
/// Largest object header chunk read.
const MAX_CHUNK: u64 = 16 << 20;
/// Largest attribute value (a Keras config is a few KiB to a few MiB) or global heap
/// collection read.
const MAX_VALUE: u64 = 64 << 20;
/// Most attributes decoded from the root group.
const MAX_ATTRS: usize = 1024;

/// One attribute of the root group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attr {
    pub name: String,
    /// The bytes of a scalar string attribute (fixed- or variable-length); `None` for any
    /// other type or shape.
    pub string: Option<Vec<u8>>,
}

#[derive(Debug, Default)]
pub struct Root {
    pub attrs: Vec<Attr>,
    /// Attributes live in dense storage (a fractal heap) that could not be searched: why.
    pub dense_error: Option<String>,
    /// Attribute messages that could not be decoded.
    pub errors: Vec<String>,
}

type R<T> = Result<T, String>;

struct Reader<'a> {
    src: &'a dyn ByteSource,
    base: u64,
    so: usize,
    sl: usize,
    /// Bytes read so far through this reader, bounded by [`MAX_TOTAL_READ`]: a file of
    /// many objects pointing at large headers cannot make the walk read without end.
    spent: std::cell::Cell<u64>,
}

/// Most bytes read from one file's structures (headers, heaps, B-tree nodes).
const MAX_TOTAL_READ: u64 = 512 << 20;

use crate::bytes::le;

/// A bounds-checked view of a byte slice: a [`Bytes`](crate::bytes::Bytes) cursor with
/// this parser's error messages.
struct Buf<'b> {
    c: crate::bytes::Bytes<'b>,
}

impl<'b> Buf<'b> {
    fn new(b: &'b [u8]) -> Self {
        Buf {
            c: crate::bytes::Bytes::new(b),
        }
    }
    fn take(&mut self, n: usize) -> R<&'b [u8]> {
        self.c.pos().checked_add(n).ok_or("length overflow")?;
        Ok(self.c.take(n).map_err(|_| "structure truncated")?)
    }
    fn u(&mut self, n: usize) -> R<u64> {
        Ok(le(self.take(n)?))
    }
    fn rest(&self) -> &'b [u8] {
        self.c.rest()
    }
}

impl Reader<'_> {
    fn read(&self, addr: u64, len: u64) -> R<Vec<u8>> {
        let abs = self.base.checked_add(addr).ok_or("address overflow")?;
        let spent = self.spent.get().saturating_add(len);
        if spent > MAX_TOTAL_READ {
            return Err(format!(
                "more than {MAX_TOTAL_READ} bytes of HDF5 structures read"
            ));
        }
        self.spent.set(spent);
        if len > MAX_CHUNK.max(MAX_VALUE) || abs.saturating_add(len) > self.src.len() {
            return Err(format!(
                "a structure of {len} bytes at address {addr} lies outside the file"
            ));
        }
        self.src
            .read_vec(abs, len as usize)
            .map_err(|e| format!("read error: {e}"))
    }

    fn undefined(&self, addr: u64) -> bool {
        addr == u64::MAX >> (64 - 8 * self.so as u32)
    }
}

/// Where the superblock is: HDF5 looks for its signature at 0, 512, 1024, 2048, ... (the
/// bytes before it are a "user block" of any content; h5py opens such files, and so does
/// Keras).
pub fn find_superblock(src: &dyn ByteSource) -> Option<u64> {
    let mut off = 0u64;
    let mut sig = [0u8; 8];
    while off.saturating_add(8) <= src.len() {
        if src.read_exact_at(off, &mut sig).is_ok() && &sig == MAGIC {
            return Some(off);
        }
        off = if off == 0 { 512 } else { off.checked_mul(2)? };
    }
    None
}

/// Opens the superblock: the reader and the root group's object header address.
fn open(src: &dyn ByteSource) -> R<(Reader<'_>, u64)> {
    let at = find_superblock(src).ok_or("no HDF5 signature")?;
    let sb = src
        .read_vec(at, 96)
        .map_err(|e| format!("read error: {e}"))?;
    let mut b = Buf::new(&sb);
    b.take(8)?;
    let version = b.u(1)?;
    let (so, sl, base, root_addr) = match version {
        0 | 1 => {
            b.take(4)?; // free-space, root symbol table, reserved, shared header versions
            let so = b.u(1)? as usize;
            let sl = b.u(1)? as usize;
            b.take(1 + 4 + 4)?; // reserved, leaf/internal K, consistency flags
            if version == 1 {
                b.take(4)?;
            }
            check_sizes(so, sl)?;
            let base = b.u(so)?;
            b.take(3 * so)?; // free-space, end-of-file, driver block addresses
            b.take(so)?; // root entry: link name offset
            (so, sl, base, b.u(so)?)
        }
        2 | 3 => {
            let so = b.u(1)? as usize;
            let sl = b.u(1)? as usize;
            b.take(1)?;
            check_sizes(so, sl)?;
            let base = b.u(so)?;
            b.take(2 * so)?; // superblock extension, end-of-file
            (so, sl, base, b.u(so)?)
        }
        v => return Err(format!("superblock version {v} is not supported")),
    };
    // The base address is normally the superblock's own offset; files written with a
    // user block record it, older tools left it 0.
    let base = if base == 0 { at } else { base };
    Ok((
        Reader {
            src,
            base,
            so,
            sl,
            spent: std::cell::Cell::new(0),
        },
        root_addr,
    ))
}

/// The messages of the object header at `addr`, continuation chunks followed (bounded
/// by [`MAX_CHUNKS`] and [`MAX_MESSAGES`]).
fn object_messages(r: &Reader, addr: u64) -> R<Vec<(u16, Vec<u8>)>> {
    let (so, sl) = (r.so, r.sl);
    let mut all = Vec::new();
    let mut chunks = vec![(addr, 0u64, true)];
    let mut followed = 0usize;
    let mut hversion = 0;
    while let Some((addr, len, first)) = chunks.pop() {
        followed += 1;
        if followed > MAX_CHUNKS {
            return Err(format!(
                "more than {MAX_CHUNKS} object header continuation chunks"
            ));
        }
        let msgs: Vec<(u16, Vec<u8>)> = if first {
            let head = r.read(addr, 16.min(r.src.len().saturating_sub(addr)))?;
            if head.starts_with(b"OHDR") {
                hversion = 2;
                v2_chunk0(r, addr)?
            } else if head.first() == Some(&1) {
                hversion = 1;
                let hb = &head;
                if hb.len() < 16 {
                    return Err("object header truncated".into());
                }
                let v1_len =
                    u64::from(crate::bytes::u32_le_at(hb, 8).ok_or("object header truncated")?);
                if v1_len > MAX_CHUNK {
                    return Err(format!("object header of {v1_len} bytes"));
                }
                let data = r.read(addr.saturating_add(16), v1_len)?;
                v1_messages(&data)?
            } else {
                return Err("object header has an unknown version".into());
            }
        } else if hversion == 2 {
            if !(8..=MAX_CHUNK).contains(&len) {
                return Err(format!("continuation chunk of {len} bytes"));
            }
            let data = r.read(addr, len)?;
            let Some(body) = data.strip_prefix(b"OCHK") else {
                return Err("continuation chunk without OCHK signature".into());
            };
            // The chunk ends with a 4-byte checksum.
            let body = body
                .len()
                .checked_sub(4)
                .and_then(|n| body.get(..n))
                .ok_or("structure truncated")?;
            v2_messages(body, false)?
        } else {
            if len > MAX_CHUNK {
                return Err(format!("continuation chunk of {len} bytes"));
            }
            v1_messages(&r.read(addr, len)?)?
        };
        for (ty, body) in msgs {
            if all.len() >= MAX_MESSAGES {
                return Err(format!("more than {MAX_MESSAGES} object header messages"));
            }
            if ty == 0x10 {
                // Continuation: more messages elsewhere.
                let mut mb = Buf::new(&body);
                let a = mb.u(so)?;
                let l = mb.u(sl)?;
                chunks.push((a, l, false));
                continue;
            }
            all.push((ty, body));
        }
    }
    Ok(all)
}

/// Reads the superblock and the root group's attributes.
pub fn read_root(src: &dyn ByteSource) -> R<Root> {
    let (r, root_addr) = open(src)?;
    let so = r.so;
    let mut root = Root::default();
    for (ty, body) in object_messages(&r, root_addr)? {
        match ty {
            // Attribute. One that does not decode does not hide the others.
            0x0C if root.attrs.len() < MAX_ATTRS => match attribute(&r, &body) {
                Ok(a) => root.attrs.push(a),
                Err(e) => root.errors.push(e),
            },
            // Attribute info: dense storage when the fractal heap address is defined.
            0x15 => {
                let mut mb = Buf::new(&body);
                mb.take(1)?;
                let flags = mb.u(1)?;
                if flags & 1 != 0 {
                    mb.take(2)?;
                }
                let heap = mb.u(so)?;
                if !r.undefined(heap) {
                    match dense_attributes(&r, heap) {
                        Ok((found, 0)) => root.attrs.extend(found),
                        Ok((found, huge)) => {
                            root.attrs.extend(found);
                            root.dense_error = Some(format!(
                                "{huge} attribute(s) stored as huge objects, which are not read"
                            ));
                        }
                        Err(e) => root.dense_error = Some(e),
                    }
                }
            }
            _ => {}
        }
    }
    Ok(root)
}

/// Most bytes of fractal heap direct blocks read for dense attributes.
const MAX_DENSE: u64 = 64 << 20;
/// Names of the attributes worth finding in dense storage.
const KERAS_ATTRS: [&[u8]; 2] = [b"model_config\0", b"training_config\0"];

/// Dense attribute storage: attribute messages are objects of a fractal heap. Rather than
/// walking the name-index B-tree, the heap's direct blocks (the root block, or the direct
/// children of a root indirect block) are searched for the Keras attribute names and the
/// message around each hit is decoded like a compact one. Filtered (compressed) heaps and
/// deeper indirect blocks are errors: the caller reports the attributes as not read.
fn dense_attributes(r: &Reader, heap: u64) -> R<(Vec<Attr>, u64)> {
    let (so, sl) = (r.so, r.sl);
    let h = r.read(heap, (22 + 11 * sl + 4 * so) as u64)?;
    let mut b = Buf::new(&h);
    if b.take(4)? != b"FRHP" {
        return Err("no fractal heap header".into());
    }
    b.take(1 + 2)?; // version, heap ID length
    if b.u(2)? != 0 {
        return Err("filtered fractal heap".into());
    }
    let flags = b.u(1)?;
    b.take(4 + sl)?; // max managed object size, next huge id
    b.take(so + sl + so)?; // huge B-tree, free space, free-space manager
    b.take(5 * sl)?; // managed space, allocated, iterator, #managed, huge size
    let huge = b.u(sl)?;
    b.take(2 * sl)?; // tiny size, #tiny
    let width = b.u(2)?;
    let start = b.u(sl)?;
    let max_direct = b.u(sl)?;
    let heap_bits = b.u(2)?;
    b.take(2)?; // starting rows
    let root = b.u(so)?;
    let rows = b.u(2)?;
    let off_len = heap_bits.div_ceil(8) as usize;
    // A direct block: signature, version, heap address, block offset, [checksum].
    let direct_header = 4 + 1 + so + off_len + if flags & 2 != 0 { 4 } else { 0 };
    let mut blocks: Vec<(u64, u64)> = Vec::new();
    if rows == 0 {
        blocks.push((root, start));
    } else {
        if width > 1024 || rows > 64 {
            return Err("fractal heap too wide".into());
        }
        let ib = r.read(
            root,
            (4 + 1 + so + off_len) as u64 + rows * width * so as u64,
        )?;
        let mut ib = Buf::new(&ib);
        if ib.take(4)? != b"FHIB" {
            return Err("no fractal heap indirect block".into());
        }
        ib.take(1 + so + off_len)?;
        for row in 0..rows {
            let size = if row < 2 {
                start
            } else {
                start
                    .checked_shl((row - 1) as u32)
                    .ok_or("block size overflow")?
            };
            for _ in 0..width {
                let addr = ib.u(so)?;
                if size > max_direct {
                    return Err("nested fractal heap indirect blocks".into());
                }
                if !r.undefined(addr) {
                    blocks.push((addr, size));
                }
            }
        }
    }
    let mut out = Vec::new();
    let mut total = 0u64;
    for (addr, size) in blocks {
        total = total.saturating_add(size);
        if total > MAX_DENSE {
            return Err("dense attribute storage too large".into());
        }
        let block = r.read(addr, size)?;
        if !block.starts_with(b"FHDB") {
            return Err("no fractal heap direct block".into());
        }
        let data = block.get(direct_header..).unwrap_or_default();
        for name in KERAS_ATTRS {
            let mut from = 0;
            while let Some(i) = data
                .get(from..)
                .and_then(|d| find(d, name))
                .map(|i| i + from)
            {
                from = i + 1;
                // Message header before the name: v3 has 9 bytes, v2 has 8.
                for (back, version) in [(9, 3u8), (8, 2)] {
                    let Some(at) = i.checked_sub(back) else {
                        continue;
                    };
                    let Some(msg) = data.get(at..) else {
                        continue;
                    };
                    if msg.first() != Some(&version) {
                        continue;
                    }
                    if let Ok(a) = attribute(r, msg) {
                        if Some(a.name.as_bytes()) == name.strip_suffix(b"\0") {
                            out.push(a);
                            break;
                        }
                    }
                }
            }
        }
    }
    Ok((out, huge))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn check_sizes(so: usize, sl: usize) -> R<()> {
    if ![2, 4, 8].contains(&so) || ![2, 4, 8].contains(&sl) {
        return Err(format!("unsupported offset/length sizes {so}/{sl}"));
    }
    Ok(())
}

/// Version 1 object header messages: type(2) size(2) flags(1) reserved(3) body.
fn v1_messages(data: &[u8]) -> R<Vec<(u16, Vec<u8>)>> {
    let mut out = Vec::new();
    let mut b = Buf::new(data);
    while b.rest().len() >= 8 {
        let ty = b.u(2)? as u16;
        let size = b.u(2)? as usize;
        b.take(4)?;
        let body = b.take(size)?;
        out.push((ty, body.to_vec()));
    }
    Ok(out)
}

fn v2_chunk0(r: &Reader, addr: u64) -> R<Vec<(u16, Vec<u8>)>> {
    let head = r.read(addr, 32.min(r.src.len().saturating_sub(addr)))?;
    let mut b = Buf::new(&head);
    b.take(4)?;
    if b.u(1)? != 2 {
        return Err("OHDR version is not 2".into());
    }
    let flags = b.u(1)?;
    if flags & 0x20 != 0 {
        b.take(16)?;
    }
    if flags & 0x10 != 0 {
        b.take(4)?;
    }
    let size = b.u(1 << (flags & 3))?;
    if size > MAX_CHUNK {
        return Err(format!("object header chunk of {size} bytes"));
    }
    let start = addr + b.c.pos() as u64;
    let data = r.read(start, size)?;
    v2_messages(&data, flags & 0x04 != 0)
}

/// Version 2 messages: type(1) size(2) flags(1) [creation order(2)] body; a remainder
/// shorter than a message header is a gap.
fn v2_messages(data: &[u8], order: bool) -> R<Vec<(u16, Vec<u8>)>> {
    let hdr = if order { 6 } else { 4 };
    let mut out = Vec::new();
    let mut b = Buf::new(data);
    while b.rest().len() >= hdr {
        let ty = b.u(1)? as u16;
        let size = b.u(2)? as usize;
        b.take(hdr - 3)?;
        let body = b.take(size)?;
        out.push((ty, body.to_vec()));
    }
    Ok(out)
}

/// Decodes an attribute message; strings are resolved, other types keep only the name.
fn attribute(r: &Reader, body: &[u8]) -> R<Attr> {
    let mut b = Buf::new(body);
    let version = b.u(1)?;
    let flags = b.u(1)?;
    let nlen = b.u(2)? as usize;
    let tlen = b.u(2)? as usize;
    let slen = b.u(2)? as usize;
    let pad = |n: usize| if version == 1 { n.div_ceil(8) * 8 } else { n };
    if version == 3 {
        b.take(1)?; // name character set
    }
    if !(1..=3).contains(&version) {
        return Err(format!("attribute message version {version}"));
    }
    let name = b.take(pad(nlen))?;
    let name = name
        .get(..nlen)
        .unwrap_or(name)
        .split(|&c| c == 0)
        .next()
        .unwrap_or_default();
    let name = String::from_utf8_lossy(name).into_owned();
    let dtype = b.take(pad(tlen))?;
    let space = b.take(pad(slen))?;
    let data = b.rest();
    // Shared datatype or dataspace: a reference to elsewhere, not a value we decode.
    if version > 1 && flags & 3 != 0 {
        return Ok(Attr { name, string: None });
    }
    let string = match (elements(space, r.sl)?, dtype.first().map(|c| c & 0x0f)) {
        (1, Some(3)) => {
            let size = le(dtype.get(4..8).ok_or("datatype truncated")?) as usize;
            let v = data.get(..size).ok_or("attribute value truncated")?;
            Some(trim_nul(v).to_vec())
        }
        // Variable-length of type string (bits 0-3 of the class bit field = 1).
        (1, Some(9)) if dtype.get(1).is_some_and(|c| c & 0x0f == 1) => {
            let mut vb = Buf::new(data);
            let len = vb.u(4)?;
            let coll = vb.u(r.so)?;
            let index = vb.u(4)?;
            Some(global_heap_object(r, coll, index, len)?)
        }
        _ => None,
    };
    Ok(Attr { name, string })
}

fn trim_nul(v: &[u8]) -> &[u8] {
    let mut v = v;
    while let [rest @ .., 0] = v {
        v = rest;
    }
    v
}

/// Number of elements a dataspace message describes (scalar = 1, null = 0).
fn elements(space: &[u8], sl: usize) -> R<u64> {
    let mut b = Buf::new(space);
    let version = b.u(1)?;
    let rank = b.u(1)? as usize;
    let _flags = b.u(1)?;
    let null = match version {
        1 => {
            b.take(5)?;
            false
        }
        2 => b.u(1)? == 2,
        v => return Err(format!("dataspace version {v}")),
    };
    if null {
        return Ok(0);
    }
    let mut n = 1u64;
    for _ in 0..rank.min(32) {
        n = n.saturating_mul(b.u(sl)?);
    }
    Ok(n)
}

/// Reads object `index` of the global heap collection at `coll` (variable-length data).
fn global_heap_object(r: &Reader, coll: u64, index: u64, want: u64) -> R<Vec<u8>> {
    let head = r.read(coll, 8 + r.sl as u64)?;
    if !head.starts_with(b"GCOL") {
        return Err("variable-length string points at no global heap collection".into());
    }
    let size = le(head.get(8..8 + r.sl).ok_or("structure truncated")?);
    if size > MAX_VALUE {
        return Err(format!("global heap collection of {size} bytes"));
    }
    let data = r.read(coll, size)?;
    let mut b = Buf::new(&data);
    b.take(8 + r.sl)?;
    while b.rest().len() >= 8 + r.sl {
        let idx = b.u(2)?;
        b.take(6)?;
        let osize = b.u(r.sl)?;
        if idx == 0 {
            break;
        }
        let padded = osize.checked_next_multiple_of(8).ok_or("size overflow")?;
        if idx == index {
            let obj = b.take(osize as usize)?;
            let n = want.min(osize) as usize;
            return Ok(obj.get(..n).unwrap_or(obj).to_vec());
        }
        b.take(usize::try_from(padded).map_err(|_| "size overflow")?)?;
    }
    Err(format!("global heap object {index} not found"))
}

/// Scans an HDF5 file: a Keras model's `model_config` / `training_config` go to the Keras
/// config scanner; a plain HDF5 file (weights from `save_weights`, datasets) holds no
/// code. Returns the format label.
pub fn scan(
    src: &dyn ByteSource,
    ctx: &Ctx,
    loc: &Location,
    out: &mut Vec<Finding>,
) -> &'static str {
    // A user block in front of the superblock can be anything (a pickle, a zip): scan it
    // as content of its own.
    if let Some(at) = find_superblock(src).filter(|&a| a > 0) {
        let pre = crate::source::SliceSource::new(src, 0, at);
        let sub = crate::scan::scan_source(&pre, &ctx.deeper(), &loc.member("<user block>"));
        out.extend(sub.findings);
    }
    let root = match read_root(src) {
        Ok(r) => r,
        Err(e) => {
            out.push(Finding::new(
RuleId::ContentNotScanned,
                loc.clone(),
                format!("HDF5 root group attributes could not be read ({e}); a Keras model_config there was not checked"),
            ));
            return "hdf5";
        }
    };
    let mut keras = false;
    for a in &root.attrs {
        if matches!(a.name.as_str(), "model_config" | "training_config") {
            keras = true;
            let Some(v) = &a.string else {
                out.push(Finding::new(
RuleId::KerasMalformed,
                    loc.clone(),
                    format!("root attribute `{}` is not a scalar string, so it was not read; Keras would fail or read it otherwise", a.name),
                ));
                continue;
            };
            crate::formats::keras::scan_config(v, ctx, &loc.member(&format!("@{}", a.name)), out);
        }
    }
    if let Some(e) = root.errors.first() {
        out.push(Finding::new(
RuleId::ContentNotScanned,
            loc.clone(),
            format!(
                "{} root group attribute(s) could not be decoded ({e}); a Keras model_config among them was not checked",
                root.errors.len()
            ),
        ));
    }
    if let Some(e) = &root.dense_error {
        out.push(Finding::new(
RuleId::ContentNotScanned,
            loc.clone(),
            format!("root group attributes are kept in dense storage (a fractal heap) that modelgate could not search ({e}); a Keras model_config there was not checked"),
        ));
    }
    refs::scan(src, ctx, loc, out);
    if keras {
        "keras-h5"
    } else {
        "hdf5"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MemSource;

    /// Superblock v0 with 8-byte offsets and lengths, root object header v1 at 96 holding
    /// one attribute message with `dtype`/`space`/`data`.
    fn file_with_attr(name: &str, dtype: &[u8], space: &[u8], data: &[u8]) -> Vec<u8> {
        let mut f = MAGIC.to_vec();
        f.extend([0, 0, 0, 0, 0, 8, 8, 0, 4, 0, 16, 0, 0, 0, 0, 0]);
        f.extend(0u64.to_le_bytes()); // base
        f.extend(u64::MAX.to_le_bytes()); // free space
        f.extend(0u64.to_le_bytes()); // eof
        f.extend(u64::MAX.to_le_bytes()); // driver
        f.extend(0u64.to_le_bytes()); // link name offset
        f.extend(96u64.to_le_bytes()); // root object header
        f.resize(96, 0);
        let pad = |v: &[u8]| {
            let mut v = v.to_vec();
            v.resize(v.len().div_ceil(8) * 8, 0);
            v
        };
        let mut nm = name.as_bytes().to_vec();
        nm.push(0);
        let mut body = vec![1, 0];
        body.extend((nm.len() as u16).to_le_bytes());
        body.extend((dtype.len() as u16).to_le_bytes());
        body.extend((space.len() as u16).to_le_bytes());
        body.extend(pad(&nm));
        body.extend(pad(dtype));
        body.extend(pad(space));
        body.extend(data);
        let body = pad(&body);
        let mut msgs = 0x0Cu16.to_le_bytes().to_vec();
        msgs.extend((body.len() as u16).to_le_bytes());
        msgs.extend([0; 4]);
        msgs.extend(&body);
        f.extend([1, 0, 1, 0, 1, 0, 0, 0]);
        f.extend((msgs.len() as u32).to_le_bytes());
        f.extend([0; 4]);
        f.extend(msgs);
        f
    }

    #[test]
    fn fixed_length_scalar_string_attribute() {
        let s = b"{\"class_name\": \"Sequential\"}";
        let mut dtype = vec![0x13, 0, 0, 0];
        dtype.extend((s.len() as u32).to_le_bytes());
        let space = [1, 0, 0, 0, 0, 0, 0, 0];
        let f = file_with_attr("model_config", &dtype, &space, s);
        let root = read_root(&MemSource::new(f)).unwrap();
        assert_eq!(root.attrs.len(), 1);
        assert_eq!(root.attrs[0].name, "model_config");
        assert_eq!(root.attrs[0].string.as_deref(), Some(&s[..]));
    }

    #[test]
    fn variable_length_string_through_the_global_heap() {
        let s = b"hello config";
        let mut dtype = vec![0x19, 0x01, 0, 0, 16, 0, 0, 0];
        dtype.extend([0x13, 0, 0, 0, 1, 0, 0, 0]);
        let space = [1, 0, 0, 0, 0, 0, 0, 0];
        // The heap goes at 512.
        let mut data = (s.len() as u32).to_le_bytes().to_vec();
        data.extend(512u64.to_le_bytes());
        data.extend(1u32.to_le_bytes());
        let mut f = file_with_attr("model_config", &dtype, &space, &data);
        f.resize(512, 0);
        let mut heap = b"GCOL\x01\x00\x00\x00".to_vec();
        heap.extend(4096u64.to_le_bytes());
        heap.extend([1, 0, 1, 0, 0, 0, 0, 0]);
        heap.extend((s.len() as u64).to_le_bytes());
        heap.extend(s);
        heap.resize(4096, 0);
        f.extend(heap);
        let root = read_root(&MemSource::new(f)).unwrap();
        assert_eq!(root.attrs[0].string.as_deref(), Some(&s[..]));
    }

    #[test]
    fn superblock_after_a_user_block() {
        let s = b"{}";
        let mut dtype = vec![0x13, 0, 0, 0];
        dtype.extend((s.len() as u32).to_le_bytes());
        let f = file_with_attr("model_config", &dtype, &[1, 0, 0, 0, 0, 0, 0, 0], s);
        // 1024 bytes of anything, then the file (its base address field says 0).
        let mut shifted = b"cposix\nsystem\n(S'echo hi'\ntR.".to_vec();
        shifted.resize(1024, b' ');
        shifted.extend(&f);
        let src = MemSource::new(shifted);
        assert_eq!(find_superblock(&src), Some(1024));
        let root = read_root(&src).unwrap();
        assert_eq!(root.attrs[0].string.as_deref(), Some(&s[..]));
        // The user block is scanned as content: here it is a pickle.
        let limits = crate::limits::Limits::default();
        let allow = |_: &str, _: &str| false;
        let ctx = Ctx::new(&limits, &allow);
        let mut out = Vec::new();
        scan(&src, &ctx, &Location::file("m.h5"), &mut out);
        assert!(
            out.iter().any(|f| f.rule == "pickle-code-execution"),
            "{out:#?}"
        );
    }

    #[test]
    fn hostile_sizes_are_errors_not_allocations() {
        let mut dtype = vec![0x19, 0x01, 0, 0, 16, 0, 0, 0];
        dtype.extend([0x13, 0, 0, 0, 1, 0, 0, 0]);
        let space = [1, 0, 0, 0, 0, 0, 0, 0];
        let mut data = u32::MAX.to_le_bytes().to_vec();
        data.extend(u64::MAX.to_le_bytes());
        data.extend(1u32.to_le_bytes());
        let f = file_with_attr("model_config", &dtype, &space, &data);
        let root = read_root(&MemSource::new(f.clone())).unwrap();
        assert!(root.attrs.is_empty() && root.errors.len() == 1, "{root:?}");
        // Truncations anywhere never panic.
        for n in 0..f.len() {
            let _ = read_root(&MemSource::new(f[..n].to_vec()));
        }
    }
}
