//! Bytes (as lossy UTF-8) → `formats::jinja::analyse`: the template lexer, parser and
//! constant folder.
#![no_main]

use libfuzzer_sys::fuzz_target;
use modelgate::formats::jinja::analyse;

fuzz_target!(|data: &[u8]| {
    let t = String::from_utf8_lossy(data);
    let _ = analyse(&t);
});
