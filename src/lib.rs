//! modelgate: find code in machine-learning model files without running it.
#![forbid(unsafe_code)]

pub mod app;
pub mod bytes;
pub mod cli;
pub mod config;
pub mod convert;
pub mod discover;
pub mod env;
pub mod filters;
pub mod finding;
pub mod formats;
pub mod limits;
pub mod merge;
pub mod mismatch;
pub mod plan;
pub mod policy;
pub mod progress;
pub mod python;
pub mod refs;
pub mod rego;
pub mod remote;
pub mod repo;
pub mod report;
pub mod rules;
pub mod scan;
pub mod settings;
pub mod sniff;
pub mod source;
pub mod target;
