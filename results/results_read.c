// SPDX-License-Identifier: GPL-2.0
/*
 * results_read.c - load and validate a results file (see results_read.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "results_read.h"

static const char *jtype(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a real number";
	case JSON_TRUE: case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "something else";
}

long long fr_jint(const json_t *obj, const char *key, long long dflt)
{
	const json_t *v = obj ? json_object_get(obj, key) : NULL;

	if (json_is_integer(v))
		return (long long)json_integer_value(v);
	if (json_is_real(v))
		return (long long)json_real_value(v);
	return dflt;
}

double fr_jnum(const json_t *obj, const char *key, double dflt)
{
	const json_t *v = obj ? json_object_get(obj, key) : NULL;

	return json_is_number(v) ? json_number_value(v) : dflt;
}

const char *fr_jstr(const json_t *obj, const char *key, const char *dflt)
{
	const json_t *v = obj ? json_object_get(obj, key) : NULL;

	return json_is_string(v) ? json_string_value(v) : dflt;
}

/* A param value as text: the writer stores strings; accept numbers too. */
static void param_text(const json_t *v, char *buf, size_t cap)
{
	if (json_is_string(v))
		snprintf(buf, cap, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, cap, "%g", json_real_value(v));
	else if (json_is_true(v))
		snprintf(buf, cap, "true");
	else if (json_is_false(v))
		snprintf(buf, cap, "false");
	else
		snprintf(buf, cap, "null");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static char *make_spec(const char *name, json_t *params)
{
	size_t n = json_object_size(params), len = strlen(name) + 2, i = 0;
	const char **keys = calloc(n ? n : 1, sizeof(*keys));
	const char *k;
	json_t *v;
	char *s;

	if (!keys)
		return NULL;
	json_object_foreach(params, k, v) {
		char buf[256];
		keys[i++] = k;
		param_text(v, buf, sizeof(buf));
		len += strlen(k) + strlen(buf) + 2;
	}
	qsort(keys, n, sizeof(*keys), cmp_str);
	s = malloc(len);
	if (!s) {
		free(keys);
		return NULL;
	}
	strcpy(s, name);
	for (i = 0; i < n; i++) {
		char buf[256];
		param_text(json_object_get(params, keys[i]), buf, sizeof(buf));
		strcat(s, i ? "," : ":");
		strcat(s, keys[i]);
		strcat(s, "=");
		strcat(s, buf);
	}
	free(keys);
	return s;
}

int fr_spec_valid(const char *spec)
{
	const char *colon = strchr(spec, ':');
	const char *p;

	if (!*spec || colon == spec)
		return 0;
	if (!colon)
		return 1;
	p = colon + 1;
	for (;;) {
		const char *comma = strchr(p, ','), *end = comma ? comma : p + strlen(p);
		const char *eq = memchr(p, '=', (size_t)(end - p));
		if (!eq || eq == p)
			return 0;
		if (!comma)
			return 1;
		p = comma + 1;
	}
}

int fr_spec_matches(const char *spec, const struct fr_rrun *run)
{
	const char *colon = strchr(spec, ':');
	size_t nlen = colon ? (size_t)(colon - spec) : strlen(spec);
	const char *p;

	if (strlen(run->name) != nlen || strncmp(spec, run->name, nlen))
		return 0;
	if (!colon)
		return 1;
	p = colon + 1;
	while (*p) {
		const char *comma = strchr(p, ','), *end = comma ? comma : p + strlen(p);
		const char *eq = memchr(p, '=', (size_t)(end - p));
		char key[256], want[256], have[256];
		json_t *v;

		if (!eq)
			return 0;
		snprintf(key, sizeof(key), "%.*s", (int)(eq - p), p);
		snprintf(want, sizeof(want), "%.*s", (int)(end - eq - 1), eq + 1);
		v = json_object_get(run->params, key);
		if (!v)
			return 0;
		param_text(v, have, sizeof(have));
		if (strcmp(have, want))
			return 0;
		p = comma ? comma + 1 : end;
	}
	return 1;
}

/* Required members. */
static json_t *need(const char *path, json_t *obj, const char *where, const char *key,
		    json_type type, struct fr_error *err)
{
	json_t *v = json_object_get(obj, key);

	if (!v) {
		fr_err(err, "%s: %s%s%s: missing", path, where, *where ? "." : "", key);
		return NULL;
	}
	if (json_typeof(v) != type && !(type == JSON_REAL && json_is_integer(v))) {
		const char *want = type == JSON_OBJECT ? "an object" : type == JSON_ARRAY ? "an array" :
				   type == JSON_STRING ? "a string" : type == JSON_INTEGER ? "an integer" : "a number";
		fr_err(err, "%s: %s%s%s: expected %s, found %s", path, where, *where ? "." : "", key, want,
		       jtype(v));
		return NULL;
	}
	if (type == JSON_INTEGER && json_integer_value(v) < 0) {
		fr_err(err, "%s: %s%s%s: negative (%lld)", path, where, *where ? "." : "", key,
		       (long long)json_integer_value(v));
		return NULL;
	}
	return v;
}

static const char *const summary_keys[] = {
	"tainted_final", "tainted_max", "tainted_lower_bound_final", "tainted_lower_bound_max",
	"gigantic_available_min", "alloc_failures", "fresh_taints",
};

static const char *const sample_keys[] = { "tainted", "tainted_live", "lower_bound" };

static int validate(struct fr_rfile *f, struct fr_error *err)
{
	const char *path = f->path;
	json_t *root = f->root, *schema, *runs, *tp;
	char where[96];

	if (!json_is_object(root))
		return fr_err(err, "%s: not a fragreplay results file (schema missing: the top level is %s; "
			      "expected an object with \"schema\": \"%s\")", path, jtype(root), FR_RESULTS_SCHEMA);
	schema = json_object_get(root, "schema");
	if (!schema)
		return fr_err(err, "%s: not a fragreplay results file (schema missing; expected \"%s\")",
			      path, FR_RESULTS_SCHEMA);
	if (!json_is_string(schema))
		return fr_err(err, "%s: not a fragreplay results file (schema is %s; expected \"%s\")", path,
			      jtype(schema), FR_RESULTS_SCHEMA);
	if (strcmp(json_string_value(schema), FR_RESULTS_SCHEMA))
		return fr_err(err, "%s: not a fragreplay results file (schema \"%.200s\"; this fragreplay reads \"%s\")",
			      path, json_string_value(schema), FR_RESULTS_SCHEMA);

	if (!(f->trace = need(path, root, "", "trace", JSON_OBJECT, err)) ||
	    !(tp = need(path, f->trace, "trace", "path", JSON_STRING, err)) ||
	    !need(path, f->trace, "trace", "events", JSON_INTEGER, err) ||
	    !(f->machine = need(path, root, "", "machine", JSON_OBJECT, err)) ||
	    !need(path, f->machine, "machine", "nr_spbs", JSON_INTEGER, err) ||
	    !(runs = need(path, root, "", "runs", JSON_ARRAY, err)))
		return -1;
	f->trace_path = json_string_value(tp);
	f->partial = json_is_true(json_object_get(root, "partial"));
	f->nruns = json_array_size(runs);
	if (!f->nruns)
		return fr_err(err, "%s: runs: empty (a results file holds at least one policy's run)", path);
	f->runs = calloc(f->nruns, sizeof(*f->runs));
	if (!f->runs)
		return fr_err(err, "%s: out of memory", path);
	for (size_t i = 0; i < f->nruns; i++) {
		struct fr_rrun *r = &f->runs[i];
		json_t *pol, *name, *prev_t = NULL;
		size_t k;

		r->run = json_array_get(runs, i);
		if (!json_is_object(r->run))
			return fr_err(err, "%s: runs[%zu]: expected an object, found %s", path, i, jtype(r->run));
		snprintf(where, sizeof(where), "runs[%zu]", i);
		if (!(pol = need(path, r->run, where, "policy", JSON_OBJECT, err)))
			return -1;
		snprintf(where, sizeof(where), "runs[%zu].policy", i);
		if (!(name = need(path, pol, where, "name", JSON_STRING, err)))
			return -1;
		r->name = json_string_value(name);
		if (!*r->name)
			return fr_err(err, "%s: %s.name: empty", path, where);
		r->params = json_object_get(pol, "params");
		if (r->params && !json_is_object(r->params))
			return fr_err(err, "%s: %s.params: expected an object, found %s", path, where,
				      jtype(r->params));
		snprintf(where, sizeof(where), "runs[%zu]", i);
		if (!(r->summary = need(path, r->run, where, "summary", JSON_OBJECT, err)) ||
		    !(r->timeline = need(path, r->run, where, "timeline", JSON_ARRAY, err)))
			return -1;
		r->counters = json_object_get(r->run, "counters");
		if (r->counters && !json_is_object(r->counters))
			return fr_err(err, "%s: %s.counters: expected an object, found %s", path, where,
				      jtype(r->counters));
		snprintf(where, sizeof(where), "runs[%zu].summary", i);
		for (k = 0; k < sizeof(summary_keys) / sizeof(summary_keys[0]); k++)
			if (!need(path, r->summary, where, summary_keys[k], JSON_INTEGER, err))
				return -1;
		for (k = 0; k < json_array_size(r->timeline); k++) {
			json_t *s = json_array_get(r->timeline, k), *t;
			snprintf(where, sizeof(where), "runs[%zu].timeline[%zu]", i, k);
			if (!json_is_object(s))
				return fr_err(err, "%s: %s: expected an object, found %s", path, where, jtype(s));
			if (!(t = need(path, s, where, "t", JSON_REAL, err)))
				return -1;
			for (size_t q = 0; q < sizeof(sample_keys) / sizeof(sample_keys[0]); q++)
				if (!need(path, s, where, sample_keys[q], JSON_INTEGER, err))
					return -1;
			if (prev_t && json_number_value(t) < json_number_value(prev_t))
				return fr_err(err, "%s: %s.t: %g is before the previous sample's %g", path, where,
					      json_number_value(t), json_number_value(prev_t));
			prev_t = t;
		}
	}
	/* specs last: params are validated by now */
	for (size_t i = 0; i < f->nruns; i++) {
		struct fr_rrun *r = &f->runs[i];
		if (!r->params) {
			r->params = json_object();
			json_object_set_new(json_object_get(r->run, "policy"), "params", r->params);
		}
		r->spec = make_spec(r->name, r->params);
		if (!r->spec)
			return fr_err(err, "%s: out of memory", path);
	}
	return 0;
}

int fr_results_load(const char *path, struct fr_rfile *f, struct fr_error *err)
{
	json_error_t jerr;
	FILE *in;
	struct stat st;
	int is_stdin = !strcmp(path, "-");

	memset(f, 0, sizeof(*f));
	f->path = strdup(path);
	if (!f->path)
		return fr_err(err, "%s: out of memory", path);
	if (is_stdin) {
		in = stdin;
	} else {
		in = fopen(path, "r");
		if (!in) {
			fr_err(err, "%s: cannot open: %s", path, strerror(errno));
			goto fail;
		}
		if (fstat(fileno(in), &st) == 0 && S_ISDIR(st.st_mode)) {
			fclose(in);
			fr_err(err, "%s: is a directory, not a results file", path);
			goto fail;
		}
	}
	f->root = json_loadf(in, JSON_REJECT_DUPLICATES, &jerr);
	if (!is_stdin)
		fclose(in);
	if (!f->root) {
		if (jerr.line > 0)
			fr_err(err, "%s: line %d column %d: %s", path, jerr.line, jerr.column, jerr.text);
		else
			fr_err(err, "%s: %s", path, jerr.text);
		goto fail;
	}
	if (validate(f, err) < 0)
		goto fail;
	return 0;
fail:
	fr_results_free(f);
	return -1;
}

void fr_results_free(struct fr_rfile *f)
{
	if (!f)
		return;
	if (f->runs)
		for (size_t i = 0; i < f->nruns; i++)
			free(f->runs[i].spec);
	free(f->runs);
	json_decref(f->root);
	free(f->path);
	memset(f, 0, sizeof(*f));
}
