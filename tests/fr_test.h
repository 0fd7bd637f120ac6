/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fr_test.h - shared helpers for the cmocka test programs.
 *
 * Tests run from the repository root (tests/run.sh does that). B is the
 * build directory (build, or build-san under SAN=1).
 */
#ifndef FR_TEST_H
#define FR_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

static inline const char *fr_test_builddir(void)
{
	const char *b = getenv("B");
	return b && *b ? b : "build";
}

/* The reference recordings shipped beside the repository (../shared/traces). */
static inline const char *fr_test_shared_traces(void)
{
	const char *s = getenv("FR_SHARED_TRACES");
	return s && *s ? s : "../shared/traces";
}

static inline int fr_test_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* Run a shell command; capture stdout+stderr (up to cap-1 bytes) and return
 * the exit status (or -1). */
static inline int fr_test_run(const char *cmd, char *out, size_t cap)
{
	FILE *p = popen(cmd, "r");
	size_t n = 0;
	int st;
	if (!p)
		return -1;
	if (out && cap) {
		size_t r;
		while (n + 1 < cap && (r = fread(out + n, 1, cap - 1 - n, p)) > 0)
			n += r;
		out[n] = 0;
	}
	{
		char sink[4096];
		while (fread(sink, 1, sizeof(sink), p) > 0)
			;
	}
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Drop the lines sanitizer builds add to a program's output ("==PID==...")
 * in place: the tests check only the program's own lines. */
static inline void fr_test_strip_sanitizer_lines(char *out)
{
	for (char *l = out; *l;) {
		char *e = strchr(l, '\n');
		if (l[0] == '=' && l[1] == '=') {
			size_t n = e ? (size_t)(e + 1 - l) : strlen(l);
			memmove(l, l + n, strlen(l + n) + 1);
			continue;
		}
		l = e ? e + 1 : l + strlen(l);
	}
}

/* A fresh temporary directory for one test (removed by the caller via fr_test_rmrf). */
static inline char *fr_test_tmpdir(void)
{
	char tmpl[] = "/tmp/fragreplay-test-XXXXXX";
	char *d = mkdtemp(tmpl);
	return d ? strdup(d) : NULL;
}

static inline void fr_test_rmrf(const char *dir)
{
	char cmd[4200];
	if (!dir || strncmp(dir, "/tmp/fragreplay-test-", 21))
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "warning: could not remove %s\n", dir);
}

#endif
