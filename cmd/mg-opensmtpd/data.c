/*
 * mg-opensmtpd's data-line filtering (smtpd-filters(7)): smtpd streams
 * the message one dot-stuffed line at a time (RFC 5321 section 4.5.2)
 * and takes back a stream that ends in a lone ".".  When [data] steps
 * (or the DKIM signer) must see the message, the lines are spooled
 * unstuffed with LF ends, the steps read the spool, and then the header
 * fields of the session and transaction go back, followed by the
 * message unchanged.  Otherwise lines go back as they come, after the
 * header fields.  The verdict is the answer to the commit request.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "spool.h"
#include "osmtpd.h"

/*
 * One line back to smtpd: `line' as it is, after one more "." when dot
 * is set (stuffing an unstuffed line, RFC 5321 section 4.5.2).
 */
static void
put_line(struct osmtpd *o, struct sess *s, int dot, const char *line,
    size_t n)
{
	char pre[64];
	int k;

	if (o->proto_major == 0 && o->proto_minor < 5)
		k = snprintf(pre, sizeof(pre), "filter-dataline|%s|%s|",
		    s->dtoken, s->id);
	else
		k = snprintf(pre, sizeof(pre), "filter-dataline|%s|%s|",
		    s->id, s->dtoken);
	out_raw(o, pre, (size_t)k);
	if (dot)
		out_raw(o, ".", 1);
	out_raw(o, line, n);
	out_raw(o, "\n", 1);
	if (n + (dot != 0) > OS_CUT_LEN && o->cut_lines)
		s->dcut++;
}

/* The header fields of buf (LF lines), stuffed when one starts with ".". */
static void
put_fields(struct osmtpd *o, struct sess *s, const char *buf)
{
	const char *p = buf, *nl;
	size_t n;

	while (*p != '\0') {
		nl = strchr(p, '\n');
		n = nl != NULL ? (size_t)(nl - p) : strlen(p);
		put_line(o, s, p[0] == '.', p, n);
		p += n + (nl != NULL);
	}
}

static void
put_headers(struct osmtpd *o, struct sess *s)
{
	put_fields(o, s, s->ss.hdr);
	put_fields(o, s, s->ss.tx.hdr);
}

void
data_close(struct sess *s)
{
	if (s->spool != NULL)
		fclose(s->spool);
	s->spool = NULL;
	free(s->ar);
	s->ar = NULL;
	s->in_data = s->passthru = s->data_done = s->commit_wait = 0;
	s->dspool_err = 0;
	s->dverdict = 0;
	s->dreply[0] = '\0';
	s->ddrop = s->dsteps = 0;
	s->dbytes = s->dlines = s->dcut = 0;
}

static void	take_end(struct osmtpd *, struct sess *);

static void
data_begin(struct osmtpd *o, struct sess *s, const char *token)
{
	struct mgerr e;

	data_close(s);
	s->in_data = 1;
	strlcpy(s->dtoken, token, sizeof(s->dtoken));
	/* RFC 8601 section 5: fields forged in our name go first. */
	if ((s->ar = malloc(sizeof(*s->ar))) == NULL) {
		/* The lines still go back; commit defers the message. */
		log_error("session %s: out of memory", s->id);
		s->dverdict = 451;
		strlcpy(s->dreply, "451 4.3.0 temporary failure (out of "
		    "memory)", sizeof(s->dreply));
	} else
		arstrip_buf_init(s->ar, o->sc.hostname);
	if (o->chain.n[CHAIN_DATA] == 0 && (o->dkim.n[CHAIN_DATA] == 0 ||
	    !is_outbound(o, s))) {
		/* Nothing reads the message: the fields, then the lines. */
		s->passthru = 1;
		put_headers(o, s);
		return;
	}
	if ((s->spool = spool_file("mg-opensmtpd", &e)) == NULL) {
		log_error("session %s: spool: %s", s->id, e.msg);
		s->dspool_err = 1;
	}
}

static void
cut_warning(struct sess *s)
{
	if (s->dcut > 0)
		log_warn("session %s: %lld data lines longer than %d "
		    "characters were cut by smtpd (OpenSMTPD before 7.4)",
		    s->id, s->dcut, OS_CUT_LEN);
}

/* The lone "." after the message: run the steps on the spool. */
static void
data_end(struct osmtpd *o, struct sess *s)
{
	take_end(o, s);
	if (s->passthru) {
		put_line(o, s, 0, ".", 1);
		s->data_done = 1;
		cut_warning(s);
		return;
	}
	if (s->dverdict != 0) {
		/* A line was too long: the verdict is made. */
		s->ss.stage = CHAIN_DATA;
		data_steps_done(o, s);
		return;
	}
	if (s->dspool_err || fflush(s->spool) == EOF) {
		session_log(&s->ss, "data", NULL, "defer", "451 4.3.0 temporary "
		    "failure (spool)", "spool failed");
		s->ss.stage = CHAIN_DATA;
		s->dverdict = 451;
		strlcpy(s->dreply, "451 4.3.0 temporary failure (spool)",
		    sizeof(s->dreply));
		data_steps_done(o, s);
		return;
	}
	start_stage(o, s, CHAIN_DATA);
}

struct take {
	struct osmtpd	*o;
	struct sess	*s;
};

/* A line of the message that is not forged: echoed, or spooled. */
static int
take_line(void *arg, const char *p, size_t n, int eol)
{
	struct osmtpd *o = ((struct take *)arg)->o;
	struct sess *s = ((struct take *)arg)->s;

	(void)eol;	/* smtpd's lines are whole */
	if (s->passthru) {
		put_line(o, s, 0, p, n);
		return 0;
	}
	/* RFC 5321 section 4.5.2: the steps read the text unstuffed. */
	if (n > 0 && p[0] == '.') {
		p++;
		n--;
	}
	s->dbytes += (long long)n + 1;
	if (fwrite(p, 1, n, s->spool) != n || putc('\n', s->spool) == EOF) {
		log_error("session %s: spool: %s", s->id, strerror(errno));
		s->dspool_err = 1;
		return -1;
	}
	return 0;
}

/* The end of the message: lines held back go on (or not) now. */
static void
take_end(struct osmtpd *o, struct sess *s)
{
	if (s->ar != NULL && !s->dspool_err)
		arstrip_buf_end(s->ar, take_line, &(struct take){ o, s });
	if (s->ar != NULL && s->ar->dropped > 0)
		log_warn("session %s: removed %zu Authentication-Results "
		    "field%s claiming %s", s->id, s->ar->dropped,
		    s->ar->dropped == 1 ? "" : "s", o->sc.hostname);
}

void
data_line(struct osmtpd *o, struct sess *s, const char *token,
    const char *line)
{
	size_t n = strlen(line);
	const char *p = line;

	if (!s->in_data || s->data_done)
		data_begin(o, s, token);
	if (strcmp(line, ".") == 0) {
		data_end(o, s);
		return;
	}
	s->dlines++;
	if (s->ar == NULL) {
		if (s->passthru)
			put_line(o, s, 0, line, n);
		return;
	}
	if (s->dspool_err)
		return;
	arstrip_buf_line(s->ar, p, n, 1, take_line, &(struct take){ o, s });
}

void
data_line_cut(struct osmtpd *o, struct sess *s, const char *token)
{
	static const char reply[] = "451 4.3.0 temporary failure "
	    "(message line too long)";

	if (!s->in_data || s->data_done)
		data_begin(o, s, token);
	if (s->dverdict != 0)
		return;
	/* What the steps would read is not the message: nothing judges. */
	session_log(&s->ss, "data", NULL, "defer", reply, "line too long");
	s->dverdict = 451;
	strlcpy(s->dreply, reply, sizeof(s->dreply));
}

/* Replays the spool, stuffed again, after the header fields. */
static int
replay(struct osmtpd *o, struct sess *s)
{
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;

	if (fseek(s->spool, 0, SEEK_SET) == -1)
		return -1;
	while ((n = getline(&buf, &cap, s->spool)) > 0) {
		if (buf[n - 1] == '\n')
			buf[--n] = '\0';
		put_line(o, s, buf[0] == '.', buf, (size_t)n);
	}
	free(buf);
	return ferror(s->spool) ? -1 : 0;
}

void
data_steps_done(struct osmtpd *o, struct sess *s)
{
	if (s->dverdict == 0) {
		put_headers(o, s);
		if (replay(o, s) == -1) {
			/* The lines sent so far end here; commit refuses. */
			log_error("session %s: spool: %s", s->id,
			    strerror(errno));
			s->dverdict = 451;
			strlcpy(s->dreply, "451 4.3.0 temporary failure "
			    "(spool)", sizeof(s->dreply));
		}
	}
	/* A refused message goes back empty: commit rejects it anyway. */
	put_line(o, s, 0, ".", 1);
	s->data_done = 1;
	cut_warning(s);
	if (s->spool != NULL) {
		fclose(s->spool);
		s->spool = NULL;
	}
	if (s->commit_wait)
		commit(o, s, s->ctoken);
}

/* The commit request: the data verdict, kept since the lone ".". */
void
commit(struct osmtpd *o, struct sess *s, const char *token)
{
	if (s->in_data && !s->data_done) {
		s->commit_wait = 1;
		strlcpy(s->ctoken, token, sizeof(s->ctoken));
		return;
	}
	if (s->dverdict == 0) {
		answer(o, s, token, "proceed", NULL);
		s->ss.nmsg++;
	} else {
		answer(o, s, token, s->ddrop ? "disconnect" : "reject",
		    s->dreply);
		/* The engine counted a step's refusal. */
		if (!s->dsteps)
			s->ss.nrefused++;
	}
	data_close(s);
}
