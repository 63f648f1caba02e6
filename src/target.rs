//! What the user asked to scan, typed: a [`Target`] per command-line argument, the
//! [`Input`] files they expand to, and the [`Origin`] every report entry keeps, so that
//! renderers know where a file lives without guessing from its display string.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::env::HfEnv;
use crate::remote::{cache, hub, RemoteFile};

/// One command-line target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A file or directory of the local file system.
    Local(PathBuf),
    /// `hf://OWNER/NAME[@REVISION]`: a repository on the Hugging Face Hub.
    HubRepo(hub::RepoRef),
    /// An `http(s)://` URL of one file.
    Url(String),
    /// A local Hugging Face cache: the whole cache, or one repository in it.
    HubCache(CacheTarget),
}

/// Which part of a Hugging Face cache a target names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CacheTarget {
    /// Every repository under `root`: a cache folder or `HF_HOME` given as a path
    /// (`as_path`), or `hf-cache://` (the default cache).
    Root { root: PathBuf, as_path: bool },
    /// One repository folder `dir` (`models--org--name`) under `root`, named `id`.
    RepoDir {
        root: PathBuf,
        dir: PathBuf,
        id: String,
    },
    /// `hf-cache://OWNER/NAME[@REVISION]` in the default cache.
    Repo(hub::RepoRef),
}

/// URL schemes that name remote files. A display path with one of these is an absolute
/// URI; anything else is a path.
pub const REMOTE_SCHEMES: [&str; 3] = ["hf", "http", "https"];

impl Target {
    /// Parses one command-line target. Local paths are looked at on disk to recognise a
    /// Hugging Face cache (`HF_HOME`, its `hub/`, or a `models--org--name` folder).
    pub fn parse(t: &str, hf: &HfEnv) -> Result<Target, String> {
        if let Some(rest) = t.strip_prefix("hf://") {
            return hub::RepoRef::parse(rest).map(Target::HubRepo);
        }
        if t.starts_with("http://") || t.starts_with("https://") {
            return Ok(Target::Url(t.to_string()));
        }
        if let Some(rest) = t.strip_prefix("hf-cache://") {
            if rest.is_empty() {
                let root = hf.cache_root.clone().ok_or(
                    "hf-cache://: cannot find the Hugging Face cache (set HF_HUB_CACHE or HF_HOME)",
                )?;
                if !root.is_dir() {
                    return Err(format!(
                        "hf-cache://: the Hugging Face cache {} does not exist",
                        root.display()
                    ));
                }
                return Ok(Target::HubCache(CacheTarget::Root {
                    root,
                    as_path: false,
                }));
            }
            return hub::RepoRef::parse(rest).map(|r| Target::HubCache(CacheTarget::Repo(r)));
        }
        if let Some((scheme, _)) = t.split_once("://") {
            let scheme_like = scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
            if scheme_like && !Path::new(t).exists() {
                return Err(format!(
                    "{t}: unknown URL scheme `{scheme}://` (targets are paths, hf://, hf-cache:// or http(s):// URLs)"
                ));
            }
        }
        let mut p = PathBuf::from(t);
        // `HF_HOME` itself (`~/.cache/huggingface`): its cache is `hub/`.
        if p.is_dir() && !cache::is_cache_root(&p) && cache::is_cache_root(&p.join("hub")) {
            p = p.join("hub");
        }
        if p.is_dir() && cache::is_cache_root(&p) {
            return Ok(Target::HubCache(CacheTarget::Root {
                root: p,
                as_path: true,
            }));
        }
        if p.is_dir() && cache::is_repo_dir(&p) {
            let root = p
                .parent()
                .filter(|r| !r.as_os_str().is_empty())
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from("."));
            let id = p
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.split_once("--"))
                .map(|(_, rest)| rest.replacen("--", "/", 1))
                .unwrap_or_default();
            return Ok(Target::HubCache(CacheTarget::RepoDir { root, dir: p, id }));
        }
        Ok(Target::Local(p))
    }

    /// The path a target given as a local path names (where a configuration file is
    /// looked for).
    pub fn local_dir(&self) -> Option<&Path> {
        match self {
            Target::Local(p) => Some(p),
            Target::HubCache(CacheTarget::Root {
                root,
                as_path: true,
            }) => Some(root),
            Target::HubCache(CacheTarget::RepoDir { dir, .. }) => Some(dir),
            _ => None,
        }
    }
}

/// Where a report entry's bytes came from. Serialised in the JSON report for everything
/// but local files (the default), so that `merge` keeps it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// A local file; its display path is relative to the scan root unless the target was
    /// absolute.
    #[default]
    Local,
    /// A blob of a local Hugging Face cache, reported under its snapshot path.
    HfCache,
    /// A file of a Hub repository, displayed as `hf://owner/name@sha/path`.
    Hf,
    /// A file read from an http(s) URL, displayed as the URL without its query.
    Url,
}

impl Origin {
    pub fn is_local(&self) -> bool {
        *self == Origin::Local
    }

    /// Whether the display path is an absolute URI (not a file of the checkout).
    pub fn is_remote(self) -> bool {
        matches!(self, Origin::Hf | Origin::Url)
    }
}

/// Where a report entry is, for renderers that need a file of the checkout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place<'a> {
    /// A path relative to the scan root (and so, in CI, to the checkout).
    Relative(&'a str),
    /// An absolute local path (the target was given as one).
    Absolute(&'a str),
    /// An absolute URI (`hf://…`, `https://…`).
    Remote(&'a str),
}

impl<'a> Place<'a> {
    pub fn of(display: &'a str, origin: Origin) -> Place<'a> {
        if origin.is_remote() {
            Place::Remote(display)
        } else if is_absolute_display(display) {
            Place::Absolute(display)
        } else {
            Place::Relative(display)
        }
    }
}

/// A display path (always `/`-separated) that is absolute: `/x`, `//server/share`, `C:/x`.
fn is_absolute_display(d: &str) -> bool {
    let b = d.as_bytes();
    d.starts_with('/')
        || (b.len() >= 3
            && b.first().is_some_and(u8::is_ascii_alphabetic)
            && b.get(1) == Some(&b':')
            && b.get(2) == Some(&b'/'))
}

/// How an input is read.
#[derive(Debug, Clone)]
pub enum Source {
    Local(PathBuf),
    /// Over HTTP (hf:// and http(s) targets).
    Remote(Arc<RemoteFile>),
}

/// One file to scan.
#[derive(Debug, Clone)]
pub struct Input {
    pub source: Source,
    /// Display path: as reached from the target, `/`-separated, no leading `./`.
    pub display: String,
    pub origin: Origin,
    /// Why it will not be scanned, if so (excluded, not included).
    pub skip: Option<String>,
    /// A walk or listing error for this path.
    pub error: Option<String>,
    /// Other display paths with the same content (a blob of the Hugging Face cache
    /// reached from several snapshots): scanned once, reported under each.
    pub aliases: Vec<String>,
}

/// The targets of a run, expanded.
#[derive(Default)]
pub struct Plan {
    pub inputs: Vec<Input>,
    pub packages: Vec<Package>,
    /// The HTTP client, when a target needed one (for the progress line).
    pub client: Option<Arc<crate::remote::http::Client>>,
}

/// What kind of target a package came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PackageKind {
    Local,
    HuggingFace,
    HuggingFaceCache,
    Url,
}

/// The Hub's view of a repository, for `hf-hub-*` findings.
#[derive(Clone, Debug, Default)]
pub struct HubInfo {
    pub owner: Option<String>,
    /// Asked for (`huggingface.hub-scan`) and received.
    pub security: Option<hub::RepoSecurity>,
    /// Repository path → `securityFileStatus.status`.
    pub file_status: std::collections::HashMap<String, Option<String>>,
    /// Repository path → size and content hashes from the listing (lock file, CycloneDX).
    pub file_hashes: std::collections::HashMap<String, (u64, hub::FileHash)>,
}

/// One target as a unit: a repository, a URL, a cache folder, or all local paths
/// together. What Rego policies and Hub verdicts talk about.
#[derive(Clone, Debug)]
pub struct Package {
    pub kind: PackageKind,
    /// `owner/name` for the Hub, the URL, the path.
    pub name: String,
    /// The commit for the Hub and the cache; empty otherwise.
    pub version: String,
    /// Display path of the entry for target-level findings (`hf://owner/name@sha`).
    pub root: String,
    /// Display paths of its files (aliases included).
    pub files: BTreeSet<String>,
    pub hub: Option<HubInfo>,
}

impl Package {
    /// `v0.package.format` of the Cloudsmith-EPM view.
    pub fn format(&self) -> &'static str {
        match self.kind {
            PackageKind::HuggingFace | PackageKind::HuggingFaceCache => "huggingface",
            PackageKind::Url => "url",
            PackageKind::Local => "local",
        }
    }

    /// The path of a file inside the package (the repository path for the Hub).
    pub fn relative<'a>(&self, display: &'a str) -> &'a str {
        display
            .strip_prefix(self.root.as_str())
            .and_then(|r| r.strip_prefix('/'))
            .unwrap_or(display)
    }

    /// The origin of the package's files.
    pub fn origin(&self) -> Origin {
        match self.kind {
            PackageKind::Local => Origin::Local,
            PackageKind::HuggingFace => Origin::Hf,
            PackageKind::HuggingFaceCache => Origin::HfCache,
            PackageKind::Url => Origin::Url,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hf() -> HfEnv {
        HfEnv::default()
    }

    #[test]
    fn schemes_parse_to_their_target() {
        assert!(matches!(
            Target::parse("hf://acme/m@main", &hf()),
            Ok(Target::HubRepo(_))
        ));
        assert!(matches!(
            Target::parse("https://h.co/x.bin", &hf()),
            Ok(Target::Url(_))
        ));
        assert!(matches!(
            Target::parse("hf-cache://acme/m", &hf()),
            Ok(Target::HubCache(CacheTarget::Repo(_)))
        ));
        assert_eq!(
            Target::parse("models/x.pt", &hf()),
            Ok(Target::Local(PathBuf::from("models/x.pt")))
        );
        // A scheme modelgate does not read is an error, not a relative path.
        let e = Target::parse("s3://bucket/model.pt", &hf()).unwrap_err();
        assert!(e.contains("unknown URL scheme `s3://`"), "{e}");
    }

    #[test]
    fn places_know_absolute_and_remote() {
        assert_eq!(
            Place::of("a/b.pt", Origin::Local),
            Place::Relative("a/b.pt")
        );
        assert_eq!(
            Place::of("/abs/b.pt", Origin::Local),
            Place::Absolute("/abs/b.pt")
        );
        assert_eq!(
            Place::of("C:/x/b.pt", Origin::Local),
            Place::Absolute("C:/x/b.pt")
        );
        assert_eq!(
            Place::of("hf://a/b@1/c", Origin::Hf),
            Place::Remote("hf://a/b@1/c")
        );
        // A local file whose name happens to contain `://` is still a path.
        assert_eq!(
            Place::of("dir/hf://x", Origin::Local),
            Place::Relative("dir/hf://x")
        );
    }
}
