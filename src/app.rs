//! Runs a command: settings → discover → scan (in parallel) → policy → reports → exit code.

use std::fs::{File, OpenOptions};
use std::io::{self, IsTerminal, Write};
use std::path::Path;

use rayon::prelude::*;

use crate::cli::{Cli, Command, InitArgs, OutputFormat, ReportArgs, RulesArgs, ScanArgs};
use crate::env::Env;
use crate::filters::Filters;
use crate::finding::{Finding, Location};
use crate::merge;
use crate::report::{self, FileReport, FileStatus, RenderOptions, Report, Verdict};
use crate::rules::RuleId;
use crate::scan;
use crate::settings::Settings;
use crate::target::{Input, Source};

/// Exit codes (SPEC §2).
pub const EXIT_PASS: u8 = 0;
pub const EXIT_FAIL: u8 = 1;

pub fn run(cli: Cli) -> Result<u8, String> {
    let env = Env::from_process();
    match cli.command {
        Command::Scan(args) => scan_command(*args, env),
        Command::Rules(args) => rules_command(&args),
        Command::Init(args) => init_command(&args),
        Command::Merge(args) => merge::merge_command(&args, &env),
        Command::Convert(args) => crate::convert::convert_command(&args, &env),
        Command::Lock(args) => crate::refs::resolve::lock_command(&args, env),
    }
}

/// The inputs of the settings' targets, filtered (include, exclude, shard).
pub(crate) fn plan_of(settings: &Settings) -> Result<crate::target::Plan, String> {
    let filters = Filters::new(&settings.include, &settings.exclude, settings.shard)?;
    crate::plan::plan(
        &settings.targets,
        &filters,
        &settings.remote,
        &settings.env.hf,
    )
}

fn scan_command(args: ScanArgs, env: Env) -> Result<u8, String> {
    let mut settings = Settings::resolve(&args, env)?;
    let plan = plan_of(&settings)?;
    let inputs = plan.inputs;
    crate::refs::set_trusted_orgs(settings.remote.trusted_orgs.clone());
    crate::python::first_party::register(
        inputs
            .iter()
            .filter_map(|i| match &i.source {
                Source::Local(p) if i.error.is_none() => Some((i.display.clone(), p.clone())),
                _ => None,
            })
            .collect(),
    );

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.jobs.unwrap_or(0))
        .build()
        .map_err(|e| format!("cannot start worker threads: {e}"))?;
    let progress = crate::progress::Progress::new(inputs.len(), !args.no_progress, settings.env.ci)
        .with_fetched(plan.client.clone());
    let allow = |m: &str, n: &str| settings.allow_global(m, n);
    let show_skipped = args.report.show_skipped;
    let files: Vec<Vec<FileReport>> = pool.install(|| {
        inputs
            .par_iter()
            .map(|input| {
                let mut r = scan_input(input, &settings.limits, &allow);
                r.origin = input.origin;
                if show_skipped && r.status == FileStatus::Skipped {
                    r.findings.push(skipped_finding(&r));
                }
                progress.tick();
                let mut all = crate::remote::expand_aliases(&r, &input.aliases);
                all.insert(0, r);
                all
            })
            .collect()
    });
    progress.finish();
    let mut files: Vec<FileReport> = files.into_iter().flatten().collect();
    // What loaders read besides the file they are handed (remote code, MLflow loaders).
    crate::repo::repo_findings(&inputs, &mut files, &settings.limits);

    // The models the code pulls: the lock, and resolution when asked for.
    let lock = crate::refs::lock::Lock::read(&settings.lock_path)?;
    let scan_one = |i: &Input| scan_input(i, &settings.limits, &allow);
    let models =
        crate::refs::resolve::project(&mut files, &inputs, &settings, lock.as_ref(), &scan_one);
    crate::remote::hub_findings(&plan.packages, &mut files, &settings.remote);
    let mut report = settings.policy.judge(files, &plan.packages)?;
    report.models = models;
    emit(&report, &args.report, &settings.env)
}

/// Scans one input; never fails: what cannot be read is the report.
pub(crate) fn scan_input(
    input: &Input,
    limits: &crate::limits::Limits,
    allow: &scan::AllowFn,
) -> FileReport {
    if let Some(err) = &input.error {
        return FileReport::errored(
            &input.display,
            RuleId::ContentNotScanned,
            err.clone(),
            format!("cannot read: {err}"),
        );
    }
    if let Some(reason) = &input.skip {
        return FileReport {
            path: input.display.clone(),
            origin: input.origin,
            status: FileStatus::Skipped,
            reason: Some(reason.clone()),
            format: None,
            size: 0,
            findings: Vec::new(),
        };
    }
    match &input.source {
        Source::Remote(remote) => crate::remote::scan_remote(remote, &input.display, limits, allow),
        Source::Local(path) => scan::scan_file(path, &input.display, limits, allow),
    }
}

/// The inventory finding of a skipped file (`--show-skipped`).
fn skipped_finding(r: &FileReport) -> Finding {
    Finding::new(
        RuleId::FileSkipped,
        Location::file(r.path.clone()),
        format!(
            "skipped: {}",
            r.reason
                .as_deref()
                .unwrap_or("content matches no format that can carry code")
        ),
    )
}

/// Writes the requested report files, the stdout format, and in GitHub Actions the job
/// summary and step outputs; returns the exit code for the verdict. Shared by `scan` and
/// `merge`, so a merged report reads exactly like a single run's.
pub(crate) fn emit(report: &Report, args: &ReportArgs, env: &Env) -> Result<u8, String> {
    let opts = &RenderOptions {
        color: std::io::stdout().is_terminal() && !env.no_color,
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
    if let Some(p) = &args.cyclonedx {
        write_file(p, |w| report::cyclonedx::render(report, opts, w))?;
    }
    let github = env.github_actions;
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
        OutputFormat::Cyclonedx => report::cyclonedx::render(report, opts, &mut out),
        OutputFormat::Github => {
            let r = report::github::render(report, opts, &mut out);
            // The annotations alone don't show the whole picture: a text summary follows.
            r.and_then(|_| report::text::render(report, opts, &mut out))
        }
    };
    ignore_broken_pipe(res).map_err(|e| format!("cannot write report: {e}"))?;
    if github || format == OutputFormat::Github {
        if let Some(p) = &env.step_summary {
            append_file(p, |w| report::github::write_step_summary(report, w))?;
        }
        if let Some(p) = &env.github_output {
            append_file(p, |w| report::github::write_outputs(report, w))?;
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

fn write_file(path: &Path, f: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<(), String> {
    let mut file = File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    f(&mut file)
        .and_then(|_| file.flush())
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn append_file(
    path: &Path,
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
