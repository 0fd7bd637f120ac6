/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cli.h - the command table (after trace-cmd's and git's): one cmd-NAME.c
 * file per subcommand, each with its own option parsing and --help.
 *
 * Exit status convention for every command:
 *   0  success
 *   1  the result is bad (compare --fail-above tripped, lost events without
 *      --allow-loss, --check found a violation)
 *   2  bad usage or bad input (one line on stderr naming the file and place)
 */
#ifndef FR_CLI_H
#define FR_CLI_H

#include <stdio.h>

#define FR_EXIT_OK 0
#define FR_EXIT_FAIL 1
#define FR_EXIT_BAD 2

struct fr_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);	/* argv[0] is the command name */
	const char *summary;
};

int cmd_info(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_policies(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_synth(int argc, char **argv);

/* Print "fragreplay CMD: message" and return FR_EXIT_BAD. */
int fr_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Is stderr a terminal (progress lines only then)? */
int fr_stderr_is_tty(void);

#endif
