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
 *
 * HOTCACHE_IOC_MEMCG_SCAN does the same walk for every regular file of the
 * superblocks under the directories it is given, like drop_caches walks a
 * superblock's inodes, keeping only the folios charged to a memory cgroup
 * or one below it; its position (a pinned inode and a page index) lives in
 * the open file, so that each call goes on where the last one stopped.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/cgroup.h>
#include <linux/dcache.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/memcontrol.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/mm_inline.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/mutex.h>
#include <linux/namei.h>
#include <linux/pagemap.h>
#include <linux/path.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>

#include "uapi/hotcache.h"

/* Ranges collected under RCU before they are copied to user space. */
#define HOTCACHE_BATCH	128

/* Inodes of a superblock's list looked at per memcg scan call. */
#define HOTCACHE_MEMCG_VISITS	65536
/* Inodes skipped under the list's lock before it is dropped for a while. */
#define HOTCACHE_MEMCG_SKIPS	1024

/* Output of one walk: a bounded array of ranges being built. */
struct hotcache_out {
	struct hotcache_range *ranges;
	unsigned int nr;
	unsigned int cap;
};

/* A memcg scan under way, between calls. */
struct hotcache_memcg_walk {
	struct cgroup *cgrp;		/* the memory cgroup, referenced */
	struct path *mounts;		/* the directories, referenced */
	u32 nr_mounts;
	u32 sb;				/* index of the mount whose superblock is walked */
	struct inode *inode;		/* the position, referenced; NULL: the start */
	bool pending;			/* @inode is still to report */
	pgoff_t next;			/* ... from this page */
};

/* Per open file of /dev/hotcache. */
struct hotcache_session {
	struct mutex lock;		/* serialises the ioctls of this file */
	struct hotcache_memcg_walk *walk;
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
 * Whether @folio is charged to @cgrp or to a cgroup below it. Called under
 * RCU with the folio pinned, which keeps its memcg alive; a folio moving to
 * another memcg meanwhile may be counted in either.
 */
static bool hotcache_folio_in(struct folio *folio, struct cgroup *cgrp)
{
#ifdef CONFIG_MEMCG
	struct mem_cgroup *memcg = folio_memcg_rcu(folio);

	return memcg && cgroup_is_descendant(memcg->css.cgroup, cgrp);
#else
	return false;
#endif
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
 * @only: when not NULL, folios charged elsewhere are left out
 * @out: ranges so far; the walk appends to it
 *
 * Return: the index to resume from, or @last + 1 when the range is done.
 * It is a range boundary, so a resumed walk yields the same ranges as one
 * walk with a bigger buffer.
 */
static pgoff_t hotcache_walk(struct address_space *mapping, pgoff_t first,
			     pgoff_t last, u32 lru, struct cgroup *only,
			     struct hotcache_out *out)
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
		if (only && !hotcache_folio_in(folio, only)) {
			folio_put(folio);
			goto next;
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
 * Walks [*@next, @end) of @mapping in batches so that ranges are copied out
 * without holding RCU, appending to @uranges after *@nr until @max or the
 * end; *@next is where to resume.
 */
static int hotcache_walk_out(struct address_space *mapping, pgoff_t *next,
			     u64 end, u32 lru, struct cgroup *only,
			     struct hotcache_out *out,
			     struct hotcache_range __user *uranges, u32 max,
			     u32 *nr)
{
	while (*next < end && *nr < max) {
		out->nr = 0;
		out->cap = min_t(u32, HOTCACHE_BATCH, max - *nr);
		*next = hotcache_walk(mapping, *next, end - 1, lru, only, out);
		if (copy_to_user(uranges + *nr, out->ranges,
				 array_size(out->nr, sizeof(*out->ranges))))
			return -EFAULT;
		*nr += out->nr;
		if (fatal_signal_pending(current))
			return -EINTR;
	}
	return 0;
}

/*
 * The pages live in the real inode's cache: on overlayfs that is the upper
 * or lower file's, the overlay's own stays empty (d_real_inode() is the
 * file's own inode everywhere else).
 */
static int hotcache_scan_file(struct file *file, struct hotcache_scan *args,
			      struct hotcache_range __user *uranges)
{
	struct inode *inode = d_real_inode(file->f_path.dentry);
	struct hotcache_out out = { .cap = HOTCACHE_BATCH };
	u64 end = args->end;
	pgoff_t next = args->start;
	int ret;

	if (!end)
		end = DIV_ROUND_UP_ULL(i_size_read(inode), PAGE_SIZE);
	if (end > (u64)ULONG_MAX)
		end = ULONG_MAX;

	out.ranges = kmalloc_array(HOTCACHE_BATCH, sizeof(*out.ranges),
				   GFP_KERNEL);
	if (!out.ranges)
		return -ENOMEM;

	args->nr_ranges = 0;
	ret = hotcache_walk_out(inode->i_mapping, &next, end, args->lru, NULL,
				&out, uranges, args->max_ranges,
				&args->nr_ranges);
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

static void hotcache_memcg_walk_free(struct hotcache_memcg_walk *walk)
{
	u32 i;

	if (!walk)
		return;
	iput(walk->inode);
	for (i = 0; i < walk->nr_mounts; i++)
		path_put(&walk->mounts[i]);
	kfree(walk->mounts);
	if (walk->cgrp)
		cgroup_put(walk->cgrp);
	kfree(walk);
}

/* Takes a reference to the cgroup and to each directory of @args. */
static int hotcache_memcg_walk_new(struct hotcache_memcg_scan *args,
				   struct hotcache_memcg_walk **out)
{
	struct hotcache_memcg_walk *walk;
	struct cgroup *cgrp;
	s32 *fds;
	u32 i;
	int ret = 0;

	if (!args->nr_mounts || args->nr_mounts > HOTCACHE_MAX_MOUNTS)
		return -EINVAL;
	fds = memdup_user(u64_to_user_ptr(args->mounts),
			  array_size(args->nr_mounts, sizeof(*fds)));
	if (IS_ERR(fds))
		return PTR_ERR(fds);
	walk = kzalloc(sizeof(*walk), GFP_KERNEL);
	if (walk)
		walk->mounts = kcalloc(args->nr_mounts, sizeof(*walk->mounts),
				       GFP_KERNEL);
	if (!walk || !walk->mounts) {
		ret = -ENOMEM;
		goto fail;
	}
	/* cgroup2 only: -EBADF for anything else. */
	cgrp = cgroup_get_from_fd(args->cgroup_fd);
	if (IS_ERR(cgrp)) {
		ret = PTR_ERR(cgrp);
		goto fail;
	}
	walk->cgrp = cgrp;
	for (i = 0; i < args->nr_mounts; i++) {
		struct file *file = fds[i] >= 0 ? fget_raw(fds[i]) : NULL;

		if (!file) {
			ret = -EBADF;
			goto fail;
		}
		if (!d_is_dir(file->f_path.dentry)) {
			fput(file);
			ret = -ENOTDIR;
			goto fail;
		}
		walk->mounts[i] = file->f_path;
		path_get(&walk->mounts[i]);
		walk->nr_mounts++;
		fput(file);
	}
	kfree(fds);
	*out = walk;
	return 0;
fail:
	kfree(fds);
	hotcache_memcg_walk_free(walk);
	return ret;
}

/* Where a memcg scan call writes, and how far it got. */
struct hotcache_memcg_out {
	struct hotcache_memcg_scan *args;
	struct hotcache_memcg_file __user *files;
	struct hotcache_range __user *ranges;
	char __user *paths;
	u32 path_used;
	struct hotcache_out batch;
	char *buf;			/* 2 * PATH_MAX */
};

/* Whether an inode on a superblock's list may hold cached file pages. */
static bool hotcache_inode_wanted(struct inode *inode, bool overlay)
{
	if (!S_ISREG(inode->i_mode) ||
	    (READ_ONCE(inode->i_state) & (I_NEW | I_FREEING | I_WILL_FREE)))
		return false;
	/* An overlay inode's own cache is empty: its pages are the real one's. */
	return overlay || !mapping_empty(inode->i_mapping);
}

/*
 * The inode after @prev on @sb's list (the first one when @prev is NULL),
 * referenced, or NULL at the end of the list. Those that cannot hold cached
 * pages are passed over under the list's lock, up to HOTCACHE_MEMCG_SKIPS:
 * then one is taken all the same, as a position to resume from, so that the
 * lock is not held for long. A referenced inode stays on the list (as
 * drop_caches relies on), so its successor can be found from it later.
 */
static struct inode *hotcache_next_inode(struct super_block *sb,
					 struct inode *prev, bool overlay,
					 u32 *visits)
{
	struct inode *inode, *found = NULL;
	u32 skipped = 0;

	spin_lock(&sb->s_inode_list_lock);
	inode = prev ? list_next_entry(prev, i_sb_list) :
		       list_first_entry(&sb->s_inodes, struct inode, i_sb_list);
	list_for_each_entry_from(inode, &sb->s_inodes, i_sb_list) {
		(*visits)++;
		if (!hotcache_inode_wanted(inode, overlay) &&
		    ++skipped < HOTCACHE_MEMCG_SKIPS)
			continue;
		found = igrab(inode);
		if (found)
			break;
	}
	spin_unlock(&sb->s_inode_list_lock);
	return found;
}

/* The first of the walk's directories, from the current one, that @dentry is under; -1 if none. */
static int hotcache_mount_of(struct hotcache_memcg_walk *walk,
			     struct dentry *dentry)
{
	u32 i;

	for (i = walk->sb; i < walk->nr_mounts; i++)
		if (walk->mounts[i].mnt->mnt_sb == dentry->d_sb &&
		    is_subdir(dentry, walk->mounts[i].dentry))
			return i;
	return -1;
}

/*
 * The path of @dentry below @top, in @buf (2 * PATH_MAX), or NULL when it is
 * too long or was moved out from under @top meanwhile.
 */
static const char *hotcache_path_below(struct dentry *dentry,
				       struct dentry *top, char *buf)
{
	char *full, *above;
	size_t n;

	full = dentry_path_raw(dentry, buf, PATH_MAX);
	above = dentry_path_raw(top, buf + PATH_MAX, PATH_MAX);
	if (IS_ERR(full) || IS_ERR(above))
		return NULL;
	if (!strcmp(above, "/"))
		return full;
	n = strlen(above);
	if (strncmp(full, above, n) || full[n] != '/')
		return NULL;
	return full + n;
}

/*
 * Reports the walk's inode from walk->next: 0 when it is done with (its
 * ranges written, or nothing to report), 1 when the output is full first
 * (walk->next says where to resume), or -errno.
 */
static int hotcache_report_inode(struct hotcache_memcg_walk *walk,
				 struct hotcache_memcg_out *o)
{
	struct hotcache_memcg_scan *args = o->args;
	struct inode *inode = walk->inode;
	struct hotcache_memcg_file f = { 0 };
	struct dentry *alias;
	struct inode *real;
	const char *path;
	u32 first, len;
	int ret = 0, mount;
	loff_t size;
	u64 end;

	if (!S_ISREG(inode->i_mode))
		return 0;
	/* A hashed alias: a file that is still linked somewhere. */
	alias = d_find_alias(inode);
	if (!alias)
		return 0;
	mount = hotcache_mount_of(walk, alias);
	real = d_real_inode(alias);
	if (mount < 0 || !real || mapping_empty(real->i_mapping))
		goto out;
	path = hotcache_path_below(alias, walk->mounts[mount].dentry, o->buf);
	if (!path)
		goto out;
	len = strlen(path) + 1;
	if (args->nr_files == args->max_files ||
	    args->nr_ranges == args->max_ranges ||
	    len > args->path_bytes - o->path_used) {
		ret = 1;
		goto out;
	}
	first = args->nr_ranges;
	size = i_size_read(real);
	end = DIV_ROUND_UP_ULL(size, PAGE_SIZE);
	if (end > (u64)ULONG_MAX)
		end = ULONG_MAX;
	ret = hotcache_walk_out(real->i_mapping, &walk->next, end, args->lru,
				walk->cgrp, &o->batch, o->ranges,
				args->max_ranges, &args->nr_ranges);
	if (ret)
		goto out;
	if (args->nr_ranges > first) {
		f.dev = new_encode_dev(inode->i_sb->s_dev);
		f.ino = inode->i_ino;
		f.size = size;
		f.mount = mount;
		f.path = o->path_used;
		f.first_range = first;
		f.nr_ranges = args->nr_ranges - first;
		f.flags = walk->next < end ? HOTCACHE_FILE_MORE : 0;
		if (copy_to_user(o->paths + o->path_used, path, len) ||
		    copy_to_user(o->files + args->nr_files, &f, sizeof(f))) {
			ret = -EFAULT;
			goto out;
		}
		o->path_used += len;
		args->nr_files++;
	}
	ret = walk->next < end ? 1 : 0;
out:
	dput(alias);
	return ret;
}

/* Whether an earlier directory of the walk is on the same superblock as directory @i. */
static bool hotcache_sb_seen(struct hotcache_memcg_walk *walk, u32 i)
{
	u32 j;

	for (j = 0; j < i; j++)
		if (walk->mounts[j].mnt->mnt_sb == walk->mounts[i].mnt->mnt_sb)
			return true;
	return false;
}

/*
 * Goes on with the walk until the output is full, HOTCACHE_MEMCG_VISITS
 * inodes were looked at, or every superblock is done (args->done).
 */
static int hotcache_memcg_run(struct hotcache_memcg_walk *walk,
			      struct hotcache_memcg_out *o)
{
	u32 visits = 0;
	int ret;

	while (walk->sb < walk->nr_mounts) {
		struct super_block *sb = walk->mounts[walk->sb].mnt->mnt_sb;
		struct inode *next;

		if (walk->inode && walk->pending) {
			ret = hotcache_report_inode(walk, o);
			if (ret)
				return ret < 0 ? ret : 0;
			walk->pending = false;
			walk->next = 0;
			if (fatal_signal_pending(current))
				return -EINTR;
			if (visits >= HOTCACHE_MEMCG_VISITS)
				return 0;
			cond_resched();
		}
		next = hotcache_next_inode(sb, walk->inode,
					   sb->s_magic == OVERLAYFS_SUPER_MAGIC,
					   &visits);
		iput(walk->inode);
		walk->inode = next;
		walk->pending = !!next;
		if (next)
			continue;
		do
			walk->sb++;
		while (walk->sb < walk->nr_mounts && hotcache_sb_seen(walk, walk->sb));
	}
	o->args->done = 1;
	return 0;
}

static int hotcache_memcg_check(struct hotcache_memcg_scan *args)
{
	if ((args->flags & ~HOTCACHE_MEMCG_START) || args->reserved[0] ||
	    args->reserved[1] || args->reserved[2] || args->reserved[3])
		return -EINVAL;
	if (!args->max_files || args->max_files > HOTCACHE_MAX_FILES ||
	    !args->max_ranges || args->max_ranges > HOTCACHE_MAX_RANGES ||
	    args->path_bytes < HOTCACHE_MIN_PATH_BYTES ||
	    args->path_bytes > HOTCACHE_MAX_PATH_BYTES)
		return -EINVAL;
	/* What starts a walk is given only then. */
	if (!(args->flags & HOTCACHE_MEMCG_START) &&
	    (args->cgroup_fd || args->mounts || args->nr_mounts))
		return -EINVAL;
	return 0;
}

static long hotcache_ioc_memcg_scan(struct hotcache_session *session,
				    void __user *argp)
{
	struct hotcache_memcg_scan args;
	struct hotcache_memcg_out o = { .args = &args };
	struct hotcache_memcg_walk *walk;
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	ret = hotcache_memcg_check(&args);
	if (ret)
		return ret;
	o.files = u64_to_user_ptr(args.files);
	o.ranges = u64_to_user_ptr(args.ranges);
	o.paths = u64_to_user_ptr(args.paths);
	o.batch.ranges = kmalloc_array(HOTCACHE_BATCH, sizeof(*o.batch.ranges),
				       GFP_KERNEL);
	o.buf = kmalloc(2 * PATH_MAX, GFP_KERNEL);
	if (!o.batch.ranges || !o.buf) {
		ret = -ENOMEM;
		goto free;
	}

	mutex_lock(&session->lock);
	if (args.flags & HOTCACHE_MEMCG_START) {
		ret = hotcache_memcg_walk_new(&args, &walk);
		if (ret)
			goto unlock;
		hotcache_memcg_walk_free(session->walk);
		session->walk = walk;
	} else if (!session->walk) {
		ret = -EINVAL;
		goto unlock;
	}
	args.nr_files = 0;
	args.nr_ranges = 0;
	args.done = 0;
	args.lru = hotcache_lru_flavour();
	ret = hotcache_memcg_run(session->walk, &o);
	if (!ret && args.done) {
		hotcache_memcg_walk_free(session->walk);
		session->walk = NULL;
	}
	if (!ret && copy_to_user(argp, &args, sizeof(args)))
		ret = -EFAULT;
unlock:
	mutex_unlock(&session->lock);
free:
	kfree(o.buf);
	kfree(o.batch.ranges);
	return ret;
}

static int hotcache_open(struct inode *inode, struct file *file)
{
	struct hotcache_session *session;

	session = kzalloc(sizeof(*session), GFP_KERNEL);
	if (!session)
		return -ENOMEM;
	mutex_init(&session->lock);
	/* misc_open() left the miscdevice there; nothing here needs it. */
	file->private_data = session;
	return nonseekable_open(inode, file);
}

static int hotcache_release(struct inode *inode, struct file *file)
{
	struct hotcache_session *session = file->private_data;

	hotcache_memcg_walk_free(session->walk);
	mutex_destroy(&session->lock);
	kfree(session);
	return 0;
}

static long hotcache_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	switch (cmd) {
	case HOTCACHE_IOC_SCAN:
		return hotcache_ioc_scan((void __user *)arg);
	case HOTCACHE_IOC_MEMCG_SCAN:
		return hotcache_ioc_memcg_scan(file->private_data,
					       (void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations hotcache_fops = {
	.owner = THIS_MODULE,
	.open = hotcache_open,
	.release = hotcache_release,
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
