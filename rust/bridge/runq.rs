// SPDX-License-Identifier: GPL-2.0

//! The tasks waiting in runqueues (`rust/c/runq.c`).

use super::*;

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
