//! The safetensors writer: header (JSON, padded with spaces to 8 bytes), then each
//! tensor's bytes in header order; written to a temporary file beside the output and
//! renamed into place when complete, so that no partial output ever appears.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::tensor::Tensor;
use crate::source::ByteSource;

/// A writer that hashes what goes through it.
struct Hashing<'a> {
    inner: &'a mut dyn Write,
    hash: Sha256,
    n: u64,
}

impl Write for Hashing<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(buf.get(..n).unwrap_or(buf));
        self.n += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn header(tensors: &[Tensor], metadata: &[(String, String)]) -> io::Result<Vec<u8>> {
    let mut seen = HashSet::new();
    let mut map = serde_json::Map::new();
    if !metadata.is_empty() {
        let m: serde_json::Map<String, serde_json::Value> = metadata
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        map.insert("__metadata__".into(), serde_json::Value::Object(m));
    }
    let mut at = 0u64;
    for t in tensors {
        if t.name == "__metadata__" || !seen.insert(t.name.as_str()) {
            return Err(io::Error::other(format!(
                "tensor name `{}` appears twice",
                t.name
            )));
        }
        let n = t
            .nbytes()
            .ok_or_else(|| io::Error::other(format!("`{}` is too large", t.name)))?;
        map.insert(
            t.name.clone(),
            serde_json::json!({
                "dtype": t.dtype.name(),
                "shape": t.shape,
                "data_offsets": [at, at + n],
            }),
        );
        at += n;
    }
    let mut h = serde_json::to_vec(&serde_json::Value::Object(map)).map_err(io::Error::other)?;
    while h.len() % 8 != 0 {
        h.push(b' ');
    }
    Ok(h)
}

fn temp_path(out: &Path) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    out.with_file_name(format!(".{name}.modelgate-{}.tmp", std::process::id()))
}

/// Writes `out`; returns its size.
pub fn write(
    src: &dyn ByteSource,
    tensors: &[Tensor],
    metadata: &[(String, String)],
    out: &Path,
) -> io::Result<u64> {
    let h = header(tensors, metadata)?;
    let tmp = temp_path(out);
    let result = (|| {
        let mut f = BufWriter::with_capacity(1 << 20, File::create(&tmp)?);
        f.write_all(&(h.len() as u64).to_le_bytes())?;
        f.write_all(&h)?;
        let mut total = 8 + h.len() as u64;
        for t in tensors {
            let mut w = Hashing {
                inner: &mut f,
                hash: Sha256::new(),
                n: 0,
            };
            t.gather(src, &mut w)?;
            if Some(w.n) != t.nbytes() {
                return Err(io::Error::other(format!("`{}`: short read", t.name)));
            }
            total += w.n;
        }
        f.flush()?;
        f.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        Ok(total)
    })();
    match result {
        Ok(total) => {
            fs::rename(&tmp, out)?;
            Ok(total)
        }
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Re-reads `out` and compares each tensor's bytes with a fresh gather of the source.
pub fn verify(src: &dyn ByteSource, tensors: &[Tensor], out: &Path) -> Result<(), String> {
    let mut f = File::open(out).map_err(|e| e.to_string())?;
    let mut n = [0u8; 8];
    f.read_exact(&mut n).map_err(|e| e.to_string())?;
    let hlen = u64::from_le_bytes(n);
    let mut h = vec![0u8; usize::try_from(hlen).map_err(|e| e.to_string())?];
    f.read_exact(&mut h).map_err(|e| e.to_string())?;
    let header: serde_json::Value = serde_json::from_slice(&h).map_err(|e| e.to_string())?;
    let mut buf = vec![0u8; 1 << 20];
    for t in tensors {
        let entry = header.get(&t.name);
        let field = |k: &str| entry.and_then(|e| e.get(k));
        if field("dtype") != Some(&serde_json::json!(t.dtype.name()))
            || field("shape") != Some(&serde_json::json!(t.shape))
        {
            return Err(format!("`{}`: header disagrees", t.name));
        }
        let mut want = Hashing {
            inner: &mut io::sink(),
            hash: Sha256::new(),
            n: 0,
        };
        t.gather(src, &mut want).map_err(|e| e.to_string())?;
        let mut left = t.nbytes().unwrap_or(0);
        let mut got = Sha256::new();
        while left > 0 {
            let k = left.min(buf.len() as u64) as usize;
            let chunk = buf.get_mut(..k).unwrap_or_default();
            f.read_exact(chunk).map_err(|e| e.to_string())?;
            got.update(&*chunk);
            left -= k as u64;
        }
        if got.finalize() != want.hash.finalize() {
            return Err(format!("`{}`: bytes differ from the source", t.name));
        }
    }
    Ok(())
}
