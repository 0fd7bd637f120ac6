// SPDX-License-Identifier: GPL-2.0
/* cmd-convert.c - placeholder (being written). */
#include "cli.h"

int cmd_convert(int argc, char **argv)
{
	(void)argc; (void)argv;
	return fr_usage_error("convert", "not implemented yet");
}
