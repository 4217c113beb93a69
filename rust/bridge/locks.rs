// SPDX-License-Identifier: GPL-2.0

//! Lock-holder records (`rust/c/locks.c`).

use super::*;

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
