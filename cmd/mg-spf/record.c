/*
 * The syntax of a record, checked before libspf2 compiles it: libspf2
 * accepts some records RFC 7208 section 12 forbids (an unknown
 * mechanism's neighbours, a second redirect, a bad domain-end,
 * non-ASCII bytes) and the result must be permerror (section 4.6).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>

#include "spf.h"

#define TERM_MAX	1024

static int
fail(char *why, size_t len, const char *term, const char *what)
{
	snprintf(why, len, "%.60s: %s", term, what);
	return -1;
}

/*
 * Section 7.1: macro-string = *( macro-expand / macro-literal ).  c, r
 * and t are for exp= text only (section 7.3).  Returns the index after
 * the last macro-expand, so domain-end can be told, or -1.
 */
static int
macro_string(const char *s, size_t n, int *last_expand)
{
	size_t i = 0;
	const char *letters = "slodiphv";

	*last_expand = 0;
	while (i < n) {
		if (s[i] != '%') {
			if ((unsigned char)s[i] < 0x21 ||
			    (unsigned char)s[i] > 0x7e)
				return -1;
			i++;
			*last_expand = 0;
			continue;
		}
		if (i + 1 >= n)
			return -1;
		if (s[i + 1] == '%' || s[i + 1] == '_' || s[i + 1] == '-') {
			i += 2;
			*last_expand = 0;
			continue;
		}
		if (s[i + 1] != '{' || i + 2 >= n ||
		    strchr(letters, tolower((unsigned char)s[i + 2])) == NULL)
			return -1;
		i += 3;
		while (i < n && isdigit((unsigned char)s[i]))
			i++;
		if (i < n && (s[i] == 'r' || s[i] == 'R'))
			i++;
		while (i < n && strchr(".-+,/_=", s[i]) != NULL)
			i++;
		if (i >= n || s[i] != '}')
			return -1;
		i++;
		*last_expand = 1;
	}
	return 0;
}

/* Section 7.1: toplabel, with or without the final dot. */
static int
toplabel_ok(const char *s, size_t n)
{
	size_t i, start;
	int alpha = 0;

	if (n > 0 && s[n - 1] == '.')
		n--;
	for (start = n; start > 0 && s[start - 1] != '.'; start--)
		;
	if (start == 0 || start == n)	/* needs "." toplabel */
		return 0;
	if (s[start] == '-' || s[n - 1] == '-')
		return 0;
	for (i = start; i < n; i++) {
		if (isalpha((unsigned char)s[i]))
			alpha = 1;
		else if (!isdigit((unsigned char)s[i]) && s[i] != '-')
			return 0;
	}
	/* All digits is no toplabel; a hyphen makes one of digits. */
	return alpha || memchr(s + start, '-', n - start) != NULL;
}

static int
domain_spec(const char *s, size_t n)
{
	int expand;

	if (n == 0 || macro_string(s, n, &expand) == -1)
		return -1;
	return expand || toplabel_ok(s, n) ? 0 : -1;
}

/* "/N" with no leading zero, at most max; returns chars used, or -1. */
static int
cidr_len(const char *s, size_t n, int max)
{
	size_t i = 1;
	int v = 0;

	if (n < 2 || s[0] != '/' || !isdigit((unsigned char)s[1]) ||
	    (s[1] == '0' && n > 2 && isdigit((unsigned char)s[2])))
		return -1;
	while (i < n && isdigit((unsigned char)s[i]) && i < 5)
		v = v * 10 + (s[i++] - '0');
	return v > max ? -1 : (int)i;
}

/* a and mx: [":" domain-spec] [ip4-cidr] ["/" ip6-cidr] (section 5.3). */
static int
host_arg(const char *s, size_t n, int need_domain)
{
	size_t dn = n, i;
	int k;

	/* The CIDR part is a final "/digits" or "//digits" pair. */
	for (i = 0; i < n; i++)
		if (s[i] == '/' && strspn(s + i, "/0123456789") == n - i) {
			dn = i;
			break;
		}
	if (dn > 0 || need_domain) {
		if (dn == 0 || s[0] != ':' || domain_spec(s + 1, dn - 1) == -1)
			return -1;
	}
	i = dn;
	if (i < n && s[i] == '/' && (i + 1 >= n || s[i + 1] != '/')) {
		if ((k = cidr_len(s + i, n - i, 32)) == -1)
			return -1;
		i += (size_t)k;
	}
	if (i < n) {
		if (s[i] != '/' || (k = cidr_len(s + i + 1, n - i - 1, 128)) ==
		    -1)
			return -1;
		i += 1 + (size_t)k;
	}
	return i == n ? 0 : -1;
}

static int
ip_arg(const char *s, size_t n, int v6)
{
	char addr[64];
	unsigned char buf[16];
	size_t an;
	const char *slash;

	if (n < 2 || s[0] != ':')
		return -1;
	s++, n--;
	slash = memchr(s, '/', n);
	an = slash ? (size_t)(slash - s) : n;
	if (an == 0 || an >= sizeof(addr))
		return -1;
	memcpy(addr, s, an);
	addr[an] = '\0';
	if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, buf) != 1)
		return -1;
	if (slash == NULL)
		return 0;
	return cidr_len(slash, n - an, v6 ? 128 : 32) == (int)(n - an) ?
	    0 : -1;
}

/* One mechanism (section 5) without its qualifier. */
static int
mechanism(const char *t, size_t n)
{
	size_t nl = strcspn(t, ":/");
	const char *arg = t + (nl < n ? nl : n);
	size_t an = n - (size_t)(arg - t);

	if (nl > n)
		nl = n;
#define IS(w) (nl == sizeof(w) - 1 && strncasecmp(t, w, nl) == 0)
	if (IS("all"))
		return an == 0 ? 0 : -1;
	if (IS("include") || IS("exists"))
		return an > 1 && arg[0] == ':' &&
		    domain_spec(arg + 1, an - 1) == 0 ? 0 : -1;
	if (IS("a") || IS("mx"))
		return host_arg(arg, an, 0);
	if (IS("ptr"))
		return an == 0 || (arg[0] == ':' &&
		    domain_spec(arg + 1, an - 1) == 0) ? 0 : -1;
	if (IS("ip4"))
		return ip_arg(arg, an, 0);
	if (IS("ip6"))
		return ip_arg(arg, an, 1);
#undef IS
	return -1;
}

/* One term; counts redirect= and exp= so a second one fails. */
static int
term(const char *t, size_t n, int *redirects, int *exps, char *why,
    size_t wl)
{
	char copy[TERM_MAX];
	size_t nl;
	int expand;

	snprintf(copy, sizeof(copy), "%.*s", (int)(n < TERM_MAX ? n :
	    TERM_MAX - 1), t);
	nl = strcspn(t, "=:/");
	if (nl < n && t[nl] == '=') {
		/* Section 6: name = ALPHA *( ALPHA / DIGIT / - / _ / . ). */
		size_t i;

		if (nl == 0 || !isalpha((unsigned char)t[0]))
			return fail(why, wl, copy, "bad modifier name");
		for (i = 1; i < nl; i++)
			if (!isalnum((unsigned char)t[i]) &&
			    strchr("-_.", t[i]) == NULL)
				return fail(why, wl, copy, "bad modifier name");
		if ((nl == 8 && strncasecmp(t, "redirect", 8) == 0 &&
		    ++*redirects > 1) || (nl == 3 &&
		    strncasecmp(t, "exp", 3) == 0 && ++*exps > 1))
			return fail(why, wl, copy, "modifier given twice");
		if ((nl == 8 && strncasecmp(t, "redirect", 8) == 0) ||
		    (nl == 3 && strncasecmp(t, "exp", 3) == 0))
			return domain_spec(t + nl + 1, n - nl - 1) == 0 ? 0 :
			    fail(why, wl, copy, "bad domain-spec");
		return macro_string(t + nl + 1, n - nl - 1, &expand) == 0 ?
		    0 : fail(why, wl, copy, "bad macro-string");
	}
	if (strchr("+-?~", t[0]) != NULL)
		t++, n--;
	if (n == 0 || mechanism(t, n) == -1)
		return fail(why, wl, copy, "unknown or malformed mechanism");
	return 0;
}

/*
 * Checks a record that begins "v=spf1" against section 12.  0, or -1
 * with why saying which term is wrong.
 */
int
record_check(const char *text, char *why, size_t whylen)
{
	const char *p, *t;
	int redirects = 0, exps = 0;
	size_t n;

	for (p = text; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80 || (*p < ' ' && *p != '\t')) {
			snprintf(why, whylen, "non-ASCII byte in the record");
			return -1;
		}
	p = text + 6;	/* past "v=spf1" */
	while (*p != '\0') {
		if (*p != ' ') {
			snprintf(why, whylen, "terms must be separated by spaces");
			return -1;
		}
		p += strspn(p, " ");
		if (*p == '\0')
			break;
		t = p;
		n = strcspn(t, " ");
		if (term(t, n, &redirects, &exps, why, whylen) == -1)
			return -1;
		p = t + n;
	}
	return 0;
}

/* Appends term to out with a space before it; -1 when it does not fit. */
static int
emit(char *out, size_t outlen, const char *term, size_t n)
{
	size_t len = strlen(out);

	if (len + n + 2 > outlen)
		return -1;
	out[len++] = ' ';
	memcpy(out + len, term, n);
	out[len + n] = '\0';
	return 0;
}

/*
 * A mechanism with a CIDR length of 0 for the client's family: libspf2
 * reads /0 as "no length".  "a:D/0" matches any client when D has an
 * address, so it becomes "a:D.CIDR0_SUFFIX/32", and the DNS layer
 * answers that name with the client's own address when D has any; "mx"
 * likewise.  ip4:N/0 and ip6:N/0 become "all" for that family, or go.
 * Returns 1 when rewritten into buf, 0 when t is left alone, -1 to drop.
 */
static int
cidr0(const char *t, size_t n, int v4, char *buf, size_t len)
{
	const char *q = strchr("+-?~", t[0]) ? t : NULL, *m = q ? t + 1 : t;
	const char *slash, *d6;
	size_t mn = strcspn(m, ":/"), dn;
	int is_a = mn == 1 && strncasecmp(m, "a", 1) == 0;
	int is_mx = mn == 2 && strncasecmp(m, "mx", 2) == 0;
	int zero;

	if ((slash = memchr(m, '/', n - (size_t)(m - t))) == NULL)
		return 0;
	if (mn == 3 && (strncasecmp(m, "ip4", 3) == 0 ||
	    strncasecmp(m, "ip6", 3) == 0)) {
		if (slash[1] != '0' || slash + 2 != t + n)
			return 0;
		if ((m[2] == '4') != (v4 != 0))
			return -1;	/* never matches this client */
		snprintf(buf, len, "%.*sall", q ? 1 : 0, t);
		return 1;
	}
	if (!is_a && !is_mx)
		return 0;
	d6 = strstr(slash, "//");
	if (d6 != NULL && d6 >= t + n)
		d6 = NULL;
	if (v4)
		zero = slash != d6 && slash[1] == '0' && (slash + 2 == t + n ||
		    slash + 2 == d6);
	else
		zero = d6 != NULL && d6[2] == '0' && d6 + 3 == t + n;
	if (!zero) {
		/* A /0 for the other family only: drop that length. */
		if (v4 && d6 != NULL && d6[2] == '0' && d6 + 3 == t + n) {
			snprintf(buf, len, "%.*s", (int)(d6 - t), t);
			return 1;
		}
		if (!v4 && slash != d6 && slash[1] == '0' &&
		    (slash + 2 == t + n || slash + 2 == d6)) {
			snprintf(buf, len, "%.*s%s", (int)(slash - t), t,
			    d6 != NULL ? d6 : "");
			return 1;
		}
		return 0;
	}
	dn = (size_t)(slash - m);
	if (mn == dn)		/* no domain-spec: the current domain */
		snprintf(buf, len, "%.*s%.*s:%%{d}%s%s", q ? 1 : 0, t,
		    (int)mn, m, CIDR0_SUFFIX, v4 ? "/32" : "//128");
	else {
		if (m[dn - 1] == '.')
			dn--;
		snprintf(buf, len, "%.*s%.*s%s%s", q ? 1 : 0, t, (int)dn, m,
		    CIDR0_SUFFIX, v4 ? "/32" : "//128");
	}
	return 1;
}

/* Notes in map the mechanism term t (n bytes) just emitted to out. */
static void
map_add(struct record_map *map, const char *out, const char *t, size_t n)
{
	const char *last;

	if (map == NULL)
		return;
	if (map->n >= RECORD_MAP_MAX) {
		map->full = 1;
		return;
	}
	last = strrchr(out, ' ') + 1;
	map->t[map->n].orig = t;
	map->t[map->n].olen = n;
	map->t[map->n].lib = (size_t)(last - out);
	map->t[map->n].llen = strlen(last);
	map->n++;
}

/*
 * Rewrites a checked record for libspf2's compiler: unknown modifiers
 * go (section 6: they are ignored, libspf2 rejects some), redirect=
 * goes after every mechanism (section 6.1: it applies only when none
 * matched) and goes altogether when there is an "all" (section 5.1),
 * and CIDR lengths of 0 are rewritten (cidr0 above).  map, unless NULL,
 * gets each mechanism (and the redirect) in the order libspf2 compiles
 * them, as text gave it and as out holds it.  0, or -1 when the result
 * does not fit.
 */
int
record_rewrite(const char *text, int v4, char *out, size_t outlen,
    struct record_map *map)
{
	char buf[TERM_MAX + 64];
	const char *p, *t, *redirect = NULL;
	size_t n, rn = 0, nl;
	int has_all = 0, pass, rc;

	if (map != NULL)
		map->n = map->full = 0;
	strlcpy(out, "v=spf1", outlen);
	for (pass = 0; pass < 2; pass++)
		for (p = text + 6; *(p += strspn(p, " ")) != '\0'; p = t + n) {
			t = p;
			n = strcspn(t, " ");
			nl = strcspn(t, "=:/");
			if (nl < n && t[nl] == '=') {
				if (nl == 8 && strncasecmp(t, "redirect", 8) == 0)
					redirect = t, rn = n;
				else if (pass == 1 && nl == 3 &&
				    strncasecmp(t, "exp", 3) == 0 &&
				    emit(out, outlen, t, n) == -1)
					return -1;
				continue;
			}
			if (pass == 0) {
				if (strncasecmp(t + (strchr("+-?~", t[0]) !=
				    NULL), "all", 3) == 0)
					has_all = 1;
				continue;
			}
			rc = n < TERM_MAX ? cidr0(t, n, v4, buf, sizeof(buf)) : 0;
			if (rc == 1 && emit(out, outlen, buf, strlen(buf)) == -1)
				return -1;
			if (rc == 0 && emit(out, outlen, t, n) == -1)
				return -1;
			if (rc != -1)
				map_add(map, out, t, n);
		}
	if (redirect != NULL && !has_all) {
		if (emit(out, outlen, redirect, rn) == -1)
			return -1;
		map_add(map, out, redirect, rn);
	}
	return 0;
}
