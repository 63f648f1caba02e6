//! Model references in code (SPEC §8): the calls in `.py` files and notebook code cells
//! that pull a model from the Hugging Face Hub (or torch.hub), found offline through the
//! Python source index ([`crate::python`]: imports and aliases resolved, constant
//! arguments folded), each reported at its call site (file, line, column):
//!
//! - `model-ref-unpinned`: no `revision`, or one that is not a 40-hex commit;
//! - `model-ref-remote-code`: `trust_remote_code` not a constant `False`, or a
//!   `torch.hub.load` of a GitHub repository (its `hubconf.py` runs);
//! - `model-ref-lookalike-publisher`: an owner imitating a well-known organisation;
//! - `model-ref-unsafe-load`: a loader told to run code (`torch.load(weights_only=False)`,
//!   `numpy.load(allow_pickle=True)`, Keras `safe_mode=False`);
//! - `model-ref-dynamic`: a repository id or revision that is not a constant.
//!
//! The project-level pass over these references (the lock file, resolution through the
//! Hub API) is [`resolve`]; the lock file's format is [`lock`].

pub mod config;
pub mod lock;
mod lookalike;
pub mod resolve;

use crate::finding::{Finding, Location};
use crate::python::{self, ArgValue, Call};
use crate::rules::RuleId;

/// A constant reference to a Hub repository, where the code makes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    /// `owner/name` (or a canonical name without owner).
    pub repo: String,
    /// The `revision` argument, when it is a constant.
    pub revision: Option<String>,
    pub callee: String,
    /// The call site.
    pub location: Location,
    /// What the call downloads from the repository.
    pub downloads: Downloads,
}

/// Which files of a repository a call fetches (resolution scans those and no others).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Downloads {
    /// A model loader (`from_pretrained`, `pipeline`, `SentenceTransformer`, timm,
    /// `from_preset`): configuration, tokenizer and weight files, where a folder holding
    /// safetensors weights has its pickle weights skipped (the libraries prefer
    /// safetensors); the repository's `.py` files only when `remote_code` (with
    /// `trust_remote_code` the loader imports them).
    Model { remote_code: bool },
    /// `hf_hub_download(repo, filename)`: that file.
    File(String),
    /// `snapshot_download`, or a file name that is not a constant: every file.
    All,
}

/// The project's `huggingface.trusted-orgs`, set once per run before scanning
/// ([`set_trusted_orgs`]); empty when unset.
static TRUSTED_ORGS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();

/// Sets the owners model references are checked against (the first call wins).
pub fn set_trusted_orgs(orgs: Vec<String>) {
    let _ = TRUSTED_ORGS.set(orgs);
}

pub(crate) fn trusted_orgs() -> &'static [String] {
    TRUSTED_ORGS.get().map_or(&[], Vec::as_slice)
}

/// Largest source file read (bytes).
pub const MAX_SOURCE: u64 = 4 << 20;

/// How a loader names its model.
struct Loader {
    /// Which callees: a full dotted name, or `*.name` for a method of anything imported
    /// from one of `packages`.
    callee: fn(&str) -> bool,
    /// Keyword of the repository id, and its position.
    repo_kw: &'static [&'static str],
    repo_pos: Option<usize>,
    /// The id may carry a prefix (`hf-hub:`, `hf://`); `None` when it is a plain id.
    prefix: Option<&'static [&'static str]>,
    /// The loader reads `trust_remote_code`.
    remote_code: bool,
    /// A model loader ([`Downloads::Model`]); `false`: a download helper of
    /// `huggingface_hub` (one file or a snapshot).
    model: bool,
}

const HUB_PACKAGES: &[&str] = &[
    "transformers.",
    "diffusers.",
    "peft.",
    "optimum.",
    "sentence_transformers.",
    "setfit.",
    "huggingface_hub.",
    "keras_hub.",
    "keras_nlp.",
];

fn from_hub_package(callee: &str) -> bool {
    HUB_PACKAGES.iter().any(|p| callee.starts_with(p))
}

const LOADERS: &[Loader] = &[
    Loader {
        callee: |c| {
            from_hub_package(c)
                && (c.ends_with(".from_pretrained") || c.ends_with(".from_single_file"))
        },
        repo_kw: &[
            "pretrained_model_name_or_path",
            "pretrained_model_link_or_path",
            "model_id",
        ],
        repo_pos: Some(0),
        prefix: None,
        remote_code: true,
        model: true,
    },
    Loader {
        callee: |c| {
            matches!(
                c,
                "transformers.pipeline" | "transformers.pipelines.pipeline"
            )
        },
        repo_kw: &["model"],
        repo_pos: Some(1),
        prefix: None,
        remote_code: true,
        model: true,
    },
    Loader {
        callee: |c| {
            matches!(
                c,
                "huggingface_hub.hf_hub_download"
                    | "huggingface_hub.snapshot_download"
                    | "huggingface_hub.file_download.hf_hub_download"
                    | "huggingface_hub._snapshot_download.snapshot_download"
            ) || (c.starts_with("huggingface_hub.HfApi") && c.ends_with("_download"))
        },
        repo_kw: &["repo_id"],
        repo_pos: Some(0),
        prefix: None,
        remote_code: false,
        model: false,
    },
    Loader {
        callee: |c| {
            matches!(
                c,
                "sentence_transformers.SentenceTransformer"
                    | "sentence_transformers.CrossEncoder"
                    | "sentence_transformers.SentenceTransformer.SentenceTransformer"
            )
        },
        repo_kw: &["model_name_or_path", "model_name"],
        repo_pos: Some(0),
        prefix: None,
        remote_code: true,
        model: true,
    },
    Loader {
        callee: |c| {
            matches!(
                c,
                "timm.create_model"
                    | "open_clip.create_model"
                    | "open_clip.create_model_and_transforms"
                    | "open_clip.create_model_from_pretrained"
            )
        },
        repo_kw: &["model_name"],
        repo_pos: Some(0),
        prefix: Some(&["hf-hub:", "hf_hub:"]),
        remote_code: false,
        model: true,
    },
    Loader {
        callee: |c| c.ends_with(".from_preset") && from_hub_package(c),
        repo_kw: &["preset"],
        repo_pos: Some(0),
        prefix: Some(&["hf://"]),
        remote_code: false,
        model: true,
    },
];

fn constant(v: Option<&ArgValue>) -> Option<&str> {
    match v {
        Some(ArgValue::Str(s)) => Some(s),
        _ => None,
    }
}

pub(crate) fn is_commit(rev: &str) -> bool {
    rev.len() == 40 && rev.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A string that names a local path rather than a Hub repository.
fn local_path(id: &str) -> bool {
    id.is_empty()
        || id.starts_with(['.', '/', '~', '\\'])
        || id.contains('\\')
        || id.split('/').count() > 2
        || id.contains(':')
        || [
            ".bin",
            ".pt",
            ".pth",
            ".safetensors",
            ".ckpt",
            ".json",
            ".h5",
            ".onnx",
        ]
        .iter()
        .any(|e| id.ends_with(e))
}

/// Findings for the model references and unsafe loads in one Python source.
pub fn scan_source(
    text: &str,
    path: &str,
    trusted: &[String],
    lines: &dyn Fn(u32) -> (u32, u32),
) -> Vec<Finding> {
    analyse(text, path, trusted, lines).0
}

/// Findings and the constant Hub references of one Python source.
fn analyse(
    text: &str,
    path: &str,
    trusted: &[String],
    lines: &dyn Fn(u32) -> (u32, u32),
) -> (Vec<Finding>, Vec<Reference>) {
    let analysis = python::analyze(text, &[]);
    let mut out = Vec::new();
    let mut refs = Vec::new();
    for call in &analysis.calls {
        let Some(callee) = call.callee.as_deref() else {
            continue;
        };
        let (line, column) = lines(call.line);
        let loc = Location::text(path, line, column);
        let loc = Location {
            column: Some(call.column),
            ..loc
        };
        if let Some(loader) = LOADERS.iter().find(|l| (l.callee)(callee)) {
            if let Some(r) = reference(call, callee, loader, &loc, trusted, &mut out) {
                refs.push(r);
            }
        } else if callee == "torch.hub.load" {
            torch_hub(call, &loc, trusted, &mut out);
        }
        unsafe_load(call, callee, &loc, &mut out);
    }
    (out, refs)
}

fn repo_arg<'a>(call: &'a Call, loader: &Loader) -> Option<&'a ArgValue> {
    loader
        .repo_kw
        .iter()
        .find_map(|k| call.keyword(k))
        .or_else(|| loader.repo_pos.and_then(|i| call.positional(i)))
}

fn reference(
    call: &Call,
    callee: &str,
    loader: &Loader,
    loc: &Location,
    trusted: &[String],
    out: &mut Vec<Finding>,
) -> Option<Reference> {
    let arg = repo_arg(call, loader)?;
    let Some(raw) = constant(Some(arg)) else {
        out.push(Finding::new(
            RuleId::ModelRefDynamic,
            loc.clone(),
            format!("`{callee}` loads a model whose id is not a constant: which repository it pulls cannot be checked"),
        ).with_evidence(call.text.clone()));
        return None;
    };
    let id = match loader.prefix {
        // No prefix: a model name of the library itself, not a Hub repository.
        Some(prefixes) => prefixes.iter().find_map(|p| raw.strip_prefix(p))?,
        None => raw,
    };
    let rev = match call.keyword("revision") {
        None => Rev::Absent,
        Some(ArgValue::Str(r)) => Rev::Const(r),
        Some(_) => Rev::Dynamic,
    };
    let fix = format!("pass revision=\"<commit sha of {id}>\"");
    let base = check_reference(id, rev, callee, &call.text, &fix, loc, trusted, out)?;
    let mut remote_code = false;
    if loader.remote_code {
        match call.keyword("trust_remote_code") {
            None => {}
            Some(ArgValue::Name(n)) if n == "False" => {}
            Some(v) => {
                remote_code = true;
                let how = if matches!(v, ArgValue::Name(n) if n == "True") {
                    "trust_remote_code=True"
                } else {
                    "trust_remote_code that is not a constant False"
                };
                out.push(
                    Finding::new(
                        RuleId::ModelRefRemoteCode,
                        loc.clone(),
                        format!("`{callee}` pulls `{id}` with {how}: the repository's Python files run on load"),
                    )
                    .with_evidence(call.text.clone()),
                );
            }
        }
    }
    let downloads = if loader.model {
        Downloads::Model { remote_code }
    } else if callee.ends_with("hf_hub_download") {
        match constant(call.keyword("filename").or_else(|| call.positional(1))) {
            Some(f) => match call.keyword("subfolder") {
                None => Downloads::File(f.to_string()),
                Some(ArgValue::Str(sub)) if !sub.is_empty() => {
                    Downloads::File(format!("{}/{f}", sub.trim_end_matches('/')))
                }
                Some(ArgValue::Str(_)) => Downloads::File(f.to_string()),
                Some(_) => Downloads::All,
            },
            None => Downloads::All,
        }
    } else {
        Downloads::All
    };
    Some(Reference { downloads, ..base })
}

/// The `revision` a reference gives.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Rev<'a> {
    Absent,
    Const(&'a str),
    /// Not a constant.
    Dynamic,
}

/// The checks every reference gets, wherever it is written (a call, a config key):
/// publisher (lookalike, untrusted) and pin. `None` when `id` names a local path.
/// `evidence` is the text shown, `fix` the remedy of an unpinned reference.
#[allow(clippy::too_many_arguments)]
pub(crate) fn check_reference(
    id: &str,
    rev: Rev<'_>,
    callee: &str,
    evidence: &str,
    fix: &str,
    loc: &Location,
    trusted: &[String],
    out: &mut Vec<Finding>,
) -> Option<Reference> {
    if local_path(id) {
        return None;
    }
    let owner = id.split_once('/').map(|(owner, _)| owner);
    if let Some(org) = owner.and_then(|owner| lookalike::imitated(owner, trusted)) {
        out.push(
            Finding::new(
                RuleId::ModelRefLookalikePublisher,
                loc.clone(),
                format!("`{callee}` pulls `{id}`, whose owner imitates the organisation `{org}`"),
            )
            .with_evidence(evidence.to_string()),
        );
    } else if !trusted.is_empty()
        && !owner.is_some_and(|o| trusted.iter().any(|t| t.eq_ignore_ascii_case(o)))
    {
        out.push(
            Finding::new(
                RuleId::ModelRefUntrustedPublisher,
                loc.clone(),
                format!("`{callee}` pulls `{id}`, whose owner is not in huggingface.trusted-orgs"),
            )
            .with_evidence(evidence.to_string()),
        );
    }
    match rev {
        Rev::Const(r) if is_commit(r) => {}
        Rev::Const(r) => out.push(
            Finding::new(
                RuleId::ModelRefUnpinned,
                loc.clone(),
                format!("`{callee}` pulls `{id}` at `{r}`, a branch or tag that can change: pin a 40-hex commit"),
            )
            .with_evidence(evidence.to_string())
            .with_fix(fix.to_string()),
        ),
        Rev::Dynamic => out.push(
            Finding::new(
                RuleId::ModelRefDynamic,
                loc.clone(),
                format!("`{callee}` pulls `{id}` at a revision that is not a constant"),
            )
            .with_evidence(evidence.to_string()),
        ),
        Rev::Absent => out.push(
            Finding::new(
                RuleId::ModelRefUnpinned,
                loc.clone(),
                format!("`{callee}` pulls `{id}` without a revision: whatever the repository holds when the code runs"),
            )
            .with_evidence(evidence.to_string())
            .with_fix(fix.to_string()),
        ),
    }
    Some(Reference {
        repo: id.to_string(),
        revision: match rev {
            Rev::Const(r) => Some(r.to_string()),
            _ => None,
        },
        callee: callee.to_string(),
        location: loc.clone(),
        downloads: Downloads::Model { remote_code: false },
    })
}

/// `torch.hub.load("owner/repo[:ref]", "entry")` runs the repository's `hubconf.py`.
fn torch_hub(call: &Call, loc: &Location, trusted: &[String], out: &mut Vec<Finding>) {
    let source = constant(call.keyword("source"));
    if source.is_some_and(|s| s != "github") {
        return;
    }
    let Some(arg) = call.keyword("repo_or_dir").or_else(|| call.positional(0)) else {
        return;
    };
    let Some(repo) = constant(Some(arg)) else {
        out.push(
            Finding::new(
                RuleId::ModelRefDynamic,
                loc.clone(),
                "`torch.hub.load` of a repository that is not a constant".to_string(),
            )
            .with_evidence(call.text.clone()),
        );
        return;
    };
    if local_path(repo.split(':').next().unwrap_or(repo)) || !repo.contains('/') {
        return;
    }
    let (name, rev) = repo
        .split_once(':')
        .map_or((repo, None), |(n, r)| (n, Some(r)));
    if let Some(org) = name
        .split_once('/')
        .and_then(|(owner, _)| lookalike::imitated(owner, trusted))
    {
        out.push(
            Finding::new(
                RuleId::ModelRefLookalikePublisher,
                loc.clone(),
                format!("`torch.hub.load` pulls `{name}`, whose owner imitates `{org}`"),
            )
            .with_evidence(call.text.clone()),
        );
    }
    if !rev.is_some_and(is_commit) {
        out.push(
            Finding::new(
                RuleId::ModelRefUnpinned,
                loc.clone(),
                format!("`torch.hub.load` pulls GitHub repository `{name}` at {}: pin `{name}:<commit sha>`", rev.map_or("its default branch".to_string(), |r| format!("`{r}`"))),
            )
            .with_evidence(call.text.clone()),
        );
    }
    out.push(
        Finding::new(
            RuleId::ModelRefRemoteCode,
            loc.clone(),
            format!("`torch.hub.load` runs `hubconf.py` of GitHub repository `{name}` (and what it imports)"),
        )
        .with_evidence(call.text.clone()),
    );
}

/// Loaders told to run what the file carries.
fn unsafe_load(call: &Call, callee: &str, loc: &Location, out: &mut Vec<Finding>) {
    let flag = |kw: &str, bad: &str| match call.keyword(kw) {
        Some(ArgValue::Name(n)) => n == bad,
        _ => false,
    };
    let what = match callee {
        "torch.load" if flag("weights_only", "False") => "torch.load(weights_only=False) unpickles arbitrary objects: loading the file runs what it carries",
        "numpy.load" if flag("allow_pickle", "True") => "numpy.load(allow_pickle=True) unpickles object arrays: loading the file runs what it carries",
        "keras.models.load_model" | "keras.saving.load_model" | "tensorflow.keras.models.load_model" | "tf_keras.models.load_model"
            if flag("safe_mode", "False") =>
        {
            "Keras load_model(safe_mode=False) deserialises Lambda layers and arbitrary objects: loading the file runs their code"
        }
        _ => return,
    };
    out.push(
        Finding::new(RuleId::ModelRefUnsafeLoad, loc.clone(), what.to_string())
            .with_evidence(call.text.clone()),
    );
}

/// For each line of a notebook's joined code: (line in the `.ipynb` file, cell number,
/// line in the cell).
pub type CellLines = Vec<(u32, usize, u32)>;

/// The code cells of a notebook, joined, with where each joined line comes from.
pub fn notebook_code(raw: &str) -> Option<(String, CellLines)> {
    let v: serde_json::Value = serde_json::from_str(raw).ok()?;
    let cells = v.get("cells")?.as_array()?;
    let raw_lines: Vec<&str> = raw.lines().collect();
    let mut text = String::new();
    let mut map = Vec::new();
    let mut search_from = 0usize;
    for (n, cell) in cells.iter().enumerate() {
        if cell.get("cell_type").and_then(|t| t.as_str()) != Some("code") {
            continue;
        }
        let source = match cell.get("source") {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Array(parts)) => {
                parts.iter().filter_map(|p| p.as_str()).collect()
            }
            _ => continue,
        };
        for (i, l) in source.lines().enumerate() {
            // Where the line sits in the .ipynb text: the next raw line holding it as a
            // JSON string (nbformat writes one source line per array element).
            let needle = serde_json::to_string(l).unwrap_or_default();
            let needle = needle.trim_matches('"');
            let found = if needle.trim().is_empty() {
                None
            } else {
                raw_lines
                    .iter()
                    .enumerate()
                    .skip(search_from)
                    .find(|(_, r)| r.contains(needle))
                    .map(|(k, _)| k)
            };
            if let Some(k) = found {
                search_from = k;
            }
            let file_line = found.map_or(1, |k| k as u32 + 1);
            map.push((file_line, n + 1, i as u32 + 1));
            text.push_str(l);
            text.push('\n');
        }
        // Cells are separate statements: a blank line between them.
        text.push('\n');
        map.push((1, n + 1, 0));
    }
    Some((text, map))
}

/// Scans a `.py` file or a notebook's code cells.
/// The constant Hub references of a `.py` file or notebook.
pub fn references_in(raw: &str, path: &str) -> Vec<Reference> {
    file_analysis(raw, path, &[]).1
}

/// Scans a `.py` file or a notebook's code cells.
pub fn scan_file_text(raw: &str, path: &str, trusted: &[String]) -> Vec<Finding> {
    file_analysis(raw, path, trusted).0
}

fn file_analysis(raw: &str, path: &str, trusted: &[String]) -> (Vec<Finding>, Vec<Reference>) {
    if path.ends_with(".ipynb") {
        let Some((text, map)) = notebook_code(raw) else {
            return (Vec::new(), Vec::new());
        };
        let lines = |l: u32| {
            map.get(l.saturating_sub(1) as usize)
                .map_or((1, 1), |&(file_line, _, _)| (file_line, 1))
        };
        let (mut out, mut refs) = analyse(&text, path, trusted, &lines);
        // The column of a cell line is not the column in the JSON file.
        for f in &mut out {
            f.location.column = None;
        }
        for r in &mut refs {
            r.location.column = None;
        }
        (out, refs)
    } else {
        analyse(raw, path, trusted, &|l| (l, 1))
    }
}

#[cfg(test)]
mod tests;

/// Whether a file name is Python source or a notebook (a name claim: the bytes of such a
/// file match no binary format).
pub fn detect(p: &crate::sniff::Probe) -> Option<crate::formats::registry::Claim> {
    (p.name_ends_with(".py") || p.name_ends_with(".ipynb"))
        .then_some(crate::formats::registry::Claim::Name)
}

/// The registry's scanner for `.py` / `.ipynb` files (top-level files only: archive
/// members are code a loader may run, which the remote-code analysis judges).
pub fn scan(
    src: &dyn crate::source::ByteSource,
    _ctx: &crate::scan::Ctx,
    loc: &Location,
    out: &mut Vec<Finding>,
) -> &'static str {
    let label = if loc.path.ends_with(".ipynb") {
        "notebook"
    } else {
        "python-source"
    };
    if loc.member.is_some() {
        return label;
    }
    if src.len() > MAX_SOURCE {
        out.push(Finding::new(
            RuleId::ContentNotScanned,
            loc.clone(),
            format!(
                "source file of {} bytes, over {MAX_SOURCE}: its model references were not read",
                src.len()
            ),
        ));
        return label;
    }
    let raw = match src.read_vec(0, src.len() as usize) {
        Ok(b) => b,
        Err(e) => {
            out.push(Finding::new(
                RuleId::ContentNotScanned,
                loc.clone(),
                format!("cannot read the source file: {e}"),
            ));
            return label;
        }
    };
    let text = String::from_utf8_lossy(&raw);
    out.extend(scan_file_text(&text, &loc.path, trusted_orgs()));
    label
}
