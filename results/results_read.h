/* SPDX-License-Identifier: GPL-2.0 */
/*
 * results_read.h - load and validate a results file (schema
 * "fragreplay-results/1", written by replay/results_json.c).
 *
 * Everything under results/ only reads results JSON: no model, no replay.
 * A file that is not JSON, not ours, or not shaped like ours is refused
 * with one line naming the file and the place:
 *
 *   PATH: line L column C: <jansson's message>
 *   PATH: not a fragreplay results file (schema "...", expected "fragreplay-results/1")
 *   PATH: runs[2].summary.tainted_final: expected an integer, found a string
 */
#ifndef FR_RESULTS_READ_H
#define FR_RESULTS_READ_H

#include <stddef.h>
#include <jansson.h>
#include "fr_error.h"

#define FR_RESULTS_SCHEMA "fragreplay-results/1"

struct fr_rrun {
	json_t *run;		/* the runs[] element (borrowed from the file's root) */
	const char *name;	/* policy.name */
	json_t *params;		/* policy.params: an object, possibly empty */
	json_t *summary;	/* validated: the keys below are integers */
	json_t *timeline;	/* validated: objects with t, tainted, tainted_live, lower_bound */
	json_t *counters;	/* an object, or NULL when absent */
	char *spec;		/* "name" or "name:k=v,k=v" with every parameter, keys sorted */
};

struct fr_rfile {
	char *path;		/* as given on the command line ("-" is standard input) */
	json_t *root;
	json_t *trace;		/* object */
	json_t *machine;	/* object */
	const char *trace_path;	/* trace.path */
	int partial;		/* "partial": true, an interrupted replay */
	size_t nruns;
	struct fr_rrun *runs;
};

/* Load and validate PATH. Returns 0, or -1 with err set (the message starts
 * with PATH). */
int fr_results_load(const char *path, struct fr_rfile *f, struct fr_error *err);
void fr_results_free(struct fr_rfile *f);

/* The integer at obj.key, or dflt when absent / not a number. */
long long fr_jint(const json_t *obj, const char *key, long long dflt);
/* The number at obj.key (integer or real), or dflt. */
double fr_jnum(const json_t *obj, const char *key, double dflt);
/* The string at obj.key, or dflt. */
const char *fr_jstr(const json_t *obj, const char *key, const char *dflt);

/* A policy spec "name[:key=value,...]" against a run: the name is equal and
 * every given key has that value. Returns 1 on a match. */
int fr_spec_matches(const char *spec, const struct fr_rrun *run);
/* Is SPEC well formed ("name" or "name:k=v[,k=v...]")? */
int fr_spec_valid(const char *spec);

#endif
