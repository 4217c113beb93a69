// SPDX-License-Identifier: GPL-2.0

//! The bridge to kintrospect's C part.
//!
//! The kernel crate has no bindings for NMI handlers, SysRq keys, the ORC unwinder, kallsyms,
//! kernel file reads, delayed works or slab caches, so a small C part (`rust/c/`) reaches
//! them. This file is the only place that declares its functions and mirrors its records;
//! the safe wrappers are in its parts, one per area, and everything else in the module is
//! safe Rust built on them.
//!
//! C header: `rust/c/kintrospect.h`

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

/// Bytes of a task name (`KINTROSPECT_COMM_LEN`).
pub(crate) const COMM_LEN: usize = 16;

/// Room for one frame's symbol with its NUL (`KINTROSPECT_SYMBOL_LEN`).
pub(crate) const SYMBOL_LEN: usize = 128;

/// One CPU of a snapshot, its frames named when it was taken (`struct kintrospect_cpu`).
#[repr(C)]
#[derive(Zeroable)]
pub(crate) struct RawCpu {
    pub(crate) taken_ns: u64,
    pub(crate) handler_ns: u64,
    pub(crate) ip: u64,
    pub(crate) sp: u64,
    pub(crate) flags: u64,
    pub(crate) frames: [u64; MAX_FRAMES],
    /// Bit `i`: `frames[i]` is an interrupted ip, not a return address.
    pub(crate) interrupted: u64,
    /// Bit `i`: kallsyms had no symbol for `frames[i]` (its text is empty).
    pub(crate) unresolved: u64,
    pub(crate) pid: i32,
    pub(crate) tgid: i32,
    pub(crate) cpu: u32,
    pub(crate) state: u32,
    pub(crate) mode: u32,
    pub(crate) irqs_disabled: u32,
    pub(crate) preempt_count: u32,
    pub(crate) nr_frames: u32,
    pub(crate) comm: [u8; COMM_LEN],
    /// NUL-terminated `function+off/size [module]` per frame.
    pub(crate) symbols: [[u8; SYMBOL_LEN]; MAX_FRAMES],
    /// `nvcsw + nivcsw` of the task at the NMI.
    pub(crate) nr_switches: u64,
    /// The task's `start_time`: with its pid, its identity.
    pub(crate) start_time: u64,
    /// `taken_ns` of the first of the snapshots that all found the same task on this CPU in
    /// kernel mode with the same switch count and user time; equal to `taken_ns` when this
    /// snapshot is the first.
    pub(crate) on_cpu_since_ns: u64,
    /// The task's user (and guest) time at the NMI, in ns.
    pub(crate) utime: u64,
    /// What `held` is (`enum kintrospect_cpu_lockdep`).
    pub(crate) lockdep: u32,
    pub(crate) nr_held: u32,
    /// Entries of the lockdep stack deeper than [`CPU_MAX_HELD`], not kept.
    pub(crate) held_dropped: u32,
    /// The interrupt level the NMI interrupted (`enum kintrospect_context`).
    pub(crate) context: u32,
    /// The task's lockdep held-lock stack at the NMI, innermost last, named by the trigger.
    pub(crate) held: [RawHeld; CPU_MAX_HELD],
}

/// Locks kept per CPU from the interrupted task's lockdep stack
/// (`KINTROSPECT_CPU_MAX_HELD`).
pub(crate) const CPU_MAX_HELD: usize = 8;

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

/// Bytes of a lock name (`KINTROSPECT_LOCK_NAME_LEN`).
pub(crate) const LOCK_NAME_LEN: usize = 64;
/// Bytes of a symbolised acquire site (`KINTROSPECT_SITE_LEN`).
pub(crate) const SITE_LEN: usize = 128;

/// One lock a thread holds (`struct kintrospect_held`).
#[repr(C)]
#[derive(Clone, Copy, Zeroable)]
pub(crate) struct RawHeld {
    pub(crate) acquire_ip: u64,
    pub(crate) held_ns: u64,
    pub(crate) lock_addr: u64,
    pub(crate) task: u32,
    pub(crate) mode: u32,
    pub(crate) kind: u32,
    pub(crate) flags: u32,
    pub(crate) name: [u8; LOCK_NAME_LEN],
    pub(crate) site: [u8; SITE_LEN],
}

/// A thread that holds or waits for a lock (`struct kintrospect_task`).
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct RawTask {
    pub(crate) self_ptr: u64,
    pub(crate) blocked_lock: u64,
    pub(crate) blocked_owner: u64,
    /// The lockdep map of the lock waited for (0: none known): matched, never shown.
    pub(crate) blocked_map: u64,
    /// How long the wait has lasted (`CONFIG_LOCK_STAT`), 0 if unknown.
    pub(crate) blocked_ns: u64,
    pub(crate) pid: i32,
    pub(crate) tgid: i32,
    pub(crate) cpu: u32,
    pub(crate) state: u32,
    pub(crate) nr_held: u32,
    pub(crate) held_dropped: u32,
    pub(crate) blocked_kind: u32,
    pub(crate) blocked_owner_pid: i32,
    pub(crate) blocked_owner_cpu: i32,
    pub(crate) blocked_flags: u32,
    pub(crate) comm: [u8; COMM_LEN],
    pub(crate) blocked_name: [u8; LOCK_NAME_LEN],
}

/// Counts of one locks collection (`struct kintrospect_locks_info`).
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct RawLocksInfo {
    pub(crate) taken_ns: u64,
    pub(crate) lockdep: u32,
    pub(crate) lockdep_off: u32,
    pub(crate) nr_threads: u32,
    pub(crate) nr_tasks: u32,
    pub(crate) nr_held: u32,
    pub(crate) tasks_dropped: u32,
    pub(crate) held_dropped: u32,
    pub(crate) pad: u32,
}

impl RawHeld {
    /// An all-zero record.
    pub(crate) const fn zeroed() -> Self {
        Self {
            acquire_ip: 0,
            held_ns: 0,
            lock_addr: 0,
            task: 0,
            mode: 0,
            kind: 0,
            flags: 0,
            name: [0; LOCK_NAME_LEN],
            site: [0; SITE_LEN],
        }
    }
}

impl RawTask {
    /// An all-zero record.
    pub(crate) const fn zeroed() -> Self {
        Self {
            self_ptr: 0,
            blocked_lock: 0,
            blocked_owner: 0,
            blocked_map: 0,
            blocked_ns: 0,
            pid: 0,
            tgid: 0,
            cpu: 0,
            state: 0,
            nr_held: 0,
            held_dropped: 0,
            blocked_kind: 0,
            blocked_owner_pid: 0,
            blocked_owner_cpu: 0,
            blocked_flags: 0,
            comm: [0; COMM_LEN],
            blocked_name: [0; LOCK_NAME_LEN],
        }
    }
}

/// A task waiting in a runqueue (`struct kintrospect_runnable`).
#[repr(C)]
#[derive(Clone, Copy, Zeroable)]
pub(crate) struct RawRunnable {
    pub(crate) pid: i32,
    /// The CPU whose runqueue it waits in.
    pub(crate) cpu: u32,
    pub(crate) comm: [u8; COMM_LEN],
}

/// One debugfs file to create (`struct kintrospect_file_spec`).
#[repr(C)]
struct FileSpec {
    name: *const c_char,
    id: u32,
    mode: u16,
}

// The C side asserts the same sizes.
const _: () = assert!(core::mem::size_of::<RawCpu>() == 10712);
// One bit per frame in `interrupted` and `unresolved`.
const _: () = assert!(MAX_FRAMES <= u64::BITS as usize);
const _: () = assert!(core::mem::size_of::<RawCpusInfo>() == 40);
const _: () = assert!(core::mem::size_of::<FileSpec>() == 16);
const _: () = assert!(core::mem::size_of::<registration::Ops>() == 48);
const _: () = assert!(core::mem::size_of::<config::Params>() == 68);
const _: () = assert!(core::mem::size_of::<config::Feature>() == 16);
const _: () = assert!(core::mem::size_of::<RawHeld>() == 232);
const _: () = assert!(core::mem::size_of::<RawTask>() == 160);
const _: () = assert!(core::mem::size_of::<RawRunnable>() == 24);
const _: () = assert!(core::mem::size_of::<RawLocksInfo>() == 40);

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
        pub(super) fn kintrospect_raw_addresses() -> bool;
        pub(super) fn kintrospect_register(data: *const c_void, ops: *const registration::Ops);
        pub(super) fn kintrospect_unregister();
        pub(super) fn kintrospect_tick_start(interval_ms: u32);
        pub(super) fn kintrospect_tick_stop();
        pub(super) fn kintrospect_watch_start(interval_ms: u32) -> c_int;
        pub(super) fn kintrospect_watch_stop();
        pub(super) fn kintrospect_watch_take(
            out: *mut watch::RawHit,
            max: u32,
            dropped: *mut u32,
        ) -> u32;
        pub(super) fn kintrospect_watch_hooks() -> u32;
        pub(super) fn kintrospect_watch_cadence(out: *mut watch::Cadence);
        pub(super) fn kintrospect_debugfs_create(files: *const FileSpec, nr: u32) -> c_int;
        pub(super) fn kintrospect_debugfs_remove();
        pub(super) fn kintrospect_sysrq_register(key: u8) -> c_int;
        pub(super) fn kintrospect_locks_collect(
            tasks: *mut RawTask,
            max_tasks: u32,
            held: *mut RawHeld,
            max_held: u32,
            info: *mut RawLocksInfo,
        ) -> c_int;
        pub(super) fn kintrospect_locks_confirm(
            tasks: *const RawTask,
            which: *const u32,
            confirmed: *mut u8,
            nr: u32,
        ) -> u32;
        pub(super) fn kintrospect_runq_collect(
            out: *mut RawRunnable,
            max: u32,
            dropped: *mut u32,
        ) -> u32;
        pub(super) fn kintrospect_sysrq_unregister();
        pub(super) fn kintrospect_params_read(params: *mut config::Params);
        pub(super) fn kintrospect_features(nr: *mut u32) -> *const config::Feature;
        pub(super) fn kintrospect_kernel_release() -> *const c_char;
        pub(super) fn kintrospect_test_spin(
            irqoff: bool,
            timeout_ms: u32,
            irqoff_ns: *mut u64,
        ) -> c_int;
        pub(super) fn kintrospect_test_spin_limit(irqoff: bool, timeout_ms: u32) -> u32;
        pub(super) fn kintrospect_test_abba(b_first: bool, timeout_ms: u32) -> c_int;
        pub(super) fn kintrospect_test_init();
        pub(super) fn kintrospect_test_release();
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
            info: *mut slab::RawFlushInfo,
        ) -> c_int;
        pub(super) fn kintrospect_slab_io_lock(wait: bool) -> c_int;
        pub(super) fn kintrospect_slab_io_unlock();
        pub(super) fn kintrospect_now_ns() -> u64;
        pub(super) fn kintrospect_leak_init() -> c_int;
        pub(super) fn kintrospect_leak_exit();
        pub(super) fn kintrospect_leak_alloc(nr: u32) -> c_int;
        pub(super) fn kintrospect_leak_free();
        pub(super) fn kintrospect_leak_count() -> u64;
        pub(super) fn kintrospect_persist_map(
            name: *const c_char,
            base: *mut *mut c_void,
            phys: *mut u64,
            size: *mut u64,
        ) -> c_int;
        pub(super) fn kintrospect_persist_unmap(base: *mut c_void);
        pub(super) fn kintrospect_persist_flush(addr: *mut c_void, len: u64);
        pub(super) fn kintrospect_crc32(crc: u32, p: *const c_void, len: u64) -> u32;
        pub(super) fn kintrospect_boot_id(id: *mut u8) -> c_int;
        pub(super) fn kintrospect_random_u64() -> u64;
        pub(super) fn kintrospect_real_ns() -> u64;
        pub(super) fn kintrospect_boottime_ns() -> u64;
        pub(super) fn kintrospect_watch_peek_panic(out: *mut watch::RawHit, max: u32) -> u32;
        pub(super) fn kintrospect_watch_recorded();
    }
}

mod config;
mod locks;
mod nmi;
mod persist;
mod registration;
mod runq;
mod slab;
mod testpath;
mod watch;

pub(crate) use config::{
    features,
    kernel_release,
    Params,
    PERSIST_NAME_LEN,
    SLAB_TREND_MAX, //
};
pub(crate) use locks::{
    collect_locks,
    confirm_edges,
    HeldMode,
    LockFlags,
    LockKind, //
};
pub(crate) use nmi::{
    nr_cpu_slots,
    raw_addresses_allowed,
    snapshot_memory,
    Context,
    CpuLockdep,
    Mode,
    Nmi,
    Source,
    State, //
};
// Only the KUnit suites build CPU records by hand.
#[cfg(kintrospect_kunit)]
pub(crate) use nmi::zeroed_cpus;
pub(crate) use persist::{
    boot_id,
    boottime_ns,
    crc32,
    random_u64,
    real_ns,
    Region, //
};
pub(crate) use registration::{
    Config,
    FileDef,
    Handler,
    Registration,
    MAX_WRITE, //
};
pub(crate) use runq::collect_runnable;
pub(crate) use slab::{
    now_ns,
    FlushError,
    FlushStatus,
    Leak,
    SlabFile,
    SlabFiles,
    SlabIoGuard, //
    FLUSH_TIMEOUT_MS,
    PROBE_TIMEOUT_MS,
};
pub(crate) use testpath::{
    SpinEnd,
    TestPath, //
};
pub(crate) use watch::{
    hits_recorded,
    peek_hits_in_panic,
    take_hits,
    Cadence,
    HitKind,
    Hooks,
    RawHit,
    MAX_HITS, //
};
