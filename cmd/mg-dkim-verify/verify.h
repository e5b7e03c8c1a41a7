/*
 * mg-dkim-verify: shared declarations of main.c and dkim.c.
 */
#ifndef MG_DKIM_VERIFY_H
#define MG_DKIM_VERIFY_H

#include <stdint.h>

#include "authres.h"
#include "dns.h"
#include "env.h"
#include "hdr.h"
#include "msg.h"
#include "opt.h"

/* What one signature came to, for the policy and the header. */
enum vclass { V_PASS, V_FAIL, V_NOKEY, V_TEMP };

struct verify {
	struct envelope	 env;
	const char	*hostname, *resolver;
	long long	 dns_timeout, min_key_bits;
	struct opt_list	 must_sign;
	int		 body_length, domainkeys, explain, spp, message;
	int		 act_nosig, act_fail, act_nokey, act_temp;

	struct dns	*dns;
	struct authres	 ar;
	int		 nsig, npass, nfail, nnokey, ntemp;
	size_t		 nforged;	/* our authserv-id's, removed */
};

/* Adds one result to v->ar and counts it in its class. */
void	verify_note(struct verify *v, const char *method, const char *result,
	    const char *reason, enum vclass c, const char *d, const char *s,
	    const char *a, const char *b);

/* The DKIM side, on libopendkim (dkim.c). */
struct dkimv;
struct dkimv *dkimv_new(struct verify *v, struct mgerr *e);
void	dkimv_header(struct dkimv *k, const struct msg_field *f);
/* Ends the header; 0 when there is nothing more to do (no signature). */
int	dkimv_eoh(struct dkimv *k);
/* 1 if the body may come as it is, 0 if it must have CRLF line ends. */
int	dkimv_raw(const struct dkimv *k);
void	dkimv_body(struct dkimv *k, const char *p, size_t n);
/* Finishes and adds one result per DKIM-Signature field of m. */
void	dkimv_end(struct dkimv *k, const struct msg *m);

#endif
