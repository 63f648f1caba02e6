//! `--resolve-models`: each constant Hub reference of the repository's code is resolved
//! through the Hub API to a commit and scanned exactly like `hf://OWNER/NAME@REVISION`
//! (range reads, `HF_ENDPOINT`, `HF_TOKEN`, `HF_HUB_OFFLINE`). The model's findings are
//! reported at their `hf://…` locations; the call site gets one `model-ref-risky` finding
//! carrying the worst of them, with the worst model file as a related location. A
//! reference that cannot be resolved (offline, 401, 404) is `model-ref-unresolved`, never
//! a pass.

use std::collections::BTreeMap;

use crate::finding::{Finding, Related, Severity};
use crate::report::{FileReport, FileStatus};
use crate::rules::RuleId;
use crate::settings::Settings;
use crate::target::{Input, Origin, Source, Target};

use super::{references_in, Reference, MAX_SOURCE};

/// The call sites of one (repository, revision): (source file, reference).
type Sites = Vec<(String, Reference)>;

/// Most distinct repositories resolved in one run.
const MAX_RESOLVED: usize = 256;

/// The constant references of the local `.py`/`.ipynb` inputs.
fn collect(inputs: &[Input]) -> Vec<(String, Reference)> {
    let mut out = Vec::new();
    for input in inputs {
        let Source::Local(path) = &input.source else {
            continue;
        };
        if input.skip.is_some()
            || !(input.display.ends_with(".py") || input.display.ends_with(".ipynb"))
        {
            continue;
        }
        let Ok(meta) = std::fs::metadata(path) else {
            continue;
        };
        if meta.len() > MAX_SOURCE {
            continue;
        }
        let Ok(raw) = std::fs::read(path) else {
            continue;
        };
        let text = String::from_utf8_lossy(&raw);
        for r in references_in(&text, &input.display) {
            out.push((input.display.clone(), r));
        }
    }
    out
}

/// Resolves and scans the references of `inputs`; appends the model files' reports to
/// `files` and the call-site findings to the source files' reports.
pub fn resolve(
    files: &mut Vec<FileReport>,
    inputs: &[Input],
    settings: &Settings,
    scan_input: &(dyn Fn(&Input) -> FileReport + Sync),
) {
    let refs = collect(inputs);
    let mut by_repo: BTreeMap<(String, Option<String>), Sites> = BTreeMap::new();
    for (file, r) in refs {
        by_repo
            .entry((r.repo.clone(), r.revision.clone()))
            .or_default()
            .push((file, r));
    }
    let mut call_site: Vec<(String, Finding)> = Vec::new();
    for (n, ((repo, revision), sites)) in by_repo.into_iter().enumerate() {
        let spec = match &revision {
            Some(rev) => format!("hf://{repo}@{rev}"),
            None => format!("hf://{repo}"),
        };
        let unresolved = |why: String| -> Vec<(String, Finding)> {
            sites
                .iter()
                .map(|(file, r)| {
                    (
                        file.clone(),
                        Finding::new(
                            RuleId::ModelRefUnresolved,
                            r.location.clone(),
                            format!("`{}` pulls `{spec}`, which could not be resolved and scanned: {why}", r.callee),
                        ),
                    )
                })
                .collect()
        };
        if n >= MAX_RESOLVED {
            call_site.extend(unresolved(format!(
                "more than {MAX_RESOLVED} repositories are referenced; the rest were not fetched"
            )));
            continue;
        }
        let target = match Target::parse(&spec, &settings.env.hf) {
            Ok(t) => t,
            Err(e) => {
                call_site.extend(unresolved(e));
                continue;
            }
        };
        let filters = match crate::filters::Filters::new(&[], &[], None) {
            Ok(f) => f,
            Err(e) => {
                call_site.extend(unresolved(e));
                continue;
            }
        };
        let plan = match crate::plan::plan(&[target], &filters, &settings.remote, &settings.env.hf)
        {
            Ok(p) => p,
            Err(e) => {
                call_site.extend(unresolved(e));
                continue;
            }
        };
        let mut reports: Vec<FileReport> = plan
            .inputs
            .iter()
            .map(|i| {
                let mut r = scan_input(i);
                r.origin = i.origin;
                r
            })
            .collect();
        let errored = reports.iter().any(|r| r.status == FileStatus::Error);
        let worst = reports
            .iter()
            .flat_map(|r| r.findings.iter().map(move |f| (f.severity, r)))
            .max_by_key(|(s, _)| *s);
        if worst.is_none_or(|(s, _)| s < Severity::Medium) && (errored || reports.is_empty()) {
            call_site.extend(unresolved(if reports.is_empty() {
                "the repository lists no files".into()
            } else {
                "some of its files could not be read".into()
            }));
        }
        for (file, r) in &sites {
            if let Some((sev, model)) = worst.filter(|(s, _)| *s >= Severity::Medium) {
                let f = Finding::new(
                    RuleId::ModelRefRisky,
                    r.location.clone(),
                    format!(
                        "`{}` pulls `{spec}`, whose files give {sev} findings (worst: {})",
                        r.callee, model.path
                    ),
                )
                .with_severity(sev)
                .with_related(Related {
                    location: crate::finding::Location::file(model.path.clone()),
                    origin: model.origin,
                    message: "the model file with the worst finding".into(),
                });
                call_site.push((file.clone(), f));
            }
        }
        for r in &mut reports {
            if r.origin == Origin::Local {
                r.origin = Origin::Hf;
            }
        }
        files.append(&mut reports);
    }
    for (file, f) in call_site {
        if let Some(report) = files.iter_mut().find(|r| r.path == file) {
            report.findings.push(f);
            report
                .findings
                .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        }
    }
}
