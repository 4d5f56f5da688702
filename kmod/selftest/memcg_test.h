/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HOTCACHE_SELFTEST_MEMCG_H
#define HOTCACHE_SELFTEST_MEMCG_H

#include "common.h"

/* What HOTCACHE_IOC_MEMCG_SCAN listed for cgroup X, per file. */
struct memcg_result {
	struct counts m1;	/* read 3x in X */
	struct counts m2;	/* read once in X */
	struct counts m3;	/* read in Y */
	struct counts m4;	/* never read */
	struct counts l;	/* read 3x in X through overlayfs */
};

/* Runs the memcg checks on the disk-backed directory @dir (mounts cgroup2 on /sys/fs/cgroup). */
void test_memcg(int dev, const char *dir, struct memcg_result *out);

#endif
