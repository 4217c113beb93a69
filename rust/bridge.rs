// SPDX-License-Identifier: GPL-2.0

//! The bridge to kintrospect's C part.
//!
//! The kernel crate has no bindings for NMI handlers, SysRq keys, the ORC unwinder, kallsyms,
//! kernel file reads, delayed works or slab caches, so a small C part (`rust/c/`) reaches them. This file is the only place that declares its
//! functions and mirrors its records; everything else in the module is safe Rust built on the
//! wrappers below.
//!
//! C header: `rust/c/kintrospect.h`

use crate::files::{
    self,
    File, //
};
use kernel::{
    bindings,
    error::to_result,
    ffi::{
        c_char,
        c_int,
        c_void, //
    },
    fmt,
    prelude::*,
    seq_file::SeqFile,
    seq_print, //
};

/// Frames kept per CPU (`KINTROSPECT_MAX_FRAMES`).
pub(crate) const MAX_FRAMES: usize = 64;

/// One CPU of a snapshot (`struct kintrospect_cpu`).
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct RawCpu {
    pub(crate) taken_ns: u64,
    pub(crate) handler_ns: u64,
    pub(crate) ip: u64,
    pub(crate) sp: u64,
    pub(crate) flags: u64,
    pub(crate) frames: [u64; MAX_FRAMES],
    pub(crate) pid: i32,
    pub(crate) tgid: i32,
    pub(crate) cpu: u32,
    pub(crate) state: u32,
    pub(crate) mode: u32,
    pub(crate) irqs_disabled: u32,
    pub(crate) preempt_count: u32,
    pub(crate) nr_frames: u32,
    pub(crate) comm: [u8; 16],
}

/// A snapshot's header (`struct kintrospect_cpus_info`).
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct RawCpusInfo {
    pub(crate) seq: u64,
    pub(crate) taken_ns: u64,
    pub(crate) duration_ns: u64,
    pub(crate) source: u32,
    pub(crate) nr_cpus: u32,
    pub(crate) nr_no_response: u32,
    pub(crate) pad: u32,
}

/// One lock a thread holds (`struct kintrospect_held`).
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct RawHeld {
    pub(crate) acquire_ip: u64,
    pub(crate) held_ns: u64,
    pub(crate) task: u32,
    pub(crate) mode: u32,
    pub(crate) kind: u32,
    pub(crate) pad: u32,
    pub(crate) name: [u8; 48],
}

/// A thread that holds or waits for a lock (`struct kintrospect_task`).
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct RawTask {
    pub(crate) self_ptr: u64,
    pub(crate) blocked_owner: u64,
    pub(crate) pid: i32,
    pub(crate) tgid: i32,
    pub(crate) cpu: u32,
    pub(crate) state: u32,
    pub(crate) nr_held: u32,
    pub(crate) held_dropped: u32,
    pub(crate) blocked_kind: u32,
    pub(crate) blocked_owner_pid: i32,
    pub(crate) blocked_owner_cpu: i32,
    pub(crate) pad: u32,
    pub(crate) comm: [u8; 16],
    pub(crate) blocked_name: [u8; 48],
}

/// Counts of one locks collection (`struct kintrospect_locks_info`).
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct RawLocksInfo {
    pub(crate) taken_ns: u64,
    pub(crate) lockdep: u32,
    pub(crate) nr_threads: u32,
    pub(crate) nr_tasks: u32,
    pub(crate) nr_held: u32,
    pub(crate) tasks_dropped: u32,
    pub(crate) held_dropped: u32,
}

impl RawHeld {
    /// An all-zero record.
    pub(crate) const ZERO: Self = Self {
        acquire_ip: 0,
        held_ns: 0,
        task: 0,
        mode: 0,
        kind: 0,
        pad: 0,
        name: [0; 48],
    };
}

impl RawTask {
    /// An all-zero record.
    pub(crate) const ZERO: Self = Self {
        self_ptr: 0,
        blocked_owner: 0,
        pid: 0,
        tgid: 0,
        cpu: 0,
        state: 0,
        nr_held: 0,
        held_dropped: 0,
        blocked_kind: 0,
        blocked_owner_pid: -1,
        blocked_owner_cpu: -1,
        pad: 0,
        comm: [0; 16],
        blocked_name: [0; 48],
    };
}

/// One debugfs file to create (`struct kintrospect_file_spec`).
#[repr(C)]
struct FileSpec {
    name: *const c_char,
    id: u32,
    mode: u16,
}

// The C side asserts the same sizes.
const _: () = assert!(core::mem::size_of::<RawCpu>() == 600);
const _: () = assert!(core::mem::size_of::<RawCpusInfo>() == 40);
const _: () = assert!(core::mem::size_of::<FileSpec>() == 16);
const _: () = assert!(core::mem::size_of::<RawHeld>() == 80);
const _: () = assert!(core::mem::size_of::<RawTask>() == 120);
const _: () = assert!(core::mem::size_of::<RawLocksInfo>() == 32);

impl RawCpu {
    /// An all-zero record, the state of a slot before any snapshot.
    pub(crate) const fn zeroed() -> Self {
        Self {
            taken_ns: 0,
            handler_ns: 0,
            ip: 0,
            sp: 0,
            flags: 0,
            frames: [0; MAX_FRAMES],
            pid: 0,
            tgid: 0,
            cpu: 0,
            state: 0,
            mode: 0,
            irqs_disabled: 0,
            preempt_count: 0,
            nr_frames: 0,
            comm: [0; 16],
        }
    }
}

mod ffi {
    use super::*;

    unsafe extern "C" {
        pub(super) fn kintrospect_cpus_init(timeout_ms: u32) -> c_int;
        pub(super) fn kintrospect_cpus_exit();
        pub(super) fn kintrospect_cpus_capture(source: u32) -> c_int;
        pub(super) fn kintrospect_cpus_nr_slots() -> u32;
        pub(super) fn kintrospect_cpus_copy(
            info: *mut RawCpusInfo,
            cpus: *mut RawCpu,
            nr: u32,
        ) -> c_int;
        pub(super) fn kintrospect_cpus_memory() -> usize;
        pub(super) fn kintrospect_format_symbol(
            addr: u64,
            return_address: bool,
            buf: *mut c_char,
            len: usize,
        ) -> c_int;
        pub(super) fn kintrospect_raw_addresses() -> bool;
        pub(super) fn kintrospect_debugfs_create(
            data: *const c_void,
            files: *const FileSpec,
            nr: u32,
        ) -> c_int;
        pub(super) fn kintrospect_debugfs_remove();
        pub(super) fn kintrospect_sysrq_register(key: u8, data: *const c_void) -> c_int;
        pub(super) fn kintrospect_locks_collect(
            tasks: *mut RawTask,
            max_tasks: u32,
            held: *mut RawHeld,
            max_held: u32,
            info: *mut RawLocksInfo,
        ) -> c_int;
        pub(super) fn kintrospect_sysrq_unregister();
        pub(super) fn kintrospect_features() -> u32;
        pub(super) fn kintrospect_kernel_release() -> *const c_char;
        pub(super) fn kintrospect_param_nmi_timeout_ms() -> u32;
        pub(super) fn kintrospect_param_sysrq_key() -> u8;
        pub(super) fn kintrospect_param_test_paths() -> bool;
        pub(super) fn kintrospect_param_spin_timeout_ms() -> u32;
        pub(super) fn kintrospect_test_spin(irqoff: bool, timeout_ms: u32) -> c_int;
        pub(super) fn kintrospect_test_abba(b_first: bool, timeout_ms: u32) -> c_int;
        pub(super) fn kintrospect_test_init();
        pub(super) fn kintrospect_test_release();
        pub(super) fn kintrospect_param_slab_interval_ms() -> u32;
        pub(super) fn kintrospect_param_slab_trend_samples() -> u32;
        pub(super) fn kintrospect_param_slab_trend_min_growth() -> u32;
        pub(super) fn kintrospect_slab_files_init() -> c_int;
        pub(super) fn kintrospect_slab_files_exit();
        pub(super) fn kintrospect_read_slab_file(
            which: u32,
            cache: *const c_char,
            buf: *mut c_char,
            len: usize,
            out: *mut usize,
        ) -> c_int;
        pub(super) fn kintrospect_now_ns() -> u64;
        pub(super) fn kintrospect_slab_sampler_start(data: *const c_void, interval_ms: u32);
        pub(super) fn kintrospect_slab_sampler_stop();
        pub(super) fn kintrospect_leak_init() -> c_int;
        pub(super) fn kintrospect_leak_exit();
        pub(super) fn kintrospect_leak_alloc(nr: u32) -> c_int;
        pub(super) fn kintrospect_leak_free();
        pub(super) fn kintrospect_leak_count() -> u64;
    }
}

/// Who asked for a snapshot (`enum kintrospect_source`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// A write of `snapshot cpus` to `control`.
    Control = 1,
}

/// The NMI handler and the snapshot buffers; unregistered and freed on drop.
///
/// # Invariants
///
/// `kintrospect_cpus_init()` succeeded and `kintrospect_cpus_exit()` has not run yet.
pub(crate) struct Nmi(());

impl Nmi {
    /// Preallocates one slot per possible CPU and registers the NMI handler.
    pub(crate) fn register(timeout_ms: u32) -> Result<Self> {
        // SAFETY: Called once, from module init, in process context.
        to_result(unsafe { ffi::kintrospect_cpus_init(timeout_ms) })?;
        // INVARIANT: Initialisation succeeded.
        Ok(Self(()))
    }

    /// Takes a snapshot of every CPU; `EBUSY` when one is being taken (by SysRq).
    pub(crate) fn capture(&self, source: Source) -> Result {
        // SAFETY: By the type invariant the buffers exist.
        to_result(unsafe { ffi::kintrospect_cpus_capture(source as u32) })
    }

    /// Copies the latest snapshot into `cpus`, which is resized to [`nr_cpu_slots`].
    pub(crate) fn copy(&self, cpus: &mut KVec<RawCpu>) -> Result<RawCpusInfo> {
        let n = nr_cpu_slots();
        cpus.clear();
        cpus.resize(n, RawCpu::zeroed(), GFP_KERNEL)?;
        let mut info = RawCpusInfo::default();
        // SAFETY: `info` is a valid header and `cpus` holds `n` records; by the type invariant
        // the buffers exist.
        to_result(unsafe { ffi::kintrospect_cpus_copy(&mut info, cpus.as_mut_ptr(), n as u32) })?;
        Ok(info)
    }
}

impl Drop for Nmi {
    fn drop(&mut self) {
        // SAFETY: By the type invariant initialisation succeeded; this runs once, at unload,
        // after everything that captures or reads snapshots (SysRq key, debugfs) is gone.
        unsafe { ffi::kintrospect_cpus_exit() };
    }
}

/// Walks every thread and fills `tasks` and `held` with the lock-holder records; returns the
/// counts (records that did not fit are counted as dropped). Process context.
pub(crate) fn collect_locks(tasks: &mut [RawTask], held: &mut [RawHeld]) -> Result<RawLocksInfo> {
    let mut info = RawLocksInfo::default();
    // SAFETY: `tasks` and `held` are valid for writes of their lengths, which are passed along;
    // `info` is a valid header. Process context.
    to_result(unsafe {
        ffi::kintrospect_locks_collect(
            tasks.as_mut_ptr(),
            tasks.len() as u32,
            held.as_mut_ptr(),
            held.len() as u32,
            &mut info,
        )
    })?;
    info.nr_tasks = info.nr_tasks.min(tasks.len() as u32);
    info.nr_held = info.nr_held.min(held.len() as u32);
    Ok(info)
}

/// Number of CPU records in a snapshot (`nr_cpu_ids`; 0 before [`Nmi::register`]).
pub(crate) fn nr_cpu_slots() -> usize {
    // SAFETY: Reads a value set by `kintrospect_cpus_init()`; no preconditions.
    unsafe { ffi::kintrospect_cpus_nr_slots() as usize }
}

/// Bytes preallocated for NMI slots and snapshots (0 before [`Nmi::register`]).
pub(crate) fn snapshot_memory() -> usize {
    // SAFETY: Computed from a value set by `kintrospect_cpus_init()`; no preconditions.
    unsafe { ffi::kintrospect_cpus_memory() }
}

/// Formats a code address as `function+off/size [module]` into `buf` (a return address is
/// looked up one byte earlier, as `%pB` does). Returns the formatted bytes.
pub(crate) fn symbol(addr: u64, return_address: bool, buf: &mut [u8]) -> &[u8] {
    // SAFETY: `buf` is valid for `buf.len()` bytes; the C side writes a NUL-terminated string
    // of at most that size.
    let n = unsafe {
        ffi::kintrospect_format_symbol(addr, return_address, buf.as_mut_ptr().cast(), buf.len())
    };
    let n = usize::try_from(n)
        .unwrap_or(0)
        .min(buf.len().saturating_sub(1));
    &buf[..n]
}

/// Whether the reading task may see raw kernel addresses (what `%pK` would print).
pub(crate) fn raw_addresses_allowed() -> bool {
    // SAFETY: No preconditions; called in process context.
    unsafe { ffi::kintrospect_raw_addresses() }
}

/// kintrospect's SysRq key; unregistered on drop.
///
/// # Invariants
///
/// `kintrospect_sysrq_register()` succeeded with a pointer to a [`files::Data`] that outlives
/// this value.
pub(crate) struct Sysrq(());

impl Sysrq {
    /// Registers `key`; fails with `EBUSY` if another handler owns it. The handler captures
    /// CPUs and queues [`files::sysrq_deferred`] on `data`.
    ///
    /// # Safety
    ///
    /// `data` must stay valid, and its NMI buffers registered, until the returned value is
    /// dropped.
    pub(crate) unsafe fn register(key: u8, data: &files::Data) -> Result<Self> {
        let ptr: *const files::Data = data;
        // SAFETY: Process context; `data` outlives the registration by the caller's guarantee.
        to_result(unsafe { ffi::kintrospect_sysrq_register(key, ptr.cast()) })?;
        // INVARIANT: Registration succeeded with a pointer to `data`.
        Ok(Self(()))
    }
}

/// The SysRq key's process-context part (locks report); called from its work item.
///
/// # Safety
///
/// `data` is the pointer [`Sysrq::register`] was given, still valid.
#[no_mangle]
unsafe extern "C" fn kintrospect_sysrq_deferred(data: *const c_void) {
    // SAFETY: By the function's safety requirements `data` points to a live `files::Data`.
    let data = unsafe { &*data.cast::<files::Data>() };
    files::sysrq_deferred(data);
}

impl Drop for Sysrq {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the key is registered; process context. This also
        // waits for the deferred work, after which the data is no longer used.
        unsafe { ffi::kintrospect_sysrq_unregister() };
    }
}

/// The debugfs files, owning the state they show; removed on drop, before the state goes.
///
/// # Invariants
///
/// `kintrospect_debugfs_create()` succeeded with a pointer to `*data`, which stays pinned until
/// `kintrospect_debugfs_remove()` in [`Drop`] has returned.
pub(crate) struct Debugfs {
    // Field order is drop order: the sampler stops before the data it samples into goes.
    _sampler: Option<SlabSampler>,
    data: Pin<KBox<files::Data>>,
}

impl Debugfs {
    /// Creates `/sys/kernel/debug/kintrospect/` for `data`; the test files only if `test_paths`.
    pub(crate) fn create(data: Pin<KBox<files::Data>>, test_paths: bool) -> Result<Self> {
        let mut specs = KVec::new();
        for file in File::all().filter(|f| test_paths || !f.is_test()) {
            let spec = FileSpec {
                name: file.name().as_char_ptr(),
                id: file as u32,
                mode: file.mode(),
            };
            specs.push(spec, GFP_KERNEL)?;
        }
        let ptr: *const files::Data = &*data;
        // SAFETY: `specs` holds `specs.len()` entries whose names are static C strings; `ptr`
        // points to pinned data that lives in `Self` until the files are removed in `drop`.
        to_result(unsafe {
            ffi::kintrospect_debugfs_create(ptr.cast(), specs.as_ptr(), specs.len() as u32)
        })?;
        let interval_ms = data.slab_interval_ms();
        // INVARIANT: Creation succeeded with a pointer to `*data`; the sampler, if any, is
        // stopped (field order) before `data` is dropped.
        Ok(Self {
            _sampler: (interval_ms != 0).then(|| SlabSampler::start(ptr, interval_ms)),
            data,
        })
    }

    /// The state the files show.
    pub(crate) fn data(&self) -> &files::Data {
        &self.data
    }
}

impl Drop for Debugfs {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the files exist; removal waits for reads and writes in
        // progress, after which the data is no longer used by the C part and may be dropped.
        unsafe { ffi::kintrospect_debugfs_remove() };
    }
}

/// The periodic slab sampler: a delayed work that calls [`files::tick`]; stopped on drop.
///
/// # Invariants
///
/// `kintrospect_slab_sampler_start()` was called with a pointer to a pinned `files::Data` that
/// outlives this value (it is owned by the same [`Debugfs`], and dropped after it).
struct SlabSampler(());

impl SlabSampler {
    /// Starts sampling `data` every `interval_ms` (non-zero).
    fn start(data: *const files::Data, interval_ms: u32) -> Self {
        // SAFETY: `data` points to pinned data that the caller keeps alive until this value is
        // dropped; the work runs in process context.
        unsafe { ffi::kintrospect_slab_sampler_start(data.cast(), interval_ms) };
        // INVARIANT: Started with `data`, which the caller keeps alive.
        Self(())
    }
}

impl Drop for SlabSampler {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the sampler was started; stopping waits for a tick in
        // progress and keeps the work from running again. Process context (unload).
        unsafe { ffi::kintrospect_slab_sampler_stop() };
    }
}

/// Takes one periodic slab sample; called by the C part's delayed work.
///
/// # Safety
///
/// `data` is the pointer [`SlabSampler::start`] was given, and the sampler is running.
#[no_mangle]
unsafe extern "C" fn kintrospect_slab_tick(data: *const c_void) {
    // SAFETY: By the function's safety requirements `data` points to a live `files::Data`,
    // only ever shared.
    let data = unsafe { &*data.cast::<files::Data>() };
    files::tick(data);
}

/// One of the kernel's slab reports (`enum kintrospect_slab_file`).
#[derive(Clone, Copy)]
pub(crate) enum SlabFile<'a> {
    /// `/proc/slabinfo`.
    SlabInfo,
    /// `/proc/allocinfo` (memory allocation profiling).
    AllocInfo,
    /// `/sys/kernel/debug/slab/<cache>/alloc_traces` (SLUB user tracking), of this cache.
    AllocTraces(&'a [u8]),
}

/// Where the slab reports are opened from: `/proc` and `/sys/kernel/debug/slab`, looked up
/// once (at load, in the loading task's context) so that the periodic sampler's kworker, whose
/// root need not have them, can open them too. Released on drop.
///
/// # Invariants
///
/// `kintrospect_slab_files_init()` succeeded and `kintrospect_slab_files_exit()` has not run.
pub(crate) struct SlabFiles(());

impl SlabFiles {
    /// Looks up `/proc` (required) and the SLUB debugfs directory (optional).
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
}

impl Drop for SlabFiles {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the lookups are held; this runs once, after the
        // sampler has stopped (the slab state that owns this goes after it).
        unsafe { ffi::kintrospect_slab_files_exit() };
    }
}

/// Reads a whole slab report into `buf`; returns the bytes read (see [`SlabFiles::read`]).
///
/// `EFBIG` when `buf` filled up before the end of the file (its first `buf.len()` bytes are
/// in `buf`); `EINVAL` for a cache name that cannot be a path component; the open or read
/// error otherwise. Process context: reading may sleep.
fn read_slab_file(file: SlabFile<'_>, buf: &mut [u8]) -> Result<usize> {
    // Room for the cache name and its NUL; the C side checks the full path's length.
    let mut cache = [0u8; 128];
    let (which, cache) = match file {
        SlabFile::SlabInfo => (0, core::ptr::null()),
        SlabFile::AllocInfo => (1, core::ptr::null()),
        SlabFile::AllocTraces(name) => {
            if name.len() >= cache.len() || name.contains(&0) {
                return Err(EINVAL);
            }
            cache[..name.len()].copy_from_slice(name);
            (2, cache.as_ptr().cast::<c_char>())
        }
    };
    let mut n = 0usize;
    // SAFETY: `cache` is null or a NUL-terminated string; `buf` is valid for writes of
    // `buf.len()` bytes and `n` for one `usize`; process context. The directories are looked
    // up or not; the C side checks which.
    to_result(unsafe {
        ffi::kintrospect_read_slab_file(which, cache, buf.as_mut_ptr().cast(), buf.len(), &mut n)
    })?;
    Ok(n.min(buf.len()))
}

/// Monotonic time in ns (`ktime_get_ns()`).
pub(crate) fn now_ns() -> u64 {
    // SAFETY: No preconditions.
    unsafe { ffi::kintrospect_now_ns() }
}

/// The leak test path's cache, `kintrospect_leak`, and the objects it keeps; freed and
/// destroyed on drop.
///
/// # Invariants
///
/// `kintrospect_leak_init()` succeeded and `kintrospect_leak_exit()` has not run yet.
pub(crate) struct Leak(());

impl Leak {
    /// Creates the `kintrospect_leak` cache.
    pub(crate) fn create() -> Result<Self> {
        // SAFETY: Called once, from module init, in process context.
        to_result(unsafe { ffi::kintrospect_leak_init() })?;
        // INVARIANT: Creation succeeded.
        Ok(Self(()))
    }

    /// Allocates and keeps `nr` more objects (1..=1000000); `ENOMEM` keeps the ones allocated
    /// before the failure.
    pub(crate) fn alloc(&self, nr: u32) -> Result {
        // SAFETY: By the type invariant the cache exists; process context.
        to_result(unsafe { ffi::kintrospect_leak_alloc(nr) })
    }

    /// Frees every kept object.
    pub(crate) fn free(&self) {
        // SAFETY: By the type invariant the cache exists; process context.
        unsafe { ffi::kintrospect_leak_free() };
    }

    /// Objects kept now.
    pub(crate) fn count(&self) -> u64 {
        // SAFETY: By the type invariant the cache exists; process context.
        unsafe { ffi::kintrospect_leak_count() }
    }
}

impl Drop for Leak {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the cache exists; this runs once, at unload, after the
        // debugfs files that allocate from it are gone.
        unsafe { ffi::kintrospect_leak_exit() };
    }
}

/// One read of a file, formatted by [`files::show`].
struct Show<'a>(&'a files::Data, File);

impl fmt::Display for Show<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        files::show(self.0, self.1, f)
    }
}

/// Shows a kintrospect file; called by the C part's seq_file show callback.
///
/// # Safety
///
/// `data` is the pointer [`Debugfs::create`] passed to the C part, and the files still exist;
/// `m` is the live `seq_file` of the read in progress.
#[no_mangle]
unsafe extern "C" fn kintrospect_file_show(
    data: *const c_void,
    id: u32,
    m: *mut bindings::seq_file,
) -> c_int {
    let Some(file) = File::from_id(id) else {
        return -(bindings::EINVAL as c_int);
    };
    // SAFETY: By the function's safety requirements `data` points to a live `files::Data`,
    // only ever shared.
    let data = unsafe { &*data.cast::<files::Data>() };
    // SAFETY: By the function's safety requirements `m` is live for this call.
    let seq = unsafe { SeqFile::from_raw(m) };
    seq_print!(seq, "{}", Show(data, file));
    0
}

/// Carries out a write to a kintrospect file; called by the C part.
///
/// # Safety
///
/// `data` is as for [`kintrospect_file_show`]; `buf` is valid for reads of `copied` bytes, the
/// first of a write of `len` bytes.
#[no_mangle]
unsafe extern "C" fn kintrospect_file_write(
    data: *const c_void,
    id: u32,
    buf: *const c_char,
    copied: usize,
    len: usize,
) -> c_int {
    let Some(file) = File::from_id(id) else {
        return -(bindings::EINVAL as c_int);
    };
    // SAFETY: By the function's safety requirements `data` points to a live `files::Data`.
    let data = unsafe { &*data.cast::<files::Data>() };
    // SAFETY: By the function's safety requirements `buf` is valid for `copied` bytes.
    let input = unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), copied) };
    match files::write(data, file, input, len) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// Kernel debug features this kernel was built with (`KINTROSPECT_FEAT_*` bits).
pub(crate) fn features() -> u32 {
    // SAFETY: No preconditions.
    unsafe { ffi::kintrospect_features() }
}

/// The running kernel's release.
pub(crate) fn kernel_release() -> &'static CStr {
    // SAFETY: `utsname()->release` is a NUL-terminated string that lives as long as the
    // kernel; process context.
    unsafe { CStr::from_char_ptr(ffi::kintrospect_kernel_release()) }
}

/// The module parameters (declared in `rust/c/params.c`, read-only after load).
pub(crate) mod params {
    use super::ffi;

    /// `nmi_timeout_ms`: how long a snapshot waits for the other CPUs.
    pub(crate) fn nmi_timeout_ms() -> u32 {
        // SAFETY: Reads a module parameter; no preconditions.
        unsafe { ffi::kintrospect_param_nmi_timeout_ms() }
    }

    /// `sysrq_key`: the SysRq key.
    pub(crate) fn sysrq_key() -> u8 {
        // SAFETY: Reads a module parameter; no preconditions.
        unsafe { ffi::kintrospect_param_sysrq_key() }
    }

    /// `test_paths`: whether the test directory exists.
    pub(crate) fn test_paths() -> bool {
        // SAFETY: Reads a module parameter; no preconditions.
        unsafe { ffi::kintrospect_param_test_paths() }
    }

    /// `slab_interval_ms`: the periodic slab sampling period, 0 = off.
    pub(crate) fn slab_interval_ms() -> u32 {
        // SAFETY: Reads a module parameter; no preconditions.
        unsafe { ffi::kintrospect_param_slab_interval_ms() }
    }

    /// `slab_trend_samples`: K, the intervals the slab trend keeps.
    pub(crate) fn slab_trend_samples() -> u32 {
        // SAFETY: Reads a module parameter; no preconditions.
        unsafe { ffi::kintrospect_param_slab_trend_samples() }
    }

    /// `slab_trend_min_growth`: M, the growing intervals that make a suspect.
    pub(crate) fn slab_trend_min_growth() -> u32 {
        // SAFETY: Reads a module parameter; no preconditions.
        unsafe { ffi::kintrospect_param_slab_trend_min_growth() }
    }

    /// `spin_timeout_ms`: the bound of a test spin.
    pub(crate) fn spin_timeout_ms() -> u32 {
        // SAFETY: Reads a module parameter; no preconditions.
        unsafe { ffi::kintrospect_param_spin_timeout_ms() }
    }
}

/// How a test spin ended.
pub(crate) enum SpinEnd {
    /// A write to `test/release`.
    Released,
    /// `spin_timeout_ms` elapsed.
    TimedOut,
}

/// The spin-forever test path.
///
/// A spinning read keeps its file open, and an open file pins the module, so a spin never
/// outlives the module: unload is refused until the spin is released or times out.
pub(crate) struct TestPath(());

impl TestPath {
    /// Enables the test path.
    pub(crate) fn new() -> Self {
        // SAFETY: Process context, module init, before any test file exists.
        unsafe { ffi::kintrospect_test_init() };
        Self(())
    }

    /// Takes the ABBA pair's mutexes (B first if `b_first`) and deadlocks with the partner
    /// reader until killed; `ETIMEDOUT` if the partner does not come within `timeout_ms`.
    pub(crate) fn abba(&self, b_first: bool, timeout_ms: u32) -> Result {
        // SAFETY: Process context (a debugfs read); every wait is killable and the wait for the
        // partner is bounded.
        to_result(unsafe { ffi::kintrospect_test_abba(b_first, timeout_ms) })
    }

    /// Spins with the test spinlock held (and interrupts off if `irqoff`) until released.
    pub(crate) fn spin(&self, irqoff: bool, timeout_ms: u32) -> SpinEnd {
        // SAFETY: Process context (a debugfs read); the spin is bounded by `timeout_ms`.
        match unsafe { ffi::kintrospect_test_spin(irqoff, timeout_ms) } {
            0 => SpinEnd::Released,
            _ => SpinEnd::TimedOut,
        }
    }

    /// Ends every running spin.
    pub(crate) fn release(&self) {
        // SAFETY: No preconditions.
        unsafe { ffi::kintrospect_test_release() };
    }
}
