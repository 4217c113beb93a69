// SPDX-License-Identifier: GPL-2.0

//! The slab trend: the last K intervals of every cache, and the rule that makes a suspect.
//!
//! Every sample records each cache's active object count in a per-cache ring of K + 1 values
//! (K intervals). A cache is a *suspect* when its count grew in at least M of the intervals the
//! ring holds, and is higher at the end of the ring than at its start: slow, steady growth of
//! objects that stay referenced, which kmemleak cannot see and which one slabinfo reading
//! cannot tell from noise. A cache that grows a little most of the time but shrinks overall
//! (freed in bulk now and then) is no suspect.
//!
//! Memory is bounded: at most [`MAX_TRACKED`] caches are tracked (the others are counted as
//! dropped), K is at most [`MAX_SAMPLES`], and a cache that disappears is forgotten.

use super::parse::{
    Cache,
    Name, //
};
use kernel::prelude::*;

/// Largest K (`slab_trend_samples`).
pub(crate) const MAX_SAMPLES: usize = crate::bridge::SLAB_TREND_MAX as usize;

/// Most caches tracked at once.
pub(crate) const MAX_TRACKED: usize = 1024;

/// One tracked cache.
struct Entry {
    name: Name,
    /// Number of the first sample that recorded this cache.
    first: u64,
    /// Active objects, indexed by sample number modulo K + 1.
    values: KVec<u64>,
}

/// What the trend says about one cache.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub(crate) struct Verdict {
    /// Intervals in which the cache grew.
    pub(crate) grew: u32,
    /// Intervals the ring holds for this cache (at most K).
    pub(crate) intervals: u32,
    /// Whether `grew` >= M and the ring ends higher than it starts.
    pub(crate) suspect: bool,
    /// Active objects gained per minute over the ring, if it spans any time.
    pub(crate) per_min: Option<i64>,
}

/// A sample's value for a cache missing from its slabinfo listings: not known.
pub(crate) const UNKNOWN: u64 = u64::MAX;

/// The suspect rule on a cache's samples, oldest first: counts the intervals in which the
/// value grew; a suspect grew in at least `min_growth` of them and its last known value is
/// above its first (it grew overall). An interval with an [`UNKNOWN`] end is not counted.
pub(crate) fn rule(values: &[u64], min_growth: u32) -> (u32, u32, bool) {
    let mut grew = 0u32;
    let mut intervals = 0u32;
    for w in values.windows(2) {
        if w[0] == UNKNOWN || w[1] == UNKNOWN {
            continue;
        }
        intervals += 1;
        if w[1] > w[0] {
            grew += 1;
        }
    }
    let mut known = values.iter().filter(|v| **v != UNKNOWN);
    let first = known.next();
    let grew_overall = known.next_back().is_some_and(|last| Some(last) > first);
    (grew, intervals, grew >= min_growth && grew_overall)
}

/// Objects per minute from `delta` objects over `ns` nanoseconds (`None` under 1 ms).
pub(crate) fn per_minute(delta: i64, ns: u64) -> Option<i64> {
    let ms = i64::try_from(ns / 1_000_000).ok().filter(|ms| *ms > 0)?;
    Some(delta.saturating_mul(60_000) / ms)
}

/// The difference `b - a` of two counts, saturated.
pub(crate) fn diff(b: u64, a: u64) -> i64 {
    if b >= a {
        i64::try_from(b - a).unwrap_or(i64::MAX)
    } else {
        i64::try_from(a - b).map_or(i64::MIN, |d| -d)
    }
}

/// The trend of every tracked cache.
pub(crate) struct Trend {
    /// K: intervals kept.
    k: usize,
    /// M: growing intervals that make a suspect.
    m: u32,
    /// Samples recorded so far.
    nr: u64,
    /// Sample times, indexed like [`Entry::values`].
    times: KVec<u64>,
    /// Tracked caches, sorted by name.
    entries: KVec<Entry>,
    /// Caches of the latest sample that were not tracked because the table was full.
    pub(crate) dropped: usize,
}

impl Trend {
    /// An empty trend of `k` intervals (2..=[`MAX_SAMPLES`]) with suspects at `m` (1..=k).
    pub(crate) fn new(k: usize, m: u32) -> Result<Self> {
        if !(2..=MAX_SAMPLES).contains(&k) || m < 1 || m as usize > k {
            return Err(EINVAL);
        }
        let mut times = KVec::new();
        times.resize(k + 1, 0, GFP_KERNEL)?;
        Ok(Self {
            k,
            m,
            nr: 0,
            times,
            entries: KVec::new(),
            dropped: 0,
        })
    }

    /// Records a sample taken at `taken_ns`; `caches` is sorted by name. A cache the sample did
    /// not list (`listed` false) keeps its history and gets an [`UNKNOWN`] value; a cache that
    /// is not in `caches` at all is forgotten.
    pub(crate) fn record(&mut self, taken_ns: u64, caches: &[Cache]) -> Result {
        let slot = self.slot(self.nr);
        self.entries
            .retain(|e| caches.binary_search_by(|c| c.name.cmp(&e.name)).is_ok());
        self.dropped = 0;
        for c in caches {
            let i = match self.entries.binary_search_by(|e| e.name.cmp(&c.name)) {
                Ok(i) => i,
                Err(_) if self.entries.len() >= MAX_TRACKED => {
                    self.dropped += 1;
                    continue;
                }
                Err(i) => {
                    let mut values = KVec::new();
                    values.resize(self.k + 1, 0, GFP_KERNEL)?;
                    let entry = Entry {
                        name: c.name,
                        first: self.nr,
                        values,
                    };
                    self.entries.reserve(1, GFP_KERNEL)?;
                    self.entries
                        .insert_within_capacity(i, entry)
                        .map_err(|_| ENOMEM)?;
                    i
                }
            };
            if let Some(v) = self.entries[i].values.get_mut(slot) {
                *v = if c.listed { c.active_objs } else { UNKNOWN };
            }
        }
        if let Some(t) = self.times.get_mut(slot) {
            *t = taken_ns;
        }
        self.nr += 1;
        Ok(())
    }

    /// The ring slot of sample number `n`.
    fn slot(&self, n: u64) -> usize {
        // The remainder is at most K (64), so it fits in a `usize`.
        (n % (self.k as u64 + 1)) as usize
    }

    /// What the trend says about cache `name` (`None` if it is not tracked).
    pub(crate) fn verdict(&self, name: &Name) -> Option<Verdict> {
        let e = &self.entries[self.entries.binary_search_by(|e| e.name.cmp(name)).ok()?];
        let from = e.first.max(self.nr.saturating_sub(self.k as u64 + 1));
        let mut values = [0u64; MAX_SAMPLES + 1];
        let mut n = 0;
        for s in from..self.nr {
            if let (Some(d), Some(v)) = (values.get_mut(n), e.values.get(self.slot(s))) {
                *d = *v;
                n += 1;
            }
        }
        let values = &values[..n];
        let (grew, intervals, suspect) = rule(values, self.m);
        // The rate between the first and the last known values.
        let first = values.iter().position(|v| *v != UNKNOWN);
        let last = values.iter().rposition(|v| *v != UNKNOWN);
        let per_min = match (first, last) {
            (Some(a), Some(b)) if b > a => {
                let t0 = self
                    .times
                    .get(self.slot(from + a as u64))
                    .copied()
                    .unwrap_or(0);
                let t1 = self
                    .times
                    .get(self.slot(from + b as u64))
                    .copied()
                    .unwrap_or(0);
                per_minute(diff(values[b], values[a]), t1.saturating_sub(t0))
            }
            _ => None,
        };
        Some(Verdict {
            grew,
            intervals,
            suspect,
            per_min,
        })
    }

    /// Caches tracked now.
    pub(crate) fn tracked(&self) -> usize {
        self.entries.len()
    }

    /// Bytes the trend holds allocated.
    pub(crate) fn memory(&self) -> usize {
        let ring = (self.k + 1) * core::mem::size_of::<u64>();
        core::mem::size_of::<Self>()
            + self.times.capacity() * core::mem::size_of::<u64>()
            + self.entries.capacity() * core::mem::size_of::<Entry>()
            + self.entries.len() * ring
    }
}

#[cfg(kintrospect_kunit)]
#[kernel::macros::kunit_tests(kintrospect_slab_trend)]
mod tests {
    use super::*;

    #[test]
    fn rule_counts_growing_intervals() {
        assert_eq!(rule(&[1, 2, 3, 4], 3), (3, 3, true));
        assert_eq!(rule(&[1, 2, 2, 3], 3), (2, 3, false));
        assert_eq!(rule(&[5, 4, 3, 2], 1), (0, 3, false));
        assert_eq!(rule(&[7], 1), (0, 0, false));
        assert_eq!(rule(&[], 1), (0, 0, false));
        // Noise that goes up and down does not add up to a suspect.
        assert_eq!(rule(&[1, 3, 2, 4, 3, 5], 4), (3, 5, false));
        // Issue 17 item 5: maple_node grew in 5 of 6 intervals but was freed in bulk in the
        // sixth, -9458 objects/min overall: it shrinks, it is no growth suspect.
        assert_eq!(
            rule(&[20000, 20010, 20020, 20030, 20040, 20050, 10000], 5),
            (5, 6, false)
        );
        assert_eq!(
            rule(&[20000, 20010, 20020, 20030, 20040, 20050, 20001], 5),
            (5, 6, true)
        );
        assert_eq!(rule(&[UNKNOWN, 5, 6, UNKNOWN], 1), (1, 1, true));
    }

    #[test]
    fn rates_per_minute() {
        assert_eq!(per_minute(10, 60_000_000_000), Some(10));
        assert_eq!(per_minute(-5, 30_000_000_000), Some(-10));
        assert_eq!(per_minute(1, 999_999), None);
        assert_eq!(diff(3, 5), -2);
        assert_eq!(diff(u64::MAX, 0), i64::MAX);
    }

    #[test]
    fn marks_a_steady_grower_and_not_a_flat_cache() -> Result {
        let mut t = Trend::new(4, 3)?;
        for i in 0..10u64 {
            let caches = [
                Cache::for_test(b"flat", 100),
                Cache::for_test(b"grow", 100 + i),
            ];
            t.record(i * 1_000_000_000, &caches)?;
        }
        let Some(grow) = t.verdict(&Name::new(b"grow").0) else {
            panic!("the growing cache is not tracked");
        };
        assert_eq!((grow.grew, grow.intervals, grow.suspect), (4, 4, true));
        // 4 objects over the last 4 s.
        assert_eq!(grow.per_min, Some(60));
        let Some(flat) = t.verdict(&Name::new(b"flat").0) else {
            panic!("the flat cache is not tracked");
        };
        assert_eq!((flat.grew, flat.intervals, flat.suspect), (0, 4, false));
        Ok(())
    }

    #[test]
    fn forgets_vanished_caches_and_starts_new_ones_fresh() -> Result {
        let mut t = Trend::new(4, 2)?;
        t.record(0, &[Cache::for_test(b"a", 1), Cache::for_test(b"b", 1)])?;
        t.record(1_000_000, &[Cache::for_test(b"b", 2)])?;
        assert!(t.verdict(&Name::new(b"a").0).is_none());
        t.record(
            2_000_000,
            &[Cache::for_test(b"a", 5), Cache::for_test(b"b", 3)],
        )?;
        let a = t.verdict(&Name::new(b"a").0);
        assert_eq!(a.map(|v| v.intervals), Some(0));
        let b = t.verdict(&Name::new(b"b").0);
        assert_eq!(b.map(|v| (v.grew, v.suspect)), Some((2, true)));
        assert_eq!(t.tracked(), 2);
        Ok(())
    }

    #[test]
    fn keeps_an_unlisted_cache_and_skips_its_unknown_interval() -> Result {
        // L3: a cache that one sample's listing skipped is not forgotten, and the intervals
        // next to the unknown value count neither as growth nor at all.
        let mut t = Trend::new(4, 2)?;
        let skipped = Cache {
            listed: false,
            ..Cache::for_test(b"a", 0)
        };
        t.record(0, &[Cache::for_test(b"a", 10)])?;
        t.record(1_000_000_000, &[Cache::for_test(b"a", 11)])?;
        t.record(2_000_000_000, &[skipped])?;
        t.record(3_000_000_000, &[Cache::for_test(b"a", 12)])?;
        let v = t.verdict(&Name::new(b"a").0);
        assert_eq!(v.map(|v| (v.grew, v.intervals)), Some((1, 1)));
        // Two objects over 3 s, from the first to the last known value.
        assert_eq!(v.and_then(|v| v.per_min), Some(40));
        assert_eq!(rule(&[1, UNKNOWN, 5], 1), (0, 0, false));
        Ok(())
    }

    #[test]
    fn rejects_bad_parameters() {
        assert!(Trend::new(1, 1).is_err());
        assert!(Trend::new(MAX_SAMPLES + 1, 1).is_err());
        assert!(Trend::new(4, 0).is_err());
        assert!(Trend::new(4, 5).is_err());
    }
}
