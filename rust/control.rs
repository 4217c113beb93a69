// SPDX-License-Identifier: GPL-2.0

//! The `control` file's command language.
//!
//! One command per write, words separated by blanks, an optional trailing newline. Anything
//! that is not exactly a known command is rejected with `EINVAL` before anything is done.

use kernel::prelude::*;

/// Longest write `control` accepts.
pub(crate) const MAX_LEN: usize = 64;

/// A parsed `control` command.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Command {
    /// `snapshot WHAT`: take a snapshot.
    Snapshot(What),
}

/// What `snapshot` takes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum What {
    /// `cpus`: what every CPU runs, by NMI.
    Cpus,
    /// `locks`: lock holders and waiters.
    Locks,
    /// `all`: every kind of snapshot.
    All,
}

/// Parses one command; `EINVAL` for anything else.
pub(crate) fn parse(input: &[u8]) -> Result<Command> {
    if input.len() > MAX_LEN {
        return Err(EINVAL);
    }
    let text = core::str::from_utf8(input).map_err(|_| EINVAL)?;
    let text = text.strip_suffix('\n').unwrap_or(text);
    let mut words = text.split([' ', '\t']).filter(|w| !w.is_empty());
    let command = match (words.next(), words.next()) {
        (Some("snapshot"), Some("cpus")) => Command::Snapshot(What::Cpus),
        (Some("snapshot"), Some("locks")) => Command::Snapshot(What::Locks),
        (Some("snapshot"), Some("all")) => Command::Snapshot(What::All),
        _ => return Err(EINVAL),
    };
    if words.next().is_some() || text.contains('\n') {
        return Err(EINVAL);
    }
    Ok(command)
}

#[kernel::macros::kunit_tests(kintrospect_control)]
mod tests {
    use super::*;

    #[test]
    fn accepts_every_command() {
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
