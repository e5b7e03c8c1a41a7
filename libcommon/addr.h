/*
 * addr: the reverse-path and forward-path of MAIL FROM and RCPT TO
 * (RFC 5321 section 4.1.2), as qmail-smtpd and its plugins see them.
 *
 * The argument may come with or without angle brackets.  A source route
 * is dropped (RFC 5321 section 4.1.2 and appendix C) and flagged; a
 * quoted local part is unquoted; a domain is lower-cased without its
 * trailing dot; an address literal (section 4.1.3) is kept as written.
 * A bare local part ("postmaster", section 4.5.1) has domain "".  SMTP
 * parameters after the path ("SIZE=100") are not part of the argument:
 * the caller strips them.  Deviations from the RFC, on purpose: dots in
 * an unquoted local part may be leading, trailing or doubled (as qmail
 * and Postfix accept), bytes >= 0x80 are allowed in local parts and
 * domain labels (RFC 6531), and '_' is allowed in domain labels.
 */
#ifndef MG_ADDR_H
#define MG_ADDR_H

#include "err.h"

/* RFC 5321 section 4.5.3.1.1: at most 64 octets in a local part. */
#define ADDR_LOCAL_MAX	64
/* RFC 5321 section 4.5.3.1.2: at most 255 octets in a domain. */
#define ADDR_DOMAIN_MAX	255
/* RFC 5321 section 4.5.3.1.3: at most 256 octets in a path, "<" ">" too. */
#define ADDR_PATH_MAX	256
/*
 * Size of a buffer that holds one address, canonical or as the client
 * sent it.  The canonical form needs at most 387 bytes: a local part of
 * ADDR_LOCAL_MAX octets re-quoted with every octet escaped (2 + 2 * 64),
 * "@", a domain of ADDR_DOMAIN_MAX octets and the NUL.  The rest is room
 * for an address over those limits that a program copies only to name
 * it in a reply or log line.
 */
#define ADDR_BUF_MAX	600

struct mailaddr {
	char	local[65 * 4];	/* local part, unquoted, escapes resolved */
	char	domain[256];	/* domain, lower-cased, trailing dot removed;
				   a literal "[192.0.2.1]" kept as written */
	int	null;		/* 1 for the null reverse-path <> */
	int	quoted;		/* 1 if the local part was a quoted-string */
	int	literal;	/* 1 if the domain is an address literal */
	int	route;		/* 1 if a source route @a,@b: was dropped */
	/* canonical "local@domain", the local part re-quoted only if it
	   needs quotes; "local" alone when there is no domain; "" for <> */
	char	addr[ADDR_BUF_MAX];
};

/*
 * Parses s, the argument of MAIL FROM or RCPT TO, into a.  "" and "<>"
 * are the null path.  Returns 0, or -1 with e naming the input and the
 * problem ("<a@b: unbalanced angle bracket"); a is zeroed on failure.
 */
int	addr_parse(const char *s, struct mailaddr *a, struct mgerr *e);

/*
 * Returns a pointer into addr just after its last '@' outside a quoted
 * string, or "" when there is none.  Does not lower-case: pass the
 * canonical addr of a struct mailaddr for a lower-cased domain.
 */
const char	*addr_domain(const char *addr);

#endif
