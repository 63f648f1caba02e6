//! `torch.package` archives (`PackageExporter`): a zip whose `<root>/.data/` holds the
//! package metadata (`version`, `extern_modules`) and whose other members are the pickles
//! and the Python source of every interned module. `PackageImporter.load_pickle` imports
//! the modules the pickle names from the archive, and what they import from it, running
//! their module level. The pickles are scanned by the zip member walk; this layout
//! analyses the `.py` members ([`crate::python`]), with the member and line of each
//! behaviour, and names the packaged code in a `remote-code-present` finding.

use std::collections::HashMap;

use crate::finding::{shorten, Finding, Location};
use crate::formats::zip::{read_member, Archive, Claimed, ZipLayout};
use crate::python::code_set::{self, Root, Tree};
use crate::python::findings::{behaviour_findings, summary};
use crate::rules::RuleId;
use crate::scan::Ctx;
use crate::source::ByteSource;

pub static ZIP_LAYOUT: ZipLayout = ZipLayout {
    label: None,
    extracts: false,
    claim: claim_package,
    raw_member: is_storage_member,
};

/// `<root>/.data/<n>.storage`: raw tensor bytes.
fn is_storage_member(name: &str) -> bool {
    name.contains("/.data/") && name.ends_with(".storage")
}

/// The package root: the folder holding `.data/version` and `.data/extern_modules`.
fn package_root(arc: &Archive) -> Option<String> {
    let version = arc
        .entries
        .iter()
        .find_map(|e| e.name.strip_suffix(".data/version"))?;
    arc.entries
        .iter()
        .any(|e| e.name == format!("{version}.data/extern_modules"))
        .then(|| version.trim_end_matches('/').to_string())
}

struct Members<'a> {
    src: &'a dyn ByteSource,
    arc: &'a Archive,
    by_name: HashMap<&'a str, usize>,
}

impl Tree for Members<'_> {
    fn read(&self, path: &str) -> Result<Option<String>, String> {
        let Some(&i) = self.by_name.get(path) else {
            return Ok(None);
        };
        let e = self
            .arc
            .entries
            .get(i)
            .ok_or("the member index is past the archive's entries")?;
        if e.usize > code_set::MAX_FILE {
            return Err(format!("{} bytes, over the source size read", e.usize));
        }
        match read_member(self.src, self.arc, e, code_set::MAX_FILE) {
            Some(b) => Ok(Some(String::from_utf8_lossy(&b).into_owned())),
            None => Err("cannot read or inflate the member".into()),
        }
    }
}

fn claim_package(
    src: &dyn ByteSource,
    arc: &Archive,
    _ctx: &Ctx,
    loc: &Location,
    out: &mut Vec<Finding>,
) -> Option<Claimed> {
    let root = package_root(arc)?;
    let prefix = if root.is_empty() {
        String::new()
    } else {
        format!("{root}/")
    };
    let by_name: HashMap<&str, usize> = arc
        .entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.name.as_str(), i))
        .collect();
    // Every interned module: the exporter interns only what the pickled objects need, and
    // the importer runs what they import; each is followed for its own imports too.
    let mut roots: Vec<Root> = arc
        .entries
        .iter()
        .filter(|e| {
            e.name.ends_with(".py")
                && e.name.starts_with(&prefix)
                && !e.name[prefix.len()..].starts_with(".data/")
        })
        .map(|e| Root {
            path: e.name.clone(),
        })
        .collect();
    roots.dedup_by(|a, b| a.path == b.path);
    roots.truncate(code_set::MAX_FILES);
    if roots.is_empty() {
        return Some(Claimed { consumed: None });
    }
    let tree = Members { src, arc, by_name };
    let set = code_set::follow(&tree, &roots, Some(&root), &[]);
    let when = "imported by torch.package.PackageImporter when load_pickle needs the module";
    let mut names = Vec::new();
    for f in &set.files {
        let base = loc.clone();
        let member = f.path.clone();
        let at = move |line: u32, column: u32| Location {
            line: Some(line),
            column: Some(column),
            ..base.member(&member)
        };
        out.extend(behaviour_findings(&f.analysis, &at, when));
        names.push(format!(
            "{} ({})",
            f.path.strip_prefix(&prefix).unwrap_or(&f.path),
            summary(&f.analysis)
        ));
    }
    for u in &set.unresolved {
        let at = match &u.at {
            Some((file, line, column)) => Location {
                line: Some(*line),
                column: Some(*column),
                ..loc.member(file)
            },
            None => loc.member(&u.tried),
        };
        out.push(Finding::new(
            RuleId::RemoteCodeUnresolved,
            at,
            format!(
                "packaged module `{}` ({}) could not be analysed{}",
                u.module,
                u.tried,
                u.error
                    .as_deref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            ),
        ));
    }
    out.push(
        Finding::new(
            RuleId::RemoteCodePresent,
            loc.clone(),
            format!(
                "torch.package archive: PackageImporter.load_pickle imports the packaged Python modules it needs: {}",
                shorten(&names.join("; "), 900)
            ),
        )
        .with_evidence(shorten(
            &set.files
                .iter()
                .map(|f| f.path.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            300,
        )),
    );
    Some(Claimed { consumed: None })
}
