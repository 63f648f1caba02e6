//! Hydra/OmegaConf instantiation: every mapping with a `_target_` key is a call that
//! `hydra.utils.instantiate` makes, recursively (the default `_recursive_: true`), with the
//! other keys (and `_args_`) as arguments; `_partial_: true` returns a
//! `functools.partial` the application calls later. NeMo restores a `.nemo` archive by
//! instantiating the sub-configs of its `model_config.yaml` (and importing the class its
//! top-level `target` names); Lightning's `hparams.yaml` holds the configs a Hydra-built
//! module instantiates.
//!
//! A target is judged by what it names once OmegaConf's interpolations in the same
//! document are resolved (`${mod}.${fn}`, relative `${.x}`, nested `${a.${b}}`): on a
//! dangerous list (pickle's tables, plus the callables that run code themselves:
//! `sympy.sympify`, `torch.hub.load`, anything with `trust_remote_code`) it is critical or
//! high; on the data table of known-safe constructors (`safe_targets.txt`) it is low;
//! anything else is medium, and so is a target that cannot be resolved (a resolver such as
//! `${oc.env:X}`, a key that is not in the document).

use std::collections::HashSet;
use std::sync::OnceLock;

use super::tree::{Doc, Id, Kind, Pos};
use crate::formats::pickle::globals::{classify, Tier, Use};

/// Interpolations followed inside one another (OmegaConf follows any number, but a
/// document can make a cycle).
const MAX_INTERP_DEPTH: usize = 16;
/// Longest resolved target kept (a resolved string can grow with each level).
const MAX_TARGET: usize = 1024;
/// Nodes visited per document walk.
const MAX_VISITS: usize = 2_000_000;
/// Interpolations resolved per target (a chain of values each interpolating the next
/// several times would otherwise be exponential).
const MAX_INTERP_WORK: usize = 10_000;

/// One `_target_` (or NeMo `target`) a loader would instantiate.
#[derive(Debug, Clone)]
pub struct Target {
    /// The key path to the mapping (`model.encoder`, `hooks[0]`).
    pub path: String,
    /// The value as written (after YAML decoding).
    pub raw: String,
    /// What it resolves to, or why it cannot be resolved.
    pub resolved: Result<String, String>,
    /// Where the value is (for a merged entry: the merge key that brought it).
    pub pos: Pos,
    pub partial: bool,
    /// A `trust_remote_code` argument that is not plainly false.
    pub trust_remote_code: bool,
    /// NeMo's top-level `target` (the model class restore_from imports).
    pub nemo_class: bool,
}

/// How a target is judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Runs commands or code (critical).
    Code(String),
    /// Reaches files or the network, or resolves attributes dynamically (high).
    System(String),
    /// Not known either way (medium).
    Unknown,
    /// On the known-safe table (low).
    Safe(&'static str),
}

/// Callables that run code themselves, whatever a blocklist of `os`/`subprocess`/`exec`
/// says (hydra-core 1.3.8's `target_policy` blocklist does not list them): (target, why).
/// An entry ending in `.` covers the prefix.
const RUNS_CODE: &[(&str, &str)] = &[
    ("sympy.sympify", "evaluates a string argument with eval"),
    (
        "sympy.core.sympify.sympify",
        "evaluates a string argument with eval",
    ),
    ("sympy.S", "sympifies its argument (eval of a string)"),
    (
        "sympy.simplify",
        "sympifies its argument (eval of a string)",
    ),
    ("sympy.parse_expr", "evaluates a string argument with eval"),
    (
        "sympy.parsing.sympy_parser.parse_expr",
        "evaluates a string argument with eval",
    ),
    ("sympy.parsing.", "evaluates a string argument"),
    (
        "sympy.lambdify",
        "compiles and execs generated code from its arguments",
    ),
    (
        "sympy.utilities.lambdify.lambdify",
        "compiles and execs generated code from its arguments",
    ),
    ("pandas.eval", "evaluates a string expression"),
    (
        "pandas.core.computation.eval.eval",
        "evaluates a string expression",
    ),
    (
        "numexpr.evaluate",
        "evaluates a string expression (code injection before 2.8.5)",
    ),
    (
        "torch.hub.load",
        "imports hubconf.py from the repository or folder it names",
    ),
    ("torch.hub.", "downloads and imports code"),
    ("torch.load", "unpickles a file"),
    ("torch.jit.load", "loads TorchScript code"),
    ("torch.package.", "imports packaged Python code"),
    (
        "hydra.utils.instantiate",
        "instantiates another config (nested instantiation escapes blocklists)",
    ),
    ("hydra.utils.call", "calls another config's target"),
    ("hydra.utils.get_method", "resolves any callable by name"),
    ("hydra.utils.get_class", "resolves any class by name"),
    ("hydra.utils.get_object", "resolves any object by name"),
    (
        "hydra._internal.instantiate.",
        "instantiates another config (nested instantiation escapes blocklists)",
    ),
    (
        "hydra._internal.utils._locate",
        "resolves any object by name",
    ),
    (
        "hydra._internal.utils.call",
        "calls another config's target",
    ),
    (
        "hydra._internal.utils.run_and_report",
        "runs a function it is given",
    ),
    (
        "omegaconf.OmegaConf.load",
        "reads another config, whose targets are then instantiated",
    ),
    (
        "transformers.dynamic_module_utils.",
        "imports remote-code modules",
    ),
    (
        "datasets.load_dataset",
        "runs the dataset's loading script (datasets before 2.16 without asking)",
    ),
    (
        "lightning.pytorch.cli.",
        "parses and instantiates further configuration",
    ),
    (
        "pytorch_lightning.cli.",
        "parses and instantiates further configuration",
    ),
    (
        "jsonargparse.",
        "parses and instantiates further configuration",
    ),
    ("fire.", "runs a command line"),
];

/// Reads `safe_targets.txt`: (exact targets, prefixes, never-safe final attributes), each
/// with its reason.
struct SafeTable {
    exact: Vec<(&'static str, &'static str)>,
    prefixes: Vec<(&'static str, &'static str)>,
    never: HashSet<&'static str>,
}

fn safe_table() -> &'static SafeTable {
    static T: OnceLock<SafeTable> = OnceLock::new();
    T.get_or_init(|| {
        let mut t = SafeTable {
            exact: Vec::new(),
            prefixes: Vec::new(),
            never: HashSet::new(),
        };
        for line in include_str!("safe_targets.txt").lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (name, why) = line
                .split_once(char::is_whitespace)
                .map(|(n, w)| (n, w.trim()))
                .unwrap_or((line, ""));
            if let Some(n) = name.strip_prefix('!') {
                t.never.insert(n);
            } else if name.ends_with('.') {
                t.prefixes.push((name, why));
            } else {
                t.exact.push((name, why));
            }
        }
        t
    })
}

fn matches_entry(target: &str, entry: &str) -> bool {
    if entry.ends_with('.') {
        target.starts_with(entry)
    } else {
        target == entry
    }
}

/// Judges a resolved target. `allow` is the project's `allow.globals`.
pub fn judge(target: &str, trust_remote_code: bool, allow: &dyn Fn(&str, &str) -> bool) -> Verdict {
    if trust_remote_code {
        return Verdict::Code(
            "is called with trust_remote_code, so it imports the Python files the model's config names (auto_map)".into(),
        );
    }
    let t = target.trim();
    let parts: Vec<&str> = t.split('.').collect();
    // Hydra's `_locate` imports the longest module prefix and walks attributes for the
    // rest, so `torch.nn.modules.module.sympy.sympify` (were sympy imported there) is
    // sympify: every suffix is checked.
    for i in 0..parts.len() {
        let Some(tail) = parts.get(i..) else {
            break;
        };
        let suffix = tail.join(".");
        if let Some((_, why)) = RUNS_CODE.iter().find(|(e, _)| matches_entry(&suffix, e)) {
            return Verdict::Code(if i == 0 {
                (*why).into()
            } else {
                format!("reaches `{suffix}` through attributes, which {why}")
            });
        }
    }
    // Try every split, as the pickle classifier does for a dotted name.
    let mut worst: Option<(Tier, String)> = None;
    let mut safe_call = false;
    for i in 1..parts.len() {
        let Some((head, tail)) = parts.split_at_checked(i) else {
            break;
        };
        let module = head.join(".");
        let name = tail.join(".");
        let c = classify(&module, &name, allow);
        let shown = c.resolved.clone().unwrap_or_else(|| t.to_string());
        // A dotted name is how Hydra spells every target: the pickle classifier's
        // `Dynamic` for an attribute walk says nothing here, only what the walk reaches.
        let dotted_walk = name.contains('.') && c.tier == Tier::Dynamic;
        if !dotted_walk
            && matches!(c.tier, Tier::Code | Tier::System | Tier::Dynamic)
            && worst.as_ref().is_none_or(|(w, _)| c.tier > *w)
        {
            let why = if shown == t {
                c.why.to_string()
            } else {
                format!("resolves to `{shown}`, which {}", c.why)
            };
            worst = Some((c.tier, why));
        }
        if i == parts.len() - 1 && c.tier == Tier::Safe && c.max_use == Use::Call && !c.wrapper {
            safe_call = true;
        }
    }
    if parts.len() == 1 {
        let c = classify(t, "", allow);
        if matches!(c.tier, Tier::Code | Tier::System) {
            worst = Some((c.tier, format!("imports module `{t}`, which {}", c.why)));
        }
    }
    match worst {
        Some((Tier::Code, why)) => return Verdict::Code(why),
        Some((_, why)) => return Verdict::System(why),
        None => {}
    }
    let table = safe_table();
    let last = parts.last().copied().unwrap_or("");
    if !table.never.contains(last) {
        if let Some((_, why)) = table
            .exact
            .iter()
            .chain(table.prefixes.iter())
            .find(|(e, _)| matches_entry(t, e))
        {
            return Verdict::Safe(why);
        }
        if safe_call {
            return Verdict::Safe("known-safe ML global (the pickle allowlist, vetted as a call)");
        }
    }
    if let Some((m, n)) = t.rsplit_once('.') {
        if allow(m, n) {
            return Verdict::Safe("allowed by allow.globals");
        }
    }
    Verdict::Unknown
}

/// Every target a load would instantiate in `doc`. `nemo` adds NeMo's top-level
/// `target` of a `model_config.yaml`. Returns the targets and whether the walk stopped at
/// its visit budget.
pub fn targets(doc: &Doc, nemo: bool) -> (Vec<Target>, bool) {
    let mut w = Walker {
        doc,
        out: Vec::new(),
        visits: 0,
        stopped: false,
        work: std::cell::Cell::new(0),
    };
    for &root in &doc.roots {
        if nemo && doc.is_map(root) {
            for e in doc.all(root, "target") {
                if let Some(t) = w.target_at(&[root], root, e.value, e.merged_at, "target", true) {
                    w.out.push(t);
                }
            }
        }
        let mut chain = vec![root];
        let mut path = Vec::new();
        w.walk(root, &mut chain, &mut path);
    }
    (w.out, w.stopped)
}

struct Walker<'d> {
    doc: &'d Doc,
    out: Vec<Target>,
    visits: usize,
    stopped: bool,
    /// Interpolations resolved for the current target.
    work: std::cell::Cell<usize>,
}

fn show_path(path: &[String]) -> String {
    if path.is_empty() {
        "the top level".into()
    } else {
        let mut s = String::new();
        for p in path {
            if !p.starts_with('[') && !s.is_empty() {
                s.push('.');
            }
            s.push_str(p);
        }
        format!("`{}`", crate::finding::shorten(&s, 120))
    }
}

impl Walker<'_> {
    /// Walks the tree as written (aliases are not followed: the anchored node is walked
    /// where it is defined); `chain` holds the containers from the root to `id`.
    fn walk(&mut self, id: Id, chain: &mut Vec<Id>, path: &mut Vec<String>) {
        self.visits += 1;
        if self.visits > MAX_VISITS {
            self.stopped = true;
            return;
        }
        let Some(node) = self.doc.node(id) else {
            return;
        };
        match &node.kind {
            Kind::Map(items) => {
                for e in self.doc.all(id, "_target_") {
                    let p = show_path(path);
                    if let Some(t) = self.target_at(chain, id, e.value, e.merged_at, &p, false) {
                        self.out.push(t);
                    }
                }
                for &(k, v) in items {
                    let key = self.doc.scalar(k).unwrap_or("?");
                    path.push(crate::finding::shorten(key, 40));
                    chain.push(v);
                    self.walk(v, chain, path);
                    chain.pop();
                    path.pop();
                }
            }
            Kind::Seq(items) => {
                for (i, &v) in items.iter().enumerate() {
                    path.push(format!("[{i}]"));
                    chain.push(v);
                    self.walk(v, chain, path);
                    chain.pop();
                    path.pop();
                }
            }
            Kind::Scalar { .. } | Kind::Alias(_) => {}
        }
    }

    /// The target of map `map` whose `_target_` value node is `value`. `chain` ends with
    /// `map`.
    fn target_at(
        &self,
        chain: &[Id],
        map: Id,
        value: Id,
        merged_at: Option<Pos>,
        path: &str,
        nemo_class: bool,
    ) -> Option<Target> {
        let raw = self.doc.scalar(value)?.to_string();
        self.work.set(0);
        let pos = merged_at.unwrap_or(self.doc.node(value)?.pos);
        let resolved = self.resolve(&raw, chain, 0).and_then(|s| {
            if s.trim().is_empty() {
                Err("it resolves to an empty string".into())
            } else {
                Ok(s)
            }
        });
        let flag = |key: &str, plain_default: bool| -> bool {
            let Some(e) = self.doc.get(map, key) else {
                return false;
            };
            truthy(self.doc, e.value, chain, self).unwrap_or(plain_default)
        };
        Some(Target {
            path: path.to_string(),
            raw,
            resolved,
            pos,
            partial: flag("_partial_", false),
            trust_remote_code: flag("trust_remote_code", true),
            nemo_class,
        })
    }

    /// OmegaConf string interpolation: `${key.path}` (absolute), `${.rel}` / `${..rel}`
    /// (relative to the node holding the value), nested `${a.${b}}`, `\${` escaped.
    /// Resolver calls (`${oc.env:X}`, custom resolvers) cannot be resolved statically.
    fn resolve(&self, s: &str, chain: &[Id], depth: usize) -> Result<String, String> {
        if depth > MAX_INTERP_DEPTH {
            return Err("its interpolations nest deeper than modelgate follows (or loop)".into());
        }
        let mut out = String::new();
        let mut rest = s;
        while let Some(at) = rest.find("${") {
            if rest[..at].ends_with('\\') {
                out.push_str(&rest[..at - 1]);
                out.push_str("${");
                rest = &rest[at + 2..];
                continue;
            }
            out.push_str(&rest[..at]);
            let body = &rest[at + 2..];
            let Some(end) = closing(body) else {
                return Err("an interpolation is not closed".into());
            };
            let inner = &body[..end];
            self.work.set(self.work.get() + 1);
            if self.work.get() > MAX_INTERP_WORK {
                return Err("its interpolations take more steps than modelgate follows".into());
            }
            if let Some(name) = resolver_name(inner) {
                return Err(format!(
                    "it calls the OmegaConf resolver `{}`, whose value is only known at load time",
                    crate::finding::shorten(name, 60)
                ));
            }
            let key = self.resolve(inner, chain, depth + 1)?;
            let (node, node_chain) = self.lookup(key.trim(), chain).ok_or_else(|| {
                format!(
                    "`${{{}}}` names no value in this document",
                    crate::finding::shorten(key.trim(), 80)
                )
            })?;
            let text = self.doc.scalar(node).ok_or_else(|| {
                format!(
                    "`${{{}}}` names a mapping or list, not a string",
                    crate::finding::shorten(key.trim(), 80)
                )
            })?;
            out.push_str(&self.resolve(text, &node_chain, depth + 1)?);
            if out.len() > MAX_TARGET {
                return Err("it resolves to a string longer than modelgate follows".into());
            }
            rest = &body[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// The node a key path names, and the containers leading to it. `chain` ends with the
    /// container that holds the interpolated value.
    fn lookup(&self, key: &str, chain: &[Id]) -> Option<(Id, Vec<Id>)> {
        let dots = key.chars().take_while(|&c| c == '.').count();
        let mut cur: Vec<Id> = if dots == 0 {
            chain.first().map(|r| vec![*r])?
        } else {
            // `.x` is in the holding container, `..x` in its parent.
            chain.get(..chain.len().checked_sub(dots - 1)?)?.to_vec()
        };
        let rest = &key[dots..];
        if rest.is_empty() {
            return cur.last().map(|&id| (id, cur.clone()));
        }
        for seg in segments(rest)? {
            let here = self.doc.deref(*cur.last()?);
            let next = match &self.doc.node(here)?.kind {
                Kind::Map(_) => self.doc.get(here, &seg)?.value,
                Kind::Seq(items) => *items.get(seg.parse::<usize>().ok()?)?,
                _ => return None,
            };
            cur.push(next);
        }
        let last = *cur.last()?;
        cur.pop();
        if cur.is_empty() {
            cur.push(last);
        }
        Some((last, cur))
    }
}

/// `a.b[0].c` → `a`, `b`, `0`, `c`.
fn segments(path: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let mut p = part;
        let head_end = p.find('[').unwrap_or(p.len());
        if head_end > 0 {
            out.push(p[..head_end].to_string());
        }
        p = &p[head_end..];
        while let Some(r) = p.strip_prefix('[') {
            let close = r.find(']')?;
            out.push(r[..close].trim().to_string());
            p = &r[close + 1..];
        }
        if !p.is_empty() {
            return None;
        }
    }
    Some(out)
}

/// The index of the `}` closing an interpolation body (nested `${` counted).
fn closing(body: &str) -> Option<usize> {
    let b = body.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'$' if b.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

/// `oc.env:X` → `oc.env`: a `:` outside nested interpolations makes a resolver call.
fn resolver_name(inner: &str) -> Option<&str> {
    let b = inner.as_bytes();
    let mut depth = 0usize;
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'$' if b.get(i + 1) == Some(&b'{') => depth += 1,
            b'}' => depth = depth.saturating_sub(1),
            b':' if depth == 0 => return Some(inner[..i].trim()),
            _ => {}
        }
    }
    None
}

/// Whether a flag value is true as OmegaConf loads it: plain YAML 1.1 booleans (PyYAML's
/// resolver), and any other non-empty string is truthy to the Python code that tests it.
/// `None` when it cannot be told (an unresolvable interpolation).
fn truthy(doc: &Doc, value: Id, chain: &[Id], w: &Walker) -> Option<bool> {
    let node = doc.node(doc.deref(value))?;
    match &node.kind {
        Kind::Scalar { text, plain, .. } => {
            let t = if text.contains("${") {
                w.resolve(text, chain, 0).ok()?
            } else {
                text.clone()
            };
            if *plain || text.contains("${") {
                match t.as_str() {
                    "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF"
                    | "null" | "Null" | "NULL" | "~" | "" | "0" => Some(false),
                    _ => Some(true),
                }
            } else {
                Some(!t.is_empty())
            }
        }
        Kind::Seq(items) => Some(!items.is_empty()),
        Kind::Map(items) => Some(!items.is_empty()),
        Kind::Alias(_) => None,
    }
}
