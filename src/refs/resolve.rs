//! The project-level pass over the model references of the scanned code (SPEC §8), after
//! every file was scanned:
//!
//! - with a `modelgate.lock`, each reference is checked against it offline:
//!   `model-ref-unlocked` when it has no entry, `model-ref-drift` when the code pins a
//!   commit the lock does not record; a locked reference carries the locked verdict
//!   (`model-ref-risky` at the call site when it is medium or worse) and is not fetched;
//! - with `--resolve-models`, every other constant reference is resolved through the Hub
//!   API and the files that call downloads are scanned exactly like
//!   `hf://OWNER/NAME@REVISION` (range reads, `HF_ENDPOINT`, `HF_TOKEN`,
//!   `HF_HUB_OFFLINE`). The model's findings are reported at their `hf://…` locations; the
//!   call site gets one `model-ref-risky` finding carrying the worst of them, with the worst
//!   model file as a related location. A reference that cannot be resolved (offline, 401,
//!   404, a file the call names that the repository lacks) is `model-ref-unresolved`,
//!   never a pass.
//!
//! `modelgate lock` ([`lock_command`]) runs the same resolution and writes the lock.

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;

use crate::finding::{Finding, Location, Related, Severity};
use crate::report::{FileReport, FileStatus, ModelRef, ModelSite, ModelState};
use crate::rules::RuleId;
use crate::settings::Settings;
use crate::target::{Input, Origin, PackageKind, Source, Target};

use super::lock::{Entry, Lock, LockedFile, VERSION};
use super::{config, is_commit, references_in, Downloads, Reference, MAX_SOURCE};

/// Most distinct repositories resolved in one run.
const MAX_RESOLVED: usize = 256;

/// The call sites of one (repository, requested revision).
type Sites = Vec<(String, Reference)>;

/// Scans one input (the scanner of the run, with its limits and allowlist).
pub type ScanInput<'a> = dyn Fn(&Input) -> FileReport + Sync + 'a;

/// Format labels of configs the scan read for model references (`formats::config`
/// claims a `.yaml`/`.json`/`.toml` that mentions a model key under one of these).
const CONFIG_LABELS: &[&str] = &["model-config", "hydra-config", "chat-template"];

/// The constant references of the local `.py`/`.ipynb` inputs and configs, grouped by
/// (repository, requested revision). With `scanned`, the reports of this run, a config is
/// read again only when its scan claimed it as a config (other `.json`/`.yaml` files,
/// tokenizer.json and the like, mention no model key); without, every config is searched.
fn collect(
    inputs: &[Input],
    scanned: Option<&[FileReport]>,
) -> BTreeMap<(String, Option<String>), Sites> {
    let claimed: Option<BTreeSet<&str>> = scanned.map(|reports| {
        reports
            .iter()
            .filter(|r| {
                r.format
                    .as_deref()
                    .is_some_and(|f| CONFIG_LABELS.contains(&f))
            })
            .map(|r| r.path.as_str())
            .collect()
    });
    let mut out: BTreeMap<(String, Option<String>), Sites> = BTreeMap::new();
    for input in inputs {
        let Source::Local(path) = &input.source else {
            continue;
        };
        let source = input.display.ends_with(".py") || input.display.ends_with(".ipynb");
        let config = config::is_config_name(&input.display)
            && claimed
                .as_ref()
                .is_none_or(|c| c.contains(input.display.as_str()));
        if input.skip.is_some() || input.error.is_some() || !(source || config) {
            continue;
        }
        // Over the limit or unreadable: the file's own scan reports it.
        let max = if source {
            MAX_SOURCE
        } else {
            crate::formats::config::MAX_TEXT
        };
        if std::fs::metadata(path).map_or(true, |m| m.len() > max) {
            continue;
        }
        let Ok(raw) = std::fs::read(path) else {
            continue;
        };
        if config && !config::mentions_key(&raw) {
            continue;
        }
        let text = String::from_utf8_lossy(&raw);
        let refs = if source {
            references_in(&text, &input.display)
        } else {
            let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
            // A config that does not parse: its own scan reports it.
            config::text_analysis(text, &input.display, &[]).map_or_else(|_| Vec::new(), |(_, r)| r)
        };
        for r in refs {
            out.entry((r.repo.clone(), r.revision.clone()))
                .or_default()
                .push((input.display.clone(), r));
        }
    }
    out
}

fn spec(repo: &str, requested: Option<&str>) -> String {
    match requested {
        Some(rev) => format!("hf://{repo}@{rev}"),
        None => format!("hf://{repo}"),
    }
}

/// A resolved reference: its lock entry and the reports of the files scanned.
struct Fetched {
    entry: Entry,
    reports: Vec<FileReport>,
}

/// Whether the call downloads `path` of a repository whose files are `all`.
fn downloaded(path: &str, all: &BTreeSet<&str>, downloads: &[Downloads]) -> bool {
    downloads.iter().any(|d| match d {
        Downloads::All => true,
        Downloads::File(f) => f == path,
        Downloads::Model { remote_code } => {
            let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
            if name.ends_with(".py") {
                return *remote_code;
            }
            // The model card, licence and images are not what a loader fetches.
            let lower = name.to_ascii_lowercase();
            if [".md", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"]
                .iter()
                .any(|e| lower.ends_with(e))
                || lower == ".gitattributes"
                || lower.starts_with("license")
            {
                return false;
            }
            let pickle_weight = [".bin", ".pt", ".pth", ".ckpt", ".pkl"]
                .iter()
                .any(|e| name.ends_with(e));
            // The libraries prefer safetensors: a folder with safetensors weights has its
            // pickle weights left on the Hub.
            let has_safetensors = all.iter().any(|p| {
                let (d, n) = p.rsplit_once('/').unwrap_or(("", p));
                d == dir && n.ends_with(".safetensors")
            });
            !(pickle_weight && has_safetensors)
        }
    })
}

/// Resolves `repo` at `requested` and scans the files `downloads` fetch.
fn fetch(
    repo: &str,
    requested: Option<&str>,
    downloads: &[Downloads],
    settings: &Settings,
    scan_input: &ScanInput,
) -> Result<Fetched, String> {
    let target = Target::parse(&spec(repo, requested), &settings.env.hf)?;
    let filters = crate::filters::Filters::new(&[], &[], None)?;
    let plan = crate::plan::plan(&[target], &filters, &settings.remote, &settings.env.hf)?;
    let pkg = plan
        .packages
        .iter()
        .find(|p| {
            matches!(
                p.kind,
                PackageKind::HuggingFace | PackageKind::HuggingFaceCache
            )
        })
        .ok_or("the Hub returned no repository")?;
    let prefix = format!("{}/", pkg.root);
    let rel = |display: &str| display.strip_prefix(&prefix).map(str::to_string);
    let all: Vec<String> = plan.inputs.iter().filter_map(|i| rel(&i.display)).collect();
    let all_set: BTreeSet<&str> = all.iter().map(String::as_str).collect();
    for d in downloads {
        if let Downloads::File(f) = d {
            if !all_set.contains(f.as_str()) {
                return Err(format!("the repository has no file `{f}`"));
            }
        }
    }
    let inputs: Vec<&Input> = plan
        .inputs
        .iter()
        .filter(|i| rel(&i.display).is_some_and(|p| downloaded(&p, &all_set, downloads)))
        .collect();
    if inputs.is_empty() {
        return Err("the repository lists no files the call downloads".into());
    }
    let mut reports: Vec<FileReport> = inputs
        .par_iter()
        .map(|i| {
            let mut r = scan_input(i);
            r.origin = i.origin;
            r
        })
        .collect();
    // With trust_remote_code the loader imports the repository's code.
    if downloads
        .iter()
        .any(|d| matches!(d, Downloads::Model { remote_code: true } | Downloads::All))
    {
        let owned: Vec<Input> = inputs.iter().map(|i| (*i).clone()).collect();
        crate::repo::repo_findings(&owned, &mut reports, &settings.limits);
    }
    let errored: Vec<&FileReport> = reports
        .iter()
        .filter(|r| r.status == FileStatus::Error)
        .collect();
    let worst = |r: &FileReport| r.findings.iter().map(|f| f.severity).max();
    if let Some(e) = errored.first() {
        if reports.iter().filter_map(worst).max() < Some(Severity::Medium) {
            return Err(format!(
                "{} could not be read: {}",
                e.path,
                e.reason.as_deref().unwrap_or("unknown error")
            ));
        }
    }
    let hashes = pkg.hub.as_ref().map(|h| &h.file_hashes);
    let files: Vec<LockedFile> = reports
        .iter()
        .filter_map(|r| {
            let path = rel(&r.path)?;
            let (size, hash) = hashes
                .and_then(|h| h.get(&path))
                .cloned()
                .unwrap_or((r.size, Default::default()));
            Some(LockedFile {
                path,
                size,
                sha256: hash.sha256,
                git_oid: hash.git_oid,
                verdict: worst(r),
            })
        })
        .collect();
    for r in &mut reports {
        if r.origin == Origin::Local {
            r.origin = Origin::Hf;
        }
    }
    Ok(Fetched {
        entry: Entry {
            repo: repo.to_string(),
            requested: requested.map(str::to_string),
            commit: pkg.version.clone(),
            verdict: files.iter().filter_map(|f| f.verdict).max(),
            files,
        },
        reports,
    })
}

fn downloads_of(sites: &Sites) -> Vec<Downloads> {
    let mut d: Vec<Downloads> = Vec::new();
    for (_, r) in sites {
        if !d.contains(&r.downloads) {
            d.push(r.downloads.clone());
        }
    }
    d
}

/// What the lock says about one reference: the usable entry, or the finding.
enum LockCheck<'a> {
    Locked(&'a Entry),
    Finding(RuleId, String),
}

fn check_lock<'a>(lock: &'a Lock, repo: &str, requested: Option<&str>) -> LockCheck<'a> {
    let shown = spec(repo, requested);
    let exact = lock.get(repo, requested);
    let pin = requested.filter(|r| is_commit(r));
    match (exact, pin) {
        (Some(e), Some(pin)) if !e.commit.eq_ignore_ascii_case(pin) => LockCheck::Finding(
            RuleId::ModelRefDrift,
            format!(
                "`{shown}` is locked at commit {}, not the commit the code pins",
                e.commit
            ),
        ),
        (Some(e), _) => LockCheck::Locked(e),
        (None, _) => {
            let others: Vec<String> = lock
                .others(repo, requested)
                .map(|e| {
                    format!(
                        "{} ({})",
                        e.requested.as_deref().unwrap_or("default branch"),
                        e.commit
                    )
                })
                .collect();
            match (pin, others.is_empty()) {
                (Some(_), false) => LockCheck::Finding(
                    RuleId::ModelRefDrift,
                    format!(
                        "`{shown}`: the code pins a commit that modelgate.lock does not record for `{repo}` (locked: {})",
                        others.join(", ")
                    ),
                ),
                (_, false) => LockCheck::Finding(
                    RuleId::ModelRefUnlocked,
                    format!(
                        "`{shown}` is not in modelgate.lock (locked for `{repo}`: {})",
                        others.join(", ")
                    ),
                ),
                (_, true) => LockCheck::Finding(
                    RuleId::ModelRefUnlocked,
                    format!("`{shown}` is not in modelgate.lock"),
                ),
            }
        }
    }
}

fn site(file: &str, r: &Reference) -> ModelSite {
    ModelSite {
        path: file.to_string(),
        line: r.location.line,
        column: r.location.column,
        callee: r.callee.clone(),
    }
}

/// The `model-ref-risky` finding at a call site for a model whose worst file is `worst`.
fn risky(r: &Reference, shown: &str, sev: Severity, worst: &str, locked: bool) -> Finding {
    let when = if locked {
        " (as scanned when locked)"
    } else {
        ""
    };
    Finding::new(
        RuleId::ModelRefRisky,
        r.location.clone(),
        format!(
            "`{}` pulls `{shown}`, whose files give {sev} findings{when} (worst: {worst})",
            r.callee
        ),
    )
    .with_severity(sev)
    .with_related(Related {
        location: Location::file(worst.to_string()),
        origin: Origin::Hf,
        message: "the model file with the worst finding".into(),
    })
}

/// The project pass (see the module documentation). Appends the resolved models' file
/// reports to `files` and the call-site findings to the source files' reports; returns
/// the references for the report.
pub fn project(
    files: &mut Vec<FileReport>,
    inputs: &[Input],
    settings: &Settings,
    lock: Option<&Lock>,
    scan_input: &ScanInput,
) -> Vec<ModelRef> {
    let mut call_site: Vec<(String, Finding)> = Vec::new();
    let mut models = Vec::new();
    let mut fetched_repos = 0usize;
    for ((repo, requested), sites) in collect(inputs, Some(files.as_slice())) {
        let shown = spec(&repo, requested.as_deref());
        let mut model = ModelRef {
            repo: repo.clone(),
            requested: requested.clone(),
            commit: requested.clone().filter(|r| is_commit(r)),
            state: ModelState::NotResolved,
            verdict: None,
            files: Vec::new(),
            sites: sites.iter().map(|(f, r)| site(f, r)).collect(),
        };
        let at_sites = |rule: RuleId, msg: &dyn Fn(&Reference) -> String| {
            sites
                .iter()
                .map(|(file, r)| (file.clone(), Finding::new(rule, r.location.clone(), msg(r))))
                .collect::<Vec<_>>()
        };
        let mut locked = None;
        if let Some(lock) = lock {
            match check_lock(lock, &repo, requested.as_deref()) {
                LockCheck::Locked(e) => locked = Some(e),
                LockCheck::Finding(rule, why) => call_site.extend(at_sites(rule, &|r| {
                    format!("`{}` pulls a model: {why}", r.callee)
                })),
            }
        }
        if let Some(e) = locked {
            model.state = ModelState::Locked;
            model.commit = Some(e.commit.clone());
            model.verdict = e.verdict;
            model.files = e.files.clone();
            if let (Some(sev), Some(worst)) = (e.verdict, e.worst_file()) {
                if sev >= Severity::Medium {
                    let at = format!("hf://{repo}@{}/{}", e.commit, worst.path);
                    for (file, r) in &sites {
                        call_site.push((file.clone(), risky(r, &shown, sev, &at, true)));
                    }
                }
            }
        } else if settings.resolve_models {
            let result = if fetched_repos >= MAX_RESOLVED {
                Err(format!(
                    "more than {MAX_RESOLVED} repositories are referenced; the rest were not fetched"
                ))
            } else {
                fetched_repos += 1;
                let scan = |i: &Input| scan_input(i);
                fetch(
                    &repo,
                    requested.as_deref(),
                    &downloads_of(&sites),
                    settings,
                    &scan,
                )
            };
            match result {
                Ok(mut f) => {
                    model.state = ModelState::Resolved;
                    model.commit = Some(f.entry.commit.clone());
                    model.verdict = f.entry.verdict;
                    model.files = f.entry.files.clone();
                    let worst = f
                        .reports
                        .iter()
                        .filter_map(|r| r.findings.iter().map(|x| x.severity).max().map(|s| (s, r)))
                        .max_by_key(|(s, _)| *s);
                    if let Some((sev, worst)) = worst.filter(|(s, _)| *s >= Severity::Medium) {
                        for (file, r) in &sites {
                            call_site
                                .push((file.clone(), risky(r, &shown, sev, &worst.path, false)));
                        }
                    }
                    files.append(&mut f.reports);
                }
                Err(why) => {
                    model.state = ModelState::Unresolved;
                    call_site.extend(at_sites(RuleId::ModelRefUnresolved, &|r| {
                        format!(
                            "`{}` pulls `{shown}`, which could not be resolved and scanned: {why}",
                            r.callee
                        )
                    }));
                }
            }
        }
        models.push(model);
    }
    for (file, f) in call_site {
        if let Some(report) = files.iter_mut().find(|r| r.path == file) {
            report.findings.push(f);
            report
                .findings
                .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        }
    }
    models
}

/// What `modelgate lock` did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct LockOutcome {
    pub lock: Lock,
    /// References resolved and scanned in this run.
    pub fetched: usize,
    /// Entries kept as they were.
    pub kept: usize,
    /// References that could not be resolved: (reference, why). Not in the lock.
    pub failed: Vec<(String, String)>,
}

/// `modelgate lock`: the new lock for the references of `inputs`. An entry of `old` is
/// kept when its reference is unchanged (and `update` is off); other references are
/// resolved and scanned; entries no reference names any more are dropped.
pub fn build_lock(
    inputs: &[Input],
    settings: &Settings,
    old: Option<&Lock>,
    update: bool,
    scan_input: &ScanInput,
) -> LockOutcome {
    let mut out = LockOutcome {
        lock: Lock {
            version: VERSION,
            models: Vec::new(),
        },
        ..Default::default()
    };
    for ((repo, requested), sites) in collect(inputs, None) {
        let keep = old
            .filter(|_| !update)
            .map(|l| check_lock(l, &repo, requested.as_deref()));
        if let Some(LockCheck::Locked(e)) = keep {
            out.lock.models.push(e.clone());
            out.kept += 1;
            continue;
        }
        if out.fetched >= MAX_RESOLVED {
            out.failed.push((
                spec(&repo, requested.as_deref()),
                format!("more than {MAX_RESOLVED} repositories are referenced"),
            ));
            continue;
        }
        out.fetched += 1;
        match fetch(
            &repo,
            requested.as_deref(),
            &downloads_of(&sites),
            settings,
            scan_input,
        ) {
            Ok(f) => out.lock.models.push(f.entry),
            Err(why) => out.failed.push((spec(&repo, requested.as_deref()), why)),
        }
    }
    out.lock.normalise();
    out
}

/// `modelgate lock [TARGETS]`: writes the lock; exit 1 when a reference could not be
/// resolved (the others are written).
pub fn lock_command(args: &crate::cli::LockArgs, env: crate::env::Env) -> Result<u8, String> {
    let scan_args = crate::cli::ScanArgs {
        targets: args.targets.clone(),
        huggingface: Vec::new(),
        report: crate::cli::ReportArgs {
            config: args.config.clone(),
            no_config: args.no_config,
            format: None,
            sarif: None,
            json: None,
            cyclonedx: None,
            category: None,
            fail_on: None,
            show_skipped: false,
        },
        include: args.include.clone(),
        exclude: args.exclude.clone(),
        jobs: None,
        shard: None,
        no_progress: true,
        resolve_models: true,
        lock: args.lock.clone(),
    };
    let settings = Settings::resolve(&scan_args, env)?;
    let plan = crate::app::plan_of(&settings)?;
    let old = Lock::read(&settings.lock_path)?;
    let allow = |m: &str, n: &str| settings.allow_global(m, n);
    let scan = |i: &Input| crate::app::scan_input(i, &settings.limits, &allow);
    let outcome = build_lock(&plan.inputs, &settings, old.as_ref(), args.update, &scan);
    let unchanged = old
        .as_ref()
        .and_then(|o| o.render().ok())
        .zip(outcome.lock.render().ok())
        .is_some_and(|(a, b)| a == b);
    if !unchanged {
        outcome.lock.write(&settings.lock_path)?;
    }
    eprintln!(
        "{} {}: {} reference(s), {} resolved and scanned, {} unchanged",
        if unchanged { "unchanged" } else { "wrote" },
        settings.lock_path.display(),
        outcome.lock.models.len(),
        outcome.fetched - outcome.failed.len(),
        outcome.kept
    );
    for e in &outcome.lock.models {
        if let Some(sev) = e.verdict.filter(|s| *s >= Severity::Medium) {
            eprintln!(
                "  {} at {}: {sev} findings (run `modelgate scan` for the details)",
                e.repo, e.commit
            );
        }
    }
    for (r, why) in &outcome.failed {
        // Errors of the Hub client already start with the target.
        let why = why.strip_prefix(&format!("{r}: ")).unwrap_or(why);
        eprintln!("  not locked: {r}: {why}");
    }
    Ok(if outcome.failed.is_empty() {
        crate::app::EXIT_PASS
    } else {
        crate::app::EXIT_FAIL
    })
}
