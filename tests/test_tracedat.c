// SPDX-License-Identifier: GPL-2.0
/*
 * test_tracedat.c - the trace.dat reader's decoder processes
 * (parsers/tracedat.c): one child or several, pre-forked rewinds, a child
 * that dies.  Streams are compared event by event through the fr_source API.
 */
#include <dirent.h>
#include <signal.h>
#include <sys/types.h>
#include "fr_test.h"
#include "fr_source.h"

/* Open PATH with the decoder environment given (NULL: unset). */
static struct fr_source *open_with(const char *path, const char *procs, const char *prefork)
{
	struct fr_error err;
	struct fr_source *s;

	if (procs)
		setenv("FRAGREPLAY_DECODE_PROCS", procs, 1);
	else
		unsetenv("FRAGREPLAY_DECODE_PROCS");
	if (prefork)
		setenv("FRAGREPLAY_DECODE_PREFORK", prefork, 1);
	else
		unsetenv("FRAGREPLAY_DECODE_PREFORK");
	s = fr_source_open(path, &(struct fr_open_opts){ .will_rewind = 1 }, &err);	/* as replay */
	unsetenv("FRAGREPLAY_DECODE_PROCS");
	unsetenv("FRAGREPLAY_DECODE_PREFORK");
	if (!s)
		fail_msg("%s: %s", path, err.msg);
	return s;
}

/*
 * Read A and B to their ends in lockstep (different batch sizes, so that
 * reads straddle the decoders' pipe buffers differently) and compare every
 * event.  Returns the number of events.
 */
static uint64_t compare_streams(struct fr_source *a, struct fr_source *b, const char *what)
{
	static struct fr_event ea[3001], eb[4096];
	size_t na = 0, ia = 0, nb = 0, ib = 0;
	uint64_t n = 0;
	struct fr_error err;

	for (;;) {
		if (ia == na) {
			ssize_t r = fr_source_read(a, ea, 3001, &err);
			if (r < 0)
				fail_msg("%s: first stream: %s", what, err.msg);
			na = (size_t)r;
			ia = 0;
		}
		if (ib == nb) {
			ssize_t r = fr_source_read(b, eb, 1000 + (n % 3000), &err);
			if (r < 0)
				fail_msg("%s: second stream: %s", what, err.msg);
			nb = (size_t)r;
			ib = 0;
		}
		if (na == 0 || nb == 0) {
			if (na != nb)
				fail_msg("%s: streams end at different lengths (after %llu events)", what,
					 (unsigned long long)n);
			return n;
		}
		if (memcmp(&ea[ia], &eb[ib], sizeof(ea[0])))
			fail_msg("%s: event %llu differs: ts %llu cpu %u kind %u pfn %llu vs ts %llu cpu %u kind %u pfn %llu",
				 what, (unsigned long long)n,
				 (unsigned long long)ea[ia].ts, ea[ia].cpu, ea[ia].kind, (unsigned long long)ea[ia].pfn,
				 (unsigned long long)eb[ib].ts, eb[ib].cpu, eb[ib].kind, (unsigned long long)eb[ib].pfn);
		ia++;
		ib++;
		n++;
	}
}

/* Child processes of PARENT (the decoders, when PARENT is us: nothing else
 * here forks and keeps them). */
static int children_of(pid_t parent, pid_t *pids, int cap)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d))) {
		char path[300], buf[1024];
		FILE *f;
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		size_t l = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[l] = 0;
		/* pid (comm) state ppid ...: comm may hold spaces and parentheses */
		char *p = strrchr(buf, ')');
		char state;
		int ppid;
		if (!p || sscanf(p + 1, " %c %d", &state, &ppid) != 2 || ppid != (int)parent)
			continue;
		if (n < cap)
			pids[n] = (pid_t)atoi(de->d_name);
		n++;
	}
	closedir(d);
	return n;
}

static int children(pid_t *pids, int cap)
{
	return children_of(getpid(), pids, cap);
}

/* Children alive when the test started (left by an earlier test that
 * failed half-way): not this test's to account for. */
static pid_t before[64];
static int nbefore;

static int setup_children(void **state)
{
	(void)state;
	nbefore = children(before, 64);
	return 0;
}

static void expect_no_children(const char *when)
{
	pid_t p[64];
	int n = children(p, 64);

	for (int i = 0; i < n && i < 64; i++) {
		int old = 0;
		for (int j = 0; j < nbefore && j < 64; j++)
			old |= before[j] == p[i];
		if (!old)
			fail_msg("%s: decoder process %d left behind", when, (int)p[i]);
	}
}

static const char *mixed_path(char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/mixed-6.18/trace.dat", fr_test_shared_traces());
	return fr_test_exists(buf) ? buf : NULL;
}

/* One decoder vs the default (and vs 8, more than the CPUs with data, so the
 * parallel merge is exercised on any machine): the same stream, twice. */
static void check_file(const char *path, uint64_t want)
{
	const char *par[] = { NULL, "8", "2" };
	char what[4300];

	for (unsigned i = 0; i < sizeof(par) / sizeof(par[0]); i++) {
		struct fr_source *one = open_with(path, "1", "0");
		struct fr_source *many = open_with(path, par[i], NULL);
		struct fr_error err;

		snprintf(what, sizeof(what), "%s, 1 decoder vs %s", path, par[i] ? par[i] : "default");
		assert_int_equal(compare_streams(one, many, what), want);
		/* the second pass (pre-forked decoders on the parallel side) */
		assert_int_equal(fr_source_rewind(one, &err), 0);
		assert_int_equal(fr_source_rewind(many, &err), 0);
		snprintf(what, sizeof(what), "%s, 1 decoder vs %s, after rewind", path, par[i] ? par[i] : "default");
		assert_int_equal(compare_streams(one, many, what), want);
		assert_int_equal(fr_source_meta(one)->nr_cpus, fr_source_meta(many)->nr_cpus);
		assert_string_equal(fr_source_meta(one)->buffer, fr_source_meta(many)->buffer);
		fr_source_close(one);
		fr_source_close(many);
		expect_no_children(what);
	}
}

static void test_parallel_same_stream_thp_slab(void **state)
{
	(void)state;
	check_file("traces/thp-slab/trace.dat", 131763);
}

static void test_parallel_same_stream_mixed(void **state)
{
	char buf[1024];
	const char *f = mixed_path(buf, sizeof(buf));
	(void)state;
	if (!f) {
		fprintf(stderr, "skip: %s/mixed-6.18 missing\n", fr_test_shared_traces());
		skip();
	}
	check_file(f, 963133);
}

/* ---- an adversarial file: more CPUs than decoders, timestamp ties across
 * CPUs, per-CPU timestamps that go backwards, records that are not ours ---- */

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *d = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (d = malloc((size_t)n)) && fread(d, 1, (size_t)n, f) != (size_t)n) {
		free(d);
		d = NULL;
	}
	*len = d ? (size_t)n : 0;
	fclose(f);
	return d;
}

static long find(const unsigned char *d, size_t len, size_t from, const void *pat, size_t plen)
{
	for (size_t i = from; i + plen <= len; i++)
		if (!memcmp(d + i, pat, plen))
			return (long)i;
	return -1;
}

static uint64_t rd64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

/*
 * From a version 6 trace.dat with its data in one instance buffer on 2
 * CPUs (what `trace-cmd convert --file-version 6` makes of thp-slab), write
 * one with 4 CPUs: CPU 2 a copy of CPU 0 (every timestamp tied across two
 * CPUs), CPU 3 CPU 1's pages in shuffled order (its timestamps jump back at
 * page boundaries: ring-buffer pages are self-contained), and
 * mm_page_alloc_zone_locked renamed in the formats so that a quarter of the
 * records produce no event.  Layout (trace-cmd.dat.v6(5)): ... cpus (4
 * bytes), "options  \0", options (BUFFER: offset of the instance's
 * "flyrecord\0"; CPUCOUNT), "flyrecord\0" + (offset, size) per CPU + clock
 * for the top buffer, the same for the instance, padding, page-aligned data.
 * Returns 0 if the input does not have that layout.
 */
static int craft_4cpu(const char *in, const char *out, unsigned seed)
{
	const size_t pg = 4096;
	size_t len;
	unsigned char *d = slurp(in, &len);
	long top, buf, opt, bo, cc, zl;
	uint32_t two = 2, four = 4;
	unsigned char pat[16];
	int ok = 0;

	if (!d)
		return 0;
	top = find(d, len, 0, "flyrecord", 10);
	buf = top < 0 ? -1 : find(d, len, (size_t)top + 1, "flyrecord", 10);
	opt = find(d, len, 0, "options  ", 10);
	zl = find(d, len, 0, "name: mm_page_alloc_zone_locked\n", 32);
	memcpy(pat, &(uint64_t){ (uint64_t)buf }, 8);
	bo = buf < 0 ? -1 : find(d, len, (size_t)opt, pat, 8);
	memcpy(pat, &(uint16_t){ 8 }, 2);	/* TRACECMD_OPTION_CPUCOUNT */
	memcpy(pat + 2, &(uint32_t){ 4 }, 4);
	memcpy(pat + 6, &two, 4);
	cc = opt < 0 ? -1 : find(d, len, (size_t)opt, pat, 10);
	if (top < 0 || buf < 0 || opt < 4 || zl < 0 || bo < 0 || cc < 0 || cc > buf ||
	    memcmp(d + opt - 4, &two, 4) || rd64(d + top + 10) || rd64(d + top + 18) ||
	    rd64(d + top + 26) || rd64(d + top + 34))
		goto out;
	uint64_t off0 = rd64(d + buf + 10), sz0 = rd64(d + buf + 18);
	uint64_t off1 = rd64(d + buf + 26), sz1 = rd64(d + buf + 34);
	uint64_t data = off0 < off1 ? off0 : off1;
	size_t clock_top = (size_t)(buf - (top + 42)), rest = (size_t)(data - (uint64_t)(buf + 42));
	if (sz0 % pg || sz1 % pg || off0 % pg || off1 % pg || off0 + sz0 > len || off1 + sz1 > len ||
	    (uint64_t)(buf + 42 + 64) > data)
		goto out;
	/* the header area from the top flyrecord to the data, with 2 more CPUs in each table */
	size_t end = (len + pg - 1) / pg * pg, hl = (size_t)(data - (uint64_t)top);
	unsigned char *h = calloc(1, hl + 64), *q = h;
	uint64_t e[8] = { off0, sz0, off1, sz1, end, sz0, end + sz0, sz1 };
	memcpy(q, "flyrecord", 10);
	q += 10 + 64;
	memcpy(q, d + top + 42, clock_top);
	q += clock_top;
	uint64_t newbuf = (uint64_t)top + (uint64_t)(q - h);
	memcpy(q, "flyrecord", 10);
	memcpy(q + 10, e, sizeof(e));
	memcpy(q + 10 + sizeof(e), d + buf + 42, rest - 64);	/* clock, then padding */
	memcpy(d + top, h, hl);
	free(h);
	memcpy(d + bo, &newbuf, 8);
	memcpy(d + opt - 4, &four, 4);
	memcpy(d + cc + 6, &four, 4);
	d[zl + 30] = 'X';
	FILE *f = fopen(out, "wb");
	if (!f)
		goto out;
	fwrite(d, 1, len, f);
	for (size_t i = len; i < end; i++)
		fputc(0, f);
	fwrite(d + off0, 1, sz0, f);
	size_t np = sz1 / pg, *perm = malloc(np * sizeof(*perm));
	for (size_t i = 0; i < np; i++)
		perm[i] = i;
	for (size_t i = np; i > 1; i--) {	/* Fisher-Yates with a fixed LCG */
		seed = seed * 1103515245u + 12345u;
		size_t j = (seed >> 8) % i, x = perm[i - 1];
		perm[i - 1] = perm[j];
		perm[j] = x;
	}
	for (size_t i = 0; i < np; i++)
		fwrite(d + off1 + perm[i] * pg, 1, pg, f);
	free(perm);
	ok = fclose(f) == 0;
out:
	free(d);
	return ok;
}

/*
 * Merging per-decoder streams equals one decoder merging every CPU even
 * here: 4 CPUs over 2 or 3 decoders (several CPUs per decoder, planned by
 * data size), ties, backward timestamps and skipped records (which need the
 * TP_SKIP markers: without them some of these seeds come out in another
 * order).
 */
static void test_parallel_same_stream_adversarial(void **state)
{
	char *dir = fr_test_tmpdir(), v6[4300], f[4300], cmd[9000];
	(void)state;

	if (fr_test_run("command -v trace-cmd >/dev/null", NULL, 0) != 0) {
		fr_test_rmrf(dir);
		free(dir);
		skip();
	}
	snprintf(v6, sizeof(v6), "%s/v6.dat", dir);
	snprintf(f, sizeof(f), "%s/4cpu.dat", dir);
	snprintf(cmd, sizeof(cmd), "trace-cmd convert -i traces/thp-slab/trace.dat -o %s --file-version 6 >/dev/null 2>&1", v6);
	assert_int_equal(fr_test_run(cmd, NULL, 0), 0);
	for (unsigned seed = 1; seed <= 6; seed++) {
		if (!craft_4cpu(v6, f, seed))
			fail_msg("trace-cmd convert wrote a version 6 layout this test does not know");
		const char *par[] = { "2", "3", "4" };
		for (unsigned i = 0; i < 3; i++) {
			struct fr_source *one = open_with(f, "1", "0");
			struct fr_source *many = open_with(f, par[i], "0");
			char what[128];
			assert_int_equal(fr_source_meta(one)->nr_cpus, 4);
			snprintf(what, sizeof(what), "4-CPU file, seed %u, 1 decoder vs %s", seed, par[i]);
			/* 2 x 131763 records, less 2 x 32371 zone_locked ones */
			assert_int_equal(compare_streams(one, many, what), 198784);
			fr_source_close(one);
			fr_source_close(many);
		}
	}
	expect_no_children("after close");
	fr_test_rmrf(dir);
	free(dir);
}

/* Rewinds mid-stream, a third pass (no pre-fork left: fresh decoders), and
 * the stream of each pass is the first pass's stream again. */
static void test_rewind(void **state)
{
	const char *path = "traces/thp-slab/trace.dat";
	struct fr_source *ref = open_with(path, "1", "0");
	struct fr_source *s = open_with(path, "2", NULL);
	static struct fr_event buf[1000];
	struct fr_error err;
	(void)state;

	assert_int_equal(fr_source_read(s, buf, 1000, &err) > 0, 1);	/* a partial first pass */
	assert_int_equal(fr_source_rewind(s, &err), 0);
	assert_int_equal(compare_streams(ref, s, "pass 2 after a partial pass 1"), 131763);
	for (int pass = 3; pass <= 4; pass++) {
		char what[64];
		assert_int_equal(fr_source_rewind(s, &err), 0);
		assert_int_equal(fr_source_rewind(ref, &err), 0);
		snprintf(what, sizeof(what), "pass %d", pass);
		assert_int_equal(compare_streams(ref, s, what), 131763);
	}
	/* rewinding an ended pass, then closing with the decoders still blocked */
	assert_int_equal(fr_source_rewind(s, &err), 0);
	assert_int_equal(fr_source_read(s, buf, 10, &err), 10);
	fr_source_close(s);
	fr_source_close(ref);
	expect_no_children("after close");
}

/* A decoder killed mid-stream: one line naming the file, no hang, no leak. */
static void kill_mid_stream(const char *procs, int after_rewind)
{
	const char *path = "traces/thp-slab/trace.dat";
	/* every child is this pass's: no pre-fork, or the pre-fork already used */
	struct fr_source *s = open_with(path, procs, after_rewind ? NULL : "0");
	static struct fr_event buf[1000];
	struct fr_error err;
	pid_t pids[64];
	ssize_t r;
	int n;

	if (after_rewind)
		assert_int_equal(fr_source_rewind(s, &err), 0);
	assert_int_equal(fr_source_read(s, buf, 1000, &err) > 0, 1);
	n = children(pids, 64);
	assert_true(n > nbefore);
	for (int i = 0; i < n && i < 64; i++) {
		int old = 0;
		for (int j = 0; j < nbefore && j < 64; j++)
			old |= before[j] == pids[i];
		if (!old)
			kill(pids[i], SIGKILL);
	}
	uint64_t total = 0;
	while ((r = fr_source_read(s, buf, 1000, &err)) > 0)
		total += (uint64_t)r;
	if (r == 0)
		fail_msg("procs=%s: the stream ended cleanly after %llu more events with its decoders killed",
			 procs ? procs : "default", (unsigned long long)total);
	assert_true(total < 131763);
	if (!strstr(err.msg, path) || !strstr(err.msg, "signal 9") || strchr(err.msg, '\n'))
		fail_msg("procs=%s: not a one-line error naming the file and the signal: %s",
			 procs ? procs : "default", err.msg);
	/* the error sticks: no more events, and a rewind starts over cleanly */
	assert_int_equal(fr_source_read(s, buf, 1000, &err), 0);
	assert_int_equal(fr_source_rewind(s, &err), 0);
	struct fr_source *ref = open_with(path, "1", "0");
	assert_int_equal(compare_streams(ref, s, "after a killed decoder"), 131763);
	fr_source_close(ref);
	fr_source_close(s);
	expect_no_children("after close");
}

static void test_killed_decoder(void **state)
{
	(void)state;
	kill_mid_stream("1", 0);
	kill_mid_stream("2", 0);
	kill_mid_stream(NULL, 1);
}

/* `fragreplay info` whose decoders are killed: exit 2, one line naming the file. */
static void test_killed_decoder_cli(void **state)
{
	char exe[1024], out[8192];
	int pfd[2], st = 0, killed = 0;
	pid_t pid;
	(void)state;

	snprintf(exe, sizeof(exe), "%s/fragreplay", fr_test_builddir());
	assert_int_equal(pipe(pfd), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(pfd[1], 2);
		close(pfd[0]);
		close(pfd[1]);
		if (!freopen("/dev/null", "w", stdout))
			_exit(127);
		execl(exe, exe, "info", "traces/thp-slab/trace.dat", (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	/* kill its decoders as soon as they exist (they then spend ~0.3 s in
	 * tracecmd_open_fd(): still there when we look) */
	for (int i = 0; i < 5000 && !killed; i++) {
		pid_t kids[64];
		int n = children_of(pid, kids, 64);
		for (int k = 0; k < n && k < 64; k++)
			killed += kill(kids[k], SIGKILL) == 0;
		if (!killed)
			usleep(1000);
	}
	size_t got = 0;
	ssize_t r;
	while (got + 1 < sizeof(out) && (r = read(pfd[0], out + got, sizeof(out) - 1 - got)) > 0)
		got += (size_t)r;
	out[got] = 0;
	close(pfd[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(killed > 0);
	fr_test_strip_sanitizer_lines(out);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 2)
		fail_msg("fragreplay info: status 0x%x, want exit 2: %s", st, out);
	if (!strstr(out, "traces/thp-slab/trace.dat") || !strstr(out, "libtracecmd crashed"))
		fail_msg("error does not name the file and the crash: %s", out);
	char *nl = strchr(out, '\n');
	if (!nl || nl[1])
		fail_msg("error is not exactly one line: %s", out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_parallel_same_stream_thp_slab, setup_children),
		cmocka_unit_test_setup(test_parallel_same_stream_mixed, setup_children),
		cmocka_unit_test_setup(test_parallel_same_stream_adversarial, setup_children),
		cmocka_unit_test_setup(test_rewind, setup_children),
		cmocka_unit_test_setup(test_killed_decoder, setup_children),
		cmocka_unit_test_setup(test_killed_decoder_cli, setup_children),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
