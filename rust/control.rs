// SPDX-License-Identifier: GPL-2.0

//! The `control` file's command language.
//!
//! One command per write, words separated by blanks, an optional trailing newline. Anything
//! that is not exactly a known command is rejected with `EINVAL` before anything is done.

use kernel::prelude::*;

/// Longest write `control` accepts: all of it reaches the parser.
pub(crate) const MAX_LEN: usize = crate::bridge::MAX_WRITE;

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
