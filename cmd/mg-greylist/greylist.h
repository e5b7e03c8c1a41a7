/*
 * mg-greylist's own state: its settings, the resources it acquires, the
 * key it builds (key.c), the store records (store.c), the check
 * (check.c) and the maintenance commands (admin.c).
 */
#ifndef MG_GREYLIST_H
#define MG_GREYLIST_H

#include <stdint.h>

#include "addr.h"
#include "dns.h"
#include "env.h"
#include "list.h"
#include "opt.h"
#include "outcome.h"
#include "state.h"

/* Longest key text kept as it is; a longer one is stored as a hash. */
#define GREY_KEY_MAX	512
/* "h " + SHA-256 in hex. */
#define GREY_HASH_KEY	(2 + 64)

enum keynet { KEYNET_PREFIX, KEYNET_IP, KEYNET_NONE };

struct grey {
	struct envelope	 env;
	const char	*hostname;
	const char	*statedir;
	const char	*resolver;
	long long	 lock_timeout;	/* ms */
	long long	 dns_timeout;	/* ms */
	int		 enable, spp, explain, hash, serve;
	int		 exempt_auth, exempt_relay;
	long long	 v4_prefix, v6_prefix;
	int64_t		 delay, window, lifetime;
	long long	 auto_whitelist;	/* passes; 0 = off */
	int		 spf_aware;
	const char	*spf_pass;	/* --spf-pass DOMAIN */
	const char	*client_wl, *sender_wl, *rcpt_wl;
	int		 compile;

	/* Acquired. */
	int		 keynet;	/* enum keynet (--key-net) */
	struct list	*clients, *senders, *rcpts;
	struct dns	*dns;		/* for client names, made on first use */
	int64_t		 now;
};

/* One triplet's record (payload of "t KEY"). */
struct trec {
	int64_t		first;		/* first attempt */
	int64_t		passed;		/* first pass; 0 while pending */
	uint32_t	count;		/* deliveries passed */
	uint32_t	blocked;	/* attempts deferred */
};

/* The network counter (payload of "n NET"). */
struct nrec {
	uint32_t	passes;		/* deliveries passed from NET */
	int64_t		listed;		/* when NET was whitelisted; 0 not */
};

/* key.c */
/*
 * Normalises an envelope sender for the key: "<>" for the null sender;
 * the domain lower-cased; a BATV prvs tag (prvs=KDDDSSSSSS=local and
 * local+prvs=KDDDSSSSSS) removed; an SRS hash and timestamp and every
 * run of digits in the local part replaced by '#'.  Bytes that could not
 * be shown or would break the key become '?'.
 */
void	sender_norm(const char *from, char *out, size_t len);
/* Normalises a recipient: the domain lower-cased, bytes as above. */
void	rcpt_norm(const char *rcpt, char *out, size_t len);
/* The domain of a normalised address, "" if none. */
const char *norm_domain(const char *addr);
/*
 * The domain that SPF passed for, from RFC 8601 text ("spf=pass
 * smtp.mailfrom=user@example.com"), lower-cased into out; 1 found, 0 not.
 */
int	authres_spf_pass(const char *text, char *out, size_t len);
/* 1 if SPF passed (--spf-pass, else MG_AUTHRES) for this domain. */
int	grey_spf_passed(const struct grey *g, const char *domain);
/*
 * Builds the store key "t NET SENDER RCPT" from normalised parts, or
 * "h " + SHA-256 hex when hashing or when the text passes GREY_KEY_MAX.
 * Returns its length.
 */
size_t	triplet_key(const char *net, const char *sender, const char *rcpt,
	    int hash, char *out, size_t len);
/* The network of ip by the configured prefixes, as text. */
void	grey_net(const struct grey *g, const struct ipaddr *ip, char *out,
	    size_t len);

/* store.c: records encoded little-endian. */
int	trec_get(struct state *st, const char *key, size_t klen, int64_t now,
	    struct trec *t, int64_t *expires, struct mgerr *e);
int	trec_put(struct state *st, const char *key, size_t klen, int64_t now,
	    int64_t expires, const struct trec *t, struct mgerr *e);
int	nrec_get(struct state *st, const char *net, int64_t now,
	    struct nrec *n, int64_t *expires, struct mgerr *e);
int	nrec_put(struct state *st, const char *net, int64_t now,
	    int64_t expires, const struct nrec *n, struct mgerr *e);
int	trec_decode(const struct state_rec *rec, struct trec *t);
int	nrec_decode(const struct state_rec *rec, struct nrec *n);
struct state *grey_open(const struct grey *g, int mode, struct mgerr *e);

/* check.c */
/*
 * The decision for g->env, both forms' (one process, --serve): fills o
 * and logs a line per recipient.
 */
void	grey_decide(struct grey *g, struct outcome *o);
int	cmd_check(struct grey *g);

/* admin.c */
int	cmd_list(struct grey *g, int argc, char **argv);
int	cmd_pass(struct grey *g, int argc, char **argv);
int	cmd_delete(struct grey *g, int argc, char **argv);
int	cmd_expire(struct grey *g, int argc, char **argv);
int	cmd_stats(struct grey *g, int argc, char **argv);

/* main.c */
void	usage(void) __attribute__((noreturn));
/* The key of the envelope's client, sender and rcpt i, as check builds it. */
size_t	envelope_key(struct grey *g, size_t i, char *key, size_t len,
	    char *net, size_t netlen);

#endif
