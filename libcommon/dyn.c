/*
 * dyn: the dynamic-screen store.  See dyn.h for the records and the
 * contract.  Payloads are little-endian:
 *   ring   total u64, last i64, n u32, n times i64 (oldest first)
 *   block  since i64, until i64, offences u32, reason (no NUL)
 *   "p"    a 129-bit set of prefix lengths (17 bytes)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "dyn.h"
#include "num.h"

#define RING_HDR	20
#define BLOCK_HDR	20
#define PLEN_BYTES	17
#define NORULE_TTL	86400		/* life of a counter no rule names */
#define WINDOW_MAX	(366 * 86400)
#define KEY_LEN		(2 + CIDR_STRLEN + 1 + DYN_EVENT_MAX)

struct ring {
	uint64_t	total;
	int64_t		last;
	unsigned	n;
	int64_t		t[DYN_RING];
};

struct blockrec {
	int64_t		since, until;
	unsigned	offences;
	char		reason[DYN_REASON_MAX];
};

static const struct dyn_rule default_rule = {
	DYN_DEFAULT_EVENT, DYN_DEFAULT_COUNT, DYN_DEFAULT_WINDOW
};

/* The rules in force: the conf's own, else the default rule (dyn.h). */
static const struct dyn_rule *
rules_of(const struct dyn_conf *c, size_t *n)
{
	if (c->nrules > 0 || c->no_default) {
		*n = c->nrules;
		return c->rules;
	}
	*n = 1;
	return &default_rule;
}

static int
bad_rec(const char *key, struct mgerr *e)
{
	mgerr_set(e, "dynamic screen: malformed record \"%s\"", key);
	return -1;
}

void
dyn_conf_defaults(struct dyn_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->block = 3600;
	c->max_block = 7 * 86400;
	c->factor = 2;
	c->memory = 30 * 86400;
	c->v4_prefix = 32;
	c->v6_prefix = 64;
}

void
dyn_opts_defaults(struct dyn_opts *o)
{
	struct dyn_conf c;

	dyn_conf_defaults(&c);
	memset(o, 0, sizeof(*o));
	o->block = c.block;
	o->max_block = c.max_block;
	o->memory = c.memory;
	o->factor = c.factor;
	o->v4 = c.v4_prefix;
	o->v6 = c.v6_prefix;
}

int
dyn_opts_load(const struct dyn_opts *o, struct dyn_conf *c,
    struct dyn_rule **rules, struct mgerr *e)
{
	dyn_conf_defaults(c);
	c->block = o->block;
	c->max_block = o->max_block;
	c->memory = o->memory;
	c->factor = (unsigned)o->factor;
	c->v4_prefix = (unsigned)o->v4;
	c->v6_prefix = (unsigned)o->v6;
	return dyn_rules_load(c, (const char *const *)o->rules.v, o->rules.n,
	    rules, e);
}

static int
event_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n >= DYN_EVENT_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

int
dyn_rule_parse(const char *s, struct dyn_rule *r, struct mgerr *e)
{
	char num[24], why[MGERR_MAX];
	const char *colon, *slash;
	long long count;

	colon = strchr(s, ':');
	slash = colon != NULL ? strchr(colon, '/') : NULL;
	if (slash == NULL) {
		mgerr_set(e, "%s: rule is not EVENT:COUNT/WINDOW", s);
		return -1;
	}
	if (!event_ok(s, (size_t)(colon - s))) {
		mgerr_set(e, "%s: event name must be 1 to %d of a-z, 0-9, -",
		    s, DYN_EVENT_MAX - 1);
		return -1;
	}
	memset(r, 0, sizeof(*r));
	memcpy(r->event, s, (size_t)(colon - s));
	if ((size_t)(slash - colon) > sizeof(num)) {
		mgerr_set(e, "%s: count too large", s);
		return -1;
	}
	memcpy(num, colon + 1, (size_t)(slash - colon - 1));
	num[slash - colon - 1] = '\0';
	if (num_parse(num, 1, DYN_RING, &count, e) == -1 ||
	    num_duration(slash + 1, 1, WINDOW_MAX, &r->window, e) == -1) {
		strlcpy(why, e != NULL ? e->msg : "", sizeof(why));
		mgerr_set(e, "%s: %s", s, why);
		return -1;
	}
	r->count = (unsigned)count;
	return 0;
}

int
dyn_rules_load(struct dyn_conf *c, const char *const *text, size_t n,
    struct dyn_rule **rules, struct mgerr *e)
{
	struct mgerr sub;
	size_t i, m = 0;

	*rules = NULL;
	c->rules = NULL;
	c->nrules = 0;
	c->no_default = 0;
	if (n == 0)
		return 0;
	if ((*rules = calloc(n, sizeof(**rules))) == NULL) {
		mgerr_set(e, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (strcmp(text[i], DYN_RULE_NONE) == 0) {
			c->no_default = 1;
			m = 0;
		} else if (dyn_rule_parse(text[i], &(*rules)[m++], &sub) == -1) {
			mgerr_set(e, "option --dyn-rule: %s", sub.msg);
			return -1;
		}
	}
	c->rules = m > 0 ? *rules : NULL;
	c->nrules = m;
	return 0;
}

/*
 * How long an event's counter must live: the longest window of the
 * rules configured for it, else a day.  The default rule's ten minutes
 * do not count: they would hide from mg-tarpit's --dyn-window (an hour)
 * the auth-fail events it saw before there was a default rule.
 */
static int64_t
event_ttl(const struct dyn_conf *c, const char *event)
{
	int64_t w = 0;
	size_t i;

	for (i = 0; i < c->nrules; i++)
		if (strcmp(c->rules[i].event, event) == 0 &&
		    c->rules[i].window > w)
			w = c->rules[i].window;
	return w > 0 ? w : NORULE_TTL;
}

static int
ring_decode(const char *key, const struct state_rec *rec, struct ring *r,
    struct mgerr *e)
{
	const unsigned char *p = rec->data;
	unsigned i;

	if (rec->len < RING_HDR)
		return bad_rec(key, e);
	r->total = get64(p);
	r->last = (int64_t)get64(p + 8);
	r->n = get32(p + 16);
	if (r->n > DYN_RING || rec->len != RING_HDR + 8 * (size_t)r->n)
		return bad_rec(key, e);
	for (i = 0; i < r->n; i++)
		r->t[i] = (int64_t)get64(p + RING_HDR + 8 * i);
	return 0;
}

/* Loads the ring at key, or an empty one.  0 or -1. */
static int
ring_load(struct state *st, const char *key, int64_t now, struct ring *r,
    struct mgerr *e)
{
	struct state_rec rec;
	int found;

	memset(r, 0, sizeof(*r));
	if ((found = state_get(st, key, strlen(key), now, &rec, e)) <= 0)
		return found;
	return ring_decode(key, &rec, r, e);
}

static int
ring_store(struct state *st, const char *key, const struct ring *r,
    int64_t now, int64_t expires, struct mgerr *e)
{
	unsigned char buf[RING_HDR + 8 * DYN_RING];
	struct state_rec rec;
	unsigned i;

	put64(buf, r->total);
	put64(buf + 8, (uint64_t)r->last);
	put32(buf + 16, r->n);
	for (i = 0; i < r->n; i++)
		put64(buf + RING_HDR + 8 * i, (uint64_t)r->t[i]);
	rec.updated = now;
	rec.expires = expires;
	rec.data = buf;
	rec.len = RING_HDR + 8 * (size_t)r->n;
	return state_put(st, key, strlen(key), &rec, e);
}

/* Adds time t, keeping the times sorted and the newest DYN_RING. */
static void
ring_add(struct ring *r, int64_t t)
{
	unsigned i;

	if (r->n == DYN_RING) {
		if (t < r->t[0])
			goto count;
		memmove(r->t, r->t + 1, sizeof(r->t[0]) * (DYN_RING - 1));
		r->n--;
	}
	for (i = r->n; i > 0 && r->t[i - 1] > t; i--)
		r->t[i] = r->t[i - 1];
	r->t[i] = t;
	r->n++;
count:
	r->total++;
	if (t > r->last)
		r->last = t;
}

/* Events after `since' (that is, within now - since seconds). */
static unsigned
ring_count(const struct ring *r, int64_t since)
{
	unsigned i, n = 0;

	for (i = 0; i < r->n; i++)
		if (r->t[i] > since)
			n++;
	return n;
}

static int
block_decode(const char *key, const struct state_rec *rec,
    struct blockrec *b, struct mgerr *e)
{
	const unsigned char *p = rec->data;
	size_t n;

	if (rec->len < BLOCK_HDR)
		return bad_rec(key, e);
	b->since = (int64_t)get64(p);
	b->until = (int64_t)get64(p + 8);
	b->offences = get32(p + 16);
	n = rec->len - BLOCK_HDR;
	if (n >= sizeof(b->reason))
		n = sizeof(b->reason) - 1;
	memcpy(b->reason, p + BLOCK_HDR, n);
	b->reason[n] = '\0';
	return 0;
}

static int
block_store(struct state *st, const char *key, const struct blockrec *b,
    int64_t now, struct mgerr *e)
{
	unsigned char buf[BLOCK_HDR + DYN_REASON_MAX];
	struct state_rec rec;
	size_t n = strlen(b->reason);

	put64(buf, (uint64_t)b->since);
	put64(buf + 8, (uint64_t)b->until);
	put32(buf + 16, b->offences);
	memcpy(buf + BLOCK_HDR, b->reason, n);
	rec.updated = now;
	rec.expires = b->until;
	rec.data = buf;
	rec.len = BLOCK_HDR + n;
	return state_put(st, key, strlen(key), &rec, e);
}

/* Loads the set of prefix lengths that held blocks into bits. */
static int
plen_load(struct state *st, unsigned char *bits, struct mgerr *e)
{
	struct state_rec rec;
	int found;

	memset(bits, 0, PLEN_BYTES);
	if ((found = state_get(st, "p", 1, 0, &rec, e)) <= 0)
		return found;
	if (rec.len != PLEN_BYTES)
		return bad_rec("p", e);
	memcpy(bits, rec.data, PLEN_BYTES);
	return 0;
}

static int
plen_store(struct state *st, const unsigned char *bits, int64_t now,
    struct mgerr *e)
{
	struct state_rec rec;

	rec.updated = now;
	rec.expires = 0;
	rec.data = bits;
	rec.len = PLEN_BYTES;
	return state_put(st, "p", 1, &rec, e);
}

static void
net_text(const struct ipaddr *ip, unsigned len, struct cidr *net,
    char *buf, size_t size)
{
	net->net = *ip;
	ip_mask(&net->net, len);
	net->len = len;
	cidr_format(net, buf, size);
}

/* Looks for a live block on ip's network of len bits; keeps the latest. */
static int
check_len(struct state *st, const struct ipaddr *ip, unsigned len,
    int64_t now, struct dyn_block *b, struct mgerr *e)
{
	char net[CIDR_STRLEN], key[KEY_LEN];
	struct state_rec rec;
	struct blockrec br;
	struct cidr c;
	int found;

	net_text(ip, len, &c, net, sizeof(net));
	snprintf(key, sizeof(key), "b %s", net);
	if ((found = state_get(st, key, strlen(key), now, &rec, e)) <= 0)
		return found;
	if (block_decode(key, &rec, &br, e) == -1)
		return -1;
	if (br.until <= now || br.until <= b->until)
		return 0;
	b->until = br.until;
	b->offences = br.offences;
	strlcpy(b->reason, br.reason, sizeof(b->reason));
	strlcpy(b->net, net, sizeof(b->net));
	return 1;
}

int
dyn_check(struct state *st, const struct dyn_conf *c,
    const struct ipaddr *ip, int64_t now, struct dyn_block *b,
    struct mgerr *e)
{
	unsigned char bits[PLEN_BYTES];
	struct dyn_block local;
	struct cidr agg;
	unsigned len, lo;
	int r, hit = 0;

	if (b == NULL)
		b = &local;
	if (plen_load(st, bits, e) == -1)
		return -1;
	cidr_of(ip, c->v4_prefix, c->v6_prefix, &agg);
	bits[agg.len / 8] |= (unsigned char)(1 << (agg.len % 8));
	memset(b, 0, sizeof(*b));
	/* An IPv4 client lies in the v4-mapped space, lengths 96..128. */
	lo = ip->v4 ? 96 : 0;
	for (len = 128; len + 1 > lo; len--) {
		if (!(bits[len / 8] & (1 << (len % 8))))
			continue;
		if ((r = check_len(st, ip, len, now, b, e)) == -1)
			return -1;
		hit |= r;
		if (len == 0)
			break;
	}
	return hit;
}

static int64_t
block_len(const struct dyn_conf *c, unsigned offences)
{
	int64_t len = c->block > 0 ? c->block : 1;
	unsigned i;

	for (i = 1; i < offences && c->factor > 1; i++) {
		if (len > c->max_block / c->factor) {
			len = c->max_block;
			break;
		}
		len *= c->factor;
	}
	return c->max_block > 0 && len > c->max_block ? c->max_block : len;
}

/*
 * Counts one offence against net and writes its block.  until 0 means
 * the length the offence count earns.  Fills b.
 */
static int
make_block(struct state *st, const struct dyn_conf *c,
    const struct cidr *net, int64_t now, int64_t until, const char *reason,
    struct dyn_block *b, struct mgerr *e)
{
	char key[KEY_LEN], text[CIDR_STRLEN];
	unsigned char bits[PLEN_BYTES];
	struct blockrec br;
	struct ring off;

	cidr_format(net, text, sizeof(text));
	snprintf(key, sizeof(key), "o %s", text);
	if (ring_load(st, key, now, &off, e) == -1)
		return -1;
	br.offences = ring_count(&off, now - c->memory) + 1;
	ring_add(&off, now);
	if (ring_store(st, key, &off, now, now + c->memory, e) == -1)
		return -1;
	br.since = now;
	br.until = until != 0 ? until : now + block_len(c, br.offences);
	strlcpy(br.reason, reason, sizeof(br.reason));
	snprintf(key, sizeof(key), "b %s", text);
	if (block_store(st, key, &br, now, e) == -1 ||
	    plen_load(st, bits, e) == -1)
		return -1;
	if (!(bits[net->len / 8] & (1 << (net->len % 8)))) {
		bits[net->len / 8] |= (unsigned char)(1 << (net->len % 8));
		if (plen_store(st, bits, now, e) == -1)
			return -1;
	}
	if (b != NULL) {
		b->until = br.until;
		b->offences = br.offences;
		strlcpy(b->reason, br.reason, sizeof(b->reason));
		strlcpy(b->net, text, sizeof(b->net));
	}
	return 0;
}

/* The first rule for event whose threshold r has reached, or NULL. */
/*
 * The key of ip's network's count of event, "e NET EVENT"; *net is that
 * network.  0, or -1 and e set for a bad event name.
 */
static int
event_key(const struct dyn_conf *c, const struct ipaddr *ip,
    const char *event, struct cidr *net, char key[KEY_LEN], struct mgerr *e)
{
	char text[CIDR_STRLEN];

	if (!event_ok(event, strlen(event))) {
		mgerr_set(e, "%.40s: bad event name", event);
		return -1;
	}
	cidr_of(ip, c->v4_prefix, c->v6_prefix, net);
	cidr_format(net, text, sizeof(text));
	snprintf(key, KEY_LEN, "e %s %s", text, event);
	return 0;
}

static const struct dyn_rule *
tripped(const struct dyn_conf *c, const char *event, const struct ring *r,
    int64_t now)
{
	const struct dyn_rule *rule;
	size_t i, n;

	rule = rules_of(c, &n);
	for (i = 0; i < n; i++)
		if (strcmp(rule[i].event, event) == 0 &&
		    ring_count(r, now - rule[i].window) >= rule[i].count)
			return &rule[i];
	return NULL;
}

int
dyn_record(struct state *st, const struct dyn_conf *c,
    const struct ipaddr *ip, const char *event, int64_t now,
    struct dyn_block *b, struct mgerr *e)
{
	char key[KEY_LEN], reason[DYN_REASON_MAX], w[32];
	const struct dyn_rule *rule;
	struct ring r;
	struct cidr net;
	int blocked;

	if (event_key(c, ip, event, &net, key, e) == -1 ||
	    ring_load(st, key, now, &r, e) == -1 ||
	    (blocked = dyn_check(st, c, ip, now, b, e)) == -1)
		return -1;
	ring_add(&r, now);
	rule = blocked ? NULL : tripped(c, event, &r, now);
	/* A block starts a fresh count for the time after it. */
	if (rule != NULL)
		r.n = 0;
	if (ring_store(st, key, &r, now, r.last + event_ttl(c, event),
	    e) == -1)
		return -1;
	if (blocked)
		return 1;
	if (rule == NULL)
		return 0;
	num_format_duration(rule->window, w, sizeof(w));
	snprintf(reason, sizeof(reason), "%s: %u in %s", event, rule->count,
	    w);
	return make_block(st, c, &net, now, 0, reason, b, e) == -1 ? -1 : 2;
}

int
dyn_recent(struct state *st, const struct dyn_conf *c,
    const struct ipaddr *ip, const char *event, int64_t now, int64_t since,
    unsigned *n, struct mgerr *e)
{
	char key[KEY_LEN];
	struct ring r;
	struct cidr net;

	*n = 0;
	if (event_key(c, ip, event, &net, key, e) == -1 ||
	    ring_load(st, key, now, &r, e) == -1)
		return -1;
	*n = ring_count(&r, since);
	return 0;
}

int
dyn_block(struct state *st, const struct dyn_conf *c,
    const struct cidr *net, int64_t now, int64_t until, const char *reason,
    struct mgerr *e)
{
	char clean[DYN_REASON_MAX];
	struct cidr n = *net;
	size_t i;

	if (until <= now) {
		mgerr_set(e, "block end %lld is not after now %lld",
		    (long long)until, (long long)now);
		return -1;
	}
	if (n.len > 128) {
		mgerr_set(e, "bad prefix length %u", n.len);
		return -1;
	}
	ip_mask(&n.net, n.len);
	/* The reason is shown in listings and replies: one printable line. */
	strlcpy(clean, reason != NULL ? reason : "", sizeof(clean));
	for (i = 0; clean[i] != '\0'; i++)
		if ((unsigned char)clean[i] < 0x20 || clean[i] == 0x7f)
			clean[i] = '?';
	return make_block(st, c, &n, now, until, clean, NULL, e);
}

int
dyn_unblock(struct state *st, const struct cidr *net, struct mgerr *e)
{
	char key[KEY_LEN], text[CIDR_STRLEN];
	struct state_rec rec;
	struct cidr n = *net;
	int found;

	ip_mask(&n.net, n.len);
	cidr_format(&n, text, sizeof(text));
	snprintf(key, sizeof(key), "b %s", text);
	/* now 0: any record, live or not yet expired, is removed. */
	if ((found = state_get(st, key, strlen(key), 0, &rec, e)) <= 0)
		return found;
	return state_del(st, key, strlen(key), e) == -1 ? -1 : 1;
}

struct walk {
	const struct dyn_conf *c;
	int64_t		 now;
	int		(*fn)(void *, const struct dyn_entry *);
	void		*arg;
	struct mgerr	*e;
	long		 removed;
	unsigned char	 bits[PLEN_BYTES];
};

/*
 * Copies a store key into buf as a string and splits "K NET[ EVENT]".
 * Returns K, or 0 for a key that is not one of ours.
 */
static int
key_split(const void *key, size_t klen, char *buf, size_t size,
    char **net, const char **event)
{
	char *sp;

	if (klen < 3 || klen >= size)
		return 0;
	memcpy(buf, key, klen);
	buf[klen] = '\0';
	if (buf[1] != ' ' || strlen(buf) != klen)
		return 0;
	*net = buf + 2;
	*event = "";
	if (buf[0] == 'e') {
		if ((sp = strchr(*net, ' ')) == NULL)
			return 0;
		*sp = '\0';
		*event = sp + 1;
	}
	return buf[0];
}

static int
list_fn(void *arg, const void *key, size_t klen, const struct state_rec *rec)
{
	struct walk *w = arg;
	struct dyn_entry de;
	struct blockrec br;
	struct ring r;
	char buf[KEY_LEN], *net;
	const char *event;

	memset(&de, 0, sizeof(de));
	switch (key_split(key, klen, buf, sizeof(buf), &net, &event)) {
	case 'b':
		if (block_decode(buf, rec, &br, w->e) == -1)
			return -1;
		de.kind = "block";
		de.count = br.offences;
		de.until = br.until;
		de.last = br.since;
		de.reason = br.reason;
		break;
	case 'e':
		if (ring_decode(buf, rec, &r, w->e) == -1)
			return -1;
		de.kind = "events";
		de.count = ring_count(&r, w->now - event_ttl(w->c, event));
		de.total = (unsigned long)r.total;
		de.until = rec->expires;
		de.last = r.last;
		de.reason = "";
		break;
	default:
		return STATE_ITER_NEXT;
	}
	de.net = net;
	de.event = event;
	return w->fn(w->arg, &de) ? STATE_ITER_STOP : STATE_ITER_NEXT;
}

int
dyn_list(struct state *st, const struct dyn_conf *c, int64_t now,
    int (*fn)(void *, const struct dyn_entry *), void *arg, struct mgerr *e)
{
	struct walk w;

	memset(&w, 0, sizeof(w));
	w.c = c;
	w.now = now;
	w.fn = fn;
	w.arg = arg;
	w.e = e;
	return state_iter(st, now, list_fn, &w, e);
}

/* Marks for deletion what the current configuration no longer keeps. */
static int
expire_fn(void *arg, const void *key, size_t klen,
    const struct state_rec *rec)
{
	struct walk *w = arg;
	struct ring r;
	struct cidr c;
	char buf[KEY_LEN], *net;
	const char *event;
	int k;

	k = key_split(key, klen, buf, sizeof(buf), &net, &event);
	if (k == 'b' && cidr_parse(net, &c, NULL) == 0)
		w->bits[c.len / 8] |= (unsigned char)(1 << (c.len % 8));
	if (k != 'e' && k != 'o')
		return STATE_ITER_NEXT;
	if (ring_decode(buf, rec, &r, w->e) == -1)
		return -1;
	if (r.last > w->now - (k == 'e' ? event_ttl(w->c, event) :
	    w->c->memory))
		return STATE_ITER_NEXT;
	w->removed++;
	return STATE_ITER_DEL;
}

long
dyn_expire(struct state *st, const struct dyn_conf *c, int64_t now,
    struct mgerr *e)
{
	struct walk w;
	long n;

	memset(&w, 0, sizeof(w));
	w.c = c;
	w.now = now;
	w.e = e;
	if (state_iter(st, now, expire_fn, &w, e) == -1 ||
	    (n = state_expire(st, now, e)) == -1 ||
	    plen_store(st, w.bits, now, e) == -1)
		return -1;
	return w.removed + n;
}
