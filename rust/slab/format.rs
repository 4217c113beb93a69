// SPDX-License-Identifier: GPL-2.0

//! The `slab_delta` and `slab_delta.json` files: the same data for people and for tools.
//!
//! Formatting only reads the state taken by the last sample, so it is deterministic (the
//! seq_file may call it twice for one read) and never reads a kernel file itself.

use super::{
    sites::{
        self,
        Found,
        Sites, //
    },
    Delta,
    Params,
    Precision,
    State, //
};
use crate::{
    bridge::{
        FlushError,
        FLUSH_TIMEOUT_MS,
        PROBE_TIMEOUT_MS, //
    },
    json,
};
use kernel::{
    fmt::{
        self,
        Write, //
    },
    prelude::*,
};

/// What the text says for a cache without `alloc_traces`.
pub(crate) const NO_SITES: &str = "not available (boot with slab_debug=U for SLUB user tracking)";

/// What the text says when the kernel has no `/proc/allocinfo`.
pub(crate) const NO_ALLOCINFO: &str =
    "/proc/allocinfo: not available (the kernel is built without CONFIG_MEM_ALLOC_PROFILING)";

/// A cache name for people (cache names are ASCII; anything else shows as `?`).
fn name(bytes: &[u8]) -> &str {
    core::str::from_utf8(bytes).unwrap_or("?")
}

/// `ns` as seconds with milliseconds.
struct Secs(u64);

impl fmt::Display for Secs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{:03} s",
            self.0 / 1_000_000_000,
            self.0 / 1_000_000 % 1_000
        )
    }
}

/// Why a flush did not complete, for people.
struct Why(FlushError);

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            FlushError::CpuStuck { cpu, nr } => {
                write!(f, "CPU {cpu}")?;
                if nr > 1 {
                    write!(f, " (and {} other CPUs)", nr - 1)?;
                }
                write!(
                    f,
                    " ran no work item within {PROBE_TIMEOUT_MS} ms; SLUB's flush would wait for \
                     it, so nothing was flushed"
                )
            }
            FlushError::Busy => {
                f.write_str("CPU hotplug in progress, or an earlier flush has still not returned")
            }
            FlushError::TimedOut => write!(
                f,
                "the flush did not end within {FLUSH_TIMEOUT_MS} ms (a CPU may be stuck)"
            ),
            FlushError::Interrupted => f.write_str("the writer was killed during the flush"),
            FlushError::Other(e) => write!(f, "the flush failed ({e:?})"),
        }
    }
}

/// How a sample's counts were taken, for people: the precision, the caches exact, approximate
/// and, among those, not flushed because their change is beyond what their sheaves hold.
struct How(Precision, usize, usize, usize);

impl fmt::Display for How {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let How(p, exact, approximate, beyond) = *self;
        let unflushed = approximate - beyond.min(approximate);
        match p {
            Precision::None => f.write_str("none")?,
            Precision::NoSheaves => f.write_str(
                "exact (no cache has per-CPU sheaves: SLUB debugging such as slab_debug=U \
                 turns them off)",
            )?,
            Precision::Flushed {
                caches,
                duration_ns,
            } if unflushed == 0 => f.write_fmt(fmt!(
                "exact (per-CPU sheaves of {caches} caches flushed in {} before the reading)",
                Secs(duration_ns)
            ))?,
            Precision::Flushed {
                caches,
                duration_ns,
            } => f.write_fmt(fmt!(
                "{exact} caches exact, {unflushed} APPROXIMATE (marked ~: not flushed, e.g. \
                 more than {} partial slabs, or created meanwhile); {caches} flushed in {}",
                super::SHRINK_MAX_PARTIAL,
                Secs(duration_ns)
            ))?,
            Precision::Approximate(why) => f.write_fmt(fmt!(
                "APPROXIMATE for {unflushed} caches (marked ~: they count objects cached in \
                 per-CPU sheaves as active): {}",
                Why(why)
            ))?,
        }
        if beyond != 0 {
            write!(
                f,
                "; {beyond} caches not flushed, their change beyond what their sheaves hold \
                 (marked{BEYOND}N])"
            )?;
        }
        Ok(())
    }
}

/// A sample's precision as one JSON word.
fn precision_word(p: Precision) -> &'static str {
    match p {
        Precision::None => "none",
        Precision::NoSheaves => "no_sheaves",
        Precision::Flushed { .. } => "flushed",
        Precision::Approximate(_) => "approximate",
    }
}

/// What marks a debug feature's bookkeeping cache in the text.
const BOOKKEEPING: &str = " [bookkeeping]";

/// What marks a cache not flushed because its change is beyond the bound of objects its sheaves
/// can hold (followed by the bound).
const BEYOND: &str = " [not flushed: beyond ";

/// Ends a ranked line of `d`: `~` when approximate, [`BEYOND`], [`BOOKKEEPING`].
fn write_marks(f: &mut fmt::Formatter<'_>, d: &Delta) -> fmt::Result {
    if !d.exact {
        f.write_str(" ~")?;
    }
    if let Some(bound) = d.beyond {
        write!(f, "{BEYOND}{bound}]")?;
    }
    if d.bookkeeping {
        f.write_str(BOOKKEEPING)?;
    }
    f.write_char('\n')
}

/// Says what [`BEYOND`] means, if any of `deltas` is marked so.
fn write_beyond_note<'a>(
    f: &mut fmt::Formatter<'_>,
    mut deltas: impl Iterator<Item = &'a Delta>,
) -> fmt::Result {
    if deltas.any(|d| d.beyond.is_some()) {
        writeln!(
            f,
            "  [not flushed: beyond N]: changed since the baseline by more than the N objects its \
             per-CPU sheaves can hold, so not flushed: it grew (or shrank) for certain, by the \
             delta give or take N objects"
        )?;
    }
    Ok(())
}

/// Says what [`BOOKKEEPING`] means, if any of `deltas` is marked so.
fn write_bookkeeping_note<'a>(
    f: &mut fmt::Formatter<'_>,
    mut deltas: impl Iterator<Item = &'a Delta>,
) -> fmt::Result {
    if deltas.any(|d| d.bookkeeping) {
        writeln!(
            f,
            "  [bookkeeping]: a debug feature's record of other allocations (kmemleak, \
             debugobjects); it grows with what it tracks and is ranked after it"
        )?;
    }
    Ok(())
}

/// One ranked line: name, size, objects and deltas, bytes; `~` when approximate,
/// [`BOOKKEEPING`] for a debug feature's bookkeeping cache.
fn write_row(f: &mut fmt::Formatter<'_>, d: &Delta) -> fmt::Result {
    write!(
        f,
        "  {:<24} {:>7} {:>11} {:>+9} {:>11} {:>+9} {:>+13}",
        name(d.name.as_bytes()),
        d.objsize,
        d.active_objs,
        d.active_objs_delta,
        d.num_objs,
        d.total_objs_delta,
        d.bytes_delta
    )?;
    write_marks(f, d)
}

/// Writes the allocation sites section.
fn write_sites(f: &mut fmt::Formatter<'_>, sites: Option<&Sites>, latest: u64) -> fmt::Result {
    let Some(sites) = sites else {
        return writeln!(
            f,
            "allocation sites: not looked up; write \"snapshot slab sites\" to control (it opens \
             SLUB's alloc_traces, which walks every object of a cache with IRQs off: at most \
             {} caches of up to {} objects, once every {} s)",
            sites::MAX_CACHES,
            sites::MAX_OBJECTS,
            sites::MIN_INTERVAL_MS / 1000
        );
    };
    f.write_fmt(fmt!(
        "allocation sites (snapshot slab sites with sample {} at {}",
        sites.seq,
        Secs(sites.taken_ns)
    ))?;
    if sites.seq != latest {
        write!(f, ", not the latest sample")?;
    }
    writeln!(f, "; SLUB alloc_traces: live objects per call site):")?;
    if sites.caches.is_empty() {
        writeln!(f, "  no growing cache to look up")?;
    }
    for c in sites.caches.iter() {
        write!(f, "  {}:", name(c.name.as_bytes()))?;
        match &c.found {
            Found::Sites(list) if list.is_empty() => writeln!(f, " none recorded")?,
            Found::Sites(list) => {
                f.write_char('\n')?;
                for site in list.iter() {
                    write!(f, "    {:>9}  ", site.count)?;
                    crate::demangle::write(f, site.symbol())?;
                    f.write_char('\n')?;
                }
            }
            Found::TooLarge => writeln!(
                f,
                " skipped: {} objects, more than {} (alloc_traces would walk them all with \
                 IRQs off)",
                c.num_objs,
                sites::MAX_OBJECTS
            )?,
            Found::NotAvailable => writeln!(f, " {NO_SITES}")?,
            Found::Error(e) => writeln!(f, " error {e:?}")?,
        }
    }
    match &sites.allocinfo {
        None => writeln!(f, "{NO_ALLOCINFO}"),
        Some(top) => {
            writeln!(
                f,
                "/proc/allocinfo, top sites by bytes (all allocations, not per cache):"
            )?;
            for site in top.iter() {
                writeln!(f, "    {:>12}  {}", site.count, name(site.symbol()))?;
            }
            Ok(())
        }
    }
}

/// Writes `slab_delta`.
pub(crate) fn text(s: &State, p: &Params, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let base = &s.baseline;
    let latest = &s.latest;
    if p.interval_ms != 0 {
        writeln!(
            f,
            "periodic sampling every {} ms; suspect: grew in >= {} of the last {} intervals",
            p.interval_ms, p.m, p.k
        )?;
    } else {
        writeln!(
            f,
            "periodic sampling off (slab_interval_ms=0); suspect: grew in >= {} of the last {} \
             samples' intervals",
            p.m, p.k
        )?;
    }
    if latest.seq == 0 {
        return f.write_fmt(fmt!(
            "baseline: sample {} at {}, {} caches; counts {}\n\
             no sample since the baseline: write \"snapshot slab\" to control\n",
            base.seq,
            Secs(base.taken_ns),
            base.caches,
            How(base.precision, base.exact, base.approximate, 0)
        ));
    }
    let (listed, nr_unknown) = latest.counts();
    let (exact, approximate) = latest.exactness();
    f.write_fmt(fmt!(
        "sample {} at {}, {} after the baseline (sample {} at {}); {} caches\n",
        latest.seq,
        Secs(latest.taken_ns),
        Secs(latest.taken_ns.saturating_sub(base.taken_ns)),
        base.seq,
        Secs(base.taken_ns),
        listed
    ))?;
    f.write_fmt(fmt!(
        "counts: {}\n",
        How(latest.precision, exact, approximate, latest.beyond())
    ))?;
    f.write_fmt(fmt!(
        "baseline counts: {}\n",
        How(base.precision, base.exact, base.approximate, 0)
    ))?;
    if latest.rejected != 0 || latest.cut_names != 0 || latest.truncated {
        writeln!(
            f,
            "warning: {} slabinfo lines rejected, {} names cut{}",
            latest.rejected,
            latest.cut_names,
            if latest.truncated {
                ", slabinfo longer than 1 MiB: its end is missing"
            } else {
                ""
            }
        )?;
    }
    if nr_unknown != 0 {
        write!(
            f,
            "unknown: {nr_unknown} caches missing from this sample's slabinfo listings (it \
             skips a cache while others are created or destroyed), kept, not ranked:"
        )?;
        for n in s.unknown.iter() {
            write!(f, " {}", name(n.as_bytes()))?;
        }
        f.write_char('\n')?;
    }

    let suspects = s.deltas.iter().filter(|d| d.trend.suspect);
    if s.deltas.iter().any(|d| d.trend.suspect) {
        writeln!(f, "\nsuspects (steady growth), most bytes first:")?;
        writeln!(
            f,
            "  {:<24} {:>11} {:>9} {:>11} {:>+9} {:>13}",
            "name", "objs/min", "grew", "active_objs", "delta", "bytes_delta"
        )?;
        for d in suspects {
            write!(f, "  {:<24} ", name(d.name.as_bytes()))?;
            match d.per_min {
                Some(r) => write!(f, "{r:>+11}")?,
                None => write!(f, "{:>11}", "-")?,
            }
            write!(
                f,
                " {:>4}/{:<4} {:>11} {:>+9} {:>+13}",
                d.trend.grew, d.trend.intervals, d.active_objs, d.active_objs_delta, d.bytes_delta
            )?;
            write_marks(f, d)?;
        }
        write_bookkeeping_note(f, s.deltas.iter().filter(|d| d.trend.suspect))?;
        write_beyond_note(f, s.deltas.iter().filter(|d| d.trend.suspect))?;
    } else {
        writeln!(f, "\nsuspects: none")?;
    }

    writeln!(
        f,
        "\nranked by bytes grown since the baseline (active objects x objsize; ~ approximate):"
    )?;
    writeln!(
        f,
        "  {:<24} {:>7} {:>11} {:>9} {:>11} {:>9} {:>13}",
        "name", "objsize", "active_objs", "delta", "total_objs", "delta", "bytes_delta"
    )?;
    for d in s.deltas.iter().filter(|d| d.bytes_delta > 0) {
        write_row(f, d)?;
    }
    write_bookkeeping_note(f, s.deltas.iter().filter(|d| d.bytes_delta > 0))?;
    write_beyond_note(f, s.deltas.iter().filter(|d| d.bytes_delta > 0))?;
    if s.deltas.iter().any(|d| d.bytes_delta < 0) {
        writeln!(f, "shrinking:")?;
        for d in s.deltas.iter().filter(|d| d.bytes_delta < 0) {
            write_row(f, d)?;
        }
        write_beyond_note(f, s.deltas.iter().filter(|d| d.bytes_delta < 0))?;
    }
    let same = s.deltas.iter().filter(|d| d.bytes_delta == 0).count();
    writeln!(f, "{same} caches unchanged")?;

    f.write_char('\n')?;
    write_sites(f, s.sites.as_ref(), latest.seq)?;
    if s.sites.is_none() && !s.allocinfo {
        writeln!(f, "{NO_ALLOCINFO}")?;
    }
    Ok(())
}

/// Writes the `"sites"` member of `slab_delta.json`.
fn json_sites(o: &mut json::Object<'_, '_>, sites: Option<&Sites>) -> fmt::Result {
    let Some(sites) = sites else {
        o.field("sites", None::<u64>)?;
        return Ok(());
    };
    o.object("sites", |o| {
        o.field("seq", sites.seq)?
            .field("taken_ns", sites.taken_ns)?
            .array("caches", |a| {
                for c in sites.caches.iter() {
                    let status = match &c.found {
                        Found::Sites(_) => "found",
                        Found::TooLarge => "too_many_objects",
                        Found::NotAvailable => "not_available",
                        Found::Error(_) => "error",
                    };
                    a.object(|o| {
                        o.field("name", json::Str(c.name.as_bytes()))?
                            .field("num_objs", c.num_objs)?
                            .field("status", status)?;
                        if let Found::Error(e) = &c.found {
                            o.field("errno", e.to_errno())?;
                        }
                        o.array("sites", |a| {
                            if let Found::Sites(list) = &c.found {
                                for site in list.iter() {
                                    a.object(|o| {
                                        o.field("count", site.count)?
                                            .field("site", json::Symbol(site.symbol()))?;
                                        Ok(())
                                    })?;
                                }
                            }
                            Ok(())
                        })?;
                        Ok(())
                    })?;
                }
                Ok(())
            })?;
        Ok(())
    })?;
    Ok(())
}

/// Writes `slab_delta.json`.
pub(crate) fn json(s: &State, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let latest = &s.latest;
    let (exact, approximate) = latest.exactness();
    let deltas = if latest.seq == 0 {
        &[][..]
    } else {
        &s.deltas[..]
    };
    json::object(f, |o| {
        o.field("seq", latest.seq)?
            .field("baseline_ns", s.baseline.taken_ns)?
            .field("taken_ns", latest.taken_ns)?
            .field("precision", precision_word(latest.precision))?
            .field("baseline_precision", precision_word(s.baseline.precision))?
            .field("exact_caches", exact)?
            .field("approximate_caches", approximate)?
            .field("beyond_bound_caches", latest.beyond())?
            .field("duplicates", latest.duplicates)?;
        match latest.precision {
            Precision::Approximate(why) => o.field("precision_reason", json::Text(&Why(why)))?,
            _ => o.field("precision_reason", None::<u64>)?,
        };
        o.array("unknown", |a| {
            for n in s.unknown.iter() {
                a.value(json::Str(n.as_bytes()))?;
            }
            Ok(())
        })?
        .array("caches", |a| {
            for d in deltas.iter() {
                a.object(|o| {
                    o.field("name", json::Str(d.name.as_bytes()))?
                        .field("objsize", d.objsize)?
                        .field("active_objs", d.active_objs)?
                        .field("active_objs_delta", d.active_objs_delta)?
                        .field("num_objs", d.num_objs)?
                        .field("total_objs_delta", d.total_objs_delta)?
                        .field("bytes_delta", d.bytes_delta)?
                        .field("exact", d.exact)?
                        .field("bookkeeping", d.bookkeeping)?
                        .field("suspect", d.trend.suspect)?
                        .field("grew_intervals", d.trend.grew)?
                        .field("intervals", d.trend.intervals)?
                        .field("growth_per_min", d.per_min)?
                        .field("beyond_bound", d.beyond)?;
                    Ok(())
                })?;
            }
            Ok(())
        })?;
        json_sites(o, s.sites.as_ref())
    })?;
    f.write_char('\n')
}

#[cfg(kintrospect_kunit)]
#[kernel::macros::kunit_tests(kintrospect_slab_format)]
mod tests {
    use super::*;
    use crate::slab::{
        parse::Site,
        sites::CacheSites,
        Name, //
    };
    use kernel::str::CString;

    struct SitesText<'a>(&'a Sites);

    impl fmt::Display for SitesText<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write_sites(f, Some(self.0), self.0.seq)
        }
    }

    struct SitesJson<'a>(&'a Sites);

    impl fmt::Display for SitesJson<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            json::object(f, |o| json_sites(o, Some(self.0)))
        }
    }

    struct StateText<'a>(&'a State, &'a Params);

    impl fmt::Display for StateText<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            text(self.0, self.1, f)
        }
    }

    struct StateJson<'a>(&'a State);

    impl fmt::Display for StateJson<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            json(self.0, f)
        }
    }

    fn delta(name: &[u8], objsize: u64, objs: i64, suspect: bool) -> Delta {
        let n = Name::new(name).0;
        Delta {
            name: n,
            objsize,
            active_objs: 30000,
            num_objs: 30000,
            active_objs_delta: objs,
            total_objs_delta: objs,
            bytes_delta: objs * objsize as i64,
            exact: true,
            beyond: None,
            bookkeeping: crate::slab::sample::bookkeeping(&n),
            trend: crate::slab::trend::Verdict {
                grew: 6,
                intervals: 6,
                suspect,
                per_min: Some(objs),
            },
            per_min: Some(objs),
        }
    }

    fn state(deltas: &[Delta]) -> Result<State> {
        let mut latest = crate::slab::Sample::empty();
        latest.seq = 2;
        latest.precision = Precision::NoSheaves;
        let mut v = KVec::new();
        v.extend_from_slice(deltas, GFP_KERNEL)?;
        Ok(State {
            baseline: super::super::Baseline {
                seq: 1,
                taken_ns: 0,
                caches: 2,
                precision: Precision::NoSheaves,
                exact: 2,
                approximate: 0,
            },
            latest,
            deltas: v,
            unknown: KVec::new(),
            sites: None,
            allocinfo: false,
            trend_tracked: 0,
            trend_dropped: 0,
            trend_memory: 0,
            buf_bytes: 0,
            tick_errors: 0,
            tick_last_error: 0,
            busy_skips: 0,
        })
    }

    /// Issue 17 item 5: kmemleak's own record of the leak is marked as bookkeeping in the text
    /// and the JSON (ranked after the leak by `rank()`, see the sample tests).
    #[test]
    fn marks_bookkeeping_caches() -> Result {
        let s = state(&[
            delta(b"kintrospect_leak", 256, 777, true),
            delta(b"kmemleak_object", 248, 934, true),
        ])?;
        let p = Params {
            interval_ms: 1000,
            k: 6,
            m: 5,
        };
        let text = CString::try_from_fmt(fmt!("{}", StateText(&s, &p)))?;
        let text = text.to_bytes();
        let has = |want: &[u8]| text.windows(want.len()).any(|w| w == want);
        assert!(has(b"+231632 [bookkeeping]\n"));
        assert!(has(b"+198912\n"));
        assert!(has(
            b"\n  [bookkeeping]: a debug feature's record of other allocations"
        ));
        let json = CString::try_from_fmt(fmt!("{}", StateJson(&s)))?;
        let json = json.to_bytes();
        let has = |want: &[u8]| json.windows(want.len()).any(|w| w == want);
        assert!(has(
            b"\"name\":\"kmemleak_object\",\"objsize\":248,\"active_objs\":30000,\
                     \"active_objs_delta\":934,\"num_objs\":30000,\"total_objs_delta\":934,\
                     \"bytes_delta\":231632,\"exact\":true,\"bookkeeping\":true,"
        ));
        assert!(has(
            b"\"bytes_delta\":198912,\"exact\":true,\"bookkeeping\":false,"
        ));
        Ok(())
    }

    /// Issue 21: a cache not flushed because it grew by more than its sheaves can hold says so,
    /// with the bound, in the text and the JSON; a flushed one has no mark.
    #[test]
    fn marks_caches_beyond_their_sheaves() -> Result {
        let mut big = delta(b"kintrospect_leak", 256, 20001, false);
        big.exact = false;
        big.beyond = Some(1008);
        let mut s = state(&[big, delta(b"kmalloc-64", 64, 3, false)])?;
        s.latest.precision = Precision::Flushed {
            caches: 1,
            duration_ns: 2_000_000,
        };
        for (name, beyond) in [
            (&b"kintrospect_leak"[..], Some(1008)),
            (b"kmalloc-64", None),
        ] {
            let (cache, _) =
                crate::slab::parse::slabinfo_line(b"x 1 2 3 4 5 : tunables 0 0 0 : slabdata 6 7 0")
                    .ok_or(EINVAL)?;
            s.latest.caches.push(
                crate::slab::parse::Cache {
                    name: Name::new(name).0,
                    exact: beyond.is_none(),
                    beyond,
                    ..cache
                },
                GFP_KERNEL,
            )?;
        }
        let p = Params {
            interval_ms: 0,
            k: 6,
            m: 5,
        };
        let text = CString::try_from_fmt(fmt!("{}", StateText(&s, &p)))?;
        let text = text.to_bytes();
        let has = |want: &[u8]| text.windows(want.len()).any(|w| w == want);
        assert!(has(b"+5120256 ~ [not flushed: beyond 1008]\n"));
        assert!(has(b"+192\n"));
        assert!(has(
            b"\n  [not flushed: beyond N]: changed since the baseline by more than"
        ));
        assert!(has(
            b"\ncounts: exact (per-CPU sheaves of 1 caches flushed in 0.002 s before the \
              reading); 1 caches not flushed, their change beyond what their sheaves hold \
              (marked [not flushed: beyond N])\n"
        ));
        let json = CString::try_from_fmt(fmt!("{}", StateJson(&s)))?;
        let json = json.to_bytes();
        let has = |want: &[u8]| json.windows(want.len()).any(|w| w == want);
        assert!(has(b"\"bytes_delta\":5120256,\"exact\":false,"));
        assert!(has(b"\"growth_per_min\":20001,\"beyond_bound\":1008}"));
        assert!(has(b"\"growth_per_min\":3,\"beyond_bound\":null}"));
        assert!(has(
            b"\"exact_caches\":1,\"approximate_caches\":1,\"beyond_bound_caches\":1,"
        ));
        Ok(())
    }

    /// Allocation sites in Rust code read like frames: demangled, with `+off/size [module]`,
    /// in the text and in the JSON (before, the mangled `_R...` name was shown).
    #[test]
    fn demangles_rust_sites() -> Result {
        let mut list = KVec::new();
        list.push(
            Site::new(
                78,
                b"_RNvNtCsjsgonXbPYzo_16kintrospect_main5files4spin+0x8a/0xd2",
                Some(b"[kintrospect]"),
            ),
            GFP_KERNEL,
        )?;
        list.push(Site::new(5, b"kmem_cache_alloc+0x1/0x2", None), GFP_KERNEL)?;
        let mut caches = KVec::new();
        caches.push(
            CacheSites {
                name: Name::new(b"kmalloc-96").0,
                num_objs: 714,
                found: Found::Sites(list),
            },
            GFP_KERNEL,
        )?;
        let sites = Sites {
            seq: 3,
            taken_ns: 10_586_000_000,
            caches,
            allocinfo: None,
        };
        let text = CString::try_from_fmt(fmt!("{}", SitesText(&sites)))?;
        let text = text.to_bytes();
        let want: &[u8] =
            b"  kmalloc-96:\n           78  kintrospect_main::files::spin+0x8a/0xd2 [kintrospect]\n\
              \x20           5  kmem_cache_alloc+0x1/0x2\n";
        assert!(text.windows(want.len()).any(|w| w == want));
        let json = CString::try_from_fmt(fmt!("{}", SitesJson(&sites)))?;
        let want: &[u8] = b"\"sites\":[{\"count\":78,\"site\":\"kintrospect_main::files::spin\
                            +0x8a/0xd2 [kintrospect]\"},{\"count\":5,\"site\":\
                            \"kmem_cache_alloc+0x1/0x2\"}]";
        assert!(json.to_bytes().windows(want.len()).any(|w| w == want));
        Ok(())
    }
}
