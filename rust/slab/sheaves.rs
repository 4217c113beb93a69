// SPDX-License-Identifier: GPL-2.0

//! Which caches a sample flushes: only those whose answer depends on it.
//!
//! SLUB (7.3, `mm/slub.c`) keeps freed and prefetched objects in sheaves that slabinfo counts as
//! active: per CPU a main and a spare sheaf, per NUMA node a barn of at most
//! `MAX_FULL_SHEAVES` full ones, each of at most the cache's `sheaf_capacity` objects. Flushing
//! them (the cache's `shrink` file) is what makes a count exact, and it is most of what a sample
//! costs: a work item on every CPU that used the cache. But a cache whose count moved by more
//! since the baseline than its sheaves can hold has grown (or shrunk) whatever they hold; the
//! flush would only make the size of the change exact, not its sign. Such a cache is not flushed
//! and reported with the [`bound`]; every other cache that has sheaves is flushed. A baseline
//! and a sample the trend records (with `slab_interval_ms` = 0, every sample) are flushed
//! throughout: the trend compares consecutive counts, whose difference the bound cannot settle.

use super::parse::Cache;

/// Full sheaves a node's barn keeps (`MAX_FULL_SHEAVES`, `mm/slub.c`).
const BARN_FULL_SHEAVES: u64 = 10;

/// Whether a cache has per-CPU sheaves (`/sys/kernel/slab/<cache>/sheaf_capacity`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sheaves {
    /// It has, of this many objects each.
    Yes(u64),
    No,
    Unknown,
}

/// The most objects the sheaves of a cache of `capacity` objects per sheaf can hold with `cpus`
/// possible CPUs and `nodes` possible nodes: a main and a spare sheaf per CPU and the barn's full
/// sheaves per node, twice over (the barn's limit is soft - racing frees can put a few more
/// there - and a CPU refilling holds one more sheaf for a moment).
pub(crate) fn bound(capacity: u64, cpus: u64, nodes: u64) -> u64 {
    let sheaves = cpus
        .saturating_mul(2)
        .saturating_add(nodes.saturating_mul(BARN_FULL_SHEAVES));
    capacity.saturating_mul(sheaves).saturating_mul(2)
}

/// What a sample does with one cache's sheaves.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Need {
    /// Nothing to flush: the count is exact as read (no sheaves, or no active object at all).
    None,
    /// Flush: the count is exact only after it.
    Flush,
    /// No flush: the count moved by more than the `bound` of objects its sheaves can hold since
    /// the baseline's count `base`, so the sign of the change is certain and its size within
    /// `bound` objects.
    Beyond { bound: u64, base: u64 },
}

/// Decides for cache `c` of the first reading, with `sheaves`, `cpus` and `nodes` as for
/// [`bound`]. `base` is its baseline count (0 for a cache created since), or `None` while the
/// baseline itself or a sample the trend records is taken: those are flushed wherever they
/// have sheaves.
pub(crate) fn need(c: &Cache, sheaves: Sheaves, base: Option<u64>, cpus: u64, nodes: u64) -> Need {
    let capacity = match sheaves {
        Sheaves::No => return Need::None,
        // The flush can only lower the count, never below 0.
        _ if c.active_objs == 0 => return Need::None,
        Sheaves::Unknown => return Need::Flush,
        Sheaves::Yes(capacity) => capacity,
    };
    let Some(base) = base else {
        return Need::Flush;
    };
    let bound = bound(capacity, cpus, nodes);
    if c.active_objs.abs_diff(base) > bound {
        Need::Beyond { bound, base }
    } else {
        Need::Flush
    }
}

#[cfg(kintrospect_kunit)]
#[kernel::macros::kunit_tests(kintrospect_slab_sheaves)]
mod tests {
    use super::*;

    /// A cache of `active_objs` objects: only the count matters to [`need`].
    fn cache(active_objs: u64) -> Cache {
        Cache::for_test(b"kmalloc-64", active_objs)
    }

    #[test]
    fn bound_is_main_and_spare_per_cpu_and_the_barn_twice() {
        // 4 CPUs, 1 node, 60 objects a sheaf: (8 + 10) sheaves x 60 x 2.
        assert_eq!(bound(60, 4, 1), 2160);
        assert_eq!(bound(4, 64, 2), 1184);
        assert_eq!(bound(u64::MAX, 4, 1), u64::MAX);
    }

    #[test]
    fn flushes_only_a_change_within_the_bound() {
        // Issue 21: a cache that grew by far more than its sheaves hold is not flushed; one
        // that changed by less is, whichever way it changed.
        let b = bound(60, 4, 1);
        let yes = Sheaves::Yes(60);
        assert_eq!(
            need(&cache(1000 + b + 1), yes, Some(1000), 4, 1),
            Need::Beyond {
                bound: b,
                base: 1000
            }
        );
        assert_eq!(need(&cache(1000 + b), yes, Some(1000), 4, 1), Need::Flush);
        assert_eq!(need(&cache(1000), yes, Some(1000), 4, 1), Need::Flush);
        assert_eq!(need(&cache(1000 - 1), yes, Some(1000), 4, 1), Need::Flush);
        assert_eq!(
            need(&cache(1), yes, Some(b + 2), 4, 1),
            Need::Beyond {
                bound: b,
                base: b + 2
            }
        );
        // A cache created since the baseline grew from 0.
        assert_eq!(
            need(&cache(b + 1), yes, Some(0), 4, 1),
            Need::Beyond { bound: b, base: 0 }
        );
        // More CPUs, more room in the sheaves.
        assert_eq!(
            need(&cache(1000 + b + 1), yes, Some(1000), 8, 1),
            Need::Flush
        );
    }

    #[test]
    fn flushes_every_cache_with_sheaves_for_a_baseline() {
        let yes = Sheaves::Yes(60);
        assert_eq!(need(&cache(1_000_000), yes, None, 4, 1), Need::Flush);
        assert_eq!(need(&cache(5), Sheaves::Unknown, None, 4, 1), Need::Flush);
    }

    #[test]
    fn needs_no_flush_without_sheaves_or_objects() {
        assert_eq!(
            need(&cache(1_000_000), Sheaves::No, Some(0), 4, 1),
            Need::None
        );
        assert_eq!(
            need(&cache(0), Sheaves::Yes(60), Some(5000), 4, 1),
            Need::None
        );
        assert_eq!(need(&cache(0), Sheaves::Unknown, None, 4, 1), Need::None);
        // Unknown sheaves: flushed, whatever the change.
        assert_eq!(
            need(&cache(1_000_000), Sheaves::Unknown, Some(0), 4, 1),
            Need::Flush
        );
    }
}
