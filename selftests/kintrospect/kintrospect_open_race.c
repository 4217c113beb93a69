// SPDX-License-Identifier: GPL-2.0
/*
 * kintrospect_open_race: opens a file in a tight loop while a module load
 * runs, the way any monitoring agent polling debugfs would.
 *
 *   kintrospect_open_race PATH SECONDS HOLD_MS
 *
 * Tries open(PATH) without pause for up to SECONDS; once an open succeeds,
 * keeps the file open HOLD_MS milliseconds (long enough for a failing load
 * to finish and free the module), closes it and exits. Prints "opened" or
 * "never opened". Exit status 0 either way; 2 on bad arguments.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double end;
	int fd;

	if (argc != 4) {
		fprintf(stderr, "usage: %s PATH SECONDS HOLD_MS\n", argv[0]);
		return 2;
	}
	end = now() + atof(argv[2]);
	while (now() < end) {
		fd = open(argv[1], O_RDONLY);
		if (fd < 0)
			continue;
		usleep(atoi(argv[3]) * 1000);
		close(fd);
		printf("opened\n");
		return 0;
	}
	printf("never opened\n");
	return 0;
}
