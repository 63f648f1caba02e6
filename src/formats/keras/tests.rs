use super::*;
use crate::finding::Severity;
use crate::limits::Limits;

fn run_with(json: &str, allow: &AllowFnT) -> Vec<Finding> {
    let limits = Limits::default();
    let ctx = Ctx::new(&limits, allow);
    let mut out = Vec::new();
    scan_config(json.as_bytes(), &ctx, &Location::file("m.keras"), &mut out);
    out
}

type AllowFnT = dyn Fn(&str, &str) -> bool + Sync;

fn run(json: &str) -> Vec<Finding> {
    run_with(json, &|_: &str, _: &str| false)
}

fn rules(f: &[Finding]) -> Vec<&str> {
    f.iter().map(|x| x.rule.as_str()).collect()
}

const LAMBDA_B64: &str = "4wEAAAAAAAAAAAAAAAMAAAADAAAA80oAAACXAHQBAAAAAAAAAAAAAGQBpgEAAKsBAAAAAAAAAACgAQAAAAAAAAAAAAAAAAAAAAAAAAAAZAKmAQAAqwEAAAAAAAAAAHABfABTACkDTtoCb3P6CmVjaG8gcHduZWQpAtoKX19pbXBvcnRfX9oGc3lzdGVtKQHaAXhzAQAAACD6CDxzdHJpbmc++gg8bGFtYmRhPnIIAAAAAwAAAHMiAAAAgAC1Crg00TBA1DBA1zBH0jBHyAzRMFXUMFXQMFrQWVqAAPMAAAAA";

#[test]
fn ordinary_keras3_config_is_clean() {
    let cfg = r#"{"module": "keras", "class_name": "Sequential", "config": {"name": "s", "layers": [
        {"module": "keras.layers", "class_name": "InputLayer", "config": {"name": "in"}, "registered_name": null},
        {"module": "keras.layers", "class_name": "Dense", "config": {"name": "d", "activation": "relu",
          "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform", "config": {}},
          "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}}}}]},
        "compile_config": {"optimizer": {"module": "keras.optimizers", "class_name": "Adam", "config": {}}}}"#;
    assert!(run(cfg).is_empty(), "{:#?}", run(cfg));
}

#[test]
fn keras3_lambda_is_critical_with_bytecode_evidence() {
    let cfg = format!(
        r#"{{"module": "keras", "class_name": "Sequential", "config": {{"name": "s", "layers": [
        {{"module": "keras.layers", "class_name": "Lambda", "config": {{"name": "evil",
          "function": {{"class_name": "__lambda__", "config": {{"code": "{LAMBDA_B64}", "defaults": null, "closure": null}}}}}}}}]}}}}"#
    );
    let f = run(&cfg);
    assert_eq!(rules(&f), ["keras-lambda"], "{f:#?}");
    assert_eq!(f[0].severity, Severity::Critical);
    assert!(f[0].message.contains("`s/evil`"), "{}", f[0].message);
    let ev = f[0].evidence.as_deref().unwrap();
    assert!(ev.contains("system") && ev.contains("echo pwned"), "{ev}");
}

#[test]
fn legacy_lambda_forms_and_named_functions() {
    // tf_keras .h5: a list; keras_metadata.pb: a __tuple__ object.
    for function in [
        format!(r#"["{LAMBDA_B64}", null, null]"#),
        format!(r#"{{"class_name": "__tuple__", "items": ["{LAMBDA_B64}", null, null]}}"#),
    ] {
        let cfg = format!(
            r#"{{"class_name": "Lambda", "config": {{"name": "l", "function": {function}, "function_type": "lambda", "module": "__main__"}}}}"#
        );
        assert_eq!(rules(&run(&cfg)), ["keras-lambda"]);
    }
    // A named function from an always-imported module.
    let cfg = r#"{"class_name": "Lambda", "config": {"name": "l", "function": "system", "function_type": "function", "module": "posix"}}"#;
    let f = run(cfg);
    assert_eq!(rules(&f), ["keras-code-execution"], "{f:#?}");
    assert_eq!(f[0].evidence.as_deref(), Some("posix.system"));
}

#[test]
fn modules_outside_keras() {
    // CVE-2025-1550: a function imported from any module.
    let f = run(
        r#"{"module": "os", "class_name": "function", "config": "system", "registered_name": "function"}"#,
    );
    assert_eq!(rules(&f), ["keras-code-execution"]);
    let f = run(r#"{"module": "builtins", "class_name": "function", "config": "exec"}"#);
    assert_eq!(f[0].severity, Severity::Critical);
    // How Keras 3 writes its own functions (keras.ops.abs, keras.activations.relu).
    for n in ["abs", "relu", "tanh"] {
        let cfg = format!(
            r#"{{"module": "builtins", "class_name": "function", "config": "{n}", "registered_name": "function"}}"#
        );
        assert!(run(&cfg).is_empty(), "{n}: {:#?}", run(&cfg));
    }
    let f = run(r#"{"module": "builtins", "class_name": "function", "config": "my_fn"}"#);
    assert_eq!(rules(&f), ["keras-unknown-class"]);
    let f = run(r#"{"module": "socket", "class_name": "socket", "config": {}}"#);
    assert_eq!(rules(&f), ["keras-system-access"]);
    // A project's own layer: high, unless allowed.
    let cfg = r#"{"module": "mypkg.layers", "class_name": "MyLayer", "config": {}, "registered_name": "mypkg>MyLayer"}"#;
    assert_eq!(rules(&run(cfg)), ["keras-untrusted-module"]);
    let allow = |m: &str, _: &str| m.starts_with("mypkg");
    assert!(run_with(cfg, &allow).is_empty());
    // A prefix is not a module: `kerasx` is not keras.
    assert_eq!(
        rules(&run(
            r#"{"module": "kerasx.layers", "class_name": "Dense", "config": {}}"#
        )),
        ["keras-untrusted-module"]
    );
}

#[test]
fn keras_own_gadgets() {
    let f = run(r#"{"module": "keras.utils", "class_name": "function", "config": "get_file"}"#);
    assert_eq!(rules(&f), ["keras-system-access"]);
    assert!(f[0].message.contains("CVE-2025-8747"));
    let f = run(
        r#"{"module": "keras.src.saving.serialization_lib", "class_name": "function", "config": "enable_unsafe_deserialization"}"#,
    );
    assert_eq!(rules(&f), ["keras-unsafe-deserialization"]);
    // CVE-2025-9906 as published: a Lambda calling Keras' global-state setter, then
    // load_model with safe_mode off.
    let f = run(
        r#"{"module": "keras.layers", "class_name": "Lambda", "config": {"name": "l",
        "function": {"module": "keras.src.backend.common.global_state", "class_name": "function",
        "config": "set_global_attribute", "registered_name": "function"},
        "arguments": {"value": false}}}"#,
    );
    assert_eq!(rules(&f), ["keras-unsafe-deserialization"]);
    let f = run(
        r#"{"module": "keras.src.utils.file_utils", "class_name": "function", "config": "rmtree"}"#,
    );
    assert_eq!(rules(&f), ["keras-untrusted-module"]);
    let f = run(
        r#"{"module": "keras.layers", "class_name": "Lambda", "config": {"name": "l",
        "function": {"module": "keras.models", "class_name": "function", "config": "load_model"},
        "arguments": {"safe_mode": false}}}"#,
    );
    assert_eq!(rules(&f), ["keras-unsafe-deserialization"]);
}

#[test]
fn unknown_classes_and_markers() {
    let f = run(r#"{"class_name": "TotallyCustomLayer", "config": {"name": "x"}}"#);
    assert_eq!(rules(&f), ["keras-unknown-class"]);
    assert_eq!(f[0].severity, Severity::Medium);
    let hub = r#"{"module": "keras_hub.src.models.bert.bert_backbone", "class_name": "BertBackbone", "config": {}}"#;
    assert!(run(hub).is_empty());
    let markers = r#"{"class_name": "Functional", "config": {"name": "f", "layers": [], "input_layers": [
        {"class_name": "__keras_tensor__", "config": {"shape": [null, 4]}},
        {"class_name": "__tuple__", "items": [1, 2]}]}}"#;
    assert!(run(markers).is_empty(), "{:#?}", run(markers));
}

#[test]
fn nested_models_are_walked() {
    let cfg = format!(
        r#"{{"module": "keras", "class_name": "Functional", "config": {{"name": "outer", "layers": [
        {{"module": "keras", "class_name": "Sequential", "config": {{"name": "inner", "layers": [
          {{"module": "keras", "class_name": "Sequential", "config": {{"name": "deeper", "layers": [
            {{"module": "keras.layers", "class_name": "Lambda", "config": {{"name": "l", "function":
              {{"class_name": "__lambda__", "config": {{"code": "{LAMBDA_B64}"}}}}}}}}]}}}}]}}}}]}}}}"#
    );
    let f = run(&cfg);
    assert_eq!(rules(&f), ["keras-lambda"]);
    assert!(
        f[0].message.contains("outer/inner/deeper/l"),
        "{}",
        f[0].message
    );
}

#[test]
fn malformed_and_hostile_configs() {
    assert_eq!(rules(&run("{not json")), ["keras-malformed"]);
    // Deeper than serde_json's recursion limit: a finding, no stack overflow.
    let deep = "[".repeat(100_000) + &"]".repeat(100_000);
    assert_eq!(rules(&run(&deep)), ["keras-malformed"]);
    // Many findings are capped and counted.
    let many = format!(
        "[{}]",
        vec![r#"{"class_name": "Unknown1", "config": {}}"#; 1000].join(",")
    );
    let f = run(&many);
    assert!(f.len() <= MAX_FINDINGS + 1);
    assert!(f.last().unwrap().message.contains("more findings"));
    // Lambda whose code is not base64 / not marshal.
    let f = run(r#"{"class_name": "__lambda__", "config": {"code": "!!!"}}"#);
    assert_eq!(rules(&f), ["keras-lambda"]);
    let f = run(r#"{"class_name": "__lambda__", "config": {"code": "AAAA"}}"#);
    assert!(f[0]
        .evidence
        .as_deref()
        .unwrap()
        .contains("not fully parsed"));
}

#[test]
fn keras_metadata_json() {
    assert!(is_keras_metadata(
        br#"{"keras_version": "3.15.1", "date_saved": "x"}"#
    ));
    assert!(!is_keras_metadata(br#"{"version": 1}"#));
    assert!(!is_keras_metadata(b"garbage"));
}

#[test]
fn base64() {
    assert_eq!(b64decode("aGVsbG8=").unwrap(), b"hello");
    assert_eq!(b64decode("aGVs\nbG8").unwrap(), b"hello");
    assert!(b64decode("a*b").is_none());
}

#[test]
fn configs_nested_in_strings_are_scanned() {
    let inner = format!(
        r#"{{"class_name": "Sequential", "config": {{"layers": [{{"class_name": "__lambda__", "config": {{"code": "{LAMBDA_B64}"}}}}]}}}}"#
    );
    let outer = serde_json::json!({
        "module": "keras.layers", "class_name": "Lambda",
        "config": {"name": "payload", "function": {"module": "keras.models", "class_name": "function", "config": "model_from_json"}},
        "inbound_nodes": [{"args": [], "kwargs": {"inputs": inner}}]
    });
    let f = run(&outer.to_string());
    let mut r = rules(&f);
    r.sort();
    assert_eq!(
        r,
        ["keras-lambda", "keras-unsafe-deserialization"],
        "{f:#?}"
    );
    // A string that merely starts with a brace is left alone.
    assert!(
        run(r#"{"class_name": "Dense", "config": {"name": "{\"class_name\": oops"}}"#).is_empty()
    );
}

#[test]
fn tf_op_lambda_layers_name_tensorflow_apis() {
    let layer = |f: &str| {
        format!(
            r#"{{"class_name": "TFOpLambda", "config": {{"name": "tf.x", "function": "{f}"}}}}"#
        )
    };
    assert!(run(&layer("math.add")).is_empty());
    assert!(run(&layer("__operators__.getitem")).is_empty());
    assert_eq!(
        rules(&run(&layer("io.write_file"))),
        ["keras-system-access"]
    );
    assert_eq!(
        rules(&run(&layer("compat.v1.gfile.Remove"))),
        ["keras-system-access"]
    );
    let f = run(&layer("numpy_function"));
    assert_eq!(rules(&f), ["keras-code-execution"]);
    assert_eq!(f[0].evidence.as_deref(), Some("tf.numpy_function"));
}
