//! Single compressed streams that loaders open transparently: zlib (joblib's default
//! compressor) and gzip (`pandas.read_pickle`, `joblib` with `.gz`). The stream is
//! inflated in memory up to the limits and the result is scanned by content.

use std::io::Read;

use crate::finding::{Finding, Location, Severity};
use crate::scan::{self, Ctx};
use crate::source::{ByteSource, MemSource};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Zlib,
    Gzip,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Zlib => "zlib",
            Kind::Gzip => "gzip",
        }
    }
}

/// zlib: CMF 0x78 (deflate, 32 KiB window) and a header checksum that is a multiple of 31.
pub fn is_zlib(h: &[u8]) -> bool {
    h.len() >= 2 && h[0] == 0x78 && (u16::from(h[0]) * 256 + u16::from(h[1])) % 31 == 0
}

struct SrcRead<'a> {
    src: &'a dyn ByteSource,
    pos: u64,
}

impl Read for SrcRead<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.src.read_at(self.pos, buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

pub fn scan(src: &dyn ByteSource, kind: Kind, ctx: &Ctx, loc: &Location, out: &mut Vec<Finding>) {
    let budget = ctx
        .limits
        .max_member_size
        .min(ctx.limits.max_total_expanded)
        .min(
            src.len()
                .saturating_mul(ctx.limits.max_expansion_ratio)
                .max(1 << 20),
        );
    let reader = SrcRead { src, pos: 0 };
    let mut data = Vec::new();
    let res = match kind {
        Kind::Zlib => flate2::read::ZlibDecoder::new(reader)
            .take(budget + 1)
            .read_to_end(&mut data),
        Kind::Gzip => flate2::read::MultiGzDecoder::new(reader)
            .take(budget + 1)
            .read_to_end(&mut data),
    };
    if let Err(e) = res {
        out.push(Finding::new(
            "content-not-scanned",
            Severity::Medium,
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
            "content-not-scanned",
            Severity::Medium,
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
    let mloc = Location {
        member: Some(match &loc.member {
            Some(m) => format!("{m}!<{}>", kind.label()),
            None => format!("<{}>", kind.label()),
        }),
        ..loc.clone()
    };
    out.extend(scan::scan_source(&inner, &ctx.deeper(), &mloc).findings);
}
