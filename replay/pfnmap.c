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
	m->key = malloc(cap * sizeof(*m->key));
	m->val = malloc(cap * sizeof(*m->val));
	if (!m->key || !m->val) {
		free(m->key);
		free(m->val);
		return -1;
	}
	memset(m->key, 0xff, cap * sizeof(*m->key));
	m->mask = cap - 1;
	m->count = 0;
	return 0;
}

void pfnmap_free(struct pfnmap *m)
{
	free(m->key);
	free(m->val);
	memset(m, 0, sizeof(*m));
}

uint64_t *pfnmap_get(const struct pfnmap *m, uint64_t key)
{
	for (size_t i = hash(key) & m->mask;; i = (i + 1) & m->mask) {
		if (m->key[i] == key)
			return &m->val[i];
		if (m->key[i] == PFNMAP_EMPTY)
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
		if (m->key[i] != PFNMAP_EMPTY)
			pfnmap_put(&n, m->key[i], m->val[i]);
	pfnmap_free(m);
	*m = n;
	return 0;
}

int pfnmap_put(struct pfnmap *m, uint64_t key, uint64_t val)
{
	if ((m->count + 1) * 4 > (m->mask + 1) * 3 && grow(m) < 0)
		return -1;
	for (size_t i = hash(key) & m->mask;; i = (i + 1) & m->mask) {
		if (m->key[i] == key) {
			m->val[i] = val;
			return 0;
		}
		if (m->key[i] == PFNMAP_EMPTY) {
			m->key[i] = key;
			m->val[i] = val;
			m->count++;
			return 0;
		}
	}
}

int pfnmap_del(struct pfnmap *m, uint64_t key, uint64_t *old)
{
	size_t i = hash(key) & m->mask;

	for (;; i = (i + 1) & m->mask) {
		if (m->key[i] == PFNMAP_EMPTY)
			return 0;
		if (m->key[i] == key)
			break;
	}
	if (old)
		*old = m->val[i];
	/* Backward-shift deletion (Knuth 6.4 algorithm R). */
	for (size_t j = i;;) {
		j = (j + 1) & m->mask;
		if (m->key[j] == PFNMAP_EMPTY)
			break;
		size_t home = hash(m->key[j]) & m->mask;
		/* Move j into the hole at i unless its home lies cyclically in (i, j]. */
		if ((j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j))) {
			m->key[i] = m->key[j];
			m->val[i] = m->val[j];
			i = j;
		}
	}
	m->key[i] = PFNMAP_EMPTY;
	m->count--;
	return 1;
}

int pfnmap_next(const struct pfnmap *m, size_t *iter, uint64_t *key, uint64_t *val)
{
	for (size_t i = *iter; i <= m->mask; i++)
		if (m->key[i] != PFNMAP_EMPTY) {
			*key = m->key[i];
			if (val)
				*val = m->val[i];
			*iter = i + 1;
			return 1;
		}
	*iter = m->mask + 1;
	return 0;
}
