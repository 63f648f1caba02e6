//! The Keras 3 `.keras` layout inside a zip archive.

use crate::finding::{Finding, Location};
use crate::formats::zip::{self, Archive, Claimed, ZipLayout};
use crate::rules::RuleId;
use crate::scan::Ctx;
use crate::source::ByteSource;

/// A `.keras` archive (recognised by its `config.json`, under any file name).
pub static ZIP_LAYOUT: ZipLayout = ZipLayout {
    label: Some("keras"),
    extracts: false,
    claim,
    raw_member: |_| false,
};

/// A Keras 3 `.keras` archive: a top-level `config.json` that serialises a Keras model,
/// usually next to a `metadata.json` naming a `keras_version`. Keras loads the archive
/// without `metadata.json`, so the config's own shape is enough. Its `config.json` is what
/// the loader rebuilds the model from, so it goes to the Keras config scanner (Lambda
/// layers, modules outside Keras, CVE-2025-1550/8747/9906). Claims the archive when it is
/// one, with the local header offset of the `config.json` that was scanned. The last of
/// duplicate names is the one Python's zipfile (and so Keras) reads; the others are still
/// sniffed as members.
fn claim(
    src: &dyn ByteSource,
    arc: &Archive,
    ctx: &Ctx,
    loc: &Location,
    out: &mut Vec<Finding>,
) -> Option<Claimed> {
    let find = |n: &str| arc.entries.iter().rev().find(|e| e.name == n);
    let config = find("config.json")?;
    let meta_says_keras = find("metadata.json")
        .and_then(|m| zip::read_member(src, arc, m, 1 << 20))
        .is_some_and(|m| super::is_keras_metadata(&m));
    let mloc = loc.member("config.json");
    let max = super::MAX_CONFIG.min(ctx.limits.max_member_size);
    match zip::read_member(src, arc, config, max) {
        Some(json) => {
            if !meta_says_keras && !super::is_keras_config(&json) {
                return None;
            }
            super::scan_config(&json, ctx, &mloc, out);
            Some(Claimed {
                consumed: Some(config.local_offset),
            })
        }
        None if meta_says_keras => {
            out.push(Finding::new(
RuleId::ContentNotScanned,
                mloc,
                format!("the Keras config.json could not be read (unsupported compression, damaged, or over {max} bytes)"),
            ));
            Some(Claimed { consumed: None })
        }
        None => None,
    }
}
