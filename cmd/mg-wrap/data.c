/*
 * mg-wrap's DATA: spool the message, run the [data] steps on it, and
 * pass it on, dot-stuffed, with the steps' header fields on top.  The
 * client hears 250 only when the real server said 250 (RFC 5321 section
 * 4.1.1.4: the server takes responsibility only with its reply).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "wrap.h"

static int
spool_open(FILE **fp)
{
	char path[4096];
	const char *dir = getenv("TMPDIR");
	int fd;

	snprintf(path, sizeof(path), "%s/mg-wrap.XXXXXX",
	    dir != NULL && *dir != '\0' ? dir : "/tmp");
	if ((fd = mkstemp(path)) == -1)
		return -1;
	unlink(path);
	if ((*fp = fdopen(fd, "w+")) == NULL) {
		close(fd);
		return -1;
	}
	return fd;
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
	struct smtp_line ln;
	const char *p;
	size_t n;
	int bol = 1, rc, big = 0;

	for (*size = 0;; bol = ln.eol != SMTP_EOL_NONE) {
		if ((rc = cl_line(w, &ln)) == 0 || rc == -1)
			cl_bye(w, "eof-in-data");
		if (rc == -2) {
			cl_reply(w, "421 4.4.2 %s timeout, closing "
			    "connection", w->hostname);
			cl_bye(w, "timeout-in-data");
		}
		if (ln.eol == SMTP_EOL_LF) {
			/* What qmail-smtpd says and does about a bare LF. */
			log_decision(w, "data", "bare-lf", "defer", NULL, NULL);
			cl_puts(w, "451 See http://pobox.com/~djb/docs/"
			    "smtplf.html.");
			cl_bye(w, "bare-lf");
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
		if (w->databytes > 0 && *size > w->databytes)
			big = 1;
		if (big)
			continue;
		if (fwrite(p, 1, n, fp) != n ||
		    (ln.eol != SMTP_EOL_NONE && putc('\n', fp) == EOF))
			big = -1;
	}
	if (big == -1 || fflush(fp) == EOF)
		return -1;
	return big;
}

/* Appends LF text to out as CRLF lines, dot-stuffed (section 4.5.2). */
static int
put_text(struct wrap *w, const char *p, size_t n, int *bol)
{
	char out[16384];
	size_t k = 0, i;

	for (i = 0; i < n; i++) {
		if (k + 4 > sizeof(out)) {
			if (srv_send(w, out, k) == -1)
				return -1;
			k = 0;
		}
		if (*bol && p[i] == '.')
			out[k++] = '.';
		if (p[i] == '\n')
			out[k++] = '\r';
		out[k++] = p[i];
		*bol = p[i] == '\n';
	}
	return k > 0 ? srv_send(w, out, k) : 0;
}

static int
send_message(struct wrap *w, int fd)
{
	char buf[16384];
	ssize_t n;
	int bol = 1;

	if (put_text(w, w->shdr, strlen(w->shdr), &bol) == -1 ||
	    put_text(w, w->thdr, strlen(w->thdr), &bol) == -1)
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

/* Hands the spooled message to the real server; relays its verdict. */
static void
pass_on(struct wrap *w, int fd)
{
	int code;

	if (!srv_running(w) || (code = srv_cmd(w, "DATA")) == -1) {
		log_decision(w, "data", "server", "defer", NULL,
		    "server died before DATA");
		cl_puts(w, "451 4.3.0 temporary failure (server died)");
		return;
	}
	if (code != 354) {
		srv_relay(w);
		log_decision(w, "data", "server", "refused", w->sreply, NULL);
		return;
	}
	if (send_message(w, fd) == -1 || (code = srv_reply(w)) == -1) {
		srv_stop(w, 0);
		log_decision(w, "data", "server", "defer", NULL,
		    "server died in DATA");
		cl_puts(w, "451 4.3.0 temporary failure (server died)");
		w->nrefused++;
		return;
	}
	srv_relay(w);
	if (code / 100 == 2) {
		w->nmsg++;
		log_decision(w, "data", "server", "accept", w->sreply, NULL);
	} else {
		w->nrefused++;
		log_decision(w, "data", "server", "refused", w->sreply, NULL);
	}
}

void
cmd_data(struct wrap *w)
{
	long long size;
	FILE *fp;
	int fd, rc;

	if (!w->in_mail || w->nrcpt == 0) {
		/* RFC 5321 section 3.3: 554 when no recipient was taken. */
		cl_puts(w, w->in_mail ? "554 5.5.1 no valid recipients" :
		    "503 5.5.1 need MAIL before DATA");
		return;
	}
	if ((fd = spool_open(&fp)) == -1) {
		log_error("spool: %s", strerror(errno));
		cl_puts(w, "451 4.3.0 temporary failure (spool)");
		return;
	}
	cl_puts(w, "354 go ahead, end with <CRLF>.<CRLF>");
	rc = read_text(w, fp, &size);
	if (rc == -1) {
		log_error("spool: %s", strerror(errno));
		cl_puts(w, "451 4.3.0 temporary failure (spool)");
	} else if (rc == 1) {
		log_decision(w, "data", "size", "reject", NULL, "too big");
		cl_puts(w, "552 5.3.4 message size exceeds fixed limit");
	} else if (run_stage(w, CHAIN_DATA, fd) != 0) {
		w->nrefused++;
		rc = 2;
	} else
		pass_on(w, fd);
	fclose(fp);
	/* Whatever happened, the server's transaction ends here too. */
	if (rc != 0 && srv_running(w) && srv_cmd(w, "RSET") / 100 != 2)
		srv_stop(w, 0);
	txn_reset(w);
}
