/* SPDX-License-Identifier: GPL-2.0 */
/*
 * batchfree.h - recognise the duplicate marker of a batched free.
 *
 * free_unref_folios() (mm/page_alloc.c) runs two passes over a folio batch:
 * pass 1 calls free_pages_prepare() for every folio, which emits
 * mm_page_free; pass 2 emits mm_page_free_batched for each folio that goes
 * to a per-CPU list.  So "free A, free B, free C, batched A, batched B,
 * batched C" is three frees, not six.  We remember the last frees per CPU
 * (a batch holds at most PAGEVEC_SIZE = 31 folios; we keep 64) and a
 * batched event matching one of them is a duplicate.  Pass 1 runs without
 * the pcp lock, so the match is tried on every CPU's ring, own CPU first.
 */
#ifndef FR_BATCHFREE_H
#define FR_BATCHFREE_H

#include <stdint.h>

#define BATCHFREE_RING 64

struct batchfree {
	uint64_t (*ring)[BATCHFREE_RING];
	uint32_t *pos;
	uint32_t ncpus;
};

void batchfree_init(struct batchfree *b);
void batchfree_free(struct batchfree *b);
void batchfree_note(struct batchfree *b, uint32_t cpu, uint64_t pfn);
/* 1 if this mm_page_free_batched repeats a recent mm_page_free (consumed). */
int batchfree_is_dup(struct batchfree *b, uint32_t cpu, uint64_t pfn);

#endif
