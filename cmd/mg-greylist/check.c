/*
 * The greylisting check.  A check reads the store under a shared lock
 * first: a known or whitelisted triplet usually needs no write, and
 * readers do not wait for each other.  Only when the decision changes a
 * record is the store opened again for writing, under the exclusive
 * lock, and the decision is taken again there, so two processes racing
 * on one triplet never lose a pass.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns.h"
#include "greylist.h"
#include "log.h"

/* Most PTR names followed when confirming a client name. */
#define FCRDNS_MAX	4

struct job {
	char		 key[GREY_KEY_MAX + 8];
	size_t		 klen;
	char		 net[CIDR_STRLEN];	/* "" when there is no IP */
};

struct verdict {
	int		 pass;
	int		 header;	/* first pass: say how long it took */
	int		 write;		/* the decision changes the store */
	int64_t		 left;		/* seconds until a retry may pass */
	int64_t		 delayed;
	const char	*why;
};

/* Records are renewed when a day (or a tenth of the lifetime) is gone. */
static int
renew_due(const struct grey *g, int64_t expires)
{
	int64_t slack = g->lifetime / 10 < 86400 ? g->lifetime / 10 : 86400;

	return expires - g->now < g->lifetime - slack;
}

/*
 * Counts a delivery that passed from the client's network: the first
 * pass of a triplet, and a known triplet's pass when its record is
 * renewed (at most daily), so a known triplet needs no write per pass.
 */
static int
count_net(struct grey *g, struct state *st, const struct job *j,
    struct mgerr *e)
{
	struct nrec n;
	int64_t exp;

	if (g->auto_whitelist == 0 || j->net[0] == '\0')
		return 0;
	if (nrec_get(st, j->net, g->now, &n, &exp, e) == -1)
		return -1;
	if (n.passes < UINT32_MAX)
		n.passes++;
	if (n.listed == 0 && n.passes >= (uint32_t)g->auto_whitelist) {
		n.listed = g->now;
		log_explain(g->explain,
		    "network %s whitelisted after %u passes", j->net, n.passes);
	}
	return nrec_put(st, j->net, g->now, g->now + g->lifetime, &n, e);
}

/* 1 (and v set) when the client's network is auto-whitelisted. */
static int
net_listed(struct grey *g, struct state *st, const struct job *j, int w,
    struct verdict *v, struct mgerr *e)
{
	struct nrec n;
	int64_t exp;
	int r;

	if (g->auto_whitelist == 0 || j->net[0] == '\0')
		return 0;
	if ((r = nrec_get(st, j->net, g->now, &n, &exp, e)) <= 0)
		return r;
	/* The threshold in force decides, not the one at the time. */
	if (n.passes < (uint32_t)g->auto_whitelist)
		return 0;
	v->pass = 1;
	v->why = "auto-whitelisted";
	v->write = renew_due(g, exp);
	if (w && v->write && nrec_put(st, j->net, g->now,
	    g->now + g->lifetime, &n, e) == -1)
		return -1;
	return 1;
}

static int
first_try(struct grey *g, struct state *st, const struct job *j, int w,
    struct verdict *v, struct mgerr *e)
{
	struct trec t;

	v->left = g->delay;
	v->why = "new";
	v->write = 1;
	if (!w)
		return 0;
	memset(&t, 0, sizeof(t));
	t.first = g->now;
	t.blocked = 1;
	return trec_put(st, j->key, j->klen, g->now, g->now + g->window, &t,
	    e);
}

/*
 * Decides for one triplet.  With w 0 the store is only read and
 * v->write says whether the decision must be written; with w 1 the
 * decision is written.  0, or -1 and e set.
 */
static int
decide(struct grey *g, struct state *st, const struct job *j, int w,
    struct verdict *v, struct mgerr *e)
{
	struct trec t;
	int64_t exp;
	int r;

	memset(v, 0, sizeof(*v));
	if ((r = net_listed(g, st, j, w, v, e)) != 0)
		return r < 0 ? -1 : 0;
	if ((r = trec_get(st, j->key, j->klen, g->now, &t, &exp, e)) == -1)
		return -1;
	if (r == 0)
		return first_try(g, st, j, w, v, e);
	if (t.passed == 0 && g->now < t.first) {
		/* The clock went back: start again rather than pass early. */
		log_explain(g->explain,
		    "first attempt lies in the future: clock went back");
		return first_try(g, st, j, w, v, e);
	}
	if (t.passed == 0 && g->now - t.first < g->delay) {
		v->left = g->delay - (g->now - t.first);
		v->why = "early";
		return 0;
	}
	v->pass = 1;
	if (t.passed == 0) {
		v->header = 1;
		v->delayed = g->now - t.first;
		v->why = "retried";
		v->write = 1;
		t.passed = g->now;
	} else {
		v->why = "known";
		v->write = renew_due(g, exp);
	}
	if (!w || !v->write)
		return 0;
	if (t.count < UINT32_MAX)
		t.count++;
	if (trec_put(st, j->key, j->klen, g->now, g->now + g->lifetime, &t,
	    e) == -1)
		return -1;
	return count_net(g, st, j, e);
}

/* Read first; write only when the decision needs it. */
static int
decide_stored(struct grey *g, const struct job *j, struct verdict *v,
    int (*late_wl)(struct grey *), struct mgerr *e)
{
	struct state *st;
	int r;

	if ((st = grey_open(g, STATE_RDONLY, e)) == NULL)
		return -1;
	r = decide(g, st, j, 0, v, e);
	state_close(st);
	if (r == -1 || !v->write)
		return r;
	if (!v->pass && late_wl(g)) {
		v->pass = 1;
		v->write = 0;
		v->why = "whitelisted client name";
		return 0;
	}
	if ((st = grey_open(g, STATE_RDWR, e)) == NULL)
		return -1;
	r = decide(g, st, j, 1, v, e);
	state_close(st);
	return r;
}

/* 1 if the client's name, forward-confirmed (FCrDNS), is whitelisted. */
static int
name_listed(struct grey *g)
{
	struct dns_result ptr, fwd;
	struct mgerr e;
	struct dns *d;
	size_t i, k;
	int hit = 0;

	if (g->clients == NULL || !g->env.have_ip)
		return 0;
	/* Made once: the served form asks it again for every request. */
	if (g->dns == NULL && (g->dns = dns_new(g->resolver,
	    (unsigned)g->dns_timeout, 2, &e)) == NULL) {
		log_warn("client names: %s", e.msg);
		return 0;
	}
	d = g->dns;
	memset(&ptr, 0, sizeof(ptr));
	if (dns_ptr(d, &g->env.ip, &ptr, &e) == -1)
		ptr.n = 0;
	for (i = 0; i < ptr.n && i < FCRDNS_MAX && !hit; i++) {
		if (!list_match_host(g->clients, ptr.names[i], NULL))
			continue;
		memset(&fwd, 0, sizeof(fwd));
		if (dns_addrs(d, ptr.names[i], &fwd, &e) == 0)
			for (k = 0; k < fwd.n && !hit; k++)
				hit = ip_cmp(&fwd.addrs[k], &g->env.ip) == 0;
		if (hit)
			log_explain(g->explain, "client name %s is whitelisted",
			    ptr.names[i]);
		dns_result_free(&fwd);
	}
	dns_result_free(&ptr);
	return hit;
}

int
grey_spf_passed(const struct grey *g, const char *domain)
{
	char spf[ADDR_DOMAIN_MAX + 1];
	int have;

	have = g->spf_pass != NULL ?
	    strlcpy(spf, g->spf_pass, sizeof(spf)) > 0 :
	    authres_spf_pass(g->env.authres, spf, sizeof(spf));
	return have && domain[0] != '\0' && strcasecmp(spf, domain) == 0;
}

/*
 * A sender whitelist entry names a domain that anyone can forge, so it
 * counts only when SPF passed for the sender's domain, as a client name
 * counts only when forward-confirmed.
 */
static int
sender_listed(struct grey *g)
{
	struct mailaddr a;
	struct mgerr e;

	if (g->senders == NULL || addr_parse(g->env.from, &a, &e) == -1 ||
	    !list_match_addr(g->senders, a.addr, NULL))
		return 0;
	if (grey_spf_passed(g, a.domain))
		return 1;
	log_explain(g->explain, "sender %s is whitelisted, but SPF did not "
	    "pass for %s: not trusted", a.addr, a.domain);
	return 0;
}

/* The whitelists that need no lookup.  Returns the reason, or NULL. */
static const char *
listed(struct grey *g, const char *rcpt)
{
	struct mailaddr a;
	struct mgerr e;

	if (g->exempt_auth && g->env.auth_user != NULL)
		return "authenticated";
	if (g->exempt_relay && g->env.relayclient)
		return "relayclient";
	if (g->clients != NULL && g->env.have_ip &&
	    list_match_ip(g->clients, &g->env.ip, NULL))
		return "whitelisted client";
	if (sender_listed(g))
		return "whitelisted sender";
	if (g->rcpts != NULL && addr_parse(rcpt, &a, &e) == 0 &&
	    list_match_addr(g->rcpts, a.addr, NULL))
		return "whitelisted recipient";
	return NULL;
}

static void
log_decision(const struct grey *g, const char *rcpt,
    const struct verdict *v, const struct outcome *o)
{
	struct logline l;

	log_begin(&l);
	log_kv(&l, "decision", o->code == EXIT_ACCEPT ? "accept" : "defer");
	log_kv(&l, "ip", g->env.ip_text != NULL ? g->env.ip_text : "");
	log_kv(&l, "from", g->env.from != NULL ? g->env.from : "");
	log_kv(&l, "rcpt", rcpt != NULL ? rcpt : "");
	if (v->why != NULL)
		log_kv(&l, "greylist", v->why);
	if (!v->pass && v->why != NULL)
		log_kvi(&l, "left", (long long)v->left);
	if (v->header)
		log_kvi(&l, "delayed", (long long)v->delayed);
	if (o->code != EXIT_ACCEPT)
		log_kv(&l, "reply", o->reply);
	log_kvi(&l, "pid", (long long)getpid());
	log_end(&l);
}

/* Checks recipient i; the first deferral decides. */
static int
check_one(struct grey *g, size_t i, struct outcome *o, struct mgerr *e)
{
	const char *rcpt = g->env.rcpt.v[i], *why;
	struct verdict v;
	struct job j;
	char val[200];

	memset(&v, 0, sizeof(v));
	if ((why = listed(g, rcpt)) != NULL) {
		v.pass = 1;
		v.why = why;
		log_explain(g->explain, "%s: greylisting skipped", why);
	} else {
		j.klen = envelope_key(g, i, j.key, sizeof(j.key), j.net,
		    sizeof(j.net));
		log_explain(g->explain, "key \"%s\"", j.key);
		if (decide_stored(g, &j, &v, name_listed, e) == -1)
			return -1;
	}
	if (!v.pass)
		outcome_refuse(o, EXIT_DEFER, "451", "4.7.1", "greylisted, "
		    "please try again in %lld seconds", (long long)v.left);
	else if (v.header && o->nhdr == 0) {
		snprintf(val, sizeof(val), "delayed %lld seconds by mg-greylist "
		    "at %s", (long long)v.delayed, g->hostname);
		if (outcome_header(o, "X-Greylist", val, e) == -1)
			return -1;
	}
	log_decision(g, rcpt, &v, o);
	return 0;
}

static int
check_all(struct grey *g, struct outcome *o, struct mgerr *e)
{
	size_t i;

	if (g->env.from == NULL) {
		mgerr_set(e, "no envelope sender (--from or SMTPMAILFROM)");
		return -1;
	}
	if (g->env.rcpt.n == 0) {
		mgerr_set(e, "no recipient (--rcpt or SMTPRCPTTO)");
		return -1;
	}
	if (!g->env.have_ip && g->keynet != KEYNET_NONE) {
		mgerr_set(e, "no client address (--ip or TCPREMOTEIP)");
		return -1;
	}
	for (i = 0; i < g->env.rcpt.n; i++)
		if (check_one(g, i, o, e) == -1)
			return -1;
	return 0;
}

void
grey_decide(struct grey *g, struct outcome *o)
{
	struct mgerr e;

	if (!g->enable) {
		log_explain(g->explain,
		    "greylisting is not enabled (enable yes)");
	} else if (check_all(g, o, &e) == -1) {
		log_error("%s", e.msg);
		outcome_free(o);
		outcome_init(o);
		outcome_tempfail(o, e.temp ? "greylist store unavailable" :
		    "greylist error");
	}
}

int
cmd_check(struct grey *g)
{
	struct outcome o;
	int rc;

	outcome_init(&o);
	grey_decide(g, &o);
	rc = outcome_emit(&o, g->spp, 0);
	outcome_free(&o);
	return rc;
}
