//! The process environment, read once per command (ripgrep's "hiargs" habit): nothing
//! below `app` calls `std::env::var`. Tests build an [`Env`] by hand.

use std::path::PathBuf;

use crate::remote::http::Secret;

/// What modelgate takes from its environment.
#[derive(Clone, Debug, Default)]
pub struct Env {
    /// `CI` or `GITHUB_ACTIONS` is set: no progress bar.
    pub ci: bool,
    /// `GITHUB_ACTIONS=true`: stdout defaults to workflow commands, and the job summary
    /// and step outputs are written.
    pub github_actions: bool,
    /// `GITHUB_STEP_SUMMARY`.
    pub step_summary: Option<PathBuf>,
    /// `GITHUB_OUTPUT`.
    pub github_output: Option<PathBuf>,
    /// `NO_COLOR` is set.
    pub no_color: bool,
    pub hf: HfEnv,
}

/// The Hugging Face settings `huggingface_hub` reads from the environment.
#[derive(Clone, Debug)]
pub struct HfEnv {
    /// `HF_ENDPOINT` (default `https://huggingface.co`), without a trailing `/`.
    pub endpoint: String,
    /// `HF_TOKEN`, else `HUGGING_FACE_HUB_TOKEN`; never printed.
    pub token: Option<Secret>,
    /// `HF_HUB_OFFLINE`: hf:// targets are served from the local cache.
    pub offline: bool,
    /// The default cache: `HF_HUB_CACHE`, else `$HF_HOME/hub`, else
    /// `~/.cache/huggingface/hub` (`XDG_CACHE_HOME` honoured as huggingface_hub does).
    pub cache_root: Option<PathBuf>,
    /// `MODELGATE_HTTP_BACKOFF_MS`: the first retry delay (tests shorten it).
    pub backoff_ms: Option<u64>,
}

impl Default for HfEnv {
    fn default() -> Self {
        HfEnv {
            endpoint: DEFAULT_ENDPOINT.into(),
            token: None,
            offline: false,
            cache_root: None,
            backoff_ms: None,
        }
    }
}

const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

fn truthy(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "1" | "on" | "yes" | "true"
    )
}

impl Env {
    /// Reads the environment of this process.
    pub fn from_process() -> Env {
        let var = |k: &str| std::env::var(k).ok();
        let os = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        Env {
            ci: os("CI").is_some() || os("GITHUB_ACTIONS").is_some(),
            github_actions: var("GITHUB_ACTIONS").is_some_and(|v| v == "true"),
            step_summary: os("GITHUB_STEP_SUMMARY").map(PathBuf::from),
            github_output: os("GITHUB_OUTPUT").map(PathBuf::from),
            no_color: std::env::var_os("NO_COLOR").is_some(),
            hf: HfEnv {
                endpoint: var("HF_ENDPOINT")
                    .filter(|v| !v.trim().is_empty())
                    .unwrap_or_else(|| DEFAULT_ENDPOINT.into())
                    .trim()
                    .trim_end_matches('/')
                    .to_string(),
                token: var("HF_TOKEN")
                    .or_else(|| var("HUGGING_FACE_HUB_TOKEN"))
                    .and_then(Secret::new),
                offline: var("HF_HUB_OFFLINE").is_some_and(|v| truthy(&v)),
                cache_root: default_cache_root(&os),
                backoff_ms: var("MODELGATE_HTTP_BACKOFF_MS").and_then(|v| v.trim().parse().ok()),
            },
        }
    }
}

fn default_cache_root(os: &dyn Fn(&str) -> Option<std::ffi::OsString>) -> Option<PathBuf> {
    if let Some(p) = os("HF_HUB_CACHE") {
        return Some(PathBuf::from(p));
    }
    if let Some(p) = os("HF_HOME") {
        return Some(PathBuf::from(p).join("hub"));
    }
    if let Some(p) = os("XDG_CACHE_HOME") {
        return Some(PathBuf::from(p).join("huggingface").join("hub"));
    }
    let home = os("HOME").or_else(|| os("USERPROFILE"))?;
    Some(
        PathBuf::from(home)
            .join(".cache")
            .join("huggingface")
            .join("hub"),
    )
}
