// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "hotcache/log.h"
#include "pagemap.h"
#include "pfn.h"

/* Pages touched per writev(): IOV_MAX bytes always fit in an empty pipe. */
#define TOUCH_BATCH 1024

/* The PFN of a page we mapped, or 0 when pagemap hides PFNs (not root). */
static int self_pfn(int pagemap_fd, const void *addr, long page_size, uint64_t *pfn)
{
	uint64_t entry;
	off_t off = (off_t)((uintptr_t)addr / (uintptr_t)page_size * sizeof(entry));

	if (pread(pagemap_fd, &entry, sizeof(entry), off) != (ssize_t)sizeof(entry))
		return -EIO;
	*pfn = (entry & PM_PRESENT) ? (entry & PM_PFN_MASK) : 0;
	return 0;
}

int hc_pfn_open(int fds[HC_PFN_FDS], const char *table, long page_size)
{
	volatile unsigned char *probe;
	uint64_t pfn = 0;
	int ret, i;

	for (i = 0; i < HC_PFN_FDS; i++)
		fds[i] = -1;
	fds[HC_PFN_PAGEMAP] = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fds[HC_PFN_PAGEMAP] < 0) {
		pr_debug("cannot open /proc/self/pagemap: %m");
		return -errno;
	}
	fds[HC_PFN_TABLE] = open(table, O_RDONLY | O_CLOEXEC);
	if (fds[HC_PFN_TABLE] < 0) {
		pr_debug("cannot open %s: %m", table);
		return -errno;
	}
	/* The kernel shows PFNs to CAP_SYS_ADMIN only: check on a page of our own. */
	probe = mmap(NULL, (size_t)page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (probe == MAP_FAILED) {
		pr_perror("cannot map a probe page");
		return -ENOMEM;
	}
	probe[0] = 1;
	ret = self_pfn(fds[HC_PFN_PAGEMAP], (const void *)probe, page_size, &pfn);
	munmap((void *)probe, (size_t)page_size);
	if (ret < 0 || pfn == 0) {
		pr_debug("/proc/self/pagemap hides page frame numbers (needs CAP_SYS_ADMIN)");
		return -EPERM;
	}
	if (pipe2(&fds[HC_PFN_PIPE_READ], O_CLOEXEC | O_NONBLOCK) < 0) {
		pr_perror("pipe2");
		return -errno;
	}
	return 0;
}

void hc_pfn_close(int fds[HC_PFN_FDS])
{
	int i;

	for (i = 0; i < HC_PFN_FDS; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

/* Empties the touch pipe; it never holds more than TOUCH_BATCH bytes. */
static void drain(const int fds[HC_PFN_FDS])
{
	char sink[TOUCH_BATCH * 2];

	while (read(fds[HC_PFN_PIPE_READ], sink, sizeof(sink)) == (ssize_t)sizeof(sink))
		;
}

/*
 * Touches the resident pages of @w in batches. A batch that comes back short
 * (a page vanished) is redone one page at a time, to find which one: that
 * page's vec entry is cleared.
 */
static int touch_resident(const int fds[HC_PFN_FDS], long page_size, struct hc_window *w)
{
	struct iovec iov[TOUCH_BATCH];
	size_t index[TOUCH_BATCH];
	size_t i = 0;

	while (i < w->n) {
		size_t k = 0, p;
		ssize_t r;

		for (; i < w->n && k < TOUCH_BATCH; i++) {
			if (!(w->vec[i] & 1))
				continue;
			iov[k].iov_base = w->addr + i * (size_t)page_size;
			iov[k].iov_len = 1;
			index[k++] = i;
		}
		if (k == 0)
			break;
		r = writev(fds[HC_PFN_PIPE_WRITE], iov, (int)k);
		drain(fds);
		if (r == (ssize_t)k)
			continue;
		if (r < 0 && errno != EFAULT) {
			pr_perror("writev into the touch pipe");
			return -EIO;
		}
		for (p = 0; p < k; p++) {
			r = write(fds[HC_PFN_PIPE_WRITE], iov[p].iov_base, 1);
			drain(fds);
			if (r == 1)
				continue;
			if (r < 0 && errno != EFAULT) {
				pr_perror("write into the touch pipe");
				return -EIO;
			}
			pr_debug("page %lu vanished while scanning", (unsigned long)(w->first + index[p]));
			w->vec[index[p]] = 0;
		}
	}
	return 0;
}

/* Reads the table entry of every present page, one pread per run of consecutive PFNs. */
static int read_table(int fd, const struct hc_window *w, const uint64_t *pagemap, uint64_t *values)
{
	size_t i = 0;

	while (i < w->n) {
		uint64_t pfn = pagemap[i] & PM_PFN_MASK;
		size_t j = i + 1;
		ssize_t want, got;

		if (!(w->vec[i] & 1) || !(pagemap[i] & PM_PRESENT)) {
			values[i++] = 0;
			continue;
		}
		while (j < w->n && (w->vec[j] & 1) && (pagemap[j] & PM_PRESENT) && (pagemap[j] & PM_PFN_MASK) == pfn + (j - i))
			j++;
		want = (ssize_t)((j - i) * sizeof(uint64_t));
		got = pread(fd, &values[i], (size_t)want, (off_t)(pfn * sizeof(uint64_t)));
		if (got != want) {
			pr_err("short read of the entries of PFN %lu: %m", (unsigned long)pfn);
			return -EIO;
		}
		i = j;
	}
	return 0;
}

int hc_pfn_window(const int fds[HC_PFN_FDS], long page_size, struct hc_window *w, uint64_t *pagemap, uint64_t *values)
{
	size_t want = w->n * sizeof(uint64_t);
	off_t off = (off_t)((uintptr_t)w->addr / (uintptr_t)page_size * sizeof(uint64_t));
	int ret;

	ret = touch_resident(fds, page_size, w);
	if (ret < 0)
		return ret;
	if (pread(fds[HC_PFN_PAGEMAP], pagemap, want, off) != (ssize_t)want) {
		pr_err("short read of /proc/self/pagemap: %m");
		return -EIO;
	}
	return read_table(fds[HC_PFN_TABLE], w, pagemap, values);
}
