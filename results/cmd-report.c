// SPDX-License-Identifier: GPL-2.0
/*
 * cmd-report.c - `fragreplay report RESULTS.json ... -o REPORT.html`
 *
 * One self-contained HTML file: inline CSS and SVG, no scripts, no network.
 * Per trace: the timeline plot (svg.c), the summary table (table.c, the one
 * `compare` prints), the counters, the trace's metadata, the machine, and
 * the lost events. Deterministic: no time stamps but the trace's own.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"
#include "compare_out.h"
#include "results_read.h"
#include "svg.h"
#include "table.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fragreplay report RESULTS.json ... -o REPORT.html [--baseline POLICY[:key=value,...]]\n"
		"                         [--metric METRIC] [--title TEXT]\n\n"
		"Write one self-contained HTML file (inline CSS and SVG; no scripts, nothing\n"
		"fetched from the network) from results files written by `fragreplay replay -o`.\n"
		"For each trace:\n\n"
		"  - a timeline plot: time in seconds on x, SPBs on y, one colour per policy;\n"
		"    solid line tainted, dashed tainted_live, dotted the lower bound\n"
		"  - the summary table of `fragreplay compare` (with the change against the\n"
		"    baseline when there is one)\n"
		"  - every counter of every run, side by side\n"
		"  - the trace's metadata, the machine's geometry and zones, and lost events\n\n"
		"Runs of the same trace from several files are shown together, labelled as\n"
		"`fragreplay compare` labels them.\n\n"
		"  -o, --output FILE      the HTML file (required; - for standard output);\n"
		"                         written to a temporary file beside it and renamed\n"
		"                         into place, never half-written\n"
		"  -b, --baseline POLICY  add the change of the metric against POLICY (as in\n"
		"                         compare --baseline)\n"
		"  -m, --metric METRIC    the metric of the change column (default tainted_final)\n"
		"  -t, --title TEXT       the page title (default \"fragreplay report\")\n"
		"  -h, --help             this text\n\n"
		"The output depends only on the inputs: no time stamps other than the traces'\n"
		"own, so the same results give byte-identical reports.\n\n"
		"Exit status: 0 ok, 2 bad usage or input (a file that is not JSON or not a\n"
		"fragreplay results file; the output cannot be written).\n");
}

#define esc fr_xml_escape

/* Escaped, with a line-break opportunity after each _ / , and = so that long
 * metric names and policy labels wrap inside narrow table columns. */
static void esc_wrap(FILE *f, const char *s)
{
	char one[2] = { 0, 0 };

	for (; *s; s++) {
		one[0] = *s;
		esc(f, one);
		if ((*s == '_' || *s == '/' || *s == ',' || *s == '=') && s[1])
			fputs("<wbr>", f);
	}
}

/* 1234567 -> 1,234,567 */
static void grouped(FILE *f, long long v)
{
	char b[32], o[48];
	int n, k = 0, neg = v < 0;

	n = snprintf(b, sizeof(b), "%lld", neg ? -v : v);
	if (neg)
		o[k++] = '-';
	for (int i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			o[k++] = ',';
		o[k++] = b[i];
	}
	o[k] = 0;
	fputs(o, f);
}

static void jvalue(FILE *f, const json_t *v)
{
	if (json_is_integer(v)) {
		grouped(f, (long long)json_integer_value(v));
	} else if (json_is_real(v)) {
		fprintf(f, "%.6g", json_real_value(v));
	} else if (json_is_string(v)) {
		esc(f, json_string_value(v));
	} else if (json_is_true(v)) {
		fputs("true", f);
	} else if (json_is_false(v)) {
		fputs("false", f);
	} else if (json_is_array(v)) {
		size_t i;
		json_t *e;
		if (!json_array_size(v))
			fputs("none", f);
		json_array_foreach(v, i, e) {
			if (i)
				fputs(", ", f);
			jvalue(f, e);
		}
	} else if (json_is_object(v)) {
		const char *k;
		json_t *e;
		int n = 0;
		if (!json_object_size(v))
			fputs("none", f);
		json_object_foreach((json_t *)v, k, e) {
			fputs(n++ ? ", " : "", f);
			esc(f, k);
			fputs(" ", f);
			jvalue(f, e);
		}
	} else {
		fputs("null", f);
	}
}

static const char css[] =
	"body{font-family:\"DejaVu Sans\",Helvetica,Arial,sans-serif;font-size:14px;color:#222;"
	"margin:24px auto;max-width:1100px;padding:0 16px;line-height:1.4}\n"
	"h1{font-size:24px;margin-bottom:4px}h2{font-size:19px;margin-top:40px;border-bottom:2px solid #ccc;"
	"padding-bottom:4px}h3{font-size:15px;margin:22px 0 6px}\n"
	"table{border-collapse:collapse;margin:6px 0 12px}th,td{border:1px solid #d0d0d0;padding:3px 8px;"
	"text-align:left;vertical-align:top}th{background:#f2f2f2}td.num,th.num{text-align:right;"
	"font-variant-numeric:tabular-nums}tbody tr:nth-child(even){background:#fafafa}\n"
	"td.fail{color:#b00020;font-weight:bold}td.swatch{width:14px;padding:0}span.swatch{display:inline-block;"
	"width:14px;height:14px;vertical-align:middle;margin-right:6px;border-radius:2px}\n"
	"figure{margin:8px 0}figcaption{font-size:13px;color:#444;max-width:880px}svg.timeline{max-width:100%;height:auto;"
	"border:1px solid #ddd}\n"
	".warn{background:#fff4e5;border-left:4px solid #e69f00;padding:6px 10px}.ok{color:#2e7d32}\n"
	"p.sub{color:#555;margin-top:0}code{font-family:\"DejaVu Sans Mono\",monospace;font-size:13px}\n"
	"nav ul{padding-left:20px}div.scroll{overflow-x:auto;max-width:100%}\n"
	"table.summary td.policy,table.counters th{max-width:20em;overflow-wrap:anywhere}\n"
	"table.summary,table.counters{font-size:13px}\n";

static void summary_table(FILE *f, const struct fr_table *t, const struct fr_group *g)
{
	char cell[FR_CELL];

	fputs("<div class=\"scroll\"><table class=\"summary\">\n<thead><tr>", f);
	for (int c = FR_COL_POLICY; c < FR_NCOLS; c++) {
		if (!fr_table_has_col(t, c))
			continue;
		fr_table_header(t, c, cell, sizeof(cell));
		fprintf(f, "<th%s>", fr_table_col_numeric(c) ? " class=\"num\"" : "");
		esc_wrap(f, cell);
		fputs("</th>", f);
	}
	fputs("</tr></thead>\n<tbody>\n", f);
	for (size_t r = 0; r < g->nrows; r++) {
		const struct fr_row *row = &g->rows[r];
		fputs("<tr>", f);
		for (int c = FR_COL_POLICY; c < FR_NCOLS; c++) {
			if (!fr_table_has_col(t, c))
				continue;
			fr_table_cell(t, g, row, c, cell, sizeof(cell));
			if (c == FR_COL_POLICY) {
				fprintf(f, "<td class=\"policy\"><span class=\"swatch\" style=\"background:%s\"></span>",
					fr_svg_colour(row->colour));
			} else {
				fprintf(f, "<td class=\"%s%s\">", fr_table_col_numeric(c) ? "num" : "txt",
					(c == FR_COL_CHANGE || c == FR_COL_GATE) && row->gate_fail ? " fail" : "");
			}
			esc_wrap(f, cell);
			fputs("</td>", f);
		}
		fputs("</tr>\n", f);
	}
	fputs("</tbody></table></div>\n", f);
}

/* Counter names of every run, flattened ("policy.x" for the policy's own). */
struct names {
	size_t n, cap;
	char **v;
};

static int names_add(struct names *ns, const char *s)
{
	for (size_t i = 0; i < ns->n; i++)
		if (!strcmp(ns->v[i], s))
			return 0;
	if (ns->n == ns->cap) {
		size_t cap = ns->cap ? ns->cap * 2 : 32;
		char **v = realloc(ns->v, cap * sizeof(*v));
		if (!v)
			return -1;
		ns->v = v;
		ns->cap = cap;
	}
	ns->v[ns->n] = strdup(s);
	return ns->v[ns->n++] ? 0 : -1;
}

static int cmp_names(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	int dx = strchr(x, '.') != NULL, dy = strchr(y, '.') != NULL;

	/* the engine's counters first, then each policy's own */
	if (dx != dy)
		return dx - dy;
	return strcmp(x, y);
}

static void names_free(struct names *ns)
{
	for (size_t i = 0; i < ns->n; i++)
		free(ns->v[i]);
	free(ns->v);
}

static const json_t *counter_get(const json_t *ctr, const char *name)
{
	const char *dot = strchr(name, '.');
	char head[256];

	if (!ctr)
		return NULL;
	if (!dot)
		return json_object_get(ctr, name);
	snprintf(head, sizeof(head), "%.*s", (int)(dot - name), name);
	return json_object_get(json_object_get(ctr, head), dot + 1);
}

static int counters_table(FILE *f, const struct fr_group *g)
{
	struct names ns = { 0 };

	for (size_t r = 0; r < g->nrows; r++) {
		const char *k, *k2;
		json_t *v, *v2;
		if (!g->rows[r].run->counters)
			continue;
		json_object_foreach(g->rows[r].run->counters, k, v) {
			if (json_is_object(v)) {
				json_object_foreach(v, k2, v2) {
					char name[512];
					snprintf(name, sizeof(name), "%s.%s", k, k2);
					if (names_add(&ns, name) < 0)
						goto oom;
				}
			} else if (names_add(&ns, k) < 0) {
				goto oom;
			}
		}
	}
	if (!ns.n) {
		fputs("<p>No counters in these results.</p>\n", f);
		return 0;
	}
	qsort(ns.v, ns.n, sizeof(*ns.v), cmp_names);
	fputs("<div class=\"scroll\"><table class=\"counters\">\n<thead><tr><th>counter</th>", f);
	for (size_t r = 0; r < g->nrows; r++) {
		fprintf(f, "<th class=\"num\"><span class=\"swatch\" style=\"background:%s\"></span>",
			fr_svg_colour(g->rows[r].colour));
		esc_wrap(f, g->rows[r].label);
		fputs("</th>", f);
	}
	fputs("</tr></thead>\n<tbody>\n", f);
	for (size_t i = 0; i < ns.n; i++) {
		fputs("<tr><td><code>", f);
		esc(f, ns.v[i]);
		fputs("</code></td>", f);
		for (size_t r = 0; r < g->nrows; r++) {
			const json_t *v = counter_get(g->rows[r].run->counters, ns.v[i]);
			fputs("<td class=\"num\">", f);
			if (v)
				jvalue(f, v);
			else
				fputs("&ndash;", f);
			fputs("</td>", f);
		}
		fputs("</tr>\n", f);
	}
	fputs("</tbody></table></div>\n", f);
	names_free(&ns);
	return 0;
oom:
	names_free(&ns);
	return -1;
}

static void kv_row(FILE *f, const char *key, const char *html_value)
{
	fputs("<tr><th>", f);
	esc(f, key);
	fprintf(f, "</th><td>%s</td></tr>\n", html_value);
}

static void size_text(char *b, size_t cap, double bytes)
{
	static const char *const u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int i = 0;

	while (bytes >= 1024 && i < 4) {
		bytes /= 1024;
		i++;
	}
	snprintf(b, cap, bytes == floor(bytes) ? "%.0f %s" : "%.1f %s", bytes, u[i]);
}

static void trace_meta(FILE *f, const struct fr_group *g, const json_t *root)
{
	const json_t *tr = g->first->trace, *m = g->first->machine, *ev, *zones, *init;
	static const char *const shown[] = { "path", "format", "kernel", "buffer", "events", "events_by_type",
					     "duration_s", "cpus", "snapshots", "lost_events", "lost_event_markers",
					     "lost_by_cpu", NULL };
	const char *k;
	json_t *v;
	char b[128];
	long long pages = fr_jint(m, "spb_pages", 0), psz = fr_jint(m, "page_size", 0);

	fputs("<h3>Trace</h3>\n<table class=\"meta\">\n", f);
	fputs("<tr><th>path</th><td><code>", f);
	esc(f, fr_jstr(tr, "path", ""));
	fputs("</code></td></tr>\n<tr><th>format</th><td>", f);
	esc(f, fr_jstr(tr, "format", "?"));
	fputs("</td></tr>\n<tr><th>kernel</th><td>", f);
	esc(f, *fr_jstr(tr, "kernel", "") ? fr_jstr(tr, "kernel", "") : "(not recorded in the trace)");
	fputs("</td></tr>\n", f);
	if (json_object_get(tr, "buffer")) {
		fputs("<tr><th>buffer</th><td>", f);
		esc(f, fr_jstr(tr, "buffer", ""));
		fputs("</td></tr>\n", f);
	}
	fputs("<tr><th>events</th><td>", f);
	grouped(f, fr_jint(tr, "events", 0));
	fputs("</td></tr>\n", f);
	snprintf(b, sizeof(b), "%.3f s", fr_jnum(tr, "duration_s", 0));
	kv_row(f, "duration", b);
	if (json_object_get(root, "interval_s")) {
		snprintf(b, sizeof(b), "%g s", fr_jnum(root, "interval_s", 0));
		kv_row(f, "sample interval", b);
	}
	if (json_object_get(tr, "cpus")) {
		snprintf(b, sizeof(b), "%lld", fr_jint(tr, "cpus", 0));
		kv_row(f, "CPUs", b);
	}
	fputs("<tr><th>snapshots</th><td>", f);
	if (json_object_get(tr, "snapshots"))
		jvalue(f, json_object_get(tr, "snapshots"));
	else
		fputs("none", f);
	fputs("</td></tr>\n", f);
	/* anything else the trace object holds */
	json_object_foreach((json_t *)tr, k, v) {
		int skip = 0;
		for (int i = 0; shown[i]; i++)
			skip |= !strcmp(k, shown[i]);
		if (skip)
			continue;
		fputs("<tr><th>", f);
		esc(f, k);
		fputs("</th><td>", f);
		jvalue(f, v);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);

	ev = json_object_get(tr, "events_by_type");
	if (json_is_object(ev) && json_object_size(ev)) {
		fputs("<table class=\"events\">\n<thead><tr><th>event</th><th class=\"num\">count</th></tr></thead>\n<tbody>\n", f);
		json_object_foreach((json_t *)ev, k, v) {
			fputs("<tr><td><code>", f);
			esc(f, k);
			fputs("</code></td><td class=\"num\">", f);
			jvalue(f, v);
			fputs("</td></tr>\n", f);
		}
		fputs("</tbody></table>\n", f);
	}

	fputs("<h3>Machine</h3>\n<table class=\"machine\">\n", f);
	snprintf(b, sizeof(b), "%lld B", psz);
	kv_row(f, "page size", b);
	snprintf(b, sizeof(b), "%lld (%lld pages)", fr_jint(m, "pageblock_order", 0),
		 1ll << (fr_jint(m, "pageblock_order", 0) & 63));
	kv_row(f, "pageblock order", b);
	if (json_object_get(m, "max_order")) {
		snprintf(b, sizeof(b), "%lld", fr_jint(m, "max_order", 0));
		kv_row(f, "max order", b);
	}
	{
		char sz[32];
		size_text(sz, sizeof(sz), (double)pages * (double)psz);
		snprintf(b, sizeof(b), "%lld pages (%s)", pages, sz);
		kv_row(f, "SPB size", b);
	}
	snprintf(b, sizeof(b), "%lld", fr_jint(m, "nr_spbs", 0));
	kv_row(f, "SPBs", b);
	init = json_object_get(m, "initial_state");
	if (json_is_object(init)) {
		fputs("<tr><th>initial state</th><td>", f);
		jvalue(f, init);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
	zones = json_object_get(m, "zones");
	if (json_is_array(zones) && json_array_size(zones)) {
		size_t i;
		json_t *z;
		fputs("<table class=\"zones\">\n<thead><tr><th>zone</th><th class=\"num\">start pfn</th>"
		      "<th class=\"num\">end pfn</th><th class=\"num\">managed pages</th>"
		      "<th class=\"num\">usable pages</th><th class=\"num\">SPBs</th>"
		      "<th>initial pageblock labels</th></tr></thead>\n<tbody>\n", f);
		json_array_foreach(zones, i, z) {
			fputs("<tr><td>", f);
			esc(f, fr_jstr(z, "name", "?"));
			fputs("</td>", f);
			static const char *const cols[] = { "start_pfn", "end_pfn", "managed", "usable_pages", "nr_spbs" };
			for (int c = 0; c < 5; c++) {
				fputs("<td class=\"num\">", f);
				if (json_object_get(z, cols[c]))
					jvalue(f, json_object_get(z, cols[c]));
				else
					fputs("&ndash;", f);
				fputs("</td>", f);
			}
			fputs("<td>", f);
			if (json_object_get(z, "initial_pageblock_labels"))
				jvalue(f, json_object_get(z, "initial_pageblock_labels"));
			fputs("</td></tr>\n", f);
		}
		fputs("</tbody></table>\n", f);
	}
}

static void lost_section(FILE *f, const struct fr_group *g)
{
	const json_t *tr = g->first->trace, *by = json_object_get(tr, "lost_by_cpu");
	long long lost = fr_jint(tr, "lost_events", 0), markers = fr_jint(tr, "lost_event_markers", 0);
	const char *k;
	json_t *v;

	fputs("<h3>Lost events</h3>\n", f);
	if (!lost && !markers) {
		fputs("<p class=\"lost ok\">None: the ring buffer lost no events.</p>\n", f);
		return;
	}
	fputs("<p class=\"lost warn\">The ring buffer lost <b>", f);
	grouped(f, lost);
	fprintf(f, "</b> event%s in ", lost == 1 ? "" : "s");
	grouped(f, markers);
	fprintf(f, " lost-event marker%s: the runs miss that part of the allocation demand, so their figures "
		   "are a lower estimate.</p>\n", markers == 1 ? "" : "s");
	if (json_is_object(by) && json_object_size(by)) {
		fputs("<table class=\"lost\">\n<thead><tr><th>CPU</th><th class=\"num\">events lost</th></tr></thead>\n<tbody>\n", f);
		json_object_foreach((json_t *)by, k, v) {
			fputs("<tr><td>", f);
			esc(f, k);
			fputs("</td><td class=\"num\">", f);
			jvalue(f, v);
			fputs("</td></tr>\n", f);
		}
		fputs("</tbody></table>\n", f);
	}
}

static int same_line(const struct fr_svg_series *a, const struct fr_svg_series *b, int which)
{
	const double *x = which == 0 ? a->tainted : which == 1 ? a->live : a->lb;
	const double *y = which == 0 ? b->tainted : which == 1 ? b->live : b->lb;

	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (a->t[i] != b->t[i] || x[i] != y[i])
			return 0;
	return 1;
}

/* "a, b and c" */
static void name_list(FILE *f, const struct fr_svg_series *s, const size_t *idx, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		fputs(i == 0 ? "" : i + 1 == n ? " and " : ", ", f);
		fputs("<b>", f);
		esc(f, s[idx[i]].label);
		fputs("</b>", f);
	}
}

/* Say in words which lines coincide: overlapping lines are the usual case
 * (a policy that changes nothing on a trace) and hard to see in a plot. */
static void coincidences(FILE *f, const struct fr_svg_series *s, size_t n)
{
	size_t *idx = calloc(n ? n : 1, sizeof(*idx));
	char *done = calloc(n ? n : 1, 1);

	if (!idx || !done || n < 2)
		goto out;
	for (size_t i = 0; i < n; i++) {
		size_t k = 0;
		int flat = 1;
		if (done[i])
			continue;
		for (size_t j = i; j < n; j++)
			if (j == i || (!done[j] && same_line(&s[i], &s[j], 0))) {
				idx[k++] = j;
				done[j] = 1;
			}
		if (k < 2)
			continue;
		for (size_t q = 1; q < s[i].n; q++)
			flat &= s[i].tainted[q] == s[i].tainted[0];
		fputs(" ", f);
		if (k == n)
			fprintf(f, "All %zu runs", n);
		else
			name_list(f, s, idx, k);
		fputs(" have the same tainted line", f);
		if (flat && s[i].n)
			fprintf(f, " (%.0f SPBs throughout)", s[i].tainted[0]);
		fputs(k == n ? ": the bands are their lines drawn over each other." : ".", f);
	}
	{
		int lb_same = 1;
		for (size_t j = 1; j < n; j++)
			lb_same &= same_line(&s[0], &s[j], 2);
		if (lb_same)
			fputs(" The lower bound is the same for every run.", f);
	}
out:
	free(idx);
	free(done);
}

static int plot(FILE *f, const struct fr_group *g, size_t gi)
{
	struct fr_svg_series *s = calloc(g->nrows ? g->nrows : 1, sizeof(*s));
	double *buf;
	size_t total = 0, off = 0;
	char id[32], title[1200], ylab[128];

	if (!s)
		return -1;
	for (size_t r = 0; r < g->nrows; r++)
		total += json_array_size(g->rows[r].run->timeline);
	buf = calloc(total ? total * 4 : 1, sizeof(*buf));
	if (!buf) {
		free(s);
		return -1;
	}
	for (size_t r = 0; r < g->nrows; r++) {
		const json_t *tl = g->rows[r].run->timeline;
		size_t n = json_array_size(tl);
		double *t = buf + off, *ta = t + n, *lv = ta + n, *lb = lv + n;
		for (size_t i = 0; i < n; i++) {
			const json_t *smp = json_array_get(tl, i);
			t[i] = fr_jnum(smp, "t", 0);
			ta[i] = (double)fr_jint(smp, "tainted", 0);
			lv[i] = (double)fr_jint(smp, "tainted_live", 0);
			lb[i] = (double)fr_jint(smp, "lower_bound", 0);
		}
		off += 4 * n;
		s[r] = (struct fr_svg_series){ .label = g->rows[r].label, .colour = g->rows[r].colour, .n = n,
					       .t = t, .tainted = ta, .live = lv, .lb = lb };
	}
	snprintf(id, sizeof(id), "plot-%zu", gi + 1);
	snprintf(title, sizeof(title), "Tainted SPBs over time: %s", g->name);
	snprintf(ylab, sizeof(ylab), "SPBs (1 GiB each; %lld in all)", fr_jint(g->first->machine, "nr_spbs", 0));
	fputs("<figure>\n", f);
	fr_svg_write(f, &(struct fr_svg_plot){ .id = id, .title = title, .x_label = "time since the trace's first event (s)",
					     .y_label = ylab, .nseries = g->nrows, .series = s });
	fputs("<figcaption>Solid lines: SPBs tainted; dashed: SPBs holding live non-movable pages "
	      "(tainted_live); dotted: the lower bound, ceil(live non-movable pages / usable pages per SPB). "
	      "One colour per policy; where lines coincide, earlier policies' solid lines are drawn wider, so they "
	      "show as bands around the later ones. Samples every sample interval of trace time and at its end.", f);
	coincidences(f, s, g->nrows);
	fputs("</figcaption>\n</figure>\n", f);
	free(buf);
	free(s);
	return 0;
}

static int write_report(FILE *f, const struct fr_table *t, const struct fr_rfile *files, size_t nfiles,
			const char *title)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"generator\" content=\"fragreplay " FR_VERSION "\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>", f);
	esc(f, title);
	fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>", css);
	esc(f, title);
	fputs("</h1>\n<p class=\"sub\">How many 1 GiB superpageblocks (SPBs) each page-allocator policy leaves "
	      "tainted when the allocations of a recorded trace are replayed against it. An SPB is "
	      "<i>tainted</i> when one of its pageblocks has hosted a non-movable allocation since it was last "
	      "wholly free; the <i>lower bound</i> is the fewest SPBs the live non-movable pages could fit in.</p>\n", f);
	fprintf(f, "<p>%zu trace%s, from ", t->ngroups, t->ngroups == 1 ? "" : "s");
	for (size_t i = 0; i < nfiles; i++) {
		fputs(i ? (i + 1 == nfiles ? " and " : ", ") : "", f);
		fputs("<code>", f);
		esc(f, files[i].path);
		fputs("</code>", f);
	}
	fputs(".", f);
	if (fr_table_has_col(t, FR_COL_CHANGE)) {
		fputs(" Changes are in <code>", f);
		esc(f, t->metric);
		fputs("</code> (", f);
		esc(f, t->metric_desc);
		fputs(") against ", f);
		if (t->baseline) {
			fputs("<code>", f);
			esc(f, t->baseline);
			fputs("</code>", f);
		} else {
			fputs("the same policy in the first results file holding the trace", f);
		}
		fputs(".", f);
	}
	fputs("</p>\n<nav><ul>\n", f);
	for (size_t g = 0; g < t->ngroups; g++) {
		fprintf(f, "<li><a href=\"#trace-%zu\">", g + 1);
		esc(f, t->groups[g].name);
		fprintf(f, "</a> (%zu run%s)</li>\n", t->groups[g].nrows, t->groups[g].nrows == 1 ? "" : "s");
	}
	fputs("</ul></nav>\n", f);

	for (size_t g = 0; g < t->ngroups; g++) {
		const struct fr_group *gr = &t->groups[g];
		fprintf(f, "<section class=\"trace\" id=\"trace-%zu\">\n<h2>", g + 1);
		esc(f, gr->name);
		fputs("</h2>\n<p class=\"sub\">", f);
		esc(f, fr_jstr(gr->first->trace, "format", "?"));
		fputs(", ", f);
		grouped(f, fr_jint(gr->first->trace, "events", 0));
		fprintf(f, " events over %.3f s, %lld SPBs; ", fr_jnum(gr->first->trace, "duration_s", 0),
			fr_jint(gr->first->machine, "nr_spbs", 0));
		if (fr_jint(gr->first->trace, "lost_events", 0) || fr_jint(gr->first->trace, "lost_event_markers", 0)) {
			fputs("<b>", f);
			grouped(f, fr_jint(gr->first->trace, "lost_events", 0));
			fputs(" events lost</b>", f);
		} else {
			fputs("no events lost", f);
		}
		fputs(".</p>\n", f);
		for (size_t r = 0; r < gr->nrows; r++) {
			const struct fr_rfile *rf = gr->rows[r].rf;
			if (!rf->partial || (r && gr->rows[r - 1].rf == rf))
				continue;
			fputs("<p class=\"partial warn\">Partial results: <code>", f);
			esc(f, rf->path);
			fputs("</code> is an interrupted replay; its runs stop after ", f);
			grouped(f, fr_jint(rf->trace, "events", 0));
			fputs(" events.</p>\n", f);
		}
		if (plot(f, gr, g) < 0)
			return -1;
		fputs("<h3>Summary</h3>\n", f);
		summary_table(f, t, gr);
		fputs("<h3>Counters</h3>\n", f);
		if (counters_table(f, gr) < 0)
			return -1;
		trace_meta(f, gr, gr->first->root);
		lost_section(f, gr);
		fputs("</section>\n", f);
	}
	fputs("<footer><p class=\"sub\">Written by fragreplay " FR_VERSION " from the results files above.</p></footer>\n"
	      "</body>\n</html>\n", f);
	return ferror(f) ? -1 : 0;
}

int cmd_report(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "baseline", required_argument, NULL, 'b' },
		{ "metric", required_argument, NULL, 'm' },
		{ "title", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL, *baseline = NULL, *metric = NULL, *title = "fragreplay report";
	struct fr_rfile *files = NULL;
	struct fr_table t;
	size_t nfiles = 0;
	int c, rc = FR_EXIT_OK;
	char tmp[4200] = "";
	FILE *f = NULL;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:b:m:t:h", lo, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'b': baseline = optarg; break;
		case 'm': metric = optarg; break;
		case 't': title = optarg; break;
		case 'h': usage(stdout); return FR_EXIT_OK;
		default: return fr_usage_error("report", "bad option");
		}
	}
	if (optind == argc)
		return fr_usage_error("report", "give at least one RESULTS.json");
	if (!out)
		return fr_usage_error("report", "give the output file with -o REPORT.html");
	if (baseline && !fr_spec_valid(baseline))
		return fr_usage_error("report", "--baseline takes POLICY or POLICY:key=value,..., not '%s'", baseline);
	if (fr_table_load("report", argv + optind, argc - optind, baseline, metric, &files, &nfiles, &t) < 0)
		return FR_EXIT_BAD;

	if (!strcmp(out, "-")) {
		f = stdout;
	} else {
		char dir[4096];
		int fd;
		snprintf(dir, sizeof(dir), "%s", out);
		snprintf(tmp, sizeof(tmp), "%s/.fragreplay-report-XXXXXX", dirname(dir));
		fd = mkstemp(tmp);
		if (fd < 0) {
			fprintf(stderr, "fragreplay report: %s: cannot create a temporary file beside it: %s\n", out,
				strerror(errno));
			tmp[0] = 0;
			rc = FR_EXIT_BAD;
			goto done;
		}
		if (fchmod(fd, 0644) < 0) {
			/* mkstemp's 0600 is merely unusual */
		}
		f = fdopen(fd, "w");
		if (!f) {
			close(fd);
			fprintf(stderr, "fragreplay report: %s: %s\n", out, strerror(errno));
			rc = FR_EXIT_BAD;
			goto done;
		}
	}
	if (write_report(f, &t, files, nfiles, title) < 0 || fflush(f) || (f != stdout && fsync(fileno(f)))) {
		fprintf(stderr, "fragreplay report: %s: cannot write the report: %s\n", out,
			errno ? strerror(errno) : "out of memory");
		rc = FR_EXIT_BAD;
		goto done;
	}
	if (f != stdout) {
		int e = fclose(f);
		f = NULL;
		if (e || rename(tmp, out) < 0) {
			fprintf(stderr, "fragreplay report: %s: cannot put the report in place: %s\n", out,
				strerror(errno));
			rc = FR_EXIT_BAD;
			goto done;
		}
		tmp[0] = 0;
	}
done:
	if (f && f != stdout)
		fclose(f);
	if (tmp[0])
		unlink(tmp);
	fr_table_free(&t);
	fr_rfiles_free(files, nfiles);
	return rc;
}
