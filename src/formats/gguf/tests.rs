use super::*;
use crate::limits::Limits;
use crate::source::MemSource;

/// A minimal GGUF writer for tests (gguf-py writes the committed fixtures).
struct W {
    b: Vec<u8>,
    big: bool,
    v1: bool,
}

impl W {
    fn new(version: u32, big: bool, n_tensors: u64, n_kv: u64) -> W {
        let mut w = W {
            b: b"GGUF".to_vec(),
            big,
            v1: version == 1,
        };
        w.u32(version);
        w.count(n_tensors);
        w.count(n_kv);
        w
    }
    fn u32(&mut self, v: u32) -> &mut W {
        let b = if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.b.extend_from_slice(&b);
        self
    }
    fn u64(&mut self, v: u64) -> &mut W {
        let b = if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.b.extend_from_slice(&b);
        self
    }
    fn count(&mut self, v: u64) -> &mut W {
        if self.v1 {
            self.u32(v as u32)
        } else {
            self.u64(v)
        }
    }
    fn str(&mut self, s: &str) -> &mut W {
        self.count(s.len() as u64);
        self.b.extend_from_slice(s.as_bytes());
        self
    }
    fn kv_str(&mut self, k: &str, v: &str) -> &mut W {
        self.str(k).u32(8).str(v)
    }
    fn kv_u32(&mut self, k: &str, v: u32) -> &mut W {
        self.str(k).u32(4).u32(v)
    }
    fn tensor(&mut self, name: &str, dims: &[u64], offset: u64) -> &mut W {
        self.str(name).u32(dims.len() as u32);
        for d in dims {
            self.count(*d);
        }
        self.u32(0).u64(offset)
    }
}

fn scan_bytes(b: Vec<u8>) -> Vec<Finding> {
    let limits = Limits::default();
    let allow = |_: &str, _: &str| false;
    let ctx = Ctx::new(&limits, &allow);
    let mut out = Vec::new();
    assert_eq!(
        scan(
            &MemSource::new(b),
            &ctx,
            &Location::file("m.gguf"),
            &mut out
        ),
        "gguf"
    );
    out
}

const CHATML: &str = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";
const CVE: &str = "{% for x in ().__class__.__base__.__subclasses__() %}{% if \"warning\" in x.__name__ %}{{x()._module.__builtins__['__import__']('os').popen(\"touch /tmp/retr0reg\")}}{%endif%}{% endfor %}";

fn model(version: u32, big: bool, template: &str) -> Vec<u8> {
    let mut w = W::new(version, big, 2, 5);
    w.kv_str("general.architecture", "llama")
        .kv_u32("general.alignment", 32)
        .kv_str("tokenizer.chat_template", template);
    // An array of strings and an array of arrays of u8.
    w.str("tokenizer.ggml.tokens").u32(9).u32(8).count(3);
    w.str("a").str("bb").str("");
    w.str("nested").u32(9).u32(9).count(2);
    w.u32(0).count(2);
    w.b.extend_from_slice(&[1, 2]);
    w.u32(0).count(0);
    w.tensor("t0", &[2, 2], 0).tensor("t1", &[4], 32);
    let pad = (32 - w.b.len() % 32) % 32;
    w.b.extend(std::iter::repeat_n(0u8, pad + 64));
    w.b
}

#[test]
fn well_formed_files_of_every_version_and_byte_order_are_clean() {
    for version in 1..=3 {
        for big in [false, true] {
            let f = scan_bytes(model(version, big, CHATML));
            assert!(f.is_empty(), "v{version} big={big}: {f:?}");
        }
    }
}

#[test]
fn cve_2024_34359_template_is_critical_in_every_layout() {
    for version in 1..=3 {
        for big in [false, true] {
            let f = scan_bytes(model(version, big, CVE));
            assert!(
                f.iter().any(
                    |x| x.rule == "gguf-template-injection" && x.severity == Severity::Critical
                ),
                "v{version} big={big}: {f:?}"
            );
        }
    }
    // Named templates too.
    let mut w = W::new(3, false, 0, 1);
    w.kv_str("tokenizer.chat_template.tool_use", CVE);
    let f = scan_bytes(w.b.clone());
    assert!(
        f.iter().any(|x| x.rule == "gguf-template-injection"),
        "{f:?}"
    );
}

#[test]
fn absurd_counts_and_lengths_are_malformed() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (W::new(3, false, 0, u64::MAX).b, "key/value pairs"),
        (W::new(3, false, 1 << 40, 0).b, "tensors"),
        (
            {
                let mut w = W::new(3, false, 0, 1);
                w.str("k").u32(8).u64(1 << 50);
                w.b
            },
            "length",
        ),
        (
            {
                let mut w = W::new(3, false, 0, 1);
                w.str("k").u32(9).u32(10).u64(1 << 60);
                w.b.extend_from_slice(&[0; 16]);
                w.b
            },
            "array declares",
        ),
        (
            {
                let mut w = W::new(3, false, 0, 1);
                w.str("k").u32(42).u32(0);
                w.b
            },
            "unknown value type",
        ),
        (
            {
                let mut w = W::new(3, false, 0, 1);
                w.str("k")
                    .u32(9)
                    .u32(9)
                    .u64(1)
                    .u32(9)
                    .u64(1)
                    .u32(9)
                    .u64(1)
                    .u32(9)
                    .u64(1)
                    .u32(9)
                    .u64(1)
                    .u32(0)
                    .u64(0);
                w.b
            },
            "nested deeper",
        ),
        (
            {
                let mut w = W::new(3, false, 0, 1);
                w.kv_u32("general.alignment", 33);
                w.b
            },
            "power of two",
        ),
        (
            {
                let mut w = W::new(3, false, 1, 0);
                w.tensor("t", &[1, 1, 1, 1, 1], 0);
                w.b
            },
            "dimensions",
        ),
        (
            {
                let mut w = W::new(3, false, 1, 0);
                w.tensor("t", &[1], 7);
                w.b.extend_from_slice(&[0; 64]);
                w.b
            },
            "alignment",
        ),
        (
            {
                let mut w = W::new(3, false, 0, 2);
                w.kv_u32("a", 1).kv_u32("a", 2);
                w.b
            },
            "appears twice",
        ),
        (
            {
                let mut w = W::new(3, false, 1, 0);
                w.tensor("t", &[1], 64);
                w.b.extend_from_slice(&[0; 40]);
                w.b
            },
            "past the end",
        ),
        (b"GGUF\x07\x00\x00\x00".to_vec(), "unknown GGUF version"),
        (b"GGUF\x03\x00".to_vec(), "truncated"),
        (model(3, false, CHATML)[..100].to_vec(), ""),
    ];
    for (bytes, want) in cases {
        let f = scan_bytes(bytes);
        assert!(
            f.iter().any(|x| x.rule == "gguf-malformed"
                && x.severity == Severity::Medium
                && x.message.contains(want)),
            "{want}: {f:?}"
        );
    }
}

#[test]
fn oversized_templates_are_not_scanned_but_said() {
    let big = "x".repeat(MAX_TEMPLATE as usize + 1);
    let mut w = W::new(3, false, 0, 1);
    w.kv_str("tokenizer.chat_template", &big);
    let f = scan_bytes(w.b);
    assert!(f.iter().any(|x| x.rule == "content-not-scanned"), "{f:?}");
}
