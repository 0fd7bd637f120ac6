// SPDX-License-Identifier: GPL-2.0
/*
 * results_json.c - the results file (schema "fragreplay-results/1",
 * product.md) and the end-state validation against kpageflags.end.
 *
 * Byte-identical output for the same trace and policies: keys sorted, no
 * wall-clock figures (those go to stderr), reals only where the schema has
 * them (times in seconds, indices).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "engine.h"

const char *fr_engine_counter_name(int i);

#define JI(x) json_integer((json_int_t)(x))

static json_t *trace_json(struct fr_replay *r)
{
	const struct fr_meta *meta = r->meta;
	json_t *t = json_object(), *ev = json_object(), *lost = json_object();

	for (int k = 1; k < FR_EV_NKINDS; k++)
		if (k != FR_EV_LOST)
			json_object_set_new(ev, fr_kind_name(k), JI(r->st.kinds[k]));
	for (uint32_t c = 0; c < r->st.nlost; c++)
		if (r->st.lost_by_cpu[c]) {
			char key[16];
			snprintf(key, sizeof(key), "%u", c);
			json_object_set_new(lost, key, JI(r->st.lost_by_cpu[c]));
		}
	json_object_set_new(t, "path", json_string(meta->path));
	json_object_set_new(t, "format", json_string(meta->format));
	json_object_set_new(t, "kernel", json_string(meta->kernel));
	if (meta->buffer[0])
		json_object_set_new(t, "buffer", json_string(meta->buffer));
	json_object_set_new(t, "events", JI(r->st.events));
	json_object_set_new(t, "events_by_type", ev);
	json_object_set_new(t, "duration_s",
			    json_real(r->st.last_ts > r->st.first_ts ? (double)(r->st.last_ts - r->st.first_ts) / 1e9 : 0));
	json_object_set_new(t, "lost_events", JI(r->st.lost_events));
	json_object_set_new(t, "lost_event_markers", JI(r->st.lost_markers));
	json_object_set_new(t, "lost_by_cpu", lost);
	json_object_set_new(t, "duplicate_batched_frees", JI(r->st.dup_batched));
	json_object_set_new(t, "cpus", JI(r->mc.model->geo.nr_cpus));
	{
		json_t *snaps = json_array();
		for (int s = 0; s < FR_NSNAPS; s++)
			if (meta->snaps.blob[s].data)
				json_array_append_new(snaps, json_string(fr_snap_name(s)));
		json_object_set_new(t, "snapshots", snaps);
	}
	return t;
}

static json_t *machine_json(struct fr_replay *r)
{
	const struct fr_model *m = r->mc.model;
	json_t *j = json_object(), *zones = json_array();

	for (unsigned z = 0; z < m->geo.nr_zones; z++) {
		const struct m_zone *mz = &m->zone[z];
		uint64_t usable = 0;
		json_t *labels = json_object();
		for (uint32_t s = mz->z.first_spb; s < mz->z.first_spb + mz->z.nr_spbs; s++)
			usable += m->spb[s].info.usable_pages;
		for (int mt = 0; mt < FRP_NR_MT; mt++)
			if (r->mc.label_blocks[z][mt])
				json_object_set_new(labels, fr_mt_name(mt), JI(r->mc.label_blocks[z][mt]));
		json_array_append_new(zones, json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:o}", "name", mz->name,
						       "start_pfn", (json_int_t)mz->z.start_pfn,
						       "end_pfn", (json_int_t)mz->z.end_pfn,
						       "managed", (json_int_t)mz->z.managed,
						       "usable_pages", (json_int_t)usable,
						       "nr_spbs", (json_int_t)mz->z.nr_spbs,
						       "initial_pageblock_labels", labels));
	}
	json_object_set_new(j, "page_size", JI(r->meta->page_size));
	json_object_set_new(j, "pageblock_order", JI(m->geo.pageblock_order));
	json_object_set_new(j, "max_order", JI(m->geo.max_order));
	json_object_set_new(j, "spb_pages", JI(1ull << m->geo.spb_order));
	json_object_set_new(j, "nr_spbs", JI(m->geo.nr_spbs));
	json_object_set_new(j, "zones", zones);
	json_object_set_new(j, "initial_state", json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I}",
		"source", r->mc.init_source,
		"pageblock_labels_from_trace", (json_int_t)r->mc.trace_labels,
		"allocated_pages", (json_int_t)r->mc.seeded_alloc_pages,
		"free_pages", (json_int_t)r->mc.seeded_free_pages,
		"hole_pages", (json_int_t)r->mc.hole_pages,
		"snapshot_pages_on_pcp_guess", (json_int_t)r->mc.kpf_pcp_guess,
		"snapshot_pages_allocated_before_trace", (json_int_t)r->mc.kpf_late_alloc));
	return j;
}

/* mm/vmstat.c fill_contig_page_info(), unusable_free_index(), __fragmentation_index() */
static json_t *frag_json(const struct m_zone *z, unsigned max_order)
{
	json_t *u = json_array(), *x = json_array();
	uint64_t free_pages = 0, blocks_total = 0;

	for (unsigned o = 0; o <= max_order; o++) {
		free_pages += z->nr_free[o] << o;
		blocks_total += z->nr_free[o];
	}
	for (unsigned order = 0; order <= max_order; order++) {
		uint64_t suitable = 0;
		int64_t ui, fi;
		for (unsigned o = order; o <= max_order; o++)
			suitable += z->nr_free[o] << (o - order);
		ui = free_pages ? (int64_t)((free_pages - (suitable << order)) * 1000 / free_pages) : 1000;
		if (!blocks_total)
			fi = 0;
		else if (suitable)
			fi = -1000;
		else
			fi = 1000 - (int64_t)((1000 + free_pages * 1000 / (1ull << order)) / blocks_total);
		json_array_append_new(u, json_real((double)ui / 1000.0));
		json_array_append_new(x, json_real((double)fi / 1000.0));
	}
	return json_pack("{s:s,s:o,s:o}", "zone", z->name, "unusable_index", u, "extfrag_index", x);
}

/* Pages on per-CPU lists at the end: the sum of every pageset's "count:" in
 * zoneinfo.end (zoneinfo_show_print(), one line per CPU per zone). */
static int64_t pcp_pages_end(const struct fr_meta *meta)
{
	size_t len;
	char *txt = fr_snap_text(&meta->snaps, FR_SNAP_ZONEINFO_END, &len, NULL);
	int64_t sum = 0;

	if (!txt)
		return -1;
	for (char *p = txt; (p = strstr(p, "\n")) != NULL;) {
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!strncmp(p, "count:", 6))
			sum += strtoll(p + 6, NULL, 10);
	}
	free(txt);
	return sum;
}

/* Model free map vs KPF_BUDDY in the end snapshot, pfn by pfn over present
 * pages.  Free pages on per-CPU lists are not KPF_BUDDY in the kernel but are
 * free in a model without per-CPU lists (`recorded`): the kernel's own count
 * of them (zoneinfo.end) explains up to that many "model free, kernel not
 * buddy" pages; without zoneinfo.end, pages whose last traced event was a
 * free or a per-CPU refill are counted instead. */
static json_t *validation_json(struct fr_replay *r, struct fr_run *run)
{
	const struct fr_blob *b = &r->meta->snaps.blob[FR_SNAP_KPAGEFLAGS_END];
	struct fr_model *m = run->m;
	struct fr_error err;
	struct fr_kpf_reader *kr;
	uint64_t buf[4096], pfn = 0, end = m->geo.end_pfn;
	uint64_t compared = 0, agree = 0, model_free_kernel_used = 0, model_used_kernel_free = 0, explained = 0;
	uint64_t chunk_end = 0, changed_during_snapshot = 0;
	int in_free = 0;

	if (!b->data)
		return NULL;
	kr = fr_kpf_open(b, &err);
	if (!kr)
		return json_pack("{s:s}", "error", err.msg);
	while (pfn < end) {
		long n = fr_kpf_read(kr, buf, 4096, &err);
		if (n <= 0)
			break;
		for (long i = 0; i < n && pfn < end; i++, pfn++) {
			uint64_t w = pw_get(m, pfn);
			if (pfn >= chunk_end) {
				unsigned st = PW_STATE(w);
				if (st == PW_FREE || st == PW_ALLOC || st == PW_PCP || st == PW_TAKEN) {
					in_free = st == PW_FREE;
					chunk_end = pfn + (1ull << PW_ORDER(w));
				} else {
					in_free = 0;
					chunk_end = pfn + 1;
				}
			}
			if (PW_STATE(w) == PW_HOLE)
				continue;
			if (r->last_touch && (r->last_touch[pfn] & 0x80)) {
				changed_during_snapshot++;
				continue;
			}
			int kfree = (buf[i] >> KPF_BUDDY) & 1;
			compared++;
			if (kfree == in_free) {
				agree++;
			} else if (in_free) {
				model_free_kernel_used++;

				/* freed or refilled last and never drained: it sat on a per-CPU list */
				if (r->last_touch && ((r->last_touch[pfn] & 0x7f) == 2 || (r->last_touch[pfn] & 0x7f) == 4))
					explained++;
			} else {
				model_used_kernel_free++;
			}
		}
	}
	fr_kpf_close(kr);
	int64_t kpcp = pcp_pages_end(r->meta);
	uint64_t per_page = explained;
	if (kpcp >= 0)
		explained = model_free_kernel_used < (uint64_t)kpcp ? model_free_kernel_used : (uint64_t)kpcp;
	return json_pack("{s:s,s:I,s:I,s:I,s:f,s:I,s:I,s:I,s:I,s:I,s:f}", "against", "kpageflags.end",
			 "pages_changed_while_snapshot_read", (json_int_t)changed_during_snapshot,
			 "pages_compared", (json_int_t)compared, "pages_agree", (json_int_t)agree,
			 "agree_ratio", compared ? (double)agree / (double)compared : 0.0,
			 "model_free_kernel_not_buddy", (json_int_t)model_free_kernel_used,
			 "explained_by_pcp", (json_int_t)explained,
			 "kernel_pcp_pages_end", (json_int_t)kpcp,
			 "last_event_free_or_refill", (json_int_t)per_page,
			 "model_used_kernel_buddy", (json_int_t)model_used_kernel_free,
			 "agree_or_explained_ratio",
			 compared ? (double)(agree + explained) / (double)compared : 0.0);
}

static int ctr_cmp(const void *a, const void *b)
{
	return strcmp(((const struct fr_counter *)a)->name, ((const struct fr_counter *)b)->name);
}

static json_t *run_json(struct fr_replay *r, struct fr_run *run)
{
	json_t *j = json_object(), *params = json_object(), *tl = json_array(), *ctr = json_object();
	json_t *frag = json_array();
	const struct fr_sample *last = run->ntl ? &run->tl[run->ntl - 1] : NULL;

	for (int i = 0; i < run->pi.nparams; i++)
		json_object_set_new(params, run->pi.pol->params[i].name, json_string(run->pi.vals[i]));
	json_object_set_new(j, "policy", json_pack("{s:s,s:o}", "name", run->pi.pol->name, "params", params));
	json_object_set_new(j, "summary", json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
		"tainted_final", (json_int_t)(last ? last->tainted : 0),
		"tainted_max", (json_int_t)run->tainted_max,
		"tainted_live_final", (json_int_t)(last ? last->tainted_live : 0),
		"tainted_live_max", (json_int_t)run->tainted_live_max,
		"tainted_lower_bound_final", (json_int_t)(last ? last->lower_bound : 0),
		"tainted_lower_bound_max", (json_int_t)run->lower_bound_max,
		"gigantic_available_min", (json_int_t)(run->gigantic_min == UINT64_MAX ? 0 : run->gigantic_min),
		"gigantic_available_final", (json_int_t)(last ? last->gigantic : 0),
		"alloc_failures", (json_int_t)run->ctr[C_ALLOC_FAILURES],
		"fresh_taints", (json_int_t)run->m->fresh_taints,
		"check_violations", (json_int_t)(run->ctr[C_CHECK_VIOLATIONS] + run->ctr[C_BAD_PLACEMENTS])));
	if (run->violation[0])
		json_object_set_new(json_object_get(j, "summary"), "first_violation", json_string(run->violation));
	for (size_t i = 0; i < run->ntl; i++) {
		const struct fr_sample *s = &run->tl[i];
		json_array_append_new(tl, json_pack("{s:f,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
			"t", s->t, "events", (json_int_t)s->events, "tainted", (json_int_t)s->tainted,
			"tainted_live", (json_int_t)s->tainted_live, "clean", (json_int_t)s->clean,
			"empty", (json_int_t)s->empty, "free_pages", (json_int_t)s->free_pages,
			"lower_bound", (json_int_t)s->lower_bound, "gigantic_available", (json_int_t)s->gigantic,
			"pcp_pages", (json_int_t)s->pcp_pages));
	}
	json_object_set_new(j, "timeline", tl);
	for (int i = 0; i < NR_ENGINE_COUNTERS; i++)
		json_object_set_new(ctr, fr_engine_counter_name(i), JI(run->ctr[i]));
	json_object_set_new(ctr, "fresh_taints", JI(run->m->fresh_taints));
	json_object_set_new(ctr, "pages_migrated", JI(run->m->pages_migrated));
	json_object_set_new(ctr, "duplicate_batched_frees", JI(r->st.dup_batched));
	json_object_set_new(ctr, "lost_events", JI(r->st.lost_events));
	if (run->npctr)
		qsort(run->pctr, (size_t)run->npctr, sizeof(*run->pctr), ctr_cmp);
	{
		json_t *pc = json_object();
		for (int i = 0; i < run->npctr; i++)
			json_object_set_new(pc, run->pctr[i].name, JI(*run->pctr[i].v));
		json_object_set_new(ctr, "policy", pc);
	}
	json_object_set_new(j, "counters", ctr);
	for (unsigned z = 0; z < run->m->geo.nr_zones; z++)
		json_array_append_new(frag, frag_json(&run->m->zone[z], run->m->geo.max_order));
	json_object_set_new(j, "fragmentation_final", frag);
	{
		json_t *v = validation_json(r, run);
		if (v)
			json_object_set_new(j, "validation", v);
	}
	return j;
}

json_t *fr_replay_json(struct fr_replay *r)
{
	json_t *j = json_object(), *runs = json_array();

	json_object_set_new(j, "schema", json_string("fragreplay-results/1"));
	if (r->partial)
		json_object_set_new(j, "partial", json_true());
	json_object_set_new(j, "trace", trace_json(r));
	json_object_set_new(j, "machine", machine_json(r));
	json_object_set_new(j, "interval_s", json_real((double)r->opts.interval_ns / 1e9));
	for (int k = 0; k < r->nruns; k++)
		json_array_append_new(runs, run_json(r, &r->runs[k]));
	json_object_set_new(j, "runs", runs);
	/* --label-agreement: per allocation, did this run land it in a pageblock
	 * with the label the real kernel's pageblock had (the `recorded` run)? */
	if (r->opts.label_agreement) {
		int rec = -1;
		for (int k = 0; k < r->nruns; k++)
			if (!strcmp(r->runs[k].pi.pol->name, "recorded"))
				rec = k;
		for (int k = 0; rec >= 0 && k < r->nruns; k++) {
			struct fr_run *a = &r->runs[k], *b = &r->runs[rec];
			uint64_t n = 0, same = 0;
			size_t len = a->nlabels < b->nlabels ? a->nlabels : b->nlabels;
			for (size_t i = 0; i < len; i++) {
				if (a->labels[i] == 0xff || b->labels[i] == 0xff)
					continue;
				n++;
				same += a->labels[i] == b->labels[i];
			}
			json_object_set_new(json_array_get(runs, (size_t)k), "label_agreement",
				json_pack("{s:s,s:I,s:I,s:f}", "with", "recorded", "allocs", (json_int_t)n,
					  "same_label", (json_int_t)same, "share", n ? (double)same / (double)n : 0.0));
		}
	}
	return j;
}

int fr_json_write_atomic(json_t *j, const char *path, struct fr_error *err)
{
	char tmp[4200], dir[4096];
	int fd;
	FILE *f;

	if (!strcmp(path, "-")) {
		if (json_dumpf(j, stdout, JSON_INDENT(1) | JSON_SORT_KEYS | JSON_REAL_PRECISION(9)) < 0)
			return fr_err(err, "-: cannot write results");
		fputc('\n', stdout);
		return fflush(stdout) ? fr_err(err, "-: %s", strerror(errno)) : 0;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	snprintf(tmp, sizeof(tmp), "%s/.fragreplay-XXXXXX", dirname(dir));
	fd = mkstemp(tmp);
	if (fd < 0)
		return fr_err(err, "%s: cannot create a temporary file beside it: %s", path, strerror(errno));
	f = fdopen(fd, "w");
	if (!f || json_dumpf(j, f, JSON_INDENT(1) | JSON_SORT_KEYS | JSON_REAL_PRECISION(9)) < 0 ||
	    fputc('\n', f) == EOF || fflush(f) || fsync(fd)) {
		int e = errno;
		if (f)
			fclose(f);
		else
			close(fd);
		unlink(tmp);
		return fr_err(err, "%s: cannot write results: %s", path, strerror(e));
	}
	if (fchmod(fd, 0644) < 0) {
		/* not fatal: mkstemp's 0600 is merely unusual */
	}
	fclose(f);
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return fr_err(err, "%s: cannot rename the results into place: %s", path, strerror(e));
	}
	return 0;
}
