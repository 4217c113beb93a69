// SPDX-License-Identifier: GPL-2.0

//! The `metrics` file: the watch's counters and what its latest sample found, in the
//! Prometheus text exposition format.

use super::{
    cost::{
        Phase,
        Seconds,
        LOCKS_MAX_SPACING_NS,
        LOCKS_SHARE,
        PHASES, //
    },
    Counts,
    Kind,
    Now,
    Watch, //
};
use crate::{
    bridge::{
        self,
        Cadence, //
    },
    json,
    slab::Delta,
};
use core::sync::atomic::Ordering;
use kernel::fmt::{
    self,
    Display, //
};

/// The `metrics` file: Prometheus text exposition format.
pub(crate) struct Metrics<'a> {
    pub(crate) watch: &'a Watch,
    pub(crate) counts: Counts,
    pub(crate) dropped: u64,
    /// What the latest sample (or, with the watch off, the latest report) found.
    pub(crate) now: Now,
    pub(crate) suspects: &'a [Delta],
}

impl Display for Metrics<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = self.watch;
        let gauge = |f: &mut fmt::Formatter<'_>, name: &str, help: &str, v: u64| {
            writeln!(f, "# HELP kintrospect_{name} {help}")?;
            writeln!(f, "# TYPE kintrospect_{name} gauge")?;
            writeln!(f, "kintrospect_{name} {v}")
        };
        gauge(
            f,
            "watch_enabled",
            "Whether the watch samples (watch_interval_ms > 0).",
            u64::from(w.on()),
        )?;
        f.write_str(
            "# HELP kintrospect_watch_samples_total Samples the watch took.\n\
             # TYPE kintrospect_watch_samples_total counter\n",
        )?;
        writeln!(
            f,
            "kintrospect_watch_samples_total {}",
            w.samples.load(Ordering::Relaxed)
        )?;
        let c = Cadence::read();
        f.write_str(
            "# HELP kintrospect_watch_samples_late_total Samples that started more than the \
             interval and half as much again after the previous one (the watch fell behind).\n\
             # TYPE kintrospect_watch_samples_late_total counter\n",
        )?;
        writeln!(f, "kintrospect_watch_samples_late_total {}", c.late)?;
        f.write_str(
            "# HELP kintrospect_watch_samples_rescued_total Samples started by a backup timer \
             because the CPU of the primary one ran no timer (interrupts off).\n\
             # TYPE kintrospect_watch_samples_rescued_total counter\n",
        )?;
        writeln!(f, "kintrospect_watch_samples_rescued_total {}", c.rescued)?;
        gauge(
            f,
            "watch_longest_gap_milliseconds",
            "The longest time from the end of a sample to the start of the next.",
            c.longest_gap_ns / 1_000_000,
        )?;
        gauge(
            f,
            "watch_last_sample_age_milliseconds",
            "Time since the latest sample ended; 0: none yet.",
            match c.last_ns {
                0 => 0,
                t => bridge::now_ns().saturating_sub(t) / 1_000_000,
            },
        )?;
        f.write_str(
            "# HELP kintrospect_events_total Events the watch recorded, by kind (an incident \
             counts once however long it lasts).\n\
             # TYPE kintrospect_events_total counter\n",
        )?;
        for (k, n) in Kind::ALL.iter().zip(self.counts.iter()) {
            writeln!(f, "kintrospect_events_total{{kind=\"{}\"}} {n}", k.name())?;
        }
        f.write_str(
            "# HELP kintrospect_events_dropped_total Events dropped from the ring, oldest first.\n\
             # TYPE kintrospect_events_dropped_total counter\n",
        )?;
        writeln!(f, "kintrospect_events_dropped_total {}", self.dropped)?;
        let p = w.black_box();
        gauge(
            f,
            "persist_enabled",
            "Whether events are kept in a reserve_mem region that survives a warm reboot.",
            u64::from(p.is_some()),
        )?;
        f.write_str(
            "# HELP kintrospect_previous_events Events of earlier boots (or loads) found in the \
             region, by kind.\n\
             # TYPE kintrospect_previous_events gauge\n",
        )?;
        let prev = w.previous();
        for k in Kind::ALL.iter() {
            let n = prev.as_ref().map_or(0, |prev| {
                prev.records
                    .iter()
                    .filter(|r| r.header.kind == k.code())
                    .count()
            });
            writeln!(
                f,
                "kintrospect_previous_events{{kind=\"{}\"}} {n}",
                k.name()
            )?;
        }
        let c = p.map(|p| p.counts()).unwrap_or_default();
        gauge(
            f,
            "persist_bad_records",
            "Records found torn or corrupted in the region at load, dropped.",
            u64::from(c.bad),
        )?;
        f.write_str(
            "# HELP kintrospect_persist_records_written_total Records this load wrote to the \
             region.\n\
             # TYPE kintrospect_persist_records_written_total counter\n",
        )?;
        writeln!(f, "kintrospect_persist_records_written_total {}", c.written)?;
        let now = &self.now;
        gauge(
            f,
            "sample_timestamp_seconds",
            "Monotonic time (CLOCK_MONOTONIC) of the sample the gauges below come from; 0: none.",
            now.taken_ns / 1_000_000_000,
        )?;
        gauge(
            f,
            "stuck_cpus",
            "CPUs in the kernel on one task (no switch, no user time) for at least stuck_ms.",
            now.stuck_cpus as u64,
        )?;
        gauge(
            f,
            "deadlocks",
            "Confirmed deadlock cycles.",
            now.deadlocks as u64,
        )?;
        gauge(
            f,
            "blocked_tasks",
            "Tasks blocked on a lock for at least stuck_ms, as far as known.",
            now.blocked_long as u64,
        )?;
        gauge(
            f,
            "slab_suspects",
            "Slab caches growing steadily (see slab_delta).",
            self.suspects.len() as u64,
        )?;
        f.write_str(
            "# HELP kintrospect_slab_suspect_growth_objects_per_minute A suspect cache's growth.\n\
             # TYPE kintrospect_slab_suspect_growth_objects_per_minute gauge\n",
        )?;
        for d in self.suspects.iter().filter(|d| d.per_min.is_some()) {
            f.write_str("kintrospect_slab_suspect_growth_objects_per_minute{cache=")?;
            Display::fmt(&json::Str(d.name.as_bytes()), f)?;
            writeln!(f, "}} {}", d.per_min.unwrap_or(0))?;
        }
        f.write_str(
            "# HELP kintrospect_slab_suspect_bytes_delta A suspect cache's bytes since the \
             baseline.\n\
             # TYPE kintrospect_slab_suspect_bytes_delta gauge\n",
        )?;
        for d in self.suspects.iter() {
            f.write_str("kintrospect_slab_suspect_bytes_delta{cache=")?;
            Display::fmt(&json::Str(d.name.as_bytes()), f)?;
            writeln!(f, "}} {}", d.bytes_delta)?;
        }
        self.cost(f)
    }
}

impl Metrics<'_> {
    /// What kintrospect itself costs: the watch's samples, its NMI handler, the slab tick.
    fn cost(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.watch.cost();
        let samples = "the watch's samples";
        seconds(
            f,
            "watch_cpu_seconds_total",
            "counter",
            format_args!(
                "CPU time of {samples}, as the scheduler accounts the task that ran them."
            ),
            &c.cpu_ns,
        )?;
        per_phase(
            f,
            "watch_phase_seconds_total",
            "counter",
            format_args!(
                "Time of {samples} by phase (monotonic clock): the NMI round, the locks walk, \
                 the join, the black box."
            ),
            &c.phase_ns,
        )?;
        seconds(
            f,
            "watch_last_sample_seconds",
            "gauge",
            format_args!("The latest sample's duration (monotonic clock)."),
            &c.last.wall_ns,
        )?;
        seconds(
            f,
            "watch_last_sample_cpu_seconds",
            "gauge",
            format_args!("The latest sample's CPU time."),
            &c.last.cpu_ns,
        )?;
        per_phase(
            f,
            "watch_last_sample_phase_seconds",
            "gauge",
            format_args!("The latest sample's phases (monotonic clock)."),
            &c.last.phase_ns,
        )?;
        f.write_str(
            "# HELP kintrospect_watch_locks_walks_total Samples that walked the locks (the \
             others keep what the last walk found).\n\
             # TYPE kintrospect_watch_locks_walks_total counter\n",
        )?;
        writeln!(f, "kintrospect_watch_locks_walks_total {}", c.locks.walks)?;
        seconds(
            f,
            "watch_locks_spacing_seconds",
            "gauge",
            format_args!(
                "How long after the last walk started the next one is due: {} times its \
                 CPU time, at most {} s.",
                LOCKS_SHARE,
                LOCKS_MAX_SPACING_NS / 1_000_000_000
            ),
            &c.locks.spacing_ns,
        )?;
        f.write_str(
            "# HELP kintrospect_nmi_handler_seconds_total Time kintrospect's NMI handler spent \
             on each CPU (its local clock, from claiming an NMI to returning).\n\
             # TYPE kintrospect_nmi_handler_seconds_total counter\n",
        )?;
        for cpu in 0..bridge::nr_cpu_slots() {
            let (ns, _) = bridge::nmi_cost(cpu);
            writeln!(
                f,
                "kintrospect_nmi_handler_seconds_total{{cpu=\"{cpu}\"}} {}",
                Seconds(ns)
            )?;
        }
        f.write_str(
            "# HELP kintrospect_nmi_handled_total NMIs kintrospect's NMI handler claimed on each \
             CPU.\n\
             # TYPE kintrospect_nmi_handled_total counter\n",
        )?;
        for cpu in 0..bridge::nr_cpu_slots() {
            let (_, n) = bridge::nmi_cost(cpu);
            writeln!(f, "kintrospect_nmi_handled_total{{cpu=\"{cpu}\"}} {n}")?;
        }
        seconds(
            f,
            "slab_tick_cpu_seconds_total",
            "counter",
            format_args!("CPU time of the periodic slab samples (slab_interval_ms)."),
            &c.slab_cpu_ns,
        )?;
        f.write_str(
            "# HELP kintrospect_slab_ticks_total Periodic slab samples taken.\n\
             # TYPE kintrospect_slab_ticks_total counter\n",
        )?;
        writeln!(f, "kintrospect_slab_ticks_total {}", c.slab_ticks)
    }
}

/// Writes metric `kintrospect_<name>` of type `kind`: its `# HELP`, `# TYPE` and `ns` in seconds.
fn seconds(
    f: &mut fmt::Formatter<'_>,
    name: &str,
    kind: &str,
    help: fmt::Arguments<'_>,
    ns: &u64,
) -> fmt::Result {
    writeln!(f, "# HELP kintrospect_{name} {help}")?;
    writeln!(f, "# TYPE kintrospect_{name} {kind}")?;
    writeln!(f, "kintrospect_{name} {}", Seconds(*ns))
}

/// Writes metric `kintrospect_<name>` of type `kind` with one line per phase of a sample.
fn per_phase(
    f: &mut fmt::Formatter<'_>,
    name: &str,
    kind: &str,
    help: fmt::Arguments<'_>,
    ns: &[u64; PHASES],
) -> fmt::Result {
    writeln!(f, "# HELP kintrospect_{name} {help}")?;
    writeln!(f, "# TYPE kintrospect_{name} {kind}")?;
    for (p, ns) in Phase::ALL.iter().zip(ns.iter()) {
        writeln!(
            f,
            "kintrospect_{name}{{phase=\"{}\"}} {}",
            p.name(),
            Seconds(*ns)
        )?;
    }
    Ok(())
}
