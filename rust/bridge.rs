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
        pub(super) fn kintrospect_slab_sampler_start(data: *const c_void, interval_ms: u32);
        pub(super) fn kintrospect_slab_sampler_stop();
        pub(super) fn kintrospect_leak_init() -> c_int;
        pub(super) fn kintrospect_leak_exit();
        pub(super) fn kintrospect_leak_alloc(nr: u32) -> c_int;
        pub(super) fn kintrospect_leak_free();
        pub(super) fn kintrospect_leak_count() -> u64;
    }
}

mod config;
mod cpus;
mod debugfs;
mod locks;
mod slab;
mod test;

pub(crate) use config::{
    features,
    kernel_release,
    params, //
};
pub(crate) use cpus::{
    nr_cpu_slots,
    raw_addresses_allowed,
    snapshot_memory,
    symbol,
    Nmi,
    Source, //
};
pub(crate) use debugfs::{
    Debugfs,
    Sysrq, //
};
pub(crate) use locks::collect_locks;
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
pub(crate) use test::{
    SpinEnd,
    TestPath, //
};
