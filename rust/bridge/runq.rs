// SPDX-License-Identifier: GPL-2.0

//! The tasks waiting in runqueues (`rust/c/runq.c`).

use super::*;

/// A task waiting in a runqueue (`struct kintrospect_runnable`).
#[repr(C)]
#[derive(Clone, Copy, Zeroable)]
pub(crate) struct RawRunnable {
    pub(crate) pid: i32,
    /// The CPU whose runqueue it waits in.
    pub(crate) cpu: u32,
    pub(crate) comm: [u8; COMM_LEN],
}

// The C side asserts the same layout.
c_layout! {
    RawRunnable (24 bytes) {
        pid: 0,
        cpu: 4,
        comm: 8,
    }
}

mod ffi {
    use super::*;

    unsafe extern "C" {
        pub(super) fn kintrospect_runq_collect(
            out: *mut RawRunnable,
            max: u32,
            dropped: *mut u32,
        ) -> u32;
    }
}

/// Walks every thread and fills `out` with those that are runnable but not on a CPU; returns
/// how many were written and how many did not fit. Process context.
pub(crate) fn collect_runnable(out: &mut [RawRunnable]) -> Result<(usize, u32)> {
    let max = u32::try_from(out.len()).map_err(|_| EINVAL)?;
    let mut dropped = 0u32;
    // SAFETY: `out` is valid for writes of `max` records and `dropped` for one `u32`; process
    // context.
    let n = unsafe { ffi::kintrospect_runq_collect(out.as_mut_ptr(), max, &mut dropped) };
    Ok(((n as usize).min(out.len()), dropped))
}
