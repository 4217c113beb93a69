/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kintrospect's C part: the kernel interfaces that have no Rust binding
 * (NMI handlers, SysRq keys, the ORC unwinder, kallsyms, raw spinlocks with
 * interrupts off). Every function the Rust side calls is declared here and
 * mirrored in rust/bridge.rs; shared records are defined here once and
 * mirrored as #[repr(C)] there, with their sizes asserted on both sides.
 */
#ifndef KINTROSPECT_H
#define KINTROSPECT_H

#include <linux/build_bug.h>
#include <linux/types.h>

/* Frames kept per CPU, innermost first. */
#define KINTROSPECT_MAX_FRAMES	64
#define KINTROSPECT_COMM_LEN	16

/* What a CPU was doing when the snapshot reached it. */
enum kintrospect_cpu_state {
	KINTROSPECT_CPU_OFFLINE = 0,
	KINTROSPECT_CPU_RUNNING = 1,
	KINTROSPECT_CPU_IDLE = 2,
	KINTROSPECT_CPU_NO_RESPONSE = 3,
};

/* The context the NMI interrupted. */
enum kintrospect_mode {
	KINTROSPECT_MODE_KERNEL = 0,
	KINTROSPECT_MODE_USER = 1,
	KINTROSPECT_MODE_IDLE = 2,
};

/* Who asked for a snapshot. */
enum kintrospect_source {
	KINTROSPECT_SOURCE_NONE = 0,
	KINTROSPECT_SOURCE_CONTROL = 1,
	KINTROSPECT_SOURCE_SYSRQ = 2,
};

/* One CPU of a snapshot, written by that CPU only (in NMI for remote CPUs). */
struct kintrospect_cpu {
	u64 taken_ns;		/* ktime_get_mono_fast_ns() at capture */
	u64 handler_ns;		/* time spent capturing, local_clock() */
	u64 ip;
	u64 sp;
	u64 flags;
	u64 frames[KINTROSPECT_MAX_FRAMES];
	s32 pid;
	s32 tgid;
	u32 cpu;
	u32 state;		/* enum kintrospect_cpu_state */
	u32 mode;		/* enum kintrospect_mode */
	u32 irqs_disabled;
	u32 preempt_count;	/* of the interrupted context */
	u32 nr_frames;
	char comm[KINTROSPECT_COMM_LEN];
};

static_assert(sizeof(struct kintrospect_cpu) == 600);

/* A whole CPU snapshot's header. */
struct kintrospect_cpus_info {
	u64 seq;		/* 0: no snapshot taken yet */
	u64 taken_ns;		/* ktime_get_mono_fast_ns() at the trigger */
	u64 duration_ns;	/* trigger to last answer or timeout */
	u32 source;		/* enum kintrospect_source */
	u32 nr_cpus;		/* slots that follow: nr_cpu_ids */
	u32 nr_no_response;
	u32 pad;
};

static_assert(sizeof(struct kintrospect_cpus_info) == 40);

/* nmi.c: per-CPU NMI backtrace snapshots. */
int kintrospect_cpus_init(u32 timeout_ms);
void kintrospect_cpus_exit(void);
int kintrospect_cpus_capture(u32 source);
u32 kintrospect_cpus_nr_slots(void);
void kintrospect_cpus_header(struct kintrospect_cpus_info *info);
int kintrospect_cpus_copy(struct kintrospect_cpus_info *info,
			  struct kintrospect_cpu *cpus, u32 nr);
size_t kintrospect_cpus_memory(void);
int kintrospect_format_symbol(u64 addr, bool return_address, char *buf,
			      size_t len);
bool kintrospect_raw_addresses(void);

/* What a lock is, as far as kintrospect can tell. */
enum kintrospect_lock_kind {
	KINTROSPECT_LOCK_NONE = 0,
	KINTROSPECT_LOCK_SPIN = 1,
	KINTROSPECT_LOCK_MUTEX = 2,
	KINTROSPECT_LOCK_SEMAPHORE = 3,
	KINTROSPECT_LOCK_RWSEM_READ = 4,
	KINTROSPECT_LOCK_RWSEM_WRITE = 5,
	KINTROSPECT_LOCK_SLEEPING = 6,	/* a mutex or rwsem, from lockdep */
	KINTROSPECT_LOCK_OTHER = 7,
};

#define KINTROSPECT_LOCK_NAME_LEN	48

/* One lock a thread holds, from lockdep's held-lock stack. */
struct kintrospect_held {
	u64 acquire_ip;
	u64 held_ns;		/* CONFIG_LOCK_STAT, else 0 */
	u32 task;		/* index of the holder's kintrospect_task */
	u32 mode;		/* 0 write, 1 read, 2 recursive read */
	u32 kind;		/* enum kintrospect_lock_kind */
	u32 pad;
	char name[KINTROSPECT_LOCK_NAME_LEN];
};

static_assert(sizeof(struct kintrospect_held) == 80);

/* A thread that holds or waits for a lock; its held locks follow in order. */
struct kintrospect_task {
	u64 self;		/* internal; 0 on return */
	u64 blocked_owner;	/* internal; 0 on return */
	s32 pid;
	s32 tgid;
	u32 cpu;
	u32 state;		/* task_state_to_char() */
	u32 nr_held;
	u32 held_dropped;
	u32 blocked_kind;	/* enum kintrospect_lock_kind, NONE if not blocked */
	s32 blocked_owner_pid;	/* -1: unknown or not found */
	s32 blocked_owner_cpu;	/* spinlocks (DEBUG_SPINLOCK), else -1 */
	u32 pad;
	char comm[KINTROSPECT_COMM_LEN];
	char blocked_name[KINTROSPECT_LOCK_NAME_LEN];
};

static_assert(sizeof(struct kintrospect_task) == 120);

/* Counts of one collection. */
struct kintrospect_locks_info {
	u64 taken_ns;		/* CLOCK_MONOTONIC */
	u32 lockdep;
	u32 nr_threads;
	u32 nr_tasks;
	u32 nr_held;
	u32 tasks_dropped;
	u32 held_dropped;
};

static_assert(sizeof(struct kintrospect_locks_info) == 32);

/* locks.c: lock-holder records. */
int kintrospect_locks_collect(struct kintrospect_task *tasks, u32 max_tasks,
			      struct kintrospect_held *held, u32 max_held,
			      struct kintrospect_locks_info *info);

/* debugfs.c: the files; their content comes from the Rust side. */
#define KINTROSPECT_MAX_WRITE	64

struct seq_file;

/* One file (or "dir/" subdirectory) to create. */
struct kintrospect_file_spec {
	const char *name;
	u32 id;		/* passed back to the callbacks */
	u16 mode;
};

static_assert(sizeof(struct kintrospect_file_spec) == 16);

int kintrospect_debugfs_create(const void *data,
			       const struct kintrospect_file_spec *files, u32 nr);
void kintrospect_debugfs_remove(void);
/* Implemented in Rust (rust/bridge.rs). */
int kintrospect_file_show(const void *data, u32 id, struct seq_file *m);
int kintrospect_file_write(const void *data, u32 id, const char *buf,
			   size_t copied, size_t len);

/* sysrq.c: the SysRq key. */
int kintrospect_sysrq_register(u8 key, const void *data);
/* Implemented in Rust: the SysRq key's process-context part. */
void kintrospect_sysrq_deferred(const void *data);
void kintrospect_sysrq_unregister(void);

/* features.c: what this kernel was built with. */
u32 kintrospect_features(void);
const char *kintrospect_kernel_release(void);

#define KINTROSPECT_FEAT_LOCKDEP		(1U << 0)
#define KINTROSPECT_FEAT_PROVE_LOCKING		(1U << 1)
#define KINTROSPECT_FEAT_LOCK_STAT		(1U << 2)
#define KINTROSPECT_FEAT_DEBUG_SPINLOCK		(1U << 3)
#define KINTROSPECT_FEAT_DEBUG_MUTEXES		(1U << 4)
#define KINTROSPECT_FEAT_KMEMLEAK		(1U << 5)
#define KINTROSPECT_FEAT_SLUB_DEBUG		(1U << 6)
#define KINTROSPECT_FEAT_HUNG_TASK		(1U << 7)
#define KINTROSPECT_FEAT_HUNG_TASK_BLOCKER	(1U << 8)
#define KINTROSPECT_FEAT_SOFTLOCKUP		(1U << 9)
#define KINTROSPECT_FEAT_HARDLOCKUP		(1U << 10)
#define KINTROSPECT_FEAT_UNWINDER_ORC		(1U << 11)
#define KINTROSPECT_FEAT_KALLSYMS_ALL		(1U << 12)
#define KINTROSPECT_FEAT_MAGIC_SYSRQ		(1U << 13)
#define KINTROSPECT_FEAT_KUNIT			(1U << 14)

/* params.c: module parameters. */
u32 kintrospect_param_nmi_timeout_ms(void);
u8 kintrospect_param_sysrq_key(void);
bool kintrospect_param_test_paths(void);
u32 kintrospect_param_spin_timeout_ms(void);
u32 kintrospect_param_slab_interval_ms(void);
u32 kintrospect_param_slab_trend_samples(void);
u32 kintrospect_param_slab_trend_min_growth(void);

/* slab.c: slab reports, precise counts, periodic sampling, the leak test path. */
#define KINTROSPECT_LEAK_OBJ_SIZE	256
#define KINTROSPECT_LEAK_MAX		1000000

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

int kintrospect_slab_files_init(void);
void kintrospect_slab_files_exit(void);
int kintrospect_read_slab_file(u32 which, const char *cache, char *buf,
			       size_t len, size_t *out);
int kintrospect_slab_flush(const char *names, size_t len, u32 nr, u8 *status,
			   struct kintrospect_slab_flush_info *info);
int kintrospect_slab_io_lock(bool wait);
void kintrospect_slab_io_unlock(void);
u64 kintrospect_now_ns(void);
void kintrospect_slab_sampler_start(const void *data, u32 interval_ms);
void kintrospect_slab_sampler_stop(void);
/* Implemented in Rust (rust/bridge.rs): one periodic sample. */
void kintrospect_slab_tick(const void *data);
int kintrospect_leak_init(void);
void kintrospect_leak_exit(void);
int kintrospect_leak_alloc(u32 nr);
void kintrospect_leak_free(void);
u64 kintrospect_leak_count(void);

/* testpath.c: the spin-forever test path. */
int kintrospect_test_spin(bool irqoff, u32 timeout_ms);
int kintrospect_test_abba(bool b_first, u32 timeout_ms);
void kintrospect_test_init(void);
void kintrospect_test_release(void);

#endif /* KINTROSPECT_H */
