//! Targets beyond local paths: `hf://owner/name[@rev]` (the Hugging Face Hub), plain
//! http(s) URLs, and the local Hugging Face cache. Each target becomes a [`Package`] (the
//! unit Rego policies and Hub verdicts talk about) and a list of [`Input`]s for the
//! scanner; remote files are read through [`http::HttpSource`] with range requests.

pub mod cache;
pub mod http;
pub mod hub;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::discover;
use crate::env::HfEnv;
use crate::filters::Filters;
use crate::finding::{Finding, Location};
use crate::limits::Limits;
use crate::report::{FileReport, FileStatus};
use crate::rules::RuleId;
use crate::scan::{self, AllowFn};
use crate::target::{CacheTarget, HubInfo, Input, Origin, Package, PackageKind, Plan, Source};
use http::{Client, Credential, HttpSource};

/// Format label of the entry that carries findings about a whole target (a Rego policy
/// result, an untrusted publisher): it is not a file, and is only added when there is
/// such a finding.
pub const TARGET_FORMAT: &str = "target";

/// A file to read over HTTP.
#[derive(Debug)]
pub struct RemoteFile {
    pub client: Arc<Client>,
    pub url: String,
    /// Known from a Hub listing; otherwise the first range response tells.
    pub size: Option<u64>,
}

/// What [`plan`] needs from the settings.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub hub_scan: bool,
    pub trusted_orgs: Vec<String>,
}

/// The HTTP client, sending the Hub token to the Hub endpoint's origin only.
pub fn client(hf: &HfEnv) -> Arc<Client> {
    let credential = hf.token.clone().and_then(|token| {
        Some(Credential {
            origin: http::origin(&hf.endpoint)?.to_string(),
            token,
        })
    });
    Arc::new(Client::new(
        credential,
        hf.backoff_ms.map(std::time::Duration::from_millis),
    ))
}

/// A plain URL target: one file, its own package.
pub fn plan_url(plan: &mut Plan, client: Arc<Client>, url: &str, filters: &Filters) {
    let display = http::redact(url).to_string();
    let mut pkg = Package {
        kind: PackageKind::Url,
        name: display.clone(),
        version: String::new(),
        root: display.clone(),
        files: BTreeSet::new(),
        hub: None,
    };
    pkg.files.insert(display.clone());
    plan.inputs.push(remote_input(
        filters,
        display,
        Origin::Url,
        RemoteFile {
            client,
            url: url.to_string(),
            size: None,
        },
    ));
    plan.packages.push(pkg);
}

/// An `hf-cache://` or local cache target.
pub fn plan_cache_target(
    plan: &mut Plan,
    target: &CacheTarget,
    filters: &Filters,
    hf: &HfEnv,
) -> Result<(), String> {
    match target {
        CacheTarget::Root { root, .. } => {
            plan_cache(plan, root, root, filters, discover::display_of(root), "")
        }
        CacheTarget::RepoDir { root, dir, id } => {
            plan_cache(plan, root, dir, filters, id.clone(), "")
        }
        CacheTarget::Repo(repo) => {
            let root = hf.cache_root.clone().ok_or(
                "hf-cache://: cannot find the Hugging Face cache (set HF_HUB_CACHE or HF_HOME)",
            )?;
            let shown = repo.shown();
            match &repo.revision {
                Some(rev) => {
                    let (sha, snap) =
                        cache::find_snapshot(&root, &repo.id, rev).ok_or_else(|| {
                            format!(
                                "hf-cache://{shown}: not in the Hugging Face cache at {}",
                                root.display()
                            )
                        })?;
                    plan_cache(plan, &root, &snap, filters, repo.id.clone(), &sha)
                }
                None => {
                    let dir = cache::repo_dir(&root, &repo.id);
                    if !cache::is_repo_dir(&dir) {
                        return Err(format!(
                            "hf-cache://{shown}: not in the Hugging Face cache at {}",
                            root.display()
                        ));
                    }
                    plan_cache(plan, &root, &dir, filters, repo.id.clone(), "")
                }
            }
        }
    }
}

/// An hf:// target: through the Hub API, or from the cache with `HF_HUB_OFFLINE`.
pub fn plan_hub_target(
    plan: &mut Plan,
    client: impl FnOnce() -> Arc<Client>,
    repo: &hub::RepoRef,
    filters: &Filters,
    opts: &Options,
    hf: &HfEnv,
) -> Result<(), String> {
    if hf.offline {
        plan_offline(plan, repo, filters, hf)
    } else {
        plan_hub(plan, client(), repo, filters, opts, &hf.endpoint)
    }
}

fn remote_input(filters: &Filters, display: String, origin: Origin, file: RemoteFile) -> Input {
    Input {
        source: Source::Remote(Arc::new(file)),
        skip: filters.skip_reason(&display),
        display,
        origin,
        error: None,
        aliases: Vec::new(),
    }
}

fn plan_hub(
    plan: &mut Plan,
    client: Arc<Client>,
    repo: &hub::RepoRef,
    filters: &Filters,
    opts: &Options,
    endpoint: &str,
) -> Result<(), String> {
    let r = hub::open(&client, endpoint, repo, opts.hub_scan)?;
    let root = r.root_display();
    let mut pkg = Package {
        kind: PackageKind::HuggingFace,
        name: repo.id.clone(),
        version: r.sha.clone(),
        root: root.clone(),
        files: BTreeSet::new(),
        hub: Some(HubInfo {
            owner: repo.owner().map(str::to_string),
            security: r.security.clone(),
            file_status: r
                .files
                .iter()
                .map(|f| (f.path.clone(), f.security.clone()))
                .collect(),
            file_hashes: r
                .files
                .iter()
                .map(|f| (f.path.clone(), (f.size, f.hash.clone())))
                .collect(),
        }),
    };
    for f in &r.files {
        let display = format!("{root}/{}", f.path);
        if !filters.in_shard(&display) {
            continue;
        }
        pkg.files.insert(display.clone());
        plan.inputs.push(remote_input(
            filters,
            display,
            Origin::Hf,
            RemoteFile {
                client: client.clone(),
                url: r.file_url(&f.path),
                size: Some(f.size),
            },
        ));
    }
    plan.packages.push(pkg);
    Ok(())
}

/// `HF_HUB_OFFLINE=1`: an hf:// target is served from the local cache, as
/// `huggingface_hub` does, or fails.
fn plan_offline(
    plan: &mut Plan,
    repo: &hub::RepoRef,
    filters: &Filters,
    hf: &HfEnv,
) -> Result<(), String> {
    let rev = repo.revision.as_deref().unwrap_or("main");
    let root = hf.cache_root.clone();
    let found = root
        .as_deref()
        .and_then(|r| cache::find_snapshot(r, &repo.id, rev).map(|s| (r.to_path_buf(), s)));
    match found {
        Some((root, (sha, snap))) => plan_cache(plan, &root, &snap, filters, repo.id.clone(), &sha),
        None => Err(format!(
            "hf://{}@{rev}: HF_HUB_OFFLINE is set and this revision is not in the Hugging Face cache{}",
            repo.id,
            root.map(|r| format!(" ({})", r.display()))
                .unwrap_or_default()
        )),
    }
}

fn plan_cache(
    plan: &mut Plan,
    root: &Path,
    target: &Path,
    filters: &Filters,
    name: String,
    version: &str,
) -> Result<(), String> {
    let (blobs, errors) = cache::list(root, target);
    let rel = target.strip_prefix(root).unwrap_or(target);
    let mut pkg = Package {
        kind: PackageKind::HuggingFaceCache,
        name,
        version: version.to_string(),
        root: if rel.as_os_str().is_empty() {
            discover::display_of(root)
        } else {
            rel.to_string_lossy().replace('\\', "/")
        },
        files: BTreeSet::new(),
        hub: None,
    };
    for blob in blobs {
        let mut displays: Vec<String> = blob
            .displays
            .into_iter()
            .filter(|d| filters.in_shard(d))
            .collect();
        if displays.is_empty() {
            continue;
        }
        let display = displays.remove(0);
        pkg.files.insert(display.clone());
        pkg.files.extend(displays.iter().cloned());
        plan.inputs.push(Input {
            source: Source::Local(blob.path),
            skip: filters.skip_reason(&display),
            display,
            origin: Origin::HfCache,
            error: None,
            aliases: displays,
        });
    }
    for (display, err) in errors {
        if !filters.in_shard(&display) {
            continue;
        }
        pkg.files.insert(display.clone());
        plan.inputs.push(Input {
            source: Source::Local(PathBuf::from(&display)),
            display,
            origin: Origin::HfCache,
            skip: None,
            error: Some(err),
            aliases: Vec::new(),
        });
    }
    plan.packages.push(pkg);
    Ok(())
}

/// Scans one remote file; never fails: a fetch error becomes the report.
pub fn scan_remote(
    file: &RemoteFile,
    display: &str,
    limits: &Limits,
    allow: &AllowFn,
) -> FileReport {
    // Only what the scanners read is fetched, and at most this much per file.
    let budget = limits.max_member_size.max(4 * http::BLOCK);
    let src = match file.size {
        Some(n) => HttpSource::new(file.client.clone(), file.url.clone(), n, budget),
        None => match HttpSource::open(file.client.clone(), file.url.clone(), budget) {
            Ok(s) => s,
            Err(e) => return fetch_error(display, e),
        },
    };
    let mut report = scan::scan_bytes(&src, display, limits, allow);
    if let Some(err) = src.last_error() {
        if report.status != FileStatus::Error {
            report.findings.push(Finding::new(
                RuleId::RemoteFetchFailed,
                Location::file(display),
                format!(
                    "part of the file could not be fetched, so it was not fully scanned: {err}"
                ),
            ));
        }
    }
    report
}

fn fetch_error(display: &str, err: String) -> FileReport {
    FileReport::errored(
        display,
        RuleId::RemoteFetchFailed,
        format!("cannot fetch: {err}"),
        format!("cannot fetch the file: {err}"),
    )
}

/// A file whose content can carry code (a scanned format, not data-only).
pub fn code_bearing(f: &FileReport) -> bool {
    f.status == FileStatus::Scanned && f.format.as_deref().is_some_and(|l| l != TARGET_FORMAT)
}

/// The entry for target-level findings of `pkg`, added on first use. When the target is
/// one file (a URL, a local file), that file's own entry.
pub fn target_entry<'a>(files: &'a mut Vec<FileReport>, pkg: &Package) -> &'a mut FileReport {
    let i = match files.iter().position(|f| f.path == pkg.root) {
        Some(i) => i,
        None => {
            files.push(FileReport {
                path: pkg.root.clone(),
                origin: pkg.origin(),
                status: FileStatus::Scanned,
                reason: None,
                format: Some(TARGET_FORMAT.into()),
                size: 0,
                findings: Vec::new(),
            });
            files.len() - 1
        }
    };
    // Cannot panic: `i` is where `position` found the entry, or the one just pushed
    // (returning `iter_mut().find()`'s borrow early is rejected by today's borrow checker).
    &mut files[i]
}

/// Hub statuses that mean "scanned, nothing found".
fn hub_safe(status: &str) -> bool {
    status.eq_ignore_ascii_case("safe")
}

/// Hub statuses that mean "not (yet) scanned".
fn hub_pending(status: &str) -> bool {
    matches!(
        status.to_ascii_lowercase().as_str(),
        "queued" | "unscanned" | "pending" | "error" | "skipped" | ""
    )
}

/// Adds the Hub's verdicts (`huggingface.hub-scan`) and the trusted-publisher check to the
/// files of Hub packages.
pub fn hub_findings(packages: &[Package], files: &mut Vec<FileReport>, opts: &Options) {
    for pkg in packages {
        let Some(hub) = &pkg.hub else { continue };
        let mut any_code = false;
        for f in files.iter_mut().filter(|f| pkg.files.contains(&f.path)) {
            let code = code_bearing(f);
            any_code |= code;
            let Some(sec) = &hub.security else { continue };
            let path = pkg.relative(&f.path).to_string();
            let status = hub.file_status.get(&path).cloned().flatten();
            let issue = sec.files_with_issues.iter().find(|i| i.path == path);
            if let Some(issue) = issue {
                let level = issue.level.as_deref().unwrap_or("unknown");
                f.findings.push(
                    Finding::new(
                        RuleId::HfHubFlagged,
                        Location::file(f.path.clone()),
                        format!(
                            "the Hugging Face Hub's own scanners flagged this file (level {level})"
                        ),
                    )
                    .with_evidence(format!("securityRepoStatus.filesWithIssues: {level}")),
                );
                continue;
            }
            match status.as_deref() {
                Some(s) if hub_safe(s) => {}
                Some(s) if !hub_pending(s) => f.findings.push(
                    Finding::new(
                        RuleId::HfHubFlagged,
                        Location::file(f.path.clone()),
                        format!("the Hugging Face Hub's own scanners marked this file `{s}`"),
                    )
                    .with_evidence(format!("securityFileStatus.status: {s}")),
                ),
                Some(s) if code => f.findings.push(
                    Finding::new(
                        RuleId::HfHubScanIncomplete,
                        Location::file(f.path.clone()),
                        "the Hugging Face Hub has not finished scanning this file",
                    )
                    .with_evidence(format!("securityFileStatus.status: {s}")),
                ),
                None if code && !sec.scans_done => f.findings.push(
                    Finding::new(
                        RuleId::HfHubScanIncomplete,
                        Location::file(f.path.clone()),
                        "the Hugging Face Hub has not finished scanning this repository",
                    )
                    .with_evidence("securityRepoStatus.scansDone: false"),
                ),
                _ => {}
            }
        }
        if opts.trusted_orgs.is_empty() || !any_code {
            continue;
        }
        let owner = hub.owner.clone().unwrap_or_default();
        let trusted = opts
            .trusted_orgs
            .iter()
            .any(|o| o.eq_ignore_ascii_case(&owner));
        if !trusted {
            let entry = target_entry(files, pkg);
            entry.findings.push(
                Finding::new(
RuleId::HfUntrustedPublisher,
                    Location::file(pkg.root.clone()),
                    format!(
                        "`{}` is published by `{}`, outside huggingface.trusted-orgs, and holds files that can carry code",
                        pkg.name,
                        if owner.is_empty() { "(no owner)" } else { &owner }
                    ),
                )
                .with_evidence(if owner.is_empty() { pkg.name.clone() } else { owner }),
            );
        }
    }
}

/// Copies the report of a file to each of its aliases (same content, other paths).
pub fn expand_aliases(report: &FileReport, aliases: &[String]) -> Vec<FileReport> {
    aliases
        .iter()
        .map(|alias| {
            let mut r = report.clone();
            r.path = alias.clone();
            for f in &mut r.findings {
                if f.location.path == report.path {
                    f.location.path = alias.clone();
                }
            }
            r
        })
        .collect()
}
