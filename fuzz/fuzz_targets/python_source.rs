//! Raw bytes → the Python parser and analysis (as text, lossy UTF-8), with and without
//! entry points, and the findings built from it: no panic, no hang, bounded output.
#![no_main]

use libfuzzer_sys::fuzz_target;
use modelgate::finding::Location;
use modelgate::python::{analyze, findings};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for entry in [&[][..], &["_load_pyfunc", "forward"][..]] {
        let a = analyze(&text, entry);
        let at = |l: u32, c: u32| Location::text("m.py", l, c);
        let f = findings::behaviour_findings(&a, &at, "fuzz");
        assert!(f.len() <= findings::MAX_PER_SOURCE + 2);
        for r in &a.relative_imports {
            let _ = r.candidates();
        }
    }
});
