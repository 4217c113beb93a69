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
        Mode,
        RawCpu,
        RawCpusInfo,
        Source,
        State,
        COMM_LEN,
        MAX_FRAMES, //
    },
    json, //
};
use kernel::{
    fmt::{
        self,
        Display,
        Write, //
    },
    prelude::*,
};

/// Room for one symbol looked up when a report is read, `KSYM_SYMBOL_LEN` rounded up.
pub(crate) const SYMBOL_LEN: usize = 704;

impl State {
    fn name(self) -> &'static str {
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
    fn name(self) -> &'static str {
        match self {
            Mode::Kernel => "kernel",
            Mode::User => "user",
            Mode::Idle => "idle",
        }
    }
}

impl Source {
    fn name(self) -> &'static str {
        match self {
            Source::None => "none",
            Source::Control => "control",
            Source::Sysrq => "sysrq",
        }
    }
}

/// Names code addresses: kallsyms in the module, a fixed table in the tests.
pub(crate) trait Symbols {
    /// Writes the name of `addr` into `buf` and returns it; `return_address` looks it up as a
    /// call's return address.
    fn name<'b>(&self, addr: u64, return_address: bool, buf: &'b mut [u8]) -> &'b [u8];
    /// Whether raw addresses may be shown to the reader.
    fn raw_addresses(&self) -> bool;
}

/// The running kernel's symbols, with the reader's `kptr_restrict` rights.
pub(crate) struct Kallsyms {
    raw: bool,
}

impl Kallsyms {
    /// Looks up the reader's rights once per read.
    pub(crate) fn new() -> Self {
        Self {
            raw: bridge::raw_addresses_allowed(),
        }
    }
}

impl Symbols for Kallsyms {
    fn name<'b>(&self, addr: u64, return_address: bool, buf: &'b mut [u8]) -> &'b [u8] {
        bridge::symbol(addr, return_address, buf)
    }

    fn raw_addresses(&self) -> bool {
        self.raw
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
        }
        // INVARIANT: Every code was checked above.
        Ok(Self { info, source, cpus })
    }

    /// Copies the latest snapshot out of the NMI buffers.
    pub(crate) fn latest(nmi: &bridge::Nmi) -> Result<Self> {
        let (info, cpus) = nmi.copy()?;
        Self::new(info, cpus)
    }

    /// The CPU records with their checked state and mode.
    fn cpus(&self) -> impl Iterator<Item = (&RawCpu, State, Mode)> {
        self.cpus.iter().map(|c| {
            // By the type invariant the codes are valid: the fallbacks are never taken.
            let state = State::try_from(c.state).unwrap_or(State::Offline);
            let mode = Mode::try_from(c.mode).unwrap_or(Mode::Kernel);
            (c, state, mode)
        })
    }
}

/// Writes kernel bytes (a task or lock name) for people: printable ASCII, anything else as `?`.
pub(crate) fn write_printable(w: &mut impl Write, bytes: &[u8]) -> fmt::Result {
    for &b in bytes {
        w.write_char(if (0x20..0x7f).contains(&b) {
            char::from(b)
        } else {
            '?'
        })?;
    }
    Ok(())
}

/// The bytes of a NUL-terminated C string kept in a fixed array (all of it without a NUL).
pub(crate) fn nul_terminated(bytes: &[u8]) -> &[u8] {
    let n = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    &bytes[..n]
}

/// Writes a task name for people.
pub(crate) fn write_comm(w: &mut impl Write, comm: &[u8; COMM_LEN]) -> fmt::Result {
    write_printable(w, nul_terminated(comm))
}

/// The bytes of a NUL-terminated task name.
pub(crate) fn comm_bytes(comm: &[u8; COMM_LEN]) -> &[u8] {
    nul_terminated(comm)
}

/// Writes a symbol (`function+off/size [module]`) for people and JSON, Rust names demangled.
pub(crate) fn write_symbol(w: &mut impl Write, name: &[u8]) -> fmt::Result {
    crate::demangle::write(w, name)
}

/// One frame of a CPU record.
#[derive(Clone, Copy)]
enum Frame<'a> {
    /// Named when the snapshot was taken: `function+off/size [module]`.
    Named(&'a [u8]),
    /// kallsyms had no name for this address.
    Unresolved(u64),
}

impl Frame<'_> {
    /// Writes the frame for people: an unresolved one as its address only where the reader may
    /// see raw addresses (as `%pK` decides), else as `?`.
    fn write(self, w: &mut impl Write, raw: bool) -> fmt::Result {
        match self {
            Frame::Named(name) => write_symbol(w, name),
            Frame::Unresolved(addr) if raw => write!(w, "{addr:#x}"),
            Frame::Unresolved(_) => w.write_char('?'),
        }
    }

    /// Writes the frame as a JSON string, with the same rule.
    fn write_json(self, f: &mut fmt::Formatter<'_>, raw: bool) -> fmt::Result {
        match self {
            Frame::Named(name) => Display::fmt(&json::Symbol(name), f),
            Frame::Unresolved(addr) if raw => write!(f, "\"{addr:#x}\""),
            Frame::Unresolved(_) => f.write_str("\"?\""),
        }
    }
}

/// The frames of a CPU record, innermost first, bounded by the record's own arrays.
fn frames(c: &RawCpu) -> impl Iterator<Item = Frame<'_>> {
    let n = (c.nr_frames as usize).min(MAX_FRAMES);
    c.frames[..n]
        .iter()
        .zip(c.symbols.iter())
        .enumerate()
        .map(|(i, (&addr, name))| {
            if c.unresolved & (1u64 << i) != 0 {
                Frame::Unresolved(addr)
            } else {
                Frame::Named(nul_terminated(name))
            }
        })
}

/// The `cpus` file: one block per CPU in the spirit of SysRq-l.
pub(crate) struct Text<'a, S: Symbols>(pub(crate) &'a Snapshot, pub(crate) &'a S);

impl<S: Symbols> fmt::Display for Text<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Text(snap, syms) = self;
        let info = &snap.info;
        let raw = syms.raw_addresses();
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
                        Some(ip) => ip.write(f, raw)?,
                        None => f.write_char('?')?,
                    }
                    f.write_char('\n')?;
                    continue;
                }
                State::Running => {}
            }
            write!(f, "pid {} tgid {} comm ", c.pid, c.tgid)?;
            write_comm(f, &c.comm)?;
            writeln!(
                f,
                " mode {} irqs {} preempt_count {:#x}",
                mode.name(),
                if c.irqs_disabled != 0 { "off" } else { "on" },
                c.preempt_count
            )?;
            if raw {
                writeln!(f, " ip {:#x} sp {:#x} flags {:#x}", c.ip, c.sp, c.flags)?;
            }
            for frame in frames(c) {
                f.write_str("  ")?;
                frame.write(f, raw)?;
                f.write_char('\n')?;
            }
        }
        Ok(())
    }
}

/// The `cpus.json` file: the same snapshot as one JSON document.
pub(crate) struct Json<'a, S: Symbols>(pub(crate) &'a Snapshot, pub(crate) &'a S);

impl<S: Symbols> fmt::Display for Json<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Json(snap, syms) = self;
        let info = &snap.info;
        let raw = syms.raw_addresses();
        write!(
            f,
            "{{\"seq\":{},\"source\":\"{}\",\"taken_ns\":{},\"duration_ns\":{},\"cpus\":[",
            info.seq,
            snap.source.name(),
            info.taken_ns,
            info.duration_ns
        )?;
        let nr = if info.seq == 0 { 0 } else { snap.cpus.len() };
        for (n, (c, state, mode)) in snap.cpus().take(nr).enumerate() {
            if n != 0 {
                f.write_char(',')?;
            }
            write!(f, "{{\"cpu\":{},\"state\":\"{}\"", c.cpu, state.name())?;
            if !state.has_data() {
                f.write_str(",\"frames\":[]}")?;
                continue;
            }
            write!(f, ",\"pid\":{},\"tgid\":{},\"comm\":", c.pid, c.tgid)?;
            Display::fmt(&json::Str(comm_bytes(&c.comm)), f)?;
            write!(
                f,
                ",\"mode\":\"{}\",\"irqs_disabled\":{},\"preempt_count\":{},\
                 \"taken_ns\":{},\"handler_ns\":{}",
                mode.name(),
                json::bool_str(c.irqs_disabled != 0),
                c.preempt_count,
                c.taken_ns,
                c.handler_ns
            )?;
            if raw {
                write!(f, ",\"ip\":\"{:#x}\",\"sp\":\"{:#x}\"", c.ip, c.sp)?;
            }
            f.write_str(",\"frames\":[")?;
            for (i, frame) in frames(c).enumerate() {
                if i != 0 {
                    f.write_char(',')?;
                }
                frame.write_json(f, raw)?;
            }
            f.write_str("]}")?;
        }
        f.write_str("]}\n")
    }
}

#[cfg(kintrospect_kunit)]
#[kernel::macros::kunit_tests(kintrospect_cpus)]
mod tests {
    use super::*;
    use kernel::str::CString;

    /// Only the reader's rights matter: frames are named when the snapshot is taken.
    struct FakeSymbols {
        raw: bool,
    }

    impl Symbols for FakeSymbols {
        fn name<'b>(&self, _addr: u64, _ret: bool, buf: &'b mut [u8]) -> &'b [u8] {
            &buf[..0]
        }

        fn raw_addresses(&self) -> bool {
            self.raw
        }
    }

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
        CString::try_from_fmt(fmt!("{}", Text(snap, &FakeSymbols { raw })))
    }

    fn json(snap: &Snapshot, raw: bool) -> Result<CString> {
        CString::try_from_fmt(fmt!("{}", Json(snap, &FakeSymbols { raw })))
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
             \nCPU 0: pid 100 tgid 100 comm spinner mode kernel irqs off preempt_count 0x1\n\
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
             \"comm\":\"a\\\"b\\\\\\u0001\",\"mode\":\"kernel\",\"irqs_disabled\":true,\
             \"preempt_count\":1,\"taken_ns\":0,\"handler_ns\":0,\
             \"frames\":[\"ip_fn+0x1/0x10\",\"we\\\"ird\"]},\
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

    #[test]
    fn codes_are_checked() -> Result {
        assert_eq!(State::try_from(3), Ok(State::NoResponse));
        assert_eq!(Mode::try_from(1), Ok(Mode::User));
        assert_eq!(Source::try_from(2), Ok(Source::Sysrq));
        assert_eq!(State::try_from(4), Err(EINVAL));
        let mut cpus = bridge::zeroed_cpus(1)?;
        cpus[0].state = 9;
        assert!(Snapshot::new(info(1), cpus).is_err());
        let mut bad = info(0);
        bad.source = 7;
        assert!(Snapshot::new(bad, bridge::zeroed_cpus(0)?).is_err());
        Ok(())
    }
}
