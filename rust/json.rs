// SPDX-License-Identifier: GPL-2.0

//! Hand-written JSON output.
//!
//! kintrospect's `.json` files are written straight into the seq_file by these helpers, so
//! that nothing is allocated and the output is byte-for-byte deterministic. Strings come from
//! the kernel (task names, symbols) and are escaped so that the document is always valid JSON:
//! quotes, backslashes and control characters are escaped, and bytes that are not printable
//! ASCII (a task name need not be UTF-8) are written as `\u00XX`, their Latin-1 reading.

use kernel::fmt::{
    self,
    Write, //
};

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
