// SPDX-License-Identifier: GPL-2.0
/*
 * cmd-policies.c - `fragreplay policies`: every loadable policy with its
 * description and parameter table (name, default, meaning).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "policy_load.h"

static void show(struct fr_policy_inst *pi, void *arg)
{
	(void)arg;
	printf("%s\n    %s\n    module: %s\n", pi->pol->name, pi->pol->description ? pi->pol->description : "",
	       pi->path);
	for (int i = 0; i < pi->nparams; i++)
		printf("    %-22s default %-8s %s\n", pi->pol->params[i].name,
		       pi->pol->params[i].def ? pi->pol->params[i].def : "", pi->pol->params[i].help ? pi->pol->params[i].help : "");
	printf("\n");
}

int cmd_policies(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("usage: fragreplay policies\n\n"
		       "List the allocator policies fragreplay can load, with their parameters.\n"
		       "Set parameters with -p NAME:key=value,key=value in `fragreplay replay`.\n"
		       "Search path: $FRAGREPLAY_POLICY_PATH, the policies/ folder beside the\n"
		       "binary, ../lib/fragreplay/policies beside it, then the install folder.\n");
		return FR_EXIT_OK;
	}
	if (argc > 1)
		return fr_usage_error("policies", "takes no arguments");
	if (fr_policy_foreach(show, NULL) == 0) {
		fprintf(stderr, "fragreplay policies: no policy modules found\n");
		return FR_EXIT_BAD;
	}
	return FR_EXIT_OK;
}
