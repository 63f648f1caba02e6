//! A tolerant zip reader that reads archives the way PyTorch's (miniz-based) reader and
//! Python's `zipfile` do, and reports every place where a strict reader would disagree.
//!
//! Scanners built on strict zip libraries have been bypassed by archives that loaders
//! accept: a bad CRC (CVE-2025-10156), encryption flag bits on clear data (CVE-2025-1945),
//! local and central names that differ (CVE-2025-1944), bytes before the archive,
//! duplicate names. Here each of those is a medium finding and the content is scanned
//! anyway. Only the central directory, local headers and the members that turn out to be
//! interesting are read; tensor payloads are sniffed by their first bytes only.

use std::collections::HashMap;
use std::io::{self, Read};

use crate::bytes;
use crate::finding::{Finding, Location};
use crate::formats::registry::Outcome;
use crate::rules::RuleId;
use crate::scan::{self, Ctx};
use crate::source::{ByteSource, Cursor, MemSource, SliceSource};

const EOCD_SIG: &[u8; 4] = b"PK\x05\x06";
const EOCD64_LOC_SIG: &[u8; 4] = b"PK\x06\x07";
const EOCD64_SIG: &[u8; 4] = b"PK\x06\x06";
const CDH_SIG: &[u8; 4] = b"PK\x01\x02";
const LFH_SIG: &[u8; 4] = b"PK\x03\x04";
/// Largest central directory read into memory.
const MAX_CD_SIZE: u64 = 256 << 20;
/// Bytes of a member read to decide what it is.
const SNIFF_LEN: usize = 4096;

#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    pub flags: u16,
    pub method: u16,
    pub crc: u32,
    pub csize: u64,
    pub usize: u64,
    pub local_offset: u64,
    /// Added to `local_offset` to find the local header: the bytes before the archive in
    /// the view (directory) this entry was read from.
    pub base: u64,
    /// Which reader's view listed it (0: the tolerant reader's, see [`read_views`]).
    pub view: u8,
}

pub struct Archive {
    pub entries: Vec<Entry>,
    /// Bytes before the archive proper (added to every recorded offset).
    pub prefix: u64,
    /// Absolute offset of the first local header: anything before it is not part of the
    /// archive (a prepended payload, or the pickle half of a polyglot).
    pub lead: u64,
    /// Where the (first view's) central directory starts.
    pub cd_start: u64,
}

// Fixed-width fields of records whose length the caller has checked; a field past the
// end of `b` (a caller's bug, never the file's) reads as 0 rather than panicking.
fn u16le(b: &[u8], i: usize) -> u16 {
    bytes::u16_le_at(b, i).unwrap_or(0)
}

fn u32le(b: &[u8], i: usize) -> u32 {
    bytes::u32_le_at(b, i).unwrap_or(0)
}

fn u64le(b: &[u8], i: usize) -> u64 {
    bytes::u64_le_at(b, i).unwrap_or(0)
}

/// How far from the end an end-of-central-directory record can start: its 22 bytes plus
/// a comment of at most 65,535.
pub const EOCD_SEARCH: u64 = 65_535 + 22;

/// Finds the end-of-central-directory record in the last [`EOCD_SEARCH`] bytes.
pub fn find_eocd(src: &dyn ByteSource) -> Option<u64> {
    let len = src.len();
    let tail_len = len.min(EOCD_SEARCH);
    let tail = src.read_vec(len - tail_len, tail_len as usize).ok()?;
    eocd_in(&tail).map(|i| len - tail_len + i as u64)
}

/// The offset in `tail` (the last bytes of a file) of its end-of-central-directory record.
pub fn eocd_in(tail: &[u8]) -> Option<usize> {
    let mut i = tail.len().checked_sub(22)?;
    loop {
        if tail.get(i..i + 4) == Some(EOCD_SIG) {
            let comment = u16le(tail, i + 20) as usize;
            // The comment must fit in the file; a signature inside data usually doesn't.
            if i + 22 + comment <= tail.len() {
                return Some(i);
            }
        }
        if i == 0 {
            return None;
        }
        i -= 1;
    }
}

/// Reads the archive structure as every reader would (see [`read_views`]); structural
/// problems are findings in `out`.
pub fn read_archive(
    src: &dyn ByteSource,
    ctx: &Ctx,
    loc: &Location,
    out: &mut Vec<Finding>,
) -> Option<Archive> {
    read_views(src, ctx, loc, out)
}

/// The archive as a tolerant reader finds it: the last end record whose comment fits
/// the file, the zip64 record the locator names (or the one right before it), and the
/// directory located from the end (differences from the recorded offset are data
/// prepended to the archive).
fn read_tolerant(
    src: &dyn ByteSource,
    tail: &[u8],
    ctx: &Ctx,
    loc: &Location,
    out: &mut Vec<Finding>,
) -> Option<Archive> {
    let malformed = |out: &mut Vec<Finding>, off: Option<u64>, msg: String| {
        out.push(Finding::new(
            RuleId::ZipMalformed,
            Location {
                offset: off,
                ..loc.clone()
            },
            msg,
        ));
    };
    let Some(eocd) = eocd_in(tail).map(|i| src.len() - tail.len() as u64 + i as u64) else {
        malformed(
            out,
            None,
            "no end-of-central-directory record: the archive is truncated or not a zip".into(),
        );
        return None;
    };
    let rec = src.read_vec(eocd, 22).ok()?;
    let mut total = u16le(&rec, 10) as u64;
    let mut cd_size = u32le(&rec, 12) as u64;
    let mut cd_offset = u32le(&rec, 16) as u64;
    let mut cd_end = eocd;
    // Zip64: a locator right before the EOCD points at the zip64 end record, which then
    // holds the real counts (PyTorch always writes one). The directory ends where that
    // record starts.
    if eocd >= 20 {
        if let Ok(locb) = src.read_vec(eocd - 20, 20) {
            if locb.len() == 20 && locb.starts_with(EOCD64_LOC_SIG) {
                let recorded = u64le(&locb, 8);
                // With data prepended, the recorded offset is off by the prefix; the record
                // normally sits right before the locator.
                let candidates = [recorded, (eocd - 20).saturating_sub(56)];
                for z64 in candidates {
                    if let Ok(r) = src.read_vec(z64, 56) {
                        if r.len() == 56 && r.starts_with(EOCD64_SIG) {
                            total = u64le(&r, 32);
                            cd_size = u64le(&r, 40);
                            cd_offset = u64le(&r, 48);
                            cd_end = z64;
                            break;
                        }
                    }
                }
            }
        }
    }
    if cd_size > MAX_CD_SIZE || cd_size > cd_end {
        malformed(
            out,
            Some(eocd),
            format!("central directory size {cd_size} does not fit the archive"),
        );
        return None;
    }
    // Python's zipfile (and tolerant readers) locate the directory from the end and treat
    // any difference from the recorded offset as data prepended to the archive.
    let cd_start = cd_end - cd_size;
    let prefix = cd_start.saturating_sub(cd_offset);
    if cd_start < cd_offset {
        malformed(
            out,
            Some(eocd),
            "central directory offset points past the directory".into(),
        );
        return None;
    }
    let cd = match src.read_vec(cd_start, cd_size as usize) {
        Ok(cd) => cd,
        Err(e) => {
            malformed(
                out,
                Some(cd_start),
                format!("cannot read central directory: {e}"),
            );
            return None;
        }
    };
    let max_entries = ctx.limits.max_archive_entries as u64;
    if total > max_entries {
        out.push(Finding::new(
RuleId::ContentNotScanned,
            loc.clone(),
            format!("archive declares {total} entries; only the first {max_entries} are scanned (limits.max-archive-entries)"),
        ));
    }
    let entries = parse_directory(&cd, cd_start, prefix, 0, max_entries, loc, out);
    if entries.len() as u64 != total.min(max_entries) {
        malformed(
            out,
            Some(eocd),
            format!(
                "end record declares {total} entries, central directory holds {}",
                entries.len()
            ),
        );
    }
    // Data before the archive: either the recorded offsets are all shifted (the directory
    // is found `prefix` bytes later than recorded), or the offsets were rewritten and the
    // first member simply starts late. Both are what tolerant readers accept.
    let lead = entries
        .iter()
        .map(|e| e.local_offset.saturating_add(prefix))
        .min()
        .unwrap_or(prefix)
        .min(cd_start);
    Some(Archive {
        entries,
        prefix,
        lead,
        cd_start,
    })
}

/// A central directory as one reader locates it.
struct Dir {
    cd_start: u64,
    cd_size: u64,
    /// Added to the recorded local header offsets.
    base: u64,
}

/// torch's reader (`PyTorchFileReader`, miniz `mz_zip_reader_read_central_dir`): the
/// last end-record signature with at least 22 bytes after it, whatever its comment
/// length; the zip64 record at the offset the locator records; the central directory
/// and local headers at their recorded offsets, from the start of the file.
fn miniz_dir(tail: &[u8], len: u64, src: &dyn ByteSource) -> Result<Dir, String> {
    let tail_start = len - tail.len() as u64;
    let i = (0..=tail.len().checked_sub(22).ok_or("no end record")?)
        .rev()
        .find(|&i| tail.get(i..i + 4) == Some(EOCD_SIG))
        .ok_or("no end record")?;
    let eocd = tail_start + i as u64;
    let mut cd_size = u32le(tail, i + 12) as u64;
    let mut cd_offset = u32le(tail, i + 16) as u64;
    if eocd >= 76 {
        let locb = src.read_vec(eocd - 20, 20).map_err(|e| e.to_string())?;
        if locb.len() == 20 && locb.starts_with(EOCD64_LOC_SIG) {
            let z64 = u64le(&locb, 8);
            if z64 > len.saturating_sub(56) {
                return Err("the zip64 locator points past the file".into());
            }
            let r = src.read_vec(z64, 56).map_err(|e| e.to_string())?;
            if r.len() == 56 && r.starts_with(EOCD64_SIG) {
                cd_size = u64le(&r, 40);
                cd_offset = u64le(&r, 48);
            }
        }
    }
    if cd_offset.saturating_add(cd_size) > len || cd_size > MAX_CD_SIZE {
        return Err("the recorded central directory runs past the file".into());
    }
    Ok(Dir {
        cd_start: cd_offset,
        cd_size,
        base: 0,
    })
}

/// Python's `zipfile` (`_EndRecData`, `_EndRecData64`, `_RealGetContents`): an end record
/// with an empty comment at the very end, else the last signature in the last 64 KiB;
/// the zip64 record immediately before the locator (whatever offset the locator
/// records); the directory ends where that record (or the end record) starts, and the
/// difference from the recorded offset shifts every local header offset.
fn zipfile_dir(tail: &[u8], len: u64, src: &dyn ByteSource) -> Result<Dir, String> {
    let tail_start = len - tail.len() as u64;
    let n = tail.len();
    let at_end = n >= 22 && tail.get(n - 22..n - 18) == Some(EOCD_SIG) && tail.ends_with(&[0, 0]);
    let i = if at_end {
        n - 22
    } else {
        let i = tail
            .windows(4)
            .rposition(|w| w == EOCD_SIG)
            .ok_or("no end record")?;
        if i + 22 > n {
            return Err("the end record is truncated".into());
        }
        i
    };
    let eocd = tail_start + i as u64;
    let mut cd_size = u32le(tail, i + 12) as u64;
    let mut cd_offset = u32le(tail, i + 16) as u64;
    let mut location = eocd;
    if eocd >= 20 {
        let locb = src.read_vec(eocd - 20, 20).map_err(|e| e.to_string())?;
        if locb.len() == 20 && locb.starts_with(EOCD64_LOC_SIG) && eocd >= 76 {
            let r = src.read_vec(eocd - 76, 56).map_err(|e| e.to_string())?;
            if r.len() == 56 && r.starts_with(EOCD64_SIG) {
                cd_size = u64le(&r, 40);
                cd_offset = u64le(&r, 48);
                location = eocd - 76;
            }
        }
    }
    let cd_start = location
        .checked_sub(cd_size)
        .ok_or("bad offset for the central directory")?;
    let base = cd_start
        .checked_sub(cd_offset)
        .ok_or("the recorded offsets point past the directory")?;
    if cd_size > MAX_CD_SIZE {
        return Err("the central directory is too large".into());
    }
    Ok(Dir {
        cd_start,
        cd_size,
        base,
    })
}

/// Every view real readers take of the archive: the tolerant reader's (see
/// [`read_tolerant`]), torch's miniz reader's and Python's `zipfile`'s. Where they find
/// different directories, the entries of each are scanned (those at a local header
/// another view already lists once), and a `zip-directory-mismatch` finding says how
/// the readers disagree.
fn read_views(
    src: &dyn ByteSource,
    ctx: &Ctx,
    loc: &Location,
    out: &mut Vec<Finding>,
) -> Option<Archive> {
    let len = src.len();
    let tail_len = len.min(EOCD_SEARCH);
    let tail = src
        .read_vec(len - tail_len, tail_len as usize)
        .unwrap_or_default();
    let mut arc = read_tolerant(src, &tail, ctx, loc, out);
    let max_entries = ctx.limits.max_archive_entries as u64;
    let mut notes: Vec<String> = Vec::new();
    let views: [(&str, Result<Dir, String>); 2] = [
        ("torch's miniz reader", miniz_dir(&tail, len, src)),
        ("Python's zipfile", zipfile_dir(&tail, len, src)),
    ];
    let primary_ok = arc.as_ref().is_some_and(|a| !a.entries.is_empty());
    let first = match &arc {
        Some(a) if primary_ok => format!(
            "the last end record whose comment fits the file gives {} entries from the directory at offset {}",
            a.entries.len(),
            a.cd_start
        ),
        _ => "the last end record whose comment fits the file gives no usable directory".into(),
    };
    for (view, (reader, dir)) in (1u8..).zip(views) {
        let dir = match dir {
            Ok(d) => d,
            Err(why) => {
                if primary_ok {
                    notes.push(format!("{reader} fails ({why})"));
                }
                continue;
            }
        };
        if let Some(a) = &arc {
            if a.cd_start == dir.cd_start && a.prefix == dir.base {
                continue;
            }
        }
        let entries = match src.read_vec(dir.cd_start, dir.cd_size as usize) {
            Ok(cd) => parse_directory(
                &cd,
                dir.cd_start,
                dir.base,
                view,
                max_entries,
                loc,
                &mut Vec::new(),
            ),
            Err(_) => Vec::new(),
        };
        if entries.is_empty() {
            if primary_ok {
                notes.push(format!(
                    "{reader} finds no directory entries at offset {}",
                    dir.cd_start
                ));
            }
            continue;
        }
        notes.push(format!(
            "{reader} reads {} entries from the directory at offset {}",
            entries.len(),
            dir.cd_start
        ));
        match &mut arc {
            Some(a) if !a.entries.is_empty() => {
                let known: std::collections::HashSet<u64> = a
                    .entries
                    .iter()
                    .map(|e| e.local_offset.saturating_add(e.base))
                    .collect();
                a.entries.extend(
                    entries
                        .into_iter()
                        .filter(|e| !known.contains(&e.local_offset.saturating_add(e.base))),
                );
            }
            _ => {
                arc = Some(Archive {
                    entries,
                    prefix: dir.base,
                    lead: u64::MAX,
                    cd_start: dir.cd_start,
                });
            }
        }
    }
    let arc = arc?;
    let arc = Archive {
        lead: arc
            .entries
            .iter()
            .map(|e| e.local_offset.saturating_add(e.base))
            .min()
            .unwrap_or(arc.lead)
            .min(arc.lead)
            .min(arc.cd_start),
        ..arc
    };
    if !notes.is_empty() {
        out.push(Finding::new(
            RuleId::ZipDirectoryMismatch,
            loc.clone(),
            format!(
                "zip readers disagree on the archive's central directory: {first}; {}; the members of every view are scanned",
                notes.join("; ")
            ),
        ));
    }
    if arc.lead > 0 {
        out.push(Finding::new(
            RuleId::ZipPrefixData,
            Location {
                offset: Some(0),
                ..loc.clone()
            },
            format!(
                "{} bytes precede the first archive member (scanned as content of their own)",
                arc.lead
            ),
        ));
    }
    Some(arc)
}

/// The entries of a central directory read at `cd_start`, for a view whose recorded
/// offsets are shifted by `base`.
fn parse_directory(
    cd: &[u8],
    cd_start: u64,
    base: u64,
    view: u8,
    max_entries: u64,
    loc: &Location,
    out: &mut Vec<Finding>,
) -> Vec<Entry> {
    let mut entries = Vec::new();
    let mut i = 0usize;
    while i + 46 <= cd.len() && (entries.len() as u64) < max_entries {
        if cd.get(i..i + 4) != Some(CDH_SIG) {
            out.push(Finding::new(
                RuleId::ZipMalformed,
                Location {
                    offset: Some(cd_start + i as u64),
                    ..loc.clone()
                },
                "bad central directory entry signature",
            ));
            break;
        }
        let flags = u16le(cd, i + 8);
        let method = u16le(cd, i + 10);
        let crc = u32le(cd, i + 16);
        let mut csize = u32le(cd, i + 20) as u64;
        let mut usize_ = u32le(cd, i + 24) as u64;
        let nlen = u16le(cd, i + 28) as usize;
        let elen = u16le(cd, i + 30) as usize;
        let clen = u16le(cd, i + 32) as usize;
        let mut local = u32le(cd, i + 42) as u64;
        let end = i + 46 + nlen + elen + clen;
        if end > cd.len() {
            out.push(Finding::new(
                RuleId::ZipMalformed,
                Location {
                    offset: Some(cd_start + i as u64),
                    ..loc.clone()
                },
                "central directory entry runs past the directory",
            ));
            break;
        }
        let name =
            String::from_utf8_lossy(cd.get(i + 46..i + 46 + nlen).unwrap_or_default()).into_owned();
        // Zip64 extra field: sizes and offset that overflowed 32 bits, in this order.
        let mut e = i + 46 + nlen;
        let eend = e + elen;
        while e + 4 <= eend {
            let id = u16le(cd, e);
            let sz = u16le(cd, e + 2) as usize;
            let body = e + 4;
            if body + sz > eend {
                break;
            }
            if id == 1 {
                let mut p = body;
                if usize_ == 0xFFFF_FFFF && p + 8 <= body + sz {
                    usize_ = u64le(cd, p);
                    p += 8;
                }
                if csize == 0xFFFF_FFFF && p + 8 <= body + sz {
                    csize = u64le(cd, p);
                    p += 8;
                }
                if local == 0xFFFF_FFFF && p + 8 <= body + sz {
                    local = u64le(cd, p);
                }
            }
            e = body + sz;
        }
        entries.push(Entry {
            name,
            flags,
            method,
            crc,
            csize,
            usize: usize_,
            local_offset: local,
            base,
            view,
        });
        i = end;
    }
    entries
}

/// Where a member's data starts, from its local header; reports name mismatches.
fn data_start(
    src: &dyn ByteSource,
    e: &Entry,
    loc: &Location,
    out: &mut Vec<Finding>,
) -> Option<u64> {
    let lh = e.local_offset.checked_add(e.base)?;
    let h = src.read_vec(lh, 30).ok()?;
    if h.len() < 30 || !h.starts_with(LFH_SIG) {
        out.push(Finding::new(
            RuleId::ZipMalformed,
            Location {
                offset: Some(lh),
                ..loc.clone()
            },
            format!(
                "member `{}`: no local header where the central directory points",
                e.name
            ),
        ));
        return None;
    }
    let nlen = u16le(&h, 26) as usize;
    let elen = u16le(&h, 28) as u64;
    let lname = src.read_vec(lh + 30, nlen).ok()?;
    let lname = String::from_utf8_lossy(&lname);
    if lname != e.name {
        out.push(
            Finding::new(
                RuleId::ZipNameMismatch,
                Location {
                    offset: Some(lh),
                    ..loc.clone()
                },
                format!(
                    "local header names the member `{lname}`, the central directory `{}`",
                    e.name
                ),
            )
            .with_evidence(format!("central={:?} local={:?}", e.name, lname)),
        );
    }
    let lflags = u16le(&h, 6);
    if (lflags | e.flags) & 0x61 != 0 {
        out.push(Finding::new(
RuleId::ZipEncryptionFlag,
            Location { offset: Some(lh), ..loc.clone() },
            format!(
                "member `{}` is flagged as encrypted (flags local 0x{lflags:04x}, central 0x{:04x}); loaders that ignore the flag read it, so it is scanned as clear data",
                e.name, e.flags
            ),
        ));
    }
    Some(lh + 30 + nlen as u64 + elen)
}

/// Inflates up to `max` bytes of a deflated member.
fn inflate(src: &dyn ByteSource, start: u64, csize: u64, max: u64) -> io::Result<(Vec<u8>, bool)> {
    let window = SliceSource::new(src, start, csize);
    let mut d = flate2::read::DeflateDecoder::new(Cursor::new(&window));
    let mut out = Vec::new();
    (&mut d).take(max).read_to_end(&mut out)?;
    let more = out.len() as u64 == max && d.read(&mut [0u8; 1])? > 0;
    Ok((out, more))
}

fn crc_of(src: &dyn ByteSource, start: u64, len: u64) -> io::Result<u32> {
    let mut crc = flate2::Crc::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut pos = start;
    let end = start + len;
    while pos < end {
        let n = buf.len().min((end - pos) as usize);
        let chunk = buf.get_mut(..n).unwrap_or_default();
        src.read_exact_at(pos, chunk)?;
        crc.update(chunk);
        pos += n as u64;
    }
    Ok(crc.sum())
}

/// A framework's layout inside a zip (PyTorch checkpoints, Keras archives): the zip reader
/// stays generic and asks each layout what the archive is.
pub struct ZipLayout {
    /// The label of an archive with this layout (`None`: it keeps the zip label).
    pub label: Option<&'static str>,
    /// The framework's loader extracts the archive to disk (TorchServe's `.mar`): member
    /// names that escape the folder are high, not medium.
    pub extracts: bool,
    /// Whether the archive has this layout. A layout that reads a member itself to decide
    /// (the Keras config) scans it there and returns its local header offset as
    /// `consumed`, so the member walk does not scan it twice.
    pub claim: LayoutClaim,
    /// Members the framework never parses (raw tensor storage): sniffed for a pickle header
    /// only, never scanned whole.
    pub raw_member: fn(&str) -> bool,
}

/// How a layout recognises an archive (see [`ZipLayout::claim`]).
pub type LayoutClaim =
    fn(&dyn ByteSource, &Archive, &Ctx, &Location, &mut Vec<Finding>) -> Option<Claimed>;

/// What a layout claim took from the archive.
pub struct Claimed {
    pub consumed: Option<u64>,
}

/// The layouts, in the order that chooses the label.
static LAYOUTS: &[&ZipLayout] = &[
    &crate::formats::torch::ZIP_LAYOUT,
    &crate::formats::keras::archive::ZIP_LAYOUT,
    &crate::formats::torch::MAR_LAYOUT,
    &crate::formats::torch_package::ZIP_LAYOUT,
    &crate::formats::skops::ZIP_LAYOUT,
];

/// A zip at the start of the file.
pub fn detect(p: &crate::sniff::Probe) -> Option<crate::formats::registry::Claim> {
    (p.head.starts_with(b"PK\x03\x04") || p.head.starts_with(b"PK\x05\x06"))
        .then_some(crate::formats::registry::Claim::Content)
}

/// A zip whose end record is found in the tail: data in front of it, or a pickle/zip
/// polyglot (the prefix is then scanned as content of its own).
pub fn detect_by_tail(p: &crate::sniff::Probe) -> Option<crate::formats::registry::Claim> {
    eocd_in(p.tail).map(|_| crate::formats::registry::Claim::Content)
}

/// Scans every member of a zip archive by content.
pub fn scan(src: &dyn ByteSource, ctx: &Ctx, loc: &Location, out: &mut Vec<Finding>) -> Outcome {
    let Some(arc) = read_archive(src, ctx, loc, out) else {
        return Outcome::label("zip");
    };
    let mut label = "zip";
    let mut consumed: Vec<u64> = Vec::new();
    let mut raw: Vec<fn(&str) -> bool> = Vec::new();
    let mut extracts = false;
    for layout in LAYOUTS {
        if let Some(c) = (layout.claim)(src, &arc, ctx, loc, out) {
            if let (Some(l), "zip") = (layout.label, label) {
                label = l;
            }
            extracts |= layout.extracts;
            consumed.extend(c.consumed);
            raw.push(layout.raw_member);
        }
    }
    escape_findings(&arc, extracts, loc, out);
    if arc.lead > 0 {
        // The prefix can be a format of its own (a pickle in front of a zip: a polyglot).
        let pre = SliceSource::new(src, 0, arc.lead);
        let sub = scan::scan_source(&pre, &ctx.deeper(), &loc.member("<data before archive>"));
        out.extend(sub.findings);
    }
    let mut seen: HashMap<(&str, u8), usize> = HashMap::new();
    let mut expanded: u64 = 0;
    for e in &arc.entries {
        if ctx.expired() {
            out.push(Finding::new(
                RuleId::ContentNotScanned,
                loc.clone(),
                "time budget exceeded; remaining archive members were not scanned",
            ));
            break;
        }
        if !ctx.take_entry() {
            out.push(Finding::new(
RuleId::ContentNotScanned,
                loc.clone(),
                format!(
                    "more than {} archive entries in this file, nested archives included; remaining members were not scanned (limits.max-archive-entries)",
                    ctx.limits.max_archive_entries
                ),
            ));
            break;
        }
        // Duplicates within one reader's view (another view listing the same name is
        // reported as zip-directory-mismatch).
        let count = seen.entry((e.name.as_str(), e.view)).or_insert(0);
        *count += 1;
        if *count == 2 {
            out.push(Finding::new(
RuleId::ZipDuplicateEntry,
                loc.member(&e.name),
                format!("more than one member is named `{}`; readers disagree on which wins, so all are scanned", e.name),
            ));
        }
        if e.name.ends_with('/') && e.usize == 0 {
            continue;
        }
        // Already read by a layout (the Keras config: sniffing it again would repeat its
        // findings).
        if consumed.contains(&e.local_offset) {
            continue;
        }
        let mloc = loc.member(&e.name);
        let Some(start) = data_start(src, e, &mloc, out) else {
            continue;
        };
        if start.saturating_add(e.csize) > src.len() {
            out.push(Finding::new(
                RuleId::ZipMalformed,
                mloc.clone(),
                format!("member `{}` runs past the end of the file", e.name),
            ));
            continue;
        }
        match e.method {
            0 => {
                let member = SliceSource::new(src, start, e.csize);
                if raw.iter().any(|is_raw| is_raw(&e.name))
                    && !crate::formats::pickle::proto_header_at(&member, 0)
                {
                    continue;
                }
                let sub = scan::scan_source(&member, &ctx.deeper(), &mloc);
                // The CRC is checked for members whose content was read as code-bearing.
                // Formats scanned from their header alone (numeric arrays, HDF5 weights such
                // as a `.keras` archive's `model.weights.h5`, safetensors, GGUF, ONNX) are
                // never read past it: a CRC pass would read the whole tensor payload.
                let interesting = sub
                    .format
                    .as_deref()
                    .is_some_and(|f| !crate::formats::registry::header_only(f));
                out.extend(sub.findings);
                if interesting {
                    check_crc(src, start, e, &mloc, out);
                }
            }
            8 => {
                if e.usize > ctx.limits.max_member_size
                    || (e.csize > 0 && e.usize / e.csize.max(1) > ctx.limits.max_expansion_ratio)
                {
                    out.push(Finding::new(
RuleId::ContentNotScanned,
                        mloc.clone(),
                        format!(
                            "member `{}` expands from {} to {} bytes, over the limits (max-member-size / max-expansion-ratio)",
                            e.name, e.csize, e.usize
                        ),
                    ));
                    continue;
                }
                let head = match inflate(src, start, e.csize, SNIFF_LEN as u64) {
                    Ok((h, _)) => h,
                    Err(err) => {
                        out.push(Finding::new(
                            RuleId::ContentNotScanned,
                            mloc.clone(),
                            format!("member `{}` could not be inflated: {err}", e.name),
                        ));
                        continue;
                    }
                };
                if !scan::might_carry_code(&head)
                    && crate::formats::savedmodel::Kind::from_name(&e.name).is_none()
                {
                    continue;
                }
                // A numeric .npy member (np.savez_compressed) holds no code: its header,
                // in the first bytes, says so, and the array need not be inflated.
                if crate::formats::numpy::header_says_numeric(&head) {
                    continue;
                }
                let budget = ctx
                    .limits
                    .max_member_size
                    .min(ctx.expand_left.saturating_sub(expanded));
                match inflate(src, start, e.csize, budget) {
                    Ok((data, more)) => {
                        expanded += data.len() as u64;
                        if more {
                            out.push(Finding::new(
RuleId::ContentNotScanned,
                                mloc.clone(),
                                format!("member `{}` expands past the limit of {budget} bytes; only the start was scanned", e.name),
                            ));
                        }
                        let mut crc = flate2::Crc::new();
                        crc.update(&data);
                        if !more && crc.sum() != e.crc {
                            out.push(crc_finding(e, crc.sum(), &mloc));
                        }
                        let mem = MemSource::new(data);
                        let sub = scan::scan_source(&mem, &ctx.inflated(expanded), &mloc);
                        out.extend(sub.findings);
                    }
                    Err(err) => out.push(Finding::new(
                        RuleId::ContentNotScanned,
                        mloc.clone(),
                        format!("member `{}` could not be inflated: {err}", e.name),
                    )),
                }
            }
            m => {
                out.push(Finding::new(
                    RuleId::ContentNotScanned,
                    mloc.clone(),
                    format!(
                        "member `{}` uses compression method {m}, which modelgate cannot read",
                        e.name
                    ),
                ));
            }
        }
    }
    Outcome {
        label,
        prefix_scanned: arc.lead > 0,
    }
}

/// Member names that extraction would write outside its folder ("zip slip"): high when
/// the archive's loader extracts it, medium otherwise.
fn escape_findings(arc: &Archive, extracts: bool, loc: &Location, out: &mut Vec<Finding>) {
    for e in &arc.entries {
        let Some(why) = crate::formats::paths::escape(&e.name) else {
            continue;
        };
        let name = crate::finding::shorten(&e.name, 200);
        let mut f = Finding::new(
            RuleId::ArchivePathEscape,
            Location {
                offset: Some(e.local_offset.saturating_add(e.base)),
                ..loc.clone()
            },
            format!(
                "zip member `{name}` is {why}: extracting the archive writes outside its folder{}",
                if extracts {
                    ", and this archive's loader extracts it"
                } else {
                    ""
                }
            ),
        )
        .with_evidence(name);
        if !extracts {
            f = f.with_severity(crate::finding::Severity::Medium);
        }
        out.push(f);
    }
}

/// Reads a whole member (stored or deflated) of at most `max` bytes; `None` when it
/// cannot be read or is larger.
pub fn read_member(src: &dyn ByteSource, _arc: &Archive, e: &Entry, max: u64) -> Option<Vec<u8>> {
    let start = data_start(src, e, &Location::default(), &mut Vec::new())?;
    if start.saturating_add(e.csize) > src.len() {
        return None;
    }
    match e.method {
        0 if e.csize <= max => src.read_vec(start, e.csize as usize).ok(),
        8 => match inflate(src, start, e.csize, max) {
            Ok((data, false)) => Some(data),
            _ => None,
        },
        _ => None,
    }
}

fn crc_finding(e: &Entry, got: u32, loc: &Location) -> Finding {
    Finding::new(
RuleId::ZipCrcMismatch,
        loc.clone(),
        format!(
            "member `{}` fails its CRC-32 check (recorded 0x{:08x}, actual 0x{got:08x}); PyTorch loads it anyway",
            e.name, e.crc
        ),
    )
}

fn check_crc(src: &dyn ByteSource, start: u64, e: &Entry, loc: &Location, out: &mut Vec<Finding>) {
    if let Ok(got) = crc_of(src, start, e.csize) {
        if got != e.crc {
            out.push(crc_finding(e, got, loc));
        }
    }
}

/// Where a member's (stored) data starts, past its local header; `None` when the local
/// header cannot be read. For readers of stored members (`modelgate convert`).
pub fn member_data_start(src: &dyn ByteSource, _arc: &Archive, e: &Entry) -> Option<u64> {
    data_start(src, e, &Location::default(), &mut Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Severity;
    use crate::limits::Limits;

    /// A stored zip whose one local header holds `data`, listed `k` times in the central
    /// directory under different names.
    fn fan_out(data: &[u8], k: u16) -> Vec<u8> {
        let mut crc = flate2::Crc::new();
        crc.update(data);
        let (crc, len) = (crc.sum(), data.len() as u32);
        let mut z = b"PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00".to_vec();
        z.extend(crc.to_le_bytes());
        z.extend(len.to_le_bytes());
        z.extend(len.to_le_bytes());
        z.extend([1, 0, 0, 0, b'm']);
        z.extend(data);
        let cd_offset = z.len() as u32;
        for i in 0..k {
            let name = format!("m{i}");
            z.extend(b"PK\x01\x02\x14\x00\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00");
            z.extend(crc.to_le_bytes());
            z.extend(len.to_le_bytes());
            z.extend(len.to_le_bytes());
            z.extend((name.len() as u16).to_le_bytes());
            z.extend([0u8; 12]);
            z.extend(0u32.to_le_bytes());
            z.extend(name.as_bytes());
        }
        let cd_size = z.len() as u32 - cd_offset;
        z.extend(b"PK\x05\x06\x00\x00\x00\x00");
        z.extend(k.to_le_bytes());
        z.extend(k.to_le_bytes());
        z.extend(cd_size.to_le_bytes());
        z.extend(cd_offset.to_le_bytes());
        z.extend([0, 0]);
        z
    }

    /// Counts the bytes read through it.
    struct Counting(MemSource, std::sync::atomic::AtomicU64);

    impl ByteSource for Counting {
        fn len(&self) -> u64 {
            self.0.len()
        }
        fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.0.read_at(offset, buf)?;
            self.1
                .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
            Ok(n)
        }
    }

    #[test]
    fn header_only_members_are_not_read_for_their_crc() {
        // A stored safetensors member with 4 MiB of tensor data: its scanner reads the
        // header, and the CRC pass must not read the rest (a `.keras` archive's stored
        // `model.weights.h5` was read whole this way).
        let header = br#"{"w":{"dtype":"F32","shape":[1048576],"data_offsets":[0,4194304]}}"#;
        let mut st = (header.len() as u64).to_le_bytes().to_vec();
        st.extend_from_slice(header);
        st.resize(st.len() + 4 * 1024 * 1024, 0);
        let src = Counting(MemSource::new(fan_out(&st, 1)), Default::default());
        let limits = Limits::default();
        let allow = |_: &str, _: &str| false;
        let mut out = Vec::new();
        scan(
            &src,
            &Ctx::new(&limits, &allow),
            &Location::file("w.zip"),
            &mut out,
        );
        // (`fan_out` names the member differently in its local header.)
        assert!(
            out.iter().all(|f| f.rule == "zip-name-mismatch"),
            "{out:#?}"
        );
        let read = src.1.load(std::sync::atomic::Ordering::Relaxed);
        assert!(read < 256 * 1024, "read {read} bytes of a 4 MiB member");
    }

    #[test]
    fn entries_fanning_out_into_nested_archives_share_one_budget() {
        // 16 entries per level all pointing at the next archive, 5 levels: 16^5 scans of
        // the pickle at the bottom and 2 million findings from 4 KiB before. The file's
        // max-archive-entries now counts every nested archive's entries.
        let mut data = b"cposix\nsystem\n(S'echo hi'\ntR.".to_vec();
        for _ in 0..5 {
            data = fan_out(&data, 16);
        }
        let limits = Limits {
            max_archive_entries: 1000,
            ..Limits::default()
        };
        let allow = |_: &str, _: &str| false;
        let ctx = Ctx::new(&limits, &allow);
        let mut out = Vec::new();
        scan(
            &MemSource::new(data),
            &ctx,
            &Location::file("fan.zip"),
            &mut out,
        );
        assert!(out.len() < 10_000, "{} findings", out.len());
        assert!(out
            .iter()
            .any(|f| f.rule == "pickle-code-execution" && f.severity == Severity::Critical));
        assert!(out
            .iter()
            .any(|f| f.message.contains("nested archives included")));
    }
}
