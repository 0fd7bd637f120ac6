/* SPDX-License-Identifier: GPL-2.0 */
/*
 * targets.h - one function per parser, shared by the libFuzzer builds
 * (tests/fuzz/fuzz_main.c, `make fuzz`) and the regression test that replays
 * every kept corpus file and crasher (tests/test_fuzz_regress.c).
 *
 * Each target takes arbitrary bytes and must return without crashing,
 * hanging, leaking or reading out of bounds, whatever it is fed.
 */
#ifndef FR_FUZZ_TARGETS_H
#define FR_FUZZ_TARGETS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "fr_source.h"
#include "snapshot.h"

/* Feed bytes to one backend through a memfd, read everything, rewind, read again. */
static int fz_backend(const struct fr_backend *be, const uint8_t *d, size_t n, int skip_bad)
{
	static struct fr_event ev[1024];
	struct fr_open_opts oo = { .skip_bad = skip_bad };
	struct fr_meta meta;
	struct fr_error err;
	int fd = memfd_create("fuzz-input", MFD_CLOEXEC);
	size_t off = 0;
	void *p;

	if (fd < 0)
		return 0;
	while (off < n) {
		ssize_t w = write(fd, d + off, n - off);
		if (w <= 0) {
			close(fd);
			return 0;
		}
		off += (size_t)w;
	}
	lseek(fd, 0, SEEK_SET);
	fr_meta_defaults(&meta);
	p = be->open("fuzz-input", fd, &oo, &meta, &err);	/* owns fd from here */
	if (p) {
		for (int pass = 0; pass < 2; pass++) {
			uint64_t total = 0;
			ssize_t r;
			while ((r = be->read(p, ev, 1024, &err)) > 0 && total < 4000000)
				total += (uint64_t)r;
			if (be->rewind(p, &err) < 0)
				break;
		}
		be->close(p);
	}
	fr_snapshots_free(&meta.snaps);
	return 0;
}

static int fz_text(const uint8_t *d, size_t n)
{
	fz_backend(&fr_backend_text, d, n, 0);
	return fz_backend(&fr_backend_text, d, n, 1);
}

static int fz_frt(const uint8_t *d, size_t n)
{
	return fz_backend(&fr_backend_frt, d, n, 0);
}

static int fz_tracedat(const uint8_t *d, size_t n)
{
	return fz_backend(&fr_backend_tracedat, d, n, 0);
}

/* kpageflags blobs: compressed (zstd magic) or raw */
static int fz_kpageflags(const uint8_t *d, size_t n)
{
	static uint64_t w[4096];
	struct fr_blob b;
	struct fr_error err;
	struct fr_kpf_reader *r;

	memset(&b, 0, sizeof(b));
	b.data = malloc(n ? n : 1);
	if (!b.data)
		return 0;
	memcpy(b.data, d, n);
	b.len = n;
	b.zstd = n >= 4 && d[0] == 0x28 && d[1] == 0xb5 && d[2] == 0x2f && d[3] == 0xfd;
	b.name = "kpageflags.fuzz";
	(void)fr_kpf_npfns(&b);
	r = fr_kpf_open(&b, &err);
	if (r) {
		long got;
		uint64_t total = 0;
		while ((got = fr_kpf_read(r, w, 4096, &err)) > 0 && total < (1u << 26))
			total += (uint64_t)got;
		fr_kpf_close(r);
	}
	free(b.data);
	return 0;
}

/* the /proc text snapshots: every parser on every input, from an exact-size buffer */
static int fz_procsnap(const uint8_t *d, size_t n)
{
	char *t = malloc(n ? n : 1);
	struct fr_error err;
	static struct fr_zoneinfo zi;
	static struct fr_pagetypeinfo pti;
	static struct fr_buddyinfo bi;

	if (!t)
		return 0;
	memcpy(t, d, n);
	(void)fr_zoneinfo_parse(t, n, &zi, "zoneinfo.fuzz", &err);
	(void)fr_pagetypeinfo_parse(t, n, &pti, "pagetypeinfo.fuzz", &err);
	(void)fr_buddyinfo_parse(t, n, &bi, "buddyinfo.fuzz", &err);
	free(t);
	return 0;
}

struct fz_target {
	const char *name;
	int (*fn)(const uint8_t *d, size_t n);
};

static const struct fz_target fz_targets[] = {
	{ "text", fz_text },
	{ "frt", fz_frt },
	{ "tracedat", fz_tracedat },
	{ "kpageflags", fz_kpageflags },
	{ "procsnap", fz_procsnap },
	{ NULL, NULL },
};

#endif
