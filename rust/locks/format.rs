// SPDX-License-Identifier: GPL-2.0

//! The `locks` (text) and `locks.json` formats of a locks snapshot.

use super::Snapshot;
use crate::{
    bridge::{
        RawHeld,
        RawTask, //
    },
    cpus::{
        self,
        Symbols, //
    },
    json,
};
use kernel::fmt::{
    self,
    Display,
    Write, //
};

/// Hops followed from a blocked thread towards the final holder.
const MAX_CHAIN: usize = 16;

/// `enum kintrospect_lock_kind` as shown.
fn kind_name(kind: u32) -> &'static str {
    match kind {
        1 => "spinlock",
        2 => "mutex",
        3 => "semaphore",
        4 => "rwsem-read",
        5 => "rwsem-write",
        6 => "sleeping",
        7 => "other",
        _ => "none",
    }
}

/// lockdep's `held_lock.read` as shown.
fn mode_name(mode: u32) -> &'static str {
    match mode {
        0 => "write",
        1 => "read",
        _ => "recursive-read",
    }
}

/// A NUL-terminated lock name.
fn name_bytes(name: &[u8]) -> &[u8] {
    let n = name.iter().position(|&b| b == 0).unwrap_or(name.len());
    if n == 0 {
        b"(unnamed)"
    } else {
        &name[..n]
    }
}

/// Writes a lock name for people: printable ASCII, anything else as `?`.
fn write_name(w: &mut impl Write, name: &[u8]) -> fmt::Result {
    for &b in name_bytes(name) {
        w.write_char(if (0x20..0x7f).contains(&b) {
            char::from(b)
        } else {
            '?'
        })?;
    }
    Ok(())
}

/// Writes `pid N (comm)`.
fn write_task(w: &mut impl Write, t: &RawTask) -> fmt::Result {
    write!(w, "pid {} (", t.pid)?;
    cpus::write_comm(w, &t.comm)?;
    w.write_char(')')
}

/// Writes `pid N (comm) state S cpu C`.
fn write_task_state(w: &mut impl Write, t: &RawTask) -> fmt::Result {
    write_task(w, t)?;
    write!(w, " state {} cpu {}", state_char(t), t.cpu)
}

fn state_char(t: &RawTask) -> char {
    char::from_u32(t.state)
        .filter(char::is_ascii_graphic)
        .unwrap_or('?')
}

/// Writes what thread `t` waits for: `mutex NAME`.
fn write_blocked(w: &mut impl Write, t: &RawTask) -> fmt::Result {
    write!(w, "{} ", kind_name(t.blocked_kind))?;
    write_name(w, &t.blocked_name)
}

/// The `locks` file: deadlocks first, then blocked threads with their chain to the holder,
/// then the other holders.
pub(crate) struct Text<'a, S: Symbols>(pub(crate) &'a Snapshot, pub(crate) &'a S);

impl<S: Symbols> Display for Text<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Text(snap, syms) = self;
        let info = &snap.info;
        writeln!(
            f,
            "locks snapshot {} at {}.{:09} s: {} threads, {} holding or waiting; lockdep {}",
            snap.seq,
            info.taken_ns / 1_000_000_000,
            info.taken_ns % 1_000_000_000,
            info.nr_threads,
            info.nr_tasks,
            if info.lockdep != 0 { "yes" } else { "no" }
        )?;

        if snap.cycles.is_empty() {
            writeln!(f, "\nno deadlock")?;
        }
        for (n, cycle) in snap.cycles.iter().enumerate() {
            write!(f, "\nDEADLOCK {}:", n + 1)?;
            for &i in cycle.iter() {
                let t = &snap.tasks[i];
                f.write_str("\n  ")?;
                write_task(f, t)?;
                f.write_str(" waits for ")?;
                write_blocked(f, t)?;
                f.write_str(" held by ")?;
                match snap.next[i] {
                    Some(o) => write_task(f, &snap.tasks[o])?,
                    None => write!(f, "pid {}", t.blocked_owner_pid)?,
                }
            }
            f.write_char('\n')?;
        }

        let mut heading = false;
        for (i, t) in snap.tasks.iter().enumerate() {
            if t.blocked_kind == 0 {
                continue;
            }
            if !heading {
                f.write_str("\nblocked:\n")?;
                heading = true;
            }
            f.write_str("  ")?;
            write_task_state(f, t)?;
            f.write_str(" waits for ")?;
            write_blocked(f, t)?;
            self.chain(f, i)?;
            f.write_char('\n')?;
        }

        let mut heading = false;
        let mut buf = [0u8; cpus::SYMBOL_LEN];
        for (i, t) in snap.tasks.iter().enumerate() {
            let held = snap.held_by(i);
            if held.is_empty() {
                continue;
            }
            if !heading {
                f.write_str("\nholders:\n")?;
                heading = true;
            }
            f.write_str("  ")?;
            write_task_state(f, t)?;
            f.write_char('\n')?;
            for h in held {
                f.write_str("    ")?;
                write_name(f, &h.name)?;
                write!(
                    f,
                    " ({}, {}) acquired at ",
                    kind_name(h.kind),
                    mode_name(h.mode)
                )?;
                cpus::write_symbol(f, syms.name(h.acquire_ip, true, &mut buf))?;
                if h.held_ns != 0 {
                    write!(
                        f,
                        ", held {}.{:03} ms",
                        h.held_ns / 1_000_000,
                        h.held_ns / 1_000 % 1_000
                    )?;
                }
                f.write_char('\n')?;
            }
            if t.held_dropped != 0 {
                writeln!(f, "    ... {} more not recorded", t.held_dropped)?;
            }
        }
        writeln!(
            f,
            "\ndropped: {} threads, {} locks",
            info.tasks_dropped, info.held_dropped
        )
    }
}

impl<S: Symbols> Text<'_, S> {
    /// Writes ` -> holder -> ...` from thread `i` to the thread at the end of its chain.
    fn chain(&self, f: &mut fmt::Formatter<'_>, i: usize) -> fmt::Result {
        let snap = self.0;
        let mut at = i;
        for _ in 0..MAX_CHAIN {
            let t = &snap.tasks[at];
            f.write_str(" -> ")?;
            let Some(o) = snap.next[at] else {
                return match t.blocked_owner_pid {
                    pid if pid >= 0 => write!(f, "pid {pid} (not holding any recorded lock)"),
                    _ => f.write_str("owner unknown"),
                };
            };
            let owner = &snap.tasks[o];
            write_task_state(f, owner)?;
            if snap.in_cycle(o) && snap.in_cycle(i) {
                return f.write_str(" [deadlock]");
            }
            if owner.blocked_kind == 0 || o == i {
                return Ok(());
            }
            f.write_str(", which waits for ")?;
            write_blocked(f, owner)?;
            at = o;
        }
        f.write_str(" -> ...")
    }
}

/// The `locks.json` file: the same snapshot as one JSON document.
pub(crate) struct Json<'a, S: Symbols>(pub(crate) &'a Snapshot, pub(crate) &'a S);

impl<S: Symbols> Display for Json<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Json(snap, syms) = self;
        let info = &snap.info;
        write!(
            f,
            "{{\"seq\":{},\"taken_ns\":{},\"lockdep\":{},\"threads\":{},\"tasks\":[",
            snap.seq,
            info.taken_ns,
            json::bool_str(info.lockdep != 0),
            info.nr_threads
        )?;
        let mut buf = [0u8; cpus::SYMBOL_LEN];
        for (i, t) in snap.tasks.iter().enumerate() {
            if i != 0 {
                f.write_char(',')?;
            }
            write!(f, "{{\"pid\":{},\"tgid\":{},\"comm\":", t.pid, t.tgid)?;
            Display::fmt(&json::Str(cpus::comm_bytes(&t.comm)), f)?;
            write!(
                f,
                ",\"state\":\"{}\",\"cpu\":{},\"held\":[",
                state_char(t),
                t.cpu
            )?;
            for (n, h) in snap.held_by(i).iter().enumerate() {
                write_held(f, h, n != 0, *syms, &mut buf)?;
            }
            f.write_str("],\"blocked_on\":")?;
            if t.blocked_kind == 0 {
                f.write_str("null")?;
            } else {
                write!(f, "{{\"kind\":\"{}\",\"name\":", kind_name(t.blocked_kind))?;
                Display::fmt(&json::Str(name_bytes(&t.blocked_name)), f)?;
                f.write_str(",\"owner_pid\":")?;
                write_opt(f, t.blocked_owner_pid)?;
                f.write_str(",\"owner_cpu\":")?;
                write_opt(f, t.blocked_owner_cpu)?;
                f.write_char('}')?;
            }
            f.write_char('}')?;
        }
        f.write_str("],\"cycles\":[")?;
        for (n, cycle) in snap.cycles.iter().enumerate() {
            f.write_str(if n == 0 { "[" } else { ",[" })?;
            for (k, &i) in cycle.iter().enumerate() {
                if k != 0 {
                    f.write_char(',')?;
                }
                write!(f, "{}", snap.tasks[i].pid)?;
            }
            f.write_char(']')?;
        }
        writeln!(
            f,
            "],\"dropped\":{{\"tasks\":{},\"locks\":{}}}}}",
            info.tasks_dropped, info.held_dropped
        )
    }
}

/// Writes a number, or `null` when negative (unknown).
fn write_opt(f: &mut fmt::Formatter<'_>, v: i32) -> fmt::Result {
    if v < 0 {
        f.write_str("null")
    } else {
        write!(f, "{v}")
    }
}

/// Writes one held lock as a JSON object.
fn write_held<S: Symbols + ?Sized>(
    f: &mut fmt::Formatter<'_>,
    h: &RawHeld,
    comma: bool,
    syms: &S,
    buf: &mut [u8],
) -> fmt::Result {
    f.write_str(if comma { ",{\"name\":" } else { "{\"name\":" })?;
    Display::fmt(&json::Str(name_bytes(&h.name)), f)?;
    write!(
        f,
        ",\"kind\":\"{}\",\"mode\":\"{}\",\"acquired_at\":",
        kind_name(h.kind),
        mode_name(h.mode)
    )?;
    Display::fmt(&json::Str(syms.name(h.acquire_ip, true, buf)), f)?;
    if h.held_ns == 0 {
        f.write_str(",\"held_ns\":null}")
    } else {
        write!(f, ",\"held_ns\":{}}}", h.held_ns)
    }
}
