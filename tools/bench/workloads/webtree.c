// SPDX-License-Identifier: GPL-2.0
/*
 * webtree: what a static web server does to its files. Picks a file of the
 * tree DIR, opens it, reads it to the end, closes it, forever: SHARE percent
 * of the picks among the first HOT percent of the files (the popular pages),
 * the rest among all of them.
 *
 *   webtree -d DIR -n COUNT -p PROGRESS [-H HOT] [-s SHARE] [-S SEED]
 *
 * File i is DIR/(i / 256, two hex digits)/(i, six digits). HOT defaults to 10
 * and SHARE to 90. Publishes its progress in PROGRESS (progress.h), one unit
 * per file, one operation per file read. Exits 2 on bad arguments.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "progress.h"

const char *program_name = "webtree";

int main(int argc, char **argv)
{
	const char *dir = NULL, *progress_file = NULL;
	long long count = 0, hot = 10, share = 90;
	uint64_t seed = 0xda942042e4dd58b5ull, hot_files;
	static char buf[64 << 10];
	struct progress *p;
	int opt;

	while ((opt = getopt(argc, argv, "d:n:p:H:s:S:")) != -1) {
		switch (opt) {
		case 'd': dir = optarg; break;
		case 'n': count = atoll(optarg); break;
		case 'p': progress_file = optarg; break;
		case 'H': hot = atoll(optarg); break;
		case 's': share = atoll(optarg); break;
		case 'S': seed = strtoull(optarg, NULL, 0) | 1; break;
		default: goto usage;
		}
	}
	if (!dir || !progress_file || count <= 0 || hot < 1 || hot > 100 || share < 0 || share > 100)
		goto usage;
	close_inherited_fds();
	hot_files = (uint64_t)count * (uint64_t)hot / 100;
	if (hot_files == 0)
		hot_files = 1;
	p = progress_open(progress_file, (uint64_t)count);
	for (;;) {
		uint64_t r = next_random(&seed);
		uint64_t index = (r >> 8) % ((r % 100) < (uint64_t)share ? hot_files : (uint64_t)count);
		uint64_t total = 0;
		char path[4096];
		ssize_t n;
		int fd;

		snprintf(path, sizeof(path), "%s/%02llx/%06llu", dir,
			 (unsigned long long)(index / 256), (unsigned long long)index);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			die("cannot open", path);
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			total += (uint64_t)n;
		if (n < 0)
			die("cannot read", path);
		close(fd);
		progress_touch(p, index, 1);
		progress_add(p, total);
	}
usage:
	fprintf(stderr, "usage: webtree -d DIR -n COUNT -p PROGRESS [-H HOT] [-s SHARE] [-S SEED]\n");
	return 2;
}
