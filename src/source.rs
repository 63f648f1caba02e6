//! Random-access byte sources. Format scanners read through [`ByteSource`] — "give me
//! these bytes at this offset" — never through `std::fs::File`, so that remote sources
//! (HTTP range requests) and in-memory members plug in without touching the scanners.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;

pub trait ByteSource: Send + Sync {
    /// Total length in bytes.
    fn len(&self) -> u64;

    /// Reads up to `buf.len()` bytes at `offset`; returns how many were read (0 at EOF).
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize>;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reads exactly `buf.len()` bytes or fails with `UnexpectedEof`.
    fn read_exact_at(&self, mut offset: u64, mut buf: &mut [u8]) -> io::Result<()> {
        while !buf.is_empty() {
            let n = self.read_at(offset, buf)?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "unexpected end of data",
                ));
            }
            offset += n as u64;
            buf = buf.get_mut(n..).unwrap_or_default();
        }
        Ok(())
    }

    /// Reads `[offset, offset + len)` clamped to the end of the source. Callers bound `len`.
    fn read_vec(&self, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        let avail = self.len().saturating_sub(offset);
        let len = len.min(usize::try_from(avail).unwrap_or(usize::MAX));
        let mut v = vec![0; len];
        self.read_exact_at(offset, &mut v)?;
        Ok(v)
    }
}

/// A local file, read with positioned reads (no shared cursor, so it is `Sync`).
pub struct FileSource {
    file: File,
    len: u64,
}

impl FileSource {
    pub fn open(path: &Path) -> io::Result<FileSource> {
        let file = File::open(path)?;
        let len = file.metadata()?.len();
        Ok(FileSource { file, len })
    }
}

impl ByteSource for FileSource {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        if offset >= self.len {
            return Ok(0);
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileExt;
            self.file.read_at(buf, offset)
        }
        #[cfg(windows)]
        {
            use std::os::windows::fs::FileExt;
            self.file.seek_read(buf, offset)
        }
    }
}

/// Bytes in memory (decompressed members, tests, fuzzing).
#[derive(Clone)]
pub struct MemSource(pub Arc<[u8]>);

impl std::fmt::Debug for MemSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MemSource({} bytes)", self.0.len())
    }
}

impl MemSource {
    pub fn new(bytes: impl Into<Arc<[u8]>>) -> MemSource {
        MemSource(bytes.into())
    }
}

impl ByteSource for MemSource {
    fn len(&self) -> u64 {
        self.0.len() as u64
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let Ok(start) = usize::try_from(offset) else {
            return Ok(0);
        };
        Ok(crate::bytes::copy_at(buf, &self.0, start))
    }
}

/// A window `[start, start + len)` of another source (a stored zip member, a prefix).
pub struct SliceSource<'a> {
    inner: &'a dyn ByteSource,
    start: u64,
    len: u64,
}

impl<'a> SliceSource<'a> {
    pub fn new(inner: &'a dyn ByteSource, start: u64, len: u64) -> SliceSource<'a> {
        let start = start.min(inner.len());
        let len = len.min(inner.len() - start);
        SliceSource { inner, start, len }
    }
}

impl ByteSource for SliceSource<'_> {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        if offset >= self.len {
            return Ok(0);
        }
        let max = usize::try_from(self.len - offset).unwrap_or(usize::MAX);
        let n = buf.len().min(max);
        self.inner
            .read_at(self.start + offset, buf.get_mut(..n).unwrap_or_default())
    }
}

/// `Read + Seek` over a [`ByteSource`] without copying it, for decoders that want a
/// stream (inflate, bz2/xz/lz4/zstd, the 7z reader). `pos` is where the next read starts.
pub struct Cursor<'a> {
    pub src: &'a dyn ByteSource,
    pub pos: u64,
}

impl<'a> Cursor<'a> {
    pub fn new(src: &'a dyn ByteSource) -> Cursor<'a> {
        Cursor { src, pos: 0 }
    }
}

impl Read for Cursor<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.src.read_at(self.pos, buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Cursor<'_> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let len = self.src.len() as i128;
        let new = match pos {
            SeekFrom::Start(p) => p as i128,
            SeekFrom::End(d) => len + d as i128,
            SeekFrom::Current(d) => self.pos as i128 + d as i128,
        };
        if !(0..=u64::MAX as i128).contains(&new) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek out of range",
            ));
        }
        self.pos = new as u64;
        Ok(self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slice_clamps_to_inner() {
        let m = MemSource::new(b"0123456789".to_vec());
        let s = SliceSource::new(&m, 7, 100);
        assert_eq!(s.len(), 3);
        assert_eq!(s.read_vec(0, 10).unwrap(), b"789");
        assert_eq!(s.read_vec(5, 10).unwrap(), b"");
    }
}
