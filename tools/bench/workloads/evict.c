// SPDX-License-Identifier: GPL-2.0
/*
 * evict: drops the cached pages of files (a directory: of every regular file
 * under it), as a host that never read them would have: fsync, then
 * posix_fadvise(POSIX_FADV_DONTNEED). Only these files, never the whole
 * machine's cache (other work shares this machine).
 *
 *   evict PATH...
 *
 * Exits 1 if a path cannot be opened, 2 without arguments.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

const char *program_name = "evict";

static int evict_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	int fd;

	(void)ftw;
	if (type != FTW_F || !S_ISREG(st->st_mode))
		return 0;
	fd = open(path, O_RDONLY);
	if (fd < 0)
		die("cannot open", path);
	fsync(fd);
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: evict PATH...\n");
		return 2;
	}
	for (int i = 1; i < argc; i++)
		if (nftw(argv[i], evict_one, 64, FTW_PHYS) != 0)
			die("cannot walk", argv[i]);
	return 0;
}
