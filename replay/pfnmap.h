/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pfnmap.h - open-addressing hash map from a pfn to a 64-bit value.
 *
 * Used for the recorded-pfn -> model-block map of the engine and the live
 * set of `info`.  Linear probing with backward-shift deletion: no
 * tombstones, so a long replay with billions of alloc/free pairs does not
 * degrade.  Key and value share a slot (one cache line serves a lookup).
 * Memory is proportional to live entries, not to trace length.
 */
#ifndef FR_PFNMAP_H
#define FR_PFNMAP_H

#include <stddef.h>
#include <stdint.h>

#define PFNMAP_EMPTY UINT64_MAX

struct pfnmap_slot {
	uint64_t key;		/* PFNMAP_EMPTY marks a free slot */
	uint64_t val;
};

struct pfnmap {
	struct pfnmap_slot *slot;
	size_t mask;		/* capacity - 1 (power of two) */
	size_t count;
};

int pfnmap_init(struct pfnmap *m, size_t initial);
void pfnmap_free(struct pfnmap *m);
/* Returns a pointer to the value slot, or NULL if absent. */
uint64_t *pfnmap_get(const struct pfnmap *m, uint64_t key);
/* Insert or overwrite. -1 on allocation failure. */
int pfnmap_put(struct pfnmap *m, uint64_t key, uint64_t val);
/* Remove; returns 1 if it was present (old value in *old if non-NULL). */
int pfnmap_del(struct pfnmap *m, uint64_t key, uint64_t *old);
/* Iterate: for (size_t i = 0; pfnmap_next(m, &i, &k, &v);) */
int pfnmap_next(const struct pfnmap *m, size_t *iter, uint64_t *key, uint64_t *val);

#endif
