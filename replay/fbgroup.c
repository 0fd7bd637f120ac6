// SPDX-License-Identifier: GPL-2.0
/* fbgroup.c - see fbgroup.h. */
#include <stdlib.h>
#include <string.h>
#include "bitmap.h"
#include "fbgroup.h"

#define CHUNK_BYTES ((size_t)64 << 10)

int fbg_init(struct fbgroups *g, uint64_t npfn)
{
	memset(g, 0, sizeof(*g));
	if (!npfn)
		return 0;
	/* calloc'd pages stay untouched until a group lands */
	g->cover = calloc((npfn >> (FBG_REGION + 6)) + 1, sizeof(uint64_t));
	if (!g->cover)
		return -1;
	g->npfn = npfn;
	return 0;
}

void fbg_free(struct fbgroups *g)
{
	for (unsigned o = 0; o <= FBG_MAX_ORDER; o++) {
		for (size_t c = 0; c < g->pool[o].nchunks; c++)
			free(g->pool[o].chunk[c]);
		free(g->pool[o].chunk);
	}
	free(g->cover);
	memset(g, 0, sizeof(*g));
}

/* Set (on) or clear the bits of the regions [lo, hi) touches. */
static void cover_range(struct fbgroups *g, uint64_t lo, uint64_t hi, int on)
{
	uint64_t n;

	for (uint64_t b = lo >> FBG_REGION, e = ((hi - 1) >> FBG_REGION) + 1; b < e; b += n) {
		uint64_t mask = bm_span(b, e, &n);
		if (on)
			g->cover[b >> 6] |= mask;
		else
			g->cover[b >> 6] &= ~mask;
	}
}

int fbg_any_covered(const struct fbgroups *g, uint64_t lo, uint64_t hi)
{
	uint64_t n;

	if (hi > g->npfn)
		hi = g->npfn;
	if (lo >= hi)
		return 0;
	for (uint64_t b = lo >> FBG_REGION, e = ((hi - 1) >> FBG_REGION) + 1; b < e; b += n)
		if (g->cover[b >> 6] & bm_span(b, e, &n))
			return 1;
	return 0;
}

static int pool_grow(struct fbg_pool *p)
{
	uint32_t **n = realloc(p->chunk, (p->nchunks + 1) * sizeof(*n));

	if (!n)
		return -1;
	p->chunk = n;
	if (!(n[p->nchunks] = malloc(CHUNK_BYTES)))
		return -1;
	p->nchunks++;
	return 0;
}

uint32_t fbg_new(struct fbgroups *g, uint64_t head, unsigned order)
{
	struct fbg_pool *p;
	uint32_t idx, gid, *pc;

	if (order < 1 || order > FBG_MAX_ORDER || head + (1ull << order) > g->npfn)
		return FBG_NONE;
	p = &g->pool[order];
	if (p->free_head) {
		idx = p->free_head - 1;
		pc = fbg_pieces(g, idx << 4 | order);
		p->free_head = pc[0];
	} else {
		if (p->next_new >= (1u << 28))
			return FBG_NONE;	/* gid's 28 index bits */
		if ((p->next_new >> fbg_chunk_shift(order)) >= p->nchunks && pool_grow(p) < 0)
			return FBG_NONE;
		idx = p->next_new++;
	}
	gid = idx << 4 | order;
	pc = fbg_pieces(g, gid);
	memset(pc, 0xff, sizeof(uint32_t) << order);	/* FBG_EMPTY */
	cover_range(g, head, head + (1ull << order), 1);
	g->live++;
	return gid;
}

void fbg_mark(struct fbgroups *g, uint64_t head, unsigned order)
{
	cover_range(g, head, head + (1ull << order), 1);
}

void fbg_del(struct fbgroups *g, uint32_t gid, uint64_t head)
{
	unsigned order = fbg_order(gid);
	struct fbg_pool *p = &g->pool[order];

	cover_range(g, head, head + (1ull << order), 0);
	fbg_pieces(g, gid)[0] = p->free_head;
	p->free_head = (gid >> 4) + 1;
	g->live--;
}
