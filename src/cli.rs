//! Command-line arguments, as close to the flags as possible; merged with the config file
//! in `settings.rs`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(name = "modelgate", version, about = "Keep malicious model files out of your repository", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Scan files, directories, URLs or hf:// repos for model files that carry code.
    Scan(Box<ScanArgs>),
    /// Print the rule catalogue.
    Rules(RulesArgs),
    /// Write a commented starter .modelgate.yml.
    Init(InitArgs),
    /// Combine the JSON reports of shard runs (`scan --shard K/N --json FILE`) into one
    /// report and apply the thresholds once.
    Merge(MergeArgs),
    /// Convert a pickled checkpoint (PyTorch zip or legacy, a pickle of tensors or numeric
    /// arrays, .npy/.npz) to safetensors without running it.
    Convert(crate::convert::ConvertArgs),
    /// Resolve the models the code pulls through the Hub API, scan what each call
    /// downloads, and write modelgate.lock (network needed).
    Lock(LockArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
    Sarif,
    Github,
    /// A CycloneDX 1.6 BOM of the model files and the models the code pulls.
    Cyclonedx,
}

#[derive(Args, Debug)]
pub struct ScanArgs {
    /// Files or directories (default "."), http(s) URLs, hf://OWNER/NAME[@REVISION], a
    /// Hugging Face cache folder, or hf-cache:// (the default cache) / hf-cache://OWNER/NAME.
    pub targets: Vec<String>,
    /// Also scan this Hugging Face repository, OWNER/NAME[@REVISION] (same as
    /// hf://OWNER/NAME; the picklescan flag). Repeatable.
    #[arg(long, value_name = "OWNER/NAME")]
    pub huggingface: Vec<String>,
    #[command(flatten)]
    pub report: ReportArgs,
    /// Only scan paths matching GLOB (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,
    /// Skip paths matching GLOB (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Parallel workers (default: all cores).
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Scan only shard K of N (stable partition by path), e.g. 2/4.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Never draw a progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// Resolve the models the code pulls (`from_pretrained("org/name")`, ...) through the
    /// Hub API and scan their files like hf://OWNER/NAME@SHA (network needed).
    #[arg(long)]
    pub resolve_models: bool,
    /// The lock file of the models the code pulls (default: modelgate.lock beside the
    /// first local target, or `models.lock` of the config).
    #[arg(long, value_name = "FILE")]
    pub lock: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct LockArgs {
    /// Source files or directories whose model references are locked (default ".").
    pub targets: Vec<String>,
    /// The lock file (default: modelgate.lock beside the first target, or `models.lock`
    /// of the config).
    #[arg(long, value_name = "FILE")]
    pub lock: Option<PathBuf>,
    /// Resolve and scan every reference again, not only new and changed ones.
    #[arg(long)]
    pub update: bool,
    /// Configuration file (default: discover .modelgate.yml, .modelgate.yaml, .github/modelgate.yml).
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Ignore any configuration file.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,
    /// Only read paths matching GLOB (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,
    /// Skip paths matching GLOB (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
}

#[derive(Args, Debug)]
pub struct RulesArgs {
    /// text, json or markdown.
    #[arg(long, default_value = "text")]
    pub format: String,
}

#[derive(Args, Debug)]
pub struct InitArgs {
    /// Where to write (default .modelgate.yml).
    #[arg(default_value = ".modelgate.yml")]
    pub path: PathBuf,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// JSON reports written by `modelgate scan --json FILE` (one per shard).
    #[arg(required = true, value_name = "REPORT")]
    pub reports: Vec<PathBuf>,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Configuration, report and threshold flags: the same for `scan` and `merge`, so a merged
/// report is configured exactly like a single run.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Configuration file (default: discover .modelgate.yml, .modelgate.yaml, .github/modelgate.yml).
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Ignore any configuration file.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,
    /// What goes to stdout (default text; github when GITHUB_ACTIONS=true).
    #[arg(short, long, value_enum)]
    pub format: Option<OutputFormat>,
    /// Also write a SARIF report to FILE.
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
    /// Also write a JSON report to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Also write a CycloneDX 1.6 BOM (model inventory) to FILE.
    #[arg(long, value_name = "FILE")]
    pub cyclonedx: Option<PathBuf>,
    /// SARIF automationDetails.id category (default "modelgate/").
    #[arg(long, value_name = "CATEGORY")]
    pub category: Option<String>,
    /// Override thresholds, e.g. critical=1,high=1,medium=off.
    #[arg(long, value_name = "SEV=N[,SEV=N]")]
    pub fail_on: Option<String>,
    /// List skipped files and why.
    #[arg(long)]
    pub show_skipped: bool,
}
