//! 7z archives (a nullifAI-style wrapper around pickles), read in memory with the pure-Rust
//! `sevenz-rust2` reader (LZMA, LZMA2, copy, BCJ and delta filters; no C code). Nothing is
//! extracted to disk. Every member with data is decoded into memory and scanned by content.
//!
//! Bounds, all checked before anything is decoded or allocated:
//! - entries: `limits.max-archive-entries`;
//! - each member's *declared* size against `max-member-size` and what is left of the
//!   expansion budget (`Ctx::expand_left`, and `max-expansion-ratio` × archive size);
//! - decoder dictionaries and header buffers: the reader's memory limit;
//! - the time budget, between members.
//!
//! Encrypted archives, unsupported coders and corrupt archives are `content-not-scanned`
//! findings naming the reason; a block that fails does not stop the others. The reader is a
//! third-party parser of hostile bytes, so it also runs under `catch_unwind`.

use std::io::Read;
use std::panic::{self, AssertUnwindSafe};

use sevenz_rust2::{Archive, BlockDecoder, Error, Password};

use crate::finding::{Finding, Location};
use crate::rules::RuleId;
use crate::scan::{self, Ctx};
use crate::source::{ByteSource, Cursor, MemSource};

fn not_scanned(loc: &Location, msg: impl Into<String>) -> Finding {
    Finding::new(RuleId::ContentNotScanned, loc.clone(), msg.into())
}

/// Why the reader gave up, in words a user can act on.
fn describe(e: &Error) -> String {
    match e {
        Error::PasswordRequired | Error::MaybeBadPassword(_) => {
            "the 7z archive is encrypted (AES); its content cannot be scanned".into()
        }
        Error::UnsupportedCompressionMethod(m) => {
            format!("the 7z archive uses a coder this build cannot decode ({m})")
        }
        Error::MaxMemLimited { max_kb, actaul_kb } => format!(
            "the 7z archive needs {actaul_kb} KiB of decoder memory, over the limit of {max_kb} KiB (limits.max-member-size)"
        ),
        Error::Unsupported(m) => format!("the 7z archive uses an unsupported feature ({m})"),
        Error::ExternalUnsupported => {
            "the 7z archive keeps its header in an external stream, which is unsupported".into()
        }
        other => format!("the 7z archive is corrupt or truncated: {other}"),
    }
}

pub fn scan(src: &dyn ByteSource, ctx: &Ctx, loc: &Location, out: &mut Vec<Finding>) {
    let mut found = Vec::new();
    let res = panic::catch_unwind(AssertUnwindSafe(|| scan_inner(src, ctx, loc, &mut found)));
    out.append(&mut found);
    if res.is_err() {
        out.push(not_scanned(
            loc,
            "the 7z reader failed on this archive (corrupt or hostile structure); the rest was not scanned",
        ));
    }
}

fn scan_inner(src: &dyn ByteSource, ctx: &Ctx, loc: &Location, out: &mut Vec<Finding>) {
    // Everything this archive may inflate, in total: what the containers around it left,
    // and no more than max-expansion-ratio times its own size (at least 1 MiB, so small
    // archives of small files are not refused).
    let total_budget = ctx.expand_left.min(
        src.len()
            .saturating_mul(ctx.limits.max_expansion_ratio)
            .max(1 << 20),
    );
    // Header buffers and each decoder's dictionary are memory, not output: bounded like
    // any member held in memory. (Writers such as py7zr use a 16 MiB dictionary even for
    // tiny files, so this cannot follow the expansion budget.)
    let mem_kb = (ctx.limits.max_member_size / 1024).max(1024);
    let mem_kb = usize::try_from(mem_kb).unwrap_or(usize::MAX);
    let password = Password::empty();
    let mut cursor = Cursor::new(src);
    let archive = match Archive::read_with_memory_limit(&mut cursor, &password, mem_kb) {
        Ok(a) => a,
        Err(e) => {
            out.push(not_scanned(loc, describe(&e)));
            return;
        }
    };
    let max_entries = ctx.limits.max_archive_entries as usize;
    if archive.files.len() > max_entries {
        out.push(not_scanned(
            loc,
            format!(
                "the 7z archive lists {} entries, more than {} (limits.max-archive-entries); only the first ones were scanned",
                archive.files.len(),
                max_entries
            ),
        ));
    }
    let declared: u64 = archive
        .files
        .iter()
        .fold(0u64, |a, f| a.saturating_add(f.size));
    if declared > total_budget {
        out.push(not_scanned(
            loc,
            format!(
                "the 7z archive declares {declared} unpacked bytes from {} packed, over the expansion budget of {total_budget} bytes (limits: max-expansion-ratio, max-total-expanded); members past the budget were not scanned",
                src.len()
            ),
        ));
    }

    let mut seen = 0usize;
    let mut spent = 0u64;
    let mut stop = false;
    for block in 0..archive.blocks.len() {
        if stop {
            break;
        }
        let mut dec =
            BlockDecoder::new_with_memory_limit(1, mem_kb, block, &archive, &password, &mut cursor);
        dec.set_thread_count(1);
        let mut each = |entry: &sevenz_rust2::ArchiveEntry,
                        reader: &mut dyn Read|
         -> Result<bool, Error> {
            seen += 1;
            if seen > max_entries {
                stop = true;
                return Ok(false);
            }
            // The file's entry budget, shared with nested archives.
            if !ctx.take_entry() {
                out.push(not_scanned(
                    loc,
                    format!(
                        "more than {max_entries} archive entries in this file, nested archives included (limits.max-archive-entries); the rest was not scanned"
                    ),
                ));
                stop = true;
                return Ok(false);
            }
            if ctx.expired() {
                out.push(not_scanned(
                    loc,
                    "time budget exceeded inside a 7z archive; the rest was not scanned",
                ));
                stop = true;
                return Ok(false);
            }
            if entry.is_directory || !entry.has_stream || entry.size == 0 {
                return Ok(true);
            }
            let mloc = loc.member(&entry.name);
            // Check the declared size before allocating or decoding anything.
            let room = ctx
                .limits
                .max_member_size
                .min(total_budget.saturating_sub(spent));
            if entry.size > room {
                out.push(not_scanned(
                    &mloc,
                    format!(
                        "7z member `{}` declares {} bytes, over the {room} bytes left (limits: max-member-size, max-total-expanded, max-expansion-ratio); it and the rest of its block were not scanned",
                        entry.name, entry.size
                    ),
                ));
                return Ok(false);
            }
            // `room` bounds `entry.size`, and `take` bounds what is read whatever the
            // decoder produces.
            let mut data = Vec::with_capacity(entry.size as usize);
            let res = reader.take(entry.size).read_to_end(&mut data);
            spent = spent.saturating_add(data.len() as u64);
            if let Err(e) = &res {
                out.push(not_scanned(
                    &mloc,
                    format!(
                        "7z member `{}` could not be fully decoded ({e}); what was decoded is scanned",
                        entry.name
                    ),
                ));
            }
            if !data.is_empty() {
                let mem = MemSource::new(data);
                out.extend(scan::scan_source(&mem, &ctx.inflated(spent), &mloc).findings);
            }
            match res {
                Ok(_) => Ok(true),
                // The block's stream is broken; later members of it cannot be trusted.
                Err(_) => Ok(false),
            }
        };
        if let Err(e) = dec.for_each_entries(&mut each) {
            out.push(not_scanned(loc, describe(&e)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Limits;

    fn run(bytes: Vec<u8>, limits: &Limits) -> Vec<Finding> {
        let allow = |_: &str, _: &str| false;
        let ctx = Ctx::new(limits, &allow);
        let mut out = Vec::new();
        scan(
            &MemSource::new(bytes),
            &ctx,
            &Location::file("a.7z"),
            &mut out,
        );
        out
    }

    #[test]
    fn truncated_and_garbage_archives_are_findings_not_panics() {
        let mut bytes = b"7z\xbc\xaf\x27\x1c\x00\x04".to_vec();
        for n in [0usize, 4, 20, 200] {
            bytes.extend(std::iter::repeat_n(0xffu8, n));
            let out = run(bytes.clone(), &Limits::default());
            assert!(
                out.iter().any(|f| f.rule == "content-not-scanned"),
                "{out:#?}"
            );
        }
    }

    #[test]
    fn huge_next_header_size_is_refused_without_allocating() {
        // Signature header claiming a 2^60-byte next header right after it.
        let mut start = Vec::new();
        start.extend(0u64.to_le_bytes());
        start.extend((1u64 << 60).to_le_bytes());
        start.extend(0u32.to_le_bytes());
        let crc = crc32(&start);
        let mut bytes = b"7z\xbc\xaf\x27\x1c\x00\x04".to_vec();
        bytes.extend(crc.to_le_bytes());
        bytes.extend(start);
        bytes.extend([0u8; 64]);
        let out = run(bytes, &Limits::default());
        assert!(
            out.iter().any(|f| f.message.contains("corrupt")),
            "{out:#?}"
        );
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in data {
            crc ^= b as u32;
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
}
