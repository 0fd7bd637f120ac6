/* SPDX-License-Identifier: GPL-2.0 */
/*
 * frt.h - writer for the native .frt trace format (reader: fr_backend_frt,
 * reached through fr_source_open).  The format is described at the top of
 * parsers/frt.c and in docs/frt-format.md.
 *
 * The writer never leaves a half-written output behind: it writes to a
 * temporary file beside PATH and renames it into place only in
 * fr_frt_finish(), after the end section is written and fsync'd.  "-" writes
 * to standard output instead (no rename possible there).
 *
 * Typical use:
 *     w = fr_frt_create(out, fr_source_meta(src), &err);
 *     while ((n = fr_source_read(src, buf, N, &err)) > 0)
 *             if (fr_frt_write(w, buf, n, &err) < 0) goto fail;
 *     if (n < 0) goto fail;
 *     return fr_frt_finish(w, &err);     (frees w, success or not)
 * fail:
 *     fr_frt_abort(w);                    (frees w, removes the temp file)
 */
#ifndef FR_FRT_H
#define FR_FRT_H

#include <stddef.h>
#include <stdint.h>
#include "fr_error.h"
#include "fr_event.h"
#include "fr_source.h"

#define FR_FRT_VERSION 1
#define FR_FRT_BLOCK_EVENTS 65536	/* events per EVENTS section, at most */
#define FR_FRT_DEFAULT_LEVEL 3

struct fr_frt_opts {
	int level;		/* zstd level; 0: FR_FRT_DEFAULT_LEVEL */
};

struct fr_frt_writer;

/*
 * Start writing PATH ("-": standard output).  Writes the file header, the
 * META section (from meta) and one SNAPSHOT section per blob present in
 * meta->snaps.  NULL on error, with err filled.
 */
struct fr_frt_writer *fr_frt_create(const char *path, const struct fr_meta *meta,
				    struct fr_error *err);
/* The same with options (opts may be NULL: defaults). */
struct fr_frt_writer *fr_frt_create_opts(const char *path, const struct fr_meta *meta,
					 const struct fr_frt_opts *opts, struct fr_error *err);

/* Append n events (buffered; a full block of FR_FRT_BLOCK_EVENTS is written out). */
int fr_frt_write(struct fr_frt_writer *w, const struct fr_event *ev, size_t n,
		 struct fr_error *err);

/*
 * Add a snapshot taken later than create (e.g. the recorder's end snapshots).
 * A blob with zstd=1 is checked (it must decompress) and stored so that
 * reading back yields a zstd blob with the same decompressed content.
 */
int fr_frt_write_snapshot(struct fr_frt_writer *w, int id, const struct fr_blob *blob,
			  struct fr_error *err);

/* Events written so far. */
uint64_t fr_frt_events(const struct fr_frt_writer *w);
/* Bytes written so far (the file's size once finished). */
uint64_t fr_frt_bytes(const struct fr_frt_writer *w);
/* The temporary file being written ("" for stdout), for a signal handler to unlink. */
const char *fr_frt_temp_path(const struct fr_frt_writer *w);

/*
 * Flush the last block, write the END section, fsync, rename into place.
 * Always frees w.  On failure the temporary file is removed: PATH is then
 * untouched (an older file of that name stays as it was).
 */
int fr_frt_finish(struct fr_frt_writer *w, struct fr_error *err);

struct fr_frt_stats {
	uint64_t events;	/* events written */
	uint64_t blocks;	/* EVENTS sections */
	uint64_t bytes;		/* size of the finished file */
};
/* fr_frt_finish, also reporting what was written (st filled on success; may be NULL). */
int fr_frt_finish_stats(struct fr_frt_writer *w, struct fr_frt_stats *st, struct fr_error *err);

/* Give up: remove the temporary file and free w (NULL: nothing to do). */
void fr_frt_abort(struct fr_frt_writer *w);

#endif
