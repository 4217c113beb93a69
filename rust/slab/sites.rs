// SPDX-License-Identifier: GPL-2.0

//! Allocation sites: which call sites hold the live objects of the growing caches.
//!
//! SLUB's `/sys/kernel/debug/slab/<cache>/alloc_traces` (with `slab_debug=U`) is built when it
//! is opened: `slab_debug_trace_open()` walks every slab of the cache under
//! `spin_lock_irqsave(&n->list_lock)`, so the cost is every object of the cache with IRQs
//! off on the reading CPU, and every CPU that allocates from or frees to the cache spins on
//! that lock meanwhile. So sites are only read on an explicit `snapshot slab sites`, at most
//! once every [`MIN_INTERVAL_MS`], for at most [`MAX_CACHES`] caches, and never for a cache
//! of more than [`MAX_OBJECTS`] objects (`num_objs` of the sample); the periodic sampler and
//! the SysRq key never read them.

use super::{
    parse::{
        self,
        Name,
        Site, //
    },
    sample::Delta,
};
use crate::bridge::{
    SlabFile,
    SlabFiles, //
};
use kernel::{
    alloc::KVVec,
    prelude::*, //
};

/// Allocation sites kept per cache.
pub(crate) const PER_CACHE: usize = 3;
/// Top growers (besides suspects) whose allocation sites are looked up.
const TOP_GROWERS: usize = 3;
/// Most caches whose allocation sites are looked up by one command.
pub(crate) const MAX_CACHES: usize = 8;
/// Largest cache (objects) whose `alloc_traces` is opened: opening it walks every object
/// with IRQs off (about 0.1-0.2 us an object: a few ms at this bound).
pub(crate) const MAX_OBJECTS: u64 = 20_000;
/// Shortest time between two reads of allocation sites.
pub(crate) const MIN_INTERVAL_MS: u64 = 10_000;
/// Largest part of an `alloc_traces` or `/proc/allocinfo` file read: its top sites come first.
const READ_MAX: usize = 64 * 1024;

/// What was found for one cache.
pub(crate) enum Found {
    /// Its top sites, most objects first (none: no site recorded).
    Sites(KVec<Site>),
    /// Not read: the cache has more than [`MAX_OBJECTS`] objects.
    TooLarge,
    /// No `alloc_traces` file: the kernel is not tracking allocation sites for the cache.
    NotAvailable,
    /// Reading it failed.
    Error(Error),
}

/// The allocation sites of one cache.
pub(crate) struct CacheSites {
    pub(crate) name: Name,
    /// Objects of the cache (allocated or not) when it was looked at.
    pub(crate) num_objs: u64,
    pub(crate) found: Found,
}

/// The allocation sites read by one `snapshot slab sites`.
pub(crate) struct Sites {
    /// The sample they were read with.
    pub(crate) seq: u64,
    pub(crate) taken_ns: u64,
    pub(crate) caches: KVec<CacheSites>,
    /// Top sites of `/proc/allocinfo` (all allocations, by bytes), when the kernel has it.
    pub(crate) allocinfo: Option<KVec<Site>>,
}

/// The caches whose allocation sites are worth looking up: the suspects and the top growers of
/// `deltas` (ranked), at most [`MAX_CACHES`], with their object counts.
pub(crate) fn wanted(deltas: &[Delta], out: &mut KVec<(Name, u64)>) -> Result {
    out.clear();
    let mut growers = 0;
    for d in deltas {
        let top = d.bytes_delta > 0 && growers < TOP_GROWERS;
        if !(top || d.trend.suspect) {
            continue;
        }
        growers += usize::from(top);
        if out.len() == MAX_CACHES {
            break;
        }
        out.push((d.name, d.num_objs), GFP_KERNEL)?;
    }
    Ok(())
}

/// Reads the sites of the caches [`wanted`] from `deltas` (and `/proc/allocinfo` if
/// `allocinfo`), for sample `seq`, using `buf`.
pub(crate) fn read(
    files: &SlabFiles,
    buf: &mut KVVec<u8>,
    deltas: &[Delta],
    seq: u64,
    taken_ns: u64,
    allocinfo: bool,
) -> Result<Sites> {
    let mut want = KVec::new();
    wanted(deltas, &mut want)?;
    if buf.len() < READ_MAX {
        buf.resize(READ_MAX, 0, GFP_KERNEL)?;
    }
    let mut caches = KVec::with_capacity(want.len(), GFP_KERNEL)?;
    for (name, num_objs) in want.iter().copied() {
        let found = if num_objs > MAX_OBJECTS {
            Found::TooLarge
        } else {
            let file = SlabFile::AllocTraces(name.as_bytes());
            match files.read(file, &mut buf[..READ_MAX]) {
                Ok(n) => sites_of(buf.get(..n).unwrap_or(&[]))?,
                Err(e) if e == EFBIG => sites_of(&buf[..READ_MAX])?,
                Err(e) if e == ENOENT => Found::NotAvailable,
                Err(e) => Found::Error(e),
            }
        };
        caches.push(
            CacheSites {
                name,
                num_objs,
                found,
            },
            GFP_KERNEL,
        )?;
    }
    let allocinfo = if allocinfo {
        let mut top = KVec::new();
        let n = match files.read(SlabFile::AllocInfo, &mut buf[..READ_MAX]) {
            Ok(n) => n,
            Err(e) if e == EFBIG => READ_MAX,
            Err(_) => 0,
        };
        parse::allocinfo::<PER_CACHE>(buf.get(..n).unwrap_or(&[]), &mut top)?;
        Some(top)
    } else {
        None
    };
    Ok(Sites {
        seq,
        taken_ns,
        caches,
        allocinfo,
    })
}

/// The top sites of one `alloc_traces` text.
fn sites_of(text: &[u8]) -> Result<Found> {
    let mut sites = KVec::new();
    parse::alloc_traces::<PER_CACHE>(text, &mut sites)?;
    Ok(Found::Sites(sites))
}

#[cfg(kintrospect_kunit)]
#[kernel::macros::kunit_tests(kintrospect_slab_sites)]
mod tests {
    use super::*;
    use crate::slab::trend::Verdict;

    fn delta(name: &[u8], bytes_delta: i64, num_objs: u64, suspect: bool) -> Delta {
        Delta {
            name: Name::new(name).0,
            objsize: 8,
            active_objs: num_objs,
            num_objs,
            active_objs_delta: bytes_delta / 8,
            total_objs_delta: 0,
            bytes_delta,
            exact: true,
            beyond: None,
            bookkeeping: false,
            trend: Verdict {
                suspect,
                ..Verdict::default()
            },
            per_min: None,
        }
    }

    #[test]
    fn wants_the_suspects_and_three_top_growers() -> Result {
        // H3: never more than MAX_CACHES caches, and the object count goes with each, so that
        // a cache above MAX_OBJECTS is skipped before its alloc_traces is opened.
        let mut deltas = KVec::new();
        for (i, name) in [b"g0", b"g1", b"g2", b"g3"].iter().enumerate() {
            deltas.push(delta(*name, 1000 - i as i64, 10, false), GFP_KERNEL)?;
        }
        deltas.push(delta(b"s0", 0, MAX_OBJECTS + 1, true), GFP_KERNEL)?;
        for _ in 0..10 {
            deltas.push(delta(b"sx", -8, 5, true), GFP_KERNEL)?;
        }
        let mut out = KVec::new();
        wanted(&deltas, &mut out)?;
        assert_eq!(out.len(), MAX_CACHES);
        assert_eq!(out[0].0.as_bytes(), b"g0");
        assert_eq!(out[2].0.as_bytes(), b"g2");
        assert_eq!(
            (out[3].0.as_bytes(), out[3].1),
            (&b"s0"[..], MAX_OBJECTS + 1)
        );
        assert!(out.iter().all(|(n, _)| n.as_bytes() != b"g3"));
        Ok(())
    }
}
