//! `modelgate convert IN OUT.safetensors`: pickled checkpoints to safetensors without
//! running them (SPEC §9).
//!
//! 1. The input is scanned as `modelgate scan` would; any finding at medium or above
//!    refuses (exit 1, with the findings).
//! 2. The pickle is emulated by a retaining machine (`Machine::retaining`), and its object
//!    graph read by [`graph`]: only torch's tensor/parameter rebuilders over storages,
//!    dicts, numeric NumPy arrays and plain values are honoured; anything else refuses.
//! 3. Storages are located without reading them: zip members `<folder>/data/<key>`
//!    (stored), the blocks after a legacy checkpoint's pickles, or the bytes inside the
//!    pickle (NumPy). `.npy`/`.npz` are read from their headers.
//! 4. The output is written to a temporary file beside `OUT`, tensor by tensor in bounded
//!    chunks ([`tensor::Tensor::gather`]: contiguous, C order, little-endian), and renamed
//!    into place only when complete; `--verify` re-reads it and compares every tensor
//!    with a second gather of the source.

pub mod graph;
mod input;
pub mod tensor;
mod write;

use std::path::PathBuf;

use clap::Args;

use crate::finding::Severity;
use crate::limits::Limits;
use crate::source::{ByteSource, FileSource};
use graph::Node;

#[derive(Args, Debug)]
pub struct ConvertArgs {
    /// A PyTorch checkpoint (zip or legacy), a pickle of a dict of tensors or numeric
    /// NumPy arrays, or a numeric .npy/.npz: a local path, hf://OWNER/NAME[@REV]/FILE or
    /// an http(s) URL (read with range requests, never downloaded whole).
    pub input: String,
    /// The .safetensors file to write.
    pub output: PathBuf,
    /// Convert only this sub-dict (dotted path, e.g. `state_dict`).
    #[arg(long, value_name = "PATH")]
    pub key: Option<String>,
    /// Re-read the output and compare every tensor with the source.
    #[arg(long)]
    pub verify: bool,
    /// Write non-tensor leaves (epoch, lr, ...) to `__metadata__` as JSON strings instead
    /// of listing them as dropped.
    #[arg(long)]
    pub metadata: bool,
}

/// Why a conversion did not happen.
pub enum Refusal {
    /// The file is outside the honoured set or the scan found something: exit 1.
    Refuse(String),
    /// A usage error (a missing `--key`): exit 2.
    Usage(String),
}

pub fn convert_command(args: &ConvertArgs, env: &crate::env::Env) -> Result<u8, String> {
    match run(args, env) {
        Ok(summary) => {
            eprintln!("{summary}");
            Ok(0)
        }
        Err(Refusal::Refuse(why)) => {
            eprintln!("modelgate convert: refused: {why}");
            Ok(1)
        }
        Err(Refusal::Usage(why)) => {
            eprintln!("modelgate convert: {why}");
            Ok(2)
        }
    }
}

/// The input as a byte source: a local file, or a remote one read with range requests.
fn open_input(input: &str, env: &crate::env::Env) -> Result<Box<dyn ByteSource>, Refusal> {
    let remote =
        input.starts_with("hf://") || input.starts_with("http://") || input.starts_with("https://");
    if !remote {
        let src = FileSource::open(std::path::Path::new(input))
            .map_err(|e| Refusal::Usage(format!("cannot read {input}: {e}")))?;
        return Ok(Box::new(src));
    }
    // hf://OWNER/NAME[@REV]/FILE: the repository, listed for that one file.
    let (target, include) = match input.strip_prefix("hf://") {
        Some(rest) => {
            let mut parts = rest.splitn(3, '/');
            let (owner, name, file) = (parts.next(), parts.next(), parts.next());
            let (Some(owner), Some(name), Some(file)) = (owner, name, file) else {
                return Err(Refusal::Usage(format!(
                    "{input}: expected hf://OWNER/NAME[@REVISION]/FILE"
                )));
            };
            (format!("hf://{owner}/{name}"), vec![file.to_string()])
        }
        None => (input.to_string(), Vec::new()),
    };
    let target = crate::target::Target::parse(&target, &env.hf).map_err(Refusal::Usage)?;
    let filters = crate::filters::Filters::new(&[], &[], None).map_err(Refusal::Usage)?;
    let plan = crate::plan::plan(
        &[target],
        &filters,
        &crate::remote::Options::default(),
        &env.hf,
    )
    .map_err(|e| Refusal::Usage(format!("{input}: {e}")))?;
    let found = plan.inputs.into_iter().find(|i| {
        i.skip.is_none()
            && include
                .first()
                .is_none_or(|f| i.display.ends_with(&format!("/{f}")))
    });
    match found.map(|i| i.source) {
        Some(crate::target::Source::Remote(file)) => {
            let src = match file.size {
                Some(n) => crate::remote::http::HttpSource::new(
                    file.client.clone(),
                    file.url.clone(),
                    n,
                    u64::MAX,
                ),
                None => crate::remote::http::HttpSource::open(
                    file.client.clone(),
                    file.url.clone(),
                    u64::MAX,
                )
                .map_err(|e| Refusal::Usage(format!("{input}: {e}")))?,
            };
            Ok(Box::new(src))
        }
        _ => Err(Refusal::Usage(format!("{input}: no such file"))),
    }
}

fn run(args: &ConvertArgs, env: &crate::env::Env) -> Result<String, Refusal> {
    let display = args.input.clone();
    let src = open_input(&args.input, env)?;
    let src: &dyn ByteSource = src.as_ref();
    // 1. The scan decides first.
    let limits = Limits::default();
    let allow = |_: &str, _: &str| false;
    let report = crate::scan::scan_bytes(src, &display, &limits, &allow);
    let blocking: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::Medium)
        .map(|f| format!("  {} {}: {}", f.severity, f.rule, f.message))
        .collect();
    if !blocking.is_empty() {
        return Err(Refusal::Refuse(format!(
            "the scan found {} finding(s) at medium or above:\n{}",
            blocking.len(),
            blocking.join("\n")
        )));
    }
    // 2-3. The tree of tensors and values.
    let format = report.format.clone().unwrap_or_default();
    let stem = std::path::Path::new(args.input.rsplit('/').next().unwrap_or(&args.input))
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "tensor".into());
    let (tree, resolve) =
        input::read(src, &format, &stem, &limits, u64::MAX).map_err(Refusal::Refuse)?;
    // `--key` never makes a file convertible that is not as a whole.
    if let Some(why) = graph::first_unsupported(&tree, "") {
        return Err(Refusal::Refuse(why));
    }
    let tree = match &args.key {
        None => tree,
        Some(k) => select(tree, k)?,
    };
    let mut tensors = Vec::new();
    let mut leaves = Vec::new();
    flatten(tree, "", &mut tensors, &mut leaves).map_err(Refusal::Refuse)?;
    let tensors = tensors
        .into_iter()
        .map(|(name, t)| resolve.tensor(name, t))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Refusal::Refuse)?;
    for t in &tensors {
        t.check().map_err(Refusal::Refuse)?;
    }
    // 4. Write, then verify.
    let metadata: Vec<(String, String)> = if args.metadata {
        leaves
            .iter()
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect()
    } else {
        Vec::new()
    };
    let written = write::write(src, &tensors, &metadata, &args.output)
        .map_err(|e| Refusal::Refuse(format!("cannot write {}: {e}", args.output.display())))?;
    if args.verify {
        if let Err(e) = write::verify(src, &tensors, &args.output) {
            // A file that does not verify is not left behind.
            let _ = std::fs::remove_file(&args.output);
            return Err(Refusal::Refuse(format!("verification failed: {e}")));
        }
    }
    let mut summary = format!(
        "wrote {} ({} tensor(s), {} bytes){}",
        args.output.display(),
        tensors.len(),
        written,
        if args.verify { ", verified" } else { "" }
    );
    if !leaves.is_empty() {
        let names: Vec<&str> = leaves.iter().map(|(k, _)| k.as_str()).collect();
        if args.metadata {
            summary.push_str(&format!("\nmetadata: {}", names.join(", ")));
        } else {
            summary.push_str(&format!(
                "\ndropped non-tensor value(s) (keep them with --metadata): {}",
                names.join(", ")
            ));
        }
    }
    Ok(summary)
}

/// Plain pickles larger than this are not tried for [`convertible`] (a retaining emulation
/// keeps their whole object graph).
const MAX_PROBE_PICKLE: u64 = 64 << 20;

/// Most container items [`convertible`] keeps before it gives up: a state dict needs about
/// twenty per tensor (its entry, the rebuild's arguments and persistent id), so this is
/// some 10,000 tensors, while a large pickle of plain data (a list of 300,000 dicts) is
/// abandoned after a few MB instead of being rebuilt in memory on every scan.
const PROBE_MAX_ITEMS: u64 = 250_000;

/// The tensors `src` (scanned as `format`) would convert to, located and bounds-checked;
/// nothing is written. Refuses like `modelgate convert` does (without the scan).
pub fn plan(
    src: &dyn crate::source::ByteSource,
    format: &str,
    limits: &Limits,
) -> Result<Vec<tensor::Tensor>, String> {
    plan_within(src, format, limits, u64::MAX)
}

/// [`plan`], keeping at most `max_items` container items of the object graph.
fn plan_within(
    src: &dyn crate::source::ByteSource,
    format: &str,
    limits: &Limits,
    max_items: u64,
) -> Result<Vec<tensor::Tensor>, String> {
    let (tree, resolve) = input::read(src, format, "tensor", limits, max_items)?;
    if let Some(why) = graph::first_unsupported(&tree, "") {
        return Err(why);
    }
    let (mut tensors, mut leaves) = (Vec::new(), Vec::new());
    flatten(tree, "", &mut tensors, &mut leaves)?;
    let tensors = tensors
        .into_iter()
        .map(|(name, t)| resolve.tensor(name, t))
        .collect::<Result<Vec<_>, _>>()?;
    for t in &tensors {
        t.check()?;
    }
    Ok(tensors)
}

/// Whether `src` (scanned as `format`, with nothing above low) would convert. Used to put
/// the command on `pickle-format` findings.
pub fn convertible(src: &dyn crate::source::ByteSource, format: &str, limits: &Limits) -> bool {
    let plain = matches!(format, "pickle");
    if !matches!(format, "pytorch-zip" | "pytorch-legacy" | "pickle")
        || (plain && src.len() > MAX_PROBE_PICKLE)
    {
        return false;
    }
    plan_within(src, format, limits, PROBE_MAX_ITEMS).is_ok_and(|t| !t.is_empty())
}

/// The sub-dict at dotted path `key`.
fn select(tree: Node, key: &str) -> Result<Node, Refusal> {
    let mut cur = tree;
    for part in key.split('.') {
        let Node::Dict(items) = cur else {
            return Err(Refusal::Usage(format!(
                "--key {key}: `{part}` is not inside a dict"
            )));
        };
        cur = items
            .into_iter()
            .find(|(k, _)| k == part)
            .map(|(_, v)| v)
            .ok_or_else(|| Refusal::Usage(format!("--key {key}: no key `{part}`")))?;
    }
    match cur {
        Node::Dict(_) => Ok(cur),
        Node::Unsupported(why) => Err(Refusal::Refuse(why)),
        _ => Err(Refusal::Usage(format!(
            "--key {key} names a value, not a dict"
        ))),
    }
}

type Leaves = Vec<(String, serde_json::Value)>;

/// Nested dicts to dotted names.
fn flatten(
    node: Node,
    prefix: &str,
    tensors: &mut Vec<(String, graph::TensorNode)>,
    leaves: &mut Leaves,
) -> Result<(), String> {
    match node {
        Node::Dict(items) => {
            for (k, v) in items {
                let name = if prefix.is_empty() {
                    k
                } else {
                    format!("{prefix}.{k}")
                };
                match v {
                    Node::Dict(_) => flatten(v, &name, tensors, leaves)?,
                    Node::Tensor(t) => tensors.push((name, t)),
                    Node::Leaf(j) => leaves.push((name, j)),
                    Node::Unsupported(why) => return Err(format!("`{name}`: {why}")),
                }
            }
            Ok(())
        }
        Node::Unsupported(why) => Err(why),
        _ => Err("not a state dict: the file holds a single value, not a dict".into()),
    }
}
