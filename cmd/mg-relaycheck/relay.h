/*
 * mg-relaycheck's own state: its settings, the tables it loads (local
 * domains, relay clients, the IP shield) and the checks in rules.c and
 * pop.c.  See mg-relaycheck(1).
 */
#ifndef MG_RELAY_H
#define MG_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "dyn.h"
#include "env.h"
#include "hdr.h"
#include "ip.h"
#include "list.h"
#include "opt.h"
#include "outcome.h"

/* The shield macro that stands for every local domain. */
#define SHIELD_LOCAL	"@local"

/* A set of domains in qmail's rcpthosts format (domains.c). */
struct domset {
	char	**v;		/* sorted, lower case; ".dom" = subdomains */
	size_t	  n, cap;
};

/* A table of CIDRs (relay clients, one shield line's ranges). */
struct cidrtab {
	struct cidr	*v;
	size_t		 n, cap;
};

/* One IP shield entry: a domain (or the macro) and its ranges. */
struct shield {
	char		 domain[256];
	struct cidrtab	 ranges;
};

struct shieldtab {
	struct shield	*v;
	size_t		 n, cap;
};

/* How a recipient was judged. */
/* --auth-match, in the order of its words. */
enum auth_match { AUTH_MATCH_OFF, AUTH_MATCH_ADDRESS, AUTH_MATCH_DOMAIN };

enum rcpt_kind {
	RCPT_LOCAL,		/* for a local domain, no routing */
	RCPT_REMOTE,		/* not a local domain, or a routing trick */
	RCPT_BAD		/* cannot be parsed: defer */
};

struct relay {
	struct envelope	 env;
	const char	*hostname;
	const char	*statedir;
	const char	*resolver;	/* accepted, unused: no DNS here */
	long long	 lock_timeout;	/* milliseconds */
	int		 spp, explain, serve;

	const char	*local_file, *more_local_file;
	const char	*relay_file, *trusted_file;
	const char	*valid_file;
	int		 record_unknown;

	const char	*shield_file;
	int		 shield_auth, shield_trusted, shield_relay;
	int		 shield_local_rcpt;

	int		 auth_local_sender, auth_local_to_local;
	int		 auth_match;	/* enum auth_match */
	int		 auth_roles;
	struct opt_list	 role_addr;

	int		 pop;		/* POP-before-SMTP on */
	int64_t		 pop_age;
	const char	*pop_user;	/* pop-record --user */

	/* Dynamic screen settings, for the unknown-rcpt event. */
	struct dyn_opts	 dyn_opts;

	/* Acquired before the checks run. */
	struct domset	 local;
	int		 local_missing;	/* the local-domains file is absent */
	struct cidrtab	 relayc;
	struct shieldtab shields;
	struct list	*trusted, *valid;
	int64_t		 now;

	/* Facts about the client, worked out once. */
	int		 is_trusted;
	int		 pop_ok;	/* -1 not looked up yet */
	const char	*why_relay;	/* why the client may relay, or NULL */
	char		 reason[64];	/* log: which rule decided */
	struct mailaddr	 from;
	int		 from_ok;
};

/* domains.c: the list files.  Each load returns 0, or -1 and e set
 * ("FILE:LINE: reason"). */
int	domset_load(struct domset *d, const char *path, struct mgerr *e);
void	domset_sort(struct domset *d);
/* 1 if dom (lower case, no trailing dot) is listed exactly or through a
 * ".parent" entry, as qmail-smtpd reads rcpthosts. */
int	domset_match(const struct domset *d, const char *dom);
int	cidrtab_load(struct cidrtab *t, const char *path, struct mgerr *e);
int	cidrtab_match(const struct cidrtab *t, const struct ipaddr *ip);
int	shield_load(struct shieldtab *t, const char *path, struct mgerr *e);
/* The ranges for a sender domain, or NULL when the shield is silent. */
const struct cidrtab *shield_find(const struct shieldtab *t,
	    const struct domset *local, const char *dom);
/* 1 if dom is a valid domain for a list: letters, digits, '-', '_',
 * dots between non-empty labels, at most 253 octets. */
int	domain_valid(const char *dom);

/* rules.c: the decision for one recipient. */
enum rcpt_kind	rcpt_classify(struct relay *r, const char *raw,
		    struct mailaddr *a, const char **why, struct mgerr *e);
int	check_rcpt(struct relay *r, const char *raw, struct outcome *o,
	    struct mgerr *e);
/* Sender rules; rcpt_local is 1, 0, or -1 before any recipient. */
int	check_sender(struct relay *r, int rcpt_local, struct outcome *o,
	    struct mgerr *e);
int	relay_allowed(struct relay *r, struct mgerr *e);

/* pop.c: POP-before-SMTP. */
int	pop_lookup(struct relay *r, struct mgerr *e);
int	cmd_pop_record(struct relay *r, int argc, char **argv, int cfg_ok);
int	cmd_pop_list(struct relay *r, int argc, char **argv);
int	cmd_pop_expire(struct relay *r, int argc, char **argv);
/* Records an unknown-rcpt event in the dynamic screen; logs failures. */
void	record_unknown(struct relay *r);

#endif
