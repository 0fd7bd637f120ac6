/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hugepage.h - ask for transparent huge pages on a large array that is
 * accessed at random (the model's page words, the engine's pfn map): with
 * THP in "madvise" mode, one TLB entry then covers 2 MiB instead of 4 KiB.
 * Advice only: failure, or a kernel without THP, changes nothing.  Memory
 * use does not grow: these arrays are written whole.
 */
#ifndef FR_HUGEPAGE_H
#define FR_HUGEPAGE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>

static inline void fr_advise_hugepages(void *p, size_t len)
{
#ifdef MADV_HUGEPAGE
	const uintptr_t huge = (uintptr_t)2 << 20;
	uintptr_t a = ((uintptr_t)p + huge - 1) & ~(huge - 1);
	uintptr_t e = ((uintptr_t)p + len) & ~(huge - 1);

	if (p && len >= 4 * huge && e > a)
		madvise((void *)a, e - a, MADV_HUGEPAGE);
#else
	(void)p;
	(void)len;
#endif
}

#endif
