// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

long page_size;
int failures;
int checks;

void check(int ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	checks++;
	if (ok) {
		printf("ok %s\n", name);
		return;
	}
	failures++;
	printf("not ok %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

void die(const char *what)
{
	printf("not ok setup: %s: %s\n", what, strerror(errno));
	printf("HOTCACHE-RESULT {\"ok\":false,\"error\":\"%s\"}\n", what);
	exit(2);
}

void write_file(const char *path, unsigned long pages)
{
	char *buf = malloc(page_size);
	unsigned long i;
	int fd;

	if (!buf)
		die("malloc");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die(path);
	for (i = 0; i < pages; i++) {
		memset(buf, (int)(i & 0xff), page_size);
		if (write(fd, buf, page_size) != page_size)
			die("write");
	}
	if (fsync(fd))
		die("fsync");
	close(fd);
	free(buf);
}

void evict(const char *path)
{
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		die(path);
	if (posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED))
		die("posix_fadvise DONTNEED");
	close(fd);
}

void read_pass(const char *path, unsigned long pages, unsigned long every,
	       int random)
{
	char *buf = malloc(page_size);
	unsigned long i;
	int fd;

	if (!buf)
		die("malloc");
	fd = open(path, O_RDONLY);
	if (fd < 0)
		die(path);
	/* No readahead: pages that are not read stay out of the cache. */
	if (random && posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM))
		die("posix_fadvise RANDOM");
	for (i = 0; i < pages; i += every) {
		if (pread(fd, buf, page_size, (off_t)i * page_size) != page_size)
			die("pread");
	}
	close(fd);
	free(buf);
}

unsigned long resident(const struct counts *c)
{
	return c->pages[1] + c->pages[2] + c->pages[3];
}
