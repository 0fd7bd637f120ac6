// SPDX-License-Identifier: GPL-2.0
/*
 * test_fuzz_regress.c - replay every fuzz seed, kept corpus entry and saved
 * crasher through the same target functions `make fuzz` runs.  Under
 * `make test SAN=1` this is the sanitizer regression suite for the parsers.
 */
#include <dirent.h>
#include "fr_test.h"
#include "fuzz/targets.h"

static int run_dir(const char *dir, int (*fn)(const uint8_t *, size_t))
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char path[4200];
		FILE *f;
		long len;
		uint8_t *buf;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		f = fopen(path, "rb");
		if (!f)
			continue;
		fseek(f, 0, SEEK_END);
		len = ftell(f);
		fseek(f, 0, SEEK_SET);
		buf = malloc(len > 0 ? (size_t)len : 1);
		assert_non_null(buf);
		if (len > 0 && fread(buf, 1, (size_t)len, f) != (size_t)len)
			fail_msg("cannot read %s", path);
		fclose(f);
		fn(buf, (size_t)len);
		free(buf);
		n++;
	}
	closedir(d);
	return n;
}

static void test_replay_all(void **state)
{
	(void)state;
	for (int i = 0; fz_targets[i].name; i++) {
		char dir[512];
		int n = 0;
		const char *kinds[] = { "seeds", "corpus", "crashers" };
		for (int k = 0; k < 3; k++) {
			snprintf(dir, sizeof(dir), "tests/fuzz/%s/%s", kinds[k], fz_targets[i].name);
			n += run_dir(dir, fz_targets[i].fn);
		}
		if (!n)
			fail_msg("no seeds for fuzz target %s", fz_targets[i].name);
		fprintf(stderr, "fuzz target %-10s %d inputs replayed\n", fz_targets[i].name, n);
	}
}

/* Hand-made hostile inputs every target must survive. */
static void test_hostile(void **state)
{
	static uint8_t big[1 << 16];
	const char *texts[] = {
		"", "\n", "FRTRACE\0", "\x17\x08\x44tracing", "\x28\xb5\x2f\xfd",
		"Node 0, zone Normal\n  pages free 1\n", "CPU:1 [LOST 99999999999999999999 EVENTS]\n",
		"x-1 [999999] 1.0: mm_page_alloc: pfn=0xffffffffffffffff order=99 migratetype=-5 gfp_flags=GFP_KERNEL|0x\n",
	};
	(void)state;
	for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++)
		for (int i = 0; fz_targets[i].name; i++)
			fz_targets[i].fn((const uint8_t *)texts[t], t == 2 ? 8 : strlen(texts[t]));	/* the .frt magic includes its NUL */
	memset(big, 'A', sizeof(big));	/* one 64 KiB line with no newline */
	for (int i = 0; fz_targets[i].name; i++)
		fz_targets[i].fn(big, sizeof(big));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replay_all),
		cmocka_unit_test(test_hostile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
