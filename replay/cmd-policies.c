// SPDX-License-Identifier: GPL-2.0
/* cmd-policies.c - placeholder (being written). */
#include "cli.h"

int cmd_policies(int argc, char **argv)
{
	(void)argc; (void)argv;
	return fr_usage_error("policies", "not implemented yet");
}
