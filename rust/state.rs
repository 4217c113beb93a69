// SPDX-License-Identifier: GPL-2.0

//! The module state and what it does: the snapshots and reports `control` asks for, the
//! SysRq key's work, the periodic slab tick, a sample of the watch and the panic.
//!
//! [`State`] is what [`bridge::Registration`] hands the C part; its [`Handler`] callbacks are
//! here, and the files it shows are listed in [`files::FILES`].

use crate::{
    bridge::{
        self,
        FileDef,
        Handler,
        Nmi,
        RawHit,
        Source, //
    },
    cpus, files, locks, report,
    slab::{
        self,
        Slab, //
    },
    status::Status,
    watch::{
        self,
        Event,
        Subject,
        Watch, //
    },
};
use core::sync::atomic::{
    AtomicBool,
    Ordering, //
};
use kernel::{
    new_mutex,
    prelude::*,
    sync::{
        Arc,
        Mutex, //
    },
    time::{
        delay::fsleep,
        Delta, //
    },
};

/// How long the SysRq key's work waits for the CPU snapshots in progress: longer than one
/// snapshot can take (`nmi_timeout_ms` is at most 10,000).
const SYSRQ_CAPTURE_WAIT_NS: u64 = 12_000 * 1_000_000;

/// The module state: what kintrospect's files show and its callbacks work on.
#[pin_data]
pub(crate) struct State {
    pub(crate) nmi: Nmi,
    /// Serialises CPU snapshots from `control`, so that a second writer waits instead of
    /// failing; a capture is bounded by `nmi_timeout_ms`. Nothing else is ever waited for under
    /// it: a CPU snapshot never waits for a locks walk or a slab read.
    #[pin]
    cpus_lock: Mutex<()>,
    /// The latest locks snapshot.
    #[pin]
    pub(crate) locks: Mutex<locks::State>,
    /// The latest report. Taken after `locks` when both are held.
    #[pin]
    pub(crate) report: Mutex<report::State>,
    pub(crate) status: Status,
    /// The slab sampler's state (baseline, latest sample, trend).
    #[pin]
    pub(crate) slab: Slab,
    /// The flight recorder (`watch_interval_ms`).
    #[pin]
    pub(crate) watch: Watch,
    /// The SysRq key found a CPU snapshot in progress: its work item takes the key's.
    sysrq_pending: AtomicBool,
}

impl State {
    /// Registers the NMI handler and sets up the state, with the module parameters.
    ///
    /// Also takes the slab baseline.
    pub(crate) fn new(params: &bridge::Params) -> Result<impl PinInit<Self, Error>> {
        let params = *params;
        let slab = Slab::new(slab::Params::from_module(&params))?;
        let watch = Watch::new(
            params.watch_interval_ms,
            params.watch_events,
            params.persist(),
        )?;
        Ok(try_pin_init!(Self {
            nmi: Nmi::register(params.nmi_timeout_ms)?,
            cpus_lock <- new_mutex!((), "kintrospect_cpus"),
            locks <- new_mutex!(locks::State::new()?, "kintrospect_locks"),
            report <- new_mutex!(report::State::new(), "kintrospect_report"),
            status: Status {
                params,
                nr_cpu_slots: bridge::nr_cpu_slots(),
                snapshot_memory: bridge::snapshot_memory(),
            },
            slab <- slab,
            watch <- watch,
            sysrq_pending: AtomicBool::new(false),
        }? Error))
    }

    /// Takes a CPU snapshot for `control`.
    pub(crate) fn snapshot_cpus(&self) -> Result {
        let _guard = self.cpus_lock.lock();
        self.nmi.capture(Source::Control)
    }

    /// Takes the rest of "a snapshot of everything" after a CPU snapshot, for `snapshot all`
    /// and the SysRq key: a locks snapshot (its number of deadlocks), then a slab sample. From
    /// SysRq (`wait` false) a locks snapshot already in progress is not waited for.
    fn snapshot_rest(&self, wait: bool) -> (Result<locks::Found>, Result) {
        let locks = match wait {
            true => Some(self.locks.lock()),
            false => self.locks.try_lock(),
        };
        let locks = match locks {
            Some(mut locks) => locks.snapshot(),
            None => Err(EBUSY),
        };
        let slab = match wait {
            true => self.slab.sample(slab::Caller::Control, false),
            false => self.slab.sysrq(),
        };
        (locks, slab)
    }
}

impl State {
    /// Joins the latest CPU snapshot, the latest locks snapshot and the slab suspects into a
    /// new report. Waits for a locks snapshot or report in progress (both are bounded), also
    /// from SysRq, whose report becomes an event of the watch.
    fn build_report(&self) -> Result<Arc<report::Report>> {
        let cpus = cpus::Snapshot::latest(&self.nmi)?;
        let locks = self.locks.lock();
        let snap = locks.latest().ok_or(ENODATA)?;
        let mut report = self.report.lock();
        let caller = kernel::current!().pid();
        report.build(cpus, snap, &self.slab, self.status.params.stuck_ms, caller)
    }

    /// `snapshot report` and `snapshot all`: a CPU snapshot, a locks snapshot and a slab
    /// sample, joined into a report. A failed slab sample still leaves the report (with the
    /// previous sample's suspects) and fails the write.
    pub(crate) fn snapshot_report(&self) -> Result {
        self.snapshot_cpus()?;
        let (locks, slab) = self.snapshot_rest(true);
        locks?;
        self.build_report()?;
        slab
    }
}

impl State {
    /// The rest of a watch sample, after its CPU snapshot (the latest one, if it found another
    /// in progress): the locks snapshot when one is due or a report is to be built, and the
    /// report only when there is something to record.
    fn watch_sample(&self, hits: &[RawHit], clock: &mut watch::Stopwatch) -> Result {
        let cpus = cpus::Snapshot::latest(&self.nmi)?;
        let caller = kernel::current!().pid();
        let stuck_ms = self.status.params.stuck_ms;
        let rule = report::StuckRule::new(stuck_ms, caller);
        let stuck = rule.count(&cpus);
        let quiet = stuck == 0 && hits.is_empty();
        let start = bridge::now_ns();
        let cpu = bridge::task_runtime_ns();
        if quiet && !self.watch.locks_due(start) {
            // What the last walk found still stands: it lasts (`LocksPace`).
            let last = self.watch.now();
            let now = watch::Now {
                taken_ns: cpus.info().taken_ns,
                stuck_cpus: 0,
                ..last
            };
            self.watch.set_now(now, None);
            return Ok(());
        }
        let mut locks = self.locks.lock();
        let found = locks.snapshot()?;
        self.watch
            .locks_walked(start, bridge::task_runtime_ns().saturating_sub(cpu));
        clock.lap(watch::Phase::Locks);
        let snap = locks.latest().ok_or(ENODATA)?;
        if quiet && found.deadlocks == 0 {
            let now = watch::Now {
                taken_ns: cpus.info().taken_ns,
                stuck_cpus: stuck,
                deadlocks: found.deadlocks,
                blocked_long: snap.blocked_at_least(rule.threshold_ns),
            };
            self.watch.set_now(now, None);
            return Ok(());
        }
        let seq = self.watch.counters().samples + 1;
        let r = report::Report::build(cpus, snap, &self.slab, stuck_ms, caller, seq)?;
        drop(locks);
        let now = watch::Now::of(&r);
        self.watch.record_report(&r, hits);
        self.watch.set_now(now, Some(r));
        Ok(())
    }
}

impl State {
    /// Logs the SysRq key's CPU snapshot in one line.
    fn log_sysrq_snapshot(&self) {
        let info = self.nmi.header();
        pr_info!(
            "snapshot {} of {} CPUs ({} no-response) taken by sysrq in {} us, see \
             /sys/kernel/debug/kintrospect/cpus\n",
            info.seq,
            info.nr_cpus,
            info.nr_no_response,
            info.duration_ns / 1000
        );
    }

    /// The key's CPU snapshot from its work item: waits (sleeping) for the snapshots in
    /// progress, at most [`SYSRQ_CAPTURE_WAIT_NS`].
    fn sysrq_capture_waiting(&self) {
        let end = bridge::now_ns() + SYSRQ_CAPTURE_WAIT_NS;
        loop {
            match self.nmi.capture(Source::Sysrq) {
                Ok(()) => return self.log_sysrq_snapshot(),
                Err(e) if e == EBUSY && bridge::now_ns() < end => fsleep(Delta::from_micros(750)),
                Err(_) => {
                    return pr_info!(
                        "snapshot by sysrq skipped: snapshots kept being taken for {} ms\n",
                        SYSRQ_CAPTURE_WAIT_NS / 1_000_000
                    )
                }
            }
        }
    }
}

impl Handler for State {
    const FILES: &'static [FileDef<Self>] = files::FILES;

    /// The SysRq key: a CPU snapshot at once. One being taken (a `control` write, a watch
    /// sample) cannot be waited for here: the key's snapshot is then taken by its work item,
    /// so that no press is lost.
    fn sysrq(&self) {
        if self.nmi.capture(Source::Sysrq).is_ok() {
            self.log_sysrq_snapshot();
        } else {
            pr_info!("a snapshot is being taken: the key's follows from a work item\n");
            self.sysrq_pending.store(true, Ordering::Relaxed);
        }
    }

    /// The SysRq key's process-context part: the CPU snapshot the handler could not take, then
    /// a locks snapshot and a slab sample. Neither waits for a snapshot already in progress:
    /// that one's result is as fresh.
    fn sysrq_deferred(&self) {
        if self.sysrq_pending.swap(false, Ordering::Relaxed) {
            self.sysrq_capture_waiting();
        }
        let (locks, slab) = self.snapshot_rest(false);
        // Only confirmed cycles are deadlocks; the possible ones are counted apart.
        match locks {
            Ok(locks::Found {
                deadlocks: 0,
                possible: 0,
            }) => pr_info!("locks snapshot taken by sysrq: no deadlock\n"),
            Ok(locks::Found {
                deadlocks: 0,
                possible,
            }) => pr_info!(
                "locks snapshot taken by sysrq: no deadlock, {possible} possible, see locks\n"
            ),
            Ok(found) => pr_info!(
                "locks snapshot taken by sysrq: {} DEADLOCK(S), {} possible, see locks\n",
                found.deadlocks,
                found.possible
            ),
            Err(e) if e == EBUSY => {
                pr_info!("locks snapshot by sysrq skipped: one is in progress\n")
            }
            Err(e) => pr_info!("locks snapshot by sysrq failed: {e:?}\n"),
        }
        match slab {
            Ok(()) => {}
            Err(e) if e == EBUSY => {
                pr_info!("slab sample by sysrq skipped: another slab sample is in progress\n")
            }
            Err(e) => pr_info!("slab sample by sysrq failed: {e:?}\n"),
        }
        match self.build_report() {
            Ok(r) => {
                pr_info!(
                    "report taken by sysrq: {} stuck CPU(s), see report\n",
                    r.stuck.len()
                );
                let now = r.taken_ns();
                self.watch
                    .record(Event::new(watch::Kind::Sysrq, Subject::Once, now, Some(r)));
            }
            Err(e) => pr_info!("report by sysrq skipped: {e:?}\n"),
        }
    }

    /// One periodic slab sample, its CPU time counted.
    fn tick(&self) {
        let start = bridge::task_runtime_ns();
        self.slab.tick();
        self.watch
            .slab_ticked(bridge::task_runtime_ns().saturating_sub(start));
    }

    /// One sample of the watch: a CPU snapshot and a locks snapshot, and a report with its
    /// events when a CPU is stuck, a deadlock is confirmed or a hook fired.
    fn watch(&self) {
        let mut clock = self.watch.stopwatch();
        let mut hits = [RawHit::zeroed(); bridge::MAX_HITS];
        let n = self.watch.take_hits(&mut hits);
        let busy = self.nmi.capture(Source::Watch) == Err(EBUSY);
        clock.lap(watch::Phase::Nmi);
        let result = self.watch_sample(&hits[..n], &mut clock);
        self.watch.sampled(&result, busy, clock);
        bridge::hits_recorded();
    }

    fn panic(&self) {
        self.watch.panic();
    }
}
