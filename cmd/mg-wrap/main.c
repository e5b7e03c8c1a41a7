/*
 * mg-wrap: the qmail-smtpd wrapper.  Speaks SMTP with the client, runs
 * the chain of mailguard programs at each stage, and relays what passes
 * to the real SMTP server it starts.  See mg-wrap(1).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "state.h"
#include "outcome.h"
#include "wrap.h"

#define PROG "mg-wrap"

extern char **environ;

static struct wrap W;

static const struct opt options[] = {
	{ "auth-cram", 0, OPT_BOOL, &W.c.auth_cram, 0, 0, "yes|no" },
	{ "auth-delay", 0, OPT_DURATION, &W.c.auth_delay, 0, 60, "time" },
	{ "auth-plaintext", 0, OPT_BOOL, &W.c.auth_plain_ok, 0, 0, "yes|no" },
	{ "block-at-rcpt", 0, OPT_BOOL, &W.c.wait_rcpt, 0, 0, "yes|no" },
	{ "chain", 'C', OPT_STR, &W.c.chain_file, 0, 0, "file" },
	{ "checkpassword", 0, OPT_STR, &W.c.checkpassword, 0, 0, "command" },
	{ "config", 'c', OPT_CONFIG, NULL, 0, 0, "file" },
	{ "databytes", 0, OPT_NUM, &W.c.databytes, 0, 1LL << 40, "bytes" },
	{ "dyn-action", 0, OPT_ACTION, &W.c.dyn_action, 0, 0, "action" },
	DYN_OPTIONS(W.c.dyn_opts),
	{ "dyn-record", 0, OPT_LIST, &W.c.dyn_record, 0, 0, "event" },
	{ "greet-delay", 0, OPT_DURATION, &W.c.greet_delay, 0, 300, "time" },
	{ "hostname", 'H', OPT_STR, &W.c.hostname, 0, 0, "name" },
	{ "idle-timeout", 0, OPT_DURATION, &W.c.idle_timeout, 1, 3600, "time" },
	{ "lock-timeout", 0, OPT_NUM, &W.c.lock_timeout, 0, 60000, "ms" },
	{ "max-commands", 0, OPT_NUM, &W.c.max_commands, 1, 1000000, "n" },
	{ "max-errors", 0, OPT_NUM, &W.c.max_errors, 1, 1000, "n" },
	{ "max-rcpt", 0, OPT_NUM, &W.c.max_rcpt, 1, 100000, "n" },
	{ "qmail-queue", 'Q', OPT_FLAG, &W.c.qmail_queue, 0, 0, NULL },
	{ "relayclient", 0, OPT_STR, &W.c.relayclient, 0, 0, "value" },
	{ "resolver", 'r', OPT_STR, &W.c.resolver, 0, 0, "spec" },
	{ "server-timeout", 0, OPT_DURATION, &W.c.server_timeout, 1, 3600, "time" },
	{ "session-timeout", 0, OPT_DURATION, &W.c.session_timeout, 1, 86400, "time" },
	{ "smtps", 0, OPT_FLAG, &W.c.smtps, 0, 0, NULL },
	{ "statedir", 'd', OPT_STR, &W.c.statedir, 0, 0, "dir" },
	{ "step-timeout", 0, OPT_DURATION, &W.c.step_timeout, 1, 3600, "time" },
	{ "tls-cert", 0, OPT_STR, &W.c.tls_cert, 0, 0, "file" },
	{ "tls-key", 0, OPT_STR, &W.c.tls_key, 0, 0, "file" },
	OPT_END
};

void
wrap_usage(void)
{
	if (opt_usage(
	    "usage: %s [-c file] [-C chain] [-H hostname] [option ...] "
	    "[--] server [arg ...]\n"
	    "       %s -Q [-c file] [-C chain] [--] [qmail-queue]\n",
	    PROG, PROG))
		exit(0);
	/* Under tcpserver the client reads this: a reply line, then 111. */
	printf("421 4.3.0 temporary failure (usage error)\r\n");
	exit(EXIT_DEFER);
}

static void
set_defaults(struct wrap *w)
{
	static char host[256];

	if (gethostname(host, sizeof(host) - 1) == -1)
		strlcpy(host, "localhost", sizeof(host));
	w->c.hostname = host;
	w->c.statedir = state_default_dir();
	w->c.relayclient = "";
	w->c.step_timeout = 30;
	w->c.server_timeout = 600;	/* RFC 5321 section 4.5.3.2.6 */
	w->c.idle_timeout = 300;		/* RFC 5321 section 4.5.3.2.7 */
	w->c.session_timeout = 3600;
	w->c.auth_delay = 5;
	w->c.max_commands = 10000;
	w->c.max_errors = 10;
	w->c.max_rcpt = 100;		/* RFC 5321 section 4.5.3.1.8 */
	w->c.lock_timeout = 2000;
	w->c.dyn_action = ACT_DEFER;
	dyn_opts_defaults(&w->c.dyn_opts);
	cl_init(w);
	srv_init(w);
}

/* What the engine needs of the settings (session.h). */
static void
session_conf(struct wrap *w)
{
	struct session_conf *c = &w->c.sc;

	c->prog = PROG;
	c->hostname = w->c.hostname;
	c->statedir = w->c.statedir;
	c->relayclient = w->c.relayclient;
	c->lock_timeout = w->c.lock_timeout;
	c->dyn_action = w->c.dyn_action;
	c->dyn_record = &w->c.dyn_record;
	c->dyn = &w->c.dyn;
	c->chain = &w->c.chain;
	/* One session a process: the pid tells the sessions apart. */
	c->log_pid = 1;
}

/* The client as tcpserver describes it (UCSPI-TCP environment). */
static void
client_env(struct session_client *c)
{
	const char *v;

	/* An address that does not parse is as good as none. */
	if (session_set_ip(&W.s, getenv("TCPREMOTEIP")) == -1 &&
	    (v = getenv("TCPREMOTEIP")) != NULL && *v != '\0')
		log_warn("TCPREMOTEIP %s is not an address", v);
	if ((v = getenv("TCPREMOTEHOST")) != NULL)
		strlcpy(c->host, v, sizeof(c->host));
	if ((v = getenv("TCPREMOTEPORT")) != NULL)
		strlcpy(c->port, v, sizeof(c->port));
	if ((v = getenv("TCPLOCALIP")) != NULL)
		strlcpy(c->lip, v, sizeof(c->lip));
	if ((v = getenv("TCPLOCALPORT")) != NULL)
		strlcpy(c->lport, v, sizeof(c->lport));
	c->relay_env = getenv("RELAYCLIENT");
}

static int
acquire(struct wrap *w, struct mgerr *e)
{

	if (w->c.chain_file != NULL && chain_load(&w->c.chain, w->c.chain_file,
	    e) == -1)
		return -1;
	if (dyn_opts_load(&w->c.dyn_opts, &w->c.dyn, &w->c.rules, e) == -1)
		return -1;
	if (stepenv_init(&w->env, environ) == -1) {
		mgerr_set(e, "out of memory");
		return -1;
	}
	session_conf(w);
	session_init(&w->s, &w->c.sc, NULL);
	w->s.ncmd = 0;
	client_env(&w->s.cl);
	if (!w->c.qmail_queue && tls_setup(w, e) == -1)
		return -1;
	return 0;
}

int
main(int argc, char **argv)
{
	static char qqpath[] = "/var/qmail/bin/qmail-queue";
	static char *qq[] = { qqpath, NULL };
	struct mgerr e;
	int first;

	log_init(PROG);
	set_defaults(&W);
	if ((first = opt_parse(PROG, options, argc, argv, &e)) == -1) {
		if (!opt_help)
			log_error("%s", e.msg);
		wrap_usage();
	}
	W.c.server_argv = argv + first;
	if (argc == first) {
		if (!W.c.qmail_queue) {
			log_error("no server to run");
			wrap_usage();
		}
		W.c.server_argv = qq;
	}
	/* A dead peer shows as EPIPE on write, not as a signal. */
	signal(SIGPIPE, SIG_IGN);
	if (acquire(&W, &e) == -1) {
		log_error("%s", e.msg);
		if (W.c.qmail_queue)
			return 81;
		printf("421 4.3.0 temporary failure (configuration)\r\n");
		return EXIT_DEFER;
	}
	if (W.c.qmail_queue)
		return qq_main(&W);
	W.s.start = clock_ms();
	W.cl.deadline = W.s.start + W.c.session_timeout * 1000;
	return client_session(&W);
}
