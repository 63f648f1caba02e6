//! Human-readable output: one block per file with findings, then a summary ending in
//! `PASS` or `FAIL`. Colour is a decoration only; without it every line still says what
//! it means (severity names are spelled out, suppressions say so in words).

use std::io::{self, Write};

use owo_colors::{OwoColorize, Style};

use super::{escape_control, FileReport, FileStatus, RenderOptions, Report, Verdict};
use crate::finding::{Finding, Severity};

pub fn render(report: &Report, opts: &RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    let p = Painter { color: opts.color };
    let mut any = false;
    for file in report.files.iter().filter(|f| !f.findings.is_empty()) {
        if any {
            writeln!(out)?;
        }
        any = true;
        write_file_block(&p, file, out)?;
    }
    if !any {
        writeln!(out, "No findings.")?;
    }

    if opts.show_skipped {
        write_file_list(&p, report, FileStatus::Skipped, "Skipped files", out)?;
    }
    write_file_list(
        &p,
        report,
        FileStatus::Error,
        "Files that could not be scanned",
        out,
    )?;

    writeln!(out)?;
    write_summary(&p, report, out)
}

fn write_file_block(p: &Painter, file: &FileReport, out: &mut dyn Write) -> io::Result<()> {
    let mut header = format!("{}  (", clean(&file.path));
    if let Some(format) = &file.format {
        header.push_str(&clean(format));
        header.push_str(", ");
    }
    header.push_str(status_str(file.status));
    if let Some(reason) = &file.reason {
        header.push_str(": ");
        header.push_str(&clean(reason));
    }
    header.push(')');
    writeln!(out, "{}", p.paint(&header, Style::new().bold()))?;

    for finding in &file.findings {
        write_finding(p, finding, out)?;
    }
    Ok(())
}

fn write_finding(p: &Painter, f: &Finding, out: &mut dyn Write) -> io::Result<()> {
    // `CRITICAL` is the longest tag; padding keeps rule ids in one column.
    let tag = format!("{:<8}", f.severity.as_str().to_ascii_uppercase());
    let mut rest = format!("{}  {}", f.rule, clean(&f.location.display()));
    rest.push_str(": ");
    rest.push_str(&clean(&f.message));
    match &f.suppressed {
        Some(s) => {
            rest.push_str(&format!(" (suppressed: {}", clean(&s.reason)));
            if let Some(expires) = &s.expires {
                rest.push_str(&format!(", expires {}", clean(expires)));
            }
            rest.push(')');
            // The whole line is dimmed, tag included: it does not count.
            let line = format!("  {tag}  {rest}");
            writeln!(out, "{}", p.paint(&line, Style::new().dimmed()))?;
        }
        None => {
            writeln!(
                out,
                "  {}  {rest}",
                p.paint(&tag, severity_style(f.severity))
            )?;
        }
    }
    if let Some(fix) = &f.fix {
        writeln!(out, "            fix: {}", clean(fix))?;
    }
    if let Some(evidence) = &f.evidence {
        let line = format!("            evidence: {}", clean(evidence));
        let style = if f.suppressed.is_some() {
            Style::new().dimmed()
        } else {
            Style::new()
        };
        writeln!(out, "{}", p.paint(&line, style))?;
    }
    Ok(())
}

fn write_file_list(
    p: &Painter,
    report: &Report,
    status: FileStatus,
    title: &str,
    out: &mut dyn Write,
) -> io::Result<()> {
    let files: Vec<&FileReport> = report.files.iter().filter(|f| f.status == status).collect();
    if files.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(
        out,
        "{}",
        p.paint(&format!("{title}:"), Style::new().bold())
    )?;
    for f in files {
        let reason = f.reason.as_deref().unwrap_or("no reason recorded");
        writeln!(out, "  {}: {}", clean(&f.path), clean(reason))?;
    }
    Ok(())
}

fn write_summary(p: &Painter, report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let s = &report.summary;
    writeln!(out, "{}", p.paint("Summary", Style::new().bold()))?;
    writeln!(
        out,
        "  files:      {} scanned, {} skipped, {} errored",
        s.files_scanned, s.files_skipped, s.files_errored
    )?;
    if s.lfs_pointers > 0 {
        writeln!(
            out,
            "  lfs:        {} Git LFS pointer{} not scanned (check out with `lfs: true`)",
            s.lfs_pointers,
            if s.lfs_pointers == 1 { "" } else { "s" }
        )?;
    }
    let counts: Vec<String> = Severity::ALL_DESC
        .iter()
        .map(|sev| {
            let n = s.count(*sev);
            let text = format!("{n} {sev}");
            if n > 0 {
                p.paint(&text, severity_style(*sev))
            } else {
                text
            }
        })
        .collect();
    writeln!(
        out,
        "  findings:   {} ({} suppressed)",
        counts.join(", "),
        s.suppressed
    )?;
    writeln!(out, "  thresholds: {}", report.thresholds.describe())?;
    let reached: Vec<String> = report
        .reached
        .iter()
        .map(|sev| {
            let limit = report.thresholds.get(*sev).unwrap_or(0);
            format!("{sev} ({} >= {limit})", s.count(*sev))
        })
        .collect();
    writeln!(
        out,
        "  reached:    {}",
        if reached.is_empty() {
            "none".to_string()
        } else {
            reached.join(", ")
        }
    )?;
    match report.verdict {
        Verdict::Pass => writeln!(out, "{}", p.paint("PASS", Style::new().green().bold())),
        Verdict::Fail => {
            let names: Vec<&str> = report.reached.iter().map(|s| s.as_str()).collect();
            let line = format!("FAIL: threshold reached for {}", names.join(", "));
            writeln!(out, "{}", p.paint(&line, Style::new().red().bold()))
        }
    }
}

fn status_str(status: FileStatus) -> &'static str {
    match status {
        FileStatus::Scanned => "scanned",
        FileStatus::Skipped => "skipped",
        FileStatus::Error => "error",
    }
}

fn severity_style(sev: Severity) -> Style {
    match sev {
        Severity::Critical => Style::new().bright_red().bold(),
        Severity::High => Style::new().red(),
        Severity::Medium => Style::new().yellow(),
        Severity::Low => Style::new().cyan(),
        Severity::Info => Style::new().dimmed(),
    }
}

/// Untrusted text on one line, with no way to reach the terminal's escape sequences.
fn clean(s: &str) -> std::borrow::Cow<'_, str> {
    escape_control(s, false)
}

struct Painter {
    color: bool,
}

impl Painter {
    fn paint(&self, s: &str, style: Style) -> String {
        if self.color {
            s.style(style).to_string()
        } else {
            s.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testutil::{render_to_string, sample_report};

    fn plain(show_skipped: bool) -> String {
        let opts = RenderOptions {
            color: false,
            show_skipped,
            category: None,
        };
        render_to_string(render, &sample_report(), &opts)
    }

    #[test]
    fn plain_output_has_blocks_findings_and_summary() {
        let out = plain(false);
        assert!(
            !out.contains('\u{1b}'),
            "no colour codes without colour:\n{out}"
        );
        assert!(
            out.contains("models/evil model.pkl  (pickle, scanned)\n"),
            "{out}"
        );
        assert!(
            out.contains(
                "  CRITICAL  pickle-code-execution  models/evil model.pkl @ 2: Loading this pickle runs a shell command\n"
            ),
            "{out}"
        );
        // Newlines in evidence stay on one line, escaped.
        assert!(
            out.contains(
                "            evidence: posix.system(\"echo 100% pwned: a,b\\nsecond line\\r\")\n"
            ),
            "{out}"
        );
        assert!(
            out.contains("  MEDIUM    pickle-unknown-global  models/model.pt!archive/data.pkl @ 57: Imports a global outside the allowlist (suppressed: our own layer, reviewed)\n"),
            "{out}"
        );
        assert!(out.contains("  LOW       pickle-format  models/model.pt!archive/data.pkl: "));
        assert!(
            out.contains("data/labels.json  (json, skipped: not a format that can carry code)\n")
        );
        // Files without findings get no block.
        assert!(!out.contains("README.md  ("));
        // Errored files are always listed, skipped ones only on request.
        assert!(out.contains(
            "Files that could not be scanned:\n  models/unreadable.bin: permission denied\n"
        ));
        assert!(!out.contains("Skipped files:"));
        assert!(
            out.contains("  files:      2 scanned, 2 skipped, 1 errored\n"),
            "{out}"
        );
        assert!(out.contains(
            "  findings:   1 critical, 0 high, 1 medium, 1 low, 1 info (1 suppressed)\n"
        ));
        assert!(out.contains("  thresholds: critical=1,high=1,medium=1,low=off,info=off\n"));
        assert!(out.contains("  reached:    critical (1 >= 1), medium (1 >= 1)\n"));
        assert!(
            out.ends_with("FAIL: threshold reached for critical, medium\n"),
            "{out}"
        );
    }

    #[test]
    fn show_skipped_lists_skipped_files_with_reason() {
        let out = plain(true);
        assert!(out.contains(
            "Skipped files:\n  README.md: not a model format\n  data/labels.json: not a format that can carry code\n"
        ), "{out}");
    }

    #[test]
    fn colour_marks_severity_and_dims_suppressed() {
        let opts = RenderOptions {
            color: true,
            ..Default::default()
        };
        let out = render_to_string(render, &sample_report(), &opts);
        let critical = format!("{}", "CRITICAL".style(severity_style(Severity::Critical)));
        assert!(out.contains(&critical), "{out}");
        let dimmed_start = format!("{}", "x".dimmed());
        let dim_prefix = dimmed_start.split('x').next().unwrap();
        assert!(
            out.contains(&format!("{dim_prefix}  MEDIUM    pickle-unknown-global")),
            "{out}"
        );
    }

    #[test]
    fn hostile_text_cannot_emit_terminal_escapes() {
        let mut report = sample_report();
        let evil = report
            .files
            .iter_mut()
            .find(|f| f.path == "models/evil model.pkl")
            .unwrap();
        evil.findings[0].evidence = Some("\u{1b}[2J\u{202e}evil".into());
        let out = render_to_string(render, &report, &RenderOptions::default());
        assert!(!out.contains('\u{1b}'));
        assert!(!out.contains('\u{202e}'));
        assert!(out.contains("evidence: \\u{1b}[2J\\u{202e}evil"), "{out}");
    }

    #[test]
    fn clean_report_passes() {
        let report = Report::new(vec![], crate::report::Thresholds::DEFAULT);
        let out = render_to_string(render, &report, &RenderOptions::default());
        assert!(out.starts_with("No findings.\n"), "{out}");
        assert!(out.ends_with("  reached:    none\nPASS\n"), "{out}");
    }
}
