// SPDX-License-Identifier: GPL-2.0

//! The waits-for graph of a locks snapshot and its cycles.
//!
//! Every blocked thread waits for exactly one lock, held by at most one known owner, so the
//! graph is functional: each node has at most one outgoing edge (thread -> owner thread). A
//! cycle in it is a deadlock. Nodes are indexes into the snapshot's thread list.

use kernel::prelude::*;

/// The waits-for graph of one snapshot; its buffers are reused by the next one, so that a
/// snapshot allocates nothing once they are large enough.
pub(crate) struct Graph {
    /// For each thread, the thread that owns what it waits for, if that owner is in the list.
    pub(crate) next: KVec<Option<usize>>,
    /// The cycles, each as thread indexes starting at its smallest index, in order of that
    /// index; a self-loop is a cycle of one.
    pub(crate) cycles: KVec<KVec<usize>>,
    by_pid: KVec<(i32, usize)>,
    mark: KVec<u32>,
}

impl Graph {
    /// An empty graph.
    pub(crate) const fn new() -> Self {
        Self {
            next: KVec::new(),
            cycles: KVec::new(),
            by_pid: KVec::new(),
            mark: KVec::new(),
        }
    }

    /// Builds the graph of `n` threads: thread `i` has pid `pid(i)` and waits for a lock owned
    /// by pid `owner(i)` (negative: none or unknown).
    pub(crate) fn build(
        &mut self,
        n: usize,
        pid: impl Fn(usize) -> i32,
        owner: impl Fn(usize) -> i32,
    ) -> Result {
        self.by_pid.clear();
        for i in 0..n {
            self.by_pid.push((pid(i), i), GFP_KERNEL)?;
        }
        self.by_pid.sort_unstable();
        self.next.clear();
        for i in 0..n {
            let o = owner(i);
            let found = if o < 0 {
                None
            } else {
                let by_pid = &self.by_pid;
                by_pid
                    .binary_search_by_key(&o, |&(pid, _)| pid)
                    .ok()
                    .map(|at| by_pid[at].1)
            };
            self.next.push(found, GFP_KERNEL)?;
        }
        self.find_cycles()
    }

    fn find_cycles(&mut self) -> Result {
        const UNSEEN: u32 = 0;
        const DONE: u32 = u32::MAX;
        let next = &self.next;
        // `mark[i]` is UNSEEN, DONE, or the number of the walk that is visiting it.
        self.mark.clear();
        self.mark.resize(next.len(), UNSEEN, GFP_KERNEL)?;
        let mark = &mut self.mark;
        self.cycles.clear();
        for start in 0..next.len() {
            if mark[start] != UNSEEN {
                continue;
            }
            let walk = start as u32 + 1;
            let mut at = Some(start);
            // Follow the edges until a node seen before, by this walk (a cycle) or an earlier.
            while let Some(i) = at.filter(|&i| i < next.len()) {
                if mark[i] == walk {
                    self.cycles.push(cycle_at(next, i)?, GFP_KERNEL)?;
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
        self.cycles
            .sort_unstable_by_key(|c: &KVec<usize>| c.first().copied());
        Ok(())
    }
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

#[cfg(kintrospect_kunit)]
#[kernel::macros::kunit_tests(kintrospect_locks_graph)]
mod tests {
    use super::*;

    /// The cycles of the graph where node `i` points to `next[i]`.
    fn cycles(next: &[Option<usize>]) -> Result<KVec<KVec<usize>>> {
        // Pids are the indexes; an edge to nothing is owner -1.
        let mut g = Graph::new();
        g.build(
            next.len(),
            |i| i as i32,
            |i| next[i].map_or(-1, |n| n as i32),
        )?;
        Ok(core::mem::take(&mut g.cycles))
    }

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
    fn owners_are_matched_by_pid_and_buffers_reused() -> Result {
        let (pids, owners) = ([10, 30, 20], [20, -1, 99]);
        let mut g = Graph::new();
        g.build(3, |i| pids[i], |i| owners[i])?;
        assert_eq!(&g.next[..], &[Some(2), None, None]);
        assert!(g.cycles.is_empty());
        // A second build replaces the first one entirely.
        g.build(2, |i| [1, 2][i], |i| [2, 1][i])?;
        assert_eq!(&g.next[..], &[Some(1), Some(0)]);
        assert_eq!(&as_vecs(&g.cycles)[..], &[&[0usize, 1][..]]);
        Ok(())
    }
}
