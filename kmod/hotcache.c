// SPDX-License-Identifier: GPL-2.0
/*
 * hotcache: report how hot the page-cache pages of a file are.
 *
 * /dev/hotcache takes HOTCACHE_IOC_SCAN (kmod/uapi/hotcache.h): the caller
 * passes an fd it opened and a range of page indexes, and gets back sorted,
 * non-overlapping ranges of resident pages, each with a class.
 *
 * Classic LRU (two lists):
 *   PG_active                     -> HOT
 *   PG_referenced or PG_workingset -> WARM
 *   otherwise                     -> RESIDENT
 *
 * Multi-gen LRU: PG_active is cleared while a folio sits on an MGLRU list,
 * and read() accesses bump the folio's access tier (PG_referenced, then
 * PG_workingset, then the LRU_REFS counter) rather than its generation, so
 * both are used:
 *   accessed at least twice (folio_lru_refs() >= 1, tier >= 1), or in one
 *   of the two youngest generations of its lruvec (what MGLRU counts as
 *   active; page-table accesses promote there)          -> HOT
 *   PG_referenced                                       -> WARM
 *   otherwise                                           -> RESIDENT
 * Cold page-cache folios are added to the oldest generation, or to the
 * second oldest when there are four; that is never one of the two youngest
 * unless only two generations exist, so the oldest one never counts.
 * Folios still waiting in a per-CPU batch are on no list and have no
 * generation; under MGLRU their tier alone decides.
 * "Accessed twice" is where the classic LRU activates a folio, so a file
 * read the same way gets the same classes under both LRUs.
 *
 * The walk runs under RCU like cachestat(2) and never sleeps there: ranges
 * are collected in a small kernel buffer and copied out between batches.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/memcontrol.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/mm_inline.h>
#include <linux/module.h>
#include <linux/pagemap.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>

#include "uapi/hotcache.h"

/* Ranges collected under RCU before they are copied to user space. */
#define HOTCACHE_BATCH	128

/* Output of one walk: a bounded array of ranges being built. */
struct hotcache_out {
	struct hotcache_range *ranges;
	unsigned int nr;
	unsigned int cap;
};

#ifdef CONFIG_LRU_GEN
/*
 * folio_lruvec() and mem_cgroup_lruvec() cannot be used: they need
 * root_mem_cgroup, which modules cannot link against. A NULL @memcg is
 * only possible here when memory cgroups are disabled.
 */
static struct lruvec *hotcache_lruvec(struct mem_cgroup *memcg, int nid)
{
#ifdef CONFIG_MEMCG
	if (memcg)
		return &memcg->nodeinfo[nid]->lruvec;
#endif
	return &NODE_DATA(nid)->__lruvec;
}

/*
 * Page-cache folios are charged, so a folio without a memcg while memory
 * cgroups are on is being freed: it gets no generation-based class. Called
 * under RCU, which keeps the memcg alive; the folio may be moving to another
 * memcg meanwhile, and either answer is as good as the other.
 */
static struct lruvec *hotcache_folio_lruvec(struct folio *folio)
{
	struct mem_cgroup *memcg = folio_memcg_rcu(folio);

	if (!memcg && !mem_cgroup_disabled())
		return NULL;
	return hotcache_lruvec(memcg, folio_nid(folio));
}

/* @gen is -1 for a folio not on a list yet (in a per-CPU batch). */
static u32 hotcache_mglru_class(struct folio *folio, int gen)
{
	struct lruvec *lruvec;
	unsigned long max_seq, min_seq, age;

	if (folio_lru_refs(folio) >= 1)
		return HOTCACHE_CLASS_HOT;
	lruvec = gen >= 0 ? hotcache_folio_lruvec(folio) : NULL;
	if (lruvec) {
		max_seq = READ_ONCE(lruvec->lrugen.max_seq);
		min_seq = READ_ONCE(lruvec->lrugen.min_seq[folio_is_file_lru(folio)]);
		/* Sequence numbers modulo MAX_NR_GENS; age 0 is the youngest. */
		age = (lru_gen_from_seq(max_seq) - gen + MAX_NR_GENS) %
		      MAX_NR_GENS;
		/* Not the oldest: with two generations both are "active". */
		if (age <= 1 && age < max_seq - min_seq)
			return HOTCACHE_CLASS_HOT;
	}
	return folio_test_referenced(folio) ? HOTCACHE_CLASS_WARM :
					      HOTCACHE_CLASS_RESIDENT;
}

/* The folio's MGLRU generation, -1 when it is on no MGLRU list. */
static int hotcache_folio_gen(struct folio *folio)
{
	return folio_lru_gen(folio);
}

/* Whether the caller's memory cgroup has MGLRU on, for the scan's @lru. */
static u32 hotcache_lru_flavour(void)
{
	struct mem_cgroup *memcg = get_mem_cgroup_from_mm(current->mm);
	bool enabled;

	enabled = READ_ONCE(hotcache_lruvec(memcg, numa_node_id())->lrugen.enabled);
	mem_cgroup_put(memcg);
	return enabled ? HOTCACHE_LRU_MGLRU : HOTCACHE_LRU_CLASSIC;
}
#else
static u32 hotcache_mglru_class(struct folio *folio, int gen)
{
	return HOTCACHE_CLASS_RESIDENT;
}

static int hotcache_folio_gen(struct folio *folio)
{
	return -1;
}

static u32 hotcache_lru_flavour(void)
{
	return HOTCACHE_LRU_CLASSIC;
}
#endif

/*
 * Decided by the list the folio is on, so folios still on the other kind
 * of list while MGLRU is being toggled are read correctly; @lru only
 * decides for folios on no list yet, which still wait in a per-CPU batch.
 */
static u32 hotcache_folio_class(struct folio *folio, u32 lru)
{
	int gen = hotcache_folio_gen(folio);

	if (gen >= 0 || (lru == HOTCACHE_LRU_MGLRU && !folio_test_lru(folio)))
		return hotcache_mglru_class(folio, gen);
	if (folio_test_active(folio))
		return HOTCACHE_CLASS_HOT;
	if (folio_test_referenced(folio) || folio_test_workingset(folio))
		return HOTCACHE_CLASS_WARM;
	return HOTCACHE_CLASS_RESIDENT;
}

/*
 * Append @nr pages of @class at @index, merging with the last range when
 * they continue it. Returns false when a new range is needed and @out is
 * full: the caller stops there and resumes at @index.
 */
static bool hotcache_out_add(struct hotcache_out *out, pgoff_t index,
			     unsigned long nr, u32 class)
{
	struct hotcache_range *last = out->nr ? &out->ranges[out->nr - 1] : NULL;

	if (last && last->class == class && last->start + last->count == index) {
		last->count += nr;
		return true;
	}
	if (out->nr == out->cap)
		return false;
	out->ranges[out->nr++] = (struct hotcache_range) {
		.start = index,
		.count = nr,
		.class = class,
	};
	return true;
}

/**
 * hotcache_walk - classify the resident pages of a range of a file
 * @mapping: the file's address space
 * @first: first page index
 * @last: last page index, inclusive
 * @lru: HOTCACHE_LRU_* of the caller's lruvec
 * @out: ranges so far; the walk appends to it
 *
 * Return: the index to resume from, or @last + 1 when the range is done.
 * It is a range boundary, so a resumed walk yields the same ranges as one
 * walk with a bigger buffer.
 */
static pgoff_t hotcache_walk(struct address_space *mapping, pgoff_t first,
			     pgoff_t last, u32 lru, struct hotcache_out *out)
{
	XA_STATE(xas, &mapping->i_pages, first);
	pgoff_t resume = last + 1;
	struct folio *folio;

	rcu_read_lock();
	xas_for_each(&xas, folio, last) {
		pgoff_t start, end;
		u32 class;

		if (xas_retry(&xas, folio))
			continue;
		/* Shadow entries are evicted pages. */
		if (xa_is_value(folio))
			goto next;
		/*
		 * Pin the folio: the class of an MGLRU folio dereferences its
		 * memcg, which must not be a freed and reused folio's.
		 */
		if (!folio_try_get(folio)) {
			xas_reset(&xas);
			continue;
		}
		if (unlikely(folio != xas_reload(&xas))) {
			folio_put(folio);
			xas_reset(&xas);
			continue;
		}
		class = hotcache_folio_class(folio, lru);
		/* A large folio may straddle either end of the range. */
		start = max(folio->index, first);
		end = min(folio->index + folio_nr_pages(folio) - 1, last);
		folio_put(folio);
		if (!hotcache_out_add(out, start, end - start + 1, class)) {
			resume = start;
			break;
		}
next:
		if (need_resched()) {
			xas_pause(&xas);
			rcu_read_unlock();
			cond_resched();
			rcu_read_lock();
		}
	}
	rcu_read_unlock();
	return resume;
}

static int hotcache_check_file(struct file *file)
{
	if (!S_ISREG(file_inode(file)->i_mode))
		return -EINVAL;
	/*
	 * hugetlbfs pages are not on any LRU and are indexed in huge pages.
	 * (is_file_hugepages() would need symbols not exported to modules.)
	 */
	if (file->f_mapping->host->i_sb->s_magic == HUGETLBFS_MAGIC)
		return -EOPNOTSUPP;
	return 0;
}

/*
 * Walk in batches so ranges can be copied out without holding RCU, until
 * the caller's buffer is full or the range is done.
 */
static int hotcache_scan_file(struct file *file, struct hotcache_scan *args,
			      struct hotcache_range __user *uranges)
{
	struct address_space *mapping = file->f_mapping;
	struct hotcache_out out = { .cap = HOTCACHE_BATCH };
	u64 end = args->end;
	pgoff_t next = args->start;
	int ret = 0;

	if (!end)
		end = DIV_ROUND_UP_ULL(i_size_read(file_inode(file)), PAGE_SIZE);
	if (end > (u64)ULONG_MAX)
		end = ULONG_MAX;

	out.ranges = kmalloc_array(HOTCACHE_BATCH, sizeof(*out.ranges),
				   GFP_KERNEL);
	if (!out.ranges)
		return -ENOMEM;

	args->nr_ranges = 0;
	while (next < end && args->nr_ranges < args->max_ranges) {
		out.nr = 0;
		out.cap = min_t(u32, HOTCACHE_BATCH,
				args->max_ranges - args->nr_ranges);
		next = hotcache_walk(mapping, next, end - 1, args->lru, &out);
		if (copy_to_user(uranges + args->nr_ranges, out.ranges,
				 array_size(out.nr, sizeof(*out.ranges)))) {
			ret = -EFAULT;
			break;
		}
		args->nr_ranges += out.nr;
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
	}
	args->next = next;
	kfree(out.ranges);
	return ret;
}

static long hotcache_ioc_scan(void __user *argp)
{
	struct hotcache_scan args;
	struct file *file;
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.flags || args.reserved[0] || args.reserved[1] ||
	    args.reserved[2])
		return -EINVAL;
	if (!args.max_ranges || args.max_ranges > HOTCACHE_MAX_RANGES)
		return -EINVAL;
	if (args.start > (u64)ULONG_MAX)
		return -EINVAL;

	args.lru = hotcache_lru_flavour();
	file = fget(args.fd);
	if (!file)
		return -EBADF;
	ret = hotcache_check_file(file);
	if (!ret)
		ret = hotcache_scan_file(file, &args,
					 u64_to_user_ptr(args.ranges));
	fput(file);
	if (ret)
		return ret;

	if (copy_to_user(argp, &args, sizeof(args)))
		return -EFAULT;
	return 0;
}

static long hotcache_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	switch (cmd) {
	case HOTCACHE_IOC_SCAN:
		return hotcache_ioc_scan((void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations hotcache_fops = {
	.owner = THIS_MODULE,
	.open = nonseekable_open,
	.unlocked_ioctl = hotcache_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice hotcache_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "hotcache",
	.fops = &hotcache_fops,
	.mode = 0600,
};

module_misc_device(hotcache_misc);

MODULE_DESCRIPTION("Report page-cache hotness of files for checkpoint/restore");
MODULE_LICENSE("GPL");
