//! The command line end to end: exit codes, config handling, output formats, discovery.
//! Inputs here are small hand-assembled files (their bytes are explained inline); the
//! real-library fixtures are exercised in tests/fixtures.rs.

// Integration tests: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use predicates::prelude::*;
use serde_json::Value;

/// Protocol-0 pickle: GLOBAL posix.system, MARK, STRING, TUPLE, REDUCE, STOP —
/// `pickle.loads` runs `echo hi`.
const POSIX_SYSTEM: &[u8] = b"cposix\nsystem\n(S'echo hi'\ntR.";
/// Protocol-2 pickle of an empty OrderedDict: only allowlisted globals.
const ORDERED_DICT: &[u8] = b"\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01.";
/// `builtins.print("x")`: unknown global, medium.
const PRINT: &[u8] = b"cbuiltins\nprint\n(S'x'\ntR.";
/// A project's own class: unknown until allow.globals trusts it.
const OWN_CLASS: &[u8] = b"\x80\x02cmypkg.models\nNet\n)\x81.";

#[test]
fn malicious_pickle_fails_with_exit_1_and_names_the_call() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "model.bin", POSIX_SYSTEM);
    modelgate()
        .args(["scan", "--no-config"])
        .arg(dir.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains("posix.system(\"echo hi\")"))
        .stdout(predicate::str::contains("FAIL"));
}

#[test]
fn benign_pickle_passes_with_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "sd.pt", ORDERED_DICT);
    modelgate()
        .args(["scan", "--no-config"])
        .arg(dir.path())
        .assert()
        .code(0)
        .stdout(predicate::str::contains("PASS"));
}

#[test]
fn missing_target_is_exit_2_with_one_line() {
    modelgate()
        .args(["scan", "--no-config", "does/not/exist"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("does/not/exist"));
}

#[test]
fn fail_on_override_turns_thresholds_off() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "p.pkl", PRINT);
    modelgate()
        .args(["scan", "--no-config"])
        .arg(dir.path())
        .assert()
        .code(1);
    modelgate()
        .args(["scan", "--no-config", "--fail-on", "medium=off"])
        .arg(dir.path())
        .assert()
        .code(0);
    modelgate()
        .args(["scan", "--no-config", "--fail-on", "medium=2"])
        .arg(dir.path())
        .assert()
        .code(0);
    modelgate()
        .args(["scan", "--no-config", "--fail-on", "bogus=1"])
        .arg(dir.path())
        .assert()
        .code(2);
}

#[test]
fn config_with_unknown_key_is_exit_2_with_position() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        ".modelgate.yml",
        b"fail-on:\n  critical: 1\nfail_on: {}\n",
    );
    modelgate()
        .args(["scan", "-c"])
        .arg(&cfg)
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(".modelgate.yml:3:1"))
        .stderr(predicate::str::contains("fail_on"));
}

#[test]
fn config_is_discovered_in_the_target_and_allow_globals_trusts_own_classes() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "net.pkl", OWN_CLASS);
    modelgate()
        .args(["scan"])
        .arg(dir.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains("mypkg.models.Net"));
    write(
        dir.path(),
        ".modelgate.yml",
        b"allow:\n  globals: [\"mypkg.models.*\"]\n",
    );
    modelgate().args(["scan"]).arg(dir.path()).assert().code(0);
    // --no-config ignores it again.
    modelgate()
        .args(["scan", "--no-config"])
        .arg(dir.path())
        .assert()
        .code(1);
}

#[test]
fn allow_globals_cannot_whitelist_os_system() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "bad.pkl", POSIX_SYSTEM);
    write(
        dir.path(),
        ".modelgate.yml",
        b"allow:\n  globals: [\"posix.system\", \"os.*\"]\n",
    );
    modelgate().args(["scan"]).arg(dir.path()).assert().code(1);
}

#[test]
fn ignore_suppresses_until_it_expires() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "p.pkl", PRINT);
    write(
        dir.path(),
        ".modelgate.yml",
        b"ignore:\n  - rule: pickle-unknown-global\n    paths: [\"**/p.pkl\"]\n    reason: logging helper we wrote\n    expires: 2999-01-01\n",
    );
    modelgate()
        .args(["scan"])
        .arg(dir.path())
        .assert()
        .code(0)
        .stdout(predicate::str::contains("suppressed"));
    write(
        dir.path(),
        ".modelgate.yml",
        b"ignore:\n  - rule: pickle-unknown-global\n    paths: [\"**/p.pkl\"]\n    reason: logging helper we wrote\n    expires: 2001-01-01\n",
    );
    modelgate()
        .args(["scan"])
        .arg(dir.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains("policy-expired-ignore"));
}

#[test]
fn deny_extensions_blocks_whatever_the_content() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "ok.pkl", ORDERED_DICT);
    write(
        dir.path(),
        ".modelgate.yml",
        b"deny:\n  extensions:\n    - extensions: [\".pkl\"]\n      severity: critical\n",
    );
    modelgate()
        .args(["scan"])
        .arg(dir.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains("policy-denied-format"));
}

#[test]
fn content_routing_ignores_names() {
    // A pickle named .safetensors, .txt and with no extension is still a pickle.
    let dir = tempfile::tempdir().unwrap();
    for name in ["a.safetensors", "b.txt", "c"] {
        write(dir.path(), name, POSIX_SYSTEM);
    }
    let d = dir.path().to_str().unwrap();
    let (code, report) = scan_json(&[d]);
    assert_eq!(code, 1);
    for name in ["a.safetensors", "b.txt", "c"] {
        let f = file(&report, &format!("{d}/{name}"));
        assert_eq!(worst(f), "critical", "{name}");
    }
}

#[test]
fn skipped_files_are_counted_and_listed_on_request() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "README.md", b"# hello\n");
    write(dir.path(), "m.pkl", ORDERED_DICT);
    write(dir.path(), ".git/objects/x.pkl", POSIX_SYSTEM);
    let d = dir.path().to_str().unwrap();
    let (code, report) = scan_json(&[d]);
    assert_eq!(code, 0, ".git/ must not be scanned: {report:#}");
    assert_eq!(report["summary"]["files_scanned"], 1);
    assert_eq!(report["summary"]["files_skipped"], 1);
    modelgate()
        .args(["scan", "--no-config", "--show-skipped", d])
        .assert()
        .stdout(predicate::str::contains("README.md"));
}

#[test]
fn exclude_glob_skips_and_include_narrows() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "vendor/bad.pkl", POSIX_SYSTEM);
    write(dir.path(), "models/ok.pkl", ORDERED_DICT);
    let d = dir.path().to_str().unwrap();
    let (code, _) = scan_json(&[d, "--exclude", "**/vendor/**"]);
    assert_eq!(code, 0);
    let (code, _) = scan_json(&[d, "--include", "**/models/**"]);
    assert_eq!(code, 0);
    let (code, _) = scan_json(&[d]);
    assert_eq!(code, 1);
}

#[cfg(unix)]
#[test]
fn symlinks_are_followed_once_and_loops_do_not_hang() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "real/bad.pkl", POSIX_SYSTEM);
    std::os::unix::fs::symlink(dir.path().join("real"), dir.path().join("link")).unwrap();
    std::os::unix::fs::symlink(dir.path(), dir.path().join("real/loop")).unwrap();
    let d = dir.path().to_str().unwrap();
    let (code, report) = scan_json(&[d]);
    assert_eq!(code, 1);
    let scanned: Vec<&Value> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "scanned")
        .collect();
    assert_eq!(
        scanned.len(),
        1,
        "the same file must be scanned once: {report:#}"
    );
}

#[test]
fn json_output_is_versioned_and_ordered() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "b.pkl", PRINT);
    write(dir.path(), "a.pkl", POSIX_SYSTEM);
    let d = dir.path().to_str().unwrap();
    let (_, report) = scan_json(&[d, "-j", "2"]);
    assert_eq!(report["version"], 1);
    assert_eq!(report["verdict"], "fail");
    let paths: Vec<&str> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted);
    assert_eq!(report["summary"]["critical"], 1);
    assert_eq!(report["summary"]["medium"], 1);
}

#[test]
fn sarif_file_is_written_and_valid() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "models/bad.pkl", POSIX_SYSTEM);
    let sarif = dir.path().join("out.sarif");
    modelgate()
        .current_dir(dir.path())
        .args(["scan", "--no-config", "--format", "text", "--sarif"])
        .arg(&sarif)
        .arg("models")
        .assert()
        .code(1);
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    assert_valid_sarif(&v);
    let r = &v["runs"][0]["results"][0];
    assert_eq!(r["ruleId"], "pickle-code-execution");
    assert_eq!(
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "models/bad.pkl"
    );
    let rule_index = r["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(
        v["runs"][0]["tool"]["driver"]["rules"][rule_index]["properties"]["security-severity"],
        "9.8"
    );
}

#[test]
fn github_mode_writes_annotations_summary_and_outputs() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "m/bad.pkl", POSIX_SYSTEM);
    let summary = dir.path().join("summary.md");
    let outputs = dir.path().join("outputs.txt");
    modelgate()
        .current_dir(dir.path())
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &outputs)
        .args(["scan", "--no-config", "m"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("::error file=m/bad.pkl,line=1"));
    let s = std::fs::read_to_string(&summary).unwrap();
    assert!(s.contains("pickle-code-execution"), "{s}");
    let o = std::fs::read_to_string(&outputs).unwrap();
    assert!(
        o.contains("verdict=fail") && o.contains("critical=1"),
        "{o}"
    );
}

#[test]
fn init_writes_a_config_that_loads() {
    let dir = tempfile::tempdir().unwrap();
    modelgate()
        .current_dir(dir.path())
        .args(["init"])
        .assert()
        .code(0);
    assert!(dir.path().join(".modelgate.yml").is_file());
    modelgate()
        .current_dir(dir.path())
        .args(["init"])
        .assert()
        .code(2);
    write(dir.path(), "ok.pkl", ORDERED_DICT);
    modelgate()
        .current_dir(dir.path())
        .args(["scan", "."])
        .assert()
        .code(0);
}

#[test]
fn rules_markdown_matches_docs() {
    let out = modelgate()
        .args(["rules", "--format", "markdown"])
        .output()
        .unwrap();
    let docs = std::fs::read_to_string(root().join("docs/rules.md")).unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        docs,
        "docs/rules.md is stale: run `modelgate rules --format markdown > docs/rules.md`"
    );
}

#[test]
fn shards_partition_the_files() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..20 {
        write(dir.path(), &format!("m{i}.pkl"), ORDERED_DICT);
    }
    let d = dir.path().to_str().unwrap();
    let mut total = 0;
    for k in 1..=3 {
        let shard = format!("{k}/3");
        let (_, r) = scan_json(&[d, "--shard", &shard]);
        total += r["files"].as_array().unwrap().len();
    }
    assert_eq!(total, 20);
}

#[test]
fn zip_tricks_are_reported_and_still_scanned() {
    // A stored zip with one member `arch/data.pkl` holding the posix.system pickle, with
    // the encryption bit set in both headers and a wrong CRC, behind a junk prefix.
    let mut z = Vec::new();
    let name = b"arch/data.pkl";
    let data = POSIX_SYSTEM;
    z.extend(b"JUNKJUNK");
    let local = z.len() - 8;
    z.extend(b"PK\x03\x04");
    z.extend(20u16.to_le_bytes());
    z.extend(1u16.to_le_bytes()); // flags: encrypted
    z.extend(0u16.to_le_bytes()); // stored
    z.extend([0u8; 4]); // time, date
    z.extend(0xdeadbeefu32.to_le_bytes()); // wrong CRC
    z.extend((data.len() as u32).to_le_bytes());
    z.extend((data.len() as u32).to_le_bytes());
    z.extend((name.len() as u16).to_le_bytes());
    z.extend(0u16.to_le_bytes());
    z.extend(name);
    z.extend(data);
    let cd = z.len() - 8;
    z.extend(b"PK\x01\x02");
    z.extend(20u16.to_le_bytes());
    z.extend(20u16.to_le_bytes());
    z.extend(1u16.to_le_bytes());
    z.extend(0u16.to_le_bytes());
    z.extend([0u8; 4]);
    z.extend(0xdeadbeefu32.to_le_bytes());
    z.extend((data.len() as u32).to_le_bytes());
    z.extend((data.len() as u32).to_le_bytes());
    z.extend((name.len() as u16).to_le_bytes());
    z.extend([0u8; 12]); // extra, comment, disk, attrs
    z.extend((local as u32).to_le_bytes());
    z.extend(name);
    let cd_size = z.len() - 8 - cd;
    z.extend(b"PK\x05\x06");
    z.extend([0u8; 4]);
    z.extend(1u16.to_le_bytes());
    z.extend(1u16.to_le_bytes());
    z.extend((cd_size as u32).to_le_bytes());
    z.extend((cd as u32).to_le_bytes());
    z.extend(0u16.to_le_bytes());
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "model.pt", &z);
    let d = dir.path().to_str().unwrap();
    let (code, report) = scan_json(&[d]);
    assert_eq!(code, 1);
    let f = file(&report, &format!("{d}/model.pt"));
    let rules: Vec<&str> = f["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["rule"].as_str().unwrap())
        .collect();
    for want in [
        "pickle-code-execution",
        "zip-crc-mismatch",
        "zip-encryption-flag",
        "zip-prefix-data",
    ] {
        assert!(rules.contains(&want), "missing {want}: {rules:?}");
    }
    assert_eq!(f["format"], "pytorch-zip");
}

/// What actions/checkout without `lfs: true` leaves in place of a model.
const LFS_POINTER: &[u8] = b"version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n";

#[test]
fn lfs_pointers_are_info_counted_apart_and_fail_on_request() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "model.safetensors", LFS_POINTER);
    write(dir.path(), "m.pkl", ORDERED_DICT);
    let d = dir.path().to_str().unwrap();
    let (code, report) = scan_json(&[d]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["summary"]["lfs_pointers"], 1);
    assert_eq!(report["summary"]["files_skipped"], 1);
    assert_eq!(report["summary"]["info"], 1);
    let f = file(&report, &format!("{d}/model.safetensors"));
    assert_eq!(f["status"], "skipped");
    assert!(f["reason"].as_str().unwrap().contains("Git LFS pointer"));
    assert_eq!(f["findings"][0]["rule"], "git-lfs-pointer");
    assert_eq!(f["findings"][0]["severity"], "info");
    modelgate()
        .args(["scan", "--no-config", "--no-progress", d])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("git-lfs-pointer"))
        .stdout(predicate::str::contains(
            "lfs:        1 Git LFS pointer not scanned",
        ));

    // `lfs-pointers: fail`: the same pointer is high and fails the build.
    write(dir.path(), ".modelgate.yml", b"lfs-pointers: fail\n");
    let out = modelgate()
        .args(["scan", "--format", "sarif", "--no-progress", d])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    let run = &sarif["runs"][0];
    assert_eq!(run["properties"]["summary"]["lfs_pointers"], 1);
    assert_eq!(run["properties"]["summary"]["high"], 1);
    assert!(run["results"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["ruleId"] == "git-lfs-pointer" && r["level"] == "error"));
}

#[test]
fn extension_mismatch_is_reported_on_top_of_the_content() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "weights.safetensors", ORDERED_DICT);
    write(dir.path(), "legacy.bin", ORDERED_DICT);
    let d = dir.path().to_str().unwrap();
    let (code, report) = scan_json(&[d]);
    assert_eq!(code, 1, "{report:#}");
    let f = file(&report, &format!("{d}/weights.safetensors"));
    let rules: Vec<&str> = f["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"extension-mismatch") && rules.contains(&"pickle-format"));
    let f = file(&report, &format!("{d}/legacy.bin"));
    assert_eq!(worst(f), "low", "a pickle in .bin is legitimate");
}

/// An absolute target (`modelgate scan /abs/dir`) is not relative to the checkout: its
/// SARIF locations are absolute `file:` URIs, never the path with its leading `/` dropped.
#[test]
fn absolute_targets_give_absolute_file_uris() {
    let dir = tempfile::tempdir().expect("tempdir");
    let evil = std::fs::read(root().join("tests/fixtures/malicious/posix_system_protocol2.pkl"))
        .expect("fixture");
    write(dir.path(), "sub dir/evil.pkl", &evil);
    let abs = dir.path().canonicalize().expect("canonical");
    let out = modelgate()
        .args(["scan", "--format", "sarif", "--no-config"])
        .arg(&abs)
        .output()
        .expect("runs");
    let v: Value = serde_json::from_slice(&out.stdout).expect("SARIF is JSON");
    assert_valid_sarif(&v);
    let loc = &v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
    let uri = loc["uri"].as_str().expect("uri");
    assert!(uri.starts_with("file:///"), "{uri}");
    assert!(uri.ends_with("/sub%20dir/evil.pkl"), "{uri}");
    assert!(loc.get("uriBaseId").is_none(), "{loc}");
    let abs = abs.to_string_lossy().replace('\\', "/");
    assert!(
        uri.contains(abs.trim_start_matches('/').split('/').next().unwrap_or("")),
        "{uri} vs {abs}"
    );
}
