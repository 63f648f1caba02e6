//! Model references in the project's configs (SPEC §8): YAML and JSON (through the
//! position-keeping tree of `formats::config::tree`, so anchors, merge keys and escaped
//! keys are seen as a loader sees them) and TOML (`toml_edit`, with spans). A map entry
//! whose key is one of [`KEYS`] and whose value is a Hub repository id (`owner/name`) is a
//! reference, at the value's line and column; the map's `revision` (or `model_revision`,
//! `<stem>_revision`) pins it, and a true `trust_remote_code` beside it means the loader
//! runs the repository's code. Hydra and Lightning configs name their models with the same
//! keys (`pretrained_model_name_or_path` under a `_target_`, `init_args.model_name_or_path`).
//!
//! Only `owner/name` values count: in a config a bare word (`gpt2`, `resnet50`) is as often
//! a library's own model name as a Hub id, and a false alarm here fails ordinary builds.
//! Interpolations (`${oc.env:MODEL}`) are `model-ref-dynamic`.

use std::ops::Range;

use crate::finding::{Finding, Location};
use crate::formats::config::tree::{self, Doc, Kind};
use crate::rules::RuleId;

use super::{check_reference, Downloads, Reference, Rev};

/// Keys whose value names the model (or tokenizer) a training or serving config loads.
pub const KEYS: &[&str] = &[
    "model_name_or_path",
    "pretrained_model_name_or_path",
    "base_model",
    "tokenizer_name",
    "tokenizer_name_or_path",
];

/// Nodes visited per YAML document (aliases can make a walk revisit the anchored node).
const MAX_VISITS: usize = 200_000;
/// Nesting followed.
const MAX_DEPTH: usize = 128;
/// Nodes and nesting of a config parsed only for its references.
const PARSE_NODES: usize = 2_000_000;
const PARSE_DEPTH: usize = 512;

/// A scalar of a config, as the loader reads it, and where it is.
#[derive(Debug, Clone)]
enum Scalar {
    Str(String),
    Bool(bool),
    Other,
}

/// One map of a config, reduced to what the analysis needs: its scalar entries with the
/// position of each value.
struct Map {
    entries: Vec<(String, Scalar, (u32, u32))>,
}

impl Map {
    fn get(&self, key: &str) -> Option<&(String, Scalar, (u32, u32))> {
        self.entries.iter().rev().find(|(k, _, _)| k == key)
    }
}

fn yaml_scalar(text: &str, plain: bool) -> Scalar {
    if plain {
        match text {
            "true" | "True" | "TRUE" | "yes" | "Yes" | "on" | "On" => return Scalar::Bool(true),
            "false" | "False" | "FALSE" | "no" | "No" | "off" | "Off" => {
                return Scalar::Bool(false)
            }
            "null" | "Null" | "NULL" | "~" | "" => return Scalar::Other,
            _ => {}
        }
    }
    Scalar::Str(text.to_string())
}

/// The maps of a YAML/JSON document (every map, at any depth, through aliases, bounded).
fn yaml_maps(doc: &Doc) -> Vec<Map> {
    let mut out = Vec::new();
    let mut visits = 0usize;
    let mut seen = std::collections::HashSet::new();
    let mut stack: Vec<(tree::Id, usize)> = doc.roots.iter().map(|&r| (r, 0)).collect();
    while let Some((id, depth)) = stack.pop() {
        visits += 1;
        if visits > MAX_VISITS || depth > MAX_DEPTH {
            break;
        }
        let id = doc.deref(id);
        // Each node once: aliases make cycles and repeat anchored maps.
        if !seen.insert(id) {
            continue;
        }
        let Some(node) = doc.node(id) else { continue };
        match &node.kind {
            Kind::Map(_) => {
                let mut map = Map {
                    entries: Vec::new(),
                };
                for e in doc.entries(id) {
                    let v = doc.deref(e.value);
                    let Some(vn) = doc.node(v) else { continue };
                    match &vn.kind {
                        Kind::Scalar { text, plain, .. } => map.entries.push((
                            e.key.to_string(),
                            yaml_scalar(text, *plain),
                            (vn.pos.line.max(1), vn.pos.col.max(1)),
                        )),
                        _ => stack.push((v, depth + 1)),
                    }
                }
                out.push(map);
            }
            Kind::Seq(items) => stack.extend(items.iter().map(|&i| (i, depth + 1))),
            _ => {}
        }
    }
    out
}

/// 1-based (line, column) of byte `offset` in `text`.
fn line_col(text: &str, offset: usize) -> (u32, u32) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(col).unwrap_or(u32::MAX),
    )
}

/// The maps of a TOML document: every table, inline table and array of tables.
fn toml_maps(text: &str, doc: &toml_edit::Document<&str>) -> Vec<Map> {
    fn pos(text: &str, span: Option<Range<usize>>) -> (u32, u32) {
        span.map_or((1, 1), |s| line_col(text, s.start))
    }
    fn value(v: &toml_edit::Value) -> Scalar {
        match v {
            toml_edit::Value::String(s) => Scalar::Str(s.value().clone()),
            toml_edit::Value::Boolean(b) => Scalar::Bool(*b.value()),
            _ => Scalar::Other,
        }
    }
    enum T<'a> {
        Table(&'a toml_edit::Table),
        Inline(&'a toml_edit::InlineTable),
        Array(&'a toml_edit::Array),
    }
    fn push_value<'a>(
        text: &str,
        k: &str,
        v: &'a toml_edit::Value,
        depth: usize,
        map: &mut Map,
        stack: &mut Vec<(T<'a>, usize)>,
    ) {
        match v {
            toml_edit::Value::InlineTable(t) => stack.push((T::Inline(t), depth + 1)),
            toml_edit::Value::Array(a) => stack.push((T::Array(a), depth + 1)),
            v => map
                .entries
                .push((k.to_string(), value(v), pos(text, v.span()))),
        }
    }
    let mut out = Vec::new();
    let mut stack = vec![(T::Table(doc.as_table()), 0usize)];
    let mut visits = 0usize;
    while let Some((t, depth)) = stack.pop() {
        visits += 1;
        if visits > MAX_VISITS || depth > MAX_DEPTH {
            break;
        }
        let mut map = Map {
            entries: Vec::new(),
        };
        match t {
            T::Table(t) => {
                for (k, item) in t.iter() {
                    match item {
                        toml_edit::Item::Value(v) => {
                            push_value(text, k, v, depth, &mut map, &mut stack)
                        }
                        toml_edit::Item::Table(t) => stack.push((T::Table(t), depth + 1)),
                        toml_edit::Item::ArrayOfTables(a) => {
                            stack.extend(a.iter().map(|t| (T::Table(t), depth + 1)))
                        }
                        toml_edit::Item::None => {}
                    }
                }
            }
            T::Inline(t) => {
                for (k, v) in t.iter() {
                    push_value(text, k, v, depth, &mut map, &mut stack);
                }
            }
            T::Array(a) => {
                for v in a.iter() {
                    match v {
                        toml_edit::Value::InlineTable(t) => stack.push((T::Inline(t), depth + 1)),
                        toml_edit::Value::Array(a) => stack.push((T::Array(a), depth + 1)),
                        _ => {}
                    }
                }
            }
        }
        out.push(map);
    }
    out
}

/// The revision keys of a map that pin the model `key` names.
fn revision_of<'m>(map: &'m Map, key: &str) -> Option<&'m (String, Scalar, (u32, u32))> {
    let stem = key
        .strip_suffix("_name_or_path")
        .or_else(|| key.strip_suffix("_name"))
        .unwrap_or(key);
    let own = format!("{stem}_revision");
    map.get(&own)
        .or_else(|| map.get("revision"))
        .or_else(|| map.get("model_revision"))
}

fn is_interpolation(s: &str) -> bool {
    s.contains("${") || s.contains("{{")
}

/// Findings and references of the maps of one config.
fn analyse(maps: &[Map], path: &str, trusted: &[String]) -> (Vec<Finding>, Vec<Reference>) {
    let mut out = Vec::new();
    let mut refs = Vec::new();
    for map in maps {
        for (key, value, (line, col)) in &map.entries {
            if !KEYS.contains(&key.as_str()) {
                continue;
            }
            let Scalar::Str(id) = value else { continue };
            let loc = Location::text(path, *line, *col);
            let evidence = format!("{key}: {id}");
            if is_interpolation(id) {
                out.push(
                    Finding::new(
                        RuleId::ModelRefDynamic,
                        loc,
                        format!("`{key}` names a model through an interpolation (`{id}`): which repository it pulls cannot be checked"),
                    )
                    .with_evidence(evidence),
                );
                continue;
            }
            // owner/name only (see the module documentation).
            if id.split('/').count() != 2 {
                continue;
            }
            let rev = match revision_of(map, key).map(|(_, v, _)| v) {
                None | Some(Scalar::Other) => Rev::Absent,
                Some(Scalar::Str(r)) if is_interpolation(r) => Rev::Dynamic,
                Some(Scalar::Str(r)) => Rev::Const(r),
                Some(Scalar::Bool(_)) => Rev::Dynamic,
            };
            let remote_code = matches!(
                map.get("trust_remote_code").map(|(_, v, _)| v),
                Some(Scalar::Bool(true))
            ) || matches!(
                map.get("trust_remote_code").map(|(_, v, _)| v),
                Some(Scalar::Str(s)) if s.eq_ignore_ascii_case("true")
            );
            let fix = format!("set `revision: <commit sha of {id}>` beside `{key}`");
            let Some(mut r) =
                check_reference(id, rev, key, &evidence, &fix, &loc, trusted, &mut out)
            else {
                continue;
            };
            if remote_code {
                out.push(
                    Finding::new(
                        RuleId::ModelRefRemoteCode,
                        loc.clone(),
                        format!("`{key}` pulls `{id}` with `trust_remote_code: true`: the repository's Python files run on load"),
                    )
                    .with_evidence(evidence.clone()),
                );
            }
            r.downloads = Downloads::Model { remote_code };
            refs.push(r);
        }
    }
    (out, refs)
}

/// Whether a file name is a config whose references are read.
pub fn is_config_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".yaml", ".yml", ".json", ".toml"]
        .iter()
        .any(|e| lower.ends_with(e))
}

/// Whether the bytes mention one of [`KEYS`] (a cheap test before parsing; escapes in
/// keys are decoded by `formats::config`'s searcher, which the YAML/JSON route uses).
pub fn mentions_key(text: &[u8]) -> bool {
    crate::formats::config::mentions_model_key(text)
}

/// Findings and references of a YAML/JSON document already parsed.
pub fn doc_analysis(doc: &Doc, path: &str, trusted: &[String]) -> (Vec<Finding>, Vec<Reference>) {
    analyse(&yaml_maps(doc), path, trusted)
}

/// A config that does not parse: the parser's message and (line, column).
pub type ParseError = (String, (u32, u32));

/// Findings and references of a config file's text (YAML, JSON or TOML by name). A config
/// that does not parse gives `Err` with the parser's message and position.
pub fn text_analysis(
    text: &str,
    path: &str,
    trusted: &[String],
) -> Result<(Vec<Finding>, Vec<Reference>), ParseError> {
    if path.to_ascii_lowercase().ends_with(".toml") {
        let doc = toml_edit::Document::parse(text).map_err(|e| {
            let at = e.span().map_or((1, 1), |s| line_col(text, s.start));
            (e.message().to_string(), at)
        })?;
        return Ok(analyse(&toml_maps(text, &doc), path, trusted));
    }
    let doc = tree::parse(text, PARSE_NODES, PARSE_DEPTH)
        .map_err(|e| (e.msg, (e.pos.line.max(1), e.pos.col.max(1))))?;
    Ok(doc_analysis(&doc, path, trusted))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(path: &str, text: &str) -> (Vec<Finding>, Vec<Reference>) {
        text_analysis(text, path, &[]).expect("parses")
    }

    #[test]
    fn yaml_keys_with_and_without_revision() {
        let (f, r) = refs(
            "train.yaml",
            "model:\n  model_name_or_path: acme/base\n  revision: main\ntokenizer_name: acme/tok\ntokenizer_revision: 0123456789abcdef0123456789abcdef01234567\n",
        );
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].repo, "acme/tok");
        let unpinned: Vec<_> = f
            .iter()
            .filter(|x| x.rule == RuleId::ModelRefUnpinned)
            .collect();
        assert_eq!(unpinned.len(), 1, "{f:#?}");
        assert_eq!(unpinned[0].location.line, Some(2));
        assert_eq!(unpinned[0].location.column, Some(23));
        assert!(unpinned[0].message.contains("`main`"));
    }

    #[test]
    fn merge_keys_escapes_and_json_are_seen() {
        let (f, r) = refs(
            "c.yaml",
            "base: &b\n  trust_remote_code: true\nrun:\n  <<: *b\n  \"model\\x5fname_or_path\": acme/m\n",
        );
        assert_eq!(r.len(), 1);
        assert!(f.iter().any(|x| x.rule == RuleId::ModelRefRemoteCode));
        assert_eq!(r[0].downloads, Downloads::Model { remote_code: true });
        let (_, r) = refs(
            "c.json",
            "{\"base_model\": \"acme/j\", \"revision\": \"v1\"}",
        );
        assert_eq!(r[0].revision.as_deref(), Some("v1"));
    }

    #[test]
    fn toml_tables_and_inline_tables() {
        let (f, r) = refs(
            "pyproject.toml",
            "[tool.train]\nmodel_name_or_path = \"acme/t\"\n\n[[runs]]\nx = { base_model = \"acme/u\", revision = \"0123456789abcdef0123456789abcdef01234567\" }\n",
        );
        let mut repos: Vec<&str> = r.iter().map(|r| r.repo.as_str()).collect();
        repos.sort_unstable();
        assert_eq!(repos, ["acme/t", "acme/u"]);
        let unpinned: Vec<_> = f
            .iter()
            .filter(|x| x.rule == RuleId::ModelRefUnpinned)
            .collect();
        assert_eq!(unpinned.len(), 1);
        assert_eq!(unpinned[0].location.line, Some(2));
        assert_eq!(unpinned[0].location.column, Some(22));
    }

    #[test]
    fn bare_words_local_paths_and_interpolations() {
        let (f, r) = refs(
            "c.yaml",
            "a:\n  model_name_or_path: gpt2\nb:\n  model_name_or_path: ./checkpoints/run1\nc:\n  base_model: ${oc.env:BASE}\nd:\n  model_name_or_path: null\n",
        );
        assert!(r.is_empty(), "{r:#?}");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].rule, RuleId::ModelRefDynamic);
        assert_eq!(f[0].location.line, Some(6));
    }

    #[test]
    fn the_cheap_search_finds_every_key() {
        for k in KEYS {
            assert!(mentions_key(k.as_bytes()), "{k}");
        }
        assert!(!mentions_key(b"{\"_name_or_path\": \"acme/x\"}"));
    }

    #[test]
    fn alias_cycles_are_bounded() {
        let (_, r) = refs("c.yaml", "a: &a\n  - *a\n  - model_name_or_path: acme/x\n");
        assert_eq!(r.len(), 1);
    }
}
