//! `.modelgate.yml`: the configuration schema, its discovery and strict loading.
//!
//! Every struct denies unknown fields: in a security policy a misspelt key that is
//! silently ignored (`fail_on:` for `fail-on:`) weakens the gate without anyone noticing,
//! so a typo is an error naming the file, line, column and key path. Values are validated
//! while they are deserialised (globs compile, rule ids exist, reasons are non-empty), so
//! every error carries the position of the offending value. `docs/config.md` documents
//! each key; keep it, [`INIT_TEMPLATE`] and this file in step.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use serde::de::{self, value::MapAccessDeserializer, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use time::Date;

use crate::finding::Severity;
use crate::limits::Limits;
use crate::report::Thresholds;

/// File names [`discover`] looks for, in this order; the first that exists wins.
pub const DISCOVERY_ORDER: [&str; 3] =
    [".modelgate.yml", ".modelgate.yaml", ".github/modelgate.yml"];

/// The labels `deny.formats` knows: every label a scan reports (from the format registry)
/// and the families their first words name (`pytorch` for `pytorch-zip`, ...). Other
/// labels are accepted, so that a configuration written for a newer modelgate still loads.
pub fn known_formats() -> Vec<&'static str> {
    let labels = crate::formats::registry::known_labels();
    let family_of = |l: &'static str| l.split_once('-').map(|(f, _)| f);
    let mut out: Vec<&'static str> = Vec::new();
    for &l in &labels {
        // A first word is a family when two labels share it (`pytorch-zip`,
        // `pytorch-legacy`), or when it is a label itself (`keras`, `keras-h5`).
        if let Some(family) = family_of(l) {
            let shared = labels
                .iter()
                .filter(|o| family_of(o) == Some(family))
                .count()
                > 1;
            if (shared || labels.contains(&family)) && !out.contains(&family) {
                out.push(family);
            }
        }
        if !out.contains(&l) {
            out.push(l);
        }
    }
    out
}

/// The whole `.modelgate.yml`. Every key is optional; a missing key keeps its default,
/// and an empty file is the default configuration.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct Config {
    /// Count threshold per severity at which the build fails.
    pub fail_on: FailOn,
    /// Which discovered files are scanned.
    pub paths: Paths,
    /// Pickle globals this project trusts.
    pub allow: Allow,
    /// Extensions and formats refused whatever their content.
    pub deny: Deny,
    /// Suppressions of findings by rule and path, each with a reason.
    pub ignore: Vec<IgnoreEntry>,
    /// Bounds on the work done per file.
    pub limits: LimitsConfig,
    /// Rego policies evaluated against the report.
    pub policy: PolicyConfig,
    /// Hugging Face Hub settings for `hf://` targets.
    pub huggingface: HuggingFace,
    /// What a Git LFS pointer (a file whose content was not checked out) counts as.
    pub lfs_pointers: LfsPointers,
    /// Model references in code (SPEC §8).
    pub models: Models,
    /// The file this configuration was loaded from (`None` for the built-in defaults).
    /// Relative paths inside it (`policy.rego`) are resolved against its folder.
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

impl Config {
    /// The failure thresholds this configuration sets (defaults for missing severities).
    pub fn thresholds(&self) -> Thresholds {
        self.fail_on.thresholds()
    }

    /// The scanner limits: [`Limits::default`] with this configuration's overrides.
    pub fn limits(&self) -> Limits {
        self.limits.apply(Limits::default())
    }

    /// The user-trusted pickle globals from `allow.globals`.
    pub fn global_allowlist(&self) -> GlobalAllowlist {
        GlobalAllowlist::new(self.allow.globals.clone())
    }
}

// ---------------------------------------------------------------------------------------
// lfs-pointers

/// `lfs-pointers:` what a Git LFS pointer file is. Its real content was never checked
/// out, so it was not scanned: `info` reports it (and counts it in the summary); `fail`
/// makes it a high finding, so a CI job that forgot `lfs: true` cannot pass silently.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LfsPointers {
    #[default]
    Info,
    Fail,
}

// ---------------------------------------------------------------------------------------
// fail-on

/// `fail-on:`: one optional threshold per severity. A severity that is not named keeps
/// its default ([`Thresholds::DEFAULT`]: critical, high and medium 1; low and info off).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct FailOn {
    /// Threshold for critical findings (default 1).
    pub critical: Option<Threshold>,
    /// Threshold for high findings (default 1).
    pub high: Option<Threshold>,
    /// Threshold for medium findings (default 1).
    pub medium: Option<Threshold>,
    /// Threshold for low findings (default off).
    pub low: Option<Threshold>,
    /// Threshold for info findings (default off).
    pub info: Option<Threshold>,
}

impl FailOn {
    /// The threshold written for `sev`, if any.
    pub fn get(&self, sev: Severity) -> Option<Threshold> {
        match sev {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Info => self.info,
        }
    }

    /// [`Thresholds::DEFAULT`] with the severities named here replaced.
    pub fn thresholds(&self) -> Thresholds {
        let mut t = Thresholds::DEFAULT;
        for sev in Severity::ALL_DESC {
            if let Some(th) = self.get(sev) {
                t.set(sev, th.count());
            }
        }
        t
    }
}

/// One severity's threshold: fail when this many unsuppressed findings are reached, or
/// never (`off`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Threshold {
    /// Fail when at least this many findings (always >= 1) are reported.
    Count(u64),
    /// Findings of this severity never fail the build.
    Off,
}

impl Threshold {
    /// `Some(n)` for a count, `None` for off (the shape [`Thresholds`] stores).
    pub fn count(self) -> Option<u64> {
        match self {
            Threshold::Count(n) => Some(n),
            Threshold::Off => None,
        }
    }

    /// Parses `off` or an integer >= 1.
    pub fn parse(s: &str) -> Result<Threshold, String> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("off") {
            return Ok(Threshold::Off);
        }
        match s.parse::<u64>() {
            Ok(n) => Threshold::from_count(n),
            Err(_) => Err(format!(
                "invalid threshold `{s}`: expected an integer >= 1 or `off`"
            )),
        }
    }

    fn from_count(n: u64) -> Result<Threshold, String> {
        if n == 0 {
            // 0 would mean "fail even with no findings", which is never what anyone means;
            // `off` is how a severity is switched off.
            Err("invalid threshold `0`: expected an integer >= 1 or `off`".into())
        } else {
            Ok(Threshold::Count(n))
        }
    }
}

impl<'de> Deserialize<'de> for Threshold {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Threshold;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an integer >= 1 or `off`")
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Threshold, E> {
                Threshold::from_count(n).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Threshold, E> {
                match u64::try_from(n) {
                    Ok(n) => self.visit_u64(n),
                    Err(_) => Err(E::custom(format!(
                        "invalid threshold `{n}`: expected an integer >= 1 or `off`"
                    ))),
                }
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Threshold, E> {
                if s == "off" {
                    Ok(Threshold::Off)
                } else {
                    Err(E::custom(format!(
                        "invalid threshold `{s}`: expected an integer >= 1 or `off`"
                    )))
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// Parses the CLI's `--fail-on critical=1,high=1,medium=off` into overrides, in the
/// order given. Severities are case-insensitive; naming one twice is an error.
pub fn parse_fail_on(s: &str) -> Result<Vec<(Severity, Option<u64>)>, String> {
    let mut out: Vec<(Severity, Option<u64>)> = Vec::new();
    for part in s.split(',') {
        let part = part.trim();
        if part.is_empty() {
            return Err(format!(
                "--fail-on `{s}`: empty entry; expected SEVERITY=N or SEVERITY=off, comma-separated"
            ));
        }
        let Some((sev, value)) = part.split_once('=') else {
            return Err(format!(
                "--fail-on `{part}`: expected SEVERITY=N or SEVERITY=off (e.g. critical=1,medium=off)"
            ));
        };
        let sev = Severity::parse(sev.trim()).ok_or_else(|| {
            format!(
                "--fail-on `{part}`: unknown severity `{}`, expected one of critical, high, medium, low, info",
                sev.trim()
            )
        })?;
        let threshold = Threshold::parse(value).map_err(|e| format!("--fail-on `{part}`: {e}"))?;
        if out.iter().any(|(s, _)| *s == sev) {
            return Err(format!("--fail-on: severity `{sev}` given twice"));
        }
        out.push((sev, threshold.count()));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// globs

/// Compiles a path glob the way every glob in the configuration is compiled: matched
/// against the `/`-separated path relative to the scan root; `*` and `?` stay within one
/// path component, `**` crosses components; `\` escapes on every OS (paths never contain
/// it). A leading `./` is dropped, since display paths never start with one.
fn compile_glob(pattern: &str) -> Result<Glob, String> {
    if pattern.trim().is_empty() {
        return Err("empty glob".into());
    }
    let normalised = pattern.strip_prefix("./").unwrap_or(pattern);
    GlobBuilder::new(normalised)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|e| format!("invalid glob `{pattern}`: {}", e.kind()))
}

/// One validated path glob, with the text the user wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GlobPattern {
    pattern: String,
    glob: Glob,
}

impl GlobPattern {
    /// Validates and compiles `pattern` (see `docs/config.md` for the syntax).
    pub fn new(pattern: &str) -> Result<GlobPattern, String> {
        Ok(GlobPattern {
            glob: compile_glob(pattern)?,
            pattern: pattern.to_string(),
        })
    }

    /// The pattern as written in the configuration.
    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// The compiled glob.
    pub fn glob(&self) -> &Glob {
        &self.glob
    }
}

impl<'de> Deserialize<'de> for GlobPattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        de_str_with(d, "a glob pattern", GlobPattern::new)
    }
}

/// A list of globs compiled into one set. Matching is against `/`-separated paths
/// relative to the scan root.
#[derive(Clone, Debug)]
pub struct GlobList {
    patterns: Vec<GlobPattern>,
    set: GlobSet,
}

impl Default for GlobList {
    fn default() -> Self {
        GlobList {
            patterns: Vec::new(),
            set: GlobSet::empty(),
        }
    }
}

impl GlobList {
    /// Builds the set from validated patterns.
    pub fn new(patterns: Vec<GlobPattern>) -> Result<GlobList, String> {
        let mut b = GlobSetBuilder::new();
        for p in &patterns {
            b.add(p.glob.clone());
        }
        let set = b.build().map_err(|e| format!("invalid glob set: {e}"))?;
        Ok(GlobList { patterns, set })
    }

    /// Compiles plain strings (for the CLI's `--include` / `--exclude`).
    pub fn from_strs<S: AsRef<str>>(patterns: &[S]) -> Result<GlobList, String> {
        let ps = patterns
            .iter()
            .map(|p| GlobPattern::new(p.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        GlobList::new(ps)
    }

    /// Whether any pattern matches `path`.
    pub fn is_match(&self, path: &str) -> bool {
        self.set.is_match(path)
    }

    /// Whether the list has no pattern.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// The patterns as written.
    pub fn patterns(&self) -> &[GlobPattern] {
        &self.patterns
    }
}

struct GlobListVisitor {
    allow_empty: bool,
}

impl<'de> Visitor<'de> for GlobListVisitor {
    type Value = GlobList;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of glob patterns")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<GlobList, A::Error> {
        let mut patterns = Vec::new();
        while let Some(p) = seq.next_element::<GlobPattern>()? {
            patterns.push(p);
        }
        if patterns.is_empty() && !self.allow_empty {
            return Err(de::Error::custom(
                "expected at least one glob (use `\"**\"` to mean every path)",
            ));
        }
        GlobList::new(patterns).map_err(de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for GlobList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_seq(GlobListVisitor { allow_empty: true })
    }
}

fn de_non_empty_globs<'de, D: Deserializer<'de>>(d: D) -> Result<GlobList, D::Error> {
    d.deserialize_seq(GlobListVisitor { allow_empty: false })
}

// ---------------------------------------------------------------------------------------
// paths

/// `paths:`: which discovered files are scanned.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct Paths {
    /// Globs a file must match to be scanned; empty (the default) means every file.
    pub include: GlobList,
    /// Globs of files never scanned; wins over `include`.
    pub exclude: GlobList,
}

impl Paths {
    /// Whether a file at `path` (relative, `/`-separated) is selected for scanning.
    pub fn selects(&self, path: &str) -> bool {
        (self.include.is_empty() || self.include.is_match(path)) && !self.exclude.is_match(path)
    }
}

// ---------------------------------------------------------------------------------------
// allow

/// `allow:`: what this project trusts.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct Allow {
    /// Pickle globals (`module.name`) the project trusts, e.g. its own classes:
    /// `mypkg.layers.MyBlock` exactly, or everything under a module with `mypkg.models.*`.
    /// A matching unknown global is reported as `pickle-format` (low) instead of
    /// `pickle-unknown-global` (medium). Globals on the built-in dangerous lists are never
    /// lowered by this setting.
    pub globals: Vec<GlobalPattern>,
}

/// One `allow.globals` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GlobalPattern {
    /// `mypkg.layers.MyBlock`: exactly that `module.name`.
    Exact(String),
    /// `mypkg.models.*`: any global whose `module.name` starts with `mypkg.models.`
    /// (stored without the trailing `.*`).
    Under(String),
}

impl GlobalPattern {
    /// Validates one entry: a dotted path with no empty segment, optionally ending in
    /// `.*`; no other wildcard; not `*` alone.
    pub fn parse(s: &str) -> Result<GlobalPattern, String> {
        if s.is_empty() {
            return Err("empty global pattern".into());
        }
        if s.chars().any(char::is_whitespace) {
            return Err(format!("global pattern `{s}` contains whitespace"));
        }
        if s == "*" || s == ".*" || s == "**" {
            return Err(format!(
                "global pattern `{s}` is too broad: it would trust every pickle global, including \
                 ones that run code; name a module instead, e.g. `mypkg.models.*`"
            ));
        }
        let (body, under) = match s.strip_suffix(".*") {
            Some(prefix) => (prefix, true),
            None => (s, false),
        };
        if body.contains('*') {
            return Err(format!(
                "global pattern `{s}`: `*` is only supported as a trailing `.*` (e.g. `mypkg.models.*`)"
            ));
        }
        if body.split('.').any(str::is_empty) {
            return Err(format!("global pattern `{s}` has an empty dotted segment"));
        }
        if under {
            Ok(GlobalPattern::Under(body.to_string()))
        } else if !body.contains('.') {
            Err(format!(
                "global pattern `{s}`: expected `module.name` (e.g. `mypkg.layers.MyBlock`) or \
                 `module.*` (e.g. `{s}.*`)"
            ))
        } else {
            Ok(GlobalPattern::Exact(body.to_string()))
        }
    }

    /// Whether the global `module.name` matches.
    pub fn matches(&self, module: &str, name: &str) -> bool {
        match self {
            GlobalPattern::Exact(p) => {
                // `p == format!("{module}.{name}")` without allocating.
                p.len() == module.len() + 1 + name.len()
                    && p.starts_with(module)
                    && p.as_bytes().get(module.len()) == Some(&b'.')
                    && p.ends_with(name)
            }
            GlobalPattern::Under(prefix) => {
                let full = format!("{module}.{name}");
                full.len() > prefix.len() + 1
                    && full.starts_with(prefix.as_str())
                    && full.as_bytes().get(prefix.len()) == Some(&b'.')
            }
        }
    }
}

impl fmt::Display for GlobalPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GlobalPattern::Exact(p) => f.write_str(p),
            GlobalPattern::Under(p) => write!(f, "{p}.*"),
        }
    }
}

impl<'de> Deserialize<'de> for GlobalPattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        de_str_with(
            d,
            "a pickle global such as `mypkg.layers.MyBlock` or `mypkg.models.*`",
            GlobalPattern::parse,
        )
    }
}

/// The user-trusted pickle globals, as scanners consult them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GlobalAllowlist {
    patterns: Vec<GlobalPattern>,
}

impl GlobalAllowlist {
    /// An allowlist of already validated patterns.
    pub fn new(patterns: Vec<GlobalPattern>) -> GlobalAllowlist {
        GlobalAllowlist { patterns }
    }

    /// Validates and collects patterns given as strings.
    pub fn parse<S: AsRef<str>>(patterns: &[S]) -> Result<GlobalAllowlist, String> {
        patterns
            .iter()
            .map(|p| GlobalPattern::parse(p.as_ref()))
            .collect::<Result<Vec<_>, _>>()
            .map(GlobalAllowlist::new)
    }

    /// Whether the pickle global `module.name` is trusted: some pattern equals
    /// `module.name`, or some `prefix.*` pattern has `prefix.` as a strict prefix of it.
    pub fn matches(&self, module: &str, name: &str) -> bool {
        self.patterns.iter().any(|p| p.matches(module, name))
    }

    /// Whether no global is trusted.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// The patterns, in configuration order.
    pub fn patterns(&self) -> &[GlobalPattern] {
        &self.patterns
    }
}

// ---------------------------------------------------------------------------------------
// deny

/// `deny:`: formats refused whatever their content.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct Deny {
    /// File extensions refused, each entry either an extension (`.pkl`, severity high)
    /// or `{ extensions: [...], severity: ... }`.
    pub extensions: Vec<DenyExtensions>,
    /// Detected format labels refused, each entry either a label (`pickle`, severity
    /// high) or `{ formats: [...], severity: ... }`.
    pub formats: Vec<DenyFormats>,
}

/// One `deny.extensions` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DenyExtensions {
    /// Lowercase extensions without the leading dot (`pkl`, `tar.gz`); a file is denied
    /// when its name ends, case-insensitively, with `.` followed by one of them.
    pub extensions: Vec<String>,
    /// Severity of the `policy-denied-format` finding (default high).
    pub severity: Severity,
}

/// One `deny.formats` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DenyFormats {
    /// Lowercase format labels. A label also denies its variants: `pytorch` matches
    /// `pytorch`, `pytorch-zip` and `pytorch-legacy` (any detected label equal to it or
    /// starting with it followed by `-`).
    pub formats: Vec<String>,
    /// Severity of the `policy-denied-format` finding (default high).
    pub severity: Severity,
}

impl DenyExtensions {
    /// The denied extension (without dot) that `file_name` ends with, if any.
    pub fn matching(&self, file_name: &str) -> Option<&str> {
        let lower = file_name.to_ascii_lowercase();
        self.extensions
            .iter()
            .find(|ext| {
                lower
                    .strip_suffix(ext.as_str())
                    .is_some_and(|stem| stem.ends_with('.'))
            })
            .map(String::as_str)
    }
}

impl DenyFormats {
    /// The configured label that denies the detected `format`, if any.
    pub fn matching(&self, format: &str) -> Option<&str> {
        self.formats
            .iter()
            .find(|label| format_label_matches(label, format))
            .map(String::as_str)
    }
}

/// `pytorch` matches `pytorch`, `pytorch-zip`, `pytorch-legacy`; not `pytorchx`.
pub fn format_label_matches(label: &str, format: &str) -> bool {
    let format = format.to_ascii_lowercase();
    match format.strip_prefix(label) {
        Some(rest) => rest.is_empty() || rest.starts_with('-'),
        None => false,
    }
}

fn parse_extension(s: &str) -> Result<String, String> {
    let ext = s.strip_prefix('.').unwrap_or(s).to_ascii_lowercase();
    if ext.is_empty() {
        return Err("empty extension".into());
    }
    if ext.starts_with('.')
        || ext.ends_with('.')
        || ext
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '/' | '\\' | '*' | '?' | '[' | ']'))
    {
        return Err(format!(
            "invalid extension `{s}`: write the extension only, e.g. `.pkl` or `pkl`"
        ));
    }
    Ok(ext)
}

fn parse_format_label(s: &str) -> Result<String, String> {
    let label = s.to_ascii_lowercase();
    let ok = label.starts_with(|c: char| c.is_ascii_alphanumeric())
        && label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(label)
    } else {
        Err(format!(
            "invalid format label `{s}`: expected a label such as {}",
            known_formats().join(", ")
        ))
    }
}

/// A non-empty list of strings, each validated by `parse`, inside a visitor so that
/// errors carry the list's position.
struct ValidatedList {
    what: &'static str,
    parse: fn(&str) -> Result<String, String>,
}

impl<'de> de::DeserializeSeed<'de> for ValidatedList {
    type Value = Vec<String>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<String>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ValidatedList {
    type Value = Vec<String>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a list of {}", self.what)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<String>, A::Error> {
        let mut out = Vec::new();
        while let Some(item) = seq.next_element_seed(Validated {
            what: self.what,
            parse: self.parse,
        })? {
            out.push(item);
        }
        if out.is_empty() {
            return Err(de::Error::custom(format!(
                "expected at least one of {}",
                self.what
            )));
        }
        Ok(out)
    }
}

struct Validated {
    what: &'static str,
    parse: fn(&str) -> Result<String, String>,
}

impl<'de> de::DeserializeSeed<'de> for Validated {
    type Value = String;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        de_str_with(d, self.what, self.parse)
    }
}

/// The mapping form of a `deny.extensions` entry.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct DenyExtensionsMap {
    /// Extensions, with or without the leading dot.
    #[serde(deserialize_with = "de_extension_list")]
    extensions: Vec<String>,
    /// Severity of the finding (default high).
    #[serde(default = "default_deny_severity")]
    severity: Severity,
}

/// The mapping form of a `deny.formats` entry.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct DenyFormatsMap {
    /// Format labels.
    #[serde(deserialize_with = "de_format_list")]
    formats: Vec<String>,
    /// Severity of the finding (default high).
    #[serde(default = "default_deny_severity")]
    severity: Severity,
}

fn default_deny_severity() -> Severity {
    Severity::High
}

fn de_extension_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    de::DeserializeSeed::deserialize(
        ValidatedList {
            what: "extensions such as `.pkl`",
            parse: parse_extension,
        },
        d,
    )
}

fn de_format_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    de::DeserializeSeed::deserialize(
        ValidatedList {
            what: "format labels such as `pickle`",
            parse: parse_format_label,
        },
        d,
    )
}

impl<'de> Deserialize<'de> for DenyExtensions {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DenyExtensions;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "an extension such as `.pkl`, or `{ extensions: [...], severity: ... }`",
                )
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<DenyExtensions, E> {
                Ok(DenyExtensions {
                    extensions: vec![parse_extension(s).map_err(E::custom)?],
                    severity: default_deny_severity(),
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<DenyExtensions, A::Error> {
                let m = DenyExtensionsMap::deserialize(MapAccessDeserializer::new(map))?;
                Ok(DenyExtensions {
                    extensions: m.extensions,
                    severity: m.severity,
                })
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for DenyFormats {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DenyFormats;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a format label such as `pickle`, or `{ formats: [...], severity: ... }`",
                )
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<DenyFormats, E> {
                Ok(DenyFormats {
                    formats: vec![parse_format_label(s).map_err(E::custom)?],
                    severity: default_deny_severity(),
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<DenyFormats, A::Error> {
                let m = DenyFormatsMap::deserialize(MapAccessDeserializer::new(map))?;
                Ok(DenyFormats {
                    formats: m.formats,
                    severity: m.severity,
                })
            }
        }
        d.deserialize_any(V)
    }
}

// ---------------------------------------------------------------------------------------
// ignore

/// One `ignore:` entry: suppresses findings of `rule` in files matching `paths` until
/// `expires`. Suppressed findings stay in reports but do not count toward thresholds.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct IgnoreEntry {
    /// The rule id to suppress (`modelgate rules` lists them), or `"*"` (quoted: a bare
    /// `*` starts a YAML alias) for every rule.
    pub rule: RuleSelector,
    /// Non-empty list of globs matched against the finding's file path and against
    /// `path!member` for findings inside archives.
    #[serde(deserialize_with = "de_non_empty_globs")]
    pub paths: GlobList,
    /// Why the findings are acceptable; mandatory and non-empty, shown in reports.
    #[serde(deserialize_with = "de_reason")]
    pub reason: String,
    /// Last day (`YYYY-MM-DD`, inclusive) the entry suppresses; after it the findings
    /// count again and a `policy-expired-ignore` finding says so. Optional.
    #[serde(default, deserialize_with = "de_opt_date")]
    pub expires: Option<Date>,
}

impl IgnoreEntry {
    /// Whether the entry has expired on `today` (it still applies on its `expires` day).
    pub fn is_expired(&self, today: Date) -> bool {
        self.expires.is_some_and(|d| today > d)
    }
}

/// Which rule an `ignore:` entry applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleSelector {
    /// `"*"`: every rule.
    Any,
    /// One rule of the catalogue.
    Rule(crate::rules::RuleId),
}

impl RuleSelector {
    /// Parses a rule id from the catalogue, or `*`.
    pub fn parse(s: &str) -> Result<RuleSelector, String> {
        if s == "*" {
            return Ok(RuleSelector::Any);
        }
        if s == "policy-expired-ignore" {
            // These findings are produced after suppression precisely to report stale
            // entries; letting an entry hide them would defeat expiry.
            return Err(
                "rule `policy-expired-ignore` cannot be ignored: renew or remove the expired entry"
                    .into(),
            );
        }
        match crate::rules::get(s) {
            Some(r) => Ok(RuleSelector::Rule(r.id)),
            None => Err(format!(
                "unknown rule `{s}` (`modelgate rules` lists the rule ids; `\"*\"` means every rule)"
            )),
        }
    }

    /// Whether findings of rule `id` are selected.
    pub fn matches(&self, id: crate::rules::RuleId) -> bool {
        match self {
            RuleSelector::Any => true,
            RuleSelector::Rule(r) => *r == id,
        }
    }

    /// `*` or the rule id.
    pub fn as_str(&self) -> &'static str {
        match self {
            RuleSelector::Any => "*",
            RuleSelector::Rule(r) => r.as_str(),
        }
    }
}

impl<'de> Deserialize<'de> for RuleSelector {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        de_str_with(d, "a rule id or \"*\"", RuleSelector::parse)
    }
}

fn de_reason<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    de_str_with(d, "a non-empty reason", |s| {
        let s = s.trim();
        if s.is_empty() {
            Err("`reason` must not be empty: say why these findings are acceptable".into())
        } else {
            Ok(s.to_string())
        }
    })
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Result<Date, String> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s.trim(), &fmt)
        .map_err(|e| format!("invalid date `{s}`: expected YYYY-MM-DD ({e})"))
}

fn de_opt_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Date>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<Date>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a date YYYY-MM-DD")
        }
        fn visit_none<E: de::Error>(self) -> Result<Option<Date>, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Option<Date>, E> {
            Ok(None)
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Option<Date>, D2::Error> {
            de_str_with(d, "a date YYYY-MM-DD", parse_date).map(Some)
        }
    }
    d.deserialize_option(V)
}

// ---------------------------------------------------------------------------------------
// limits

/// `limits:`: overrides of [`Limits`]; a missing key keeps the built-in default. Sizes
/// are bytes, given as integers or as strings with a unit (`512MiB`, `4GB`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct LimitsConfig {
    /// Files larger than this are not scanned (default 4GiB).
    pub max_file_size: Option<ByteSize>,
    /// Largest archive member or pickle stream read into memory (default 1GiB).
    pub max_member_size: Option<ByteSize>,
    /// How deep containers may nest (default 8).
    pub max_archive_depth: Option<u32>,
    /// Most entries read from one archive's directory (default 100000).
    pub max_archive_entries: Option<u32>,
    /// Largest uncompressed/compressed ratio accepted for a member (default 1000).
    pub max_expansion_ratio: Option<u64>,
    /// Largest total of decompressed bytes per file (default 4GiB).
    pub max_total_expanded: Option<ByteSize>,
    /// Opcodes interpreted per pickle stream (default 50000000).
    pub max_pickle_opcodes: Option<u64>,
    /// Memo entries per pickle stream (default 5000000).
    pub max_pickle_memo: Option<usize>,
    /// Depth of the pickle stack plus metastack (default 1000000).
    pub max_pickle_stack: Option<usize>,
    /// Pickle streams read one after another from the same bytes (default 64).
    pub max_pickles_per_stream: Option<u32>,
    /// Wall-clock budget per file, in seconds (default 60).
    #[serde(deserialize_with = "de_opt_seconds")]
    pub time_budget: Option<Duration>,
}

impl LimitsConfig {
    /// `base` with every value set here replaced.
    pub fn apply(&self, mut base: Limits) -> Limits {
        if let Some(v) = self.max_file_size {
            base.max_file_size = v.0;
        }
        if let Some(v) = self.max_member_size {
            base.max_member_size = v.0;
        }
        if let Some(v) = self.max_archive_depth {
            base.max_archive_depth = v;
        }
        if let Some(v) = self.max_archive_entries {
            base.max_archive_entries = v;
        }
        if let Some(v) = self.max_expansion_ratio {
            base.max_expansion_ratio = v;
        }
        if let Some(v) = self.max_total_expanded {
            base.max_total_expanded = v.0;
        }
        if let Some(v) = self.max_pickle_opcodes {
            base.max_pickle_opcodes = v;
        }
        if let Some(v) = self.max_pickle_memo {
            base.max_pickle_memo = v;
        }
        if let Some(v) = self.max_pickle_stack {
            base.max_pickle_stack = v;
        }
        if let Some(v) = self.max_pickles_per_stream {
            base.max_pickles_per_stream = v;
        }
        if let Some(v) = self.time_budget {
            base.time_budget = v;
        }
        base
    }
}

/// A size in bytes, written as an integer or a string with a unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteSize(pub u64);

/// Parses `4096`, `512MiB`, `4GB`, `1.5 GiB`. Units are case-insensitive: `B`; decimal
/// `KB` `MB` `GB` `TB` (powers of 1000); binary `KiB` `MiB` `GiB` `TiB` (powers of 1024).
/// Bare `K`/`M`/`G` are rejected as ambiguous. A fraction must give a whole byte count.
pub fn parse_byte_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = (&t[..split], t[split..].trim());
    let bad = || {
        format!(
            "invalid size `{s}`: expected bytes as an integer or with a unit, e.g. `512MiB`, `4GB`"
        )
    };
    let multiplier: u128 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "tib" => 1 << 40,
        "k" | "m" | "g" | "t" => {
            return Err(format!(
                "invalid size `{s}`: unit `{unit}` is ambiguous; write `{unit}B` (powers of 1000) or `{unit}iB` (powers of 1024)"
            ))
        }
        _ => return Err(bad()),
    };
    let (int, frac) = match number.split_once('.') {
        Some((i, f)) => (i, f),
        None => (number, ""),
    };
    if int.is_empty() || frac.contains('.') || (number.contains('.') && frac.is_empty()) {
        return Err(bad());
    }
    // Exact integer arithmetic: `int.frac * multiplier`, with the fraction kept as
    // digits / 10^len, so `1.5GiB` is exact and overflow is detected, not wrapped.
    let too_big = || format!("invalid size `{s}`: too large");
    if int.len() > 20 || frac.len() > 12 {
        return Err(too_big());
    }
    let int: u128 = int.parse().map_err(|_| bad())?;
    let mut total = int.checked_mul(multiplier).ok_or_else(too_big)?;
    if !frac.is_empty() {
        let digits: u128 = frac.parse().map_err(|_| bad())?;
        let scale = 10u128.pow(frac.len() as u32);
        let part = digits * multiplier;
        if !part.is_multiple_of(scale) {
            return Err(format!("invalid size `{s}`: not a whole number of bytes"));
        }
        total += part / scale;
    }
    u64::try_from(total).map_err(|_| too_big())
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ByteSize;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a size in bytes, e.g. 1048576, `512MiB` or `4GB`")
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<ByteSize, E> {
                Ok(ByteSize(n))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<ByteSize, E> {
                u64::try_from(n)
                    .map(ByteSize)
                    .map_err(|_| E::custom(format!("invalid size `{n}`: must not be negative")))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<ByteSize, E> {
                parse_byte_size(s).map(ByteSize).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

fn de_opt_seconds<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    struct Secs;
    impl Visitor<'_> for Secs {
        type Value = Duration;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a number of seconds > 0")
        }
        fn visit_u64<E: de::Error>(self, n: u64) -> Result<Duration, E> {
            if n == 0 {
                Err(E::custom(
                    "invalid time budget `0`: must be at least 1 second",
                ))
            } else {
                Ok(Duration::from_secs(n))
            }
        }
        fn visit_i64<E: de::Error>(self, n: i64) -> Result<Duration, E> {
            match u64::try_from(n) {
                Ok(n) => self.visit_u64(n),
                Err(_) => Err(E::custom(format!(
                    "invalid time budget `{n}`: must be at least 1 second"
                ))),
            }
        }
        fn visit_f64<E: de::Error>(self, x: f64) -> Result<Duration, E> {
            if x.is_finite() && x > 0.0 && x < 1e9 {
                Ok(Duration::from_secs_f64(x))
            } else {
                Err(E::custom(format!(
                    "invalid time budget `{x}`: expected a number of seconds > 0"
                )))
            }
        }
    }
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<Duration>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a number of seconds > 0")
        }
        fn visit_none<E: de::Error>(self) -> Result<Option<Duration>, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Option<Duration>, E> {
            Ok(None)
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Option<Duration>, D2::Error> {
            d.deserialize_any(Secs).map(Some)
        }
    }
    d.deserialize_option(V)
}

// ---------------------------------------------------------------------------------------
// policy, huggingface

/// `policy:`: Rego policies evaluated against the scan report.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct PolicyConfig {
    /// Rego policy files, relative to the folder of the configuration file: each entry a
    /// glob (`policies/*.rego`, findings high) or `{ file: GLOB, severity: SEV }`.
    pub rego: Vec<RegoEntry>,
}

impl PolicyConfig {
    /// Whether no policy is configured.
    pub fn is_empty(&self) -> bool {
        self.rego.is_empty()
    }
}

/// One `policy.rego` entry: the files a glob selects and the severity of the
/// `policy-violation` findings their `match` / `deny` results become.
#[derive(Clone, Debug)]
pub struct RegoEntry {
    pub file: GlobPattern,
    pub severity: Severity,
}

/// The mapping form of a `policy.rego` entry.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RegoEntryMap {
    file: GlobPattern,
    #[serde(default = "default_deny_severity")]
    severity: Severity,
}

impl<'de> Deserialize<'de> for RegoEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RegoEntry;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a glob of .rego files, or `{ file: GLOB, severity: ... }`")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<RegoEntry, E> {
                Ok(RegoEntry {
                    file: GlobPattern::new(s).map_err(E::custom)?,
                    severity: default_deny_severity(),
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RegoEntry, A::Error> {
                let m = RegoEntryMap::deserialize(MapAccessDeserializer::new(map))?;
                Ok(RegoEntry {
                    file: m.file,
                    severity: m.severity,
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// `models:`: the models the repository's code pulls.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct Models {
    /// Resolve each constant reference through the Hub API and scan the files it names
    /// (as `--resolve-models`; network needed). Default false: references are checked
    /// offline only.
    pub resolve: bool,
    /// The lock file, relative to the config file's folder (the repository root for
    /// `.github/modelgate.yml`). Default `modelgate.lock` beside the first local target.
    pub lock: Option<PathBuf>,
}

/// `huggingface:`: settings for `hf://` targets.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct HuggingFace {
    /// Hub owners (organisations or users) whose repositories are trusted; a repository
    /// of any other owner that holds code-bearing files gets a finding. Empty (the
    /// default): owners are not checked.
    #[serde(deserialize_with = "de_org_list")]
    pub trusted_orgs: Vec<String>,
    /// Fold the Hub's own scan verdict (`securityStatus`) into the report (default
    /// false). `check-security-status` is accepted as an alias.
    #[serde(alias = "check-security-status")]
    pub hub_scan: bool,
}

fn de_org_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list of Hub organisation names")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<String>, A::Error> {
            let mut out = Vec::new();
            while let Some(org) = seq.next_element_seed(Validated {
                what: "a Hub organisation name",
                parse: parse_org,
            })? {
                out.push(org);
            }
            Ok(out)
        }
    }
    d.deserialize_seq(V)
}

fn parse_org(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!(
            "invalid organisation `{s}`: expected a Hub owner name such as `google` (no `/`)"
        ))
    }
}

// ---------------------------------------------------------------------------------------
// helpers

/// Deserialises a string and validates it inside the visitor, so that a validation error
/// carries the position and key path of the string itself.
fn de_str_with<'de, D, T, F>(d: D, expecting: &'static str, f: F) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    F: FnOnce(&str) -> Result<T, String>,
{
    struct V<F> {
        expecting: &'static str,
        f: F,
    }
    impl<T, F: FnOnce(&str) -> Result<T, String>> Visitor<'_> for V<F> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str(self.expecting)
        }
        fn visit_str<E: de::Error>(self, s: &str) -> Result<T, E> {
            (self.f)(s).map_err(E::custom)
        }
    }
    d.deserialize_str(V { expecting, f })
}

// ---------------------------------------------------------------------------------------
// discovery and loading

/// Finds the configuration for a scan that starts at `start` (the first scan target if it
/// is a local directory, else the current directory; for a file, its folder). Looks in
/// that folder only, for [`DISCOVERY_ORDER`]: `.modelgate.yml`, then `.modelgate.yaml`,
/// then `.github/modelgate.yml`; the first regular file found wins.
pub fn discover(start: &Path) -> Option<PathBuf> {
    let dir = if start.is_file() {
        match start.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        }
    } else {
        start
    };
    DISCOVERY_ORDER
        .iter()
        .map(|name| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// A configuration that could not be loaded. Displays as one line:
/// `FILE:LINE:COLUMN: KEY.PATH: message`, leaving out what is unknown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The configuration file.
    pub file: PathBuf,
    /// 1-based line of the offending value, when known.
    pub line: Option<usize>,
    /// 1-based column of the offending value, when known.
    pub column: Option<usize>,
    /// Key path of the offending value (`ignore[0].reason`), when known.
    pub key: Option<String>,
    /// What is wrong, on one line.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        if let Some(key) = &self.key {
            write!(f, ": {key}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Reads and strictly parses a configuration file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: path.to_path_buf(),
        line: None,
        column: None,
        key: None,
        message: format!("cannot read configuration: {e}"),
    })?;
    let mut config = parse_str(&text, path)?;
    config.source = Some(path.to_path_buf());
    Ok(config)
}

/// Strictly parses configuration text; `file` only names it in errors. An empty file (or
/// one with only comments) is the default configuration.
pub fn parse_str(text: &str, file: &Path) -> Result<Config, ConfigError> {
    let de = serde_yaml::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| yaml_error(file, e))
}

fn yaml_error(file: &Path, err: serde_path_to_error::Error<serde_yaml::Error>) -> ConfigError {
    let key = err.path().to_string();
    let key = (key != "." && !key.is_empty()).then_some(key);
    let inner = err.into_inner();
    let (line, column) = match inner.location() {
        Some(l) => (Some(l.line()), Some(l.column())),
        None => (None, None),
    };
    let mut message = strip_marks(&inner.to_string());
    // yaml_serde prefixes messages with its own key path, which for an unknown field is
    // the parent of ours; ours is printed separately, so drop theirs.
    if let (Some(k), Some((prefix, rest))) = (&key, message.split_once(": ")) {
        let is_ancestor = k == prefix
            || k.strip_prefix(prefix)
                .is_some_and(|r| r.starts_with('.') || r.starts_with('['));
        if is_ancestor {
            message = rest.to_string();
        }
    }
    let message = message.split_whitespace().collect::<Vec<_>>().join(" ");
    ConfigError {
        file: file.to_path_buf(),
        line,
        column,
        key,
        message,
    }
}

/// Removes the ` at line L column C` / ` at position N` fragments yaml_serde and libyaml
/// append: the position is printed once, in front.
fn strip_marks(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    while let Some(i) = rest.find(" at ") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 4..];
        match mark_len(after) {
            Some(n) => rest = &after[n..],
            None => {
                out.push_str(" at ");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Length of a leading `line L column C` or `position N`, if `s` starts with one.
fn mark_len(s: &str) -> Option<usize> {
    fn digits(s: &str) -> usize {
        s.bytes().take_while(u8::is_ascii_digit).count()
    }
    if let Some(r) = s.strip_prefix("line ") {
        let a = digits(r);
        let r2 = r[a..].strip_prefix(" column ")?;
        let b = digits(r2);
        (a > 0 && b > 0).then_some("line ".len() + a + " column ".len() + b)
    } else if let Some(r) = s.strip_prefix("position ") {
        let a = digits(r);
        (a > 0).then_some("position ".len() + a)
    } else {
        None
    }
}

/// The starter `.modelgate.yml` that `modelgate init` writes: every key, set to its
/// default, with commented-out examples. Loading it gives the default configuration.
pub const INIT_TEMPLATE: &str = include_str!("config/init.yml");

#[cfg(test)]
mod tests;
