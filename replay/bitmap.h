/* SPDX-License-Identifier: GPL-2.0 */
/* bitmap.h - one bit per pfn in arrays of uint64_t (prepass, --strict). */
#ifndef FR_BITMAP_H
#define FR_BITMAP_H

#include <stdint.h>

static inline int bm_test(const uint64_t *bm, uint64_t i)
{
	return (int)((bm[i >> 6] >> (i & 63)) & 1);
}

static inline void bm_set(uint64_t *bm, uint64_t i)
{
	bm[i >> 6] |= 1ull << (i & 63);
}

static inline void bm_clr(uint64_t *bm, uint64_t i)
{
	bm[i >> 6] &= ~(1ull << (i & 63));
}

#endif
