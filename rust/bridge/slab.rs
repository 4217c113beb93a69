// SPDX-License-Identifier: GPL-2.0

//! Kernel slab reports, their flush and the slab io lock (`rust/c/slab.c`).

use super::*;

/// One of the kernel's slab reports.
#[derive(Clone, Copy)]
pub(crate) enum SlabFile<'a> {
    /// `/proc/slabinfo`.
    SlabInfo,
    /// `/proc/allocinfo` (memory allocation profiling).
    AllocInfo,
    /// `/sys/kernel/debug/slab/<cache>/alloc_traces` (SLUB user tracking), of this cache.
    AllocTraces(&'a [u8]),
    /// `/sys/kernel/slab/<cache>/sheaf_capacity`: 0 when the cache has no per-CPU sheaves.
    SheafCapacity(&'a [u8]),
    /// `/sys/kernel/slab/<cache>/partial`: the cache's slabs on the node partial lists.
    Partial(&'a [u8]),
}

c_enum! {
    /// The numbers the C part knows the reports by (`enum kintrospect_slab_file`).
    RawSlabFile: u32 {
        /// `KINTROSPECT_SLAB_FILE_SLABINFO`.
        SlabInfo = 0,
        /// `KINTROSPECT_SLAB_FILE_ALLOCINFO`.
        AllocInfo = 1,
        /// `KINTROSPECT_SLAB_FILE_ALLOC_TRACES`.
        AllocTraces = 2,
        /// `KINTROSPECT_SLAB_FILE_SHEAF_CAPACITY`.
        SheafCapacity = 3,
        /// `KINTROSPECT_SLAB_FILE_PARTIAL`.
        Partial = 4,
    }
}

impl<'a> SlabFile<'a> {
    /// The C part's number for the report, and the cache it is about, if any.
    fn raw(self) -> (RawSlabFile, Option<&'a [u8]>) {
        match self {
            SlabFile::SlabInfo => (RawSlabFile::SlabInfo, None),
            SlabFile::AllocInfo => (RawSlabFile::AllocInfo, None),
            SlabFile::AllocTraces(c) => (RawSlabFile::AllocTraces, Some(c)),
            SlabFile::SheafCapacity(c) => (RawSlabFile::SheafCapacity, Some(c)),
            SlabFile::Partial(c) => (RawSlabFile::Partial, Some(c)),
        }
    }
}

c_enum! {
    /// What a flush did to one cache (`enum kintrospect_slab_flush_status`, passed as `u8`).
    FlushStatus: u8 {
        /// `KINTROSPECT_SLAB_FLUSH_NOT_DONE`: the flush did not reach the cache.
        NotDone = 0,
        /// `KINTROSPECT_SLAB_FLUSH_DONE`: the cache's `shrink` file was written: its per-CPU
        /// sheaves are empty.
        Done = 1,
        /// `KINTROSPECT_SLAB_FLUSH_FAILED`: writing the `shrink` file failed (the cache went
        /// away, or has no sysfs directory).
        Failed = 2,
    }
}

/// How long a flush waits for every CPU to run a work item (`KINTROSPECT_SLAB_PROBE_TIMEOUT_MS`).
pub(crate) const PROBE_TIMEOUT_MS: u32 = 500;
/// How long a flush waits for the shrink writes (`KINTROSPECT_SLAB_FLUSH_TIMEOUT_MS`).
pub(crate) const FLUSH_TIMEOUT_MS: u32 = 5000;

/// Why a flush did not run to its end: the counts are approximate.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum FlushError {
    /// CPU `cpu` (and `nr - 1` others) ran no work item within [`PROBE_TIMEOUT_MS`]: SLUB's
    /// flush would wait for it, so nothing was flushed.
    CpuStuck { cpu: u32, nr: u32 },
    /// CPU hotplug is in progress, or an earlier flush has still not returned.
    Busy,
    /// The shrink writes did not end within [`FLUSH_TIMEOUT_MS`].
    TimedOut,
    /// The caller was killed while it waited.
    Interrupted,
    /// Another error.
    Other(Error),
}

/// The outcome of a flush (`struct kintrospect_slab_flush_info`).
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct RawFlushInfo {
    error: i32,
    cpu: u32,
    nr_stuck: u32,
    flushed: u32,
    duration_ns: u64,
}

// The C side asserts the same layout.
c_layout! {
    RawFlushInfo (24 bytes) {
        error: 0,
        cpu: 4,
        nr_stuck: 8,
        flushed: 12,
        duration_ns: 16,
    }
}

mod ffi {
    use super::*;

    unsafe extern "C" {
        pub(super) fn kintrospect_slab_files_init() -> c_int;
        pub(super) fn kintrospect_slab_files_exit();
        pub(super) fn kintrospect_read_slab_file(
            which: u32,
            cache: *const c_char,
            buf: *mut c_char,
            len: usize,
            out: *mut usize,
        ) -> c_int;
        pub(super) fn kintrospect_slab_flush(
            names: *const c_char,
            len: usize,
            nr: u32,
            status: *mut u8,
            info: *mut RawFlushInfo,
        ) -> c_int;
        pub(super) fn kintrospect_slab_io_lock(wait: bool) -> c_int;
        pub(super) fn kintrospect_slab_io_unlock();
        pub(super) fn kintrospect_now_ns() -> u64;
        pub(super) fn kintrospect_slab_cpus_nodes(cpus: *mut u32, nodes: *mut u32);
    }
}

/// What one flush did.
#[derive(Clone, Copy)]
pub(crate) struct Flush {
    /// `Ok` when it ran to its end.
    pub(crate) result: core::result::Result<(), FlushError>,
    /// Caches whose sheaves it emptied.
    pub(crate) flushed: u32,
    /// Time it took, probe included.
    pub(crate) duration_ns: u64,
}

/// Where the slab reports are opened from: `/proc`, `/sys/kernel/debug/slab` and
/// `/sys/kernel/slab`, looked up once (at load, in the loading task's context) so that the
/// periodic sampler's kworker, whose root need not have them, can open them too. Released on
/// drop, after a flush still in progress has returned.
///
/// # Invariants
///
/// `kintrospect_slab_files_init()` succeeded and `kintrospect_slab_files_exit()` has not run.
pub(crate) struct SlabFiles(());

impl SlabFiles {
    /// Looks up `/proc` (required) and the SLUB directories (optional).
    pub(crate) fn open() -> Result<Self> {
        // SAFETY: Called once, from module init, in process context.
        to_result(unsafe { ffi::kintrospect_slab_files_init() })?;
        // INVARIANT: The lookup succeeded.
        Ok(Self(()))
    }

    /// Reads a whole slab report into `buf`; returns the bytes read.
    ///
    /// `EFBIG` when `buf` filled up before the end of the file (its first `buf.len()` bytes
    /// are in `buf`); `EINVAL` for a cache name that cannot be a path component; the open or
    /// read error otherwise. Process context: reading may sleep.
    pub(crate) fn read(&self, file: SlabFile<'_>, buf: &mut [u8]) -> Result<usize> {
        read_slab_file(file, buf)
    }

    /// Whether the slab report `file` exists and can be read.
    pub(crate) fn exists(&self, file: SlabFile<'_>) -> bool {
        let mut byte = [0u8; 1];
        matches!(read_slab_file(file, &mut byte), Ok(_) | Err(EFBIG))
    }

    /// Empties the per-CPU sheaves of the `nr` caches named in `names` (each followed by a
    /// NUL) through their `shrink` files; `status` gets one [`FlushStatus`] per name.
    ///
    /// Bounded: at most [`PROBE_TIMEOUT_MS`] + [`FLUSH_TIMEOUT_MS`], and nothing at all is
    /// flushed when a CPU does not run work items (see `rust/c/slab.c`). The caller holds the
    /// [`SlabIoGuard`]. Process context.
    pub(crate) fn flush(
        &self,
        _io: &SlabIoGuard,
        names: &[u8],
        nr: u32,
        status: &mut [FlushStatus],
    ) -> Flush {
        let mut codes = KVec::new();
        let mut info = RawFlushInfo::default();
        let ret = if status.len() < nr as usize || codes.resize(nr as usize, 0, GFP_KERNEL).is_err()
        {
            -(bindings::ENOMEM as c_int)
        } else {
            // SAFETY: `names` is valid for `names.len()` bytes and `codes` for `nr` bytes;
            // `info` is a record the C side fills; the caller holds the io lock (serialising
            // flushes); process context.
            unsafe {
                ffi::kintrospect_slab_flush(
                    names.as_ptr().cast(),
                    names.len(),
                    nr,
                    codes.as_mut_ptr(),
                    &mut info,
                )
            }
        };
        for (s, c) in status.iter_mut().zip(codes.iter()) {
            *s = FlushStatus::try_from(*c).unwrap_or(FlushStatus::NotDone);
        }
        let result = match ret {
            0 => Ok(()),
            r if r == -(bindings::EAGAIN as c_int) => Err(FlushError::CpuStuck {
                cpu: info.cpu,
                nr: info.nr_stuck,
            }),
            r if r == -(bindings::EBUSY as c_int) => Err(FlushError::Busy),
            r if r == -(bindings::ETIMEDOUT as c_int) => Err(FlushError::TimedOut),
            r if r == -(bindings::EINTR as c_int) => Err(FlushError::Interrupted),
            r => Err(FlushError::Other(Error::from_errno(r))),
        };
        Flush {
            result,
            flushed: info.flushed,
            duration_ns: info.duration_ns,
        }
    }
}

impl Drop for SlabFiles {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the lookups are held; this runs once, after the
        // sampler has stopped (the slab state that owns this goes after it). It waits for a
        // flush still in progress.
        unsafe { ffi::kintrospect_slab_files_exit() };
    }
}

/// The slab io lock (`kintrospect_slab_io_lock()`), held until dropped: serialises samples.
///
/// # Invariants
///
/// The current task holds the lock.
pub(crate) struct SlabIoGuard(core::marker::PhantomData<*mut ()>);

impl SlabIoGuard {
    /// Waits for the lock; `EINTR` when killed meanwhile. Process context.
    pub(crate) fn lock_killable() -> Result<Self> {
        // SAFETY: Process context; the lock is a static mutex of the C part.
        to_result(unsafe { ffi::kintrospect_slab_io_lock(true) })?;
        // INVARIANT: The lock was taken.
        Ok(Self(core::marker::PhantomData))
    }

    /// Takes the lock if it is free; `EBUSY` otherwise. Process context.
    pub(crate) fn try_lock() -> Result<Self> {
        // SAFETY: As for `lock_killable`.
        to_result(unsafe { ffi::kintrospect_slab_io_lock(false) })?;
        // INVARIANT: The lock was taken.
        Ok(Self(core::marker::PhantomData))
    }
}

impl Drop for SlabIoGuard {
    fn drop(&mut self) {
        // SAFETY: By the type invariant this task holds the lock.
        unsafe { ffi::kintrospect_slab_io_unlock() };
    }
}

/// Reads a whole slab report into `buf`; returns the bytes read (see [`SlabFiles::read`]).
///
/// `EFBIG` when `buf` filled up before the end of the file (its first `buf.len()` bytes are
/// in `buf`); `EINVAL` for a cache name that cannot be a path component; the open or read
/// error otherwise. Process context: reading may sleep.
fn read_slab_file(file: SlabFile<'_>, buf: &mut [u8]) -> Result<usize> {
    // Room for the cache name and its NUL; the C side checks the full path's length.
    let mut name = [0u8; CACHE_NAME_MAX];
    let (which, cache) = file.raw();
    let cache = match cache {
        None => core::ptr::null(),
        Some(c) => {
            if c.len() >= name.len() || c.contains(&0) {
                return Err(EINVAL);
            }
            name[..c.len()].copy_from_slice(c);
            name.as_ptr().cast::<c_char>()
        }
    };
    let mut n = 0usize;
    // SAFETY: `cache` is null or a NUL-terminated string; `buf` is valid for writes of
    // `buf.len()` bytes and `n` for one `usize`; process context. The directories are looked
    // up or not; the C side checks which.
    to_result(unsafe {
        ffi::kintrospect_read_slab_file(
            which.into(),
            cache,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut n,
        )
    })?;
    Ok(n.min(buf.len()))
}

/// Room for a cache name passed to the C part, with its NUL.
const CACHE_NAME_MAX: usize = 128;

/// Monotonic time in ns (`ktime_get_mono_fast_ns()`: the CPU snapshots' clock).
///
/// NMI-safe and never waits, so the panic notifier may call it: `ktime_get_ns()` spins while
/// the timekeeper's sequence is odd, forever if the panic came from inside its update.
pub(crate) fn now_ns() -> u64 {
    // SAFETY: No preconditions; any context.
    unsafe { ffi::kintrospect_now_ns() }
}

/// The possible CPUs and NUMA nodes: how many per-CPU sheaves and barns a cache can have.
pub(crate) fn cpus_and_nodes() -> (u64, u64) {
    let (mut cpus, mut nodes) = (0u32, 0u32);
    // SAFETY: Both pointers are valid for writes; no other preconditions.
    unsafe { ffi::kintrospect_slab_cpus_nodes(&mut cpus, &mut nodes) };
    (u64::from(cpus), u64::from(nodes))
}
