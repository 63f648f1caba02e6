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
