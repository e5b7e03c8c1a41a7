/*
 * dk: DomainKeys (RFC 4870) signing and verification on OpenSSL.
 * Historic, but still seen; OpenDKIM dropped it.
 *
 * A DomainKey-Signature covers the header fields that follow it (all of
 * them, or those h= names), the blank line and the body, canonicalized
 * "simple" or "nofws" (section 3.4), hashed with SHA-1 and signed with
 * RSA (PKCS#1 v1.5).  Trailing empty lines of the body are ignored.  The
 * signing address is the Sender field if there is one, else From
 * (section 3.1); d= must be its domain or a parent domain of it, and the
 * field must be signed.
 *
 * Both directions stream: make a context, feed it every body block (with
 * CRLF line ends, msg_body_next(m, 1, ...)), then finish.  Contexts hold
 * no reference to the message after dk_*_new returns.
 */
#ifndef MG_DK_H
#define MG_DK_H

#include <stddef.h>

#include "dns.h"
#include "err.h"
#include "msg.h"

/* Key sizes below this are refused (RFC 4870 allowed 512-bit keys). */
#define DK_MIN_KEY_BITS	512

struct dk;

/* One verification result, with what Authentication-Results shows. */
struct dk_result {
	const char	*result;	/* pass fail neutral permerror temperror */
	char		 reason[160];
	char		 domain[256];
	char		 selector[64];
	char		 b[16];		/* first 8 characters of b= */
	const char	*sender_ptype;	/* "header.from" or "header.sender" */
	char		 sender[256];
};

/*
 * Starts verifying the DomainKey-Signature field at index field of m.
 * Never fails: a malformed signature gives a context whose result is
 * already decided (dk_verify_end reports it).
 */
struct dk *dk_verify_new(const struct msg *m, size_t field, int min_bits);
/* Feeds one block of the body, CRLF line ends. */
void	dk_body(struct dk *d, const char *p, size_t n);
/* Fetches the key through dns and fills r.  Frees d. */
void	dk_verify_end(struct dk *d, struct dns *dns, struct dk_result *r);

/*
 * Starts a DomainKey-Signature for m by domain and selector with the PEM
 * RSA key in keyfile; nofws picks the canonicalization; hdrs is NULL for
 * no h= tag, "*" to list every field, else a colon-separated list of names
 * to sign.  NULL and e set on error.
 */
struct dk *dk_sign_new(const struct msg *m, const char *domain,
	    const char *selector, const char *keyfile, int nofws,
	    const char *hdrs, struct mgerr *e);
/* Finishes: *field gets "DomainKey-Signature: ..." folded with "\n\t"
 * (the caller frees it).  Frees d.  0, or -1 and e set. */
int	dk_sign_end(struct dk *d, char **field, struct mgerr *e);
/* Frees a context without finishing it. */
void	dk_free(struct dk *d);

#endif
