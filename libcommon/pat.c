/*
 * pat: host-name and address patterns.  See pat.h for the contract.
 *
 * Matching is case-insensitive for ASCII: both sides are lower-cased into
 * bounded copies first, which works with any fnmatch(3) (FNM_CASEFOLD is
 * a GNU extension).  Text too long for the copies never matches.
 */
#include <fnmatch.h>
#include <string.h>
#include <strings.h>

#include "pat.h"

/*
 * Room for a host name (RFC 1035 section 2.3.4: 255 octets) or a path
 * (RFC 5321 section 4.5.3.1.3: 256 octets), with margin for patterns.
 */
#define PAT_MAX		1024

#define GLOB_CHARS	"*?[\\"

/*
 * Copies s lower-cased into buf (PAT_MAX bytes), dropping one trailing
 * dot if trimdot.  Returns -1 when s does not fit.
 */
static int
lower(const char *s, char *buf, int trimdot)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i + 1 >= PAT_MAX)
			return -1;
		buf[i] = (s[i] >= 'A' && s[i] <= 'Z') ?
		    (char)(s[i] - 'A' + 'a') : s[i];
	}
	if (trimdot && i > 0 && buf[i - 1] == '.')
		i--;
	buf[i] = '\0';
	return 0;
}

static int
has_glob(const char *s)
{
	return strpbrk(s, GLOB_CHARS) != NULL;
}

/* 1 if the host pattern p needs fnmatch, after its "*." form. */
static int
host_is_glob(const char *p)
{
	if (strncmp(p, "*.", 2) == 0)
		p += 2;
	return has_glob(p);
}

/* 1 if name ends with "." suffix, with at least one octet before it. */
static int
below(const char *name, const char *suffix)
{
	size_t n = strlen(name), s = strlen(suffix);

	return n > s + 1 && name[n - s - 1] == '.' &&
	    strcmp(name + n - s, suffix) == 0;
}

int
pat_match_host(const char *pat, const char *name)
{
	char p[PAT_MAX], n[PAT_MAX];

	if (lower(pat, p, 1) == -1 || lower(name, n, 1) == -1)
		return 0;
	if (p[0] == '\0')
		return 0;
	if (host_is_glob(p))
		return fnmatch(p, n, 0) == 0;
	if (p[0] == '*')
		return below(n, p + 2);
	if (p[0] == '.')
		return strcmp(n, p + 1) == 0 || below(n, p + 1);
	return strcmp(p, n) == 0;
}

int
pat_is_glob(const char *pat)
{
	const char *at = strrchr(pat, '@');
	size_t llen;

	if (at == NULL)
		return host_is_glob(pat);
	/* Address forms: "@dom", "*@dom", "user@*", "*@*.dom". */
	llen = (size_t)(at - pat);
	if (!(llen == 0 || (llen == 1 && pat[0] == '*')) &&
	    strcspn(pat, GLOB_CHARS) < llen)
		return 1;
	return strcmp(at + 1, "*") != 0 && host_is_glob(at + 1);
}

int
pat_match_addr(const char *pat, const char *addr)
{
	char p[PAT_MAX], a[PAT_MAX];
	const char *pat_at, *addr_at, *adom;
	size_t plen, alen;

	/* The null reverse-path matches "<>" and nothing else. */
	if (addr[0] == '\0' || strcmp(pat, "<>") == 0)
		return addr[0] == '\0' && strcmp(pat, "<>") == 0;
	if (pat[0] == '\0')
		return 0;
	pat_at = strrchr(pat, '@');
	if (pat_at == NULL || pat_is_glob(pat)) {
		if (lower(pat, p, 0) == -1 || lower(addr, a, 0) == -1)
			return 0;
		return fnmatch(p, a, 0) == 0;
	}
	/* Domains hold no '@', so the last one ends the local part. */
	addr_at = strrchr(addr, '@');
	alen = addr_at != NULL ? (size_t)(addr_at - addr) : strlen(addr);
	adom = addr_at != NULL ? addr_at + 1 : "";
	plen = (size_t)(pat_at - pat);
	if (!(plen == 0 || (plen == 1 && pat[0] == '*')) &&
	    (plen != alen || strncasecmp(pat, addr, plen) != 0))
		return 0;
	return pat_match_host(pat_at + 1, adom);
}
