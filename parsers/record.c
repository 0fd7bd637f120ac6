// SPDX-License-Identifier: GPL-2.0
/*
 * record.c - the live recorder (record.h): libtracefs + kbuffer.
 *
 * Why each step is done the way it is (most are traps someone fell into):
 *
 * - A private instance, events only.  Function tracing is locked on the
 *   machines this runs on, which makes `trace-cmd record` abort; enabling
 *   events in an instance of our own works, and keeps other tracing users
 *   out of our buffer.  A new instance starts with tracing_on=1: it is
 *   switched off before anything is enabled.
 * - trace_clock mono: the default "local" clock is per CPU and not
 *   synchronised, so a free on CPU 1 could sort before its alloc on CPU 0.
 *   "mono" is synchronised across CPUs (ktime_get_mono_fast_ns) and is the
 *   timebase of CLOCK_MONOTONIC, so the recorder can say in trace time when
 *   the end snapshot began (see below).
 * - Large per-CPU buffers (256 MiB, capped at 1/4 of MemAvailable for all
 *   CPUs) allocated BEFORE the start snapshot, so that the ring buffer's own
 *   pages are in the snapshot as allocated and stay so.
 * - buffer_percent 1: readers blocked on trace_pipe_raw are woken when 1% of
 *   the buffer is full (the kernel default, 50%, would leave half the buffer
 *   unread while tracing and shrink the margin against overruns).
 * - One reader thread per CPU, tracefs_cpu_write(): splice() of whole
 *   sub-buffers from trace_pipe_raw through a pipe into an unlinked
 *   temporary file - no copy through user space, no decoding while tracing,
 *   so the recorder's CPU cost stays near zero.  At stop: tracefs_cpu_stop()
 *   wakes the reader, which drains the remaining whole sub-buffers
 *   (non-blocking splice), then tracefs_cpu_flush_write() reads the last,
 *   partly filled one.  Nothing is decoded until the instance is gone.
 * - Snapshots: the /proc text files, then /proc/kpageflags last, streamed
 *   through zstd level 1 into a buffer allocated and touched beforehand
 *   (compressing harder while reading takes a second and ~140 MB of the very
 *   memory being photographed), then tracing_on at once.  At stop: readers
 *   paused, kpageflags read WITH TRACING STILL ON (reading it takes 0.3-1 s;
 *   with tracing off, whatever the machine did meanwhile would be invisible
 *   and show up as disagreement), its start and end time in CLOCK_MONOTONIC
 *   ns noted in the stats snapshot, tracing_off, then the text files.  The
 *   replay's end-state validation sets aside pages the trace shows changing
 *   after that start.
 *   kpageflags is recompressed harder once the recording is over.
 * - The per-CPU "stats" file counts events still in the buffer ("entries")
 *   and events consumed by readers ("read events") separately; a reader that
 *   drains while tracing leaves entries near 0, so the number of events the
 *   kernel delivered per CPU is read events + entries, read after the flush.
 *   The self-check compares it with what was decoded.  Lost events are
 *   "overrun" + "commit overrun" + "dropped events".
 * - The instance is removed on every exit path, even SIGKILL: a guardian
 *   process, forked before the instance exists, waits on a pipe and removes
 *   it when we die without saying goodbye.  The instance cannot be removed
 *   while any trace_pipe_raw is open (EBUSY), so the guardian retries, and
 *   COMMAND is spawned with every descriptor we opened closed (libtracefs
 *   opens trace_pipe_raw without O_CLOEXEC).
 * - Loss markers: a sub-buffer whose commit word has RB_MISSED_EVENTS set
 *   follows lost events (the count is stored after the data when there was
 *   room: RB_MISSED_STORED).  The flags are read from the sub-buffer header
 *   here rather than with kbuffer_missed_events(), which reports 0 when the
 *   sub-buffer starts with a time-extend record.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>
#include <tracefs.h>
#include <event-parse.h>
#include <kbuffer.h>
#include "frt.h"
#include "record.h"
#include "snapshot.h"

extern char **environ;

#define KPF_LEVEL_FAST 1	/* while reading /proc/kpageflags */
#define KPF_LEVEL_KEEP 9	/* recompressed once recording is over (19: 5x the time for 15% less) */
#define KPF_READ_CHUNK (1u << 20)
#define TEXT_SNAP_PREALLOC (256u << 10)

/* Sub-buffer header: u64 timestamp, then a long "commit" word (kernel's long). */
#define RB_MISSED_EVENTS (1ull << 31)
#define RB_MISSED_STORED (1ull << 30)
#define RB_COMMIT_MASK ((1ull << 27) - 1)

enum { F_PFN, F_ORDER, F_GFP, F_MT, F_REFILL, F_AORDER, F_FORDER, F_AMT, F_FMT, F_CHOWN, NR_F };

static const char *const field_names[NR_F] = {
	"pfn", "order", "gfp_flags", "migratetype", "percpu_refill",
	"alloc_order", "fallback_order", "alloc_migratetype", "fallback_migratetype",
	"change_ownership",
};

struct ev_desc {
	int id;			/* tep event id, -1 if not recorded */
	int kind;
	int minsize;		/* bytes an event must have to hold every field we read */
	struct tep_format_field *f[NR_F];
};

struct rec;

struct reader {
	struct rec *R;
	int cpu;
	struct tracefs_cpu *tcpu;
	int fd;			/* unlinked temporary file of raw sub-buffers */
	pthread_t th;
	int started, joined;
	int need_nudge;		/* tracefs_cpu_stop() said the kernel may not wake it */
	_Atomic uint64_t bytes;
	_Atomic int err;	/* errno of a failed read/write, 0: fine */
};

struct kpf_buf {
	unsigned char *p;
	size_t cap, len;
	uint64_t raw;		/* bytes of /proc/kpageflags read */
};

struct text_buf {
	char *p;
	size_t cap, len;
};

struct rec {
	uint64_t kpf_end_begin_ns, kpf_end_done_ns; /* CLOCK_MONOTONIC = trace_clock mono */
	const struct fr_record_opts *o;
	struct fr_record_result *res;
	unsigned kinds;
	char tdir[2048];	/* tracefs mount */
	char inst_path[2300];
	struct tracefs_instance *inst;
	int inst_live;		/* created and not yet destroyed */
	pid_t guardian;
	int guard_fd;
	struct tep_handle *tep;
	struct ev_desc ev[FR_EV_NKINDS];
	int ncpus;
	struct reader *rd;
	int subbuf;		/* bytes per sub-buffer, as tracefs_cpu reads them */
	int long_size;		/* the kernel's long: size of the commit word */
	char tmpdir[4096];
	char outpath[4200];

	pthread_mutex_t mu;
	pthread_cond_t cv;
	int pause, stop;	/* under mu */

	/* snapshots */
	ZSTD_CCtx *kpf_cctx;
	unsigned char *kpf_in;
	struct kpf_buf kpf[2];	/* start, end */
	struct text_buf txt[3][2]; /* zoneinfo, pagetypeinfo, buddyinfo x start, end */
	struct text_buf stats;
	unsigned char *kpf_keep[2];
	size_t kpf_keep_len[2];

	/* signals and the command */
	sigset_t sigs, oldmask;
	int mask_set;
	struct sigaction old_usr2;
	int usr2_set;
	unsigned char *initial_fds; /* bitmap of descriptors open when we started */
	int initial_nfds;
	pid_t child;
	int child_reaped;
};

/* ---- small helpers ------------------------------------------------------ */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return 0;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void note(struct rec *R, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct rec *R, const char *fmt, ...)
{
	char *n = R->res->notes;
	size_t l = strlen(n), cap = sizeof(R->res->notes);
	va_list ap;

	if (l + 2 >= cap)
		return;
	va_start(ap, fmt);
	vsnprintf(n + l, cap - l - 1, fmt, ap);
	va_end(ap);
	l = strlen(n);
	n[l] = '\n';
	n[l + 1] = 0;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Read a whole (/proc or tracefs) file into tb, growing it if needed. */
static int read_text(const char *path, struct text_buf *tb)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return -1;
	tb->len = 0;
	for (;;) {
		if (tb->cap - tb->len < 4096) {
			size_t ncap = tb->cap ? tb->cap * 2 : 64 * 1024;
			char *np = realloc(tb->p, ncap);
			if (!np) {
				close(fd);
				errno = ENOMEM;
				return -1;
			}
			tb->p = np;
			tb->cap = ncap;
		}
		r = read(fd, tb->p + tb->len, tb->cap - tb->len - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		if (r == 0)
			break;
		tb->len += (size_t)r;
	}
	tb->p[tb->len] = 0;
	close(fd);
	return 0;
}

static int text_prealloc(struct text_buf *tb, size_t cap)
{
	tb->p = malloc(cap);
	if (!tb->p)
		return -1;
	memset(tb->p, 0, cap);	/* touch it now, not during the snapshot */
	tb->cap = cap;
	tb->len = 0;
	return 0;
}

static uint64_t meminfo_kb(const char *key)
{
	struct text_buf tb = { 0 };
	uint64_t v = 0;
	size_t kl = strlen(key);

	if (read_text("/proc/meminfo", &tb) == 0) {
		for (char *l = tb.p; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
			if (!strncmp(l, key, kl) && l[kl] == ':') {
				v = strtoull(l + kl + 1, NULL, 10);
				break;
			}
	}
	free(tb.p);
	return v;
}

static int cpu_offline(int cpu)
{
	char p[128], c = '1';
	int fd;

	snprintf(p, sizeof(p), "/sys/devices/system/cpu/cpu%d/online", cpu);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;	/* cpu0 often has no "online" file: it cannot go offline */
	if (read(fd, &c, 1) != 1)
		c = '1';
	close(fd);
	return c == '0';
}

/* ---- --events ----------------------------------------------------------- */

int fr_record_parse_events(const char *list, unsigned *kinds, struct fr_error *err)
{
	char *dup = strdup(list ? list : ""), *save = NULL, *tok;
	unsigned k = 0;

	if (!dup)
		return fr_err(err, "out of memory");
	for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *name = tok;
		int kind;

		while (*name == ' ')
			name++;
		for (char *e = name + strlen(name); e > name && e[-1] == ' ';)
			*--e = 0;
		if (!strncmp(name, "kmem:", 5) || !strncmp(name, "kmem/", 5))
			name += 5;
		kind = fr_kind_from_name(name);
		if (kind == FR_EV_NONE || kind == FR_EV_LOST) {
			fr_err(err, "--events: unknown event '%s' (known: mm_page_alloc, mm_page_free, "
				    "mm_page_free_batched, mm_page_alloc_zone_locked, mm_page_pcpu_drain, "
				    "mm_page_alloc_extfrag)", tok);
			free(dup);
			return -1;
		}
		k |= 1u << kind;
	}
	free(dup);
	if (!k)
		return fr_err(err, "--events: empty list");
	*kinds = k;
	return 0;
}

/* ---- stats -------------------------------------------------------------- */

struct kstats {
	uint64_t entries, overrun, commit_overrun, read_events, dropped;
	int ok;			/* has "entries:" */
	int has_read;		/* has "read events:" (not on every kernel) */
};

static void parse_stats(const char *t, struct kstats *k)
{
	static const struct { const char *key; size_t off; } keys[] = {
		{ "entries:", offsetof(struct kstats, entries) },
		{ "overrun:", offsetof(struct kstats, overrun) },
		{ "commit overrun:", offsetof(struct kstats, commit_overrun) },
		{ "read events:", offsetof(struct kstats, read_events) },
		{ "dropped events:", offsetof(struct kstats, dropped) },
	};
	memset(k, 0, sizeof(*k));
	for (const char *l = t; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (!strncmp(l, keys[i].key, strlen(keys[i].key))) {
				*(uint64_t *)((char *)k + keys[i].off) =
					strtoull(l + strlen(keys[i].key), NULL, 10);
				if (i == 0)
					k->ok = 1;
				if (i == 3)
					k->has_read = 1;
			}
}

static int cpu_stats(struct rec *R, int cpu, struct kstats *k, char **text)
{
	char f[64];
	char *t;

	snprintf(f, sizeof(f), "per_cpu/cpu%d/stats", cpu);
	t = tracefs_instance_file_read(R->inst, f, NULL);
	if (!t)
		return -1;
	parse_stats(t, k);
	if (text)
		*text = t;
	else
		free(t);
	return k->ok ? 0 : -1;
}

/* ---- the guardian ------------------------------------------------------- */

/*
 * Fork a process that removes the instance when we die without removing it
 * ourselves: it blocks reading a pipe whose only writer is us; EOF without a
 * 'd' byte means we are gone (exit, crash, SIGKILL).  Forked before the
 * instance and the big buffers exist, it is small.
 */
static void start_guardian(struct rec *R)
{
	int p[2];
	pid_t pid;

	R->guardian = -1;
	R->guard_fd = -1;
	if (pipe2(p, O_CLOEXEC) < 0)
		return;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return;
	}
	if (pid == 0) {
		char c = 0, on[2400];
		sigset_t all;
		int fd;

		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		signal(SIGPIPE, SIG_IGN);
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		close(p[1]);
		fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);	/* do not hold a `-o -` pipe open */
			if (fd > 2)
				close(fd);
		}
		if (p[0] > 3)
			close_range(3, (unsigned)p[0] - 1, 0);
		close_range((unsigned)p[0] + 1, ~0u, 0);
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		if (c == 'd')
			_exit(0);
		snprintf(on, sizeof(on), "%s/tracing_on", R->inst_path);
		fd = open(on, O_WRONLY);
		if (fd >= 0) {
			if (write(fd, "0", 1) < 0) {
				/* nothing to do about it */
			}
			close(fd);
		}
		/* Our trace_pipe_raw descriptors close as the recorder exits: retry on EBUSY. */
		for (int i = 0; i < 100; i++) {
			if (rmdir(R->inst_path) == 0 || errno == ENOENT)
				_exit(0);
			if (errno != EBUSY)
				break;
			usleep(100000);
		}
		dprintf(2, "fragreplay record: could not remove the tracefs instance %s: %s "
			   "(remove it with: rmdir %s)\n", R->inst_path, strerror(errno), R->inst_path);
		_exit(1);
	}
	close(p[0]);
	R->guardian = pid;
	R->guard_fd = p[1];
}

static void stop_guardian(struct rec *R)
{
	/*
	 * Instance still there (a descriptor on it is still open): leave the
	 * guardian be.  Our exit closes the pipe and those descriptors; it then
	 * removes the instance.
	 */
	if (R->inst_live)
		return;
	if (R->guard_fd >= 0) {
		if (write(R->guard_fd, "d", 1) < 0) {
			/* then it sees EOF and finds the instance gone */
		}
		close(R->guard_fd);
		R->guard_fd = -1;
	}
	if (R->guardian > 0) {
		while (waitpid(R->guardian, NULL, 0) < 0 && errno == EINTR)
			;
		R->guardian = -1;
	}
}

/* ---- tracefs setup ------------------------------------------------------ */

static int find_tracefs(struct rec *R, struct fr_error *err)
{
	const char *d;
	char p[2200];
	struct stat st;

	if (R->o->tracefs) {
		snprintf(R->tdir, sizeof(R->tdir), "%s", R->o->tracefs);
		if (tracefs_set_tracing_dir(R->tdir) < 0)
			return fr_err(err, "cannot use %s as the tracefs mount", R->tdir);
	} else {
		/* Finds the mount, mounting tracefs (or debugfs/tracing) if nothing is mounted. */
		d = tracefs_tracing_dir();
		if (!d)
			return fr_err(err, "no tracefs: not mounted and `mount -t tracefs nodev "
					   "/sys/kernel/tracing` failed (kernel without CONFIG_TRACING?)");
		snprintf(R->tdir, sizeof(R->tdir), "%s", d);
	}
	snprintf(p, sizeof(p), "%s/instances", R->tdir);
	if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode))
		return fr_err(err, "no tracefs at %s (no instances directory)", R->tdir);
	return 0;
}

static void warn_stale_instances(struct rec *R)
{
	char p[2200];
	DIR *d;
	struct dirent *de;

	snprintf(p, sizeof(p), "%s/instances", R->tdir);
	d = opendir(p);
	if (!d)
		return;
	while ((de = readdir(d))) {
		char *end;
		long pid;

		if (strncmp(de->d_name, "fragreplay-", 11))
			continue;
		pid = strtol(de->d_name + 11, &end, 10);
		if (*end || pid <= 0 || pid == (long)getpid())
			continue;
		if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
			note(R, "note: stale tracefs instance %s/%s (its recorder is gone) holds ring-buffer "
				"memory; remove it with: rmdir %s/%s", p, de->d_name, p, de->d_name);
	}
	closedir(d);
}

static int load_formats(struct rec *R, struct fr_error *err)
{
	static const char *const systems[] = { "kmem", NULL };

	tracefs_set_loglevel(TEP_LOG_NONE);
	R->tep = tracefs_local_events_system(R->tdir, systems);
	if (!R->tep)
		return fr_err(err, "%s: cannot read the kmem event formats", R->tdir);
	R->long_size = tep_get_header_page_size(R->tep);
	if (R->long_size != 4 && R->long_size != 8)
		R->long_size = (int)sizeof(long);
	for (int k = 1; k < FR_EV_NKINDS; k++) {
		struct ev_desc *d = &R->ev[k];
		struct tep_event *e;

		memset(d, 0, sizeof(*d));
		d->id = -1;
		d->kind = k;
		if (k == FR_EV_LOST || !(R->kinds & (1u << k)))
			continue;
		e = tep_find_event_by_name(R->tep, "kmem", fr_kind_name(k));
		if (!e)
			return fr_err(err, "this kernel has no kmem:%s tracepoint (%s/events/kmem)",
				      fr_kind_name(k), R->tdir);
		d->id = e->id;
		for (int f = 0; f < NR_F; f++) {
			d->f[f] = tep_find_field(e, field_names[f]);
			if (d->f[f] && d->f[f]->offset + d->f[f]->size > d->minsize)
				d->minsize = d->f[f]->offset + d->f[f]->size;
		}
		if (!d->f[F_PFN])
			return fr_err(err, "event kmem:%s has no pfn field (kernel too old?)", fr_kind_name(k));
	}
	return 0;
}

static int setup_instance(struct rec *R, struct fr_error *err)
{
	char name[64], *clock;
	uint64_t kb = R->o->buffer_kb;
	ssize_t got;

	snprintf(name, sizeof(name), "fragreplay-%d", (int)getpid());
	snprintf(R->res->instance, sizeof(R->res->instance), "%s", name);
	snprintf(R->inst_path, sizeof(R->inst_path), "%s/instances/%s", R->tdir, name);
	if (tracefs_instance_exists(name)) {
		/* Named after our own pid: left by an earlier recorder of that pid that died. */
		if (rmdir(R->inst_path) < 0)
			return fr_err(err, "tracefs instance %s exists and cannot be removed: %s",
				      R->inst_path, strerror(errno));
	}
	start_guardian(R);
	R->inst = tracefs_instance_create(name);
	if (!R->inst)
		return fr_err(err, "cannot create the tracefs instance %s: %s", R->inst_path, strerror(errno));
	R->inst_live = 1;
	/* A new instance traces at once (tracing_on=1): off before enabling anything. */
	if (tracefs_trace_off(R->inst) < 0)
		return fr_err(err, "%s/tracing_on: cannot switch tracing off: %s", R->inst_path, strerror(errno));

	if (!kb) {
		uint64_t avail = meminfo_kb("MemAvailable");
		kb = FR_REC_DEFAULT_BUFFER_KB;
		if (avail && kb * (uint64_t)R->ncpus > avail / 4) {
			kb = avail / 4 / (uint64_t)R->ncpus;
			if (kb < 1024)
				kb = 1024;
			note(R, "note: per-CPU buffer capped at %" PRIu64 " KiB (1/4 of MemAvailable over %d CPUs)",
			     kb, R->ncpus);
		}
	}
	if (tracefs_instance_set_buffer_size(R->inst, (size_t)kb, -1) < 0)
		return fr_err(err, "%s/buffer_size_kb: cannot allocate %" PRIu64 " KiB per CPU: %s "
				   "(try a smaller --buffer-kb)", R->inst_path, kb, strerror(errno));
	got = tracefs_instance_get_buffer_size(R->inst, 0);
	if (got > 0 && (uint64_t)got + 64 < kb)
		return fr_err(err, "%s/buffer_size_kb: asked %" PRIu64 " KiB per CPU, got %zd",
			      R->inst_path, kb, got);
	R->res->buffer_kb = got > 0 ? (uint64_t)got : kb;

	if (tracefs_instance_file_write(R->inst, "trace_clock", "mono") < 0)
		return fr_err(err, "%s/trace_clock: cannot select the mono clock: %s", R->inst_path,
			      strerror(errno));
	clock = tracefs_get_clock(R->inst);
	if (!clock || strcmp(clock, "mono")) {
		fr_err(err, "%s/trace_clock: is '%s', not mono", R->inst_path, clock ? clock : "?");
		free(clock);
		return -1;
	}
	free(clock);
	if (tracefs_file_exists(R->inst, "buffer_percent") &&
	    tracefs_instance_file_write(R->inst, "buffer_percent", "1") < 0)
		note(R, "note: cannot set %s/buffer_percent; readers wake at the kernel's default", R->inst_path);

	for (int k = 1; k < FR_EV_NKINDS; k++) {
		if (k == FR_EV_LOST || !(R->kinds & (1u << k)))
			continue;
		if (tracefs_event_enable(R->inst, "kmem", fr_kind_name(k)) < 0)
			return fr_err(err, "%s: cannot enable kmem:%s: %s", R->inst_path, fr_kind_name(k),
				      strerror(errno));
	}
	/* Nothing was recorded with tracing off, but start from an empty buffer anyway. */
	if (tracefs_instance_file_clear(R->inst, "trace") < 0)
		return fr_err(err, "%s/trace: cannot clear the buffer: %s", R->inst_path, strerror(errno));
	return 0;
}

static int destroy_instance(struct rec *R)
{
	int ret = 0;

	if (!R->inst)
		return 0;
	if (R->inst_live) {
		tracefs_trace_off(R->inst);
		for (int i = 0; i < 50; i++) {
			if (tracefs_instance_destroy(R->inst) == 0 || !tracefs_instance_exists(R->res->instance)) {
				R->inst_live = 0;
				break;
			}
			usleep(20000);
		}
		if (R->inst_live)
			ret = -1;	/* the guardian retries when we exit */
	}
	tracefs_instance_free(R->inst);
	R->inst = NULL;
	return ret;
}

/* ---- readers ------------------------------------------------------------ */

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	struct rec *R = r->R;
	int n;

	for (;;) {
		int stop;

		pthread_mutex_lock(&R->mu);
		while (R->pause && !R->stop)
			pthread_cond_wait(&R->cv, &R->mu);
		stop = R->stop;
		pthread_mutex_unlock(&R->mu);
		if (stop)
			break;
		/* Blocks until buffer_percent is reached or tracefs_cpu_stop(). */
		n = tracefs_cpu_write(r->tcpu, r->fd, false);
		if (n > 0) {
			r->bytes += (uint64_t)n;
		} else if (n < 0 && errno != EINTR && errno != EAGAIN) {
			r->err = errno ? errno : EIO;
			return NULL;
		}
	}
	/* Tracing is off: the rest, whole sub-buffers first, then the partial one. */
	while ((n = tracefs_cpu_write(r->tcpu, r->fd, true)) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			r->bytes += (uint64_t)n;
	if (n < 0 && errno != EAGAIN && errno != ENODATA) {
		r->err = errno ? errno : EIO;
		return NULL;
	}
	while ((n = tracefs_cpu_flush_write(r->tcpu, r->fd)) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			r->bytes += (uint64_t)n;
	if (n < 0 && errno != EAGAIN && errno != ENODATA)
		r->err = errno ? errno : EIO;
	return NULL;
}

static void usr2_nop(int sig)
{
	(void)sig;
}

static int open_tmp(struct rec *R, struct fr_error *err)
{
	int fd = open(R->tmpdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd < 0) {
		char t[4200];
		snprintf(t, sizeof(t), "%s/.fragreplay-raw-XXXXXX", R->tmpdir);
		fd = mkostemp(t, O_CLOEXEC);
		if (fd < 0)
			return fr_err(err, "%s: cannot create a temporary file: %s", R->tmpdir, strerror(errno));
		unlink(t);
	}
	return fd;
}

static int setup_readers(struct rec *R, struct fr_error *err)
{
	struct sigaction sa;

	R->rd = calloc((size_t)R->ncpus, sizeof(*R->rd));
	if (!R->rd)
		return fr_err(err, "out of memory");
	for (int c = 0; c < R->ncpus; c++) {
		struct reader *r = &R->rd[c];

		r->R = R;
		r->cpu = c;
		r->fd = -1;
		r->tcpu = tracefs_cpu_open(R->inst, c, false);
		if (!r->tcpu) {
			if (cpu_offline(c))
				continue;
			return fr_err(err, "%s/per_cpu/cpu%d/trace_pipe_raw: cannot open: %s", R->inst_path, c,
				      strerror(errno));
		}
		R->res->cpu[c].online = 1;
		if (!R->subbuf)
			R->subbuf = tracefs_cpu_read_size(r->tcpu);
		if (tracefs_cpu_read_size(r->tcpu) != R->subbuf || R->subbuf < 64)
			return fr_err(err, "%s: inconsistent sub-buffer sizes (%d, %d)", R->inst_path, R->subbuf,
				      tracefs_cpu_read_size(r->tcpu));
		r->fd = open_tmp(R, err);
		if (r->fd < 0)
			return -1;
	}
	if (!R->subbuf)
		return fr_err(err, "%s: no CPU buffer could be opened", R->inst_path);

	/* Only to interrupt a reader on kernels where tracefs_cpu_stop() cannot. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = usr2_nop;	/* no SA_RESTART: the blocked call returns EINTR */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR2, &sa, &R->old_usr2) == 0)
		R->usr2_set = 1;

	for (int c = 0; c < R->ncpus; c++) {
		struct reader *r = &R->rd[c];
		if (!r->tcpu)
			continue;
		if (pthread_create(&r->th, NULL, reader_main, r))
			return fr_err(err, "cannot start the reader thread of CPU %d", c);
		r->started = 1;
	}
	return 0;
}

static void set_pause(struct rec *R, int pause, int stop)
{
	pthread_mutex_lock(&R->mu);
	R->pause = pause;
	R->stop = stop;
	pthread_cond_broadcast(&R->cv);
	pthread_mutex_unlock(&R->mu);
}

/* Stop every reader (they drain and flush first) and wait for them. */
static void stop_readers(struct rec *R)
{
	if (!R->rd)
		return;
	set_pause(R, 0, 1);
	for (int c = 0; c < R->ncpus; c++) {
		struct reader *r = &R->rd[c];
		if (r->started && !r->joined && r->tcpu)
			r->need_nudge = tracefs_cpu_stop(r->tcpu) > 0;
	}
	for (int c = 0; c < R->ncpus; c++) {
		struct reader *r = &R->rd[c];
		double t0 = now_s();

		if (!r->started || r->joined)
			continue;
		for (;;) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 200 * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			if (pthread_timedjoin_np(r->th, NULL, &ts) == 0)
				break;
			if (r->need_nudge)
				pthread_kill(r->th, SIGUSR2);
			if (now_s() - t0 > 60) {
				/* Never seen; leave it and let the process exit take it. */
				r->err = ETIMEDOUT;
				pthread_detach(r->th);
				break;
			}
		}
		r->joined = 1;
	}
}

static void close_readers(struct rec *R)
{
	if (!R->rd)
		return;
	for (int c = 0; c < R->ncpus; c++)
		if (R->rd[c].tcpu && (R->rd[c].joined || !R->rd[c].started)) {
			tracefs_cpu_close(R->rd[c].tcpu);
			R->rd[c].tcpu = NULL;
		}
}

/* ---- snapshots ---------------------------------------------------------- */

static const char *const text_src[3] = { "/proc/zoneinfo", "/proc/pagetypeinfo", "/proc/buddyinfo" };
static const int text_id[3][2] = {
	{ FR_SNAP_ZONEINFO_START, FR_SNAP_ZONEINFO_END },
	{ FR_SNAP_PAGETYPEINFO_START, FR_SNAP_PAGETYPEINFO_END },
	{ FR_SNAP_BUDDYINFO_START, FR_SNAP_BUDDYINFO_END },
};

/* Allocate (and touch) everything the snapshots write into, before the first. */
static int setup_snapshots(struct rec *R, struct fr_error *err)
{
	struct text_buf zi = { 0 };
	struct fr_zoneinfo z;
	struct fr_error e2;
	uint64_t npfns = 0;
	size_t cap;

	if (read_text("/proc/zoneinfo", &zi) < 0)
		return fr_err(err, "/proc/zoneinfo: cannot read: %s", strerror(errno));
	if (fr_zoneinfo_parse(zi.p, zi.len, &z, "/proc/zoneinfo", &e2) == 0)
		for (int i = 0; i < z.nr_zones; i++)
			if (z.zone[i].start_pfn + z.zone[i].spanned > npfns)
				npfns = z.zone[i].start_pfn + z.zone[i].spanned;
	cap = zi.len * 2 + TEXT_SNAP_PREALLOC;
	free(zi.p);
	for (int i = 0; i < 3; i++)
		for (int s = 0; s < 2; s++)
			if (text_prealloc(&R->txt[i][s], cap) < 0)
				return fr_err(err, "out of memory");

	if (access("/proc/kpageflags", R_OK) < 0)
		return fr_err(err, "/proc/kpageflags: %s (kernel without CONFIG_PROC_PAGE_MONITOR?)",
			      strerror(errno));
	/* Level 1 shrinks kpageflags 8-150x; reserve raw/8, at least 4 MiB, at most 256 MiB. */
	cap = (size_t)(npfns * 8 / 8);
	if (cap < (4u << 20))
		cap = 4u << 20;
	if (cap > (256u << 20))
		cap = 256u << 20;
	for (int s = 0; s < 2; s++) {
		R->kpf[s].p = malloc(cap);
		if (!R->kpf[s].p)
			return fr_err(err, "out of memory (%zu bytes for the kpageflags snapshot)", cap);
		memset(R->kpf[s].p, 0, cap);
		R->kpf[s].cap = cap;
	}
	R->kpf_in = malloc(KPF_READ_CHUNK);
	R->kpf_cctx = ZSTD_createCCtx();
	if (!R->kpf_in || !R->kpf_cctx)
		return fr_err(err, "out of memory");
	memset(R->kpf_in, 0, KPF_READ_CHUNK);
	ZSTD_CCtx_setParameter(R->kpf_cctx, ZSTD_c_compressionLevel, KPF_LEVEL_FAST);
	ZSTD_CCtx_setParameter(R->kpf_cctx, ZSTD_c_checksumFlag, 1);
	{
		/* Warm the context up: its tables are allocated on first use. */
		ZSTD_inBuffer in = { R->kpf_in, KPF_READ_CHUNK, 0 };
		ZSTD_outBuffer out = { R->kpf[1].p, R->kpf[1].cap, 0 };
		size_t r;
		do
			r = ZSTD_compressStream2(R->kpf_cctx, &out, &in, ZSTD_e_end);
		while (r && !ZSTD_isError(r));
		ZSTD_CCtx_reset(R->kpf_cctx, ZSTD_reset_session_only);
	}
	return 0;
}

static int snap_kpageflags(struct rec *R, int s, struct fr_error *err)
{
	struct kpf_buf *k = &R->kpf[s];
	int fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	size_t r;

	if (fd < 0)
		return fr_err(err, "/proc/kpageflags: cannot open: %s", strerror(errno));
	ZSTD_CCtx_reset(R->kpf_cctx, ZSTD_reset_session_only);
	k->len = 0;
	k->raw = 0;
	for (;;) {
		ssize_t n = read(fd, R->kpf_in, KPF_READ_CHUNK);
		ZSTD_EndDirective mode = n > 0 ? ZSTD_e_continue : ZSTD_e_end;
		ZSTD_inBuffer in = { R->kpf_in, n > 0 ? (size_t)n : 0, 0 };

		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			return fr_err(err, "/proc/kpageflags: read failed at byte %" PRIu64 ": %s", k->raw,
				      strerror(e));
		}
		k->raw += (uint64_t)(n > 0 ? n : 0);
		do {
			ZSTD_outBuffer out;

			if (k->cap - k->len < ZSTD_CStreamOutSize()) {
				size_t ncap = k->cap + k->cap / 2;
				unsigned char *np = realloc(k->p, ncap);
				if (!np) {
					close(fd);
					return fr_err(err, "out of memory (kpageflags snapshot)");
				}
				k->p = np;
				k->cap = ncap;
			}
			out = (ZSTD_outBuffer){ k->p, k->cap, k->len };
			r = ZSTD_compressStream2(R->kpf_cctx, &out, &in, mode);
			k->len = out.pos;
			if (ZSTD_isError(r)) {
				close(fd);
				return fr_err(err, "/proc/kpageflags: zstd: %s", ZSTD_getErrorName(r));
			}
		} while (in.pos < in.size || (mode == ZSTD_e_end && r));
		if (n == 0)
			break;
	}
	close(fd);
	if (k->raw % 8)
		return fr_err(err, "/proc/kpageflags: %" PRIu64 " bytes, not a multiple of 8", k->raw);
	return 0;
}

static int snap_texts(struct rec *R, int s, struct fr_error *err)
{
	for (int i = 0; i < 3; i++)
		if (read_text(text_src[i], &R->txt[i][s]) < 0)
			return fr_err(err, "%s: cannot read: %s", text_src[i], strerror(errno));
	return 0;
}

/* Recompress a level-1 kpageflags stream as one frame with its size and checksum. */
static int kpf_recompress(const struct kpf_buf *k, unsigned char **outp, size_t *outlen, struct fr_error *err)
{
	ZSTD_DCtx *d = ZSTD_createDCtx();
	ZSTD_CCtx *c = ZSTD_createCCtx();
	size_t scap = ZSTD_DStreamOutSize(), cap = k->len + 4096, pos = 0, r = 0;
	unsigned char *scratch = malloc(scap), *out = malloc(cap);
	ZSTD_inBuffer in = { k->p, k->len, 0 };
	int ret = -1;

	if (!d || !c || !scratch || !out) {
		fr_err(err, "out of memory");
		goto done;
	}
	ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, KPF_LEVEL_KEEP);
	ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
	ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 1);
	ZSTD_CCtx_setPledgedSrcSize(c, k->raw);
	for (;;) {
		ZSTD_outBuffer dout = { scratch, scap, 0 };
		size_t dr = ZSTD_decompressStream(d, &dout, &in);
		int last;
		ZSTD_inBuffer cin;

		if (ZSTD_isError(dr)) {
			fr_err(err, "kpageflags snapshot: zstd: %s", ZSTD_getErrorName(dr));
			goto done;
		}
		last = in.pos == in.size && (dr == 0 || dout.pos < scap);
		cin = (ZSTD_inBuffer){ scratch, dout.pos, 0 };
		do {
			ZSTD_outBuffer cout;
			if (cap - pos < ZSTD_CStreamOutSize()) {
				unsigned char *np = realloc(out, cap * 2);
				if (!np) {
					fr_err(err, "out of memory");
					goto done;
				}
				out = np;
				cap *= 2;
			}
			cout = (ZSTD_outBuffer){ out, cap, pos };
			r = ZSTD_compressStream2(c, &cout, &cin, last ? ZSTD_e_end : ZSTD_e_continue);
			pos = cout.pos;
			if (ZSTD_isError(r)) {
				fr_err(err, "kpageflags snapshot: zstd: %s", ZSTD_getErrorName(r));
				goto done;
			}
		} while (cin.pos < cin.size || (last && r));
		if (last)
			break;
	}
	*outp = out;
	*outlen = pos;
	out = NULL;
	ret = 0;
done:
	free(out);
	free(scratch);
	ZSTD_freeDCtx(d);
	ZSTD_freeCCtx(c);
	return ret;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Append n bytes (and keep a NUL after them) to the stats snapshot text. */
static int stats_append(struct rec *R, const char *s, size_t n)
{
	if (R->stats.cap - R->stats.len <= n + 1) {
		size_t ncap = (R->stats.cap + n) * 2;
		char *np = realloc(R->stats.p, ncap);
		if (!np)
			return -1;
		R->stats.p = np;
		R->stats.cap = ncap;
	}
	memcpy(R->stats.p + R->stats.len, s, n + 1);
	R->stats.len += n;
	return 0;
}

/* The per-CPU stats files, as `grep -H . per_cpu/cpu*\/stats` prints them. */
static int collect_stats(struct rec *R, struct fr_error *err)
{
	for (int c = 0; c < R->ncpus; c++) {
		struct fr_record_cpu *pc = &R->res->cpu[c];
		struct kstats k;
		char *t = NULL;

		if (!pc->online)
			continue;
		if (cpu_stats(R, c, &k, &t) < 0) {
			free(t);
			return fr_err(err, "%s/per_cpu/cpu%d/stats: cannot read", R->inst_path, c);
		}
		pc->kernel_entries = k.read_events + k.entries;
		pc->kernel_unknown = !k.has_read;
		pc->overrun = k.overrun;
		pc->commit_overrun = k.commit_overrun;
		pc->dropped = k.dropped;
		for (char *l = t; l && *l;) {
			char *nl = strchr(l, '\n');
			size_t ll = nl ? (size_t)(nl - l) : strlen(l);
			char line[4600];
			int n = snprintf(line, sizeof(line), "%s/per_cpu/cpu%d/stats:%.*s\n", R->inst_path, c,
					 (int)ll, l);
			if (stats_append(R, line, (size_t)n) < 0) {
				free(t);
				return fr_err(err, "out of memory");
			}
			l = nl ? nl + 1 : NULL;
		}
		free(t);
	}
	if (R->kpf_end_begin_ns) {
		/* read by the replay's end-state validation (replay/results_json.c) */
		char line[256];
		int n = snprintf(line, sizeof(line),
				 "fragreplay: kpageflags.end read with tracing on, trace_clock mono ns %" PRIu64
				 " to %" PRIu64 "\n", R->kpf_end_begin_ns, R->kpf_end_done_ns);
		if (stats_append(R, line, (size_t)n) < 0)
			return fr_err(err, "out of memory");
	}
	return 0;
}

/* ---- decoding ----------------------------------------------------------- */

struct stream {
	int cpu, fd;
	uint64_t fsize, foff;
	unsigned char *buf;
	size_t blen, bpos, bcap;
	struct kbuffer *kb;
	int have;
	void *data;
	unsigned long long ts;
	long long missed;	/* a loss marker is due before the current event */
	struct fr_record_cpu *st;
};

struct merge {
	struct rec *R;
	struct stream *s;
	int n;
	int *heap, nheap;
	uint64_t total_bytes, done_bytes;
};

static inline uint64_t load_le(const unsigned char *p, int size)
{
	uint64_t v = 0;
	memcpy(&v, p, (size_t)size);	/* host order: the buffer is this machine's */
	return v;
}

/* Advance s to its next event; 1: have one, 0: end, -1: error. */
static int stream_next(struct rec *R, struct stream *s, struct fr_error *err)
{
	int hdr = 8 + R->long_size;

	if (s->have) {
		s->data = kbuffer_next_event(s->kb, &s->ts);
		if (s->data)
			return 1;
		s->have = 0;
	}
	for (;;) {
		unsigned char *page;
		uint64_t commit, size;
		long long missed = 0;

		if (s->bpos + (size_t)R->subbuf > s->blen) {
			ssize_t n;

			if (s->foff >= s->fsize)
				return 0;
			n = pread(s->fd, s->buf, s->bcap, (off_t)s->foff);
			if (n < 0)
				return fr_err(err, "cpu %d: cannot read the raw data: %s", s->cpu, strerror(errno));
			if (n == 0)
				return 0;
			s->foff += (uint64_t)n;
			s->blen = (size_t)n;
			s->bpos = 0;
			if (s->blen < (size_t)R->subbuf) {
				note(R, "warning: cpu %d: %zu trailing bytes (less than a sub-buffer) ignored",
				     s->cpu, s->blen);
				s->foff = s->fsize;
				return 0;
			}
		}
		page = s->buf + s->bpos;
		s->bpos += (size_t)R->subbuf;
		commit = load_le(page + 8, R->long_size);
		size = commit & RB_COMMIT_MASK;
		if (size > (uint64_t)(R->subbuf - hdr))
			return fr_err(err, "cpu %d: corrupt sub-buffer at raw byte %" PRIu64
				      " (commit %" PRIu64 " > %d)", s->cpu,
				      s->foff - s->blen + (uint64_t)(page - s->buf), size, R->subbuf - hdr);
		if (commit & RB_MISSED_EVENTS) {
			missed = -1;
			if ((commit & RB_MISSED_STORED) && size + (uint64_t)hdr + (uint64_t)R->long_size <= (uint64_t)R->subbuf)
				missed = (long long)load_le(page + hdr + size, R->long_size);
			s->st->lost_markers++;
		}
		if (kbuffer_load_subbuffer(s->kb, page) < 0)
			return fr_err(err, "cpu %d: cannot load a sub-buffer", s->cpu);
		if (missed) {
			/* Several flagged sub-buffers in a row with nothing between: add them up. */
			if (s->missed > 0 && missed > 0)
				s->missed += missed;
			else if (!s->missed || missed < 0)
				s->missed = missed;
		}
		s->data = kbuffer_read_event(s->kb, &s->ts);
		if (s->data) {
			s->have = 1;
			return 1;
		}
	}
}

static int mless(struct merge *m, int a, int b)
{
	struct stream *sa = &m->s[a], *sb = &m->s[b];
	if (sa->ts != sb->ts)
		return sa->ts < sb->ts;
	return sa->cpu < sb->cpu;	/* lower CPU first on ties, as tracedat.c */
}

static void mdown(struct merge *m, int i)
{
	for (;;) {
		int l = 2 * i + 1, r = l + 1, x = i;
		if (l < m->nheap && mless(m, m->heap[l], m->heap[x]))
			x = l;
		if (r < m->nheap && mless(m, m->heap[r], m->heap[x]))
			x = r;
		if (x == i)
			return;
		int t = m->heap[i];
		m->heap[i] = m->heap[x];
		m->heap[x] = t;
		i = x;
	}
}

static uint64_t fld(struct tep_format_field *f, void *data)
{
	unsigned long long v = 0;

	if (f)
		tep_read_number_field(f, data, &v);
	return v;
}

/* One raw record to an fr_event, exactly as parsers/tracedat.c maps them. 0: not ours. */
static int map_event(struct rec *R, struct stream *s, struct fr_event *e)
{
	struct tep_record rec;
	const struct ev_desc *d = NULL;
	int id;

	memset(&rec, 0, sizeof(rec));
	rec.ts = s->ts;
	rec.data = s->data;
	rec.size = kbuffer_event_size(s->kb);
	rec.cpu = s->cpu;
	id = tep_data_type(R->tep, &rec);
	for (int k = 1; k < FR_EV_NKINDS; k++)
		if (R->ev[k].id == id && id >= 0) {
			d = &R->ev[k];
			break;
		}
	if (!d || rec.size < d->minsize)
		return 0;
	memset(e, 0, sizeof(*e));
	e->kind = (uint8_t)d->kind;
	e->ts = s->ts;
	e->cpu = (uint32_t)s->cpu;
	e->pfn = fld(d->f[F_PFN], rec.data);
	switch (d->kind) {
	case FR_EV_ALLOC:
		e->order = (uint8_t)fld(d->f[F_ORDER], rec.data);
		e->mt = (int8_t)fld(d->f[F_MT], rec.data);
		e->gfp = fld(d->f[F_GFP], rec.data);
		if (d->f[F_PFN]->size == 4 && e->pfn == UINT32_MAX)
			e->pfn = FR_PFN_NONE;
		break;
	case FR_EV_FREE:
		e->order = (uint8_t)fld(d->f[F_ORDER], rec.data);
		break;
	case FR_EV_ZONE_LOCKED:
		e->order = (uint8_t)fld(d->f[F_ORDER], rec.data);
		e->mt = (int8_t)fld(d->f[F_MT], rec.data);
		e->aux = (uint8_t)fld(d->f[F_REFILL], rec.data);
		break;
	case FR_EV_PCPU_DRAIN:
		e->order = (uint8_t)fld(d->f[F_ORDER], rec.data);
		e->mt = (int8_t)fld(d->f[F_MT], rec.data);
		break;
	case FR_EV_EXTFRAG:
		e->order = (uint8_t)fld(d->f[F_AORDER], rec.data);
		e->mt = (int8_t)fld(d->f[F_AMT], rec.data);
		e->aux = (uint8_t)fld(d->f[F_FORDER], rec.data);
		e->gfp = (fld(d->f[F_CHOWN], rec.data) & 1) | ((fld(d->f[F_FMT], rec.data) & 0xff) << 8);
		break;
	}
	return 1;
}

static int abandon_requested(struct rec *R)
{
	sigset_t p;
	if (sigpending(&p) < 0)
		return 0;
	return sigismember(&p, SIGINT) || sigismember(&p, SIGTERM) || sigismember(&p, SIGHUP);
}

static int decode_all(struct rec *R, struct fr_frt_writer *w, struct fr_error *err)
{
	struct merge m = { .R = R };
	struct fr_event buf[4096];
	size_t nb = 0;
	size_t chunk_pages;
	double last_progress = now_s();
	uint64_t since_check = 0;
	int ret = -1;

	m.s = calloc((size_t)R->ncpus, sizeof(*m.s));
	m.heap = calloc((size_t)R->ncpus, sizeof(*m.heap));
	if (!m.s || !m.heap) {
		fr_err(err, "out of memory");
		goto out;
	}
	chunk_pages = (16u << 20) / (size_t)R->ncpus / (size_t)R->subbuf;
	if (chunk_pages < 1)
		chunk_pages = 1;
	if (chunk_pages > 64)
		chunk_pages = 64;
	for (int c = 0; c < R->ncpus; c++) {
		struct stream *s = &m.s[c];
		struct stat st;

		s->cpu = c;
		s->fd = -1;
		s->st = &R->res->cpu[c];
		if (!R->rd[c].tcpu && R->rd[c].fd < 0)
			continue;
		s->fd = R->rd[c].fd;
		if (s->fd < 0)
			continue;
		if (fstat(s->fd, &st) < 0) {
			fr_err(err, "cpu %d: cannot stat the raw data: %s", c, strerror(errno));
			goto out;
		}
		s->fsize = (uint64_t)st.st_size;
		s->st->raw_bytes = s->fsize;
		m.total_bytes += s->fsize;
		if (s->fsize % (uint64_t)R->subbuf)
			note(R, "warning: cpu %d: raw data of %" PRIu64 " bytes is not whole sub-buffers of %d",
			     c, s->fsize, R->subbuf);
		s->bcap = chunk_pages * (size_t)R->subbuf;
		/* slack: a corrupt last record cannot make a field read run off the buffer */
		s->buf = malloc(s->bcap + 256);
		s->kb = tep_kbuffer(R->tep);
		if (!s->buf || !s->kb) {
			fr_err(err, "out of memory");
			goto out;
		}
		memset(s->buf + s->bcap, 0, 256);
		int r = stream_next(R, s, err);
		if (r < 0)
			goto out;
		if (r > 0)
			m.heap[m.nheap++] = c;
	}
	for (int i = m.nheap / 2 - 1; i >= 0; i--)
		mdown(&m, i);

	while (m.nheap > 0) {
		struct stream *s = &m.s[m.heap[0]];
		struct fr_event *e = &buf[nb];

		if (s->missed) {
			memset(e, 0, sizeof(*e));
			e->kind = FR_EV_LOST;
			e->ts = s->ts;
			e->cpu = (uint32_t)s->cpu;
			e->gfp = s->missed > 0 ? (uint64_t)s->missed : 0;
			s->missed = 0;
			nb++;
		} else {
			s->st->decoded++;
			if (map_event(R, s, e))
				nb++;
			else
				s->st->unknown++;
			int r = stream_next(R, s, err);
			if (r < 0)
				goto out;
			if (r == 0) {
				m.heap[0] = m.heap[--m.nheap];
			}
			if (m.nheap)
				mdown(&m, 0);
		}
		if (nb == sizeof(buf) / sizeof(buf[0])) {
			if (fr_frt_write(w, buf, nb, err) < 0)
				goto out;
			nb = 0;
			since_check += 4096;
			if (since_check >= 65536) {
				since_check = 0;
				if (abandon_requested(R)) {
					ret = FR_REC_INTERRUPTED;
					fr_err(err, "interrupted while writing the recording; nothing written");
					goto out;
				}
				if (R->o->status_line && now_s() - last_progress > 0.5) {
					uint64_t done = 0;
					for (int c = 0; c < R->ncpus; c++)
						done += m.s[c].foff;
					fprintf(stderr, "\rfragreplay record: writing %s: %3.0f%%   ", R->outpath,
						m.total_bytes ? 100.0 * (double)done / (double)m.total_bytes : 100.0);
					last_progress = now_s();
				}
			}
		}
	}
	if (nb && fr_frt_write(w, buf, nb, err) < 0)
		goto out;
	if (R->o->status_line)
		fprintf(stderr, "\r%60s\r", "");
	ret = 0;
out:
	if (m.s)
		for (int c = 0; c < R->ncpus; c++) {
			free(m.s[c].buf);
			if (m.s[c].kb)
				kbuffer_free(m.s[c].kb);
		}
	free(m.s);
	free(m.heap);
	return ret;
}

/* ---- the command -------------------------------------------------------- */

static void remember_initial_fds(struct rec *R)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;

	R->initial_nfds = 1 << 16;
	R->initial_fds = calloc((size_t)R->initial_nfds / 8, 1);
	if (!d || !R->initial_fds) {
		if (d)
			closedir(d);
		return;
	}
	while ((de = readdir(d))) {
		long fd = strtol(de->d_name, NULL, 10);
		if (de->d_name[0] >= '0' && de->d_name[0] <= '9' && fd >= 0 && fd < R->initial_nfds &&
		    fd != dirfd(d))
			R->initial_fds[fd / 8] |= (unsigned char)(1u << (fd % 8));
	}
	closedir(d);
}

/* Run COMMAND with the caller's signal mask and none of our descriptors. */
static int spawn_command(struct rec *R, struct fr_error *err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t def;
	DIR *d;
	struct dirent *de;
	int rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	d = opendir("/proc/self/fd");
	if (d) {
		int dfd = dirfd(d);
		while ((de = readdir(d))) {
			long fd;
			if (de->d_name[0] < '0' || de->d_name[0] > '9')
				continue;
			fd = strtol(de->d_name, NULL, 10);
			if (fd <= 2 || fd == dfd)
				continue;
			if (R->initial_fds && fd < R->initial_nfds &&
			    (R->initial_fds[fd / 8] & (1u << (fd % 8))))
				continue;	/* the caller's, e.g. a make jobserver */
			posix_spawn_file_actions_addclose(&fa, (int)fd);
		}
		closedir(d);
	}
	sigemptyset(&def);
	sigaddset(&def, SIGUSR2);
	sigaddset(&def, SIGINT);
	sigaddset(&def, SIGTERM);
	sigaddset(&def, SIGHUP);
	sigaddset(&def, SIGCHLD);
	sigaddset(&def, SIGPIPE);
	posix_spawnattr_setsigdefault(&at, &def);
	posix_spawnattr_setsigmask(&at, &R->oldmask);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
	rc = posix_spawnp(&R->child, R->o->cmd[0], &fa, &at, R->o->cmd, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc) {
		R->child = 0;
		return fr_err(err, "cannot run '%s': %s", R->o->cmd[0], strerror(rc));
	}
	return 0;
}

static void status_line(struct rec *R, double t0, uint64_t *prev_total, double *prev_t)
{
	uint64_t total = 0, lost = 0, bytes = 0;
	double t = now_s();

	for (int c = 0; c < R->ncpus; c++) {
		struct kstats k;
		if (!R->res->cpu[c].online)
			continue;
		if (cpu_stats(R, c, &k, NULL) == 0) {
			total += k.entries + k.read_events;
			lost += k.overrun + k.commit_overrun + k.dropped;
		}
		bytes += R->rd[c].bytes;
	}
	fprintf(stderr, "\rfragreplay record: %.0f s, %" PRIu64 " events, %.0f/s, lost %" PRIu64
			", %.1f MB read   ",
		t - t0, total, t > *prev_t ? (double)(total - *prev_total) / (t - *prev_t) : 0.0, lost,
		(double)bytes / 1e6);
	*prev_total = total;
	*prev_t = t;
}

/* Until COMMAND ends, the duration elapses, or a signal; returns the reason. */
static int wait_for_stop(struct rec *R, double t0, struct fr_error *err)
{
	double deadline = R->o->duration_s > 0 ? t0 + R->o->duration_s : 0, prev_t = t0;
	uint64_t prev_total = 0;

	for (;;) {
		double tick = 1.0, left;
		struct timespec ts;
		siginfo_t si;
		int sig;

		if (deadline) {
			left = deadline - now_s();
			if (left <= 0)
				return 1;
			if (left < tick)
				tick = left;
		}
		ts.tv_sec = (time_t)tick;
		ts.tv_nsec = (long)((tick - (double)ts.tv_sec) * 1e9);
		sig = sigtimedwait(&R->sigs, &si, &ts);
		if (sig == SIGCHLD) {
			int st;
			if (R->child > 0 && waitpid(R->child, &st, WNOHANG) == R->child) {
				R->res->cmd_status = st;
				R->child_reaped = 1;
				return 0;
			}
			continue;
		}
		if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
			/* Ctrl-C reached COMMAND from the terminal already; pass the others on. */
			if (R->child > 0 && !R->child_reaped && sig != SIGINT)
				kill(R->child, sig);
			return sig;
		}
		for (int c = 0; c < R->ncpus; c++)
			if (R->rd[c].err) {
				fr_err(err, "cpu %d: reading the ring buffer failed: %s", c, strerror(R->rd[c].err));
				return -1;
			}
		if (R->o->status_line)
			status_line(R, t0, &prev_total, &prev_t);
	}
}

/* ---- output ------------------------------------------------------------- */

static int write_file_atomic(const char *dir, const char *name, const void *data, size_t len,
			     struct fr_error *err)
{
	char path[4400], tmp[4500];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp-XXXXXX", dir, name);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return fr_err(err, "%s: cannot create: %s", path, strerror(errno));
	if (fchmod(fd, 0644) < 0 || write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		int e = errno;
		close(fd);
		unlink(tmp);
		return fr_err(err, "%s: cannot write: %s", path, strerror(e));
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return fr_err(err, "%s: cannot rename into place: %s", path, strerror(e));
	}
	return 0;
}

static void fill_meta(struct rec *R, struct fr_meta *meta)
{
	struct utsname u;
	struct fr_pagetypeinfo pti;
	struct fr_buddyinfo bi;
	struct fr_error e;
	long ps = sysconf(_SC_PAGESIZE);

	fr_meta_defaults(meta);
	snprintf(meta->path, sizeof(meta->path), "tracefs:%s", R->inst_path);
	snprintf(meta->format, sizeof(meta->format), "tracefs");
	if (uname(&u) == 0)
		snprintf(meta->kernel, sizeof(meta->kernel), "%s", u.release);
	meta->nr_cpus = (uint32_t)R->ncpus;
	if (ps > 0)
		meta->page_size = (uint32_t)ps;
	if (fr_pagetypeinfo_parse(R->txt[1][0].p, R->txt[1][0].len, &pti, "pagetypeinfo.start", &e) == 0 &&
	    pti.pageblock_order > 0)
		meta->pageblock_order = (uint32_t)pti.pageblock_order;
	if (fr_buddyinfo_parse(R->txt[2][0].p, R->txt[2][0].len, &bi, "buddyinfo.start", &e) == 0 &&
	    bi.nr_orders > 1)
		meta->max_order = (uint32_t)bi.nr_orders - 1;
	if (meta->page_size == 4096)
		meta->spb_order = 18;	/* 1 GiB */

	for (int s = 0; s < 2; s++) {
		meta->snaps.blob[s ? FR_SNAP_KPAGEFLAGS_END : FR_SNAP_KPAGEFLAGS_START] =
			(struct fr_blob){ .data = R->kpf_keep[s], .len = R->kpf_keep_len[s], .zstd = 1 };
		for (int i = 0; i < 3; i++)
			meta->snaps.blob[text_id[i][s]] =
				(struct fr_blob){ .data = (unsigned char *)R->txt[i][s].p, .len = R->txt[i][s].len };
	}
	meta->snaps.blob[FR_SNAP_STATS] = (struct fr_blob){ .data = (unsigned char *)R->stats.p, .len = R->stats.len };
}

static int write_output(struct rec *R, struct fr_error *err)
{
	struct fr_meta *meta = calloc(1, sizeof(*meta));
	struct fr_frt_opts fo = { .level = R->o->level };
	struct fr_frt_writer *w;
	struct fr_frt_stats fst;
	int r;

	if (!meta)
		return fr_err(err, "out of memory");
	for (int s = 0; s < 2; s++)
		if (kpf_recompress(&R->kpf[s], &R->kpf_keep[s], &R->kpf_keep_len[s], err) < 0) {
			free(meta);
			return -1;
		}
	fill_meta(R, meta);
	if (R->o->dir) {
		for (int id = 0; id < FR_NSNAPS; id++) {
			const struct fr_blob *b = &meta->snaps.blob[id];
			if (b->data && write_file_atomic(R->o->dir, fr_snap_filename(id), b->data, b->len, err) < 0) {
				free(meta);
				return -1;
			}
		}
	}
	w = fr_frt_create_opts(R->outpath, meta, &fo, err);
	free(meta);		/* the blobs stay ours */
	if (!w)
		return -1;
	r = decode_all(R, w, err);
	if (r < 0) {
		fr_frt_abort(w);
		return r;
	}
	R->res->events = fr_frt_events(w);
	if (fr_frt_finish_stats(w, &fst, err) < 0)
		return -1;
	R->res->out_bytes = fst.bytes;
	return 0;
}

/* ---- fr_record ---------------------------------------------------------- */

static int check_output(struct rec *R, struct fr_error *err)
{
	struct stat st;

	if (R->o->dir) {
		char p[4200];
		if (mkdir(R->o->dir, 0777) < 0 && errno != EEXIST)
			return fr_err(err, "%s: cannot create the recording directory: %s", R->o->dir, strerror(errno));
		if (stat(R->o->dir, &st) < 0 || !S_ISDIR(st.st_mode))
			return fr_err(err, "%s: not a directory", R->o->dir);
		for (const char *const *n = (const char *const[]){ "trace.frt", "trace.dat", NULL }; *n; n++) {
			snprintf(p, sizeof(p), "%s/%s", R->o->dir, *n);
			if (access(p, F_OK) == 0)
				return fr_err(err, "%s exists; refusing to overwrite a recording", p);
		}
		snprintf(R->tmpdir, sizeof(R->tmpdir), "%s", R->o->dir);
		snprintf(R->outpath, sizeof(R->outpath), "%s/trace.frt", R->o->dir);
	} else if (!strcmp(R->o->out, "-")) {
		const char *t = getenv("TMPDIR");
		snprintf(R->tmpdir, sizeof(R->tmpdir), "%s", t && *t ? t : "/tmp");
		snprintf(R->outpath, sizeof(R->outpath), "-");
	} else {
		const char *slash = strrchr(R->o->out, '/');
		if (slash)
			snprintf(R->tmpdir, sizeof(R->tmpdir), "%.*s", (int)(slash - R->o->out) + (slash == R->o->out), R->o->out);
		else
			snprintf(R->tmpdir, sizeof(R->tmpdir), ".");
		if (stat(R->o->out, &st) == 0 && S_ISDIR(st.st_mode))
			return fr_err(err, "%s is a directory (use --dir to write a recording directory)", R->o->out);
		if (access(R->tmpdir, W_OK) < 0)
			return fr_err(err, "%s: cannot write there: %s", R->tmpdir, strerror(errno));
		snprintf(R->outpath, sizeof(R->outpath), "%s", R->o->out);
	}
	return 0;
}

static void cleanup(struct rec *R)
{
	if (R->inst)
		tracefs_trace_off(R->inst);
	stop_readers(R);
	close_readers(R);
	destroy_instance(R);
	stop_guardian(R);
	if (R->rd) {
		for (int c = 0; c < R->ncpus; c++)
			if (R->rd[c].fd >= 0)
				close(R->rd[c].fd);
		free(R->rd);
		R->rd = NULL;
	}
	if (R->child > 0 && !R->child_reaped) {
		int st;
		if (waitpid(R->child, &st, WNOHANG) == R->child) {
			R->res->cmd_status = st;
			R->child_reaped = 1;
		} else {
			R->res->cmd_running = 1;
		}
	}
	if (R->tep)
		tep_free(R->tep);
	ZSTD_freeCCtx(R->kpf_cctx);
	free(R->kpf_in);
	for (int s = 0; s < 2; s++) {
		free(R->kpf[s].p);
		free(R->kpf_keep[s]);
		for (int i = 0; i < 3; i++)
			free(R->txt[i][s].p);
	}
	free(R->stats.p);
	free(R->initial_fds);
	if (R->usr2_set)
		sigaction(SIGUSR2, &R->old_usr2, NULL);
	if (R->mask_set) {
		/* Signals taken synchronously are consumed: do not let them kill the caller. */
		struct timespec zero = { 0, 0 };
		while (sigtimedwait(&R->sigs, NULL, &zero) > 0)
			;
		pthread_sigmask(SIG_SETMASK, &R->oldmask, NULL);
	}
	pthread_mutex_destroy(&R->mu);
	pthread_cond_destroy(&R->cv);
}

void fr_record_result_free(struct fr_record_result *res)
{
	free(res->cpu);
	res->cpu = NULL;
}

int fr_record(const struct fr_record_opts *o, struct fr_record_result *res, struct fr_error *err)
{
	struct rec R;
	double t0, t1, c0, c1, t2, c2;
	int rc = FR_REC_FAIL, why;

	memset(res, 0, sizeof(*res));
	res->cmd_status = -1;
	memset(&R, 0, sizeof(R));
	R.o = o;
	R.res = res;
	R.guardian = -1;
	R.guard_fd = -1;
	R.kinds = o->kinds ? o->kinds : FR_REC_ALL_KINDS;
	pthread_mutex_init(&R.mu, NULL);
	pthread_cond_init(&R.cv, NULL);

	if ((!o->out) == (!o->dir)) {
		fr_err(err, "give one of an output file or a recording directory");
		pthread_mutex_destroy(&R.mu);
		pthread_cond_destroy(&R.cv);
		return FR_REC_FAIL;
	}
	R.ncpus = (int)sysconf(_SC_NPROCESSORS_CONF);
	if (R.ncpus <= 0 || R.ncpus > FR_MAX_CPUS)
		R.ncpus = R.ncpus <= 0 ? 1 : FR_MAX_CPUS;
	res->ncpus = R.ncpus;
	res->cpu = calloc((size_t)R.ncpus, sizeof(*res->cpu));
	if (!res->cpu) {
		fr_err(err, "out of memory");
		pthread_mutex_destroy(&R.mu);
		pthread_cond_destroy(&R.cv);
		return FR_REC_FAIL;
	}

	/* Signals are taken synchronously (sigtimedwait); threads inherit the mask. */
	sigemptyset(&R.sigs);
	sigaddset(&R.sigs, SIGINT);
	sigaddset(&R.sigs, SIGTERM);
	sigaddset(&R.sigs, SIGHUP);
	sigaddset(&R.sigs, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &R.sigs, &R.oldmask);
	R.mask_set = 1;
	remember_initial_fds(&R);

	if (geteuid() != 0) {
		fr_err(err, "must run as root (tracefs instances and /proc/kpageflags need it)");
		rc = FR_REC_UNSUPPORTED;
		goto out;
	}
	if (find_tracefs(&R, err) < 0) {
		rc = FR_REC_UNSUPPORTED;
		goto out;
	}
	if (load_formats(&R, err) < 0) {
		rc = FR_REC_UNSUPPORTED;
		goto out;
	}
	if (check_output(&R, err) < 0)
		goto out;
	warn_stale_instances(&R);
	if (setup_instance(&R, err) < 0 || setup_readers(&R, err) < 0 || setup_snapshots(&R, err) < 0)
		goto out;

	/* Start snapshots: the text files, then kpageflags, then trace at once. */
	t0 = now_s();
	if (snap_texts(&R, 0, err) < 0 || snap_kpageflags(&R, 0, err) < 0)
		goto out;
	res->snap_start_s = now_s() - t0;
	if (abandon_requested(&R)) {
		fr_err(err, "interrupted before recording started");
		rc = FR_REC_INTERRUPTED;
		goto out;
	}
	c0 = cpu_s();
	t0 = now_s();
	if (tracefs_trace_on(R.inst) < 0) {
		fr_err(err, "%s/tracing_on: cannot switch tracing on: %s", R.inst_path, strerror(errno));
		goto out;
	}
	if (o->cmd && o->cmd[0] && spawn_command(&R, err) < 0) {
		rc = FR_REC_UNSUPPORTED;
		goto out;
	}
	why = wait_for_stop(&R, t0, err);
	if (why < 0)
		tracefs_trace_off(R.inst);
	t1 = now_s();
	c1 = cpu_s();
	res->seconds = t1 - t0;
	res->rec_cpu_s = c1 - c0;
	if (o->status_line)
		fprintf(stderr, "\r%70s\r", "");
	if (why < 0)
		goto out;
	res->stopped_by = why;

	/* End snapshots with the readers paused (their writes would allocate
	 * memory); kpageflags with tracing still on, so the trace covers it. */
	set_pause(&R, 1, 0);
	R.kpf_end_begin_ns = mono_ns();
	if (snap_kpageflags(&R, 1, err) < 0) {
		tracefs_trace_off(R.inst);
		goto out;
	}
	R.kpf_end_done_ns = mono_ns();
	tracefs_trace_off(R.inst);
	if (snap_texts(&R, 1, err) < 0)
		goto out;
	stop_readers(&R);
	for (int c = 0; c < R.ncpus; c++)
		if (R.rd[c].err) {
			fr_err(err, "cpu %d: reading the ring buffer failed: %s", c, strerror(R.rd[c].err));
			goto out;
		}
	if (collect_stats(&R, err) < 0)
		goto out;
	close_readers(&R);
	if (destroy_instance(&R) < 0)
		note(&R, "warning: could not remove the tracefs instance %s now; retrying as we exit", R.inst_path);
	t2 = now_s();
	c2 = cpu_s();
	res->stop_s = t2 - t1;
	res->stop_cpu_s = c2 - c1;
	if (abandon_requested(&R)) {
		fr_err(err, "interrupted; the recording was abandoned, nothing written");
		rc = FR_REC_INTERRUPTED;
		goto out;
	}

	rc = write_output(&R, err);
	if (rc < 0)
		goto out;
	res->post_s = now_s() - t2;
	res->post_cpu_s = cpu_s() - c2;

	for (int c = 0; c < R.ncpus; c++) {
		struct fr_record_cpu *pc = &res->cpu[c];
		res->lost += pc->overrun + pc->commit_overrun + pc->dropped;
		res->raw_bytes += pc->raw_bytes;
		if (pc->online && pc->kernel_unknown) {
			note(&R, "note: cpu %d: this kernel's stats have no \"read events\"; the decoded "
				 "events cannot be checked against the kernel's count", c);
		} else if (pc->online && pc->decoded != pc->kernel_entries) {
			res->check_failed = 1;
			res->cpus_mismatched++;
		}
	}
	rc = FR_REC_OK;
out:
	cleanup(&R);
	return rc;
}
