/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-page facts the kernel publishes by page frame number (root only):
 * /proc/kpageflags (the kpageflags backend) and /proc/kpagecgroup (the
 * cgroup scope without the module). For each window of a file (window.c):
 * mincore() says which pages are cached; each cached page is touched so that
 * it gets a page-table entry, /proc/self/pagemap gives its PFN, and the table
 * its 8-byte entry.
 *
 * Measured on this project's hosts: this leaves the LRU state as it was,
 * provided the touch is a plain access, never MADV_POPULATE_READ (which
 * activates every page), and the unmap marks nothing accessed (window.c).
 * The touch is done by writev()ing one byte of each page into a pipe: the
 * kernel faults the page in exactly as a load would, but a page truncated
 * away in the meantime yields EFAULT instead of killing CRIU with SIGBUS.
 */
#ifndef HOTCACHE_PFN_H
#define HOTCACHE_PFN_H

#include <stdint.h>

#include "window.h"

/* The descriptors, in this order, in an int[HC_PFN_FDS]; -1 when closed. */
enum { HC_PFN_PAGEMAP, HC_PFN_TABLE, HC_PFN_PIPE_READ, HC_PFN_PIPE_WRITE, HC_PFN_FDS };

/*
 * Opens /proc/self/pagemap, the PFN-indexed @table and the touch pipe into
 * @fds. -EPERM (logged at debug level) when pagemap hides PFNs (no
 * CAP_SYS_ADMIN), -errno otherwise; the descriptors opened stay in @fds.
 */
int hc_pfn_open(int fds[HC_PFN_FDS], const char *table, long page_size);
void hc_pfn_close(int fds[HC_PFN_FDS]);

/*
 * For each page of @w: @values[i] is its table entry when it is cached and
 * mapped, 0 otherwise (a page that vanished while it was touched has its vec
 * entry cleared). @pagemap and @values hold HC_WINDOW_PAGES entries. -EIO.
 */
int hc_pfn_window(const int fds[HC_PFN_FDS], long page_size, struct hc_window *w, uint64_t *pagemap, uint64_t *values);

#endif /* HOTCACHE_PFN_H */
