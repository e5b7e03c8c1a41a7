/*
 * mg-wrap's DATA: spool the message, run the [data] steps on it, and
 * pass it on, dot-stuffed, with the steps' header fields on top.  With
 * no [data] steps the message is not spooled: DATA goes to the server
 * with the pipelined MAIL and RCPT, and the text streams through as it
 * comes, behind the header fields of the earlier steps.  Anything that
 * ends such a DATA early (a bare LF, --databytes, the client gone)
 * kills the server, which so never sees the end of the message.  The
 * client hears 250 only when the real server said 250 (RFC 5321 section
 * 4.1.1.4: the server takes responsibility only with its reply).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arstrip.h"
#include "log.h"
#include "spool.h"
#include "wrap.h"

/* The decision log line of the data stage. */
static void
dlog(struct wrap *w, const char *step, const char *decision,
    const char *reply, const char *why)
{
	session_log(&w->s, "data", step, decision, reply, why);
}

/* The session's spool file, made once and emptied for each message. */
static int
message_file(FILE **fp, struct mgerr *e)
{
	static FILE *spool;

	if (spool == NULL && (spool = spool_file("mg-wrap", e)) == NULL)
		return -1;
	rewind(spool);
	if (ftruncate(fileno(spool), 0) == -1) {
		mgerr_set(e, "%s", strerror(errno));
		return -1;
	}
	*fp = spool;
	return fileno(spool);
}

/* A line of the message that is not forged, into the spool file. */
static int
to_spool(void *arg, const char *p, size_t n, int eol)
{
	FILE *fp = arg;

	if (fwrite(p, 1, n, fp) != n || (eol && putc('\n', fp) == EOF))
		return -1;
	return 0;
}

/* ... or on to the server, with the CRLF of the wire. */
static int
to_server(void *arg, const char *p, size_t n, int eol)
{
	struct wrap *w = arg;

	if (!srv_running(w))
		return 0;
	if (srv_send(w, p, n) == 0 && eol)
		srv_send(w, "\r\n", 2);
	return 0;
}

/* RFC 8601 section 5: fields forged in our name never go on. */
static struct arstrip_buf *
forged_filter(struct wrap *w)
{
	static struct arstrip_buf ab;

	arstrip_buf_init(&ab, w->c.hostname);
	return &ab;
}

void
forged_log(struct wrap *w, const struct arstrip_buf *ab)
{
	if (ab->dropped > 0)
		log_warn("removed %zu Authentication-Results field%s "
		    "claiming %s", ab->dropped, ab->dropped == 1 ? "" : "s",
		    w->c.hostname);
}

/*
 * Reads the message text up to the lone "." (RFC 5321 section 4.5.2:
 * one leading dot removed) into fp with LF line ends, as qmail-queue
 * takes it.  0 done, 1 over --databytes; the session ends on EOF, a
 * timeout or a bare LF.
 */
static int
read_text(struct wrap *w, FILE *fp, long long *size)
{
	struct arstrip_buf *ab = forged_filter(w);
	struct smtp_line ln;
	const char *p;
	size_t n;
	int bol = 1, rc, big = 0;

	for (*size = 0;; bol = ln.eol != SMTP_EOL_NONE) {
		if ((rc = client_line(w, &ln)) == 0 || rc == -1)
			bye(w, "eof-in-data");
		if (rc == -2) {
			sayf(w, "421 4.4.2 %s timeout, closing "
			    "connection", w->c.hostname);
			bye(w, "timeout-in-data");
		}
		if (ln.eol == SMTP_EOL_LF) {
			/* What qmail-smtpd says and does about a bare LF. */
			dlog(w, "bare-lf", "defer", NULL, NULL);
			say(w, "451 See http://pobox.com/~djb/docs/"
			    "smtplf.html.");
			bye(w, "bare-lf");
		}
		p = ln.p;
		n = ln.len;
		if (bol && n > 0 && p[0] == '.') {
			if (n == 1 && ln.eol == SMTP_EOL_CRLF)
				break;
			p++;
			n--;
		}
		*size += (long long)n + (ln.eol != SMTP_EOL_NONE);
		if (w->c.databytes > 0 && *size > w->c.databytes)
			big = 1;
		if (big)
			continue;
		if (arstrip_buf_line(ab, p, n, ln.eol != SMTP_EOL_NONE,
		    to_spool, fp) == -1)
			big = -1;
	}
	if (big == 0 && arstrip_buf_end(ab, to_spool, fp) == -1)
		big = -1;
	forged_log(w, ab);
	if (big == -1 || fflush(fp) == EOF)
		return -1;
	return big;
}

/* Sends LF text as CRLF lines, dot-stuffed (section 4.5.2). */
static int
put_text(struct wrap *w, const char *p, size_t n, int *bol)
{
	const char *nl;
	size_t k;

	while (n > 0) {
		if (*bol && *p == '.' && srv_send(w, ".", 1) == -1)
			return -1;
		nl = memchr(p, '\n', n);
		k = nl != NULL ? (size_t)(nl - p) : n;
		if (srv_send(w, p, k) == -1 ||
		    (nl != NULL && srv_send(w, "\r\n", 2) == -1))
			return -1;
		*bol = nl != NULL;
		k += nl != NULL;
		p += k;
		n -= k;
	}
	return 0;
}

static int
send_message(struct wrap *w, int fd)
{
	char buf[16384];
	ssize_t n;
	int bol = 1;

	if (put_text(w, w->s.hdr, strlen(w->s.hdr), &bol) == -1 ||
	    put_text(w, w->s.tx.hdr, strlen(w->s.tx.hdr), &bol) == -1)
		return -1;
	if (lseek(fd, 0, SEEK_SET) == -1)
		return -1;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (put_text(w, buf, (size_t)n, &bol) == -1)
			return -1;
	if (n == -1)
		return -1;
	if (!bol && put_text(w, "\n", 1, &bol) == -1)
		return -1;
	return srv_send(w, ".\r\n", 3);
}

/* Relays the server's verdict on the message (code -1: it is gone). */
static void
verdict(struct wrap *w, int code)
{
	if (code == -1) {
		srv_stop(w, 0);
		dlog(w, "server", "defer", NULL,
		    "server died in DATA");
		say(w, "451 4.3.0 temporary failure (server died)");
		w->s.nrefused++;
		return;
	}
	srv_relay(w);
	if (code / 100 == 2) {
		w->s.nmsg++;
		dlog(w, "server", "accept", w->srv.reply, NULL);
	} else {
		w->s.nrefused++;
		dlog(w, "server", "refused", w->srv.reply, NULL);
	}
}

/* Hands the spooled message to the real server; relays its verdict. */
static void
pass_on(struct wrap *w, int fd)
{
	int code;

	if (!srv_running(w) || (code = srv_cmd(w, "DATA")) == -1) {
		dlog(w, "server", "defer", NULL,
		    "server died before DATA");
		say(w, "451 4.3.0 temporary failure (server died)");
		return;
	}
	if (code != 354) {
		srv_relay(w);
		dlog(w, "server", "refused", w->srv.reply, NULL);
		return;
	}
	verdict(w, send_message(w, fd) == -1 ? -1 : srv_reply(w));
}

/* Ends a streamed DATA early: the server dies with the message. */
static void
stream_abort(struct wrap *w, const char *end, const char *reply)
{
	srv_abort(w);
	if (reply != NULL)
		say(w, reply);
	bye(w, end);
}

/*
 * Streams the client's text to the server as it comes: its lines are
 * dot-stuffed already and keep their CRLF.  Sizes count as read_text
 * counts them.  0 done, 1 over --databytes.
 */
static int
stream_text(struct wrap *w)
{
	struct arstrip_buf *ab = forged_filter(w);
	struct smtp_line ln;
	long long size = 0;
	int bol = 1, rc, big = 0, stuffed;

	/* If the server is gone, the text is still read to its end. */
	(void)put_text(w, w->s.hdr, strlen(w->s.hdr), &bol);
	(void)put_text(w, w->s.tx.hdr, strlen(w->s.tx.hdr), &bol);
	for (bol = 1;; bol = ln.eol != SMTP_EOL_NONE) {
		if ((rc = client_line(w, &ln)) == 0 || rc == -1)
			stream_abort(w, "eof-in-data", NULL);
		if (rc == -2) {
			srv_abort(w);
			sayf(w, "421 4.4.2 %s timeout, closing "
			    "connection", w->c.hostname);
			bye(w, "timeout-in-data");
		}
		if (ln.eol == SMTP_EOL_LF) {
			dlog(w, "bare-lf", "defer", NULL, NULL);
			stream_abort(w, "bare-lf", "451 See "
			    "http://pobox.com/~djb/docs/smtplf.html.");
		}
		stuffed = bol && ln.len > 0 && ln.p[0] == '.';
		if (stuffed && ln.len == 1 && ln.eol == SMTP_EOL_CRLF)
			break;
		size += (long long)(ln.len - (size_t)stuffed) +
		    (ln.eol != SMTP_EOL_NONE);
		if (w->c.databytes > 0 && size > w->c.databytes)
			big = 1;
		if (big || !srv_running(w))
			continue;
		/* Still stuffed: no field name starts with a dot. */
		arstrip_buf_line(ab, ln.p, ln.len, ln.eol != SMTP_EOL_NONE,
		    to_server, w);
	}
	if (!big)
		arstrip_buf_end(ab, to_server, w);
	forged_log(w, ab);
	return big;
}

/* DATA without [data] steps: sent along with MAIL and RCPT. */
static void
data_stream(struct wrap *w)
{
	int code;

	code = srv_data(w);
	if (!w->s.tx.in_mail || w->s.tx.nrcpt == 0) {
		/* The server cannot have more recipients than we counted. */
		if (code == 354)
			srv_abort(w);
		say(w, w->s.tx.in_mail ? "554 5.5.1 no valid recipients" :
		    "503 5.5.1 need MAIL before DATA");
		return;
	}
	if (code != 354) {
		if (code == -1)
			say(w, "451 4.3.0 temporary failure (server died)");
		else
			srv_relay(w);
		dlog(w, "server", code == -1 ? "defer" :
		    "refused", w->srv.reply, code == -1 ? "server died" : NULL);
		return;
	}
	say(w, "354 go ahead, end with <CRLF>.<CRLF>");
	if (stream_text(w) == 1) {
		srv_abort(w);
		dlog(w, "size", "reject", NULL, "too big");
		say(w, "552 5.3.4 message size exceeds fixed limit");
		return;
	}
	if (!srv_running(w) || srv_send(w, ".\r\n", 3) == -1)
		code = -1;
	else
		code = srv_reply(w);
	verdict(w, code);
}

void
cmd_data(struct wrap *w)
{
	struct mgerr e;
	long long size;
	FILE *fp;
	int fd, rc;

	if (w->c.chain.n[CHAIN_DATA] == 0 && w->s.tx.in_mail &&
	    srv_running(w) && w->s.tx.nrcpt + (long long)w->srv.nrpend > 0) {
		data_stream(w);
		session_txn_reset(&w->s);
		return;
	}
	srv_drain(w);
	if (!w->s.tx.in_mail || w->s.tx.nrcpt == 0) {
		/* RFC 5321 section 3.3: 554 when no recipient was taken. */
		say(w, w->s.tx.in_mail ? "554 5.5.1 no valid recipients" :
		    "503 5.5.1 need MAIL before DATA");
		return;
	}
	if ((fd = message_file(&fp, &e)) == -1) {
		log_error("spool: %s", e.msg);
		say(w, "451 4.3.0 temporary failure (spool)");
		return;
	}
	say(w, "354 go ahead, end with <CRLF>.<CRLF>");
	rc = read_text(w, fp, &size);
	if (rc == -1) {
		log_error("spool: %s", strerror(errno));
		say(w, "451 4.3.0 temporary failure (spool)");
	} else if (rc == 1) {
		dlog(w, "size", "reject", NULL, "too big");
		say(w, "552 5.3.4 message size exceeds fixed limit");
	} else if (run_stage(w, CHAIN_DATA, fd) != SESSION_GO) {
		rc = 2;
		refuse_stage(w);
	} else
		pass_on(w, fd);
	/* Whatever happened, the server's transaction ends here too. */
	if (rc != 0 && srv_running(w) && srv_cmd(w, "RSET") / 100 != 2)
		srv_stop(w, 0);
	session_txn_reset(&w->s);
}
