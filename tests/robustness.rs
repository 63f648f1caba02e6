//! Hostile-input robustness in every `cargo test` run (the cargo-fuzz targets in fuzz/
//! go much deeper but need a nightly-capable toolchain): every small fixture is mutated
//! many times with a fixed seed and scanned in-process. The scan must return — no panic,
//! no hang — and every file must be accounted for.

// Integration tests: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use modelgate::limits::Limits;
use modelgate::report::FileStatus;
use modelgate::scan::scan_bytes;
use modelgate::source::MemSource;

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn mutate(rng: &mut XorShift, input: &[u8]) -> Vec<u8> {
    let mut b = input.to_vec();
    for _ in 0..(1 + rng.next() % 8) {
        if b.is_empty() {
            b.push(rng.next() as u8);
            continue;
        }
        let i = (rng.next() % b.len() as u64) as usize;
        match rng.next() % 6 {
            0 => b[i] = rng.next() as u8,
            1 => b[i] ^= 1 << (rng.next() % 8),
            2 => b.truncate(i),
            3 => {
                // Large little-endian lengths where a length field may sit.
                let v = [0xff, 0xff, 0xff, 0x7f];
                for (k, x) in v.iter().enumerate() {
                    if i + k < b.len() {
                        b[i + k] = *x;
                    }
                }
            }
            4 => {
                let j = (rng.next() % b.len() as u64) as usize;
                let chunk: Vec<u8> = b[i.min(j)..i.max(j)].iter().take(256).copied().collect();
                b.splice(i..i, chunk);
            }
            _ => {
                b.insert(
                    i,
                    [b'(', b'0', b'2', b'a', b'R', b'b', 0x93, 0x94, 0x95]
                        [(rng.next() % 9) as usize],
                );
            }
        }
    }
    b
}

#[test]
fn mutated_fixtures_never_panic_or_hang() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut inputs = Vec::new();
    for e in walkdir::WalkDir::new(&root).into_iter().flatten() {
        if e.file_type().is_file() {
            let len = e.metadata().map(|m| m.len()).unwrap_or(u64::MAX);
            let name = e.file_name().to_string_lossy().into_owned();
            if len <= 64 * 1024
                && !name.ends_with(".py")
                && !name.ends_with(".json")
                && !name.ends_with(".md")
            {
                inputs.push(std::fs::read(e.path()).expect("read"));
            }
        }
    }
    assert!(
        inputs.len() >= 20,
        "expected fixtures to mutate, found {}",
        inputs.len()
    );
    let limits = Limits {
        time_budget: Duration::from_secs(5),
        ..Limits::default()
    };
    let allow = |_: &str, _: &str| false;
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut scanned = 0;
    for input in &inputs {
        for _ in 0..40 {
            let m = mutate(&mut rng, input);
            let src = MemSource::new(m);
            let t = Instant::now();
            let r = scan_bytes(&src, "mutant", &limits, &allow);
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "scan took {:?}",
                t.elapsed()
            );
            assert!(matches!(
                r.status,
                FileStatus::Scanned | FileStatus::Skipped | FileStatus::Error
            ));
            scanned += 1;
        }
    }
    assert!(scanned > 0);
}

#[test]
fn pathological_streams_are_bounded() {
    let limits = Limits::default();
    let allow = |_: &str, _: &str| false;
    // Deep nesting: a million MARKs.
    let deep = vec![b'('; 1_000_000];
    // Huge declared lengths.
    let mut huge = vec![0x80, 4, 0x8d];
    huge.extend(u64::MAX.to_le_bytes());
    // A zip end record claiming 65535 entries and a 4 GiB directory.
    let mut zip = b"PK\x05\x06\x00\x00\x00\x00\xff\xff\xff\xff".to_vec();
    zip.extend(0xffff_fff0u32.to_le_bytes());
    zip.extend(0u32.to_le_bytes());
    zip.extend(0u16.to_le_bytes());
    for input in [deep, huge, zip] {
        let t = Instant::now();
        let r = scan_bytes(&MemSource::new(input), "x", &limits, &allow);
        assert!(t.elapsed() < Duration::from_secs(10));
        assert!(
            !r.findings.is_empty() || r.status == FileStatus::Skipped,
            "{r:?}"
        );
    }
}
