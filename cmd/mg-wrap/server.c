/*
 * mg-wrap's server side: the real SMTP server, a child on two pipes,
 * started when the first transaction needs it, fed MAIL, RCPT and the
 * message, and read reply by reply.  Every read has a timeout and every
 * buffer a cap.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fdio.h"
#include "log.h"
#include "wrap.h"

extern char **environ;

void
srv_init(struct wrap *w)
{
	w->srv.pid = -1;
	w->srv.in = w->srv.out = -1;
}

int
srv_running(const struct wrap *w)
{
	return w->srv.pid > 0;
}

void
srv_stop(struct wrap *w, int polite)
{
	int i, st;

	/* Replies still pending become 451s at the next srv_drain. */
	if (w->srv.pid <= 0)
		return;
	if (polite)
		srv_cmd(w, "QUIT");
	if (w->srv.pid <= 0)
		return;
	w->srv.olen = 0;
	if (w->srv.in != -1)
		close(w->srv.in);
	if (w->srv.out != -1)
		close(w->srv.out);
	w->srv.in = w->srv.out = -1;
	/* EOF on its stdin ends an SMTP server; give it a moment. */
	for (i = 0; i < 200; i++) {
		if (waitpid(w->srv.pid, &st, WNOHANG) == w->srv.pid)
			break;
		poll(NULL, 0, 10);
	}
	if (i == 200) {
		kill(w->srv.pid, SIGKILL);
		waitpid(w->srv.pid, &st, 0);
	}
	w->srv.pid = -1;
}

void
srv_abort(struct wrap *w)
{
	/* Dead before it can read an EOF that it might take for the end
	 * of the message (RFC 5321 section 4.1.1.4: no reply, no mail). */
	if (w->srv.pid > 0)
		kill(w->srv.pid, SIGKILL);
	w->srv.npend = w->srv.nrpend = 0;
	srv_stop(w, 0);
}

int
srv_flush(struct wrap *w)
{
	size_t n = w->srv.olen;

	w->srv.olen = 0;
	if (n == 0)
		return w->srv.in == -1 ? -1 : 0;
	if (w->srv.in == -1 || fdio_write(w->srv.in, w->srv.obuf, n,
	    w->c.server_timeout * 1000) == -1) {
		log_error("write to the server: %s", strerror(errno));
		srv_stop(w, 0);
		return -1;
	}
	return 0;
}

int
srv_send(struct wrap *w, const char *buf, size_t len)
{
	size_t k;

	while (len > 0) {
		if (w->srv.olen == sizeof(w->srv.obuf) && srv_flush(w) == -1)
			return -1;
		k = sizeof(w->srv.obuf) - w->srv.olen;
		if (k > len)
			k = len;
		memcpy(w->srv.obuf + w->srv.olen, buf, k);
		w->srv.olen += k;
		buf += k;
		len -= k;
	}
	return w->srv.in == -1 ? -1 : 0;
}

/* Reads one line of the server's reply into srd's line. */
static int
srv_line(struct wrap *w, struct smtp_line *ln)
{
	struct pollfd pfd;
	size_t room;
	ssize_t n;
	char *p;

	while (smtp_rd_line(&w->srv.rd, ln) == 0) {
		pfd.fd = w->srv.out;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)(w->c.server_timeout * 1000)) <= 0) {
			log_error("server reply: timeout");
			return -1;
		}
		p = smtp_rd_space(&w->srv.rd, &room);
		if ((n = read(w->srv.out, p, room)) == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_error("server reply: %s", n == 0 ?
			    "the server closed the connection" :
			    strerror(errno));
			return -1;
		}
		smtp_rd_wrote(&w->srv.rd, (size_t)n);
	}
	return 0;
}

/*
 * Keeps a line of the reply in w->srv.reply, control bytes replaced: the
 * first line always (cut to fit), a later one only if it fits whole, so
 * that its LF and the NUL always have room.  *last gets where the line
 * starts when it is kept.
 */
static void
keep_line(struct wrap *w, const struct smtp_line *ln, size_t *last)
{
	size_t i;

	if (w->srv.replylen > 0 && w->srv.replylen + ln->len + 2 >
	    sizeof(w->srv.reply))
		return;
	*last = w->srv.replylen;
	for (i = 0; i < ln->len &&
	    w->srv.replylen + 2 < sizeof(w->srv.reply); i++)
		w->srv.reply[w->srv.replylen++] = ln->p[i] >= ' ' &&
		    ln->p[i] < 0x7f ? ln->p[i] : '?';
	w->srv.reply[w->srv.replylen++] = '\n';
}

int
srv_reply(struct wrap *w)
{
	struct smtp_line ln;
	int code, more = 1, first = -1;
	size_t last = 0;

	w->srv.replylen = 0;
	if (w->srv.olen > 0 && srv_flush(w) == -1)
		goto dead;
	while (more) {
		if (w->srv.pid <= 0 || srv_line(w, &ln) == -1)
			goto dead;
		code = smtp_reply_code(ln.p, ln.len, &more);
		if (code == -1 || (first != -1 && code != first)) {
			log_error("server reply: not SMTP");
			goto dead;
		}
		first = code;
		keep_line(w, &ln, &last);
	}
	/* RFC 5321 section 4.2.1: the last line relayed must say that the
	 * reply ends there, when the lines after it were dropped. */
	if (w->srv.replylen > last + 4 && w->srv.reply[last + 3] == '-')
		w->srv.reply[last + 3] = ' ';
	w->srv.reply[w->srv.replylen] = '\0';
	return first;
dead:
	w->srv.replylen = 0;
	w->srv.reply[0] = '\0';
	srv_stop(w, 0);
	return -1;
}

int
srv_cmd(struct wrap *w, const char *line)
{
	char buf[SMTP_CMD_MAX + 200];
	int n;

	/* The replies to what was sent ahead come first. */
	srv_drain(w);
	n = snprintf(buf, sizeof(buf), "%s\r\n", line);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -1;
	if (srv_send(w, buf, (size_t)n) == -1)
		return -1;
	return srv_reply(w);
}

void
srv_relay(struct wrap *w)
{
	char *p = w->srv.reply, *nl;

	while ((nl = strchr(p, '\n')) != NULL) {
		*nl = '\0';
		cl_put(w, p);
		*nl = '\n';
		p = nl + 1;
	}
}

static void
srv_child(struct wrap *w, int in, int out)
{
	if (dup2(in, 0) == -1 || dup2(out, 1) == -1)
		_exit(111);
	closefrom(3);
	signal(SIGPIPE, SIG_DFL);
	environ = w->env.v;
	execvp(w->c.server_argv[0], w->c.server_argv);
	log_error("run %s: %s", w->c.server_argv[0], strerror(errno));
	_exit(111);
}

/* The environment the server gets: the base plus what AUTH decided. */
static int
srv_env(struct wrap *w)
{
	if (w->s.cl.auth_user[0] != '\0' &&
	    (stepenv_set(&w->env, "RELAYCLIENT", w->c.relayclient) == -1 ||
	    stepenv_set(&w->env, "SMTPAUTHUSER", w->s.cl.auth_user) == -1))
		return -1;
	return 0;
}

static int
srv_hello(struct wrap *w)
{
	char line[SMTP_CMD_MAX];
	int code;

	if ((code = srv_reply(w)) != 220) {
		log_error("server greeting: %s", code == -1 ? "none" :
		    w->srv.reply);
		return -1;
	}
	snprintf(line, sizeof(line), "%s %s", w->s.cl.ehlo ? "EHLO" : "HELO",
	    w->s.cl.helo);
	w->srv.pipelining = w->srv.size = w->srv.eightbit = 0;
	code = srv_cmd(w, line);
	if (code / 100 == 2 && w->s.cl.ehlo)
		srv_ehlo_ext(w);
	if (code / 100 == 5 && w->s.cl.ehlo) {
		/* RFC 5321 section 4.1.4: fall back to HELO. */
		snprintf(line, sizeof(line), "HELO %s", w->s.cl.helo);
		code = srv_cmd(w, line);
	}
	if (code / 100 != 2) {
		log_error("server refused HELO: %s", code == -1 ? "no reply" :
		    w->srv.reply);
		return -1;
	}
	return 0;
}

int
srv_start(struct wrap *w)
{
	int toserv[2], fromserv[2];

	if (w->srv.pid > 0)
		return 0;
	if (srv_env(w) == -1 || pipe(toserv) == -1)
		return -1;
	if (pipe(fromserv) == -1) {
		close(toserv[0]);
		close(toserv[1]);
		return -1;
	}
	if ((w->srv.pid = fork()) == -1) {
		log_error("fork: %s", strerror(errno));
		close(toserv[0]), close(toserv[1]);
		close(fromserv[0]), close(fromserv[1]);
		return -1;
	}
	if (w->srv.pid == 0)
		srv_child(w, toserv[0], fromserv[1]);
	close(toserv[0]);
	close(fromserv[1]);
	w->srv.in = toserv[1];
	w->srv.out = fromserv[0];
	fcntl(w->srv.in, F_SETFD, FD_CLOEXEC);
	fcntl(w->srv.out, F_SETFD, FD_CLOEXEC);
	smtp_rd_init(&w->srv.rd, 0);
	w->srv.olen = 0;
	if (srv_hello(w) == -1) {
		srv_stop(w, 0);
		return -1;
	}
	return 0;
}
