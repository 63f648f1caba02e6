use super::*;
use crate::limits::Limits;
use crate::source::MemSource;

fn scan_text(name: &str, text: &str) -> Vec<Finding> {
    let limits = Limits::default();
    let allow = |_: &str, _: &str| false;
    let ctx = Ctx::new(&limits, &allow);
    let mut out = Vec::new();
    let src = MemSource::new(text.as_bytes().to_vec());
    scan(&src, &ctx, &Location::file(name), &mut out);
    out
}

fn worst(f: &[Finding]) -> Option<Severity> {
    f.iter().map(|x| x.severity).max()
}

#[test]
fn unescaping_finds_hidden_keys() {
    assert!(mentions_of(br#""_tar\x67et_": x"#).target);
    assert!(mentions_of(br#"{"_tar\u0067et_": "x"}"#).target);
    assert!(mentions_of(b"\"_tar\\\n    get_\": x").target);
    assert!(!mentions_of(br#"{"a": "\u0041"}"#).target);
    assert!(mentions_of(br#"{"chat_t\u0065mplate": "x"}"#).chat_template);
}

#[test]
fn targets_are_judged() {
    let f = scan_text("c.yaml", "a:\n  _target_: os.system\n  _args_: [id]\n");
    assert_eq!(worst(&f), Some(Severity::Critical));
    assert_eq!(f[0].location.line, Some(2));
    let f = scan_text(
        "c.yaml",
        "m:\n  _target_: torch.nn.Linear\n  in_features: 2\n",
    );
    assert_eq!(worst(&f), Some(Severity::Low));
    let f = scan_text("c.yaml", "m:\n  _target_: mypkg.Thing\n");
    assert_eq!(worst(&f), Some(Severity::Medium));
    let f = scan_text("c.yaml", "m:\n  _target_: ${oc.env:T}\n");
    assert_eq!(f[0].rule, RuleId::HydraTargetDynamic);
    let f = scan_text(
        "c.yaml",
        "m:\n  _target_: transformers.AutoModel.from_pretrained\n  trust_remote_code: true\n",
    );
    assert_eq!(worst(&f), Some(Severity::Critical));
    let f = scan_text(
        "c.yaml",
        "m:\n  _target_: transformers.AutoModel.from_pretrained\n  trust_remote_code: false\n",
    );
    assert_eq!(worst(&f), Some(Severity::Medium));
}

#[test]
fn interpolations_resolve_in_the_document() {
    let f = scan_text(
        "c.yaml",
        "a: os\nb:\n  fn: system\n  _target_: ${a}.${.fn}\n",
    );
    assert_eq!(worst(&f), Some(Severity::Critical), "{f:?}");
    assert!(f[0]
        .evidence
        .as_deref()
        .is_some_and(|e| e.contains("os.system")));
    let f = scan_text("c.yaml", "x: ${x}\nm:\n  _target_: ${x}\n");
    assert_eq!(f[0].rule, RuleId::HydraTargetDynamic);
    let f = scan_text(
        "c.yaml",
        "n: [os, system]\nm:\n  _target_: ${n[0]}.${n.1}\n",
    );
    assert_eq!(worst(&f), Some(Severity::Critical), "{f:?}");
}

#[test]
fn configs_without_targets_are_quiet() {
    assert!(scan_text("c.yaml", "a: 1\nb: [1, 2]\n").is_empty());
    assert!(scan_text("c.json", "{\"a\": {\"_target\": 1}}").is_empty());
}

#[test]
fn unparsable_configs_that_mention_targets_are_not_clean() {
    let f = scan_text("c.yaml", "a: [\n  _target_: os.system\n");
    assert_eq!(f[0].rule, RuleId::ContentNotScanned);
}

#[test]
fn chat_templates_in_json_and_jinja() {
    let f = scan_text(
        "tokenizer_config.json",
        "{\n  \"a\": 1,\n  \"chat_template\": \"{{ cycler.__init__.__globals__.os.popen('id') }}\"\n}",
    );
    assert_eq!(f[0].rule, RuleId::ChatTemplateInjection);
    assert_eq!(f[0].location.line, Some(3));
    let f = scan_text(
        "chat_template.jinja",
        "{{ x }}\n\n{{ lipsum.__globals__ }}\n",
    );
    assert_eq!(f[0].location.line, Some(3));
    assert!(scan_text(
        "chat_template.jinja",
        "{% for m in messages %}{{ m.content }}{% endfor %}"
    )
    .is_empty());
}

#[test]
fn the_search_streams_across_chunks() {
    let text = br#"{"a": "\u005ftar\u0067et_", "b": "_tar\
      get_"}"#;
    let mut s = Searcher::default();
    for b in text.iter() {
        s.feed(std::slice::from_ref(b));
    }
    assert!(s.found.target);
    // An escaped backslash starts no escape.
    assert!(!mentions_of(br#""\\x5ftarget_""#).target);
    let mut big = vec![b' '; 3 * CHUNK + 5];
    big.extend_from_slice(b"\"_tar\\x67et_\": x");
    let limits = Limits::default();
    let allow = |_: &str, _: &str| false;
    let ctx = Ctx::new(&limits, &allow);
    assert!(search(&MemSource::new(big.clone()), u64::MAX, &ctx).target);
    assert!(!search(&MemSource::new(big), CHUNK as u64, &ctx).target);
}

#[test]
fn hostile_configs_are_bounded() {
    // Interpolations that fan out at every level, and merge chains that repeat.
    let mut y = String::from("v0: ''\n");
    for i in 1..40 {
        let p = i - 1;
        y.push_str(&format!("v{i}: '${{v{p}}}${{v{p}}}${{v{p}}}${{v{p}}}'\n"));
    }
    y.push_str("m:\n  _target_: os.${v39}system\n");
    let t = std::time::Instant::now();
    let f = scan_text("c.yaml", &y);
    assert!(t.elapsed().as_secs() < 5);
    assert_eq!(f[0].rule, RuleId::HydraTargetDynamic, "{f:?}");
    let mut y = String::from("a0: &a0 {k: 1}\n");
    for i in 1..60 {
        let p = i - 1;
        y.push_str(&format!("a{i}: &a{i}\n  <<: [*a{p}, *a{p}, *a{p}]\n"));
    }
    y.push_str("m:\n  <<: [*a59, *a59]\n  _target_: torch.nn.Linear\n");
    let t = std::time::Instant::now();
    let f = scan_text("c.yaml", &y);
    assert!(t.elapsed().as_secs() < 5);
    assert_eq!(worst(&f), Some(Severity::Low));
    // Deep nesting and garbage give a finding or nothing, never a panic.
    let deep = "a:\n".to_string()
        + &(1..2000)
            .map(|i| format!("{}b:\n", " ".repeat(i)))
            .collect::<String>()
        + "_target_: x\n";
    let _ = scan_text("c.yaml", &deep);
    for junk in [
        "\u{0}_target_",
        "{_target_: [",
        "_target_: *x",
        "? [_target_]\n: os.system",
        "_target_: !!binary aGk=",
    ] {
        let _ = scan_text("c.yaml", junk);
    }
}

#[test]
fn attribute_walks_under_safe_prefixes_are_judged_by_what_they_reach() {
    let allow = |_: &str, _: &str| false;
    for t in [
        "torch.nn.modules.module.torch.load",
        "torch.nn.functional.os.system",
        "torch.optim.sgd.torch.hub.load",
        "nemo.collections.x.hydra.utils.instantiate",
    ] {
        assert!(
            matches!(hydra::judge(t, false, &allow), hydra::Verdict::Code(_)),
            "{t}: {:?}",
            hydra::judge(t, false, &allow)
        );
    }
    assert!(matches!(
        hydra::judge(
            "nemo.collections.asr.models.ASRModel.from_pretrained",
            false,
            &allow
        ),
        hydra::Verdict::Unknown
    ));
    assert!(matches!(
        hydra::judge("torch.optim.lr_scheduler.CosineAnnealingLR", false, &allow),
        hydra::Verdict::Safe(_)
    ));
}

#[test]
fn wide_maps_stay_linear() {
    let mut j = String::from("{\"chat_template\": \"{{ x }}\", \"added\": {");
    for i in 0..200_000 {
        j.push_str(&format!("\"k{i}\": {{\"content\": \"t\"}},"));
    }
    j.push_str("\"end\": 1}}");
    let t = std::time::Instant::now();
    let f = scan_text("tokenizer_config.json", &j);
    assert!(f.is_empty(), "{f:?}");
    assert!(t.elapsed().as_secs() < 20, "{:?}", t.elapsed());
}

#[test]
fn named_templates_as_a_list_or_a_mapping() {
    let list = "{\"chat_template\": [\n {\"name\": \"default\", \"template\": \"{{ m }}\"},\n {\"name\": \"tool_use\", \"template\": \"{{ joiner.__init__.__globals__ }}\"}]}";
    let f = scan_text("tokenizer_config.json", list);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].location.line, Some(3));
    assert!(f[0].message.contains("tool_use"));
    let map = "chat_template:\n  default: '{{ m }}'\n  rag: |\n    {{ m }}\n    {{ lipsum.__globals__ }}\n";
    let f = scan_text("tokenizer_config.yaml", map);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].location.line, Some(5));
}

#[test]
fn duplicate_keys_are_each_judged() {
    let f = scan_text(
        "c.yaml",
        "m:\n  _target_: torch.nn.Linear\n  _target_: os.system\n",
    );
    assert_eq!(worst(&f), Some(Severity::Critical), "{f:?}");
    assert_eq!(f[0].location.line, Some(3));
    let f = scan_text(
        "c.json",
        "{\"m\": {\"_target_\": \"os.system\", \"_target_\": \"torch.nn.Linear\"}}",
    );
    assert_eq!(worst(&f), Some(Severity::Critical), "{f:?}");
    // An interpolated key resolves to the last duplicate, as PyYAML keeps it.
    let f = scan_text(
        "c.yaml",
        "x: torch.nn.Linear\nx: os.system\nm:\n  _target_: ${x}\n",
    );
    assert_eq!(worst(&f), Some(Severity::Critical), "{f:?}");
}

#[test]
fn pyyaml_python_tags() {
    let f = scan_text(
        "hparams.yaml",
        "net: !!python/object/apply:os.system [\"id\"]\n",
    );
    assert_eq!(f[0].rule, RuleId::YamlPythonTag);
    assert_eq!(f[0].severity, Severity::Critical);
    assert_eq!(f[0].location.line, Some(1));
    let f = scan_text(
        "c.yaml",
        "%TAG !p! tag:yaml.org,2002:python/\n---\na: 1\nb: !p!object/apply:subprocess.run [[id]]\n",
    );
    assert_eq!(worst(&f), Some(Severity::Critical), "{f:?}");
    assert_eq!(f[0].location.line, Some(4));
    let f = scan_text(
        "c.yaml",
        "a: !<tag:yaml.org,2002:python/object/new:mypkg.X> []\n",
    );
    assert_eq!(worst(&f), Some(Severity::High), "{f:?}");
    let f = scan_text("c.yaml", "a: !!p%79thon/name:os.system ''\n");
    assert_eq!(worst(&f), Some(Severity::High), "{f:?}");
    assert!(scan_text("c.yaml", "a: !!python/tuple [1, 2]\nb: !!str x\n").is_empty());
    assert!(!mentions_of(b"a: 1\nb: !!str x\n").py_tag);
}

#[test]
fn a_hydra_run_record_is_not_a_payload() {
    // The start of the `.hydra/hydra.yaml` every Hydra run writes.
    let y = "hydra:\n  run:\n    dir: outputs/${now:%Y-%m-%d}/${now:%H-%M-%S}\n  launcher:\n    _target_: hydra._internal.core_plugins.basic_launcher.BasicLauncher\n  sweeper:\n    _target_: hydra._internal.core_plugins.basic_sweeper.BasicSweeper\n    max_batch_size: null\n    params: null\n  job_logging:\n    handlers:\n      file:\n        class: logging.FileHandler\n        filename: ${hydra.runtime.output_dir}/${hydra.job.name}.log\n";
    let f = scan_text(".hydra/hydra.yaml", y);
    assert_eq!(worst(&f), Some(Severity::Low), "{f:?}");
}
