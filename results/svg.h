/* SPDX-License-Identifier: GPL-2.0 */
/*
 * svg.h - the timeline plot of the HTML report, written as inline SVG.
 *
 * One plot per trace: time in seconds on x, a count of SPBs on y, one colour
 * per policy; per policy a solid line (tainted), a dashed line
 * (tainted_live) and a dotted line (the lower bound). Axes with ticks and
 * units, grid lines, a legend (policies and line styles) inside the SVG,
 * <title> tooltips on every line. No scripts, no external resources, no
 * randomness: the same input gives the same bytes.
 */
#ifndef FR_SVG_H
#define FR_SVG_H

#include <stddef.h>
#include <stdio.h>

struct fr_svg_series {
	const char *label;		/* legend text (escaped when written) */
	int colour;			/* index into the palette */
	size_t n;
	const double *t;		/* seconds, non-decreasing */
	const double *tainted;		/* solid */
	const double *live;		/* dashed (NULL: none) */
	const double *lb;		/* dotted (NULL: none) */
};

struct fr_svg_plot {
	const char *id;			/* element id (escaped) */
	const char *title;		/* drawn above the plot */
	const char *x_label;		/* "time (s)" */
	const char *y_label;		/* "SPBs (1 GiB superpageblocks)" */
	size_t nseries;
	const struct fr_svg_series *series;
};

/* The palette colour for index i ("#rrggbb"); colour-blind safe (Okabe-Ito),
 * cycling after 8. */
const char *fr_svg_colour(int i);
/* Write text with &, <, >, " and ' escaped. */
void fr_xml_escape(FILE *f, const char *s);
/* Write the plot as an <svg> element. */
void fr_svg_write(FILE *f, const struct fr_svg_plot *p);
/* A "nice" tick step (1, 2 or 5 x 10^k) for span split in about target parts. */
double fr_svg_nice_step(double span, int target);

#endif
