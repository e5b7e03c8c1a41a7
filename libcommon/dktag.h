/*
 * dktag: the tag=value lists of DomainKeys (RFC 4870 section 3.3 and
 * 3.2.3) and DKIM (RFC 6376 section 3.2) signatures and key records.
 *
 *   tag-list = tag-spec *( ";" tag-spec ) [ ";" ]
 *   tag-spec = [FWS] tag-name [FWS] "=" [FWS] tag-value [FWS]
 *   tag-name = ALPHA *ALNUMPUNC          (ALNUMPUNC: ALPHA, DIGIT, "_")
 *
 * A tag named twice, a tag-spec without "=", a malformed name and more
 * than DKTAG_MAX tags are errors.  Values keep their inner whitespace
 * (dktag_b64 removes it for base64 values); leading and trailing FWS are
 * dropped.  Pure parsing: no allocation beyond the struct, no crypto.
 */
#ifndef MG_DKTAG_H
#define MG_DKTAG_H

#include <stddef.h>

#include "err.h"

#define DKTAG_MAX	32
/* Longest tag list parsed: a DKIM-Signature field is capped by msg.h. */
#define DKTAG_TEXT_MAX	(64 * 1024)

struct dktags {
	size_t		 n;
	const char	*name[DKTAG_MAX];
	const char	*val[DKTAG_MAX];
	char		 buf[DKTAG_TEXT_MAX + 1];
};

/* Parses text (len bytes, need not be NUL-terminated) into t.  0, or -1
 * and e set. */
int	dktags_parse(struct dktags *t, const char *text, size_t len,
	    struct mgerr *e);
/* The value of tag name (case-sensitive, as RFC 6376 section 3.2 says),
 * or NULL when absent. */
const char *dktag(const struct dktags *t, const char *name);
/* Copies a base64 value without its whitespace into out (cap bytes);
 * returns its length, or -1 when it does not fit or holds a byte that is
 * neither base64 nor FWS. */
long	dktag_b64(const char *val, char *out, size_t cap);

#endif
