// SPDX-License-Identifier: GPL-2.0
/*
 * gfp.c - the gfp name table of show_gfp_flags() and its two directions.
 *
 * Values checked against this machine's (6.18, x86-64)
 * /sys/kernel/tracing/events/kmem/mm_page_alloc/format print fmt, whose
 * __print_flags() list is exactly this table in this order.
 */
#include <string.h>
#include "gfp.h"

#define B(n) (UINT64_C(1) << (n))

/* Single flags: include/linux/gfp_types.h, 6.10+ enum layout. */
#define G_DMA		B(0)
#define G_HIGHMEM	B(1)
#define G_DMA32		B(2)
#define G_MOVABLE	B(3)
#define G_RECLAIMABLE	B(4)
#define G_HIGH		B(5)
#define G_IO		B(6)
#define G_FS		B(7)
#define G_ZERO		B(8)
/* bit 9 was __GFP_ATOMIC until 6.3; unused since */
#define G_DIRECT_RECLAIM B(10)
#define G_KSWAPD_RECLAIM B(11)
#define G_WRITE		B(12)
#define G_NOWARN	B(13)
#define G_RETRY_MAYFAIL	B(14)
#define G_NOFAIL	B(15)
#define G_NORETRY	B(16)
#define G_MEMALLOC	B(17)
#define G_COMP		B(18)
#define G_NOMEMALLOC	B(19)
#define G_HARDWALL	B(20)
#define G_THISNODE	B(21)
#define G_ACCOUNT	B(22)
#define G_ZEROTAGS	B(23)
#define G_NO_OBJ_EXT	B(24)	/* no KASAN_HW_TAGS, no LOCKDEP: first free bit */

/* Composites: include/linux/gfp_types.h (__GFP_SKIP_KASAN is 0 on x86). */
#define G_RECLAIM	(G_DIRECT_RECLAIM | G_KSWAPD_RECLAIM)
#define G_KERNEL	(G_RECLAIM | G_IO | G_FS)
#define G_USER		(G_RECLAIM | G_IO | G_FS | G_HARDWALL)
#define G_HIGHUSER	(G_USER | G_HIGHMEM)
#define G_HIGHUSER_MOVABLE (G_HIGHUSER | G_MOVABLE)
#define G_TRANSHUGE_LIGHT ((G_HIGHUSER_MOVABLE | G_COMP | G_NOMEMALLOC | G_NOWARN) & ~G_RECLAIM)
#define G_TRANSHUGE	(G_TRANSHUGE_LIGHT | G_DIRECT_RECLAIM)

_Static_assert(G_TRANSHUGE == 0x1c24ca, "GFP_TRANSHUGE");
_Static_assert(G_TRANSHUGE_LIGHT == 0x1c20ca, "GFP_TRANSHUGE_LIGHT");
_Static_assert(G_HIGHUSER_MOVABLE == 0x100cca, "GFP_HIGHUSER_MOVABLE");
_Static_assert(G_KERNEL == 0xcc0, "GFP_KERNEL");

/* show_gfp_flags() -> __def_gfpflag_names, in the kernel's order. */
#define N(name, mask) { name, mask, sizeof(name) - 1 }
const struct fr_gfp_name fr_gfp_names[] = {
	N("GFP_TRANSHUGE", G_TRANSHUGE),
	N("GFP_TRANSHUGE_LIGHT", G_TRANSHUGE_LIGHT),
	N("GFP_HIGHUSER_MOVABLE", G_HIGHUSER_MOVABLE),
	N("GFP_HIGHUSER", G_HIGHUSER),
	N("GFP_USER", G_USER),
	N("GFP_KERNEL_ACCOUNT", G_KERNEL | G_ACCOUNT),
	N("GFP_KERNEL", G_KERNEL),
	N("GFP_NOFS", G_RECLAIM | G_IO),
	N("GFP_ATOMIC", G_HIGH | G_KSWAPD_RECLAIM),
	N("GFP_NOIO", G_RECLAIM),
	N("GFP_NOWAIT", G_KSWAPD_RECLAIM | G_NOWARN),
	N("GFP_DMA", G_DMA),
	N("GFP_DMA32", G_DMA32),
	N("__GFP_RECLAIM", G_RECLAIM),
	N("__GFP_DMA", G_DMA),
	N("__GFP_HIGHMEM", G_HIGHMEM),
	N("__GFP_DMA32", G_DMA32),
	N("__GFP_MOVABLE", G_MOVABLE),
	N("__GFP_RECLAIMABLE", G_RECLAIMABLE),
	N("__GFP_HIGH", G_HIGH),
	N("__GFP_IO", G_IO),
	N("__GFP_FS", G_FS),
	N("__GFP_ZERO", G_ZERO),
	N("__GFP_DIRECT_RECLAIM", G_DIRECT_RECLAIM),
	N("__GFP_KSWAPD_RECLAIM", G_KSWAPD_RECLAIM),
	N("__GFP_WRITE", G_WRITE),
	N("__GFP_NOWARN", G_NOWARN),
	N("__GFP_RETRY_MAYFAIL", G_RETRY_MAYFAIL),
	N("__GFP_NOFAIL", G_NOFAIL),
	N("__GFP_NORETRY", G_NORETRY),
	N("__GFP_MEMALLOC", G_MEMALLOC),
	N("__GFP_COMP", G_COMP),
	N("__GFP_NOMEMALLOC", G_NOMEMALLOC),
	N("__GFP_HARDWALL", G_HARDWALL),
	N("__GFP_THISNODE", G_THISNODE),
	N("__GFP_ACCOUNT", G_ACCOUNT),
	N("__GFP_ZEROTAGS", G_ZEROTAGS),
	N("__GFP_NO_OBJ_EXT", G_NO_OBJ_EXT),
};
const size_t fr_gfp_nnames = sizeof(fr_gfp_names) / sizeof(fr_gfp_names[0]);

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* One '|'-separated token. */
static int parse_token(const char *t, size_t n, uint64_t *bits)
{
	if (n > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) {
		/* __print_flags() prints leftover bits as 0x%lx */
		uint64_t v = 0;
		if (n - 2 > 16)
			return -1;
		for (size_t i = 2; i < n; i++) {
			int h = hexval((unsigned char)t[i]);
			if (h < 0)
				return -1;
			v = v << 4 | (uint64_t)h;
		}
		*bits = v;
		return 0;
	}
	if (n == 4 && !memcmp(t, "none", 4)) {	/* show_gfp_flags() for 0 */
		*bits = 0;
		return 0;
	}
	/* Comparing the length first rejects almost every entry without
	 * touching the string; this runs once per flag per alloc line. */
	for (size_t i = 0; i < fr_gfp_nnames; i++)
		if (fr_gfp_names[i].len == n && !memcmp(fr_gfp_names[i].name, t, n)) {
			*bits = fr_gfp_names[i].mask;
			return 0;
		}
	return -1;
}

int fr_gfp_parse(const char *s, size_t len, uint64_t *out)
{
	const char *p = s, *end = s + len;
	uint64_t acc = 0;
	int rc = 0;

	if (len == 0)
		rc = -1;
	while (p <= end && len) {
		const char *bar = memchr(p, '|', (size_t)(end - p));
		const char *te = bar ? bar : end;
		uint64_t bits;

		if (te == p || parse_token(p, (size_t)(te - p), &bits) < 0)
			rc = -1;
		else
			acc |= bits;
		if (!bar)
			break;
		p = bar + 1;
		if (p == end)		/* trailing '|' */
			rc = -1;
	}
	*out = acc;
	return rc;
}

static size_t put(char *buf, size_t cap, size_t at, const char *s, size_t n)
{
	if (at < cap) {
		size_t room = cap - at - 1;	/* keep one byte for the NUL */
		memcpy(buf + at, s, n < room ? n : room);
	}
	return at + n;
}

/* Same walk as the kernel's trace_print_flags_seq() behind __print_flags(). */
size_t fr_gfp_format(uint64_t gfp, char *buf, size_t cap)
{
	size_t at = 0;
	int first = 1;

	if (!gfp) {
		at = put(buf, cap, at, "none", 4);
	} else {
		for (size_t i = 0; i < fr_gfp_nnames && gfp; i++) {
			uint64_t m = fr_gfp_names[i].mask;
			if ((gfp & m) != m)
				continue;
			gfp &= ~m;
			if (!first)
				at = put(buf, cap, at, "|", 1);
			first = 0;
			at = put(buf, cap, at, fr_gfp_names[i].name, fr_gfp_names[i].len);
		}
		if (gfp) {
			char hex[20];
			size_t n = 0;
			hex[n++] = '0';
			hex[n++] = 'x';
			int shift = 60;
			while (shift > 0 && !((gfp >> shift) & 0xf))
				shift -= 4;
			for (; shift >= 0; shift -= 4)
				hex[n++] = "0123456789abcdef"[(gfp >> shift) & 0xf];
			if (!first)
				at = put(buf, cap, at, "|", 1);
			at = put(buf, cap, at, hex, n);
		}
	}
	if (cap)
		buf[at < cap ? at : cap - 1] = 0;
	return at;
}
