//! Hub owners that imitate well-known organisations (`orgs.txt`): confusable characters
//! (`0penai`, `rnicrosoft`), an added suffix or prefix (`meta-llama-hf`,
//! `official-openai`), or one edit away from a long name (`mistrallai`).

const ORGS: &str = include_str!("orgs.txt");

const SUFFIXES: &[&str] = &[
    "official",
    "hf",
    "ai",
    "inc",
    "org",
    "team",
    "research",
    "labs",
    "community",
    "models",
    "hub",
];
const PREFIXES: &[&str] = &["the", "real", "official", "hf"];

fn orgs() -> impl Iterator<Item = &'static str> {
    ORGS.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

/// A spelling-insensitive form: lower case, look-alike characters folded, separators
/// dropped.
fn skeleton(s: &str) -> String {
    let lower = s.to_lowercase().replace("rn", "m").replace("vv", "w");
    lower
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | '.'))
        .map(|c| match c {
            '0' => 'o',
            '1' | 'i' | '|' => 'l',
            '3' => 'e',
            '4' | '@' => 'a',
            '5' | '$' => 's',
            '7' => 't',
            '8' => 'b',
            c => c,
        })
        .collect()
}

fn within_one_edit(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let (mut i, mut j, mut edits) = (0, 0, 0);
    while let (Some(x), Some(y)) = (a.get(i), b.get(j)) {
        if x == y {
            i += 1;
            j += 1;
            continue;
        }
        edits += 1;
        if edits > 1 {
            return false;
        }
        match a.len().cmp(&b.len()) {
            std::cmp::Ordering::Greater => i += 1,
            std::cmp::Ordering::Less => j += 1,
            std::cmp::Ordering::Equal => {
                i += 1;
                j += 1;
            }
        }
    }
    edits + (a.len() - i) + (b.len() - j) <= 1
}

/// The well-known organisation `owner` imitates, if it does; `extra` are more owners to
/// protect (the project's `huggingface.trusted-orgs`).
pub fn imitated(owner: &str, extra: &[String]) -> Option<String> {
    let lower = owner.to_lowercase();
    let known = || orgs().map(str::to_string).chain(extra.iter().cloned());
    // An owner that is itself well known or trusted imitates nobody.
    if known().any(|o| o.to_lowercase() == lower) {
        return None;
    }
    let sk = skeleton(owner);
    known().find(|org| {
        let os = skeleton(org);
        sk == os
            || SUFFIXES
                .iter()
                .any(|s| sk == format!("{os}{}", skeleton(s)))
            || PREFIXES
                .iter()
                .any(|p| sk == format!("{}{os}", skeleton(p)))
            || (org.chars().count() >= 6 && within_one_edit(&lower, &org.to_lowercase()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imitations_are_found_and_real_owners_are_not() {
        for fake in [
            "0penai",
            "OpenAl",
            "rnicrosoft",
            "meta-llama-hf",
            "meta_llama",
            "mistralai-official",
            "official-openai",
            "stabilityai1",
            "deepseek-al",
        ] {
            assert!(imitated(fake, &[]).is_some(), "{fake}");
        }
        for real in [
            "openai",
            "OpenAI",
            "openai-community",
            "meta-llama",
            "google-bert",
            "acme",
            "bert-base-uncased-owner",
            "timm",
            "my-org",
            "Qwen",
        ] {
            assert_eq!(imitated(real, &[]), None, "{real}");
        }
        let trusted = vec!["acme-corp".to_string()];
        assert_eq!(
            imitated("acme-c0rp", &trusted).as_deref(),
            Some("acme-corp")
        );
        assert_eq!(imitated("acme-corp", &trusted), None);
    }
}
