//! What a (hostile) Hub or web server sends back, and what a user types: Hub tree
//! listings, `Link` headers, `Location` joins, `hf://` references.
#![no_main]

use libfuzzer_sys::fuzz_target;
use modelgate::remote::{http, hub};

fuzz_target!(|data: &[u8]| {
    let _ = hub::parse_tree_page(data);
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = hub::next_link(s);
        let _ = hub::RepoRef::parse(s);
        if let Some((a, b)) = s.split_at_checked(s.len() / 2) {
            let _ = http::join(a, b);
            let _ = http::origin(a);
            let _ = http::encode_segment(b);
        }
    }
});
