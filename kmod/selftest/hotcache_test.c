// SPDX-License-Identifier: GPL-2.0
/*
 * Test of /dev/hotcache on a real file system, run inside a VM whose kernel
 * has the module loaded (see tools/vm/). Usage: hotcache_test DIR, where DIR
 * is on a disk-backed file system (tmpfs pages do not age like file pages).
 *
 * It writes files, evicts them, reads A three times, B once, leaves C
 * unread, scans each with HOTCACHE_IOC_SCAN and checks the classes, then
 * checks the ioctl's error paths, that a scan resumed from @next with a
 * one-range buffer returns what one big scan returns, that large folios are
 * clipped at the range's edges, and that scans racing with evictions stay
 * valid without a kernel warning; then HOTCACHE_IOC_MEMCG_SCAN (memcg_test.c).
 *
 * Output: one line per check ("ok NAME" / "not ok NAME: why"), then one
 * line "HOTCACHE-RESULT {json}" with the class counts and the verdict.
 * Exit status 0 when every check passed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "memcg_test.h"

#define DEVICE		"/dev/hotcache"
#define FILE_PAGES	1024	/* pages of A, B and C */
#define PATTERN_PAGES	300	/* pages of P, the many-ranges file */
#define HOT_SHARE	90	/* % of A that must be HOT, of B that must be WARM */

static void scan_init(struct hotcache_scan *scan, int fd,
		      struct hotcache_range *ranges, __u32 max_ranges)
{
	memset(scan, 0, sizeof(*scan));
	scan->fd = fd;
	scan->ranges = (unsigned long)ranges;
	scan->max_ranges = max_ranges;
}

/* Runs one scan; returns 0 or the errno of the failed ioctl. */
static int scan_errno(int dev, struct hotcache_scan *scan)
{
	return ioctl(dev, HOTCACHE_IOC_SCAN, scan) ? errno : 0;
}

/* Scans all of @fd with one call; returns ranges written or -errno. */
static int scan_all(int dev, int fd, struct hotcache_range *ranges,
		    __u32 max_ranges, struct hotcache_scan *out)
{
	scan_init(out, fd, ranges, max_ranges);
	if (ioctl(dev, HOTCACHE_IOC_SCAN, out))
		return -errno;
	return (int)out->nr_ranges;
}

/* Checks the uapi's promises on a result and counts pages per class. */
static void check_ranges(const char *name, const struct hotcache_range *r,
			 int n, struct counts *c)
{
	char label[64];
	int i, sorted = 1, valid = 1;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < n; i++) {
		if (!r[i].count || r[i].pad || r[i].class < HOTCACHE_CLASS_RESIDENT ||
		    r[i].class > HOTCACHE_CLASS_HOT)
			valid = 0;
		else
			c->pages[r[i].class] += r[i].count;
		if (i && r[i].start < r[i - 1].start + r[i - 1].count)
			sorted = 0;
		/* Adjacent ranges of one class must have been merged. */
		if (i && r[i].start == r[i - 1].start + r[i - 1].count &&
		    r[i].class == r[i - 1].class)
			sorted = 0;
	}
	snprintf(label, sizeof(label), "%s_ranges_valid", name);
	check(valid, label, "a range has count 0, pad != 0 or a bad class");
	snprintf(label, sizeof(label), "%s_ranges_sorted_merged", name);
	check(sorted, label, "ranges overlap, are unsorted or not merged");
}

static void scan_file(int dev, const char *dir, const char *name,
		      struct hotcache_range *ranges, struct counts *c,
		      __u32 *lru)
{
	struct hotcache_scan scan;
	char path[512], label[64];
	int fd, n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		die(path);
	n = scan_all(dev, fd, ranges, HOTCACHE_MAX_RANGES, &scan);
	snprintf(label, sizeof(label), "scan_%s", name);
	check(n >= 0, label, "ioctl failed: %s", strerror(-n));
	if (n >= 0) {
		snprintf(label, sizeof(label), "scan_%s_done", name);
		check(scan.next >= FILE_PAGES, label, "next %llu < %d",
		      (unsigned long long)scan.next, FILE_PAGES);
		check_ranges(name, ranges, n, c);
		*lru = scan.lru;
	}
	close(fd);
}

static void test_classes(int dev, const char *dir,
			 struct hotcache_range *ranges, struct counts c[3],
			 __u32 *lru)
{
	static const char *const names[] = { "A", "B", "C" };
	char path[512];
	int i, pass;

	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		write_file(path, FILE_PAGES);
		evict(path);
	}
	/* Every page is read, so readahead only brings pages read anyway. */
	snprintf(path, sizeof(path), "%s/A", dir);
	for (pass = 0; pass < 3; pass++)
		read_pass(path, FILE_PAGES, 1, 0);
	snprintf(path, sizeof(path), "%s/B", dir);
	read_pass(path, FILE_PAGES, 1, 0);

	for (i = 0; i < 3; i++)
		scan_file(dev, dir, names[i], ranges, &c[i], lru);

	check(c[0].pages[HOTCACHE_CLASS_HOT] * 100 >= FILE_PAGES * HOT_SHARE,
	      "A_read_3x_is_hot", "hot %lu of %d pages", c[0].pages[3],
	      FILE_PAGES);
	check(c[1].pages[HOTCACHE_CLASS_WARM] * 100 >= FILE_PAGES * HOT_SHARE &&
	      c[1].pages[HOTCACHE_CLASS_HOT] == 0, "B_read_1x_is_warm",
	      "warm %lu hot %lu of %d pages", c[1].pages[2], c[1].pages[3],
	      FILE_PAGES);
	check(resident(&c[2]) == 0, "C_unread_not_resident",
	      "%lu pages resident", resident(&c[2]));
	check(*lru == HOTCACHE_LRU_CLASSIC || *lru == HOTCACHE_LRU_MGLRU,
	      "lru_reported", "lru %u", *lru);
}

static void test_errors(int dev, const char *dir, struct hotcache_range *ranges)
{
	struct hotcache_scan scan;
	char path[512];
	int fd, dirfd, devnull, i;

	snprintf(path, sizeof(path), "%s/A", dir);
	fd = open(path, O_RDONLY);
	dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	devnull = open("/dev/null", O_RDONLY);
	if (fd < 0 || dirfd < 0 || devnull < 0)
		die("open for error tests");

	scan_init(&scan, fd, ranges, 16);
	scan.flags = 1;
	check(scan_errno(dev, &scan) == EINVAL, "flags_rejected", "not EINVAL");
	for (i = 0; i < 3; i++) {
		char label[32];

		snprintf(label, sizeof(label), "reserved%d_rejected", i);
		scan_init(&scan, fd, ranges, 16);
		scan.reserved[i] = 1;
		check(scan_errno(dev, &scan) == EINVAL, label, "not EINVAL");
	}
	scan_init(&scan, fd, ranges, 0);
	check(scan_errno(dev, &scan) == EINVAL, "max_ranges_0_rejected",
	      "not EINVAL");
	scan_init(&scan, fd, ranges, HOTCACHE_MAX_RANGES + 1);
	check(scan_errno(dev, &scan) == EINVAL, "max_ranges_over_max_rejected",
	      "not EINVAL");
	scan_init(&scan, fd, ranges, HOTCACHE_MAX_RANGES);
	check(scan_errno(dev, &scan) == 0, "max_ranges_max_accepted",
	      "%s", strerror(errno));
	scan_init(&scan, dirfd, ranges, 16);
	check(scan_errno(dev, &scan) == EINVAL, "directory_rejected",
	      "not EINVAL");
	scan_init(&scan, devnull, ranges, 16);
	check(scan_errno(dev, &scan) == EINVAL, "chardev_rejected",
	      "not EINVAL");
	scan_init(&scan, 0x7fffffff, ranges, 16);
	check(scan_errno(dev, &scan) == EBADF, "bad_fd_rejected", "not EBADF");
	/* A has resident pages, so the kernel must write through the pointer. */
	scan_init(&scan, fd, (struct hotcache_range *)8, 16);
	check(scan_errno(dev, &scan) == EFAULT, "bad_buffer_efault",
	      "not EFAULT");
	check(ioctl(dev, _IO(HOTCACHE_IOC_MAGIC, 0x7f), 0) == -1 &&
	      errno == ENOTTY, "unknown_ioctl_enotty", "not ENOTTY");

	/* A sub-range: only pages 10..19 may be reported. */
	scan_init(&scan, fd, ranges, 16);
	scan.start = 10;
	scan.end = 20;
	i = scan_errno(dev, &scan);
	check(!i && scan.nr_ranges >= 1 && ranges[0].start == 10 &&
	      ranges[scan.nr_ranges - 1].start + ranges[scan.nr_ranges - 1].count == 20 &&
	      scan.next >= 20, "subrange_clipped", "rc %d nr %u", i,
	      scan.nr_ranges);
	/* Beyond EOF: nothing, done. */
	scan_init(&scan, fd, ranges, 16);
	scan.start = FILE_PAGES + 5;
	check(scan_errno(dev, &scan) == 0 && scan.nr_ranges == 0 &&
	      scan.next >= FILE_PAGES + 5, "start_past_eof_empty",
	      "nr %u next %llu", scan.nr_ranges,
	      (unsigned long long)scan.next);
	close(fd);
	close(dirfd);
	close(devnull);
}

/* Without CAP_SYS_ADMIN the ioctl fails even on an already open device. */
static void test_unprivileged(int dev, const char *dir,
			      struct hotcache_range *ranges)
{
	struct hotcache_scan scan;
	char path[512];
	int fd, status;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/A", dir);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		die(path);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		if (setresuid(65534, 65534, 65534))
			_exit(3);
		scan_init(&scan, fd, ranges, 16);
		_exit(scan_errno(dev, &scan) == EPERM ? 0 : 1);
	}
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid");
	check(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "unprivileged_eperm", "child status %d", status);
	close(fd);
}

/*
 * P gets many ranges: page i is read 3x when i % 3 == 0, once when
 * i % 3 == 1, never when i % 3 == 2. Resuming from @next with room for one
 * range per call must give exactly what one big scan gives.
 */
static void test_restart(int dev, const char *dir,
			 struct hotcache_range *ranges, struct counts *pc)
{
	struct hotcache_range *one = calloc(HOTCACHE_MAX_RANGES, sizeof(*one));
	struct hotcache_scan scan;
	char path[512];
	int fd, n, m = 0, pass, calls = 0, same;

	if (!one)
		die("calloc");
	snprintf(path, sizeof(path), "%s/P", dir);
	write_file(path, PATTERN_PAGES);
	evict(path);
	for (pass = 0; pass < 3; pass++)
		read_pass(path, PATTERN_PAGES, 3, 1);
	/* Pages 1, 4, 7, ...: read once, in a pass of their own. */
	fd = open(path, O_RDONLY);
	if (fd < 0)
		die(path);
	if (posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM))
		die("posix_fadvise RANDOM");
	for (n = 1; n < PATTERN_PAGES; n += 3) {
		char buf[64];

		if (pread(fd, buf, sizeof(buf), (off_t)n * page_size) != sizeof(buf))
			die("pread");
	}

	n = scan_all(dev, fd, ranges, HOTCACHE_MAX_RANGES, &scan);
	check(n > 0, "P_scan", "rc %d", n);
	if (n > 0)
		check_ranges("P", ranges, n, pc);
	check(n >= PATTERN_PAGES / 3, "P_many_ranges", "only %d ranges", n);

	/* Resume one range at a time; memset poisons what was not written. */
	memset(one, 0xcc, HOTCACHE_MAX_RANGES * sizeof(*one));
	scan_init(&scan, fd, one, 1);
	while (scan.next < PATTERN_PAGES && m < HOTCACHE_MAX_RANGES &&
	       calls < 4 * PATTERN_PAGES) {
		__u64 from = scan.next;

		scan_init(&scan, fd, one + m, 1);
		scan.start = from;
		if (scan_errno(dev, &scan))
			break;
		calls++;
		m += scan.nr_ranges;
		if (!scan.nr_ranges)
			break;
	}
	same = n > 0 && m == n && !memcmp(ranges, one, n * sizeof(*one));
	check(same, "restart_tiny_buffer_same", "%d ranges in %d calls vs %d",
	      m, calls, n);
	close(fd);
	free(one);
}

/* Scanning reads flags only: a second scan must see exactly the same. */
static void test_scan_is_stable(int dev, const char *dir,
				struct hotcache_range *ranges)
{
	struct hotcache_range *again = calloc(HOTCACHE_MAX_RANGES, sizeof(*again));
	struct hotcache_scan scan;
	char path[512];
	int fd, n, m;

	if (!again)
		die("calloc");
	snprintf(path, sizeof(path), "%s/A", dir);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		die(path);
	n = scan_all(dev, fd, ranges, HOTCACHE_MAX_RANGES, &scan);
	m = scan_all(dev, fd, again, HOTCACHE_MAX_RANGES, &scan);
	check(n > 0 && m == n && !memcmp(ranges, again, n * sizeof(*again)),
	      "scan_does_not_perturb", "%d then %d ranges", n, m);
	close(fd);
	free(again);
}

static long meminfo_kb(const char *field)
{
	char line[256];
	size_t len = strlen(field);
	long kb = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		die("/proc/meminfo");
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, len) && line[len] == ':')
			kb = strtol(line + len + 1, NULL, 10);
	fclose(f);
	return kb;
}

/* Pages in @r[0..n), after checking they tile [@first, @end) exactly. */
static int tiles(const struct hotcache_range *r, int n, __u64 first, __u64 end)
{
	__u64 at = first;
	int i;

	for (i = 0; i < n; i++) {
		if (r[i].start != at)
			return 0;
		at += r[i].count;
	}
	return at == end;
}

/*
 * Large folios are clipped at the range's edges. ext4 on these kernels
 * caches order-0 folios only, so the file is on tmpfs with huge=always,
 * which stores it in 2 MiB folios.
 */
static void test_large_folios(int dev, const char *dir,
			      struct hotcache_range *ranges)
{
	struct hotcache_scan scan;
	char mnt[512], path[600];
	long before;
	int fd, rc;

	snprintf(mnt, sizeof(mnt), "%s/huge", dir);
	if (mkdir(mnt, 0755) || mount("none", mnt, "tmpfs", 0, "huge=always"))
		die("mount tmpfs huge=always");
	before = meminfo_kb("ShmemHugePages");
	snprintf(path, sizeof(path), "%s/T", mnt);
	write_file(path, FILE_PAGES);
	check(meminfo_kb("ShmemHugePages") - before >= 2048,
	      "large_folios_present", "ShmemHugePages %ld kB -> %ld kB", before,
	      meminfo_kb("ShmemHugePages"));
	fd = open(path, O_RDONLY);
	if (fd < 0)
		die(path);
	rc = scan_all(dev, fd, ranges, HOTCACHE_MAX_RANGES, &scan);
	check(rc > 0 && tiles(ranges, rc, 0, FILE_PAGES), "large_folio_whole",
	      "rc %d", rc);
	/* Both edges fall inside a 512-page folio. */
	scan_init(&scan, fd, ranges, HOTCACHE_MAX_RANGES);
	scan.start = 3;
	scan.end = 517;
	rc = scan_errno(dev, &scan);
	check(!rc && tiles(ranges, (int)scan.nr_ranges, 3, 517) &&
	      scan.next >= 517, "large_folio_clipped",
	      "rc %d, %u ranges from %llu", rc, scan.nr_ranges,
	      (unsigned long long)(scan.nr_ranges ? ranges[0].start : 0));
	close(fd);
	if (umount2(mnt, MNT_DETACH))
		die("umount");
}

/*
 * Scans racing with reads and evictions of the same file: every result
 * must still be valid, and the kernel must not warn (checked in main).
 */
static void test_concurrent_evict(int dev, const char *dir,
				  struct hotcache_range *ranges)
{
	char path[512];
	int fd, status = -1, scans = 0, bad = 0, i;
	struct hotcache_scan scan;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/E", dir);
	write_file(path, FILE_PAGES);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		for (i = 0; i < 40; i++) {
			read_pass(path, FILE_PAGES, 1, 0);
			evict(path);
		}
		_exit(0);
	}
	fd = open(path, O_RDONLY);
	if (fd < 0)
		die(path);
	/* At least one scan, then until the reader is done. */
	do {
		__u64 at = 0;

		/* Small buffers, so the race also hits the resume path. */
		while (at < FILE_PAGES) {
			scan_init(&scan, fd, ranges, 4);
			scan.start = at;
			if (scan_errno(dev, &scan) || scan.next <= at ||
			    scan.nr_ranges > 4) {
				bad++;
				break;
			}
			for (i = 0; i < (int)scan.nr_ranges; i++)
				if (ranges[i].start < at || !ranges[i].count ||
				    ranges[i].start + ranges[i].count > scan.next ||
				    ranges[i].class < HOTCACHE_CLASS_RESIDENT ||
				    ranges[i].class > HOTCACHE_CLASS_HOT)
					bad++;
			at = scan.next;
		}
		scans++;
	} while (waitpid(pid, &status, WNOHANG) == 0);
	check(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "concurrent_reader_ok", "status %d", status);
	check(!bad && scans > 0, "concurrent_evict_scans_valid",
	      "%d bad results in %d scans", bad, scans);
	printf("# %d whole-file scans raced with 40 read+evict rounds\n", scans);
	close(fd);
}

/* TAINT_BAD_PAGE, TAINT_DIE, TAINT_WARN: anything the kernel complained of. */
#define TAINT_COMPLAINTS ((1UL << 5) | (1UL << 7) | (1UL << 9))

static unsigned long taint(void)
{
	unsigned long t = 0;
	FILE *f = fopen("/proc/sys/kernel/tainted", "r");

	if (!f || fscanf(f, "%lu", &t) != 1)
		die("/proc/sys/kernel/tainted");
	fclose(f);
	return t;
}

static void print_counts(const char *name, const struct counts *c, int last)
{
	printf("\"%s\":{\"hot\":%lu,\"warm\":%lu,\"resident\":%lu}%s", name,
	       c->pages[HOTCACHE_CLASS_HOT], c->pages[HOTCACHE_CLASS_WARM],
	       c->pages[HOTCACHE_CLASS_RESIDENT], last ? "" : ",");
}

int main(int argc, char **argv)
{
	struct hotcache_range *ranges;
	struct memcg_result mc;
	struct counts c[3], pc;
	struct utsname uts;
	unsigned long taint_before;
	__u32 lru = 0;
	int dev;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	page_size = sysconf(_SC_PAGESIZE);
	memset(c, 0, sizeof(c));
	memset(&pc, 0, sizeof(pc));
	memset(&mc, 0, sizeof(mc));
	if (uname(&uts))
		die("uname");
	dev = open(DEVICE, O_RDONLY);
	if (dev < 0)
		die(DEVICE);
	ranges = calloc(HOTCACHE_MAX_RANGES, sizeof(*ranges));
	if (!ranges)
		die("calloc");

	taint_before = taint();
	test_classes(dev, argv[1], ranges, c, &lru);
	test_scan_is_stable(dev, argv[1], ranges);
	test_errors(dev, argv[1], ranges);
	test_unprivileged(dev, argv[1], ranges);
	test_restart(dev, argv[1], ranges, &pc);
	test_large_folios(dev, argv[1], ranges);
	test_concurrent_evict(dev, argv[1], ranges);
	test_memcg(dev, argv[1], &mc);
	check(!((taint() & ~taint_before) & TAINT_COMPLAINTS), "kernel_no_warning",
	      "taint %lu -> %lu", taint_before, taint());

	printf("HOTCACHE-RESULT {\"kernel\":\"%s\",\"lru\":%u,", uts.release,
	       lru);
	printf("\"checks\":%d,\"failures\":%d,\"files\":{", checks, failures);
	print_counts("A", &c[0], 0);
	print_counts("B", &c[1], 0);
	print_counts("C", &c[2], 0);
	print_counts("P", &pc, 1);
	printf("},\"memcg\":{");
	print_counts("M1", &mc.m1, 0);
	print_counts("M2", &mc.m2, 0);
	print_counts("M3", &mc.m3, 0);
	print_counts("M4", &mc.m4, 0);
	print_counts("L", &mc.l, 1);
	printf("},\"ok\":%s}\n", failures ? "false" : "true");
	free(ranges);
	close(dev);
	return failures ? 1 : 0;
}
