/*
 * Unit tests of the policy protocol (policy.h): the envelope a request
 * makes, the action an outcome makes, and the serve loop over a pipe.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy.h"
#include "t.h"

/* Parses "name=value\n..." text into r as policy_serve would. */
static void
fill(struct policy_req *r, const char *text)
{
	char *p, *nl;

	memset(r, 0, sizeof(*r));
	strlcpy(r->buf, text, sizeof(r->buf));
	for (p = r->buf; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		*nl = '\0';
		r->name[r->n] = p;
		p = strchr(p, '=');
		*p = '\0';
		r->value[r->n++] = p + 1;
		p = nl;
	}
}

static void
test_envelope(void)
{
	struct policy_req r;
	struct envelope env;
	struct mgerr e;

	fill(&r, "request=smtpd_access_policy\nclient_address=2001:db8::7\n"
	    "client_name=unknown\nreverse_client_name=ptr.example\n"
	    "helo_name=h.example\nsender=\nrecipient=u@example.org\n"
	    "recipient_count=3\nsasl_username=\nmg_relayclient=yes\n");
	env_init(&env);
	T_INT(policy_envelope(&r, &env, &e), 0);
	T_OK(env.have_ip);
	T_STR(env.host, "ptr.example");
	T_STR(env.helo, "h.example");
	T_STR(env.from, "");
	T_INT(env.rcpt.n, 1);
	T_STR(env.rcpt.v[0], "u@example.org");
	T_INT(env.rcpt_count, 3);
	T_OK(env.auth_user == NULL);
	T_INT(env.relayclient, 1);
	fill(&r, "request=smtpd_access_policy\nclient_name=unknown\n");
	env_init(&env);
	T_INT(policy_envelope(&r, &env, &e), 0);
	T_OK(env.host == NULL && env.from == NULL && !env.have_ip);
	T_INT(env.rcpt.n, 0);
	T_INT(env.rcpt_count, -1);
	fill(&r, "request=junk\n");
	T_INT(policy_envelope(&r, &env, &e), -1);
	fill(&r, "request=smtpd_access_policy\nclient_address=300.1.1.1\n");
	T_INT(policy_envelope(&r, &env, &e), -2);
	fill(&r, "request=smtpd_access_policy\nrecipient_count=x\n");
	T_INT(policy_envelope(&r, &env, &e), -2);
}

static void
test_action(void)
{
	struct outcome o;
	struct mgerr e;
	char buf[POLICY_ACTION_MAX];

	outcome_init(&o);
	policy_action(&o, buf, sizeof(buf));
	T_STR(buf, "action=DUNNO\n\n");
	T_INT(outcome_header(&o, "X-A", "one two", &e), 0);
	T_INT(outcome_header(&o, "X-B", "second", &e), 0);
	policy_action(&o, buf, sizeof(buf));
	T_STR(buf, "action=PREPEND X-A: one two\n\n");
	outcome_refuse(&o, EXIT_REJECT, "550", "5.7.1", "go away");
	policy_action(&o, buf, sizeof(buf));
	T_STR(buf, "action=550 5.7.1 go away\n\n");
	outcome_free(&o);
	outcome_init(&o);
	outcome_refuse(&o, EXIT_DEFER, "451", "4.7.1", "later");
	policy_action(&o, buf, sizeof(buf));
	T_STR(buf, "action=451 4.7.1 later\n\n");
	outcome_free(&o);
}

/* Rejects a sender "bad@..." and counts the requests. */
static int ncalls;

static void
decide(void *arg, const struct envelope *env, struct outcome *o)
{
	(void)arg;
	ncalls++;
	if (env->from != NULL && strncmp(env->from, "bad@", 4) == 0)
		outcome_refuse(o, EXIT_REJECT, "550", "5.7.1", "no");
}

static void
test_serve(void)
{
	static const char in[] =
	    "\nrequest=smtpd_access_policy\r\nsender=bad@x\r\n\r\n"
	    "request=smtpd_access_policy\nsender=good@x\n\n"
	    "oops\n\nrequest=smtpd_access_policy\n";
	int to[2], from[2];
	char out[512];
	ssize_t n, got = 0;

	T_OK(pipe(to) == 0 && pipe(from) == 0);
	T_INT(write(to[1], in, sizeof(in) - 1), (ssize_t)(sizeof(in) - 1));
	close(to[1]);
	T_INT(policy_serve(to[0], from[1], decide, NULL, NULL), 0);
	close(from[1]);
	while ((n = read(from[0], out + got, sizeof(out) - 1 - (size_t)got))
	    > 0)
		got += n;
	out[got] = '\0';
	T_STR(out, "action=550 5.7.1 no\n\naction=DUNNO\n\n"
	    "action=451 4.3.0 temporary failure (malformed policy request)"
	    "\n\n");
	/* The request cut off by end of file is not answered. */
	T_INT(ncalls, 2);
	close(to[0]);
	close(from[0]);
}

int
main(void)
{
	test_envelope();
	test_action();
	test_serve();
	return t_done("test_policy");
}
