/*
 * policy: Postfix's policy delegation protocol (policy.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fdio.h"
#include "num.h"
#include "policy.h"
#include "smtp.h"

#define WRITE_MS	30000	/* the longest wait for the client to read */

const char *
policy_get(const struct policy_req *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->name[i], name) == 0)
			return r->value[i];
	return NULL;
}

/* An attribute that may be absent, empty or Postfix's "unknown". */
static const char *
known(const struct policy_req *r, const char *name)
{
	const char *v = policy_get(r, name);

	return v == NULL || *v == '\0' || strcmp(v, "unknown") == 0 ? NULL :
	    v;
}

int
policy_envelope(struct policy_req *r, struct envelope *env,
    struct mgerr *e)
{
	const char *v;
	struct mgerr ne;

	/* SMTPD_POLICY_README: every request names its kind. */
	if ((v = policy_get(r, "request")) == NULL ||
	    strcmp(v, "smtpd_access_policy") != 0) {
		mgerr_set(e, "not an smtpd_access_policy request");
		return -1;
	}
	env->ip_text = policy_get(r, "client_address");
	if ((env->host = known(r, "reverse_client_name")) == NULL)
		env->host = known(r, "client_name");
	env->helo = known(r, "helo_name");
	/* The sender is empty for <>, and absent before MAIL FROM. */
	env->from = policy_get(r, "sender");
	env->auth_user = known(r, "sasl_username");
	env->authres = known(r, "mg_authres");
	v = policy_get(r, "mg_relayclient");
	env->relayclient = v != NULL && strcmp(v, "yes") == 0;
	if ((v = known(r, "recipient")) != NULL) {
		r->rcptv[0] = v;
		env->rcpt.v = r->rcptv;
		env->rcpt.n = 1;
	}
	if ((v = policy_get(r, "recipient_count")) != NULL && *v != '\0' &&
	    num_parse(v, 0, ENV_RCPT_COUNT_MAX, &env->rcpt_count, &ne) ==
	    -1) {
		mgerr_set(e, "recipient_count %s", ne.msg);
		return -2;
	}
	return env_parse_ip(env, e) == -1 ? -2 : 0;
}

void
policy_action(const struct outcome *o, char *buf, size_t cap)
{
	char field[POLICY_ACTION_MAX];
	const char *p;
	size_t n = 0;

	if (o->code != EXIT_ACCEPT) {
		snprintf(buf, cap, "action=%s\n\n", o->reply);
		return;
	}
	if (o->nhdr == 0) {
		snprintf(buf, cap, "action=DUNNO\n\n");
		return;
	}
	/* Postfix takes one line: the first field, unfolded (RFC 5322
	 * section 2.2.3: a fold is CRLF before WSP; the WSP stays). */
	for (p = o->hdr[0]; *p != '\0' && n + 1 < sizeof(field); p++)
		if (*p != '\n' && *p != '\r')
			field[n++] = *p;
	field[n] = '\0';
	snprintf(buf, cap, "action=PREPEND %s\n\n", field);
}

/* Adds one "name=value" line to the request; -1 when it is malformed. */
static int
add_attr(struct policy_req *r, const char *line, size_t len,
    const char **why)
{
	char *p = r->buf + r->len, *eq;

	if (r->n == POLICY_ATTRS_MAX) {
		*why = "too many attributes";
		return -1;
	}
	if (r->len + len + 1 > sizeof(r->buf)) {
		*why = "request too long";
		return -1;
	}
	if (memchr(line, '\0', len) != NULL ||
	    (eq = memchr(line, '=', len)) == NULL || eq == line) {
		*why = "a line that is no name=value";
		return -1;
	}
	memcpy(p, line, len);
	p[len] = '\0';
	p[eq - line] = '\0';
	r->name[r->n] = p;
	r->value[r->n++] = p + (eq - line) + 1;
	r->len += len + 1;
	return 0;
}

/* Answers the request gathered in r (bad: why it is malformed). */
static int
answer(int out, struct policy_req *r, const char *bad,
    policy_decide_fn *decide, void *arg, policy_warn_fn *warn)
{
	char act[POLICY_ACTION_MAX];
	struct envelope env;
	struct outcome o;
	struct mgerr e;
	int rc;

	outcome_init(&o);
	env_init(&env);
	if (bad == NULL && (rc = policy_envelope(r, &env, &e)) < 0) {
		if (warn != NULL)
			warn("policy request: %s", e.msg);
		/* A value the one-process form would refuse as bad input. */
		outcome_tempfail(&o, rc == -2 ? "configuration or input error" :
		    "malformed policy request");
	} else if (bad != NULL) {
		if (warn != NULL)
			warn("policy request: %s", bad);
		outcome_tempfail(&o, "malformed policy request");
	} else
		decide(arg, &env, &o);
	policy_action(&o, act, sizeof(act));
	outcome_free(&o);
	rc = fdio_write(out, act, strlen(act), WRITE_MS);
	r->n = r->len = 0;
	return rc;
}

int
policy_serve(int in, int out, policy_decide_fn *decide, void *arg,
    policy_warn_fn *warn)
{
	static struct smtp_rd rd;
	static struct policy_req r;
	struct smtp_line ln;
	const char *bad = NULL;
	size_t room;
	ssize_t n;
	char *p;
	int cut = 0;

	smtp_rd_init(&rd, SMTP_RD_BUF - 1);
	r.n = r.len = 0;
	for (;;) {
		while (smtp_rd_line(&rd, &ln)) {
			if (cut || ln.eol == SMTP_EOL_NONE) {
				/* The rest of a line too long to keep. */
				if (bad == NULL)
					bad = "a line too long";
				cut = ln.eol == SMTP_EOL_NONE;
				continue;
			}
			if (ln.len == 0) {
				if (r.n == 0 && bad == NULL)
					continue;	/* stray empty line */
				if (answer(out, &r, bad, decide, arg, warn) ==
				    -1)
					return -1;
				bad = NULL;
				continue;
			}
			if (bad == NULL)
				(void)add_attr(&r, ln.p, ln.len, &bad);
		}
		if ((p = smtp_rd_space(&rd, &room)) == NULL)
			return -1;
		if ((n = read(in, p, room)) == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0)
			return 0;
		smtp_rd_wrote(&rd, (size_t)n);
	}
}
