//! Rego policies (`policy.rego`), evaluated in-process with `regorus` — no OPA binary.
//!
//! Each policy file is evaluated once per target ([`Package`]) against the JSON report of
//! that target's files plus a `v0` view shaped like Cloudsmith EPM's input, so EPM-style
//! policies run unchanged (`docs/policy.md` documents the input). A `match` rule that is
//! true (EPM style; its messages come from the policy's `reason` set) or each message of
//! a `deny` set becomes a `policy-violation` finding with the severity configured for the
//! file.

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};

use crate::config::{Config, RegoEntry};
use crate::finding::{Finding, Location, Severity};
use crate::remote::TARGET_FORMAT;
use crate::report::{FileReport, FileStatus, Report, Thresholds, Verdict};
use crate::rules::RuleId;
use crate::target::Package;

/// Policy files larger than this are refused.
const MAX_POLICY_BYTES: u64 = 1 << 20;
/// Wall-clock budget of one evaluation.
const EVAL_BUDGET: Duration = Duration::from_secs(10);

impl std::fmt::Debug for RegoPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegoPolicy")
            .field("display", &self.display)
            .field("severity", &self.severity)
            .finish_non_exhaustive()
    }
}

/// One loaded policy file.
pub struct RegoPolicy {
    /// As shown in findings and errors: the path relative to the configuration folder.
    pub display: String,
    pub severity: Severity,
    engine: regorus::Engine,
    /// `data.<package>` of the policy.
    package: String,
    rules: Vec<&'static str>,
}

/// The policies a configuration names, loaded and compiled. A glob that matches no file
/// and a policy that does not compile are errors (exit 2), with file and line.
pub fn load(config: &Config) -> Result<Vec<RegoPolicy>, String> {
    let base = config
        .source
        .as_deref()
        .and_then(Path::parent)
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let mut out = Vec::new();
    for entry in &config.policy.rego {
        let files = expand(&base, entry)?;
        for (path, display) in files {
            out.push(load_one(&path, display, entry.severity)?);
        }
    }
    Ok(out)
}

/// The files a `policy.rego` glob selects under `base`, sorted.
fn expand(base: &Path, entry: &RegoEntry) -> Result<Vec<(PathBuf, String)>, String> {
    let pattern = entry.file.as_str();
    let meta = |s: &str| s.contains(['*', '?', '[', '{']);
    if !meta(pattern) {
        let p = base.join(pattern);
        if !p.is_file() {
            return Err(format!("policy.rego: {} not found", p.display()));
        }
        return Ok(vec![(p, pattern.to_string())]);
    }
    // Walk only below the literal prefix of the glob.
    let prefix: Vec<&str> = pattern.split('/').take_while(|seg| !meta(seg)).collect();
    let start = base.join(prefix.join("/"));
    let matcher = entry.file.glob().compile_matcher();
    let mut found = Vec::new();
    for e in walkdir::WalkDir::new(&start)
        .follow_links(true)
        .max_depth(32)
        .sort_by_file_name()
        .into_iter()
        .flatten()
    {
        if !e.file_type().is_file() {
            continue;
        }
        let Ok(rel) = e.path().strip_prefix(base) else {
            continue;
        };
        let rel = rel.to_string_lossy().replace('\\', "/");
        if matcher.is_match(&rel) {
            found.push((e.path().to_path_buf(), rel));
        }
    }
    if found.is_empty() {
        return Err(format!(
            "policy.rego: `{pattern}` matches no file under {}",
            base.display()
        ));
    }
    Ok(found)
}

fn load_one(path: &Path, display: String, severity: Severity) -> Result<RegoPolicy, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.len() > MAX_POLICY_BYTES {
        return Err(format!(
            "{}: policy larger than {MAX_POLICY_BYTES} bytes",
            path.display()
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let name = path.display().to_string();
    // Rego v1 first (regorus' default, and what `import rego.v1` policies are); policies
    // in the older v0 syntax (no `if` / `contains`) are then tried as v0.
    let mut engine = new_engine(false);
    let package = match engine.add_policy(name.clone(), text.clone()) {
        Ok(p) => p,
        Err(v1_err) => {
            engine = new_engine(true);
            match engine.add_policy(name.clone(), text) {
                Ok(p) => p,
                Err(_) => return Err(one_line(&v1_err.to_string())),
            }
        }
    };
    let mut rules = Vec::new();
    for rule in ["match", "deny", "reason"] {
        // Probing with an empty input tells which rules the package defines: a path
        // that names no rule is an error, a defined rule is a value or undefined.
        let mut probe = engine.clone();
        probe.set_input(regorus::Value::new_object());
        if probe.eval_rule(format!("{package}.{rule}")).is_ok() {
            rules.push(rule);
        }
    }
    if !rules.contains(&"match") && !rules.contains(&"deny") {
        return Err(format!(
            "{}: policy defines neither `match` nor `deny` in {package}",
            path.display()
        ));
    }
    Ok(RegoPolicy {
        display,
        severity,
        engine,
        package,
        rules,
    })
}

fn new_engine(v0: bool) -> regorus::Engine {
    let mut engine = regorus::Engine::new();
    engine.set_rego_v0(v0);
    engine.set_execution_timer_config(regorus::utils::limits::ExecutionTimerConfig {
        limit: EVAL_BUDGET,
        check_interval: NonZeroU32::new(64).unwrap_or(NonZeroU32::MIN),
    });
    engine
}

fn one_line(s: &str) -> String {
    // regorus errors span lines: `--> file:line:col`, the source line with a caret, then
    // `error: message`. One line `file:line:col: message` says the same.
    let place = s
        .lines()
        .find_map(|l| l.trim().strip_prefix("-->"))
        .map(|p| p.trim().trim_start_matches("./").to_string());
    let message = s
        .lines()
        .find_map(|l| l.trim().strip_prefix("error:"))
        .map(|m| m.trim().to_string())
        .unwrap_or_else(|| {
            s.lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .unwrap_or(s)
                .to_string()
        });
    match place {
        Some(p) => format!("{p}: {message}"),
        None => message,
    }
}

/// The input one policy sees for one package: the report of the package's files (JSON
/// report schema) with `package` and the EPM-style `v0` view added.
pub fn input(pkg: &Package, files: &[FileReport], thresholds: Thresholds) -> Value {
    let mine: Vec<FileReport> = files
        .iter()
        .filter(|f| {
            pkg.files.contains(&f.path)
                || (f.path == pkg.root && f.format.as_deref() == Some(TARGET_FORMAT))
        })
        .cloned()
        .collect();
    let report = Report::new(mine, thresholds);
    let unsafe_ = report.verdict == Verdict::Fail;
    let incomplete = report.files.iter().any(|f| {
        f.status == FileStatus::Error
            || f.findings
                .iter()
                .any(|x| x.suppressed.is_none() && x.rule.rule().incomplete)
    });
    let v0_files: Vec<Value> = report
        .files
        .iter()
        .filter(|f| f.format.as_deref() != Some(TARGET_FORMAT))
        .map(|f| {
            let rel = pkg.relative(&f.path);
            json!({
                "filename": rel,
                "file_extension": extension(rel),
                "size": f.size,
                "format": f.format,
                "status": f.status,
            })
        })
        .collect();
    let mut model_security = json!({
        "scan_summary": if unsafe_ { "UNSAFE" } else { "SAFE" },
        "availability": if incomplete { "INCOMPLETE" } else { "COMPLETE" },
        "summary": crate::report::json::v1::Summary::from(&report.summary),
    });
    if let Some(sec) = pkg.hub.as_ref().and_then(|h| h.security.as_ref()) {
        crate::report::set(
            &mut model_security,
            "hub",
            json!({
                "scans_done": sec.scans_done,
                "files_with_issues": sec.files_with_issues,
            }),
        );
    }
    let mut v = serde_json::to_value(crate::report::json::v1::Report::from(&report))
        .unwrap_or_else(|_| json!({}));
    crate::report::set(
        &mut v,
        "package",
        json!({
            "kind": pkg.format(),
            "name": pkg.name,
            "version": pkg.version,
            "root": pkg.root,
        }),
    );
    crate::report::set(
        &mut v,
        "v0",
        json!({
            "package": {
                "format": pkg.format(),
                "name": pkg.name,
                "version": pkg.version,
                "files": v0_files,
            },
            "model_security": model_security,
        }),
    );
    v
}

/// `.bin` for `weights/model.bin`, as Python's `os.path.splitext` has it: the leading
/// dot of a hidden file (`.gitattributes`) is not an extension.
fn extension(path: &str) -> String {
    let name = path.rsplit('/').next().unwrap_or(path);
    match name.rfind('.') {
        Some(i) if i > 0 && !name[..i].chars().all(|c| c == '.') => name[i..].to_string(),
        _ => String::new(),
    }
}

/// Evaluates every policy against every package; the findings go to each package's
/// target entry (added when needed).
pub fn apply(
    policies: &mut [RegoPolicy],
    packages: &[Package],
    files: &mut Vec<FileReport>,
    thresholds: Thresholds,
) -> Result<(), String> {
    if policies.is_empty() {
        return Ok(());
    }
    for pkg in packages {
        let input = input(pkg, files, thresholds);
        let input = regorus::Value::from_json_str(&input.to_string())
            .map_err(|e| format!("policy input: {e}"))?;
        let mut found = Vec::new();
        for p in policies.iter_mut() {
            for (query, message) in p.evaluate(&input)? {
                found.push(
                    Finding::new(
                        RuleId::PolicyViolation,
                        Location::file(pkg.root.clone()),
                        message,
                    )
                    .with_severity(p.severity)
                    .with_evidence(format!("{}: {query}", p.display)),
                );
            }
        }
        if !found.is_empty() {
            crate::remote::target_entry(files, pkg)
                .findings
                .extend(found);
        }
    }
    Ok(())
}

impl RegoPolicy {
    /// `(rule path, message)` for each violation.
    fn evaluate(&mut self, input: &regorus::Value) -> Result<Vec<(String, String)>, String> {
        self.engine.set_input(input.clone());
        let mut out = Vec::new();
        if self.rules.contains(&"match") {
            let q = format!("{}.match", self.package);
            if self.eval(&q)? == Value::Bool(true) {
                let reasons = if self.rules.contains(&"reason") {
                    messages(&self.eval(&format!("{}.reason", self.package))?)
                } else {
                    Vec::new()
                };
                if reasons.is_empty() {
                    out.push((q, format!("policy {} matched", self.display)));
                } else {
                    out.extend(reasons.into_iter().map(|m| (q.clone(), m)));
                }
            }
        }
        if self.rules.contains(&"deny") {
            let q = format!("{}.deny", self.package);
            let v = self.eval(&q)?;
            if v == Value::Bool(true) {
                out.push((q, format!("policy {} denied", self.display)));
            } else {
                out.extend(messages(&v).into_iter().map(|m| (q.clone(), m)));
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    fn eval(&mut self, rule: &str) -> Result<Value, String> {
        let v = self
            .engine
            .eval_rule(rule.to_string())
            .map_err(|e| format!("{}: {}", self.display, one_line(&e.to_string())))?;
        if v == regorus::Value::Undefined {
            return Ok(Value::Null);
        }
        serde_json::to_value(&v).map_err(|e| format!("{}: {e}", self.display))
    }
}

/// Messages from a rule's value: strings, or objects with `msg` / `message`, in a set or
/// an array.
fn messages(v: &Value) -> Vec<String> {
    let one = |x: &Value| -> Option<String> {
        match x {
            Value::String(s) => Some(s.clone()),
            Value::Object(m) => m
                .get("msg")
                .or_else(|| m.get("message"))
                .and_then(Value::as_str)
                .map(str::to_string)
                .or_else(|| Some(x.to_string())),
            Value::Null | Value::Bool(false) => None,
            other => Some(other.to_string()),
        }
    };
    match v {
        Value::Array(items) => items.iter().filter_map(one).collect(),
        Value::Null | Value::Bool(_) => Vec::new(),
        other => one(other).into_iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_like_python() {
        assert_eq!(extension("a/model.bin"), ".bin");
        assert_eq!(extension("x.tar.gz"), ".gz");
        assert_eq!(extension(".gitattributes"), "");
        assert_eq!(extension("README"), "");
    }

    #[test]
    fn messages_from_sets_and_objects() {
        assert_eq!(
            messages(&json!(["a", {"msg": "b"}, false])),
            ["a".to_string(), "b".to_string()]
        );
        assert!(messages(&Value::Null).is_empty());
    }
}
