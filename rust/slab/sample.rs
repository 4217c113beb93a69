// SPDX-License-Identifier: GPL-2.0

//! One slab sample: slabinfo readings made into one consistent list, and its ranking against
//! the baseline.
//!
//! `/proc/slabinfo` is generated a page at a time, each page under its own `slab_mutex`
//! section, re-seeking by position: a cache created or destroyed between two pages shifts the
//! positions, so one reading can list a cache twice or skip one (`mm/slab_common.c`,
//! `slab_start()`). A sample is therefore made of two readings (before and after the flush)
//! and the sample before it:
//!
//! - within a reading, a name listed twice is kept once (and counted);
//! - a cache in either reading is in the sample (values from the last reading that has it);
//! - a cache in the sample before but in neither reading is *unknown*: kept with its previous
//!   counts, not ranked, not counted as gone; missing again from the next sample, it is gone.

use super::{
    parse::{
        self,
        Cache,
        Name, //
    },
    trend,
};
use crate::bridge::FlushError;
use kernel::prelude::*;

/// How the counts of a sample were taken.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Precision {
    /// No sample yet.
    None,
    /// No cache has per-CPU sheaves (SLUB debug flags such as `slab_debug=U` turn them off):
    /// slabinfo's counts are exact as they are.
    NoSheaves,
    /// The sheaves of every cache that has them were flushed right before the reading.
    Flushed {
        /// Caches flushed.
        caches: u32,
        /// Time the flush took, with the check that every CPU runs work items.
        duration_ns: u64,
    },
    /// The flush did not run to its end: caches with sheaves count the objects cached in them
    /// as active.
    Approximate(FlushError),
}

/// One reading of `/proc/slabinfo`, or a sample made of readings.
pub(crate) struct Sample {
    pub(crate) seq: u64,
    pub(crate) taken_ns: u64,
    /// Sorted by name, each name once.
    pub(crate) caches: KVec<Cache>,
    /// Lines that did not parse.
    pub(crate) rejected: usize,
    /// Names longer than [`parse::NAME_LEN`], cut.
    pub(crate) cut_names: usize,
    /// Lines whose name the same reading had already listed.
    pub(crate) duplicates: usize,
    /// Whether slabinfo was longer than the largest buffer and its end is missing.
    pub(crate) truncated: bool,
    pub(crate) precision: Precision,
}

impl Sample {
    /// An empty sample.
    pub(crate) fn empty() -> Self {
        Self {
            seq: 0,
            taken_ns: 0,
            caches: KVec::new(),
            rejected: 0,
            cut_names: 0,
            duplicates: 0,
            truncated: false,
            precision: Precision::None,
        }
    }

    /// Parses slabinfo `text` into this sample (its caches' memory is reused); a name listed
    /// twice is kept once (either line: both were true at some point of the reading).
    pub(crate) fn parse(&mut self, text: &[u8]) -> Result {
        self.caches.clear();
        self.rejected = 0;
        self.cut_names = 0;
        self.duplicates = 0;
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
        let mut kept = 0;
        for i in 0..self.caches.len() {
            if kept == 0 || self.caches[kept - 1].name != self.caches[i].name {
                self.caches[kept] = self.caches[i];
                kept += 1;
            }
        }
        self.duplicates = self.caches.len() - kept;
        self.caches.truncate(kept);
        Ok(())
    }

    /// The cache named `name`.
    pub(crate) fn find(&self, name: &Name) -> Option<&Cache> {
        let i = self.caches.binary_search_by(|c| c.name.cmp(name)).ok()?;
        self.caches.get(i)
    }

    /// Copies `other` into this sample (its memory is reused).
    pub(crate) fn copy_from(&mut self, other: &Sample) -> Result {
        self.caches.clear();
        self.caches.extend_from_slice(&other.caches, GFP_KERNEL)?;
        self.seq = other.seq;
        self.taken_ns = other.taken_ns;
        self.rejected = other.rejected;
        self.cut_names = other.cut_names;
        self.duplicates = other.duplicates;
        self.truncated = other.truncated;
        self.precision = other.precision;
        Ok(())
    }

    /// Caches listed, and unknown ones.
    pub(crate) fn counts(&self) -> (usize, usize) {
        let unknown = self.caches.iter().filter(|c| !c.listed).count();
        (self.caches.len() - unknown, unknown)
    }

    /// Caches whose counts are exact, and listed ones that are approximate.
    pub(crate) fn exactness(&self) -> (usize, usize) {
        let exact = self.caches.iter().filter(|c| c.listed && c.exact).count();
        (exact, self.counts().0 - exact)
    }

    /// Listed caches not flushed because their change is beyond what their sheaves hold (among
    /// the approximate ones of [`Self::exactness`]).
    pub(crate) fn beyond(&self) -> usize {
        self.caches
            .iter()
            .filter(|c| c.listed && c.beyond.is_some())
            .count()
    }
}

/// Completes `last`, this sample's last reading, with the caches only its `first` reading
/// listed (approximate: counted before the flush), and with the caches of `prev`, the sample
/// before, that neither reading listed: unknown if `prev` listed them, gone (left out) if
/// they were unknown there already.
pub(crate) fn merge(first: &Sample, last: &mut Sample, prev: &Sample) -> Result {
    let mut extra = KVec::new();
    for c in first.caches.iter().filter(|c| last.find(&c.name).is_none()) {
        extra.push(
            Cache {
                exact: false,
                beyond: None,
                ..*c
            },
            GFP_KERNEL,
        )?;
    }
    for c in prev.caches.iter().filter(|c| c.listed) {
        if last.find(&c.name).is_none() && first.find(&c.name).is_none() {
            extra.push(
                Cache {
                    listed: false,
                    exact: false,
                    beyond: None,
                    ..*c
                },
                GFP_KERNEL,
            )?;
        }
    }
    last.caches.extend_from_slice(&extra, GFP_KERNEL)?;
    last.caches.sort_unstable_by_key(|c| c.name);
    Ok(())
}

/// The caches in which a kernel debug feature records other allocations: those the 7.3 kernel
/// creates with `SLAB_NOLEAKTRACE` (`mm/kmemleak.c`, `lib/debugobjects.c`). They grow with
/// whatever grows - kmemleak keeps a `kmemleak_object` for every object allocated, so a leak of
/// 777 small objects made `kmemleak_object` grow by more bytes than the leak itself - and rank
/// after the caches they shadow.
const BOOKKEEPING: [&[u8]; 3] = [
    b"kmemleak_object",
    b"kmemleak_scan_area",
    b"debug_objects_cache",
];

/// Whether cache `name` is a debug feature's bookkeeping (see [`BOOKKEEPING`]).
pub(crate) fn bookkeeping(name: &Name) -> bool {
    BOOKKEEPING.contains(&name.as_bytes())
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
    /// Whether both counts compared are exact.
    pub(crate) exact: bool,
    /// Set when the latest count was not flushed because it moved by more than this many objects
    /// (what the cache's sheaves can hold): the sign of the delta is certain, its size within
    /// that many objects.
    pub(crate) beyond: Option<u64>,
    /// Whether the cache is a debug feature's record of other allocations ([`bookkeeping`]).
    pub(crate) bookkeeping: bool,
    pub(crate) trend: trend::Verdict,
    /// Objects per minute: over the trend ring, else since the baseline.
    pub(crate) per_min: Option<i64>,
}

/// Compares `latest` with `base` into `out`, ranked by bytes grown, most first (shrinking
/// caches last, ties by name), the growing [`bookkeeping`] caches after every other growing
/// cache: the first line is the cache that grew, not kmemleak's record of it. A cache that
/// vanished since the baseline is listed with 0 objects; an unknown cache (missing from
/// `latest`'s listings) is not ranked but named in `unknown`.
pub(crate) fn rank(
    base: &Sample,
    latest: &Sample,
    out: &mut KVec<Delta>,
    unknown: &mut KVec<Name>,
) -> Result {
    out.clear();
    unknown.clear();
    let since = latest.taken_ns.saturating_sub(base.taken_ns);
    let delta = |c: &Cache, b: Option<&Cache>| {
        let (ba, bn, bexact) = b.map_or((0, 0, true), |b| (b.active_objs, b.num_objs, b.exact));
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
            exact: c.exact && bexact,
            beyond: c.beyond,
            bookkeeping: bookkeeping(&c.name),
            trend: trend::Verdict::default(),
            per_min: trend::per_minute(active_objs_delta, since),
        }
    };
    for c in latest.caches.iter() {
        if c.listed {
            out.push(delta(c, base.find(&c.name)), GFP_KERNEL)?;
        } else {
            unknown.push(c.name, GFP_KERNEL)?;
        }
    }
    for b in base
        .caches
        .iter()
        .filter(|b| latest.find(&b.name).is_none())
    {
        let gone = Cache {
            active_objs: 0,
            num_objs: 0,
            exact: true,
            beyond: None,
            ..*b
        };
        out.push(delta(&gone, Some(b)), GFP_KERNEL)?;
    }
    // Growing caches first, bookkeeping ones after the rest of them; then by bytes.
    let group = |d: &Delta| match (d.bytes_delta > 0, d.bookkeeping) {
        (true, false) => 0,
        (true, true) => 1,
        (false, _) => 2,
    };
    out.sort_unstable_by(|a, b| {
        group(a)
            .cmp(&group(b))
            .then_with(|| b.bytes_delta.cmp(&a.bytes_delta))
            .then_with(|| a.name.cmp(&b.name))
    });
    Ok(())
}

#[cfg(kintrospect_kunit)]
#[kernel::macros::kunit_tests(kintrospect_slab_sample)]
mod tests {
    use super::*;

    fn cache(name: &[u8], active: u64, objsize: u64) -> Cache {
        Cache {
            objsize,
            ..Cache::for_test(name, active)
        }
    }

    fn sample(taken_ns: u64, caches: &[(&[u8], u64, u64)]) -> Result<Sample> {
        let mut s = Sample::empty();
        s.seq = 1;
        s.taken_ns = taken_ns;
        for (name, active, objsize) in caches {
            s.caches.push(cache(name, *active, *objsize), GFP_KERNEL)?;
        }
        s.caches.sort_unstable_by_key(|c| c.name);
        Ok(s)
    }

    fn names(s: &Sample) -> Result<KVec<(&[u8], bool)>> {
        let mut v = KVec::new();
        for c in s.caches.iter() {
            v.push((c.name.as_bytes(), c.listed), GFP_KERNEL)?;
        }
        Ok(v)
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
        let mut unknown = KVec::new();
        rank(&base, &latest, &mut out, &mut unknown)?;
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
        assert!(unknown.is_empty());
        Ok(())
    }

    #[test]
    fn ranks_bookkeeping_after_the_cache_it_shadows() -> Result {
        // Issue 17 item 5: on a debug kernel a leak of 777 objects of 256 bytes made
        // kmemleak_object (248 bytes, one per new object, and more) grow by more bytes and rank
        // first. Bookkeeping ranks after every other growing cache, and says so.
        let base = sample(
            0,
            &[
                (b"kmemleak_object", 22000, 248),
                (b"kintrospect_leak", 0, 256),
                (b"debug_objects_cache", 100, 64),
                (b"small", 10, 8),
            ],
        )?;
        let latest = sample(
            60_000_000_000,
            &[
                (b"kmemleak_object", 22934, 248),
                (b"kintrospect_leak", 777, 256),
                (b"debug_objects_cache", 90, 64),
                (b"small", 11, 8),
            ],
        )?;
        let mut out = KVec::new();
        let mut unknown = KVec::new();
        rank(&base, &latest, &mut out, &mut unknown)?;
        let got: KVec<(&[u8], bool)> = {
            let mut v = KVec::new();
            for d in out.iter() {
                v.push((d.name.as_bytes(), d.bookkeeping), GFP_KERNEL)?;
            }
            v
        };
        assert_eq!(
            &got[..],
            &[
                (&b"kintrospect_leak"[..], false),
                (b"small", false),
                (b"kmemleak_object", true),
                (b"debug_objects_cache", true)
            ]
        );
        assert!(out[2].bytes_delta > out[0].bytes_delta);
        Ok(())
    }

    #[test]
    fn parses_a_whole_slabinfo_and_keeps_a_name_once() -> Result {
        // L3: a cache created between two pages of slabinfo shifts the next page: the line
        // before the page boundary comes again.
        let text = b"slabinfo - version: 2.1\n\
                     # name            <active_objs> <num_objs> <objsize> <objperslab> \
                     <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata \
                     <active_slabs> <num_slabs> <sharedavail>\n\
                     zz 1 2 3 4 5 : tunables 0 0 0 : slabdata 6 7 0\n\
                     broken line\n\
                     aa 10 20 30 40 50 : tunables 0 0 0 : slabdata 60 70 0\n\
                     zz 2 2 3 4 5 : tunables 0 0 0 : slabdata 6 7 0\n";
        let mut s = Sample::empty();
        s.parse(text)?;
        assert_eq!(s.caches.len(), 2);
        assert_eq!(s.rejected, 1);
        assert_eq!(s.duplicates, 1);
        assert_eq!(s.caches[0].name.as_bytes(), b"aa");
        assert_eq!(s.caches[1].name.as_bytes(), b"zz");
        assert_eq!(s.parse(b"slabinfo - version: 3.0\n"), Err(EPROTO));
        Ok(())
    }

    #[test]
    fn a_skipped_cache_is_unknown_once_then_gone() -> Result {
        // L3: "b" is skipped by both readings of a sample: unknown (kept, not ranked, not
        // gone); "c" is only in the first reading: kept, approximate; "d" was unknown already
        // and is missing again: gone.
        let mut prev = sample(0, &[(b"a", 1, 8), (b"b", 2, 8), (b"d", 4, 8)])?;
        prev.caches[2].listed = false;
        let first = sample(1, &[(b"a", 1, 8), (b"c", 3, 8)])?;
        let mut last = sample(2, &[(b"a", 1, 8)])?;
        merge(&first, &mut last, &prev)?;
        assert_eq!(
            &names(&last)?[..],
            &[(&b"a"[..], true), (b"b", false), (b"c", true)]
        );
        assert_eq!(
            last.find(&Name::new(b"b").0).map(|c| c.active_objs),
            Some(2)
        );
        assert_eq!(last.find(&Name::new(b"c").0).map(|c| c.exact), Some(false));
        assert_eq!(last.counts(), (2, 1));
        assert_eq!(last.exactness(), (1, 1));

        let base = sample(0, &[(b"a", 1, 8), (b"b", 2, 8), (b"d", 4, 8)])?;
        let mut out = KVec::new();
        let mut unknown = KVec::new();
        rank(&base, &last, &mut out, &mut unknown)?;
        assert_eq!(unknown.len(), 1);
        assert_eq!(unknown[0].as_bytes(), b"b");
        assert!(out.iter().all(|d| d.name.as_bytes() != b"b"));
        let d = out.iter().find(|d| d.name.as_bytes() == b"d");
        assert_eq!(d.map(|d| d.active_objs_delta), Some(-4));
        Ok(())
    }
}
