//! Raw bytes → the Keras config scanner (JSON walk, Lambda base64 + marshal reader);
//! the same bytes also go to the marshal reader directly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use modelgate::finding::Location;
use modelgate::formats::keras::{marshal, scan_config};
use modelgate::limits::Limits;
use modelgate::scan::Ctx;
use modelgate::source::MemSource;

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    let allow = |_: &str, _: &str| false;
    let ctx = Ctx::new(&limits, &allow);
    let mut out = Vec::new();
    scan_config(data, &ctx, &Location::file("config.json"), &mut out);
    let _ = marshal::code_info(data);
    let _ = MemSource::new(Vec::new());
});
