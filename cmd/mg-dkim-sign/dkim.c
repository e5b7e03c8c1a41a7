/*
 * mg-dkim-sign: DKIM signatures (RFC 6376, RFC 8463) on OpenSSL, and
 * DomainKeys signatures (dk.h), all made in one pass over the message.
 *
 * libopendkim made these once, but its body canonicalization cost three
 * to four times a SHA-256 of the same bytes and it cannot take a body
 * hash computed elsewhere (its signature field always takes bh= from its
 * own canonicalizer).  So the body goes through dkcanon, and this file
 * picks, canonicalizes and signs the header fields.  The tests check the
 * result against libopendkim (mg-dkim-verify, opendkim-testmsg), dkimpy
 * and Mail::DKIM, and b= and bh= against dkimpy's signer.
 */
#include <openssl/evp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dk.h"
#include "dkcanon.h"
#include "log.h"
#include "sign.h"

/* RFC 6376 section 5.4.1, plus the MIME fields most signers add. */
static const char *default_headers =
    "From:Reply-To:Subject:Date:To:Cc:Resent-Date:Resent-From:Resent-To:"
    "Resent-Cc:In-Reply-To:References:List-Id:List-Help:List-Unsubscribe:"
    "List-Subscribe:List-Post:List-Owner:List-Archive:Message-ID:"
    "MIME-Version:Content-Type:Content-Transfer-Encoding";

#define MAXNAMES	64
/* Folded lines stay under this many columns (RFC 5322 section 2.1.1). */
#define MARGIN		78

/* --- a growing buffer ---------------------------------------------- */

struct buf {
	char	*p;
	size_t	 n, cap;
	int	 oom;
};

static void
put(struct buf *b, const char *p, size_t n)
{
	size_t cap;
	char *np;

	if (b->oom)
		return;
	if (b->n + n + 1 > b->cap) {
		for (cap = b->cap ? b->cap : 1024; cap < b->n + n + 1; cap *= 2)
			;
		if ((np = realloc(b->p, cap)) == NULL) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void
puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* --- header fields (RFC 6376 sections 3.4.1, 3.4.2, 5.4) ------------- */

/* Section 3.4.2: name lowercased, WSP around the colon gone, the value
 * unfolded with every run of WSP one SP and none at either end.  Only a
 * CRLF unfolds: a bare CR in the value stays (WSP is SP and HTAB), as
 * dkimpy and Mail::DKIM keep it; see signs_bare_cr for libopendkim. */
static void
canon_relaxed(struct buf *b, const char *raw, size_t n)
{
	const char *colon = memchr(raw, ':', n);
	size_t i, end;
	int sp = 0, started = 0;
	char c;

	if (colon == NULL)
		return;
	for (end = (size_t)(colon - raw); end > 0 && (raw[end - 1] == ' ' ||
	    raw[end - 1] == '\t'); end--)
		;
	for (i = 0; i < end; i++) {
		c = (char)((raw[i] >= 'A' && raw[i] <= 'Z') ? raw[i] + 32 :
		    raw[i]);
		put(b, &c, 1);
	}
	put(b, ":", 1);
	for (i = (size_t)(colon - raw) + 1; i < n; i++) {
		c = raw[i];
		if (c == '\r' && i + 1 < n && raw[i + 1] == '\n') {
			i++;
			continue;
		}
		if (c == ' ' || c == '\t') {
			sp = 1;
			continue;
		}
		if (sp && started)
			put(b, " ", 1);
		sp = 0;
		started = 1;
		put(b, &c, 1);
	}
}

static void
canon_field(struct buf *b, const char *raw, size_t n, int relaxed)
{
	if (relaxed)
		canon_relaxed(b, raw, n);
	else
		put(b, raw, n);
}

/* Splits a colon list into v (storage in buf); returns the count. */
static size_t
names(const char *list, char *buf, size_t cap, const char **v)
{
	char *tok, *save;
	size_t n = 0;

	strlcpy(buf, list != NULL ? list : "", cap);
	for (tok = strtok_r(buf, ": ,", &save); tok != NULL && n < MAXNAMES;
	    tok = strtok_r(NULL, ": ,", &save))
		v[n++] = tok;
	return n;
}

static int
listed(const char *name, const char *const *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasecmp(name, v[i]) == 0)
			return 1;
	return 0;
}

/*
 * The h= list (section 5.4): every field named in the list, in message
 * order, then each oversigned name once more (section 8.15), which signs
 * that no further field of that name may be added.  From is always
 * signed (section 5.4).
 */
struct hlist {
	const char	*name[MSG_FIELDS_MAX + MAXNAMES];
	size_t		 n;
	char		 hb[4096], ob[4096];
};

static void
hlist_make(const struct sign *s, const struct msg *m, struct hlist *h)
{
	const char *hv[MAXNAMES], *ov[MAXNAMES];
	size_t nh, no, i;
	const char *name;

	nh = names(s->headers ? s->headers : default_headers, h->hb,
	    sizeof(h->hb), hv);
	no = names(s->oversign, h->ob, sizeof(h->ob), ov);
	h->n = 0;
	for (i = 0; i < msg_nfields(m); i++) {
		name = msg_field(m, i)->name;
		if (strcasecmp(name, "From") == 0 || listed(name, hv, nh) ||
		    listed(name, ov, no))
			h->name[h->n++] = name;
	}
	for (i = 0; i < no; i++)
		h->name[h->n++] = ov[i];
}

/* Section 5.4.2: each name takes the last field of that name not yet
 * taken, from the bottom up; a name with none left adds nothing. */
static void
hash_fields(struct buf *b, const struct msg *m, const struct hlist *h,
    int relaxed, unsigned char *used)
{
	const struct msg_field *f;
	size_t i, j;

	memset(used, 0, msg_nfields(m));
	for (i = 0; i < h->n; i++)
		for (j = msg_nfields(m); j-- > 0;) {
			f = msg_field(m, j);
			if (used[j] || strcasecmp(f->name, h->name[i]) != 0)
				continue;
			used[j] = 1;
			canon_field(b, f->raw, f->rawlen, relaxed);
			put(b, "\r\n", 2);
			break;
		}
}

/* 1 if a field the h= list signs holds a CR that is not part of a CRLF. */
static int
signs_bare_cr(const struct msg *m, const struct hlist *h,
    unsigned char *used)
{
	struct buf scratch = { NULL, 0, 0, 0 };
	const struct msg_field *f;
	const char *cr;
	size_t i, left;

	hash_fields(&scratch, m, h, 0, used);
	free(scratch.p);
	for (i = 0; i < msg_nfields(m); i++) {
		if (!used[i])
			continue;
		f = msg_field(m, i);
		for (cr = f->raw; (left = f->rawlen - (size_t)(cr - f->raw)) >
		    0 && (cr = memchr(cr, '\r', left)) != NULL; cr++)
			if (cr + 1 == f->raw + f->rawlen || cr[1] != '\n')
				return 1;
	}
	return 0;
}

/* --- the DKIM-Signature field --------------------------------------- */

/* A field being folded: breaks are CRLF TAB, where FWS may stand. */
struct fold {
	struct buf	b;
	size_t		col;
};

/* Adds an atom; sep (" " or "") goes before it unless the line breaks
 * there, which it does when the atom and reserve more columns would not
 * fit. */
static void
atom_r(struct fold *f, const char *s, size_t n, const char *sep,
    size_t reserve)
{
	if (f->col + strlen(sep) + n + reserve > MARGIN && f->col > 8) {
		puts_(&f->b, "\r\n\t");
		f->col = 8;
	} else {
		puts_(&f->b, sep);
		f->col += strlen(sep);
	}
	put(&f->b, s, n);
	f->col += n;
}

static void
atom(struct fold *f, const char *s, size_t n, const char *sep)
{
	atom_r(f, s, n, sep, 0);
}

/*
 * Adds a long value in pieces that may be folded between them: never
 * before from, nor inside a "=XX" of quoted-printable.
 */
static void
pieces(struct fold *f, const char *s, size_t n, size_t from, const char *sep)
{
	size_t i = 0, k;

	while (i < n) {
		k = n - i > 60 ? 60 : n - i;
		if (i == 0 && k < from)
			k = from < n ? from : n;
		while (i + k < n && k > 2 && (s[i + k - 1] == '=' ||
		    s[i + k - 2] == '='))
			k--;
		atom(f, s + i, k, i == 0 ? sep : "");
		i += k;
	}
}

/* Section 2.11 dkim-quoted-printable, with "|" encoded (z=). */
static void
qp(struct buf *b, const char *raw, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char c;
	char e[3];
	size_t i;

	for (i = 0; i < n; i++) {
		c = (unsigned char)raw[i];
		if (c == '\r' || c == '\n')
			continue;
		if ((c >= 0x21 && c <= 0x3a) || c == 0x3c ||
		    (c >= 0x3e && c <= 0x7e && c != '|')) {
			put(b, raw + i, 1);
			continue;
		}
		e[0] = '=';
		e[1] = hex[c >> 4];
		e[2] = hex[c & 15];
		put(b, e, 3);
	}
}

/* The z= tag (section 3.5): the signed fields, "|" between them. */
static void
ztag(struct fold *f, const struct msg *m, const unsigned char *used)
{
	const struct msg_field *fl;
	struct buf z = { NULL, 0, 0, 0 };
	size_t i;
	int first = 1;

	for (i = 0; i < msg_nfields(m); i++) {
		if (!used[i])
			continue;
		fl = msg_field(m, i);
		z.n = 0;
		/* FWS may follow "|", not precede it (section 3.5). */
		if (!first) {
			put(&f->b, "|", 1);
			f->col++;
		}
		puts_(&z, first ? "z=" : "");
		put(&z, fl->name, fl->namelen);
		put(&z, ":", 1);
		qp(&z, fl->raw + (strchr(fl->raw, ':') - fl->raw) + 1,
		    fl->rawlen - (size_t)(strchr(fl->raw, ':') - fl->raw) - 1);
		if (!z.oom)
			pieces(f, z.p, z.n, z.n - strlen(strchr(z.p, ':')) + 1,
			    first ? " " : "");
		f->b.oom |= z.oom;
		first = 0;
	}
	if (!first)
		atom(f, ";", 1, "");
	free(z.p);
}

static void
tag(struct fold *f, const char *t)
{
	atom(f, t, strlen(t), " ");
}

/* --- signing ---------------------------------------------------------- */

/* What every signature of the message shares. */
struct job {
	const struct sign	*s;
	const struct msg	*m;
	struct hlist		 h;
	unsigned char		*used;	/* fields signed, by index */
	int			 hrel, brel;
	char			 bh[128];
	uint64_t		 blen;
	long long		 t;
};

static int
canon(const char *c, int *h, int *b, struct mgerr *e)
{
	char hs[16], bs[16];

	if (sscanf(c, "%15[a-z]/%15[a-z]", hs, bs) != 2) {
		strlcpy(hs, c, sizeof(hs));
		strlcpy(bs, "simple", sizeof(bs));
	}
	*h = strcmp(hs, "relaxed") == 0 ? 1 : strcmp(hs, "simple") == 0 ?
	    0 : -1;
	*b = strcmp(bs, "relaxed") == 0 ? 1 : strcmp(bs, "simple") == 0 ?
	    0 : -1;
	if (*h == -1 || *b == -1) {
		mgerr_set(e, "option --canon: %s: use simple or relaxed, "
		    "header/body", c);
		return -1;
	}
	return 0;
}

/* The h= tag, foldable after each colon (section 3.5). */
static void
htag(struct fold *f, const struct hlist *h)
{
	char t[300];
	size_t i;

	for (i = 0; i < h->n; i++) {
		snprintf(t, sizeof(t), "%s%s%s", i == 0 ? "h=" : "",
		    h->name[i], i + 1 < h->n ? ":" : ";");
		atom(f, t, strlen(t), i == 0 ? " " : "");
	}
}

/* The field up to "b=", in the order libopendkim wrote its tags. */
static void
tags(struct fold *f, const struct job *j, const struct sigspec *sp)
{
	char t[600];

	puts_(&f->b, "DKIM-Signature:");
	f->col = 15;
	tag(f, "v=1;");
	tag(f, sp->ed25519 ? "a=ed25519-sha256;" : "a=rsa-sha256;");
	snprintf(t, sizeof(t), "c=%s/%s;", j->hrel ? "relaxed" : "simple",
	    j->brel ? "relaxed" : "simple");
	tag(f, t);
	snprintf(t, sizeof(t), "d=%s;", sp->domain);
	tag(f, t);
	snprintf(t, sizeof(t), "s=%s;", sp->selector);
	tag(f, t);
	snprintf(t, sizeof(t), "t=%lld;", j->t);
	tag(f, t);
	if (j->s->expire > 0) {
		snprintf(t, sizeof(t), "x=%lld;", j->t +
		    (long long)j->s->expire);
		tag(f, t);
	}
	snprintf(t, sizeof(t), "bh=%s;", j->bh);
	tag(f, t);
	if (j->s->body_length) {
		snprintf(t, sizeof(t), "l=%llu;",
		    (unsigned long long)j->blen);
		tag(f, t);
	}
	htag(f, &j->h);
	if (j->s->copy_headers)
		ztag(f, j->m, j->used);
	/* b= keeps some of its value on its line: verifiers differ in
	 * what FWS right after "b=" they drop with the value. */
	atom_r(f, "b=", 2, " ", 20);
}

/* b= (section 3.5): the value starts on the line of "b=". */
static void
bvalue(struct fold *f, const char *s, size_t n)
{
	size_t k = MARGIN > f->col + 1 ? MARGIN - f->col : 1;

	if (k > n)
		k = n;
	put(&f->b, s, k);
	f->col += k;
	pieces(f, s + k, n - k, 0, "");
}

/* Signs the canonicalized header data (RFC 8463 section 3: Ed25519
 * signs the SHA-256 of it).  The signature in base64, or NULL. */
static char *
sign_data(EVP_PKEY *key, int ed, const struct buf *d, struct mgerr *e)
{
	unsigned char dg[EVP_MAX_MD_SIZE], *sig = NULL;
	const unsigned char *in = (const unsigned char *)d->p;
	size_t slen = 0, n = d->n;
	unsigned dl;
	EVP_MD_CTX *ctx;
	char *b64 = NULL;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		goto fail;
	if (ed) {
		if (EVP_Digest(in, n, dg, &dl, EVP_sha256(), NULL) != 1)
			goto fail;
		in = dg;
		n = dl;
	}
	if (EVP_DigestSignInit(ctx, NULL, ed ? NULL : EVP_sha256(), NULL,
	    key) != 1 || EVP_DigestSign(ctx, NULL, &slen, in, n) != 1 ||
	    (sig = malloc(slen)) == NULL ||
	    EVP_DigestSign(ctx, sig, &slen, in, n) != 1 ||
	    (b64 = malloc(slen / 3 * 4 + 5)) == NULL)
		goto fail;
	EVP_EncodeBlock((unsigned char *)b64, sig, (int)slen);
	EVP_MD_CTX_free(ctx);
	free(sig);
	return b64;
fail:
	mgerr_set(e, "cannot make the signature");
	EVP_MD_CTX_free(ctx);
	free(sig);
	free(b64);
	return NULL;
}

/* One DKIM-Signature field, "Name: value" with "\n\t" folds. */
static char *
sign_one(struct job *j, const struct sigspec *sp, struct mgerr *e)
{
	struct fold f = { { NULL, 0, 0, 0 }, 0 };
	struct buf d = { NULL, 0, 0, 0 };
	EVP_PKEY *key;
	char *b64 = NULL, *out = NULL;
	size_t i, n = 0;

	if ((key = sp->pkey) == NULL && (key = key_load(sp->key, e)) == NULL)
		return NULL;
	hash_fields(&d, j->m, &j->h, j->hrel, j->used);
	tags(&f, j, sp);
	canon_field(&d, f.b.p, f.b.n, j->hrel);
	if (f.b.oom || d.oom)
		mgerr_temp(e, "out of memory");
	else if ((b64 = sign_data(key, sp->ed25519, &d, e)) != NULL) {
		bvalue(&f, b64, strlen(b64));
		if (!f.b.oom && (out = malloc(f.b.n + 1)) != NULL) {
			for (i = 0; i < f.b.n; i++)
				if (f.b.p[i] != '\r')
					out[n++] = f.b.p[i];
			out[n] = '\0';
		} else
			mgerr_temp(e, "out of memory");
	}
	if (key != sp->pkey)
		EVP_PKEY_free(key);
	free(b64);
	free(f.b.p);
	free(d.p);
	return out;
}

/* Streams the body once: our body hash and every DomainKeys signer. */
static int
body(struct job *j, struct msg *m, struct dk **dk, size_t ndk,
    struct mgerr *e)
{
	unsigned char md[DKCANON_MDMAX];
	struct dkcanon *c;
	const char *p;
	unsigned mdlen;
	ssize_t r;
	size_t i;
	char last = 0;
	int rc = -1;

	if ((c = dkcanon_new(j->brel, -1, "sha256", e)) == NULL)
		return -1;
	while ((r = msg_body_next(m, ndk > 0, &p, e)) > 0 ||
	    (r == 0 && ndk > 0 && last != '\n' && last != 0)) {
		/* RFC 4870 section 3.4: DomainKeys hashes a final CRLF too;
		 * dkcanon adds its own (RFC 6376 section 3.4.3). */
		if (r == 0) {
			p = "\r\n";
			r = 2;
		}
		last = p[r - 1];
		dkcanon_update(c, p, (size_t)r);
		for (i = 0; i < ndk; i++)
			dk_body(dk[i], p, (size_t)r);
	}
	if (r != -1 && dkcanon_final(c, md, &mdlen, &j->blen, e) == 0) {
		EVP_EncodeBlock((unsigned char *)j->bh, md, (int)mdlen);
		rc = 0;
	}
	dkcanon_free(c);
	return rc;
}

static int
dk_open(struct sign *s, struct msg *m, struct dk **dk, size_t *ndk,
    struct mgerr *e)
{
	size_t i;

	*ndk = 0;
	for (i = 0; s->domainkeys && i < s->nsig; i++) {
		if (s->sig[i].ed25519)
			continue;
		dk[*ndk] = dk_sign_new(m, s->sig[i].domain,
		    s->sig[i].selector, s->sig[i].key,
		    s->dk_nofws, s->dk_headers, e);
		if (dk[*ndk] == NULL)
			return -1;
		(*ndk)++;
	}
	return 0;
}

int
sign_message(struct sign *s, struct msg *m, char **fields, size_t *nfields,
    struct mgerr *e)
{
	struct dk *dk[MAXSIG];
	struct job *j;
	size_t i, k = 0, ndk = 0;
	int rc = -1;

	*nfields = 0;
	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->used = calloc(msg_nfields(m) + 1, 1)) == NULL) {
		mgerr_temp(e, "out of memory");
		goto out;
	}
	j->s = s;
	j->m = m;
	j->t = s->sign_time > 0 ? s->sign_time : (long long)time(NULL);
	hlist_make(s, m, &j->h);
	if (canon(s->canon, &j->hrel, &j->brel, e) == -1 ||
	    dk_open(s, m, dk, &ndk, e) == -1 || body(j, m, dk, ndk, e) == -1)
		goto out;
	/*
	 * Relaxed canonicalization keeps a bare CR in a value (RFC 6376
	 * section 3.4.2: WSP is SP and HTAB), but libopendkim counts it as
	 * a space: no relaxed signature of such a field verifies in both.
	 * Simple canonicalization is read the same way by every verifier.
	 */
	if (j->hrel && signs_bare_cr(m, &j->h, j->used)) {
		log_warn("a signed header field holds a bare CR, which "
		    "verifiers canonicalize differently: signing with simple "
		    "header canonicalization");
		j->hrel = 0;
	}
	for (i = 0; i < s->nsig; i++)
		if ((fields[(*nfields)++] = sign_one(j, &s->sig[i], e)) ==
		    NULL) {
			(*nfields)--;
			goto out;
		}
	/* dk_sign_end frees its context, whatever it returns. */
	for (; k < ndk; k++)
		if (dk_sign_end(dk[k], &fields[*nfields], e) == -1) {
			k++;
			goto out;
		} else
			(*nfields)++;
	rc = 0;
out:
	for (; k < ndk; k++)
		dk_free(dk[k]);
	for (i = 0; i < s->nsig; i++) {
		EVP_PKEY_free(s->sig[i].pkey);
		s->sig[i].pkey = NULL;
	}
	if (j != NULL)
		free(j->used);
	free(j);
	return rc;
}
