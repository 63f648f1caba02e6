//! What a scanner reports: a [`Finding`] with a [`Severity`] at a [`Location`].
//!
//! Scanners only produce findings; whether a finding fails the build is decided later by
//! the policy (thresholds, suppressions), never here.

use std::fmt;

use serde::{Deserialize, Serialize};

pub use crate::rules::RuleId;

/// The fixed severity scale of SPEC §1. Derives `Ord` so that thresholds and "worst
/// finding" are plain comparisons: `Info < Low < Medium < High < Critical`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Highest first, the order reports list them in.
    pub const ALL_DESC: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        Some(match s.to_ascii_lowercase().as_str() {
            "info" => Severity::Info,
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => return None,
        })
    }

    /// GitHub code scanning maps `security-severity` to its own levels: >= 9.0 critical,
    /// 7.0–8.9 high, 4.0–6.9 medium, 0.1–3.9 low.
    pub fn security_severity(self) -> &'static str {
        match self {
            Severity::Critical => "9.8",
            Severity::High => "8.0",
            Severity::Medium => "5.5",
            Severity::Low => "2.0",
            Severity::Info => "0.0",
        }
    }

    /// Position in a `[_; 5]` count array (Info = 0 … Critical = 4).
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a finding is. `path` is the display path of the scanned file, relative to the
/// scan root and always with `/` separators; `member` names the path inside containers,
/// levels joined by `!` (`model.pt!archive/data.pkl`).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    pub path: String,
    pub member: Option<String>,
    /// Byte offset inside the innermost member (or the file when there is no member).
    pub offset: Option<u64>,
    /// 1-based line of a text file (a Python call, a config key), when the finding is at
    /// one; `column` is 1-based too, in characters.
    pub line: Option<u32>,
    pub column: Option<u32>,
}

impl Location {
    pub fn file(path: impl Into<String>) -> Self {
        Location {
            path: path.into(),
            ..Location::default()
        }
    }

    /// Line `line`, column `column` (both 1-based) of the text file `path`.
    pub fn text(path: impl Into<String>, line: u32, column: u32) -> Self {
        Location {
            path: path.into(),
            line: Some(line),
            column: Some(column),
            ..Location::default()
        }
    }

    /// The location of `name` inside this one (a container member): member paths join
    /// with `!` through every level (`outer.zip!inner.tar!model/data.pkl`).
    pub fn member(&self, name: &str) -> Location {
        Location {
            path: self.path.clone(),
            member: Some(match &self.member {
                Some(m) => format!("{m}!{name}"),
                None => name.to_string(),
            }),
            ..Location::default()
        }
    }

    pub fn display(&self) -> String {
        let mut s = self.path.clone();
        if let Some(m) = &self.member {
            s.push('!');
            s.push_str(m);
        }
        if let Some(l) = self.line {
            s.push_str(&format!(":{l}"));
            if let Some(c) = self.column {
                s.push_str(&format!(":{c}"));
            }
        }
        if let Some(o) = self.offset {
            s.push_str(&format!(" @ {o}"));
        }
        s
    }
}

/// A place a finding refers to besides its own location, with where its bytes live (a
/// model file on the Hub for a `from_pretrained` call).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Related {
    pub location: Location,
    pub origin: crate::target::Origin,
    /// What the place is, e.g. "the checkpoint this call downloads".
    pub message: String,
}

/// A suppression that matched a finding (from `ignore:` in the config).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppression {
    pub reason: String,
    pub expires: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Rule from the catalogue in `rules.rs`.
    pub rule: RuleId,
    pub severity: Severity,
    pub location: Location,
    /// One line saying what a load would do.
    pub message: String,
    /// The thing found, e.g. `posix.system("echo hi")`; bounded in length.
    pub evidence: Option<String>,
    /// Set by the policy when an `ignore:` entry matched; suppressed findings are kept
    /// in reports but do not count toward thresholds.
    pub suppressed: Option<Suppression>,
    /// Other places the finding is about (the model file a line of code pulls).
    pub related: Vec<Related>,
    /// A command or change that removes the finding (`modelgate convert x.bin
    /// x.safetensors`).
    pub fix: Option<String>,
}

/// `s` cut to its first `max_chars` characters, with `…` when anything was cut: names and
/// evidence taken from a file are shown this way in messages.
pub fn shorten(s: &str, max_chars: usize) -> String {
    let mut t: String = s.chars().take(max_chars).collect();
    if t.len() < s.len() {
        t.push('…');
    }
    t
}

/// See [`Finding::sort_key`].
pub type SortKey<'a> = (
    &'a str,
    Option<&'a str>,
    Option<u64>,
    Option<u32>,
    Option<u32>,
    &'a str,
    Option<&'a str>,
);

impl Finding {
    /// A finding of `rule` with the catalogue's severity.
    pub fn new(rule: RuleId, location: Location, message: impl Into<String>) -> Self {
        Finding {
            rule,
            severity: rule.severity(),
            location,
            message: message.into(),
            evidence: None,
            suppressed: None,
            related: Vec::new(),
            fix: None,
        }
    }

    pub fn with_related(mut self, related: Related) -> Self {
        self.related.push(related);
        self
    }

    pub fn with_fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }

    /// The same finding at another severity: for rules whose severity is chosen by the
    /// configuration (`deny.formats`, Rego policies) or by what was found (an ONNX
    /// external-data location that escapes the folder is high, one that stays inside is
    /// medium).
    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    pub fn with_evidence(mut self, evidence: impl Into<String>) -> Self {
        self.evidence = Some(evidence.into());
        self
    }

    /// Sort key giving the stable report order: path, member, offset, line, column, rule,
    /// evidence.
    pub fn sort_key(&self) -> SortKey<'_> {
        (
            &self.location.path,
            self.location.member.as_deref(),
            self.location.offset,
            self.location.line,
            self.location.column,
            self.rule.as_str(),
            self.evidence.as_deref(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::shorten;

    #[test]
    fn shorten_cuts_on_characters_and_marks_the_cut() {
        assert_eq!(shorten("abc", 3), "abc");
        assert_eq!(shorten("abcd", 3), "abc…");
        assert_eq!(shorten("ééé", 2), "éé…");
        assert_eq!(shorten("", 0), "");
    }
}
