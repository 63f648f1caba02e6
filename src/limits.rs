//! Bounds that protect the scanner from hostile input. Every length, count and depth read
//! from a file is checked against one of these before it is used; reaching one is a
//! finding (`content-not-scanned` or `pickle-limit-reached`), never a crash.

use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Files larger than this are not scanned (a `content-not-scanned` finding says so).
    /// Zip checkpoints are exempt: only their central directory and pickle members are
    /// read, so their size is bounded by `max_member_size` instead. GGUF, safetensors and
    /// ONNX files are exempt too: only their headers and structure are read.
    pub max_file_size: u64,
    /// Largest single archive member or pickle stream that is read into memory.
    pub max_member_size: u64,
    /// How deep containers may nest (zip in zip ...).
    pub max_archive_depth: u32,
    /// Most archive entries (zip, tar and 7z members) scanned per file, nested archives
    /// included; also the most read from one archive's directory.
    pub max_archive_entries: u32,
    /// Largest ratio of uncompressed to compressed size accepted for a member.
    pub max_expansion_ratio: u64,
    /// Largest total of decompressed bytes per file.
    pub max_total_expanded: u64,
    /// Opcodes interpreted per pickle stream (benign files with millions of opcodes pass).
    pub max_pickle_opcodes: u64,
    /// Memo entries per pickle stream.
    pub max_pickle_memo: usize,
    /// Depth of the pickle stack plus metastack.
    pub max_pickle_stack: usize,
    /// Pickle streams read one after another from the same bytes.
    pub max_pickles_per_stream: u32,
    /// Wall-clock budget per file.
    pub time_budget: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_size: 4 << 30,
            max_member_size: 1 << 30,
            max_archive_depth: 8,
            max_archive_entries: 100_000,
            max_expansion_ratio: 1_000,
            max_total_expanded: 4 << 30,
            max_pickle_opcodes: 50_000_000,
            max_pickle_memo: 5_000_000,
            max_pickle_stack: 1_000_000,
            max_pickles_per_stream: 4096,
            time_budget: Duration::from_secs(60),
        }
    }
}
