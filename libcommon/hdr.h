/*
 * hdr: header fields as programs write them (RFC 5322), and the
 * Authentication-Results field (RFC 8601) that every checking program adds.
 */
#ifndef MG_HDR_H
#define MG_HDR_H

#include <stddef.h>

#include "err.h"
#include "log.h"

/* RFC 5322 section 2.1.1: lines SHOULD be at most 78 characters. */
#define HDR_LINE_SOFT	78
/* Longest field we build, folded, without the final line break. */
#define HDR_FIELD_MAX	4096

/*
 * Writes "Name: value" into out, folded at whitespace so no line passes
 * HDR_LINE_SOFT characters where a break is possible (RFC 5322 section
 * 2.2.3); continuation lines start with a tab.  Lines are joined with
 * "\n"; no final line break.  Value whitespace runs are kept, and none
 * inside a quoted-string is folded, where unfolding would keep the tab.
 * Returns 0,
 * or -1 and e set when the field does not fit in outlen.
 */
int	hdr_fold(const char *name, const char *value, char *out, size_t outlen,
	    struct mgerr *e);

/* Room hdr_quote needs for any source: every byte escaped, the quotes. */
#define HDR_QUOTED_MAX	(2 * LOG_FIELD_MAX + 3)
/*
 * Writes src into dst (HDR_QUOTED_MAX bytes) as an RFC 5322 quoted-string,
 * as RFC 8601 and RFC 7208 section 9.1 allow for any value: '"' and '\\'
 * become quoted-pairs, a control or 8-bit byte '?'; cut at LOG_FIELD_MAX
 * source bytes with "..." marking the cut.  Returns dst.
 */
char	*hdr_quote(char *dst, const char *src);

/*
 * An Authentication-Results value under construction:
 * "authserv-id; method=result prop=value ..." (RFC 8601 section 2.2).
 */
struct authres {
	char	buf[HDR_FIELD_MAX];
	size_t	len;
	int	n;		/* results added */
};

/* Starts the value with the authserv-id (the configured hostname). */
void	authres_init(struct authres *a, const char *authserv_id);
/*
 * Adds "; method=result" followed by the properties given as pairs of
 * strings "ptype.property", "value", ending with NULL; a value holding
 * characters outside an RFC 2045 token is quoted.  A reason, when not
 * NULL, goes in a comment after the result.
 */
void	authres_add(struct authres *a, const char *method, const char *result,
	    const char *reason, ...) __attribute__((sentinel));
/* Returns the value: "host; iprev=pass policy.iprev=...", or "host; none". */
const char *authres_value(struct authres *a);

#endif
