/*
 * msg: the message reader every message-reading program uses (DKIM and
 * DomainKeys, Sender ID's PRA, the data-stage steps).
 *
 * msg_read reads the header section of an RFC 5322 message from a file
 * descriptor and keeps it in memory; the body is then streamed in large
 * blocks with msg_body_next, as often as the caller rewinds it.
 *
 * Line endings: input lines may end in LF or CRLF; the first line's ending
 * is the message's convention (msg_crlf), and msg_write writes with it.
 * Header fields are kept normalised to CRLF (what DKIM hashes): a field's
 * raw bytes are "Name: value" with every fold as CRLF + WSP and no final
 * CRLF.  The body can be streamed as it came or with every bare LF made
 * CRLF (RFC 5322 section 2.3).
 *
 * Limits (struct msg_limits, MSG_* defaults): a field longer than
 * field_max bytes, more than fields_max fields, a header section over
 * header_max bytes, a NUL byte in the header, a header line that is not a
 * field ("name:" missing, which is how a message without the blank line
 * before its body looks), and a continuation line before the first field
 * are errors: msg_read returns NULL with e naming the problem and its
 * line.  A message that ends inside the header has an empty body.
 *
 * Memory stays bounded: the header costs at most header_max; the body is
 * kept for a rewind only when asked (MSG_KEEP), by seeking when fd is a
 * regular file, else in memory up to spool_mem bytes and past that in an
 * unlinked temporary file under $TMPDIR (else /tmp).  A regular file whose
 * body is larger than MSG_BLOCK is mapped read-only instead of read, so
 * its body streams without a copy and rewinds for free (the file must
 * not shrink while the message is open).
 */
#ifndef MG_MSG_H
#define MG_MSG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

/* RFC 5322 section 2.1.1 allows 998 octets a line; folded fields are
 * longer.  These caps keep a hostile header from costing more. */
#define MSG_FIELD_MAX	(64 * 1024)
#define MSG_FIELDS_MAX	1000
#define MSG_HEADER_MAX	(1024 * 1024)
/* The body is spooled to a temporary file past this many bytes. */
#define MSG_SPOOL_MEM	(1024 * 1024)
/* Size of the blocks msg_body_next returns (at most twice this with
 * LF made CRLF). */
#define MSG_BLOCK	(256 * 1024)

/* Flags of msg_read. */
#define MSG_KEEP	0x01	/* keep the body so msg_body_rewind works */

struct msg_limits {
	size_t	field_max, fields_max, header_max, spool_mem;
};

struct msg_field {
	const char	*name;	/* the name as written, NUL-terminated */
	size_t		 namelen;
	const char	*raw;	/* "Name: value", folds as CRLF, no final CRLF */
	size_t		 rawlen;
	const char	*value;	/* unfolded: CRLFs removed, NUL-terminated;
				   leading whitespace after the colon dropped */
};

struct msg;

/*
 * Reads the header section from fd (which the message owns from now on
 * only for reading; the caller closes it).  lim NULL means the MSG_*
 * defaults.  Returns the message, or NULL and e set: e->temp for an I/O
 * error, else a malformed message.
 */
struct msg *msg_read(int fd, const struct msg_limits *lim, int flags,
	    struct mgerr *e);
void	msg_free(struct msg *m);

/* 1 if the message's lines end in CRLF, 0 for LF. */
int	msg_crlf(const struct msg *m);
/* 1 if a blank line separated header and body (0: the input ended). */
int	msg_has_body(const struct msg *m);
size_t	msg_nfields(const struct msg *m);
/* Field i, 0 the topmost; NULL past the end. */
const struct msg_field *msg_field(const struct msg *m, size_t i);
/* Index of the first field named name (case-insensitive) at or after
 * from, or -1. */
long	msg_find(const struct msg *m, const char *name, size_t from);

/*
 * Removes field i (nothing past the end): msg_nfields, msg_field,
 * msg_find and msg_write no longer see it, and the fields after it move
 * up one index.  Pointers from msg_field to later fields go stale.
 */
void	msg_remove(struct msg *m, size_t i);

/*
 * Returns the next block of the body in *p (valid until the next call):
 * its length, 0 at the end, -1 and e set on a read error.  crlf 1 makes
 * every bare LF a CRLF; 0 gives the bytes as they came.
 */
ssize_t	msg_body_next(struct msg *m, int crlf, const char **p,
	    struct mgerr *e);
/* Starts the body again; needs MSG_KEEP.  0, or -1 and e set. */
int	msg_body_rewind(struct msg *m, struct mgerr *e);
/* Body bytes as they came, counted so far by msg_body_next. */
uint64_t msg_body_size(const struct msg *m);

/*
 * Writes the message to fd: the fields in add (each "Name: value" with
 * folds as "\n" + WSP, as hdr_fold makes them), then the original header,
 * the blank line and the body, all in the message's line-end convention.
 * Rewinds the body first (MSG_KEEP needed unless nothing was read).  0,
 * or -1 and e set.
 */
int	msg_write(struct msg *m, int fd, const char *const *add, size_t nadd,
	    struct mgerr *e);

#endif
