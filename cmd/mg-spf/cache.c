/*
 * The result cache: one record per (identity, client, domain, sender,
 * HELO) in the state store "spf", kept no longer than the smallest TTL
 * of the DNS answers that made it (RFC 7208 section 4.4 leaves caching
 * to the DNS rules; RFC 1035 section 3.2.1 bounds it by the TTL) and no
 * longer than --cache-max.  A cache that cannot be read or written is
 * skipped with a warning: the check itself never depends on it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "spf.h"
#include "state.h"

static struct state *
cache_open(struct spf *s, int mode)
{
	char path[1024];
	struct mgerr e;
	struct state *st;

	if (state_path(s->statedir, "spf", path, sizeof(path), &e) == -1 ||
	    (st = state_open(path, mode, (unsigned)s->lock_timeout,
	    &e)) == NULL) {
		log_warn("spf cache: %s", e.msg);
		s->cache = 0;
		return NULL;
	}
	return st;
}

/* 1 and a filled when key is cached and fresh, else 0. */
int
cache_get(struct spf *s, const char *key, struct spf_answer *a)
{
	struct state *st;
	struct state_rec rec;
	struct mgerr e;
	char val[1024], *f[4], *p;
	int n, rc = 0;
	long r;

	if ((st = cache_open(s, STATE_RDONLY)) == NULL)
		return 0;
	if (state_get(st, key, strlen(key), s->now, &rec, &e) == 1 &&
	    rec.len < sizeof(val)) {
		memcpy(val, rec.data, rec.len);
		val[rec.len] = '\0';
		for (n = 0, p = val; n < 4 && p != NULL; n++) {
			f[n] = strsep(&p, "\t");
		}
		r = n == 4 ? strtol(f[0], NULL, 10) : -1;
		if (r >= 0 && r < R_COUNT) {
			a->result = (enum spf_result)r;
			strlcpy(a->mech, f[1], sizeof(a->mech));
			strlcpy(a->problem, f[2], sizeof(a->problem));
			strlcpy(a->exp, f[3], sizeof(a->exp));
			a->cached = 1;
			rc = 1;
		}
	}
	state_close(st);
	return rc;
}

void
cache_put(struct spf *s, const char *key, const struct spf_answer *a)
{
	struct state *st;
	struct state_rec rec;
	struct mgerr e;
	char val[1024];
	int64_t life = a->have_ttl ? a->ttl : 0;

	if (life > s->cache_max)
		life = s->cache_max;
	if (life <= 0)
		return;
	snprintf(val, sizeof(val), "%d\t%s\t%s\t%s", (int)a->result,
	    a->mech, a->problem, a->exp);
	if ((st = cache_open(s, STATE_RDWR)) == NULL)
		return;
	memset(&rec, 0, sizeof(rec));
	rec.updated = s->now;
	rec.expires = s->now + life;
	rec.data = val;
	rec.len = strlen(val);
	if (state_put(st, key, strlen(key), &rec, &e) == -1)
		log_warn("spf cache: %s", e.msg);
	state_close(st);
}
