//! skops files (`skops.io.dump`): a zip whose `schema.json` describes the object tree
//! node by node. Each node names a type or function by `__module__` and `__class__`,
//! and its `__loader__` says what skops does with it: `ObjectNode` builds an instance of
//! the class, `ReduceNode` / `ConstructorFromReduceNode` call it with the node's
//! arguments, `FunctionNode` / `TypeNode` / `MethodNode` reference a function, type or
//! method (named again in `content`). skops 0.16.0 refuses anything outside its trusted
//! defaults unless the caller passes it in `trusted=` — and `get_untrusted_types` lists
//! exactly what to pass, which is how code ends up trusting a payload.
//!
//! Every name is judged with the pickle tables first (a callable that runs code is
//! critical, file or network access high), then against the types skops trusts by
//! default (`trusted.txt`) and the pickle allowlist; anything else is medium.

use crate::finding::{Finding, Location};
use crate::formats::config::tree::{self, Doc, Id, Kind};
use crate::formats::pickle::globals::{classify, Tier};
use crate::formats::zip::{self, Archive, Claimed, ZipLayout};
use crate::rules::RuleId;
use crate::scan::Ctx;
use crate::source::ByteSource;

/// A skops archive (recognised by its `schema.json`, under any file name).
pub static ZIP_LAYOUT: ZipLayout = ZipLayout {
    label: Some("skops"),
    extracts: false,
    claim,
    raw_member: |_| false,
};

/// Largest schema read.
const MAX_SCHEMA: u64 = 64 << 20;
const MAX_NODES: usize = 4_000_000;
const MAX_DEPTH: usize = 1024;
/// Findings per schema; more are counted in one.
const MAX_FINDINGS: usize = 200;

fn claim(
    src: &dyn ByteSource,
    arc: &Archive,
    ctx: &Ctx,
    loc: &Location,
    out: &mut Vec<Finding>,
) -> Option<Claimed> {
    let entry = arc.entries.iter().rev().find(|e| e.name == "schema.json")?;
    let mloc = loc.member("schema.json");
    let max = MAX_SCHEMA.min(ctx.limits.max_member_size);
    let Some(json) = zip::read_member(src, arc, entry, max) else {
        // Not known to be skops: only say so when the name makes it likely.
        let named = loc.path.to_ascii_lowercase().ends_with(".skops");
        if named {
            out.push(Finding::new(
                RuleId::ContentNotScanned,
                mloc,
                format!("the skops schema.json could not be read (unsupported compression, damaged, or over {max} bytes)"),
            ));
            return Some(Claimed { consumed: None });
        }
        return None;
    };
    let text = String::from_utf8_lossy(&json);
    let doc = match tree::parse(&text, MAX_NODES, MAX_DEPTH) {
        Ok(d) => d,
        Err(e) => {
            if !looks_like_schema(&text) {
                return None;
            }
            out.push(Finding::new(
                RuleId::ContentNotScanned,
                Location {
                    line: Some(e.pos.line.max(1)),
                    column: Some(e.pos.col.max(1)),
                    ..mloc
                },
                format!(
                    "the skops schema.json is not JSON modelgate can parse ({}); it was not checked",
                    crate::finding::shorten(&e.msg, 200)
                ),
            ));
            return Some(Claimed {
                consumed: Some(entry.local_offset),
            });
        }
    };
    let root = *doc.roots.first()?;
    if doc.get(root, "__loader__").is_none()
        || (doc.get(root, "protocol").is_none() && doc.get(root, "_skops_version").is_none())
    {
        return None;
    }
    scan_schema(&doc, ctx, &mloc, out);
    Some(Claimed {
        consumed: Some(entry.local_offset),
    })
}

fn looks_like_schema(text: &str) -> bool {
    text.contains("\"__loader__\"") && text.contains("\"protocol\"")
}

struct Table {
    exact: Vec<&'static str>,
    prefixes: Vec<&'static str>,
}

fn trusted() -> &'static Table {
    static T: std::sync::OnceLock<Table> = std::sync::OnceLock::new();
    T.get_or_init(|| {
        let mut t = Table {
            exact: Vec::new(),
            prefixes: Vec::new(),
        };
        for line in include_str!("trusted.txt").lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let name = line.split_whitespace().next().unwrap_or(line);
            if name.ends_with('.') {
                t.prefixes.push(name);
            } else {
                t.exact.push(name);
            }
        }
        t
    })
}

/// Whether skops trusts `full` by default. A node that calls what it names with the
/// schema's arguments (`ReduceNode`, `ConstructorFromReduceNode`) is trusted only for an
/// exact entry: a prefix such as `numpy.` covers arrays and dtypes, not every numpy
/// function (`numpy.lib._datasource.open` reads a URL).
fn is_trusted(full: &str, calls: bool) -> bool {
    let t = trusted();
    t.exact.contains(&full) || (!calls && t.prefixes.iter().any(|p| full.starts_with(p)))
}

/// Judges every node of a parsed schema.
pub fn scan_schema(doc: &Doc, ctx: &Ctx, loc: &Location, out: &mut Vec<Finding>) {
    let mut stack: Vec<Id> = doc.roots.clone();
    let mut listed = 0usize;
    let mut dropped = 0usize;
    let mut visits = 0usize;
    while let Some(id) = stack.pop() {
        visits += 1;
        if visits > MAX_NODES {
            out.push(Finding::new(
                RuleId::ContentNotScanned,
                loc.clone(),
                "the skops schema is larger than the walk's budget; the rest was not checked",
            ));
            break;
        }
        let Some(node) = doc.node(id) else { continue };
        match &node.kind {
            Kind::Map(items) => {
                for f in node_findings(doc, id, ctx, loc) {
                    if listed < MAX_FINDINGS {
                        out.push(f);
                        listed += 1;
                    } else {
                        dropped += 1;
                    }
                }
                // Children in reverse so that findings come out in document order.
                for &(_, v) in items.iter().rev() {
                    stack.push(v);
                }
            }
            Kind::Seq(items) => stack.extend(items.iter().rev()),
            _ => {}
        }
    }
    if dropped > 0 {
        out.push(Finding::new(
            RuleId::SkopsUnknownType,
            loc.clone(),
            format!("{dropped} more findings in this skops schema were not listed"),
        ));
    }
}

/// The names one node makes skops look up: its `__module__`.`__class__`, and for
/// function, type and method nodes the ones in `content`.
fn node_findings(doc: &Doc, id: Id, ctx: &Ctx, loc: &Location) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(loader) = doc.get(id, "__loader__").and_then(|e| doc.scalar(e.value)) else {
        return out;
    };
    let text = |k: &str| doc.get(id, k).and_then(|e| doc.scalar(e.value));
    let pos_of = |k: &str| {
        doc.get(id, k)
            .and_then(|e| doc.node(e.value))
            .map(|n| n.pos)
            .unwrap_or_else(|| doc.node(id).map(|n| n.pos).unwrap_or_default())
    };
    let mut names: Vec<(String, String, tree::Pos)> = Vec::new();
    if let (Some(m), Some(c)) = (text("__module__"), text("__class__")) {
        names.push((m.to_string(), c.to_string(), pos_of("__class__")));
    }
    if let Some(content) = doc.get(id, "content").map(|e| e.value) {
        if doc.is_map(content) {
            let ctext = |k: &str| doc.get(content, k).and_then(|e| doc.scalar(e.value));
            let cpos = |k: &str| {
                doc.get(content, k)
                    .and_then(|e| doc.node(e.value))
                    .map(|n| n.pos)
                    .unwrap_or_default()
            };
            // FunctionNode: {"module_path", "function"}; TypeNode: {"__module__",
            // "__class__"}; MethodNode: {"func", "obj"} (the object is a node of its own).
            if let (Some(m), Some(f)) = (ctext("module_path"), ctext("function")) {
                names.push((m.to_string(), f.to_string(), cpos("function")));
            }
            if loader == "TypeNode" {
                if let (Some(m), Some(c)) = (ctext("__module__"), ctext("__class__")) {
                    names.push((m.to_string(), c.to_string(), cpos("__class__")));
                }
            }
        }
    }
    for (m, c, pos) in names {
        if let Some(f) = judge(&m, &c, loader, ctx, loc, pos) {
            if !out.iter().any(|x: &Finding| x.evidence == f.evidence) {
                out.push(f);
            }
        }
    }
    out
}

fn judge(
    module: &str,
    name: &str,
    loader: &str,
    ctx: &Ctx,
    loc: &Location,
    pos: tree::Pos,
) -> Option<Finding> {
    let full = format!("{module}.{name}");
    let c = classify(module, name, ctx.allow);
    let shown = crate::finding::shorten(c.resolved.as_deref().unwrap_or(&full), 200);
    let how = match loader {
        "ReduceNode" | "ConstructorFromReduceNode" => "calls it with the node's arguments",
        "ObjectNode" => "builds an instance of it",
        "FunctionNode" | "PartialNode" => "loads it as a function the model calls",
        "MethodNode" => "loads a method of it",
        "TypeNode" => "loads it as a type",
        _ => "looks it up",
    };
    let at = Location {
        line: Some(pos.line.max(1)),
        column: Some(pos.col.max(1)),
        ..loc.clone()
    };
    let (rule, msg) = match c.tier {
        Tier::Code => (
            RuleId::SkopsCodeExecution,
            format!("a `{loader}` names `{shown}`, which {}: skops.io.load {how} once the type is trusted (trusted=get_untrusted_types(...) lists it)", c.why),
        ),
        Tier::System | Tier::Dynamic => (
            RuleId::SkopsSystemAccess,
            format!("a `{loader}` names `{shown}`, which {}: skops.io.load {how} once the type is trusted", c.why),
        ),
        Tier::Safe => return None,
        Tier::Unknown => {
            let calls = matches!(loader, "ReduceNode" | "ConstructorFromReduceNode");
            if is_trusted(&full, calls) {
                return None;
            }
            (
                RuleId::SkopsUnknownType,
                format!("a `{loader}` names `{shown}`, which skops does not trust by default: loading needs it in trusted=, and skops.io.load then {how}"),
            )
        }
    };
    Some(Finding::new(rule, at, msg).with_evidence(shown))
}

#[cfg(test)]
mod tests;
