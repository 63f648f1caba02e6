//! Raw bytes → `formats::gguf::scan` (the header/structure parser, every bound).
#![no_main]

use libfuzzer_sys::fuzz_target;
use modelgate::finding::Location;
use modelgate::formats::gguf::scan;
use modelgate::limits::Limits;
use modelgate::scan::Ctx;
use modelgate::source::MemSource;

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    let allow = |_: &str, _: &str| false;
    let ctx = Ctx::new(&limits, &allow);
    let src = MemSource::new(data.to_vec());
    let mut out = Vec::new();
    let _ = scan(&src, &ctx, &Location::file("f"), &mut out);
});
