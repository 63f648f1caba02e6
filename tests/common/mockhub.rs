//! A mock Hugging Face Hub on 127.0.0.1, started by the tests themselves: model info
//! (with `securityStatus`), the paginated tree API (`Link: rel="next"`, two entries per
//! page), `resolve/` with `Range` and a 302 to a second "CDN" listener for LFS files,
//! 401 for a private repository without the right token, one 429 on the first
//! model-info request and one 503 on the first CDN request. It counts the body bytes it
//! serves per file and records whether an `Authorization` header ever reached the CDN.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

pub const TOKEN: &str = "hf_mock_SECRET_token_4242";

/// File content: bytes, or a large file made of a head, `zeros` zero bytes and a tail
/// (served from a generator, never held in memory).
#[derive(Clone)]
pub enum Content {
    Bytes(Arc<Vec<u8>>),
    Sparse {
        head: Arc<Vec<u8>>,
        zeros: u64,
        tail: Arc<Vec<u8>>,
    },
}

impl Content {
    pub fn len(&self) -> u64 {
        match self {
            Content::Bytes(b) => b.len() as u64,
            Content::Sparse { head, zeros, tail } => head.len() as u64 + zeros + tail.len() as u64,
        }
    }

    /// SHA-256 of the bytes, hex (for a sparse file, of its head, length and tail: the
    /// generated zeros are not hashed). The tree listing gives it as `lfs.oid` and its
    /// first 40 digits as the git `oid`, so a changed file changes both, as on the Hub.
    pub fn digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        match self {
            Content::Bytes(b) => h.update(b.as_slice()),
            Content::Sparse { head, zeros, tail } => {
                h.update(head.as_slice());
                h.update(zeros.to_le_bytes());
                h.update(tail.as_slice());
            }
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    fn write_range(&self, out: &mut dyn Write, start: u64, end: u64) -> std::io::Result<()> {
        match self {
            Content::Bytes(b) => out.write_all(&b[start as usize..end as usize]),
            Content::Sparse { head, zeros, tail } => {
                let h = head.len() as u64;
                let z = h + zeros;
                let mut pos = start;
                let zero = vec![0u8; 1 << 16];
                while pos < end {
                    if pos < h {
                        let stop = end.min(h);
                        out.write_all(&head[pos as usize..stop as usize])?;
                        pos = stop;
                    } else if pos < z {
                        let stop = end.min(z).min(pos + zero.len() as u64);
                        out.write_all(&zero[..(stop - pos) as usize])?;
                        pos = stop;
                    } else {
                        out.write_all(&tail[(pos - z) as usize..(end - z) as usize])?;
                        pos = end;
                    }
                }
                Ok(())
            }
        }
    }
}

pub struct MockFile {
    pub path: String,
    pub content: Content,
    /// Served through a redirect to the CDN, like LFS files on the Hub.
    pub lfs: bool,
    /// `securityFileStatus.status` in the expanded tree.
    pub security: &'static str,
}

pub struct MockRepo {
    pub id: String,
    pub sha: String,
    pub private: bool,
    pub files: Vec<MockFile>,
    pub security: Value,
}

#[derive(Default)]
pub struct Stats {
    /// Body bytes served per `repo/path` (hub and CDN together).
    pub served: Mutex<HashMap<String, u64>>,
    pub auth_at_cdn: AtomicBool,
    pub rate_limited: AtomicU64,
    pub server_errors: AtomicU64,
    pub requests: Mutex<Vec<String>>,
}

pub struct MockHub {
    pub endpoint: String,
    pub cdn: String,
    pub stats: Arc<Stats>,
}

impl MockHub {
    pub fn served(&self, key: &str) -> u64 {
        self.stats
            .served
            .lock()
            .unwrap()
            .get(key)
            .copied()
            .unwrap_or(0)
    }
}

struct State {
    repos: Vec<MockRepo>,
    stats: Arc<Stats>,
    hub_port: u16,
    cdn_port: u16,
    /// The first model-info request answers 429 once.
    throttle_once: AtomicBool,
    /// The first CDN request answers 503 once.
    fail_cdn_once: AtomicBool,
}

/// A public repository with the Hub's scan passed: `files` as (path, bytes), weight files
/// stored in LFS (their listing carries `lfs.oid`, the SHA-256).
// Not every test binary that includes this file uses it.
#[allow(dead_code)]
pub fn public_repo(id: &str, sha: &str, files: Vec<(&str, Vec<u8>)>) -> MockRepo {
    const LFS: &[&str] = &[".bin", ".safetensors", ".pt", ".pth", ".ckpt"];
    MockRepo {
        id: id.into(),
        sha: sha.into(),
        private: false,
        files: files
            .into_iter()
            .map(|(path, b)| MockFile {
                path: path.into(),
                content: Content::Bytes(Arc::new(b)),
                lfs: LFS.iter().any(|e| path.ends_with(e)),
                security: "safe",
            })
            .collect(),
        security: json!({"scansDone": true, "filesWithIssues": []}),
    }
}

pub fn start(repos: Vec<MockRepo>) -> MockHub {
    let hub = TcpListener::bind("127.0.0.1:0").unwrap();
    let cdn = TcpListener::bind("127.0.0.1:0").unwrap();
    let stats = Arc::new(Stats::default());
    let state = Arc::new(State {
        repos,
        stats: stats.clone(),
        hub_port: hub.local_addr().unwrap().port(),
        cdn_port: cdn.local_addr().unwrap().port(),
        throttle_once: AtomicBool::new(true),
        fail_cdn_once: AtomicBool::new(true),
    });
    let endpoint = format!("http://127.0.0.1:{}", state.hub_port);
    let cdn_url = format!("http://127.0.0.1:{}", state.cdn_port);
    for (listener, is_cdn) in [(hub, false), (cdn, true)] {
        let state = state.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let state = state.clone();
                std::thread::spawn(move || {
                    let _ = serve(conn, &state, is_cdn);
                });
            }
        });
    }
    MockHub {
        endpoint,
        cdn: cdn_url,
        stats,
    }
}

struct Request {
    path: String,
    query: String,
    headers: HashMap<String, String>,
}

fn read_request(r: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if r.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let target = line.split_whitespace().nth(1)?.to_string();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        r.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (target, String::new()),
    };
    Some(Request {
        path: percent_decode(&path),
        query,
        headers,
    })
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn serve(conn: TcpStream, st: &State, is_cdn: bool) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut out = conn;
    while let Some(req) = read_request(&mut reader) {
        st.stats.requests.lock().unwrap().push(format!(
            "{}{}?{}",
            if is_cdn { "cdn:" } else { "" },
            req.path,
            req.query
        ));
        if is_cdn {
            if req.headers.contains_key("authorization") {
                st.stats.auth_at_cdn.store(true, Ordering::SeqCst);
            }
            cdn(&mut out, st, &req)?;
        } else {
            hub(&mut out, st, &req)?;
        }
        out.flush()?;
    }
    let _ = reader.read(&mut [0u8; 1]);
    Ok(())
}

fn respond(
    out: &mut dyn Write,
    status: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> std::io::Result<()> {
    write!(
        out,
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\n",
        body.len()
    )?;
    for (k, v) in headers {
        write!(out, "{k}: {v}\r\n")?;
    }
    write!(out, "\r\n")?;
    out.write_all(body)
}

fn json_response(out: &mut dyn Write, v: &Value, extra: &[(&str, String)]) -> std::io::Result<()> {
    let mut headers = vec![("Content-Type", "application/json".to_string())];
    headers.extend(extra.iter().cloned());
    respond(out, "200 OK", &headers, v.to_string().as_bytes())
}

fn authorized(repo: &MockRepo, req: &Request) -> bool {
    !repo.private
        || req.headers.get("authorization").map(String::as_str) == Some(&format!("Bearer {TOKEN}"))
}

fn find_repo<'a>(st: &'a State, rest: &str) -> Option<(&'a MockRepo, String)> {
    st.repos.iter().find_map(|r| {
        rest.strip_prefix(&r.id)
            .and_then(|t| t.strip_prefix('/'))
            .map(|t| (r, t.to_string()))
    })
}

fn hub(out: &mut dyn Write, st: &State, req: &Request) -> std::io::Result<()> {
    if let Some(rest) = req.path.strip_prefix("/api/models/") {
        let Some((repo, tail)) = find_repo(st, rest) else {
            return respond(
                out,
                "404 Not Found",
                &[],
                b"{\"error\":\"Repository not found\"}",
            );
        };
        if !authorized(repo, req) {
            return respond(
                out,
                "401 Unauthorized",
                &[],
                b"{\"error\":\"Invalid credentials\"}",
            );
        }
        if let Some(rev) = tail.strip_prefix("revision/") {
            if st.throttle_once.swap(false, Ordering::SeqCst) {
                st.stats.rate_limited.fetch_add(1, Ordering::SeqCst);
                return respond(
                    out,
                    "429 Too Many Requests",
                    &[("Retry-After", "0".into())],
                    b"slow down",
                );
            }
            if rev != "main" && rev != repo.sha {
                return respond(
                    out,
                    "404 Not Found",
                    &[],
                    b"{\"error\":\"Revision not found\"}",
                );
            }
            let mut info = json!({
                "id": repo.id,
                "sha": repo.sha,
                "private": repo.private,
                "siblings": repo.files.iter().map(|f| json!({"rfilename": f.path})).collect::<Vec<_>>(),
            });
            if req.query.contains("securityStatus=true") {
                info["securityRepoStatus"] = repo.security.clone();
            }
            return json_response(out, &info, &[]);
        }
        if let Some(rev) = tail.strip_prefix("tree/") {
            if rev != repo.sha {
                return respond(out, "404 Not Found", &[], b"{}");
            }
            let expand = req.query.contains("expand=true");
            let cursor: usize = req
                .query
                .split('&')
                .find_map(|kv| kv.strip_prefix("cursor="))
                .and_then(|c| c.parse().ok())
                .unwrap_or(0);
            // A directory entry first, then files, two entries per page.
            let mut entries =
                vec![json!({"type": "directory", "path": "evil", "oid": "d0", "size": 0})];
            for f in &repo.files {
                let digest = f.content.digest();
                let mut e = json!({"type": "file", "path": f.path, "oid": &digest[..40], "size": if f.lfs { 134 } else { f.content.len() }});
                if f.lfs {
                    e["lfs"] = json!({"oid": digest, "size": f.content.len(), "pointerSize": 134});
                }
                if expand {
                    e["securityFileStatus"] = json!({"status": f.security});
                }
                entries.push(e);
            }
            let page: Vec<Value> = entries.iter().skip(cursor).take(2).cloned().collect();
            let mut extra = Vec::new();
            if cursor + 2 < entries.len() {
                let q: Vec<&str> = req
                    .query
                    .split('&')
                    .filter(|kv| !kv.starts_with("cursor="))
                    .collect();
                extra.push((
                    "Link",
                    format!(
                        "<http://127.0.0.1:{}{}?{}&cursor={}>; rel=\"next\"",
                        st.hub_port,
                        req.path,
                        q.join("&"),
                        cursor + 2
                    ),
                ));
            }
            return json_response(out, &Value::Array(page), &extra);
        }
        return respond(out, "404 Not Found", &[], b"{}");
    }
    // /{repo}/resolve/{rev}/{path}
    let Some((repo, tail)) = find_repo(st, req.path.trim_start_matches('/')) else {
        return respond(out, "404 Not Found", &[], b"");
    };
    if !authorized(repo, req) {
        return respond(out, "401 Unauthorized", &[], b"");
    }
    let Some(rest) = tail.strip_prefix("resolve/") else {
        return respond(out, "404 Not Found", &[], b"");
    };
    let Some((_rev, path)) = rest.split_once('/') else {
        return respond(out, "404 Not Found", &[], b"");
    };
    let Some(file) = repo.files.iter().find(|f| f.path == path) else {
        return respond(out, "404 Not Found", &[], b"");
    };
    if file.lfs {
        let loc = format!(
            "http://127.0.0.1:{}/blobs/{}/{}?X-Amz-Signature=mocksig",
            st.cdn_port, repo.id, file.path
        );
        return respond(out, "302 Found", &[("Location", loc)], b"");
    }
    send_file(out, st, req, &repo.id, file, false)
}

fn cdn(out: &mut dyn Write, st: &State, req: &Request) -> std::io::Result<()> {
    if st.fail_cdn_once.swap(false, Ordering::SeqCst) {
        st.stats.server_errors.fetch_add(1, Ordering::SeqCst);
        return respond(out, "503 Service Unavailable", &[], b"try again");
    }
    // `/norange/blobs/...`: a server that ignores `Range` and always sends the whole file.
    let (rest, ignore_range) = match req.path.strip_prefix("/norange/blobs/") {
        Some(r) => (r, true),
        None => match req.path.strip_prefix("/blobs/") {
            Some(r) => (r, false),
            None => return respond(out, "404 Not Found", &[], b""),
        },
    };
    let Some((repo, path)) = find_repo(st, rest) else {
        return respond(out, "404 Not Found", &[], b"");
    };
    let Some(file) = repo.files.iter().find(|f| f.path == path) else {
        return respond(out, "404 Not Found", &[], b"");
    };
    send_file(out, st, req, &repo.id, file, ignore_range)
}

fn send_file(
    out: &mut dyn Write,
    st: &State,
    req: &Request,
    repo: &str,
    file: &MockFile,
    ignore_range: bool,
) -> std::io::Result<()> {
    let len = file.content.len();
    let range = req
        .headers
        .get("range")
        .filter(|_| !ignore_range)
        .and_then(|r| {
            let (a, b) = r.strip_prefix("bytes=")?.split_once('-')?;
            let a: u64 = a.parse().ok()?;
            let b: u64 = if b.is_empty() {
                len - 1
            } else {
                b.parse().ok()?
            };
            Some((a, b.min(len.saturating_sub(1))))
        });
    let (status, start, end) = match range {
        Some((a, _)) if a >= len => {
            return respond(
                out,
                "416 Range Not Satisfiable",
                &[("Content-Range", format!("bytes */{len}"))],
                b"",
            );
        }
        Some((a, b)) => ("206 Partial Content", a, b + 1),
        None => ("200 OK", 0, len),
    };
    write!(
        out,
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nAccept-Ranges: bytes\r\n",
        end - start
    )?;
    if range.is_some() {
        write!(out, "Content-Range: bytes {start}-{}/{len}\r\n", end - 1)?;
    }
    write!(out, "\r\n")?;
    file.content.write_range(out, start, end)?;
    *st.stats
        .served
        .lock()
        .unwrap()
        .entry(format!("{repo}/{}", file.path))
        .or_insert(0) += end - start;
    Ok(())
}

// --- building repositories from fixtures ---------------------------------------------------

/// Members (name, data) of a stored (uncompressed) zip, as torch.save writes them.
pub fn zip_members(zip: &[u8]) -> Vec<(String, Vec<u8>)> {
    let u16_at = |o: usize| u16::from_le_bytes([zip[o], zip[o + 1]]) as usize;
    let u32_at =
        |o: usize| u32::from_le_bytes([zip[o], zip[o + 1], zip[o + 2], zip[o + 3]]) as usize;
    let eocd = (0..=zip.len() - 22)
        .rev()
        .find(|&i| zip[i..i + 4] == [0x50, 0x4b, 0x05, 0x06])
        .expect("EOCD");
    let count = u16_at(eocd + 10);
    let mut p = u32_at(eocd + 16);
    let mut out = Vec::new();
    for _ in 0..count {
        assert_eq!(zip[p..p + 4], [0x50, 0x4b, 0x01, 0x02]);
        let method = u16_at(p + 10);
        assert_eq!(method, 0, "stored members only");
        let csize = u32_at(p + 20);
        let (n, e, c) = (u16_at(p + 28), u16_at(p + 30), u16_at(p + 32));
        let local = u32_at(p + 42);
        let name = String::from_utf8_lossy(&zip[p + 46..p + 46 + n]).into_owned();
        let data_at = local + 30 + u16_at(local + 26) + u16_at(local + 28);
        out.push((name, zip[data_at..data_at + csize].to_vec()));
        p += 46 + n + e + c;
    }
    out
}

/// A stored zip of `members` plus one `big_name` member of `big` zero bytes placed after
/// the first member, returned as a sparse [`Content`] (the zeros are never materialised).
pub fn sparse_zip(members: &[(String, Vec<u8>)], big_name: &str, big: u64) -> Content {
    let mut crc_zero = crc32fast::Hasher::new();
    let chunk = vec![0u8; 1 << 20];
    let mut left = big;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        crc_zero.update(&chunk[..n]);
        left -= n as u64;
    }
    let crc_zero = crc_zero.finalize();
    assert!(big < u32::MAX as u64, "zip32 only");

    let local = |name: &str, crc: u32, size: u32| {
        let mut h = Vec::new();
        h.extend_from_slice(&[0x50, 0x4b, 0x03, 0x04, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        h.extend_from_slice(&crc.to_le_bytes());
        h.extend_from_slice(&size.to_le_bytes());
        h.extend_from_slice(&size.to_le_bytes());
        h.extend_from_slice(&(name.len() as u16).to_le_bytes());
        h.extend_from_slice(&0u16.to_le_bytes());
        h.extend_from_slice(name.as_bytes());
        h
    };
    let central = |name: &str, crc: u32, size: u32, offset: u32| {
        let mut h = Vec::new();
        h.extend_from_slice(&[0x50, 0x4b, 0x01, 0x02, 20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        h.extend_from_slice(&crc.to_le_bytes());
        h.extend_from_slice(&size.to_le_bytes());
        h.extend_from_slice(&size.to_le_bytes());
        h.extend_from_slice(&(name.len() as u16).to_le_bytes());
        h.extend_from_slice(&[0u8; 12]);
        h.extend_from_slice(&offset.to_le_bytes());
        h.extend_from_slice(name.as_bytes());
        h
    };
    // head: first member (local header + data) + local header of the big member
    let (first_name, first_data) = &members[0];
    let first_crc = crc32fast::hash(first_data);
    let mut head = local(first_name, first_crc, first_data.len() as u32);
    head.extend_from_slice(first_data);
    let big_offset = head.len() as u32;
    head.extend_from_slice(&local(big_name, crc_zero, big as u32));
    // tail: the other members, the central directory, the end record
    let mut offsets = vec![(first_name.clone(), first_crc, first_data.len() as u32, 0u32)];
    offsets.push((big_name.to_string(), crc_zero, big as u32, big_offset));
    let mut tail = Vec::new();
    let base = head.len() as u64 + big;
    for (name, data) in &members[1..] {
        let crc = crc32fast::hash(data);
        offsets.push((
            name.clone(),
            crc,
            data.len() as u32,
            (base + tail.len() as u64) as u32,
        ));
        tail.extend_from_slice(&local(name, crc, data.len() as u32));
        tail.extend_from_slice(data);
    }
    let cd_start = (base + tail.len() as u64) as u32;
    let mut cd = Vec::new();
    for (name, crc, size, off) in &offsets {
        cd.extend_from_slice(&central(name, *crc, *size, *off));
    }
    tail.extend_from_slice(&cd);
    tail.extend_from_slice(&[0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0]);
    tail.extend_from_slice(&(offsets.len() as u16).to_le_bytes());
    tail.extend_from_slice(&(offsets.len() as u16).to_le_bytes());
    tail.extend_from_slice(&(cd.len() as u32).to_le_bytes());
    tail.extend_from_slice(&cd_start.to_le_bytes());
    tail.extend_from_slice(&0u16.to_le_bytes());
    Content::Sparse {
        head: Arc::new(head),
        zeros: big,
        tail: Arc::new(tail),
    }
}
