/*
 * Unit tests of dkcanon: known body hashes (RFC 6376), and agreement with
 * a slow line-by-line reference canonicalizer over random bodies fed in
 * random blocks.
 */
#include <openssl/evp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dkcanon.h"
#include "t.h"

static char *
b64(const unsigned char *md, unsigned n)
{
	static char out[128];

	EVP_EncodeBlock((unsigned char *)out, md, (int)n);
	return out;
}

/* The body hash of text fed in blocks of step bytes (0: one block). */
static char *
bh(const char *text, size_t n, int relaxed, int64_t limit, size_t step,
    uint64_t *len)
{
	unsigned char md[DKCANON_MDMAX];
	struct dkcanon *c;
	struct mgerr e;
	unsigned mdlen;
	size_t i, k;

	if ((c = dkcanon_new(relaxed, limit, "sha256", &e)) == NULL)
		return NULL;
	for (i = 0; i < n; i += k) {
		k = step == 0 ? n - i : step;
		if (k > n - i)
			k = n - i;
		dkcanon_update(c, text + i, k);
	}
	if (dkcanon_final(c, md, &mdlen, len, &e) == -1)
		mdlen = 0;
	dkcanon_free(c);
	return b64(md, mdlen);
}

/*
 * The reference: split into lines at LF (dropping a CR before it), apply
 * section 3.4.3 or 3.4.4 to each, drop trailing empty lines.
 */
static size_t
reference(const char *in, size_t n, int relaxed, char *out)
{
	size_t o = 0, keep = 0, i = 0, j, s, t;
	char line[4096];

	while (i < n) {
		for (j = i; j < n && in[j] != '\n'; j++)
			;
		s = j;
		if (j < n && s > i && in[s - 1] == '\r')
			s--;
		t = 0;
		for (; i < s; i++) {
			if (relaxed && (in[i] == ' ' || in[i] == '\t')) {
				if (t == 0 || line[t - 1] != ' ')
					line[t++] = ' ';
				continue;
			}
			line[t++] = in[i];
		}
		if (relaxed)
			while (t > 0 && line[t - 1] == ' ')
				t--;
		memcpy(out + o, line, t);
		o += t;
		memcpy(out + o, "\r\n", 2);
		o += 2;
		if (t > 0)
			keep = o;
		i = j + 1;
	}
	if (!relaxed && keep == 0) {
		memcpy(out, "\r\n", 2);
		return 2;
	}
	return keep;
}

static char *
sha(const char *p, size_t n)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen;

	EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL);
	return b64(md, mdlen);
}

static void
random_bodies(void)
{
	static const char alphabet[] = "ab \t\r\n\n";
	char in[600], ref[2000], want[64];
	size_t n, i, rn;
	uint64_t len;
	int round, relaxed, bad = 0;

	srand(4);
	for (round = 0; round < 4000; round++) {
		n = (size_t)rand() % sizeof(in);
		for (i = 0; i < n; i++)
			in[i] = alphabet[rand() % (sizeof(alphabet) - 1)];
		relaxed = round & 1;
		rn = reference(in, n, relaxed, ref);
		strlcpy(want, sha(ref, rn), sizeof(want));
		if (strcmp(bh(in, n, relaxed, -1, 0, &len), want) != 0 ||
		    strcmp(bh(in, n, relaxed, -1, 1 + (size_t)rand() % 7,
		    &len), want) != 0 || len != rn) {
			if (bad++ == 0)
				fprintf(stderr, "round %d differs\n", round);
			continue;
		}
		/* l=: the first half of the canonical body. */
		strlcpy(want, sha(ref, rn / 2), sizeof(want));
		if (strcmp(bh(in, n, relaxed, (int64_t)(rn / 2), 3, &len),
		    want) != 0 || len != rn)
			bad++;
	}
	T_INT(bad, 0);
}

int
main(void)
{
	static const char rfc[] = "Hi.\r\n\r\nWe lost the game. Are you "
	    "hungry yet?\r\n\r\nJoe.\r\n";
	static const char lf[] = "Hi.\n\nWe lost the game. Are you "
	    "hungry yet?\n\nJoe.\n\n\n";
	uint64_t len;
	struct mgerr e;

	/* RFC 6376 section 3.4.3/3.4.4 empty bodies, appendix A. */
	T_STR(bh("", 0, 0, -1, 0, &len),
	    "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=");
	T_INT(len, 2);
	T_STR(bh("", 0, 1, -1, 0, &len),
	    "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
	T_INT(len, 0);
	T_STR(bh(rfc, sizeof(rfc) - 1, 0, -1, 0, &len),
	    "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=");
	T_STR(bh(lf, sizeof(lf) - 1, 0, -1, 1, &len),
	    "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=");
	/* Section 3.4.4's example: "C \r\nD \t E\r\n\r\n\r\n". */
	T_STR(bh(" C \r\nD \t E\r\n\r\n\r\n", 17, 1, -1, 0, &len),
	    sha(" C\r\nD E\r\n", 9));
	/* No final line end: a CRLF is added; a bare CR is data. */
	T_STR(bh("last  line \t", 12, 1, -1, 0, &len),
	    sha("last line\r\n", 11));
	T_STR(bh("a\rb\r\r\n", 6, 0, -1, 2, &len), sha("a\rb\r\r\n", 6));
	T_STR(bh("x\r", 2, 0, -1, 0, &len), sha("x\r\r\n", 4));
	/* l= shorter than the body, and l=0. */
	T_STR(bh("abc\r\n", 5, 0, 2, 0, &len), sha("ab", 2));
	T_INT(len, 5);
	T_STR(bh("abc\r\n", 5, 1, 0, 0, &len), sha("", 0));
	T_OK(dkcanon_new(1, -1, "md5", &e) == NULL);
	random_bodies();
	return t_done("test_dkcanon");
}
