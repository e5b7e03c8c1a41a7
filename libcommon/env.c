#include <stdlib.h>
#include <string.h>

#include "env.h"
#include "num.h"

void
env_init(struct envelope *env)
{
	memset(env, 0, sizeof(*env));
	env->rcpt_count = -1;
}

static const char *
fill(const char *have, const char *var)
{
	return have != NULL ? have : getenv(var);
}

int
env_load(struct envelope *env, struct mgerr *e)
{
	const char *v;
	struct mgerr ne;

	env->ip_text = fill(env->ip_text, "TCPREMOTEIP");
	env->host = fill(env->host, "TCPREMOTEHOST");
	if (env->host != NULL && *env->host == '\0')
		env->host = NULL;
	env->helo = fill(env->helo, "SMTPHELOHOST");
	env->from = fill(env->from, "SMTPMAILFROM");
	env->auth_user = fill(env->auth_user, "SMTPAUTHUSER");
	if (env->auth_user != NULL && *env->auth_user == '\0')
		env->auth_user = NULL;
	env->authres = fill(env->authres, "MG_AUTHRES");
	env->relayclient = getenv("RELAYCLIENT") != NULL;
	if (env->rcpt.n == 0 && (v = getenv("SMTPRCPTTO")) != NULL &&
	    opt_list_add(&env->rcpt, v) == -1) {
		mgerr_set(e, "out of memory");
		return -1;
	}
	/* The same bound as --rcpt-count; junk is bad input, not 0. */
	if (env->rcpt_count < 0 && (v = getenv("SMTPRCPTCOUNT")) != NULL &&
	    *v != '\0' && num_parse(v, 0, ENV_RCPT_COUNT_MAX,
	    &env->rcpt_count, &ne) == -1) {
		env->rcpt_count = -1;
		mgerr_set(e, "SMTPRCPTCOUNT %s", ne.msg);
		return -1;
	}
	return env_parse_ip(env, e);
}

int
env_parse_ip(struct envelope *env, struct mgerr *e)
{
	env->have_ip = 0;
	if (env->ip_text != NULL && *env->ip_text != '\0') {
		if (ip_parse(env->ip_text, &env->ip, e) == -1)
			return -1;
		env->have_ip = 1;
	}
	return 0;
}
