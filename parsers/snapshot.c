// SPDX-License-Identifier: GPL-2.0
/* snapshot.c - placeholder (being written). */
#include <stdlib.h>
#include "snapshot.h"

int fr_snapshots_load_dir(struct fr_snapshots *s, const char *dir, struct fr_error *err)
{
	(void)s; (void)dir; (void)err;
	return 0;
}

void fr_snapshots_free(struct fr_snapshots *s)
{
	for (int i = 0; i < FR_NSNAPS; i++) {
		free(s->blob[i].data);
		s->blob[i].data = NULL;
	}
}
