// SPDX-License-Identifier: GPL-2.0
#include <stddef.h>

#include "contract.h"
#include "hotcache/refused-fs.h"

#define REFUSED(name, magic, why) { magic, name },

static const struct {
	unsigned long magic;
	const char *name;
} refused[] = { HC_REFUSED_FS(REFUSED) };

const char *hc_refused_fs(unsigned long magic)
{
	size_t i;

	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (refused[i].magic == magic)
			return refused[i].name;
	return NULL;
}
