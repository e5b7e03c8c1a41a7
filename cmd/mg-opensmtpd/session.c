/*
 * mg-opensmtpd's sessions: the table keyed by smtpd's session id, and
 * the facts the reports bring (smtpd-filters(7), "report" lines) to the
 * session engine (session.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
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
	session_init(&s->ss, &o->sc, id);
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

int
is_outbound(const struct osmtpd *o, const struct sess *s)
{
	if (o->outbound == OUT_ALL)
		return 1;
	return o->outbound == OUT_AUTH && s->ss.cl.auth_user[0] != '\0';
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
	char ip[IP_STRLEN + 8];

	if (na < 4) {
		log_warn("session %s: short link-connect report", s->id);
		return;
	}
	strlcpy(s->rdns, a[0], sizeof(s->rdns));
	strlcpy(s->fcrdns, a[1], sizeof(s->fcrdns));
	/* "<unknown>" and "[address]" are no names. */
	if (s->rdns[0] != '\0' && s->rdns[0] != '<' && s->rdns[0] != '[')
		strlcpy(s->ss.cl.host, s->rdns, sizeof(s->ss.cl.host));
	endpoint(a[2], ip, sizeof(ip), s->ss.cl.port, sizeof(s->ss.cl.port));
	endpoint(a[3], s->ss.cl.lip, sizeof(s->ss.cl.lip), s->ss.cl.lport,
	    sizeof(s->ss.cl.lport));
	session_set_ip(&s->ss, ip);
}

/* link-auth: "user|result" up to 0.6, "result|user" from 0.7. */
static void
link_auth(struct sess *s, char *rest, int minor)
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
		session_auth_pass(&s->ss, NULL, user);
	else if (strcmp(result, "fail") == 0) {
		/* The user name stays out of the log: it may be a password. */
		session_log(&s->ss, "auth", NULL, "fail", NULL, NULL);
		session_event(&s->ss, "auth-fail");
	} else
		session_log(&s->ss, "auth", NULL, "error", NULL, result);
}

static void
link_disconnect(struct osmtpd *o, struct sess *s)
{
	session_log_end(&s->ss, "disconnect");
	sess_free(o, s);
}

/* tx-mail and tx-rcpt: "msgid|result|address" since 0.6. */
static void
tx_addr(struct sess *s, const char *ev, char *rest, int minor)
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
		if (strcmp(result, "ok") == 0 && !s->ss.tx.in_mail) {
			s->ss.tx.in_mail = 1;
			strlcpy(s->ss.tx.from, addr, sizeof(s->ss.tx.from));
		}
		return;
	}
	if (strcmp(result, "ok") == 0) {
		s->ss.tx.nrcpt++;
		strlcpy(s->ss.tx.rcpt, addr, sizeof(s->ss.tx.rcpt));
	} else if (strcmp(result, "permfail") == 0 && !s->rcpt_refused)
		/* smtpd refused it, not a step of ours. */
		session_event(&s->ss, "unknown-rcpt");
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
		session_event(&s->ss, "connect");
	} else if (strcmp(ev, "link-identify") == 0) {
		if ((bar = strchr(rest, '|')) != NULL && !s->ss.cl.helo_done) {
			strlcpy(s->ss.cl.helo, bar + 1, sizeof(s->ss.cl.helo));
			s->ss.cl.helo_done = 1;
		}
	} else if (strcmp(ev, "link-tls") == 0)
		strlcpy(s->ss.cl.tls, rest, sizeof(s->ss.cl.tls));
	else if (strcmp(ev, "link-auth") == 0)
		link_auth(s, rest, minor);
	else if (strcmp(ev, "tx-mail") == 0 || strcmp(ev, "tx-rcpt") == 0)
		tx_addr(s, ev, rest, minor);
	else if (strcmp(ev, "tx-reset") == 0 ||
	    strcmp(ev, "tx-rollback") == 0) {
		/* After commit or RSET; a rollback may cut DATA short. */
		if (!s->busy) {
			session_txn_reset(&s->ss);
			data_close(s);
		}
	}
}
