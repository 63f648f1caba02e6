//! The pipeline for one input: sniff the content, dispatch to a format scanner, recurse
//! into containers, and account for the file as scanned, skipped or errored.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crate::finding::{Finding, Location};
use crate::formats::registry;
use crate::limits::Limits;
use crate::report::{FileReport, FileStatus, Origin};
use crate::rules::RuleId;
use crate::sniff::{self, Route};
use crate::source::{ByteSource, FileSource};

pub use crate::sniff::might_carry_code;

/// A user-trusted-globals predicate (`allow.globals`).
pub type AllowFn<'a> = dyn Fn(&str, &str) -> bool + Sync + 'a;

/// What every scanner gets: limits, the user's allowlist, the deadline, container depth.
#[derive(Clone)]
pub struct Ctx<'a> {
    pub limits: &'a Limits,
    pub allow: &'a AllowFn<'a>,
    pub deadline: Instant,
    pub depth: u32,
    /// Decompressed bytes still allowed here: `limits.max_total_expanded` less what the
    /// containers around this content have inflated. Without it each level of a nested
    /// gzip/zip bomb got the whole budget again (gigabytes from a file of a few KiB).
    pub expand_left: u64,
    /// Archive entries (zip, tar and 7z members) still to be read in this file, shared by
    /// every nested archive: K entries pointing at one nested archive, nested D deep,
    /// made K^D scans (millions of findings, gigabytes, from a few KiB).
    entries_left: Arc<AtomicU64>,
}

impl<'a> Ctx<'a> {
    pub fn new(limits: &'a Limits, allow: &'a AllowFn<'a>) -> Ctx<'a> {
        Ctx {
            limits,
            allow,
            deadline: Instant::now() + limits.time_budget,
            depth: 0,
            expand_left: limits.max_total_expanded,
            entries_left: Arc::new(AtomicU64::new(limits.max_archive_entries.into())),
        }
    }

    pub fn deeper(&self) -> Ctx<'a> {
        Ctx {
            depth: self.depth + 1,
            ..self.clone()
        }
    }

    /// The context for content inflated from this one, after `inflated` bytes of
    /// decompression were spent on the way to it.
    pub fn inflated(&self, inflated: u64) -> Ctx<'a> {
        Ctx {
            expand_left: self.expand_left.saturating_sub(inflated),
            ..self.deeper()
        }
    }

    /// Takes one entry from the file's `limits.max_archive_entries`; false when none is
    /// left.
    pub fn take_entry(&self) -> bool {
        self.entries_left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
    }

    pub fn expired(&self) -> bool {
        Instant::now() > self.deadline
    }
}

/// The result of scanning some bytes.
#[derive(Debug, Default)]
pub struct Scanned {
    /// `None` when the content is not a format that can carry code.
    pub format: Option<String>,
    pub findings: Vec<Finding>,
}

/// Routes and scans `src`. Recursion through containers goes through here.
pub fn scan_source(src: &dyn ByteSource, ctx: &Ctx, loc: &Location) -> Scanned {
    let mut out = Scanned::default();
    if ctx.depth > ctx.limits.max_archive_depth {
        out.format = Some("nested".into());
        out.findings.push(Finding::new(
            RuleId::ContentNotScanned,
            loc.clone(),
            format!(
                "containers nested deeper than {} levels (limits.max-archive-depth)",
                ctx.limits.max_archive_depth
            ),
        ));
        return out;
    }
    let name = loc.member.as_deref().unwrap_or(&loc.path);
    let route = sniff::route(src, name, ctx);
    let mut out = scan_routed(src, &route, ctx, loc);
    // A member whose name promises another format (`archive.zip!weights.npy` holding a pickle).
    if let Some(member) = &loc.member {
        let name = member.rsplit('!').next().unwrap_or(member);
        out.findings
            .extend(crate::mismatch::check(name, route.primary, loc));
    }
    out
}

/// Scans `src` along `route`: the primary view, then a pickle view beside it.
fn scan_routed(src: &dyn ByteSource, route: &Route, ctx: &Ctx, loc: &Location) -> Scanned {
    let mut out = Scanned::default();
    let Some(spec) = route.primary else {
        // A pointer text with content after it: that content is scanned.
        if route.lfs_pointer {
            if let Some(f) = crate::formats::lfs::scan_after_pointer(src, ctx, loc) {
                out.format = Some("git-lfs-pointer".into());
                out.findings = f;
            }
        }
        return out;
    };
    let outcome = (spec.scan)(src, ctx, loc, &mut out.findings);
    out.format = Some(outcome.label.to_string());
    if route.lfs_pointer {
        out.findings.extend(lfs_pointer_finding(src, ctx, loc));
    }
    if route.pickle_view && !outcome.prefix_scanned {
        // A load reads a pickle from the start of the file whatever else the file is. Only
        // a container's bytes can hold the rest of such a program (a tar member's data);
        // next to a format read from its header alone, a bounded window is enough.
        let window = if spec.bounded_reads {
            crate::formats::pickle::PROBE_WINDOW
        } else {
            src.len()
        };
        crate::formats::pickle::scan_second_view(src, window, ctx, loc, &mut out.findings);
    }
    out
}

fn lfs_pointer_finding(src: &dyn ByteSource, ctx: &Ctx, loc: &Location) -> Vec<Finding> {
    // Content after the pointer (found by another format's reader, e.g. a zip from its
    // end record): the file is not a plain pointer.
    if let Some(start) = crate::formats::lfs::trailing_start(src) {
        return vec![crate::formats::lfs::trailing_finding(src, start, loc)];
    }
    let mut f = Vec::new();
    if let Some(spec) = registry::spec_named("git-lfs-pointer") {
        (spec.scan)(src, ctx, loc, &mut f);
    }
    f
}

/// Scans one local file into a [`FileReport`]. Never fails: errors become the report.
pub fn scan_file(path: &Path, display: &str, limits: &Limits, allow: &AllowFn) -> FileReport {
    let src = match FileSource::open(path) {
        Ok(s) => s,
        Err(e) => {
            return FileReport::errored(
                display,
                RuleId::ContentNotScanned,
                format!("cannot read: {e}"),
                format!("cannot read the file: {e}"),
            )
        }
    };
    scan_bytes(&src, display, limits, allow)
}

/// Scans any source as a top-level file.
pub fn scan_bytes(
    src: &dyn ByteSource,
    display: &str,
    limits: &Limits,
    allow: &AllowFn,
) -> FileReport {
    let loc = Location::file(display);
    let size = src.len();
    let ctx = Ctx::new(limits, allow);
    let route = sniff::route(src, display, &ctx);
    // Formats whose scanners read only a directory or a header (zip checkpoints, GGUF,
    // safetensors, ONNX) are exempt from max-file-size: each of their reads is bounded on
    // its own, and multi-GB files are the norm.
    let bounded = route.primary.is_some_and(|f| f.bounded_reads);
    if size > limits.max_file_size && !bounded {
        return FileReport {
            path: display.to_string(),
            origin: Origin::Local,
            status: FileStatus::Scanned,
            reason: None,
            format: None,
            size,
            findings: vec![Finding::new(
                RuleId::ContentNotScanned,
                loc,
                format!(
                    "file is {size} bytes, over limits.max-file-size ({})",
                    limits.max_file_size
                ),
            )],
        };
    }
    if route.primary.is_none()
        && route.lfs_pointer
        && crate::formats::lfs::trailing_start(src).is_none()
    {
        return FileReport {
            path: display.to_string(),
            origin: Origin::Local,
            status: FileStatus::Skipped,
            reason: Some(
                "Git LFS pointer: content not checked out (use `lfs: true` in actions/checkout)"
                    .into(),
            ),
            format: Some("git-lfs-pointer".into()),
            size,
            findings: lfs_pointer_finding(src, &ctx, &loc),
        };
    }
    let mut s = scan_routed(src, &route, &ctx, &loc);
    s.findings
        .extend(crate::mismatch::check(display, route.primary, &loc));
    cap_findings(&mut s.findings, &loc);
    suggest_conversion(src, display, s.format.as_deref(), limits, &mut s.findings);
    match s.format {
        Some(format) => FileReport {
            path: display.to_string(),
            origin: Origin::Local,
            status: FileStatus::Scanned,
            reason: None,
            format: Some(format),
            size,
            findings: s.findings,
        },
        None => FileReport {
            path: display.to_string(),
            origin: Origin::Local,
            status: FileStatus::Skipped,
            reason: Some(if src.is_empty() {
                "empty file".into()
            } else {
                "content matches no format that can carry code".into()
            }),
            format: None,
            size,
            findings: s.findings,
        },
    }
}

/// Most findings listed for one file: hostile files can make millions of distinct ones
/// (every distinct global name in a pickle is one).
pub const MAX_FINDINGS_PER_FILE: usize = 1000;

/// Keeps the `MAX_FINDINGS_PER_FILE` most severe findings (in their order) and says how
/// many were dropped.
fn cap_findings(findings: &mut Vec<Finding>, loc: &Location) {
    if findings.len() <= MAX_FINDINGS_PER_FILE {
        return;
    }
    let total = findings.len();
    let mut order: Vec<(usize, crate::finding::Severity)> =
        findings.iter().map(|f| f.severity).enumerate().collect();
    // Stable: among equals, the earliest findings stay.
    order.sort_by_key(|&(_, s)| std::cmp::Reverse(s));
    let mut keep = vec![false; total];
    for &(i, _) in order.iter().take(MAX_FINDINGS_PER_FILE) {
        if let Some(k) = keep.get_mut(i) {
            *k = true;
        }
    }
    let mut keep = keep.into_iter();
    findings.retain(|_| keep.next().unwrap_or(false));
    findings.push(Finding::new(
RuleId::FindingsTruncated,
        loc.clone(),
        format!(
            "{total} findings in this file; the {MAX_FINDINGS_PER_FILE} most severe are listed, {} less severe ones are not",
            total - MAX_FINDINGS_PER_FILE
        ),
    ));
}

/// A local pickle checkpoint that `modelgate convert` would convert gets the command as the
/// fix of its `pickle-format` finding (SPEC §9).
fn suggest_conversion(
    src: &dyn ByteSource,
    display: &str,
    format: Option<&str>,
    limits: &Limits,
    findings: &mut [Finding],
) {
    use crate::finding::Severity;
    let Some(format) = format else {
        return;
    };
    if display.contains("://")
        || findings.iter().any(|f| f.severity > Severity::Low)
        || !findings.iter().any(|f| f.rule == RuleId::PickleFormat)
    {
        return;
    }
    // A pickle that imports nothing holds no tensor and no array (each is rebuilt by a
    // global), so a data pickle is not emulated a second time to find that out.
    let imports_nothing = findings.iter().any(|f| {
        f.rule == RuleId::PickleFormat
            && f.evidence.as_deref() == Some(crate::formats::pickle::NO_GLOBALS)
    });
    if imports_nothing || !crate::convert::convertible(src, format, limits) {
        return;
    }
    let stem = display
        .rsplit_once('.')
        .filter(|(stem, _)| !stem.ends_with('/') && !stem.is_empty())
        .map_or(display, |(stem, _)| stem);
    let cmd = format!("modelgate convert {display} {stem}.safetensors");
    for f in findings
        .iter_mut()
        .filter(|f| f.rule == RuleId::PickleFormat)
    {
        f.fix = Some(format!("convert it without loading it: `{cmd}`"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Severity;

    #[test]
    fn findings_are_capped_keeping_the_most_severe() {
        let loc = Location::file("x.pkl");
        let mut f: Vec<Finding> = (0..MAX_FINDINGS_PER_FILE + 500)
            .map(|i| Finding::new(RuleId::PickleUnknownGlobal, loc.clone(), format!("{i}")))
            .collect();
        f.insert(
            1200,
            Finding::new(RuleId::PickleCodeExecution, loc.clone(), "c"),
        );
        cap_findings(&mut f, &loc);
        assert_eq!(f.len(), MAX_FINDINGS_PER_FILE + 1);
        assert!(f.iter().any(|x| x.severity == Severity::Critical));
        let last = f.last().expect("the truncation finding");
        assert_eq!(last.rule, "findings-truncated");
        assert!(
            last.message.starts_with("1501 findings"),
            "{}",
            last.message
        );
        // The earliest medium findings are the ones kept.
        assert_eq!(f[0].message, "0");
        let mut small = vec![Finding::new(RuleId::PickleFormat, loc.clone(), "l")];
        cap_findings(&mut small, &loc);
        assert_eq!(small.len(), 1);
    }
}
