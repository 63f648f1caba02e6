//! Which discovered files are scanned: include/exclude globs (globset) and the stable
//! shard partition of `--shard K/N`.

use globset::{Glob, GlobSet, GlobSetBuilder};

pub struct Filters {
    include: Option<GlobSet>,
    exclude: GlobSet,
    shard: Option<(u64, u64)>,
}

impl Filters {
    pub fn new(
        include: &[String],
        exclude: &[String],
        shard: Option<(u64, u64)>,
    ) -> Result<Filters, String> {
        let build = |globs: &[String]| -> Result<GlobSet, String> {
            let mut b = GlobSetBuilder::new();
            for g in globs {
                b.add(Glob::new(g).map_err(|e| format!("invalid glob `{g}`: {e}"))?);
                // `dir/` or `dir` should also cover everything below it.
                if !g.contains('*') {
                    let dir = format!("{}/**", g.trim_end_matches('/'));
                    b.add(Glob::new(&dir).map_err(|e| format!("invalid glob `{g}`: {e}"))?);
                }
            }
            b.build().map_err(|e| e.to_string())
        };
        Ok(Filters {
            include: if include.is_empty() {
                None
            } else {
                Some(build(include)?)
            },
            exclude: build(exclude)?,
            shard,
        })
    }

    pub fn skip_reason(&self, display: &str) -> Option<String> {
        if self.exclude.is_match(display) {
            return Some("excluded by an exclude glob".into());
        }
        if let Some(inc) = &self.include {
            if !inc.is_match(display) {
                return Some("not matched by any include glob".into());
            }
        }
        None
    }

    pub fn in_shard(&self, display: &str) -> bool {
        match self.shard {
            None => true,
            Some((k, n)) => fnv1a(display.as_bytes()) % n == k - 1,
        }
    }
}

/// Parses `K/N` (1 ≤ K ≤ N).
pub fn parse_shard(s: &str) -> Result<(u64, u64), String> {
    let (k, n) = s
        .split_once('/')
        .ok_or_else(|| format!("--shard takes K/N, got `{s}`"))?;
    let k: u64 = k
        .trim()
        .parse()
        .map_err(|_| format!("--shard: `{k}` is not a number"))?;
    let n: u64 = n
        .trim()
        .parse()
        .map_err(|_| format!("--shard: `{n}` is not a number"))?;
    if n == 0 || k == 0 || k > n {
        return Err(format!("--shard {s}: need 1 <= K <= N"));
    }
    Ok((k, n))
}

/// Stable across platforms and releases (unlike std's hasher), so shards don't move.
fn fnv1a(b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &x in b {
        h ^= x as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_parsing() {
        assert_eq!(parse_shard("2/4").unwrap(), (2, 4));
        assert!(parse_shard("0/4").is_err());
        assert!(parse_shard("5/4").is_err());
        assert!(parse_shard("x").is_err());
    }

    #[test]
    fn shards_partition_paths() {
        let names: Vec<String> = (0..200).map(|i| format!("models/m{i}.pt")).collect();
        let mut total = 0;
        for k in 1..=3 {
            let f = Filters::new(&[], &[], Some((k, 3))).unwrap();
            total += names.iter().filter(|n| f.in_shard(n)).count();
        }
        assert_eq!(total, names.len());
    }
}
