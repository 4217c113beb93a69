// SPDX-License-Identifier: GPL-2.0

//! The `locks` (text) and `locks.json` formats of a locks snapshot.
//!
//! Names and acquire sites were symbolised when the snapshot was taken; a lock or site with
//! no symbol is shown as its raw address only where `%pK` would show one (the reader's
//! `kptr_restrict` rights), else as `?`.

use super::Snapshot;
use crate::{
    bridge::{
        HeldMode,
        LockFlag,
        LockFlags,
        LockKind,
        RawHeld,
        RawTask, //
    },
    json,
    text::{
        self,
        Reader,
        Symbol,
        ADDR_LEN, //
    },
};
use kernel::{
    fmt::{
        self,
        Display,
        Write, //
    },
    prelude::*, //
};

/// Hops followed from a blocked thread towards the final holder.
const MAX_CHAIN: usize = 16;

/// What the text says of a spinlock with a bad `DEBUG_SPINLOCK` magic.
const MAGIC_BAD: &str = "bad spinlock magic: uninitialised or corrupted";

/// What the text says when lockdep has turned itself off.
const LOCKDEP_OFF: &str = "lockdep is turned off: held locks unavailable \
                           (spinlocks whose DEBUG_SPINLOCK owner is the thread are still listed)";

/// A lock kind as shown.
pub(crate) fn kind_name(kind: LockKind) -> &'static str {
    match kind {
        LockKind::Spin => "spinlock",
        LockKind::Mutex => "mutex",
        LockKind::Semaphore => "semaphore",
        LockKind::RwsemRead => "rwsem-read",
        LockKind::RwsemWrite => "rwsem-write",
        LockKind::Sleeping => "sleeping",
        LockKind::Other => "other",
        LockKind::RwlockRead => "rwlock-read",
        LockKind::RwlockWrite => "rwlock-write",
        LockKind::PercpuRwsemRead => "percpu-rwsem-read",
        LockKind::PercpuRwsemWrite => "percpu-rwsem-write",
    }
}

/// A held mode as shown.
fn mode_name(mode: Option<HeldMode>) -> &'static str {
    match mode {
        Some(HeldMode::Write) => "write",
        Some(HeldMode::Read) => "read",
        Some(HeldMode::RecursiveRead) => "recursive-read",
        None => "?",
    }
}

/// What an owner hint is called, by the kind of lock waited for.
fn hint_name(kind: LockKind) -> &'static str {
    match kind {
        LockKind::Semaphore => "last holder",
        _ => "a reader",
    }
}

/// An address without a symbol, as shown: raw only where `%pK` would show it, else `?`.
fn addr_bytes(addr: u64, raw: bool, buf: &mut [u8; ADDR_LEN]) -> &[u8] {
    Symbol::Unresolved(addr).bytes(Reader { raw_addresses: raw }, buf)
}

/// A lock's name as shown: its name (lockdep's, or its address's symbol, taken with the
/// snapshot), `(unnamed)`, or its address when it had no name at all.
fn name_bytes<'b>(
    name: &'b [u8],
    flags: LockFlags,
    addr: u64,
    raw: bool,
    buf: &'b mut [u8; ADDR_LEN],
) -> &'b [u8] {
    match text::nul_terminated(name) {
        _ if flags.contains(LockFlag::Unresolved) => addr_bytes(addr, raw, buf),
        b"" => b"(unnamed)",
        name => name,
    }
}

/// The name of a held lock as shown.
pub(crate) fn held_name<'b>(h: &'b RawHeld, raw: bool, buf: &'b mut [u8; ADDR_LEN]) -> &'b [u8] {
    name_bytes(&h.name, h.flags, h.lock_addr, raw, buf)
}

/// The name of the lock thread `t` waits for as shown.
pub(crate) fn blocked_name<'b>(t: &'b RawTask, raw: bool, buf: &'b mut [u8; ADDR_LEN]) -> &'b [u8] {
    name_bytes(&t.blocked_name, t.blocked_flags, t.blocked_lock, raw, buf)
}

/// Where a lock was acquired as shown (symbolised with the snapshot).
pub(crate) fn site<'b>(h: &'b RawHeld, raw: bool, buf: &'b mut [u8; ADDR_LEN]) -> &'b [u8] {
    if h.flags.contains(LockFlag::SiteUnresolved) {
        addr_bytes(h.acquire_ip, raw, buf)
    } else {
        text::nul_terminated(&h.site)
    }
}

/// Writes `pid N (comm)`.
pub(crate) fn write_task(w: &mut impl Write, t: &RawTask) -> fmt::Result {
    write!(w, "pid {} (", t.pid)?;
    text::write_comm(w, &t.comm)?;
    w.write_char(')')
}

/// Writes `pid N (comm) state S cpu C`.
pub(crate) fn write_task_state(w: &mut impl Write, t: &RawTask) -> fmt::Result {
    write_task(w, t)?;
    write!(w, " state {} cpu {}", state_char(t), t.cpu)
}

/// A task's state letter as shown.
pub(crate) fn state_char(t: &RawTask) -> char {
    char::from_u32(t.state)
        .filter(char::is_ascii_graphic)
        .unwrap_or('?')
}

/// Writes what thread `t` waits for: `mutex NAME`.
pub(crate) fn write_blocked(
    w: &mut impl Write,
    t: &RawTask,
    kind: LockKind,
    raw: bool,
) -> fmt::Result {
    write!(w, "{} ", kind_name(kind))?;
    text::write_printable(w, blocked_name(t, raw, &mut [0; ADDR_LEN]))?;
    if t.blocked_flags.contains(LockFlag::MagicBad) {
        write!(w, " ({MAGIC_BAD})")?;
    }
    Ok(())
}

/// The `locks` file: deadlocks first, then possible deadlocks, then blocked threads with
/// their chain to the holder, then the other holders.
pub(crate) struct Text<'a>(pub(crate) &'a Snapshot, pub(crate) Reader);

impl Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Text(snap, reader) = *self;
        let raw = reader.raw_addresses;
        let info = &snap.info;
        let tasks = snap.tasks();
        writeln!(
            f,
            "locks snapshot {} at {}.{:09} s: {} threads, {} holding or waiting; lockdep {}",
            snap.seq,
            info.taken_ns / 1_000_000_000,
            info.taken_ns % 1_000_000_000,
            info.nr_threads,
            info.nr_tasks,
            match (info.lockdep != 0, info.lockdep_off != 0) {
                (false, _) => "no",
                (true, false) => "on",
                (true, true) => "off",
            }
        )?;
        if info.lockdep_off != 0 {
            writeln!(f, "{LOCKDEP_OFF}")?;
        }

        if snap.graph.cycles.is_empty() {
            writeln!(f, "\nno deadlock")?;
        }
        for (n, cycle) in snap.graph.cycles.iter().enumerate() {
            write!(f, "\nDEADLOCK {}:", n + 1)?;
            self.cycle(f, cycle)?;
        }
        for (n, cycle) in snap.graph.possible.iter().enumerate() {
            write!(
                f,
                "\npossible deadlock {} (through an owner hint, or not confirmed by a second \
                 reading):",
                n + 1
            )?;
            self.cycle(f, cycle)?;
        }

        let mut heading = false;
        for (i, t) in tasks.iter().enumerate() {
            let Some(kind) = t.blocked() else {
                continue;
            };
            if !heading {
                f.write_str("\nblocked:\n")?;
                heading = true;
            }
            f.write_str("  ")?;
            write_task_state(f, t)?;
            f.write_str(" waits for ")?;
            write_blocked(f, t, kind, raw)?;
            self.chain(f, i)?;
            f.write_char('\n')?;
        }

        let mut heading = false;
        for (i, t) in tasks.iter().enumerate() {
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
                if h.flags.contains(LockFlag::MaybeWaiting) {
                    f.write_str("acquiring or held ")?;
                }
                write_held_text(f, h, raw)?;
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

impl Text<'_> {
    /// Writes the members of a cycle, one line each.
    pub(crate) fn cycle(&self, f: &mut fmt::Formatter<'_>, cycle: &[usize]) -> fmt::Result {
        let snap = self.0;
        let raw = self.1.raw_addresses;
        let tasks = snap.tasks();
        for &i in cycle {
            let t = &tasks[i];
            f.write_str("\n  ")?;
            write_task(f, t)?;
            f.write_str(" waits for ")?;
            write_blocked(f, t, t.blocked().unwrap_or(LockKind::Other), raw)?;
            if snap.graph.hint[i] {
                write!(
                    f,
                    " whose {} (hint) is ",
                    hint_name(t.blocked().unwrap_or(LockKind::Other))
                )?;
            } else {
                f.write_str(" held by ")?;
            }
            match snap.graph.next[i] {
                Some(o) => write_task(f, &tasks[o])?,
                None => write!(f, "pid {}", t.blocked_owner_pid)?,
            }
        }
        f.write_char('\n')
    }

    /// Writes ` -> holder -> ...` from thread `i` to the thread at the end of its chain, or to
    /// the first thread of a cycle on the way.
    pub(crate) fn chain(&self, f: &mut fmt::Formatter<'_>, i: usize) -> fmt::Result {
        let snap = self.0;
        let raw = self.1.raw_addresses;
        let tasks = snap.tasks();
        let mut at = i;
        for _ in 0..MAX_CHAIN {
            let t = &tasks[at];
            let kind = t.blocked().unwrap_or(LockKind::Other);
            let hint = t.blocked_flags.contains(LockFlag::OwnerHint);
            f.write_str(" -> ")?;
            if hint {
                write!(f, "{} (hint) ", hint_name(kind))?;
            }
            let Some(o) = snap.graph.next[at] else {
                return match t.blocked_owner_pid {
                    pid if pid == t.pid => f.write_str("itself"),
                    pid if pid >= 0 && snap.info.lockdep_off != 0 => {
                        write!(f, "pid {pid} (its held locks are unknown: lockdep is off)")
                    }
                    pid if pid >= 0 => {
                        write!(f, "pid {pid} (not holding any recorded lock)")
                    }
                    _ if hint => f.write_str("unknown"),
                    _ => f.write_str("owner unknown"),
                };
            };
            let owner = &tasks[o];
            write_task_state(f, owner)?;
            if snap.in_cycle(o) {
                return f.write_str(" [deadlock]");
            }
            if snap.in_possible_cycle(o) {
                return f.write_str(" [possible deadlock]");
            }
            let Some(next_kind) = owner.blocked() else {
                return Ok(());
            };
            if o == i {
                return Ok(());
            }
            f.write_str(", which waits for ")?;
            write_blocked(f, owner, next_kind, raw)?;
            at = o;
        }
        f.write_str(" -> ...")
    }
}

/// The `locks.json` file: the same snapshot as one JSON document.
pub(crate) struct Json<'a>(pub(crate) &'a Snapshot, pub(crate) Reader);

impl Display for Json<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Json(snap, reader) = *self;
        let raw = reader.raw_addresses;
        let info = &snap.info;
        let tasks = snap.tasks();
        json::object(f, |o| {
            o.field("seq", snap.seq)?
                .field("taken_ns", info.taken_ns)?
                .field("lockdep", info.lockdep != 0)?
                .field("lockdep_off", info.lockdep_off != 0)?
                .field("threads", info.nr_threads)?
                .array("tasks", |a| {
                    for (i, t) in tasks.iter().enumerate() {
                        a.object(|o| {
                            o.field("pid", t.pid)?
                                .field("tgid", t.tgid)?
                                .field("comm", json::Str(text::comm_bytes(&t.comm)))?
                                .field("state", &*state_char(t).encode_utf8(&mut [0; 4]))?
                                .field("cpu", t.cpu)?
                                .array("held", |a| {
                                    for h in snap.held_by(i).iter() {
                                        a.object(|o| write_held_json(o, h, raw))?;
                                    }
                                    Ok(())
                                })?;
                            match t.blocked() {
                                None => o.field("blocked_on", None::<u64>)?,
                                Some(kind) => o.object("blocked_on", |o| {
                                    let hint = t.blocked_flags.contains(LockFlag::OwnerHint);
                                    let known = |v: i32| (v >= 0).then_some(v);
                                    o.field("kind", kind_name(kind))?
                                        .field(
                                            "name",
                                            json::Str(blocked_name(t, raw, &mut [0; ADDR_LEN])),
                                        )?
                                        .field(
                                            "magic_bad",
                                            t.blocked_flags.contains(LockFlag::MagicBad),
                                        )?
                                        .field(
                                            "owner_pid",
                                            known(if hint { -1 } else { t.blocked_owner_pid }),
                                        )?
                                        .field(
                                            "hint_pid",
                                            known(if hint { t.blocked_owner_pid } else { -1 }),
                                        )?
                                        .field("owner_cpu", known(t.blocked_owner_cpu))?;
                                    Ok(())
                                })?,
                            };
                            Ok(())
                        })?;
                    }
                    Ok(())
                })?
                .array("cycles", |a| write_cycles(a, &snap.graph.cycles, tasks))?
                .array("possible_cycles", |a| {
                    write_cycles(a, &snap.graph.possible, tasks)
                })?
                .object("dropped", |o| {
                    o.field("tasks", info.tasks_dropped)?
                        .field("locks", info.held_dropped)?;
                    Ok(())
                })?;
            Ok(())
        })?;
        f.write_char('\n')
    }
}

/// Writes cycles into `a`, each an array of pids.
pub(crate) fn write_cycles(
    a: &mut json::Array<'_, '_>,
    cycles: &[KVec<usize>],
    tasks: &[RawTask],
) -> fmt::Result {
    for cycle in cycles.iter() {
        a.array(|a| {
            for &i in cycle.iter() {
                a.value(tasks[i].pid)?;
            }
            Ok(())
        })?;
    }
    Ok(())
}

/// Writes one held lock for people: `NAME (KIND, MODE) acquired at SITE, held N.NNN ms`; for one
/// the lock cannot confirm as held (acquiring or held), `NAME (KIND, MODE) asked at SITE, N.NNN
/// ms ago`: the caller says which it is.
pub(crate) fn write_held_text(w: &mut impl Write, h: &RawHeld, raw: bool) -> fmt::Result {
    let maybe = h.flags.contains(LockFlag::MaybeWaiting);
    text::write_printable(w, held_name(h, raw, &mut [0; ADDR_LEN]))?;
    write!(w, " ({}, {}", kind_name(h.kind()), mode_name(h.mode()))?;
    if h.flags.contains(LockFlag::MagicBad) {
        write!(w, ", {MAGIC_BAD}")?;
    }
    w.write_str(if maybe {
        ") asked at "
    } else {
        ") acquired at "
    })?;
    crate::demangle::write(w, site(h, raw, &mut [0; ADDR_LEN]))?;
    if h.held_ns != 0 {
        let (ms, us) = (h.held_ns / 1_000_000, h.held_ns / 1_000 % 1_000);
        if maybe {
            write!(w, ", {ms}.{us:03} ms ago")?;
        } else {
            write!(w, ", held {ms}.{us:03} ms")?;
        }
    }
    Ok(())
}

/// Writes one held lock as a JSON object, after a comma if `comma`. `maybe_waiting` is true for
/// a lock the task is acquiring or holds (the lock cannot tell which).
pub(crate) fn write_held_json(o: &mut json::Object<'_, '_>, h: &RawHeld, raw: bool) -> fmt::Result {
    o.field("name", json::Str(held_name(h, raw, &mut [0; ADDR_LEN])))?
        .field("kind", kind_name(h.kind()))?
        .field("mode", mode_name(h.mode()))?
        .field("magic_bad", h.flags.contains(LockFlag::MagicBad))?
        .field(
            "acquired_at",
            json::Symbol(site(h, raw, &mut [0; ADDR_LEN])),
        )?
        .field("held_ns", (h.held_ns != 0).then_some(h.held_ns))?
        .field("maybe_waiting", h.flags.contains(LockFlag::MaybeWaiting))?;
    Ok(())
}

#[cfg(kintrospect_kunit)]
#[kernel::macros::kunit_tests(kintrospect_locks_format)]
mod tests {
    use super::*;
    use crate::bridge::{
        RawLocksInfo,
        LOCK_NAME_LEN, //
    };
    use kernel::str::CString;

    const NO_RAW: Reader = Reader {
        raw_addresses: false,
    };

    fn copy(dst: &mut [u8], src: &[u8]) -> usize {
        for (d, s) in dst.iter_mut().zip(src) {
            *d = *s;
        }
        dst.len().min(src.len())
    }

    fn task(pid: i32, comm: &[u8], held: u32, blocked: Option<(LockKind, &[u8], i32)>) -> RawTask {
        let mut t = RawTask::zeroed();
        t.pid = pid;
        t.tgid = pid;
        t.cpu = 1;
        t.state = u32::from(b'D');
        t.nr_held = held;
        t.blocked_owner_pid = -1;
        t.blocked_owner_cpu = -1;
        copy(&mut t.comm, comm);
        if let Some((kind, name, owner)) = blocked {
            t.blocked_kind = kind.into();
            copy(&mut t.blocked_name, name);
            t.blocked_owner_pid = owner;
        }
        t
    }

    fn held(task: u32, name: &[u8], held_ns: u64) -> RawHeld {
        let mut h = RawHeld::zeroed();
        h.task = task;
        h.kind = LockKind::Mutex.into();
        h.held_ns = held_ns;
        copy(&mut h.name, name);
        copy(&mut h.site, b"site+0x1/0x2");
        h
    }

    fn info(nr_threads: u32) -> RawLocksInfo {
        RawLocksInfo {
            taken_ns: 3_000_000_001,
            lockdep: 1,
            nr_threads,
            ..RawLocksInfo::default()
        }
    }

    /// ABBA between pids 10 and 11, pid 12 waiting on 10's lock, pid 13 holding a spinlock;
    /// the cycle's edges confirmed or not.
    fn abba(confirmed: bool) -> Result<Snapshot> {
        let mut tasks = KVec::new();
        tasks.push(
            task(10, b"ta", 1, Some((LockKind::Mutex, b"B", 11))),
            GFP_KERNEL,
        )?;
        tasks.push(
            task(11, b"tb", 1, Some((LockKind::Mutex, b"A", 10))),
            GFP_KERNEL,
        )?;
        tasks.push(
            task(12, b"tc", 0, Some((LockKind::Mutex, b"A", 10))),
            GFP_KERNEL,
        )?;
        tasks.push(task(13, b"td", 1, None), GFP_KERNEL)?;
        let mut h = KVec::new();
        h.push(held(0, b"A", 0), GFP_KERNEL)?;
        h.push(held(1, b"B", 0), GFP_KERNEL)?;
        let mut spin = held(3, b"s\"q", 2_500_000);
        spin.kind = LockKind::Spin.into();
        h.push(spin, GFP_KERNEL)?;
        let mut snap = Snapshot::new();
        snap.fill(5, info(40), &tasks, &h, confirmed)?;
        Ok(snap)
    }

    fn text(snap: &Snapshot, reader: Reader) -> Result<CString> {
        CString::try_from_fmt(fmt!("{}", Text(snap, reader)))
    }

    fn json(snap: &Snapshot, reader: Reader) -> Result<CString> {
        CString::try_from_fmt(fmt!("{}", Json(snap, reader)))
    }

    #[test]
    fn text_names_the_cycle_first() -> Result {
        let snap = abba(true)?;
        let s = text(&snap, NO_RAW)?;
        let s = s.to_str()?;
        assert!(s.starts_with(
            "locks snapshot 5 at 3.000000001 s: 40 threads, 4 holding or waiting; lockdep on\n\
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
        let snap = abba(true)?;
        let s = json(&snap, NO_RAW)?;
        let s = s.to_str()?;
        assert!(s.starts_with(
            "{\"seq\":5,\"taken_ns\":3000000001,\"lockdep\":true,\"lockdep_off\":false,\
             \"threads\":40,\"tasks\":[\
             {\"pid\":10,\"tgid\":10,\"comm\":\"ta\",\"state\":\"D\",\"cpu\":1,\"held\":[\
             {\"name\":\"A\",\"kind\":\"mutex\",\"mode\":\"write\",\"magic_bad\":false,\
             \"acquired_at\":\"site+0x1/0x2\",\"held_ns\":null,\"maybe_waiting\":false}],\
             \"blocked_on\":{\"kind\":\"mutex\",\"name\":\"B\",\"magic_bad\":false,\
             \"owner_pid\":11,\"hint_pid\":null,\"owner_cpu\":null}},"
        ));
        assert!(s.contains("{\"name\":\"s\\\"q\",\"kind\":\"spinlock\""));
        assert!(s.ends_with(
            "\"blocked_on\":null}],\"cycles\":[[10,11]],\"possible_cycles\":[],\
             \"dropped\":{\"tasks\":0,\"locks\":0}}\n"
        ));
        Ok(())
    }

    /// M4: a cycle whose edges were not all read again unchanged is only possible.
    #[test]
    fn an_unconfirmed_cycle_is_possible() -> Result {
        let snap = abba(false)?;
        let s = text(&snap, NO_RAW)?;
        let s = s.to_str()?;
        assert!(!s.contains("DEADLOCK"));
        assert!(s.contains("\nno deadlock\n\npossible deadlock 1 "));
        assert!(s.contains("waits for mutex B -> pid 11 (tb) state D cpu 1 [possible deadlock]"));
        let j = json(&snap, NO_RAW)?;
        assert!(j
            .to_str()?
            .contains("\"cycles\":[],\"possible_cycles\":[[10,11]],"));
        Ok(())
    }

    #[test]
    fn no_cycle_says_so() -> Result {
        let mut tasks = KVec::new();
        tasks.push(
            task(7, b"x", 0, Some((LockKind::Semaphore, b"", -1))),
            GFP_KERNEL,
        )?;
        tasks[0].blocked_flags = LockFlag::OwnerHint.into();
        let mut snap = Snapshot::new();
        snap.fill(1, RawLocksInfo::default(), &tasks, &[], true)?;
        let s = text(&snap, NO_RAW)?;
        let s = s.to_str()?;
        assert!(s.contains("\nno deadlock\n"));
        assert!(s.contains("waits for semaphore (unnamed) -> last holder (hint) unknown\n"));
        let j = json(&snap, NO_RAW)?;
        assert!(j.to_str()?.contains(
            "\"blocked_on\":{\"kind\":\"semaphore\",\"name\":\"(unnamed)\",\"magic_bad\":false,\
             \"owner_pid\":null,\"hint_pid\":null,"
        ));
        Ok(())
    }

    /// H4: a semaphore used as an event: its waiter is its last holder, a hint, no deadlock.
    #[test]
    fn a_semaphore_waiter_that_last_held_it_is_no_deadlock() -> Result {
        let mut tasks = KVec::new();
        let sem = Some((
            LockKind::Semaphore,
            &b"ki_semevent_sem [ki_semevent]"[..],
            148,
        ));
        tasks.push(task(148, b"ki_semevent_a", 0, sem), GFP_KERNEL)?;
        tasks[0].blocked_flags = LockFlag::OwnerHint | LockFlag::AddrName;
        let mut snap = Snapshot::new();
        snap.fill(1, info(9), &tasks, &[], true)?;
        let s = text(&snap, NO_RAW)?;
        let s = s.to_str()?;
        assert!(s.contains("\nno deadlock\n"));
        assert!(!s.contains("DEADLOCK") && !s.contains("possible"));
        assert!(s.contains(
            "pid 148 (ki_semevent_a) state D cpu 1 waits for semaphore ki_semevent_sem \
             [ki_semevent] -> last holder (hint) itself\n"
        ));
        let j = json(&snap, NO_RAW)?;
        let j = j.to_str()?;
        assert!(j.contains("\"owner_pid\":null,\"hint_pid\":148,"));
        assert!(j.contains("\"cycles\":[],\"possible_cycles\":[],"));
        Ok(())
    }

    /// H4: a cycle through a semaphore's last holder is possible, never a deadlock.
    #[test]
    fn a_cycle_through_a_hint_is_possible() -> Result {
        let mut tasks = KVec::new();
        tasks.push(
            task(20, b"a", 0, Some((LockKind::Semaphore, b"S", 21))),
            GFP_KERNEL,
        )?;
        tasks.push(
            task(21, b"b", 0, Some((LockKind::Mutex, b"M", 20))),
            GFP_KERNEL,
        )?;
        tasks[0].blocked_flags = LockFlag::OwnerHint.into();
        let mut snap = Snapshot::new();
        snap.fill(1, info(9), &tasks, &[], true)?;
        let s = text(&snap, NO_RAW)?;
        let s = s.to_str()?;
        assert!(!s.contains("DEADLOCK"));
        assert!(s.contains(
            "\n  pid 20 (a) waits for semaphore S whose last holder (hint) is pid 21 (b)\n"
        ));
        let j = json(&snap, NO_RAW)?;
        assert!(j
            .to_str()?
            .contains("\"cycles\":[],\"possible_cycles\":[[20,21]],"));
        Ok(())
    }

    /// Issue 17 item 3: the ABBA of ki_locktypes - A holds a mutex and waits killably for an
    /// rwsem (no blocker record: the wait is its lockdep entry, the rwsem's owner B), B holds
    /// the rwsem and waits for the mutex - is a deadlock; an rwlock writer spinning behind
    /// another waits for it; an entry the lock cannot decide is "acquiring or held".
    #[test]
    fn waits_from_the_lock_state() -> Result {
        let mut tasks = KVec::new();
        tasks.push(
            task(
                40,
                b"ki_lt_abba_a",
                1,
                Some((LockKind::RwsemWrite, b"S", 41)),
            ),
            GFP_KERNEL,
        )?;
        tasks.push(
            task(41, b"ki_lt_abba_b", 1, Some((LockKind::Mutex, b"M", 40))),
            GFP_KERNEL,
        )?;
        let mut spinner = task(
            42,
            b"ki_lt_rw_b",
            1,
            Some((LockKind::RwlockWrite, b"R", 43)),
        );
        spinner.state = u32::from(b'R');
        spinner.blocked_owner_cpu = 1;
        tasks.push(spinner, GFP_KERNEL)?;
        tasks.push(task(43, b"ki_lt_rw_a", 1, None), GFP_KERNEL)?;
        let mut h = KVec::new();
        h.push(held(0, b"M", 0), GFP_KERNEL)?;
        let mut s_held = held(1, b"S", 0);
        s_held.kind = LockKind::Sleeping.into();
        h.push(s_held, GFP_KERNEL)?;
        let mut maybe = held(2, b"&mm->mmap_lock", 1_500_000);
        maybe.kind = LockKind::Sleeping.into();
        maybe.mode = 1;
        maybe.flags = LockFlag::MaybeWaiting.into();
        h.push(maybe, GFP_KERNEL)?;
        let mut r = held(3, b"R", 0);
        r.kind = LockKind::Other.into();
        h.push(r, GFP_KERNEL)?;
        let mut snap = Snapshot::new();
        snap.fill(1, info(9), &tasks, &h, true)?;
        let s = text(&snap, NO_RAW)?;
        let s = s.to_str()?;
        assert!(s.contains(
            "\nDEADLOCK 1:\
             \n  pid 40 (ki_lt_abba_a) waits for rwsem-write S held by pid 41 (ki_lt_abba_b)\
             \n  pid 41 (ki_lt_abba_b) waits for mutex M held by pid 40 (ki_lt_abba_a)\n"
        ));
        assert!(s.contains(
            "  pid 42 (ki_lt_rw_b) state R cpu 1 waits for rwlock-write R -> pid 43 \
             (ki_lt_rw_a) state D cpu 1\n"
        ));
        assert!(s.contains(
            "  pid 42 (ki_lt_rw_b) state R cpu 1\n    acquiring or held &mm->mmap_lock \
             (sleeping, read) asked at site+0x1/0x2, 1.500 ms ago\n"
        ));
        let j = json(&snap, NO_RAW)?;
        let j = j.to_str()?;
        assert!(j.contains(
            "\"held_ns\":1500000,\"maybe_waiting\":true}],\"blocked_on\":{\"kind\":\
             \"rwlock-write\",\"name\":\"R\",\"magic_bad\":false,\"owner_pid\":43,\
             \"hint_pid\":null,\"owner_cpu\":1}"
        ));
        assert!(j.contains("\"cycles\":[[40,41]],\"possible_cycles\":[],"));
        Ok(())
    }

    /// M1: with lockdep off both files say so.
    #[test]
    fn lockdep_off_is_reported() -> Result {
        let mut snap = Snapshot::new();
        let mut i = info(3);
        i.lockdep_off = 1;
        snap.fill(2, i, &[], &[], true)?;
        let s = text(&snap, NO_RAW)?;
        assert!(s.to_str()?.contains(
            "lockdep off\nlockdep is turned off: held locks unavailable (spinlocks whose \
             DEBUG_SPINLOCK owner is the thread are still listed)\n"
        ));
        let j = json(&snap, NO_RAW)?;
        assert!(j
            .to_str()?
            .contains("\"lockdep\":true,\"lockdep_off\":true,"));
        Ok(())
    }

    /// Issue 8 item 2 and L5: a lock named by its address's symbol, with a bad magic; a lock
    /// and a site without a symbol, shown raw only where `%pK` would show them.
    #[test]
    fn names_without_lockdep_and_raw_addresses() -> Result {
        let mut tasks = KVec::new();
        tasks.push(task(30, b"k", 2, None), GFP_KERNEL)?;
        let mut bad = held(0, b"ki_uninit_spin_lock [ki_uninit_spin]", 0);
        bad.kind = LockKind::Spin.into();
        bad.flags = LockFlag::AddrName | LockFlag::MagicBad;
        let mut anon = held(0, b"", 0);
        anon.name = [0; LOCK_NAME_LEN];
        anon.lock_addr = 0xffff_8880_0123_4560;
        anon.acquire_ip = 0xffff_ffff_a002_22cb;
        anon.flags = LockFlag::Unresolved | LockFlag::SiteUnresolved;
        let mut h = KVec::new();
        h.push(bad, GFP_KERNEL)?;
        h.push(anon, GFP_KERNEL)?;
        let mut snap = Snapshot::new();
        snap.fill(1, info(9), &tasks, &h, true)?;
        let s = text(&snap, NO_RAW)?;
        let s = s.to_str()?;
        assert!(s.contains(
            "    ki_uninit_spin_lock [ki_uninit_spin] (spinlock, write, bad spinlock magic: \
             uninitialised or corrupted) acquired at site+0x1/0x2\n    ? (mutex, write) \
             acquired at ?\n"
        ));
        assert!(!s.contains("0xffff"));
        let j = json(&snap, NO_RAW)?;
        assert!(j.to_str()?.contains(
            "\"name\":\"ki_uninit_spin_lock [ki_uninit_spin]\",\"kind\":\"spinlock\",\
             \"mode\":\"write\",\"magic_bad\":true,"
        ));
        let raw = text(
            &snap,
            Reader {
                raw_addresses: true,
            },
        )?;
        assert!(raw
            .to_str()?
            .contains("    0xffff888001234560 (mutex, write) acquired at 0xffffffffa00222cb\n"));
        Ok(())
    }
}
