/*
 * session: the session engine every adapter uses (session.h).
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "action.h"
#include "authres.h"
#include "fields.h"
#include "hdr.h"
#include "log.h"
#include "num.h"
#include "session.h"
#include "state.h"

#define TEMPFAIL	"451 4.3.0 temporary failure"

void
session_init(struct session *s, const struct session_conf *conf,
    const char *id)
{
	memset(s, 0, sizeof(*s));
	s->conf = conf;
	strlcpy(s->id, id != NULL ? id : "", sizeof(s->id));
	strlcpy(s->cl.ip, "unknown", sizeof(s->cl.ip));
	s->start = clock_ms();
	s->ncmd = -1;
}

int
session_set_ip(struct session *s, const char *ip)
{
	struct mgerr e;

	s->cl.have_ip = ip != NULL && *ip != '\0' &&
	    ip_parse(ip, &s->cl.ipa, &e) == 0;
	strlcpy(s->cl.ip, s->cl.have_ip ? ip : "unknown", sizeof(s->cl.ip));
	return s->cl.have_ip ? 0 : -1;
}

void
session_txn_reset(struct session *s)
{
	s->tx.in_mail = 0;
	s->tx.from[0] = s->tx.rcpt[0] = '\0';
	s->tx.nrcpt = 0;
	s->tx.hdr[0] = '\0';
}

void
session_auth_pass(struct session *s, const char *mech, const char *user)
{
	struct authres ar;
	char field[HDR_FIELD_MAX + 2];
	struct mgerr e;

	strlcpy(s->cl.auth_user, user, sizeof(s->cl.auth_user));
	authres_init(&ar, s->conf->hostname);
	/* RFC 8601 section 2.7.4: the auth method, smtp.auth property. */
	authres_add(&ar, "auth", "pass", NULL, "smtp.auth", user,
	    (const char *)NULL);
	if (hdr_fold("Authentication-Results", authres_value(&ar), field,
	    sizeof(field) - 1, &e) == 0) {
		strlcat(field, "\n", sizeof(field));
		fields_merge(s->hdr, sizeof(s->hdr), NULL, field);
		authres_merge(s->authres, sizeof(s->authres), field);
	}
	session_log(s, "auth", mech, "pass", NULL, NULL);
}

int
session_env(const struct session *s, struct stepenv *e)
{
	const struct session_client *c = &s->cl;
	const char *auth = c->auth_user[0] != '\0' ? c->auth_user : NULL;

	if (stepenv_set(e, "TCPREMOTEIP", c->have_ip ? c->ip : NULL) == -1 ||
	    stepenv_set(e, "TCPREMOTEPORT", c->port[0] ? c->port : NULL) ==
	    -1 ||
	    stepenv_set(e, "TCPLOCALIP", c->lip[0] ? c->lip : NULL) == -1 ||
	    stepenv_set(e, "TCPLOCALPORT", c->lport[0] ? c->lport : NULL) ==
	    -1 ||
	    stepenv_set(e, "TCPREMOTEHOST", c->host[0] ? c->host : NULL) ==
	    -1 ||
	    stepenv_smtp(e, c->helo_done ? c->helo : NULL,
	    s->tx.in_mail ? s->tx.from : NULL, s->tx.rcpt,
	    s->tx.in_mail ? s->tx.nrcpt : -1, s->authres) == -1 ||
	    stepenv_set(e, "SMTPAUTHUSER", auth) == -1 ||
	    stepenv_set(e, "RELAYCLIENT", auth != NULL ?
	    s->conf->relayclient : c->relay_env) == -1)
		return -1;
	return 0;
}

/* --- a stage ---------------------------------------------------------- */

void
session_stage_begin(struct session *s, enum chain_stage st)
{
	s->stage = st;
	s->stepi = 0;
	s->over = 0;
	s->delay_ms = 0;
	memset(&s->ans, 0, sizeof(s->ans));
	s->ans.what = SESSION_GO;
}

const struct chain_step *
session_next_step(struct session *s)
{
	const struct chain *c = s->conf->chain;

	if (s->over || c == NULL || s->stepi >= c->n[s->stage]) {
		s->over = 1;
		return NULL;
	}
	return &c->step[s->stage][s->stepi++];
}

int
session_drops(const char *reply, enum chain_stage st)
{
	/*
	 * RFC 5321 section 3.8 (421) and RFC 7504 (521) close the
	 * connection; 554 is "no SMTP service here" before DATA (section
	 * 4.2.3), what a check's drop action writes, and after DATA the
	 * ordinary refusal of one message.
	 */
	return strncmp(reply, "421", 3) == 0 ||
	    strncmp(reply, "521", 3) == 0 ||
	    (st < CHAIN_DATA && strncmp(reply, "554", 3) == 0);
}

/* Ends the stage with a refusal; counts it. */
static void
refuse(struct session *s, int code, const char *reply)
{
	s->over = 1;
	s->ans.code = code;
	strlcpy(s->ans.reply, reply, sizeof(s->ans.reply));
	s->ans.what = session_drops(reply, s->stage) ? SESSION_DROP :
	    SESSION_REFUSE;
	s->nrefused++;
}

void
session_refuse(struct session *s, const char *step, const char *reply,
    const char *why)
{
	session_log(s, chain_stage_name(s->stage), step,
	    reply[0] == '4' && strncmp(reply, "421", 3) != 0 ? "defer" :
	    "reject", reply, why);
	refuse(s, (int)strtol(reply, NULL, 10), reply);
}

void
session_step_failed(struct session *s, const struct chain_step *st,
    const char *why)
{
	session_log(s, chain_stage_name(s->stage), st != NULL ? st->name :
	    NULL, st != NULL ? "fail" : "defer", TEMPFAIL, why);
	refuse(s, 451, st != NULL ? TEMPFAIL : TEMPFAIL " (out of memory)");
}

void
session_step_done(struct session *s, const struct chain_step *st,
    const struct step_result *res)
{
	const char *sname = chain_stage_name(s->stage);
	char why[32];

	if (res->verdict == STEP_ACCEPT && res->rcpt[0] != '\0') {
		/*
		 * The step names the mailbox to deliver to (mg-batv strips
		 * a tag) or the sender to send as (mg-batv sign tags it).
		 */
		if (s->stage == CHAIN_RCPT || s->stage == CHAIN_MAIL) {
			session_log(s, sname, st->name, "rewrite", NULL,
			    res->rcpt);
			if (s->stage == CHAIN_RCPT)
				strlcpy(s->tx.rcpt, res->rcpt,
				    sizeof(s->tx.rcpt));
			else
				strlcpy(s->tx.from, res->rcpt,
				    sizeof(s->tx.from));
			s->ans.rewrote = 1;
		} else
			session_log(s, sname, st->name, "accept", NULL,
			    "address ignored outside mail and rcpt");
		return;
	}
	if (res->verdict == STEP_ACCEPT && res->delay_ms > 0) {
		snprintf(why, sizeof(why), "wait %lld ms",
		    (long long)res->delay_ms);
		session_log(s, sname, st->name, "accept", NULL, why);
		s->delay_ms += res->delay_ms;
		return;
	}
	if (res->verdict != STEP_ACCEPT) {
		session_log(s, sname, st->name, res->failed ? "fail" :
		    res->verdict == STEP_REJECT ? "reject" : "defer",
		    res->reply, res->why);
		refuse(s, res->code, res->reply);
		return;
	}
	session_log(s, sname, st->name, "accept", NULL, NULL);
	if (s->stage <= CHAIN_HELO ? fields_merge(s->hdr, sizeof(s->hdr),
	    NULL, res->headers) > 0 : fields_merge(s->tx.hdr,
	    sizeof(s->tx.hdr), s->hdr, res->headers) > 0)
		log_warn("header fields of %s dropped: too many", st->name);
	authres_merge(s->authres, sizeof(s->authres), res->headers);
}

enum session_do
session_run_stage(struct session *s, enum chain_stage st, int in_fd,
    struct stepenv *e, unsigned timeout_ms)
{
	const struct chain_step *step;
	struct step_result *res;
	struct mgerr err;

	session_stage_begin(s, st);
	if (s->conf->chain == NULL || s->conf->chain->n[st] == 0)
		return SESSION_GO;
	if ((res = malloc(sizeof(*res))) == NULL) {
		session_step_failed(s, NULL, "out of memory");
		return s->ans.what;
	}
	while ((step = session_next_step(s)) != NULL) {
		if (session_env(s, e) == -1) {
			session_step_failed(s, NULL, "out of memory");
			break;
		}
		if (step_run(step, e->v, in_fd, timeout_ms, res, &err) == -1)
			log_error("run %s: %s", step->name, err.msg);
		session_step_done(s, step, res);
		if (s->delay_ms > 0) {
			/* One session a process: waiting blocks no other. */
			poll(NULL, 0, (int)s->delay_ms);
			s->delay_ms = 0;
		}
	}
	free(res);
	return s->ans.what;
}

/* --- the log ---------------------------------------------------------- */

/* The last line of a multi-line reply says the most. */
static void
last_line(const char *reply, char *out, size_t cap)
{
	const char *nl = strrchr(reply, '\n');

	if (nl != NULL && nl[1] == '\0')
		while (nl > reply && nl[-1] != '\n')
			nl--;
	strlcpy(out, nl != NULL && nl != reply ? nl : reply, cap);
	out[strcspn(out, "\r\n")] = '\0';
}

void
session_log(const struct session *s, const char *stage, const char *step,
    const char *decision, const char *reply, const char *why)
{
	struct logline l;
	char last[SMTP_REPLY_MAX + 1];

	log_begin(&l);
	log_kv(&l, "stage", stage);
	if (step != NULL)
		log_kv(&l, "step", step);
	log_kv(&l, "decision", decision);
	if (s->id[0] != '\0')
		log_kv(&l, "session", s->id);
	log_kv(&l, "ip", s->cl.ip);
	if (s->cl.helo_done)
		log_kv(&l, "helo", s->cl.helo);
	if (s->cl.auth_user[0] != '\0')
		log_kv(&l, "auth", s->cl.auth_user);
	if (s->tx.in_mail)
		log_kv(&l, "from", s->tx.from);
	if (s->tx.rcpt[0] != '\0')
		log_kv(&l, "rcpt", s->tx.rcpt);
	if (reply != NULL && reply[0] != '\0') {
		last_line(reply, last, sizeof(last));
		log_kv(&l, "reply", last);
	}
	if (why != NULL)
		log_kv(&l, "why", why);
	if (s->conf->log_pid)
		log_kvi(&l, "pid", (long long)getpid());
	log_end(&l);
}

void
session_log_end(const struct session *s, const char *end)
{
	struct logline l;

	log_begin(&l);
	log_kv(&l, "session", "end");
	if (s->id[0] != '\0')
		log_kv(&l, "id", s->id);
	log_kv(&l, "ip", s->cl.ip);
	if (s->cl.helo_done)
		log_kv(&l, "helo", s->cl.helo);
	if (s->cl.tls[0] != '\0')
		log_kv(&l, "tls", s->cl.tls);
	if (s->cl.auth_user[0] != '\0')
		log_kv(&l, "auth", s->cl.auth_user);
	if (s->ncmd >= 0)
		log_kvi(&l, "commands", s->ncmd);
	log_kvi(&l, "messages", s->nmsg);
	log_kvi(&l, "refused", s->nrefused);
	log_kvi(&l, "ms", (long long)(clock_ms() - s->start));
	log_kv(&l, "end", end);
	if (s->conf->log_pid)
		log_kvi(&l, "pid", (long long)getpid());
	log_end(&l);
}

/* --- the dynamic screen ----------------------------------------------- */

static int
recorded(const struct session *s, const char *event)
{
	static const char *const def[] = { "auth-fail", "unknown-rcpt",
	    "pregreet" };
	const struct opt_list *l = s->conf->dyn_record;
	size_t i;

	if (l == NULL || l->n == 0) {
		for (i = 0; i < sizeof(def) / sizeof(def[0]); i++)
			if (strcmp(def[i], event) == 0)
				return 1;
		return 0;
	}
	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], event) == 0)
			return 1;
	return 0;
}

static struct state *
open_store(const struct session *s, int mode, struct mgerr *e)
{
	char path[4096];

	if (state_path(s->conf->statedir, "dynamic", path, sizeof(path), e)
	    == -1)
		return NULL;
	return state_open(path, mode, (unsigned)s->conf->lock_timeout, e);
}

int
session_event(struct session *s, const char *event)
{
	struct state *st;
	struct dyn_block b;
	struct mgerr e;
	struct logline l;
	int rc;

	if (!s->cl.have_ip || s->conf->dyn == NULL || !recorded(s, event))
		return 0;
	/* The store's lock wait is bounded by --lock-timeout. */
	if ((st = open_store(s, STATE_RDWR, &e)) == NULL) {
		log_warn("record %s: %s", event, e.msg);
		return 0;
	}
	rc = dyn_record(st, s->conf->dyn, &s->cl.ipa, event, time(NULL), &b,
	    &e);
	state_close(st);
	if (rc == -1) {
		log_warn("record %s: %s", event, e.msg);
		return 0;
	}
	log_begin(&l);
	log_kv(&l, "event", event);
	if (s->id[0] != '\0')
		log_kv(&l, "session", s->id);
	log_kv(&l, "ip", s->cl.ip);
	if (rc == 2) {
		log_kv(&l, "dynamic", "blocked");
		log_kv(&l, "net", b.net);
		log_kvi(&l, "offences", b.offences);
	}
	if (s->conf->log_pid)
		log_kvi(&l, "pid", (long long)getpid());
	log_end(&l);
	return rc == 2;
}

static int
block_reply(struct session *s, char *reply, size_t cap)
{
	struct state *st;
	struct dyn_block b;
	struct mgerr e;
	char left[32];
	int64_t now = time(NULL);
	int act = s->conf->dyn_action, rc;

	if (act == ACT_OFF || !s->cl.have_ip || s->conf->dyn == NULL)
		return 0;
	if ((st = open_store(s, STATE_RDONLY, &e)) == NULL)
		rc = -1;
	else {
		rc = dyn_check(st, s->conf->dyn, &s->cl.ipa, now, &b, &e);
		state_close(st);
	}
	if (rc == -1) {
		log_error("dynamic screen: %s", e.msg);
		snprintf(reply, cap, TEMPFAIL " (dynamic screen)");
		return 1;
	}
	if (rc == 0)
		return 0;
	num_format_duration(b.until - now, left, sizeof(left));
	snprintf(reply, cap, "%s %s is blocked for %s more (%s)",
	    act == ACT_DEFER ? "451 4.7.1" : act == ACT_DROP ? "554 5.7.1" :
	    "550 5.7.1", b.net, left, b.reason);
	return 1;
}

int
session_blocked(struct session *s, const char *stage, char *reply,
    size_t cap)
{
	if (!block_reply(s, reply, cap))
		return 0;
	session_log(s, stage, "dynamic", "block", reply, NULL);
	s->nrefused++;
	return 1;
}
