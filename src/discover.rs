//! Targets → the list of files to scan. Walks directories (following symlinks without
//! loops), skips `.git/`, applies include/exclude globs and shards, and scans each real
//! file once even when several paths lead to it.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::filters::Filters;
use crate::target::{Input, Origin, Source};

pub fn display_of(p: &Path) -> String {
    let s = p.to_string_lossy().replace('\\', "/");
    let mut t = s.as_str();
    while let Some(rest) = t.strip_prefix("./") {
        t = rest;
    }
    if t.is_empty() {
        ".".into()
    } else {
        t.to_string()
    }
}

/// Walks the targets. Missing targets are an error for the caller (exit 2).
pub fn discover(targets: &[PathBuf], filters: &Filters) -> Result<Vec<Input>, String> {
    let mut out = Vec::new();
    let mut seen: HashSet<PathBuf> = HashSet::new();
    for t in targets {
        let meta = std::fs::metadata(t).map_err(|e| format!("{}: {e}", t.display()))?;
        if meta.is_file() {
            push(&mut out, &mut seen, t.clone(), display_of(t), filters);
            continue;
        }
        let walker = walkdir::WalkDir::new(t)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| {
                !(e.depth() > 0 && e.file_type().is_dir() && e.file_name() == ".git")
            });
        for entry in walker {
            match entry {
                Ok(e) => {
                    if e.file_type().is_file() {
                        let p = e.path().to_path_buf();
                        push(&mut out, &mut seen, p.clone(), display_of(&p), filters);
                    }
                }
                Err(err) => {
                    let p = err
                        .path()
                        .map(Path::to_path_buf)
                        .unwrap_or_else(|| t.clone());
                    let display = display_of(&p);
                    if !filters.in_shard(&display) {
                        continue;
                    }
                    let msg = if err.loop_ancestor().is_some() {
                        // A symlink loop: the files below were reached by the other path.
                        continue;
                    } else {
                        err.to_string()
                    };
                    out.push(Input {
                        source: Source::Local(p),
                        display,
                        origin: Origin::Local,
                        skip: None,
                        error: Some(msg),
                        aliases: Vec::new(),
                    });
                }
            }
        }
    }
    Ok(out)
}

fn push(
    out: &mut Vec<Input>,
    seen: &mut HashSet<PathBuf>,
    path: PathBuf,
    display: String,
    filters: &Filters,
) {
    if !filters.in_shard(&display) {
        return;
    }
    // The same file through two symlinks is scanned once, under the first path in order.
    let key = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
    if !seen.insert(key) {
        return;
    }
    let skip = filters.skip_reason(&display);
    out.push(Input {
        source: Source::Local(path),
        display,
        origin: Origin::Local,
        skip,
        error: None,
        aliases: Vec::new(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_paths_are_clean() {
        assert_eq!(display_of(Path::new("./a/b.pt")), "a/b.pt");
        assert_eq!(display_of(Path::new("a\\b.pt")), "a/b.pt");
    }
}
