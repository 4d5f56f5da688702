/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The part of CRIU's plugin interface this plugin uses, declared here in our
 * own words instead of including the installed criu-plugin.h.
 *
 * Why: a descriptor built from a 4.x header announces 12 or more hooks, and
 * CRIU 3.17..3.19 refuses to load any plugin whose max_hooks exceeds its own
 * count of 10 ("Corrupted plugin"), which fails every dump on the host. We
 * declare 10 and raise the count at load time only when the running CRIU is
 * known to be new enough (see plugin.c).
 *
 * Facts (stable from CRIU 3.17.1 to 4.2, see research/criu.md):
 *  - the loader dlsym()s "CR_PLUGIN_DESC" and checks version <= 0.2.0 and
 *    max_hooks <= its own hook count;
 *  - it reads only hooks[0 .. max_hooks - 1] from our descriptor;
 *  - a hook returning -ENOTSUP means "not mine": CRIU asks the next plugin.
 */
#ifndef HOTCACHE_CRIU_ABI_H
#define HOTCACHE_CRIU_ABI_H

/* Plugin ABI version 0.2.0, encoded as (major << 16) + (minor << 8) + sub. */
#define CRIU_ABI_PLUGIN_VERSION ((0u << 16) + (2u << 8) + 0u)

/* Hook slots; only the ones named here matter to us. */
enum criu_abi_hook {
	CRIU_ABI_HOOK_HANDLE_DEVICE_VMA = 7,	/* never registered: it would claim VMAs */
	CRIU_ABI_HOOK_RESUME_DEVICES_LATE = 9,	/* restore: per task, root first, before pre-resume */
	CRIU_ABI_HOOK_COUNT_3X = 10,		/* hook count of CRIU 3.17 .. 3.19 */
	CRIU_ABI_HOOK_PAUSE_DEVICES = 10,	/* CRIU >= 4.0 */
	CRIU_ABI_HOOK_CHECKPOINT_DEVICES = 11,	/* CRIU >= 4.0; on 4.1+ dump only, tree frozen */
	CRIU_ABI_HOOK_COUNT_41 = 12,		/* hook count of CRIU 4.0 .. 4.1.1 */
};

/* The stage passed to init() and exit(). */
enum criu_abi_stage {
	CRIU_ABI_STAGE_DUMP = 0,
	CRIU_ABI_STAGE_PRE_DUMP = 1,
	CRIU_ABI_STAGE_RESTORE = 2,
};

/* CRIU log levels for print_on_level(). */
enum criu_abi_loglevel {
	CRIU_ABI_LOG_MSG = 0,
	CRIU_ABI_LOG_ERROR = 1,
	CRIU_ABI_LOG_WARN = 2,
	CRIU_ABI_LOG_INFO = 3,
	CRIU_ABI_LOG_DEBUG = 4,
};

/* Layout of the exported descriptor, as CRIU reads it. */
struct criu_abi_plugin_desc {
	const char *name;
	int (*init)(int stage);
	void (*exit)(int stage, int ret);
	unsigned int version;
	unsigned int max_hooks;
	void *hooks[CRIU_ABI_HOOK_COUNT_41];
};

/* Exported by the criu binary (linked -rdynamic). */
extern int criu_get_image_dir(void);	/* image dir fd, -1 once closed */
extern void print_on_level(unsigned int loglevel, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Prefix of CRIU's internal process tree, used only on 3.x to find the root
 * pid in exit(DUMP): `root_item` points at a struct pstree_item whose fourth
 * member is a struct pid *, whose second member is the host pid. Identical
 * from 3.17.1 to criu-dev; nothing past these members is touched.
 */
struct criu_abi_list_head {
	void *next;
	void *prev;
};

struct criu_abi_pid {
	void *item;
	int real;
};

struct criu_abi_pstree_item {
	void *parent;
	struct criu_abi_list_head children;
	struct criu_abi_list_head sibling;
	struct criu_abi_pid *pid;
};

#endif /* HOTCACHE_CRIU_ABI_H */
