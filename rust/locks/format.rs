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
    match cpus::nul_terminated(name) {
        b"" => b"(unnamed)",
        name => name,
    }
}

/// Writes a lock name for people.
fn write_name(w: &mut impl Write, name: &[u8]) -> fmt::Result {
    cpus::write_printable(w, name_bytes(name))
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

        if snap.graph.cycles.is_empty() {
            writeln!(f, "\nno deadlock")?;
        }
        for (n, cycle) in snap.graph.cycles.iter().enumerate() {
            write!(f, "\nDEADLOCK {}:", n + 1)?;
            for &i in cycle.iter() {
                let t = &snap.tasks[i];
                f.write_str("\n  ")?;
                write_task(f, t)?;
                f.write_str(" waits for ")?;
                write_blocked(f, t)?;
                f.write_str(" held by ")?;
                match snap.graph.next[i] {
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
    /// Writes ` -> holder -> ...` from thread `i` to the thread at the end of its chain, or to
    /// the first thread of a deadlock on the way.
    fn chain(&self, f: &mut fmt::Formatter<'_>, i: usize) -> fmt::Result {
        let snap = self.0;
        let mut at = i;
        for _ in 0..MAX_CHAIN {
            let t = &snap.tasks[at];
            f.write_str(" -> ")?;
            let Some(o) = snap.graph.next[at] else {
                return match t.blocked_owner_pid {
                    pid if pid >= 0 => write!(f, "pid {pid} (not holding any recorded lock)"),
                    _ => f.write_str("owner unknown"),
                };
            };
            let owner = &snap.tasks[o];
            write_task_state(f, owner)?;
            if snap.in_cycle(o) {
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
        for (n, cycle) in snap.graph.cycles.iter().enumerate() {
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

#[cfg(kintrospect_kunit)]
#[kernel::macros::kunit_tests(kintrospect_locks_format)]
mod tests {
    use super::*;
    use crate::bridge::RawLocksInfo;
    use kernel::{
        prelude::*,
        str::CString, //
    };

    /// Names every address `site`.
    struct FakeSymbols;

    impl Symbols for FakeSymbols {
        fn name<'b>(&self, _addr: u64, _ret: bool, buf: &'b mut [u8]) -> &'b [u8] {
            let n = copy(buf, b"site+0x1/0x2");
            &buf[..n]
        }

        fn raw_addresses(&self) -> bool {
            false
        }
    }

    fn copy(dst: &mut [u8], src: &[u8]) -> usize {
        for (d, s) in dst.iter_mut().zip(src) {
            *d = *s;
        }
        dst.len().min(src.len())
    }

    fn task(pid: i32, comm: &[u8], held: u32, blocked: Option<(u32, &[u8], i32)>) -> RawTask {
        let mut t = RawTask::ZERO;
        t.pid = pid;
        t.tgid = pid;
        t.cpu = 1;
        t.state = u32::from(b'D');
        t.nr_held = held;
        copy(&mut t.comm, comm);
        if let Some((kind, name, owner)) = blocked {
            t.blocked_kind = kind;
            copy(&mut t.blocked_name, name);
            t.blocked_owner_pid = owner;
        }
        t
    }

    fn held(task: u32, name: &[u8], held_ns: u64) -> RawHeld {
        let mut h = RawHeld::ZERO;
        h.task = task;
        h.kind = 2;
        h.held_ns = held_ns;
        copy(&mut h.name, name);
        h
    }

    /// ABBA between pids 10 and 11, pid 12 waiting on 10's lock, pid 13 holding a spinlock.
    fn abba() -> Result<Snapshot> {
        let mut tasks = KVec::new();
        tasks.push(task(10, b"ta", 1, Some((2, b"B", 11))), GFP_KERNEL)?;
        tasks.push(task(11, b"tb", 1, Some((2, b"A", 10))), GFP_KERNEL)?;
        tasks.push(task(12, b"tc", 0, Some((2, b"A", 10))), GFP_KERNEL)?;
        tasks.push(task(13, b"td", 1, None), GFP_KERNEL)?;
        let mut h = KVec::new();
        h.push(held(0, b"A", 0), GFP_KERNEL)?;
        h.push(held(1, b"B", 0), GFP_KERNEL)?;
        let mut spin = held(3, b"s\"q", 2_500_000);
        spin.kind = 1;
        h.push(spin, GFP_KERNEL)?;
        let info = RawLocksInfo {
            taken_ns: 3_000_000_001,
            lockdep: 1,
            nr_threads: 40,
            nr_tasks: 4,
            nr_held: 3,
            tasks_dropped: 0,
            held_dropped: 0,
        };
        let mut snap = Snapshot::new();
        snap.fill(5, info, &tasks, &h)?;
        Ok(snap)
    }

    #[test]
    fn text_names_the_cycle_first() -> Result {
        let snap = abba()?;
        let s = CString::try_from_fmt(fmt!("{}", Text(&snap, &FakeSymbols)))?;
        let s = s.to_str()?;
        assert!(s.starts_with(
            "locks snapshot 5 at 3.000000001 s: 40 threads, 4 holding or waiting; lockdep yes\n\
             \nDEADLOCK 1:\
             \n  pid 10 (ta) waits for mutex B held by pid 11 (tb)\
             \n  pid 11 (tb) waits for mutex A held by pid 10 (ta)\n"
        ));
        assert!(s.contains(
            "\nblocked:\n  pid 10 (ta) state D cpu 1 waits for mutex B -> pid 11 (tb) state D \
             cpu 1 [deadlock]\n"
        ));
        assert!(s.contains(
            "  pid 12 (tc) state D cpu 1 waits for mutex A -> pid 10 (ta) state D cpu 1 \
             [deadlock]\n"
        ));
        assert!(s.contains(
            "  pid 13 (td) state D cpu 1\n    s\"q (spinlock, write) acquired at \
             site+0x1/0x2, held 2.500 ms\n"
        ));
        Ok(())
    }

    #[test]
    fn json_lists_tasks_and_cycles() -> Result {
        let snap = abba()?;
        let s = CString::try_from_fmt(fmt!("{}", Json(&snap, &FakeSymbols)))?;
        let s = s.to_str()?;
        assert!(s.starts_with(
            "{\"seq\":5,\"taken_ns\":3000000001,\"lockdep\":true,\"threads\":40,\"tasks\":[\
             {\"pid\":10,\"tgid\":10,\"comm\":\"ta\",\"state\":\"D\",\"cpu\":1,\"held\":[\
             {\"name\":\"A\",\"kind\":\"mutex\",\"mode\":\"write\",\
             \"acquired_at\":\"site+0x1/0x2\",\"held_ns\":null}],\
             \"blocked_on\":{\"kind\":\"mutex\",\"name\":\"B\",\"owner_pid\":11,\
             \"owner_cpu\":null}},"
        ));
        assert!(s.contains("{\"name\":\"s\\\"q\",\"kind\":\"spinlock\""));
        assert!(s.ends_with(
            "\"blocked_on\":null}],\"cycles\":[[10,11]],\"dropped\":{\"tasks\":0,\"locks\":0}}\n"
        ));
        Ok(())
    }

    #[test]
    fn no_cycle_says_so() -> Result {
        let mut tasks = KVec::new();
        tasks.push(task(7, b"x", 0, Some((3, b"", -1))), GFP_KERNEL)?;
        let mut snap = Snapshot::new();
        snap.fill(1, RawLocksInfo::default(), &tasks, &[])?;
        let s = CString::try_from_fmt(fmt!("{}", Text(&snap, &FakeSymbols)))?;
        let s = s.to_str()?;
        assert!(s.contains("\nno deadlock\n"));
        assert!(s.contains("waits for semaphore (unnamed) -> owner unknown\n"));
        let j = CString::try_from_fmt(fmt!("{}", Json(&snap, &FakeSymbols)))?;
        assert!(j.to_str()?.contains(
            "\"blocked_on\":{\"kind\":\"semaphore\",\"name\":\"(unnamed)\",\"owner_pid\":null,"
        ));
        Ok(())
    }
}
