// SPDX-License-Identifier: GPL-2.0
/*
 * policy_counters.c - a test policy that counts a lot (tests/test_policy_api.c).
 * First fit, like policy_min.c, and at every allocation it adds 1 + k % 5 to
 * each of NNAMES counters "n000".."n299", whose names are 8 bytes apart in one
 * static table (the layout that made pointer-keyed caches collide, and more
 * names than the host's cache has slots), and 1 to "twin" through two
 * different pointers to the same text, and 1 to "calls".
 * It also takes NSLOTS counter slots at init (ops->counter: "s000".."s099",
 * more than one chunk of the host's stable storage, all created before the
 * 300 names above grow it) and adds k + 1 to slot k at every allocation;
 * one more slot is "n007" (the same counter as names[7], which the slot adds
 * 1 to as well), and one, "unused", is never added to.
 */
#include <stdio.h>
#include <stdlib.h>
#include "fragreplay-policy.h"

#define NNAMES 300
#define NSLOTS 100

static char names[NNAMES][8];	/* static storage, as the API asks */
static char slot_names[NSLOTS][8];
static const char twin_a[] = "twin", twin_b[] = "twin";

struct cc {
	struct frp_model *m;
	const struct frp_model_ops *ops;
	uint64_t *slot[NSLOTS], *n007;
};

static const struct frp_param params[] = { { NULL, NULL, NULL } };

static void *cc_init(struct frp_model *m, const struct frp_model_ops *ops, const char *const *vals,
		     char *err, size_t errlen)
{
	struct cc *c = malloc(sizeof(*c));
	(void)vals;
	for (int k = 0; k < NNAMES; k++) {	/* "n000".."n299", no snprintf truncation warning */
		names[k][0] = 'n';
		names[k][1] = (char)('0' + k / 100);
		names[k][2] = (char)('0' + k / 10 % 10);
		names[k][3] = (char)('0' + k % 10);
		names[k][4] = 0;
	}
	for (int k = 0; k < NSLOTS; k++) {
		slot_names[k][0] = 's';
		slot_names[k][1] = (char)('0' + k / 100);
		slot_names[k][2] = (char)('0' + k / 10 % 10);
		slot_names[k][3] = (char)('0' + k % 10);
		slot_names[k][4] = 0;
	}
	if (!c)
		return NULL;
	c->m = m;
	c->ops = ops;
	if (ops->size < offsetof(struct frp_model_ops, counter) + sizeof(ops->counter)) {
		snprintf(err, errlen, "the host has no ops->counter");
		free(c);
		return NULL;
	}
	for (int k = 0; k < NSLOTS; k++)
		c->slot[k] = ops->counter(m, slot_names[k]);
	c->n007 = ops->counter(m, "n007");
	ops->counter(m, "unused");
	return c;
}

static uint64_t cc_alloc(void *self, const struct frp_request *rq)
{
	struct cc *c = self;
	const struct frp_geometry *g = c->ops->geometry(c->m);

	c->ops->count(c->m, "calls", 1);
	for (int k = 0; k < NNAMES; k++)
		c->ops->count(c->m, names[k], 1 + (uint64_t)(k % 5));
	c->ops->count(c->m, twin_a, 1);
	c->ops->count(c->m, twin_b, 1);
	for (int k = 0; k < NSLOTS; k++)
		*c->slot[k] += 1 + (uint64_t)k;
	*c->n007 += 1;
	for (int z = rq->zone; z >= 0; z--)
		for (unsigned o = rq->order; o <= g->max_order; o++)
			for (int mt = 0; mt < FRP_MT_PCPTYPES; mt++) {
				uint64_t p = c->ops->zone_list_head(c->m, (unsigned)z, o, mt);
				if (p != FRP_NONE)
					return c->ops->take(c->m, p, rq->order);
			}
	return FRP_NONE;
}

static void cc_free(void *self, uint64_t pfn, unsigned order, unsigned cpu, uint64_t now)
{
	struct cc *c = self;
	(void)cpu; (void)now;
	c->ops->free_block(c->m, pfn, order);
}

static void cc_fini(void *self)
{
	free(self);
}

static const struct frp_policy policy = {
	.api_version = FRP_API_VERSION,
	.size = sizeof(struct frp_policy),
	.name = "counters",
	.description = "test policy: first fit, counting through 302 names and 102 slots",
	.params = params,
	.init = cc_init,
	.alloc = cc_alloc,
	.free = cc_free,
	.fini = cc_fini,
};

const struct frp_policy *fragreplay_policy_entry(uint32_t host_api)
{
	(void)host_api;
	return &policy;
}
