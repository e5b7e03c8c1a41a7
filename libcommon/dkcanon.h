/*
 * dkcanon: the DKIM body hash (RFC 6376 section 3.7), computed fast.
 *
 * Canonicalizes a message body "simple" (section 3.4.3) or "relaxed"
 * (section 3.4.4) and hashes it with OpenSSL in large blocks.  The input
 * is the body as it came, in any number of blocks of any size: lines may
 * end in LF or CRLF (a bare LF counts as a line end, RFC 5322 section
 * 2.3), a bare CR is data.  A last line without a line end gets a CRLF
 * (section 3.4.3).  Trailing empty lines are dropped; "simple" makes an
 * empty body one CRLF, "relaxed" leaves it empty.
 *
 * limit >= 0 hashes only the first limit octets of the canonical body
 * (the l= tag, section 3.5); -1 hashes all of it.  dkcanon_final reports
 * the canonical body's whole length either way, which is what a signer
 * writes as l= and what a verifier compares an l= against.
 */
#ifndef MG_DKCANON_H
#define MG_DKCANON_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Big enough for any digest DKIM uses (SHA-1, SHA-256). */
#define DKCANON_MDMAX	64

struct dkcanon;

/* hash is "sha256" or "sha1".  NULL and e set on error. */
struct dkcanon *dkcanon_new(int relaxed, int64_t limit, const char *hash,
	    struct mgerr *e);
void	dkcanon_update(struct dkcanon *c, const char *p, size_t n);
/*
 * Ends the body: md gets the digest (*mdlen its length), *len the whole
 * canonical length.  0, or -1 and e set.  Call once.
 */
int	dkcanon_final(struct dkcanon *c, unsigned char *md, unsigned *mdlen,
	    uint64_t *len, struct mgerr *e);
void	dkcanon_free(struct dkcanon *c);

#endif
