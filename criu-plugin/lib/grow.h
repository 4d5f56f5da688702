/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HOTCACHE_GROW_H
#define HOTCACHE_GROW_H

#include <stdlib.h>

/*
 * Reallocates the array @v of *@cap elements of @size bytes to twice as many
 * (@first when empty) and updates *@cap; NULL, with @v and *@cap untouched,
 * when out of memory.
 */
static inline void *hc_grow(void *v, size_t *cap, size_t first, size_t size)
{
	size_t want = *cap ? *cap * 2 : first;
	void *bigger = reallocarray(v, want, size);

	if (bigger)
		*cap = want;
	return bigger;
}

#endif /* HOTCACHE_GROW_H */
