/*
 * dkcanon: DKIM body canonicalization and hash.  See dkcanon.h.
 *
 * One pass over the input with a small state machine that survives block
 * boundaries: runs of ordinary bytes are found 16 at a time (SSE2, else a
 * table) and copied in one piece into a 64 KB buffer, which goes to the
 * digest when full.
 */
#include <openssl/evp.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <stdlib.h>
#include <string.h>

#include "dkcanon.h"

#define OBUF	(64 * 1024)

struct dkcanon {
	EVP_MD_CTX	*md;
	int		 relaxed;
	int64_t		 limit;
	uint64_t	 hashed;	/* octets given to the digest */
	uint64_t	 total;		/* canonical length, past limit too */
	uint64_t	 blank;		/* empty lines held back */
	int		 has;		/* this line has content */
	int		 sp;		/* WSP held back (relaxed) */
	int		 cr;		/* CR held back: line end or data */
	const unsigned char *special;
	size_t		 on;
	char		 ob[OBUF];
};

/* Bytes that end a run: CR and LF; for relaxed also SP and HTAB. */
static unsigned char special_simple[256], special_relaxed[256];

static void
init_tables(void)
{
	special_simple['\r'] = special_simple['\n'] = 1;
	special_relaxed['\r'] = special_relaxed['\n'] = 1;
	special_relaxed[' '] = special_relaxed['\t'] = 1;
}

struct dkcanon *
dkcanon_new(int relaxed, int64_t limit, const char *hash, struct mgerr *e)
{
	const EVP_MD *md;
	struct dkcanon *c;

	if (!special_simple['\n'])
		init_tables();
	md = strcmp(hash, "sha1") == 0 ? EVP_sha1() :
	    strcmp(hash, "sha256") == 0 ? EVP_sha256() : NULL;
	if (md == NULL) {
		mgerr_set(e, "unknown hash %s", hash);
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(c->md, md, NULL) != 1) {
		dkcanon_free(c);
		mgerr_temp(e, "cannot start a %s digest", hash);
		return NULL;
	}
	c->relaxed = relaxed;
	c->limit = limit;
	c->special = relaxed ? special_relaxed : special_simple;
	return c;
}

void
dkcanon_free(struct dkcanon *c)
{
	if (c == NULL)
		return;
	EVP_MD_CTX_free(c->md);
	free(c);
}

static void
flush(struct dkcanon *c)
{
	if (c->on > 0)
		EVP_DigestUpdate(c->md, c->ob, c->on);
	c->on = 0;
}

/* Appends canonical octets, as many as the limit lets through. */
static void
emit(struct dkcanon *c, const char *p, size_t n)
{
	uint64_t room;

	c->total += n;
	if (c->limit >= 0) {
		room = (uint64_t)c->limit - c->hashed;
		if (n > room)
			n = (size_t)room;
	}
	c->hashed += n;
	if (c->on + n > OBUF) {
		flush(c);
		if (n > OBUF / 2) {
			EVP_DigestUpdate(c->md, p, n);
			return;
		}
	}
	memcpy(c->ob + c->on, p, n);
	c->on += n;
}

/* A line turns out to have content: the empty lines before it count. */
static void
content(struct dkcanon *c)
{
	if (c->has)
		return;
	c->has = 1;
	for (; c->blank > 0; c->blank--)
		emit(c, "\r\n", 2);
}

/* Section 3.4.4: a run of WSP inside a line is one SP. */
static void
pending_sp(struct dkcanon *c)
{
	if (c->sp) {
		emit(c, " ", 1);
		c->sp = 0;
	}
}

/* A held-back CR that no LF followed is data. */
static void
cr_data(struct dkcanon *c)
{
	content(c);
	pending_sp(c);
	emit(c, "\r", 1);
	c->cr = 0;
}

/* LF, after CR or not: the line ends, its trailing WSP dropped. */
static void
line_end(struct dkcanon *c)
{
	c->cr = 0;
	c->sp = 0;
	if (c->has) {
		emit(c, "\r\n", 2);
		c->has = 0;
	} else
		c->blank++;
}

/* The end of the run of ordinary bytes that starts at s. */
static const unsigned char *
run_end(const struct dkcanon *c, const unsigned char *s,
    const unsigned char *end)
{
#ifdef __SSE2__
	const __m128i cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n');
	const __m128i sp = _mm_set1_epi8(' '), ht = _mm_set1_epi8('\t');
	__m128i v, hit;
	int bits;

	for (; end - s >= 16; s += 16) {
		v = _mm_loadu_si128((const __m128i *)(const void *)s);
		hit = _mm_or_si128(_mm_cmpeq_epi8(v, cr),
		    _mm_cmpeq_epi8(v, lf));
		if (c->relaxed)
			hit = _mm_or_si128(hit, _mm_or_si128(
			    _mm_cmpeq_epi8(v, sp), _mm_cmpeq_epi8(v, ht)));
		if ((bits = _mm_movemask_epi8(hit)) != 0)
			return s + __builtin_ctz((unsigned)bits);
	}
#endif
	while (s < end && !c->special[*s])
		s++;
	return s;
}

void
dkcanon_update(struct dkcanon *c, const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p, *end = s + n, *q;

	while (s < end) {
		if (*s == '\n') {
			line_end(c);
			s++;
			continue;
		}
		if (c->cr)
			cr_data(c);
		if (*s == '\r') {
			c->cr = 1;
			s++;
			continue;
		}
		if (*s == ' ' || *s == '\t') {
			if (c->relaxed) {
				c->sp = 1;
				s++;
				continue;
			}
		}
		q = run_end(c, s + 1, end);
		content(c);
		pending_sp(c);
		emit(c, (const char *)s, (size_t)(q - s));
		s = q;
	}
}

int
dkcanon_final(struct dkcanon *c, unsigned char *md, unsigned *mdlen,
    uint64_t *len, struct mgerr *e)
{
	if (c->cr)
		cr_data(c);
	if (c->has)
		emit(c, "\r\n", 2);
	c->has = 0;
	c->blank = 0;
	if (!c->relaxed && c->total == 0)
		emit(c, "\r\n", 2);
	flush(c);
	*len = c->total;
	if (EVP_DigestFinal_ex(c->md, md, mdlen) != 1) {
		mgerr_temp(e, "cannot finish the body digest");
		return -1;
	}
	return 0;
}
