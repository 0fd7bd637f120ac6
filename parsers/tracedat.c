// SPDX-License-Identifier: GPL-2.0
/*
 * tracedat.c - read trace-cmd's trace.dat (file versions 6 and 7,
 * compressed or not) through libtracecmd + libtraceevent.
 *
 * Fields are found by name in the file's own event formats (never fixed
 * offsets): the gfp_flags field changed from 32 to 64 bits around 6.10 and
 * other kernels may order fields differently.
 *
 * CPUs are merged in timestamp order with a binary heap over
 * tracecmd_read_data() per CPU.  (tracecmd_iterate_events() scans all CPUs
 * linearly per event and is push-style; a heap keeps this a pull-style
 * stream and O(log cpus) per event on 200+ CPU machines.)
 *
 * Which buffer: --buffer NAME, else the first of (top level, instances...)
 * that holds any record - `trace-cmd extract -B inst` writes the events in an
 * instance buffer and leaves the top level empty.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
};

#define MAX_FAST_ID 65536

struct tdat {
	char path[4096];
	int fd;			/* our own dup, reopened on rewind */
	struct tracecmd_input *top, *h;
	struct tep_handle *tep;
	int ncpus;
	struct tep_record **cur; /* next record per CPU (NULL: drained) */
	int *heap;		/* CPU numbers ordered by cur[cpu]->ts */
	int nheap;
	struct ev_desc ev[FR_EV_NKINDS];
	int pending_lost;	/* a LOST event must be emitted before heap[0]'s record */
	char want_buffer[64];
	int native;		/* file endianness == host: read fields with memcpy */
	uint8_t *kind_of_id;	/* event id -> kind (0: not ours), ids < MAX_FAST_ID */
	struct tep_format_field *common_type;
};

static const char *const field_names[NR_F] = {
	"pfn", "order", "gfp_flags", "migratetype", "percpu_refill",
	"alloc_order", "fallback_order", "alloc_migratetype", "fallback_migratetype",
	"change_ownership",
};

static int heap_less(struct tdat *t, int a, int b)
{
	struct tep_record *ra = t->cur[a], *rb = t->cur[b];
	if (ra->ts != rb->ts)
		return ra->ts < rb->ts;
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

static void heap_build(struct tdat *t)
{
	t->nheap = 0;
	for (int c = 0; c < t->ncpus; c++)
		if (t->cur[c])
			t->heap[t->nheap++] = c;
	for (int i = t->nheap / 2 - 1; i >= 0; i--)
		heap_down(t, i);
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

static void close_handles(struct tdat *t)
{
	if (t->cur) {
		for (int c = 0; c < t->ncpus; c++)
			if (t->cur[c])
				tracecmd_free_record(t->cur[c]);
	}
	free(t->cur);
	free(t->heap);
	t->cur = NULL;
	t->heap = NULL;
	if (t->h && t->h != t->top)
		tracecmd_close(t->h);
	if (t->top)
		tracecmd_close(t->top);
	t->h = t->top = NULL;
}

static int open_handles(struct tdat *t, struct fr_meta *meta, struct fr_error *err)
{
	int fd = dup(t->fd);

	if (fd < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		if (fd >= 0)
			close(fd);
		return fr_err(err, "%s: cannot reopen: %s", t->path, strerror(errno));
	}
	/* No plugins: output must not depend on what is installed on the machine. */
	t->top = tracecmd_open_fd(fd, TRACECMD_FL_LOAD_NO_PLUGINS);
	if (!t->top)
		return fr_err(err, "%s: not a readable trace.dat (truncated or corrupt headers)", t->path);

	t->h = NULL;
	if (t->want_buffer[0]) {
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
				if (meta)
					snprintf(meta->buffer, sizeof(meta->buffer), "%s",
						 tracecmd_buffer_instance_name(t->top, i));
				break;
			}
			tracecmd_close(bh);
		}
		if (!t->h)
			t->h = t->top; /* empty trace: zero events, not an error */
	}
	if (t->h != t->top && meta && !meta->buffer[0] && t->want_buffer[0])
		snprintf(meta->buffer, sizeof(meta->buffer), "%s", t->want_buffer);

	t->tep = tracecmd_get_tep(t->h);
	if (!t->tep)
		return fr_err(err, "%s: trace.dat has no event formats", t->path);
	t->ncpus = tep_get_cpus(t->tep);
	if (t->ncpus <= 0 || t->ncpus > FR_MAX_CPUS)
		return fr_err(err, "%s: implausible CPU count %d in trace.dat", t->path, t->ncpus);

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
	}

	t->native = tep_is_file_bigendian(t->tep) == tep_is_local_bigendian(t->tep);
	free(t->kind_of_id);
	t->kind_of_id = calloc(MAX_FAST_ID, 1);
	if (!t->kind_of_id)
		return fr_err(err, "%s: out of memory", t->path);
	for (int k = 1; k < FR_EV_NKINDS; k++) {
		struct ev_desc *d = &t->ev[k];
		if (d->id < 0)
			continue;
		if (d->id < MAX_FAST_ID)
			t->kind_of_id[d->id] = (uint8_t)k;
		for (int f = 0; f < NR_F; f++) {
			d->off[f] = d->f[f] ? d->f[f]->offset : -1;
			d->size[f] = d->f[f] ? d->f[f]->size : 0;
			if (d->f[f] && d->size[f] != 1 && d->size[f] != 2 && d->size[f] != 4 && d->size[f] != 8)
				t->native = 0;	/* odd field: take the library's general path */
		}
	}
	t->cur = calloc(t->ncpus, sizeof(*t->cur));
	t->heap = calloc(t->ncpus, sizeof(*t->heap));
	if (!t->cur || !t->heap)
		return fr_err(err, "%s: out of memory", t->path);
	for (int c = 0; c < t->ncpus; c++)
		t->cur[c] = tracecmd_read_cpu_first(t->h, c);
	heap_build(t);
	t->pending_lost = 1;	/* check heap[0]'s first record for missed events */
	return 0;
}

static void *tdat_open_inproc(const char *path, int fd, const struct fr_open_opts *opts,
		       struct fr_meta *meta, struct fr_error *err)
{
	struct tdat *t = calloc(1, sizeof(*t));

	if (!t) {
		close(fd);
		fr_err(err, "%s: out of memory", path);
		return NULL;
	}
	tracecmd_set_loglevel(TEP_LOG_NONE);
	snprintf(t->path, sizeof(t->path), "%s", path);
	t->fd = fd;
	if (opts && opts->buffer)
		snprintf(t->want_buffer, sizeof(t->want_buffer), "%s", opts->buffer);
	if (open_handles(t, meta, err) < 0) {
		close_handles(t);
		close(t->fd);
		free(t->kind_of_id);
		free(t);
		return NULL;
	}
	snprintf(meta->format, sizeof(meta->format), "trace.dat");
	meta->nr_cpus = t->ncpus;
	meta->page_size = tep_get_page_size(t->tep) > 0 ? (uint32_t)tep_get_page_size(t->tep) : 4096;
	{
		/* File version: byte 3 of the magic area is the version string ("6"/"7"). */
		char hdr[16];
		if (pread(fd, hdr, sizeof(hdr), 0) == (ssize_t)sizeof(hdr))
			meta->file_version = (uint32_t)strtoul(hdr + 10, NULL, 10);
	}
	return t;
}

/* A field of the record: memcpy when the file's endianness is the host's
 * (the common case), else libtraceevent's tep_read_number_field(). */
static inline uint64_t fldx(const struct tdat *t, const struct ev_desc *d, int f, struct tep_record *r)
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

static ssize_t tdat_read_inproc(void *priv, struct fr_event *buf, size_t n, struct fr_error *err)
{
	struct tdat *t = priv;
	size_t out = 0;

	while (out < n && t->nheap > 0) {
		int c = t->heap[0];
		struct tep_record *r = t->cur[c];
		struct fr_event *e = &buf[out];

		/* A record after a ring-buffer overrun carries the count of lost events. */
		if (t->pending_lost && r->missed_events) {
			memset(e, 0, sizeof(*e));
			e->kind = FR_EV_LOST;
			e->ts = r->ts;
			e->cpu = (uint32_t)c;
			e->gfp = r->missed_events > 0 ? (uint64_t)r->missed_events : 0;
			t->pending_lost = 0;
			out++;
			continue;
		}

		int id = tep_data_type(t->tep, r);
		const struct ev_desc *d = NULL;
		if (id >= 0 && id < MAX_FAST_ID) {
			if (t->kind_of_id[id])
				d = &t->ev[t->kind_of_id[id]];
		} else {
			for (int k = 1; k < FR_EV_NKINDS; k++)
				if (t->ev[k].id == id) {
					d = &t->ev[k];
					break;
				}
		}
		if (d) {
			memset(e, 0, sizeof(*e));
			e->kind = (uint8_t)d->kind;
			e->ts = r->ts;
			e->cpu = (uint32_t)c;
			e->pfn = fldx(t, d, F_PFN, r);
			switch (d->kind) {
			case FR_EV_ALLOC:
				e->order = (uint8_t)fldx(t, d, F_ORDER, r);
				e->mt = (int8_t)fldx(t, d, F_MT, r);
				e->gfp = fldx(t, d, F_GFP, r);
				if (d->f[F_PFN]->size == 4 && e->pfn == UINT32_MAX)
					e->pfn = FR_PFN_NONE;
				break;
			case FR_EV_FREE:
				e->order = (uint8_t)fldx(t, d, F_ORDER, r);
				break;
			case FR_EV_ZONE_LOCKED:
				e->order = (uint8_t)fldx(t, d, F_ORDER, r);
				e->mt = (int8_t)fldx(t, d, F_MT, r);
				e->aux = (uint8_t)fldx(t, d, F_REFILL, r);
				break;
			case FR_EV_PCPU_DRAIN:
				e->order = (uint8_t)fldx(t, d, F_ORDER, r);
				e->mt = (int8_t)fldx(t, d, F_MT, r);
				break;
			case FR_EV_EXTFRAG:
				e->order = (uint8_t)fldx(t, d, F_AORDER, r);
				e->mt = (int8_t)fldx(t, d, F_AMT, r);
				e->aux = (uint8_t)fldx(t, d, F_FORDER, r);
				e->gfp = (fldx(t, d, F_CHOWN, r) & 1) |
					 ((fldx(t, d, F_FMT, r) & 0xff) << 8);
				break;
			}
			out++;
		}
		/* advance this CPU */
		tracecmd_free_record(r);
		t->cur[c] = tracecmd_read_data(t->h, c);
		if (!t->cur[c]) {
			t->heap[0] = t->heap[--t->nheap];
		}
		heap_down(t, 0);
		t->pending_lost = 1;
	}
	(void)err;
	return (ssize_t)out;
}

/*
 * Process isolation.  libtracecmd 3.1.6 crashes on some corrupt files
 * (fuzzing found a SEGV in tracecmd_buffer_instance_handle() ->
 * tracecmd_close() on a half-built handle: tests/fuzz/crashers/tracedat/),
 * and it is not ours to fix.  So the decode above runs in a forked child
 * that streams struct fr_event through a pipe; if the library crashes, the
 * parent reports a one-line error instead of dying.  The child also decodes
 * in parallel with whatever the parent does with the events.
 *
 * Protocol: a struct tp_hdr, then raw events; the stream ends with one
 * marker event (kind TP_END, or TP_ERR followed by a 1024-byte message).
 * Forks happen at open and rewind, before the replay engine starts threads.
 */
#include <signal.h>
#include <sys/wait.h>

#define TP_MAGIC 0x46524454u	/* "FRDT" */
#define TP_END 0xFF
#define TP_ERR 0xFE

struct tp_hdr {
	uint32_t magic;
	int32_t ok;
	uint32_t nr_cpus, page_size, file_version, pad;
	char buffer[64];
	char err[1024];
};

struct tproc {
	char path[4096];
	int fd;			/* the trace file (the child decodes a dup of it) */
	char want_buffer[64];
	pid_t pid;
	int rfd;		/* read end of the pipe from the child */
	uint64_t events;	/* received so far */
	int done;		/* end marker seen */
	unsigned char buf[1 << 17]; /* bytes read from the pipe, not yet returned */
	size_t have, pos;
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

static void child_main(struct tproc *tp, int wfd)
{
	static struct fr_event ev[4096];
	struct fr_open_opts oo = { .buffer = tp->want_buffer[0] ? tp->want_buffer : NULL };
	struct fr_meta meta;
	struct fr_error err;
	struct tp_hdr h;
	int fd = dup(tp->fd);
	void *t;

	/* Die on a crash: an inherited handler (a test framework's, a sanitizer's)
	 * must not run the parent's code in this copy of the process. */
	signal(SIGPIPE, SIG_DFL);
	signal(SIGSEGV, SIG_DFL);
	signal(SIGBUS, SIG_DFL);
	signal(SIGILL, SIG_DFL);
	signal(SIGFPE, SIG_DFL);
	signal(SIGABRT, SIG_DFL);
	memset(&h, 0, sizeof(h));
	fr_meta_defaults(&meta);
	t = fd >= 0 ? tdat_open_inproc(tp->path, fd, &oo, &meta, &err) : NULL;
	h.magic = TP_MAGIC;
	h.ok = t != NULL;
	if (t) {
		h.nr_cpus = meta.nr_cpus;
		h.page_size = meta.page_size;
		h.file_version = meta.file_version;
		memcpy(h.buffer, meta.buffer, sizeof(h.buffer));
	} else {
		snprintf(h.err, sizeof(h.err), "%s", fd >= 0 ? err.msg : "cannot duplicate the trace's descriptor");
	}
	if (write_all(wfd, &h, sizeof(h)) < 0 || !t)
		_exit(0);
	for (;;) {
		ssize_t n = tdat_read_inproc(t, ev, 4096, &err);
		if (n > 0) {
			if (write_all(wfd, ev, (size_t)n * sizeof(ev[0])) < 0)
				_exit(0);
			continue;
		}
		memset(&ev[0], 0, sizeof(ev[0]));
		ev[0].kind = n < 0 ? TP_ERR : TP_END;
		write_all(wfd, &ev[0], sizeof(ev[0]));
		if (n < 0)
			write_all(wfd, err.msg, sizeof(err.msg) < 1024 ? sizeof(err.msg) : 1024);
		_exit(0);	/* no atexit handlers, no stdio flush of the parent's buffers */
	}
}

static void tp_stop(struct tproc *tp)
{
	if (tp->rfd >= 0)
		close(tp->rfd);
	tp->rfd = -1;
	if (tp->pid > 0) {
		kill(tp->pid, SIGKILL);
		while (waitpid(tp->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	tp->pid = -1;
}

static int tp_start(struct tproc *tp, struct fr_meta *meta, struct fr_error *err)
{
	struct tp_hdr h;
	int pfd[2];
	int r;

	if (pipe(pfd) < 0)
		return fr_err(err, "%s: cannot create a pipe: %s", tp->path, strerror(errno));
	fflush(NULL);
	tp->pid = fork();
	if (tp->pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return fr_err(err, "%s: cannot fork the trace.dat decoder: %s", tp->path, strerror(errno));
	}
	if (tp->pid == 0) {
		close(pfd[0]);
		child_main(tp, pfd[1]);
		_exit(0);
	}
	close(pfd[1]);
	tp->rfd = pfd[0];
	tp->events = 0;
	tp->done = 0;
	tp->have = tp->pos = 0;
	r = read_all(tp->rfd, &h, sizeof(h));
	if (r <= 0 || h.magic != TP_MAGIC) {
		int st = 0;
		tp_stop(tp);
		(void)st;
		return fr_err(err, "%s: corrupt trace.dat: libtracecmd crashed reading its headers", tp->path);
	}
	if (!h.ok) {
		h.err[sizeof(h.err) - 1] = 0;
		fr_err(err, "%s", h.err);
		tp_stop(tp);
		return -1;
	}
	if (meta) {
		snprintf(meta->format, sizeof(meta->format), "trace.dat");
		meta->nr_cpus = h.nr_cpus;
		meta->page_size = h.page_size ? h.page_size : 4096;
		meta->file_version = h.file_version;
		h.buffer[sizeof(h.buffer) - 1] = 0;
		snprintf(meta->buffer, sizeof(meta->buffer), "%s", h.buffer);
	}
	return 0;
}

static void *tdat_open(const char *path, int fd, const struct fr_open_opts *opts,
		       struct fr_meta *meta, struct fr_error *err)
{
	struct tproc *tp = calloc(1, sizeof(*tp));

	if (!tp) {
		close(fd);
		fr_err(err, "%s: out of memory", path);
		return NULL;
	}
	snprintf(tp->path, sizeof(tp->path), "%s", path);
	tp->fd = fd;
	tp->rfd = -1;
	tp->pid = -1;
	if (opts && opts->buffer)
		snprintf(tp->want_buffer, sizeof(tp->want_buffer), "%s", opts->buffer);
	if (tp_start(tp, meta, err) < 0) {
		close(tp->fd);
		free(tp);
		return NULL;
	}
	return tp;
}

static ssize_t tp_dead(struct tproc *tp, size_t got, struct fr_error *err)
{
	int st = 0;
	pid_t pid = tp->pid;

	close(tp->rfd);
	tp->rfd = -1;
	while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	tp->pid = -1;
	if (WIFSIGNALED(st))
		return fr_err(err, "%s: corrupt trace.dat: libtracecmd crashed (signal %d) after %llu events",
			      tp->path, WTERMSIG(st), (unsigned long long)(tp->events + got));
	return fr_err(err, "%s: trace.dat decoder ended unexpectedly after %llu events", tp->path,
		      (unsigned long long)(tp->events + got));
}

static ssize_t tdat_read(void *priv, struct fr_event *buf, size_t n, struct fr_error *err)
{
	struct tproc *tp = priv;
	const size_t esz = sizeof(struct fr_event);
	size_t got = 0;

	if (tp->done || tp->rfd < 0)
		return 0;
	while (got < n) {
		if (tp->have - tp->pos < esz) {
			/* keep the partial event, refill with one read() */
			memmove(tp->buf, tp->buf + tp->pos, tp->have - tp->pos);
			tp->have -= tp->pos;
			tp->pos = 0;
			if (got)
				break;	/* hand out what we have; read more next call */
			ssize_t r;
			do
				r = read(tp->rfd, tp->buf + tp->have, sizeof(tp->buf) - tp->have);
			while (r < 0 && errno == EINTR);
			if (r <= 0)
				return tp_dead(tp, got, err);
			tp->have += (size_t)r;
			continue;
		}
		memcpy(&buf[got], tp->buf + tp->pos, esz);
		tp->pos += esz;
		if (buf[got].kind == TP_END) {
			tp->done = 1;
			break;
		}
		if (buf[got].kind == TP_ERR) {
			char msg[1024];
			size_t left = tp->have - tp->pos, take = left < sizeof(msg) ? left : sizeof(msg);
			memcpy(msg, tp->buf + tp->pos, take);
			tp->pos += take;
			if (take < sizeof(msg) && read_all(tp->rfd, msg + take, sizeof(msg) - take) <= 0)
				snprintf(msg, sizeof(msg), "%.900s: unreadable trace.dat", tp->path);
			msg[sizeof(msg) - 1] = 0;
			tp->done = 1;
			return fr_err(err, "%s", msg);
		}
		got++;
	}
	tp->events += got;
	return (ssize_t)got;
}

static int tdat_rewind(void *priv, struct fr_error *err)
{
	struct tproc *tp = priv;

	tp_stop(tp);
	return tp_start(tp, NULL, err);
}

static void tdat_close(void *priv)
{
	struct tproc *tp = priv;

	if (!tp)
		return;
	tp_stop(tp);
	close(tp->fd);
	free(tp);
}

const struct fr_backend fr_backend_tracedat = {
	.name = "trace.dat",
	.open = tdat_open,
	.read = tdat_read,
	.rewind = tdat_rewind,
	.close = tdat_close,
};
