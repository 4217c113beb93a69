// SPDX-License-Identifier: GPL-2.0

//! The `report` (text) and `report.json` formats.
//!
//! Everything was named when its capture was taken; as in the other files, what has no symbol
//! is shown as its raw address only to a reader `%pK` would show it to, else as `?`.

use super::{
    Report,
    Stuck, //
};
use crate::{
    bridge::{
        LockFlag,
        RawCpu,
        RawHeld,
        RawTask, //
    },
    cpus, json,
    locks::{
        self,
        write_cycles, //
    },
    text::{
        self,
        Reader,
        ADDR_LEN, //
    },
};
use kernel::fmt::{
    self,
    Display,
    Write, //
};

/// Hops followed from a blocked task towards the final holder.
const MAX_CHAIN: usize = 16;

/// Writes a time in ns as seconds with milliseconds: `2.345 s`.
fn write_secs(w: &mut impl Write, ns: u64) -> fmt::Result {
    write!(w, "{}.{:03} s", ns / 1_000_000_000, ns / 1_000_000 % 1_000)
}

/// Writes `Some(n)` as a number, `None` as `null`.
fn write_opt(f: &mut fmt::Formatter<'_>, v: Option<impl core::fmt::Display>) -> fmt::Result {
    match v {
        Some(v) => write!(f, "{v}"),
        None => f.write_str("null"),
    }
}

/// A pid as JSON: `null` when negative (unknown).
fn pid_opt(pid: i32) -> Option<i32> {
    (pid >= 0).then_some(pid)
}

/// The lock of a stuck CPU's record that waiter entry `held` refers to.
fn held_entry(c: &RawCpu, held: usize) -> Option<&RawHeld> {
    c.lock_entries().get(held)
}

/// The `report` file: the joined answer for people, most severe first.
pub(crate) struct Text<'a>(pub(crate) &'a Report, pub(crate) Reader);

impl Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Text(r, reader) = *self;
        let Some(snap) = &r.cpus else {
            return f.write_str("no report yet: write \"snapshot report\" to control\n");
        };
        let taken = snap.info().taken_ns;
        writeln!(
            f,
            "report {} at {}.{:09} s: CPU snapshot {}, locks snapshot {}, slab sample {}; stuck \
             = in the kernel on one task, no switch, no user time, for >= {} ms",
            r.seq,
            taken / 1_000_000_000,
            taken % 1_000_000_000,
            snap.info().seq,
            r.locks.seq,
            r.slab_seq,
            r.stuck_ms
        )?;

        if r.stuck.is_empty() {
            f.write_str("\nno stuck CPU\n")?;
        }
        for s in r.stuck.iter() {
            self.stuck(f, s)?;
        }
        if !r.maybe.is_empty() {
            f.write_str(
                "\nmaybe stuck (kernel mode, time on CPU unknown: no earlier CPU snapshot saw \
                 the task there; report again after stuck_ms):\n",
            )?;
            for &i in r.maybe.iter() {
                if let Some((c, _, _)) = snap.get(i) {
                    write!(f, "  CPU {}: pid {} (", c.cpu, c.pid)?;
                    text::write_comm(f, &c.comm)?;
                    f.write_str(") at ")?;
                    match cpus::frames(c).next() {
                        Some(ip) => ip.write(f, reader)?,
                        None => f.write_char('?')?,
                    }
                    f.write_char('\n')?;
                }
            }
        }
        if !r.no_response.is_empty() {
            f.write_str("\nno answer to the NMI in time:")?;
            for cpu in r.no_response.iter() {
                write!(f, " CPU {cpu}")?;
            }
            f.write_char('\n')?;
        }

        let lt = locks::Text(&r.locks, reader);
        let graph = &r.locks.graph;
        if r.locks.info.lockdep_off != 0 {
            f.write_str("\nlockdep is off: held locks unknown, blocked tasks as far as known\n")?;
        }
        if graph.cycles.is_empty() {
            f.write_str("\nno deadlock\n")?;
        }
        for (n, cycle) in graph.cycles.iter().enumerate() {
            write!(f, "\nDEADLOCK {}:", n + 1)?;
            lt.cycle(f, cycle)?;
        }
        for (n, cycle) in graph.possible.iter().enumerate() {
            write!(
                f,
                "\npossible deadlock {} (through an owner hint, or not confirmed):",
                n + 1
            )?;
            lt.cycle(f, cycle)?;
        }

        let tasks = r.locks.tasks();
        if r.blocked.is_empty() {
            f.write_str("\nno blocked task\n")?;
        } else {
            f.write_str("\nblocked, longest first:\n")?;
        }
        for &i in r.blocked.iter() {
            let t = &tasks[i];
            f.write_str("  ")?;
            locks::write_task_state(f, t)?;
            if t.blocked_ns != 0 {
                f.write_str(", waiting ")?;
                write_secs(f, t.blocked_ns)?;
            }
            f.write_str(": waits for ")?;
            if let Some(kind) = t.blocked() {
                locks::write_blocked(f, t, kind, reader.raw_addresses)?;
            }
            // Not `lt.chain()`: every type is also an initialiser with a `chain` method.
            locks::Text::chain(&lt, f, i)?;
            f.write_char('\n')?;
        }

        if r.suspects.is_empty() {
            f.write_str("\nslab suspects: none")?;
            if !r.slab_periodic {
                f.write_str(" (periodic sampling is off: slab_interval_ms=0)")?;
            }
            f.write_char('\n')?;
        } else {
            f.write_str("\nslab suspects (steady growth), most bytes first:\n")?;
        }
        for d in r.suspects.iter() {
            f.write_str("  ")?;
            text::write_printable(f, d.name.as_bytes())?;
            match d.per_min {
                Some(n) => write!(f, ": {n:+} objects/min")?,
                None => f.write_str(": ? objects/min")?,
            }
            writeln!(f, ", {:+} bytes since the baseline", d.bytes_delta)?;
        }
        Ok(())
    }
}

impl Text<'_> {
    /// Writes one stuck CPU: its task, frames, locks with their waiters, starved tasks.
    fn stuck(&self, f: &mut fmt::Formatter<'_>, s: &Stuck) -> fmt::Result {
        let Text(r, reader) = *self;
        let Some((c, _, mode)) = r.cpus.as_ref().and_then(|snap| snap.get(s.cpu)) else {
            return Ok(());
        };
        write!(f, "\nSTUCK CPU {}: pid {} (", c.cpu, c.pid)?;
        text::write_comm(f, &c.comm)?;
        write!(
            f,
            ") mode {} context {} irqs {} preempt_count {:#x}, ",
            mode.name(),
            c.context().name(),
            if c.irqs_disabled != 0 { "off" } else { "on" },
            c.preempt_count
        )?;
        cpus::write_on_cpu(f, c)?;
        f.write_char('\n')?;
        for frame in cpus::frames(c) {
            f.write_str("  ")?;
            frame.write(f, reader)?;
            f.write_char('\n')?;
        }
        let tasks = r.locks.tasks();
        let waiters = &r.waiters[s.waiters.clone()];
        cpus::write_held_text(f, c, reader, "  ", |f, k| {
            for w in waiters.iter().filter(|w| w.held == k) {
                f.write_str("    waited for by ")?;
                locks::write_task_state(f, &tasks[w.task])?;
                f.write_char('\n')?;
            }
            Ok(())
        })?;
        let starved = &r.runnable[s.starved.clone()];
        if !starved.is_empty() {
            f.write_str("  starved in its runqueue:")?;
            for (n, t) in starved.iter().enumerate() {
                write!(f, "{} pid {} (", if n == 0 { "" } else { "," }, t.pid)?;
                text::write_comm(f, &t.comm)?;
                f.write_char(')')?;
            }
            f.write_char('\n')?;
        }
        Ok(())
    }
}

/// The `report.json` file: the same report as one JSON document (without a newline: the
/// `events.json` file embeds it).
pub(crate) struct Json<'a>(pub(crate) &'a Report, pub(crate) Reader);

impl Display for Json<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Json(r, _) = *self;
        let Some(snap) = &r.cpus else {
            return f.write_str(
                "{\"seq\":0,\"stuck_cpus\":[],\"deadlocks\":[],\"blocked\":[],\
                 \"slab_suspects\":[]}",
            );
        };
        write!(
            f,
            "{{\"seq\":{},\"taken_ns\":{},\"stuck_ms\":{},\"cpus_seq\":{},\"locks_seq\":{},\
             \"locks_taken_ns\":{},\"lockdep_off\":{},\"slab_seq\":{},\"stuck_cpus\":[",
            r.seq,
            snap.info().taken_ns,
            r.stuck_ms,
            snap.info().seq,
            r.locks.seq,
            r.locks.info.taken_ns,
            json::bool_str(r.locks.info.lockdep_off != 0),
            r.slab_seq
        )?;
        for (n, s) in r.stuck.iter().enumerate() {
            if n != 0 {
                f.write_char(',')?;
            }
            self.stuck(f, s)?;
        }
        f.write_str("],\"maybe_stuck\":[")?;
        for (n, &i) in r.maybe.iter().enumerate() {
            let Some((c, _, _)) = snap.get(i) else {
                continue;
            };
            write!(
                f,
                "{}{{\"cpu\":{},\"pid\":{},\"comm\":",
                if n == 0 { "" } else { "," },
                c.cpu,
                c.pid
            )?;
            Display::fmt(&json::Str(text::comm_bytes(&c.comm)), f)?;
            f.write_char('}')?;
        }
        f.write_str("],\"no_response\":[")?;
        for (n, cpu) in r.no_response.iter().enumerate() {
            write!(f, "{}{cpu}", if n == 0 { "" } else { "," })?;
        }
        let tasks = r.locks.tasks();
        f.write_str("],\"deadlocks\":")?;
        write_cycles(f, &r.locks.graph.cycles, tasks)?;
        f.write_str(",\"possible_deadlocks\":")?;
        write_cycles(f, &r.locks.graph.possible, tasks)?;
        f.write_str(",\"blocked\":[")?;
        for (n, &i) in r.blocked.iter().enumerate() {
            let t = &tasks[i];
            write!(
                f,
                "{}{{\"pid\":{},\"comm\":",
                if n == 0 { "" } else { "," },
                t.pid
            )?;
            Display::fmt(&json::Str(text::comm_bytes(&t.comm)), f)?;
            write!(
                f,
                ",\"state\":\"{}\",\"cpu\":{},\"blocked_ns\":",
                locks::state_char(t),
                t.cpu
            )?;
            write_opt(f, (t.blocked_ns != 0).then_some(t.blocked_ns))?;
            f.write_str(",\"chain\":[")?;
            self.chain(f, i)?;
            f.write_str("]}")?;
        }
        write!(
            f,
            "],\"runnable_dropped\":{},\"slab_suspects\":[",
            r.runnable_dropped
        )?;
        for (n, d) in r.suspects.iter().enumerate() {
            f.write_str(if n == 0 { "{\"name\":" } else { ",{\"name\":" })?;
            Display::fmt(&json::Str(d.name.as_bytes()), f)?;
            f.write_str(",\"growth_per_min\":")?;
            write_opt(f, d.per_min)?;
            write!(f, ",\"bytes_delta\":{}}}", d.bytes_delta)?;
        }
        f.write_str("]}")
    }
}

impl Json<'_> {
    /// Writes one stuck CPU as a JSON object.
    fn stuck(&self, f: &mut fmt::Formatter<'_>, s: &Stuck) -> fmt::Result {
        let Json(r, reader) = *self;
        let raw = reader.raw_addresses;
        let Some((c, _, mode)) = r.cpus.as_ref().and_then(|snap| snap.get(s.cpu)) else {
            return f.write_str("{}");
        };
        write!(f, "{{\"cpu\":{},\"pid\":{},\"comm\":", c.cpu, c.pid)?;
        Display::fmt(&json::Str(text::comm_bytes(&c.comm)), f)?;
        write!(
            f,
            ",\"mode\":\"{}\",\"context\":\"{}\",\"irqs_disabled\":{},\"preempt_count\":{},\
             \"on_cpu_ns\":{},\"frames\":[",
            mode.name(),
            c.context().name(),
            json::bool_str(c.irqs_disabled != 0),
            c.preempt_count,
            s.on_cpu_ns
        )?;
        for (i, frame) in cpus::frames(c).enumerate() {
            if i != 0 {
                f.write_char(',')?;
            }
            frame.write_json(f, reader)?;
        }
        f.write_str("],")?;
        cpus::write_held_json(f, c, reader)?;
        f.write_str(",\"waiters\":[")?;
        let tasks = r.locks.tasks();
        for (n, w) in r.waiters[s.waiters.clone()].iter().enumerate() {
            let t = &tasks[w.task];
            write!(
                f,
                "{}{{\"pid\":{},\"comm\":",
                if n == 0 { "" } else { "," },
                t.pid
            )?;
            Display::fmt(&json::Str(text::comm_bytes(&t.comm)), f)?;
            f.write_str(",\"lock\":")?;
            let mut buf = [0; ADDR_LEN];
            let name = match held_entry(c, w.held) {
                Some(h) => locks::held_name(h, raw, &mut buf),
                None => b"?",
            };
            Display::fmt(&json::Str(name), f)?;
            f.write_char('}')?;
        }
        f.write_str("],\"starved\":[")?;
        for (n, t) in r.runnable[s.starved.clone()].iter().enumerate() {
            write!(
                f,
                "{}{{\"pid\":{},\"comm\":",
                if n == 0 { "" } else { "," },
                t.pid
            )?;
            Display::fmt(&json::Str(text::comm_bytes(&t.comm)), f)?;
            f.write_char('}')?;
        }
        f.write_str("]}")
    }

    /// Writes the hops from blocked task `i` towards the holder: the lock each task on the way
    /// waits for and its owner, until an owner that is not blocked, unknown, or already on the
    /// way (a cycle).
    fn chain(&self, f: &mut fmt::Formatter<'_>, i: usize) -> fmt::Result {
        let Json(r, reader) = *self;
        let tasks = r.locks.tasks();
        let next = &r.locks.graph.next;
        let mut seen = [usize::MAX; MAX_CHAIN];
        let mut at = i;
        for n in 0..MAX_CHAIN {
            let t: &RawTask = &tasks[at];
            let Some(kind) = t.blocked() else {
                break;
            };
            seen[n] = at;
            let hint = t.blocked_flags.contains(LockFlag::OwnerHint);
            let owner = pid_opt(t.blocked_owner_pid);
            write!(
                f,
                "{}{{\"kind\":\"{}\",\"name\":",
                if n == 0 { "" } else { "," },
                locks::kind_name(kind)
            )?;
            Display::fmt(
                &json::Str(locks::blocked_name(
                    t,
                    reader.raw_addresses,
                    &mut [0; ADDR_LEN],
                )),
                f,
            )?;
            f.write_str(",\"owner_pid\":")?;
            write_opt(f, owner.filter(|_| !hint))?;
            f.write_str(",\"hint_pid\":")?;
            write_opt(f, owner.filter(|_| hint))?;
            f.write_char('}')?;
            match next.get(at).copied().flatten() {
                Some(o) if !seen.contains(&o) => at = o,
                _ => break,
            }
        }
        Ok(())
    }
}
