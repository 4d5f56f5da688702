// SPDX-License-Identifier: GPL-2.0
#include <linux/magic.h>
#include <string.h>

#include "unit.h"
#include "view.h"

static void skipped_as(const char *fstype, const char *want)
{
	const char *got = hc_view_skips_type(fstype);

	CHECK(want ? got && !strcmp(got, want) : !got, "%s: %s, want %s", fstype, got ? got : "looked into", want ? want : "looked into");
}

static void mount_types_by_name(void)
{
	skipped_as("proc", "proc");
	skipped_as("cgroup2", "cgroup");
	skipped_as("fuse.sshfs", "fuse");
	skipped_as("fuseblk", "fuse");
	skipped_as("tmpfs", "tmpfs");
	skipped_as("devpts", "devpts");
	skipped_as("mqueue", "mqueue");
	skipped_as("ext4", NULL);
	skipped_as("overlay", NULL);
	skipped_as("nfs", NULL);
	skipped_as("nfs4", NULL);
	skipped_as("xfs", NULL);
}

/* The contract writes the memory file systems' magic numbers out: the kernel's headers say what they must be. */
static void memory_file_systems_by_number(void)
{
	static const struct {
		unsigned long magic;
		const char *name;
	} memory[] = { { TMPFS_MAGIC, "tmpfs" }, { RAMFS_MAGIC, "ramfs" }, { HUGETLBFS_MAGIC, "hugetlbfs" }, { DEVPTS_SUPER_MAGIC, "devpts" } };
	size_t i;

	for (i = 0; i < sizeof(memory) / sizeof(memory[0]); i++) {
		const char *got = hc_view_skips_magic(memory[i].magic);

		CHECK(got && !strcmp(got, memory[i].name), "0x%lx: %s, want %s", memory[i].magic, got ? got : "looked into", memory[i].name);
	}
	CHECK(!strcmp(hc_view_skips_magic(PROC_SUPER_MAGIC), "proc"), "the refused ones too");
	CHECK(!hc_view_skips_magic(EXT4_SUPER_MAGIC) && !hc_view_skips_magic(OVERLAYFS_SUPER_MAGIC), "storage is looked into");
}

static void joined(const char *point, const char *below, const char *want)
{
	char out[64];

	CHECK(hc_view_path(point, below, out, sizeof(out)) && !strcmp(out, want), "%s + %s: %s, want %s", point, below, out, want);
}

static void paths_below_a_mount_point(void)
{
	char small[8];

	joined("/", "/a/b", "/a/b");
	joined("/", "", "/");
	joined("/data", "/B", "/data/B");
	joined("/data", "", "/data");
	CHECK(!hc_view_path("/data", "/toolong", small, sizeof(small)), "too long for the buffer");
}

UNIT_TESTS(unit_view) = {
	{ "view: mounts not looked into, by the type mountinfo names", mount_types_by_name },
	{ "view: the contract's memory file systems are the kernel's numbers", memory_file_systems_by_number },
	{ "view: a path below a mount point, as the process sees it", paths_below_a_mount_point },
};
const unsigned int unit_view_n = UNIT_COUNT(unit_view);
