//! Git LFS pointer texts followed by other content. A pointer is a few `key value` lines
//! (`version` first, then `oid`, then `size`, optional `ext-*` lines before `oid`); Git LFS
//! never writes anything after the `size` line. Bytes after it are a file of their own
//! that some readers load (Python's `zipfile` finds a zip from its end record, so Keras
//! loads a pointer-prefixed `.keras`), while a scanner that stops at "pointer" would skip
//! it: they are scanned as content of their own.

use crate::finding::{Finding, Location};
use crate::rules::RuleId;
use crate::scan::{self, Ctx};
use crate::source::{ByteSource, SliceSource};

/// Longest pointer text considered (real ones are about 130 bytes).
const MAX_POINTER: usize = 1024;

/// Length of the pointer text at the start of `head` (through the newline of its
/// `size` line), if `head` starts with a complete pointer.
pub fn pointer_len(head: &[u8]) -> Option<usize> {
    let head = head.get(..head.len().min(MAX_POINTER))?;
    if !head.starts_with(b"version https://git-lfs.github.com/spec/") {
        return None;
    }
    let mut at = 0;
    while at < head.len() {
        let nl = head.get(at..)?.iter().position(|&b| b == b'\n')?;
        let line = head.get(at..at + nl)?;
        at += nl + 1;
        if let Some(size) = line.strip_prefix(b"size ") {
            return (!size.is_empty() && size.iter().all(u8::is_ascii_digit)).then_some(at);
        }
    }
    None
}

/// Offset where content after a pointer text starts, when there is any besides
/// whitespace.
pub fn trailing_start(src: &dyn ByteSource) -> Option<u64> {
    let mut head = vec![0u8; MAX_POINTER.min(usize::try_from(src.len()).unwrap_or(MAX_POINTER))];
    let n = src.read_at(0, &mut head).ok()?;
    let head = head.get(..n)?;
    let end = pointer_len(head)?;
    let rest = head.get(end..).unwrap_or_default();
    let more = rest.iter().any(|b| !b.is_ascii_whitespace()) || src.len() > n as u64;
    more.then_some(end as u64)
}

/// The finding for a pointer followed by content at `start`.
pub fn trailing_finding(src: &dyn ByteSource, start: u64, loc: &Location) -> Finding {
    Finding::new(
        RuleId::LfsPointerTrailingData,
        Location {
            offset: Some(start),
            ..loc.clone()
        },
        format!(
            "a complete Git LFS pointer text is followed by {} more bytes: Git LFS never writes that; readers that find their content from the end of the file (Python's zipfile, Keras) or skip the text load it, so it is scanned as content of its own",
            src.len().saturating_sub(start)
        ),
    )
}

/// Scans what follows the pointer text of a file that no format claims otherwise.
/// `None` when nothing follows it (a plain pointer).
pub fn scan_after_pointer(src: &dyn ByteSource, ctx: &Ctx, loc: &Location) -> Option<Vec<Finding>> {
    let start = trailing_start(src)?;
    let mut out = vec![trailing_finding(src, start, loc)];
    let rest = SliceSource::new(src, start, src.len() - start);
    let sub = scan::scan_source(&rest, &ctx.deeper(), &loc.member("<after Git LFS pointer>"));
    out.extend(sub.findings);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MemSource;

    const POINTER: &[u8] = b"version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 1048576\n";

    #[test]
    fn a_plain_pointer_has_no_trailing_content() {
        assert_eq!(pointer_len(POINTER), Some(POINTER.len()));
        let mut p = POINTER.to_vec();
        p.extend(b"\n");
        assert_eq!(trailing_start(&MemSource::new(p)), None);
        assert_eq!(
            pointer_len(b"version https://git-lfs.github.com/spec/v1\noid sha256:00\n"),
            None
        );
    }

    #[test]
    fn content_after_a_pointer_is_found() {
        let mut p = POINTER.to_vec();
        p.extend(b"\x80\x02cposix\nsystem\n.");
        assert_eq!(
            trailing_start(&MemSource::new(p)),
            Some(POINTER.len() as u64)
        );
    }
}
