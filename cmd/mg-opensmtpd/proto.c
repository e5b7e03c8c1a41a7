/*
 * mg-opensmtpd's side of the filter protocol (smtpd-filters(7)): the
 * lines smtpd sends, the handshake, and the answers.  Fields are split
 * at '|'; only the last field of a line may hold a '|' (a data line, a
 * reply text).  A line that breaks the format is logged and dropped:
 * smtpd shuts down when its filter exits, so nothing here is fatal.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "osmtpd.h"

#define OUT_MAX	((size_t)256 << 20)	/* the output backlog's cap */

/* Splits line at '|' into at most max fields; the last keeps the rest. */
static size_t
split(char *line, char **f, size_t max)
{
	size_t n = 0;
	char *p = line, *bar;

	while (n + 1 < max && (bar = strchr(p, '|')) != NULL) {
		*bar = '\0';
		f[n++] = p;
		p = bar + 1;
	}
	f[n++] = p;
	return n;
}

/* 1 if s is a session id or token: 1 to 16 lower-case hex digits. */
static int
is_id(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef");

	return n > 0 && n <= OS_ID_LEN && s[n] == '\0';
}

static void
malformed(const char *why, const char *line, size_t len)
{
	char copy[128], clean[LOG_FIELD_MAX + 8];

	if (len >= sizeof(copy))
		len = sizeof(copy) - 1;
	memcpy(copy, line, len);
	copy[len] = '\0';
	log_warn("ignored a line from smtpd (%s): %s", why,
	    log_sanitize(clean, sizeof(clean), copy));
}

/* "0.6" into major and minor; -1 when it is not a version. */
static int
version(const char *v, int *major, int *minor)
{
	char *end;
	long a, b;

	a = strtol(v, &end, 10);
	if (end == v || *end != '.')
		return -1;
	b = strtol(end + 1, &end, 10);
	if (*end != '\0' || a < 0 || a > 99 || b < 0 || b > 99)
		return -1;
	*major = (int)a;
	*minor = (int)b;
	return 0;
}

static void
reg(struct osmtpd *o, const char *kind, const char *what)
{
	out_line(o, "register|%s|smtp-in|%s", kind, what);
}

/*
 * Registers the phases the chain has steps for and the reports that
 * carry the facts those steps need, then says ready.
 */
static void
register_all(struct osmtpd *o)
{
	int later = o->want[CHAIN_MAIL] || o->want[CHAIN_RCPT] ||
	    o->want_data;

	if (o->want[CHAIN_CONNECT])
		reg(o, "filter", "connect");
	if (o->want[CHAIN_HELO]) {
		reg(o, "filter", "helo");
		reg(o, "filter", "ehlo");
	}
	if (o->want[CHAIN_MAIL])
		reg(o, "filter", "mail-from");
	if (o->want[CHAIN_RCPT])
		reg(o, "filter", "rcpt-to");
	if (o->want_data) {
		reg(o, "filter", "data-line");
		reg(o, "filter", "commit");
	}
	reg(o, "report", "link-connect");
	reg(o, "report", "link-disconnect");
	reg(o, "report", "link-tls");
	reg(o, "report", "link-auth");
	if (later) {
		reg(o, "report", "link-identify");
		reg(o, "report", "tx-mail");
		reg(o, "report", "tx-rcpt");
		reg(o, "report", "tx-reset");
		reg(o, "report", "tx-rollback");
	}
	out_line(o, "register|ready");
	o->ready = 1;
}

static void
config(struct osmtpd *o, char **f, size_t nf)
{
	int major, minor;

	if (nf < 2)
		return;
	if (strcmp(f[1], "ready") == 0) {
		if (!o->ready)
			register_all(o);
		return;
	}
	if (nf < 3)
		return;
	if (strcmp(f[1], "smtpd-version") == 0) {
		strlcpy(o->version, f[2], sizeof(o->version));
		/* 6.7 to 7.3 cut long data lines; 7.4 fixed it. */
		if (sscanf(f[2], "%d.%d", &major, &minor) == 2)
			o->cut_lines = major < 7 || (major == 7 && minor < 4);
	} else if (strcmp(f[1], "protocol") == 0) {
		if (version(f[2], &major, &minor) == 0) {
			o->proto_major = major;
			o->proto_minor = minor;
		}
	} else if (strcmp(f[1], "admd") == 0) {
		strlcpy(o->admd, f[2], sizeof(o->admd));
		/* smtpd's admd is the authserv-id unless -H names one. */
		if (o->hostname == NULL && o->admd[0] != '\0')
			o->sc.hostname = o->admd;
	}
	/* Any other key (subsystem, smtp-session-timeout) is not needed. */
}

/*
 * The request whose line was too long to keep: smtpd waits for an
 * answer, so it gets one, a temporary failure (nothing was judged).
 */
static void
filter_cut(struct osmtpd *o, struct sess *s, const char *phase,
    const char *token)
{
	static const char reply[] = "451 4.3.0 temporary failure "
	    "(line too long)";

	log_warn("session %s: %s line from smtpd longer than %zu bytes",
	    s->id, phase, (size_t)OS_LINE_MAX);
	if (strcmp(phase, "data-line") == 0) {
		data_line_cut(o, s, token);
		return;
	}
	session_log(&s->ss, phase, NULL, "defer", reply, "line too long");
	answer(o, s, token, "reject", reply);
}

static void
filter(struct osmtpd *o, char **f, size_t nf, const char *line,
    size_t len, int cut)
{
	struct sess *s;

	if (nf < 7 || !is_id(f[5]) || !is_id(f[6])) {
		malformed("bad filter request", line, len);
		return;
	}
	if (strcmp(f[3], "smtp-in") != 0) {
		malformed("unknown subsystem", line, len);
		return;
	}
	if ((s = sess_get(o, f[5], 1)) == NULL) {
		/* Out of memory: still answer, or the session hangs. */
		log_error("session %s: out of memory", f[5]);
		if (strcmp(f[4], "data-line") == 0)
			out_line(o, "filter-dataline|%s|%s|%s", f[5], f[6],
			    nf > 7 ? f[7] : "");
		else
			out_line(o, "filter-result|%s|%s|reject|%s", f[5],
			    f[6], "451 4.3.0 temporary failure");
		return;
	}
	if (cut)
		filter_cut(o, s, f[4], f[6]);
	else if (strcmp(f[4], "data-line") == 0)
		data_line(o, s, f[6], nf > 7 ? f[7] : "");
	else
		request(o, s, f[4], f[6], nf > 7 ? f[7] : "");
}

static void	dispatch(struct osmtpd *, char *, size_t, int);

/* The session's line waits; 0, or -1 when it cannot (out of memory). */
static int
enqueue(struct sess *s, const char *line, size_t len, int cut)
{
	struct qline *q;

	if ((q = malloc(sizeof(*q) + len + 1)) == NULL)
		return -1;
	q->next = NULL;
	q->len = len;
	q->cut = cut;
	memcpy(q->text, line, len + 1);
	if (s->qhead == NULL)
		s->qtail = &s->qhead;
	*s->qtail = q;
	s->qtail = &q->next;
	return 0;
}

/* Field i (0-based) of line, or NULL. */
static const char *
field(const char *line, int i)
{
	while (i-- > 0)
		if ((line = strchr(line, '|')) == NULL)
			return NULL;
		else
			line++;
	return line;
}

static void
line_in(struct osmtpd *o, char *line, size_t len, int cut)
{
	const char *sid, *ev;
	char id[OS_ID_LEN + 1];
	struct sess *s;
	size_t n;

	if (o->ready && (strncmp(line, "filter|", 7) == 0 ||
	    strncmp(line, "report|", 7) == 0) &&
	    (ev = field(line, 4)) != NULL && (sid = field(line, 5)) != NULL &&
	    (n = strcspn(sid, "|")) <= OS_ID_LEN) {
		memcpy(id, sid, n);
		id[n] = '\0';
		if ((s = sess_get(o, id, 0)) != NULL &&
		    (s->busy || s->qhead != NULL) &&
		    strncmp(ev, "link-disconnect|", 16) != 0 &&
		    enqueue(s, line, len, cut) == 0)
			return;
	}
	dispatch(o, line, len, cut);
}

void
proto_line(struct osmtpd *o, char *line, size_t len)
{
	line_in(o, line, len, 0);
}

void
proto_cut_line(struct osmtpd *o, char *head, size_t len)
{
	line_in(o, head, len, 1);
}

void
proto_drain(struct osmtpd *o)
{
	struct sess *s, *next;
	struct qline *q;
	size_t i;

	for (i = 0; i < sizeof(o->tab) / sizeof(o->tab[0]); i++)
		for (s = o->tab[i]; s != NULL; s = next) {
			next = s->next;
			while (!s->busy && (q = s->qhead) != NULL) {
				/* No queued line ends the session. */
				s->qhead = q->next;
				dispatch(o, q->text, q->len, q->cut);
				free(q);
			}
		}
}

static void
dispatch(struct osmtpd *o, char *line, size_t len, int cut)
{
	char *f[8], copy[160];
	size_t nf;
	int major, minor;

	(void)len;
	/* Kept for the message about a bad line: split() cuts the line. */
	strlcpy(copy, line, sizeof(copy));
	if (strncmp(line, "config|", 7) == 0) {
		nf = split(line, f, 3);
		config(o, f, nf);
		return;
	}
	if (!o->ready) {
		malformed("before config|ready", copy, strlen(copy));
		return;
	}
	nf = split(line, f, strncmp(line, "filter|", 7) == 0 ? 8 : 7);
	if (nf < 6 || version(f[1], &major, &minor) == -1) {
		malformed("not a protocol line", copy, strlen(copy));
		return;
	}
	if (major != 0) {
		malformed("unknown protocol version", copy, strlen(copy));
		return;
	}
	o->proto_major = major;
	o->proto_minor = minor;
	if (strcmp(f[0], "filter") == 0)
		filter(o, f, nf, copy, strlen(copy), cut);
	else if (strcmp(f[0], "report") == 0) {
		if (!is_id(f[5])) {
			malformed("bad session id", copy, strlen(copy));
			return;
		}
		report(o, f, nf, minor);
	} else
		malformed("unknown kind", copy, strlen(copy));
}

/* --- output --------------------------------------------------------- */

void
out_raw(struct osmtpd *o, const char *a, size_t n)
{
	size_t cap;
	char *p;

	if (o->olen + n > o->ocap) {
		cap = o->ocap > 0 ? o->ocap : 65536;
		while (cap < o->olen + n)
			cap *= 2;
		if (cap > OUT_MAX || (p = realloc(o->obuf, cap)) == NULL) {
			/* Cannot happen while smtpd reads; say so if it does. */
			if (!o->ofail)
				log_error("output to smtpd: backlog too large");
			o->ofail = 1;
			return;
		}
		o->obuf = p;
		o->ocap = cap;
	}
	memcpy(o->obuf + o->olen, a, n);
	o->olen += n;
}

void
out_line(struct osmtpd *o, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	out_raw(o, buf, (size_t)n);
}

int
out_flush(struct osmtpd *o)
{
	ssize_t n;

	while (o->olen > 0) {
		n = write(STDOUT_FILENO, o->obuf, o->olen);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0)
			return -1;
		memmove(o->obuf, o->obuf + n, o->olen - (size_t)n);
		o->olen -= (size_t)n;
	}
	return 0;
}

/*
 * One answer to a request.  Since protocol 0.5 the session comes before
 * the token; 0.4 had them the other way round.
 */
void
answer(struct osmtpd *o, const struct sess *s, const char *token,
    const char *decision, const char *arg)
{
	const char *a = s->id, *b = token;

	if (o->proto_major == 0 && o->proto_minor < 5) {
		a = token;
		b = s->id;
	}
	if (arg != NULL)
		out_line(o, "filter-result|%s|%s|%s|%s", a, b, decision, arg);
	else
		out_line(o, "filter-result|%s|%s|%s", a, b, decision);
}
