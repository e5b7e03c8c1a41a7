/*
 * dk: DomainKeys (RFC 4870) on OpenSSL.  See dk.h.
 */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dk.h"
#include "dktag.h"
#include "hdr.h"

/* RSA-4096 gives 512 bytes of signature, 684 of base64. */
#define DK_SIG_MAX	1024
#define DK_B64_MAX	2048

struct dk {
	EVP_MD_CTX	*md;
	EVP_PKEY	*key;		/* signing only */
	int		 nofws, min_bits;
	/* Body canonicalization state (section 3.4). */
	int		 at_start, held_cr, nofws_cr;
	char		 prev;
	unsigned long	 pending;	/* empty lines not yet written */
	char		 out[16384];
	size_t		 outn;
	/* Verification. */
	int		 decided;
	struct dk_result r;
	unsigned char	 sig[DK_SIG_MAX];
	size_t		 siglen;
	char		 local[256];	/* sender's local part, for g= */
	/* Signing. */
	char		 tags[4096];
};

static void
flush(struct dk *d)
{
	if (d->outn > 0)
		EVP_DigestUpdate(d->md, d->out, d->outn);
	d->outn = 0;
}

static void
put(struct dk *d, const char *p, size_t n)
{
	if (d->outn + n > sizeof(d->out))
		flush(d);
	if (n > sizeof(d->out)) {
		EVP_DigestUpdate(d->md, p, n);
		return;
	}
	memcpy(d->out + d->outn, p, n);
	d->outn += n;
}

static void
putc1(struct dk *d, char c)
{
	if (d->outn == sizeof(d->out))
		flush(d);
	d->out[d->outn++] = c;
}

/*
 * One canonical body byte: empty lines are held back and written only
 * when a non-empty line follows, so trailing ones are dropped (section
 * 3.4.1, 3.4.2).
 */
static void
body_byte(struct dk *d, char c)
{
	if (d->at_start) {
		if (!d->held_cr && c == '\r') {
			d->held_cr = 1;
			return;
		}
		if (d->held_cr && c == '\n') {
			d->held_cr = 0;
			d->pending++;
			return;
		}
		for (; d->pending > 0; d->pending--)
			put(d, "\r\n", 2);
		if (d->held_cr)
			putc1(d, '\r');
		d->held_cr = 0;
		d->at_start = 0;
	}
	putc1(d, c);
	if (c == '\n' && d->prev == '\r')
		d->at_start = 1;
	d->prev = c;
}

/* nofws (section 3.4.2): no SP or HTAB; a CR or LF alone is dropped. */
static void
nofws_byte(struct dk *d, char c)
{
	if (c == ' ' || c == '\t')
		return;
	if (d->nofws_cr) {
		d->nofws_cr = 0;
		if (c == '\n') {
			body_byte(d, '\r');
			body_byte(d, '\n');
			return;
		}
	}
	if (c == '\r') {
		d->nofws_cr = 1;
		return;
	}
	if (c == '\n')
		return;
	body_byte(d, c);
}

void
dk_body(struct dk *d, const char *p, size_t n)
{
	size_t i;

	if (d == NULL || d->decided)
		return;
	for (i = 0; i < n; i++) {
		if (d->nofws)
			nofws_byte(d, p[i]);
		else
			body_byte(d, p[i]);
	}
}

static void
header(struct dk *d, const struct msg_field *f)
{
	size_t i;

	if (!d->nofws) {
		put(d, f->raw, f->rawlen);
	} else {
		for (i = 0; i < f->rawlen; i++)
			if (strchr(" \t\r\n", f->raw[i]) == NULL)
				putc1(d, f->raw[i]);
	}
	put(d, "\r\n", 2);
}

/*
 * The fields a signature at index sig covers, in the order they are
 * hashed, into sel; returns their number.  Without h= every field after
 * the signature; with h= the fields it names, grouped in its order, each
 * repeated name taking one more of the last occurrences (section 3.3:
 * "a verifier must include all occurrences of that header").
 */
static size_t
select_fields(const struct msg *m, size_t sig, const char *h, size_t *sel)
{
	char names[DKTAG_MAX * 8][80], *tok, *save, copy[4096];
	size_t nn = 0, nf = msg_nfields(m), pos = nf, i, j, k, c;
	unsigned char taken[MSG_FIELDS_MAX] = { 0 };

	if (h == NULL) {
		for (i = sig + 1, k = 0; i < nf; i++)
			sel[k++] = i;
		return k;
	}
	strlcpy(copy, h, sizeof(copy));
	for (tok = strtok_r(copy, ":", &save); tok != NULL && nn <
	    sizeof(names) / sizeof(names[0]); tok = strtok_r(NULL, ":", &save)) {
		while (*tok == ' ' || *tok == '\t' || *tok == '\r' || *tok == '\n')
			tok++;
		strlcpy(names[nn], tok, sizeof(names[nn]));
		names[nn][strcspn(names[nn], " \t\r\n")] = '\0';
		nn++;
	}
	while (nn-- > 0) {
		for (c = 0, j = 0; j < nn; j++)
			c += strcasecmp(names[j], names[nn]) == 0;
		for (i = nf; i > sig + 1; i--) {
			k = i - 1;
			if (taken[k] || strcasecmp(msg_field(m, k)->name,
			    names[nn]) != 0)
				continue;
			taken[k] = 1;
			sel[--pos] = k;
			if (c > 0)
				break;
		}
	}
	memmove(sel, sel + pos, (nf - pos) * sizeof(*sel));
	return nf - pos;
}

/* The address in a From or Sender value: <addr> or the bare addr. */
static void
split_addr(const char *v, char *local, size_t lcap, char *dom, size_t dcap)
{
	char a[512], *p, *at;

	if ((p = strrchr(v, '<')) != NULL)
		strlcpy(a, p + 1, sizeof(a));
	else
		strlcpy(a, v, sizeof(a));
	a[strcspn(a, "> \t\r\n()")] = '\0';
	if ((at = strrchr(a, '@')) == NULL) {
		*local = *dom = '\0';
		return;
	}
	*at = '\0';
	strlcpy(local, a, lcap);
	strlcpy(dom, at + 1, dcap);
}

static int decide(struct dk *, const char *, const char *, ...)
	    __attribute__((format(printf, 3, 4)));

static int
decide(struct dk *d, const char *result, const char *fmt, ...)
{
	va_list ap;

	d->decided = 1;
	d->r.result = result;
	va_start(ap, fmt);
	vsnprintf(d->r.reason, sizeof(d->r.reason), fmt, ap);
	va_end(ap);
	return -1;
}

/* The first signed field named name, or -1. */
static long
signed_field(const struct msg *m, const size_t *sel, size_t n,
    const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasecmp(msg_field(m, sel[i])->name, name) == 0)
			return (long)sel[i];
	return -1;
}

/*
 * Section 3.1: the sending address is in Sender if there is one, else in
 * From.  As Mail::DKIM does, only signed fields count (a Sender added in
 * transit and not signed does not void the signature); d= must be the
 * domain of that address or a parent of it (section 3.3, d=).
 */
static int
check_sender(struct dk *d, const struct msg *m, const size_t *sel, size_t n)
{
	const char *which = "sender";
	long f;
	size_t dl, sl;
	char dom[256];

	if ((f = signed_field(m, sel, n, which)) == -1)
		f = signed_field(m, sel, n, which = "from");
	if (f == -1)
		return decide(d, "fail", "%s", "no signed From or Sender field");
	d->r.sender_ptype = *which == 's' ? "header.sender" : "header.from";
	split_addr(msg_field(m, (size_t)f)->value, d->local,
	    sizeof(d->local), dom, sizeof(dom));
	strlcpy(d->r.sender, d->local, sizeof(d->r.sender));
	strlcat(d->r.sender, "@", sizeof(d->r.sender));
	strlcat(d->r.sender, dom, sizeof(d->r.sender));
	dl = strlen(d->r.domain);
	sl = strlen(dom);
	if (strcasecmp(dom, d->r.domain) == 0 || (sl > dl && dl > 0 &&
	    dom[sl - dl - 1] == '.' && strcasecmp(dom + sl - dl,
	    d->r.domain) == 0))
		return 0;
	return decide(d, "fail", "d= does not match the sender domain %s",
	    dom);
}

static struct dk *
dk_new(int nofws)
{
	struct dk *d;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	if ((d->md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(d->md, EVP_sha1(), NULL) != 1) {
		dk_free(d);
		return NULL;
	}
	d->nofws = nofws;
	return d;
}

void
dk_free(struct dk *d)
{
	if (d == NULL)
		return;
	EVP_MD_CTX_free(d->md);
	EVP_PKEY_free(d->key);
	free(d);
}

/* Hashes the selected fields and starts the body with the blank line. */
static void
start_hash(struct dk *d, const struct msg *m, const size_t *sel, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		header(d, msg_field(m, sel[i]));
	d->at_start = 1;
	dk_body(d, "\r\n", 2);
}

static long
b64_decode(const char *val, unsigned char *out, size_t cap)
{
	char clean[DK_B64_MAX];
	long n, len;

	if ((n = dktag_b64(val, clean, sizeof(clean))) <= 0 || n % 4 != 0 ||
	    (size_t)(n / 4 * 3) > cap)
		return -1;
	if ((len = EVP_DecodeBlock(out, (unsigned char *)clean, (int)n)) < 0)
		return -1;
	while (n > 0 && clean[--n] == '=')
		len--;
	return len;
}

/* Reads the signature's tags (section 3.3). */
static int
parse_sig(struct dk *d, const struct msg_field *f)
{
	struct dktags *t;
	const char *v, *c, *q, *a;
	struct mgerr e;
	long n;
	int rc = -1;

	if ((t = malloc(sizeof(*t))) == NULL)
		return decide(d, "temperror", "%s", "out of memory");
	v = strchr(f->raw, ':') + 1;
	if (dktags_parse(t, v, f->rawlen - (size_t)(v - f->raw), &e) == -1) {
		decide(d, "neutral", "signature: %s", e.msg);
		goto out;
	}
	if ((v = dktag(t, "d")) == NULL || *v == '\0' ||
	    (a = dktag(t, "s")) == NULL || *a == '\0' ||
	    dktag(t, "b") == NULL) {
		decide(d, "neutral", "%s", "signature lacks d=, s= or b=");
		goto out;
	}
	strlcpy(d->r.domain, v, sizeof(d->r.domain));
	strlcpy(d->r.selector, a, sizeof(d->r.selector));
	dktag_b64(dktag(t, "b"), d->r.b, 9);
	if ((a = dktag(t, "a")) != NULL && strcmp(a, "rsa-sha1") != 0) {
		decide(d, "neutral", "unknown algorithm a=%s", a);
		goto out;
	}
	/*
	 * Section 3.3 requires q=; signatures of the pre-RFC draft, which
	 * Yahoo sent, carry neither a= nor q= and are still accepted.
	 */
	if ((q = dktag(t, "q")) == NULL && a != NULL) {
		decide(d, "neutral", "%s", "signature lacks q=");
		goto out;
	}
	if (q != NULL && strcmp(q, "dns") != 0) {
		decide(d, "neutral", "unknown query method q=%s", q);
		goto out;
	}
	c = dktag(t, "c");
	if (c != NULL && strcmp(c, "simple") != 0 && strcmp(c, "nofws") != 0) {
		decide(d, "neutral", "unknown canonicalization c=%s", c);
		goto out;
	}
	d->nofws = c != NULL && strcmp(c, "nofws") == 0;
	if ((n = b64_decode(dktag(t, "b"), d->sig, sizeof(d->sig))) <= 0) {
		decide(d, "neutral", "%s", "corrupt b=");
		goto out;
	}
	d->siglen = (size_t)n;
	rc = 0;
out:
	free(t);
	return rc;
}

struct dk *
dk_verify_new(const struct msg *m, size_t field, int min_bits)
{
	static size_t sel[MSG_FIELDS_MAX];
	struct dktags *t;
	struct dk *d;
	size_t n;

	if ((d = dk_new(0)) == NULL)
		return NULL;
	d->min_bits = min_bits > DK_MIN_KEY_BITS ? min_bits : DK_MIN_KEY_BITS;
	if (parse_sig(d, msg_field(m, field)) == -1)
		return d;
	if ((t = malloc(sizeof(*t))) == NULL) {
		decide(d, "temperror", "%s", "out of memory");
		return d;
	}
	dktags_parse(t, strchr(msg_field(m, field)->raw, ':') + 1,
	    msg_field(m, field)->rawlen - (size_t)(strchr(msg_field(m,
	    field)->raw, ':') + 1 - msg_field(m, field)->raw), NULL);
	n = select_fields(m, field, dktag(t, "h"), sel);
	free(t);
	if (check_sender(d, m, sel, n) == -1)
		return d;
	start_hash(d, m, sel, n);
	return d;
}

/* g= (section 3.2.3): a local-part pattern with at most one '*'; an
 * empty g= matches every local part. */
static int
granularity_ok(const char *g, const char *local)
{
	const char *star = strchr(g, '*');
	size_t pre, post, ll = strlen(local);

	if (*g == '\0')
		return 1;
	if (star == NULL)
		return strcmp(g, local) == 0;
	pre = (size_t)(star - g);
	post = strlen(star + 1);
	return ll >= pre + post && strncmp(local, g, pre) == 0 &&
	    strcmp(local + ll - post, star + 1) == 0;
}

/* Checks the key record's tags and decodes p= into d->key. */
static int
parse_key(struct dk *d, const char *txt, size_t len)
{
	unsigned char der[DK_SIG_MAX * 2];
	const unsigned char *dp = der;
	struct dktags *t;
	const char *v;
	struct mgerr e;
	long n;
	int rc = -1;

	if ((t = malloc(sizeof(*t))) == NULL)
		return decide(d, "temperror", "%s", "out of memory");
	if (dktags_parse(t, txt, len, &e) == -1)
		decide(d, "permerror", "key record: %s", e.msg);
	else if ((v = dktag(t, "v")) != NULL && strcmp(v, "DKIM1") != 0)
		decide(d, "permerror", "key record: unknown version %s", v);
	else if ((v = dktag(t, "k")) != NULL && strcmp(v, "rsa") != 0)
		decide(d, "permerror", "key record: unknown key type %s", v);
	else if ((v = dktag(t, "h")) != NULL && strstr(v, "sha1") == NULL)
		decide(d, "permerror", "key record: h=%s excludes sha1", v);
	else if ((v = dktag(t, "p")) == NULL)
		decide(d, "permerror", "%s", "key record without p=");
	else if (*v == '\0')
		decide(d, "permerror", "%s", "key revoked");
	else if ((n = b64_decode(v, der, sizeof(der))) <= 0 ||
	    (d->key = d2i_PUBKEY(NULL, &dp, n)) == NULL ||
	    EVP_PKEY_base_id(d->key) != EVP_PKEY_RSA)
		decide(d, "permerror", "%s", "key record: bad RSA key");
	else if (EVP_PKEY_bits(d->key) < d->min_bits)
		decide(d, "permerror", "key of %s bits is too small",
		    EVP_PKEY_bits(d->key) < 1024 ? "fewer than 1024" : "too few");
	else if ((v = dktag(t, "g")) != NULL && !granularity_ok(v, d->local))
		decide(d, "fail", "%s", "key g= does not match the sender");
	else
		rc = 0;
	free(t);
	return rc;
}

static int
fetch_key(struct dk *d, struct dns *dns)
{
	struct dns_result res;
	char name[512];
	struct mgerr e;
	int rc;

	snprintf(name, sizeof(name), "%s._domainkey.%s", d->r.selector,
	    d->r.domain);
	if (dns_query(dns, name, 16, &res, &e) == -1)
		return decide(d, "permerror", "bad key name %s", name);
	if (res.status == DNS_OK && res.n > 0)
		rc = parse_key(d, res.txt[0], res.txtlen[0]);
	else if (dns_temporary(res.status))
		rc = decide(d, "temperror", "key lookup: %s",
		    dns_status_str(res.status));
	else
		rc = decide(d, "permerror", "no key for signature (%s)",
		    dns_status_str(res.status));
	dns_result_free(&res);
	return rc;
}

void
dk_verify_end(struct dk *d, struct dns *dns, struct dk_result *r)
{
	unsigned char dig[EVP_MAX_MD_SIZE];
	unsigned int dl;
	EVP_PKEY_CTX *pc;

	if (d == NULL) {
		memset(r, 0, sizeof(*r));
		r->result = "temperror";
		strlcpy(r->reason, "out of memory", sizeof(r->reason));
		return;
	}
	if (!d->decided && fetch_key(d, dns) == 0) {
		flush(d);
		EVP_DigestFinal_ex(d->md, dig, &dl);
		pc = EVP_PKEY_CTX_new(d->key, NULL);
		if (pc != NULL && EVP_PKEY_verify_init(pc) == 1 &&
		    EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) == 1 &&
		    EVP_PKEY_CTX_set_signature_md(pc, EVP_sha1()) == 1 &&
		    EVP_PKEY_verify(pc, d->sig, d->siglen, dig, dl) == 1)
			decide(d, "pass", "%s", "");
		else
			decide(d, "fail", "%s", "signature did not verify");
		EVP_PKEY_CTX_free(pc);
	}
	*r = d->r;
	dk_free(d);
}

/* --- signing ----------------------------------------------------------- */

static EVP_PKEY *
load_key(const char *file, struct mgerr *e)
{
	EVP_PKEY *k;
	FILE *f;

	if ((f = fopen(file, "r")) == NULL) {
		mgerr_set(e, "open %s: %s", file, strerror(errno));
		return NULL;
	}
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (k == NULL || EVP_PKEY_base_id(k) != EVP_PKEY_RSA) {
		mgerr_set(e, "%s: not an RSA private key in PEM", file);
		EVP_PKEY_free(k);
		return NULL;
	}
	return k;
}

/* The h= list for signing: the message's fields named in want, or all
 * with "*", in message order; their indices go to sel. */
static size_t
sign_fields(const struct msg *m, const char *want, char *h, size_t hcap,
    size_t *sel)
{
	char list[1024], *tok, *save;
	const struct msg_field *f;
	size_t i, n = 0;
	int hit;

	*h = '\0';
	for (i = 0; i < msg_nfields(m); i++) {
		f = msg_field(m, i);
		hit = strcmp(want, "*") == 0;
		strlcpy(list, want, sizeof(list));
		for (tok = strtok_r(list, ":", &save); tok != NULL && !hit;
		    tok = strtok_r(NULL, ":", &save))
			hit = strcasecmp(tok, f->name) == 0;
		if (!hit)
			continue;
		if (*h != '\0')
			strlcat(h, ":", hcap);
		strlcat(h, f->name, hcap);
		sel[n++] = i;
	}
	return n;
}

struct dk *
dk_sign_new(const struct msg *m, const char *domain, const char *selector,
    const char *keyfile, int nofws, const char *hdrs, struct mgerr *e)
{
	static size_t sel[MSG_FIELDS_MAX];
	char h[2048] = "";
	struct dk *d;
	size_t n, i;

	if ((d = dk_new(nofws)) == NULL) {
		mgerr_temp(e, "out of memory");
		return NULL;
	}
	if ((d->key = load_key(keyfile, e)) == NULL) {
		dk_free(d);
		return NULL;
	}
	if (hdrs != NULL)
		n = sign_fields(m, hdrs, h, sizeof(h), sel);
	else
		for (n = 0, i = 0; i < msg_nfields(m); i++)
			sel[n++] = i;
	snprintf(d->tags, sizeof(d->tags), "a=rsa-sha1; q=dns; c=%s; s=%s; "
	    "d=%s;%s%s%s b=", nofws ? "nofws" : "simple", selector, domain,
	    hdrs != NULL ? " h=" : "", h, hdrs != NULL ? ";" : "");
	start_hash(d, m, sel, n);
	return d;
}

int
dk_sign_end(struct dk *d, char **field, struct mgerr *e)
{
	unsigned char dig[EVP_MAX_MD_SIZE], sig[DK_SIG_MAX];
	char b64[DK_B64_MAX], val[4096], out[HDR_FIELD_MAX];
	size_t sl = sizeof(sig), i;
	unsigned int dl;
	EVP_PKEY_CTX *pc;
	int ok, bl;

	flush(d);
	EVP_DigestFinal_ex(d->md, dig, &dl);
	pc = EVP_PKEY_CTX_new(d->key, NULL);
	ok = pc != NULL && EVP_PKEY_sign_init(pc) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) == 1 &&
	    EVP_PKEY_CTX_set_signature_md(pc, EVP_sha1()) == 1 &&
	    EVP_PKEY_sign(pc, sig, &sl, dig, dl) == 1;
	EVP_PKEY_CTX_free(pc);
	if (!ok) {
		dk_free(d);
		mgerr_set(e, "DomainKeys signing failed");
		return -1;
	}
	bl = EVP_EncodeBlock((unsigned char *)b64, sig, (int)sl);
	strlcpy(val, d->tags, sizeof(val));
	/* FWS inside b= is allowed (section 3.3), so the field folds. */
	for (i = 0; i < (size_t)bl; i += 64) {
		if (i > 0)
			strlcat(val, " ", sizeof(val));
		strncat(val, b64 + i, (size_t)bl - i < 64 ? (size_t)bl - i : 64);
	}
	dk_free(d);
	if (hdr_fold("DomainKey-Signature", val, out, sizeof(out), e) == -1)
		return -1;
	if ((*field = strdup(out)) == NULL) {
		mgerr_temp(e, "out of memory");
		return -1;
	}
	return 0;
}
