// SPDX-License-Identifier: GPL-2.0
/* cmd-compare.c - placeholder (being written). */
#include "cli.h"

int cmd_compare(int argc, char **argv)
{
	(void)argc; (void)argv;
	return fr_usage_error("compare", "not implemented yet");
}
