use super::analyze::{analyze, ArgValue, Kind, Scope};

fn kinds(src: &str) -> Vec<(Kind, String, u32, bool)> {
    analyze(src, &[])
        .behaviours
        .into_iter()
        .map(|b| (b.kind, b.what, b.line, b.load_time))
        .collect()
}

#[test]
fn strings_and_comments_are_not_code() {
    let src = r#"
# os.system("rm -rf /")
x = "os.system('id')"
y = '''
os.system("id")
'''
z = r"exec(\"1\")"  # eval("2")
w = b"subprocess.run"
"#;
    assert!(kinds(src).is_empty(), "{:?}", kinds(src));
    let src2 = "import os\ns = \"\"\"a\nb\"\"\"\nos.system('x')\n";
    assert_eq!(
        kinds(src2),
        vec![(Kind::Process, "os.system".into(), 4, true)]
    );
}

#[test]
fn aliases_and_from_imports_resolve() {
    let src = "import os as o\nfrom subprocess import run as r, Popen\nimport urllib.request\ns = o.system\no.popen('a')\nr(['ls'])\nPopen('x')\ns('y')\nurllib.request.urlopen('http://x')\n";
    let k = kinds(src);
    let whats: Vec<&str> = k.iter().map(|x| x.1.as_str()).collect();
    assert_eq!(
        whats,
        vec![
            "os.popen",
            "subprocess.run",
            "subprocess.Popen",
            "os.system",
            "urllib.request.urlopen"
        ]
    );
    assert_eq!(k[4].0, Kind::Network);
}

#[test]
fn obfuscated_imports_fold() {
    let src = "getattr(__import__('o' + 's'), 'sys' + 'tem')('id')\n";
    let a = analyze(src, &[]);
    let whats: Vec<&str> = a.behaviours.iter().map(|b| b.what.as_str()).collect();
    assert!(whats.contains(&"builtins.__import__"), "{whats:?}");
    assert!(whats.contains(&"os.system"), "{whats:?}");
    let sys = a.behaviours.iter().find(|b| b.what == "os.system").unwrap();
    assert!(sys.note.as_deref().unwrap_or("").contains("os.system"));
    assert!(sys.evidence.contains("__import__"));
    // importlib with a constant name is an import, and its attribute resolves.
    let k =
        kinds("import importlib\nm = importlib.import_module('subprocess')\nm.check_output('x')\n");
    assert_eq!(k.len(), 1);
    assert_eq!(k[0].1, "subprocess.check_output");
}

#[test]
fn decode_then_exec_is_reported_with_the_decoded_calls() {
    let src = "import base64\nexec(base64.b64decode('aW1wb3J0IG9zOyBvcy5zeXN0ZW0oImlkIik='))\n";
    let a = analyze(src, &[]);
    let b = a
        .behaviours
        .iter()
        .find(|b| b.what == "builtins.exec")
        .unwrap();
    assert_eq!(b.line, 2);
    let note = b.note.as_deref().unwrap_or("");
    assert!(note.contains("base64.b64decode"), "{note}");
    assert!(note.contains("os.system"), "{note}");
}

#[test]
fn scopes_decide_load_time() {
    let src = r#"
import os
class M:
    x = os.system("class body")
    def __init__(self):
        os.system("init")
        self._setup()
    def _setup(self):
        os.popen("setup")
    def forward(self, x):
        os.system("forward")
        f = lambda: os.system("lambda")
def helper():
    os.remove("h")
def _load_pyfunc(p):
    open(p, "w")
if __name__ == "__main__":
    os.system("main")
"#;
    let a = analyze(src, &["_load_pyfunc"]);
    let got: Vec<(u32, bool)> = a.behaviours.iter().map(|b| (b.line, b.load_time)).collect();
    assert_eq!(
        got,
        vec![
            (4, true),
            (6, true),
            (9, true),
            (11, false),
            (12, false),
            (14, false),
            (16, true),
            (18, false)
        ]
    );
    let init = &a.behaviours[1];
    assert_eq!(
        init.scope,
        Scope::Function {
            class: Some("M".into()),
            name: "__init__".into()
        }
    );
    assert_eq!(a.behaviours[0].scope, Scope::Class("M".into()));
}

#[test]
fn file_writes_and_secrets() {
    let src = r#"
import os, shutil
from pathlib import Path
open("a.txt")
open("b.txt", "w")
open("c.txt", mode="ab")
shutil.rmtree("/tmp/x")
Path("x").write_text("y")
t = os.environ["HF_TOKEN"]
r = os.environ.get("LOCAL_RANK")
k = os.getenv("AWS_SECRET_ACCESS_KEY")
d = dict(os.environ)
"#;
    let k = kinds(src);
    let got: Vec<(Kind, u32)> = k.iter().map(|x| (x.0, x.2)).collect();
    assert_eq!(
        got,
        vec![
            (Kind::FileWrite, 5),
            (Kind::FileWrite, 6),
            (Kind::FileWrite, 7),
            (Kind::FileWrite, 8),
            (Kind::SecretEnv, 9),
            (Kind::SecretEnv, 11),
            (Kind::SecretEnv, 12),
        ]
    );
}

#[test]
fn shadowed_builtins_and_unbound_names_are_not_dangerous() {
    let src = "def eval(x):\n    return x\neval('1')\nsocket.connect()\nrequests = 3\n";
    assert!(kinds(src).is_empty(), "{:?}", kinds(src));
}

#[test]
fn fstring_fields_are_code() {
    let src = "import os\nx = f\"value {os.popen('id').read()!r:>10} {{os.system('no')}}\"\n";
    let k = kinds(src);
    assert_eq!(k.len(), 1, "{k:?}");
    assert_eq!(k[0].1, "os.popen");
}

#[test]
fn default_arguments_and_decorators_run_at_definition() {
    let src = "import os\n@os.system\ndef f(x=os.popen('a')):\n    pass\n";
    let k = kinds(src);
    assert_eq!(k.len(), 2, "{k:?}");
    assert!(k.iter().all(|x| x.3));
}

#[test]
fn relative_imports_and_call_records() {
    let src = "from .helper import act\nfrom . import layers, utils as u\nfrom ..pkg.mod import (a,\n  b)\nfrom transformers import AutoModel as AM\nm = AM.from_pretrained(\"org/name\", revision=\"abc\")\n";
    let a = analyze(src, &[]);
    let r: Vec<(u32, &str, Vec<String>)> = a
        .relative_imports
        .iter()
        .map(|r| (r.level, r.module.as_str(), r.candidates()))
        .collect();
    assert_eq!(
        r,
        vec![
            (1, "helper", vec!["helper".into(), "helper.act".into()]),
            (1, "", vec!["layers".into(), "utils".into()]),
            (
                2,
                "pkg.mod",
                vec!["pkg.mod".into(), "pkg.mod.a".into(), "pkg.mod.b".into()]
            ),
        ]
    );
    let c = a
        .calls
        .iter()
        .find(|c| c.callee.as_deref() == Some("transformers.AutoModel.from_pretrained"))
        .unwrap();
    assert_eq!((c.line, c.column), (6, 5));
    assert_eq!(c.positional(0), Some(&ArgValue::Str("org/name".into())));
    assert_eq!(c.keyword("revision"), Some(&ArgValue::Str("abc".into())));
}

#[test]
fn hostile_input_is_bounded() {
    let deep = "(".repeat(100_000) + &")".repeat(100_000);
    let _ = analyze(&deep, &[]);
    let many = "x(".repeat(50_000);
    let _ = analyze(&many, &[]);
    let _ = analyze("f'{'", &[]);
    let _ = analyze("\"\"\"", &[]);
    let _ = analyze("\\", &[]);
    let _ = analyze("from . import", &[]);
    let _ = analyze("import", &[]);
    let _ = analyze("@", &[]);
    let _ = analyze("def", &[]);
    let _ = analyze("x = lambda", &[]);
}

#[test]
fn findings_are_located_ruled_and_capped() {
    use super::findings::{behaviour_findings, MAX_PER_SOURCE};
    use crate::finding::Location;
    let src =
        "import os\nclass A:\n    def forward(self):\n        os.system('x')\nos.system('y')\n";
    let a = analyze(src, &[]);
    let at = |l: u32, c: u32| Location::text("m.py", l, c);
    let f = behaviour_findings(&a, &at, "imported");
    let got: Vec<(&str, Option<u32>)> = f
        .iter()
        .map(|x| (x.rule.as_str(), x.location.line))
        .collect();
    assert_eq!(
        got,
        [
            ("python-deferred-execution", Some(4)),
            ("python-code-execution", Some(5))
        ]
    );
    let many = "import os\n".to_string() + &"os.system('x')\n".repeat(MAX_PER_SOURCE + 10);
    let f = behaviour_findings(&analyze(&many, &[]), &at, "imported");
    assert_eq!(f.len(), MAX_PER_SOURCE + 1);
    assert!(f.iter().any(|x| x.rule == "findings-truncated"));
}

#[test]
fn namespaces_resolve_their_items() {
    let src = r#"
import sys, os, builtins
__builtins__["exec"]("1")
globals()["__builtins__"]["eval"]("2")
sys.modules["subprocess"].run("x")
os.__dict__["system"]("y")
vars(os)["popen"]("z")
getattr(builtins, "ex" + "ec")("3")
d = {}
d["exec"]("not a builtin")
"#;
    let k = kinds(src);
    let got: Vec<(&str, u32)> = k.iter().map(|x| (x.1.as_str(), x.2)).collect();
    assert_eq!(
        got,
        [
            ("builtins.exec", 3),
            ("builtins.eval", 4),
            ("subprocess.run", 5),
            ("os.system", 6),
            ("os.popen", 7),
            ("builtins.exec", 8),
        ]
    );
}

#[test]
fn tricky_strings_do_not_leak_code() {
    let src = "x = f\"{'os.system(1)'}\" + rb'\\'exec(1)' + '#' + \"\\N{BULLET} eval(2)\"\ny = f'{a!r:>{width}}' # exec(3)\nz = '''a\n'''; w = \"\"\"b\"c\"\"\"\n";
    assert!(kinds(src).is_empty(), "{:?}", kinds(src));
}

#[test]
fn hostile_nesting_is_refused_not_a_crash() {
    use std::time::{Duration, Instant};
    let n = 100_000;
    let cases = [
        "(".repeat(n) + &")".repeat(n),
        "(".repeat(n),
        "[".repeat(n) + &"]".repeat(n),
        "{".repeat(n),
        "-(".repeat(n) + "1" + &")".repeat(n),
        "-".repeat(n) + "1",
        "not ".repeat(n) + "x",
        "x**".repeat(n) + "x",
        "lambda: ".repeat(n) + "x",
        "x if y else ".repeat(n) + "x",
        "f'{".repeat(n),
        "a".to_string() + &".b".repeat(n),
        "a".to_string() + &"()".repeat(n),
        "a".to_string() + &"[0]".repeat(n),
        "x = ".to_string() + &"\"a\"+".repeat(n) + "\"a\"",
        (0..2_000)
            .map(|i| " ".repeat(i) + "if x:\n")
            .collect::<String>(),
    ];
    for src in &cases {
        let src = format!("import os\nos.system('before')\n{src}\n");
        let t = Instant::now();
        let a = analyze(&src, &[]);
        assert!(a.truncated, "{}", &src[..40]);
        assert!(t.elapsed() < Duration::from_secs(20), "{}", &src[..40]);
    }
    // Just below the bounds everything is analysed.
    let ok = [
        "import os\n".to_string() + &"(".repeat(190) + "os.system('x')" + &")".repeat(190),
        "import os\nx = ".to_string() + &"not ".repeat(3_000) + "os.system('x')",
        "import os\nos.system(".to_string() + &"'a'+".repeat(3_000) + "'a')",
        "import os\n".to_string()
            + &(0..90)
                .map(|i| " ".repeat(i) + "if x:\n")
                .collect::<String>()
            + &" ".repeat(90)
            + "os.system('x')\n",
    ];
    for src in &ok {
        let a = analyze(src, &[]);
        assert!(!a.truncated, "{}", &src[..40]);
        assert!(
            a.behaviours.iter().any(|b| b.what == "os.system"),
            "{}",
            &src[..40]
        );
    }
    // The finding says why.
    let a = analyze(&cases[0], &[]);
    let at = |l: u32, c: u32| crate::finding::Location::text("m.py", l, c);
    let f = super::findings::behaviour_findings(&a, &at, "imported");
    assert!(
        f.iter().any(|x| x.message.contains("200 brackets")),
        "{f:?}"
    );
    let long = &ok[2];
    let a = analyze(long, &[]);
    let c = a
        .calls
        .iter()
        .find(|c| c.callee.as_deref() == Some("os.system"));
    assert_eq!(
        c.and_then(|c| c.positional(0)),
        Some(&ArgValue::Str("a".repeat(3_001)))
    );
}

#[test]
fn a_syntax_error_keeps_the_rest() {
    let src = "import os\ndef broken(:\n    x = = 1\n    os.popen('in broken')\ndef fine():\n    os.system('fine')\nprint \"python 2\"\nos.remove('after')\n";
    let a = analyze(src, &["fine"]);
    let got: Vec<(&str, u32)> = a
        .behaviours
        .iter()
        .map(|b| (b.what.as_str(), b.line))
        .collect();
    assert!(got.contains(&("os.system", 6)), "{got:?}");
    assert!(got.contains(&("os.remove", 8)), "{got:?}");
    let fine = a.behaviours.iter().find(|b| b.what == "os.system").unwrap();
    assert!(fine.load_time);
    assert_eq!(
        fine.scope,
        Scope::Function {
            class: None,
            name: "fine".into()
        }
    );
    // Python 2 throughout: no crash, the calls that parse are there.
    let py2 = "import os\nprint 'x'\nexec 'code'\nos.system('id')\nraise E, 'v'\n";
    assert!(kinds(py2).iter().any(|k| k.1 == "os.system"));
}

#[test]
fn modern_syntax_gives_callees_and_scopes() {
    let src = r#"
import os, subprocess as sp
from transformers import AutoModel as AM
if (m := AM.from_pretrained("org/walrus")):
    pass
match os.environ.get("MODE"):
    case "a":
        sp.run(["a"])
    case _:
        pass
async def fetch():
    async with x() as y:
        await sp.check_output("async")
@os.system
def decorated():
    pass
class C:
    def f(self):
        g = lambda: os.popen("lambda")
        return [os.remove(p) for p in ps.split()]
"#;
    let a = analyze(src, &[]);
    let call = |name: &str| {
        a.calls
            .iter()
            .find(|c| c.callee.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("{name}: {:?}", a.calls))
    };
    let w = call("transformers.AutoModel.from_pretrained");
    assert_eq!((w.line, w.column, w.scope.clone()), (4, 10, Scope::Module));
    assert_eq!(w.positional(0), Some(&ArgValue::Str("org/walrus".into())));
    let r = call("subprocess.run");
    assert_eq!(
        (r.line, r.scope.clone(), r.load_time),
        (8, Scope::Module, true)
    );
    let f = call("subprocess.check_output");
    assert_eq!(
        (f.line, f.scope.clone(), f.load_time),
        (
            13,
            Scope::Function {
                class: None,
                name: "fetch".into()
            },
            false
        )
    );
    let d = call("os.system");
    assert_eq!((d.line, d.column, d.load_time), (14, 2, true));
    let l = call("os.popen");
    assert_eq!(
        (l.line, l.scope.clone(), l.load_time),
        (19, Scope::Deferred, false)
    );
    // Calls are listed in source order: the element of a comprehension before its loop.
    let order: Vec<&str> = a.calls.iter().filter_map(|c| c.callee.as_deref()).collect();
    let at = |n: &str| order.iter().position(|c| *c == n);
    assert!(
        at("os.remove").is_some() && at("os.remove") < at("ps.split"),
        "{order:?}"
    );
    let c = call("os.remove");
    assert_eq!(
        (c.line, c.scope.clone()),
        (
            20,
            Scope::Function {
                class: Some("C".into()),
                name: "f".into()
            }
        )
    );
}

#[test]
fn columns_count_characters() {
    let a = analyze(
        "import os\nx = 'é€'; os.system('x')\r\nos.popen('y')\ros.remove('z')\n",
        &[],
    );
    let got: Vec<(&str, u32, u32)> = a
        .behaviours
        .iter()
        .map(|b| (b.what.as_str(), b.line, b.column))
        .collect();
    assert_eq!(
        got,
        [
            ("os.system", 2, 11),
            ("os.popen", 3, 1),
            ("os.remove", 4, 1)
        ]
    );
}
