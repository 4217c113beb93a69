// SPDX-License-Identifier: GPL-2.0

//! NMI CPU snapshots and symbols (`rust/c/nmi.c`).

use super::*;

/// Frames kept per CPU (`KINTROSPECT_MAX_FRAMES`).
pub(crate) const MAX_FRAMES: usize = 64;

/// Room for one frame's symbol with its NUL (`KINTROSPECT_SYMBOL_LEN`).
pub(crate) const SYMBOL_LEN: usize = 128;

/// Locks kept per CPU from the interrupted task's lockdep stack
/// (`KINTROSPECT_CPU_MAX_HELD`).
pub(crate) const CPU_MAX_HELD: usize = 8;

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

// The C side asserts the same layouts.
c_layout! {
    RawCpu (10712 bytes) {
        taken_ns: 0,
        handler_ns: 8,
        ip: 16,
        sp: 24,
        flags: 32,
        frames: 40,
        interrupted: 552,
        unresolved: 560,
        pid: 568,
        tgid: 572,
        cpu: 576,
        state: 580,
        mode: 584,
        irqs_disabled: 588,
        preempt_count: 592,
        nr_frames: 596,
        comm: 600,
        symbols: 616,
        nr_switches: 8808,
        start_time: 8816,
        on_cpu_since_ns: 8824,
        utime: 8832,
        lockdep: 8840,
        nr_held: 8844,
        held_dropped: 8848,
        context: 8852,
        held: 8856,
    }
}
// One bit per frame in `interrupted` and `unresolved`.
const _: () = assert!(MAX_FRAMES <= u64::BITS as usize);
c_layout! {
    RawCpusInfo (40 bytes) {
        seq: 0,
        taken_ns: 8,
        duration_ns: 16,
        source: 24,
        nr_cpus: 28,
        nr_no_response: 32,
        pad: 36,
    }
}

mod ffi {
    use super::*;

    unsafe extern "C" {
        pub(super) fn kintrospect_cpus_init(timeout_ms: u32) -> c_int;
        pub(super) fn kintrospect_cpus_exit();
        pub(super) fn kintrospect_cpus_capture(source: u32) -> c_int;
        pub(super) fn kintrospect_cpus_header(info: *mut RawCpusInfo);
        pub(super) fn kintrospect_cpus_nr_slots() -> u32;
        pub(super) fn kintrospect_nmi_cost(cpu: u32, ns: *mut u64, count: *mut u64);
        pub(super) fn kintrospect_cpus_copy(
            info: *mut RawCpusInfo,
            cpus: *mut RawCpu,
            nr: u32,
        ) -> c_int;
        pub(super) fn kintrospect_cpus_memory() -> usize;
        pub(super) fn kintrospect_raw_addresses() -> bool;
    }
}

c_enum! {
    /// What a CPU was doing when the snapshot reached it (`enum kintrospect_cpu_state`).
    State: u32 {
        /// `KINTROSPECT_CPU_OFFLINE`: a possible CPU that is not online.
        Offline = 0,
        /// `KINTROSPECT_CPU_RUNNING`.
        Running = 1,
        /// `KINTROSPECT_CPU_IDLE`: the idle task, not in an interrupt.
        Idle = 2,
        /// `KINTROSPECT_CPU_NO_RESPONSE`: its data for this snapshot did not arrive in time.
        NoResponse = 3,
    }
}

c_enum! {
    /// The context the NMI interrupted (`enum kintrospect_mode`).
    Mode: u32 {
        /// `KINTROSPECT_MODE_KERNEL`.
        Kernel = 0,
        /// `KINTROSPECT_MODE_USER`.
        User = 1,
        /// `KINTROSPECT_MODE_IDLE`.
        Idle = 2,
    }
}

c_enum! {
    /// The interrupt level the NMI interrupted (`enum kintrospect_context`).
    Context: u32 {
        /// `KINTROSPECT_CONTEXT_TASK`: no interrupt.
        Task = 0,
        /// `KINTROSPECT_CONTEXT_SOFTIRQ`: serving a softirq.
        Softirq = 1,
        /// `KINTROSPECT_CONTEXT_IRQ`: a hard interrupt.
        Irq = 2,
        /// `KINTROSPECT_CONTEXT_NMI`.
        Nmi = 3,
    }
}

c_enum! {
    /// Who asked for a snapshot (`enum kintrospect_source`).
    Source: u32 {
        /// `KINTROSPECT_SOURCE_NONE`: no snapshot taken yet.
        None = 0,
        /// `KINTROSPECT_SOURCE_CONTROL`: a write of `snapshot cpus` to `control`.
        Control = 1,
        /// `KINTROSPECT_SOURCE_SYSRQ`: the SysRq key.
        Sysrq = 2,
        /// `KINTROSPECT_SOURCE_WATCH`: the watch's periodic sample.
        Watch = 3,
    }
}

c_enum! {
    /// What a CPU record says of lockdep's held-lock stack (`enum kintrospect_cpu_lockdep`).
    CpuLockdep: u32 {
        /// `KINTROSPECT_CPU_LOCKDEP_NONE`: no `CONFIG_LOCKDEP`, or no data for this CPU.
        None = 0,
        /// `KINTROSPECT_CPU_LOCKDEP_ON`: the held locks are the task's stack at the NMI.
        On = 1,
        /// `KINTROSPECT_CPU_LOCKDEP_OFF`: lockdep has turned itself off; not read.
        Off = 2,
    }
}

/// `n` all-zero CPU records, written in place (a record is too large for the stack).
pub(crate) fn zeroed_cpus(n: usize) -> Result<KVVec<RawCpu>> {
    let mut cpus = KVVec::with_capacity(n, GFP_KERNEL)?;
    // SAFETY: The spare capacity holds at least `n` records, and all-zero bytes are a valid
    // `RawCpu` (it is `Zeroable`).
    unsafe {
        core::ptr::write_bytes(cpus.spare_capacity_mut().as_mut_ptr(), 0, n);
        cpus.inc_len(n);
    }
    Ok(cpus)
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

    /// Takes a snapshot of every CPU; `EBUSY` when one is being taken. Never sleeps nor
    /// allocates: the SysRq key's handler calls it.
    pub(crate) fn capture(&self, source: Source) -> Result {
        // SAFETY: By the type invariant the buffers exist.
        to_result(unsafe { ffi::kintrospect_cpus_capture(source.into()) })
    }

    /// The latest snapshot's header. Never sleeps nor allocates.
    pub(crate) fn header(&self) -> RawCpusInfo {
        let mut info = RawCpusInfo::default();
        // SAFETY: `info` is a valid header; by the type invariant the buffers exist.
        unsafe { ffi::kintrospect_cpus_header(&mut info) };
        info
    }

    /// Copies the latest snapshot out: its header and [`nr_cpu_slots`] records.
    ///
    /// The records are one `kvmalloc` allocation; a failure leaves the snapshot as it was.
    pub(crate) fn copy(&self) -> Result<(RawCpusInfo, KVVec<RawCpu>)> {
        let n = nr_cpu_slots();
        let mut cpus = zeroed_cpus(n)?;
        let mut info = RawCpusInfo::default();
        // SAFETY: `info` is a valid header and `cpus` holds `n` records; by the type invariant
        // the buffers exist.
        to_result(unsafe { ffi::kintrospect_cpus_copy(&mut info, cpus.as_mut_ptr(), n as u32) })?;
        Ok((info, cpus))
    }
}

impl Drop for Nmi {
    fn drop(&mut self) {
        // SAFETY: By the type invariant initialisation succeeded; this runs once, at unload,
        // after everything that captures or reads snapshots (SysRq key, debugfs) is gone.
        unsafe { ffi::kintrospect_cpus_exit() };
    }
}

/// Number of CPU records in a snapshot (`nr_cpu_ids`; 0 before [`Nmi::register`]).
pub(crate) fn nr_cpu_slots() -> usize {
    // SAFETY: Reads a value set by `kintrospect_cpus_init()`; no preconditions.
    unsafe { ffi::kintrospect_cpus_nr_slots() as usize }
}

/// What kintrospect's NMI handler spent on `cpu` since load: its time in ns (the NMI-safe
/// local clock, from the claim to the return) and the NMIs it claimed; zeros for a CPU
/// without a slot.
pub(crate) fn nmi_cost(cpu: usize) -> (u64, u64) {
    let (mut ns, mut count) = (0u64, 0u64);
    let cpu = u32::try_from(cpu).unwrap_or(u32::MAX);
    // SAFETY: `ns` and `count` are valid for writes of one `u64` each; the C side checks `cpu`
    // against its slots and only reads its counters.
    unsafe { ffi::kintrospect_nmi_cost(cpu, &mut ns, &mut count) };
    (ns, count)
}

/// Bytes allocated for NMI slots and snapshots, symbol text included (0 before
/// [`Nmi::register`]).
pub(crate) fn snapshot_memory() -> usize {
    // SAFETY: Computed from a value set by `kintrospect_cpus_init()`; no preconditions.
    unsafe { ffi::kintrospect_cpus_memory() }
}

/// Whether the reading task may see raw kernel addresses (what `%pK` would print).
pub(crate) fn raw_addresses_allowed() -> bool {
    // SAFETY: No preconditions; called in process context.
    unsafe { ffi::kintrospect_raw_addresses() }
}
