use super::*;
use crate::finding::Severity;
use crate::limits::Limits;
use crate::source::MemSource;

fn node(name: &str, op: &str, inputs: &[&str], func: Option<&str>) -> NodeDef {
    let mut attr = BTreeMap::new();
    if let Some(f) = func {
        attr.insert(
            "f".to_string(),
            AttrValue {
                func: Some(NameAttrList {
                    name: f.into(),
                    attr: BTreeMap::new(),
                }),
                ..Default::default()
            },
        );
    }
    NodeDef {
        name: name.into(),
        op: op.into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        attr,
    }
}

fn function(name: &str, nodes: Vec<NodeDef>) -> FunctionDef {
    FunctionDef {
        signature: Some(OpDef { name: name.into() }),
        node_def: nodes,
    }
}

/// What tf.saved_model.save writes: serving function, saver functions named by
/// saver_def, checkpoint ops inside them. `serve_extra` goes into the serving function.
fn model(serve_extra: Vec<NodeDef>) -> SavedModel {
    let mut serve = vec![
        node("ReadVariableOp", "ReadVariableOp", &[], None),
        node("mul", "Mul", &["x", "ReadVariableOp:0"], None),
    ];
    serve.extend(serve_extra);
    let save = vec![
        node("StringJoin", "StringJoin", &[], None),
        node("ShardedFilename", "ShardedFilename", &[], None),
        node("SaveV2", "SaveV2", &[], None),
        node("MergeV2Checkpoints", "MergeV2Checkpoints", &[], None),
    ];
    let restore = vec![node("RestoreV2", "RestoreV2", &[], None)];
    SavedModel {
        saved_model_schema_version: 1,
        meta_graphs: vec![MetaGraphDef {
            graph_def: Some(GraphDef {
                node: vec![
                    node("x", "Placeholder", &[], None),
                    node(
                        "call",
                        "StatefulPartitionedCall",
                        &["x"],
                        Some("__inference_serve_1"),
                    ),
                    node("saver_filename", "Placeholder", &[], None),
                    node(
                        "StatefulPartitionedCall_1",
                        "StatefulPartitionedCall",
                        &["saver_filename"],
                        Some("__inference__traced_save_2"),
                    ),
                    node(
                        "StatefulPartitionedCall_2",
                        "StatefulPartitionedCall",
                        &["saver_filename"],
                        Some("__inference__traced_restore_3"),
                    ),
                ],
                library: Some(FunctionDefLibrary {
                    function: vec![
                        function("__inference_serve_1", serve),
                        function("__inference__traced_save_2", save),
                        function("__inference__traced_restore_3", restore),
                    ],
                }),
            }),
            saver_def: Some(SaverDef {
                filename_tensor_name: "saver_filename:0".into(),
                save_tensor_name: "StatefulPartitionedCall_1:0".into(),
                restore_op_name: "StatefulPartitionedCall_2".into(),
            }),
            object_graph_def: None,
        }],
    }
}

fn scan_bytes_as(bytes: Vec<u8>, kind: Kind) -> Vec<Finding> {
    let limits = Limits::default();
    let allow = |_: &str, _: &str| false;
    let ctx = Ctx::new(&limits, &allow);
    let mut out = Vec::new();
    scan(
        &MemSource::new(bytes),
        kind,
        &ctx,
        &Location::file("saved_model.pb"),
        &mut out,
    );
    out
}

fn findings(sm: &SavedModel) -> Vec<Finding> {
    scan_bytes_as(sm.encode_to_vec(), Kind::SavedModel)
}

#[test]
fn checkpoint_ops_in_the_saver_functions_are_not_findings() {
    let f = findings(&model(vec![]));
    assert!(f.is_empty(), "{f:#?}");
    assert!(ops(&model(vec![])).contains("SaveV2"));
}

#[test]
fn file_ops_in_the_serving_function_are_high() {
    for op in [
        "ReadFile",
        "WriteFile",
        "MatchingFiles",
        "SaveV2",
        "RestoreV2",
    ] {
        let f = findings(&model(vec![node("n", op, &[], None)]));
        assert_eq!(f.len(), 1, "{op}: {f:#?}");
        assert_eq!(f[0].rule, "tf-system-access");
        assert_eq!(f[0].severity, Severity::High);
        assert!(
            f[0].message.contains("__inference_serve_1"),
            "{}",
            f[0].message
        );
    }
    // PrintV2 is ordinary (tf.print), unless it prints to a file.
    assert!(findings(&model(vec![node("p", "PrintV2", &[], None)])).is_empty());
    let mut p = node("p", "PrintV2", &[], None);
    p.attr.insert(
        "output_stream".into(),
        AttrValue {
            s: b"file:///etc/cron.d/x".to_vec(),
            ..Default::default()
        },
    );
    assert_eq!(findings(&model(vec![p]))[0].rule, "tf-system-access");
}

#[test]
fn dangerous_ops_inside_the_saver_functions_still_count() {
    let mut sm = model(vec![]);
    let lib = sm.meta_graphs[0]
        .graph_def
        .as_mut()
        .unwrap()
        .library
        .as_mut()
        .unwrap();
    lib.function[2]
        .node_def
        .push(node("w", "WriteFile", &[], None));
    let f = findings(&sm);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].rule, "tf-system-access");
}

#[test]
fn pyfunc_is_critical_and_unknown_ops_medium() {
    let f = findings(&model(vec![node("py", "EagerPyFunc", &[], None)]));
    assert_eq!(f[0].rule, "tf-code-execution");
    assert_eq!(f[0].severity, Severity::Critical);
    let f = findings(&model(vec![node("c", "MyCustomOp", &[], None)]));
    assert_eq!(f[0].rule, "tf-unknown-op");
    assert_eq!(f[0].severity, Severity::Medium);
}

#[test]
fn tf1_saver_subgraph_found_through_inputs() {
    // TF1: save/* nodes directly in the graph, reached backwards from saver_def.
    let sm = SavedModel {
        saved_model_schema_version: 1,
        meta_graphs: vec![MetaGraphDef {
            graph_def: Some(GraphDef {
                node: vec![
                    node("save/Const", "Const", &[], None),
                    node("save/SaveV2", "SaveV2", &["save/Const"], None),
                    node(
                        "save/control_dependency",
                        "Identity",
                        &["save/Const", "^save/SaveV2"],
                        None,
                    ),
                    node("save/RestoreV2", "RestoreV2", &["save/Const"], None),
                    node("save/restore_all", "NoOp", &["^save/RestoreV2"], None),
                    node("evil", "SaveV2", &[], None),
                ],
                library: None,
            }),
            saver_def: Some(SaverDef {
                filename_tensor_name: "save/Const:0".into(),
                save_tensor_name: "save/control_dependency:0".into(),
                restore_op_name: "save/restore_all".into(),
            }),
            object_graph_def: None,
        }],
    };
    let f = findings(&sm);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(f[0].message.contains("`evil`"));
}

#[test]
fn repeated_sites_are_capped() {
    let many: Vec<NodeDef> = (0..50)
        .map(|i| node(&format!("r{i}"), "ReadFile", &[], None))
        .collect();
    let f = findings(&model(many));
    assert_eq!(f.len(), MAX_SITES + 1);
    assert!(f.last().unwrap().message.contains("45 more"));
}

#[test]
fn garbage_is_malformed_and_floods_of_empty_messages_are_refused() {
    let f = scan_bytes_as(b"\xff\xff\xff\xff garbage".to_vec(), Kind::SavedModel);
    assert_eq!(f[0].rule, "tf-malformed");
    let f = scan_bytes_as(b"\xff\xff\xff".to_vec(), Kind::KerasMetadata);
    assert_eq!(f[0].rule, "tf-malformed");
    // 3M empty NodeDefs in a GraphDef in a MetaGraphDef: 6 MB that prost would turn into
    // about half a gigabyte.
    let nodes = b"\x0a\x00".repeat(3_000_000);
    let mut graph = vec![0x12];
    prost::encoding::encode_varint(nodes.len() as u64, &mut graph);
    graph.extend(&nodes);
    let mut mg = vec![0x12];
    prost::encoding::encode_varint(graph.len() as u64, &mut mg);
    mg.extend(&graph);
    let f = scan_bytes_as(mg, Kind::SavedModel);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].rule, "content-not-scanned");
}

#[test]
fn keras_metadata_objects_go_to_the_keras_scanner() {
    let md = SavedMetadata {
        nodes: vec![KerasSavedObject {
            node_id: 0,
            node_path: "root".into(),
            identifier: "_tf_keras_sequential".into(),
            metadata: r#"{"class_name": "Sequential", "config": {"layers": [{"class_name": "__lambda__", "config": {"code": "AAAA"}}]}}"#.into(),
        }],
    };
    let f = scan_bytes_as(md.encode_to_vec(), Kind::KerasMetadata);
    assert_eq!(f[0].rule, "keras-lambda");
    assert_eq!(f[0].location.member.as_deref(), Some("@root"));
}

#[test]
fn names_route_only_the_two_files() {
    assert_eq!(Kind::from_name("m/saved_model.pb"), Some(Kind::SavedModel));
    assert_eq!(
        Kind::from_name("a.zip!x/keras_metadata.pb"),
        Some(Kind::KerasMetadata)
    );
    assert_eq!(Kind::from_name("graph.pb"), None);
    assert_eq!(Kind::from_name("fingerprint.pb"), None);
}

#[test]
fn every_dangerous_op_is_a_real_op_name_or_documented_absent() {
    // The table must not silently misspell ops: names TensorFlow does not register are
    // listed here on purpose (kept for older TF versions or other builds).
    let absent = [
        "LoadLibrary",
        "ExperimentalLoadDataset",
        "ExperimentalSaveDataset",
    ];
    for (op, _, _) in DANGEROUS_OPS {
        assert!(
            tf_ops().contains(op) || absent.contains(op),
            "{op} is neither in tf_ops.txt nor listed as absent"
        );
    }
}
