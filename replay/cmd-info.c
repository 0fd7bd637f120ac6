// SPDX-License-Identifier: GPL-2.0
/* cmd-info.c - placeholder (being written). */
#include "cli.h"

int cmd_info(int argc, char **argv)
{
	(void)argc; (void)argv;
	return fr_usage_error("info", "not implemented yet");
}
