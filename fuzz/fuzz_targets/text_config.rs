//! Raw bytes → the text-config scanner under each name it treats differently (a Hydra
//! YAML, a tokenizer_config.json chat template, a `.jinja` file, NeMo's
//! model_config.yaml, a TOML config read for model references), → the model-reference
//! walk of configs, and → the skops schema walk.
#![no_main]

use libfuzzer_sys::fuzz_target;
use modelgate::finding::Location;
use modelgate::formats::config::{self, tree};
use modelgate::formats::skops;
use modelgate::limits::Limits;
use modelgate::scan::Ctx;
use modelgate::source::MemSource;

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    let allow = |_: &str, _: &str| false;
    let ctx = Ctx::new(&limits, &allow);
    let src = MemSource::new(data.to_vec());
    for name in [
        "config.yaml",
        "tokenizer_config.json",
        "chat_template.jinja",
        "model_config.yaml",
        "pyproject.toml",
    ] {
        let mut out = Vec::new();
        config::scan(&src, &ctx, &Location::file(name), &mut out);
    }
    let text = String::from_utf8_lossy(data);
    let _ = modelgate::refs::config::text_analysis(&text, "train.toml", &[]);
    let _ = modelgate::refs::config::text_analysis(&text, "train.yaml", &[]);
    if let Ok(doc) = tree::parse(&text, 100_000, 256) {
        let mut out = Vec::new();
        skops::scan_schema(&doc, &ctx, &Location::file("m.skops"), &mut out);
    }
});
