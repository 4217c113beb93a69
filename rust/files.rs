// SPDX-License-Identifier: GPL-2.0

//! The files under `/sys/kernel/debug/kintrospect/`: what each one shows and does.
//!
//! The files themselves are created by the C part (see [`bridge::Debugfs`]) so that an open
//! file pins the module; reads and writes come back here through [`show`] and [`write`].

use crate::{
    bridge::{
        self,
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
    TestDir = 6,
    TestSpin = 7,
    TestSpinIrqoff = 8,
    TestRelease = 9,
    TestAbbaA = 10,
    TestAbbaB = 11,
}

impl File {
    const ALL: [File; 12] = [
        File::Status,
        File::Control,
        File::Cpus,
        File::CpusJson,
        File::Locks,
        File::LocksJson,
        File::TestDir,
        File::TestSpin,
        File::TestSpinIrqoff,
        File::TestRelease,
        File::TestAbbaA,
        File::TestAbbaB,
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
        }
    }

    /// Root-only permissions: readable files 0400, commands 0200.
    pub(crate) fn mode(self) -> u16 {
        match self {
            File::Control | File::TestRelease => 0o200,
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
    pub(crate) test: Option<TestPath>,
    spin_timeout_ms: u32,
}

impl Data {
    /// Registers the NMI handler and sets up the state, with the module parameters.
    pub(crate) fn new() -> impl PinInit<Self, Error> {
        let timeout_ms = bridge::params::nmi_timeout_ms();
        let key = bridge::params::sysrq_key();
        let test_paths = bridge::params::test_paths();
        try_pin_init!(Self {
            nmi: Nmi::register(timeout_ms)?,
            control_lock <- new_mutex!(()),
            locks <- new_mutex!(locks::State::new()?),
            status: Status {
                features: bridge::features(),
                sysrq_key: key,
                nmi_timeout_ms: timeout_ms,
                test_paths,
                nr_cpu_slots: bridge::nr_cpu_slots(),
                snapshot_memory: bridge::snapshot_memory(),
            },
            test: test_paths.then(TestPath::new),
            spin_timeout_ms: bridge::params::spin_timeout_ms(),
        }? Error)
    }
}

/// Produces the content of a read of `file`.
pub(crate) fn show(data: &Data, file: File, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match file {
        File::Status => {
            data.status.write(f, Status::kernel_release())?;
            writeln!(f, "locks_buffer_bytes: {}", data.locks.lock().memory())
        }
        File::Locks | File::LocksJson => {
            let state = data.locks.lock();
            match &state.latest {
                None => writeln!(f, "no snapshot yet: write \"snapshot locks\" to control"),
                Some(snap) if file == File::Locks => {
                    Display::fmt(&locks::Text(snap, &cpus::Kallsyms::new()), f)
                }
                Some(snap) => Display::fmt(&locks::Json(snap, &cpus::Kallsyms::new()), f),
            }
        }
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
        File::Control | File::TestDir | File::TestRelease => Ok(()),
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
            let _guard = data.control_lock.lock();
            match command {
                Command::Snapshot(What::Cpus) => data.nmi.capture(Source::Control),
                Command::Snapshot(What::Locks) => data.locks.lock().snapshot().map(|_| ()),
                Command::Snapshot(What::All) => {
                    data.nmi.capture(Source::Control)?;
                    data.locks.lock().snapshot().map(|_| ())
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

/// The SysRq key's process-context part: a locks snapshot, after the CPU snapshot the handler
/// took.
pub(crate) fn sysrq_deferred(data: &Data) {
    let _guard = data.control_lock.lock();
    match data.locks.lock().snapshot() {
        Ok(0) => pr_info!("locks snapshot taken by sysrq: no deadlock\n"),
        Ok(n) => pr_info!("locks snapshot taken by sysrq: {n} DEADLOCK(S), see locks\n"),
        Err(e) => pr_info!("locks snapshot by sysrq failed: {e:?}\n"),
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
