//! ONNX: a protobuf `ModelProto`, walked on the wire without decoding it. Only the fields
//! that matter are read (graph, nodes' `op_type`/`domain`/attributes with their
//! subgraphs, tensors' `data_location` and `external_data`, local functions, training
//! graphs, sparse initializers); every other field — tensor bytes (`raw_data`) first of
//! all — is skipped by its length without being read or allocated, so a 2 GB model costs
//! a few kilobytes of memory. (A generated `prost` decoder would allocate every
//! `raw_data`; hand-written messages would still decode them.)
//!
//! What loading an ONNX file can do beyond computing:
//! - read files named by a tensor's external data `location`. onnx < 1.16 (and other
//!   loaders that join the path themselves) followed absolute paths and `..`, so a model
//!   could read any file the victim can (CVE-2022-25882, CVE-2024-27318);
//! - require operators from a custom domain, which only run after the victim loads a
//!   native library (`register_custom_ops_library`) or Python code (onnxruntime-extensions
//!   `PyOp`) that implements them.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use crate::bytes::ParseError;
use crate::finding::{Finding, Location, Severity};
use crate::formats::window::Window;
use crate::rules::RuleId;
use crate::scan::Ctx;
use crate::source::ByteSource;

/// Subgraph nesting followed (If/Loop/Scan bodies inside bodies). protobuf's own default
/// recursion limit is 100 messages; real models nest a handful of graphs.
const MAX_GRAPH_DEPTH: u32 = 32;
/// Longest name or domain read; longer ones are cut.
const MAX_NAME: u64 = 1024;
/// Longest external-data value read.
const MAX_VALUE: u64 = 4096;
/// Distinct findings of one kind reported per file.
const MAX_REPORTED: usize = 20;
/// Distinct (domain, op_type) pairs remembered.
const MAX_OPS: usize = 10_000;

/// Operator domains implemented by onnx itself and by onnxruntime out of the box. The
/// `com.microsoft*` contrib operators are part of every onnxruntime build (models
/// optimised by onnxruntime or exported by Olive/transformers-optimum use them), so they
/// need no library from the model's author; anything else does.
const STANDARD_DOMAINS: &[&str] = &[
    "",
    "ai.onnx",
    "ai.onnx.ml",
    "ai.onnx.training",
    "ai.onnx.preview.training",
    "com.microsoft",
    "com.microsoft.nchwc",
    "com.microsoft.experimental",
];

/// Protobuf wire types.
const VARINT: u8 = 0;
const I64: u8 = 1;
const LEN: u8 = 2;
const I32: u8 = 5;

type R<T> = Result<T, ParseError>;

struct Wire<'a> {
    w: Window<'a>,
}

/// One field: its number, wire type, and either a varint value or a byte range.
struct Field {
    num: u64,
    wt: u8,
    val: u64,
    start: u64,
    end: u64,
}

impl Wire<'_> {
    fn varint(&mut self, pos: &mut u64, end: u64) -> R<u64> {
        let at = *pos;
        let mut v = 0u64;
        for i in 0..10 {
            if *pos >= end {
                return Err(ParseError::new(at, "truncated varint"));
            }
            let b = self
                .w
                .byte(*pos)
                .ok_or_else(|| ParseError::new(*pos, "unreadable"))?;
            *pos += 1;
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(ParseError::new(at, "varint longer than 10 bytes"))
    }

    /// The next field of the message ending at `end`.
    fn field(&mut self, pos: &mut u64, end: u64) -> R<Field> {
        let at = *pos;
        let tag = self.varint(pos, end)?;
        let num = tag >> 3;
        let wt = (tag & 7) as u8;
        if num == 0 {
            return Err(ParseError::new(at, "field number 0"));
        }
        let mut f = Field {
            num,
            wt,
            val: 0,
            start: *pos,
            end: *pos,
        };
        match wt {
            VARINT => f.val = self.varint(pos, end)?,
            I64 | I32 => {
                let n = if wt == I64 { 8 } else { 4 };
                if end - *pos < n {
                    return Err(ParseError::new(at, "truncated fixed-width field"));
                }
                *pos += n;
            }
            LEN => {
                let n = self.varint(pos, end)?;
                if n > end - *pos {
                    return Err(ParseError::new(
                        at,
                        format!(
                            "field {num} declares {n} bytes, but its message has {} left",
                            end - *pos
                        ),
                    ));
                }
                f.start = *pos;
                *pos += n;
            }
            _ => {
                return Err(ParseError::new(
                    at,
                    format!("field {num} has wire type {wt}"),
                ))
            }
        }
        f.end = *pos;
        Ok(f)
    }

    fn string(&mut self, f: &Field, max: u64) -> String {
        let n = (f.end - f.start).min(max) as usize;
        let v = self.w.source().read_vec(f.start, n).unwrap_or_default();
        let mut s = String::from_utf8_lossy(&v).into_owned();
        if f.end - f.start > max {
            s.push('…');
        }
        s
    }
}

/// Whether the whole source is a plausible `ModelProto`: every top-level field has the
/// wire type ONNX gives it, `ir_version` is small and there is a graph. Random bytes and
/// other protobufs (TensorFlow graphs, SavedModels) fail one of these within a few bytes.
pub fn looks_like(src: &dyn ByteSource) -> bool {
    let mut wire = Wire {
        w: Window::new(src),
    };
    let end = src.len();
    let mut pos = 0;
    let (mut ir, mut graph) = (false, false);
    let mut fields = 0u32;
    while pos < end {
        let Ok(f) = wire.field(&mut pos, end) else {
            return false;
        };
        fields += 1;
        let ok = match f.num {
            1 => {
                ir = (1..=100).contains(&f.val);
                f.wt == VARINT && ir
            }
            5 => f.wt == VARINT,
            7 => {
                graph = true;
                f.wt == LEN
            }
            2 | 3 | 4 | 6 | 8 | 14 | 20 | 25 | 26 => f.wt == LEN,
            _ => false,
        };
        if !ok || fields > 1_000_000 {
            return false;
        }
    }
    ir && graph
}

struct Walk<'a, 'c> {
    wire: Wire<'a>,
    ctx: &'c Ctx<'c>,
    /// (domain, op_type) of every node.
    ops: BTreeSet<(String, String)>,
    /// (domain, name) of every local function.
    functions: HashSet<(String, String)>,
    /// location → (first tensor naming it, why it escapes, marked external).
    external: BTreeMap<String, (String, &'static str, bool)>,
    problems: Vec<(String, u64)>,
    deep: bool,
}

/// Returns the format label; findings go to `out`.
pub fn scan(
    src: &dyn ByteSource,
    ctx: &Ctx,
    loc: &Location,
    out: &mut Vec<Finding>,
) -> &'static str {
    let mut walk = Walk {
        wire: Wire {
            w: Window::new(src),
        },
        ctx,
        ops: BTreeSet::new(),
        functions: HashSet::new(),
        external: BTreeMap::new(),
        problems: Vec::new(),
        deep: false,
    };
    if let Err(ParseError {
        offset: at,
        message: m,
    }) = walk.model(src.len())
    {
        walk.problems.push((m, at));
    }
    walk.report(loc, out);
    "onnx"
}

impl Walk<'_, '_> {
    fn fields(
        &mut self,
        start: u64,
        end: u64,
        mut each: impl FnMut(&mut Self, Field) -> R<()>,
    ) -> R<()> {
        let mut pos = start;
        while pos < end {
            if self.ctx.expired() {
                return Err(ParseError::new(pos, "time budget exceeded"));
            }
            let f = self.wire.field(&mut pos, end)?;
            each(self, f)?;
        }
        Ok(())
    }

    fn model(&mut self, end: u64) -> R<()> {
        let mut graphs = 0;
        self.fields(0, end, |w, f| {
            match (f.num, f.wt) {
                (7, LEN) => {
                    graphs += 1;
                    w.graph(&f, 0)
                }
                (25, LEN) => w.function(&f),
                // TrainingInfoProto: initialization (1) and algorithm (2) graphs.
                (20, LEN) => w.fields(f.start, f.end, |w, g| match (g.num, g.wt) {
                    (1 | 2, LEN) => w.graph(&g, 1),
                    _ => Ok(()),
                }),
                _ => Ok(()),
            }
        })?;
        if graphs == 0 {
            self.problems.push(("the model has no graph".into(), 0));
        }
        Ok(())
    }

    /// A sub-message that fails to parse is reported; its siblings are still walked.
    fn guarded(&mut self, r: R<()>) -> R<()> {
        if let Err(ParseError {
            offset: at,
            message: m,
        }) = r
        {
            if m.starts_with("time budget") {
                return Err(ParseError::new(at, m));
            }
            if self.problems.len() < MAX_REPORTED {
                self.problems.push((m, at));
            }
        }
        Ok(())
    }

    fn graph(&mut self, g: &Field, depth: u32) -> R<()> {
        if depth > MAX_GRAPH_DEPTH {
            self.deep = true;
            return Ok(());
        }
        let r = self.fields(g.start, g.end, |w, f| match (f.num, f.wt) {
            (1, LEN) => w.node(&f, depth),
            (5, LEN) => w.tensor(&f),
            (15, LEN) => w.sparse(&f),
            _ => Ok(()),
        });
        self.guarded(r)
    }

    fn node(&mut self, n: &Field, depth: u32) -> R<()> {
        let (mut op, mut domain) = (String::new(), String::new());
        let r = self.fields(n.start, n.end, |w, f| {
            match (f.num, f.wt) {
                (4, LEN) => op = w.wire.string(&f, MAX_NAME),
                (7, LEN) => domain = w.wire.string(&f, MAX_NAME),
                (5, LEN) => w.attribute(&f, depth)?,
                _ => {}
            }
            Ok(())
        });
        if self.ops.len() < MAX_OPS {
            self.ops.insert((domain, op));
        }
        self.guarded(r)
    }

    fn attribute(&mut self, a: &Field, depth: u32) -> R<()> {
        let r = self.fields(a.start, a.end, |w, f| match (f.num, f.wt) {
            (5 | 10, LEN) => w.tensor(&f),
            (6 | 11, LEN) => w.graph(&f, depth + 1),
            (22 | 23, LEN) => w.sparse(&f),
            _ => Ok(()),
        });
        self.guarded(r)
    }

    fn sparse(&mut self, s: &Field) -> R<()> {
        let r = self.fields(s.start, s.end, |w, f| match (f.num, f.wt) {
            (1 | 2, LEN) => w.tensor(&f),
            _ => Ok(()),
        });
        self.guarded(r)
    }

    fn function(&mut self, func: &Field) -> R<()> {
        let (mut name, mut domain) = (String::new(), String::new());
        let r = self.fields(func.start, func.end, |w, f| {
            match (f.num, f.wt) {
                (1, LEN) => name = w.wire.string(&f, MAX_NAME),
                (10, LEN) => domain = w.wire.string(&f, MAX_NAME),
                (7, LEN) => w.node(&f, 1)?,
                _ => {}
            }
            Ok(())
        });
        self.functions.insert((domain, name));
        self.guarded(r)
    }

    fn tensor(&mut self, t: &Field) -> R<()> {
        let mut name = String::new();
        let mut external = false;
        let mut location = None;
        let r = self.fields(t.start, t.end, |w, f| {
            match (f.num, f.wt) {
                (8, LEN) => name = w.wire.string(&f, MAX_NAME),
                (14, VARINT) => external = f.val == 1,
                (13, LEN) => {
                    let (mut k, mut v) = (String::new(), String::new());
                    w.fields(f.start, f.end, |w, e| {
                        match (e.num, e.wt) {
                            (1, LEN) => k = w.wire.string(&e, MAX_NAME),
                            (2, LEN) => v = w.wire.string(&e, MAX_VALUE),
                            _ => {}
                        }
                        Ok(())
                    })?;
                    if k == "location" {
                        location = Some(v);
                    }
                }
                // raw_data (9) and every typed data field: skipped by length, unread.
                _ => {}
            }
            Ok(())
        });
        if let Some(l) = location {
            if let Some(why) = escapes(&l) {
                if self.external.len() < MAX_REPORTED || self.external.contains_key(&l) {
                    let e = self.external.entry(l).or_insert((name, why, external));
                    e.2 |= external;
                }
            }
        }
        self.guarded(r)
    }

    fn report(self, loc: &Location, out: &mut Vec<Finding>) {
        for (l, (tensor, why, marked)) in &self.external {
            let (sev, tail) = if *marked {
                (Severity::High, "loading the model reads that file")
            } else {
                (
                    Severity::Medium,
                    "the tensor is not marked EXTERNAL, so current loaders ignore it",
                )
            };
            out.push(
                Finding::new(
RuleId::OnnxExternalData,
                    loc.clone(),
                    format!(
                        "tensor `{tensor}` takes its data from `{l}`, {why}: {tail} (CVE-2022-25882, CVE-2024-27318)"
                    ),
                ).with_severity(sev)
                .with_evidence(format!("location={l}")),
            );
        }
        let mut custom: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (domain, op) in &self.ops {
            if STANDARD_DOMAINS.contains(&domain.as_str())
                || self.functions.contains(&(domain.clone(), op.clone()))
            {
                continue;
            }
            custom.entry(domain).or_default().push(op);
        }
        for (domain, ops) in custom.into_iter().take(MAX_REPORTED) {
            let mut list = ops.iter().take(10).copied().collect::<Vec<_>>().join(", ");
            if ops.len() > 10 {
                list.push_str(&format!(", … ({} in all)", ops.len()));
            }
            out.push(
                Finding::new(
RuleId::OnnxCustomOperator,
                    loc.clone(),
                    format!(
                        "operators from custom domain `{domain}` ({list}): they run only with a library the model's author supplies (native code or Python)"
                    ),
                )
                .with_evidence(format!("domain={domain}")),
            );
        }
        if self.deep {
            out.push(Finding::new(
                RuleId::OnnxMalformed,
                loc.clone(),
                format!(
                    "subgraphs nested deeper than {MAX_GRAPH_DEPTH}; deeper graphs were not walked"
                ),
            ));
        }
        for (m, at) in self.problems {
            out.push(
                Finding::new(
                    RuleId::OnnxMalformed,
                    Location {
                        offset: Some(at),
                        ..loc.clone()
                    },
                    format!("malformed ONNX model: {m}"),
                )
                .with_evidence(format!("offset {at}")),
            );
        }
    }
}

/// Why an external-data location leaves the model's folder, if it does.
pub fn escapes(location: &str) -> Option<&'static str> {
    let l = location.trim();
    if l.contains("://") {
        return Some("a URL");
    }
    if l.starts_with("\\\\") || l.starts_with("//") {
        return Some("a network (UNC) path");
    }
    let b = l.as_bytes();
    if matches!(b, [d, b':', ..] if d.is_ascii_alphabetic()) {
        return Some("a drive path");
    }
    if l.starts_with('/') || l.starts_with('\\') {
        return Some("an absolute path");
    }
    if l.starts_with('~') {
        return Some("a home-directory path");
    }
    if l.contains('\0') {
        return Some("a path with a NUL byte");
    }
    let mut depth = 0i64;
    for part in l.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                depth -= 1;
                if depth < 0 {
                    return Some("outside the model's folder");
                }
            }
            _ => depth += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests;
