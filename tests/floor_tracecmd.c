// SPDX-License-Identifier: GPL-2.0
/*
 * floor_tracecmd.c - the floor for trace.dat ingestion: a bare
 * tracecmd_iterate_events() loop that only counts records, over the top
 * buffer and every buffer instance.  No field is decoded, nothing printed:
 * no reader built on libtracecmd's iterator can be faster.  Built and run
 * by tests/bench.sh (`make bench`), not by the Makefile:
 *
 *   cc -O2 -o floor tests/floor_tracecmd.c $(pkg-config --cflags --libs libtracecmd)
 *   ./floor trace.dat        -> prints the number of records
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <trace-cmd.h>

static int count(struct tracecmd_input *h, struct tep_record *r, int cpu, void *arg)
{
	(void)h;
	(void)r;
	(void)cpu;
	++*(unsigned long long *)arg;
	return 0;
}

int main(int argc, char **argv)
{
	struct tracecmd_input *top;
	unsigned long long n = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s TRACE.dat\n", argv[0]);
		return 2;
	}
	tracecmd_set_loglevel(TEP_LOG_NONE);
	top = tracecmd_open(argv[1], TRACECMD_FL_LOAD_NO_PLUGINS);
	if (!top) {
		fprintf(stderr, "%s: cannot open\n", argv[1]);
		return 2;
	}
	tracecmd_iterate_events(top, NULL, 0, count, &n);
	for (int i = 0; i < tracecmd_buffer_instances(top); i++) {
		struct tracecmd_input *b = tracecmd_buffer_instance_handle(top, i);
		if (!b)
			continue;
		tracecmd_iterate_events(b, NULL, 0, count, &n);
		tracecmd_close(b);
	}
	tracecmd_close(top);
	printf("%llu\n", n);
	return 0;
}
