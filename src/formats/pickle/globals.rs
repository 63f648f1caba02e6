//! Classification of the globals a pickle imports, allowlist first (SPEC §1).
//!
//! A global is `(module, name)` as the unpickler's `find_class` receives it. The order of
//! decisions:
//!
//! 1. Aliases are folded: `posix`/`nt` are `os`, `_operator` is `operator`, `__builtin__`
//!    is `builtins` ... — C modules re-exported under another name are the same callables.
//! 2. Every candidate a dotted name can resolve to is tried: `STACK_GLOBAL("pathlib",
//!    "os.system")` is `getattr(pathlib.os, "system")`, i.e. `os.system`.
//! 3. A dangerous entry naming the callable exactly wins over everything.
//! 4. Then the allowlist of globals that ordinary ML files contain.
//! 5. Then dangerous *modules*, matched on every prefix (`asyncio.unix_events` is `asyncio`).
//! 6. Anything else is unknown (medium): every picklescan bypass so far used a callable
//!    that was missing from a denylist, so absence from the denylist proves nothing.

use super::table;

/// What loading a global can do, ordered by severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    /// On the built-in allowlist (or the user's `allow.globals`).
    Safe,
    /// Not known either way: a reviewer must look (medium).
    Unknown,
    /// Reaches the network, files or deferred execution (high).
    System,
    /// Computed or attribute-walking import (high).
    Dynamic,
    /// Runs commands or Python code (critical).
    Code,
}

/// How a pickle uses a global, from least to most: pushed as a value (`numpy.log1p`
/// stored in a `FunctionTransformer`), rebuilt as an object (`cls.__new__(cls)` by
/// NEWOBJ or `copyreg._reconstructor`, then BUILD), or called with arguments (REDUCE, INST,
/// OBJ: a function body or `__init__` runs with what the pickle supplies).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Use {
    #[default]
    Ref,
    Object,
    Call,
}

impl Use {
    pub fn describe(self) -> &'static str {
        match self {
            Use::Ref => "referenced as a value",
            Use::Object => "rebuilt as an object",
            Use::Call => "called with arguments",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Class {
    pub tier: Tier,
    /// For a safe global: the most it may be used for and stay safe (a class whose
    /// constructor is vetted may be called; one vetted only as a data class may only be
    /// rebuilt). Any other tier ignores it.
    pub max_use: Use,
    /// Why, for the finding message (e.g. "runs shell commands").
    pub why: &'static str,
    /// The callable it resolves to when that differs from `module.name`.
    pub resolved: Option<String>,
    /// `functools.partial` and friends: judged by what they wrap (see the machine).
    pub wrapper: bool,
}

/// Modules that are the same thing under another name.
pub fn alias(module: &str) -> &str {
    match module {
        "posix" | "nt" | "_posix" => "os",
        "__builtin__" | "__builtins__" => "builtins",
        "_operator" => "operator",
        "_io" | "_pyio" => "io",
        "_pickle" | "cPickle" | "_compat_pickle" => "pickle",
        "_functools" => "functools",
        "_codecs" => "codecs",
        "_socket" => "socket",
        "_ssl" => "ssl",
        "_thread" | "thread" | "_dummy_thread" | "dummy_threading" => "threading",
        "copy_reg" => "copyreg",
        "_collections" => "collections",
        "_signal" => "signal",
        "_shutil" => "shutil",
        "_weakref" => "weakref",
        "_marshal" => "marshal",
        "_imp" => "importlib",
        "_winapi" | "_subprocess" => "subprocess",
        "commands" | "popen2" => "subprocess",
        "urllib2" | "httplib" | "urlparse" => "urllib",
        "_ctypes" => "ctypes",
        "numpy._core" => "numpy.core",
        _ => {
            if let Some(rest) = module.strip_prefix("numpy._core.") {
                // numpy 2 renamed numpy.core to numpy._core; both spellings appear in files.
                return match rest {
                    "multiarray" => "numpy.core.multiarray",
                    "numeric" => "numpy.core.numeric",
                    "_multiarray_umath" => "numpy.core._multiarray_umath",
                    _ => module,
                };
            }
            module
        }
    }
}

// ---------------------------------------------------------------------------------------
// Dangerous callables named exactly: (module, name, tier, why). These win over the allowlist
// and over wildcard module entries.
// ---------------------------------------------------------------------------------------
const RUNS_CODE: &str = "runs Python code";
const RUNS_CMD: &str = "runs shell commands";
const RESOLVER: &str = "resolves and calls arbitrary attributes";
const NESTED: &str = "deserialises nested data (a second loader)";
const INSTALL: &str = "installs or imports packages";
const CODE_OBJ: &str = "builds code objects";
const FILES: &str = "reads, writes or deletes files";
const NET: &str = "reaches the network";
const DEFERRED: &str = "schedules code to run later";
const GADGET: &str = "known ML-library gadget that runs code";

static DANGEROUS_NAMES: &[(&str, &str, Tier, &str)] = &[
    ("builtins", "eval", Tier::Code, RUNS_CODE),
    ("builtins", "exec", Tier::Code, RUNS_CODE),
    ("builtins", "execfile", Tier::Code, RUNS_CODE),
    ("builtins", "compile", Tier::Code, RUNS_CODE),
    ("builtins", "__import__", Tier::Code, RUNS_CODE),
    ("builtins", "getattr", Tier::Code, RESOLVER),
    ("builtins", "setattr", Tier::Code, RESOLVER),
    ("builtins", "delattr", Tier::Code, RESOLVER),
    ("builtins", "globals", Tier::Code, RESOLVER),
    ("builtins", "locals", Tier::Code, RESOLVER),
    ("builtins", "vars", Tier::Code, RESOLVER),
    ("builtins", "breakpoint", Tier::Code, RUNS_CODE),
    ("builtins", "input", Tier::Code, RUNS_CODE),
    ("builtins", "apply", Tier::Code, RUNS_CODE),
    ("builtins", "reload", Tier::Code, INSTALL),
    ("builtins", "help", Tier::Code, RUNS_CODE),
    // type(name, bases, dict) synthesises classes whose dunders run on use.
    ("builtins", "type", Tier::Code, "synthesises classes"),
    ("builtins", "open", Tier::System, FILES),
    ("builtins", "file", Tier::System, FILES),
    ("io", "open", Tier::System, FILES),
    ("io", "open_code", Tier::System, FILES),
    ("io", "FileIO", Tier::System, FILES),
    ("codecs", "open", Tier::System, FILES),
    ("tokenize", "open", Tier::System, FILES),
    ("operator", "attrgetter", Tier::Code, RESOLVER),
    ("operator", "methodcaller", Tier::Code, RESOLVER),
    ("operator", "call", Tier::Code, RESOLVER),
    ("functools", "reduce", Tier::Code, RESOLVER),
    ("typing", "_eval_type", Tier::Code, RUNS_CODE),
    ("typing", "get_type_hints", Tier::Code, RUNS_CODE),
    ("typing", "ForwardRef", Tier::Code, RUNS_CODE),
    ("dataclasses", "_create_fn", Tier::Code, RUNS_CODE),
    ("types", "CodeType", Tier::Code, CODE_OBJ),
    ("types", "FunctionType", Tier::Code, CODE_OBJ),
    ("types", "LambdaType", Tier::Code, CODE_OBJ),
    ("types", "MethodType", Tier::Code, CODE_OBJ),
    ("types", "ModuleType", Tier::Code, CODE_OBJ),
    ("types", "new_class", Tier::Code, CODE_OBJ),
    (
        "copyreg",
        "add_extension",
        Tier::Dynamic,
        "registers extension codes that EXT opcodes import",
    ),
    ("site", "addsitedir", Tier::Code, INSTALL),
    ("site", "main", Tier::Code, INSTALL),
    ("sys", "modules", Tier::Code, RESOLVER),
    ("yaml", "load", Tier::Code, NESTED),
    ("yaml", "unsafe_load", Tier::Code, NESTED),
    ("yaml", "full_load", Tier::Code, NESTED),
    ("yaml", "load_all", Tier::Code, NESTED),
    ("yaml", "unsafe_load_all", Tier::Code, NESTED),
    ("numpy", "load", Tier::Code, NESTED),
    ("numpy", "loads", Tier::Code, NESTED),
    ("numpy", "fromfile", Tier::System, FILES),
    ("numpy", "save", Tier::System, FILES),
    ("numpy", "savez", Tier::System, FILES),
    ("numpy", "savetxt", Tier::System, FILES),
    ("numpy", "tofile", Tier::System, FILES),
    ("numpy", "memmap", Tier::System, FILES),
    ("numpy", "loadtxt", Tier::System, FILES),
    ("numpy", "genfromtxt", Tier::System, FILES),
    ("numpy.lib.npyio", "load", Tier::Code, NESTED),
    (
        "numpy.testing._private.utils",
        "runstring",
        Tier::Code,
        GADGET,
    ),
    (
        "numpy.ctypeslib",
        "load_library",
        Tier::Code,
        "loads a native library",
    ),
    (
        "numpy.distutils.exec_command",
        "exec_command",
        Tier::Code,
        RUNS_CMD,
    ),
    ("torch", "load", Tier::Code, NESTED),
    ("torch.serialization", "load", Tier::Code, NESTED),
    ("torch.storage", "_load_from_bytes", Tier::Code, NESTED),
    ("torch.jit", "load", Tier::Code, NESTED),
    ("torch.hub", "load", Tier::Code, "downloads and runs code"),
    // Functions ML libraries ship that run code when called with pickle-supplied strings
    // (found by tracing their calls to eval/exec/import-by-name/processes).
    (
        "sympy",
        "sympify",
        Tier::Code,
        "evaluates a string as Python (eval)",
    ),
    (
        "sympy.core.sympify",
        "sympify",
        Tier::Code,
        "evaluates a string as Python (eval)",
    ),
    (
        "sympy.parsing.sympy_parser",
        "parse_expr",
        Tier::Code,
        "evaluates a string as Python (eval)",
    ),
    (
        "hydra.utils",
        "instantiate",
        Tier::Code,
        "imports and calls a callable named by a string",
    ),
    (
        "hydra.utils",
        "call",
        Tier::Code,
        "imports and calls a callable named by a string",
    ),
    (
        "hydra.utils",
        "get_method",
        Tier::Code,
        "imports a callable named by a string",
    ),
    (
        "hydra.utils",
        "get_class",
        Tier::Code,
        "imports a class named by a string",
    ),
    (
        "hydra._internal.utils",
        "_locate",
        Tier::Code,
        "imports an object named by a string",
    ),
    (
        "hydra._internal.instantiate._instantiate2",
        "instantiate",
        Tier::Code,
        "imports and calls a callable named by a string",
    ),
    (
        "transformers.dynamic_module_utils",
        "get_class_from_dynamic_module",
        Tier::Code,
        "downloads and imports remote Python code",
    ),
    (
        "transformers.dynamic_module_utils",
        "get_class_in_module",
        Tier::Code,
        "imports a Python file",
    ),
    (
        "transformers.dynamic_module_utils",
        "get_cached_module_file",
        Tier::Code,
        "downloads remote Python code",
    ),
    ("numpy.lib.format", "read_array", Tier::Code, NESTED),
    ("numpy.lib._format_impl", "read_array", Tier::Code, NESTED),
    (
        "sklearn.utils._testing",
        "assert_run_python_script",
        Tier::Code,
        RUNS_CODE,
    ),
    (
        "sklearn.utils._testing",
        "assert_run_python_script_without_output",
        Tier::Code,
        RUNS_CODE,
    ),
    (
        "omegaconf._utils",
        "_locate",
        Tier::Code,
        "imports an object named by a string",
    ),
    (
        "pydoc",
        "locate",
        Tier::Code,
        "imports an object named by a string",
    ),
    (
        "torch.hub",
        "load_state_dict_from_url",
        Tier::Code,
        "downloads and runs code",
    ),
    (
        "torch._inductor.codecache",
        "compile_file",
        Tier::Code,
        GADGET,
    ),
    (
        "torch.jit.unsupported_tensor_ops",
        "execWrapper",
        Tier::Code,
        GADGET,
    ),
    ("torch.utils.collect_env", "run", Tier::Code, GADGET),
    ("torch.utils.cpp_extension", "load", Tier::Code, GADGET),
    (
        "torch.utils.cpp_extension",
        "load_inline",
        Tier::Code,
        GADGET,
    ),
    (
        "torch.ops",
        "load_library",
        Tier::Code,
        "loads a native library",
    ),
    (
        "torch.classes",
        "load_library",
        Tier::Code,
        "loads a native library",
    ),
    ("joblib", "load", Tier::Code, NESTED),
    ("joblib.numpy_pickle", "load", Tier::Code, NESTED),
    ("pandas", "read_pickle", Tier::Code, NESTED),
    ("pandas.io.pickle", "read_pickle", Tier::Code, NESTED),
    ("keras.models", "load_model", Tier::Code, NESTED),
    ("tensorflow.keras.models", "load_model", Tier::Code, NESTED),
    ("dill", "loads", Tier::Code, NESTED),
    ("shelve", "open", Tier::Code, NESTED),
];

// ---------------------------------------------------------------------------------------
// Dangerous modules, matched on the module and every dotted prefix of it.
// ---------------------------------------------------------------------------------------
static DANGEROUS_MODULES: &[(&str, Tier, &str)] = &[
    ("os", Tier::Code, RUNS_CMD),
    ("subprocess", Tier::Code, RUNS_CMD),
    ("_posixsubprocess", Tier::Code, RUNS_CMD),
    ("pty", Tier::Code, RUNS_CMD),
    ("multiprocessing", Tier::Code, RUNS_CMD),
    // Resolve dotted names from configuration and call them (`()` factories, `ext://`).
    (
        "logging.config",
        Tier::Code,
        "resolves dotted names and calls them",
    ),
    // Process launchers inside ML libraries.
    ("joblib.externals.loky", Tier::Code, RUNS_CMD),
    ("loky", Tier::Code, RUNS_CMD),
    ("torch.distributed.elastic", Tier::Code, RUNS_CMD),
    ("torch.distributed.run", Tier::Code, RUNS_CMD),
    ("torch.multiprocessing", Tier::Code, RUNS_CMD),
    ("concurrent", Tier::Code, RUNS_CMD),
    ("asyncio", Tier::Code, RUNS_CMD),
    ("platform", Tier::Code, RUNS_CMD),
    ("shlex", Tier::Code, RUNS_CMD),
    ("runpy", Tier::Code, RUNS_CODE),
    ("code", Tier::Code, RUNS_CODE),
    ("codeop", Tier::Code, RUNS_CODE),
    ("timeit", Tier::Code, RUNS_CODE),
    ("cProfile", Tier::Code, RUNS_CODE),
    ("profile", Tier::Code, RUNS_CODE),
    ("trace", Tier::Code, RUNS_CODE),
    ("pdb", Tier::Code, RUNS_CODE),
    ("bdb", Tier::Code, RUNS_CODE),
    ("doctest", Tier::Code, RUNS_CODE),
    ("idlelib", Tier::Code, RUNS_CODE),
    ("lib2to3", Tier::Code, RUNS_CODE),
    ("IPython", Tier::Code, RUNS_CODE),
    ("marshal", Tier::Code, CODE_OBJ),
    ("cloudpickle", Tier::Code, CODE_OBJ),
    ("dill", Tier::Code, CODE_OBJ),
    ("ctypes", Tier::Code, "calls native code"),
    ("cffi", Tier::Code, "calls native code"),
    ("importlib", Tier::Code, INSTALL),
    ("imp", Tier::Code, INSTALL),
    ("zipimport", Tier::Code, INSTALL),
    ("pkgutil", Tier::Code, RESOLVER),
    ("pydoc", Tier::Code, RESOLVER),
    ("inspect", Tier::Code, RESOLVER),
    ("pickle", Tier::Code, NESTED),
    ("pickletools", Tier::Code, NESTED),
    ("shelve", Tier::Code, NESTED),
    ("jsonpickle", Tier::Code, NESTED),
    ("pip", Tier::Code, INSTALL),
    ("ensurepip", Tier::Code, INSTALL),
    ("venv", Tier::Code, INSTALL),
    ("setuptools", Tier::Code, INSTALL),
    ("distutils", Tier::Code, INSTALL),
    ("numpy.f2py", Tier::Code, GADGET),
    ("numpy.distutils", Tier::Code, GADGET),
    ("torch._dynamo", Tier::Code, GADGET),
    ("torch._inductor", Tier::Code, GADGET),
    ("torch.utils.cpp_extension", Tier::Code, GADGET),
    ("torch.package", Tier::Code, NESTED),
    ("sys", Tier::Code, RESOLVER),
    ("gc", Tier::Code, RESOLVER),
    ("operator", Tier::System, "operates on arbitrary objects"),
    ("builtins", Tier::Unknown, ""),
    ("shutil", Tier::System, FILES),
    ("tempfile", Tier::System, FILES),
    ("glob", Tier::System, FILES),
    ("fileinput", Tier::System, FILES),
    ("filecmp", Tier::System, FILES),
    ("pathlib", Tier::System, FILES),
    ("io", Tier::System, FILES),
    ("codecs", Tier::Unknown, ""),
    ("tarfile", Tier::System, FILES),
    ("zipfile", Tier::System, FILES),
    ("gzip", Tier::System, FILES),
    ("bz2", Tier::System, FILES),
    ("lzma", Tier::System, FILES),
    ("logging", Tier::System, FILES),
    ("sqlite3", Tier::System, FILES),
    ("dbm", Tier::System, FILES),
    ("mmap", Tier::System, FILES),
    ("socket", Tier::System, NET),
    ("socketserver", Tier::System, NET),
    ("ssl", Tier::System, NET),
    ("select", Tier::System, NET),
    ("selectors", Tier::System, NET),
    ("http", Tier::System, NET),
    ("urllib", Tier::System, NET),
    ("urllib3", Tier::System, NET),
    ("requests", Tier::System, NET),
    ("httpx", Tier::System, NET),
    ("aiohttp", Tier::System, NET),
    ("smtplib", Tier::System, NET),
    ("ftplib", Tier::System, NET),
    ("poplib", Tier::System, NET),
    ("imaplib", Tier::System, NET),
    ("nntplib", Tier::System, NET),
    ("telnetlib", Tier::System, NET),
    ("xmlrpc", Tier::System, NET),
    ("webbrowser", Tier::System, NET),
    ("antigravity", Tier::System, NET),
    ("paramiko", Tier::System, NET),
    ("atexit", Tier::System, DEFERRED),
    ("weakref", Tier::System, DEFERRED),
    ("threading", Tier::System, DEFERRED),
    ("signal", Tier::System, DEFERRED),
    ("sched", Tier::System, DEFERRED),
];

// ---------------------------------------------------------------------------------------
// The allowlist: globals that mainstream ML libraries write into ordinary files.
// (module, name); name "*" allows every name in exactly that module (not submodules).
// Keep entries narrow: a whole-package wildcard would let gadgets like
// torch.utils.collect_env.run through (exact dangerous names still win, but only for the
// gadgets we know of).
// ---------------------------------------------------------------------------------------
static SAFE: &[(&str, &str)] = &[
    // Python builtins and stdlib containers that only build data.
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "list"),
    ("builtins", "dict"),
    ("builtins", "tuple"),
    ("builtins", "bytearray"),
    ("builtins", "bytes"),
    ("builtins", "str"),
    ("builtins", "int"),
    ("builtins", "float"),
    ("builtins", "complex"),
    ("builtins", "bool"),
    ("builtins", "slice"),
    ("builtins", "range"),
    ("builtins", "object"),
    ("builtins", "NoneType"),
    ("builtins", "Ellipsis"),
    ("builtins", "NotImplemented"),
    ("collections", "OrderedDict"),
    ("collections", "defaultdict"),
    ("collections", "deque"),
    ("collections", "Counter"),
    ("collections", "namedtuple"),
    // copyreg's reconstructors only call the class they are given, which is classified
    // on its own when the pickle imports it.
    ("copyreg", "_reconstructor"),
    ("copyreg", "__newobj__"),
    ("copyreg", "__newobj_ex__"),
    ("datetime", "datetime"),
    ("datetime", "date"),
    ("datetime", "time"),
    ("datetime", "timedelta"),
    ("datetime", "timezone"),
    ("decimal", "Decimal"),
    ("fractions", "Fraction"),
    ("uuid", "UUID"),
    ("argparse", "Namespace"),
    ("types", "SimpleNamespace"),
    ("enum", "Enum"),
    ("re", "_compile"),
    ("zoneinfo", "ZoneInfo"),
    // Bound methods: Python pickles `cls.method` as `getattr(cls, "method")`.
    ("zoneinfo", "ZoneInfo._unpickle"),
    ("builtins", "xrange"),
    ("builtins", "unicode"),
    ("builtins", "long"),
    ("zoneinfo._common", "load_data"),
    ("pathlib", "Path"),
    ("pathlib", "PosixPath"),
    ("pathlib", "WindowsPath"),
    ("pathlib", "PurePath"),
    ("pathlib", "PurePosixPath"),
    ("pathlib", "PureWindowsPath"),
    // codecs.encode is how protocol 0-2 pickles spell bytes (`_codecs.encode(s, "latin1")`).
    ("codecs", "encode"),
    // torch: tensors, storages, dtypes, modules, optimizers, schedulers.
    ("torch", "Size"),
    ("torch", "device"),
    ("torch", "dtype"),
    ("torch", "layout"),
    ("torch", "memory_format"),
    ("torch", "finfo"),
    ("torch", "iinfo"),
    ("torch", "Tensor"),
    // Packed parameters of dynamically quantized modules.
    ("torch", "ScriptObject"),
    ("torch", "FloatStorage"),
    ("torch", "DoubleStorage"),
    ("torch", "HalfStorage"),
    ("torch", "BFloat16Storage"),
    ("torch", "LongStorage"),
    ("torch", "IntStorage"),
    ("torch", "ShortStorage"),
    ("torch", "CharStorage"),
    ("torch", "ByteStorage"),
    ("torch", "BoolStorage"),
    ("torch", "ComplexFloatStorage"),
    ("torch", "ComplexDoubleStorage"),
    ("torch", "QInt8Storage"),
    ("torch", "QUInt8Storage"),
    ("torch", "QInt32Storage"),
    ("torch", "QUInt4x2Storage"),
    ("torch", "QUInt2x4Storage"),
    ("torch", "UntypedStorage"),
    ("torch", "TypedStorage"),
    ("torch", "float32"),
    ("torch", "float64"),
    ("torch", "float16"),
    ("torch", "bfloat16"),
    ("torch", "int64"),
    ("torch", "int32"),
    ("torch", "int16"),
    ("torch", "int8"),
    ("torch", "uint8"),
    ("torch", "bool"),
    ("torch", "complex64"),
    ("torch", "complex128"),
    ("torch", "qint8"),
    ("torch", "quint8"),
    ("torch", "qint32"),
    ("torch", "float8_e4m3fn"),
    ("torch", "float8_e5m2"),
    // dtypes torch 2.3+ writes beside `_rebuild_tensor_v3` (UntypedStorage checkpoints).
    ("torch", "float8_e4m3fnuz"),
    ("torch", "float8_e5m2fnuz"),
    ("torch", "float8_e8m0fnu"),
    ("torch", "uint16"),
    ("torch", "uint32"),
    ("torch", "uint64"),
    ("torch", "per_tensor_affine"),
    ("torch", "per_channel_affine"),
    ("torch", "contiguous_format"),
    ("torch", "channels_last"),
    ("torch", "strided"),
    ("torch", "sparse_coo"),
    ("torch._utils", "_rebuild_tensor"),
    ("torch._utils", "_rebuild_tensor_v2"),
    ("torch._utils", "_rebuild_tensor_v3"),
    ("torch._utils", "_rebuild_parameter"),
    ("torch._utils", "_rebuild_parameter_with_state"),
    ("torch._utils", "_rebuild_qtensor"),
    ("torch._utils", "_rebuild_sparse_tensor"),
    ("torch._utils", "_rebuild_nested_tensor"),
    ("torch._utils", "_rebuild_device_tensor_from_numpy"),
    ("torch._utils", "_rebuild_meta_tensor_no_storage"),
    ("torch._utils", "_rebuild_wrapper_subclass"),
    ("torch._utils", "_rebuild_from_type"),
    ("torch._utils", "_rebuild_from_type_v2"),
    ("torch._tensor", "_rebuild_from_type"),
    ("torch._tensor", "_rebuild_from_type_v2"),
    // Activation functions stored as module attributes (nn.Transformer(activation=F.relu)):
    // pure tensor functions.
    ("torch.nn.functional", "*"),
    // TorchScript archives: list builders of the C++ unpickler.
    ("torch.jit._pickle", "*"),
    ("torch.nn.parameter", "Parameter"),
    ("torch.nn.parameter", "Buffer"),
    ("torch.nn.parameter", "UninitializedParameter"),
    ("torch.storage", "TypedStorage"),
    ("torch.storage", "UntypedStorage"),
    ("torch.serialization", "_get_layout"),
    ("torch.nn.modules.module", "_IncompatibleKeys"),
    ("torch.nn.utils.parametrize", "ParametrizationList"),
    ("torch.ao.quantization.qconfig", "QConfig"),
    ("torch.optim.lr_scheduler", "*"),
    ("torch.optim.adam", "Adam"),
    ("torch.optim.adamw", "AdamW"),
    ("torch.optim.sgd", "SGD"),
    ("torch.optim.rmsprop", "RMSprop"),
    ("torch.optim.adagrad", "Adagrad"),
    ("torch.optim.optimizer", "_RequiredParameter"),
    ("torch.cuda.amp.grad_scaler", "GradScaler"),
    ("torch.amp.grad_scaler", "GradScaler"),
    ("torch.distributed._shard.sharded_tensor", "ShardedTensor"),
    ("torch.utils.data.dataloader", "DataLoader"),
    ("torch.utils.data.dataset", "TensorDataset"),
    // numpy
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy", "matrix"),
    // How `np.matrix` pickles name it (joblib's own test data has it).
    ("numpy.matrixlib.defmatrix", "matrix"),
    ("numpy", "bool_"),
    ("numpy", "int8"),
    ("numpy", "int16"),
    ("numpy", "int32"),
    ("numpy", "int64"),
    ("numpy", "uint8"),
    ("numpy", "uint16"),
    ("numpy", "uint32"),
    ("numpy", "uint64"),
    ("numpy", "float16"),
    ("numpy", "float32"),
    ("numpy", "float64"),
    ("numpy", "longdouble"),
    ("numpy", "complex64"),
    ("numpy", "complex128"),
    ("numpy", "str_"),
    ("numpy", "bytes_"),
    ("numpy", "object_"),
    ("numpy", "datetime64"),
    ("numpy", "timedelta64"),
    ("numpy", "void"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy.core._multiarray_umath", "_reconstruct"),
    ("numpy.dtypes", "*"),
    ("numpy.ma.core", "_mareconstruct"),
    ("numpy.ma.core", "MaskedArray"),
    ("numpy.random._pickle", "__randomstate_ctor"),
    ("numpy.random._pickle", "__bit_generator_ctor"),
    ("numpy.random._pickle", "__generator_ctor"),
    ("numpy.random.mtrand", "RandomState"),
    ("numpy.random._generator", "Generator"),
    ("numpy.random._mt19937", "MT19937"),
    ("numpy.random._pcg64", "PCG64"),
    ("numpy.random._pcg64", "PCG64DXSM"),
    ("numpy.random._philox", "Philox"),
    ("numpy.random._sfc64", "SFC64"),
    ("numpy.random.bit_generator", "SeedSequence"),
    // scipy
    ("scipy.sparse._csr", "csr_matrix"),
    ("scipy.sparse._csc", "csc_matrix"),
    ("scipy.sparse._coo", "coo_matrix"),
    ("scipy.sparse._csr", "csr_array"),
    ("scipy.sparse._csc", "csc_array"),
    ("scipy.sparse.csr", "csr_matrix"),
    ("scipy.sparse.csc", "csc_matrix"),
    ("scipy.stats._distn_infrastructure", "rv_continuous_frozen"),
    ("scipy.stats._distn_infrastructure", "rv_discrete_frozen"),
    // pandas
    ("pandas.core.frame", "DataFrame"),
    ("pandas.core.series", "Series"),
    ("pandas.core.indexes.base", "Index"),
    ("pandas.core.indexes.base", "_new_Index"),
    ("pandas.core.indexes.range", "RangeIndex"),
    ("pandas.core.indexes.multi", "MultiIndex"),
    ("pandas.core.indexes.datetimes", "DatetimeIndex"),
    ("pandas.core.indexes.datetimes", "_new_DatetimeIndex"),
    ("pandas.core.indexes.category", "CategoricalIndex"),
    ("pandas.core.indexes.period", "PeriodIndex"),
    ("pandas.core.indexes.timedeltas", "TimedeltaIndex"),
    ("pandas.core.internals.managers", "BlockManager"),
    ("pandas.core.internals.managers", "SingleBlockManager"),
    ("pandas.core.internals.blocks", "new_block"),
    ("pandas.core.internals.blocks", "Block"),
    ("pandas._libs.internals", "_unpickle_block"),
    ("pandas._libs.tslibs.timestamps", "_unpickle_timestamp"),
    ("pandas._libs.tslibs.timedeltas", "_timedelta_unpickle"),
    ("pandas._libs.tslibs.nattype", "__nat_unpickle"),
    ("pandas._libs.tslibs.offsets", "*"),
    ("pandas._libs.arrays", "__pyx_unpickle_NDArrayBacked"),
    ("pandas.core.arrays.categorical", "Categorical"),
    ("pandas.core.arrays.datetimes", "DatetimeArray"),
    ("pandas.core.arrays.timedeltas", "TimedeltaArray"),
    ("pandas.core.arrays.string_", "StringArray"),
    ("pandas.core.arrays.string_", "StringDtype"),
    ("pandas.core.arrays.integer", "IntegerArray"),
    ("pandas.core.arrays.floating", "FloatingArray"),
    ("pandas.core.arrays.boolean", "BooleanArray"),
    ("pandas.core.arrays.masked", "BaseMaskedArray"),
    ("pandas.core.dtypes.dtypes", "CategoricalDtype"),
    ("pandas.core.dtypes.dtypes", "DatetimeTZDtype"),
    ("pandas.core.dtypes.dtypes", "PeriodDtype"),
    ("pandas.core.arrays.integer", "Int64Dtype"),
    ("pandas.core.arrays.integer", "Int32Dtype"),
    ("pandas.core.arrays.floating", "Float64Dtype"),
    ("pandas.core.arrays.boolean", "BooleanDtype"),
    ("pandas._libs.tslibs.timezones", "*"),
    // pandas >= 2 pickles its public names (`pandas.DataFrame`, `pandas.arrays.IntegerArray`).
    ("pandas", "DataFrame"),
    ("pandas", "Series"),
    ("pandas", "Index"),
    ("pandas", "RangeIndex"),
    ("pandas", "MultiIndex"),
    ("pandas", "DatetimeIndex"),
    ("pandas", "TimedeltaIndex"),
    ("pandas", "PeriodIndex"),
    ("pandas", "CategoricalIndex"),
    ("pandas", "IntervalIndex"),
    ("pandas", "Categorical"),
    ("pandas", "CategoricalDtype"),
    ("pandas", "DatetimeTZDtype"),
    ("pandas", "PeriodDtype"),
    ("pandas", "IntervalDtype"),
    ("pandas", "SparseDtype"),
    ("pandas", "StringDtype"),
    ("pandas", "BooleanDtype"),
    ("pandas", "Int8Dtype"),
    ("pandas", "Int16Dtype"),
    ("pandas", "Int32Dtype"),
    ("pandas", "Int64Dtype"),
    ("pandas", "UInt8Dtype"),
    ("pandas", "UInt16Dtype"),
    ("pandas", "UInt32Dtype"),
    ("pandas", "UInt64Dtype"),
    ("pandas", "Float32Dtype"),
    ("pandas", "Float64Dtype"),
    ("pandas", "Timestamp"),
    ("pandas", "Timedelta"),
    ("pandas", "Period"),
    ("pandas", "Interval"),
    ("pandas.arrays", "*"),
    ("pandas", "NA"),
    ("pandas", "NaT"),
    ("pandas._libs.missing", "NA"),
    ("pandas.core.internals.blocks", "new_block_2d"),
    ("pandas.core.internals.blocks", "maybe_coerce_values"),
    ("pytz", "_p"),
    ("pytz", "_UTC"),
    ("pytz", "UTC"),
    ("dateutil.tz.tz", "tzutc"),
    ("dateutil.tz.tz", "tzlocal"),
    ("dateutil.tz._tzfile", "tzfile"),
    ("dateutil.tz._tzfile", "_unpickle"),
    ("pandas._libs.sparse", "IntIndex"),
    ("pandas._libs.sparse", "BlockIndex"),
    ("dateutil.tz.tz", "tzoffset"),
    // joblib's wrapper records for arrays written in-band.
    ("joblib.numpy_pickle", "NumpyArrayWrapper"),
    ("joblib.numpy_pickle", "NDArrayWrapper"),
    ("joblib.numpy_pickle_compat", "NDArrayWrapper"),
    ("joblib.numpy_pickle_compat", "ZNDArrayWrapper"),
    ("sklearn.externals.joblib.numpy_pickle", "NumpyArrayWrapper"),
    // xgboost / lightgbm / catboost model objects.
    ("xgboost.core", "Booster"),
    ("xgboost.sklearn", "XGBClassifier"),
    ("xgboost.sklearn", "XGBRegressor"),
    ("xgboost.sklearn", "XGBRanker"),
    ("xgboost.sklearn", "XGBRFClassifier"),
    ("xgboost.sklearn", "XGBRFRegressor"),
    ("lightgbm.basic", "Booster"),
    ("lightgbm.sklearn", "LGBMClassifier"),
    ("lightgbm.sklearn", "LGBMRegressor"),
    ("lightgbm.sklearn", "LGBMRanker"),
    ("catboost.core", "CatBoostClassifier"),
    ("catboost.core", "CatBoostRegressor"),
    // transformers / tokenizers / accelerate / lightning
    ("transformers.tokenization_utils_base", "BatchEncoding"),
    ("transformers.trainer_utils", "IntervalStrategy"),
    ("transformers.trainer_utils", "SchedulerType"),
    ("transformers.trainer_utils", "HubStrategy"),
    ("transformers.trainer_utils", "SaveStrategy"),
    ("transformers.training_args", "OptimizerNames"),
    ("transformers.training_args", "TrainingArguments"),
    ("transformers.trainer_pt_utils", "AcceleratorConfig"),
    ("transformers.debug_utils", "DebugOption"),
    ("transformers.utils.generic", "PaddingStrategy"),
    ("transformers.utils.generic", "ExplicitEnum"),
    ("tokenizers", "Tokenizer"),
    ("tokenizers", "AddedToken"),
    ("tokenizers.models", "*"),
    ("accelerate.state", "PartialState"),
    ("accelerate.utils.dataclasses", "DistributedType"),
    ("accelerate.utils.dataclasses", "DataLoaderConfiguration"),
    ("lightning.fabric.utilities.data", "AttributeDict"),
    ("lightning_fabric.utilities.data", "AttributeDict"),
    ("pytorch_lightning.utilities.parsing", "AttributeDict"),
    ("lightning.pytorch.utilities.parsing", "AttributeDict"),
    ("omegaconf.dictconfig", "DictConfig"),
    ("omegaconf.listconfig", "ListConfig"),
    ("omegaconf.base", "ContainerMetadata"),
    ("omegaconf.base", "Metadata"),
    ("omegaconf.nodes", "AnyNode"),
    ("omegaconf.nodes", "ValueNode"),
    ("typing", "Any"),
];

/// scikit-learn estimators live in many private modules (`sklearn.linear_model._logistic`);
/// their classes only hold fitted arrays. A name under `sklearn.` that is a class (leading
/// capital) or one of its Cython unpicklers is allowed; functions such as
/// `sklearn.utils._testing` helpers are not.
fn sklearn_safe(module: &str, name: &str) -> bool {
    let Some(rest) = module.strip_prefix("sklearn.") else {
        return false;
    };
    if rest.starts_with("utils._testing")
        || rest.starts_with("externals")
        || rest.starts_with("datasets")
        || rest.starts_with("_build_utils")
        || rest.starts_with("_config")
    {
        return false;
    }
    let first = name.trim_start_matches('_').chars().next().unwrap_or('_');
    // Classes (public or private, `_BinMapper`), Cython unpicklers and Cython's `newObj`
    // helper that builds extension types (`sklearn.neighbors._kd_tree.newObj`).
    first.is_ascii_uppercase() || name.starts_with("__pyx_unpickle_") || name == "newObj"
}

/// Cython extension types in allowlisted packages pickle through generated
/// `__pyx_unpickle_<Class>` functions that only rebuild that class's state.
fn cython_unpickler(module: &str, name: &str) -> bool {
    name.starts_with("__pyx_unpickle_")
        && ["numpy.random.", "pandas._libs.", "sklearn.", "scipy."]
            .iter()
            .any(|p| module.starts_with(p))
}

/// torch.nn modules (`torch.nn.modules.linear.Linear`) and activation/normalisation classes
/// appear in full-model saves; only classes (leading capital) are allowed.
fn torch_module_safe(module: &str, name: &str) -> bool {
    const CLASS_MODULES: &[&str] = &[
        "torch.nn.modules.",
        "torch.ao.nn.",
        "torch.nn.quantized.",
        "torch.nn.utils.prune",
        "torch.nn.utils.weight_norm",
        "torch.nn.utils.spectral_norm",
        "torch.nn.utils.parametrize",
        "torch.nn.utils.parametrizations",
    ];
    CLASS_MODULES.iter().any(|p| module.starts_with(p))
        && name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
}

/// Full-model saves of Hugging Face models pickle the model, block and config classes
/// (`transformers.models.gpt2.modeling_gpt2.GPT2Block`). Classes only, and only from
/// modeling/configuration modules and a few layer helpers — not tokenizers or pipelines.
fn transformers_class_safe(module: &str, name: &str) -> bool {
    let class = name.chars().next().is_some_and(|c| c.is_ascii_uppercase());
    if !class {
        return false;
    }
    if let Some(rest) = module.strip_prefix("transformers.models.") {
        let leaf = rest.rsplit('.').next().unwrap_or("");
        return leaf.starts_with("modeling_") || leaf.starts_with("configuration_");
    }
    matches!(
        module,
        "transformers.activations"
            | "transformers.pytorch_utils"
            | "transformers.configuration_utils"
            | "transformers.generation.configuration_utils"
            | "transformers.modeling_utils"
    )
}

/// TorchScript archives name their compiled classes `__torch__.<path>`. No Python module
/// has that name: `torch.jit.load` resolves them against the archive's own TorchScript
/// code (which cannot import Python), and `pickle.load` fails to import them.
fn torchscript_class(module: &str) -> bool {
    module == "__torch__" || module.starts_with("__torch__.")
}

fn is_safe(module: &str, name: &str) -> bool {
    torchscript_class(module)
        || cython_unpickler(module, name)
        || transformers_class_safe(module, name)
        || SAFE
            .iter()
            .any(|(m, n)| *m == module && (*n == "*" || *n == name))
        || sklearn_safe(module, name)
        || torch_module_safe(module, name)
}

fn dangerous_name(module: &str, name: &str) -> Option<(Tier, &'static str)> {
    DANGEROUS_NAMES
        .iter()
        .filter(|(m, n, _, _)| *n == name && (module == *m || module.starts_with(&format!("{m}."))))
        .map(|(_, _, t, why)| (*t, *why))
        .max()
}

fn dangerous_module(module: &str) -> Option<(Tier, &'static str)> {
    let mut best: Option<(Tier, &'static str)> = None;
    for (m, t, why) in DANGEROUS_MODULES {
        let hit = module == *m
            || module
                .strip_prefix(m)
                .is_some_and(|rest| rest.starts_with('.'));
        if hit && *t > Tier::Unknown && best.is_none_or(|b| *t > b.0) {
            best = Some((*t, *why));
        }
    }
    best
}

/// Final attribute names that, reached through an attribute walk on an unknown object,
/// are almost certainly a payload (the module re-exports `os` under another name).
const SUSPICIOUS_ATTRS: &[&str] = &[
    "system",
    "popen",
    "exec",
    "eval",
    "execv",
    "execve",
    "execl",
    "spawn",
    "spawnv",
    "Popen",
    "call",
    "check_call",
    "check_output",
    "run",
    "getoutput",
    "getstatusoutput",
    "__import__",
    "import_module",
    "loads",
    "load",
    "compile",
    "getattr",
    "__getattribute__",
    "__builtins__",
    "__globals__",
    "__subclasses__",
    "open",
    "remove",
    "unlink",
    "rmtree",
];

/// Classifies one global. `user_allowed` is the project's `allow.globals`: it lowers
/// unknown globals (and dotted names) to safe, never the built-in dangerous lists — a
/// project's own classes are what it is for, not `os.system`.
pub fn classify(module: &str, name: &str, user_allowed: &dyn Fn(&str, &str) -> bool) -> Class {
    let c = classify_builtin(module, name);
    if matches!(c.tier, Tier::Unknown | Tier::Dynamic) && c.resolved.is_none() {
        let m = alias(module);
        if user_allowed(module, name) || (m != module && user_allowed(m, name)) {
            return Class {
                tier: Tier::Safe,
                max_use: Use::Call,
                why: "allowed by allow.globals",
                resolved: None,
                wrapper: false,
            };
        }
    }
    // The project's own classes (defined in a `.py` file of the scanned tree): safe to
    // rebuild as objects; called with pickled arguments they stay medium.
    if c.tier == Tier::Unknown
        && c.resolved.is_none()
        && !name.contains('.')
        && crate::python::first_party::defines(module, name)
    {
        return Class {
            tier: Tier::Safe,
            max_use: Use::Object,
            why: "first-party: defined in the scanned repository's own Python code",
            resolved: None,
            wrapper: false,
        };
    }
    c
}

fn classify_builtin(module: &str, name: &str) -> Class {
    let m = alias(module);
    let resolved_name = |m2: &str, n2: &str| {
        let r = format!("{m2}.{n2}");
        (r != format!("{module}.{name}")).then_some(r)
    };

    // Candidates: (module, name) itself, and for a dotted name every split of the walk.
    // `pathlib` + `os.system` gives (pathlib, os.system), (pathlib.os, system) and, read
    // as a module path of its own, (os, system).
    let mut candidates: Vec<(String, String)> = vec![(m.to_string(), name.to_string())];
    let dotted = name.contains('.');
    if dotted {
        let parts: Vec<&str> = name.split('.').collect();
        for (head, tail) in (1..parts.len()).filter_map(|i| parts.split_at_checked(i)) {
            let head = head.join(".");
            let tail = tail.join(".");
            candidates.push((alias(&format!("{m}.{head}")).to_string(), tail.clone()));
            candidates.push((alias(&head).to_string(), tail));
        }
    }

    let mut worst: Option<(Tier, &'static str, Option<String>)> = None;
    fn consider(
        worst: &mut Option<(Tier, &'static str, Option<String>)>,
        t: Tier,
        why: &'static str,
        r: Option<String>,
    ) {
        if worst.as_ref().is_none_or(|w| t > w.0) {
            *worst = Some((t, why, r));
        }
    }
    for (cm, cn) in &candidates {
        // Exact dangerous names are checked on the last attribute of the walk.
        let last = cn.rsplit('.').next().unwrap_or(cn);
        let owner = match cn.rfind('.') {
            Some(i) => format!("{cm}.{}", &cn[..i]),
            None => cm.clone(),
        };
        if let Some((t, why)) = dangerous_name(alias(&owner), last) {
            consider(&mut worst, t, why, resolved_name(alias(&owner), last));
        }
    }
    if let Some((t, why, r)) = worst.clone() {
        return Class {
            tier: t,
            max_use: Use::Call,
            why,
            resolved: r,
            wrapper: false,
        };
    }

    // Globals real libraries write whose load-time code a reviewer must see.
    if let Some(why) = [module, m]
        .into_iter()
        .find_map(|mm| table::risky(mm, name))
    {
        return Class {
            tier: Tier::Unknown,
            max_use: Use::Call,
            why,
            resolved: None,
            wrapper: false,
        };
    }

    // Dotted names are only safe when listed exactly (bound methods such as
    // `zoneinfo.ZoneInfo._unpickle`, reached through `getattr`).
    let exact_safe = |m: &str| SAFE.iter().any(|(sm, sn)| *sm == m && *sn == name);
    if (!dotted && (is_safe(m, name) || is_safe(module, name)))
        || (dotted && (exact_safe(m) || exact_safe(module)))
    {
        return Class {
            tier: Tier::Safe,
            max_use: Use::Call,
            why: "known-safe ML global",
            resolved: None,
            wrapper: false,
        };
    }
    // The generated allowlist: safe for the use its entry vets, and never inside a
    // dangerous module (the generator checks that too; the scanner does not trust it).
    if !dotted {
        let generated = [module, m]
            .into_iter()
            .filter(|mm| dangerous_module(alias(mm)).is_none())
            .find_map(|mm| table::safe(mm, name));
        if let Some(e) = generated {
            return Class {
                tier: Tier::Safe,
                max_use: e.max_use,
                why: e.why,
                resolved: None,
                wrapper: false,
            };
        }
    }
    // dill's array record: `_create_array(f, args, state, npdict)` is `f(*args)` then
    // `__setstate__(state)` and a `__dict__` update: judged by `f` (see the machine).
    if m == "dill._dill" && name == "_create_array" {
        return Class {
            tier: Tier::Safe,
            max_use: Use::Call,
            why: "judged by the reconstructor it calls",
            resolved: None,
            wrapper: true,
        };
    }
    // `Class.attr` of an allowlisted class (protocol 4 names methods and nested classes by
    // qualified name: `interp1d._call_linear_np` stored as a value): a plain attribute
    // lookup on a vetted class. Only as a value: calling it runs a method nobody vetted.
    if let [class, attr] = name.split('.').collect::<Vec<_>>()[..] {
        let plain = |s: &str| {
            !s.starts_with("__")
                && !s.is_empty()
                && s.bytes().all(|b| b == b'_' || b.is_ascii_alphanumeric())
        };
        let class_safe = |mm: &str| is_safe(mm, class) || table::safe(mm, class).is_some();
        if plain(class)
            && plain(attr)
            && !SUSPICIOUS_ATTRS.contains(&attr)
            && (class_safe(m) || class_safe(module))
            && dangerous_module(m).is_none()
        {
            return Class {
                tier: Tier::Safe,
                max_use: Use::Ref,
                why: "an attribute of an allowlisted class",
                resolved: None,
                wrapper: false,
            };
        }
    }
    if m == "functools" && name == "partial" {
        return Class {
            tier: Tier::Safe,
            max_use: Use::Call,
            why: "judged by the callable it wraps",
            resolved: None,
            wrapper: true,
        };
    }

    for (cm, cn) in &candidates {
        let full_owner = match cn.rfind('.') {
            Some(i) => format!("{cm}.{}", &cn[..i]),
            None => cm.clone(),
        };
        for owner in [cm.as_str(), full_owner.as_str()] {
            if let Some((t, why)) = dangerous_module(alias(owner)) {
                // Name what it resolves to when an alias or a split changed it.
                let r = format!("{}.{}", alias(cm), cn);
                let r = (r != format!("{module}.{name}")).then_some(r);
                consider(&mut worst, t, why, r);
            }
        }
    }
    if dotted {
        // An attribute walk (`tempfile._os.system`) reaches whatever the module imported;
        // ending on a callable that runs code makes it a payload whatever the module.
        let last = name.rsplit('.').next().unwrap_or(name);
        let (t, why) = if SUSPICIOUS_ATTRS.contains(&last) {
            (Tier::Code, "walks attributes to a callable that runs code")
        } else {
            (Tier::Dynamic, "walks attributes through a dotted name")
        };
        consider(&mut worst, t, why, None);
    }
    if let Some((t, why, r)) = worst {
        return Class {
            tier: t,
            max_use: Use::Call,
            why,
            resolved: r,
            wrapper: false,
        };
    }
    Class {
        tier: Tier::Unknown,
        max_use: Use::Call,
        why: "not on the allowlist of known-safe ML globals",
        resolved: None,
        wrapper: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tier(m: &str, n: &str) -> Tier {
        classify(m, n, &|_, _| false).tier
    }

    #[test]
    fn aliases_fold_to_the_same_module() {
        assert_eq!(tier("posix", "system"), Tier::Code);
        assert_eq!(tier("nt", "system"), Tier::Code);
        assert_eq!(tier("_operator", "attrgetter"), Tier::Code);
        assert_eq!(tier("__builtin__", "eval"), Tier::Code);
        assert_eq!(tier("_io", "FileIO"), Tier::System);
        assert_eq!(tier("_pickle", "loads"), Tier::Code);
    }

    #[test]
    fn module_prefixes_match() {
        assert_eq!(
            tier("asyncio.unix_events", "_UnixSubprocessTransport"),
            Tier::Code
        );
        assert_eq!(tier("os.path", "join"), Tier::Code);
        assert_eq!(tier("http.client", "HTTPConnection"), Tier::System);
        // "osmium" is not "os".
        assert_eq!(tier("osmium", "thing"), Tier::Unknown);
    }

    #[test]
    fn dotted_names_resolve_every_split() {
        let c = classify("pathlib", "os.system", &|_, _| false);
        assert_eq!(c.tier, Tier::Code);
        assert_eq!(c.resolved.as_deref(), Some("os.system"));
        assert_eq!(tier("mypkg", "_os.system"), Tier::Code);
        assert_eq!(tier("mypkg", "Outer.Inner"), Tier::Dynamic);
        assert_eq!(tier("builtins", "__dict__.get"), Tier::Dynamic);
    }

    #[test]
    fn ml_globals_are_safe_and_gadgets_are_not() {
        assert_eq!(tier("torch._utils", "_rebuild_tensor_v2"), Tier::Safe);
        assert_eq!(tier("torch.nn.modules.linear", "Linear"), Tier::Safe);
        assert_eq!(tier("collections", "OrderedDict"), Tier::Safe);
        assert_eq!(tier("numpy._core.multiarray", "_reconstruct"), Tier::Safe);
        assert_eq!(
            tier("sklearn.linear_model._logistic", "LogisticRegression"),
            Tier::Safe
        );
        assert_eq!(tier("torch.utils.collect_env", "run"), Tier::Code);
        assert_eq!(
            tier("numpy.testing._private.utils", "runstring"),
            Tier::Code
        );
        assert_eq!(
            tier("torch._inductor.codecache", "compile_file"),
            Tier::Code
        );
        assert_eq!(tier("torch.serialization", "load"), Tier::Code);
    }

    #[test]
    fn ecosystem_classes_found_in_real_saves_are_safe() {
        // Each of these appeared in an ordinary file written by the library (see the
        // benign fixtures); each was a false alarm before it was listed.
        for (m, n) in [
            ("numpy.random.bit_generator", "__pyx_unpickle_SeedSequence"),
            (
                "sklearn.ensemble._hist_gradient_boosting.binning",
                "_BinMapper",
            ),
            ("sklearn.neighbors._kd_tree", "newObj"),
            ("pandas._libs.interval", "__pyx_unpickle_IntervalMixin"),
            ("torch.nn.functional", "relu"),
            ("transformers.models.gpt2.modeling_gpt2", "GPT2Block"),
            ("transformers.models.gpt2.configuration_gpt2", "GPT2Config"),
            ("torch.nn.utils.prune", "L1Unstructured"),
            ("torch", "ScriptObject"),
        ] {
            assert_eq!(tier(m, n), Tier::Safe, "{m}.{n}");
        }
        // ... while functions next to them are not.
        assert_eq!(
            tier(
                "transformers.models.gpt2.tokenization_gpt2",
                "GPT2Tokenizer"
            ),
            Tier::Unknown
        );
        assert_eq!(tier("sklearn.utils._testing", "SkipTest"), Tier::Unknown);
        assert_eq!(tier("numpy.random.bit_generator", "other"), Tier::Unknown);
    }

    #[test]
    fn library_gadgets_are_critical() {
        for (m, n) in [
            ("sympy", "sympify"),
            ("hydra.utils", "instantiate"),
            ("hydra.utils", "get_method"),
            (
                "transformers.dynamic_module_utils",
                "get_class_from_dynamic_module",
            ),
            ("numpy.lib.format", "read_array"),
            ("logging.config", "dictConfig"),
            ("logging.config", "_resolve"),
            ("joblib.externals.loky.backend.popen_loky_posix", "Popen"),
            (
                "torch.distributed.elastic.multiprocessing.api",
                "start_processes",
            ),
            ("sklearn.utils._testing", "assert_run_python_script"),
            ("pydoc", "locate"),
        ] {
            assert_eq!(tier(m, n), Tier::Code, "{m}.{n}");
        }
        // Ordinary classes beside them stay what they were.
        assert_eq!(tier("sklearn.utils._testing", "SkipTest"), Tier::Unknown);
        assert_ne!(tier("logging", "Logger"), Tier::Code);
    }

    #[test]
    fn trio_tiers() {
        assert_eq!(tier("posix", "system"), Tier::Code);
        assert_eq!(tier("webbrowser", "open"), Tier::System);
        assert_eq!(tier("builtins", "print"), Tier::Unknown);
    }

    #[test]
    fn user_allowlist_lowers_unknown_but_not_dangerous() {
        let c = classify("mypkg.models", "Net", &|m, _| m.starts_with("mypkg."));
        assert_eq!(c.tier, Tier::Safe);
        let c = classify("posix", "system", &|_, _| true);
        assert_eq!(c.tier, Tier::Code);
    }

    #[test]
    fn partial_is_a_wrapper() {
        let c = classify("functools", "partial", &|_, _| false);
        assert!(c.wrapper);
        assert_eq!(tier("_functools", "reduce"), Tier::Code);
    }
}
