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
 *                                  NMI handler time per CPU, log bytes
 *   kintrospect_bench sysrq-l N    N times: echo l > /proc/sysrq-trigger until
 *                                  the log holds every online CPU's backtrace
 *   kintrospect_bench sysrq-x N    N times: echo x > /proc/sysrq-trigger
 *   kintrospect_bench locks N T    with T extra sleeping threads: N writes of
 *                                  "snapshot locks", then N times SysRq-d
 *                                  (echo d > /proc/sysrq-trigger until the log
 *                                  holds the whole list)
 *   kintrospect_bench slab N       N writes of "snapshot slab": one in-kernel
 *                                  slabinfo sample ranked against the baseline
 *   kintrospect_bench slabinfo N   N times what userspace would do for the
 *                                  same answer: read and parse /proc/slabinfo
 *                                  twice, match the caches, rank by bytes
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define KI "/sys/kernel/debug/kintrospect/"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);

	if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s)) {
		fprintf(stderr, "kintrospect_bench: write %s: %s\n", path, strerror(errno));
		exit(1);
	}
	close(fd);
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

/* Appends every "handler_ns":N of cpus.json to @ns. */
static int handler_times(double *ns, int max)
{
	static char buf[1 << 20];
	const char *p = buf;
	int fd = open(KI "cpus.json", O_RDONLY), n = 0;
	ssize_t len = 0, r;

	if (fd < 0)
		return 0;
	while ((r = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += r;
	close(fd);
	buf[len] = '\0';
	while (n < max && (p = strstr(p, "\"handler_ns\":"))) {
		p += strlen("\"handler_ns\":");
		ns[n++] = strtod(p, NULL);
	}
	return n;
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

/* Locks snapshots against SysRq-d with @threads extra sleeping threads. */
static int bench_locks(int n, int threads, int fd, double *t)
{
	long bytes = 0;
	int i, hits;
	char what[64];

	start_sleepers(threads);
	for (i = 0; i < n; i++) {
		double start = now_us();

		write_str(KI "control", "snapshot locks");
		t[i] = now_us() - start;
		bytes += kmsg_drain(fd, NULL, NULL);
	}
	snprintf(what, sizeof(what), "locks threads=%d", threads);
	report(what, "us", t, n);
	printf("locks threads=%d: log_bytes_per_op=%ld\n", threads, bytes / n);

	bytes = 0;
	for (i = 0; i < n; i++) {
		double start;

		kmsg_drain(fd, NULL, NULL);
		start = now_us();
		write_str("/proc/sysrq-trigger", "d");
		/* debug_show_all_locks() ends its list with a line of '='. */
		for (hits = 0; !hits; ) {
			bytes += kmsg_drain(fd, "=============================================", &hits);
			if (now_us() - start > 60e6) {
				fprintf(stderr, "kintrospect_bench: sysrq-d: no end of list in 60 s\n");
				return 1;
			}
		}
		t[i] = now_us() - start;
	}
	snprintf(what, sizeof(what), "sysrq-d threads=%d", threads);
	report(what, "us", t, n);
	printf("sysrq-d threads=%d: log_bytes_per_op=%ld\n", threads, bytes / n);
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

/* Reads and parses /proc/slabinfo into @l (at most @max), sorted by name. */
static int slabinfo_parse(struct slab_line *l, int max)
{
	static char buf[1 << 20];
	int fd = open("/proc/slabinfo", O_RDONLY), n = 0;
	ssize_t len = 0, r;
	char *line, *save;

	if (fd < 0) {
		perror("kintrospect_bench: /proc/slabinfo");
		exit(1);
	}
	while ((r = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += r;
	close(fd);
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

int main(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[2]) : 0, i, fd;
	double *t, *h;
	long bytes = 0;
	int nh = 0;

	if (argc < 3 || n <= 0) {
		fprintf(stderr, "usage: kintrospect_bench snapshot|sysrq-l|sysrq-x|slab|slabinfo N | locks N THREADS\n");
		return 2;
	}
	t = calloc(n, sizeof(*t));
	h = calloc((size_t)n * 64, sizeof(*h));
	fd = kmsg_open();

	if (!strcmp(argv[1], "locks"))
		return bench_locks(n, argc > 3 ? atoi(argv[3]) : 0, fd, t);
	if (!strcmp(argv[1], "snapshot")) {
		for (i = 0; i < n; i++) {
			double start = now_us();

			write_str(KI "control", "snapshot cpus");
			t[i] = now_us() - start;
			bytes += kmsg_drain(fd, NULL, NULL);
			nh += handler_times(h + nh, n * 64 - nh);
		}
		report("snapshot", "us", t, n);
		report("snapshot handler_per_cpu", "ns", h, nh);
	} else if (!strcmp(argv[1], "slab") || !strcmp(argv[1], "slabinfo")) {
		int kernel = !strcmp(argv[1], "slab");

		for (i = 0; i < n; i++) {
			double start = now_us();

			if (kernel)
				write_str(KI "control", "snapshot slab");
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
			write_str("/proc/sysrq-trigger", l ? "l" : "x");
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
