use super::*;

fn worst(t: &str) -> Option<Severity> {
    analyse(t).hits.iter().map(|h| h.severity).max()
}

/// Chat templates of public models (tests/data/chat_templates, see its README).
#[test]
fn real_chat_templates_pass() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/chat_templates");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).expect("templates") {
        let p = e.expect("entry").path();
        if p.extension().is_none_or(|x| x != "jinja") {
            continue;
        }
        let t = std::fs::read_to_string(&p).expect("read");
        let a = analyse(&t);
        assert!(a.hits.is_empty(), "{}: {:?}", p.display(), a.hits);
        assert!(a.unparsed.is_none(), "{}: {:?}", p.display(), a.unparsed);
        n += 1;
    }
    assert!(n >= 22, "only {n} templates");
}

/// One-line originals as they appear in tokenizer_config.json files.
#[test]
fn one_line_originals_pass() {
    let templates = [
        // mistralai/Mistral-7B-Instruct-v0.2
        "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}",
        // google/gemma-7b-it
        "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\\n'}}{% endif %}",
        // meta-llama/Meta-Llama-3-8B-Instruct
        "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}",
        // HuggingFaceH4/zephyr-7b-beta
        "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}",
        // TheBloke/FusionNet_34Bx2_MoE-AWQ
        "{%- for idx in range(0, messages|length) -%}\n{%- if messages[idx]['role'] == 'user' -%}\n{%- if idx > 1 -%}\n{{- bos_token + '[INST] ' + messages[idx]['content'] + ' [/INST]' -}}\n{%- else -%}\n{{- messages[idx]['content'] + ' [/INST]' -}}\n{%- endif -%}\n{% elif messages[idx]['role'] == 'system' %}\n{{- '[INST] <<SYS>>\\n' + messages[idx]['content'] + '\\n<</SYS>>\\n\\n' -}}\n{%- elif messages[idx]['role'] == 'assistant' -%}\n{{- ' '  + messages[idx]['content'] + ' ' + eos_token -}}\n{% endif %}\n{% endfor %}",
        // Jinja features real templates use.
        "{% raw %}{{ not parsed }}{% endraw %}{# comment #}{% for k, v in d|items if v is not none %}{{ k }}={{ v|tojson(indent=2) }}{% endfor %}{% set x %}block{% endset %}{{ x }}{{ {'a': {'b': 1}}['a'] }}{{ messages[-1:][0].content }}{{ '%s-%d'|format('a', 1) }}",
        "{% macro m(a, b=none) %}{{ caller() if caller is defined }}{% endmacro %}{% call m(1) %}x{% endcall %}{% filter upper %}y{% endfilter %}{% with z = 1 %}{{ z }}{% endwith %}{{ 1 if true }}{% generation %}g{% endgeneration %}",
        "{{ messages | selectattr('role', 'equalto', 'system') | map(attribute='content') | join('\\n') }}{{ (messages|first).content }}{{ 0x10 + 1_000 + 1.5e3 }}{{ x is divisibleby 3 }}{{ x is sameas none }}",
        // Constructs of the Llama 3.1, Mistral v3, Qwen3 and Gemma 3 templates.
        "{%- set ns = namespace(multi_step_tool=true, last_query_index=messages|length - 1) %}{%- for message in messages[::-1] %}{%- set index = (messages|length - 1) - loop.index0 %}{%- if ns.multi_step_tool and message.role == \"user\" and message.content is string and not(message.content.startswith('<tool_response>') and message.content.endswith('</tool_response>')) %}{%- set ns.multi_step_tool = false %}{%- set ns.last_query_index = index %}{%- endif %}{%- endfor %}",
        "{%- set reasoning = message.content.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') %}{%- if enable_thinking is defined and enable_thinking is false %}{{- '<think>\\n\\n</think>\\n\\n' }}{%- endif %}",
        "{%- for message in loop_messages | rejectattr(\"role\", \"equalto\", \"tool\") | selectattr(\"tool_calls\", \"undefined\") %}{%- if (message[\"role\"] == \"user\") != (ns.index % 2 == 0) %}{{- raise_exception(\"x\") }}{%- endif %}{%- endfor %}{%- if tool_call.id is not string or tool_call.id|length != 9 %}{%- endif %}",
        "{%- set date_string = strftime_now(\"%d %b %Y\") %}{%- for arg_name, arg_val in tool_call.arguments | items %}{{- arg_name + '=\"' + arg_val + '\"' }}{%- if not loop.last %}{{- \", \" }}{%- endif %}{%- endfor %}{{- t | tojson(indent=4) }}",
        "{%- set content = message.content if message.content is string else message.content | map(attribute='text') | join('') %}{%- set first = messages[0]['content'][0]['text'] + '\\n\\n' -%}{% set a, b = 1, 2 %}{{ (1,) }}{{ loop.cycle('odd', 'even') }}{{ '%.2f'|format(x) }}{{ x is equalto 'a' }}{{ x is divisibleby(3) }}{{ x is sameas true }}",
    ];
    for t in templates {
        let a = analyse(t);
        assert!(a.hits.is_empty(), "{t}: {:?}", a.hits);
        assert!(a.unparsed.is_none(), "{t}: {:?}", a.unparsed);
    }
}

/// Template injections that reach Python internals under a plain `jinja2.Environment`.
#[test]
fn injections_are_critical() {
    let variants = [
        // CVE-2024-34359 proof of concept.
        "{% for x in ().__class__.__base__.__subclasses__() %}{% if \"warning\" in x.__name__ %}{{x()._module.__builtins__['__import__']('os').popen(\"touch /tmp/retr0reg\")}}{%endif%}{% endfor %}",
        "{{ self.__init__.__globals__.__builtins__.__import__('os').popen('id').read() }}",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{{ joiner.__init__.__globals__.os.popen('id').read() }}",
        "{{ namespace.__init__.__globals__.os.popen('id').read() }}",
        "{{ lipsum.__globals__['os'].popen('id').read() }}",
        "{{ range.__init__ }}",
        "{{ request.application.__globals__.__builtins__.__import__('os') }}",
        "{{ config.__class__.__init__.__globals__['os'] }}",
        "{{ ''['__class__']['__mro__'][1]['__subclasses__']() }}",
        "{{ ''|attr('__class__')|attr('__mro__') }}",
        "{{ x['__cla' ~ 'ss__'] }}",
        "{{ x['__cla' + 'ss__'] }}",
        "{{ x['__cla' 'ss__'] }}",
        "{{ x['\\x5f\\x5fclass\\x5f\\x5f'] }}",
        "{{ x['\\u005f\\u005fclass\\u005f\\u005f'] }}",
        "{{ x['\\137\\137class\\137\\137'] }}",
        "{{ x|attr('_' * 2 ~ 'class' ~ '_' * 2) }}",
        "{% set u = '_' %}{{ x|attr(u ~ u ~ 'class' ~ u ~ u) }}",
        "{% set a = 'cla' %}{% set b = 'ss' %}{{ x|attr('__' ~ a ~ b ~ '__') }}",
        "{{ x|attr('%c%c%s%c%c'|format(95, 95, 'class', 95, 95)) }}",
        "{{ x|attr('%c%cclass%c%c' % (95, 95, 95, 95)) }}",
        "{{ x|attr('__ssalc__'|reverse) }}",
        "{{ x|attr('__CLASS__'|lower) }}",
        "{{ x|attr('..class..'|replace('.', '_')) }}",
        "{{ x|attr(['_', '_', 'class', '_', '_']|join) }}",
        "{{ x|attr(''.join(['__', 'class', '__'])) }}",
        "{{ x|attr('{}{}class{}{}'.format('_', '_', '_', '_')) }}",
        "{{ x|attr('x__class__x'[1:-1]) }}",
        "{{ x|attr(dict(__class__=1)|first) }}",
        "{{ x|attr((dict(_=1)|first) * 2 ~ 'class' ~ (dict(_=1)|first) * 2) }}",
        "{{ messages|map(attribute='__class__')|list }}",
        "{{ messages|map('attr', '__class__')|list }}",
        "{{ messages|selectattr('__class__')|list }}",
        "{{ messages|sort(attribute='role.__class__') }}",
        "{{ messages|groupby('__class__') }}",
        "{{ '{0.__class__.__mro__}'.format(x) }}",
        "{% set x %}__cla{% endset %}{{ y|attr(x ~ 'ss__') }}",
        "{% set k = 'role' %}{% set k = '__class__' %}{{ message[k] }}",
        "{% if false %}{% set k = 'role' %}{% else %}{% set k = '__glo' %}{% endif %}{{ f[k ~ 'bals__'] }}",
        "{{ x[('__cla' if true else 'a') ~ 'ss__'] }}",
        "{{ x.mro() }}",
        "{% for k in ['ssalc__'|reverse ~ '__'] %}{{ x[k|reverse] }}{% endfor %}",
        "{% for a in ['__cla'] %}{% for b in ['ss__'] %}{{ x[a ~ b] }}{% endfor %}{% endfor %}",
        "{{ (lipsum|attr('__globals__'))['os']|attr('popen')('id')|attr('read')() }}",
        "{{ g['os']|attr('popen')('id') }}",
        "{{ g.gi_frame.f_back.f_globals }}",
        "{{ x._TemplateReference__context }}",
        "{{ __builtins__ }}",
        "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
        "{% macro m(x=().__class__) %}{% endmacro %}",
        "{{ x.__class__ }", // does not even lex: the token pass still sees it
    ];
    for t in variants {
        assert_eq!(worst(t), Some(Severity::Critical), "{t}: {:?}", analyse(t));
    }
}

/// Names computed from text the template cannot see at rest: dynamic access (high).
#[test]
fn computed_names_are_high() {
    let variants = [
        // `lipsum|string` is "<function generate_lorem_ipsum at 0x...>": index 18 is `_`.
        "{% set u = (lipsum|string)[18] %}{{ x|attr(u ~ u ~ 'class' ~ u ~ u) }}",
        "{{ x[(lipsum|string|list)[18] * 2 ~ 'class' ~ (lipsum|string|list)[18] * 2] }}",
        "{{ x|attr(messages[0].content) }}",
        "{{ x|attr(name) }}",
        "{{ x[('%c' % n) ~ 'class'] }}",
        "{% macro u() %}_{% endmacro %}{{ x[u() ~ u() ~ 'class' ~ u() ~ u()] }}",
        "{{ x|map('attr', messages[0].content)|list }}",
    ];
    for t in variants {
        let w = worst(t);
        assert!(w >= Some(Severity::High), "{t}: {:?}", analyse(t));
    }
}

#[test]
fn hostile_templates_are_bounded() {
    let deep = "(".repeat(10_000) + "1" + &")".repeat(10_000);
    let a = analyse(&format!("{{{{ {deep} }}}}"));
    assert!(a.unparsed.is_some());
    let a = analyse("{{ x|attr('_' * 1000000000 ~ 'a') }}");
    assert!(worst_of(&a) >= Some(Severity::High));
    // Many alternatives: capped, never exponential.
    let mut t = String::new();
    for i in 0..200 {
        t.push_str(&format!("{{% set a = 'x{i}' %}}"));
    }
    t.push_str("{{ y[a ~ a ~ a ~ a] }}");
    let _ = analyse(&t);
    for bad in [
        "{{",
        "{%",
        "{#",
        "{{ 'abc",
        "{% raw %}",
        "{{ x[ }}",
        "{% for %}",
        "{{ \u{e9}\u{301} }}",
        "{{ 1 }",
        "{% set %}",
    ] {
        let _ = analyse(bad);
    }
    assert!(analyse("{{ x").unparsed.is_some());
    for t in [
        "{{ 'abc'[1::9223372036854775807] }}",
        "{{ 'abc'[::-9223372036854775807] }}",
        "{{ 'abc'[-9223372036854775807:] }}",
        "{{ ''[::-1] }}",
        "{{ 'abc'[9223372036854775807] ~ ''[-1] }}",
        "{{ '%c' % 1114112 }}{{ '%c' % -1 }}{{ '{99}'.format(1) }}",
        "{{ 9223372036854775807 + 1 - -9223372036854775807 * 2 // 0 % 0 }}",
    ] {
        let _ = analyse(t);
    }
}

fn worst_of(a: &Analysis) -> Option<Severity> {
    a.hits.iter().map(|h| h.severity).max()
}

#[test]
fn unescape_follows_python() {
    assert_eq!(unescape(r"a\x5fb\u005f\137\n\\\'"), "a_b__\n\\'");
    assert_eq!(unescape(r"\q"), "\\q");
    assert_eq!(unescape("\\"), "\\");
}

#[test]
fn dunder_detection() {
    assert_eq!(dunder_text("__class__"), Some("__class__".into()));
    assert_eq!(dunder_text("a__init__b"), Some("__init__".into()));
    assert_eq!(dunder_text("{0.__globals__}"), Some("__globals__".into()));
    assert_eq!(dunder_text("__ bold __"), None);
    assert_eq!(dunder_text("____"), None);
    assert_eq!(dunder_text("__cla"), None);
}

#[test]
fn folding_work_is_bounded() {
    // Many variables with many alternatives, concatenated over and over.
    let mut t = String::new();
    for i in 0..40 {
        t.push_str(&format!("{{% set a = '{}' %}}", "x".repeat(1000 + i)));
    }
    for _ in 0..2000 {
        t.push_str("{% set a = a ~ a ~ a %}");
    }
    t.push_str("{{ y[a] }}");
    let start = std::time::Instant::now();
    let _ = analyse(&t);
    assert!(start.elapsed() < std::time::Duration::from_secs(20));
    // A template past the expression budget says it was not fully analysed.
    let huge = "{{ a ~ b }}".repeat(180_000);
    assert!(analyse(&huge).unparsed.is_some());
}
