// SPDX-License-Identifier: GPL-2.0

//! The bridge to kintrospect's C part.
//!
//! The kernel crate has no bindings for NMI handlers, SysRq keys, the ORC unwinder or kallsyms,
//! so a small C part (`rust/c/`) reaches them. This file is the only place that declares its
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
    pub(crate) blocked_lock: u64,
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
        blocked_lock: 0,
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
        // INVARIANT: Creation succeeded with a pointer to `*data`.
        Ok(Self { data })
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
