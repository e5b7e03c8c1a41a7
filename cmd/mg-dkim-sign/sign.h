/*
 * mg-dkim-sign: shared declarations.
 */
#ifndef MG_DKIM_SIGN_H
#define MG_DKIM_SIGN_H

#include <stdint.h>

#include "env.h"
#include "err.h"
#include "msg.h"
#include "opt.h"

#define MAXSIG	8

/* One signature to make. */
struct sigspec {
	char	domain[256], selector[64], key[1024];
	int	ed25519;	/* else rsa-sha256 */
	struct evp_pkey_st *pkey;	/* the key, once loaded */
};

/* A KeyTable or SigningTable, one entry per "key value" line. */
struct tline {
	char		*key, *val;
	unsigned long	 line;
};
struct table {
	const char	*path;	/* the file, without "file:" or "refile:" */
	int		 wild;	/* refile: keys are '*' patterns */
	struct tline	*l;
	size_t		 n;
};

struct sign {
	struct envelope	 env;
	struct opt_list	 domain, selector, key, algorithm;
	const char	*canon, *headers, *oversign, *key_table;
	const char	*signing_table, *resolver;
	int		 by_envelope;	/* --sender: 0 from, 1 envelope */
	int		 dk_nofws;	/* --dk-canon: 0 simple, 1 nofws */
	const char	*dk_headers;
	int64_t		 expire;
	long long	 sign_time, bits, dns_timeout;
	int		 body_length, copy_headers, domainkeys, message, spp;
	int		 explain;

	struct table	 kt, st;	/* --key-table, --signing-table */
	struct sigspec	 sig[MAXSIG];
	size_t		 nsig;
};

/* tables.c: OpenDKIM's KeyTable and SigningTable.  The loaders read
 * the file that spec names ("PATH", "file:PATH" or "refile:PATH") whole
 * and check every line: 0, or -1 with e set ("PATH:LINE: ..." for a
 * line).  tables_lookup adds to s->sig a signature for each SigningTable
 * match of sender: 0 (none is no error), or -1 with e set. */
int	keytable_load(struct table *kt, const char *spec, struct mgerr *e);
int	signtable_load(struct table *st, const char *spec,
	    const struct table *kt, struct mgerr *e);
void	table_free(struct table *t);
int	tables_lookup(struct sign *s, const char *sender, struct mgerr *e);

/* keys.c: private keys, genkey, testkey. */
int	cmd_genkey(struct sign *s);
int	cmd_testkey(struct sign *s);
/* 1 if the PEM private key in file is Ed25519, 0 RSA, -1 neither; keep
 * non-NULL gets the key (the caller frees it) when it is one of them. */
int	key_type(const char *file, struct evp_pkey_st **keep,
	    struct mgerr *e);
/* The PEM private key in file (an EVP_PKEY), or NULL and e set. */
struct evp_pkey_st *key_load(const char *file, struct mgerr *e);

/* dkim.c: the signatures of one message; fields get "Name: value"
 * folded with "\n\t", which the caller frees.  0, or -1 and e set. */
int	sign_message(struct sign *s, struct msg *m, char **fields,
	    size_t *nfields, struct mgerr *e);

#endif
