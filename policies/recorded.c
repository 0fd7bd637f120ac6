// SPDX-License-Identifier: GPL-2.0
/*
 * recorded.c - place every allocation exactly where the real kernel did.
 *
 * Replaying with this policy validates a recording against the model: an
 * allocation over pages the model holds allocated (a lost free event, a page
 * taken by a path that emits no mm_page_alloc) is counted as `overlap` and
 * not placed; the engine counts frees that match nothing.  Frees go straight
 * to the buddy (no per-CPU lists): pages the kernel still held on per-CPU
 * lists show up as the only differences against the end snapshot.
 */
#include <stdlib.h>
#include "fragreplay-policy.h"

struct rec {
	struct frp_model *m;
	const struct frp_model_ops *ops;
};

static const struct frp_param params[] = { { NULL, NULL, NULL } };

static void *rec_init(struct frp_model *m, const struct frp_model_ops *ops, const char *const *vals,
		      char *err, size_t errlen)
{
	struct rec *r = calloc(1, sizeof(*r));
	(void)vals; (void)err; (void)errlen;
	if (!r)
		return NULL;
	r->m = m;
	r->ops = ops;
	return r;
}

static uint64_t rec_alloc(void *self, const struct frp_request *rq)
{
	struct rec *r = self;
	uint64_t pfn = r->ops->take_at(r->m, rq->rec_pfn, rq->order);

	if (pfn == FRP_NONE)
		r->ops->count(r->m, "overlap", 1);
	return pfn;
}

static void rec_free(void *self, uint64_t pfn, unsigned order, unsigned cpu, uint64_t now)
{
	struct rec *r = self;
	(void)cpu; (void)now;
	r->ops->free_block(r->m, pfn, order);
}

static void rec_fini(void *self)
{
	free(self);
}

static const struct frp_policy policy = {
	.api_version = FRP_API_VERSION,
	.size = sizeof(struct frp_policy),
	.name = "recorded",
	.description = "place every allocation where the real kernel put it (validates the recording)",
	.params = params,
	.init = rec_init,
	.alloc = rec_alloc,
	.free = rec_free,
	.fini = rec_fini,
};

const struct frp_policy *fragreplay_policy_entry(uint32_t host_api)
{
	(void)host_api;
	return &policy;
}
