//! What a converter knows about one tensor before writing it: its dtype, shape, and where
//! its elements lie in the source (a storage region, an element offset and strides, and
//! whether the bytes must be swapped), and the gather that writes them contiguous, C
//! order, little-endian.

use std::io::{self, Write};

use crate::source::ByteSource;

/// The safetensors dtypes (`safetensors` 0.8 names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DType {
    F64,
    F32,
    F16,
    BF16,
    F8E4M3,
    F8E5M2,
    F8E4M3Fnuz,
    F8E5M2Fnuz,
    I64,
    I32,
    I16,
    I8,
    U64,
    U32,
    U16,
    U8,
    Bool,
}

impl DType {
    pub fn name(self) -> &'static str {
        match self {
            DType::F64 => "F64",
            DType::F32 => "F32",
            DType::F16 => "F16",
            DType::BF16 => "BF16",
            DType::F8E4M3 => "F8_E4M3",
            DType::F8E5M2 => "F8_E5M2",
            DType::F8E4M3Fnuz => "F8_E4M3FNUZ",
            DType::F8E5M2Fnuz => "F8_E5M2FNUZ",
            DType::I64 => "I64",
            DType::I32 => "I32",
            DType::I16 => "I16",
            DType::I8 => "I8",
            DType::U64 => "U64",
            DType::U32 => "U32",
            DType::U16 => "U16",
            DType::U8 => "U8",
            DType::Bool => "BOOL",
        }
    }

    pub fn size(self) -> u64 {
        match self {
            DType::F64 | DType::I64 | DType::U64 => 8,
            DType::F32 | DType::I32 | DType::U32 => 4,
            DType::F16 | DType::BF16 | DType::I16 | DType::U16 => 2,
            _ => 1,
        }
    }

    /// The dtype a torch dtype global (`torch.float32`) names.
    pub fn of_torch(name: &str) -> Option<DType> {
        Some(match name {
            "float64" | "double" => DType::F64,
            "float32" | "float" => DType::F32,
            "float16" | "half" => DType::F16,
            "bfloat16" => DType::BF16,
            "float8_e4m3fn" => DType::F8E4M3,
            "float8_e5m2" => DType::F8E5M2,
            "float8_e4m3fnuz" => DType::F8E4M3Fnuz,
            "float8_e5m2fnuz" => DType::F8E5M2Fnuz,
            "int64" | "long" => DType::I64,
            "int32" | "int" => DType::I32,
            "int16" | "short" => DType::I16,
            "int8" => DType::I8,
            "uint64" => DType::U64,
            "uint32" => DType::U32,
            "uint16" => DType::U16,
            "uint8" => DType::U8,
            "bool" => DType::Bool,
            _ => return None,
        })
    }

    /// The dtype of a typed storage class (`torch.FloatStorage`).
    pub fn of_storage(name: &str) -> Option<DType> {
        Some(match name {
            "DoubleStorage" => DType::F64,
            "FloatStorage" => DType::F32,
            "HalfStorage" => DType::F16,
            "BFloat16Storage" => DType::BF16,
            "LongStorage" => DType::I64,
            "IntStorage" => DType::I32,
            "ShortStorage" => DType::I16,
            "CharStorage" => DType::I8,
            "ByteStorage" => DType::U8,
            "BoolStorage" => DType::Bool,
            _ => return None,
        })
    }

    /// The dtype of a numpy type string without its byte order (`f4`, `i8`, `b1`).
    pub fn of_numpy(code: &str) -> Option<DType> {
        Some(match code {
            "f8" => DType::F64,
            "f4" => DType::F32,
            "f2" => DType::F16,
            "i8" => DType::I64,
            "i4" => DType::I32,
            "i2" => DType::I16,
            "i1" => DType::I8,
            "u8" => DType::U64,
            "u4" => DType::U32,
            "u2" => DType::U16,
            "u1" => DType::U8,
            "b1" => DType::Bool,
            _ => return None,
        })
    }
}

/// Bytes of a source that hold a storage (a zip member, a legacy storage block, the bytes
/// of a pickled array).
#[derive(Clone, Copy, Debug)]
pub struct Region {
    pub start: u64,
    pub len: u64,
}

/// One tensor to write.
#[derive(Clone)]
pub struct Tensor {
    pub name: String,
    pub dtype: DType,
    pub shape: Vec<u64>,
    pub region: Region,
    /// Offset of element 0 in the region, in elements.
    pub offset: u64,
    /// Strides in elements.
    pub strides: Vec<u64>,
    /// The stored bytes are big-endian.
    pub swap: bool,
    /// The bytes are in this (inflated) buffer rather than the input file.
    pub source: Option<std::sync::Arc<crate::source::MemSource>>,
}

/// Largest tensor element count accepted (2^40: a TiB of bytes).
const MAX_NUMEL: u64 = 1 << 40;

impl Tensor {
    pub fn numel(&self) -> Option<u64> {
        self.shape
            .iter()
            .try_fold(1u64, |a, &d| a.checked_mul(d))
            .filter(|&n| n <= MAX_NUMEL)
    }

    pub fn nbytes(&self) -> Option<u64> {
        self.numel()?.checked_mul(self.dtype.size())
    }

    /// Checks that every element the tensor addresses lies inside its region.
    pub fn check(&self) -> Result<(), String> {
        if self.strides.len() != self.shape.len() {
            return Err(format!(
                "`{}`: {} strides for {} dimensions",
                self.name,
                self.strides.len(),
                self.shape.len()
            ));
        }
        let numel = self
            .numel()
            .ok_or_else(|| format!("`{}`: shape {:?} is too large", self.name, self.shape))?;
        if numel == 0 {
            return Ok(());
        }
        // A view can hold more elements than its storage (`expand`: stride 0); one that
        // would write over 1024 times its storage (and over 64 MiB) is refused, which
        // bounds the output and the work by the input's size.
        let bytes = numel.saturating_mul(self.dtype.size());
        if bytes > self.region.len.saturating_mul(1024).max(64 << 20) {
            return Err(format!(
                "`{}`: a view of {numel} elements over a storage of {} bytes (broadcast or overlapping strides)",
                self.name, self.region.len
            ));
        }
        let mut last = self.offset;
        for (&d, &s) in self.shape.iter().zip(&self.strides) {
            last = (d - 1)
                .checked_mul(s)
                .and_then(|x| last.checked_add(x))
                .ok_or_else(|| format!("`{}`: strides overflow", self.name))?;
        }
        let end = last
            .checked_add(1)
            .and_then(|e| e.checked_mul(self.dtype.size()))
            .ok_or_else(|| format!("`{}`: strides overflow", self.name))?;
        if end > self.region.len {
            return Err(format!(
                "`{}`: addresses {end} bytes of a storage of {}",
                self.name, self.region.len
            ));
        }
        Ok(())
    }

    fn contiguous(&self) -> bool {
        let mut want = 1u64;
        for (&d, &s) in self.shape.iter().zip(&self.strides).rev() {
            if d != 1 && s != want {
                return false;
            }
            want = want.saturating_mul(d);
        }
        true
    }

    /// Writes the tensor's elements to `out`, contiguous, C order, little-endian, reading
    /// the source in bounded chunks.
    pub fn gather(&self, file: &dyn ByteSource, out: &mut dyn Write) -> io::Result<()> {
        let src: &dyn ByteSource = match &self.source {
            Some(m) => m.as_ref(),
            None => file,
        };
        let es = self.dtype.size();
        let numel = self.numel().unwrap_or(0);
        if numel == 0 {
            return Ok(());
        }
        let base = self.region.start + self.offset * es;
        let mut buf = Vec::new();
        if self.contiguous() {
            let mut left = numel * es;
            let mut at = base;
            while left > 0 {
                let n = left.min(CHUNK);
                buf.resize(n as usize, 0);
                src.read_exact_at(at, &mut buf)?;
                self.emit(&mut buf, out)?;
                at += n;
                left -= n;
            }
            return Ok(());
        }
        // Strided: walk the index space; runs of the last dimension with stride 1 are
        // read at once, everything else element by element through a small cache.
        let dims = self.shape.len();
        let (Some(&last_d), Some(&last_s)) = (self.shape.last(), self.strides.last()) else {
            return Ok(()); // 0-d tensors are contiguous
        };
        let run = if last_s == 1 { last_d } else { 1 };
        let mut idx = vec![0u64; dims];
        let mut cache = Cache::new(src);
        let mut done = 0u64;
        while done < numel {
            let mut elem = self.offset;
            for (i, s) in idx.iter().zip(&self.strides) {
                elem += i * s;
            }
            let n = run * es;
            buf.resize(n as usize, 0);
            cache.read(self.region.start + elem * es, &mut buf)?;
            self.emit(&mut buf, out)?;
            done += run;
            // Advance the index (the last dimension by `run`), carrying leftwards.
            let mut carry = run;
            for (i, &d) in idx.iter_mut().zip(&self.shape).rev() {
                if carry == 0 {
                    break;
                }
                *i += carry;
                if *i < d {
                    carry = 0;
                } else {
                    *i = 0;
                    carry = 1;
                }
            }
        }
        Ok(())
    }

    fn emit(&self, buf: &mut [u8], out: &mut dyn Write) -> io::Result<()> {
        let es = self.dtype.size() as usize;
        if self.swap && es > 1 {
            for e in buf.chunks_exact_mut(es) {
                e.reverse();
            }
        }
        out.write_all(buf)
    }
}

/// Bytes read from the source at once.
const CHUNK: u64 = 1 << 20;

/// A read cache of [`CHUNK`] bytes for strided gathers.
struct Cache<'a> {
    src: &'a dyn ByteSource,
    start: u64,
    buf: Vec<u8>,
}

impl<'a> Cache<'a> {
    fn new(src: &'a dyn ByteSource) -> Cache<'a> {
        Cache {
            src,
            start: 0,
            buf: Vec::new(),
        }
    }

    fn read(&mut self, at: u64, out: &mut [u8]) -> io::Result<()> {
        let n = out.len() as u64;
        if n > CHUNK {
            return self.src.read_exact_at(at, out);
        }
        let end = self.start + self.buf.len() as u64;
        if at < self.start || at + n > end {
            let want = (self.src.len().saturating_sub(at)).min(CHUNK).max(n);
            self.buf.resize(want as usize, 0);
            self.src.read_exact_at(at, &mut self.buf)?;
            self.start = at;
        }
        let off = (at - self.start) as usize;
        let cached = self
            .buf
            .get(off..off + n as usize)
            .ok_or_else(|| io::Error::other("read past the cached window"))?;
        out.copy_from_slice(cached);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MemSource;

    fn t(shape: &[u64], strides: &[u64], offset: u64, swap: bool, len: u64) -> Tensor {
        Tensor {
            name: "t".into(),
            dtype: DType::I16,
            shape: shape.to_vec(),
            region: Region { start: 2, len },
            offset,
            strides: strides.to_vec(),
            swap,
            source: None,
        }
    }

    fn gathered(t: &Tensor, src: &MemSource) -> Vec<u16> {
        let mut out = Vec::new();
        t.gather(src, &mut out).unwrap();
        out.chunks(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect()
    }

    #[test]
    fn views_are_written_contiguous_in_c_order() {
        // Two bytes of padding, then the i16 values 0..6 little-endian.
        let mut b = vec![0xee, 0xee];
        b.extend((0u16..6).flat_map(|v| v.to_le_bytes()));
        let src = MemSource::new(b);
        // The 2x3 matrix and its transpose (3x2, strides (1, 3)).
        assert_eq!(
            gathered(&t(&[2, 3], &[3, 1], 0, false, 12), &src),
            [0, 1, 2, 3, 4, 5]
        );
        assert_eq!(
            gathered(&t(&[3, 2], &[1, 3], 0, false, 12), &src),
            [0, 3, 1, 4, 2, 5]
        );
        // An offset column view and an expanded row (stride 0).
        assert_eq!(gathered(&t(&[2], &[3], 1, false, 12), &src), [1, 4]);
        assert_eq!(
            gathered(&t(&[2, 3], &[0, 1], 0, false, 12), &src),
            [0, 1, 2, 0, 1, 2]
        );
        // Big-endian storage bytes are swapped.
        assert_eq!(gathered(&t(&[1], &[1], 1, true, 12), &src), [0x0100]);
    }

    #[test]
    fn out_of_storage_views_are_refused() {
        assert!(t(&[2, 3], &[3, 1], 1, false, 12).check().is_err());
        assert!(t(&[7], &[1], 0, false, 12).check().is_err());
        assert!(t(&[1 << 40, 4], &[0, 1], 0, false, 12).check().is_err());
        assert!(t(&[2, 3], &[3, 1], 0, false, 12).check().is_ok());
        assert!(t(&[0, 3], &[3, 1], 99, false, 12).check().is_ok());
    }
}
