// SPDX-License-Identifier: GPL-2.0

//! The incident report: the `report` and `report.json` files.
//!
//! The answer to "which CPU is stuck, since when, in what, holding which lock, and who is
//! waiting behind it", joined from the other captures, in order of severity: the stuck CPUs
//! (what each runs, the locks its task held at the NMI instant, the tasks waiting for those
//! locks and the runnable tasks starved in its runqueue), the confirmed deadlocks, the blocked
//! tasks with their chain to the holder, and the slab suspects.
//!
//! `snapshot report` (and `snapshot all`) takes a CPU snapshot, a locks snapshot, a slab
//! sample and a walk of the runqueues' waiting tasks (`rust/c/runq.c`), in that order, and
//! joins them ([`join`]). The report keeps its own copy of each: a later snapshot of one kind
//! does not change it. The captures are moments apart, not one instant: the waiters come from
//! the locks snapshot taken right after the CPU snapshot.
//!
//! A CPU is *stuck* when, at the NMI, it runs a task (not idle) in kernel mode that has been
//! on it for at least `stuck_ms` without a context switch (`RawCpu::on_cpu_ns` in `cpus.rs`: a
//! lower bound from the CPU snapshots that saw it). A CPU whose task no earlier snapshot saw
//! there has no known time on CPU: it is "maybe stuck", listed apart, never as stuck; a second
//! report after `stuck_ms` tells. The task taking the report is never stuck.

mod format;
mod join;

pub(crate) use format::{
    Json,
    Text, //
};
pub(crate) use join::{
    stuck_ns,
    Stuck,
    StuckRule,
    Waiter, //
};

use crate::{
    bridge::{
        self,
        RawRunnable, //
    },
    cpus, locks,
    slab::{
        self,
        Delta, //
    },
};
use kernel::{
    alloc::KVVec,
    prelude::*,
    sync::Arc, //
};

/// Runnable tasks recorded per report at most; the rest are counted.
const MAX_RUNNABLE: usize = 1024;

/// One report: the captures it joins, its own copies, and what was joined.
pub(crate) struct Report {
    pub(crate) seq: u64,
    /// The `stuck_ms` in force when it was taken.
    pub(crate) stuck_ms: u32,
    /// The CPU snapshot (`None` only before the first report).
    pub(crate) cpus: Option<cpus::Snapshot>,
    /// A copy of the locks snapshot.
    pub(crate) locks: locks::Snapshot,
    /// The runnable tasks not on a CPU, sorted by CPU then pid.
    pub(crate) runnable: KVVec<RawRunnable>,
    pub(crate) runnable_dropped: u32,
    /// The slab sample the suspects come from (0: none since the baseline), and whether the
    /// periodic sampler feeds the trend.
    pub(crate) slab_seq: u64,
    pub(crate) slab_periodic: bool,
    pub(crate) suspects: KVec<Delta>,
    /// The stuck CPUs, longest on their task first.
    pub(crate) stuck: KVec<Stuck>,
    /// CPUs in kernel mode whose time on their task is not known yet (record indexes).
    pub(crate) maybe: KVec<usize>,
    /// CPUs that did not answer the NMI in time.
    pub(crate) no_response: KVec<u32>,
    /// The waiters of every stuck CPU, each CPU's a range of it.
    pub(crate) waiters: KVVec<Waiter>,
    /// The blocked tasks of the locks snapshot (indexes), longest waiting first.
    pub(crate) blocked: KVVec<usize>,
}

impl Report {
    /// An empty report.
    pub(crate) const fn new() -> Self {
        Self {
            seq: 0,
            stuck_ms: 0,
            cpus: None,
            locks: locks::Snapshot::new(),
            runnable: KVVec::new(),
            runnable_dropped: 0,
            slab_seq: 0,
            slab_periodic: false,
            suspects: KVec::new(),
            stuck: KVec::new(),
            maybe: KVec::new(),
            no_response: KVec::new(),
            waiters: KVVec::new(),
            blocked: KVVec::new(),
        }
    }

    /// Takes the copies the report is built from: the CPU snapshot, the locks snapshot, the
    /// slab suspects and a walk of the runnable tasks.
    fn take(&mut self, cpus: cpus::Snapshot, locks: &locks::Snapshot, slab: &slab::Slab) -> Result {
        self.cpus = Some(cpus);
        self.locks.copy_from(locks)?;
        self.slab_seq = slab.suspects(&mut self.suspects)?;
        self.slab_periodic = slab.params.interval_ms != 0;
        if self.runnable.len() < MAX_RUNNABLE {
            self.runnable
                .resize(MAX_RUNNABLE, RawRunnable::zeroed(), GFP_KERNEL)?;
        }
        let (n, dropped) = bridge::collect_runnable(&mut self.runnable)?;
        self.runnable.truncate(n);
        self.runnable_dropped = dropped;
        Ok(())
    }

    /// Bytes of this report's buffers.
    pub(crate) fn memory(&self) -> usize {
        self.cpus.as_ref().map_or(0, |c| {
            c.cpus().count() * core::mem::size_of::<bridge::RawCpu>()
        }) + self.locks.memory()
            + self.runnable.capacity() * core::mem::size_of::<RawRunnable>()
    }
}

impl Report {
    /// Builds a report from the CPU snapshot `cpus`, the locks snapshot `locks` and the slab
    /// state, with CPUs stuck after `stuck_ms`; the task `caller` (taking the report) is never
    /// stuck. Process context.
    pub(crate) fn build(
        cpus: cpus::Snapshot,
        locks: &locks::Snapshot,
        slab: &slab::Slab,
        stuck_ms: u32,
        caller: i32,
        seq: u64,
    ) -> Result<Arc<Self>> {
        let mut r = Self::new();
        r.stuck_ms = stuck_ms;
        r.take(cpus, locks, slab)?;
        r.join(caller)?;
        r.seq = seq;
        Ok(Arc::new(r, GFP_KERNEL)?)
    }

    /// When its CPU snapshot was taken (0: an empty report).
    pub(crate) fn taken_ns(&self) -> u64 {
        self.cpus.as_ref().map_or(0, |c| c.info().taken_ns)
    }
}

/// The latest report of the `report` files and the next sequence number.
///
/// A report is built whole and then replaces the latest one: a failure keeps the previous
/// report. Each is shared (an [`Arc`]) with the watch's events that refer to it.
pub(crate) struct State {
    latest: Option<Arc<Report>>,
    next_seq: u64,
}

impl State {
    /// No report yet.
    pub(crate) const fn new() -> Self {
        Self {
            latest: None,
            next_seq: 1,
        }
    }

    /// Builds a report ([`Report::build`]) and keeps it as the latest.
    pub(crate) fn build(
        &mut self,
        cpus: cpus::Snapshot,
        locks: &locks::Snapshot,
        slab: &slab::Slab,
        stuck_ms: u32,
        caller: i32,
    ) -> Result<Arc<Report>> {
        let r = Report::build(cpus, locks, slab, stuck_ms, caller, self.next_seq)?;
        self.latest = Some(r.clone());
        self.next_seq += 1;
        Ok(r)
    }

    /// The latest report.
    pub(crate) fn latest(&self) -> Option<&Report> {
        self.latest.as_deref()
    }

    /// Bytes of the latest report's buffers.
    pub(crate) fn memory(&self) -> usize {
        self.latest.as_ref().map_or(0, |r| r.memory())
    }
}
