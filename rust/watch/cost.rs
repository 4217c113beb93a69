// SPDX-License-Identifier: GPL-2.0

//! What kintrospect itself costs, from the kernel's own accounting: for `status` and `metrics`.
//!
//! - A watch sample's CPU time is what the scheduler accounts to the task that ran it (the
//!   kworker's `sum_exec_runtime`, brought up to date: [`bridge::task_runtime_ns`]), from its
//!   start to its end: its waits for the NMIs' answers and the interrupts it took included.
//! - Its phases are timed on the NMI-safe monotonic clock ([`bridge::now_ns`]): the NMI
//!   round (the CPU snapshot), the locks walk, the join (the stuck rule, a report and its
//!   events when there is one) and the black box (`persist=`) apart from the join.
//! - The periodic slab sample (`slab_interval_ms`, its own work item) is accounted the same
//!   way, apart from the watch.
//! - The NMI handler's time is summed per CPU in the handler itself (`rust/c/nmi.c`).
//! - The locks walk is paced ([`LocksPace`]): its cost grows with the number of threads, and
//!   what the watch looks for in it lasts.

use crate::bridge;
use core::fmt::{
    self,
    Display, //
};

/// Number of [`Phase`]s.
pub(crate) const PHASES: usize = 4;

/// A phase of a watch sample.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Phase {
    /// The CPU snapshot: an NMI to every other CPU and the wait for their answers.
    Nmi = 0,
    /// The locks snapshot: the walk of every task.
    Locks = 1,
    /// The rest: the stuck rule, and a report with its events when something is wrong.
    Join = 2,
    /// Writing events into the black box (`persist=`), taken out of the join.
    Persist = 3,
}

impl Phase {
    /// Every phase, in the order of a sample.
    pub(crate) const ALL: [Phase; PHASES] = [Phase::Nmi, Phase::Locks, Phase::Join, Phase::Persist];

    /// Its name in `status` and `metrics`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Phase::Nmi => "nmi",
            Phase::Locks => "locks",
            Phase::Join => "join",
            Phase::Persist => "persist",
        }
    }
}

/// What one watch sample cost.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub(crate) struct Sample {
    /// CPU time, as the scheduler accounts the task that ran it.
    pub(crate) cpu_ns: u64,
    /// From its start to its end, on the monotonic clock.
    pub(crate) wall_ns: u64,
    /// Per [`Phase`], on the monotonic clock; they add up to `wall_ns`.
    pub(crate) phase_ns: [u64; PHASES],
}

/// What the watch's samples and the periodic slab samples cost since load.
#[derive(Clone, Copy, Default)]
pub(crate) struct Cost {
    pub(crate) samples: u64,
    pub(crate) cpu_ns: u64,
    pub(crate) phase_ns: [u64; PHASES],
    /// The latest sample's cost.
    pub(crate) last: Sample,
    /// Periodic slab samples, and their CPU time.
    pub(crate) slab_ticks: u64,
    pub(crate) slab_cpu_ns: u64,
    /// When the locks are walked.
    pub(crate) locks: LocksPace,
}

impl Cost {
    /// Adds a watch sample.
    pub(crate) fn add(&mut self, s: Sample) {
        self.samples = self.samples.wrapping_add(1);
        self.cpu_ns = self.cpu_ns.wrapping_add(s.cpu_ns);
        for (t, p) in self.phase_ns.iter_mut().zip(s.phase_ns.iter()) {
            *t = t.wrapping_add(*p);
        }
        self.last = s;
    }

    /// Adds a periodic slab sample that took `cpu_ns` of CPU time.
    pub(crate) fn add_slab(&mut self, cpu_ns: u64) {
        self.slab_ticks = self.slab_ticks.wrapping_add(1);
        self.slab_cpu_ns = self.slab_cpu_ns.wrapping_add(cpu_ns);
    }
}

/// A watch sample walks the locks at most once in this many times the last walk's CPU time.
pub(crate) const LOCKS_SHARE: u64 = 1000;

/// A watch sample walks the locks at least this often (ns), however long the walk takes.
pub(crate) const LOCKS_MAX_SPACING_NS: u64 = 5_000_000_000;

/// When a watch sample walks the locks.
///
/// The walk visits every thread: with 10,000 threads it costs more than the rest of a sample
/// together. What the watch looks for there lasts: a deadlock does not go away by itself, and a
/// thread blocked for `stuck_ms` has been so for a while. So a sample walks only when the last
/// walk started at least [`LOCKS_SHARE`] times its CPU time ago, or [`LOCKS_MAX_SPACING_NS`]:
/// the walk takes at most 1/[`LOCKS_SHARE`] of a CPU, and a deadlock is found at most a
/// spacing (and a sample) late. With a few hundred threads the spacing is shorter than any
/// `watch_interval_ms`: every sample walks. A sample that builds a report (a stuck CPU, a
/// hook's hit) walks anyway: its report shows the locks as they are.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub(crate) struct LocksPace {
    /// Walks so far.
    pub(crate) walks: u64,
    /// The last walk's CPU time (its wall time would count what preempted it).
    pub(crate) last_ns: u64,
    /// The spacing it set: the next walk starts at least this long after it started.
    pub(crate) spacing_ns: u64,
    /// When the last walk started.
    start_ns: u64,
}

impl LocksPace {
    /// Whether a sample at `now_ns` is due to walk the locks.
    pub(crate) fn due(&self, now_ns: u64) -> bool {
        self.walks == 0 || now_ns.saturating_sub(self.start_ns) >= self.spacing_ns
    }

    /// Counts a walk that started at `start_ns` and took `cpu_ns` of CPU time.
    pub(crate) fn walked(&mut self, start_ns: u64, cpu_ns: u64) {
        self.walks = self.walks.wrapping_add(1);
        self.last_ns = cpu_ns;
        self.spacing_ns = self
            .last_ns
            .saturating_mul(LOCKS_SHARE)
            .min(LOCKS_MAX_SPACING_NS);
        self.start_ns = start_ns;
    }
}

/// Times one watch sample: started at its beginning, lapped at the end of each phase.
pub(crate) struct Stopwatch {
    cpu_ns: u64,
    start_ns: u64,
    lap_ns: u64,
    /// The black box's time total at the start.
    persist_ns: u64,
    sample: Sample,
}

impl Stopwatch {
    /// Starts now; `persist_ns` is the black box's time total now.
    pub(crate) fn start(persist_ns: u64) -> Self {
        Self::at(bridge::task_runtime_ns(), bridge::now_ns(), persist_ns)
    }

    /// Starts at CPU time `cpu_ns` and time `now_ns`.
    fn at(cpu_ns: u64, now_ns: u64, persist_ns: u64) -> Self {
        Self {
            cpu_ns,
            start_ns: now_ns,
            lap_ns: now_ns,
            persist_ns,
            sample: Sample::default(),
        }
    }

    /// Ends phase `p` now.
    pub(crate) fn lap(&mut self, p: Phase) {
        self.lap_at(p, bridge::now_ns());
    }

    /// Ends phase `p` at `now_ns`: the time since the previous lap is the phase's.
    fn lap_at(&mut self, p: Phase, now_ns: u64) {
        let t = now_ns.saturating_sub(self.lap_ns);
        self.sample.phase_ns[p as usize] = self.sample.phase_ns[p as usize].saturating_add(t);
        self.lap_ns = self.lap_ns.max(now_ns);
    }

    /// Ends the sample now; `persist_ns` is the black box's time total now.
    pub(crate) fn stop(self, persist_ns: u64) -> Sample {
        self.stop_at(bridge::task_runtime_ns(), bridge::now_ns(), persist_ns)
    }

    /// Ends the sample at CPU time `cpu_ns` and time `now_ns`: the time since the last lap is
    /// the join's, less what the black box took meanwhile.
    fn stop_at(mut self, cpu_ns: u64, now_ns: u64, persist_ns: u64) -> Sample {
        self.lap_at(Phase::Join, now_ns);
        let persist = persist_ns.wrapping_sub(self.persist_ns);
        let join = &mut self.sample.phase_ns[Phase::Join as usize];
        let persist = persist.min(*join);
        *join -= persist;
        self.sample.phase_ns[Phase::Persist as usize] = persist;
        self.sample.cpu_ns = cpu_ns.saturating_sub(self.cpu_ns);
        self.sample.wall_ns = now_ns.saturating_sub(self.start_ns);
        self.sample
    }
}

/// What kintrospect's NMI handler spent on every CPU since load.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub(crate) struct NmiTotal {
    pub(crate) ns: u64,
    pub(crate) nmis: u64,
    /// The CPU it spent the most on, and how much.
    pub(crate) top_cpu: usize,
    pub(crate) top_ns: u64,
}

impl NmiTotal {
    /// Sums the per-CPU `(ns, nmis)` of `cpus`, in CPU order.
    pub(crate) fn of(cpus: impl Iterator<Item = (u64, u64)>) -> Self {
        let mut t = Self::default();
        for (cpu, (ns, nmis)) in cpus.enumerate() {
            t.ns = t.ns.wrapping_add(ns);
            t.nmis = t.nmis.wrapping_add(nmis);
            if ns > t.top_ns {
                t.top_cpu = cpu;
                t.top_ns = ns;
            }
        }
        t
    }

    /// Now, from the handler's counters.
    pub(crate) fn read() -> Self {
        Self::of((0..bridge::nr_cpu_slots()).map(bridge::nmi_cost))
    }
}

/// A time in ns written in ms with three decimals (us resolution): `12.345`.
pub(crate) struct Ms(pub(crate) u64);

impl Display for Ms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}", self.0 / 1_000_000, self.0 / 1_000 % 1_000)
    }
}

/// A time in ns written in seconds with nine decimals, as Prometheus wants times:
/// `0.000012345`.
pub(crate) struct Seconds(pub(crate) u64);

impl Display for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{:09}",
            self.0 / 1_000_000_000,
            self.0 % 1_000_000_000
        )
    }
}

#[cfg(kintrospect_kunit)]
#[kernel::macros::kunit_tests(kintrospect_watch_cost)]
mod tests {
    use super::*;
    use kernel::prelude::*;

    /// Whether `v` formats as `want`.
    fn formats(v: &dyn Display, want: &str) -> Result<bool> {
        let s = kernel::str::CString::try_from_fmt(format_args!("{v}"))?;
        Ok(s.to_str()? == want)
    }

    #[test]
    fn ms_and_seconds() -> Result {
        assert!(formats(&Ms(0), "0.000")?);
        assert!(formats(&Ms(999), "0.000")?);
        assert!(formats(&Ms(12_345_678), "12.345")?);
        assert!(formats(&Ms(1_000_000_000), "1000.000")?);
        assert!(formats(&Seconds(0), "0.000000000")?);
        assert!(formats(&Seconds(12_345), "0.000012345")?);
        assert!(formats(&Seconds(3_000_000_001), "3.000000001")?);
        assert!(formats(&Seconds(u64::MAX), "18446744073.709551615")?);
        Ok(())
    }

    #[test]
    fn phases_add_up() {
        // Start at CPU time 1000 and time 10_000, with the black box at 50.
        let mut w = Stopwatch::at(1_000, 10_000, 50);
        w.lap_at(Phase::Nmi, 10_300);
        w.lap_at(Phase::Locks, 11_000);
        // The join took 500, 120 of them in the black box.
        let s = w.stop_at(1_900, 11_500, 170);
        assert_eq!(s.cpu_ns, 900);
        assert_eq!(s.wall_ns, 1_500);
        assert_eq!(s.phase_ns, [300, 700, 380, 120]);
        assert_eq!(s.phase_ns.iter().sum::<u64>(), s.wall_ns);
    }

    #[test]
    fn persist_never_more_than_the_join() {
        // A black box write from elsewhere (SysRq) counted during the sample.
        let s = Stopwatch::at(0, 0, 0).stop_at(10, 100, 1_000);
        assert_eq!(s.phase_ns, [0, 0, 0, 100]);
        // A clock that goes back does not underflow.
        let mut w = Stopwatch::at(5, 1_000, 0);
        w.lap_at(Phase::Nmi, 900);
        let s = w.stop_at(4, 950, 0);
        assert_eq!(s, Sample::default());
    }

    #[test]
    fn locks_walk_paced() {
        let mut p = LocksPace::default();
        // The first sample walks.
        assert!(p.due(0));
        // A walk of 0.1 ms: the next at least 100 ms after it started.
        p.walked(1_000_000, 100_000);
        assert_eq!(
            (p.walks, p.last_ns, p.spacing_ns),
            (1, 100_000, 100_000_000)
        );
        assert!(!p.due(1_100_000));
        assert!(!p.due(100_999_999));
        assert!(p.due(101_000_000));
        // A walk of 5 ms: 5 s; of 50 ms: still 5 s at most.
        p.walked(200_000_000, 5_000_000);
        assert_eq!(p.spacing_ns, 5_000_000_000);
        assert!(!p.due(5_199_999_999));
        assert!(p.due(5_200_000_000));
        p.walked(6_000_000_000, 50_000_000);
        assert_eq!(p.spacing_ns, LOCKS_MAX_SPACING_NS);
        assert!(p.due(11_000_000_000));
        // A walk too short to count: the next sample walks; a clock that goes back does not
        // underflow.
        p.walked(20_000_000_000, 0);
        assert_eq!((p.last_ns, p.spacing_ns), (0, 0));
        assert!(p.due(20_000_000_000));
        assert!(p.due(19_000_000_000));
        assert_eq!(p.walks, 4);
    }

    #[test]
    fn totals() {
        let mut c = Cost::default();
        let a = Sample {
            cpu_ns: 10,
            wall_ns: 12,
            phase_ns: [1, 2, 3, 6],
        };
        let b = Sample {
            cpu_ns: 5,
            wall_ns: 7,
            phase_ns: [4, 1, 2, 0],
        };
        c.add(a);
        c.add(b);
        c.add_slab(40);
        assert_eq!(c.samples, 2);
        assert_eq!(c.cpu_ns, 15);
        assert_eq!(c.phase_ns, [5, 3, 5, 6]);
        assert_eq!(c.last, b);
        assert_eq!((c.slab_ticks, c.slab_cpu_ns), (1, 40));
        let n = NmiTotal::of([(5, 1), (30, 2), (30, 3), (0, 0)].into_iter());
        assert_eq!(
            n,
            NmiTotal {
                ns: 65,
                nmis: 6,
                top_cpu: 1,
                top_ns: 30
            }
        );
    }
}
