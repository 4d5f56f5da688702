// SPDX-License-Identifier: GPL-2.0
/*
 * Hotness from /proc/kpageflags, no module (root only).
 *
 * For each window of the file: mincore() says which pages are cached; each
 * cached page is touched so that it gets a page-table entry, then
 * /proc/self/pagemap gives its PFN and /proc/kpageflags its flags.
 * Measured on this project's hosts: this leaves the LRU state as it was,
 * provided the touch is a plain access, never MADV_POPULATE_READ (which
 * activates every page), and the unmap marks nothing accessed: window.c
 * sets MADV_SEQUENTIAL before it, the only advice that stops the mark on
 * kernels before 6.3 (from 6.3 MADV_RANDOM does too). MADV_RANDOM, set for
 * the scan, does not stop fault-around (see mapped.h).
 *
 * The touch is done by writev()ing one byte of each page into a pipe: the
 * kernel faults the page in exactly as a load would, but a page truncated
 * away in the meantime yields EFAULT instead of killing CRIU with SIGBUS.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "backend.h"
#include "hotcache/log.h"
#include "pagemap.h"
#include "window.h"

enum { FD_PAGEMAP, FD_KPAGEFLAGS, FD_PIPE_READ, FD_PIPE_WRITE };

#define KPF_REFERENCED 2
#define KPF_ACTIVE 6

/* Pages touched per writev(): IOV_MAX bytes always fit in an empty pipe. */
#define TOUCH_BATCH 1024

struct kpf_scan {
	struct hc_backend *b;
	struct hc_ranges *out;
	uint64_t *pagemap;	/* HC_WINDOW_PAGES entries */
	uint64_t *flags;	/* HC_WINDOW_PAGES entries, indexed like pagemap */
};

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

static int kpageflags_open(struct hc_backend *b)
{
	volatile unsigned char *probe;
	uint64_t pfn = 0;
	int ret;

	b->fds[FD_PAGEMAP] = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (b->fds[FD_PAGEMAP] < 0) {
		pr_debug("kpageflags: cannot open /proc/self/pagemap: %m");
		return -errno;
	}
	b->fds[FD_KPAGEFLAGS] = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	if (b->fds[FD_KPAGEFLAGS] < 0) {
		pr_debug("kpageflags: cannot open /proc/kpageflags: %m");
		return -errno;
	}
	/* The kernel shows PFNs to CAP_SYS_ADMIN only: check on a page of our own. */
	probe = mmap(NULL, (size_t)b->page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (probe == MAP_FAILED) {
		pr_perror("kpageflags: cannot map a probe page");
		return -ENOMEM;
	}
	probe[0] = 1;
	ret = self_pfn(b->fds[FD_PAGEMAP], (const void *)probe, b->page_size, &pfn);
	munmap((void *)probe, (size_t)b->page_size);
	if (ret < 0 || pfn == 0) {
		pr_debug("kpageflags: /proc/self/pagemap hides page frame numbers (needs CAP_SYS_ADMIN)");
		return -EPERM;
	}
	if (pipe2(&b->fds[FD_PIPE_READ], O_CLOEXEC | O_NONBLOCK) < 0) {
		pr_perror("kpageflags: pipe2");
		return -errno;
	}
	b->hot_warm_exact = b->lru == HC_LRU_CLASSIC;
	if (!b->hot_warm_exact)
		pr_warn("kpageflags: MGLRU is enabled, PG_active means nothing there: hot and warm are not told apart");
	return 0;
}

/* Empties the touch pipe; it never holds more than TOUCH_BATCH bytes. */
static void drain(struct hc_backend *b)
{
	char sink[TOUCH_BATCH * 2];

	while (read(b->fds[FD_PIPE_READ], sink, sizeof(sink)) == (ssize_t)sizeof(sink))
		;
}

/*
 * Touches the resident pages of @w in batches. A batch that comes back short
 * (a page vanished) is redone one page at a time, to find which one: that
 * page's vec entry is cleared.
 */
static int touch_resident(struct hc_backend *b, struct hc_window *w)
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
			iov[k].iov_base = w->addr + i * (size_t)b->page_size;
			iov[k].iov_len = 1;
			index[k++] = i;
		}
		if (k == 0)
			break;
		r = writev(b->fds[FD_PIPE_WRITE], iov, (int)k);
		drain(b);
		if (r == (ssize_t)k)
			continue;
		if (r < 0 && errno != EFAULT) {
			pr_perror("kpageflags: writev into the touch pipe");
			return -EIO;
		}
		for (p = 0; p < k; p++) {
			r = write(b->fds[FD_PIPE_WRITE], iov[p].iov_base, 1);
			drain(b);
			if (r == 1)
				continue;
			if (r < 0 && errno != EFAULT) {
				pr_perror("kpageflags: write into the touch pipe");
				return -EIO;
			}
			pr_debug("kpageflags: page %lu vanished while scanning", (unsigned long)(w->first + index[p]));
			w->vec[index[p]] = 0;
		}
	}
	return 0;
}

/* Reads kpageflags for every present page, one pread per run of consecutive PFNs. */
static int read_flags(struct kpf_scan *s, struct hc_window *w)
{
	int fd = s->b->fds[FD_KPAGEFLAGS];
	size_t i = 0;

	while (i < w->n) {
		uint64_t pfn = s->pagemap[i] & PM_PFN_MASK;
		size_t j = i + 1;
		ssize_t want, got;

		if (!(w->vec[i] & 1) || !(s->pagemap[i] & PM_PRESENT)) {
			s->flags[i++] = 0;
			continue;
		}
		while (j < w->n && (w->vec[j] & 1) && (s->pagemap[j] & PM_PRESENT) &&
		       (s->pagemap[j] & PM_PFN_MASK) == pfn + (j - i))
			j++;
		want = (ssize_t)((j - i) * sizeof(uint64_t));
		got = pread(fd, &s->flags[i], (size_t)want, (off_t)(pfn * sizeof(uint64_t)));
		if (got != want) {
			pr_err("kpageflags: short read of the flags of PFN %lu: %m", (unsigned long)pfn);
			return -EIO;
		}
		i = j;
	}
	return 0;
}

static enum hc_class classify(uint64_t flags)
{
	if (flags & (1ULL << KPF_ACTIVE))
		return HC_CLASS_HOT;
	if (flags & (1ULL << KPF_REFERENCED))
		return HC_CLASS_WARM;
	return HC_CLASS_RESIDENT;
}

static int scan_window(void *ctx, struct hc_window *w)
{
	struct kpf_scan *s = ctx;
	size_t want = w->n * sizeof(uint64_t);
	off_t off = (off_t)((uintptr_t)w->addr / (uintptr_t)s->b->page_size * sizeof(uint64_t));
	size_t i;
	int ret;

	ret = touch_resident(s->b, w);
	if (ret < 0)
		return ret;
	if (pread(s->b->fds[FD_PAGEMAP], s->pagemap, want, off) != (ssize_t)want) {
		pr_err("kpageflags: short read of /proc/self/pagemap: %m");
		return -EIO;
	}
	ret = read_flags(s, w);
	for (i = 0; i < w->n && ret == 0; i++) {
		if (w->vec[i] & 1)
			ret = hc_ranges_add(s->out, w->first + i, 1, classify(s->flags[i]));
	}
	return ret;
}

static int kpageflags_scan(struct hc_backend *b, int fd, uint64_t size_pages, struct hc_ranges *out)
{
	struct kpf_scan s = { .b = b, .out = out };
	int ret = -ENOMEM;

	s.pagemap = calloc(HC_WINDOW_PAGES, sizeof(uint64_t));
	s.flags = calloc(HC_WINDOW_PAGES, sizeof(uint64_t));
	if (s.pagemap && s.flags)
		ret = hc_window_each(b, fd, size_pages, scan_window, &s);
	else
		pr_err("kpageflags: out of memory");
	free(s.pagemap);
	free(s.flags);
	return ret;
}

const struct hc_backend_ops hc_backend_kpageflags = {
	.id = HC_BACKEND_KPAGEFLAGS,
	.open = kpageflags_open,
	.scan = kpageflags_scan,
};
