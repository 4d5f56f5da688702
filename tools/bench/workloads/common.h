/* SPDX-License-Identifier: GPL-2.0 */
/* What every workload program does the same way: arguments, errors, its data file, randomness. */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PAGE 4096

/* The program's name in messages; each program defines it. */
extern const char *program_name;

/* Every fd above 2 closed: CRIU refuses fds inherited from outside. */
void close_inherited_fds(void);

/* Opens `file` read-only, at offset 0; its size in *size; exits 1 if it is smaller than `min`. */
int open_data(const char *file, off_t min, off_t *size);

/* malloc, or exit 1 naming `what`. */
void *alloc_or_die(size_t len, const char *what);

/* A small fast generator (xorshift64*), seeded by the caller. */
uint64_t next_random(uint64_t *state);

/* Parses a size with an optional k, m or g suffix (powers of 1024); -1 if bad. */
long long parse_size(const char *text);

/* Prints `what` and errno's message for `file`, exits 1. */
void die(const char *what, const char *file);

#endif
