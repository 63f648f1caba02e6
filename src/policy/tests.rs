use std::path::Path;

use time::macros::date;

use super::*;
use crate::config::parse_str;
use crate::finding::Location;
use crate::report::{FileStatus, Origin, Report, Verdict};
use crate::rules::RuleId;

fn policy(yaml: &str) -> Policy {
    let config = parse_str(yaml, Path::new(".modelgate.yml")).unwrap_or_else(|e| panic!("{e}"));
    Policy::new(&config).with_today(date!(2026 - 06 - 15))
}

fn file(path: &str, format: Option<&str>, findings: Vec<Finding>) -> FileReport {
    FileReport {
        path: path.into(),
        origin: Origin::Local,
        status: FileStatus::Scanned,
        reason: None,
        format: format.map(Into::into),
        size: 10,
        findings,
    }
}

fn unknown_global(path: &str) -> Finding {
    Finding::new(
        RuleId::PickleUnknownGlobal,
        Location::file(path),
        "imports mypkg.Thing",
    )
    .with_evidence("mypkg.Thing")
}

fn rules_of(f: &FileReport) -> Vec<&str> {
    f.findings.iter().map(|f| f.rule.as_str()).collect()
}

// --- thresholds ---------------------------------------------------------------------------

#[test]
fn thresholds_come_from_config_and_cli_overrides_win() {
    let p = policy("fail-on:\n  medium: off\n  low: 2\n");
    assert_eq!(
        p.thresholds().describe(),
        "critical=1,high=1,medium=off,low=2,info=off"
    );
    let p = p.with_fail_on(&[(Severity::High, None), (Severity::Medium, Some(3))]);
    assert_eq!(
        p.thresholds().describe(),
        "critical=1,high=off,medium=3,low=2,info=off"
    );
    assert_eq!(Policy::default().thresholds(), Thresholds::DEFAULT);
}

// --- deny ---------------------------------------------------------------------------------

#[test]
fn denied_extension_adds_a_finding_with_the_configured_severity() {
    let p = policy("deny:\n  extensions:\n    - extensions: [.pkl]\n      severity: critical\n");
    let mut files = vec![
        file("models/Model.PKL", Some("pickle"), vec![]),
        file("models/model.safetensors", Some("safetensors"), vec![]),
        file("notes/model.pkl.txt", None, vec![]),
    ];
    p.apply(&mut files);
    let denied = &files[0].findings;
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0].rule, "policy-denied-format");
    assert_eq!(denied[0].severity, Severity::Critical);
    assert_eq!(denied[0].location, Location::file("models/Model.PKL"));
    assert!(
        denied[0].message.contains("`.pkl`"),
        "{}",
        denied[0].message
    );
    assert_eq!(denied[0].evidence.as_deref(), Some(".pkl"));
    assert!(files[1].findings.is_empty());
    assert!(files[2].findings.is_empty());
}

#[test]
fn denied_extension_applies_whatever_the_scan_status() {
    let p = policy("deny:\n  extensions: [bin]\n");
    let mut skipped = file("weights/data.bin", None, vec![]);
    skipped.status = FileStatus::Skipped;
    let mut files = vec![skipped];
    p.apply(&mut files);
    assert_eq!(rules_of(&files[0]), ["policy-denied-format"]);
    assert_eq!(
        files[0].findings[0].severity,
        Severity::High,
        "default severity"
    );
}

#[test]
fn denied_format_label_matches_its_variants() {
    let p = policy("deny:\n  formats:\n    - formats: [pytorch]\n      severity: medium\n");
    let mut files = vec![
        file("a.pt", Some("pytorch-zip"), vec![]),
        file("b.bin", Some("pytorch-legacy"), vec![]),
        file("c.pkl", Some("pickle"), vec![]),
        file("d.txt", None, vec![]),
    ];
    p.apply(&mut files);
    for f in &files[..2] {
        assert_eq!(rules_of(f), ["policy-denied-format"], "{}", f.path);
        assert_eq!(f.findings[0].severity, Severity::Medium);
        let fmt = f.format.as_deref().unwrap();
        assert_eq!(
            f.findings[0].message,
            format!("format `{fmt}` is denied by policy (deny.formats: `pytorch`)")
        );
        assert_eq!(f.findings[0].evidence.as_deref(), Some(fmt));
    }
    assert!(files[2].findings.is_empty() && files[3].findings.is_empty());
}

#[test]
fn extension_and_format_each_give_one_finding_with_the_highest_severity() {
    let p = policy(
        "deny:\n  extensions:\n    - .pt\n    - extensions: [PT]\n      severity: critical\n    - extensions: [pt]\n      severity: low\n  formats: [pytorch-zip]\n",
    );
    let mut files = vec![file("m.pt", Some("pytorch-zip"), vec![])];
    p.apply(&mut files);
    let sevs: Vec<(Severity, Option<&str>)> = files[0]
        .findings
        .iter()
        .map(|f| (f.severity, f.evidence.as_deref()))
        .collect();
    assert_eq!(sevs.len(), 2, "{sevs:?}");
    assert!(
        sevs.contains(&(Severity::Critical, Some(".pt"))),
        "{sevs:?}"
    );
    assert!(
        sevs.contains(&(Severity::High, Some("pytorch-zip"))),
        "{sevs:?}"
    );
    let format_msg = &files[0]
        .findings
        .iter()
        .find(|f| f.evidence.as_deref() == Some("pytorch-zip"))
        .unwrap()
        .message;
    assert_eq!(
        format_msg,
        "format `pytorch-zip` is denied by policy (deny.formats)"
    );
}

// --- ignore -------------------------------------------------------------------------------

const IGNORE_LEGACY: &str = "ignore:\n  - rule: pickle-unknown-global\n    paths: [\"models/legacy/**\"]\n    reason: our own classes\n    expires: 2027-01-31\n";

#[test]
fn unexpired_ignore_suppresses_matching_rule_and_path_only() {
    let p = policy(IGNORE_LEGACY);
    let other_rule = Finding::new(
        RuleId::PickleCodeExecution,
        Location::file("models/legacy/a.pkl"),
        "runs os.system",
    );
    let mut files = vec![
        file(
            "models/legacy/a.pkl",
            Some("pickle"),
            vec![unknown_global("models/legacy/a.pkl"), other_rule],
        ),
        file(
            "models/new/b.pkl",
            Some("pickle"),
            vec![unknown_global("models/new/b.pkl")],
        ),
    ];
    p.apply(&mut files);
    let legacy = &files[0].findings;
    let unknown = legacy
        .iter()
        .find(|f| f.rule == "pickle-unknown-global")
        .unwrap();
    assert_eq!(
        unknown.suppressed,
        Some(Suppression {
            reason: "our own classes".into(),
            expires: Some("2027-01-31".into()),
        })
    );
    let code = legacy
        .iter()
        .find(|f| f.rule == "pickle-code-execution")
        .unwrap();
    assert_eq!(code.suppressed, None, "a different rule is not suppressed");
    assert_eq!(files[1].findings[0].suppressed, None, "a different path");
    assert!(!rules_of(&files[0]).contains(&"policy-expired-ignore"));
}

#[test]
fn ignore_applies_on_its_expiry_day() {
    let p = policy(IGNORE_LEGACY).with_today(date!(2027 - 01 - 31));
    let mut files = vec![file(
        "models/legacy/a.pkl",
        None,
        vec![unknown_global("models/legacy/a.pkl")],
    )];
    p.apply(&mut files);
    assert!(files[0].findings[0].suppressed.is_some());
    assert_eq!(files[0].findings.len(), 1);
}

#[test]
fn expired_ignore_stops_suppressing_and_says_so_once_per_file() {
    let p = policy(IGNORE_LEGACY).with_today(date!(2027 - 02 - 01));
    let mut second = unknown_global("models/legacy/a.pkl");
    second.evidence = Some("mypkg.Other".into());
    let mut files = vec![
        file(
            "models/legacy/a.pkl",
            Some("pickle"),
            vec![unknown_global("models/legacy/a.pkl"), second],
        ),
        file(
            "models/legacy/b.pkl",
            Some("pickle"),
            vec![unknown_global("models/legacy/b.pkl")],
        ),
        file("models/legacy/clean.pkl", Some("pickle"), vec![]),
    ];
    p.apply(&mut files);
    for f in &files[..2] {
        assert!(
            f.findings.iter().all(|x| x.suppressed.is_none()),
            "{}: expired entry must not suppress",
            f.path
        );
        let notices: Vec<&Finding> = f
            .findings
            .iter()
            .filter(|x| x.rule == "policy-expired-ignore")
            .collect();
        assert_eq!(notices.len(), 1, "{}: one notice per file", f.path);
        assert_eq!(notices[0].severity, Severity::Low);
        assert_eq!(notices[0].location, Location::file(f.path.clone()));
        assert_eq!(
            notices[0].message,
            "ignore[0] (rule `pickle-unknown-global`, paths `models/legacy/**`) expired on 2027-01-31; the findings it matched count again"
        );
    }
    assert!(
        files[2].findings.is_empty(),
        "an expired entry that matches nothing in a file adds nothing there"
    );
    // The unsuppressed findings count again: the report fails on medium.
    let report = Report::new(files, p.thresholds());
    assert_eq!(report.summary.medium, 3);
    assert_eq!(report.summary.low, 2);
    assert_eq!(report.verdict, Verdict::Fail);
}

#[test]
fn unexpired_entry_still_suppresses_when_an_expired_one_also_matches() {
    let p = policy(
        "ignore:\n  - rule: pickle-unknown-global\n    paths: [\"**\"]\n    reason: old\n    expires: 2026-01-01\n  - rule: pickle-unknown-global\n    paths: [\"models/**\"]\n    reason: renewed\n    expires: 2026-12-31\n",
    );
    let mut files = vec![file(
        "models/a.pkl",
        None,
        vec![unknown_global("models/a.pkl")],
    )];
    p.apply(&mut files);
    let f = &files[0].findings;
    let unknown = f
        .iter()
        .find(|x| x.rule == "pickle-unknown-global")
        .unwrap();
    assert_eq!(unknown.suppressed.as_ref().unwrap().reason, "renewed");
    let notice = f
        .iter()
        .find(|x| x.rule == "policy-expired-ignore")
        .unwrap();
    assert!(
        notice.message.starts_with("ignore[0] "),
        "{}",
        notice.message
    );
}

#[test]
fn suppressed_findings_do_not_fail_the_report() {
    let p = policy(IGNORE_LEGACY);
    let mut files = vec![file(
        "models/legacy/a.pkl",
        Some("pickle"),
        vec![unknown_global("models/legacy/a.pkl")],
    )];
    p.apply(&mut files);
    let report = Report::new(files, p.thresholds());
    assert_eq!(report.summary.medium, 0);
    assert_eq!(report.summary.suppressed, 1);
    assert_eq!(report.verdict, Verdict::Pass);
}

#[test]
fn ignore_globs_match_archive_members_as_path_bang_member() {
    let p = policy(
        "ignore:\n  - rule: pickle-unknown-global\n    paths: [\"models/*.pt!archive/*.pkl\"]\n    reason: members only\n",
    );
    let in_member = |member: &str| {
        let mut f = unknown_global("models/m.pt");
        f.location.member = Some(member.into());
        f
    };
    let mut files = vec![file(
        "models/m.pt",
        Some("pytorch-zip"),
        vec![
            in_member("archive/data.pkl"),
            in_member("archive/extra/other.bin"),
            unknown_global("models/m.pt"),
        ],
    )];
    p.apply(&mut files);
    let by_member: Vec<(Option<&str>, bool)> = files[0]
        .findings
        .iter()
        .map(|f| (f.location.member.as_deref(), f.suppressed.is_some()))
        .collect();
    assert!(
        by_member.contains(&(Some("archive/data.pkl"), true)),
        "{by_member:?}"
    );
    assert!(
        by_member.contains(&(Some("archive/extra/other.bin"), false)),
        "{by_member:?}"
    );
    assert!(by_member.contains(&(None, false)), "{by_member:?}");
}

#[test]
fn file_path_glob_also_covers_findings_inside_the_file() {
    let p = policy("ignore:\n  - rule: \"*\"\n    paths: [\"tests/fixtures/**\"]\n    reason: malicious samples\n");
    let mut member = Finding::new(
        RuleId::PickleCodeExecution,
        Location::file("tests/fixtures/evil.pt"),
        "runs posix.system",
    );
    member.location.member = Some("archive/data.pkl".into());
    let crc = Finding::new(
        RuleId::ZipCrcMismatch,
        Location::file("tests/fixtures/evil.pt"),
        "crc",
    );
    let mut files = vec![
        file(
            "tests/fixtures/evil.pt",
            Some("pytorch-zip"),
            vec![member, crc],
        ),
        file(
            "src/model.pt",
            Some("pytorch-zip"),
            vec![unknown_global("src/model.pt")],
        ),
    ];
    p.apply(&mut files);
    assert!(files[0].findings.iter().all(|f| f.suppressed.is_some()));
    assert!(files[1].findings[0].suppressed.is_none());
}

#[test]
fn denied_format_findings_can_be_ignored_per_path() {
    let p = policy(
        "deny:\n  extensions: [.pkl]\nignore:\n  - rule: policy-denied-format\n    paths: [\"vendor/**\"]\n    reason: third-party sample kept for tests\n",
    );
    let mut files = vec![
        file("vendor/x.pkl", Some("pickle"), vec![]),
        file("models/y.pkl", Some("pickle"), vec![]),
    ];
    p.apply(&mut files);
    assert!(files[0].findings[0].suppressed.is_some());
    assert!(files[1].findings[0].suppressed.is_none());
}

#[test]
fn findings_stay_in_report_order_after_apply() {
    let p = policy("deny:\n  formats: [pickle]\n");
    let mut late = unknown_global("a.pkl");
    late.location.offset = Some(100);
    let mut files = vec![file("a.pkl", Some("pickle"), vec![late])];
    p.apply(&mut files);
    let keys: Vec<_> = files[0].findings.iter().map(|f| f.sort_key()).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert_eq!(
        rules_of(&files[0]),
        ["policy-denied-format", "pickle-unknown-global"]
    );
}

#[test]
fn policy_rule_ids_exist_in_the_catalogue() {
    assert!(crate::rules::get(RuleId::PolicyDeniedFormat.as_str()).is_some());
    assert_eq!(
        crate::rules::get(RuleId::PolicyExpiredIgnore.as_str()).map(|r| r.severity),
        Some(Severity::Low)
    );
}
