// SPDX-License-Identifier: GPL-2.0

//! The waits-for graph of a locks snapshot and its cycles.
//!
//! Every blocked thread waits for exactly one lock, held by at most one known owner, so the
//! graph is functional: each node has at most one outgoing edge (thread -> owner thread). A
//! cycle in it is a deadlock. Nodes are indexes into the snapshot's thread list.

use kernel::prelude::*;

/// For each thread, the index of the thread that owns what it waits for, if that owner is in
/// the list. `pids[i]` is thread `i`'s pid, `owner_pids[i]` its owner's pid or a negative value.
pub(crate) fn owners(pids: &[i32], owner_pids: &[i32]) -> Result<KVec<Option<usize>>> {
    let mut by_pid = KVec::with_capacity(pids.len(), GFP_KERNEL)?;
    for (i, &pid) in pids.iter().enumerate() {
        by_pid.push((pid, i), GFP_KERNEL)?;
    }
    by_pid.sort_unstable();
    let mut next = KVec::with_capacity(pids.len(), GFP_KERNEL)?;
    for &owner in owner_pids {
        let found = if owner < 0 {
            None
        } else {
            by_pid
                .binary_search_by_key(&owner, |&(pid, _)| pid)
                .ok()
                .map(|at| by_pid[at].1)
        };
        next.push(found, GFP_KERNEL)?;
    }
    Ok(next)
}

/// The cycles of the functional graph `next`, each as node indexes starting at its smallest
/// node, in order of that node; a self-loop is a cycle of one.
pub(crate) fn cycles(next: &[Option<usize>]) -> Result<KVec<KVec<usize>>> {
    const UNSEEN: u32 = 0;
    const DONE: u32 = u32::MAX;
    // `mark[i]` is UNSEEN, DONE, or the number of the walk that is visiting it.
    let mut mark = KVec::from_elem(UNSEEN, next.len(), GFP_KERNEL)?;
    let mut found = KVec::new();
    for start in 0..next.len() {
        if mark[start] != UNSEEN {
            continue;
        }
        let walk = start as u32 + 1;
        let mut at = Some(start);
        // Follow the edges until a node seen before, by this walk (a cycle) or an earlier one.
        while let Some(i) = at.filter(|&i| i < next.len()) {
            if mark[i] == walk {
                found.push(cycle_at(next, i)?, GFP_KERNEL)?;
                break;
            }
            if mark[i] != UNSEEN {
                break;
            }
            mark[i] = walk;
            at = next[i];
        }
        let mut at = Some(start);
        while let Some(i) = at.filter(|&i| i < next.len() && mark[i] == walk) {
            mark[i] = DONE;
            at = next[i];
        }
    }
    found.sort_unstable_by_key(|c: &KVec<usize>| c.first().copied());
    Ok(found)
}

/// The cycle through node `i`, rotated to start at its smallest node.
fn cycle_at(next: &[Option<usize>], i: usize) -> Result<KVec<usize>> {
    let mut cycle = KVec::new();
    let mut at = i;
    loop {
        cycle.push(at, GFP_KERNEL)?;
        match next[at] {
            Some(n) if n != i && cycle.len() < next.len() => at = n,
            _ => break,
        }
    }
    let min = (0..cycle.len()).min_by_key(|&k| cycle[k]).unwrap_or(0);
    cycle.rotate_left(min);
    Ok(cycle)
}

#[kernel::macros::kunit_tests(kintrospect_locks_graph)]
mod tests {
    use super::*;

    fn as_vecs(c: &KVec<KVec<usize>>) -> KVec<&[usize]> {
        let mut v = KVec::new();
        for x in c.iter() {
            v.push(&x[..], GFP_KERNEL).ok();
        }
        v
    }

    #[test]
    fn no_edges_no_cycles() -> Result {
        assert!(cycles(&[None, None, None])?.is_empty());
        assert!(cycles(&[])?.is_empty());
        Ok(())
    }

    #[test]
    fn abba_is_one_cycle() -> Result {
        let c = cycles(&[Some(1), Some(0)])?;
        assert_eq!(&as_vecs(&c)[..], &[&[0usize, 1][..]]);
        Ok(())
    }

    #[test]
    fn self_loop_is_a_cycle_of_one() -> Result {
        let c = cycles(&[None, Some(1), Some(1)])?;
        assert_eq!(&as_vecs(&c)[..], &[&[1usize][..]]);
        Ok(())
    }

    #[test]
    fn several_cycles_and_tails_into_them() -> Result {
        // 5 -> 4 -> 3 -> 4 (cycle 3,4 with a tail), 0 -> 2 -> 1 -> 0, 6 -> 7 (chain).
        let next = [
            Some(2),
            Some(0),
            Some(1),
            Some(4),
            Some(3),
            Some(4),
            Some(7),
            None,
        ];
        let c = cycles(&next)?;
        assert_eq!(&as_vecs(&c)[..], &[&[0usize, 2, 1][..], &[3usize, 4][..]]);
        Ok(())
    }

    #[test]
    fn long_chain_ending_in_a_cycle() -> Result {
        let mut next = KVec::new();
        for i in 0..1000usize {
            next.push(Some(i + 1), GFP_KERNEL)?;
        }
        // 1000 -> 998 closes a cycle of three at the end of a long tail.
        next.push(Some(998), GFP_KERNEL)?;
        let c = cycles(&next)?;
        assert_eq!(&as_vecs(&c)[..], &[&[998usize, 999, 1000][..]]);
        Ok(())
    }

    #[test]
    fn owners_are_matched_by_pid() -> Result {
        let next = owners(&[10, 30, 20], &[20, -1, 99])?;
        assert_eq!(&next[..], &[Some(2), None, None]);
        Ok(())
    }
}
