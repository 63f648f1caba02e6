//! The generated allowlist (`data/*.tsv`, written by `scripts/allowlist/generate.py`):
//! globals that real libraries write into their own files, each with the most a pickle may
//! do with it and the family whose reason says why that is safe; and the globals ordinary
//! files contain whose load-time code must stay visible (`risky_globals.tsv`).
//!
//! The tables are data, parsed once. They never override the dangerous lists: the
//! classifier consults them only after the exact dangerous names, and an entry in a
//! dangerous module is ignored (see `globals::classify_builtin`).

use std::collections::HashMap;
use std::sync::OnceLock;

use super::globals::Use;

const SAFE_GLOBALS: &str = include_str!("data/safe_globals.tsv");
const SAFE_FAMILIES: &str = include_str!("data/safe_families.tsv");
const RISKY_GLOBALS: &str = include_str!("data/risky_globals.tsv");

/// One generated safe entry.
#[derive(Clone, Copy, Debug)]
pub struct SafeEntry {
    pub max_use: Use,
    /// The family's reason (`safe_families.tsv`).
    pub why: &'static str,
}

struct Tables {
    safe: HashMap<(&'static str, &'static str), SafeEntry>,
    risky: HashMap<(&'static str, &'static str), &'static str>,
}

/// Data rows of a TSV table: `#` lines and blank lines are comments.
fn rows(text: &'static str) -> impl Iterator<Item = Vec<&'static str>> {
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split('\t').collect())
}

fn parse_use(s: &str) -> Option<Use> {
    match s {
        "ref" => Some(Use::Ref),
        "object" => Some(Use::Object),
        "call" => Some(Use::Call),
        _ => None,
    }
}

fn tables() -> &'static Tables {
    static T: OnceLock<Tables> = OnceLock::new();
    T.get_or_init(|| {
        let families: HashMap<&str, &str> = rows(SAFE_FAMILIES)
            .filter_map(|r| Some((*r.first()?, *r.get(1)?)))
            .collect();
        let safe = rows(SAFE_GLOBALS)
            .filter_map(|r| {
                let (m, n, u, f) = (r.first()?, r.get(1)?, r.get(2)?, r.get(3)?);
                let entry = SafeEntry {
                    max_use: parse_use(u)?,
                    why: families.get(f).copied()?,
                };
                Some(((*m, *n), entry))
            })
            .collect();
        let risky = rows(RISKY_GLOBALS)
            .filter_map(|r| Some(((*r.first()?, *r.get(1)?), *r.get(2)?)))
            .collect();
        Tables { safe, risky }
    })
}

/// The generated safe entry for `module.name`, exactly as `find_class` receives it.
pub fn safe(module: &str, name: &str) -> Option<SafeEntry> {
    tables().safe.get(&(module, name)).copied()
}

/// Why `module.name` stays medium although ordinary files contain it.
pub fn risky(module: &str, name: &str) -> Option<&'static str> {
    tables().risky.get(&(module, name)).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every data row parses: a row with an unknown use or family would be dropped
    /// silently and its files would turn medium.
    #[test]
    fn every_row_parses() {
        let rows_in = |t: &'static str| rows(t).count();
        assert_eq!(tables().safe.len(), rows_in(SAFE_GLOBALS));
        assert_eq!(tables().risky.len(), rows_in(RISKY_GLOBALS));
        assert!(tables().safe.len() > 900);
    }

    #[test]
    fn real_library_names_are_listed_with_their_use() {
        let e = safe("_loss", "CyHalfSquaredError").unwrap();
        assert_eq!(e.max_use, Use::Call);
        assert_eq!(safe("numpy", "log1p").unwrap().max_use, Use::Ref);
        assert!(safe("pandas.core.indexes.interval", "_new_IntervalIndex").is_some());
        assert!(safe("os", "system").is_none());
        assert!(risky("sklearn_crfsuite._fileresource", "FileResource").is_some());
    }
}
