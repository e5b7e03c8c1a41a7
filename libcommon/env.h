/*
 * env: the envelope a checking program judges, from its options first and
 * else from the environment that tcpserver, qmail-spp and the adapters set
 * (the table in mailguard(7)).
 */
#ifndef MG_ENV_H
#define MG_ENV_H

#include <stddef.h>

#include "err.h"
#include "ip.h"
#include "opt.h"

struct envelope {
	const char	*ip_text;	/* --ip / TCPREMOTEIP */
	const char	*host;		/* --host / TCPREMOTEHOST */
	const char	*helo;		/* --helo / SMTPHELOHOST */
	const char	*from;		/* --from / SMTPMAILFROM; "" = <> */
	struct opt_list	 rcpt;		/* --rcpt... / SMTPRCPTTO */
	long long	 rcpt_count;	/* --rcpt-count / SMTPRCPTCOUNT; -1 unset */
	const char	*auth_user;	/* --auth-user / SMTPAUTHUSER */
	const char	*authres;	/* --auth-results / MG_AUTHRES */
	int		 relayclient;	/* RELAYCLIENT is set */

	/* Filled by env_load. */
	struct ipaddr	 ip;
	int		 have_ip;
};

/* Recipients a transaction may have counted: far above any MTA's limit
 * (RFC 5321 section 4.5.3.1.8 asks only for 100), and far below where
 * "count + 1" could overflow. */
#define ENV_RCPT_COUNT_MAX	1000000

/* The option table entries every checking program shares; a program's
 * table starts with ENV_OPTS(&env). */
#define ENV_OPTS(env)							\
	{ "ip", 0, OPT_STR, &(env)->ip_text, 0, 0, "addr" },		\
	{ "host", 0, OPT_STR, &(env)->host, 0, 0, "name" },		\
	{ "helo", 0, OPT_STR, &(env)->helo, 0, 0, "name" },		\
	{ "from", 0, OPT_STR, &(env)->from, 0, 0, "addr" },		\
	{ "rcpt", 0, OPT_LIST, &(env)->rcpt, 0, 0, "addr" },		\
	{ "rcpt-count", 0, OPT_NUM, &(env)->rcpt_count, 0,		\
	    ENV_RCPT_COUNT_MAX, "n" },					\
	{ "auth-user", 0, OPT_STR, &(env)->auth_user, 0, 0, "name" },	\
	{ "auth-results", 0, OPT_STR, &(env)->authres, 0, 0, "text" }

void	env_init(struct envelope *env);
/*
 * Fills the fields no option set from the environment, then parses the
 * client IP (an empty TCPREMOTEHOST counts as unset).  A malformed IP is
 * an error.  0, or -1 and e set.
 */
int	env_load(struct envelope *env, struct mgerr *e);
/*
 * Parses ip_text into ip and sets have_ip (none when it is NULL or "").
 * 0, or -1 and e set when it is no address.
 */
int	env_parse_ip(struct envelope *env, struct mgerr *e);

#endif
