/* SPDX-License-Identifier: GPL-2.0 */
/*
 * policy_load.h - find, dlopen and check allocator policy modules.
 *
 * Like libtraceevent's plugins and SQLite's extensions: a policy is a plain
 * .so found by a documented search path, exporting one entry symbol
 * (FRP_ENTRY_SYMBOL) that returns a versioned vtable.  Loaded with
 * RTLD_NOW|RTLD_LOCAL so two policies never share symbols.
 *
 * Search order for a bare name NAME (file NAME.so):
 *   1. each directory of $FRAGREPLAY_POLICY_PATH (colon-separated)
 *   2. DIR/policies, where DIR holds the fragreplay binary (the build tree)
 *   3. DIR/../lib/fragreplay/policies (a relocated install)
 *   4. the compiled-in install directory (FR_POLICY_DIR)
 * A spec containing '/' or ending in ".so" is a path.
 */
#ifndef FR_POLICY_LOAD_H
#define FR_POLICY_LOAD_H

#include "fr_error.h"
#include "fragreplay-policy.h"

#define FR_MAX_PARAMS 64

struct fr_policy_inst {
	const struct frp_policy *pol;
	void *dl;
	char path[4096];
	char label[128];		/* name as given, with params, for messages */
	int nparams;
	char *vals[FR_MAX_PARAMS];	/* value of each declared parameter (default or given) */
	int given[FR_MAX_PARAMS];	/* set on the command line */
};

/* spec: "NAME[:key=value,...]" or "PATH.so[:key=value,...]" */
int fr_policy_load(const char *spec, struct fr_policy_inst *pi, struct fr_error *err);
void fr_policy_unload(struct fr_policy_inst *pi);

/* Call fn for every loadable policy on the search path (first of each name wins). */
int fr_policy_foreach(void (*fn)(struct fr_policy_inst *pi, void *arg), void *arg);

#endif
