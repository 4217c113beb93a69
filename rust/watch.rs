// SPDX-License-Identifier: GPL-2.0

//! The watch, kintrospect's flight recorder: the `events`, `events.json` and `metrics` files.
//!
//! With `watch_interval_ms` set, kintrospect samples by itself (`rust/c/watch.c` runs the
//! sample on an unbound workqueue): a CPU snapshot and a locks snapshot each time, and a full
//! report ([`Report`]) when something is wrong. What is wrong becomes an **event**, which keeps
//! that report:
//!
//! - `stuck-cpu`: a CPU has been in the kernel on one task (no switch, no user time) for
//!   `stuck_ms`;
//! - `hung-task`: the hung-task detector reported a task (its `sched_process_hang`
//!   tracepoint, which makes the watch sample at once);
//! - `deadlock`: a locks snapshot confirmed a cycle;
//! - `sysrq`: the SysRq key was pressed (its report);
//! - `oops`: a task oopsed (the die notifier; the report is taken right after, and printed to
//!   the console: one full report per [`LOG_WINDOW_NS`] at most, the other oopses one line
//!   each, so that an oops storm does not push the kernel's own traces out of the log);
//! - `panic`: the kernel panics (the panic notifier). Nothing can be sampled then (the other
//!   CPUs are stopped): the event keeps the watch's latest report, which is printed to the
//!   console, since the files will not be read again.
//!
//! An incident is one event, updated while it lasts: the same CPU on the same task
//! (`stuck-cpu`), the same task (`hung-task`), the same tasks (`deadlock`). Events live in a
//! ring of `watch_events`; a new one drops the oldest, counted. Each new event logs one line,
//! at most [`LOG_BURST`] per [`LOG_WINDOW_NS`].
//!
//! With the watch off (the default) there is no sample, no hook and no event: it costs nothing.

use crate::{
    bridge::{
        self,
        Cadence,
        HitKind,
        Hooks,
        RawHit,
        Region, //
    },
    json,
    persist::{
        self,
        Persist,
        Previous,
        Record,
        Setup, //
    },
    report::{
        self,
        Report, //
    },
    slab::Delta,
    text::{
        self,
        Reader, //
    },
};
use core::sync::atomic::{
    AtomicBool,
    AtomicU64,
    Ordering, //
};
use kernel::{
    fmt::{
        self,
        Display,
        Write, //
    },
    new_spinlock,
    prelude::*,
    sync::{
        Arc,
        SpinLock, //
    },
};

/// The black box, if this load has one.
type BlackBox = Option<Pin<KBox<Persist<Region>>>>;

/// New events logged per window at most; the rest are counted in `status` only.
const LOG_BURST: u32 = 5;
/// The log window.
const LOG_WINDOW_NS: u64 = 10_000_000_000;
/// Lines of a report printed to the console (an oops, a panic) at most; an oops's report is
/// printed once per [`LOG_WINDOW_NS`] at most.
const CONSOLE_LINES: u32 = 80;
/// Tasks of a deadlock that tell it apart from another.
const CYCLE_PIDS: usize = 8;

/// What made an event.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    StuckCpu,
    HungTask,
    Deadlock,
    Sysrq,
    Oops,
    Panic,
}

impl Kind {
    /// Every kind, in the order `events` and `metrics` count them.
    pub(crate) const ALL: [Kind; 6] = [
        Kind::StuckCpu,
        Kind::HungTask,
        Kind::Deadlock,
        Kind::Sysrq,
        Kind::Oops,
        Kind::Panic,
    ];

    /// Its code in a persisted record: its place in [`Kind::ALL`], from 1.
    pub(crate) fn code(self) -> u16 {
        Kind::ALL
            .iter()
            .position(|k| *k == self)
            .map_or(0, |i| i as u16 + 1)
    }

    /// The kind of a persisted record's code.
    pub(crate) fn from_code(code: u16) -> Option<Kind> {
        Kind::ALL.get(usize::from(code).checked_sub(1)?).copied()
    }

    /// Its name in the files.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::StuckCpu => "stuck-cpu",
            Kind::HungTask => "hung-task",
            Kind::Deadlock => "deadlock",
            Kind::Sysrq => "sysrq",
            Kind::Oops => "oops",
            Kind::Panic => "panic",
        }
    }
}

/// What an event is about: two samples with the same subject are the same incident.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Subject {
    /// A CPU on one task since `since_ns` (the CPU record's `on_cpu_since_ns`).
    Cpu { cpu: u32, pid: i32, since_ns: u64 },
    /// A task.
    Task { pid: i32 },
    /// The tasks of a deadlock, sorted (the first [`CYCLE_PIDS`]).
    Cycle { pids: [i32; CYCLE_PIDS], n: usize },
    /// Never the same as another (`sysrq`, `oops`, `panic`).
    Once,
}

impl Subject {
    /// The subject of a deadlock through `pids`.
    fn cycle(pids: impl Iterator<Item = i32>) -> Self {
        let mut out = [0; CYCLE_PIDS];
        let mut n = 0;
        for pid in pids {
            if n < CYCLE_PIDS {
                out[n] = pid;
                n += 1;
            }
        }
        out[..n].sort_unstable();
        Subject::Cycle { pids: out, n }
    }
}

/// One event: what made it and the latest report of its incident.
#[derive(Clone)]
pub(crate) struct Event {
    pub(crate) seq: u64,
    pub(crate) kind: Kind,
    pub(crate) subject: Subject,
    /// The CPU and task it is about, where there is one.
    pub(crate) cpu: Option<u32>,
    pub(crate) pid: Option<i32>,
    pub(crate) comm: [u8; bridge::COMM_LEN],
    /// When it was first seen, and last updated.
    pub(crate) first_ns: u64,
    pub(crate) taken_ns: u64,
    /// Samples that found the same incident again.
    pub(crate) updates: u32,
    /// The report (`None` for a panic before the watch built any).
    pub(crate) report: Option<Arc<Report>>,
}

impl Event {
    /// A new event of `kind` about `subject`, with `report`.
    pub(crate) fn new(kind: Kind, subject: Subject, now: u64, report: Option<Arc<Report>>) -> Self {
        Self {
            seq: 0,
            kind,
            subject,
            cpu: None,
            pid: None,
            comm: [0; bridge::COMM_LEN],
            first_ns: now,
            taken_ns: now,
            updates: 0,
            report,
        }
    }

    /// The same, about task `pid` (`comm`).
    pub(crate) fn task(mut self, pid: i32, comm: &[u8; bridge::COMM_LEN]) -> Self {
        self.pid = Some(pid);
        self.comm = *comm;
        self
    }

    /// The same, about CPU `cpu`.
    pub(crate) fn on_cpu(mut self, cpu: u32) -> Self {
        self.cpu = Some(cpu);
        self
    }

    /// Bytes of its report's buffers (shared reports counted once per event: an upper bound).
    fn memory(&self) -> usize {
        self.report.as_ref().map_or(0, |r| r.memory())
    }
}

/// What recording an event did.
pub(crate) enum Recorded {
    /// A new event, with this sequence number; whether to log it; the event it dropped.
    New {
        seq: u64,
        log: bool,
        dropped: Option<u64>,
    },
    /// The event `seq`, of the same incident, was updated.
    Updated { seq: u64 },
    /// Nothing: the watch is off, or a panic found no room.
    Nothing,
}

/// The events kept, oldest first, and what was counted.
pub(crate) struct Ring {
    events: KVec<Event>,
    /// Events kept at most (`watch_events`); one more room is reserved for a panic.
    capacity: usize,
    dropped: u64,
    next_seq: u64,
    /// New events per [`Kind::ALL`].
    counts: [u64; 6],
    /// New events not logged (rate limit).
    unlogged: u64,
    log_window_ns: u64,
    logged: u32,
    /// When a full report last went to the console (an oops), if ever.
    reported_ns: Option<u64>,
}

impl Ring {
    /// An empty ring of `capacity` events, its room allocated now.
    pub(crate) fn new(capacity: usize) -> Result<Self> {
        Ok(Self {
            events: KVec::with_capacity(capacity + 1, GFP_KERNEL)?,
            capacity,
            dropped: 0,
            next_seq: 1,
            counts: [0; 6],
            unlogged: 0,
            log_window_ns: 0,
            logged: 0,
            reported_ns: None,
        })
    }

    /// Whether an oops's full report may go to the console at `now`: once per
    /// [`LOG_WINDOW_NS`], which then starts.
    fn console_report(&mut self, now: u64) -> bool {
        if self
            .reported_ns
            .is_some_and(|t| now.saturating_sub(t) < LOG_WINDOW_NS)
        {
            return false;
        }
        self.reported_ns = Some(now);
        true
    }

    /// Records `e`: updates the event of the same incident if one is kept, else adds it,
    /// dropping the oldest when full. Never allocates; what it replaces or drops is returned
    /// in `old`, to be dropped outside the lock.
    pub(crate) fn record(&mut self, mut e: Event, old: &mut Option<Event>) -> Recorded {
        if e.subject != Subject::Once {
            if let Some(k) = self
                .events
                .iter_mut()
                .find(|k| k.kind == e.kind && k.subject == e.subject)
            {
                k.taken_ns = e.taken_ns;
                k.updates = k.updates.saturating_add(1);
                core::mem::swap(&mut k.report, &mut e.report);
                *old = Some(e);
                return Recorded::Updated { seq: k.seq };
            }
        }
        let mut dropped = None;
        if self.events.len() >= self.capacity && e.kind != Kind::Panic {
            *old = self.events.remove(0).ok();
            dropped = old.as_ref().map(|o| o.seq);
            self.dropped += 1;
        }
        e.seq = self.next_seq;
        let (seq, kind, now) = (e.seq, e.kind, e.taken_ns);
        // A panic may take the one reserved place beyond `capacity`: it is the last event.
        if let Err(err) = self.events.push_within_capacity(e) {
            *old = Some(err.0);
            self.dropped += 1;
            return Recorded::Nothing;
        }
        self.next_seq += 1;
        if let Some(i) = Kind::ALL.iter().position(|k| *k == kind) {
            self.counts[i] += 1;
        }
        if now.saturating_sub(self.log_window_ns) >= LOG_WINDOW_NS {
            self.log_window_ns = now;
            self.logged = 0;
        }
        let log = self.logged < LOG_BURST;
        if log {
            self.logged += 1;
        } else {
            self.unlogged += 1;
        }
        Recorded::New { seq, log, dropped }
    }

    /// A copy of event `seq`, if kept (its report shared).
    fn get(&self, seq: u64) -> Option<Event> {
        self.events.iter().find(|e| e.seq == seq).cloned()
    }
}

/// What the latest sample found, for `metrics`.
#[derive(Clone, Copy, Default)]
pub(crate) struct Now {
    pub(crate) taken_ns: u64,
    pub(crate) stuck_cpus: usize,
    pub(crate) deadlocks: usize,
    pub(crate) blocked_long: usize,
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
    panicked: AtomicBool,
    /// The black box (`persist=`): how it was set up, and the region if it was.
    persist_setup: Setup,
    persist: BlackBox,
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
        let (persist_setup, persist) = match region {
            Some(name) => Persist::setup(name),
            None => (Setup::Off, None),
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
            panicked: AtomicBool::new(false),
            persist_setup,
            persist,
            persist_name,
        }))
    }

    /// Keeps in the black box what recording an event did: a new event, an update (at most
    /// once a second), a dropped one cleared.
    fn persist(&self, done: &Recorded) {
        let Some(p) = &self.persist else {
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
        let Some(e) = self.ring.lock().get(seq) else {
            return;
        };
        let _ = persist_event(p, &e, Clock::now(), None, force);
        // The copy's report is dropped here, outside the lock.
        drop(e);
    }

    /// `clear previous`: forgets the earlier boots' events; `EINVAL` without a black box.
    pub(crate) fn clear_previous(&self) -> Result {
        self.persist.as_ref().ok_or(EINVAL)?.clear_previous();
        Ok(())
    }

    /// The earlier boots' events, if the black box keeps any.
    pub(crate) fn previous(&self) -> Option<Arc<Previous>> {
        self.persist.as_ref()?.previous()
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

    /// Counts a sample: `busy` when its CPU snapshot found another in progress.
    pub(crate) fn sampled(&self, result: &Result, busy: bool) {
        self.samples.fetch_add(1, Ordering::Relaxed);
        if busy {
            self.samples_busy.fetch_add(1, Ordering::Relaxed);
        }
        if result.is_err() {
            self.samples_failed.fetch_add(1, Ordering::Relaxed);
        }
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
    /// (the rate limit of [`Watch::record`]) and once per [`LOG_WINDOW_NS`]: an oops storm
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
        let Some(p) = &self.persist else {
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
        let ring = self.ring.lock();
        Counters {
            interval_ms: self.interval_ms,
            capacity: ring.capacity,
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

/// How the black box's records show reports: no raw addresses (whoever reads them later).
const PERSIST_READER: Reader = Reader {
    raw_addresses: false,
};

/// Writes event `e` into the black box: into panic slot `panic_slot` from the panic notifier,
/// else as this load's event (an update at most once a second unless `force`).
fn persist_event(
    p: &Persist<Region>,
    e: &Event,
    clock: Clock,
    panic_slot: Option<usize>,
    force: bool,
) -> Result {
    let text = EventText(e, PERSIST_READER);
    let json = EventJson {
        e,
        reader: PERSIST_READER,
        clock,
        report: true,
    };
    let short = EventJson {
        report: false,
        ..json
    };
    let r = Record {
        seq: e.seq,
        kind: e.kind.code(),
        first_real_ns: clock.real(e.first_ns),
        last_real_ns: clock.real(e.taken_ns),
        updates: e.updates,
        text: &text,
        json: &json,
        json_short: &short,
    };
    match panic_slot {
        Some(i) => p.write_in_panic(i, &r),
        None => {
            p.write(&r, force);
            Ok(())
        }
    }
}

/// The wall clock beside the monotonic one the events' times are in.
#[derive(Clone, Copy)]
pub(crate) struct Clock {
    mono_ns: u64,
    real_ns: u64,
}

impl Clock {
    /// Both clocks now (NMI-safe).
    pub(crate) fn now() -> Self {
        Self {
            mono_ns: bridge::now_ns(),
            real_ns: bridge::real_ns(),
        }
    }

    /// The wall-clock time of monotonic time `mono_ns`.
    fn real(&self, mono_ns: u64) -> u64 {
        self.real_ns
            .saturating_sub(self.mono_ns.saturating_sub(mono_ns))
    }
}

/// An event as `events` shows it: its line, then its report.
struct EventText<'a>(&'a Event, Reader);

impl Display for EventText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let EventText(e, reader) = *self;
        write!(f, "=== event {}: {}", e.seq, e.kind.name())?;
        if let Some(cpu) = e.cpu {
            write!(f, " CPU {cpu}")?;
        }
        if let Some(pid) = e.pid {
            write!(f, " pid {pid} (")?;
            text::write_comm(f, &e.comm)?;
            f.write_char(')')?;
        }
        f.write_str(", first at ")?;
        write_secs(f, e.first_ns)?;
        if e.updates != 0 {
            f.write_str(", last at ")?;
            write_secs(f, e.taken_ns)?;
            write!(f, " ({} updates)", e.updates)?;
        }
        f.write_char('\n')?;
        match &e.report {
            Some(r) => Display::fmt(&report::Text(r, reader), f),
            None => f.write_str("no report: the watch had not built one\n"),
        }
    }
}

/// An event as an object of `events.json`; `report` false leaves its report out (`null`,
/// with `"report_cut":true`).
#[derive(Clone, Copy)]
struct EventJson<'a> {
    e: &'a Event,
    reader: Reader,
    clock: Clock,
    report: bool,
}

impl Display for EventJson<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = self.e;
        write!(
            f,
            "{{\"seq\":{},\"kind\":\"{}\",\"taken_ns\":{},\"first_ns\":{},\"updates\":{},\
             \"taken_real_ns\":{},\"first_real_ns\":{},\"cpu\":",
            e.seq,
            e.kind.name(),
            e.taken_ns,
            e.first_ns,
            e.updates,
            self.clock.real(e.taken_ns),
            self.clock.real(e.first_ns),
        )?;
        match e.cpu {
            Some(cpu) => write!(f, "{cpu}")?,
            None => f.write_str("null")?,
        }
        match e.pid {
            Some(pid) => {
                write!(f, ",\"pid\":{pid},\"comm\":")?;
                Display::fmt(&json::Str(text::comm_bytes(&e.comm)), f)?;
            }
            None => f.write_str(",\"pid\":null,\"comm\":null")?,
        }
        f.write_str(",\"report\":")?;
        match &e.report {
            Some(r) if self.report => Display::fmt(&report::Json(r, self.reader), f)?,
            Some(_) => f.write_str("null,\"report_cut\":true")?,
            None => f.write_str("null")?,
        }
        f.write_char('}')
    }
}

/// What `status` shows of the watch.
pub(crate) struct Counters {
    pub(crate) interval_ms: u32,
    pub(crate) capacity: usize,
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
    pub(crate) counts: [u64; 6],
    pub(crate) dropped: u64,
    pub(crate) capacity: usize,
}

/// The `events` file.
pub(crate) struct Text<'a>(
    pub(crate) &'a Watch,
    pub(crate) &'a Events,
    pub(crate) Reader,
);

impl Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Text(w, c, reader) = *self;
        Display::fmt(&BoxStatus(w), f)?;
        f.write_char('\n')?;
        if let Some(prev) = w.previous() {
            write_previous(f, &prev, w)?;
            f.write_str("\n--- this boot and load\n")?;
        }
        if !w.on() {
            return f.write_str(
                "the watch is off: load with watch_interval_ms=<ms> (e.g. 1000) to record events\n",
            );
        }
        write!(
            f,
            "watch: a sample every {} ms; {} events kept of {}, {} dropped; new events by kind:",
            w.interval_ms,
            c.events.len(),
            c.capacity,
            c.dropped
        )?;
        for (k, n) in Kind::ALL.iter().zip(c.counts.iter()) {
            write!(f, " {} {n}", k.name())?;
        }
        f.write_char('\n')?;
        if c.events.is_empty() {
            return f.write_str("no event yet\n");
        }
        for e in c.events.iter() {
            f.write_char('\n')?;
            Display::fmt(&EventText(e, reader), f)?;
        }
        Ok(())
    }
}

/// The `events.json` file.
pub(crate) struct Json<'a>(
    pub(crate) &'a Watch,
    pub(crate) &'a Events,
    pub(crate) Reader,
);

impl Display for Json<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Json(w, c, reader) = *self;
        f.write_str("{\"persist\":")?;
        write_persist_json(f, w)?;
        write!(
            f,
            ",\"watch\":{},\"interval_ms\":{},\"capacity\":{},\"dropped\":{},\"counts\":{{",
            json::bool_str(w.on()),
            w.interval_ms,
            c.capacity,
            c.dropped
        )?;
        for (i, (k, n)) in Kind::ALL.iter().zip(c.counts.iter()).enumerate() {
            write!(f, "{}\"{}\":{n}", if i == 0 { "" } else { "," }, k.name())?;
        }
        f.write_str("},\"previous\":[")?;
        if let Some(prev) = w.previous() {
            write_previous_json(f, &prev, w)?;
        }
        f.write_str("],\"events\":[")?;
        let clock = Clock::now();
        for (i, e) in c.events.iter().enumerate() {
            if i != 0 {
                f.write_char(',')?;
            }
            let json = EventJson {
                e,
                reader,
                clock,
                report: true,
            };
            Display::fmt(&json, f)?;
        }
        f.write_str("]}\n")
    }
}

/// The `metrics` file: Prometheus text exposition format.
pub(crate) struct Metrics<'a> {
    pub(crate) watch: &'a Watch,
    pub(crate) counts: [u64; 6],
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
        let p = w.persist.as_ref();
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
        Ok(())
    }
}

/// The black box's state, as the line `status` and `events` show.
pub(crate) struct BoxStatus<'a>(pub(crate) &'a Watch);

impl Display for BoxStatus<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = self.0;
        const LOST: &str = "events do not survive a reboot";
        f.write_str("persist: ")?;
        let name = text::nul_terminated(&w.persist_name);
        let quoted = |f: &mut fmt::Formatter<'_>| {
            f.write_char('"')?;
            text::write_printable(f, name)?;
            f.write_char('"')
        };
        match (&w.persist_setup, &w.persist) {
            (Setup::On, Some(p)) => {
                f.write_str("region ")?;
                quoted(f)?;
                let c = p.counts();
                write!(
                    f,
                    ", {} KiB at {:#x}, {} slots of {} KiB: events survive a warm reboot; \
                     found {} of earlier boots or loads, {} bad records dropped, {} of another \
                     layout; {} written, {} not written, {} evicted",
                    p.size() / 1024,
                    p.phys(),
                    p.slots(),
                    persist::SLOT / 1024,
                    c.found,
                    c.bad,
                    c.other_version,
                    c.written,
                    c.failed,
                    c.evicted
                )?;
                if !p.origin.boot_known() {
                    f.write_str("; this boot's id is unknown (no /proc): an earlier load of this boot reads as an earlier boot")?;
                }
                if !w.on() {
                    f.write_str("; the watch is off: this boot's events are not recorded")?;
                }
                Ok(())
            }
            (Setup::NoRegion, _) => {
                f.write_str("no reserve_mem region ")?;
                quoted(f)?;
                write!(f, ": {LOST}")
            }
            (Setup::TooSmall(size), _) => {
                f.write_str("region ")?;
                quoted(f)?;
                write!(
                    f,
                    " is {} KiB, at least {} KiB are needed: {LOST}",
                    size / 1024,
                    persist::MIN_SLOTS * persist::SLOT / 1024
                )
            }
            (Setup::Failed(e), _) => {
                f.write_str("region ")?;
                quoted(f)?;
                write!(f, " could not be used ({e:?}): {LOST}")
            }
            _ => write!(
                f,
                "off: {LOST} (boot with reserve_mem=2M:4096:kintrospect, load with \
                 persist=kintrospect)"
            ),
        }
    }
}

/// Whether the records of `group` (one boot and load) are of this boot.
fn this_boot(w: &Watch, group: &[persist::Stored]) -> bool {
    w.persist.as_ref().is_some_and(|p| {
        p.origin.boot_known() && p.origin.boot_id == group[0].header.origin.boot_id
    })
}

/// The panic record of `group`, if that boot panicked.
fn panic_of(group: &[persist::Stored]) -> Option<&persist::Stored> {
    group
        .iter()
        .find(|r| Kind::from_code(r.header.kind) == Some(Kind::Panic))
}

/// Writes bytes this module wrote as text (checksummed records: whole `str`s).
fn write_stored(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    match core::str::from_utf8(bytes) {
        Ok(s) => f.write_str(s),
        Err(_) => text::write_printable(f, bytes),
    }
}

/// The earlier boots' events in `events`: one heading per boot and load, then its events as
/// that boot's `events` showed them.
fn write_previous(f: &mut fmt::Formatter<'_>, prev: &Previous, w: &Watch) -> fmt::Result {
    for g in prev.groups() {
        let o = g[0].header.origin;
        f.write_str("\n--- ")?;
        if this_boot(w, g) {
            f.write_str("this boot, an earlier load of kintrospect")?;
        } else if o.boot_known() {
            f.write_fmt(fmt!("previous boot {}", persist::Uuid(&o.boot_id)))?;
        } else {
            f.write_str("previous boot (its boot_id unknown)")?;
        }
        f.write_str(", kernel ")?;
        text::write_printable(f, o.release())?;
        f.write_fmt(fmt!(", booted {}", persist::Utc(o.boot_real_s)))?;
        match panic_of(g) {
            Some(p) => f.write_fmt(fmt!(
                ", panicked at {}",
                persist::Utc(p.header.last_real_ns / 1_000_000_000)
            ))?,
            None if this_boot(w, g) => f.write_str(", unloaded")?,
            None => f.write_str(", no panic recorded (rebooted, reset or hung)")?,
        }
        writeln!(f, ": {} event(s)", g.len())?;
        for r in g {
            f.write_char('\n')?;
            write_stored(f, &r.text)?;
        }
    }
    Ok(())
}

/// The earlier boots' events in `events.json`: one object per boot and load.
fn write_previous_json(f: &mut fmt::Formatter<'_>, prev: &Previous, w: &Watch) -> fmt::Result {
    for (i, g) in prev.groups().enumerate() {
        let o = g[0].header.origin;
        if i != 0 {
            f.write_char(',')?;
        }
        f.write_str("{\"boot_id\":")?;
        match o.boot_known() {
            true => f.write_fmt(fmt!("\"{}\"", persist::Uuid(&o.boot_id)))?,
            false => f.write_str("null")?,
        }
        write!(
            f,
            ",\"this_boot\":{},\"load_id\":{},\"release\":",
            json::bool_str(this_boot(w, g)),
            o.load_id
        )?;
        Display::fmt(&json::Str(o.release()), f)?;
        write!(f, ",\"boot_real_s\":{},\"panicked\":", o.boot_real_s)?;
        match panic_of(g) {
            Some(p) => write!(f, "{}", p.header.last_real_ns)?,
            None => f.write_str("null")?,
        }
        f.write_str(",\"events\":[")?;
        for (j, r) in g.iter().enumerate() {
            if j != 0 {
                f.write_char(',')?;
            }
            write_stored(f, &r.json)?;
        }
        f.write_str("]}")?;
    }
    Ok(())
}

/// The black box in `events.json`.
fn write_persist_json(f: &mut fmt::Formatter<'_>, w: &Watch) -> fmt::Result {
    let (state, p) = match (&w.persist_setup, &w.persist) {
        (Setup::On, Some(p)) => ("on", Some(p)),
        (Setup::NoRegion, _) => ("no-region", None),
        (Setup::TooSmall(_), _) => ("too-small", None),
        (Setup::Failed(_), _) => ("failed", None),
        _ => ("off", None),
    };
    write!(f, "{{\"state\":\"{state}\",\"region\":")?;
    let name = text::nul_terminated(&w.persist_name);
    match name.is_empty() {
        true => f.write_str("null")?,
        false => Display::fmt(&json::Str(name), f)?,
    }
    if let Some(p) = p {
        let c = p.counts();
        write!(
            f,
            ",\"size\":{},\"phys\":{},\"slots\":{},\"found\":{},\"bad\":{},\
             \"other_version\":{},\"written\":{},\"failed\":{},\"evicted\":{}",
            p.size(),
            p.phys(),
            p.slots(),
            c.found,
            c.bad,
            c.other_version,
            c.written,
            c.failed,
            c.evicted
        )?;
    }
    f.write_char('}')
}

/// Writes a time in ns as seconds: `12.345678901 s`.
fn write_secs(f: &mut fmt::Formatter<'_>, ns: u64) -> fmt::Result {
    write!(f, "{}.{:09} s", ns / 1_000_000_000, ns % 1_000_000_000)
}

/// A console log level.
#[derive(Clone, Copy)]
enum Level {
    Err,
    Emerg,
}

/// Prints report `r` to the console, one log line per line, [`CONSOLE_LINES`] at most; no
/// raw addresses (the console is not a `%pK` reader). Never allocates.
fn console_report(r: &Report, level: Level) {
    let mut out = Console {
        line: LineBuf::new(),
        level,
        lines: 0,
    };
    let reader = Reader {
        raw_addresses: false,
    };
    if out.write_fmt(fmt!("{}", report::Text(r, reader))).is_err() {
        out.print(b"... (cut: see the events file if it can be read)");
    } else if out.line.len != 0 {
        let line = out.line;
        out.print(line.bytes());
    }
}

/// A line being formatted, cut at its room.
#[derive(Clone, Copy)]
struct LineBuf {
    buf: [u8; 160],
    len: usize,
}

impl LineBuf {
    const fn new() -> Self {
        Self {
            buf: [0; 160],
            len: 0,
        }
    }

    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    fn as_str(&self) -> &str {
        // Only whole `str`s are ever written; a cut one is cut at a char boundary.
        core::str::from_utf8(self.bytes()).unwrap_or("?")
    }
}

impl Write for LineBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            let mut b = [0; 4];
            let b = c.encode_utf8(&mut b).as_bytes();
            if self.len + b.len() > self.buf.len() {
                break;
            }
            self.buf[self.len..self.len + b.len()].copy_from_slice(b);
            self.len += b.len();
        }
        Ok(())
    }
}

/// The console as a [`Write`]: each line is one log line.
struct Console {
    line: LineBuf,
    level: Level,
    lines: u32,
}

impl Console {
    /// Prints one line; an empty one (a separator in the files) is left out.
    fn print(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let s = core::str::from_utf8(bytes).unwrap_or("?");
        match self.level {
            Level::Err => pr_err!("{s}\n"),
            Level::Emerg => pr_emerg!("{s}\n"),
        }
        self.lines += 1;
    }
}

impl Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for part in s.split_inclusive('\n') {
            let (text, end) = match part.strip_suffix('\n') {
                Some(t) => (t, true),
                None => (part, false),
            };
            self.line.write_str(text)?;
            if end {
                if self.lines >= CONSOLE_LINES {
                    return Err(fmt::Error);
                }
                let line = self.line;
                self.print(line.bytes());
                self.line = LineBuf::new();
            }
        }
        Ok(())
    }
}

#[cfg(kintrospect_kunit)]
#[kernel::macros::kunit_tests(kintrospect_watch_console)]
mod tests {
    use super::*;

    /// Issue 17 item 5: an oops storm printed the whole report for every oops; now one full
    /// report goes to the console per log window, whatever the number of oopses in it.
    #[test]
    fn one_console_report_per_window() -> Result {
        let mut ring = Ring::new(4)?;
        let s = 1_000_000_000;
        assert!(ring.console_report(3 * s));
        for t in [3 * s, 4 * s, 12 * s] {
            assert!(!ring.console_report(t));
        }
        assert!(ring.console_report(13 * s));
        assert!(!ring.console_report(13 * s + 1));
        Ok(())
    }
}
