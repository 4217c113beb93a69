// SPDX-License-Identifier: GPL-2.0

//! The module parameters and what this kernel was built with (`rust/c/config.c`).

use super::*;

/// A kernel debug feature kintrospect can use (`struct kintrospect_feature`).
#[repr(C)]
pub(crate) struct Feature {
    name: *const c_char,
    enabled: bool,
}

impl Feature {
    /// Its name in `status`.
    pub(crate) fn name(&self) -> &'static CStr {
        // SAFETY: By the C table, `name` is a static NUL-terminated string.
        unsafe { CStr::from_char_ptr(self.name) }
    }

    /// Whether this kernel was built with it.
    pub(crate) fn enabled(&self) -> bool {
        self.enabled
    }
}

// SAFETY: The table is static and never written.
unsafe impl Sync for Feature {}

/// The kernel debug features kintrospect can use, in the order `status` shows them.
pub(crate) fn features() -> &'static [Feature] {
    let mut nr = 0u32;
    // SAFETY: No preconditions; the C part returns its static table and its length.
    let table = unsafe { ffi::kintrospect_features(&mut nr) };
    // SAFETY: `table` points to `nr` initialised, static, immutable entries.
    unsafe { core::slice::from_raw_parts(table, nr as usize) }
}

/// The running kernel's release.
pub(crate) fn kernel_release() -> &'static CStr {
    // SAFETY: `utsname()->release` is a NUL-terminated string that lives as long as the
    // kernel; process context.
    unsafe { CStr::from_char_ptr(ffi::kintrospect_kernel_release()) }
}

/// The module parameters (declared in `rust/c/config.c`), read and checked once at load.
///
/// A value out of range fails the load with `EINVAL` and a message naming the parameter and
/// its range: nothing is clamped silently, so what `status` shows is what is in force.
#[repr(C)]
#[derive(Clone, Copy, Zeroable)]
pub(crate) struct Params {
    /// `nmi_timeout_ms`: how long a CPU snapshot waits for the other CPUs, 1-10000.
    pub(crate) nmi_timeout_ms: u32,
    /// `spin_timeout_ms`: the bound of a test spin, 1-[`SPIN_MAX_MS`].
    pub(crate) spin_timeout_ms: u32,
    /// `slab_interval_ms`: the periodic slab sampling period, 0 = off, else 100-3600000.
    pub(crate) slab_interval_ms: u32,
    /// `slab_trend_samples`: K, the intervals the slab trend keeps, 2-[`SLAB_TREND_MAX`].
    pub(crate) slab_trend_samples: u32,
    /// `slab_trend_min_growth`: M, the growing intervals that make a suspect, 1-K.
    pub(crate) slab_trend_min_growth: u32,
    /// `stuck_ms`: how long on one task in kernel mode makes a CPU stuck in the report,
    /// 1-3600000.
    pub(crate) stuck_ms: u32,
    /// `watch_interval_ms`: the watch's sampling period, 0 = off, else 100-3600000.
    pub(crate) watch_interval_ms: u32,
    /// `watch_events`: the events the watch keeps, 2-[`WATCH_EVENTS_MAX`].
    pub(crate) watch_events: u32,
    /// `sysrq_key`: the SysRq key.
    pub(crate) sysrq_key: u8,
    /// `test_paths`: whether the test directory exists.
    pub(crate) test_paths: bool,
    pad: u16,
    /// `persist`: the `reserve_mem` region that keeps the events, NUL-terminated; empty: none.
    persist: [u8; PERSIST_NAME_LEN],
}

/// Room for the `persist` region name with its NUL (`KINTROSPECT_PERSIST_NAME_LEN`).
pub(crate) const PERSIST_NAME_LEN: usize = 32;

/// Longest test spin (`KINTROSPECT_SPIN_MAX_MS`): below the soft-lockup and RCU stall
/// thresholds.
pub(crate) const SPIN_MAX_MS: u32 = 15000;
/// Most slab trend intervals kept per cache.
pub(crate) const SLAB_TREND_MAX: u32 = 64;
/// Most events the watch keeps.
pub(crate) const WATCH_EVENTS_MAX: u32 = 64;
/// Longest NMI wait of a CPU snapshot.
pub(crate) const NMI_TIMEOUT_MAX_MS: u32 = 10000;

// The C side asserts the same layouts.
c_layout! {
    Params (68 bytes) {
        nmi_timeout_ms: 0,
        spin_timeout_ms: 4,
        slab_interval_ms: 8,
        slab_trend_samples: 12,
        slab_trend_min_growth: 16,
        stuck_ms: 20,
        watch_interval_ms: 24,
        watch_events: 28,
        sysrq_key: 32,
        test_paths: 33,
        pad: 34,
        persist: 36,
    }
}
c_layout! {
    Feature (16 bytes) {
        name: 0,
        enabled: 8,
    }
}

mod ffi {
    use super::*;

    unsafe extern "C" {
        pub(super) fn kintrospect_params_read(params: *mut Params);
        pub(super) fn kintrospect_features(nr: *mut u32) -> *const Feature;
        pub(super) fn kintrospect_kernel_release() -> *const c_char;
    }
}

impl Params {
    /// Reads and checks the module parameters.
    pub(crate) fn read() -> Result<Self> {
        let mut p: Self = Zeroable::zeroed();
        // SAFETY: `p` is a valid `struct kintrospect_params`; no other preconditions.
        unsafe { ffi::kintrospect_params_read(&mut p) };
        check("nmi_timeout_ms", p.nmi_timeout_ms, 1, NMI_TIMEOUT_MAX_MS)?;
        check("spin_timeout_ms", p.spin_timeout_ms, 1, SPIN_MAX_MS)?;
        if p.slab_interval_ms != 0 {
            check("slab_interval_ms", p.slab_interval_ms, 100, 3_600_000)?;
        }
        check(
            "slab_trend_samples",
            p.slab_trend_samples,
            2,
            SLAB_TREND_MAX,
        )?;
        check(
            "slab_trend_min_growth",
            p.slab_trend_min_growth,
            1,
            p.slab_trend_samples,
        )?;
        check("stuck_ms", p.stuck_ms, 1, 3_600_000)?;
        if p.watch_interval_ms != 0 {
            check("watch_interval_ms", p.watch_interval_ms, 100, 3_600_000)?;
        }
        check("watch_events", p.watch_events, 2, WATCH_EVENTS_MAX)?;
        Ok(p)
    }

    /// `persist`: the name of the region that keeps the events, if one was given.
    pub(crate) fn persist(&self) -> Option<&CStr> {
        CStr::from_bytes_until_nul(&self.persist)
            .ok()
            .filter(|name| !name.is_empty())
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
