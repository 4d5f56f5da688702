// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotcache/log.h"
#include "record.h"

void hc_record_partial(struct hc_record *r, const char *fmt, ...)
{
	char reason[sizeof(r->partial_reason)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	pr_warn("capture is partial: %s", reason);
	if (!r->partial)
		memcpy(r->partial_reason, reason, sizeof(reason));
	r->partial = true;
}

void hc_record_report(const struct hc_record *r, const char *when)
{
	unsigned long long resident = 0, hot = 0, warm = 0;
	size_t i, j;

	for (i = 0; i < r->n_files; i++) {
		const struct hc_ranges *ranges = &r->files[i].ranges;

		for (j = 0; j < ranges->n; j++) {
			resident += ranges->v[j].count;
			if (ranges->v[j].class == HC_CLASS_HOT)
				hot += ranges->v[j].count;
			else if (ranges->v[j].class == HC_CLASS_WARM)
				warm += ranges->v[j].count;
		}
	}
	pr_info("scope %s%s%s", hc_scope_name(r->scope), r->cgroup[0] ? ", memory cgroup " : "", r->cgroup);
	pr_info("captured %zu files, %llu pages, %llu hot, %llu warm, backend %s, %u ms%s%s%s%s", r->n_files, resident, hot, warm,
		hc_backend_name(r->backend), r->duration_ms, when ? ", at " : "", when ? when : "",
		r->partial ? ", partial: " : "", r->partial ? r->partial_reason : "");
}

void hc_record_free(struct hc_record *r)
{
	size_t i;

	for (i = 0; i < r->n_files; i++) {
		free(r->files[i].path);
		free(r->files[i].fds);
		hc_ranges_free(&r->files[i].ranges);
	}
	free(r->files);
	r->files = NULL;
	r->n_files = r->cap_files = 0;
}
