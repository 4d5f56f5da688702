// SPDX-License-Identifier: GPL-2.0
/*
 * hotcache-capture: the plugin's capture, without CRIU.
 *
 *   hotcache-capture [--backend B] [--out DIR] [--time-limit-ms N]
 *                    (--pid PID [--scope S] | --cgroup DIR | FILE...)
 *       captures and writes DIR/hotcache.img (atomically), or the framed
 *       image to stdout; past N ms it stops, marked partial. --pid: the
 *       process tree (scope tree), and with scope cgroup the file pages
 *       charged to its memory cgroup (auto: when it has one of its own, as
 *       the plugin decides at a dump); --cgroup: the file pages charged to
 *       that memory cgroup, as its first process sees the files. The
 *       backend, the time limit and the scope default to HOTCACHE_BACKEND,
 *       HOTCACHE_TIME_LIMIT_MS and HOTCACHE_SCOPE of the configuration, read
 *       as the plugin reads it;
 *   hotcache-capture --probe [--backend B]
 *       prints, as one JSON line, the backend a capture would use here, the
 *       kernel's LRU as it sees it and whether it tells hot from warm
 *       (hotcache doctor asks this).
 * Exit codes: 0 done, 1 failure, 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hotcache/capture.h"
#include "hotcache/config.h"
#include "hotcache/log.h"

#define USAGE "usage: hotcache-capture [--backend kmod|kpageflags|mincore] [--out DIR] [--time-limit-ms N]\n" \
	      "                        (--pid PID [--scope auto|tree|cgroup] | --cgroup DIR | FILE...)\n" \
	      "       hotcache-capture --probe [--backend kmod|kpageflags|mincore]\n"

static int usage(const char *why)
{
	fprintf(stderr, "hotcache-capture: %s\n" USAGE, why);
	return 2;
}

static int probe(enum hc_backend_id want)
{
	static const char *const lrus[] = { HC_LRU_NAMES };
	struct hc_probe p;

	if (hc_probe(want, &p) < 0) {
		puts("{\"backend\":null}");
		return 1;
	}
	printf("{\"backend\":\"%s\",\"lru\":\"%s\",\"hotWarmExact\":%s}\n", hc_backend_name(p.backend), lrus[p.lru],
	       p.hot_warm_exact ? "true" : "false");
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "backend", required_argument, NULL, 'b' },
		{ "out", required_argument, NULL, 'o' },
		{ "pid", required_argument, NULL, 'p' },
		{ "time-limit-ms", required_argument, NULL, 't' },
		{ "scope", required_argument, NULL, 's' },
		{ "cgroup", required_argument, NULL, 'c' },
		{ "probe", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct hc_capture_opts opts = { .tool = "hotcache-capture" };
	const char *out = NULL, *cgroup = NULL;
	bool scoped = false;
	struct hc_config cfg;
	struct hc_capture *c;
	uint8_t *buf = NULL;
	size_t len = 0;
	long pid = 0, ms;
	bool probing = false;
	int opt, ret, i, dirfd;
	char *end;

	hc_config_load(&cfg);
	opts.backend = (enum hc_backend_id)cfg.backend;
	opts.time_limit_ms = (unsigned int)cfg.time_limit_ms;
	opts.scope = (enum hc_scope)cfg.scope;
	while ((opt = getopt_long(argc, argv, "b:o:p:t:s:c:Ph", longopts, NULL)) != -1) {
		switch (opt) {
		case 'b':
			if (hc_backend_parse(optarg, &opts.backend) < 0)
				return usage("unknown backend");
			break;
		case 'o':
			out = optarg;
			break;
		case 'p':
			pid = strtol(optarg, &end, 10);
			if (*end || pid <= 0 || pid > 0x3fffffff)
				return usage("--pid needs a process id");
			break;
		case 't':
			ms = strtol(optarg, &end, 10);
			if (*end || ms < HC_CONFIG_TIME_LIMIT_MS_MIN || ms > HC_CONFIG_TIME_LIMIT_MS_MAX)
				return usage("--time-limit-ms needs milliseconds");
			opts.time_limit_ms = (unsigned int)ms;
			break;
		case 's':
			if (hc_scope_parse(optarg, &opts.scope) < 0)
				return usage("unknown scope");
			scoped = true;
			break;
		case 'c':
			cgroup = optarg;
			break;
		case 'P':
			probing = true;
			break;
		case 'h':
			fputs(USAGE, stdout);
			return 0;
		default:
			return usage("bad option");
		}
	}
	if (probing)
		return pid || out || cgroup || scoped || optind < argc ? usage("--probe takes only --backend") : probe(opts.backend);
	if ((pid != 0) + (cgroup != NULL) + (optind < argc) != 1)
		return usage("give one of --pid, --cgroup or files");
	if (scoped && !pid)
		return usage("--scope goes with --pid");
	if (!out && isatty(STDOUT_FILENO))
		return usage("refusing to write a binary image to a terminal; use --out DIR or a pipe");
	if (hc_capture_begin(&c, &opts) < 0)
		return 1;
	ret = 0;
	if (pid)
		ret = hc_capture_tree(c, (pid_t)pid);
	if (cgroup)
		ret = hc_capture_cgroup(c, cgroup);
	for (i = optind; i < argc && ret == 0; i++)
		ret = hc_capture_path(c, argv[i]);
	hc_capture_end(c);
	if (ret == 0)
		ret = hc_capture_pack(c, &buf, &len);
	if (ret == 0 && out) {
		dirfd = open(out, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dirfd < 0) {
			pr_perror("cannot open %s", out);
			ret = -errno;
		} else {
			ret = hc_image_write_at(dirfd, buf, len);
			close(dirfd);
		}
	} else if (ret == 0) {
		ret = hc_image_write_fd(STDOUT_FILENO, buf, len);
	}
	if (ret == 0)
		hc_capture_report(c, NULL);
	free(buf);
	hc_capture_free(c);
	return ret == 0 ? 0 : 1;
}
