//! Raw bytes → the SavedModel / saved_model.pbtxt / keras_metadata scanner (prost messages, the text-format parser, the
//! element-count pre-pass, the saver closure, the op tables).
#![no_main]

use libfuzzer_sys::fuzz_target;
use modelgate::finding::Location;
use modelgate::formats::savedmodel::{scan, Kind};
use modelgate::limits::Limits;
use modelgate::scan::Ctx;
use modelgate::source::MemSource;

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    let allow = |_: &str, _: &str| false;
    let ctx = Ctx::new(&limits, &allow);
    let src = MemSource::new(data.to_vec());
    for kind in [Kind::SavedModel, Kind::SavedModelText, Kind::KerasMetadata] {
        let mut out = Vec::new();
        scan(&src, kind, &ctx, &Location::file("saved_model.pb"), &mut out);
    }
});
