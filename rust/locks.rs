// SPDX-License-Identifier: GPL-2.0

//! Lock-holder reports: the `locks` and `locks.json` files.
//!
//! A snapshot walks every thread (in C, `rust/c/locks.c`) and keeps those that hold or wait for
//! a lock; here the waits-for graph is built, its cycles (deadlocks) found, and the result kept
//! until the next snapshot and formatted when a file is read.

mod format;
mod graph;

use graph::Graph;

pub(crate) use format::{
    blocked_name,
    held_name,
    kind_name,
    site,
    state_char,
    write_blocked,
    write_cycles,
    write_held_json,
    write_held_text,
    write_task_state,
    Json,
    Text, //
};

use crate::bridge::{
    self,
    LockFlag,
    RawHeld,
    RawLocksInfo,
    RawTask, //
};
use kernel::{
    alloc::KVVec,
    prelude::*, //
};

/// Threads recorded per snapshot at first; four times more on a retry when that was too few.
const FIRST_TASKS: usize = 256;
/// Threads recorded per snapshot at most; the rest are counted as dropped.
const MAX_TASKS: usize = 4096;
/// Held-lock records per snapshot at first, all threads together.
const FIRST_HELD: usize = 1024;
/// Held-lock records per snapshot at most.
const MAX_HELD: usize = 16384;
/// Threads of candidate cycles read again per snapshot at most; cycles beyond stay possible.
const MAX_CONFIRM: usize = 256;

/// One locks snapshot: the walk's records and what was built from them. The buffers are
/// reused by a later snapshot.
pub(crate) struct Snapshot {
    pub(crate) seq: u64,
    pub(crate) info: RawLocksInfo,
    /// Room for the walk's thread records; the first `info.nr_tasks` are this snapshot's.
    tasks: KVVec<RawTask>,
    /// Room for the walk's held-lock records; the first `info.nr_held` are this snapshot's.
    held: KVVec<RawHeld>,
    /// Index of each thread's first held-lock record in `held`.
    first_held: KVVec<usize>,
    /// The waits-for graph and its cycles.
    pub(crate) graph: Graph,
}

impl Snapshot {
    /// An empty snapshot with no room.
    pub(crate) const fn new() -> Self {
        Self {
            seq: 0,
            info: RawLocksInfo {
                taken_ns: 0,
                lockdep: 0,
                lockdep_off: 0,
                nr_threads: 0,
                nr_tasks: 0,
                nr_held: 0,
                tasks_dropped: 0,
                held_dropped: 0,
                pad: 0,
            },
            tasks: KVVec::new(),
            held: KVVec::new(),
            first_held: KVVec::new(),
            graph: Graph::new(),
        }
    }

    /// The threads of this snapshot.
    pub(crate) fn tasks(&self) -> &[RawTask] {
        let n = (self.info.nr_tasks as usize).min(self.tasks.len());
        &self.tasks[..n]
    }

    /// Makes room for at least `tasks` thread and `held` held-lock records.
    fn reserve(&mut self, tasks: usize, held: usize) -> Result {
        if self.tasks.len() < tasks {
            self.tasks.resize(tasks, RawTask::zeroed(), GFP_KERNEL)?;
        }
        if self.held.len() < held {
            self.held.resize(held, RawHeld::zeroed(), GFP_KERNEL)?;
        }
        Ok(())
    }

    /// Takes the records of a walk: walks again with four times more room while records were
    /// dropped, up to [`MAX_TASKS`] and [`MAX_HELD`].
    fn collect(&mut self) -> Result {
        self.reserve(FIRST_TASKS, FIRST_HELD)?;
        self.info = loop {
            let info = bridge::collect_locks(&mut self.tasks, &mut self.held)?;
            let full = info.tasks_dropped != 0 || info.held_dropped != 0;
            let (nt, nh) = (self.tasks.len(), self.held.len());
            if !full || (nt >= MAX_TASKS && nh >= MAX_HELD) {
                break info;
            }
            self.reserve((nt * 4).min(MAX_TASKS), (nh * 4).min(MAX_HELD))?;
        };
        Ok(())
    }

    /// Builds the report from the collected records: the held locks of each thread, the
    /// waits-for graph, and which of its cycles are confirmed deadlocks.
    fn build(&mut self, confirm: impl FnOnce(&[RawTask], &[u32], &mut [u8]) -> Result) -> Result {
        let nt = (self.info.nr_tasks as usize).min(self.tasks.len());
        let nh = (self.info.nr_held as usize).min(self.held.len());
        self.info.nr_tasks = nt as u32;
        self.info.nr_held = nh as u32;
        let tasks = &self.tasks[..nt];
        self.first_held.clear();
        let mut n = 0usize;
        for t in tasks {
            self.first_held.push(n, GFP_KERNEL)?;
            n += t.nr_held as usize;
        }
        if n != nh {
            return Err(EINVAL);
        }
        self.graph.build(
            nt,
            |i| tasks[i].pid,
            |i| match tasks[i].blocked() {
                Some(_) => tasks[i].blocked_owner_pid,
                None => -1,
            },
            |i| tasks[i].blocked_flags.contains(LockFlag::OwnerHint),
        )?;
        let mut which = KVVec::new();
        self.graph.to_confirm(&mut which)?;
        which.truncate(MAX_CONFIRM);
        let mut ok = KVVec::from_elem(0u8, which.len(), GFP_KERNEL)?;
        if !which.is_empty() {
            confirm(tasks, &which, &mut ok)?;
        }
        self.graph.confirm(|i| {
            which
                .iter()
                .position(|&w| w as usize == i)
                .is_some_and(|k| ok[k] != 0)
        })
    }

    /// Replaces the report with one built from collected records (unit tests).
    #[cfg(kintrospect_kunit)]
    pub(crate) fn fill(
        &mut self,
        seq: u64,
        info: RawLocksInfo,
        tasks: &[RawTask],
        held: &[RawHeld],
        confirmed: bool,
    ) -> Result {
        self.seq = seq;
        self.info = info;
        self.info.nr_tasks = tasks.len() as u32;
        self.info.nr_held = held.len() as u32;
        self.tasks.clear();
        self.tasks.extend_from_slice(tasks, GFP_KERNEL)?;
        self.held.clear();
        self.held.extend_from_slice(held, GFP_KERNEL)?;
        self.build(|_, _, ok| {
            ok.fill(u8::from(confirmed));
            Ok(())
        })
    }

    /// The locks thread `i` holds.
    pub(crate) fn held_by(&self, i: usize) -> &[RawHeld] {
        let start = self.first_held.get(i).copied().unwrap_or(0);
        let n = self.tasks().get(i).map_or(0, |t| t.nr_held as usize);
        let nh = (self.info.nr_held as usize).min(self.held.len());
        self.held[..nh].get(start..start + n).unwrap_or(&[])
    }

    /// Whether thread `i` is part of a confirmed deadlock.
    pub(crate) fn in_cycle(&self, i: usize) -> bool {
        self.graph.cycles.iter().any(|c| c.contains(&i))
    }

    /// Whether thread `i` is part of a possible deadlock.
    pub(crate) fn in_possible_cycle(&self, i: usize) -> bool {
        self.graph.possible.iter().any(|c| c.contains(&i))
    }

    /// Makes this snapshot a copy of `other` (the report keeps its own, so that a later
    /// `snapshot locks` does not change it).
    pub(crate) fn copy_from(&mut self, other: &Snapshot) -> Result {
        let nh = (other.info.nr_held as usize).min(other.held.len());
        self.seq = other.seq;
        self.info = other.info;
        self.tasks.clear();
        self.tasks.extend_from_slice(other.tasks(), GFP_KERNEL)?;
        self.held.clear();
        self.held.extend_from_slice(&other.held[..nh], GFP_KERNEL)?;
        self.first_held.clear();
        self.first_held
            .extend_from_slice(&other.first_held, GFP_KERNEL)?;
        self.graph.copy_from(&other.graph)
    }

    /// Forgets that thread `i` waits for a lock: its edge, and every cycle through it. The
    /// report does this for a running thread whose NMI, which reads its lockdep stack
    /// reliably, disagrees with the walk, which read it from another CPU.
    pub(crate) fn forget_wait(&mut self, i: usize) {
        let n = (self.info.nr_tasks as usize).min(self.tasks.len());
        if let Some(t) = self.tasks[..n].get_mut(i) {
            t.blocked_kind = 0;
            t.blocked_map = 0;
            t.blocked_ns = 0;
            self.graph.forget(i);
        }
    }

    /// Threads blocked on a lock for at least `ns`, as far as known.
    pub(crate) fn blocked_at_least(&self, ns: u64) -> usize {
        self.tasks()
            .iter()
            .filter(|t| t.blocked().is_some() && t.blocked_ns >= ns)
            .count()
    }

    /// Bytes of this snapshot's buffers.
    pub(crate) fn memory(&self) -> usize {
        self.tasks.len() * core::mem::size_of::<RawTask>()
            + self.held.len() * core::mem::size_of::<RawHeld>()
    }
}

/// What a snapshot found.
#[derive(Clone, Copy, Default)]
pub(crate) struct Found {
    /// Confirmed deadlocks.
    pub(crate) deadlocks: usize,
    /// Cycles through a hint or not confirmed.
    pub(crate) possible: usize,
}

/// The latest locks snapshot, a scratch one the next snapshot is built in, and the sequence
/// number of the next one.
pub(crate) struct State {
    /// The latest snapshot, if `taken`.
    snap: Snapshot,
    /// Where the next snapshot is built; swapped with `snap` only when complete, so that a
    /// failure (an allocation) keeps the previous report.
    scratch: Snapshot,
    taken: bool,
    next_seq: u64,
}

impl State {
    /// No snapshot yet.
    pub(crate) fn new() -> Result<Self> {
        Ok(Self {
            snap: Snapshot::new(),
            scratch: Snapshot::new(),
            taken: false,
            next_seq: 1,
        })
    }

    /// Takes a snapshot and keeps it as the latest; returns what it found. Process context.
    pub(crate) fn snapshot(&mut self) -> Result<Found> {
        let s = &mut self.scratch;
        s.collect()?;
        s.build(bridge::confirm_edges)?;
        s.seq = self.next_seq;
        core::mem::swap(&mut self.snap, &mut self.scratch);
        self.taken = true;
        self.next_seq += 1;
        Ok(Found {
            deadlocks: self.snap.graph.cycles.len(),
            possible: self.snap.graph.possible.len(),
        })
    }

    /// The latest snapshot.
    pub(crate) fn latest(&self) -> Option<&Snapshot> {
        self.taken.then_some(&self.snap)
    }

    /// Bytes of the snapshots' buffers.
    pub(crate) fn memory(&self) -> usize {
        self.snap.memory() + self.scratch.memory()
    }
}

#[cfg(kintrospect_kunit)]
#[kernel::macros::kunit_tests(kintrospect_locks_collect)]
mod tests {
    use super::*;
    use kernel::new_mutex;

    /// L1: a holder whose locks find no room left is counted as dropped, never silently
    /// left out (the walk then retries with more room).
    #[test]
    fn a_holder_without_room_is_counted() -> Result {
        let m = KBox::pin_init(new_mutex!(0u32, "kintrospect_test_l1"), GFP_KERNEL)?;
        let _held = m.lock();
        let mut tasks = KVVec::from_elem(RawTask::zeroed(), 64, GFP_KERNEL)?;
        // No room for any held lock: the buffer is "exactly full" before the first holder.
        let info = bridge::collect_locks(&mut tasks, &mut [])?;
        // With lockdep off (a selftest turns it off) nothing is held on record.
        if info.lockdep_off != 0 {
            return Ok(());
        }
        assert_eq!(info.nr_held, 0);
        assert!(info.tasks_dropped >= 1);
        assert!(info.held_dropped >= 1);
        Ok(())
    }

    /// L1: the snapshot grows its room and records every holder, the caller among them.
    #[test]
    fn a_snapshot_records_its_caller() -> Result {
        let m = KBox::pin_init(new_mutex!(0u32, "kintrospect_test_l1"), GFP_KERNEL)?;
        let _held = m.lock();
        let mut s = Snapshot::new();
        s.reserve(1, 1)?;
        s.collect()?;
        if s.info.lockdep_off != 0 {
            return Ok(());
        }
        s.build(bridge::confirm_edges)?;
        let me = kernel::current!().pid();
        let i = s.tasks().iter().position(|t| t.pid == me).ok_or(ENOENT)?;
        assert!(s
            .held_by(i)
            .iter()
            .any(|h| crate::text::nul_terminated(&h.name) == b"kintrospect_test_l1"));
        Ok(())
    }
}
