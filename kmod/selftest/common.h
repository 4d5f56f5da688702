/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the VM test programs share: a line per check ("ok NAME" or "not ok
 * NAME: why"), setup failures, and files written, evicted and read in known
 * patterns on a disk-backed file system.
 */
#ifndef HOTCACHE_SELFTEST_COMMON_H
#define HOTCACHE_SELFTEST_COMMON_H

#include "../uapi/hotcache.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

extern long page_size;
extern int failures;
extern int checks;

/* Pages per class; index = HOTCACHE_CLASS_*, 0 unused. */
struct counts {
	unsigned long pages[4];
};

void check(int ok, const char *name, const char *fmt, ...);

/* A setup step failed: says so as the result line and exits 2. */
void die(const char *what);

void write_file(const char *path, unsigned long pages);

/* Clean pages only: the files were fsynced when written. */
void evict(const char *path);

/*
 * One pass over the pages of @path whose index i has i % @every == 0, read
 * one page at a time. A fresh open per pass, so no pass continues the last
 * one's read position (the kernel counts such reads once).
 */
void read_pass(const char *path, unsigned long pages, unsigned long every,
	       int random);

unsigned long resident(const struct counts *c);

#endif
