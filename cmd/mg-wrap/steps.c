/*
 * mg-wrap's chain stages, header fields, decision log lines, and the
 * dynamic screen (dyn.h): the block check at connect and the events.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "num.h"
#include "outcome.h"
#include "state.h"
#include "wrap.h"

void
log_decision(struct wrap *w, const char *stage, const char *step,
    const char *decision, const char *reply, const char *why)
{
	struct logline l;
	char first[SMTP_REPLY_MAX];

	log_begin(&l);
	log_kv(&l, "stage", stage);
	if (step != NULL)
		log_kv(&l, "step", step);
	log_kv(&l, "decision", decision);
	log_kv(&l, "ip", w->ip);
	if (w->helo_done)
		log_kv(&l, "helo", w->helo);
	if (w->auth_user[0] != '\0')
		log_kv(&l, "auth", w->auth_user);
	if (w->in_mail)
		log_kv(&l, "from", w->from);
	if (w->rcpt[0] != '\0')
		log_kv(&l, "rcpt", w->rcpt);
	if (reply != NULL && reply[0] != '\0') {
		/* The last line of a multi-line reply says the most. */
		const char *nl = strrchr(reply, '\n');

		if (nl != NULL && nl[1] == '\0')
			while (nl > reply && nl[-1] != '\n')
				nl--;
		strlcpy(first, nl != NULL && nl != reply ? nl : reply,
		    sizeof(first));
		first[strcspn(first, "\n")] = '\0';
		log_kv(&l, "reply", first);
	}
	if (why != NULL)
		log_kv(&l, "why", why);
	log_kvi(&l, "pid", (long long)getpid());
	log_end(&l);
}

static int
stage_env(struct wrap *w)
{
	struct stepenv *e = &w->env;

	if (stepenv_smtp(e, w->helo_done ? w->helo : NULL,
	    w->in_mail ? w->from : NULL, w->rcpt, w->in_mail ? w->nrcpt : -1,
	    w->authres) == -1)
		return -1;
	if (w->auth_user[0] != '\0' &&
	    (stepenv_set(e, "SMTPAUTHUSER", w->auth_user) == -1 ||
	    stepenv_set(e, "RELAYCLIENT", w->relayclient) == -1))
		return -1;
	return 0;
}

int
run_stage(struct wrap *w, enum chain_stage st, int spool)
{
	const char *sname = chain_stage_name(st);
	struct step_result *res;
	struct mgerr e;
	size_t i;
	int code = 0;

	if (w->chain.n[st] == 0)
		return 0;
	/* The steps see the transaction as the server left it. */
	srv_drain(w);
	if ((res = malloc(sizeof(*res))) == NULL || stage_env(w) == -1) {
		free(res);
		log_decision(w, sname, NULL, "defer", NULL, "out of memory");
		cl_puts(w, "451 4.3.0 temporary failure (out of memory)");
		return 451;
	}
	for (i = 0; i < w->chain.n[st] && code == 0; i++) {
		const struct chain_step *s = &w->chain.step[st][i];

		if (step_run(s, w->env.v, spool,
		    (unsigned)(w->step_timeout * 1000), res, &e) == -1)
			log_error("run %s: %s", s->name, e.msg);
		if (res->verdict == STEP_ACCEPT && res->rcpt[0] != '\0') {
			/* The step names the mailbox to deliver to instead. */
			if (st == CHAIN_RCPT) {
				log_decision(w, sname, s->name, "rewrite",
				    NULL, res->rcpt);
				strlcpy(w->rcpt, res->rcpt, sizeof(w->rcpt));
			} else
				log_decision(w, sname, s->name, "accept",
				    NULL, "address ignored outside rcpt");
			continue;
		}
		if (res->verdict == STEP_ACCEPT) {
			log_decision(w, sname, s->name, "accept", NULL, NULL);
			if (st <= CHAIN_HELO ? fields_merge(w->shdr,
			    WRAP_HDR_MAX, NULL, res->headers) > 0 :
			    fields_merge(w->thdr, WRAP_HDR_MAX, w->shdr,
			    res->headers) > 0)
				log_warn("header fields of %s dropped: too "
				    "many", s->name);
			if (authres_merge(w->authres,
			    sizeof(w->authres), res->headers) > 0)
				stepenv_set(&w->env, "MG_AUTHRES",
				    w->authres);
			continue;
		}
		log_decision(w, sname, s->name, res->failed ? "fail" :
		    res->verdict == STEP_REJECT ? "reject" : "defer",
		    res->reply, res->why);
		cl_puts(w, res->reply);
		code = res->code;
	}
	free(res);
	return code;
}

/* --- the dynamic screen ----------------------------------------------- */

int
setup_dyn(struct wrap *w, struct mgerr *e)
{
	return dyn_opts_load(&w->dyn_opts, &w->dyn, &w->rules, e);
}

static int
recorded(const struct wrap *w, const char *event)
{
	static const char *const def[] = { "auth-fail", "unknown-rcpt",
	    "pregreet" };
	size_t i;

	if (w->dyn_record.n == 0) {
		for (i = 0; i < sizeof(def) / sizeof(def[0]); i++)
			if (strcmp(def[i], event) == 0)
				return 1;
		return 0;
	}
	for (i = 0; i < w->dyn_record.n; i++)
		if (strcmp(w->dyn_record.v[i], event) == 0)
			return 1;
	return 0;
}

static struct state *
open_store(struct wrap *w, int mode, struct mgerr *e)
{
	char path[4096];

	if (state_path(w->statedir, "dynamic", path, sizeof(path), e) == -1)
		return NULL;
	return state_open(path, mode, (unsigned)w->lock_timeout, e);
}

void
dyn_event(struct wrap *w, const char *event)
{
	struct state *st;
	struct dyn_block b;
	struct mgerr e;
	struct logline l;
	int rc;

	if (!w->have_ip || !recorded(w, event))
		return;
	if ((st = open_store(w, STATE_RDWR, &e)) == NULL) {
		log_warn("record %s: %s", event, e.msg);
		return;
	}
	rc = dyn_record(st, &w->dyn, &w->ipa, event, time(NULL), &b, &e);
	state_close(st);
	if (rc == -1) {
		log_warn("record %s: %s", event, e.msg);
		return;
	}
	log_begin(&l);
	log_kv(&l, "event", event);
	log_kv(&l, "ip", w->ip);
	if (rc == 2) {
		log_kv(&l, "dynamic", "blocked");
		log_kv(&l, "net", b.net);
		log_kvi(&l, "offences", b.offences);
	}
	log_kvi(&l, "pid", (long long)getpid());
	log_end(&l);
}

int
dyn_blocked(struct wrap *w, char *reply, size_t cap)
{
	struct state *st;
	struct dyn_block b;
	struct mgerr e;
	char left[32];
	int64_t now = time(NULL);
	int rc;

	if (w->dyn_action == ACT_OFF || !w->have_ip)
		return 0;
	if ((st = open_store(w, STATE_RDONLY, &e)) == NULL)
		rc = -1;
	else {
		rc = dyn_check(st, &w->dyn, &w->ipa, now, &b, &e);
		state_close(st);
	}
	if (rc == -1) {
		log_error("dynamic screen: %s", e.msg);
		snprintf(reply, cap, "451 4.3.0 temporary failure "
		    "(dynamic screen)");
		return 1;
	}
	if (rc == 0)
		return 0;
	num_format_duration(b.until - now, left, sizeof(left));
	snprintf(reply, cap, "%s %s is blocked for %s more (%s)",
	    w->dyn_action == ACT_DEFER ? "451 4.7.1" : w->dyn_action ==
	    ACT_DROP ? "554 5.7.1" : "550 5.7.1", b.net, left, b.reason);
	return 1;
}
