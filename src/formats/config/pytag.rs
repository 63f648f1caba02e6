//! PyYAML's Python tags: `!!python/object/apply:os.system [...]` calls the callable with
//! the node's arguments while the document is loaded, `!!python/object/new:` calls
//! `cls.__new__`, `!!python/object:` builds an instance and sets its state,
//! `!!python/name:` and `!!python/module:` import what they name. `yaml.unsafe_load`,
//! `yaml.load(..., Loader=yaml.Loader / UnsafeLoader)` construct them in every PyYAML
//! release, `yaml.load` without a Loader did before 5.1, and `yaml.full_load` /
//! `FullLoader` (what Lightning's `load_hparams_from_yaml` uses) did before 5.4
//! (CVE-2020-1747, CVE-2020-14343). OmegaConf and Hydra load with a safe loader and
//! refuse them. Tags are resolved and `%XX`-decoded by the tree, so `%TAG` handles,
//! verbatim `!<tag:yaml.org,2002:python/...>` and escapes are all seen.

use super::at;
use super::tree::Doc;
use crate::finding::{Finding, Location, Severity};
use crate::formats::pickle::globals::{classify, Tier};
use crate::rules::RuleId;
use crate::scan::Ctx;

const PREFIX: &str = "tag:yaml.org,2002:python/";
/// Python tags PyYAML builds plain data from.
const DATA: &[&str] = &[
    "none", "bool", "str", "unicode", "bytes", "int", "long", "float", "complex", "list", "tuple",
    "dict",
];
/// Findings per document.
const MAX: usize = 200;

/// Findings for the Python tags of `doc`.
pub fn findings(doc: &Doc, ctx: &Ctx, loc: &Location, out: &mut Vec<Finding>) {
    let mut n = 0;
    for node in &doc.nodes {
        let Some(tag) = node.tag.as_deref() else {
            continue;
        };
        let Some(rest) = tag.strip_prefix(PREFIX) else {
            continue;
        };
        let (kind, name) = rest.split_once(':').unwrap_or((rest, ""));
        if DATA.contains(&kind) {
            continue;
        }
        if n >= MAX {
            out.push(Finding::new(
                RuleId::YamlPythonTag,
                loc.clone(),
                "more Python tags in this YAML were not listed",
            ));
            return;
        }
        n += 1;
        let shown = crate::finding::shorten(name, 200);
        let (module, attr) = name.rsplit_once('.').unwrap_or((name, ""));
        let c = classify(module, attr, ctx.allow);
        let what = match kind {
            "object/apply" => "calls",
            "object/new" => "calls `__new__` of",
            "object" => "builds an instance of",
            "name" => "imports",
            "module" => "imports the module",
            _ => "constructs",
        };
        let calls = matches!(kind, "object/apply" | "object/new");
        let danger = match c.tier {
            Tier::Code => format!(", which {}", c.why),
            Tier::System => format!(", which {}", c.why),
            _ => String::new(),
        };
        let msg = format!(
            "a `!!python/{}` tag {what} `{shown}`{danger} while the YAML is loaded by yaml.unsafe_load / yaml.load(Loader=yaml.Loader), or by yaml.full_load with PyYAML before 5.4 (CVE-2020-1747, CVE-2020-14343); OmegaConf and Hydra refuse it",
            crate::finding::shorten(kind, 40)
        );
        let severity = match (c.tier, calls) {
            (Tier::Code, true) => Severity::Critical,
            (Tier::Code | Tier::System, _) | (_, true) => Severity::High,
            _ => Severity::Medium,
        };
        out.push(
            Finding::new(RuleId::YamlPythonTag, at(loc, node.pos), msg)
                .with_severity(severity)
                .with_evidence(format!("!!python/{}", crate::finding::shorten(rest, 200))),
        );
    }
}
