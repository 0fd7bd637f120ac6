// SPDX-License-Identifier: GPL-2.0
/*
 * policy_min.c - the smallest useful out-of-tree policy: first fit.
 * Built by tests/test_policy_api.c against the INSTALLED header only:
 *   cc -shared -fPIC $(pkg-config --cflags fragreplay) policy_min.c -o firstfit.so
 * With -DWRONG_API it claims another API version, and must be refused.
 */
#include <stdlib.h>
#include <fragreplay-policy.h>

struct ff {
	struct frp_model *m;
	const struct frp_model_ops *ops;
};

static const struct frp_param params[] = { { NULL, NULL, NULL } };

static void *ff_init(struct frp_model *m, const struct frp_model_ops *ops, const char *const *vals,
		     char *err, size_t errlen)
{
	struct ff *f = malloc(sizeof(*f));
	(void)vals; (void)err; (void)errlen;
	if (f) {
		f->m = m;
		f->ops = ops;
	}
	return f;
}

/* the requested type's lists first, then any type, smallest order first, highest zone down */
static uint64_t ff_alloc(void *self, const struct frp_request *rq)
{
	struct ff *f = self;
	const struct frp_geometry *g = f->ops->geometry(f->m);

	for (int z = rq->zone; z >= 0; z--)
		for (int pass = 0; pass < 2; pass++)
			for (unsigned o = rq->order; o <= g->max_order; o++)
				for (int mt = 0; mt < FRP_MT_PCPTYPES; mt++) {
					if (pass == 0 && mt != rq->mt)
						continue;
					uint64_t p = f->ops->zone_list_head(f->m, (unsigned)z, o, mt);
					if (p != FRP_NONE)
						return f->ops->take(f->m, p, rq->order);
				}
	return FRP_NONE;
}

static void ff_free(void *self, uint64_t pfn, unsigned order, unsigned cpu, uint64_t now)
{
	struct ff *f = self;
	(void)cpu; (void)now;
	f->ops->free_block(f->m, pfn, order);
}

static void ff_fini(void *self)
{
	free(self);
}

static const struct frp_policy policy = {
#ifdef WRONG_API
	.api_version = FRP_API_VERSION + 1,
#else
	.api_version = FRP_API_VERSION,
#endif
	.size = sizeof(struct frp_policy),
	.name = "first-fit",
	.description = "test policy: first free chunk of the wanted type, then of any type",
	.params = params,
	.init = ff_init,
	.alloc = ff_alloc,
	.free = ff_free,
	.fini = ff_fini,
};

const struct frp_policy *fragreplay_policy_entry(uint32_t host_api)
{
	(void)host_api;
	return &policy;
}
