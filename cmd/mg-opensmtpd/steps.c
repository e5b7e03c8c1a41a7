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
 * The stage is over and s->ss.ans says how: proceed (or rewrite the
 * address), reject, or disconnect.  The data stage hands its verdict to
 * data.c, which answers at commit.
 */
static void
finish(struct osmtpd *o, struct sess *s)
{
	const struct session_answer *a = &s->ss.ans;
	char arg[SMTP_REPLY_MAX + ADDR_BUF_MAX];
	const char *to = NULL;

	end_run(s);
	s->busy = 0;
	if (s->ss.stage == CHAIN_DATA) {
		s->dverdict = a->what == SESSION_GO ? 0 : a->code;
		s->ddrop = a->what == SESSION_DROP;
		s->dsteps = a->what != SESSION_GO;
		strlcpy(s->dreply, a->what != SESSION_GO ? a->reply : "",
		    sizeof(s->dreply));
		data_steps_done(o, s);
		return;
	}
	if (a->what == SESSION_GO) {
		if (s->ss.stage == CHAIN_MAIL && a->rewrote)
			to = s->ss.tx.from;
		else if (s->ss.stage == CHAIN_RCPT && a->rewrote)
			to = s->ss.tx.rcpt;
		if (to != NULL) {
			snprintf(arg, sizeof(arg), "<%s>", to);
			answer(o, s, s->token, "rewrite", arg);
		} else
			answer(o, s, s->token, "proceed", NULL);
		return;
	}
	answer(o, s, s->token, a->what == SESSION_DROP ? "disconnect" :
	    "reject", a->reply);
	s->rcpt_refused = s->ss.stage == CHAIN_RCPT;
	if (s->ss.stage == CHAIN_MAIL)
		session_txn_reset(&s->ss);
	else if (s->ss.stage == CHAIN_HELO)
		s->ss.cl.helo_done = 0;
}

static int
wants_batv(const struct osmtpd *o, const struct sess *s)
{
	return s->ss.stage == CHAIN_MAIL && o->batv.n[CHAIN_MAIL] > 0 &&
	    s->ss.tx.from[0] != '\0' && is_outbound(o, s);
}

static int
wants_dkim(const struct osmtpd *o, const struct sess *s)
{
	return s->ss.stage == CHAIN_DATA && o->dkim.n[CHAIN_DATA] > 0 &&
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
	v[n] = s->ss.tx.from;
	free(s->xstep.argv);
	s->xstep = *b;
	s->xstep.argv = v;
	return &s->xstep;
}

static void
start(struct osmtpd *o, struct sess *s, const struct chain_step *st)
{
	struct mgerr e;
	int in = s->ss.stage == CHAIN_DATA && s->spool != NULL ?
	    fileno(s->spool) : -1;

	if (st == NULL || (s->run == NULL &&
	    (s->run = malloc(sizeof(*s->run))) == NULL) ||
	    session_env(&s->ss, &o->env) == -1) {
		session_step_failed(&s->ss, NULL, "out of memory");
		finish(o, s);
		return;
	}
	s->cur = st;
	if (step_start(s->run, st, o->env.v, in,
	    (unsigned)(o->step_timeout * 1000), &e) == -1) {
		log_error("run %s: %s", st->name, e.msg);
		session_step_failed(&s->ss, st, e.msg);
		free(s->run);
		s->run = NULL;
		finish(o, s);
	}
}

static void
next_step(struct osmtpd *o, struct sess *s)
{
	const struct chain_step *st;

	if (s->kind == RUN_CHAIN && (st = session_next_step(&s->ss)) !=
	    NULL) {
		start(o, s, st);
		return;
	}
	if (s->ss.ans.what != SESSION_GO) {
		finish(o, s);
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
	finish(o, s);
}

void
start_stage(struct osmtpd *o, struct sess *s, enum chain_stage st)
{
	s->busy = 1;
	s->kind = RUN_CHAIN;
	session_stage_begin(&s->ss, st);
	next_step(o, s);
}

/* The BATV command printed the signed sender on its first line. */
static void
batv_done(struct osmtpd *o, struct sess *s)
{
	const char *out, *name = s->xstep.name;
	char addr[ADDR_BUF_MAX];
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
		session_step_failed(&s->ss, &s->xstep, rc == 0 ?
		    "no address printed" : "exit status not 0");
		finish(o, s);
		return;
	}
	if (strcmp(addr, s->ss.tx.from) == 0) {
		session_log(&s->ss, "mail", name, "accept", NULL, "unchanged");
		finish(o, s);
		return;
	}
	session_log(&s->ss, "mail", name, "rewrite", NULL, addr);
	strlcpy(s->ss.tx.from, addr, sizeof(s->ss.tx.from));
	s->ss.ans.rewrote = 1;
	finish(o, s);
}

static void
step_done(struct osmtpd *o, struct sess *s)
{
	static struct step_result res;

	if (s->kind == RUN_BATV) {
		batv_done(o, s);
		return;
	}
	step_result(s->run, &res);
	session_step_done(&s->ss, s->cur, &res);
	if (s->ss.delay_ms > 0) {
		/* mg-tarpit --print: the poll loop wakes the session later. */
		end_run(s);
		s->wake = clock_ms() + s->ss.delay_ms;
		s->ss.delay_ms = 0;
		return;
	}
	next_step(o, s);
}

/*
 * The dynamic screen (--dyn-action): a blocked client hears the block
 * at connect, and at the next MAIL once a block was made during its
 * session (its failed AUTHs, say); either way the session ends.
 */
static int
blocked(struct osmtpd *o, struct sess *s, enum chain_stage st)
{
	char reply[SMTP_REPLY_MAX];

	if (!session_blocked(&s->ss, chain_stage_name(st), reply,
	    sizeof(reply)))
		return 0;
	if (st == CHAIN_MAIL)
		session_txn_reset(&s->ss);
	answer(o, s, s->token, "disconnect", reply);
	return 1;
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
		if (!s->ss.cl.have_ip && (bar = strrchr(param, '|')) != NULL) {
			strlcpy(s->ss.cl.ip, bar + 1, sizeof(s->ss.cl.ip));
			s->ss.cl.have_ip = ip_parse(s->ss.cl.ip, &s->ss.cl.ipa, &e) == 0;
			if (!s->ss.cl.have_ip)
				strlcpy(s->ss.cl.ip, "unknown", sizeof(s->ss.cl.ip));
		}
	} else if (strcmp(phase, "helo") == 0 || strcmp(phase, "ehlo") == 0) {
		st = CHAIN_HELO;
		/* RFC 5321 section 4.1.4: HELO/EHLO resets the transaction. */
		session_txn_reset(&s->ss);
		strlcpy(s->ss.cl.helo, param, sizeof(s->ss.cl.helo));
		s->ss.cl.helo_done = 1;
	} else if (strcmp(phase, "mail-from") == 0) {
		st = CHAIN_MAIL;
		session_txn_reset(&s->ss);
		s->ss.tx.in_mail = 1;
		strlcpy(s->ss.tx.from, param, sizeof(s->ss.tx.from));
	} else if (strcmp(phase, "rcpt-to") == 0) {
		st = CHAIN_RCPT;
		strlcpy(s->ss.tx.rcpt, param, sizeof(s->ss.tx.rcpt));
		s->rcpt_refused = 0;
	} else {
		answer(o, s, token, "proceed", NULL);
		return;
	}
	strlcpy(s->phase, phase, sizeof(s->phase));
	strlcpy(s->token, token, sizeof(s->token));
	if ((st == CHAIN_CONNECT || st == CHAIN_MAIL) && blocked(o, s, st))
		return;
	start_stage(o, s, st);
}

/* --- the poll loop's side ------------------------------------------- */

size_t
steps_poll(struct osmtpd *o, struct pollfd *pfd, size_t cap, int *timeout)
{
	int64_t now = clock_ms();
	struct sess *s;
	size_t i, n = 0;
	int ms;

	for (i = 0; i < sizeof(o->tab) / sizeof(o->tab[0]); i++)
		for (s = o->tab[i]; s != NULL; s = s->next) {
			if (s->wake > 0) {
				ms = s->wake > now ? (int)(s->wake - now) : 0;
				if (*timeout < 0 || ms < *timeout)
					*timeout = ms;
				continue;
			}
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
	int64_t now = clock_ms();
	struct sess *s, *next;
	size_t i;

	for (i = 0; i < sizeof(o->tab) / sizeof(o->tab[0]); i++)
		for (s = o->tab[i]; s != NULL; s = next) {
			next = s->next;
			if (s->wake > 0 && now >= s->wake) {
				s->wake = 0;
				next_step(o, s);
				continue;
			}
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
			if (s->run != NULL || s->wake > 0)
				return 1;
	return 0;
}
