/* SPDX-License-Identifier: GPL-2.0 */
/* bitmap.h - one bit per pfn (or region) in arrays of uint64_t (prepass,
 * --strict, caller-fallback groups). */
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

/* The bits of [i, end) that lie in i's word, as a mask of that word; *n
 * gets how many.  For loops over a range a word at a time:
 *   for (; i < end; i += n) bm[i >> 6] |= bm_span(i, end, &n); */
static inline uint64_t bm_span(uint64_t i, uint64_t end, uint64_t *n)
{
	uint64_t k = 64 - (i & 63);

	if (k > end - i)
		k = end - i;
	*n = k;
	return (k == 64 ? ~0ull : (1ull << k) - 1) << (i & 63);
}

#endif
