//! HTTP(S) for remote targets: one blocking client (timeouts, retries with backoff on
//! 429/5xx, redirects followed by hand so that credentials never leave their host) and
//! [`HttpSource`], a [`ByteSource`] that reads a remote file with range requests through
//! a small block cache. The scanners read only what they need (a zip's central directory
//! and its pickle members, a safetensors header), so a multi-GB checkpoint costs a few
//! hundred KiB of transfer.

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::source::ByteSource;

/// Range requests fetch whole blocks of this size, aligned on it.
pub const BLOCK: u64 = 64 * 1024;
/// Blocks kept per open file (16 MiB): enough for a zip directory and a pickle being read
/// sequentially, small enough for many files in parallel.
const MAX_CACHED_BLOCKS: usize = 256;
/// Sequential reads fetch up to this many blocks in one request (1 MiB).
const MAX_READAHEAD_BLOCKS: u64 = 16;
/// Bytes fetched for a small isolated read, and how many such ranges are kept.
const SNIPPET: u64 = 4096;
const MAX_SNIPPETS: usize = 32;
/// Largest API response (model info, one page of a tree listing) read into memory.
pub const MAX_API_BODY: u64 = 32 << 20;
/// A server that ignores `Range` sends the whole file; accepted up to this size.
const MAX_UNRANGED_BODY: u64 = 64 << 20;
const MAX_REDIRECTS: u32 = 8;
const MAX_ATTEMPTS: u32 = 5;

/// A secret that cannot be printed by accident: `Debug` and `Display` show `***`.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: String) -> Option<Secret> {
        let s = s.trim().to_string();
        (!s.is_empty()).then_some(Secret(s))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A bearer token and the one origin (`scheme://host:port`) it may be sent to.
#[derive(Clone, Debug)]
pub struct Credential {
    pub origin: String,
    pub token: Secret,
}

pub struct Client {
    agent: ureq::Agent,
    credential: Option<Credential>,
    /// Response body bytes received, all requests together.
    pub received: AtomicU64,
    /// Base delay of the retry backoff (tests shorten it).
    backoff: Duration,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("credential", &self.credential)
            .finish_non_exhaustive()
    }
}

/// A response with its body read (bounded).
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The URL that answered, after redirects.
    pub url: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl Client {
    /// A client sending `credential` to its origin only; `backoff` is the first retry
    /// delay (default 500 ms).
    pub fn new(credential: Option<Credential>, backoff: Option<Duration>) -> Client {
        let config = ureq::Agent::config_builder()
            .timeout_connect(Some(Duration::from_secs(15)))
            .timeout_recv_response(Some(Duration::from_secs(60)))
            .timeout_recv_body(Some(Duration::from_secs(120)))
            .timeout_global(Some(Duration::from_secs(300)))
            // Redirects are followed below, so that Authorization is dropped when the
            // target is another host (the Hub redirects file downloads to a CDN).
            .max_redirects(0)
            .http_status_as_error(false)
            .user_agent(concat!("modelgate/", env!("CARGO_PKG_VERSION")))
            .build();
        let backoff = backoff.unwrap_or(Duration::from_millis(500));
        Client {
            agent: config.into(),
            credential,
            received: AtomicU64::new(0),
            backoff,
        }
    }

    /// GET `url` (following redirects, retrying 429/5xx and transport errors), reading at
    /// most `limit` body bytes; `range` is an inclusive byte range. Errors name the URL
    /// without its query (CDN URLs carry signatures) and never the token.
    pub fn get(
        &self,
        url: &str,
        range: Option<(u64, u64)>,
        limit: u64,
    ) -> Result<Response, String> {
        let mut current = url.to_string();
        let mut redirects = 0;
        let mut attempt = 0;
        loop {
            let mut req = self.agent.get(&current);
            if let Some(c) = &self.credential {
                if origin(&current).is_some_and(|o| o.eq_ignore_ascii_case(&c.origin)) {
                    req = req.header("Authorization", format!("Bearer {}", c.token.0));
                }
            }
            if let Some((a, b)) = range {
                req = req.header("Range", format!("bytes={a}-{b}"));
            }
            let resp = match req.call() {
                Ok(r) => r,
                Err(e) => {
                    attempt += 1;
                    if attempt < MAX_ATTEMPTS && retryable_error(&e) {
                        std::thread::sleep(self.backoff * (1 << attempt.min(5)));
                        continue;
                    }
                    return Err(format!("{}: {}", redact(&current), scrub(&e.to_string())));
                }
            };
            let status = resp.status().as_u16();
            let headers: Vec<(String, String)> = resp
                .headers()
                .iter()
                .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
                .collect();
            let get_header = |name: &str| {
                headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.clone())
            };
            if (300..400).contains(&status) && status != 304 {
                let Some(loc) = get_header("location") else {
                    return Err(format!("{}: redirect without a Location", redact(&current)));
                };
                redirects += 1;
                if redirects > MAX_REDIRECTS {
                    return Err(format!("{}: too many redirects", redact(url)));
                }
                current = join(&current, &loc);
                continue;
            }
            if (status == 429 || status >= 500) && attempt + 1 < MAX_ATTEMPTS {
                attempt += 1;
                let wait = get_header("retry-after")
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(|s| Duration::from_secs(s.min(30)))
                    .unwrap_or(self.backoff * (1 << attempt.min(5)));
                std::thread::sleep(wait);
                continue;
            }
            // A declared length over the limit fails before any body byte is read (a
            // server that ignores `Range` would otherwise start sending gigabytes).
            if let Some(n) = get_header("content-length").and_then(|v| v.trim().parse::<u64>().ok())
            {
                if n > limit {
                    return Err(format!(
                        "{}: response of {n} bytes is larger than the {limit} allowed here{}",
                        redact(&current),
                        if range.is_some() && status == 200 {
                            " (the server ignores range requests)"
                        } else {
                            ""
                        }
                    ));
                }
            }
            let mut body = Vec::new();
            let mut reader = resp.into_body().into_reader().take(limit.saturating_add(1));
            reader
                .read_to_end(&mut body)
                .map_err(|e| format!("{}: {}", redact(&current), scrub(&e.to_string())))?;
            self.received
                .fetch_add(body.len() as u64, Ordering::Relaxed);
            if body.len() as u64 > limit {
                return Err(format!(
                    "{}: response larger than {limit} bytes",
                    redact(&current)
                ));
            }
            return Ok(Response {
                status,
                headers,
                body,
                url: current,
            });
        }
    }
}

fn retryable_error(e: &ureq::Error) -> bool {
    matches!(
        e,
        ureq::Error::Io(_) | ureq::Error::Timeout(_) | ureq::Error::ConnectionFailed
    )
}

/// Error text from the HTTP stack, cut to one bounded line.
fn scrub(s: &str) -> String {
    let line = s.lines().next().unwrap_or("");
    line.chars().take(300).collect()
}

/// `scheme://host[:port]` of an absolute URL.
pub fn origin(url: &str) -> Option<&str> {
    let scheme_end = url.find("://")?;
    let rest = &url[scheme_end + 3..];
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some(&url[..scheme_end + 3 + end])
}

/// The URL without query or fragment, for messages (signed CDN URLs carry credentials in
/// the query).
pub fn redact(url: &str) -> &str {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    &url[..end]
}

/// Resolves a `Location` header against the URL that sent it.
pub fn join(base: &str, loc: &str) -> String {
    if loc.contains("://") {
        return loc.to_string();
    }
    let scheme = base.split("://").next().unwrap_or("https");
    if let Some(rest) = loc.strip_prefix("//") {
        return format!("{scheme}://{rest}");
    }
    let Some(o) = origin(base) else {
        return loc.to_string();
    };
    if loc.starts_with('/') {
        return format!("{o}{loc}");
    }
    // The base's path up to its last `/`, without query or fragment. (Cut after the
    // origin: a `?` could also stand before the `://`, found by fuzzing.)
    let rest = &base[o.len()..];
    let rest = &rest[..rest.find(['?', '#']).unwrap_or(rest.len())];
    match rest.rfind('/') {
        Some(i) => format!("{o}{}{loc}", &rest[..=i]),
        None => format!("{o}/{loc}"),
    }
}

/// Percent-encodes a URL path, keeping `/` (and RFC 3986 unreserved characters).
pub fn encode_path(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Percent-encodes one path segment (a revision such as `refs/pr/1` becomes one segment).
pub fn encode_segment(s: &str) -> String {
    encode_path(s).replace('/', "%2F")
}

struct Cache {
    blocks: HashMap<u64, (Arc<[u8]>, u64)>,
    tick: u64,
    /// The block after the last fetched run: a miss there is a sequential read.
    next_sequential: Option<u64>,
    readahead: u64,
    fetched: u64,
    /// After a redirect, the URL that served the data (a CDN), asked directly next time.
    effective_url: Option<String>,
    /// The whole file, when the server ignored `Range` and sent it all.
    whole: Option<Arc<[u8]>>,
    /// The first fetch error, reported with the file's findings.
    error: Option<String>,
    /// Small ranges fetched by [`HttpSource::small_read`], oldest first.
    snippets: Vec<(u64, Arc<[u8]>)>,
}

/// A remote file read with HTTP range requests. Fetches 64 KiB-aligned blocks, keeps a
/// bounded LRU of them, grows read-ahead on sequential reads, and refuses to fetch more
/// than `budget` bytes in total (a hostile file cannot make the scan download gigabytes).
pub struct HttpSource {
    client: Arc<Client>,
    url: String,
    len: u64,
    budget: u64,
    cache: Mutex<Cache>,
}

impl HttpSource {
    /// A file whose length is already known (from a Hub listing).
    pub fn new(client: Arc<Client>, url: String, len: u64, budget: u64) -> HttpSource {
        HttpSource {
            client,
            url,
            len,
            budget,
            cache: Mutex::new(Cache {
                blocks: HashMap::new(),
                tick: 0,
                next_sequential: None,
                readahead: 1,
                fetched: 0,
                effective_url: None,
                whole: None,
                error: None,
                snippets: Vec::new(),
            }),
        }
    }

    /// Opens a URL of unknown length: the first block's `Content-Range` gives the length.
    pub fn open(client: Arc<Client>, url: String, budget: u64) -> Result<HttpSource, String> {
        let asked = url.clone();
        HttpSource::open_if_found(client, url, budget)?.ok_or_else(|| status_error(404, &asked))
    }

    /// [`HttpSource::open`], with `Ok(None)` when the server answers 404 (no such file at
    /// that revision: a path that may or may not exist, such as a module a relative import
    /// might name).
    pub fn open_if_found(
        client: Arc<Client>,
        url: String,
        budget: u64,
    ) -> Result<Option<HttpSource>, String> {
        let resp = client.get(&url, Some((0, BLOCK - 1)), MAX_UNRANGED_BODY)?;
        let src = HttpSource::new(client, url, 0, budget);
        let len = {
            let mut c = src.cache.lock().unwrap_or_else(|e| e.into_inner());
            if resp.url != src.url {
                c.effective_url = Some(resp.url.clone());
            }
            match resp.status {
                206 => {
                    let total = resp
                        .header("content-range")
                        .and_then(|v| v.rsplit('/').next())
                        .and_then(|t| t.trim().parse::<u64>().ok())
                        .ok_or_else(|| {
                            format!("{}: no length in Content-Range", redact(&src.url))
                        })?;
                    c.fetched += resp.body.len() as u64;
                    c.blocks.insert(0, (resp.body.into(), 0));
                    total
                }
                200 => {
                    let n = resp.body.len() as u64;
                    c.fetched += n;
                    c.whole = Some(resp.body.into());
                    n
                }
                416 => 0,
                404 => return Ok(None),
                s => return Err(status_error(s, &src.url)),
            }
        };
        Ok(Some(HttpSource { len, ..src }))
    }

    /// The first error a read met, if any.
    pub fn last_error(&self) -> Option<String> {
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .error
            .clone()
    }

    /// Bytes fetched for this file so far.
    pub fn fetched(&self) -> u64 {
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).fetched
    }

    fn fetch_run(&self, c: &mut Cache, first: u64, count: u64) -> io::Result<()> {
        let start = first * BLOCK;
        let end = ((first + count) * BLOCK).min(self.len); // exclusive
        if let Some(body) = self.fetch_range(c, start, end)? {
            for (i, chunk) in body.chunks(BLOCK as usize).enumerate() {
                c.tick += 1;
                let t = c.tick;
                c.blocks.insert(first + i as u64, (Arc::from(chunk), t));
            }
            self.evict(c);
        }
        Ok(())
    }

    /// Fetches `[start, end)`. `None` when the server sent the whole file instead (now in
    /// `c.whole`), or when the range is empty.
    fn fetch_range(&self, c: &mut Cache, start: u64, end: u64) -> io::Result<Option<Vec<u8>>> {
        if start >= end {
            return Ok(None);
        }
        let want = end - start;
        if c.fetched + want > self.budget {
            return Err(io::Error::other(format!(
                "remote read budget of {} bytes for this file exhausted (limits.max-member-size)",
                self.budget
            )));
        }
        let mut resp = None;
        if let Some(eff) = c.effective_url.clone() {
            match self.client.get(&eff, Some((start, end - 1)), want) {
                Ok(r) if r.status == 206 || r.status == 200 => resp = Some(r),
                // A signed CDN URL that expired: go through the original URL again.
                _ => c.effective_url = None,
            }
        }
        let resp = match resp {
            Some(r) => r,
            None => {
                let limit = want.max(MAX_UNRANGED_BODY.min(self.len));
                let r = self
                    .client
                    .get(&self.url, Some((start, end - 1)), limit)
                    .map_err(io::Error::other)?;
                if r.url != self.url {
                    c.effective_url = Some(r.url.clone());
                }
                r
            }
        };
        match resp.status {
            206 => {
                if resp.body.len() as u64 != want {
                    return Err(io::Error::other(format!(
                        "{}: asked for {want} bytes at {start}, got {}",
                        redact(&self.url),
                        resp.body.len()
                    )));
                }
                c.fetched += want;
                Ok(Some(resp.body))
            }
            200 if resp.body.len() as u64 == self.len => {
                c.fetched += self.len;
                c.whole = Some(resp.body.into());
                Ok(None)
            }
            200 => Err(io::Error::other(format!(
                "{}: the server ignores range requests and the file is too large to fetch whole",
                redact(&self.url)
            ))),
            s => Err(io::Error::other(status_error(s, &self.url))),
        }
    }

    /// A small read far from anything read before (a local header, a signature probe such
    /// as HDF5's at 512·2^k, the first bytes of a raw storage member) fetches a
    /// [`SNIPPET`]-byte range instead of a whole block: probing a multi-GB file at a few
    /// dozen places then costs kilobytes. Snippets are kept (a few) for the reads next to
    /// them. `None` when the block path should serve the read.
    fn small_read(&self, c: &mut Cache, offset: u64, buf: &mut [u8]) -> io::Result<Option<usize>> {
        let hit = |c: &Cache| {
            c.snippets.iter().position(|(at, data)| {
                offset >= *at && offset + buf.len() as u64 <= at + data.len() as u64
            })
        };
        if let Some((at, data)) = hit(c).and_then(|i| c.snippets.get(i)) {
            let from = (offset - at) as usize;
            return Ok(Some(crate::bytes::copy_at(buf, data, from)));
        }
        let block = offset / BLOCK;
        let sequential = c.next_sequential == Some(block);
        if buf.len() as u64 > SNIPPET / 2 || c.blocks.contains_key(&block) || sequential {
            return Ok(None);
        }
        let end = (offset + SNIPPET).min(self.len);
        let Some(body) = self.fetch_range(c, offset, end)? else {
            // The server sent the whole file instead: serve from it.
            let Some(w) = &c.whole else {
                return Ok(None);
            };
            let start = usize::try_from(offset).unwrap_or(usize::MAX);
            return Ok(Some(crate::bytes::copy_at(buf, w, start)));
        };
        let n = crate::bytes::copy_at(buf, &body, 0);
        if c.snippets.len() >= MAX_SNIPPETS {
            c.snippets.remove(0);
        }
        c.snippets.push((offset, body.into()));
        Ok(Some(n))
    }

    fn evict(&self, c: &mut Cache) {
        while c.blocks.len() > MAX_CACHED_BLOCKS {
            let Some(oldest) = c
                .blocks
                .iter()
                .min_by_key(|(_, (_, t))| *t)
                .map(|(k, _)| *k)
            else {
                break;
            };
            c.blocks.remove(&oldest);
        }
    }
}

pub fn status_error(status: u16, url: &str) -> String {
    let what = match status {
        401 => "authentication required (set HF_TOKEN for private or gated repositories)",
        403 => {
            "access denied (for a gated repository, accept its terms on the Hub and set HF_TOKEN)"
        }
        404 => "not found",
        429 => "rate limited (HTTP 429), still after retries",
        s if s >= 500 => "server error, still after retries",
        _ => "unexpected response",
    };
    format!("{}: HTTP {status}: {what}", redact(url))
}

impl ByteSource for HttpSource {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        if offset >= self.len || buf.is_empty() {
            return Ok(0);
        }
        let mut c = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(w) = &c.whole {
            let start = usize::try_from(offset).unwrap_or(usize::MAX);
            return Ok(crate::bytes::copy_at(buf, w, start));
        }
        let block = offset / BLOCK;
        if let Some(n) = self.small_read(&mut c, offset, buf)? {
            return Ok(n);
        }
        if !c.blocks.contains_key(&block) {
            if c.next_sequential == Some(block) {
                c.readahead = (c.readahead * 2).min(MAX_READAHEAD_BLOCKS);
            } else {
                c.readahead = 1;
            }
            // Enough blocks for this read (bounded), or the read-ahead if larger; stop
            // before a block that is already cached.
            let need = (offset % BLOCK + buf.len() as u64).div_ceil(BLOCK);
            let mut count = need.max(c.readahead).min(MAX_READAHEAD_BLOCKS.max(1));
            for i in 1..count {
                if c.blocks.contains_key(&(block + i)) {
                    count = i;
                    break;
                }
            }
            if let Err(e) = self.fetch_run(&mut c, block, count) {
                if c.error.is_none() {
                    c.error = Some(e.to_string());
                }
                return Err(e);
            }
            c.next_sequential = Some(block + count);
            if let Some(w) = &c.whole {
                let start = usize::try_from(offset).unwrap_or(usize::MAX);
                return Ok(crate::bytes::copy_at(buf, w, start));
            }
        }
        c.tick += 1;
        let t = c.tick;
        let Some(entry) = c.blocks.get_mut(&block) else {
            return Err(io::Error::other("block missing after fetch"));
        };
        entry.1 = t;
        let within = (offset % BLOCK) as usize;
        Ok(crate::bytes::copy_at(buf, &entry.0, within))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_join_and_redact() {
        assert_eq!(
            origin("https://h.co:8080/a/b?x=1"),
            Some("https://h.co:8080")
        );
        assert_eq!(origin("http://h.co"), Some("http://h.co"));
        assert_eq!(join("https://h.co/a/b", "https://cdn/x"), "https://cdn/x");
        assert_eq!(join("https://h.co/a/b", "/c?d"), "https://h.co/c?d");
        assert_eq!(join("https://h.co/a/b?q", "c"), "https://h.co/a/c");
        assert_eq!(join("https://h.co/a", "//cdn/x"), "https://cdn/x");
        assert_eq!(join("https://h.co", "x"), "https://h.co/x");
        // Found by fuzzing: a `?` before the `://`.
        assert_eq!(join("<a?b>://h/p/q", "z"), "<a?b>://h/p/z");
        assert_eq!(redact("https://cdn/x?X-Amz-Signature=abc"), "https://cdn/x");
        assert_eq!(encode_segment("refs/pr/1"), "refs%2Fpr%2F1");
        assert_eq!(encode_path("a b/c.bin"), "a%20b/c.bin");
    }

    /// Serves `data` with `Range` on 127.0.0.1; counts requests.
    fn range_server(data: Vec<u8>) -> (String, Arc<AtomicU64>) {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/file", listener.local_addr().unwrap());
        let count = Arc::new(AtomicU64::new(0));
        let (data, c) = (Arc::new(data), count.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let (data, c) = (data.clone(), c.clone());
                std::thread::spawn(move || {
                    let mut r = BufReader::new(conn.try_clone().unwrap());
                    let mut w = conn;
                    loop {
                        let mut range = None;
                        let mut line = String::new();
                        if r.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        loop {
                            let mut h = String::new();
                            r.read_line(&mut h).unwrap();
                            let h = h.trim_end().to_ascii_lowercase();
                            if h.is_empty() {
                                break;
                            }
                            if let Some(v) = h.strip_prefix("range: bytes=") {
                                let (a, b) = v.split_once('-').unwrap();
                                range = Some((
                                    a.parse::<usize>().unwrap(),
                                    b.parse::<usize>().unwrap(),
                                ));
                            }
                        }
                        c.fetch_add(1, Ordering::SeqCst);
                        let (a, b) = range.unwrap();
                        let b = b.min(data.len() - 1);
                        let _ = write!(
                            w,
                            "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {a}-{b}/{}\r\n\r\n",
                            b + 1 - a,
                            data.len()
                        );
                        let _ = w.write_all(&data[a..=b]);
                    }
                });
            }
        });
        (url, count)
    }

    #[test]
    fn block_cache_reads_ahead_and_respects_the_budget() {
        let data: Vec<u8> = (0..(3 * 1024 * 1024 + 100))
            .map(|i| (i % 251) as u8)
            .collect();
        let (url, requests) = range_server(data.clone());
        let client = Arc::new(Client::new(None, None));
        let src = HttpSource::open(client.clone(), url.clone(), u64::MAX).unwrap();
        assert_eq!(src.len(), data.len() as u64);
        // Sequential 4 KiB reads through the whole file: read-ahead grows to 1 MiB runs.
        let mut buf = vec![0u8; 4096];
        let mut off = 0u64;
        while off < src.len() {
            let n = src.read_at(off, &mut buf).unwrap();
            assert!(n > 0);
            assert_eq!(&buf[..n], &data[off as usize..off as usize + n]);
            off += n as u64;
        }
        let sequential = requests.load(Ordering::SeqCst);
        assert!(sequential <= 12, "{sequential} requests for 3 MiB");
        assert_eq!(src.fetched(), data.len() as u64);
        // The last blocks are cached: reading them again costs nothing.
        src.read_exact_at(src.len() - 10, &mut buf[..10]).unwrap();
        assert_eq!(requests.load(Ordering::SeqCst), sequential);

        // A budget of 256 KiB: the read past it fails, and the error is kept.
        let small = HttpSource::new(client, url, data.len() as u64, 4 * BLOCK);
        let mut off = 0u64;
        let err = loop {
            match small.read_exact_at(off, &mut buf) {
                Ok(()) => off += buf.len() as u64,
                Err(e) => break e,
            }
            assert!(off < src.len(), "the budget never ran out");
        };
        assert!((2 * BLOCK..=4 * BLOCK).contains(&off), "stopped at {off}");
        assert!(err.to_string().contains("budget"), "{err}");
        assert!(small.last_error().unwrap().contains("budget"));
        assert!(small.fetched() <= 4 * BLOCK);
    }

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("hf_abcdef".into()).unwrap();
        assert_eq!(format!("{s} {s:?}"), "*** ***");
        let c = Client::new(
            Some(Credential {
                origin: "https://huggingface.co".into(),
                token: s,
            }),
            None,
        );
        assert!(!format!("{c:?}").contains("hf_abcdef"));
    }
}
