/*
 * mg-opensmtpd's requests: a filter request from smtpd starts the
 * chain's steps for its phase, one after the other, as child processes
 * that the poll loop in main.c watches (chain.h, non-blocking use); the
 * first refusal, or the end of the stage, answers the request with its
 * session and token.  A step that breaks gives 451 for that request
 * only: the filter itself never stops.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "osmtpd.h"

#define TEMPFAIL	"451 4.3.0 temporary failure"

static void	next_step(struct osmtpd *, struct sess *);

static void
end_run(struct sess *s)
{
	if (s->run != NULL) {
		step_abort(s->run);
		free(s->run);
		s->run = NULL;
	}
}

/*
 * The stage is over: code 0 proceeds (or rewrites to `rewrite'), else
 * reply refuses.  The data stage hands its verdict to data.c, which
 * answers at commit.
 */
static void
finish(struct osmtpd *o, struct sess *s, int code, const char *reply,
    const char *rewrite)
{
	char arg[SMTP_REPLY_MAX + sizeof(s->newaddr)];

	end_run(s);
	s->busy = 0;
	if (s->stage == CHAIN_DATA) {
		s->dverdict = code;
		strlcpy(s->dreply, code != 0 ? reply : "", sizeof(s->dreply));
		data_steps_done(o, s);
		return;
	}
	if (code == 0 && rewrite == NULL && s->newaddr[0] != '\0')
		rewrite = s->newaddr;
	if (code == 0 && rewrite != NULL) {
		snprintf(arg, sizeof(arg), "<%s>", rewrite);
		answer(o, s, s->token, "rewrite", arg);
	} else if (code == 0)
		answer(o, s, s->token, "proceed", NULL);
	else {
		answer(o, s, s->token, "reject", reply);
		s->nrefused++;
		s->rcpt_refused = s->stage == CHAIN_RCPT;
		if (s->stage == CHAIN_MAIL)
			txn_reset(s);
		else if (s->stage == CHAIN_HELO)
			s->helo_done = 0;
	}
}

static int
wants_batv(const struct osmtpd *o, const struct sess *s)
{
	return s->stage == CHAIN_MAIL && o->batv.n[CHAIN_MAIL] > 0 &&
	    s->from[0] != '\0' && is_outbound(o, s);
}

static int
wants_dkim(const struct osmtpd *o, const struct sess *s)
{
	return s->stage == CHAIN_DATA && o->dkim.n[CHAIN_DATA] > 0 &&
	    is_outbound(o, s);
}

/* The BATV step: the configured command with the sender appended. */
static const struct chain_step *
batv_step(struct osmtpd *o, struct sess *s)
{
	const struct chain_step *b = &o->batv.step[CHAIN_MAIL][0];
	size_t n;
	char **v;

	for (n = 0; b->argv[n] != NULL; n++)
		;
	if ((v = calloc(n + 2, sizeof(*v))) == NULL)
		return NULL;
	memcpy(v, b->argv, n * sizeof(*v));
	v[n] = s->from;
	free(s->xstep.argv);
	s->xstep = *b;
	s->xstep.argv = v;
	return &s->xstep;
}

static void
start(struct osmtpd *o, struct sess *s, const struct chain_step *st)
{
	struct mgerr e;
	int in = s->stage == CHAIN_DATA && s->spool != NULL ?
	    fileno(s->spool) : -1;

	if (st == NULL || (s->run == NULL &&
	    (s->run = malloc(sizeof(*s->run))) == NULL) ||
	    sess_env(o, s) == -1) {
		log_decision(s, chain_stage_name(s->stage), NULL, "defer",
		    NULL, "out of memory");
		finish(o, s, 451, TEMPFAIL " (out of memory)", NULL);
		return;
	}
	if (step_start(s->run, st, o->env.v, in,
	    (unsigned)(o->step_timeout * 1000), &e) == -1) {
		log_error("run %s: %s", st->name, e.msg);
		log_decision(s, chain_stage_name(s->stage), st->name, "fail",
		    TEMPFAIL, e.msg);
		free(s->run);
		s->run = NULL;
		finish(o, s, 451, TEMPFAIL, NULL);
	}
}

static void
next_step(struct osmtpd *o, struct sess *s)
{
	if (s->kind == RUN_CHAIN && s->stepi < o->chain.n[s->stage]) {
		start(o, s, &o->chain.step[s->stage][s->stepi]);
		return;
	}
	if (s->kind == RUN_CHAIN && wants_batv(o, s)) {
		s->kind = RUN_BATV;
		start(o, s, batv_step(o, s));
		return;
	}
	if (s->kind != RUN_DKIM && wants_dkim(o, s)) {
		s->kind = RUN_DKIM;
		start(o, s, &o->dkim.step[CHAIN_DATA][0]);
		return;
	}
	finish(o, s, 0, NULL, NULL);
}

void
start_stage(struct osmtpd *o, struct sess *s, enum chain_stage st)
{
	s->busy = 1;
	s->stage = st;
	s->stepi = 0;
	s->newaddr[0] = '\0';
	s->kind = RUN_CHAIN;
	next_step(o, s);
}

/* The BATV command printed the signed sender on its first line. */
static void
batv_done(struct osmtpd *o, struct sess *s)
{
	const char *out, *name = s->xstep.name;
	char addr[600];
	size_t len, n;
	int rc;

	rc = step_raw(s->run, &out, &len);
	for (n = 0; n < len && out[n] != '\n' && n + 1 < sizeof(addr); n++)
		addr[n] = out[n];
	if (n > 0 && addr[n - 1] == '\r')
		n--;
	addr[n] = '\0';
	if (rc != 0 || n == 0 || strcspn(addr, " \t<>\r") != n ||
	    strchr(addr, '@') == NULL) {
		log_decision(s, "mail", name, "fail", TEMPFAIL, rc == 0 ?
		    "no address printed" : "exit status not 0");
		finish(o, s, 451, TEMPFAIL, NULL);
		return;
	}
	if (strcmp(addr, s->from) == 0) {
		log_decision(s, "mail", name, "accept", NULL, "unchanged");
		finish(o, s, 0, NULL, NULL);
		return;
	}
	log_decision(s, "mail", name, "rewrite", NULL, addr);
	strlcpy(s->from, addr, sizeof(s->from));
	finish(o, s, 0, NULL, addr);
}

static void
step_done(struct osmtpd *o, struct sess *s)
{
	static struct step_result res;
	const char *sname = chain_stage_name(s->stage), *name;
	char *hdr;

	if (s->kind == RUN_BATV) {
		batv_done(o, s);
		return;
	}
	name = s->kind == RUN_DKIM ? o->dkim.step[CHAIN_DATA][0].name :
	    o->chain.step[s->stage][s->stepi].name;
	step_result(s->run, &res);
	if (s->stage == CHAIN_RCPT && res.rcpt[0] != '\0') {
		/* The step names the mailbox to deliver to (mg-batv). */
		strlcpy(s->newaddr, res.rcpt, sizeof(s->newaddr));
		log_decision(s, sname, name, "rewrite", NULL, s->newaddr);
		s->stepi++;
		next_step(o, s);
		return;
	}
	if (res.verdict != STEP_ACCEPT) {
		log_decision(s, sname, name, res.failed ? "fail" :
		    res.verdict == STEP_REJECT ? "reject" : "defer",
		    res.reply, res.why);
		finish(o, s, res.code, res.reply, NULL);
		return;
	}
	log_decision(s, sname, name, "accept", NULL, NULL);
	hdr = s->stage <= CHAIN_HELO ? s->shdr : s->thdr;
	if (fields_merge(hdr, OS_HDR_MAX, hdr == s->thdr ? s->shdr : NULL,
	    res.headers) > 0)
		log_warn("header fields of %s dropped: too many", name);
	authres_merge(s->authres, sizeof(s->authres), res.headers);
	s->stepi++;
	next_step(o, s);
}

/* A request from smtpd (smtpd-filters(7), "filter" lines). */
void
request(struct osmtpd *o, struct sess *s, const char *phase,
    const char *token, const char *param)
{
	const char *bar;
	enum chain_stage st;
	struct mgerr e;

	if (strcmp(phase, "commit") == 0) {
		commit(o, s, token);
		return;
	}
	if (s->busy) {
		/* smtpd sends one request at a time per session. */
		log_warn("session %s: %s request while one is open", s->id,
		    phase);
		answer(o, s, token, "proceed", NULL);
		return;
	}
	if (strcmp(phase, "connect") == 0) {
		st = CHAIN_CONNECT;
		/* "rdns|address": for when link-connect was not seen. */
		if (!s->have_ip && (bar = strrchr(param, '|')) != NULL) {
			strlcpy(s->ip, bar + 1, sizeof(s->ip));
			s->have_ip = ip_parse(s->ip, &s->ipa, &e) == 0;
			if (!s->have_ip)
				strlcpy(s->ip, "unknown", sizeof(s->ip));
		}
	} else if (strcmp(phase, "helo") == 0 || strcmp(phase, "ehlo") == 0) {
		st = CHAIN_HELO;
		/* RFC 5321 section 4.1.4: HELO/EHLO resets the transaction. */
		txn_reset(s);
		strlcpy(s->helo, param, sizeof(s->helo));
		s->helo_done = 1;
	} else if (strcmp(phase, "mail-from") == 0) {
		st = CHAIN_MAIL;
		txn_reset(s);
		s->in_mail = 1;
		strlcpy(s->from, param, sizeof(s->from));
	} else if (strcmp(phase, "rcpt-to") == 0) {
		st = CHAIN_RCPT;
		strlcpy(s->rcpt, param, sizeof(s->rcpt));
		s->rcpt_refused = 0;
	} else {
		answer(o, s, token, "proceed", NULL);
		return;
	}
	strlcpy(s->phase, phase, sizeof(s->phase));
	strlcpy(s->token, token, sizeof(s->token));
	start_stage(o, s, st);
}

/* --- the poll loop's side ------------------------------------------- */

size_t
steps_poll(struct osmtpd *o, struct pollfd *pfd, size_t cap, int *timeout)
{
	int64_t now = step_now_ms();
	struct sess *s;
	size_t i, n = 0;
	int ms;

	for (i = 0; i < sizeof(o->tab) / sizeof(o->tab[0]); i++)
		for (s = o->tab[i]; s != NULL; s = s->next) {
			if (s->run == NULL)
				continue;
			ms = step_wait_ms(s->run, now);
			/* At EOF and not reaped yet: look again soon. */
			if (step_fd(s->run) == -1 || n == cap)
				ms = ms < 5 ? ms : 5;
			else {
				pfd[n].fd = step_fd(s->run);
				pfd[n].events = POLLIN;
				pfd[n++].revents = 0;
			}
			if (*timeout < 0 || ms < *timeout)
				*timeout = ms;
		}
	return n;
}

void
steps_work(struct osmtpd *o)
{
	int64_t now = step_now_ms();
	struct sess *s, *next;
	size_t i;

	for (i = 0; i < sizeof(o->tab) / sizeof(o->tab[0]); i++)
		for (s = o->tab[i]; s != NULL; s = next) {
			next = s->next;
			if (s->run == NULL)
				continue;
			step_read(s->run);
			if (step_check(s->run, now))
				step_done(o, s);
		}
}

int
steps_busy(const struct osmtpd *o)
{
	const struct sess *s;
	size_t i;

	for (i = 0; i < sizeof(o->tab) / sizeof(o->tab[0]); i++)
		for (s = o->tab[i]; s != NULL; s = s->next)
			if (s->run != NULL)
				return 1;
	return 0;
}
