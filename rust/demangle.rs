// SPDX-License-Identifier: GPL-2.0

//! Rust symbol names for people: the v0 mangling (RFC 2603) read back.
//!
//! kallsyms names Rust functions by their mangled symbols, such as
//! `_RNvNtCsjsgonXbPYzo_16kintrospect_main5files4spin`; reports show them as
//! `kintrospect_main::files::spin`. The subset of the grammar that kernel symbols use is read:
//! paths, nested namespaces, crate roots (their disambiguating hashes left out), closures and
//! shims, inherent and trait impls (`<Type>::method`, `<Type as Trait>::method`) and back
//! references. Generic arguments are parsed but written as `::<..>`, as they say little in a
//! stack frame and make names long.
//!
//! Anything else (punycode identifiers, a version prefix, constants other than integers, or a
//! name that does not parse) leaves the symbol as it is. The work is bounded: recursion depth,
//! bytes read and output length all have limits. Nothing is allocated and nothing panics: a name
//! is parsed twice, once to check it and measure its output, then to write it.

use kernel::fmt::{
    self,
    Write, //
};

/// Deepest nesting of paths, types and back references followed.
const MAX_DEPTH: u32 = 32;
/// Most bytes of the symbol read for one name, back references included.
const MAX_STEPS: u32 = 4096;
/// Longest demangled name written; a longer one is left mangled.
const MAX_OUTPUT: usize = 1024;

/// Writes kernel bytes (a symbol, a task or lock name) for people: printable ASCII, anything
/// else as `?`. Here, so that the demangler is a leaf; the other reports reach it through
/// [`crate::text`].
pub(crate) fn write_printable(w: &mut impl Write, bytes: &[u8]) -> fmt::Result {
    for &b in bytes {
        w.write_char(if (0x20..0x7f).contains(&b) {
            char::from(b)
        } else {
            '?'
        })?;
    }
    Ok(())
}

/// Writes a symbol's text (`name+off/size [module]` or a bare name), demangling a Rust v0
/// name and writing everything else as printable ASCII (other bytes as `?`).
pub(crate) fn write(w: &mut impl Write, text: &[u8]) -> fmt::Result {
    let end = text
        .iter()
        .position(|&b| b == b'+' || b == b' ')
        .unwrap_or(text.len());
    let (name, rest) = text.split_at(end);
    // A vendor suffix (`.llvm.123`, `.cold`) is kept as it is.
    let dot = name.iter().position(|&b| b == b'.').unwrap_or(name.len());
    let (mangled, suffix) = name.split_at(dot);
    // A name cut short to fit a record ends in "...": the start of it is shown.
    let cut = suffix.starts_with(b"...");
    match mangled.strip_prefix(b"_R") {
        Some(sym) if measure(sym, cut).is_some_and(|n| n <= MAX_OUTPUT) => {
            // The same reading as the one measured: only the writer can fail now.
            if !readable(Demangler::new(sym, w).symbol(), cut) {
                return Err(fmt::Error);
            }
            write_printable(w, suffix)?;
        }
        _ => write_printable(w, name)?,
    }
    write_printable(w, rest)
}

/// The length of the mangled name `sym` (after `_R`) demangled, if it can be read; `cut` when
/// the name was cut short.
fn measure(sym: &[u8], cut: bool) -> Option<usize> {
    let mut count = Count(0);
    let r = Demangler::new(sym, &mut count).symbol();
    readable(r, cut).then_some(count.0)
}

/// Whether a reading succeeded: to its end, or to the end of a name that was cut short.
fn readable(r: Result, cut: bool) -> bool {
    match r {
        Ok(()) => true,
        Err(Error::End) => cut,
        Err(_) => false,
    }
}

/// A writer that only counts what it is given.
struct Count(usize);

impl Write for Count {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0 = self.0.saturating_add(s.len());
        Ok(())
    }
}

/// Why a name was not demangled.
#[derive(Debug)]
enum Error {
    /// Not a name this reader understands, or over a limit.
    Invalid,
    /// The name ended early (all of it up to there was understood).
    End,
    /// The writer failed.
    Write,
}

impl From<fmt::Error> for Error {
    fn from(_: fmt::Error) -> Self {
        Error::Write
    }
}

type Result<T = ()> = core::result::Result<T, Error>;

/// The names of the basic types, by their one-letter codes.
fn basic_type(c: u8) -> Option<&'static str> {
    Some(match c {
        b'a' => "i8",
        b'b' => "bool",
        b'c' => "char",
        b'd' => "f64",
        b'e' => "str",
        b'f' => "f32",
        b'h' => "u8",
        b'i' => "isize",
        b'j' => "usize",
        b'l' => "i32",
        b'm' => "u32",
        b'n' => "i128",
        b'o' => "u128",
        b's' => "i16",
        b't' => "u16",
        b'u' => "()",
        b'v' => "...",
        b'x' => "i64",
        b'y' => "u64",
        b'z' => "!",
        b'p' => "_",
        _ => return None,
    })
}

/// A reader of one mangled name (the bytes after `_R`), writing to `out` when printing.
struct Demangler<'s, 'w, W: Write> {
    sym: &'s [u8],
    pos: usize,
    depth: u32,
    steps: u32,
    out: &'w mut W,
}

impl<'s, 'w, W: Write> Demangler<'s, 'w, W> {
    fn new(sym: &'s [u8], out: &'w mut W) -> Self {
        Demangler {
            sym,
            pos: 0,
            depth: 0,
            steps: 0,
            out,
        }
    }

    /// The whole name: a path, then an instantiating crate that is not shown.
    fn symbol(&mut self) -> Result {
        // A leading decimal is an encoding version this reader does not know.
        if self.peek().is_none_or(|c| c.is_ascii_digit()) {
            return Err(Error::Invalid);
        }
        self.path(true, true)?;
        if self.pos < self.sym.len() {
            self.path(false, false)?;
        }
        if self.pos == self.sym.len() {
            Ok(())
        } else {
            Err(Error::Invalid)
        }
    }

    fn peek(&self) -> Option<u8> {
        self.sym.get(self.pos).copied()
    }

    fn next(&mut self) -> Result<u8> {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return Err(Error::Invalid);
        }
        let c = self.peek().ok_or(Error::End)?;
        self.pos += 1;
        Ok(c)
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn print(&mut self, print: bool, s: &str) -> Result {
        if print {
            self.out.write_str(s)?;
        }
        Ok(())
    }

    /// Runs `f` one level deeper, within [`MAX_DEPTH`].
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        if self.depth >= MAX_DEPTH {
            return Err(Error::Invalid);
        }
        self.depth += 1;
        let r = f(self);
        self.depth -= 1;
        r
    }

    /// `<base-62-number>`: `_` is 0, digits then `_` are their value plus one.
    fn base62(&mut self) -> Result<u64> {
        if self.eat(b'_') {
            return Ok(0);
        }
        let mut x: u64 = 0;
        loop {
            let c = self.next()?;
            let d = match c {
                b'_' => return x.checked_add(1).ok_or(Error::Invalid),
                b'0'..=b'9' => c - b'0',
                b'a'..=b'z' => 10 + (c - b'a'),
                b'A'..=b'Z' => 36 + (c - b'A'),
                _ => return Err(Error::Invalid),
            };
            x = x
                .checked_mul(62)
                .and_then(|x| x.checked_add(u64::from(d)))
                .ok_or(Error::Invalid)?;
        }
    }

    /// An optional `tag <base-62-number>`: 0 when absent, else the number plus one.
    fn opt_base62(&mut self, tag: u8) -> Result<u64> {
        if !self.eat(tag) {
            return Ok(0);
        }
        self.base62()?.checked_add(1).ok_or(Error::Invalid)
    }

    /// `<decimal-number>`: no leading zeros.
    fn decimal(&mut self) -> Result<usize> {
        let first = self.next()?;
        if !first.is_ascii_digit() {
            return Err(Error::Invalid);
        }
        let mut x = usize::from(first - b'0');
        if x == 0 {
            return Ok(0);
        }
        while let Some(c @ b'0'..=b'9') = self.peek() {
            self.pos += 1;
            x = x
                .checked_mul(10)
                .and_then(|x| x.checked_add(usize::from(c - b'0')))
                .ok_or(Error::Invalid)?;
        }
        Ok(x)
    }

    /// `<identifier>`: a length, an optional `_`, the bytes (ASCII only: no punycode).
    fn ident(&mut self) -> Result<&'s str> {
        if self.peek() == Some(b'u') {
            return Err(Error::Invalid);
        }
        let len = self.decimal()?;
        self.eat(b'_');
        let end = self.pos.checked_add(len).ok_or(Error::Invalid)?;
        let bytes = self.sym.get(self.pos..end).ok_or(Error::End)?;
        if !bytes
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return Err(Error::Invalid);
        }
        self.pos = end;
        core::str::from_utf8(bytes).map_err(|_| Error::Invalid)
    }

    /// `B <base-62-number>`: reads at an earlier position (when printing) or skips it.
    fn backref(&mut self, print: bool, f: impl FnOnce(&mut Self) -> Result) -> Result {
        let start = self.pos.checked_sub(1).ok_or(Error::Invalid)?;
        let target = usize::try_from(self.base62()?).map_err(|_| Error::Invalid)?;
        if target >= start {
            return Err(Error::Invalid);
        }
        if !print {
            return Ok(());
        }
        let back = self.pos;
        self.pos = target;
        let r = self.nested(f);
        self.pos = back;
        r
    }

    /// `<path>`; `in_value` for a function's path, where generics are written `::<..>`.
    fn path(&mut self, print: bool, in_value: bool) -> Result {
        self.nested(|d| d.path_inner(print, in_value))
    }

    fn path_inner(&mut self, print: bool, in_value: bool) -> Result {
        match self.next()? {
            b'C' => {
                self.opt_base62(b's')?;
                let name = self.ident()?;
                self.print(print, name)
            }
            b'N' => {
                let ns = self.next()?;
                if !ns.is_ascii_alphabetic() {
                    return Err(Error::Invalid);
                }
                self.path(print, in_value)?;
                let dis = self.opt_base62(b's')?;
                let name = self.ident()?;
                if !print {
                    return Ok(());
                }
                if ns.is_ascii_lowercase() {
                    if !name.is_empty() {
                        self.out.write_str("::")?;
                        self.out.write_str(name)?;
                    }
                    return Ok(());
                }
                self.out.write_str("::{")?;
                match ns {
                    b'C' => self.out.write_str("closure")?,
                    b'S' => self.out.write_str("shim")?,
                    _ => self.out.write_char(char::from(ns))?,
                }
                if !name.is_empty() {
                    self.out.write_char(':')?;
                    self.out.write_str(name)?;
                }
                write!(self.out, "#{dis}}}")?;
                Ok(())
            }
            b'M' => {
                self.opt_base62(b's')?;
                self.path(false, false)?;
                self.print(print, "<")?;
                self.ty(print)?;
                self.print(print, ">")
            }
            b'X' => {
                self.opt_base62(b's')?;
                self.path(false, false)?;
                self.trait_impl(print)
            }
            b'Y' => self.trait_impl(print),
            b'I' => {
                self.path(print, in_value)?;
                self.print(print, if in_value { "::<..>" } else { "<..>" })?;
                while !self.eat(b'E') {
                    self.nested(|d| d.generic_arg())?;
                }
                Ok(())
            }
            b'B' => self.backref(print, |d| d.path_inner(print, in_value)),
            _ => Err(Error::Invalid),
        }
    }

    /// `<type> <path>` of a trait impl: `<Type as Trait>`.
    fn trait_impl(&mut self, print: bool) -> Result {
        self.print(print, "<")?;
        self.ty(print)?;
        self.print(print, " as ")?;
        self.path(print, false)?;
        self.print(print, ">")
    }

    /// `<generic-arg>`: a lifetime, a constant or a type, never printed.
    fn generic_arg(&mut self) -> Result {
        if self.eat(b'L') {
            self.base62().map(|_| ())
        } else if self.eat(b'K') {
            self.constant()
        } else {
            self.ty(false)
        }
    }

    /// `<const>`, never printed: a placeholder, a back reference or an integer, `bool` or
    /// `char` value.
    fn constant(&mut self) -> Result {
        match self.next()? {
            b'p' => Ok(()),
            b'B' => self.backref(false, |_| Ok(())),
            b'a' | b'b' | b'c' | b'h' | b'i' | b'j' | b'l' | b'm' | b'n' | b'o' | b's' | b't'
            | b'x' | b'y' => {
                self.eat(b'n');
                loop {
                    match self.next()? {
                        b'_' => return Ok(()),
                        b'0'..=b'9' | b'a'..=b'f' => {}
                        _ => return Err(Error::Invalid),
                    }
                }
            }
            _ => Err(Error::Invalid),
        }
    }

    /// `<type>`.
    fn ty(&mut self, print: bool) -> Result {
        self.nested(|d| d.ty_inner(print))
    }

    fn ty_inner(&mut self, print: bool) -> Result {
        let c = self.next()?;
        if let Some(name) = basic_type(c) {
            return self.print(print, name);
        }
        match c {
            b'R' | b'Q' => {
                self.print(print, if c == b'R' { "&" } else { "&mut " })?;
                if self.eat(b'L') {
                    self.base62()?;
                }
                self.ty(print)
            }
            b'P' | b'O' => {
                self.print(print, if c == b'P' { "*const " } else { "*mut " })?;
                self.ty(print)
            }
            b'S' => {
                self.print(print, "[")?;
                self.ty(print)?;
                self.print(print, "]")
            }
            b'A' => {
                self.print(print, "[")?;
                self.ty(print)?;
                self.print(print, "; _]")?;
                self.constant()
            }
            b'T' => {
                self.print(print, "(")?;
                let mut n = 0;
                while !self.eat(b'E') {
                    if n != 0 {
                        self.print(print, ", ")?;
                    }
                    self.ty(print)?;
                    n += 1;
                }
                self.print(print, if n == 1 { ",)" } else { ")" })
            }
            b'F' if !print => self.fn_sig(),
            b'D' => self.dyn_bounds(print),
            b'B' => self.backref(print, |d| d.ty_inner(print)),
            b'C' | b'M' | b'X' | b'Y' | b'N' | b'I' => {
                self.pos -= 1;
                self.path_inner(print, false)
            }
            _ => Err(Error::Invalid),
        }
    }

    /// `<fn-sig>`, skipped: binder, `unsafe`, ABI, argument types, return type.
    fn fn_sig(&mut self) -> Result {
        if self.eat(b'G') {
            self.base62()?;
        }
        self.eat(b'U');
        if self.eat(b'K') && !self.eat(b'C') {
            self.ident()?;
        }
        while !self.eat(b'E') {
            self.ty(false)?;
        }
        self.ty(false)
    }

    /// `<dyn-bounds> <lifetime>`: `dyn Trait + Trait`, associated type bindings elided as
    /// `<..>`.
    fn dyn_bounds(&mut self, print: bool) -> Result {
        if self.eat(b'G') {
            self.base62()?;
        }
        self.print(print, "dyn ")?;
        let mut n = 0;
        while !self.eat(b'E') {
            if n != 0 {
                self.print(print, " + ")?;
            }
            self.path(print, false)?;
            let mut bindings = 0;
            while self.eat(b'p') {
                self.ident()?;
                self.ty(false)?;
                bindings += 1;
            }
            if bindings != 0 {
                self.print(print, "<..>")?;
            }
            n += 1;
        }
        if self.next()? != b'L' {
            return Err(Error::Invalid);
        }
        self.base62().map(|_| ())
    }
}

#[cfg(kintrospect_kunit)]
#[kernel::macros::kunit_tests(kintrospect_demangle)]
mod tests {
    use super::*;
    use kernel::{
        prelude::*,
        str::CString, //
    };

    /// A symbol's text as [`write`] shows it.
    struct Shown<'a>(&'a [u8]);

    impl fmt::Display for Shown<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write(f, self.0)
        }
    }

    fn shown(text: &[u8]) -> kernel::error::Result<CString> {
        CString::try_from_fmt(fmt!("{}", Shown(text)))
    }

    // Real symbols of kintrospect.ko and of the kernel's Rust crates (`nm`, rustc 1.96).

    #[test]
    fn nested_paths_lose_their_crate_hash() -> kernel::error::Result {
        assert_eq!(
            shown(b"_RNvNtCsjsgonXbPYzo_16kintrospect_main8testpath4spin")?.to_bytes(),
            b"kintrospect_main::testpath::spin"
        );
        Ok(())
    }

    #[test]
    fn offset_size_and_module_are_kept() -> kernel::error::Result {
        assert_eq!(
            shown(
                b"_RNvNtCsjsgonXbPYzo_16kintrospect_main5files9show_cpus+0x1a/0x240 [kintrospect]"
            )?
            .to_bytes(),
            b"kintrospect_main::files::show_cpus+0x1a/0x240 [kintrospect]"
        );
        Ok(())
    }

    #[test]
    fn generic_arguments_are_elided() -> kernel::error::Result {
        assert_eq!(
            shown(b"_RINvNtNtCsjsgonXbPYzo_16kintrospect_main4slab5parse8keep_topKj3_EB6_")?
                .to_bytes(),
            b"kintrospect_main::slab::parse::keep_top::<..>"
        );
        assert_eq!(
            shown(
                b"_RINvNtCsjsgonXbPYzo_16kintrospect_main4cpus12write_symbolNtNtCs2DxGA1hvVcO_\
                  4core3fmt9FormatterEB4_+0x5/0x80 [kintrospect]"
            )?
            .to_bytes(),
            b"kintrospect_main::cpus::write_symbol::<..>+0x5/0x80 [kintrospect]"
        );
        Ok(())
    }

    #[test]
    fn inherent_impls_show_their_type() -> kernel::error::Result {
        assert_eq!(
            shown(b"_RNvMs0_NtCsl7L7n58I0Vr_6kernel4syncNtB5_12LockClassKey10new_static")?
                .to_bytes(),
            b"<kernel::sync::LockClassKey>::new_static"
        );
        assert_eq!(
            shown(
                b"_RNvMNtCs2DxGA1hvVcO_4core5sliceSNtNtCsjsgonXbPYzo_16kintrospect_main4slab5\
                  Delta14swap_uncheckedBy_"
            )?
            .to_bytes(),
            b"<[kintrospect_main::slab::Delta]>::swap_unchecked"
        );
        Ok(())
    }

    #[test]
    fn trait_impls_show_type_and_trait() -> kernel::error::Result {
        assert_eq!(
            shown(
                b"_RNvXNtCsjsgonXbPYzo_16kintrospect_main4jsonNtB2_3StrNtNtCsl7L7n58I0Vr_6kernel\
                  3fmt7Display3fmt"
            )?
            .to_bytes(),
            b"<kintrospect_main::json::Str as kernel::fmt::Display>::fmt"
        );
        assert_eq!(
            shown(
                b"_RNvXNtNtCsjsgonXbPYzo_16kintrospect_main5locks6formatINtB2_4TextNtNtB2_5tests\
                  11FakeSymbolsENtNtCsl7L7n58I0Vr_6kernel3fmt7Display3fmtB6_"
            )?
            .to_bytes(),
            b"<kintrospect_main::locks::format::Text<..> as kernel::fmt::Display>::fmt"
        );
        assert_eq!(
            shown(b"_RNvXs_NtCs2DxGA1hvVcO_4core3anyDNtB4_3AnyEL_NtNtB6_3fmt5Debug3fmt")?
                .to_bytes(),
            b"<dyn core::any::Any as core::fmt::Debug>::fmt"
        );
        Ok(())
    }

    #[test]
    fn closures_are_numbered() -> kernel::error::Result {
        assert_eq!(
            shown(
                b"_RNCNvNvXsa_NtCs2DxGA1hvVcO_4core4timeNtB9_8DurationNtNtBb_3fmt5Debug3fmt11\
                  fmt_decimals_0Bb_"
            )?
            .to_bytes(),
            b"<core::time::Duration as core::fmt::Debug>::fmt::fmt_decimal::{closure#1}"
        );
        Ok(())
    }

    #[test]
    fn types_namespaces_and_disambiguators() -> kernel::error::Result {
        for (sym, want) in [
            // A primitive's inherent impl.
            (
                &b"_RNvMNtCs1a_4core3numj12wrapping_add"[..],
                &b"<usize>::wrapping_add"[..],
            ),
            // A reference type's trait impl; the trait's crate by back reference.
            (
                b"_RNvXCs1a_3fooRhNtB2_4Show4show",
                b"<&u8 as foo::Show>::show",
            ),
            // Tuples, one-element tuples, arrays, raw and &mut pointers with a lifetime.
            (b"_RNvMCs1a_3fooThjE3new", b"<(u8, usize)>::new"),
            (b"_RNvMCs1a_3fooThE3new", b"<(u8,)>::new"),
            (b"_RNvMCs1a_3fooAhj4_3new", b"<[u8; _]>::new"),
            (b"_RNvMCs1a_3fooOh3new", b"<*mut u8>::new"),
            (b"_RNvMCs1a_3fooQL_h3new", b"<&mut u8>::new"),
            // A shim, and an identifier with its own disambiguator.
            (b"_RNSNvCs1a_3foo3bar6vtable", b"foo::bar::{shim:vtable#0}"),
            (b"_RNvNtCs1a_3foos_3bar3baz", b"foo::bar::baz"),
        ] {
            assert_eq!(shown(sym)?.to_bytes(), want);
        }
        Ok(())
    }

    #[test]
    fn vendor_suffix_is_kept() -> kernel::error::Result {
        assert_eq!(
            shown(b"_RNvNtCsjsgonXbPYzo_16kintrospect_main8testpath4spin.cold+0x0/0x10")?
                .to_bytes(),
            b"kintrospect_main::testpath::spin.cold+0x0/0x10"
        );
        Ok(())
    }

    #[test]
    fn names_cut_short_show_their_start() -> kernel::error::Result {
        // As rust/c/nmi.c keeps a name too long for its record: its start, "...", the offset.
        assert_eq!(
            shown(
                b"_RNvXs6_NtCsl7L7n58I0Vr_6kernel3fmtINtB5_7AdapterRINtNtNtCsjsgonXbPYzo_16kintro\
                  spect_main6bridge12reg...+0xe/0x13 [kintrospect]"
            )?
            .to_bytes(),
            b"<kernel::fmt::Adapter<..>...+0xe/0x13 [kintrospect]"
        );
        assert_eq!(
            shown(b"_RNvNtCsjsgonXbPYzo_16kintrospect_main8testpa...+0x1d/0x80 [kintrospect]")?
                .to_bytes(),
            b"kintrospect_main...+0x1d/0x80 [kintrospect]"
        );
        // Without "..." a name that ends early is not a name.
        assert_eq!(
            shown(b"_RNvNtCsjsgonXbPYzo_16kintrospect_main8testpa+0x1d/0x80")?.to_bytes(),
            b"_RNvNtCsjsgonXbPYzo_16kintrospect_main8testpa+0x1d/0x80"
        );
        Ok(())
    }

    #[test]
    fn other_names_are_left_as_they_are() -> kernel::error::Result {
        assert_eq!(
            shown(b"kintrospect_test_spin_loop+0x12/0x30 [kintrospect]")?.to_bytes(),
            b"kintrospect_test_spin_loop+0x12/0x30 [kintrospect]"
        );
        // A legacy name, a version prefix, punycode, a truncated name, a back reference that
        // does not point backwards, an empty one, nothing.
        for sym in [
            &b"_ZN4core3fmt5write17h0123456789abcdefE"[..],
            b"_R0NvC3foo3bar",
            b"_RNvC3foou3bar",
            b"_RNvNtCsjsgonXbPYzo_16kintrospect_main8testpath4sp",
            b"_RNvNtB0_5files4spin",
            b"_R",
            b"",
        ] {
            assert_eq!(shown(sym)?.to_bytes(), sym);
        }
        assert_eq!(
            shown(b"bad\x01name\xff+0x1/0x2")?.to_bytes(),
            b"bad?name?+0x1/0x2"
        );
        Ok(())
    }

    #[test]
    fn deep_nesting_is_cut_off() -> kernel::error::Result {
        // 40 nested paths: deeper than MAX_DEPTH, so the symbol stays as it is.
        const DEEP: &[u8] =
            b"_RNvNvNvNvNvNvNvNvNvNvNvNvNvNvNvNvNvNvNvNvNvNvNvNvNvNvNvNvNvNvNvNvNvNv\
                              NvNvNvNvNvNvC1a1b1c1d1e1f1g1h1i1j1k1l1m1n1o1p1q1r1s1t1u1v1w1x1y1z1A1B\
                              1C1D1E1F1G1H1I1J1K1L1M1N";
        assert_eq!(shown(DEEP)?.to_bytes(), DEEP);
        Ok(())
    }
}
