// SPDX-License-Identifier: GPL-2.0

//! The watch, kintrospect's flight recorder: the `events`, `events.json` and `metrics` files.
//!
//! With `watch_interval_ms` set, kintrospect samples by itself (`rust/c/watch.c` runs the
//! sample on an unbound workqueue): a CPU snapshot each time, a locks snapshot as often as its
//! cost allows ([`cost::LocksPace`]), and a full report ([`Report`]) when something is wrong.
//! What is wrong becomes an **event**, which keeps that report:
//!
//! - `stuck-cpu`: a CPU has been in the kernel on one task (no switch, no user time) for
//!   `stuck_ms`;
//! - `hung-task`: the hung-task detector reported a task (its `sched_process_hang`
//!   tracepoint, which makes the watch sample at once);
//! - `deadlock`: a locks snapshot confirmed a cycle;
//! - `sysrq`: the SysRq key was pressed (its report);
//! - `oops`: a task oopsed (the die notifier; the report is taken right after, and printed to
//!   the console: one full report per log window at most, the other oopses one line
//!   each, so that an oops storm does not push the kernel's own traces out of the log);
//! - `panic`: the kernel panics (the panic notifier). Nothing can be sampled then (the other
//!   CPUs are stopped): the event keeps the watch's latest report, which is printed to the
//!   console, since the files will not be read again.
//!
//! An incident is one event, updated while it lasts: the same CPU on the same task
//! (`stuck-cpu`), the same task (`hung-task`), the same tasks (`deadlock`). Events live in a
//! ring of `watch_events`; a new one drops the oldest, counted. Each new event logs one line,
//! at most a few per log window ([`Ring`]).
//!
//! With the watch off (the default) there is no sample, no hook and no event: it costs nothing.
//!
//! This file holds the recorder ([`Watch`]) and what it does with a sample; the parts are in
//! `watch/`: the events and their incidents (`event`), the ring (`ring`), the `events`
//! formats with the black box's state and earlier boots (`format`), what goes into the black
//! box (`blackbox`), `metrics` and the console (`console`), and what the watch itself costs
//! (`cost`).

mod blackbox;
mod console;
mod cost;
mod event;
mod format;
mod metrics;
mod ring;

pub(crate) use cost::{
    Cost,
    Ms,
    NmiTotal,
    Phase,
    Stopwatch,
    PHASES, //
};
pub(crate) use event::{
    Counts,
    Event,
    Kind,
    Subject, //
};
pub(crate) use format::{
    BoxStatus,
    Json,
    Text, //
};
pub(crate) use metrics::Metrics;
pub(crate) use ring::{
    Recorded,
    Ring, //
};

use crate::{
    bridge::{
        self,
        Cadence,
        HitKind,
        Hooks,
        RawHit,
        Region, //
    },
    persist::{
        self,
        Persist,
        Previous,
        Setup, //
    },
    report::{
        self,
        Report, //
    },
    text,
};
use blackbox::persist_event;
use console::{
    console_report,
    Level,
    LineBuf, //
};
use core::sync::atomic::{
    AtomicBool,
    AtomicU64,
    Ordering, //
};
use format::Clock;
use kernel::{
    fmt::Write,
    new_spinlock,
    prelude::*,
    sync::{
        Arc,
        SpinLock, //
    },
};

/// What the latest sample found, for `metrics`.
#[derive(Clone, Copy, Default)]
pub(crate) struct Now {
    pub(crate) taken_ns: u64,
    pub(crate) stuck_cpus: usize,
    pub(crate) deadlocks: usize,
    pub(crate) blocked_long: usize,
}

impl Now {
    /// What report `r` found.
    pub(crate) fn of(r: &Report) -> Self {
        Self {
            taken_ns: r.taken_ns(),
            stuck_cpus: r.stuck.len(),
            deadlocks: r.locks.graph.cycles.len(),
            blocked_long: r.locks.blocked_at_least(report::stuck_ns(r.stuck_ms)),
        }
    }
}

/// The watch's state.
#[pin_data]
pub(crate) struct Watch {
    /// The sampling period, 0 = off.
    pub(crate) interval_ms: u32,
    #[pin]
    ring: SpinLock<Ring>,
    /// The latest report the watch built, and what its latest sample found.
    #[pin]
    last: SpinLock<(Option<Arc<Report>>, Now)>,
    samples: AtomicU64,
    /// Samples whose CPU snapshot found another one in progress.
    samples_busy: AtomicU64,
    /// Samples that failed (an allocation): the previous events stay.
    samples_failed: AtomicU64,
    hits_dropped: AtomicU64,
    /// What the samples (and the periodic slab samples) cost.
    #[pin]
    cost: SpinLock<Cost>,
    /// Time spent writing into the black box, in ns.
    persist_ns: AtomicU64,
    panicked: AtomicBool,
    /// The black box (`persist=`): the region in use, or why there is none.
    persist: Setup<Region>,
    /// The region's name (`persist=`); empty: none.
    persist_name: [u8; bridge::PERSIST_NAME_LEN],
}

impl Watch {
    /// The watch, sampling every `interval_ms` (0 = off) and keeping `capacity` events, in
    /// the `reserve_mem` region `persist` too if one is named. Its earlier boots' events are
    /// read also with the watch off.
    pub(crate) fn new(
        interval_ms: u32,
        capacity: u32,
        region: Option<&CStr>,
    ) -> Result<impl PinInit<Self>> {
        // With the watch off, no event is ever recorded: no room either.
        let ring = Ring::new(if interval_ms == 0 {
            0
        } else {
            capacity as usize
        })?;
        let persist = match region {
            Some(name) => Persist::setup(name),
            None => Setup::Off,
        };
        let mut persist_name = [0u8; bridge::PERSIST_NAME_LEN];
        if let Some(name) = region {
            let n = name.to_bytes();
            let len = n.len().min(persist_name.len() - 1);
            persist_name[..len].copy_from_slice(&n[..len]);
        }
        Ok(pin_init!(Self {
            interval_ms,
            ring <- new_spinlock!(ring, "kintrospect_events"),
            last <- new_spinlock!((None, Now::default()), "kintrospect_watch_last"),
            samples: AtomicU64::new(0),
            samples_busy: AtomicU64::new(0),
            samples_failed: AtomicU64::new(0),
            hits_dropped: AtomicU64::new(0),
            cost <- new_spinlock!(Cost::default(), "kintrospect_watch_cost"),
            persist_ns: AtomicU64::new(0),
            panicked: AtomicBool::new(false),
            persist,
            persist_name,
        }))
    }

    /// Keeps in the black box what recording an event did: a new event, an update (at most
    /// once a second), a dropped one cleared.
    fn persist(&self, done: &Recorded) {
        let Some(p) = self.black_box() else {
            return;
        };
        let (seq, force) = match *done {
            Recorded::New { seq, dropped, .. } => {
                if let Some(d) = dropped {
                    p.forget(d);
                }
                (seq, true)
            }
            Recorded::Updated { seq } => (seq, false),
            Recorded::Nothing => return,
        };
        let start = bridge::now_ns();
        let Some(e) = self.ring.lock().get(seq) else {
            return;
        };
        let _ = persist_event(p, &e, Clock::now(), None, force);
        // The copy's report is dropped here, outside the lock.
        drop(e);
        self.persist_ns
            .fetch_add(bridge::now_ns().saturating_sub(start), Ordering::Relaxed);
    }

    /// `clear previous`: forgets the earlier boots' events; `EINVAL` without a black box.
    pub(crate) fn clear_previous(&self) -> Result {
        self.black_box().ok_or(EINVAL)?.clear_previous();
        Ok(())
    }

    /// The earlier boots' events, if the black box keeps any.
    pub(crate) fn previous(&self) -> Option<Arc<Previous>> {
        self.black_box()?.previous()
    }

    /// The black box, if events persist.
    pub(crate) fn black_box(&self) -> Option<&Persist<Region>> {
        self.persist.black_box()
    }

    /// Whether the watch samples.
    pub(crate) fn on(&self) -> bool {
        self.interval_ms != 0
    }

    /// Takes the hooks' hits since the last sample into `hits`; returns how many.
    pub(crate) fn take_hits(&self, hits: &mut [RawHit; bridge::MAX_HITS]) -> usize {
        let (n, dropped) = bridge::take_hits(hits);
        self.hits_dropped
            .fetch_add(u64::from(dropped), Ordering::Relaxed);
        n
    }

    /// Starts timing a sample.
    pub(crate) fn stopwatch(&self) -> Stopwatch {
        Stopwatch::start(self.persist_ns.load(Ordering::Relaxed))
    }

    /// Counts a sample, timed by `clock`: `busy` when its CPU snapshot found another in
    /// progress.
    pub(crate) fn sampled(&self, result: &Result, busy: bool, clock: Stopwatch) {
        let cost = clock.stop(self.persist_ns.load(Ordering::Relaxed));
        self.cost.lock().add(cost);
        self.samples.fetch_add(1, Ordering::Relaxed);
        if busy {
            self.samples_busy.fetch_add(1, Ordering::Relaxed);
        }
        if result.is_err() {
            self.samples_failed.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Whether a sample at `now_ns` is due to walk the locks ([`cost::LocksPace`]).
    pub(crate) fn locks_due(&self, now_ns: u64) -> bool {
        self.cost.lock().locks.due(now_ns)
    }

    /// Counts a locks walk of a sample that started at `start_ns` and took `cpu_ns` of CPU.
    pub(crate) fn locks_walked(&self, start_ns: u64, cpu_ns: u64) {
        self.cost.lock().locks.walked(start_ns, cpu_ns);
    }

    /// Counts a periodic slab sample that took `cpu_ns` of CPU time.
    pub(crate) fn slab_ticked(&self, cpu_ns: u64) {
        self.cost.lock().add_slab(cpu_ns);
    }

    /// What the samples and the periodic slab samples cost so far.
    pub(crate) fn cost(&self) -> Cost {
        *self.cost.lock()
    }

    /// Keeps what a sample found; `report` replaces the latest report when there is one.
    pub(crate) fn set_now(&self, now: Now, report: Option<Arc<Report>>) {
        let old = {
            let mut last = self.last.lock();
            last.1 = now;
            match report {
                Some(r) => last.0.replace(r),
                None => None,
            }
        };
        drop(old);
    }

    /// What the latest sample found.
    pub(crate) fn now(&self) -> Now {
        self.last.lock().1
    }

    /// Records the events a report shows: its stuck CPUs and confirmed deadlocks, and the
    /// hooks' `hits` (hung tasks, oopses).
    ///
    /// An oops's report is printed to the console, since the files may never be read again;
    /// but only once for all the hits of a sample (they share the report), for a logged event
    /// (the rate limit of [`Watch::record`]) and once per log window: an oops storm
    /// prints one report, and one line per further oops.
    pub(crate) fn record_report(&self, r: &Arc<Report>, hits: &[RawHit]) {
        let now = r.taken_ns();
        if let Some(snap) = &r.cpus {
            for s in r.stuck.iter() {
                if let Some((c, _, _)) = snap.get(s.cpu) {
                    let subject = Subject::Cpu {
                        cpu: c.cpu,
                        pid: c.pid,
                        since_ns: c.on_cpu_since_ns,
                    };
                    let e = Event::new(Kind::StuckCpu, subject, now, Some(r.clone()))
                        .on_cpu(c.cpu)
                        .task(c.pid, &c.comm);
                    self.record(e);
                }
            }
        }
        let tasks = r.locks.tasks();
        for cycle in r.locks.graph.cycles.iter() {
            let subject = Subject::cycle(cycle.iter().filter_map(|&i| tasks.get(i)).map(|t| t.pid));
            self.record(Event::new(Kind::Deadlock, subject, now, Some(r.clone())));
        }
        let mut printed = false;
        for h in hits {
            let (kind, subject) = match h.kind() {
                Some(HitKind::HungTask) => (Kind::HungTask, Subject::Task { pid: h.pid }),
                Some(HitKind::Oops) => (Kind::Oops, Subject::Once),
                None => continue,
            };
            let e = Event::new(kind, subject, h.taken_ns, Some(r.clone())).task(h.pid, &h.comm);
            let e = match kind {
                Kind::Oops => e.on_cpu(h.cpu),
                _ => e,
            };
            if let Recorded::New { seq, log: true, .. } = self.record(e) {
                if kind == Kind::Oops && !printed && self.ring.lock().console_report(h.taken_ns) {
                    printed = true;
                    pr_err!("event {seq}: oops in pid {}: report follows\n", h.pid);
                    console_report(r, Level::Err);
                }
            }
        }
    }

    /// Records `e` and logs it when new (rate-limited).
    pub(crate) fn record(&self, e: Event) -> Recorded {
        if !self.on() {
            return Recorded::Nothing;
        }
        let mut old = None;
        let (kind, cpu, pid, comm) = (e.kind, e.cpu, e.pid, e.comm);
        let done = self.ring.lock().record(e, &mut old);
        // A replaced or dropped report is freed here, outside the lock.
        drop(old);
        self.persist(&done);
        if let Recorded::New { seq, log: true, .. } = done {
            let mut line = LineBuf::new();
            let _ = write!(line, "event {seq}: {}", kind.name());
            if let Some(cpu) = cpu {
                let _ = write!(line, " CPU {cpu}");
            }
            if let Some(pid) = pid {
                let _ = write!(line, " pid {pid} (");
                let _ = text::write_comm(&mut line, &comm);
                let _ = line.write_char(')');
            }
            pr_warn!("{}, see events\n", line.as_str());
        }
        done
    }

    /// The panic notifier: records a `panic` event with the latest report and prints it to
    /// the console. Atomic, maybe in NMI: only tries the locks and never allocates or frees.
    pub(crate) fn panic(&self) {
        if self.panicked.swap(true, Ordering::Relaxed) {
            return;
        }
        let Some(last) = self.last.try_lock() else {
            pr_emerg!("panic: the watch is busy, no report\n");
            return;
        };
        let report = last.0.clone();
        let now = last.1;
        drop(last);
        let now_ns = bridge::now_ns();
        match &report {
            Some(r) => {
                pr_emerg!(
                    "panic: the watch's latest report ({} ms old; latest sample {} ms \
                     old: {} stuck CPU(s), {} deadlock(s)):\n",
                    now_ns.saturating_sub(r.taken_ns()) / 1_000_000,
                    now_ns.saturating_sub(now.taken_ns) / 1_000_000,
                    now.stuck_cpus,
                    now.deadlocks
                );
                console_report(r, Level::Emerg);
            }
            None => pr_emerg!(
                "panic: the watch found nothing wrong (latest sample {} ms old)\n",
                now_ns.saturating_sub(now.taken_ns) / 1_000_000
            ),
        }
        let panic = Event::new(Kind::Panic, Subject::Once, now_ns, report);
        let mut seq = 0;
        // The reserved place takes it without allocating; the report is shared, not freed.
        if let Some(mut ring) = self.ring.try_lock() {
            let mut old = None;
            if let Recorded::New { seq: s, .. } = ring.record(panic.clone(), &mut old) {
                seq = s;
            }
            // Only a full ring with its panic place taken returns the event: never, as this
            // runs once. Forgetting it keeps the free out of panic context.
            core::mem::forget(old);
        }
        self.persist_in_panic(panic, seq);
    }

    /// Writes the panic event into the black box, and before it the hooks' hits no sample
    /// recorded (a hung task that made the kernel panic), with the same report, numbered from
    /// `seq` (the panic's number in the ring) in that order. No lock, no allocation, no free:
    /// every copy made here is forgotten.
    fn persist_in_panic(&self, mut panic: Event, seq: u64) {
        let Some(p) = self.black_box() else {
            core::mem::forget(panic);
            return;
        };
        let clock = Clock::now();
        let mut events = [const { None }; persist::PANIC_SLOTS];
        let mut hits = [RawHit::zeroed(); bridge::MAX_HITS];
        let n = bridge::peek_hits_in_panic(&mut hits);
        let mut next = seq;
        for (i, h) in hits[..n].iter().take(persist::PANIC_SLOTS - 1).enumerate() {
            let kind = match h.kind() {
                Some(HitKind::HungTask) => Kind::HungTask,
                Some(HitKind::Oops) => Kind::Oops,
                None => continue,
            };
            let mut e = Event::new(kind, Subject::Once, h.taken_ns, panic.report.clone())
                .task(h.pid, &h.comm);
            if kind == Kind::Oops {
                e = e.on_cpu(h.cpu);
            }
            e.seq = next;
            next += 1;
            events[i + 1] = Some(e);
        }
        panic.seq = next;
        events[0] = Some(panic);
        for (i, e) in events.iter().enumerate() {
            if let Some(e) = e {
                if persist_event(p, e, clock, Some(i), true).is_err() {
                    pr_emerg!("panic: event {} did not reach the black box\n", e.seq);
                }
            }
        }
        core::mem::forget(events);
    }

    /// What `status` shows of the watch.
    pub(crate) fn counters(&self) -> Counters {
        let cost = self.cost();
        let ring = self.ring.lock();
        Counters {
            cost,
            kept: ring.events.len(),
            dropped: ring.dropped,
            unlogged: ring.unlogged,
            samples: self.samples.load(Ordering::Relaxed),
            samples_busy: self.samples_busy.load(Ordering::Relaxed),
            samples_failed: self.samples_failed.load(Ordering::Relaxed),
            hits_dropped: self.hits_dropped.load(Ordering::Relaxed),
            hooks: Hooks::attached(),
            cadence: Cadence::read(),
            memory: ring.events.iter().map(Event::memory).sum::<usize>()
                + ring.events.capacity() * core::mem::size_of::<Event>(),
        }
    }

    /// A copy of the ring's events and counts, for a read (the reports are shared, not
    /// copied); the lock is held only to copy.
    pub(crate) fn copy(&self) -> Result<Events> {
        let capacity = self.ring.lock().events.capacity();
        let mut events = KVec::with_capacity(capacity, GFP_KERNEL)?;
        let ring = self.ring.lock();
        for e in ring.events.iter() {
            // The capacity cannot grow: the copy has room for all.
            if events.push_within_capacity(e.clone()).is_err() {
                break;
            }
        }
        Ok(Events {
            events,
            counts: ring.counts,
            dropped: ring.dropped,
            capacity: ring.capacity,
        })
    }
}

/// What `status` shows of the watch.
pub(crate) struct Counters {
    pub(crate) cost: Cost,
    pub(crate) kept: usize,
    pub(crate) dropped: u64,
    pub(crate) unlogged: u64,
    pub(crate) samples: u64,
    pub(crate) samples_busy: u64,
    pub(crate) samples_failed: u64,
    pub(crate) hits_dropped: u64,
    pub(crate) hooks: Hooks,
    pub(crate) cadence: Cadence,
    pub(crate) memory: usize,
}

/// The events of a read.
pub(crate) struct Events {
    pub(crate) events: KVec<Event>,
    pub(crate) counts: Counts,
    pub(crate) dropped: u64,
    pub(crate) capacity: usize,
}
