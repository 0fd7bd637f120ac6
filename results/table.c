// SPDX-License-Identifier: GPL-2.0
/*
 * table.c - trace x policy table shared by compare and report (table.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "table.h"

const char *const fr_metric_names[] = {
	"tainted_final", "tainted_max", "tainted_live_final", "tainted_live_max", "ratio",
	"gigantic_available_min", "gigantic_available_final", "fresh_taints", "alloc_failures", NULL,
};

static const char *const metric_descs[] = {
	"SPBs tainted at the end of the trace",
	"most SPBs tainted at any sample",
	"SPBs holding live non-movable pages at the end",
	"most SPBs holding live non-movable pages at any sample",
	"tainted_final / lower bound at the end (1.00 is the physical optimum)",
	"fewest SPBs free for a 1 GiB page at any sample",
	"SPBs free for a 1 GiB page at the end",
	"times an SPB turned tainted",
	"allocations the policy could not place",
};

const char *fr_metric_describe(const char *name)
{
	for (int i = 0; fr_metric_names[i]; i++)
		if (!strcmp(name, fr_metric_names[i]))
			return metric_descs[i];
	return NULL;
}

static char *xstrdup(const char *s)
{
	return strdup(s ? s : "");
}

/* Trailing slashes do not make another trace. */
static int same_trace_path(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	while (la > 1 && a[la - 1] == '/')
		la--;
	while (lb > 1 && b[lb - 1] == '/')
		lb--;
	return la == lb && !strncmp(a, b, la);
}

static int same_trace(const struct fr_rfile *a, const struct fr_rfile *b)
{
	return same_trace_path(a->trace_path, b->trace_path) &&
	       fr_jint(a->trace, "events", -1) == fr_jint(b->trace, "events", -2);
}

static double metric_value(const struct fr_table *t, const struct fr_row *r)
{
	const json_t *v;

	if (!strcmp(t->metric, "ratio"))
		return r->ratio;
	v = json_object_get(r->run->summary, t->metric);
	return json_is_number(v) ? json_number_value(v) : NAN;
}

static int append(char **s, const char *fmt, const char *a, const char *b)
{
	size_t n = strlen(*s) + strlen(fmt) + strlen(a) + strlen(b) + 1;
	char *x = malloc(n);

	if (!x)
		return -1;
	snprintf(x, n, "%s", *s);
	snprintf(x + strlen(x), n - strlen(x), fmt, a, b);
	free(*s);
	*s = x;
	return 0;
}

static int param_differs(const struct fr_group *g, const char *name, const char *key)
{
	const char *first = NULL;
	int seen = 0;

	for (size_t i = 0; i < g->nrows; i++) {
		const struct fr_row *r = &g->rows[i];
		json_t *v;
		char *txt;
		int diff;

		if (strcmp(r->run->name, name))
			continue;
		v = json_object_get(r->run->params, key);
		txt = v ? json_dumps(v, JSON_ENCODE_ANY) : strdup("\x01");
		if (!seen) {
			first = txt;
			seen = 1;
			continue;
		}
		diff = strcmp(first, txt) != 0;
		free(txt);
		if (diff) {
			free((char *)first);
			return 1;
		}
	}
	free((char *)first);
	return 0;
}

static int label_dup(const struct fr_group *g, size_t i)
{
	for (size_t j = 0; j < g->nrows; j++)
		if (j != i && !strcmp(g->rows[i].label, g->rows[j].label))
			return 1;
	return 0;
}

static int make_labels(struct fr_group *g)
{
	for (size_t i = 0; i < g->nrows; i++) {
		struct fr_row *r = &g->rows[i];
		const char *k;
		json_t *v;
		int nparam = 0, shared = 0;

		r->label = xstrdup(r->run->name);
		if (!r->label)
			return -1;
		for (size_t j = 0; j < g->nrows; j++)
			if (j != i && !strcmp(g->rows[j].run->name, r->run->name))
				shared = 1;
		if (!shared)
			continue;
		/* keys are sorted in files written by fragreplay; sort anyway via spec order */
		json_object_foreach(r->run->params, k, v) {
			char val[256];
			if (!param_differs(g, r->run->name, k))
				continue;
			if (json_is_string(v))
				snprintf(val, sizeof(val), "%s", json_string_value(v));
			else {
				char *d = json_dumps(v, JSON_ENCODE_ANY);
				snprintf(val, sizeof(val), "%s", d ? d : "?");
				free(d);
			}
			if (append(&r->label, nparam++ ? ",%s=%s" : ":%s=%s", k, val) < 0)
				return -1;
		}
	}
	/* the same policy and parameters from different files: name the file */
	{
		int *dup = calloc(g->nrows ? g->nrows : 1, sizeof(*dup));
		if (!dup)
			return -1;
		/* first decide, then rename: renaming changes what collides */
		for (size_t i = 0; i < g->nrows; i++)
			for (size_t j = 0; j < g->nrows; j++)
				if (j != i && !strcmp(g->rows[i].label, g->rows[j].label) &&
				    g->rows[j].file != g->rows[i].file)
					dup[i] = 1;
		for (size_t i = 0; i < g->nrows; i++)
			if (dup[i] && append(&g->rows[i].label, " (%s%s)", g->rows[i].rf->path, "") < 0) {
				free(dup);
				return -1;
			}
		for (size_t i = 0; i < g->nrows; i++)
			dup[i] = label_dup(g, i);
		for (size_t i = 0; i < g->nrows; i++) {
			char n[32];
			if (!dup[i])
				continue;
			snprintf(n, sizeof(n), "%zu", i + 1);	/* the row: unique */
			if (append(&g->rows[i].label, " #%s%s", n, "") < 0) {
				free(dup);
				return -1;
			}
		}
		free(dup);
	}
	return 0;
}

static int spec_equal(const struct fr_row *a, const struct fr_row *b)
{
	return !strcmp(a->run->spec, b->run->spec);
}

static void set_change(struct fr_table *t, struct fr_row *r)
{
	r->value = metric_value(t, r);
	r->has_change = 0;
	r->change = r->change_pct = r->worse_pct = NAN;
	r->base_value = NAN;
	if (!r->base)
		return;
	r->base_value = metric_value(t, r->base);
	if (r->base == r || isnan(r->value) || isnan(r->base_value))
		return;
	r->has_change = 1;
	t->any_change = 1;
	r->change = r->value - r->base_value;
	if (r->base_value != 0)
		r->change_pct = r->change / fabs(r->base_value) * 100.0;
	else
		r->change_pct = r->change == 0 ? 0.0 : r->change > 0 ? INFINITY : -INFINITY;
	r->worse_pct = t->higher_is_better ? -r->change_pct : r->change_pct;
}

static int pick_baselines(struct fr_table *t, struct fr_group *g, struct fr_error *err)
{
	if (t->baseline) {
		for (size_t i = 0; i < g->nrows; i++) {
			struct fr_row *r = &g->rows[i], *any = NULL, *own = NULL;
			for (size_t j = 0; j < g->nrows; j++) {
				if (!fr_spec_matches(t->baseline, g->rows[j].run))
					continue;
				if (!any)
					any = &g->rows[j];
				if (!own && g->rows[j].file == r->file)
					own = &g->rows[j];
			}
			if (!any) {
				char have[1024] = "";
				for (size_t j = 0; j < g->nrows; j++)
					snprintf(have + strlen(have), sizeof(have) - strlen(have), "%s%s",
						 j ? ", " : "", g->rows[j].run->spec);
				return fr_err(err, "%s: no run of the baseline policy '%s' for trace %s (it has: %s)",
					      r->rf->path, t->baseline, g->name, have);
			}
			r->base = own ? own : any;
		}
		return 0;
	}
	/* old.json new.json: the first file holding the trace is the baseline */
	for (size_t i = 0; i < g->nrows; i++) {
		struct fr_row *r = &g->rows[i];
		if (r->file == g->rows[0].file)
			continue;
		for (size_t j = 0; j < g->nrows && g->rows[j].file == g->rows[0].file; j++)
			if (spec_equal(r, &g->rows[j])) {
				r->base = &g->rows[j];
				g->rows[j].base = &g->rows[j];
				break;
			}
	}
	return 0;
}

static int colour_of(struct fr_table *t, const char *label)
{
	char **n;

	for (size_t i = 0; i < t->nlabels; i++)
		if (!strcmp(t->labels[i], label))
			return (int)i;
	n = realloc(t->labels, (t->nlabels + 1) * sizeof(*n));
	if (!n)
		return -1;
	t->labels = n;
	t->labels[t->nlabels] = xstrdup(label);
	return (int)t->nlabels++;
}

int fr_table_build(struct fr_table *t, struct fr_rfile *files, size_t nfiles, const char *baseline,
		   const char *metric, struct fr_error *err)
{
	memset(t, 0, sizeof(*t));
	t->metric = metric ? metric : "tainted_final";
	t->baseline = baseline;
	t->metric_desc = fr_metric_describe(t->metric);
	t->higher_is_better = !strncmp(t->metric, "gigantic_available", 18);
	t->is_real = !strcmp(t->metric, "ratio");
	if (baseline && !fr_spec_valid(baseline))
		return fr_err(err, "--baseline '%s': expected POLICY or POLICY:key=value,...", baseline);
	if (!t->metric_desc) {
		/* any other number every run's summary has */
		for (size_t f = 0; f < nfiles; f++)
			for (size_t k = 0; k < files[f].nruns; k++)
				if (!json_is_number(json_object_get(files[f].runs[k].summary, t->metric))) {
					char known[512] = "";
					for (int i = 0; fr_metric_names[i]; i++)
						snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s",
							 i ? ", " : "", fr_metric_names[i]);
					return fr_err(err, "--metric '%s': not a metric (runs[%zu].summary of %s has no such number); "
						      "known: %s", t->metric, k, files[f].path, known);
				}
		t->metric_desc = "a number from each run's summary";
	}

	for (size_t f = 0; f < nfiles; f++) {
		struct fr_group *g = NULL;
		for (size_t i = 0; i < t->ngroups; i++)
			if (same_trace(t->groups[i].first, &files[f]))
				g = &t->groups[i];
		if (!g) {
			struct fr_group *ng = realloc(t->groups, (t->ngroups + 1) * sizeof(*ng));
			if (!ng)
				goto oom;
			t->groups = ng;
			g = &t->groups[t->ngroups++];
			memset(g, 0, sizeof(*g));
			g->first = &files[f];
			g->name = xstrdup(files[f].trace_path);
			if (!g->name)
				goto oom;
			/* the same path, another recording (different event count) */
			for (size_t i = 0; i + 1 < t->ngroups; i++)
				if (!strcmp(t->groups[i].name, g->name)) {
					size_t n = strlen(g->name) + strlen(files[f].path) + 8;
					char *x = malloc(n);
					if (!x)
						goto oom;
					snprintf(x, n, "%s (%s)", g->name, files[f].path);
					free(g->name);
					g->name = x;
					break;
				}
		}
		for (size_t k = 0; k < files[f].nruns; k++) {
			struct fr_row *nr = realloc(g->rows, (g->nrows + 1) * sizeof(*nr)), *r;
			if (!nr)
				goto oom;
			g->rows = nr;
			r = &g->rows[g->nrows++];
			memset(r, 0, sizeof(*r));
			r->rf = &files[f];
			r->file = f;
			r->runidx = k;
			r->run = &files[f].runs[k];
		}
	}
	for (size_t i = 0; i < t->ngroups; i++) {
		struct fr_group *g = &t->groups[i];
		if (make_labels(g) < 0)
			goto oom;
		for (size_t k = 0; k < g->nrows; k++) {
			struct fr_row *r = &g->rows[k];
			const json_t *s = r->run->summary;
			r->tainted_final = fr_jint(s, "tainted_final", 0);
			r->tainted_max = fr_jint(s, "tainted_max", 0);
			r->lower_bound = fr_jint(s, "tainted_lower_bound_final", 0);
			r->gigantic_min = fr_jint(s, "gigantic_available_min", 0);
			r->fresh = fr_jint(s, "fresh_taints", 0);
			r->failures = fr_jint(s, "alloc_failures", 0);
			r->ratio = r->lower_bound ? (double)r->tainted_final / (double)r->lower_bound : NAN;
			r->colour = colour_of(t, r->label);
			if (r->colour < 0)
				goto oom;
		}
		if (pick_baselines(t, g, err) < 0)
			return -1;
		for (size_t k = 0; k < g->nrows; k++)
			set_change(t, &g->rows[k]);
	}
	return 0;
oom:
	return fr_err(err, "out of memory");
}

size_t fr_table_gate(struct fr_table *t, double percent)
{
	t->gated = 1;
	t->fail_above = percent;
	t->nfailed = 0;
	for (size_t i = 0; i < t->ngroups; i++)
		for (size_t k = 0; k < t->groups[i].nrows; k++) {
			struct fr_row *r = &t->groups[i].rows[k];
			r->gate_fail = r->has_change && r->worse_pct > percent;
			t->nfailed += (size_t)r->gate_fail;
		}
	return t->nfailed;
}

void fr_table_free(struct fr_table *t)
{
	for (size_t i = 0; i < t->ngroups; i++) {
		for (size_t k = 0; k < t->groups[i].nrows; k++)
			free(t->groups[i].rows[k].label);
		free(t->groups[i].rows);
		free(t->groups[i].name);
	}
	free(t->groups);
	for (size_t i = 0; i < t->nlabels; i++)
		free(t->labels[i]);
	free(t->labels);
	memset(t, 0, sizeof(*t));
}

int fr_table_has_col(const struct fr_table *t, int col)
{
	if (col == FR_COL_CHANGE)
		return t->any_change || t->baseline;
	if (col == FR_COL_GATE)
		return t->gated;
	return col >= 0 && col < FR_NCOLS;
}

int fr_table_col_numeric(int col)
{
	return col != FR_COL_TRACE && col != FR_COL_POLICY && col != FR_COL_GATE;
}

void fr_table_header(const struct fr_table *t, int col, char *buf, size_t cap)
{
	static const char *const h[FR_NCOLS] = {
		"trace", "policy", "tainted_final", "tainted_max", "lower_bound", "ratio",
		"gigantic_min", "fresh_taints", "failures", "change", "gate",
	};

	if (col == FR_COL_CHANGE) {
		if (t->baseline)
			snprintf(buf, cap, "%s vs %s", t->metric, t->baseline);
		else
			snprintf(buf, cap, "%s vs first file", t->metric);
		return;
	}
	if (col == FR_COL_GATE) {
		snprintf(buf, cap, "gate (%g%%)", t->fail_above);
		return;
	}
	snprintf(buf, cap, "%s", col >= 0 && col < FR_NCOLS ? h[col] : "?");
}

static void fmt_value(const struct fr_table *t, double v, int sign, char *buf, size_t cap)
{
	if (isnan(v))
		snprintf(buf, cap, "-");
	else if (t->is_real)
		snprintf(buf, cap, sign ? "%+.2f" : "%.2f", v);
	else
		snprintf(buf, cap, sign ? "%+lld" : "%lld", (long long)llround(v));
}

void fr_table_cell(const struct fr_table *t, const struct fr_group *g, const struct fr_row *r, int col,
		   char *buf, size_t cap)
{
	switch (col) {
	case FR_COL_TRACE: snprintf(buf, cap, "%s", g->name); break;
	case FR_COL_POLICY: snprintf(buf, cap, "%s", r->label); break;
	case FR_COL_TFINAL: snprintf(buf, cap, "%lld", r->tainted_final); break;
	case FR_COL_TMAX: snprintf(buf, cap, "%lld", r->tainted_max); break;
	case FR_COL_LB: snprintf(buf, cap, "%lld", r->lower_bound); break;
	case FR_COL_RATIO:
		if (isnan(r->ratio))
			snprintf(buf, cap, "-");
		else
			snprintf(buf, cap, "%.2f", r->ratio);
		break;
	case FR_COL_GIG: snprintf(buf, cap, "%lld", r->gigantic_min); break;
	case FR_COL_FRESH: snprintf(buf, cap, "%lld", r->fresh); break;
	case FR_COL_FAIL: snprintf(buf, cap, "%lld", r->failures); break;
	case FR_COL_CHANGE: {
		char d[64];
		if (r->base == r) {
			snprintf(buf, cap, "baseline");
			break;
		}
		if (!r->has_change) {
			snprintf(buf, cap, "-");
			break;
		}
		fmt_value(t, r->change, 1, d, sizeof(d));
		if (isinf(r->change_pct))
			snprintf(buf, cap, "%s (from 0)", d);
		else
			snprintf(buf, cap, "%s (%+.1f%%)", d, r->change_pct);
		break;
	}
	case FR_COL_GATE:
		snprintf(buf, cap, "%s", r->base == r ? "baseline" : !r->has_change ? "-" : r->gate_fail ? "FAIL" : "ok");
		break;
	default:
		snprintf(buf, cap, "?");
	}
}

void fr_rfiles_free(struct fr_rfile *files, size_t nfiles)
{
	for (size_t i = 0; i < nfiles; i++)
		fr_results_free(&files[i]);
	free(files);
}

int fr_table_load(const char *cmd, char **paths, int n, const char *baseline, const char *metric,
		  struct fr_rfile **files, size_t *nfiles, struct fr_table *t)
{
	struct fr_error err;
	int nstdin = 0;

	*files = NULL;
	*nfiles = 0;
	if (n < 1) {
		fprintf(stderr, "fragreplay %s: give at least one RESULTS.json\n", cmd);
		return -1;
	}
	for (int i = 0; i < n; i++)
		if (!strcmp(paths[i], "-") && ++nstdin > 1) {
			fprintf(stderr, "fragreplay %s: standard input (-) can be read only once (see fragreplay %s --help)\n",
				cmd, cmd);
			return -1;
		}
	*files = calloc((size_t)n, sizeof(**files));
	if (!*files) {
		fprintf(stderr, "fragreplay %s: out of memory\n", cmd);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		if (fr_results_load(paths[i], &(*files)[*nfiles], &err) < 0) {
			fprintf(stderr, "fragreplay %s: %s\n", cmd, err.msg);
			goto fail;
		}
		(*nfiles)++;
	}
	if (fr_table_build(t, *files, *nfiles, baseline, metric, &err) < 0) {
		fprintf(stderr, "fragreplay %s: %s\n", cmd, err.msg);
		fr_table_free(t);
		goto fail;
	}
	return 0;
fail:
	fr_rfiles_free(*files, *nfiles);
	*files = NULL;
	*nfiles = 0;
	return -1;
}
