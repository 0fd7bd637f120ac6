// SPDX-License-Identifier: GPL-2.0
/* cmd-record.c - placeholder (being written). */
#include "cli.h"

int cmd_record(int argc, char **argv)
{
	(void)argc; (void)argv;
	return fr_usage_error("record", "not implemented yet");
}
