/*
 * Unit tests of the session engine (session.h): a stage's steps through
 * session_run_stage, what a verdict does, drops, the environment, and
 * the decision log line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "session.h"
#include "t.h"

static struct chain chain;
static struct session_conf conf;

/* Loads a chain from text; the steps run through /bin/sh. */
static void
load(const char *text)
{
	struct mgerr e;

	chain_free(&chain);
	memset(&chain, 0, sizeof(chain));
	T_INT(chain_parse(&chain, text, strlen(text), "t", &e), 0);
}

static enum session_do
stage(struct session *s, enum chain_stage st)
{
	static struct stepenv env;

	if (env.v == NULL)
		T_INT(stepenv_init(&env, NULL), 0);
	return session_run_stage(s, st, -1, &env, 5000);
}

static void
test_verdicts(void)
{
	struct session s;

	session_init(&s, &conf, "id1");
	session_set_ip(&s, "192.0.2.7");
	strlcpy(s.cl.helo, "c.example", sizeof(s.cl.helo));
	s.cl.helo_done = 1;
	load("[helo]\n: echo 'X-Helo: '\"$SMTPHELOHOST\"\n"
	    "[mail]\n: echo 'Authentication-Results: mx.test; spf=pass'\n"
	    "[rcpt]\n: echo \"seen-$MG_AUTHRES@example.org\" | tr -d ' =;'\n"
	    ": case $SMTPRCPTTO in seen*) echo '550 5.7.1 no'; exit 100;;"
	    " esac\n"
	    "[data]\n: echo '554 5.7.1 infected'; exit 100\n");
	T_INT(stage(&s, CHAIN_HELO), SESSION_GO);
	T_STR(s.hdr, "X-Helo: c.example\n");
	s.tx.in_mail = 1;
	strlcpy(s.tx.from, "a@b.example", sizeof(s.tx.from));
	T_INT(stage(&s, CHAIN_MAIL), SESSION_GO);
	T_STR(s.authres, "spf=pass");
	T_OK(strstr(s.tx.hdr, "spf=pass") != NULL);
	/* A lone address rewrites the recipient; the next step sees it. */
	strlcpy(s.tx.rcpt, "u@example.org", sizeof(s.tx.rcpt));
	T_INT(stage(&s, CHAIN_RCPT), SESSION_REFUSE);
	T_INT(s.ans.rewrote, 1);
	T_STR(s.tx.rcpt, "seen-spfpass@example.org");
	T_INT(s.ans.code, 550);
	T_STR(s.ans.reply, "550 5.7.1 no");
	T_INT(s.nrefused, 1);
	/* 554 refuses a message, and drops a session before DATA. */
	T_INT(stage(&s, CHAIN_DATA), SESSION_REFUSE);
	T_OK(session_drops("554 5.7.1 x", CHAIN_RCPT));
	T_OK(session_drops("421 4.7.0 x", CHAIN_DATA));
	T_OK(session_drops("521 5.7.1 x", CHAIN_DATA));
	T_OK(!session_drops("554 5.7.1 x", CHAIN_DATA));
	T_OK(!session_drops("550 5.7.1 x", CHAIN_CONNECT));
	load("[rcpt]\n: echo '421 4.7.0 bye'; exit 111\n"
	    ": touch /nonexistent/x\n");
	T_INT(stage(&s, CHAIN_RCPT), SESSION_DROP);
	/* A stage without steps accepts. */
	T_INT(stage(&s, CHAIN_CONNECT), SESSION_GO);
	session_txn_reset(&s);
	T_INT(s.tx.in_mail, 0);
	T_STR(s.tx.hdr, "");
	T_STR(s.hdr, "X-Helo: c.example\n");
}

static void
test_failures(void)
{
	struct session s;

	session_init(&s, &conf, NULL);
	load("[rcpt]\n: exit 3\n[mail]\n: echo 0.1\n: echo not a field\n");
	T_INT(stage(&s, CHAIN_RCPT), SESSION_REFUSE);
	T_STR(s.ans.reply, "451 4.3.0 temporary failure");
	/* A lone number is a delay; output that is no field defers. */
	T_INT(stage(&s, CHAIN_MAIL), SESSION_REFUSE);
	T_INT(s.ans.code, 451);
}

static void
test_env(void)
{
	struct session s;
	struct stepenv env;

	T_INT(stepenv_init(&env, NULL), 0);
	session_init(&s, &conf, NULL);
	T_INT(session_set_ip(&s, "not an ip"), -1);
	T_STR(s.cl.ip, "unknown");
	s.cl.relay_env = "tcprules";
	T_INT(session_env(&s, &env), 0);
	T_OK(stepenv_get(&env, "TCPREMOTEIP") == NULL);
	T_STR(stepenv_get(&env, "RELAYCLIENT"), "tcprules");
	T_OK(stepenv_get(&env, "SMTPAUTHUSER") == NULL);
	session_set_ip(&s, "2001:db8::1");
	session_auth_pass(&s, "plain", "alice");
	T_INT(session_env(&s, &env), 0);
	T_STR(stepenv_get(&env, "TCPREMOTEIP"), "2001:db8::1");
	T_STR(stepenv_get(&env, "SMTPAUTHUSER"), "alice");
	T_STR(stepenv_get(&env, "RELAYCLIENT"), "");
	T_STR(stepenv_get(&env, "MG_AUTHRES"), "auth=pass smtp.auth=alice");
	T_OK(strncmp(s.hdr, "Authentication-Results: mx.test; auth=pass",
	    42) == 0);
	stepenv_free(&env);
}

/* The decision line, read back from stderr. */
static void
test_log(void)
{
	struct session s;
	char buf[1024], path[] = "/tmp/test_session.XXXXXX";
	FILE *fp;
	int fd, saved = dup(2);

	T_OK((fd = mkstemp(path)) != -1);
	unlink(path);
	dup2(fd, 2);
	session_init(&s, &conf, "abc");
	session_set_ip(&s, "192.0.2.7");
	s.tx.in_mail = 1;
	session_log(&s, "rcpt", "sh", "reject",
	    "550-5.7.1 one\n550 5.7.1 last\n", "exit 100");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	T_OK((fp = fdopen(fd, "r")) != NULL);
	T_OK(fgets(buf, sizeof(buf), fp) != NULL);
	T_STR(buf, "test_session: stage=rcpt step=sh decision=reject "
	    "session=abc ip=192.0.2.7 from=\"\" reply=\"550 5.7.1 last\" "
	    "why=\"exit 100\"\n");
	fclose(fp);
}

int
main(void)
{
	log_init("test_session");
	conf.hostname = "mx.test";
	conf.relayclient = "";
	conf.chain = &chain;
	test_verdicts();
	test_failures();
	test_env();
	test_log();
	chain_free(&chain);
	return t_done("test_session");
}
