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
    Json,
    Text, //
};

use crate::bridge::{
    self,
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

/// One locks snapshot; its buffers are reused by the next one.
pub(crate) struct Snapshot {
    pub(crate) seq: u64,
    pub(crate) info: RawLocksInfo,
    pub(crate) tasks: KVec<RawTask>,
    pub(crate) held: KVec<RawHeld>,
    /// Index of each thread's first held-lock record in `held`.
    first_held: KVec<usize>,
    /// The waits-for graph and its cycles (deadlocks).
    pub(crate) graph: Graph,
}

impl Snapshot {
    /// An empty snapshot.
    pub(crate) const fn new() -> Self {
        Self {
            seq: 0,
            info: RawLocksInfo {
                taken_ns: 0,
                lockdep: 0,
                nr_threads: 0,
                nr_tasks: 0,
                nr_held: 0,
                tasks_dropped: 0,
                held_dropped: 0,
            },
            tasks: KVec::new(),
            held: KVec::new(),
            first_held: KVec::new(),
            graph: Graph::new(),
        }
    }

    /// Replaces the report with one built from collected records.
    pub(crate) fn fill(
        &mut self,
        seq: u64,
        info: RawLocksInfo,
        tasks: &[RawTask],
        held: &[RawHeld],
    ) -> Result {
        self.seq = seq;
        self.info = info;
        self.tasks.clear();
        self.tasks.extend_from_slice(tasks, GFP_KERNEL)?;
        self.held.clear();
        self.held.extend_from_slice(held, GFP_KERNEL)?;
        self.first_held.clear();
        let mut n = 0usize;
        for t in tasks {
            self.first_held.push(n, GFP_KERNEL)?;
            n += t.nr_held as usize;
        }
        self.graph.build(
            tasks.len(),
            |i| tasks[i].pid,
            |i| match tasks[i].blocked_kind {
                0 => -1,
                _ => tasks[i].blocked_owner_pid,
            },
        )
    }

    /// The locks thread `i` holds.
    pub(crate) fn held_by(&self, i: usize) -> &[RawHeld] {
        let start = self.first_held.get(i).copied().unwrap_or(0);
        let n = self.tasks.get(i).map_or(0, |t| t.nr_held as usize);
        self.held.get(start..start + n).unwrap_or(&[])
    }

    /// Whether thread `i` is part of a deadlock.
    pub(crate) fn in_cycle(&self, i: usize) -> bool {
        self.graph.cycles.iter().any(|c| c.contains(&i))
    }
}

/// The latest locks snapshot, the sequence number of the next one, and the buffers the walk
/// fills (kept from one snapshot to the next, grown when they were too small).
pub(crate) struct State {
    /// The latest snapshot, if one was taken (and its building did not fail).
    snap: Snapshot,
    taken: bool,
    next_seq: u64,
    tasks: KVVec<RawTask>,
    held: KVVec<RawHeld>,
}

impl State {
    /// No snapshot yet; buffers for a typical system.
    pub(crate) fn new() -> Result<Self> {
        Ok(Self {
            snap: Snapshot::new(),
            taken: false,
            next_seq: 1,
            tasks: KVVec::from_elem(RawTask::ZERO, FIRST_TASKS, GFP_KERNEL)?,
            held: KVVec::from_elem(RawHeld::ZERO, FIRST_HELD, GFP_KERNEL)?,
        })
    }

    /// Takes a snapshot and keeps it as the latest; returns its number of cycles. Process
    /// context.
    ///
    /// When records were dropped, the buffers grow four times, up to [`MAX_TASKS`] and
    /// [`MAX_HELD`], and the walk is repeated.
    pub(crate) fn snapshot(&mut self) -> Result<usize> {
        let info = loop {
            let info = bridge::collect_locks(&mut self.tasks, &mut self.held)?;
            let full = info.tasks_dropped != 0 || info.held_dropped != 0;
            let (nt, nh) = (self.tasks.len(), self.held.len());
            if !full || (nt >= MAX_TASKS && nh >= MAX_HELD) {
                break info;
            }
            self.tasks
                .resize((nt * 4).min(MAX_TASKS), RawTask::ZERO, GFP_KERNEL)?;
            self.held
                .resize((nh * 4).min(MAX_HELD), RawHeld::ZERO, GFP_KERNEL)?;
        };
        let nt = info.nr_tasks as usize;
        let nh = info.nr_held as usize;
        // A half-built report is never shown.
        self.taken = false;
        self.snap
            .fill(self.next_seq, info, &self.tasks[..nt], &self.held[..nh])?;
        self.taken = true;
        self.next_seq += 1;
        Ok(self.snap.graph.cycles.len())
    }

    /// The latest snapshot.
    pub(crate) fn latest(&self) -> Option<&Snapshot> {
        self.taken.then_some(&self.snap)
    }

    /// Bytes of the walk's buffers (the report's own copies come on top).
    pub(crate) fn memory(&self) -> usize {
        self.tasks.len() * core::mem::size_of::<RawTask>()
            + self.held.len() * core::mem::size_of::<RawHeld>()
    }
}
