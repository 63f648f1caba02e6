//! The local Hugging Face cache (`huggingface_hub`'s layout):
//!
//! ```text
//! <root>/models--<org>--<name>/blobs/<sha256 or git sha>      the content, once
//!                             /refs/<branch>                   commit sha of a ref
//!                             /snapshots/<commit>/<path>       symlinks into blobs/
//! ```
//!
//! Each blob is scanned once; the report lists it under every snapshot path that leads to
//! it (`models--org--name/snapshots/<commit>/<path>`, relative to the cache root).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Repository folder prefixes the Hub cache uses.
const REPO_PREFIXES: [&str; 3] = ["models--", "datasets--", "spaces--"];

/// Whether `dir` is one cached repository (`models--org--name` with `snapshots/`).
pub fn is_repo_dir(dir: &Path) -> bool {
    let Some(name) = dir.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    REPO_PREFIXES.iter().any(|p| name.starts_with(p)) && dir.join("snapshots").is_dir()
}

/// Whether `dir` is a cache root: it holds at least one cached repository.
pub fn is_cache_root(dir: &Path) -> bool {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return false;
    };
    rd.flatten().any(|e| is_repo_dir(&e.path()))
}

/// The folder of `owner/name` under `root`.
pub fn repo_dir(root: &Path, id: &str) -> PathBuf {
    root.join(format!("models--{}", id.replace('/', "--")))
}

/// The snapshot folder of `id` at `revision` (a commit sha, or a ref under `refs/`).
pub fn find_snapshot(root: &Path, id: &str, revision: &str) -> Option<(String, PathBuf)> {
    let repo = repo_dir(root, id);
    let direct = repo.join("snapshots").join(revision);
    if !revision.contains(['/', '\\']) && direct.is_dir() {
        return Some((revision.to_string(), direct));
    }
    let sha = std::fs::read_to_string(repo.join("refs").join(revision)).ok()?;
    let sha = sha.trim().to_string();
    if sha.is_empty() || !sha.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let snap = repo.join("snapshots").join(&sha);
    snap.is_dir().then_some((sha, snap))
}

/// A blob and every display path (snapshot file) that leads to it.
#[derive(Debug)]
pub struct CachedBlob {
    pub path: PathBuf,
    pub displays: Vec<String>,
}

/// Lists the files under `target` (a cache root, one repository folder, or one snapshot
/// folder inside `root`), grouped by the blob they resolve to. Display paths are relative
/// to `root`. Errors (a dangling symlink) come back as `(display, message)`.
pub fn list(root: &Path, target: &Path) -> (Vec<CachedBlob>, Vec<(String, String)>) {
    let mut by_blob: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
    let mut errors = Vec::new();
    let repos: Vec<PathBuf> = if is_repo_dir(target) || target.starts_with(root) && target != root {
        vec![target.to_path_buf()]
    } else {
        let mut v: Vec<PathBuf> = std::fs::read_dir(target)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.path())
                    .filter(|p| is_repo_dir(p))
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    };
    for repo in repos {
        // Only snapshots: blobs/ holds the same content under hash names, and the
        // snapshot path is what users recognise.
        let walk_root = if is_repo_dir(&repo) {
            repo.join("snapshots")
        } else {
            repo.clone()
        };
        for entry in walkdir::WalkDir::new(&walk_root)
            .follow_links(true)
            .sort_by_file_name()
        {
            match entry {
                Ok(e) if e.file_type().is_file() => {
                    let display = display_of(root, e.path());
                    let blob =
                        std::fs::canonicalize(e.path()).unwrap_or_else(|_| e.path().to_path_buf());
                    by_blob.entry(blob).or_default().push(display);
                }
                Ok(_) => {}
                Err(err) => {
                    let p = err
                        .path()
                        .map(Path::to_path_buf)
                        .unwrap_or_else(|| walk_root.clone());
                    if err.loop_ancestor().is_none() {
                        errors.push((display_of(root, &p), err.to_string()));
                    }
                }
            }
        }
    }
    let mut blobs: Vec<CachedBlob> = by_blob
        .into_iter()
        .map(|(path, mut displays)| {
            displays.sort();
            CachedBlob { path, displays }
        })
        .collect();
    blobs.sort_by(|a, b| a.displays.cmp(&b.displays));
    (blobs, errors)
}

fn display_of(root: &Path, p: &Path) -> String {
    let rel = p.strip_prefix(root).unwrap_or(p);
    rel.to_string_lossy().replace('\\', "/")
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn lists_snapshots_once_per_blob() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let repo = root.join("models--org--name");
        std::fs::create_dir_all(repo.join("blobs")).unwrap();
        std::fs::create_dir_all(repo.join("refs")).unwrap();
        std::fs::write(repo.join("blobs/aaa"), b"one").unwrap();
        std::fs::write(repo.join("refs/main"), b"c2\n").unwrap();
        for snap in ["c1", "c2"] {
            let d = repo.join("snapshots").join(snap);
            std::fs::create_dir_all(&d).unwrap();
            symlink("../../blobs/aaa", d.join("model.bin")).unwrap();
        }
        assert!(is_cache_root(root));
        assert!(is_repo_dir(&repo));
        let (blobs, errors) = list(root, root);
        assert!(errors.is_empty());
        assert_eq!(blobs.len(), 1);
        assert_eq!(
            blobs[0].displays,
            [
                "models--org--name/snapshots/c1/model.bin",
                "models--org--name/snapshots/c2/model.bin"
            ]
        );
        assert_eq!(find_snapshot(root, "org/name", "main").unwrap().0, "c2");
        assert_eq!(find_snapshot(root, "org/name", "c1").unwrap().0, "c1");
        assert!(find_snapshot(root, "org/name", "dev").is_none());
    }
}
