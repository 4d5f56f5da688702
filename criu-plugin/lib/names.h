/* SPDX-License-Identifier: GPL-2.0 */
/* The contract's enums by name: HC_<ENUM>_NAMES lists a name per number, 0, 1, 2, ... */
#ifndef HOTCACHE_NAMES_H
#define HOTCACHE_NAMES_H

#include <stddef.h>
#include <string.h>

/* The number of @name among @names[@n], or -1. */
static inline int hc_name_number(const char *const *names, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(name, names[i]))
			return (int)i;
	return -1;
}

/* The name of @number, or of @fallback when @number has none. */
static inline const char *hc_name_of(const char *const *names, size_t n, int number, int fallback)
{
	return number >= 0 && (size_t)number < n ? names[number] : names[fallback];
}

#endif /* HOTCACHE_NAMES_H */
