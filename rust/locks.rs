// SPDX-License-Identifier: GPL-2.0

//! Lock-holder reports: the `locks` and `locks.json` files.
//!
//! A snapshot walks every thread (in C, `rust/c/locks.c`) and keeps those that hold or wait for
//! a lock; here the waits-for graph is built, its cycles (deadlocks) found, and the result kept
//! until the next snapshot and formatted when a file is read.

mod format;
mod graph;

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
use kernel::prelude::*;

/// Threads recorded per snapshot at most; the rest are counted as dropped.
const MAX_TASKS: usize = 2048;
/// Held-lock records per snapshot at most, all threads together.
const MAX_HELD: usize = 8192;

/// One locks snapshot.
pub(crate) struct Snapshot {
    pub(crate) seq: u64,
    pub(crate) info: RawLocksInfo,
    pub(crate) tasks: KVec<RawTask>,
    pub(crate) held: KVec<RawHeld>,
    /// Index of each thread's first held-lock record in `held`.
    first_held: KVec<usize>,
    /// For each thread, the thread that owns what it waits for, if known.
    pub(crate) next: KVec<Option<usize>>,
    /// Deadlocks: cycles of the waits-for graph, as thread indexes.
    pub(crate) cycles: KVec<KVec<usize>>,
}

impl Snapshot {
    /// Walks the threads and builds the report; process context.
    pub(crate) fn take(seq: u64) -> Result<Self> {
        let (info, tasks, held) = bridge::collect_locks(MAX_TASKS, MAX_HELD)?;
        Self::from_parts(seq, info, tasks, held)
    }

    /// Builds the report from collected records.
    pub(crate) fn from_parts(
        seq: u64,
        info: RawLocksInfo,
        tasks: KVec<RawTask>,
        held: KVec<RawHeld>,
    ) -> Result<Self> {
        let mut first_held = KVec::with_capacity(tasks.len(), GFP_KERNEL)?;
        let mut pids = KVec::with_capacity(tasks.len(), GFP_KERNEL)?;
        let mut owner_pids = KVec::with_capacity(tasks.len(), GFP_KERNEL)?;
        let mut n = 0usize;
        for t in tasks.iter() {
            first_held.push(n, GFP_KERNEL)?;
            n += t.nr_held as usize;
            pids.push(t.pid, GFP_KERNEL)?;
            let blocked = t.blocked_kind != 0;
            owner_pids.push(if blocked { t.blocked_owner_pid } else { -1 }, GFP_KERNEL)?;
        }
        let next = graph::owners(&pids, &owner_pids)?;
        let cycles = graph::cycles(&next)?;
        Ok(Self {
            seq,
            info,
            tasks,
            held,
            first_held,
            next,
            cycles,
        })
    }

    /// The locks thread `i` holds.
    pub(crate) fn held_by(&self, i: usize) -> &[RawHeld] {
        let start = self.first_held.get(i).copied().unwrap_or(0);
        let n = self.tasks.get(i).map_or(0, |t| t.nr_held as usize);
        self.held.get(start..start + n).unwrap_or(&[])
    }

    /// Whether thread `i` is part of a deadlock.
    pub(crate) fn in_cycle(&self, i: usize) -> bool {
        self.cycles.iter().any(|c| c.contains(&i))
    }
}

/// The latest locks snapshot and the sequence number of the next one.
pub(crate) struct State {
    pub(crate) latest: Option<Snapshot>,
    next_seq: u64,
}

impl State {
    /// No snapshot yet.
    pub(crate) const fn new() -> Self {
        Self {
            latest: None,
            next_seq: 1,
        }
    }

    /// Takes a snapshot and keeps it as the latest; returns its number of cycles.
    pub(crate) fn snapshot(&mut self) -> Result<usize> {
        let snap = Snapshot::take(self.next_seq)?;
        self.next_seq += 1;
        let cycles = snap.cycles.len();
        self.latest = Some(snap);
        Ok(cycles)
    }
}
