use super::*;
use crate::limits::Limits;
use crate::source::MemSource;

// A tiny protobuf encoder for hand-made models (the committed fixtures come from onnx).
fn varint(mut v: u64, out: &mut Vec<u8>) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}
fn len_field(num: u64, body: &[u8]) -> Vec<u8> {
    let mut o = Vec::new();
    varint(num << 3 | 2, &mut o);
    varint(body.len() as u64, &mut o);
    o.extend_from_slice(body);
    o
}
fn int_field(num: u64, v: u64) -> Vec<u8> {
    let mut o = Vec::new();
    varint(num << 3, &mut o);
    varint(v, &mut o);
    o
}
fn s(num: u64, v: &str) -> Vec<u8> {
    len_field(num, v.as_bytes())
}
fn node_body(op: &str, domain: &str, attrs: &[Vec<u8>]) -> Vec<u8> {
    let mut n = [s(1, "x"), s(2, "y"), s(4, op), s(7, domain)].concat();
    for a in attrs {
        n.extend(len_field(5, a));
    }
    n
}
/// A graph's node (GraphProto field 1).
fn node(op: &str, domain: &str, attrs: &[Vec<u8>]) -> Vec<u8> {
    len_field(1, &node_body(op, domain, attrs))
}
/// A local function's node (FunctionProto field 7).
fn fnode(op: &str, domain: &str, attrs: &[Vec<u8>]) -> Vec<u8> {
    len_field(7, &node_body(op, domain, attrs))
}
fn tensor(name: &str, location: Option<&str>, external: bool) -> Vec<u8> {
    let mut t = [int_field(1, 2), int_field(2, 1), s(8, name)].concat();
    if let Some(l) = location {
        t.extend(len_field(13, &[s(1, "location"), s(2, l)].concat()));
        t.extend(len_field(13, &[s(1, "offset"), s(2, "0")].concat()));
    } else {
        t.extend(len_field(9, &[0u8; 8]));
    }
    if external {
        t.extend(int_field(14, 1));
    }
    t
}
fn graph(items: &[Vec<u8>]) -> Vec<u8> {
    [s(2, "g"), items.concat()].concat()
}
fn model(g: &[u8], extra: &[Vec<u8>]) -> Vec<u8> {
    [
        int_field(1, 8),
        s(2, "pytorch"),
        len_field(7, g),
        len_field(8, &[s(1, ""), int_field(2, 17)].concat()),
        extra.concat(),
    ]
    .concat()
}

fn run(b: Vec<u8>) -> Vec<Finding> {
    let limits = Limits::default();
    let allow = |_: &str, _: &str| false;
    let ctx = Ctx::new(&limits, &allow);
    let src = MemSource::new(b);
    assert!(looks_like(&src));
    let mut out = Vec::new();
    assert_eq!(
        scan(&src, &ctx, &Location::file("m.onnx"), &mut out),
        "onnx"
    );
    out
}

#[test]
fn a_plain_model_is_clean() {
    let g = graph(&[
        node("Relu", "", &[]),
        node("FusedMatMul", "com.microsoft", &[]),
        node("LinearClassifier", "ai.onnx.ml", &[]),
        len_field(5, &tensor("w", None, false)),
        len_field(5, &tensor("w2", Some("weights.bin"), true)),
        len_field(5, &tensor("w3", Some("sub/../data/w.bin"), true)),
    ]);
    assert!(run(model(&g, &[])).is_empty());
}

#[test]
fn external_data_outside_the_folder_is_high() {
    for (l, why) in [
        ("../../etc/passwd", "outside"),
        ("/etc/passwd", "absolute"),
        ("C:\\Windows\\win.ini", "drive"),
        ("\\\\server\\share\\x", "UNC"),
        ("http://example.com/x", "URL"),
        ("a/../../b", "outside"),
        ("..\\..\\x", "outside"),
    ] {
        let g = graph(&[len_field(5, &tensor("w", Some(l), true))]);
        let f = run(model(&g, &[]));
        assert!(
            f.iter().any(|x| x.rule == "onnx-external-data"
                && x.severity == Severity::High
                && x.message.contains(why)),
            "{l}: {f:?}"
        );
    }
    // Not marked EXTERNAL: loaders ignore the entry, a reviewer should still see it.
    let g = graph(&[len_field(5, &tensor("w", Some("/etc/passwd"), false))]);
    let f = run(model(&g, &[]));
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].severity, Severity::Medium);
}

#[test]
fn external_data_is_found_in_every_tensor_position() {
    let bad = tensor("w", Some("../secret"), true);
    // Constant node attribute `value` (t), attribute `tensors`, sparse initializer values
    // and indices, subgraph of If inside Loop, local function body, training graphs.
    let attr_t = [s(1, "value"), len_field(5, &bad)].concat();
    let attr_ts = [s(1, "vals"), len_field(10, &bad)].concat();
    let sparse = len_field(
        15,
        &[len_field(1, &bad), len_field(2, &tensor("i", None, false))].concat(),
    );
    let inner = graph(&[node("Constant", "", std::slice::from_ref(&attr_t))]);
    let if_node = node(
        "If",
        "",
        &[[s(1, "then_branch"), len_field(6, &inner)].concat()],
    );
    let loop_body = graph(&[if_node]);
    let loop_node = node(
        "Loop",
        "",
        &[[s(1, "body"), len_field(6, &loop_body)].concat()],
    );
    let scan_node = node(
        "Scan",
        "",
        &[[s(1, "bodies"), len_field(11, &inner)].concat()],
    );
    let func = len_field(
        25,
        &[
            s(1, "f"),
            s(10, "local"),
            fnode("Constant", "", std::slice::from_ref(&attr_t)),
        ]
        .concat(),
    );
    let training = len_field(20, &len_field(2, &inner));
    for (g, extra) in [
        (
            graph(&[node("Constant", "", std::slice::from_ref(&attr_t))]),
            vec![],
        ),
        (
            graph(&[node("X", "", std::slice::from_ref(&attr_ts))]),
            vec![],
        ),
        (graph(std::slice::from_ref(&sparse)), vec![]),
        (graph(std::slice::from_ref(&loop_node)), vec![]),
        (graph(std::slice::from_ref(&scan_node)), vec![]),
        (graph(&[]), vec![func.clone()]),
        (graph(&[]), vec![training.clone()]),
    ] {
        let f = run(model(&g, &extra));
        assert!(f.iter().any(|x| x.rule == "onnx-external-data"), "{f:?}");
    }
}

#[test]
fn custom_domains_are_medium_unless_a_local_function_defines_them() {
    let g = graph(&[
        node("Evil", "com.example", &[]),
        node("Helper", "pkg.local", &[]),
    ]);
    let func = len_field(
        25,
        &[s(1, "Helper"), s(10, "pkg.local"), fnode("Relu", "", &[])].concat(),
    );
    let f = run(model(&g, &[func]));
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].rule, "onnx-custom-operator");
    assert!(f[0].message.contains("com.example") && f[0].message.contains("Evil"));
    // Operators inside functions and subgraphs count too.
    let inner = graph(&[node("PyOp", "ai.onnx.contrib", &[])]);
    let g = graph(&[node(
        "If",
        "",
        &[[s(1, "else_branch"), len_field(6, &inner)].concat()],
    )]);
    let f = run(model(&g, &[]));
    assert!(
        f.iter().any(|x| x.message.contains("ai.onnx.contrib")),
        "{f:?}"
    );
}

#[test]
fn nesting_is_bounded() {
    let mut g = graph(&[node("Relu", "", &[])]);
    for _ in 0..200 {
        g = graph(&[node(
            "If",
            "",
            &[[s(1, "then_branch"), len_field(6, &g)].concat()],
        )]);
    }
    let f = run(model(&g, &[]));
    assert!(
        f.iter()
            .any(|x| x.rule == "onnx-malformed" && x.message.contains("nested")),
        "{f:?}"
    );
}

#[test]
fn broken_messages_are_reported_and_siblings_still_walked() {
    // A node whose attribute claims more bytes than it has, then a bad tensor.
    let mut broken_attr = s(1, "x");
    broken_attr.extend([0x2a, 0x7f]); // field 5 (t), length 127, nothing after
    let g = graph(&[
        node("Relu", "", &[broken_attr]),
        len_field(5, &tensor("w", Some("/abs"), true)),
    ]);
    let f = run(model(&g, &[]));
    assert!(f.iter().any(|x| x.rule == "onnx-malformed"), "{f:?}");
    assert!(f.iter().any(|x| x.rule == "onnx-external-data"), "{f:?}");
}

#[test]
fn sniffing_rejects_other_protobufs_and_noise() {
    let good = model(&graph(&[]), &[]);
    assert!(looks_like(&MemSource::new(good.clone())));
    // No graph; ir_version absurd; a GraphDef-like message (field 1 is a message);
    // random bytes; truncated.
    for bad in [
        int_field(1, 8),
        [int_field(1, 1 << 40), len_field(7, &[])].concat(),
        [len_field(1, b"node"), len_field(7, &[])].concat(),
        b"hello world, not a model".to_vec(),
        good[..good.len() - 1].to_vec(),
        vec![],
    ] {
        assert!(!looks_like(&MemSource::new(bad.clone())), "{bad:?}");
    }
}

#[test]
fn location_rules() {
    for ok in ["w.bin", "./w.bin", "a/b/../c", "data/..", "x..y", "..x/y"] {
        assert_eq!(escapes(ok), None, "{ok}");
    }
    for bad in [
        "..",
        "../x",
        "a/../../x",
        "/x",
        "\\x",
        "C:x",
        "c:/x",
        "s3://b/k",
        "~/x",
        "a\0b",
    ] {
        assert!(escapes(bad).is_some(), "{bad}");
    }
}
