/*
 * dyn: the dynamic screen.  Programs record events (a failed AUTH, an
 * unknown recipient, a connection) per client network; when a rule's
 * count of one event within its window is reached, the network is
 * blocked for a while, longer for each repeat offence.
 *
 * The store is one state file (state.h); the caller opens it, RDWR for
 * dyn_record, dyn_block, dyn_unblock and dyn_expire, RDONLY is enough for
 * dyn_check and dyn_list.  Since a RDWR handle holds the exclusive lock,
 * each call is atomic and no count is lost under concurrency.
 *
 * Clients are aggregated by network: an IPv4 address by v4_prefix bits,
 * an IPv6 address by v6_prefix bits.  Records, with text keys:
 *   "e NET EVENT"  event counter: the last DYN_RING event times and a
 *                  lifetime total; dies when no event is inside the
 *                  longest window of the event's rules (1 day for an
 *                  event no rule names, which is still counted and listed)
 *   "b NET"        block: start, until, offences, reason; dies at until
 *   "o NET"        offences: the last DYN_RING offence times; dies
 *                  `memory' seconds after the last one
 *   "p"            the set of prefix lengths that ever held a block
 * A hand block (dyn_block) may cover many clients' networks, such as a
 * /16.  Rather than an index of blocks, dyn_check looks "b NET" up for
 * each prefix length listed in "p" (usually one or two), from which it
 * takes the block that ends last.  dyn_expire rebuilds "p" from the
 * live blocks.
 */
#ifndef MG_DYN_H
#define MG_DYN_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "ip.h"
#include "opt.h"
#include "state.h"

#define DYN_RING	64		/* event times kept per counter */
#define DYN_EVENT_MAX	32		/* event name, with the NUL */
#define DYN_REASON_MAX	128

/* Block when `count' events of `event' happen within `window' seconds. */
struct dyn_rule {
	char		event[DYN_EVENT_MAX];
	unsigned	count;		/* 1..DYN_RING */
	int64_t		window;
};

/*
 * The default rule, in force while a conf names no rule of its own and
 * no_default is 0: out of the box, five failed AUTHs from one client
 * within ten minutes block it (for `block', longer for a repeat
 * offender), the password guessing every public MX sees.  A program's
 * rules (--dyn-rule) replace it; the rule text "none" turns it off.
 */
#define DYN_DEFAULT_EVENT	"auth-fail"
#define DYN_DEFAULT_COUNT	5
#define DYN_DEFAULT_WINDOW	600
#define DYN_RULE_NONE		"none"

struct dyn_conf {
	const struct dyn_rule *rules;	/* the conf's own rules */
	size_t		nrules;
	int		no_default;	/* 1: no rules means none at all */
	int64_t		block;		/* first block length, s (3600) */
	int64_t		max_block;	/* cap, s (7 days) */
	unsigned	factor;		/* per repeat offence (2) */
	int64_t		memory;		/* offences remembered, s (30 days) */
	unsigned	v4_prefix;	/* IPv4 aggregation, bits (32) */
	unsigned	v6_prefix;	/* IPv6 aggregation, bits (64) */
};

struct dyn_block {
	int64_t		until;
	unsigned	offences;	/* within memory, this one included */
	char		reason[DYN_REASON_MAX];
	char		net[CIDR_STRLEN];	/* the blocked network */
};

/* One line of dyn_list; strings live until the callback returns. */
struct dyn_entry {
	const char	*kind;		/* "block" or "events" */
	const char	*net;
	const char	*event;		/* "" for a block */
	unsigned	 count;		/* events in the window / offences */
	unsigned long	 total;		/* events ever (0 for a block) */
	int64_t		 until;		/* block end / counter expiry */
	int64_t		 last;		/* block start / last event */
	const char	*reason;	/* "" for events */
};

/* Fills c with the defaults above and no rules of its own, so the
 * default rule is in force. */
void	dyn_conf_defaults(struct dyn_conf *c);

/*
 * The options of the dynamic screen that mg-screen, mg-relaycheck,
 * mg-wrap and mg-opensmtpd share, as opt.h reads them: a program holds
 * a struct dyn_opts, puts DYN_OPTIONS(it) in its option table, sets the
 * defaults with dyn_opts_defaults and makes its dyn_conf with
 * dyn_opts_load.  See mailguard.conf(5).
 */
struct dyn_opts {
	int64_t		 block, max_block, memory;	/* OPT_DURATION */
	long long	 factor, v4, v6;		/* OPT_NUM */
	struct opt_list	 rules;		/* --dyn-rule texts */
};
#define DYN_OPTIONS(o)							\
	{ "dyn-block", 0, OPT_DURATION, &(o).block, 1, 365 * 86400, "time" }, \
	{ "dyn-factor", 0, OPT_NUM, &(o).factor, 1, 100, "n" },		\
	{ "dyn-max-block", 0, OPT_DURATION, &(o).max_block, 1,		\
	    3650 * 86400LL, "time" },					\
	{ "dyn-memory", 0, OPT_DURATION, &(o).memory, 1, 3650 * 86400LL,	\
	    "time" },							\
	{ "dyn-rule", 0, OPT_LIST, &(o).rules, 0, 0, "event:n/time" },	\
	{ "dyn-v4-prefix", 0, OPT_NUM, &(o).v4, 8, 32, "bits" },	\
	{ "dyn-v6-prefix", 0, OPT_NUM, &(o).v6, 16, 128, "bits" }
/* Sets o to dyn_conf_defaults' values and no rules. */
void	dyn_opts_defaults(struct dyn_opts *o);
/*
 * Makes c from o, its rules parsed into a new array (*rules, freed by the
 * caller) as dyn_rules_load does.  0, or -1 and e set.
 */
int	dyn_opts_load(const struct dyn_opts *o, struct dyn_conf *c,
	    struct dyn_rule **rules, struct mgerr *e);
/*
 * Parses "EVENT:COUNT/WINDOW" such as "auth-fail:5/10m": EVENT of
 * [a-z0-9-], 1 to 31 characters; COUNT 1..64; WINDOW a duration (s, m,
 * h, d; a plain number is seconds) up to a year.  0, or -1 and e set.
 */
int	dyn_rule_parse(const char *s, struct dyn_rule *r, struct mgerr *e);
/*
 * Parses every "--dyn-rule" text of a program's options into a new array
 * (*rules, freed by the caller) and points c at it; error messages name
 * the option.  A text "none" drops the rules before it and turns the
 * default rule off; no texts at all leave the default rule in force.
 * 0, or -1 and e set.
 */
int	dyn_rules_load(struct dyn_conf *c, const char *const *text, size_t n,
	    struct dyn_rule **rules, struct mgerr *e);
/*
 * Records one event for ip at now.  Returns 2 when a rule's threshold
 * was reached and a block was made or lengthened (block * factor^(n-1),
 * capped, n the offences within memory), 1 when ip's network was already
 * blocked (the event is still counted), 0 when recorded and not blocked,
 * -1 and e set on error.  *b is filled for 1 and 2.
 */
int	dyn_record(struct state *st, const struct dyn_conf *c,
	    const struct ipaddr *ip, const char *event, int64_t now,
	    struct dyn_block *b, struct mgerr *e);
/* 1 and *b filled if a block covers ip at now, 0 if not, -1 on error. */
int	dyn_check(struct state *st, const struct dyn_conf *c,
	    const struct ipaddr *ip, int64_t now, struct dyn_block *b,
	    struct mgerr *e);
/*
 * Counts the events named event recorded for ip's network after since
 * (of the last DYN_RING kept), for programs that treat recently
 * misbehaving clients differently without blocking them.  0 and *n set,
 * or -1 and e set.
 */
int	dyn_recent(struct state *st, const struct dyn_conf *c,
	    const struct ipaddr *ip, const char *event, int64_t now,
	    int64_t since, unsigned *n, struct mgerr *e);
/*
 * Blocks net (any prefix) by hand from now until `until', replacing any
 * block on that exact network; counts as an offence.  0 or -1.
 */
int	dyn_block(struct state *st, const struct dyn_conf *c,
	    const struct cidr *net, int64_t now, int64_t until,
	    const char *reason, struct mgerr *e);
/* Removes the block on exactly net: 1 removed, 0 none, -1 error. */
int	dyn_unblock(struct state *st, const struct cidr *net,
	    struct mgerr *e);
/*
 * Calls fn for each live block and event counter; fn returns 0 to go
 * on, 1 to stop.  The event count is within the event's longest window.
 * 0, or -1 and e set.
 */
int	dyn_list(struct state *st, const struct dyn_conf *c, int64_t now,
	    int (*fn)(void *, const struct dyn_entry *), void *arg,
	    struct mgerr *e);
/*
 * Deletes expired blocks, event counters with no event inside the
 * longest window of the current rules, and offence records older than
 * memory.  Returns the count removed, or -1 and e set.
 */
long	dyn_expire(struct state *st, const struct dyn_conf *c, int64_t now,
	    struct mgerr *e);

#endif
