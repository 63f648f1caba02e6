//! A byte cursor that cannot panic: every read is bounds-checked and returns a
//! [`ParseError`] naming the offset it failed at (after `object`'s `read::Bytes`). Parsers
//! of hostile files read through this instead of indexing slices.

use std::fmt;

/// Why a read failed, and where: `offset` is absolute when the cursor was made with
/// [`Bytes::at`], otherwise relative to the start of the slice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub offset: u64,
    pub message: String,
}

impl ParseError {
    pub fn new(offset: u64, message: impl Into<String>) -> ParseError {
        ParseError {
            offset,
            message: message.into(),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at offset {}", self.message, self.offset)
    }
}

impl std::error::Error for ParseError {}

pub type Result<T> = std::result::Result<T, ParseError>;

/// A read position over a byte slice.
#[derive(Clone, Copy, Debug)]
pub struct Bytes<'a> {
    data: &'a [u8],
    pos: usize,
    /// Offset of `data[0]` in the file, added to error offsets.
    base: u64,
}

impl<'a> Bytes<'a> {
    pub fn new(data: &'a [u8]) -> Bytes<'a> {
        Bytes::at(data, 0)
    }

    /// A cursor over `data`, which starts at offset `base` of the file.
    pub fn at(data: &'a [u8], base: u64) -> Bytes<'a> {
        Bytes { data, pos: 0, base }
    }

    /// Bytes consumed so far.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// The absolute offset of the next byte.
    pub fn offset(&self) -> u64 {
        self.base.saturating_add(self.pos as u64)
    }

    pub fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The unread bytes (not consumed).
    pub fn rest(&self) -> &'a [u8] {
        self.data.get(self.pos..).unwrap_or_default()
    }

    fn short(&self, n: usize) -> ParseError {
        ParseError::new(
            self.offset(),
            format!("truncated: {n} bytes wanted, {} left", self.remaining()),
        )
    }

    /// The next `n` bytes, not consumed.
    pub fn peek(&self, n: usize) -> Result<&'a [u8]> {
        self.rest().get(..n).ok_or_else(|| self.short(n))
    }

    /// The next `n` bytes, consumed.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let s = self.peek(n)?;
        self.pos += n;
        Ok(s)
    }

    pub fn skip(&mut self, n: usize) -> Result<()> {
        self.take(n).map(|_| ())
    }

    pub fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let s = self.peek(N)?;
        let a = <[u8; N]>::try_from(s).map_err(|_| self.short(N))?;
        self.pos += N;
        Ok(a)
    }

    pub fn u8(&mut self) -> Result<u8> {
        self.array::<1>().map(|[b]| b)
    }
    pub fn u16_le(&mut self) -> Result<u16> {
        self.array().map(u16::from_le_bytes)
    }
    pub fn u16_be(&mut self) -> Result<u16> {
        self.array().map(u16::from_be_bytes)
    }
    pub fn u32_le(&mut self) -> Result<u32> {
        self.array().map(u32::from_le_bytes)
    }
    pub fn u32_be(&mut self) -> Result<u32> {
        self.array().map(u32::from_be_bytes)
    }
    pub fn u64_le(&mut self) -> Result<u64> {
        self.array().map(u64::from_le_bytes)
    }
    pub fn u64_be(&mut self) -> Result<u64> {
        self.array().map(u64::from_be_bytes)
    }

    /// A little-endian unsigned integer of `n` bytes (HDF5's "size of offsets"); bytes
    /// past the eighth are read but do not fit, so `n` above 8 is an error.
    pub fn uint_le(&mut self, n: usize) -> Result<u64> {
        if n > 8 {
            return Err(ParseError::new(
                self.offset(),
                format!("a {n}-byte integer does not fit in 64 bits"),
            ));
        }
        Ok(le(self.take(n)?))
    }
}

/// A little-endian unsigned integer from up to 8 bytes (more are shifted out).
pub fn le(b: &[u8]) -> u64 {
    b.iter().rev().fold(0u64, |a, &x| (a << 8) | x as u64)
}

/// The `N` bytes at `i`, if all are inside `b`.
pub fn array_at<const N: usize>(b: &[u8], i: usize) -> Option<[u8; N]> {
    let end = i.checked_add(N)?;
    b.get(i..end)?.try_into().ok()
}

pub fn u16_le_at(b: &[u8], i: usize) -> Option<u16> {
    array_at(b, i).map(u16::from_le_bytes)
}
pub fn u32_le_at(b: &[u8], i: usize) -> Option<u32> {
    array_at(b, i).map(u32::from_le_bytes)
}
pub fn u64_le_at(b: &[u8], i: usize) -> Option<u64> {
    array_at(b, i).map(u64::from_le_bytes)
}
pub fn u16_be_at(b: &[u8], i: usize) -> Option<u16> {
    array_at(b, i).map(u16::from_be_bytes)
}
pub fn u32_be_at(b: &[u8], i: usize) -> Option<u32> {
    array_at(b, i).map(u32::from_be_bytes)
}

/// Copies the bytes of `src` from `at` into the front of `dst`, as many as both have;
/// returns how many (0 when `at` is past the end). A read into a caller's buffer.
pub fn copy_at(dst: &mut [u8], src: &[u8], at: usize) -> usize {
    let from = src.get(at..).unwrap_or_default();
    let n = dst.len().min(from.len());
    if let (Some(d), Some(s)) = (dst.get_mut(..n), from.get(..n)) {
        d.copy_from_slice(s);
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_in_order_both_endians() {
        let d = [
            1u8, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
        ];
        let mut b = Bytes::new(&d);
        assert_eq!(b.u8().unwrap(), 1);
        assert_eq!(b.u16_le().unwrap(), 0x0302);
        assert_eq!(b.u16_be().unwrap(), 0x0405);
        assert_eq!(b.u32_le().unwrap(), 0x0908_0706);
        assert_eq!(b.pos(), 9);
        assert_eq!(b.peek(2).unwrap(), &[10, 11]);
        assert_eq!(b.pos(), 9);
        assert_eq!(b.u64_be().unwrap(), 0x0a0b_0c0d_0e0f_1011);
        assert_eq!(b.remaining(), 3);
        assert_eq!(b.rest(), &[18, 19, 20]);
        let mut c = Bytes::new(&d);
        assert_eq!(c.u64_le().unwrap(), 0x0807_0605_0403_0201);
        assert_eq!(c.u32_be().unwrap(), 0x090a_0b0c);
        assert_eq!(c.uint_le(3).unwrap(), 0x0f0e0d);
        assert_eq!(c.take(5).unwrap(), &[16, 17, 18, 19, 20]);
        assert!(c.is_empty());
        assert_eq!(c.take(0).unwrap(), &[] as &[u8]);
    }

    #[test]
    fn every_read_at_the_end_errors_with_the_offset() {
        let d = [0u8; 3];
        let at_end = || {
            let mut b = Bytes::at(&d, 100);
            b.skip(3).unwrap();
            b
        };
        type Read = fn(&mut Bytes) -> Result<()>;
        let reads: &[Read] = &[
            |b| b.u8().map(drop),
            |b| b.u16_le().map(drop),
            |b| b.u16_be().map(drop),
            |b| b.u32_le().map(drop),
            |b| b.u32_be().map(drop),
            |b| b.u64_le().map(drop),
            |b| b.u64_be().map(drop),
            |b| b.uint_le(2).map(drop),
            |b| b.take(1).map(drop),
            |b| b.peek(1).map(drop),
            |b| b.skip(1),
            |b| b.array::<4>().map(drop),
        ];
        for read in reads {
            let mut b = at_end();
            let e = read(&mut b).unwrap_err();
            assert_eq!(e.offset, 103, "{e}");
            assert!(e.message.starts_with("truncated"), "{e}");
            assert_eq!(b.pos(), 3, "a failed read consumes nothing");
        }
        // A partial read fails without consuming either.
        let mut b = Bytes::new(&d);
        b.u8().unwrap();
        assert_eq!(b.u32_le().unwrap_err().offset, 1);
        assert_eq!(b.pos(), 1);
        assert_eq!(
            b.to_string_err(),
            "truncated: 4 bytes wanted, 2 left at offset 1"
        );
    }

    impl Bytes<'_> {
        fn to_string_err(mut self) -> String {
            self.u32_le().unwrap_err().to_string()
        }
    }

    #[test]
    fn huge_lengths_do_not_panic() {
        let d = [0u8; 8];
        let mut b = Bytes::new(&d);
        b.u8().unwrap();
        for n in [usize::MAX, usize::MAX - 1, usize::MAX / 2, 8] {
            assert!(b.take(n).is_err());
            assert!(b.peek(n).is_err());
            assert!(b.skip(n).is_err());
        }
        assert!(b.uint_le(usize::MAX).is_err());
        assert!(b.uint_le(9).is_err());
        let mut far = Bytes::at(&d, u64::MAX);
        far.skip(8).unwrap();
        assert_eq!(far.u8().unwrap_err().offset, u64::MAX);
        assert_eq!(array_at::<2>(&d, usize::MAX), None);
        assert_eq!(u16_le_at(&d, 7), None);
        assert_eq!(u16_le_at(&d, 6), Some(0));
        assert_eq!(u32_le_at(&[1, 0, 0, 0], 0), Some(1));
        assert_eq!(u32_be_at(&[0, 0, 0, 1], 0), Some(1));
        assert_eq!(u16_be_at(&[0, 1], 0), Some(1));
        assert_eq!(u64_le_at(&d, 1), None);
    }

    #[test]
    fn copy_at_copies_what_both_sides_have() {
        let src = [1u8, 2, 3, 4, 5];
        let mut dst = [0u8; 3];
        assert_eq!(copy_at(&mut dst, &src, 1), 3);
        assert_eq!(dst, [2, 3, 4]);
        assert_eq!(copy_at(&mut dst, &src, 4), 1);
        assert_eq!(dst, [5, 3, 4]);
        assert_eq!(copy_at(&mut dst, &src, 5), 0);
        assert_eq!(copy_at(&mut dst, &src, usize::MAX), 0);
        assert_eq!(copy_at(&mut [], &src, 0), 0);
    }
}
