// SPDX-License-Identifier: GPL-2.0
/*
 * test_pfnmap.c - replay/pfnmap.c against a plain array: random puts,
 * overwrites and deletes over dense, strided and clustered keys, through
 * in-place growth and the switch to 16-byte slots.
 */
#include "fr_test.h"
#include <sys/mman.h>
#include "pfnmap.h"

#define ABSENT UINT64_MAX

static uint64_t rng = 88172645463325252ull;

static uint64_t xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Every key of the universe agrees with the reference; iteration yields
 * exactly the live set. */
static void check_all(struct pfnmap *m, const uint64_t *keys, const uint64_t *ref, size_t n)
{
	size_t live = 0, seen = 0;
	uint64_t k, v;

	for (size_t i = 0; i < n; i++) {
		uint64_t *p = pfnmap_get(m, keys[i]);
		if (ref[i] == ABSENT) {
			if (p)
				fail_msg("key %#llx: present, want absent", (unsigned long long)keys[i]);
		} else {
			live++;
			if (!p)
				fail_msg("key %#llx: absent, want %#llx", (unsigned long long)keys[i],
					 (unsigned long long)ref[i]);
			assert_int_equal(*p, ref[i]);
		}
	}
	assert_int_equal(m->count, live);
	for (size_t it = 0; pfnmap_next(m, &it, &k, &v);) {
		uint64_t *p = pfnmap_get(m, k);
		assert_non_null(p);
		assert_int_equal(*p, v);
		seen++;
	}
	assert_int_equal(seen, live);
}

static void churn(uint64_t *keys, size_t n, uint64_t vmax, int rounds, size_t init)
{
	struct pfnmap m;
	uint64_t *ref = malloc(n * sizeof(*ref));

	assert_non_null(ref);
	for (size_t i = 0; i < n; i++)
		ref[i] = ABSENT;
	assert_int_equal(pfnmap_init(&m, init), 0);
	for (int r = 0; r < rounds; r++) {
		/* fill towards a target live share that moves between rounds */
		size_t ops = n * 2;
		unsigned want = 10 + (unsigned)(xorshift() % 85);	/* percent of keys live */
		for (size_t o = 0; o < ops; o++) {
			size_t i = (size_t)(xorshift() % n);
			/* the engine looks a key up, then inserts or deletes it:
			 * put and del start where that get stopped (its hint) */
			if (xorshift() % 4) {
				size_t g = xorshift() % 8 ? i : (size_t)(xorshift() % n);
				uint64_t *p = pfnmap_get(&m, keys[g]);
				if (ref[g] == ABSENT) {
					assert_null(p);
				} else {
					assert_non_null(p);
					assert_int_equal(*p, ref[g]);
				}
			}
			if (xorshift() % 100 < want) {
				uint64_t v = xorshift() % vmax;
				assert_int_equal(pfnmap_put(&m, keys[i], v), 0);
				ref[i] = v;
			} else {
				uint64_t old = 0;
				int was = pfnmap_del(&m, keys[i], &old);
				assert_int_equal(was, ref[i] != ABSENT);
				if (was)
					assert_int_equal(old, ref[i]);
				ref[i] = ABSENT;
			}
		}
		check_all(&m, keys, ref, n);
	}
	/* empty it completely, then once more */
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(pfnmap_del(&m, keys[i], NULL), ref[i] != ABSENT);
		ref[i] = ABSENT;
	}
	check_all(&m, keys, ref, n);
	assert_int_equal(pfnmap_put(&m, keys[0], 1), 0);
	ref[0] = 1;
	check_all(&m, keys, ref, n);
	pfnmap_free(&m);
	free(ref);
}

static void test_dense(void **state)
{
	size_t n = 50000;
	uint64_t *keys = malloc(n * sizeof(*keys));
	(void)state;
	for (size_t i = 0; i < n; i++)
		keys[i] = i;
	churn(keys, n, 1ull << 32, 6, 16);
	free(keys);
}

/* Tables past 4 MiB are mappings of their own, grown with mremap(). */
static void test_big(void **state)
{
	size_t n = 1500000;
	uint64_t *keys = malloc(n * sizeof(*keys));
	(void)state;
	for (size_t i = 0; i < n; i++)
		keys[i] = i * 3;
	churn(keys, n, 1ull << 30, 2, 0);
	free(keys);
}

static void test_strided(void **state)
{
	size_t n = 40000;
	uint64_t *keys = malloc(n * sizeof(*keys));
	(void)state;
	for (size_t i = 0; i < n; i++)
		keys[i] = (uint64_t)i << 9;	/* order-9 heads */
	churn(keys, n, 1ull << 28, 4, 1 << 16);
	for (size_t i = 0; i < n; i++)
		keys[i] = ((uint64_t)i << 3) + 0x3ffff000ull;	/* order-3 heads, high up */
	churn(keys, n, 1ull << 28, 4, 0);
	free(keys);
}

/* Random keys, the compact extremes, then keys whose hashes share their top
 * bits: they pile up in one cluster at the end of the table, past the last
 * home slot (the overflow slots). */
static void test_random_and_edges(void **state)
{
	size_t n = 30000;
	uint64_t *keys = malloc(n * sizeof(*keys));
	(void)state;
	for (size_t i = 0; i < n; i++)
		keys[i] = xorshift() % 0xFFFFFFFEull;
	keys[0] = 0;
	keys[1] = 0xFFFFFFFDull;	/* the largest compact key */
	for (size_t i = 2; i < n; i++)	/* no duplicate keys */
		keys[i] = (keys[i] & ~0xFFFFull) | i;
	churn(keys, n, 1ull << 32, 4, 0);
	for (size_t i = 0; i < 3000; i++)	/* hash32(key) = 0xFFFFFFFF - i */
		keys[i] = (uint64_t)(uint32_t)((0xFFFFFFFFu - (uint32_t)i) * 0x0E8B2F51u) - 1;
	churn(keys, 3000, 1ull << 32, 4, 0);
	{
		struct pfnmap m;
		assert_int_equal(pfnmap_init(&m, 0), 0);
		for (size_t i = 0; i < 3000; i++)
			assert_int_equal(pfnmap_put(&m, keys[i], i), 0);
		assert_true(m.nslots > m.cap + 2000);	/* one cluster past the last home */
		for (size_t i = 0; i < 3000; i++)
			assert_int_equal(*pfnmap_get(&m, keys[i]), i);
		pfnmap_free(&m);
	}
	free(keys);
}

/* A key or value beyond 32 bits switches to 16-byte slots, keeping what is in. */
static void test_wide(void **state)
{
	size_t n = 20000;
	uint64_t *keys = malloc(n * sizeof(*keys));
	struct pfnmap m;
	(void)state;

	assert_int_equal(pfnmap_init(&m, 0), 0);
	for (uint64_t i = 0; i < 5000; i++)
		assert_int_equal(pfnmap_put(&m, i * 7, i), 0);
	assert_int_equal(m.wide, 0);
	assert_int_equal(pfnmap_put(&m, 3, 1ull << 40), 0);
	assert_int_equal(m.wide, 1);
	assert_int_equal(*pfnmap_get(&m, 3), 1ull << 40);
	for (uint64_t i = 0; i < 5000; i++)
		if (i * 7 != 3)
			assert_int_equal(*pfnmap_get(&m, i * 7), i);
	assert_int_equal(pfnmap_put(&m, UINT64_MAX - 1, 5), 0);
	assert_int_equal(*pfnmap_get(&m, UINT64_MAX - 1), 5);
	assert_int_equal(pfnmap_put(&m, 0xFFFFFFFFull, 6), 0);
	assert_int_equal(*pfnmap_get(&m, 0xFFFFFFFFull), 6);
	assert_int_equal(m.count, 5003);
	pfnmap_free(&m);

	for (size_t i = 0; i < n; i++)
		keys[i] = (xorshift() | 1ull << 63) ^ i;	/* synth's gfp combo keys look like this */
	churn(keys, n, UINT64_MAX, 3, 0);
	free(keys);
}

/* A large table starts on a 2 MiB boundary and stays on one when growth has
 * to move it (a mapping right after it blocks growing in place): a huge
 * page moved to a misaligned address is split into 4 KiB pages. */
static void test_big_aligned(void **state)
{
	const uintptr_t huge = (uintptr_t)2 << 20;
	struct pfnmap m;
	size_t n = 0;
	(void)state;

	assert_int_equal(pfnmap_init(&m, 1000000), 0);
	assert_int_equal((uintptr_t)m.slot & (huge - 1), 0);
	void *old = m.slot;
	char *end = (char *)m.slot + ((m.nslots * sizeof(uint64_t) + 4095) & ~(size_t)4095);
	void *block = mmap(end, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	assert_true(block == end);
	while (m.slot == old) {
		assert_int_equal(pfnmap_put(&m, n * 5, n), 0);
		n++;
	}
	assert_true(n > 1000000);	/* grown once the load passed 0.8 */
	assert_int_equal((uintptr_t)m.slot & (huge - 1), 0);
	for (size_t i = 0; i < n; i++) {
		uint64_t *v = pfnmap_get(&m, i * 5);
		assert_non_null(v);
		assert_int_equal(*v, i);
	}
	assert_int_equal(m.count, n);
	munmap(block, 4096);
	pfnmap_free(&m);
}

/* A map made for `expect` entries has the home slots that inserting them
 * into a plain one grows to, and inserting them grows it no further. */
static void test_init_expect(void **state)
{
	static const size_t ns[] = { 0, 1000, 70000, 1500000, 3000000 };
	(void)state;

	for (size_t k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
		struct pfnmap grown, sized;
		assert_int_equal(pfnmap_init(&grown, 1 << 16), 0);
		assert_int_equal(pfnmap_init_expect(&sized, 1 << 16, ns[k]), 0);
		size_t cap0 = sized.cap;
		for (size_t i = 0; i < ns[k]; i++) {
			assert_int_equal(pfnmap_put(&grown, i * 11, i), 0);
			assert_int_equal(pfnmap_put(&sized, i * 11, i), 0);
		}
		assert_int_equal(sized.cap, cap0);
		assert_int_equal(sized.cap, grown.cap);
		assert_int_equal(sized.count, ns[k]);
		for (size_t i = 0; i < ns[k]; i += 997)
			assert_int_equal(*pfnmap_get(&sized, i * 11), i);
		pfnmap_free(&grown);
		pfnmap_free(&sized);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dense),
		cmocka_unit_test(test_big),
		cmocka_unit_test(test_strided),
		cmocka_unit_test(test_random_and_edges),
		cmocka_unit_test(test_wide),
		cmocka_unit_test(test_big_aligned),
		cmocka_unit_test(test_init_expect),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
