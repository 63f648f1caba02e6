//! The set of Python files a load imports: from the modules a loader names, follow what
//! each imports relatively (`from .helper import x`, `from . import layers`) and, where
//! the loader puts a folder on `sys.path` (MLflow `code/`, a `torch.package` archive),
//! what it imports absolutely from that folder — transitively, within bounds.

use std::collections::{BTreeMap, VecDeque};

use super::analyze::{analyze, Analysis};

/// Most files followed from one set of roots.
pub const MAX_FILES: usize = 64;
/// Largest source file read.
pub const MAX_FILE: u64 = 4 << 20;

/// Where the sources live: `/`-joined paths relative to some root.
pub trait Tree {
    /// The text of `path`: `Ok(None)` when there is no such file, `Err` when it exists but
    /// cannot be read (or is too large).
    fn read(&self, path: &str) -> Result<Option<String>, String>;
}

/// A module a load needs, and who needs it.
#[derive(Clone, Debug)]
pub struct Root {
    /// The module's file path in the tree (`modeling_x.py`, `code/mg_loader.py`).
    pub path: String,
}

/// A file of the set, analysed.
#[derive(Debug)]
pub struct Loaded {
    pub path: String,
    pub analysis: Analysis,
    /// The file (and line) whose import brought it in; `None` for a root.
    pub imported_by: Option<(String, u32)>,
}

/// A module that should have been there and is not (or could not be read).
#[derive(Debug, Clone)]
pub struct Unresolved {
    /// The module as named (`helper`, `modeling_x`).
    pub module: String,
    /// Where it is named: the importing file and line/column; `None` for a root (the
    /// caller knows where it named it).
    pub at: Option<(String, u32, u32)>,
    /// The path tried, and why it failed.
    pub tried: String,
    pub error: Option<String>,
}

#[derive(Debug, Default)]
pub struct CodeSet {
    pub files: Vec<Loaded>,
    pub unresolved: Vec<Unresolved>,
    /// More than [`MAX_FILES`] files were reachable; the rest was not analysed.
    pub truncated: bool,
}

/// Follows `roots` through `tree`. `search_root`: the folder (a path prefix, `""` for the
/// tree's root) an absolute `import x` is resolved against when the loader puts it on
/// `sys.path`; `None` when only relative imports can reach shipped files.
pub fn follow(
    tree: &dyn Tree,
    roots: &[Root],
    search_root: Option<&str>,
    entry_points: &[&str],
) -> CodeSet {
    let mut out = CodeSet::default();
    let mut seen: BTreeMap<String, ()> = BTreeMap::new();
    let mut queue: VecDeque<(String, Option<(String, u32)>)> = VecDeque::new();
    for r in roots {
        queue.push_back((r.path.clone(), None));
    }
    while let Some((path, by)) = queue.pop_front() {
        if seen.contains_key(&path) {
            continue;
        }
        if seen.len() >= MAX_FILES {
            out.truncated = true;
            break;
        }
        seen.insert(path.clone(), ());
        let text = match tree.read(&path) {
            Ok(Some(t)) => t,
            Ok(None) => {
                if by.is_none() {
                    out.unresolved.push(Unresolved {
                        module: module_of(&path),
                        at: None,
                        tried: path.clone(),
                        error: None,
                    });
                }
                continue;
            }
            Err(e) => {
                out.unresolved.push(Unresolved {
                    module: module_of(&path),
                    at: by.as_ref().map(|(p, l)| (p.clone(), *l, 1)),
                    tried: path.clone(),
                    error: Some(e),
                });
                continue;
            }
        };
        let analysis = analyze(&text, entry_points);
        let dir = parent(&path);
        // Relative imports: each candidate module must exist (transformers refuses a
        // remote module whose relative imports are missing; Python fails to import).
        for ri in &analysis.relative_imports {
            let mut base = dir.to_string();
            for _ in 1..ri.level {
                base = parent(&base).to_string();
            }
            let candidates = ri.candidates();
            for (k, c) in candidates.iter().enumerate() {
                let rel = c.replace('.', "/");
                let file = join(&base, &format!("{rel}.py"));
                let init = join(&base, &format!("{rel}/__init__.py"));
                let pick = [file.clone(), init]
                    .into_iter()
                    .find(|p| matches!(tree.read(p), Ok(Some(_)) | Err(_)));
                match pick {
                    Some(p) => {
                        queue.push_back((p, Some((path.clone(), ri.line))));
                    }
                    None => {
                        // `from .m import Name`: Name is usually a class, not a module.
                        let required = ri.module.is_empty() || k == 0;
                        if required {
                            out.unresolved.push(Unresolved {
                                module: format!("{}{c}", ".".repeat(ri.level as usize)),
                                at: Some((path.clone(), ri.line, ri.column)),
                                tried: file,
                                error: None,
                            });
                        }
                    }
                }
            }
        }
        // Absolute imports that resolve to shipped files.
        if let Some(sr) = search_root {
            for imp in &analysis.imports {
                let mut cands = vec![imp.module.clone()];
                cands.extend(imp.names.iter().map(|n| format!("{}.{n}", imp.module)));
                for c in cands {
                    let rel = c.replace('.', "/");
                    for p in [
                        join(sr, &format!("{rel}.py")),
                        join(sr, &format!("{rel}/__init__.py")),
                    ] {
                        if matches!(tree.read(&p), Ok(Some(_)) | Err(_)) {
                            queue.push_back((p, Some((path.clone(), imp.line))));
                            break;
                        }
                    }
                }
            }
        }
        out.files.push(Loaded {
            path,
            analysis,
            imported_by: by,
        });
    }
    out
}

fn module_of(path: &str) -> String {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.strip_suffix(".py").unwrap_or(name).to_string()
}

/// The folder of a `/`-joined path (`""` at the root).
pub fn parent(p: &str) -> &str {
    p.rsplit_once('/').map(|(d, _)| d).unwrap_or("")
}

/// `dir/name`, or `name` when `dir` is empty.
pub fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Mem(HashMap<&'static str, &'static str>);
    impl Tree for Mem {
        fn read(&self, path: &str) -> Result<Option<String>, String> {
            Ok(self.0.get(path).map(|s| s.to_string()))
        }
    }

    #[test]
    fn follows_relative_and_shipped_absolute_imports() {
        let t = Mem(HashMap::from([
            (
                "m/modeling.py",
                "from .helper import act\nfrom . import layers\nfrom .missing import X\n",
            ),
            ("m/helper.py", "import os\nos.system('x')\n"),
            ("m/layers/__init__.py", "from ..m import nothing\n"),
            ("code/loader.py", "import shipped\nimport json\n"),
            ("code/shipped.py", ""),
        ]));
        let s = follow(
            &t,
            &[Root {
                path: "m/modeling.py".into(),
            }],
            None,
            &[],
        );
        let paths: Vec<&str> = s.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            vec!["m/modeling.py", "m/helper.py", "m/layers/__init__.py"]
        );
        assert_eq!(s.files[1].imported_by, Some(("m/modeling.py".into(), 1)));
        let missing: Vec<&str> = s.unresolved.iter().map(|u| u.module.as_str()).collect();
        assert_eq!(missing, vec![".missing", "..m"]);
        let s = follow(
            &t,
            &[Root {
                path: "code/loader.py".into(),
            }],
            Some("code"),
            &[],
        );
        let paths: Vec<&str> = s.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, vec!["code/loader.py", "code/shipped.py"]);
        let s = follow(
            &t,
            &[Root {
                path: "nope.py".into(),
            }],
            None,
            &[],
        );
        assert_eq!(s.unresolved.len(), 1);
        assert!(s.unresolved[0].at.is_none());
    }
}
