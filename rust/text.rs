// SPDX-License-Identifier: GPL-2.0

//! Text every report shares: kernel bytes for people, names taken with a snapshot, and what
//! the reader may see.
//!
//! Task and lock names are kernel bytes, shown as printable ASCII. Code addresses and locks are
//! named when their snapshot is taken (a module may unload, init code may be freed, before
//! anyone reads); one kallsyms could not name is kept as its address, and shown as that
//! address only to a reader `%pK` would show it to, else as `?`.

use crate::{
    bridge::{
        self,
        COMM_LEN, //
    },
    demangle, json,
};
use kernel::fmt::{
    self,
    Display,
    Write, //
};

/// The reader of a report, as far as what it may be shown goes.
#[derive(Clone, Copy)]
pub(crate) struct Reader {
    /// Whether raw kernel addresses may be shown (what `%pK` would print: `kptr_restrict`,
    /// `CAP_SYSLOG`).
    pub(crate) raw_addresses: bool,
}

impl Reader {
    /// The task reading now.
    pub(crate) fn current() -> Self {
        Self {
            raw_addresses: bridge::raw_addresses_allowed(),
        }
    }
}

pub(crate) use crate::demangle::write_printable;

/// The bytes of a NUL-terminated C string kept in a fixed array (all of it without a NUL).
pub(crate) fn nul_terminated(bytes: &[u8]) -> &[u8] {
    core::ffi::CStr::from_bytes_until_nul(bytes).map_or(bytes, core::ffi::CStr::to_bytes)
}

/// The bytes of a NUL-terminated task name.
pub(crate) fn comm_bytes(comm: &[u8; COMM_LEN]) -> &[u8] {
    nul_terminated(comm)
}

/// Writes a task name for people.
pub(crate) fn write_comm(w: &mut impl Write, comm: &[u8; COMM_LEN]) -> fmt::Result {
    write_printable(w, comm_bytes(comm))
}

/// Room for an address written as `0x` and 16 hex digits.
pub(crate) const ADDR_LEN: usize = 18;

/// A code address or lock as named when its snapshot was taken.
#[derive(Clone, Copy)]
pub(crate) enum Symbol<'a> {
    /// Its name, e.g. `function+off/size [module]`.
    Named(&'a [u8]),
    /// kallsyms had no name for this address.
    Unresolved(u64),
}

impl<'a> Symbol<'a> {
    /// The symbol as `reader` may see it: an unresolved one as `0x...` or `?`.
    pub(crate) fn bytes(self, reader: Reader, buf: &'a mut [u8; ADDR_LEN]) -> &'a [u8] {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let addr = match self {
            Symbol::Named(name) => return name,
            Symbol::Unresolved(_) if !reader.raw_addresses => return b"?",
            Symbol::Unresolved(addr) => addr,
        };
        buf[0] = b'0';
        buf[1] = b'x';
        let digits = (64 - addr.leading_zeros() as usize).div_ceil(4).max(1);
        for k in 0..digits {
            buf[2 + k] = HEX[((addr >> (4 * (digits - 1 - k))) & 0xf) as usize];
        }
        &buf[..2 + digits]
    }

    /// Writes the symbol for people, as `reader` may see it, a Rust name demangled.
    pub(crate) fn write(self, w: &mut impl Write, reader: Reader) -> fmt::Result {
        demangle::write(w, self.bytes(reader, &mut [0; ADDR_LEN]))
    }

    /// The symbol as a JSON string, as `reader` may see it, a Rust name demangled.
    pub(crate) fn json(self, reader: Reader) -> SymbolJson<'a> {
        SymbolJson(self, reader)
    }
}

/// A [`Symbol`] as a JSON value, as its reader may see it.
pub(crate) struct SymbolJson<'a>(Symbol<'a>, Reader);

impl json::Value for SymbolJson<'_> {
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Display::fmt(&json::Symbol(self.0.bytes(self.1, &mut [0; ADDR_LEN])), f)
    }
}

#[cfg(kintrospect_kunit)]
#[kernel::macros::kunit_tests(kintrospect_text)]
mod tests {
    use super::*;
    use kernel::prelude::*;

    const RAW: Reader = Reader {
        raw_addresses: true,
    };
    const NO_RAW: Reader = Reader {
        raw_addresses: false,
    };

    #[test]
    fn unresolved_symbols_show_their_address_only_when_allowed() {
        let mut buf = [0; ADDR_LEN];
        let addr = Symbol::Unresolved(0xffff_ffff_a002_2506);
        assert_eq!(addr.bytes(RAW, &mut buf), b"0xffffffffa0022506");
        assert_eq!(addr.bytes(NO_RAW, &mut buf), b"?");
        assert_eq!(Symbol::Unresolved(0).bytes(RAW, &mut buf), b"0x0");
        assert_eq!(
            Symbol::Named(b"f+0x1/0x2").bytes(NO_RAW, &mut buf),
            b"f+0x1/0x2"
        );
    }

    #[test]
    fn names_stop_at_nul_and_print_as_ascii() -> Result {
        assert_eq!(nul_terminated(b"ab\0cd"), b"ab");
        assert_eq!(nul_terminated(b"abcd"), b"abcd");
        let s = kernel::str::CString::try_from_fmt(fmt!("{}", Printable(b"a\x01\xffb")))?;
        assert_eq!(s.to_str()?, "a??b");
        Ok(())
    }

    struct Printable<'a>(&'a [u8]);

    impl Display for Printable<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write_printable(f, self.0)
        }
    }
}
