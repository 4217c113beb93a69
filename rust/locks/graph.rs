// SPDX-License-Identifier: GPL-2.0

//! The waits-for graph of a locks snapshot and its cycles.
//!
//! Every blocked thread waits for exactly one lock, held by at most one known owner, so the
//! graph is functional: each node has at most one outgoing edge (thread -> owner thread). A
//! thread is never its own owner here: a mutex "owned" by its waiter is in its acquire window,
//! and a semaphore's last holder is only a hint. Nodes are indexes into the snapshot's thread
//! list.
//!
//! A cycle is only a candidate: the owner of a semaphore (its last holder) and of a
//! reader-owned rwsem (a reader) are hints, and one walk of all threads is not atomic. A
//! cycle is a deadlock only when none of its edges is a hint and every edge was read again,
//! unchanged, after the walk ([`Graph::confirm`]); the others are "possible".

use kernel::{
    alloc::KVVec,
    prelude::*, //
};

/// The waits-for graph of one snapshot.
pub(crate) struct Graph {
    /// For each thread, the thread that owns what it waits for, if that owner is in the list.
    pub(crate) next: KVVec<Option<usize>>,
    /// For each thread, whether its edge comes from a hint rather than an owner.
    pub(crate) hint: KVVec<bool>,
    /// The confirmed cycles (deadlocks), each as thread indexes starting at its smallest index,
    /// in order of that index.
    pub(crate) cycles: KVec<KVec<usize>>,
    /// The other cycles: through a hint, or not confirmed; the same order.
    pub(crate) possible: KVec<KVec<usize>>,
    by_pid: KVVec<(i32, usize)>,
    mark: KVVec<u32>,
}

impl Graph {
    /// An empty graph.
    pub(crate) const fn new() -> Self {
        Self {
            next: KVVec::new(),
            hint: KVVec::new(),
            cycles: KVec::new(),
            possible: KVec::new(),
            by_pid: KVVec::new(),
            mark: KVVec::new(),
        }
    }

    /// Builds the graph of `n` threads: thread `i` has pid `pid(i)` and waits for a lock owned
    /// by pid `owner(i)` (negative: none or unknown), a hint when `hint(i)`. Every cycle found
    /// is "possible" until [`Graph::confirm`].
    pub(crate) fn build(
        &mut self,
        n: usize,
        pid: impl Fn(usize) -> i32,
        owner: impl Fn(usize) -> i32,
        hint: impl Fn(usize) -> bool,
    ) -> Result {
        self.by_pid.clear();
        for i in 0..n {
            self.by_pid.push((pid(i), i), GFP_KERNEL)?;
        }
        self.by_pid.sort_unstable();
        self.next.clear();
        self.hint.clear();
        for i in 0..n {
            let o = owner(i);
            let found = if o < 0 || o == pid(i) {
                None
            } else {
                let by_pid = &self.by_pid;
                by_pid
                    .binary_search_by_key(&o, |&(pid, _)| pid)
                    .ok()
                    .map(|at| by_pid[at].1)
                    .filter(|&at| at != i)
            };
            self.next.push(found, GFP_KERNEL)?;
            self.hint.push(found.is_some() && hint(i), GFP_KERNEL)?;
        }
        self.cycles.clear();
        self.find_cycles()
    }

    /// Makes this graph a copy of `other`'s edges and cycles.
    pub(crate) fn copy_from(&mut self, other: &Graph) -> Result {
        self.next.clear();
        self.next.extend_from_slice(&other.next, GFP_KERNEL)?;
        self.hint.clear();
        self.hint.extend_from_slice(&other.hint, GFP_KERNEL)?;
        copy_cycles(&mut self.cycles, &other.cycles)?;
        copy_cycles(&mut self.possible, &other.possible)
    }

    /// Removes the edge of node `i`, and every cycle through it.
    pub(crate) fn forget(&mut self, i: usize) {
        if let Some(n) = self.next.get_mut(i) {
            *n = None;
        }
        if let Some(h) = self.hint.get_mut(i) {
            *h = false;
        }
        self.cycles.retain(|c| !c.contains(&i));
        self.possible.retain(|c| !c.contains(&i));
    }

    /// The threads of the candidate cycles whose edges are not hints: those to read again.
    pub(crate) fn to_confirm(&self, out: &mut KVVec<u32>) -> Result {
        out.clear();
        for cycle in self.possible.iter() {
            if cycle.iter().any(|&i| self.hint[i]) {
                continue;
            }
            for &i in cycle.iter() {
                out.push(u32::try_from(i).map_err(|_| EINVAL)?, GFP_KERNEL)?;
            }
        }
        Ok(())
    }

    /// Moves each candidate cycle with no hint whose every edge is `confirmed` to the
    /// deadlocks; the rest stay possible.
    pub(crate) fn confirm(&mut self, confirmed: impl Fn(usize) -> bool) -> Result {
        let mut possible = KVec::new();
        for cycle in core::mem::take(&mut self.possible) {
            if cycle.iter().all(|&i| !self.hint[i] && confirmed(i)) {
                self.cycles.push(cycle, GFP_KERNEL)?;
            } else {
                possible.push(cycle, GFP_KERNEL)?;
            }
        }
        self.possible = possible;
        Ok(())
    }

    fn find_cycles(&mut self) -> Result {
        const UNSEEN: u32 = 0;
        const DONE: u32 = u32::MAX;
        let next = &self.next;
        // `mark[i]` is UNSEEN, DONE, or the number of the walk that is visiting it.
        self.mark.clear();
        self.mark.resize(next.len(), UNSEEN, GFP_KERNEL)?;
        let mark = &mut self.mark;
        self.possible.clear();
        for start in 0..next.len() {
            if mark[start] != UNSEEN {
                continue;
            }
            let walk = start as u32 + 1;
            let mut at = Some(start);
            // Follow the edges until a node seen before, by this walk (a cycle) or an earlier.
            while let Some(i) = at.filter(|&i| i < next.len()) {
                if mark[i] == walk {
                    self.possible.push(cycle_at(next, i)?, GFP_KERNEL)?;
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
        self.possible
            .sort_unstable_by_key(|c: &KVec<usize>| c.first().copied());
        Ok(())
    }
}

/// Makes `dst` a copy of the cycles `src`.
fn copy_cycles(dst: &mut KVec<KVec<usize>>, src: &[KVec<usize>]) -> Result {
    dst.clear();
    for cycle in src {
        let mut c = KVec::with_capacity(cycle.len(), GFP_KERNEL)?;
        c.extend_from_slice(cycle, GFP_KERNEL)?;
        dst.push(c, GFP_KERNEL)?;
    }
    Ok(())
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

    /// The graph where node `i` points to `next[i]`, no hints, every edge confirmed.
    fn graph(next: &[Option<usize>], hints: &[usize]) -> Result<Graph> {
        // Pids are the indexes; an edge to nothing is owner -1.
        let mut g = Graph::new();
        g.build(
            next.len(),
            |i| i as i32,
            |i| next[i].map_or(-1, |n| n as i32),
            |i| hints.contains(&i),
        )?;
        Ok(g)
    }

    /// The confirmed cycles of the graph where node `i` points to `next[i]`.
    fn cycles(next: &[Option<usize>]) -> Result<KVec<KVec<usize>>> {
        let mut g = graph(next, &[])?;
        g.confirm(|_| true)?;
        assert!(g.possible.is_empty());
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

    /// H4: a semaphore's last holder that waits on it again (an event) is no deadlock.
    #[test]
    fn a_self_edge_is_no_edge() -> Result {
        let g = graph(&[None, Some(1), Some(1)], &[1])?;
        assert_eq!(&g.next[..], &[None, None, Some(1)]);
        assert!(g.possible.is_empty());
        assert!(cycles(&[None, Some(1), Some(1)])?.is_empty());
        Ok(())
    }

    /// H4: a cycle through a hint is possible, never a deadlock, even if confirmed.
    #[test]
    fn a_cycle_through_a_hint_is_possible() -> Result {
        let mut g = graph(&[Some(1), Some(0), Some(3), Some(2)], &[3])?;
        let mut which = KVVec::new();
        g.to_confirm(&mut which)?;
        assert_eq!(&which[..], &[0u32, 1]);
        g.confirm(|_| true)?;
        assert_eq!(&as_vecs(&g.cycles)[..], &[&[0usize, 1][..]]);
        assert_eq!(&as_vecs(&g.possible)[..], &[&[2usize, 3][..]]);
        Ok(())
    }

    /// M4: a cycle with an edge that changed after the walk is possible, not a deadlock.
    #[test]
    fn an_unconfirmed_cycle_is_possible() -> Result {
        let mut g = graph(&[Some(1), Some(0)], &[])?;
        g.confirm(|i| i == 0)?;
        assert!(g.cycles.is_empty());
        assert_eq!(&as_vecs(&g.possible)[..], &[&[0usize, 1][..]]);
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
        g.build(3, |i| pids[i], |i| owners[i], |_| false)?;
        assert_eq!(&g.next[..], &[Some(2), None, None]);
        assert!(g.possible.is_empty());
        // A second build replaces the first one entirely.
        g.build(2, |i| [1, 2][i], |i| [2, 1][i], |_| false)?;
        g.confirm(|_| true)?;
        assert_eq!(&g.next[..], &[Some(1), Some(0)]);
        assert_eq!(&as_vecs(&g.cycles)[..], &[&[0usize, 1][..]]);
        Ok(())
    }
}
