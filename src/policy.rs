//! Rules report, policy decides: the one place where the configuration meets scan results.
//!
//! Scanners produce findings without looking at the configuration. [`Policy::judge`] then
//! runs every decision, in this order (zizmor's `FindingRegistry`, cargo-deny's sink):
//!
//! 1. `lfs-pointers: fail` raises Git LFS pointer findings to high;
//! 2. `deny.extensions` / `deny.formats` add `policy-denied-format` findings;
//! 3. `ignore:` marks findings suppressed (expired entries add `policy-expired-ignore`);
//! 4. Rego policies see the report after suppressions and add `policy-violation`
//!    findings, which `ignore:` then applies to like any other;
//! 5. thresholds give the verdict ([`Policy::decide`]).
//!
//! `merge` runs step 5 only: each shard has applied the others to its own files.

use time::Date;

use crate::config::{Config, DenyExtensions, DenyFormats, IgnoreEntry, LfsPointers};
use crate::finding::{Finding, Location, Severity, Suppression};
use crate::rego::RegoPolicy;
use crate::report::{FileReport, Report, Thresholds};
use crate::rules::RuleId;
use crate::target::Package;

/// The decisions a configuration (plus CLI overrides) makes about scan results.
#[derive(Debug)]
pub struct Policy {
    thresholds: Thresholds,
    /// Compiled `policy.rego` files.
    rego: Vec<RegoPolicy>,
    deny_extensions: Vec<DenyExtensions>,
    deny_formats: Vec<DenyFormats>,
    ignore: Vec<IgnoreEntry>,
    lfs_pointers: LfsPointers,
    today: Date,
}

impl Default for Policy {
    fn default() -> Self {
        Policy::new(&Config::default())
    }
}

impl Policy {
    /// The policy `config` describes, with today's date (UTC) for ignore expiry.
    pub fn new(config: &Config) -> Policy {
        Policy {
            thresholds: config.thresholds(),
            deny_extensions: config.deny.extensions.clone(),
            deny_formats: config.deny.formats.clone(),
            ignore: config.ignore.clone(),
            lfs_pointers: config.lfs_pointers,
            today: time::OffsetDateTime::now_utc().date(),
            rego: Vec::new(),
        }
    }

    /// Adds the compiled Rego policies.
    pub fn with_rego(mut self, rego: Vec<RegoPolicy>) -> Policy {
        self.rego = rego;
        self
    }

    /// Applies `--fail-on` overrides (from [`crate::config::parse_fail_on`]) on top of
    /// the configured thresholds, in order.
    pub fn with_fail_on(mut self, overrides: &[(Severity, Option<u64>)]) -> Policy {
        for (sev, n) in overrides {
            self.thresholds.set(*sev, *n);
        }
        self
    }

    /// Replaces the date that ignore expiry is judged against (tests, reproducible runs).
    pub fn with_today(mut self, today: Date) -> Policy {
        self.today = today;
        self
    }

    /// The date ignore expiry is judged against.
    pub fn today(&self) -> Date {
        self.today
    }

    /// The failure thresholds.
    pub fn thresholds(&self) -> Thresholds {
        self.thresholds
    }

    /// Applies every decision to the scan results of `packages` (steps 1–5 above) and
    /// returns the report. Fails only when a Rego policy cannot be evaluated.
    pub fn judge(
        &mut self,
        mut files: Vec<FileReport>,
        packages: &[Package],
    ) -> Result<Report, String> {
        self.apply(&mut files);
        let before: Vec<usize> = files.iter().map(|f| f.findings.len()).collect();
        crate::rego::apply(&mut self.rego, packages, &mut files, self.thresholds)?;
        for (i, file) in files.iter_mut().enumerate() {
            let start = before.get(i).copied().unwrap_or(0);
            if file.findings.len() > start {
                self.suppress_from(file, start);
            }
        }
        Ok(self.decide(files))
    }

    /// The verdict: sorts, counts and compares with the thresholds.
    pub fn decide(&self, files: Vec<FileReport>) -> Report {
        Report::new(files, self.thresholds)
    }

    /// Steps 1–3: the decisions the configuration makes about each file on its own.
    pub fn apply(&self, files: &mut [FileReport]) {
        for file in files.iter_mut() {
            self.lfs(file);
            self.deny(file);
            self.suppress(file);
            file.findings
                .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        }
    }

    /// Applies `ignore:` to the findings of `file` from index `start` on (findings added
    /// after the first pass: Rego policy results).
    fn suppress_from(&self, file: &mut FileReport, start: usize) {
        let mut tail = FileReport {
            findings: file.findings.split_off(start.min(file.findings.len())),
            ..file.clone()
        };
        self.suppress(&mut tail);
        file.findings.append(&mut tail.findings);
    }

    /// `lfs-pointers: fail` turns the info finding of a Git LFS pointer into a high one.
    fn lfs(&self, file: &mut FileReport) {
        if self.lfs_pointers != LfsPointers::Fail {
            return;
        }
        for f in file
            .findings
            .iter_mut()
            .filter(|f| f.rule == RuleId::GitLfsPointer)
        {
            if f.severity < Severity::High {
                f.severity = Severity::High;
                f.message
                    .push_str(" (lfs-pointers: fail in the configuration)");
            }
        }
    }

    fn deny(&self, file: &mut FileReport) {
        let name = file.path.rsplit('/').next().unwrap_or(&file.path);
        let by_ext = self
            .deny_extensions
            .iter()
            .filter_map(|d| d.matching(name).map(|ext| (d.severity, ext)))
            .max_by_key(|(sev, _)| *sev);
        if let Some((severity, ext)) = by_ext {
            file.findings.push(
                Finding::new(
                    RuleId::PolicyDeniedFormat,
                    Location::file(file.path.clone()),
                    format!("files with extension `.{ext}` are denied by policy (deny.extensions)"),
                )
                .with_severity(severity)
                .with_evidence(format!(".{ext}")),
            );
        }
        let Some(format) = file.format.as_deref() else {
            return;
        };
        let by_format = self
            .deny_formats
            .iter()
            .filter_map(|d| d.matching(format).map(|label| (d.severity, label)))
            .max_by_key(|(sev, _)| *sev);
        if let Some((severity, label)) = by_format {
            let message = if label == format {
                format!("format `{format}` is denied by policy (deny.formats)")
            } else {
                format!("format `{format}` is denied by policy (deny.formats: `{label}`)")
            };
            file.findings.push(
                Finding::new(
                    RuleId::PolicyDeniedFormat,
                    Location::file(file.path.clone()),
                    message,
                )
                .with_severity(severity)
                .with_evidence(format.to_string()),
            );
        }
    }

    fn suppress(&self, file: &mut FileReport) {
        if self.ignore.is_empty() {
            return;
        }
        // Indices of expired entries that matched something in this file, in config order.
        let mut expired_hits: Vec<usize> = Vec::new();
        for finding in &mut file.findings {
            if finding.rule == RuleId::PolicyExpiredIgnore || finding.suppressed.is_some() {
                continue;
            }
            for (i, entry) in self.ignore.iter().enumerate() {
                if !entry_matches(entry, finding) {
                    continue;
                }
                if entry.is_expired(self.today) {
                    if !expired_hits.contains(&i) {
                        expired_hits.push(i);
                    }
                } else if finding.suppressed.is_none() {
                    finding.suppressed = Some(Suppression {
                        reason: entry.reason.clone(),
                        expires: entry.expires.map(|d| d.to_string()),
                    });
                }
            }
        }
        expired_hits.sort_unstable();
        for i in expired_hits {
            let Some(entry) = self.ignore.get(i) else {
                continue;
            };
            let paths = entry
                .paths
                .patterns()
                .iter()
                .map(|p| format!("`{}`", p.as_str()))
                .collect::<Vec<_>>()
                .join(", ");
            let expires = entry.expires.map(|d| d.to_string()).unwrap_or_default();
            file.findings.push(
                Finding::new(
RuleId::PolicyExpiredIgnore,
                    Location::file(file.path.clone()),
                    format!(
                        "ignore[{i}] (rule `{}`, paths {paths}) expired on {expires}; the findings it matched count again",
                        entry.rule.as_str()
                    ),
                )
                .with_evidence(format!("ignore[{i}]")),
            );
        }
    }
}

/// Whether `entry` selects `finding`: the rule matches and a path glob matches the
/// file path, or `path!member` for a finding inside an archive.
fn entry_matches(entry: &IgnoreEntry, finding: &Finding) -> bool {
    if !entry.rule.matches(finding.rule) {
        return false;
    }
    let loc = &finding.location;
    if entry.paths.is_match(&loc.path) {
        return true;
    }
    match &loc.member {
        Some(member) => entry.paths.is_match(&format!("{}!{}", loc.path, member)),
        None => false,
    }
}

#[cfg(test)]
mod tests;
