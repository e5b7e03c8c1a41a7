/*
 * list_parse: list text to the image of list.h.  Entries are classified
 * and normalised into CIDR records, exact and suffix keys, and globs,
 * which are sorted (first in the file wins among equals) and laid out
 * as the compiled form; list.c either writes it or uses it in memory.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ip.h"
#include "list_impl.h"

/* A list being parsed. */
struct bcidr {
	uint8_t		net[16];
	uint32_t	len, val, seq;
};
struct bkey {
	const char	*k;		/* set once str stops moving */
	uint32_t	 key, val, seq;
};
struct build {
	char		*str;
	size_t		 nstr, capstr;
	struct bcidr	*cidr;
	size_t		 ncidr, capcidr;
	struct bkey	*keys;
	size_t		 nkeys, capkeys;
	struct rec_glob	*globs;
	size_t		 nglobs, capglobs;
	uint32_t	 lastval;	/* offset of the previous value */
	uint64_t	 count;
};

/* Grows an array to hold need elements; NULL (p untouched) on failure. */
static void *
grow(void *p, size_t *cap, size_t need, size_t sz)
{
	size_t ncap;

	if (need <= *cap)
		return p;
	ncap = *cap != 0 ? *cap : 64;
	while (ncap < need)
		ncap *= 2;
	if ((p = reallocarray(p, ncap, sz)) != NULL)
		*cap = ncap;
	return p;
}

/* Appends s[0..n) and a NUL to the string blob; offset or -1. */
static long
str_add(struct build *b, const char *s, size_t n)
{
	char *p;
	size_t off = b->nstr;

	if (n > UINT32_MAX / 2 || off > UINT32_MAX / 2)
		return -1;
	if ((p = grow(b->str, &b->capstr, off + n + 1, 1)) == NULL)
		return -1;
	b->str = p;
	memcpy(p + off, s, n);
	p[off + n] = '\0';
	b->nstr = off + n + 1;
	return (long)off;
}

static int
add_key(struct build *b, int kind, const char *s, uint32_t val,
    uint32_t seq, struct mgerr *e)
{
	struct bkey *k;
	char key[KEY_MAX];
	long off;
	int n;

	n = snprintf(key, sizeof(key), "%c%s", kind, s);
	if (n < 0 || (size_t)n >= sizeof(key) ||
	    (off = str_add(b, key, (size_t)n)) == -1 ||
	    (k = grow(b->keys, &b->capkeys, b->nkeys + 1, sizeof(*k))) == NULL) {
		mgerr_temp(e, "out of memory");
		return -1;
	}
	b->keys = k;
	k += b->nkeys++;
	k->k = NULL;
	k->key = (uint32_t)off;
	k->val = val;
	k->seq = seq;
	return 0;
}

static int
add_glob(struct build *b, int kind, const char *s, uint32_t val,
    struct mgerr *e)
{
	struct rec_glob *g;
	long off;

	if ((off = str_add(b, s, strlen(s))) == -1 ||
	    (g = grow(b->globs, &b->capglobs, b->nglobs + 1, sizeof(*g))) ==
	    NULL) {
		mgerr_temp(e, "out of memory");
		return -1;
	}
	b->globs = g;
	g += b->nglobs++;
	g->pat = (uint32_t)off;
	g->val = val;
	g->kind = (uint32_t)kind;
	return 0;
}

static int
add_cidr(struct build *b, const char *s, uint32_t val, uint32_t seq,
    struct mgerr *e)
{
	struct bcidr *c;
	struct cidr net;

	if (cidr_parse(s, &net, e) == -1)
		return -1;
	if ((c = grow(b->cidr, &b->capcidr, b->ncidr + 1, sizeof(*c))) ==
	    NULL) {
		mgerr_temp(e, "out of memory");
		return -1;
	}
	b->cidr = c;
	c += b->ncidr++;
	memcpy(c->net, net.net.b, sizeof(c->net));
	c->len = net.len;
	c->val = val;
	c->seq = seq;
	return 0;
}

static int
has_glob(const char *s)
{
	return strpbrk(s, GLOB_CHARS) != NULL;
}

/* 1 if s is a non-empty name without empty labels. */
static int
labels_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && s[0] != '.' && s[n - 1] != '.' &&
	    strstr(s, "..") == NULL;
}

/* Lower-cases s (ASCII only) and drops one trailing dot. */
static void
normalise(char *s)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++)
		if (s[n] >= 'A' && s[n] <= 'Z')
			s[n] = (char)(s[n] - 'A' + 'a');
	if (n > 1 && s[n - 1] == '.')
		s[n - 1] = '\0';
}

static int
add_host(struct build *b, char *s, uint32_t val, uint32_t seq,
    struct mgerr *e)
{
	const unsigned char *p;
	const char *rest = s;

	normalise(s);
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p >= 0x80) {
			mgerr_set(e, "bad host pattern: non-ASCII byte");
			return -1;
		}
	if (strncmp(s, "*.", 2) == 0)
		rest = s + 2;
	else if (s[0] == '.')
		rest = s + 1;
	if (has_glob(rest))
		return add_glob(b, KIND_HOST, s, val, e);
	if (!labels_ok(rest)) {
		mgerr_set(e, "bad host pattern: %s", s);
		return -1;
	}
	return add_key(b, KIND_HOST, s, val, seq, e);
}

/* Keys for the forms in list.h; anything else is a glob. */
static int
add_addr(struct build *b, char *s, uint32_t val, uint32_t seq,
    struct mgerr *e)
{
	char *at, *local, *dom;
	char key[KEY_MAX];

	normalise(s);
	if (strcmp(s, "<>") == 0)
		return add_key(b, KIND_ADDR, s, val, seq, e);
	at = strchr(s, '@');
	if (at == NULL || strchr(at + 1, '@') != NULL || at[1] == '\0' ||
	    strpbrk(s, "<>") != NULL) {
		mgerr_set(e, "bad address: %s", s);
		return -1;
	}
	*at = '\0';
	local = s;
	dom = at + 1;
	if ((strcmp(local, "") == 0 || strcmp(local, "*") == 0) &&
	    !has_glob(strncmp(dom, "*.", 2) == 0 ? dom + 2 : dom))
		snprintf(key, sizeof(key), "@%s", dom);
	else if (local[0] != '\0' && !has_glob(local) &&
	    strcmp(dom, "*") == 0)
		snprintf(key, sizeof(key), "%s@", local);
	else if (!has_glob(local) && !has_glob(dom))
		snprintf(key, sizeof(key), "%s@%s", local, dom);
	else {
		*at = '@';
		return add_glob(b, KIND_ADDR, s, val, e);
	}
	if (strcmp(dom, "*") != 0 &&
	    !labels_ok(strncmp(dom, "*.", 2) == 0 ? dom + 2 : dom)) {
		*at = '@';
		mgerr_set(e, "bad address: %s", s);
		return -1;
	}
	return add_key(b, KIND_ADDR, key, val, seq, e);
}

/* The value: up to a `#' after whitespace, trailing blanks dropped. */
static char *
value_of(char *p)
{
	char *q, *end;

	p += strspn(p, " \t");
	end = p;
	for (q = p; *q != '\0'; q++) {
		if (*q == '#' && (q == p || q[-1] == ' ' || q[-1] == '\t'))
			break;
		if (*q != ' ' && *q != '\t')
			end = q + 1;
	}
	*end = '\0';
	return p;
}

static int
parse_line(struct build *b, char *line, uint32_t seq, struct mgerr *e)
{
	char *ent, *val;
	size_t n;
	long off;

	ent = line + strspn(line, " \t");
	if (*ent == '\0' || *ent == '#')
		return 0;
	n = strcspn(ent, " \t");
	val = value_of(ent + n);
	ent[n] = '\0';
	if (n > LIST_ENTRY_MAX) {
		mgerr_set(e, "entry too long");
		return -1;
	}
	if (strcmp(b->str + b->lastval, val) != 0) {
		if ((off = str_add(b, val, strlen(val))) == -1) {
			mgerr_temp(e, "out of memory");
			return -1;
		}
		b->lastval = (uint32_t)off;
	}
	b->count++;
	if (strchr(ent, '@') != NULL || strcmp(ent, "<>") == 0)
		return add_addr(b, ent, b->lastval, seq, e);
	if (strpbrk(ent, "/:") != NULL || ent[strspn(ent, "0123456789.")] == '\0')
		return add_cidr(b, ent, b->lastval, seq, e);
	return add_host(b, ent, b->lastval, seq, e);
}

/* Checks one line, CR removed: NULL if it may be parsed, else why not. */
static const char *
line_error(const char *p, size_t n)
{
	size_t i;

	if (n > LIST_LINE_MAX)
		return "line too long";
	for (i = 0; i < n; i++) {
		if (p[i] == '\0')
			return "NUL byte in line";
		if (((unsigned char)p[i] < 0x20 && p[i] != '\t') ||
		    p[i] == 0x7f)
			return "control character in line";
	}
	return NULL;
}

/* Parses text (len bytes, NUL-terminated, modified in place) into b. */
static int
parse_text(struct build *b, char *text, size_t len, const char *path,
    struct mgerr *e)
{
	char *p, *end = text + len, *nl;
	const char *why;
	unsigned long lineno = 0;
	size_t n, m;

	for (p = text; p < end; p += n + 1) {
		lineno++;
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl != NULL ? nl : end) - p);
		p[n] = '\0';
		m = n;
		if (m > 0 && p[m - 1] == '\r')
			p[--m] = '\0';
		if ((why = line_error(p, m)) != NULL)
			mgerr_set(e, "%s", why);
		if (why != NULL || parse_line(b, p, (uint32_t)lineno, e) == -1) {
			mgerr_at(e, path, lineno);
			return -1;
		}
	}
	return 0;
}

static int
cmp_cidr(const void *a, const void *b)
{
	const struct bcidr *x = a, *y = b;
	int c;

	if (x->len != y->len)
		return x->len > y->len ? -1 : 1;
	if ((c = memcmp(x->net, y->net, sizeof(x->net))) != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int
cmp_key(const void *a, const void *b)
{
	const struct bkey *x = a, *y = b;
	int c;

	if ((c = strcmp(x->k, y->k)) != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Sorts CIDRs and keys; of equal entries only the first in the file stays. */
static void
build_sort(struct build *b)
{
	size_t i, n;

	if (b->ncidr > 0)
		qsort(b->cidr, b->ncidr, sizeof(*b->cidr), cmp_cidr);
	for (i = n = 0; i < b->ncidr; i++)
		if (n == 0 || b->cidr[i].len != b->cidr[n - 1].len ||
		    memcmp(b->cidr[i].net, b->cidr[n - 1].net, 16) != 0)
			b->cidr[n++] = b->cidr[i];
	b->ncidr = n;
	for (i = 0; i < b->nkeys; i++)
		b->keys[i].k = b->str + b->keys[i].key;
	if (b->nkeys > 0)
		qsort(b->keys, b->nkeys, sizeof(*b->keys), cmp_key);
	for (i = n = 0; i < b->nkeys; i++)
		if (n == 0 || strcmp(b->keys[i].k, b->keys[n - 1].k) != 0)
			b->keys[n++] = b->keys[i];
	b->nkeys = n;
}

/* Fills in the header of the image for b, built from the text src. */
static void
layout(struct list_hdr *h, const struct build *b, const struct list_hdr *src,
    size_t nlens)
{
	uint32_t off = sizeof(*h);

	memcpy(h->magic, LIST_MAGIC, sizeof(h->magic));
	h->version = LIST_VERSION;
	h->endian = LIST_ENDIAN;
	h->hdrsize = sizeof(*h);
	h->src_size = src->src_size;
	h->src_ino = src->src_ino;
	h->src_sec = src->src_sec;
	h->src_nsec = src->src_nsec;
	h->read_sec = src->read_sec;
	h->src_hash = src->src_hash;
	h->count = b->count;
	h->nlens = (uint32_t)nlens;
	h->lens_off = off;
	off += (uint32_t)(nlens * sizeof(struct rec_len));
	h->ncidr = (uint32_t)b->ncidr;
	h->cidr_off = off;
	off += (uint32_t)(b->ncidr * sizeof(struct rec_cidr));
	h->nkeys = (uint32_t)b->nkeys;
	h->keys_off = off;
	off += (uint32_t)(b->nkeys * sizeof(struct rec_key));
	h->nglobs = (uint32_t)b->nglobs;
	h->globs_off = off;
	off += (uint32_t)(b->nglobs * sizeof(struct rec_glob));
	h->str_len = (uint32_t)b->nstr;
	h->str_off = off;
	h->total = off + (uint64_t)b->nstr;
}

static void
fill(unsigned char *img, const struct list_hdr *h, const struct build *b)
{
	struct rec_len *rl = (void *)(img + h->lens_off);
	struct rec_cidr *rc = (void *)(img + h->cidr_off);
	struct rec_key *rk = (void *)(img + h->keys_off);
	size_t i, j = 0;

	for (i = 0; i < b->ncidr; i++) {
		if (i == 0 || b->cidr[i].len != b->cidr[i - 1].len) {
			rl[j].len = b->cidr[i].len;
			rl[j].start = (uint32_t)i;
			rl[j++].count = 0;
		}
		rl[j - 1].count++;
		memcpy(rc[i].net, b->cidr[i].net, sizeof(rc[i].net));
		rc[i].val = b->cidr[i].val;
	}
	for (i = 0; i < b->nkeys; i++) {
		rk[i].key = b->keys[i].key;
		rk[i].val = b->keys[i].val;
	}
	if (b->nglobs > 0)
		memcpy(img + h->globs_off, b->globs,
		    b->nglobs * sizeof(struct rec_glob));
	memcpy(img + h->str_off, b->str, b->nstr);
}

/* Lays out the image of list.h for b; NULL on failure. */
static void *
build_image(struct build *b, const char *path, const struct list_hdr *src,
    size_t *sizep, struct mgerr *e)
{
	unsigned char *img;
	uint64_t size;
	size_t i, nlens = 0;

	build_sort(b);
	for (i = 0; i < b->ncidr; i++)
		if (i == 0 || b->cidr[i].len != b->cidr[i - 1].len)
			nlens++;
	size = sizeof(struct list_hdr) + nlens * sizeof(struct rec_len) +
	    (uint64_t)b->ncidr * sizeof(struct rec_cidr) +
	    (uint64_t)b->nkeys * sizeof(struct rec_key) +
	    (uint64_t)b->nglobs * sizeof(struct rec_glob) + b->nstr;
	if (size > UINT32_MAX) {
		mgerr_set(e, "%s: list too large", path);
		return NULL;
	}
	if ((img = calloc(1, (size_t)size)) == NULL) {
		mgerr_temp(e, "out of memory");
		return NULL;
	}
	layout((struct list_hdr *)(void *)img, b, src, nlens);
	fill(img, (struct list_hdr *)(void *)img, b);
	*sizep = (size_t)size;
	return img;
}

void *
list_build(char *text, size_t len, const char *path,
    const struct list_hdr *src, size_t *size, struct mgerr *e)
{
	struct build b;
	void *img = NULL;

	memset(&b, 0, sizeof(b));
	if (str_add(&b, "", 0) == -1)
		mgerr_temp(e, "out of memory");
	else if (parse_text(&b, text, len, path, e) == 0)
		img = build_image(&b, path, src, size, e);
	free(b.str);
	free(b.cidr);
	free(b.keys);
	free(b.globs);
	return img;
}
