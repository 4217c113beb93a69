// SPDX-License-Identifier: GPL-2.0

//! The `status` file: what kintrospect is and what this kernel lets it see.

use crate::bridge;
use kernel::{
    fmt,
    prelude::*, //
};

/// Module version, reported in `status`.
pub(crate) const VERSION: &str = "0.1.0";

/// Kernel debug features, as `(name, KINTROSPECT_FEAT_* bit)` in the C header's order.
pub(crate) const FEATURES: [(&str, u32); 15] = [
    ("lockdep", 1 << 0),
    ("prove_locking", 1 << 1),
    ("lock_stat", 1 << 2),
    ("debug_spinlock", 1 << 3),
    ("debug_mutexes", 1 << 4),
    ("kmemleak", 1 << 5),
    ("slub_debug", 1 << 6),
    ("hung_task", 1 << 7),
    ("hung_task_blocker", 1 << 8),
    ("softlockup_detector", 1 << 9),
    ("hardlockup_detector", 1 << 10),
    ("unwinder_orc", 1 << 11),
    ("kallsyms_all", 1 << 12),
    ("magic_sysrq", 1 << 13),
    ("kunit", 1 << 14),
];

/// What `status` reports, gathered once at load.
pub(crate) struct Status {
    pub(crate) features: u32,
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
        for (name, bit) in FEATURES {
            let yes = self.features & bit != 0;
            writeln!(f, "{name}: {}", if yes { "yes" } else { "no" })?;
        }
        writeln!(f, "sysrq_key: {}", char::from(self.sysrq_key))?;
        writeln!(f, "nmi_timeout_ms: {}", self.nmi_timeout_ms)?;
        writeln!(
            f,
            "test_paths: {}",
            if self.test_paths { "yes" } else { "no" }
        )?;
        writeln!(f, "cpu_slots: {}", self.nr_cpu_slots)?;
        writeln!(f, "snapshot_memory_bytes: {}", self.snapshot_memory)
    }

    /// Reads the running kernel's release for [`Status::write`].
    pub(crate) fn kernel_release() -> &'static CStr {
        bridge::kernel_release()
    }
}
