/*
 * mg-dkim-sign: DKIM signatures on libopendkim (RFC 6376, RFC 8463) and
 * DomainKeys signatures (dk.h), all made in one pass over the message.
 */
#include <opendkim/dkim.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dk.h"
#include "log.h"
#include "sign.h"

/* RFC 6376 section 5.4.1, plus the MIME fields most signers add. */
static const char *default_headers =
    "From:Reply-To:Subject:Date:To:Cc:Resent-Date:Resent-From:Resent-To:"
    "Resent-Cc:In-Reply-To:References:List-Id:List-Help:List-Unsubscribe:"
    "List-Subscribe:List-Post:List-Owner:List-Archive:Message-ID:"
    "MIME-Version:Content-Type:Content-Transfer-Encoding";

#define MAXNAMES	64

/* Splits a colon list into a NULL-terminated array (storage in buf). */
static const u_char **
names(const char *list, char *buf, size_t cap, const u_char **v)
{
	char *tok, *save;
	size_t n = 0;

	strlcpy(buf, list, cap);
	for (tok = strtok_r(buf, ": ,", &save); tok != NULL && n < MAXNAMES;
	    tok = strtok_r(NULL, ": ,", &save))
		v[n++] = (const u_char *)tok;
	v[n] = NULL;
	return v;
}

static char *
slurp(const char *path, struct mgerr *e)
{
	char *buf;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY)) == -1) {
		mgerr_set(e, "open key %s: %s", path, strerror(errno));
		return NULL;
	}
	if ((buf = calloc(1, 65536)) == NULL ||
	    (n = read(fd, buf, 65535)) <= 0) {
		mgerr_set(e, "read key %s: cannot read", path);
		free(buf);
		close(fd);
		return NULL;
	}
	close(fd);
	return buf;
}

static DKIM_LIB *
setup_lib(struct sign *s, struct mgerr *e)
{
	static char hb[4096], ob[4096];
	static const u_char *hv[MAXNAMES + 1], *ov[MAXNAMES + 1];
	u_int flags = 0;
	uint64_t t;
	DKIM_LIB *lib;

	if ((lib = dkim_init(NULL, NULL)) == NULL) {
		mgerr_temp(e, "libopendkim: cannot initialise");
		return NULL;
	}
	if (s->body_length)
		flags |= DKIM_LIBFLAGS_SIGNLEN;
	if (s->copy_headers)
		flags |= DKIM_LIBFLAGS_ZTAGS;
	dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags,
	    sizeof(flags));
	dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS,
	    names(s->headers ? s->headers : default_headers, hb, sizeof(hb),
	    hv), sizeof(const u_char **));
	dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_OVERSIGNHDRS,
	    names(s->oversign, ob, sizeof(ob), ov), sizeof(const u_char **));
	if (s->sign_time > 0) {
		t = (uint64_t)s->sign_time;
		dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FIXEDTIME, &t,
		    sizeof(t));
	}
	if (s->expire > 0) {
		t = (uint64_t)s->expire;
		dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNATURETTL, &t,
		    sizeof(t));
	}
	return lib;
}

static int
canon(const char *c, dkim_canon_t *h, dkim_canon_t *b, struct mgerr *e)
{
	char hs[16], bs[16];

	if (sscanf(c, "%15[a-z]/%15[a-z]", hs, bs) != 2) {
		strlcpy(hs, c, sizeof(hs));
		strlcpy(bs, "simple", sizeof(bs));
	}
	*h = strcmp(hs, "relaxed") == 0 ? DKIM_CANON_RELAXED :
	    strcmp(hs, "simple") == 0 ? DKIM_CANON_SIMPLE : -2;
	*b = strcmp(bs, "relaxed") == 0 ? DKIM_CANON_RELAXED :
	    strcmp(bs, "simple") == 0 ? DKIM_CANON_SIMPLE : -2;
	if (*h == -2 || *b == -2) {
		mgerr_set(e, "option --canon: %s: use simple or relaxed, "
		    "header/body", c);
		return -1;
	}
	return 0;
}

/* The field libopendkim made, as "DKIM-Signature: ..." with "\n\t" folds. */
static char *
sig_field(DKIM *d, struct mgerr *e)
{
	static const char pre[] = "DKIM-Signature: ";
	u_char *val = NULL;
	size_t len = 0, i, n = 0;
	char *out;
	DKIM_STAT st;

	if ((st = dkim_getsighdr_d(d, sizeof(pre) - 1, &val, &len)) !=
	    DKIM_STAT_OK) {
		mgerr_set(e, "signing failed: %s", dkim_getresultstr(st));
		return NULL;
	}
	if ((out = malloc(sizeof(pre) + len)) == NULL) {
		mgerr_temp(e, "out of memory");
		return NULL;
	}
	memcpy(out, pre, sizeof(pre) - 1);
	n = sizeof(pre) - 1;
	for (i = 0; i < len; i++)
		if (val[i] != '\r')
			out[n++] = (char)val[i];
	out[n] = '\0';
	return out;
}

struct signers {
	DKIM_LIB	*lib;
	DKIM		*d[MAXSIG];
	struct dk	*dk[MAXSIG];
	size_t		 n, ndk;
};

static int
open_signers(struct sign *s, struct msg *m, struct signers *g,
    struct mgerr *e)
{
	dkim_canon_t hc, bc;
	DKIM_STAT st;
	char *key;
	size_t i;

	if (canon(s->canon, &hc, &bc, e) == -1 ||
	    (g->lib = setup_lib(s, e)) == NULL)
		return -1;
	for (i = 0; i < s->nsig; i++) {
		if ((key = slurp(s->sig[i].key, e)) == NULL)
			return -1;
		g->d[g->n] = dkim_sign(g->lib, (const u_char *)"mg", NULL,
		    (dkim_sigkey_t)key, (const u_char *)s->sig[i].selector,
		    (const u_char *)s->sig[i].domain, hc, bc,
		    s->sig[i].ed25519 ? DKIM_SIGN_ED25519SHA256 :
		    DKIM_SIGN_RSASHA256, -1, &st);
		explicit_bzero(key, strlen(key));
		free(key);
		if (g->d[g->n] == NULL) {
			mgerr_set(e, "sign with %s: %s", s->sig[i].key,
			    dkim_getresultstr(st));
			return -1;
		}
		/*
		 * libopendkim folds the field it hashes and the field it
		 * returns at different places when b= is short (Ed25519), so
		 * with simple header canonicalization the field stays on one
		 * line (under RFC 5322's 998 octets even for RSA-4096).
		 */
		if (hc == DKIM_CANON_SIMPLE)
			dkim_set_margin(g->d[g->n], 0);
		g->n++;
		if (s->domainkeys && !s->sig[i].ed25519) {
			g->dk[g->ndk] = dk_sign_new(m, s->sig[i].domain,
			    s->sig[i].selector, s->sig[i].key,
			    strcmp(s->dk_canon, "nofws") == 0, s->dk_headers,
			    e);
			if (g->dk[g->ndk] == NULL)
				return -1;
			g->ndk++;
		}
	}
	return 0;
}

static void
close_signers(struct signers *g)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		dkim_free(g->d[i]);
	for (i = 0; i < g->ndk; i++)
		dk_free(g->dk[i]);
	if (g->lib != NULL)
		dkim_close(g->lib);
}

/* Feeds the message to every signer, in one pass. */
static int
feed(struct signers *g, struct msg *m, struct mgerr *e)
{
	const struct msg_field *f;
	DKIM_STAT st;
	const char *p;
	ssize_t r;
	size_t i, j;
	char last = 0;

	for (j = 0; j < msg_nfields(m); j++) {
		f = msg_field(m, j);
		for (i = 0; i < g->n; i++)
			if ((st = dkim_header(g->d[i], (u_char *)(uintptr_t)
			    f->raw, f->rawlen)) != DKIM_STAT_OK)
				goto fail;
	}
	for (i = 0; i < g->n; i++)
		if ((st = dkim_eoh(g->d[i])) != DKIM_STAT_OK)
			goto fail;
	while ((r = msg_body_next(m, 1, &p, e)) > 0 ||
	    (r == 0 && last != '\n' && last != 0)) {
		/* RFC 6376 section 3.4.3: a body without a final CRLF is
		 * hashed with one (libopendkim refuses it otherwise). */
		if (r == 0) {
			p = "\r\n";
			r = 2;
		}
		last = p[r - 1];
		for (i = 0; i < g->n; i++)
			if ((st = dkim_body(g->d[i], (u_char *)(uintptr_t)p,
			    (size_t)r)) != DKIM_STAT_OK)
				goto fail;
		for (i = 0; i < g->ndk; i++)
			dk_body(g->dk[i], p, (size_t)r);
	}
	if (r == -1)
		return -1;
	for (i = 0; i < g->n; i++)
		if ((st = dkim_eom(g->d[i], NULL)) != DKIM_STAT_OK)
			goto fail;
	return 0;
fail:
	mgerr_set(e, "cannot sign: %s%s%s", dkim_getresultstr(st),
	    dkim_geterror(g->d[i]) ? ": " : "",
	    dkim_geterror(g->d[i]) ? dkim_geterror(g->d[i]) : "");
	return -1;
}

int
sign_message(struct sign *s, struct msg *m, char **fields, size_t *nfields,
    struct mgerr *e)
{
	struct signers g;
	size_t i;
	int rc = -1;

	memset(&g, 0, sizeof(g));
	*nfields = 0;
	if (open_signers(s, m, &g, e) == -1 || feed(&g, m, e) == -1)
		goto out;
	for (i = 0; i < g.n; i++)
		if ((fields[(*nfields)++] = sig_field(g.d[i], e)) == NULL)
			goto out;
	for (i = 0; i < g.ndk; i++) {
		if (dk_sign_end(g.dk[i], &fields[*nfields], e) == -1) {
			g.dk[i] = NULL;
			goto out;
		}
		g.dk[i] = NULL;
		(*nfields)++;
	}
	rc = 0;
out:
	close_signers(&g);
	return rc;
}
