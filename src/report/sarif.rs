//! SARIF 2.1.0 for GitHub code scanning.
//!
//! Beyond the OASIS schema, GitHub's ingestion has its own expectations, which shape this
//! file: exactly one run per tool and category; rule metadata in `tool.driver.rules` with
//! `properties.security-severity` as a *string* (a number is ignored) and a `security`
//! tag, so alerts are listed as security alerts with critical/high/medium/low; artifact
//! URIs relative to the checkout (`%SRCROOT%`), because absolute paths from the runner do
//! not match any file in the repository; `region.startLine`, which every alert needs even
//! for binary files; and `partialFingerprints`, which GitHub would otherwise compute from
//! the text of line 1 — meaningless for a binary file, and identical for every finding in
//! it, so distinct findings would collapse into one alert.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::{self, Write};

use serde_json::{json, Value};
use serde_sarif::sarif;
use sha2::{Digest, Sha256};

use super::json::v1;
use super::{escape_control, FileStatus, RenderOptions, Report};
use crate::finding::{Finding, Severity};
use crate::rules::{Rule, RuleId, RULES};
use crate::target::{Origin, Place};

pub const SARIF_SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
pub const INFORMATION_URI: &str = "https://github.com/modelgate/modelgate";
/// Used when no category is given. GitHub treats `automationDetails.id` up to its last `/`
/// as the category, and replaces earlier uploads with the same tool and category.
pub const DEFAULT_CATEGORY: &str = "modelgate/";

pub fn render(report: &Report, opts: &RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &build(report, opts))?;
    writeln!(out)
}

fn build(report: &Report, opts: &RenderOptions) -> sarif::Sarif {
    let mut seen_hashes: HashMap<String, u32> = HashMap::new();
    // Info findings are inventory, not alerts: a code-scanning alert for "this file is
    // fine" would only bury the real ones.
    let results: Vec<sarif::Result> = report
        .findings_by_file()
        .filter(|(_, f)| f.severity >= Severity::Low)
        .map(|(file, f)| result(f, file.origin, rule_index(f.rule), &mut seen_hashes))
        .collect();

    let notifications: Vec<sarif::Notification> = report
        .files
        .iter()
        .filter(|f| f.status == FileStatus::Error)
        .map(|f| {
            sarif::Notification::builder()
                .level(json!("error"))
                .message(text_message(format!(
                    "Could not scan {}: {}",
                    f.path,
                    f.reason.as_deref().unwrap_or("unknown error")
                )))
                .locations(vec![location(
                    &crate::finding::Location::file(f.path.clone()),
                    f.origin,
                )])
                .build()
        })
        .collect();
    let mut invocation = sarif::Invocation::builder()
        .execution_successful(true)
        .build();
    if !notifications.is_empty() {
        invocation.tool_execution_notifications = Some(notifications);
    }

    let driver = sarif::ToolComponent::builder()
        .name(report.tool.name)
        .version(report.tool.version)
        .semantic_version(report.tool.version)
        .information_uri(INFORMATION_URI)
        .rules(RULES.iter().map(descriptor).collect::<Vec<_>>())
        .build();

    let run = sarif::Run::builder()
        .tool(sarif::Tool::builder().driver(driver).build())
        .automation_details(
            sarif::RunAutomationDetails::builder()
                .id(automation_id(opts.category.as_deref()))
                .build(),
        )
        .invocations(vec![invocation])
        .results(results)
        .properties(property_bag(
            None,
            [
                ("summary", json!(v1::Summary::from(&report.summary))),
                (
                    "thresholds",
                    json!(v1::ThresholdsOut::from(report.thresholds)),
                ),
                ("reached", json!(report.reached)),
                ("verdict", json!(report.verdict)),
            ],
        ))
        .build();

    sarif::Sarif::builder()
        .schema(SARIF_SCHEMA)
        .version(json!("2.1.0"))
        .runs(vec![run])
        .build()
}

/// `rules[]` holds the whole catalogue, so GitHub shows every rule's help even before it
/// fires; a result's `ruleIndex` is its rule's place in the catalogue.
fn rule_index(rule: RuleId) -> usize {
    rule as usize
}

fn descriptor(rule: &Rule) -> sarif::ReportingDescriptor {
    let help_uri = format!("{INFORMATION_URI}/blob/main/docs/rules.md#{}", rule.slug);
    let cwe_line = rule
        .cwe
        .map(|c| {
            format!(
                "\n\nCWE-{c}: [https://cwe.mitre.org/data/definitions/{c}.html](https://cwe.mitre.org/data/definitions/{c}.html)"
            )
        })
        .unwrap_or_default();
    let help_text = format!("{}\n\nRemediation: {}", rule.full, rule.remediation);
    let help_markdown = format!(
        "{}\n\n**Remediation.** {}{cwe_line}\n\nSee [{}]({help_uri}).",
        rule.full, rule.remediation, rule.slug
    );

    let mut tags = vec!["security".to_string()];
    for t in rule.tags() {
        if !tags.iter().any(|x| x == t) {
            tags.push(t.to_string());
        }
    }
    if let Some(c) = rule.cwe {
        tags.push(format!("external/cwe/cwe-{c}"));
    }

    sarif::ReportingDescriptor::builder()
        .id(rule.slug)
        .name(rule.name)
        .short_description(multiformat(rule.short.to_string(), None))
        .full_description(multiformat(rule.full.to_string(), None))
        .help(multiformat(help_text, Some(help_markdown)))
        .help_uri(help_uri)
        .default_configuration(
            sarif::ReportingConfiguration::builder()
                .level(json!(level(rule.severity)))
                .build(),
        )
        .properties(property_bag(
            Some(tags),
            [
                (
                    "security-severity",
                    json!(rule.severity.security_severity()),
                ),
                ("precision", json!(rule.precision.as_str())),
            ],
        ))
        .build()
}

fn level(sev: Severity) -> &'static str {
    match sev {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

fn result_level(sev: Severity) -> sarif::ResultLevel {
    match level(sev) {
        "error" => sarif::ResultLevel::Error,
        "warning" => sarif::ResultLevel::Warning,
        _ => sarif::ResultLevel::Note,
    }
}

fn result(
    f: &Finding,
    origin: Origin,
    rule_index: usize,
    seen: &mut HashMap<String, u32>,
) -> sarif::Result {
    let mut props = Vec::new();
    if let Some(m) = &f.location.member {
        props.push(("member", json!(m)));
    }
    if let Some(o) = f.location.offset {
        props.push(("offset", json!(o)));
    }
    if let Some(e) = &f.evidence {
        props.push(("evidence", json!(e)));
    }
    if let Some(fix) = &f.fix {
        props.push(("fix", json!(fix)));
    }
    props.push(("severity", json!(f.severity)));

    let mut r = sarif::Result::builder()
        .rule_id(f.rule.as_str())
        .rule_index(rule_index as i64)
        .level(result_level(f.severity))
        .message(text_message(result_text(f)))
        .locations(vec![location(&f.location, origin)])
        .partial_fingerprints(BTreeMap::from([(
            "primaryLocationLineHash".to_string(),
            fingerprint(f, seen),
        )]))
        .properties(property_bag(None, props))
        .build();
    if !f.related.is_empty() {
        r.related_locations = Some(
            f.related
                .iter()
                .enumerate()
                .map(|(i, rel)| {
                    let mut l = location(&rel.location, rel.origin);
                    l.id = Some(i as i64);
                    l.message = Some(text_message(
                        escape_control(&rel.message, false).into_owned(),
                    ));
                    l
                })
                .collect(),
        );
    }
    if let Some(s) = &f.suppressed {
        let mut sup = sarif::Suppression::builder()
            .kind(json!("external"))
            .status(json!("accepted"))
            .justification(s.reason.clone())
            .build();
        if let Some(expires) = &s.expires {
            sup.properties = Some(property_bag(None, [("expires", json!(expires))]));
        }
        r.suppressions = Some(vec![sup]);
    }
    r
}

/// `message: evidence (archive member M, byte offset N)`, on one line. Evidence comes from
/// the file, so control characters are made visible, and square brackets are escaped:
/// SARIF viewers read `[text](target)` in a message as an embedded link (§3.11.6).
fn result_text(f: &Finding) -> String {
    let mut text = escape_control(f.message.trim_end_matches('.'), false).into_owned();
    if let Some(e) = &f.evidence {
        text.push_str(": ");
        text.push_str(
            &escape_control(e, false)
                .replace('[', "\\[")
                .replace(']', "\\]"),
        );
    }
    let mut place = Vec::new();
    if let Some(m) = &f.location.member {
        place.push(format!("archive member {}", escape_control(m, false)));
    }
    if let Some(o) = f.location.offset {
        place.push(format!("byte offset {o}"));
    }
    if !place.is_empty() {
        let _ = write!(text, " ({})", place.join(", "));
    }
    if let Some(fix) = &f.fix {
        let _ = write!(text, ". Fix: {}", escape_control(fix, false));
    }
    text
}

/// Our own `primaryLocationLineHash`: a hash of what identifies the finding (rule, file,
/// member, evidence — deliberately not the offset, so the alert survives an unrelated
/// change that moves the payload), followed by CodeQL's `:N` occurrence counter, which
/// keeps otherwise identical findings in one file apart. Report order is stable, so the
/// counter is too.
fn fingerprint(f: &Finding, seen: &mut HashMap<String, u32>) -> String {
    let mut h = Sha256::new();
    for part in [
        f.rule.as_str(),
        f.location.path.as_str(),
        f.location.member.as_deref().unwrap_or(""),
        f.evidence.as_deref().unwrap_or(""),
    ] {
        // Length-prefixed, so ("ab", "c") and ("a", "bc") hash differently.
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    let digest = h.finalize();
    let mut hex = String::with_capacity(16);
    for b in digest.iter().take(8) {
        let _ = write!(hex, "{b:02x}");
    }
    let n = seen.entry(hex.clone()).or_insert(0);
    *n += 1;
    format!("{hex}:{n}")
}

fn location(loc: &crate::finding::Location, origin: Origin) -> sarif::Location {
    let path = loc.path.as_str();
    // Files of hf:// and http(s) targets are not in the checkout: their location is the
    // absolute URI they were read from (SARIF §3.4.3 allows an absolute `uri` without a
    // `uriBaseId`), and so is a local file given by an absolute path (a `file:` URI);
    // other local files stay relative to %SRCROOT% for GitHub.
    let artifact = match Place::of(path, origin) {
        Place::Remote(p) => sarif::ArtifactLocation::builder()
            .uri(remote_uri(p).unwrap_or_else(|| artifact_uri(p)))
            .build(),
        Place::Absolute(p) => sarif::ArtifactLocation::builder().uri(file_uri(p)).build(),
        Place::Relative(p) => {
            // A whole-target entry for the scan root (`.`) has no path of its own.
            let uri = artifact_uri(p);
            sarif::ArtifactLocation::builder()
                .uri(if uri.is_empty() { ".".to_string() } else { uri })
                .uri_base_id("%SRCROOT%")
                .build()
        }
    };
    sarif::Location::builder()
        .physical_location(
            sarif::PhysicalLocation::builder()
                .artifact_location(artifact)
                // Model files are binary; GitHub requires a line, and line 1 is where
                // it shows a file-level alert. Findings in text (a Python call, a
                // config key) have their own line and column.
                .region(region(loc))
                .build(),
        )
        .build()
}

fn region(loc: &crate::finding::Location) -> sarif::Region {
    let mut r = sarif::Region::builder()
        .start_line(i64::from(loc.line.unwrap_or(1)))
        .build();
    r.start_column = loc.column.map(i64::from);
    r
}

/// A display path (`/`-separated, relative to the scan root) as a relative URI reference:
/// every byte outside RFC 3986's unreserved set is percent-encoded, so spaces, `%`, `#`,
/// `?` and `:` (which would otherwise read as a scheme) cannot change its meaning. Leading
/// `/`, empty and `.` segments are dropped so the result is never absolute.
pub fn artifact_uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for seg in path.split('/').filter(|s| !s.is_empty() && *s != ".") {
        if !out.is_empty() {
            out.push('/');
        }
        for b in seg.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                out.push(b as char);
            } else {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// An absolute local display path (`/abs/x`, `C:/x`) as a `file:` URI, each segment
/// percent-encoded as in [`artifact_uri`] (a drive letter's colon is kept).
pub fn file_uri(path: &str) -> String {
    let (drive, rest) = match path.as_bytes() {
        [d, b':', b'/', ..] if d.is_ascii_alphabetic() => path.split_at(2),
        _ => ("", path),
    };
    let mut out = String::from("file:///");
    out.push_str(drive);
    if !drive.is_empty() {
        out.push('/');
    }
    out.push_str(&artifact_uri(rest));
    out
}

/// `hf://owner/name@sha/path` or an http(s) URL as an absolute URI: the scheme is kept,
/// the rest percent-encoded outside the unreserved set and `/ @ :`. `None` for a local
/// display path.
pub fn remote_uri(path: &str) -> Option<String> {
    let (scheme, rest) = path.split_once("://")?;
    if !matches!(scheme, "hf" | "http" | "https") {
        return None;
    }
    let mut out = format!("{scheme}://");
    for b in rest.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/' | b'@' | b':')
        {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    Some(out)
}

/// `automationDetails.id`: a category must end with `/` for GitHub to read all of it as
/// the category (`a/b` would be category `a/`, run `b`); a bare name gets one.
fn automation_id(category: Option<&str>) -> String {
    match category.map(str::trim) {
        None | Some("") => DEFAULT_CATEGORY.to_string(),
        Some(c) if c.contains('/') => c.to_string(),
        Some(c) => format!("{c}/"),
    }
}

fn text_message(text: String) -> sarif::Message {
    sarif::Message::builder().text(text).build()
}

fn multiformat(text: String, markdown: Option<String>) -> sarif::MultiformatMessageString {
    let mut m = sarif::MultiformatMessageString::builder()
        .text(text)
        .build();
    m.markdown = markdown;
    m
}

fn property_bag<'a>(
    tags: Option<Vec<String>>,
    props: impl IntoIterator<Item = (&'a str, Value)>,
) -> sarif::PropertyBag {
    sarif::PropertyBag {
        tags,
        additional_properties: props.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testutil::{render_to_string, sample_report};

    fn schema() -> Value {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/sarif-schema-2.1.0.json"
        ))
        .expect("vendored SARIF schema");
        serde_json::from_str(&text).expect("schema is JSON")
    }

    /// Validates against the vendored OASIS schema, offline. The schema declares draft-04;
    /// it is checked under draft-04 as declared and again under draft-07, which also checks
    /// the `uri-reference` format (draft-04 has no such format) — the schema uses no keyword
    /// whose meaning differs between the two.
    fn assert_valid_sarif(value: &Value) {
        let schema = schema();
        for draft in [jsonschema::Draft::Draft4, jsonschema::Draft::Draft7] {
            let validator = jsonschema::options()
                .with_draft(draft)
                .should_validate_formats(true)
                .build(&schema)
                .expect("schema compiles");
            let errors: Vec<String> = validator
                .iter_errors(value)
                .map(|e| format!("{} at {}", e, e.instance_path))
                .collect();
            assert!(errors.is_empty(), "{draft:?}: invalid SARIF: {errors:#?}");
        }
    }

    fn rendered(opts: &RenderOptions) -> Value {
        let out = render_to_string(render, &sample_report(), opts);
        serde_json::from_str(&out).expect("SARIF is JSON")
    }

    fn result_for<'a>(v: &'a Value, rule: &str) -> &'a Value {
        v["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["ruleId"] == rule)
            .unwrap_or_else(|| panic!("no result for {rule}"))
    }

    #[test]
    fn sample_report_is_valid_sarif() {
        assert_valid_sarif(&rendered(&RenderOptions::default()));
    }

    #[test]
    fn empty_report_is_valid_sarif() {
        let report = Report::new(vec![], crate::report::Thresholds::DEFAULT);
        let out = render_to_string(render, &report, &RenderOptions::default());
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_valid_sarif(&v);
        assert_eq!(v["runs"][0]["results"], json!([]));
    }

    #[test]
    fn validator_rejects_broken_sarif() {
        // Guards the guard: a validator that accepts everything would make the tests above
        // meaningless.
        let mut v = rendered(&RenderOptions::default());
        v["runs"][0]["results"][0]["level"] = json!("fatal");
        let validator = jsonschema::draft4::options().build(&schema()).unwrap();
        assert!(!validator.is_valid(&v));
        let mut v = rendered(&RenderOptions::default());
        v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] =
            json!("a b");
        let validator = jsonschema::draft7::options()
            .should_validate_formats(true)
            .build(&schema())
            .unwrap();
        assert!(!validator.is_valid(&v), "a space is not a URI reference");
    }

    #[test]
    fn one_run_with_tool_and_full_rule_catalogue() {
        let v = rendered(&RenderOptions::default());
        assert_eq!(v["version"], "2.1.0");
        assert_eq!(v["$schema"], SARIF_SCHEMA);
        assert_eq!(v["runs"].as_array().unwrap().len(), 1);
        let run = &v["runs"][0];
        let driver = &run["tool"]["driver"];
        assert_eq!(driver["name"], "modelgate");
        assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(driver["informationUri"], INFORMATION_URI);
        let rules = driver["rules"].as_array().unwrap();
        assert_eq!(rules.len(), RULES.len());
        for (r, rule) in rules.iter().zip(RULES) {
            assert_eq!(r["id"], rule.slug);
            assert_eq!(r["name"], rule.name);
            assert_eq!(r["shortDescription"]["text"], rule.short);
            assert_eq!(r["fullDescription"]["text"], rule.full);
            let help = r["help"]["text"].as_str().unwrap();
            assert!(help.contains(rule.remediation), "{help}");
            let md = r["help"]["markdown"].as_str().unwrap();
            assert!(md.contains("**Remediation.**") && md.contains(rule.remediation));
            let sev = &r["properties"]["security-severity"];
            assert!(sev.is_string(), "security-severity must be a string: {sev}");
            assert_eq!(sev, rule.severity.security_severity());
            let tags: Vec<&str> = r["properties"]["tags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap())
                .collect();
            assert!(tags.contains(&"security"), "{tags:?}");
            if let Some(c) = rule.cwe {
                assert!(tags.contains(&format!("external/cwe/cwe-{c}").as_str()));
            }
            let precision = r["properties"]["precision"].as_str().unwrap();
            assert!(precision == "high" || precision == "medium");
        }
        let code_exec = &rules[0];
        assert_eq!(code_exec["defaultConfiguration"]["level"], "error");
        assert_eq!(code_exec["properties"]["security-severity"], "9.8");
        assert_eq!(code_exec["properties"]["precision"], "high");
        let tags = code_exec["properties"]["tags"].as_array().unwrap();
        assert_eq!(tags[0], "security");
        assert_eq!(tags.last().unwrap(), "external/cwe/cwe-502");
        let level_of = |id: &str| {
            rules.iter().find(|r| r["id"] == id).unwrap()["defaultConfiguration"]["level"].clone()
        };
        assert_eq!(level_of("pickle-system-access"), "error");
        assert_eq!(level_of("zip-crc-mismatch"), "warning");
        assert_eq!(level_of("pickle-format"), "note");
        assert_eq!(level_of("file-skipped"), "note");
        assert_eq!(run["invocations"][0]["executionSuccessful"], true);
        assert_eq!(run["properties"]["verdict"], "fail");
        assert_eq!(run["properties"]["summary"]["critical"], 1);
    }

    #[test]
    fn results_reference_their_rules_and_skip_info() {
        let v = rendered(&RenderOptions::default());
        let run = &v["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        let results = run["results"].as_array().unwrap();
        let ids: Vec<&str> = results
            .iter()
            .map(|r| r["ruleId"].as_str().unwrap())
            .collect();
        // Report order; the info finding (file-skipped) is not a result, the suppressed
        // one is.
        assert_eq!(
            ids,
            [
                "pickle-code-execution",
                "pickle-format",
                "zip-crc-mismatch",
                "pickle-unknown-global"
            ]
        );
        for r in results {
            let i = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[i]["id"], r["ruleId"]);
            let loc = &r["locations"][0]["physicalLocation"];
            assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
            assert_eq!(loc["region"]["startLine"], 1);
            let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
            assert!(!uri.starts_with('/') && !uri.contains(':'), "{uri}");
            let fp = r["partialFingerprints"]["primaryLocationLineHash"]
                .as_str()
                .unwrap();
            let (hash, n) = fp.split_once(':').unwrap();
            assert_eq!(hash.len(), 16);
            assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()));
            assert_eq!(n, "1");
        }
        assert_eq!(results[0]["level"], "error");
        assert_eq!(results[1]["level"], "note");
        assert_eq!(results[2]["level"], "warning");
    }

    #[test]
    fn result_carries_evidence_member_offset_and_encoded_uri() {
        let v = rendered(&RenderOptions::default());
        let crit = result_for(&v, "pickle-code-execution");
        assert_eq!(
            crit["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "models/evil%20model.pkl"
        );
        assert_eq!(
            crit["message"]["text"],
            "Loading this pickle runs a shell command: posix.system(\"echo 100% pwned: a,b\\nsecond line\\r\") (byte offset 2)"
        );
        assert_eq!(
            crit["properties"],
            json!({
                "offset": 2,
                "evidence": "posix.system(\"echo 100% pwned: a,b\nsecond line\r\")",
                "severity": "critical"
            })
        );
        assert!(crit.get("suppressions").is_none());

        let crc = result_for(&v, "zip-crc-mismatch");
        assert_eq!(
            crc["message"]["text"],
            "Archive member fails its CRC-32 check: stored 0xdeadbeef | computed 0x12345678 (archive member archive/data.pkl, byte offset 0)"
        );
        assert_eq!(crc["properties"]["member"], "archive/data.pkl");
        assert_eq!(crc["properties"]["offset"], 0);
        assert_eq!(
            crc["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "models/model.pt"
        );
    }

    #[test]
    fn suppressed_findings_are_marked_external() {
        let v = rendered(&RenderOptions::default());
        let r = result_for(&v, "pickle-unknown-global");
        assert_eq!(
            r["suppressions"],
            json!([{"kind": "external", "status": "accepted",
                    "justification": "our own layer, reviewed"}])
        );
    }

    #[test]
    fn fingerprints_are_stable_and_distinct() {
        let a = rendered(&RenderOptions::default());
        let b = rendered(&RenderOptions::default());
        let fps = |v: &Value| -> Vec<String> {
            v["runs"][0]["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["partialFingerprints"]["primaryLocationLineHash"].to_string())
                .collect()
        };
        assert_eq!(fps(&a), fps(&b));
        let mut unique = fps(&a);
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), fps(&a).len());

        // Two identical findings at different offsets: same hash, counter 1 then 2.
        let f = Finding::new(
            RuleId::PickleCodeExecution,
            crate::finding::Location::file("x.pkl"),
            "m",
        )
        .with_evidence("os.system");
        let mut seen = HashMap::new();
        let first = fingerprint(&f, &mut seen);
        let second = fingerprint(&f, &mut seen);
        assert_eq!(first[..16], second[..16]);
        assert!(first.ends_with(":1") && second.ends_with(":2"));
    }

    #[test]
    fn automation_details_category() {
        let id = |c: Option<&str>| {
            let v = rendered(&RenderOptions {
                category: c.map(String::from),
                ..Default::default()
            });
            v["runs"][0]["automationDetails"]["id"]
                .as_str()
                .unwrap()
                .to_string()
        };
        assert_eq!(id(None), "modelgate/");
        assert_eq!(id(Some("")), "modelgate/");
        assert_eq!(id(Some("models")), "models/");
        assert_eq!(id(Some("modelgate/models/")), "modelgate/models/");
        assert_eq!(id(Some("modelgate/run-42")), "modelgate/run-42");
    }

    #[test]
    fn artifact_uris_are_relative_references() {
        assert_eq!(artifact_uri("models/a b.pkl"), "models/a%20b.pkl");
        assert_eq!(artifact_uri("/abs/./x.pt"), "abs/x.pt");
        assert_eq!(artifact_uri("c:/x#1?.bin"), "c%3A/x%231%3F.bin");
        assert_eq!(artifact_uri("100%.pkl"), "100%25.pkl");
        assert_eq!(artifact_uri("mödel.pkl"), "m%C3%B6del.pkl");
        assert_eq!(artifact_uri("a\\b[1].pkl"), "a%5Cb%5B1%5D.pkl");
    }

    #[test]
    fn remote_locations_are_absolute_uris() {
        assert_eq!(
            remote_uri("hf://org/name@abc123/sub dir/model.bin").as_deref(),
            Some("hf://org/name@abc123/sub%20dir/model.bin")
        );
        assert_eq!(
            remote_uri("https://host:8080/a/b.pt").as_deref(),
            Some("https://host:8080/a/b.pt")
        );
        assert_eq!(remote_uri("models/a.pt"), None);
        assert_eq!(remote_uri("c:/x.pt"), None);
        let mut report = crate::report::testutil::sample_report();
        let path = "hf://org/name@abc123/pytorch_model.bin".to_string();
        let evil = report
            .files
            .iter()
            .position(|f| f.path == "models/evil model.pkl")
            .unwrap();
        report.files[evil].path = path.clone();
        report.files[evil].origin = crate::target::Origin::Hf;
        for f in &mut report.files[evil].findings {
            f.location.path = path.clone();
        }
        let mut buf = Vec::new();
        render(&report, &RenderOptions::default(), &mut buf).unwrap();
        let v: Value = serde_json::from_slice(&buf).unwrap();
        assert_valid_sarif(&v);
        let uris: Vec<&Value> = v["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| &r["locations"][0]["physicalLocation"]["artifactLocation"])
            .collect();
        assert!(uris
            .iter()
            .any(|a| a["uri"] == "hf://org/name@abc123/pytorch_model.bin"
                && a.get("uriBaseId").is_none()));
    }

    #[test]
    fn text_locations_related_locations_and_fixes() {
        use crate::finding::{Location, Related};
        use crate::rules::RuleId;
        let mut report = sample_report();
        report.files[0].findings.push(
            Finding::new(
                RuleId::PickleFormat,
                Location::text("README.md", 12, 9),
                "a call that loads a model",
            )
            .with_related(Related {
                location: Location::file(
                    "hf://acme/m@0123456789abcdef0123456789abcdef01234567/model.bin",
                ),
                origin: Origin::Hf,
                message: "the checkpoint this call downloads".into(),
            })
            .with_fix("modelgate convert model.bin model.safetensors"),
        );
        let mut buf = Vec::new();
        render(&report, &RenderOptions::default(), &mut buf).unwrap();
        let v: Value = serde_json::from_slice(&buf).unwrap();
        assert_valid_sarif(&v);
        let r = v["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["message"]["text"].as_str().unwrap().starts_with("a call"))
            .unwrap();
        let region = &r["locations"][0]["physicalLocation"]["region"];
        assert_eq!(region["startLine"], 12);
        assert_eq!(region["startColumn"], 9);
        let rel = &r["relatedLocations"][0];
        assert_eq!(rel["id"], 0);
        assert_eq!(
            rel["physicalLocation"]["artifactLocation"]["uri"],
            "hf://acme/m@0123456789abcdef0123456789abcdef01234567/model.bin"
        );
        assert_eq!(rel["message"]["text"], "the checkpoint this call downloads");
        assert_eq!(
            r["properties"]["fix"],
            "modelgate convert model.bin model.safetensors"
        );
        assert!(r["message"]["text"]
            .as_str()
            .unwrap()
            .ends_with("Fix: modelgate convert model.bin model.safetensors"));
    }

    #[test]
    fn every_rule_index_points_at_its_descriptor() {
        let v = rendered(&RenderOptions::default());
        let rules = v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
        assert_eq!(rules.len(), RULES.len());
        for r in v["runs"][0]["results"].as_array().unwrap() {
            let i = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[i]["id"], r["ruleId"]);
        }
        for (i, rule) in RULES.iter().enumerate() {
            assert_eq!(rules[i]["id"], rule.slug);
            assert_eq!(rules[i]["properties"]["precision"], rule.precision.as_str());
        }
    }

    #[test]
    fn errored_files_become_notifications() {
        let v = rendered(&RenderOptions::default());
        let n = &v["runs"][0]["invocations"][0]["toolExecutionNotifications"];
        assert_eq!(n.as_array().unwrap().len(), 1);
        assert_eq!(n[0]["level"], "error");
        assert_eq!(
            n[0]["message"]["text"],
            "Could not scan models/unreadable.bin: permission denied"
        );
    }
}
