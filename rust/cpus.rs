// SPDX-License-Identifier: GPL-2.0

//! Per-CPU NMI backtrace snapshots: the `cpus` and `cpus.json` files.
//!
//! The capture itself is in C (`rust/c/nmi.c`): every CPU writes its own record in NMI context.
//! This file copies the latest snapshot out and formats it, in process context, when a file is
//! read. Formatting is deterministic: the seq_file may call it twice for one read.

use crate::{
    bridge::{
        self,
        RawCpu,
        RawCpusInfo, //
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

/// Room for one symbol, `KSYM_SYMBOL_LEN` rounded up.
pub(crate) const SYMBOL_LEN: usize = 704;

/// What a CPU was doing (`enum kintrospect_cpu_state`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    Offline,
    Running,
    Idle,
    NoResponse,
}

impl State {
    fn from_raw(v: u32) -> Self {
        match v {
            1 => State::Running,
            2 => State::Idle,
            3 => State::NoResponse,
            _ => State::Offline,
        }
    }

    fn name(self) -> &'static str {
        match self {
            State::Offline => "offline",
            State::Running => "running",
            State::Idle => "idle",
            State::NoResponse => "no-response",
        }
    }
}

/// The context the NMI interrupted (`enum kintrospect_mode`).
fn mode_name(v: u32) -> &'static str {
    match v {
        1 => "user",
        2 => "idle",
        _ => "kernel",
    }
}

/// Who took a snapshot (`enum kintrospect_source`).
fn source_name(v: u32) -> &'static str {
    match v {
        1 => "control",
        2 => "sysrq",
        _ => "none",
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

/// A copy of one snapshot.
pub(crate) struct Snapshot {
    pub(crate) info: RawCpusInfo,
    pub(crate) cpus: KVec<RawCpu>,
}

impl Snapshot {
    /// Copies the latest snapshot out of the NMI buffers.
    pub(crate) fn latest(nmi: &bridge::Nmi) -> Result<Self> {
        let mut cpus = KVec::new();
        let info = nmi.copy(&mut cpus)?;
        Ok(Self { info, cpus })
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
pub(crate) fn write_comm(w: &mut impl Write, comm: &[u8; 16]) -> fmt::Result {
    write_printable(w, nul_terminated(comm))
}

/// The bytes of a NUL-terminated task name.
pub(crate) fn comm_bytes(comm: &[u8; 16]) -> &[u8] {
    nul_terminated(comm)
}

/// The frames of a CPU record, bounded by the record's own array.
fn frames(c: &RawCpu) -> &[u64] {
    let n = (c.nr_frames as usize).min(c.frames.len());
    &c.frames[..n]
}

/// Writes a symbol for people.
pub(crate) fn write_symbol(w: &mut impl Write, name: &[u8]) -> fmt::Result {
    w.write_str(core::str::from_utf8(name).unwrap_or("?"))
}

/// The `cpus` file: one block per CPU in the spirit of SysRq-l.
pub(crate) struct Text<'a, S: Symbols>(pub(crate) &'a Snapshot, pub(crate) &'a S);

impl<S: Symbols> fmt::Display for Text<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Text(snap, syms) = self;
        let info = &snap.info;
        if info.seq == 0 {
            return f.write_str("no snapshot yet: write \"snapshot cpus\" to control\n");
        }
        writeln!(
            f,
            "snapshot {} by {} at {}.{:09} s: {} CPUs in {}.{:03} ms, {} no-response",
            info.seq,
            source_name(info.source),
            info.taken_ns / 1_000_000_000,
            info.taken_ns % 1_000_000_000,
            info.nr_cpus,
            info.duration_ns / 1_000_000,
            info.duration_ns / 1_000 % 1_000,
            info.nr_no_response
        )?;
        let mut buf = [0u8; SYMBOL_LEN];
        for c in snap.cpus.iter() {
            let state = State::from_raw(c.state);
            write!(f, "\nCPU {}: ", c.cpu)?;
            match state {
                State::Offline | State::NoResponse => {
                    writeln!(f, "{}", state.name())?;
                    continue;
                }
                State::Idle => {
                    f.write_str("idle at ")?;
                    write_symbol(f, syms.name(c.ip, false, &mut buf))?;
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
                mode_name(c.mode),
                if c.irqs_disabled != 0 { "off" } else { "on" },
                c.preempt_count
            )?;
            if syms.raw_addresses() {
                writeln!(f, " ip {:#x} sp {:#x} flags {:#x}", c.ip, c.sp, c.flags)?;
            }
            for (i, &addr) in frames(c).iter().enumerate() {
                f.write_str("  ")?;
                write_symbol(f, syms.name(addr, i != 0, &mut buf))?;
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
        write!(
            f,
            "{{\"seq\":{},\"source\":\"{}\",\"taken_ns\":{},\"duration_ns\":{},\"cpus\":[",
            info.seq,
            source_name(info.source),
            info.taken_ns,
            info.duration_ns
        )?;
        let mut buf = [0u8; SYMBOL_LEN];
        let cpus = if info.seq == 0 {
            &[][..]
        } else {
            &snap.cpus[..]
        };
        for (n, c) in cpus.iter().enumerate() {
            let state = State::from_raw(c.state);
            if n != 0 {
                f.write_char(',')?;
            }
            write!(f, "{{\"cpu\":{},\"state\":\"{}\"", c.cpu, state.name())?;
            if matches!(state, State::Offline | State::NoResponse) {
                f.write_str(",\"frames\":[]}")?;
                continue;
            }
            write!(f, ",\"pid\":{},\"tgid\":{},\"comm\":", c.pid, c.tgid)?;
            Display::fmt(&json::Str(comm_bytes(&c.comm)), f)?;
            write!(
                f,
                ",\"mode\":\"{}\",\"irqs_disabled\":{},\"preempt_count\":{},\
                 \"taken_ns\":{},\"handler_ns\":{}",
                mode_name(c.mode),
                json::bool_str(c.irqs_disabled != 0),
                c.preempt_count,
                c.taken_ns,
                c.handler_ns
            )?;
            if syms.raw_addresses() {
                write!(f, ",\"ip\":\"{:#x}\",\"sp\":\"{:#x}\"", c.ip, c.sp)?;
            }
            f.write_str(",\"frames\":[")?;
            for (i, &addr) in frames(c).iter().enumerate() {
                if i != 0 {
                    f.write_char(',')?;
                }
                Display::fmt(&json::Str(syms.name(addr, i != 0, &mut buf)), f)?;
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

    /// Names every address `f<hex>`, with a quote in it for 0xbad, to exercise escaping.
    struct FakeSymbols {
        raw: bool,
    }

    impl Symbols for FakeSymbols {
        fn name<'b>(&self, addr: u64, ret: bool, buf: &'b mut [u8]) -> &'b [u8] {
            let name: &[u8] = match (addr, ret) {
                (0xbad, _) => b"we\"ird",
                (_, false) => b"ip_fn+0x1/0x10",
                (_, true) => b"caller+0x2/0x20 [mod]",
            };
            let n = copy(buf, name);
            &buf[..n]
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

    fn cpu(n: u32, state: u32, comm: &[u8], frames: &[u64]) -> RawCpu {
        let mut c = RawCpu::zeroed();
        c.cpu = n;
        c.state = state;
        c.pid = 100 + n as i32;
        c.tgid = 100;
        c.ip = 0x1000;
        c.irqs_disabled = 1;
        c.preempt_count = 1;
        copy(&mut c.comm, comm);
        c.nr_frames = copy(&mut c.frames, frames) as u32;
        c
    }

    fn snapshot(cpus: &[RawCpu]) -> Result<Snapshot> {
        let mut v = KVec::new();
        for c in cpus {
            v.push(*c, GFP_KERNEL)?;
        }
        Ok(Snapshot {
            info: RawCpusInfo {
                seq: 7,
                taken_ns: 5_000_000_123,
                duration_ns: 1_234_567,
                source: 2,
                nr_cpus: cpus.len() as u32,
                nr_no_response: 1,
                pad: 0,
            },
            cpus: v,
        })
    }

    #[test]
    fn text_has_one_block_per_cpu() -> Result {
        let snap = snapshot(&[
            cpu(0, 1, b"spinner", &[0x1000, 0x2000]),
            cpu(1, 2, b"swapper/1", &[0x3000]),
            cpu(2, 3, b"", &[]),
            cpu(3, 0, b"", &[]),
        ])?;
        let syms = FakeSymbols { raw: false };
        let s = CString::try_from_fmt(fmt!("{}", Text(&snap, &syms)))?;
        assert_eq!(
            s.to_str()?,
            "snapshot 7 by sysrq at 5.000000123 s: 4 CPUs in 1.234 ms, 1 no-response\n\
             \nCPU 0: pid 100 tgid 100 comm spinner mode kernel irqs off preempt_count 0x1\n\
             \x20 ip_fn+0x1/0x10\n\
             \x20 caller+0x2/0x20 [mod]\n\
             \nCPU 1: idle at ip_fn+0x1/0x10\n\
             \nCPU 2: no-response\n\
             \nCPU 3: offline\n"
        );
        Ok(())
    }

    #[test]
    fn text_shows_raw_addresses_only_when_allowed() -> Result {
        let snap = snapshot(&[cpu(0, 1, b"a", &[0x1000])])?;
        let hidden = CString::try_from_fmt(fmt!("{}", Text(&snap, &FakeSymbols { raw: false })))?;
        let shown = CString::try_from_fmt(fmt!("{}", Text(&snap, &FakeSymbols { raw: true })))?;
        assert!(!hidden.to_str()?.contains("0x1000"));
        assert!(shown.to_str()?.contains(" ip 0x1000 sp 0x0 flags 0x0\n"));
        Ok(())
    }

    #[test]
    fn text_before_any_snapshot_says_so() -> Result {
        let mut snap = snapshot(&[])?;
        snap.info.seq = 0;
        let s = CString::try_from_fmt(fmt!("{}", Text(&snap, &FakeSymbols { raw: false })))?;
        assert!(s.to_str()?.starts_with("no snapshot yet"));
        Ok(())
    }

    #[test]
    fn json_is_escaped_and_complete() -> Result {
        let snap = snapshot(&[
            cpu(0, 1, b"a\"b\\\x01", &[0x1000, 0xbad]),
            cpu(1, 3, b"", &[]),
        ])?;
        let s = CString::try_from_fmt(fmt!("{}", Json(&snap, &FakeSymbols { raw: false })))?;
        assert_eq!(
            s.to_str()?,
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
    fn json_before_any_snapshot_is_empty() -> Result {
        let mut snap = snapshot(&[cpu(0, 1, b"a", &[])])?;
        snap.info.seq = 0;
        snap.info.source = 0;
        let s = CString::try_from_fmt(fmt!("{}", Json(&snap, &FakeSymbols { raw: true })))?;
        assert_eq!(
            s.to_str()?,
            "{\"seq\":0,\"source\":\"none\",\"taken_ns\":5000000123,\"duration_ns\":1234567,\
             \"cpus\":[]}\n"
        );
        Ok(())
    }
}
