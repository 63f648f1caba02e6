//! The Keras model config scanner: the JSON a legacy `.h5` keeps in its root
//! `model_config` attribute, the `config.json` of a Keras 3 `.keras` archive and the
//! per-object metadata of a SavedModel's `keras_metadata.pb`.
//!
//! Keras rebuilds a model from that JSON by looking up every `class_name` — and, in
//! Keras 3, by importing `module` and fetching `class_name` (or a function named by
//! `config`) from it. What can run code on load:
//!
//! - `Lambda` layers (and `__lambda__` functions, e.g. an activation): base64 marshalled
//!   Python bytecode, run when the layer is called (CVE-2024-3660). Keras 3 refuses them
//!   unless `safe_mode=False`; tf_keras and Keras 2 `.h5` loaders run them.
//! - A `module` outside Keras: the loader imports it and calls what it names
//!   (CVE-2025-1550: `module: "os"`, `class_name: "function"`, `config: "system"`).
//! - Keras' own functions with side effects: `keras.utils.get_file` downloads to a chosen
//!   path (CVE-2025-8747); `keras.config.enable_unsafe_deserialization` turns safe mode
//!   off for the rest of the load (CVE-2025-9906).
//!
//! Allowlist first, as for pickles: a module outside Keras is high, a dangerous callable
//! gets its tier from the pickle engine's classifier, and a Keras class name that Keras
//! does not know (data table `known_classes.txt`) is medium.

pub mod archive;
pub mod marshal;
pub mod paths;

use std::collections::HashSet;
use std::sync::OnceLock;

use serde_json::Value;

use crate::finding::{Finding, Location};
use crate::formats::pickle::globals::{classify, Tier};
use crate::rules::RuleId;
use crate::scan::Ctx;
use crate::source::ByteSource;

/// Largest config parsed (a big Keras model's config is a few MiB).
pub const MAX_CONFIG: u64 = 64 << 20;
/// Findings reported per config; further ones are counted in one summary finding.
const MAX_FINDINGS: usize = 200;
/// serde_json stops at 128 nested arrays/objects; the walk checks its own bound too.
const MAX_DEPTH: usize = 160;
/// Bytes of configs nested in JSON strings parsed per config.
const NESTED_BUDGET: usize = 16 << 20;

/// Modules whose classes Keras itself provides (allowlist, matched on dotted prefixes).
const KERAS_MODULES: &[&str] = &["keras", "keras_hub", "keras_nlp", "tf_keras"];

/// Keras callables with effects outside the model, whatever module path names them
/// (`keras.utils.get_file`, `keras.src.utils.file_utils.get_file`, ...). Keras ≥ 3.11
/// refuses most of these itself (`NON_MODELING_APIS` in keras/src/saving/
/// serialization_lib.py); older versions call them, e.g. from a Lambda layer whose
/// `function` names one and whose `arguments` / `inbound_nodes` supply the arguments.
const KERAS_DANGEROUS: &[(&str, RuleId, &str)] = &[
    (
        "get_file",
        RuleId::KerasSystemAccess,
        "downloads a URL to a chosen path on load (CVE-2025-8747)",
    ),
    (
        "enable_unsafe_deserialization",
        RuleId::KerasUnsafeDeserialization,
        "turns safe mode off for the rest of the load, so Lambda bytecode runs (CVE-2025-9906)",
    ),
    (
        "set_global_attribute",
        RuleId::KerasUnsafeDeserialization,
        "sets Keras global state such as `safe_mode_saving`, turning safe mode off (CVE-2025-9906)",
    ),
    (
        "load_model",
        RuleId::KerasUnsafeDeserialization,
        "loads another model from a path the config chooses, with the safe_mode the config chooses",
    ),
    (
        "model_from_json",
        RuleId::KerasUnsafeDeserialization,
        "deserialises another model config, with the safe_mode the config chooses",
    ),
    (
        "deserialize_keras_object",
        RuleId::KerasUnsafeDeserialization,
        "deserialises another config, with the safe_mode the config chooses",
    ),
    (
        "load_weights",
        RuleId::KerasSystemAccess,
        "reads a weights file from a path the config chooses",
    ),
    (
        "save_model",
        RuleId::KerasSystemAccess,
        "writes a model file to a path the config chooses",
    ),
    (
        "save_weights",
        RuleId::KerasSystemAccess,
        "writes a weights file to a path the config chooses",
    ),
    (
        "load_img",
        RuleId::KerasSystemAccess,
        "reads a file from a path the config chooses",
    ),
    (
        "save_img",
        RuleId::KerasSystemAccess,
        "writes a file to a path the config chooses",
    ),
    (
        "image_dataset_from_directory",
        RuleId::KerasSystemAccess,
        "reads a directory the config chooses",
    ),
    (
        "text_dataset_from_directory",
        RuleId::KerasSystemAccess,
        "reads a directory the config chooses",
    ),
    (
        "audio_dataset_from_directory",
        RuleId::KerasSystemAccess,
        "reads a directory the config chooses",
    ),
    (
        "TFSMLayer",
        RuleId::KerasSystemAccess,
        "loads a TensorFlow SavedModel from a path the config chooses",
    ),
];

/// TensorFlow APIs a tf_keras `TFOpLambda` / `SlicingOpLambda` layer may name in its
/// `function` field (`"math.add"` is `tf.math.add`): tf_keras resolves any `tf.` symbol by
/// that name and calls it when the model is rebuilt. Matched after dropping `compat.v1.` /
/// `compat.v2.`; an entry ending in `.` matches the whole namespace.
const TF_API_DANGEROUS: &[(&str, bool, &str)] = &[
    ("py_function", true, "calls a Python function"),
    ("numpy_function", true, "calls a Python function"),
    ("py_func", true, "calls a Python function"),
    ("load_op_library", true, "loads a native library"),
    ("load_library", true, "loads a native library"),
    ("io.read_file", false, "reads a file"),
    ("io.write_file", false, "writes a file"),
    ("io.matching_files", false, "lists files"),
    ("io.gfile.", false, "reads, writes or deletes files"),
    ("gfile.", false, "reads, writes or deletes files"),
    ("read_file", false, "reads a file"),
    ("write_file", false, "writes a file"),
    ("saved_model.load", false, "loads another SavedModel"),
    ("keras.models.load_model", false, "loads another model"),
    ("data.", false, "reads files through tf.data"),
    ("summary.create_file_writer", false, "writes event files"),
    ("train.", false, "reads or writes checkpoints"),
    (
        "debugging.experimental.enable_dump_debug_info",
        false,
        "writes debug dumps",
    ),
];

fn tf_api(function: &str) -> Option<(bool, &'static str)> {
    let f = function.strip_prefix("tf.").unwrap_or(function);
    let f = f
        .strip_prefix("compat.v1.")
        .or_else(|| f.strip_prefix("compat.v2."))
        .unwrap_or(f);
    TF_API_DANGEROUS
        .iter()
        .find(|(n, _, _)| {
            if n.ends_with('.') {
                f.starts_with(n)
            } else {
                f == *n
            }
        })
        .map(|(_, code, why)| (*code, *why))
}

fn known_classes() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        include_str!("known_classes.txt")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .collect()
    })
}

fn is_keras_module(m: &str) -> bool {
    KERAS_MODULES
        .iter()
        .any(|k| m == *k || m.strip_prefix(k).is_some_and(|r| r.starts_with('.')))
}

/// Standard base64 (with or without padding); `None` on any other byte.
pub fn b64decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' | b'\n' | b'\r' => continue,
            _ => return None,
        };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

struct Walk<'a, 'c> {
    ctx: &'a Ctx<'c>,
    loc: &'a Location,
    out: Vec<Finding>,
    dropped: usize,
    /// Bytes of JSON-in-a-string still to parse (configs nested as strings, e.g. the
    /// argument of a `model_from_json` call); bounded so nesting cannot multiply work.
    nested_left: usize,
}

impl Walk<'_, '_> {
    fn push(&mut self, f: Finding) {
        if self.out.len() < MAX_FINDINGS {
            self.out.push(f);
        } else {
            self.dropped += 1;
        }
    }
}

/// Scans one Keras config (JSON bytes). Findings are located at `loc` with the path of
/// layer names leading to the object in the message.
pub fn scan_config(json: &[u8], ctx: &Ctx, loc: &Location, out: &mut Vec<Finding>) {
    let v: Value = match serde_json::from_slice(json) {
        Ok(v) => v,
        Err(e) => {
            out.push(Finding::new(
RuleId::KerasMalformed,
                loc.clone(),
                format!("the Keras config is not JSON modelgate can read ({e}); the loader may still read it, so it was not checked"),
            ));
            return;
        }
    };
    scan_value(&v, ctx, loc, out);
}

/// Scans an already parsed Keras config.
pub fn scan_value(v: &Value, ctx: &Ctx, loc: &Location, out: &mut Vec<Finding>) {
    let mut w = Walk {
        ctx,
        loc,
        out: Vec::new(),
        dropped: 0,
        nested_left: NESTED_BUDGET,
    };
    let mut path = Vec::new();
    walk(&mut w, v, &mut path, 0);
    if w.dropped > 0 {
        w.out.push(Finding::new(
            RuleId::KerasMalformed,
            loc.clone(),
            format!(
                "{} more findings in this Keras config were not listed",
                w.dropped
            ),
        ));
    }
    out.append(&mut w.out);
}

fn s<'v>(o: &'v serde_json::Map<String, Value>, k: &str) -> Option<&'v str> {
    o.get(k).and_then(Value::as_str)
}

fn where_(path: &[String]) -> String {
    if path.is_empty() {
        "the model".into()
    } else {
        format!("`{}`", path.join("/"))
    }
}

fn walk(w: &mut Walk, v: &Value, path: &mut Vec<String>, depth: usize) {
    if depth > MAX_DEPTH {
        w.push(Finding::new(
            RuleId::KerasMalformed,
            w.loc.clone(),
            format!(
                "the Keras config nests deeper than {MAX_DEPTH} levels; the rest was not checked"
            ),
        ));
        return;
    }
    match v {
        Value::Array(a) => {
            for x in a {
                walk(w, x, path, depth + 1);
            }
        }
        Value::Object(o) => {
            let named = o
                .get("config")
                .and_then(Value::as_object)
                .and_then(|c| s(c, "name"))
                .or_else(|| s(o, "name"));
            let pushed = match (s(o, "class_name"), named) {
                (Some(_), Some(n)) => {
                    path.push(n.chars().take(80).collect());
                    true
                }
                _ => false,
            };
            if let Some(class) = s(o, "class_name") {
                object(w, o, class, path);
            }
            for (_, x) in o {
                walk(w, x, path, depth + 1);
            }
            if pushed {
                path.pop();
            }
        }
        // A whole config inside a string: what `model_from_json` or a nested
        // `deserialize_keras_object` call deserialises at load time (the CVE-2025-9906
        // chain hands one to model_from_json after turning safe mode off).
        Value::String(text) if looks_like_config(text) => {
            if text.len() > w.nested_left {
                w.push(Finding::new(
RuleId::KerasMalformed,
                    w.loc.clone(),
                    "Keras configs nested in strings exceed the scanner's budget; the rest were not checked",
                ));
                return;
            }
            w.nested_left -= text.len();
            match serde_json::from_str::<Value>(text) {
                Ok(inner) => walk(w, &inner, path, depth + 1),
                Err(_) => {
                    // Not JSON after all: an ordinary string.
                }
            }
        }
        _ => {}
    }
}

fn looks_like_config(text: &str) -> bool {
    text.trim_start().starts_with('{') && text.contains("\"class_name\"")
}

/// Checks one serialised Keras object (a JSON object with `class_name`).
fn object(w: &mut Walk, o: &serde_json::Map<String, Value>, class: &str, path: &[String]) {
    let module = s(o, "module");
    let registered = s(o, "registered_name");
    let cfg = o.get("config");
    let at = where_(path);

    // Layers that read a path the config names (vocabulary files, TFSMLayer SavedModels).
    if module.is_none_or(is_keras_module) {
        if let Some(f) = cfg
            .and_then(Value::as_object)
            .and_then(|c| paths::check(class, c, &at, w.loc))
        {
            w.push(f);
            if class == "TFSMLayer" {
                return;
            }
        }
    }

    // Lambda bytecode, in either serialisation: Keras 3 nests `{"class_name":
    // "__lambda__", "config": {"code": b64}}` (also for lambda activations); Keras 2 /
    // tf_keras keep `"function": [b64, defaults, closure]` with `function_type: "lambda"`.
    if class == "__lambda__" {
        let code = cfg
            .and_then(Value::as_object)
            .and_then(|c| s(c, "code"))
            .unwrap_or("");
        lambda(w, code, &at);
        return;
    }
    if class == "Lambda" && module.is_none_or(is_keras_module) {
        if let Some(c) = cfg.and_then(Value::as_object) {
            let ftype = s(c, "function_type").unwrap_or("lambda");
            match c.get("function") {
                Some(Value::Array(a)) if ftype == "lambda" => {
                    lambda(w, a.first().and_then(Value::as_str).unwrap_or(""), &at);
                }
                Some(Value::String(code)) if ftype == "lambda" => lambda(w, code, &at),
                // SavedModel keras_metadata.pb: the tuple is `{"class_name": "__tuple__",
                // "items": [b64, defaults, closure]}`.
                Some(Value::Object(t))
                    if ftype == "lambda" && s(t, "class_name") == Some("__tuple__") =>
                {
                    let items = t.get("items").and_then(Value::as_array);
                    let code = items.and_then(|a| a.first()).and_then(Value::as_str);
                    lambda(w, code.unwrap_or(""), &at);
                }
                // A named function: tf_keras looks it up in `sys.modules[module]`, which
                // always holds os, sys, builtins...
                Some(Value::String(name)) if ftype == "function" => {
                    let m = s(c, "module").unwrap_or("__main__");
                    callable(w, m, name, &at, "Lambda layer function");
                }
                // Keras 3: a nested serialised function object; the walk checks it.
                _ => {}
            }
        }
        return;
    }

    if matches!(class, "TFOpLambda" | "SlicingOpLambda") {
        let function = cfg
            .and_then(Value::as_object)
            .and_then(|c| s(c, "function"))
            .unwrap_or("");
        if let Some((code, why)) = tf_api(function) {
            let rule = if code {
                RuleId::KerasCodeExecution
            } else {
                RuleId::KerasSystemAccess
            };
            w.push(
                Finding::new(
                    rule,
                    w.loc.clone(),
                    format!("{at} is a TFOpLambda layer calling `tf.{function}`, which {why}; tf_keras calls it while rebuilding the model"),
                )
                .with_evidence(format!("tf.{}", function.chars().take(200).collect::<String>())),
            );
        }
        return;
    }

    // A plain function reference: `{"module": M, "class_name": "function", "config": N}`.
    let (m, name, what) = match (module, class, cfg) {
        (Some(m), "function", Some(Value::String(n))) => (m, n.as_str(), "function"),
        (Some(m), _, _) => (m, class, "class"),
        (None, _, _) => ("", class, "class"),
    };
    if let Some((_, rule, why)) = KERAS_DANGEROUS
        .iter()
        .find(|(n, _, _)| *n == name || registered.is_some_and(|r| r.ends_with(n)))
    {
        if m.is_empty() || is_keras_module(m) {
            w.push(
                Finding::new(
                    *rule,
                    w.loc.clone(),
                    format!("{at} references a Keras function that {why}"),
                )
                .with_evidence(evidence(m, name, registered)),
            );
            return;
        }
    }
    // `{"module": "builtins", "class_name": "function", "config": "relu"}` is how Keras 3
    // writes its own functions (keras.ops.abs, keras.activations.relu): current versions
    // look the name up in keras.{activations,losses,metrics,...}. Keras < 3.9 imported
    // the real `builtins` module instead (CVE-2025-1550), so a dangerous Python builtin
    // there is still a finding; a Keras function name is not.
    if m == "builtins" && what == "function" {
        let c = classify(m, name, &|_, _| false);
        if matches!(c.tier, Tier::Code | Tier::System | Tier::Dynamic) {
            callable(w, m, name, &at, what);
        } else if !known_classes().contains(name) {
            unknown(w, &at, m, name, registered, "function");
        }
        return;
    }
    if !m.is_empty() && !is_keras_module(m) {
        callable(w, m, name, &at, what);
        return;
    }
    // Keras writes its own functions as `builtins` (above) or under their public module;
    // a function from Keras internals is something a save never produces. Keras ≥ 3.11
    // refuses it, older versions call it (CVE-2025-9906 called
    // keras.src.backend.common.global_state.set_global_attribute).
    if what == "function" && (m.starts_with("keras.src.") || m.contains(".src.")) {
        w.push(
            Finding::new(
RuleId::KerasUntrustedModule,
                w.loc.clone(),
                format!("{at} references `{m}.{name}`, a function from Keras internals that ordinary saves never reference: Keras before 3.11 calls it"),
            )
            .with_evidence(evidence(m, name, registered)),
        );
        return;
    }
    // keras_hub / keras_nlp classes are resolved as attributes of the named module, which
    // is on the allowlist; their names are not in the table (generated without them).
    let hub = ["keras_hub", "keras_nlp"]
        .iter()
        .any(|h| m == *h || m.starts_with(&format!("{h}.")));
    if what == "class" && !hub && !known_classes().contains(name) {
        unknown(w, &at, m, name, registered, "class");
    }
}

fn unknown(w: &mut Walk, at: &str, m: &str, name: &str, registered: Option<&str>, what: &str) {
    w.push(
        Finding::new(
RuleId::KerasUnknownClass,
            w.loc.clone(),
            format!("{at} uses {what} `{name}`, which Keras does not provide: loading needs custom code, review where it comes from"),
        )
        .with_evidence(evidence(m, name, registered)),
    );
}

fn evidence(module: &str, name: &str, registered: Option<&str>) -> String {
    let mut e = if module.is_empty() {
        name.to_string()
    } else {
        format!("{module}.{name}")
    };
    if let Some(r) = registered.filter(|r| *r != name && !r.is_empty()) {
        e.push_str(&format!(" (registered_name {r})"));
    }
    e.chars().take(300).collect()
}

/// A callable named by module and name outside Keras: its tier from the pickle
/// classifier; anything not dangerous is still high (the loader imports that module).
fn callable(w: &mut Walk, module: &str, name: &str, at: &str, what: &str) {
    if (w.ctx.allow)(module, name) {
        return;
    }
    let c = classify(module, name, &|_, _| false);
    let shown = c.resolved.clone().unwrap_or(format!("{module}.{name}"));
    let (rule, msg) = match c.tier {
        Tier::Code => (
            RuleId::KerasCodeExecution,
            format!("{at} makes the loader import and call `{shown}`, which {}", c.why),
        ),
        Tier::System => (
            RuleId::KerasSystemAccess,
            format!("{at} makes the loader import and call `{shown}`, which {}", c.why),
        ),
        _ => (
            RuleId::KerasUntrustedModule,
            format!("{at} makes the loader import {what} `{shown}` from outside Keras (CVE-2025-1550); trust it with allow.globals if it is your own code"),
        ),
    };
    w.push(Finding::new(rule, w.loc.clone(), msg).with_evidence(evidence(module, name, None)));
}

/// Names in Lambda bytecode worth calling out in the message.
const NOTABLE: &[&str] = &[
    "os",
    "system",
    "popen",
    "subprocess",
    "Popen",
    "run",
    "call",
    "check_output",
    "exec",
    "eval",
    "compile",
    "__import__",
    "__builtins__",
    "builtins",
    "importlib",
    "import_module",
    "open",
    "socket",
    "urllib",
    "requests",
    "urlopen",
    "pty",
    "spawn",
    "getattr",
    "marshal",
    "pickle",
    "loads",
    "shutil",
    "remove",
    "unlink",
    "rmtree",
    "write",
];

fn lambda(w: &mut Walk, code_b64: &str, at: &str) {
    let mut msg = format!("{at} is a Lambda layer: it holds marshalled Python bytecode that runs when the model is loaded and called (CVE-2024-3660; Keras 3 needs safe_mode=False, tf_keras and legacy .h5 loaders run it)");
    let mut ev = String::new();
    match b64decode(code_b64.trim()) {
        Some(bytes) if !bytes.is_empty() => {
            let info = marshal::code_info(&bytes);
            let notable: Vec<&str> = info
                .names
                .iter()
                .chain(info.strings.iter())
                .map(String::as_str)
                .filter(|n| NOTABLE.contains(n))
                .collect();
            if !notable.is_empty() {
                msg.push_str(&format!("; its code references {}", notable.join(", ")));
            }
            let names: Vec<&str> = info.names.iter().take(24).map(String::as_str).collect();
            let strings: Vec<String> = info
                .strings
                .iter()
                .filter(|s| !s.is_empty() && !s.starts_with('<'))
                .take(12)
                .map(|s| format!("{s:?}"))
                .collect();
            ev = format!(
                "names [{}]; strings [{}]{}",
                names.join(", "),
                strings.join(", "),
                if info.truncated {
                    "; bytecode not fully parsed"
                } else {
                    ""
                }
            );
        }
        _ => ev.push_str("bytecode not decodable as base64"),
    }
    w.push(
        Finding::new(RuleId::KerasLambda, w.loc.clone(), msg)
            .with_evidence(ev.chars().take(1000).collect::<String>()),
    );
}

/// Bytes of a `.json` file looked at to decide whether it is a Keras config.
const JSON_SNIFF: usize = 64 * 1024;

/// A `.json` file that serialises a Keras model: a top-level object with `class_name` and
/// `config`, plus a Keras marker (a `module` under keras, `keras_version`, or
/// `registered_name`). Hugging Face `config.json` files and other JSON do not match.
pub fn looks_like_keras_json(src: &dyn ByteSource) -> bool {
    let Ok(head) = src.read_vec(0, JSON_SNIFF) else {
        return false;
    };
    let text = String::from_utf8_lossy(&head);
    let t = text.trim_start();
    t.starts_with('{')
        && t.contains("\"class_name\"")
        && t.contains("\"config\"")
        && (t.contains("\"module\": \"keras")
            || t.contains("\"module\":\"keras")
            || t.contains("\"keras_version\"")
            || t.contains("\"registered_name\""))
}

/// Scans a standalone Keras JSON config file (see [`looks_like_keras_json`]).
pub fn scan_json_file(src: &dyn ByteSource, ctx: &Ctx, loc: &Location, out: &mut Vec<Finding>) {
    let max = MAX_CONFIG.min(ctx.limits.max_member_size);
    if src.len() > max {
        out.push(Finding::new(
            RuleId::ContentNotScanned,
            loc.clone(),
            format!(
                "Keras config of {} bytes is over the {max}-byte limit",
                src.len()
            ),
        ));
        return;
    }
    match src.read_vec(0, src.len() as usize) {
        Ok(json) => {
            let Ok(v) = serde_json::from_slice::<Value>(&json) else {
                scan_config(&json, ctx, loc, out);
                return;
            };
            // Confirm the shape on the whole document: a top-level serialised object.
            if v.get("class_name").is_some_and(Value::is_string) && v.get("config").is_some() {
                scan_value(&v, ctx, loc, out);
            }
        }
        Err(e) => out.push(Finding::new(
            RuleId::ContentNotScanned,
            loc.clone(),
            format!("cannot read: {e}"),
        )),
    }
}

/// Does this JSON serialise a Keras model (a top-level object with a string `class_name`
/// and a `config`)?
pub fn is_keras_config(json: &[u8]) -> bool {
    serde_json::from_slice::<Value>(json).is_ok_and(|v| {
        v.get("class_name").is_some_and(Value::is_string) && v.get("config").is_some()
    })
}

/// Is this `metadata.json` the one a Keras 3 `.keras` archive carries?
pub fn is_keras_metadata(json: &[u8]) -> bool {
    serde_json::from_slice::<Value>(json)
        .ok()
        .and_then(|v| v.get("keras_version").map(|k| k.is_string()))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests;
