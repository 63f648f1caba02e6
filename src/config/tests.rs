use std::path::Path;
use std::time::Duration;

use time::macros::date;

use super::*;

fn parse(text: &str) -> Result<Config, ConfigError> {
    parse_str(text, Path::new(".modelgate.yml"))
}

fn parse_err(text: &str) -> ConfigError {
    match parse(text) {
        Ok(c) => panic!("expected an error for {text:?}, got {c:?}"),
        Err(e) => e,
    }
}

// --- empty files, template -------------------------------------------------------------

#[test]
fn empty_and_comment_only_files_are_the_default_config() {
    for text in ["", "\n", "# nothing configured yet\n\n# really\n", "---\n"] {
        let c = parse(text).unwrap();
        assert_eq!(c.thresholds(), Thresholds::DEFAULT, "{text:?}");
        assert_eq!(c.limits(), Limits::default(), "{text:?}");
        assert!(c.ignore.is_empty() && c.allow.globals.is_empty());
        assert_eq!(c.deny, Deny::default());
    }
}

#[test]
fn init_template_loads_strictly_and_gives_the_defaults() {
    let c = parse(INIT_TEMPLATE).unwrap_or_else(|e| panic!("template does not load: {e}"));
    assert_eq!(c.thresholds(), Thresholds::DEFAULT);
    assert_eq!(
        c.thresholds().describe(),
        "critical=1,high=1,medium=1,low=off,info=off"
    );
    // Every limit is spelled out in the template, so this also checks the template's
    // numbers against `Limits::default()`.
    assert_eq!(c.limits(), Limits::default());
    assert!(c.limits.time_budget.is_some() && c.limits.max_pickle_memo.is_some());
    assert!(c.paths.include.is_empty() && c.paths.exclude.is_empty());
    assert!(c.paths.selects("any/file.pkl"));
    assert!(c.global_allowlist().is_empty());
    assert_eq!(c.deny, Deny::default());
    assert!(c.ignore.is_empty());
    assert!(c.policy.rego.is_empty());
    assert_eq!(c.huggingface, HuggingFace::default());
    assert_eq!(c.lfs_pointers, crate::config::LfsPointers::Info);
}

#[test]
fn lfs_pointers_is_info_or_fail_and_nothing_else() {
    assert_eq!(
        parse("lfs-pointers: fail\n").unwrap().lfs_pointers,
        crate::config::LfsPointers::Fail
    );
    assert_eq!(
        parse("lfs-pointers: info\n").unwrap().lfs_pointers,
        crate::config::LfsPointers::Info
    );
    let e = parse("lfs-pointers: high\n").unwrap_err().to_string();
    assert!(
        e.contains("lfs-pointers") && e.contains("unknown variant"),
        "{e}"
    );
}

/// Every key of the schema appears in the template (as a key or a commented example) and
/// in docs/config.md, so neither drifts from the code silently.
#[test]
fn template_and_docs_mention_every_key() {
    let docs = include_str!("../../docs/config.md");
    let keys = [
        "fail-on:",
        "critical:",
        "high:",
        "medium:",
        "low:",
        "info:",
        "paths:",
        "include:",
        "exclude:",
        "allow:",
        "globals:",
        "deny:",
        "extensions:",
        "formats:",
        "severity:",
        "ignore:",
        "rule:",
        "reason:",
        "expires:",
        "limits:",
        "max-file-size:",
        "max-member-size:",
        "max-archive-depth:",
        "max-archive-entries:",
        "max-expansion-ratio:",
        "max-total-expanded:",
        "max-pickle-opcodes:",
        "max-pickle-memo:",
        "max-pickle-stack:",
        "max-pickles-per-stream:",
        "time-budget:",
        "policy:",
        "rego:",
        "huggingface:",
        "trusted-orgs:",
        "hub-scan:",
        "lfs-pointers:",
    ];
    for key in keys {
        assert!(INIT_TEMPLATE.contains(key), "template lacks {key}");
        let bare = key.trim_end_matches(':');
        assert!(
            docs.contains(&format!("`{bare}`")),
            "docs/config.md lacks `{bare}`"
        );
    }
}

#[test]
fn commented_examples_in_the_template_load_when_uncommented() {
    // Uncomment every `# key: ...` example line (and its indented continuation) and
    // replace the default it follows, which proves the examples are valid config.
    let mut lines: Vec<String> = Vec::new();
    for line in INIT_TEMPLATE.lines() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if let Some(example) = trimmed.strip_prefix("# ") {
            let is_key = example
                .split_once(':')
                .is_some_and(|(k, _)| !k.contains(' ') && !k.is_empty());
            let is_continuation = example.starts_with(' ') || example.starts_with('-');
            if is_key || is_continuation {
                let uncommented = format!("{}{}", " ".repeat(indent), example);
                if is_key {
                    // Drop the default line with the same key just above.
                    let key = example.split(':').next().unwrap_or_default();
                    if lines
                        .last()
                        .is_some_and(|l| l.trim_start().starts_with(&format!("{key}:")))
                    {
                        lines.pop();
                    }
                }
                lines.push(uncommented);
                continue;
            }
        }
        lines.push(line.to_string());
    }
    let text = lines.join("\n");
    let c = parse(&text).unwrap_or_else(|e| panic!("{e}\n---\n{text}"));
    assert!(c
        .global_allowlist()
        .matches("mypkg.models.resnet", "ResNet"));
    assert_eq!(c.deny.extensions.len(), 2);
    assert_eq!(c.deny.extensions[1].severity, Severity::Critical);
    assert_eq!(c.deny.formats[0].formats, ["pickle", "pytorch"]);
    assert_eq!(c.ignore.len(), 1);
    assert_eq!(c.ignore[0].expires, Some(date!(2027 - 01 - 31)));
    assert_eq!(c.policy.rego[0].file.as_str(), "policies/*.rego");
    assert_eq!(c.huggingface.trusted_orgs, ["google", "meta-llama"]);
    assert!(c.paths.selects("models/a.pt") && !c.paths.selects("tests/fixtures/a.pt"));
}

// --- strictness and error messages ------------------------------------------------------

#[test]
fn unknown_top_level_key_names_file_line_column_and_key() {
    let e = parse_err("paths: {}\nfail_on:\n  critical: 1\n");
    assert_eq!((e.line, e.column), (Some(2), Some(1)));
    assert_eq!(e.key.as_deref(), Some("fail_on"));
    let shown = e.to_string();
    assert_eq!(
        shown,
        ".modelgate.yml:2:1: fail_on: unknown field `fail_on`, expected one of `fail-on`, \
         `paths`, `allow`, `deny`, `ignore`, `limits`, `policy`, `huggingface`, `lfs-pointers`, \
         `models`"
    );
    assert!(!shown.contains('\n'), "{shown}");
    // The position is printed once, in front, not repeated by yaml_serde.
    assert!(!shown.contains(" at line "), "{shown}");
}

#[test]
fn unknown_nested_key_gives_its_full_key_path() {
    let e = parse_err("paths:\n  include: []\n  exlude: [\"a/**\"]\n");
    assert_eq!(
        e.to_string(),
        ".modelgate.yml:3:3: paths.exlude: unknown field `exlude`, expected `include` or `exclude`"
    );
}

#[test]
fn missing_reason_is_reported_at_the_entry() {
    let e = parse_err(
        "fail-on:\n  low: off\nignore:\n  - rule: pickle-unknown-global\n    paths: [\"models/**\"]\n",
    );
    assert_eq!(
        e.to_string(),
        ".modelgate.yml:4:5: ignore[0]: missing field `reason`"
    );
}

#[test]
fn blank_reason_is_rejected() {
    let e =
        parse_err("ignore:\n  - rule: pickle-format\n    paths: [\"**\"]\n    reason: \"  \"\n");
    assert_eq!(e.key.as_deref(), Some("ignore[0].reason"));
    assert_eq!(e.line, Some(4));
    assert!(e.message.contains("must not be empty"), "{e}");
}

#[test]
fn bad_severity_in_fail_on_is_an_unknown_key() {
    let e = parse_err("fail-on:\n  severe: 1\n");
    assert_eq!(e.key.as_deref(), Some("fail-on.severe"));
    assert_eq!((e.line, e.column), (Some(2), Some(3)));
    assert!(
        e.message.contains(
            "unknown field `severe`, expected one of `critical`, `high`, `medium`, `low`, `info`"
        ),
        "{e}"
    );
}

#[test]
fn bad_severity_value_in_deny_is_rejected() {
    let e = parse_err("deny:\n  formats:\n    - formats: [pickle]\n      severity: severe\n");
    assert_eq!(e.key.as_deref(), Some("deny.formats[0].severity"));
    assert_eq!(e.line, Some(4));
    assert!(e.message.contains("unknown variant `severe`"), "{e}");
}

#[test]
fn thresholds_must_be_positive_or_off() {
    for bad in ["0", "-2", "maybe", "1.5", "true"] {
        let e = parse_err(&format!("fail-on:\n  high: {bad}\n"));
        assert_eq!(e.key.as_deref(), Some("fail-on.high"), "{bad}: {e}");
        assert_eq!((e.line, e.column), (Some(2), Some(9)), "{bad}: {e}");
        assert!(e.message.contains("integer >= 1 or `off`"), "{bad}: {e}");
    }
    assert_eq!(
        parse_err("fail-on:\n  critical: 1\n  high: 0\n").to_string(),
        ".modelgate.yml:3:9: fail-on.high: invalid threshold `0`: expected an integer >= 1 or `off`"
    );
}

#[test]
fn fail_on_overrides_only_the_named_severities() {
    let c = parse("fail-on:\n  medium: off\n  low: 3\n").unwrap();
    let t = c.thresholds();
    assert_eq!(t.get(Severity::Critical), Some(1));
    assert_eq!(t.get(Severity::High), Some(1));
    assert_eq!(t.get(Severity::Medium), None);
    assert_eq!(t.get(Severity::Low), Some(3));
    assert_eq!(t.get(Severity::Info), None);
}

#[test]
fn duplicate_keys_are_errors() {
    let e = parse_err("fail-on:\n  high: 1\n  high: 2\n");
    assert!(e.message.contains("duplicate field `high`"), "{e}");
    assert_eq!(e.key.as_deref(), Some("fail-on"));
}

#[test]
fn yaml_syntax_errors_are_one_line_with_position() {
    let e = parse_err("ignore:\n  - rule: *\n    reason: x\n");
    let shown = e.to_string();
    assert!(shown.starts_with(".modelgate.yml:2:"), "{shown}");
    assert!(shown.contains("alias"), "{shown}");
    assert!(
        !shown.contains('\n') && !shown.contains(" at line "),
        "{shown}"
    );
}

#[test]
fn wrong_types_are_errors() {
    let e = parse_err("paths:\n  include: \"models/**\"\n");
    assert_eq!(e.key.as_deref(), Some("paths.include"));
    assert!(
        e.message.contains("expected a list of glob patterns"),
        "{e}"
    );
    let e = parse_err("- fail-on\n");
    assert!(e.message.contains("invalid type: sequence"), "{e}");
}

// --- globs -------------------------------------------------------------------------------

#[test]
fn bad_glob_is_rejected_at_load_time_with_its_index() {
    let e = parse_err("paths:\n  exclude:\n    - \"ok/**\"\n    - \"models/[ab\"\n");
    assert_eq!(e.key.as_deref(), Some("paths.exclude[1]"));
    assert_eq!((e.line, e.column), (Some(4), Some(7)));
    assert_eq!(
        e.to_string(),
        ".modelgate.yml:4:7: paths.exclude[1]: invalid glob `models/[ab`: unclosed character class; missing ']'"
    );
}

#[test]
fn path_globs_keep_star_within_a_folder() {
    let c = parse(
        "paths:\n  include: [\"models/*.pt\", \"./weights/**\"]\n  exclude: [\"**/test_*\"]\n",
    )
    .unwrap();
    assert!(c.paths.selects("models/a.pt"));
    assert!(
        !c.paths.selects("models/sub/a.pt"),
        "`*` must not cross `/`"
    );
    assert!(c.paths.selects("weights/x/y.bin"), "leading ./ is ignored");
    assert!(!c.paths.selects("weights/x/test_y.bin"), "exclude wins");
    assert!(!c.paths.selects("other/a.pt"));
}

#[test]
fn glob_list_from_cli_strings() {
    let l = GlobList::from_strs(&["**/*.pkl"]).unwrap();
    assert!(l.is_match("a/b/c.pkl") && l.is_match("c.pkl") && !l.is_match("c.pt"));
    assert!(GlobList::from_strs(&["a/{b"]).is_err());
    assert!(GlobList::from_strs(&[""]).is_err());
}

// --- allow.globals -----------------------------------------------------------------------

#[test]
fn allowlist_matches_exact_globals_and_module_prefixes() {
    let a = GlobalAllowlist::parse(&["mypkg.models.*", "mypkg.layers.MyBlock"]).unwrap();
    assert!(a.matches("mypkg.models", "ResNet"));
    assert!(a.matches("mypkg.models.vision", "ViT"));
    assert!(a.matches("mypkg.layers", "MyBlock"));
    assert!(!a.matches("mypkg.layers", "MyBlock2"));
    assert!(!a.matches("mypkg.layers", "Other"));
    assert!(
        !a.matches("mypkg.modelsx", "Evil"),
        "prefix must end at a dot"
    );
    assert!(
        !a.matches("mypkg", "models"),
        "`a.b.*` needs something after `a.b.`"
    );
    assert!(!a.matches("os", "system"));
    assert!(!a.matches("mypkg.layer", "sMyBlock"));
}

#[test]
fn allowlist_rejects_too_broad_and_malformed_patterns() {
    let e = GlobalPattern::parse("*").unwrap_err();
    assert!(e.contains("too broad"), "{e}");
    for bad in ["", ".*", "a.*.b", "a*", "MyBlock", "a..b", "a.b.", " a.b"] {
        assert!(GlobalPattern::parse(bad).is_err(), "{bad:?} accepted");
    }
    assert_eq!(
        GlobalPattern::parse("mypkg.*").unwrap(),
        GlobalPattern::Under("mypkg".into())
    );
    assert_eq!(
        GlobalPattern::parse("mypkg.*").unwrap().to_string(),
        "mypkg.*"
    );
}

#[test]
fn star_in_allow_globals_is_a_config_error_with_position() {
    let e = parse_err("allow:\n  globals: [\"mypkg.*\", \"*\"]\n");
    assert_eq!(e.key.as_deref(), Some("allow.globals[1]"));
    assert_eq!(e.line, Some(2));
    assert!(e.message.contains("too broad"), "{e}");
}

// --- deny --------------------------------------------------------------------------------

#[test]
fn deny_accepts_short_and_mapping_forms() {
    let c = parse(
        "deny:\n  extensions:\n    - .PKL\n    - extensions: [\".pickle\", bin, tar.gz]\n      severity: critical\n  formats:\n    - onnx\n    - formats: [pickle, PyTorch]\n",
    )
    .unwrap();
    assert_eq!(
        c.deny.extensions,
        vec![
            DenyExtensions {
                extensions: vec!["pkl".into()],
                severity: Severity::High
            },
            DenyExtensions {
                extensions: vec!["pickle".into(), "bin".into(), "tar.gz".into()],
                severity: Severity::Critical
            },
        ]
    );
    assert_eq!(c.deny.formats[0].formats, ["onnx"]);
    assert_eq!(c.deny.formats[0].severity, Severity::High);
    assert_eq!(c.deny.formats[1].formats, ["pickle", "pytorch"]);
    assert_eq!(c.deny.formats[1].severity, Severity::High);
}

#[test]
fn deny_rejects_bad_entries() {
    let e = parse_err("deny:\n  extensions: [\"*.pkl\"]\n");
    assert_eq!(e.key.as_deref(), Some("deny.extensions[0]"));
    assert!(e.message.contains("write the extension only"), "{e}");
    let e = parse_err("deny:\n  extensions:\n    - extensions: []\n");
    assert_eq!(e.key.as_deref(), Some("deny.extensions[0].extensions"));
    assert!(e.message.contains("at least one"), "{e}");
    let e = parse_err("deny:\n  formats:\n    - formats: [pickle]\n      sevrity: low\n");
    assert_eq!(e.key.as_deref(), Some("deny.formats[0].sevrity"));
    let e = parse_err("deny:\n  formats: [\"py torch\"]\n");
    assert!(e.message.contains("invalid format label"), "{e}");
}

#[test]
fn deny_matching_by_extension_and_format_label() {
    let ext = DenyExtensions {
        extensions: vec!["pkl".into(), "tar.gz".into()],
        severity: Severity::High,
    };
    assert_eq!(ext.matching("Model.PKL"), Some("pkl"));
    assert_eq!(ext.matching("a.tar.gz"), Some("tar.gz"));
    assert_eq!(ext.matching("a.pkl.txt"), None);
    assert_eq!(ext.matching("apkl"), None);
    assert_eq!(ext.matching("pkl"), None);
    assert!(format_label_matches("pytorch", "pytorch-zip"));
    assert!(format_label_matches("pytorch", "pytorch-legacy"));
    assert!(format_label_matches("pytorch", "pytorch"));
    assert!(!format_label_matches("pytorch", "pytorchx"));
    assert!(!format_label_matches("pytorch-zip", "pytorch"));
    assert!(!format_label_matches("pickle", "pytorch-zip"));
}

// --- ignore ------------------------------------------------------------------------------

#[test]
fn ignore_entries_parse_rule_paths_reason_and_expiry() {
    let c = parse(
        "ignore:\n  - rule: pickle-unknown-global\n    paths: [\"models/legacy/**\"]\n    reason: \"our own classes\"\n    expires: 2027-01-31\n  - rule: \"*\"\n    paths: [\"tests/fixtures/**\"]\n    reason: malicious samples for tests\n",
    )
    .unwrap();
    let first = &c.ignore[0];
    assert_eq!(
        first.rule,
        RuleSelector::Rule(crate::rules::RuleId::PickleUnknownGlobal)
    );
    assert!(first.paths.is_match("models/legacy/a/b.pkl"));
    assert_eq!(first.reason, "our own classes");
    assert_eq!(first.expires, Some(date!(2027 - 01 - 31)));
    assert!(
        !first.is_expired(date!(2027 - 01 - 31)),
        "valid on its last day"
    );
    assert!(first.is_expired(date!(2027 - 02 - 01)));
    assert_eq!(c.ignore[1].rule, RuleSelector::Any);
    assert!(c.ignore[1]
        .rule
        .matches(crate::rules::RuleId::ZipCrcMismatch));
    assert_eq!(c.ignore[1].expires, None);
    assert!(!c.ignore[1].is_expired(date!(2999 - 01 - 01)));
}

#[test]
fn unknown_rule_in_ignore_is_a_config_error() {
    let e =
        parse_err("ignore:\n  - rule: pickle-unknwon-global\n    paths: [\"**\"]\n    reason: x\n");
    assert_eq!(e.key.as_deref(), Some("ignore[0].rule"));
    assert_eq!((e.line, e.column), (Some(2), Some(11)));
    assert!(
        e.message.contains("unknown rule `pickle-unknwon-global`"),
        "{e}"
    );
}

#[test]
fn expired_ignore_notices_cannot_be_ignored() {
    let e =
        parse_err("ignore:\n  - rule: policy-expired-ignore\n    paths: [\"**\"]\n    reason: x\n");
    assert!(e.message.contains("cannot be ignored"), "{e}");
}

#[test]
fn ignore_needs_paths_and_a_valid_date() {
    let e = parse_err("ignore:\n  - rule: pickle-format\n    paths: []\n    reason: x\n");
    assert_eq!(e.key.as_deref(), Some("ignore[0].paths"));
    assert!(e.message.contains("at least one glob"), "{e}");
    let e = parse_err("ignore:\n  - rule: pickle-format\n    reason: x\n");
    assert!(e.message.contains("missing field `paths`"), "{e}");
    let e = parse_err(
        "ignore:\n  - rule: pickle-format\n    paths: [a]\n    reason: x\n    expires: 2027-02-30\n",
    );
    assert_eq!(e.key.as_deref(), Some("ignore[0].expires"));
    assert_eq!(e.line, Some(5));
    assert!(e.message.contains("invalid date `2027-02-30`"), "{e}");
}

// --- --fail-on ---------------------------------------------------------------------------

#[test]
fn parse_fail_on_reads_the_cli_syntax() {
    assert_eq!(
        parse_fail_on("critical=1,high=2,medium=off").unwrap(),
        vec![
            (Severity::Critical, Some(1)),
            (Severity::High, Some(2)),
            (Severity::Medium, None)
        ]
    );
    assert_eq!(
        parse_fail_on(" LOW = 5 ").unwrap(),
        vec![(Severity::Low, Some(5))]
    );
}

#[test]
fn parse_fail_on_rejects_bad_input() {
    for (input, needle) in [
        ("severe=1", "unknown severity `severe`"),
        ("high=0", "integer >= 1 or `off`"),
        ("high=-1", "integer >= 1 or `off`"),
        ("high", "expected SEVERITY=N"),
        ("high=1,,low=1", "empty entry"),
        ("", "empty entry"),
        ("high=1,high=off", "given twice"),
    ] {
        let e = parse_fail_on(input).unwrap_err();
        assert!(e.contains(needle), "{input:?}: {e}");
    }
}

// --- limits ------------------------------------------------------------------------------

#[test]
fn byte_sizes_accept_integers_and_units() {
    assert_eq!(parse_byte_size("4096"), Ok(4096));
    assert_eq!(parse_byte_size("512MiB"), Ok(512 << 20));
    assert_eq!(parse_byte_size("4GB"), Ok(4_000_000_000));
    assert_eq!(parse_byte_size("4gib"), Ok(4 << 30));
    assert_eq!(parse_byte_size(" 2 KiB "), Ok(2048));
    assert_eq!(parse_byte_size("1.5GiB"), Ok(3 << 29));
    assert_eq!(parse_byte_size("10B"), Ok(10));
    assert_eq!(parse_byte_size("1TiB"), Ok(1 << 40));
}

#[test]
fn byte_sizes_reject_ambiguous_or_bad_input() {
    for (input, needle) in [
        ("10k", "ambiguous"),
        ("4G", "ambiguous"),
        ("1.2345B", "whole number"),
        ("99999999999TiB", "too large"),
        ("abc", "invalid size"),
        ("", "invalid size"),
        ("1.", "invalid size"),
        ("1.2.3MB", "invalid size"),
        ("5 parsecs", "invalid size"),
    ] {
        let e = parse_byte_size(input).unwrap_err();
        assert!(e.contains(needle), "{input:?}: {e}");
    }
}

#[test]
fn limits_override_only_what_is_set() {
    let c = parse(
        "limits:\n  max-file-size: 512MiB\n  max-member-size: 1048576\n  max-archive-depth: 3\n  time-budget: 5\n",
    )
    .unwrap();
    let l = c.limits();
    assert_eq!(l.max_file_size, 512 << 20);
    assert_eq!(l.max_member_size, 1 << 20);
    assert_eq!(l.max_archive_depth, 3);
    assert_eq!(l.time_budget, Duration::from_secs(5));
    let d = Limits::default();
    assert_eq!(l.max_archive_entries, d.max_archive_entries);
    assert_eq!(l.max_pickle_opcodes, d.max_pickle_opcodes);
}

#[test]
fn limits_reject_bad_values() {
    let e = parse_err("limits:\n  max-file-size: 4G\n");
    assert_eq!(e.key.as_deref(), Some("limits.max-file-size"));
    assert!(e.message.contains("ambiguous"), "{e}");
    let e = parse_err("limits:\n  time-budget: 0\n");
    assert!(e.message.contains("at least 1 second"), "{e}");
    let e = parse_err("limits:\n  max-archive-depth: -1\n");
    assert_eq!(e.key.as_deref(), Some("limits.max-archive-depth"));
    let e = parse_err("limits:\n  max-file-size: -5\n");
    assert!(e.message.contains("negative"), "{e}");
    let e = parse_err("limits:\n  max_file_size: 1\n");
    assert!(e.message.contains("unknown field `max_file_size`"), "{e}");
}

// --- policy, huggingface -----------------------------------------------------------------

#[test]
fn policy_and_huggingface_sections_are_parsed() {
    let c = parse(
        "policy:\n  rego: [\"policies/*.rego\"]\nhuggingface:\n  trusted-orgs: [google, meta-llama]\n  check-security-status: true\n",
    )
    .unwrap();
    assert_eq!(c.policy.rego[0].file.as_str(), "policies/*.rego");
    assert_eq!(c.policy.rego[0].severity, Severity::High);
    assert_eq!(c.huggingface.trusted_orgs, ["google", "meta-llama"]);
    assert!(c.huggingface.hub_scan);
    let c = parse(
        "policy:\n  rego:\n    - policies/a.rego\n    - file: policies/b.rego\n      severity: medium\nhuggingface:\n  hub-scan: true\n",
    )
    .unwrap();
    assert_eq!(c.policy.rego.len(), 2);
    assert_eq!(c.policy.rego[1].file.as_str(), "policies/b.rego");
    assert_eq!(c.policy.rego[1].severity, Severity::Medium);
    assert!(c.huggingface.hub_scan);
    let e = parse_err("policy:\n  rego:\n    - file: a.rego\n      level: low\n");
    assert!(e.message.contains("unknown field `level`"), "{e}");
    let e = parse_err("huggingface:\n  trusted-orgs: [\"google/gemma\"]\n");
    assert_eq!(e.key.as_deref(), Some("huggingface.trusted-orgs[0]"));
    assert!(e.message.contains("invalid organisation"), "{e}");
}

// --- discovery and loading ---------------------------------------------------------------

#[test]
fn discover_follows_the_documented_order() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    assert_eq!(discover(root), None);
    std::fs::create_dir(root.join(".github")).unwrap();
    std::fs::write(root.join(".github/modelgate.yml"), "").unwrap();
    assert_eq!(discover(root), Some(root.join(".github/modelgate.yml")));
    std::fs::write(root.join(".modelgate.yaml"), "").unwrap();
    assert_eq!(discover(root), Some(root.join(".modelgate.yaml")));
    std::fs::write(root.join(".modelgate.yml"), "").unwrap();
    assert_eq!(discover(root), Some(root.join(".modelgate.yml")));
    // A file target: look beside it.
    std::fs::write(root.join("model.pkl"), b"x").unwrap();
    assert_eq!(
        discover(&root.join("model.pkl")),
        Some(root.join(".modelgate.yml"))
    );
    // A directory named like the config is not a config.
    let other = tempfile::tempdir().unwrap();
    std::fs::create_dir(other.path().join(".modelgate.yml")).unwrap();
    assert_eq!(discover(other.path()), None);
}

#[test]
fn load_reads_the_file_and_names_it_in_errors() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join(".modelgate.yml");
    std::fs::write(&good, "fail-on:\n  medium: off\n").unwrap();
    let c = load(&good).unwrap();
    assert_eq!(c.source.as_deref(), Some(good.as_path()));
    assert_eq!(c.thresholds().get(Severity::Medium), None);

    let bad = dir.path().join("bad.yml");
    std::fs::write(&bad, "fail-on:\n  medium: never\n").unwrap();
    let e = load(&bad).unwrap_err();
    assert_eq!(e.file, bad);
    assert!(
        e.to_string().starts_with(&format!(
            "{}:2:11: fail-on.medium: invalid threshold `never`",
            bad.display()
        )),
        "{e}"
    );

    let missing = dir.path().join("missing.yml");
    let e = load(&missing).unwrap_err();
    assert!(
        e.to_string()
            .starts_with(&format!("{}: cannot read configuration", missing.display())),
        "{e}"
    );
}

#[test]
fn strip_marks_removes_only_positions() {
    assert_eq!(
        strip_marks("did not find x at line 2 column 10, while scanning at line 2 column 9"),
        "did not find x, while scanning"
    );
    assert_eq!(strip_marks("bad at position 7"), "bad");
    assert_eq!(strip_marks("look at this"), "look at this");
    assert_eq!(strip_marks("at line 3 column"), "at line 3 column");
}
