/*
 * mg-greylist's records in the state store (state.h), payloads
 * little-endian:
 *   "t NET SENDER RCPT" or "h HEX"   first i64, passed i64, count u32,
 *                                    blocked u32
 *   "n NET"                          passes u32, listed i64
 * A record whose payload has the wrong size is an error naming the key,
 * so a damaged store defers rather than passes.
 */
#include <stdio.h>
#include <string.h>

#include "bytes.h"
#include "greylist.h"

#define TREC_LEN	24
#define NREC_LEN	12

int
trec_decode(const struct state_rec *rec, struct trec *t)
{
	const unsigned char *p = rec->data;

	if (rec->len != TREC_LEN)
		return -1;
	t->first = (int64_t)get64(p);
	t->passed = (int64_t)get64(p + 8);
	t->count = get32(p + 16);
	t->blocked = get32(p + 20);
	return 0;
}

int
nrec_decode(const struct state_rec *rec, struct nrec *n)
{
	const unsigned char *p = rec->data;

	if (rec->len != NREC_LEN)
		return -1;
	n->passes = get32(p);
	n->listed = (int64_t)get64(p + 4);
	return 0;
}

/* 1 found (*expires set), 0 not (t zeroed), -1 error. */
int
trec_get(struct state *st, const char *key, size_t klen, int64_t now,
    struct trec *t, int64_t *expires, struct mgerr *e)
{
	struct state_rec rec;
	int r;

	memset(t, 0, sizeof(*t));
	*expires = 0;
	if ((r = state_get(st, key, klen, now, &rec, e)) <= 0)
		return r;
	*expires = rec.expires;
	if (trec_decode(&rec, t) == -1) {
		mgerr_set(e, "greylist store: malformed record \"%.*s\"",
		    (int)(klen > 80 ? 80 : klen), key);
		return -1;
	}
	return 1;
}

int
trec_put(struct state *st, const char *key, size_t klen, int64_t now,
    int64_t expires, const struct trec *t, struct mgerr *e)
{
	unsigned char buf[TREC_LEN];
	struct state_rec rec;

	put64(buf, (uint64_t)t->first);
	put64(buf + 8, (uint64_t)t->passed);
	put32(buf + 16, t->count);
	put32(buf + 20, t->blocked);
	rec.updated = now;
	rec.expires = expires;
	rec.data = buf;
	rec.len = sizeof(buf);
	return state_put(st, key, klen, &rec, e);
}

int
nrec_get(struct state *st, const char *net, int64_t now, struct nrec *n,
    int64_t *expires, struct mgerr *e)
{
	char key[CIDR_STRLEN + 4];
	struct state_rec rec;
	int r;

	memset(n, 0, sizeof(*n));
	*expires = 0;
	snprintf(key, sizeof(key), "n %s", net);
	if ((r = state_get(st, key, strlen(key), now, &rec, e)) <= 0)
		return r;
	*expires = rec.expires;
	if (nrec_decode(&rec, n) == -1) {
		mgerr_set(e, "greylist store: malformed record \"%s\"", key);
		return -1;
	}
	return 1;
}

int
nrec_put(struct state *st, const char *net, int64_t now, int64_t expires,
    const struct nrec *n, struct mgerr *e)
{
	char key[CIDR_STRLEN + 4];
	unsigned char buf[NREC_LEN];
	struct state_rec rec;

	snprintf(key, sizeof(key), "n %s", net);
	put32(buf, n->passes);
	put64(buf + 4, (uint64_t)n->listed);
	rec.updated = now;
	rec.expires = expires;
	rec.data = buf;
	rec.len = sizeof(buf);
	return state_put(st, key, strlen(key), &rec, e);
}

struct state *
grey_open(const struct grey *g, int mode, struct mgerr *e)
{
	char path[4096];

	if (state_path(g->statedir, "greylist", path, sizeof(path), e) == -1)
		return NULL;
	return state_open(path, mode, (unsigned)g->lock_timeout, e);
}
