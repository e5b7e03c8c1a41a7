/*
 * mg-wrap's SMTP session with the client (RFC 5321): the greeting, the
 * command loop, and the relaying of MAIL and RCPT to the real server.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "addr.h"
#include "log.h"
#include "wrap.h"

/*
 * The one path of every reply mg-wrap writes itself: after the replies
 * still owed for commands relayed ahead (RFC 2920 section 3.1: replies
 * go out in the order of the commands).
 */
void
say(struct wrap *w, const char *line)
{
	srv_drain(w);
	cl_put(w, line);
}

void
sayf(struct wrap *w, const char *fmt, ...)
{
	char line[SMTP_REPLY_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	say(w, line);
}

/*
 * The client's next line: 1, 0 at EOF, -1 on error, -2 at a timeout.
 * RFC 2920 section 3.1: replies may wait while commands are buffered,
 * never while we wait for more, so those owed are read and sent first.
 */
int
client_line(struct wrap *w, struct smtp_line *ln)
{
	int rc;

	while (!cl_buffered(w, ln)) {
		srv_drain(w);
		if ((rc = cl_fill(w)) <= 0)
			return rc;
	}
	return 1;
}

void
bye(struct wrap *w, const char *end)
{
	cl_flush(w);
	srv_stop(w, 1);
	if (w->end == NULL)
		w->end = end;
	session_log_end(&w->s, w->end);
	exit(0);
}

/* Reads a command line; ends the session on EOF, timeout or abuse. */
static int
next_command(struct wrap *w, char *line, size_t cap)
{
	struct smtp_line ln;
	int rc, toolong = 0;

	for (;;) {
		rc = client_line(w, &ln);
		if (rc == 0 || rc == -1)
			bye(w, rc == 0 ? "eof" : "error");
		if (rc == -2) {
			sayf(w, "421 4.4.2 %s timeout, closing "
			    "connection", w->c.hostname);
			bye(w, "timeout");
		}
		if (ln.eol == SMTP_EOL_NONE) {
			toolong = 1;
			continue;
		}
		break;
	}
	if (++w->s.ncmd > w->c.max_commands) {
		sayf(w, "421 4.7.0 %s too many commands, closing "
		    "connection", w->c.hostname);
		bye(w, "too-many-commands");
	}
	if (toolong || ln.len >= cap) {
		/* RFC 5321 section 4.5.3.1.4. */
		say(w, "500 5.5.2 line too long");
		return -1;
	}
	if (ln.nul > 0) {
		say(w, "500 5.5.2 NUL byte in command");
		return -1;
	}
	memcpy(line, ln.p, ln.len);
	line[ln.len] = '\0';
	return 0;
}

void
bad(struct wrap *w, const char *reply)
{
	say(w, reply);
	if (++w->s.nerr >= w->c.max_errors) {
		session_event(&w->s, "errors");
		sayf(w, "421 4.7.0 %s too many errors, closing "
		    "connection", w->c.hostname);
		bye(w, "too-many-errors");
	}
}

void
blocked_now(struct wrap *w, const char *stage)
{
	char reply[SMTP_REPLY_MAX];

	/* A block made during this session ends it (the dynamic screen). */
	if (!session_blocked(&w->s, stage, reply, sizeof(reply)))
		return;
	say(w, reply);
	bye(w, "blocked");
}

static void
ehlo_reply(struct wrap *w)
{
	sayf(w, "250-%s", w->c.hostname);
	say(w, "250-PIPELINING");
	say(w, "250-8BITMIME");
	if (w->c.databytes > 0)
		sayf(w, "250-SIZE %lld", w->c.databytes);
	else
		say(w, "250-SIZE");
	if (w->c.tls_ctx != NULL && w->cl.ssl == NULL)
		say(w, "250-STARTTLS");
	if (auth_offered(w))
		sayf(w, "250-AUTH %s", auth_mechs(w));
	say(w, "250 ENHANCEDSTATUSCODES");
}

static void
cmd_helo(struct wrap *w, const char *verb, const char *arg)
{
	size_t i;

	if (*arg == '\0' || strlen(arg) >= sizeof(w->s.cl.helo)) {
		bad(w, "501 5.5.4 syntax: HELO hostname");
		return;
	}
	for (i = 0; arg[i] != '\0'; i++)
		if ((unsigned char)arg[i] < ' ' || arg[i] == 0x7f) {
			bad(w, "501 5.5.4 bad HELO argument");
			return;
		}
	/* RFC 5321 section 4.1.4: HELO/EHLO resets the transaction. */
	session_txn_reset(&w->s);
	strlcpy(w->s.cl.helo, arg, sizeof(w->s.cl.helo));
	w->s.cl.ehlo = verb[0] == 'E';
	w->s.cl.helo_done = 1;
	if (srv_running(w))
		srv_stop(w, 1);
	if (run_stage(w, CHAIN_HELO, -1) != SESSION_GO) {
		w->s.cl.helo_done = 0;
		refuse_stage(w);
		return;
	}
	if (w->s.cl.ehlo)
		ehlo_reply(w);
	else
		sayf(w, "250 %s", w->c.hostname);
}

/*
 * Sends the command on to the real server (started on first use); its
 * reply reaches the client through srv_drain (relay.c).
 */
static void
relay(struct wrap *w, char kind, const char *line, const char *addr)
{
	if (srv_queue(w, kind, line, addr) == -1) {
		session_log(&w->s, kind == 'M' ? "mail" : "rcpt", "server",
		    "defer", NULL, "server unavailable");
		say(w, "451 4.3.0 temporary failure (server unavailable)");
		if (kind == 'M')
			session_txn_reset(&w->s);
	}
}

/*
 * The ESMTP parameters the server takes too: SIZE (RFC 1870) and BODY
 * (RFC 6152), each only when the server named the extension.
 */
static void
mail_params(struct wrap *w, const char *params, char *line, size_t cap)
{
	char val[32], buf[64];
	size_t i;

	if (w->srv.size && smtp_param(params, "SIZE", val, sizeof(val)) &&
	    val[0] != '\0' && strspn(val, "0123456789") == strlen(val)) {
		snprintf(buf, sizeof(buf), " SIZE=%s", val);
		strlcat(line, buf, cap);
	}
	if (w->srv.eightbit && smtp_param(params, "BODY", val, sizeof(val))) {
		for (i = 0; val[i] != '\0'; i++)
			val[i] = (char)toupper((unsigned char)val[i]);
		if (strcmp(val, "8BITMIME") == 0 || strcmp(val, "7BIT") == 0) {
			snprintf(buf, sizeof(buf), " BODY=%s", val);
			strlcat(line, buf, cap);
		}
	}
}

static void
cmd_mail(struct wrap *w, const char *arg)
{
	char path[ADDR_PATH_MAX + 8], val[32];
	char line[ADDR_BUF_MAX + 64];
	const char *params;
	struct mailaddr a;
	struct mgerr e;
	long long size;

	if (!w->s.cl.helo_done) {
		bad(w, "503 5.5.1 send HELO or EHLO first");
		return;
	}
	if (w->s.tx.in_mail) {
		bad(w, "503 5.5.1 nested MAIL command");
		return;
	}
	blocked_now(w, "mail");
	if (smtp_path_arg(arg, "FROM:", path, sizeof(path), &params) == -1 ||
	    addr_parse(path, &a, &e) == -1) {
		bad(w, "501 5.1.7 bad sender address syntax");
		return;
	}
	/* RFC 1870 section 6.3: refuse a declared size over the limit. */
	if (w->c.databytes > 0 && smtp_param(params, "SIZE", val, sizeof(val))
	    && (size = strtoll(val, NULL, 10)) > w->c.databytes) {
		sayf(w, "552 5.3.4 message size exceeds fixed limit");
		return;
	}
	w->s.tx.in_mail = 1;
	strlcpy(w->s.tx.from, a.addr, sizeof(w->s.tx.from));
	w->s.tx.hdr[0] = '\0';
	if (run_stage(w, CHAIN_MAIL, -1) != SESSION_GO) {
		session_txn_reset(&w->s);
		refuse_stage(w);
		return;
	}
	/* The server starts here, so its extensions are known below. */
	if (!srv_running(w) && srv_start(w) == -1) {
		session_log(&w->s, "mail", "server", "defer", NULL,
		    "server unavailable");
		say(w, "451 4.3.0 temporary failure (server unavailable)");
		session_txn_reset(&w->s);
		return;
	}
	snprintf(line, sizeof(line), "MAIL FROM:<%s>", w->s.tx.from);
	mail_params(w, params, line, sizeof(line));
	relay(w, 'M', line, NULL);
}

static void
cmd_rcpt(struct wrap *w, const char *arg)
{
	char path[ADDR_PATH_MAX + 8], line[ADDR_BUF_MAX + 16];
	const char *params;
	struct mailaddr a;
	struct mgerr e;

	/* A step must see the transaction as the server left it. */
	if (w->c.chain.n[CHAIN_RCPT] > 0)
		srv_drain(w);
	if (!w->s.tx.in_mail) {
		bad(w, "503 5.5.1 need MAIL before RCPT");
		return;
	}
	if (smtp_path_arg(arg, "TO:", path, sizeof(path), &params) == -1 ||
	    addr_parse(path, &a, &e) == -1 || a.null) {
		bad(w, "501 5.1.3 bad recipient address syntax");
		return;
	}
	if (w->s.tx.nrcpt + (long long)w->srv.nrpend >= w->c.max_rcpt) {
		/* RFC 5321 section 4.5.3.1.10. */
		say(w, "452 4.5.3 too many recipients");
		return;
	}
	strlcpy(w->s.tx.rcpt, a.addr, sizeof(w->s.tx.rcpt));
	if (run_stage(w, CHAIN_RCPT, -1) != SESSION_GO) {
		refuse_stage(w);
		return;
	}
	/* A step may have named another mailbox (mg-batv strips a tag). */
	snprintf(line, sizeof(line), "RCPT TO:<%s>", w->s.tx.rcpt);
	relay(w, 'R', line, w->s.tx.rcpt);
}

static void
cmd_rset(struct wrap *w)
{
	session_txn_reset(&w->s);
	session_event(&w->s, "rset");
	if (srv_running(w) && srv_cmd(w, "RSET") / 100 != 2)
		srv_stop(w, 0);
	say(w, "250 2.0.0 ok");
}

static void
cmd_starttls(struct wrap *w)
{
	if (w->c.tls_ctx == NULL || w->cl.ssl != NULL) {
		bad(w, "502 5.5.1 STARTTLS not available");
		return;
	}
	say(w, "220 2.0.0 ready to start TLS");
	cl_flush(w);
	/* RFC 3207 section 6: nothing sent before the handshake counts. */
	smtp_rd_discard(&w->cl.rd);
	if (tls_start(w) == -1)
		bye(w, "tls-failed");
	/* RFC 3207 section 4.2: forget what the client said before. */
	session_txn_reset(&w->s);
	w->s.cl.helo_done = 0;
	srv_stop(w, 1);
}

static void
dispatch(struct wrap *w, const char *verb, const char *arg)
{
	/* Only RCPT and DATA follow a relayed command unanswered; any
	 * other command finds the transaction as the server left it. */
	if (strcmp(verb, "RCPT") != 0 && strcmp(verb, "DATA") != 0)
		srv_drain(w);
	if (strcmp(verb, "EHLO") == 0 || strcmp(verb, "HELO") == 0)
		cmd_helo(w, verb, arg);
	else if (strcmp(verb, "MAIL") == 0)
		cmd_mail(w, arg);
	else if (strcmp(verb, "RCPT") == 0)
		cmd_rcpt(w, arg);
	else if (strcmp(verb, "DATA") == 0)
		cmd_data(w);
	else if (strcmp(verb, "RSET") == 0)
		cmd_rset(w);
	else if (strcmp(verb, "NOOP") == 0)
		say(w, "250 2.0.0 ok");
	else if (strcmp(verb, "QUIT") == 0) {
		sayf(w, "221 2.0.0 %s closing connection", w->c.hostname);
		bye(w, "quit");
	} else if (strcmp(verb, "STARTTLS") == 0)
		cmd_starttls(w);
	else if (strcmp(verb, "AUTH") == 0)
		cmd_auth(w, arg);
	else if (strcmp(verb, "VRFY") == 0)
		say(w, "252 2.1.5 send some mail, I will try my best");
	else if (strcmp(verb, "HELP") == 0)
		say(w, "214 2.0.0 see RFC 5321");
	else
		bad(w, "502 5.5.2 unimplemented");
}

/*
 * A refused session, the way rblsmtpd answers: greet, then give the
 * reason to every command but HELO, EHLO, NOOP, RSET and QUIT (and MAIL
 * with --block-at-rcpt, so the log shows sender and recipient).
 */
static void
refused_session(struct wrap *w, const char *reply)
{
	char line[SMTP_CMD_MAX + 1], verb[16];
	const char *arg;

	sayf(w, "220 %s ESMTP", w->c.hostname);
	for (;;) {
		if (next_command(w, line, sizeof(line)) == -1 ||
		    smtp_verb(line, verb, sizeof(verb), &arg) == -1)
			continue;
		if (strcmp(verb, "QUIT") == 0) {
			sayf(w, "221 2.0.0 %s closing connection",
			    w->c.hostname);
			bye(w, "refused");
		}
		if (strcmp(verb, "HELO") == 0 || strcmp(verb, "EHLO") == 0 ||
		    strcmp(verb, "NOOP") == 0 || strcmp(verb, "RSET") == 0 ||
		    (w->c.wait_rcpt && strcmp(verb, "MAIL") == 0)) {
			sayf(w, "250 %s", w->c.hostname);
			continue;
		}
		session_log(&w->s, "connect", "refused", "reject", reply, verb);
		say(w, reply);
		if (reply[0] == '4' && reply[1] == '2' && reply[2] == '1')
			bye(w, "refused");
	}
}

static void
pregreet(struct wrap *w)
{
	if (w->c.greet_delay <= 0 || !cl_talks(w, w->c.greet_delay * 1000))
		return;
	session_log(&w->s, "connect", "pregreet", "reject",
	    "554 5.5.1 talked before the greeting", NULL);
	session_event(&w->s, "pregreet");
	say(w, "554 5.5.1 protocol error: talked before the greeting");
	bye(w, "pregreet");
}

int
client_session(struct wrap *w)
{
	char line[SMTP_CMD_MAX + 1], verb[16], reply[SMTP_REPLY_MAX];
	const char *arg;

	smtp_rd_init(&w->cl.rd, SMTP_CMD_MAX);
	session_event(&w->s, "connect");
	if (session_blocked(&w->s, "connect", reply, sizeof(reply))) {
		if (session_drops(reply, CHAIN_CONNECT)) {
			say(w, reply);
			bye(w, "refused");
		}
		refused_session(w, reply);
	}
	pregreet(w);
	if (w->c.smtps && tls_start(w) == -1)
		bye(w, "tls-failed");
	if (run_stage(w, CHAIN_CONNECT, -1) != SESSION_GO) {
		if (w->s.ans.what == SESSION_DROP)
			refuse_stage(w);
		/* Answer with the refusal throughout. */
		refused_session(w, w->s.ans.reply);
	}
	sayf(w, "220 %s ESMTP", w->c.hostname);
	for (;;) {
		if (next_command(w, line, sizeof(line)) == -1)
			continue;
		if (smtp_verb(line, verb, sizeof(verb), &arg) == -1) {
			bad(w, "500 5.5.2 syntax error");
			continue;
		}
		dispatch(w, verb, arg);
	}
}
