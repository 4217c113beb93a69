// SPDX-License-Identifier: GPL-2.0

//! The ring of events: a new event drops the oldest when full (one more place is kept for a
//! panic), a later sample of a kept incident updates it, and new events are logged at most
//! [`LOG_BURST`] per [`LOG_WINDOW_NS`].

use super::event::{
    Counts,
    Event,
    Kind, //
};
use kernel::prelude::*;

/// New events logged per window at most; the rest are counted in `status` only.
const LOG_BURST: u32 = 5;
/// The log window.
const LOG_WINDOW_NS: u64 = 10_000_000_000;

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
    pub(super) events: KVec<Event>,
    /// Events kept at most (`watch_events`); one more room is reserved for a panic.
    pub(super) capacity: usize,
    pub(super) dropped: u64,
    next_seq: u64,
    /// New events per [`Kind::ALL`].
    pub(super) counts: Counts,
    /// New events not logged (rate limit).
    pub(super) unlogged: u64,
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
            counts: [0; Kind::ALL.len()],
            unlogged: 0,
            log_window_ns: 0,
            logged: 0,
            reported_ns: None,
        })
    }

    /// Whether an oops's full report may go to the console at `now`: once per
    /// [`LOG_WINDOW_NS`], which then starts.
    pub(super) fn console_report(&mut self, now: u64) -> bool {
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
        if let Some(k) = self.events.iter_mut().find(|k| k.same_incident(&e)) {
            *old = Some(k.update(e));
            return Recorded::Updated { seq: k.seq };
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
        self.counts[kind.index()] += 1;
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
    pub(super) fn get(&self, seq: u64) -> Option<Event> {
        self.events.iter().find(|e| e.seq == seq).cloned()
    }
}

#[cfg(kintrospect_kunit)]
#[kernel::macros::kunit_tests(kintrospect_watch_ring)]
mod tests {
    use super::*;
    use crate::watch::Subject;

    const S: u64 = 1_000_000_000;

    /// A new event of `kind` at `now`, never the same incident as another.
    fn once(kind: Kind, now: u64) -> Event {
        Event::new(kind, Subject::Once, now, None)
    }

    /// Records `e`, dropping what it gives back; returns what recording did.
    fn record(ring: &mut Ring, e: Event) -> Recorded {
        let mut old = None;
        ring.record(e, &mut old)
    }

    /// The sequence numbers kept, oldest first.
    fn seqs(ring: &Ring) -> Result<KVec<u64>> {
        let mut v = KVec::new();
        for e in ring.events.iter() {
            v.push(e.seq, GFP_KERNEL)?;
        }
        Ok(v)
    }

    /// A full ring drops its oldest event for a new one, counts it and returns its number
    /// (the black box clears it); numbers go on from where they were.
    #[test]
    fn full_ring_drops_the_oldest() -> Result {
        let mut ring = Ring::new(3)?;
        assert!(matches!(
            record(&mut ring, once(Kind::Sysrq, S)),
            Recorded::New {
                seq: 1,
                dropped: None,
                ..
            }
        ));
        record(&mut ring, once(Kind::Sysrq, 2 * S));
        record(&mut ring, once(Kind::Sysrq, 3 * S));
        assert_eq!(&seqs(&ring)?[..], &[1, 2, 3]);
        assert_eq!(ring.dropped, 0);
        let mut old = None;
        assert!(matches!(
            ring.record(once(Kind::Oops, 4 * S), &mut old),
            Recorded::New {
                seq: 4,
                dropped: Some(1),
                ..
            }
        ));
        assert_eq!(old.map(|o| o.seq), Some(1));
        assert_eq!(ring.dropped, 1);
        assert_eq!(&seqs(&ring)?[..], &[2, 3, 4]);
        assert_eq!(ring.counts, [0, 0, 0, 3, 1, 0]);
        Ok(())
    }

    /// A full ring keeps its one reserved place for a panic, which drops nothing and is the
    /// last event; a second one finds no room and is counted as dropped.
    #[test]
    fn panic_takes_the_reserved_place() -> Result {
        let mut ring = Ring::new(2)?;
        record(&mut ring, once(Kind::Sysrq, S));
        record(&mut ring, once(Kind::Sysrq, 2 * S));
        assert!(matches!(
            record(&mut ring, once(Kind::Panic, 3 * S)),
            Recorded::New {
                seq: 3,
                dropped: None,
                ..
            }
        ));
        assert_eq!(&seqs(&ring)?[..], &[1, 2, 3]);
        assert_eq!(ring.dropped, 0);
        let mut old = None;
        assert!(matches!(
            ring.record(once(Kind::Panic, 4 * S), &mut old),
            Recorded::Nothing
        ));
        assert_eq!(old.map(|o| o.kind), Some(Kind::Panic));
        assert_eq!(ring.dropped, 1);
        assert_eq!(&seqs(&ring)?[..], &[1, 2, 3]);
        assert_eq!(ring.counts[Kind::Panic.index()], 1);
        Ok(())
    }

    /// A kept incident seen again is updated in place: no new number, no count, no log.
    #[test]
    fn same_incident_is_updated() -> Result {
        let mut ring = Ring::new(4)?;
        let task = |now| Event::new(Kind::HungTask, Subject::Task { pid: 42 }, now, None);
        record(&mut ring, task(S));
        record(&mut ring, once(Kind::Sysrq, 2 * S));
        assert!(matches!(
            record(&mut ring, task(3 * S)),
            Recorded::Updated { seq: 1 }
        ));
        assert_eq!(&seqs(&ring)?[..], &[1, 2]);
        assert_eq!(ring.events[0].updates, 1);
        assert_eq!(ring.events[0].taken_ns, 3 * S);
        assert_eq!(ring.counts[Kind::HungTask.index()], 1);
        let other = Event::new(Kind::HungTask, Subject::Task { pid: 43 }, 4 * S, None);
        assert!(matches!(
            record(&mut ring, other),
            Recorded::New { seq: 3, .. }
        ));
        Ok(())
    }

    /// [`LOG_BURST`] new events per window are logged, the rest counted; a new window logs
    /// again.
    #[test]
    fn log_rate_limit() -> Result {
        let mut ring = Ring::new(16)?;
        let mut logged = 0;
        for i in 0..8 {
            if let Recorded::New { log: true, .. } = record(&mut ring, once(Kind::Oops, S + i)) {
                logged += 1;
            }
        }
        assert_eq!(logged, LOG_BURST);
        assert_eq!(ring.unlogged, 8 - u64::from(LOG_BURST));
        let later = S + LOG_WINDOW_NS;
        assert!(matches!(
            record(&mut ring, once(Kind::Oops, later)),
            Recorded::New { log: true, .. }
        ));
        Ok(())
    }

    /// Issue 17 item 5: an oops storm printed the whole report for every oops; now one full
    /// report goes to the console per log window, whatever the number of oopses in it.
    #[test]
    fn one_console_report_per_window() -> Result {
        let mut ring = Ring::new(4)?;
        assert!(ring.console_report(3 * S));
        for t in [3 * S, 4 * S, 12 * S] {
            assert!(!ring.console_report(t));
        }
        assert!(ring.console_report(13 * S));
        assert!(!ring.console_report(13 * S + 1));
        Ok(())
    }
}
