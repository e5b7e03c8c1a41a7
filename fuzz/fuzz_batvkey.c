/*
 * fuzz_batvkey: mg-batv's key file reader (keys.c).  The input is the key
 * file.  A file it takes must hold 1 to 10 keys, oldest first, of
 * distinct numbers, each found by its number; an address signed with the
 * newest key must then verify, and a tag of a key retired too long ago
 * must not.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../cmd/mg-batv/keys.c"
#include "../cmd/mg-batv/prvs.c"
#include "../cmd/mg-batv/check.c"
#include "fuzzinput.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_ring(const struct keyring *r)
{
	size_t i;

	if (r->n < 1 || r->n > PRVS_NKEYS)
		abort();
	for (i = 0; i < r->n; i++)
		if (keys_find(r, r->k[i].num) != &r->k[i] ||
		    r->k[i].len != strlen(r->k[i].secret) ||
		    r->k[i].len == 0 || r->k[i].len > PRVS_SECRET_MAX ||
		    (i > 0 && r->k[i].created < r->k[i - 1].created))
			abort();
}

/* Signs with the newest key at its creation: the tag must verify. */
static void
round_trip(struct batv *b)
{
	char out[700];
	struct mailaddr a;
	struct mgerr e;
	struct prvs p;

	b->now = (time_t)b->ring.k[b->ring.n - 1].created;
	if (batv_sign(b, "user@example.org", out, sizeof(out), &e) == -1 ||
	    addr_parse(out, &a, &e) == -1 || !prvs_parse(a.addr, &p) ||
	    p.keynum != b->ring.k[b->ring.n - 1].num ||
	    batv_verify(b, &p) != NULL)
		abort();
}

/* A tag of the oldest key, a lifetime and a day after the next key
 * replaced it, must not verify. */
static void
retired(struct batv *b)
{
	const struct batv_key *k = &b->ring.k[0];
	struct prvs p;

	if (b->ring.n < 2)
		return;
	memset(&p, 0, sizeof(p));
	p.form = PRVS_STD;
	p.keynum = k->num;
	b->now = (time_t)(b->ring.k[1].created + b->lifetime + 86401);
	p.day = prvs_day(b->now);
	strlcpy(p.plain, "user@example.org", sizeof(p.plain));
	if (prvs_mac(k->secret, k->len, k->num, p.day, p.plain, p.hash) ==
	    -1 || batv_verify(b, &p) == NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct batv b;
	struct mgerr e;

	memset(&b, 0, sizeof(b));
	b.lifetime = 7 * 86400;
	b.subaddress = size > 0 ? data[0] % 3 - 1 : -1;
	if (keys_load(fuzz_file(0, data, size), &b.ring, &e) == -1)
		return 0;
	check_ring(&b.ring);
	round_trip(&b);
	retired(&b);
	return 0;
}
