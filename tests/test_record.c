// SPDX-License-Identifier: GPL-2.0
/*
 * test_record.c - `fragreplay record` on this machine: a short real workload
 * recorded loss-free, every decoded event accounted for against the kernel's
 * per-CPU counts, the snapshots present, the recording replayed with
 * `recorded --check` and its end state agreeing with kpageflags.end; Ctrl-C
 * stops cleanly; the instance is removed even after SIGKILL; usage errors,
 * no root and no tracefs give one clear line and exit 2.
 *
 * The recording tests need root and tracefs; they are skipped, saying why,
 * where either is missing.
 */
#include <errno.h>
#include <signal.h>
#include <sys/mount.h>
#include <jansson.h>
#include "fr_test.h"
#include "fr_source.h"

#define TRACEFS "/sys/kernel/tracing"

static char out[1 << 16];

/* NULL if we can record here, else why not. */
static const char *cannot_record(void)
{
	if (geteuid() != 0)
		return "not root (tracefs instances and /proc/kpageflags need it)";
	if (fr_test_exists(TRACEFS "/instances") || fr_test_exists("/sys/kernel/debug/tracing/instances"))
		return NULL;
	/* Mount it as the recorder (libtracefs) would. */
	if (mount("nodev", TRACEFS, "tracefs", 0, NULL) == 0 && fr_test_exists(TRACEFS "/instances"))
		return NULL;
	return "no tracefs (not mounted at " TRACEFS " and mounting it failed)";
}

static const char *instances_dir(void)
{
	return fr_test_exists(TRACEFS "/instances") ? TRACEFS "/instances" : "/sys/kernel/debug/tracing/instances";
}

#define NEED_RECORDING()                                                          \
	do {                                                                      \
		const char *why_ = cannot_record();                               \
		if (why_) {                                                       \
			fprintf(stderr, "skip: cannot record here: %s\n", why_);  \
			skip();                                                   \
		}                                                                 \
	} while (0)

static int run(const char *args)
{
	char cmd[8192];

	snprintf(cmd, sizeof(cmd), "%s/fragreplay %s 2>&1", fr_test_builddir(), args);
	return fr_test_run(cmd, out, sizeof(out));
}

/* ---- usage and environment errors (need neither root nor tracefs) ------- */

static void test_usage_no_output(void **state)
{
	(void)state;
	assert_int_equal(run("record --duration 1"), 2);
	assert_non_null(strstr(out, "-o OUT.frt or --dir DIR"));
	assert_int_equal(run("record -o /tmp/x.frt --dir /tmp/x"), 2);
	assert_non_null(strstr(out, "exclude"));
}

static void test_usage_bad_events(void **state)
{
	(void)state;
	assert_int_equal(run("record -o /tmp/x.frt --events mm_page_alloc,mm_page_frob --duration 1"), 2);
	assert_non_null(strstr(out, "unknown event 'mm_page_frob'"));
	assert_non_null(strstr(out, "mm_page_alloc_extfrag")); /* lists the known ones */
	assert_int_equal(run("record -o /tmp/x.frt --events , --duration 1"), 2);
	assert_non_null(strstr(out, "--events"));
	assert_int_equal(run("record -o /tmp/x.frt --duration soon"), 2);
	assert_non_null(strstr(out, "--duration"));
	assert_int_equal(run("record -o /tmp/x.frt --buffer-kb 0 --duration 1"), 2);
	assert_non_null(strstr(out, "--buffer-kb"));
}

static void test_not_root(void **state)
{
	char cmd[8192];

	(void)state;
	if (geteuid() != 0) {
		assert_int_equal(run("record -o /tmp/fragreplay-test-nonroot.frt --duration 1"), 2);
	} else {
		if (fr_test_run("command -v setpriv >/dev/null 2>&1", NULL, 0) != 0) {
			fprintf(stderr, "skip: root, and no setpriv to drop privileges with\n");
			skip();
		}
		snprintf(cmd, sizeof(cmd),
			 "setpriv --reuid=65534 --regid=65534 --clear-groups %s/fragreplay record "
			 "-o /tmp/fragreplay-test-nonroot.frt --duration 1 2>&1", fr_test_builddir());
		assert_int_equal(fr_test_run(cmd, out, sizeof(out)), 2);
	}
	assert_non_null(strstr(out, "must run as root"));
	assert_null(strchr(strchr(out, '\n') + 1, '\n')); /* one line */
	assert_false(fr_test_exists("/tmp/fragreplay-test-nonroot.frt"));
}

static void test_no_tracefs(void **state)
{
	char *dir = fr_test_tmpdir(), cmd[8192];

	(void)state;
	if (geteuid() != 0) {
		fr_test_rmrf(dir);
		free(dir);
		fprintf(stderr, "skip: not root (the root check comes before the tracefs one)\n");
		skip();
	}
	/* An empty directory standing in for the tracefs mount. */
	snprintf(cmd, sizeof(cmd), "FRAGREPLAY_TRACEFS=%s %s/fragreplay record -o %s/x.frt --duration 1 2>&1",
		 dir, fr_test_builddir(), dir);
	assert_int_equal(fr_test_run(cmd, out, sizeof(out)), 2);
	assert_non_null(strstr(out, "no tracefs"));
	assert_false(fr_test_exists(strcat(strcpy(cmd, dir), "/x.frt")));
	fr_test_rmrf(dir);
	free(dir);
}

/* ---- recording ---------------------------------------------------------- */

struct cpu_line {
	unsigned long long events, kernel, overrun;
};

/* Parse the recorder's "cpuN events=X kernel_entries=Y overrun=Z" lines. */
static int parse_cpu_lines(const char *text, struct cpu_line *cl, int max)
{
	int n = 0;
	for (const char *p = strstr(text, "record: cpu"); p; p = strstr(p + 1, "record: cpu")) {
		int cpu;
		struct cpu_line c;
		if (sscanf(p, "record: cpu%d events=%llu kernel_entries=%llu overrun=%llu", &cpu, &c.events,
			   &c.kernel, &c.overrun) == 4 && cpu >= 0 && cpu < max) {
			cl[cpu] = c;
			if (cpu + 1 > n)
				n = cpu + 1;
		}
	}
	return n;
}

static unsigned long long stats_value(const char *stats, int cpu, const char *key)
{
	char pat[128];
	const char *p;

	snprintf(pat, sizeof(pat), "/per_cpu/cpu%d/stats:%s:", cpu, key);
	p = strstr(stats, pat);
	return p ? strtoull(p + strlen(pat), NULL, 10) : ~0ull;
}

static void test_record_workload(void **state)
{
	char *dir, rdir[1024], cmd[8192], f[1100];
	static char info[1 << 20];
	struct cpu_line cl[FR_MAX_CPUS];
	unsigned long long kernel_total = 0, per_cpu[FR_MAX_CPUS] = { 0 }, n_lost = 0;
	json_t *j, *v;
	json_error_t je;
	int ncpus, rc;

	(void)state;
	NEED_RECORDING();
	dir = fr_test_tmpdir();
	assert_non_null(dir);
	snprintf(rdir, sizeof(rdir), "%s/rec", dir);
	snprintf(cmd, sizeof(cmd),
		 "%s/fragreplay record --dir %s -- sh -c 'tar c /usr/include 2>/dev/null | gzip -1 >/dev/null' 2>&1",
		 fr_test_builddir(), rdir);
	rc = fr_test_run(cmd, out, sizeof(out));
	if (rc != 0)
		fail_msg("%s: exit %d: %s", cmd, rc, out);
	fprintf(stderr, "%s", out);
	assert_non_null(strstr(out, ", lost 0;"));
	assert_null(strstr(out, "SELF-CHECK FAILED"));

	/* The recorder's own per-CPU figures: decoded == the kernel's, nothing overrun. */
	memset(cl, 0, sizeof(cl));
	ncpus = parse_cpu_lines(out, cl, FR_MAX_CPUS);
	assert_true(ncpus > 0);
	for (int c = 0; c < ncpus; c++) {
		assert_int_equal(cl[c].events, cl[c].kernel);
		assert_int_equal(cl[c].overrun, 0);
		kernel_total += cl[c].kernel;
	}
	assert_true(kernel_total > 1000);

	/* The stats snapshot says the same as the printed lines (read events + entries). */
	{
		FILE *sf;
		size_t n;
		snprintf(f, sizeof(f), "%s/stats", rdir);
		sf = fopen(f, "r");
		assert_non_null(sf);
		n = fread(info, 1, sizeof(info) - 1, sf);
		info[n] = 0;
		fclose(sf);
		for (int c = 0; c < ncpus; c++)
			assert_int_equal(stats_value(info, c, "read events") + stats_value(info, c, "entries"),
					 cl[c].kernel);
	}

	/* info: the same total, no loss, every snapshot present. */
	snprintf(cmd, sizeof(cmd), "%s/fragreplay info --json %s 2>&1", fr_test_builddir(), rdir);
	assert_int_equal(fr_test_run(cmd, info, sizeof(info)), 0);
	j = json_loads(info, 0, &je);
	if (!j)
		fail_msg("info --json: not JSON: %s", je.text);
	assert_int_equal(json_integer_value(json_object_get(j, "events_total")), kernel_total);
	assert_int_equal(json_integer_value(json_object_get(j, "lost_events")), 0);
	assert_int_equal(json_integer_value(json_object_get(j, "out_of_order_events")), 0);
	v = json_object_get(j, "snapshots");
	assert_int_equal(json_array_size(v), FR_NSNAPS);
	for (int s = 0; s < FR_NSNAPS; s++) {
		int found = 0;
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e)
			found |= !strcmp(json_string_value(e), fr_snap_name(s));
		if (!found)
			fail_msg("snapshot %s missing from info", fr_snap_name(s));
	}
	json_decref(j);

	/* Per CPU, through the library: the recording holds exactly what the kernel delivered. */
	{
		struct fr_error err;
		struct fr_source *src = fr_source_open(rdir, NULL, &err);
		static struct fr_event buf[8192];
		ssize_t n;
		if (!src)
			fail_msg("%s", err.msg);
		while ((n = fr_source_read(src, buf, 8192, &err)) > 0)
			for (ssize_t i = 0; i < n; i++) {
				if (buf[i].kind == FR_EV_LOST)
					n_lost++;
				else if (buf[i].cpu < FR_MAX_CPUS)
					per_cpu[buf[i].cpu]++;
			}
		assert_int_equal(n, 0);
		fr_source_close(src);
		assert_int_equal(n_lost, 0);
		for (int c = 0; c < ncpus; c++)
			assert_int_equal(per_cpu[c], cl[c].kernel);
	}

	/* The same from the single .frt, whose snapshots travel inside it. */
	snprintf(cmd, sizeof(cmd), "%s/fragreplay info --json %s/trace.frt 2>&1", fr_test_builddir(), rdir);
	assert_int_equal(fr_test_run(cmd, info, sizeof(info)), 0);
	j = json_loads(info, 0, &je);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "events_total")), kernel_total);
	assert_int_equal(json_array_size(json_object_get(j, "snapshots")), FR_NSNAPS);
	json_decref(j);

	/* Replay with `recorded`: invariants hold, the end state matches kpageflags.end. */
	snprintf(f, sizeof(f), "%s/r.json", dir);
	snprintf(cmd, sizeof(cmd), "%s/fragreplay replay %s -p recorded --check -q -o %s 2>&1",
		 fr_test_builddir(), rdir, f);
	rc = fr_test_run(cmd, out, sizeof(out));
	if (rc != 0)
		fail_msg("%s: exit %d: %s", cmd, rc, out);
	j = json_load_file(f, 0, &je);
	assert_non_null(j);
	v = json_object_get(json_array_get(json_object_get(j, "runs"), 0), "validation");
	assert_non_null(v);
	{
		double ratio = json_real_value(json_object_get(v, "agree_or_explained_ratio"));
		fprintf(stderr, "validation: agree_or_explained_ratio %.6f\n", ratio);
		if (ratio < 0.99)
			fail_msg("end state agrees on only %.4f of pfns (want >= 0.99)", ratio);
	}
	json_decref(j);

	/* A recording directory is never overwritten. */
	snprintf(cmd, sizeof(cmd), "%s/fragreplay record --dir %s --duration 1 2>&1", fr_test_builddir(), rdir);
	assert_int_equal(fr_test_run(cmd, out, sizeof(out)), 2);
	assert_non_null(strstr(out, "refusing to overwrite"));

	fr_test_rmrf(dir);
	free(dir);
}

/* Start `fragreplay record ARGS...` in the background and wait for its instance. */
static pid_t start_recorder(const char *outfile, char *inst, size_t cap)
{
	char bin[4200];
	pid_t pid;

	snprintf(bin, sizeof(bin), "%s/fragreplay", fr_test_builddir());
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);
		if (fd >= 0)
			dup2(fd, 2);
		execl(bin, bin, "record", "-q", "-o", outfile, "--duration", "120", (char *)NULL);
		_exit(127);
	}
	snprintf(inst, cap, "%s/fragreplay-%d", instances_dir(), (int)pid);
	for (int i = 0; i < 300 && !fr_test_exists(inst); i++)
		usleep(50000);
	if (!fr_test_exists(inst)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		fail_msg("the recorder never created %s", inst);
	}
	return pid;
}

/* Wait until the instance traces (start snapshot taken, tracing_on = 1). */
static void wait_tracing(pid_t pid, const char *inst)
{
	char f[4300], c = '0';

	snprintf(f, sizeof(f), "%s/tracing_on", inst);
	for (int i = 0; i < 600 && c != '1'; i++) {
		FILE *fp = fopen(f, "r");
		c = '0';
		if (fp) {
			c = (char)fgetc(fp);
			fclose(fp);
		}
		if (c != '1')
			usleep(50000);
	}
	if (c != '1') {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		fail_msg("%s never switched on", f);
	}
}

static int wait_gone(const char *path, double seconds)
{
	for (int i = 0; i < (int)(seconds * 20); i++) {
		if (!fr_test_exists(path))
			return 1;
		usleep(50000);
	}
	return !fr_test_exists(path);
}

static void test_sigint_stops_cleanly(void **state)
{
	char *dir, f[4200], inst[4200], cmd[8192];
	pid_t pid;
	int st;

	(void)state;
	NEED_RECORDING();
	dir = fr_test_tmpdir();
	snprintf(f, sizeof(f), "%s/int.frt", dir);
	pid = start_recorder(f, inst, sizeof(inst));
	wait_tracing(pid, inst);
	usleep(300000);
	kill(pid, SIGINT);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_false(fr_test_exists(inst));
	assert_true(fr_test_exists(f));
	snprintf(cmd, sizeof(cmd), "%s/fragreplay info %s 2>&1", fr_test_builddir(), f);
	assert_int_equal(fr_test_run(cmd, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "kpageflags.end"));
	fr_test_rmrf(dir);
	free(dir);
}

static void test_sigkill_removes_instance(void **state)
{
	char *dir, f[4200], inst[4200];
	pid_t pid;

	(void)state;
	NEED_RECORDING();
	dir = fr_test_tmpdir();
	snprintf(f, sizeof(f), "%s/killed.frt", dir);
	pid = start_recorder(f, inst, sizeof(inst));
	usleep(300000);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	/* The guardian process removes it once our trace_pipe_raw descriptors are closed. */
	if (!wait_gone(inst, 10))
		fail_msg("%s still exists 10 s after the recorder was killed", inst);
	assert_false(fr_test_exists(f));
	fr_test_rmrf(dir);
	free(dir);
}

static void test_command_cannot_run(void **state)
{
	char *dir, cmd[8192];

	(void)state;
	NEED_RECORDING();
	dir = fr_test_tmpdir();
	snprintf(cmd, sizeof(cmd), "%s/fragreplay record -o %s/x.frt -- /nonexistent/fragreplay-cmd 2>&1",
		 fr_test_builddir(), dir);
	assert_int_equal(fr_test_run(cmd, out, sizeof(out)), 2);
	assert_non_null(strstr(out, "cannot run '/nonexistent/fragreplay-cmd'"));
	snprintf(cmd, sizeof(cmd), "%s/x.frt", dir);
	assert_false(fr_test_exists(cmd));
	/* A failing command: the recording is kept, the exit status says so. */
	snprintf(cmd, sizeof(cmd), "%s/fragreplay record -q -o %s/y.frt -- sh -c 'exit 3' 2>&1",
		 fr_test_builddir(), dir);
	assert_int_equal(fr_test_run(cmd, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "status 3"));
	snprintf(cmd, sizeof(cmd), "%s/y.frt", dir);
	assert_true(fr_test_exists(cmd));
	fr_test_rmrf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_usage_no_output),
		cmocka_unit_test(test_usage_bad_events),
		cmocka_unit_test(test_not_root),
		cmocka_unit_test(test_no_tracefs),
		cmocka_unit_test(test_record_workload),
		cmocka_unit_test(test_sigint_stops_cleanly),
		cmocka_unit_test(test_sigkill_removes_instance),
		cmocka_unit_test(test_command_cannot_run),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
