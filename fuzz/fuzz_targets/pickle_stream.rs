//! Raw bytes → the pickle emulator over a stream of pickles (`scan_stream`), including
//! nested `pickle.loads(b"...")` recursion.
#![no_main]

use libfuzzer_sys::fuzz_target;
use modelgate::finding::Location;
use modelgate::formats::pickle::scan_stream;
use modelgate::limits::Limits;
use modelgate::scan::Ctx;
use modelgate::source::MemSource;

fuzz_target!(|data: &[u8]| {
    // Lower opcode budget keeps iterations fast; every other limit is the default.
    let limits = Limits {
        max_pickle_opcodes: 200_000,
        ..Limits::default()
    };
    let allow = |_: &str, _: &str| false;
    let ctx = Ctx::new(&limits, &allow);
    let src = MemSource::new(data.to_vec());
    let _ = scan_stream(&src, 0, &ctx, &Location::file("f"));
});
