/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HOTCACHE_CLOCK_H
#define HOTCACHE_CLOCK_H

#include <stdint.h>
#include <time.h>

/* @clock in nanoseconds. */
static inline uint64_t hc_clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif /* HOTCACHE_CLOCK_H */
