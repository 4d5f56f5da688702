// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "hotcache/log.h"
#include "mountinfo.h"

/* A copy of the field at *@p up to the next space, with the kernel's \ooo escapes undone; *@p moves past it. */
static char *field(const char **p)
{
	const char *s = *p, *end = s + strcspn(s, " \n");
	char *out = malloc((size_t)(end - s) + 1), *o = out;

	if (!out)
		return NULL;
	while (s < end) {
		if (s[0] == '\\' && end - s >= 4 && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' &&
		    s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
	*p = *end == ' ' ? end + 1 : end;
	return out;
}

/* Moves *@p past @n space-separated fields; false when the line ends first. */
static bool skip(const char **p, int n)
{
	while (n-- > 0) {
		const char *sp = strchr(*p, ' ');

		if (!sp)
			return false;
		*p = sp + 1;
	}
	return true;
}

int hc_mountinfo_parse(const char *line, struct hc_mount *m)
{
	const char *p = line, *sep;
	int ret = -EINVAL;

	memset(m, 0, sizeof(*m));
	/* ID PARENT MAJOR:MINOR ROOT POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS */
	if (!skip(&p, 3))
		return -EINVAL;
	/* Escaped fields hold no space: the first " - " after them is the separator. */
	sep = strstr(p, " - ");
	if (!sep)
		return -EINVAL;
	m->root = field(&p);
	m->point = field(&p);
	if (!m->root || !m->point) {
		ret = -ENOMEM;
		goto fail;
	}
	p = sep + 3;
	m->fstype = field(&p);
	if (!m->fstype) {
		ret = -ENOMEM;
		goto fail;
	}
	if (!skip(&p, 1) || *p == '\0' || *p == '\n')
		goto fail;
	m->options = field(&p);
	if (!m->options) {
		ret = -ENOMEM;
		goto fail;
	}
	if (m->root[0] == '/' && m->point[0] == '/' && m->fstype[0])
		return 0;
fail:
	hc_mount_free(m);
	return ret;
}

int hc_mountinfo_read(pid_t pid, size_t max, struct hc_mounts *out)
{
	char path[64], *line = NULL;
	size_t cap = 0;
	int ret = 0;
	FILE *f;

	memset(out, 0, sizeof(*out));
	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/mountinfo");
	f = fopen(path, "re");
	if (!f) {
		ret = -errno;
		pr_warn("cannot open %s: %m", path);
		return ret;
	}
	while (ret == 0 && getline(&line, &cap, f) > 0) {
		struct hc_mount m;

		if (hc_mountinfo_parse(line, &m) < 0) {
			pr_debug("%s: a line that does not parse: %s", path, line);
			continue;
		}
		if (out->n == max) {
			hc_mount_free(&m);
			ret = -E2BIG;
			break;
		}
		if (out->n == out->cap) {
			struct hc_mount *v = hc_grow(out->v, &out->cap, 16, sizeof(*v));

			if (!v) {
				hc_mount_free(&m);
				ret = -ENOMEM;
				break;
			}
			out->v = v;
		}
		out->v[out->n++] = m;
	}
	free(line);
	fclose(f);
	return ret;
}

bool hc_option_has(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p;

	for (p = list; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (!strncmp(p, word, n) && (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}

void hc_mount_free(struct hc_mount *m)
{
	free(m->point);
	free(m->root);
	free(m->fstype);
	free(m->options);
	memset(m, 0, sizeof(*m));
}

void hc_mounts_free(struct hc_mounts *ms)
{
	size_t i;

	for (i = 0; i < ms->n; i++)
		hc_mount_free(&ms->v[i]);
	free(ms->v);
	memset(ms, 0, sizeof(*ms));
}
