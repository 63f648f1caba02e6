//! Targets beyond local paths: `hf://owner/name[@rev]` (the Hugging Face Hub), plain
//! http(s) URLs, and the local Hugging Face cache. Each target becomes a [`Package`] (the
//! unit Rego policies and Hub verdicts talk about) and a list of [`Input`]s for the
//! scanner; remote files are read through [`http::HttpSource`] with range requests.

pub mod cache;
pub mod http;
pub mod hub;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::discover::{self, Filters, Input};
use crate::finding::{Finding, Location};
use crate::limits::Limits;
use crate::report::{FileReport, FileStatus};
use crate::rules::RuleId;
use crate::scan::{self, AllowFn};
use http::{Client, Credential, HttpSource, Secret};

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

/// What kind of target a package came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PackageKind {
    Local,
    HuggingFace,
    HuggingFaceCache,
    Url,
}

/// The Hub's view of a repository, for `hf-hub-*` findings.
#[derive(Clone, Debug, Default)]
pub struct HubInfo {
    pub owner: Option<String>,
    /// Asked for (`huggingface.hub-scan`) and received.
    pub security: Option<hub::RepoSecurity>,
    /// Repository path → `securityFileStatus.status`.
    pub file_status: HashMap<String, Option<String>>,
}

/// One target: a repository, a URL, a cache folder, or all local paths together.
#[derive(Clone, Debug)]
pub struct Package {
    pub kind: PackageKind,
    /// `owner/name` for the Hub, the URL, the path.
    pub name: String,
    /// The commit for the Hub and the cache; empty otherwise.
    pub version: String,
    /// Display path of the entry for target-level findings (`hf://owner/name@sha`).
    pub root: String,
    /// Display paths of its files (aliases included).
    pub files: BTreeSet<String>,
    pub hub: Option<HubInfo>,
}

impl Package {
    /// `v0.package.format` of the Cloudsmith-EPM view.
    pub fn format(&self) -> &'static str {
        match self.kind {
            PackageKind::HuggingFace | PackageKind::HuggingFaceCache => "huggingface",
            PackageKind::Url => "url",
            PackageKind::Local => "local",
        }
    }

    /// The path of a file inside the package (the repository path for the Hub).
    pub fn relative<'a>(&self, display: &'a str) -> &'a str {
        display
            .strip_prefix(self.root.as_str())
            .and_then(|r| r.strip_prefix('/'))
            .unwrap_or(display)
    }
}

/// What [`plan`] needs from the settings.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub hub_scan: bool,
    pub trusted_orgs: Vec<String>,
}

#[derive(Default)]
pub struct Plan {
    pub inputs: Vec<Input>,
    pub packages: Vec<Package>,
    /// The HTTP client, when a target needed one (for the progress line).
    pub client: Option<Arc<Client>>,
}

fn truthy(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "1" | "on" | "yes" | "true"
    )
}

/// `HF_ENDPOINT` (default `https://huggingface.co`), without a trailing `/`.
pub fn endpoint() -> String {
    std::env::var("HF_ENDPOINT")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| "https://huggingface.co".into())
        .trim()
        .trim_end_matches('/')
        .to_string()
}

fn offline() -> bool {
    std::env::var("HF_HUB_OFFLINE").is_ok_and(|v| truthy(&v))
}

/// The HTTP client, sending `HF_TOKEN` (or the older `HUGGING_FACE_HUB_TOKEN`) to the
/// Hub endpoint's origin only.
fn client() -> Arc<Client> {
    let token = std::env::var("HF_TOKEN")
        .ok()
        .or_else(|| std::env::var("HUGGING_FACE_HUB_TOKEN").ok())
        .and_then(Secret::new);
    let ep = endpoint();
    let credential = token.and_then(|token| {
        Some(Credential {
            origin: http::origin(&ep)?.to_string(),
            token,
        })
    });
    Arc::new(Client::new(credential))
}

/// Targets → packages and inputs. Local paths go through [`discover::discover`] together
/// (one package); every other target is its own package.
pub fn plan(targets: &[String], filters: &Filters, opts: &Options) -> Result<Plan, String> {
    let mut plan = Plan::default();
    let mut locals: Vec<PathBuf> = Vec::new();
    let shared: std::cell::OnceCell<Arc<Client>> = std::cell::OnceCell::new();
    let get_client = || shared.get_or_init(client).clone();
    for t in targets {
        if let Some(rest) = t.strip_prefix("hf://") {
            let repo = hub::RepoRef::parse(rest)?;
            if offline() {
                plan_offline(&mut plan, &repo, filters)?;
            } else {
                plan_hub(&mut plan, get_client(), &repo, filters, opts)?;
            }
        } else if t.starts_with("http://") || t.starts_with("https://") {
            let display = http::redact(t).to_string();
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
                RemoteFile {
                    client: get_client(),
                    url: t.clone(),
                    size: None,
                },
            ));
            plan.packages.push(pkg);
        } else if let Some(rest) = t.strip_prefix("hf-cache://") {
            let root = cache::default_root().ok_or(
                "hf-cache://: cannot find the Hugging Face cache (set HF_HUB_CACHE or HF_HOME)",
            )?;
            if rest.is_empty() {
                if !root.is_dir() {
                    return Err(format!(
                        "hf-cache://: the Hugging Face cache {} does not exist",
                        root.display()
                    ));
                }
                plan_cache(&mut plan, &root, &root, filters, "hf-cache".into(), "")?;
            } else {
                let repo = hub::RepoRef::parse(rest)?;
                match &repo.revision {
                    Some(rev) => {
                        let (sha, snap) =
                            cache::find_snapshot(&root, &repo.id, rev).ok_or_else(|| {
                                format!(
                                    "hf-cache://{rest}: not in the Hugging Face cache at {}",
                                    root.display()
                                )
                            })?;
                        plan_cache(&mut plan, &root, &snap, filters, repo.id.clone(), &sha)?;
                    }
                    None => {
                        let dir = cache::repo_dir(&root, &repo.id);
                        if !cache::is_repo_dir(&dir) {
                            return Err(format!(
                                "hf-cache://{rest}: not in the Hugging Face cache at {}",
                                root.display()
                            ));
                        }
                        plan_cache(&mut plan, &root, &dir, filters, repo.id.clone(), "")?;
                    }
                }
            }
        } else {
            let mut p = PathBuf::from(t);
            // `HF_HOME` itself (`~/.cache/huggingface`): its cache is `hub/`.
            if p.is_dir() && !cache::is_cache_root(&p) && cache::is_cache_root(&p.join("hub")) {
                p = p.join("hub");
            }
            if p.is_dir() && cache::is_cache_root(&p) {
                plan_cache(&mut plan, &p, &p, filters, discover::display_of(&p), "")?;
            } else if p.is_dir() && cache::is_repo_dir(&p) {
                let root = p
                    .parent()
                    .filter(|r| !r.as_os_str().is_empty())
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| PathBuf::from("."));
                let name = p
                    .file_name()
                    .and_then(|n| n.to_str())
                    .and_then(|n| n.split_once("--"))
                    .map(|(_, rest)| rest.replacen("--", "/", 1))
                    .unwrap_or_default();
                plan_cache(&mut plan, &root, &p, filters, name, "")?;
            } else {
                locals.push(p);
            }
        }
    }
    if !locals.is_empty() {
        let inputs = discover::discover(&locals, filters)?;
        let root = discover::display_of(&locals[0]);
        let name = locals
            .iter()
            .map(|p| discover::display_of(p))
            .collect::<Vec<_>>()
            .join(" ");
        let files = inputs.iter().map(|i| i.display.clone()).collect();
        plan.packages.push(Package {
            kind: PackageKind::Local,
            name,
            version: String::new(),
            root,
            files,
            hub: None,
        });
        plan.inputs.extend(inputs);
    }
    plan.client = shared.into_inner();
    Ok(plan)
}

fn remote_input(filters: &Filters, display: String, file: RemoteFile) -> Input {
    Input {
        path: PathBuf::from(&display),
        skip: filters.skip_reason(&display),
        display,
        error: None,
        remote: Some(Arc::new(file)),
        aliases: Vec::new(),
    }
}

fn plan_hub(
    plan: &mut Plan,
    client: Arc<Client>,
    repo: &hub::RepoRef,
    filters: &Filters,
    opts: &Options,
) -> Result<(), String> {
    let r = hub::open(&client, &endpoint(), repo, opts.hub_scan)?;
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
fn plan_offline(plan: &mut Plan, repo: &hub::RepoRef, filters: &Filters) -> Result<(), String> {
    let rev = repo.revision.as_deref().unwrap_or("main");
    let root = cache::default_root();
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
            path: blob.path,
            skip: filters.skip_reason(&display),
            display,
            error: None,
            remote: None,
            aliases: displays,
        });
    }
    for (display, err) in errors {
        if !filters.in_shard(&display) {
            continue;
        }
        pkg.files.insert(display.clone());
        plan.inputs.push(Input {
            path: PathBuf::from(&display),
            display,
            skip: None,
            error: Some(err),
            remote: None,
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
                status: FileStatus::Scanned,
                reason: None,
                format: Some(TARGET_FORMAT.into()),
                size: 0,
                findings: Vec::new(),
            });
            files.len() - 1
        }
    };
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
