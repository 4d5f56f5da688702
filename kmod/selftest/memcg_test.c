// SPDX-License-Identifier: GPL-2.0
/*
 * HOTCACHE_IOC_MEMCG_SCAN in the VM, on cgroup v2. A process of cgroup X
 * reads M1 three times, M2 once, every fourth page of M5 and, through an
 * overlayfs mount, L three times; a process of cgroup Y reads M3; M4 is
 * never read. Scanning X with the disk's directory and the overlay mount
 * must list M1 hot, M2 warm, M5 as 64 ranges and L hot (under the overlay,
 * with the lower file's pages, which the disk's directory shows as lower/l
 * too), and neither M3 nor M4; a scan resumed with room for one file and one
 * range per call must list exactly what one call with big buffers lists; the
 * error paths must hold; and scans racing with files created, read and
 * unlinked in X must return valid records. HOTCACHE_IOC_SCAN of L through
 * the overlay sees the lower file's pages too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "memcg_test.h"

#define CGROOT		"/sys/fs/cgroup"
#define MEMCG_PAGES	256
#define MAX_ENTRIES	64
#define MAX_ENTRY_RANGES 512
#define RACE_FILES	100

/* A file as the scans list it, its records merged. */
struct entry {
	__u64 dev;
	__u64 ino;
	__u32 mount;
	char path[256];
	unsigned int nr;
	struct hotcache_range ranges[MAX_ENTRY_RANGES];
};

struct listing {
	struct entry v[MAX_ENTRIES];
	int n;
	int calls;
	int invalid;		/* records that broke the uapi's promises */
};

/* Buffers of one scan: capacities per call. */
struct scan_room {
	__u32 files;
	__u32 ranges;
	__u32 path_bytes;
};

static void write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		die(path);
	close(fd);
}

static void setup_cgroups(void)
{
	if (mount("none", CGROOT, "cgroup2", 0, NULL) && errno != EBUSY)
		die("mount cgroup2");
	write_text(CGROOT "/cgroup.subtree_control", "+memory");
	if ((mkdir(CGROOT "/x", 0755) && errno != EEXIST) ||
	    (mkdir(CGROOT "/y", 0755) && errno != EEXIST))
		die("mkdir cgroups");
}

/* Starts @fn(@dir) in a child that has joined @cgroup; its pid. */
static pid_t start_in(const char *cgroup, void (*fn)(const char *dir),
		      const char *dir)
{
	char procs[128];
	pid_t pid;

	snprintf(procs, sizeof(procs), CGROOT "/%s/cgroup.procs", cgroup);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		write_text(procs, "0");
		fn(dir);
		_exit(0);
	}
	return pid;
}

/* Runs @fn(@dir) in a child that has joined @cgroup, and waits for it. */
static void run_in(const char *cgroup, void (*fn)(const char *dir),
		   const char *dir)
{
	pid_t pid = start_in(cgroup, fn, dir);
	int status;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		die("child in a cgroup");
}

static void path_of(char *out, size_t size, const char *dir, const char *name)
{
	snprintf(out, size, "%s/%s", dir, name);
}

static void reads_of_x(const char *dir)
{
	char path[512];
	int pass;

	path_of(path, sizeof(path), dir, "m1");
	for (pass = 0; pass < 3; pass++)
		read_pass(path, MEMCG_PAGES, 1, 0);
	path_of(path, sizeof(path), dir, "m2");
	read_pass(path, MEMCG_PAGES, 1, 0);
	path_of(path, sizeof(path), dir, "ovl/l");
	for (pass = 0; pass < 3; pass++)
		read_pass(path, MEMCG_PAGES, 1, 0);
	/* Every fourth page, no readahead: many ranges, for the resumed scans. */
	path_of(path, sizeof(path), dir, "m5");
	for (pass = 0; pass < 3; pass++)
		read_pass(path, MEMCG_PAGES, 4, 1);
}

static void reads_of_y(const char *dir)
{
	char path[512];

	path_of(path, sizeof(path), dir, "m3");
	read_pass(path, MEMCG_PAGES, 1, 0);
}

static void setup_files(const char *dir)
{
	static const char *const names[] = { "m1", "m2", "m3", "m4", "m5", "lower/l" };
	char path[512], options[2048];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		path_of(path, sizeof(path), dir, names[i]);
		if (i == 5) {
			path_of(options, sizeof(options), dir, "lower");
			mkdir(options, 0755);
		}
		write_file(path, MEMCG_PAGES);
		evict(path);
	}
	for (i = 0; i < 3; i++) {
		static const char *const dirs[] = { "upper", "work", "ovl" };

		path_of(path, sizeof(path), dir, dirs[i]);
		if (mkdir(path, 0755) && errno != EEXIST)
			die(path);
	}
	snprintf(options, sizeof(options),
		 "lowerdir=%s/lower,upperdir=%s/upper,workdir=%s/work", dir,
		 dir, dir);
	path_of(path, sizeof(path), dir, "ovl");
	if (mount("overlay", path, "overlay", 0, options))
		die("mount overlay");
}

static void scan_args(struct hotcache_memcg_scan *s, void *files,
		      void *ranges, char *paths, const struct scan_room *room)
{
	memset(s, 0, sizeof(*s));
	s->files = (unsigned long)files;
	s->max_files = room->files;
	s->ranges = (unsigned long)ranges;
	s->max_ranges = room->ranges;
	s->paths = (unsigned long)paths;
	s->path_bytes = room->path_bytes;
}

static int ioctl_errno(int dev, struct hotcache_memcg_scan *s)
{
	return ioctl(dev, HOTCACHE_IOC_MEMCG_SCAN, s) ? errno : 0;
}

/*
 * Adds one record to @l, checking it; merges it into the last entry when it
 * goes on with the same file.
 */
static void add_record(struct listing *l, const struct hotcache_memcg_scan *s,
		       const struct hotcache_memcg_file *f,
		       const struct hotcache_range *r, const char *paths,
		       __u32 nr_mounts)
{
	struct entry *e = l->n ? &l->v[l->n - 1] : NULL;
	__u32 i;

	if (f->mount >= nr_mounts || !f->nr_ranges || f->pad ||
	    f->first_range + f->nr_ranges > s->nr_ranges ||
	    f->path >= s->path_bytes || paths[f->path] != '/' ||
	    !memchr(paths + f->path, 0, s->path_bytes - f->path)) {
		l->invalid++;
		return;
	}
	if (!e || e->dev != f->dev || e->ino != f->ino) {
		if (l->n == MAX_ENTRIES)
			return;
		e = &l->v[l->n++];
		memset(e, 0, sizeof(*e));
		e->dev = f->dev;
		e->ino = f->ino;
		e->mount = f->mount;
		snprintf(e->path, sizeof(e->path), "%s", paths + f->path);
	}
	for (i = 0; i < f->nr_ranges; i++) {
		const struct hotcache_range *x = &r[f->first_range + i];
		const struct hotcache_range *last = e->nr ? &e->ranges[e->nr - 1] : NULL;

		if (!x->count || x->pad || x->class < HOTCACHE_CLASS_RESIDENT ||
		    x->class > HOTCACHE_CLASS_HOT ||
		    (last && x->start < last->start + last->count) ||
		    (last && x->start == last->start + last->count &&
		     x->class == last->class)) {
			l->invalid++;
			continue;
		}
		if (e->nr < MAX_ENTRY_RANGES)
			e->ranges[e->nr++] = *x;
	}
}

/* Scans cgroup @cgfd over @mounts with @room per call; 0 or the failed call's errno. */
static int scan_memcg(int dev, int cgfd, const int *mounts, __u32 nr_mounts,
		      const struct scan_room *room, struct listing *l)
{
	struct hotcache_memcg_file *files = calloc(room->files, sizeof(*files));
	struct hotcache_range *ranges = calloc(room->ranges, sizeof(*ranges));
	char *paths = calloc(room->path_bytes, 1);
	struct hotcache_memcg_scan s;
	int err = 0;
	__u32 i;

	if (!files || !ranges || !paths)
		die("calloc");
	memset(l, 0, sizeof(*l));
	scan_args(&s, files, ranges, paths, room);
	s.flags = HOTCACHE_MEMCG_START;
	s.cgroup_fd = cgfd;
	s.mounts = (unsigned long)mounts;
	s.nr_mounts = nr_mounts;
	for (;;) {
		err = ioctl_errno(dev, &s);
		if (err)
			break;
		l->calls++;
		if (s.nr_files > room->files || s.nr_ranges > room->ranges) {
			l->invalid++;
			break;
		}
		for (i = 0; i < s.nr_files; i++)
			add_record(l, &s, &files[i], ranges, paths, nr_mounts);
		if (s.done || l->calls > 1000000)
			break;
		scan_args(&s, files, ranges, paths, room);
	}
	free(files);
	free(ranges);
	free(paths);
	return err;
}

static const struct entry *find(const struct listing *l, __u32 mount,
				const char *path)
{
	int i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].mount == mount && !strcmp(l->v[i].path, path))
			return &l->v[i];
	return NULL;
}

static void count(const struct entry *e, struct counts *c)
{
	unsigned int i;

	memset(c, 0, sizeof(*c));
	for (i = 0; e && i < e->nr; i++)
		c->pages[e->ranges[i].class] += e->ranges[i].count;
}

/* Whether @e is the file at @path, by device and inode number. */
static int same_file(const struct entry *e, const char *path)
{
	struct stat st;

	return e && !stat(path, &st) && e->ino == st.st_ino &&
	       e->dev == (__u64)st.st_dev;
}

static int same_listing(const struct listing *a, const struct listing *b)
{
	int i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++) {
		const struct entry *x = &a->v[i], *y = find(b, x->mount, x->path);

		if (!y || y->nr != x->nr || y->dev != x->dev || y->ino != x->ino ||
		    memcmp(x->ranges, y->ranges, x->nr * sizeof(x->ranges[0])))
			return 0;
	}
	return 1;
}

static void test_errors(int cgfd, const int *mounts, const char *dir)
{
	static const struct scan_room room = { 16, 16, 4096 };
	struct hotcache_memcg_file files[16];
	struct hotcache_range ranges[16];
	struct hotcache_memcg_scan s;
	char paths[4096], file[512];
	int fresh, filefd, bad[1];

	fresh = open("/dev/hotcache", O_RDONLY);
	path_of(file, sizeof(file), dir, "m4");
	filefd = open(file, O_RDONLY);
	if (fresh < 0 || filefd < 0)
		die("open for memcg error tests");

#define START(what)							\
	do {								\
		scan_args(&s, files, ranges, paths, &room);		\
		s.flags = HOTCACHE_MEMCG_START;				\
		s.cgroup_fd = cgfd;					\
		s.mounts = (unsigned long)mounts;			\
		s.nr_mounts = 2;					\
		what;							\
	} while (0)

	scan_args(&s, files, ranges, paths, &room);
	check(ioctl_errno(fresh, &s) == EINVAL, "memcg_no_walk_rejected",
	      "going on without a walk started");
	START(s.flags = 2);
	check(ioctl_errno(fresh, &s) == EINVAL, "memcg_flags_rejected", "not EINVAL");
	START(s.reserved[3] = 1);
	check(ioctl_errno(fresh, &s) == EINVAL, "memcg_reserved_rejected", "not EINVAL");
	START(s.nr_mounts = 0);
	check(ioctl_errno(fresh, &s) == EINVAL, "memcg_no_mounts_rejected", "not EINVAL");
	START(s.nr_mounts = HOTCACHE_MAX_MOUNTS + 1);
	check(ioctl_errno(fresh, &s) == EINVAL, "memcg_too_many_mounts_rejected", "not EINVAL");
	START(s.max_files = 0);
	check(ioctl_errno(fresh, &s) == EINVAL, "memcg_no_file_room_rejected", "not EINVAL");
	START(s.max_ranges = HOTCACHE_MAX_RANGES + 1);
	check(ioctl_errno(fresh, &s) == EINVAL, "memcg_max_ranges_over_max_rejected", "not EINVAL");
	START(s.path_bytes = HOTCACHE_MIN_PATH_BYTES - 1);
	check(ioctl_errno(fresh, &s) == EINVAL, "memcg_path_room_under_min_rejected", "not EINVAL");
	START(s.cgroup_fd = filefd);
	check(ioctl_errno(fresh, &s) == EBADF, "memcg_not_a_cgroup_ebadf", "not EBADF");
	bad[0] = filefd;
	START(s.mounts = (unsigned long)bad; s.nr_mounts = 1);
	check(ioctl_errno(fresh, &s) == ENOTDIR, "memcg_mount_not_a_dir_enotdir", "not ENOTDIR");
	bad[0] = 0x7fffffff;
	START(s.mounts = (unsigned long)bad; s.nr_mounts = 1);
	check(ioctl_errno(fresh, &s) == EBADF, "memcg_bad_mount_fd_ebadf", "not EBADF");
	START(s.mounts = 8);
	check(ioctl_errno(fresh, &s) == EFAULT, "memcg_bad_mounts_pointer_efault", "not EFAULT");
	/* M1's pages are charged to X: the kernel must write through the pointer. */
	START(s.files = 8);
	check(ioctl_errno(fresh, &s) == EFAULT, "memcg_bad_files_pointer_efault", "not EFAULT");
	START((void)0);
	check(ioctl_errno(fresh, &s) == 0, "memcg_start_ok", "%s", strerror(errno));
	scan_args(&s, files, ranges, paths, &room);
	s.cgroup_fd = cgfd;
	check(ioctl_errno(fresh, &s) == EINVAL, "memcg_start_fields_later_rejected",
	      "not EINVAL");
#undef START
	close(filefd);
	close(fresh);
}

static void test_unprivileged(int dev, int cgfd, const int *mounts)
{
	static const struct scan_room room = { 16, 16, 4096 };
	struct hotcache_memcg_file files[16];
	struct hotcache_range ranges[16];
	struct hotcache_memcg_scan s;
	char paths[4096];
	int status;
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (!pid) {
		if (setresuid(65534, 65534, 65534))
			_exit(3);
		scan_args(&s, files, ranges, paths, &room);
		s.flags = HOTCACHE_MEMCG_START;
		s.cgroup_fd = cgfd;
		s.mounts = (unsigned long)mounts;
		s.nr_mounts = 2;
		_exit(ioctl_errno(dev, &s) == EPERM ? 0 : 1);
	}
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid");
	check(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "memcg_unprivileged_eperm", "child status %d", status);
}

static void race_files(const char *dir)
{
	char path[512];
	int i;

	for (i = 0; i < RACE_FILES; i++) {
		snprintf(path, sizeof(path), "%s/race-%d", dir, i % 4);
		write_file(path, 64);
		read_pass(path, 64, 1, 0);
		if (i % 3 == 0)
			evict(path);
		if (unlink(path))
			die("unlink");
	}
}

/*
 * Files created, read, evicted and unlinked in X while X is scanned with
 * small buffers: every record must stay valid, and the kernel quiet
 * (checked at the end of the whole test).
 */
static void test_concurrent(int dev, int cgfd, const int *mounts,
			    const char *dir)
{
	static const struct scan_room room = { 2, 4, 4096 };
	struct listing *l = malloc(sizeof(*l));
	int scans = 0, invalid = 0, failed = 0, status = -1;
	pid_t pid;

	if (!l)
		die("malloc");
	pid = start_in("x", race_files, dir);
	do {
		if (scan_memcg(dev, cgfd, mounts, 2, &room, l))
			failed++;
		invalid += l->invalid;
		scans++;
	} while (waitpid(pid, &status, WNOHANG) == 0);
	check(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "memcg_racing_child_ok", "status %d", status);
	check(!invalid && !failed && scans > 0, "memcg_racing_scans_valid",
	      "%d invalid records, %d failed scans in %d", invalid, failed,
	      scans);
	printf("# %d memcg scans raced with %d files created, read and unlinked\n",
	       scans, RACE_FILES);
	free(l);
}

void test_memcg(int dev, const char *dir, struct memcg_result *out)
{
	static const struct scan_room big = { 4096, HOTCACHE_MAX_RANGES, 1 << 20 };
	static const struct scan_room tiny = { 1, 1, HOTCACHE_MIN_PATH_BYTES };
	struct listing *l = malloc(sizeof(*l)), *t = malloc(sizeof(*t));
	const struct entry *lower, *upper;
	struct hotcache_range ranges[64];
	struct hotcache_scan scan;
	char path[512];
	int mounts[2], cgfd, err, fd;

	if (!l || !t)
		die("malloc");
	setup_cgroups();
	setup_files(dir);
	run_in("x", reads_of_x, dir);
	run_in("y", reads_of_y, dir);
	cgfd = open(CGROOT "/x", O_RDONLY | O_DIRECTORY);
	mounts[0] = open(dir, O_PATH | O_DIRECTORY);
	path_of(path, sizeof(path), dir, "ovl");
	mounts[1] = open(path, O_PATH | O_DIRECTORY);
	if (cgfd < 0 || mounts[0] < 0 || mounts[1] < 0)
		die("open cgroup or mounts");

	err = scan_memcg(dev, cgfd, mounts, 2, &big, l);
	check(!err && !l->invalid, "memcg_scan", "%s, %d invalid records",
	      strerror(err), l->invalid);
	count(find(l, 0, "/m1"), &out->m1);
	count(find(l, 0, "/m2"), &out->m2);
	count(find(l, 0, "/m3"), &out->m3);
	count(find(l, 0, "/m4"), &out->m4);
	count(find(l, 1, "/l"), &out->l);
	check(out->m1.pages[HOTCACHE_CLASS_HOT] * 100 >= MEMCG_PAGES * 90,
	      "memcg_m1_read_3x_is_hot", "hot %lu", out->m1.pages[3]);
	check(out->m2.pages[HOTCACHE_CLASS_WARM] * 100 >= MEMCG_PAGES * 90 &&
	      !out->m2.pages[HOTCACHE_CLASS_HOT], "memcg_m2_read_1x_is_warm",
	      "warm %lu hot %lu", out->m2.pages[2], out->m2.pages[3]);
	check(!resident(&out->m3), "memcg_m3_other_cgroup_absent",
	      "%lu pages", resident(&out->m3));
	check(!resident(&out->m4), "memcg_m4_unread_absent", "%lu pages",
	      resident(&out->m4));
	check(find(l, 0, "/m5") && find(l, 0, "/m5")->nr == MEMCG_PAGES / 4,
	      "memcg_m5_every_fourth_page", "%u ranges",
	      find(l, 0, "/m5") ? find(l, 0, "/m5")->nr : 0);
	check(out->l.pages[HOTCACHE_CLASS_HOT] * 100 >= MEMCG_PAGES * 90,
	      "memcg_overlay_l_read_3x_is_hot", "hot %lu", out->l.pages[3]);
	path_of(path, sizeof(path), dir, "m1");
	check(same_file(find(l, 0, "/m1"), path), "memcg_m1_dev_ino",
	      "not the device and inode stat(2) gives");
	path_of(path, sizeof(path), dir, "ovl/l");
	check(same_file(find(l, 1, "/l"), path), "memcg_overlay_dev_ino",
	      "not the device and inode stat(2) gives through the overlay");
	/* The disk shows the lower file too: listed there as well, the same pages. */
	lower = find(l, 0, "/lower/l");
	upper = find(l, 1, "/l");
	check(lower && upper && lower->nr == upper->nr &&
	      !memcmp(lower->ranges, upper->ranges, upper->nr * sizeof(upper->ranges[0])),
	      "memcg_overlay_lower_file_under_the_disk", "not listed, or not the same pages");

	err = scan_memcg(dev, cgfd, mounts, 2, &tiny, t);
	check(!err && !t->invalid && same_listing(l, t) && t->calls >= l->n,
	      "memcg_restart_tiny_buffers_same", "%s, %d files in %d calls vs %d",
	      strerror(err), t->n, t->calls, l->n);

	/* HOTCACHE_IOC_SCAN through the overlay reads the lower file's cache. */
	fd = open(path, O_RDONLY);
	memset(&scan, 0, sizeof(scan));
	scan.fd = fd;
	scan.ranges = (unsigned long)ranges;
	scan.max_ranges = 64;
	err = fd < 0 || ioctl(dev, HOTCACHE_IOC_SCAN, &scan) ? errno : 0;
	check(!err && scan.nr_ranges >= 1 && ranges[0].class == HOTCACHE_CLASS_HOT &&
	      ranges[0].count * 100 >= MEMCG_PAGES * 90, "scan_through_overlay",
	      "%s, %u ranges", strerror(err), scan.nr_ranges);
	if (fd >= 0)
		close(fd);

	test_errors(cgfd, mounts, dir);
	test_unprivileged(dev, cgfd, mounts);
	test_concurrent(dev, cgfd, mounts, dir);
	close(cgfd);
	close(mounts[0]);
	close(mounts[1]);
	path_of(path, sizeof(path), dir, "ovl");
	if (umount2(path, MNT_DETACH))
		die("umount overlay");
	free(l);
	free(t);
}
