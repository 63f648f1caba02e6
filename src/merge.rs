//! `modelgate merge`: combines the JSON reports of shard runs into one report and applies
//! the thresholds once.
//!
//! A big repository is scanned as N jobs (`scan --shard K/N --json shard-K.json`); the
//! shards partition the files by path, so their union is what one full run would have
//! scanned. Each shard has already applied the policy (deny, ignore, suppressions) to its
//! own files; what cannot be decided per shard is the verdict, because thresholds count
//! findings across the whole repository. This module checks that the reports really are
//! disjoint shards of one scan by the same modelgate, then rebuilds the report — counts,
//! order, verdict — exactly as a single run would.
//!
//! Only JSON reports are read: SARIF omits skipped files, clean files and info findings,
//! so a merged SARIF could not give the counts or the verdict a full run gives.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::app;
use crate::cli::MergeArgs;
use crate::env::Env;
use crate::report::json::v1;
use crate::report::{FileReport, Tool, JSON_VERSION};

pub fn merge_command(args: &MergeArgs, env: &Env) -> Result<u8, String> {
    // Thresholds as `scan` would resolve them in the current directory: the configuration
    // file (given, or discovered), then `--fail-on`. Everything else the policy decides
    // was applied by each shard to its own files.
    let (_, _, policy) = crate::settings::load_policy(&args.report, &[Path::new(".")])?;
    let files = read_reports(&args.reports)?;
    let report = policy.decide(files);
    app::emit(&report, &args.report, env)
}

/// Reads every report and returns the union of their files, refusing anything that would
/// make the merged verdict differ from a single run's: another schema version, another
/// modelgate version (its rules and allowlist may differ), or a file that appears in two
/// reports (overlapping shards, or one report given twice, would count findings twice).
pub fn read_reports(paths: &[PathBuf]) -> Result<Vec<FileReport>, String> {
    let this = Tool::this();
    let mut owner: HashMap<String, usize> = HashMap::new();
    let mut files: Vec<FileReport> = Vec::new();
    for (i, path) in paths.iter().enumerate() {
        let shown = path.display();
        let text = std::fs::read(path).map_err(|e| format!("{shown}: {e}"))?;
        let mut v: Value = serde_json::from_slice(&text)
            .map_err(|e| format!("{shown}: not a modelgate JSON report: {e}"))?;
        drop(text);
        if v.get("runs").is_some() || v.get("$schema").is_some() {
            return Err(format!(
                "{shown}: this is a SARIF report; merge reads the JSON reports written by \
                 `modelgate scan --json FILE` (SARIF leaves out skipped and clean files)"
            ));
        }
        match v.get("version").and_then(Value::as_u64) {
            Some(n) if n == u64::from(JSON_VERSION) => {}
            Some(n) => {
                return Err(format!(
                    "{shown}: JSON report version {n}, this modelgate reads version {JSON_VERSION}"
                ))
            }
            None => {
                return Err(format!(
                    "{shown}: not a modelgate JSON report (no `version`)"
                ))
            }
        }
        let name = v.pointer("/tool/name").and_then(Value::as_str);
        if name != Some(this.name) {
            return Err(format!(
                "{shown}: not a modelgate report (tool.name is {})",
                name.map_or("missing".to_string(), |n| format!("`{n}`"))
            ));
        }
        let version = v
            .pointer("/tool/version")
            .and_then(Value::as_str)
            .unwrap_or("missing");
        if version != this.version {
            return Err(format!(
                "{shown}: written by modelgate {version}, but this is modelgate {}: \
                 scan every shard and merge with the same version",
                this.version
            ));
        }
        let report_files: Vec<v1::File> =
            serde_json::from_value(v.get_mut("files").map(Value::take).unwrap_or(Value::Null))
                .map_err(|e| format!("{shown}: `files`: {e}"))?;
        for f in report_files {
            if let Some(&first) = owner.get(&f.path) {
                let msg = if first == i {
                    format!("{shown}: lists `{}` twice", f.path)
                } else {
                    format!(
                        "`{}` is in both {} and {}: shards must not overlap \
                         (same --shard N and targets for every shard, each report once)",
                        f.path,
                        paths
                            .get(first)
                            .map_or(Path::new("?"), |p| p.as_path())
                            .display(),
                        shown
                    )
                };
                return Err(msg);
            }
            owner.insert(f.path.clone(), i);
            files.push(FileReport::from(f));
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testutil::sample_report;
    use crate::report::{Report, Thresholds};

    fn write(dir: &Path, name: &str, v: &Value) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, serde_json::to_vec(v).unwrap()).unwrap();
        p
    }

    fn sample_json() -> Value {
        to_json(&sample_report())
    }

    fn to_json(r: &Report) -> Value {
        serde_json::to_value(v1::Report::from(r)).unwrap()
    }

    #[test]
    fn round_trips_files_and_findings() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "a.json", &sample_json());
        let files = read_reports(&[p]).unwrap();
        let merged = Report::new(files, Thresholds::DEFAULT);
        assert_eq!(
            to_json(&merged),
            sample_json(),
            "a report read back and rebuilt is the same report"
        );
    }

    #[test]
    fn splits_merge_back_into_the_whole() {
        let dir = tempfile::tempdir().unwrap();
        let whole = sample_json();
        let (mut a, mut b) = (whole.clone(), whole.clone());
        let all = whole["files"].as_array().unwrap().clone();
        a["files"] = Value::Array(all.iter().step_by(2).cloned().collect());
        b["files"] = Value::Array(all.iter().skip(1).step_by(2).cloned().collect());
        let pa = write(dir.path(), "a.json", &a);
        let pb = write(dir.path(), "b.json", &b);
        let merged = Report::new(read_reports(&[pb, pa]).unwrap(), Thresholds::DEFAULT);
        assert_eq!(to_json(&merged), whole);
    }

    #[test]
    fn rejects_overlap_duplicates_versions_and_sarif() {
        let dir = tempfile::tempdir().unwrap();
        let whole = sample_json();
        let a = write(dir.path(), "a.json", &whole);
        let b = write(dir.path(), "b.json", &whole);
        let err = read_reports(&[a.clone(), b]).unwrap_err();
        assert!(
            err.contains("is in both") && err.contains("a.json"),
            "{err}"
        );

        let mut twice = whole.clone();
        let first = twice["files"][0].clone();
        twice["files"].as_array_mut().unwrap().push(first);
        let t = write(dir.path(), "twice.json", &twice);
        assert!(read_reports(&[t]).unwrap_err().contains("twice"));

        let mut old = whole.clone();
        old["tool"]["version"] = "0.0.1".into();
        let o = write(dir.path(), "old.json", &old);
        let err = read_reports(&[o]).unwrap_err();
        assert!(err.contains("modelgate 0.0.1"), "{err}");

        let mut v2 = whole.clone();
        v2["version"] = 2.into();
        let p = write(dir.path(), "v2.json", &v2);
        assert!(read_reports(&[p]).unwrap_err().contains("version 2"));

        let sarif = serde_json::json!({"$schema": "x", "version": "2.1.0", "runs": []});
        let s = write(dir.path(), "r.sarif", &sarif);
        assert!(read_reports(&[s]).unwrap_err().contains("SARIF"));

        let junk = dir.path().join("junk.json");
        std::fs::write(&junk, b"{not json").unwrap();
        assert!(read_reports(&[junk])
            .unwrap_err()
            .contains("not a modelgate JSON report"));
    }
}
