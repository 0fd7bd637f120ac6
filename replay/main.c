// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - fragreplay's entry point: dispatch to the command table.
 */
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"

static const struct fr_cmd commands[] = {
	{ "record",   cmd_record,   "record kmem page events and machine snapshots (root)" },
	{ "info",     cmd_info,     "summarise a recording: events, orders x migratetypes, lost events" },
	{ "convert",  cmd_convert,  "convert any recording to the native .frt format" },
	{ "replay",   cmd_replay,   "replay a recording against one or more allocator policies" },
	{ "policies", cmd_policies, "list the available policies and their parameters" },
	{ "compare",  cmd_compare,  "compare results files; gate on regressions" },
	{ "report",   cmd_report,   "write a self-contained HTML report from results files" },
	{ "synth",    cmd_synth,    "write a machine-scale synthetic trace resampled from a recording" },
};

#define NR_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: fragreplay COMMAND [ARGS...]\n"
		   "       fragreplay COMMAND --help\n\n"
		   "Replay page-allocator traces (kmem:mm_page_alloc / mm_page_free) against\n"
		   "allocator policies and measure how many 1 GiB superpageblocks each one taints.\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < NR_COMMANDS; i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nSee README.md for the full manual.\n");
}

int fr_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fragreplay %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see fragreplay %s --help)\n", cmd);
	return FR_EXIT_BAD;
}

int fr_stderr_is_tty(void)
{
	return isatty(2);
}

int main(int argc, char **argv)
{
	/* Blocks of 1 MiB and up (rings, tables, queues that grow) are their
	 * own mappings, given back when freed and grown with mremap().  By
	 * default glibc raises this threshold to the size of the last such
	 * block freed (up to 32 MiB), after which a queue's old copy, freed
	 * when it doubles, stays resident in a thread's heap: ~25 MB of peak
	 * RSS at 1 TiB / 1 B events (spb). */
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	if (argc < 2) {
		usage(stderr);
		return FR_EXIT_BAD;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return FR_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("fragreplay %s\n", FR_VERSION);
		return FR_EXIT_OK;
	}
	for (size_t i = 0; i < NR_COMMANDS; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "fragreplay: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return FR_EXIT_BAD;
}
