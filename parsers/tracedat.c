// SPDX-License-Identifier: GPL-2.0
/*
 * tracedat.c - read trace-cmd's trace.dat (file versions 6 and 7,
 * compressed or not) through libtracecmd + libtraceevent (public API only).
 *
 * Fields are found by name in the file's own event formats (never fixed
 * offsets): the gfp_flags field changed from 32 to 64 bits around 6.10 and
 * other kernels may order fields differently.
 *
 * Which buffer: --buffer NAME, else the first of (top level, instances...)
 * that holds any record - `trace-cmd extract -B inst` writes the events in an
 * instance buffer and leaves the top level empty.
 *
 * Decoding runs in forked child processes (see "Process isolation" below):
 *
 *  - A child opens the file itself with tracecmd_open_fd(), merges its CPUs
 *    by (ts, cpu) with a binary heap over tracecmd_read_data() per CPU, and
 *    streams 32-byte struct fr_event through a pipe.  With several children,
 *    each decodes a disjoint subset of the buffer's CPUs (assigned by data
 *    size, plan_share()) and the parent merges their streams by (ts, cpu)
 *    again: byte-identical to one process merging every CPU (merge_read()
 *    says why, even when a CPU's timestamps go backwards).  Children:
 *    min(online CPUs not already busy, CPUs with data, 8), and only one
 *    when the file is too small for the decode to outlast several opens
 *    (worth_parallel()): tracecmd_open() costs 0.2-0.3 s on real recordings
 *    (a 5 MB kallsyms section parsed with sscanf, ~100 event systems'
 *    formats) and every child pays it - concurrently, not one after another.
 *
 *  - Rewind (replay reads the source twice) would pay that open again.  So
 *    when the caller says it will rewind (fr_open_opts.will_rewind: replay),
 *    at open time the next pass's children are forked too, at nice 19 so that
 *    they only take idle CPU and never slow the pass being read: they open the
 *    file and then block on their full pipe.  fr_source_rewind() promotes
 *    them (back to the caller's priority) instead of forking.  This needs the
 *    right to lower a nice value again (CAP_SYS_NICE or RLIMIT_NICE); without
 *    it the pre-fork is made at normal priority when there are idle CPUs for
 *    it, else not at all.  Readers that never rewind (info, convert, synth)
 *    do not pre-fork: `make bench` measured info on mixed-6.18 at 0.85 s of
 *    CPU with it, 0.41 s without.  Only the second pass is pre-forked: a
 *    third one forks at rewind, as replay never asks for it.
 *
 * Environment:
 *   FRAGREPLAY_DECODE_PROCS=N     N decoder children per pass (1..8; fewer if
 *                                 fewer CPUs hold data), whatever the file's
 *                                 size; 1 = one child decodes every CPU.
 *   FRAGREPLAY_DECODE_PREFORK=0   do not pre-fork the next pass's children.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <trace-cmd.h>
#include <event-parse.h>
#include "fr_source.h"

enum { F_PFN, F_ORDER, F_GFP, F_MT, F_REFILL, F_AORDER, F_FORDER, F_AMT, F_FMT, F_CHOWN, NR_F };

struct ev_desc {
	int id;			/* tep event id, -1 if the file lacks this event */
	int kind;
	struct tep_format_field *f[NR_F];
	int off[NR_F], size[NR_F]; /* the same fields, for the native-endian fast path */
	int need;		/* record size holding every field present: checked once */
};

#define MAX_FAST_ID 65536
#define MAX_PROCS 8

/*
 * The decoder proper.  It only ever lives in a child process, which ends
 * with _exit(): nothing here is freed.
 */
struct tdat {
	const char *path;
	struct tracecmd_input *top, *h;
	struct tep_handle *tep;
	int ncpus;
	struct ev_desc ev[FR_EV_NKINDS];
	const char *want_buffer;
	int native;		/* file endianness == host: read fields with memcpy */
	int type_off, type_size; /* common_type on the native path (size 0: tep_data_type()) */
	uint8_t kind_of_id[MAX_FAST_ID]; /* event id -> kind (0: not ours) */
	int ndata;		/* CPUs holding records, ascending ... */
	int *data_cpu;
	unsigned long long *data_off; /* ... and the offset of their first record */
	struct tep_record **cur; /* next record per CPU (NULL: drained or not ours) */
	uint64_t *ts;		/* cur[cpu]->ts, so the heap does not chase pointers */
	int *heap;		/* CPU numbers ordered by (ts, cpu) */
	int nheap;
};

static const char *const field_names[NR_F] = {
	"pfn", "order", "gfp_flags", "migratetype", "percpu_refill",
	"alloc_order", "fallback_order", "alloc_migratetype", "fallback_migratetype",
	"change_ownership",
};

static inline int heap_less(const struct tdat *t, int a, int b)
{
	if (t->ts[a] != t->ts[b])
		return t->ts[a] < t->ts[b];
	return a < b;		/* stable across runs: lower CPU first on ties */
}

static void heap_down(struct tdat *t, int i)
{
	for (;;) {
		int l = 2 * i + 1, r = l + 1, m = i;
		if (l < t->nheap && heap_less(t, t->heap[l], t->heap[m]))
			m = l;
		if (r < t->nheap && heap_less(t, t->heap[r], t->heap[m]))
			m = r;
		if (m == i)
			return;
		int tmp = t->heap[i];
		t->heap[i] = t->heap[m];
		t->heap[m] = tmp;
		i = m;
	}
}

static int buffer_has_data(struct tracecmd_input *h)
{
	struct tep_handle *tep = tracecmd_get_tep(h);
	int n = tep ? tep_get_cpus(tep) : 0;

	for (int c = 0; c < n; c++) {
		struct tep_record *r = tracecmd_read_cpu_first(h, c);
		if (r) {
			tracecmd_free_record(r);
			return 1;
		}
	}
	return 0;
}

static int open_handles(struct tdat *t, int fd, struct fr_meta *meta, struct fr_error *err)
{
	/* No plugins: output must not depend on what is installed on the machine. */
	t->top = tracecmd_open_fd(fd, TRACECMD_FL_LOAD_NO_PLUGINS);
	if (!t->top)
		return fr_err(err, "%s: not a readable trace.dat (truncated or corrupt headers)", t->path);

	t->h = NULL;
	if (t->want_buffer) {
		if (!strcmp(t->want_buffer, "top"))
			t->h = t->top;
		for (int i = 0; !t->h && i < tracecmd_buffer_instances(t->top); i++) {
			const char *name = tracecmd_buffer_instance_name(t->top, i);
			if (name && !strcmp(name, t->want_buffer))
				t->h = tracecmd_buffer_instance_handle(t->top, i);
		}
		if (!t->h) {
			char list[512] = "top";
			for (int i = 0; i < tracecmd_buffer_instances(t->top); i++) {
				const char *name = tracecmd_buffer_instance_name(t->top, i);
				size_t l = strlen(list);
				snprintf(list + l, sizeof(list) - l, ", %s", name ? name : "?");
			}
			return fr_err(err, "%s: no buffer named '%s' (buffers: %s)", t->path, t->want_buffer, list);
		}
	} else if (buffer_has_data(t->top)) {
		t->h = t->top;
	} else {
		for (int i = 0; i < tracecmd_buffer_instances(t->top); i++) {
			struct tracecmd_input *bh = tracecmd_buffer_instance_handle(t->top, i);
			if (!bh)
				continue;
			if (buffer_has_data(bh)) {
				t->h = bh;
				snprintf(meta->buffer, sizeof(meta->buffer), "%s",
					 tracecmd_buffer_instance_name(t->top, i));
				break;
			}
			tracecmd_close(bh);
		}
		if (!t->h)
			t->h = t->top; /* empty trace: zero events, not an error */
	}
	if (t->h != t->top && !meta->buffer[0] && t->want_buffer)
		snprintf(meta->buffer, sizeof(meta->buffer), "%s", t->want_buffer);

	t->tep = tracecmd_get_tep(t->h);
	if (!t->tep)
		return fr_err(err, "%s: trace.dat has no event formats", t->path);
	t->ncpus = tep_get_cpus(t->tep);
	if (t->ncpus <= 0 || t->ncpus > FR_MAX_CPUS)
		return fr_err(err, "%s: implausible CPU count %d in trace.dat", t->path, t->ncpus);

	struct tep_format_field *common_type = NULL;
	for (int k = 1; k < FR_EV_NKINDS; k++) {
		struct ev_desc *d = &t->ev[k];
		struct tep_event *e;

		memset(d, 0, sizeof(*d));
		d->id = -1;
		d->kind = k;
		if (k == FR_EV_LOST)
			continue;
		e = tep_find_event_by_name(t->tep, "kmem", fr_kind_name(k));
		if (!e)
			continue;
		d->id = e->id;
		for (int f = 0; f < NR_F; f++)
			d->f[f] = tep_find_field(e, field_names[f]);
		if (!d->f[F_PFN])
			return fr_err(err, "%s: event kmem:%s has no pfn field (kernel too old?)",
				      t->path, fr_kind_name(k));
		if (!common_type)
			common_type = tep_find_common_field(e, "common_type");
	}

	t->native = tep_is_file_bigendian(t->tep) == tep_is_local_bigendian(t->tep);
	for (int k = 1; k < FR_EV_NKINDS; k++) {
		struct ev_desc *d = &t->ev[k];
		if (d->id < 0)
			continue;
		if (d->id < MAX_FAST_ID)
			t->kind_of_id[d->id] = (uint8_t)k;
		d->need = 0;
		for (int f = 0; f < NR_F; f++) {
			d->off[f] = d->f[f] ? d->f[f]->offset : -1;
			d->size[f] = d->f[f] ? d->f[f]->size : 0;
			if (d->f[f] && d->size[f] != 1 && d->size[f] != 2 && d->size[f] != 4 && d->size[f] != 8)
				t->native = 0;	/* odd field: take the library's general path */
			if (d->f[f] && (d->off[f] < 0 || d->off[f] > INT32_MAX - 8))
				d->need = INT32_MAX;	/* never the fast path */
			else if (d->f[f] && d->off[f] + d->size[f] > d->need)
				d->need = d->off[f] + d->size[f];
		}
	}
	/*
	 * The event id of a record: tep_data_type() reads common_type with
	 * tep_read_number() (and finds the field on first use); on the native path
	 * a 1/2/4-byte load at the field's offset is the same number, for a
	 * fraction of the cost per record.
	 */
	t->type_size = 0;
	if (t->native && common_type && common_type->offset >= 0 &&
	    (common_type->size == 1 || common_type->size == 2 || common_type->size == 4)) {
		t->type_off = common_type->offset;
		t->type_size = common_type->size;
	}
	t->cur = calloc(t->ncpus, sizeof(*t->cur));
	t->ts = calloc(t->ncpus, sizeof(*t->ts));
	t->heap = calloc(t->ncpus, sizeof(*t->heap));
	t->data_cpu = calloc(t->ncpus, sizeof(*t->data_cpu));
	t->data_off = calloc(t->ncpus, sizeof(*t->data_off));
	if (!t->cur || !t->ts || !t->heap || !t->data_cpu || !t->data_off)
		return fr_err(err, "%s: out of memory", t->path);
	/* which CPUs hold records (tracecmd_read_cpu_first(): NULL for none), and
	 * the offset of their first one (for the plan) */
	t->ndata = 0;
	for (int c = 0; c < t->ncpus; c++) {
		struct tep_record *r = tracecmd_read_cpu_first(t->h, c);
		if (!r)
			continue;
		t->data_cpu[t->ndata] = c;
		t->data_off[t->ndata++] = r->offset;
		tracecmd_free_record(r);
	}
	return 0;
}

/* Does the record at file offset OFF belong to CPU C?  tracecmd_read_at()
 * finds the CPU whose data holds OFF (NULL when none does). */
static int offset_in_cpu(struct tdat *t, unsigned long long off, int c)
{
	int cpu = -1;
	struct tep_record *r = tracecmd_read_at(t->h, off, &cpu);

	if (!r)
		return 0;
	tracecmd_free_record(r);
	return cpu == c;
}

/*
 * Where CPU C's data ends, starting from an offset inside it: exponential
 * then binary search with tracecmd_read_at().  libtracecmd keeps each CPU's
 * data in one contiguous range of offsets, in the file (uncompressed) or in
 * the decompressed address space it reads compressed files through; its
 * public API has no size per CPU, so this is the only way to weigh the last
 * CPU.  ~2 log2(pages) reads, and only done when CPUs must share children.
 */
static unsigned long long cpu_data_end(struct tdat *t, int c, unsigned long long off)
{
	const unsigned long long pg = 4096;
	unsigned long long lo = off, hi, step = pg;

	for (;;) {
		if (!offset_in_cpu(t, lo + step, c)) {
			hi = lo + step;
			break;
		}
		lo += step;
		if (step < (1ull << 40))
			step *= 2;
	}
	while (hi - lo > pg) {
		unsigned long long mid = lo + (hi - lo) / 2;
		if (offset_in_cpu(t, mid, c))
			lo = mid;
		else
			hi = mid;
	}
	return hi;
}

/*
 * The plan: which CPUs child K of NPROC decodes.  Every child computes it
 * from the same file, so they agree without talking to each other.
 * Returns the number of children that have a share (n_eff); MINE[cpu] is
 * set for K's CPUs.  With no more CPUs than children, one CPU each; else
 * longest-processing-time-first over the CPUs' data sizes (the gap to the
 * next CPU's first record; the last one found with cpu_data_end()).
 */
static int plan_share(struct tdat *t, int nproc, int k, unsigned char *mine)
{
	int neff = nproc < t->ndata ? nproc : t->ndata;

	if (neff < 1)
		neff = 1;
	if (k >= neff)
		return neff;
	if (neff == 1) {
		for (int i = 0; i < t->ndata; i++)
			mine[t->data_cpu[i]] = 1;
		return neff;
	}
	if (neff == t->ndata) {
		mine[t->data_cpu[k]] = 1;
		return neff;
	}
	int n = t->ndata, *ord = calloc(n, sizeof(int));
	unsigned long long *size = calloc(n, sizeof(*size)), load[MAX_PROCS] = { 0 };
	if (!ord || !size) {
		/* no memory for a plan: round robin */
		for (int i = k; i < n; i += neff)
			mine[t->data_cpu[i]] = 1;
		return neff;
	}
	/* order by first offset: each CPU's data runs up to the next one's */
	for (int i = 0; i < n; i++)
		ord[i] = i;
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && t->data_off[ord[j]] < t->data_off[ord[j - 1]]; j--) {
			int x = ord[j];
			ord[j] = ord[j - 1];
			ord[j - 1] = x;
		}
	for (int i = 0; i < n; i++) {
		int a = ord[i];
		unsigned long long end = i + 1 < n ? t->data_off[ord[i + 1]]
						   : cpu_data_end(t, t->data_cpu[a], t->data_off[a]);
		size[a] = end > t->data_off[a] ? end - t->data_off[a] : 1;
	}
	/* largest first (ties: lower CPU), each to the least loaded child (ties: lower child) */
	for (int i = 0; i < n; i++)
		ord[i] = i;
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && (size[ord[j]] > size[ord[j - 1]] ||
					  (size[ord[j]] == size[ord[j - 1]] && ord[j] < ord[j - 1])); j--) {
			int x = ord[j];
			ord[j] = ord[j - 1];
			ord[j - 1] = x;
		}
	for (int i = 0; i < n; i++) {
		int b = 0;
		for (int j = 1; j < neff; j++)
			if (load[j] < load[b])
				b = j;
		load[b] += size[ord[i]];
		if (b == k)
			mine[t->data_cpu[ord[i]]] = 1;
	}
	free(ord);
	free(size);
	return neff;
}

/* Position the CPUs in MINE at their first record and build the heap. */
static void start_cpus(struct tdat *t, const unsigned char *mine)
{
	t->nheap = 0;
	for (int i = 0; i < t->ndata; i++) {
		int c = t->data_cpu[i];
		if (!mine[c])
			continue;
		t->cur[c] = tracecmd_read_cpu_first(t->h, c);
		if (!t->cur[c])
			continue;
		t->ts[c] = t->cur[c]->ts;
		t->heap[t->nheap++] = c;
	}
	for (int i = t->nheap / 2 - 1; i >= 0; i--)
		heap_down(t, i);
}

/* A field of the record: memcpy when the file's endianness is the host's
 * (the common case), else libtraceevent's tep_read_number_field(). */
static inline uint64_t fldx(const struct tdat *t, const struct ev_desc *d, int f, const struct tep_record *r)
{
	if (d->off[f] < 0 || d->off[f] + d->size[f] > r->size)
		return 0;
	if (t->native) {
		const unsigned char *p = (const unsigned char *)r->data + d->off[f];
		switch (d->size[f]) {
		case 1: return *p;
		case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
		case 4: { uint32_t v; memcpy(&v, p, 4); return v; }
		default: { uint64_t v; memcpy(&v, p, 8); return v; }
		}
	}
	unsigned long long v = 0;
	tep_read_number_field(d->f[f], r->data, &v);
	return v;
}

/* The kind of a record (0: not one of ours). */
static inline int record_kind(const struct tdat *t, struct tep_record *r)
{
	int id;

	if (t->type_size && t->type_off + t->type_size <= r->size) {
		const unsigned char *p = (const unsigned char *)r->data + t->type_off;
		if (t->type_size == 2) {
			uint16_t v;
			memcpy(&v, p, 2);
			return t->kind_of_id[v];
		}
		if (t->type_size == 1)
			return t->kind_of_id[*p];
		uint32_t v;
		memcpy(&v, p, 4);
		id = v > INT32_MAX ? -1 : (int)v;
	} else {
		id = tep_data_type(t->tep, r);
	}
	if (id >= 0 && id < MAX_FAST_ID)
		return t->kind_of_id[id];
	for (int k = 1; k < FR_EV_NKINDS; k++)
		if (t->ev[k].id == id)
			return k;
	return 0;
}

/* A field on the fast path: native endianness, the record known to hold
 * every field of its event (d->need), so no per-field check. */
static inline uint64_t fldn(const struct ev_desc *d, int f, const struct tep_record *r)
{
#define P ((const unsigned char *)r->data + d->off[f])
	switch (d->size[f]) {
	case 0: return 0;	/* the file's event lacks this field */
	case 1: return *P;
	case 2: { uint16_t v; memcpy(&v, P, 2); return v; }
	case 4: { uint32_t v; memcpy(&v, P, 4); return v; }
	default: { uint64_t v; memcpy(&v, P, 8); return v; }
	}
#undef P
}

/*
 * Decode one record of ours.  The event is built in a local (every field
 * assigned: the struct has no padding) and stored once: a memset of the
 * output slot first compiled to `rep stos`, which dominated this function.
 * FAST: fldn() for every field (see decode()), else fldx().
 */
#define decode_fields(FLD)							\
	do {									\
		e.pfn = FLD(F_PFN);						\
		switch (d->kind) {						\
		case FR_EV_ALLOC:						\
			e.order = (uint8_t)FLD(F_ORDER);			\
			e.mt = (int8_t)FLD(F_MT);				\
			e.gfp = FLD(F_GFP);					\
			if (d->size[F_PFN] == 4 && e.pfn == UINT32_MAX)		\
				e.pfn = FR_PFN_NONE;				\
			break;							\
		case FR_EV_FREE:						\
			e.order = (uint8_t)FLD(F_ORDER);			\
			break;							\
		case FR_EV_ZONE_LOCKED:						\
			e.order = (uint8_t)FLD(F_ORDER);			\
			e.mt = (int8_t)FLD(F_MT);				\
			e.aux = (uint8_t)FLD(F_REFILL);				\
			break;							\
		case FR_EV_PCPU_DRAIN:						\
			e.order = (uint8_t)FLD(F_ORDER);			\
			e.mt = (int8_t)FLD(F_MT);				\
			break;							\
		case FR_EV_EXTFRAG:						\
			e.order = (uint8_t)FLD(F_AORDER);			\
			e.mt = (int8_t)FLD(F_AMT);				\
			e.aux = (uint8_t)FLD(F_FORDER);				\
			e.gfp = (FLD(F_CHOWN) & 1) | ((FLD(F_FMT) & 0xff) << 8);	\
			break;							\
		}								\
	} while (0)

static inline void decode(const struct tdat *t, const struct ev_desc *d, const struct tep_record *r,
			  uint32_t cpu, struct fr_event *out)
{
	struct fr_event e;

	e.ts = r->ts;
	e.gfp = 0;
	e.cpu = cpu;
	e.kind = (uint8_t)d->kind;
	e.order = 0;
	e.mt = 0;
	e.aux = 0;
	if (t->native && r->size >= d->need) {
#define FAST(f) fldn(d, f, r)
		decode_fields(FAST);
#undef FAST
	} else {
#define SLOW(f) fldx(t, d, f, r)
		decode_fields(SLOW);
#undef SLOW
	}
	*out = e;
}

#undef decode_fields

/*
 * Process isolation.  libtracecmd 3.1.6 crashes on some corrupt files
 * (fuzzing found a SEGV in tracecmd_buffer_instance_handle() ->
 * tracecmd_close() on a half-built handle: tests/fuzz/crashers/tracedat/),
 * and it is not ours to fix.  So the decode above runs in forked children
 * that stream struct fr_event through pipes; if the library crashes, the
 * parent reports a one-line error instead of dying.  The children also
 * decode in parallel with whatever the parent does with the events.
 *
 * Protocol per child: a struct tp_hdr, then (if the child has a share) raw
 * events; the stream ends with one marker event (kind TP_END, or TP_ERR
 * followed by a 1024-byte message).  Between events, TP_SKIP markers carry
 * the key of records that produced no event when the parent needs it to
 * merge exactly (see merge_read()).  Forks happen at open and rewind, before
 * the replay engine starts threads.
 */
#define TP_MAGIC 0x46524455u	/* "FRDU" */
#define TP_END 0xFF
#define TP_ERR 0xFE
#define TP_SKIP 0xFD
#define TP_MSG 1024

struct tp_hdr {
	uint32_t magic;
	int32_t ok;
	uint32_t nr_cpus, page_size, file_version;
	int32_t neff;		/* children with a share of the CPUs */
	int32_t active;		/* this child has one: its events follow */
	uint32_t pad;
	char buffer[64];
	char err[TP_MSG];
};

struct tchild {
	pid_t pid;
	int rfd;		/* read end of the pipe from the child */
	int done;		/* end marker seen */
	unsigned char *buf;	/* bytes read from the pipe, not yet returned (merge only) */
	size_t have, pos;
};

struct tpass {
	int n;			/* children forked (-1: none) */
	int neff;		/* of which the first neff have a share */
	int low;		/* forked at nice 19 (pre-forked) */
	struct tchild ch[MAX_PROCS];
	unsigned char carry[32]; /* single stream: a partial event read from the pipe */
	size_t ncarry;
};

struct tproc {
	char path[4096];
	int fd;			/* the trace file (children reopen it) */
	char want_buffer[64];
	int nproc;		/* children per pass, before the data is known */
	int reopen;		/* /proc/self/fd/N gives each child its own file offset */
	int prefork;		/* 0: no pre-fork, 1: at nice 19, 2: at normal priority */
	int base_nice;		/* our nice value, restored in promoted children */
	struct tpass pass[2];	/* [cur] is being read, [!cur] is pre-forked (n > 0) */
	int cur;
	uint64_t events;	/* returned in this pass */
	int done;		/* this pass has ended (or failed) */
};

static int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* 0 at clean EOF before any byte, -1 on error or a short read, else 1 */
static int read_all(int fd, void *p, size_t n)
{
	char *c = p;
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, c + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			return got ? -1 : 0;
		got += (size_t)r;
	}
	return 1;
}

/*
 * Key order of the merge: (ts, cpu).  Within one child a (ts, cpu) can
 * repeat (same CPU), never across children (disjoint CPUs).
 */
static inline int key_less(uint64_t ats, uint32_t acpu, uint64_t bts, uint32_t bcpu)
{
	return ats < bts || (ats == bts && acpu < bcpu);
}

#define OUT_EV 4096		/* events per write(): 128 KiB, an eighth of the pipe */

/*
 * The child's decode loop: every record of its CPUs in (ts, cpu) order,
 * written straight to the pipe.  MARKERS: several children, so the parent
 * merges; then keep the parent's view of this stream's running maximum key
 * equal to the full record stream's (TP_SKIP), see merge_read().
 */
static void stream_events(struct tdat *t, int wfd, int markers)
{
	static struct fr_event ob[OUT_EV + 4];
	size_t o = 0;
	uint64_t fts = 0, ets = 0;	/* max key over records consumed / entries sent */
	uint32_t fcpu = 0, ecpu = 0;

	while (t->nheap > 0) {
		int c = t->heap[0];
		struct tep_record *r = t->cur[c];
		int kind;

		if (o >= OUT_EV) {
			if (write_all(wfd, ob, o * sizeof(ob[0])) < 0)
				_exit(0);
			o = 0;
		}
		if (markers && key_less(fts, fcpu, r->ts, (uint32_t)c)) {
			fts = r->ts;
			fcpu = (uint32_t)c;
		}
		kind = record_kind(t, r);
		/* A record after a ring-buffer overrun carries the count of lost
		 * events (kbuffer_missed_events(), via tracecmd_peek_data()). */
		if (__builtin_expect(r->missed_events != 0, 0) || kind) {
			if (markers && (ets != fts || ecpu != fcpu)) {
				if (fts != r->ts || fcpu != (uint32_t)c) {
					struct fr_event m = { .ts = fts, .cpu = fcpu, .kind = TP_SKIP };
					ob[o++] = m;
				}
				ets = fts;
				ecpu = fcpu;
			}
			if (r->missed_events) {
				struct fr_event l = {
					.ts = r->ts, .cpu = (uint32_t)c, .kind = FR_EV_LOST,
					.gfp = r->missed_events > 0 ? (uint64_t)r->missed_events : 0,
				};
				ob[o++] = l;
			}
			if (kind)
				decode(t, &t->ev[kind], r, (uint32_t)c, &ob[o++]);
		}
		/* advance this CPU: tracecmd_read_data() hands a new record each
		 * time (malloc'ed; tracecmd_free_record() drops it and its page ref) */
		tracecmd_free_record(r);
		r = tracecmd_read_data(t->h, c);
		t->cur[c] = r;
		if (r) {
			t->ts[c] = r->ts;
		} else {
			t->heap[0] = t->heap[--t->nheap];
		}
		if (t->nheap == 2) {
			/* two CPUs, the common case: heap_down() in one comparison */
			int other = t->heap[1];
			if (heap_less(t, other, t->heap[0])) {
				t->heap[1] = t->heap[0];
				t->heap[0] = other;
			}
		} else if (t->nheap > 2) {
			heap_down(t, 0);
		}
	}
	ob[o].ts = 0;
	ob[o].pfn = 0;
	ob[o].gfp = 0;
	ob[o].cpu = 0;
	ob[o].kind = TP_END;
	ob[o].order = 0;
	ob[o].mt = 0;
	ob[o].aux = 0;
	o++;
	write_all(wfd, ob, o * sizeof(ob[0]));
}

/* Close every descriptor but 0-2 and the two this child uses: the pipes of
 * sibling children and of other sources must not stay open in here (a pipe
 * whose read end lingers in another process never reports a dead reader). */
static void close_others(int a, int b)
{
	unsigned keep[5] = { 0, 1, 2, (unsigned)a, (unsigned)b };

	for (int i = 1; i < 5; i++)	/* sort the five */
		for (int j = i; j > 0 && keep[j] < keep[j - 1]; j--) {
			unsigned x = keep[j];
			keep[j] = keep[j - 1];
			keep[j - 1] = x;
		}
	for (int i = 0; i < 5; i++) {
		unsigned lo = keep[i] + 1, hi = i < 4 ? keep[i + 1] - 1 : ~0u;
		if (lo > hi)
			continue;
		if (close_range(lo, hi, 0) < 0)	/* before Linux 5.9 */
			for (unsigned fd = lo; fd <= hi && fd < 4096; fd++)
				close((int)fd);
	}
}

static void child_main(struct tproc *tp, int k, int nproc, int wfd)
{
	struct fr_meta meta;
	struct fr_error err;
	struct tp_hdr h;
	struct tdat *t;
	int fd = -1, neff = 1;
	unsigned char *mine = NULL;
	char self[64];

	/* Die on a crash: an inherited handler (a test framework's, a sanitizer's)
	 * must not run the parent's code in this copy of the process. */
	signal(SIGPIPE, SIG_DFL);
	signal(SIGSEGV, SIG_DFL);
	signal(SIGBUS, SIG_DFL);
	signal(SIGILL, SIG_DFL);
	signal(SIGFPE, SIG_DFL);
	signal(SIGABRT, SIG_DFL);
	/* Our own open file description: children read concurrently, and a dup()
	 * would share one file offset with the others (libtracecmd lseek()s). */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", tp->fd);
	if (tp->reopen)
		fd = open(self, O_RDONLY);
	if (fd < 0)
		fd = dup(tp->fd);
	if (fd >= 0) {
		lseek(fd, 0, SEEK_SET);
		close_others(fd, wfd);
	}
	tracecmd_set_loglevel(TEP_LOG_NONE);
	memset(&h, 0, sizeof(h));
	fr_meta_defaults(&meta);
	t = calloc(1, sizeof(*t));
	if (!t || fd < 0) {
		snprintf(h.err, sizeof(h.err), "%.900s: %s", tp->path,
			 !t ? "out of memory" : "cannot duplicate the trace's descriptor");
	} else {
		t->path = tp->path;
		t->want_buffer = tp->want_buffer[0] ? tp->want_buffer : NULL;
		if (open_handles(t, fd, &meta, &err) < 0) {
			snprintf(h.err, sizeof(h.err), "%s", err.msg);
		} else if (!(mine = calloc(t->ncpus, 1))) {
			snprintf(h.err, sizeof(h.err), "%.900s: out of memory", tp->path);
		} else {
			h.ok = 1;
			neff = plan_share(t, nproc, k, mine);
		}
	}
	h.magic = TP_MAGIC;
	if (h.ok) {
		char hdr[16];
		h.nr_cpus = (uint32_t)t->ncpus;
		h.page_size = tep_get_page_size(t->tep) > 0 ? (uint32_t)tep_get_page_size(t->tep) : 4096;
		/* File version: the magic area's version string ("6"/"7"). */
		if (pread(fd, hdr, sizeof(hdr), 0) == (ssize_t)sizeof(hdr))
			h.file_version = (uint32_t)strtoul(hdr + 10, NULL, 10);
		memcpy(h.buffer, meta.buffer, sizeof(h.buffer));
		h.neff = neff;
		h.active = k < neff;
	}
	if (write_all(wfd, &h, sizeof(h)) < 0 || !h.ok || !h.active)
		_exit(0);
	start_cpus(t, mine);
	stream_events(t, wfd, neff > 1);
	_exit(0);	/* no atexit handlers, no stdio flush of the parent's buffers */
}

static void child_stop(struct tchild *c)
{
	if (c->rfd >= 0)
		close(c->rfd);
	c->rfd = -1;
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	c->pid = -1;
	free(c->buf);
	c->buf = NULL;
	c->have = c->pos = 0;
}

static void pass_stop(struct tpass *p)
{
	for (int i = 0; i < p->n; i++)
		child_stop(&p->ch[i]);
	p->n = -1;
	p->neff = 0;
	p->ncarry = 0;
}

/* Fork N children (their headers are read by pass_headers()). */
static int pass_fork(struct tproc *tp, struct tpass *p, int n, int low, struct fr_error *err)
{
	p->n = 0;
	p->neff = 0;
	p->low = low;
	p->ncarry = 0;
	fflush(NULL);
	for (int k = 0; k < n; k++) {
		struct tchild *c = &p->ch[k];
		int pfd[2];
		pid_t pid;

		memset(c, 0, sizeof(*c));
		c->rfd = -1;
		c->pid = -1;
		if (pipe(pfd) < 0) {
			pass_stop(p);
			return fr_err(err, "%s: cannot create a pipe: %s", tp->path, strerror(errno));
		}
		/* Room for 32 Ki events in flight: fewer wakeups on both sides, and a
		 * pre-forked child gets that far ahead.  Best effort (pipe-max-size). */
		fcntl(pfd[1], F_SETPIPE_SZ, 1 << 20);
		pid = fork();
		if (pid < 0) {
			close(pfd[0]);
			close(pfd[1]);
			pass_stop(p);
			return fr_err(err, "%s: cannot fork the trace.dat decoder: %s", tp->path, strerror(errno));
		}
		if (pid == 0) {
			close(pfd[0]);
			child_main(tp, k, n, pfd[1]);
			_exit(0);
		}
		close(pfd[1]);
		/* Set here, not in the child: the promotion's restore in
		 * tdat_rewind() must come after this, however late the child runs. */
		if (low)
			setpriority(PRIO_PROCESS, (id_t)pid, 19);
		c->pid = pid;
		c->rfd = pfd[0];
		p->n = k + 1;
	}
	return 0;
}

/* Read every child's header; META (may be NULL) from the first one. */
static int pass_headers(struct tproc *tp, struct tpass *p, struct fr_meta *meta, struct fr_error *err)
{
	struct tp_hdr h;

	p->neff = 0;
	for (int k = 0; k < p->n; k++) {
		struct tchild *c = &p->ch[k];
		int r = read_all(c->rfd, &h, sizeof(h));

		if (r <= 0 || h.magic != TP_MAGIC) {
			pass_stop(p);
			return fr_err(err, "%s: corrupt trace.dat: libtracecmd crashed reading its headers", tp->path);
		}
		if (!h.ok) {
			h.err[sizeof(h.err) - 1] = 0;
			fr_err(err, "%s", h.err);
			pass_stop(p);
			return -1;
		}
		if (k == 0) {
			p->neff = h.neff;
			if (meta) {
				snprintf(meta->format, sizeof(meta->format), "trace.dat");
				meta->nr_cpus = h.nr_cpus;
				meta->page_size = h.page_size ? h.page_size : 4096;
				meta->file_version = h.file_version;
				h.buffer[sizeof(h.buffer) - 1] = 0;
				snprintf(meta->buffer, sizeof(meta->buffer), "%s", h.buffer);
			}
		}
		if (h.neff != p->neff || h.neff < 1 || h.neff > p->n || h.active != (k < p->neff)) {
			pass_stop(p);
			return fr_err(err, "%s: trace.dat decoders disagree on the file", tp->path);
		}
		if (!h.active) {
			child_stop(c);	/* it has exited already */
			continue;
		}
		if (p->neff > 1) {
			c->buf = malloc(1 << 18);
			if (!c->buf) {
				pass_stop(p);
				return fr_err(err, "%s: out of memory", tp->path);
			}
		}
	}
	return 0;
}

/* A child's stream broke off: name the file and the signal, stop the pass. */
static ssize_t child_dead(struct tproc *tp, struct tpass *p, struct tchild *c, size_t got, struct fr_error *err)
{
	int st = 0;
	pid_t pid = c->pid;

	close(c->rfd);
	c->rfd = -1;
	while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	c->pid = -1;
	pass_stop(p);
	tp->done = 1;
	if (WIFSIGNALED(st))
		return fr_err(err, "%s: corrupt trace.dat: libtracecmd crashed (signal %d) after %llu events",
			      tp->path, WTERMSIG(st), (unsigned long long)(tp->events + got));
	return fr_err(err, "%s: trace.dat decoder ended unexpectedly after %llu events", tp->path,
		      (unsigned long long)(tp->events + got));
}

/* A child reported an error: its message follows the marker. */
static ssize_t child_error(struct tproc *tp, struct tpass *p, int fd, const unsigned char *have, size_t nhave,
			   struct fr_error *err)
{
	char msg[TP_MSG];
	size_t take = nhave < sizeof(msg) ? nhave : sizeof(msg);

	memcpy(msg, have, take);
	if (take < sizeof(msg) && read_all(fd, msg + take, sizeof(msg) - take) <= 0)
		snprintf(msg, sizeof(msg), "%.900s: unreadable trace.dat", tp->path);
	msg[sizeof(msg) - 1] = 0;
	pass_stop(p);
	tp->done = 1;
	return fr_err(err, "%s", msg);
}

/* One child: read() straight into the caller's buffer. */
static ssize_t direct_read(struct tproc *tp, struct tpass *p, struct fr_event *buf, size_t n,
			   struct fr_error *err)
{
	const size_t esz = sizeof(struct fr_event);
	struct tchild *c = &p->ch[0];
	unsigned char *b = (unsigned char *)buf;
	size_t bytes = p->ncarry, got = 0;

	memcpy(b, p->carry, p->ncarry);
	p->ncarry = 0;
	while (bytes < esz) {
		ssize_t r = read(c->rfd, b + bytes, n * esz - bytes);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return child_dead(tp, p, c, 0, err);
		bytes += (size_t)r;
	}
	for (size_t i = 0; i < bytes / esz; i++) {
		if (buf[i].kind < TP_SKIP) {
			if (got != i)
				buf[got] = buf[i];
			got++;
			continue;
		}
		if (buf[i].kind == TP_END) {
			tp->done = 1;
			tp->events += got;
			return (ssize_t)got;
		}
		if (buf[i].kind == TP_ERR)
			return child_error(tp, p, c->rfd, b + (i + 1) * esz, bytes - (i + 1) * esz, err);
		/* TP_SKIP: only the merge uses it */
	}
	p->ncarry = bytes % esz;
	memcpy(p->carry, b + bytes - p->ncarry, p->ncarry);
	tp->events += got;
	return (ssize_t)got;
}

/* Make at least one whole event available from child C (blocking). */
static int refill(struct tchild *c)
{
	const size_t esz = sizeof(struct fr_event), cap = 1 << 18;

	if (c->have - c->pos >= esz)
		return 1;
	memmove(c->buf, c->buf + c->pos, c->have - c->pos);
	c->have -= c->pos;
	c->pos = 0;
	while (c->have < esz) {
		ssize_t r = read(c->rfd, c->buf + c->have, cap - c->have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return 0;
		c->have += (size_t)r;
	}
	return 1;
}

/*
 * Several children: merge their streams by (ts, cpu), greedily, as one
 * process would merge the CPUs: repeatedly take the smallest head.
 *
 * Why this is the single-process order exactly: a greedy merge of
 * sequences (sorted or not) outputs each sequence in "blocks", a block
 * starting at each element larger than everything before it in its
 * sequence (a running maximum), and orders the blocks by those leading keys.
 * So merging per-child merges equals merging all CPUs at once - as long as
 * each child stream shows the parent the same running maxima as the full
 * record stream, including records that produce no event (other events in
 * the buffer).  With non-decreasing timestamps per CPU (the norm) that holds
 * by itself; when it would not, the child sends a TP_SKIP marker with the
 * missing key, which takes part in the merge and is then dropped.
 *
 * Blocking on one child while others wait is fine: a child only ever
 * blocks on its own full pipe, never on the one we read.
 */
static ssize_t merge_read(struct tproc *tp, struct tpass *p, struct fr_event *buf, size_t n,
			  struct fr_error *err)
{
	const size_t esz = sizeof(struct fr_event);
	size_t got = 0;

	while (got < n) {
		int best = -1;
		const struct fr_event *hb = NULL, *hs = NULL;

		for (int i = 0; i < p->neff; i++) {
			struct tchild *c = &p->ch[i];
			const struct fr_event *h;

			if (c->done)
				continue;
			if (!refill(c))
				return child_dead(tp, p, c, got, err);
			h = (const struct fr_event *)(c->buf + c->pos);
			if (h->kind == TP_END) {
				c->done = 1;
				continue;
			}
			if (h->kind == TP_ERR)
				return child_error(tp, p, c->rfd, c->buf + c->pos + esz,
						   c->have - c->pos - esz, err);
			if (!hb || key_less(h->ts, h->cpu, hb->ts, hb->cpu)) {
				hs = hb;
				best = i;
				hb = h;
			} else if (!hs || key_less(h->ts, h->cpu, hs->ts, hs->cpu)) {
				hs = h;
			}
		}
		if (best < 0) {
			tp->done = 1;
			break;
		}
		/* take from BEST while it stays below every other head */
		struct tchild *c = &p->ch[best];
		const uint64_t lts = hs ? hs->ts : UINT64_MAX;
		const uint32_t lcpu = hs ? hs->cpu : UINT32_MAX;
		while (got < n && c->have - c->pos >= esz) {
			const struct fr_event *h = (const struct fr_event *)(c->buf + c->pos);
			if (h->kind == TP_END || h->kind == TP_ERR)
				break;
			if (hs && !key_less(h->ts, h->cpu, lts, lcpu))
				break;
			if (h->kind != TP_SKIP)
				buf[got++] = *h;
			c->pos += esz;
		}
	}
	tp->events += got;
	return (ssize_t)got;
}

static ssize_t tdat_read(void *priv, struct fr_event *buf, size_t n, struct fr_error *err)
{
	struct tproc *tp = priv;
	struct tpass *p = &tp->pass[tp->cur];

	if (tp->done || p->n <= 0 || n == 0)
		return 0;
	if (p->neff == 1)
		return direct_read(tp, p, buf, n, err);
	return merge_read(tp, p, buf, n, err);
}

/* Can we give a reniced child our priority back?  (Lowering a nice value
 * needs CAP_SYS_NICE or a high enough RLIMIT_NICE.) */
static int can_restore_nice(int base)
{
	struct rlimit rl;
	char line[256];
	FILE *f;
	int ok = 0;

	/* the lowest nice value RLIMIT_NICE allows is 20 - rlim_cur */
	if (getrlimit(RLIMIT_NICE, &rl) == 0 &&
	    (rl.rlim_cur == RLIM_INFINITY || (long long)rl.rlim_cur >= 20 - base))
		return 1;
	f = fopen("/proc/self/status", "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "CapEff:", 7)) {
			unsigned long long caps = strtoull(line + 7, NULL, 16);
			ok = (caps >> 23) & 1;	/* CAP_SYS_NICE */
			break;
		}
	fclose(f);
	return ok;
}

static int online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0 && CPU_COUNT(&set) < n)
		n = CPU_COUNT(&set);
	return n < 1 ? 1 : (int)n;
}

/* Online CPUs not already busy (1-minute load average): a decoder beyond
 * those only adds its open's CPU to a machine that has none to spare. */
static int idle_cpus(int online)
{
	double load;

	if (getloadavg(&load, 1) != 1 || load < 0)
		return online;
	return online - (int)load < 1 ? 1 : online - (int)load;
}

/*
 * Is decoding this file long enough for more decoders to pay for their own
 * tracecmd_open()?  Each one costs a full open, 0.2-0.3 s of CPU on real
 * recordings, whatever share of the CPUs it then decodes, and can save at
 * most decode x (1 - 1/N) of wall time - nothing when one CPU holds most
 * events (91-93% on one CPU in our recordings), and less than nothing when
 * the machine has no idle core for it.  Measured on 2 cores (2026-11-22):
 * 2 decoders instead of 1 made `info` 0.40 -> 0.56 s on a 3 M-event
 * uncompressed file and 0.72 -> 0.74 s compressed.  So several only when
 * the decode alone is estimated at 1 s or more (three opens and up), from
 * the file's size: ~2.3 ns per byte uncompressed and ~28 ns per byte
 * zstd-compressed after the open (libtracecmd 3.1.6, one core).  Version 7
 * names its compression after the page size: "\027\010Dtracing" "7\0",
 * endianness, long size, page size (4 bytes), then "zstd\0"/"none\0"...
 */
static int worth_parallel(int fd)
{
	struct stat st;
	unsigned char h[24];
	double ns_per_byte = 2.3;

	if (fstat(fd, &st) < 0)
		return 0;
	if (pread(fd, h, sizeof(h), 0) == (ssize_t)sizeof(h) && h[10] == '7' && h[11] == 0 &&
	    memcmp(h + 18, "none", 5) != 0)
		ns_per_byte = 28;
	return (double)st.st_size * ns_per_byte >= 1e9;
}

static void *tdat_open(const char *path, int fd, const struct fr_open_opts *opts,
		       struct fr_meta *meta, struct fr_error *err)
{
	struct tproc *tp = calloc(1, sizeof(*tp));
	const char *env;
	int online = online_cpus();

	if (!tp) {
		close(fd);
		fr_err(err, "%s: out of memory", path);
		return NULL;
	}
	snprintf(tp->path, sizeof(tp->path), "%s", path);
	tp->fd = fd;
	tp->pass[0].n = tp->pass[1].n = -1;
	if (opts && opts->buffer)
		snprintf(tp->want_buffer, sizeof(tp->want_buffer), "%s", opts->buffer);

	/* Concurrent children need their own file offsets (child_main()). */
	{
		char self[64];
		struct stat a, b;
		int rfd;
		snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
		rfd = open(self, O_RDONLY | O_CLOEXEC);
		tp->reopen = rfd >= 0 && fstat(rfd, &a) == 0 && fstat(fd, &b) == 0 &&
			     a.st_dev == b.st_dev && a.st_ino == b.st_ino;
		if (rfd >= 0)
			close(rfd);
	}
	tp->nproc = !worth_parallel(fd) ? 1 : idle_cpus(online) < MAX_PROCS ? idle_cpus(online) : MAX_PROCS;
	env = getenv("FRAGREPLAY_DECODE_PROCS");
	if (env && *env) {
		int v = atoi(env);
		tp->nproc = v < 1 ? 1 : v > MAX_PROCS ? MAX_PROCS : v;
	}
	if (!tp->reopen)
		tp->nproc = 1;
	errno = 0;
	tp->base_nice = getpriority(PRIO_PROCESS, 0);
	if (errno)
		tp->base_nice = 0;
	env = getenv("FRAGREPLAY_DECODE_PREFORK");
	if ((env && !strcmp(env, "0")) || !tp->reopen || !(opts && opts->will_rewind))
		tp->prefork = 0;	/* nothing to overlap: info, convert, synth read once */
	else if (can_restore_nice(tp->base_nice))
		tp->prefork = 1;
	else
		tp->prefork = online >= 2 * tp->nproc + 1 ? 2 : 0;

	tp->cur = 0;
	if (pass_fork(tp, &tp->pass[0], tp->nproc, 0, err) < 0)
		goto fail;
	/* The next pass's children start now, while this pass is read. */
	if (tp->prefork && pass_fork(tp, &tp->pass[1], tp->nproc, tp->prefork == 1, err) < 0)
		tp->pass[1].n = -1;	/* not fatal: rewind forks then */
	if (pass_headers(tp, &tp->pass[0], meta, err) < 0)
		goto fail;
	return tp;
fail:
	pass_stop(&tp->pass[0]);
	pass_stop(&tp->pass[1]);
	close(tp->fd);
	free(tp);
	return NULL;
}

static int tdat_rewind(void *priv, struct fr_error *err)
{
	struct tproc *tp = priv;
	struct tpass *old = &tp->pass[tp->cur], *next = &tp->pass[!tp->cur];
	int nproc = old->neff > 0 ? old->neff : tp->nproc;

	pass_stop(old);
	tp->events = 0;
	tp->done = 0;
	tp->cur = !tp->cur;
	if (next->n > 0) {
		/* promote the pre-forked pass: give it our priority back */
		if (next->low)
			for (int k = 0; k < next->n; k++)
				if (next->ch[k].pid > 0)
					setpriority(PRIO_PROCESS, (id_t)next->ch[k].pid, tp->base_nice);
		next->low = 0;
		if (pass_headers(tp, next, NULL, err) == 0)
			return 0;
		/* The file opened fine for the first pass, so a pre-forked child
		 * that died before its header was killed from outside (the OOM
		 * killer, a user): fork afresh rather than fail the rewind. */
	}
	if (pass_fork(tp, next, nproc, 0, err) < 0 || pass_headers(tp, next, NULL, err) < 0) {
		tp->done = 1;
		return -1;
	}
	return 0;
}

static void tdat_close(void *priv)
{
	struct tproc *tp = priv;

	if (!tp)
		return;
	pass_stop(&tp->pass[0]);
	pass_stop(&tp->pass[1]);
	close(tp->fd);
	free(tp);
}

const struct fr_backend fr_backend_tracedat = {
	.name = "trace.dat",
	.open = tdat_open,
	.read = tdat_read,
	.rewind = tdat_rewind,
	.close = tdat_close,
	.decodes_ahead = 1,
};
