//! Repository-level checks: what a loader reads besides the file it is handed. Runs after
//! the per-file scan over the whole set of inputs (local folders, `hf://` repositories,
//! Hugging Face cache snapshots), reading sibling files through the same byte sources
//! (bounded), and adds its findings to the reports of the files they are about.
//!
//! - Hugging Face remote code: a config's `auto_map` / `custom_pipelines` names modules
//!   that `from_pretrained(..., trust_remote_code=True)` imports; those files (and what
//!   they import relatively) are analysed by [`crate::python`], and only those: other
//!   `.py` files of a repository are ordinary scripts and get no behaviour findings.
//! - MLflow pyfunc models: `MLmodel`'s `python_function.loader_module`, imported from the
//!   model's `code/` folder or, when the model does not ship it, from `sys.path`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;

use crate::finding::{shorten, Finding, Location};
use crate::limits::Limits;
use crate::python::code_set::{self, join, parent, CodeSet, Root, Tree};
use crate::python::findings::{behaviour_findings, summary};
use crate::report::{FileReport, FileStatus};
use crate::rules::RuleId;
use crate::source::{ByteSource, FileSource};
use crate::target::{Input, Source};

/// Largest config read.
const MAX_CONFIG: u64 = 4 << 20;

/// Hugging Face config files that carry `auto_map` (models, tokenizers, processors).
const HF_CONFIGS: &[&str] = &[
    "config.json",
    "tokenizer_config.json",
    "preprocessor_config.json",
    "processor_config.json",
    "feature_extractor_config.json",
    "image_processor_config.json",
    "video_preprocessor_config.json",
    "generation_config.json",
];

/// Functions transformers calls on remote classes while loading (besides constructors):
/// `from_pretrained` builds the model and `post_init` initialises weights through these.
const HF_ENTRY_POINTS: &[&str] = &[
    "from_pretrained",
    "from_config",
    "_from_config",
    "post_init",
    "init_weights",
    "_init_weights",
    "tie_weights",
    "from_dict",
    "register_for_auto_class",
];

/// Functions MLflow calls on a pyfunc loader module.
const MLFLOW_ENTRY_POINTS: &[&str] = &["_load_pyfunc", "load_context", "_load_model"];

/// The inputs by display path, readable (excluded files too: the loader still reads them).
struct Index<'a> {
    by_path: HashMap<&'a str, &'a Input>,
}

impl<'a> Index<'a> {
    fn new(inputs: &'a [Input]) -> Index<'a> {
        let mut by_path = HashMap::new();
        for i in inputs {
            if i.error.is_some() {
                continue;
            }
            by_path.insert(i.display.as_str(), i);
        }
        Index { by_path }
    }

    fn exists(&self, path: &str, anchor: &Input) -> bool {
        self.by_path.contains_key(path) || sibling(anchor, path).is_some_and(|s| s.exists())
    }

    /// `path` (a display path), from the inputs or, when this run does not list it (another
    /// `--shard`'s file), beside `anchor` where it is: so that every shard sees the same
    /// repository.
    fn read(
        &self,
        path: &str,
        anchor: &Input,
        limits: &Limits,
        max: u64,
    ) -> Result<Option<String>, String> {
        let bytes = match self.by_path.get(path) {
            Some(input) => read_input(input, limits, max)?,
            // A remote file not listed may simply not exist (`from .m import Name` names a
            // module `m` or a submodule `m/Name.py`): a 404 is "no such file", as a missing
            // local file is; any other failure stays an error.
            None => match sibling(anchor, path) {
                Some(s) if s.exists() => match read_optional(&s.input, limits, max, true)? {
                    Some(b) => b,
                    None => return Ok(None),
                },
                _ => return Ok(None),
            },
        };
        Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
    }
}

/// A file next to `anchor` that the inputs do not list.
struct Sibling {
    input: Input,
}

impl Sibling {
    fn exists(&self) -> bool {
        match &self.input.source {
            Source::Local(p) => p.is_file(),
            // Asked for when read; a failed fetch is then a missing module (reported).
            Source::Remote(_) => true,
        }
    }
}

fn sibling(anchor: &Input, path: &str) -> Option<Sibling> {
    if path.split('/').any(|c| c == "..") {
        return None;
    }
    let source = match (&anchor.source, anchor.origin) {
        // A local display path is the path as walked.
        (Source::Local(_), crate::target::Origin::Local) => {
            Source::Local(std::path::PathBuf::from(path))
        }
        (Source::Remote(r), _) => {
            // The display and the URL end with the same repository path: map the rest.
            let common = anchor
                .display
                .bytes()
                .rev()
                .zip(r.url.bytes().rev())
                .take_while(|(a, b)| a == b)
                .count();
            let dprefix = anchor.display.get(..anchor.display.len() - common)?;
            let uprefix = r.url.get(..r.url.len() - common)?;
            let rest = path.strip_prefix(dprefix)?;
            Source::Remote(std::sync::Arc::new(crate::remote::RemoteFile {
                client: r.client.clone(),
                url: format!("{uprefix}{rest}"),
                size: None,
            }))
        }
        _ => return None,
    };
    Some(Sibling {
        input: Input {
            source,
            display: path.to_string(),
            origin: anchor.origin,
            skip: None,
            error: None,
            aliases: Vec::new(),
        },
    })
}

fn read_input(input: &Input, limits: &Limits, max: u64) -> Result<Vec<u8>, String> {
    read_optional(input, limits, max, false)?.ok_or_else(|| format!("{}: not found", input.display))
}

/// The bytes of `input`; with `missing_ok`, `None` when a remote server says it has no
/// such file (404), otherwise that is an error like any other.
fn read_optional(
    input: &Input,
    limits: &Limits,
    max: u64,
    missing_ok: bool,
) -> Result<Option<Vec<u8>>, String> {
    use crate::remote::http::HttpSource;
    let src: Box<dyn ByteSource> = match &input.source {
        Source::Local(p) => Box::new(FileSource::open(p).map_err(|e| e.to_string())?),
        Source::Remote(r) => {
            let budget = limits.max_member_size.max(4 * crate::remote::http::BLOCK);
            Box::new(match r.size {
                Some(n) => HttpSource::new(r.client.clone(), r.url.clone(), n, budget),
                None if missing_ok => {
                    match HttpSource::open_if_found(r.client.clone(), r.url.clone(), budget)? {
                        Some(s) => s,
                        None => return Ok(None),
                    }
                }
                None => HttpSource::open(r.client.clone(), r.url.clone(), budget)?,
            })
        }
    };
    if src.len() > max {
        return Err(format!(
            "{} bytes, over the {max} bytes read for source and configs",
            src.len()
        ));
    }
    src.read_vec(0, src.len() as usize)
        .map(Some)
        .map_err(|e| format!("cannot read: {e}"))
}

struct IndexTree<'a, 'b> {
    index: &'b Index<'a>,
    anchor: &'b Input,
    limits: &'b Limits,
}

impl Tree for IndexTree<'_, '_> {
    fn read(&self, path: &str) -> Result<Option<String>, String> {
        self.index
            .read(path, self.anchor, self.limits, code_set::MAX_FILE)
    }
}

/// Adds the repository-level findings to `files`.
pub fn repo_findings(inputs: &[Input], files: &mut [FileReport], limits: &Limits) {
    let index = Index::new(inputs);
    let mut out: BTreeMap<String, Vec<Finding>> = BTreeMap::new();
    let mut analysed: BTreeSet<String> = BTreeSet::new();
    // Configs of this run's files, and those of the folders above them (in another shard
    // or excluded, a config still makes the loader import this run's files).
    let mut configs: BTreeMap<String, &Input> = BTreeMap::new();
    let mut probed: BTreeSet<String> = BTreeSet::new();
    for input in inputs.iter().filter(|i| i.error.is_none()) {
        let name = input.display.rsplit('/').next().unwrap_or(&input.display);
        if HF_CONFIGS.contains(&name) || name == "MLmodel" {
            configs.insert(input.display.clone(), input);
        }
        // Only source files need a config this run does not list; each folder is looked
        // at once.
        if !input.display.ends_with(".py") {
            continue;
        }
        let mut dir = parent(&input.display);
        for _ in 0..3 {
            if !probed.insert(dir.to_string()) {
                break;
            }
            for n in HF_CONFIGS.iter().chain(["MLmodel"].iter()) {
                let p = join(dir, n);
                if !configs.contains_key(&p)
                    && !index.by_path.contains_key(p.as_str())
                    && sibling(input, &p)
                        .is_some_and(|s| matches!(s.input.source, Source::Local(_)) && s.exists())
                {
                    configs.insert(p, input);
                }
            }
            if dir.is_empty() {
                break;
            }
            dir = parent(dir);
        }
    }
    for (path, anchor) in configs {
        let name = path.rsplit('/').next().unwrap_or(&path);
        if name == "MLmodel" {
            mlflow_model(&index, &path, anchor, limits, &mut out, &mut analysed);
        } else {
            hf_remote_code(&index, &path, anchor, limits, &mut out, &mut analysed);
        }
    }
    if out.is_empty() {
        return;
    }
    let aliases: HashMap<&str, &[String]> = inputs
        .iter()
        .map(|i| (i.display.as_str(), i.aliases.as_slice()))
        .collect();
    for (path, findings) in out {
        let mut targets = vec![path.clone()];
        if let Some(a) = aliases.get(path.as_str()) {
            targets.extend(a.iter().cloned());
        }
        for t in targets {
            let Some(report) = files.iter_mut().find(|f| f.path == t) else {
                continue;
            };
            for f in &findings {
                let mut f = f.clone();
                f.location.path = t.clone();
                report.findings.push(f);
            }
            if report.status == FileStatus::Skipped {
                report.status = FileStatus::Scanned;
                report.reason = None;
                if analysed.contains(&path) {
                    report.format = Some("python".into());
                } else if report.format.is_none() {
                    report.format = Some("model-config".into());
                }
            }
            report
                .findings
                .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        }
    }
}

/// Line and column (1-based) of byte offset `off` in `text`.
fn line_col(text: &str, off: usize) -> (u32, u32) {
    let before = text.get(..off).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|s| s.chars().count())
        .unwrap_or(0)
        + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(col).unwrap_or(u32::MAX),
    )
}

/// Where `needle` (a JSON string value) first appears after `from` in the config text.
fn locate(text: &str, from: usize, value: &str) -> (u32, u32) {
    let quoted = serde_json::to_string(value).unwrap_or_else(|_| format!("\"{value}\""));
    let off = text
        .get(from..)
        .and_then(|t| t.find(&quoted).map(|i| i + from))
        .or_else(|| text.find(value))
        .unwrap_or(from);
    line_col(text, off)
}

/// One `module.Class` reference of a config.
struct Reference {
    /// Where the loader reads it (`auto_map.AutoModel`, `custom_pipelines.x.impl`).
    key: String,
    value: String,
}

fn references(config: &Value) -> Vec<Reference> {
    let mut out = Vec::new();
    if let Some(map) = config.get("auto_map").and_then(Value::as_object) {
        for (k, v) in map {
            match v {
                Value::String(s) => out.push(Reference {
                    key: format!("auto_map.{k}"),
                    value: s.clone(),
                }),
                Value::Array(items) => {
                    for s in items.iter().filter_map(Value::as_str) {
                        out.push(Reference {
                            key: format!("auto_map.{k}"),
                            value: s.to_string(),
                        });
                    }
                }
                _ => {}
            }
        }
    }
    if let Some(map) = config.get("custom_pipelines").and_then(Value::as_object) {
        for (task, v) in map {
            if let Some(s) = v.get("impl").and_then(Value::as_str) {
                out.push(Reference {
                    key: format!("custom_pipelines.{task}.impl"),
                    value: s.to_string(),
                });
            }
        }
    }
    out.truncate(256);
    out
}

fn hf_remote_code(
    index: &Index,
    path: &str,
    anchor: &Input,
    limits: &Limits,
    out: &mut BTreeMap<String, Vec<Finding>>,
    analysed: &mut BTreeSet<String>,
) {
    let text = match index.read(path, anchor, limits, MAX_CONFIG) {
        Ok(Some(t)) => t,
        // Unreadable configs are the per-file scan's business.
        _ => return,
    };
    // JSON keys may be spelled with escapes (`"\u0061uto_map"`): only text that has
    // neither the keys nor an escape is skipped unparsed.
    if !text.contains("auto_map") && !text.contains("custom_pipelines") && !text.contains("\\u") {
        return;
    }
    let Ok(config) = serde_json::from_str::<Value>(&text) else {
        return;
    };
    let refs = references(&config);
    if refs.is_empty() {
        return;
    }
    let dir = parent(path);
    let key_at = |key: &str| {
        let k = key.split('.').next().unwrap_or(key);
        text.find(&format!("\"{k}\"")).unwrap_or(0)
    };
    let mut findings = Vec::new();
    let mut roots: Vec<Root> = Vec::new();
    let mut root_refs: BTreeMap<String, (String, u32, u32)> = BTreeMap::new();
    for r in &refs {
        let (line, col) = locate(&text, key_at(&r.key), &r.value);
        if let Some((repo, module)) = r.value.split_once("--") {
            findings.push(
                Finding::new(
                    RuleId::RemoteCodeExternal,
                    Location::text(path, line, col),
                    format!(
                        "`{}` is `{}`: from_pretrained(trust_remote_code=True) imports `{}` from `{repo}`, code this model does not ship (another Hub repository, or a folder outside the model's for a path)",
                        r.key,
                        shorten(&r.value, 200),
                        shorten(module, 120)
                    ),
                )
                .with_evidence(shorten(&r.value, 300)),
            );
            continue;
        }
        let Some((module, _class)) = r.value.rsplit_once('.') else {
            findings.push(Finding::new(
                RuleId::RemoteCodeUnresolved,
                Location::text(path, line, col),
                format!(
                    "`{}` is `{}`, not `module.Class`: what the loader imports cannot be known",
                    r.key,
                    shorten(&r.value, 200)
                ),
            ));
            continue;
        };
        let file = join(dir, &format!("{}.py", module.replace('.', "/")));
        root_refs
            .entry(file.clone())
            .or_insert((r.key.clone(), line, col));
        if !roots.iter().any(|x| x.path == file) {
            roots.push(Root { path: file });
        }
    }
    let tree = IndexTree {
        index,
        anchor,
        limits,
    };
    let set = code_set::follow(&tree, &roots, None, HF_ENTRY_POINTS);
    let when = format!(
        "imported by from_pretrained/pipeline with trust_remote_code=True through {}",
        path.rsplit('/').next().unwrap_or(path)
    );
    report_set(
        &set,
        path,
        &root_refs,
        &when,
        "from_pretrained(trust_remote_code=True)",
        &text,
        key_at("auto_map"),
        &mut findings,
        out,
        analysed,
    );
    out.entry(path.to_string()).or_default().extend(findings);
}

/// Findings for a followed set: behaviours at their files, unresolved modules, and the
/// `remote-code-present` summary at the config.
#[allow(clippy::too_many_arguments)]
fn report_set(
    set: &CodeSet,
    config: &str,
    root_refs: &BTreeMap<String, (String, u32, u32)>,
    when: &str,
    loader: &str,
    config_text: &str,
    summary_at: usize,
    config_findings: &mut Vec<Finding>,
    out: &mut BTreeMap<String, Vec<Finding>>,
    analysed: &mut BTreeSet<String>,
) {
    for u in &set.unresolved {
        let why = u
            .error
            .as_deref()
            .map(|e| format!(" ({e})"))
            .unwrap_or_else(|| " (no such file)".into());
        match &u.at {
            None => {
                let (key, line, col) = root_refs
                    .get(&u.tried)
                    .cloned()
                    .unwrap_or_else(|| ("config".into(), 1, 1));
                config_findings.push(Finding::new(
                    RuleId::RemoteCodeUnresolved,
                    Location::text(config, line, col),
                    format!(
                        "`{key}` names module `{}`, which {loader} imports, but `{}` is not in the scanned files{why}: what would run was not scanned",
                        u.module, u.tried
                    ),
                ));
            }
            Some((file, line, col)) => {
                out.entry(file.clone()).or_default().push(Finding::new(
                    RuleId::RemoteCodeUnresolved,
                    Location::text(file.clone(), *line, *col),
                    format!(
                        "imports `{}`, but `{}` is not in the scanned files{why}: what would run was not scanned",
                        u.module, u.tried
                    ),
                ));
            }
        }
    }
    let mut names = Vec::new();
    for f in &set.files {
        analysed.insert(f.path.clone());
        let p = f.path.clone();
        let at = move |line: u32, col: u32| Location::text(p.clone(), line, col);
        let fs = behaviour_findings(&f.analysis, &at, when);
        out.entry(f.path.clone()).or_default().extend(fs);
        let short = f.path.rsplit('/').next().unwrap_or(&f.path).to_string();
        names.push(match &f.imported_by {
            None => format!("{short} ({})", summary(&f.analysis)),
            Some((by, line)) => format!(
                "{short}, imported by {}:{line} ({})",
                by.rsplit('/').next().unwrap_or(by),
                summary(&f.analysis)
            ),
        });
    }
    if set.truncated {
        config_findings.push(Finding::new(
            RuleId::ContentNotScanned,
            Location::file(config),
            format!(
                "more than {} Python files reachable from the modules {loader} imports; the rest was not analysed",
                code_set::MAX_FILES
            ),
        ));
    }
    if !names.is_empty() {
        let (line, col) = line_col(config_text, summary_at);
        config_findings.push(
            Finding::new(
                RuleId::RemoteCodePresent,
                Location::text(config, line, col),
                format!(
                    "{loader} imports Python code shipped with the model: {}",
                    shorten(&names.join("; "), 900)
                ),
            )
            .with_evidence(shorten(
                &set.files
                    .iter()
                    .map(|f| f.path.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                300,
            )),
        );
    }
}

fn mlflow_model(
    index: &Index,
    path: &str,
    anchor: &Input,
    limits: &Limits,
    out: &mut BTreeMap<String, Vec<Finding>>,
    analysed: &mut BTreeSet<String>,
) {
    let Ok(Some(text)) = index.read(path, anchor, limits, MAX_CONFIG) else {
        return;
    };
    let Ok(doc) = serde_yaml::from_str::<serde_yaml::Value>(&text) else {
        return;
    };
    let Some(pyfunc) = doc.get("flavors").and_then(|f| f.get("python_function")) else {
        return;
    };
    let Some(loader) = pyfunc.get("loader_module").and_then(|v| v.as_str()) else {
        return;
    };
    let dir = parent(path);
    let key_off = text.find("loader_module").unwrap_or(0);
    let (line, col) = line_col(&text, key_off);
    let code = pyfunc.get("code").and_then(|v| v.as_str());
    let mut findings = Vec::new();
    let module_rel = loader.replace('.', "/");
    let shipped = code.and_then(|c| {
        let base = join(dir, c.trim_end_matches('/'));
        [
            join(&base, &format!("{module_rel}.py")),
            join(&base, &format!("{module_rel}/__init__.py")),
        ]
        .into_iter()
        .find(|p| index.exists(p, anchor))
        .map(|p| (base, p))
    });
    match shipped {
        Some((base, file)) => {
            let tree = IndexTree {
                index,
                anchor,
                limits,
            };
            let mut refs = BTreeMap::new();
            refs.insert(
                file.clone(),
                ("flavors.python_function.loader_module".into(), line, col),
            );
            let set = code_set::follow(
                &tree,
                &[Root { path: file }],
                Some(&base),
                MLFLOW_ENTRY_POINTS,
            );
            report_set(
                &set,
                path,
                &refs,
                "imported by mlflow.pyfunc.load_model, which calls its _load_pyfunc",
                "mlflow.pyfunc.load_model",
                &text,
                key_off,
                &mut findings,
                out,
                analysed,
            );
        }
        None if is_mlflow_flavor(loader) => {}
        None => {
            findings.push(
                Finding::new(
                    RuleId::RemoteCodeExternal,
                    Location::text(path, line, col),
                    format!(
                        "MLmodel `loader_module: {}` is not shipped under the model's code folder{} and is not an MLflow flavor module: mlflow.pyfunc.load_model imports whatever module `{}` is on sys.path and calls its _load_pyfunc",
                        shorten(loader, 120),
                        code.map(|c| format!(" (`{c}`)")).unwrap_or_else(|| " (the model has no `code:`)".into()),
                        shorten(loader, 120)
                    ),
                )
                .with_evidence(format!("loader_module: {}", shorten(loader, 200))),
            );
        }
    }
    out.entry(path.to_string()).or_default().extend(findings);
}

/// Loader modules MLflow itself provides (`mlflow.sklearn`, `mlflow.pytorch`, ...).
fn is_mlflow_flavor(m: &str) -> bool {
    m.starts_with("mlflow.")
        && m.split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_cover_auto_map_forms() {
        let v: Value = serde_json::from_str(
            r#"{"auto_map": {"AutoModel": "modeling_x.M", "AutoTokenizer": ["tok.T", null], "AutoConfig": "../r--configuration_x.C"},
                "custom_pipelines": {"t": {"impl": "pipe.P", "pt": ["AutoModel"]}}}"#,
        )
        .unwrap();
        let mut got: Vec<String> = references(&v).into_iter().map(|r| r.value).collect();
        got.sort();
        assert_eq!(
            got,
            ["../r--configuration_x.C", "modeling_x.M", "pipe.P", "tok.T"]
        );
        assert_eq!(line_col("a\nbc\nd", 4), (2, 3));
        assert!(is_mlflow_flavor("mlflow.sklearn"));
        assert!(!is_mlflow_flavor("mg_site_loader"));
        assert!(!is_mlflow_flavor("mlflow..x"));
    }
}
