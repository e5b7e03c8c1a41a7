/*
 * mg-screen's own state: its settings, the resources it acquires, and the
 * checks in checks.c, rdns.c and dynamic.c.
 */
#ifndef MG_SCREEN_H
#define MG_SCREEN_H

#include <stdint.h>

#include "dns.h"
#include "dyn.h"
#include "env.h"
#include "authres.h"
#include "hdr.h"
#include "list.h"
#include "opt.h"
#include "outcome.h"

struct screen {
	struct envelope	 env;
	const char	*hostname;	/* authserv-id; "this host" for HELO */
	const char	*resolver;
	long long	 dns_timeout;	/* milliseconds per try */
	const char	*statedir;
	long long	 lock_timeout;	/* milliseconds */
	int		 spp, explain, compile, serve;
	int		 exempt_auth, exempt_relay;

	const char	*trusted_file;
	const char	*ip_file;
	int		 ip_deny;	/* --ip-default: 0 allow, 1 deny */
	const char	*host_file;
	const char	*blacklist_file;
	int		 ip_action, host_action, blacklist_action;

	int		 require_ptr, require_fcrdns;
	int		 helo_syntax, helo_self, helo_resolves, helo_match;
	int		 sender_domain;
	struct opt_list	 local_ips;

	int		 dyn_action;
	struct opt_list	 dyn_record;
	struct dyn_opts	 dyn_opts;
	int64_t		 block_for;	/* block --for */
	const char	*block_reason;	/* block --reason */

	/* Acquired before the checks run. */
	struct list	*trusted, *ipl, *hostl, *blacklist;
	struct dns	*dns;		/* this decision's resolver, or NULL */
	struct dns	*dns_all;	/* the one made at start-up */
	struct dyn_conf	 dyn;
	struct dyn_rule	*rules;
	int64_t		 now;

	/* Results shared between checks. */
	int		 iprev_done;
	const char	*iprev;		/* "pass", "fail", "temperror" */
	char		 ptr_name[256];	/* first PTR name; "" if none */
	char		 fcrdns[256];	/* forward-confirmed name, or "" */
	enum dns_status	 ptr_status;
	struct authres	 ar;
	char		 marks[1024];	/* failures kept by ACT_HEADER */
};

/* Notes a failed check whose action is ACT_HEADER, for X-Mailguard-Screen. */
void	mark(struct screen *s, const char *check, const char *why);
/* Applies act for a failed check: refuse, or mark when act is header. */
void	fail_check(struct screen *s, struct outcome *o, int act,
	    const char *check, const char *why);

/* checks.c: the list-driven screens.  Each returns 1 when it decided. */
int	check_trusted(struct screen *s, struct mgerr *e);
/* 1 when the IP screen, or the host screen, is configured to run. */
int	ip_screen_on(const struct screen *s);
int	host_screen_on(const struct screen *s);
void	check_ip(struct screen *s, struct outcome *o);
void	check_host(struct screen *s, struct outcome *o);
void	check_blacklist(struct screen *s, struct outcome *o);

/* rdns.c: reverse lookups and HELO checks. */
int	rdns_needed(const struct screen *s);
void	rdns_lookup(struct screen *s);
void	check_rdns(struct screen *s, struct outcome *o);
void	check_helo(struct screen *s, struct outcome *o);
void	check_sender_domain(struct screen *s, struct outcome *o);

/* dynamic.c: the dynamic screen and its subcommands. */
int	dyn_setup(struct screen *s, struct mgerr *e);
/* 1 when the dynamic screen records or checks events. */
int	dyn_on(const struct screen *s);
int	check_dynamic(struct screen *s, struct outcome *o, struct mgerr *e);
int	cmd_record(struct screen *s, int argc, char **argv);
int	cmd_list(struct screen *s, int argc, char **argv);
int	cmd_block(struct screen *s, int argc, char **argv);
int	cmd_unblock(struct screen *s, int argc, char **argv);
int	cmd_expire(struct screen *s, int argc, char **argv);

#endif
