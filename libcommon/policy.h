/*
 * policy: the served form of a check, Postfix's policy delegation
 * protocol (SMTPD_POLICY_README).  A request is "name=value" lines ended
 * by an empty line; the answer is "action=..." and an empty line.  One
 * connection (or standard input under spawn(8)) carries many requests.
 *
 * Attributes read (the rest are ignored), and the envelope they make:
 *
 *	client_address		the client IP (TCPREMOTEIP)
 *	reverse_client_name	its PTR name, else client_name (TCPREMOTEHOST;
 *				"unknown" is none)
 *	helo_name		SMTPHELOHOST
 *	sender			SMTPMAILFROM ("" the null sender)
 *	recipient		SMTPRCPTTO
 *	recipient_count		SMTPRCPTCOUNT
 *	sasl_username		SMTPAUTHUSER
 *	mg_authres		MG_AUTHRES (mailguard's own adapters)
 *	mg_relayclient		RELAYCLIENT is set when it says "yes"
 *
 * The outcome maps to an action: accept with no header field DUNNO,
 * accept with fields "PREPEND" and the first of them unfolded (Postfix
 * takes one), reject and defer their reply line ("550 5.7.1 ...",
 * "451 4.7.1 ..."), which Postfix sends as it is.
 */
#ifndef MG_POLICY_H
#define MG_POLICY_H

#include <stddef.h>

#include "env.h"
#include "err.h"
#include "outcome.h"

#define POLICY_REQ_MAX		16384	/* bytes of one request */
#define POLICY_ATTRS_MAX	64	/* attributes of one request */
#define POLICY_ACTION_MAX	1024	/* "action=..." with its line end */

/* One request: its attributes point into buf. */
struct policy_req {
	size_t		 n, len;
	const char	*name[POLICY_ATTRS_MAX], *value[POLICY_ATTRS_MAX];
	char		 buf[POLICY_REQ_MAX];
	const char	*rcptv[1];	/* the envelope's one recipient */
};

/* The value of attribute name, or NULL when the request lacks it. */
const char *policy_get(const struct policy_req *r, const char *name);
/*
 * Fills env (after env_init) from the request; env's strings point into
 * r.  0; -1 and e set when the request is no access policy request; -2
 * and e set when a value is malformed (client_address, recipient_count),
 * which the one-process form would defer as bad input.
 */
int	policy_envelope(struct policy_req *r, struct envelope *env,
	    struct mgerr *e);
/* Writes o as the answer, "action=...\n\n", into buf (cap bytes). */
void	policy_action(const struct outcome *o, char *buf, size_t cap);

/*
 * Judges one request: fills o from env (a fresh envelope each time).
 * The served check's decision, the same one its one-process form makes.
 */
typedef void	policy_decide_fn(void *arg, const struct envelope *env,
	    struct outcome *o);

/* How policy_serve reports a malformed request (log_warn will do). */
typedef void	policy_warn_fn(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

/*
 * Answers the requests read from fd in on fd out, one at a time, until
 * end of file.  A malformed request gets a defer, and warn (may be NULL)
 * says why; the stream goes on at the next empty line.  Returns 0 at
 * end of file, -1 when reading or writing failed (errno set).
 */
int	policy_serve(int in, int out, policy_decide_fn *decide, void *arg,
	    policy_warn_fn *warn);

#endif
