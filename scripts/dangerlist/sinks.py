"""The sinks of the call-graph pass: callables that, given attacker-chosen arguments, run code
or reach outside the process. See README.md for how they are used.

A sink is matched on the qualified name a call resolves to (after import aliases and
re-exports are followed, and after C-module aliases such as `posix` -> `os` are folded), or,
for a method called on an object whose class is known (`pathlib.Path(p).write_text(...)`),
on `<class>.<method>` for every class of the receiver's MRO.

Each entry says which argument must carry the attacker's data ("relevant argument"), as a
position and a keyword name, or RECV for the receiver of a method call; and a condition that
must hold for the call to be dangerous (an `open` with a read-only constant mode is not a file
write). A condition returns (tier, note) or None.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

CRITICAL = "critical"
HIGH = "high"
TIER_RANK = {HIGH: 1, CRITICAL: 2}

RECV = "<recv>"

# Programs that run code given as an argument: `[sys.executable, "-c", code]` is as bad as
# a command chosen by the attacker.
INTERPRETERS = {
    "executable",  # sys.executable
    "python",
    "python3",
    "sh",
    "bash",
    "zsh",
    "cmd",
    "cmd.exe",
    "powershell",
    "pwsh",
    "node",
    "perl",
    "ruby",
    "env",
}

SAFE_YAML_LOADERS = {"SafeLoader", "CSafeLoader", "BaseLoader", "CBaseLoader"}
WRITE_FLAGS = {"O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND"}


@dataclass(frozen=True)
class Arg:
    """What the call site passed for one argument."""

    labels: frozenset  # taint labels (which parameters of the caller flow into it)
    const: object = None  # the constant, if the argument is a literal
    is_const: bool = False
    names: frozenset = frozenset()  # identifiers / attribute names written in the expression
    elems: Optional[tuple] = None  # for a list/tuple literal: the Arg of each element
    param: Optional[str] = None  # the caller's parameter, when the argument is just its name


@dataclass(frozen=True)
class Sink:
    tier: str
    noun: str  # what the relevant argument is, for the reason ("command", "path", ...)
    pos: object  # int position, RECV, or None (keyword only)
    kw: Optional[str]
    cond: Optional[Callable] = None  # (call, arg) -> (tier, note) | None ; None = always
    kind: str = ""


def _arg_of(call, pos, kw):
    """The Arg passed at `pos`/`kw`, or one made of *args / **kwargs labels, or None."""
    if pos == RECV:
        return call.recv
    if kw is not None and kw in call.kwargs:
        return call.kwargs[kw]
    if isinstance(pos, int) and pos < len(call.args):
        return call.args[pos]
    labels = frozenset()
    if isinstance(pos, int) and call.star_labels and pos >= call.n_plain_positional:
        labels |= call.star_labels
    if kw is not None and call.dstar_labels:
        labels |= call.dstar_labels
    if labels:
        return Arg(labels=labels)
    return None


def _opt(call, pos, kw):
    return _arg_of(call, pos, kw)


# -- conditions ---------------------------------------------------------------------------


def cond_command(call, arg):
    """A command: the program chosen by the attacker is critical; attacker arguments to a
    fixed program are high, unless the program is an interpreter or shell."""
    if arg.elems is not None:
        if not arg.elems:
            return None
        first = arg.elems[0]
        if first.labels:
            return CRITICAL, ""
        if any(e.labels for e in arg.elems[1:]):
            prog = first.const if first.is_const else None
            names = set(first.names)
            if isinstance(prog, str):
                names.add(prog.rsplit("/", 1)[-1])
            if names & INTERPRETERS:
                return CRITICAL, "arguments of the Python interpreter or a shell"
            shown = prog if isinstance(prog, str) else ".".join(sorted(first.names)) or "?"
            return HIGH, f"arguments of the fixed program {shown!r}"
        return None
    return (CRITICAL, "") if arg.labels else None


def cond_exec_path(call, arg):
    """os.exec*/spawn*: the path is the program; otherwise look at the argument vector."""
    if arg.labels:
        return CRITICAL, ""
    return None


def cond_open_write(mode_pos, mode_kw, default_write=False):
    def cond(call, arg):
        if not arg.labels:
            return None
        mode = _opt(call, mode_pos, mode_kw)
        if mode is None:
            return (HIGH, "") if default_write else None
        if mode.labels:
            return HIGH, "mode also from the caller"
        if mode.is_const and isinstance(mode.const, (str, bytes)):
            m = mode.const if isinstance(mode.const, str) else mode.const.decode("latin1")
            if any(c in m for c in "wax+"):
                return HIGH, ""
            return None
        # A computed mode we cannot read: count it only when it names write flags.
        if mode.names & WRITE_FLAGS:
            return HIGH, ""
        return None

    return cond


def cond_os_open(call, arg):
    if not arg.labels:
        return None
    flags = _opt(call, 1, "flags")
    if flags is None:
        return None
    if flags.labels or (flags.names & WRITE_FLAGS):
        return HIGH, ""
    return None


def cond_numpy_load(call, arg):
    if not arg.labels:
        return None
    ap = _opt(call, 2, "allow_pickle")
    if ap is None:
        return None
    if ap.labels:
        return CRITICAL, "allow_pickle also from the caller"
    if ap.is_const and ap.const is True:
        return CRITICAL, "allow_pickle=True"
    return None


# torch >= 2.6 loads with weights_only=True unless told otherwise; the driver sets this from
# the analysed torch version.
TORCH_LOAD_DEFAULT_SAFE = True


def cond_torch_load(call, arg):
    if not arg.labels:
        return None
    wo = _opt(call, None, "weights_only")
    if wo is None:
        if TORCH_LOAD_DEFAULT_SAFE:
            return None
        return CRITICAL, "weights_only not passed: the full unpickler before torch 2.6"
    if wo.labels:
        return CRITICAL, "weights_only also from the caller"
    if wo.is_const and wo.const is True:
        return None
    if wo.is_const and wo.const is None and TORCH_LOAD_DEFAULT_SAFE:
        return None
    if wo.is_const:
        return CRITICAL, f"weights_only={wo.const!r}"
    return CRITICAL, "weights_only not a constant"


def cond_yaml_load(call, arg):
    if not arg.labels:
        return None
    loader = _opt(call, 1, "Loader")
    if loader is None:
        return None  # PyYAML >= 6 requires Loader; older ones defaulted to FullLoader
    if loader.labels:
        return CRITICAL, "Loader also from the caller"
    if loader.names & SAFE_YAML_LOADERS or any("SafeLoader" in n for n in loader.names):
        return None  # yaml.SafeLoader and subclasses named after it (UniqueKeySafeLoader)
    return CRITICAL, "with a non-safe Loader"


def cond_tainted(tier):
    def cond(call, arg):
        return (tier, "") if arg.labels else None

    return cond


def cond_callable(tier):
    """Thread/process targets, atexit/finalizer callbacks: the callable comes from the caller."""

    def cond(call, arg):
        return (tier, "") if arg.labels else None

    return cond


def cond_getattr(call, arg):
    """getattr(<module looked up by name>, name): an attribute of any loaded module, chosen by
    the caller (`getattr(sys.modules[mod], name)`). getattr on the caller's own objects is
    not counted: a pickle already reaches module attributes through find_class, and its
    dotted names are judged by the scanner itself (README: blind spots)."""
    if not arg.labels:
        return None
    obj = _opt(call, 0, None)
    if obj is None or not obj.labels:
        return None
    if not (obj.names & {"modules", "import_module", "__import__"}):
        return None
    return CRITICAL, "attribute of a module looked up by name"


# -- the table ----------------------------------------------------------------------------

SINKS: dict[str, Sink] = {}


def _add(names, sink):
    for n in names.split():
        SINKS[n] = sink


# Code execution.
_add("builtins.exec builtins.eval", Sink(CRITICAL, "code", 0, None, cond_tainted(CRITICAL), "code"))
SINKS["builtins.eval"] = Sink(CRITICAL, "expression", 0, None, cond_tainted(CRITICAL), "code")
# builtins.compile is not a sink: it only builds a code object (ast.parse and
# ast.literal_eval call it); running one needs exec/eval/FunctionType, which are.
_add(
    "types.FunctionType types.LambdaType types.CodeType",
    Sink(CRITICAL, "code object", 0, None, cond_tainted(CRITICAL), "code"),
)
_add(
    "marshal.loads marshal.load",
    Sink(CRITICAL, "code data", 0, None, cond_tainted(CRITICAL), "code"),
)
_add(
    "code.InteractiveInterpreter.runsource code.InteractiveInterpreter.runcode "
    "code.InteractiveConsole.push",
    Sink(CRITICAL, "code", 0, None, cond_tainted(CRITICAL), "code"),
)
# Imports by name / from a path.
_add(
    "builtins.__import__ importlib.__import__ importlib.import_module importlib._bootstrap._gcd_import",
    Sink(CRITICAL, "module name", 0, "name", cond_tainted(CRITICAL), "import"),
)
_add(
    "pkgutil.resolve_name pydoc.locate",
    Sink(CRITICAL, "dotted name", 0, None, cond_tainted(CRITICAL), "import"),
)
_add(
    "importlib.util.spec_from_file_location",
    Sink(CRITICAL, "module path", 1, "location", cond_tainted(CRITICAL), "import"),
)
_add(
    "importlib.machinery.SourceFileLoader importlib.machinery.SourcelessFileLoader "
    "importlib.machinery.ExtensionFileLoader importlib._bootstrap_external.SourceFileLoader "
    "importlib._bootstrap_external.SourcelessFileLoader importlib._bootstrap_external.ExtensionFileLoader",
    Sink(CRITICAL, "module path", 1, "path", cond_tainted(CRITICAL), "import"),
)
_add(
    "imp.load_source imp.load_compiled imp.load_dynamic imp.load_package",
    Sink(CRITICAL, "module path", 1, "pathname", cond_tainted(CRITICAL), "import"),
)
_add("imp.load_module", Sink(CRITICAL, "module file", 1, "file", cond_tainted(CRITICAL), "import"))
_add(
    "runpy.run_path runpy.run_module",
    Sink(CRITICAL, "script", 0, None, cond_tainted(CRITICAL), "import"),
)
_add("zipimport.zipimporter", Sink(CRITICAL, "archive path", 0, None, cond_tainted(CRITICAL), "import"))
# `<anything>.exec_module(module)` / `.load_module(name)`: the loader protocol; the receiver is
# rarely typed, so these are matched on the method name alone (see README).
_add(
    "loader.exec_module",
    Sink(CRITICAL, "module", 0, None, cond_tainted(CRITICAL), "import"),
)
# Commands.
_add(
    "os.system os.popen",
    Sink(CRITICAL, "command", 0, "cmd", cond_tainted(CRITICAL), "command"),
)
_add(
    "os.execl os.execle os.execlp os.execlpe os.execv os.execve os.execvp os.execvpe "
    "os.posix_spawn os.posix_spawnp os.startfile",
    Sink(CRITICAL, "program", 0, "path", cond_exec_path, "command"),
)
_add(
    "os.spawnl os.spawnle os.spawnlp os.spawnlpe os.spawnv os.spawnve os.spawnvp os.spawnvpe",
    Sink(CRITICAL, "program", 1, "file", cond_exec_path, "command"),
)
_add(
    "subprocess.Popen subprocess.run subprocess.call subprocess.check_call "
    "subprocess.check_output",
    Sink(CRITICAL, "command", 0, "args", cond_command, "command"),
)
_add(
    "subprocess.getoutput subprocess.getstatusoutput",
    Sink(CRITICAL, "command", 0, "cmd", cond_tainted(CRITICAL), "command"),
)
_add("pty.spawn", Sink(CRITICAL, "command", 0, "argv", cond_command, "command"))
_add(
    "asyncio.create_subprocess_shell asyncio.subprocess.create_subprocess_shell",
    Sink(CRITICAL, "command", 0, "cmd", cond_tainted(CRITICAL), "command"),
)
_add(
    "asyncio.create_subprocess_exec asyncio.subprocess.create_subprocess_exec",
    Sink(CRITICAL, "program", 0, "program", cond_tainted(CRITICAL), "command"),
)
_add(
    "_posixsubprocess.fork_exec",
    Sink(CRITICAL, "command", 0, None, cond_tainted(CRITICAL), "command"),
)
# Nested loaders.
_add(
    "pickle.load pickle.loads pickle.Unpickler pickle._load pickle._loads pickle._Unpickler "
    "dill.load dill.loads dill._dill.load dill._dill.loads dill.Unpickler dill._dill.Unpickler "
    "cloudpickle.load cloudpickle.loads joblib.load joblib.numpy_pickle.load "
    "shelve.open shelve.DbfilenameShelf shelve.Shelf",
    Sink(CRITICAL, "data", 0, None, cond_tainted(CRITICAL), "nested"),
)
_add(
    "torch.load torch.serialization.load",
    Sink(CRITICAL, "data", 0, "f", cond_torch_load, "nested"),
)
_add(
    "numpy.load numpy.lib.npyio.load numpy.lib._npyio_impl.load",
    Sink(CRITICAL, "data", 0, "file", cond_numpy_load, "nested"),
)
_add(
    "yaml.load yaml.load_all",
    Sink(CRITICAL, "document", 0, "stream", cond_yaml_load, "nested"),
)
_add(
    "yaml.unsafe_load yaml.unsafe_load_all yaml.full_load yaml.full_load_all",
    Sink(CRITICAL, "document", 0, "stream", cond_tainted(CRITICAL), "nested"),
)
# Native libraries.
_add(
    "ctypes.CDLL ctypes.PyDLL ctypes.WinDLL ctypes.OleDLL ctypes.LibraryLoader.LoadLibrary "
    "ctypes.cdll.LoadLibrary ctypes.pydll.LoadLibrary ctypes.windll.LoadLibrary "
    "_ctypes.dlopen",
    Sink(CRITICAL, "library path", 0, "name", cond_tainted(CRITICAL), "native"),
)
# Attribute resolver.
_add("builtins.getattr", Sink(CRITICAL, "attribute name", 1, None, cond_getattr, "resolver"))

# Files.
_add(
    "builtins.open io.open io.FileIO _io.open _io.FileIO codecs.open",
    Sink(HIGH, "path", 0, "file", cond_open_write(1, "mode"), "file"),
)
SINKS["codecs.open"] = Sink(HIGH, "path", 0, "filename", cond_open_write(1, "mode"), "file")
SINKS["io.FileIO"] = Sink(HIGH, "path", 0, "file", cond_open_write(1, "mode"), "file")
_add("os.open", Sink(HIGH, "path", 0, "path", cond_os_open, "file"))
_add(
    "os.remove os.unlink os.rmdir os.removedirs os.rename os.renames os.replace os.truncate "
    "os.symlink os.link os.chmod os.chown os.lchown "
    "shutil.rmtree shutil.move shutil.copy shutil.copy2 shutil.copyfile shutil.copytree "
    "shutil.unpack_archive shutil.make_archive shutil.chown",
    Sink(HIGH, "path", 0, None, cond_tainted(HIGH), "file"),
)
# copy(src, dst): the destination is what is written.
_add(
    "shutil.copy shutil.copy2 shutil.copyfile shutil.copytree shutil.move os.rename os.renames "
    "os.replace os.symlink os.link",
    Sink(HIGH, "destination path", 1, "dst", cond_tainted(HIGH), "file"),
)
_add(
    "pathlib.Path.write_text pathlib.Path.write_bytes pathlib.Path.unlink pathlib.Path.rmdir "
    "pathlib.Path.touch pathlib.Path.rename pathlib.Path.replace pathlib.Path.symlink_to "
    "pathlib.Path.hardlink_to pathlib.Path.chmod",
    Sink(HIGH, "path", RECV, None, cond_tainted(HIGH), "file"),
)
SINKS["pathlib.Path.open"] = Sink(
    HIGH,
    "path",
    RECV,
    None,
    lambda call, arg: cond_open_write(0, "mode")(call, arg),
    "file",
)
_add(
    "tarfile.TarFile.extractall tarfile.TarFile.extract zipfile.ZipFile.extractall "
    "zipfile.ZipFile.extract",
    Sink(HIGH, "archive", RECV, None, cond_tainted(HIGH), "file"),
)
_add(
    "zipfile.ZipFile tarfile.open tarfile.TarFile.open gzip.open bz2.open lzma.open",
    Sink(HIGH, "path", 0, None, cond_open_write(1, "mode"), "file"),
)
_add(
    "numpy.save numpy.savez numpy.savez_compressed numpy.savetxt "
    "numpy.lib.npyio.save numpy.lib._npyio_impl.save numpy.lib._npyio_impl.savez "
    "numpy.lib._npyio_impl.savez_compressed numpy.lib._npyio_impl.savetxt",
    Sink(HIGH, "path", 0, "file", cond_tainted(HIGH), "file"),
)
_add(
    "torch.save torch.serialization.save joblib.dump joblib.numpy_pickle.dump",
    Sink(HIGH, "path", 1, None, cond_tainted(HIGH), "file"),
)
SINKS["torch.save"] = Sink(HIGH, "path", 1, "f", cond_tainted(HIGH), "file")
SINKS["torch.serialization.save"] = SINKS["torch.save"]
SINKS["joblib.dump"] = Sink(HIGH, "path", 1, "filename", cond_tainted(HIGH), "file")
SINKS["joblib.numpy_pickle.dump"] = SINKS["joblib.dump"]

# Network.
_add(
    "socket.create_connection socket.create_server socket.getaddrinfo socket.gethostbyname "
    "socket.gethostbyname_ex",
    Sink(HIGH, "address", 0, None, cond_tainted(HIGH), "network"),
)
_add(
    "socket.socket.connect socket.socket.connect_ex socket.socket.bind",
    Sink(HIGH, "address", 0, None, cond_tainted(HIGH), "network"),
)
_add("socket.socket.sendto", Sink(HIGH, "address", 1, None, cond_tainted(HIGH), "network"))
_add(
    "http.client.HTTPConnection http.client.HTTPSConnection ftplib.FTP ftplib.FTP_TLS "
    "smtplib.SMTP smtplib.SMTP_SSL poplib.POP3 poplib.POP3_SSL imaplib.IMAP4 imaplib.IMAP4_SSL "
    "telnetlib.Telnet xmlrpc.client.ServerProxy nntplib.NNTP",
    Sink(HIGH, "host", 0, None, cond_tainted(HIGH), "network"),
)
_add(
    "socketserver.TCPServer socketserver.UDPServer socketserver.ThreadingTCPServer "
    "http.server.HTTPServer http.server.ThreadingHTTPServer xmlrpc.server.SimpleXMLRPCServer",
    Sink(HIGH, "listening address", 0, None, cond_tainted(HIGH), "network"),
)
_add(
    "urllib.request.urlopen urllib.request.urlretrieve urllib.request.OpenerDirector.open "
    "urllib.request.URLopener.open urllib.request.URLopener.retrieve "
    "webbrowser.open webbrowser.open_new webbrowser.open_new_tab "
    "urllib3.request urllib3.connection_from_url "
    "httpx.get httpx.post httpx.put httpx.patch httpx.delete httpx.head httpx.options "
    "httpx._api.get httpx._api.post httpx._api.put httpx._api.patch httpx._api.delete "
    "httpx._api.head httpx._api.options "
    "requests.get requests.post requests.put requests.patch requests.delete requests.head "
    "requests.options requests.api.get requests.api.post requests.api.put requests.api.patch "
    "requests.api.delete requests.api.head requests.api.options "
    "huggingface_hub.hf_hub_download huggingface_hub.file_download.hf_hub_download "
    "huggingface_hub.snapshot_download huggingface_hub._snapshot_download.snapshot_download "
    "asyncio.open_connection asyncio.streams.open_connection",
    Sink(HIGH, "URL", 0, None, cond_tainted(HIGH), "network"),
)
_add(
    "requests.request requests.api.request httpx.request httpx.stream httpx._api.request "
    "httpx._api.stream urllib3.PoolManager.request urllib3.PoolManager.urlopen "
    "urllib3.poolmanager.PoolManager.request urllib3.poolmanager.PoolManager.urlopen "
    "urllib3._request_methods.RequestMethods.request "
    "requests.Session.request requests.sessions.Session.request "
    "httpx.Client.request httpx._client.Client.request httpx.Client.stream "
    "httpx._client.Client.stream httpx.AsyncClient.request httpx._client.AsyncClient.request",
    Sink(HIGH, "URL", 1, "url", cond_tainted(HIGH), "network"),
)
_add(
    "requests.Session.get requests.Session.post requests.Session.put requests.Session.patch "
    "requests.Session.delete requests.Session.head requests.Session.options "
    "requests.sessions.Session.get requests.sessions.Session.post requests.sessions.Session.put "
    "requests.sessions.Session.patch requests.sessions.Session.delete "
    "requests.sessions.Session.head requests.sessions.Session.options "
    "httpx.Client.get httpx.Client.post httpx.Client.put httpx.Client.patch httpx.Client.delete "
    "httpx._client.Client.get httpx._client.Client.post httpx._client.Client.put "
    "httpx._client.Client.patch httpx._client.Client.delete httpx._client.Client.head "
    "http.client.HTTPConnection.request",
    Sink(HIGH, "URL", 0, "url", cond_tainted(HIGH), "network"),
)
SINKS["http.client.HTTPConnection.request"] = Sink(HIGH, "URL", 1, "url", cond_tainted(HIGH), "network")

# Deferred execution, threads, processes.
_add("atexit.register", Sink(HIGH, "callback", 0, "func", cond_callable(HIGH), "deferred"))
_add("weakref.finalize", Sink(HIGH, "callback", 1, "func", cond_callable(HIGH), "deferred"))
_add("signal.signal", Sink(HIGH, "handler", 1, "handler", cond_callable(HIGH), "deferred"))
_add(
    "threading.Thread multiprocessing.Process multiprocessing.context.Process "
    "multiprocessing.process.BaseProcess",
    Sink(HIGH, "target callable", 1, "target", cond_callable(HIGH), "thread"),
)
_add("threading.Timer", Sink(HIGH, "callback", 1, "function", cond_callable(HIGH), "thread"))
_add(
    "_thread.start_new_thread _thread.start_new threading._start_new_thread",
    Sink(HIGH, "callback", 0, "function", cond_callable(HIGH), "thread"),
)
_add(
    "concurrent.futures.Executor.submit concurrent.futures._base.Executor.submit "
    "concurrent.futures.ThreadPoolExecutor.submit concurrent.futures.thread.ThreadPoolExecutor.submit "
    "concurrent.futures.ProcessPoolExecutor.submit concurrent.futures.process.ProcessPoolExecutor.submit",
    Sink(HIGH, "callback", 0, "fn", cond_callable(HIGH), "thread"),
)

# C-module aliases folded before matching (the same callables under another module name);
# kept in step with `alias()` in src/formats/pickle/globals.rs.
MODULE_ALIASES = {
    "posix": "os",
    "nt": "os",
    "_posix": "os",
    "__builtin__": "builtins",
    "_io": "io",
    "_pyio": "io",
    "_pickle": "pickle",
    "cPickle": "pickle",
    "_socket": "socket",
    "_thread": "_thread",
    "_marshal": "marshal",
    "_ctypes": "_ctypes",
    "_winapi": "subprocess",
}


def fold(name: str) -> str:
    head, _, rest = name.partition(".")
    if head in MODULE_ALIASES:
        return MODULE_ALIASES[head] + ("." + rest if rest else "")
    return name


def lookup(names):
    """The first sink among `names` (qualified names a call resolved through), in order."""
    for n in names:
        s = SINKS.get(fold(n))
        if s is not None:
            return fold(n), s
    return None
