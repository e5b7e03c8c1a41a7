/*
 * prvs: the tag of draft-levine-smtp-batv-01 section 4.1, as Exim's
 * ${prvs} and ${prvscheck} write and read it.
 *
 *	prvs=KDDDSSSSSS=local@domain
 *
 * K is the key number, DDD the last three digits of the day number
 * (days since 1970-01-01 UTC) on which the tag expires, SSSSSS the first
 * three bytes, in hex, of HMAC-SHA1 keyed with the secret over the text
 * "KDDD" followed by local@domain exactly as the tag carries it: Exim
 * changes the case of neither part, so neither may this code.  The
 * secret is used as its bytes, which is how Exim uses the string it is
 * given.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "batv.h"

int
prvs_day(time_t t)
{
	long long d;

	d = (long long)t / 86400;
	if ((long long)t < 0 && (long long)t % 86400 != 0)
		d--;
	d %= PRVS_DAYS;
	if (d < 0)
		d += PRVS_DAYS;
	return (int)d;
}

int
prvs_mac(const char *secret, size_t seclen, int keynum, int day,
    const char *plain, char out[7])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char src[4 + sizeof(((struct prvs *)0)->plain)];
	int n, i;

	if (keynum < 0 || keynum > 9 || day < 0 || day >= PRVS_DAYS ||
	    seclen == 0 || seclen > PRVS_SECRET_MAX)
		return -1;
	n = snprintf(src, sizeof(src), "%d%03d%s", keynum, day, plain);
	if (n < 0 || (size_t)n >= sizeof(src))
		return -1;
	if (HMAC(EVP_sha1(), secret, (int)seclen, (const unsigned char *)src,
	    (size_t)n, md, &mdlen) == NULL || mdlen < 3)
		return -1;
	for (i = 0; i < 3; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	out[6] = '\0';
	return 0;
}

/* Reads K DDD SSSSSS from s (exactly PRVS_TAGLEN bytes). */
static int
parse_tagval(const char *s, struct prvs *p)
{
	int i;

	for (i = 0; i < 4; i++)
		if (!isdigit((unsigned char)s[i]))
			return -1;
	for (i = 4; i < PRVS_TAGLEN; i++)
		if (!isxdigit((unsigned char)s[i]))
			return -1;
	p->keynum = s[0] - '0';
	p->day = (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	memcpy(p->hash, s + 4, 6);
	p->hash[6] = '\0';
	return 0;
}

/* prvs=KDDDSSSSSS=core@domain; the tag type is case-insensitive. */
static int
parse_std(const char *addr, const char *at, struct prvs *p)
{
	size_t pl = sizeof(PRVS_PREFIX) - 1;
	const char *core;

	if ((size_t)(at - addr) <= pl + PRVS_TAGLEN + 1 ||
	    strncasecmp(addr, PRVS_PREFIX, pl) != 0 ||
	    addr[pl + PRVS_TAGLEN] != '=')
		return 0;
	if (parse_tagval(addr + pl, p) == -1)
		return 0;
	core = addr + pl + PRVS_TAGLEN + 1;
	if (strlcpy(p->plain, core, sizeof(p->plain)) >= sizeof(p->plain))
		return 0;
	p->form = PRVS_STD;
	return 1;
}

/* user+prvs=KDDDSSSSSS@domain or user-prvs=...: the sub-address form. */
static int
parse_sub(const char *addr, const char *at, struct prvs *p)
{
	size_t pl = sizeof(PRVS_PREFIX) - 1, taglen = 1 + pl + PRVS_TAGLEN;
	size_t ulen;
	const char *t;

	if ((size_t)(at - addr) <= taglen)
		return 0;
	t = at - taglen;
	ulen = (size_t)(t - addr);
	if ((*t != '+' && *t != '-') ||
	    strncasecmp(t + 1, PRVS_PREFIX, pl) != 0 ||
	    parse_tagval(t + 1 + pl, p) == -1)
		return 0;
	if (ulen + strlen(at) >= sizeof(p->plain))
		return 0;
	memcpy(p->plain, addr, ulen);
	strlcpy(p->plain + ulen, at, sizeof(p->plain) - ulen);
	p->form = PRVS_SUB;
	return 1;
}

int
prvs_parse(const char *addr, struct prvs *p)
{
	const char *at;

	memset(p, 0, sizeof(*p));
	p->form = PRVS_NONE;
	strlcpy(p->plain, addr, sizeof(p->plain));
	if ((at = strrchr(addr, '@')) == NULL || at == addr || at[1] == '\0')
		return 0;
	if (parse_std(addr, at, p) || parse_sub(addr, at, p))
		return 1;
	memset(p, 0, sizeof(*p));
	strlcpy(p->plain, addr, sizeof(p->plain));
	return 0;
}

int
prvs_hash_eq(const char *a, const char *b)
{
	unsigned diff = 0;
	int i;

	for (i = 0; i < 6; i++) {
		if (a[i] == '\0' || b[i] == '\0')
			return 0;
		diff |= (unsigned)(tolower((unsigned char)a[i]) ^
		    tolower((unsigned char)b[i]));
	}
	return diff == 0;
}
