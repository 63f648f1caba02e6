//! Member names that leave the folder an archive is extracted into ("zip slip",
//! "tar slip"): loaders that extract archives to disk (NeMo's `.nemo`, TorchServe's `.mar`,
//! PyTorch's legacy tar format) write such a member, or the file a link member points at,
//! outside their folder.

/// Why extracting a member named `name` writes outside the extraction folder, if it does.
pub fn escape(name: &str) -> Option<&'static str> {
    if name.starts_with('/') || name.starts_with('\\') {
        return Some("an absolute path");
    }
    let b = name.as_bytes();
    if b.len() >= 2 && b.first().is_some_and(u8::is_ascii_alphabetic) && b.get(1) == Some(&b':') {
        return Some("a drive path");
    }
    if climbs(name, 0) {
        return Some("a path that climbs out with `..`");
    }
    None
}

/// Whether `path`, resolved from a folder `depth` levels below the extraction folder,
/// goes above it.
fn climbs(path: &str, depth: usize) -> bool {
    let mut d = depth as i64;
    for part in path.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                d -= 1;
                if d < 0 {
                    return true;
                }
            }
            _ => d += 1,
        }
    }
    false
}

/// Why a link member `name` pointing at `target` reaches outside the extraction folder:
/// an absolute target, or a relative one that climbs above the folder from where the
/// link sits (symlinks resolve from the link's folder, hard links from the archive root).
pub fn link_escape(name: &str, target: &str, hard: bool) -> Option<&'static str> {
    if target.starts_with('/') || target.starts_with('\\') {
        return Some("a link to an absolute path");
    }
    let b = target.as_bytes();
    if b.len() >= 2 && b.first().is_some_and(u8::is_ascii_alphabetic) && b.get(1) == Some(&b':') {
        return Some("a link to a drive path");
    }
    let depth = if hard {
        0
    } else {
        name.split(['/', '\\'])
            .filter(|p| !p.is_empty() && *p != ".")
            .count()
            .saturating_sub(1)
    };
    climbs(target, depth).then_some("a link that climbs out of the folder with `..`")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(escape("../evil.py").is_some());
        assert!(escape("a/../../b").is_some());
        assert!(escape("/etc/passwd").is_some());
        assert!(escape("C:/x").is_some());
        assert!(escape("a/../b").is_none());
        assert!(escape("model/weights.bin").is_none());
        assert!(escape("./x").is_none());
    }

    #[test]
    fn links() {
        assert!(link_escape("a/link", "../b", false).is_none());
        assert!(link_escape("a/link", "../../b", false).is_some());
        assert!(link_escape("link", "/etc/passwd", false).is_some());
        assert!(link_escape("a/b/hard", "../x", true).is_some());
        assert!(link_escape("a/b/hard", "a/x", true).is_none());
    }
}
