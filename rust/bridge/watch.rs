// SPDX-License-Identifier: GPL-2.0

//! The watch's hooks (`rust/c/watch.c`): what the hung-task detector and the die notifier saw
//! since the last sample. The periodic sample itself and the panic notifier call back through
//! [`Handler`](super::Handler).

use super::*;

/// Hits taken per sample at most (`WATCH_MAX_HITS`); more are counted as dropped.
pub(crate) const MAX_HITS: usize = 16;

c_enum! {
    /// What a hook saw (`enum kintrospect_hit_kind`).
    HitKind: u32 {
        /// `KINTROSPECT_HIT_HUNG_TASK`: the hung-task detector reported the task.
        HungTask = 1,
        /// `KINTROSPECT_HIT_OOPS`: the task oopsed.
        Oops = 2,
    }
}

/// Something a hook saw, for the next sample (`struct kintrospect_watch_hit`).
#[repr(C)]
#[derive(Clone, Copy, Zeroable)]
pub(crate) struct RawHit {
    pub(crate) taken_ns: u64,
    kind: u32,
    pub(crate) pid: i32,
    pub(crate) cpu: u32,
    pad: u32,
    pub(crate) comm: [u8; COMM_LEN],
}

/// How the watch kept its cadence (`struct kintrospect_watch_cadence`).
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct Cadence {
    /// `ktime_get_mono_fast_ns()` at the end of the latest sample; 0: none yet.
    pub(crate) last_ns: u64,
    /// The longest time from the end of a sample to the start of the next.
    pub(crate) longest_gap_ns: u64,
    /// Samples that started more than [`Cadence::late_after_ns`] after the previous one.
    pub(crate) late: u64,
    /// Samples a backup timer started: the CPU of the primary one ran no timer.
    pub(crate) rescued: u64,
    /// The interval and half as much again.
    pub(crate) late_after_ns: u64,
}

// The C side asserts the same layouts.
c_layout! {
    RawHit (40 bytes) {
        taken_ns: 0,
        kind: 8,
        pid: 12,
        cpu: 16,
        pad: 20,
        comm: 24,
    }
}
c_layout! {
    Cadence (40 bytes) {
        last_ns: 0,
        longest_gap_ns: 8,
        late: 16,
        rescued: 24,
        late_after_ns: 32,
    }
}

mod ffi {
    use super::*;

    unsafe extern "C" {
        pub(super) fn kintrospect_watch_take(out: *mut RawHit, max: u32, dropped: *mut u32) -> u32;
        pub(super) fn kintrospect_watch_peek_panic(out: *mut RawHit, max: u32) -> u32;
        pub(super) fn kintrospect_watch_recorded();
        pub(super) fn kintrospect_watch_hooks() -> u32;
        pub(super) fn kintrospect_watch_cadence(out: *mut Cadence);
    }
}

impl RawHit {
    /// What was seen; `None` for a code the C side does not define (never).
    pub(crate) fn kind(&self) -> Option<HitKind> {
        HitKind::try_from(self.kind).ok()
    }
}

/// Takes the hits noted since the last call into `out`; returns how many, and how many were
/// lost (a hook found the array busy or full). Process context.
pub(crate) fn take_hits(out: &mut [RawHit; MAX_HITS]) -> (usize, u32) {
    let mut dropped = 0u32;
    // SAFETY: `out` is valid for writes of `MAX_HITS` records and `dropped` for one `u32`;
    // process context.
    let n = unsafe { ffi::kintrospect_watch_take(out.as_mut_ptr(), MAX_HITS as u32, &mut dropped) };
    ((n as usize).min(MAX_HITS), dropped)
}

impl Cadence {
    /// The counts now (all zero with the watch off).
    pub(crate) fn read() -> Self {
        let mut c = Self::default();
        // SAFETY: `c` is valid for writes of one record; the C side only reads its own
        // counters.
        unsafe { ffi::kintrospect_watch_cadence(&mut c) };
        c
    }
}

kernel::impl_flags!(
    /// Which hooks the watch has attached (`KINTROSPECT_HOOK_*`).
    #[derive(Clone, Copy, Default)]
    pub(crate) struct Hooks(u32);

    /// One hook of the watch.
    #[derive(Clone, Copy)]
    pub(crate) enum Hook {
        /// `KINTROSPECT_HOOK_HUNG_TASK`: the hung-task detector's tracepoint.
        HungTask = 1 << 0,
        /// `KINTROSPECT_HOOK_OOPS`: the die notifier.
        Oops = 1 << 1,
        /// `KINTROSPECT_HOOK_PANIC`: the panic notifier.
        Panic = 1 << 2,
    }
);

impl Hooks {
    /// The hooks attached now (none with the watch off).
    pub(crate) fn attached() -> Self {
        // SAFETY: Reads flags; no preconditions.
        Self(unsafe { ffi::kintrospect_watch_hooks() })
    }
}

/// The sample has recorded the hits it took (they are no longer the panic notifier's).
/// Process context.
pub(crate) fn hits_recorded() {
    // SAFETY: No preconditions; process context.
    unsafe { ffi::kintrospect_watch_recorded() }
}

/// The hits no sample has recorded yet (taken by one in progress, or not taken), into `out`,
/// for the panic notifier (a hung task whose
/// report panics the kernel is noted but never sampled); returns how many. Only tries the
/// lock and leaves the hits in place. Any context.
pub(crate) fn peek_hits_in_panic(out: &mut [RawHit; MAX_HITS]) -> usize {
    // SAFETY: `out` is valid for writes of `MAX_HITS` records; any context.
    let n = unsafe { ffi::kintrospect_watch_peek_panic(out.as_mut_ptr(), MAX_HITS as u32) };
    (n as usize).min(MAX_HITS)
}
