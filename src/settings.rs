//! CLI flags, the config file and the environment merged once into validated settings.

use std::path::{Path, PathBuf};

use crate::cli::{ReportArgs, ScanArgs};
use crate::config::{self, Config, GlobalAllowlist};
use crate::env::Env;
use crate::filters;
use crate::limits::Limits;
use crate::policy::Policy;
use crate::target::Target;

pub struct Settings {
    /// The environment, read once.
    pub env: Env,
    /// The targets, typed (default `.`).
    pub targets: Vec<Target>,
    pub config_path: Option<PathBuf>,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub shard: Option<(u64, u64)>,
    pub limits: Limits,
    pub allow: GlobalAllowlist,
    /// Every decision the configuration makes (deny, ignore, Rego, thresholds).
    pub policy: Policy,
    /// `huggingface:` settings for remote targets.
    pub remote: crate::remote::Options,
    /// Resolve and scan the models the code pulls (`--resolve-models`, `models.resolve`).
    pub resolve_models: bool,
    /// `modelgate.lock` (`--lock`, `models.lock` relative to the config file's folder,
    /// else beside the first local target).
    pub lock_path: PathBuf,
}

/// The configuration file (`--config`; none with `--no-config`; else the first one
/// discovered in `roots`), the config it holds, and its policy with `--fail-on` applied.
/// `scan` and `merge` both resolve thresholds through here.
pub fn load_policy(
    args: &ReportArgs,
    roots: &[&Path],
) -> Result<(Option<PathBuf>, Config, Policy), String> {
    let config_path = if args.no_config {
        None
    } else if let Some(p) = &args.config {
        if !p.is_file() {
            return Err(format!("config file {} not found", p.display()));
        }
        Some(p.clone())
    } else {
        roots.iter().find_map(|r| config::discover(r))
    };
    let config = match &config_path {
        Some(p) => config::load(p).map_err(|e| e.to_string())?,
        None => Config::default(),
    };
    let mut policy = Policy::new(&config);
    if let Some(f) = &args.fail_on {
        let overrides = config::parse_fail_on(f).map_err(|e| format!("--fail-on: {e}"))?;
        policy = policy.with_fail_on(&overrides);
    }
    Ok((config_path, config, policy))
}

impl Settings {
    pub fn resolve(args: &ScanArgs, env: Env) -> Result<Settings, String> {
        let mut raw: Vec<String> = args.targets.clone();
        raw.extend(args.huggingface.iter().map(|r| format!("hf://{r}")));
        if raw.is_empty() {
            raw.push(".".into());
        }
        let targets = raw
            .iter()
            .map(|t| Target::parse(t, &env.hf))
            .collect::<Result<Vec<_>, _>>()?;
        let root = discovery_root(&targets);
        let (config_path, config, policy) = load_policy(&args.report, &[&root, Path::new(".")])?;
        let shard = args
            .shard
            .as_deref()
            .map(filters::parse_shard)
            .transpose()?;
        let mut include: Vec<String> = config
            .paths
            .include
            .patterns()
            .iter()
            .map(|p| p.as_str().to_string())
            .collect();
        include.extend(args.include.iter().cloned());
        let mut exclude: Vec<String> = config
            .paths
            .exclude
            .patterns()
            .iter()
            .map(|p| p.as_str().to_string())
            .collect();
        exclude.extend(args.exclude.iter().cloned());
        let policy = policy.with_rego(crate::rego::load(&config)?);
        let remote = crate::remote::Options {
            hub_scan: config.huggingface.hub_scan,
            trusted_orgs: config.huggingface.trusted_orgs.clone(),
        };
        let resolve_models = args.resolve_models || config.models.resolve;
        let lock_path = match (&args.lock, &config.models.lock, &config_path) {
            (Some(p), _, _) => p.clone(),
            (None, Some(p), Some(c)) => config_root(c).join(p),
            (None, Some(p), None) => root.join(p),
            (None, None, _) => root.join("modelgate.lock"),
        };
        Ok(Settings {
            resolve_models,
            lock_path,
            env,
            targets,
            remote,
            config_path,
            include,
            exclude,
            shard,
            limits: config.limits(),
            allow: config.global_allowlist(),
            policy,
        })
    }

    pub fn allow_global(&self, module: &str, name: &str) -> bool {
        self.allow.matches(module, name)
    }
}

/// The folder a config file's relative paths start from: its own folder, or the
/// repository root for `.github/modelgate.yml`.
fn config_root(config: &Path) -> PathBuf {
    let dir = config
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if dir.file_name().is_some_and(|n| n == ".github") {
        dir.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf()
    } else {
        dir.to_path_buf()
    }
}

/// Where to look for `.modelgate.yml`: the first local target directory (or a file's
/// folder), else the current directory. Remote targets (hf://, URLs) have no folder.
fn discovery_root(targets: &[Target]) -> PathBuf {
    match targets.iter().find_map(Target::local_dir) {
        Some(t) if t.is_dir() => t.to_path_buf(),
        Some(t) => t
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from(".")),
        None => PathBuf::from("."),
    }
}
