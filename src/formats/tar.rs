//! Tar archives, read in place: each member is a window of the source, scanned by content
//! (the PyTorch legacy tar format keeps its pickles in members named `pickle`,
//! `storages` and `tensors`). Nothing is extracted.

use crate::finding::{Finding, Location};
use crate::rules::RuleId;
use crate::scan::{self, Ctx};
use crate::source::{ByteSource, SliceSource};

const BLOCK: u64 = 512;

fn octal(field: &[u8]) -> Option<u64> {
    // GNU base-256 for sizes over 8 GiB: high bit set on the first byte.
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        let (first, rest) = field.split_first()?;
        let mut v: u64 = (first & 0x7f) as u64;
        for &b in rest {
            v = v.checked_mul(256)?.checked_add(b as u64)?;
        }
        return Some(v);
    }
    let s: String = field
        .iter()
        .take_while(|&&b| b != 0 && b != b' ')
        .map(|&b| b as char)
        .collect();
    let s = s.trim();
    if s.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(s, 8).ok()
}

fn checksum_ok(h: &[u8; BLOCK as usize]) -> bool {
    let Some(want) = octal(&h[148..156]) else {
        return false;
    };
    let sum: u64 = h
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                b' ' as u64
            } else {
                b as u64
            }
        })
        .sum();
    sum == want
}

fn cstr(b: &[u8]) -> String {
    let s = b.split(|&c| c == 0).next().unwrap_or_default();
    String::from_utf8_lossy(s).into_owned()
}

/// One member as the archive lists it.
#[derive(Debug, Clone)]
pub struct Member {
    pub name: String,
    /// Header offset.
    pub offset: u64,
    pub kind: MemberKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberKind {
    File,
    Dir,
    Symlink(String),
    Hardlink(String),
    Other,
}

/// Member names that extraction would write outside its folder (absolute, `..`, links
/// pointing out): high when the archive is used by extracting it (`extracts` says who
/// extracts it), medium otherwise.
pub fn escape_findings(
    members: &[Member],
    extracts: Option<&str>,
    loc: &Location,
    out: &mut Vec<Finding>,
) {
    use crate::formats::paths;
    for m in members {
        let why = match &m.kind {
            MemberKind::Symlink(t) => {
                paths::escape(&m.name).or(paths::link_escape(&m.name, t, false))
            }
            MemberKind::Hardlink(t) => {
                paths::escape(&m.name).or(paths::link_escape(&m.name, t, true))
            }
            _ => paths::escape(&m.name),
        };
        let Some(why) = why else { continue };
        let target = match &m.kind {
            MemberKind::Symlink(t) | MemberKind::Hardlink(t) => format!(" -> {t}"),
            _ => String::new(),
        };
        let name = crate::finding::shorten(&m.name, 200);
        let who = extracts
            .map(|who| format!(", and {who}"))
            .unwrap_or_default();
        let msg = format!(
            "tar member `{name}` is {why}: extracting the archive writes outside its folder{who}"
        );
        let at = Location {
            offset: Some(m.offset),
            ..loc.clone()
        };
        let mut f = Finding::new(RuleId::ArchivePathEscape, at, msg)
            .with_evidence(format!("{name}{target}"));
        if extracts.is_none() {
            f = f.with_severity(crate::finding::Severity::Medium);
        }
        out.push(f);
    }
}

/// `path` and `linkpath` of a pax extended header (`LEN key=value\n` records).
fn pax(data: &[u8]) -> (Option<String>, Option<String>) {
    let (mut path, mut link) = (None, None);
    let mut rest = data;
    while !rest.is_empty() {
        let Some(sp) = rest.iter().position(|&b| b == b' ') else {
            break;
        };
        let Some(len) = std::str::from_utf8(rest.get(..sp).unwrap_or_default())
            .ok()
            .and_then(|l| l.parse::<usize>().ok())
        else {
            break;
        };
        let Some(record) = rest.get(sp + 1..len) else {
            break;
        };
        let record = record.strip_suffix(b"\n").unwrap_or(record);
        if let Some(eq) = record.iter().position(|&b| b == b'=') {
            let k = record.get(..eq).unwrap_or_default();
            let v = String::from_utf8_lossy(record.get(eq + 1..).unwrap_or_default()).into_owned();
            match k {
                b"path" => path = Some(v),
                b"linkpath" => link = Some(v),
                _ => {}
            }
        }
        rest = rest.get(len..).unwrap_or_default();
    }
    (path, link)
}

/// Scans every member by content; returns the members as listed (the caller tells the
/// PyTorch legacy and NeMo layouts by their names, and reports names that escape).
pub fn scan(
    src: &dyn ByteSource,
    ctx: &Ctx,
    loc: &Location,
    out: &mut Vec<Finding>,
) -> Vec<Member> {
    let mut names: Vec<Member> = Vec::new();
    let mut long_link: Option<String> = None;
    let mut pax_path: Option<String> = None;
    let mut pax_link: Option<String> = None;
    let mut global_path: Option<String> = None;
    let mut pos = 0u64;
    let mut entries = 0u32;
    let mut long_name: Option<String> = None;
    while pos + BLOCK <= src.len() {
        if ctx.expired() {
            out.push(Finding::new(
                RuleId::ContentNotScanned,
                loc.clone(),
                "time budget exceeded inside a tar archive",
            ));
            return names;
        }
        // A fixed-size block: the field ranges below are checked at compile time.
        let mut h = [0u8; BLOCK as usize];
        if src.read_exact_at(pos, &mut h).is_err() {
            break;
        }
        if h.iter().all(|&b| b == 0) {
            break;
        }
        if !checksum_ok(&h) {
            out.push(Finding::new(
                RuleId::ContentNotScanned,
                Location {
                    offset: Some(pos),
                    ..loc.clone()
                },
                "tar header checksum is wrong; the rest of the archive was not scanned",
            ));
            break;
        }
        entries += 1;
        if entries > ctx.limits.max_archive_entries || !ctx.take_entry() {
            out.push(Finding::new(
RuleId::ContentNotScanned,
                loc.clone(),
                format!(
                    "more than {} tar entries in this file, nested archives included (limits.max-archive-entries)",
                    ctx.limits.max_archive_entries
                ),
            ));
            break;
        }
        let size = octal(&h[124..136]).unwrap_or(0);
        let data = pos + BLOCK;
        let typeflag = h[156];
        let mut name = cstr(&h[0..100]);
        if &h[257..262] == b"ustar" {
            let prefix = cstr(&h[345..500]);
            if !prefix.is_empty() {
                name = format!("{prefix}/{name}");
            }
        }
        if let Some(l) = long_name.take() {
            name = l;
        }
        if let Some(p) = pax_path.take().or_else(|| global_path.clone()) {
            name = p;
        }
        let mut link = cstr(&h[157..257]);
        if let Some(l) = long_link.take() {
            link = l;
        }
        if let Some(l) = pax_link.take() {
            link = l;
        }
        match typeflag {
            b'L' => {
                let n = size.min(4096) as usize;
                long_name = src.read_vec(data, n).ok().map(|b| cstr(&b));
            }
            b'K' => {
                let n = size.min(4096) as usize;
                long_link = src.read_vec(data, n).ok().map(|b| cstr(&b));
            }
            b'x' | b'g' => {
                let n = size.min(1 << 20) as usize;
                if let Ok(b) = src.read_vec(data, n) {
                    let (p, l) = pax(&b);
                    if typeflag == b'g' {
                        global_path = p.or(global_path);
                    } else {
                        pax_path = p;
                        pax_link = l;
                    }
                }
            }
            b'1' | b'2' => names.push(Member {
                name: name.clone(),
                offset: pos,
                kind: if typeflag == b'2' {
                    MemberKind::Symlink(link)
                } else {
                    MemberKind::Hardlink(link)
                },
            }),
            b'5' => names.push(Member {
                name: name.clone(),
                offset: pos,
                kind: MemberKind::Dir,
            }),
            b'0' | 0 | b'7' => {
                names.push(Member {
                    name: name.clone(),
                    offset: pos,
                    kind: MemberKind::File,
                });
                if size > 0 {
                    let member = SliceSource::new(src, data, size);
                    let mloc = loc.member(&name);
                    out.extend(scan::scan_source(&member, &ctx.deeper(), &mloc).findings);
                }
            }
            _ => names.push(Member {
                name: name.clone(),
                offset: pos,
                kind: MemberKind::Other,
            }),
        }
        let Some(next) = size
            .checked_add(BLOCK - 1)
            .map(|s| s / BLOCK * BLOCK)
            .and_then(|s| data.checked_add(s))
        else {
            break;
        };
        pos = next;
    }
    names
}
