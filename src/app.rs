//! Runs a command: settings → discover → scan (in parallel) → policy → reports → exit code.

use std::fs::{File, OpenOptions};
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;

use rayon::prelude::*;

use crate::cli::{Cli, Command, InitArgs, OutputFormat, ReportArgs, RulesArgs, ScanArgs};
use crate::discover::Filters;
use crate::merge;
use crate::report::{self, FileReport, FileStatus, RenderOptions, Report, Verdict};
use crate::rules::RuleId;
use crate::scan;
use crate::settings::Settings;

/// Exit codes (SPEC §2).
pub const EXIT_PASS: u8 = 0;
pub const EXIT_FAIL: u8 = 1;

pub fn run(cli: Cli) -> Result<u8, String> {
    match cli.command {
        Command::Scan(args) => scan_command(*args),
        Command::Rules(args) => rules_command(&args),
        Command::Init(args) => init_command(&args),
        Command::Merge(args) => merge::merge_command(&args),
    }
}

fn scan_command(args: ScanArgs) -> Result<u8, String> {
    let mut settings = Settings::resolve(&args)?;
    let mut targets: Vec<String> = args.targets.clone();
    targets.extend(args.huggingface.iter().map(|r| format!("hf://{r}")));
    if targets.is_empty() {
        targets.push(".".into());
    }
    let filters = Filters::new(&settings.include, &settings.exclude, settings.shard)?;
    let plan = crate::remote::plan(&targets, &filters, &settings.remote)?;
    let inputs = plan.inputs;

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.jobs.unwrap_or(0))
        .build()
        .map_err(|e| format!("cannot start worker threads: {e}"))?;
    let progress = crate::progress::Progress::new(inputs.len(), !args.no_progress)
        .with_fetched(plan.client.clone());
    let allow = |m: &str, n: &str| settings.allow_global(m, n);
    let files: Vec<Vec<FileReport>> = pool.install(|| {
        inputs
            .par_iter()
            .map(|input| {
                let r = if let Some(err) = &input.error {
                    FileReport::errored(
                        &input.display,
                        RuleId::ContentNotScanned,
                        err.clone(),
                        format!("cannot read: {err}"),
                    )
                } else if let Some(reason) = &input.skip {
                    FileReport {
                        path: input.display.clone(),
                        status: FileStatus::Skipped,
                        reason: Some(reason.clone()),
                        format: None,
                        size: 0,
                        findings: Vec::new(),
                    }
                } else if let Some(remote) = &input.remote {
                    crate::remote::scan_remote(remote, &input.display, &settings.limits, &allow)
                } else {
                    scan::scan_file(&input.path, &input.display, &settings.limits, &allow)
                };
                progress.tick();
                let mut all = crate::remote::expand_aliases(&r, &input.aliases);
                all.insert(0, r);
                all
            })
            .collect()
    });
    progress.finish();
    let mut files: Vec<FileReport> = files.into_iter().flatten().collect();

    crate::remote::hub_findings(&plan.packages, &mut files, &settings.remote);
    settings.policy.apply(&mut files);
    // Rego sees the report after suppressions; its own findings are then subject to
    // `ignore:` like any other.
    let before: Vec<usize> = files.iter().map(|f| f.findings.len()).collect();
    let thresholds = settings.thresholds;
    crate::rego::apply(&mut settings.rego, &plan.packages, &mut files, thresholds)?;
    for (i, f) in files.iter_mut().enumerate() {
        let start = before.get(i).copied().unwrap_or(0);
        if f.findings.len() > start {
            settings.policy.suppress_new(f, start);
        }
    }
    let report = Report::new(files, settings.thresholds);
    emit(&report, &args.report)
}

/// Writes the requested report files, the stdout format, and in GitHub Actions the job
/// summary and step outputs; returns the exit code for the verdict. Shared by `scan` and
/// `merge`, so a merged report reads exactly like a single run's.
pub(crate) fn emit(report: &Report, args: &ReportArgs) -> Result<u8, String> {
    let opts = &RenderOptions {
        color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        show_skipped: args.show_skipped,
        category: args.category.clone(),
    };
    let (format, sarif, json) = (args.format, args.sarif.as_ref(), args.json.as_ref());
    if let Some(p) = sarif {
        write_file(p, |w| report::sarif::render(report, opts, w))?;
    }
    if let Some(p) = json {
        write_file(p, |w| report::json::render(report, opts, w))?;
    }
    let github = std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true");
    let format = format.unwrap_or(if github {
        OutputFormat::Github
    } else {
        OutputFormat::Text
    });
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let res = match format {
        OutputFormat::Text => report::text::render(report, opts, &mut out),
        OutputFormat::Json => report::json::render(report, opts, &mut out),
        OutputFormat::Sarif => report::sarif::render(report, opts, &mut out),
        OutputFormat::Github => {
            let r = report::github::render(report, opts, &mut out);
            // The annotations alone don't show the whole picture: a text summary follows.
            r.and_then(|_| report::text::render(report, opts, &mut out))
        }
    };
    ignore_broken_pipe(res).map_err(|e| format!("cannot write report: {e}"))?;
    if github || format == OutputFormat::Github {
        if let Some(p) = std::env::var_os("GITHUB_STEP_SUMMARY") {
            append_file(&PathBuf::from(p), |w| {
                report::github::write_step_summary(report, w)
            })?;
        }
        if let Some(p) = std::env::var_os("GITHUB_OUTPUT") {
            append_file(&PathBuf::from(p), |w| {
                report::github::write_outputs(report, w)
            })?;
        }
    }
    Ok(match report.verdict {
        Verdict::Pass => EXIT_PASS,
        Verdict::Fail => EXIT_FAIL,
    })
}

fn ignore_broken_pipe(r: io::Result<()>) -> io::Result<()> {
    match r {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

fn write_file(
    path: &PathBuf,
    f: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), String> {
    let mut file = File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    f(&mut file)
        .and_then(|_| file.flush())
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn append_file(
    path: &PathBuf,
    f: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), String> {
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    f(&mut file)
        .and_then(|_| file.flush())
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn rules_command(args: &RulesArgs) -> Result<u8, String> {
    let out = match args.format.as_str() {
        "markdown" | "md" => crate::rules::markdown(),
        "json" => {
            let v: Vec<serde_json::Value> = crate::rules::RULES
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "id": r.id, "name": r.name, "severity": r.severity, "short": r.short,
                        "description": r.full, "remediation": r.remediation, "tags": r.tags(), "cwe": r.cwe,
                    })
                })
                .collect();
            serde_json::to_string_pretty(&v).map_err(|e| e.to_string())? + "\n"
        }
        "text" => {
            let mut s = String::new();
            for r in crate::rules::RULES {
                s.push_str(&format!(
                    "{:<24} {:<9} {}\n",
                    r.id,
                    r.severity.as_str(),
                    r.short
                ));
                s.push_str(&format!("{:<34} fix: {}\n", "", r.remediation));
            }
            s
        }
        other => {
            return Err(format!(
                "rules --format: unknown format `{other}` (text, json, markdown)"
            ))
        }
    };
    ignore_broken_pipe(io::stdout().write_all(out.as_bytes())).map_err(|e| e.to_string())?;
    Ok(EXIT_PASS)
}

fn init_command(args: &InitArgs) -> Result<u8, String> {
    if args.path.exists() && !args.force {
        return Err(format!(
            "{} already exists (use --force to overwrite)",
            args.path.display()
        ));
    }
    std::fs::write(&args.path, crate::config::INIT_TEMPLATE)
        .map_err(|e| format!("{}: {e}", args.path.display()))?;
    eprintln!("wrote {}", args.path.display());
    Ok(EXIT_PASS)
}
