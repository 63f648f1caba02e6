//! Chat templates outside GGUF: `chat_template` in a `tokenizer_config.json` (a string,
//! or a list of `{"name", "template"}` that transformers picks from by name, e.g.
//! `tool_use` when tools are passed), a processor's `chat_template.json`
//! (`{"chat_template": ...}`), and `chat_template.jinja` files (transformers ≥ 4.50 writes
//! the template there, and `additional_chat_templates/*.jinja`). transformers renders them
//! in Jinja's `ImmutableSandboxedEnvironment`; runtimes that render them with a plain
//! `jinja2.Environment` (as llama-cpp-python did before 0.2.72, CVE-2024-34359) run what
//! a template reaches. The analysis is the GGUF one (`formats/jinja.rs`).

use super::tree::{Doc, Id, Kind, Pos};
use super::{at, template_rule};
use crate::finding::{Finding, Location, Severity};
use crate::formats::jinja;
use crate::rules::RuleId;

/// Templates analysed per file.
const MAX_TEMPLATES: usize = 64;

/// Findings for a template file (`.jinja`): lines are the template's own.
pub fn file_findings(text: &str, loc: &Location, out: &mut Vec<Finding>) {
    let name = loc.member.as_deref().unwrap_or(&loc.path);
    let name = name.rsplit(['/', '!']).next().unwrap_or(name).to_string();
    template(&name, text, Pos { line: 1, col: 1 }, true, loc, out);
}

/// Findings for the `chat_template` of a JSON/YAML document; returns how many templates
/// were found.
pub fn tree_findings(doc: &Doc, loc: &Location, out: &mut Vec<Finding>) -> usize {
    let mut n = 0;
    for &root in &doc.roots {
        if !doc.is_map(root) {
            continue;
        }
        for e in doc.all(root, "chat_template") {
            let v = doc.deref(e.value);
            match doc.node(v).map(|n| &n.kind) {
                Some(Kind::Scalar { .. }) => {
                    n += 1;
                    scalar_template(doc, e.value, "chat_template", loc, out);
                }
                Some(Kind::Seq(items)) => {
                    for (i, &item) in items.iter().enumerate() {
                        if n >= MAX_TEMPLATES {
                            break;
                        }
                        if !doc.is_map(item) {
                            continue;
                        }
                        let label = match doc.get(item, "name").and_then(|x| doc.scalar(x.value)) {
                            Some(name) => {
                                format!("chat_template `{}`", crate::finding::shorten(name, 60))
                            }
                            None => format!("chat_template[{i}]"),
                        };
                        if let Some(t) = doc.get(item, "template") {
                            n += 1;
                            scalar_template(doc, t.value, &label, loc, out);
                        }
                    }
                }
                // A mapping of name → template (how a tokenizer holds several in memory).
                Some(Kind::Map(_)) => {
                    for entry in doc.entries(v) {
                        if n >= MAX_TEMPLATES {
                            break;
                        }
                        if doc.scalar(entry.value).is_some() {
                            n += 1;
                            let label = format!(
                                "chat_template `{}`",
                                crate::finding::shorten(entry.key, 60)
                            );
                            scalar_template(doc, entry.value, &label, loc, out);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    n
}

fn scalar_template(doc: &Doc, value: Id, label: &str, loc: &Location, out: &mut Vec<Finding>) {
    let Some(text) = doc.scalar(value) else {
        return;
    };
    let Some(node) = doc.node(value) else {
        return;
    };
    // A block scalar's lines are the file's; a JSON string or a quoted YAML scalar is
    // located at its start.
    let block = matches!(
        doc.node(doc.deref(value)).map(|n| &n.kind),
        Some(Kind::Scalar { block: true, .. })
    ) && doc.deref(value) == value;
    // (The parser places a block scalar at its first content line.)
    let start = node.pos;
    template(label, text, start, block, loc, out);
}

/// 1-based line (from `start`) of byte `at` of `text`.
fn line_of(text: &str, at: usize, start: Pos, by_line: bool) -> Pos {
    if !by_line {
        return start;
    }
    let before = text.get(..at.min(text.len())).unwrap_or("");
    let extra = before.bytes().filter(|&b| b == b'\n').count();
    Pos {
        line: start
            .line
            .saturating_add(u32::try_from(extra).unwrap_or(u32::MAX)),
        col: 1,
    }
}

fn template(
    label: &str,
    text: &str,
    start: Pos,
    by_line: bool,
    loc: &Location,
    out: &mut Vec<Finding>,
) {
    let a = jinja::analyse(text);
    for sev in [Severity::Critical, Severity::High] {
        let hits: Vec<&jinja::Hit> = a.hits.iter().filter(|h| h.severity == sev).collect();
        let Some(first) = hits.iter().map(|h| h.at).min() else {
            continue;
        };
        let Some(rule) = template_rule(sev) else {
            continue;
        };
        let list = hits
            .iter()
            .map(|h| h.what.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        let msg = if sev == Severity::Critical {
            format!(
                "{label} reaches Python internals ({list}): a runtime that renders it outside Jinja's sandbox runs code (CVE-2024-34359); transformers' sandboxed rendering refuses it"
            )
        } else {
            format!(
                "{label} accesses attributes or items whose names are computed at render time ({list})"
            )
        };
        out.push(
            Finding::new(rule, at(loc, line_of(text, first, start, by_line)), msg)
                .with_evidence(crate::finding::shorten(&list, 500)),
        );
    }
    if let Some(why) = a.unparsed {
        out.push(Finding::new(
            RuleId::ContentNotScanned,
            at(loc, start),
            format!("{label} could not be fully parsed ({why}); only its tokens were checked"),
        ));
    }
}
