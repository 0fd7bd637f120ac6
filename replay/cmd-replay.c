// SPDX-License-Identifier: GPL-2.0
/* cmd-replay.c - placeholder (being written). */
#include "cli.h"

int cmd_replay(int argc, char **argv)
{
	(void)argc; (void)argv;
	return fr_usage_error("replay", "not implemented yet");
}
