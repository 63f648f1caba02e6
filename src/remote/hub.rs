//! The Hugging Face Hub API, as `huggingface_hub` uses it:
//!
//! - `GET {endpoint}/api/models/{repo}/revision/{rev}` (model info): the commit `sha` the
//!   revision resolves to; with `?securityStatus=true` also `securityRepoStatus`
//!   (`scansDone`, `filesWithIssues: [{path, level}]`);
//! - `GET {endpoint}/api/models/{repo}/tree/{sha}?recursive=true[&expand=true]`: the files
//!   with their sizes (`size`, or `lfs.size` for LFS files), paginated with a
//!   `Link: <…>; rel="next"` header; `expand=true` adds `securityFileStatus.status`;
//! - `GET {endpoint}/{repo}/resolve/{sha}/{path}`: the file, usually a redirect to a CDN,
//!   which honours `Range`.

use std::sync::Arc;

use serde::Deserialize;

use super::http::{encode_path, encode_segment, status_error, Client, MAX_API_BODY};

/// Repositories with more files than this are refused (a listing is read into memory).
const MAX_FILES: usize = 200_000;
const MAX_PAGES: usize = 10_000;

/// `owner/name[@revision]` of an `hf://` target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepoRef {
    pub id: String,
    pub revision: Option<String>,
}

impl RepoRef {
    /// Parses `owner/name[@revision]` (the part after `hf://`). A bare `name` is accepted
    /// for the Hub's canonical repositories (`gpt2`).
    pub fn parse(s: &str) -> Result<RepoRef, String> {
        let s = s.trim_end_matches('/');
        let (id, revision) = match s.split_once('@') {
            Some((id, rev)) if !rev.is_empty() => (id, Some(rev.to_string())),
            Some(_) => return Err(format!("hf://{s}: empty revision after `@`")),
            None => (s, None),
        };
        let id = id.strip_prefix("models/").unwrap_or(id);
        let parts: Vec<&str> = id.split('/').collect();
        let valid = |p: &str| {
            !p.is_empty()
                && p != "."
                && p != ".."
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        if parts.is_empty() || parts.len() > 2 || !parts.iter().all(|p| valid(p)) {
            return Err(format!(
                "hf://{s}: expected hf://OWNER/NAME[@REVISION], e.g. hf://openai-community/gpt2@main"
            ));
        }
        Ok(RepoRef {
            id: id.to_string(),
            revision,
        })
    }

    pub fn owner(&self) -> Option<&str> {
        self.id.split_once('/').map(|(o, _)| o)
    }

    /// `owner/name[@revision]`, as written after `hf://`.
    pub fn shown(&self) -> String {
        match &self.revision {
            Some(r) => format!("{}@{r}", self.id),
            None => self.id.clone(),
        }
    }
}

/// One file of a repository at a commit.
#[derive(Clone, Debug)]
pub struct HubFile {
    pub path: String,
    pub size: u64,
    /// `securityFileStatus.status` from the expanded tree (`safe`, `unsafe`, `caution`,
    /// `queued`, `unscanned`, `error`, ...), when asked for.
    pub security: Option<String>,
    /// What the listing says the content is: the SHA-256 of an LFS file (`lfs.oid`), and
    /// the git blob id of any file (`oid`); `None` when absent or not hex of that length.
    pub hash: FileHash,
}

/// Content identity of a Hub file, as its tree listing gives it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileHash {
    pub sha256: Option<String>,
    pub git_oid: Option<String>,
}

fn hex_of_len(s: Option<String>, len: usize) -> Option<String> {
    s.filter(|s| s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(|s| s.to_ascii_lowercase())
}

/// The Hub's own scan verdict for the repository (`securityRepoStatus`).
#[derive(Clone, Debug, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RepoSecurity {
    #[serde(default)]
    pub scans_done: bool,
    #[serde(default)]
    pub files_with_issues: Vec<FileIssue>,
}

#[derive(Clone, Debug, Deserialize, serde::Serialize)]
pub struct FileIssue {
    pub path: String,
    #[serde(default)]
    pub level: Option<String>,
}

#[derive(Clone, Debug)]
pub struct HubRepo {
    pub repo: RepoRef,
    pub sha: String,
    pub files: Vec<HubFile>,
    /// `None` unless the security status was asked for (and the Hub sent it).
    pub security: Option<RepoSecurity>,
    pub endpoint: String,
}

impl HubRepo {
    pub fn file_url(&self, path: &str) -> String {
        format!(
            "{}/{}/resolve/{}/{}",
            self.endpoint,
            self.repo.id,
            self.sha,
            encode_path(path)
        )
    }

    /// `hf://owner/name@sha`
    pub fn root_display(&self) -> String {
        format!("hf://{}@{}", self.repo.id, self.sha)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ModelInfo {
    sha: Option<String>,
    #[serde(default)]
    security_repo_status: Option<RepoSecurity>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TreeEntry {
    #[serde(rename = "type")]
    kind: String,
    path: String,
    #[serde(default)]
    size: u64,
    #[serde(default)]
    oid: Option<String>,
    #[serde(default)]
    lfs: Option<Lfs>,
    #[serde(default)]
    security_file_status: Option<FileStatus>,
}

#[derive(Deserialize)]
struct Lfs {
    size: u64,
    #[serde(default)]
    oid: Option<String>,
}

#[derive(Deserialize)]
struct FileStatus {
    #[serde(default)]
    status: Option<String>,
}

/// Resolves the revision to a commit and lists the repository's files.
pub fn open(
    client: &Arc<Client>,
    endpoint: &str,
    repo: &RepoRef,
    security: bool,
) -> Result<HubRepo, String> {
    let rev = repo.revision.as_deref().unwrap_or("main");
    let mut info_url = format!(
        "{endpoint}/api/models/{}/revision/{}",
        repo.id,
        encode_segment(rev)
    );
    if security {
        info_url.push_str("?securityStatus=true");
    }
    let resp = client.get(&info_url, None, MAX_API_BODY)?;
    if resp.status != 200 {
        return Err(format!(
            "hf://{}: {}",
            display_ref(repo),
            status_error(resp.status, &info_url)
        ));
    }
    let info: ModelInfo = serde_json::from_slice(&resp.body).map_err(|e| {
        format!(
            "hf://{}: unexpected model info from the Hub: {e}",
            display_ref(repo)
        )
    })?;
    let sha = info
        .sha
        .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric()))
        .ok_or_else(|| format!("hf://{}: the Hub sent no commit sha", display_ref(repo)))?;

    let mut next = Some(format!(
        "{endpoint}/api/models/{}/tree/{sha}?recursive=true{}",
        repo.id,
        if security { "&expand=true" } else { "" }
    ));
    let mut files = Vec::new();
    let mut pages = 0;
    while let Some(url) = next.take() {
        pages += 1;
        if pages > MAX_PAGES {
            return Err(format!(
                "hf://{}: tree listing has too many pages",
                display_ref(repo)
            ));
        }
        let resp = client.get(&url, None, MAX_API_BODY)?;
        if resp.status != 200 {
            return Err(format!(
                "hf://{}: {}",
                display_ref(repo),
                status_error(resp.status, &url)
            ));
        }
        files.extend(parse_tree_page(&resp.body).map_err(|e| {
            format!(
                "hf://{}: unexpected tree listing from the Hub: {e}",
                display_ref(repo)
            )
        })?);
        if files.len() > MAX_FILES {
            return Err(format!(
                "hf://{}: more than {MAX_FILES} files",
                display_ref(repo)
            ));
        }
        next = resp.header("link").and_then(next_link).map(|l| {
            // Relative links resolve against the endpoint.
            super::http::join(&url, &l)
        });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files.dedup_by(|a, b| a.path == b.path);
    Ok(HubRepo {
        repo: repo.clone(),
        sha,
        files,
        security: if security {
            Some(info.security_repo_status.unwrap_or_default())
        } else {
            None
        },
        endpoint: endpoint.to_string(),
    })
}

/// The files of one page of a tree listing (directories are left out).
pub fn parse_tree_page(body: &[u8]) -> Result<Vec<HubFile>, String> {
    let entries: Vec<TreeEntry> = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    Ok(entries
        .into_iter()
        .filter(|e| e.kind == "file")
        .map(|e| {
            let (size, sha256) = match e.lfs {
                Some(l) => (l.size, hex_of_len(l.oid, 64)),
                None => (e.size, None),
            };
            HubFile {
                size,
                path: e.path,
                security: e.security_file_status.and_then(|s| s.status),
                hash: FileHash {
                    sha256,
                    git_oid: hex_of_len(e.oid, 40),
                },
            }
        })
        .collect())
}

fn display_ref(r: &RepoRef) -> String {
    match &r.revision {
        Some(rev) => format!("{}@{rev}", r.id),
        None => r.id.clone(),
    }
}

/// The `rel="next"` target of a `Link` header.
pub fn next_link(header: &str) -> Option<String> {
    for part in header.split(',') {
        let mut pieces = part.split(';');
        let target = pieces.next()?.trim();
        let is_next = pieces.any(|p| {
            let p = p.trim().replace(' ', "");
            p == "rel=\"next\"" || p == "rel=next"
        });
        if is_next {
            return Some(
                target
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_string(),
            );
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_refs() {
        let r = RepoRef::parse("openai-community/gpt2@v1.0").unwrap();
        assert_eq!(r.id, "openai-community/gpt2");
        assert_eq!(r.revision.as_deref(), Some("v1.0"));
        assert_eq!(r.owner(), Some("openai-community"));
        assert_eq!(RepoRef::parse("gpt2").unwrap().owner(), None);
        assert_eq!(
            RepoRef::parse("o/n@refs/pr/1").unwrap().revision.as_deref(),
            Some("refs/pr/1")
        );
        assert!(RepoRef::parse("o/../x").is_err());
        assert!(RepoRef::parse("a/b/c").is_err());
        assert!(RepoRef::parse("o/n@").is_err());
    }

    #[test]
    fn link_headers() {
        assert_eq!(
            next_link("<https://h/api/models/a/b/tree/x?cursor=abc>; rel=\"next\"").as_deref(),
            Some("https://h/api/models/a/b/tree/x?cursor=abc")
        );
        assert_eq!(next_link("<https://h/p1>; rel=\"prev\""), None);
    }
}
