// SPDX-License-Identifier: GPL-2.0

//! The watch's events: what made one ([`Kind`]), what it is about ([`Subject`]), and how a
//! later sample of the same incident updates it instead of making a new one.

use crate::{
    bridge,
    report::Report, //
};
use kernel::sync::Arc;

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

/// New events per kind, in the order of [`Kind::ALL`].
pub(crate) type Counts = [u64; Kind::ALL.len()];

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

    /// Its place in [`Kind::ALL`] (and in [`Counts`]).
    pub(crate) fn index(self) -> usize {
        Kind::ALL.iter().position(|k| *k == self).unwrap_or(0)
    }

    /// Its code in a persisted record: its place in [`Kind::ALL`], from 1.
    pub(crate) fn code(self) -> u16 {
        self.index() as u16 + 1
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
    pub(crate) fn cycle(pids: impl Iterator<Item = i32>) -> Self {
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
    pub(crate) fn memory(&self) -> usize {
        self.report.as_ref().map_or(0, |r| r.memory())
    }

    /// Whether `newer` is a later sample of this event's incident: the same kind and subject,
    /// a subject that can be seen again.
    pub(crate) fn same_incident(&self, newer: &Event) -> bool {
        newer.subject != Subject::Once && self.kind == newer.kind && self.subject == newer.subject
    }

    /// Updates this event with `newer`, of the same incident: its time and its report, one
    /// more update. Returns `newer` holding the replaced report, to be dropped by the caller
    /// (outside a lock).
    pub(crate) fn update(&mut self, mut newer: Event) -> Event {
        self.taken_ns = newer.taken_ns;
        self.updates = self.updates.saturating_add(1);
        core::mem::swap(&mut self.report, &mut newer.report);
        newer
    }
}

#[cfg(kintrospect_kunit)]
#[kernel::macros::kunit_tests(kintrospect_watch_event)]
mod tests {
    use super::*;
    use kernel::prelude::*;

    const S: u64 = 1_000_000_000;

    /// A report numbered `seq`, to tell reports apart.
    fn report(seq: u64) -> Result<Arc<Report>> {
        let mut r = Report::new();
        r.seq = seq;
        Ok(Arc::new(r, GFP_KERNEL)?)
    }

    fn stuck(cpu: u32, pid: i32, since_ns: u64) -> Subject {
        Subject::Cpu { cpu, pid, since_ns }
    }

    /// The same subject is one incident: the update takes the newer time and report, counts
    /// one update, and keeps the first time; the old report comes back to be dropped.
    #[test]
    fn same_subject_updates() -> Result {
        let mut kept = Event::new(Kind::StuckCpu, stuck(1, 42, S), 2 * S, Some(report(1)?));
        kept.seq = 7;
        let newer = Event::new(Kind::StuckCpu, stuck(1, 42, S), 3 * S, Some(report(2)?));
        assert!(kept.same_incident(&newer));
        let old = kept.update(newer);
        assert_eq!(kept.seq, 7);
        assert_eq!(kept.first_ns, 2 * S);
        assert_eq!(kept.taken_ns, 3 * S);
        assert_eq!(kept.updates, 1);
        assert_eq!(kept.report.as_ref().map(|r| r.seq), Some(2));
        assert_eq!(old.report.as_ref().map(|r| r.seq), Some(1));
        let newer = Event::new(Kind::StuckCpu, stuck(1, 42, S), 4 * S, None);
        let old = kept.update(newer);
        assert_eq!(kept.updates, 2);
        assert!(kept.report.is_none());
        assert_eq!(old.report.as_ref().map(|r| r.seq), Some(2));
        Ok(())
    }

    /// Another CPU, task or start on the CPU, another kind, or a subject seen once: a new
    /// incident.
    #[test]
    fn different_subjects_are_new() {
        let kept = Event::new(Kind::StuckCpu, stuck(1, 42, S), 2 * S, None);
        for subject in [stuck(2, 42, S), stuck(1, 43, S), stuck(1, 42, 2 * S)] {
            let newer = Event::new(Kind::StuckCpu, subject, 3 * S, None);
            assert!(!kept.same_incident(&newer));
        }
        let task = Event::new(Kind::HungTask, Subject::Task { pid: 42 }, S, None);
        assert!(task.same_incident(&Event::new(
            Kind::HungTask,
            Subject::Task { pid: 42 },
            S,
            None
        )));
        assert!(!task.same_incident(&Event::new(
            Kind::HungTask,
            Subject::Task { pid: 9 },
            S,
            None
        )));
        assert!(!task.same_incident(&Event::new(
            Kind::Deadlock,
            Subject::Task { pid: 42 },
            S,
            None
        )));
        let once = Event::new(Kind::Oops, Subject::Once, S, None);
        assert!(!once.same_incident(&Event::new(Kind::Oops, Subject::Once, S, None)));
    }

    /// A deadlock is the same whatever task its cycle starts from; its first [`CYCLE_PIDS`]
    /// tasks tell it apart.
    #[test]
    fn cycle_sorts_its_tasks() {
        let a = Subject::cycle([30, 10, 20].into_iter());
        assert_eq!(a, Subject::cycle([10, 20, 30].into_iter()));
        assert_eq!(
            a,
            Subject::Cycle {
                pids: [10, 20, 30, 0, 0, 0, 0, 0],
                n: 3
            }
        );
        assert_ne!(a, Subject::cycle([10, 20].into_iter()));
        assert_ne!(a, Subject::cycle([10, 20, 31].into_iter()));
        let long = Subject::cycle((1..=10).rev());
        assert_eq!(
            long,
            Subject::Cycle {
                pids: [3, 4, 5, 6, 7, 8, 9, 10],
                n: CYCLE_PIDS
            }
        );
    }

    /// A persisted record's kind code reads back as the same kind; 0 and unknown codes are
    /// none.
    #[test]
    fn kind_codes_round_trip() {
        for (i, k) in Kind::ALL.iter().enumerate() {
            assert_eq!(k.index(), i);
            assert_eq!(Kind::from_code(k.code()), Some(*k));
        }
        assert_eq!(Kind::from_code(0), None);
        assert_eq!(Kind::from_code(Kind::ALL.len() as u16 + 1), None);
    }
}
