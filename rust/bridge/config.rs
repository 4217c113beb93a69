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

/// The module parameters (`struct kintrospect_params`), read once at load.
///
/// Their names, defaults and ranges are declared once, in `KINTROSPECT_UINT_PARAMS`
/// (`rust/c/kintrospect.h`); a value out of range fails the load with `EINVAL` and a message
/// naming the parameter and its range: nothing is clamped silently, so what `status` shows is
/// what is in force.
#[repr(C)]
#[derive(Clone, Copy, Zeroable)]
pub(crate) struct Params {
    /// `nmi_timeout_ms`: how long a CPU snapshot waits for the other CPUs.
    pub(crate) nmi_timeout_ms: u32,
    /// `spin_timeout_ms`: the bound of a test spin.
    pub(crate) spin_timeout_ms: u32,
    /// `slab_interval_ms`: the periodic slab sampling period, 0 = off.
    pub(crate) slab_interval_ms: u32,
    /// `slab_trend_samples`: K, the intervals the slab trend keeps, at most [`SLAB_TREND_MAX`].
    pub(crate) slab_trend_samples: u32,
    /// `slab_trend_min_growth`: M, the growing intervals that make a suspect, at most K.
    pub(crate) slab_trend_min_growth: u32,
    /// `stuck_ms`: how long on one task in kernel mode makes a CPU stuck in the report.
    pub(crate) stuck_ms: u32,
    /// `watch_interval_ms`: the watch's sampling period, 0 = off.
    pub(crate) watch_interval_ms: u32,
    /// `watch_events`: the events the watch keeps.
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

/// Most slab trend intervals kept per cache (`KINTROSPECT_SLAB_TREND_MAX`).
pub(crate) const SLAB_TREND_MAX: u32 = 64;

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
        pub(super) fn kintrospect_params_read(params: *mut Params) -> c_int;
        pub(super) fn kintrospect_uint_param(
            params: *const Params,
            i: u32,
            value: *mut u32,
        ) -> *const c_char;
        pub(super) fn kintrospect_features(nr: *mut u32) -> *const Feature;
        pub(super) fn kintrospect_kernel_release() -> *const c_char;
    }
}

impl Params {
    /// Reads the module parameters; `EINVAL` (with a message) when `slab_trend_min_growth`
    /// exceeds `slab_trend_samples`, the one range that depends on another parameter (the
    /// load refused every other value out of range).
    pub(crate) fn read() -> Result<Self> {
        let mut p: Self = Zeroable::zeroed();
        // SAFETY: `p` is a valid `struct kintrospect_params`; no other preconditions.
        to_result(unsafe { ffi::kintrospect_params_read(&mut p) })?;
        Ok(p)
    }

    /// The numeric parameters, `(name, value)`, in the order `KINTROSPECT_UINT_PARAMS`
    /// declares them.
    pub(crate) fn numeric(&self) -> impl Iterator<Item = (&'static CStr, u32)> + '_ {
        (0u32..).map_while(move |i| {
            let mut value = 0u32;
            // SAFETY: `self` is a valid `struct kintrospect_params` and `value` is valid for
            // a write; no other preconditions.
            let name = unsafe { ffi::kintrospect_uint_param(self, i, &mut value) };
            // SAFETY: A non-NULL name is a static NUL-terminated string of the C table.
            (!name.is_null()).then(|| (unsafe { CStr::from_char_ptr(name) }, value))
        })
    }

    /// `persist`: the name of the region that keeps the events, if one was given.
    pub(crate) fn persist(&self) -> Option<&CStr> {
        CStr::from_bytes_until_nul(&self.persist)
            .ok()
            .filter(|name| !name.is_empty())
    }
}
