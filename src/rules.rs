//! The rule catalogue: the single source for SARIF `rules[]`, `modelgate rules` and
//! `docs/rules.md`. Every finding names one of these ids.

use crate::finding::Severity;

/// How often a finding of the rule is a true positive on real files (SARIF
/// `properties.precision`, which GitHub sorts and filters alerts by).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    /// The rule states a fact about the file (it imports `os.system`; its CRC is wrong).
    High,
    /// The rule asks for a review or says something could not be checked, where a benign
    /// file often matches.
    Medium,
}

impl Precision {
    pub fn as_str(self) -> &'static str {
        match self {
            Precision::High => "high",
            Precision::Medium => "medium",
        }
    }
}

#[derive(Debug)]
pub struct Rule {
    pub id: RuleId,
    /// Stable kebab-case id; renaming one breaks users' suppressions.
    pub slug: &'static str,
    /// PascalCase name for SARIF.
    pub name: &'static str,
    /// The severity findings of this rule carry unless a policy setting says otherwise
    /// (`deny.formats` / `deny.extensions` choose their own).
    pub severity: Severity,
    pub precision: Precision,
    /// A finding of this rule means the file was not (fully) scanned: SARIF tag
    /// `unscanned`, Rego `availability` INCOMPLETE.
    pub incomplete: bool,
    pub short: &'static str,
    pub full: &'static str,
    pub remediation: &'static str,
    /// Tags as written in the catalogue; [`Rule::tags`] adds the derived ones.
    base_tags: &'static [&'static str],
    pub cwe: Option<u32>,
}

impl Rule {
    /// The catalogue's tags, plus `unscanned` for incomplete-scan rules.
    pub fn tags(&self) -> Vec<&'static str> {
        let mut t = self.base_tags.to_vec();
        if self.incomplete {
            t.push("unscanned");
        }
        t
    }
}

/// Declares the catalogue: one entry per rule gives the `RuleId` variant and every property,
/// so an id cannot be typed wrong at an emit site and nothing about a rule lives elsewhere.
macro_rules! catalogue {
    ($(
        $variant:ident {
            id: $id:literal,
            severity: $sev:ident,
            precision: $prec:ident,
            incomplete: $inc:literal,
            short: $short:literal,
            full: $full:literal,
            fix: $fix:literal,
            tags: [$($tag:literal),*],
            cwe: $cwe:expr,
        }
    )*) => {
        /// A rule of the catalogue. Serialised as its kebab-case id.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum RuleId {
            $($variant),*
        }

        pub static RULES: &[Rule] = &[$(
            Rule {
                id: RuleId::$variant,
                slug: $id,
                name: stringify!($variant),
                severity: Severity::$sev,
                precision: Precision::$prec,
                incomplete: $inc,
                short: $short,
                full: $full,
                remediation: $fix,
                base_tags: &[$($tag),*],
                cwe: $cwe,
            }
        ),*];

        impl RuleId {
            pub fn as_str(self) -> &'static str {
                match self {
                    $(RuleId::$variant => $id),*
                }
            }
        }
    };
}

catalogue! {
    PickleCodeExecution {
        id: "pickle-code-execution",
        severity: Critical,
        precision: High,
        incomplete: false,
        short: "Loading this pickle runs commands or arbitrary Python code",
        full: "The pickle imports a callable that executes shell commands or Python code when the file is loaded (os/posix.system, subprocess, builtins.eval/exec/__import__/getattr, runpy, marshal and code objects, nested deserialisers such as pickle.loads or torch.load, package installers, universal resolvers such as importlib or operator.attrgetter). Pickle is a small virtual machine: REDUCE calls whatever GLOBAL imported, so loading the file is running the program.",
        fix: "Do not load the file. Obtain the model from a trusted source, or in a format that cannot carry code (safetensors). If the file is yours, re-save only the tensors (`safetensors.torch.save_file(model.state_dict(), ...)`).",
        tags: ["security", "pickle", "code-execution", "supply-chain"],
        cwe: Some(502),
    }
    PickleSystemAccess {
        id: "pickle-system-access",
        severity: High,
        precision: High,
        incomplete: false,
        short: "Loading this pickle reaches the network or the file system",
        full: "The pickle imports a callable that opens network connections (socket, urllib, http.client, requests, webbrowser), writes or deletes files (open, io.FileIO, shutil, pathlib writers, tempfile) or schedules deferred work (atexit, threading, signal). Loading the file performs that action.",
        fix: "Do not load the file. Re-export the model in a data-only format such as safetensors from a trusted environment.",
        tags: ["security", "pickle", "supply-chain"],
        cwe: Some(502),
    }
    PickleDynamicImport {
        id: "pickle-dynamic-import",
        severity: High,
        precision: High,
        incomplete: false,
        short: "The pickle computes what it imports",
        full: "A STACK_GLOBAL takes its module or name from a value that is not a constant string, or a global name walks attributes through a dotted path (`STACK_GLOBAL(\"pathlib\", \"os.system\")`). Both hide the real import from a reader and from scanners that only read literal names; ordinary ML checkpoints never do this.",
        fix: "Treat the file as hostile. Regenerate it from a trusted source.",
        tags: ["security", "pickle", "obfuscation"],
        cwe: Some(502),
    }
    PickleUnknownGlobal {
        id: "pickle-unknown-global",
        severity: Medium,
        precision: Medium,
        incomplete: false,
        short: "The pickle imports a global outside the allowlist of known-safe ML globals",
        full: "modelgate is allowlist-first: every global a pickle imports is checked against a list of callables that mainstream ML libraries write into ordinary files (torch, numpy, scipy, scikit-learn, pandas, xgboost, lightgbm, transformers, ...). This one is not on it, so a reviewer must decide whether loading it is safe. Every pickle-scanner bypass so far used a callable missing from a denylist, which is why unknown is not treated as clean. Results are usage-aware: each allowlist entry says the most a pickle may do with it (referenced as a value, rebuilt as an object by NEWOBJ / copyreg._reconstructor, or called with arguments), and a known global used for more than that is reported here with both uses named. First-party globals, classes and functions defined in a `.py` file of the scanned tree (`trainlib.RunConfig` beside `trainlib/config.py`), are the project's own code: rebuilt as objects they count as known (low, named in the pickle-format evidence); called with pickled arguments they are reported here.",
        fix: "If the global is your project's own class, trust it with `allow.globals` in .modelgate.yml. Otherwise inspect what the file does before loading it, or convert the model to safetensors.",
        tags: ["security", "pickle", "review"],
        cwe: Some(502),
    }
    PickleMalformed {
        id: "pickle-malformed",
        severity: Medium,
        precision: High,
        incomplete: false,
        short: "The pickle stream is malformed or truncated",
        full: "The stream stops parsing before a STOP opcode, or contains an invalid opcode or argument. A loader executes every opcode before the broken one, so payloads placed ahead of a deliberately broken byte still run (the nullifAI technique); findings gathered before the error are reported alongside this one.",
        fix: "Do not trust a file that does not parse. Regenerate it from a trusted source.",
        tags: ["security", "pickle", "evasion"],
        cwe: Some(20),
    }
    PickleLimitReached {
        id: "pickle-limit-reached",
        severity: Medium,
        precision: Medium,
        incomplete: true,
        short: "The pickle exceeded a scanner limit and was not fully analysed",
        full: "The stream exceeded a bound on opcodes, memo entries, stack depth or value sizes that protects the scanner from hostile input. What was read before the limit is reported; the rest was not analysed, so the file is not known to be clean.",
        fix: "Inspect the file by other means, or raise the limit in `limits:` if the file is trusted and legitimately large.",
        tags: ["security", "pickle"],
        cwe: Some(400),
    }
    PickleTrailingData {
        id: "pickle-trailing-data",
        severity: Low,
        precision: Medium,
        incomplete: true,
        short: "Bytes after a pickle do not parse as one",
        full: "After one or more complete pickles, the next bytes fail as a pickle before importing anything. `pickle.load` called in a loop (and any loader reading pickles one after another) stops there with an error, so nothing further runs when modelgate reads these bytes as CPython does; the bytes after them are searched for further pickles. Reported so that the stop is never silent: had CPython accepted what modelgate rejects (as with text numbers like `I0x1f` before), a payload in a later pickle would run unseen.",
        fix: "Nothing to do if the file is trusted; otherwise regenerate it without trailing data.",
        tags: ["security", "pickle"],
        cwe: Some(20),
    }
    PickleFormat {
        id: "pickle-format",
        severity: Low,
        precision: Medium,
        incomplete: false,
        short: "A format that can carry code, with only known-safe globals",
        full: "The file is a pickle (or contains pickles: PyTorch, joblib, ...). Every global it imports is on the allowlist of known-safe ML globals or in `allow.globals`, so loading it is not known to run code, but the format itself can carry code and a future file from the same source might.",
        fix: "Prefer safetensors for weights, and `torch.load(..., weights_only=True)` when loading PyTorch checkpoints.",
        tags: ["security", "pickle"],
        cwe: None,
    }
    KerasLambda {
        id: "keras-lambda",
        severity: Critical,
        precision: High,
        incomplete: false,
        short: "Keras Lambda layer: marshalled Python bytecode runs on load",
        full: "The Keras model config (a legacy .h5 `model_config`, a .keras `config.json` or a SavedModel's keras_metadata.pb) holds a `Lambda` layer or `__lambda__` function: base64 marshalled Python bytecode that runs when the model is loaded and called (CVE-2024-3660). tf_keras and legacy .h5 loaders run it; Keras 3 refuses it unless `safe_mode=False` — which tutorials and error messages tell users to set. The finding lists the names and string constants the bytecode holds (e.g. `os`, `system`).",
        fix: "Do not load the model with safe_mode=False. Rebuild the model in code and load only its weights (`model.load_weights`), or replace the Lambda with a registered layer class.",
        tags: ["security", "keras", "code-execution", "supply-chain"],
        cwe: Some(502),
    }
    KerasCodeExecution {
        id: "keras-code-execution",
        severity: Critical,
        precision: High,
        incomplete: false,
        short: "Keras config makes the loader import a callable that runs code",
        full: "An object in the Keras config names a `module` and function (or a Lambda names a function) that runs commands or Python code, e.g. `{\"module\": \"os\", \"class_name\": \"function\", \"config\": \"system\"}`. Keras imports the module and calls what it names while rebuilding the model (CVE-2025-1550). The callable is classified with the same tables as pickle globals. Also a tf_keras `TFOpLambda` layer naming `tf.py_function`, `tf.numpy_function` or `tf.load_op_library`, which tf_keras resolves by name and calls while rebuilding the model.",
        fix: "Do not load the model. Obtain it from a trusted source.",
        tags: ["security", "keras", "code-execution", "supply-chain"],
        cwe: Some(502),
    }
    KerasSystemAccess {
        id: "keras-system-access",
        severity: High,
        precision: High,
        incomplete: false,
        short: "Keras config reaches the network or the file system on load",
        full: "The config references a callable that downloads, reads or writes files: `keras.utils.get_file` (CVE-2025-8747, a download to a path the config chooses), `load_model`/`load_weights` on a path the config chooses, a `TFSMLayer` whose config names no `filepath` (one that names it is `keras-external-file`), a function outside Keras that the pickle tables classify as file or network access, or a tf_keras `TFOpLambda` layer naming a TensorFlow file API (`tf.io.write_file`, `tf.io.gfile.*`, `tf.data` readers, `tf.saved_model.load`, ...).",
        fix: "Do not load the model. Remove the reference, or rebuild the model in code and load its weights only.",
        tags: ["security", "keras", "supply-chain"],
        cwe: Some(502),
    }
    KerasUnsafeDeserialization {
        id: "keras-unsafe-deserialization",
        severity: High,
        precision: High,
        incomplete: false,
        short: "Keras config turns safe mode off during the load",
        full: "The config calls `keras.config.enable_unsafe_deserialization` (CVE-2025-9906): once it has run, Lambda layers later in the same config run their bytecode even though the user loaded with the default `safe_mode=True`.",
        fix: "Do not load the model. Treat it as hostile.",
        tags: ["security", "keras", "evasion"],
        cwe: Some(502),
    }
    KerasUntrustedModule {
        id: "keras-untrusted-module",
        severity: High,
        precision: High,
        incomplete: false,
        short: "Keras config imports a module outside Keras",
        full: "An object in the Keras config names a `module` outside keras, keras_hub, keras_nlp and tf_keras, or a Lambda names a function from such a module. Keras imports that module and uses what the config names from it while loading (CVE-2025-1550); only the project's own registered classes should appear here.",
        fix: "If the module is your project's own code, trust it with `allow.globals` (`mypkg.layers.*`) in .modelgate.yml. Otherwise review the code it imports before loading.",
        tags: ["security", "keras", "review"],
        cwe: Some(502),
    }
    KerasUnknownClass {
        id: "keras-unknown-class",
        severity: Medium,
        precision: High,
        incomplete: false,
        short: "Keras config uses a class Keras does not provide",
        full: "A `class_name` in the Keras config is not a class or function that Keras (or keras_hub / tf_keras) ships; the list is generated from the installed libraries (`src/formats/keras/known_classes.txt`). Loading it needs custom code supplied by the user or registered by an import — a reviewer should know which.",
        fix: "If it is your project's custom layer, suppress the finding with an `ignore:` entry that names the file and reason.",
        tags: ["security", "keras", "review"],
        cwe: Some(502),
    }
    KerasMalformed {
        id: "keras-malformed",
        severity: Medium,
        precision: High,
        incomplete: true,
        short: "Keras config could not be read",
        full: "The Keras config is not valid JSON, nests deeper than the scanner follows, or is stored in a form the scanner cannot decode. Unscannable is not clean: the loader may still read it.",
        fix: "Regenerate the model from a trusted source.",
        tags: ["security", "keras"],
        cwe: Some(20),
    }
    TfCodeExecution {
        id: "tf-code-execution",
        severity: Critical,
        precision: High,
        incomplete: false,
        short: "TensorFlow graph calls back into Python",
        full: "A node in a SavedModel graph or function library is a `PyFunc`, `PyFuncStateless` or `EagerPyFunc` op (tf.py_function / tf.numpy_function): it calls a Python function of the loading process. The function itself is not stored in the SavedModel, so running it needs the process to register one with the same token, but such graphs have no place in a model from outside.",
        fix: "Do not serve the model. Re-export it without py_function, from a trusted environment.",
        tags: ["security", "tensorflow", "code-execution"],
        cwe: Some(502),
    }
    TfSystemAccess {
        id: "tf-system-access",
        severity: High,
        precision: High,
        incomplete: false,
        short: "TensorFlow graph reads, writes or lists files, or uses the network",
        full: "A node is a file, dataset-reader, summary-writer, debug, RPC or library op (`ReadFile`, `WriteFile`, `MatchingFiles`, `ImmutableConst`, `PrintV2` to a file, ...), or a checkpoint op (`SaveV2`, `RestoreV2`, `MergeV2Checkpoints`) outside the functions the SavedModel's `saver_def` uses to read its own variables. Serving the model performs that I/O with the server's permissions. The data table is `DANGEROUS_OPS` in src/formats/savedmodel/mod.rs.",
        fix: "Do not serve the model. Find out why the graph touches files; re-export it from a trusted environment.",
        tags: ["security", "tensorflow", "supply-chain"],
        cwe: Some(73),
    }
    TfUnknownOp {
        id: "tf-unknown-op",
        severity: Medium,
        precision: High,
        incomplete: false,
        short: "TensorFlow graph uses an op TensorFlow does not define",
        full: "A node's op is neither a registered TensorFlow op (list generated from TensorFlow, `src/formats/savedmodel/tf_ops.txt`) nor a function of the graph's library: it is a custom op, which needs a native library (`tf.load_op_library`) — native code — loaded before the model.",
        fix: "Review where the custom op's library comes from, or suppress the finding for this file with a reason.",
        tags: ["security", "tensorflow", "review"],
        cwe: Some(502),
    }
    TfMalformed {
        id: "tf-malformed",
        severity: Medium,
        precision: High,
        incomplete: false,
        short: "A saved_model.pb or keras_metadata.pb does not parse",
        full: "The file is named like a SavedModel graph or Keras metadata file (protobuf has no magic bytes, so these are recognised by name) but does not parse as that message.",
        fix: "Find out why the file is not what its name says; regenerate the SavedModel.",
        tags: ["security", "tensorflow"],
        cwe: Some(20),
    }
    ZipCrcMismatch {
        id: "zip-crc-mismatch",
        severity: Medium,
        precision: High,
        incomplete: false,
        short: "Archive member fails its CRC-32 check",
        full: "A member's data does not match the CRC-32 recorded for it. PyTorch's zip reader does not check CRCs, so such a checkpoint still loads, while scanners built on strict zip libraries have skipped it (CVE-2025-10156). modelgate scans the content anyway and reports the mismatch.",
        fix: "Regenerate the archive; a well-formed writer never produces CRC mismatches.",
        tags: ["security", "archive", "evasion"],
        cwe: Some(354),
    }
    ZipEncryptionFlag {
        id: "zip-encryption-flag",
        severity: Medium,
        precision: High,
        incomplete: false,
        short: "Archive member is flagged as encrypted but readable",
        full: "The general-purpose flag marks a member as encrypted (bits 0x1, 0x20 or 0x40) while its data is stored in the clear. Loaders that ignore the flag read it; scanners that honour it skipped it (CVE-2025-1945). modelgate scans the content and reports the flag.",
        fix: "Regenerate the archive without encryption flags.",
        tags: ["security", "archive", "evasion"],
        cwe: Some(436),
    }
    ZipNameMismatch {
        id: "zip-name-mismatch",
        severity: Medium,
        precision: High,
        incomplete: false,
        short: "Local and central directory disagree about a member's name",
        full: "The local file header names a member differently from the central directory. Readers that trust one or the other see different files (CVE-2025-1944); modelgate scans the data and reports both names.",
        fix: "Regenerate the archive.",
        tags: ["security", "archive", "evasion"],
        cwe: Some(436),
    }
    ZipPrefixData {
        id: "zip-prefix-data",
        severity: Medium,
        precision: High,
        incomplete: false,
        short: "Data before the start of the archive",
        full: "Bytes precede the first zip record. Tolerant readers still open the archive, and the prefix can itself be another format (a pickle in front of a zip is a polyglot); modelgate scans the prefix as well.",
        fix: "Regenerate the archive so that it starts at offset 0.",
        tags: ["security", "archive", "evasion"],
        cwe: Some(436),
    }
    ZipDuplicateEntry {
        id: "zip-duplicate-entry",
        severity: Medium,
        precision: High,
        incomplete: false,
        short: "Two archive members have the same name",
        full: "Readers disagree on which of two same-named members wins, so a scanner may inspect one while the loader uses the other. modelgate scans both.",
        fix: "Regenerate the archive.",
        tags: ["security", "archive", "evasion"],
        cwe: Some(436),
    }
    ZipMalformed {
        id: "zip-malformed",
        severity: Medium,
        precision: High,
        incomplete: false,
        short: "The archive structure is malformed",
        full: "The end-of-central-directory record, a central directory entry or a local header is truncated or inconsistent. What could be read is still scanned.",
        fix: "Regenerate the archive.",
        tags: ["security", "archive"],
        cwe: Some(20),
    }
    ZipDirectoryMismatch {
        id: "zip-directory-mismatch",
        severity: Medium,
        precision: High,
        incomplete: false,
        short: "Zip readers disagree on which central directory is the archive's",
        full: "The end-of-central-directory record is found differently by different readers, so they list different members: torch's miniz reader (`torch.load` / `PyTorchFileReader` in torch 1.6 and later, checked with torch 2.15) takes the last end record with 22 bytes after it and follows the recorded central-directory offset and the zip64 locator's offset as absolute positions; Python's `zipfile` (checked with CPython 3.11; also what Keras and `numpy.load` use) takes the last end-record signature, reads the zip64 record immediately before the locator, and locates the directory by its size from the end record (treating any difference as data prepended to the archive); tolerant readers skip an end record whose comment runs past the file. A second end record inside a comment, a gap between the directory and its end record, or a zip64 locator naming another record than the one before it makes one archive show a decoy to one reader and a payload to another. Every view is scanned.",
        fix: "Do not load the file. Regenerate the archive with a standard writer (one end record, the directory right before it).",
        tags: ["security", "archive", "evasion"],
        cwe: Some(436),
    }
    ArchivePathEscape {
        id: "archive-path-escape",
        severity: High,
        precision: High,
        incomplete: false,
        short: "An archive member extracts outside its folder",
        full: "A zip or tar member name is absolute or climbs out with `..` (zip slip, tar slip), or a tar symbolic or hard link points outside the folder the archive is extracted into. Loaders that extract model archives to disk write such members wherever they point: NeMo restores `.nemo` files with `tarfile.extractall`, TorchServe unpacks `.mar` archives, and PyTorch's legacy tar format is extracted to a temporary folder; a link member makes the loader read or overwrite a file of the attacker's choice (CVE-2007-4559 and its many descendants). High for those layouts and for any tar archive, which is used by unpacking it (`tar -x`, `tarfile.extractall` without `filter='data'`, the default before Python 3.14); medium in other zip archives, which loaders read in place.",
        fix: "Do not extract or load the archive. Regenerate it from a trusted source with relative member names that stay inside the folder.",
        tags: ["security", "archive", "path-traversal"],
        cwe: Some(22),
    }
    GgufTemplateInjection {
        id: "gguf-template-injection",
        severity: Critical,
        precision: High,
        incomplete: false,
        short: "The GGUF chat template reaches Python internals",
        full: "A `tokenizer.chat_template` (or `tokenizer.chat_template.<name>`) in the GGUF metadata accesses attributes or items whose names start with `_` or are interpreter internals (`__class__`, `__mro__`, `__subclasses__`, `__globals__`, `__builtins__`, `__import__`, `popen`, ...), spelled directly, through `|attr`, `map(attribute=...)`, `str.format` fields, escapes or string concatenation. llama-cpp-python before 0.2.72 rendered chat templates with a plain, unsandboxed `jinja2.Environment`, so such a template runs arbitrary Python code (e.g. `os.popen`) when the model is loaded and used for chat (CVE-2024-34359); other tools that render templates outside Jinja's sandbox are exposed the same way. Real chat templates never touch these names.",
        fix: "Do not load the model. Obtain it from a trusted source; if you need the weights, remove or replace the chat template (gguf-py's `gguf_new_metadata.py --chat-template`). Upgrade llama-cpp-python to 0.2.72 or later, which renders templates in Jinja's sandbox.",
        tags: ["security", "gguf", "template-injection", "code-execution"],
        cwe: Some(1336),
    }
    GgufTemplateDynamicAccess {
        id: "gguf-template-dynamic-access",
        severity: High,
        precision: High,
        incomplete: false,
        short: "The GGUF chat template accesses names computed at render time",
        full: "The chat template reads an attribute or item whose name is built from text that is not constant in the template (for example characters picked out of `lipsum|string`), or passes a non-constant name to `|attr`. This is how template injections hide dunder names from scanners; real chat templates only use constant keys such as `message['role']`.",
        fix: "Review the template (`gguf-dump --json`, key `tokenizer.chat_template`). If it is not needed, replace it with the model family's published template.",
        tags: ["security", "gguf", "template-injection", "obfuscation"],
        cwe: Some(1336),
    }
    GgufMalformed {
        id: "gguf-malformed",
        severity: Medium,
        precision: High,
        incomplete: false,
        short: "The GGUF header is malformed",
        full: "The GGUF header or metadata is inconsistent: an unknown version or value type, counts or lengths larger than the file could hold, arrays nested too deep, a duplicate key, a non-power-of-two alignment or misaligned tensor offsets, or a truncated header. Such values crash or mislead parsers (several llama.cpp GGUF parsing CVEs came from unchecked counts and lengths), and what was not parsed was not checked.",
        fix: "Regenerate the file with gguf-py or llama.cpp's conversion scripts from a trusted source.",
        tags: ["security", "gguf", "malformed"],
        cwe: Some(20),
    }
    ChatTemplateInjection {
        id: "chat-template-injection",
        severity: Critical,
        precision: High,
        incomplete: false,
        short: "Chat template outside GGUF reaches Python internals: rendering it unsandboxed runs code",
        full: "A chat template shipped beside a model — `chat_template` in `tokenizer_config.json` (a string, or a list of named templates such as `default` and `tool_use`), a processor's `chat_template.json`, or a `chat_template.jinja` file (transformers 4.50 and later write one, plus `additional_chat_templates/*.jinja`) — reaches Python internals: dunder attributes (`__class__`, `__globals__`, `__builtins__`, `__import__`), the globals of Jinja's own helpers (`lipsum`, `cycler`, `joiner`, `namespace`), `attr` filters and subscripts whose names are concatenated or escaped. transformers 4.x and 5.x render chat templates in jinja2's `ImmutableSandboxedEnvironment`, which refuses these; a runtime that renders the template with a plain `jinja2.Environment` runs the code (llama-cpp-python before 0.2.72 did so for GGUF templates, CVE-2024-34359). The analysis is the one for GGUF templates (`gguf-template-injection`); the location is the line of the template (of the string in a JSON file, of the tag in a `.jinja` file).",
        fix: "Do not serve the model with this template. Replace the template with a reviewed one, and render templates only in Jinja's sandbox.",
        tags: ["security", "chat-template", "code-execution", "supply-chain"],
        cwe: Some(1336),
    }
    ChatTemplateDynamicAccess {
        id: "chat-template-dynamic-access",
        severity: High,
        precision: Medium,
        incomplete: false,
        short: "Chat template outside GGUF accesses attributes whose names are computed at render time",
        full: "A chat template in `tokenizer_config.json`, `chat_template.json` or a `.jinja` file uses an attribute or item name built from text that is not constant (`x[(lipsum|string)[18] ~ ...]`), which hides what it reaches; real chat templates never do this. Same analysis as `gguf-template-dynamic-access`.",
        fix: "Review the template; replace it with a reviewed one before serving the model.",
        tags: ["security", "chat-template", "obfuscation"],
        cwe: Some(1336),
    }
    HydraTargetCodeExecution {
        id: "hydra-target-code-execution",
        severity: Critical,
        precision: High,
        incomplete: false,
        short: "Config instantiation (Hydra `_target_`) calls a callable that runs commands or code",
        full: "A YAML or JSON config that Hydra/OmegaConf instantiate — a plain Hydra config, NeMo's `model_config.yaml` inside a `.nemo` archive (restore_from instantiates each sub-config, and imports the model class its top-level `target` names), a Lightning `hparams.yaml` whose configs a Hydra-built module instantiates — has a `_target_` naming a callable that runs commands or Python code: the pickle tables (`os.system`, `subprocess.*`, `builtins.exec`/`eval`/`__import__`, `importlib`, nested deserialisers, ...) and callables that run code themselves (`sympy.sympify`/`parse_expr` evaluate strings, `torch.hub.load` imports a repository's hubconf.py, `hydra.utils.instantiate`/`call` nest instantiation, `pandas.eval`, and any target called with a `trust_remote_code` argument that is not plainly false, such as `transformers.AutoModel.from_pretrained`). `hydra.utils.instantiate` calls targets recursively, with the other keys and `_args_` as arguments; `_partial_: true` defers the call to when the application uses the partial. hydra-core 1.3.2 and earlier (what NeMo pins, `hydra-core<=1.3.2`) call any target; hydra-core 1.3.8 refuses a blocklist of callables (`hydra/_internal/target_policy.py`: `os.system`, `subprocess.*`, `builtins.exec`/`eval`/`__import__`, ...), but not the callables that run code themselves. NeMo 3.0.0's `safe_instantiate` allows only prefixes such as `nemo.`, `torch.nn.` and `torch.optim.`; older NeMo releases called `hydra.utils.instantiate` directly. The config is read with a YAML parser: flow mappings, quoted and escaped keys (`\"_tar\\x67et_\"`, JSON `\\u0067`), anchors and aliases, merge keys (`<<`) and OmegaConf interpolations in the same document (`${mod}.${fn}`, relative `${.x}`) are resolved as the loader resolves them. The location is the line of the target's value (for a merged entry, of the merge key that brings it).",
        fix: "Do not instantiate the config. Replace the target with the class it should build, or load the weights alone into a model built in code.",
        tags: ["security", "config", "code-execution", "supply-chain"],
        cwe: Some(94),
    }
    HydraTargetSystemAccess {
        id: "hydra-target-system-access",
        severity: High,
        precision: High,
        incomplete: false,
        short: "Config instantiation (Hydra `_target_`) calls a callable that reaches files or the network",
        full: "A config that Hydra/OmegaConf instantiate (see `hydra-target-code-execution` for which loaders and versions) has a `_target_` that the pickle tables classify as file, network or deferred-execution access (`builtins.open`, `shutil`, `pathlib`, `socket`, `urllib`, `requests`, `threading`, `operator` resolvers, ...), or that walks attributes to such a callable. Instantiating the config performs that action with the arguments the config supplies.",
        fix: "Do not instantiate the config until the target is understood; replace it with the class it should build.",
        tags: ["security", "config", "supply-chain"],
        cwe: Some(94),
    }
    HydraTargetUnknown {
        id: "hydra-target-unknown",
        severity: Medium,
        precision: Medium,
        incomplete: false,
        short: "Config instantiation (Hydra `_target_`) names a callable outside the known-safe table",
        full: "A config that Hydra/OmegaConf instantiate (plain Hydra, NeMo `model_config.yaml`, Lightning `hparams.yaml`) has a `_target_` (or NeMo's top-level `target`) that is neither on a dangerous list nor on the data table of known-safe constructors (`src/formats/config/safe_targets.txt`: `torch.nn.*`, `torch.optim.*` and its schedulers, `torch.utils.data` loaders and samplers, `torchmetrics.*`, NeMo's `nemo.collections.*` modules, plain containers; final attributes that load other files, such as `from_pretrained` or `restore_from`, are never covered by a prefix). Instantiation imports its module and calls it with the config's arguments, so a reviewer must decide whether that is safe.",
        fix: "If the target is your project's own class, trust it with `allow.globals` (`mypkg.models.*`) in .modelgate.yml. Otherwise review what it does before instantiating the config.",
        tags: ["security", "config", "review"],
        cwe: Some(94),
    }
    HydraTargetDynamic {
        id: "hydra-target-dynamic",
        severity: Medium,
        precision: Medium,
        incomplete: false,
        short: "Config instantiation (Hydra `_target_`) names a callable only known at load time",
        full: "A `_target_` in a config that Hydra/OmegaConf instantiate cannot be resolved from the file: it calls an OmegaConf resolver (`${oc.env:MODULE}`, a custom resolver), interpolates a key the document does not have, or its interpolations loop. What is imported and called is decided when the config is loaded, so the file does not show it; ordinary configs name their targets literally.",
        fix: "Review where the target's value comes from at load time, or write the target literally.",
        tags: ["security", "config", "obfuscation"],
        cwe: Some(94),
    }
    HydraTargets {
        id: "hydra-targets",
        severity: Low,
        precision: Medium,
        incomplete: false,
        short: "Config instantiates only known-safe constructors",
        full: "The config has `_target_` keys that Hydra/OmegaConf instantiate, and every one is on the table of known-safe constructors (`src/formats/config/safe_targets.txt`). Loading it is not known to run code, but instantiation configs can name any callable, and a future version of the file might.",
        fix: "Nothing to do; review target changes in later versions of the config.",
        tags: ["security", "config"],
        cwe: None,
    }
    SkopsCodeExecution {
        id: "skops-code-execution",
        severity: Critical,
        precision: High,
        incomplete: false,
        short: "skops file constructs or calls a callable that runs commands or code",
        full: "A skops file's `schema.json` has a node (`ConstructorFromReduceNode`, `ReduceNode`, `FunctionNode`, `MethodNode`, `ObjectNode`, `TypeNode`, ...) whose `__module__` and `__class__` name a callable that runs commands or Python code (classified with the pickle tables: `os.system`, `builtins.eval`, `subprocess.*`, ...); `skops.io.load` imports it and calls or constructs it with the arguments the schema gives. skops 0.16.0 refuses types outside its trusted defaults unless the caller passes them in `trusted=`, and `get_untrusted_types` lists them for that: code that passes `trusted=get_untrusted_types(file=...)` (a common pattern) trusts whatever the file names. The location is the line of the node in `schema.json`.",
        fix: "Do not load the file, and never pass the output of get_untrusted_types as `trusted=` without reading it.",
        tags: ["security", "skops", "code-execution", "supply-chain"],
        cwe: Some(502),
    }
    SkopsSystemAccess {
        id: "skops-system-access",
        severity: High,
        precision: High,
        incomplete: false,
        short: "skops file constructs or calls a callable that reaches files or the network",
        full: "A node of a skops `schema.json` names a callable that the pickle tables classify as file, network or deferred-execution access, or an attribute resolver; `skops.io.load` calls it once the type is trusted (see `skops-code-execution`).",
        fix: "Do not load the file until the type is understood.",
        tags: ["security", "skops", "supply-chain"],
        cwe: Some(502),
    }
    SkopsUnknownType {
        id: "skops-unknown-type",
        severity: Medium,
        precision: Medium,
        incomplete: false,
        short: "skops file names a type outside what skops trusts by default",
        full: "A node of a skops `schema.json` names a type or function that skops 0.16.0 does not trust by default (builtins containers and scalars, numpy arrays and dtypes, scipy sparse matrices, scikit-learn estimators) and that is not on the pickle allowlist. `skops.io.load` refuses it unless the caller trusts it; a reviewer must decide whether to.",
        fix: "If the type is your project's own, trust it with `allow.globals`; otherwise review it before passing it in `trusted=`.",
        tags: ["security", "skops", "review"],
        cwe: Some(502),
    }
    KerasExternalFile {
        id: "keras-external-file",
        severity: High,
        precision: High,
        incomplete: false,
        short: "Keras layer config makes the loader read a file outside the model",
        full: "A layer of the Keras config names a path that the loader reads while rebuilding the model: the `vocabulary` of a `StringLookup`, `IntegerLookup` or `TextVectorization` layer given as a file path (read into the layer), or the `filepath` of a `TFSMLayer` (`tf.saved_model.load` of a SavedModel, whose graph then runs as part of the model). An absolute path, a URL or a path that climbs out with `..` reads something the model does not ship (a secret read into the vocabulary, a SavedModel planted elsewhere): high. A relative path inside the model's folder is reported at medium: the loader reads files beside the model, relative to the working directory. Keras 3.15.1 refuses TFSMLayer and vocabulary files outside the archive in its default `safe_mode=True`; earlier Keras 3 releases, tf_keras and `safe_mode=False` read them.",
        fix: "Ship the vocabulary inside the model (an in-line list, or the archive's assets), and rebuild TFSMLayer models in code from a SavedModel you trust.",
        tags: ["security", "keras", "supply-chain"],
        cwe: Some(73),
    }
    YamlPythonTag {
        id: "yaml-python-tag",
        severity: Critical,
        precision: High,
        incomplete: false,
        short: "YAML with PyYAML Python tags: loading it with an unsafe loader calls or imports Python objects",
        full: "A YAML file has a PyYAML Python tag: `!!python/object/apply:` calls the callable it names with the node's arguments and `!!python/object/new:` its `__new__` (critical when the callable runs commands or code, high otherwise), `!!python/object:` builds an instance and sets its state, `!!python/name:` and `!!python/module:` import what they name (high for a dangerous name, medium otherwise). `yaml.unsafe_load` and `yaml.load(..., Loader=yaml.Loader)` / `UnsafeLoader` construct these in every PyYAML release; `yaml.load` without a Loader did before PyYAML 5.1, and `yaml.full_load` / `FullLoader` (what Lightning's `load_hparams_from_yaml` calls) before 5.4 (CVE-2020-1747, CVE-2020-14343). OmegaConf and Hydra load configs with a safe loader and refuse them. Tags are read as the parser resolves them: `!!`, `%TAG` handles, verbatim `!<tag:yaml.org,2002:python/...>` and `%XX` escapes.",
        fix: "Do not load the file with an unsafe YAML loader; load configs with yaml.safe_load (or OmegaConf), and remove the tag.",
        tags: ["security", "config", "code-execution", "supply-chain"],
        cwe: Some(502),
    }
    SafetensorsMalformed {
        id: "safetensors-malformed",
        severity: Medium,
        precision: High,
        incomplete: false,
        short: "The safetensors header does not describe the file",
        full: "The 8-byte header length, the JSON header or the tensor table break the rules the reference safetensors library enforces: a header longer than the file or over 100 MB, a header that is not UTF-8 JSON, an unknown dtype, a shape whose byte size does not match its data offsets (or overflows), tensors that overlap, leave gaps, or point past the end of the file, trailing bytes, duplicate names, or `__metadata__` that is not a string-to-string map. The format cannot carry code, but a file that lies about its layout is not what its producer wrote, and lenient readers that trust the offsets read out of bounds or alias tensors.",
        fix: "Regenerate the file with `safetensors.torch.save_file` (or another reference writer) from a trusted source.",
        tags: ["security", "safetensors", "malformed"],
        cwe: Some(20),
    }
    OnnxExternalData {
        id: "onnx-external-data",
        severity: High,
        precision: High,
        incomplete: false,
        short: "ONNX external data points outside the model's folder",
        full: "A tensor stores its data in an external file whose `location` is an absolute path, a drive or network path, a URL, or a relative path that climbs out of the model's directory with `..`. onnx before 1.16 followed such paths when loading the model (CVE-2022-25882, CVE-2024-27318), so a model could read arbitrary files, such as SSH keys or `/etc/passwd`, into its weights and leak them through its outputs. Medium instead of high when the tensor is not marked `data_location: EXTERNAL` (current loaders then ignore the entry).",
        fix: "Do not load the model. External data files belong next to the model (`location: weights.bin`). Upgrade onnx to 1.16 or later.",
        tags: ["security", "onnx", "path-traversal"],
        cwe: Some(22),
    }
    HdfExternalReference {
        id: "hdf-external-reference",
        severity: High,
        precision: High,
        incomplete: false,
        short: "HDF5 data stored in, or linked to, a file outside the model",
        full: "An HDF5 dataset keeps its raw data in external files (the External Data Files message, `h5py` `external=`), a link points into another HDF5 file (an external link, `h5py.ExternalLink`), or a virtual dataset maps another file's data (layout class 3, `h5py.VirtualLayout`). Reading the dataset (h5py 3.x, libhdf5 1.8+ for external storage and links, 1.10+ for virtual datasets; Keras `.h5` weights loaded through h5py) reads the named file: an absolute path or one that climbs out with `..` makes the model read files such as `/etc/passwd` or SSH keys into its weights. High when the name leaves the model's folder; medium when it names another file beside it (the model is not self-contained). Links and virtual datasets inside the same file (`.`) are not reported.",
        fix: "Do not load the model from an untrusted source. Store the data inside the HDF5 file (rewrite it with `h5py` copying the datasets, without `external=` or external links).",
        tags: ["security", "hdf5", "path-traversal"],
        cwe: Some(22),
    }
    OnnxCustomOperator {
        id: "onnx-custom-operator",
        severity: Medium,
        precision: High,
        incomplete: false,
        short: "The ONNX model uses operators from a custom domain",
        full: "Nodes use operator domains that neither onnx nor onnxruntime implement (the standard domains are `\"\"`/`ai.onnx`, `ai.onnx.ml`, `ai.onnx.training`, `ai.onnx.preview.training`, and onnxruntime's built-in contrib domains `com.microsoft`, `com.microsoft.nchwc`, `com.microsoft.experimental`), and no local function of the model defines them. Running the model then requires the victim to load a native library (`SessionOptions.register_custom_ops_library`) or Python code (onnxruntime-extensions `PyOp`) supplied with it: that code, not the graph, decides what happens. Nested If/Loop/Scan subgraphs and local functions are included.",
        fix: "Find out which library implements the domain and review it before registering it; prefer models that use only standard operators.",
        tags: ["security", "onnx", "review"],
        cwe: Some(829),
    }
    OnnxMalformed {
        id: "onnx-malformed",
        severity: Medium,
        precision: High,
        incomplete: false,
        short: "The ONNX protobuf is malformed",
        full: "The model does not parse as a protobuf `ModelProto`: a field length runs past its message, a varint is too long, a wire type is invalid, there is no graph, or subgraphs nest deeper than modelgate follows (32 levels). A file named `.onnx` whose content is not recognisable is reported here too. What could be read is still checked.",
        fix: "Regenerate the model from a trusted source (`onnx.checker.check_model` must accept it).",
        tags: ["security", "onnx", "malformed"],
        cwe: Some(20),
    }
    ContentNotScanned {
        id: "content-not-scanned",
        severity: Medium,
        precision: Medium,
        incomplete: true,
        short: "Content could not be scanned",
        full: "Part of the file could not be analysed: an unsupported compression method, an encrypted member, a size, depth, entry or time limit, or an I/O error. Unscannable is not clean: the part that was not read may carry code.",
        fix: "Inspect the content by other means, or raise the relevant limit in `limits:` if the file is trusted.",
        tags: ["security"],
        cwe: Some(400),
    }
    FindingsTruncated {
        id: "findings-truncated",
        severity: Info,
        precision: High,
        incomplete: false,
        short: "Only the most severe findings of this file are listed",
        full: "The file produced more findings than modelgate lists for one file (1000). The most severe ones are kept, so the file's worst severity and the verdict for count-1 thresholds are unchanged; the rest are counted in this finding's message only. Hostile files can make millions of distinct findings; listing them all would exhaust memory and the report consumers.",
        fix: "Fix or remove the file's worst findings first; a file with this many findings should not be loaded.",
        tags: ["security"],
        cwe: None,
    }
    ExtensionMismatch {
        id: "extension-mismatch",
        severity: Medium,
        precision: High,
        incomplete: false,
        short: "The file's content is not the format its extension promises",
        full: "The extension names a data-only or specific format (`.safetensors`, `.npy`, `.npz`, `.gguf`, `.onnx`, `.h5`, `.json`, `.txt`, `.yaml`, images, ...) while the content is another format that can carry code, such as a pickle or an archive. Loaders route by content, so a pickle named `.safetensors` still runs when a tool hands it to `torch.load` or `pickle.load`, while people and name-based scanners trust the name (CVE-2025-10155). Reported on top of whatever the content itself holds. Extensions that legitimately hold several formats (`.pt`, `.pth`, `.bin`, `.ckpt`, `.pkl`, ...) are never a mismatch.",
        fix: "Find out why the file is not what its name says. Rename it after its real format, or replace it with a file that is what the extension promises.",
        tags: ["security", "evasion"],
        cwe: Some(434),
    }
    GitLfsPointer {
        id: "git-lfs-pointer",
        severity: Info,
        precision: High,
        incomplete: true,
        short: "Not scanned: Git LFS pointer",
        full: "The file is a Git LFS pointer: the model itself was never checked out, so nothing was scanned. A CI job that checks out without LFS sees only pointers and would pass whatever the real files hold. Counted apart in the summary (`lfs_pointers`). With `lfs-pointers: fail` in .modelgate.yml the finding is high, so such a job fails.",
        fix: "Check out LFS content before scanning (`lfs: true` in actions/checkout, or `git lfs pull`).",
        tags: ["inventory"],
        cwe: None,
    }
    LfsPointerTrailingData {
        id: "lfs-pointer-trailing-data",
        severity: Medium,
        precision: High,
        incomplete: false,
        short: "A Git LFS pointer text followed by other content",
        full: "The file starts as a complete Git LFS pointer, but more bytes follow the pointer text. Git LFS never writes such a file; readers that locate their content from the end of the file (Python's `zipfile`, and so Keras' `.keras` loader) or skip the text load what follows, while scanners that see a pointer skip the file. The content after the pointer is scanned as content of its own.",
        fix: "Do not load the file. Check the real file out with Git LFS, or regenerate it.",
        tags: ["security", "evasion"],
        cwe: Some(436),
    }
    PolicyDeniedFormat {
        id: "policy-denied-format",
        severity: High,
        precision: High,
        incomplete: false,
        short: "The file's format or extension is denied by policy",
        full: "`.modelgate.yml` denies this format (`deny.formats`) or extension (`deny.extensions`) whatever its content, to reduce the attack surface. The severity is the one chosen in the configuration.",
        fix: "Convert the model to an allowed format, such as safetensors, or change the policy.",
        tags: ["security", "policy"],
        cwe: None,
    }
    PolicyExpiredIgnore {
        id: "policy-expired-ignore",
        severity: Low,
        precision: High,
        incomplete: false,
        short: "An ignore entry in the configuration has expired",
        full: "An `ignore:` entry has passed its `expires` date, so it no longer suppresses the findings it matched; they count toward thresholds again.",
        fix: "Review the findings it used to suppress, then remove the entry or renew its date with a reason.",
        tags: ["policy"],
        cwe: None,
    }
    PolicyViolation {
        id: "policy-violation",
        severity: High,
        precision: High,
        incomplete: false,
        short: "A Rego policy matched this target",
        full: "A policy from `policy.rego` in `.modelgate.yml` matched the scan report of this target (EPM style: its `match` rule is true, with the messages of its `reason` set) or returned messages from its `deny` rule. The severity is the one configured for the policy file (default high); the evidence names the file and rule.",
        fix: "Read the policy's message: change what it objects to (convert the model, pick another revision or publisher), or change the policy.",
        tags: ["security", "policy"],
        cwe: None,
    }
    HfHubFlagged {
        id: "hf-hub-flagged",
        severity: High,
        precision: High,
        incomplete: false,
        short: "The Hugging Face Hub's own scanners flagged this file",
        full: "With `huggingface.hub-scan: true`, modelgate reads the Hub's security status for the repository (`securityRepoStatus.filesWithIssues`) and each file (`securityFileStatus`). The Hub's malware, pickle-import and partner scanners (ClamAV, Protect AI, JFrog) marked this file as something other than safe.",
        fix: "Do not load the file. Open the file's page on the Hub to read the scanners' report, and use a revision or a repository the Hub marks safe.",
        tags: ["security", "supply-chain", "huggingface"],
        cwe: Some(506),
    }
    HfHubScanIncomplete {
        id: "hf-hub-scan-incomplete",
        severity: Medium,
        precision: High,
        incomplete: true,
        short: "The Hugging Face Hub has not finished scanning this file",
        full: "With `huggingface.hub-scan: true`, a file that can carry code and that the Hub has not marked safe yet (its scan is queued, failed or was never run, or the repository's `scansDone` is false) is reported, so that a policy of \"reject anything the Hub did not mark safe\" holds.",
        fix: "Wait for the Hub's scan to finish and run again, or suppress the finding with a reason if modelgate's own scan is enough for you.",
        tags: ["security", "supply-chain", "huggingface"],
        cwe: None,
    }
    HfUntrustedPublisher {
        id: "hf-untrusted-publisher",
        severity: Medium,
        precision: High,
        incomplete: false,
        short: "A repository from a publisher outside huggingface.trusted-orgs holds files that can carry code",
        full: "`huggingface.trusted-orgs` lists the Hub owners whose repositories are trusted. This repository belongs to another owner and contains at least one file in a format that can carry code (pickle, PyTorch, joblib, NumPy, archives), so what it contains deserves a reviewer's look even when no payload was found.",
        fix: "Prefer the same model from a trusted publisher, or in safetensors; or add the owner to `huggingface.trusted-orgs` after review.",
        tags: ["security", "supply-chain", "huggingface"],
        cwe: None,
    }
    RemoteFetchFailed {
        id: "remote-fetch-failed",
        severity: Medium,
        precision: High,
        incomplete: true,
        short: "A remote file could not be fetched, so it was not (fully) scanned",
        full: "The file of an `hf://` or http(s) target could not be read: the server refused (HTTP 401/403/404), kept failing (429, 5xx, after retries with backoff), ignored range requests for a large file, or the per-file transfer budget (`limits.max-member-size`) ran out. What could not be read was not scanned.",
        fix: "Check access (HF_TOKEN for private or gated repositories) and the network, then scan again.",
        tags: ["remote"],
        cwe: None,
    }
    PythonCodeExecution {
        id: "python-code-execution",
        severity: Critical,
        precision: High,
        incomplete: false,
        short: "Python code that a load executes runs commands or computed code",
        full: "Python source that loading the model executes calls, at import or construction time, something that runs a command (`os.system`, `os.popen`, `os.exec*`/`spawn*`, `subprocess.*`, `pty.spawn`) or Python code it computes or loads (`exec`, `eval`, `compile`, `__import__`, `importlib` on a computed name, `runpy`, `marshal`/`pickle` loads, native libraries through `ctypes`), also when the callable is reached through aliases (`import os as o`, `s = os.system`) or computed names (`getattr(__import__(\"o\" + \"s\"), \"sys\" + \"tem\")`), and exec of base64/zlib/codecs-decoded text. The code is one of: a Hugging Face remote-code module named by `auto_map` / `custom_pipelines` (and what it imports relatively), which `from_pretrained(..., trust_remote_code=True)` imports (transformers 4.x and 5.x); a module of a `torch.package` archive, which `PackageImporter.load_pickle` imports (torch 1.10 and later); the `_code` or `import_block` string of a pickled `torch.fx` GraphModule, which `reduce_graph_module` and its siblings `exec` while unpickling (torch 1.8 and later); an MLflow pyfunc `loader_module` under `code/`, which `mlflow.pyfunc.load_model` imports and whose `_load_pyfunc` it calls (MLflow 1.x to 3.x). Load time is module level, class bodies, decorators and default arguments, constructors (`__init__`, `__new__`, ...), the loader's entry points, and the functions of the file they call by name.",
        fix: "Do not load the model with remote code enabled. Read the code at the reported line; use a revision whose code you reviewed (`revision=` a commit), or a model that needs no custom code.",
        tags: ["security", "python", "code-execution", "supply-chain"],
        cwe: Some(94),
    }
    PythonSystemAccess {
        id: "python-system-access",
        severity: High,
        precision: High,
        incomplete: false,
        short: "Python code that a load executes reaches the network, writes files or reads secrets",
        full: "Python source that loading the model executes (see python-code-execution for which files and loaders) opens network connections (`socket`, `urllib.request`, `http.client`, `requests`, `httpx`, ...), writes, moves or deletes files (`open(..., \"w\")`, `shutil.rmtree`, `os.remove`, `pathlib` writers), or reads credentials from the environment (`os.environ[\"HF_TOKEN\"]`, `os.getenv` of a token-, key- or password-like name, or the whole environment) at import or construction time.",
        fix: "Do not load the model with remote code enabled until the reported line is understood; pin a reviewed revision.",
        tags: ["security", "python", "supply-chain"],
        cwe: Some(829),
    }
    PythonDeferredExecution {
        id: "python-deferred-execution",
        severity: High,
        precision: Medium,
        incomplete: false,
        short: "Python code shipped with the model runs commands or computed code when one of its functions is called",
        full: "Code that a load imports (see python-code-execution) runs commands or computed code inside a function that the load itself does not call (`forward`, a helper method, a lambda, an `if __name__ == \"__main__\":` block): it runs when the model is used. One level below the load-time rule, because the call may never happen, but the code ships with the model.",
        fix: "Review the function at the reported line before using the model; pin a reviewed revision.",
        tags: ["security", "python", "supply-chain", "review"],
        cwe: Some(94),
    }
    PythonDeferredAccess {
        id: "python-deferred-access",
        severity: Medium,
        precision: Medium,
        incomplete: false,
        short: "Python code shipped with the model reaches the network, files or secrets when one of its functions is called",
        full: "Code that a load imports (see python-code-execution) opens connections, writes files or reads credentials from the environment inside a function that the load itself does not call (`save_vocabulary`, `forward`, ...). Tokenizers legitimately write their vocabulary when saved; a reviewer should know which calls reach outside.",
        fix: "Review the reported line; nothing to do if it is what the function is for.",
        tags: ["security", "python", "review"],
        cwe: Some(829),
    }
    RemoteCodePresent {
        id: "remote-code-present",
        severity: Medium,
        precision: High,
        incomplete: false,
        short: "Loading the model imports Python code shipped with it",
        full: "The model ships Python code that its loader imports: a Hugging Face `config.json` / `tokenizer_config.json` / `preprocessor_config.json` / `processor_config.json` / feature-extractor or image-processor config whose `auto_map` or `custom_pipelines` names modules of the repository (imported by `from_pretrained(..., trust_remote_code=True)` and `pipeline(..., trust_remote_code=True)`, transformers 4.x and 5.x, with every module they import relatively), the Python modules of a `torch.package` archive, or an MLflow pyfunc `loader_module` under the model's `code/` folder. Whatever that code does runs with the user's permissions; the finding names the files a load imports and what the analysis found in them (python-* findings carry the lines).",
        fix: "Review the listed files before loading with trust_remote_code=True, and pin the revision you reviewed (`revision=` a commit hash).",
        tags: ["security", "python", "supply-chain", "review"],
        cwe: Some(829),
    }
    RemoteCodeUnresolved {
        id: "remote-code-unresolved",
        severity: Medium,
        precision: High,
        incomplete: true,
        short: "A module the loader would import could not be found or read",
        full: "An `auto_map` / `custom_pipelines` entry (or a relative import of remote code) names a module that is not a `.py` file beside the config, or the file could not be read or is too large. transformers fails or imports something else; either way what would run was not scanned.",
        fix: "Find out where the module comes from; do not load the model with trust_remote_code=True until its code is known.",
        tags: ["security", "python", "supply-chain"],
        cwe: Some(829),
    }
    RemoteCodeExternal {
        id: "remote-code-external",
        severity: High,
        precision: High,
        incomplete: false,
        short: "Loading the model imports code from outside the model",
        full: "The model makes its loader import code that it does not ship: an `auto_map` entry of the form `repo--module.Class` (transformers 4.x and 5.x take that module from another Hub repository, or with a path such as `../x` from a folder outside the model's), or an MLflow `loader_module` that is neither shipped under `code/` nor an MLflow flavor module (`mlflow.pyfunc.load_model` imports whatever module of that name is on `sys.path`). What runs depends on something modelgate did not scan.",
        fix: "Do not load the model until the other repository or module is known and reviewed; prefer a model that ships its code, pinned to a revision.",
        tags: ["security", "python", "supply-chain"],
        cwe: Some(829),
    }
    FileSkipped {
        id: "file-skipped",
        severity: Info,
        precision: Medium,
        incomplete: false,
        short: "File skipped: it cannot carry model code",
        full: "The file's content matches no format that can carry code (reported only with --show-skipped).",
        fix: "Nothing to do.",
        tags: ["inventory"],
        cwe: None,
    }
    ModelRefUnpinned {
        id: "model-ref-unpinned",
        severity: Medium,
        precision: High,
        incomplete: false,
        short: "Code pulls a model from the Hub without pinning a commit",
        full: "A call in the repository's code (transformers/diffusers/peft `from_pretrained`, `pipeline(model=...)`, huggingface_hub `hf_hub_download`/`snapshot_download`, `SentenceTransformer`, timm/open_clip `hf-hub:` names, keras_hub `from_preset(\"hf://...\")`, `torch.hub.load`) names a repository without a `revision`, or with a branch or tag. Whatever the repository holds when the code runs is what gets loaded: a later push (or a takeover of the account) changes the model under the code. Found offline from the Python source (imports and aliases resolved, constants folded), at the call's line and column.",
        fix: "Pass `revision=\"<40-hex commit>\"` (for torch.hub: `owner/repo:<commit>`), the commit you reviewed.",
        tags: ["security", "supply-chain", "model-reference"],
        cwe: Some(829),
    }
    ModelRefRemoteCode {
        id: "model-ref-remote-code",
        severity: High,
        precision: High,
        incomplete: false,
        short: "Code loads a model with its repository's Python code enabled",
        full: "`trust_remote_code=True` (or a value that is not a constant `False`) makes transformers import the Python files the repository's `auto_map` names, and `torch.hub.load` of a GitHub repository runs its `hubconf.py`: loading runs whatever code the repository holds at that revision.",
        fix: "Use a model class the library ships, or pin the revision and review its code (scan it: `modelgate scan hf://OWNER/NAME@SHA`).",
        tags: ["security", "supply-chain", "model-reference", "code-execution"],
        cwe: Some(94),
    }
    ModelRefLookalikePublisher {
        id: "model-ref-lookalike-publisher",
        severity: High,
        precision: Medium,
        incomplete: false,
        short: "Code pulls a model from an owner that imitates a well-known organisation",
        full: "The repository owner in a model reference looks like a well-known Hub organisation (or one of `huggingface.trusted-orgs`) without being it: look-alike characters (`0penai`), an added suffix or prefix (`meta-llama-hf`, `official-openai`), or one edit away from a long name. Impersonating organisations on the Hub is an active attack.",
        fix: "Check the owner on the Hub; use the organisation's own repository.",
        tags: ["security", "supply-chain", "model-reference"],
        cwe: Some(349),
    }
    ModelRefUntrustedPublisher {
        id: "model-ref-untrusted-publisher",
        severity: Medium,
        precision: High,
        incomplete: false,
        short: "Code pulls a model from an owner outside huggingface.trusted-orgs",
        full: "The project lists the Hub owners it trusts (`huggingface.trusted-orgs`), and a model reference in its code names a repository of another owner (or a canonical name without one).",
        fix: "Use a repository of a trusted owner, or add the owner to huggingface.trusted-orgs after review.",
        tags: ["security", "supply-chain", "model-reference"],
        cwe: Some(829),
    }
    ModelRefUnsafeLoad {
        id: "model-ref-unsafe-load",
        severity: Medium,
        precision: High,
        incomplete: false,
        short: "Code loads a model file with code execution enabled",
        full: "`torch.load(..., weights_only=False)`, `numpy.load(..., allow_pickle=True)` and Keras `load_model(..., safe_mode=False)` run what the file carries (pickle programs, Lambda layers). Whatever file the code is given can run code in the process.",
        fix: "Drop the flag (torch >= 2.6 defaults to weights_only=True), or convert the file to safetensors (`modelgate convert`).",
        tags: ["security", "model-reference"],
        cwe: Some(502),
    }
    ModelRefRisky {
        id: "model-ref-risky",
        severity: Critical,
        precision: High,
        incomplete: false,
        short: "Code pulls a model whose files have findings",
        full: "With `--resolve-models`, the model this call pulls was resolved through the Hub API and its files scanned like `hf://OWNER/NAME@SHA` (range reads). The worst finding among them is reported here, at the call site, with that severity and the model file as a related location; the model's own findings are reported at their `hf://` locations.",
        fix: "Do not load the model; see the findings at its hf:// locations. Pin a reviewed commit of a clean repository.",
        tags: ["security", "supply-chain", "model-reference"],
        cwe: Some(829),
    }
    ModelRefUnresolved {
        id: "model-ref-unresolved",
        severity: Medium,
        precision: High,
        incomplete: true,
        short: "A model the code pulls could not be resolved and scanned",
        full: "With `--resolve-models`, the repository a call names could not be resolved or read (offline, 401/403 without a token, 404, a network error, too many references): what the call would load was not scanned, which is never a pass.",
        fix: "Give the scan network access and a token (HF_TOKEN) for private repositories, or fix the reference.",
        tags: ["model-reference"],
        cwe: None,
    }
    ModelRefUnlocked {
        id: "model-ref-unlocked",
        severity: Medium,
        precision: High,
        incomplete: false,
        short: "A model the code pulls is missing from modelgate.lock",
        full: "The project has a `modelgate.lock`, and this reference (repository and requested revision) has no entry in it: the model it pulls was never resolved, scanned and reviewed with the lock.",
        fix: "Run `modelgate lock` and commit the updated modelgate.lock (review the new entry's verdict).",
        tags: ["model-reference"],
        cwe: Some(829),
    }
    ModelRefDrift {
        id: "model-ref-drift",
        severity: High,
        precision: High,
        incomplete: false,
        short: "The code pins a different commit than modelgate.lock records",
        full: "The reference pins a commit, and `modelgate.lock` records another commit for the same repository: the files the code now pulls are not the ones that were scanned and reviewed.",
        fix: "Run `modelgate lock` to resolve and scan the new commit, review the verdict, and commit the updated modelgate.lock; or restore the locked pin.",
        tags: ["model-reference"],
        cwe: Some(494),
    }
    ModelRefDynamic {
        id: "model-ref-dynamic",
        severity: Low,
        precision: Medium,
        incomplete: true,
        short: "Code pulls a model whose id or revision is not a constant",
        full: "A model loader's repository id or revision comes from a variable, a call or an f-string of non-constants, so which model is pulled cannot be checked from the source.",
        fix: "Name the repository and commit as constants, or check the value where it is set.",
        tags: ["model-reference"],
        cwe: None,
    }
}

/// The rule with kebab-case id `id`.
pub fn get(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.slug == id)
}

impl RuleId {
    /// The catalogue entry of this id (`RULES` is declared in variant order).
    pub fn rule(self) -> &'static Rule {
        // RULES has one entry per variant, in declaration order (`catalogue!`); a test
        // checks it, so the index is always in range.
        #[allow(clippy::indexing_slicing)]
        &RULES[self as usize]
    }

    /// The catalogue's severity for findings of this rule.
    pub fn severity(self) -> Severity {
        self.rule().severity
    }

    /// The id for a kebab-case string (`None` for an id this version does not know).
    pub fn parse(id: &str) -> Option<RuleId> {
        get(id).map(|r| r.id)
    }
}

impl std::fmt::Display for RuleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for RuleId {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for RuleId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl serde::Serialize for RuleId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for RuleId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<RuleId, D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(d)?;
        RuleId::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown rule id `{s}`")))
    }
}

/// Markdown for `docs/rules.md`, generated so the docs never drift from the catalogue.
pub fn markdown() -> String {
    let mut out = String::from(
        "# modelgate rules\n\n<!-- Generated by `modelgate rules --format markdown`; do not edit by hand. -->\n\n\
         | id | severity | summary |\n| --- | --- | --- |\n",
    );
    for r in RULES {
        out.push_str(&format!(
            "| [`{}`](#{}) | {} | {} |\n",
            r.slug, r.slug, r.severity, r.short
        ));
    }
    for r in RULES {
        out.push_str(&format!(
            "\n## {}\n\n**Severity:** {}  \n**Tags:** {}{}\n\n{}\n\n**Remediation.** {}\n",
            r.slug,
            r.severity,
            r.tags().join(", "),
            r.cwe
                .map(|c| format!(
                    "  \n**CWE:** [CWE-{c}](https://cwe.mitre.org/data/definitions/{c}.html)"
                ))
                .unwrap_or_default(),
            r.full,
            r.remediation
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_kebab_case() {
        let mut seen = std::collections::HashSet::new();
        for r in RULES {
            assert!(seen.insert(r.slug), "duplicate rule id {}", r.slug);
            assert!(
                r.slug.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{}",
                r.slug
            );
            assert!(!r.short.is_empty() && !r.full.is_empty() && !r.remediation.is_empty());
        }
    }

    #[test]
    fn ids_index_the_catalogue() {
        for (i, r) in RULES.iter().enumerate() {
            assert_eq!(r.id as usize, i, "{}", r.slug);
            assert_eq!(r.id.as_str(), r.slug);
            assert_eq!(RuleId::parse(r.slug), Some(r.id));
            assert!(std::ptr::eq(r.id.rule(), r));
        }
        assert_eq!(RuleId::parse("no-such-rule"), None);
    }

    #[test]
    fn catalogue_snapshot() {
        // A rename or severity change must show up in review: update this list on purpose.
        let got: Vec<String> = RULES
            .iter()
            .map(|r| format!("{}:{}", r.slug, r.severity))
            .collect();
        let want = [
            "pickle-code-execution:critical",
            "pickle-system-access:high",
            "pickle-dynamic-import:high",
            "pickle-unknown-global:medium",
            "pickle-malformed:medium",
            "pickle-limit-reached:medium",
            "pickle-trailing-data:low",
            "pickle-format:low",
            "keras-lambda:critical",
            "keras-code-execution:critical",
            "keras-system-access:high",
            "keras-unsafe-deserialization:high",
            "keras-untrusted-module:high",
            "keras-unknown-class:medium",
            "keras-malformed:medium",
            "tf-code-execution:critical",
            "tf-system-access:high",
            "tf-unknown-op:medium",
            "tf-malformed:medium",
            "zip-crc-mismatch:medium",
            "zip-encryption-flag:medium",
            "zip-name-mismatch:medium",
            "zip-prefix-data:medium",
            "zip-duplicate-entry:medium",
            "zip-malformed:medium",
            "zip-directory-mismatch:medium",
            "archive-path-escape:high",
            "gguf-template-injection:critical",
            "gguf-template-dynamic-access:high",
            "gguf-malformed:medium",
            "chat-template-injection:critical",
            "chat-template-dynamic-access:high",
            "hydra-target-code-execution:critical",
            "hydra-target-system-access:high",
            "hydra-target-unknown:medium",
            "hydra-target-dynamic:medium",
            "hydra-targets:low",
            "skops-code-execution:critical",
            "skops-system-access:high",
            "skops-unknown-type:medium",
            "keras-external-file:high",
            "yaml-python-tag:critical",
            "safetensors-malformed:medium",
            "onnx-external-data:high",
            "hdf-external-reference:high",
            "onnx-custom-operator:medium",
            "onnx-malformed:medium",
            "content-not-scanned:medium",
            "findings-truncated:info",
            "extension-mismatch:medium",
            "git-lfs-pointer:info",
            "lfs-pointer-trailing-data:medium",
            "policy-denied-format:high",
            "policy-expired-ignore:low",
            "policy-violation:high",
            "hf-hub-flagged:high",
            "hf-hub-scan-incomplete:medium",
            "hf-untrusted-publisher:medium",
            "remote-fetch-failed:medium",
            "python-code-execution:critical",
            "python-system-access:high",
            "python-deferred-execution:high",
            "python-deferred-access:medium",
            "remote-code-present:medium",
            "remote-code-unresolved:medium",
            "remote-code-external:high",
            "file-skipped:info",
            "model-ref-unpinned:medium",
            "model-ref-remote-code:high",
            "model-ref-lookalike-publisher:high",
            "model-ref-untrusted-publisher:medium",
            "model-ref-unsafe-load:medium",
            "model-ref-risky:critical",
            "model-ref-unresolved:medium",
            "model-ref-unlocked:medium",
            "model-ref-drift:high",
            "model-ref-dynamic:low",
        ];
        assert_eq!(got, want);
    }
}
