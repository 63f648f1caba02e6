//! Behaviours of analysed Python source as findings, at the line and column of the shipped
//! file (or archive member, or code string).

use super::analyze::{Analysis, Behaviour, Kind};
use crate::finding::{shorten, Finding, Location};
use crate::rules::RuleId;

/// Most behaviour findings listed for one source.
pub const MAX_PER_SOURCE: usize = 500;

/// The rule for a behaviour: full severity when it runs at load time, one level lower when
/// it runs only once a function is called after the load.
pub fn rule_for(b: &Behaviour) -> RuleId {
    match (b.kind.executes(), b.load_time) {
        (true, true) => RuleId::PythonCodeExecution,
        (false, true) => RuleId::PythonSystemAccess,
        (true, false) => RuleId::PythonDeferredExecution,
        (false, false) => RuleId::PythonDeferredAccess,
    }
}

/// One finding per behaviour. `at(line, column)` gives the location in the source;
/// `when` says what runs the code ("imported by `from_pretrained(trust_remote_code=True)`").
pub fn behaviour_findings(
    a: &Analysis,
    at: &dyn Fn(u32, u32) -> Location,
    when: &str,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for b in &a.behaviours {
        let what = b.what.strip_prefix("builtins.").unwrap_or(&b.what);
        let timing = if b.load_time {
            format!("at load time ({}; {when})", b.scope.describe())
        } else if b.scope == super::analyze::Scope::Deferred {
            format!("in a lambda or an `if __name__ == \"__main__\"` block, which runs only when called or run as a script ({when})")
        } else {
            format!(
                "when {} is called after loading ({when})",
                b.scope.describe()
            )
        };
        let mut msg = format!("`{what}` {} {timing}", b.kind.describe());
        if let Some(n) = &b.note {
            msg.push_str(&format!(": {}", shorten(n, 400)));
        }
        out.push(
            Finding::new(rule_for(b), at(b.line, b.column), msg)
                .with_evidence(shorten(&b.evidence, 300)),
        );
    }
    if out.len() > MAX_PER_SOURCE {
        let total = out.len();
        // Stable: the most severe first, in source order among equals.
        out.sort_by_key(|f| std::cmp::Reverse(f.severity));
        out.truncate(MAX_PER_SOURCE);
        out.sort_by_key(|f| (f.location.line, f.location.column));
        out.push(Finding::new(
            RuleId::FindingsTruncated,
            at(1, 1),
            format!(
                "{total} behaviours found in this source; the {MAX_PER_SOURCE} most severe are listed"
            ),
        ));
    }
    if a.truncated {
        out.push(Finding::new(
            RuleId::ContentNotScanned,
            at(1, 1),
            format!(
                "source longer than {} bytes, nested deeper than the parser is allowed to go ({} brackets, {} indentation levels, {} chained operators: then none of it is parsed) or beyond the analysis budget: only part of it was analysed",
                super::analyze::MAX_SOURCE,
                super::analyze::MAX_NESTING,
                super::analyze::MAX_INDENT,
                super::analyze::MAX_CHAIN
            ),
        ));
    }
    out
}

/// Short list of what a source does, for messages about the file that imports it.
pub fn summary(a: &Analysis) -> String {
    let kinds = |load: bool| {
        let mut k: Vec<Kind> = a
            .behaviours
            .iter()
            .filter(|b| b.load_time == load)
            .map(|b| b.kind)
            .collect();
        k.sort();
        k.dedup();
        k.iter()
            .map(|k| k.describe())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (now, later) = (kinds(true), kinds(false));
    match (now.is_empty(), later.is_empty()) {
        (true, true) => "no process, code, network, file-write or secret access found".into(),
        (false, true) => now,
        (true, false) => {
            format!("at load time nothing found; when its functions are called: {later}")
        }
        (false, false) => format!("{now}; when its functions are called: {later}"),
    }
}
