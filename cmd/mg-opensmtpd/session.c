/*
 * mg-opensmtpd's sessions: the table keyed by smtpd's session id, the
 * facts the reports bring (smtpd-filters(7), "report" lines), the
 * environment each step gets (the envelope of mailguard(7), as mg-wrap
 * builds it), header fields, decision log lines and the dynamic screen.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "authres.h"
#include "hdr.h"
#include "log.h"
#include "state.h"
#include "osmtpd.h"

static unsigned
bucket(const char *id)
{
	unsigned h = 0;

	while (*id != '\0')
		h = h * 31 + (unsigned char)*id++;
	return h % (sizeof(O.tab) / sizeof(O.tab[0]));
}

struct sess *
sess_get(struct osmtpd *o, const char *id, int create)
{
	unsigned b = bucket(id);
	struct sess *s;

	for (s = o->tab[b]; s != NULL; s = s->next)
		if (strcmp(s->id, id) == 0)
			return s;
	if (!create || (s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	strlcpy(s->id, id, sizeof(s->id));
	strlcpy(s->ip, "unknown", sizeof(s->ip));
	s->next = o->tab[b];
	o->tab[b] = s;
	o->nsess++;
	return s;
}

void
sess_free(struct osmtpd *o, struct sess *s)
{
	struct sess **pp;
	struct qline *q;

	for (pp = &o->tab[bucket(s->id)]; *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	if (s->run != NULL) {
		step_abort(s->run);
		free(s->run);
	}
	data_close(s);
	while ((q = s->qhead) != NULL) {
		s->qhead = q->next;
		free(q);
	}
	free(s->xstep.argv);
	free(s);
	o->nsess--;
}

void
txn_reset(struct sess *s)
{
	s->in_mail = 0;
	s->from[0] = s->rcpt[0] = '\0';
	s->nrcpt = 0;
	s->thdr[0] = '\0';
}

void
log_decision(const struct sess *s, const char *stage, const char *step,
    const char *decision, const char *reply, const char *why)
{
	struct logline l;

	log_begin(&l);
	log_kv(&l, "stage", stage);
	if (step != NULL)
		log_kv(&l, "step", step);
	log_kv(&l, "decision", decision);
	log_kv(&l, "session", s->id);
	log_kv(&l, "ip", s->ip);
	if (s->helo_done)
		log_kv(&l, "helo", s->helo);
	if (s->auth_user[0] != '\0')
		log_kv(&l, "auth", s->auth_user);
	if (s->in_mail)
		log_kv(&l, "from", s->from);
	if (s->rcpt[0] != '\0')
		log_kv(&l, "rcpt", s->rcpt);
	if (reply != NULL && reply[0] != '\0')
		log_kv(&l, "reply", reply);
	if (why != NULL)
		log_kv(&l, "why", why);
	log_end(&l);
}

int
is_outbound(const struct osmtpd *o, const struct sess *s)
{
	if (o->outbound == OUT_ALL)
		return 1;
	return o->outbound == OUT_AUTH && s->auth_user[0] != '\0';
}

/*
 * The environment of a step: the envelope of mailguard(7) with the
 * names tcpserver and qmail use, so a chain file works unchanged under
 * mg-wrap and here.
 */
int
sess_env(struct osmtpd *o, struct sess *s)
{
	struct stepenv *e = &o->env;
	int host = s->rdns[0] != '\0' && s->rdns[0] != '<' &&
	    s->rdns[0] != '[';

	if (stepenv_set(e, "TCPREMOTEIP", s->have_ip ? s->ip : NULL) ==
	    -1 ||
	    stepenv_set(e, "TCPREMOTEPORT", s->rport[0] ? s->rport : NULL)
	    == -1 ||
	    stepenv_set(e, "TCPLOCALIP", s->lip[0] ? s->lip : NULL) == -1 ||
	    stepenv_set(e, "TCPLOCALPORT", s->lport[0] ? s->lport : NULL)
	    == -1 ||
	    stepenv_set(e, "TCPREMOTEHOST", host ? s->rdns : NULL) == -1 ||
	    stepenv_smtp(e, s->helo_done ? s->helo : NULL,
	    s->in_mail ? s->from : NULL, s->rcpt, s->in_mail ? s->nrcpt : -1,
	    s->authres) == -1)
		return -1;
	if (stepenv_set(e, "SMTPAUTHUSER", s->auth_user[0] ? s->auth_user
	    : NULL) == -1 ||
	    stepenv_set(e, "RELAYCLIENT", s->auth_user[0] ? o->relayclient
	    : NULL) == -1)
		return -1;
	return 0;
}

/* "1.2.3.4:25", "[::1]:25", "[IPv6:::1]:25" into address and port. */
static void
endpoint(const char *t, char *ip, size_t ipcap, char *port, size_t pcap)
{
	const char *c;
	char buf[IP_STRLEN + 16];

	ip[0] = port[0] = '\0';
	if (strncmp(t, "unix:", 5) == 0)
		return;
	strlcpy(buf, t, sizeof(buf));
	if (buf[0] == '[' && (c = strchr(buf, ']')) != NULL) {
		if (c[1] == ':')
			strlcpy(port, c + 2, pcap);
		buf[c - buf] = '\0';
		t = buf + 1;
		if (strncasecmp(t, "IPv6:", 5) == 0)
			t += 5;
		strlcpy(ip, t, ipcap);
		return;
	}
	/* One colon: IPv4 and port; more: a bare IPv6 address. */
	if ((c = strrchr(buf, ':')) != NULL && strchr(buf, ':') == c) {
		strlcpy(port, c + 1, pcap);
		buf[c - buf] = '\0';
	}
	strlcpy(ip, buf, ipcap);
}

static void
link_connect(struct sess *s, char **a, size_t na)
{
	struct mgerr e;

	if (na < 4) {
		log_warn("session %s: short link-connect report", s->id);
		return;
	}
	strlcpy(s->rdns, a[0], sizeof(s->rdns));
	strlcpy(s->fcrdns, a[1], sizeof(s->fcrdns));
	endpoint(a[2], s->ip, sizeof(s->ip), s->rport, sizeof(s->rport));
	endpoint(a[3], s->lip, sizeof(s->lip), s->lport, sizeof(s->lport));
	s->have_ip = s->ip[0] != '\0' && ip_parse(s->ip, &s->ipa, &e) == 0;
	if (!s->have_ip)
		strlcpy(s->ip, "unknown", sizeof(s->ip));
}

/* A successful AUTH: the user, and auth=pass for MG_AUTHRES. */
static void
auth_pass(struct osmtpd *o, struct sess *s, const char *user)
{
	struct authres ar;
	char field[HDR_FIELD_MAX + 2];
	struct mgerr e;

	strlcpy(s->auth_user, user, sizeof(s->auth_user));
	authres_init(&ar, o->hostname != NULL ? o->hostname : o->admd[0] ?
	    o->admd : "localhost");
	/* RFC 8601 section 2.7.4: the auth method, smtp.auth property. */
	authres_add(&ar, "auth", "pass", NULL, "smtp.auth", user,
	    (const char *)NULL);
	if (hdr_fold("Authentication-Results", authres_value(&ar), field,
	    sizeof(field) - 1, &e) == 0) {
		strlcat(field, "\n", sizeof(field));
		fields_merge(s->shdr, sizeof(s->shdr), NULL, field);
		authres_merge(s->authres, sizeof(s->authres), field);
	}
	log_decision(s, "auth", NULL, "pass", NULL, NULL);
}

/* link-auth: "user|result" up to 0.6, "result|user" from 0.7. */
static void
link_auth(struct osmtpd *o, struct sess *s, char *rest, int minor)
{
	char *bar = strchr(rest, '|'), *user, *result;

	if (bar == NULL) {
		log_warn("session %s: short link-auth report", s->id);
		return;
	}
	*bar = '\0';
	user = rest;
	result = bar + 1;
	if (minor >= 7) {
		result = rest;
		user = bar + 1;
	}
	if (strcmp(result, "pass") == 0)
		auth_pass(o, s, user);
	else if (strcmp(result, "fail") == 0) {
		/* The user name stays out of the log: it may be a password. */
		log_decision(s, "auth", NULL, "fail", NULL, NULL);
		dyn_event(o, s, "auth-fail");
	} else
		log_decision(s, "auth", NULL, "error", NULL, result);
}

static void
link_disconnect(struct osmtpd *o, struct sess *s)
{
	struct logline l;

	log_begin(&l);
	log_kv(&l, "session", "end");
	log_kv(&l, "id", s->id);
	log_kv(&l, "ip", s->ip);
	if (s->helo_done)
		log_kv(&l, "helo", s->helo);
	if (s->tls[0] != '\0')
		log_kv(&l, "tls", s->tls);
	if (s->auth_user[0] != '\0')
		log_kv(&l, "auth", s->auth_user);
	log_kvi(&l, "messages", s->nmsg);
	log_kvi(&l, "refused", s->nrefused);
	log_end(&l);
	sess_free(o, s);
}

/* tx-mail and tx-rcpt: "msgid|result|address" since 0.6. */
static void
tx_addr(struct osmtpd *o, struct sess *s, const char *ev, char *rest,
    int minor)
{
	char *a[3];
	size_t n = 0;
	char *p = rest, *bar;
	const char *result, *addr;

	while (n < 2 && (bar = strchr(p, '|')) != NULL) {
		*bar = '\0';
		a[n++] = p;
		p = bar + 1;
	}
	a[n++] = p;
	if (n < 3)
		return;
	result = minor < 6 ? a[2] : a[1];
	addr = minor < 6 ? a[1] : a[2];
	if (strcmp(ev, "tx-mail") == 0) {
		/* The mail-from request told us already, unless none came. */
		if (strcmp(result, "ok") == 0 && !s->in_mail) {
			s->in_mail = 1;
			strlcpy(s->from, addr, sizeof(s->from));
		}
		return;
	}
	if (strcmp(result, "ok") == 0) {
		s->nrcpt++;
		strlcpy(s->rcpt, addr, sizeof(s->rcpt));
	} else if (strcmp(result, "permfail") == 0 && !s->rcpt_refused)
		/* smtpd refused it, not a step of ours. */
		dyn_event(o, s, "unknown-rcpt");
}

void
report(struct osmtpd *o, char **f, size_t nf, int minor)
{
	const char *ev = f[4];
	char *rest = nf > 6 ? f[6] : NULL, *a[4], *p, *bar;
	size_t na = 0;
	struct sess *s;

	if (strcmp(f[3], "smtp-in") != 0)
		return;
	s = sess_get(o, f[5], strcmp(ev, "link-connect") == 0);
	if (s == NULL)
		return;		/* a session we never saw begin */
	if (strcmp(ev, "link-disconnect") == 0) {
		link_disconnect(o, s);
		return;
	}
	if (rest == NULL)
		rest = f[5] + strlen(f[5]);	/* "" */
	if (strcmp(ev, "link-connect") == 0) {
		for (p = rest; na < 3 && (bar = strchr(p, '|')) != NULL;
		    p = bar + 1) {
			*bar = '\0';
			a[na++] = p;
		}
		a[na++] = p;
		link_connect(s, a, na);
	} else if (strcmp(ev, "link-identify") == 0) {
		if ((bar = strchr(rest, '|')) != NULL && !s->helo_done) {
			strlcpy(s->helo, bar + 1, sizeof(s->helo));
			s->helo_done = 1;
		}
	} else if (strcmp(ev, "link-tls") == 0)
		strlcpy(s->tls, rest, sizeof(s->tls));
	else if (strcmp(ev, "link-auth") == 0)
		link_auth(o, s, rest, minor);
	else if (strcmp(ev, "tx-mail") == 0 || strcmp(ev, "tx-rcpt") == 0)
		tx_addr(o, s, ev, rest, minor);
	else if (strcmp(ev, "tx-reset") == 0 ||
	    strcmp(ev, "tx-rollback") == 0) {
		/* After commit or RSET; a rollback may cut DATA short. */
		if (!s->busy) {
			txn_reset(s);
			data_close(s);
		}
	}
}

/* --- the dynamic screen ----------------------------------------------- */

int
setup_dyn(struct osmtpd *o, struct mgerr *e)
{
	return dyn_opts_load(&o->dyn_opts, &o->dyn, &o->rules, e);
}

static int
recorded(const struct osmtpd *o, const char *event)
{
	static const char *const def[] = { "auth-fail", "unknown-rcpt" };
	size_t i;

	if (o->dyn_record.n == 0) {
		for (i = 0; i < sizeof(def) / sizeof(def[0]); i++)
			if (strcmp(def[i], event) == 0)
				return 1;
		return 0;
	}
	for (i = 0; i < o->dyn_record.n; i++)
		if (strcmp(o->dyn_record.v[i], event) == 0)
			return 1;
	return 0;
}

/*
 * Records an event for the client.  The store's lock wait is bounded
 * by --lock-timeout; this is the one place the loop may wait.
 */
void
dyn_event(struct osmtpd *o, struct sess *s, const char *event)
{
	struct state *st;
	struct dyn_block b;
	struct mgerr e;
	struct logline l;
	char path[4096];
	int rc;

	if (!s->have_ip || !recorded(o, event))
		return;
	if (state_path(o->statedir, "dynamic", path, sizeof(path), &e) ==
	    -1 || (st = state_open(path, STATE_RDWR,
	    (unsigned)o->lock_timeout, &e)) == NULL) {
		log_warn("record %s: %s", event, e.msg);
		return;
	}
	rc = dyn_record(st, &o->dyn, &s->ipa, event, time(NULL), &b, &e);
	state_close(st);
	if (rc == -1) {
		log_warn("record %s: %s", event, e.msg);
		return;
	}
	log_begin(&l);
	log_kv(&l, "event", event);
	log_kv(&l, "session", s->id);
	log_kv(&l, "ip", s->ip);
	if (rc == 2) {
		log_kv(&l, "dynamic", "blocked");
		log_kv(&l, "net", b.net);
		log_kvi(&l, "offences", b.offences);
	}
	log_end(&l);
}
