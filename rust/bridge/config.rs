// SPDX-License-Identifier: GPL-2.0

//! What this kernel was built with and the module parameters (`rust/c/features.c`,
//! `rust/c/params.c`).

use super::*;

/// Kernel debug features this kernel was built with (`KINTROSPECT_FEAT_*` bits).
pub(crate) fn features() -> u32 {
    // SAFETY: No preconditions.
    unsafe { ffi::kintrospect_features() }
}

/// The running kernel's release.
pub(crate) fn kernel_release() -> &'static CStr {
    // SAFETY: `utsname()->release` is a NUL-terminated string that lives as long as the
    // kernel; process context.
    unsafe { CStr::from_char_ptr(ffi::kintrospect_kernel_release()) }
}

/// The module parameters (declared in `rust/c/params.c`, read-only after load).
pub(crate) mod params {
    use super::ffi;

    /// `nmi_timeout_ms`: how long a snapshot waits for the other CPUs.
    pub(crate) fn nmi_timeout_ms() -> u32 {
        // SAFETY: Reads a module parameter; no preconditions.
        unsafe { ffi::kintrospect_param_nmi_timeout_ms() }
    }

    /// `sysrq_key`: the SysRq key.
    pub(crate) fn sysrq_key() -> u8 {
        // SAFETY: Reads a module parameter; no preconditions.
        unsafe { ffi::kintrospect_param_sysrq_key() }
    }

    /// `test_paths`: whether the test directory exists.
    pub(crate) fn test_paths() -> bool {
        // SAFETY: Reads a module parameter; no preconditions.
        unsafe { ffi::kintrospect_param_test_paths() }
    }

    /// `slab_interval_ms`: the periodic slab sampling period, 0 = off.
    pub(crate) fn slab_interval_ms() -> u32 {
        // SAFETY: Reads a module parameter; no preconditions.
        unsafe { ffi::kintrospect_param_slab_interval_ms() }
    }

    /// `slab_trend_samples`: K, the intervals the slab trend keeps.
    pub(crate) fn slab_trend_samples() -> u32 {
        // SAFETY: Reads a module parameter; no preconditions.
        unsafe { ffi::kintrospect_param_slab_trend_samples() }
    }

    /// `slab_trend_min_growth`: M, the growing intervals that make a suspect.
    pub(crate) fn slab_trend_min_growth() -> u32 {
        // SAFETY: Reads a module parameter; no preconditions.
        unsafe { ffi::kintrospect_param_slab_trend_min_growth() }
    }

    /// `spin_timeout_ms`: the bound of a test spin.
    pub(crate) fn spin_timeout_ms() -> u32 {
        // SAFETY: Reads a module parameter; no preconditions.
        unsafe { ffi::kintrospect_param_spin_timeout_ms() }
    }
}
