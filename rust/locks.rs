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
    /// Builds the report from collected records.
    pub(crate) fn from_parts(
        seq: u64,
        info: RawLocksInfo,
        tasks: &[RawTask],
        held: &[RawHeld],
    ) -> Result<Self> {
        // Exact-size copies: the snapshot is kept until the next one.
        let mut copy = KVec::with_capacity(tasks.len(), GFP_KERNEL)?;
        copy.extend_from_slice(tasks, GFP_KERNEL)?;
        let tasks = copy;
        let mut copy = KVec::with_capacity(held.len(), GFP_KERNEL)?;
        copy.extend_from_slice(held, GFP_KERNEL)?;
        let held = copy;
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

/// The latest locks snapshot, the sequence number of the next one, and the buffers the walk
/// fills (kept from one snapshot to the next, grown when they were too small).
pub(crate) struct State {
    pub(crate) latest: Option<Snapshot>,
    next_seq: u64,
    tasks: KVVec<RawTask>,
    held: KVVec<RawHeld>,
}

impl State {
    /// No snapshot yet; buffers for a typical system.
    pub(crate) fn new() -> Result<Self> {
        Ok(Self {
            latest: None,
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
        let snap = Snapshot::from_parts(self.next_seq, info, &self.tasks[..nt], &self.held[..nh])?;
        self.next_seq += 1;
        let cycles = snap.cycles.len();
        self.latest = Some(snap);
        Ok(cycles)
    }

    /// Bytes of the walk's buffers.
    pub(crate) fn memory(&self) -> usize {
        self.tasks.len() * core::mem::size_of::<RawTask>()
            + self.held.len() * core::mem::size_of::<RawHeld>()
    }
}
