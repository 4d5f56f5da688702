/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HOTCACHE_CLOCK_H
#define HOTCACHE_CLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* @clock in nanoseconds. */
static inline uint64_t hc_clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* True once @deadline_ns (CLOCK_MONOTONIC; 0: none) has passed. */
static inline bool hc_late(uint64_t deadline_ns)
{
	return deadline_ns && hc_clock_ns(CLOCK_MONOTONIC) > deadline_ns;
}

#endif /* HOTCACHE_CLOCK_H */
