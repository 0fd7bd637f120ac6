/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gfp.h - gfp flag names as the kernel prints them in trace text.
 *
 * Text traces (ftrace, trace-cmd report, perf script) carry gfp_flags as the
 * string written by show_gfp_flags() (include/trace/events/mmflags.h), which
 * is __print_flags() over a table of composites first and then every single
 * __GFP_* flag.  These helpers turn that string back into bits and produce
 * the same string from bits.
 *
 * The bit values are those of 6.10+ kernels on x86-64 without LOCKDEP or
 * KASAN_HW_TAGS (the enum layout in include/linux/gfp_types.h, where
 * __GFP_NO_OBJ_EXT is bit 24).  Older kernels numbered some flags
 * differently, so bits parsed from their text are approximate; the event's
 * migratetype field is the reliable way to classify an allocation.
 */
#ifndef FR_GFP_H
#define FR_GFP_H

#include <stddef.h>
#include <stdint.h>

struct fr_gfp_name {
	const char *name;
	uint64_t mask;
	size_t len;		/* strlen(name) */
};

/*
 * The table in show_gfp_flags() order: GFP_TRANSHUGE ... __GFP_RECLAIM, then
 * the single flags in bit order.  The order matters for formatting (a
 * composite is printed only when all its bits are still set) and is why
 * GFP_NOIO (0xc00) is printed rather than __GFP_RECLAIM (also 0xc00).
 */
extern const struct fr_gfp_name fr_gfp_names[];
extern const size_t fr_gfp_nnames;

/*
 * Parse S[0..LEN) ("GFP_KERNEL|__GFP_ZERO", "none", "0x1000000", or a mix
 * joined by '|') into *OUT.  Returns 0, or -1 if a token is empty, unknown or
 * bad hex; *OUT then still holds the OR of every token that was understood,
 * so callers that prefer partial data over failure can use it.
 */
int fr_gfp_parse(const char *s, size_t len, uint64_t *out);

/*
 * Write GFP as the kernel would print it into BUF (always NUL-terminated when
 * CAP > 0).  Returns the length of the full string, like snprintf: a return
 * >= CAP means it was truncated.
 */
size_t fr_gfp_format(uint64_t gfp, char *buf, size_t cap);

#endif
