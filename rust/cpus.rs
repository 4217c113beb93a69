// SPDX-License-Identifier: GPL-2.0

//! Per-CPU NMI backtrace snapshots: the `cpus` and `cpus.json` files.
//!
//! The capture itself is in C (`rust/c/nmi.c`): every CPU writes its own record in NMI context,
//! and the trigger names every frame when the snapshot is taken. This file copies the latest
//! snapshot out and formats it, in process context, when a file is read: it only copies text,
//! and decides per reader whether a frame kallsyms could not name may show its raw address.
//! Formatting is deterministic: the seq_file may call it twice for one read.

use crate::{
    bridge::{
        self,
        Context,
        CpuLockdep,
        LockFlag,
        Mode,
        RawCpu,
        RawCpusInfo,
        RawHeld,
        Source,
        State,
        CPU_MAX_HELD,
        MAX_FRAMES, //
    },
    json, locks,
    text::{
        comm_bytes,
        nul_terminated,
        write_comm,
        write_printable,
        Reader,
        Symbol,
        ADDR_LEN, //
    },
};
use kernel::{
    fmt::{
        self,
        Write, //
    },
    prelude::*,
};

impl State {
    pub(crate) fn name(self) -> &'static str {
        match self {
            State::Offline => "offline",
            State::Running => "running",
            State::Idle => "idle",
            State::NoResponse => "no-response",
        }
    }

    /// Whether the CPU's record holds what it was doing.
    fn has_data(self) -> bool {
        matches!(self, State::Running | State::Idle)
    }
}

impl Mode {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Mode::Kernel => "kernel",
            Mode::User => "user",
            Mode::Idle => "idle",
        }
    }
}

impl Context {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Context::Task => "task",
            Context::Softirq => "softirq",
            Context::Irq => "irq",
            Context::Nmi => "nmi",
        }
    }
}

impl CpuLockdep {
    fn name(self) -> &'static str {
        match self {
            CpuLockdep::None => "none",
            CpuLockdep::On => "on",
            CpuLockdep::Off => "off",
        }
    }
}

impl RawCpu {
    /// The interrupt level the NMI interrupted (a code the C side does not define: task).
    pub(crate) fn context(&self) -> Context {
        Context::try_from(self.context).unwrap_or(Context::Task)
    }

    /// How long the task has been in the kernel on its CPU, at least: since the first of the
    /// snapshots that all found it there in kernel mode, with the same switch count and user
    /// time; `None` when this one is the first.
    pub(crate) fn on_cpu_ns(&self) -> Option<u64> {
        (self.on_cpu_since_ns < self.taken_ns).then(|| self.taken_ns - self.on_cpu_since_ns)
    }

    /// The lockdep entries recorded at the NMI, bounded by the record's own array.
    pub(crate) fn lock_entries(&self) -> &[RawHeld] {
        &self.held[..(self.nr_held as usize).min(CPU_MAX_HELD)]
    }

    /// The locks the task held at the NMI, or was acquiring or held (the lock could not tell:
    /// [`crate::bridge::LockFlags::maybe_waiting`]), outermost first.
    pub(crate) fn held(&self) -> impl Iterator<Item = &RawHeld> {
        self.lock_entries()
            .iter()
            .filter(|h| !h.flags.contains(LockFlag::Waiting))
    }

    /// The lock the task was waiting for (spinning on, asleep for) at the NMI, if any: the
    /// outermost waited-for entry. An interrupt that came on top of the wait and was taking a
    /// lock of its own when the NMI came adds one further in; the task's is the first.
    pub(crate) fn waits_for(&self) -> Option<&RawHeld> {
        self.lock_entries()
            .iter()
            .find(|h| h.flags.contains(LockFlag::Waiting))
    }

    /// Whether the NMI found the task (or an interrupt on top of it) waiting for the lock
    /// whose lockdep map is at `lock_addr`.
    pub(crate) fn waits_for_lock(&self, lock_addr: u64) -> bool {
        self.lock_entries()
            .iter()
            .any(|h| h.flags.contains(LockFlag::Waiting) && h.lock_addr == lock_addr)
    }

    /// What `held` is; `None` for a code the C side does not define (never: checked).
    pub(crate) fn lockdep(&self) -> CpuLockdep {
        CpuLockdep::try_from(self.lockdep).unwrap_or(CpuLockdep::None)
    }
}

/// Writes the lockdep entries of a running CPU's record for people, one line each, indented
/// by `indent`: `holds`, `acquiring or held` (the lock cannot tell which) or `waits for`;
/// `after_held(f, k)` is called after the line of held (or maybe held) entry `k`.
pub(crate) fn write_held_text(
    f: &mut fmt::Formatter<'_>,
    c: &RawCpu,
    reader: Reader,
    indent: &str,
    mut after_held: impl FnMut(&mut fmt::Formatter<'_>, usize) -> fmt::Result,
) -> fmt::Result {
    let raw = reader.raw_addresses;
    match c.lockdep() {
        CpuLockdep::None => return Ok(()),
        CpuLockdep::Off => return writeln!(f, "{indent}held locks unknown: lockdep is off"),
        CpuLockdep::On => {}
    }
    for (k, h) in c.lock_entries().iter().enumerate() {
        if h.flags.contains(LockFlag::Waiting) {
            continue;
        }
        if h.flags.contains(LockFlag::MaybeWaiting) {
            write!(f, "{indent}acquiring or held ")?;
        } else {
            write!(f, "{indent}holds ")?;
        }
        locks::write_held_text(f, h, raw)?;
        f.write_char('\n')?;
        after_held(f, k)?;
    }
    if c.held_dropped != 0 {
        writeln!(
            f,
            "{indent}... {} more held locks not kept (outermost)",
            c.held_dropped
        )?;
    }
    if let Some(h) = c.waits_for() {
        write!(f, "{indent}waits for ")?;
        write_printable(f, locks::held_name(h, raw, &mut [0; ADDR_LEN]))?;
        write!(f, " ({}) asked at ", locks::kind_name(h.kind()))?;
        crate::demangle::write(f, locks::site(h, raw, &mut [0; ADDR_LEN]))?;
        if h.held_ns != 0 {
            write!(
                f,
                ", {}.{:03} ms ago",
                h.held_ns / 1_000_000,
                h.held_ns / 1_000 % 1_000
            )?;
        }
        f.write_char('\n')?;
    }
    Ok(())
}

/// Writes the held locks of a running CPU's record as JSON members: `"lockdep"`, `"held"`,
/// `"held_dropped"` and `"waits_for"`.
pub(crate) fn write_held_json(
    o: &mut json::Object<'_, '_>,
    c: &RawCpu,
    reader: Reader,
) -> fmt::Result {
    let raw = reader.raw_addresses;
    o.field("lockdep", c.lockdep().name())?
        .array("held", |a| {
            for h in c.held() {
                a.object(|o| locks::write_held_json(o, h, raw))?;
            }
            Ok(())
        })?
        .field("held_dropped", c.held_dropped)?;
    match c.waits_for() {
        None => o.field("waits_for", None::<u64>)?,
        Some(h) => o.object("waits_for", |o| {
            o.field(
                "name",
                json::Str(locks::held_name(h, raw, &mut [0; ADDR_LEN])),
            )?
            .field("kind", locks::kind_name(h.kind()))?
            .field("at", json::Symbol(locks::site(h, raw, &mut [0; ADDR_LEN])))?
            .field("waiting_ns", (h.held_ns != 0).then_some(h.held_ns))?;
            Ok(())
        })?,
    };
    Ok(())
}

/// Writes how long a running CPU has been on its task for people.
pub(crate) fn write_on_cpu(f: &mut impl Write, c: &RawCpu) -> fmt::Result {
    match c.on_cpu_ns() {
        Some(ns) => write!(
            f,
            "in the kernel for at least {}.{:03} s",
            ns / 1_000_000_000,
            ns / 1_000_000 % 1_000
        ),
        None => f.write_str("in the kernel for ? (first seen so by this snapshot)"),
    }
}

impl Source {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Source::None => "none",
            Source::Control => "control",
            Source::Sysrq => "sysrq",
            Source::Watch => "watch",
        }
    }
}

/// A copy of one snapshot, its codes checked.
///
/// # Invariants
///
/// `source` is `info.source` decoded, and every record's `state` and `mode` is a valid code.
pub(crate) struct Snapshot {
    info: RawCpusInfo,
    source: Source,
    cpus: KVVec<RawCpu>,
}

impl Snapshot {
    /// Checks the codes of a copied snapshot; `EINVAL` if one is not a code the C side defines.
    pub(crate) fn new(info: RawCpusInfo, cpus: KVVec<RawCpu>) -> Result<Self> {
        let source = Source::try_from(info.source)?;
        for c in cpus.iter() {
            State::try_from(c.state)?;
            Mode::try_from(c.mode)?;
            CpuLockdep::try_from(c.lockdep)?;
        }
        // INVARIANT: Every code was checked above.
        Ok(Self { info, source, cpus })
    }

    /// Copies the latest snapshot out of the NMI buffers.
    pub(crate) fn latest(nmi: &bridge::Nmi) -> Result<Self> {
        let (info, cpus) = nmi.copy()?;
        Self::new(info, cpus)
    }

    /// The header.
    pub(crate) fn info(&self) -> &RawCpusInfo {
        &self.info
    }

    /// Record `i` with its checked state and mode.
    pub(crate) fn get(&self, i: usize) -> Option<(&RawCpu, State, Mode)> {
        self.cpus().nth(i)
    }

    /// The CPU records with their checked state and mode.
    pub(crate) fn cpus(&self) -> impl Iterator<Item = (&RawCpu, State, Mode)> {
        self.cpus.iter().map(|c| {
            // By the type invariant the codes are valid: the fallbacks are never taken.
            let state = State::try_from(c.state).unwrap_or(State::Offline);
            let mode = Mode::try_from(c.mode).unwrap_or(Mode::Kernel);
            (c, state, mode)
        })
    }
}

/// The frames of a CPU record, innermost first, bounded by the record's own arrays.
pub(crate) fn frames(c: &RawCpu) -> impl Iterator<Item = Symbol<'_>> {
    let n = (c.nr_frames as usize).min(MAX_FRAMES);
    c.frames[..n]
        .iter()
        .zip(c.symbols.iter())
        .enumerate()
        .map(|(i, (&addr, name))| {
            if c.unresolved & (1u64 << i) != 0 {
                Symbol::Unresolved(addr)
            } else {
                Symbol::Named(nul_terminated(name))
            }
        })
}

/// The `cpus` file: one block per CPU in the spirit of SysRq-l.
pub(crate) struct Text<'a>(pub(crate) &'a Snapshot, pub(crate) Reader);

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Text(snap, reader) = *self;
        let info = &snap.info;
        let raw = reader.raw_addresses;
        if info.seq == 0 {
            return f.write_str("no snapshot yet: write \"snapshot cpus\" to control\n");
        }
        writeln!(
            f,
            "snapshot {} by {} at {}.{:09} s: {} CPUs in {}.{:03} ms, {} no-response",
            info.seq,
            snap.source.name(),
            info.taken_ns / 1_000_000_000,
            info.taken_ns % 1_000_000_000,
            info.nr_cpus,
            info.duration_ns / 1_000_000,
            info.duration_ns / 1_000 % 1_000,
            info.nr_no_response
        )?;
        for (c, state, mode) in snap.cpus() {
            write!(f, "\nCPU {}: ", c.cpu)?;
            match state {
                State::Offline | State::NoResponse => {
                    writeln!(f, "{}", state.name())?;
                    continue;
                }
                State::Idle => {
                    f.write_str("idle at ")?;
                    match frames(c).next() {
                        Some(ip) => ip.write(f, reader)?,
                        None => f.write_char('?')?,
                    }
                    f.write_char('\n')?;
                    continue;
                }
                State::Running => {}
            }
            write!(f, "pid {} tgid {} comm ", c.pid, c.tgid)?;
            write_comm(f, &c.comm)?;
            write!(
                f,
                " mode {} context {} irqs {} preempt_count {:#x}, ",
                mode.name(),
                c.context().name(),
                if c.irqs_disabled != 0 { "off" } else { "on" },
                c.preempt_count
            )?;
            write_on_cpu(f, c)?;
            f.write_char('\n')?;
            if raw {
                writeln!(f, " ip {:#x} sp {:#x} flags {:#x}", c.ip, c.sp, c.flags)?;
            }
            for frame in frames(c) {
                f.write_str("  ")?;
                frame.write(f, reader)?;
                f.write_char('\n')?;
            }
            write_held_text(f, c, reader, "  ", |_, _| Ok(()))?;
        }
        Ok(())
    }
}

/// The `cpus.json` file: the same snapshot as one JSON document.
pub(crate) struct Json<'a>(pub(crate) &'a Snapshot, pub(crate) Reader);

impl fmt::Display for Json<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Json(snap, reader) = *self;
        let info = &snap.info;
        let raw = reader.raw_addresses;
        let nr = if info.seq == 0 { 0 } else { snap.cpus.len() };
        json::object(f, |o| {
            o.field("seq", info.seq)?
                .field("source", snap.source.name())?
                .field("taken_ns", info.taken_ns)?
                .field("duration_ns", info.duration_ns)?
                .array("cpus", |a| {
                    for (c, state, mode) in snap.cpus().take(nr) {
                        a.object(|o| {
                            o.field("cpu", c.cpu)?.field("state", state.name())?;
                            if !state.has_data() {
                                o.array("frames", |_| Ok(()))?;
                                return Ok(());
                            }
                            o.field("pid", c.pid)?
                                .field("tgid", c.tgid)?
                                .field("comm", json::Str(comm_bytes(&c.comm)))?
                                .field("mode", mode.name())?
                                .field("context", c.context().name())?
                                .field("irqs_disabled", c.irqs_disabled != 0)?
                                .field("preempt_count", c.preempt_count)?
                                .field("taken_ns", c.taken_ns)?
                                .field("handler_ns", c.handler_ns)?;
                            if raw {
                                o.field("ip", json::Hex(c.ip))?
                                    .field("sp", json::Hex(c.sp))?;
                            }
                            o.field("on_cpu_ns", c.on_cpu_ns())?.array("frames", |a| {
                                for frame in frames(c) {
                                    a.value(frame.json(reader))?;
                                }
                                Ok(())
                            })?;
                            write_held_json(o, c, reader)
                        })?;
                    }
                    Ok(())
                })?;
            Ok(())
        })?;
        f.write_char('\n')
    }
}

#[cfg(kintrospect_kunit)]
#[kernel::macros::kunit_tests(kintrospect_cpus)]
mod tests {
    use super::*;
    use crate::bridge::LockFlags;
    use kernel::str::CString;

    /// Copies as much of `src` as fits into `dst`; returns how much.
    fn copy<T: Copy>(dst: &mut [T], src: &[T]) -> usize {
        for (d, s) in dst.iter_mut().zip(src) {
            *d = *s;
        }
        dst.len().min(src.len())
    }

    /// An unresolved frame in [`fill`]'s list.
    const UNRESOLVED: &[u8] = b"";

    /// Fills CPU record `c` as CPU `n`; `frames` are (address, name), an empty name unresolved.
    fn fill(c: &mut RawCpu, n: u32, state: State, comm: &[u8], frames: &[(u64, &[u8])]) {
        c.cpu = n;
        c.state = state as u32;
        c.mode = Mode::Kernel as u32;
        c.pid = 100 + n as i32;
        c.tgid = 100;
        c.ip = 0x1000;
        c.irqs_disabled = 1;
        c.preempt_count = 1;
        copy(&mut c.comm, comm);
        for (i, &(addr, name)) in frames.iter().enumerate().take(MAX_FRAMES) {
            c.frames[i] = addr;
            copy(&mut c.symbols[i], name);
            if name.is_empty() {
                c.unresolved |= 1 << i;
            }
            c.nr_frames += 1;
        }
    }

    fn info(nr: usize) -> RawCpusInfo {
        RawCpusInfo {
            seq: 7,
            taken_ns: 5_000_000_123,
            duration_ns: 1_234_567,
            source: Source::Sysrq as u32,
            nr_cpus: nr as u32,
            nr_no_response: 1,
            pad: 0,
        }
    }

    /// CPU 0 running with a named and an unresolved frame, CPU 1 no-response.
    fn two_cpus() -> Result<Snapshot> {
        let mut cpus = bridge::zeroed_cpus(2)?;
        fill(
            &mut cpus[0],
            0,
            State::Running,
            b"insmod",
            &[
                (0x1000, b"ki_stuck_init_spin+0x1c/0x40 [ki_stuck_init]"),
                (0xffffffffa0022506, UNRESOLVED),
            ],
        );
        fill(&mut cpus[1], 1, State::NoResponse, b"", &[]);
        Snapshot::new(info(2), cpus)
    }

    fn text(snap: &Snapshot, raw: bool) -> Result<CString> {
        CString::try_from_fmt(fmt!("{}", Text(snap, Reader { raw_addresses: raw })))
    }

    fn json(snap: &Snapshot, raw: bool) -> Result<CString> {
        CString::try_from_fmt(fmt!("{}", Json(snap, Reader { raw_addresses: raw })))
    }

    #[test]
    fn text_has_one_block_per_cpu() -> Result {
        let mut cpus = bridge::zeroed_cpus(4)?;
        fill(
            &mut cpus[0],
            0,
            State::Running,
            b"spinner",
            &[
                (0x1000, b"ip_fn+0x1/0x10"),
                (0x2000, b"caller+0x2/0x20 [mod]"),
            ],
        );
        fill(
            &mut cpus[1],
            1,
            State::Idle,
            b"swapper/1",
            &[(0x3000, b"pv_native_safe_halt+0x16/0x20")],
        );
        fill(&mut cpus[2], 2, State::NoResponse, b"", &[]);
        fill(&mut cpus[3], 3, State::Offline, b"", &[]);
        let snap = Snapshot::new(info(4), cpus)?;
        assert_eq!(
            text(&snap, false)?.to_str()?,
            "snapshot 7 by sysrq at 5.000000123 s: 4 CPUs in 1.234 ms, 1 no-response\n\
             \nCPU 0: pid 100 tgid 100 comm spinner mode kernel context task irqs off \
             preempt_count 0x1, in the kernel for ? (first seen so by this snapshot)\n\
             \x20 ip_fn+0x1/0x10\n\
             \x20 caller+0x2/0x20 [mod]\n\
             \nCPU 1: idle at pv_native_safe_halt+0x16/0x20\n\
             \nCPU 2: no-response\n\
             \nCPU 3: offline\n"
        );
        Ok(())
    }

    #[test]
    fn text_shows_raw_addresses_only_when_allowed() -> Result {
        let snap = two_cpus()?;
        let hidden = text(&snap, false)?;
        let shown = text(&snap, true)?;
        assert!(!hidden.to_str()?.contains("0x1000"));
        assert!(!hidden.to_str()?.contains("0xffffffffa0022506"));
        assert!(hidden
            .to_str()?
            .contains("  ki_stuck_init_spin+0x1c/0x40 [ki_stuck_init]\n  ?\n"));
        assert!(shown.to_str()?.contains(" ip 0x1000 sp 0x0 flags 0x0\n"));
        assert!(shown.to_str()?.contains("\n  0xffffffffa0022506\n"));
        Ok(())
    }

    #[test]
    fn text_before_any_snapshot_says_so() -> Result {
        let mut snap = Snapshot::new(info(0), bridge::zeroed_cpus(0)?)?;
        snap.info.seq = 0;
        assert!(text(&snap, false)?.to_str()?.starts_with("no snapshot yet"));
        Ok(())
    }

    #[test]
    fn json_is_escaped_and_complete() -> Result {
        let mut cpus = bridge::zeroed_cpus(2)?;
        fill(
            &mut cpus[0],
            0,
            State::Running,
            b"a\"b\\\x01",
            &[(0x1000, b"ip_fn+0x1/0x10"), (0xbad, b"we\"ird")],
        );
        fill(&mut cpus[1], 1, State::NoResponse, b"", &[]);
        let snap = Snapshot::new(info(2), cpus)?;
        assert_eq!(
            json(&snap, false)?.to_str()?,
            "{\"seq\":7,\"source\":\"sysrq\",\"taken_ns\":5000000123,\"duration_ns\":1234567,\
             \"cpus\":[{\"cpu\":0,\"state\":\"running\",\"pid\":100,\"tgid\":100,\
             \"comm\":\"a\\\"b\\\\\\u0001\",\"mode\":\"kernel\",\"context\":\"task\",\
             \"irqs_disabled\":true,\"preempt_count\":1,\"taken_ns\":0,\"handler_ns\":0,\"on_cpu_ns\":null,\
             \"frames\":[\"ip_fn+0x1/0x10\",\"we\\\"ird\"],\"lockdep\":\"none\",\"held\":[],\
             \"held_dropped\":0,\"waits_for\":null},\
             {\"cpu\":1,\"state\":\"no-response\",\"frames\":[]}]}\n"
        );
        Ok(())
    }

    #[test]
    fn json_unresolved_frame_is_an_address_only_when_allowed() -> Result {
        let snap = two_cpus()?;
        let hidden = json(&snap, false)?;
        let shown = json(&snap, true)?;
        assert!(hidden
            .to_str()?
            .contains("\"frames\":[\"ki_stuck_init_spin+0x1c/0x40 [ki_stuck_init]\",\"?\"]"));
        assert!(!hidden.to_str()?.contains("0x1000"));
        assert!(shown.to_str()?.contains(
            "\"frames\":[\"ki_stuck_init_spin+0x1c/0x40 [ki_stuck_init]\",\
             \"0xffffffffa0022506\"]"
        ));
        Ok(())
    }

    #[test]
    fn json_before_any_snapshot_is_empty() -> Result {
        let mut cpus = bridge::zeroed_cpus(1)?;
        fill(&mut cpus[0], 0, State::Running, b"a", &[]);
        let mut raw = info(1);
        raw.seq = 0;
        raw.source = Source::None as u32;
        let snap = Snapshot::new(raw, cpus)?;
        assert_eq!(
            json(&snap, true)?.to_str()?,
            "{\"seq\":0,\"source\":\"none\",\"taken_ns\":5000000123,\"duration_ns\":1234567,\
             \"cpus\":[]}\n"
        );
        Ok(())
    }

    /// A lockdep entry of a CPU record: `name` acquired at `site`, `ns` ago.
    fn lock(name: &[u8], site: &[u8], ns: u64, flags: LockFlags) -> RawHeld {
        let mut h = RawHeld::zeroed();
        h.kind = crate::bridge::LockKind::Spin.into();
        h.held_ns = ns;
        h.flags = flags;
        copy(&mut h.name, name);
        copy(&mut h.site, site);
        h
    }

    /// A task spinning on a lock, caught in a timer interrupt that was taking a lock of its
    /// own: the task waits for its lock (the outermost wait), and both are waited for.
    #[test]
    fn a_wait_under_an_interrupt_is_the_tasks() -> Result {
        let mut cpus = bridge::zeroed_cpus(1)?;
        fill(&mut cpus[0], 0, State::Running, b"dd", &[]);
        let waiting = LockFlag::Waiting.into();
        cpus[0].nr_held = 3;
        cpus[0].held[0] = lock(
            b"&p->lock",
            b"seq_read_iter+0x38/0x390",
            0,
            LockFlags::empty(),
        );
        cpus[0].held[1] = lock(b"test_lock", b"spin+0xf3/0x120 [m]", 0, waiting);
        cpus[0].held[1].lock_addr = 0x2000;
        cpus[0].held[2] = lock(
            b"hrtimer_bases.lock",
            b"hrtimer_interrupt+0x4b/0x220",
            0,
            waiting,
        );
        cpus[0].held[2].lock_addr = 0x3000;
        assert_eq!(cpus[0].waits_for().map(|h| h.lock_addr), Some(0x2000));
        assert!(cpus[0].waits_for_lock(0x2000) && cpus[0].waits_for_lock(0x3000));
        assert!(!cpus[0].waits_for_lock(0x4000));
        Ok(())
    }

    /// Issue 9 items 1 and 2: a CPU shows how long it has been on its task, the locks it held
    /// at the NMI and the one it spun on; lockdep off says so.
    #[test]
    fn held_locks_and_time_on_cpu() -> Result {
        let mut cpus = bridge::zeroed_cpus(2)?;
        fill(
            &mut cpus[0],
            0,
            State::Running,
            b"dd",
            &[(0x1000, b"kintrospect_test_spin_loop+0x1/0x10 [kintrospect]")],
        );
        cpus[0].taken_ns = 5_000_000_000;
        cpus[0].on_cpu_since_ns = 2_500_000_000;
        cpus[0].lockdep = CpuLockdep::On as u32;
        cpus[0].nr_held = 2;
        cpus[0].held_dropped = 3;
        cpus[0].held[0] = lock(b"outer", b"f+0x1/0x2", 0, LockFlags::empty());
        cpus[0].held[1] = lock(
            b"kintrospect_test_lock",
            b"kintrospect_test_spin+0x3c/0x90 [kintrospect]",
            2_000_000_000,
            LockFlags::empty(),
        );
        fill(&mut cpus[1], 1, State::Running, b"dd", &[]);
        cpus[1].taken_ns = 5_000_000_000;
        cpus[1].on_cpu_since_ns = 5_000_000_000;
        cpus[1].lockdep = CpuLockdep::On as u32;
        cpus[1].nr_held = 1;
        cpus[1].held[0] = lock(
            b"kintrospect_test_lock",
            b"kintrospect_test_spin+0x3c/0x90 [kintrospect]",
            1_500_000,
            LockFlag::Waiting.into(),
        );
        let snap = Snapshot::new(info(2), cpus)?;
        assert_eq!(snap.cpus[0].on_cpu_ns(), Some(2_500_000_000));
        assert_eq!(snap.cpus[1].on_cpu_ns(), None);
        let t = text(&snap, false)?;
        let t = t.to_str()?;
        assert!(t.contains(
            "preempt_count 0x1, in the kernel for at least 2.500 s\n\
             \x20 kintrospect_test_spin_loop+0x1/0x10 [kintrospect]\n\
             \x20 holds outer (spinlock, write) acquired at f+0x1/0x2\n\
             \x20 holds kintrospect_test_lock (spinlock, write) acquired at \
             kintrospect_test_spin+0x3c/0x90 [kintrospect], held 2000.000 ms\n\
             \x20 ... 3 more held locks not kept (outermost)\n"
        ));
        assert!(t.contains(
            "in the kernel for ? (first seen so by this snapshot)\n\
             \x20 waits for kintrospect_test_lock (spinlock) asked at \
             kintrospect_test_spin+0x3c/0x90 [kintrospect], 1.500 ms ago\n"
        ));
        let j = json(&snap, false)?;
        let j = j.to_str()?;
        assert!(j.contains(
            "\"on_cpu_ns\":2500000000,\"frames\":[\"kintrospect_test_spin_loop+0x1/0x10 \
             [kintrospect]\"],\"lockdep\":\"on\",\"held\":[{\"name\":\"outer\",\
             \"kind\":\"spinlock\",\"mode\":\"write\",\"magic_bad\":false,\
             \"acquired_at\":\"f+0x1/0x2\",\"held_ns\":null,\"maybe_waiting\":false},{\"name\":\
             \"kintrospect_test_lock\",\"kind\":\"spinlock\",\"mode\":\"write\",\
             \"magic_bad\":false,\"acquired_at\":\"kintrospect_test_spin+0x3c/0x90 \
             [kintrospect]\",\"held_ns\":2000000000,\"maybe_waiting\":false}],\"held_dropped\":3,\"waits_for\":null}"
        ));
        assert!(j.contains(
            "\"on_cpu_ns\":null,\"frames\":[],\"lockdep\":\"on\",\"held\":[],\
             \"held_dropped\":0,\"waits_for\":{\"name\":\"kintrospect_test_lock\",\
             \"kind\":\"spinlock\",\"at\":\"kintrospect_test_spin+0x3c/0x90 [kintrospect]\",\
             \"waiting_ns\":1500000}}"
        ));
        Ok(())
    }

    /// Issue 17 item 3: a task spinning on a mutex its NMI found owned by another task waits
    /// for it (it is not listed holding it); a lock the NMI could not decide is "acquiring or
    /// held", in the text and as `maybe_waiting` in JSON.
    #[test]
    fn waiting_and_maybe_held_locks() -> Result {
        use crate::bridge::LockKind;
        let mut cpus = bridge::zeroed_cpus(1)?;
        fill(&mut cpus[0], 0, State::Running, b"ki_lt_spin", &[]);
        cpus[0].lockdep = CpuLockdep::On as u32;
        cpus[0].nr_held = 2;
        cpus[0].held[0] = lock(
            b"sb_writers",
            b"vfs_write+0x97/0x180",
            0,
            LockFlags::empty(),
        );
        cpus[0].held[0].kind = LockKind::Other.into();
        cpus[0].held[0].mode = 1;
        cpus[0].held[0].flags = LockFlag::MaybeWaiting.into();
        cpus[0].held[1] = lock(
            b"ki_lt_mutex",
            b"ki_lt_mutex_waiter+0x2a/0x60 [ki_locktypes]",
            2_000_000,
            LockFlag::Waiting.into(),
        );
        cpus[0].held[1].kind = LockKind::Mutex.into();
        let snap = Snapshot::new(info(1), cpus)?;
        let t = text(&snap, false)?;
        let t = t.to_str()?;
        assert!(t.contains(
            "\n  acquiring or held sb_writers (other, read) asked at vfs_write+0x97/0x180\n\
             \x20 waits for ki_lt_mutex (mutex) asked at \
             ki_lt_mutex_waiter+0x2a/0x60 [ki_locktypes], 2.000 ms ago\n"
        ));
        assert!(!t.contains("holds"));
        let j = json(&snap, false)?;
        assert!(j.to_str()?.contains(
            "\"held\":[{\"name\":\"sb_writers\",\"kind\":\"other\",\"mode\":\"read\",\
             \"magic_bad\":false,\"acquired_at\":\"vfs_write+0x97/0x180\",\"held_ns\":null,\
             \"maybe_waiting\":true}],\"held_dropped\":0,\"waits_for\":{\"name\":\
             \"ki_lt_mutex\",\"kind\":\"mutex\",\"at\":\
             \"ki_lt_mutex_waiter+0x2a/0x60 [ki_locktypes]\",\"waiting_ns\":2000000}}"
        ));
        Ok(())
    }

    #[test]
    fn lockdep_off_says_so() -> Result {
        let mut cpus = bridge::zeroed_cpus(1)?;
        fill(&mut cpus[0], 0, State::Running, b"x", &[]);
        cpus[0].lockdep = CpuLockdep::Off as u32;
        let snap = Snapshot::new(info(1), cpus)?;
        assert!(text(&snap, false)?
            .to_str()?
            .contains("\n  held locks unknown: lockdep is off\n"));
        assert!(json(&snap, false)?
            .to_str()?
            .contains("\"lockdep\":\"off\",\"held\":[],"));
        Ok(())
    }

    /// A user loop caught in the timer interrupt: mode user, context irq, in both files.
    #[test]
    fn user_mode_under_an_interrupt() -> Result {
        let mut cpus = bridge::zeroed_cpus(1)?;
        fill(&mut cpus[0], 0, State::Running, b"loop", &[]);
        cpus[0].mode = Mode::User as u32;
        cpus[0].context = Context::Irq as u32;
        let snap = Snapshot::new(info(1), cpus)?;
        assert!(text(&snap, false)?
            .to_str()?
            .contains(" comm loop mode user context irq irqs off preempt_count 0x1, "));
        assert!(json(&snap, false)?
            .to_str()?
            .contains("\"mode\":\"user\",\"context\":\"irq\",\"irqs_disabled\":true,"));
        Ok(())
    }

    #[test]
    fn codes_are_checked() -> Result {
        assert_eq!(State::try_from(3), Ok(State::NoResponse));
        assert_eq!(Mode::try_from(1), Ok(Mode::User));
        assert_eq!(Source::try_from(2), Ok(Source::Sysrq));
        assert_eq!(State::try_from(4), Err(EINVAL));
        assert_eq!(Context::try_from(2), Ok(Context::Irq));
        assert_eq!(Context::try_from(4), Err(EINVAL));
        let mut cpus = bridge::zeroed_cpus(1)?;
        cpus[0].state = 9;
        assert!(Snapshot::new(info(1), cpus).is_err());
        let mut bad = info(0);
        bad.source = 7;
        assert!(Snapshot::new(bad, bridge::zeroed_cpus(0)?).is_err());
        Ok(())
    }
}
