//! The JSON report. Its shape is [`v1`], a frozen copy of the public schema
//! (`docs/json-schema.md`), converted from the internal [`Report`]: internals can move
//! without the output moving. `modelgate merge` reads reports back through the same
//! types, and Rego policies see the same JSON.

use std::io::{self, Write};

use super::{RenderOptions, Report};

pub fn render(report: &Report, _opts: &RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &v1::Report::from(report))?;
    writeln!(out)
}

/// Version 1 of the JSON report, field for field and in this order. Fields may be added
/// (consumers ignore fields they do not know); removing, renaming or changing one bumps
/// [`super::JSON_VERSION`] and gets a module of its own.
pub mod v1 {
    use serde::{Deserialize, Serialize};

    use crate::finding::{self, Severity};
    use crate::report::{self as internal, FileStatus, Thresholds, Verdict};
    use crate::rules::RuleId;
    use crate::target::Origin;

    #[derive(Serialize)]
    pub struct Report {
        pub version: u32,
        pub tool: Tool,
        pub files: Vec<File>,
        /// The models the scanned code references (SPEC §8); absent when there are none.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        pub models: Vec<Model>,
        pub summary: Summary,
        pub thresholds: ThresholdsOut,
        pub reached: Vec<Severity>,
        pub verdict: Verdict,
    }

    /// One referenced model: a (repository, requested revision) and its call sites.
    #[derive(Serialize)]
    pub struct Model {
        pub repo: String,
        /// The `revision` the code asks for; `null`: the default branch.
        pub requested: Option<String>,
        /// The commit: pinned by the code, resolved this run, or taken from the lock.
        pub commit: Option<String>,
        /// `not-resolved`, `resolved`, `locked` or `unresolved`.
        pub state: internal::ModelState,
        /// Worst severity of the model's files; `null`: none, or not scanned.
        pub verdict: Option<Severity>,
        pub files: Vec<crate::refs::lock::LockedFile>,
        pub sites: Vec<Site>,
    }

    #[derive(Serialize)]
    pub struct Site {
        pub path: String,
        pub line: Option<u32>,
        pub column: Option<u32>,
        pub callee: String,
    }

    impl From<&internal::ModelRef> for Model {
        fn from(m: &internal::ModelRef) -> Model {
            Model {
                repo: m.repo.clone(),
                requested: m.requested.clone(),
                commit: m.commit.clone(),
                state: m.state,
                verdict: m.verdict,
                files: m.files.clone(),
                sites: m
                    .sites
                    .iter()
                    .map(|s| Site {
                        path: s.path.clone(),
                        line: s.line,
                        column: s.column,
                        callee: s.callee.clone(),
                    })
                    .collect(),
            }
        }
    }

    #[derive(Serialize)]
    pub struct Tool {
        pub name: &'static str,
        pub version: &'static str,
    }

    /// One file (or target entry) with its findings. Also read back by `merge`.
    #[derive(Serialize, Deserialize)]
    pub struct File {
        pub path: String,
        #[serde(default, skip_serializing_if = "Origin::is_local")]
        pub origin: Origin,
        pub status: FileStatus,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub reason: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub format: Option<String>,
        pub size: u64,
        pub findings: Vec<Finding>,
    }

    #[derive(Serialize, Deserialize)]
    pub struct Finding {
        pub rule: RuleId,
        pub severity: Severity,
        pub location: Location,
        pub message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub evidence: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub suppressed: Option<Suppression>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub related: Vec<Related>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub fix: Option<String>,
    }

    #[derive(Serialize, Deserialize)]
    pub struct Location {
        pub path: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub member: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub offset: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub line: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub column: Option<u32>,
    }

    impl From<&finding::Location> for Location {
        fn from(l: &finding::Location) -> Location {
            Location {
                path: l.path.clone(),
                member: l.member.clone(),
                offset: l.offset,
                line: l.line,
                column: l.column,
            }
        }
    }

    impl From<Location> for finding::Location {
        fn from(l: Location) -> finding::Location {
            finding::Location {
                path: l.path,
                member: l.member,
                offset: l.offset,
                line: l.line,
                column: l.column,
            }
        }
    }

    #[derive(Serialize, Deserialize)]
    pub struct Related {
        pub location: Location,
        #[serde(default, skip_serializing_if = "Origin::is_local")]
        pub origin: Origin,
        pub message: String,
    }

    #[derive(Serialize, Deserialize)]
    pub struct Suppression {
        pub reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub expires: Option<String>,
    }

    #[derive(Serialize)]
    pub struct Summary {
        pub files_scanned: u64,
        pub files_skipped: u64,
        pub files_errored: u64,
        pub lfs_pointers: u64,
        pub critical: u64,
        pub high: u64,
        pub medium: u64,
        pub low: u64,
        pub info: u64,
        pub suppressed: u64,
    }

    /// `{"critical": 1, ..., "info": null}`: the threshold per severity, `null` = off.
    #[derive(Serialize)]
    pub struct ThresholdsOut {
        pub critical: Option<u64>,
        pub high: Option<u64>,
        pub medium: Option<u64>,
        pub low: Option<u64>,
        pub info: Option<u64>,
    }

    impl From<&internal::Report> for Report {
        fn from(r: &internal::Report) -> Report {
            Report {
                version: r.version,
                tool: Tool {
                    name: r.tool.name,
                    version: r.tool.version,
                },
                files: r.files.iter().map(File::from).collect(),
                models: r.models.iter().map(Model::from).collect(),
                summary: Summary::from(&r.summary),
                thresholds: ThresholdsOut::from(r.thresholds),
                reached: r.reached.clone(),
                verdict: r.verdict,
            }
        }
    }

    impl From<&internal::Summary> for Summary {
        fn from(s: &internal::Summary) -> Summary {
            Summary {
                files_scanned: s.files_scanned,
                files_skipped: s.files_skipped,
                files_errored: s.files_errored,
                lfs_pointers: s.lfs_pointers,
                critical: s.critical,
                high: s.high,
                medium: s.medium,
                low: s.low,
                info: s.info,
                suppressed: s.suppressed,
            }
        }
    }

    impl From<Thresholds> for ThresholdsOut {
        fn from(t: Thresholds) -> ThresholdsOut {
            ThresholdsOut {
                critical: t.get(Severity::Critical),
                high: t.get(Severity::High),
                medium: t.get(Severity::Medium),
                low: t.get(Severity::Low),
                info: t.get(Severity::Info),
            }
        }
    }

    impl From<&internal::FileReport> for File {
        fn from(f: &internal::FileReport) -> File {
            File {
                path: f.path.clone(),
                origin: f.origin,
                status: f.status,
                reason: f.reason.clone(),
                format: f.format.clone(),
                size: f.size,
                findings: f.findings.iter().map(Finding::from).collect(),
            }
        }
    }

    impl From<&finding::Finding> for Finding {
        fn from(f: &finding::Finding) -> Finding {
            Finding {
                rule: f.rule,
                severity: f.severity,
                location: Location::from(&f.location),
                message: f.message.clone(),
                evidence: f.evidence.clone(),
                suppressed: f.suppressed.as_ref().map(|s| Suppression {
                    reason: s.reason.clone(),
                    expires: s.expires.clone(),
                }),
                related: f
                    .related
                    .iter()
                    .map(|r| Related {
                        location: Location::from(&r.location),
                        origin: r.origin,
                        message: r.message.clone(),
                    })
                    .collect(),
                fix: f.fix.clone(),
            }
        }
    }

    impl From<File> for internal::FileReport {
        fn from(f: File) -> internal::FileReport {
            internal::FileReport {
                path: f.path,
                origin: f.origin,
                status: f.status,
                reason: f.reason,
                format: f.format,
                size: f.size,
                findings: f.findings.into_iter().map(finding::Finding::from).collect(),
            }
        }
    }

    impl From<Finding> for finding::Finding {
        fn from(f: Finding) -> finding::Finding {
            finding::Finding {
                rule: f.rule,
                severity: f.severity,
                location: finding::Location::from(f.location),
                message: f.message,
                evidence: f.evidence,
                suppressed: f.suppressed.map(|s| finding::Suppression {
                    reason: s.reason,
                    expires: s.expires,
                }),
                related: f
                    .related
                    .into_iter()
                    .map(|r| finding::Related {
                        location: finding::Location::from(r.location),
                        origin: r.origin,
                        message: r.message,
                    })
                    .collect(),
                fix: f.fix,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testutil::{render_to_string, sample_report};
    use serde_json::{json, Value};

    fn rendered() -> Value {
        let out = render_to_string(render, &sample_report(), &RenderOptions::default());
        assert!(out.ends_with("}\n"));
        serde_json::from_str(&out).expect("valid JSON")
    }

    #[test]
    fn top_level_fields_in_documented_order() {
        let out = render_to_string(render, &sample_report(), &RenderOptions::default());
        let keys: Vec<&str> = out
            .lines()
            .filter_map(|l| l.strip_prefix("  \"")?.split('"').next())
            .collect();
        assert_eq!(
            keys,
            [
                "version",
                "tool",
                "files",
                "summary",
                "thresholds",
                "reached",
                "verdict"
            ]
        );
        let v = rendered();
        assert_eq!(v["version"], 1);
        assert_eq!(v["tool"]["name"], "modelgate");
        assert_eq!(v["tool"]["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(v["verdict"], "fail");
        assert_eq!(v["reached"], json!(["critical", "medium"]));
        assert_eq!(
            v["thresholds"],
            json!({"critical": 1, "high": 1, "medium": 1, "low": null, "info": null})
        );
        assert_eq!(
            v["summary"],
            json!({
                "files_scanned": 2, "files_skipped": 2, "files_errored": 1, "lfs_pointers": 0,
                "critical": 1, "high": 0, "medium": 1, "low": 1, "info": 1, "suppressed": 1
            })
        );
    }

    #[test]
    fn files_and_findings_in_stable_order() {
        let v = rendered();
        let paths: Vec<&str> = v["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap())
            .collect();
        assert_eq!(
            paths,
            [
                "README.md",
                "data/labels.json",
                "models/evil model.pkl",
                "models/model.pt",
                "models/unreadable.bin"
            ]
        );
        let torch = &v["files"][3];
        assert_eq!(torch["status"], "scanned");
        assert_eq!(torch["format"], "pytorch-zip");
        assert_eq!(torch["size"], 4096);
        let rules: Vec<&str> = torch["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule"].as_str().unwrap())
            .collect();
        assert_eq!(
            rules,
            ["pickle-format", "zip-crc-mismatch", "pickle-unknown-global"]
        );
        assert_eq!(
            torch["findings"][2],
            json!({
                "rule": "pickle-unknown-global",
                "severity": "medium",
                "location": {"path": "models/model.pt", "member": "archive/data.pkl", "offset": 57},
                "message": "Imports a global outside the allowlist",
                "evidence": "mypkg.layers.Custom",
                "suppressed": {"reason": "our own layer, reviewed"}
            })
        );
        // Absent optional fields are omitted, not null.
        let broken = &v["files"][4];
        assert_eq!(
            broken,
            &json!({"path": "models/unreadable.bin", "status": "error",
                    "reason": "permission denied", "size": 0, "findings": []})
        );
        // Evidence round-trips byte for byte, control characters included.
        assert_eq!(
            v["files"][2]["findings"][0]["evidence"],
            "posix.system(\"echo 100% pwned: a,b\nsecond line\r\")"
        );
    }

    #[test]
    fn remote_files_carry_their_origin_and_local_ones_do_not() {
        let mut report = sample_report();
        report.files[2].origin = crate::target::Origin::Hf;
        let out = render_to_string(render, &report, &RenderOptions::default());
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["files"][2]["origin"], "hf");
        assert!(v["files"][3].get("origin").is_none());
        // `merge` reads it back.
        let back: v1::File = serde_json::from_value(v["files"][2].clone()).unwrap();
        assert_eq!(back.origin, crate::target::Origin::Hf);
    }
}
