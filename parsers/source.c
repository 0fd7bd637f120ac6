// SPDX-License-Identifier: GPL-2.0
/*
 * source.c - open any recording: detect the format from content, accept a
 * recording directory, spool a non-seekable stdin to an unlinked temp file
 * (libtracecmd needs to seek; memory must not grow with the trace).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fr_source.h"
#include "readahead.h"

struct fr_source {
	const struct fr_backend *be;
	void *priv;
	struct fr_meta meta;
	int ra_on;			/* fr_source_readahead() */
	struct fr_readahead *ra;	/* while reading ahead: owns be/priv */
};

void fr_meta_defaults(struct fr_meta *meta)
{
	memset(meta, 0, sizeof(*meta));
	meta->page_size = 4096;
	meta->pageblock_order = 9;
	meta->max_order = 10;
	meta->spb_order = 18;
}

static const unsigned char tracedat_magic[] = { 0x17, 0x08, 0x44, 't', 'r', 'a', 'c', 'i', 'n', 'g' };

const struct fr_backend *fr_detect(const unsigned char *head, size_t len)
{
	if (len >= sizeof(tracedat_magic) && !memcmp(head, tracedat_magic, sizeof(tracedat_magic)))
		return &fr_backend_tracedat;
	if (len >= 8 && !memcmp(head, "FRTRACE", 8))
		return &fr_backend_frt;
	/* Text: printable ASCII in the first bytes (the text parser decides the rest). */
	if (len == 0)
		return NULL;
	for (size_t i = 0; i < len && i < 512; i++) {
		unsigned char c = head[i];
		if (c < 0x09 || (c > 0x0d && c < 0x20) || c == 0x7f)
			return NULL;
	}
	return &fr_backend_text;
}

/* Copy a pipe into an unlinked temporary file so backends can seek. */
static int spool_stdin(struct fr_error *err)
{
	char tmpl[] = "/tmp/fragreplay-stdin-XXXXXX";
	int fd = mkstemp(tmpl);
	char buf[1 << 16];
	ssize_t r;

	if (fd < 0)
		return fr_err(err, "-: cannot create a temporary file for standard input: %s", strerror(errno));
	unlink(tmpl);
	while ((r = read(0, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < r;) {
			ssize_t w = write(fd, buf + off, r - off);
			if (w < 0) {
				close(fd);
				return fr_err(err, "-: cannot spool standard input: %s", strerror(errno));
			}
			off += w;
		}
	}
	if (r < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		close(fd);
		return fr_err(err, "-: cannot read standard input: %s", strerror(errno));
	}
	return fd;
}

/* In a recording directory, the trace is the first of these that exists. */
static const char *const dir_trace_names[] = { "trace.frt", "trace.dat", "trace.txt", "trace.perf.txt", NULL };

struct fr_source *fr_source_open(const char *path, const struct fr_open_opts *opts,
				 struct fr_error *err)
{
	struct fr_open_opts noopts = { 0 };
	struct fr_source *src = NULL;
	char file[4096];
	unsigned char head[512];
	struct stat st;
	ssize_t n;
	int fd = -1;

	if (!opts)
		opts = &noopts;
	src = calloc(1, sizeof(*src));
	if (!src) {
		fr_err(err, "%s: out of memory", path);
		return NULL;
	}
	fr_meta_defaults(&src->meta);
	snprintf(src->meta.path, sizeof(src->meta.path), "%s", path);
	snprintf(file, sizeof(file), "%s", path);

	if (strcmp(path, "-") && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		int i;
		for (i = 0; dir_trace_names[i]; i++) {
			snprintf(file, sizeof(file), "%s/%s", path, dir_trace_names[i]);
			if (access(file, R_OK) == 0)
				break;
		}
		if (!dir_trace_names[i]) {
			fr_err(err, "%s: recording directory holds no trace.frt, trace.dat, trace.txt or trace.perf.txt", path);
			goto fail;
		}
		if (fr_snapshots_load_dir(&src->meta.snaps, path, err) < 0)
			goto fail;
	}

	if (!strcmp(path, "-")) {
		if (fstat(0, &st) == 0 && S_ISREG(st.st_mode))
			fd = dup(0);
		else
			fd = spool_stdin(err);
		if (fd < 0)
			goto fail;
	} else {
		fd = open(file, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fr_err(err, "%s: cannot open: %s", file, strerror(errno));
			goto fail;
		}
	}
	n = pread(fd, head, sizeof(head), 0);
	if (n < 0) {
		fr_err(err, "%s: cannot read: %s", file, strerror(errno));
		goto fail;
	}
	src->be = fr_detect(head, (size_t)n);
	if (!src->be) {
		if (n == 0)
			fr_err(err, "%s: empty file, not a trace", file);
		else
			fr_err(err, "%s: unknown format (not trace.dat, .frt or a text trace)", file);
		goto fail;
	}
	snprintf(src->meta.path, sizeof(src->meta.path), "%s", file);
	src->priv = src->be->open(file, fd, opts, &src->meta, err);
	fd = -1;		/* the backend owns it now, even on failure */
	if (!src->priv)
		goto fail;
	snprintf(src->meta.path, sizeof(src->meta.path), "%s", path);
	return src;
fail:
	if (fd >= 0)
		close(fd);
	fr_snapshots_free(&src->meta.snaps);
	free(src);
	return NULL;
}

ssize_t fr_source_read(struct fr_source *src, struct fr_event *buf, size_t n, struct fr_error *err)
{
	if (src->ra_on && !src->ra && !src->be->decodes_ahead) {
		struct fr_error ignored;
		/* without a helper thread, read here: slower, not wrong */
		src->ra = fr_ra_start(src->be, src->priv, &ignored);
		if (!src->ra)
			src->ra_on = 0;
	}
	if (src->ra) {
		ssize_t r = fr_ra_read(src->ra, buf, n, err);
		if (r != FR_RA_DRAINED)
			return r;
		fr_ra_free(src->ra);	/* switched off, and all it read is out */
		src->ra = NULL;
	}
	return src->be->read(src->priv, buf, n, err);
}

void fr_source_readahead(struct fr_source *src, int on)
{
	src->ra_on = on;
	if (!on && src->ra)
		fr_ra_stop(src->ra);	/* reads drain what it has, then go on here */
}

int fr_source_rewind(struct fr_source *src, struct fr_error *err)
{
	fr_ra_free(src->ra);
	src->ra = NULL;
	return src->be->rewind(src->priv, err);
}

const struct fr_meta *fr_source_meta(const struct fr_source *src)
{
	return &src->meta;
}

uint64_t fr_source_skipped(const struct fr_source *src)
{
	if (src->ra)
		return fr_ra_skipped(src->ra);
	return src->be->skipped ? src->be->skipped(src->priv) : 0;
}

void fr_source_close(struct fr_source *src)
{
	if (!src)
		return;
	fr_ra_free(src->ra);
	src->be->close(src->priv);
	fr_snapshots_free(&src->meta.snaps);
	free(src);
}
