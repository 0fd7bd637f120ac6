// SPDX-License-Identifier: GPL-2.0
/* policy_load.c - see policy_load.h. */
#include <dirent.h>
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "policy_load.h"

#ifndef FR_POLICY_DIR
#define FR_POLICY_DIR "/usr/local/lib/fragreplay/policies"
#endif

static int search_dirs(char dirs[][4096], int max)
{
	int n = 0;
	const char *env = getenv("FRAGREPLAY_POLICY_PATH");
	char exe[4096];
	ssize_t l;

	if (env && *env) {
		char *copy = strdup(env), *save = NULL;
		for (char *d = strtok_r(copy, ":", &save); d && n < max; d = strtok_r(NULL, ":", &save))
			snprintf(dirs[n++], 4096, "%s", d);
		free(copy);
	}
	l = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (l > 0) {
		exe[l] = 0;
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = 0;
			if (n < max)
				snprintf(dirs[n++], 4096, "%.4000s/policies", exe);
			if (n < max)
				snprintf(dirs[n++], 4096, "%.4000s/../lib/fragreplay/policies", exe);
		}
	}
	if (n < max)
		snprintf(dirs[n++], 4096, "%s", FR_POLICY_DIR);
	return n;
}

static int open_so(const char *path, struct fr_policy_inst *pi, struct fr_error *err)
{
	frp_entry_fn entry;
	const struct frp_policy *pol;

	pi->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!pi->dl)
		return fr_err(err, "%s: cannot load policy module: %s", path, dlerror());
	*(void **)&entry = dlsym(pi->dl, FRP_ENTRY_SYMBOL);
	if (!entry) {
		dlclose(pi->dl);
		pi->dl = NULL;
		return fr_err(err, "%s: not a fragreplay policy (no %s symbol)", path, FRP_ENTRY_SYMBOL);
	}
	pol = entry(FRP_API_VERSION);
	if (!pol) {
		dlclose(pi->dl);
		pi->dl = NULL;
		return fr_err(err, "%s: policy refused to load under fragreplay API version %d", path,
			      FRP_API_VERSION);
	}
	if (pol->api_version != FRP_API_VERSION) {
		unsigned v = pol->api_version;
		dlclose(pi->dl);
		pi->dl = NULL;
		return fr_err(err, "%s: policy built for fragreplay API version %u, this fragreplay speaks version %d; rebuild it against this fragreplay's fragreplay-policy.h",
			      path, v, FRP_API_VERSION);
	}
	if (pol->size < sizeof(struct frp_policy) || !pol->name || !pol->alloc || !pol->free || !pol->init) {
		dlclose(pi->dl);
		pi->dl = NULL;
		return fr_err(err, "%s: malformed policy vtable (missing name, init, alloc or free)", path);
	}
	pi->pol = pol;
	snprintf(pi->path, sizeof(pi->path), "%s", path);
	pi->nparams = 0;
	if (pol->params)
		while (pol->params[pi->nparams].name && pi->nparams < FR_MAX_PARAMS)
			pi->nparams++;
	for (int i = 0; i < pi->nparams; i++)
		pi->vals[i] = strdup(pol->params[i].def ? pol->params[i].def : "");
	return 0;
}

int fr_policy_load(const char *spec, struct fr_policy_inst *pi, struct fr_error *err)
{
	char name[4096], *params = NULL;
	char dirs[8][4096];
	int nd;

	memset(pi, 0, sizeof(*pi));
	snprintf(pi->label, sizeof(pi->label), "%s", spec);
	snprintf(name, sizeof(name), "%s", spec);
	{
		/* parameters follow the last ':' that comes after any '/' */
		char *slash = strrchr(name, '/');
		char *colon = strchr(slash ? slash : name, ':');
		if (colon) {
			*colon = 0;
			params = colon + 1;
		}
	}
	if (!name[0])
		return fr_err(err, "-p '%s': empty policy name", spec);
	if (strchr(name, '/') || (strlen(name) > 3 && !strcmp(name + strlen(name) - 3, ".so"))) {
		if (open_so(name, pi, err) < 0)
			return -1;
	} else {
		int found = 0;
		nd = search_dirs(dirs, 8);
		for (int i = 0; i < nd && !found; i++) {
			char path[8300];
			snprintf(path, sizeof(path), "%.4000s/%.4000s.so", dirs[i], name);
			if (access(path, R_OK) == 0) {
				if (open_so(path, pi, err) < 0)
					return -1;
				found = 1;
			}
		}
		if (!found) {
			char list[1024] = "";
			for (int i = 0; i < nd; i++) {
				size_t l = strlen(list);
				snprintf(list + l, sizeof(list) - l, "%s%.200s", i ? ", " : "", dirs[i]);
			}
			return fr_err(err, "-p %s: no policy named '%s' (searched %s; see fragreplay policies)",
				      spec, name, list);
		}
	}
	/* key=value,... */
	if (params && *params) {
		char *copy = strdup(params), *save = NULL;
		for (char *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
			char *eq = strchr(kv, '=');
			int i;
			if (!eq) {
				fr_err(err, "-p %s: parameter '%s' needs a value (key=value)", spec, kv);
				free(copy);
				fr_policy_unload(pi);
				return -1;
			}
			*eq = 0;
			for (i = 0; i < pi->nparams; i++)
				if (!strcmp(pi->pol->params[i].name, kv))
					break;
			if (i == pi->nparams) {
				char list[1024] = "";
				for (int j = 0; j < pi->nparams; j++) {
					size_t l = strlen(list);
					snprintf(list + l, sizeof(list) - l, "%s%s", j ? ", " : "", pi->pol->params[j].name);
				}
				fr_err(err, "-p %s: policy %s has no parameter '%s' (it has: %s)", spec,
				       pi->pol->name, kv, pi->nparams ? list : "none");
				free(copy);
				fr_policy_unload(pi);
				return -1;
			}
			free(pi->vals[i]);
			pi->vals[i] = strdup(eq + 1);
			pi->given[i] = 1;
		}
		free(copy);
	}
	return 0;
}

void fr_policy_unload(struct fr_policy_inst *pi)
{
	for (int i = 0; i < pi->nparams; i++)
		free(pi->vals[i]);
	pi->nparams = 0;
	if (pi->dl)
		dlclose(pi->dl);
	pi->dl = NULL;
	pi->pol = NULL;
}

static int name_seen(char seen[][256], int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(seen[i], name))
			return 1;
	return 0;
}

int fr_policy_foreach(void (*fn)(struct fr_policy_inst *pi, void *arg), void *arg)
{
	char dirs[8][4096];
	static char seen[256][256];
	int nd = search_dirs(dirs, 8), nseen = 0, count = 0;

	for (int i = 0; i < nd; i++) {
		struct dirent **ents;
		int ne = scandir(dirs[i], &ents, NULL, alphasort);
		for (int j = 0; j < ne; j++) {
			const char *fn_ = ents[j]->d_name;
			size_t l = strlen(fn_);
			if (l > 3 && !strcmp(fn_ + l - 3, ".so") && !name_seen(seen, nseen, fn_) && nseen < 256) {
				char path[8300];
				struct fr_policy_inst pi;
				struct fr_error err;
				snprintf(seen[nseen++], 256, "%s", fn_);
				snprintf(path, sizeof(path), "%.4000s/%.255s", dirs[i], fn_);
				memset(&pi, 0, sizeof(pi));
				if (open_so(path, &pi, &err) == 0) {
					fn(&pi, arg);
					count++;
					fr_policy_unload(&pi);
				} else {
					fprintf(stderr, "fragreplay: skipping %s\n", err.msg);
				}
			}
			free(ents[j]);
		}
		if (ne >= 0)
			free(ents);
	}
	return count;
}
