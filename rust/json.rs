// SPDX-License-Identifier: GPL-2.0

//! JSON output.
//!
//! kintrospect's `.json` files are written straight into the seq_file, so that nothing is
//! allocated and the output is byte-for-byte deterministic. The document's structure is the
//! writer's: an [`Object`] writes its braces, its keys and the commas between its fields, an
//! [`Array`] its brackets and commas, in the style of `fmt::DebugStruct`, so that a format
//! cannot write a document with a comma missing or a brace unclosed. Strings come from the
//! kernel (task names, symbols) and are escaped so that the document is always valid JSON:
//! quotes, backslashes and control characters are escaped, and bytes that are not printable
//! ASCII (a task name need not be UTF-8) are written as `\u00XX`, their Latin-1 reading.

use kernel::fmt::{
    self,
    Display,
    Write, //
};

/// A JSON value: what [`Object::field`] and [`Array::value`] write.
pub(crate) trait Value {
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

macro_rules! number_values {
    ($($t:ty),*) => {
        $(impl Value for $t {
            fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{self}")
            }
        })*
    };
}

number_values!(u8, u16, u32, u64, usize, i32, i64);

impl Value for bool {
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(bool_str(*self))
    }
}

/// A string of this module's own (a name from a table): quoted, escaped all the same.
impl Value for &str {
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Display::fmt(&Str(self.as_bytes()), f)
    }
}

impl Value for Str<'_> {
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Display::fmt(self, f)
    }
}

impl Value for Symbol<'_> {
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Display::fmt(self, f)
    }
}

/// `null` for `None`.
impl<T: Value> Value for Option<T> {
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Some(v) => v.write(f),
            None => f.write_str("null"),
        }
    }
}

/// A whole JSON document another format writes (a report inside an event): embedded as it is.
pub(crate) struct Embed<'a, T: Display>(pub(crate) &'a T);

impl<T: Display> Value for Embed<'_, T> {
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Display::fmt(self.0, f)
    }
}

/// Text this module formats (a [`Display`] of its own) as a JSON string, escaped.
pub(crate) struct Text<'a, T: Display>(pub(crate) &'a T);

impl<T: Display> Value for Text<'_, T> {
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        Escaped(f).write_fmt(kernel::prelude::fmt!("{}", self.0))?;
        f.write_char('"')
    }
}

/// An address as a JSON string, `"0x..."`.
pub(crate) struct Hex(pub(crate) u64);

impl Value for Hex {
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{:#x}\"", self.0)
    }
}

/// A JSON object being written: `{`, its fields, `}` on [`Object::end`].
pub(crate) struct Object<'a, 'f> {
    f: &'a mut fmt::Formatter<'f>,
    empty: bool,
}

impl<'a, 'f> Object<'a, 'f> {
    /// Starts an object.
    pub(crate) fn new(f: &'a mut fmt::Formatter<'f>) -> Result<Self, fmt::Error> {
        f.write_char('{')?;
        Ok(Self { f, empty: true })
    }

    /// Starts field `key` (a name of this module's, never escaped).
    fn key(&mut self, key: &str) -> fmt::Result {
        if !self.empty {
            self.f.write_char(',')?;
        }
        self.empty = false;
        self.f.write_char('"')?;
        self.f.write_str(key)?;
        self.f.write_str("\":")
    }

    /// Writes field `key` with value `v`.
    pub(crate) fn field(&mut self, key: &str, v: impl Value) -> Result<&mut Self, fmt::Error> {
        self.key(key)?;
        v.write(self.f)?;
        Ok(self)
    }

    /// Writes field `key`, an object that `build` fills.
    pub(crate) fn object(
        &mut self,
        key: &str,
        build: impl FnOnce(&mut Object<'_, 'f>) -> fmt::Result,
    ) -> Result<&mut Self, fmt::Error> {
        self.key(key)?;
        object(self.f, build)?;
        Ok(self)
    }

    /// Writes field `key`, an array that `build` fills.
    pub(crate) fn array(
        &mut self,
        key: &str,
        build: impl FnOnce(&mut Array<'_, 'f>) -> fmt::Result,
    ) -> Result<&mut Self, fmt::Error> {
        self.key(key)?;
        array(self.f, build)?;
        Ok(self)
    }

    /// Ends the object.
    pub(crate) fn end(self) -> fmt::Result {
        self.f.write_char('}')
    }
}

/// A JSON array being written: `[`, its values, `]` on [`Array::end`].
pub(crate) struct Array<'a, 'f> {
    f: &'a mut fmt::Formatter<'f>,
    empty: bool,
}

impl<'a, 'f> Array<'a, 'f> {
    /// Starts an array.
    pub(crate) fn new(f: &'a mut fmt::Formatter<'f>) -> Result<Self, fmt::Error> {
        f.write_char('[')?;
        Ok(Self { f, empty: true })
    }

    fn comma(&mut self) -> fmt::Result {
        if !self.empty {
            self.f.write_char(',')?;
        }
        self.empty = false;
        Ok(())
    }

    /// Writes value `v`.
    pub(crate) fn value(&mut self, v: impl Value) -> Result<&mut Self, fmt::Error> {
        self.comma()?;
        v.write(self.f)?;
        Ok(self)
    }

    /// Writes an object that `build` fills.
    pub(crate) fn object(
        &mut self,
        build: impl FnOnce(&mut Object<'_, 'f>) -> fmt::Result,
    ) -> Result<&mut Self, fmt::Error> {
        self.comma()?;
        object(self.f, build)?;
        Ok(self)
    }

    /// Writes an array that `build` fills.
    pub(crate) fn array(
        &mut self,
        build: impl FnOnce(&mut Array<'_, 'f>) -> fmt::Result,
    ) -> Result<&mut Self, fmt::Error> {
        self.comma()?;
        array(self.f, build)?;
        Ok(self)
    }

    /// Ends the array.
    pub(crate) fn end(self) -> fmt::Result {
        self.f.write_char(']')
    }
}

/// Writes one object, the whole of a document or a value: `build` fills it.
pub(crate) fn object<'f>(
    f: &mut fmt::Formatter<'f>,
    build: impl FnOnce(&mut Object<'_, 'f>) -> fmt::Result,
) -> fmt::Result {
    let mut o = Object::new(f)?;
    build(&mut o)?;
    o.end()
}

/// Writes one array: `build` fills it.
pub(crate) fn array<'f>(
    f: &mut fmt::Formatter<'f>,
    build: impl FnOnce(&mut Array<'_, 'f>) -> fmt::Result,
) -> fmt::Result {
    let mut a = Array::new(f)?;
    build(&mut a)?;
    a.end()
}

/// A byte string written as a quoted, escaped JSON string.
pub(crate) struct Str<'a>(pub(crate) &'a [u8]);

impl fmt::Display for Str<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        write_escaped(f, self.0)?;
        f.write_char('"')
    }
}

/// A symbol (`function+off/size [module]`) written as a quoted JSON string, a Rust name
/// demangled as [`demangle::write`](crate::demangle::write) shows it for people.
pub(crate) struct Symbol<'a>(pub(crate) &'a [u8]);

impl fmt::Display for Symbol<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        crate::demangle::write(&mut Escaped(f), self.0)?;
        f.write_char('"')
    }
}

/// A writer that escapes what it is given for the inside of a JSON string.
struct Escaped<'a, W: Write>(&'a mut W);

impl<W: Write> Write for Escaped<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        write_escaped(self.0, s.as_bytes())
    }
}

/// Writes `bytes` escaped for the inside of a JSON string.
pub(crate) fn write_escaped(w: &mut impl Write, bytes: &[u8]) -> fmt::Result {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x20..=0x7e => continue,
            _ => "",
        };
        // Every byte before `i` is printable ASCII, so this is valid UTF-8.
        w.write_str(ascii(&bytes[start..i]))?;
        start = i + 1;
        if escape.is_empty() {
            let hex = [
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0xf)],
            ];
            w.write_str(ascii(&hex))?;
        } else {
            w.write_str(escape)?;
        }
    }
    w.write_str(ascii(&bytes[start..]))
}

/// Views printable-ASCII bytes as a `str`; anything else (never passed in) becomes `"?"`.
fn ascii(bytes: &[u8]) -> &str {
    core::str::from_utf8(bytes).unwrap_or("?")
}

/// A JSON boolean.
pub(crate) fn bool_str(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

#[cfg(kintrospect_kunit)]
#[kernel::macros::kunit_tests(kintrospect_json)]
mod tests {
    use super::*;
    use kernel::{
        prelude::*,
        str::CString, //
    };

    fn escaped(bytes: &[u8]) -> Result<CString> {
        CString::try_from_fmt(fmt!("{}", Str(bytes)))
    }

    #[test]
    fn plain_ascii_is_quoted() -> Result {
        assert_eq!(escaped(b"kworker/0:1")?.to_bytes(), b"\"kworker/0:1\"");
        assert_eq!(escaped(b"")?.to_bytes(), b"\"\"");
        Ok(())
    }

    #[test]
    fn quotes_and_backslashes_are_escaped() -> Result {
        assert_eq!(escaped(b"a\"b\\c")?.to_bytes(), b"\"a\\\"b\\\\c\"");
        Ok(())
    }

    /// The writer places every comma, brace and bracket: nested, empty and `null` values.
    struct Doc;

    impl Display for Doc {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            object(f, |o| {
                o.field("a", 1u32)?
                    .field("s", "x\"y")?
                    .field("none", None::<u64>)?
                    .array("empty", |_| Ok(()))?
                    .array("list", |a| {
                        a.value(true)?.object(|o| {
                            o.field("h", Hex(0x1f))?;
                            Ok(())
                        })?;
                        a.array(|a| {
                            a.value(-1i32)?;
                            Ok(())
                        })?;
                        Ok(())
                    })?
                    .object("o", |_| Ok(()))?;
                Ok(())
            })
        }
    }

    #[test]
    fn structure_is_the_writers() -> Result {
        assert_eq!(
            CString::try_from_fmt(fmt!("{}", Doc))?.to_bytes(),
            b"{\"a\":1,\"s\":\"x\\\"y\",\"none\":null,\"empty\":[],\
              \"list\":[true,{\"h\":\"0x1f\"},[-1]],\"o\":{}}"
        );
        Ok(())
    }

    #[test]
    fn control_and_high_bytes_are_unicode_escapes() -> Result {
        assert_eq!(
            escaped(b"\x01x\n\x7f\xff")?.to_bytes(),
            b"\"\\u0001x\\n\\u007f\\u00ff\""
        );
        assert_eq!(escaped(b"\t\r")?.to_bytes(), b"\"\\t\\r\"");
        Ok(())
    }
}
