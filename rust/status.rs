// SPDX-License-Identifier: GPL-2.0

//! The `status` file: what kintrospect is and what this kernel lets it see.

use crate::bridge;
use kernel::{
    fmt,
    prelude::*, //
};

/// Module version, reported in `status`.
pub(crate) const VERSION: &str = "0.1.0";

/// What `status` reports, gathered once at load.
pub(crate) struct Status {
    pub(crate) sysrq_key: u8,
    pub(crate) nmi_timeout_ms: u32,
    pub(crate) test_paths: bool,
    pub(crate) nr_cpu_slots: usize,
    pub(crate) snapshot_memory: usize,
}

impl Status {
    /// Writes `status`: one `key: value` line each.
    pub(crate) fn write(&self, f: &mut fmt::Formatter<'_>, release: &CStr) -> fmt::Result {
        writeln!(f, "version: {VERSION}")?;
        writeln!(f, "kernel: {}", release.to_str().unwrap_or("?"))?;
        for feature in bridge::features() {
            let name = feature.name().to_str().unwrap_or("?");
            writeln!(f, "{name}: {}", yes_no(feature.enabled()))?;
        }
        writeln!(f, "sysrq_key: {}", char::from(self.sysrq_key))?;
        writeln!(f, "nmi_timeout_ms: {}", self.nmi_timeout_ms)?;
        writeln!(f, "test_paths: {}", yes_no(self.test_paths))?;
        writeln!(f, "cpu_slots: {}", self.nr_cpu_slots)?;
        writeln!(f, "snapshot_memory_bytes: {}", self.snapshot_memory)
    }

    /// Reads the running kernel's release for [`Status::write`].
    pub(crate) fn kernel_release() -> &'static CStr {
        bridge::kernel_release()
    }
}

/// `yes` or `no`.
fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}
