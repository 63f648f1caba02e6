use super::analyze::{analyze, ArgValue, Kind, Scope};
use super::lex::{tokenize, Tok};

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
fn lexer_positions_prefixes_and_continuations() {
    let stmts = tokenize("a = rb'x\\'y' + \\\n    Fr\"{b}\"\nc = (1,\n 2)\n");
    assert_eq!(stmts.len(), 2);
    let t = &stmts[0].tokens;
    assert_eq!(
        t[2].kind,
        Tok::Str {
            value: "x\\'y".into(),
            bytes: true
        }
    );
    assert_eq!((t[2].line, t[2].col), (1, 5));
    assert!(t.iter().any(|x| x.kind == Tok::FStrStart && x.line == 2));
    assert!(t.iter().any(|x| x.kind == Tok::Name("b".into())));
    assert_eq!(stmts[1].tokens.last().map(|x| x.line), Some(4));
    // Escapes decode; unterminated strings end at the line or the input.
    let s = tokenize("x = '\\x41\\n\\u00e9'\ny = 'open\n");
    assert_eq!(
        s[0].tokens[2].kind,
        Tok::Str {
            value: "A\né".into(),
            bytes: false
        }
    );
    assert_eq!(s.len(), 2);
    assert!(tokenize("'''never closed").len() == 1);
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
