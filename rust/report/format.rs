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
            return json::object(f, |o| {
                o.field("seq", 0u64)?
                    .array("stuck_cpus", |_| Ok(()))?
                    .array("deadlocks", |_| Ok(()))?
                    .array("blocked", |_| Ok(()))?
                    .array("slab_suspects", |_| Ok(()))?;
                Ok(())
            });
        };
        let tasks = r.locks.tasks();
        json::object(f, |o| {
            o.field("seq", r.seq)?
                .field("taken_ns", snap.info().taken_ns)?
                .field("stuck_ms", r.stuck_ms)?
                .field("cpus_seq", snap.info().seq)?
                .field("locks_seq", r.locks.seq)?
                .field("locks_taken_ns", r.locks.info.taken_ns)?
                .field("lockdep_off", r.locks.info.lockdep_off != 0)?
                .field("slab_seq", r.slab_seq)?
                .array("stuck_cpus", |a| {
                    for s in r.stuck.iter() {
                        a.object(|o| self.stuck(o, s))?;
                    }
                    Ok(())
                })?
                .array("maybe_stuck", |a| {
                    for c in r
                        .maybe
                        .iter()
                        .filter_map(|&i| snap.get(i))
                        .map(|(c, _, _)| c)
                    {
                        a.object(|o| {
                            o.field("cpu", c.cpu)?
                                .field("pid", c.pid)?
                                .field("comm", json::Str(text::comm_bytes(&c.comm)))?;
                            Ok(())
                        })?;
                    }
                    Ok(())
                })?
                .array("no_response", |a| {
                    for &cpu in r.no_response.iter() {
                        a.value(cpu)?;
                    }
                    Ok(())
                })?
                .array("deadlocks", |a| {
                    write_cycles(a, &r.locks.graph.cycles, tasks)
                })?
                .array("possible_deadlocks", |a| {
                    write_cycles(a, &r.locks.graph.possible, tasks)
                })?
                .array("blocked", |a| {
                    for &i in r.blocked.iter() {
                        let t = &tasks[i];
                        a.object(|o| {
                            o.field("pid", t.pid)?
                                .field("comm", json::Str(text::comm_bytes(&t.comm)))?
                                .field("state", &*locks::state_char(t).encode_utf8(&mut [0; 4]))?
                                .field("cpu", t.cpu)?
                                .field("blocked_ns", (t.blocked_ns != 0).then_some(t.blocked_ns))?
                                .array("chain", |a| self.chain(a, i))?;
                            Ok(())
                        })?;
                    }
                    Ok(())
                })?
                .field("runnable_dropped", r.runnable_dropped)?
                .array("slab_suspects", |a| {
                    for d in r.suspects.iter() {
                        a.object(|o| {
                            o.field("name", json::Str(d.name.as_bytes()))?
                                .field("growth_per_min", d.per_min)?
                                .field("bytes_delta", d.bytes_delta)?;
                            Ok(())
                        })?;
                    }
                    Ok(())
                })?;
            Ok(())
        })
    }
}

impl Json<'_> {
    /// Writes one stuck CPU's fields (none if its record is missing).
    fn stuck(&self, o: &mut json::Object<'_, '_>, s: &Stuck) -> fmt::Result {
        let Json(r, reader) = *self;
        let raw = reader.raw_addresses;
        let Some((c, _, mode)) = r.cpus.as_ref().and_then(|snap| snap.get(s.cpu)) else {
            return Ok(());
        };
        let tasks = r.locks.tasks();
        o.field("cpu", c.cpu)?
            .field("pid", c.pid)?
            .field("comm", json::Str(text::comm_bytes(&c.comm)))?
            .field("mode", mode.name())?
            .field("context", c.context().name())?
            .field("irqs_disabled", c.irqs_disabled != 0)?
            .field("preempt_count", c.preempt_count)?
            .field("on_cpu_ns", s.on_cpu_ns)?
            .array("frames", |a| {
                for frame in cpus::frames(c) {
                    a.value(frame.json(reader))?;
                }
                Ok(())
            })?;
        cpus::write_held_json(o, c, reader)?;
        o.array("waiters", |a| {
            for w in r.waiters[s.waiters.clone()].iter() {
                let t = &tasks[w.task];
                let mut buf = [0; ADDR_LEN];
                let name = match held_entry(c, w.held) {
                    Some(h) => locks::held_name(h, raw, &mut buf),
                    None => b"?",
                };
                a.object(|o| {
                    o.field("pid", t.pid)?
                        .field("comm", json::Str(text::comm_bytes(&t.comm)))?
                        .field("lock", json::Str(name))?;
                    Ok(())
                })?;
            }
            Ok(())
        })?
        .array("starved", |a| {
            for t in r.runnable[s.starved.clone()].iter() {
                a.object(|o| {
                    o.field("pid", t.pid)?
                        .field("comm", json::Str(text::comm_bytes(&t.comm)))?;
                    Ok(())
                })?;
            }
            Ok(())
        })?;
        Ok(())
    }

    /// Writes the hops from blocked task `i` towards the holder: the lock each task on the way
    /// waits for and its owner, until an owner that is not blocked, unknown, or already on the
    /// way (a cycle).
    fn chain(&self, a: &mut json::Array<'_, '_>, i: usize) -> fmt::Result {
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
            a.object(|o| {
                o.field("kind", locks::kind_name(kind))?
                    .field(
                        "name",
                        json::Str(locks::blocked_name(
                            t,
                            reader.raw_addresses,
                            &mut [0; ADDR_LEN],
                        )),
                    )?
                    .field("owner_pid", owner.filter(|_| !hint))?
                    .field("hint_pid", owner.filter(|_| hint))?;
                Ok(())
            })?;
            match next.get(at).copied().flatten() {
                Some(o) if !seen.contains(&o) => at = o,
                _ => break,
            }
        }
        Ok(())
    }
}
