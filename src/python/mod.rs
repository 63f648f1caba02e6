//! Python source analysis for code that a model load executes: Hugging Face remote code
//! (`trust_remote_code=True`), `torch.package` modules, the source strings of pickled
//! `torch.fx` GraphModules, MLflow `code/` loader modules.
//!
//! - [`analyze`]: the source parsed by ruff's parser (`ruff_python_parser`, error-recovering:
//!   a file with syntax errors, or Python 2, still gives the statements that parse; nesting
//!   bounded before parsing), and from its syntax tree: imports and aliases resolved, every call site recorded with its
//!   resolved callee, constant arguments and 1-based line/column ([`Call`]), relative
//!   imports listed ([`RelativeImport`]), and the behaviours that matter for security
//!   ([`Behaviour`]: process execution, code execution, network, file writes, secret
//!   environment reads), each marked as running at load time or later.
//! - [`findings`]: behaviours turned into findings at a location in the shipped file.
//!
//! The per-call records are meant to be reused by the model-reference analysis of
//! repository code (`from_pretrained("org/name", revision=...)`: `Call::callee` is
//! `transformers.AutoModel.from_pretrained` through any alias, `Call::positional(0)` and
//! `Call::keyword("revision")` give the literal arguments, `line`/`column` the call site).
//! That analysis is not implemented here.
//!
//! Nothing is executed: the analysis reads the syntax tree.

pub mod analyze;
pub mod code_set;
pub mod findings;
pub mod first_party;

pub use analyze::{
    analyze, Analysis, Arg, ArgValue, Behaviour, Call, Import, Kind, RelativeImport, Scope,
};

#[cfg(test)]
mod tests;
