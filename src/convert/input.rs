//! Input layouts: where the pickle is, and where each storage's bytes are.

use std::collections::HashMap;
use std::sync::Arc;

use super::graph::{c_strides, f_strides, Data, Node, Reader, TensorNode};
use super::tensor::{DType, Region, Tensor};
use crate::finding::Location;
use crate::formats::pickle::machine::{Machine, PickleRun, V};
use crate::formats::zip;
use crate::limits::Limits;
use crate::scan::Ctx;
use crate::source::{ByteSource, MemSource};

/// Largest compressed `.npz` member inflated into memory.
const MAX_INFLATED_MEMBER: u64 = 1 << 30;
/// Largest `.npy` header read.
const MAX_NPY_HEADER: u64 = 1 << 20;
/// Most storages of a legacy checkpoint.
const MAX_LEGACY_STORAGES: usize = 1 << 20;

/// Turns a tensor of the tree into one with its bytes located.
pub struct Resolver {
    /// Torch storages by key.
    storages: HashMap<String, Region>,
    /// Swap every torch storage's bytes (a zip whose `byteorder` is `big`).
    swap_storages: bool,
    /// Tensors whose inline data lives in an inflated member rather than the file, by
    /// name.
    inline_source: HashMap<String, Arc<MemSource>>,
}

impl Resolver {
    fn empty() -> Resolver {
        Resolver {
            storages: HashMap::new(),
            swap_storages: false,
            inline_source: HashMap::new(),
        }
    }

    pub fn tensor(&self, name: String, t: TensorNode) -> Result<Tensor, String> {
        let (region, swap, source) = match &t.data {
            Data::Storage(s) => {
                let region = *self
                    .storages
                    .get(&s.key)
                    .ok_or_else(|| format!("`{name}`: storage `{}` is not in the file", s.key))?;
                // A storage's recorded size bounds what its tensors may address.
                let bytes = match s.dtype {
                    Some(d) => s.numel.saturating_mul(d.size()),
                    None => s.numel,
                };
                let region = Region {
                    start: region.start,
                    len: region.len.min(bytes),
                };
                (region, self.swap_storages, None)
            }
            Data::Owned(m) => (
                Region {
                    start: 0,
                    len: m.len(),
                },
                t.big_endian,
                Some(m.clone()),
            ),
            Data::Inline { offset, len } => (
                Region {
                    start: *offset,
                    len: *len,
                },
                t.big_endian,
                self.inline_source.get(&name).cloned(),
            ),
        };
        Ok(Tensor {
            name,
            dtype: t.dtype,
            shape: t.shape,
            region,
            offset: t.offset,
            strides: t.strides,
            swap,
            source,
        })
    }
}

fn machine_run(
    src: &dyn ByteSource,
    start: u64,
    limits: &Limits,
    max_items: u64,
) -> Result<PickleRun, String> {
    let allow = |_: &str, _: &str| false;
    let run = Machine::new(src, start, limits, &allow, None)
        .retaining_at_most(max_items)
        .run();
    if let Some((at, e)) = &run.error {
        return Err(format!(
            "the pickle at offset {start} does not parse (offset {at}: {e:?})"
        ));
    }
    Ok(run)
}

fn tree_of(run: &PickleRun) -> Result<Node, String> {
    let result = run.result.as_ref().ok_or("the pickle returned nothing")?;
    let node = Reader { run }.node(result, 0);
    match node {
        Node::Dict(_) => Ok(node),
        Node::Unsupported(why) => Err(format!("not a state dict: {why}")),
        _ => Err("not a state dict: the pickle holds a single value".into()),
    }
}

/// Reads the tree of `src` (scanned as `format`) and where its tensors' bytes are, keeping
/// at most `max_items` container items of each pickle's object graph.
pub fn read(
    src: &dyn ByteSource,
    format: &str,
    stem: &str,
    limits: &Limits,
    max_items: u64,
) -> Result<(Node, Resolver), String> {
    match format {
        "pytorch-zip" => torch_zip(src, limits, max_items),
        "pytorch-legacy" => legacy(src, limits, max_items),
        "pickle" if crate::formats::torch::is_legacy(src, 0) => legacy(src, limits, max_items),
        "pickle" => {
            let run = machine_run(src, 0, limits, max_items)?;
            Ok((tree_of(&run)?, Resolver::empty()))
        }
        "numpy" => {
            let t = npy(src, 0, src.len())?;
            Ok((
                Node::Dict(vec![(stem.to_string(), Node::Tensor(t))]),
                Resolver::empty(),
            ))
        }
        "zip" => npz(src, limits),
        "numpy-object" => Err("an object array (it holds pickled Python objects)".into()),
        "" => Err("not a format modelgate convert reads".into()),
        other => Err(format!("{other} is not a format modelgate convert reads")),
    }
}

fn archive(src: &dyn ByteSource, limits: &Limits) -> Result<zip::Archive, String> {
    let allow = |_: &str, _: &str| false;
    let ctx = Ctx::new(limits, &allow);
    zip::read_archive(src, &ctx, &Location::default(), &mut Vec::new())
        .ok_or_else(|| "the zip directory cannot be read".to_string())
}

fn torch_zip(
    src: &dyn ByteSource,
    limits: &Limits,
    max_items: u64,
) -> Result<(Node, Resolver), String> {
    let arc = archive(src, limits)?;
    let pkl = arc
        .entries
        .iter()
        .find(|e| {
            e.name
                .split_once('/')
                .is_some_and(|(_, rest)| rest == "data.pkl")
        })
        .ok_or("no <folder>/data.pkl in the archive")?;
    let prefix = pkl.name.trim_end_matches("data.pkl").to_string();
    if pkl.method != 0 {
        return Err("data.pkl is compressed (torch writes it stored)".into());
    }
    let start = zip::member_data_start(src, &arc, pkl).ok_or("data.pkl cannot be read")?;
    let run = machine_run(src, start, limits, max_items)?;
    let tree = tree_of(&run)?;
    let mut r = Resolver::empty();
    for e in &arc.entries {
        if let Some(key) = e.name.strip_prefix(&format!("{prefix}data/")) {
            if e.method != 0 {
                return Err(format!("storage `{key}` is compressed"));
            }
            let start = zip::member_data_start(src, &arc, e)
                .ok_or_else(|| format!("storage `{key}` cannot be read"))?;
            r.storages.insert(
                key.to_string(),
                Region {
                    start,
                    len: e.csize.min(src.len().saturating_sub(start)),
                },
            );
        }
        if e.name == format!("{prefix}byteorder") {
            let b = zip::read_member(src, &arc, e, 16).ok_or("byteorder cannot be read")?;
            r.swap_storages = match b.as_slice() {
                b"little" => false,
                b"big" => true,
                other => {
                    return Err(format!(
                        "unknown byteorder `{}`",
                        String::from_utf8_lossy(other)
                    ))
                }
            };
        }
    }
    Ok((tree, r))
}

/// `torch.save(..., _use_new_zipfile_serialization=False)`: magic number, protocol
/// version, sys_info, the object, the storage keys, then each storage as an 8-byte element
/// count and its bytes. Storages are little-endian whatever sys_info says (torch's legacy
/// writer and reader both ignore it).
fn legacy(
    src: &dyn ByteSource,
    limits: &Limits,
    max_items: u64,
) -> Result<(Node, Resolver), String> {
    let mut at = 0;
    for what in ["magic number", "protocol version", "sys_info"] {
        let run = machine_run(src, at, limits, max_items)?;
        at = run
            .end
            .ok_or_else(|| format!("the {what} pickle does not end"))?;
    }
    let main = machine_run(src, at, limits, max_items)?;
    at = main.end.ok_or("the checkpoint pickle does not end")?;
    let tree = tree_of(&main)?;
    let keys_run = machine_run(src, at, limits, max_items)?;
    at = keys_run.end.ok_or("the storage key list does not end")?;
    let keys: Vec<String> = match &keys_run.result {
        Some(V::Items(items)) => items
            .borrow()
            .iter()
            .map(|k| match k {
                V::Str(s, false) => Ok(s.to_string()),
                _ => Err("a storage key that is not a string".to_string()),
            })
            .collect::<Result<_, _>>()?,
        _ => return Err("the storage keys are not a list".into()),
    };
    if keys.len() > MAX_LEGACY_STORAGES {
        return Err(format!("more than {MAX_LEGACY_STORAGES} storages"));
    }
    // Element sizes from the persistent ids of the main pickle.
    let mut sizes: HashMap<String, u64> = HashMap::new();
    collect_storage_sizes(&tree, &mut sizes);
    let mut r = Resolver::empty();
    for key in keys {
        let mut n = [0u8; 8];
        src.read_exact_at(at, &mut n)
            .map_err(|_| format!("storage `{key}` is cut off"))?;
        let numel = u64::from_le_bytes(n);
        // A storage no tensor uses still has to be stepped over: its element size is
        // unknown, so only used storages can be located after it.
        let es = *sizes
            .get(&key)
            .ok_or_else(|| format!("storage `{key}` is used by no tensor"))?;
        let len = numel
            .checked_mul(es)
            .filter(|&l| {
                at.checked_add(8)
                    .and_then(|s| s.checked_add(l))
                    .is_some_and(|end| end <= src.len())
            })
            .ok_or_else(|| format!("storage `{key}` does not fit the file"))?;
        r.storages.insert(key, Region { start: at + 8, len });
        at += 8 + len;
    }
    Ok((tree, r))
}

fn collect_storage_sizes(n: &Node, out: &mut HashMap<String, u64>) {
    match n {
        Node::Dict(items) => items
            .iter()
            .for_each(|(_, v)| collect_storage_sizes(v, out)),
        Node::Tensor(t) => {
            if let Data::Storage(s) = &t.data {
                out.insert(s.key.clone(), s.dtype.map_or(1, DType::size));
            }
        }
        _ => {}
    }
}

/// A `.npy` at `start..start+len` of `src`: its header, as a tensor over the bytes after it.
fn npy(src: &dyn ByteSource, start: u64, len: u64) -> Result<TensorNode, String> {
    let mut h = [0u8; 12];
    let got = src.read_at(start, &mut h).map_err(|e| e.to_string())?;
    if got < 10 || !h.starts_with(b"\x93NUMPY") {
        return Err("not a .npy file".into());
    }
    let (hlen, hstart) = crate::formats::numpy::header_span(h.get(..got).unwrap_or(&h))
        .map_err(|v| format!(".npy format version {v}"))?;
    if hlen > MAX_NPY_HEADER || hstart + hlen > len {
        return Err(".npy header does not fit".into());
    }
    let header = src
        .read_vec(start + hstart, hlen as usize)
        .map_err(|e| e.to_string())?;
    let header = String::from_utf8_lossy(&header);
    let descr = field(&header, "descr").ok_or(".npy header has no descr")?;
    let descr = descr.trim();
    let Some(code) = descr.strip_prefix('\'').and_then(|d| d.strip_suffix('\'')) else {
        return Err(format!(
            "structured dtype {descr} is outside the safetensors dtypes"
        ));
    };
    if code.contains('O') {
        return Err("an object array (it holds pickled Python objects)".into());
    }
    // The byte order is the first character, if it is one (the descr may hold anything:
    // splitting at byte 1 panicked inside a multi-byte character, found by fuzzing).
    let mut chars = code.chars();
    let (big, ty) = match chars.next() {
        Some('<' | '|' | '=') => (false, chars.as_str()),
        Some('>') => (true, chars.as_str()),
        _ => (false, code),
    };
    let dtype = DType::of_numpy(ty)
        .ok_or_else(|| format!("NumPy dtype `{code}` is outside the safetensors dtypes"))?;
    let fortran = field(&header, "fortran_order").is_some_and(|v| v.trim() == "True");
    let shape_s = field(&header, "shape").ok_or(".npy header has no shape")?;
    let shape: Vec<u64> = shape_s
        .trim()
        .trim_start_matches('(')
        .trim_end_matches(')')
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.trim_end_matches('L').parse::<u64>())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("shape {shape_s} is not a tuple of sizes"))?;
    let data = start + hstart + hlen;
    let strides = if fortran {
        f_strides(&shape)
    } else {
        c_strides(&shape)
    };
    Ok(TensorNode {
        dtype,
        shape,
        strides,
        offset: 0,
        data: Data::Inline {
            offset: data,
            len: (start + len).saturating_sub(data),
        },
        big_endian: big,
    })
}

/// The text of `'key': value` in a header dict literal, up to the next top-level comma.
fn field<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let at = header.find(&format!("'{key}':"))? + key.len() + 3;
    let rest = header.get(at..)?;
    let mut depth = 0i32;
    let mut quote = false;
    for (i, c) in rest.char_indices() {
        match c {
            '\'' => quote = !quote,
            '(' | '[' | '{' if !quote => depth += 1,
            ')' | ']' if !quote => depth -= 1,
            '}' if !quote => {
                if depth == 0 {
                    return rest.get(..i);
                }
                depth -= 1;
            }
            ',' if !quote && depth == 0 => return rest.get(..i),
            _ => {}
        }
    }
    Some(rest)
}

fn npz(src: &dyn ByteSource, limits: &Limits) -> Result<(Node, Resolver), String> {
    let arc = archive(src, limits)?;
    let mut items = Vec::new();
    let mut r = Resolver::empty();
    if arc.entries.is_empty() || !arc.entries.iter().all(|e| e.name.ends_with(".npy")) {
        return Err("a zip that is not a .npz of arrays".into());
    }
    for e in &arc.entries {
        let name = e.name.trim_end_matches(".npy").to_string();
        let t = match e.method {
            0 => {
                let start = zip::member_data_start(src, &arc, e)
                    .ok_or_else(|| format!("member `{}` cannot be read", e.name))?;
                npy(src, start, e.csize)?
            }
            8 => {
                let bytes = zip::read_member(src, &arc, e, MAX_INFLATED_MEMBER)
                    .ok_or_else(|| format!("member `{}` cannot be inflated", e.name))?;
                let mem = Arc::new(MemSource::new(bytes));
                let t = npy(mem.as_ref(), 0, mem.len())?;
                r.inline_source.insert(name.clone(), mem.clone());
                t
            }
            m => return Err(format!("member `{}` uses compression method {m}", e.name)),
        };
        items.push((name, Node::Tensor(t)));
    }
    Ok((Node::Dict(items), r))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// fuzz/artifacts/convert/crash-5e86c9c5…: a `.npy` whose descr starts with bytes
    /// that are not UTF-8 (read lossily into a multi-byte replacement character).
    #[test]
    fn a_descr_that_is_not_ascii_is_refused_not_a_panic() {
        let mut b = b"\x93NUMPY\x01\x00v\x00{'descr': '".to_vec();
        b.extend([0xff; 30]);
        b.extend(b">f4', 'fortran_order': True, 'shape': (2, 3), }");
        b.resize(10 + 0x76, b' ');
        b.push(b'\n');
        b.extend([0u8; 24]);
        let src = MemSource::new(b);
        assert!(npy(&src, 0, src.len()).is_err());
    }

    /// A legacy checkpoint whose first storage claims 2^64-1 elements: the bound check on
    /// its end overflowed (found by the CI fuzz run of `convert`).
    #[test]
    fn a_legacy_storage_count_near_u64_max_is_refused_not_a_panic() {
        let mut bytes =
            std::fs::read("fuzz/seeds/convert/torch-legacy_views.pt").expect("seed file");
        let src = MemSource::new(bytes.clone());
        let limits = Limits::default();
        // Step over the magic number, protocol, sys_info, object and key list pickles.
        let mut at = 0;
        for _ in 0..5 {
            at = machine_run(&src, at, &limits, u64::MAX)
                .unwrap()
                .end
                .unwrap();
        }
        assert!(
            legacy(&src, &limits, u64::MAX).is_ok(),
            "the seed itself converts"
        );
        let at = at as usize;
        // Whatever the element size (1 to 8 bytes), one of these counts times it is just
        // under 2^64, so the storage's end overflows.
        for es in [1u64, 2, 4, 8] {
            bytes[at..at + 8].copy_from_slice(&(u64::MAX / es).to_le_bytes());
            let src = MemSource::new(bytes.clone());
            let err = legacy(&src, &limits, u64::MAX).err().expect("refused");
            assert!(err.contains("does not fit"), "{err}");
        }
    }
}
