// SPDX-License-Identifier: GPL-2.0

//! The files under `/sys/kernel/debug/kintrospect/`: what each one shows and does.
//!
//! [`Data`] is the module state; its [`Handler`] table lists every file with what a read shows
//! and what a write does. The files themselves are created by the C part (see
//! [`bridge::Registration`]) so that an open file pins the module.

use crate::{
    bridge::{
        self,
        FileDef,
        Handler,
        Leak,
        Nmi,
        Source,
        SpinEnd,
        TestPath, //
    },
    control::{
        self,
        Command,
        What, //
    },
    cpus, locks,
    slab::{
        self,
        Slab, //
    },
    status::Status,
};
use kernel::{
    fmt::{
        self,
        Display, //
    },
    new_mutex,
    prelude::*,
    sync::Mutex, //
};

/// State shared by kintrospect's files.
#[pin_data]
pub(crate) struct Data {
    nmi: Nmi,
    /// Serialises CPU snapshots from `control`, so that a second writer waits instead of
    /// failing; a capture is bounded by `nmi_timeout_ms`. Nothing else is ever waited for under
    /// it: a CPU snapshot never waits for a locks walk or a slab read.
    #[pin]
    cpus_lock: Mutex<()>,
    /// The latest locks snapshot.
    #[pin]
    locks: Mutex<locks::State>,
    status: Status,
    /// The slab sampler's state (baseline, latest sample, trend).
    #[pin]
    pub(crate) slab: Slab,
    pub(crate) test: Option<TestPath>,
    /// The leak test path (`test_paths=1`).
    leak: Option<Leak>,
    spin_timeout_ms: u32,
}

impl Data {
    /// Registers the NMI handler and sets up the state, with the module parameters.
    ///
    /// Also takes the slab baseline and, with `test_paths=1`, creates the leak test cache.
    pub(crate) fn new(params: &bridge::Params) -> Result<impl PinInit<Self, Error>> {
        let test_paths = params.test_paths;
        let slab = Slab::new(slab::Params::from_module(params))?;
        let leak = if test_paths {
            Some(Leak::create()?)
        } else {
            None
        };
        Ok(try_pin_init!(Self {
            nmi: Nmi::register(params.nmi_timeout_ms)?,
            cpus_lock <- new_mutex!((), "kintrospect_cpus"),
            locks <- new_mutex!(locks::State::new()?, "kintrospect_locks"),
            status: Status {
                features: bridge::features(),
                sysrq_key: params.sysrq_key,
                nmi_timeout_ms: params.nmi_timeout_ms,
                test_paths,
                nr_cpu_slots: bridge::nr_cpu_slots(),
                snapshot_memory: bridge::snapshot_memory(),
            },
            slab <- slab,
            test: test_paths.then(TestPath::new),
            leak,
            spin_timeout_ms: params.spin_timeout_ms,
        }? Error))
    }

    /// Takes a CPU snapshot for `control`.
    fn snapshot_cpus(&self) -> Result {
        let _guard = self.cpus_lock.lock();
        self.nmi.capture(Source::Control)
    }
}

impl Handler for Data {
    const FILES: &'static [FileDef<Self>] = &[
        FileDef::read(c"status", show_status),
        FileDef::write(c"control", write_control),
        FileDef::read(c"cpus", |d, f| show_cpus(d, false, f)),
        FileDef::read(c"cpus.json", |d, f| show_cpus(d, true, f)),
        FileDef::read(c"locks", |d, f| show_locks(d, false, f)),
        FileDef::read(c"locks.json", |d, f| show_locks(d, true, f)),
        FileDef::read(c"slab_delta", |d, f| d.slab.write_text(f)),
        FileDef::read(c"slab_delta.json", |d, f| d.slab.write_json(f)),
        FileDef::dir(c"test/").test(),
        FileDef::read(c"test/spin", |d, f| spin(d, false, f)).test(),
        FileDef::read(c"test/spin_irqoff", |d, f| spin(d, true, f)).test(),
        FileDef::write(c"test/release", write_release).test(),
        FileDef::read(c"test/abba_a", |d, f| abba(d, false, f)).test(),
        FileDef::read(c"test/abba_b", |d, f| abba(d, true, f)).test(),
        FileDef::write(c"test/leak", write_leak).test(),
    ];

    /// The SysRq key's process-context part: a locks snapshot and a slab sample, after the CPU
    /// snapshot the handler took. Neither waits for a snapshot already in progress: that one's
    /// result is as fresh.
    fn sysrq(&self) {
        match self.locks.try_lock() {
            None => pr_info!("locks snapshot by sysrq skipped: one is in progress\n"),
            Some(mut locks) => match locks.snapshot() {
                Ok(0) => pr_info!("locks snapshot taken by sysrq: no deadlock\n"),
                Ok(n) => pr_info!("locks snapshot taken by sysrq: {n} DEADLOCK(S), see locks\n"),
                Err(e) => pr_info!("locks snapshot by sysrq failed: {e:?}\n"),
            },
        }
        if let Err(e) = self.slab.sample() {
            pr_info!("slab sample by sysrq failed: {e:?}\n");
        }
    }

    /// One periodic slab sample.
    fn tick(&self) {
        self.slab.tick();
    }
}

/// The `status` file.
fn show_status(data: &Data, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    data.status.write(f, Status::kernel_release())?;
    data.slab.write_status(f)?;
    writeln!(f, "locks_buffer_bytes: {}", data.locks.lock().memory())?;
    match &data.leak {
        Some(leak) => writeln!(f, "test_leak_objects: {}", leak.count()),
        None => Ok(()),
    }
}

/// The `locks` and `locks.json` files.
fn show_locks(data: &Data, json: bool, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let state = data.locks.lock();
    match state.latest() {
        None => writeln!(f, "no snapshot yet: write \"snapshot locks\" to control"),
        Some(snap) if json => Display::fmt(&locks::Json(snap, &cpus::Kallsyms::new()), f),
        Some(snap) => Display::fmt(&locks::Text(snap, &cpus::Kallsyms::new()), f),
    }
}

/// The `cpus` and `cpus.json` files.
fn show_cpus(data: &Data, json: bool, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match cpus::Snapshot::latest(&data.nmi) {
        Ok(snap) if json => Display::fmt(&cpus::Json(&snap, &cpus::Kallsyms::new()), f),
        Ok(snap) => Display::fmt(&cpus::Text(&snap, &cpus::Kallsyms::new()), f),
        Err(e) => writeln!(f, "error: cannot copy the snapshot ({e:?})"),
    }
}

/// A write to `control`: one command.
fn write_control(data: &Data, input: &[u8], len: usize) -> Result {
    if len > control::MAX_LEN {
        return Err(EINVAL);
    }
    match control::parse(input)? {
        Command::Snapshot(What::Cpus) => data.snapshot_cpus(),
        Command::Snapshot(What::Locks) => data.locks.lock().snapshot().map(|_| ()),
        Command::Snapshot(What::Slab) => data.slab.sample(),
        Command::Snapshot(What::All) => {
            data.snapshot_cpus()?;
            data.locks.lock().snapshot()?;
            data.slab.sample()
        }
        Command::Baseline => data.slab.baseline(),
    }
}

/// A write to `test/leak`: a count to allocate, or `free`.
fn write_leak(data: &Data, input: &[u8], len: usize) -> Result {
    let Some(leak) = &data.leak else {
        return Err(EINVAL);
    };
    if len > control::MAX_LEN {
        return Err(EINVAL);
    }
    match control::parse_leak(input)? {
        control::Leak::Alloc(n) => leak.alloc(n),
        control::Leak::Free => {
            leak.free();
            Ok(())
        }
    }
}

/// A write to `test/release`: any write releases; its content is not looked at.
fn write_release(data: &Data, _input: &[u8], _len: usize) -> Result {
    if let Some(test) = &data.test {
        test.release();
    }
    Ok(())
}

/// Deadlocks in a read of `test/abba_a` or `test/abba_b` until killed.
fn abba(data: &Data, b_first: bool, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let Some(test) = &data.test else {
        return Ok(());
    };
    match test.abba(b_first, data.spin_timeout_ms) {
        Ok(()) => writeln!(f, "no deadlock"),
        Err(e) if e == ETIMEDOUT => writeln!(f, "the partner reader did not come"),
        Err(e) => writeln!(f, "ended: {e:?}"),
    }
}

/// Spins in a read of `test/spin` or `test/spin_irqoff` and says how it ended.
fn spin(data: &Data, irqoff: bool, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let Some(test) = &data.test else {
        return Ok(());
    };
    match test.spin(irqoff, data.spin_timeout_ms) {
        SpinEnd::Released => writeln!(f, "released"),
        SpinEnd::TimedOut(ms) => writeln!(f, "timed out after {ms} ms"),
    }
}
