//! `saved_model.pbtxt`: the protobuf text format of a SavedModel. TensorFlow's loader
//! reads it when a directory has no `saved_model.pb`, so a scanner that only reads the
//! binary file is bypassed by shipping the text one. A small bounded text-format parser
//! builds a generic tree, which is mapped onto the same messages the binary path decodes.

use std::collections::BTreeMap;

use super::*;

/// Deepest message nesting followed (TensorFlow's own parser stops at 100).
const MAX_DEPTH: u32 = 100;
/// Most fields in one file.
/// Each field costs about 80 bytes of tree: 2M fields stay under 200 MB.
const MAX_FIELDS: usize = 2_000_000;

#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// A quoted string (unescaped bytes) or a bare scalar (number, enum, bool).
    Scalar(Vec<u8>),
    Msg(Vec<(String, Val)>),
}

struct P<'a> {
    b: &'a [u8],
    i: usize,
    fields: usize,
}

type R<T> = Result<T, String>;

impl P<'_> {
    fn skip_ws(&mut self) {
        while let Some(&c) = self.b.get(self.i) {
            if c.is_ascii_whitespace() {
                self.i += 1;
            } else if c == b'#' {
                while self.b.get(self.i).is_some_and(|&c| c != b'\n') {
                    self.i += 1;
                }
            } else {
                break;
            }
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.b.get(self.i).copied()
    }

    fn ident(&mut self) -> R<String> {
        self.skip_ws();
        let start = self.i;
        while let Some(&c) = self
            .b
            .get(self.i)
            .filter(|&&c| c.is_ascii_alphanumeric() || b"_.-+/[]".contains(&c))
        {
            // `[type.googleapis.com/...]` extension / Any names.
            if c == b'[' {
                while self.b.get(self.i).is_some_and(|&c| c != b']') {
                    self.i += 1;
                }
            }
            self.i += 1;
        }
        if self.i == start {
            return Err(format!("expected a field name at byte {}", self.i));
        }
        let name = self
            .b
            .get(start..self.i.min(self.b.len()))
            .unwrap_or_default();
        Ok(String::from_utf8_lossy(name).into_owned())
    }

    fn string(&mut self) -> R<Vec<u8>> {
        let mut out = Vec::new();
        // Adjacent string literals concatenate.
        while let Some(q @ (b'"' | b'\'')) = self.peek() {
            self.i += 1;
            loop {
                let Some(&c) = self.b.get(self.i) else {
                    return Err("unterminated string".into());
                };
                self.i += 1;
                if c == q {
                    break;
                }
                if c != b'\\' {
                    out.push(c);
                    continue;
                }
                let Some(&e) = self.b.get(self.i) else {
                    return Err("unterminated escape".into());
                };
                self.i += 1;
                match e {
                    b'n' => out.push(b'\n'),
                    b't' => out.push(b'\t'),
                    b'r' => out.push(b'\r'),
                    b'0'..=b'7' => {
                        let mut v = (e - b'0') as u32;
                        for _ in 0..2 {
                            match self.b.get(self.i) {
                                Some(&d @ b'0'..=b'7') => {
                                    v = v * 8 + (d - b'0') as u32;
                                    self.i += 1;
                                }
                                _ => break,
                            }
                        }
                        out.push(v as u8);
                    }
                    b'x' => {
                        let mut v = 0u32;
                        for _ in 0..2 {
                            match self.b.get(self.i).and_then(|d| (*d as char).to_digit(16)) {
                                Some(d) => {
                                    v = v * 16 + d;
                                    self.i += 1;
                                }
                                None => break,
                            }
                        }
                        out.push(v as u8);
                    }
                    other => out.push(other),
                }
            }
        }
        Ok(out)
    }

    fn scalar(&mut self) -> R<Val> {
        match self.peek() {
            Some(b'"' | b'\'') => Ok(Val::Scalar(self.string()?)),
            Some(_) => {
                let start = self.i;
                while self
                    .b
                    .get(self.i)
                    .is_some_and(|&c| !c.is_ascii_whitespace() && !b",;]}>#".contains(&c))
                {
                    self.i += 1;
                }
                if self.i == start {
                    return Err(format!("expected a value at byte {}", self.i));
                }
                Ok(Val::Scalar(
                    self.b.get(start..self.i).unwrap_or_default().to_vec(),
                ))
            }
            None => Err("value expected, end of file".into()),
        }
    }

    /// Fields until `end` (`}` / `>`) or the end of input at depth 0.
    fn message(&mut self, depth: u32, end: Option<u8>) -> R<Vec<(String, Val)>> {
        if depth > MAX_DEPTH {
            return Err(format!("messages nest deeper than {MAX_DEPTH}"));
        }
        let mut fields = Vec::new();
        loop {
            match self.peek() {
                None if end.is_none() => return Ok(fields),
                None => return Err("unterminated message".into()),
                Some(c) if Some(c) == end => {
                    self.i += 1;
                    return Ok(fields);
                }
                Some(b',' | b';') => {
                    self.i += 1;
                    continue;
                }
                _ => {}
            }
            self.fields += 1;
            if self.fields > MAX_FIELDS {
                return Err(format!("more than {MAX_FIELDS} fields"));
            }
            let name = self.ident()?;
            if self.peek() == Some(b':') {
                self.i += 1;
            }
            match self.peek() {
                Some(open @ (b'{' | b'<')) => {
                    let close = if open == b'{' { b'}' } else { b'>' };
                    self.i += 1;
                    fields.push((name, Val::Msg(self.message(depth + 1, Some(close))?)));
                }
                Some(b'[') => {
                    self.i += 1;
                    loop {
                        match self.peek() {
                            Some(b']') => {
                                self.i += 1;
                                break;
                            }
                            Some(b',') => self.i += 1,
                            Some(open @ (b'{' | b'<')) => {
                                let close = if open == b'{' { b'}' } else { b'>' };
                                self.i += 1;
                                let m = self.message(depth + 1, Some(close))?;
                                fields.push((name.clone(), Val::Msg(m)));
                            }
                            Some(_) => fields.push((name.clone(), self.scalar()?)),
                            None => return Err("unterminated list".into()),
                        }
                    }
                }
                _ => fields.push((name, self.scalar()?)),
            }
        }
    }
}

/// Parses protobuf text format into a generic tree.
pub fn parse(text: &[u8]) -> R<Vec<(String, Val)>> {
    P {
        b: text,
        i: 0,
        fields: 0,
    }
    .message(0, None)
}

fn msgs<'a>(m: &'a [(String, Val)], k: &'a str) -> impl Iterator<Item = &'a [(String, Val)]> {
    m.iter().filter_map(move |(n, v)| match v {
        Val::Msg(x) if n == k => Some(x.as_slice()),
        _ => None,
    })
}

fn msg<'a>(m: &'a [(String, Val)], k: &'a str) -> Option<&'a [(String, Val)]> {
    msgs(m, k).last()
}

fn strs<'a>(m: &'a [(String, Val)], k: &'a str) -> impl Iterator<Item = String> + 'a {
    m.iter().filter_map(move |(n, v)| match v {
        Val::Scalar(s) if n == k => Some(String::from_utf8_lossy(s).into_owned()),
        _ => None,
    })
}

fn str_(m: &[(String, Val)], k: &str) -> String {
    strs(m, k).last().unwrap_or_default()
}

fn attr_map(m: &[(String, Val)], depth: u32) -> BTreeMap<String, AttrValue> {
    msgs(m, "attr")
        .map(|e| {
            let v = msg(e, "value")
                .map(|v| attr_value(v, depth))
                .unwrap_or_default();
            (str_(e, "key"), v)
        })
        .collect()
}

fn name_attr_list(m: &[(String, Val)], depth: u32) -> NameAttrList {
    NameAttrList {
        name: str_(m, "name"),
        attr: if depth < 8 {
            attr_map(m, depth + 1)
        } else {
            BTreeMap::new()
        },
    }
}

fn attr_value(m: &[(String, Val)], depth: u32) -> AttrValue {
    AttrValue {
        list: msg(m, "list").map(|l| ListValue {
            func: msgs(l, "func").map(|f| name_attr_list(f, depth)).collect(),
        }),
        s: m.iter()
            .rev()
            .find_map(|(n, v)| match v {
                Val::Scalar(s) if n == "s" => Some(s.clone()),
                _ => None,
            })
            .unwrap_or_default(),
        func: msg(m, "func").map(|f| name_attr_list(f, depth)),
    }
}

fn node_def(m: &[(String, Val)]) -> NodeDef {
    NodeDef {
        name: str_(m, "name"),
        op: str_(m, "op"),
        input: strs(m, "input").collect(),
        attr: attr_map(m, 0),
    }
}

fn int(m: &[(String, Val)], k: &str) -> i32 {
    str_(m, k).parse().unwrap_or(-1)
}

/// Maps a parsed `saved_model.pbtxt` onto the binary messages.
pub fn saved_model(tree: &[(String, Val)]) -> SavedModel {
    SavedModel {
        saved_model_schema_version: str_(tree, "saved_model_schema_version")
            .parse()
            .unwrap_or(0),
        meta_graphs: msgs(tree, "meta_graphs")
            .map(|mg| MetaGraphDef {
                graph_def: msg(mg, "graph_def").map(|g| GraphDef {
                    node: msgs(g, "node").map(node_def).collect(),
                    library: msg(g, "library").map(|l| FunctionDefLibrary {
                        function: msgs(l, "function")
                            .map(|f| FunctionDef {
                                signature: msg(f, "signature").map(|s| OpDef {
                                    name: str_(s, "name"),
                                }),
                                node_def: msgs(f, "node_def").map(node_def).collect(),
                            })
                            .collect(),
                    }),
                }),
                saver_def: msg(mg, "saver_def").map(|s| SaverDef {
                    filename_tensor_name: str_(s, "filename_tensor_name"),
                    save_tensor_name: str_(s, "save_tensor_name"),
                    restore_op_name: str_(s, "restore_op_name"),
                }),
                object_graph_def: msg(mg, "object_graph_def").map(|o| SavedObjectGraph {
                    nodes: msgs(o, "nodes")
                        .map(|n| SavedObject {
                            function: msg(n, "function").map(|f| SavedFunction {
                                concrete_functions: strs(f, "concrete_functions").collect(),
                            }),
                            bare_concrete_function: msg(n, "bare_concrete_function").map(|b| {
                                SavedBareConcreteFunction {
                                    concrete_function_name: str_(b, "concrete_function_name"),
                                }
                            }),
                            saveable_objects: msgs(n, "saveable_objects")
                                .map(|e| {
                                    let v = msg(e, "value").unwrap_or_default();
                                    (
                                        str_(e, "key"),
                                        SaveableObject {
                                            save_function: int(v, "save_function"),
                                            restore_function: int(v, "restore_function"),
                                        },
                                    )
                                })
                                .collect(),
                        })
                        .collect(),
                }),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_text_format() {
        let t = br#"
            saved_model_schema_version: 1
            # a comment
            meta_graphs {
              graph_def {
                node { name: "x" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } } }
                node { name: "c" op: 'StatefulPartitionedCall' input: "x" input: "x:1"
                       attr { key: "f" value { func { name: "__inference_f_1" } } } }
                library { function { signature { name: "__inference_f_1" } node_def { name: "r" op: "Read" "File" } } }
              }
              saver_def < filename_tensor_name: "a\x3a0" save_tensor_name: "s:0" restore_op_name: "r" >
              object_graph_def { nodes [ { function { concrete_functions: ["a", "b"] } } ] }
            }"#;
        let sm = saved_model(&parse(t).unwrap());
        let g = sm.meta_graphs[0].graph_def.as_ref().unwrap();
        assert_eq!(g.node[1].input, ["x", "x:1"]);
        assert_eq!(
            g.node[1].attr["f"].func.as_ref().unwrap().name,
            "__inference_f_1"
        );
        let f = &g.library.as_ref().unwrap().function[0];
        assert_eq!(f.node_def[0].op, "ReadFile");
        assert_eq!(
            sm.meta_graphs[0]
                .saver_def
                .as_ref()
                .unwrap()
                .filename_tensor_name,
            "a:0"
        );
        let og = sm.meta_graphs[0].object_graph_def.as_ref().unwrap();
        assert_eq!(
            og.nodes[0].function.as_ref().unwrap().concrete_functions,
            ["a", "b"]
        );
    }

    #[test]
    fn hostile_text_is_an_error_not_a_crash() {
        assert!(parse(&b"a {".repeat(10_000)).is_err());
        assert!(parse(b"a: \"unterminated").is_err());
        assert!(parse(b"{").is_err());
        let _ = parse(b"a [ { b: 1 ], c");
        let t = br#"x { y: "\x4" z < w: 'q\'' > [type.googleapis.com/x] { } }"#;
        for n in 0..=t.len() {
            let _ = parse(&t[..n]);
        }
    }
}
