// SPDX-License-Identifier: GPL-2.0
/*
 * The tasks waiting in runqueues: runnable (queued, not a delayed dequeue)
 * but not on a CPU. The report lists those queued on a stuck CPU: they
 * cannot run until it switches (or another CPU pulls them, which a task
 * pinned there never is) - crash's "runq", found from the thread list,
 * since a module cannot reach the runqueues themselves.
 *
 * One walk of every thread under RCU, reading each thread's own flags
 * (on_rq, se.sched_delayed, on_cpu, its CPU) without its runqueue lock: a
 * thread that is being woken, picked or migrated may be seen either way.
 * Bounded by the caller's array; the rest are counted. Process context.
 */
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/string.h>

#include "kintrospect.h"

/**
 * kintrospect_runq_collect() - record the runnable tasks that are not running
 * @out: room for @max records
 * @max: capacity of @out
 * @dropped: receives the number of such tasks that did not fit
 *
 * Return: the number of records written.
 */
u32 kintrospect_runq_collect(struct kintrospect_runnable *out, u32 max,
			     u32 *dropped)
{
	struct task_struct *g, *p;
	u32 n = 0;

	*dropped = 0;
	rcu_read_lock();
	for_each_process_thread(g, p) {
		if (!task_is_runnable(p) || READ_ONCE(p->on_cpu))
			continue;
		if (n == max) {
			(*dropped)++;
			continue;
		}
		out[n].pid = p->pid;
		out[n].cpu = task_cpu(p);
		memcpy(out[n].comm, p->comm, sizeof(out[n].comm));
		out[n].comm[sizeof(out[n].comm) - 1] = '\0';
		n++;
	}
	rcu_read_unlock();
	return n;
}
