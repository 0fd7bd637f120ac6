// SPDX-License-Identifier: GPL-2.0
/*
 * synth.c - machine-scale synthetic traces (see synth.h).
 *
 * Learning (fr_synth_profile_from_trace): one streamed pass over a
 * recording.  The "event clock" counts successful mm_page_alloc and
 * mm_page_free events (a batched free's duplicate marker does not tick it),
 * so lifetimes are measured in the same unit the generator produces.
 *
 * Generating (fr_synth_run), per event:
 *   1. the duplicate mm_page_free_batched of the previous free, if it drew one;
 *   2. else the free of a short-lived block whose lifetime is over
 *      (a min-heap keyed by due event);
 *   3. else, once the live footprint has reached its target, the free of a
 *      long-lived block drawn uniformly (swap-remove: O(1)), which gives the
 *      long tail a memoryless shape;
 *   4. else an allocation: (order, mt, gfp) drawn from the joint histogram
 *      (alias table, O(1)); placed by a small buddy allocator (the model of
 *      model.c, one Normal zone of --mem): smallest free chunk of its own
 *      migratetype's zone lists first, else the kernel's fallback order
 *      (claiming the pageblock as __rmqueue_claim does when the request may
 *      claim, else stealing the smallest chunk); short-lived with the class's
 *      recorded probability, its lifetime drawn from the class's histogram.
 *      If nothing fits (fragmentation), long-lived blocks are freed first, as
 *      reclaim would, and the same request is retried.
 * Before the target is reached (the ramp) steps 1, 2 and 4 alone run, as on
 * a machine filling its page cache, with some would-be short-lived blocks
 * kept long-lived so that the ramp ends early in the trace (ramp_setup()).
 * Memory: the model (6 bytes per page) plus 8 bytes per long-lived block
 * and 16 per short-lived one.  The .frt writer runs on its own thread.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "batchfree.h"
#include "fr_source.h"
#include "frt.h"
#include "model.h"
#include "pfnmap.h"
#include "synth.h"

#ifndef FR_VERSION
#define FR_VERSION "unknown"
#endif

#define NCLASS FR_SYNTH_NCLASS
#define NB FR_SYNTH_LIFE_BUCKETS
#define SYN_MAX_COMBOS 65536
#define DEFAULT_RATE 16800.0		/* small-tar: 63608 alloc+free events in 3.78 s */
#define DEFAULT_LIVE 0.22		/* small-tar: Normal zone 21.6% used at start */
#define MAX_LIVE 0.9

/* ---- profile ------------------------------------------------------------ */

static void profile_init(struct fr_synth_profile *p)
{
	memset(p, 0, sizeof(*p));
	p->live_fraction = DEFAULT_LIVE;
	p->rate = DEFAULT_RATE;
}

void fr_synth_profile_free(struct fr_synth_profile *p)
{
	free(p->alloc_cpu);
	free(p->free_cpu);
	free(p->combo);
	memset(p, 0, sizeof(*p));
}

static int set_cpus(struct fr_synth_profile *p, unsigned n)
{
	uint64_t *a, *f;

	if (n <= p->nr_cpus)
		return 0;
	a = realloc(p->alloc_cpu, n * sizeof(*a));
	if (!a)
		return -1;
	p->alloc_cpu = a;
	f = realloc(p->free_cpu, n * sizeof(*f));
	if (!f)
		return -1;
	p->free_cpu = f;
	memset(a + p->nr_cpus, 0, (n - p->nr_cpus) * sizeof(*a));
	memset(f + p->nr_cpus, 0, (n - p->nr_cpus) * sizeof(*f));
	p->nr_cpus = n;
	return 0;
}

static int combo_add(struct fr_synth_profile *p, struct pfnmap *idx, unsigned order, int mt,
		     uint64_t gfp, uint64_t count)
{
	uint64_t key = (gfp << 8) | ((uint64_t)order << 4) | (uint64_t)mt;
	uint64_t *v;

	if (gfp >> 56)
		key = ((uint64_t)1 << 63) | ((gfp & ((1ull << 55) - 1)) << 8) | ((uint64_t)order << 4) | (uint64_t)mt;
	v = pfnmap_get(idx, key);
	if (v) {
		p->combo[*v].count += count;
		return 0;
	}
	if (p->ncombo >= SYN_MAX_COMBOS) {
		/* absurdly many gfp variants: fold into the first combo of this class */
		for (size_t i = 0; i < p->ncombo; i++)
			if (p->combo[i].order == order && p->combo[i].mt == mt) {
				p->combo[i].count += count;
				return 0;
			}
	}
	if (p->ncombo == p->capcombo) {
		size_t nc = p->capcombo ? p->capcombo * 2 : 64;
		struct fr_synth_combo *n = realloc(p->combo, nc * sizeof(*n));
		if (!n)
			return -1;
		p->combo = n;
		p->capcombo = nc;
	}
	p->combo[p->ncombo] = (struct fr_synth_combo){ .gfp = gfp, .count = count, .order = (uint8_t)order,
						       .mt = (int8_t)mt };
	if (pfnmap_put(idx, key, p->ncombo) < 0)
		return -1;
	p->ncombo++;
	return 0;
}

static unsigned log2_bucket(uint64_t v)
{
	unsigned b = v ? 63u - (unsigned)__builtin_clzll(v) : 0;
	return b < NB ? b : NB - 1;
}

/* Used share of managed memory at the start: the Normal zones, else all. */
static double live_from_zoneinfo(const struct fr_meta *meta)
{
	struct fr_zoneinfo zi;
	size_t len;
	char *txt;
	uint64_t man = 0, fr = 0, man_all = 0, fr_all = 0;

	if (!meta->snaps.blob[FR_SNAP_ZONEINFO_START].data)
		return -1;
	txt = fr_snap_text(&meta->snaps, FR_SNAP_ZONEINFO_START, &len, NULL);
	if (!txt)
		return -1;
	if (fr_zoneinfo_parse(txt, len, &zi, "zoneinfo.start", NULL) < 0) {
		free(txt);
		return -1;
	}
	free(txt);
	for (int i = 0; i < zi.nr_zones; i++) {
		const struct fr_zone_info *z = &zi.zone[i];
		uint64_t f = z->pages_free < z->managed ? z->pages_free : z->managed;
		man_all += z->managed;
		fr_all += f;
		if (!strcmp(z->name, "Normal")) {
			man += z->managed;
			fr += f;
		}
	}
	if (!man) {
		man = man_all;
		fr = fr_all;
	}
	return man ? (double)(man - fr) / (double)man : -1;
}

int fr_synth_profile_from_trace(struct fr_synth_profile *p, const char *path, struct fr_error *err)
{
	static struct fr_event buf[8192];
	struct fr_source *src;
	const struct fr_meta *meta;
	struct pfnmap live, idx;
	struct batchfree bf;
	uint64_t clock = 0, first_ts = 0, last_ts = 0;
	uint32_t max_cpu = 0;
	ssize_t n;
	int rc = -1;

	profile_init(p);
	src = fr_source_open(path, NULL, err);
	if (!src)
		return -1;
	meta = fr_source_meta(src);
	snprintf(p->source, sizeof(p->source), "%s", path);
	snprintf(p->kernel, sizeof(p->kernel), "%s", meta->kernel);
	batchfree_init(&bf);
	if (pfnmap_init(&live, 1 << 16) < 0 || pfnmap_init(&idx, 256) < 0 ||
	    set_cpus(p, meta->nr_cpus ? meta->nr_cpus : 1) < 0) {
		fr_err(err, "%s: out of memory", path);
		goto out_maps;
	}
	while ((n = fr_source_read(src, buf, sizeof(buf) / sizeof(buf[0]), err)) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			const struct fr_event *e = &buf[i];
			uint64_t v;
			int is_free = 0;

			if (e->kind != FR_EV_ALLOC && e->kind != FR_EV_FREE && e->kind != FR_EV_FREE_BATCHED)
				continue;
			if (e->cpu >= FR_SYNTH_MAX_CPUS)
				continue;
			if (e->cpu >= p->nr_cpus && set_cpus(p, e->cpu + 1) < 0) {
				fr_err(err, "%s: out of memory", path);
				goto out_maps;
			}
			if (e->kind == FR_EV_ALLOC) {
				if (e->pfn == FR_PFN_NONE) {
					p->failed++;
					continue;
				}
				if (e->order >= FR_SYNTH_NORD || e->mt < 0 || e->mt >= FR_SYNTH_NMT)
					continue;
				unsigned c = (unsigned)e->order * FR_SYNTH_NMT + (unsigned)e->mt;
				clock++;
				p->allocs++;
				p->alloc_cpu[e->cpu]++;
				p->cls_allocs[c]++;
				if (combo_add(p, &idx, e->order, e->mt, e->gfp, 1) < 0 ||
				    pfnmap_put(&live, e->pfn, clock << 8 | c) < 0) {
					fr_err(err, "%s: out of memory", path);
					goto out_maps;
				}
			} else if (e->kind == FR_EV_FREE) {
				batchfree_note(&bf, e->cpu, e->pfn);
				is_free = 1;
			} else if (batchfree_is_dup(&bf, e->cpu, e->pfn)) {
				p->batched++;
				continue;
			} else {
				is_free = 1;	/* a batched marker alone: a free */
			}
			if (is_free) {
				clock++;
				p->frees++;
				p->free_cpu[e->cpu]++;
				if (pfnmap_del(&live, e->pfn, &v)) {
					unsigned c = (unsigned)(v & 0xff);
					p->cls_freed[c]++;
					p->life[c][log2_bucket(clock - (v >> 8))]++;
				}
			}
			if (!first_ts)
				first_ts = e->ts;
			if (e->ts > last_ts)
				last_ts = e->ts;
			if (e->cpu > max_cpu)
				max_cpu = e->cpu;
		}
	}
	if (n < 0)
		goto out_maps;
	if (!p->allocs) {
		fr_err(err, "%s: no successful mm_page_alloc events to learn from", path);
		goto out_maps;
	}
	if (last_ts > first_ts)
		p->rate = (double)clock / ((double)(last_ts - first_ts) / 1e9);
	{
		double lf = live_from_zoneinfo(meta);
		if (lf >= 0)
			p->live_fraction = lf;
	}
	rc = 0;
out_maps:
	pfnmap_free(&live);
	pfnmap_free(&idx);
	batchfree_free(&bf);
	fr_source_close(src);
	if (rc < 0)
		fr_synth_profile_free(p);
	return rc;
}

json_t *fr_synth_profile_json(const struct fr_synth_profile *p)
{
	json_t *j = json_object(), *mix = json_array(), *life = json_array();
	json_t *ac = json_array(), *fc = json_array();

	for (unsigned c = 0; c < p->nr_cpus; c++) {
		json_array_append_new(ac, json_integer((json_int_t)p->alloc_cpu[c]));
		json_array_append_new(fc, json_integer((json_int_t)p->free_cpu[c]));
	}
	for (size_t i = 0; i < p->ncombo; i++)
		json_array_append_new(mix, json_pack("[i,i,I,I]", p->combo[i].order, p->combo[i].mt,
						     (json_int_t)p->combo[i].gfp, (json_int_t)p->combo[i].count));
	for (unsigned c = 0; c < NCLASS; c++) {
		if (!p->cls_allocs[c] && !p->cls_freed[c])
			continue;
		json_t *h = json_array();
		for (unsigned b = 0; b < NB; b++)
			if (p->life[c][b])
				json_array_append_new(h, json_pack("[i,I]", b, (json_int_t)p->life[c][b]));
		json_array_append_new(life, json_pack("{s:i,s:i,s:I,s:I,s:o}", "order", c / FR_SYNTH_NMT,
						      "mt", c % FR_SYNTH_NMT, "allocs", (json_int_t)p->cls_allocs[c],
						      "freed", (json_int_t)p->cls_freed[c], "log2_events", h));
	}
	json_object_set_new(j, "schema", json_string("fragreplay-synth-profile/1"));
	json_object_set_new(j, "source", json_string(p->source));
	json_object_set_new(j, "kernel", json_string(p->kernel));
	json_object_set_new(j, "nr_cpus", json_integer(p->nr_cpus));
	json_object_set_new(j, "rate", json_real(p->rate));
	json_object_set_new(j, "live_fraction", json_real(p->live_fraction));
	json_object_set_new(j, "allocs", json_integer((json_int_t)p->allocs));
	json_object_set_new(j, "frees", json_integer((json_int_t)p->frees));
	json_object_set_new(j, "batched_frees", json_integer((json_int_t)p->batched));
	json_object_set_new(j, "failed_allocs", json_integer((json_int_t)p->failed));
	json_object_set_new(j, "alloc_cpu", ac);
	json_object_set_new(j, "free_cpu", fc);
	json_object_set_new(j, "mix", mix);
	json_object_set_new(j, "lifetimes", life);
	return j;
}

static int jnum(const json_t *o, const char *k, double *v)
{
	const json_t *x = json_object_get(o, k);
	if (!json_is_number(x))
		return -1;
	*v = json_number_value(x);
	return 0;
}

static int ju64(const json_t *x, uint64_t *v)
{
	if (!json_is_integer(x) || json_integer_value(x) < 0)
		return -1;
	*v = (uint64_t)json_integer_value(x);
	return 0;
}

int fr_synth_profile_from_json(struct fr_synth_profile *p, const json_t *j, const char *what,
			       struct fr_error *err)
{
	const json_t *ac = json_object_get(j, "alloc_cpu"), *fc = json_object_get(j, "free_cpu");
	const json_t *mix = json_object_get(j, "mix"), *life = json_object_get(j, "lifetimes");
	struct pfnmap idx;
	const char *s;
	size_t i;
	double d;

	profile_init(p);
	if (!json_is_object(j) || !json_is_array(ac) || !json_is_array(fc) || !json_is_array(mix) ||
	    !json_is_array(life) || json_array_size(ac) != json_array_size(fc) || !json_array_size(ac) ||
	    json_array_size(ac) > FR_SYNTH_MAX_CPUS)
		return fr_err(err, "%s: not a synth profile (alloc_cpu, free_cpu, mix, lifetimes)", what);
	if (pfnmap_init(&idx, 256) < 0 || set_cpus(p, (unsigned)json_array_size(ac)) < 0)
		return fr_err(err, "%s: out of memory", what);
	if ((s = json_string_value(json_object_get(j, "source"))))
		snprintf(p->source, sizeof(p->source), "%s", s);
	if ((s = json_string_value(json_object_get(j, "kernel"))))
		snprintf(p->kernel, sizeof(p->kernel), "%s", s);
	if (jnum(j, "rate", &p->rate) < 0 || jnum(j, "live_fraction", &p->live_fraction) < 0)
		goto bad;
	if (jnum(j, "allocs", &d) == 0)
		p->allocs = (uint64_t)d;
	if (jnum(j, "frees", &d) == 0)
		p->frees = (uint64_t)d;
	if (jnum(j, "batched_frees", &d) == 0)
		p->batched = (uint64_t)d;
	for (i = 0; i < p->nr_cpus; i++)
		if (ju64(json_array_get(ac, i), &p->alloc_cpu[i]) < 0 ||
		    ju64(json_array_get(fc, i), &p->free_cpu[i]) < 0)
			goto bad;
	for (i = 0; i < json_array_size(mix); i++) {
		const json_t *r = json_array_get(mix, i);
		uint64_t o, mt, gfp, cnt;
		if (json_array_size(r) != 4 || ju64(json_array_get(r, 0), &o) < 0 ||
		    ju64(json_array_get(r, 1), &mt) < 0 || ju64(json_array_get(r, 2), &gfp) < 0 ||
		    ju64(json_array_get(r, 3), &cnt) < 0 || o >= FR_SYNTH_NORD || mt >= FR_SYNTH_NMT)
			goto bad;
		if (combo_add(p, &idx, (unsigned)o, (int)mt, gfp, cnt) < 0)
			goto bad;
	}
	for (i = 0; i < json_array_size(life); i++) {
		const json_t *r = json_array_get(life, i), *h = json_object_get(r, "log2_events");
		uint64_t o, mt;
		if (ju64(json_object_get(r, "order"), &o) < 0 || ju64(json_object_get(r, "mt"), &mt) < 0 ||
		    o >= FR_SYNTH_NORD || mt >= FR_SYNTH_NMT || !json_is_array(h))
			goto bad;
		unsigned c = (unsigned)(o * FR_SYNTH_NMT + mt);
		if (ju64(json_object_get(r, "allocs"), &p->cls_allocs[c]) < 0 ||
		    ju64(json_object_get(r, "freed"), &p->cls_freed[c]) < 0)
			goto bad;
		for (size_t k = 0; k < json_array_size(h); k++) {
			const json_t *e = json_array_get(h, k);
			uint64_t b, cnt;
			if (json_array_size(e) != 2 || ju64(json_array_get(e, 0), &b) < 0 ||
			    ju64(json_array_get(e, 1), &cnt) < 0 || b >= NB)
				goto bad;
			p->life[c][b] += cnt;
		}
	}
	pfnmap_free(&idx);
	if (!p->ncombo)
		goto bad;
	return 0;
bad:
	pfnmap_free(&idx);
	fr_synth_profile_free(p);
	return fr_err(err, "%s: malformed synth profile", what);
}

/*
 * The built-in profile: `fragreplay synth --like traces/small-tar
 * --print-profile` (tar | gzip -1 of /usr/share/doc on a 2-CPU 24 GiB
 * machine, Linux 6.18, see traces/README.md).
 */
static const char fr_synth_default_profile[] =
	"{\"schema\":\"fragreplay-synth-profile/1\",\"source\":\"traces/small-tar\",\"kernel\":\"\",\"nr_cpus\":2,\"rate"
	"\":16825.6077,\"live_fraction\":0.216211734,\"allocs\":40567,\"frees\":23041,\"batched_frees\":553,\"faile"
	"d_allocs\":0,\"alloc_cpu\":[38989,1578],\"free_cpu\":[668,22373],\"mix\":[[0,0,4459968,191],[0,1,131425"
	"0,355],[0,0,10240,52],[0,1,1313994,199],[0,1,1387594,12418],[0,1,1346632,20],[0,0,272384,532],[0"
	",2,337936,12],[0,1,265288,2],[0,0,1346624,1031],[0,2,1387600,29],[0,0,339136,6],[0,0,862208,9],["
	"0,0,5246146,22059],[2,1,1387594,1858],[3,1,1387594,160],[1,1,1387594,321],[4,1,1387594,335],[2,2"
	",860240,425],[0,2,339152,273],[0,2,337968,54],[5,1,1387594,32],[6,1,1387594,28],[1,2,337936,120]"
	",[0,0,339008,34],[2,1,1391818,1],[1,1,1391818,1],[0,1,1318090,2],[0,0,298048,2],[7,1,1387594,1],"
	"[8,1,1387594,2],[9,1,1387594,2],[0,0,601280,1]],\"lifetimes\":[{\"order\":0,\"mt\":0,\"allocs\":23917,\"f"
	"reed\":22267,\"log2_events\":[[0,20],[1,30],[2,43],[3,328],[4,16594],[5,4533],[6,211],[7,103],[8,79"
	"],[9,168],[10,95],[11,59],[15,4]]},{\"order\":0,\"mt\":1,\"allocs\":12996,\"freed\":561,\"log2_events\":[["
	"0,8],[2,1],[3,3],[4,15],[5,55],[6,78],[7,41],[8,19],[9,4],[10,31],[11,38],[12,1],[14,1],[15,266]"
	"]},{\"order\":0,\"mt\":2,\"allocs\":368,\"freed\":0,\"log2_events\":[]},{\"order\":1,\"mt\":1,\"allocs\":322,\"fr"
	"eed\":0,\"log2_events\":[]},{\"order\":1,\"mt\":2,\"allocs\":120,\"freed\":0,\"log2_events\":[]},{\"order\":2,\""
	"mt\":1,\"allocs\":1859,\"freed\":0,\"log2_events\":[]},{\"order\":2,\"mt\":2,\"allocs\":425,\"freed\":0,\"log2_e"
	"vents\":[]},{\"order\":3,\"mt\":1,\"allocs\":160,\"freed\":0,\"log2_events\":[]},{\"order\":4,\"mt\":1,\"allocs\""
	":335,\"freed\":0,\"log2_events\":[]},{\"order\":5,\"mt\":1,\"allocs\":32,\"freed\":0,\"log2_events\":[]},{\"ord"
	"er\":6,\"mt\":1,\"allocs\":28,\"freed\":0,\"log2_events\":[]},{\"order\":7,\"mt\":1,\"allocs\":1,\"freed\":0,\"log"
	"2_events\":[]},{\"order\":8,\"mt\":1,\"allocs\":2,\"freed\":0,\"log2_events\":[]},{\"order\":9,\"mt\":1,\"allocs"
	"\":2,\"freed\":0,\"log2_events\":[]}]}";

int fr_synth_profile_default(struct fr_synth_profile *p, struct fr_error *err)
{
	json_error_t je;
	json_t *j = json_loads(fr_synth_default_profile, 0, &je);
	int rc;

	if (!j)
		return fr_err(err, "built-in synth profile: %s (at line %d)", je.text, je.line);
	rc = fr_synth_profile_from_json(p, j, "built-in synth profile", err);
	json_decref(j);
	if (rc == 0)
		snprintf(p->source, sizeof(p->source), "built-in (traces/small-tar)");
	return rc;
}

/* ---- random numbers: xoshiro256** seeded by splitmix64 ------------------- */

struct rng {
	uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

/* uniform in [0, n) */
static inline uint64_t rng_below(struct rng *r, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)rng_next(r) * n) >> 64);
}

/* ---- alias tables (Vose): O(1) draws from a discrete distribution -------- */

struct alias {
	uint32_t n;
	uint32_t *thr;		/* keep i when the low 32 random bits are below thr[i] */
	uint32_t *alt;
};

static void alias_free(struct alias *a)
{
	free(a->thr);
	free(a->alt);
	memset(a, 0, sizeof(*a));
}

/* Build from n weights (n >= 1); all-zero weights give a uniform draw. */
static int alias_build(struct alias *a, const uint64_t *w, size_t n)
{
	double sum = 0, *sc = malloc(n * sizeof(*sc));
	uint32_t *small = malloc(n * sizeof(*small)), *large = malloc(n * sizeof(*large));
	size_t ns = 0, nl = 0;

	memset(a, 0, sizeof(*a));
	a->thr = malloc(n * sizeof(*a->thr));
	a->alt = malloc(n * sizeof(*a->alt));
	if (!sc || !small || !large || !a->thr || !a->alt) {
		free(sc);
		free(small);
		free(large);
		alias_free(a);
		return -1;
	}
	a->n = (uint32_t)n;
	for (size_t i = 0; i < n; i++)
		sum += (double)w[i];
	for (size_t i = 0; i < n; i++) {
		sc[i] = sum > 0 ? (double)w[i] * (double)n / sum : 1.0;
		if (sc[i] < 1.0)
			small[ns++] = (uint32_t)i;
		else
			large[nl++] = (uint32_t)i;
	}
	while (ns && nl) {
		uint32_t s = small[--ns], l = large[--nl];
		a->thr[s] = (uint32_t)(sc[s] * 4294967296.0);
		a->alt[s] = l;
		sc[l] = (sc[l] + sc[s]) - 1.0;
		if (sc[l] < 1.0)
			small[ns++] = l;
		else
			large[nl++] = l;
	}
	while (nl) {
		uint32_t l = large[--nl];
		a->thr[l] = UINT32_MAX;
		a->alt[l] = l;
	}
	while (ns) {		/* rounding leftovers */
		uint32_t s = small[--ns];
		a->thr[s] = UINT32_MAX;
		a->alt[s] = s;
	}
	free(sc);
	free(small);
	free(large);
	return 0;
}

static inline uint32_t alias_draw(const struct alias *a, uint64_t r)
{
	uint32_t i = (uint32_t)(((r >> 32) * a->n) >> 32);
	return (uint32_t)r < a->thr[i] ? i : a->alt[i];
}

/* ---- the generator ------------------------------------------------------- */

struct hent {
	uint64_t due;		/* event clock at which the block is freed */
	uint64_t ent;		/* pfn << 4 | order */
};

#define OUTBUF 16384		/* events per hand-off to the writer thread */
#define NQ 4			/* batches in flight */
#define RECLAIM_MAX 4096

/*
 * The .frt writer (column encoding + zstd) costs about as much as the
 * generator itself, so it runs on its own thread: the generator fills
 * batches, the writer thread compresses and writes them, in order.
 */
struct wq {
	pthread_mutex_t lock;
	pthread_cond_t cv;
	struct fr_event *buf[NQ];
	size_t n[NQ];
	uint64_t head, tail;	/* batches handed over / written */
	int done, failed;
	struct fr_frt_writer *w;
	struct fr_error err;
};

static void *writer_main(void *arg)
{
	struct wq *q = arg;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		while (q->tail == q->head && !q->done)
			pthread_cond_wait(&q->cv, &q->lock);
		if (q->tail == q->head)
			break;
		size_t slot = q->tail % NQ, n = q->n[slot];
		pthread_mutex_unlock(&q->lock);
		int rc = q->failed ? 0 : fr_frt_write(q->w, q->buf[slot], n, &q->err);
		pthread_mutex_lock(&q->lock);
		if (rc < 0)
			q->failed = 1;
		q->tail++;
		pthread_cond_broadcast(&q->cv);
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

struct gen {
	struct fr_model *m;
	struct rng rng;
	struct alias mix, acpu, fcpu, life[NCLASS];
	uint32_t pshort[NCLASS];	/* P(short-lived) * 2^32 */
	uint32_t pshort_ramp[NCLASS];	/* the same during the ramp */
	int ramp_done;			/* the target was reached once */
	double ramp_q;			/* share of short-lived kept during the ramp */
	uint64_t last_free_pfn;		/* for the batched duplicate */
	uint32_t last_free_cpu;
	uint64_t *lng;			/* long-lived blocks */
	size_t nlng, caplng;
	struct hent *heap;		/* short-lived blocks, min-heap on due */
	size_t nheap, capheap;
	uint64_t live_pages, target, tick, ts;
	uint64_t gap[256];
	uint64_t batch_thr;		/* P(duplicate batched marker) * 2^32 */
	int uniform_cpus;
	unsigned nr_cpus;
	struct fr_event *out;		/* the batch being filled: q.buf[q.head % NQ] */
	size_t nout;
	uint64_t produced;
	struct wq q;
	struct fr_synth_stats *st;
};

static int heap_push(struct gen *g, uint64_t due, uint64_t ent)
{
	size_t i;

	if (g->nheap == g->capheap) {
		size_t nc = g->capheap ? g->capheap * 2 : 4096;
		struct hent *n = realloc(g->heap, nc * sizeof(*n));
		if (!n)
			return -1;
		g->heap = n;
		g->capheap = nc;
	}
	i = g->nheap++;
	while (i) {
		size_t parent = (i - 1) / 2;
		if (g->heap[parent].due <= due)
			break;
		g->heap[i] = g->heap[parent];
		i = parent;
	}
	g->heap[i] = (struct hent){ due, ent };
	return 0;
}

static uint64_t heap_pop(struct gen *g)
{
	uint64_t top = g->heap[0].ent;
	struct hent last = g->heap[--g->nheap];
	size_t i = 0, n = g->nheap;

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && g->heap[c + 1].due < g->heap[c].due)
			c++;
		if (last.due <= g->heap[c].due)
			break;
		g->heap[i] = g->heap[c];
		i = c;
	}
	if (n)
		g->heap[i] = last;
	return top;
}

static int lng_push(struct gen *g, uint64_t ent)
{
	if (g->nlng == g->caplng) {
		size_t nc = g->caplng ? g->caplng * 2 : 65536;
		uint64_t *n = realloc(g->lng, nc * sizeof(*n));
		if (!n)
			return -1;
		g->lng = n;
		g->caplng = nc;
	}
	g->lng[g->nlng++] = ent;
	return 0;
}

/* Hand the filled batch to the writer thread; wait for a free one. */
static int flush(struct gen *g, struct fr_error *err)
{
	struct wq *q = &g->q;
	int failed;

	pthread_mutex_lock(&q->lock);
	if (g->nout) {
		q->n[q->head % NQ] = g->nout;
		q->head++;
		pthread_cond_broadcast(&q->cv);
	}
	while (q->head - q->tail >= NQ && !q->failed)
		pthread_cond_wait(&q->cv, &q->lock);
	failed = q->failed;
	pthread_mutex_unlock(&q->lock);
	g->out = q->buf[q->head % NQ];
	g->nout = 0;
	if (failed)
		return fr_err(err, "%s", q->err.msg);
	return 0;
}

/* Wait until the writer thread has written everything and stop it. */
static int drain(struct gen *g, pthread_t tid, struct fr_error *err)
{
	struct wq *q = &g->q;
	int failed;

	pthread_mutex_lock(&q->lock);
	if (g->nout) {
		q->n[q->head % NQ] = g->nout;
		q->head++;
		g->nout = 0;
	}
	q->done = 1;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->lock);
	pthread_join(tid, NULL);
	failed = q->failed;
	if (failed)
		return fr_err(err, "%s", q->err.msg);
	return 0;
}

static inline struct fr_event *emit(struct gen *g)
{
	struct fr_event *e = &g->out[g->nout++];
	memset(e, 0, sizeof(*e));
	e->ts = g->ts;
	g->produced++;
	return e;
}

/* Head of the (emulated) zone free list of (order, mt), FRP_NONE if empty. */
static inline uint64_t list_head(const struct fr_model *m, unsigned o, int mt)
{
	uint32_t si = m->zone[0].zq_head[o][mt];
	if (si == UINT32_MAX)
		return FRP_NONE;
	const struct m_spb *s = &m->spb[si];
	return s->head[o][mt] == M_NIL ? FRP_NONE : s->base + s->head[o][mt];
}

static const int fallbacks[3][2] = {
	[FRP_MT_UNMOVABLE] = { FRP_MT_RECLAIMABLE, FRP_MT_MOVABLE },
	[FRP_MT_MOVABLE] = { FRP_MT_RECLAIMABLE, FRP_MT_UNMOVABLE },
	[FRP_MT_RECLAIMABLE] = { FRP_MT_UNMOVABLE, FRP_MT_MOVABLE },
};

/* A small buddy allocator: __rmqueue_smallest, then __rmqueue_claim / _steal. */
static uint64_t place(struct fr_model *m, unsigned order, int mt)
{
	unsigned maxo = m->geo.max_order, pbo = m->geo.pageblock_order;
	int lt = mt < FRP_MT_PCPTYPES ? mt : FRP_MT_UNMOVABLE;
	uint64_t h;

	for (unsigned o = order; o <= maxo; o++)
		if ((h = list_head(m, o, lt)) != FRP_NONE)
			return model_take(m, h, order);
	if (order >= pbo / 2 || lt != FRP_MT_MOVABLE) {
		/* claim: the largest chunk of a fallback type, its pageblock relabelled */
		for (int o = (int)maxo; o >= (int)order; o--)
			for (int i = 0; i < 2; i++)
				if ((h = list_head(m, (unsigned)o, fallbacks[lt][i])) != FRP_NONE) {
					model_move_freepages(m, h, lt);
					return model_take(m, h, order);
				}
	} else {
		/* steal: the smallest chunk of a fallback type, labels untouched */
		for (unsigned o = order; o <= maxo; o++)
			for (int i = 0; i < 2; i++)
				if ((h = list_head(m, o, fallbacks[lt][i])) != FRP_NONE)
					return model_take(m, h, order);
	}
	return FRP_NONE;
}

static inline unsigned draw_cpu(struct gen *g, const struct alias *a)
{
	uint64_t r = rng_next(&g->rng);
	return g->uniform_cpus ? (unsigned)(((r >> 32) * g->nr_cpus) >> 32) : alias_draw(a, r);
}

/* Free a live block: model, event, maybe its batched duplicate (next call). */
static int do_free(struct gen *g, uint64_t ent, int *pend_batched, struct fr_error *err)
{
	uint64_t pfn = ent >> 4;
	unsigned order = (unsigned)(ent & 0xf);
	struct fr_event *e;

	model_free_block(g->m, pfn, order);
	g->live_pages -= 1ull << order;
	e = emit(g);
	e->kind = FR_EV_FREE;
	e->pfn = pfn;
	e->order = (uint8_t)order;
	e->cpu = draw_cpu(g, &g->fcpu);
	g->last_free_pfn = pfn;
	g->last_free_cpu = e->cpu;
	g->tick++;
	g->st->frees++;
	if (g->batch_thr && (uint32_t)rng_next(&g->rng) < g->batch_thr)
		*pend_batched = 1;
	return g->nout == OUTBUF ? flush(g, err) : 0;
}

static void zoneinfo_text(char *buf, size_t cap, uint64_t pages, unsigned nr_cpus, uint64_t *wmin,
			  uint64_t *wlow, uint64_t *whigh, unsigned *batch, unsigned *hmin, unsigned *hmax)
{
	/* mm/page_alloc.c: calculate_min_free_kbytes(), raised to khugepaged's
	 * recommended minimum (2 + MIGRATE_PCPTYPES^2 pageblocks per zone),
	 * __setup_per_zone_wmarks(), zone_batchsize(), zone_highsize(). */
	uint64_t kb = pages * 4, minkb = (uint64_t)sqrt((double)kb * 16.0), rec = 512 * 11 * 4;
	uint64_t tmp, b;
	size_t n;

	if (rec > kb / 20)
		rec = kb / 20;
	if (minkb < rec)
		minkb = rec;
	if (minkb < 128)
		minkb = 128;
	if (minkb > 262144)
		minkb = 262144;
	*wmin = minkb / 4;
	tmp = pages * 10 / 10000;
	if (tmp < *wmin / 4)
		tmp = *wmin / 4;
	*wlow = *wmin + tmp;
	*whigh = *wlow + tmp;
	b = pages >> 10;
	if (b > 256)
		b = 256;
	b /= 4;
	b = b + b / 2;
	while (b & (b - 1))
		b &= b - 1;
	*batch = b > 1 ? (unsigned)(b - 1) : 1;
	*hmin = (unsigned)(*wlow / nr_cpus);
	*hmax = (unsigned)(pages / 8 / nr_cpus);
	if (*hmin < *batch * 4)
		*hmin = *batch * 4;
	if (*hmax < *batch * 4)
		*hmax = *batch * 4;
	n = (size_t)snprintf(buf, cap,
			     "Node 0, zone   Normal\n"
			     "  pages free     %llu\n"
			     "        boost    0\n"
			     "        min      %llu\n"
			     "        low      %llu\n"
			     "        high     %llu\n"
			     "        promo    %llu\n"
			     "        spanned  %llu\n"
			     "        present  %llu\n"
			     "        managed  %llu\n"
			     "        cma      0\n"
			     "        protection: (0, 0, 0, 0, 0)\n"
			     "  pagesets\n",
			     (unsigned long long)pages, (unsigned long long)*wmin, (unsigned long long)*wlow,
			     (unsigned long long)*whigh, (unsigned long long)(*whigh + tmp),
			     (unsigned long long)pages, (unsigned long long)pages, (unsigned long long)pages);
	for (unsigned c = 0; c < nr_cpus && n < cap; c++)
		n += (size_t)snprintf(buf + n, cap - n,
				      "    cpu: %u\n"
				      "              count:    0\n"
				      "              high:     %u\n"
				      "              batch:    %u\n"
				      "              high_min: %u\n"
				      "              high_max: %u\n"
				      "  vm stats threshold: 0\n",
				      c, *hmax, *batch, *hmin, *hmax);
	if (n < cap)
		snprintf(buf + n, cap - n, "  node_unreclaimable:  0\n  start_pfn:           0\n");
}

static double wall_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void gen_free(struct gen *g)
{
	model_destroy(g->m);
	alias_free(&g->mix);
	alias_free(&g->acpu);
	alias_free(&g->fcpu);
	for (unsigned c = 0; c < NCLASS; c++)
		alias_free(&g->life[c]);
	free(g->lng);
	free(g->heap);
	for (int i = 0; i < NQ; i++)
		free(g->q.buf[i]);
	free(g);
}

/*
 * The ramp: at the recording's own proportions, a machine whose recording
 * frees almost all it allocates (a steady state) would take far longer than
 * the trace to reach the footprint.  So during the ramp a share q of the
 * would-be short-lived allocations is kept long-lived, q the smallest that
 * reaches the target within RAMP_SHARE of the events, at most RAMP_QMAX so
 * that the ramp keeps a fifth of the recording's churn (it then takes longer,
 * possibly the whole trace).  Per allocation the ramp
 * keeps L(q) pages and costs E(q) events.
 */
#define RAMP_SHARE 0.2
#define RAMP_QMAX 0.8		/* keep some churn: the ramp may then take longer */

static void ramp_growth(const struct fr_synth_profile *p, const uint32_t *pshort, double q, double bat,
			double *pages_per_event)
{
	double tot = 0, L = 0, E = 1;

	for (size_t i = 0; i < p->ncombo; i++)
		tot += (double)p->combo[i].count;
	for (size_t i = 0; i < p->ncombo; i++) {
		const struct fr_synth_combo *cb = &p->combo[i];
		double w = (double)cb->count / tot, ps = (double)pshort[cb->order * FR_SYNTH_NMT + cb->mt] / 4294967296.0;
		L += w * (double)(1ull << cb->order) * (1.0 - ps * (1.0 - q));
		E += w * ps * (1.0 - q) * (1.0 + bat);
	}
	*pages_per_event = L / E;
}

static void ramp_setup(struct gen *g, const struct fr_synth_profile *p, double target, double events)
{
	double need = target / (RAMP_SHARE * events), got, lo = 0, hi = RAMP_QMAX;
	double bat = (double)g->batch_thr / 4294967296.0;

	ramp_growth(p, g->pshort, 0, bat, &got);
	if (got < need) {
		ramp_growth(p, g->pshort, RAMP_QMAX, bat, &got);
		int reachable = got >= need;	/* else q stays RAMP_QMAX */
		for (int it = 0; reachable && it < 40; it++) {
			double mid = (lo + hi) / 2;
			ramp_growth(p, g->pshort, mid, bat, &got);
			if (got < need)
				lo = mid;
			else
				hi = mid;
		}
	} else {
		hi = 0;
	}
	for (unsigned c = 0; c < NCLASS; c++)
		g->pshort_ramp[c] = (uint32_t)((double)g->pshort[c] * (1.0 - hi));
	g->ramp_q = hi;
}

static int gen_setup(struct gen *g, const struct fr_synth_profile *p, const struct fr_synth_opts *o,
		     uint64_t pages, struct m_zone_spec *zs, double rate, double frac, struct fr_error *err)
{
	uint64_t *w = malloc((p->ncombo > p->nr_cpus ? p->ncombo : p->nr_cpus) * sizeof(*w));

	if (!w)
		return fr_err(err, "out of memory");
	for (size_t i = 0; i < p->ncombo; i++)
		w[i] = p->combo[i].count;
	if (alias_build(&g->mix, w, p->ncombo) < 0 || alias_build(&g->acpu, p->alloc_cpu, p->nr_cpus) < 0 ||
	    alias_build(&g->fcpu, p->free_cpu, p->nr_cpus) < 0) {
		free(w);
		return fr_err(err, "out of memory");
	}
	free(w);
	for (unsigned c = 0; c < NCLASS; c++) {
		uint64_t a = p->cls_allocs[c], f = p->cls_freed[c];
		if (!f)
			continue;
		if (f > a)
			f = a;
		g->pshort[c] = a ? (uint32_t)((double)f / (double)a * 4294967295.0) : 0;
		if (alias_build(&g->life[c], p->life[c], NB) < 0)
			return fr_err(err, "out of memory");
	}
	if (p->batched && p->frees)
		g->batch_thr = (uint32_t)((p->batched < p->frees ? (double)p->batched / (double)p->frees : 1.0) *
					  4294967295.0);
	g->nr_cpus = o->nr_cpus ? o->nr_cpus : p->nr_cpus;
	g->uniform_cpus = g->nr_cpus != p->nr_cpus;
	for (int i = 0; i < 256; i++) {
		double q = -log1p(-((double)i + 0.5) / 256.0);
		g->gap[i] = (uint64_t)llround(q * 1e9 / rate);
	}
	g->target = (uint64_t)(frac * (double)pages);
	ramp_setup(g, p, (double)g->target, (double)o->events);
	g->m = model_create(zs, 1, g->nr_cpus, 9, 10, 18);
	if (!g->m)
		return fr_err(err, "out of memory for a model of %llu pages (%llu MiB)",
			      (unsigned long long)pages, (unsigned long long)(pages * 6 >> 20));
	model_seed_present_range(g->m, 0, pages);
	model_seed_finish(g->m);
	return 0;
}

int fr_synth_run(const struct fr_synth_profile *p, const struct fr_synth_opts *o, const char *out,
		 struct fr_synth_stats *st, struct fr_error *err)
{
	uint64_t pages = (o->mem_bytes / 4096) & ~1023ull, wmin, wlow, whigh;
	unsigned batch, hmin, hmax;
	struct m_zone_spec zs;
	struct fr_meta *meta = NULL;
	struct fr_frt_opts fo = { .level = o->level };
	struct fr_frt_stats fst;
	struct gen *g = NULL;
	char *zi = NULL;
	size_t zcap;
	double rate, frac, t0 = wall_s(), tlast = t0;
	int pend_batched = 0, have_pending = 0, rc = -1;
	pthread_t tid;
	unsigned reclaim_run = 0;
	uint32_t k = 0;

	memset(st, 0, sizeof(*st));
	if (pages < 16384)
		return fr_err(err, "--mem %llu bytes: at least 64 MiB", (unsigned long long)o->mem_bytes);
	if (!p->ncombo)
		return fr_err(err, "%s: the profile has no allocations", p->source);
	rate = o->rate > 0 ? o->rate : p->rate * (o->nr_cpus && p->nr_cpus ? (double)o->nr_cpus / p->nr_cpus : 1.0);
	if (!(rate > 0))
		rate = DEFAULT_RATE;
	frac = o->live_fraction >= 0 ? o->live_fraction : p->live_fraction;
	if (frac > MAX_LIVE)
		frac = MAX_LIVE;
	if (frac < 0)
		frac = 0;

	g = calloc(1, sizeof(*g));
	meta = malloc(sizeof(*meta));
	if (!g || !meta) {
		fr_err(err, "out of memory");
		goto out;
	}
	g->st = st;
	rng_seed(&g->rng, o->seed);
	memset(&zs, 0, sizeof(zs));
	{
		unsigned nc = o->nr_cpus ? o->nr_cpus : p->nr_cpus ? p->nr_cpus : 1;
		zcap = 1024 + (size_t)nc * 200;
		zi = malloc(zcap);
		if (!zi) {
			fr_err(err, "out of memory");
			goto out;
		}
		zoneinfo_text(zi, zcap, pages, nc, &wmin, &wlow, &whigh, &batch, &hmin, &hmax);
	}
	snprintf(zs.name, sizeof(zs.name), "Normal");
	zs.start_pfn = 0;
	zs.end_pfn = pages;
	zs.managed = pages;
	zs.wmark_min = wmin;
	zs.wmark_low = wlow;
	zs.wmark_high = whigh;
	zs.pcp_batch = batch;
	zs.pcp_high_min = hmin;
	zs.pcp_high_max = hmax;
	if (gen_setup(g, p, o, pages, &zs, rate, frac, err) < 0)
		goto out;
	st->machine_pages = pages;
	st->target_pages = g->target;
	st->ramp_q = g->ramp_q;

	fr_meta_defaults(meta);
	snprintf(meta->format, sizeof(meta->format), "synth");
	snprintf(meta->path, sizeof(meta->path), "%s", o->cmdline ? o->cmdline : "fragreplay synth");
	snprintf(meta->kernel, sizeof(meta->kernel), "%s", p->kernel);
	meta->nr_cpus = g->nr_cpus;
	meta->snaps.blob[FR_SNAP_ZONEINFO_START].data = (unsigned char *)zi;
	meta->snaps.blob[FR_SNAP_ZONEINFO_START].len = strlen(zi);
	meta->snaps.blob[FR_SNAP_ZONEINFO_START].name = "zoneinfo.start";
	for (int i = 0; i < NQ; i++)
		if (!(g->q.buf[i] = malloc(OUTBUF * sizeof(struct fr_event)))) {
			fr_err(err, "out of memory");
			goto out;
		}
	g->out = g->q.buf[0];
	g->q.w = fr_frt_create_opts(out, meta, &fo, err);
	if (!g->q.w)
		goto out;
	pthread_mutex_init(&g->q.lock, NULL);
	pthread_cond_init(&g->q.cv, NULL);
	if (pthread_create(&tid, NULL, writer_main, &g->q)) {
		fr_err(err, "cannot start the writer thread");
		fr_frt_abort(g->q.w);
		g->q.w = NULL;
		goto out_sync;
	}

	g->ts = 1000000000ull;
	st->first_ts = g->ts;
	while (g->produced < o->events) {
		struct fr_event *e;
		uint64_t pfn;

		if ((g->produced & 0xffff) == 0 && o->stop && *o->stop) {
			fr_err(err, "interrupted after %llu events: %s not written", (unsigned long long)g->produced, out);
			goto fail;
		}
		if ((g->produced & 0xfffff) == 0 && o->progress && g->produced) {
			double t = wall_s();
			if (t - tlast >= 0.5) {
				tlast = t;
				fprintf(stderr, "\rsynth: %llu / %llu events (%.0f%%), %.1f M events/s",
					(unsigned long long)g->produced, (unsigned long long)o->events,
					100.0 * (double)g->produced / (double)o->events,
					(double)g->produced / (t - t0) / 1e6);
			}
		}
		if (pend_batched) {
			/* free_unref_folios(): mm_page_free_batched right after mm_page_free */
			pend_batched = 0;
			e = emit(g);
			e->kind = FR_EV_FREE_BATCHED;
			e->pfn = g->last_free_pfn;
			e->cpu = g->last_free_cpu;
			st->batched++;
			if (g->nout == OUTBUF && flush(g, err) < 0)
				goto fail;
			continue;
		}
		g->ts += g->gap[rng_next(&g->rng) >> 56];
		if (g->nheap && g->heap[0].due <= g->tick) {
			if (do_free(g, heap_pop(g), &pend_batched, err) < 0)
				goto fail;
			continue;
		}
		if (g->live_pages >= g->target && g->nlng) {
			size_t i = (size_t)rng_below(&g->rng, g->nlng);
			uint64_t ent = g->lng[i];
			g->lng[i] = g->lng[--g->nlng];
			if (do_free(g, ent, &pend_batched, err) < 0)
				goto fail;
			continue;
		}
		if (!have_pending) {
			k = alias_draw(&g->mix, rng_next(&g->rng));
			have_pending = 1;
		}
		const struct fr_synth_combo *cb = &p->combo[k];
		pfn = place(g->m, cb->order, cb->mt);
		if (pfn == FRP_NONE) {
			/* fragmented or full: reclaim long-lived blocks, then retry */
			if (reclaim_run < RECLAIM_MAX && (g->nlng || g->nheap)) {
				uint64_t ent;
				reclaim_run++;
				st->reclaim_frees++;
				if (g->nlng) {
					size_t i = (size_t)rng_below(&g->rng, g->nlng);
					ent = g->lng[i];
					g->lng[i] = g->lng[--g->nlng];
				} else {
					ent = heap_pop(g);
				}
				if (do_free(g, ent, &pend_batched, err) < 0)
					goto fail;
				continue;
			}
			e = emit(g);
			e->kind = FR_EV_ALLOC;
			e->pfn = FR_PFN_NONE;
			e->order = cb->order;
			e->mt = cb->mt;
			e->gfp = cb->gfp;
			e->cpu = draw_cpu(g, &g->acpu);
			st->failed_allocs++;
			have_pending = 0;
			reclaim_run = 0;
			if (g->nout == OUTBUF && flush(g, err) < 0)
				goto fail;
			continue;
		}
		have_pending = 0;
		reclaim_run = 0;
		e = emit(g);
		e->kind = FR_EV_ALLOC;
		e->pfn = pfn;
		e->order = cb->order;
		e->mt = cb->mt;
		e->gfp = cb->gfp;
		e->cpu = draw_cpu(g, &g->acpu);
		g->tick++;
		st->allocs++;
		g->live_pages += 1ull << cb->order;
		if (g->live_pages > st->live_pages_max)
			st->live_pages_max = g->live_pages;
		if (!g->ramp_done && g->live_pages >= g->target) {
			g->ramp_done = 1;
			st->ramp_events = g->produced;
		}
		{
			unsigned c = (unsigned)cb->order * FR_SYNTH_NMT + (unsigned)cb->mt;
			uint64_t ent = pfn << 4 | cb->order;
			uint64_t r = rng_next(&g->rng);
			if ((uint32_t)r < (g->ramp_done ? g->pshort[c] : g->pshort_ramp[c])) {
				unsigned b = alias_draw(&g->life[c], rng_next(&g->rng));
				uint64_t life = (1ull << b) + ((r >> 32) & ((1ull << b) - 1));
				if (heap_push(g, g->tick + life, ent) < 0)
					goto oom;
			} else if (lng_push(g, ent) < 0) {
				goto oom;
			}
		}
		if (g->nout == OUTBUF && flush(g, err) < 0)
			goto fail;
	}
	if (drain(g, tid, err) < 0)
		goto fail_joined;
	if (o->progress)
		fprintf(stderr, "\r%*s\r", 70, "");
	st->events = g->produced;
	st->live_pages_end = g->live_pages;
	st->last_ts = g->ts;
	rc = fr_frt_finish_stats(g->q.w, &fst, err);
	g->q.w = NULL;
	if (rc == 0)
		st->bytes = fst.bytes;
	st->seconds = wall_s() - t0;
	goto out_sync;
oom:
	fr_err(err, "out of memory for the live set (%zu blocks)", g->nlng + g->nheap);
fail:
	{
		struct fr_error e2;
		g->nout = 0;
		drain(g, tid, &e2);
	}
fail_joined:
	fr_frt_abort(g->q.w);
	g->q.w = NULL;
	rc = -1;
out_sync:
	pthread_mutex_destroy(&g->q.lock);
	pthread_cond_destroy(&g->q.cv);
out:
	if (g)
		gen_free(g);
	free(meta);
	free(zi);
	return rc;
}
