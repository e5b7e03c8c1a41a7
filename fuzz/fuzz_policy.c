/*
 * fuzz_policy: the served form's protocol reader (policy.c): the input
 * is what a Postfix (or an attacker on the socket) sends; every request
 * is parsed into an envelope and answered.  The reader must stay inside
 * its buffers, answer every request, and never stop on a bad one.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzzinput.h"
#include "policy.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Touches every field the envelope gives a check. */
static void
decide(void *arg, const struct envelope *env, struct outcome *o)
{
	size_t n = 0, i;
	struct mgerr e;

	(void)arg;
	n += env->ip_text != NULL ? strlen(env->ip_text) : 0;
	n += env->host != NULL ? strlen(env->host) : 0;
	n += env->helo != NULL ? strlen(env->helo) : 0;
	n += env->from != NULL ? strlen(env->from) : 0;
	for (i = 0; i < env->rcpt.n; i++)
		n += strlen(env->rcpt.v[i]);
	if (n % 3 == 0)
		outcome_refuse(o, EXIT_REJECT, "550", "5.7.1", "%s",
		    env->from != NULL ? env->from : "");
	else if (n % 3 == 1 && env->helo != NULL)
		outcome_header(o, "X-Helo", env->helo, &e);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int out = -1;
	int in;

	if (out == -1 && (out = open("/dev/null", O_WRONLY)) == -1)
		abort();
	if ((in = open(fuzz_file(0, data, size), O_RDONLY)) == -1)
		abort();
	if (policy_serve(in, out, decide, NULL, NULL) != 0)
		abort();
	close(in);
	return 0;
}
