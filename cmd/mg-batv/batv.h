/*
 * mg-batv's own state: its settings, the prvs tag code (prvs.c), the key
 * file (keys.c) and the checks (check.c).  See mg-batv(1).
 */
#ifndef MG_BATV_H
#define MG_BATV_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "addr.h"
#include "env.h"
#include "err.h"
#include "opt.h"
#include "outcome.h"

/*
 * draft-levine-smtp-batv-01 section 4.1: tag-val is K DDD SSSSSS, one
 * key digit, three digits of the day number, six hex digits of hash.
 */
#define PRVS_TAGLEN	10
#define PRVS_PREFIX	"prvs="
/* Exim's prvs refuses a secret longer than one SHA-1 block (64 bytes), so
 * a key that works in both programs is at most that long. */
#define PRVS_SECRET_MAX	64
/* Key numbers are one digit (section 4.1). */
#define PRVS_NKEYS	10
/* Day numbers wrap at 1000 (three digits). */
#define PRVS_DAYS	1000

enum prvs_form {
	PRVS_NONE = 0,	/* no tag */
	PRVS_STD,	/* prvs=KDDDSSSSSS=local@domain */
	PRVS_SUB	/* local+prvs=KDDDSSSSSS@domain (or '-') */
};

struct prvs {
	enum prvs_form	form;
	int		keynum;		/* K */
	int		day;		/* DDD */
	char		hash[7];	/* SSSSSS as written, NUL-terminated */
	char		plain[ADDR_BUF_MAX]; /* local@domain, no tag */
};

/* Day number of t: days since the epoch, modulo 1000 (as Exim counts). */
int	prvs_day(time_t t);
/*
 * Writes into out the six lower-case hex digits of HMAC-SHA1(secret,
 * K DDD plain), the first three bytes of the MAC (section 4.1).  0, or
 * -1 when the inputs are out of range.
 */
int	prvs_mac(const char *secret, size_t seclen, int keynum, int day,
	    const char *plain, char out[7]);
/*
 * Recognises a tag in addr ("local@domain", the local part as addr_parse
 * writes it, the domain in any case, which p->plain keeps).  Fills p;
 * returns 1 if tagged, 0 if not (p->plain is then addr).  Never fails:
 * anything that is not exactly a tag is untagged.
 */
int	prvs_parse(const char *addr, struct prvs *p);
/* 1 if the two six-digit hashes are equal, ignoring case, in constant
 * time; else 0. */
int	prvs_hash_eq(const char *a, const char *b);

struct batv_key {
	int		num;		/* 0..9 */
	int64_t		created;	/* seconds since the epoch */
	char		secret[PRVS_SECRET_MAX + 1];
	size_t		len;
};

/* The key file, oldest key first; the last one signs. */
struct keyring {
	struct batv_key	k[PRVS_NKEYS];
	size_t		n;
};

/*
 * Reads the key file path into r.  The file must not be readable or
 * writable by group or others, and must hold at least one key.  0, or -1
 * and e naming the file and line.
 */
int	keys_load(const char *path, struct keyring *r, struct mgerr *e);
/* The key numbered num, or NULL. */
const struct batv_key *keys_find(const struct keyring *r, int num);
/* When key k stopped signing (the next key's creation), or -1 if it
 * still signs. */
int64_t	keys_retired(const struct keyring *r, const struct batv_key *k);
/*
 * Adds a new signing key at now, drops keys retired more than lifetime
 * (+ one day) ago, and writes the file atomically under a lock.  The
 * file is created if missing.  Returns the new key's number, or -1 and
 * e set (a clock behind the newest key is an error).
 */
int	keys_rotate(const char *path, int64_t now, int64_t lifetime,
	    struct mgerr *e);

struct batv {
	struct envelope	 env;
	const char	*keys_file;
	int64_t		 lifetime;	/* seconds, whole days */
	int		 log_only, explain, spp;
	int		 exempt_auth, exempt_relay;
	struct opt_list	 domains;	/* BATV domains; none = all */
	struct opt_list	 exempt_domains;
	struct opt_list	 exempt_clients;
	int		 subaddress;	/* --subaddress: -1 off, 0 "+", 1 "-" */
	/* Keys of the config file's shared part, accepted and unused. */
	const char	*hostname, *statedir, *resolver;

	time_t		 now;
	struct keyring	 ring;
	char		 status[64];	/* for the log line */
};

/* check.c */
/* 1 if the domain of addr is one this host signs and checks. */
int	batv_domain(const struct batv *b, const char *domain);
/* 1 if from is a bounce sender: <>, MAILER-DAEMON@, postmaster@, #@[]. */
int	batv_is_bounce(const char *from);
/*
 * Judges a tag against the key ring at b->now: NULL when it is valid,
 * else why not ("bad signature", "expired", "unknown key 3").  The hash
 * must match p->plain as written, or with its domain lower-cased.
 */
const char *batv_verify(const struct batv *b, const struct prvs *p);
/* Checks every recipient of the envelope; fills o and prints nothing. */
void	batv_check(struct batv *b, struct outcome *o, char *plain,
	    size_t plainlen);
/* Signs addr into out (unchanged when it is not to be signed).  0, or
 * -1 and e set. */
int	batv_sign(const struct batv *b, const char *addr, char *out,
	    size_t outlen, struct mgerr *e);

#endif
