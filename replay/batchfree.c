// SPDX-License-Identifier: GPL-2.0
/* batchfree.c - see batchfree.h. */
#include <stdlib.h>
#include <string.h>
#include "batchfree.h"

void batchfree_init(struct batchfree *b)
{
	memset(b, 0, sizeof(*b));
}

void batchfree_free(struct batchfree *b)
{
	free(b->ring);
	free(b->pos);
	memset(b, 0, sizeof(*b));
}

static int ensure(struct batchfree *b, uint32_t cpu)
{
	uint32_t n = b->ncpus;

	if (cpu < n)
		return 0;
	while (n <= cpu)
		n = n ? n * 2 : 8;
	void *r = realloc(b->ring, n * sizeof(*b->ring));
	if (!r)
		return -1;
	b->ring = r;
	void *p = realloc(b->pos, n * sizeof(*b->pos));
	if (!p)
		return -1;
	b->pos = p;
	memset(b->ring + b->ncpus, 0xff, (n - b->ncpus) * sizeof(*b->ring));
	memset(b->pos + b->ncpus, 0, (n - b->ncpus) * sizeof(*b->pos));
	b->ncpus = n;
	return 0;
}

void batchfree_note(struct batchfree *b, uint32_t cpu, uint64_t pfn)
{
	if (ensure(b, cpu) < 0)
		return;
	b->ring[cpu][b->pos[cpu]++ % BATCHFREE_RING] = pfn;
}

static int scan(struct batchfree *b, uint32_t cpu, uint64_t pfn)
{
	uint32_t p = b->pos[cpu];

	/* newest first: pass 2 follows pass 1 closely */
	for (uint32_t i = 1; i <= BATCHFREE_RING; i++) {
		uint64_t *slot = &b->ring[cpu][(p - i) % BATCHFREE_RING];
		if (*slot == pfn) {
			*slot = UINT64_MAX;
			return 1;
		}
	}
	return 0;
}

int batchfree_is_dup(struct batchfree *b, uint32_t cpu, uint64_t pfn)
{
	if (cpu < b->ncpus && scan(b, cpu, pfn))
		return 1;
	for (uint32_t c = 0; c < b->ncpus; c++)
		if (c != cpu && scan(b, c, pfn))
			return 1;
	return 0;
}
