// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "config.h"
#include "log.h"

static bool parse_bool(const char *v, bool *out)
{
	if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on"))
		*out = true;
	else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off"))
		*out = false;
	else
		return false;
	return true;
}

/* An absolute path that fits; anything else keeps the default. */
static bool parse_path(const char *v, char *out, size_t size)
{
	if (v[0] != '/' || strlen(v) >= size)
		return false;
	strcpy(out, v);
	return true;
}

static void set(struct hc_config *cfg, const char *key, const char *value, const char *origin)
{
	char *end;
	unsigned long ms;
	bool ok = true;

	/* An empty value means unset, as in the action script and the prefetcher. */
	if (!*value)
		return;

	if (!strcmp(key, "HOTCACHE_DISABLE")) {
		ok = parse_bool(value, &cfg->disable);
	} else if (!strcmp(key, "HOTCACHE_STRICT")) {
		ok = parse_bool(value, &cfg->strict);
	} else if (!strcmp(key, "HOTCACHE_BACKEND")) {
		enum hc_backend_id id;

		ok = hc_backend_parse(value, &id) == 0;
		if (ok)
			cfg->backend = id;
	} else if (!strcmp(key, "HOTCACHE_CAPTURE_AT")) {
		ok = !strcmp(value, "exit") || !strcmp(value, "early");
		if (ok)
			cfg->capture_at = !strcmp(value, "exit") ? HC_CAPTURE_AT_EXIT : HC_CAPTURE_AT_EARLY;
	} else if (!strcmp(key, "HOTCACHE_ACTION_SCRIPT")) {
		ok = parse_path(value, cfg->action_script, sizeof(cfg->action_script));
	} else if (!strcmp(key, "HOTCACHE_STATE_DIR")) {
		ok = parse_path(value, cfg->state_dir, sizeof(cfg->state_dir));
	} else if (!strcmp(key, "HOTCACHE_TIME_LIMIT_MS")) {
		errno = 0;
		ms = strtoul(value, &end, 10);
		ok = *value && !*end && errno == 0 && ms <= 3600000ul;
		if (ok)
			cfg->time_limit_ms = (int64_t)ms;
	}
	if (!ok)
		pr_warn("%s: ignoring bad value '%s' for %s", origin, value, key);
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static void load_file(struct hc_config *cfg, const char *file)
{
	char line[512];
	FILE *f = fopen(file, "re");

	if (!f) {
		if (errno != ENOENT)
			pr_warn("cannot read %s: %m", file);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		char *key, *eq;

		line[strcspn(line, "#\n")] = '\0';
		key = trim(line);
		if (!*key)
			continue;
		eq = strchr(key, '=');
		if (!eq) {
			pr_warn("%s: ignoring a line that is not KEY=VALUE", file);
			continue;
		}
		*eq = '\0';
		set(cfg, trim(key), trim(eq + 1), file);
	}
	fclose(f);
}

void hc_config_load(struct hc_config *cfg, const char *file)
{
	static const char *const keys[] = { "HOTCACHE_DISABLE", "HOTCACHE_STRICT", "HOTCACHE_BACKEND", "HOTCACHE_TIME_LIMIT_MS",
					    "HOTCACHE_CAPTURE_AT", "HOTCACHE_ACTION_SCRIPT", "HOTCACHE_STATE_DIR" };
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	cfg->backend = HC_BACKEND_AUTO;
	cfg->time_limit_ms = 10000;
	strcpy(cfg->action_script, HC_PATH_INSTALLED_ACTION_SCRIPT);
	strcpy(cfg->state_dir, HC_PATH_INSTALLED_STATE_DIR);
	if (file)
		load_file(cfg, file);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = getenv(keys[i]);

		if (v)
			set(cfg, keys[i], v, "environment");
	}
}
