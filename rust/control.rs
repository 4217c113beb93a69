// SPDX-License-Identifier: GPL-2.0

//! The `control` file's command language.
//!
//! One command per write, words separated by blanks, an optional trailing newline. Anything
//! that is not exactly a known command is rejected with `EINVAL` before anything is done.

use kernel::prelude::*;

/// Longest write `control` accepts: all of it reaches the parser.
pub(crate) const MAX_LEN: usize = crate::bridge::MAX_WRITE;

/// A parsed write to `test/leak`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Leak {
    /// `N` (1..=[`LEAK_MAX`]): allocate and keep N more objects.
    Alloc(u32),
    /// `free`: free every kept object.
    Free,
}

/// Most objects one write to `test/leak` allocates (`KINTROSPECT_LEAK_MAX`).
pub(crate) const LEAK_MAX: u32 = 1_000_000;

/// Parses one command: the entry of `commands` whose words (`"snapshot slab sites"`) the
/// input's words are exactly; `EINVAL` for anything else.
///
/// The command table belongs to the module state (`rust/files.rs`): a new report adds its
/// `snapshot` command there, not here.
pub(crate) fn parse<'t, T>(input: &[u8], commands: &'t [(&'static str, T)]) -> Result<&'t T> {
    let words = split(input)?;
    commands
        .iter()
        .find(|(command, _)| {
            let mut want = command.split(' ');
            let mut got = words.clone();
            loop {
                match (want.next(), got.next()) {
                    (None, None) => return true,
                    (Some(w), Some(g)) if w == g => continue,
                    _ => return false,
                }
            }
        })
        .map(|(_, what)| what)
        .ok_or(EINVAL)
}

/// The words of one command line: at most [`MAX_LEN`] bytes of UTF-8, an optional trailing
/// newline and no other; `EINVAL` otherwise.
fn split(input: &[u8]) -> Result<impl Iterator<Item = &str> + Clone> {
    if input.len() > MAX_LEN {
        return Err(EINVAL);
    }
    let text = core::str::from_utf8(input).map_err(|_| EINVAL)?;
    let text = text.strip_suffix('\n').unwrap_or(text);
    if text.contains('\n') {
        return Err(EINVAL);
    }
    Ok(text.split([' ', '\t']).filter(|w| !w.is_empty()))
}

/// Parses a write to `test/leak`: a decimal count (1..=[`LEAK_MAX`]) or `free`; `EINVAL`
/// for anything else.
pub(crate) fn parse_leak(input: &[u8]) -> Result<Leak> {
    let mut words = split(input)?;
    let leak = match words.next() {
        Some("free") => Leak::Free,
        Some(n) if n.bytes().all(|b| b.is_ascii_digit()) && n.len() <= 7 => {
            match n.parse::<u32>() {
                Ok(n @ 1..=LEAK_MAX) => Leak::Alloc(n),
                _ => return Err(EINVAL),
            }
        }
        _ => return Err(EINVAL),
    };
    if words.next().is_some() {
        return Err(EINVAL);
    }
    Ok(leak)
}

#[cfg(kintrospect_kunit)]
#[kernel::macros::kunit_tests(kintrospect_control)]
mod tests {
    use super::*;

    /// The commands `rust/files.rs` lists, as a table of names.
    const COMMANDS: &[(&str, &str)] = &[
        ("snapshot cpus", "cpus"),
        ("snapshot locks", "locks"),
        ("snapshot slab", "slab"),
        ("snapshot slab sites", "slab sites"),
        ("snapshot all", "all"),
        ("baseline", "baseline"),
    ];

    fn cmd(input: &[u8]) -> Result<&'static str> {
        parse(input, COMMANDS).copied()
    }

    #[test]
    fn accepts_every_snapshot() {
        assert_eq!(cmd(b"snapshot locks\n"), Ok("locks"));
        assert_eq!(cmd(b"snapshot all"), Ok("all"));
        assert_eq!(cmd(b"snapshot cpus"), Ok("cpus"));
        assert_eq!(cmd(b"snapshot cpus\n"), Ok("cpus"));
        assert_eq!(cmd(b"  snapshot\tcpus "), Ok("cpus"));
    }

    #[test]
    fn accepts_the_slab_commands() {
        assert_eq!(cmd(b"snapshot slab\n"), Ok("slab"));
        assert_eq!(cmd(b"snapshot slab sites\n"), Ok("slab sites"));
        assert_eq!(cmd(b"baseline\n"), Ok("baseline"));
        assert_eq!(cmd(b" baseline "), Ok("baseline"));
        for bad in [
            &b"baseline now"[..],
            b"baseline\n\n",
            b"snapshot slabs",
            b"snapshot slab 1",
            b"snapshot slab sites now",
            b"snapshot slab site",
            b"snapshot sites",
            b"Baseline",
        ] {
            assert_eq!(cmd(bad), Err(EINVAL));
        }
    }

    #[test]
    fn parses_leak_writes() {
        assert_eq!(parse_leak(b"1000\n"), Ok(Leak::Alloc(1000)));
        assert_eq!(parse_leak(b"1"), Ok(Leak::Alloc(1)));
        assert_eq!(parse_leak(b"1000000"), Ok(Leak::Alloc(LEAK_MAX)));
        assert_eq!(parse_leak(b"free\n"), Ok(Leak::Free));
        for bad in [
            &b""[..],
            b"0",
            b"1000001",
            b"99999999999",
            b"-1",
            b"+5",
            b"0x10",
            b"10 20",
            b"free all",
            b"FREE",
            b"12\n\n",
            b"1e3",
        ] {
            assert_eq!(parse_leak(bad), Err(EINVAL));
        }
    }

    #[test]
    fn rejects_everything_else() {
        for bad in [
            &b""[..],
            b"\n",
            b"snapshot",
            b"snapshot cpu",
            b"Snapshot cpus",
            b"snapshot cpus extra",
            b"snapshot lock",
            b"snapshot all all",
            b"snapshot cpus\nsnapshot cpus\n",
            b"snapshot cpus\n\n",
            b"snapshot\xff cpus",
            b"snapshot\0cpus",
        ] {
            assert_eq!(cmd(bad), Err(EINVAL));
        }
    }

    #[test]
    fn rejects_overlong_writes() {
        let mut long = [b' '; MAX_LEN + 1];
        for (d, s) in long.iter_mut().zip(b"snapshot cpus") {
            *d = *s;
        }
        assert_eq!(cmd(&long), Err(EINVAL));
        assert_eq!(cmd(&long[..MAX_LEN]), Ok("cpus"));
    }
}
