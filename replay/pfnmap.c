// SPDX-License-Identifier: GPL-2.0
/* pfnmap.c - see pfnmap.h. */
#include <stdlib.h>
#include <string.h>
#include "pfnmap.h"

static inline size_t hash(uint64_t k)
{
	/* Fibonacci hashing: pfns are dense and sequential, spread them. */
	return (size_t)((k * 0x9E3779B97F4A7C15ull) >> 20);
}

int pfnmap_init(struct pfnmap *m, size_t initial)
{
	size_t cap = 1024;

	while (cap < initial * 2)
		cap <<= 1;
	m->slot = malloc(cap * sizeof(*m->slot));
	if (!m->slot)
		return -1;
	memset(m->slot, 0xff, cap * sizeof(*m->slot));	/* every key PFNMAP_EMPTY */
	m->mask = cap - 1;
	m->count = 0;
	return 0;
}

void pfnmap_free(struct pfnmap *m)
{
	free(m->slot);
	memset(m, 0, sizeof(*m));
}

uint64_t *pfnmap_get(const struct pfnmap *m, uint64_t key)
{
	for (size_t i = hash(key) & m->mask;; i = (i + 1) & m->mask) {
		if (m->slot[i].key == key)
			return &m->slot[i].val;
		if (m->slot[i].key == PFNMAP_EMPTY)
			return NULL;
	}
}

static int grow(struct pfnmap *m)
{
	struct pfnmap n;
	size_t cap = (m->mask + 1) * 2;

	if (pfnmap_init(&n, cap / 2) < 0)
		return -1;
	for (size_t i = 0; i <= m->mask; i++)
		if (m->slot[i].key != PFNMAP_EMPTY)
			pfnmap_put(&n, m->slot[i].key, m->slot[i].val);
	pfnmap_free(m);
	*m = n;
	return 0;
}

int pfnmap_put(struct pfnmap *m, uint64_t key, uint64_t val)
{
	if ((m->count + 1) * 4 > (m->mask + 1) * 3 && grow(m) < 0)
		return -1;
	for (size_t i = hash(key) & m->mask;; i = (i + 1) & m->mask) {
		if (m->slot[i].key == key) {
			m->slot[i].val = val;
			return 0;
		}
		if (m->slot[i].key == PFNMAP_EMPTY) {
			m->slot[i].key = key;
			m->slot[i].val = val;
			m->count++;
			return 0;
		}
	}
}

int pfnmap_del(struct pfnmap *m, uint64_t key, uint64_t *old)
{
	size_t i = hash(key) & m->mask;

	for (;; i = (i + 1) & m->mask) {
		if (m->slot[i].key == PFNMAP_EMPTY)
			return 0;
		if (m->slot[i].key == key)
			break;
	}
	if (old)
		*old = m->slot[i].val;
	/* Backward-shift deletion (Knuth 6.4 algorithm R). */
	for (size_t j = i;;) {
		j = (j + 1) & m->mask;
		if (m->slot[j].key == PFNMAP_EMPTY)
			break;
		size_t home = hash(m->slot[j].key) & m->mask;
		/* Move j into the hole at i unless its home lies cyclically in (i, j]. */
		if ((j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j))) {
			m->slot[i] = m->slot[j];
			i = j;
		}
	}
	m->slot[i].key = PFNMAP_EMPTY;
	m->count--;
	return 1;
}

int pfnmap_next(const struct pfnmap *m, size_t *iter, uint64_t *key, uint64_t *val)
{
	for (size_t i = *iter; i <= m->mask; i++)
		if (m->slot[i].key != PFNMAP_EMPTY) {
			*key = m->slot[i].key;
			if (val)
				*val = m->slot[i].val;
			*iter = i + 1;
			return 1;
		}
	*iter = m->mask + 1;
	return 0;
}
