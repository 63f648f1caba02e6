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
    let budget = ctx.limits.max_member_size.min(ctx.expand_left).min(
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
    let inner_ctx = ctx.inflated(inner.len());
    out.extend(scan::scan_source(&inner, &inner_ctx, &mloc).findings);
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::limits::Limits;

    fn gzip(data: &[u8], level: flate2::Compression) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), level);
        e.write_all(data).unwrap();
        e.finish().unwrap()
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
