// SPDX-License-Identifier: GPL-2.0
/*
 * kintrospect_hog: monopolises one CPU from user space, as a runaway
 * real-time task does.
 *
 *   kintrospect_hog CPU SECONDS
 *
 * Pins itself to CPU, becomes SCHED_FIFO priority 50 and busy-loops in user
 * mode for SECONDS (bounded), then exits. With the scheduler's fair server
 * and RT throttling off, no normal task - a kworker bound to CPU among them -
 * runs there meanwhile, while RCU still makes progress (user mode is a
 * quiescent state). Exit status 0, 1 when the CPU or policy cannot be set,
 * 2 on bad arguments.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
	struct sched_param sp = { .sched_priority = 50 };
	struct timespec ts;
	cpu_set_t set;
	time_t end;

	if (argc != 3) {
		fprintf(stderr, "usage: %s CPU SECONDS\n", argv[0]);
		return 2;
	}
	CPU_ZERO(&set);
	CPU_SET(atoi(argv[1]), &set);
	if (sched_setaffinity(0, sizeof(set), &set) ||
	    sched_setscheduler(0, SCHED_FIFO, &sp)) {
		perror("kintrospect_hog");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	end = ts.tv_sec + atoi(argv[2]);
	do
		clock_gettime(CLOCK_MONOTONIC, &ts);
	while (ts.tv_sec < end);
	return 0;
}
