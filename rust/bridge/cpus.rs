// SPDX-License-Identifier: GPL-2.0

//! NMI CPU snapshots and symbols (`rust/c/nmi.c`).

use super::*;

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
