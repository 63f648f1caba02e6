//! GitHub Actions output: workflow-command annotations ([`render`]), a Markdown job
//! summary ([`write_step_summary`], appended to `$GITHUB_STEP_SUMMARY` by the caller) and
//! step outputs ([`write_outputs`], appended to `$GITHUB_OUTPUT`).
//!
//! Everything printed here that comes from a scanned file — paths, evidence, member
//! names — is attacker-controlled. A raw newline in it would start a new line, and a line
//! starting with `::` is a workflow command (`::add-mask::`, `::stop-commands::`...), so
//! every value is escaped the way the actions toolkit's `issueCommand` does.

use std::cmp::Reverse;
use std::io::{self, Write};

use super::{escape_control, FileReport, FileStatus, RenderOptions, Report, Verdict};
use crate::finding::{Finding, Severity};
use crate::target::Place;

/// GitHub shows about 10 annotations of each level per step and drops the rest silently.
pub const ANNOTATIONS_PER_LEVEL: usize = 10;
/// Rows in the job summary's findings table. The summary of one step is limited to 1 MiB
/// and GitHub refuses the whole of a larger one, so the table also stops at
/// [`SUMMARY_TABLE_BYTES`].
pub const SUMMARY_MAX_ROWS: usize = 2000;
pub const SUMMARY_TABLE_BYTES: usize = 800 * 1024;
/// Longest evidence shown in one summary cell, in characters.
const SUMMARY_EVIDENCE_CHARS: usize = 300;

pub fn render(report: &Report, _opts: &RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    let mut findings: Vec<(&FileReport, &Finding)> = report
        .findings_by_file()
        .filter(|(_, f)| f.suppressed.is_none() && f.severity >= Severity::Low)
        .collect();
    // Worst first, so that the cap drops the least severe; report order otherwise.
    findings.sort_by_key(|(_, f)| Reverse(f.severity));

    let mut total = [0usize; 3];
    for (_, f) in &findings {
        if let Some(n) = total.get_mut(command(f.severity).1) {
            *n += 1;
        }
    }
    let overflow = total.iter().any(|&n| n > ANNOTATIONS_PER_LEVEL);
    let mut cap = [ANNOTATIONS_PER_LEVEL; 3];
    if overflow {
        // The closing "N more" message is itself a notice: keep a slot for it so that
        // GitHub does not drop it along with the ones it reports on.
        cap[2] = ANNOTATIONS_PER_LEVEL - 1;
    }

    let mut shown = [0usize; 3];
    let mut omitted = 0usize;
    for (file, f) in findings {
        let (cmd, slot) = command(f.severity);
        let (Some(n), Some(&most)) = (shown.get_mut(slot), cap.get(slot)) else {
            continue;
        };
        if *n >= most {
            omitted += 1;
            continue;
        }
        *n += 1;
        if !matches!(Place::of(&f.location.path, file.origin), Place::Relative(_)) {
            // hf:// and URL targets, and absolute paths, are not files of the checkout: a
            // `file=` GitHub cannot resolve would misplace the annotation, so the location
            // goes in front of the message instead.
            writeln!(
                out,
                "::{cmd} title={}::{}",
                escape_property(&format!("{} ({})", f.rule, f.severity)),
                escape_data(&format!(
                    "{}: {}",
                    escape_control(&f.location.path, true),
                    annotation_message(f)
                )),
            )?;
            continue;
        }
        // Binary files are annotated on line 1; findings in text files at their line and
        // column.
        let mut place = format!("line={}", f.location.line.unwrap_or(1));
        if let Some(c) = f.location.column {
            place.push_str(&format!(",col={c}"));
        }
        writeln!(
            out,
            "::{cmd} file={},{place},title={}::{}",
            escape_property(&escape_control(&f.location.path, true)),
            escape_property(&format!("{} ({})", f.rule, f.severity)),
            escape_data(&annotation_message(f)),
        )?;
    }
    if omitted > 0 {
        writeln!(
            out,
            "::notice::{}",
            escape_data(&format!(
                "modelgate: {omitted} more finding{} not shown as annotations (GitHub shows about {ANNOTATIONS_PER_LEVEL} per level). \
                 See the job summary or the SARIF report for all of them.",
                if omitted == 1 { " is" } else { "s are" }
            ))
        )?;
    }
    // A plain log line (it does not start with `::`, so it is not a command).
    writeln!(out, "modelgate: {}", one_line_summary(report))
}

/// The workflow command for a severity, and its slot in the per-level caps.
fn command(sev: Severity) -> (&'static str, usize) {
    match sev {
        Severity::Critical | Severity::High => ("error", 0),
        Severity::Medium => ("warning", 1),
        Severity::Low | Severity::Info => ("notice", 2),
    }
}

/// The annotation body: the message, then the evidence and the place in the file on
/// lines of their own. Evidence keeps its newlines visible as `\n`, so a payload cannot
/// forge extra lines of the annotation.
fn annotation_message(f: &Finding) -> String {
    let mut m = escape_control(&f.message, false).into_owned();
    if let Some(e) = &f.evidence {
        m.push_str("\nEvidence: ");
        m.push_str(&escape_control(e, false));
    }
    let mut place = Vec::new();
    if let Some(member) = &f.location.member {
        place.push(format!("archive member {}", escape_control(member, false)));
    }
    if let Some(o) = f.location.offset {
        place.push(format!("byte offset {o}"));
    }
    if !place.is_empty() {
        m.push_str("\nLocation: ");
        m.push_str(&place.join(", "));
    }
    if let Some(fix) = &f.fix {
        m.push_str("\nFix: ");
        m.push_str(&escape_control(fix, false));
    }
    m
}

/// `escapeData` from `@actions/core`: the message part of a workflow command.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// `escapeProperty` from `@actions/core`: a `key=value` property of a workflow command.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn one_line_summary(report: &Report) -> String {
    let s = &report.summary;
    let counts: Vec<String> = Severity::ALL_DESC
        .iter()
        .map(|sev| format!("{} {sev}", s.count(*sev)))
        .collect();
    let verdict = match report.verdict {
        Verdict::Pass => "PASS".to_string(),
        Verdict::Fail => format!(
            "FAIL (threshold reached for {})",
            report
                .reached
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    format!(
        "{verdict}: {} ({} suppressed) in {} files scanned, {} skipped, {} errored",
        counts.join(", "),
        s.suppressed,
        s.files_scanned,
        s.files_skipped,
        s.files_errored
    )
}

/// Markdown for `$GITHUB_STEP_SUMMARY`: verdict, counts against thresholds, and a table
/// of every finding (suppressed and info included), worst first.
pub fn write_step_summary(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let s = &report.summary;
    match report.verdict {
        Verdict::Pass => writeln!(out, "## ✅ modelgate: PASS\n\nNo threshold reached.\n")?,
        Verdict::Fail => {
            let reached: Vec<String> = report.reached.iter().map(|s| format!("**{s}**")).collect();
            writeln!(
                out,
                "## ❌ modelgate: FAIL\n\nThreshold reached for {}.\n",
                reached.join(", ")
            )?
        }
    }

    writeln!(out, "| severity | findings | fails at | |")?;
    writeln!(out, "| --- | ---: | ---: | --- |")?;
    for sev in Severity::ALL_DESC {
        let threshold = match report.thresholds.get(sev) {
            Some(n) => n.to_string(),
            None => "off".to_string(),
        };
        let reached = if report.reached.contains(&sev) {
            "❌ reached"
        } else {
            ""
        };
        writeln!(
            out,
            "| {} {sev} | {} | {threshold} | {reached} |",
            emoji(sev),
            s.count(sev)
        )?;
    }
    writeln!(out, "| suppressed | {} | | |", s.suppressed)?;
    writeln!(
        out,
        "\n{} files scanned, {} skipped, {} could not be read.",
        s.files_scanned, s.files_skipped, s.files_errored
    )?;
    if s.lfs_pointers > 0 {
        writeln!(
            out,
            "\n**{} Git LFS pointer(s) were not scanned**: check out with `lfs: true` in `actions/checkout`.",
            s.lfs_pointers
        )?;
    }

    let mut findings: Vec<&Finding> = report.findings().collect();
    findings.sort_by_key(|f| Reverse(f.severity));
    if !findings.is_empty() {
        writeln!(out, "\n### Findings\n")?;
        writeln!(out, "| severity | rule | file | evidence |")?;
        writeln!(out, "| --- | --- | --- | --- |")?;
        let mut bytes = 0usize;
        let mut written = 0usize;
        for f in &findings {
            let row = summary_row(f);
            if written >= SUMMARY_MAX_ROWS || bytes + row.len() > SUMMARY_TABLE_BYTES {
                break;
            }
            bytes += row.len();
            written += 1;
            out.write_all(row.as_bytes())?;
        }
        if written < findings.len() {
            writeln!(
                out,
                "\n_{} more findings are not listed: a job summary is limited to 1 MiB. \
                 The SARIF and JSON reports list every finding._",
                findings.len() - written
            )?;
        }
    }

    // The models the code pulls (SPEC §8): one row per reference (pinned or not, its
    // publisher, what is known of it), then every model-reference finding by call site.
    let refs: Vec<&Finding> = report
        .findings()
        .filter(|f| f.rule.as_str().starts_with("model-ref"))
        .collect();
    if !report.models.is_empty() || !refs.is_empty() {
        writeln!(out, "\n### Models the code pulls\n")?;
    }
    if !report.models.is_empty() {
        writeln!(
            out,
            "| model | publisher | revision | commit | state | verdict | called at |\n| --- | --- | --- | --- | --- | --- | --- |"
        )?;
        for m in report.models.iter().take(SUMMARY_MAX_ROWS) {
            out.write_all(model_row(m).as_bytes())?;
        }
        if report.models.len() > SUMMARY_MAX_ROWS {
            writeln!(
                out,
                "\n_… and {} more._",
                report.models.len() - SUMMARY_MAX_ROWS
            )?;
        }
        writeln!(out)?;
    }
    if !refs.is_empty() {
        writeln!(
            out,
            "| call site | rule | severity | what |\n| --- | --- | --- | --- |"
        )?;
        for f in refs.iter().take(SUMMARY_MAX_ROWS) {
            let at = match f.location.line {
                Some(l) => format!("{}:{l}", f.location.path),
                None => f.location.path.clone(),
            };
            writeln!(
                out,
                "| <code>{}</code> | `{}` | {} {} | {} |",
                md_text(&at),
                f.rule,
                emoji(f.severity),
                f.severity,
                md_text(&f.message)
            )?;
        }
        if refs.len() > SUMMARY_MAX_ROWS {
            writeln!(out, "\n_… and {} more._", refs.len() - SUMMARY_MAX_ROWS)?;
        }
    }

    // Pickle checkpoints `modelgate convert` would turn into safetensors (their
    // `pickle-format` finding carries the command).
    let convertible: Vec<&str> = report
        .files
        .iter()
        .filter(|f| {
            f.findings
                .iter()
                .any(|x| x.rule == crate::rules::RuleId::PickleFormat && x.fix.is_some())
        })
        .map(|f| f.path.as_str())
        .collect();
    if !convertible.is_empty() {
        writeln!(
            out,
            "\n### Pickle checkpoints that convert to safetensors\n\n`modelgate convert IN OUT.safetensors` rebuilds their tensors without loading them:\n"
        )?;
        for p in convertible.iter().take(SUMMARY_MAX_ROWS) {
            writeln!(out, "- <code>{}</code>", md_text(p))?;
        }
        if convertible.len() > SUMMARY_MAX_ROWS {
            writeln!(out, "- … and {} more", convertible.len() - SUMMARY_MAX_ROWS)?;
        }
    }

    let errored: Vec<_> = report
        .files
        .iter()
        .filter(|f| f.status == FileStatus::Error)
        .collect();
    if !errored.is_empty() {
        writeln!(out, "\n### Files that could not be scanned\n")?;
        for f in errored.iter().take(SUMMARY_MAX_ROWS) {
            writeln!(
                out,
                "- <code>{}</code>: {}",
                md_text(&f.path),
                md_text(f.reason.as_deref().unwrap_or("unknown error"))
            )?;
        }
        if errored.len() > SUMMARY_MAX_ROWS {
            writeln!(out, "- … and {} more", errored.len() - SUMMARY_MAX_ROWS)?;
        }
    }
    writeln!(out)
}

fn summary_row(f: &Finding) -> String {
    let mut sev = format!("{} {}", emoji(f.severity), f.severity);
    if let Some(s) = &f.suppressed {
        sev.push_str(&format!(" (suppressed: {})", md_text(&s.reason)));
    }
    let mut file = format!("<code>{}</code>", md_text(&f.location.path));
    if let Some(m) = &f.location.member {
        file.push_str(&format!(" member <code>{}</code>", md_text(m)));
    }
    if let Some(o) = f.location.offset {
        file.push_str(&format!(" @ {o}"));
    }
    let evidence = match &f.evidence {
        Some(e) => format!(
            "<code>{}</code>",
            md_text(&crate::finding::shorten(e, SUMMARY_EVIDENCE_CHARS))
        ),
        None => String::new(),
    };
    format!("| {sev} | `{}` | {file} | {evidence} |\n", f.rule)
}

/// Most call sites listed in one model row.
const MODEL_SITES_SHOWN: usize = 3;

/// One row of the job summary's model table.
fn model_row(m: &crate::report::ModelRef) -> String {
    let publisher = m.repo.split_once('/').map_or("", |(o, _)| o);
    let revision = match (
        &m.requested,
        m.requested.as_deref().is_some_and(crate::refs::is_commit),
    ) {
        (None, _) => "default branch (unpinned)".to_string(),
        (Some(r), true) => format!(
            "<code>{}</code> (pinned)",
            md_text(r.get(..12).unwrap_or(r))
        ),
        (Some(r), false) => format!("<code>{}</code> (branch or tag, unpinned)", md_text(r)),
    };
    let commit = match &m.commit {
        Some(c) => format!("<code>{}</code>", md_text(c.get(..12).unwrap_or(c))),
        None => "—".into(),
    };
    let verdict = match (m.state, m.verdict) {
        (crate::report::ModelState::NotResolved, _) => "not scanned".to_string(),
        (crate::report::ModelState::Unresolved, _) => "🔴 could not be scanned".to_string(),
        (_, None) => "✅ no findings".to_string(),
        (_, Some(s)) => format!("{} {s}", emoji(s)),
    };
    let mut sites: Vec<String> = m
        .sites
        .iter()
        .take(MODEL_SITES_SHOWN)
        .map(|s| match s.line {
            Some(l) => format!("<code>{}</code>", md_text(&format!("{}:{l}", s.path))),
            None => format!("<code>{}</code>", md_text(&s.path)),
        })
        .collect();
    if m.sites.len() > MODEL_SITES_SHOWN {
        sites.push(format!("… {} more", m.sites.len() - MODEL_SITES_SHOWN));
    }
    format!(
        "| <code>{}</code> | {} | {} | {} | {} | {} | {} |\n",
        md_text(&m.repo),
        md_text(publisher),
        revision,
        commit,
        m.state.as_str(),
        verdict,
        sites.join("<br>")
    )
}

/// Untrusted text as literal Markdown inside a table cell: ASCII punctuation that could
/// mean something is backslash-escaped (CommonMark allows escaping any of them), which keeps
/// `|` from splitting the cell — including after a backslash, since the backslash is
/// escaped too — and `<`, `[`, `*`, `` ` `` from becoming HTML, links or formatting. Line
/// breaks become `<br>`, other control characters visible escapes.
fn md_text(s: &str) -> String {
    let s = escape_control(s, true);
    let mut out = String::with_capacity(s.len() + s.len() / 4);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("<br>");
            }
            '\n' => out.push_str("<br>"),
            // Punctuation with no Markdown meaning inside a table cell stays as it is,
            // to keep the raw file readable.
            '/' | '.' | ',' | '-' | '"' | '\'' | '=' | '%' | ';' | '?' => out.push(c),
            c if c.is_ascii_punctuation() => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

fn emoji(sev: Severity) -> &'static str {
    match sev {
        Severity::Critical => "🔴",
        Severity::High => "🟠",
        Severity::Medium => "🟡",
        Severity::Low => "🔵",
        Severity::Info => "⚪",
    }
}

/// Step outputs in `$GITHUB_OUTPUT` format (`name=value` lines): the verdict and the
/// unsuppressed finding counts the thresholds were checked against.
pub fn write_outputs(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let s = &report.summary;
    let verdict = match report.verdict {
        Verdict::Pass => "pass",
        Verdict::Fail => "fail",
    };
    writeln!(out, "verdict={verdict}")?;
    for sev in Severity::ALL_DESC {
        writeln!(out, "{sev}={}", s.count(sev))?;
    }
    writeln!(out, "suppressed={}", s.suppressed)?;
    writeln!(out, "files-scanned={}", s.files_scanned)?;
    writeln!(out, "files-skipped={}", s.files_skipped)?;
    writeln!(out, "files-errored={}", s.files_errored)?;
    writeln!(out, "lfs-pointers={}", s.lfs_pointers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Location;
    use crate::report::testutil::{render_to_string, sample_report};
    use crate::report::{FileReport, Origin, Thresholds};
    use crate::rules::RuleId;

    fn annotations(report: &Report) -> String {
        render_to_string(render, report, &RenderOptions::default())
    }

    #[test]
    fn escaping_matches_the_actions_toolkit() {
        assert_eq!(escape_data("100% a:b,c\r\nd"), "100%25 a:b,c%0D%0Ad");
        assert_eq!(
            escape_property("100% a:b,c\r\nd"),
            "100%25 a%3Ab%2Cc%0D%0Ad"
        );
        // `%` first, so existing escapes are not decoded by GitHub into something else.
        assert_eq!(escape_data("%0A"), "%250A");
    }

    #[test]
    fn annotations_for_unsuppressed_findings_low_and_above() {
        let out = annotations(&sample_report());
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines,
            [
                "::error file=models/evil model.pkl,line=1,title=pickle-code-execution (critical)::Loading this pickle runs a shell command%0AEvidence: posix.system(\"echo 100%25 pwned: a,b\\nsecond line\\r\")%0ALocation: byte offset 2",
                "::warning file=models/model.pt,line=1,title=zip-crc-mismatch (medium)::Archive member fails its CRC-32 check%0AEvidence: stored 0xdeadbeef | computed 0x12345678%0ALocation: archive member archive/data.pkl, byte offset 0",
                "::notice file=models/model.pt,line=1,title=pickle-format (low)::A format that can carry code, with only known-safe globals%0ALocation: archive member archive/data.pkl",
                "modelgate: FAIL (threshold reached for critical, medium): 1 critical, 0 high, 1 medium, 1 low, 1 info (1 suppressed) in 2 files scanned, 2 skipped, 1 errored",
            ]
        );
    }

    #[test]
    fn remote_locations_go_in_the_message_not_in_file() {
        let path = "hf://org/name@abc/model.bin";
        let report = Report::new(
            vec![FileReport {
                path: path.into(),
                origin: Origin::Hf,
                status: FileStatus::Scanned,
                reason: None,
                format: Some("pickle".into()),
                size: 1,
                findings: vec![Finding::new(
                    RuleId::PickleCodeExecution,
                    Location::file(path),
                    "m",
                )],
            }],
            Thresholds::DEFAULT,
        );
        let out = annotations(&report);
        assert_eq!(
            out.lines().next().unwrap(),
            "::error title=pickle-code-execution (critical)::hf://org/name@abc/model.bin: m"
        );
    }

    #[test]
    fn hostile_path_and_evidence_cannot_start_a_command() {
        let path = "x,y:z\n::add-mask::secret%.pkl";
        let f = Finding::new(RuleId::PickleCodeExecution, Location::file(path), "m")
            .with_severity(Severity::High)
            .with_evidence("a\n::stop-commands::tok\r\n");
        let report = Report::new(
            vec![FileReport {
                path: path.into(),
                origin: Origin::Local,
                status: FileStatus::Scanned,
                reason: None,
                format: None,
                size: 1,
                findings: vec![f],
            }],
            Thresholds::DEFAULT,
        );
        let out = annotations(&report);
        let first = out.lines().next().unwrap();
        assert_eq!(
            first,
            "::error file=x%2Cy%3Az%0A%3A%3Aadd-mask%3A%3Asecret%25.pkl,line=1,title=pickle-code-execution (high)::m%0AEvidence: a\\n::stop-commands::tok\\r\\n"
        );
        assert_eq!(out.lines().count(), 2, "{out}");
        assert!(out.lines().skip(1).all(|l| !l.starts_with("::")));
    }

    fn many(per_severity: &[(Severity, usize)]) -> Report {
        let mut findings = Vec::new();
        for &(sev, n) in per_severity {
            for i in 0..n {
                findings.push(
                    Finding::new(
                        RuleId::PickleUnknownGlobal,
                        Location::file("big.pkl"),
                        format!("{sev} {i}"),
                    )
                    .with_severity(sev)
                    .with_evidence(format!("mod.f{i:03}")),
                );
            }
        }
        Report::new(
            vec![FileReport {
                path: "big.pkl".into(),
                origin: Origin::Local,
                status: FileStatus::Scanned,
                reason: None,
                format: Some("pickle".into()),
                size: 1,
                findings,
            }],
            Thresholds::DEFAULT,
        )
    }

    #[test]
    fn annotations_are_capped_per_level_with_a_closing_notice() {
        let out = annotations(&many(&[
            (Severity::Critical, 7),
            (Severity::High, 6),
            (Severity::Medium, 12),
            (Severity::Low, 3),
            (Severity::Info, 50),
        ]));
        let count = |p: &str| out.lines().filter(|l| l.starts_with(p)).count();
        assert_eq!(count("::error "), 10);
        assert_eq!(count("::warning "), 10);
        assert_eq!(count("::notice "), 3);
        // Criticals win the error slots.
        assert_eq!(
            out.lines()
                .filter(|l| l.contains("title=pickle-unknown-global (critical)"))
                .count(),
            7
        );
        assert!(out.contains(
            "::notice::modelgate: 5 more findings are not shown as annotations (GitHub shows about 10 per level). See the job summary or the SARIF report for all of them.\n"
        ), "{out}");
        // Info findings never become annotations.
        assert!(!out.contains("(info)"));
    }

    #[test]
    fn notice_cap_leaves_room_for_the_closing_notice() {
        let out = annotations(&many(&[(Severity::Medium, 11), (Severity::Low, 15)]));
        let notices = out.lines().filter(|l| l.starts_with("::notice")).count();
        assert_eq!(notices, 10, "{out}");
        assert!(
            out.contains("::notice::modelgate: 7 more findings"),
            "{out}"
        );
    }

    #[test]
    fn no_cap_notice_when_everything_fits() {
        let out = annotations(&many(&[(Severity::Low, 10)]));
        assert_eq!(
            out.lines().filter(|l| l.starts_with("::notice ")).count(),
            10
        );
        assert!(!out.contains("::notice::"));
    }

    fn summary(report: &Report) -> String {
        let mut buf = Vec::new();
        write_step_summary(report, &mut buf).unwrap();
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn step_summary_has_verdict_counts_and_every_finding() {
        let md = summary(&sample_report());
        assert!(md.starts_with(
            "## ❌ modelgate: FAIL\n\nThreshold reached for **critical**, **medium**.\n"
        ));
        assert!(
            md.contains("| 🔴 critical | 1 | 1 | ❌ reached |\n"),
            "{md}"
        );
        assert!(md.contains("| 🟠 high | 0 | 1 |  |\n"));
        assert!(md.contains("| 🔵 low | 1 | off |  |\n"));
        assert!(md.contains("| suppressed | 1 | | |\n"));
        assert!(md.contains("2 files scanned, 2 skipped, 1 could not be read."));
        assert!(md.contains(
            "| 🔴 critical | `pickle-code-execution` | <code>models/evil model.pkl</code> @ 2 | <code>posix.system\\(\"echo 100% pwned\\: a,b<br>second line<br>\"\\)</code> |\n"
        ), "{md}");
        // `|` in evidence is escaped so the row keeps four cells.
        assert!(md.contains(
            "| 🟡 medium | `zip-crc-mismatch` | <code>models/model.pt</code> member <code>archive/data.pkl</code> @ 0 | <code>stored 0xdeadbeef \\| computed 0x12345678</code> |\n"
        ), "{md}");
        assert!(md.contains(
            "| 🟡 medium (suppressed: our own layer, reviewed) | `pickle-unknown-global` |"
        ));
        assert!(md.contains("| ⚪ info | `file-skipped` | <code>data/labels.json</code> |  |\n"));
        assert!(md.contains(
            "### Files that could not be scanned\n\n- <code>models/unreadable.bin</code>: permission denied\n"
        ));
        // Critical first, info last.
        assert!(md.find("`pickle-code-execution`") < md.find("`zip-crc-mismatch`"));
        assert!(md.find("`zip-crc-mismatch`") < md.find("`pickle-format`"));
        assert!(md.find("`pickle-format`") < md.find("`file-skipped`"));
    }

    #[test]
    fn markdown_cells_cannot_break_the_table() {
        assert_eq!(md_text("a|b"), "a\\|b");
        // A backslash before a pipe must not turn the escape around.
        assert_eq!(md_text("a\\|b"), "a\\\\\\|b");
        assert_eq!(md_text("<img src=x>"), "\\<img src=x\\>");
        assert_eq!(md_text("l1\r\nl2\nl3"), "l1<br>l2<br>l3");
        assert_eq!(md_text("\u{1b}[1m"), "\\\\u\\{1b\\}\\[1m");
        assert_eq!(
            md_text("[x](https://e.com) *b* _i_ `c` @team :x: &amp;"),
            "\\[x\\]\\(https\\://e.com\\) \\*b\\* \\_i\\_ \\`c\\` \\@team \\:x\\: \\&amp;"
        );
    }

    #[test]
    fn step_summary_is_capped() {
        let report = many(&[(Severity::Medium, SUMMARY_MAX_ROWS + 5)]);
        let md = summary(&report);
        let rows = md
            .lines()
            .filter(|l| l.starts_with("| 🟡 medium | `"))
            .count();
        assert_eq!(rows, SUMMARY_MAX_ROWS);
        assert!(md.contains("_5 more findings are not listed: a job summary is limited to 1 MiB."));
        assert!(md.len() < 1024 * 1024);
    }

    #[test]
    fn long_evidence_is_shortened_in_the_summary() {
        let mut report = many(&[(Severity::High, 1)]);
        report.files[0].findings[0].evidence = Some("é".repeat(SUMMARY_EVIDENCE_CHARS + 1));
        let md = summary(&report);
        let want = format!("<code>{}…</code>", "é".repeat(SUMMARY_EVIDENCE_CHARS));
        assert!(md.contains(&want), "{md}");
    }

    #[test]
    fn passing_summary() {
        let md = summary(&Report::new(vec![], Thresholds::DEFAULT));
        assert!(md.starts_with("## ✅ modelgate: PASS\n\nNo threshold reached.\n"));
        assert!(!md.contains("### Findings"));
    }

    #[test]
    fn outputs_in_github_output_format() {
        let mut buf = Vec::new();
        write_outputs(&sample_report(), &mut buf).unwrap();
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "verdict=fail\ncritical=1\nhigh=0\nmedium=1\nlow=1\ninfo=1\nsuppressed=1\nfiles-scanned=2\nfiles-skipped=2\nfiles-errored=1\nlfs-pointers=0\n"
        );
    }
}
