//! A bounded reader for CPython `marshal` data, enough to list what a Keras `Lambda`
//! layer's code object names (`co_names`, identifiers) and which string constants it
//! holds — e.g. `__import__`, `os`, `system`, `"curl … | sh"`. Nothing is executed; the
//! point is evidence for a reviewer, the finding itself does not depend on it.
//!
//! Code objects changed layout across Python versions; the reader tells them apart by
//! the number of leading 32-bit fields (5 for 3.11+ and ≤3.7, 6 for 3.8–3.10) and by the
//! type of the fifth object (bytes `co_localspluskinds` in 3.11+).

use crate::bytes::Bytes;

/// What a code object (and the code objects nested in it) names.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CodeInfo {
    /// Identifiers: `co_names`, variable names, function names.
    pub names: Vec<String>,
    /// String constants.
    pub strings: Vec<String>,
    /// The stream could not be parsed to the end (what was found is still listed).
    pub truncated: bool,
}

const MAX_DEPTH: u32 = 64;
const MAX_ITEMS: usize = 256;
const MAX_OBJECTS: usize = 100_000;
const MAX_STR: usize = 200;

#[derive(Debug)]
enum Obj {
    Str(String),
    Bytes,
    Tuple,
    Other,
}

struct M<'a> {
    b: Bytes<'a>,
    objects: usize,
    refs: Vec<Option<String>>,
    info: CodeInfo,
}

type R<T> = Result<T, ()>;

/// Lists the names and string constants of a marshalled code object.
pub fn code_info(data: &[u8]) -> CodeInfo {
    let mut m = M {
        b: Bytes::new(data),
        objects: 0,
        refs: Vec::new(),
        info: CodeInfo::default(),
    };
    if m.obj(0, Role::Const).is_err() {
        m.info.truncated = true;
    }
    m.info
}

#[derive(Clone, Copy, PartialEq)]
enum Role {
    Const,
    Name,
}

impl<'a> M<'a> {
    fn take(&mut self, n: usize) -> R<&'a [u8]> {
        self.b.take(n).map_err(drop)
    }
    fn u8(&mut self) -> R<u8> {
        self.b.u8().map_err(drop)
    }
    fn i32(&mut self) -> R<u32> {
        self.b.u32_le().map_err(drop)
    }
    /// Length of the whole stream.
    fn total_len(&self) -> usize {
        self.b.pos() + self.b.remaining()
    }

    fn note(&mut self, s: &str, role: Role) {
        let list = match role {
            Role::Name => &mut self.info.names,
            Role::Const => &mut self.info.strings,
        };
        if list.len() < MAX_ITEMS && !list.iter().any(|x| x == s) {
            let mut s = s.to_string();
            if s.len() > MAX_STR {
                let mut cut = MAX_STR;
                while !s.is_char_boundary(cut) {
                    cut -= 1;
                }
                s.truncate(cut);
                s.push('…');
            }
            list.push(s);
        }
    }

    fn obj(&mut self, depth: u32, role: Role) -> R<Obj> {
        if depth > MAX_DEPTH {
            return Err(());
        }
        self.objects += 1;
        if self.objects > MAX_OBJECTS {
            return Err(());
        }
        let code = self.u8()?;
        let flag_ref = code & 0x80 != 0;
        let slot = if flag_ref && self.refs.len() < MAX_OBJECTS {
            self.refs.push(None);
            Some(self.refs.len() - 1)
        } else {
            None
        };
        let o = match code & 0x7f {
            b'0' | b'N' | b'F' | b'T' | b'S' | b'.' => Obj::Other,
            b'i' => {
                self.take(4)?;
                Obj::Other
            }
            b'I' => {
                self.take(8)?;
                Obj::Other
            }
            b'g' => {
                self.take(8)?;
                Obj::Other
            }
            b'y' => {
                self.take(16)?;
                Obj::Other
            }
            b'f' => {
                let n = self.u8()? as usize;
                self.take(n)?;
                Obj::Other
            }
            b'x' => {
                for _ in 0..2 {
                    let n = self.u8()? as usize;
                    self.take(n)?;
                }
                Obj::Other
            }
            b'l' => {
                let n = self.i32()? as i32;
                let n = (n.unsigned_abs() as usize).checked_mul(2).ok_or(())?;
                self.take(n)?;
                Obj::Other
            }
            b's' => {
                let n = self.i32()? as usize;
                self.take(n)?;
                Obj::Bytes
            }
            b't' | b'u' | b'a' | b'A' => {
                let n = self.i32()? as usize;
                let s = String::from_utf8_lossy(self.take(n)?).into_owned();
                Obj::Str(s)
            }
            b'z' | b'Z' => {
                let n = self.u8()? as usize;
                let s = String::from_utf8_lossy(self.take(n)?).into_owned();
                Obj::Str(s)
            }
            b'r' => {
                let i = self.i32()? as usize;
                match self.refs.get(i) {
                    Some(Some(s)) => Obj::Str(s.clone()),
                    Some(None) => Obj::Other,
                    None => return Err(()),
                }
            }
            b'(' | b'[' | b'<' | b'>' => {
                let n = self.i32()? as usize;
                self.seq(n, depth, role)?;
                Obj::Tuple
            }
            b')' => {
                let n = self.u8()? as usize;
                self.seq(n, depth, role)?;
                Obj::Tuple
            }
            b'{' => {
                loop {
                    if self.b.rest().first() == Some(&b'0') {
                        self.take(1)?;
                        break;
                    }
                    self.obj(depth + 1, role)?;
                    self.obj(depth + 1, role)?;
                }
                Obj::Other
            }
            b'c' => {
                self.code(depth)?;
                Obj::Other
            }
            _ => return Err(()),
        };
        if let Obj::Str(s) = &o {
            if let Some(i) = slot {
                if let Some(r) = self.refs.get_mut(i) {
                    *r = Some(s.clone());
                }
            }
            self.note(&s.clone(), role);
        }
        Ok(o)
    }

    fn seq(&mut self, n: usize, depth: u32, role: Role) -> R<()> {
        if n > self.total_len() {
            return Err(());
        }
        for _ in 0..n {
            self.obj(depth + 1, role)?;
        }
        Ok(())
    }

    fn code(&mut self, depth: u32) -> R<()> {
        // The code bytes are a bytes object ('s', maybe with the ref flag): it follows 5
        // (3.11+, ≤3.7) or 6 (3.8–3.10) 32-bit fields.
        let is_bytes = |b: Option<&u8>| b.is_some_and(|c| c & 0x7f == b's');
        let rest = self.b.rest();
        let ints = if is_bytes(rest.get(20)) {
            5
        } else if is_bytes(rest.get(24)) {
            6
        } else {
            return Err(());
        };
        self.take(4 * ints)?;
        self.obj(depth + 1, Role::Const)?; // co_code
        self.obj(depth + 1, Role::Const)?; // co_consts
        self.obj(depth + 1, Role::Name)?; // co_names
        self.obj(depth + 1, Role::Name)?; // varnames / localsplusnames
        let fifth = self.obj(depth + 1, Role::Name)?; // freevars / localspluskinds
        let new_layout = ints == 5 && matches!(fifth, Obj::Bytes);
        if !new_layout {
            self.obj(depth + 1, Role::Name)?; // cellvars
        }
        self.obj(depth + 1, Role::Const)?; // filename
        self.obj(depth + 1, Role::Name)?; // name
        if new_layout {
            self.obj(depth + 1, Role::Name)?; // qualname
        }
        self.take(4)?; // firstlineno
        self.obj(depth + 1, Role::Const)?; // lnotab / linetable
        if new_layout {
            self.obj(depth + 1, Role::Const)?; // exceptiontable
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `marshal.dumps((lambda x: __import__('os').system('echo pwned') or x).__code__)`
    /// from CPython 3.11.
    const PY311: &str = "4wEAAAAAAAAAAAAAAAMAAAADAAAA80oAAACXAHQBAAAAAAAAAAAAAGQBpgEAAKsBAAAAAAAAAACgAQAAAAAAAAAAAAAAAAAAAAAAAAAAZAKmAQAAqwEAAAAAAAAAAHABfABTACkDTtoCb3P6CmVjaG8gcHduZWQpAtoKX19pbXBvcnRfX9oGc3lzdGVtKQHaAXhzAQAAACD6CDxzdHJpbmc++gg8bGFtYmRhPnIIAAAAAwAAAHMiAAAAgAC1Crg00TBA1DBA1zBH0jBHyAzRMFXUMFXQMFrQWVqAAPMAAAAA";

    #[test]
    fn lists_names_and_strings_of_a_lambda() {
        let data = crate::formats::keras::b64decode(PY311).unwrap();
        let info = code_info(&data);
        assert!(!info.truncated, "{info:?}");
        assert!(info.names.iter().any(|n| n == "__import__"), "{info:?}");
        assert!(info.names.iter().any(|n| n == "system"), "{info:?}");
        assert!(info.strings.iter().any(|s| s == "os"), "{info:?}");
        assert!(info.strings.iter().any(|s| s == "echo pwned"), "{info:?}");
    }

    #[test]
    fn garbage_and_truncation_are_bounded() {
        let data = crate::formats::keras::b64decode(PY311).unwrap();
        for n in 0..data.len() {
            let _ = code_info(&data[..n]);
        }
        // A deep nest of tuples.
        let deep = [b')', 1].repeat(10_000);
        assert!(code_info(&deep).truncated);
        let _ = code_info(&[b'(', 0xff, 0xff, 0xff, 0x7f]);
    }
}
