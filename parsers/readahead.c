// SPDX-License-Identifier: GPL-2.0
/*
 * readahead.c - a backend read ahead on a helper thread (readahead.h).
 *
 * Why: replay reads a trace twice, and its first pass (the prepass that
 * decides the machine's initial state) is mostly decoding: on a 256 GiB /
 * 100 M-event .frt, 3.9 s of its 5.9 s went to zstd and the column codec,
 * on one core while the other idled.  With the decode on a helper the pass
 * costs about the larger of the two halves.
 *
 * The ring holds RA_SLOTS batches of RA_BATCH events: an .frt block decodes
 * straight into a slot (fr_backend_frt decodes into the caller's buffer when
 * a block fits), 6 MiB in all, only while reading ahead.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include "readahead.h"
#include "frt.h"

#define RA_SLOTS 3
#define RA_BATCH FR_FRT_BLOCK_EVENTS

struct ra_slot {
	struct fr_event *ev;
	ssize_t n;		/* events; 0: end of input; -1: error in err */
	uint64_t skipped;	/* the backend's skipped() after this read */
	struct fr_error err;
};

struct fr_readahead {
	const struct fr_backend *be;
	void *priv;
	pthread_t tid;
	pthread_mutex_t lock;
	pthread_cond_t cv;		/* a slot was published, or handed back */
	struct ra_slot slot[RA_SLOTS];
	uint64_t prod, cons;		/* slots published / handed back: the ring */
	int stop, exited;
	/* the caller's side */
	size_t pos;			/* events of slot[cons] already returned */
	uint64_t skipped;
	const struct ra_slot *final;	/* the end or the error, once reached */
};

static void *ra_main(void *arg)
{
	struct fr_readahead *ra = arg;

	for (;;) {
		struct ra_slot *s;

		pthread_mutex_lock(&ra->lock);
		while (!ra->stop && ra->prod - ra->cons >= RA_SLOTS)
			pthread_cond_wait(&ra->cv, &ra->lock);
		if (ra->stop) {
			pthread_mutex_unlock(&ra->lock);
			break;
		}
		s = &ra->slot[ra->prod % RA_SLOTS];
		pthread_mutex_unlock(&ra->lock);

		s->n = ra->be->read(ra->priv, s->ev, RA_BATCH, &s->err);
		s->skipped = ra->be->skipped ? ra->be->skipped(ra->priv) : 0;

		pthread_mutex_lock(&ra->lock);
		ra->prod++;
		pthread_cond_broadcast(&ra->cv);
		pthread_mutex_unlock(&ra->lock);
		if (s->n <= 0)
			break;	/* the end or an error: nothing follows */
	}
	pthread_mutex_lock(&ra->lock);
	ra->exited = 1;
	pthread_cond_broadcast(&ra->cv);
	pthread_mutex_unlock(&ra->lock);
	return NULL;
}

struct fr_readahead *fr_ra_start(const struct fr_backend *be, void *priv, struct fr_error *err)
{
	struct fr_readahead *ra = calloc(1, sizeof(*ra));
	sigset_t all, old;
	int rc;

	if (!ra) {
		fr_err(err, "out of memory");
		return NULL;
	}
	ra->be = be;
	ra->priv = priv;
	for (int i = 0; i < RA_SLOTS; i++) {
		ra->slot[i].ev = malloc(sizeof(struct fr_event) * RA_BATCH);
		if (!ra->slot[i].ev)
			goto fail;
	}
	pthread_mutex_init(&ra->lock, NULL);
	pthread_cond_init(&ra->cv, NULL);
	/* signals (SIGINT: stop and write a partial result) stay the caller's:
	 * the helper starts with all of them blocked */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&ra->tid, NULL, ra_main, ra);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		pthread_mutex_destroy(&ra->lock);
		pthread_cond_destroy(&ra->cv);
		goto fail;
	}
	return ra;
fail:
	for (int i = 0; i < RA_SLOTS; i++)
		free(ra->slot[i].ev);
	free(ra);
	fr_err(err, "cannot start a read-ahead thread");
	return NULL;
}

ssize_t fr_ra_read(struct fr_readahead *ra, struct fr_event *buf, size_t n, struct fr_error *err)
{
	size_t done = 0;

	while (done < n && !ra->final) {
		const struct ra_slot *s;
		size_t take;

		pthread_mutex_lock(&ra->lock);
		if (done && ra->prod == ra->cons) {
			/* return what we have rather than wait for the helper */
			pthread_mutex_unlock(&ra->lock);
			break;
		}
		while (ra->prod == ra->cons && !ra->exited)
			pthread_cond_wait(&ra->cv, &ra->lock);
		if (ra->prod == ra->cons) {
			/* the helper stopped on request and everything it read is out */
			pthread_mutex_unlock(&ra->lock);
			return done ? (ssize_t)done : FR_RA_DRAINED;
		}
		pthread_mutex_unlock(&ra->lock);
		s = &ra->slot[ra->cons % RA_SLOTS];
		ra->skipped = s->skipped;
		if (s->n <= 0) {
			ra->final = s;	/* kept, never handed back: returned again and again */
			break;
		}
		take = (size_t)s->n - ra->pos < n - done ? (size_t)s->n - ra->pos : n - done;
		memcpy(buf + done, s->ev + ra->pos, take * sizeof(*buf));
		done += take;
		ra->pos += take;
		if (ra->pos == (size_t)s->n) {
			ra->pos = 0;
			pthread_mutex_lock(&ra->lock);
			ra->cons++;
			pthread_cond_broadcast(&ra->cv);
			pthread_mutex_unlock(&ra->lock);
		}
	}
	if (done || !ra->final)
		return (ssize_t)done;
	if (ra->final->n < 0 && err)
		*err = ra->final->err;
	return ra->final->n;
}

void fr_ra_stop(struct fr_readahead *ra)
{
	pthread_mutex_lock(&ra->lock);
	ra->stop = 1;
	pthread_cond_broadcast(&ra->cv);
	pthread_mutex_unlock(&ra->lock);
}

uint64_t fr_ra_skipped(const struct fr_readahead *ra)
{
	return ra->skipped;
}

void fr_ra_free(struct fr_readahead *ra)
{
	if (!ra)
		return;
	fr_ra_stop(ra);
	pthread_join(ra->tid, NULL);
	pthread_mutex_destroy(&ra->lock);
	pthread_cond_destroy(&ra->cv);
	for (int i = 0; i < RA_SLOTS; i++)
		free(ra->slot[i].ev);
	free(ra);
}
