// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "memcg.h"
#include "unit.h"

static void path_is(const char *text, int want, const char *path, bool v2)
{
	char got[PATH_MAX] = "";
	bool got_v2 = !v2;
	int ret = hc_cgroup_memory_path(text, got, sizeof(got), &got_v2);

	CHECK(ret == want, "'%s': %d, want %d", text, ret, want);
	if (want == 0)
		CHECK(!strcmp(got, path) && got_v2 == v2, "'%s': %s (v2 %d), want %s (v2 %d)", text, got, got_v2, path, v2);
}

static void the_memory_controllers_line_wins(void)
{
	path_is("9:name=systemd:/\n8:pids:/\n4:memory:/process_api/21e6\n1:cpu:/\n0::/\n", 0, "/process_api/21e6", false);
	path_is("0::/\n5:cpu,memory,pids:/kubepods/pod1/c1\n", 0, "/kubepods/pod1/c1", false);
	path_is("0::/system.slice/a:b.scope\n", 0, "/system.slice/a:b.scope", true);
	path_is("4:memoryless:/x\n0::/y\n", 0, "/y", true);
	path_is("4:cpu:/x\n", -ENOENT, "", false);
	path_is("garbage", -ENOENT, "", false);
	path_is("", -ENOENT, "", false);
}

static struct hc_mount mount(const char *point, const char *root, const char *type, const char *options)
{
	return (struct hc_mount){ .point = (char *)point, .root = (char *)root, .fstype = (char *)type, .options = (char *)options };
}

static void dir_is(const struct hc_mounts *ms, const char *path, bool v2, int want, const char *dir)
{
	char got[PATH_MAX] = "";
	int ret = hc_cgroup_dir(ms, path, v2, got, sizeof(got));

	CHECK(ret == want && (want || !strcmp(got, dir)), "%s (v2 %d): %d '%s', want %d '%s'", path, v2, ret, got, want, dir);
}

static void the_hierarchys_mount_gives_the_directory(void)
{
	struct hc_mount v[] = {
		mount("/sys/fs/cgroup/cpu", "/", "cgroup", "rw,cpu"),
		mount("/sys/fs/cgroup/memory", "/", "cgroup", "rw,memory"),
		mount("/sys/fs/cgroup/unified", "/", "cgroup2", "rw"),
		mount("/inner", "/kubepods/pod1", "cgroup2", "rw"),
	};
	struct hc_mounts ms = { .v = v, .n = 4, .cap = 4 };

	dir_is(&ms, "/process_api/x", false, 0, "/sys/fs/cgroup/memory/process_api/x");
	dir_is(&ms, "/", false, 0, "/sys/fs/cgroup/memory");
	dir_is(&ms, "/a", true, 0, "/sys/fs/cgroup/unified/a");
	ms.v = v + 3;
	ms.n = 1;
	dir_is(&ms, "/kubepods/pod1/c1", true, 0, "/inner/c1");
	dir_is(&ms, "/kubepods/pod1", true, 0, "/inner");
	dir_is(&ms, "/kubepods/pod10", true, -ENOENT, "");
	dir_is(&ms, "/x", false, -ENOENT, "");
}

static void inode_numbers_are_looked_up(void)
{
	uint64_t inos[] = { 3, 9, 35378, 1ull << 40 };
	struct hc_memcg m = { .inos = inos, .n_inos = 4 };

	CHECK(hc_memcg_has(&m, 3) && hc_memcg_has(&m, 35378) && hc_memcg_has(&m, 1ull << 40), "present");
	CHECK(!hc_memcg_has(&m, 0) && !hc_memcg_has(&m, 4) && !hc_memcg_has(&m, 35379), "absent");
	m.n_inos = 0;
	CHECK(!hc_memcg_has(&m, 3), "none");
}

UNIT_TESTS(unit_memcg) = {
	{ "memcg: the memory controller's line of /proc/PID/cgroup, else the v2 one", the_memory_controllers_line_wins },
	{ "memcg: the hierarchy's mount and root give the cgroup's directory", the_hierarchys_mount_gives_the_directory },
	{ "memcg: a page's cgroup inode is looked up in the sorted list", inode_numbers_are_looked_up },
};
const unsigned int unit_memcg_n = UNIT_COUNT(unit_memcg);
