//! Single compressed streams that loaders open transparently: zlib (joblib's default
//! compressor), gzip (`pandas.read_pickle`, `joblib` with `.gz`), bz2, xz and lzma-alone
//! (joblib's `lzma` compressor, pandas `xz`), lz4 frames (joblib `compress='lz4'`) and
//! zstd (pandas `compression='zstd'`). Every decoder is pure Rust. The stream is
//! decompressed in memory up to the limits (never sized from a length the stream
//! declares) and the result is scanned by content.

use std::io::{self, Read};

use crate::finding::{Finding, Location};
use crate::rules::RuleId;
use crate::scan::{self, Ctx};
use crate::source::{ByteSource, Cursor, MemSource};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Zlib,
    Gzip,
    Bzip2,
    Xz,
    /// The legacy `.lzma` ("LZMA alone") container: joblib's `lzma` compressor.
    LzmaAlone,
    /// The lz4 frame format (not raw lz4 blocks).
    Lz4,
    Zstd,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Zlib => "zlib",
            Kind::Gzip => "gzip",
            Kind::Bzip2 => "bz2",
            Kind::Xz => "xz",
            Kind::LzmaAlone => "lzma",
            Kind::Lz4 => "lz4",
            Kind::Zstd => "zstd",
        }
    }
}

impl Kind {
    /// The kind of stream `head` (the first bytes of some content) starts, if any.
    pub fn sniff(head: &[u8]) -> Option<Kind> {
        const MAGIC: &[(&[u8], Kind)] = &[
            (b"\x1f\x8b", Kind::Gzip),
            (b"BZh", Kind::Bzip2),
            (b"\xfd7zXZ\x00", Kind::Xz),
            // lzma-alone: properties byte 0x5D (lc=3 lp=0 pb=2, what every encoder writes by
            // default), then a 4-byte dictionary size that is a multiple of 64 KiB.
            (b"\x5d\x00\x00", Kind::LzmaAlone),
            (b"\x28\xb5\x2f\xfd", Kind::Zstd),
            (b"\x04\x22\x4d\x18", Kind::Lz4),
        ];
        MAGIC
            .iter()
            .find(|(m, _)| head.starts_with(m))
            .map(|(_, k)| *k)
            .or_else(|| is_zlib(head).then_some(Kind::Zlib))
    }
}

/// zlib: CMF 0x78 (deflate, 32 KiB window) and a header checksum that is a multiple of 31.
pub fn is_zlib(h: &[u8]) -> bool {
    matches!(h, [0x78, flg, ..] if (0x78 * 256 + u16::from(*flg)) % 31 == 0)
}

pub fn scan(src: &dyn ByteSource, kind: Kind, ctx: &Ctx, loc: &Location, out: &mut Vec<Finding>) {
    let budget = ctx.limits.max_member_size.min(ctx.expand_left).min(
        src.len()
            .saturating_mul(ctx.limits.max_expansion_ratio)
            .max(1 << 20),
    );
    let mut data = Vec::new();
    if let Err(e) = decompress(src, kind, budget, &mut data) {
        out.push(Finding::new(
            RuleId::ContentNotScanned,
            loc.clone(),
            format!(
                "{} stream could not be decompressed: {e}; what was decompressed is scanned",
                kind.label()
            ),
        ));
    }
    if data.len() as u64 > budget {
        data.truncate(budget as usize);
        out.push(Finding::new(
RuleId::ContentNotScanned,
            loc.clone(),
            format!(
                "{} stream expands past {budget} bytes (limits: max-member-size, max-total-expanded, max-expansion-ratio); only the start was scanned",
                kind.label()
            ),
        ));
    }
    if data.is_empty() {
        return;
    }
    let inner = MemSource::new(data);
    let mloc = loc.member(&format!("<{}>", kind.label()));
    let inner_ctx = ctx.inflated(inner.len());
    out.extend(scan::scan_source(&inner, &inner_ctx, &mloc).findings);
}

/// Decompresses `src` into `data`, stopping after `budget + 1` bytes. On error, `data`
/// holds what was decompressed before it.
fn decompress(src: &dyn ByteSource, kind: Kind, budget: u64, data: &mut Vec<u8>) -> io::Result<()> {
    let reader = Cursor::new(src);
    let cap = budget.saturating_add(1);
    match kind {
        Kind::Zlib => flate2::read::ZlibDecoder::new(reader)
            .take(cap)
            .read_to_end(data)
            .map(drop),
        Kind::Gzip => flate2::read::MultiGzDecoder::new(reader)
            .take(cap)
            .read_to_end(data)
            .map(drop),
        Kind::Bzip2 => bzip2::read::MultiBzDecoder::new(reader)
            .take(cap)
            .read_to_end(data)
            .map(drop),
        Kind::Lz4 => lz4_flex::frame::FrameDecoder::new(reader)
            .take(cap)
            .read_to_end(data)
            .map(drop),
        Kind::Zstd => zstd(reader, cap, data),
        // lzma-rust2 grows its window with the output, whatever dictionary size the
        // header declares.
        Kind::Xz => lzma_rust2::XzReader::new(reader, true)
            .take(cap)
            .read_to_end(data)
            .map(drop),
        Kind::LzmaAlone => lzma_rust2::LzmaReader::new_mem_limit(reader, u32::MAX, None)?
            .take(cap)
            .read_to_end(data)
            .map(drop),
    }
}

/// zstd: one frame after another (skippable frames skipped), each read through
/// `Read::take`. ruzstd reserves the window a frame declares (it refuses more than
/// 100 MiB); frames declaring a window beyond what could be needed here are refused first.
/// ruzstd reads no further than it needs, so `input.pos` is where the next frame starts.
fn zstd(mut input: Cursor, cap: u64, data: &mut Vec<u8>) -> io::Result<()> {
    const SMALL_WINDOW: u64 = 8 << 20;
    let invalid = |m: String| io::Error::new(io::ErrorKind::InvalidData, m);
    while (data.len() as u64) < cap && input.pos < input.src.len() {
        // The longest frame header is 18 bytes.
        let mut head = [0u8; 18];
        let n = input.src.read_at(input.pos, &mut head)?;
        match ruzstd::frame::read_frame_header(head.get(..n).unwrap_or_default()) {
            Err(ruzstd::frame::ReadFrameHeaderError::SkipFrame { length, .. }) => {
                input.pos += 8 + u64::from(length);
                if input.pos > input.src.len() {
                    return Err(invalid("truncated skippable frame".into()));
                }
                continue;
            }
            Ok((frame, _)) => {
                let window = frame
                    .header
                    .window_size()
                    .map_err(|e| invalid(e.to_string()))?;
                if window > cap.max(SMALL_WINDOW) {
                    return Err(invalid(format!(
                        "frame declares a {window}-byte window, more than could be decompressed here"
                    )));
                }
            }
            // Truncated or bad headers: the decoder below reports them.
            Err(_) => {}
        }
        let dec = ruzstd::StreamingDecoder::new(&mut input).map_err(|e| invalid(e.to_string()))?;
        let left = cap - data.len() as u64;
        dec.take(left).read_to_end(data)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::finding::Severity;
    use crate::limits::Limits;

    fn gzip(data: &[u8], level: flate2::Compression) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), level);
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    const PAYLOAD: &[u8] = b"cposix\nsystem\n(S'echo hi'\ntR.";

    const KINDS: [Kind; 7] = [
        Kind::Zlib,
        Kind::Gzip,
        Kind::Bzip2,
        Kind::Xz,
        Kind::LzmaAlone,
        Kind::Lz4,
        Kind::Zstd,
    ];

    // ruzstd 0.7 has no encoder. Made with python-zstandard 0.25.0:
    // zstandard.ZstdCompressor(level=3).compress(PAYLOAD)
    const ZSTD_PAYLOAD: &str =
        "28b52ffd201de9000063706f7369780a73797374656d0a2853276563686f206869270a74522e";
    // zstandard.ZstdCompressor(level=19).compress(bytes(3_000_000)): 109 bytes, 3 MB out.
    const ZSTD_ZEROS: &str = "28b52ffda0c0c62d004c000008000100fcff39100202001000020010000200100002001000020010000200100002001000020010000200100002001000020010000200100002001000020010000200100002001000020010000200100002001000020010000200100003360e00";

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// `data` compressed as `kind` by that crate's own encoder (zstd: `None`).
    fn compress(kind: Kind, data: &[u8]) -> Option<Vec<u8>> {
        Some(match kind {
            Kind::Zlib => {
                let mut e =
                    flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(3));
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
            Kind::Gzip => gzip(data, flate2::Compression::new(3)),
            Kind::Bzip2 => {
                let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
            Kind::Xz => {
                let opts = lzma_rust2::XzOptions::with_preset(3);
                let mut e = lzma_rust2::XzWriter::new(Vec::new(), opts).unwrap();
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
            Kind::LzmaAlone => {
                // Unknown size and an end marker, like Python's lzma.FORMAT_ALONE.
                let opts = lzma_rust2::LzmaOptions::with_preset(3);
                let mut e =
                    lzma_rust2::LzmaWriter::new_use_header(Vec::new(), &opts, None).unwrap();
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
            Kind::Lz4 => {
                // 64 KiB blocks, as python-lz4 (joblib) writes them.
                let info = lz4_flex::frame::FrameInfo::new()
                    .block_size(lz4_flex::frame::BlockSize::Max64KB);
                let mut e = lz4_flex::frame::FrameEncoder::with_frame_info(info, Vec::new());
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
            Kind::Zstd => return None,
        })
    }

    fn scan_file(bytes: Vec<u8>, limits: &Limits) -> scan::Scanned {
        let allow = |_: &str, _: &str| false;
        let ctx = Ctx::new(limits, &allow);
        scan::scan_source(&MemSource::new(bytes), &ctx, &Location::file("f"))
    }

    fn not_decompressed(s: &scan::Scanned) -> bool {
        s.findings.iter().any(|f| {
            f.rule == "content-not-scanned" && f.message.contains("could not be decompressed")
        })
    }

    fn critical_in(s: &scan::Scanned, member: &str) -> bool {
        s.findings.iter().any(|f| {
            f.severity == Severity::Critical && f.location.member.as_deref() == Some(member)
        })
    }

    /// Incompressible bytes (an LCG), so that every format emits several blocks.
    fn noise(n: usize) -> Vec<u8> {
        let mut x: u32 = 12345;
        (0..n)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (x >> 16) as u8
            })
            .collect()
    }

    #[test]
    fn every_kind_is_sniffed_and_its_payload_found() {
        for kind in KINDS {
            let file = compress(kind, PAYLOAD).unwrap_or_else(|| hex(ZSTD_PAYLOAD));
            let s = scan_file(file, &Limits::default());
            assert_eq!(s.format.as_deref(), Some(kind.label()), "{kind:?}");
            let member = format!("<{}>", kind.label());
            assert!(critical_in(&s, &member), "{kind:?}: {:#?}", s.findings);
            assert!(!not_decompressed(&s), "{kind:?}: {:#?}", s.findings);
        }
    }

    #[test]
    fn every_kind_stops_at_the_budget() {
        // 3 MB of zeros in a few hundred bytes (zstd: 109): the ratio limit and the
        // total budget cut it; only the start is kept, and that is a finding.
        let limits = Limits {
            max_total_expanded: 500_000,
            ..Limits::default()
        };
        let zeros = vec![0u8; 3_000_000];
        for kind in KINDS {
            let file = compress(kind, &zeros).unwrap_or_else(|| hex(ZSTD_ZEROS));
            assert!(file.len() < 100_000, "{kind:?}: {}", file.len());
            let s = scan_file(file, &limits);
            assert!(
                s.findings.iter().any(|f| f.rule == "content-not-scanned"
                    && f.message.contains("expands past 500000 bytes")),
                "{kind:?}: {:#?}",
                s.findings
            );
            assert!(!not_decompressed(&s), "{kind:?}: {:#?}", s.findings);
        }
    }

    #[test]
    fn a_broken_stream_keeps_what_was_decompressed() {
        // The payload, then 400 KB that fill several blocks; the stream is cut at 60%.
        let mut data = PAYLOAD.to_vec();
        data.extend(noise(400_000));
        for kind in KINDS {
            let Some(mut file) = compress(kind, &data) else {
                continue;
            };
            file.truncate(file.len() * 6 / 10);
            let s = scan_file(file, &Limits::default());
            assert!(not_decompressed(&s), "{kind:?}: {:#?}", s.findings);
            let member = format!("<{}>", kind.label());
            assert!(critical_in(&s, &member), "{kind:?}: {:#?}", s.findings);
        }
        // zstd: a good frame, then a frame that does not decode.
        let mut file = hex(ZSTD_PAYLOAD);
        file.extend(b"\x28\xb5\x2f\xfd\x00\x48\xff\xff\xff\xff");
        let s = scan_file(file, &Limits::default());
        assert!(not_decompressed(&s), "{:#?}", s.findings);
        assert!(critical_in(&s, "<zstd>"), "{:#?}", s.findings);
    }

    #[test]
    fn zstd_frame_declaring_a_huge_window_is_refused_before_allocating() {
        // Frame header: no single segment, window descriptor exponent 14 (16 MiB), then
        // a raw block. ruzstd would reserve the window up front.
        let file = b"\x28\xb5\x2f\xfd\x00\x70\x01\x00\x00x".to_vec();
        let s = scan_file(file, &Limits::default());
        assert!(
            s.findings.iter().any(|f| f.rule == "content-not-scanned"
                && f.message.contains("declares a 16777216-byte window")),
            "{:#?}",
            s.findings
        );
    }

    #[test]
    fn lzma_alone_ignores_the_declared_sizes() {
        // Header: dictionary 4 GiB - 1 and unpacked size 2^63; the stream itself is empty
        // garbage. Nothing may be allocated from either number.
        let mut file = vec![0x5d, 0x00, 0x00, 0xff, 0xff];
        file.extend([0xff; 7]);
        file.push(0x7f);
        file.extend([0u8; 16]);
        let s = scan_file(file, &Limits::default());
        assert_eq!(s.format.as_deref(), Some("lzma"));
        assert!(not_decompressed(&s), "{:#?}", s.findings);
    }

    #[test]
    fn nested_streams_share_the_total_expansion_budget() {
        // gzip(stored gzip(stored gzip(zeros))): each level inflates to ~600 KB. Each
        // level used to get the whole max-total-expanded again, so nesting multiplied it
        // (a 269-byte file held 2 GB; stored layers add a gigabyte per level).
        let zeros = vec![0u8; 600_000];
        let l2 = gzip(&zeros, flate2::Compression::none());
        let l1 = gzip(&l2, flate2::Compression::none());
        let file = gzip(&l1, flate2::Compression::best());
        let limits = Limits {
            max_total_expanded: 1_000_000,
            ..Limits::default()
        };
        let allow = |_: &str, _: &str| false;
        let ctx = Ctx::new(&limits, &allow);
        let mut out = Vec::new();
        scan(
            &MemSource::new(file),
            Kind::Gzip,
            &ctx,
            &Location::file("bomb.gz"),
            &mut out,
        );
        assert!(
            out.iter()
                .any(|f| f.rule == "content-not-scanned" && f.message.contains("expands past")),
            "{out:#?}"
        );
    }
}
