// SPDX-License-Identifier: GPL-2.0

//! The `slab_delta` and `slab_delta.json` files: the same data for people and for tools.
//!
//! Formatting only reads the state taken by the last sample, so it is deterministic (the
//! seq_file may call it twice for one read) and never reads a kernel file itself.

use super::{
    CacheSites,
    Delta,
    Params,
    SiteSource,
    State, //
};
use crate::json;
use kernel::{
    fmt::{
        self,
        Write, //
    },
    prelude::*,
};

/// What the text says when there are no allocation sites.
pub(crate) const NO_SITES: &str =
    "allocation sites: not available (boot with slab_debug=U for SLUB user tracking)";

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

/// One ranked line: name, size, objects and deltas, bytes.
fn write_row(f: &mut fmt::Formatter<'_>, d: &Delta) -> fmt::Result {
    writeln!(
        f,
        "  {:<24} {:>7} {:>11} {:>+9} {:>11} {:>+9} {:>+13}",
        name(d.name.as_bytes()),
        d.objsize,
        d.active_objs,
        d.active_objs_delta,
        d.num_objs,
        d.total_objs_delta,
        d.bytes_delta
    )
}

/// The sites looked up for cache `d`, if any.
fn sites_of<'a>(s: &'a State, d: &Delta) -> Option<&'a CacheSites> {
    s.sites.iter().find(|c| c.name == d.name)
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
            "baseline: sample {} at {}, {} caches\n\
             no sample since the baseline: write \"snapshot slab\" to control\n",
            base.seq,
            Secs(base.taken_ns),
            base.caches.len()
        ));
    }
    f.write_fmt(fmt!(
        "sample {} at {}, {} after the baseline (sample {} at {}); {} caches\n",
        latest.seq,
        Secs(latest.taken_ns),
        Secs(latest.taken_ns.saturating_sub(base.taken_ns)),
        base.seq,
        Secs(base.taken_ns),
        latest.caches.len()
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
            writeln!(
                f,
                " {:>4}/{:<4} {:>11} {:>+9} {:>+13}",
                d.trend.grew, d.trend.intervals, d.active_objs, d.active_objs_delta, d.bytes_delta
            )?;
        }
    } else {
        writeln!(f, "\nsuspects: none")?;
    }

    writeln!(
        f,
        "\nranked by bytes grown since the baseline (active objects x objsize):"
    )?;
    writeln!(
        f,
        "  {:<24} {:>7} {:>11} {:>9} {:>11} {:>9} {:>13}",
        "name", "objsize", "active_objs", "delta", "total_objs", "delta", "bytes_delta"
    )?;
    for d in s.deltas.iter().filter(|d| d.bytes_delta > 0) {
        write_row(f, d)?;
    }
    if s.deltas.iter().any(|d| d.bytes_delta < 0) {
        writeln!(f, "shrinking:")?;
        for d in s.deltas.iter().filter(|d| d.bytes_delta < 0) {
            write_row(f, d)?;
        }
    }
    let same = s.deltas.iter().filter(|d| d.bytes_delta == 0).count();
    writeln!(f, "{same} caches unchanged")?;

    f.write_char('\n')?;
    if s.site_source == SiteSource::AllocTraces {
        writeln!(
            f,
            "allocation sites (SLUB alloc_traces: live objects per call site):"
        )?;
        for d in s.deltas.iter() {
            let Some(c) = sites_of(s, d) else {
                continue;
            };
            writeln!(f, "  {}:", name(d.name.as_bytes()))?;
            if c.sites.is_empty() {
                writeln!(f, "    none recorded")?;
            }
            for site in c.sites.iter() {
                writeln!(f, "    {:>9}  {}", site.count, name(site.symbol()))?;
            }
        }
    } else if s.site_source == SiteSource::NotAvailable {
        writeln!(f, "{NO_SITES}")?;
    } else {
        writeln!(f, "allocation sites: no growing cache to look up")?;
    }
    match &s.allocinfo {
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

/// Writes `slab_delta.json`.
pub(crate) fn json(s: &State, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let latest = &s.latest;
    write!(
        f,
        "{{\"seq\":{},\"baseline_ns\":{},\"taken_ns\":{},\"caches\":[",
        latest.seq, s.baseline.taken_ns, latest.taken_ns
    )?;
    let deltas = if latest.seq == 0 {
        &[][..]
    } else {
        &s.deltas[..]
    };
    for (i, d) in deltas.iter().enumerate() {
        if i != 0 {
            f.write_char(',')?;
        }
        f.write_fmt(fmt!(
            "{{\"name\":{},\"objsize\":{},\"active_objs\":{},\"active_objs_delta\":{},\
             \"num_objs\":{},\"total_objs_delta\":{},\"bytes_delta\":{},\"suspect\":{},\
             \"grew_intervals\":{},\"intervals\":{},\"growth_per_min\":",
            json::Str(d.name.as_bytes()),
            d.objsize,
            d.active_objs,
            d.active_objs_delta,
            d.num_objs,
            d.total_objs_delta,
            d.bytes_delta,
            d.trend.suspect,
            d.trend.grew,
            d.trend.intervals
        ))?;
        match d.per_min {
            Some(r) => write!(f, "{r}")?,
            None => f.write_str("null")?,
        }
        if let Some(c) = sites_of(s, d) {
            f.write_str(",\"alloc_sites\":[")?;
            for (j, site) in c.sites.iter().enumerate() {
                if j != 0 {
                    f.write_char(',')?;
                }
                f.write_fmt(fmt!(
                    "{{\"count\":{},\"site\":{}}}",
                    site.count,
                    json::Str(site.symbol())
                ))?;
            }
            f.write_char(']')?;
        }
        f.write_char('}')?;
    }
    f.write_str("]}\n")
}
