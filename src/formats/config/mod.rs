//! Text configs that a loader turns into code: Hydra/OmegaConf configs with `_target_`
//! keys (plain Hydra configs, NeMo's `model_config.yaml` inside a `.nemo`, Lightning's
//! `hparams.yaml`), and chat templates outside GGUF (`chat_template` in
//! `tokenizer_config.json` or a processor's `chat_template.json`, `chat_template.jinja`
//! files), which runtimes that render them outside Jinja's sandbox run.
//!
//! Routing is by name and content, and cheap for ordinary files: a `.yaml`/`.yml`/`.json`
//! is claimed only when its text, with the escapes a YAML or JSON loader decodes
//! (`\x67`, `\u0067`, escaped line breaks), mentions `_target_` or `chat_template`; a
//! `model_config.yaml` (NeMo) and `.jinja` files always are. The text is then parsed with
//! a real YAML parser (JSON is YAML 1.2), so flow mappings, quoted keys, anchors, aliases
//! and merge keys are seen as the loader sees them, and every finding has the line of the
//! value it is about.

pub mod chat;
pub mod hydra;
pub mod pytag;
pub mod tree;

use crate::finding::{Finding, Location, Severity};
use crate::rules::RuleId;
use crate::scan::Ctx;
use crate::sniff::Probe;
use crate::source::ByteSource;

use hydra::Verdict;

/// Largest config read (bytes): configs are small; a larger file is read up to here for
/// detection and reported as not scanned when it would be claimed.
pub const MAX_TEXT: u64 = 64 << 20;
/// Nodes and nesting of one parsed document.
const MAX_NODES: usize = 2_000_000;
const MAX_DEPTH: usize = 512;
/// Target findings listed per file; more are counted in one.
const MAX_TARGET_FINDINGS: usize = 200;

/// What a claimed file is read as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// YAML or JSON (a mapping tree).
    Tree,
    /// A Jinja template file.
    Jinja,
    /// TOML (read for model references only).
    Toml,
}

fn base_name(name: &str) -> &str {
    name.rsplit(['/', '\\', '!']).next().unwrap_or(name)
}

fn kind_of(name: &str) -> Option<Kind> {
    let lower = base_name(name).to_ascii_lowercase();
    if lower.ends_with(".jinja") || lower.ends_with(".jinja2") || lower.ends_with(".j2") {
        Some(Kind::Jinja)
    } else if lower.ends_with(".yaml") || lower.ends_with(".yml") || lower.ends_with(".json") {
        Some(Kind::Tree)
    } else if lower.ends_with(".toml") {
        Some(Kind::Toml)
    } else {
        None
    }
}

fn is_nemo_config(name: &str) -> bool {
    base_name(name).eq_ignore_ascii_case("model_config.yaml")
}

/// Searches text for the names that make a config worth parsing, with the escapes YAML
/// double-quoted scalars and JSON strings decode applied on the way (`\xHH`, `\uHHHH`,
/// `\UHHHHHHHH`, an escaped line break with the whitespace after it), so that a key
/// spelled `"_tar\x67et_"` is found. Other escapes stay as written: they cannot produce
/// the letters searched for. Streams: constant memory, any number of [`Searcher::feed`]s.
#[derive(Default)]
struct Searcher {
    /// The last bytes produced (enough for the longest needle).
    window: Vec<u8>,
    /// Bytes of an escape being read (`\`, the letter, hex digits).
    escape: Vec<u8>,
    /// After an escaped line break: whitespace is dropped.
    skip_ws: bool,
    found: Mentions,
}

/// What the text mentions that makes it worth parsing.
#[derive(Default, Clone, Copy)]
struct Mentions {
    target: bool,
    chat_template: bool,
    /// A YAML tag that may be one of PyYAML's Python tags (`!!python/`, a `%TAG` or
    /// verbatim `tag:yaml.org,2002:` prefix, a `%`-escaped `!!` suffix).
    py_tag: bool,
    /// A key that names a model the config loads (`crate::refs::config::KEYS`).
    model_key: bool,
}

const NEEDLE_TARGET: &[u8] = b"_target_";
const NEEDLE_TEMPLATE: &[u8] = b"chat_template";
const NEEDLES_PY_TAG: &[&[u8]] = &[b"!!p", b"!!%", b"tag:yaml.org,2002:"];
/// Substrings of every key of `crate::refs::config::KEYS` (a test checks it).
const NEEDLES_MODEL_KEY: &[&[u8]] = &[b"model_name_or_path", b"base_model", b"tokenizer_name"];
/// The longest needle.
const WINDOW: usize = 18;

impl Searcher {
    fn emit(&mut self, b: u8) {
        if self.window.len() >= WINDOW {
            self.window.remove(0);
        }
        self.window.push(b);
        self.found.target |= self.window.ends_with(NEEDLE_TARGET);
        self.found.chat_template |= self.window.ends_with(NEEDLE_TEMPLATE);
        self.found.py_tag |= NEEDLES_PY_TAG.iter().any(|n| self.window.ends_with(n));
        self.found.model_key |= NEEDLES_MODEL_KEY.iter().any(|n| self.window.ends_with(n));
    }

    fn emit_all(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.emit(b);
        }
    }

    fn feed(&mut self, text: &[u8]) {
        for &b in text {
            if self.skip_ws {
                if matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                    continue;
                }
                self.skip_ws = false;
            }
            if self.escape.is_empty() {
                if b == b'\\' {
                    self.escape.push(b);
                } else {
                    self.emit(b);
                }
                continue;
            }
            self.escape.push(b);
            let want = match self.escape.get(1) {
                Some(b'x') => 2,
                Some(b'u') => 4,
                Some(b'U') => 8,
                Some(b'\n' | b'\r') => {
                    self.escape.clear();
                    self.skip_ws = true;
                    continue;
                }
                _ => {
                    // Not an escape that can spell a letter: the bytes as written.
                    let e = std::mem::take(&mut self.escape);
                    self.emit_all(&e);
                    continue;
                }
            };
            let digits = self.escape.get(2..).unwrap_or_default();
            if !digits.iter().all(u8::is_ascii_hexdigit) {
                let e = std::mem::take(&mut self.escape);
                self.emit_all(&e);
                continue;
            }
            if digits.len() < want {
                continue;
            }
            let e = std::mem::take(&mut self.escape);
            let ch = std::str::from_utf8(e.get(2..).unwrap_or_default())
                .ok()
                .and_then(|d| u32::from_str_radix(d, 16).ok())
                .and_then(char::from_u32);
            match ch {
                Some(ch) => {
                    let mut buf = [0u8; 4];
                    self.emit_all(ch.encode_utf8(&mut buf).as_bytes());
                }
                None => self.emit_all(&e),
            }
        }
    }

    fn done(&self) -> bool {
        self.found.target && self.found.chat_template && self.found.py_tag && self.found.model_key
    }
}

fn mentions_of(text: &[u8]) -> Mentions {
    let mut s = Searcher::default();
    s.feed(text);
    s.found
}

/// Whether the text (escapes decoded) mentions a key that names a model.
pub fn mentions_model_key(text: &[u8]) -> bool {
    mentions_of(text).model_key
}

/// Bytes read at a time when searching a file.
const CHUNK: usize = 1 << 20;

/// Searches `src` from the start, at most `max` bytes, a chunk at a time.
fn search(src: &dyn ByteSource, max: u64, ctx: &Ctx) -> Mentions {
    let mut s = Searcher::default();
    let end = src.len().min(max);
    let mut pos = 0u64;
    while pos < end && !s.done() && !ctx.expired() {
        let n = usize::try_from((end - pos).min(CHUNK as u64)).unwrap_or(CHUNK);
        let Ok(chunk) = src.read_vec(pos, n) else {
            break;
        };
        if chunk.is_empty() {
            break;
        }
        s.feed(&chunk);
        pos += chunk.len() as u64;
    }
    s.found
}

/// Reads at most [`MAX_TEXT`] bytes of `src`.
fn read_text(src: &dyn ByteSource) -> std::io::Result<Vec<u8>> {
    let n = usize::try_from(src.len().min(MAX_TEXT)).unwrap_or(usize::MAX);
    src.read_vec(0, n)
}

/// The detector: a name claim for configs a loader instantiates or templates it renders.
/// Reads the file only when the name is `.yaml`, `.yml` or `.json`, and only to search
/// it: streamed a chunk at a time, at most `limits.max-member-size` bytes (a larger file
/// whose first bytes mention neither name is not claimed). A claimed file over
/// [`MAX_TEXT`] is reported as not scanned by [`scan`].
pub fn detect(p: &Probe) -> Option<crate::formats::registry::Claim> {
    use crate::formats::registry::Claim;
    let kind = kind_of(p.name)?;
    if kind == Kind::Jinja || is_nemo_config(p.name) {
        return Some(Claim::Name);
    }
    let m = if p.src.len() <= p.head.len() as u64 {
        mentions_of(p.head)
    } else {
        search(p.src, p.ctx.limits.max_member_size, p.ctx)
    };
    if kind == Kind::Toml {
        return m.model_key.then_some(Claim::Name);
    }
    let yaml = !base_name(p.name).to_ascii_lowercase().ends_with(".json");
    (m.target || m.chat_template || m.model_key || (yaml && m.py_tag)).then_some(Claim::Name)
}

/// The location of `pos` in the file (or member) at `loc`.
fn at(loc: &Location, pos: tree::Pos) -> Location {
    Location {
        line: Some(pos.line.max(1)),
        column: Some(pos.col.max(1)),
        offset: None,
        ..loc.clone()
    }
}

/// Scans a claimed config; returns the label (`hydra-config` or `chat-template`).
pub fn scan(
    src: &dyn ByteSource,
    ctx: &Ctx,
    loc: &Location,
    out: &mut Vec<Finding>,
) -> &'static str {
    let name = loc.member.as_deref().unwrap_or(&loc.path);
    let kind = kind_of(name).unwrap_or(Kind::Tree);
    let max = MAX_TEXT.min(ctx.limits.max_member_size);
    if src.len() > max {
        out.push(Finding::new(
            RuleId::ContentNotScanned,
            loc.clone(),
            format!(
                "config of {} bytes is over the {max}-byte limit for configs and templates; it was not checked",
                src.len()
            ),
        ));
        return if kind == Kind::Jinja {
            "chat-template"
        } else {
            "hydra-config"
        };
    }
    let bytes = match read_text(src) {
        Ok(b) => b,
        Err(e) => {
            out.push(Finding::new(
                RuleId::ContentNotScanned,
                loc.clone(),
                format!("cannot read: {e}"),
            ));
            return "hydra-config";
        }
    };
    let text = String::from_utf8_lossy(&bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    if kind == Kind::Jinja {
        chat::file_findings(text, loc, out);
        return "chat-template";
    }
    if kind == Kind::Toml {
        if loc.member.is_none() {
            match crate::refs::config::text_analysis(text, &loc.path, crate::refs::trusted_orgs()) {
                Ok((findings, _)) => out.extend(findings),
                Err((msg, (line, column))) => out.push(Finding::new(
                    RuleId::ContentNotScanned,
                    Location {
                        line: Some(line),
                        column: Some(column),
                        ..loc.clone()
                    },
                    format!(
                        "the config names a model but is not TOML modelgate can parse ({}); its model references were not read",
                        crate::finding::shorten(&msg, 200)
                    ),
                )),
            }
        }
        return "model-config";
    }
    let m = mentions_of(&bytes);
    let nemo = is_nemo_config(name);
    let doc = match tree::parse(text, MAX_NODES, MAX_DEPTH) {
        Ok(d) => d,
        Err(e) => {
            if m.model_key && !(m.target || m.chat_template || m.py_tag || nemo) {
                out.push(Finding::new(
                    RuleId::ContentNotScanned,
                    at(loc, e.pos),
                    format!(
                        "the config names a model but is not YAML/JSON modelgate can parse ({}); its model references were not read",
                        crate::finding::shorten(&e.msg, 200)
                    ),
                ));
                return "model-config";
            }
            if m.target || m.chat_template || m.py_tag || nemo {
                out.push(Finding::new(
                    RuleId::ContentNotScanned,
                    at(loc, e.pos),
                    format!(
                        "the config mentions {} but is not YAML/JSON modelgate can parse ({}); a loader may still read it, so it was not checked",
                        if m.target || nemo {
                            "`_target_`"
                        } else if m.chat_template {
                            "`chat_template`"
                        } else {
                            "YAML tags"
                        },
                        crate::finding::shorten(&e.msg, 200)
                    ),
                ));
            }
            return if m.chat_template && !m.target && !nemo {
                "chat-template"
            } else {
                "hydra-config"
            };
        }
    };
    let (targets, stopped) = hydra::targets(&doc, nemo);
    target_findings(&targets, ctx, loc, out);
    if stopped {
        out.push(Finding::new(
            RuleId::ContentNotScanned,
            loc.clone(),
            "the config is larger than the walk's budget; the rest of it was not checked",
        ));
    }
    pytag::findings(&doc, ctx, loc, out);
    let templates = chat::tree_findings(&doc, loc, out);
    // The models the config names (top-level files: a member is judged by its archive's
    // loader, see `crate::refs::scan`).
    let mut refs = 0;
    if m.model_key && loc.member.is_none() {
        let (findings, r) =
            crate::refs::config::doc_analysis(&doc, &loc.path, crate::refs::trusted_orgs());
        refs = r.len();
        out.extend(findings);
    }
    if targets.is_empty() && (templates > 0 || (m.chat_template && !m.target && !nemo)) {
        "chat-template"
    } else if targets.is_empty() && !m.target && !nemo && (refs > 0 || m.model_key) {
        "model-config"
    } else {
        "hydra-config"
    }
}

fn target_findings(targets: &[hydra::Target], ctx: &Ctx, loc: &Location, out: &mut Vec<Finding>) {
    let mut safe: Vec<String> = Vec::new();
    let mut listed = 0usize;
    let mut dropped = 0usize;
    for t in targets {
        let Some(f) = target_finding(t, ctx, loc, &mut safe) else {
            continue;
        };
        if listed < MAX_TARGET_FINDINGS {
            out.push(f);
            listed += 1;
        } else {
            dropped += 1;
        }
    }
    if dropped > 0 {
        out.push(Finding::new(
            RuleId::HydraTargetUnknown,
            loc.clone(),
            format!("{dropped} more targets in this config were not listed"),
        ));
    }
    if listed == 0 && !safe.is_empty() {
        let first = targets.first().map(|t| t.pos).unwrap_or_default();
        safe.sort();
        safe.dedup();
        let shown: Vec<String> = safe.iter().take(8).cloned().collect();
        out.push(
            Finding::new(
                RuleId::HydraTargets,
                at(loc, first),
                format!(
                    "the config instantiates {} target(s), all known-safe constructors ({}{})",
                    targets.len(),
                    shown.join(", "),
                    if safe.len() > shown.len() {
                        ", ..."
                    } else {
                        ""
                    }
                ),
            )
            .with_evidence(crate::finding::shorten(&shown.join(", "), 300)),
        );
    }
}

/// The finding for one target (`None` for a known-safe one, whose name goes to `safe`).
fn target_finding(
    t: &hydra::Target,
    ctx: &Ctx,
    loc: &Location,
    safe: &mut Vec<String>,
) -> Option<Finding> {
    let key = if t.nemo_class {
        "NeMo's `target` (the model class restore_from imports and instantiates)"
    } else {
        "`_target_`"
    };
    let partial = if t.partial {
        " (`_partial_`: instantiate returns a functools.partial, and the call happens when the application uses it)"
    } else {
        ""
    };
    let raw = crate::finding::shorten(&t.raw, 200);
    let resolved = match &t.resolved {
        Ok(r) => r.clone(),
        Err(why) => {
            return Some(
                Finding::new(
                    RuleId::HydraTargetDynamic,
                    at(loc, t.pos),
                    format!(
                        "{} has {key} `{raw}`, which cannot be resolved from the file: {why}; hydra.utils.instantiate imports and calls whatever it resolves to at load time",
                        t.path
                    ),
                )
                .with_evidence(raw),
            )
        }
    };
    let shown = crate::finding::shorten(&resolved, 200);
    let evidence = if resolved == t.raw {
        shown.clone()
    } else {
        format!("{raw} -> {shown}")
    };
    let verdict = hydra::judge(&resolved, t.trust_remote_code, ctx.allow);
    let (rule, what) = match verdict {
        Verdict::Safe(_) => {
            safe.push(shown);
            return None;
        }
        Verdict::Code(why) => (
            RuleId::HydraTargetCodeExecution,
            format!("`{shown}`, which {why}"),
        ),
        Verdict::System(why) => (
            RuleId::HydraTargetSystemAccess,
            format!("`{shown}`, which {why}"),
        ),
        Verdict::Unknown => (
            RuleId::HydraTargetUnknown,
            format!("`{shown}`, which is not on the table of known-safe constructors: review what it does before loading"),
        ),
    };
    let how = if resolved == t.raw {
        String::new()
    } else {
        format!(" (`{raw}` after interpolation)")
    };
    Some(
        Finding::new(
            rule,
            at(loc, t.pos),
            format!(
                "{} has {key}{how} {what}: hydra.utils.instantiate imports and calls it when the config is instantiated{partial}",
                t.path
            ),
        )
        .with_evidence(evidence),
    )
}

/// The severity a chat-template hit maps to (critical: reaches internals; high: dynamic).
fn template_rule(sev: Severity) -> Option<RuleId> {
    match sev {
        Severity::Critical => Some(RuleId::ChatTemplateInjection),
        Severity::High => Some(RuleId::ChatTemplateDynamicAccess),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
