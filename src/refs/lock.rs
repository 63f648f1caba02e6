//! `modelgate.lock` (SPEC §8): per model reference of the code — repository and requested
//! revision — the commit it resolved to, the files that call downloads with their size and
//! content hashes, and the verdict of their scan. Written by `modelgate lock`, committed,
//! read by every `scan`: a reference missing from it is `model-ref-unlocked`, a pin that
//! differs from the locked commit is `model-ref-drift`, and with `--resolve-models` a
//! locked reference is not fetched again.
//!
//! The file is JSON, pretty-printed with entries sorted by (repository, revision) and
//! files by path, so that `modelgate lock` on unchanged code rewrites it byte for byte
//! and a review sees one hunk per changed reference.

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::finding::Severity;

/// The format version this build writes and reads.
pub const VERSION: u32 = 1;

/// Largest lock file read (bytes).
const MAX_LOCK: u64 = 16 << 20;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lock {
    pub version: u32,
    #[serde(default)]
    pub models: Vec<Entry>,
}

/// One reference: `repo` at `requested` (a commit, a branch or tag, or `null` for the
/// default branch).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub repo: String,
    pub requested: Option<String>,
    /// The commit `requested` resolved to when locked.
    pub commit: String,
    /// Worst severity of the scan of `files` (`null`: no finding).
    pub verdict: Option<Severity>,
    pub files: Vec<LockedFile>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedFile {
    /// Path in the repository.
    pub path: String,
    pub size: u64,
    /// SHA-256 of the content (the Hub gives it for LFS files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Git blob id (every file has one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_oid: Option<String>,
    /// Worst severity of this file's findings.
    pub verdict: Option<Severity>,
}

impl Entry {
    /// The file with the worst finding, if any finding.
    pub fn worst_file(&self) -> Option<&LockedFile> {
        self.files
            .iter()
            .filter(|f| f.verdict.is_some())
            .max_by_key(|f| f.verdict)
    }
}

impl Lock {
    /// Reads a lock file; `Ok(None)` when there is none.
    pub fn read(path: &Path) -> Result<Option<Lock>, String> {
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        if meta.len() > MAX_LOCK {
            return Err(format!(
                "{}: {} bytes, over the {MAX_LOCK}-byte limit for a lock file",
                path.display(),
                meta.len()
            ));
        }
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let lock: Lock = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not a modelgate lock file: {e}", path.display()))?;
        if lock.version != VERSION {
            return Err(format!(
                "{}: lock file version {}, this modelgate reads version {VERSION}",
                path.display(),
                lock.version
            ));
        }
        Ok(Some(lock))
    }

    /// The entry of exactly this reference.
    pub fn get(&self, repo: &str, requested: Option<&str>) -> Option<&Entry> {
        self.models
            .iter()
            .find(|e| e.repo == repo && e.requested.as_deref() == requested)
    }

    /// Entries of the same repository at other revisions.
    pub fn others<'a>(
        &'a self,
        repo: &'a str,
        requested: Option<&'a str>,
    ) -> impl Iterator<Item = &'a Entry> + 'a {
        self.models
            .iter()
            .filter(move |e| e.repo == repo && e.requested.as_deref() != requested)
    }

    /// Sorted, deduplicated: the form written.
    pub fn normalise(&mut self) {
        for e in &mut self.models {
            e.files.sort_by(|a, b| a.path.cmp(&b.path));
            e.files.dedup_by(|a, b| a.path == b.path);
        }
        self.models
            .sort_by(|a, b| (&a.repo, &a.requested).cmp(&(&b.repo, &b.requested)));
        self.models
            .dedup_by(|a, b| a.repo == b.repo && a.requested == b.requested);
    }

    /// The text written: pretty JSON and a final newline.
    pub fn render(&self) -> Result<String, String> {
        let mut lock = self.clone();
        lock.normalise();
        serde_json::to_string_pretty(&lock)
            .map(|s| s + "\n")
            .map_err(|e| e.to_string())
    }

    /// Writes the lock in place (a temporary file beside it, then a rename: a reader never
    /// sees half a lock).
    pub fn write(&self, path: &Path) -> Result<(), String> {
        let text = self.render()?;
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "modelgate.lock".into());
        let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
        let res = std::fs::File::create(&tmp)
            .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|_| f.sync_all()))
            .and_then(|_| std::fs::rename(&tmp, path));
        if let Err(e) = res {
            let _ = std::fs::remove_file(&tmp);
            return Err(format!("{}: {e}", path.display()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(repo: &str, requested: Option<&str>, commit: &str) -> Entry {
        Entry {
            repo: repo.into(),
            requested: requested.map(Into::into),
            commit: commit.into(),
            verdict: None,
            files: vec![
                LockedFile {
                    path: "z.json".into(),
                    size: 2,
                    sha256: None,
                    git_oid: Some("a".repeat(40)),
                    verdict: None,
                },
                LockedFile {
                    path: "a.safetensors".into(),
                    size: 9,
                    sha256: Some("b".repeat(64)),
                    git_oid: None,
                    verdict: Some(Severity::Low),
                },
            ],
        }
    }

    #[test]
    fn rendering_is_sorted_and_round_trips() {
        let lock = Lock {
            version: VERSION,
            models: vec![
                entry("zeta/m", None, &"1".repeat(40)),
                entry("acme/m", Some("main"), &"2".repeat(40)),
                entry("acme/m", None, &"3".repeat(40)),
            ],
        };
        let text = lock.render().unwrap();
        let back: Lock = serde_json::from_str(&text).unwrap();
        let repos: Vec<(&str, Option<&str>)> = back
            .models
            .iter()
            .map(|e| (e.repo.as_str(), e.requested.as_deref()))
            .collect();
        assert_eq!(
            repos,
            [("acme/m", None), ("acme/m", Some("main")), ("zeta/m", None)]
        );
        assert_eq!(back.models[0].files[0].path, "a.safetensors");
        // Unchanged input renders byte for byte the same.
        assert_eq!(back.render().unwrap(), text);
        assert!(text.ends_with("}\n"));
        assert_eq!(
            back.get("acme/m", Some("main")).map(|e| e.commit.as_str()),
            Some("2".repeat(40).as_str())
        );
        assert_eq!(back.others("acme/m", Some("main")).count(), 1);
        assert_eq!(
            back.models[0].worst_file().map(|f| f.path.as_str()),
            Some("a.safetensors")
        );
    }

    #[test]
    fn bad_lock_files_are_errors_not_empty_locks() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("modelgate.lock");
        assert_eq!(Lock::read(&p).unwrap(), None);
        std::fs::write(&p, "{\"version\": 1, \"models\": [{\"repo\": 1}]}").unwrap();
        assert!(Lock::read(&p)
            .unwrap_err()
            .contains("not a modelgate lock file"));
        std::fs::write(&p, "{\"version\": 7, \"models\": []}").unwrap();
        assert!(Lock::read(&p).unwrap_err().contains("version 7"));
        let lock = Lock {
            version: VERSION,
            models: vec![entry("acme/m", None, &"3".repeat(40))],
        };
        lock.write(&p).unwrap();
        assert_eq!(Lock::read(&p).unwrap().unwrap().models.len(), 1);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1);
    }
}
