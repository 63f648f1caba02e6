use super::*;
use crate::finding::Severity;
use crate::limits::Limits;

fn judge_schema(json: &str) -> Vec<Finding> {
    let limits = Limits::default();
    let allow = |_: &str, _: &str| false;
    let ctx = Ctx::new(&limits, &allow);
    let doc = tree::parse(json, 10_000, 64).expect("json");
    let mut out = Vec::new();
    scan_schema(
        &doc,
        &ctx,
        &Location::file("m.skops").member("schema.json"),
        &mut out,
    );
    out
}

#[test]
fn nodes_are_judged_by_what_they_name() {
    let f = judge_schema(
        r#"{"__class__": "Pipeline", "__module__": "sklearn.pipeline", "__loader__": "ObjectNode",
  "content": {"memory": {
    "__class__": "system",
    "__module__": "os", "__loader__": "ConstructorFromReduceNode", "content": {}}},
  "protocol": 2}"#,
    );
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].severity, Severity::Critical);
    assert_eq!(f[0].location.line, Some(3));
    assert!(f[0].message.contains("os.system"));
    let f = judge_schema(
        r#"{"__class__": "function", "__module__": "mypkg", "__loader__": "FunctionNode",
  "content": {"module_path": "mypkg.fns", "function": "go"}, "protocol": 2}"#,
    );
    assert!(
        f.iter().all(|x| x.severity == Severity::Medium) && !f.is_empty(),
        "{f:?}"
    );
    let f = judge_schema(
        r#"{"__class__": "type", "__module__": "builtins", "__loader__": "TypeNode",
  "content": {"__module__": "builtins", "__class__": "eval"}, "protocol": 2}"#,
    );
    assert_eq!(
        f.first().map(|x| x.severity),
        Some(Severity::Critical),
        "{f:?}"
    );
    let f = judge_schema(
        r#"{"__class__": "ndarray", "__module__": "numpy", "__loader__": "NdArrayNode", "protocol": 2}"#,
    );
    assert!(f.is_empty(), "{f:?}");
    let f = judge_schema(
        r#"{"__class__": "open", "__module__": "numpy.lib._datasource", "__loader__": "ConstructorFromReduceNode", "protocol": 2}"#,
    );
    assert_eq!(
        f.first().map(|x| x.severity),
        Some(Severity::Medium),
        "{f:?}"
    );
}
