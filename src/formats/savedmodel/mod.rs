//! TensorFlow SavedModel: `saved_model.pb` (every NodeDef of every meta graph and of the
//! function library), its text form `saved_model.pbtxt` ([`text`]) and
//! `keras_metadata.pb` (the Keras JSON of each saved object).
//!
//! The messages below are hand-written prost structs holding only the fields the scan
//! needs (field numbers from tensorflow/core/protobuf/{saved_model,meta_graph,saver,
//! saved_object_graph}.proto and core/framework/{graph,node_def,function,attr_value,
//! op_def}.proto); prost skips every other field without allocating, so constant tensors
//! (weights in frozen graphs) are never copied.
//!
//! Which ops are dangerous is a data table ([`DANGEROUS_OPS`]). The subtle part is the
//! checkpoint ops: every SavedModel carries `SaveV2`, `RestoreV2`, `MergeV2Checkpoints`
//! in the functions its `saver_def` names (`__inference__traced_save_*`,
//! `__inference__traced_restore_*`; in TF1 graphs the `save/*` nodes). Those are what
//! `tf.saved_model.load` uses to read `variables/` and are not findings. The same ops
//! anywhere else (a serving function that writes a checkpoint to a chosen path) are.
//! File, Python-call and library ops (`ReadFile`, `WriteFile`, `PyFunc`, ...) are
//! findings wherever they are, saver functions included.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::OnceLock;

use prost::Message;

use crate::finding::{Finding, Location};
use crate::rules::RuleId;
use crate::scan::Ctx;
use crate::source::ByteSource;

#[derive(Clone, PartialEq, Message)]
pub struct SavedModel {
    #[prost(int64, tag = "1")]
    pub saved_model_schema_version: i64,
    #[prost(message, repeated, tag = "2")]
    pub meta_graphs: Vec<MetaGraphDef>,
}

#[derive(Clone, PartialEq, Message)]
pub struct MetaGraphDef {
    #[prost(message, optional, tag = "2")]
    pub graph_def: Option<GraphDef>,
    #[prost(message, optional, tag = "3")]
    pub saver_def: Option<SaverDef>,
    #[prost(message, optional, tag = "7")]
    pub object_graph_def: Option<SavedObjectGraph>,
}

#[derive(Clone, PartialEq, Message)]
pub struct GraphDef {
    #[prost(message, repeated, tag = "1")]
    pub node: Vec<NodeDef>,
    #[prost(message, optional, tag = "2")]
    pub library: Option<FunctionDefLibrary>,
}

#[derive(Clone, PartialEq, Message)]
pub struct NodeDef {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub op: String,
    #[prost(string, repeated, tag = "3")]
    pub input: Vec<String>,
    #[prost(btree_map = "string, message", tag = "5")]
    pub attr: BTreeMap<String, AttrValue>,
}

/// `AttrValue` is a oneof on the wire; only the string, list and function arms are read.
#[derive(Clone, PartialEq, Message)]
pub struct AttrValue {
    #[prost(message, optional, tag = "1")]
    pub list: Option<ListValue>,
    #[prost(bytes = "vec", tag = "2")]
    pub s: Vec<u8>,
    #[prost(message, optional, tag = "10")]
    pub func: Option<NameAttrList>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ListValue {
    #[prost(message, repeated, tag = "9")]
    pub func: Vec<NameAttrList>,
}

#[derive(Clone, PartialEq, Message)]
pub struct NameAttrList {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(btree_map = "string, message", tag = "2")]
    pub attr: BTreeMap<String, AttrValue>,
}

#[derive(Clone, PartialEq, Message)]
pub struct FunctionDefLibrary {
    #[prost(message, repeated, tag = "1")]
    pub function: Vec<FunctionDef>,
}

#[derive(Clone, PartialEq, Message)]
pub struct FunctionDef {
    #[prost(message, optional, tag = "1")]
    pub signature: Option<OpDef>,
    #[prost(message, repeated, tag = "3")]
    pub node_def: Vec<NodeDef>,
}

#[derive(Clone, PartialEq, Message)]
pub struct OpDef {
    #[prost(string, tag = "1")]
    pub name: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct SaverDef {
    #[prost(string, tag = "1")]
    pub filename_tensor_name: String,
    #[prost(string, tag = "2")]
    pub save_tensor_name: String,
    #[prost(string, tag = "3")]
    pub restore_op_name: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct SavedObjectGraph {
    #[prost(message, repeated, tag = "1")]
    pub nodes: Vec<SavedObject>,
}

#[derive(Clone, PartialEq, Message)]
pub struct SavedObject {
    #[prost(message, optional, tag = "6")]
    pub function: Option<SavedFunction>,
    #[prost(message, optional, tag = "8")]
    pub bare_concrete_function: Option<SavedBareConcreteFunction>,
    #[prost(btree_map = "string, message", tag = "11")]
    pub saveable_objects: BTreeMap<String, SaveableObject>,
}

#[derive(Clone, PartialEq, Message)]
pub struct SavedFunction {
    #[prost(string, repeated, tag = "1")]
    pub concrete_functions: Vec<String>,
}

#[derive(Clone, PartialEq, Message)]
pub struct SavedBareConcreteFunction {
    #[prost(string, tag = "1")]
    pub concrete_function_name: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct SaveableObject {
    #[prost(int32, tag = "2")]
    pub save_function: i32,
    #[prost(int32, tag = "3")]
    pub restore_function: i32,
}

/// tf_keras `keras_metadata.pb` (keras/protobuf/saved_metadata.proto).
#[derive(Clone, PartialEq, Message)]
pub struct SavedMetadata {
    #[prost(message, repeated, tag = "1")]
    pub nodes: Vec<KerasSavedObject>,
}

#[derive(Clone, PartialEq, Message)]
pub struct KerasSavedObject {
    #[prost(int32, tag = "2")]
    pub node_id: i32,
    #[prost(string, tag = "3")]
    pub node_path: String,
    #[prost(string, tag = "4")]
    pub identifier: String,
    #[prost(string, tag = "5")]
    pub metadata: String,
}

/// Which of the two files a name routes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    SavedModel,
    /// `saved_model.pbtxt`: the same message in protobuf text format.
    SavedModelText,
    KerasMetadata,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::SavedModel => "tensorflow-savedmodel",
            Kind::SavedModelText => "tensorflow-savedmodel-text",
            Kind::KerasMetadata => "keras-metadata",
        }
    }

    /// Protobuf has no magic: `saved_model.pb` and `keras_metadata.pb` are recognised by
    /// their file name (any `.pb` with another name is not read, so random protobufs make
    /// no noise).
    pub fn from_name(name: &str) -> Option<Kind> {
        let base = name.rsplit(['/', '\\', '!']).next().unwrap_or(name);
        match base {
            "saved_model.pb" => Some(Kind::SavedModel),
            "saved_model.pbtxt" => Some(Kind::SavedModelText),
            "keras_metadata.pb" => Some(Kind::KerasMetadata),
            _ => None,
        }
    }
}

/// Largest `.pb` decoded. A SavedModel graph is small next to its variables; TF1 frozen
/// graphs with weights as constants can be large, and their constants are skipped.
const MAX_PB: u64 = 1 << 30;
/// Messages of any repeated field decoded in one file. prost allocates a struct (about
/// 150 bytes) for each one, even an empty one of 2 input bytes: without a bound a 64 MiB
/// file of empty nodes would need several GiB.
const MAX_ELEMENTS: u64 = 2_000_000;
/// Findings listed per op name and rule; the rest are counted.
const MAX_SITES: usize = 5;

/// Ops that reach outside the process or run Python, by tier. Ops for checkpoints are
/// tier [`OpTier::Checkpoint`]: fine in the saver's functions, high elsewhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpTier {
    /// Calls back into Python (critical).
    Code,
    /// Reads, writes or lists files, loads libraries, talks to the network (high).
    System,
    /// Checkpoint save/restore: expected in the saver subgraph, high elsewhere.
    Checkpoint,
}

pub const DANGEROUS_OPS: &[(&str, OpTier, &str)] = &[
    (
        "PyFunc",
        OpTier::Code,
        "calls a Python function (tf.py_function / tf.numpy_function)",
    ),
    (
        "PyFuncStateless",
        OpTier::Code,
        "calls a Python function (tf.numpy_function)",
    ),
    (
        "EagerPyFunc",
        OpTier::Code,
        "calls a Python function (tf.py_function)",
    ),
    (
        "ReadFile",
        OpTier::System,
        "reads a file from a path the graph chooses",
    ),
    (
        "WriteFile",
        OpTier::System,
        "writes a file to a path the graph chooses",
    ),
    ("MatchingFiles", OpTier::System, "lists files on the host"),
    ("LoadLibrary", OpTier::System, "loads a native library"),
    (
        "ImmutableConst",
        OpTier::System,
        "memory-maps a file from a path in the graph",
    ),
    ("WholeFileReader", OpTier::System, "reads whole files"),
    ("WholeFileReaderV2", OpTier::System, "reads whole files"),
    ("TextLineReader", OpTier::System, "reads files"),
    ("TextLineReaderV2", OpTier::System, "reads files"),
    ("FixedLengthRecordReader", OpTier::System, "reads files"),
    ("FixedLengthRecordReaderV2", OpTier::System, "reads files"),
    ("TFRecordReader", OpTier::System, "reads files"),
    ("TFRecordReaderV2", OpTier::System, "reads files"),
    ("LMDBReader", OpTier::System, "reads files"),
    ("TextLineDataset", OpTier::System, "reads files"),
    ("TFRecordDataset", OpTier::System, "reads files"),
    ("TFRecordDatasetV2", OpTier::System, "reads files"),
    ("FixedLengthRecordDataset", OpTier::System, "reads files"),
    ("FixedLengthRecordDatasetV2", OpTier::System, "reads files"),
    ("CSVDataset", OpTier::System, "reads files"),
    ("CSVDatasetV2", OpTier::System, "reads files"),
    ("ExperimentalCSVDataset", OpTier::System, "reads files"),
    ("LMDBDataset", OpTier::System, "reads files"),
    ("ExperimentalLMDBDataset", OpTier::System, "reads files"),
    ("SqlDataset", OpTier::System, "reads a database file"),
    (
        "ExperimentalSqlDataset",
        OpTier::System,
        "reads a database file",
    ),
    (
        "MatchingFilesDataset",
        OpTier::System,
        "lists files on the host",
    ),
    (
        "ExperimentalMatchingFilesDataset",
        OpTier::System,
        "lists files on the host",
    ),
    ("LoadDataset", OpTier::System, "reads files"),
    ("ExperimentalLoadDataset", OpTier::System, "reads files"),
    ("SaveDataset", OpTier::System, "writes files"),
    ("SaveDatasetV2", OpTier::System, "writes files"),
    ("ExperimentalSaveDataset", OpTier::System, "writes files"),
    ("DatasetToTFRecord", OpTier::System, "writes files"),
    (
        "ExperimentalDatasetToTFRecord",
        OpTier::System,
        "writes files",
    ),
    ("SnapshotDataset", OpTier::System, "writes files"),
    ("SnapshotDatasetV2", OpTier::System, "writes files"),
    (
        "CreateSummaryFileWriter",
        OpTier::System,
        "writes event files",
    ),
    (
        "CreateSummaryDbWriter",
        OpTier::System,
        "writes a database file",
    ),
    ("WriteSummary", OpTier::System, "writes event files"),
    ("WriteRawProtoSummary", OpTier::System, "writes event files"),
    ("WriteScalarSummary", OpTier::System, "writes event files"),
    (
        "WriteHistogramSummary",
        OpTier::System,
        "writes event files",
    ),
    ("WriteImageSummary", OpTier::System, "writes event files"),
    ("WriteAudioSummary", OpTier::System, "writes event files"),
    ("WriteGraphSummary", OpTier::System, "writes event files"),
    ("ImportEvent", OpTier::System, "writes event files"),
    (
        "DebugIdentity",
        OpTier::System,
        "sends tensors to debug URLs (files or gRPC)",
    ),
    (
        "DebugIdentityV2",
        OpTier::System,
        "writes tensors to a debug dump directory",
    ),
    (
        "DebugIdentityV3",
        OpTier::System,
        "sends tensors to debug URLs (files or gRPC)",
    ),
    (
        "DebugNanCount",
        OpTier::System,
        "sends tensors to debug URLs (files or gRPC)",
    ),
    (
        "DebugNumericSummary",
        OpTier::System,
        "sends tensors to debug URLs (files or gRPC)",
    ),
    (
        "DebugNumericSummaryV2",
        OpTier::System,
        "sends tensors to debug URLs",
    ),
    ("RpcServer", OpTier::System, "opens a network server"),
    ("RpcServerStart", OpTier::System, "opens a network server"),
    (
        "RpcServerRegister",
        OpTier::System,
        "opens a network server",
    ),
    ("RpcClient", OpTier::System, "connects to a network server"),
    ("RpcCall", OpTier::System, "calls a network server"),
    (
        "EncodeProto",
        OpTier::System,
        "can read a descriptor file from a path in the graph",
    ),
    (
        "DecodeProtoV2",
        OpTier::System,
        "can read a descriptor file from a path in the graph",
    ),
    (
        "GenerateVocabRemapping",
        OpTier::System,
        "reads vocabulary files",
    ),
    (
        "LoadAndRemapMatrix",
        OpTier::System,
        "reads checkpoint files",
    ),
    (
        "Save",
        OpTier::Checkpoint,
        "writes a checkpoint to a path the graph chooses",
    ),
    (
        "SaveV2",
        OpTier::Checkpoint,
        "writes a checkpoint to a path the graph chooses",
    ),
    (
        "SaveSlices",
        OpTier::Checkpoint,
        "writes a checkpoint to a path the graph chooses",
    ),
    (
        "Restore",
        OpTier::Checkpoint,
        "reads a checkpoint from a path the graph chooses",
    ),
    (
        "RestoreV2",
        OpTier::Checkpoint,
        "reads a checkpoint from a path the graph chooses",
    ),
    (
        "RestoreSlice",
        OpTier::Checkpoint,
        "reads a checkpoint from a path the graph chooses",
    ),
    (
        "MergeV2Checkpoints",
        OpTier::Checkpoint,
        "merges and deletes checkpoint files",
    ),
];

fn tf_ops() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        include_str!("tf_ops.txt")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .collect()
    })
}

fn dangerous(op: &str) -> Option<(OpTier, &'static str)> {
    DANGEROUS_OPS
        .iter()
        .find(|(n, _, _)| *n == op)
        .map(|(_, t, w)| (*t, *w))
}

/// Counts the elements of the repeated message fields prost would allocate, walking the
/// wire format without decoding; `None` when the bytes are not a protobuf message.
///
/// Linear in the input: every body is walked once, by its own call, and every field is
/// visited by the walk of the body that holds it. Depth follows prost's own recursion
/// limit (100), so no nested message prost would decode goes uncounted.
fn count_elements(buf: &[u8], depth: u32, budget: &mut u64) -> Option<()> {
    use prost::encoding::decode_varint;
    if depth > 100 {
        return None;
    }
    let mut b = buf;
    while !b.is_empty() {
        let key = decode_varint(&mut b).ok()?;
        match key & 7 {
            0 => {
                decode_varint(&mut b).ok()?;
            }
            1 => b = b.get(8..)?,
            5 => b = b.get(4..)?,
            2 => {
                let n = usize::try_from(decode_varint(&mut b).ok()?).ok()?;
                let (body, rest) = b.split_at_checked(n)?;
                b = rest;
                *budget = budget.checked_sub(1)?;
                // Large bodies are tensor contents, strings or big messages: only small
                // nested bodies (where the amplification is) need a closer look, and a
                // nested body that is not itself a message is just bytes.
                if n <= 4096 {
                    let mut probe = *budget;
                    if count_elements(body, depth + 1, &mut probe).is_some() {
                        *budget = probe;
                    }
                } else if count_elements(body, depth + 1, budget).is_none() {
                    // Not a message (string or bytes): fine.
                }
            }
            _ => return None,
        }
    }
    Some(())
}

struct Sites {
    /// (rule, op) → locations seen, for bounded reporting.
    seen: HashMap<(RuleId, String), (usize, Vec<String>)>,
}

/// Scans `saved_model.pb` or `keras_metadata.pb`. Returns the format label.
pub fn scan(
    src: &dyn ByteSource,
    kind: Kind,
    ctx: &Ctx,
    loc: &Location,
    out: &mut Vec<Finding>,
) -> &'static str {
    let len = src.len();
    if len > MAX_PB.min(ctx.limits.max_member_size) {
        out.push(Finding::new(
            RuleId::ContentNotScanned,
            loc.clone(),
            format!(
                "{} is {len} bytes, over the limit for protobuf graphs",
                kind.label()
            ),
        ));
        return kind.label();
    }
    let buf = match src.read_vec(0, len as usize) {
        Ok(b) => b,
        Err(e) => {
            out.push(Finding::new(
                RuleId::ContentNotScanned,
                loc.clone(),
                format!("cannot read: {e}"),
            ));
            return kind.label();
        }
    };
    if kind == Kind::SavedModelText {
        match text::parse(&buf) {
            Ok(tree) => scan_saved_model(&text::saved_model(&tree), loc, out),
            Err(e) => malformed(out, loc, kind, &e),
        }
        return kind.label();
    }
    let mut budget = MAX_ELEMENTS;
    let _ = count_elements(&buf, 0, &mut budget);
    if budget == 0 {
        out.push(Finding::new(
            RuleId::ContentNotScanned,
            loc.clone(),
            format!("the protobuf holds more than {MAX_ELEMENTS} messages; not decoded"),
        ));
        return kind.label();
    }
    match kind {
        Kind::SavedModel => match SavedModel::decode(buf.as_slice()) {
            Ok(sm) => scan_saved_model(&sm, loc, out),
            Err(e) => malformed(out, loc, kind, &e.to_string()),
        },
        Kind::KerasMetadata => match SavedMetadata::decode(buf.as_slice()) {
            Ok(md) => {
                for n in &md.nodes {
                    if n.metadata.is_empty() {
                        continue;
                    }
                    let path = if n.node_path.is_empty() {
                        format!("node {}", n.node_id)
                    } else {
                        n.node_path.chars().take(200).collect()
                    };
                    crate::formats::keras::scan_config(
                        n.metadata.as_bytes(),
                        ctx,
                        &loc.member(&format!("@{path}")),
                        out,
                    );
                }
            }
            Err(e) => malformed(out, loc, kind, &e.to_string()),
        },
        Kind::SavedModelText => {}
    }
    kind.label()
}

fn malformed(out: &mut Vec<Finding>, loc: &Location, kind: Kind, e: &str) {
    out.push(Finding::new(
RuleId::TfMalformed,
        loc.clone(),
        format!(
            "named like a {} file, but does not parse as one ({e}); TensorFlow would refuse it, so why is it here?",
            kind.label()
        ),
    ));
}

/// `"node:0"` / `"^node"` → `"node"`.
fn node_name(t: &str) -> &str {
    let t = t.strip_prefix('^').unwrap_or(t);
    t.split(':').next().unwrap_or(t)
}

fn funcs_of<'a>(n: &'a NodeDef, lib: &HashMap<&'a str, &'a FunctionDef>, acc: &mut Vec<&'a str>) {
    if lib.contains_key(n.op.as_str()) {
        acc.push(&n.op);
    }
    fn from_attr<'a>(a: &'a AttrValue, acc: &mut Vec<&'a str>, depth: u32) {
        if depth > 8 {
            return;
        }
        if let Some(f) = &a.func {
            acc.push(&f.name);
            for v in f.attr.values() {
                from_attr(v, acc, depth + 1);
            }
        }
        if let Some(l) = &a.list {
            for f in &l.func {
                acc.push(&f.name);
                for v in f.attr.values() {
                    from_attr(v, acc, depth + 1);
                }
            }
        }
    }
    for a in n.attr.values() {
        from_attr(a, acc, 0);
    }
}

fn scan_saved_model(sm: &SavedModel, loc: &Location, out: &mut Vec<Finding>) {
    let mut sites = Sites {
        seen: HashMap::new(),
    };
    for (mi, mg) in sm.meta_graphs.iter().enumerate() {
        let Some(g) = &mg.graph_def else { continue };
        let lib: HashMap<&str, &FunctionDef> = g
            .library
            .iter()
            .flat_map(|l| &l.function)
            .filter_map(|f| f.signature.as_ref().map(|s| (s.name.as_str(), f)))
            .collect();

        // The saver closure: graph nodes the saver_def names, what feeds them (TF1 saver
        // subgraphs), the functions they call and, transitively, what those call; plus
        // the save/restore functions of saveable objects (lookup tables, ...).
        let by_name: HashMap<&str, &NodeDef> =
            g.node.iter().map(|n| (n.name.as_str(), n)).collect();
        let mut saver_nodes: HashSet<&str> = HashSet::new();
        let mut queue: VecDeque<&str> = VecDeque::new();
        if let Some(sd) = &mg.saver_def {
            for t in [&sd.save_tensor_name, &sd.restore_op_name] {
                if !t.is_empty() {
                    queue.push_back(node_name(t));
                }
            }
        }
        while let Some(n) = queue.pop_front() {
            if saver_nodes.len() > by_name.len() || !saver_nodes.insert(n) {
                continue;
            }
            if let Some(nd) = by_name.get(n) {
                for i in &nd.input {
                    queue.push_back(node_name(i));
                }
            }
        }
        let mut saver_fns: HashSet<&str> = HashSet::new();
        let mut fq: Vec<&str> = Vec::new();
        for n in &saver_nodes {
            if let Some(nd) = by_name.get(n) {
                funcs_of(nd, &lib, &mut fq);
            }
        }
        if let Some(og) = &mg.object_graph_def {
            for o in &og.nodes {
                for so in o.saveable_objects.values() {
                    for id in [so.save_function, so.restore_function] {
                        if let Some(t) = usize::try_from(id).ok().and_then(|i| og.nodes.get(i)) {
                            if let Some(f) = &t.function {
                                fq.extend(f.concrete_functions.iter().map(String::as_str));
                            }
                            if let Some(b) = &t.bare_concrete_function {
                                fq.push(&b.concrete_function_name);
                            }
                        }
                    }
                }
            }
        }
        while let Some(f) = fq.pop() {
            if !saver_fns.insert(f) {
                continue;
            }
            if let Some(fd) = lib.get(f) {
                for n in &fd.node_def {
                    funcs_of(n, &lib, &mut fq);
                }
            }
        }

        let graph = if sm.meta_graphs.len() > 1 {
            format!("meta graph {mi}")
        } else {
            "graph".to_string()
        };
        for n in &g.node {
            let in_saver = saver_nodes.contains(n.name.as_str());
            check_node(n, &graph, in_saver, &lib, &mut sites, loc, out);
        }
        let mut fns: Vec<_> = lib.iter().collect();
        fns.sort_by_key(|&(f, _)| f);
        for (f, fd) in fns {
            let in_saver = saver_fns.contains(*f);
            let w = format!("function {f}");
            for n in &fd.node_def {
                check_node(n, &w, in_saver, &lib, &mut sites, loc, out);
            }
        }
    }
    let mut extra: Vec<_> = sites
        .seen
        .into_iter()
        .filter(|(_, (n, _))| *n > MAX_SITES)
        .collect();
    extra.sort_by(|a, b| (a.0 .0.as_str(), &a.0 .1).cmp(&(b.0 .0.as_str(), &b.0 .1)));
    for ((rule, op), (n, _)) in extra {
        out.push(Finding::new(
            rule,
            loc.clone(),
            format!("op `{op}` occurs {} more times (not listed)", n - MAX_SITES),
        ));
    }
}

fn check_node(
    n: &NodeDef,
    container: &str,
    in_saver: bool,
    lib: &HashMap<&str, &FunctionDef>,
    sites: &mut Sites,
    loc: &Location,
    out: &mut Vec<Finding>,
) {
    let op = n.op.as_str();
    let tier = if print_to_file(n) {
        Some((OpTier::System, "writes to the file its output_stream names"))
    } else {
        dangerous(op)
    };
    let (rule, msg) = match tier {
        Some((OpTier::Code, why)) => (
            RuleId::TfCodeExecution,
            format!("op `{op}` {why}; the function it calls is looked up in the loading process"),
        ),
        Some((OpTier::System, why)) => (RuleId::TfSystemAccess, format!("op `{op}` {why}")),
        Some((OpTier::Checkpoint, _)) if in_saver => return,
        Some((OpTier::Checkpoint, why)) => (
            RuleId::TfSystemAccess,
            format!("op `{op}` {why}, outside the functions the SavedModel's saver uses"),
        ),
        None => {
            if tf_ops().contains(op) || lib.contains_key(op) {
                return;
            }
            (
                RuleId::TfUnknownOp,
                format!("op `{}` is not a TensorFlow op nor a function of the library: a custom op needs a native library loaded first", op.chars().take(120).collect::<String>()),
            )
        }
    };
    let entry = sites
        .seen
        .entry((rule, op.to_string()))
        .or_insert((0, Vec::new()));
    entry.0 += 1;
    if entry.0 > MAX_SITES {
        return;
    }
    let node: String = n.name.chars().take(200).collect();
    out.push(
        Finding::new(
            rule,
            loc.clone(),
            format!("{msg} (node `{node}` in {container})"),
        )
        .with_evidence(format!("{op} @ {container}/{node}")),
    );
}

/// Ops that write where `output_stream` says: `PrintV2` to `file://...`.
pub fn print_to_file(n: &NodeDef) -> bool {
    n.op == "PrintV2"
        && n.attr
            .get("output_stream")
            .is_some_and(|a| a.s.starts_with(b"file://"))
}

/// All op names in the file (for tests and debugging): `(container, op)` pairs.
pub fn ops(sm: &SavedModel) -> BTreeSet<String> {
    let mut s = BTreeSet::new();
    for mg in &sm.meta_graphs {
        if let Some(g) = &mg.graph_def {
            s.extend(g.node.iter().map(|n| n.op.clone()));
            for f in g.library.iter().flat_map(|l| &l.function) {
                s.extend(f.node_def.iter().map(|n| n.op.clone()));
            }
        }
    }
    s
}

pub mod text;

#[cfg(test)]
mod tests;
