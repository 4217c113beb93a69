// SPDX-License-Identifier: GPL-2.0

//! The join: which CPUs are stuck, who waits for the locks they held, who starves behind
//! them, and the order of the blocked tasks. Pure logic on the report's own copies.

use super::Report;
use crate::{
    bridge::{
        CpuLockdep,
        LockFlag,
        Mode,
        RawCpu,
        State, //
    },
    cpus,
};
use core::ops::Range;
use kernel::prelude::*;

/// A stuck CPU and what the report joins to it.
pub(crate) struct Stuck {
    /// Its record's index in the CPU snapshot.
    pub(crate) cpu: usize,
    /// How long its task has been on it, at least.
    pub(crate) on_cpu_ns: u64,
    /// The tasks waiting for the locks it held: a range of [`Report::waiters`].
    pub(crate) waiters: Range<usize>,
    /// The tasks starved in its runqueue: a range of [`Report::runnable`].
    pub(crate) starved: Range<usize>,
}

/// A task of the locks snapshot waiting for a lock a stuck CPU's task held at the NMI.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Waiter {
    /// The task: an index into the locks snapshot's tasks.
    pub(crate) task: usize,
    /// The lock: an index into the stuck CPU record's lockdep entries.
    pub(crate) held: usize,
}

/// The stuck-CPU rule, one place for the report and the watch: a CPU is stuck when it runs a
/// task in kernel mode, not `caller` (the task taking the report), that has been on it
/// ([`RawCpu::on_cpu_ns`]) for at least `stuck_ms`.
#[derive(Clone, Copy)]
pub(crate) struct StuckRule {
    /// `stuck_ms` in ns.
    pub(crate) threshold_ns: u64,
    caller: i32,
}

/// What the rule says of one CPU record.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Verdict {
    /// Stuck: its task has been on it this long.
    Stuck(u64),
    /// Maybe stuck: its task's time on the CPU is not known yet.
    Maybe,
    /// Not stuck.
    No,
}

/// `stuck_ms` in ns: how long on one task makes a CPU stuck.
pub(crate) fn stuck_ns(stuck_ms: u32) -> u64 {
    u64::from(stuck_ms) * 1_000_000
}

impl StuckRule {
    /// The rule for `stuck_ms`, in a report taken by `caller`.
    pub(crate) fn new(stuck_ms: u32, caller: i32) -> Self {
        Self {
            threshold_ns: stuck_ns(stuck_ms),
            caller,
        }
    }

    /// What CPU record `c`, in `state` and `mode`, is.
    pub(crate) fn verdict(&self, c: &RawCpu, state: State, mode: Mode) -> Verdict {
        if state != State::Running || mode != Mode::Kernel || c.pid == self.caller {
            return Verdict::No;
        }
        match c.on_cpu_ns() {
            None => Verdict::Maybe,
            Some(ns) if ns >= self.threshold_ns => Verdict::Stuck(ns),
            Some(_) => Verdict::No,
        }
    }

    /// The stuck CPUs of snapshot `cpus`.
    pub(crate) fn count(&self, cpus: &cpus::Snapshot) -> usize {
        cpus.cpus()
            .filter(|(c, state, mode)| matches!(self.verdict(c, *state, *mode), Verdict::Stuck(_)))
            .count()
    }
}

impl Report {
    /// Joins the copies taken: the stuck CPUs (at least `stuck_ms` on one task in kernel mode,
    /// longest first; `caller`, the task taking the report, is never one), their waiters and
    /// starved tasks, the CPUs maybe stuck and those that did not answer, the blocked tasks.
    pub(crate) fn join(&mut self, caller: i32) -> Result {
        self.stuck.clear();
        self.maybe.clear();
        self.no_response.clear();
        self.waiters.clear();
        self.blocked.clear();
        self.runnable.sort_unstable_by_key(|r| (r.cpu, r.pid));
        let Some(cpus) = &self.cpus else {
            return Ok(());
        };
        let rule = StuckRule::new(self.stuck_ms, caller);
        for (idx, (c, state, mode)) in cpus.cpus().enumerate() {
            if state == State::NoResponse {
                self.no_response.push(c.cpu, GFP_KERNEL)?;
                continue;
            }
            match rule.verdict(c, state, mode) {
                Verdict::Maybe => self.maybe.push(idx, GFP_KERNEL)?,
                Verdict::Stuck(ns) => self.stuck.push(
                    Stuck {
                        cpu: idx,
                        on_cpu_ns: ns,
                        waiters: 0..0,
                        starved: 0..0,
                    },
                    GFP_KERNEL,
                )?,
                Verdict::No => {}
            }
        }
        self.stuck
            .sort_unstable_by(|a, b| b.on_cpu_ns.cmp(&a.on_cpu_ns).then(a.cpu.cmp(&b.cpu)));

        // The walk read running threads' lockdep stacks from another CPU, where a lock being
        // taken (in an interrupt, say) looks like one being waited for. A thread that was
        // running at the NMI, whose NMI read its own stack, waits for a lock only if its NMI saw
        // it waiting for that very lock; otherwise the walk's reading is forgotten.
        let nt = self.locks.tasks().len();
        for i in 0..nt {
            let t = &self.locks.tasks()[i];
            if t.blocked().is_none() {
                continue;
            }
            let running = cpus.cpus().find(|(c, state, _)| {
                *state == State::Running && c.pid == t.pid && c.lockdep() == CpuLockdep::On
            });
            if let Some((c, _, _)) = running {
                if !c.waits_for_lock(t.blocked_map) {
                    self.locks.forget_wait(i);
                }
            }
        }

        let tasks = self.locks.tasks();
        for s in self.stuck.iter_mut() {
            let Some((c, _, _)) = cpus.get(s.cpu) else {
                continue;
            };
            // A waiter waits for the very lock (its lockdep map) the CPU's task held: not one
            // it waited for, nor one it may have been acquiring (the lock could not tell).
            let start = self.waiters.len();
            for (k, h) in c.lock_entries().iter().enumerate() {
                if h.flags
                    .contains_any(LockFlag::Waiting | LockFlag::MaybeWaiting)
                    || h.lock_addr == 0
                {
                    continue;
                }
                for (i, t) in tasks.iter().enumerate() {
                    if t.blocked().is_some() && t.blocked_map == h.lock_addr && t.pid != c.pid {
                        self.waiters.push(Waiter { task: i, held: k }, GFP_KERNEL)?;
                    }
                }
            }
            s.waiters = start..self.waiters.len();
            let runnable = &self.runnable;
            s.starved = runnable.partition_point(|r| r.cpu < c.cpu)
                ..runnable.partition_point(|r| r.cpu <= c.cpu);
        }

        for (i, t) in tasks.iter().enumerate() {
            if t.blocked().is_some() {
                self.blocked.push(i, GFP_KERNEL)?;
            }
        }
        // Longest waiting first; an unknown wait (0) last; then by pid.
        self.blocked.sort_unstable_by(|&a, &b| {
            let (x, y) = (&tasks[a], &tasks[b]);
            y.blocked_ns.cmp(&x.blocked_ns).then(x.pid.cmp(&y.pid))
        });
        Ok(())
    }
}

#[cfg(kintrospect_kunit)]
#[kernel::macros::kunit_tests(kintrospect_report_join)]
mod tests {
    use super::*;
    use crate::{
        bridge::{
            self,
            CpuLockdep,
            LockKind,
            RawCpu,
            RawCpusInfo,
            RawHeld,
            RawLocksInfo,
            RawRunnable,
            RawTask,
            Source, //
        },
        cpus, locks,
    };

    /// The caller's pid in these tests.
    const CALLER: i32 = 1;
    const MS: u64 = 1_000_000;

    fn copy(dst: &mut [u8], src: &[u8]) {
        for (d, s) in dst.iter_mut().zip(src) {
            *d = *s;
        }
    }

    /// CPU record `n` running `pid` in `mode`, on CPU for `on_cpu_ms` (`None`: unknown).
    fn cpu(c: &mut RawCpu, n: u32, pid: i32, mode: Mode, on_cpu_ms: Option<u64>) {
        c.cpu = n;
        c.state = State::Running as u32;
        c.mode = mode as u32;
        c.pid = pid;
        c.tgid = pid;
        copy(&mut c.comm, b"task");
        c.taken_ns = 10_000 * MS;
        c.on_cpu_since_ns = c.taken_ns - on_cpu_ms.map_or(0, |ms| ms * MS);
        c.lockdep = CpuLockdep::On as u32;
    }

    /// Adds a lockdep entry for the map at `map` to CPU record `c`.
    fn hold(c: &mut RawCpu, map: u64, name: &[u8], waiting: bool) {
        let h = &mut c.held[c.nr_held as usize];
        *h = RawHeld::zeroed();
        h.lock_addr = map;
        h.kind = LockKind::Spin.into();
        if waiting {
            h.flags = LockFlag::Waiting.into();
        }
        copy(&mut h.name, name);
        c.nr_held += 1;
    }

    /// A task of the locks snapshot blocked on the map at `map` (0: not blocked), owned by
    /// `owner`, for `ms`.
    fn task(pid: i32, map: u64, owner: i32, ms: u64) -> RawTask {
        let mut t = RawTask::zeroed();
        t.pid = pid;
        t.tgid = pid;
        t.state = u32::from(b'D');
        t.blocked_owner_pid = owner;
        t.blocked_owner_cpu = -1;
        if map != 0 {
            t.blocked_kind = LockKind::Mutex.into();
            t.blocked_map = map;
            t.blocked_ns = ms * MS;
        }
        t
    }

    /// The items of `it`, collected.
    fn collect<T>(it: impl Iterator<Item = T>) -> KVec<T> {
        let mut v = KVec::new();
        for x in it {
            v.push(x, GFP_KERNEL).ok();
        }
        v
    }

    fn runnable(pid: i32, cpu: u32) -> RawRunnable {
        let mut r = RawRunnable::zeroed();
        r.pid = pid;
        r.cpu = cpu;
        r
    }

    /// A report over `cpus` and the locks snapshot of `tasks`, stuck after 1000 ms.
    fn report(cpus: KVVec<RawCpu>, tasks: &[RawTask], run: &[RawRunnable]) -> Result<Report> {
        let info = RawCpusInfo {
            seq: 3,
            taken_ns: 10_000 * MS,
            nr_cpus: cpus.len() as u32,
            source: Source::Control as u32,
            ..RawCpusInfo::default()
        };
        let mut r = Report::new();
        r.stuck_ms = 1000;
        r.cpus = Some(cpus::Snapshot::new(info, cpus)?);
        let mut l = locks::Snapshot::new();
        l.fill(1, RawLocksInfo::default(), tasks, &[], true)?;
        r.locks.copy_from(&l)?;
        r.runnable.extend_from_slice(run, GFP_KERNEL)?;
        r.join(CALLER)?;
        Ok(r)
    }

    /// Issue 9 item 3: a CPU in kernel mode on one task for stuck_ms or more is stuck, longest
    /// first; not sooner, not in user mode, not idle, not the caller; unknown is "maybe".
    #[test]
    fn which_cpus_are_stuck() -> Result {
        let mut c = bridge::zeroed_cpus(7)?;
        cpu(&mut c[0], 0, CALLER, Mode::Kernel, Some(5000));
        cpu(&mut c[1], 1, 11, Mode::Kernel, Some(1500));
        cpu(&mut c[2], 2, 12, Mode::Kernel, Some(999));
        cpu(&mut c[3], 3, 13, Mode::User, Some(9000));
        cpu(&mut c[4], 4, 14, Mode::Kernel, Some(3000));
        cpu(&mut c[5], 5, 15, Mode::Kernel, None);
        c[6].cpu = 6;
        c[6].state = State::NoResponse as u32;
        let r = report(c, &[], &[])?;
        let stuck = collect(r.stuck.iter().map(|s| (s.cpu, s.on_cpu_ns)));
        assert_eq!(&stuck[..], &[(4, 3000 * MS), (1, 1500 * MS)]);
        assert_eq!(&r.maybe[..], &[5]);
        assert_eq!(&r.no_response[..], &[6]);
        // The watch counts stuck CPUs with the same rule, without a report.
        if let Some(snap) = &r.cpus {
            assert_eq!(StuckRule::new(1000, CALLER).count(snap), 2);
            assert_eq!(StuckRule::new(1500, CALLER).count(snap), 2);
            assert_eq!(StuckRule::new(1501, CALLER).count(snap), 1);
            assert_eq!(StuckRule::new(1000, 14).count(snap), 2);
        }
        assert!(r.cpus.is_some());
        Ok(())
    }

    /// Issue 9 item 3: the waiters of a stuck CPU's lock are the tasks waiting for that very
    /// lock (its lockdep map), not for another instance of its name; the lock the CPU itself
    /// spins on has no waiters of its own; the starved are the runnable tasks of its runqueue.
    #[test]
    fn waiters_and_starved_tasks() -> Result {
        let mut c = bridge::zeroed_cpus(3)?;
        cpu(&mut c[0], 0, CALLER, Mode::Kernel, None);
        cpu(&mut c[1], 1, 20, Mode::Kernel, Some(4000));
        hold(&mut c[1], 0x1000, b"outer", false);
        hold(&mut c[1], 0x2000, b"kintrospect_test_lock", false);
        cpu(&mut c[2], 2, 21, Mode::Kernel, Some(3000));
        hold(&mut c[2], 0x2000, b"kintrospect_test_lock", true);
        let tasks = [
            task(20, 0, -1, 0),
            task(21, 0x2000, 20, 3000),
            task(22, 0x3000, -1, 200),
            task(23, 0x1000, 20, 0),
        ];
        let run = [
            runnable(31, 2),
            runnable(30, 1),
            runnable(32, 1),
            runnable(33, 0),
        ];
        let r = report(c, &tasks, &run)?;
        assert_eq!(r.stuck.len(), 2);
        let s = &r.stuck[0];
        assert_eq!(s.cpu, 1);
        assert_eq!(
            &r.waiters[s.waiters.clone()],
            &[Waiter { task: 3, held: 0 }, Waiter { task: 1, held: 1 }]
        );
        let starved = collect(r.runnable[s.starved.clone()].iter().map(|x| x.pid));
        assert_eq!(&starved[..], &[30, 32]);
        let spinner = &r.stuck[1];
        assert_eq!(spinner.cpu, 2);
        assert!(r.waiters[spinner.waiters.clone()].is_empty());
        assert_eq!(r.runnable[spinner.starved.clone()].len(), 1);
        Ok(())
    }

    /// Issue 9 item 3: the text and JSON name the stuck CPU, its task, frame, lock, waiter
    /// and starved task, and the waiter's chain to the holder.
    #[test]
    fn formats_name_cpu_task_lock_waiter() -> Result {
        use crate::{
            report::{
                Json,
                Text, //
            },
            text::Reader,
        };
        use kernel::str::CString;

        let mut c = bridge::zeroed_cpus(2)?;
        cpu(&mut c[0], 0, CALLER, Mode::Kernel, None);
        cpu(&mut c[1], 1, 20, Mode::Kernel, Some(2500));
        copy(&mut c[1].comm, b"dd\0\0");
        c[1].nr_frames = 1;
        copy(&mut c[1].symbols[0], b"spin_loop+0x1/0x10 [m]");
        hold(&mut c[1], 0x2000, b"test_lock", false);
        copy(&mut c[1].held[0].site, b"spin+0x6a/0x90 [m]");
        let mut t = [task(20, 0, -1, 0), task(21, 0x2000, 20, 1500)];
        copy(&mut t[0].comm, b"task");
        t[1].blocked_kind = LockKind::Spin.into();
        t[1].state = u32::from(b'R');
        t[1].cpu = 2;
        copy(&mut t[1].comm, b"waiter");
        copy(&mut t[1].blocked_name, b"test_lock");
        let mut r = report(c, &t, &[runnable(30, 1)])?;
        r.seq = 4;
        let reader = Reader {
            raw_addresses: false,
        };
        let text = CString::try_from_fmt(fmt!("{}", Text(&r, reader)))?;
        let text = text.to_str()?;
        assert!(text.contains(
            "\nSTUCK CPU 1: pid 20 (dd) mode kernel context task irqs on preempt_count 0x0, in \
             the kernel for at least 2.500 s\n  spin_loop+0x1/0x10 [m]\n  holds test_lock (spinlock, write) \
             acquired at spin+0x6a/0x90 [m]\n    waited for by pid 21 (waiter) state R cpu 2\n  \
             starved in its runqueue: pid 30 ()\n"
        ));
        assert!(text.contains(
            "\nblocked, longest first:\n  pid 21 (waiter) state R cpu 2, waiting 1.500 s: waits \
             for spinlock test_lock -> pid 20 (task) state D cpu 0\n"
        ));
        let json = CString::try_from_fmt(fmt!("{}", Json(&r, reader)))?;
        let json = json.to_str()?;
        assert!(json.contains(
            "\"stuck_cpus\":[{\"cpu\":1,\"pid\":20,\"comm\":\"dd\",\"mode\":\"kernel\",\
             \"context\":\"task\",\"irqs_disabled\":false,\"preempt_count\":0,\"on_cpu_ns\":2500000000,\
             \"frames\":[\"spin_loop+0x1/0x10 [m]\"],\"lockdep\":\"on\",\"held\":[{\"name\":\
             \"test_lock\",\"kind\":\"spinlock\",\"mode\":\"write\",\"magic_bad\":false,\
             \"acquired_at\":\"spin+0x6a/0x90 [m]\",\"held_ns\":null,\"maybe_waiting\":false}],\"held_dropped\":0,\
             \"waits_for\":null,\"waiters\":[{\"pid\":21,\"comm\":\"waiter\",\
             \"lock\":\"test_lock\"}],\"starved\":[{\"pid\":30,\"comm\":\"\"}]}]"
        ));
        assert!(json.contains(
            "\"blocked\":[{\"pid\":21,\"comm\":\"waiter\",\"state\":\"R\",\"cpu\":2,\
             \"blocked_ns\":1500000000,\"chain\":[{\"kind\":\"spinlock\",\
             \"name\":\"test_lock\",\"owner_pid\":20,\"hint_pid\":null}]}]"
        ));
        assert!(json.contains("\"maybe_stuck\":[],\"no_response\":[],\"deadlocks\":[],"));
        Ok(())
    }

    /// Issue 9 item 3: a running task the walk saw "spinning" on a lock (one being taken in an
    /// interrupt, read from another CPU) that its NMI did not see it spin on is not blocked,
    /// and its waiter's chain ends at it; a spinner its NMI agrees with stays blocked.
    #[test]
    fn the_nmi_decides_what_a_running_task_spins_on() -> Result {
        let mut c = bridge::zeroed_cpus(3)?;
        cpu(&mut c[0], 0, CALLER, Mode::Kernel, None);
        cpu(&mut c[1], 1, 50, Mode::Kernel, Some(3000));
        hold(&mut c[1], 0x2000, b"kintrospect_test_lock", false);
        cpu(&mut c[2], 2, 51, Mode::Kernel, Some(2000));
        hold(&mut c[2], 0x2000, b"kintrospect_test_lock", true);
        let mut t = [task(50, 0x9000, -1, 0), task(51, 0x2000, 50, 2000)];
        t[0].blocked_kind = LockKind::Spin.into();
        t[1].blocked_kind = LockKind::Spin.into();
        let r = report(c, &t, &[])?;
        let tasks = r.locks.tasks();
        assert_eq!(tasks[0].blocked(), None);
        assert_eq!(tasks[1].blocked(), Some(LockKind::Spin));
        assert_eq!(&r.blocked[..], &[1]);
        assert_eq!(r.locks.graph.next[1], Some(0));
        assert_eq!(r.locks.graph.next[0], None);
        let s = &r.stuck[0];
        assert_eq!(
            &r.waiters[s.waiters.clone()],
            &[Waiter { task: 1, held: 0 }]
        );
        Ok(())
    }

    /// Issue 17 item 3: a CPU spinning on a mutex (its NMI found the owner another task) waits
    /// for it and has no waiters through it; the mutex's waiter is joined to the CPU of its
    /// real holder. A lock the CPU may be acquiring (the lock cannot tell) joins no waiter.
    #[test]
    fn waiters_join_the_real_holder_not_a_waiter() -> Result {
        let mut c = bridge::zeroed_cpus(3)?;
        cpu(&mut c[0], 0, CALLER, Mode::Kernel, None);
        cpu(&mut c[1], 1, 20, Mode::Kernel, Some(4000));
        hold(&mut c[1], 0x2000, b"ki_lt_mutex", false);
        c[1].held[0].kind = LockKind::Sleeping.into();
        cpu(&mut c[2], 2, 21, Mode::Kernel, Some(3000));
        hold(&mut c[2], 0x3000, b"&mm->mmap_lock", false);
        c[2].held[0].flags = LockFlag::MaybeWaiting.into();
        hold(&mut c[2], 0x2000, b"ki_lt_mutex", true);
        c[2].held[1].kind = LockKind::Mutex.into();
        let mut t = [
            task(20, 0, -1, 0),
            task(21, 0x2000, 20, 3000),
            task(22, 0x2000, 20, 2000),
            task(23, 0x3000, -1, 1000),
        ];
        t[1].state = u32::from(b'R');
        let r = report(c, &t, &[])?;
        assert_eq!(r.stuck.len(), 2);
        let holder = &r.stuck[0];
        assert_eq!(holder.cpu, 1);
        assert_eq!(
            &r.waiters[holder.waiters.clone()],
            &[Waiter { task: 1, held: 0 }, Waiter { task: 2, held: 0 }]
        );
        let spinner = &r.stuck[1];
        assert_eq!(spinner.cpu, 2);
        assert!(r.waiters[spinner.waiters.clone()].is_empty());
        // The NMI agrees that the running pid 21 waits for the mutex: its wait stays.
        assert_eq!(r.locks.tasks()[1].blocked(), Some(LockKind::Mutex));
        assert_eq!(r.locks.graph.next[1], Some(0));
        Ok(())
    }

    /// Issue 9 item 3: blocked tasks, longest waiting first, an unknown wait last.
    #[test]
    fn blocked_tasks_longest_first() -> Result {
        let c = bridge::zeroed_cpus(0)?;
        let tasks = [
            task(40, 0x10, -1, 0),
            task(41, 0x10, -1, 5),
            task(42, 0, -1, 0),
            task(43, 0x20, 41, 700),
        ];
        let r = report(c, &tasks, &[])?;
        let pids = collect(r.blocked.iter().map(|&i| tasks[i].pid));
        assert_eq!(&pids[..], &[43, 41, 40]);
        assert!(r.stuck.is_empty());
        Ok(())
    }
}
