//! Pickled `torch.fx` GraphModules carry Python source that unpickling executes:
//! `torch.fx.graph_module.reduce_graph_module(body, import_block)` (and
//! `reduce_deploy_graph_module(importer, body, import_block)`) `exec`s `import_block +
//! body["_code"]` to rebuild `forward` (torch 1.8 and later, under `pickle.load` and
//! `torch.load(weights_only=False)`). When a pickle calls one of them, it is run again in a
//! retaining machine to read those two strings, which are analysed as Python
//! ([`crate::python`]); findings are located at the line of the string, in a member named
//! after it (`_code`, `import_block`).

use std::collections::HashSet;
use std::rc::Rc;

use super::machine::{Machine, PickleRun, V};
use crate::finding::{Finding, Location};
use crate::python::findings::behaviour_findings;
use crate::rules::RuleId;
use crate::scan::Ctx;
use crate::source::ByteSource;

/// The reducers, and the positions of their `body` and `import_block` arguments.
const REDUCERS: &[(&str, usize, Option<usize>)] = &[
    ("reduce_graph_module", 0, Some(1)),
    ("reduce_deploy_graph_module", 1, Some(2)),
];

/// Values visited in the retained graph.
const MAX_VISITS: usize = 1_000_000;
/// GraphModules analysed per pickle.
const MAX_MODULES: usize = 64;

fn reducer(run: &PickleRun, id: u32) -> Option<(usize, Option<usize>)> {
    let g = run.globals.get(id as usize)?;
    if g.module != "torch.fx.graph_module" {
        return None;
    }
    REDUCERS
        .iter()
        .find(|(n, _, _)| *n == g.name)
        .map(|&(_, b, i)| (b, i))
}

/// Whether the pickle calls a GraphModule reducer (so the strings are worth reading).
pub fn calls_reducer(run: &PickleRun) -> bool {
    run.globals.iter().any(|g| {
        g.module == "torch.fx.graph_module"
            && g.called > 0
            && REDUCERS.iter().any(|(n, _, _)| *n == g.name)
    })
}

/// Reads and analyses the code strings of the GraphModules the pickle at `start` rebuilds.
pub fn scan(
    src: &dyn ByteSource,
    start: u64,
    ctx: &Ctx,
    loc: &Location,
    persistent_load: bool,
    out: &mut Vec<Finding>,
) {
    let allow = |m: &str, n: &str| (ctx.allow)(m, n);
    let machine = Machine::new(src, start, ctx.limits, &allow, Some(ctx.deadline)).retaining();
    let run = if persistent_load {
        machine.run()
    } else {
        machine.without_persistent_load().run()
    };
    let Some(result) = &run.result else {
        out.push(Finding::new(
            RuleId::ContentNotScanned,
            loc.clone(),
            "the pickle rebuilds a torch.fx GraphModule, whose code runs on load, but its code strings could not be read (the stream did not complete)",
        ));
        return;
    };
    let mut work: Vec<V> = vec![result.clone()];
    let mut seen: HashSet<usize> = HashSet::new();
    let mut visits = 0usize;
    let mut modules = 0usize;
    while let Some(v) = work.pop() {
        visits += 1;
        if visits > MAX_VISITS || modules >= MAX_MODULES {
            out.push(Finding::new(
                RuleId::ContentNotScanned,
                loc.clone(),
                "the pickle's object graph is larger than modelgate follows for torch.fx code strings; some GraphModules were not analysed",
            ));
            break;
        }
        match &v {
            V::Tuple(items) if seen.insert(Rc::as_ptr(items) as *const () as usize) => {
                work.extend(items.iter().cloned());
            }
            V::Items(items) if seen.insert(Rc::as_ptr(items) as *const () as usize) => {
                work.extend(items.borrow().iter().cloned());
            }
            V::Dict(Some(d)) if seen.insert(Rc::as_ptr(d) as *const () as usize) => {
                for (k, x) in d.borrow().iter() {
                    work.push(k.clone());
                    work.push(x.clone());
                }
            }
            V::PersistentId(p) => work.push((**p).clone()),
            V::Call(c) => {
                if !seen.insert(Rc::as_ptr(c) as *const () as usize) {
                    continue;
                }
                if let (V::Global(id), V::Tuple(args)) = (&c.func, &c.args) {
                    if let Some((body_at, block_at)) = reducer(&run, *id) {
                        modules += 1;
                        graph_module(args, body_at, block_at, loc, out);
                    }
                }
                work.push(c.func.clone());
                work.push(c.args.clone());
                if let Some(s) = c.state.borrow().as_ref() {
                    work.push(s.clone());
                }
                if let Some(s) = c.contents.borrow().as_ref() {
                    work.push(s.clone());
                }
            }
            _ => {}
        }
    }
}

fn string(v: &V) -> Option<(&str, bool)> {
    match v {
        V::Str(s, truncated) => Some((s, *truncated)),
        V::Folded(s) => Some((s, false)),
        _ => None,
    }
}

fn graph_module(
    args: &[V],
    body_at: usize,
    block_at: Option<usize>,
    loc: &Location,
    out: &mut Vec<Finding>,
) {
    let mut found = false;
    if let Some(V::Dict(Some(d))) = args.get(body_at) {
        let d = d.borrow();
        for key in ["_code", "code"] {
            if let Some((_, v)) = d
                .iter()
                .find(|(k, _)| string(k).is_some_and(|(s, _)| s == key))
            {
                if let Some((s, t)) = string(v) {
                    // Owned copy: the borrow of the dict ends here.
                    out_code(key, s, t, loc, out);
                    found = true;
                }
                break;
            }
        }
    }
    if !found {
        out.push(Finding::new(
            RuleId::ContentNotScanned,
            loc.clone(),
            "the pickle rebuilds a torch.fx GraphModule whose `_code` is not a constant string: the code exec'd on load was not analysed",
        ));
    }
    if let Some(i) = block_at {
        match args.get(i).and_then(string) {
            Some((s, t)) => out_code("import_block", s, t, loc, out),
            None => out.push(Finding::new(
                RuleId::ContentNotScanned,
                loc.clone(),
                "the pickle rebuilds a torch.fx GraphModule whose `import_block` is not a constant string: the code exec'd on load was not analysed",
            )),
        }
    }
}

fn out_code(name: &str, code: &str, truncated: bool, loc: &Location, out: &mut Vec<Finding>) {
    let analysis = crate::python::analyze(code, &[]);
    let base = loc.member(name);
    let at = |line: u32, column: u32| Location {
        line: Some(line),
        column: Some(column),
        ..base.clone()
    };
    let when = format!(
        "`{name}` of a pickled torch.fx GraphModule, exec'd by reduce_graph_module while unpickling"
    );
    out.extend(behaviour_findings(&analysis, &at, &when));
    if truncated {
        out.push(Finding::new(
            RuleId::ContentNotScanned,
            base,
            format!("the GraphModule's `{name}` is longer than the part of a string modelgate keeps; only its beginning was analysed"),
        ));
    }
}
