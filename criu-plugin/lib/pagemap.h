/* SPDX-License-Identifier: GPL-2.0 */
/* Bits of a /proc/PID/pagemap entry (Documentation/admin-guide/mm/pagemap.rst). */
#ifndef HOTCACHE_PAGEMAP_H
#define HOTCACHE_PAGEMAP_H

#define PM_PRESENT (1ULL << 63)
#define PM_FILE (1ULL << 61)		/* file page or shared anonymous */
#define PM_PFN_MASK ((1ULL << 55) - 1)	/* zero without CAP_SYS_ADMIN */

#endif /* HOTCACHE_PAGEMAP_H */
