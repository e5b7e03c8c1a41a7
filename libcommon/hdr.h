/*
 * hdr: header fields as programs write them (RFC 5322): folded, with
 * values quoted where they must be.
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

#endif
