/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fr_error.h - one-line errors that name the file and the place.
 *
 * Every user-visible failure in fragreplay is a single line of the form
 *   "PATH: what is wrong (at byte N | line N)"
 * and the command exits with status 2 (bad input) or 1 (gate failed).
 */
#ifndef FR_ERROR_H
#define FR_ERROR_H

#include <stdarg.h>

struct fr_error {
	char msg[1024];
};

/* Format into err (if non-NULL). Always returns -1 so callers can `return fr_err(...)`. */
int fr_err(struct fr_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
