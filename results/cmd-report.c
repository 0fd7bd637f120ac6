// SPDX-License-Identifier: GPL-2.0
/* cmd-report.c - placeholder (being written). */
#include "cli.h"

int cmd_report(int argc, char **argv)
{
	(void)argc; (void)argv;
	return fr_usage_error("report", "not implemented yet");
}
