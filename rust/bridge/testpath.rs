// SPDX-License-Identifier: GPL-2.0

//! The spin-forever and ABBA test paths (`rust/c/testpath.c`).

use super::*;

/// How a test spin ended.
pub(crate) enum SpinEnd {
    /// A write to `test/release`.
    Released,
    /// Its bound elapsed: `spin_timeout_ms`, with interrupts off at most 8 s; in ms.
    TimedOut(u32),
    /// A reader waiting for the lock with interrupts off ended it, by that reader's bound
    /// (interrupts off at most this long, in ms).
    ForIrqoffWaiter(u32),
}

/// A test spin's end, and how long it kept interrupts off (ns; 0 with interrupts on).
pub(crate) struct Spin {
    pub(crate) end: SpinEnd,
    pub(crate) irqoff_ns: u64,
}

mod ffi {
    use super::*;

    unsafe extern "C" {
        pub(super) fn kintrospect_test_init();
        pub(super) fn kintrospect_test_release();
        pub(super) fn kintrospect_test_spin(
            irqoff: bool,
            timeout_ms: u32,
            irqoff_ns: *mut u64,
        ) -> c_int;
        pub(super) fn kintrospect_test_spin_limit(irqoff: bool, timeout_ms: u32) -> u32;
        pub(super) fn kintrospect_test_abba(b_first: bool, timeout_ms: u32) -> c_int;
    }
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
    pub(crate) fn spin(&self, irqoff: bool, timeout_ms: u32) -> Spin {
        let mut irqoff_ns = 0;
        // SAFETY: Process context (a debugfs read); the spin is bounded by `timeout_ms`;
        // `irqoff_ns` is valid for a write.
        let end = match unsafe { ffi::kintrospect_test_spin(irqoff, timeout_ms, &mut irqoff_ns) } {
            0 => SpinEnd::Released,
            // SAFETY: No preconditions.
            e if e == EBUSY.to_errno() => SpinEnd::ForIrqoffWaiter(unsafe {
                ffi::kintrospect_test_spin_limit(true, u32::MAX)
            }),
            // SAFETY: No preconditions.
            _ => SpinEnd::TimedOut(unsafe { ffi::kintrospect_test_spin_limit(irqoff, timeout_ms) }),
        };
        Spin { end, irqoff_ns }
    }

    /// Ends every running spin.
    pub(crate) fn release(&self) {
        // SAFETY: No preconditions.
        unsafe { ffi::kintrospect_test_release() };
    }
}
