// SPDX-License-Identifier: GPL-2.0
/*
 * The restore side of the plugin: start the prefetcher from init(RESTORE),
 * and tell it the restored root pid from RESUME_DEVICES_LATE.
 *
 * Why the plugin does this as well as the action script: CRIU 3.17 and 3.18
 * crash when runc or crun restore with an action script configured, so there
 * the plugin is the only way in; and init(RESTORE) comes before the
 * pre-restore action, so the prefetch starts a little earlier everywhere.
 * The plugin runs the action script itself, as CRIU would at pre-restore, so
 * there is one launcher; its marker (restores/<criu pid>.<start>/claimed)
 * makes sure one restore starts one prefetcher, whoever comes first.
 *
 * init(RESTORE) runs before CRIU installs its SIGCHLD handler: a child may be
 * forked and reaped there. Later hooks must not fork at all, so the root pid
 * is handed over through a file.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "criu-abi.h"
#include "log.h"
#include "restore-start.h"

#define HC_IMAGE_NAME "hotcache.img"
/* The launcher returns at once; this only bounds a broken one. */
#define LAUNCH_TIMEOUT_MS 3000

/* restores/<pid>.<start time>: the key the action script derives from its parent, CRIU. */
static int restore_dir(const struct hc_config *cfg, char *out, size_t size)
{
	char stat[1024], *p;
	unsigned long long start = 0;
	ssize_t n;
	int fd, field, len;

	fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, stat, sizeof(stat) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	stat[n] = '\0';
	/* The command name may hold spaces and parentheses: fields restart after the last ')'. */
	p = strrchr(stat, ')');
	if (!p)
		return -EIO;
	for (field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &start) != 1)
		return -EIO;
	len = snprintf(out, size, "%s/restores/%d.%llu", cfg->state_dir, getpid(), start);
	return len > 0 && (size_t)len < size ? 0 : -ENAMETOOLONG;
}

/* In the child: only stdio survives into the launcher, as with CRIU's own action scripts. */
static void close_other_fds(void)
{
	long fd, max;

#ifdef SYS_close_range
	if (syscall(SYS_close_range, 3u, ~0u, 0u) == 0)
		return;
#endif
	max = sysconf(_SC_OPEN_MAX);
	for (fd = 3; fd < (max > 0 ? max : 65536); fd++)
		close((int)fd);
}

static long elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

/* Logs the launcher's output line by line; true when it closed its end, false when the time is up. */
static bool relay_output(int fd)
{
	char buf[2048];
	size_t used = 0;
	struct timespec start;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		long left = LAUNCH_TIMEOUT_MS - elapsed_ms(&start);
		char *nl;
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return false;
		n = read(fd, buf + used, sizeof(buf) - 1 - used);
		if (n <= 0)
			return true;
		used += (size_t)n;
		buf[used] = '\0';
		while ((nl = strchr(buf, '\n'))) {
			*nl = '\0';
			pr_info("init(RESTORE): %s", buf);
			used -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, used + 1);
		}
		if (used == sizeof(buf) - 1)
			used = 0;	/* an endless line: drop it rather than block */
	}
}

void hc_restore_start(const struct hc_config *cfg)
{
	char image_dir[64];
	int dirfd, out[2], devnull;
	pid_t child;

	if (access(cfg->action_script, X_OK)) {
		pr_info("no action script at %s: the plugin starts no prefetcher", cfg->action_script);
		return;
	}
	dirfd = criu_get_image_dir();
	if (dirfd < 0) {
		pr_info("no image directory at init(RESTORE): the action script starts the prefetcher");
		return;
	}
	if (faccessat(dirfd, HC_IMAGE_NAME, F_OK, 0)) {
		pr_info("no %s in the images: nothing to prefetch", HC_IMAGE_NAME);
		return;
	}
	snprintf(image_dir, sizeof(image_dir), "/proc/%d/fd/%d", getpid(), dirfd);
	if (pipe2(out, O_CLOEXEC)) {
		pr_perror("cannot start %s: pipe", cfg->action_script);
		return;
	}
	child = fork();
	if (child < 0) {
		pr_perror("cannot start %s: fork", cfg->action_script);
		close(out[0]);
		close(out[1]);
		return;
	}
	if (child == 0) {
		devnull = open("/dev/null", O_RDONLY);
		if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out[1], 1) < 0 || dup2(out[1], 2) < 0)
			_exit(126);
		close_other_fds();
		if (setenv("CRTOOLS_SCRIPT_ACTION", "pre-restore", 1) || setenv("CRTOOLS_IMAGE_DIR", image_dir, 1))
			_exit(126);
		execl(cfg->action_script, cfg->action_script, (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	if (!relay_output(out[0])) {
		pr_warn("%s did not return within %d ms: stopped", cfg->action_script, LAUNCH_TIMEOUT_MS);
		kill(child, SIGKILL);
	}
	close(out[0]);
	/* Reaped here, synchronously: nothing of ours is left for CRIU's SIGCHLD handler to see. */
	while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
		;
}

void hc_restore_note_init_pid(const struct hc_config *cfg, int pid)
{
	char dir[4096], text[16];
	int dirfd, fd, len;

	if (restore_dir(cfg, dir, sizeof(dir)))
		return;
	/* Only for a restore whose prefetcher was started (the launcher made the directory). */
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd < 0)
		return;
	fd = openat(dirfd, "init-pid", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd >= 0) {
		len = snprintf(text, sizeof(text), "%d\n", pid);
		if (write(fd, text, (size_t)len) != len)
			pr_perror("cannot write %s/init-pid", dir);
		close(fd);
	} else if (errno != EEXIST) {
		pr_perror("cannot create %s/init-pid", dir);
	}
	close(dirfd);
}
