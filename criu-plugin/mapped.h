/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pages a captured task has mapped: at least warm.
 *
 * A page touched through a mapping is marked accessed only in the page
 * table (the PTE young bit), which no backend sees until reclaim looks at
 * it: PG_referenced and PG_active stay clear, so it would read as merely
 * resident. A page present in a task's page table was faulted in by that
 * task, or mapped with it by fault-around (cached neighbours within 64 KiB,
 * measured even under MADV_RANDOM on 6.18), so the capture raises such
 * resident pages to warm: never to hot, and never lowers a class. The page tables
 * are read from /proc/PID/pagemap (file pages only: a private page that was
 * copied on write is the task's own memory, dumped by CRIU itself).
 */
#ifndef HOTCACHE_MAPPED_H
#define HOTCACHE_MAPPED_H

#include "capture.h"
#include "proc.h"

/*
 * Records which pages of @file the mapping @m has present; @pagemap_fd is the
 * task's pagemap. -ETIME (capture marked partial) once the time limit has
 * passed; other problems are logged and leave the pages as the backend saw them.
 */
int hc_mapped_record(struct hc_capture *c, struct hc_file *file, int pagemap_fd, const struct hc_proc_map *m);

/* Raises each file's resident pages that some task maps to warm, then forgets the spans. */
void hc_mapped_apply(struct hc_capture *c);

#endif /* HOTCACHE_MAPPED_H */
