// SPDX-License-Identifier: GPL-2.0

//! Slab leak deltas: which caches grow, how steadily, and from where.
//!
//! A sample is `/proc/slabinfo` as the kernel writes it, read in the kernel (only exported
//! interfaces: no `struct kmem_cache`, no `slab_caches`), so its numbers are exactly what
//! userspace would read at that moment. A baseline is taken at load and on `baseline`; every
//! sample is ranked against it by bytes grown (active objects delta x object size) and fed into
//! the [`trend`], which marks steady growers as suspects. For suspects and top growers the
//! top allocation sites come from SLUB's `alloc_traces` (slab_debug=U).
//!
//! Samples are taken in process context only (a `control` write, the periodic sampler, and
//! SysRq deferred work). Two [`Mutex`]es: one serialises samples and is held while kernel files
//! are read, the other guards what the files show and is never held across a file read (the
//! show callbacks take it under their own seq_file lock, one lockdep class for all seq_files).

mod format;
mod parse;
mod trend;

use crate::bridge::{
    self,
    SlabFile,
    SlabFiles, //
};
use kernel::{
    alloc::KVVec,
    fmt,
    new_mutex,
    prelude::*,
    sync::Mutex, //
};
pub(crate) use parse::{
    Cache,
    Name,
    Site, //
};
use trend::Trend;

/// First size tried for the slabinfo buffer.
const BUF_MIN: usize = 64 * 1024;
/// Largest slabinfo buffer; a longer slabinfo is cut (and reported as such).
const BUF_MAX: usize = 1024 * 1024;
/// Largest part of an `alloc_traces` or `/proc/allocinfo` file read: its top sites come first.
const SITES_READ_MAX: usize = 64 * 1024;
/// Allocation sites kept per cache.
pub(crate) const SITES_PER_CACHE: usize = 3;
/// Top growers (besides suspects) whose allocation sites are looked up.
const SITES_TOP_GROWERS: usize = 3;
/// Most caches whose allocation sites are looked up per sample.
const SITES_MAX_CACHES: usize = 8;

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

/// One reading of `/proc/slabinfo`.
pub(crate) struct Sample {
    pub(crate) seq: u64,
    pub(crate) taken_ns: u64,
    /// Sorted by name.
    pub(crate) caches: KVec<Cache>,
    /// Lines that did not parse.
    pub(crate) rejected: usize,
    /// Names longer than [`parse::NAME_LEN`], cut.
    pub(crate) cut_names: usize,
    /// Whether slabinfo was longer than [`BUF_MAX`] and its end is missing.
    pub(crate) truncated: bool,
}

impl Sample {
    /// An empty sample.
    fn empty() -> Self {
        Self {
            seq: 0,
            taken_ns: 0,
            caches: KVec::new(),
            rejected: 0,
            cut_names: 0,
            truncated: false,
        }
    }

    /// Parses slabinfo `text` into this sample (its caches' memory is reused).
    pub(crate) fn parse(&mut self, text: &[u8]) -> Result {
        self.caches.clear();
        self.rejected = 0;
        self.cut_names = 0;
        let mut lines = text.split(|b| *b == b'\n');
        if lines.next() != Some(parse::SLABINFO_HEADER) {
            return Err(EPROTO);
        }
        for line in lines.filter(|l| !l.is_empty() && !l.starts_with(b"#")) {
            match parse::slabinfo_line(line) {
                Some((cache, cut)) => {
                    self.cut_names += usize::from(cut);
                    self.caches.push(cache, GFP_KERNEL)?;
                }
                None => self.rejected += 1,
            }
        }
        self.caches.sort_unstable_by_key(|c| c.name);
        Ok(())
    }

    /// The cache named `name`.
    fn find(&self, name: &Name) -> Option<&Cache> {
        let i = self.caches.binary_search_by(|c| c.name.cmp(name)).ok()?;
        self.caches.get(i)
    }
}

/// One cache compared with the baseline.
#[derive(Clone, Copy)]
pub(crate) struct Delta {
    pub(crate) name: Name,
    pub(crate) objsize: u64,
    pub(crate) active_objs: u64,
    pub(crate) num_objs: u64,
    pub(crate) active_objs_delta: i64,
    pub(crate) total_objs_delta: i64,
    pub(crate) bytes_delta: i64,
    pub(crate) trend: trend::Verdict,
    /// Objects per minute: over the trend ring, else since the baseline.
    pub(crate) per_min: Option<i64>,
}

/// Compares `latest` with `base` into `out`, ranked by bytes grown, most first (shrinking
/// caches last, ties by name). A cache that vanished since the baseline is listed with 0
/// objects.
pub(crate) fn rank(base: &Sample, latest: &Sample, out: &mut KVec<Delta>) -> Result {
    out.clear();
    let since = latest.taken_ns.saturating_sub(base.taken_ns);
    let delta = |c: &Cache, b: Option<&Cache>| {
        let (ba, bn) = b.map_or((0, 0), |b| (b.active_objs, b.num_objs));
        let active_objs_delta = trend::diff(c.active_objs, ba);
        let objsize = i64::try_from(c.objsize).unwrap_or(i64::MAX);
        Delta {
            name: c.name,
            objsize: c.objsize,
            active_objs: c.active_objs,
            num_objs: c.num_objs,
            active_objs_delta,
            total_objs_delta: trend::diff(c.num_objs, bn),
            bytes_delta: active_objs_delta.saturating_mul(objsize),
            trend: trend::Verdict::default(),
            per_min: trend::per_minute(active_objs_delta, since),
        }
    };
    for c in latest.caches.iter() {
        out.push(delta(c, base.find(&c.name)), GFP_KERNEL)?;
    }
    for b in base
        .caches
        .iter()
        .filter(|b| latest.find(&b.name).is_none())
    {
        let gone = Cache {
            active_objs: 0,
            num_objs: 0,
            ..*b
        };
        out.push(delta(&gone, Some(b)), GFP_KERNEL)?;
    }
    out.sort_unstable_by(|a, b| {
        b.bytes_delta
            .cmp(&a.bytes_delta)
            .then_with(|| a.name.cmp(&b.name))
    });
    Ok(())
}

/// The allocation sites of one cache.
pub(crate) struct CacheSites {
    pub(crate) name: Name,
    pub(crate) sites: KVec<Site>,
}

/// Where allocation sites come from on this kernel.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum SiteSource {
    /// No sample has looked yet.
    Unknown,
    /// SLUB user tracking (`/sys/kernel/debug/slab/<cache>/alloc_traces`).
    AllocTraces,
    /// Neither `alloc_traces` nor anything else.
    NotAvailable,
}

/// What the slab files show, behind [`Slab::state`].
///
/// This lock is taken by the files' show callbacks, under the seq_file lock of the read, so it
/// is never held while a kernel file (another seq_file) is read: that is [`Io`]'s job.
pub(crate) struct State {
    pub(crate) baseline: Sample,
    /// The latest sample since the baseline (`seq` 0: none).
    pub(crate) latest: Sample,
    /// Samples taken, baselines included.
    seq: u64,
    pub(crate) deltas: KVec<Delta>,
    pub(crate) trend: Trend,
    pub(crate) sites: KVec<CacheSites>,
    pub(crate) site_source: SiteSource,
    /// Top sites of `/proc/allocinfo` (all allocations, by bytes), when the kernel has it.
    pub(crate) allocinfo: Option<KVec<Site>>,
    /// Bytes of the read buffer, for `status`.
    buf_bytes: usize,
    /// Periodic samples that failed, and the last error.
    pub(crate) tick_errors: u64,
    pub(crate) tick_last_error: i32,
}

impl State {
    /// Numbers `sample` and records it in the trend.
    fn record(&mut self, sample: &mut Sample) -> Result {
        self.seq += 1;
        sample.seq = self.seq;
        self.trend.record(sample.taken_ns, &sample.caches)
    }

    /// The caches whose allocation sites are worth looking up: the suspects and the top
    /// growers of `self.deltas`.
    fn wanted_sites(&self, out: &mut KVec<Name>) -> Result {
        out.clear();
        let mut growers = 0;
        for d in self.deltas.iter() {
            let top = d.bytes_delta > 0 && growers < SITES_TOP_GROWERS;
            if !(top || d.trend.suspect) {
                continue;
            }
            growers += usize::from(top);
            if out.len() == SITES_MAX_CACHES {
                break;
            }
            out.push(d.name, GFP_KERNEL)?;
        }
        Ok(())
    }
}

/// The reading side of a sample, behind [`Slab::io`]: taken before [`Slab::state`], never
/// under it, and never by a show callback.
struct Io {
    /// Where the kernel's slab reports are opened from.
    files: SlabFiles,
    /// Reused for every file read.
    buf: KVVec<u8>,
    /// The next sample, read here and then swapped into [`State`].
    next: Sample,
    /// Caches whose sites to look up.
    wanted: KVec<Name>,
    /// Sites read for `wanted`, swapped into [`State`].
    sites: KVec<CacheSites>,
    /// `/proc/allocinfo`'s top sites, if the kernel has it, swapped into [`State`].
    allocinfo: Option<KVec<Site>>,
}

impl Io {
    /// Reads `/proc/slabinfo` into `self.next`, stamped with the time of the read.
    fn read(&mut self) -> Result {
        let mut len = self.buf.len().max(BUF_MIN);
        let (n, truncated) = loop {
            self.buf.resize(len, 0, GFP_KERNEL)?;
            match self.files.read(SlabFile::SlabInfo, &mut self.buf) {
                Ok(n) => break (n, false),
                Err(e) if e == EFBIG && len < BUF_MAX => len = (len * 2).min(BUF_MAX),
                Err(e) if e == EFBIG => break (len, true),
                Err(e) => return Err(e),
            }
        };
        let text = self.buf.get(..n).ok_or(EINVAL)?;
        self.next.parse(text)?;
        self.next.taken_ns = bridge::now_ns();
        self.next.truncated = truncated;
        Ok(())
    }

    /// Reads the allocation sites of `self.wanted` into `self.sites`; returns where they
    /// came from.
    fn read_sites(&mut self) -> Result<SiteSource> {
        self.sites.clear();
        let mut source = SiteSource::Unknown;
        for i in 0..self.wanted.len() {
            let name = self.wanted[i];
            let file = SlabFile::AllocTraces(name.as_bytes());
            let n = match self.files.read(file, sites_buf(&mut self.buf)) {
                Ok(n) => n,
                Err(e) if e == EFBIG => SITES_READ_MAX,
                Err(_) => {
                    if source == SiteSource::Unknown {
                        source = SiteSource::NotAvailable;
                    }
                    continue;
                }
            };
            source = SiteSource::AllocTraces;
            let mut sites = KVec::new();
            parse::alloc_traces::<SITES_PER_CACHE>(self.buf.get(..n).unwrap_or(&[]), &mut sites)?;
            self.sites.push(CacheSites { name, sites }, GFP_KERNEL)?;
        }
        Ok(source)
    }

    /// Reads the top sites of `/proc/allocinfo`, if the kernel has it.
    fn read_allocinfo(&mut self) -> Result {
        let Some(top) = self.allocinfo.as_mut() else {
            return Ok(());
        };
        let n = match self
            .files
            .read(SlabFile::AllocInfo, sites_buf(&mut self.buf))
        {
            Ok(n) => n,
            Err(e) if e == EFBIG => SITES_READ_MAX,
            Err(_) => return Ok(()),
        };
        parse::allocinfo::<SITES_PER_CACHE>(self.buf.get(..n).unwrap_or(&[]), top)
    }
}

/// The part of `buf` an allocation site file is read into: its first [`SITES_READ_MAX`] bytes.
fn sites_buf(buf: &mut KVVec<u8>) -> &mut [u8] {
    let n = buf.len().min(SITES_READ_MAX);
    &mut buf[..n]
}

/// The slab sampler: baseline, latest sample, trend and allocation sites.
///
/// Lock order: `io`, then `state`; `state` alone in show callbacks.
#[pin_data]
pub(crate) struct Slab {
    pub(crate) params: Params,
    /// Serialises samples and owns what they read with.
    #[pin]
    io: Mutex<Io>,
    /// What the files show.
    #[pin]
    state: Mutex<State>,
}

impl Slab {
    /// Takes the baseline (at load).
    pub(crate) fn new(params: Params) -> Result<impl PinInit<Self>> {
        let mut io = Io {
            files: SlabFiles::open()?,
            buf: KVVec::new(),
            next: Sample::empty(),
            wanted: KVec::new(),
            sites: KVec::new(),
            allocinfo: None,
        };
        let mut state = State {
            baseline: Sample::empty(),
            latest: Sample::empty(),
            seq: 0,
            deltas: KVec::new(),
            trend: Trend::new(params.k as usize, params.m)?,
            sites: KVec::new(),
            site_source: SiteSource::Unknown,
            allocinfo: None,
            buf_bytes: 0,
            tick_errors: 0,
            tick_last_error: 0,
        };
        if io.files.exists(SlabFile::AllocInfo) {
            io.allocinfo = Some(KVec::new());
            state.allocinfo = Some(KVec::new());
        }
        io.read()?;
        state.record(&mut io.next)?;
        core::mem::swap(&mut state.baseline, &mut io.next);
        state.buf_bytes = io.buf.capacity();
        Ok(pin_init!(Self {
            params,
            io <- new_mutex!(io, "kintrospect_slab_io"),
            state <- new_mutex!(state, "kintrospect_slab_state"),
        }))
    }

    /// Records a new baseline; the deltas start again from it.
    pub(crate) fn baseline(&self) -> Result {
        let mut io = self.io.lock();
        io.read()?;
        let mut s = self.state.lock();
        s.record(&mut io.next)?;
        core::mem::swap(&mut s.baseline, &mut io.next);
        s.latest.seq = 0;
        s.latest.caches.clear();
        s.deltas.clear();
        s.sites.clear();
        s.buf_bytes = io.buf.capacity();
        Ok(())
    }

    /// Takes a sample and compares it with the baseline: `snapshot slab`, the periodic
    /// sampler, and (for the SysRq key and `snapshot all`) any process-context caller.
    pub(crate) fn sample(&self) -> Result {
        let mut io_guard = self.io.lock();
        let io = &mut *io_guard;
        io.read()?;
        {
            let mut s_guard = self.state.lock();
            let s = &mut *s_guard;
            s.record(&mut io.next)?;
            core::mem::swap(&mut s.latest, &mut io.next);
            rank(&s.baseline, &s.latest, &mut s.deltas)?;
            for d in s.deltas.iter_mut() {
                if let Some(v) = s.trend.verdict(&d.name) {
                    d.trend = v;
                    if v.per_min.is_some() {
                        d.per_min = v.per_min;
                    }
                }
            }
            s.wanted_sites(&mut io.wanted)?;
            s.buf_bytes = io.buf.capacity();
        }
        let source = io.read_sites()?;
        io.read_allocinfo()?;
        let mut s = self.state.lock();
        core::mem::swap(&mut s.sites, &mut io.sites);
        if source != SiteSource::Unknown {
            s.site_source = source;
        }
        if let (Some(a), Some(b)) = (s.allocinfo.as_mut(), io.allocinfo.as_mut()) {
            core::mem::swap(a, b);
        }
        Ok(())
    }

    /// One periodic sample; a failure is counted (see `status`) and the next tick retries.
    pub(crate) fn tick(&self) {
        if let Err(e) = self.sample() {
            let mut s = self.state.lock();
            s.tick_errors += 1;
            s.tick_last_error = e.to_errno();
        }
    }

    /// Writes the `slab_delta` file.
    pub(crate) fn write_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        format::text(&self.state.lock(), &self.params, f)
    }

    /// Writes the `slab_delta.json` file.
    pub(crate) fn write_json(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        format::json(&self.state.lock(), f)
    }

    /// Writes the slab lines of `status`.
    pub(crate) fn write_status(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.state.lock();
        writeln!(f, "slab_interval_ms: {}", self.params.interval_ms)?;
        writeln!(f, "slab_trend_samples: {}", self.params.k)?;
        writeln!(f, "slab_trend_min_growth: {}", self.params.m)?;
        writeln!(f, "slab_caches_tracked: {}", s.trend.tracked())?;
        writeln!(f, "slab_caches_dropped: {}", s.trend.dropped)?;
        writeln!(f, "slab_trend_memory_bytes: {}", s.trend.memory())?;
        writeln!(f, "slab_buffer_bytes: {}", s.buf_bytes)?;
        writeln!(
            f,
            "slab_periodic_errors: {} (last {})",
            s.tick_errors, s.tick_last_error
        )
    }
}

#[cfg(kintrospect_kunit)]
#[kernel::macros::kunit_tests(kintrospect_slab)]
mod tests {
    use super::*;

    fn sample(taken_ns: u64, caches: &[(&[u8], u64, u64)]) -> Result<Sample> {
        let mut s = Sample::empty();
        s.seq = 1;
        s.taken_ns = taken_ns;
        for (name, active, objsize) in caches {
            s.caches.push(
                Cache {
                    name: Name::new(name).0,
                    active_objs: *active,
                    num_objs: *active + 1,
                    objsize: *objsize,
                    objperslab: 1,
                    pagesperslab: 1,
                    active_slabs: 1,
                    num_slabs: 1,
                },
                GFP_KERNEL,
            )?;
        }
        s.caches.sort_unstable_by_key(|c| c.name);
        Ok(s)
    }

    #[test]
    fn ranks_by_bytes_grown_with_shrinkers_last() -> Result {
        let base = sample(
            0,
            &[
                (b"a", 10, 64),
                (b"b", 10, 4096),
                (b"c", 10, 8),
                (b"gone", 5, 32),
            ],
        )?;
        let latest = sample(
            60_000_000_000,
            &[
                (b"a", 1010, 64),
                (b"b", 9, 4096),
                (b"c", 10, 8),
                (b"new", 3, 512),
            ],
        )?;
        let mut out = KVec::new();
        rank(&base, &latest, &mut out)?;
        let got: KVec<(&[u8], i64)> = {
            let mut v = KVec::new();
            for d in out.iter() {
                v.push((d.name.as_bytes(), d.bytes_delta), GFP_KERNEL)?;
            }
            v
        };
        assert_eq!(
            &got[..],
            &[
                (&b"a"[..], 64_000),
                (b"new", 1536),
                (b"c", 0),
                (b"gone", -160),
                (b"b", -4096)
            ]
        );
        assert_eq!(out[0].active_objs_delta, 1000);
        assert_eq!(out[0].total_objs_delta, 1000);
        assert_eq!(out[0].per_min, Some(1000));
        assert_eq!(out[3].active_objs, 0);
        Ok(())
    }

    #[test]
    fn parses_a_whole_slabinfo() -> Result {
        let text = b"slabinfo - version: 2.1\n\
                     # name            <active_objs> <num_objs> <objsize> <objperslab> \
                     <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata \
                     <active_slabs> <num_slabs> <sharedavail>\n\
                     zz 1 2 3 4 5 : tunables 0 0 0 : slabdata 6 7 0\n\
                     broken line\n\
                     aa 10 20 30 40 50 : tunables 0 0 0 : slabdata 60 70 0\n";
        let mut s = Sample::empty();
        s.parse(text)?;
        assert_eq!(s.caches.len(), 2);
        assert_eq!(s.rejected, 1);
        assert_eq!(s.caches[0].name.as_bytes(), b"aa");
        assert_eq!(s.find(&Name::new(b"zz").0).map(|c| c.num_slabs), Some(7));
        assert_eq!(s.parse(b"slabinfo - version: 3.0\n"), Err(EPROTO));
        Ok(())
    }
}
