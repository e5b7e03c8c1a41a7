/*
 * mg-dkim-verify: DKIM verification on libopendkim, with its DNS hooks
 * answered by libcommon's resolver (so zone files and loopback servers
 * work, and a timeout is a temporary error).
 */
#include <sys/time.h>

#include <ldns/ldns.h>
#include <opendkim/dkim.h>
#include <openssl/evp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dkcanon.h"
#include "log.h"
#include "verify.h"

#define MAXBH	16

/*
 * Our own body hash of one signature (dkcanon.h): libopendkim's relaxed
 * body canonicalization costs several times a SHA-256 of the same bytes,
 * so the body goes to dkcanon and libopendkim checks only the header
 * signature.  Signatures with l= take libopendkim's own path.
 */
struct bh {
	DKIM_SIGINFO	*sig;
	int		 relaxed;
	const char	*hash;
	struct dkcanon	*c;	/* shared by signatures alike */
	unsigned char	 md[DKCANON_MDMAX];
	unsigned	 mdlen;
};

struct dkimv {
	struct verify	*v;
	DKIM_LIB	*lib;
	DKIM		*dkim;
	const u_char	**mbs;
	int		 live;	/* signatures to verify */
	int		 fast;	/* body hashes are ours */
	DKIM_STAT	 eoh;
	struct bh	 bh[MAXBH];
	size_t		 nbh;
};

static u_char tag_a[] = "a", tag_b[] = "b", tag_l[] = "l", tag_bh[] = "bh";

struct reply {
	size_t	len;
};

/* Builds a wire-format answer from our resolver's result (RFC 1035
 * section 4.1), TXT strings cut at 255 octets (section 3.3.14). */
static size_t
wire_reply(const char *name, int type, const struct dns_result *res,
    unsigned char *buf, size_t cap)
{
	ldns_pkt *p = ldns_pkt_new();
	ldns_rr *rr;
	uint8_t *wire = NULL, chunk[256];
	size_t sz = 0, i, off, n;

	ldns_pkt_set_qr(p, 1);
	ldns_pkt_set_rcode(p, res->status == DNS_NXDOMAIN ?
	    LDNS_RCODE_NXDOMAIN : LDNS_RCODE_NOERROR);
	rr = ldns_rr_new();
	ldns_rr_set_owner(rr, ldns_dname_new_frm_str(name));
	ldns_rr_set_type(rr, (ldns_rr_type)type);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	ldns_rr_set_question(rr, true);
	ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, rr);
	for (i = 0; res->status == DNS_OK && i < res->n; i++) {
		rr = ldns_rr_new();
		ldns_rr_set_owner(rr, ldns_dname_new_frm_str(name));
		ldns_rr_set_type(rr, LDNS_RR_TYPE_TXT);
		ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
		ldns_rr_set_ttl(rr, 300);
		off = 0;
		do {
			n = res->txtlen[i] - off > 255 ? 255 :
			    res->txtlen[i] - off;
			chunk[0] = (uint8_t)n;
			memcpy(chunk + 1, res->txt[i] + off, n);
			ldns_rr_push_rdf(rr, ldns_rdf_new_frm_data(
			    LDNS_RDF_TYPE_STR, n + 1, chunk));
			off += n;
		} while (off < res->txtlen[i]);
		ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
	}
	if (ldns_pkt2wire(&wire, p, &sz) != LDNS_STATUS_OK)
		sz = 0;
	if (sz > cap)
		sz = cap;
	if (sz > 0)
		memcpy(buf, wire, sz);
	free(wire);
	ldns_pkt_free(p);
	return sz;
}

/* libopendkim's query start: we answer at once, synchronously. */
static int
q_start(void *srv, int type, unsigned char *query, unsigned char *buf,
    size_t buflen, void **qh)
{
	struct verify *v = srv;
	struct dns_result res;
	struct reply *r;
	struct mgerr e;

	if (dns_query(v->dns, (char *)query, type, &res, &e) == -1 ||
	    dns_temporary(res.status)) {
		log_explain(v->explain, "dkim: key %s: %s", (char *)query,
		    dns_status_str(res.status));
		dns_result_free(&res);
		return DKIM_DNS_ERROR;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		dns_result_free(&res);
		return DKIM_DNS_ERROR;
	}
	r->len = wire_reply((char *)query, type, &res, buf, buflen);
	log_explain(v->explain, "dkim: key %s: %s", (char *)query,
	    dns_status_str(res.status));
	dns_result_free(&res);
	*qh = r;
	return r->len > 0 ? DKIM_DNS_SUCCESS : DKIM_DNS_ERROR;
}

static int
q_cancel(void *srv, void *qh)
{
	(void)srv;
	free(qh);
	return DKIM_DNS_SUCCESS;
}

static int
q_wait(void *srv, void *qh, struct timeval *to, size_t *bytes, int *error,
    int *dnssec)
{
	(void)srv;
	(void)to;
	*bytes = ((struct reply *)qh)->len;
	if (error != NULL)
		*error = 0;
	if (dnssec != NULL)
		*dnssec = DKIM_DNSSEC_UNKNOWN;
	return DKIM_DNS_SUCCESS;
}

static int
q_init(void **srv)
{
	(void)srv;
	return 0;
}

static void
q_close(void *srv)
{
	(void)srv;
}

static int
setup_lib(struct dkimv *k, struct mgerr *e)
{
	u_int flags = DKIM_LIBFLAGS_BADSIGHANDLES, bits;
	size_t i;

	if ((k->lib = dkim_init(NULL, NULL)) == NULL) {
		mgerr_temp(e, "libopendkim: cannot initialise");
		return -1;
	}
	bits = (u_int)k->v->min_key_bits;
	dkim_options(k->lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags,
	    sizeof(flags));
	dkim_options(k->lib, DKIM_OP_SETOPT, DKIM_OPTS_MINKEYBITS, &bits,
	    sizeof(bits));
	if (k->v->must_sign.n > 0) {
		k->mbs = calloc(k->v->must_sign.n + 1, sizeof(*k->mbs));
		if (k->mbs == NULL) {
			mgerr_temp(e, "out of memory");
			return -1;
		}
		for (i = 0; i < k->v->must_sign.n; i++)
			k->mbs[i] = (const u_char *)k->v->must_sign.v[i];
		dkim_options(k->lib, DKIM_OP_SETOPT, DKIM_OPTS_MUSTBESIGNED,
		    k->mbs, sizeof(const u_char **));
	}
	dkim_dns_set_query_service(k->lib, k->v);
	dkim_dns_set_query_start(k->lib, q_start);
	dkim_dns_set_query_cancel(k->lib, q_cancel);
	dkim_dns_set_query_waitreply(k->lib, q_wait);
	dkim_dns_set_init(k->lib, q_init);
	dkim_dns_set_close(k->lib, q_close);
	return 0;
}

struct dkimv *
dkimv_new(struct verify *v, struct mgerr *e)
{
	struct dkimv *k;
	DKIM_STAT st;

	if ((k = calloc(1, sizeof(*k))) == NULL) {
		mgerr_temp(e, "out of memory");
		return NULL;
	}
	k->v = v;
	if (setup_lib(k, e) == -1)
		return NULL;
	if ((k->dkim = dkim_verify(k->lib, (const u_char *)"mg", NULL,
	    &st)) == NULL) {
		mgerr_temp(e, "libopendkim: %s", dkim_getresultstr(st));
		return NULL;
	}
	k->live = 1;
	return k;
}

void
dkimv_header(struct dkimv *k, const struct msg_field *f)
{
	if (k->live && dkim_header(k->dkim, (u_char *)(uintptr_t)f->raw,
	    f->rawlen) != DKIM_STAT_OK)
		k->live = 0;
}

/* Shares a canonicalizer with an earlier signature that wants the same. */
static struct dkcanon *
bh_canon(struct dkimv *k, size_t i, struct mgerr *e)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (k->bh[j].relaxed == k->bh[i].relaxed &&
		    strcmp(k->bh[j].hash, k->bh[i].hash) == 0)
			return k->bh[j].c;
	return dkcanon_new(k->bh[i].relaxed, -1, k->bh[i].hash, e);
}

/* Sets up our body hashes; 0 leaves the body to libopendkim. */
static int
bh_setup(struct dkimv *k)
{
	DKIM_SIGINFO **sigs = NULL;
	dkim_canon_t hc, bc;
	dkim_alg_t alg;
	struct mgerr e;
	int n = 0, i;

	if (dkim_getsiglist(k->dkim, &sigs, &n) != DKIM_STAT_OK ||
	    n <= 0 || n > MAXBH)
		return 0;
	for (i = 0; i < n; i++)
		if (dkim_sig_gettagvalue(sigs[i], 0, tag_l) != NULL)
			return 0;
	for (i = 0; i < n; i++) {
		if (dkim_sig_getcanons(sigs[i], &hc, &bc) != DKIM_STAT_OK ||
		    dkim_sig_getsignalg(sigs[i], &alg) != DKIM_STAT_OK ||
		    (bc != DKIM_CANON_SIMPLE && bc != DKIM_CANON_RELAXED))
			continue;
		k->bh[k->nbh].sig = sigs[i];
		k->bh[k->nbh].relaxed = bc == DKIM_CANON_RELAXED;
		k->bh[k->nbh].hash = alg == DKIM_SIGN_RSASHA1 ? "sha1" :
		    "sha256";
		if ((k->bh[k->nbh].c = bh_canon(k, k->nbh, &e)) == NULL)
			return 0;
		k->nbh++;
	}
	return 1;
}

int
dkimv_eoh(struct dkimv *k)
{
	if (!k->live)
		return 0;
	k->eoh = dkim_eoh(k->dkim);
	k->live = k->eoh == DKIM_STAT_OK;
	if (k->live)
		k->fast = bh_setup(k);
	return k->live;
}

int
dkimv_raw(const struct dkimv *k)
{
	return !k->live || k->fast;
}

void
dkimv_body(struct dkimv *k, const char *p, size_t n)
{
	size_t i;

	if (!k->live)
		return;
	if (!k->fast) {
		dkim_body(k->dkim, (u_char *)(uintptr_t)p, n);
		return;
	}
	for (i = 0; i < k->nbh; i++)
		if (i == 0 || k->bh[i].c != k->bh[i - 1].c)
			dkcanon_update(k->bh[i].c, p, n);
}

/* Finishes the body hashes (each shared canonicalizer once). */
static void
bh_finish(struct dkimv *k)
{
	struct mgerr e;
	uint64_t len;
	size_t i, j;

	for (i = 0; i < k->nbh; i++) {
		for (j = 0; j < i && k->bh[j].c != k->bh[i].c; j++)
			;
		if (j < i) {
			memcpy(k->bh[i].md, k->bh[j].md, k->bh[j].mdlen);
			k->bh[i].mdlen = k->bh[j].mdlen;
		} else if (dkcanon_final(k->bh[i].c, k->bh[i].md,
		    &k->bh[i].mdlen, &len, &e) == -1)
			k->bh[i].mdlen = 0;
	}
	for (i = 0; i < k->nbh; i++) {
		for (j = 0; j < i && k->bh[j].c != k->bh[i].c; j++)
			;
		if (j == i)
			dkcanon_free(k->bh[i].c);
	}
}

/*
 * DKIM_SIGBH_MATCH if the signature's bh= is our body hash.  A signature
 * libopendkim gave up on before its body hash stays untested.
 */
static int
bh_state(const struct dkimv *k, DKIM_SIGINFO *sig)
{
	const u_char *t = dkim_sig_gettagvalue(sig, 0, tag_bh);
	unsigned char in[128], out[96];
	size_t i, n = 0;
	int len;

	for (i = 0; i < k->nbh && k->bh[i].sig != sig; i++)
		;
	if (!k->fast || i == k->nbh ||
	    dkim_sig_getbh(sig) == DKIM_SIGBH_UNTESTED)
		return dkim_sig_getbh(sig);
	for (; t != NULL && *t != '\0' && n + 1 < sizeof(in); t++)
		if (strchr(" \t\r\n", *t) == NULL)
			in[n++] = *t;
	if (t == NULL || *t != '\0' || n % 4 != 0 ||
	    (len = EVP_DecodeBlock(out, in, (int)n)) < 0)
		return DKIM_SIGBH_MISMATCH;
	len -= n > 0 && in[n - 1] == '=';
	len -= n > 1 && in[n - 2] == '=';
	return (unsigned)len == k->bh[i].mdlen && k->bh[i].mdlen > 0 &&
	    memcmp(out, k->bh[i].md, (size_t)len) == 0 ? DKIM_SIGBH_MATCH :
	    DKIM_SIGBH_MISMATCH;
}

/* RFC 8601 section 2.7.1 results for libopendkim's signature errors. */
static const char *
classify(int err, enum vclass *c)
{
	*c = V_FAIL;
	switch (err) {
	case DKIM_SIGERROR_BADSIG:
	case DKIM_SIGERROR_OK:
		return "fail";
	case DKIM_SIGERROR_KEYFAIL:
		*c = V_TEMP;
		return "temperror";
	case DKIM_SIGERROR_NOKEY:
		*c = V_NOKEY;
		return "permerror";
	case DKIM_SIGERROR_KEYTOOSMALL:
	case DKIM_SIGERROR_MBSFAILED:
	case DKIM_SIGERROR_EXPIRED:
	case DKIM_SIGERROR_FUTURE:
		return "policy";
	case DKIM_SIGERROR_KEYREVOKED:
	case DKIM_SIGERROR_DNSSYNTAX:
	case DKIM_SIGERROR_MULTIREPLY:
	case DKIM_SIGERROR_KEYVERSION:
	case DKIM_SIGERROR_KEYUNKNOWNHASH:
	case DKIM_SIGERROR_KEYHASHMISMATCH:
	case DKIM_SIGERROR_NOTEMAILKEY:
	case DKIM_SIGERROR_KEYTYPEMISSING:
	case DKIM_SIGERROR_KEYTYPEUNKNOWN:
	case DKIM_SIGERROR_KEYDECODE:
	case DKIM_SIGERROR_INVALID_H:
	case DKIM_SIGERROR_TOOLARGE_L:
	case DKIM_SIGERROR_SUBDOMAIN:
		return "permerror";
	default:
		return "neutral";	/* a syntax error in the signature */
	}
}

/* The first 8 characters of b= without FWS (RFC 6008 section 4). */
static void
short_b(DKIM_SIGINFO *sig, char *out, size_t cap)
{
	const u_char *b = dkim_sig_gettagvalue(sig, 0, tag_b);
	size_t n = 0;

	for (; b != NULL && *b != '\0' && n + 1 < cap && n < 8; b++)
		if (strchr(" \t\r\n", *b) == NULL)
			out[n++] = (char)*b;
	out[n] = '\0';
}

static const char *
str(const u_char *s)
{
	return s != NULL ? (const char *)s : "";
}

static void
one_sig(struct dkimv *k, DKIM_SIGINFO *sig)
{
	char b[16];
	const char *res, *why = NULL;
	enum vclass c;
	int err = dkim_sig_geterror(sig), bh = bh_state(k, sig);

	short_b(sig, b, sizeof(b));
	if ((dkim_sig_getflags(sig) & DKIM_SIGFLAG_PASSED) &&
	    bh == DKIM_SIGBH_MATCH) {
		res = "pass";
		c = V_PASS;
		if (!k->v->body_length &&
		    dkim_sig_gettagvalue(sig, 0, tag_l) != NULL) {
			res = "policy";
			c = V_FAIL;
			why = "l= not accepted";
		}
	} else if (err == DKIM_SIGERROR_OK && bh == DKIM_SIGBH_MISMATCH) {
		res = "fail";
		c = V_FAIL;
		why = "body hash mismatch";
	} else {
		res = classify(err, &c);
		why = err == DKIM_SIGERROR_OK ? "signature did not verify" :
		    dkim_sig_geterrorstr(err);
	}
	verify_note(k->v, "dkim", res, why, c,
	    str(dkim_sig_getdomain(sig)), str(dkim_sig_getselector(sig)),
	    str(dkim_sig_gettagvalue(sig, 0, tag_a)), b);
}

void
dkimv_end(struct dkimv *k, const struct msg *m)
{
	DKIM_SIGINFO **sigs = NULL;
	int nsigs = 0, i;
	size_t nfields = 0, f;
	const char *why;

	for (f = 0; f < msg_nfields(m); f++)
		nfields += strcasecmp(msg_field(m, f)->name,
		    "DKIM-Signature") == 0;
	if (k->live)
		(void)dkim_eom(k->dkim, NULL);
	if (k->fast)
		bh_finish(k);
	if (k->dkim != NULL && k->eoh != DKIM_STAT_NOSIG)
		(void)dkim_getsiglist(k->dkim, &sigs, &nsigs);
	for (i = 0; i < nsigs; i++)
		one_sig(k, sigs[i]);
	/* A field libopendkim could not even parse still gets a result. */
	why = k->dkim != NULL ? dkim_geterror(k->dkim) : NULL;
	for (f = (size_t)nsigs; f < nfields; f++)
		verify_note(k->v, "dkim", "permerror", why != NULL && *why ?
		    why : "malformed signature", V_FAIL, NULL, NULL, NULL,
		    NULL);
	if (k->dkim != NULL)
		dkim_free(k->dkim);
	dkim_close(k->lib);
	free(k->mbs);
	free(k);
}
