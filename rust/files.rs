// SPDX-License-Identifier: GPL-2.0

//! The files under `/sys/kernel/debug/kintrospect/`: what each one shows and does.
//!
//! [`Data`] is the module state; its [`Handler`] table lists every file with what a read shows
//! and what a write does. The files themselves are created by the C part (see
//! [`bridge::Registration`]) so that an open file pins the module.

use crate::{
    bridge::{
        self,
        FileDef,
        Handler,
        Nmi,
        RawHit,
        Source, //
    },
    control, cpus, locks, report,
    slab::{
        self,
        Slab, //
    },
    status::{
        self,
        Status, //
    },
    testpath::{
        self,
        TestPaths, //
    },
    text::Reader,
    watch::{
        self,
        Event,
        Subject,
        Watch, //
    },
};
use kernel::{
    fmt::{
        self,
        Display, //
    },
    new_mutex,
    prelude::*,
    sync::{
        Arc,
        Mutex, //
    },
};

/// State shared by kintrospect's files.
#[pin_data]
pub(crate) struct Data {
    nmi: Nmi,
    /// Serialises CPU snapshots from `control`, so that a second writer waits instead of
    /// failing; a capture is bounded by `nmi_timeout_ms`. Nothing else is ever waited for under
    /// it: a CPU snapshot never waits for a locks walk or a slab read.
    #[pin]
    cpus_lock: Mutex<()>,
    /// The latest locks snapshot.
    #[pin]
    locks: Mutex<locks::State>,
    /// The latest report. Taken after `locks` when both are held.
    #[pin]
    report: Mutex<report::State>,
    status: Status,
    /// The slab sampler's state (baseline, latest sample, trend).
    #[pin]
    pub(crate) slab: Slab,
    /// The test paths (`test_paths=1`).
    test: Option<TestPaths>,
    /// The flight recorder (`watch_interval_ms`).
    #[pin]
    watch: Watch,
}

impl Data {
    /// Registers the NMI handler and sets up the state, with the module parameters.
    ///
    /// Also takes the slab baseline and, with `test_paths=1`, creates the leak test cache.
    pub(crate) fn new(params: &bridge::Params) -> Result<impl PinInit<Self, Error>> {
        let params = *params;
        let slab = Slab::new(slab::Params::from_module(&params))?;
        let test = if params.test_paths {
            Some(TestPaths::new(&params)?)
        } else {
            None
        };
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
            test,
            watch <- watch,
        }? Error))
    }

    /// Takes a CPU snapshot for `control`.
    fn snapshot_cpus(&self) -> Result {
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

impl Data {
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
    fn snapshot_report(&self) -> Result {
        self.snapshot_cpus()?;
        let (locks, slab) = self.snapshot_rest(true);
        locks?;
        self.build_report()?;
        slab
    }
}

impl Data {
    /// The rest of a watch sample, after its CPU snapshot (the latest one, if it found another
    /// in progress): the locks snapshot, and the report only when there is something to
    /// record.
    fn watch_sample(&self, hits: &[RawHit]) -> Result {
        let cpus = cpus::Snapshot::latest(&self.nmi)?;
        let caller = kernel::current!().pid();
        let stuck_ms = self.status.params.stuck_ms;
        let threshold = u64::from(stuck_ms) * 1_000_000;
        let stuck = cpus
            .cpus()
            .filter(|(c, state, mode)| {
                report::may_be_stuck(c, *state, *mode, caller)
                    && c.on_cpu_ns().is_some_and(|ns| ns >= threshold)
            })
            .count();
        let mut locks = self.locks.lock();
        let found = locks.snapshot()?;
        let snap = locks.latest().ok_or(ENODATA)?;
        let mut now = watch::Now {
            taken_ns: cpus.info().taken_ns,
            stuck_cpus: stuck,
            deadlocks: found.deadlocks,
            blocked_long: snap.blocked_at_least(threshold),
        };
        if stuck == 0 && found.deadlocks == 0 && hits.is_empty() {
            self.watch.set_now(now, None);
            return Ok(());
        }
        let seq = self.watch.counters().samples + 1;
        let r = report::Report::build(cpus, snap, &self.slab, stuck_ms, caller, seq)?;
        drop(locks);
        now.stuck_cpus = r.stuck.len();
        now.deadlocks = r.locks.graph.cycles.len();
        now.blocked_long = r.locks.blocked_at_least(threshold);
        self.watch.record_report(&r, hits);
        self.watch.set_now(now, Some(r));
        Ok(())
    }
}

impl Handler for Data {
    const FILES: &'static [FileDef<Self>] = &[
        FileDef::read(c"status", show_status),
        FileDef::write(c"control", write_control),
        FileDef::read(c"cpus", |d, f| show_cpus(d, false, f)),
        FileDef::read(c"cpus.json", |d, f| show_cpus(d, true, f)),
        FileDef::read(c"locks", |d, f| show_locks(d, false, f)),
        FileDef::read(c"locks.json", |d, f| show_locks(d, true, f)),
        FileDef::read(c"report", |d, f| show_report(d, false, f)),
        FileDef::read(c"report.json", |d, f| show_report(d, true, f)),
        FileDef::read(c"events", |d, f| show_events(d, false, f)),
        FileDef::read(c"events.json", |d, f| show_events(d, true, f)),
        FileDef::read(c"metrics", show_metrics),
        FileDef::read(c"slab_delta", |d, f| d.slab.write_text(f)),
        FileDef::read(c"slab_delta.json", |d, f| d.slab.write_json(f)),
        FileDef::dir(c"test/").test(),
        FileDef::read(c"test/spin", |d, f| {
            test_show(d, f, |t, f| testpath::spin(t, false, f))
        })
        .test(),
        FileDef::read(c"test/spin_irqoff", |d, f| {
            test_show(d, f, |t, f| testpath::spin(t, true, f))
        })
        .test(),
        FileDef::write(c"test/release", |d, _, _| test_write(d, testpath::release)).test(),
        FileDef::read(c"test/abba_a", |d, f| {
            test_show(d, f, |t, f| testpath::abba(t, false, f))
        })
        .test(),
        FileDef::read(c"test/abba_b", |d, f| {
            test_show(d, f, |t, f| testpath::abba(t, true, f))
        })
        .test(),
        FileDef::write(c"test/leak", |d, i, n| {
            test_write(d, |t| testpath::leak(t, i, n))
        })
        .test(),
    ];

    /// The SysRq key's process-context part: a locks snapshot and a slab sample, after the CPU
    /// snapshot the handler took. Neither waits for a snapshot already in progress: that one's
    /// result is as fresh.
    fn sysrq(&self) {
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

    /// One periodic slab sample.
    fn tick(&self) {
        self.slab.tick();
    }

    /// One sample of the watch: a CPU snapshot and a locks snapshot, and a report with its
    /// events when a CPU is stuck, a deadlock is confirmed or a hook fired.
    fn watch(&self) {
        let mut hits = [RawHit::zeroed(); bridge::MAX_HITS];
        let n = self.watch.take_hits(&mut hits);
        let busy = self.nmi.capture(Source::Watch) == Err(EBUSY);
        let result = self.watch_sample(&hits[..n]);
        self.watch.sampled(&result, busy);
        bridge::hits_recorded();
    }

    fn panic(&self) {
        self.watch.panic();
    }
}

/// The `status` file.
fn show_status(data: &Data, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let live = status::Live {
        slab: data.slab.counters(),
        locks_buffer_bytes: data.locks.lock().memory(),
        report_buffer_bytes: data.report.lock().memory(),
        watch: data.watch.counters(),
        watch_box: watch::BoxStatus(&data.watch),
        test_leak_objects: data.test.as_ref().map(TestPaths::leak_count),
    };
    data.status.write(f, &live)
}

/// The `locks` and `locks.json` files.
fn show_locks(data: &Data, json: bool, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let state = data.locks.lock();
    match state.latest() {
        // Before the first snapshot, JSON readers still get JSON, as for cpus.json.
        None if json => {
            f.write_str("{\"seq\":0,\"tasks\":[],\"cycles\":[],\"possible_cycles\":[]}\n")
        }
        None => writeln!(f, "no snapshot yet: write \"snapshot locks\" to control"),
        Some(snap) if json => Display::fmt(&locks::Json(snap, Reader::current()), f),
        Some(snap) => Display::fmt(&locks::Text(snap, Reader::current()), f),
    }
}

/// The `report` and `report.json` files.
fn show_report(data: &Data, json: bool, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let state = data.report.lock();
    let empty = report::Report::new();
    let r = state.latest().unwrap_or(&empty);
    match json {
        true => {
            Display::fmt(&report::Json(r, Reader::current()), f)?;
            f.write_str("\n")
        }
        false => Display::fmt(&report::Text(r, Reader::current()), f),
    }
}

/// The `events` and `events.json` files.
fn show_events(data: &Data, json: bool, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    // The read fails with ENOMEM when the copy cannot be had.
    let events = data.watch.copy().map_err(|_| fmt::Error)?;
    let reader = Reader::current();
    match json {
        true => Display::fmt(&watch::Json(&data.watch, &events, reader), f),
        false => Display::fmt(&watch::Text(&data.watch, &events, reader), f),
    }
}

/// The `metrics` file.
fn show_metrics(data: &Data, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let events = data.watch.copy().map_err(|_| fmt::Error)?;
    let now = match data.watch.on() {
        true => data.watch.now(),
        // With the watch off, the gauges come from the latest report, if any.
        false => data
            .report
            .lock()
            .latest()
            .map_or(watch::Now::default(), |r| {
                let threshold = u64::from(r.stuck_ms) * 1_000_000;
                watch::Now {
                    taken_ns: r.taken_ns(),
                    stuck_cpus: r.stuck.len(),
                    deadlocks: r.locks.graph.cycles.len(),
                    blocked_long: r.locks.blocked_at_least(threshold),
                }
            }),
    };
    let mut suspects = KVec::new();
    data.slab.suspects(&mut suspects).map_err(|_| fmt::Error)?;
    let metrics = watch::Metrics {
        watch: &data.watch,
        counts: events.counts,
        dropped: events.dropped,
        now,
        suspects: &suspects,
    };
    Display::fmt(&metrics, f)
}

/// The `cpus` and `cpus.json` files.
fn show_cpus(data: &Data, json: bool, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match cpus::Snapshot::latest(&data.nmi) {
        Ok(snap) if json => Display::fmt(&cpus::Json(&snap, Reader::current()), f),
        Ok(snap) => Display::fmt(&cpus::Text(&snap, Reader::current()), f),
        // The read fails with ENOMEM.
        Err(_) => Err(fmt::Error),
    }
}

/// What a `control` command does.
type CommandFn = fn(&Data) -> Result;

/// The commands `control` accepts, and what each does.
const COMMANDS: &[(&str, CommandFn)] = &[
    ("snapshot cpus", Data::snapshot_cpus),
    ("snapshot locks", |d| d.locks.lock().snapshot().map(|_| ())),
    ("snapshot slab", |d| {
        d.slab.sample(slab::Caller::Control, false)
    }),
    ("snapshot slab sites", |d| {
        d.slab.sample(slab::Caller::Control, true)
    }),
    ("snapshot report", Data::snapshot_report),
    ("snapshot all", Data::snapshot_report),
    ("baseline", |d| d.slab.baseline()),
    ("clear previous", |d| d.watch.clear_previous()),
];

/// A write to `control`: one command of [`COMMANDS`].
fn write_control(data: &Data, input: &[u8], len: usize) -> Result {
    if len > control::MAX_LEN {
        return Err(EINVAL);
    }
    control::parse(input, COMMANDS)?(data)
}

/// A read of a test file: nothing without `test_paths=1` (the file does not exist then).
fn test_show(
    data: &Data,
    f: &mut fmt::Formatter<'_>,
    show: impl FnOnce(&TestPaths, &mut fmt::Formatter<'_>) -> fmt::Result,
) -> fmt::Result {
    match &data.test {
        Some(t) => show(t, f),
        None => Ok(()),
    }
}

/// A write to a test file: `EINVAL` without `test_paths=1`.
fn test_write(data: &Data, write: impl FnOnce(&TestPaths) -> Result) -> Result {
    data.test.as_ref().map_or(Err(EINVAL), write)
}
