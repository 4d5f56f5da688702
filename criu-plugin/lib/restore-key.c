// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "contract.h"
#include "hotcache/restore-key.h"

static bool number(const char *s, size_t len, size_t max)
{
	return len > 0 && len <= max && strspn(s, "0123456789") >= len;
}

int hc_restore_key(const char *stat, char *out, size_t size)
{
	const char *p = NULL, *next, *field;
	size_t pid_len = strcspn(stat, " "), len = 0;
	int n, written;

	for (next = strstr(stat, ") "); next; next = strstr(next + 1, ") "))
		p = next + 2;
	if (!p)
		return -EINVAL;
	/* Field 3 is the first after the command name; fields are split at runs of blanks, as sh splits them. */
	for (n = 3, field = NULL; n <= HC_RESTORE_START_TIME_FIELD; n++) {
		p += strspn(p, " \t\n");
		field = p;
		len = strcspn(p, " \t\n");
		p += len;
	}
	if (!number(stat, pid_len, 10) || !number(field, len, 20))
		return -EINVAL;
	written = snprintf(out, size, "%.*s.%.*s", (int)pid_len, stat, (int)len, field);
	return written >= 0 && (size_t)written < size ? 0 : -ENAMETOOLONG;
}
