//! modelgate: find code in machine-learning model files without running it.
#![forbid(unsafe_code)]

pub mod config;
pub mod finding;
pub mod limits;
pub mod policy;
pub mod report;
pub mod rules;
pub mod formats;
pub mod scan;
pub mod sniff;
pub mod source;
pub mod cli;
pub mod discover;
pub mod app;
pub mod progress;
pub mod settings;
