//! A small read-ahead window over a [`ByteSource`] for parsers that walk many tiny fields
//! (protobuf tags and varints, GGUF key/value headers): one positioned read per 64 KiB
//! instead of one per field, and never more than the window in memory.

use crate::source::ByteSource;

const CAP: usize = 64 << 10;

pub struct Window<'a> {
    src: &'a dyn ByteSource,
    buf: Vec<u8>,
    start: u64,
    len: u64,
}

impl<'a> Window<'a> {
    pub fn new(src: &'a dyn ByteSource) -> Window<'a> {
        Window {
            src,
            buf: Vec::new(),
            start: 0,
            len: src.len(),
        }
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn source(&self) -> &'a dyn ByteSource {
        self.src
    }

    /// The `n` bytes at `pos` (`n` at most 64 KiB); `None` past the end or on I/O error.
    pub fn get(&mut self, pos: u64, n: usize) -> Option<&[u8]> {
        if n > CAP || pos.checked_add(n as u64)? > self.len {
            return None;
        }
        let end = self.start + self.buf.len() as u64;
        if pos < self.start || pos + n as u64 > end {
            let want = usize::try_from((self.len - pos).min(CAP as u64)).ok()?;
            self.buf.resize(want, 0);
            if self.src.read_exact_at(pos, &mut self.buf).is_err() {
                self.buf.clear();
                return None;
            }
            self.start = pos;
        }
        let off = usize::try_from(pos - self.start).ok()?;
        self.buf.get(off..off + n)
    }

    pub fn byte(&mut self, pos: u64) -> Option<u8> {
        self.get(pos, 1).and_then(|b| b.first().copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MemSource;

    #[test]
    fn reads_across_refills_and_stops_at_the_end() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let src = MemSource::new(data.clone());
        let mut w = Window::new(&src);
        assert_eq!(w.get(0, 4), Some(&data[0..4]));
        assert_eq!(w.get(70_000, 10), Some(&data[70_000..70_010]));
        assert_eq!(w.get(65_530, 10), Some(&data[65_530..65_540]));
        assert_eq!(w.get(199_990, 10), Some(&data[199_990..200_000]));
        assert_eq!(w.get(199_995, 10), None);
        assert_eq!(w.get(u64::MAX, 1), None);
        assert_eq!(w.get(0, CAP + 1), None);
        assert_eq!(w.byte(5), Some(data[5]));
    }
}
