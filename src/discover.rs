//! Targets → the list of files to scan. Walks directories (following symlinks without
//! loops), skips `.git/`, applies include/exclude globs and shards, and scans each real
//! file once even when several paths lead to it.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};

/// One discovered file.
#[derive(Debug, Clone)]
pub struct Input {
    pub path: PathBuf,
    /// Display path: as reached from the target, `/`-separated, no leading `./`.
    pub display: String,
    /// Why it will not be scanned, if so (excluded, not included, walk error).
    pub skip: Option<String>,
    /// A walk error for this path.
    pub error: Option<String>,
    /// Read over HTTP instead of from `path` (hf:// and http(s) targets).
    pub remote: Option<std::sync::Arc<crate::remote::RemoteFile>>,
    /// Other display paths with the same content (a blob of the Hugging Face cache
    /// reached from several snapshots): scanned once, reported under each.
    pub aliases: Vec<String>,
}

pub struct Filters {
    include: Option<GlobSet>,
    exclude: GlobSet,
    shard: Option<(u64, u64)>,
}

impl Filters {
    pub fn new(
        include: &[String],
        exclude: &[String],
        shard: Option<(u64, u64)>,
    ) -> Result<Filters, String> {
        let build = |globs: &[String]| -> Result<GlobSet, String> {
            let mut b = GlobSetBuilder::new();
            for g in globs {
                b.add(Glob::new(g).map_err(|e| format!("invalid glob `{g}`: {e}"))?);
                // `dir/` or `dir` should also cover everything below it.
                if !g.contains('*') {
                    let dir = format!("{}/**", g.trim_end_matches('/'));
                    b.add(Glob::new(&dir).map_err(|e| format!("invalid glob `{g}`: {e}"))?);
                }
            }
            b.build().map_err(|e| e.to_string())
        };
        Ok(Filters {
            include: if include.is_empty() {
                None
            } else {
                Some(build(include)?)
            },
            exclude: build(exclude)?,
            shard,
        })
    }

    pub fn skip_reason(&self, display: &str) -> Option<String> {
        if self.exclude.is_match(display) {
            return Some("excluded by an exclude glob".into());
        }
        if let Some(inc) = &self.include {
            if !inc.is_match(display) {
                return Some("not matched by any include glob".into());
            }
        }
        None
    }

    pub fn in_shard(&self, display: &str) -> bool {
        match self.shard {
            None => true,
            Some((k, n)) => fnv1a(display.as_bytes()) % n == k - 1,
        }
    }
}

/// Parses `K/N` (1 ≤ K ≤ N).
pub fn parse_shard(s: &str) -> Result<(u64, u64), String> {
    let (k, n) = s
        .split_once('/')
        .ok_or_else(|| format!("--shard takes K/N, got `{s}`"))?;
    let k: u64 = k
        .trim()
        .parse()
        .map_err(|_| format!("--shard: `{k}` is not a number"))?;
    let n: u64 = n
        .trim()
        .parse()
        .map_err(|_| format!("--shard: `{n}` is not a number"))?;
    if n == 0 || k == 0 || k > n {
        return Err(format!("--shard {s}: need 1 <= K <= N"));
    }
    Ok((k, n))
}

/// Stable across platforms and releases (unlike std's hasher), so shards don't move.
fn fnv1a(b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &x in b {
        h ^= x as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

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
                        path: p,
                        display,
                        skip: None,
                        error: Some(msg),
                        remote: None,
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
        path,
        display,
        skip,
        error: None,
        remote: None,
        aliases: Vec::new(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_parsing() {
        assert_eq!(parse_shard("2/4").unwrap(), (2, 4));
        assert!(parse_shard("0/4").is_err());
        assert!(parse_shard("5/4").is_err());
        assert!(parse_shard("x").is_err());
    }

    #[test]
    fn shards_partition_paths() {
        let names: Vec<String> = (0..200).map(|i| format!("models/m{i}.pt")).collect();
        let mut total = 0;
        for k in 1..=3 {
            let f = Filters::new(&[], &[], Some((k, 3))).unwrap();
            total += names.iter().filter(|n| f.in_shard(n)).count();
        }
        assert_eq!(total, names.len());
    }

    #[test]
    fn display_paths_are_clean() {
        assert_eq!(display_of(Path::new("./a/b.pt")), "a/b.pt");
        assert_eq!(display_of(Path::new("a\\b.pt")), "a/b.pt");
    }
}
