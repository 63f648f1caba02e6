//! First-party globals: classes and functions defined in the repository being scanned.
//! A pickle that rebuilds one of them as an object (`trainlib.RunConfig` in a training
//! checkpoint) holds the project's own type, not an unknown one; calling one with pickled
//! arguments still runs code nobody vetted (medium).
//!
//! The index is the module-level definitions ([`super::Analysis::definitions`]) of every
//! local `.py` file of the run, under each module name the file can be imported as
//! (`src/trainlib/config.py` is `trainlib.config` with `src/` on `sys.path`, or
//! `src.trainlib.config`, or `config`; `pkg/__init__.py` is `pkg`). It is built on the
//! first lookup, so runs without unknown pickle globals never read Python files for it.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::OnceLock;

/// Largest `.py` file read for the index, and most files indexed.
const MAX_FILE: u64 = 1 << 20;
const MAX_FILES: usize = 20_000;

static INDEX: OnceLock<HashMap<String, BTreeSet<String>>> = OnceLock::new();

/// (display path, file) of the run's local `.py` files.
static REAL: OnceLock<Vec<(String, PathBuf)>> = OnceLock::new();

/// Module names a file at display path `display` can be imported as.
fn module_names(display: &str) -> Vec<String> {
    let Some(stem) = display.strip_suffix(".py") else {
        return Vec::new();
    };
    let mut parts: Vec<&str> = stem
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if parts.last() == Some(&"__init__") {
        parts.pop();
    }
    let ident = |p: &str| {
        p.chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_')
            && p.chars().all(|c| c.is_alphanumeric() || c == '_')
    };
    (0..parts.len())
        .filter_map(|i| parts.get(i..))
        .filter(|tail| !tail.is_empty() && tail.iter().all(|p| ident(p)))
        .map(|tail| tail.join("."))
        .collect()
}

fn build(files: &[(String, PathBuf)]) -> HashMap<String, BTreeSet<String>> {
    let mut index: HashMap<String, BTreeSet<String>> = HashMap::new();
    // Relative re-exports (`from .config import RunConfig` in `trainlib/__init__.py`),
    // resolved once every file's own definitions are known: (module, package, import).
    let mut reexports = Vec::new();
    for (display, path) in files.iter().take(MAX_FILES) {
        if std::fs::metadata(path).map_or(true, |m| m.len() > MAX_FILE) {
            continue;
        }
        let Ok(raw) = std::fs::read(path) else {
            continue;
        };
        let a = super::analyze(&String::from_utf8_lossy(&raw), &[]);
        let is_init = display.ends_with("/__init__.py") || display == "__init__.py";
        for m in module_names(display) {
            let package = if is_init {
                m.clone()
            } else {
                m.rsplit_once('.')
                    .map(|(p, _)| p.to_string())
                    .unwrap_or_default()
            };
            for r in &a.relative_imports {
                reexports.push((m.clone(), package.clone(), r.clone()));
            }
            index
                .entry(m)
                .or_default()
                .extend(a.definitions.iter().cloned());
        }
    }
    for (module, package, r) in reexports {
        // `level` dots: the package itself, then one parent per further dot.
        let mut base: Vec<&str> = package.split('.').filter(|p| !p.is_empty()).collect();
        for _ in 1..r.level {
            base.pop();
        }
        let target = match (base.is_empty(), r.module.is_empty()) {
            (_, true) => base.join("."),
            (true, false) => r.module.clone(),
            (false, false) => format!("{}.{}", base.join("."), r.module),
        };
        let found: Vec<String> = match index.get(&target) {
            Some(defs) => r
                .names
                .iter()
                .filter(|n| defs.contains(*n))
                .cloned()
                .collect(),
            None => continue,
        };
        index.entry(module).or_default().extend(found);
    }
    index
}

/// Registers the run's local `.py` files: (display path, file).
pub fn register(files: Vec<(String, PathBuf)>) {
    let _ = REAL.set(
        files
            .into_iter()
            .filter(|(d, _)| d.ends_with(".py"))
            .collect(),
    );
}

/// Whether `module.name` is defined by the scanned repository's own Python code.
pub fn defines(module: &str, name: &str) -> bool {
    let Some(files) = REAL.get() else {
        return false;
    };
    if files.is_empty() {
        return false;
    }
    INDEX
        .get_or_init(|| build(files))
        .get(module)
        .is_some_and(|defs| defs.contains(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_importable_under_each_suffix_of_its_path() {
        assert_eq!(
            module_names("src/trainlib/config.py"),
            ["src.trainlib.config", "trainlib.config", "config"]
        );
        assert_eq!(module_names("pkg/__init__.py"), ["pkg"]);
        assert_eq!(module_names("my-scripts/run.py"), ["run"]);
        assert!(module_names("README.md").is_empty());
    }

    #[test]
    fn definitions_are_indexed_by_module() {
        let dir = std::env::temp_dir().join(format!("mg-fp-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("trainlib")).unwrap_or(());
        let f = dir.join("trainlib/config.py");
        std::fs::write(&f, "import dataclasses\n\n@dataclasses.dataclass\nclass RunConfig:\n    lr: float = 0.1\n\ndef helper():\n    pass\n").unwrap_or(());
        let index = build(&[("trainlib/config.py".to_string(), f)]);
        let defs = index.get("trainlib.config").cloned().unwrap_or_default();
        assert!(
            defs.contains("RunConfig") && defs.contains("helper"),
            "{defs:?}"
        );
        assert!(!index.contains_key("os"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
