//! Format scanners. Each takes a [`crate::source::ByteSource`] and a location and returns
//! findings; containers recurse into their members through [`crate::scan::scan_source`].
//! [`registry::FORMATS`] lists them all.

pub mod compressed;
pub mod config;
pub mod gguf;
pub mod hdf5;
pub mod jinja;
pub mod keras;
pub mod lfs;
pub mod numpy;
pub mod onnx;
pub mod paths;
pub mod pickle;
pub mod registry;
pub mod safetensors;
pub mod savedmodel;
pub mod sevenz;
pub mod skops;
pub mod tar;
pub mod torch;
pub mod torch_package;
pub mod window;
pub mod zip;
