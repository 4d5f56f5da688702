// SPDX-License-Identifier: GPL-2.0
/*
 * hotcache.conf, then the environment, read from a table: every key with its
 * type, default and bounds comes from the contract (HC_CONFIG_KEYS), and the
 * rules are those of hooks/config.ts and hooks/config.sh, which the parity
 * test holds to the same results and warnings:
 *  - the file is $HOTCACHE_CONFIG, else /etc/criu/hotcache.conf; an absent
 *    file is no file; NUL bytes are dropped, as sh's read drops them;
 *  - '#' starts a comment; blanks (space, tab) around key and value do not
 *    count; a line that is not printable ASCII, not KEY=VALUE, or names an
 *    unknown key is a warning and is ignored;
 *  - an empty value, in the file or in the environment, sets nothing;
 *  - a value that does not fit its key is a warning and is ignored, as if it
 *    were not there; otherwise later lines win, and the environment wins over
 *    the file.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hotcache/config.h"
#include "hotcache/log.h"

struct spec {
	const char *key;
	enum hc_config_type type;
	size_t offset;
	int64_t def;
	const char *def_text;
	int64_t min, max, scale;
	const char *const *choices;	/* enum: the names, NULL-terminated */
	const char *expected;
};

#define SPEC(KEY, field, TYPE, def, text, min, max, scale, names, expected) \
	{ #KEY, HC_CONFIG_##TYPE, offsetof(struct hc_config, field), def, text, min, max, scale, names, expected },

static const struct spec specs[] = { HC_CONFIG_KEYS(SPEC) };

#define N_SPECS (sizeof(specs) / sizeof(specs[0]))

static const char *const true_words[] = { HC_CONFIG_TRUE_WORDS };
static const char *const false_words[] = { HC_CONFIG_FALSE_WORDS };

/* A parsed value: a number (bool, int, scaled decimal, enum position) or a text (path, command). */
struct value {
	int64_t num;
	const char *text;
};

static const struct spec *spec_of(const char *key)
{
	size_t i;

	for (i = 0; i < N_SPECS; i++)
		if (!strcmp(specs[i].key, key))
			return &specs[i];
	return NULL;
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

static bool among(const char *v, const char *const *words, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(v, words[i]))
			return true;
	return false;
}

/* Decimal digits only, leading zeros dropped; false when empty, not digits, or past 15 digits. */
static bool digits(const char *s, size_t len, int64_t *out)
{
	size_t i;

	*out = 0;
	if (len == 0)
		return false;
	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	while (len > 1 && *s == '0') {
		s++;
		len--;
	}
	if (len > 15)
		return false;
	for (i = 0; i < len; i++)
		*out = *out * 10 + (s[i] - '0');
	return true;
}

/*
 * N or N.F with at most as many decimals as @scale has zeros, scaled to an
 * integer; N past @max is refused before scaling, which could overflow.
 */
static bool decimal(const char *v, int64_t scale, int64_t max, int64_t *out)
{
	const char *dot = strchr(v, '.');
	int64_t whole, frac = 0, unit = scale;
	size_t flen;

	if (!digits(v, dot ? (size_t)(dot - v) : strlen(v), &whole) || whole > max)
		return false;
	if (dot) {
		flen = strlen(dot + 1);
		if (!digits(dot + 1, flen, &frac))
			return false;
		for (; flen && unit > 1; flen--)
			unit /= 10;
		if (flen)
			return false;	/* more decimals than the scale keeps */
		frac *= unit;
	}
	*out = whole * scale + frac;
	return true;
}

static bool parse(const struct spec *s, const char *v, struct value *out)
{
	size_t n;

	out->num = 0;
	out->text = v;
	if (!printable(v))
		return false;
	switch (s->type) {
	case HC_CONFIG_BOOL:
		out->num = among(v, true_words, sizeof(true_words) / sizeof(true_words[0]));
		return out->num || among(v, false_words, sizeof(false_words) / sizeof(false_words[0]));
	case HC_CONFIG_INT:
		return digits(v, strlen(v), &out->num) && out->num >= s->min && out->num <= s->max;
	case HC_CONFIG_DECIMAL:
		return decimal(v, s->scale, s->max, &out->num) && out->num >= s->min * s->scale && out->num <= s->max * s->scale;
	case HC_CONFIG_ENUM:
		for (n = 0; s->choices[n]; n++)
			if (!strcmp(v, s->choices[n])) {
				out->num = (int64_t)n;
				return true;
			}
		return false;
	case HC_CONFIG_PATH:
		return v[0] == '/' && strlen(v) <= HC_CONFIG_PATH_BYTES;
	case HC_CONFIG_COMMAND:
		return strlen(v) <= HC_CONFIG_PATH_BYTES;
	}
	return false;
}

static void store(struct hc_config *cfg, const struct spec *s, const struct value *v)
{
	char *field = (char *)cfg + s->offset;

	switch (s->type) {
	case HC_CONFIG_BOOL:
		*(bool *)field = v->num != 0;
		break;
	case HC_CONFIG_INT:
	case HC_CONFIG_DECIMAL:
		*(int64_t *)field = v->num;
		break;
	case HC_CONFIG_ENUM:
		*(int *)field = (int)v->num;
		break;
	case HC_CONFIG_PATH:
	case HC_CONFIG_COMMAND:
		/* parse() bounded it to the field. */
		memcpy(field, v->text, strlen(v->text) + 1);
		break;
	}
}

/* Sets @s from @text, or warns that @where holds a bad value. Empty sets nothing. */
static void set(struct hc_config *cfg, const struct spec *s, const char *text, const char *where)
{
	struct value v;

	if (!*text)
		return;
	if (parse(s, text, &v))
		store(cfg, s, &v);
	else
		pr_warn(HC_MSG_BAD_VALUE, where, s->key, s->expected);
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return s;
}

static void parse_line(struct hc_config *cfg, char *line, const char *where)
{
	const struct spec *s;
	char *text, *eq, *key, *p;

	line[strcspn(line, "#")] = '\0';
	text = trim(line);
	if (!*text)
		return;
	for (p = text; *p; p++) {
		if (*p != '\t' && ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)) {
			pr_warn(HC_MSG_NOT_TEXT, where);
			return;
		}
	}
	eq = strchr(text, '=');
	if (eq)
		*eq = '\0';
	key = trim(text);
	if (!eq || !*key) {
		pr_warn(HC_MSG_NOT_KEY_VALUE, where);
		return;
	}
	s = spec_of(key);
	if (!s) {
		pr_warn(HC_MSG_UNKNOWN_KEY, where, key);
		return;
	}
	set(cfg, s, trim(eq + 1), where);
}

static void load_file(struct hc_config *cfg, const char *file)
{
	char where[4200], *line = NULL;
	size_t cap = 0;
	ssize_t n, i, kept;
	struct stat st;
	int number = 0;
	FILE *f;

	/* Whatever keeps stat() from finding it, it is absent: sh's test -e cannot tell more. */
	if (stat(file, &st) < 0)
		return;
	if (!S_ISREG(st.st_mode)) {
		pr_warn(HC_MSG_NOT_REGULAR, file);
		return;
	}
	f = fopen(file, "re");
	if (!f) {
		pr_warn(HC_MSG_UNREADABLE, file);
		return;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		/* NUL bytes are dropped, as sh's read drops them. */
		for (i = 0, kept = 0; i < n; i++)
			if (line[i])
				line[kept++] = line[i];
		line[kept] = '\0';
		line[strcspn(line, "\n")] = '\0';
		snprintf(where, sizeof(where), HC_MSG_LINE, file, ++number);
		parse_line(cfg, line, where);
	}
	if (ferror(f))
		pr_warn(HC_MSG_UNREADABLE, file);
	free(line);
	fclose(f);
}

void hc_config_load(struct hc_config *cfg)
{
	const char *file = getenv(HC_CONFIG_FILE_VARIABLE);
	struct value v;
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	for (i = 0; i < N_SPECS; i++) {
		v.num = specs[i].def;
		v.text = specs[i].def_text;
		store(cfg, &specs[i], &v);
	}
	load_file(cfg, file && *file ? file : HC_CONFIG_FILE);
	for (i = 0; i < N_SPECS; i++) {
		const char *env = getenv(specs[i].key);

		if (env)
			set(cfg, &specs[i], env, HC_MSG_ENVIRONMENT);
	}
}

void hc_config_each(const struct hc_config *cfg, hc_config_fn fn, void *ctx)
{
	char text[32];
	size_t i;

	for (i = 0; i < N_SPECS; i++) {
		const struct spec *s = &specs[i];
		const char *field = (const char *)cfg + s->offset;

		switch (s->type) {
		case HC_CONFIG_BOOL:
			fn(ctx, s->key, *(const bool *)field ? "1" : "0");
			break;
		case HC_CONFIG_INT:
		case HC_CONFIG_DECIMAL:
			snprintf(text, sizeof(text), "%lld", (long long)*(const int64_t *)field);
			fn(ctx, s->key, text);
			break;
		case HC_CONFIG_ENUM:
			fn(ctx, s->key, s->choices[*(const int *)field]);
			break;
		case HC_CONFIG_PATH:
		case HC_CONFIG_COMMAND:
			fn(ctx, s->key, field);
			break;
		}
	}
}
