/* SPDX-License-Identifier: GPL-2.0 */
/*
 * compare_out.h - the table of table.h as text, markdown or JSON.
 */
#ifndef FR_COMPARE_OUT_H
#define FR_COMPARE_OUT_H

#include <stdio.h>
#include "table.h"

#define FR_COMPARE_SCHEMA "fragreplay-compare/1"

/* Aligned columns (markdown = 0) or a GitHub table (markdown = 1), then notes. */
void fr_compare_text(FILE *f, const struct fr_table *t, int markdown);
/* Schema fragreplay-compare/1. */
void fr_compare_json(FILE *f, const struct fr_table *t);
/* One line per run that tripped the gate. */
void fr_compare_gate_lines(FILE *f, const struct fr_table *t);
/* The value of the metric, formatted ("-" when undefined). */
void fr_compare_fmt_metric(const struct fr_table *t, double v, char *buf, size_t cap);

#endif
