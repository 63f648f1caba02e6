//! YAML (and JSON, which YAML 1.2 contains) read into a tree of nodes that keep where they
//! were written, with the YAML parser's events (`saphyr-parser`), never by pattern.
//!
//! What the tree keeps as written, because a loader sees through it and so must the
//! analysis: anchors and aliases (an alias is a node of its own, at the place it is used,
//! pointing at the anchored node), merge keys (`<<`, resolved by [`Doc::entries`] the way
//! PyYAML does: explicit keys first, then merged maps in order), quoted and escaped
//! scalars (the parser decodes `"_tar\x67et_"` and JSON's `\u0067`). An anchor is
//! registered when its node starts, as PyYAML's composer does, so an alias inside the
//! anchored node makes a cycle: walks over aliases must bound themselves (they do, see
//! [`Doc::deref`] and the callers' budgets).
//!
//! Bounded: at most `max_nodes` nodes and `max_depth` nesting; past either the parse
//! stops with an error (a finding for the caller, never a partial tree taken as clean).

use std::borrow::Cow;
use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle};

/// Where a node starts: 1-based line and column (characters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

pub type Id = usize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A scalar as the loader decodes it (escapes applied); `plain` for an unquoted one
    /// (only a plain `<<` is a merge key).
    Scalar {
        text: String,
        plain: bool,
        block: bool,
    },
    Seq(Vec<Id>),
    /// Entries in document order (duplicates kept).
    Map(Vec<(Id, Id)>),
    /// An alias (`*name`), at the place it is used, to the anchored node.
    Alias(Id),
}

#[derive(Debug, Clone)]
pub struct Node {
    pub kind: Kind,
    pub pos: Pos,
    /// The node's tag, resolved (`!!str` is `tag:yaml.org,2002:str`) and with `%XX`
    /// escapes decoded, as PyYAML's constructors see it.
    pub tag: Option<String>,
}

/// One parsed stream: every document's root, in order.
#[derive(Debug, Default)]
pub struct Doc {
    pub nodes: Vec<Node>,
    pub roots: Vec<Id>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub msg: String,
    pub pos: Pos,
}

/// Merge levels followed (`<<` of a map that itself merges another).
const MAX_MERGE_DEPTH: usize = 16;
/// Aliases followed in a row by [`Doc::deref`].
const MAX_ALIAS_CHAIN: usize = 64;

enum Frame {
    Seq(Id),
    /// The map and the key waiting for its value.
    Map(Id, Option<Id>),
}

fn pos_of(m: &saphyr_parser::Marker) -> Pos {
    Pos {
        line: u32::try_from(m.line()).unwrap_or(u32::MAX),
        col: u32::try_from(m.col() + 1).unwrap_or(u32::MAX),
    }
}

/// Parses `text` (every document of the stream).
pub fn parse(text: &str, max_nodes: usize, max_depth: usize) -> Result<Doc, Error> {
    let mut doc = Doc::default();
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, Id> = HashMap::new();
    let mut parser = Parser::new_from_str(text);
    let mut last = Pos::default();
    while let Some(ev) = parser.next_event() {
        let (ev, span) = ev.map_err(|e| Error {
            msg: e.info().to_string(),
            pos: pos_of(e.marker()),
        })?;
        let pos = pos_of(&span.start);
        last = pos;
        let new = match ev {
            Event::StreamStart | Event::StreamEnd | Event::Nothing => None,
            Event::DocumentStart(_) => {
                anchors.clear();
                None
            }
            Event::DocumentEnd => None,
            Event::Scalar(text, style, anchor, tag) => Some((
                Kind::Scalar {
                    plain: style == ScalarStyle::Plain,
                    block: matches!(style, ScalarStyle::Literal | ScalarStyle::Folded),
                    text: match text {
                        Cow::Borrowed(s) => s.to_string(),
                        Cow::Owned(s) => s,
                    },
                },
                anchor,
                false,
                tag.map(|t| full_tag(&t)),
            )),
            Event::Alias(anchor) => {
                let Some(&target) = anchors.get(&anchor) else {
                    return Err(Error {
                        msg: "alias to an unknown anchor".into(),
                        pos,
                    });
                };
                Some((Kind::Alias(target), 0, false, None))
            }
            Event::SequenceStart(anchor, tag) => Some((
                Kind::Seq(Vec::new()),
                anchor,
                true,
                tag.map(|t| full_tag(&t)),
            )),
            Event::MappingStart(anchor, tag) => Some((
                Kind::Map(Vec::new()),
                anchor,
                true,
                tag.map(|t| full_tag(&t)),
            )),
            Event::SequenceEnd | Event::MappingEnd => {
                let closed = match stack.pop() {
                    Some(Frame::Seq(id)) | Some(Frame::Map(id, _)) => id,
                    None => {
                        return Err(Error {
                            msg: "unbalanced collection end".into(),
                            pos,
                        })
                    }
                };
                attach(&mut doc, &mut stack, closed);
                None
            }
        };
        let Some((kind, anchor, opens, tag)) = new else {
            continue;
        };
        if doc.nodes.len() >= max_nodes {
            return Err(Error {
                msg: format!("more than {max_nodes} nodes"),
                pos,
            });
        }
        let id = doc.nodes.len();
        let seq = matches!(kind, Kind::Seq(_));
        doc.nodes.push(Node { kind, pos, tag });
        if anchor != 0 {
            anchors.insert(anchor, id);
        }
        if opens {
            if stack.len() >= max_depth {
                return Err(Error {
                    msg: format!("nested deeper than {max_depth} levels"),
                    pos,
                });
            }
            stack.push(if seq {
                Frame::Seq(id)
            } else {
                Frame::Map(id, None)
            });
        } else {
            attach(&mut doc, &mut stack, id);
        }
    }
    if !stack.is_empty() {
        return Err(Error {
            msg: "the document ends inside a collection".into(),
            pos: last,
        });
    }
    Ok(doc)
}

/// A tag as a URI: handle prefix and suffix joined, `%XX` escapes decoded.
fn full_tag(t: &saphyr_parser::Tag) -> String {
    let raw = format!("{}{}", t.handle, t.suffix);
    if !raw.contains('%') {
        return raw;
    }
    let b = raw.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (c, hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Adds a finished node to the collection being built (or as a document root).
fn attach(doc: &mut Doc, stack: &mut [Frame], id: Id) {
    match stack.last_mut() {
        None => doc.roots.push(id),
        Some(Frame::Seq(s)) => {
            if let Some(Kind::Seq(items)) = doc.nodes.get_mut(*s).map(|n| &mut n.kind) {
                items.push(id);
            }
        }
        Some(Frame::Map(m, key)) => match key.take() {
            None => *key = Some(id),
            Some(k) => {
                if let Some(Kind::Map(entries)) = doc.nodes.get_mut(*m).map(|n| &mut n.kind) {
                    entries.push((k, id));
                }
            }
        },
    }
}

/// One entry of a map as a loader sees it after merges: the key text, the value node, and
/// where the entry comes from (the `<<` value that merged it in, for merged entries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<'d> {
    pub key: &'d str,
    pub value: Id,
    /// The position of the merge (`<<: *base`) that brought the entry, if it was merged.
    pub merged_at: Option<Pos>,
}

impl Doc {
    pub fn node(&self, id: Id) -> Option<&Node> {
        self.nodes.get(id)
    }

    /// The node an alias (chain) points at; the node itself otherwise.
    pub fn deref(&self, mut id: Id) -> Id {
        for _ in 0..MAX_ALIAS_CHAIN {
            match self.nodes.get(id).map(|n| &n.kind) {
                Some(Kind::Alias(t)) => id = *t,
                _ => break,
            }
        }
        id
    }

    /// The text of a scalar node (through aliases).
    pub fn scalar(&self, id: Id) -> Option<&str> {
        match &self.nodes.get(self.deref(id))?.kind {
            Kind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    pub fn is_map(&self, id: Id) -> bool {
        matches!(
            self.nodes.get(self.deref(id)).map(|n| &n.kind),
            Some(Kind::Map(_))
        )
    }

    /// The effective entries of a map (through aliases): explicit keys first, then those
    /// merged by `<<` keys (a map, or a list of maps, earlier ones winning), a key that is
    /// already present not repeated — PyYAML's `flatten_mapping`. Non-scalar keys are
    /// skipped (OmegaConf refuses them).
    pub fn entries(&self, id: Id) -> Vec<Entry<'_>> {
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut keys = std::collections::HashSet::new();
        self.collect_entries(self.deref(id), None, 0, &mut out, &mut seen, &mut keys);
        out
    }

    fn collect_entries<'d>(
        &'d self,
        map: Id,
        merged_at: Option<Pos>,
        depth: usize,
        out: &mut Vec<Entry<'d>>,
        seen: &mut std::collections::HashSet<Id>,
        keys: &mut std::collections::HashSet<&'d str>,
    ) {
        // A map merged twice adds nothing the first time did not (earlier keys win):
        // skipping it keeps `<<: [*a, *a, ...]` chains linear.
        if !seen.insert(map) {
            return;
        }
        let Some(Kind::Map(items)) = self.nodes.get(map).map(|n| &n.kind) else {
            return;
        };
        let mut merges: Vec<(Id, Pos)> = Vec::new();
        let mut own: Vec<Entry<'d>> = Vec::new();
        // Backwards: of duplicate keys the last one is what PyYAML keeps.
        for &(k, v) in items.iter().rev() {
            let Some(Node {
                kind: Kind::Scalar { text, plain, .. },
                ..
            }) = self.nodes.get(self.deref(k))
            else {
                continue;
            };
            let direct_key = matches!(
                self.nodes.get(k).map(|n| &n.kind),
                Some(Kind::Scalar { .. })
            );
            if text == "<<" && *plain && direct_key {
                let at = merged_at.unwrap_or(self.nodes.get(v).map(|n| n.pos).unwrap_or_default());
                match self.nodes.get(self.deref(v)).map(|n| &n.kind) {
                    Some(Kind::Map(_)) => merges.push((self.deref(v), at)),
                    Some(Kind::Seq(list)) => {
                        for &m in list {
                            let site =
                                merged_at.unwrap_or(self.nodes.get(m).map(|n| n.pos).unwrap_or(at));
                            merges.push((self.deref(m), site));
                        }
                    }
                    _ => {}
                }
                continue;
            }
            if keys.insert(text.as_str()) {
                own.push(Entry {
                    key: text,
                    value: v,
                    merged_at,
                });
            }
        }
        own.reverse();
        merges.reverse();
        out.append(&mut own);
        if depth >= MAX_MERGE_DEPTH {
            return;
        }
        for (m, at) in merges {
            self.collect_entries(m, Some(at), depth + 1, out, seen, keys);
        }
    }

    /// Every value a map gives `key` as written (duplicates included, in order), or the
    /// merged one when the map does not write it: loaders disagree on which duplicate
    /// wins (PyYAML keeps the last, other readers the first), so callers judging a key
    /// judge each.
    pub fn all(&self, map: Id, key: &str) -> Vec<Entry<'_>> {
        let map = self.deref(map);
        let mut out = Vec::new();
        if let Some(Kind::Map(items)) = self.nodes.get(map).map(|n| &n.kind) {
            for &(k, v) in items {
                match self.scalar(k) {
                    Some(text) if text == key => out.push(Entry {
                        key: text,
                        value: v,
                        merged_at: None,
                    }),
                    _ => {}
                }
            }
        }
        if out.is_empty() {
            out.extend(self.get(map, key));
        }
        out
    }

    /// The value of `key` in a map (after merges).
    pub fn get(&self, map: Id, key: &str) -> Option<Entry<'_>> {
        self.entries(map).into_iter().find(|e| e.key == key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(t: &str) -> Doc {
        parse(t, 10_000, 64).expect("parses")
    }

    #[test]
    fn positions_are_those_of_the_values_as_written() {
        let d = doc("a:\n  b: &x os.system\nc:\n  - *x\n");
        let root = d.roots[0];
        let a = d.get(root, "a").expect("a").value;
        let b = d.get(a, "b").expect("b").value;
        assert_eq!(d.nodes[b].pos, Pos { line: 2, col: 6 });
        let c = d.get(root, "c").expect("c").value;
        let Kind::Seq(items) = &d.nodes[c].kind else {
            panic!("seq")
        };
        assert_eq!(d.nodes[items[0]].pos.line, 4);
        assert_eq!(d.scalar(items[0]), Some("os.system"));
    }

    #[test]
    fn escapes_are_decoded() {
        let d = doc("\"_tar\\x67et_\": \"os.sys\\x74em\"\n");
        let e = d.get(d.roots[0], "_target_").expect("decoded key");
        assert_eq!(d.scalar(e.value), Some("os.system"));
        let j = doc("{\"_tar\\u0067et_\": \"os.system\"}");
        assert!(j.get(j.roots[0], "_target_").is_some());
    }

    #[test]
    fn merge_keys_follow_pyyaml() {
        let d = doc("base: &b\n  k: 1\n  t: x\nm:\n  <<: *b\n  k: 2\nq:\n  '<<': *b\n");
        let m = d.get(d.roots[0], "m").expect("m").value;
        let k = d.get(m, "k").expect("k");
        assert_eq!(d.scalar(k.value), Some("2"));
        assert_eq!(k.merged_at, None);
        let t = d.get(m, "t").expect("merged t");
        assert_eq!(t.merged_at.map(|p| p.line), Some(5));
        // A quoted `<<` is an ordinary key.
        let q = d.get(d.roots[0], "q").expect("q").value;
        assert!(d.get(q, "t").is_none());
    }

    #[test]
    fn recursive_anchors_and_bounds_do_not_hang() {
        let d = doc("a: &a\n  <<: *a\n  x: 1\n");
        assert!(d.get(d.roots[0], "a").is_some());
        let deep = "[".repeat(100) + &"]".repeat(100);
        assert!(parse(&deep, 10_000, 64).is_err());
        let many = "- 1\n".repeat(1000);
        assert!(parse(&many, 100, 64).is_err());
        assert!(parse("a: [1, 2", 100, 64).is_err());
        assert!(parse("a: *nope\n", 100, 64).is_err());
    }
}
