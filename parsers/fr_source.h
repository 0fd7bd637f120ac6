/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fr_source.h - open any recording and read it as a stream of fr_event.
 *
 * The format is detected from content, never from the file name:
 *   trace.dat  ("\027\010\104tracing" magic)   -> parsers/tracedat.c
 *   .frt       ("FRTRACE\0" magic)             -> parsers/frt.c
 *   text       (ftrace, trace-cmd report, perf script) -> parsers/text.c
 *   directory  (a trace file beside kpageflags.start.zst, zoneinfo.start...)
 *
 * Reading is streamed: memory does not grow with trace length.
 */
#ifndef FR_SOURCE_H
#define FR_SOURCE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "fr_event.h"
#include "fr_error.h"
#include "snapshot.h"

#define FR_MAX_CPUS 4096

struct fr_meta {
	char path[4096];	/* what the user named */
	char format[32];	/* "trace.dat", "frt", "ftrace-text", "trace-cmd-text", "perf-script" */
	char kernel[128];	/* kernel release, "" when unknown */
	char buffer[64];	/* trace.dat buffer/instance read, "" = top level */
	uint32_t file_version;	/* trace.dat version, or .frt version */
	uint32_t page_size;	/* default 4096 */
	uint32_t pageblock_order; /* default 9 */
	uint32_t max_order;	/* default 10 */
	uint32_t spb_order;	/* default 18 (1 GiB of 4 KiB pages) */
	uint32_t nr_cpus;	/* CPUs the recording covers (0: unknown) */
	struct fr_snapshots snaps; /* start/end /proc snapshots, when present */
};

struct fr_open_opts {
	const char *buffer;	/* trace.dat: instance to read (NULL: the one with kmem events) */
	int skip_bad;		/* text: count and skip unparsable lines instead of failing */
	int will_rewind;	/* the caller reads the input twice (replay's prepass): a
				 * trace.dat pre-forks the second pass's decoders */
};

struct fr_source;

/* Open PATH ("-" = stdin). NULL on error, with err filled. */
struct fr_source *fr_source_open(const char *path, const struct fr_open_opts *opts,
				 struct fr_error *err);
/* Read up to n events. Returns count, 0 at end, -1 on error (err filled). */
ssize_t fr_source_read(struct fr_source *src, struct fr_event *buf, size_t n,
		       struct fr_error *err);
/*
 * Read ahead (on = 1) or not (0, the default): a helper thread runs the
 * backend's decoding one to three batches ahead of the caller, so decoding
 * overlaps the caller's work on another core.  Reads return the same events,
 * errors and end as without it.  Off mid-stream: the batches already read
 * ahead are returned first.  Costs 6 MiB while on.  No-op for a trace.dat,
 * whose decoders already run in child processes (decodes_ahead).
 */
void fr_source_readahead(struct fr_source *src, int on);
/* Start again from the first event. -1 if the input cannot be re-read (stdin). */
int fr_source_rewind(struct fr_source *src, struct fr_error *err);
const struct fr_meta *fr_source_meta(const struct fr_source *src);
/* Lines skipped by --skip-bad (text only). */
uint64_t fr_source_skipped(const struct fr_source *src);
void fr_source_close(struct fr_source *src);

/*
 * Backend interface: each format implements these.  `priv` belongs to the
 * backend; `meta` is filled by open.
 */
struct fr_backend {
	const char *name;
	void *(*open)(const char *path, int fd, const struct fr_open_opts *opts,
		      struct fr_meta *meta, struct fr_error *err);
	ssize_t (*read)(void *priv, struct fr_event *buf, size_t n, struct fr_error *err);
	int (*rewind)(void *priv, struct fr_error *err);
	uint64_t (*skipped)(void *priv);
	void (*close)(void *priv);
	int decodes_ahead;	/* decoding already runs beside the caller (trace.dat's
				 * forked children): fr_source_readahead() adds no thread */
};

extern const struct fr_backend fr_backend_tracedat;
extern const struct fr_backend fr_backend_text;
extern const struct fr_backend fr_backend_frt;

/* Content sniffing: which backend reads these first bytes (NULL: none). */
const struct fr_backend *fr_detect(const unsigned char *head, size_t len);

void fr_meta_defaults(struct fr_meta *meta);

#endif
