/* SPDX-License-Identifier: GPL-2.0 */
/*
 * readahead.h - read a backend ahead on a helper thread (source.c only).
 *
 * The helper calls the backend's read() into a ring of RA_SLOTS batches
 * while the caller works on the batch before: decoding (zstd and the column
 * codec of an .frt, the text parser) overlaps the caller's own work.  The
 * backend is touched by the helper only, from start to stop; results reach
 * the caller in order, errors and end of input included, so a read-ahead
 * source returns exactly what the backend would have returned.
 */
#ifndef FR_READAHEAD_H
#define FR_READAHEAD_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "fr_source.h"

#define FR_RA_DRAINED (-2)	/* fr_ra_read(): stopped, and the ring is empty */

struct fr_readahead;

/* Start the helper on be/priv, positioned where the caller left it. */
struct fr_readahead *fr_ra_start(const struct fr_backend *be, void *priv, struct fr_error *err);
/* Up to n events, 0 at the end, -1 on error (err filled, and again on every
 * later call), FR_RA_DRAINED after fr_ra_stop() once every batch the helper
 * read has been returned: the backend is then the caller's again. */
ssize_t fr_ra_read(struct fr_readahead *ra, struct fr_event *buf, size_t n, struct fr_error *err);
/* The helper stops after the read it is in; what it read stays readable. */
void fr_ra_stop(struct fr_readahead *ra);
/* Lines skipped (text --skip-bad) as of the last batch returned. */
uint64_t fr_ra_skipped(const struct fr_readahead *ra);
/* Stop, wait for the helper, drop what was not read. */
void fr_ra_free(struct fr_readahead *ra);
#endif
