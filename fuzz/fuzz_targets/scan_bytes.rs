//! Raw bytes → the whole pipeline: sniffing, pickle and zip scanners, nested containers.
//!
//! By default runs with lowered limits so that iterations stay fast. Set
//! `MODELGATE_FUZZ_DEFAULT_LIMITS=1` to fuzz with `Limits::default()` (what the CLI uses).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use modelgate::limits::Limits;
use modelgate::scan::scan_bytes;
use modelgate::source::MemSource;

fn limits() -> &'static Limits {
    static L: OnceLock<Limits> = OnceLock::new();
    L.get_or_init(|| {
        if std::env::var_os("MODELGATE_FUZZ_DEFAULT_LIMITS").is_some_and(|v| v == "1") {
            Limits::default()
        } else {
            Limits {
                max_pickle_opcodes: 200_000,
                max_member_size: 16 << 20,
                max_total_expanded: 64 << 20,
                ..Limits::default()
            }
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let allow = |_: &str, _: &str| false;
    let src = MemSource::new(data.to_vec());
    let _ = scan_bytes(&src, "fuzz", limits(), &allow);
});
