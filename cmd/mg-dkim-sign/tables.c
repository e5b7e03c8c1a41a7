/*
 * mg-dkim-sign: OpenDKIM's KeyTable and SigningTable (opendkim.conf(5),
 * opendkim(8) DATA SETS), read whole and checked before a message is
 * signed, so that a line which cannot work is refused with its place
 * instead of making a signature that never verifies.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sign.h"

#define TABLE_LINE_MAX	2048
#define TABLE_MAX	100000	/* lines; more belong in a database */
#define NAME_MAX_	253	/* RFC 1035 section 2.3.4, without the root */
#define LABEL_MAX	63	/* RFC 1035 section 2.3.4 */

void
table_free(struct table *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		free(t->l[i].key);
		free(t->l[i].val);
	}
	free(t->l);
	t->l = NULL;
	t->n = 0;
}

/* "file:PATH", "refile:PATH" or a plain PATH; other opendkim(8) data set
 * types (db:, dsn:, ldap:, ...) need libraries this program has not. */
static int
table_spec(struct table *t, const char *spec, struct mgerr *e)
{
	size_t n = strspn(spec, "abcdefghijklmnopqrstuvwxyz");

	t->wild = 0;
	t->path = spec;
	if (n == 0 || spec[n] != ':')
		return 0;
	if (n == 6 && strncmp(spec, "refile", n) == 0)
		t->wild = 1;
	else if (n != 4 || strncmp(spec, "file", n) != 0) {
		mgerr_set(e, "%s: data sets of type %.*s: are not supported; "
		    "use a file or refile:FILE", spec, (int)n, spec);
		return -1;
	}
	t->path = spec + n + 1;
	return 0;
}

/* Splits a line as opendkim(8) reads a file data set: '#' starts a
 * comment, the key runs to the first blank, the value is the rest.
 * 0 for a blank line, 1 for a key and value, -1 and e set. */
static int
table_split(char *line, char **key, char **val, struct mgerr *e)
{
	char *p;
	size_t n;

	line[strcspn(line, "#\r\n")] = '\0';
	p = line + strspn(line, " \t");
	if (*p == '\0')
		return 0;
	*key = p;
	p += strcspn(p, " \t");
	if (*p != '\0')
		*p++ = '\0';
	p += strspn(p, " \t");
	for (n = strlen(p); n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t');)
		p[--n] = '\0';
	if (*p == '\0') {
		mgerr_set(e, "%s: no value after the key", *key);
		return -1;
	}
	*val = p;
	return 1;
}

static int
table_add(struct table *t, const char *key, const char *val,
    unsigned long ln, struct mgerr *e)
{
	struct tline *l;

	if (t->n == TABLE_MAX) {
		mgerr_set(e, "more than %d lines", TABLE_MAX);
		return -1;
	}
	if ((l = realloc(t->l, (t->n + 1) * sizeof(*l))) == NULL) {
		mgerr_temp(e, "out of memory");
		return -1;
	}
	t->l = l;
	l += t->n;
	l->key = strdup(key);
	l->val = strdup(val);
	l->line = ln;
	if (l->key == NULL || l->val == NULL) {
		free(l->key);
		free(l->val);
		mgerr_temp(e, "out of memory");
		return -1;
	}
	t->n++;
	return 0;
}

/* Reads the table that spec names into t; 0, or -1 with e set. */
static int
table_read(struct table *t, const char *spec, struct mgerr *e)
{
	char line[TABLE_LINE_MAX], *key, *val;
	unsigned long ln = 0;
	FILE *f;
	int r = 0;

	memset(t, 0, sizeof(*t));
	if (table_spec(t, spec, e) == -1)
		return -1;
	if ((f = fopen(t->path, "r")) == NULL) {
		mgerr_set(e, "open %s: %s", t->path, strerror(errno));
		return -1;
	}
	while (r != -1 && fgets(line, sizeof(line), f) != NULL) {
		ln++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			mgerr_set(e, "line longer than %d bytes",
			    TABLE_LINE_MAX - 2);
			r = -1;
		} else if ((r = table_split(line, &key, &val, e)) == 1)
			r = table_add(t, key, val, ln, e);
	}
	if (r != -1 && ferror(f)) {
		mgerr_temp(e, "read %s: %s", t->path, strerror(errno));
		fclose(f);
		table_free(t);
		return -1;
	}
	fclose(f);
	if (r == -1) {
		mgerr_at(e, t->path, ln);
		table_free(t);
	}
	return r == -1 ? -1 : 0;
}

/* 1 if s is dot-separated labels of letters, digits, '-' and '_': what
 * d= and s= can hold (RFC 6376 section 3.5) and a DNS name can carry. */
static int
name_ok(const char *s)
{
	size_t n = strlen(s), lab = 0, i;

	if (n == 0 || n > NAME_MAX_)
		return 0;
	for (i = 0; i <= n; i++) {
		if (s[i] == '.' || s[i] == '\0') {
			if (lab == 0 || lab > LABEL_MAX)
				return 0;
			lab = 0;
		} else if (isalnum((unsigned char)s[i]) || s[i] == '-' ||
		    s[i] == '_')
			lab++;
		else
			return 0;
	}
	return 1;
}

/* 1 if s matches the refile: pattern p, where '*' matches any string
 * and every other character itself (opendkim(8), DATA SETS). */
static int
wild_match(const char *p, const char *s, int icase)
{
	const char *star = NULL, *from = NULL;

	while (*s != '\0') {
		if (*p == '*') {
			star = ++p;
			from = s;
		} else if (*p != '\0' && (*p == *s || (icase &&
		    tolower((unsigned char)*p) == tolower((unsigned char)*s)))) {
			p++;
			s++;
		} else if (star != NULL) {
			p = star;
			s = ++from;
		} else
			return 0;
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

/* OpenDKIM turns a refile: pattern into a POSIX regular expression and
 * escapes only '.' and '+', so these would be operators there while its
 * manual calls them literal: refused rather than read either way. */
static int
wild_ok(const struct table *t, const char *pat, struct mgerr *e)
{
	if (t->wild && strpbrk(pat, "?[](){}|^$\\") != NULL) {
		mgerr_set(e, "%s: only * is a wildcard in a refile: table",
		    pat);
		return -1;
	}
	return 0;
}

/* The first line whose key is name, or whose pattern matches it. */
static const struct tline *
key_find(const struct table *kt, const char *name)
{
	size_t i;

	for (i = 0; i < kt->n; i++)
		if (kt->wild ? wild_match(kt->l[i].key, name, 0) :
		    strcmp(kt->l[i].key, name) == 0)
			return &kt->l[i];
	return NULL;
}

/* Copies in to out with each '%' replaced by dom; -1 if it is too long. */
static int
subst(char *out, size_t cap, const char *in, const char *dom)
{
	size_t n = 0, dl = strlen(dom);

	for (; *in != '\0'; in++) {
		if (*in == '%' && n + dl < cap) {
			memcpy(out + n, dom, dl);
			n += dl;
		} else if (*in != '%' && n + 1 < cap)
			out[n++] = *in;
		else
			return -1;
	}
	out[n] = '\0';
	return 0;
}

/*
 * A KeyTable value "domain:selector:keyfile" (opendkim.conf(5)): a
 * domain of "%" alone, and each "%" in the keyfile, stand for dom, the
 * sender's domain.  With dom NULL only the form is checked.
 */
static int
key_fill(const char *val, const char *dom, struct sigspec *sp,
    struct mgerr *e)
{
	const char *c1 = strchr(val, ':'), *c2 = c1 ? strchr(c1 + 1, ':') :
	    NULL;
	char d[256], sel[64];

	if (c2 == NULL || c1 == val || c2 == c1 + 1 || c2[1] == '\0') {
		mgerr_set(e, "%s: use domain:selector:keyfile", val);
		return -1;
	}
	if ((size_t)(c1 - val) >= sizeof(d) ||
	    (size_t)(c2 - c1) > sizeof(sel)) {
		mgerr_set(e, "%s: domain or selector too long", val);
		return -1;
	}
	memcpy(d, val, (size_t)(c1 - val));
	d[c1 - val] = '\0';
	memcpy(sel, c1 + 1, (size_t)(c2 - c1 - 1));
	sel[c2 - c1 - 1] = '\0';
	if (strcmp(d, "%") != 0 && !name_ok(d)) {
		mgerr_set(e, "domain %s: use a domain name, or %% alone for "
		    "the sender's", d);
		return -1;
	}
	if (!name_ok(sel)) {
		mgerr_set(e, "selector %s: not a DNS name", sel);
		return -1;
	}
	if (dom == NULL)
		return 0;
	strlcpy(sp->domain, strcmp(d, "%") == 0 ? dom : d,
	    sizeof(sp->domain));
	strlcpy(sp->selector, sel, sizeof(sp->selector));
	if (subst(sp->key, sizeof(sp->key), c2 + 1, dom) == -1) {
		mgerr_set(e, "keyfile %s: too long for %s", c2 + 1, dom);
		return -1;
	}
	return 0;
}

int
keytable_load(struct table *kt, const char *spec, struct mgerr *e)
{
	size_t i;

	if (table_read(kt, spec, e) == -1)
		return -1;
	for (i = 0; i < kt->n; i++)
		if (wild_ok(kt, kt->l[i].key, e) == -1 ||
		    key_fill(kt->l[i].val, NULL, NULL, e) == -1) {
			mgerr_at(e, kt->path, kt->l[i].line);
			table_free(kt);
			return -1;
		}
	return 0;
}

/*
 * A SigningTable line.  Without refile: its key is looked up exactly, so
 * only the forms tables_lookup asks for can ever match; a wildcard or
 * "@domain" would be dead, and is refused with the form that works.
 * The value names a KeyTable key, or "%" for the one named after the
 * sender's domain; OpenDKIM's optional ":signer" (i=) is not written.
 */
static int
sign_line_ok(const struct table *st, const struct table *kt,
    const struct tline *l, struct mgerr *e)
{
	const char *k = l->key, *at = strrchr(k, '@');

	if (wild_ok(st, k, e) == -1)
		return -1;
	if (!st->wild && strcmp(k, "*") != 0 && strchr(k, '*') != NULL &&
	    (at == NULL || strcmp(at, "@*") != 0 || strchr(k, '*') != at + 1)) {
		mgerr_set(e, "%s: a wildcard pattern needs -S refile:%s", k,
		    st->path);
		return -1;
	}
	if (!st->wild && k[0] == '@') {
		mgerr_set(e, "%s: never matches; write %s for the domain, or "
		    "*%s in a refile: table", k, k + 1, k);
		return -1;
	}
	if (strchr(l->val, ':') != NULL) {
		mgerr_set(e, "%s: a signer (i=) field is not supported",
		    l->val);
		return -1;
	}
	if (strcmp(l->val, "%") != 0 && key_find(kt, l->val) == NULL) {
		mgerr_set(e, "no key named %s in %s", l->val, kt->path);
		return -1;
	}
	return 0;
}

int
signtable_load(struct table *st, const char *spec, const struct table *kt,
    struct mgerr *e)
{
	size_t i;

	if (table_read(st, spec, e) == -1)
		return -1;
	for (i = 0; i < st->n; i++)
		if (sign_line_ok(st, kt, &st->l[i], e) == -1) {
			mgerr_at(e, st->path, st->l[i].line);
			table_free(st);
			return -1;
		}
	return 0;
}

/* Adds the signature that SigningTable line l asks for. */
static int
add_sig(struct sign *s, const struct tline *l, const char *dom,
    struct mgerr *e)
{
	const char *name = strcmp(l->val, "%") == 0 ? dom : l->val;
	struct sigspec *sp = &s->sig[s->nsig];
	const struct tline *k;
	int t;

	if (s->nsig == MAXSIG)
		return 0;
	if ((k = key_find(&s->kt, name)) == NULL) {
		mgerr_set(e, "no key named %s in %s", name, s->kt.path);
		goto bad;
	}
	if ((strcmp(l->val, "%") == 0 || strchr(k->val, '%') != NULL) &&
	    !name_ok(dom)) {
		mgerr_set(e, "sender domain %s: not a domain name", dom);
		goto bad;
	}
	if (key_fill(k->val, dom, sp, e) == -1) {
		mgerr_at(e, s->kt.path, k->line);
		return -1;
	}
	if ((t = key_type(sp->key, &sp->pkey, e)) == -1)
		return -1;
	sp->ed25519 = t;
	s->nsig++;
	return 0;
bad:
	mgerr_at(e, s->st.path, l->line);
	return -1;
}

/* Adds a signature for each line whose key is exactly k. */
static int
add_exact(struct sign *s, const char *k, const char *dom, struct mgerr *e)
{
	size_t i;

	for (i = 0; i < s->st.n; i++)
		if (strcasecmp(s->st.l[i].key, k) == 0 &&
		    add_sig(s, &s->st.l[i], dom, e) == -1)
			return -1;
	return 0;
}

/*
 * opendkim.conf(5), SigningTable: refile: patterns in file order;
 * otherwise user@host, host, user@.domain for each parent domain, .domain
 * for each, user@*, and *.  Unlike OpenDKIM without MultipleSignatures,
 * every match signs, so two lines give dual RSA and Ed25519 signatures.
 */
int
tables_lookup(struct sign *s, const char *sender, struct mgerr *e)
{
	char user[512], dom[256], k[800];
	const char *at = strrchr(sender, '@'), *p;
	size_t i;

	if (at == NULL || at[1] == '\0' || (size_t)(at - sender) >=
	    sizeof(user) || strlcpy(dom, at + 1, sizeof(dom)) >= sizeof(dom))
		return 0;
	for (i = 0; dom[i] != '\0'; i++)
		dom[i] = (char)tolower((unsigned char)dom[i]);
	memcpy(user, sender, (size_t)(at - sender));
	user[at - sender] = '\0';
	if (s->st.wild) {
		for (i = 0; i < s->st.n; i++)
			if (wild_match(s->st.l[i].key, sender, 1) &&
			    add_sig(s, &s->st.l[i], dom, e) == -1)
				return -1;
		return 0;
	}
	if (add_exact(s, sender, dom, e) == -1 ||
	    add_exact(s, dom, dom, e) == -1)
		return -1;
	for (p = strchr(dom, '.'); p != NULL; p = strchr(p + 1, '.')) {
		snprintf(k, sizeof(k), "%s@%s", user, p);
		if (add_exact(s, k, dom, e) == -1)
			return -1;
	}
	for (p = strchr(dom, '.'); p != NULL; p = strchr(p + 1, '.'))
		if (add_exact(s, p, dom, e) == -1)
			return -1;
	snprintf(k, sizeof(k), "%s@*", user);
	if (add_exact(s, k, dom, e) == -1 || add_exact(s, "*", dom, e) == -1)
		return -1;
	return 0;
}
