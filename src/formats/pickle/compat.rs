//! Python 2 names that CPython's unpickler maps to Python 3 ones before importing them.
//!
//! `find_class` of the C and Python unpicklers, for a pickle whose protocol is below 3
//! (`PROTO 0..2`, or no `PROTO` at all) and `fix_imports=True` (the default of
//! `pickle.load`, `pickle.loads` and `torch.load`), looks `(module, name)` up in
//! `_compat_pickle.NAME_MAPPING`, else `module` in `_compat_pickle.IMPORT_MAPPING`, and
//! imports what it finds there: `__builtin__.reduce` is `functools.reduce`, `cStringIO` is
//! `io`. The tables below are CPython 3.11.7's `Lib/_compat_pickle.py`, generated from it.

use super::globals::{classify, Class};

/// `_compat_pickle.NAME_MAPPING`: `(module, name)` -> `(module, name)`, sorted.
static NAME_MAPPING: &[(&str, &str, &str, &str)] = &[
    ("UserDict", "IterableUserDict", "collections", "UserDict"),
    ("UserDict", "UserDict", "collections", "UserDict"),
    ("UserList", "UserList", "collections", "UserList"),
    ("UserString", "UserString", "collections", "UserString"),
    ("__builtin__", "basestring", "builtins", "str"),
    ("__builtin__", "intern", "sys", "intern"),
    ("__builtin__", "long", "builtins", "int"),
    ("__builtin__", "reduce", "functools", "reduce"),
    ("__builtin__", "unichr", "builtins", "chr"),
    ("__builtin__", "unicode", "builtins", "str"),
    ("__builtin__", "xrange", "builtins", "range"),
    (
        "_multiprocessing",
        "Connection",
        "multiprocessing.connection",
        "Connection",
    ),
    ("_socket", "fromfd", "socket", "fromfd"),
    (
        "exceptions",
        "ArithmeticError",
        "builtins",
        "ArithmeticError",
    ),
    ("exceptions", "AssertionError", "builtins", "AssertionError"),
    ("exceptions", "AttributeError", "builtins", "AttributeError"),
    ("exceptions", "BaseException", "builtins", "BaseException"),
    ("exceptions", "BufferError", "builtins", "BufferError"),
    ("exceptions", "BytesWarning", "builtins", "BytesWarning"),
    (
        "exceptions",
        "DeprecationWarning",
        "builtins",
        "DeprecationWarning",
    ),
    ("exceptions", "EOFError", "builtins", "EOFError"),
    (
        "exceptions",
        "EnvironmentError",
        "builtins",
        "EnvironmentError",
    ),
    ("exceptions", "Exception", "builtins", "Exception"),
    (
        "exceptions",
        "FloatingPointError",
        "builtins",
        "FloatingPointError",
    ),
    ("exceptions", "FutureWarning", "builtins", "FutureWarning"),
    ("exceptions", "GeneratorExit", "builtins", "GeneratorExit"),
    ("exceptions", "IOError", "builtins", "IOError"),
    ("exceptions", "ImportError", "builtins", "ImportError"),
    ("exceptions", "ImportWarning", "builtins", "ImportWarning"),
    (
        "exceptions",
        "IndentationError",
        "builtins",
        "IndentationError",
    ),
    ("exceptions", "IndexError", "builtins", "IndexError"),
    ("exceptions", "KeyError", "builtins", "KeyError"),
    (
        "exceptions",
        "KeyboardInterrupt",
        "builtins",
        "KeyboardInterrupt",
    ),
    ("exceptions", "LookupError", "builtins", "LookupError"),
    ("exceptions", "MemoryError", "builtins", "MemoryError"),
    ("exceptions", "NameError", "builtins", "NameError"),
    (
        "exceptions",
        "NotImplementedError",
        "builtins",
        "NotImplementedError",
    ),
    ("exceptions", "OSError", "builtins", "OSError"),
    ("exceptions", "OverflowError", "builtins", "OverflowError"),
    (
        "exceptions",
        "PendingDeprecationWarning",
        "builtins",
        "PendingDeprecationWarning",
    ),
    ("exceptions", "ReferenceError", "builtins", "ReferenceError"),
    ("exceptions", "RuntimeError", "builtins", "RuntimeError"),
    ("exceptions", "RuntimeWarning", "builtins", "RuntimeWarning"),
    ("exceptions", "StandardError", "builtins", "Exception"),
    ("exceptions", "StopIteration", "builtins", "StopIteration"),
    ("exceptions", "SyntaxError", "builtins", "SyntaxError"),
    ("exceptions", "SyntaxWarning", "builtins", "SyntaxWarning"),
    ("exceptions", "SystemError", "builtins", "SystemError"),
    ("exceptions", "SystemExit", "builtins", "SystemExit"),
    ("exceptions", "TabError", "builtins", "TabError"),
    ("exceptions", "TypeError", "builtins", "TypeError"),
    (
        "exceptions",
        "UnboundLocalError",
        "builtins",
        "UnboundLocalError",
    ),
    (
        "exceptions",
        "UnicodeDecodeError",
        "builtins",
        "UnicodeDecodeError",
    ),
    (
        "exceptions",
        "UnicodeEncodeError",
        "builtins",
        "UnicodeEncodeError",
    ),
    ("exceptions", "UnicodeError", "builtins", "UnicodeError"),
    (
        "exceptions",
        "UnicodeTranslateError",
        "builtins",
        "UnicodeTranslateError",
    ),
    ("exceptions", "UnicodeWarning", "builtins", "UnicodeWarning"),
    ("exceptions", "UserWarning", "builtins", "UserWarning"),
    ("exceptions", "ValueError", "builtins", "ValueError"),
    ("exceptions", "Warning", "builtins", "Warning"),
    (
        "exceptions",
        "ZeroDivisionError",
        "builtins",
        "ZeroDivisionError",
    ),
    ("itertools", "ifilter", "builtins", "filter"),
    ("itertools", "ifilterfalse", "itertools", "filterfalse"),
    ("itertools", "imap", "builtins", "map"),
    ("itertools", "izip", "builtins", "zip"),
    ("itertools", "izip_longest", "itertools", "zip_longest"),
    (
        "multiprocessing",
        "AuthenticationError",
        "multiprocessing.context",
        "AuthenticationError",
    ),
    (
        "multiprocessing",
        "BufferTooShort",
        "multiprocessing.context",
        "BufferTooShort",
    ),
    (
        "multiprocessing",
        "ProcessError",
        "multiprocessing.context",
        "ProcessError",
    ),
    (
        "multiprocessing",
        "TimeoutError",
        "multiprocessing.context",
        "TimeoutError",
    ),
    (
        "multiprocessing.forking",
        "Popen",
        "multiprocessing.popen_fork",
        "Popen",
    ),
    (
        "multiprocessing.process",
        "Process",
        "multiprocessing.context",
        "Process",
    ),
    ("socket", "_socketobject", "socket", "SocketType"),
    (
        "urllib",
        "ContentTooShortError",
        "urllib.error",
        "ContentTooShortError",
    ),
    ("urllib", "getproxies", "urllib.request", "getproxies"),
    ("urllib", "pathname2url", "urllib.request", "pathname2url"),
    ("urllib", "quote", "urllib.parse", "quote"),
    ("urllib", "quote_plus", "urllib.parse", "quote_plus"),
    ("urllib", "unquote", "urllib.parse", "unquote"),
    ("urllib", "unquote_plus", "urllib.parse", "unquote_plus"),
    ("urllib", "url2pathname", "urllib.request", "url2pathname"),
    ("urllib", "urlcleanup", "urllib.request", "urlcleanup"),
    ("urllib", "urlencode", "urllib.parse", "urlencode"),
    ("urllib", "urlopen", "urllib.request", "urlopen"),
    ("urllib", "urlretrieve", "urllib.request", "urlretrieve"),
    ("urllib2", "HTTPError", "urllib.error", "HTTPError"),
    ("urllib2", "URLError", "urllib.error", "URLError"),
    ("whichdb", "whichdb", "dbm", "whichdb"),
];

/// `_compat_pickle.IMPORT_MAPPING`: module -> module, sorted.
static IMPORT_MAPPING: &[(&str, &str)] = &[
    ("BaseHTTPServer", "http.server"),
    ("CGIHTTPServer", "http.server"),
    ("ConfigParser", "configparser"),
    ("Cookie", "http.cookies"),
    ("Dialog", "tkinter.dialog"),
    ("DocXMLRPCServer", "xmlrpc.server"),
    ("FileDialog", "tkinter.filedialog"),
    ("HTMLParser", "html.parser"),
    ("Queue", "queue"),
    ("ScrolledText", "tkinter.scrolledtext"),
    ("SimpleDialog", "tkinter.simpledialog"),
    ("SimpleHTTPServer", "http.server"),
    ("SimpleXMLRPCServer", "xmlrpc.server"),
    ("SocketServer", "socketserver"),
    ("StringIO", "io"),
    ("Tix", "tkinter.tix"),
    ("Tkconstants", "tkinter.constants"),
    ("Tkdnd", "tkinter.dnd"),
    ("Tkinter", "tkinter"),
    ("UserDict", "collections"),
    ("UserList", "collections"),
    ("UserString", "collections"),
    ("__builtin__", "builtins"),
    ("_abcoll", "collections.abc"),
    ("_elementtree", "xml.etree.ElementTree"),
    ("_winreg", "winreg"),
    ("anydbm", "dbm"),
    ("cPickle", "pickle"),
    ("cStringIO", "io"),
    ("commands", "subprocess"),
    ("cookielib", "http.cookiejar"),
    ("copy_reg", "copyreg"),
    ("dbhash", "dbm.bsd"),
    ("dbm", "dbm.ndbm"),
    ("dumbdbm", "dbm.dumb"),
    ("dummy_thread", "_dummy_thread"),
    ("gdbm", "dbm.gnu"),
    ("htmlentitydefs", "html.entities"),
    ("httplib", "http.client"),
    ("markupbase", "_markupbase"),
    ("repr", "reprlib"),
    ("robotparser", "urllib.robotparser"),
    ("test.test_support", "test.support"),
    ("thread", "_thread"),
    ("tkColorChooser", "tkinter.colorchooser"),
    ("tkCommonDialog", "tkinter.commondialog"),
    ("tkFileDialog", "tkinter.filedialog"),
    ("tkFont", "tkinter.font"),
    ("tkMessageBox", "tkinter.messagebox"),
    ("tkSimpleDialog", "tkinter.simpledialog"),
    ("ttk", "tkinter.ttk"),
    ("urllib2", "urllib.request"),
    ("urlparse", "urllib.parse"),
    ("whichdb", "dbm"),
    ("xmlrpclib", "xmlrpc.client"),
];
/// What `find_class(module, name)` imports under a pickle of protocol `protocol`, when the
/// compatibility tables change it.
pub fn mapped(module: &str, name: &str, protocol: u8) -> Option<(&'static str, String)> {
    if protocol >= 3 {
        return None;
    }
    let named = NAME_MAPPING
        .binary_search_by(|&(m, n, _, _)| (m, n).cmp(&(module, name)))
        .ok()
        .and_then(|i| NAME_MAPPING.get(i));
    if let Some(&(_, _, m2, n2)) = named {
        return Some((m2, n2.to_string()));
    }
    IMPORT_MAPPING
        .binary_search_by(|&(m, _)| m.cmp(module))
        .ok()
        .and_then(|i| IMPORT_MAPPING.get(i))
        .map(|&(_, m2)| (m2, name.to_string()))
}

/// [`classify`] of the global a pickle of `protocol` names as `(module, name)`: the class
/// of what the loader imports, with that name as `resolved` when the tables changed it.
pub fn classify_loaded(
    module: &str,
    name: &str,
    protocol: u8,
    user_allowed: &dyn Fn(&str, &str) -> bool,
) -> Class {
    let Some((m2, n2)) = mapped(module, name, protocol) else {
        return classify(module, name, user_allowed);
    };
    let mut c = classify(m2, &n2, user_allowed);
    if c.resolved.is_none() {
        c.resolved = Some(format!("{m2}.{n2}"));
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::pickle::globals::Tier;

    #[test]
    fn tables_are_sorted_for_binary_search() {
        assert!(NAME_MAPPING
            .windows(2)
            .all(|w| (w[0].0, w[0].1) < (w[1].0, w[1].1)));
        assert!(IMPORT_MAPPING.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn python2_names_are_judged_as_what_is_imported() {
        let none = |_: &str, _: &str| false;
        let c = classify_loaded("__builtin__", "reduce", 0, &none);
        assert_eq!(c.resolved.as_deref(), Some("functools.reduce"));
        assert_eq!(c.tier, classify("functools", "reduce", &none).tier);
        let c = classify_loaded("cStringIO", "open", 2, &none);
        assert_eq!(c.resolved.as_deref(), Some("io.open"));
        assert_eq!(c.tier, classify("io", "open", &none).tier);
        let c = classify_loaded("urllib", "urlopen", 1, &none);
        assert_eq!(c.resolved.as_deref(), Some("urllib.request.urlopen"));
        assert!(c.tier >= Tier::System);
        // Protocol 3 and later: no mapping (`cStringIO` is then a module that does not exist).
        assert_eq!(mapped("cStringIO", "open", 3), None);
        assert_eq!(
            mapped("copy_reg", "_reconstructor", 2),
            Some(("copyreg", "_reconstructor".to_string()))
        );
    }
}
