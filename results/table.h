/* SPDX-License-Identifier: GPL-2.0 */
/*
 * table.h - the trace x policy table that `compare` prints and `report`
 * renders: runs of one or more results files grouped by trace, a unique
 * label per run, each run's baseline, the gated metric and its change.
 *
 * Baselines:
 *   --baseline SPEC  in each trace, the first run matching SPEC
 *                    ("name" or "name:key=value,..."), preferring the
 *                    run's own results file;
 *   otherwise        when a trace is in several results files, a run's
 *                    baseline is the run of the same policy and parameters
 *                    in the first of those files (old.json new.json).
 */
#ifndef FR_RESULTS_TABLE_H
#define FR_RESULTS_TABLE_H

#include <stddef.h>
#include "results_read.h"

struct fr_row {
	struct fr_rfile *rf;
	size_t file;			/* index into the files given */
	size_t runidx;			/* index into rf->runs */
	struct fr_rrun *run;
	char *label;			/* unique within its trace */
	int colour;			/* index of the label over the whole table */
	struct fr_row *base;		/* NULL: none; itself: it is the baseline */
	long long tainted_final, tainted_max, lower_bound, gigantic_min, fresh, failures;
	double ratio;			/* tainted_final / lower_bound; NAN when lower_bound is 0 */
	double value, base_value;	/* the gated metric; NAN when not defined */
	int has_change;			/* a baseline other than itself and both values defined */
	double change;			/* value - base_value */
	double change_pct;		/* change / base_value * 100; +-INFINITY from 0 */
	double worse_pct;		/* change_pct signed so that positive is worse */
	int gate_fail;
};

struct fr_group {
	char *name;			/* display name: the trace path (made unique) */
	struct fr_rfile *first;		/* the first file holding it: its trace/machine */
	size_t nrows;
	struct fr_row *rows;
};

struct fr_table {
	size_t ngroups;
	struct fr_group *groups;
	const char *metric;		/* gated metric name */
	const char *metric_desc;
	int higher_is_better;
	int is_real;			/* metric printed with decimals (ratio) */
	const char *baseline;		/* --baseline SPEC or NULL */
	int any_change;			/* some row has a baseline to compare with */
	int gated;			/* fr_table_gate() ran */
	double fail_above;
	size_t nfailed;
	size_t nlabels;
	char **labels;			/* colour order */
};

/* Build the table. metric NULL means tainted_final. Returns 0 or -1 with err
 * (bad metric, a trace without the baseline policy, out of memory). */
int fr_table_build(struct fr_table *t, struct fr_rfile *files, size_t nfiles, const char *baseline,
		   const char *metric, struct fr_error *err);
/* What compare and report share: load every results file in paths[n] (at
 * most one "-"), then build the table.  On failure print one line
 * "fragreplay CMD: ..." and return -1 with nothing left allocated. */
int fr_table_load(const char *cmd, char **paths, int n, const char *baseline, const char *metric,
		  struct fr_rfile **files, size_t *nfiles, struct fr_table *t);
void fr_rfiles_free(struct fr_rfile *files, size_t nfiles);

/* Mark rows worse than their baseline by more than percent; returns how many. */
size_t fr_table_gate(struct fr_table *t, double percent);
void fr_table_free(struct fr_table *t);

/* Names of the metrics --metric knows (NULL-terminated), with descriptions. */
extern const char *const fr_metric_names[];
const char *fr_metric_describe(const char *name);

/* Cells of the table. Columns: trace, policy, tainted_final, tainted_max,
 * lower_bound, ratio, gigantic_min, fresh_taints, failures, then the change
 * against the baseline when any row has one, then gate after fr_table_gate(). */
#define FR_CELL 600
enum { FR_COL_TRACE, FR_COL_POLICY, FR_COL_TFINAL, FR_COL_TMAX, FR_COL_LB, FR_COL_RATIO,
       FR_COL_GIG, FR_COL_FRESH, FR_COL_FAIL, FR_COL_CHANGE, FR_COL_GATE, FR_NCOLS };
/* Is the column shown? */
int fr_table_has_col(const struct fr_table *t, int col);
void fr_table_header(const struct fr_table *t, int col, char *buf, size_t cap);
void fr_table_cell(const struct fr_table *t, const struct fr_group *g, const struct fr_row *r, int col,
		   char *buf, size_t cap);
/* Numeric columns are right-aligned. */
int fr_table_col_numeric(int col);

#endif
