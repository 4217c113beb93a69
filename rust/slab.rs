// SPDX-License-Identifier: GPL-2.0

//! Slab leak deltas: which caches grow, how steadily, and from where.
//!
//! A sample is `/proc/slabinfo` as the kernel writes it, read in the kernel (only exported
//! interfaces: no `struct kmem_cache`, no `slab_caches`). A baseline is taken at load and on
//! `baseline`; every sample is ranked against it by bytes grown (active objects delta x object
//! size) and fed into the [`trend`], which marks steady growers as suspects. On
//! `snapshot slab sites` the top allocation sites of the suspects and top growers come from
//! SLUB's `alloc_traces` (slab_debug=U), see [`sites`].
//!
//! Precise counts: SLUB counts the objects cached in its per-CPU sheaves as active, so before
//! each reading the sheaves of every cache whose answer depends on it (see [`sheaves`]: not
//! those that changed by more than their sheaves can hold) are flushed through the cache's
//! `shrink` file, with a bounded wait and only when every CPU runs work items (see
//! `rust/c/slab.c`); every count says whether it is exact, or how far off it can be (see
//! [`Precision`]).
//!
//! Samples are taken in process context only (a `control` write, the periodic sampler, and
//! SysRq deferred work). Three locks, in this order: the slab io lock ([`SlabIoGuard`]),
//! which a `control` write waits for killably and the periodic sampler and SysRq only try
//! (they skip their sample when it is taken: a sample stuck in the kernel holds up nothing
//! else); [`Slab::io`], what samples read with; and [`Slab::state`], what the files show,
//! never held across a file read (the show callbacks take it under their own seq_file lock)
//! and updated in one go per sample.

mod format;
mod parse;
mod sample;
mod sheaves;
mod sites;
mod trend;

use crate::bridge::{
    self,
    FlushError,
    FlushStatus,
    SlabFile,
    SlabFiles,
    SlabIoGuard, //
};
use kernel::{
    alloc::KVVec,
    fmt,
    new_mutex,
    prelude::*,
    sync::Mutex, //
};
pub(crate) use parse::Name;
pub(crate) use sample::{
    Delta,
    Precision,
    Sample, //
};
use sheaves::{
    Need,
    Sheaves, //
};
use sites::Sites;
use trend::Trend;

/// First size tried for the slabinfo buffer.
const BUF_MIN: usize = 64 * 1024;
/// Largest slabinfo buffer; a longer slabinfo is cut (and reported as such).
const BUF_MAX: usize = 1024 * 1024;
/// Most partial slabs of a cache that kintrospect flushes: `kmem_cache_shrink()` walks them
/// with IRQs off (the bound SLUB itself uses for slabinfo, `MAX_PARTIAL_TO_SCAN`).
pub(crate) const SHRINK_MAX_PARTIAL: u64 = 10_000;

/// The sampling parameters (module parameters, checked at load).
#[derive(Clone, Copy)]
pub(crate) struct Params {
    /// `slab_interval_ms`: 0 = no periodic sampling.
    pub(crate) interval_ms: u32,
    /// `slab_trend_samples`: K.
    pub(crate) k: u32,
    /// `slab_trend_min_growth`: M.
    pub(crate) m: u32,
}

impl Params {
    /// The slab part of the module parameters (checked by [`bridge::Params::read`]).
    pub(crate) fn from_module(p: &bridge::Params) -> Self {
        Self {
            interval_ms: p.slab_interval_ms,
            k: p.slab_trend_samples,
            m: p.slab_trend_min_growth,
        }
    }
}

/// Who asks for a sample: a `control` write waits for a sample in progress, the others skip.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Caller {
    Control,
    Periodic,
    Sysrq,
}

/// A summary of the baseline, for the files.
#[derive(Clone, Copy)]
pub(crate) struct Baseline {
    pub(crate) seq: u64,
    pub(crate) taken_ns: u64,
    pub(crate) caches: usize,
    pub(crate) precision: Precision,
    /// Caches counted exactly, and approximately.
    pub(crate) exact: usize,
    pub(crate) approximate: usize,
}

/// What the slab files show, behind [`Slab::state`]: always one sample's, replaced in one go.
pub(crate) struct State {
    pub(crate) baseline: Baseline,
    /// The latest sample since the baseline (`seq` 0: none).
    pub(crate) latest: Sample,
    pub(crate) deltas: KVec<Delta>,
    /// Caches missing from the latest sample's listings.
    pub(crate) unknown: KVec<Name>,
    /// The allocation sites of the last `snapshot slab sites`, stamped with its sample.
    pub(crate) sites: Option<Sites>,
    /// Whether the kernel has `/proc/allocinfo`.
    pub(crate) allocinfo: bool,
    trend_tracked: usize,
    trend_dropped: usize,
    trend_memory: usize,
    /// Bytes of the read buffer, for `status`.
    buf_bytes: usize,
    /// Periodic samples that failed, and the last error.
    tick_errors: u64,
    tick_last_error: i32,
    /// Periodic and SysRq samples skipped because another sample was in progress.
    busy_skips: u64,
}

/// The reading side of a sample, behind [`Slab::io`].
struct Io {
    /// Where the kernel's slab reports are opened from.
    files: SlabFiles,
    /// Reused for every file read.
    buf: KVVec<u8>,
    /// A sample's first reading (before the flush).
    first: Sample,
    /// A sample's last reading, then the sample itself, swapped into [`State`].
    next: Sample,
    /// The sample before (baseline or not), for caches missing from the readings.
    prev: Sample,
    baseline: Sample,
    trend: Trend,
    /// Samples taken, baselines included.
    seq: u64,
    /// Which caches have per-CPU sheaves and what the last sample did with them, sorted by name.
    sheaves: KVec<(Name, Sheaves, Need)>,
    /// Which caches the last flush emptied, sorted by name.
    flushed: KVec<(Name, FlushStatus)>,
    /// Names passed to the flush, each followed by a NUL.
    names: KVec<u8>,
    deltas: KVec<Delta>,
    unknown: KVec<Name>,
    /// Whether the kernel has `/proc/allocinfo`.
    allocinfo: bool,
    /// When allocation sites were read last.
    sites_ns: Option<u64>,
}

/// Reads `/proc/slabinfo` into `out` with `buf`, stamped with the time of the read.
fn read_slabinfo(files: &SlabFiles, buf: &mut KVVec<u8>, out: &mut Sample) -> Result {
    let mut len = buf.len().max(BUF_MIN);
    let (n, truncated) = loop {
        buf.resize(len, 0, GFP_KERNEL)?;
        match files.read(SlabFile::SlabInfo, buf) {
            Ok(n) => break (n, false),
            Err(e) if e == EFBIG && len < BUF_MAX => len = (len * 2).min(BUF_MAX),
            Err(e) if e == EFBIG => break (len, true),
            Err(e) => return Err(e),
        }
    };
    out.parse(buf.get(..n).ok_or(EINVAL)?)?;
    out.taken_ns = bridge::now_ns();
    out.truncated = truncated;
    Ok(())
}

/// The first number of a small sysfs file of cache `name`.
fn sysfs_number(files: &SlabFiles, file: SlabFile<'_>) -> Option<u64> {
    let mut text = [0u8; 64];
    let n = match files.read(file, &mut text) {
        Ok(n) => n,
        Err(e) if e == EFBIG => text.len(),
        Err(_) => return None,
    };
    let word = text[..n].split(|b| !b.is_ascii_digit()).next()?;
    core::str::from_utf8(word).ok()?.parse().ok()
}

impl Io {
    /// Whether cache `name` has sheaves: known from the last sample, else asked.
    fn sheaves_of(&self, name: &Name) -> Sheaves {
        if let Ok(i) = self.sheaves.binary_search_by(|(n, _, _)| n.cmp(name)) {
            if self.sheaves[i].1 != Sheaves::Unknown {
                return self.sheaves[i].1;
            }
        }
        match sysfs_number(&self.files, SlabFile::SheafCapacity(name.as_bytes())) {
            Some(0) => Sheaves::No,
            Some(capacity) => Sheaves::Yes(capacity),
            None => Sheaves::Unknown,
        }
    }

    /// Takes a sample into `self.next`: a reading, a flush of the caches whose count depends on
    /// it (see [`sheaves`]), a second reading (only after a flush), merged with the sample
    /// before (see [`sample`]). Not numbered yet.
    ///
    /// With `every`, each cache that has sheaves (and objects) is flushed: a baseline, and a
    /// sample the trend records, must be exact throughout - the trend's verdict compares each
    /// interval's two counts, which a cache's bound cannot settle.
    fn take(&mut self, io: &SlabIoGuard, every: bool) -> Result {
        read_slabinfo(&self.files, &mut self.buf, &mut self.first)?;
        let (cpus, nodes) = bridge::cpus_and_nodes();
        let mut sheaves = KVec::with_capacity(self.first.caches.len(), GFP_KERNEL)?;
        self.names.clear();
        let mut nr = 0u32;
        let mut any = false;
        for c in self.first.caches.iter() {
            let s = self.sheaves_of(&c.name);
            let base = match every {
                true => None,
                false => Some(self.baseline.find(&c.name).map_or(0, |b| b.active_objs)),
            };
            let need = sheaves::need(c, s, base, cpus, nodes);
            sheaves.push((c.name, s, need), GFP_KERNEL)?;
            if s == Sheaves::No {
                continue;
            }
            any = true;
            if need != Need::Flush {
                continue;
            }
            // A cache with many slabs is flushed only if it has few partial ones.
            if c.num_slabs > SHRINK_MAX_PARTIAL {
                let partial = sysfs_number(&self.files, SlabFile::Partial(c.name.as_bytes()));
                if partial.is_none_or(|p| p > SHRINK_MAX_PARTIAL) {
                    continue;
                }
            }
            self.names
                .extend_from_slice(c.name.as_bytes(), GFP_KERNEL)?;
            self.names.push(0, GFP_KERNEL)?;
            nr += 1;
        }
        self.sheaves = sheaves;

        let mut status = KVec::new();
        status.resize(nr as usize, FlushStatus::NotDone, GFP_KERNEL)?;
        let precision = if !any {
            Precision::NoSheaves
        } else {
            let flush = self.files.flush(io, &self.names, nr, &mut status);
            match flush.result {
                Ok(()) if flush.flushed == 0 && nr != 0 => {
                    Precision::Approximate(FlushError::Other(ENOENT))
                }
                Ok(()) => Precision::Flushed {
                    caches: flush.flushed,
                    duration_ns: flush.duration_ns,
                },
                Err(e) => Precision::Approximate(e),
            }
        };
        self.flushed.clear();
        let names = self.names.split(|b| *b == 0).filter(|n| !n.is_empty());
        for (name, s) in names.zip(status.iter()) {
            self.flushed.push((Name::new(name).0, *s), GFP_KERNEL)?;
        }

        if nr == 0 {
            // Nothing flushed (no cache has sheaves, as with slab_debug=U, or none needs or may
            // be flushed): a second reading would only repeat the first.
            self.next.copy_from(&self.first)?;
        } else {
            read_slabinfo(&self.files, &mut self.buf, &mut self.next)?;
        }
        self.next.precision = precision;
        for c in self.next.caches.iter_mut() {
            let (sheaves, need) = self
                .sheaves
                .binary_search_by(|(n, _, _)| n.cmp(&c.name))
                .map_or((Sheaves::Unknown, Need::Flush), |i| {
                    (self.sheaves[i].1, self.sheaves[i].2)
                });
            let flushed = self
                .flushed
                .binary_search_by(|(n, _)| n.cmp(&c.name))
                .is_ok_and(|i| self.flushed[i].1 == FlushStatus::Done);
            c.exact = match need {
                Need::None => c.active_objs == 0 || sheaves == Sheaves::No,
                Need::Flush => matches!(sheaves, Sheaves::Yes(_)) && flushed,
                Need::Beyond { .. } => false,
            };
            // The last reading must still be beyond the bound, or the count is only approximate.
            c.beyond = match need {
                Need::Beyond { bound, base } => {
                    (c.active_objs.abs_diff(base) > bound).then_some(bound)
                }
                _ => None,
            };
        }
        sample::merge(&self.first, &mut self.next, &self.prev)
    }

    /// Numbers `self.next`, records it in the trend if it `feeds_trend`, and keeps it as the
    /// sample before the next one.
    fn record(&mut self, feeds_trend: bool) -> Result {
        self.seq += 1;
        self.next.seq = self.seq;
        if feeds_trend {
            self.trend.record(self.next.taken_ns, &self.next.caches)?;
        }
        self.prev.copy_from(&self.next)
    }

    /// Ranks `self.next` against the baseline into `self.deltas`, with the trend's verdicts.
    fn rank(&mut self) -> Result {
        sample::rank(
            &self.baseline,
            &self.next,
            &mut self.deltas,
            &mut self.unknown,
        )?;
        for d in self.deltas.iter_mut() {
            if let Some(v) = self.trend.verdict(&d.name) {
                d.trend = v;
                if v.per_min.is_some() {
                    d.per_min = v.per_min;
                }
            }
        }
        Ok(())
    }
}

impl State {
    /// Copies the trend's and buffer's figures of `io`.
    fn figures(&mut self, io: &Io) {
        self.trend_tracked = io.trend.tracked();
        self.trend_dropped = io.trend.dropped;
        self.trend_memory = io.trend.memory();
        self.buf_bytes = io.buf.capacity();
    }
}

/// The slab sampler: baseline, latest sample, trend and allocation sites.
#[pin_data]
pub(crate) struct Slab {
    pub(crate) params: Params,
    /// What samples read with; taken under the slab io lock only.
    #[pin]
    io: Mutex<Io>,
    /// What the files show.
    #[pin]
    state: Mutex<State>,
}

impl Slab {
    /// Takes the baseline (at load).
    pub(crate) fn new(params: Params) -> Result<impl PinInit<Self>> {
        let files = SlabFiles::open()?;
        let allocinfo = files.exists(SlabFile::AllocInfo);
        let mut io = Io {
            files,
            buf: KVVec::new(),
            first: Sample::empty(),
            next: Sample::empty(),
            prev: Sample::empty(),
            baseline: Sample::empty(),
            trend: Trend::new(params.k as usize, params.m)?,
            seq: 0,
            sheaves: KVec::new(),
            flushed: KVec::new(),
            names: KVec::new(),
            deltas: KVec::new(),
            unknown: KVec::new(),
            allocinfo,
            sites_ns: None,
        };
        let mut state = State {
            baseline: Baseline {
                seq: 0,
                taken_ns: 0,
                caches: 0,
                precision: Precision::None,
                exact: 0,
                approximate: 0,
            },
            latest: Sample::empty(),
            deltas: KVec::new(),
            unknown: KVec::new(),
            sites: None,
            allocinfo,
            trend_tracked: 0,
            trend_dropped: 0,
            trend_memory: 0,
            buf_bytes: 0,
            tick_errors: 0,
            tick_last_error: 0,
            busy_skips: 0,
        };
        {
            let guard = SlabIoGuard::lock_killable()?;
            // The first value of every cache's trend.
            take_baseline(&mut io, &guard, true)?;
            publish_baseline(&io, &mut state);
        }
        Ok(pin_init!(Self {
            params,
            io <- new_mutex!(io, "kintrospect_slab_io"),
            state <- new_mutex!(state, "kintrospect_slab_state"),
        }))
    }

    /// Records a new baseline; the deltas start again from it. Waits (killably) for a sample
    /// in progress.
    pub(crate) fn baseline(&self) -> Result {
        let guard = SlabIoGuard::lock_killable()?;
        let mut io = self.io.lock();
        take_baseline(&mut io, &guard, self.params.interval_ms == 0)?;
        // The new baseline is published with the old state cleared, in one go.
        publish_baseline(&io, &mut self.state.lock());
        Ok(())
    }

    /// Takes a sample and compares it with the baseline; with `sites`, also reads the
    /// allocation sites of the top growers and suspects (`snapshot slab sites`).
    ///
    /// `Caller::Control` waits (killably: `EINTR`) for a sample in progress, the others get
    /// `EBUSY`; `sites` more often than every [`sites::MIN_INTERVAL_MS`] gets `EAGAIN`.
    pub(crate) fn sample(&self, caller: Caller, sites: bool) -> Result {
        let guard = match caller {
            Caller::Control => SlabIoGuard::lock_killable()?,
            Caller::Periodic | Caller::Sysrq => SlabIoGuard::try_lock()?,
        };
        let mut io_guard = self.io.lock();
        let io = &mut *io_guard;
        if sites {
            let now = bridge::now_ns();
            let min = sites::MIN_INTERVAL_MS * 1_000_000;
            if io.sites_ns.is_some_and(|t| now.saturating_sub(t) < min) {
                return Err(EAGAIN);
            }
            io.sites_ns = Some(now);
        }
        // With periodic sampling, the trend's intervals are the periodic ones: a sample asked
        // for in between (a report taken twice, the SysRq key) would cut an interval in two and
        // turn a steady grower's suspect verdict off. Without it, every sample is an interval.
        // Only a sample the trend does not record may leave a cache beyond its bound unflushed.
        let feeds_trend = caller == Caller::Periodic || self.params.interval_ms == 0;
        io.take(&guard, feeds_trend)?;
        io.record(feeds_trend)?;
        io.rank()?;
        let sites = if sites {
            Some(sites::read(
                &io.files,
                &mut io.buf,
                &io.deltas,
                io.next.seq,
                io.next.taken_ns,
                io.allocinfo,
            )?)
        } else {
            None
        };
        let mut s = self.state.lock();
        core::mem::swap(&mut s.latest, &mut io.next);
        core::mem::swap(&mut s.deltas, &mut io.deltas);
        core::mem::swap(&mut s.unknown, &mut io.unknown);
        if sites.is_some() {
            s.sites = sites;
        }
        s.figures(io);
        Ok(())
    }

    /// One periodic sample: skipped when another is in progress; a failure is counted (see
    /// `status`) and the next tick retries.
    pub(crate) fn tick(&self) {
        match self.sample(Caller::Periodic, false) {
            Ok(()) => {}
            Err(e) if e == EBUSY => self.state.lock().busy_skips += 1,
            Err(e) => {
                let mut s = self.state.lock();
                s.tick_errors += 1;
                s.tick_last_error = e.to_errno();
            }
        }
    }

    /// A SysRq sample: skipped (and counted) when another is in progress.
    pub(crate) fn sysrq(&self) -> Result {
        let r = self.sample(Caller::Sysrq, false);
        if r == Err(EBUSY) {
            self.state.lock().busy_skips += 1;
        }
        r
    }

    /// Writes the `slab_delta` file.
    pub(crate) fn write_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        format::text(&self.state.lock(), &self.params, f)
    }

    /// Writes the `slab_delta.json` file.
    pub(crate) fn write_json(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        format::json(&self.state.lock(), f)
    }

    /// Copies the suspects of the latest sample (steady growers, most bytes first) into
    /// `out`; returns that sample's sequence number (0: no sample since the baseline).
    pub(crate) fn suspects(&self, out: &mut KVec<Delta>) -> Result<u64> {
        let s = self.state.lock();
        out.clear();
        for d in s.deltas.iter().filter(|d| d.trend.suspect) {
            out.push(*d, GFP_KERNEL)?;
        }
        Ok(s.latest.seq)
    }

    /// What `status` shows of the slab report.
    pub(crate) fn counters(&self) -> Counters {
        let s = self.state.lock();
        Counters {
            caches_tracked: s.trend_tracked,
            caches_dropped: s.trend_dropped,
            trend_memory: s.trend_memory,
            buffer_bytes: s.buf_bytes,
            periodic_errors: s.tick_errors,
            periodic_last_error: s.tick_last_error,
            skipped_busy: s.busy_skips,
        }
    }
}

/// What `status` shows of the slab report.
pub(crate) struct Counters {
    /// Caches the trend follows, and those it had no room for.
    pub(crate) caches_tracked: usize,
    pub(crate) caches_dropped: usize,
    /// Bytes of the trend ring and of the slabinfo buffer.
    pub(crate) trend_memory: usize,
    pub(crate) buffer_bytes: usize,
    /// Periodic samples that failed, and the errno of the last one.
    pub(crate) periodic_errors: u64,
    pub(crate) periodic_last_error: i32,
    /// Periodic and SysRq samples skipped because another one was in progress.
    pub(crate) skipped_busy: u64,
}

/// Takes a sample with `io` and makes it the baseline; it is a trend value if `feeds_trend`.
fn take_baseline(io: &mut Io, guard: &SlabIoGuard, feeds_trend: bool) -> Result {
    io.take(guard, true)?;
    io.record(feeds_trend)?;
    io.baseline.copy_from(&io.next)
}

/// Shows the baseline of `io` in `state`, clearing what was compared with the old one.
fn publish_baseline(io: &Io, state: &mut State) {
    let (exact, approximate) = io.baseline.exactness();
    state.baseline = Baseline {
        seq: io.baseline.seq,
        taken_ns: io.baseline.taken_ns,
        caches: io.baseline.counts().0,
        precision: io.baseline.precision,
        exact,
        approximate,
    };
    state.latest.seq = 0;
    state.latest.caches.clear();
    state.latest.precision = Precision::None;
    state.deltas.clear();
    state.unknown.clear();
    state.sites = None;
    state.figures(io);
}
