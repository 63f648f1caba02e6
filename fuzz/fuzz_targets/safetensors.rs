//! Raw bytes → `formats::safetensors::scan` (the header/structure parser, every bound).
#![no_main]

use libfuzzer_sys::fuzz_target;
use modelgate::finding::Location;
use modelgate::formats::safetensors::scan;
use modelgate::source::MemSource;

fuzz_target!(|data: &[u8]| {
    let src = MemSource::new(data.to_vec());
    let mut out = Vec::new();
    scan(&src, &Location::file("f"), &mut out);
});
