// SPDX-License-Identifier: GPL-2.0

//! The `control` file's command language.
//!
//! One command per write, words separated by blanks, an optional trailing newline. Anything
//! that is not exactly a known command is rejected with `EINVAL` before anything is done.

use kernel::prelude::*;

/// Longest write `control` accepts: all of it reaches the parser.
pub(crate) const MAX_LEN: usize = crate::bridge::MAX_WRITE;

/// A parsed `control` command.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Command {
    /// `snapshot WHAT`: take a snapshot.
    Snapshot(What),
    /// `baseline`: record a new slab baseline.
    Baseline,
}

/// What `snapshot` takes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum What {
    /// `cpus`: what every CPU runs, by NMI.
    Cpus,
    /// `locks`: lock holders and waiters.
    Locks,
    /// `slab`: a slab sample compared with the baseline.
    Slab,
    /// `slab sites`: a slab sample and the allocation sites of its top growers and suspects
    /// (costly: see `rust/slab/sites.rs`).
    SlabSites,
    /// `all`: every kind of snapshot.
    All,
}

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

/// Parses one command; `EINVAL` for anything else.
pub(crate) fn parse(input: &[u8]) -> Result<Command> {
    let mut words = split(input)?;
    let command = match (words.next(), words.next()) {
        (Some("snapshot"), Some("cpus")) => Command::Snapshot(What::Cpus),
        (Some("snapshot"), Some("locks")) => Command::Snapshot(What::Locks),
        (Some("snapshot"), Some("slab")) => match words.next() {
            None => return Ok(Command::Snapshot(What::Slab)),
            Some("sites") => Command::Snapshot(What::SlabSites),
            Some(_) => return Err(EINVAL),
        },
        (Some("snapshot"), Some("all")) => Command::Snapshot(What::All),
        (Some("baseline"), None) => return Ok(Command::Baseline),
        _ => return Err(EINVAL),
    };
    if words.next().is_some() {
        return Err(EINVAL);
    }
    Ok(command)
}

/// The words of one command line: at most [`MAX_LEN`] bytes of UTF-8, an optional trailing
/// newline and no other; `EINVAL` otherwise.
fn split(input: &[u8]) -> Result<impl Iterator<Item = &str>> {
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

    #[test]
    fn accepts_every_snapshot() {
        assert_eq!(
            parse(b"snapshot locks\n"),
            Ok(Command::Snapshot(What::Locks))
        );
        assert_eq!(parse(b"snapshot all"), Ok(Command::Snapshot(What::All)));
        assert_eq!(parse(b"snapshot cpus"), Ok(Command::Snapshot(What::Cpus)));
        assert_eq!(parse(b"snapshot cpus\n"), Ok(Command::Snapshot(What::Cpus)));
        assert_eq!(
            parse(b"  snapshot\tcpus "),
            Ok(Command::Snapshot(What::Cpus))
        );
    }

    #[test]
    fn accepts_the_slab_commands() {
        assert_eq!(parse(b"snapshot slab\n"), Ok(Command::Snapshot(What::Slab)));
        assert_eq!(
            parse(b"snapshot slab sites\n"),
            Ok(Command::Snapshot(What::SlabSites))
        );
        assert_eq!(parse(b"baseline\n"), Ok(Command::Baseline));
        assert_eq!(parse(b" baseline "), Ok(Command::Baseline));
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
            assert_eq!(parse(bad), Err(EINVAL));
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
            assert_eq!(parse(bad), Err(EINVAL));
        }
    }

    #[test]
    fn rejects_overlong_writes() {
        let mut long = [b' '; MAX_LEN + 1];
        for (d, s) in long.iter_mut().zip(b"snapshot cpus") {
            *d = *s;
        }
        assert_eq!(parse(&long), Err(EINVAL));
        assert_eq!(parse(&long[..MAX_LEN]), Ok(Command::Snapshot(What::Cpus)));
    }
}
