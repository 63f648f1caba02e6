//! Pickle streams: run the emulator over every pickle in a row and turn what it saw into
//! findings.

mod compat;
pub mod fold;
mod fx;
pub mod globals;
pub mod machine;
mod table;
pub mod text;

use globals::Tier;
use machine::{Machine, PickleRun, Stop};

use crate::finding::{Finding, Location, Severity};
use crate::formats::registry::{Claim, Outcome};
use crate::rules::RuleId;
use crate::scan::Ctx;
use crate::source::{ByteSource, SliceSource};

/// What scanning a stream of pickles found.
#[derive(Debug, Default)]
pub struct StreamResult {
    pub findings: Vec<Finding>,
    /// Pickles that were read (completed or broken).
    pub pickles: u32,
    /// Distinct globals imported, and how many of those were allowlisted.
    pub globals: usize,
    pub safe_globals: Vec<String>,
    /// joblib's array records were seen: the file was written by `joblib.dump`.
    pub joblib: bool,
    /// A load would import something (a global, or an import computed at load time).
    pub imports: bool,
}

/// Is `s` a dotted Python identifier (what `import` could resolve)?
fn identifier_path(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|p| {
            let mut cs = p.chars();
            cs.next().is_some_and(|c| c.is_alphabetic() || c == '_')
                && cs.all(|c| c.is_alphanumeric() || c == '_')
        })
}

/// `PROTO n` with n in 2..=5: how every binary pickle since Python 2.3 starts.
pub fn is_proto_header(b: &[u8]) -> bool {
    matches!(b, [0x80, 2..=5, ..])
}

/// Whether a `PROTO` header starts at `offset` of `src`.
pub fn proto_header_at(src: &dyn ByteSource, offset: u64) -> bool {
    let mut head = [0u8; 2];
    let n = src.read_at(offset, &mut head).unwrap_or(0);
    is_proto_header(head.get(..n).unwrap_or_default())
}

/// Bytes a pickle probe reads when another format has already recognised the file (its
/// pickle view is then a second view: see `sniff::route`), and at first otherwise.
pub const PROBE_WINDOW: u64 = 16 << 10;
/// When nothing else recognised the file, a probe that ran out of window inside a valid
/// stream (a protocol-0 pickle's first line can be megabytes long) reads on, up to this.
const PROBE_WINDOW_MAX: u64 = 1 << 20;

/// The registry's detector: a protocol header, or a stream the emulator accepts (see
/// [`probe`]).
pub fn detect(p: &crate::sniff::Probe) -> Option<Claim> {
    if is_proto_header(p.head) {
        return Some(Claim::Content);
    }
    let max = if p.claimed_before() {
        PROBE_WINDOW
    } else {
        PROBE_WINDOW_MAX
    };
    probe_within(p.src, 0, p.ctx, max).then_some(Claim::Content)
}

/// The registry's scanner: every pickle in a row from the start.
pub fn scan(src: &dyn ByteSource, ctx: &Ctx, loc: &Location, out: &mut Vec<Finding>) -> Outcome {
    let r = scan_stream(src, 0, ctx, loc);
    out.extend(r.findings);
    Outcome::label(if crate::formats::torch::is_legacy(src, 0) {
        "pytorch-legacy"
    } else if r.joblib {
        "joblib"
    } else {
        "pickle"
    })
}

/// The pickle view of a file that another format's reader also opens (a tar whose first
/// member name is a pickle program: `pickle.load` of the file runs it), read as
/// `pickle.load` reads it (no `persistent_load`: a PERSID stops it; no loader that has one
/// reads a zip or a safetensors file as a pickle). Only what a pickle load would import or
/// call before failing is reported: a stream that imports
/// nothing is a parser's view, not something a load would do. `window` bounds the bytes
/// read. Returns whether anything was reported.
pub fn scan_second_view(
    src: &dyn ByteSource,
    window: u64,
    ctx: &Ctx,
    loc: &Location,
    out: &mut Vec<Finding>,
) -> bool {
    let view = SliceSource::new(src, 0, window);
    let r = scan_stream_as(&view, 0, ctx, loc, false, true);
    if r.imports {
        out.extend(r.findings);
    }
    r.imports
}

/// Whether the bytes at `start` look enough like a pickle to treat them as one: the
/// emulator runs a few thousand opcodes and must reach STOP, run out of probe budget, or
/// import a global with well-formed names before failing.
pub fn probe(src: &dyn ByteSource, start: u64, ctx: &Ctx) -> bool {
    probe_within(src, start, ctx, PROBE_WINDOW_MAX)
}

/// [`probe`], reading at most `max` bytes from `start`: first [`PROBE_WINDOW`], then (while
/// the stream is valid up to the window's end) a window four times larger.
fn probe_within(src: &dyn ByteSource, start: u64, ctx: &Ctx, max: u64) -> bool {
    let mut head = [0u8; 2];
    let n = src.read_at(start, &mut head).unwrap_or(0);
    if n == 0 {
        return false;
    }
    if is_proto_header(head.get(..n).unwrap_or_default()) {
        return true;
    }
    let limits = crate::limits::Limits {
        max_pickle_opcodes: 4096,
        ..ctx.limits.clone()
    };
    let rest = src.len().saturating_sub(start);
    let mut window = PROBE_WINDOW.min(max);
    loop {
        let view = SliceSource::new(src, start, window);
        let run = Machine::new(&view, 0, &limits, &|_, _| false, None).run();
        let cut = window < rest && ran_out(&run, window);
        if !cut {
            return judge(&run, src, start, &limits);
        }
        if window >= max {
            // Valid as far as the probe reads: a load reads on. Imports seen so far, or a
            // long first argument (a protocol-0 STRING line) with nothing wrong before it.
            return true;
        }
        window = (window * 4).min(max);
    }
}

/// The run stopped only because the window ended (not because the stream is bad).
fn ran_out(run: &PickleRun, window: u64) -> bool {
    match &run.error {
        Some((at, Stop::Malformed(m))) => {
            // The emulator's own wording for input that ends early (machine.rs `Input`).
            m.starts_with("pickle data was truncated") && *at < window
        }
        _ => false,
    }
}

fn judge(
    run: &PickleRun,
    src: &dyn ByteSource,
    start: u64,
    limits: &crate::limits::Limits,
) -> bool {
    match &run.error {
        None if run.opcodes < 1 => false,
        None if !run.globals.is_empty() || !run.dynamic.is_empty() => true,
        // Completed without importing anything and without a protocol header. Text files
        // do this by accident (`CacheControl==0.12 ...` is SHORT_BINBYTES, then bytes that
        // happen to be valid opcodes, then a `.` = STOP). A data-only pickle cannot run
        // code, so it only counts when it is the whole file, or when what follows it is a
        // pickle that imports something (a payload for a loader reading several in a row).
        None => match run.end {
            Some(end) => {
                let end = start + end;
                ends_here(src, end) || followed_by_pickle(src, end, limits)
            }
            None => false,
        },
        Some((_, Stop::Limit(_))) => true,
        Some(_) => credible(run),
    }
}

/// Nothing but ASCII whitespace from `end` to the end of the source (a pickle written
/// to a file, perhaps with a trailing newline).
fn ends_here(src: &dyn ByteSource, end: u64) -> bool {
    let mut tail = [0u8; 16];
    let n = src.read_at(end, &mut tail).unwrap_or(0);
    end.saturating_add(n as u64) >= src.len() && tail.iter().take(n).all(u8::is_ascii_whitespace)
}

/// Another pickle starts at `end`: a protocol header, or a run that imports something.
/// Data-only pickles in a row may come first: a loader reading pickle after pickle runs
/// the one that imports, however many come before it (up to `max_pickles_per_stream`).
fn followed_by_pickle(src: &dyn ByteSource, end: u64, limits: &crate::limits::Limits) -> bool {
    let mut at = end;
    for _ in 0..limits.max_pickles_per_stream {
        // Complete pickles up to the end of the file: the whole file is a stream of them.
        if proto_header_at(src, at) || ends_here(src, at) {
            return true;
        }
        let view = SliceSource::new(src, at, PROBE_WINDOW);
        let next = Machine::new(&view, 0, limits, &|_, _| false, None).run();
        if credible(&next) || !next.dynamic.is_empty() {
            return true;
        }
        match (&next.error, next.end) {
            // Another complete data-only pickle: look at what follows it.
            (None, Some(e)) if e > 0 => at += e,
            _ => return false,
        }
    }
    // As many complete pickles in a row as the scanner reads: a loader reads on, and the
    // scan reports the limit rather than skipping the file.
    true
}

/// Whether the first bytes of some content (an archive member before it is inflated
/// whole) could be a pickle a loader runs: a protocol header, or a stream the emulator
/// accepts up to the end of `head` or to a STOP. Any opcode can start a pickle, so this is
/// decided by running it, not by the first byte.
pub fn could_be_pickle(head: &[u8]) -> bool {
    if is_proto_header(head) {
        return true;
    }
    let src = crate::source::MemSource::new(head.to_vec());
    let limits = crate::limits::Limits {
        max_pickle_opcodes: 4096,
        ..crate::limits::Limits::default()
    };
    let run = Machine::new(&src, 0, &limits, &|_, _| false, None).run();
    match &run.error {
        None => run.opcodes > 0,
        Some((_, Stop::Limit(_))) => true,
        Some((_, Stop::Malformed(m))) => {
            credible(&run) || (m.starts_with("pickle data was truncated") && run.opcodes > 1)
        }
        Some(_) => false,
    }
}

/// Scans every pickle from `start` on: loaders (and the PyTorch legacy format) read
/// several pickles in a row, so a payload can sit in a later one. `max_pickles` bounds
/// the count; data after the last pickle that does not parse as one is left alone.
pub fn scan_stream(src: &dyn ByteSource, start: u64, ctx: &Ctx, loc: &Location) -> StreamResult {
    scan_stream_as(src, start, ctx, loc, true, false)
}

/// [`scan_stream`] as a given loader reads: with a `persistent_load` (torch) or without
/// one (`pickle.load`), and with or without the search past a break or past the last
/// pickle for more (`loader_only`: exactly the pickles a loader reading one after another
/// would run, up to the first that fails).
fn scan_stream_as(
    src: &dyn ByteSource,
    start: u64,
    ctx: &Ctx,
    loc: &Location,
    persistent_load: bool,
    loader_only: bool,
) -> StreamResult {
    let mut out = StreamResult::default();
    let mut pos = start;
    let allow = |m: &str, n: &str| (ctx.allow)(m, n);
    let mut safe = std::collections::BTreeSet::new();
    // After a break or after the last pickle, bytes further on may still be pickles that
    // a loader reading pickle after pickle would run: search (within a bounded window)
    // for the next protocol header and keep what is found there if it is credible.
    let legacy = crate::formats::torch::is_legacy(src, start);
    let mut speculative = false;
    let mut resync_budget = RESYNC_ATTEMPTS;
    let mut window_end: Option<u64> = None;
    while out.pickles < ctx.limits.max_pickles_per_stream && pos < src.len() {
        if ctx.expired() {
            break;
        }
        let machine = Machine::new(src, pos, ctx.limits, &allow, Some(ctx.deadline));
        let run = if persistent_load {
            machine.run()
        } else {
            machine.without_persistent_load().run()
        };
        let first = out.pickles == 0;
        let keep = first
            || if speculative {
                credible(&run)
            } else {
                worth_reporting(&run)
            };
        if keep {
            out.pickles += 1;
            out.globals += run.globals.len();
            out.imports |= !run.globals.is_empty() || !run.dynamic.is_empty();
            let mut runs = vec![&run];
            while let Some(r) = runs.pop() {
                runs.extend(r.embedded.iter());
                for g in &r.globals {
                    out.joblib |= g.name == "NumpyArrayWrapper";
                    if g.tier() == Tier::Safe {
                        safe.insert(format!("{}.{}", g.module, g.name));
                    }
                }
            }
            report_run(&run, src, ctx, loc, &mut out.findings);
            if fx::calls_reducer(&run) {
                fx::scan(src, pos, ctx, loc, persistent_load, &mut out.findings);
            }
            if run.straddled {
                stream_view(src, pos, ctx, loc, persistent_load, &mut out.findings);
            }
            if matches!(run.error, Some((_, Stop::Limit(_)))) {
                break;
            }
        }
        if !keep && !speculative && !loader_only && !ends_here(src, pos) {
            // A later pickle in a row that fails before importing anything: a loader
            // reading pickle after pickle stops there, but if it reads what the emulator
            // rejects, what follows runs unseen; never dropped silently.
            if let Some((off, err)) = &run.error {
                let why = match err {
                    Stop::Malformed(m) | Stop::Limit(m) | Stop::Io(m) => m.as_str(),
                };
                out.findings.push(Finding::new(
                    RuleId::PickleTrailingData,
                    at(loc, *off),
                    format!(
                        "the bytes at offset {pos}, after {} complete pickle(s), fail as a pickle before importing anything: {why}; a loader reading pickles in a row stops here (the rest was searched for further pickles)",
                        out.pickles
                    ),
                ));
            }
        }
        match run.end {
            Some(end) if keep && end > pos => {
                pos = end;
                speculative = false;
                // torch.load reads exactly five pickles from a legacy (pre-zip) file and
                // then raw storage bytes; nothing after them is ever unpickled, so tensor
                // data is not searched for more.
                if legacy && out.pickles >= crate::formats::torch::LEGACY_PICKLES {
                    break;
                }
            }
            _ if loader_only => break,
            _ => {
                let from = match (&run.error, keep) {
                    (Some((off, _)), true) => off + 1,
                    _ => pos + 1,
                };
                let limit =
                    (*window_end.get_or_insert(from.saturating_add(RESYNC_WINDOW))).min(src.len());
                match find_proto(src, from, limit, &mut resync_budget) {
                    Some(p) => {
                        pos = p;
                        speculative = true;
                    }
                    None => break,
                }
            }
        }
    }
    if out.pickles >= ctx.limits.max_pickles_per_stream && pos < src.len() {
        out.findings.push(Finding::new(
            RuleId::PickleLimitReached,
            at(loc, pos),
            format!(
                "more than {} pickles in a row; the rest was not scanned",
                ctx.limits.max_pickles_per_stream
            ),
        ));
    }
    out.safe_globals = safe.into_iter().collect();
    if out.pickles > 0 && !out.findings.iter().any(|f| f.severity > Severity::Low) {
        let shown: Vec<&str> = out
            .safe_globals
            .iter()
            .take(8)
            .map(String::as_str)
            .collect();
        let more = out.safe_globals.len().saturating_sub(shown.len());
        let mut evidence = shown.join(", ");
        if more > 0 {
            evidence.push_str(&format!(" (+{more} more)"));
        }
        out.findings.push(
            Finding::new(
RuleId::PickleFormat,
                at(loc, start),
                format!(
                    "pickle with {} known-safe global(s) and nothing else; the format can still carry code (prefer safetensors)",
                    out.safe_globals.len()
                ),
            )
            .with_evidence(if evidence.is_empty() { NO_GLOBALS.to_string() } else { evidence }),
        );
    }
    out
}

/// The evidence of a `pickle-format` finding for a pickle that imports nothing.
pub const NO_GLOBALS: &str = "no globals";

/// How far past a break (or past the last pickle) to look for another protocol header,
/// and how many candidates to try: bounded so that raw tensor bytes after a legacy
/// PyTorch file cost little.
const RESYNC_WINDOW: u64 = 4 << 20;
const RESYNC_ATTEMPTS: u32 = 64;

/// The next `PROTO 2..5` marker in `[from, end)`.
fn find_proto(src: &dyn ByteSource, from: u64, end: u64, budget: &mut u32) -> Option<u64> {
    let mut pos = from;
    let mut buf = vec![0u8; 64 * 1024];
    while pos + 1 < end && *budget > 0 {
        let n = ((end - pos) as usize).min(buf.len());
        let got = src.read_at(pos, buf.get_mut(..n)?).ok()?;
        if got < 2 {
            return None;
        }
        if let Some(i) = buf.get(..got)?.windows(2).position(is_proto_header) {
            *budget -= 1;
            return Some(pos + i as u64);
        }
        pos += got as u64 - 1;
    }
    None
}

/// A pickle found by searching counts only if it imports something with real names:
/// random bytes rarely spell `module\nname\n` or push two identifier strings.
fn credible(run: &PickleRun) -> bool {
    run.globals
        .iter()
        .any(|g| identifier_path(&g.module) && identifier_path(&g.name))
}

/// A later pickle in a row counts if it completed, or imported something with real names
/// before breaking: raw tensor bytes after a legacy PyTorch file often start with a
/// byte that is a valid opcode and fail on the next one.
fn worth_reporting(run: &PickleRun) -> bool {
    match &run.error {
        None => true,
        Some(_) => credible(run) || !run.dynamic.is_empty(),
    }
}

/// The pickle at `start` as a loader reading it from a stream without `peek()` sees it
/// (`torch.load` reads a zip record through `io.BytesIO`; see
/// [`Machine::stream_reader`]), when an argument straddles a FRAME and so that view
/// differs: what it imports beyond what the contiguous view found is reported.
fn stream_view(
    src: &dyn ByteSource,
    start: u64,
    ctx: &Ctx,
    loc: &Location,
    persistent_load: bool,
    findings: &mut Vec<Finding>,
) {
    let allow = |m: &str, n: &str| (ctx.allow)(m, n);
    let machine = Machine::new(src, start, ctx.limits, &allow, Some(ctx.deadline)).stream_reader();
    let run = if persistent_load {
        machine.run()
    } else {
        machine.without_persistent_load().run()
    };
    let mut other = Vec::new();
    report_run(&run, src, ctx, loc, &mut other);
    for mut f in other {
        let reported = findings
            .iter()
            .any(|g| g.rule == f.rule && g.message == f.message && g.evidence == f.evidence);
        if reported
            || f.severity <= Severity::Low
            || matches!(
                f.rule.as_str(),
                "pickle-malformed" | "pickle-limit-reached" | "content-not-scanned"
            )
        {
            continue;
        }
        f.message.push_str(
            " (read as from a stream without peek(), as torch.load reads a zip record: an argument straddles a FRAME, and the unpickler then reads it from after the frame)",
        );
        findings.push(f);
    }
}

fn at(loc: &Location, offset: u64) -> Location {
    Location {
        offset: Some(offset),
        ..loc.clone()
    }
}

fn report_run(
    run: &PickleRun,
    src: &dyn ByteSource,
    ctx: &Ctx,
    loc: &Location,
    findings: &mut Vec<Finding>,
) {
    for e in &run.embedded {
        report_run(e, src, ctx, loc, findings);
    }
    // Bytes handed to a nested deserialiser (pickle.loads(b"...")) are a pickle of their
    // own, scanned first: a checkpoint's `torch.storage._load_from_bytes` calls are judged
    // by what their bytes hold.
    let mut nested_findings = Vec::new();
    let nested_clean = scan_nested(run, src, ctx, loc, &mut nested_findings);
    for g in &run.globals {
        let rule = match g.tier() {
            Tier::Safe => continue,
            Tier::Code if nested_clean && vetted_storage_load(g) => RuleId::PickleUnknownGlobal,
            Tier::Unknown => RuleId::PickleUnknownGlobal,
            Tier::System => RuleId::PickleSystemAccess,
            Tier::Dynamic => RuleId::PickleDynamicImport,
            Tier::Code => RuleId::PickleCodeExecution,
        };
        let full = format!("{}.{}", g.module, g.name);
        let mut msg = format!("{} `{}`", g.opcode, full);
        if let Some(r) = &g.class.resolved {
            msg.push_str(&format!(" (resolves to `{r}`)"));
        }
        msg.push_str(&format!(": {}", g.why()));
        if g.call.is_some() {
            msg.push_str(", and the pickle calls it");
        }
        if rule == RuleId::PickleUnknownGlobal && g.tier() == Tier::Code {
            msg.push_str(&format!(
                "; each of its {} call(s) loads bytes stored in this file, which were scanned as a pickle of their own and import only what is reported for them",
                g.called
            ));
        }
        findings.push(
            Finding::new(rule, at(loc, g.offset), msg)
                .with_evidence(g.call.clone().unwrap_or(full)),
        );
    }
    for d in &run.dynamic {
        findings.push(
            Finding::new(
                RuleId::PickleDynamicImport,
                at(loc, d.offset),
                "import computed at load time",
            )
            .with_evidence(d.what.clone()),
        );
    }
    if let Some((off, err)) = &run.error {
        let f = match err {
            Stop::Malformed(m) => Finding::new(
RuleId::PickleMalformed,
                at(loc, *off),
                format!("malformed pickle stream: {m} (opcodes before this point still run when loaded)"),
            ),
            Stop::Limit(m) => Finding::new(
RuleId::PickleLimitReached,
                at(loc, *off),
                format!("scan stopped: {m}; the rest of the stream was not analysed"),
            ),
            Stop::Io(m) => Finding::new(
RuleId::ContentNotScanned, at(loc, *off), format!("read error: {m}")),
        };
        findings.push(f);
    }
    findings.extend(nested_findings);
}

/// `torch.storage._load_from_bytes` used only as plain `pickle` writes it for a tensor
/// storage: called, every call on bytes that are a run of this file queued for a nested
/// scan, never pushed for anything else.
fn vetted_storage_load(g: &machine::GlobalUse) -> bool {
    g.module == "torch.storage"
        && g.name == "_load_from_bytes"
        && g.called > 0
        && g.nested_scanned == g.called
        && g.pushes <= g.called
        && g.constructed == 0
}

/// Scans the bytes handed to nested deserialisers; true when every one was a pickle that
/// was scanned completely (no limit, no malformed stream, nothing left unread).
fn scan_nested(
    run: &PickleRun,
    src: &dyn ByteSource,
    ctx: &Ctx,
    loc: &Location,
    findings: &mut Vec<Finding>,
) -> bool {
    let mut clean = true;
    for &(off, len) in &run.nested {
        if ctx.depth + 1 > ctx.limits.max_archive_depth || !ctx.take_entry() {
            findings.push(Finding::new(
                RuleId::ContentNotScanned,
                at(loc, off),
                "nested pickles beyond the depth or entry limits were not scanned",
            ));
            return false;
        }
        let inner = SliceSource::new(src, off, len);
        if !probe(&inner, 0, ctx) {
            clean = false;
            continue;
        }
        let nested_ctx = ctx.deeper();
        let nested_loc = loc.member(&format!("<nested pickle @{off}>"));
        let r = scan_stream(&inner, 0, &nested_ctx, &nested_loc);
        clean &= !r
            .findings
            .iter()
            .any(|f| f.rule.rule().incomplete || f.rule == RuleId::PickleMalformed);
        findings.extend(
            r.findings
                .into_iter()
                .filter(|f| f.severity > Severity::Low),
        );
    }
    clean
}

#[cfg(test)]
mod nested_tests;
#[cfg(test)]
mod stream_tests;
#[cfg(test)]
mod tests;
