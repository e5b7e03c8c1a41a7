/*
 * mg-spf: SPF (RFC 7208) and Sender ID (RFC 4406, RFC 4407) on libspf2.
 * The pieces of the program and what they share.  See mg-spf(1).
 */
#ifndef MG_SPF_H
#define MG_SPF_H

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <stdint.h>

#include <spf2/spf.h>

#include "addr.h"
#include "dns.h"
#include "env.h"
#include "authres.h"
#include "hdr.h"
#include "list.h"
#include "opt.h"
#include "outcome.h"

/* RFC 7208 section 4.6.4: at most 10 terms that cause DNS queries. */
#define SPF_LIMIT_TERMS		10
/* RFC 7208 section 4.6.4: at most 10 names from one MX or PTR answer. */
#define SPF_LIMIT_NAMES		10
/* RFC 7208 section 4.6.4: at most 2 lookups that answer nothing. */
#define SPF_LIMIT_VOID		2
/* RFC 1035 section 2.3.4: 63 octets in a label, 255 in a name. */
#define SPF_LABEL_MAX		63
#define SPF_NAME_MAX		253

/* The seven results of RFC 7208 section 2.6, in action-table order. */
enum spf_result {
	R_NONE = 0, R_NEUTRAL, R_PASS, R_FAIL, R_SOFTFAIL, R_TEMPERROR,
	R_PERMERROR, R_COUNT
};

/* Why the DNS layer stopped an evaluation on its own. */
enum spfdns_stop { STOP_NONE = 0, STOP_PERM, STOP_TEMP };

/* Which records a scope reads (RFC 4406 section 3.4). */
enum spf_scope { SCOPE_MFROM = 0, SCOPE_HELO, SCOPE_PRA };

/*
 * The DNS layer under libspf2 (spfdns.c): every query goes to libcommon's
 * resolver; the layer counts terms, names and void lookups, keeps a time
 * budget and the smallest TTL seen, and traces queries for --explain.
 */
/*
 * One answer the layer gave during a check, kept so match.c can replay
 * the evaluation term by term without asking DNS again: a lookup's
 * answer (rr), or a record fetch's outcome (isrec: spfdns_fetch's rc and
 * the record's text as "v=spf1 ...").
 */
struct spfmemo {
	char		*name;
	int		 type;
	int		 isrec;
	int		 rc;
	char		*text;
	SPF_dns_rr_t	*rr;
};

struct spfdns {
	struct dns	*dns;
	int		 explain;
	int64_t		 deadline;	/* monotonic ms; 0 = none */
	int		 terms, voids;
	enum spfdns_stop stop;
	char		 why[200];
	uint32_t	 ttl;		/* smallest TTL seen */
	int		 have_ttl;
	char		*pending[SPF_LIMIT_NAMES];	/* MX/PTR names */
	size_t		 npending;
	int		 pending_ptr;	/* the names came from a PTR answer */
	int		 pending_cidr0;	/* ... from an "mx/0" (record.c) */
	struct ipaddr	 client;
	SPF_request_t	*req;		/* the request under evaluation */
	unsigned	 queries;
	enum spf_scope	 scope;
	/* match.c: the memo of this check, and replay mode (no counting,
	   no DNS: answers come from the memo, a miss is TRY_AGAIN). */
	struct spfmemo	*memo;
	size_t		 nmemo;
	int		 replay;
	const struct spfmemo *first;	/* first record a replay fetched */
};

/* The outcome of one check_host() (RFC 7208 section 4). */
struct spf_answer {
	enum spf_result	 result;
	char		 domain[256];	/* the domain checked */
	char		 identity[16];	/* "mailfrom", "helo", "pra" */
	char		 mech[128];	/* "default" or the matching term */
	char		 problem[200];	/* why perm/temperror, or "" */
	char		 exp[400];	/* explanation of a fail, sanitised */
	uint32_t	 ttl;
	int		 have_ttl;
	int		 cached;
};

struct spf {
	struct envelope	 env;
	const char	*hostname, *resolver, *statedir, *trusted_file;
	const char	*whitelist_file, *exp_default;
	long long	 dns_timeout, lock_timeout, budget_ms, cache_max;
	int		 act[R_COUNT];
	int		 explain, spp, helo_check, cache, senderid, msg_out;
	int		 serve;
	int		 exempt_auth, exempt_relay;
	int64_t		 now;

	SPF_server_t	*server;
	SPF_dns_server_t *ds;		/* our layer, freed after server */
	struct spfdns	 layer;
	struct list	*trusted, *whitelist;
};

extern const char *const spf_result_names[R_COUNT];

/* spfdns.c */
SPF_dns_server_t *spfdns_new(struct spfdns *d);
void	spfdns_reset(struct spfdns *d, int64_t budget_ms);
void	spf_release(struct spf *s);
int	spfdns_fetch(struct spfdns *d, SPF_server_t *srv,
	    SPF_response_t *resp, const char *domain, SPF_record_t **rec,
	    char *why, size_t whylen);
/* spfdns_fetch's 0, 1, 2, 3 as libspf2's error codes. */
SPF_errcode_t spfdns_errcode(int rc);

/* match.c: which term decided, by replaying the check from the memo. */
void	spfmemo_keep(struct spfdns *d, const char *name, int type,
	    SPF_dns_rr_t *rr);
void	spfmemo_keep_record(struct spfdns *d, const char *domain, int rc,
	    const char *text);
void	spfmemo_clear(struct spfdns *d);
SPF_dns_rr_t *spfmemo_answer(SPF_dns_server_t *srv, struct spfdns *d,
	    const char *name, int type);
SPF_errcode_t spfmemo_record(struct spfdns *d, SPF_server_t *srv,
	    SPF_response_t *resp, const char *domain, SPF_record_t **rec);
void	spf_match(struct spf *s, SPF_request_t *req, const char *domain,
	    char *out, size_t len);

/* record.c: checks libspf2 does not make (RFC 7208 section 12 ABNF). */
#define CIDR0_SUFFIX	".cidr0.mailguard.invalid"
int	record_check(const char *text, char *why, size_t whylen);
/* Where each mechanism of a rewritten record came from (match.c). */
#define RECORD_MAP_MAX	64
struct record_map {
	size_t	 n;
	int	 full;		/* more mechanisms than RECORD_MAP_MAX */
	struct {
		const char	*orig;	/* in the record's text */
		size_t		 olen;
		size_t		 lib;	/* offset in the rewritten text */
		size_t		 llen;
	} t[RECORD_MAP_MAX];
};
int	record_rewrite(const char *text, int v4, char *out, size_t outlen,
	    struct record_map *map);
int	domain_check(const char *dom);
int	domain_shape(const char *dom);

/* check.c */
int	spf_setup(struct spf *s, struct mgerr *e);
void	spf_check(struct spf *s, enum spf_scope scope, const char *domain,
	    const char *sender, struct spf_answer *a);
void	spf_received(const struct spf *s, const struct spf_answer *a,
	    char *buf, size_t len);

/* cache.c */
int	cache_get(struct spf *s, const char *key, struct spf_answer *a);
void	cache_put(struct spf *s, const char *key, const struct spf_answer *a);

/* senderid.c */
struct pra {
	char	 addr[ADDR_BUF_MAX];	/* the PRA, "local@domain" */
	char	 domain[256];
	char	 field[64];	/* "resent-sender", "resent-from", ... */
	char	 error[160];	/* why no PRA could be found, else "" */
};
int	pra_select(const char *hdrs, size_t len, struct pra *p);
int	senderid_run(struct spf *s, struct outcome *o, struct authres *ar,
	    char *logres, size_t loglen);
void	senderid_copy_body(void);
int	senderid_crlf(void);
/* How many Authentication-Results fields claiming our id were removed. */
size_t	senderid_forged(void);

/* check.c: the action for a result */
void	spf_act(struct spf *s, struct outcome *o, const struct spf_answer *a,
	    const char *method);

#endif
