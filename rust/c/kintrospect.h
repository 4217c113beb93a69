/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kintrospect's C part: the kernel interfaces that have no Rust binding
 * (NMI handlers, SysRq keys, the ORC unwinder, kallsyms, raw spinlocks with
 * interrupts off). Every function the Rust side calls is declared here and
 * in the part of rust/bridge/ that wraps it; shared records are defined here
 * once and mirrored as #[repr(C)] there, with their sizes and the offsets of
 * all their fields asserted on both sides (c_layout! in rust/bridge.rs).
 */
#ifndef KINTROSPECT_H
#define KINTROSPECT_H

#include <linux/build_bug.h>
#include <linux/stddef.h>
#include <linux/stringify.h>
#include <linux/types.h>

/* Frames kept per CPU, innermost first. */
#define KINTROSPECT_MAX_FRAMES	64
#define KINTROSPECT_COMM_LEN	16
/*
 * Room for one frame's symbol, with its NUL: "function+off/size [module]".
 * A longer one keeps the start of the name and all of "+off/size [module]",
 * with "..." between them.
 */
#define KINTROSPECT_SYMBOL_LEN	128

/* What a lock is, as far as kintrospect can tell. */
enum kintrospect_lock_kind {
	KINTROSPECT_LOCK_NONE = 0,	/* a task record: not blocked */
	KINTROSPECT_LOCK_SPIN = 1,
	KINTROSPECT_LOCK_MUTEX = 2,
	KINTROSPECT_LOCK_SEMAPHORE = 3,
	KINTROSPECT_LOCK_RWSEM_READ = 4,
	KINTROSPECT_LOCK_RWSEM_WRITE = 5,
	KINTROSPECT_LOCK_SLEEPING = 6,	/* a mutex or rwsem, from lockdep */
	KINTROSPECT_LOCK_OTHER = 7,
	/* Waited for, as the lock's own state tells (a lockdep entry not held). */
	KINTROSPECT_LOCK_RWLOCK_READ = 8,
	KINTROSPECT_LOCK_RWLOCK_WRITE = 9,
	KINTROSPECT_LOCK_PERCPU_RWSEM_READ = 10,
	KINTROSPECT_LOCK_PERCPU_RWSEM_WRITE = 11,
};

/* How a lock is held: lockdep's held_lock.read. */
enum kintrospect_held_mode {
	KINTROSPECT_HELD_WRITE = 0,
	KINTROSPECT_HELD_READ = 1,
	KINTROSPECT_HELD_RECURSIVE_READ = 2,
};

/* Flags of a held or waited-for lock (kintrospect_held.flags, blocked_flags). */
/* No lockdep name: named by the symbol of its address ("%ps"). */
#define KINTROSPECT_LOCK_F_ADDR_NAME		(1U << 0)
/* No name at all: show lock_addr only where %pK would, else "?". */
#define KINTROSPECT_LOCK_F_UNRESOLVED		(1U << 1)
/* A spinlock whose DEBUG_SPINLOCK magic is wrong: uninitialised or corrupted. */
#define KINTROSPECT_LOCK_F_MAGIC_BAD		(1U << 2)
/* The owner is a hint: a semaphore's last holder, a reader of an rwsem. */
#define KINTROSPECT_LOCK_F_OWNER_HINT		(1U << 3)
/* The acquire site has no symbol: show acquire_ip only where %pK would. */
#define KINTROSPECT_LOCK_F_SITE_UNRESOLVED	(1U << 4)
/*
 * In a CPU record: the task waits for (spins on, sleeps for) this lock, it
 * does not hold it.
 */
#define KINTROSPECT_LOCK_F_WAITING		(1U << 5)
/*
 * A lockdep entry the lock cannot confirm as held: acquiring or held (a
 * reader of a reader-owned rwsem, a lock of a type kintrospect cannot
 * identify). No waiter is joined to a holder through it.
 */
#define KINTROSPECT_LOCK_F_MAYBE_WAITING	(1U << 6)

#define KINTROSPECT_LOCK_NAME_LEN	64
/* A symbolised acquire site, "func+0x1c/0x80 [module]", cut to fit. */
#define KINTROSPECT_SITE_LEN		128

/* One lock a thread holds, from lockdep's held-lock stack. */
struct kintrospect_held {
	u64 acquire_ip;		/* shown only when site is unresolved */
	u64 held_ns;		/* CONFIG_LOCK_STAT, else 0 */
	u64 lock_addr;		/* the lockdep map; shown only when unresolved */
	u32 task;		/* index of the holder's kintrospect_task */
	u32 mode;		/* enum kintrospect_held_mode */
	u32 kind;		/* enum kintrospect_lock_kind */
	u32 flags;		/* KINTROSPECT_LOCK_F_* */
	char name[KINTROSPECT_LOCK_NAME_LEN];
	char site[KINTROSPECT_SITE_LEN];	/* acquire_ip, symbolised when taken */
};

static_assert(sizeof(struct kintrospect_held) == 232);
static_assert(offsetof(struct kintrospect_held, acquire_ip) == 0);
static_assert(offsetof(struct kintrospect_held, held_ns) == 8);
static_assert(offsetof(struct kintrospect_held, lock_addr) == 16);
static_assert(offsetof(struct kintrospect_held, task) == 24);
static_assert(offsetof(struct kintrospect_held, mode) == 28);
static_assert(offsetof(struct kintrospect_held, kind) == 32);
static_assert(offsetof(struct kintrospect_held, flags) == 36);
static_assert(offsetof(struct kintrospect_held, name) == 40);
static_assert(offsetof(struct kintrospect_held, site) == 104);

/* What a CPU was doing when the snapshot reached it. */
enum kintrospect_cpu_state {
	KINTROSPECT_CPU_OFFLINE = 0,
	KINTROSPECT_CPU_RUNNING = 1,
	KINTROSPECT_CPU_IDLE = 2,
	KINTROSPECT_CPU_NO_RESPONSE = 3,
};

/*
 * Where the CPU's task was when the NMI came, under any interrupt the NMI
 * interrupted: a user loop caught in the timer interrupt is still USER.
 */
enum kintrospect_mode {
	KINTROSPECT_MODE_KERNEL = 0,
	KINTROSPECT_MODE_USER = 1,
	KINTROSPECT_MODE_IDLE = 2,	/* the idle task, in an interrupt or not */
};

/* The interrupt level the NMI interrupted (from its preempt count). */
enum kintrospect_context {
	KINTROSPECT_CONTEXT_TASK = 0,
	KINTROSPECT_CONTEXT_SOFTIRQ = 1,	/* serving a softirq */
	KINTROSPECT_CONTEXT_IRQ = 2,		/* a hard interrupt */
	KINTROSPECT_CONTEXT_NMI = 3,
};

/* What a CPU record says of lockdep's held-lock stack. */
enum kintrospect_cpu_lockdep {
	KINTROSPECT_CPU_LOCKDEP_NONE = 0,	/* no CONFIG_LOCKDEP, or no data */
	KINTROSPECT_CPU_LOCKDEP_ON = 1,		/* held[] is the stack at the NMI */
	KINTROSPECT_CPU_LOCKDEP_OFF = 2,	/* debug_locks == 0: stacks frozen, not read */
};

/* Locks kept per CPU from the interrupted task's lockdep stack, innermost last. */
#define KINTROSPECT_CPU_MAX_HELD	8

/* Who asked for a snapshot. */
enum kintrospect_source {
	KINTROSPECT_SOURCE_NONE = 0,
	KINTROSPECT_SOURCE_CONTROL = 1,
	KINTROSPECT_SOURCE_SYSRQ = 2,
	KINTROSPECT_SOURCE_WATCH = 3,
};

/*
 * One CPU of a published snapshot. The trigger fills it from what the CPU
 * recorded (in NMI for remote CPUs) and symbolises every frame when the
 * snapshot is taken, so that reading it later only copies text.
 */
struct kintrospect_cpu {
	u64 taken_ns;		/* ktime_get_mono_fast_ns() at capture */
	u64 handler_ns;		/* time spent capturing, local_clock() */
	u64 ip;
	u64 sp;
	u64 flags;
	u64 frames[KINTROSPECT_MAX_FRAMES];	/* raw, for unresolved ones */
	u64 interrupted;	/* bit i: frames[i] is an interrupted ip */
	u64 unresolved;		/* bit i: kallsyms had no symbol for frames[i] */
	s32 pid;
	s32 tgid;
	u32 cpu;
	u32 state;		/* enum kintrospect_cpu_state */
	u32 mode;		/* enum kintrospect_mode */
	u32 irqs_disabled;
	u32 preempt_count;	/* of the interrupted context */
	u32 nr_frames;
	char comm[KINTROSPECT_COMM_LEN];
	/* NUL-terminated; empty for an unresolved frame */
	char symbols[KINTROSPECT_MAX_FRAMES][KINTROSPECT_SYMBOL_LEN];
	/*
	 * How long the task has been in the kernel on the CPU: nvcsw + nivcsw
	 * and utime of the task and its start_time (with pid, its identity)
	 * at the NMI; the taken_ns of the first snapshot of a run of
	 * snapshots that all found the same task there in kernel mode, with
	 * the same switch count and user time (== taken_ns: this is the
	 * first).
	 */
	u64 nr_switches;
	u64 start_time;
	u64 on_cpu_since_ns;
	u64 utime;		/* the task's user (and guest) time, ns */
	/* The task's lockdep held-lock stack at the NMI, named by the trigger. */
	u32 lockdep;		/* enum kintrospect_cpu_lockdep */
	u32 nr_held;
	u32 held_dropped;	/* deeper than KINTROSPECT_CPU_MAX_HELD */
	u32 context;		/* enum kintrospect_context */
	struct kintrospect_held held[KINTROSPECT_CPU_MAX_HELD];	/* task unused */
};

static_assert(KINTROSPECT_MAX_FRAMES <= 64);	/* bits of interrupted, unresolved */
static_assert(sizeof(struct kintrospect_cpu) == 10712);
static_assert(offsetof(struct kintrospect_cpu, taken_ns) == 0);
static_assert(offsetof(struct kintrospect_cpu, handler_ns) == 8);
static_assert(offsetof(struct kintrospect_cpu, ip) == 16);
static_assert(offsetof(struct kintrospect_cpu, sp) == 24);
static_assert(offsetof(struct kintrospect_cpu, flags) == 32);
static_assert(offsetof(struct kintrospect_cpu, frames) == 40);
static_assert(offsetof(struct kintrospect_cpu, interrupted) == 552);
static_assert(offsetof(struct kintrospect_cpu, unresolved) == 560);
static_assert(offsetof(struct kintrospect_cpu, pid) == 568);
static_assert(offsetof(struct kintrospect_cpu, tgid) == 572);
static_assert(offsetof(struct kintrospect_cpu, cpu) == 576);
static_assert(offsetof(struct kintrospect_cpu, state) == 580);
static_assert(offsetof(struct kintrospect_cpu, mode) == 584);
static_assert(offsetof(struct kintrospect_cpu, irqs_disabled) == 588);
static_assert(offsetof(struct kintrospect_cpu, preempt_count) == 592);
static_assert(offsetof(struct kintrospect_cpu, nr_frames) == 596);
static_assert(offsetof(struct kintrospect_cpu, comm) == 600);
static_assert(offsetof(struct kintrospect_cpu, symbols) == 616);
static_assert(offsetof(struct kintrospect_cpu, nr_switches) == 8808);
static_assert(offsetof(struct kintrospect_cpu, start_time) == 8816);
static_assert(offsetof(struct kintrospect_cpu, on_cpu_since_ns) == 8824);
static_assert(offsetof(struct kintrospect_cpu, utime) == 8832);
static_assert(offsetof(struct kintrospect_cpu, lockdep) == 8840);
static_assert(offsetof(struct kintrospect_cpu, nr_held) == 8844);
static_assert(offsetof(struct kintrospect_cpu, held_dropped) == 8848);
static_assert(offsetof(struct kintrospect_cpu, context) == 8852);
static_assert(offsetof(struct kintrospect_cpu, held) == 8856);

/* A whole CPU snapshot's header. */
struct kintrospect_cpus_info {
	u64 seq;		/* 0: no snapshot taken yet */
	u64 taken_ns;		/* ktime_get_mono_fast_ns() at the trigger */
	u64 duration_ns;	/* trigger to publication: answers, then names */
	u32 source;		/* enum kintrospect_source */
	u32 nr_cpus;		/* slots that follow: nr_cpu_ids */
	u32 nr_no_response;
	u32 pad;
};

static_assert(sizeof(struct kintrospect_cpus_info) == 40);
static_assert(offsetof(struct kintrospect_cpus_info, seq) == 0);
static_assert(offsetof(struct kintrospect_cpus_info, taken_ns) == 8);
static_assert(offsetof(struct kintrospect_cpus_info, duration_ns) == 16);
static_assert(offsetof(struct kintrospect_cpus_info, source) == 24);
static_assert(offsetof(struct kintrospect_cpus_info, nr_cpus) == 28);
static_assert(offsetof(struct kintrospect_cpus_info, nr_no_response) == 32);
static_assert(offsetof(struct kintrospect_cpus_info, pad) == 36);

/* nmi.c: per-CPU NMI backtrace snapshots. */
int kintrospect_cpus_init(u32 timeout_ms);
void kintrospect_cpus_exit(void);
int kintrospect_cpus_capture(u32 source);
u32 kintrospect_cpus_nr_slots(void);
void kintrospect_cpus_header(struct kintrospect_cpus_info *info);
int kintrospect_cpus_copy(struct kintrospect_cpus_info *info,
			  struct kintrospect_cpu *cpus, u32 nr);
size_t kintrospect_cpus_memory(void);
void kintrospect_nmi_cost(u32 cpu, u64 *ns, u64 *count);
bool kintrospect_raw_addresses(void);

/* A thread that holds or waits for a lock; its held locks follow in order. */
struct kintrospect_task {
	u64 self;		/* the task_struct: matched, never dereferenced or shown */
	u64 blocked_lock;	/* the lock waited for; shown only when unresolved */
	u64 blocked_owner;	/* its owner's task_struct: matched, never shown */
	u64 blocked_map;	/* its lockdep map, or 0: matched, never shown */
	u64 blocked_ns;		/* how long it has waited (CONFIG_LOCK_STAT), or 0 */
	s32 pid;
	s32 tgid;
	u32 cpu;
	u32 state;		/* task_state_to_char() */
	u32 nr_held;
	u32 held_dropped;
	u32 blocked_kind;	/* enum kintrospect_lock_kind, NONE if not blocked */
	s32 blocked_owner_pid;	/* -1: unknown or not found */
	s32 blocked_owner_cpu;	/* spinlocks (DEBUG_SPINLOCK), else -1 */
	u32 blocked_flags;	/* KINTROSPECT_LOCK_F_* */
	char comm[KINTROSPECT_COMM_LEN];
	char blocked_name[KINTROSPECT_LOCK_NAME_LEN];
};

static_assert(sizeof(struct kintrospect_task) == 160);
static_assert(offsetof(struct kintrospect_task, self) == 0);
static_assert(offsetof(struct kintrospect_task, blocked_lock) == 8);
static_assert(offsetof(struct kintrospect_task, blocked_owner) == 16);
static_assert(offsetof(struct kintrospect_task, blocked_map) == 24);
static_assert(offsetof(struct kintrospect_task, blocked_ns) == 32);
static_assert(offsetof(struct kintrospect_task, pid) == 40);
static_assert(offsetof(struct kintrospect_task, tgid) == 44);
static_assert(offsetof(struct kintrospect_task, cpu) == 48);
static_assert(offsetof(struct kintrospect_task, state) == 52);
static_assert(offsetof(struct kintrospect_task, nr_held) == 56);
static_assert(offsetof(struct kintrospect_task, held_dropped) == 60);
static_assert(offsetof(struct kintrospect_task, blocked_kind) == 64);
static_assert(offsetof(struct kintrospect_task, blocked_owner_pid) == 68);
static_assert(offsetof(struct kintrospect_task, blocked_owner_cpu) == 72);
static_assert(offsetof(struct kintrospect_task, blocked_flags) == 76);
static_assert(offsetof(struct kintrospect_task, comm) == 80);
static_assert(offsetof(struct kintrospect_task, blocked_name) == 96);

/* Counts of one collection. */
struct kintrospect_locks_info {
	u64 taken_ns;		/* CLOCK_MONOTONIC */
	u32 lockdep;		/* built with CONFIG_LOCKDEP */
	u32 lockdep_off;	/* debug_locks == 0: held-lock stacks are frozen */
	u32 nr_threads;
	u32 nr_tasks;
	u32 nr_held;
	u32 tasks_dropped;
	u32 held_dropped;
	u32 pad;
};

static_assert(sizeof(struct kintrospect_locks_info) == 40);
static_assert(offsetof(struct kintrospect_locks_info, taken_ns) == 0);
static_assert(offsetof(struct kintrospect_locks_info, lockdep) == 8);
static_assert(offsetof(struct kintrospect_locks_info, lockdep_off) == 12);
static_assert(offsetof(struct kintrospect_locks_info, nr_threads) == 16);
static_assert(offsetof(struct kintrospect_locks_info, nr_tasks) == 20);
static_assert(offsetof(struct kintrospect_locks_info, nr_held) == 24);
static_assert(offsetof(struct kintrospect_locks_info, tasks_dropped) == 28);
static_assert(offsetof(struct kintrospect_locks_info, held_dropped) == 32);
static_assert(offsetof(struct kintrospect_locks_info, pad) == 36);

/* locks.c: lock-holder records. */
int kintrospect_locks_collect(struct kintrospect_task *tasks, u32 max_tasks,
			      struct kintrospect_held *held, u32 max_held,
			      struct kintrospect_locks_info *info);
u32 kintrospect_locks_confirm(const struct kintrospect_task *tasks,
			      const u32 *which, u8 *confirmed, u32 nr);

/* A task that is runnable but not running: it waits in a CPU's runqueue. */
struct kintrospect_runnable {
	s32 pid;
	u32 cpu;		/* task_cpu(): the runqueue it waits in */
	char comm[KINTROSPECT_COMM_LEN];
};

static_assert(sizeof(struct kintrospect_runnable) == 24);
static_assert(offsetof(struct kintrospect_runnable, pid) == 0);
static_assert(offsetof(struct kintrospect_runnable, cpu) == 4);
static_assert(offsetof(struct kintrospect_runnable, comm) == 8);

/* runq.c: the tasks waiting in runqueues, for the report. */
u32 kintrospect_runq_collect(struct kintrospect_runnable *out, u32 max,
			     u32 *dropped);

/* registration.c: the Rust side's state and the callbacks it receives. */
struct seq_file;

struct kintrospect_ops {
	int (*show)(const void *data, u32 id, struct seq_file *m);
	int (*write)(const void *data, u32 id, const char *buf, size_t copied,
		     size_t len);
	void (*sysrq)(const void *data);
	void (*sysrq_deferred)(const void *data);
	void (*tick)(const void *data);
	void (*watch)(const void *data);
	void (*panic)(const void *data);
};

static_assert(sizeof(struct kintrospect_ops) == 56);
static_assert(offsetof(struct kintrospect_ops, show) == 0);
static_assert(offsetof(struct kintrospect_ops, write) == 8);
static_assert(offsetof(struct kintrospect_ops, sysrq) == 16);
static_assert(offsetof(struct kintrospect_ops, sysrq_deferred) == 24);
static_assert(offsetof(struct kintrospect_ops, tick) == 32);
static_assert(offsetof(struct kintrospect_ops, watch) == 40);
static_assert(offsetof(struct kintrospect_ops, panic) == 48);

void kintrospect_register(const void *data, const struct kintrospect_ops *ops);
void kintrospect_unregister(void);
int kintrospect_file_show(u32 id, struct seq_file *m);
int kintrospect_file_write(u32 id, const char *buf, size_t copied, size_t len);
void kintrospect_sysrq(void);
void kintrospect_sysrq_deferred(void);
void kintrospect_tick_start(u32 interval_ms);
void kintrospect_tick_stop(void);
u64 kintrospect_task_runtime_ns(void);
void kintrospect_watch_deferred(void);
void kintrospect_watch_panic(void);

/* debugfs.c: the files; their content comes from the Rust side. */
#define KINTROSPECT_MAX_WRITE	64

/* One file to create. */
struct kintrospect_file_spec {
	const char *name;
	u32 id;		/* passed back to the callbacks */
	u16 mode;
};

static_assert(sizeof(struct kintrospect_file_spec) == 16);
static_assert(offsetof(struct kintrospect_file_spec, name) == 0);
static_assert(offsetof(struct kintrospect_file_spec, id) == 8);
static_assert(offsetof(struct kintrospect_file_spec, mode) == 12);

int kintrospect_debugfs_create(const struct kintrospect_file_spec *files,
			       u32 nr);
void kintrospect_debugfs_remove(void);

/*
 * A file the C part serves itself (testpath.c's): a read shows @show, a
 * write gets the first KINTROSPECT_MAX_WRITE bytes and the whole length.
 * Mode 0400 with @show, 0200 with @write: root only, as the others.
 */
struct kintrospect_c_file {
	const char *name;
	int (*show)(struct seq_file *m);
	int (*write)(const char *buf, size_t copied, size_t len);
};

int kintrospect_debugfs_c_dir(const char *name,
			      const struct kintrospect_c_file *files, u32 nr);

/* watch.c: the watch's periodic sample and its hooks. */
enum kintrospect_hit_kind {
	KINTROSPECT_HIT_HUNG_TASK = 1,	/* the hung-task detector reported it */
	KINTROSPECT_HIT_OOPS = 2,	/* it oopsed */
};

/* Something a hook saw, for the next sample. */
struct kintrospect_watch_hit {
	u64 taken_ns;	/* ktime_get_mono_fast_ns() */
	u32 kind;	/* enum kintrospect_hit_kind */
	s32 pid;
	u32 cpu;	/* where the hook ran */
	u32 pad;
	char comm[KINTROSPECT_COMM_LEN];
};

static_assert(sizeof(struct kintrospect_watch_hit) == 40);
static_assert(offsetof(struct kintrospect_watch_hit, taken_ns) == 0);
static_assert(offsetof(struct kintrospect_watch_hit, kind) == 8);
static_assert(offsetof(struct kintrospect_watch_hit, pid) == 12);
static_assert(offsetof(struct kintrospect_watch_hit, cpu) == 16);
static_assert(offsetof(struct kintrospect_watch_hit, pad) == 20);
static_assert(offsetof(struct kintrospect_watch_hit, comm) == 24);

#define KINTROSPECT_HOOK_HUNG_TASK	(1U << 0)
#define KINTROSPECT_HOOK_OOPS		(1U << 1)
#define KINTROSPECT_HOOK_PANIC		(1U << 2)

/* How the watch kept its cadence (watch.c). */
struct kintrospect_watch_cadence {
	u64 last_ns;		/* ktime_get_mono_fast_ns() at the latest sample's end; 0: none */
	u64 longest_gap_ns;	/* longest time from a sample's end to the next one's start */
	u64 late;		/* samples that started more than late_after_ns after the previous */
	u64 rescued;		/* samples a backup timer started: the primary's CPU ran no timer */
	u64 late_after_ns;	/* the interval and half as much again */
};

static_assert(sizeof(struct kintrospect_watch_cadence) == 40);
static_assert(offsetof(struct kintrospect_watch_cadence, last_ns) == 0);
static_assert(offsetof(struct kintrospect_watch_cadence, longest_gap_ns) == 8);
static_assert(offsetof(struct kintrospect_watch_cadence, late) == 16);
static_assert(offsetof(struct kintrospect_watch_cadence, rescued) == 24);
static_assert(offsetof(struct kintrospect_watch_cadence, late_after_ns) == 32);

int kintrospect_watch_start(u32 interval_ms);
void kintrospect_watch_stop(void);
u32 kintrospect_watch_take(struct kintrospect_watch_hit *out, u32 max, u32 *dropped);
u32 kintrospect_watch_peek_panic(struct kintrospect_watch_hit *out, u32 max);
void kintrospect_watch_recorded(void);
u32 kintrospect_watch_hooks(void);
void kintrospect_watch_cadence(struct kintrospect_watch_cadence *out);

/* sysrq.c: the SysRq key. */
int kintrospect_sysrq_register(u8 key);
void kintrospect_sysrq_unregister(void);

/* config.c: the module parameters, the kernel's debug features. */
/* Room for the persist= region name with its NUL. */
#define KINTROSPECT_PERSIST_NAME_LEN	32
/* Longest test spin: below the soft-lockup and RCU stall thresholds. */
#define KINTROSPECT_SPIN_MAX_MS		15000
/* Most slab trend intervals kept per cache (mirrored by rust/bridge/config.rs). */
#define KINTROSPECT_SLAB_TREND_MAX	64
/* Most events the watch keeps. */
#define KINTROSPECT_WATCH_EVENTS_MAX	64
/* Longest sampling period of the slab trend and the watch. */
#define KINTROSPECT_PERIOD_MAX_MS	3600000

/*
 * The unsigned module parameters, each declared here once, in the order of
 * their fields in struct kintrospect_params:
 *
 *	X(name, default, off, min, max, description)
 *
 * off is true or false: true allows 0 besides min-max, meaning off. config.c
 * makes each a read-only module parameter whose MODULE_PARM_DESC is the
 * description with the range and default appended; a load with a value out
 * of range is refused with EINVAL and "<name>=<value> is out of range:
 * <min>-<max>".
 */
#define KINTROSPECT_UINT_PARAMS(X)						\
	X(nmi_timeout_ms, 100, false, 1, 10000,					\
	  "How long a CPU snapshot waits for the other CPUs' NMIs, in ms")	\
	X(spin_timeout_ms, 5000, false, 1, KINTROSPECT_SPIN_MAX_MS,		\
	  "A test spin ends by itself after this long, in ms, with irqs off at most " \
	  __stringify(KINTROSPECT_SPIN_IRQOFF_MAX_MS))				\
	X(slab_interval_ms, 0, true, 100, KINTROSPECT_PERIOD_MAX_MS,		\
	  "Take a slab sample every this many ms for the trend")		\
	X(slab_trend_samples, 10, false, 2, KINTROSPECT_SLAB_TREND_MAX,		\
	  "K: slab sample intervals kept per cache for the trend")		\
	X(slab_trend_min_growth, 8, false, 1, KINTROSPECT_SLAB_TREND_MAX,	\
	  "M: a cache that grew in at least M of the last K intervals is a suspect, M <= K") \
	X(stuck_ms, 1000, false, 1, KINTROSPECT_PERIOD_MAX_MS,			\
	  "The report calls a CPU stuck after this long on one task in kernel mode, in ms") \
	X(watch_interval_ms, 0, true, 100, KINTROSPECT_PERIOD_MAX_MS,		\
	  "The watch (flight recorder) samples every this many ms")		\
	X(watch_events, 16, false, 2, KINTROSPECT_WATCH_EVENTS_MAX,		\
	  "Events the watch keeps; the oldest is dropped")

#define KINTROSPECT_PARAM_FIELD(name, ...)	u32 name;

struct kintrospect_params {
	KINTROSPECT_UINT_PARAMS(KINTROSPECT_PARAM_FIELD)
	u8 sysrq_key;
	bool test_paths;
	u16 pad;
	char persist[KINTROSPECT_PERSIST_NAME_LEN];	/* NUL-terminated; "" = none */
};

/*
 * The unsigned fields come from the table, in its order; rust/bridge/config.rs
 * asserts each of their offsets.
 */
static_assert(sizeof(struct kintrospect_params) == 68);
static_assert(offsetof(struct kintrospect_params, sysrq_key) == 32);
static_assert(offsetof(struct kintrospect_params, test_paths) == 33);
static_assert(offsetof(struct kintrospect_params, pad) == 34);
static_assert(offsetof(struct kintrospect_params, persist) == 36);

/* A kernel debug feature and whether this kernel was built with it. */
struct kintrospect_feature {
	const char *name;
	bool enabled;
};

static_assert(sizeof(struct kintrospect_feature) == 16);
static_assert(offsetof(struct kintrospect_feature, name) == 0);
static_assert(offsetof(struct kintrospect_feature, enabled) == 8);

int kintrospect_params_read(struct kintrospect_params *p);
const char *kintrospect_uint_param(const struct kintrospect_params *p, u32 i,
				   u32 *value);
const struct kintrospect_feature *kintrospect_features(u32 *nr);
const char *kintrospect_kernel_release(void);

/* slab.c: slab reports, precise counts. */
#define KINTROSPECT_SLAB_PATH_MAX	160

/* The kernel's slab reports kintrospect reads (mirrored by rust/bridge/slab.rs). */
enum kintrospect_slab_file {
	KINTROSPECT_SLAB_FILE_SLABINFO = 0,	/* /proc/slabinfo */
	KINTROSPECT_SLAB_FILE_ALLOCINFO = 1,	/* /proc/allocinfo */
	KINTROSPECT_SLAB_FILE_ALLOC_TRACES = 2,	/* SLUB debugfs, per cache */
	KINTROSPECT_SLAB_FILE_SHEAF_CAPACITY = 3, /* SLUB sysfs, per cache */
	KINTROSPECT_SLAB_FILE_PARTIAL = 4,	/* SLUB sysfs, per cache */
};

/* What a flush did to one cache (mirrored by rust/bridge/slab.rs). */
enum kintrospect_slab_flush_status {
	KINTROSPECT_SLAB_FLUSH_NOT_DONE = 0,	/* not reached */
	KINTROSPECT_SLAB_FLUSH_DONE = 1,	/* its shrink file was written */
	KINTROSPECT_SLAB_FLUSH_FAILED = 2,	/* the write failed (cache gone?) */
};

/* How long a flush may make its caller wait, in ms. */
#define KINTROSPECT_SLAB_PROBE_TIMEOUT_MS	500
#define KINTROSPECT_SLAB_FLUSH_TIMEOUT_MS	5000

/* The outcome of kintrospect_slab_flush(). */
struct kintrospect_slab_flush_info {
	s32 error;		/* 0 or why nothing is known to be flushed */
	u32 cpu;		/* -EAGAIN: the first CPU that ran no work item */
	u32 nr_stuck;		/* -EAGAIN: how many did not */
	u32 flushed;		/* caches whose shrink file was written */
	u64 duration_ns;	/* probe and flush */
};

static_assert(sizeof(struct kintrospect_slab_flush_info) == 24);
static_assert(offsetof(struct kintrospect_slab_flush_info, error) == 0);
static_assert(offsetof(struct kintrospect_slab_flush_info, cpu) == 4);
static_assert(offsetof(struct kintrospect_slab_flush_info, nr_stuck) == 8);
static_assert(offsetof(struct kintrospect_slab_flush_info, flushed) == 12);
static_assert(offsetof(struct kintrospect_slab_flush_info, duration_ns) == 16);

int kintrospect_slab_files_init(void);
void kintrospect_slab_files_exit(void);
int kintrospect_read_slab_file(u32 which, const char *cache, char *buf,
			       size_t len, size_t *out);
int kintrospect_slab_flush(const char *names, size_t len, u32 nr, u8 *status,
			   struct kintrospect_slab_flush_info *info);
void kintrospect_slab_cpus_nodes(u32 *cpus, u32 *nodes);
int kintrospect_slab_io_lock(bool wait);
void kintrospect_slab_io_unlock(void);
u64 kintrospect_now_ns(void);

/* persist.c: the black box's region (reserve_mem) and what its records need. */
int kintrospect_persist_map(const char *name, void **base, u64 *phys, u64 *size);
void kintrospect_persist_unmap(void *base);
void kintrospect_persist_flush(void *addr, u64 len);
u32 kintrospect_crc32(u32 crc, const void *p, u64 len);
int kintrospect_boot_id(u8 *id);
u64 kintrospect_random_u64(void);
u64 kintrospect_real_ns(void);
u64 kintrospect_boottime_ns(void);

/* testpath.c: the test paths, the files of test/ (test_paths=1). */
#define KINTROSPECT_SPIN_IRQOFF_MAX_MS	8000	/* below the hard-lockup threshold */

int kintrospect_test_create(void);
void kintrospect_test_remove(void);
size_t kintrospect_test_status(char *buf, size_t size);

#endif /* KINTROSPECT_H */
