/*
 * authres: the Authentication-Results field (RFC 8601) that every
 * checking program adds, and MG_AUTHRES, the results of a session's
 * earlier steps that the adapters pass on to later ones.
 */
#ifndef MG_AUTHRES_H
#define MG_AUTHRES_H

#include <stddef.h>

#include "hdr.h"

/* The longest field value authres_merge reads; the rest is cut. */
#define AUTHRES_MERGE_MAX	16384

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

/*
 * Appends the results of the Authentication-Results fields in headers
 * (RFC 8601 section 2.2: what follows the authserv-id, unfolded) to the
 * "; "-separated list in dst (capacity cap), for MG_AUTHRES.  A result
 * already present is not repeated.  Returns the results added.
 */
int	authres_merge(char *dst, size_t cap, const char *headers);

#endif
