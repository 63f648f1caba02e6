//! Tar archives, read in place: each member is a window of the source, scanned by content
//! (the PyTorch legacy tar format keeps its pickles in members named `pickle`,
//! `storages` and `tensors`). Nothing is extracted.

use crate::finding::{Finding, Location};
use crate::rules::RuleId;
use crate::scan::{self, Ctx};
use crate::source::{ByteSource, SliceSource};

const BLOCK: u64 = 512;

fn octal(field: &[u8]) -> Option<u64> {
    // GNU base-256 for sizes over 8 GiB: high bit set on the first byte.
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        let mut v: u64 = (field[0] & 0x7f) as u64;
        for &b in &field[1..] {
            v = v.checked_mul(256)?.checked_add(b as u64)?;
        }
        return Some(v);
    }
    let s: String = field
        .iter()
        .take_while(|&&b| b != 0 && b != b' ')
        .map(|&b| b as char)
        .collect();
    let s = s.trim();
    if s.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(s, 8).ok()
}

fn checksum_ok(h: &[u8]) -> bool {
    let Some(want) = octal(&h[148..156]) else {
        return false;
    };
    let sum: u64 = h
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                b' ' as u64
            } else {
                b as u64
            }
        })
        .sum();
    sum == want
}

fn cstr(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

/// Scans every member by content; returns the member names read (the caller tells the
/// PyTorch legacy layout by them).
pub fn scan(
    src: &dyn ByteSource,
    ctx: &Ctx,
    loc: &Location,
    out: &mut Vec<Finding>,
) -> Vec<String> {
    let mut names = Vec::new();
    let mut pos = 0u64;
    let mut entries = 0u32;
    let mut long_name: Option<String> = None;
    while pos + BLOCK <= src.len() {
        if ctx.expired() {
            out.push(Finding::new(
                RuleId::ContentNotScanned,
                loc.clone(),
                "time budget exceeded inside a tar archive",
            ));
            return names;
        }
        let Ok(h) = src.read_vec(pos, BLOCK as usize) else {
            break;
        };
        if h.iter().all(|&b| b == 0) {
            break;
        }
        if !checksum_ok(&h) {
            out.push(Finding::new(
                RuleId::ContentNotScanned,
                Location {
                    offset: Some(pos),
                    ..loc.clone()
                },
                "tar header checksum is wrong; the rest of the archive was not scanned",
            ));
            break;
        }
        entries += 1;
        if entries > ctx.limits.max_archive_entries || !ctx.take_entry() {
            out.push(Finding::new(
RuleId::ContentNotScanned,
                loc.clone(),
                format!(
                    "more than {} tar entries in this file, nested archives included (limits.max-archive-entries)",
                    ctx.limits.max_archive_entries
                ),
            ));
            break;
        }
        let size = octal(&h[124..136]).unwrap_or(0);
        let data = pos + BLOCK;
        let typeflag = h[156];
        let mut name = cstr(&h[0..100]);
        if &h[257..262] == b"ustar" {
            let prefix = cstr(&h[345..500]);
            if !prefix.is_empty() {
                name = format!("{prefix}/{name}");
            }
        }
        if let Some(l) = long_name.take() {
            name = l;
        }
        match typeflag {
            b'L' => {
                let n = size.min(4096) as usize;
                long_name = src.read_vec(data, n).ok().map(|b| cstr(&b));
            }
            b'0' | 0 | b'7' if size > 0 => {
                names.push(name.clone());
                let member = SliceSource::new(src, data, size);
                let mloc = loc.member(&name);
                out.extend(scan::scan_source(&member, &ctx.deeper(), &mloc).findings);
            }
            _ => {}
        }
        let Some(next) = size
            .checked_add(BLOCK - 1)
            .map(|s| s / BLOCK * BLOCK)
            .and_then(|s| data.checked_add(s))
        else {
            break;
        };
        pos = next;
    }
    names
}
