// SPDX-License-Identifier: GPL-2.0
/*
 * compare_out.c - print the compare table as text, markdown or JSON.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "compare_out.h"

void fr_compare_fmt_metric(const struct fr_table *t, double v, char *buf, size_t cap)
{
	if (isnan(v))
		snprintf(buf, cap, "-");
	else if (t->is_real)
		snprintf(buf, cap, "%.2f", v);
	else
		snprintf(buf, cap, "%lld", (long long)llround(v));
}

static void md_cell(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '<') {
			fputs("&lt;", f);
			continue;
		}
		if (*s == '|' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
}

/* Lost events, one note per trace that has them. */
static void lost_note(FILE *f, const struct fr_group *g, const char *bullet)
{
	const json_t *tr = g->first->trace, *by = json_object_get(tr, "lost_by_cpu");
	long long lost = fr_jint(tr, "lost_events", 0), markers = fr_jint(tr, "lost_event_markers", 0);
	const char *k;
	json_t *v;
	int n = 0;

	if (!lost && !markers)
		return;
	fprintf(f, "%slost events: %s lost %lld events", bullet, g->name, lost);
	if (json_object_size(by)) {
		fprintf(f, " (");
		json_object_foreach((json_t *)by, k, v) {
			fprintf(f, "%scpu %s: %lld", n++ ? ", " : "", k, (long long)json_integer_value(v));
		}
		fprintf(f, ")");
	}
	if (markers)
		fprintf(f, " in %lld lost-event marker%s", markers, markers == 1 ? "" : "s");
	fprintf(f, "; its runs miss that part of the demand\n");
}

void fr_compare_text(FILE *f, const struct fr_table *t, int markdown)
{
	int cols[FR_NCOLS], nc = 0;
	size_t width[FR_NCOLS] = { 0 };
	char cell[FR_CELL];
	const char *bullet = markdown ? "- " : "";

	for (int c = 0; c < FR_NCOLS; c++)
		if (fr_table_has_col(t, c))
			cols[nc++] = c;
	for (int i = 0; i < nc; i++) {
		fr_table_header(t, cols[i], cell, sizeof(cell));
		width[i] = strlen(cell);
		for (size_t g = 0; g < t->ngroups; g++)
			for (size_t r = 0; r < t->groups[g].nrows; r++) {
				fr_table_cell(t, &t->groups[g], &t->groups[g].rows[r], cols[i], cell, sizeof(cell));
				if (strlen(cell) > width[i])
					width[i] = strlen(cell);
			}
	}
	/* header */
	for (int i = 0; i < nc; i++) {
		fr_table_header(t, cols[i], cell, sizeof(cell));
		if (markdown) {
			fputs(i ? " | " : "| ", f);
			md_cell(f, cell);
		} else {
			int last = i == nc - 1;
			if (fr_table_col_numeric(cols[i]))
				fprintf(f, "%s%*s", i ? "  " : "", (int)width[i], cell);
			else
				fprintf(f, "%s%-*s", i ? "  " : "", last ? 0 : (int)width[i], cell);
		}
	}
	fputs(markdown ? " |\n" : "\n", f);
	if (markdown) {
		for (int i = 0; i < nc; i++)
			fputs(fr_table_col_numeric(cols[i]) ? "|---:" : "|:---", f);
		fputs("|\n", f);
	}
	for (size_t g = 0; g < t->ngroups; g++)
		for (size_t r = 0; r < t->groups[g].nrows; r++) {
			for (int i = 0; i < nc; i++) {
				fr_table_cell(t, &t->groups[g], &t->groups[g].rows[r], cols[i], cell, sizeof(cell));
				if (markdown) {
					fputs(i ? " | " : "| ", f);
					md_cell(f, cell);
				} else {
					int last = i == nc - 1;
					if (fr_table_col_numeric(cols[i]))
						fprintf(f, "%s%*s", i ? "  " : "", (int)width[i], cell);
					else
						fprintf(f, "%s%-*s", i ? "  " : "", last ? 0 : (int)width[i], cell);
				}
			}
			fputs(markdown ? " |\n" : "\n", f);
		}

	fputc('\n', f);
	fprintf(f, "%slower_bound: ceil(live non-movable pages / usable pages per SPB) at the end of the "
		   "trace; ratio = tainted_final / lower_bound\n", bullet);
	if (fr_table_has_col(t, FR_COL_CHANGE)) {
		fprintf(f, "%smetric: %s (%s; %s is better)\n", bullet, t->metric, t->metric_desc,
			t->higher_is_better ? "higher" : "lower");
		if (t->baseline)
			fprintf(f, "%sbaseline: %s, in each trace\n", bullet, t->baseline);
		else
			fprintf(f, "%sbaseline: the same policy and parameters in the first results file "
				   "holding the trace\n", bullet);
	}
	for (size_t g = 0; g < t->ngroups; g++)
		lost_note(f, &t->groups[g], bullet);
	for (size_t g = 0; g < t->ngroups; g++) {
		const struct fr_rfile *last = NULL;
		for (size_t r = 0; r < t->groups[g].nrows; r++) {
			const struct fr_rfile *rf = t->groups[g].rows[r].rf;
			if (!rf->partial || rf == last)
				continue;
			last = rf;
			fprintf(f, "%spartial: %s is an interrupted replay of %s (\"partial\": true): its runs stop after "
				   "%lld events\n", bullet, rf->path, t->groups[g].name, fr_jint(rf->trace, "events", 0));
		}
	}
	if (t->gated) {
		size_t n = 0;
		for (size_t g = 0; g < t->ngroups; g++)
			for (size_t r = 0; r < t->groups[g].nrows; r++)
				n += (size_t)t->groups[g].rows[r].has_change;
		if (t->nfailed)
			fprintf(f, "%sgate: FAILED: %zu of %zu compared run%s worse than the baseline by more than %g%%\n",
				bullet, t->nfailed, n, n == 1 ? "" : "s", t->fail_above);
		else
			fprintf(f, "%sgate: passed: none of %zu compared run%s worse than the baseline by more than %g%%\n",
				bullet, n, n == 1 ? "" : "s", t->fail_above);
	}
}

void fr_compare_gate_lines(FILE *f, const struct fr_table *t)
{
	for (size_t g = 0; g < t->ngroups; g++)
		for (size_t r = 0; r < t->groups[g].nrows; r++) {
			const struct fr_row *row = &t->groups[g].rows[r];
			char v[64], b[64], pct[64];
			if (!row->gate_fail)
				continue;
			fr_compare_fmt_metric(t, row->value, v, sizeof(v));
			fr_compare_fmt_metric(t, row->base_value, b, sizeof(b));
			if (isinf(row->change_pct))
				snprintf(pct, sizeof(pct), "from 0");
			else
				snprintf(pct, sizeof(pct), "%+.1f%%", row->change_pct);
			fprintf(f, "fragreplay compare: regression: %s %s: %s %s vs %s for %s (%s), more than %g%% worse\n",
				t->groups[g].name, row->label, t->metric, v, b, row->base->label, pct, t->fail_above);
		}
}

static json_t *jnum(double v, int real)
{
	if (isnan(v) || isinf(v))
		return json_null();
	return real ? json_real(v) : json_integer((json_int_t)llround(v));
}

void fr_compare_json(FILE *f, const struct fr_table *t)
{
	json_t *j = json_object(), *traces = json_array();

	json_object_set_new(j, "schema", json_string(FR_COMPARE_SCHEMA));
	json_object_set_new(j, "metric", json_string(t->metric));
	json_object_set_new(j, "higher_is_better", json_boolean(t->higher_is_better));
	json_object_set_new(j, "baseline", t->baseline ? json_string(t->baseline) : json_null());
	json_object_set_new(j, "fail_above_pct", t->gated ? json_real(t->fail_above) : json_null());
	json_object_set_new(j, "gate", !t->gated ? json_null() : json_string(t->nfailed ? "fail" : "pass"));
	json_object_set_new(j, "failed", json_integer((json_int_t)t->nfailed));
	for (size_t g = 0; g < t->ngroups; g++) {
		const struct fr_group *gr = &t->groups[g];
		json_t *jg = json_object(), *runs = json_array();
		json_object_set_new(jg, "trace", json_string(gr->name));
		json_object_set_new(jg, "events", json_integer(fr_jint(gr->first->trace, "events", 0)));
		json_object_set_new(jg, "duration_s", json_real(fr_jnum(gr->first->trace, "duration_s", 0)));
		json_object_set_new(jg, "lost_events", json_integer(fr_jint(gr->first->trace, "lost_events", 0)));
		json_object_set_new(jg, "nr_spbs", json_integer(fr_jint(gr->first->machine, "nr_spbs", 0)));
		for (size_t r = 0; r < gr->nrows; r++) {
			const struct fr_row *row = &gr->rows[r];
			json_t *jr = json_object();
			const char *gate = NULL;
			json_object_set_new(jr, "policy", json_string(row->label));
			json_object_set_new(jr, "name", json_string(row->run->name));
			json_object_set_new(jr, "params", json_deep_copy(row->run->params));
			json_object_set_new(jr, "file", json_string(row->rf->path));
			json_object_set_new(jr, "partial", json_boolean(row->rf->partial));
			json_object_set_new(jr, "tainted_final", json_integer(row->tainted_final));
			json_object_set_new(jr, "tainted_max", json_integer(row->tainted_max));
			json_object_set_new(jr, "lower_bound", json_integer(row->lower_bound));
			json_object_set_new(jr, "ratio", jnum(row->ratio, 1));
			json_object_set_new(jr, "gigantic_available_min", json_integer(row->gigantic_min));
			json_object_set_new(jr, "fresh_taints", json_integer(row->fresh));
			json_object_set_new(jr, "alloc_failures", json_integer(row->failures));
			json_object_set_new(jr, "value", jnum(row->value, t->is_real));
			json_object_set_new(jr, "baseline", row->base ? json_string(row->base->label) : json_null());
			json_object_set_new(jr, "baseline_value", jnum(row->base_value, t->is_real));
			json_object_set_new(jr, "change", row->has_change ? jnum(row->change, t->is_real) : json_null());
			json_object_set_new(jr, "change_pct", row->has_change ? jnum(row->change_pct, 1) : json_null());
			if (t->gated)
				gate = row->base == row ? "baseline" : !row->has_change ? NULL : row->gate_fail ? "fail" : "pass";
			json_object_set_new(jr, "gate", gate ? json_string(gate) : json_null());
			json_array_append_new(runs, jr);
		}
		json_object_set_new(jg, "runs", runs);
		json_array_append_new(traces, jg);
	}
	json_object_set_new(j, "traces", traces);
	json_dumpf(j, f, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
	fputc('\n', f);
	json_decref(j);
}
