/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fbgroup.h - caller-fallback groups: the 2^order order-0 pieces that one
 * refused high-order allocation was replayed as (engine.c,
 * caller_fallback()), kept as one array of model pfns per recorded block.
 *
 * Why: each piece used to be its own entry in the engine's recorded-pfn
 * map, 10-12.5 bytes at random addresses.  spb refuses ~19% of the
 * allocations of a fleet-like trace at order 3 (NORETRY), so its map held
 * twice vanilla's entries and went over 8 bytes per modeled page at 1 TiB.
 * A group is one map entry (the recorded head -> a tag naming the group)
 * plus 4 bytes per piece, written in sequence.
 *
 * The engine finds the group of a piece from the piece's recorded pfn: a
 * coverage bitmap (one bit per 8 recorded pages) says whether some group
 * may cover it, and the group's head is the pfn rounded down to the
 * group's order (buddy blocks are aligned), looked up in the map.  Groups
 * of order 3 and up own their bits; groups of order 1 and 2 may share one
 * (fbg_del() clears it, the engine marks it again for the others).
 *
 * Memory: pieces live in 64 KiB chunks per order, reused through a free
 * list; the bitmap is 1/64 byte per recorded page (4 MiB at 1 TiB).
 */
#ifndef FR_FBGROUP_H
#define FR_FBGROUP_H

#include <stddef.h>
#include <stdint.h>

#define FBG_EMPTY UINT32_MAX	/* a piece not (or no longer) allocated */
#define FBG_RELEASED (UINT32_MAX - 1)	/* a piece the policy released early */
#define FBG_MAX_PFN FBG_RELEASED	/* model pfns a piece can hold: below this */
#define FBG_NONE UINT32_MAX	/* no group */
#define FBG_MAX_ORDER 10	/* MAX_PAGE_ORDER; the order is the low 4 bits of a group id */
#define FBG_REGION 3		/* log2 of the pages one coverage bit stands for */

struct fbg_pool {		/* the groups of one order */
	uint32_t **chunk;
	size_t nchunks;
	uint32_t free_head;	/* index + 1 of a free group, 0: none; its first piece links the next */
	uint32_t next_new;	/* groups handed out from chunks so far */
};

struct fbgroups {
	uint64_t *cover;	/* bit pfn >> FBG_REGION: a live group may cover pfn */
	uint64_t npfn;		/* recorded pfns below this may be grouped */
	uint64_t live;		/* groups live: none (vanilla, always) skips the bitmap */
	struct fbg_pool pool[FBG_MAX_ORDER + 1];
};

/* 0, or -1 when out of memory. npfn 0: groups off (fbg_new() says no). */
int fbg_init(struct fbgroups *g, uint64_t npfn);
void fbg_free(struct fbgroups *g);

/* A group for the block recorded at head (aligned to 2^order, order >= 1,
 * head + 2^order <= npfn), every piece FBG_EMPTY and its range marked in
 * the bitmap; FBG_NONE when out of memory or out of range. */
uint32_t fbg_new(struct fbgroups *g, uint64_t head, unsigned order);
/* Free the group and clear its bits (also those a smaller group shares). */
void fbg_del(struct fbgroups *g, uint32_t gid, uint64_t head);
/* Mark the range of a live group again. */
void fbg_mark(struct fbgroups *g, uint64_t head, unsigned order);
/* Whether [lo, hi) may have a page covered by a live group. */
int fbg_any_covered(const struct fbgroups *g, uint64_t lo, uint64_t hi);

static inline unsigned fbg_order(uint32_t gid)
{
	return gid & 15;
}

/* log2 of the groups in one 64 KiB chunk of this order (at least 16) */
static inline unsigned fbg_chunk_shift(unsigned order)
{
	return 14 - order;
}

static inline uint32_t *fbg_pieces(const struct fbgroups *g, uint32_t gid)
{
	unsigned order = fbg_order(gid);
	uint32_t idx = gid >> 4;
	unsigned shift = fbg_chunk_shift(order);

	return g->pool[order].chunk[idx >> shift] + ((size_t)(idx & ((1u << shift) - 1)) << order);
}

/* Whether a live group may cover pfn (its bit is shared with 7 neighbours). */
static inline int fbg_covered(const struct fbgroups *g, uint64_t pfn)
{
	return g->live && pfn < g->npfn && ((g->cover[pfn >> (FBG_REGION + 6)] >> ((pfn >> FBG_REGION) & 63)) & 1);
}

static inline const void *fbg_cover_word(const struct fbgroups *g, uint64_t pfn)
{
	return &g->cover[pfn >> (FBG_REGION + 6)];
}

#endif
