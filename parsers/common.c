// SPDX-License-Identifier: GPL-2.0
/* common.c - error formatting and the names of event kinds and migratetypes. */
#include <stdio.h>
#include <string.h>
#include "fr_event.h"
#include "fr_error.h"

int fr_err(struct fr_error *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	/* one line, always */
	for (char *p = err->msg; *p; p++)
		if (*p == '\n')
			*p = ' ';
	return -1;
}

static const char *const kind_names[FR_EV_NKINDS] = {
	[FR_EV_NONE] = "none",
	[FR_EV_ALLOC] = "mm_page_alloc",
	[FR_EV_FREE] = "mm_page_free",
	[FR_EV_FREE_BATCHED] = "mm_page_free_batched",
	[FR_EV_ZONE_LOCKED] = "mm_page_alloc_zone_locked",
	[FR_EV_PCPU_DRAIN] = "mm_page_pcpu_drain",
	[FR_EV_EXTFRAG] = "mm_page_alloc_extfrag",
	[FR_EV_LOST] = "lost",
};

const char *fr_kind_name(int kind)
{
	return kind > 0 && kind < FR_EV_NKINDS ? kind_names[kind] : "none";
}

int fr_kind_from_name(const char *name)
{
	for (int k = 1; k < FR_EV_NKINDS; k++)
		if (!strcmp(name, kind_names[k]))
			return k;
	return FR_EV_NONE;
}

const char *fr_mt_name(int mt)
{
	static const char *const n[FR_MT_NTYPES] = {
		"Unmovable", "Movable", "Reclaimable", "HighAtomic", "CMA", "Isolate"
	};
	return mt >= 0 && mt < FR_MT_NTYPES ? n[mt] : "Unknown";
}
