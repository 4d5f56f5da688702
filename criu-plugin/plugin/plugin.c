// SPDX-License-Identifier: GPL-2.0
/*
 * The CRIU plugin: at dump time, records the hot page cache of the frozen
 * process tree into hotcache.img in the image directory.
 *
 * When: at the earliest point where the tree is frozen and the image
 * directory is open, before anything can ship the images:
 *   CRIU >= 4.1  the first CHECKPOINT_DEVICES call (the root pid comes
 *                first); on 4.x exit(DUMP) runs after the post-dump script,
 *                too late for tools that ship the images from there;
 *   CRIU < 4.1   exit(DUMP), which runs before post-dump there.
 * exit(DUMP) also catches the case where CHECKPOINT_DEVICES never reached
 * us (another plugin answered it first).
 *
 * Never breaks a dump: init() returns 0, hooks return -ENOTSUP so that other
 * plugins still see them, and every failure is logged and swallowed, except
 * in strict mode, where a failed capture at CHECKPOINT_DEVICES fails the dump.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "criu-abi.h"
#include "hotcache/capture.h"
#include "hotcache/config.h"
#include "hotcache/log.h"
#include "notify.h"
#include "restore-start.h"

#define EXPORT __attribute__((visibility("default")))

/* State of one CRIU run, from init() to exit(). */
struct plugin_run {
	bool active;		/* a final dump: capture once */
	bool collected;		/* the capture ran (successfully or not) */
	bool restoring;		/* a restore with hotcache enabled */
	bool noted_init_pid;	/* the restored root pid was handed over */
	struct hc_config cfg;
};

static struct plugin_run run;

static int plugin_init(int stage);
static void plugin_exit(int stage, int ret);
static int resume_devices_late(int pid);

/*
 * Announces 10 hooks, the count of CRIU 3.17: a larger count makes 3.x
 * refuse the plugin. Raised at load time once the running CRIU is known to
 * be 4.1 or newer (see probe_criu()).
 */
EXPORT struct criu_abi_plugin_desc CR_PLUGIN_DESC = {
	.name = "hotcache",
	.init = plugin_init,
	.exit = plugin_exit,
	.version = CRIU_ABI_PLUGIN_VERSION,
	.max_hooks = CRIU_ABI_HOOK_COUNT_3X,
	.hooks = { [CRIU_ABI_HOOK_RESUME_DEVICES_LATE] = (void *)resume_devices_late },
};

/* Captures the tree of @pid into the image directory; 0 or -errno, all logged. */
static int collect(int pid, const char *when)
{
	struct hc_capture_opts opts = {
		.backend = (enum hc_backend_id)run.cfg.backend,
		.tool = CR_PLUGIN_DESC.max_hooks > CRIU_ABI_HOOK_COUNT_3X ? "criu-plugin (criu >= 4.1)" : "criu-plugin (criu < 4.1)",
		.time_limit_ms = (unsigned int)run.cfg.time_limit_ms,
		.scope = (enum hc_scope)run.cfg.scope,
	};
	struct hc_capture *c;
	uint8_t *buf = NULL;
	size_t len = 0;
	int dirfd, ret;

	run.collected = true;
	dirfd = criu_get_image_dir();
	if (dirfd < 0) {
		pr_err("no image directory at %s: nothing captured", when);
		hc_notify_image(-EBADF, 0);
		return -EBADF;
	}
	ret = hc_capture_begin(&c, &opts);
	if (ret < 0) {
		pr_err("no usable backend: nothing captured");
		hc_notify_image(ret, 0);
		return ret;
	}
	ret = hc_capture_tree(c, pid);
	hc_capture_end(c);
	if (ret == 0)
		ret = hc_capture_pack(c, &buf, &len);
	if (ret == 0)
		ret = hc_image_write_at(dirfd, buf, len);
	if (ret == 0) {
		hc_capture_report(c, when);
	} else {
		pr_err("no " HC_IMAGE_FILE " written (%s)", strerror(-ret));
		/* An image left by an earlier dump into this directory would describe another moment. */
		if (unlinkat(dirfd, HC_IMAGE_FILE, 0) == 0)
			pr_warn("removed the " HC_IMAGE_FILE " of an earlier dump");
	}
	hc_notify_image(ret, len);
	free(buf);
	hc_capture_free(c);
	return ret;
}

static void log_setting(void *ctx, const char *key, const char *text)
{
	(void)ctx;
	pr_debug("setting %s=%s", key, text);
}

static int plugin_init(int stage)
{
	memset(&run, 0, sizeof(run));
	if (stage == CRIU_ABI_STAGE_PRE_DUMP) {
		pr_info("pre-dump: disabled, the final dump captures the page cache");
		return 0;
	}
	hc_config_load(&run.cfg);
	hc_config_each(&run.cfg, log_setting, NULL);
	if (run.cfg.disable) {
		pr_info("disabled by HOTCACHE_DISABLE");
		return 0;
	}
	if (stage == CRIU_ABI_STAGE_DUMP) {
		run.active = true;
		pr_info("will capture at %s (backend %s%s)",
			CR_PLUGIN_DESC.max_hooks > CRIU_ABI_HOOK_COUNT_3X && run.cfg.capture_at != HC_CAPTURE_AT_EXIT ? "CHECKPOINT_DEVICES" : "exit(DUMP)",
			hc_backend_name((enum hc_backend_id)run.cfg.backend), run.cfg.strict ? ", strict" : "");
	} else if (stage == CRIU_ABI_STAGE_RESTORE) {
		run.restoring = true;
		hc_restore_start(&run.cfg);
	}
	return 0;
}

/* Restore, per task, root first: hand the root pid to the prefetcher. Never "handled". */
static int resume_devices_late(int pid)
{
	if (run.restoring && !run.noted_init_pid) {
		run.noted_init_pid = true;
		hc_restore_note_init_pid(&run.cfg, pid);
	}
	return -ENOTSUP;
}

/* The host pid of CRIU's root task (exit(DUMP) gets none); 0 if unknown. */
static int criu_root_pid(void)
{
	struct criu_abi_pstree_item **root = dlsym(RTLD_DEFAULT, "root_item");

	return root && *root && (*root)->pid ? (*root)->pid->real : 0;
}

static int checkpoint_devices(int pid)
{
	int root, ret;

	if (!run.active || run.collected || run.cfg.capture_at == HC_CAPTURE_AT_EXIT)
		return -ENOTSUP;
	/*
	 * CRIU stops at the first plugin that answers a call: if another one
	 * answered the root's, our first call is for a child. Capture from the
	 * root all the same, or a subtree would be all we record.
	 */
	root = criu_root_pid();
	if (root <= 0) {
		pr_warn("cannot find CRIU's root task (root_item): capturing from pid %d", pid);
		root = pid;
	}
	ret = collect(root, "CHECKPOINT_DEVICES");
	if (ret < 0 && run.cfg.strict) {
		pr_err("strict mode: failing the dump");
		return -EIO;
	}
	/* Not "handled": other plugins must still see this hook. */
	return -ENOTSUP;
}

static void plugin_exit(int stage, int ret)
{
	int pid;

	if (stage == CRIU_ABI_STAGE_DUMP && run.active && !run.collected) {
		if (ret != 0) {
			pr_info("the dump failed: nothing captured");
		} else {
			pid = criu_root_pid();
			if (pid <= 0)
				pr_err("cannot find CRIU's root task (root_item): nothing captured");
			else if (collect(pid, "exit(DUMP)") < 0 && run.cfg.strict)
				pr_err("strict mode: the capture failed, but exit(DUMP) cannot fail the dump");
		}
	}
	memset(&run, 0, sizeof(run));
}

/*
 * Runs at dlopen(), before CRIU checks the descriptor and sets up a hook
 * list for each of the max_hooks slots: that is the only moment the count
 * can be raised safely. checkpoint_devices() is a CRIU function that appears
 * in 4.1, the first release where CHECKPOINT_DEVICES fires at dump only.
 */
static void __attribute__((constructor)) probe_criu(void)
{
	if (!dlsym(RTLD_DEFAULT, "checkpoint_devices"))
		return;
	CR_PLUGIN_DESC.max_hooks = CRIU_ABI_HOOK_COUNT_41;
	CR_PLUGIN_DESC.hooks[CRIU_ABI_HOOK_CHECKPOINT_DEVICES] = (void *)checkpoint_devices;
}
