/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The progress a benchmark workload publishes: a file the harness creates,
 * mapped shared by the workload, updated on every read. The harness reads it
 * with pread (the same page-cache page), so nothing is ever lost between two
 * samples, however fast the workload reads (research/performance.md).
 *
 * Layout (little endian, 64-byte header, then one byte per unit):
 *   0  magic    PROGRESS_MAGIC, written by the workload once it runs
 *   8  bytes    bytes read so far
 *  16  ops      reads (or files, or lookups) done so far
 *  24  epoch    written by the harness; stamped into touched[] on each read
 *  32  units    how many entries of touched[] the workload uses
 *  64  touched  per page of the data file (or per file of a tree): the low
 *               byte of the epoch in force when the unit was last read
 * The workload is the only writer of every field but epoch, and stores each
 * with one aligned 8-byte store, so a reader never sees a torn value.
 */
#ifndef BENCH_PROGRESS_H
#define BENCH_PROGRESS_H

#include <stdint.h>

#include "common.h"

#define PROGRESS_MAGIC 0x3148434e45424348ull /* "HCBENCH1" as bytes */
#define PROGRESS_HEADER 64

struct progress {
	uint64_t magic;
	uint64_t bytes;
	uint64_t ops;
	uint64_t epoch;
	uint64_t units;
	uint64_t reserved[3];
	uint8_t touched[];
};

/* Maps `file` (at least PROGRESS_HEADER + units bytes); exits 1 on failure. */
struct progress *progress_open(const char *file, uint64_t units);

/* Counts one operation of `bytes`. */
void progress_add(struct progress *p, uint64_t bytes);

/* Marks units [first, first + count) as read in the current epoch. */
void progress_touch(struct progress *p, uint64_t first, uint64_t count);

#endif
