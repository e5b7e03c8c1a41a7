/*
 * smtp: the SMTP line reader shared by the adapters (mg-wrap reads its
 * client and the real server with it; mg-opensmtpd can read filter lines).
 *
 * The reader owns one fixed buffer, so memory stays bounded whatever the
 * peer sends.  Bytes come in by smtp_rd_feed (from read(2), SSL_read(3)
 * or anything else: the reader does no I/O, so it suits a blocking
 * program and a poll(2) loop alike), and leave as lines by smtp_rd_line.
 * Bytes after a line stay buffered for the next call, so pipelined
 * commands (RFC 2920) are never lost or reordered.
 *
 * Line ends: CRLF is the SMTP line end (RFC 5321 section 2.3.8).  A bare
 * LF also ends a line, flagged SMTP_EOL_LF, so the caller can do what
 * qmail-smtpd does: accept it in commands, refuse it in message text.  A
 * line longer than the buffer comes out in pieces flagged SMTP_EOL_NONE,
 * the last piece carrying the real line end; a command reader treats a
 * piece as "line too long" (RFC 5321 section 4.5.3.1.4), a message
 * reader just copies the pieces.  NUL bytes are passed through and
 * counted in the line's `nul' so a command reader can refuse them.
 */
#ifndef MG_SMTP_H
#define MG_SMTP_H

#include <stddef.h>

/* RFC 5321 section 4.5.3.1.4: a command line is at most 512 octets. */
#define SMTP_CMD_MAX	512
/* RFC 5321 section 4.5.3.1.6: a text line is at most 1000 octets. */
#define SMTP_TEXT_MAX	1000
/* RFC 5321 section 4.5.3.1.5: a reply line is at most 512 octets. */
#define SMTP_REPLY_MAX	512
/* The reader's buffer: room for several pipelined commands. */
#define SMTP_RD_BUF	8192

enum smtp_eol {
	SMTP_EOL_CRLF,	/* ended in CR LF */
	SMTP_EOL_LF,	/* ended in a bare LF */
	SMTP_EOL_NONE	/* a piece of a line longer than the buffer */
};

struct smtp_rd {
	char	buf[SMTP_RD_BUF];
	size_t	off;		/* first unread byte */
	size_t	len;		/* bytes held from off */
	size_t	max;		/* longest piece handed out */
};

struct smtp_line {
	const char	*p;	/* the line, without its line end; valid
				   until the next call on the reader */
	size_t		 len;
	enum smtp_eol	 eol;
	size_t		 nul;	/* NUL bytes in the line */
};

/*
 * Initialises r; max (at most SMTP_RD_BUF, 0 for the whole buffer) is
 * the longest piece smtp_rd_line hands out before it splits a line.
 */
void	smtp_rd_init(struct smtp_rd *r, size_t max);
/*
 * Copies up to n bytes from p into the buffer and returns how many fit
 * (0 when full: take lines out first).
 */
size_t	smtp_rd_feed(struct smtp_rd *r, const void *p, size_t n);
/*
 * Where the next bytes may be written in place, and how many: for
 * read(fd, ptr, *room) followed by smtp_rd_wrote(r, got).  Returns NULL
 * with *room 0 when full.
 */
char	*smtp_rd_space(struct smtp_rd *r, size_t *room);
void	 smtp_rd_wrote(struct smtp_rd *r, size_t n);
/*
 * Takes the next line (or piece) out.  1 with ln filled, 0 when no
 * complete line is buffered yet.
 */
int	smtp_rd_line(struct smtp_rd *r, struct smtp_line *ln);
/* Bytes buffered and not yet taken out as lines. */
size_t	smtp_rd_pending(const struct smtp_rd *r);
/* Throws away everything buffered (after STARTTLS, RFC 3207 section 6). */
void	smtp_rd_discard(struct smtp_rd *r);

/*
 * Command parsing.  Splits a command line into its verb (upper-cased
 * into verb, at most 15 characters) and argument (pointer into line, past
 * the blanks).  Returns 0, or -1 when the line holds no verb.
 */
int	smtp_verb(const char *line, char *verb, size_t verblen,
	    const char **arg);
/*
 * For "FROM:<a@b> SIZE=10" (after MAIL) or "TO:<a@b>" (after RCPT):
 * checks the keyword (prefix "FROM:" or "TO:", case-insensitive, blanks
 * allowed after the colon as many clients send them), copies the path
 * into path and points *params at what follows it.  0, or -1 when the
 * syntax is wrong or the path does not fit.
 */
int	smtp_path_arg(const char *arg, const char *kw, char *path,
	    size_t pathlen, const char **params);
/*
 * Finds ESMTP parameter name (case-insensitive, "SIZE") in params and
 * copies its value into val.  1 found, 0 not.
 */
int	smtp_param(const char *params, const char *name, char *val,
	    size_t vallen);

/*
 * Reply parsing: a reply line is "NNN text" (last line) or "NNN-text"
 * (more follow), RFC 5321 section 4.2.1.  Returns the code 200..599 and
 * sets *more, or -1 when the line is not a reply.
 */
int	smtp_reply_code(const char *line, size_t len, int *more);

#endif
