// SPDX-License-Identifier: GPL-2.0
/*
 * kintrospect_bench: figures for `make bench`, not a test.
 *
 * Times kintrospect's CPU snapshot against the kernel's own tool for the
 * same job, SysRq-l (every CPU's backtrace by NMI, to the kernel log), in
 * one run on one machine, and counts the kernel log bytes each produces (on
 * a real machine all of it goes to the console).
 *
 *   kintrospect_bench snapshot N   N writes of "snapshot cpus": median, p99,
 *                                  the snapshot's own duration (cpus.json),
 *                                  NMI handler time per CPU, log bytes
 *   kintrospect_bench sysrq-l N    N times: echo l > /proc/sysrq-trigger until
 *                                  the log holds every online CPU's backtrace
 *   kintrospect_bench sysrq-x N    N times: echo x > /proc/sysrq-trigger
 *   kintrospect_bench locks N T    with T extra sleeping threads: N writes of
 *                                  "snapshot locks" and N times SysRq-d
 *                                  (echo d > /proc/sysrq-trigger until the log
 *                                  holds the whole list), alternating
 *   kintrospect_bench slab N       N writes of "snapshot slab": one in-kernel
 *                                  slabinfo sample ranked against the baseline
 *   kintrospect_bench slabinfo N   N times what userspace would do for the
 *                                  same answer: read and parse /proc/slabinfo
 *                                  twice, match the caches, rank by bytes
 *   kintrospect_bench syscall N    N getppid() calls (syscall-heavy workload)
 *   kintrospect_bench pingpong N   N round trips of one byte through two pipes
 *                                  between threads on two CPUs: every wakeup
 *                                  of the sleeping side is an interrupt (IPI)
 *   kintrospect_bench idle R S P   idle overhead: R rounds, each running the
 *                                  two workloads above (S calls, P round
 *                                  trips) with kintrospect not loaded, loaded
 *                                  with its defaults and loaded with the watch
 *                                  on (watch_interval_ms=1000), in turn; also
 *                                  the spread of the per-round ratios
 *   kintrospect_bench cost W       the watch's direct cost, from its own
 *                                  counters (metrics) over a window of W s:
 *                                  watch_interval_ms 250 and 1000 with 100
 *                                  and 10,000 sleeping threads
 *   kintrospect_bench stuck N MS   N times: load with test_paths=1
 *                                  watch_interval_ms=1000 stuck_ms=MS, start a
 *                                  spin on the last CPU and poll events.json
 *                                  until its stuck-cpu event appears; the
 *                                  figure is that time minus MS (the watch's
 *                                  detection latency)
 *   kintrospect_bench nmi N        with the nmi_handler trace event on: N
 *                                  writes of "snapshot cpus" and N SysRq-l,
 *                                  then every NMI handler's time per CPU from
 *                                  the trace (kintrospect's handler and the
 *                                  kernel's nmi_cpu_backtrace_handler)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KI "/sys/kernel/debug/kintrospect/"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Writes @s to @fd, opened from @path (< 0: the open failed); exits on failure. */
static void write_fd(int fd, const char *path, const char *s)
{
	if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s)) {
		fprintf(stderr, "kintrospect_bench: write %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

static void write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);

	write_fd(fd, path, s);
	close(fd);
}

/*
 * The files whose writes are timed stay open, for kintrospect
 * (control) and for the kernel's tools (/proc/sysrq-trigger) alike: a figure
 * is the operation, not the path lookup and open of its file, which costs
 * 0.1 to 0.16 ms under TCG whatever the file, often more than the operation.
 */
static int control_fd = -1, sysrq_fd = -1;

static void trigger(int *fd, const char *path, const char *s)
{
	if (*fd < 0)
		*fd = open(path, O_WRONLY);
	write_fd(*fd, path, s);
}

/* A command to kintrospect's control file. */
static void control(const char *s)
{
	trigger(&control_fd, KI "control", s);
}

/* A SysRq key: echo KEY > /proc/sysrq-trigger. */
static void sysrq(const char *key)
{
	trigger(&sysrq_fd, "/proc/sysrq-trigger", key);
}

/* /dev/kmsg opened at the end of the log, non-blocking. */
static int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);

	if (fd < 0 || lseek(fd, 0, SEEK_END) < 0) {
		perror("kintrospect_bench: /dev/kmsg");
		exit(1);
	}
	return fd;
}

/*
 * Reads the records logged since the last call; returns their message bytes
 * and counts those that contain @needle (may be NULL).
 */
static long kmsg_drain(int fd, const char *needle, int *hits)
{
	char rec[8192];
	long bytes = 0;
	ssize_t n;

	while ((n = read(fd, rec, sizeof(rec) - 1)) > 0 || (n < 0 && errno == EPIPE)) {
		char *msg;

		if (n <= 0)
			continue;
		rec[n] = '\0';
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		bytes += strcspn(msg, "\n") + 1;
		if (needle && hits && strstr(msg, needle))
			(*hits)++;
	}
	return bytes;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *what, const char *unit, double *t, int n)
{
	if (!n)
		return;
	qsort(t, n, sizeof(*t), cmp_double);
	printf("%s: n=%d median_%s=%.1f p99_%s=%.1f min_%s=%.1f max_%s=%.1f\n",
	       what, n, unit, t[n / 2], unit, t[(n * 99) / 100], unit, t[0],
	       unit, t[n - 1]);
}

/* Reads the whole of @path into @buf (NUL-terminated); returns its length or -1. */
static ssize_t read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t len = 0, r;

	if (fd < 0)
		return -1;
	while ((r = read(fd, buf + len, size - 1 - len)) > 0)
		len += r;
	close(fd);
	buf[len] = '\0';
	return r < 0 ? -1 : len;
}

/*
 * Appends every "handler_ns":N of cpus.json to @ns, and the "cpu":N of the
 * same CPU to @cpu.
 */
static int handler_times(double *ns, int *cpu, int max)
{
	static char buf[1 << 20];
	const char *p = buf, *c;
	int n = 0;

	if (read_file(KI "cpus.json", buf, sizeof(buf)) < 0)
		return 0;
	while (n < max && (c = strstr(p, "{\"cpu\":"))) {
		const char *next = strstr(c + 1, "{\"cpu\":");

		p = strstr(c, "\"handler_ns\":");
		if (!p)
			break;
		if (next && p > next) {
			/* A CPU without data (offline or no answer). */
			p = next;
			continue;
		}
		cpu[n] = atoi(c + strlen("{\"cpu\":"));
		p += strlen("\"handler_ns\":");
		ns[n++] = strtod(p, NULL);
	}
	return n;
}

/* The latest snapshot's "duration_ns" in cpus.json (its own time, in the kernel); -1: none. */
static double snapshot_duration_ns(void)
{
	static char buf[1 << 20];
	const char *p;

	if (read_file(KI "cpus.json", buf, sizeof(buf)) < 0)
		return -1;
	p = strstr(buf, "\"duration_ns\":");
	return p ? strtod(p + strlen("\"duration_ns\":"), NULL) : -1;
}

static void *sleeper(void *arg)
{
	for (;;)
		pause();
	return arg;
}

/* Starts @n threads that sleep until the process exits. */
static void start_sleepers(int n)
{
	pthread_attr_t attr;
	pthread_t t;
	int i;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	for (i = 0; i < n; i++) {
		if (pthread_create(&t, &attr, sleeper, NULL)) {
			fprintf(stderr, "kintrospect_bench: thread %d: %s\n", i, strerror(errno));
			exit(1);
		}
	}
}

/* One SysRq-d: its time in us, with its log bytes added to @bytes; < 0 on timeout. */
static double sysrq_d(int fd, long *bytes)
{
	double start;
	int hits;

	kmsg_drain(fd, NULL, NULL);
	start = now_us();
	sysrq("d");
	/* debug_show_all_locks() ends its list with a line of '='. */
	for (hits = 0; !hits; ) {
		*bytes += kmsg_drain(fd, "=============================================", &hits);
		if (now_us() - start > 60e6) {
			fprintf(stderr, "kintrospect_bench: sysrq-d: no end of list in 60 s\n");
			return -1;
		}
	}
	return now_us() - start;
}

/*
 * Locks snapshots against SysRq-d with @threads extra sleeping threads,
 * alternating (after one of each to warm up), so that both walk the
 * threads in the same state: under TCG the first walks over new threads are
 * much slower than the next ones.
 */
static int bench_locks(int n, int threads, int fd, double *t)
{
	double *d = calloc(n, sizeof(*d));
	long bytes = 0, dbytes = 0, warm = 0;
	int i;
	char what[64];

	start_sleepers(threads);
	control("snapshot locks");
	if (sysrq_d(fd, &warm) < 0)
		return 1;
	for (i = 0; i < n; i++) {
		double start;

		kmsg_drain(fd, NULL, NULL);
		start = now_us();
		control("snapshot locks");
		t[i] = now_us() - start;
		bytes += kmsg_drain(fd, NULL, NULL);
		d[i] = sysrq_d(fd, &dbytes);
		if (d[i] < 0)
			return 1;
	}
	snprintf(what, sizeof(what), "locks threads=%d", threads);
	report(what, "us", t, n);
	printf("locks threads=%d: log_bytes_per_op=%ld\n", threads, bytes / n);
	snprintf(what, sizeof(what), "sysrq-d threads=%d", threads);
	report(what, "us", d, n);
	printf("sysrq-d threads=%d: log_bytes_per_op=%ld\n", threads, dbytes / n);
	return 0;
}

struct slab_line {
	char name[64];
	unsigned long active, num, objsize;
	long bytes_delta;
};

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct slab_line *)a)->name,
		      ((const struct slab_line *)b)->name);
}

static int cmp_bytes(const void *a, const void *b)
{
	long x = ((const struct slab_line *)a)->bytes_delta;
	long y = ((const struct slab_line *)b)->bytes_delta;

	return x > y ? -1 : x < y;
}

/*
 * Reads and parses /proc/slabinfo into @l (at most @max), sorted by name.
 * The file stays open, read again from its start, as kintrospect's control
 * file stays open (see trigger()).
 */
static int slabinfo_parse(struct slab_line *l, int max)
{
	static char buf[1 << 20];
	static int fd = -1;
	int n = 0;
	ssize_t len = 0, r;
	char *line, *save;

	if (fd < 0)
		fd = open("/proc/slabinfo", O_RDONLY);
	if (fd < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		perror("kintrospect_bench: /proc/slabinfo");
		exit(1);
	}
	while ((r = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += r;
	buf[len] = '\0';
	for (line = strtok_r(buf, "\n", &save); line && n < max;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "slabinfo", 8) || line[0] == '#')
			continue;
		if (sscanf(line, "%63s %lu %lu %lu", l[n].name, &l[n].active,
			   &l[n].num, &l[n].objsize) == 4)
			n++;
	}
	qsort(l, n, sizeof(*l), cmp_name);
	return n;
}

/* One userspace slab delta: two readings, matched by name, ranked by bytes. */
static void slabinfo_delta(void)
{
	static struct slab_line a[4096], b[4096];
	int na = slabinfo_parse(a, 4096), nb = slabinfo_parse(b, 4096), i;

	for (i = 0; i < nb; i++) {
		struct slab_line *o = bsearch(&b[i], a, na, sizeof(*a), cmp_name);

		b[i].bytes_delta = ((long)b[i].active - (o ? (long)o->active : 0)) *
				   (long)b[i].objsize;
	}
	qsort(b, nb, sizeof(*b), cmp_bytes);
}

static int online_cpus(void)
{
	return (int)sysconf(_SC_NPROCESSORS_ONLN);
}

static void die(const char *what)
{
	fprintf(stderr, "kintrospect_bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Pins the calling thread to @cpu. */
static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity");
}

/* Runs @cmd with the shell; exits when it fails. */
static void sh(const char *cmd)
{
	if (system(cmd)) {
		fprintf(stderr, "kintrospect_bench: failed: %s\n", cmd);
		exit(1);
	}
}

/* The syscall-heavy workload: @n getppid() calls; returns the time in us. */
static double syscall_loop(long n)
{
	double start;
	long i;

	pin(online_cpus() > 1 ? 1 : 0);
	start = now_us();
	for (i = 0; i < n; i++)
		syscall(SYS_getppid);
	return now_us() - start;
}

struct pong {
	int in, out, cpu;
	long n;
};

/* The far side of pingpong_loop(): echoes every byte back. */
static void *pong(void *arg)
{
	struct pong *p = arg;
	char c;
	long i;

	pin(p->cpu);
	for (i = 0; i < p->n; i++)
		if (read(p->in, &c, 1) != 1 || write(p->out, &c, 1) != 1)
			break;
	return NULL;
}

/*
 * The interrupt-heavy workload: @n round trips of one byte through two pipes
 * between this thread on CPU 1 and one on CPU 2. Each side sleeps in read()
 * until the other writes, so every byte wakes an idle CPU with an IPI.
 * Returns the time in us.
 */
static double pingpong_loop(long n)
{
	int nr = online_cpus(), a[2], b[2];
	struct pong p;
	double start, t;
	pthread_t thread;
	char c = 0;
	long i;

	if (pipe(a) || pipe(b))
		die("pipe");
	p = (struct pong){ .in = a[0], .out = b[1], .cpu = nr > 2 ? 2 : 0, .n = n };
	pin(nr > 1 ? 1 : 0);
	if (pthread_create(&thread, NULL, pong, &p))
		die("pthread_create");
	start = now_us();
	for (i = 0; i < n; i++)
		if (write(a[1], &c, 1) != 1 || read(b[0], &c, 1) != 1)
			die("ping-pong");
	t = now_us() - start;
	pthread_join(thread, NULL);
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
	return t;
}

static const char *const idle_mode[] = { "off", "loaded", "watch" };
static const char *const idle_load[] = {
	"modprobe -r kintrospect 2>/dev/null; true",
	"modprobe -r kintrospect 2>/dev/null; modprobe kintrospect",
	"modprobe -r kintrospect 2>/dev/null; modprobe kintrospect watch_interval_ms=1000",
};

/*
 * The spread of one round's time with kintrospect @mode against the same
 * round's time without it, over @rounds rounds: min, median, max.
 */
static void spread(const char *load, const char *mode, const double *with,
		   const double *without, int rounds)
{
	double *r = calloc(rounds, sizeof(*r));
	int i;

	for (i = 0; i < rounds; i++)
		r[i] = with[i] / without[i];
	qsort(r, rounds, sizeof(*r), cmp_double);
	printf("idle ratio %s %s: n=%d median=%.4f min=%.4f max=%.4f\n", load, mode,
	       rounds, r[rounds / 2], r[0], r[rounds - 1]);
	free(r);
}

/*
 * Idle overhead: @rounds rounds, each timing both workloads with kintrospect
 * not loaded, loaded with its defaults, and loaded with the watch on at its
 * documented interval, in an order that rotates from round to round.
 */
static int bench_idle(int rounds, long calls, long trips)
{
	double *t[3][2];
	char what[64];
	int r, k, m;

	for (m = 0; m < 3; m++) {
		t[m][0] = calloc(rounds, sizeof(double));
		t[m][1] = calloc(rounds, sizeof(double));
	}
	for (r = 0; r < rounds; r++) {
		for (k = 0; k < 3; k++) {
			m = (r + k) % 3;
			sh(idle_load[m]);
			/* Let the load (and the watch's first sample) settle. */
			sleep(1);
			t[m][0][r] = syscall_loop(calls);
			t[m][1][r] = pingpong_loop(trips);
		}
	}
	sh(idle_load[0]);
	/* Before report() sorts the times: each round's ratios to its own "off". */
	for (m = 1; m < 3; m++) {
		spread("syscall", idle_mode[m], t[m][0], t[0][0], rounds);
		spread("interrupt", idle_mode[m], t[m][1], t[0][1], rounds);
	}
	for (m = 0; m < 3; m++) {
		snprintf(what, sizeof(what), "idle syscall %s", idle_mode[m]);
		report(what, "us", t[m][0], rounds);
		snprintf(what, sizeof(what), "idle interrupt %s", idle_mode[m]);
		report(what, "us", t[m][1], rounds);
	}
	printf("idle: calls=%ld round_trips=%ld\n", calls, trips);
	return 0;
}

/* The value of metrics line @key (name with labels), or the sum over its labels with @sum. */
static double metric(const char *buf, const char *key, int sum)
{
	size_t len = strlen(key);
	const char *p = buf;
	double v = 0;

	for (; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p)) {
		if (strncmp(p, key, len))
			continue;
		if (p[len] == ' ') {
			v += strtod(p + len + 1, NULL);
			if (!sum)
				break;
		} else if (sum && p[len] == '{') {
			const char *sp = strchr(p, ' ');

			if (sp)
				v += strtod(sp + 1, NULL);
		}
	}
	return v;
}

static const char *const cost_phase[] = { "nmi", "locks", "join", "persist" };

/*
 * The watch's direct cost at @interval_ms with the threads started so far
 * (@threads of them besides the system's): from kintrospect's own counters
 * (metrics) over @window s - the samples' CPU time (the scheduler's
 * accounting of the kworker), their phases, and the NMI handler's time
 * summed over the CPUs - as a share of one CPU.
 */
static void bench_cost_one(int interval_ms, int threads, int window)
{
	static char a[1 << 16], b[1 << 16];
	char cmd[160], key[96];
	double t0, t1, wall, samples, cpu, nmi, walks;
	int i;

	snprintf(cmd, sizeof(cmd), "modprobe -r kintrospect 2>/dev/null; "
		 "modprobe kintrospect watch_interval_ms=%d", interval_ms);
	sh(cmd);
	/* The first samples walk the new threads: not the steady state. */
	sleep(2 + 2 * interval_ms / 1000);
	t0 = now_us();
	if (read_file(KI "metrics", a, sizeof(a)) < 0)
		die("metrics");
	sleep(window);
	if (read_file(KI "metrics", b, sizeof(b)) < 0)
		die("metrics");
	t1 = now_us();
	wall = (t1 - t0) / 1e6;
	samples = metric(b, "kintrospect_watch_samples_total", 0) -
		  metric(a, "kintrospect_watch_samples_total", 0);
	cpu = metric(b, "kintrospect_watch_cpu_seconds_total", 0) -
	      metric(a, "kintrospect_watch_cpu_seconds_total", 0);
	nmi = metric(b, "kintrospect_nmi_handler_seconds_total", 1) -
	      metric(a, "kintrospect_nmi_handler_seconds_total", 1);
	walks = metric(b, "kintrospect_watch_locks_walks_total", 0) -
		metric(a, "kintrospect_watch_locks_walks_total", 0);
	printf("cost interval_ms=%d threads=%d: window_s=%.3f samples=%.0f cpu_s=%.6f "
	       "nmi_handler_s=%.6f watch_pct=%.4f nmi_pct=%.4f total_pct=%.4f "
	       "per_sample_cpu_us=%.1f walks=%.0f walk_us=%.1f", interval_ms, threads, wall,
	       samples, cpu, nmi, 100 * cpu / wall, 100 * nmi / wall, 100 * (cpu + nmi) / wall,
	       samples > 0 ? cpu * 1e6 / samples : 0, walks,
	       walks > 0 ? (metric(b, "kintrospect_watch_phase_seconds_total{phase=\"locks\"}", 0) -
			    metric(a, "kintrospect_watch_phase_seconds_total{phase=\"locks\"}", 0)) *
			   1e6 / walks : 0);
	for (i = 0; i < 4; i++) {
		snprintf(key, sizeof(key), "kintrospect_watch_phase_seconds_total{phase=\"%s\"}",
			 cost_phase[i]);
		printf(" %s_us=%.1f", cost_phase[i], samples > 0 ?
		       (metric(b, key, 0) - metric(a, key, 0)) * 1e6 / samples : 0);
	}
	printf("\n");
	fflush(stdout);
	sh("modprobe -r kintrospect");
}

/*
 * The watch's direct cost, @window s per point: watch_interval_ms 250 and
 * 1000, with 100 and then 10,000 extra sleeping threads (the locks walk
 * visits every task).
 */
static int bench_cost(int window)
{
	static const int threads[] = { 100, 10000 }, interval[] = { 250, 1000 };
	int i, j, started = 0;

	for (i = 0; i < 2; i++) {
		start_sleepers(threads[i] - started);
		started = threads[i];
		for (j = 0; j < 2; j++)
			bench_cost_one(interval[j], threads[i], window);
	}
	return 0;
}

/*
 * The watch's detection latency: @n times, load with the watch on at its
 * documented interval, start a spin (kintrospect_test_lock held, preemption
 * off) on the last CPU and poll events.json from CPU 0 until a stuck-cpu
 * event appears; the figure is the time from the spin's start to the event,
 * minus @stuck_ms. The spin is released and the module reloaded in between.
 */
static int bench_stuck(int n, int stuck_ms)
{
	static char buf[1 << 20];
	volatile double *t0 = mmap(NULL, sizeof(double), PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	double *lat = calloc(n, sizeof(*lat)), limit_us = 15000 * 1e3;
	int cpu = online_cpus() - 1, i;
	char load[256];

	if (t0 == MAP_FAILED || !lat)
		die("memory");
	snprintf(load, sizeof(load),
		 "modprobe -r kintrospect 2>/dev/null; modprobe kintrospect test_paths=1 "
		 "watch_interval_ms=1000 stuck_ms=%d spin_timeout_ms=15000", stuck_ms);
	pin(0);
	for (i = 0; i < n; i++) {
		pid_t pid;
		double seen;

		sh(load);
		/* A different phase of the watch's interval each time. */
		usleep(500000 + (i * 317 % 1000) * 1000);
		*t0 = 0;
		pid = fork();
		if (pid < 0)
			die("fork");
		if (!pid) {
			char c[64];
			int fd;

			pin(cpu);
			fd = open(KI "test/spin", O_RDONLY);
			if (fd < 0)
				_exit(1);
			*t0 = now_us();
			_exit(read(fd, c, sizeof(c)) < 0);
		}
		while (!*t0) {
			if (waitpid(pid, NULL, WNOHANG) == pid) {
				fprintf(stderr, "kintrospect_bench: stuck: the spinner did not start\n");
				return 1;
			}
			usleep(1000);
		}
		for (;;) {
			if (read_file(KI "events.json", buf, sizeof(buf)) > 0 &&
			    strstr(buf, "\"kind\":\"stuck-cpu\""))
				break;
			if (now_us() - *t0 > limit_us) {
				write_str(KI "test/release", "1");
				fprintf(stderr, "kintrospect_bench: stuck: no event in %.0f s\n",
					limit_us / 1e6);
				return 1;
			}
			usleep(10000);
		}
		seen = now_us();
		write_str(KI "test/release", "1");
		waitpid(pid, NULL, 0);
		lat[i] = (seen - *t0) / 1e3 - stuck_ms;
	}
	sh("modprobe -r kintrospect");
	report("stuck-cpu event latency", "ms", lat, n);
	printf("stuck-cpu event: stuck_ms=%d watch_interval_ms=1000\n", stuck_ms);
	return 0;
}

#define TR "/sys/kernel/tracing/"
#define NMI_CPUS 64

/* Per-CPU and all-CPU figures of one NMI handler's times. */
static void report_handler(const char *name, double **ns, const int *n, int ncpu)
{
	char what[128];
	double *all;
	int cpu, total = 0;

	for (cpu = 0; cpu < ncpu; cpu++)
		total += n[cpu];
	all = calloc(total + 1, sizeof(*all));
	total = 0;
	for (cpu = 0; cpu < ncpu; cpu++) {
		memcpy(all + total, ns[cpu], n[cpu] * sizeof(*all));
		total += n[cpu];
		snprintf(what, sizeof(what), "nmi_handler %s cpu=%d", name, cpu);
		report(what, "ns", ns[cpu], n[cpu]);
	}
	snprintf(what, sizeof(what), "nmi_handler %s", name);
	report(what, "ns", all, total);
	free(all);
}

/*
 * NMI handler times as the kernel measures them (nmi_handle() times every
 * handler and fires the nmi_handler trace event): @n CPU snapshots and @n
 * SysRq-l with the event on, then kintrospect_nmi_handler and
 * nmi_cpu_backtrace_handler per CPU from the trace.
 */
static int bench_nmi(int n, int kfd)
{
	static const char *const name[] = { "kintrospect_nmi_handler",
					    "nmi_cpu_backtrace_handler" };
	static char buf[8 << 20];
	double *ns[2][NMI_CPUS];
	int cnt[2][NMI_CPUS] = { { 0 } };
	int i, h, cpu, fd, want = online_cpus();
	char *line, *save;

	if (access(TR "events/nmi/nmi_handler/enable", W_OK)) {
		printf("nmi_handler trace event: available=0\n");
		return 0;
	}
	for (h = 0; h < 2; h++)
		for (cpu = 0; cpu < NMI_CPUS; cpu++)
			ns[h][cpu] = calloc(4 * n + 16, sizeof(double));
	write_str(TR "buffer_size_kb", "1024");
	fd = open(TR "trace", O_WRONLY | O_TRUNC);
	if (fd < 0)
		die(TR "trace");
	close(fd);
	write_str(TR "events/nmi/nmi_handler/enable", "1");
	for (i = 0; i < n; i++)
		control("snapshot cpus");
	for (i = 0; i < n; i++) {
		double start = now_us();
		int hits = 0;

		kmsg_drain(kfd, NULL, NULL);
		sysrq("l");
		while (hits < want && now_us() - start < 30e6)
			kmsg_drain(kfd, "NMI backtrace for cpu", &hits);
		usleep(100000);
	}
	write_str(TR "events/nmi/nmi_handler/enable", "0");
	if (read_file(TR "trace", buf, sizeof(buf)) < 0)
		die(TR "trace");
	/* "<idle>-0 [002] d.Z.. 12.345678: nmi_handler: NAME [MOD]() delta_ns: N handled: 1" */
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *c = strstr(line, "] "), *o = strstr(line, "nmi_handler: ");
		char *d = strstr(line, "delta_ns: "), *handled = strstr(line, "handled: ");

		/* nmi_handle() calls every handler: count the NMIs each claimed. */
		if (line[0] == '#' || !c || !o || !d || !handled ||
		    !atoi(handled + strlen("handled: ")))
			continue;
		while (c > line && c[-1] != '[')
			c--;
		cpu = atoi(c);
		o += strlen("nmi_handler: ");
		for (h = 0; h < 2; h++)
			if (!strncmp(o, name[h], strlen(name[h])) &&
			    strchr(" ([", o[strlen(name[h])]))
				break;
		if (h == 2 || cpu < 0 || cpu >= NMI_CPUS || cnt[h][cpu] >= 4 * n + 16)
			continue;
		ns[h][cpu][cnt[h][cpu]++] = strtod(d + strlen("delta_ns: "), NULL);
	}
	printf("nmi_handler trace event: available=1 snapshots=%d sysrq_l=%d\n", n, n);
	for (h = 0; h < 2; h++)
		report_handler(name[h], ns[h], cnt[h], want < NMI_CPUS ? want : NMI_CPUS);
	return 0;
}

int main(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[2]) : 0, i, fd;
	double *t, *h;
	long bytes = 0;
	int nh = 0, c, *hc;

	if (argc < 3 || n <= 0) {
		fprintf(stderr, "usage: kintrospect_bench snapshot|sysrq-l|sysrq-x|slab|slabinfo|nmi N |\n"
				"       kintrospect_bench syscall|pingpong N | locks N THREADS |\n"
				"       kintrospect_bench idle ROUNDS CALLS ROUND_TRIPS | stuck N STUCK_MS |\n"
				"       kintrospect_bench cost WINDOW_S\n");
		return 2;
	}
	if (!strcmp(argv[1], "syscall")) {
		printf("syscall: n=%d us=%.1f\n", n, syscall_loop(n));
		return 0;
	}
	if (!strcmp(argv[1], "pingpong")) {
		printf("pingpong: n=%d us=%.1f\n", n, pingpong_loop(n));
		return 0;
	}
	if (!strcmp(argv[1], "idle") && argc > 4)
		return bench_idle(n, atol(argv[3]), atol(argv[4]));
	if (!strcmp(argv[1], "stuck") && argc > 3)
		return bench_stuck(n, atoi(argv[3]));
	if (!strcmp(argv[1], "cost"))
		return bench_cost(n);
	t = calloc(n, sizeof(*t));
	h = calloc((size_t)n * 64, sizeof(*h));
	hc = calloc((size_t)n * 64, sizeof(*hc));
	fd = kmsg_open();

	if (!strcmp(argv[1], "locks"))
		return bench_locks(n, argc > 3 ? atoi(argv[3]) : 0, fd, t);
	if (!strcmp(argv[1], "nmi"))
		return bench_nmi(n, fd);
	if (!strcmp(argv[1], "snapshot")) {
		double *dur = calloc(n, sizeof(*dur));
		int nd = 0;

		for (i = 0; i < n; i++) {
			double start = now_us(), d;

			control("snapshot cpus");
			t[i] = now_us() - start;
			bytes += kmsg_drain(fd, NULL, NULL);
			nh += handler_times(h + nh, hc + nh, n * 64 - nh);
			d = snapshot_duration_ns();
			if (d >= 0)
				dur[nd++] = d;
		}
		report("snapshot", "us", t, n);
		report("snapshot duration", "ns", dur, nd);
		/*
		 * Per CPU first (report() sorts what it is given): the calling
		 * CPU captures itself, the others by NMI.
		 */
		for (c = 0; c < online_cpus(); c++) {
			double *hcpu = calloc(n + 1, sizeof(*hcpu));
			int k = 0;
			char what[64];

			for (i = 0; i < nh; i++)
				if (hc[i] == c)
					hcpu[k++] = h[i];
			snprintf(what, sizeof(what), "snapshot handler cpu=%d", c);
			report(what, "ns", hcpu, k);
			free(hcpu);
		}
		report("snapshot handler_per_cpu", "ns", h, nh);
	} else if (!strcmp(argv[1], "slab") || !strcmp(argv[1], "slabinfo")) {
		int kernel = !strcmp(argv[1], "slab");

		for (i = 0; i < n; i++) {
			double start = now_us();

			if (kernel)
				control("snapshot slab");
			else
				slabinfo_delta();
			t[i] = now_us() - start;
		}
		report(argv[1], "us", t, n);
	} else if (!strcmp(argv[1], "sysrq-l") || !strcmp(argv[1], "sysrq-x")) {
		int l = !strcmp(argv[1], "sysrq-l");

		for (i = 0; i < n; i++) {
			int hits = 0, want = l ? online_cpus() : 1;
			double start = now_us();

			kmsg_drain(fd, NULL, NULL);
			start = now_us();
			sysrq(l ? "l" : "x");
			while (hits < want) {
				bytes += kmsg_drain(fd, l ? "NMI backtrace for cpu" :
							   "kintrospect: snapshot", &hits);
				if (now_us() - start > 30e6) {
					fprintf(stderr, "kintrospect_bench: %s: %d of %d in 30 s\n",
						argv[1], hits, want);
					return 1;
				}
			}
			t[i] = now_us() - start;
			usleep(100000);
			bytes += kmsg_drain(fd, NULL, NULL);
		}
		report(argv[1], "us", t, n);
	} else {
		fprintf(stderr, "kintrospect_bench: unknown mode %s\n", argv[1]);
		return 2;
	}
	printf("%s: log_bytes_per_op=%ld\n", argv[1], bytes / n);
	return 0;
}
