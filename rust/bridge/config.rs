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

/// The module parameters (declared in `rust/c/params.c`), read and checked once at load.
///
/// A value out of range fails the load with `EINVAL` and a message naming the parameter and
/// its range: nothing is clamped silently, so what `status` shows is what is in force.
#[derive(Clone, Copy)]
pub(crate) struct Params {
    /// `nmi_timeout_ms`: how long a CPU snapshot waits for the other CPUs, 1-10000.
    pub(crate) nmi_timeout_ms: u32,
    /// `sysrq_key`: the SysRq key.
    pub(crate) sysrq_key: u8,
    /// `test_paths`: whether the test directory exists.
    pub(crate) test_paths: bool,
    /// `spin_timeout_ms`: the bound of a test spin, 1-`KINTROSPECT_SPIN_MAX_MS`.
    pub(crate) spin_timeout_ms: u32,
    /// `slab_interval_ms`: the periodic slab sampling period, 0 = off (checked by the slab
    /// report, with the trend parameters).
    pub(crate) slab_interval_ms: u32,
    /// `slab_trend_samples`: K, the intervals the slab trend keeps.
    pub(crate) slab_trend_samples: u32,
    /// `slab_trend_min_growth`: M, the growing intervals that make a suspect.
    pub(crate) slab_trend_min_growth: u32,
}

/// Longest test spin (`KINTROSPECT_SPIN_MAX_MS`): below the soft-lockup and RCU stall
/// thresholds.
pub(crate) const SPIN_MAX_MS: u32 = 15000;
/// Most slab trend intervals kept per cache.
pub(crate) const SLAB_TREND_MAX: u32 = 64;
/// Longest NMI wait of a CPU snapshot.
pub(crate) const NMI_TIMEOUT_MAX_MS: u32 = 10000;

impl Params {
    /// Reads and checks the module parameters.
    pub(crate) fn read() -> Result<Self> {
        // SAFETY: Each reads a module parameter, read-only after load; no preconditions.
        let p = unsafe {
            Self {
                nmi_timeout_ms: ffi::kintrospect_param_nmi_timeout_ms(),
                sysrq_key: ffi::kintrospect_param_sysrq_key(),
                test_paths: ffi::kintrospect_param_test_paths(),
                spin_timeout_ms: ffi::kintrospect_param_spin_timeout_ms(),
                slab_interval_ms: ffi::kintrospect_param_slab_interval_ms(),
                slab_trend_samples: ffi::kintrospect_param_slab_trend_samples(),
                slab_trend_min_growth: ffi::kintrospect_param_slab_trend_min_growth(),
            }
        };
        check("nmi_timeout_ms", p.nmi_timeout_ms, 1, NMI_TIMEOUT_MAX_MS)?;
        check("spin_timeout_ms", p.spin_timeout_ms, 1, SPIN_MAX_MS)?;
        if p.slab_interval_ms != 0 {
            check("slab_interval_ms", p.slab_interval_ms, 100, 3_600_000)?;
        }
        check("slab_trend_samples", p.slab_trend_samples, 2, SLAB_TREND_MAX)?;
        check("slab_trend_min_growth", p.slab_trend_min_growth, 1, p.slab_trend_samples)?;
        Ok(p)
    }
}

/// `EINVAL`, with a message, unless `min <= value <= max`.
pub(crate) fn check(name: &str, value: u32, min: u32, max: u32) -> Result {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        pr_err!("{name}={value} is out of range: {min}-{max}\n");
        Err(EINVAL)
    }
}
