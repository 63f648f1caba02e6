//! The emulated object graph of a checkpoint pickle, read as a tree of dicts, tensors and
//! plain values. Only the honoured rebuilders are understood (SPEC §9): torch's tensor and
//! parameter rebuilders over storages, `OrderedDict`, dicts, numeric NumPy arrays, and
//! plain values (numbers, strings, booleans, None, lists/tuples/dicts of them). Anything
//! else is [`Node::Unsupported`], which refuses the conversion.

use serde_json::Value as Json;

use super::tensor::DType;
use crate::formats::pickle::machine::{PickleRun, V};

/// Depth of nested dicts and plain values followed.
const MAX_DEPTH: u32 = 64;

/// A storage named by a persistent id: `('storage', type, key, location, numel)`.
#[derive(Clone, Debug)]
pub struct StorageRef {
    pub key: String,
    /// `None` for `torch.storage.UntypedStorage` (numel in bytes; the dtype comes from
    /// `_rebuild_tensor_v3`).
    pub dtype: Option<DType>,
    pub numel: u64,
}

/// Where a tensor's elements are.
#[derive(Clone, Debug)]
pub enum Data {
    /// A torch storage, by key.
    Storage(StorageRef),
    /// Bytes inside the pickle stream itself (NumPy arrays), at `offset` for `len` bytes.
    Inline { offset: u64, len: u64 },
    /// Bytes decoded from the stream (protocol 2's `_codecs.encode(str, "latin1")`).
    Owned(std::sync::Arc<crate::source::MemSource>),
}

#[derive(Clone, Debug)]
pub struct TensorNode {
    pub dtype: DType,
    pub shape: Vec<u64>,
    pub strides: Vec<u64>,
    pub offset: u64,
    pub data: Data,
    /// Stored big-endian (a NumPy `>` dtype).
    pub big_endian: bool,
}

#[derive(Clone, Debug)]
pub enum Node {
    Dict(Vec<(String, Node)>),
    Tensor(TensorNode),
    Leaf(Json),
    /// Outside the honoured set: why.
    Unsupported(String),
}

/// The first thing in the tree outside the honoured set, with its dotted name.
pub fn first_unsupported(n: &Node, name: &str) -> Option<String> {
    match n {
        Node::Unsupported(why) if name.is_empty() => Some(why.clone()),
        Node::Unsupported(why) => Some(format!("`{name}`: {why}")),
        Node::Dict(items) => items.iter().find_map(|(k, v)| {
            let sub = if name.is_empty() {
                k.clone()
            } else {
                format!("{name}.{k}")
            };
            first_unsupported(v, &sub)
        }),
        _ => None,
    }
}

pub struct Reader<'a> {
    pub run: &'a PickleRun,
}

fn as_u64(v: &V) -> Option<u64> {
    match v {
        V::Int(i) => u64::try_from(*i).ok(),
        V::Bool(b) => Some(u64::from(*b)),
        _ => None,
    }
}

fn ints(v: &V) -> Option<Vec<u64>> {
    match v {
        V::Tuple(items) => items.iter().map(as_u64).collect(),
        V::Items(items) => items.borrow().iter().map(as_u64).collect(),
        _ => None,
    }
}

fn items_of(v: &V) -> Option<Vec<V>> {
    match v {
        V::Tuple(items) => Some(items.to_vec()),
        V::Items(items) => Some(items.borrow().clone()),
        _ => None,
    }
}

fn string(v: &V) -> Option<String> {
    match v {
        V::Str(s, false) => Some(s.to_string()),
        _ => None,
    }
}

/// C-order strides of `shape`, in elements.
pub fn c_strides(shape: &[u64]) -> Vec<u64> {
    let mut s: Vec<u64> = shape
        .iter()
        .rev()
        .scan(1u64, |acc, &d| {
            let here = *acc;
            *acc = acc.saturating_mul(d.max(1));
            Some(here)
        })
        .collect();
    s.reverse();
    s
}

/// Fortran-order strides of `shape`, in elements.
pub fn f_strides(shape: &[u64]) -> Vec<u64> {
    shape
        .iter()
        .scan(1u64, |acc, &d| {
            let here = *acc;
            *acc = acc.saturating_mul(d.max(1));
            Some(here)
        })
        .collect()
}

impl Reader<'_> {
    /// `module.name` of a global value.
    fn global(&self, v: &V) -> Option<String> {
        match v {
            V::Global(id) => self
                .run
                .globals
                .get(*id as usize)
                .map(|g| format!("{}.{}", g.module, g.name)),
            _ => None,
        }
    }

    pub fn node(&self, v: &V, depth: u32) -> Node {
        if depth > MAX_DEPTH {
            return Node::Unsupported(format!("nested deeper than {MAX_DEPTH} levels"));
        }
        match v {
            V::Dict(Some(items)) => self.dict(&items.borrow(), depth),
            V::Dict(None) => Node::Unsupported("a dict whose items were not kept".into()),
            V::Call(c) => {
                let Some(f) = self.global(&c.func) else {
                    return Node::Unsupported("a value built by a computed callable".into());
                };
                let args = items_of(&c.args).unwrap_or_default();
                match f.as_str() {
                    "collections.OrderedDict" | "builtins.dict" | "__builtin__.dict" => {
                        if !args.is_empty() {
                            return Node::Unsupported(format!("{f} built from arguments"));
                        }
                        match c.contents.borrow().as_ref() {
                            Some(V::Dict(Some(items))) => self.dict(&items.borrow(), depth),
                            None => Node::Dict(Vec::new()),
                            Some(_) => Node::Unsupported(format!("{f} with list contents")),
                        }
                    }
                    "torch._utils._rebuild_tensor_v2" | "torch._utils._rebuild_tensor" => {
                        self.torch_tensor(&args, None)
                    }
                    "torch._utils._rebuild_tensor_v3" => {
                        let dtype = args
                            .get(6)
                            .and_then(|d| self.global(d))
                            .and_then(|d| d.strip_prefix("torch.").and_then(DType::of_torch));
                        match dtype {
                            Some(d) => self.torch_tensor(&args, Some(d)),
                            None => Node::Unsupported(
                                "_rebuild_tensor_v3 with a dtype outside the safetensors set"
                                    .into(),
                            ),
                        }
                    }
                    "torch._utils._rebuild_parameter"
                    | "torch._utils._rebuild_parameter_with_state" => match args.first() {
                        Some(t) => match self.node(t, depth + 1) {
                            n @ Node::Tensor(_) => n,
                            Node::Unsupported(why) => Node::Unsupported(why),
                            _ => Node::Unsupported(format!("{f} of something not a tensor")),
                        },
                        None => Node::Unsupported(format!("{f} without arguments")),
                    },
                    "numpy.core.multiarray._reconstruct" | "numpy._core.multiarray._reconstruct" => {
                        self.numpy_reconstruct(c.state.borrow().as_ref())
                    }
                    "numpy.core.numeric._frombuffer" | "numpy._core.numeric._frombuffer" => {
                        self.numpy_frombuffer(&args)
                    }
                    other => Node::Unsupported(format!(
                        "{other} is outside the honoured set (not a tensor, storage, OrderedDict or plain value)"
                    )),
                }
            }
            other => match self.leaf(other, depth) {
                Some(j) => Node::Leaf(j),
                None => Node::Unsupported(format!(
                    "a value that is not a tensor, dict or plain value ({})",
                    kind(other)
                )),
            },
        }
    }

    fn dict(&self, items: &[(V, V)], depth: u32) -> Node {
        let mut out = Vec::with_capacity(items.len());
        for (k, v) in items {
            let key = match k {
                V::Str(s, false) => s.to_string(),
                V::Int(i) => i.to_string(),
                _ => return Node::Unsupported(format!("a dict key that is {}", kind(k))),
            };
            out.push((key, self.node(v, depth + 1)));
        }
        Node::Dict(out)
    }

    /// A plain value as JSON (tuples as arrays).
    fn leaf(&self, v: &V, depth: u32) -> Option<Json> {
        if depth > MAX_DEPTH {
            return None;
        }
        Some(match v {
            V::None => Json::Null,
            V::Bool(b) => Json::Bool(*b),
            V::Int(i) => Json::from(*i),
            V::Float(f) => serde_json::Number::from_f64(*f).map(Json::Number)?,
            V::Str(s, false) | V::Folded(s) => Json::String(s.to_string()),
            V::Tuple(_) | V::Items(_) => Json::Array(
                items_of(v)?
                    .iter()
                    .map(|x| self.leaf(x, depth + 1))
                    .collect::<Option<_>>()?,
            ),
            V::Dict(Some(items)) => {
                let mut m = serde_json::Map::new();
                for (k, x) in items.borrow().iter() {
                    let key = match k {
                        V::Str(s, false) => s.to_string(),
                        V::Int(i) => i.to_string(),
                        _ => return None,
                    };
                    m.insert(key, self.leaf(x, depth + 1)?);
                }
                Json::Object(m)
            }
            _ => return None,
        })
    }

    fn storage(&self, v: &V) -> Result<StorageRef, String> {
        let V::PersistentId(pid) = v else {
            return Err("a tensor whose storage is not a persistent id".into());
        };
        let parts = items_of(pid).ok_or("a storage id that is not a tuple")?;
        if parts.first().and_then(string).as_deref() != Some("storage") {
            return Err("a persistent id that is not a storage".into());
        }
        let ty = parts
            .get(1)
            .and_then(|t| self.global(t))
            .ok_or("a storage without a type")?;
        let key = parts
            .get(2)
            .and_then(string)
            .ok_or("a storage without a key")?;
        let numel = parts
            .get(4)
            .and_then(as_u64)
            .ok_or("a storage without a size")?;
        let dtype = match ty.as_str() {
            "torch.storage.UntypedStorage" | "torch.UntypedStorage" => None,
            t => Some(
                t.strip_prefix("torch.")
                    .and_then(DType::of_storage)
                    .ok_or_else(|| format!("storage type {t} is outside the safetensors dtypes"))?,
            ),
        };
        Ok(StorageRef { key, dtype, numel })
    }

    fn torch_tensor(&self, args: &[V], v3_dtype: Option<DType>) -> Node {
        let build = || -> Result<TensorNode, String> {
            let storage = self.storage(args.first().ok_or("no storage")?)?;
            let offset = args.get(1).and_then(as_u64).ok_or("no storage offset")?;
            let shape = args.get(2).and_then(ints).ok_or("no size")?;
            let strides = args.get(3).and_then(ints).ok_or("no stride")?;
            let dtype = match (storage.dtype, v3_dtype) {
                (_, Some(d)) => d,
                (Some(d), None) => d,
                (None, None) => return Err("an untyped storage without a dtype".into()),
            };
            Ok(TensorNode {
                dtype,
                shape,
                strides,
                offset,
                data: Data::Storage(storage),
                big_endian: false,
            })
        };
        match build() {
            Ok(t) => Node::Tensor(t),
            Err(e) => Node::Unsupported(e),
        }
    }

    /// `numpy.dtype(code, False, True)` with its BUILD state `(3, order, ...)`.
    fn numpy_dtype(&self, v: &V) -> Result<(DType, bool), String> {
        let V::Call(c) = v else {
            return Err("an array dtype that is not numpy.dtype(...)".into());
        };
        let f = self.global(&c.func).unwrap_or_default();
        if !f.ends_with(".dtype") || !f.starts_with("numpy") {
            return Err(format!("an array dtype built by {f}"));
        }
        let args = items_of(&c.args).unwrap_or_default();
        let code = args
            .first()
            .and_then(string)
            .ok_or("a dtype without a code")?;
        let order = c
            .state
            .borrow()
            .as_ref()
            .and_then(items_of)
            .and_then(|s| s.get(1).and_then(string))
            .unwrap_or_else(|| "|".into());
        let dtype = DType::of_numpy(&code)
            .ok_or_else(|| format!("NumPy dtype `{code}` is outside the safetensors dtypes"))?;
        Ok((dtype, order == ">"))
    }

    fn inline(&self, v: &V) -> Result<Data, String> {
        match v {
            V::Bytes(b) => match b.offset {
                Some(o) => Ok(Data::Inline {
                    offset: o,
                    len: b.len,
                }),
                // Folded by the machine (`_codecs.encode` of a short constant).
                None if b.preview.len() as u64 == b.len => Ok(Data::Owned(std::sync::Arc::new(
                    crate::source::MemSource::new(b.preview.to_vec()),
                ))),
                None => Err("array bytes computed in the stream".into()),
            },
            // Protocol 2 writes `b""` as `bytes()`.
            V::Call(c)
                if matches!(
                    self.global(&c.func).as_deref(),
                    Some("builtins.bytes" | "__builtin__.bytes")
                ) && items_of(&c.args).is_some_and(|a| a.is_empty()) =>
            {
                Ok(Data::Owned(std::sync::Arc::new(
                    crate::source::MemSource::new(Vec::new()),
                )))
            }
            // Protocol 2: `_codecs.encode(text, "latin1")`, one byte per character.
            V::Call(c) if self.global(&c.func).as_deref() == Some("_codecs.encode") => {
                let args = items_of(&c.args).unwrap_or_default();
                match (args.first(), args.get(1).and_then(string).as_deref()) {
                    (Some(V::Str(text, false)), Some("latin1" | "latin-1")) => {
                        let bytes: Option<Vec<u8>> = text
                            .chars()
                            .map(|ch| u8::try_from(u32::from(ch)).ok())
                            .collect();
                        let bytes = bytes.ok_or("latin1 text with a character above 255")?;
                        Ok(Data::Owned(std::sync::Arc::new(
                            crate::source::MemSource::new(bytes),
                        )))
                    }
                    _ => Err("array data encoded in a way modelgate does not decode".into()),
                }
            }
            _ => Err(format!("array data that is {}", kind(v))),
        }
    }

    /// `_reconstruct(ndarray, (0,), b'b')` then BUILD `(1, shape, dtype, fortran, data)`.
    fn numpy_reconstruct(&self, state: Option<&V>) -> Node {
        let build = || -> Result<TensorNode, String> {
            let s = state.and_then(items_of).ok_or("an array without a state")?;
            let shape = s.get(1).and_then(ints).ok_or("an array without a shape")?;
            let (dtype, big) = self.numpy_dtype(s.get(2).ok_or("no dtype")?)?;
            let fortran = matches!(s.get(3), Some(V::Bool(true)) | Some(V::Int(1)));
            let data = self.inline(s.get(4).ok_or("no data")?)?;
            Ok(array(dtype, big, shape, fortran, data))
        };
        match build() {
            Ok(t) => Node::Tensor(t),
            Err(e) => Node::Unsupported(e),
        }
    }

    /// Protocol 5: `_frombuffer(buffer, dtype, shape, order)`.
    fn numpy_frombuffer(&self, args: &[V]) -> Node {
        let build = || -> Result<TensorNode, String> {
            let data = self.inline(args.first().ok_or("no buffer")?)?;
            let (dtype, big) = self.numpy_dtype(args.get(1).ok_or("no dtype")?)?;
            let shape = args.get(2).and_then(ints).ok_or("no shape")?;
            let fortran = args.get(3).and_then(string).as_deref() == Some("F");
            Ok(array(dtype, big, shape, fortran, data))
        };
        match build() {
            Ok(t) => Node::Tensor(t),
            Err(e) => Node::Unsupported(e),
        }
    }
}

fn array(dtype: DType, big: bool, shape: Vec<u64>, fortran: bool, data: Data) -> TensorNode {
    let strides = if fortran {
        f_strides(&shape)
    } else {
        c_strides(&shape)
    };
    TensorNode {
        dtype,
        shape,
        strides,
        offset: 0,
        data,
        big_endian: big,
    }
}

fn kind(v: &V) -> &'static str {
    match v {
        V::BigInt => "a big integer",
        V::Float(_) => "a non-finite float",
        V::Str(_, true) => "a very long string",
        V::Bytes(_) | V::ByteArray => "bytes",
        V::Set | V::FrozenSet => "a set",
        V::Global(_) => "a class or function",
        V::Persistent | V::PersistentId(_) => "a bare storage",
        _ => "an unsupported value",
    }
}
