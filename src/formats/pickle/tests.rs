//! Emulator tests on hand-assembled streams. Each stream is spelled out opcode by opcode;
//! CPython's `pickle.loads` accepts (and executes) every "malicious" one.

use super::*;
use crate::finding::Severity;
use crate::limits::Limits;
use crate::scan::Ctx;
use crate::source::MemSource;

fn scan(bytes: &[u8]) -> Vec<Finding> {
    let limits = Limits::default();
    let allow = |_: &str, _: &str| false;
    let ctx = Ctx::new(&limits, &allow);
    let src = MemSource::new(bytes.to_vec());
    scan_stream(&src, 0, &ctx, &Location::file("t.pkl")).findings
}

fn worst(f: &[Finding]) -> Severity {
    f.iter().map(|f| f.severity).max().unwrap_or(Severity::Info)
}

fn has(f: &[Finding], rule: &str, evidence: &str) -> bool {
    f.iter()
        .any(|x| x.rule == rule && x.evidence.as_deref().is_some_and(|e| e.contains(evidence)))
}

#[test]
fn protocol0_global_reduce_is_critical_with_arguments() {
    // c posix\nsystem\n ( S'echo hi'\n t R .
    let f = scan(b"cposix\nsystem\n(S'echo hi'\ntR.");
    assert_eq!(worst(&f), Severity::Critical);
    assert!(
        has(&f, "pickle-code-execution", "posix.system(\"echo hi\")"),
        "{f:#?}"
    );
}

#[test]
fn stack_global_from_memo_after_pop() {
    // PROTO 4; "os" MEMOIZE POP; "system" MEMOIZE; GET 0 GET 1 ... STACK_GLOBAL: the
    // module string is only reachable through the memo.
    let mut b = vec![0x80, 4];
    b.extend([0x8c, 2]);
    b.extend(b"os");
    b.push(0x94); // MEMOIZE -> memo[0] = "os"
    b.push(b'0'); // POP
    b.extend([0x8c, 6]);
    b.extend(b"system");
    b.push(0x94); // memo[1] = "system"
    b.push(b'0');
    b.extend([b'h', 0, b'h', 1]); // BINGET 0, BINGET 1
    b.push(0x93); // STACK_GLOBAL
    b.extend([0x8c, 2]);
    b.extend(b"id");
    b.push(0x85); // TUPLE1
    b.push(b'R');
    b.push(b'.');
    let f = scan(&b);
    assert!(
        has(&f, "pickle-code-execution", "os.system(\"id\")"),
        "{f:#?}"
    );
}

#[test]
fn computed_stack_global_is_dynamic_import() {
    // STACK_GLOBAL whose module is the result of a call: str.lower("OS") at load time.
    let mut b = vec![0x80, 4];
    b.extend(b"cbuiltins\nstr\n");
    b.extend(b"(VOS\ntR"); // str("OS") -> a non-constant string
    b.extend([0x8c, 6]);
    b.extend(b"system");
    b.push(0x93);
    b.push(b'.');
    let f = scan(&b);
    assert!(
        f.iter()
            .any(|x| x.rule == "pickle-dynamic-import" && x.severity == Severity::High),
        "{f:#?}"
    );
}

#[test]
fn dotted_name_resolves_through_module() {
    let mut b = vec![0x80, 4];
    b.extend([0x8c, 7]);
    b.extend(b"pathlib");
    b.extend([0x8c, 9]);
    b.extend(b"os.system");
    b.push(0x93);
    b.push(b'.');
    let f = scan(&b);
    assert_eq!(worst(&f), Severity::Critical, "{f:#?}");
    assert!(f
        .iter()
        .any(|x| x.message.contains("resolves to `os.system`")));
}

#[test]
fn inst_opcode_is_a_call() {
    // ( S'echo x'\n i os\nsystem\n .
    let f = scan(b"(S'echo x'\nios\nsystem\n.");
    assert!(
        has(&f, "pickle-code-execution", "os.system(\"echo x\")"),
        "{f:#?}"
    );
}

#[test]
fn findings_before_a_broken_byte_are_kept() {
    // The payload REDUCE runs, then an invalid opcode 0xff breaks the stream (nullifAI).
    let f = scan(b"cposix\nsystem\n(S'echo hi'\ntR\xff");
    assert!(has(&f, "pickle-code-execution", "posix.system"));
    assert!(f.iter().any(|x| x.rule == "pickle-malformed"));
}

#[test]
fn second_pickle_in_a_row_is_scanned() {
    let mut b = b"N.".to_vec();
    b.extend(b"cposix\nsystem\n(S'echo hi'\ntR.");
    let f = scan(&b);
    assert!(has(&f, "pickle-code-execution", "posix.system"), "{f:#?}");
}

#[test]
fn trailing_garbage_after_stop_is_not_a_finding() {
    let f = scan(b"N.(\x00\x00\x00\x00");
    assert_eq!(worst(&f), Severity::Low, "{f:#?}");
}

#[test]
fn benign_torch_globals_are_low() {
    let f = scan(b"\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01.");
    assert_eq!(worst(&f), Severity::Low, "{f:#?}");
    assert!(f.iter().any(|x| x.rule == "pickle-format"));
}

#[test]
fn print_is_medium_and_webbrowser_high() {
    assert_eq!(
        worst(&scan(b"cbuiltins\nprint\n(S'x'\ntR.")),
        Severity::Medium
    );
    assert_eq!(
        worst(&scan(b"cwebbrowser\nopen\n(S'http://x'\ntR.")),
        Severity::High
    );
}

#[test]
fn partial_is_judged_by_what_it_wraps() {
    let safe =
        scan(b"\x80\x02cfunctools\npartial\nctorch.nn.modules.normalization\nLayerNorm\n\x85R.");
    assert_eq!(worst(&safe), Severity::Low, "{safe:#?}");
    let bad = scan(b"\x80\x02cfunctools\npartial\ncposix\nsystem\n\x85R.");
    assert_eq!(worst(&bad), Severity::Critical);
}

#[test]
fn ext_opcode_is_dynamic() {
    let f = scan(b"\x80\x02\x82\x01)R.");
    assert!(
        f.iter().any(|x| x.rule == "pickle-dynamic-import"),
        "{f:#?}"
    );
}

#[test]
fn memo_billion_laughs_is_cheap() {
    // Each level is a tuple of two references to the previous one: 2^40 leaves if copied.
    let mut b = vec![0x80, 2, b'N'];
    for i in 0..40u8 {
        b.extend([b'q', i, b'2', 0x86]);
    }
    b.push(b'.');
    let f = scan(&b);
    assert_eq!(worst(&f), Severity::Low);
}

#[test]
fn huge_declared_length_is_truncation_not_allocation() {
    // BINBYTES8 claiming 2^62 bytes.
    let mut b = vec![0x80, 4, 0x8e];
    b.extend((1u64 << 62).to_le_bytes());
    let f = scan(&b);
    assert!(f.iter().any(|x| x.rule == "pickle-malformed"));
}

#[test]
fn opcode_limit_is_a_finding() {
    let limits = Limits {
        max_pickle_opcodes: 100,
        ..Limits::default()
    };
    let allow = |_: &str, _: &str| false;
    let ctx = Ctx::new(&limits, &allow);
    let mut b = vec![0x80, 2, b']'];
    for _ in 0..200 {
        b.extend([b'N', b'a']);
    }
    b.push(b'.');
    let src = MemSource::new(b);
    let f = scan_stream(&src, 0, &ctx, &Location::file("t")).findings;
    assert!(f.iter().any(|x| x.rule == "pickle-limit-reached"), "{f:#?}");
}

#[test]
fn frame_longer_than_stream_is_malformed() {
    let mut b = vec![0x80, 4, 0x95];
    b.extend(1000u64.to_le_bytes());
    b.extend(b"N.");
    let f = scan(&b);
    assert!(f.iter().any(|x| x.rule == "pickle-malformed"));
}

#[test]
fn pop_pops_a_mark_like_cpython() {
    // MARK POP leaves the stack empty; then N STOP is a valid pickle.
    let f = scan(b"(0N.");
    assert_eq!(worst(&f), Severity::Low, "{f:#?}");
}

#[test]
fn nested_pickle_loads_bytes_are_scanned() {
    let inner = b"cposix\nsystem\n(S'echo inner'\ntR.";
    let mut b = vec![0x80, 3];
    b.extend(b"c_pickle\nloads\n");
    b.push(b'C');
    b.push(inner.len() as u8);
    b.extend(inner);
    b.extend([0x85, b'R', b'.']);
    let f = scan(&b);
    assert!(
        has(&f, "pickle-code-execution", "posix.system(\"echo inner\")"),
        "{f:#?}"
    );
}

#[test]
fn pickle_after_a_broken_one_is_found() {
    // A pickle broken by 0xff, junk, then a protocol-2 pickle carrying the payload.
    let mut b = b"(N\xff\x00junk".to_vec();
    b.extend(b"\x80\x02cposix\nsystem\nX\x02\x00\x00\x00hi\x85R.");
    let f = scan(&b);
    assert!(
        has(&f, "pickle-code-execution", "posix.system(\"hi\")"),
        "{f:#?}"
    );
}

#[test]
fn random_bytes_after_stop_stay_quiet() {
    // Trailing bytes with protocol markers but nothing credible (legacy torch storage data).
    let mut b = b"N.".to_vec();
    for i in 0..5000u32 {
        b.extend([0x80, 2 + (i % 4) as u8, (i % 251) as u8, 0x93, b'.']);
    }
    let f = scan(&b);
    assert_eq!(worst(&f), Severity::Low, "{f:#?}");
}

// Robustness regressions found while fuzzing (see fuzz/README.md).

#[test]
fn million_deep_tuple_drops_without_stack_overflow() {
    // EMPTY_TUPLE, then TUPLE1 over and over: a value nested 300 000 deep. The derived
    // recursive drop overflowed the stack (a test thread's 2 MiB as well as 8 MiB).
    let mut b = vec![b')'];
    b.extend(std::iter::repeat_n(0x85u8, 300_000));
    b.push(b'.');
    let f = scan(&b);
    assert_eq!(worst(&f), Severity::Low, "{f:#?}");
}

#[test]
fn nested_joblib_object_arrays_are_bounded() {
    // joblib NumpyArrayWrapper with an object dtype, BUILT: the pickle embedded after it
    // is another such record, 2000 deep. Each level ran a machine on the Rust stack.
    let level: &[u8] = b"cjoblib.numpy_pickle\nNumpyArrayWrapper\n)\x81}X\x05\x00\x00\x00dtypecnumpy\ndtype\nX\x02\x00\x00\x00O8\x85Rsb";
    let mut b = Vec::new();
    for _ in 0..2000 {
        b.extend_from_slice(level);
    }
    b.extend_from_slice(b"N.");
    b.extend(std::iter::repeat_n(b'.', 2000));
    let f = scan(&b);
    assert!(
        f.iter()
            .any(|x| x.rule == "pickle-limit-reached" && x.message.contains("nested")),
        "{f:#?}"
    );
}

#[test]
fn global_name_with_many_dots_is_linear() {
    // GLOBAL `mod` / `a.a.a…a.system` with 100 000 components: classifying every split
    // of the walk took quadratic time and gigabytes. The walk still ends on `system`.
    let mut b = b"cmod\na".to_vec();
    for _ in 0..100_000 {
        b.extend(b".a");
    }
    b.extend(b".system\n)R.");
    let t = std::time::Instant::now();
    let f = scan(&b);
    assert!(t.elapsed() < std::time::Duration::from_secs(20));
    assert_eq!(worst(&f), Severity::Critical, "{f:#?}");
}

#[test]
fn repeated_nested_loads_of_one_bytes_object_do_not_multiply() {
    // pickle.loads(B) called 16 times on the same memoised bytes object B, whose content
    // does the same one level down, 8 levels deep: 16^8 nested scans before. Each bytes
    // object is scanned once now; the payload at the bottom is still found.
    let mut b = b"cposix\nsystem\n(S'echo deep'\ntR.".to_vec();
    for _ in 0..8 {
        let mut l = b"\x80\x02cpickle\nloads\nB".to_vec();
        l.extend((b.len() as u32).to_le_bytes());
        l.extend(&b);
        l.extend(b"q\x01\x85R");
        for _ in 0..15 {
            l.extend(b"h\x01\x85R");
        }
        l.push(b'.');
        b = l;
    }
    let t = std::time::Instant::now();
    let f = scan(&b);
    assert!(t.elapsed() < std::time::Duration::from_secs(20));
    assert!(f.len() < 100, "{} findings", f.len());
    assert!(
        has(&f, "pickle-code-execution", "posix.system(\"echo deep\")"),
        "{f:#?}"
    );
}

#[test]
fn getattr_of_a_safe_class_method_is_that_method() {
    // What Python writes for a zoneinfo timezone: getattr(ZoneInfo, "_unpickle")(key, 1).
    let b = b"\x80\x02c__builtin__\ngetattr\nczoneinfo\nZoneInfo\nX\x09\x00\x00\x00_unpickle\x86RX\x0d\x00\x00\x00Europe/BerlinK\x01\x86R.";
    let f = scan(b);
    assert_eq!(worst(&f), Severity::Low, "{f:#?}");
}

#[test]
fn getattr_used_any_other_way_stays_critical() {
    // getattr(__import__("os"), "system")("id"): the owner is computed.
    let b = b"cbuiltins\ngetattr\n(cbuiltins\n__import__\n(S'os'\ntRS'system'\ntR(S'id'\ntR.";
    let f = scan(b);
    assert!(
        has(&f, "pickle-code-execution", "builtins.getattr"),
        "{f:#?}"
    );
    // getattr pushed twice but called cleanly once: the second copy went elsewhere.
    let b =
        b"\x80\x02cbuiltins\ngetattr\nq\x00czoneinfo\nZoneInfo\nX\x01\x00\x00\x00x\x86R0h\x00\x85.";
    let f = scan(b);
    assert!(
        f.iter().any(|x| x.rule == "pickle-code-execution"),
        "{f:#?}"
    );
    // getattr(SafeClass, "__globals__") is an attribute walk to a code-reaching dunder.
    let b = b"\x80\x02cbuiltins\ngetattr\nccollections\nOrderedDict\nX\x0b\x00\x00\x00__globals__\x86R.";
    let f = scan(b);
    assert_eq!(worst(&f), Severity::Critical, "{f:#?}");
}

/// Counts the bytes a scanner reads.
struct Counting {
    inner: MemSource,
    read: std::sync::atomic::AtomicU64,
}

impl crate::source::ByteSource for Counting {
    fn len(&self) -> u64 {
        self.inner.len()
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read_at(offset, buf)?;
        self.read
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

#[test]
fn legacy_torch_tensor_bytes_are_not_searched() {
    // Magic-number pickle, protocol, sys_info, object, storage keys — then 8 MiB of raw
    // "storage" bytes sprinkled with protocol markers.
    let mut b = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.".to_vec();
    b.extend(b"\x80\x02M\xe9\x03.");
    b.extend(b"\x80\x02}q\x00.");
    b.extend(b"\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01.");
    b.extend(b"\x80\x02]q\x00.");
    let raw: Vec<u8> = (0..8u32 << 20)
        .map(|i| {
            if i % 4096 == 0 {
                0x80
            } else if i % 4096 == 1 {
                2
            } else {
                0x41
            }
        })
        .collect();
    b.extend(raw);
    let src = Counting {
        inner: MemSource::new(b),
        read: Default::default(),
    };
    let limits = Limits::default();
    let allow = |_: &str, _: &str| false;
    let ctx = Ctx::new(&limits, &allow);
    let r = scan_stream(&src, 0, &ctx, &Location::file("legacy.pt"));
    assert_eq!(r.pickles, 5);
    let read = src.read.load(std::sync::atomic::Ordering::Relaxed);
    assert!(read < 256 * 1024, "read {read} bytes of a legacy file");
}

fn probes(bytes: &[u8]) -> bool {
    let limits = Limits::default();
    let allow = |_: &str, _: &str| false;
    let ctx = Ctx::new(&limits, &allow);
    probe(&MemSource::new(bytes.to_vec()), 0, &ctx)
}

#[test]
fn inst_without_a_mark_imports_nothing() {
    // `load_inst` takes the MARK first: `sympy-*.dist-info/top_level.txt` ("isympy\nsympy\n")
    // fails there, before any import.
    let f = scan(b"isympy\nsympy\n");
    assert!(
        !f.iter().any(|x| x.rule == "pickle-unknown-global"),
        "{f:#?}"
    );
    assert!(!probes(b"isympy\nsympy\n"));
}

#[test]
fn text_that_parses_without_imports_is_not_a_pickle() {
    // pip's vendor.txt: 'C' (SHORT_BINBYTES) takes the next 97 bytes, and a later `.` stops.
    let mut text = b"CacheControl==0.12.11  # Make sure to update the license in pyproject.toml for this.\ncolorama==0.4.6\ndistlib==0.3.6\n".to_vec();
    text.extend_from_slice(b"distro==1.8.0\nmsgpack==1.0.5\n");
    assert!(!probes(&text));
    // Whole-file data-only pickles still are pickles (trailing newline allowed).
    assert!(probes(b"(dp0\nS'a'\np1\nI1\ns."));
    assert!(probes(b"I1\n.\n"));
    // A data-only pickle followed by one that imports: a loader reading pickle after
    // pickle runs the second.
    assert!(probes(b"I1\n.cos\nsystem\n(S'echo hi'\ntR."));
    assert!(probes(b"S'hello'\n.\x80\x02cos\nsystem\nq\x00."));
}

#[test]
fn a_list_of_millions_of_small_ints_is_plain_data() {
    // `pickle.dumps(list(range(...)))` writes EMPTY_LIST MARK BININT1... APPENDS in
    // batches of 1000; a hand-made pickle can put every item in one batch, which CPython
    // loads without trouble. Every value on the stack at once hit the stack bound.
    let n = 5_000_000;
    let mut p = b"\x80\x02]q\x00(".to_vec();
    for i in 0..n {
        p.extend_from_slice(&[b'K', (i % 256) as u8]);
    }
    p.extend_from_slice(b"e.");
    let f = scan(&p);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].rule, "pickle-format");
    // Values near the top stay exact: a STACK_GLOBAL after a million pushes still names
    // its global.
    let mut p = b"\x80\x04(".to_vec();
    for _ in 0..1_200_000 {
        p.extend_from_slice(b"K\x01");
    }
    p.extend_from_slice(b"\x8c\x05posix\x8c\x06system\x93\x8c\x02id\x85R.");
    let f = scan(&p);
    assert!(
        f.iter().any(|x| x.rule == "pickle-code-execution"
            && x.evidence.as_deref() == Some("posix.system(\"id\")")),
        "{f:#?}"
    );
}

/// What a whole file is routed as (the probe decides whether it is a pickle at all).
fn scan_file(bytes: &[u8]) -> crate::report::FileReport {
    let limits = Limits::default();
    let allow = |_: &str, _: &str| false;
    crate::scan::scan_bytes(&MemSource::new(bytes.to_vec()), "t.bin", &limits, &allow)
}

#[test]
fn data_only_pickles_in_front_of_a_payload_do_not_hide_it() {
    // pickle.load three times on one file: two ints, then posix.system.
    let r = scan_file(b"I1\n.I2\n.cposix\nsystem\n(S'echo hi'\ntR.");
    assert_eq!(r.format.as_deref(), Some("pickle"), "{r:?}");
    assert_eq!(worst(&r.findings), Severity::Critical, "{r:?}");
}

#[test]
fn text_numbers_cpython_accepts_are_not_malformed() {
    // I0x1f (strtol base 0), p1_0 / g1_0 (PyLong_FromString base 10 with an underscore),
    // a NUL after the digits, then a payload.
    let f = scan(b"I0x1f\np1_0\n0I7\x00junk\n0g1_0\n0cposix\nsystem\n(S'\\145cho hi'\ntR.");
    assert!(!f.iter().any(|x| x.rule == "pickle-malformed"), "{f:#?}");
    assert!(
        has(&f, "pickle-code-execution", "posix.system(\"echo hi\")"),
        "{f:#?}"
    );
}

#[test]
fn a_deflated_member_starting_with_any_opcode_is_scanned() {
    // NEWTRUE then POP then a payload: 0x88 was not in the first-byte list.
    assert!(crate::sniff::might_carry_code(b"\x88"));
    assert!(crate::sniff::might_carry_code(
        b"\x880cposix\nsystem\n(S'x'\ntR."
    ));
    assert!(!crate::sniff::might_carry_code(
        b"\x00\x00\x00\x00 raw tensor bytes"
    ));
}

#[test]
fn type_of_a_constant_is_a_type_and_three_arguments_build_a_class() {
    // pickle saves `type(None)` as REDUCE(builtins.type, (None,)).
    let f = scan(b"\x80\x02cbuiltins\ntype\nN\x85R.");
    assert_eq!(worst(&f), Severity::Low, "{f:#?}");
    let f = scan(b"\x80\x02c__builtin__\ntype\nc__builtin__\nEllipsis\n\x85R.");
    assert_eq!(worst(&f), Severity::Low, "{f:#?}");
    // type("X", (object,), {}) synthesises a class.
    let f = scan(b"\x80\x02cbuiltins\ntype\nX\x01\x00\x00\x00Xcbuiltins\nobject\n\x85}\x87R.");
    assert_eq!(worst(&f), Severity::Critical, "{f:#?}");
}

#[test]
fn getattr_of_a_rebuilt_safe_object_is_judged_by_its_use() {
    // getattr(OrderedDict.__new__(OrderedDict), "keys") stored as a value: a bound method.
    let f = scan(
        b"\x80\x02cbuiltins\ngetattr\nccollections\nOrderedDict\n)\x81X\x04\x00\x00\x00keys\x86R.",
    );
    assert_eq!(worst(&f), Severity::Low, "{f:#?}");
    // The same method called: a method nobody vetted runs with pickled arguments.
    let f = scan(b"\x80\x02cbuiltins\ngetattr\nccollections\nOrderedDict\n)\x81X\x04\x00\x00\x00keys\x86R)R.");
    assert_eq!(worst(&f), Severity::Medium, "{f:#?}");
    // A dunder name is never a plain attribute.
    let f = scan(b"\x80\x02cbuiltins\ngetattr\nccollections\nOrderedDict\n)\x81X\x09\x00\x00\x00__class__\x86R.");
    assert!(worst(&f) >= Severity::High, "{f:#?}");
}

#[test]
fn dill_create_array_is_judged_by_its_reconstructor() {
    // dill._dill._create_array(numpy.core.multiarray._reconstruct, (ndarray, (0,), b"b"),
    // None, None): what dill writes for a numpy array.
    let f = scan(b"\x80\x02cdill._dill\n_create_array\n(cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85C\x01b\x87NNtR.");
    assert_eq!(worst(&f), Severity::Low, "{f:#?}");
    // The same record around os.system runs it.
    let f = scan(b"\x80\x02cdill._dill\n_create_array\n(cos\nsystem\nX\x02\x00\x00\x00id\x85NNtR.");
    assert_eq!(worst(&f), Severity::Critical, "{f:#?}");
}
