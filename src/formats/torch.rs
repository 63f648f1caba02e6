//! PyTorch's container layouts: what `torch.load` looks for inside a zip or tar, and the
//! legacy (pre-1.6) stacked-pickle format. The zip and tar readers stay generic; they ask
//! here what a layout means.

use crate::finding::{Finding, Location};
use crate::formats::zip::{Archive, Claimed, ZipLayout};
use crate::scan::Ctx;
use crate::source::ByteSource;

/// A zip checkpoint (`torch.save` since 1.6): `<folder>/data.pkl` with any folder name
/// (torch names it after the file, and loads whatever it is called).
pub static ZIP_LAYOUT: ZipLayout = ZipLayout {
    label: Some("pytorch-zip"),
    extracts: false,
    claim: claim_zip,
    raw_member: is_storage_member,
};

fn claim_zip(
    _: &dyn ByteSource,
    arc: &Archive,
    _: &Ctx,
    _: &Location,
    _: &mut Vec<Finding>,
) -> Option<Claimed> {
    arc.entries
        .iter()
        .any(|e| e.name == "data.pkl" || e.name.ends_with("/data.pkl"))
        .then_some(Claimed { consumed: None })
}

/// A TorchServe model archive (`.mar`, made by torch-model-archiver): a zip with
/// `MAR-INF/MANIFEST.json`, which TorchServe extracts into its model store before loading
/// the handler and the serialised model it names.
pub static MAR_LAYOUT: ZipLayout = ZipLayout {
    label: None,
    extracts: true,
    claim: claim_mar,
    raw_member: |_| false,
};

fn claim_mar(
    _: &dyn ByteSource,
    arc: &Archive,
    _: &Ctx,
    _: &Location,
    _: &mut Vec<Finding>,
) -> Option<Claimed> {
    arc.entries
        .iter()
        .any(|e| e.name == "MAR-INF/MANIFEST.json")
        .then_some(Claimed { consumed: None })
}

/// PyTorch never unpickles `<prefix>/data/<key>` members: they are raw storage bytes.
fn is_storage_member(name: &str) -> bool {
    let mut parts = name.rsplit('/');
    let key = parts.next().unwrap_or("");
    parts.next() == Some("data") && !key.is_empty() && key.bytes().all(|b| b.is_ascii_digit())
}

/// The legacy tar format (`torch.save` before 0.4 wrote one; `torch.load` still reads
/// it): members `sys_info`, `pickle`, `storages` and `tensors`, found by those names.
pub fn is_legacy_tar(members: &[crate::formats::tar::Member]) -> bool {
    let has = |n: &str| {
        members
            .iter()
            .any(|m| m.name == n && m.kind == crate::formats::tar::MemberKind::File)
    };
    has("pickle") && has("storages")
}

/// Pickles at the start of a legacy `torch.save` file: magic number, protocol version,
/// sys info, the object, the storage keys. `torch.load` reads exactly these, then raw
/// storage bytes that are never unpickled.
pub const LEGACY_PICKLES: u32 = 5;

/// The legacy (pre-1.6, and `_use_new_zipfile_serialization=False`) `torch.save` format
/// starts with a pickle of its magic number.
pub fn is_legacy(src: &dyn ByteSource, start: u64) -> bool {
    // LONG1 of 0x1950a86a20f9469cfc6c, after PROTO 2..5 and, from protocol 4, a FRAME.
    const MAGIC: &[u8] = b"\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19";
    let mut h = [0u8; 23];
    let n = src.read_at(start, &mut h).unwrap_or(0);
    let h = h.get(..n).unwrap_or_default();
    let Some(&[0x80, proto]) = h.get(..2) else {
        return false;
    };
    if !(2..=5).contains(&proto) {
        return false;
    }
    let body = match h.get(2) {
        Some(0x95) if proto >= 4 => h.get(11..),
        _ => h.get(2..),
    };
    body.is_some_and(|b| b.starts_with(MAGIC))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_members_are_digits_under_data() {
        assert!(is_storage_member("archive/data/0"));
        assert!(is_storage_member("model/data/123"));
        assert!(!is_storage_member("archive/data.pkl"));
        assert!(!is_storage_member("archive/data/x0"));
        assert!(!is_storage_member("data/"));
    }

    #[test]
    fn legacy_tar_needs_its_members() {
        let names = |v: &[&str]| {
            v.iter()
                .map(|s| crate::formats::tar::Member {
                    name: s.to_string(),
                    offset: 0,
                    kind: crate::formats::tar::MemberKind::File,
                })
                .collect::<Vec<_>>()
        };
        assert!(is_legacy_tar(&names(&[
            "sys_info", "storages", "tensors", "pickle"
        ])));
        assert!(!is_legacy_tar(&names(&["model/model.pkl"])));
        assert!(!is_legacy_tar(&names(&["my.pickle", "storages"])));
    }
}
