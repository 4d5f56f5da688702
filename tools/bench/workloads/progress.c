// SPDX-License-Identifier: GPL-2.0
#include "progress.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct progress *progress_open(const char *file, uint64_t units)
{
	struct stat st;
	struct progress *p;
	int fd = open(file, O_RDWR);

	if (fd < 0 || fstat(fd, &st) < 0)
		die("cannot open", file);
	if ((uint64_t)st.st_size < PROGRESS_HEADER + units) {
		errno = EINVAL;
		fprintf(stderr, "%s: %s is %lld bytes, needs %llu\n", program_name, file,
			(long long)st.st_size, (unsigned long long)(PROGRESS_HEADER + units));
		exit(1);
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("cannot map", file);
	close(fd);
	__atomic_store_n(&p->units, units, __ATOMIC_RELAXED);
	__atomic_store_n(&p->magic, PROGRESS_MAGIC, __ATOMIC_RELEASE);
	return p;
}

void progress_add(struct progress *p, uint64_t bytes)
{
	__atomic_store_n(&p->bytes, p->bytes + bytes, __ATOMIC_RELAXED);
	__atomic_store_n(&p->ops, p->ops + 1, __ATOMIC_RELAXED);
}

void progress_touch(struct progress *p, uint64_t first, uint64_t count)
{
	uint8_t epoch = (uint8_t)__atomic_load_n(&p->epoch, __ATOMIC_RELAXED);
	uint64_t end = first + count;

	if (end > p->units)
		end = p->units;
	for (uint64_t i = first; i < end; i++)
		p->touched[i] = epoch;
}
