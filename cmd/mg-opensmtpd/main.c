/*
 * mg-opensmtpd: the chains of mg-wrap as an OpenSMTPD filter
 * (smtpd-filters(7), protocol 0.6 and 0.7).  One process serves every
 * session: it reads smtpd's lines, runs the steps as child processes
 * and answers each request when its steps are done, all from one poll
 * loop that never blocks.  smtpd shuts down when its filter exits, so
 * after start-up nothing ends this process but EOF from smtpd.  See
 * mg-opensmtpd(1).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "state.h"
#include "outcome.h"
#include "osmtpd.h"

#define PROG		"mg-opensmtpd"
#define POLL_MAX	4096		/* running steps watched by fd */
#define BACKLOG_MAX	(1 << 20)	/* stop reading while this much waits */

extern char **environ;

struct osmtpd O;

static const struct opt options[] = {
	{ "add-headers", 0, OPT_BOOL, &O.add_headers, 0, 0, "yes|no" },
	{ "batv-sign", 0, OPT_STR, &O.batv_sign, 0, 0, "command" },
	{ "chain", 'C', OPT_STR, &O.chain_file, 0, 0, "file" },
	{ "config", 'c', OPT_CONFIG, NULL, 0, 0, "file" },
	{ "dkim-sign", 0, OPT_STR, &O.dkim_sign, 0, 0, "command" },
	{ "dyn-action", 0, OPT_ACTION, &O.dyn_action, 0, 0, "action" },
	DYN_OPTIONS(O.dyn_opts),
	{ "dyn-record", 0, OPT_LIST, &O.dyn_record, 0, 0, "event" },
	{ "hostname", 'H', OPT_STR, &O.hostname, 0, 0, "name" },
	{ "lock-timeout", 0, OPT_NUM, &O.lock_timeout, 0, 60000, "ms" },
	{ "outbound", 0, OPT_CHOICE, &O.outbound, 0, 0, "auth|all|none" },
	{ "relayclient", 0, OPT_STR, &O.relayclient, 0, 0, "value" },
	{ "statedir", 'd', OPT_STR, &O.statedir, 0, 0, "dir" },
	{ "step-timeout", 0, OPT_DURATION, &O.step_timeout, 1, 3600, "time" },
	OPT_END
};

static void __attribute__((noreturn))
usage(void)
{
	if (opt_usage("usage: %s [-c file] [-C chain] [-H hostname] "
	    "[--batv-sign command] [--dkim-sign command] [option ...]\n",
	    PROG))
		exit(0);
	/* smtpd reads stdout: a usage error must not look like protocol. */
	exit(EXIT_DEFER);
}

static void
set_defaults(struct osmtpd *o)
{
	o->statedir = state_default_dir();
	o->relayclient = "";
	o->step_timeout = 30;
	o->lock_timeout = 2000;
	dyn_opts_defaults(&o->dyn_opts);
	o->outbound = OUT_AUTH;
	o->proto_minor = 6;
	o->cut_lines = 1;
}

/* A one-step chain from a command line given as an option. */
static int
one_step(struct chain *c, const char *stage, const char *cmd,
    const char *opt, struct mgerr *e)
{
	char text[CHAIN_LINE_MAX + 16];
	struct mgerr sub;

	if (cmd == NULL || *cmd == '\0')
		return 0;
	if (strchr(cmd, '\n') != NULL || (size_t)snprintf(text, sizeof(text),
	    "[%s]\n%s\n", stage, cmd) >= sizeof(text)) {
		mgerr_set(e, "option --%s: not one command line", opt);
		return -1;
	}
	if (chain_parse(c, text, strlen(text), opt, &sub) == -1) {
		mgerr_set(e, "option --%s: %s", opt, sub.msg);
		return -1;
	}
	return 0;
}

/* What the engine needs of the settings (session.h). */
static void
session_conf(struct osmtpd *o)
{
	struct session_conf *c = &o->sc;

	c->prog = PROG;
	c->hostname = o->hostname != NULL ? o->hostname : "localhost";
	c->statedir = o->statedir;
	c->relayclient = o->relayclient;
	c->lock_timeout = o->lock_timeout;
	c->dyn_action = o->dyn_action;
	c->dyn_record = &o->dyn_record;
	c->dyn = &o->dyn;
	c->chain = &o->chain;
}

static int
acquire(struct osmtpd *o, struct mgerr *e)
{
	size_t i;

	if (o->chain_file != NULL && chain_load(&o->chain, o->chain_file,
	    e) == -1)
		return -1;
	if (one_step(&o->batv, "mail", o->batv_sign, "batv-sign", e) == -1 ||
	    one_step(&o->dkim, "data", o->dkim_sign, "dkim-sign", e) == -1)
		return -1;
	if (dyn_opts_load(&o->dyn_opts, &o->dyn, &o->rules, e) == -1)
		return -1;
	session_conf(o);
	if (stepenv_init(&o->env, environ) == -1) {
		mgerr_set(e, "out of memory");
		return -1;
	}
	for (i = 0; i < CHAIN_NSTAGES; i++)
		o->want[i] = o->chain.n[i] > 0;
	if (o->outbound != OUT_NONE && o->batv.n[CHAIN_MAIL] > 0)
		o->want[CHAIN_MAIL] = 1;
	/* The dynamic screen is checked at connect and at each MAIL. */
	if (o->dyn_action != ACT_OFF)
		o->want[CHAIN_CONNECT] = o->want[CHAIN_MAIL] = 1;
	o->want_data = o->want[CHAIN_DATA] || o->add_headers ||
	    (o->outbound != OUT_NONE && o->dkim.n[CHAIN_DATA] > 0);
	return 0;
}

/*
 * The lines smtpd sent: each complete one goes to proto_line.  Of a line
 * longer than the buffer only the head is kept: for a filter request,
 * its fields up to the token, so that it can still be answered.
 */
struct inbuf {
	char	buf[OS_LINE_MAX];
	size_t	len;
	int	skip;		/* dropping the rest of a line too long */
	char	head[160];	/* that line's head, or "" */
};

/* The head of the line in buf that is too long, into in->head. */
static void
cut_head(struct inbuf *in)
{
	size_t i, bars = 0, max = sizeof(in->head) - 1;

	in->head[0] = '\0';
	if (in->len < 7 || memcmp(in->buf, "filter|", 7) != 0)
		return;
	for (i = 0; i < in->len && i < max; i++)
		if (in->buf[i] == '|' && ++bars == 7)
			break;
	if (bars == 7 && memchr(in->buf, '\0', i) == NULL) {
		memcpy(in->head, in->buf, i);
		in->head[i] = '\0';
	}
}

static void
lines(struct osmtpd *o, struct inbuf *in)
{
	char *p = in->buf, *nl;
	size_t left = in->len;

	while ((nl = memchr(p, '\n', left)) != NULL) {
		size_t n = (size_t)(nl - p), used = n + 1;

		*nl = '\0';
		if (n > 0 && p[n - 1] == '\r')
			p[--n] = '\0';
		if (in->skip) {
			in->skip = 0;
			if (in->head[0] != '\0')
				proto_cut_line(o, in->head,
				    strlen(in->head));
		} else if (memchr(p, '\0', n) != NULL)
			log_warn("ignored a line from smtpd (NUL byte)");
		else
			proto_line(o, p, n);
		left -= used;
		p = nl + 1;
	}
	memmove(in->buf, p, left);
	in->len = left;
	if (in->len == sizeof(in->buf)) {
		/* Once a line: the rest of it comes in more buffers. */
		if (!in->skip) {
			cut_head(in);
			if (in->head[0] == '\0')
				log_warn("ignored a line from smtpd (longer "
				    "than %zu bytes)", sizeof(in->buf));
		}
		in->len = 0;
		in->skip = 1;
	}
}

/* 0 to go on, 1 at EOF. */
static int
input(struct osmtpd *o, struct inbuf *in)
{
	ssize_t n;

	n = read(STDIN_FILENO, in->buf + in->len, sizeof(in->buf) - in->len);
	if (n == -1 && (errno == EINTR || errno == EAGAIN ||
	    errno == EWOULDBLOCK))
		return 0;
	if (n <= 0)
		return 1;
	in->len += (size_t)n;
	lines(o, in);
	return 0;
}

/*
 * The loop: smtpd's lines in, answers out, steps watched.  At EOF smtpd
 * is gone; the steps still running finish (so a transcript piped in
 * gets every answer) and the process leaves.
 */
static int
serve(struct osmtpd *o)
{
	static struct pollfd pfd[POLL_MAX + 2];
	static struct inbuf in;
	int eof = 0, timeout;
	size_t n;

	for (;;) {
		timeout = -1;
		pfd[0].fd = eof || o->olen > BACKLOG_MAX ? -1 : STDIN_FILENO;
		pfd[0].events = POLLIN;
		pfd[1].fd = o->olen > 0 ? STDOUT_FILENO : -1;
		pfd[1].events = POLLOUT;
		n = steps_poll(o, pfd + 2, POLL_MAX, &timeout);
		if (eof && o->olen == 0 && !steps_busy(o))
			return 0;
		if (poll(pfd, n + 2, timeout) == -1 && errno != EINTR) {
			log_error("poll: %s", strerror(errno));
			return EXIT_DEFER;
		}
		if (pfd[0].fd != -1 && (pfd[0].revents & (POLLIN | POLLHUP |
		    POLLERR)))
			eof = input(o, &in);
		steps_work(o);
		proto_drain(o);
		if (out_flush(o) == -1)
			return 0;	/* smtpd is gone */
	}
}

int
main(int argc, char **argv)
{
	struct mgerr e;
	int first;

	log_init(PROG);
	set_defaults(&O);
	if ((first = opt_parse(PROG, options, argc, argv, &e)) == -1) {
		if (!opt_help)
			log_error("%s", e.msg);
		usage();
	}
	if (first != argc) {
		log_error("unexpected argument: %s", argv[first]);
		usage();
	}
	signal(SIGPIPE, SIG_IGN);
	if (acquire(&O, &e) == -1) {
		log_error("%s", e.msg);
		return EXIT_DEFER;
	}
	fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL) |
	    O_NONBLOCK);
	fcntl(STDOUT_FILENO, F_SETFL, fcntl(STDOUT_FILENO, F_GETFL) |
	    O_NONBLOCK);
	return serve(&O);
}
