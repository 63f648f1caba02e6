//! What an HDF5 file makes its reader open besides itself: external raw storage (the
//! External Data Files message, file names in a local heap), external links (link
//! messages of type 64: a file name and an object path) and virtual datasets (data layout
//! class 3: source file names in a global heap object). Reading such a dataset (h5py,
//! libhdf5) reads the named file.
//!
//! The object tree is walked from the root group through symbol tables (v1 B-tree group
//! nodes, symbol nodes, local heap names) and link messages, each object once, within
//! [`MAX_OBJECTS`] objects and [`MAX_NODES`] B-tree nodes. Every read is bounded by the
//! reader's own limits.

use std::collections::HashSet;

use super::{object_messages, Buf, Reader, R};
use crate::bytes::u16_le_at;
use crate::finding::{Finding, Location, Severity};
use crate::rules::RuleId;
use crate::scan::Ctx;
use crate::source::ByteSource;

/// Most objects (groups and datasets) visited.
const MAX_OBJECTS: usize = 20_000;
/// Most B-tree nodes read.
const MAX_NODES: usize = 20_000;
/// Most external files, links or mappings reported per file.
const MAX_REPORTED: usize = 200;
/// Longest name read from a heap.
const MAX_NAME: usize = 4096;

/// One reference to another file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The object (path inside the file) that holds it.
    pub object: String,
    pub kind: Kind,
    /// The file named.
    pub file: String,
    /// For links and virtual datasets: the object read in that file.
    pub target: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    ExternalStorage,
    ExternalLink,
    VirtualSource,
}

/// What the walk found, and what it could not read.
#[derive(Debug, Default)]
pub struct Walk {
    pub refs: Vec<Reference>,
    pub errors: Vec<String>,
}

/// A NUL-terminated name at `off` of a local heap's data segment.
fn local_heap_name(r: &Reader, heap: u64, off: u64) -> R<String> {
    let h = r.read(heap, 8 + 2 * r.sl as u64 + r.so as u64)?;
    if !h.starts_with(b"HEAP") {
        return Err("no local heap where a name should be".into());
    }
    let mut b = Buf::new(&h);
    b.take(8)?;
    let size = b.u(r.sl)?;
    b.take(r.sl)?;
    let data = b.u(r.so)?;
    if off >= size {
        return Err(format!("name offset {off} outside its local heap"));
    }
    let n = (size - off).min(MAX_NAME as u64);
    let bytes = r.read(data.checked_add(off).ok_or("address overflow")?, n)?;
    let name = bytes.split(|&c| c == 0).next().unwrap_or_default();
    Ok(String::from_utf8_lossy(name).into_owned())
}

/// NUL-terminated string at the start of `b`; the rest after the NUL.
fn cstr(b: &[u8]) -> R<(String, &[u8])> {
    let mut parts = b.splitn(2, |&c| c == 0);
    let s = parts.next().unwrap_or_default();
    let rest = parts.next().ok_or("string without a terminator")?;
    Ok((String::from_utf8_lossy(s).into_owned(), rest))
}

fn join(parent: &str, name: &str) -> String {
    if parent == "/" {
        format!("/{name}")
    } else {
        format!("{parent}/{name}")
    }
}

/// Walks the object tree and collects the references to other files.
pub fn walk(src: &dyn ByteSource, ctx: &Ctx) -> R<Walk> {
    let (r, root) = super::open(src)?;
    let mut out = Walk::default();
    let mut seen: HashSet<u64> = HashSet::new();
    let mut todo: Vec<(u64, String)> = vec![(root, "/".to_string())];
    let mut nodes = 0usize;
    while let Some((addr, path)) = todo.pop() {
        if r.undefined(addr) || !seen.insert(addr) {
            continue;
        }
        if seen.len() > MAX_OBJECTS || ctx.expired() {
            out.errors.push(format!(
                "more than {MAX_OBJECTS} objects, or the time budget ran out; the rest was not walked"
            ));
            break;
        }
        let msgs = match object_messages(&r, addr) {
            Ok(m) => m,
            Err(e) => {
                out.errors.push(format!("object `{path}`: {e}"));
                continue;
            }
        };
        for (ty, body) in msgs {
            let res = match ty {
                0x11 => symbol_table(&r, &body, &path, &mut todo, &mut nodes),
                0x06 => link(&r, &body, &path, &mut todo, &mut out.refs),
                0x02 => link_info(&r, &body),
                0x07 => external_files(&r, &body, &path, &mut out.refs),
                0x08 => layout(&r, &body, &path, &mut out.refs),
                _ => Ok(()),
            };
            if let Err(e) = res {
                out.errors.push(format!("object `{path}`: {e}"));
            }
        }
    }
    Ok(out)
}

/// Symbol table message: a v1 B-tree of group nodes whose leaves are symbol nodes.
fn symbol_table(
    r: &Reader,
    body: &[u8],
    path: &str,
    todo: &mut Vec<(u64, String)>,
    nodes: &mut usize,
) -> R<()> {
    let mut b = Buf::new(body);
    let tree = b.u(r.so)?;
    let heap = b.u(r.so)?;
    let mut stack = vec![tree];
    while let Some(node) = stack.pop() {
        *nodes += 1;
        if *nodes > MAX_NODES {
            return Err(format!("more than {MAX_NODES} B-tree nodes"));
        }
        if r.undefined(node) {
            continue;
        }
        let head = r.read(node, 8 + 2 * r.so as u64)?;
        if head.starts_with(b"SNOD") {
            let count = u64::from(u16_le_at(&head, 6).ok_or("structure truncated")?);
            let entry = 2 * r.so as u64 + 24;
            let data = r.read(node.saturating_add(8), count.saturating_mul(entry))?;
            let mut e = Buf::new(&data);
            for _ in 0..count {
                let name_off = e.u(r.so)?;
                let obj = e.u(r.so)?;
                let cache = e.u(4)?;
                e.take(20)?;
                // Cache type 2: a soft link (a path inside this file); no object to visit.
                if cache == 2 {
                    continue;
                }
                if todo.len() >= MAX_OBJECTS {
                    return Err(format!("more than {MAX_OBJECTS} objects"));
                }
                let name = local_heap_name(r, heap, name_off)?;
                todo.push((obj, join(path, &name)));
            }
            continue;
        }
        if !head.starts_with(b"TREE") {
            return Err(
                "a group's B-tree points at neither a B-tree node nor a symbol node".into(),
            );
        }
        if head.get(4) != Some(&0) {
            return Err("a group's B-tree node is not a group node".into());
        }
        let used = u64::from(u16_le_at(&head, 6).ok_or("structure truncated")?);
        if (stack.len() as u64).saturating_add(used) > MAX_NODES as u64 {
            return Err(format!("more than {MAX_NODES} B-tree nodes"));
        }
        // key0 child0 key1 child1 ... keyN: keys are heap offsets (size of lengths).
        let len = (used + 1)
            .saturating_mul(r.sl as u64)
            .saturating_add(used.saturating_mul(r.so as u64));
        let data = r.read(node.saturating_add(8 + 2 * r.so as u64), len)?;
        let mut k = Buf::new(&data);
        for _ in 0..used {
            k.take(r.sl)?;
            stack.push(k.u(r.so)?);
        }
    }
    Ok(())
}

/// Link message (version 1): hard links are visited, external links reported.
fn link(
    r: &Reader,
    body: &[u8],
    path: &str,
    todo: &mut Vec<(u64, String)>,
    refs: &mut Vec<Reference>,
) -> R<()> {
    let mut b = Buf::new(body);
    if b.u(1)? != 1 {
        return Err("link message version is not 1".into());
    }
    let flags = b.u(1)?;
    let ty = if flags & 0x08 != 0 { b.u(1)? } else { 0 };
    if flags & 0x04 != 0 {
        b.take(8)?;
    }
    if flags & 0x10 != 0 {
        b.take(1)?;
    }
    let nlen = b.u(1 << (flags & 3))? as usize;
    let name = String::from_utf8_lossy(b.take(nlen)?).into_owned();
    match ty {
        0 if todo.len() >= MAX_OBJECTS => return Err(format!("more than {MAX_OBJECTS} objects")),
        0 => todo.push((b.u(r.so)?, join(path, &name))),
        1 => {}
        64 => {
            let len = b.u(2)? as usize;
            let info = b.take(len)?;
            let (file, rest) = cstr(info.get(1..).ok_or("external link truncated")?)?;
            let (target, _) = cstr(rest)?;
            if refs.len() < MAX_REPORTED {
                refs.push(Reference {
                    object: join(path, &name),
                    kind: Kind::ExternalLink,
                    file,
                    target: Some(target),
                });
            }
        }
        t => return Err(format!("link `{name}` of user-defined type {t}")),
    }
    Ok(())
}

/// Link info message: links in dense storage (a fractal heap) are not read here.
fn link_info(r: &Reader, body: &[u8]) -> R<()> {
    let mut b = Buf::new(body);
    b.take(1)?;
    let flags = b.u(1)?;
    if flags & 1 != 0 {
        b.take(8)?;
    }
    let heap = b.u(r.so)?;
    if r.undefined(heap) {
        Ok(())
    } else {
        Err("its links are kept in dense storage (a fractal heap), which is not read".into())
    }
}

/// External Data Files message: each slot names a file through the local heap.
fn external_files(r: &Reader, body: &[u8], path: &str, refs: &mut Vec<Reference>) -> R<()> {
    let mut b = Buf::new(body);
    b.take(4)?; // version, reserved
    b.take(2)?; // allocated slots
    let used = b.u(2)?;
    let heap = b.u(r.so)?;
    for _ in 0..used {
        let off = b.u(r.sl)?;
        b.take(2 * r.sl)?; // offset in the file, size
        let file = local_heap_name(r, heap, off)?;
        if refs.len() < MAX_REPORTED {
            refs.push(Reference {
                object: path.to_string(),
                kind: Kind::ExternalStorage,
                file,
                target: None,
            });
        }
    }
    Ok(())
}

/// Data layout message: class 3 (virtual, layout version 4) keeps its mappings in a
/// global heap object: a version, the number of entries, then per entry the source file
/// name, the source dataset name and two serialised selections.
fn layout(r: &Reader, body: &[u8], path: &str, refs: &mut Vec<Reference>) -> R<()> {
    let mut b = Buf::new(body);
    let version = b.u(1)?;
    if version < 3 {
        return Ok(());
    }
    if b.u(1)? != 3 {
        return Ok(());
    }
    let coll = b.u(r.so)?;
    let index = b.u(4)?;
    let obj = super::global_heap_object(r, coll, index, super::MAX_VALUE)?;
    let mut g = Buf::new(&obj);
    g.take(1)?;
    let entries = g.u(r.sl)?;
    let mut rest = g.rest();
    for i in 0..entries {
        let (file, after) = cstr(rest)?;
        let (dataset, after) = cstr(after)?;
        if file != "." && refs.len() < MAX_REPORTED {
            refs.push(Reference {
                object: path.to_string(),
                kind: Kind::VirtualSource,
                file,
                target: Some(dataset),
            });
        }
        if i + 1 == entries {
            break;
        }
        let after = skip_selection(after)?;
        rest = skip_selection(after)?;
    }
    Ok(())
}

/// Skips one serialised dataspace selection (`H5S_select_serialize`): type, version,
/// and for versions 1 and 2 a length of what follows; version 3 encodings (no length)
/// are not decoded.
fn skip_selection(b: &[u8]) -> R<&[u8]> {
    let mut s = Buf::new(b);
    let ty = s.u(4)?;
    let version = s.u(4)?;
    match (ty, version) {
        (_, 1) => {
            s.take(4)?;
            let len = s.u(4)? as usize;
            s.take(len)?;
        }
        (_, 2) => {
            s.take(1)?;
            let len = s.u(4)? as usize;
            s.take(len)?;
        }
        (t, v) => {
            return Err(format!(
                "a virtual dataset selection (type {t}, version {v}) that is not decoded; later mappings were not read"
            ))
        }
    }
    Ok(s.rest())
}

/// Findings for the references: high when the file named leaves the model's folder
/// (absolute, a drive or URL, or `..` out of it), medium when it names a file beside it.
pub fn scan(src: &dyn ByteSource, ctx: &Ctx, loc: &Location, out: &mut Vec<Finding>) {
    let w = match walk(src, ctx) {
        Ok(w) => w,
        Err(e) => {
            out.push(Finding::new(
                RuleId::ContentNotScanned,
                loc.clone(),
                format!("the HDF5 object tree could not be walked ({e}); external files, links and virtual datasets were not checked"),
            ));
            return;
        }
    };
    for rf in &w.refs {
        let outside = crate::formats::paths::escape(&rf.file).is_some() || rf.file.contains("://");
        let what = match rf.kind {
            Kind::ExternalStorage => format!(
                "dataset `{}` keeps its raw data in the external file `{}` (External Data Files message)",
                rf.object, rf.file
            ),
            Kind::ExternalLink => format!(
                "`{}` is an external link to `{}` in the file `{}`",
                rf.object,
                rf.target.as_deref().unwrap_or(""),
                rf.file
            ),
            Kind::VirtualSource => format!(
                "virtual dataset `{}` maps `{}` of the file `{}`",
                rf.object,
                rf.target.as_deref().unwrap_or(""),
                rf.file
            ),
        };
        let mut f = Finding::new(
            RuleId::HdfExternalReference,
            loc.clone(),
            format!(
                "{what}: reading it reads that file{}",
                if outside {
                    ", outside the model's folder"
                } else {
                    " (beside the model: the file is not self-contained)"
                }
            ),
        )
        .with_evidence(rf.file.clone());
        if !outside {
            f = f.with_severity(Severity::Medium);
        }
        out.push(f);
    }
    if let Some(e) = w.errors.first() {
        out.push(Finding::new(
            RuleId::ContentNotScanned,
            loc.clone(),
            format!(
                "{} part(s) of the HDF5 object tree could not be read ({e}); external files, links and virtual datasets there were not checked",
                w.errors.len()
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Limits;
    use crate::source::MemSource;

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures")
                .join(name),
        )
        .unwrap()
    }

    fn findings(data: Vec<u8>) -> Vec<Finding> {
        let limits = Limits::default();
        let allow = |_: &str, _: &str| false;
        let ctx = Ctx::new(&limits, &allow);
        let mut out = Vec::new();
        scan(
            &MemSource::new(data),
            &ctx,
            &Location::file("x.h5"),
            &mut out,
        );
        out
    }

    #[test]
    fn references_are_found_and_internal_ones_are_not() {
        let f = findings(fixture("malicious/coderun/hdf5/virtual_dataset_dotdot.h5"));
        assert!(
            f.iter().any(|x| x.rule == "hdf-external-reference"
                && x.severity == Severity::High
                && x.message.contains("../modelgate-outside.h5")),
            "{f:#?}"
        );
        let f = findings(fixture("benign/coderun/hdf5/links_and_internal_vds.h5"));
        assert!(f.is_empty(), "{f:#?}");
    }

    #[test]
    fn a_b_tree_node_pointing_at_itself_ends() {
        // The root group's B-tree node (at 136 in this h5py file) made to list itself as
        // its only child, at level 1: the walk stops at the node bound, with a finding.
        let mut d = fixture("benign/coderun/hdf5/links_and_internal_vds.h5");
        assert_eq!(&d[136..140], b"TREE");
        d[141] = 1; // level
        d[142..144].copy_from_slice(&1u16.to_le_bytes());
        d[136 + 24 + 8..136 + 24 + 16].copy_from_slice(&136u64.to_le_bytes());
        let f = findings(d);
        assert!(
            f.iter()
                .any(|x| x.rule == "content-not-scanned" && x.message.contains("B-tree")),
            "{f:#?}"
        );
    }
}
