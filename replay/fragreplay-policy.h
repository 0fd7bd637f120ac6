/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fragreplay-policy.h - the only header an allocator policy includes.
 *
 * A policy is a shared object exporting one symbol:
 *
 *   const struct frp_policy *fragreplay_policy_entry(uint32_t host_api);
 *
 * It returns a vtable whose api_version must equal FRP_API_VERSION of the
 * host; fragreplay refuses any other version with a clear message.  Like
 * SQLite's loadable extensions, a policy never links against the host: it
 * reaches the model only through the struct frp_model_ops table it is
 * handed at init.  Policies decide *placement*; the engine owns the model,
 * the recorded-pfn map and every metric, so two policies are always
 * measured identically.
 *
 * Build a policy outside the tree:
 *   cc -shared -fPIC $(pkg-config --cflags fragreplay) -o mine.so mine.c
 *   fragreplay replay TRACE -p ./mine.so
 *
 * Vocabulary (kernel names, mm/page_alloc.c):
 *   block    a buddy chunk: 2^order pages at a 2^order-aligned pfn
 *   free     on a buddy free list (zone->free_area / sb->free_area)
 *   pcp      on a per-CPU list (struct per_cpu_pages), free but not in buddy
 *   taken    removed from buddy or pcp by the policy, about to be handed out
 *   label    the pageblock's migratetype bits (get_pageblock_migratetype)
 *   has      the pageblock's content bits (PB_has_* of the SPB series)
 */
#ifndef FRAGREPLAY_POLICY_H
#define FRAGREPLAY_POLICY_H

#include <stddef.h>
#include <stdint.h>

#define FRP_API_VERSION 1

#define FRP_NONE UINT64_MAX	/* "no block" */

/* Migratetypes (enum migratetype with CMA and MEMORY_ISOLATION). */
enum { FRP_MT_UNMOVABLE, FRP_MT_MOVABLE, FRP_MT_RECLAIMABLE, FRP_MT_HIGHATOMIC,
       FRP_MT_CMA, FRP_MT_ISOLATE, FRP_NR_MT };
#define FRP_MT_PCPTYPES 3

/* Pageblock content bits (PB_has_*). */
#define FRP_HAS(mt) (1u << (mt))
#define FRP_HAS_NONMOVABLE (FRP_HAS(FRP_MT_UNMOVABLE) | FRP_HAS(FRP_MT_RECLAIMABLE) | \
			    FRP_HAS(FRP_MT_HIGHATOMIC))

/* SPB categories, as the engine measures them (product.md, Metrics). */
enum { FRP_SPB_EMPTY, FRP_SPB_CLEAN, FRP_SPB_TAINTED, FRP_NR_SPB_CAT };

/* gfp bits of the 6.10+ enum layout (include/linux/gfp_types.h). */
#define FRP_GFP_DMA		0x1ull
#define FRP_GFP_HIGHMEM		0x2ull
#define FRP_GFP_DMA32		0x4ull
#define FRP_GFP_MOVABLE		0x8ull
#define FRP_GFP_RECLAIMABLE	0x10ull
#define FRP_GFP_HIGH		0x20ull
#define FRP_GFP_IO		0x40ull
#define FRP_GFP_FS		0x80ull
#define FRP_GFP_ZERO		0x100ull
#define FRP_GFP_DIRECT_RECLAIM	0x400ull
#define FRP_GFP_KSWAPD_RECLAIM	0x800ull
#define FRP_GFP_WRITE		0x1000ull
#define FRP_GFP_NOWARN		0x2000ull
#define FRP_GFP_RETRY_MAYFAIL	0x4000ull
#define FRP_GFP_NOFAIL		0x8000ull
#define FRP_GFP_NORETRY		0x10000ull
#define FRP_GFP_MEMALLOC	0x20000ull
#define FRP_GFP_COMP		0x40000ull
#define FRP_GFP_NOMEMALLOC	0x80000ull
#define FRP_GFP_HARDWALL	0x100000ull
#define FRP_GFP_THISNODE	0x200000ull
#define FRP_GFP_ACCOUNT		0x400000ull

struct frp_model;		/* opaque: owned by the engine */

struct frp_zone {
	const char *name;	/* "DMA", "DMA32", "Normal", "Movable" */
	uint64_t start_pfn, end_pfn; /* [start, end) span */
	uint64_t managed;	/* usable pages */
	uint64_t wmark_min, wmark_low, wmark_high;
	uint32_t pcp_batch, pcp_high_min, pcp_high_max;
	uint32_t first_spb, nr_spbs; /* SPBs overlapping this zone */
};

struct frp_geometry {
	unsigned page_shift;	/* 12 */
	unsigned pageblock_order; /* 9 */
	unsigned max_order;	/* 10 (MAX_PAGE_ORDER) */
	unsigned spb_order;	/* 18: 1 GiB superpageblocks */
	unsigned nr_cpus;
	unsigned nr_zones;	/* zones, lowest first (DMA, DMA32, Normal...) */
	uint64_t nr_spbs, nr_pageblocks, end_pfn;
};

/* Read-only counters of one SPB, maintained by the model. */
struct frp_spb_info {
	uint64_t start_pfn;
	uint32_t zone;
	uint32_t total_pageblocks; /* usable (not wholly absent) pageblocks */
	uint32_t nr_free;	/* wholly free pageblocks (PB_all_free) */
	uint64_t nr_free_pages;	/* buddy free pages */
	uint64_t usable_pages;
	uint32_t nr_has[FRP_NR_MT]; /* pageblocks whose content bit mt is set */
	uint32_t nr_label[FRP_NR_MT]; /* pageblocks labelled mt */
	int category;		/* FRP_SPB_* */
};

/*
 * The model, as a policy sees it.  Every call takes the model handle first.
 * Functions returning a pfn return FRP_NONE for "none".
 */
struct frp_model_ops {
	uint32_t api_version;
	uint32_t size;		/* sizeof(struct frp_model_ops), for append-only growth */

	const struct frp_geometry *(*geometry)(struct frp_model *m);
	const struct frp_zone *(*zone)(struct frp_model *m, unsigned zone);
	uint64_t (*now_ns)(struct frp_model *m); /* trace clock */

	/* --- pages and pageblocks --- */
	int (*pfn_zone)(struct frp_model *m, uint64_t pfn);	/* -1: hole */
	int (*pb_label)(struct frp_model *m, uint64_t pfn);	/* migratetype label */
	unsigned (*pb_has)(struct frp_model *m, uint64_t pfn);	/* FRP_HAS_* bits */
	unsigned (*pb_free_pages)(struct frp_model *m, uint64_t pfn); /* buddy free pages in pb */
	/* Pages in the pageblock that are allocated with a movable migratetype. */
	unsigned (*pb_movable_pages)(struct frp_model *m, uint64_t pfn);
	/* Relabel one pageblock (set_pageblock_migratetype); free chunks stay where they are. */
	void (*pb_set_label)(struct frp_model *m, uint64_t pfn, int mt);
	/* __move_freepages_block: relabel the pageblock and move its free chunks
	 * to the tail of mt's lists in ascending pfn order. Returns pages moved. */
	unsigned (*pb_move_freepages)(struct frp_model *m, uint64_t pfn, int mt);
	/* Mark content (PB_has_mt) without allocating (e.g. claim_whole_block). */
	void (*pb_set_has)(struct frp_model *m, uint64_t pfn, int mt);

	/* --- buddy free lists: per SPB, per order, per migratetype --- */
	uint64_t (*spb_list_head)(struct frp_model *m, uint64_t spb, unsigned order, int mt);
	uint64_t (*list_next)(struct frp_model *m, uint64_t pfn); /* next chunk on same list */
	uint64_t (*spb_list_count)(struct frp_model *m, uint64_t spb, unsigned order, int mt);
	/* Zone-wide list emulation: the head a single zone->free_area list would give.
	 * (Upstream keeps one list per zone; the model keeps them per SPB and orders
	 * SPBs most-recently-inserted-at-head first, see replay/model.c.) */
	uint64_t (*zone_list_head)(struct frp_model *m, unsigned zone, unsigned order, int mt);
	uint64_t (*zone_list_count)(struct frp_model *m, unsigned zone, unsigned order, int mt);
	/* NR_FREE_PAGES of the zone (buddy only; per-CPU lists excluded, as upstream) */
	uint64_t (*zone_free_pages)(struct frp_model *m, unsigned zone);
	/* free chunks of exactly this order in the zone, all types (zone->free_area[order].nr_free) */
	uint64_t (*zone_nr_free)(struct frp_model *m, unsigned zone, unsigned order);
	/* Order of the free chunk headed at pfn, -1 if pfn is not a free chunk head. */
	int (*free_order)(struct frp_model *m, uint64_t pfn);
	int (*free_mt)(struct frp_model *m, uint64_t pfn);

	/* page_del_and_expand: unlink free chunk `pfn`, split down to `order`,
	 * upper halves to the head of the chunk's list; returns the low piece,
	 * now taken. */
	uint64_t (*take)(struct frp_model *m, uint64_t pfn, unsigned order);
	/* Carve exactly [pfn, pfn + 2^order) out of whatever free chunk holds it
	 * (the `recorded` policy). FRP_NONE if any page is not free. */
	uint64_t (*take_at)(struct frp_model *m, uint64_t pfn, unsigned order);
	/* __free_one_page: merge with free buddies and insert (head, or tail when
	 * buddy_merge_likely()), on the list of the pageblock's label. */
	void (*free_block)(struct frp_model *m, uint64_t pfn, unsigned order);

	/* --- per-CPU lists (struct per_cpu_pages), one set per (cpu, zone) --- */
	/* pindex as order_to_pindex(): order*3+mt for order<=3, 12/13 for THP. */
	void (*pcp_push)(struct frp_model *m, unsigned cpu, unsigned zone, unsigned pindex,
			 uint64_t pfn, unsigned order, int at_tail);
	uint64_t (*pcp_pop)(struct frp_model *m, unsigned cpu, unsigned zone, unsigned pindex,
			    int from_tail);	/* FRP_NONE if empty; returned block is taken */
	uint64_t (*pcp_count)(struct frp_model *m, unsigned cpu, unsigned zone, unsigned pindex);
	uint64_t (*pcp_pages)(struct frp_model *m, unsigned cpu, unsigned zone); /* pages */

	/* --- SPBs --- */
	const struct frp_spb_info *(*spb)(struct frp_model *m, uint64_t spb);
	uint64_t (*pfn_to_spb)(struct frp_model *m, uint64_t pfn);

	/* --- migration of an allocated block (compaction, evacuation) --- */
	/* Is the allocated block at pfn movable (allocated with MIGRATE_MOVABLE)? */
	int (*alloc_order)(struct frp_model *m, uint64_t pfn); /* -1: not an allocated head */
	int (*alloc_mt)(struct frp_model *m, uint64_t pfn);
	/* Move allocated block `from` onto the taken block `to` (same order); `from`
	 * is freed with free_block. The engine keeps its recorded-pfn map right. */
	int (*migrate)(struct frp_model *m, uint64_t from, uint64_t to);

	/* --- counters a policy reports, named as the kernel names them ---
	 * `counter` must have static storage (a string literal or an entry of a
	 * static table): the host keeps the pointer and compares it first. */
	void (*count)(struct frp_model *m, const char *counter, uint64_t delta);

	/* --- appended (API 1 is append-only: check `size` before use) --- */
	/* Drop the allocated block headed at pfn as if its owner had freed it now
	 * (e.g. a shrinker freeing slab pages).  Its content is accounted out and
	 * the engine forgets its recorded pfn, so the trace's later free of that
	 * pfn counts as a released free (released_frees), not an unknown one.  The block is left taken: the policy
	 * must hand it back (free_block or a per-CPU list).  Returns the block's
	 * order, or -1 if pfn is not an allocated head. */
	int (*release_alloc)(struct frp_model *m, uint64_t pfn);
	/* Which of an SPB's buddy free lists are non-empty, in one call: bit
	 * (mt * 16 + order) is set when free_area[order].free_list[mt] holds a
	 * chunk, for mt < 4 (UNMOVABLE, MOVABLE, RECLAIMABLE, HIGHATOMIC). */
	uint64_t (*spb_free_orders)(struct frp_model *m, uint64_t spb);
	/* The same for a zone's emulated zone-wide lists (zone_list_count != 0):
	 * the high-order part of __zone_watermark_ok() in one call. */
	uint64_t (*zone_free_orders)(struct frp_model *m, unsigned zone);
	/* The value of counter `counter` (named and stored as for count()), for
	 * hot paths: the policy adds to *slot itself.  The slot is valid until
	 * fini; the counter is reported from this call on, even at 0. */
	uint64_t *(*counter)(struct frp_model *m, const char *counter);
};

/* An allocation request, from one traced mm_page_alloc. */
struct frp_request {
	uint64_t gfp;		/* recorded gfp_flags bits */
	uint64_t now_ns;	/* trace time */
	uint64_t rec_pfn;	/* where the real kernel put it (the `recorded` policy) */
	uint32_t cpu;
	uint8_t order;
	int8_t mt;		/* requested migratetype (gfp_migratetype) */
	uint8_t zone;		/* highest zone the gfp allows (gfp_zone) */
	uint8_t pad;
};

/* A policy parameter: printed by `fragreplay policies`, set with -p name:key=value. */
struct frp_param {
	const char *name;
	const char *def;	/* default, as text */
	const char *help;
};

struct frp_policy {
	uint32_t api_version;	/* FRP_API_VERSION the policy was built with */
	uint32_t size;		/* sizeof(struct frp_policy) */
	const char *name;
	const char *description;
	const struct frp_param *params; /* terminated by {NULL} */

	/* Called once per run. vals[i] is the value of params[i] (text).
	 * Return private state, or NULL with a message in err. */
	void *(*init)(struct frp_model *m, const struct frp_model_ops *ops,
		      const char *const *vals, char *err, size_t errlen);
	/* Place one allocation. Return the pfn of a block of exactly rq->order
	 * pages that the policy has taken (ops->take/take_at/pcp_pop), or
	 * FRP_NONE when it cannot be placed (the model is full). */
	uint64_t (*alloc)(void *self, const struct frp_request *rq);
	/* Free an allocated block (already marked free of content by the engine):
	 * put it on a pcp list or give it to ops->free_block. */
	void (*free)(void *self, uint64_t pfn, unsigned order, unsigned cpu, uint64_t now_ns);
	/* Background work on the trace clock (may be NULL). Called before each event
	 * whose time has advanced. */
	void (*tick)(void *self, uint64_t now_ns);
	/* Hand everything on per-CPU lists back to the buddy (end of replay). May be NULL. */
	void (*drain)(void *self);
	void (*fini)(void *self);
};

typedef const struct frp_policy *(*frp_entry_fn)(uint32_t host_api);
#define FRP_ENTRY_SYMBOL "fragreplay_policy_entry"

#endif
