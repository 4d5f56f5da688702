/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Logging for the capture code. The same code runs inside CRIU (messages go
 * to CRIU's log, log-criu.c) and in hotcache-capture (stderr, log-stderr.c);
 * which one is chosen at link time.
 */
#ifndef HOTCACHE_LOG_H
#define HOTCACHE_LOG_H

enum hc_level {
	HC_ERROR = 1,
	HC_WARN = 2,
	HC_INFO = 3,
	HC_DEBUG = 4,
};

/* Messages carry no trailing newline: the sink adds it. */
void hc_log(enum hc_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define pr_err(fmt, ...) hc_log(HC_ERROR, fmt, ##__VA_ARGS__)
#define pr_warn(fmt, ...) hc_log(HC_WARN, fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...) hc_log(HC_INFO, fmt, ##__VA_ARGS__)
#define pr_debug(fmt, ...) hc_log(HC_DEBUG, fmt, ##__VA_ARGS__)
/* After a failed libc call: appends ": strerror(errno)". */
#define pr_perror(fmt, ...) hc_log(HC_ERROR, fmt ": %m", ##__VA_ARGS__)

#endif /* HOTCACHE_LOG_H */
