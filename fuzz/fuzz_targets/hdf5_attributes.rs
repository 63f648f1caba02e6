//! Raw bytes → the HDF5 root-attribute reader and the Keras `.h5` scan built on it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use modelgate::finding::Location;
use modelgate::formats::hdf5;
use modelgate::limits::Limits;
use modelgate::scan::Ctx;
use modelgate::source::MemSource;

fuzz_target!(|data: &[u8]| {
    // Seeds are real files; make sure mutated ones still start with the signature.
    let mut bytes = hdf5::MAGIC.to_vec();
    bytes.extend_from_slice(data.get(8..).unwrap_or_default());
    let src = MemSource::new(bytes);
    let _ = hdf5::read_root(&src);
    let limits = Limits::default();
    let allow = |_: &str, _: &str| false;
    let ctx = Ctx::new(&limits, &allow);
    let mut out = Vec::new();
    hdf5::scan(&src, &ctx, &Location::file("fuzz.h5"), &mut out);
});
