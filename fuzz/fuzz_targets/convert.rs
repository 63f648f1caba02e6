//! Raw bytes → `convert::plan` under every input layout, then each planned tensor gathered
//! (bounded) into a sink: the converter's graph reader, storage location and strided
//! gather must never panic, hang or over-read on any input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use modelgate::convert;
use modelgate::limits::Limits;
use modelgate::source::MemSource;

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    let src = MemSource::new(data.to_vec());
    for format in ["pytorch-zip", "pytorch-legacy", "pickle", "numpy", "zip"] {
        if let Ok(tensors) = convert::plan(&src, format, &limits) {
            for t in tensors {
                if t.nbytes().is_some_and(|n| n <= 1 << 20) {
                    let _ = t.gather(&src, &mut std::io::sink());
                }
            }
        }
    }
});
