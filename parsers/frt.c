// SPDX-License-Identifier: GPL-2.0
/* frt.c - placeholder backend (being written). */
#include <unistd.h>
#include "fr_source.h"

static void *stub_open(const char *path, int fd, const struct fr_open_opts *opts,
		       struct fr_meta *meta, struct fr_error *err)
{
	(void)opts; (void)meta;
	close(fd);
	fr_err(err, "%s: the frt reader is not built yet", path);
	return NULL;
}

const struct fr_backend fr_backend_frt = { .name = "frt", .open = stub_open };
