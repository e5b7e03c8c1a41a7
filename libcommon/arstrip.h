/*
 * arstrip: find forged Authentication-Results fields.
 *
 * RFC 8601 section 5: a receiving host must remove every
 * Authentication-Results field that claims its own authserv-id from
 * incoming mail before anything acts on it, or a sender can write
 * "dkim=pass" for us.  This module says which fields those are; the
 * caller removes them.
 *
 * The authserv-id (RFC 8601 section 2.2) is the first item of the field
 * body: a token or a quoted-string (RFC 2045 section 5.1), after optional
 * CFWS, ended by CFWS, a version number or the ";" before the results.
 * It is compared with the given id case-insensitively.  Folds may end in
 * LF or CRLF.  What cannot be read as an id claims nothing, except a
 * field body whose id has not ended within ARSTRIP_HOLD_MAX bytes (a
 * wall of comments), which counts as ours: no honest host writes one,
 * and the streaming form need hold no more than that.
 *
 * Two forms: arstrip_field for a field already in hand (and arstrip_msg
 * for a whole struct msg), and struct arstrip for a caller that sees the
 * message one physical line at a time, as an adapter relaying DATA does:
 *
 *	arstrip_init(&s, hostname);
 *	for each line:
 *		v = arstrip_line(&s, line, len);
 *		if (arstrip_held(&s) != ARSTRIP_HOLD)
 *			pass on (KEEP) or discard (DROP) the lines held;
 *		if (v == ARSTRIP_HOLD) hold the line;
 *		else if (v == ARSTRIP_KEEP) pass it on;
 *	at the end, arstrip_end(&s) settles the lines still held.
 */
#ifndef MG_ARSTRIP_H
#define MG_ARSTRIP_H

#include <stddef.h>

#include "msg.h"

/* Octets of a field body read for its id before it counts as ours. */
#define ARSTRIP_HOLD_MAX	4096

/* What arstrip_line, arstrip_held and arstrip_end answer. */
#define ARSTRIP_KEEP	0	/* pass the line on */
#define ARSTRIP_DROP	1	/* leave it out: a forged field */
#define ARSTRIP_HOLD	2	/* keep it back until the field's id is seen */

/* Reads the authserv-id as it streams by; private to arstrip.c. */
struct arstrip_scan {
	int		 st, esc, match;
	unsigned	 depth;
	size_t		 pos, seen;
};

/*
 * The streaming state: fill it with arstrip_init; the fields are private.
 * It holds no memory of its own and needs no freeing.
 */
struct arstrip {
	const char		*id;
	size_t			 idlen;
	int			 st, heldv;
	struct arstrip_scan	 sc;
};

/*
 * 1 if the field named name (namelen bytes, no colon) is
 * Authentication-Results and its value (valuelen bytes, folded or not)
 * claims authserv-id id (a NUL-terminated string), else 0.
 */
int	arstrip_field(const char *name, size_t namelen, const char *value,
	    size_t valuelen, const char *id);

/*
 * Removes from m every field that arstrip_field says claims id, so that
 * neither a check reading m nor msg_write sees it.  Returns how many.
 */
size_t	arstrip_msg(struct msg *m, const char *id);

/*
 * Starts a message.  id (NUL-terminated) must stay valid while s is used.
 */
void	arstrip_init(struct arstrip *s, const char *id);

/*
 * Feeds the next physical line of the message (len bytes, with or
 * without its LF or CRLF): a field's first line, a continuation line
 * (starting with SP or HT), the empty line that ends the header, or a
 * body line, which is always kept.  Returns ARSTRIP_KEEP, ARSTRIP_DROP or
 * ARSTRIP_HOLD for this line; a continuation line gets its field's
 * answer.  HOLD comes only for the first lines of an
 * Authentication-Results field whose id has not been seen yet (their
 * body is at most ARSTRIP_HOLD_MAX bytes): the caller keeps them back
 * until arstrip_held settles them.
 */
int	arstrip_line(struct arstrip *s, const char *line, size_t len);

/*
 * After each arstrip_line, what becomes of the lines held back before
 * that line, all alike: ARSTRIP_KEEP or ARSTRIP_DROP once the line
 * settled them (KEEP also when none were held), ARSTRIP_HOLD while they
 * still wait (the line continued their field and was held too).  The
 * line's own answer may differ from theirs when it starts a new field.
 */
int	arstrip_held(const struct arstrip *s);

/*
 * The message ended (no more lines, perhaps no empty line): ARSTRIP_KEEP
 * or ARSTRIP_DROP for lines still held, KEEP when none are.
 */
int	arstrip_end(struct arstrip *s);

/*
 * The streaming form with its buffers, for an adapter that passes the
 * message on as it reads it, in pieces: a physical line may come in
 * several (a line longer than the reader's buffer), each piece with eol
 * set when it ends the line.  A header line is judged whole, or on its
 * first ARSTRIP_LINE_MAX bytes; lines to pass on go to emit, in order,
 * the rest are left out.  A header line too long to judge that way, or
 * a field held past the buffer, counts as ours (RFC 5322 section 2.1.1
 * caps a line at 998 octets).  After the header, pieces go straight on.
 */
typedef int	arstrip_emit_fn(void *arg, const char *p, size_t n, int eol);

#define ARSTRIP_LINE_MAX	2048

struct arstrip_buf {
	struct arstrip	 s;
	int		 body;		/* past the header */
	int		 in_line;	/* the last piece did not end its line */
	int		 judged;	/* ... and the line has its answer */
	int		 cur;		/* that answer */
	int		 force;		/* leaving out the rest of a field */
	size_t		 dropped;	/* fields left out */
	size_t		 llen, len;
	char		 line[ARSTRIP_LINE_MAX];	/* a line coming */
	char		 hold[4 * ARSTRIP_HOLD_MAX];	/* "line\n" ... */
};

/* Starts a message; id as for arstrip_init. */
void	arstrip_buf_init(struct arstrip_buf *b, const char *id);
/* One piece of the message.  0, or -1 when emit failed (it returned -1). */
int	arstrip_buf_line(struct arstrip_buf *b, const char *p, size_t n,
	    int eol, arstrip_emit_fn *emit, void *arg);
/* The message ended: settles what is held.  0, or -1 as above. */
int	arstrip_buf_end(struct arstrip_buf *b, arstrip_emit_fn *emit,
	    void *arg);

#endif
