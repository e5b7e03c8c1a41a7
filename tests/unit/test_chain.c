/* Unit tests of the chain runner (chain.h): parsing, running, verdicts. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authres.h"
#include "chain.h"
#include "fields.h"
#include "step.h"
#include "stepenv.h"
#include "t.h"

static void
test_parse(void)
{
	struct chain c;
	struct mgerr e;
	const char *ok =
	    "# a comment\n[connect]\nmg-screen --ip-rules /x\n\n"
	    "[rcpt]\n  /usr/bin/prog 'a b' \"c \\\"d\\\"\" e # note\n"
	    ": echo hi | cat\n[data]\r\nmg-dkim-verify\n";

	memset(&c, 0, sizeof(c));
	T_INT(chain_parse(&c, ok, strlen(ok), "f", &e), 0);
	T_INT(c.n[CHAIN_CONNECT], 1);
	T_INT(c.n[CHAIN_HELO], 0);
	T_INT(c.n[CHAIN_RCPT], 2);
	T_INT(c.n[CHAIN_DATA], 1);
	T_STR(c.step[CHAIN_CONNECT][0].argv[2], "/x");
	T_STR(c.step[CHAIN_RCPT][0].name, "prog");
	T_STR(c.step[CHAIN_RCPT][0].argv[1], "a b");
	T_STR(c.step[CHAIN_RCPT][0].argv[2], "c \"d\"");
	T_STR(c.step[CHAIN_RCPT][0].argv[3], "e");
	T_OK(c.step[CHAIN_RCPT][0].argv[4] == NULL);
	T_STR(c.step[CHAIN_RCPT][1].argv[0], "/bin/sh");
	T_STR(c.step[CHAIN_RCPT][1].argv[2], " echo hi | cat");
	T_INT(c.step[CHAIN_DATA][0].line, 9);
	chain_free(&c);

	memset(&c, 0, sizeof(c));
	T_INT(chain_parse(&c, "prog\n", 5, "f", &e), -1);
	T_STR(e.msg, "f:1: command before any section");
	T_INT(chain_parse(&c, "[rcpt]\n[bogus]\n", 15, "f", &e), -1);
	T_OK(strstr(e.msg, "f:2: unknown section [bogus]") != NULL);
	T_INT(chain_parse(&c, "[rcpt]\na 'b\n", 12, "f", &e), -1);
	T_STR(e.msg, "f:2: unbalanced quote");
	T_INT(chain_parse(&c, "[data]\na\0b\n", 11, "f", &e), -1);
	T_STR(e.msg, "f:2: NUL byte");
	T_INT(chain_parse(&c, "[connection]\nx\n", 15, "f", &e), 0);
	T_INT(c.n[CHAIN_CONNECT], 1);
	chain_free(&c);
}

static void
run(const char *script, struct step_result *res, unsigned timeout,
    struct stepenv *ce)
{
	struct chain c;
	struct mgerr e;
	char text[1024];

	memset(&c, 0, sizeof(c));
	snprintf(text, sizeof(text), "[rcpt]\n%s\n", script);
	if (chain_parse(&c, text, strlen(text), "t", &e) == -1) {
		T_STR(e.msg, "");
		return;
	}
	step_run(&c.step[CHAIN_RCPT][0], ce->v, -1, timeout, res, &e);
	chain_free(&c);
}

static void
test_run(void)
{
	struct stepenv ce;
	struct step_result r;
	int64_t t0;

	T_INT(stepenv_init(&ce, NULL), 0);
	T_INT(stepenv_set(&ce, "SMTPRCPTTO", "a@b"), 0);
	T_INT(stepenv_set(&ce, "PATH", "/usr/bin:/bin"), 0);
	T_INT(stepenv_set(&ce, "GONE", "x"), 0);
	T_INT(stepenv_set(&ce, "GONE", NULL), 0);
	T_OK(stepenv_get(&ce, "GONE") == NULL);
	T_STR(stepenv_get(&ce, "SMTPRCPTTO"), "a@b");
	/* The dialogue's names: a null sender stays, the rest go. */
	T_INT(stepenv_smtp(&ce, "mx.example", "", "", 0, ""), 0);
	T_STR(stepenv_get(&ce, "SMTPHELOHOST"), "mx.example");
	T_STR(stepenv_get(&ce, "SMTPMAILFROM"), "");
	T_STR(stepenv_get(&ce, "SMTPRCPTCOUNT"), "0");
	T_OK(stepenv_get(&ce, "SMTPRCPTTO") == NULL);
	T_OK(stepenv_get(&ce, "MG_AUTHRES") == NULL);
	T_INT(stepenv_smtp(&ce, NULL, NULL, "a@b", -1, "spf=pass"), 0);
	T_OK(stepenv_get(&ce, "SMTPHELOHOST") == NULL);
	T_OK(stepenv_get(&ce, "SMTPMAILFROM") == NULL);
	T_OK(stepenv_get(&ce, "SMTPRCPTCOUNT") == NULL);
	T_STR(stepenv_get(&ce, "SMTPRCPTTO"), "a@b");
	T_STR(stepenv_get(&ce, "MG_AUTHRES"), "spf=pass");
	T_INT(stepenv_set(&ce, "MG_AUTHRES", NULL), 0);

	run(": printf 'X-Rcpt: %s\\r\\n\\tmore\\n' \"$SMTPRCPTTO\"", &r, 5000,
	    &ce);
	T_INT(r.verdict, STEP_ACCEPT);
	T_STR(r.headers, "X-Rcpt: a@b\n\tmore\n");
	run(": echo '550 5.7.1 no thanks'; exit 100", &r, 5000, &ce);
	T_INT(r.verdict, STEP_REJECT);
	T_STR(r.reply, "550 5.7.1 no thanks");
	T_INT(r.code, 550);
	run(": echo '451 4.7.1 later'; exit 111", &r, 5000, &ce);
	T_INT(r.verdict, STEP_DEFER);
	T_INT(r.failed, 0);
	T_STR(r.reply, "451 4.7.1 later");
	/* A 4xx line with exit 100 is not a rejection text. */
	run(": echo '451 odd'; exit 100", &r, 5000, &ce);
	T_STR(r.reply, "550 5.7.1 rejected by policy");
	run(": exit 3", &r, 5000, &ce);
	T_INT(r.verdict, STEP_DEFER);
	T_INT(r.failed, 1);
	T_STR(r.why, "exit 3");
	T_STR(r.reply, "451 4.3.0 temporary failure");
	run(": echo not a header", &r, 5000, &ce);
	T_INT(r.failed, 1);
	run(": kill -SEGV $$", &r, 5000, &ce);
	T_STR(r.why, "signal 11");
	run("/nonexistent/prog", &r, 5000, &ce);
	T_STR(r.why, "exit 127");
	t0 = clock_ms();
	/* The step and the sleep it started are both killed. */
	run(": sleep 30 & sleep 30", &r, 300, &ce);
	T_OK(clock_ms() - t0 < 3000);
	T_STR(r.why, "timeout");
	T_INT(r.verdict, STEP_DEFER);
	run(": head -c 40000 /dev/zero | tr '\\0' a", &r, 5000, &ce);
	T_STR(r.why, "output too long");
	stepenv_free(&ce);
}

static void
test_authres(void)
{
	char dst[256] = "";

	T_INT(authres_merge(dst, sizeof(dst),
	    "X-A: b\nAuthentication-Results: mx.test; spf=pass\n"
	    "\tsmtp.mailfrom=a.test; iprev=pass smtp.remote-ip=192.0.2.1\n"), 2);
	T_STR(dst, "spf=pass smtp.mailfrom=a.test; iprev=pass "
	    "smtp.remote-ip=192.0.2.1");
	T_INT(authres_merge(dst, sizeof(dst),
	    "Authentication-Results: mx.test; iprev=pass "
	    "smtp.remote-ip=192.0.2.1; dkim=none\n"), 1);
	T_STR(dst, "spf=pass smtp.mailfrom=a.test; iprev=pass "
	    "smtp.remote-ip=192.0.2.1; dkim=none");
	T_INT(authres_merge(dst, sizeof(dst),
	    "Authentication-Results: mx.test; none\n"), 0);
}

int
main(void)
{
	test_parse();
	test_run();
	test_authres();
	return t_done("test_chain");
}
