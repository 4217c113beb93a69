// SPDX-License-Identifier: GPL-2.0

//! Lock-holder records (`rust/c/locks.c`).

use super::*;

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
    pub(crate) flags: LockFlags,
    pub(crate) name: [u8; LOCK_NAME_LEN],
    pub(crate) site: [u8; SITE_LEN],
}

/// A thread that holds or waits for a lock (`struct kintrospect_task`).
#[repr(C)]
#[derive(Clone, Copy, Zeroable)]
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
    pub(crate) blocked_flags: LockFlags,
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

// The C side asserts the same layouts.
c_layout! {
    RawHeld (232 bytes) {
        acquire_ip: 0,
        held_ns: 8,
        lock_addr: 16,
        task: 24,
        mode: 28,
        kind: 32,
        flags: 36,
        name: 40,
        site: 104,
    }
}
c_layout! {
    RawTask (160 bytes) {
        self_ptr: 0,
        blocked_lock: 8,
        blocked_owner: 16,
        blocked_map: 24,
        blocked_ns: 32,
        pid: 40,
        tgid: 44,
        cpu: 48,
        state: 52,
        nr_held: 56,
        held_dropped: 60,
        blocked_kind: 64,
        blocked_owner_pid: 68,
        blocked_owner_cpu: 72,
        blocked_flags: 76,
        comm: 80,
        blocked_name: 96,
    }
}
c_layout! {
    RawLocksInfo (40 bytes) {
        taken_ns: 0,
        lockdep: 8,
        lockdep_off: 12,
        nr_threads: 16,
        nr_tasks: 20,
        nr_held: 24,
        tasks_dropped: 28,
        held_dropped: 32,
        pad: 36,
    }
}

mod ffi {
    use super::*;

    unsafe extern "C" {
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
    }
}

c_enum! {
    /// What a lock is, as far as kintrospect can tell (`enum kintrospect_lock_kind`, without
    /// `KINTROSPECT_LOCK_NONE`, which means "not blocked" in a task record).
    LockKind: u32 {
        /// `KINTROSPECT_LOCK_SPIN`.
        Spin = 1,
        /// `KINTROSPECT_LOCK_MUTEX`.
        Mutex = 2,
        /// `KINTROSPECT_LOCK_SEMAPHORE`.
        Semaphore = 3,
        /// `KINTROSPECT_LOCK_RWSEM_READ`.
        RwsemRead = 4,
        /// `KINTROSPECT_LOCK_RWSEM_WRITE`.
        RwsemWrite = 5,
        /// `KINTROSPECT_LOCK_SLEEPING`: a mutex or rwsem, as lockdep tells.
        Sleeping = 6,
        /// `KINTROSPECT_LOCK_OTHER`.
        Other = 7,
        /// `KINTROSPECT_LOCK_RWLOCK_READ`: an `rwlock_t` waited for in read mode, as the lock
        /// tells.
        RwlockRead = 8,
        /// `KINTROSPECT_LOCK_RWLOCK_WRITE`: an `rwlock_t` waited for in write mode, as the
        /// lock tells.
        RwlockWrite = 9,
        /// `KINTROSPECT_LOCK_PERCPU_RWSEM_READ`: a percpu rw-semaphore waited for in read
        /// mode, as the lock tells.
        PercpuRwsemRead = 10,
        /// `KINTROSPECT_LOCK_PERCPU_RWSEM_WRITE`: a percpu rw-semaphore waited for in write
        /// mode, as the lock tells.
        PercpuRwsemWrite = 11,
    }
}

c_enum! {
    /// How a lock is held (`enum kintrospect_held_mode`, lockdep's `held_lock.read`).
    HeldMode: u32 {
        /// `KINTROSPECT_HELD_WRITE`.
        Write = 0,
        /// `KINTROSPECT_HELD_READ`.
        Read = 1,
        /// `KINTROSPECT_HELD_RECURSIVE_READ`.
        RecursiveRead = 2,
    }
}

kernel::impl_flags!(
    /// The flags of a held or waited-for lock (`KINTROSPECT_LOCK_F_*`).
    #[derive(Clone, Copy, PartialEq, Eq, Default, Zeroable)]
    pub(crate) struct LockFlags(u32);

    /// One flag of a held or waited-for lock.
    #[derive(Clone, Copy, PartialEq, Eq)]
    pub(crate) enum LockFlag {
        /// `KINTROSPECT_LOCK_F_ADDR_NAME`: no lockdep name, named by the symbol of its
        /// address.
        #[cfg(kintrospect_kunit)]
        AddrName = 1 << 0,
        /// `KINTROSPECT_LOCK_F_UNRESOLVED`: no name at all; the address is shown only where
        /// `%pK` would show it.
        Unresolved = 1 << 1,
        /// `KINTROSPECT_LOCK_F_MAGIC_BAD`: a spinlock with a bad `DEBUG_SPINLOCK` magic,
        /// uninitialised or corrupted.
        MagicBad = 1 << 2,
        /// `KINTROSPECT_LOCK_F_OWNER_HINT`: the owner is a hint (a semaphore's last holder, a
        /// reader of an rwsem).
        OwnerHint = 1 << 3,
        /// `KINTROSPECT_LOCK_F_SITE_UNRESOLVED`: the acquire site has no symbol; shown only
        /// where `%pK` would show it.
        SiteUnresolved = 1 << 4,
        /// `KINTROSPECT_LOCK_F_WAITING`: in a CPU record, the task waits for (spins on, sleeps
        /// for) this lock, it does not hold it.
        Waiting = 1 << 5,
        /// `KINTROSPECT_LOCK_F_MAYBE_WAITING`: a lockdep entry the lock cannot confirm as
        /// held, acquiring or held. No waiter is joined to a holder through it.
        MaybeWaiting = 1 << 6,
    }
);

impl RawTask {
    /// What the thread waits for, if anything.
    pub(crate) fn blocked(&self) -> Option<LockKind> {
        LockKind::try_from(self.blocked_kind).ok()
    }
}

impl RawHeld {
    /// What the lock is (`Other` for a value this module does not know).
    pub(crate) fn kind(&self) -> LockKind {
        LockKind::try_from(self.kind).unwrap_or(LockKind::Other)
    }

    /// How it is held (`None` for a value this module does not know).
    pub(crate) fn mode(&self) -> Option<HeldMode> {
        HeldMode::try_from(self.mode).ok()
    }
}

/// Walks every thread and fills `tasks` and `held` with the lock-holder records; returns the
/// counts (records that did not fit are counted as dropped). Process context.
pub(crate) fn collect_locks(tasks: &mut [RawTask], held: &mut [RawHeld]) -> Result<RawLocksInfo> {
    let mut info = RawLocksInfo::default();
    let max_tasks = u32::try_from(tasks.len()).map_err(|_| EINVAL)?;
    let max_held = u32::try_from(held.len()).map_err(|_| EINVAL)?;
    // SAFETY: `tasks` and `held` are valid for writes of their lengths, which are passed along;
    // `info` is a valid header. Process context.
    to_result(unsafe {
        ffi::kintrospect_locks_collect(
            tasks.as_mut_ptr(),
            max_tasks,
            held.as_mut_ptr(),
            max_held,
            &mut info,
        )
    })?;
    info.nr_tasks = info.nr_tasks.min(max_tasks);
    info.nr_held = info.nr_held.min(max_held);
    Ok(info)
}

/// Re-reads the waits-for edge of threads `which` (indexes into `tasks`, the records of the
/// latest [`collect_locks`]): `confirmed[k]` says whether thread `which[k]` still waits for the
/// same lock, held by the same owner, and is still not running. Process context.
pub(crate) fn confirm_edges(tasks: &[RawTask], which: &[u32], confirmed: &mut [u8]) -> Result {
    if confirmed.len() != which.len() || which.iter().any(|&i| i as usize >= tasks.len()) {
        return Err(EINVAL);
    }
    let nr = u32::try_from(which.len()).map_err(|_| EINVAL)?;
    // SAFETY:
    // - `tasks` is valid for reads of every index in `which`, checked above;
    // - `which` and `confirmed` are valid for `nr` elements (reads, writes);
    // - the task records' pointers are only compared with live threads by the C side.
    unsafe {
        ffi::kintrospect_locks_confirm(tasks.as_ptr(), which.as_ptr(), confirmed.as_mut_ptr(), nr)
    };
    Ok(())
}
