// SPDX-License-Identifier: GPL-2.0
/*
 * cmd-info.c - `fragreplay info TRACE [--json]`: what is in a recording.
 *
 * Events per type (raw counts, as `trace-cmd report` prints them);
 * allocations per order x migratetype (like `perf kmem stat --page`); time
 * span; CPUs; lost events per CPU; pfn range; frees with no allocation in
 * the trace ("free-only" in perf kmem); allocations never freed; duplicate
 * batched frees.  Memory is bounded by the live set, not trace length.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "batchfree.h"
#include "cli.h"
#include "fr_source.h"
#include "pfnmap.h"

#define NORD 11

struct info {
	uint64_t kinds[FR_EV_NKINDS];
	uint64_t alloc_om[NORD + 1][FR_MT_NTYPES + 1]; /* [order][mt], last row/col: out of range */
	uint64_t alloc_failed, alloc_pages;
	uint64_t free_pages;
	uint64_t first_ts, last_ts;
	uint64_t pfn_min, pfn_max;
	uint32_t max_cpu;
	uint64_t *lost;		/* per CPU: events lost */
	uint64_t *lost_unknown;	/* per CPU: loss markers without a count */
	uint32_t nlost;
	uint64_t free_only, free_order_mismatch, realloc_live, dup_batched, batched_alone;
	uint64_t time_backwards;
	uint64_t *by_cpu;	/* events per CPU (loss markers not counted) */
	uint32_t ncpu;
	struct pfnmap live;	/* pfn -> order */
	struct batchfree bf;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fragreplay info TRACE [--json] [--buffer NAME] [--skip-bad]\n\n"
		"Summarise a recording. TRACE is a trace.dat, a text dump (ftrace,\n"
		"trace-cmd report, perf script), a .frt file, a recording directory, or -\n"
		"for standard input; the format is detected from content.\n\n"
		"  --json          machine-readable output on stdout\n"
		"  --buffer NAME   trace.dat: read this buffer/instance (default: the one with events)\n"
		"  --skip-bad      text: skip and count unparsable lines instead of failing\n"
		"  -h, --help      this text\n\n"
		"Reports events per type, allocations per order x migratetype, the time span,\n"
		"CPUs, lost events per CPU, the pfn range, frees of pages not allocated in the\n"
		"trace, allocations never freed, and duplicate batched frees.\n"
		"Exit status: 0 ok, 2 bad input (one line on stderr naming the file).\n");
}

static void note_lost(struct info *in, uint32_t cpu, uint64_t n)
{
	if (cpu >= FR_MAX_CPUS)
		return;
	if (cpu >= in->nlost) {
		uint32_t nn = cpu + 1;
		uint64_t *a = realloc(in->lost, nn * sizeof(*a)), *b;
		if (!a)
			return;
		in->lost = a;
		b = realloc(in->lost_unknown, nn * sizeof(*b));
		if (!b)
			return;
		in->lost_unknown = b;
		for (uint32_t i = in->nlost; i < nn; i++)
			in->lost[i] = in->lost_unknown[i] = 0;
		in->nlost = nn;
	}
	if (n)
		in->lost[cpu] += n;
	else
		in->lost_unknown[cpu]++;
}

static void count_cpu(struct info *in, uint32_t cpu)
{
	if (cpu >= FR_MAX_CPUS)
		return;
	if (cpu >= in->ncpu) {
		uint32_t n = cpu + 1;
		uint64_t *b = realloc(in->by_cpu, n * sizeof(*b));
		if (!b)
			return;
		for (uint32_t i = in->ncpu; i < n; i++)
			b[i] = 0;
		in->by_cpu = b;
		in->ncpu = n;
	}
	in->by_cpu[cpu]++;
}

static void account(struct info *in, const struct fr_event *e)
{
	in->kinds[e->kind < FR_EV_NKINDS ? e->kind : 0]++;
	if (e->kind != FR_EV_LOST)
		count_cpu(in, e->cpu);
	if (in->last_ts && e->ts < in->last_ts)
		in->time_backwards++;
	if (!in->first_ts || e->ts < in->first_ts)
		in->first_ts = e->ts;
	if (e->ts > in->last_ts)
		in->last_ts = e->ts;
	if (e->cpu > in->max_cpu)
		in->max_cpu = e->cpu;
	if (e->kind != FR_EV_LOST && e->pfn != FR_PFN_NONE) {
		if (e->pfn < in->pfn_min)
			in->pfn_min = e->pfn;
		if (e->pfn > in->pfn_max)
			in->pfn_max = e->pfn;
	}
	switch (e->kind) {
	case FR_EV_ALLOC: {
		if (e->pfn == FR_PFN_NONE) {
			in->alloc_failed++;
			break;
		}
		unsigned o = e->order <= 10 ? e->order : NORD;
		unsigned m = e->mt >= 0 && e->mt < FR_MT_NTYPES ? (unsigned)e->mt : FR_MT_NTYPES;
		in->alloc_om[o][m]++;
		in->alloc_pages += 1ull << (e->order & 31);
		if (pfnmap_get(&in->live, e->pfn))
			in->realloc_live++;
		pfnmap_put(&in->live, e->pfn, e->order);
		break;
	}
	case FR_EV_FREE: {
		uint64_t order;
		in->free_pages += 1ull << (e->order & 31);
		batchfree_note(&in->bf, e->cpu, e->pfn);
		if (pfnmap_del(&in->live, e->pfn, &order)) {
			if (order != e->order)
				in->free_order_mismatch++;
		} else {
			in->free_only++;
		}
		break;
	}
	case FR_EV_FREE_BATCHED:
		if (batchfree_is_dup(&in->bf, e->cpu, e->pfn)) {
			in->dup_batched++;
		} else {
			/* a batched marker with no preceding free: count it as a free */
			in->batched_alone++;
			if (!pfnmap_del(&in->live, e->pfn, NULL))
				in->free_only++;
		}
		break;
	case FR_EV_LOST:
		note_lost(in, e->cpu, e->gfp);
		break;
	}
}

static json_t *to_json(const struct info *in, const struct fr_meta *meta, uint64_t skipped)
{
	json_t *j = json_object(), *ev = json_object(), *om = json_object(), *lost = json_object();
	uint64_t total = 0, lost_total = 0;

	for (int k = 1; k < FR_EV_NKINDS; k++) {
		if (k == FR_EV_LOST)
			continue;
		json_object_set_new(ev, fr_kind_name(k), json_integer((json_int_t)in->kinds[k]));
		total += in->kinds[k];
	}
	for (unsigned o = 0; o <= NORD; o++) {
		json_t *row = json_object();
		int any = 0;
		for (unsigned m = 0; m <= FR_MT_NTYPES; m++) {
			if (!in->alloc_om[o][m])
				continue;
			json_object_set_new(row, m < FR_MT_NTYPES ? fr_mt_name((int)m) : "other",
					    json_integer((json_int_t)in->alloc_om[o][m]));
			any = 1;
		}
		char key[16];
		snprintf(key, sizeof(key), o < NORD ? "%u" : "other", o);
		if (any)
			json_object_set_new(om, key, row);
		else
			json_decref(row);
	}
	for (uint32_t c = 0; c < in->nlost; c++) {
		if (!in->lost[c] && !in->lost_unknown[c])
			continue;
		char key[16];
		snprintf(key, sizeof(key), "%u", c);
		json_object_set_new(lost, key, json_pack("{s:I,s:I}", "events", (json_int_t)in->lost[c],
							 "markers_without_count", (json_int_t)in->lost_unknown[c]));
		lost_total += in->lost[c];
	}
	json_object_set_new(j, "path", json_string(meta->path));
	json_object_set_new(j, "format", json_string(meta->format));
	if (meta->buffer[0])
		json_object_set_new(j, "buffer", json_string(meta->buffer));
	if (meta->kernel[0])
		json_object_set_new(j, "kernel", json_string(meta->kernel));
	json_object_set_new(j, "events", ev);
	json_object_set_new(j, "events_total", json_integer((json_int_t)total));
	json_object_set_new(j, "allocs_by_order_migratetype", om);
	json_object_set_new(j, "alloc_failures", json_integer((json_int_t)in->alloc_failed));
	json_object_set_new(j, "alloc_pages", json_integer((json_int_t)in->alloc_pages));
	json_object_set_new(j, "free_pages", json_integer((json_int_t)in->free_pages));
	json_object_set_new(j, "first_ts_ns", json_integer((json_int_t)in->first_ts));
	json_object_set_new(j, "last_ts_ns", json_integer((json_int_t)in->last_ts));
	json_object_set_new(j, "duration_s", json_real(total ? (double)(in->last_ts - in->first_ts) / 1e9 : 0));
	json_object_set_new(j, "cpus", json_integer(meta->nr_cpus > in->max_cpu ? meta->nr_cpus : in->max_cpu + 1));
	json_object_set_new(j, "lost_events", json_integer((json_int_t)lost_total));
	{
		json_t *bc = json_object();
		for (uint32_t c = 0; c < in->ncpu; c++) {
			char key[16];
			snprintf(key, sizeof(key), "%u", c);
			json_object_set_new(bc, key, json_integer((json_int_t)in->by_cpu[c]));
		}
		json_object_set_new(j, "events_by_cpu", bc);
	}
	json_object_set_new(j, "lost_by_cpu", lost);
	json_object_set_new(j, "pfn_min", json_integer(total ? (json_int_t)in->pfn_min : 0));
	json_object_set_new(j, "pfn_max", json_integer(total ? (json_int_t)in->pfn_max : 0));
	json_object_set_new(j, "frees_without_alloc", json_integer((json_int_t)in->free_only));
	json_object_set_new(j, "allocs_never_freed", json_integer((json_int_t)in->live.count));
	json_object_set_new(j, "duplicate_batched_frees", json_integer((json_int_t)in->dup_batched));
	json_object_set_new(j, "batched_frees_without_free", json_integer((json_int_t)in->batched_alone));
	json_object_set_new(j, "free_order_mismatches", json_integer((json_int_t)in->free_order_mismatch));
	json_object_set_new(j, "allocs_of_live_pfn", json_integer((json_int_t)in->realloc_live));
	json_object_set_new(j, "out_of_order_events", json_integer((json_int_t)in->time_backwards));
	json_object_set_new(j, "skipped_lines", json_integer((json_int_t)skipped));
	{
		json_t *snaps = json_array();
		for (int s = 0; s < FR_NSNAPS; s++)
			if (meta->snaps.blob[s].data)
				json_array_append_new(snaps, json_string(fr_snap_name(s)));
		json_object_set_new(j, "snapshots", snaps);
	}
	return j;
}

static void print_text(const struct info *in, const struct fr_meta *meta, uint64_t skipped)
{
	uint64_t total = 0, lost_total = 0;

	printf("trace:    %s (%s%s%s)\n", meta->path, meta->format, meta->buffer[0] ? ", buffer " : "",
	       meta->buffer);
	for (int k = 1; k < FR_EV_NKINDS; k++)
		if (k != FR_EV_LOST)
			total += in->kinds[k];
	printf("events:   %" PRIu64 " over %.3f s on %u CPUs\n", total,
	       total ? (double)(in->last_ts - in->first_ts) / 1e9 : 0.0,
	       meta->nr_cpus > in->max_cpu ? meta->nr_cpus : in->max_cpu + 1);
	for (int k = 1; k < FR_EV_NKINDS; k++)
		if (k != FR_EV_LOST)
			printf("  %-28s %12" PRIu64 "\n", fr_kind_name(k), in->kinds[k]);
	printf("  per CPU:");
	for (uint32_t c = 0; c < in->ncpu; c++)
		printf(" cpu%u %" PRIu64, c, in->by_cpu[c]);
	printf("\n\nallocations by order x migratetype (failed: %" PRIu64 ")\n", in->alloc_failed);
	printf("  %5s", "order");
	for (int m = 0; m < FR_MT_NTYPES; m++)
		printf(" %12s", fr_mt_name(m));
	printf("\n");
	for (unsigned o = 0; o <= NORD; o++) {
		uint64_t row = 0;
		for (unsigned m = 0; m <= FR_MT_NTYPES; m++)
			row += in->alloc_om[o][m];
		if (!row)
			continue;
		if (o < NORD)
			printf("  %5u", o);
		else
			printf("  %5s", "other");
		for (unsigned m = 0; m < FR_MT_NTYPES; m++)
			printf(" %12" PRIu64, in->alloc_om[o][m]);
		printf("\n");
	}
	for (uint32_t c = 0; c < in->nlost; c++)
		lost_total += in->lost[c];
	printf("\nlost events:              %" PRIu64 "\n", lost_total);
	for (uint32_t c = 0; c < in->nlost; c++)
		if (in->lost[c] || in->lost_unknown[c])
			printf("  cpu %u: %" PRIu64 " lost, %" PRIu64 " loss markers without a count\n", c,
			       in->lost[c], in->lost_unknown[c]);
	printf("pfn range:                %#" PRIx64 " - %#" PRIx64 "\n", total ? in->pfn_min : 0,
	       total ? in->pfn_max : 0);
	printf("frees without alloc:      %" PRIu64 "\n", in->free_only);
	printf("allocs never freed:       %zu\n", in->live.count);
	printf("duplicate batched frees:  %" PRIu64 "\n", in->dup_batched);
	if (in->batched_alone)
		printf("batched frees alone:      %" PRIu64 "\n", in->batched_alone);
	if (in->time_backwards)
		printf("out-of-order events:      %" PRIu64 "\n", in->time_backwards);
	if (skipped)
		printf("skipped bad lines:        %" PRIu64 "\n", skipped);
	printf("snapshots:               ");
	int any = 0;
	for (int s = 0; s < FR_NSNAPS; s++)
		if (meta->snaps.blob[s].data) {
			printf(" %s", fr_snap_name(s));
			any = 1;
		}
	printf("%s\n", any ? "" : " none");
}

int cmd_info(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "buffer", required_argument, NULL, 'b' },
		{ "skip-bad", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct fr_open_opts oo = { 0 };
	struct fr_error err;
	struct fr_source *src;
	struct info in;
	int json = 0, c, rc = FR_EXIT_OK;
	static struct fr_event buf[8192];
	ssize_t n;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'b': oo.buffer = optarg; break;
		case 's': oo.skip_bad = 1; break;
		case 'h': usage(stdout); return FR_EXIT_OK;
		default: return fr_usage_error("info", "bad option");
		}
	}
	if (optind != argc - 1)
		return fr_usage_error("info", "expects exactly one TRACE");

	src = fr_source_open(argv[optind], &oo, &err);
	if (!src) {
		fprintf(stderr, "fragreplay info: %s\n", err.msg);
		return FR_EXIT_BAD;
	}
	memset(&in, 0, sizeof(in));
	in.pfn_min = UINT64_MAX;
	batchfree_init(&in.bf);
	if (pfnmap_init(&in.live, 1 << 16) < 0) {
		fprintf(stderr, "fragreplay info: out of memory\n");
		fr_source_close(src);
		return FR_EXIT_BAD;
	}
	fr_source_readahead(src, 1);	/* decode on one core, account on the other */
	while ((n = fr_source_read(src, buf, sizeof(buf) / sizeof(buf[0]), &err)) > 0)
		for (ssize_t i = 0; i < n; i++)
			account(&in, &buf[i]);
	if (n < 0) {
		fprintf(stderr, "fragreplay info: %s\n", err.msg);
		rc = FR_EXIT_BAD;
	} else if (json) {
		json_t *j = to_json(&in, fr_source_meta(src), fr_source_skipped(src));
		json_dumpf(j, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		printf("\n");
		json_decref(j);
	} else {
		print_text(&in, fr_source_meta(src), fr_source_skipped(src));
	}
	pfnmap_free(&in.live);
	batchfree_free(&in.bf);
	free(in.lost);
	free(in.lost_unknown);
	free(in.by_cpu);
	fr_source_close(src);
	return rc;
}
