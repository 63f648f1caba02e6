//! A symbolic emulator of CPython's C unpickler (`Modules/_pickle.c`), protocols 0–5.
//!
//! It keeps the real stack, the mark stack (the C unpickler's `marks` and `fence`) and the
//! memo, so that what reaches `find_class` and `REDUCE` here is exactly what would reach
//! them in a loader — whatever tricks put it there (memo copies, POP before PUT, marks,
//! DUP, frames). Nothing is imported or called: globals become symbolic values, calls
//! become call records, and the imports are classified in `globals.rs`.
//!
//! Values are reference-counted so that DUP, GET and TUPLE share instead of copying: a
//! "billion laughs" built from memo references costs a pointer per reference.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Instant;

use super::fold;
use super::globals::{Class, Tier, Use};
use super::text;
use crate::limits::Limits;
use crate::source::ByteSource;

/// Longest string or bytes prefix kept as a value (longer ones keep their length only).
const KEEP_STR: usize = 64 * 1024;
/// Characters of a string a retaining machine keeps.
const RETAIN_KEEP_STR: usize = 256 << 20;
/// Longest text-opcode line accepted (protocol 0 arrays can be long escaped lines).
const BUF_SIZE: usize = 256 * 1024;
/// Longest rendered call evidence.
const EVIDENCE_MAX: usize = 400;

#[derive(Clone, Debug)]
pub enum V {
    None,
    Bool(bool),
    Int(i64),
    BigInt,
    Float(f64),
    /// A string; `true` when truncated to [`KEEP_STR`].
    Str(Rc<str>, bool),
    Bytes(Rc<BytesV>),
    Global(u32),
    Call(Rc<CallV>),
    Tuple(Rc<[V]>),
    List,
    /// A list whose items are kept (retaining machines only: `modelgate convert`).
    Items(ListItems),
    /// A dict; the first [`DICT_KEEP`] items are kept (joblib's array records are read
    /// from them), all of them in a retaining machine.
    Dict(Option<DictItems>),
    Set,
    FrozenSet,
    ByteArray,
    Persistent,
    /// A persistent id with the value it was loaded from (retaining machines only: a
    /// PyTorch storage reference `('storage', type, key, location, numel)`).
    PersistentId(Rc<V>),
    Unknown,
    /// A string computed in the stream by pure builtins on constants (see `fold.rs`): its
    /// value is known, but a reader of the bytes does not see it.
    Folded(Rc<str>),
    /// A pure str/bytes method bound to a constant (`getattr("", "join")`).
    Method(Rc<(fold::Const, String)>),
    /// `n` plain data values (numbers, strings, bytes) deep in the stack above the last
    /// MARK, summarised into one entry: a list of five million ints is built on the stack
    /// before APPENDS takes it, and materialising each value hit the stack bound (see
    /// [`Machine::summarise`]).
    Many(u64),
}

/// Values nest as deep as the stream makes them (a million TUPLE1 opcodes build a
/// million-deep tuple), so they are dropped with a heap worklist: the derived recursive
/// drop overflowed the stack on such a pickle (see fuzz/README.md).
impl Drop for V {
    fn drop(&mut self) {
        // Leaves (numbers, strings, globals, …) own no values: nothing to unroll.
        if !matches!(
            self,
            V::Tuple(_) | V::Call(_) | V::Dict(Some(_)) | V::Items(_) | V::PersistentId(_)
        ) {
            return;
        }
        let mut work = Vec::new();
        take_children(self, &mut work);
        while let Some(mut v) = work.pop() {
            take_children(&mut v, &mut work);
        }
    }
}

/// Moves the children of `v` into `work` when `v` holds the last reference to them, so
/// that dropping `v` itself does not recurse.
#[inline]
fn take_children(v: &mut V, work: &mut Vec<V>) {
    match v {
        V::Tuple(items) => {
            if let Some(items) = Rc::get_mut(items) {
                work.extend(items.iter_mut().map(|it| std::mem::replace(it, V::None)));
            }
        }
        V::Call(c) => {
            if let Some(c) = Rc::get_mut(c) {
                work.push(std::mem::replace(&mut c.func, V::None));
                work.push(std::mem::replace(&mut c.args, V::None));
                work.extend(c.state.get_mut().take());
                work.extend(c.contents.get_mut().take());
            }
        }
        V::Dict(Some(d)) => {
            if let Some(d) = Rc::get_mut(d) {
                for (k, v) in d.get_mut().drain(..) {
                    work.push(k);
                    work.push(v);
                }
            }
        }
        V::Items(items) => {
            if let Some(items) = Rc::get_mut(items) {
                work.append(items.get_mut());
            }
        }
        V::PersistentId(pid) => {
            if let Some(pid) = Rc::get_mut(pid) {
                work.push(std::mem::replace(pid, V::None));
            }
        }
        _ => {}
    }
}

/// The kept items of a tracked dict, shared between the stack and the memo.
pub type DictItems = Rc<RefCell<Vec<(V, V)>>>;

/// The items of a retained list.
pub type ListItems = Rc<RefCell<Vec<V>>>;

/// Most container items a retaining machine keeps in all (the entries of a state dict and
/// the arguments of its tensor rebuilds); past it the run stops with a limit.
const RETAIN_MAX_ITEMS: u64 = 50_000_000;

#[derive(Debug)]
pub struct BytesV {
    pub len: u64,
    /// Where the bytes sit in the source, when they are a contiguous run of it.
    pub offset: Option<u64>,
    pub preview: Box<[u8]>,
}

#[derive(Debug)]
pub struct CallV {
    pub func: V,
    pub args: V,
    /// The first BUILD state applied to the result (`__setstate__`).
    pub state: RefCell<Option<V>>,
    /// Items given to the result by SETITEM(S) or APPEND(S) (`OrderedDict()` then
    /// SETITEMS is how a PyTorch state dict is built): a [`V::Dict`] or [`V::Items`],
    /// kept by retaining machines only.
    pub contents: RefCell<Option<V>>,
}

/// Items kept per dict.
const DICT_KEEP: usize = 64;
/// Items kept per list outside a retaining machine.
const LIST_KEEP: usize = 32;
/// Stack entries above the innermost MARK kept as they are at its bottom and top when
/// the rest is summarised, and how many more accumulate before a summarising pass.
const SUMMARY_HEAD: usize = 1024;
const SUMMARY_TAIL: usize = 64;
const SUMMARY_BATCH: usize = 4096;
/// joblib object arrays inside object arrays: each level is a machine on the Rust stack,
/// so a few hundred levels overflowed a thread's stack (see fuzz/README.md).
const MAX_EMBED_DEPTH: u32 = 32;
/// Dotted components of a global's name passed to `classify`, which looks at every split
/// of the walk: a 256 KiB `a.a.a…` name cost quadratic time and gigabytes (see
/// fuzz/README.md). Longer walks keep their first and last components; any dotted name is at
/// least a dynamic import, whatever it resolves to.
const MAX_NAME_PARTS: usize = 16;
/// Nested deserialiser arguments queued for a scan per pickle.
pub const MAX_NESTED: usize = 1024;

/// One distinct global imported by the stream.
#[derive(Clone, Debug)]
pub struct GlobalUse {
    pub module: String,
    pub name: String,
    pub class: Class,
    /// Offset of the first opcode that imported it.
    pub offset: u64,
    /// The first (or most complete) call made with it, rendered: `posix.system("echo")`.
    pub call: Option<String>,
    /// How it was imported: `GLOBAL`, `STACK_GLOBAL`, `INST`, or `getattr` for an
    /// attribute taken from another global with `builtins.getattr(global, "name")`.
    pub opcode: &'static str,
    /// `builtins.getattr`: judged by its uses. Python pickles every bound method as
    /// `getattr(owner, "name")` (`zoneinfo.ZoneInfo._unpickle`), so a getattr whose every
    /// use is a call on a constant global with a constant name is that attribute — which
    /// is classified as a global of its own — and not a resolver.
    pub deferred: bool,
    /// Times the value was pushed on the stack, and times it was consumed by such a
    /// constant call. More pushes than clean calls means it went somewhere else.
    pub pushes: u32,
    pub clean_calls: u32,
    /// Times it was called with arguments (REDUCE, INST, OBJ), and rebuilt as an object
    /// (NEWOBJ, `copyreg._reconstructor` / `__newobj__`).
    pub called: u32,
    pub constructed: u32,
    /// Calls of a nested deserialiser whose bytes argument is a run of the source queued
    /// for a nested scan ([`PickleRun::nested`]).
    pub nested_scanned: u32,
}

impl GlobalUse {
    /// The most this stream does with the global.
    pub fn max_use(&self) -> Use {
        if self.called > 0 {
            Use::Call
        } else if self.constructed > 0 {
            Use::Object
        } else {
            Use::Ref
        }
    }

    /// The tier that counts for reporting: a safe global used for more than its entry
    /// vets is unknown.
    pub fn tier(&self) -> Tier {
        if self.deferred && self.pushes <= self.clean_calls && self.clean_calls > 0 {
            Tier::Safe
        } else if self.class.tier == Tier::Safe && self.max_use() > self.class.max_use {
            Tier::Unknown
        } else {
            self.class.tier
        }
    }

    /// Why it has [`GlobalUse::tier`], for the finding message.
    pub fn why(&self) -> String {
        if self.class.tier == Tier::Safe && self.tier() == Tier::Unknown {
            format!(
                "on the allowlist only when {}, and this pickle has it {}",
                self.class.max_use.describe(),
                self.max_use().describe()
            )
        } else {
            self.class.why.to_string()
        }
    }
}

/// Something suspicious that is not a plain global import.
#[derive(Clone, Debug)]
pub struct Dynamic {
    pub offset: u64,
    pub what: String,
}

#[derive(Debug)]
pub enum Stop {
    Malformed(String),
    Limit(String),
    Io(String),
}

/// The outcome of emulating one pickle (up to and including STOP, or up to an error).
#[derive(Debug, Default)]
pub struct PickleRun {
    pub start: u64,
    /// Offset just after STOP, when the pickle completed.
    pub end: Option<u64>,
    pub globals: Vec<GlobalUse>,
    pub dynamic: Vec<Dynamic>,
    /// Calls of nested deserialisers whose bytes argument is a contiguous run of the
    /// source: `(offset, len)`, scanned recursively by the caller.
    pub nested: Vec<(u64, u64)>,
    pub error: Option<(u64, Stop)>,
    pub opcodes: u64,
    pub protocol: u8,
    /// Persistent ids seen (PyTorch storages).
    pub persistent_ids: u64,
    /// The value STOP returned (retaining machines only).
    pub result: Option<V>,
    /// Values of a retained graph that can close a cycle, cleared when the run is dropped.
    filled: Vec<V>,
    /// Pickles embedded in this one's byte stream (joblib object arrays).
    pub embedded: Vec<PickleRun>,
    /// An argument read crossed the end of a FRAME: a loader reading from a stream
    /// without `peek()` reads it differently (see [`Machine::stream_reader`]).
    pub straddled: bool,
}

pub struct Machine<'a> {
    input: Input<'a>,
    limits: &'a Limits,
    user_allowed: &'a dyn Fn(&str, &str) -> bool,
    stack: Vec<V>,
    marks: Vec<usize>,
    memo: Vec<Option<V>>,
    memo_sparse: HashMap<u64, V>,
    memo_len: usize,
    global_ids: HashMap<(Rc<str>, Rc<str>), u32>,
    run: PickleRun,
    deadline: Option<Instant>,
    /// Dict contents are only needed for joblib's array records; keeping them for every
    /// dict would double the memory of pickles with millions of small dicts.
    track_dicts: bool,
    /// Dicts given items and instances given a BUILD state: the only values that can
    /// close a reference cycle (a dict holding itself, `inst.__dict__` holding `inst`).
    /// Their contents are cleared when the run ends so that cycles are not leaked.
    filled: Vec<V>,
    /// How many joblib object arrays this machine is embedded in.
    embed_depth: u32,
    /// The loader has a `persistent_load` (torch's unpicklers do; `pickle.load` does not,
    /// and fails at the first PERSID/BINPERSID).
    persistent_load: bool,
    /// Keep every value (lists, dicts, persistent ids, the result) for a caller that reads
    /// the object graph (`modelgate convert`), within [`RETAIN_MAX_ITEMS`].
    retain: bool,
    retained: u64,
    /// Most container items kept before the run stops with a limit.
    retain_max: u64,
    /// What [`Machine::top`] shows for a value that was summarised.
    unknown: V,
    /// `copyreg.add_extension(module, name, code)` calls made by the stream.
    extensions: HashMap<i64, (Rc<str>, Rc<str>)>,
}

impl<'a> Machine<'a> {
    pub fn new(
        src: &'a dyn ByteSource,
        start: u64,
        limits: &'a Limits,
        user_allowed: &'a dyn Fn(&str, &str) -> bool,
        deadline: Option<Instant>,
    ) -> Machine<'a> {
        Machine {
            input: Input::new(src, start),
            limits,
            user_allowed,
            stack: Vec::new(),
            marks: Vec::new(),
            memo: Vec::new(),
            memo_sparse: HashMap::new(),
            memo_len: 0,
            global_ids: HashMap::new(),
            run: {
                let mut run = PickleRun::default();
                run.start = start;
                run
            },
            deadline,
            track_dicts: false,
            filled: Vec::new(),
            embed_depth: 0,
            persistent_load: true,
            retain: false,
            retained: 0,
            retain_max: RETAIN_MAX_ITEMS,
            unknown: V::Unknown,
            extensions: HashMap::new(),
        }
    }

    /// A machine that reads as CPython's C unpickler does from a file object without
    /// `peek()` (`io.BytesIO`: `torch.load`'s zip records, `pickle.load(io.BytesIO(b))`):
    /// a FRAME is read into the unpickler's buffer, and an argument that does not fit in
    /// what is left of the buffer is read whole from the stream after it, the rest of the
    /// buffer being dropped (`_Unpickler_ReadImpl`, `_Unpickler_Readline`); byte string
    /// payloads (`_Unpickler_ReadInto`) continue from the buffer into the stream.
    /// `pickle.loads` and a file with `peek()` read the same bytes contiguously.
    pub fn stream_reader(mut self) -> Machine<'a> {
        self.input.nopeek = true;
        self
    }

    /// A machine that keeps the whole object graph (every list and dict item, persistent
    /// ids, the value STOP returns in [`PickleRun::result`]). Scanning never needs it.
    pub fn retaining(mut self) -> Machine<'a> {
        self.retain = true;
        self.track_dicts = true;
        self
    }

    /// Retaining, stopping with a limit once more than `n` container items are kept (a
    /// quick probe of whether a file is a state dict, not a conversion).
    pub fn retaining_at_most(self, n: u64) -> Machine<'a> {
        let mut m = self.retaining();
        m.retain_max = n.min(RETAIN_MAX_ITEMS);
        m
    }

    /// The dict SETITEM(S) fill: the dict at the top of the stack when dicts are tracked,
    /// or (retaining) the contents of a call result such as `OrderedDict()`. Fails like
    /// CPython when the stack is empty above the mark.
    fn dict_at_top(&mut self) -> Result<Option<DictItems>, Stop> {
        let top = self.top()?.clone();
        Ok(match &top {
            V::Dict(Some(d)) if self.track_dicts => Some(d.clone()),
            V::Call(c) if self.retain => {
                let mut contents = c.contents.borrow_mut();
                if contents.is_none() {
                    *contents = Some(V::Dict(Some(Rc::default())));
                    self.filled.push(V::Call(c.clone()));
                }
                match contents.as_ref() {
                    Some(V::Dict(Some(d))) => Some(d.clone()),
                    _ => None,
                }
            }
            _ => None,
        })
    }

    /// APPEND(S) on the value at the top: a list keeps its first [`LIST_KEEP`] items (what
    /// folding `"".join([...])` needs), every item in a retaining machine. An item that can
    /// close a cycle registers the list for release.
    fn extend_list_at_top(&mut self, items: Vec<V>) -> Result<(), Stop> {
        let Some(l) = self.list_at_top()? else {
            return Ok(());
        };
        if self.retain {
            self.count_retained(items.len())?;
            l.borrow_mut().extend(items);
            return Ok(());
        }
        let room = LIST_KEEP.saturating_sub(l.borrow().len());
        let mut cyclic = false;
        for v in items.into_iter().take(room) {
            // Anything but plain data can reach a container (a tuple holding this
            // very list closes a cycle too: `l.append((l,))`).
            cyclic |= plain_count(&v).is_none();
            l.borrow_mut().push(v);
        }
        if cyclic {
            self.filled.push(V::Items(l));
        }
        Ok(())
    }

    /// The list APPEND(S) fill: a list, or (retaining) a call result's contents.
    fn list_at_top(&mut self) -> Result<Option<ListItems>, Stop> {
        let top = self.top()?.clone();
        if !self.retain {
            return Ok(match &top {
                V::Items(l) => Some(l.clone()),
                _ => None,
            });
        }
        Ok(match &top {
            V::Items(l) => Some(l.clone()),
            V::Call(c) => {
                let mut contents = c.contents.borrow_mut();
                if contents.is_none() {
                    *contents = Some(V::Items(Rc::default()));
                    self.filled.push(V::Call(c.clone()));
                }
                match contents.as_ref() {
                    Some(V::Items(l)) => Some(l.clone()),
                    _ => None,
                }
            }
            _ => None,
        })
    }

    /// A GLOBAL (strict UTF-8) or INST (strict ASCII) argument, as `load_global` and
    /// `load_inst` decode it; an empty line is an error there.
    fn name_line(&mut self, ascii: bool) -> Result<Rc<str>, Stop> {
        let line = self.input.line()?;
        if line.head.is_empty() {
            return self.malformed("pickle data was truncated");
        }
        if ascii && !line.head.is_ascii() {
            return self.malformed("'ascii' codec can't decode the module or name");
        }
        match std::str::from_utf8(&line.head) {
            Ok(s) => Ok(Rc::from(s)),
            Err(_) => self.malformed("'utf-8' codec can't decode the module or name"),
        }
    }

    fn count_retained(&mut self, n: usize) -> Result<(), Stop> {
        self.retained = self.retained.saturating_add(n as u64);
        if self.retained > self.retain_max {
            return Err(Stop::Limit(format!(
                "more than {} container items kept",
                self.retain_max
            )));
        }
        Ok(())
    }

    /// As `pickle.load` reads: without a `persistent_load`, so PERSID and BINPERSID fail.
    pub fn without_persistent_load(mut self) -> Machine<'a> {
        self.persistent_load = false;
        self
    }

    /// Runs to STOP or to the first error. Findings made before an error are kept: a loader
    /// has executed every opcode before the broken one.
    pub fn run(mut self) -> PickleRun {
        loop {
            let at = self.input.pos;
            match self.step() {
                Ok(true) => {
                    self.run.end = Some(self.input.pos);
                    break;
                }
                Ok(false) => {}
                Err(e) => {
                    self.run.error = Some((at, e));
                    break;
                }
            }
        }
        self.run.straddled = self.input.straddled;
        let filled = std::mem::take(&mut self.filled);
        if self.retain {
            // The caller reads the graph; the run breaks its cycles when dropped.
            self.run.filled = filled;
        } else {
            release(filled);
        }
        self.run
    }

    fn malformed<T>(&self, msg: impl Into<String>) -> Result<T, Stop> {
        Err(Stop::Malformed(msg.into()))
    }

    fn push(&mut self, v: V) -> Result<(), Stop> {
        if self.stack.len() + self.marks.len() >= self.limits.max_pickle_stack {
            return Err(Stop::Limit(format!(
                "stack depth over {}",
                self.limits.max_pickle_stack
            )));
        }
        if let V::Global(id) = &v {
            if let Some(g) = self.run.globals.get_mut(*id as usize) {
                g.pushes = g.pushes.saturating_add(1);
            }
        }
        self.stack.push(v);
        let above = self.stack.len().saturating_sub(self.fence());
        if !self.retain && above > SUMMARY_HEAD + SUMMARY_TAIL + SUMMARY_BATCH {
            self.summarise();
        }
        Ok(())
    }

    /// Folds plain data values above the innermost MARK into [`V::Many`] runs, keeping the
    /// first [`SUMMARY_HEAD`] and the last [`SUMMARY_TAIL`] entries as they are: opcodes
    /// take single values from the top (REDUCE, STACK_GLOBAL, SETITEM), joblib reads the
    /// first dict items, and only MARK-consuming opcodes reach the middle, which they take
    /// as a whole. No MARK sits above the fence, so mark positions do not move. Amortised
    /// O(1) per push.
    fn summarise(&mut self) {
        let from = self.fence() + SUMMARY_HEAD;
        let to = self.stack.len() - SUMMARY_TAIL;
        if from >= to {
            return;
        }
        let middle: Vec<V> = self.stack.drain(from..to).collect();
        let mut out: Vec<V> = Vec::with_capacity(8);
        for v in middle {
            match (out.last_mut(), plain_count(&v)) {
                (Some(V::Many(n)), Some(k)) => *n += k,
                (_, Some(k)) => out.push(V::Many(k)),
                (_, None) => out.push(v),
            }
        }
        let tail = self.stack.split_off(from);
        self.stack.extend(out);
        self.stack.extend(tail);
    }

    fn fence(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn pop(&mut self) -> Result<V, Stop> {
        if self.stack.len() <= self.fence() {
            return self.malformed("unpickling stack underflow");
        }
        if let Some(V::Many(n)) = self.stack.last_mut() {
            // A value from a summarised run: plain data whose value was not kept.
            if *n > 1 {
                *n -= 1;
                return Ok(V::Unknown);
            }
        }
        Ok(match self.stack.pop() {
            Some(V::Many(_)) | None => V::Unknown,
            Some(v) => v,
        })
    }

    fn top(&self) -> Result<&V, Stop> {
        if self.stack.len() <= self.fence() {
            return self.malformed("unpickling stack underflow");
        }
        match self.stack.last() {
            // One value of a summarised run: plain data, not kept.
            Some(V::Many(_)) => Ok(&self.unknown),
            Some(v) => Ok(v),
            None => self.malformed("unpickling stack underflow"),
        }
    }

    /// Pops everything above the innermost MARK (CPython's `marker()` + `Pdata_poplist`).
    fn pop_mark(&mut self) -> Result<Vec<V>, Stop> {
        let Some(mark) = self.marks.pop() else {
            return self.malformed("could not find MARK");
        };
        let mark = mark.min(self.stack.len());
        Ok(self.stack.split_off(mark))
    }

    fn memo_put(&mut self, idx: u64, v: V) -> Result<(), Stop> {
        let fresh;
        if let Some(slot) = self.memo.get_mut(idx as usize) {
            fresh = slot.is_none();
            *slot = Some(v);
        } else if idx as usize == self.memo.len() && !self.memo_sparse.contains_key(&idx) {
            fresh = true;
            self.memo.push(Some(v));
        } else {
            fresh = self.memo_sparse.insert(idx, v).is_none();
        }
        if fresh {
            self.memo_len += 1;
            if self.memo_len > self.limits.max_pickle_memo {
                return Err(Stop::Limit(format!(
                    "memo over {} entries",
                    self.limits.max_pickle_memo
                )));
            }
        }
        Ok(())
    }

    fn memo_get(&self, idx: u64) -> Result<V, Stop> {
        let v = if let Some(slot) = self.memo.get(idx as usize) {
            slot.clone()
        } else {
            self.memo_sparse.get(&idx).cloned()
        };
        v.ok_or_else(|| Stop::Malformed(format!("memo value not found at index {idx}")))
    }

    fn import(&mut self, module: Rc<str>, name: Rc<str>, offset: u64, opcode: &'static str) -> V {
        if let Some(id) = self.global_ids.get(&(module.clone(), name.clone())) {
            return V::Global(*id);
        }
        if &*name == "NumpyArrayWrapper" {
            self.track_dicts = true;
        }
        // Under protocol < 3, find_class maps Python 2 names first (`_compat_pickle`).
        let class = super::compat::classify_loaded(
            &module,
            &bounded_name(&name),
            self.run.protocol,
            self.user_allowed,
        );
        if name.contains('.') && class.tier != Tier::Safe {
            // A dotted name is an attribute walk done by find_class: it hides the real
            // import from readers, whatever it resolves to.
            self.run.dynamic.push(Dynamic {
                offset,
                what: if opcode == "getattr" {
                    format!("builtins.getattr takes `{name}` from `{module}`: an attribute walk")
                } else {
                    format!("{opcode} {module}.{name}: find_class walks the attribute path `{name}` from module `{module}`")
                },
            });
        }
        let id = self.run.globals.len() as u32;
        let deferred = matches!(&*name, "getattr" | "type")
            && matches!(&*module, "builtins" | "__builtin__" | "__builtins__");
        self.run.globals.push(GlobalUse {
            module: module.to_string(),
            name: name.to_string(),
            class,
            offset,
            call: None,
            opcode,
            deferred,
            pushes: 0,
            clean_calls: 0,
            called: 0,
            constructed: 0,
            nested_scanned: 0,
        });
        self.global_ids.insert((module, name), id);
        V::Global(id)
    }

    /// Records a call `func(args)`; keeps evidence for the global at the root of `func`.
    fn call(&mut self, func: V, args: V, at: u64) -> V {
        self.call_as(func, args, at, Use::Call)
    }

    /// NEWOBJ / NEWOBJ_EX: `cls.__new__(cls, *args)`, no `__init__`.
    fn construct(&mut self, cls: V, args: V, at: u64) -> V {
        self.call_as(cls, args, at, Use::Object)
    }

    /// Records how `func` is used (`how`: called, or constructed by NEWOBJ), and what the
    /// copyreg reconstructors construct; then the call itself.
    fn call_as(&mut self, func: V, args: V, at: u64, how: Use) -> V {
        if let V::Global(id) = &func {
            let reconstructor = self.run.globals.get(*id as usize).is_some_and(|g| {
                matches!(super::globals::alias(&g.module), "copyreg")
                    && matches!(
                        g.name.as_str(),
                        "_reconstructor" | "__newobj__" | "__newobj_ex__"
                    )
            });
            if let Some(g) = self.run.globals.get_mut(*id as usize) {
                match how {
                    Use::Object => g.constructed = g.constructed.saturating_add(1),
                    _ => g.called = g.called.saturating_add(1),
                }
            }
            if reconstructor {
                if let Some(V::Global(cls)) = first_arg(&args) {
                    if let Some(g) = self.run.globals.get_mut(*cls as usize) {
                        g.constructed = g.constructed.saturating_add(1);
                    }
                }
            }
        }
        if let (V::Global(f), V::Tuple(items)) = (&func, &args) {
            let f = *f as usize;
            let deferred = self.run.globals.get(f).filter(|g| g.deferred);
            if let Some(fg) = deferred {
                let is_type = fg.name == "type";
                if is_type {
                    // `type(None)`, `type(...)`, `type(NotImplemented)`: how pickle saves
                    // those types. One constant argument; three build a class.
                    if let [arg] = &items[..] {
                        if self.constant_type_arg(arg) {
                            if let Some(g) = self.run.globals.get_mut(f) {
                                g.clean_calls += 1;
                            }
                            return V::Unknown;
                        }
                    }
                } else if let [owner_v, V::Str(attr, false)] = &items[..] {
                    // `getattr(C, "name")` on a global, or on an object rebuilt from an
                    // allowlisted class (a bound method stored as a value): that attribute
                    // of the class, classified as a global of its own.
                    let owner = match owner_v {
                        V::Global(o) => Some(*o),
                        V::Call(c) => self.rebuilt_class(c),
                        _ => None,
                    };
                    let owner = owner.and_then(|o| self.run.globals.get(o as usize));
                    if let Some(o) = owner {
                        let (m, n) = (o.module.clone(), format!("{}.{attr}", o.name));
                        if let Some(g) = self.run.globals.get_mut(f) {
                            g.clean_calls += 1;
                        }
                        return self.import(
                            Rc::from(m.as_str()),
                            Rc::from(n.as_str()),
                            at,
                            "getattr",
                        );
                    }
                }
            }
        }
        let root = root_global(&func).map(|id| id as usize);
        let nested_func = matches!(func, V::Call(_));
        let root = root.and_then(|id| Some((id, self.run.globals.get(id)?)));
        if let Some((id, g)) = root {
            let (wrapper, tier, why, has_call) =
                (g.class.wrapper, g.class.tier, g.class.why, g.call.is_some());
            if wrapper {
                // functools.partial(f, ...) is as safe as f; f is classified where it was
                // imported. A computed f is not something ordinary files contain. dill's
                // `_create_array(f, ...)` calls f at once: f counts as called.
                let first = first_arg(&args);
                if let (Some(V::Global(fid)), "_create_array") = (first, g.name.as_str()) {
                    let fid = *fid as usize;
                    if let Some(fg) = self.run.globals.get_mut(fid) {
                        fg.called = fg.called.saturating_add(1);
                    }
                }
                let computed = !matches!(first, Some(V::Global(_)) | None);
                if let (true, Some(g)) = (computed, self.run.globals.get(id)) {
                    let what = format!(
                        "{}.{} wraps a computed callable: {}",
                        g.module,
                        g.name,
                        self.render_call(&func, &args)
                    );
                    self.run.dynamic.push(Dynamic { offset: at, what });
                }
            } else if tier != Tier::Safe && (!has_call || nested_func) {
                let rendered = self.render_call(&func, &args);
                if let Some(g) = self.run.globals.get_mut(id) {
                    g.call = Some(rendered);
                }
            }
            if !wrapper && tier == Tier::Code && why.starts_with("deserialises") {
                // Every call's bytes, when they are a run of the source: a checkpoint
                // pickled with plain `pickle` calls `torch.storage._load_from_bytes` once
                // per tensor. The same bytes object passed again (from the memo) is
                // scanned once, so nested scans cover disjoint bytes; their count is
                // bounded here and by the file's archive-entry budget (`report_run`).
                if let Some(V::Bytes(b)) = first_arg(&args) {
                    if let Some(off) = b.offset {
                        let known = self.run.nested.iter().any(|&(o, _)| o == off);
                        let queued = !known && self.run.nested.len() < MAX_NESTED;
                        if queued {
                            self.run.nested.push((off, b.len));
                        }
                        if known || queued {
                            if let Some(g) = self.run.globals.get_mut(id) {
                                g.nested_scanned = g.nested_scanned.saturating_add(1);
                            }
                        }
                    }
                }
            }
        }
        if let Some(v) = self.fold_call(&func, &args) {
            return v;
        }
        V::Call(Rc::new(CallV {
            func,
            args,
            state: RefCell::new(None),
            contents: RefCell::new(None),
        }))
    }

    /// Whether `v` is an argument `type(v)` gives a plain type for: None, a number, a
    /// string, or the `Ellipsis` / `NotImplemented` singletons.
    fn constant_type_arg(&self, v: &V) -> bool {
        match v {
            V::None | V::Bool(_) | V::Int(_) | V::Float(_) | V::Str(..) => true,
            V::Global(id) => self.run.globals.get(*id as usize).is_some_and(|g| {
                matches!(super::globals::alias(&g.module), "builtins")
                    && matches!(g.name.as_str(), "Ellipsis" | "NotImplemented")
            }),
            _ => false,
        }
    }

    /// The class an object value was rebuilt from, when that class is allowlisted for it:
    /// `C(...)` / `C.__new__(C)` (NEWOBJ), or `copyreg._reconstructor(C, ...)`.
    fn rebuilt_class(&self, c: &CallV) -> Option<u32> {
        let V::Global(f) = &c.func else {
            return None;
        };
        let g = self.run.globals.get(*f as usize)?;
        let cls = if matches!(super::globals::alias(&g.module), "copyreg")
            && matches!(g.name.as_str(), "_reconstructor" | "__newobj__")
        {
            match first_arg(&c.args) {
                Some(V::Global(cls)) => *cls,
                _ => return None,
            }
        } else {
            *f
        };
        let cg = self.run.globals.get(cls as usize)?;
        (cg.class.tier == Tier::Safe && !cg.class.wrapper && !cg.deferred).then_some(cls)
    }

    /// A constant view of `v`, for folding.
    fn constant(&self, v: &V, depth: u32) -> Option<fold::Const> {
        if depth > 4 {
            return None;
        }
        Some(match v {
            V::Str(s, false) | V::Folded(s) => fold::Const::Str(s.to_string()),
            V::Bytes(b) if b.preview.len() as u64 == b.len => {
                fold::Const::Bytes(b.preview.to_vec())
            }
            V::Int(i) => fold::Const::Int(*i),
            V::Bool(b) => fold::Const::Int(i64::from(*b)),
            V::None => fold::Const::None,
            V::Tuple(items) => fold::Const::Seq(
                items
                    .iter()
                    .map(|i| self.constant(i, depth + 1))
                    .collect::<Option<_>>()?,
            ),
            V::Items(l) if l.borrow().len() <= LIST_KEEP => fold::Const::Seq(
                l.borrow()
                    .iter()
                    .map(|i| self.constant(i, depth + 1))
                    .collect::<Option<_>>()?,
            ),
            V::Global(id) => {
                let g = self.run.globals.get(*id as usize)?;
                match (super::globals::alias(&g.module), g.name.as_str()) {
                    ("builtins", t @ ("str" | "bytes" | "bytearray")) => {
                        fold::Const::Type(match t {
                            "str" => "str",
                            "bytes" => "bytes",
                            _ => "bytearray",
                        })
                    }
                    _ => return None,
                }
            }
            _ => return None,
        })
    }

    /// What `func(*args)` returns when it is a pure builtin on constants (`fold.rs`), and
    /// `copyreg.add_extension` registrations (so that a later EXT opcode names its
    /// global). `None` when the call is not folded.
    fn fold_call(&mut self, func: &V, args: &V) -> Option<V> {
        let V::Tuple(items) = args else {
            return None;
        };
        let consts: Option<Vec<fold::Const>> = items.iter().map(|i| self.constant(i, 0)).collect();
        let consts = consts?;
        let result = match func {
            V::Method(m) => fold::call_method(&m.0, &m.1, &consts)?,
            V::Global(id) => {
                let g = self.run.globals.get(*id as usize)?;
                let (module, name) = (super::globals::alias(&g.module).to_string(), g.name.clone());
                match (module.as_str(), name.as_str(), consts.as_slice()) {
                    ("builtins", "getattr", [recv, fold::Const::Str(attr)])
                        if fold::is_pure_method(attr.as_str())
                            && !matches!(recv, fold::Const::Seq(_)) =>
                    {
                        return Some(V::Method(Rc::new((recv.clone(), attr.clone()))));
                    }
                    (
                        "copyreg",
                        "add_extension",
                        [fold::Const::Str(m), fold::Const::Str(n), fold::Const::Int(code)],
                    ) => {
                        if self.extensions.len() < 256 {
                            self.extensions
                                .insert(*code, (Rc::from(m.as_str()), Rc::from(n.as_str())));
                        }
                        return None;
                    }
                    (m, n, c) => fold::call_global(m, n, c)?,
                }
            }
            _ => return None,
        };
        Some(match result {
            fold::Const::Str(s) => V::Folded(Rc::from(s.as_str())),
            fold::Const::Bytes(b) => V::Bytes(Rc::new(BytesV {
                len: b.len() as u64,
                offset: None,
                preview: b.into_boxed_slice(),
            })),
            fold::Const::Int(i) => V::Int(i),
            _ => return None,
        })
    }

    fn render_call(&self, func: &V, args: &V) -> String {
        let mut s = String::new();
        self.render(func, 0, &mut s);
        s.push('(');
        match args {
            V::Tuple(items) => {
                for (i, it) in items.iter().enumerate() {
                    if i > 0 {
                        s.push_str(", ");
                    }
                    self.render(it, 1, &mut s);
                    if s.len() > EVIDENCE_MAX {
                        break;
                    }
                }
            }
            other => self.render(other, 1, &mut s),
        }
        s.push(')');
        truncate(&mut s);
        s
    }

    fn render(&self, v: &V, depth: usize, s: &mut String) {
        if s.len() > EVIDENCE_MAX {
            return;
        }
        if depth > 6 {
            s.push('…');
            return;
        }
        match v {
            V::None => s.push_str("None"),
            V::Bool(b) => s.push_str(if *b { "True" } else { "False" }),
            V::Int(i) => s.push_str(&i.to_string()),
            V::BigInt => s.push_str("<int>"),
            V::Float(f) => s.push_str(&f.to_string()),
            V::Str(t, trunc) => {
                let shown: String = t.chars().take(EVIDENCE_MAX).collect();
                s.push_str(&format!("{shown:?}"));
                if *trunc || shown.len() < t.len() {
                    s.push('…');
                }
            }
            V::Bytes(b) => {
                s.push_str("b\"");
                for &c in b.preview.iter().take(64) {
                    if (0x20..0x7f).contains(&c) && c != b'"' && c != b'\\' {
                        s.push(c as char);
                    } else {
                        s.push_str(&format!("\\x{c:02x}"));
                    }
                }
                s.push('"');
                if b.len > 64 {
                    s.push_str(&format!("…<{} bytes>", b.len));
                }
            }
            V::Global(id) => {
                if let Some(g) = self.run.globals.get(*id as usize) {
                    s.push_str(&g.module);
                    s.push('.');
                    s.push_str(&g.name);
                }
            }
            V::Call(c) => {
                self.render(&c.func, depth + 1, s);
                s.push('(');
                match &c.args {
                    V::Tuple(items) => {
                        for (i, it) in items.iter().enumerate() {
                            if i > 0 {
                                s.push_str(", ");
                            }
                            self.render(it, depth + 1, s);
                            if s.len() > EVIDENCE_MAX {
                                break;
                            }
                        }
                    }
                    other => self.render(other, depth + 1, s),
                }
                s.push(')');
            }
            V::Tuple(items) => {
                s.push('(');
                for (i, it) in items.iter().enumerate() {
                    if i > 0 {
                        s.push_str(", ");
                    }
                    self.render(it, depth + 1, s);
                    if s.len() > EVIDENCE_MAX {
                        break;
                    }
                }
                if items.len() == 1 {
                    s.push(',');
                }
                s.push(')');
            }
            V::List | V::Items(_) => s.push_str("[…]"),
            V::Dict(_) => s.push_str("{…}"),
            V::Set | V::FrozenSet => s.push_str("{…}"),
            V::ByteArray => s.push_str("bytearray(…)"),
            V::Persistent | V::PersistentId(_) => s.push_str("<persistent>"),
            V::Many(n) => s.push_str(&format!("<{n} values>")),
            V::Folded(t) => s.push_str(&format!("{t:?}")),
            V::Method(m) => s.push_str(&format!("<method {}>", m.1)),
            V::Unknown => s.push('?'),
        }
    }

    /// joblib's `NumpyArrayWrapper`: joblib's unpickler reads the array's bytes straight
    /// from the stream when it BUILDs one, so the pickle continues after them.
    fn is_joblib_array(&self, func: &V) -> bool {
        let Some(id) = root_global(func) else {
            return false;
        };
        self.run.globals.get(id as usize).is_some_and(|g| {
            g.name == "NumpyArrayWrapper" && g.module.ends_with("joblib.numpy_pickle")
        })
    }

    /// Skips an in-band joblib array exactly as `NumpyArrayWrapper.read_array` reads it:
    /// object arrays are a pickle of their own (scanned), others are an optional padding
    /// byte + padding, then `prod(shape) * itemsize` raw bytes (never read).
    fn read_joblib_array(&mut self, state: &V) -> Result<(), Stop> {
        let V::Dict(Some(d)) = state else {
            return self.malformed("joblib array record without a state dict");
        };
        let get = |key: &str| -> Option<V> {
            d.borrow()
                .iter()
                .find(|(k, _)| matches!(k, V::Str(s, _) if &**s == key))
                .map(|(_, v)| v.clone())
        };
        let dtype = get("dtype");
        let Some(V::Call(dtype)) = &dtype else {
            return self.malformed("joblib array record without a dtype");
        };
        let descr = match first_arg(&dtype.args) {
            Some(V::Str(s, _)) => s.to_string(),
            _ => return self.malformed("joblib array dtype is not a constant"),
        };
        if descr.starts_with('O') {
            // Each embedded pickle runs on the Rust stack of the one around it.
            if self.embed_depth >= MAX_EMBED_DEPTH {
                return Err(Stop::Limit(format!(
                    "joblib object arrays nested more than {MAX_EMBED_DEPTH} deep"
                )));
            }
            let start = self.input.pos;
            let mut sub = Machine::new(
                self.input.src,
                start,
                self.limits,
                self.user_allowed,
                self.deadline,
            );
            sub.embed_depth = self.embed_depth + 1;
            let sub = sub.run();
            let end = sub.end;
            let failed = sub.error.is_some();
            self.run.embedded.push(sub);
            match end {
                Some(e) if !failed => {
                    self.input.pos = e;
                    return Ok(());
                }
                _ => {
                    return Err(Stop::Malformed(
                        "object array inside joblib file is not a complete pickle".into(),
                    ))
                }
            }
        }
        let digits: String = descr
            .chars()
            .skip_while(|c| !c.is_ascii_digit())
            .take_while(|c| c.is_ascii_digit())
            .collect();
        let mut itemsize: u64 = digits.parse().unwrap_or(0);
        if let Some(V::Tuple(st)) = dtype.state.borrow().as_ref() {
            // dtype.__setstate__: (version, byteorder, subdescr, names, fields, elsize, ...)
            if let Some(V::Int(e)) = st.get(5) {
                if *e > 0 {
                    itemsize = *e as u64;
                }
            }
        }
        if descr.starts_with('U')
            && !digits.is_empty()
            && itemsize == digits.parse::<u64>().unwrap_or(0)
        {
            itemsize *= 4;
        }
        let count = match &get("shape") {
            Some(V::Tuple(dims)) => dims.iter().try_fold(1u64, |acc, d| match d {
                V::Int(n) if *n >= 0 => acc.checked_mul(*n as u64),
                _ => None,
            }),
            _ => None,
        };
        let Some(bytes) = count.and_then(|c| c.checked_mul(itemsize)) else {
            return self.malformed("joblib array shape or dtype is not readable");
        };
        if get("numpy_array_alignment_bytes").is_some_and(|v| !matches!(v, V::None)) {
            let pad = self.input.byte()? as u64;
            self.input.take_into(pad, 0)?;
        }
        self.input.take_into(bytes, 0)?;
        Ok(())
    }

    /// Adds items to a tracked dict; a dict is registered in `filled` when it first gets
    /// items, so that its contents are cleared at the end of the run.
    fn fill_dict(&mut self, d: &Rc<RefCell<Vec<(V, V)>>>, items: Vec<V>) -> Result<(), Stop> {
        let was_empty = d.borrow().is_empty();
        let keep = if self.retain {
            self.count_retained(items.len())?;
            usize::MAX
        } else {
            DICT_KEEP
        };
        dict_extend(d, items, keep);
        if was_empty && !d.borrow().is_empty() {
            self.filled.push(V::Dict(Some(d.clone())));
        }
        Ok(())
    }

    fn check_budget(&mut self) -> Result<(), Stop> {
        self.run.opcodes += 1;
        if self.run.opcodes > self.limits.max_pickle_opcodes {
            return Err(Stop::Limit(format!(
                "more than {} opcodes",
                self.limits.max_pickle_opcodes
            )));
        }
        if self.run.opcodes.is_multiple_of(65_536) {
            if let Some(d) = self.deadline {
                if Instant::now() > d {
                    return Err(Stop::Limit("time budget exceeded".into()));
                }
            }
        }
        Ok(())
    }

    fn read_str(&mut self, len: u64) -> Result<V, Stop> {
        // A retaining machine keeps long strings whole: protocol 2 pickles bytes (a NumPy
        // array's data) as `_codecs.encode(str, "latin1")`.
        let keep = if self.retain {
            RETAIN_KEEP_STR
        } else {
            KEEP_STR
        };
        // Fast path: a short string inside the buffer, decoded in place (what `take`
        // would return, without copying it out first).
        if len <= keep as u64 {
            if let Some(b) = self.input.buffered_slice(len) {
                let text: Rc<str> = match std::str::from_utf8(b) {
                    Ok(t) => Rc::from(t),
                    Err(_) => Rc::from(String::from_utf8_lossy(b).as_ref()),
                };
                self.input.pos += len;
                return Ok(V::Str(text, false));
            }
        }
        let (bytes, truncated) = self.input.take(len, keep)?;
        Ok(V::Str(
            Rc::from(String::from_utf8_lossy(&bytes).as_ref()),
            truncated,
        ))
    }

    fn read_bytes(&mut self, len: u64) -> Result<V, Stop> {
        let offset = self.input.pos;
        let (preview, _) = self.input.take_into(len, 256)?;
        Ok(V::Bytes(Rc::new(BytesV {
            len,
            offset: Some(offset),
            preview: preview.into_boxed_slice(),
        })))
    }

    /// Executes one opcode; `Ok(true)` on STOP.
    fn step(&mut self) -> Result<bool, Stop> {
        self.check_budget()?;
        let at = self.input.pos;
        let op = self.input.byte()?;
        match op {
            b'(' => {
                // MARK
                if self.marks.len() + self.stack.len() >= self.limits.max_pickle_stack {
                    return Err(Stop::Limit(format!(
                        "stack depth over {}",
                        self.limits.max_pickle_stack
                    )));
                }
                self.marks.push(self.stack.len());
            }
            b'.' => {
                // STOP: the result is popped; an empty stack is an underflow.
                let result = self.pop()?;
                if self.retain {
                    self.run.result = Some(result);
                }
                return Ok(true);
            }
            b'0' => {
                // POP: pops a MARK if one sits at the top of the stack (CPython load_pop).
                if self.marks.last() == Some(&self.stack.len()) {
                    self.marks.pop();
                } else {
                    self.pop()?;
                }
            }
            b'1' => {
                self.pop_mark()?;
            }
            b'2' => {
                let v = self.top()?.clone();
                self.push(v)?;
            }
            b'F' => {
                let line = self.input.line()?;
                match text::float_op(&line.head) {
                    Some(f) if !line.cut => self.push(V::Float(f))?,
                    _ => return self.malformed("could not convert string to float"),
                }
            }
            b'I' => {
                let line = self.input.line()?;
                let v = match text::int_op(&line.head) {
                    _ if line.cut => V::BigInt,
                    Some(text::IntOp::Bool(b)) => V::Bool(b),
                    Some(text::IntOp::Int(i)) => int_value(i),
                    None => return self.malformed("could not convert string to int"),
                };
                self.push(v)?;
            }
            b'L' => {
                let line = self.input.line()?;
                let v = match text::long_op(&line.head) {
                    _ if line.cut => V::BigInt,
                    Some(i) => int_value(i),
                    None => return self.malformed("invalid literal for int() with base 0"),
                };
                self.push(v)?;
            }
            b'J' => {
                let b = self.input.fixed::<4>()?;
                self.push(V::Int(i32::from_le_bytes(b) as i64))?;
            }
            b'K' => {
                let b = self.input.byte()?;
                self.push(V::Int(b as i64))?;
            }
            b'M' => {
                let b = self.input.fixed::<2>()?;
                self.push(V::Int(u16::from_le_bytes(b) as i64))?;
            }
            0x8a => {
                let n = self.input.byte()? as u64;
                let (b, _) = self.input.take(n, 8)?;
                self.push(long_value(&b, n))?;
            }
            0x8b => {
                let n = i32::from_le_bytes(self.input.fixed::<4>()?);
                if n < 0 {
                    return self.malformed("LONG pickle has negative byte count");
                }
                let (b, _) = self.input.take(n as u64, 8)?;
                self.push(long_value(&b, n as u64))?;
            }
            b'G' => {
                let b = self.input.fixed::<8>()?;
                self.push(V::Float(f64::from_be_bytes(b)))?;
            }
            b'N' => self.push(V::None)?,
            0x88 => self.push(V::Bool(true))?,
            0x89 => self.push(V::Bool(false))?,
            b'S' => {
                let line = self.input.line()?;
                let bytes = text::string_op(&line.head, line.last, line.cut)
                    .map_err(|e| Stop::Malformed(e.into()))?;
                // Decoded as Latin-1 (ASCII, what pickle.load's default encoding
                // accepts, reads the same).
                let s: String = bytes.iter().take(KEEP_STR).map(|&b| b as char).collect();
                let cut = line.cut || bytes.len() > KEEP_STR;
                self.push(V::Str(Rc::from(s.as_str()), cut))?;
            }
            b'V' => {
                let line = self.input.line()?;
                let s = text::raw_unicode_escape(&line.head, KEEP_STR)
                    .map_err(|e| Stop::Malformed(e.into()))?;
                let cut = line.cut || s.len() >= KEEP_STR;
                self.push(V::Str(Rc::from(s.as_str()), cut))?;
            }
            b'T' => {
                let n = i32::from_le_bytes(self.input.fixed::<4>()?);
                if n < 0 {
                    return self.malformed("BINSTRING pickle has negative byte count");
                }
                let v = self.read_str(n as u64)?;
                self.push(v)?;
            }
            b'U' => {
                let n = self.input.byte()? as u64;
                let v = self.read_str(n)?;
                self.push(v)?;
            }
            b'X' => {
                let n = u32::from_le_bytes(self.input.fixed::<4>()?) as u64;
                let v = self.read_str(n)?;
                self.push(v)?;
            }
            0x8c => {
                let n = self.input.byte()? as u64;
                let v = self.read_str(n)?;
                self.push(v)?;
            }
            0x8d => {
                let n = u64::from_le_bytes(self.input.fixed::<8>()?);
                let v = self.read_str(n)?;
                self.push(v)?;
            }
            b'B' => {
                let n = u32::from_le_bytes(self.input.fixed::<4>()?) as u64;
                let v = self.read_bytes(n)?;
                self.push(v)?;
            }
            b'C' => {
                let n = self.input.byte()? as u64;
                let v = self.read_bytes(n)?;
                self.push(v)?;
            }
            0x8e => {
                let n = u64::from_le_bytes(self.input.fixed::<8>()?);
                let v = self.read_bytes(n)?;
                self.push(v)?;
            }
            0x96 => {
                let n = u64::from_le_bytes(self.input.fixed::<8>()?);
                if self.retain {
                    // numpy's protocol-5 arrays are `_frombuffer(bytearray, ...)`: a
                    // reader of the graph needs where the bytes are.
                    let v = self.read_bytes(n)?;
                    self.push(v)?;
                } else {
                    self.input.take_into(n, 0)?;
                    self.push(V::ByteArray)?;
                }
            }
            0x97 => {
                // NEXT_BUFFER: no loader of model files passes out-of-band buffers, so
                // CPython raises here.
                return self.malformed(
                    "pickle stream refers to out-of-band data but no buffers were given",
                );
            }
            0x98 => {
                self.top()?;
            }
            b')' => self.push(V::Tuple(Rc::from(Vec::new())))?,
            b't' => {
                let items = self.pop_mark()?;
                self.push(V::Tuple(Rc::from(items)))?;
            }
            0x85..=0x87 => {
                let n = (op - 0x84) as usize;
                if self.stack.len() < self.fence() + n {
                    return self.malformed("unpickling stack underflow");
                }
                let items = self.stack.split_off(self.stack.len() - n);
                self.push(V::Tuple(Rc::from(items)))?;
            }
            b']' => {
                let l = V::Items(Rc::default());
                if self.retain {
                    self.filled.push(l.clone());
                }
                self.push(l)?;
            }
            b'l' => {
                let items = self.pop_mark()?;
                let l = V::Items(Rc::default());
                if self.retain {
                    self.filled.push(l.clone());
                }
                self.push(l)?;
                self.extend_list_at_top(items)?;
            }
            b'a' => {
                let v = self.pop()?;
                self.extend_list_at_top(vec![v])?;
            }
            b'e' => {
                let items = self.pop_mark()?;
                self.extend_list_at_top(items)?;
            }
            // Untracked dicts carry no allocation: a pickle of a million small dicts
            // must not pay for contents nobody reads.
            b'}' => self.push(V::Dict(self.track_dicts.then(Rc::default)))?,
            b'd' => {
                let items = self.pop_mark()?;
                if !logical_len(&items).is_multiple_of(2) {
                    return self.malformed("odd number of items for DICT");
                }
                let d = if self.track_dicts {
                    let d: Rc<RefCell<Vec<(V, V)>>> = Rc::default();
                    self.fill_dict(&d, items)?;
                    Some(d)
                } else {
                    None
                };
                self.push(V::Dict(d))?;
            }
            b's' => {
                let v = self.pop()?;
                let k = self.pop()?;
                if let Some(d) = self.dict_at_top()? {
                    self.fill_dict(&d, vec![k, v])?;
                }
            }
            b'u' => {
                let items = self.pop_mark()?;
                if !logical_len(&items).is_multiple_of(2) {
                    return self.malformed("odd number of items for SETITEMS");
                }
                if let Some(d) = self.dict_at_top()? {
                    self.fill_dict(&d, items)?;
                }
            }
            0x8f => self.push(V::Set)?,
            0x90 => {
                self.pop_mark()?;
                self.top()?;
            }
            0x91 => {
                self.pop_mark()?;
                self.push(V::FrozenSet)?;
            }
            b'g' => {
                let line = self.input.line()?;
                let idx = text::memo_index(&line.head).map_err(|e| Stop::Malformed(e.into()))?;
                let v = self.memo_get(idx)?;
                self.push(v)?;
            }
            b'h' => {
                let idx = self.input.byte()? as u64;
                let v = self.memo_get(idx)?;
                self.push(v)?;
            }
            b'j' => {
                let idx = u32::from_le_bytes(self.input.fixed::<4>()?) as u64;
                let v = self.memo_get(idx)?;
                self.push(v)?;
            }
            b'p' => {
                let line = self.input.line()?;
                let idx = text::memo_index(&line.head).map_err(|e| Stop::Malformed(e.into()))?;
                let v = self.top()?.clone();
                self.memo_put(idx, v)?;
            }
            b'q' => {
                let idx = self.input.byte()? as u64;
                let v = self.top()?.clone();
                self.memo_put(idx, v)?;
            }
            b'r' => {
                let idx = u32::from_le_bytes(self.input.fixed::<4>()?) as u64;
                let v = self.top()?.clone();
                self.memo_put(idx, v)?;
            }
            0x94 => {
                let v = self.top()?.clone();
                let idx = self.memo_len as u64;
                self.memo_put(idx, v)?;
            }
            b'c' => {
                let module = self.name_line(false)?;
                let name = self.name_line(false)?;
                let g = self.import(module, name, at, "GLOBAL");
                self.push(g)?;
            }
            0x93 => {
                let name = self.pop()?;
                let module = self.pop()?;
                match (&module, &name) {
                    (V::Str(m, _), V::Str(n, _)) => {
                        let g = self.import(m.clone(), n.clone(), at, "STACK_GLOBAL");
                        self.push(g)?;
                    }
                    (V::Str(m, _) | V::Folded(m), V::Str(n, _) | V::Folded(n)) => {
                        // Computed by pure builtins in the stream: the import is hidden
                        // from readers of the bytes (high), and is what it resolves to.
                        self.run.dynamic.push(Dynamic {
                            offset: at,
                            what: format!(
                                "STACK_GLOBAL of names computed in the stream: resolves to `{m}.{n}`"
                            ),
                        });
                        let g = self.import(m.clone(), n.clone(), at, "STACK_GLOBAL");
                        self.push(g)?;
                    }
                    _ => {
                        // CPython requires str here; a computed str (a call result) passes
                        // that check at run time, and hides the import from readers.
                        let mut what = String::from("STACK_GLOBAL(");
                        self.render(&module, 1, &mut what);
                        what.push_str(", ");
                        self.render(&name, 1, &mut what);
                        what.push(')');
                        truncate(&mut what);
                        self.run.dynamic.push(Dynamic { offset: at, what });
                        self.push(V::Unknown)?;
                    }
                }
            }
            b'i' => {
                // `load_inst` takes the MARK before it reads the names: without one it
                // fails before importing anything (a text file starting `i...` is no import).
                let args = self.pop_mark()?;
                let module = self.name_line(true)?;
                let name = self.name_line(true)?;
                let g = self.import(module, name, at, "INST");
                let v = self.call(g, V::Tuple(Rc::from(args)), at);
                self.push(v)?;
            }
            b'o' => {
                let mut items = self.pop_mark()?;
                if items.is_empty() {
                    return self.malformed("unpickling stack underflow");
                }
                let args = items.split_off(1);
                let cls = items.pop().unwrap_or(V::Unknown);
                let v = self.call(cls, V::Tuple(Rc::from(args)), at);
                self.push(v)?;
            }
            0x81 => {
                let args = self.pop()?;
                let cls = self.pop()?;
                let v = self.construct(cls, args, at);
                self.push(v)?;
            }
            0x92 => {
                let _kwargs = self.pop()?;
                let args = self.pop()?;
                let cls = self.pop()?;
                let v = self.construct(cls, args, at);
                self.push(v)?;
            }
            b'R' => {
                let args = self.pop()?;
                let func = self.pop()?;
                let v = self.call(func, args, at);
                self.push(v)?;
            }
            b'b' => {
                // BUILD: inst.__setstate__(state) or a __dict__ update. The instance's
                // class was classified where it was imported.
                let state = self.pop()?;
                let inst = self.top()?.clone();
                if let V::Call(c) = &inst {
                    if c.state.borrow().is_none() {
                        *c.state.borrow_mut() = Some(state.clone());
                        self.filled.push(inst.clone());
                    }
                    if self.is_joblib_array(&c.func) {
                        self.read_joblib_array(&state)?;
                    }
                }
            }
            b'P' | b'Q' if !self.persistent_load => {
                return self.malformed("A load persistent id instruction was encountered, but no persistent_load function was specified.");
            }
            b'P' => {
                let line = self.input.line()?;
                self.run.persistent_ids += 1;
                if self.retain {
                    let pid = V::Str(lossy(&line.head), line.cut);
                    self.push(V::PersistentId(Rc::new(pid)))?;
                } else {
                    self.push(V::Persistent)?;
                }
            }
            b'Q' => {
                let pid = self.pop()?;
                self.run.persistent_ids += 1;
                if self.retain {
                    self.push(V::PersistentId(Rc::new(pid)))?;
                } else {
                    self.push(V::Persistent)?;
                }
            }
            0x82..=0x84 => {
                let code = match op {
                    0x82 => self.input.byte()? as u64,
                    0x83 => u16::from_le_bytes(self.input.fixed::<2>()?) as u64,
                    _ => i32::from_le_bytes(self.input.fixed::<4>()?) as i64 as u64,
                };
                if code == 0 || code > i32::MAX as u64 {
                    return self.malformed("EXT specifies code <= 0");
                }
                // The copyreg extension registry is empty unless something registered a
                // code at run time: by a `copyreg.add_extension` call earlier in this
                // stream (folded), else what it imports cannot be known statically.
                match self.extensions.get(&(code as i64)).cloned() {
                    Some((m, n)) => {
                        self.run.dynamic.push(Dynamic {
                            offset: at,
                            what: format!(
                                "EXT opcode imports `{m}.{n}`, registered under extension code {code} earlier in the stream"
                            ),
                        });
                        let g = self.import(m, n, at, "EXT");
                        self.push(g)?;
                    }
                    None => {
                        self.run.dynamic.push(Dynamic {
                            offset: at,
                            what: format!(
                                "EXT opcode imports the global registered under extension code {code}"
                            ),
                        });
                        self.push(V::Unknown)?;
                    }
                }
            }
            0x80 => {
                let p = self.input.byte()?;
                if p > 5 {
                    return self.malformed(format!("unsupported pickle protocol: {p}"));
                }
                self.run.protocol = p;
            }
            0x95 => {
                // FRAME: CPython reads the whole frame up front and fails if the stream is
                // shorter; opcodes may still straddle frames.
                let n = u64::from_le_bytes(self.input.fixed::<8>()?);
                self.input.frame(n);
                if n > self.input.remaining() {
                    return self
                        .malformed("pickle data was truncated (frame longer than the stream)");
                }
            }
            other => {
                return self.malformed(format!("invalid load key, '\\x{other:02x}'"));
            }
        }
        Ok(false)
    }
}

/// Clears the contents of the values that can close a reference cycle, so that dropping
/// them frees them.
fn release(filled: Vec<V>) {
    for v in filled {
        match &v {
            V::Dict(Some(d)) => drop(std::mem::take(&mut *d.borrow_mut())),
            V::Items(l) => drop(std::mem::take(&mut *l.borrow_mut())),
            V::Call(c) => {
                drop(c.state.borrow_mut().take());
                drop(c.contents.borrow_mut().take());
            }
            _ => {}
        }
    }
}

impl Drop for PickleRun {
    fn drop(&mut self) {
        release(std::mem::take(&mut self.filled));
    }
}

/// `name` with at most [`MAX_NAME_PARTS`] dotted components: the first and last halves.
fn bounded_name(name: &str) -> std::borrow::Cow<'_, str> {
    let parts: Vec<&str> = name.split('.').collect();
    if parts.len() <= MAX_NAME_PARTS {
        return name.into();
    }
    let half = MAX_NAME_PARTS / 2;
    let tail = parts.len().saturating_sub(half);
    let kept: Vec<&str> = parts
        .iter()
        .take(half)
        .chain(parts.iter().skip(tail))
        .copied()
        .collect();
    kept.join(".").into()
}

/// How many plain data values `v` stands for (`None` when it is not plain data).
fn plain_count(v: &V) -> Option<u64> {
    match v {
        V::Many(n) => Some(*n),
        V::None
        | V::Bool(_)
        | V::Int(_)
        | V::BigInt
        | V::Float(_)
        | V::Str(..)
        | V::Folded(_)
        | V::Bytes(_)
        | V::ByteArray => Some(1),
        _ => None,
    }
}

/// The number of values `items` stand for, summarised runs counted in full.
fn logical_len(items: &[V]) -> u64 {
    items
        .iter()
        .map(|v| match v {
            V::Many(n) => *n,
            _ => 1,
        })
        .sum()
}

fn int_value(i: text::Int) -> V {
    match i {
        text::Int::Small(v) => V::Int(v),
        text::Int::Big => V::BigInt,
    }
}

fn lossy(b: &[u8]) -> Rc<str> {
    Rc::from(String::from_utf8_lossy(b).as_ref())
}

fn truncate(s: &mut String) {
    if s.len() > EVIDENCE_MAX {
        let mut cut = EVIDENCE_MAX;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
}

fn root_global(v: &V) -> Option<u32> {
    let mut cur = v;
    for _ in 0..64 {
        match cur {
            V::Global(id) => return Some(*id),
            V::Call(c) => cur = &c.func,
            _ => return None,
        }
    }
    None
}

fn dict_extend(d: &RefCell<Vec<(V, V)>>, items: Vec<V>, keep: usize) {
    let mut d = d.borrow_mut();
    let mut it = items.into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        if d.len() >= keep {
            break;
        }
        d.push((k, v));
    }
}

fn first_arg(args: &V) -> Option<&V> {
    match args {
        V::Tuple(items) => items.first(),
        _ => None,
    }
}

fn long_value(b: &[u8], n: u64) -> V {
    if let (true, Some(&last)) = (n <= 8, b.last()) {
        // `b` is at most 8 bytes (a LONG1/LONG4 of `n` ≤ 8 bytes).
        let mut buf = [if last & 0x80 != 0 { 0xff } else { 0 }; 8];
        crate::bytes::copy_at(&mut buf, b, 0);
        V::Int(i64::from_le_bytes(buf))
    } else if n == 0 {
        V::Int(0)
    } else {
        V::BigInt
    }
}

/// Buffered sequential reader over a [`ByteSource`].
struct Input<'a> {
    src: &'a dyn ByteSource,
    end: u64,
    pos: u64,
    buf: Vec<u8>,
    buf_start: u64,
    chunk: usize,
    /// End of what CPython's unpickler holds in its buffer (a FRAME read ahead); reads
    /// past it are fresh reads from the stream.
    region_end: u64,
    /// Read as from a stream without `peek()` (see [`Machine::stream_reader`]).
    nopeek: bool,
    /// A read crossed `region_end` while data was left before it.
    straddled: bool,
}

impl<'a> Input<'a> {
    fn new(src: &'a dyn ByteSource, start: u64) -> Input<'a> {
        Input {
            src,
            end: src.len(),
            pos: start,
            buf: Vec::new(),
            buf_start: start,
            chunk: 2048,
            region_end: start,
            nopeek: false,
            straddled: false,
        }
    }

    /// Before a read of `n` bytes that CPython does with `_Unpickler_Read`: a read that
    /// does not fit in what is left of the buffer drops that rest under a stream
    /// without `peek()`.
    fn buffered(&mut self, n: u64) {
        let end = self.pos.saturating_add(n);
        if end > self.region_end {
            if self.pos < self.region_end {
                self.straddled = true;
                if self.nopeek {
                    self.pos = self.region_end;
                }
            }
            self.region_end = self.pos.saturating_add(n);
        }
    }

    /// A FRAME of `n` bytes: CPython reads it into its buffer (unless the buffer already
    /// holds that much) and rewinds to its start.
    fn frame(&mut self, n: u64) {
        let pos = self.pos;
        self.buffered(n);
        if !self.nopeek {
            self.pos = pos;
        }
    }

    /// [`Input::take`] as `_Unpickler_ReadInto` reads (byte strings): from the buffer,
    /// then on from the stream, contiguously.
    fn take_into(&mut self, n: u64, keep: usize) -> Result<(Vec<u8>, bool), Stop> {
        self.region_end = self.region_end.max(self.pos.saturating_add(n));
        self.take_raw(n, keep)
    }

    fn take(&mut self, n: u64, keep: usize) -> Result<(Vec<u8>, bool), Stop> {
        self.buffered(n);
        self.take_raw(n, keep)
    }

    fn remaining(&self) -> u64 {
        self.end.saturating_sub(self.pos)
    }

    /// The next `n` bytes, not consumed, when they lie inside both CPython's buffered
    /// region and our buffer: then [`Input::take`] of them (with `keep >= n`) returns
    /// exactly these and only advances `pos`.
    #[inline]
    fn buffered_slice(&self, n: u64) -> Option<&[u8]> {
        let end = self.pos.checked_add(n)?;
        if end > self.region_end || end > self.end || self.pos < self.buf_start {
            return None;
        }
        let at = usize::try_from(self.pos - self.buf_start).ok()?;
        self.buf.get(at..)?.get(..usize::try_from(n).ok()?)
    }

    /// Makes `[pos, pos + need)` available in `buf` (need ≤ BUF_SIZE), if the source has it.
    fn fill(&mut self, need: usize) -> Result<bool, Stop> {
        let have_end = self.buf_start + self.buf.len() as u64;
        if self.pos >= self.buf_start && self.pos + need as u64 <= have_end {
            return Ok(true);
        }
        if self.pos + need as u64 > self.end {
            return Ok(false);
        }
        // Start small (a probe of a tensor member reads a few bytes) and grow while the
        // stream keeps going.
        self.chunk = (self.chunk * 2).clamp(4096, BUF_SIZE);
        let want = self
            .chunk
            .max(need)
            .min(usize::try_from(self.end - self.pos).unwrap_or(BUF_SIZE));
        self.buf.resize(want, 0);
        self.src
            .read_exact_at(self.pos, &mut self.buf)
            .map_err(|e| Stop::Io(e.to_string()))?;
        self.buf_start = self.pos;
        Ok(true)
    }

    /// The next byte. Fast path: inside both CPython's buffered region (so `buffered` has
    /// nothing to do) and ours.
    #[inline]
    fn byte(&mut self) -> Result<u8, Stop> {
        if self.pos < self.region_end {
            let at = self.pos.wrapping_sub(self.buf_start) as usize;
            if let (true, Some(&b)) = (self.pos >= self.buf_start, self.buf.get(at)) {
                self.pos += 1;
                return Ok(b);
            }
        }
        self.byte_slow()
    }

    #[inline(never)]
    fn byte_slow(&mut self) -> Result<u8, Stop> {
        self.buffered(1);
        if !self.fill(1)? {
            return Err(Stop::Malformed("pickle data was truncated".into()));
        }
        let Some(&b) = self.buf.get((self.pos - self.buf_start) as usize) else {
            return Err(Stop::Malformed("pickle data was truncated".into()));
        };
        self.pos += 1;
        Ok(b)
    }

    #[inline]
    fn fixed<const N: usize>(&mut self) -> Result<[u8; N], Stop> {
        if self.pos.saturating_add(N as u64) <= self.region_end && self.pos >= self.buf_start {
            let at = (self.pos - self.buf_start) as usize;
            if let Some(out) = crate::bytes::array_at::<N>(&self.buf, at) {
                self.pos += N as u64;
                return Ok(out);
            }
        }
        self.buffered(N as u64);
        if !self.fill(N)? {
            return Err(Stop::Malformed("pickle data was truncated".into()));
        }
        let i = (self.pos - self.buf_start) as usize;
        let Some(out) = crate::bytes::array_at::<N>(&self.buf, i) else {
            return Err(Stop::Malformed("pickle data was truncated".into()));
        };
        self.pos += N as u64;
        Ok(out)
    }

    /// Consumes `n` bytes, returning the first `keep` of them and whether any were dropped.
    /// The rest is skipped without being read (tensor bytes in a pickle are never read).
    fn take_raw(&mut self, n: u64, keep: usize) -> Result<(Vec<u8>, bool), Stop> {
        if n > self.remaining() {
            return Err(Stop::Malformed("pickle data was truncated".into()));
        }
        let k = (n.min(keep as u64)) as usize;
        let mut out = Vec::with_capacity(k);
        if k > 0 {
            let buffered = if self.fill(k.min(BUF_SIZE))? && k <= BUF_SIZE {
                let i = (self.pos - self.buf_start) as usize;
                self.buf.get(i..).and_then(|rest| rest.get(..k))
            } else {
                None
            };
            match buffered {
                Some(kept) => out.extend_from_slice(kept),
                None => {
                    out = self
                        .src
                        .read_vec(self.pos, k)
                        .map_err(|e| Stop::Io(e.to_string()))?;
                }
            }
        }
        self.pos += n;
        Ok((out, (k as u64) < n))
    }

    /// A `\n`-terminated line without the newline (text opcodes). CPython reads the
    /// whole line whatever its length (a Python 2 model pickle can hold its payload in one
    /// 12 MB `STRING` line); the first [`BUF_SIZE`] bytes are kept, with the last byte.
    fn line(&mut self) -> Result<Line, Stop> {
        let start = self.pos;
        let line = self.line_raw()?;
        if start < self.region_end && self.pos > self.region_end {
            // No newline in what is left of the buffer: `_Unpickler_Readline` reads the
            // line from the stream after it.
            self.straddled = true;
            if self.nopeek {
                self.pos = self.region_end;
                let line = self.line_raw()?;
                self.region_end = self.pos;
                return Ok(line);
            }
        }
        self.region_end = self.region_end.max(self.pos);
        Ok(line)
    }

    fn line_raw(&mut self) -> Result<Line, Stop> {
        let mut head = Vec::new();
        let mut last = None;
        let mut cut = false;
        loop {
            if !self.fill(1)? {
                return Err(Stop::Malformed(
                    "pickle data was truncated (no newline)".into(),
                ));
            }
            let i = usize::try_from(self.pos - self.buf_start).unwrap_or(usize::MAX);
            let chunk = self.buf.get(i..).unwrap_or_default();
            let (part, done) = match chunk.iter().position(|&b| b == b'\n') {
                Some(nl) => (chunk.get(..nl).unwrap_or_default(), true),
                None => (chunk, false),
            };
            if let Some(&b) = part.last() {
                last = Some(b);
            }
            let room = BUF_SIZE.saturating_sub(head.len());
            if part.len() > room {
                cut = true;
            }
            head.extend_from_slice(part.get(..part.len().min(room)).unwrap_or_default());
            self.pos += part.len() as u64 + u64::from(done);
            if done {
                return Ok(Line { head, last, cut });
            }
        }
    }
}

/// A text opcode's argument: its first [`BUF_SIZE`] bytes and its last byte.
struct Line {
    head: Vec<u8>,
    last: Option<u8>,
    /// The line was longer than `head`.
    cut: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MemSource;

    /// Runs `pre` step by step, takes a weak reference to the value on top of the stack,
    /// runs the rest, and tells whether that value was freed with the machine.
    fn freed_after_run(pre: &[u8], rest: &[u8]) -> bool {
        let src = MemSource::new([pre, rest].concat());
        let limits = Limits::default();
        let allow = |_: &str, _: &str| false;
        let mut m = Machine::new(&src, 0, &limits, &allow, None);
        while m.input.pos < pre.len() as u64 {
            m.step().unwrap();
        }
        let weak = match m.stack.last() {
            Some(V::Dict(Some(d))) => DictWeak::Dict(Rc::downgrade(d)),
            Some(V::Call(c)) => DictWeak::Call(Rc::downgrade(c)),
            Some(V::Items(l)) => DictWeak::List(Rc::downgrade(l)),
            other => panic!("unexpected top {other:?}"),
        };
        let run = m.run();
        assert!(run.end.is_some(), "{:?}", run.error);
        match weak {
            DictWeak::Dict(w) => w.upgrade().is_none(),
            DictWeak::Call(w) => w.upgrade().is_none(),
            DictWeak::List(w) => w.upgrade().is_none(),
        }
    }

    enum DictWeak {
        Dict(std::rc::Weak<RefCell<Vec<(V, V)>>>),
        Call(std::rc::Weak<CallV>),
        List(std::rc::Weak<RefCell<Vec<V>>>),
    }

    #[test]
    fn list_holding_itself_through_a_tuple_is_freed() {
        // Found by fuzz/ (LeakSanitizer): `l.append((l,))` (EMPTY_LIST BINPUT BINGET
        // TUPLE1 APPEND) closed a cycle through a tuple, which the list's cycle check
        // did not count.
        assert!(freed_after_run(b"\x80\x02]q\x00", b"h\x00\x85a."));
        // Directly: l.append(l).
        assert!(freed_after_run(b"\x80\x02]q\x00", b"h\x00a."));
    }

    #[test]
    fn dict_holding_itself_is_freed() {
        // Found by fuzz/ (LeakSanitizer): joblib mode tracks dict items, and
        // `d[d] = b"ab"` (EMPTY_DICT DUP ... SETITEM) made an Rc cycle that leaked.
        let pre = b"\x80\x04cjoblib.numpy_pickle\nNumpyArrayWrapper\n0}";
        assert!(freed_after_run(pre, b"2C\x02abs."));
        // Through a second dict: d1[0] = d2, d2[0] = d1.
        assert!(freed_after_run(
            pre,
            b"\x94}\x94K\x00h\x00sh\x00K\x00h\x01s0."
        ));
    }

    #[test]
    fn a_bounded_retaining_machine_stops_at_its_item_count() {
        // A list of 1,000 ints, APPENDS in batches of 100 as pickle writes them.
        let mut p = b"\x80\x04]".to_vec();
        for _ in 0..10 {
            p.push(b'(');
            p.extend([b'K', 7].repeat(100));
            p.push(b'e');
        }
        p.push(b'.');
        let src = MemSource::new(p);
        let limits = Limits::default();
        let allow = |_: &str, _: &str| false;
        let full = Machine::new(&src, 0, &limits, &allow, None)
            .retaining()
            .run();
        assert!(
            full.error.is_none() && full.result.is_some(),
            "{:?}",
            full.error
        );
        let cut = Machine::new(&src, 0, &limits, &allow, None)
            .retaining_at_most(250)
            .run();
        assert!(
            matches!(&cut.error, Some((_, Stop::Limit(m))) if m.contains("250 container items")),
            "{:?}",
            cut.error
        );
    }

    #[test]
    fn a_retaining_machine_keeps_the_object_graph() {
        // pickle.dumps(OrderedDict(w=[1, 2, <persistent ('storage', 'k0', 4)>], n=3), 2)
        // with a Pickler whose persistent_id returns the tuple.
        let src = MemSource::new(
            b"\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01(X\x01\x00\x00\x00wq\x02]q\x03(K\x01K\x02X\x07\x00\x00\x00storageq\x04X\x02\x00\x00\x00k0q\x05K\x04\x87q\x06QeX\x01\x00\x00\x00nq\x07K\x03u."
                .to_vec(),
        );
        let limits = Limits::default();
        let allow = |_: &str, _: &str| false;
        let run = Machine::new(&src, 0, &limits, &allow, None)
            .retaining()
            .run();
        assert!(run.error.is_none(), "{:?}", run.error);
        let Some(V::Call(od)) = &run.result else {
            panic!("{:?}", run.result)
        };
        let contents = od.contents.borrow();
        let Some(V::Dict(Some(items))) = contents.as_ref() else {
            panic!("{contents:?}")
        };
        let items = items.borrow();
        assert_eq!(items.len(), 2);
        assert!(matches!(&items[0].0, V::Str(k, _) if &**k == "w"));
        let V::Items(list) = &items[0].1 else {
            panic!("{:?}", items[0].1)
        };
        let list = list.borrow();
        assert!(matches!(
            list[..],
            [V::Int(1), V::Int(2), V::PersistentId(_)]
        ));
        let V::PersistentId(pid) = &list[2] else {
            unreachable!()
        };
        assert!(matches!(&**pid, V::Tuple(t) if t.len() == 3));
        assert!(matches!(&items[1].1, V::Int(3)));
        // Without retaining, nothing of it is kept.
        let run = Machine::new(&src, 0, &limits, &allow, None).run();
        assert!(run.result.is_none());
    }

    #[test]
    fn instance_whose_state_holds_it_is_freed() {
        // BUILD with the instance itself as its state: `x.__setstate__(x)`.
        assert!(freed_after_run(b"\x80\x02cmod\nC\n)\x81", b"2b."));
    }
}
