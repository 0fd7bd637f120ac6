// SPDX-License-Identifier: GPL-2.0
/*
 * svg.c - the timeline plot (svg.h).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "svg.h"

/* Okabe & Ito's palette without its yellow (too light on white). */
static const char *const palette[] = {
	"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#8C6D31",
};
#define NPAL (sizeof(palette) / sizeof(palette[0]))

const char *fr_svg_colour(int i)
{
	return palette[(size_t)(i < 0 ? 0 : i) % NPAL];
}

void fr_xml_escape(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default:
			/* control characters are not allowed in XML 1.0 */
			if ((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n')
				fputc('?', f);
			else
				fputc(*s, f);
		}
	}
}

double fr_svg_nice_step(double span, int target)
{
	double raw, mag, norm;

	if (!(span > 0) || target < 1)
		return 1;
	raw = span / target;
	mag = pow(10, floor(log10(raw)));
	norm = raw / mag;
	if (norm < 1.5)
		return mag;
	if (norm < 3)
		return 2 * mag;
	if (norm < 7)
		return 5 * mag;
	return 10 * mag;
}

/* Geometry (user units = CSS px at 100 %). */
#define W 880.0
#define ML 70.0		/* left margin: y tick labels and the y axis title */
#define MR 24.0
#define MT 40.0		/* top: the title */
#define PH 280.0	/* plot height */
#define PW (W - ML - MR)
#define FONT "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\""

struct frame {
	double x0, x1, y1;	/* data ranges (y0 is 0) */
};

static double X(const struct frame *fr, double t)
{
	return ML + (t - fr->x0) / (fr->x1 - fr->x0) * PW;
}

static double Y(const struct frame *fr, double v)
{
	return MT + PH - v / fr->y1 * PH;
}

static int decimals_for(double step)
{
	int d = 0;
	while (d < 6 && fabs(step * pow(10, d) - round(step * pow(10, d))) > 1e-9)
		d++;
	return d;
}

static void polyline(FILE *f, const struct frame *fr, const struct fr_svg_series *s, const double *v,
		     const char *colour, double width, const char *dash, const char *what)
{
	fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%.1f\" stroke-linejoin=\"round\"", colour,
		width);
	if (dash)
		fprintf(f, " %s", dash);
	fputs(" points=\"", f);
	/* Steps, not ramps: a count is known only at its samples and changed at
	 * some moment between them, so each value holds until the next sample. */
	for (size_t i = 0; i < s->n; i++) {
		if (i && v[i] != v[i - 1])
			fprintf(f, " %.1f,%.1f", X(fr, s->t[i]), Y(fr, v[i - 1]));
		fprintf(f, "%s%.1f,%.1f", i ? " " : "", X(fr, s->t[i]), Y(fr, v[i]));
	}
	fputs("\"><title>", f);
	fr_xml_escape(f, s->label);
	fprintf(f, ": %s</title></polyline>\n", what);
	/* a single sample is a point, which a polyline does not draw */
	if (s->n == 1)
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\"/>\n", X(fr, s->t[0]),
			Y(fr, v[0]), width / 2 + 2, colour);
}

/* Darken a #rrggbb colour (for the dashed line drawn over the solid one). */
static void darker(const char *hex, char out[8])
{
	unsigned r = 0, g = 0, b = 0;

	if (sscanf(hex, "#%2x%2x%2x", &r, &g, &b) != 3)
		r = g = b = 0;
	snprintf(out, 8, "#%02x%02x%02x", (r & 0xff) * 55 / 100, (g & 0xff) * 55 / 100, (b & 0xff) * 55 / 100);
}

/* Width of a line of text at font-size 12, roughly (DejaVu Sans averages 7 px). */
static double text_w(const char *s)
{
	return 7.0 * (double)strlen(s);
}

void fr_svg_write(FILE *f, const struct fr_svg_plot *p)
{
	struct frame fr = { 0, 1, 1 };
	double vmax = 0, ystep, xstep, lx, ly, height, tmin = INFINITY, tmax = -INFINITY;
	int have = 0, rows;
	size_t i, k;

	for (i = 0; i < p->nseries; i++) {
		const struct fr_svg_series *s = &p->series[i];
		for (k = 0; k < s->n; k++) {
			have = 1;
			if (s->t[k] < tmin) tmin = s->t[k];
			if (s->t[k] > tmax) tmax = s->t[k];
			if (s->tainted[k] > vmax) vmax = s->tainted[k];
			if (s->live && s->live[k] > vmax) vmax = s->live[k];
			if (s->lb && s->lb[k] > vmax) vmax = s->lb[k];
		}
	}
	if (!have) {
		tmin = 0;
		tmax = 1;
	}
	fr.x0 = tmin > 0 ? 0 : tmin;
	fr.x1 = tmax > fr.x0 ? tmax : fr.x0 + 1;
	xstep = fr_svg_nice_step(fr.x1 - fr.x0, 8);
	/* counts: integer steps, headroom above the highest line */
	ystep = fr_svg_nice_step(vmax * 1.15 > 4 ? vmax * 1.15 : 4, 5);
	if (ystep < 1)
		ystep = 1;
	fr.y1 = ceil(vmax * 1.08 / ystep) * ystep;
	if (fr.y1 <= vmax)
		fr.y1 += ystep;

	/* legend layout first: it sets the height */
	{
		double x = 0, w;
		rows = 1;
		for (i = 0; i < p->nseries; i++) {
			w = 34 + text_w(p->series[i].label) + 24;
			if (x > 0 && 66 + x + w > PW) {
				rows++;
				x = 0;
			}
			x += w;
		}
	}
	ly = MT + PH + 62;
	height = ly + 22.0 * rows + 16;

	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\" id=\"");
	fr_xml_escape(f, p->id);
	fprintf(f, "\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"",
		W, height, W, height);
	fr_xml_escape(f, p->title);
	fprintf(f, "\" %s font-size=\"12\">\n", FONT);
	fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#ffffff\"/>\n", W, height);
	fprintf(f, "<text x=\"%.1f\" y=\"22\" font-size=\"15\" font-weight=\"bold\" fill=\"#222\">", ML);
	fr_xml_escape(f, p->title);
	fputs("</text>\n", f);

	/* grid and y ticks */
	fputs("<g class=\"y-axis\">\n", f);
	for (double v = 0; v <= fr.y1 + 1e-9; v += ystep) {
		double y = Y(&fr, v);
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"1\"/>\n",
			ML, y, ML + PW, y, v == 0 ? "#444" : "#e3e3e3");
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\"/>\n", ML - 5, y, ML, y);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#333\">%.0f</text>\n", ML - 8, y + 4, v);
	}
	fprintf(f, "<text transform=\"translate(18 %.1f) rotate(-90)\" text-anchor=\"middle\" fill=\"#222\">",
		MT + PH / 2);
	fr_xml_escape(f, p->y_label);
	fputs("</text>\n</g>\n", f);

	/* x ticks */
	{
		int d = decimals_for(xstep);
		double first = ceil(fr.x0 / xstep - 1e-9) * xstep;
		fputs("<g class=\"x-axis\">\n", f);
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\"/>\n", ML, MT, ML,
			MT + PH);
		for (double t = first; t <= fr.x1 + xstep * 1e-6; t += xstep) {
			double x = X(&fr, t);
			fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\"/>\n", x,
				MT + PH, x, MT + PH + 5);
			fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#333\">%.*f</text>\n", x,
				MT + PH + 19, d, fabs(t) < xstep * 1e-6 ? 0.0 : t);
		}
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#222\">", ML + PW / 2,
			MT + PH + 40);
		fr_xml_escape(f, p->x_label);
		fputs("</text>\n</g>\n", f);
	}

	/* lines: solid tainted (earlier policies wider, so coinciding lines
	 * stay visible as nested bands), then dashed tainted_live, then dotted
	 * lower bounds on top */
	fputs("<g class=\"lines\">\n", f);
	for (i = 0; i < p->nseries; i++) {
		const struct fr_svg_series *s = &p->series[i];
		double w = 2.5 + 2.0 * (double)(p->nseries - 1 - i);
		polyline(f, &fr, s, s->tainted, fr_svg_colour(s->colour), w, NULL, "tainted");
	}
	for (i = 0; i < p->nseries; i++) {
		const struct fr_svg_series *s = &p->series[i];
		char dk[8];
		if (!s->live)
			continue;
		darker(fr_svg_colour(s->colour), dk);
		polyline(f, &fr, s, s->live, dk, 1.6, "stroke-dasharray=\"7 5\"", "tainted_live");
	}
	for (i = 0; i < p->nseries; i++) {
		const struct fr_svg_series *s = &p->series[i];
		if (!s->lb)
			continue;
		polyline(f, &fr, s, s->lb, fr_svg_colour(s->colour), 2.4,
			 "stroke-dasharray=\"0.1 5\" stroke-linecap=\"round\"", "lower bound");
	}
	fputs("</g>\n", f);

	/* legend: the line styles, then one entry per policy */
	lx = ML;
	fprintf(f, "<g class=\"legend\">\n");
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#222\" font-weight=\"bold\">lines:</text>\n", lx, ly + 4);
	{
		static const struct { const char *what, *attrs; double w; } st[] = {
			{ "tainted", "", 4 },
			{ "tainted_live (holding non-movable pages now)", "stroke-dasharray=\"7 5\"", 1.6 },
			{ "lower bound (physical minimum)", "stroke-dasharray=\"0.1 5\" stroke-linecap=\"round\"", 2.4 },
		};
		double x = lx + 52;
		for (k = 0; k < 3; k++) {
			fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#555\" stroke-width=\"%.1f\" %s/>\n",
				x, ly, x + 28, ly, st[k].w, st[k].attrs);
			fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#222\">%s</text>\n", x + 34, ly + 4, st[k].what);
			x += 34 + text_w(st[k].what) * 0.92 + 24;
		}
	}
	{
		double x = 0, y = ly + 22;
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#222\" font-weight=\"bold\">policies:</text>\n", lx,
			y + 4);
		for (i = 0; i < p->nseries; i++) {
			const struct fr_svg_series *s = &p->series[i];
			double w = 34 + text_w(s->label) + 24, px;
			if (x > 0 && 66 + x + w > PW) {
				y += 22;
				x = 0;
			}
			px = lx + 66 + x;
			fprintf(f, "<g class=\"legend-entry\"><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"5\"/>",
				px, y, px + 28, y, fr_svg_colour(s->colour));
			fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#222\">", px + 34, y + 4);
			fr_xml_escape(f, s->label);
			fputs("</text></g>\n", f);
			x += w;
		}
	}
	fputs("</g>\n</svg>\n", f);
}
