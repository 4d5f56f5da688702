// SPDX-License-Identifier: GPL-2.0
/*
 * Validating a hotcache.img the way decodeImage() in proto/image.ts does, so
 * that both decoders accept and refuse the same images.
 */
#include <endian.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hotcache.pb-c.h"
#include "image.h"
#include "path.h"
#include "wire.h"

static enum hc_image_error fail(enum hc_image_error e, char *why, size_t why_len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static enum hc_image_error fail(enum hc_image_error e, char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
	return e;
}

/* Field numbers in proto/hotcache.proto that the pre-walk reads. */
#define FIELD_IMAGE_CAPTURE 2u
#define FIELD_IMAGE_FILES 3u
#define FIELD_FILE_PATH 1u
#define FIELD_FILE_IDENTITY 2u
#define FIELD_FILE_FDS 3u
#define FIELD_FILE_GAPS 10u	/* then lengths 11, classes 12 */

/*
 * The wire type of each field of a message, by field number from 1: 'V' varint, 'L'
 * length-delimited, 'P' either (a packable repeated varint). Fields past the end are
 * a later version's, skipped whatever their type. As wireTypesOf() in proto/image.ts.
 */
struct wire_schema {
	const char *name;
	const char *types;
};

static const struct wire_schema wire_image = { "HotcacheImage", "VLL" };
static const struct wire_schema wire_capture = { "Capture", "LLVVVVVVVVVLL" };
static const struct wire_schema wire_file = { "File", "LLLVVVVVVPPP" };
static const struct wire_schema wire_identity = { "Identity", "VVVVLV" };
static const struct wire_schema wire_fd = { "OpenFd", "VVV" };

/*
 * The payload walked on the wire before protobuf-c decodes it: wire types,
 * and the repeated entries counted. protobuf-c allocates a message per entry
 * (a 32 MiB payload of empty File entries took 2.4 GB) before any count could
 * be checked, and an array for every entry of a wrong wire type before it
 * refuses the first. Same verdicts as checkWire() in proto/image.ts.
 */
struct prewalk {
	enum hc_image_error e;		/* OK while the walk goes on */
	char *why;
	size_t why_len;
	uint64_t files;
	uint64_t fds;			/* in the whole image */
	uint64_t fds_of_file;
	uint64_t arrays[3];		/* gaps, lengths, classes entries in the whole image */
	struct hc_wire_field path;	/* of the current file: the last one is the one decoded */
	uint64_t nul_path_file;		/* index of the first file whose path has a NUL; UINT64_MAX: none */
};

/* False (and the reason in @w) when @f's wire type is not the one @schema gives its number. */
static bool wire_type_ok(struct prewalk *w, const struct wire_schema *schema, const struct hc_wire_field *f)
{
	char want;

	if (f->number > strlen(schema->types))
		return true;
	want = schema->types[f->number - 1];
	if (want == 'P' ? f->type == HC_WIRE_VARINT || f->type == HC_WIRE_LEN :
			  f->type == (want == 'V' ? HC_WIRE_VARINT : HC_WIRE_LEN))
		return true;
	w->e = fail(HC_IMAGE_MALFORMED, w->why, w->why_len, "%s field %u has wire type %d", schema->name, f->number,
		    (int)f->type);
	return false;
}

/* A message with no nested messages of its own: only its wire types are checked. */
struct leaf_walk {
	struct prewalk *w;
	const struct wire_schema *schema;
};

static bool leaf_field(void *ctx, const struct hc_wire_field *f)
{
	struct leaf_walk *leaf = ctx;

	return wire_type_ok(leaf->w, leaf->schema, f);
}

static bool walk_leaf(struct prewalk *w, const struct wire_schema *schema, const struct hc_wire_field *f)
{
	struct leaf_walk leaf = { .w = w, .schema = schema };

	return hc_wire_walk(f->data, f->len, leaf_field, &leaf);
}

static bool prewalk_file_field(void *ctx, const struct hc_wire_field *f)
{
	struct prewalk *w = ctx;
	uint64_t count = 1, *array;
	size_t i;

	if (!wire_type_ok(w, &wire_file, f))
		return false;
	if (f->number == FIELD_FILE_IDENTITY)
		return walk_leaf(w, &wire_identity, f);
	if (f->number == FIELD_FILE_PATH) {
		w->path = *f;
	} else if (f->number == FIELD_FILE_FDS) {
		if (++w->fds_of_file > HC_LIMIT_FDS_PER_FILE) {
			w->e = fail(HC_IMAGE_INVALID, w->why, w->why_len, "more than %u fds on one file", HC_LIMIT_FDS_PER_FILE);
			return false;
		}
		if (++w->fds > HC_LIMIT_FDS_PER_IMAGE) {
			w->e = fail(HC_IMAGE_INVALID, w->why, w->why_len, "more than %u fds in the image", HC_LIMIT_FDS_PER_IMAGE);
			return false;
		}
		return walk_leaf(w, &wire_fd, f);
	} else if (f->number >= FIELD_FILE_GAPS && f->number < FIELD_FILE_GAPS + 3) {
		if (f->type == HC_WIRE_LEN) {
			/* Packed: one entry per byte without the continuation bit. */
			for (i = 0, count = 0; i < f->len; i++)
				count += f->data[i] < 0x80;
		}
		array = &w->arrays[f->number - FIELD_FILE_GAPS];
		*array += count;
		if (*array > HC_LIMIT_RANGES_PER_IMAGE) {
			w->e = fail(HC_IMAGE_INVALID, w->why, w->why_len, "more than %u ranges in the image", HC_LIMIT_RANGES_PER_IMAGE);
			return false;
		}
	}
	return true;
}

static bool prewalk_field(void *ctx, const struct hc_wire_field *f)
{
	struct prewalk *w = ctx;

	if (!wire_type_ok(w, &wire_image, f))
		return false;
	if (f->number == FIELD_IMAGE_CAPTURE)
		return walk_leaf(w, &wire_capture, f);
	if (f->number != FIELD_IMAGE_FILES)
		return true;
	if (++w->files > HC_LIMIT_FILES) {
		w->e = fail(HC_IMAGE_INVALID, w->why, w->why_len, "more than %u files in the image", HC_LIMIT_FILES);
		return false;
	}
	w->fds_of_file = 0;
	memset(&w->path, 0, sizeof(w->path));
	if (!hc_wire_walk(f->data, f->len, prewalk_file_field, w))
		return false;
	if (w->nul_path_file == UINT64_MAX && w->path.len && memchr(w->path.data, '\0', w->path.len))
		w->nul_path_file = w->files - 1;
	return true;
}

const char *hc_image_error_kind(enum hc_image_error e)
{
	static const char *const kinds[] = { "ok", "truncated", "bad-magic", "too-large", "malformed", "bad-version", "invalid" };

	return (size_t)e < sizeof(kinds) / sizeof(kinds[0]) ? kinds[e] : "invalid";
}

static enum hc_image_error check_file(const Hotcache__File *f, uint32_t page_size, uint64_t *range_budget,
				      struct hc_image_counts *counts, char *why, size_t why_len)
{
	uint64_t size_pages, end = 0;
	size_t i, n = f->n_gaps, len = strlen(f->path);

	if (!hc_path_ok(f->path, len))
		return fail(HC_IMAGE_INVALID, why, why_len, "path %.64s is empty, not absolute, too long, not UTF-8 or has '..'",
			    f->path);
	if (!f->identity)
		return fail(HC_IMAGE_INVALID, why, why_len, "%s: no identity", f->path);
	if (f->n_fds > HC_LIMIT_FDS_PER_FILE)
		return fail(HC_IMAGE_INVALID, why, why_len, "%s: %zu fds exceed the limit", f->path, f->n_fds);
	if (f->identity->handle.len > HC_LIMIT_HANDLE_BYTES)
		return fail(HC_IMAGE_INVALID, why, why_len, "%s: file handle too large", f->path);
	if (f->identity->size > HC_LIMIT_SIZE_PAGES * page_size || f->size_pages > HC_LIMIT_SIZE_PAGES)
		return fail(HC_IMAGE_INVALID, why, why_len, "%s: size out of range", f->path);
	size_pages = (f->identity->size + page_size - 1) / page_size;
	if (f->size_pages != size_pages)
		return fail(HC_IMAGE_INVALID, why, why_len, "%s: size of %llu pages does not match %llu bytes", f->path,
			    (unsigned long long)f->size_pages, (unsigned long long)f->identity->size);
	if (f->n_lengths != n || f->n_classes != n)
		return fail(HC_IMAGE_INVALID, why, why_len, "%s: range arrays differ in length", f->path);
	if (n > *range_budget)
		return fail(HC_IMAGE_INVALID, why, why_len, "more than %u ranges in the image", HC_LIMIT_RANGES_PER_IMAGE);
	*range_budget -= n;
	for (i = 0; i < n; i++) {
		uint64_t gap = f->gaps[i], count = f->lengths[i];
		int class = (int)f->classes[i];

		if (gap > HC_LIMIT_SIZE_PAGES || count > HC_LIMIT_SIZE_PAGES)
			return fail(HC_IMAGE_INVALID, why, why_len, "%s: range %zu out of range", f->path, i);
		if (count == 0)
			return fail(HC_IMAGE_INVALID, why, why_len, "%s: range %zu is empty", f->path, i);
		if (class < HC_CLASS_RESIDENT || class > HC_CLASS_HOT)
			return fail(HC_IMAGE_INVALID, why, why_len, "%s: range %zu has unknown class %d", f->path, i, class);
		end += gap + count;
		if (end > f->size_pages)
			return fail(HC_IMAGE_INVALID, why, why_len, "%s: range %zu ends at page %llu, past the file's %llu pages",
				    f->path, i, (unsigned long long)end, (unsigned long long)f->size_pages);
		counts->resident += count;
		if (class == HC_CLASS_HOT)
			counts->hot += count;
		else if (class == HC_CLASS_WARM)
			counts->warm += count;
	}
	counts->ranges += n;
	counts->fds += f->n_fds;
	return HC_IMAGE_OK;
}

enum hc_image_error hc_image_check(const uint8_t *buf, size_t len, struct hc_image_counts *counts, char *why,
				   size_t why_len)
{
	struct prewalk walk = { .why = why, .why_len = why_len, .nul_path_file = UINT64_MAX };
	Hotcache__HotcacheImage *img;
	enum hc_image_error e = HC_IMAGE_OK;
	uint64_t budget = HC_LIMIT_RANGES_PER_IMAGE;
	uint32_t payload, page_size;
	size_t i;

	memset(counts, 0, sizeof(*counts));
	if (len < HC_HEADER_BYTES)
		return fail(HC_IMAGE_TRUNCATED, why, why_len, "image is %zu bytes, shorter than its header", len);
	if (memcmp(buf, HC_MAGIC, HC_MAGIC_BYTES) != 0)
		return fail(HC_IMAGE_BAD_MAGIC, why, why_len, "not a hotcache image (bad magic)");
	memcpy(&payload, buf + HC_MAGIC_BYTES, sizeof(payload));
	payload = le32toh(payload);
	if (payload > HC_LIMIT_IMAGE_BYTES)
		return fail(HC_IMAGE_TOO_LARGE, why, why_len, "payload of %u bytes exceeds the limit", payload);
	if (len - HC_HEADER_BYTES < payload)
		return fail(HC_IMAGE_TRUNCATED, why, why_len, "payload is %zu of %u bytes", len - HC_HEADER_BYTES, payload);
	if (len - HC_HEADER_BYTES > payload)
		return fail(HC_IMAGE_MALFORMED, why, why_len, "%zu trailing bytes after the payload",
			    len - HC_HEADER_BYTES - payload);
	if (!hc_wire_walk(buf + HC_HEADER_BYTES, payload, prewalk_field, &walk))
		return walk.e ? walk.e : fail(HC_IMAGE_MALFORMED, why, why_len, "payload is not well-formed protobuf");
	img = hotcache__hotcache_image__unpack(NULL, payload, buf + HC_HEADER_BYTES);
	if (!img)
		return fail(HC_IMAGE_MALFORMED, why, why_len, "payload does not decode");
	if (img->version != HC_FORMAT_VERSION) {
		e = fail(HC_IMAGE_BAD_VERSION, why, why_len, "format version %u, expected %u", img->version,
			 HC_FORMAT_VERSION);
		goto out;
	}
	page_size = img->capture ? img->capture->page_size : 0;
	if (page_size < HC_PAGE_SIZE_MIN || page_size > HC_PAGE_SIZE_MAX || (page_size & (page_size - 1))) {
		e = fail(HC_IMAGE_INVALID, why, why_len, "page size %u is not a power of two in 4..64 KiB", page_size);
		goto out;
	}
	for (i = 0; i < img->n_files && e == HC_IMAGE_OK; i++) {
		/* protobuf-c's strings end at their first NUL: such a path was seen only on the wire. */
		if (i == walk.nul_path_file)
			e = fail(HC_IMAGE_INVALID, why, why_len, "path %.64s... contains a NUL byte", img->files[i]->path);
		else
			e = check_file(img->files[i], page_size, &budget, counts, why, why_len);
	}
	counts->files = img->n_files;
out:
	hotcache__hotcache_image__free_unpacked(img, NULL);
	return e;
}
