/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pfnmap.h - open-addressing hash map from a pfn to a 64-bit value.
 *
 * Used for the recorded-pfn -> model-block map of the engine, the live set
 * of `info`, the first frees of the prepass and synth's tables.
 *
 * Ordered linear probing (Amble & Knuth; Robin Hood with linear probing):
 * a slot holds a bijective hash of the key and the value, and the table is
 * kept sorted by hash.  The home slot is the hash scaled to the table, so
 *  - a lookup stops at the first slot whose hash is not below the key's:
 *    a miss costs about as little as a hit (1-2 slots);
 *  - deletion shifts the following displaced slots back (no tombstones),
 *    so billions of alloc/free pairs do not degrade the table;
 *  - the table never wraps: a few overflow slots follow the last home slot.
 * Slots are 8 bytes (32-bit hash, 32-bit value) while every key is below
 * 2^32 - 1 and every value below 2^32, which covers pfns of machines up to
 * 16 TiB; the first key or value beyond that turns the map into 16-byte
 * slots (64-bit hash, 64-bit value) for good.
 * The table grows when the load would pass 0.8, in place: large tables are
 * their own mappings, grown with mremap(), so no second copy of the table
 * is live while it rehashes.  Past 2^20 home slots it grows by a quarter
 * (load 0.64 right after).  Memory follows the most entries ever live, not
 * the trace length: at most 12.5 bytes per entry at that peak (large maps).
 */
#ifndef FR_PFNMAP_H
#define FR_PFNMAP_H

#include <stddef.h>
#include <stdint.h>

struct pfnmap {
	void *slot;		/* uint64_t[nslots] or, when wide, struct pfnmap_wslot[nslots] */
	size_t cap;		/* home slots */
	size_t nslots;		/* cap + overflow slots; the last one always empty */
	size_t count;
	int wide;
	uint64_t found;		/* the value pfnmap_get() points to */
};

int pfnmap_init(struct pfnmap *m, size_t initial);
void pfnmap_free(struct pfnmap *m);
/* Returns a pointer to a copy of the value, valid until the next call on
 * this map, or NULL if absent.  Writing through it does not change the map:
 * use pfnmap_put(). */
uint64_t *pfnmap_get(struct pfnmap *m, uint64_t key);
/* Insert or overwrite; the key UINT64_MAX is reserved. -1 on allocation
 * failure (the map is unchanged). */
int pfnmap_put(struct pfnmap *m, uint64_t key, uint64_t val);
/* Remove; returns 1 if it was present (old value in *old if non-NULL). */
int pfnmap_del(struct pfnmap *m, uint64_t key, uint64_t *old);
/* Hint: the slots a get or put of key will read soon (no effect on the map). */
void pfnmap_prefetch(const struct pfnmap *m, uint64_t key);
/* Iterate, in no particular order: for (size_t i = 0; pfnmap_next(m, &i, &k, &v);) */
int pfnmap_next(const struct pfnmap *m, size_t *iter, uint64_t *key, uint64_t *val);

#endif
