// SPDX-License-Identifier: GPL-2.0
/*
 * scatter: a database-like reader. Reads BLOCK bytes (4 KiB) at random
 * offsets of FILE with pread(2), SHARE percent of them inside the first HOT
 * percent of the file, the rest anywhere, forever; no readahead
 * (POSIX_FADV_RANDOM), as a database's page reads.
 *
 *   scatter -f FILE -p PROGRESS [-b BLOCK] [-H HOT] [-s SHARE] [-S SEED]
 *
 * HOT defaults to 25 and SHARE to 90. Publishes its progress in PROGRESS
 * (progress.h), one unit per page of FILE. Exits 2 on bad arguments.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "progress.h"

const char *program_name = "scatter";

int main(int argc, char **argv)
{
	const char *file = NULL, *progress_file = NULL;
	long long block = PAGE, hot = 25, share = 90;
	uint64_t seed = 0x853c49e6748fea9bull, blocks, hot_blocks;
	struct progress *p;
	off_t size;
	char *buf;
	int opt, fd;

	while ((opt = getopt(argc, argv, "f:p:b:H:s:S:")) != -1) {
		switch (opt) {
		case 'f': file = optarg; break;
		case 'p': progress_file = optarg; break;
		case 'b': block = parse_size(optarg); break;
		case 'H': hot = atoll(optarg); break;
		case 's': share = atoll(optarg); break;
		case 'S': seed = strtoull(optarg, NULL, 0) | 1; break;
		default: goto usage;
		}
	}
	if (!file || !progress_file || block <= 0 || block % PAGE || hot < 1 || hot > 100 || share < 0 || share > 100)
		goto usage;
	close_inherited_fds();
	fd = open_data(file, block, &size);
	posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);
	blocks = (uint64_t)size / (uint64_t)block;
	hot_blocks = blocks * (uint64_t)hot / 100;
	if (hot_blocks == 0)
		hot_blocks = 1;
	buf = alloc_or_die((size_t)block, "the read buffer");
	p = progress_open(progress_file, ((uint64_t)size + PAGE - 1) / PAGE);
	for (;;) {
		uint64_t r = next_random(&seed);
		uint64_t range = (r % 100) < (uint64_t)share ? hot_blocks : blocks;
		uint64_t index = (r >> 8) % range;
		ssize_t n = pread(fd, buf, (size_t)block, (off_t)(index * (uint64_t)block));

		if (n < 0 && errno != EINTR)
			die("cannot read", file);
		if (n <= 0)
			continue;
		progress_touch(p, index * (uint64_t)block / PAGE, (uint64_t)block / PAGE);
		progress_add(p, (uint64_t)n);
	}
usage:
	fprintf(stderr, "usage: scatter -f FILE -p PROGRESS [-b BLOCK] [-H HOT] [-s SHARE] [-S SEED]\n");
	return 2;
}
