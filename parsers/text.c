// SPDX-License-Identifier: GPL-2.0
/*
 * text.c - kmem page events from text dumps:
 *
 *   ftrace       /sys/kernel/tracing/trace (or trace_pipe):
 *                "  comm-pid  [001] d..1. 12345.678901: mm_page_alloc: page=.. pfn=0x.. ..."
 *   trace-cmd    `trace-cmd report [-t]`: "cpus=2" first, then
 *                "[inst: ]  comm-pid [001] 12345.678901234: mm_page_alloc:   page=.."
 *   perf script  "comm tid [001] 12345.678901: kmem:mm_page_alloc: page=.. pfn=.."
 *
 * All three put "[CPU] [flags] TIMESTAMP: [sys:]EVENT: key=value ..." after a
 * free-form task name (which may hold spaces, brackets or colons), so a line
 * is parsed by finding the "TIMESTAMP:" token that follows a [CPU] token and
 * reading from there; the task name is never split.  The format name in
 * fr_meta is decided from content (header lines, lost-event markers, the
 * "kmem:" system prefix perf prints, the flags column ftrace prints).
 *
 * Ring-buffer loss markers become FR_EV_LOST (gfp = count, 0 if unknown).
 * ftrace and trace-cmd print them without a time, right before the first
 * event after the gap, so they take that next line's time (as the trace.dat
 * reader takes the time of the record that carries missed_events).  Lines of
 * other tracepoints are skipped and counted as ignored; any other line that
 * is not a header, and any kmem page line that does not parse, is an error
 * "PATH: line N: ..." (or, with skip_bad, skipped and counted).  gfp_flags
 * names from other kernels' tables (__GFP_ATOMIC before 6.3, ...) are
 * tolerated: their bits are dropped, the rest of the value is kept.
 *
 * The file is read through one fixed 1 MiB buffer, so memory does not grow
 * with the trace; a line may be up to 64 KiB long.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fr_source.h"
#include "gfp.h"

#define TX_BUFSZ	(1u << 20)
#define TX_MAXLINE	(64u << 10)
#define TX_SNIFF_LINES	4096	/* lines looked at by open to name the format */

enum tx_fmt { TX_UNKNOWN, TX_FTRACE, TX_TRACECMD, TX_PERF };
static const char *const fmt_names[] = {
	[TX_UNKNOWN] = "ftrace-text",	/* nothing decisive seen: the plainest guess */
	[TX_FTRACE] = "ftrace-text",
	[TX_TRACECMD] = "trace-cmd-text",
	[TX_PERF] = "perf-script",
};

/* What one line turned out to be. */
enum {
	R_NONE,		/* blank, comment or header line */
	R_EVENT,	/* one of ours: ev filled */
	R_OTHER,	/* some other tracepoint: counted as ignored, its ts kept */
	R_LOST_TS,	/* loss marker with its own timestamp (perf): ev filled */
	R_LOST_PEND,	/* loss marker without timestamp: ev filled but ts */
	R_BAD,		/* tx->why says what is wrong */
};

/* Field keys we read, as bits for "seen" and "required" sets. */
enum {
	K_PFN = 1 << 0, K_ORDER = 1 << 1, K_MT = 1 << 2, K_GFP = 1 << 3,
	K_REFILL = 1 << 4, K_AORDER = 1 << 5, K_FORDER = 1 << 6,
	K_AMT = 1 << 7, K_FMT = 1 << 8, K_CHOWN = 1 << 9,
};

/* Direct-mapped cache of whole gfp_flags strings: a handful of distinct
 * strings make up nearly every alloc line, so most lines skip the name walk. */
#define GFP_CACHE 64
#define GFP_CACHE_STR 112
struct gfp_slot {
	uint32_t len;		/* 0: empty */
	uint64_t val;
	char str[GFP_CACHE_STR];
};

struct tx {
	int fd;
	int skip_bad;
	int rewindable;
	char path[4096];
	struct fr_meta *meta;	/* owned by fr_source, outlives us */

	char *buf;		/* TX_BUFSZ bytes */
	size_t pos, end;	/* unread bytes are buf[pos..end) */
	size_t next;		/* where the peeked line ends (past its '\n') */
	int eof;
	int discarding;		/* skip_bad: dropping the tail of an over-long line */

	uint64_t line;		/* lines consumed so far */
	uint64_t skipped;	/* bad lines dropped under skip_bad */
	uint64_t ignored;	/* lines of other tracepoints */
	uint64_t last_ts;
	int seen_event;		/* an event-shaped line went by (ends the header) */

	int fmt, fmt_final;	/* enum tx_fmt, and whether it is decided */
	int hint;		/* format the last parsed line points to */

	int have_lost;		/* loss marker waiting for the next timestamp */
	struct fr_event lost;
	int have_held;		/* an event that did not fit the caller's buffer */
	struct fr_event held;

	int failed;		/* sticky: read keeps returning this error */
	char why[256];		/* what parse_line found wrong */
	char errmsg[sizeof(((struct fr_error *)0)->msg)];

	struct gfp_slot gfp[GFP_CACHE];
};

static inline int is_sp(int c)
{
	return c == ' ' || c == '\t';
}

static inline int is_dig(int c)
{
	return (unsigned)(c - '0') < 10;
}

static inline int is_alpha(int c)
{
	return (unsigned)((c | 0x20) - 'a') < 26;
}

/* Set tx->why; printf-style; returns R_BAD. */
static int bad(struct tx *tx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(struct tx *tx, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tx->why, sizeof(tx->why), fmt, ap);
	va_end(ap);
	return R_BAD;
}

/* A short printable excerpt of s[0..n) for messages. */
static const char *excerpt(const char *s, size_t n, char *out, size_t cap)
{
	size_t k = 0, max = cap - 4;
	for (size_t i = 0; i < n && k < max; i++)
		out[k++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (n > max)
		out[k++] = '.', out[k++] = '.', out[k++] = '.';
	out[k] = 0;
	return out;
}

/* ---- numbers ---------------------------------------------------------- */

/* "0x1f" (hex, as pfn=0x%lx prints) or "31" (decimal, pre-5.14 pfn=%lu). */
static int parse_u64(const char *s, const char *e, uint64_t *v)
{
	uint64_t x = 0;
	if (e - s > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		if (e - s > 16)
			return -1;
		for (; s < e; s++) {
			unsigned c = (unsigned char)*s, d;
			if (c - '0' < 10)
				d = c - '0';
			else if ((c | 0x20) - 'a' < 6)
				d = (c | 0x20) - 'a' + 10;
			else
				return -1;
			x = x << 4 | d;
		}
		*v = x;
		return 0;
	}
	if (s == e || e - s > 20)
		return -1;
	for (; s < e; s++) {
		unsigned d = (unsigned char)*s - '0';
		if (d > 9 || x > (UINT64_MAX - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	*v = x;
	return 0;
}

/*
 * "12345.678901" -> ns, exactly, for any number of fraction digits (digits
 * past the ninth are below a nanosecond and dropped).  A timestamp without a
 * fraction is a raw clock count (trace-cmd prints "%12d:" for clocks that are
 * not in ns, ftrace does the same for counter/x86-tsc) and is kept as is.
 */
static int parse_ts(const char *s, const char *e, uint64_t *ts)
{
	static const uint32_t pow10[10] = { 1, 10, 100, 1000, 10000, 100000, 1000000,
					    10000000, 100000000, 1000000000 };
	const char *dot = memchr(s, '.', (size_t)(e - s));
	uint64_t sec = 0;
	uint32_t frac = 0;
	int nd = 0;

	if (!dot)
		return parse_u64(s, e, ts);
	if (dot == s || dot + 1 == e)
		return -1;
	for (const char *p = s; p < dot; p++) {
		unsigned d = (unsigned char)*p - '0';
		if (d > 9 || sec > (UINT64_MAX / 1000000000u - d) / 10)
			return -1;
		sec = sec * 10 + d;
	}
	for (const char *p = dot + 1; p < e; p++) {
		unsigned d = (unsigned char)*p - '0';
		if (d > 9)
			return -1;
		if (nd < 9)
			frac = frac * 10 + d, nd++;
	}
	*ts = sec * 1000000000u + (uint64_t)frac * pow10[9 - nd];
	return 0;
}

/* ---- line shape ------------------------------------------------------- */

struct shape {
	uint64_t ts;
	uint32_t cpu;
	int flags;		/* a flags column ("d..1.") sat between CPU and time */
	const char *after;	/* just past the timestamp's ':' */
};

/* "[001]" ending just before E (E points past ']'); start of '[' in *start. */
static int bracket_cpu(const char *s, const char *e, uint32_t *cpu, const char **start)
{
	const char *p = e - 1;		/* at ']' */
	uint32_t v = 0, mul = 1;
	int nd = 0;
	while (p > s && is_dig(p[-1]) && nd < 6) {
		p--;
		v += (uint32_t)(*p - '0') * mul;
		mul *= 10;
		nd++;
	}
	if (!nd || p == s || p[-1] != '[')
		return -1;
	*cpu = v;
	*start = p - 1;
	return 0;
}

/*
 * ftrace's irq-info column ("d..1.", "....", "dNs2.") or trace-cmd -l's CPU
 * and latency columns printed without a blank between them ("1....."): a
 * short run of flag letters, digits and dots, not all digits (the first
 * flag, irqs-off, is one of ".dDX" in trace_print_lat_fmt()).
 */
static int flags_token(const char *s, const char *e)
{
	int nondig = 0;
	if (e - s < 4 || e - s > 12)
		return 0;
	for (; s < e; s++) {
		unsigned c = (unsigned char)*s;
		if (!(c == '.' || is_dig(c) || is_alpha(c)))
			return 0;
		nondig |= !is_dig(c);
	}
	return nondig;
}

/* Given the timestamp token at T, find the CPU before it. */
static int find_cpu(const char *s, const char *t, struct shape *sh)
{
	const char *p = t, *b;

	while (p > s && is_sp(p[-1]))
		p--;
	sh->flags = 0;
	if (p > s && p[-1] == ']')
		return bracket_cpu(s, p, &sh->cpu, &b);
	/* a flags column after "[CPU]" (ftrace), or glued to the CPU (trace-cmd
	 * report -l prints "%3d" and then the flags) */
	const char *fe = p;
	while (p > s && !is_sp(p[-1]))
		p--;
	if (!flags_token(p, fe))
		return -1;
	sh->flags = 1;
	if (is_dig(*p)) {
		uint32_t v = 0;
		int nd = 0;
		for (; is_dig(*p) && nd < 6; p++, nd++)
			v = v * 10 + (uint32_t)(*p - '0');
		if (is_dig(*p))
			return -1;
		sh->cpu = v;
		return 0;
	}
	while (p > s && is_sp(p[-1]))
		p--;
	if (p > s && p[-1] == ']')
		return bracket_cpu(s, p, &sh->cpu, &b);
	return -1;
}

/*
 * Find "TIMESTAMP:" preceded by a CPU token.  The first ':' that ends a
 * whitespace-led run of digits and dots, is followed by a blank, and has a
 * CPU before it wins; instance prefixes ("fragrec:") and colons inside task
 * names ("kworker/u8:1") fail those tests and are passed over.
 */
static int find_shape(const char *s, const char *e, struct shape *sh)
{
	const char *c = s;

	while (c < e && (c = memchr(c, ':', (size_t)(e - c)))) {
		const char *t = c;
		while (t > s && (is_dig(t[-1]) || t[-1] == '.'))
			t--;
		if (t < c && is_dig(*t) && t > s && is_sp(t[-1]) &&
		    (c + 1 == e || is_sp(c[1])) &&
		    parse_ts(t, c, &sh->ts) == 0 && find_cpu(s, t, sh) == 0) {
			sh->after = c + 1;
			return 0;
		}
		c++;
	}
	return -1;
}

/* ---- fields ----------------------------------------------------------- */

struct fields {
	unsigned seen;
	uint64_t pfn, gfp;
	long order, mt, refill, aorder, forder, amt, fmt, chown;
};

static inline int key_is(const char *k, size_t n, const char *lit, size_t ln)
{
	return n == ln && !memcmp(k, lit, ln);
}
#define KEY(lit) key_is(k, kn, lit, sizeof(lit) - 1)

/* Well-formed flag name from another kernel's table (e.g. __GFP_ATOMIC
 * before 6.3, __GFP_NOLOCKDEP with LOCKDEP): tolerated, bits unknown. */
static int gfp_names_plausible(const char *s, const char *e)
{
	for (; s < e; s++) {
		unsigned c = (unsigned char)*s;
		if (!(c == '_' || c == '|' || is_dig(c) || is_alpha(c)))
			return 0;
	}
	return 1;
}

static int parse_gfp(struct tx *tx, const char *s, const char *e, uint64_t *v)
{
	size_t n = (size_t)(e - s);
	struct gfp_slot *slot = NULL;

	if (n && n < GFP_CACHE_STR) {
		unsigned h = (unsigned)(n * 7u + (unsigned char)s[n / 2] * 31u +
					(unsigned char)s[n - 1]) % GFP_CACHE;
		slot = &tx->gfp[h];
		if (slot->len == n && !memcmp(slot->str, s, n)) {
			*v = slot->val;
			return 0;
		}
	}
	if (fr_gfp_parse(s, n, v) < 0 && (n == 0 || !gfp_names_plausible(s, e)))
		return -1;
	if (slot) {
		memcpy(slot->str, s, n);
		slot->len = (uint32_t)n;
		slot->val = *v;
	}
	return 0;
}

/* End of a field value: the next blank or the end of the line. */
static inline const char *value_end(const char *p, const char *e)
{
	const char *sp = memchr(p, ' ', (size_t)(e - p));
	return sp ? sp : e;
}

/* Value of a numeric field, parsed while it is scanned (this loop is most of
 * the per-line cost).  Returns the end of the value, NULL if it is not a
 * number ending at a blank or the end of the line. */
static inline const char *scan_u64(const char *p, const char *e, uint64_t *v)
{
	const char *s = p;
	uint64_t x = 0;

	if (e - p > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		for (p += 2, s = p; p < e; p++) {
			unsigned c = (unsigned char)*p, d;
			if (c - '0' < 10)
				d = c - '0';
			else if ((c | 0x20) - 'a' < 6)
				d = (c | 0x20) - 'a' + 10;
			else
				break;
			x = x << 4 | d;
		}
		if (p == s || p - s > 16)
			return NULL;
	} else {
		for (; p < e; p++) {
			unsigned d = (unsigned char)*p - '0';
			if (d > 9)
				break;
			if (x > (UINT64_MAX - d) / 10)
				return NULL;
			x = x * 10 + d;
		}
		if (p == s)
			return NULL;
	}
	if (p < e && !is_sp(*p))
		return NULL;
	*v = x;
	return p;
}

static inline const char *scan_int(const char *p, const char *e, long *v)
{
	const char *s;
	int neg = 0;
	long x = 0;

	if (p < e && *p == '-')
		neg = 1, p++;
	for (s = p; p < e; p++) {
		unsigned d = (unsigned char)*p - '0';
		if (d > 9)
			break;
		x = x * 10 + d;
		if (x > 2147483648L)
			return NULL;
	}
	if (p == s || (p < e && !is_sp(*p)) || x > 2147483647L + neg)
		return NULL;
	*v = neg ? -x : x;
	return p;
}

/* key=value pairs in any order; unknown keys (page=, pageblock_order=,
 * fragmenting=, fields of newer kernels) are skipped. */
static int parse_fields(struct tx *tx, const char *p, const char *e, struct fields *f)
{
	char x[48];

	f->seen = 0;
	for (;;) {
		while (p < e && is_sp(*p))
			p++;
		if (p >= e)
			return 0;
		const char *k = p;
		while (p < e && *p != '=' && !is_sp(*p))
			p++;
		if (p == e || *p != '=')
			return bad(tx, "'%s' is not key=value", excerpt(k, (size_t)(p - k), x, sizeof(x)));
		size_t kn = (size_t)(p - k);
		const char *v = p + 1, *ve;
		unsigned bit = 0;
		switch (kn) {
		case 3:
			if (KEY("pfn")) {
				bit = K_PFN, ve = scan_u64(v, e, &f->pfn);
				goto got;
			}
			break;
		case 5:
			if (KEY("order")) {
				bit = K_ORDER, ve = scan_int(v, e, &f->order);
				goto got;
			}
			break;
		case 9:
			if (KEY("gfp_flags")) {
				bit = K_GFP, ve = value_end(v, e);
				if (parse_gfp(tx, v, ve, &f->gfp) < 0)
					ve = NULL;
				goto got;
			}
			break;
		case 11:
			if (KEY("migratetype")) {
				bit = K_MT, ve = scan_int(v, e, &f->mt);
				goto got;
			}
			if (KEY("alloc_order")) {
				bit = K_AORDER, ve = scan_int(v, e, &f->aorder);
				goto got;
			}
			break;
		case 13:
			if (KEY("percpu_refill")) {
				bit = K_REFILL, ve = scan_int(v, e, &f->refill);
				goto got;
			}
			break;
		case 14:
			if (KEY("fallback_order")) {
				bit = K_FORDER, ve = scan_int(v, e, &f->forder);
				goto got;
			}
			break;
		case 16:
			if (KEY("change_ownership")) {
				bit = K_CHOWN, ve = scan_int(v, e, &f->chown);
				goto got;
			}
			break;
		case 17:
			if (KEY("alloc_migratetype")) {
				bit = K_AMT, ve = scan_int(v, e, &f->amt);
				goto got;
			}
			break;
		case 20:
			if (KEY("fallback_migratetype")) {
				bit = K_FMT, ve = scan_int(v, e, &f->fmt);
				goto got;
			}
			break;
		}
		p = value_end(v, e);	/* a field we do not use */
		continue;
got:
		if (!ve)
			return bad(tx, "bad value in '%s'",
				   excerpt(k, (size_t)(value_end(v, e) - k), x, sizeof(x)));
		f->seen |= bit;
		p = ve;
	}
}

static const unsigned required[FR_EV_NKINDS] = {
	[FR_EV_ALLOC] = K_PFN | K_ORDER | K_MT | K_GFP,
	[FR_EV_FREE] = K_PFN | K_ORDER,
	[FR_EV_FREE_BATCHED] = K_PFN,
	/* percpu_refill only exists since 5.13: optional */
	[FR_EV_ZONE_LOCKED] = K_PFN | K_ORDER | K_MT,
	[FR_EV_PCPU_DRAIN] = K_PFN | K_ORDER | K_MT,
	[FR_EV_EXTFRAG] = K_PFN | K_AORDER | K_FORDER | K_AMT | K_FMT | K_CHOWN,
};

static const char *const key_names[] = {
	"pfn", "order", "migratetype", "gfp_flags", "percpu_refill", "alloc_order",
	"fallback_order", "alloc_migratetype", "fallback_migratetype", "change_ownership",
};

/* Orders index shifts downstream; no kernel has MAX_PAGE_ORDER near 64. */
static int order_ok(long o)
{
	return o >= 0 && o < 64;
}

/* Fill EV (already zeroed, kind/ts/cpu set) from the fields of one of ours. */
static int fill_event(struct tx *tx, const struct fields *f, struct fr_event *ev)
{
	const char *kn = fr_kind_name(ev->kind);
	unsigned miss = required[ev->kind] & ~f->seen;

	if (miss) {
		int b = __builtin_ctz(miss);
		return bad(tx, "%s without %s=", kn, key_names[b]);
	}
	ev->pfn = f->pfn;
	switch (ev->kind) {
	case FR_EV_ALLOC:
		/* mm_page_alloc prints pfn 0 for a failed allocation (it stored -1UL) */
		if (!ev->pfn)
			ev->pfn = FR_PFN_NONE;
		ev->gfp = f->gfp;
		/* fall through */
	case FR_EV_ZONE_LOCKED:
	case FR_EV_PCPU_DRAIN:
		if (f->mt < -128 || f->mt > 127)
			return bad(tx, "%s: migratetype=%ld out of range", kn, f->mt);
		ev->mt = (int8_t)f->mt;
		/* fall through */
	case FR_EV_FREE:
		if (!order_ok(f->order))
			return bad(tx, "%s: order=%ld out of range", kn, f->order);
		ev->order = (uint8_t)f->order;
		if (ev->kind == FR_EV_ZONE_LOCKED && (f->seen & K_REFILL)) {
			if (f->refill < 0 || f->refill > 255)
				return bad(tx, "%s: percpu_refill=%ld out of range", kn, f->refill);
			ev->aux = (uint8_t)f->refill;
		}
		break;
	case FR_EV_FREE_BATCHED:
		break;		/* "order=0" is fixed text in the kernel's format */
	case FR_EV_EXTFRAG:
		if (!order_ok(f->aorder) || !order_ok(f->forder))
			return bad(tx, "%s: alloc_order=%ld fallback_order=%ld out of range",
				   kn, f->aorder, f->forder);
		if (f->amt < -128 || f->amt > 127 || f->fmt < 0 || f->fmt > 255)
			return bad(tx, "%s: migratetype out of range", kn);
		if (f->chown != 0 && f->chown != 1)
			return bad(tx, "%s: change_ownership=%ld is not 0 or 1", kn, f->chown);
		ev->order = (uint8_t)f->aorder;
		ev->mt = (int8_t)f->amt;
		ev->aux = (uint8_t)f->forder;
		/* fr_event.h: gfp bit 0 = change_ownership, bits 8..15 = fallback_migratetype */
		ev->gfp = (uint64_t)f->chown | (uint64_t)f->fmt << 8;
		break;
	}
	return R_EVENT;
}

/* The six events by name (lengths are all different). */
static int kind_of(const char *n, size_t len)
{
	static const struct { const char *s; size_t n; int kind; } tab[] = {
		{ "mm_page_alloc", 13, FR_EV_ALLOC },
		{ "mm_page_free", 12, FR_EV_FREE },
		{ "mm_page_free_batched", 20, FR_EV_FREE_BATCHED },
		{ "mm_page_alloc_zone_locked", 25, FR_EV_ZONE_LOCKED },
		{ "mm_page_pcpu_drain", 18, FR_EV_PCPU_DRAIN },
		{ "mm_page_alloc_extfrag", 21, FR_EV_EXTFRAG },
	};
	if (len < 12 || memcmp(n, "mm_page_", 8))
		return FR_EV_NONE;
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (tab[i].n == len && !memcmp(tab[i].s, n, len))
			return tab[i].kind;
	return FR_EV_NONE;
}

static int cpu_ok(struct tx *tx, uint32_t cpu)
{
	if (cpu >= FR_MAX_CPUS) {
		bad(tx, "CPU %u out of range (max %d)", cpu, FR_MAX_CPUS - 1);
		return -1;
	}
	if (cpu + 1 > tx->meta->nr_cpus)
		tx->meta->nr_cpus = cpu + 1;
	return 0;
}

/* "lost N" after perf's PERF_RECORD_LOST / PERF_RECORD_LOST_SAMPLES. */
static int perf_lost(struct tx *tx, const char *p, const char *e, uint64_t *n)
{
	while (p < e && is_sp(*p))
		p++;
	if (e - p < 6 || memcmp(p, "lost ", 5)) {
		bad(tx, "PERF_RECORD_LOST without 'lost N'");
		return -1;
	}
	p += 5;
	const char *q = p;
	while (q < e && is_dig(*q))
		q++;
	if (parse_u64(p, q, n) < 0) {
		bad(tx, "PERF_RECORD_LOST with a bad count");
		return -1;
	}
	return 0;
}

/*
 * Ring-buffer loss markers without a timestamp, optionally after a
 * trace-cmd instance prefix:
 *   ftrace     "CPU:1 [LOST 123 EVENTS]", "CPU:1 [LOST EVENTS]" (count unknown:
 *              the "trace" file's iterator was overrun), kernel/trace/trace.c
 *              print_trace_line()
 *   trace-cmd  "CPU:1 [123 EVENTS DROPPED]", "CPU:1 [EVENTS DROPPED]" (trace-read.c)
 * Returns 1 and fills cpu/count/format if S..E is one, else 0.
 */
static int lost_marker(const char *s, const char *e, uint32_t *cpu, uint64_t *count, int *fmt)
{
	const char *p = memmem(s, (size_t)(e - s), "CPU:", 4);
	if (!p)
		return 0;
	/* before it: nothing, or "name:" and blanks (trace-cmd instance prefix) */
	const char *b = p;
	while (b > s && is_sp(b[-1]))
		b--;
	if (b > s && (b[-1] != ':' || b == p))
		return 0;
	p += 4;
	const char *d = p;
	while (p < e && is_dig(*p))
		p++;
	if (p == d || p - d > 6 || e - p < 2 || p[0] != ' ' || p[1] != '[')
		return 0;
	uint64_t c;
	if (parse_u64(d, p, &c) < 0)
		return 0;
	*cpu = (uint32_t)c;
	p += 2;
	const char *tail;
	*count = 0;
	if (e - p > 5 && !memcmp(p, "LOST ", 5)) {
		d = p += 5;
		while (p < e && is_dig(*p))
			p++;
		if (p == d)
			tail = "EVENTS]";
		else if (parse_u64(d, p, count) < 0)
			return 0;
		else
			tail = " EVENTS]";
		*fmt = TX_FTRACE;
	} else {
		d = p;
		while (p < e && is_dig(*p))
			p++;
		if (p > d) {
			if (parse_u64(d, p, count) < 0)
				return 0;
			tail = " EVENTS DROPPED]";
		} else {
			tail = "EVENTS DROPPED]";	/* count unknown */
		}
		*fmt = TX_TRACECMD;
	}
	size_t tl = strlen(tail);
	if ((size_t)(e - p) < tl || memcmp(p, tail, tl))
		return 0;
	for (p += tl; p < e; p++)
		if (!is_sp(*p))
			return 0;
	return 1;
}

/* trace-cmd report's first line "cpus=N", maybe after an instance prefix. */
static int cpus_header(const char *s, const char *e, uint32_t *n)
{
	const char *p = s;
	if (e - p > 5 && memcmp(p, "cpus=", 5)) {
		p = memmem(s, (size_t)(e - s), ": cpus=", 7);
		if (!p)
			return 0;
		p += 2;
	}
	if (e - p <= 5 || memcmp(p, "cpus=", 5))
		return 0;
	p += 5;
	const char *d = p;
	uint64_t v;
	while (p < e && is_dig(*p))
		p++;
	if (p == d || parse_u64(d, p, &v) < 0 || v > FR_MAX_CPUS)
		return 0;
	while (p < e && is_sp(*p))
		p++;
	if (p != e)
		return 0;
	*n = (uint32_t)v;
	return 1;
}

/* "version = 7"-style header lines trace-cmd may print before the events. */
static int kv_header(const char *s, const char *e)
{
	const char *p = s;
	if (p == e || !(*p == '_' || is_alpha(*p)))
		return 0;
	while (p < e && (*p == '_' || *p == ' ' || *p == '-' || is_dig(*p) || is_alpha(*p)))
		p++;
	if (p == e || *p != '=')
		return 0;
	for (p++; p < e; p++)
		if (!is_sp(*p))
			return 1;
	return 0;
}

/*
 * Classify and decode one line (S..E, no newline).  Sets tx->hint to the
 * format the line proves, if any.
 */
static int parse_line(struct tx *tx, const char *s, const char *e, struct fr_event *ev,
		      uint64_t *ts)
{
	struct shape sh;
	char x[64];

	tx->hint = TX_UNKNOWN;
	if (e > s && e[-1] == '\r')
		e--;
	if (find_shape(s, e, &sh) == 0) {
		const char *p = sh.after, *n, *ne;
		int kind;

		tx->seen_event = 1;
		while (p < e && is_sp(*p))
			p++;
		if (p + 1 < e && p[0] == '(' && p[1] == '+') {	/* trace-cmd --ts-diff */
			while (p < e && !is_sp(*p))
				p++;
			while (p < e && is_sp(*p))
				p++;
		}
		n = p;
		while (p < e && !is_sp(*p))
			p++;
		ne = p;
		*ts = sh.ts;
		if (ne == n)
			return bad(tx, "no event name after the timestamp");
		if (ne[-1] != ':') {
			/* perf script --show-lost-events */
			if (ne - n >= 16 && !memcmp(n, "PERF_RECORD_LOST", 16)) {
				uint64_t cnt;
				if (perf_lost(tx, p, e, &cnt) < 0 || cpu_ok(tx, sh.cpu) < 0)
					return R_BAD;
				memset(ev, 0, sizeof(*ev));
				ev->kind = FR_EV_LOST;
				ev->ts = sh.ts;
				ev->cpu = sh.cpu;
				ev->gfp = cnt;
				tx->hint = TX_PERF;
				return R_LOST_TS;
			}
			if (memmem(n, (size_t)(e - n), "mm_page_", 8))
				return bad(tx, "no 'event:' token after the timestamp: '%s'",
					   excerpt(n, (size_t)(e - n), x, sizeof(x)));
			return R_OTHER;	/* other perf records (--show-task-events ...) */
		}
		ne--;
		/* "kmem:mm_page_alloc" (perf) or "mm_page_alloc" */
		const char *sys = memchr(n, ':', (size_t)(ne - n));
		if (sys) {
			tx->hint = TX_PERF;
			if (sys - n != 4 || memcmp(n, "kmem", 4))
				return R_OTHER;
			n = sys + 1;
		} else {
			tx->hint = sh.flags ? TX_FTRACE : TX_TRACECMD;
		}
		kind = kind_of(n, (size_t)(ne - n));
		if (kind == FR_EV_NONE)
			return R_OTHER;

		struct fields f;
		if (parse_fields(tx, p, e, &f) == R_BAD || cpu_ok(tx, sh.cpu) < 0)
			return R_BAD;
		memset(ev, 0, sizeof(*ev));
		ev->kind = (uint8_t)kind;
		ev->ts = sh.ts;
		ev->cpu = sh.cpu;
		return fill_event(tx, &f, ev);
	}

	/* Not an event line: blank, header, loss marker, or garbage. */
	const char *p = s;
	while (p < e && (is_sp(*p) || *p == '\f' || *p == '\v'))
		p++;
	if (p == e || *p == '#')	/* ftrace's header block, perf script --header */
		return R_NONE;

	uint32_t cpu, ncpu;
	uint64_t count;
	int fmt;
	if (lost_marker(p, e, &cpu, &count, &fmt)) {
		if (cpu_ok(tx, cpu) < 0)
			return R_BAD;
		memset(ev, 0, sizeof(*ev));
		ev->kind = FR_EV_LOST;
		ev->cpu = cpu;
		ev->gfp = count;
		tx->hint = fmt;
		return R_LOST_PEND;
	}
	if (cpus_header(p, e, &ncpu)) {
		if (ncpu > tx->meta->nr_cpus)
			tx->meta->nr_cpus = ncpu;
		tx->hint = TX_TRACECMD;
		return R_NONE;
	}
	if (!tx->seen_event && kv_header(p, e))
		return R_NONE;
	const char *mp = memmem(p, (size_t)(e - p), "mm_page_", 8);
	if (mp)
		return bad(tx, "no '[CPU] TIMESTAMP:' before the event name in '%s'",
			   excerpt(p, (size_t)(e - p), x, sizeof(x)));
	return bad(tx, "not an ftrace, trace-cmd report or perf script line: '%s'",
		   excerpt(p, (size_t)(e - p), x, sizeof(x)));
}

/* ---- buffered line reader --------------------------------------------- */

static int fail(struct tx *tx, struct fr_error *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct tx *tx, struct fr_error *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tx->errmsg, sizeof(tx->errmsg), fmt, ap);
	va_end(ap);
	tx->failed = 1;
	return fr_err(err, "%s", tx->errmsg);
}

/* Read more input after moving the unread tail to the front. */
static int refill(struct tx *tx, struct fr_error *err)
{
	size_t avail = tx->end - tx->pos;
	ssize_t r;

	if (tx->pos) {
		memmove(tx->buf, tx->buf + tx->pos, avail);
		tx->pos = 0;
		tx->end = avail;
	}
	do
		r = read(tx->fd, tx->buf + tx->end, TX_BUFSZ - tx->end);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return fail(tx, err, "%s: cannot read: %s", tx->path, strerror(errno));
	if (r == 0)
		tx->eof = 1;
	tx->end += (size_t)r;
	return 0;
}

/*
 * The next line, without consuming it (commit_line does).  1: a line,
 * 0: end of input, -1: error.  Over-long lines are errors, or under
 * skip_bad are dropped here and counted.
 */
static int peek_line(struct tx *tx, const char **ls, const char **le, struct fr_error *err)
{
	for (;;) {
		char *s = tx->buf + tx->pos;
		size_t avail = tx->end - tx->pos;
		char *nl = memchr(s, '\n', avail);

		if (tx->discarding) {
			if (nl) {
				tx->pos += (size_t)(nl - s) + 1;
				tx->discarding = 0;
				continue;
			}
			tx->pos = tx->end;
			if (tx->eof) {
				tx->discarding = 0;
				return 0;
			}
			if (refill(tx, err) < 0)
				return -1;
			continue;
		}
		size_t len = nl ? (size_t)(nl - s) : avail;
		if (len > TX_MAXLINE || (!nl && !tx->eof && avail >= TX_MAXLINE)) {
			if (!tx->skip_bad)
				return fail(tx, err, "%s: line %llu: longer than %u bytes",
					    tx->path, (unsigned long long)tx->line + 1, TX_MAXLINE);
			tx->skipped++;
			tx->line++;
			tx->discarding = 1;
			continue;
		}
		if (nl || (tx->eof && avail)) {
			*ls = s;
			*le = s + len;
			tx->next = tx->pos + len + (nl ? 1 : 0);
			return 1;
		}
		if (tx->eof)
			return 0;
		if (refill(tx, err) < 0)
			return -1;
	}
}

static inline void commit_line(struct tx *tx)
{
	tx->pos = tx->next;
	tx->line++;
}

static void set_format(struct tx *tx, int fmt)
{
	tx->fmt = fmt;
	snprintf(tx->meta->format, sizeof(tx->meta->format), "%s", fmt_names[fmt]);
}

/* Hand EV to the caller, or hold it when the caller's buffer is full. */
static inline void emit(struct tx *tx, struct fr_event *out, size_t *k, size_t n,
			const struct fr_event *ev)
{
	if (*k < n) {
		out[(*k)++] = *ev;
	} else {
		tx->held = *ev;
		tx->have_held = 1;
	}
}

/* A pending loss marker takes the time of the next timestamped line: the
 * kernel prints it right before the first event after the gap. */
static inline void flush_lost(struct tx *tx, struct fr_event *out, size_t *k, size_t n,
			      uint64_t ts)
{
	if (tx->have_lost) {
		tx->lost.ts = ts;
		tx->have_lost = 0;
		emit(tx, out, k, n, &tx->lost);
	}
}

static ssize_t tx_read(void *priv, struct fr_event *out, size_t n, struct fr_error *err)
{
	struct tx *tx = priv;
	size_t k = 0;

	if (tx->failed)
		return fr_err(err, "%s", tx->errmsg);
	while (k < n) {
		const char *ls = NULL, *le = NULL;
		struct fr_event ev;
		uint64_t ts = 0;
		int r;

		if (tx->have_held) {
			out[k++] = tx->held;
			tx->have_held = 0;
			continue;
		}
		r = peek_line(tx, &ls, &le, err);
		if (r < 0)
			return k ? (ssize_t)k : -1;	/* error stays sticky for the next call */
		if (r == 0) {
			flush_lost(tx, out, &k, n, tx->last_ts);
			break;
		}
		r = parse_line(tx, ls, le, &ev, &ts);
		if (r == R_BAD) {
			if (tx->skip_bad) {
				tx->skipped++;
				commit_line(tx);
				continue;
			}
			if (k)		/* hand over what we have; fail on this line next time */
				break;
			return fail(tx, err, "%s: line %llu: %s", tx->path,
				    (unsigned long long)tx->line + 1, tx->why);
		}
		commit_line(tx);
		if (!tx->fmt_final && tx->hint != TX_UNKNOWN) {
			set_format(tx, tx->hint);
			tx->fmt_final = 1;
		}
		switch (r) {
		case R_NONE:
			break;
		case R_OTHER:
			tx->ignored++;
			flush_lost(tx, out, &k, n, ts);
			tx->last_ts = ts;
			break;
		case R_LOST_PEND:
			flush_lost(tx, out, &k, n, tx->last_ts);	/* two in a row */
			tx->lost = ev;
			tx->have_lost = 1;
			break;
		case R_EVENT:
		case R_LOST_TS:
			flush_lost(tx, out, &k, n, ev.ts);
			tx->last_ts = ev.ts;
			emit(tx, out, &k, n, &ev);
			break;
		}
	}
	return (ssize_t)k;
}

/* ---- open / rewind / close -------------------------------------------- */

static void reset(struct tx *tx)
{
	tx->pos = tx->end = tx->next = 0;
	tx->eof = tx->discarding = 0;
	tx->line = tx->skipped = tx->ignored = tx->last_ts = 0;
	tx->seen_event = 0;
	tx->have_lost = tx->have_held = 0;
	tx->failed = 0;
}

/*
 * Name the format from the first buffer of lines, without consuming them.
 * Without skip_bad, a first meaningful line that is garbage fails the open,
 * so a file that is no trace at all is refused up front.
 */
static int sniff(struct tx *tx, struct fr_error *err)
{
	const char *s = tx->buf, *end = tx->buf + tx->end;
	int decided = 0, meaningful = 0;
	uint64_t line = 0;

	for (int i = 0; i < TX_SNIFF_LINES && s < end && !decided; i++) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *le = nl ? nl : end;
		struct fr_event ev;
		uint64_t ts;
		int r;

		if (!nl && !tx->eof)
			break;		/* partial line: leave it to read */
		line++;
		r = parse_line(tx, s, le, &ev, &ts);
		if (r == R_BAD && !meaningful && !tx->skip_bad)
			return fr_err(err, "%s: line %llu: %s", tx->path,
				      (unsigned long long)line, tx->why);
		if (r != R_NONE || tx->hint != TX_UNKNOWN)
			meaningful = 1;
		if (tx->hint != TX_UNKNOWN) {
			set_format(tx, tx->hint);
			decided = 1;
		} else if (s[0] == '#' && le - s > 9 && !memcmp(s, "# tracer:", 9)) {
			set_format(tx, TX_FTRACE);	/* header of /sys/kernel/tracing/trace */
			decided = 1;
		}
		s = nl ? nl + 1 : end;
	}
	tx->fmt_final = decided;
	if (!decided)
		set_format(tx, TX_UNKNOWN);
	tx->seen_event = 0;	/* read starts from line 1 again */
	return 0;
}

static void tx_close(void *priv)
{
	struct tx *tx = priv;
	if (!tx)
		return;
	if (tx->fd >= 0)
		close(tx->fd);
	free(tx->buf);
	free(tx);
}

static void *tx_open(const char *path, int fd, const struct fr_open_opts *opts,
		     struct fr_meta *meta, struct fr_error *err)
{
	struct tx *tx = calloc(1, sizeof(*tx));

	if (!tx) {
		close(fd);
		fr_err(err, "%s: out of memory", path);
		return NULL;
	}
	tx->fd = fd;
	tx->meta = meta;
	tx->skip_bad = opts && opts->skip_bad;
	snprintf(tx->path, sizeof(tx->path), "%s", path);
	tx->buf = malloc(TX_BUFSZ);
	if (!tx->buf) {
		fr_err(err, "%s: out of memory", path);
		goto fail;
	}
	/* fr_detect looked at offset 0 with pread; start there too */
	tx->rewindable = lseek(fd, 0, SEEK_SET) == 0;
	reset(tx);
	while (!tx->eof && tx->end < TX_BUFSZ)
		if (refill(tx, err) < 0)
			goto fail;
	if (sniff(tx, err) < 0)
		goto fail;
	return tx;
fail:
	tx_close(tx);
	return NULL;
}

static int tx_rewind(void *priv, struct fr_error *err)
{
	struct tx *tx = priv;

	if (!tx->rewindable || lseek(tx->fd, 0, SEEK_SET) != 0)
		return fr_err(err, "%s: cannot rewind: %s", tx->path,
			      tx->rewindable ? strerror(errno) : "input is not seekable");
	reset(tx);
	return 0;
}

static uint64_t tx_skipped(void *priv)
{
	return ((struct tx *)priv)->skipped;
}

const struct fr_backend fr_backend_text = {
	.name = "text",
	.open = tx_open,
	.read = tx_read,
	.rewind = tx_rewind,
	.skipped = tx_skipped,
	.close = tx_close,
};
