//! The scan result as one value, and the renderers that turn it into text, JSON, SARIF
//! and GitHub workflow commands. Each renderer is `render(&Report, &RenderOptions, out)`.

use serde::{Deserialize, Serialize};

use crate::finding::{Finding, Severity};
use crate::rules::RuleId;
pub use crate::target::Origin;

pub mod cyclonedx;
pub mod github;
pub mod json;
pub mod sarif;
pub mod text;

/// Sets `key` of a JSON object built by `json!({…})`; on anything else, does nothing
/// (`value[key] = …` would panic on a non-object).
pub(crate) fn set(value: &mut serde_json::Value, key: &str, x: serde_json::Value) {
    if let serde_json::Value::Object(map) = value {
        map.insert(key.to_string(), x);
    }
}

/// Version of the JSON report schema (`docs/json-schema.md`). Bump on breaking changes.
pub const JSON_VERSION: u32 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileStatus {
    /// Content was recognised and analysed (possibly partly; see the findings).
    Scanned,
    /// Content cannot carry code (or was excluded by a limit that policy allows); `reason` says why.
    Skipped,
    /// The file could not be read at all; `reason` holds the error.
    Error,
}

#[derive(Clone, Debug)]
pub struct FileReport {
    /// Display path: relative to the scan root, `/`-separated.
    pub path: String,
    /// Where the bytes came from.
    pub origin: Origin,
    pub status: FileStatus,
    pub reason: Option<String>,
    /// Detected format label (`pickle`, `pytorch-zip`, `pytorch-legacy`, `zip`, ...).
    pub format: Option<String>,
    pub size: u64,
    /// Sorted with [`Finding::sort_key`].
    pub findings: Vec<Finding>,
}

impl FileReport {
    /// A file that could not be read at all: `status: error` with `reason`, and one
    /// medium finding of `rule` (unreadable is not clean).
    pub fn errored(path: &str, rule: RuleId, reason: String, message: String) -> FileReport {
        FileReport {
            path: path.to_string(),
            origin: Origin::Local,
            status: FileStatus::Error,
            reason: Some(reason),
            format: None,
            size: 0,
            findings: vec![Finding::new(
                rule,
                crate::finding::Location::file(path),
                message,
            )],
        }
    }
}

/// Count threshold per severity: the build fails when the number of unsuppressed findings
/// of that severity reaches the threshold. `None` means "off".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Thresholds(pub [Option<u64>; 5]);

impl Thresholds {
    /// SPEC §3 default: fail on any critical, high or medium finding.
    pub const DEFAULT: Thresholds = Thresholds([None, None, Some(1), Some(1), Some(1)]);

    pub fn get(&self, sev: Severity) -> Option<u64> {
        self.0.get(sev.index()).copied().flatten()
    }

    pub fn set(&mut self, sev: Severity, n: Option<u64>) {
        if let Some(slot) = self.0.get_mut(sev.index()) {
            *slot = n;
        }
    }

    /// Human form, highest severity first: `critical=1,high=1,medium=1,low=off,info=off`.
    pub fn describe(&self) -> String {
        Severity::ALL_DESC
            .iter()
            .map(|s| match self.get(*s) {
                Some(n) => format!("{s}={n}"),
                None => format!("{s}=off"),
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds::DEFAULT
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
}

#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub files_scanned: u64,
    pub files_skipped: u64,
    pub files_errored: u64,
    /// Git LFS pointer files (content not checked out, so not scanned); also counted in
    /// `files_skipped`.
    pub lfs_pointers: u64,
    /// Unsuppressed findings per severity.
    pub critical: u64,
    pub high: u64,
    pub medium: u64,
    pub low: u64,
    pub info: u64,
    pub suppressed: u64,
}

impl Summary {
    pub fn count(&self, sev: Severity) -> u64 {
        match sev {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Info => self.info,
        }
    }

    fn bump(&mut self, sev: Severity) {
        match sev {
            Severity::Critical => self.critical += 1,
            Severity::High => self.high += 1,
            Severity::Medium => self.medium += 1,
            Severity::Low => self.low += 1,
            Severity::Info => self.info += 1,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Report {
    pub version: u32,
    pub tool: Tool,
    pub files: Vec<FileReport>,
    pub summary: Summary,
    pub thresholds: Thresholds,
    /// Severities whose threshold was reached, highest first.
    pub reached: Vec<Severity>,
    pub verdict: Verdict,
    /// The models the scanned code pulls (SPEC §8), sorted by repository and revision.
    pub models: Vec<ModelRef>,
}

/// A model the code pulls: one per (repository, requested revision), with its call sites
/// and what is known of it (from this run's resolution, or from `modelgate.lock`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelRef {
    /// `owner/name`.
    pub repo: String,
    /// The `revision` the code asks for (`None`: the default branch).
    pub requested: Option<String>,
    /// The commit: resolved this run, locked, or pinned by the code.
    pub commit: Option<String>,
    pub state: ModelState,
    /// Worst severity of the model's files (`None`: no finding, or not scanned).
    pub verdict: Option<Severity>,
    /// The files the calls download, when resolved or locked.
    pub files: Vec<crate::refs::lock::LockedFile>,
    pub sites: Vec<ModelSite>,
}

/// A call that pulls a model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelSite {
    pub path: String,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub callee: String,
}

/// How much of a referenced model was looked at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelState {
    /// Checked offline only (no `--resolve-models`, no lock entry).
    NotResolved,
    /// Resolved and scanned in this run.
    Resolved,
    /// Taken from `modelgate.lock` (not fetched again).
    Locked,
    /// Resolution was asked for and failed.
    Unresolved,
}

impl ModelState {
    pub fn as_str(self) -> &'static str {
        match self {
            ModelState::NotResolved => "not resolved",
            ModelState::Resolved => "resolved",
            ModelState::Locked => "locked",
            ModelState::Unresolved => "unresolved",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

impl Tool {
    pub fn this() -> Tool {
        Tool {
            name: "modelgate",
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

impl Report {
    /// Sorts files and findings into the stable order, counts, and applies thresholds.
    pub fn new(mut files: Vec<FileReport>, thresholds: Thresholds) -> Report {
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let mut summary = Summary::default();
        for f in &mut files {
            f.findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
            match f.status {
                FileStatus::Scanned => summary.files_scanned += 1,
                FileStatus::Skipped => summary.files_skipped += 1,
                FileStatus::Error => summary.files_errored += 1,
            }
            if f.findings.iter().any(|x| x.rule == "git-lfs-pointer") {
                summary.lfs_pointers += 1;
            }
            for finding in &f.findings {
                if finding.suppressed.is_some() {
                    summary.suppressed += 1;
                } else {
                    summary.bump(finding.severity);
                }
            }
        }
        let reached: Vec<Severity> = Severity::ALL_DESC
            .into_iter()
            .filter(|s| thresholds.get(*s).is_some_and(|n| summary.count(*s) >= n))
            .collect();
        let verdict = if reached.is_empty() {
            Verdict::Pass
        } else {
            Verdict::Fail
        };
        Report {
            version: JSON_VERSION,
            tool: Tool::this(),
            files,
            summary,
            thresholds,
            reached,
            verdict,
            models: Vec::new(),
        }
    }

    /// All findings in report order.
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.files.iter().flat_map(|f| f.findings.iter())
    }

    /// All findings in report order, each with the file entry it belongs to (whose origin
    /// says where its location is).
    pub fn findings_by_file(&self) -> impl Iterator<Item = (&FileReport, &Finding)> {
        self.files
            .iter()
            .flat_map(|f| f.findings.iter().map(move |x| (f, x)))
    }
}

/// Options shared by the renderers.
#[derive(Clone, Debug, Default)]
pub struct RenderOptions {
    /// Colour text output (only when stdout is a terminal and NO_COLOR is unset).
    pub color: bool,
    /// List skipped files in text output.
    pub show_skipped: bool,
    /// SARIF `automationDetails.id` (a category, e.g. `modelgate/models/`).
    pub category: Option<String>,
}

/// Makes untrusted text (evidence, member names and paths all come from the scanned files)
/// safe to print: control characters — including ESC, which would let a hostile file send
/// terminal escape sequences — and Unicode bidi overrides ("Trojan Source", CVE-2021-42574)
/// become visible `\n` / `\u{..}` escapes. With `keep_newlines`, CR and LF are left for
/// the caller to escape in its own way (GitHub workflow commands have their own encoding).
pub(crate) fn escape_control(s: &str, keep_newlines: bool) -> std::borrow::Cow<'_, str> {
    fn needs_escape(c: char, keep_newlines: bool) -> bool {
        match c {
            '\n' | '\r' => !keep_newlines,
            '\t' => false,
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => true,
            c => c.is_control(),
        }
    }
    if !s.chars().any(|c| needs_escape(c, keep_newlines)) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !needs_escape(c, keep_newlines) {
            out.push(c);
            continue;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
pub(crate) mod testutil {
    //! A hand-built report exercising every awkward case the renderers must handle.

    use super::*;
    use crate::finding::{Location, Suppression};

    pub fn sample_report() -> Report {
        let evil = FileReport {
            path: "models/evil model.pkl".into(),
            origin: Origin::Local,
            status: FileStatus::Scanned,
            reason: None,
            format: Some("pickle".into()),
            size: 120,
            findings: vec![Finding::new(
                RuleId::PickleCodeExecution,
                Location {
                    path: "models/evil model.pkl".into(),
                    member: None,
                    offset: Some(2),
                    ..Location::default()
                },
                "Loading this pickle runs a shell command",
            )
            .with_evidence("posix.system(\"echo 100% pwned: a,b\nsecond line\r\")")],
        };
        let mut unknown = Finding::new(
            RuleId::PickleUnknownGlobal,
            Location {
                path: "models/model.pt".into(),
                member: Some("archive/data.pkl".into()),
                offset: Some(57),
                ..Location::default()
            },
            "Imports a global outside the allowlist",
        )
        .with_evidence("mypkg.layers.Custom");
        unknown.suppressed = Some(Suppression {
            reason: "our own layer, reviewed".into(),
            expires: None,
        });
        let torch = FileReport {
            path: "models/model.pt".into(),
            origin: Origin::Local,
            status: FileStatus::Scanned,
            reason: None,
            format: Some("pytorch-zip".into()),
            size: 4096,
            findings: vec![
                Finding::new(
                    RuleId::PickleFormat,
                    Location {
                        path: "models/model.pt".into(),
                        member: Some("archive/data.pkl".into()),
                        offset: None,
                        ..Location::default()
                    },
                    "A format that can carry code, with only known-safe globals",
                ),
                unknown,
                Finding::new(
                    RuleId::ZipCrcMismatch,
                    Location {
                        path: "models/model.pt".into(),
                        member: Some("archive/data.pkl".into()),
                        offset: Some(0),
                        ..Location::default()
                    },
                    "Archive member fails its CRC-32 check",
                )
                .with_evidence("stored 0xdeadbeef | computed 0x12345678"),
            ],
        };
        let labels = FileReport {
            path: "data/labels.json".into(),
            origin: Origin::Local,
            status: FileStatus::Skipped,
            reason: Some("not a format that can carry code".into()),
            format: Some("json".into()),
            size: 300,
            findings: vec![Finding::new(
                RuleId::FileSkipped,
                Location::file("data/labels.json"),
                "File skipped: it cannot carry model code",
            )],
        };
        let readme = FileReport {
            path: "README.md".into(),
            origin: Origin::Local,
            status: FileStatus::Skipped,
            reason: Some("not a model format".into()),
            format: None,
            size: 10,
            findings: vec![],
        };
        let broken = FileReport {
            path: "models/unreadable.bin".into(),
            origin: Origin::Local,
            status: FileStatus::Error,
            reason: Some("permission denied".into()),
            format: None,
            size: 0,
            findings: vec![],
        };
        // Deliberately out of order: Report::new sorts.
        Report::new(
            vec![torch, labels, evil, readme, broken],
            Thresholds::DEFAULT,
        )
    }

    pub fn render_to_string(
        render: fn(&Report, &RenderOptions, &mut dyn std::io::Write) -> std::io::Result<()>,
        report: &Report,
        opts: &RenderOptions,
    ) -> String {
        let mut buf = Vec::new();
        render(report, opts, &mut buf).expect("render to a Vec cannot fail");
        String::from_utf8(buf).expect("renderers write UTF-8")
    }
}
