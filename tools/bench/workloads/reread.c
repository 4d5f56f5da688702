// SPDX-License-Identifier: GPL-2.0
/*
 * reread: the reference workload. Reads FILE from start to end with read(2)
 * of BLOCK bytes (1 MiB), then again from the start, forever, so its fd
 * offset moves as a real sequential reader's does.
 *
 *   reread -f FILE -p PROGRESS [-b BLOCK] [-m ANON] [-r RATE]
 *
 *   -m ANON  also holds ANON bytes of anonymous memory, written once with
 *            non-zero data, so that its checkpoint images are that large;
 *   -r RATE  reads at most RATE bytes per second (a workload of known speed:
 *            the sampler's test, the NFS check); unlimited by default.
 * Sizes take a k, m or g suffix. Publishes its progress in PROGRESS
 * (progress.h), one unit per page of FILE. Exits 2 on bad arguments.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

const char *program_name = "reread";

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void hold_anonymous(size_t len)
{
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	uint64_t *mem;

	if (len == 0)
		return;
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("cannot map", "anonymous memory");
	for (size_t i = 0; i < len / sizeof(*mem); i++)
		mem[i] = next_random(&seed);
}

/* How far behind its schedule a paced reader may catch up: a scheduling hiccup, not an outage. */
#define CATCH_UP_S 0.25

/*
 * Sleeps until `due` plus the time `n` bytes take at `rate` bytes per second, and returns
 * that time. A reader further behind than CATCH_UP_S (frozen, moved, reading from a slow
 * link) or whose clock jumped back (restored on another machine) starts its schedule anew
 * from now: what it lost stays lost, as for a real client served at a fixed rate.
 */
static double pace(double due, ssize_t n, long long rate)
{
	double t = now(), wait;

	if (due < t - CATCH_UP_S || due > t + 1.0)
		due = t;
	due += (double)n / (double)rate;
	wait = due - now();
	if (wait > 0) {
		struct timespec ts = { (time_t)wait, (long)((wait - (time_t)wait) * 1e9) };

		nanosleep(&ts, NULL);
	}
	return due;
}

int main(int argc, char **argv)
{
	const char *file = NULL, *progress_file = NULL;
	long long block = 1 << 20, anon = 0, rate = 0;
	struct progress *p;
	off_t size, offset = 0;
	double due;
	char *buf;
	int opt, fd;

	while ((opt = getopt(argc, argv, "f:p:b:m:r:")) != -1) {
		switch (opt) {
		case 'f': file = optarg; break;
		case 'p': progress_file = optarg; break;
		case 'b': block = parse_size(optarg); break;
		case 'm': anon = parse_size(optarg); break;
		case 'r': rate = parse_size(optarg); break;
		default: goto usage;
		}
	}
	if (!file || !progress_file || block <= 0 || block % PAGE || anon < 0 || rate < 0)
		goto usage;
	close_inherited_fds();
	fd = open_data(file, 1, &size);
	buf = alloc_or_die((size_t)block, "the read buffer");
	hold_anonymous((size_t)anon);
	p = progress_open(progress_file, ((uint64_t)size + PAGE - 1) / PAGE);
	due = now();
	for (;;) {
		ssize_t n = read(fd, buf, (size_t)block);

		if (n < 0 && errno != EINTR)
			die("cannot read", file);
		if (n <= 0) {
			offset = lseek(fd, 0, SEEK_SET);
			continue;
		}
		progress_touch(p, (uint64_t)offset / PAGE, ((uint64_t)n + PAGE - 1) / PAGE);
		progress_add(p, (uint64_t)n);
		offset += n;
		if (rate)
			due = pace(due, n, rate);
	}
usage:
	fprintf(stderr, "usage: reread -f FILE -p PROGRESS [-b BLOCK] [-m ANON] [-r RATE]\n");
	return 2;
}
