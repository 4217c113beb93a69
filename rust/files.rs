// SPDX-License-Identifier: GPL-2.0

//! The files under `/sys/kernel/debug/kintrospect/`: what each one shows and does.
//!
//! The files themselves are created by the C part (see [`bridge::Debugfs`]) so that an open
//! file pins the module; reads and writes come back here through [`show`] and [`write`].

use crate::{
    bridge::{
        self,
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

/// A kintrospect file, as the C part passes it back.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum File {
    Status = 0,
    Control = 1,
    Cpus = 2,
    CpusJson = 3,
    Locks = 4,
    LocksJson = 5,
    SlabDelta = 6,
    SlabDeltaJson = 7,
    TestDir = 8,
    TestSpin = 9,
    TestSpinIrqoff = 10,
    TestRelease = 11,
    TestAbbaA = 12,
    TestAbbaB = 13,
    TestLeak = 14,
}

impl File {
    // A "dir/file" goes into the last directory listed before it.
    const ALL: [File; 15] = [
        File::Status,
        File::Control,
        File::Cpus,
        File::CpusJson,
        File::Locks,
        File::LocksJson,
        File::SlabDelta,
        File::SlabDeltaJson,
        File::TestDir,
        File::TestSpin,
        File::TestSpinIrqoff,
        File::TestRelease,
        File::TestAbbaA,
        File::TestAbbaB,
        File::TestLeak,
    ];

    /// The file's path below the kintrospect directory; a directory ends in `/`.
    pub(crate) fn name(self) -> &'static CStr {
        match self {
            File::Status => c"status",
            File::Control => c"control",
            File::Cpus => c"cpus",
            File::CpusJson => c"cpus.json",
            File::Locks => c"locks",
            File::LocksJson => c"locks.json",
            File::TestDir => c"test/",
            File::TestSpin => c"test/spin",
            File::TestSpinIrqoff => c"test/spin_irqoff",
            File::TestRelease => c"test/release",
            File::TestAbbaA => c"test/abba_a",
            File::TestAbbaB => c"test/abba_b",
            File::SlabDelta => c"slab_delta",
            File::SlabDeltaJson => c"slab_delta.json",
            File::TestLeak => c"test/leak",
        }
    }

    /// Root-only permissions: readable files 0400, commands 0200.
    pub(crate) fn mode(self) -> u16 {
        match self {
            File::Control | File::TestRelease | File::TestLeak => 0o200,
            _ => 0o400,
        }
    }

    /// Whether the file is part of the test path (`test_paths=1`).
    pub(crate) fn is_test(self) -> bool {
        matches!(
            self,
            File::TestDir
                | File::TestSpin
                | File::TestSpinIrqoff
                | File::TestRelease
                | File::TestAbbaA
                | File::TestAbbaB
                | File::TestLeak
        )
    }

    /// The file with id `id`.
    pub(crate) fn from_id(id: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|f| *f as u32 == id)
    }

    /// The files to create.
    pub(crate) fn all() -> impl Iterator<Item = File> {
        Self::ALL.into_iter()
    }
}

/// State shared by kintrospect's files.
#[pin_data]
pub(crate) struct Data {
    nmi: Nmi,
    /// Serialises `control` writers, so that a second one waits instead of failing.
    #[pin]
    control_lock: Mutex<()>,
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
    pub(crate) fn new() -> Result<impl PinInit<Self, Error>> {
        let timeout_ms = bridge::params::nmi_timeout_ms();
        let key = bridge::params::sysrq_key();
        let test_paths = bridge::params::test_paths();
        let slab = Slab::new(slab::Params::from_module()?)?;
        let leak = if test_paths {
            Some(Leak::create()?)
        } else {
            None
        };
        Ok(try_pin_init!(Self {
            nmi: Nmi::register(timeout_ms)?,
            control_lock <- new_mutex!((), "kintrospect_control"),
            locks <- new_mutex!(locks::State::new()?, "kintrospect_locks"),
            status: Status {
                features: bridge::features(),
                sysrq_key: key,
                nmi_timeout_ms: timeout_ms,
                test_paths,
                nr_cpu_slots: bridge::nr_cpu_slots(),
                snapshot_memory: bridge::snapshot_memory(),
            },
            slab <- slab,
            test: test_paths.then(TestPath::new),
            leak,
            spin_timeout_ms: bridge::params::spin_timeout_ms(),
        }? Error))
    }

    /// The periodic slab sampling period (`slab_interval_ms`), 0 = off.
    pub(crate) fn slab_interval_ms(&self) -> u32 {
        self.slab.params.interval_ms
    }
}

/// One periodic slab sample.
pub(crate) fn tick(data: &Data) {
    data.slab.tick();
}

/// Produces the content of a read of `file`.
pub(crate) fn show(data: &Data, file: File, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match file {
        File::Status => {
            data.status.write(f, Status::kernel_release())?;
            data.slab.write_status(f)?;
            writeln!(f, "locks_buffer_bytes: {}", data.locks.lock().memory())?;
            match &data.leak {
                Some(leak) => writeln!(f, "test_leak_objects: {}", leak.count()),
                None => Ok(()),
            }
        }
        File::Locks | File::LocksJson => {
            let state = data.locks.lock();
            match state.latest() {
                None => writeln!(f, "no snapshot yet: write \"snapshot locks\" to control"),
                Some(snap) if file == File::Locks => {
                    Display::fmt(&locks::Text(snap, &cpus::Kallsyms::new()), f)
                }
                Some(snap) => Display::fmt(&locks::Json(snap, &cpus::Kallsyms::new()), f),
            }
        }
        File::SlabDelta => data.slab.write_text(f),
        File::SlabDeltaJson => data.slab.write_json(f),
        File::Cpus | File::CpusJson => match cpus::Snapshot::latest(&data.nmi) {
            Ok(snap) if file == File::Cpus => {
                Display::fmt(&cpus::Text(&snap, &cpus::Kallsyms::new()), f)
            }
            Ok(snap) => Display::fmt(&cpus::Json(&snap, &cpus::Kallsyms::new()), f),
            Err(e) => writeln!(f, "error: cannot copy the snapshot ({e:?})"),
        },
        File::TestSpin => spin(data, false, f),
        File::TestSpinIrqoff => spin(data, true, f),
        File::TestAbbaA => abba(data, false, f),
        File::TestAbbaB => abba(data, true, f),
        File::Control | File::TestDir | File::TestRelease | File::TestLeak => Ok(()),
    }
}

/// Carries out a write of `input` (the first bytes of a write of `len` bytes) to `file`.
pub(crate) fn write(data: &Data, file: File, input: &[u8], len: usize) -> Result {
    match file {
        File::Control => {
            if len > control::MAX_LEN {
                return Err(EINVAL);
            }
            let command = control::parse(input)?;
            // The slab commands are serialised by the slab io lock, which they wait for
            // killably: a slab sample stuck in the kernel holds up no other command.
            match command {
                Command::Snapshot(What::Slab) => {
                    return data.slab.sample(slab::Caller::Control, false);
                }
                Command::Snapshot(What::SlabSites) => {
                    return data.slab.sample(slab::Caller::Control, true);
                }
                Command::Baseline => return data.slab.baseline(),
                _ => {}
            }
            let _guard = data.control_lock.lock();
            match command {
                Command::Snapshot(What::Cpus) => data.nmi.capture(Source::Control),
                Command::Snapshot(What::Locks) => data.locks.lock().snapshot().map(|_| ()),
                Command::Snapshot(What::All) => {
                    data.nmi.capture(Source::Control)?;
                    data.locks.lock().snapshot()?;
                    data.slab.sample(slab::Caller::Control, false)
                }
                _ => Ok(()),
            }
        }
        File::TestLeak => {
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
        // Any write releases; its content is not looked at.
        File::TestRelease => {
            if let Some(test) = &data.test {
                test.release();
            }
            Ok(())
        }
        _ => Err(EINVAL),
    }
}

/// The SysRq key's process-context part: a locks snapshot and a slab sample, after the CPU
/// snapshot the handler took.
pub(crate) fn sysrq_deferred(data: &Data) {
    {
        let _guard = data.control_lock.lock();
        match data.locks.lock().snapshot() {
            Ok(0) => pr_info!("locks snapshot taken by sysrq: no deadlock\n"),
            Ok(n) => pr_info!("locks snapshot taken by sysrq: {n} DEADLOCK(S), see locks\n"),
            Err(e) => pr_info!("locks snapshot by sysrq failed: {e:?}\n"),
        }
    }
    // Without the control lock: the slab sample is skipped if another one is in progress.
    match data.slab.sysrq() {
        Ok(()) => {}
        Err(e) if e == EBUSY => {
            pr_info!("slab sample by sysrq skipped: another slab sample is in progress\n")
        }
        Err(e) => pr_info!("slab sample by sysrq failed: {e:?}\n"),
    }
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
        SpinEnd::TimedOut => writeln!(f, "timed out after {} ms", data.spin_timeout_ms),
    }
}
