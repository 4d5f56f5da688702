// SPDX-License-Identifier: GPL-2.0
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void die(const char *what, const char *file)
{
	fprintf(stderr, "%s: %s %s: %s\n", program_name, what, file, strerror(errno));
	exit(1);
}

int open_data(const char *file, off_t min, off_t *size)
{
	int fd = open(file, O_RDONLY);

	if (fd < 0)
		die("cannot open", file);
	*size = lseek(fd, 0, SEEK_END);
	if (*size < 0 || lseek(fd, 0, SEEK_SET) < 0)
		die("cannot size", file);
	if (*size < min || *size == 0) {
		errno = EINVAL;
		die("too small:", file);
	}
	return fd;
}

void *alloc_or_die(size_t len, const char *what)
{
	void *p = malloc(len);

	if (!p)
		die("cannot allocate", what);
	return p;
}

void close_inherited_fds(void)
{
	close_range(3, ~0u, 0);
}

uint64_t next_random(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

long long parse_size(const char *text)
{
	char *end;
	long long n = strtoll(text, &end, 10);

	if (end == text || n < 0)
		return -1;
	switch (*end) {
	case 'k': case 'K': n <<= 10; end++; break;
	case 'm': case 'M': n <<= 20; end++; break;
	case 'g': case 'G': n <<= 30; end++; break;
	}
	return *end ? -1 : n;
}
