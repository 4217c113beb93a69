// SPDX-License-Identifier: GPL-2.0

//! The `status` file: what kintrospect is, what this kernel lets it see, and what it holds.
//!
//! Every line of `status` is written here: the reports hand over their numbers. Only the test
//! paths' lines come written, from the C part that keeps the test paths.

use crate::{
    bridge::{
        self,
        Hook, //
    },
    slab,
    watch, //
};
use kernel::fmt;
use watch::Ms;

/// Module version, reported in `status`.
pub(crate) const VERSION: &str = "0.1.0";

/// What `status` reports that is known at load.
pub(crate) struct Status {
    /// The module parameters, as checked.
    pub(crate) params: bridge::Params,
    pub(crate) nr_cpu_slots: usize,
    pub(crate) snapshot_memory: usize,
}

/// What `status` reports that changes while kintrospect runs, read for each read of it.
pub(crate) struct Live<'a> {
    pub(crate) slab: slab::Counters,
    pub(crate) locks_buffer_bytes: usize,
    pub(crate) report_buffer_bytes: usize,
    pub(crate) watch: watch::Counters,
    /// The black box's line.
    pub(crate) watch_box: watch::BoxStatus<'a>,
    /// The test paths' lines (`test_paths=1` only), written by the C part that keeps them.
    pub(crate) test: bridge::TestStatus,
}

impl Status {
    /// Writes `status`: one `key: value` line each.
    pub(crate) fn write(&self, f: &mut fmt::Formatter<'_>, live: &Live<'_>) -> fmt::Result {
        let p = &self.params;
        writeln!(f, "version: {VERSION}")?;
        let release = bridge::kernel_release();
        writeln!(f, "kernel: {}", release.to_str().unwrap_or("?"))?;
        for feature in bridge::features() {
            let name = feature.name().to_str().unwrap_or("?");
            writeln!(f, "{name}: {}", yes_no(feature.enabled()))?;
        }
        // The parameters in force: the numeric ones as their table declares them.
        writeln!(f, "sysrq_key: {}", char::from(p.sysrq_key))?;
        writeln!(f, "test_paths: {}", yes_no(p.test_paths))?;
        for (name, value) in p.numeric() {
            let name = name.to_str().unwrap_or("?");
            writeln!(f, "{name}: {value}")?;
        }
        writeln!(f, "cpu_slots: {}", self.nr_cpu_slots)?;
        writeln!(f, "snapshot_memory_bytes: {}", self.snapshot_memory)?;
        let s = &live.slab;
        writeln!(f, "slab_caches_tracked: {}", s.caches_tracked)?;
        writeln!(f, "slab_caches_dropped: {}", s.caches_dropped)?;
        writeln!(f, "slab_trend_memory_bytes: {}", s.trend_memory)?;
        writeln!(f, "slab_buffer_bytes: {}", s.buffer_bytes)?;
        writeln!(
            f,
            "slab_periodic_errors: {} (last {})",
            s.periodic_errors, s.periodic_last_error
        )?;
        writeln!(f, "slab_samples_skipped_busy: {}", s.skipped_busy)?;
        writeln!(f, "locks_buffer_bytes: {}", live.locks_buffer_bytes)?;
        writeln!(f, "report_buffer_bytes: {}", live.report_buffer_bytes)?;
        let w = &live.watch;
        writeln!(f, "watch_events_kept: {}", w.kept)?;
        writeln!(f, "watch_events_dropped: {}", w.dropped)?;
        writeln!(f, "watch_events_not_logged: {}", w.unlogged)?;
        writeln!(f, "watch_samples: {}", w.samples)?;
        writeln!(f, "watch_samples_busy: {}", w.samples_busy)?;
        writeln!(f, "watch_samples_failed: {}", w.samples_failed)?;
        writeln!(f, "watch_hooks_missed: {}", w.hits_dropped)?;
        let c = &w.cadence;
        match c.late_after_ns {
            0 => writeln!(f, "watch_samples_late: 0")?,
            late_after => writeln!(
                f,
                "watch_samples_late: {} (started more than {} ms after the previous one)",
                c.late,
                late_after / 1_000_000
            )?,
        }
        writeln!(
            f,
            "watch_samples_rescued: {} (started by a backup timer: a CPU ran no timer)",
            c.rescued
        )?;
        writeln!(f, "watch_longest_gap_ms: {}", c.longest_gap_ns / 1_000_000)?;
        match c.last_ns {
            0 => writeln!(f, "watch_last_sample_ms_ago: none")?,
            t => writeln!(
                f,
                "watch_last_sample_ms_ago: {}",
                bridge::now_ns().saturating_sub(t) / 1_000_000
            )?,
        }
        write_cost(f, &w.cost)?;
        let h = w.hooks;
        writeln!(
            f,
            "watch_hooks: hung-task {}, oops {}, panic {}",
            yes_no(h.contains(Hook::HungTask)),
            yes_no(h.contains(Hook::Oops)),
            yes_no(h.contains(Hook::Panic))
        )?;
        writeln!(f, "watch_memory_bytes: {}", w.memory)?;
        f.write_fmt(kernel::prelude::fmt!("{}\n", live.watch_box))?;
        f.write_fmt(kernel::prelude::fmt!("{}", live.test))
    }
}

/// The lines of what kintrospect itself costs: the watch's samples (CPU time, and their
/// phases on the monotonic clock), the latest sample, the NMI handler, the slab tick.
fn write_cost(f: &mut fmt::Formatter<'_>, c: &watch::Cost) -> fmt::Result {
    let phases = |f: &mut fmt::Formatter<'_>, ns: &[u64; watch::PHASES]| -> fmt::Result {
        for (i, (p, t)) in watch::Phase::ALL.iter().zip(ns.iter()).enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            write!(f, "{sep}{} {}", p.name(), Ms(*t))?;
        }
        Ok(())
    };
    write!(
        f,
        "watch_cpu_ms: {} in {} samples (by phase, wall clock: ",
        Ms(c.cpu_ns),
        c.samples
    )?;
    phases(f, &c.phase_ns)?;
    writeln!(f, ")")?;
    write!(
        f,
        "watch_last_sample_ms: {} CPU, {} wall (",
        Ms(c.last.cpu_ns),
        Ms(c.last.wall_ns)
    )?;
    phases(f, &c.last.phase_ns)?;
    writeln!(f, ")")?;
    writeln!(
        f,
        "watch_locks_walks: {} in {} samples (the last took {} ms of CPU; the next is due {} ms \
         after it started)",
        c.locks.walks,
        c.samples,
        Ms(c.locks.last_ns),
        Ms(c.locks.spacing_ns)
    )?;
    let n = watch::NmiTotal::read();
    writeln!(
        f,
        "nmi_handler_ms: {} in {} NMIs (most on one CPU: {}, CPU {})",
        Ms(n.ns),
        n.nmis,
        Ms(n.top_ns),
        n.top_cpu
    )?;
    writeln!(
        f,
        "slab_tick_cpu_ms: {} in {} samples",
        Ms(c.slab_cpu_ns),
        c.slab_ticks
    )
}

/// `yes` or `no`.
fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}
