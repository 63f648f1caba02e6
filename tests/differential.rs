//! The committed differential cases (`tests/differential/`): files that real loaders
//! (CPython's unpickler, `torch.load`, Python's `zipfile`) loaded while a recorder wrote
//! down every global they imported and every call they made. modelgate must report what
//! the loader did. The checks are those of `scripts/differential/compare.py`, ported
//! line for line (read that script and `tests/differential/README.md` for the rules):
//!
//! - every import is reported: a global modelgate calls known-safe is listed in the
//!   `pickle-format` evidence (unless that list is cut short, or the file has pickle
//!   findings above low); any other is named in a finding message as `` `module.name` ``
//!   (an EXT import by a finding naming its extension code, a computed one by a
//!   `pickle-dynamic-import` finding);
//! - a non-safe global the loader called has evidence showing the call, with the
//!   loader's constant arguments;
//! - a stream the loader reads is never `pickle-malformed`, skipped, unscanned or
//!   stopped by a limit;
//! - no global is named that a pickle loader never imported (findings of the stream
//!   view, another loader's reading, excepted);
//! - the file's worst severity is at least the tier of every global imported (Python 2
//!   names judged by what `_compat_pickle` maps them to).
//!
//! How modelgate classifies a global is learnt from modelgate itself, as compare.py
//! does: each distinct global is scanned alone first.
//!
//! [`KNOWN`] lists the disagreements that remain, each with its reason; the test fails on
//! any other disagreement, and on a known one that no longer happens (so the list cannot
//! go stale).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// Disagreements that are known and accepted: (file, class, why).
const KNOWN: &[(&str, &str, &str)] = &[
    // `N.garbage`: a data-only pickle followed by text. pickle.loads returns None and
    // ignores the rest; modelgate does not claim such files as pickles, because text
    // files often parse as a data-only pickle by accident (`CacheControl==0.12 ...`).
    // Nothing is imported, so nothing is missed.
    ("pickles/c18.pkl", "skipped", "data-only pickle then text"),
    (
        "disagreements/mp-c18.pkl",
        "skipped",
        "data-only pickle then text",
    ),
    (
        "disagreements/se-c18.pkl",
        "skipped",
        "data-only pickle then text",
    ),
    (
        "disagreements/tv-c18.pkl",
        "skipped",
        "data-only pickle then text",
    ),
];

/// What the message of a finding from modelgate's stream view says (how `torch.load` and
/// `pickle.load(io.BytesIO(...))` read a FRAME that an argument straddles): another
/// loader's reading, not held against a `pickle.loads` line by the phantom check.
const STREAM_VIEW: &str = "(read as from a stream without peek()";

const COMPUTING: &[(&str, &str)] = &[
    ("builtins", "str"),
    ("__builtin__", "str"),
    ("operator", "add"),
    ("_operator", "add"),
    ("operator", "concat"),
    ("_operator", "concat"),
];

fn sev(s: &str) -> i32 {
    match s {
        "info" => 0,
        "low" => 1,
        "medium" => 2,
        "high" => 3,
        "critical" => 4,
        _ => panic!("unknown severity {s}"),
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/differential")
}

/// `modelgate scan . --no-config -f json` in `dir`: report files by relative path.
fn scan_dir(dir: &Path) -> HashMap<String, Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_modelgate"))
        .args([
            "scan",
            ".",
            "--no-config",
            "-f",
            "json",
            "--no-progress",
            "-j",
            "2",
        ])
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run modelgate");
    let code = out.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 1,
        "modelgate failed ({code}): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let mut files = HashMap::new();
    for f in report["files"].as_array().expect("files") {
        let p = f["path"].as_str().expect("path");
        let p = p.trim_start_matches("./").to_string();
        files.insert(p, f.clone());
    }
    files
}

/// Python's `json` writes NaN/Infinity and lone surrogates, which serde_json refuses:
/// non-finite numbers become a float that is never compared (as compare.py skips
/// floats), and a lone surrogate a character modelgate never prints in its place (a
/// lone surrogate never matches modelgate's output either, which decodes such bytes as
/// U+FFFD).
fn parse_python_json(line: &str) -> Value {
    if let Ok(v) = serde_json::from_str(line) {
        return v;
    }
    let mut s = String::with_capacity(line.len());
    let b: Vec<char> = line.chars().collect();
    let mut i = 0;
    let mut in_str = false;
    let hex = |i: usize| -> Option<u32> {
        if i + 6 <= b.len() && b[i] == '\\' && b[i + 1] == 'u' {
            u32::from_str_radix(&b[i + 2..i + 6].iter().collect::<String>(), 16).ok()
        } else {
            None
        }
    };
    while i < b.len() {
        let c = b[i];
        if in_str {
            if c == '\\' {
                if let Some(u) = hex(i) {
                    if (0xD800..0xDC00).contains(&u) {
                        if let Some(l) = hex(i + 6).filter(|l| (0xDC00..0xE000).contains(l)) {
                            let _ = l;
                            s.extend(&b[i..i + 12]);
                            i += 12;
                            continue;
                        }
                        s.push_str("\\u0001");
                        i += 6;
                        continue;
                    }
                    if (0xDC00..0xE000).contains(&u) {
                        s.push_str("\\u0001");
                        i += 6;
                        continue;
                    }
                }
                s.push(c);
                s.push(b[i + 1]);
                i += 2;
                continue;
            }
            if c == '"' {
                in_str = false;
            }
            s.push(c);
            i += 1;
            continue;
        }
        if c == '"' {
            in_str = true;
            s.push(c);
            i += 1;
            continue;
        }
        let rest: String = b[i..b.len().min(i + 9)].iter().collect();
        if rest.starts_with("-Infinity") {
            s.push_str("0.5");
            i += 9;
        } else if rest.starts_with("Infinity") {
            s.push_str("0.5");
            i += 8;
        } else if rest.starts_with("NaN") {
            s.push_str("0.5");
            i += 3;
        } else {
            s.push(c);
            i += 1;
        }
    }
    serde_json::from_str(&s).unwrap_or_else(|e| panic!("ground-truth line: {e}: {line}"))
}

fn truth(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .expect("ground truth")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(parse_python_json)
        .collect()
}

fn pairs(v: &Value) -> Vec<(String, String)> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|p| {
                    (
                        p[0].as_str().unwrap_or_default().to_string(),
                        p[1].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `re.findall(r"`([^`]+)`", s)`.
fn backticked(s: &str) -> Vec<String> {
    let c: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        if c[i] == '`' {
            if let Some(j) = c[i + 1..].iter().position(|&x| x == '`') {
                if j > 0 {
                    out.push(c[i + 1..i + 1 + j].iter().collect());
                    i += j + 2;
                    continue;
                }
            }
        }
        i += 1;
    }
    out
}

/// `^(GLOBAL|STACK_GLOBAL|INST|EXT\S*) `([^`]+)``: the global a finding is about.
fn named_global(msg: &str) -> Option<String> {
    let (op, rest) = msg.split_once(' ')?;
    let ok = matches!(op, "GLOBAL" | "STACK_GLOBAL" | "INST") || op.starts_with("EXT");
    if !ok {
        return None;
    }
    let rest = rest.strip_prefix('`')?;
    let end = rest.find('`')?;
    (end > 0).then(|| rest[..end].to_string())
}

/// The `pickle-format` evidence list and whether it was cut short.
fn split_safe(evidence: &str) -> (HashSet<String>, bool) {
    let mut ev = evidence;
    let mut cut = false;
    if let Some(i) = ev.rfind(" (+") {
        let tail = &ev[i + 3..];
        if let Some(n) = tail.strip_suffix(" more)") {
            if !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) {
                ev = &ev[..i];
                cut = true;
            }
        }
    }
    if ev == "no globals" {
        return (HashSet::new(), cut);
    }
    (
        ev.split(", ")
            .filter(|x| !x.is_empty())
            .map(String::from)
            .collect(),
        cut,
    )
}

/// `re.findall(r"extension code (\d+)", s)`.
fn extension_codes(s: &str) -> Vec<i64> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find("extension code ") {
        rest = &rest[i + "extension code ".len()..];
        let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        if let Ok(n) = digits.parse() {
            out.push(n);
        }
    }
    out
}

/// modelgate's rendering of a call with constant arguments (`None`: not comparable).
fn render_call(m: &str, n: &str, args: &[Value]) -> Option<String> {
    let mut parts = Vec::new();
    for a in args {
        match a {
            Value::Bool(b) => parts.push(if *b { "True" } else { "False" }.to_string()),
            Value::Null => parts.push("None".into()),
            Value::Number(x) => {
                if let Some(i) = x.as_i64() {
                    parts.push(i.to_string());
                } else if x.as_u64().is_some() {
                    parts.push("<int>".into());
                } else {
                    return None; // floats render differently; not compared
                }
            }
            Value::String(s) => {
                if s.chars().count() > 300 {
                    return None;
                }
                parts.push(format!("{s:?}"));
            }
            _ => return None,
        }
    }
    let s = format!("{m}.{n}({})", parts.join(", "));
    (s.chars().count() <= 400).then_some(s)
}

/// (module, name) -> (rule, severity) as modelgate reports the global alone.
fn oracle(names: &BTreeSet<(String, String)>) -> HashMap<(String, String), (String, i32)> {
    let dir = tempfile::tempdir().expect("temp dir");
    let names: Vec<_> = names.iter().cloned().collect();
    for (i, (m, n)) in names.iter().enumerate() {
        let mut data = b"\x80\x04\x8d".to_vec();
        data.extend((m.len() as u64).to_le_bytes());
        data.extend(m.as_bytes());
        data.push(0x8d);
        data.extend((n.len() as u64).to_le_bytes());
        data.extend(n.as_bytes());
        data.extend(b"\x93.");
        std::fs::write(dir.path().join(format!("g{i:05}.pkl")), data).expect("write");
    }
    let rep = scan_dir(dir.path());
    let mut out = HashMap::new();
    for (i, (m, n)) in names.iter().enumerate() {
        let full = format!("{m}.{n}");
        let mut res = ("unclassified".to_string(), 0);
        if let Some(fr) = rep.get(&format!("g{i:05}.pkl")) {
            for fd in fr["findings"].as_array().into_iter().flatten() {
                let rule = fd["rule"].as_str().unwrap_or_default();
                let msg = fd["message"].as_str().unwrap_or_default();
                let s = sev(fd["severity"].as_str().unwrap_or("info"));
                if rule == "pickle-format"
                    && split_safe(fd["evidence"].as_str().unwrap_or_default())
                        .0
                        .contains(&full)
                {
                    res = ("safe".into(), sev("low"));
                } else if msg.contains(&format!("`{full}`"))
                    && rule.starts_with("pickle-")
                    && s > res.1
                {
                    res = (rule.to_string(), s);
                }
            }
        }
        out.insert((m.clone(), n.clone()), res);
    }
    out
}

type Tiers = HashMap<(String, String), (String, i32)>;

/// compare.py's `check_file`: the disagreements for one case, as (class, detail).
fn check_file(
    lines: &[&Value],
    fr: Option<&Value>,
    tiers: &Tiers,
    exts: &HashMap<(String, String), i64>,
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let Some(fr) = fr else {
        return vec![(
            "not-in-report".into(),
            "modelgate did not list the file".into(),
        )];
    };
    let empty = Vec::new();
    let findings = fr["findings"].as_array().unwrap_or(&empty);
    let status = fr["status"].as_str().unwrap_or_default();
    let rule = |f: &Value| f["rule"].as_str().unwrap_or_default().to_string();
    let msg = |f: &Value| f["message"].as_str().unwrap_or_default().to_string();
    let evid = |f: &Value| f["evidence"].as_str().unwrap_or_default().to_string();
    let fsev = |f: &Value| sev(f["severity"].as_str().unwrap_or("info"));
    let pickle_findings: Vec<&Value> = findings
        .iter()
        .filter(|f| rule(f).starts_with("pickle-"))
        .collect();
    let any_loads = lines.iter().any(|l| l["loads"].as_bool() == Some(true));
    if any_loads && (status != "scanned" || pickle_findings.is_empty()) {
        out.push(("skipped".into(), format!("status={status}")));
    }
    let worst = findings.iter().map(fsev).max().unwrap_or(0).max(0);
    let mut named: HashSet<String> = HashSet::new();
    let mut named_evidence: HashMap<String, Vec<String>> = HashMap::new();
    let mut reported_globals: BTreeSet<String> = BTreeSet::new();
    // Globals named by findings of the stream view (another loader's reading) and by
    // the contiguous view.
    let (mut stream_only, mut contiguous) = (BTreeSet::new(), BTreeSet::new());
    for f in findings {
        named.extend(backticked(&msg(f)));
        if let Some(g) = named_global(&msg(f)) {
            named_evidence.entry(g.clone()).or_default().push(evid(f));
            reported_globals.insert(g.clone());
            if msg(f).contains(STREAM_VIEW) {
                stream_only.insert(g);
            } else {
                contiguous.insert(g);
            }
        }
    }
    let (mut safe_listed, mut safe_cut) = (HashSet::new(), false);
    for f in findings {
        if rule(f) == "pickle-format" {
            let (s, c) = split_safe(&evid(f));
            safe_listed.extend(s);
            safe_cut |= c;
        }
    }
    let ext_reported: HashSet<i64> = findings
        .iter()
        .flat_map(|f| extension_codes(&format!("{} {}", evid(f), msg(f))))
        .collect();
    let dynamic = findings.iter().any(|f| rule(f) == "pickle-dynamic-import");
    if any_loads {
        for f in findings {
            match rule(f).as_str() {
                "pickle-malformed" => out.push(("malformed-on-valid".into(), msg(f))),
                "pickle-limit-reached" => out.push(("limit-on-valid".into(), msg(f))),
                "content-not-scanned" => out.push(("content-not-scanned".into(), msg(f))),
                _ => {}
            }
        }
    }
    let above_low = pickle_findings.iter().any(|f| fsev(f) > sev("low"));
    let mut truth_imports: BTreeSet<String> = BTreeSet::new();
    let unclassified = ("unclassified".to_string(), 0);
    for ln in lines {
        let loads = ln["loads"].as_bool() == Some(true);
        let imports = pairs(&ln["imports"]);
        // A load that failed still ran what it read before failing.
        if !loads && imports.is_empty() {
            continue;
        }
        let loader = ln["loader"].as_str().unwrap_or_default();
        let computed: HashSet<(String, String)> = pairs(&ln["computed"]).into_iter().collect();
        for (m, n) in &imports {
            truth_imports.insert(format!("{m}.{n}"));
        }
        let distinct: BTreeSet<(String, String)> = imports.iter().cloned().collect();
        for (m, n) in &distinct {
            let full = format!("{m}.{n}");
            let (trule, tsev) = tiers.get(&(m.clone(), n.clone())).unwrap_or(&unclassified);
            let by_name = named.contains(&full);
            let mut ok = if by_name {
                true
            } else if trule == "safe" {
                safe_listed.contains(&full) || safe_cut || above_low
            } else {
                false
            };
            if !ok {
                if let Some(code) = exts.get(&(m.clone(), n.clone())) {
                    ok = ext_reported.contains(code);
                }
            }
            if !ok && computed.contains(&(m.clone(), n.clone())) && dynamic {
                ok = true;
            }
            if !ok {
                let class = if trule == "safe" {
                    "missed-safe-import"
                } else {
                    "missed-import"
                };
                out.push((class.into(), format!("{full} [{trule}] via {loader}")));
            }
            if by_name && trule != "safe" && *tsev > worst {
                out.push((
                    "severity-too-low".into(),
                    format!("{full} is {trule} alone, file's worst is {worst}"),
                ));
            }
        }
        // Python 2 names that find_class maps (_compat_pickle) are judged by their target.
        for e in ln["effective"].as_array().into_iter().flatten() {
            let s = |i: usize| e[i].as_str().unwrap_or_default().to_string();
            let (r2, s2) = tiers.get(&(s(2), s(3))).unwrap_or(&unclassified);
            if r2 != "safe" && *s2 > worst {
                out.push((
                    "py2-alias-severity".into(),
                    format!(
                        "{}.{} is {}.{} ({r2}); file's worst is {worst}",
                        s(0),
                        s(1),
                        s(2),
                        s(3)
                    ),
                ));
            }
        }
        // calls
        let calls = ln["calls"].as_array().cloned().unwrap_or_default();
        let call_args = ln["call_args"].as_array().cloned();
        let mut called: BTreeMap<(String, String), Vec<Value>> = BTreeMap::new();
        // zip(calls, call_args): a shorter call_args drops the calls past its end.
        let n_calls = call_args
            .as_ref()
            .map_or(calls.len(), |ca| ca.len().min(calls.len()));
        for (i, c) in calls.iter().enumerate().take(n_calls) {
            let a = call_args
                .as_ref()
                .and_then(|ca| ca.get(i).cloned())
                .unwrap_or(Value::Null);
            let key = (
                c[0].as_str().unwrap_or_default().to_string(),
                c[1].as_str().unwrap_or_default().to_string(),
            );
            called.entry(key).or_default().push(a);
        }
        let computing: Vec<String> = COMPUTING.iter().map(|(m, n)| format!("{m}.{n}(")).collect();
        for ((m, n), argss) in &called {
            let full = format!("{m}.{n}");
            let (trule, _) = tiers.get(&(m.clone(), n.clone())).unwrap_or(&unclassified);
            if trule == "safe"
                || !reported_globals.contains(&full)
                || computed.contains(&(m.clone(), n.clone()))
            {
                continue;
            }
            let evs = named_evidence.get(&full).cloned().unwrap_or_default();
            if !evs.iter().any(|e| e.starts_with(&format!("{full}("))) {
                out.push((
                    "call-not-shown".into(),
                    format!("{full} called by the loader"),
                ));
                continue;
            }
            if evs
                .iter()
                .any(|e| computing.iter().any(|c| e.contains(c.as_str())))
            {
                continue; // modelgate shows the computation
            }
            let expected: Vec<String> = argss
                .iter()
                .filter_map(|a| a.as_array())
                .filter_map(|a| render_call(m, n, a))
                .collect();
            if !expected.is_empty()
                && expected.len() == argss.len()
                && !evs.iter().any(|e| expected.contains(e))
            {
                out.push((
                    "call-args-differ".into(),
                    format!(
                        "evidence {:?}, loader called {:?}",
                        evs.first(),
                        expected.first()
                    ),
                ));
            }
        }
    }
    let pickle_loader = lines.iter().any(|l| {
        l["loads"].as_bool() == Some(true)
            && l["loader"]
                .as_str()
                .unwrap_or_default()
                .starts_with("pickle")
    });
    if pickle_loader {
        let other_view: BTreeSet<String> = stream_only.difference(&contiguous).cloned().collect();
        for g in reported_globals
            .difference(&truth_imports)
            .filter(|g| !other_view.contains(*g))
        {
            out.push((
                "phantom-import".into(),
                format!("modelgate names `{g}`, the loader did not import it"),
            ));
        }
    }
    let nonsafe: BTreeSet<String> = lines
        .iter()
        .flat_map(|l| pairs(&l["imports"]))
        .filter(|k| tiers.get(k).is_some_and(|t| t.0 != "safe") || !tiers.contains_key(k))
        .map(|(m, n)| format!("{m}.{n}"))
        .collect();
    if !nonsafe.is_empty() && worst <= sev("low") {
        out.push((
            "verdict-pass".into(),
            format!("loader imported {nonsafe:?}; modelgate's worst finding is {worst}"),
        ));
    }
    out
}

fn extensions() -> HashMap<(String, String), i64> {
    // The EXTENSIONS table of gen_pickles.py (the recording process registered these).
    let src = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/differential/gen_pickles.py"),
    )
    .expect("gen_pickles.py");
    let start = src.find("EXTENSIONS = [").expect("EXTENSIONS table");
    let body = &src[start..src[start..].find("\n]").map(|e| start + e).expect("end")];
    let mut out = HashMap::new();
    for line in body.lines().skip(1) {
        let t = line.trim().trim_end_matches(',');
        let Some(t) = t.strip_prefix('(').and_then(|t| t.strip_suffix(')')) else {
            continue;
        };
        let parts: Vec<&str> = t.split(", ").collect();
        let [m, n, c] = parts[..] else { continue };
        let unq = |s: &str| s.trim_matches('"').to_string();
        let code = if let Some(h) = c.strip_prefix("0x") {
            i64::from_str_radix(h, 16).expect("hex code")
        } else {
            c.parse().expect("code")
        };
        out.insert((unq(m), unq(n)), code);
    }
    assert!(out.len() >= 6, "{out:?}");
    out
}

#[test]
fn committed_cases_agree_with_the_real_loaders() {
    let sets = [
        ("pickles", "pickles.jsonl"),
        ("zips", "zips.jsonl"),
        ("disagreements", "pickles.jsonl"),
        ("disagreements", "zips.jsonl"),
    ];
    let mut cases: Vec<(String, String, Vec<Value>)> = Vec::new();
    let mut names = BTreeSet::new();
    for (dir, file) in sets {
        for ln in truth(&root().join(dir).join(file)) {
            names.extend(pairs(&ln["imports"]));
            for e in ln["effective"].as_array().into_iter().flatten() {
                names.insert((
                    e[2].as_str().unwrap_or_default().to_string(),
                    e[3].as_str().unwrap_or_default().to_string(),
                ));
            }
            let f = ln["file"].as_str().expect("file").to_string();
            match cases.iter_mut().find(|c| c.0 == dir && c.1 == f) {
                Some(c) => c.2.push(ln),
                None => cases.push((dir.to_string(), f, vec![ln])),
            }
        }
    }
    assert!(cases.len() > 400, "only {} cases", cases.len());
    let tiers = oracle(&names);
    let exts = extensions();
    let mut reports: HashMap<&str, HashMap<String, Value>> = HashMap::new();
    for d in ["pickles", "zips", "disagreements"] {
        reports.insert(d, scan_dir(&root().join(d)));
    }
    let mut unexpected = Vec::new();
    let mut seen_known = HashSet::new();
    for (dir, file, lines) in &cases {
        let refs: Vec<&Value> = lines.iter().collect();
        let fr = reports[dir.as_str()].get(file);
        let key = format!("{dir}/{file}");
        for (class, detail) in check_file(&refs, fr, &tiers, &exts) {
            if KNOWN.iter().any(|(f, c, _)| *f == key && *c == class) {
                seen_known.insert((key.clone(), class));
            } else {
                unexpected.push(format!("{key}: {class}: {detail}"));
            }
        }
    }
    let stale: Vec<_> = KNOWN
        .iter()
        .filter(|(f, c, _)| !seen_known.contains(&(f.to_string(), c.to_string())))
        .collect();
    assert!(
        unexpected.is_empty() && stale.is_empty(),
        "{} disagreements with the real loaders:\n{}\nknown disagreements that no longer happen (remove them from KNOWN): {stale:?}",
        unexpected.len(),
        unexpected.join("\n")
    );
}

#[test]
fn the_check_fails_on_a_missed_payload() {
    // The comparison itself must be able to fail: a report without the payload's
    // finding is a missed import and a pass verdict.
    let line = serde_json::json!({
        "file": "x.pkl", "loader": "pickle.loads", "loads": true,
        "imports": [["posix", "system"]], "calls": [["posix", "system", "'x'"]],
        "call_args": [["x"]], "computed": []
    });
    let report = serde_json::json!({
        "status": "scanned", "findings": [
            {"rule": "pickle-format", "severity": "low", "message": "pickle with 0 known-safe global(s)", "evidence": "no globals"}
        ]
    });
    let mut tiers = Tiers::new();
    tiers.insert(
        ("posix".into(), "system".into()),
        ("pickle-code-execution".into(), 4),
    );
    let d = check_file(&[&line], Some(&report), &tiers, &HashMap::new());
    let classes: Vec<&str> = d.iter().map(|(c, _)| c.as_str()).collect();
    assert!(
        classes.contains(&"missed-import") && classes.contains(&"verdict-pass"),
        "{d:?}"
    );
    // And it passes when the finding is there, with the call shown.
    let report = serde_json::json!({
        "status": "scanned", "findings": [
            {"rule": "pickle-code-execution", "severity": "critical",
             "message": "GLOBAL `posix.system` (resolves to `os.system`): runs shell commands",
             "evidence": "posix.system(\"x\")"}
        ]
    });
    assert!(check_file(&[&line], Some(&report), &tiers, &HashMap::new()).is_empty());
}
