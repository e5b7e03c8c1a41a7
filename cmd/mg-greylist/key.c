/*
 * The greylisting key: the client's network, the normalised sender and
 * the recipient.  Senders are normalised so that one correspondent keeps
 * one key although each message carries a fresh BATV tag, SRS hash or
 * VERP number.
 */
#include <ctype.h>
#include <sha2.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "greylist.h"

/* Bytes kept in a key part: printable ASCII but space and '|'. */
static void
clean(char *s)
{
	unsigned char *p;

	for (p = (unsigned char *)s; *p != '\0'; p++)
		if (*p <= ' ' || *p >= 0x7f)
			*p = '?';
}

static int
is_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/*
 * A BATV tag-val, "KDDDSSSSSS" (draft-levine-smtp-batv-01 section 4.1):
 * a key digit, three digits of day and six hex digits of hash.
 */
static int
is_prvs_tag(const char *s, size_t n)
{
	return n == 10 && isdigit((unsigned char)s[0]) &&
	    isdigit((unsigned char)s[1]) && isdigit((unsigned char)s[2]) &&
	    isdigit((unsigned char)s[3]) && is_hex(s + 4, 6);
}

/* Removes "prvs=TAG=" at the front and "+prvs=TAG" at the end. */
static void
strip_prvs(char *local)
{
	char *p;
	size_t n;

	if (strncasecmp(local, "prvs=", 5) == 0 &&
	    (p = strchr(local + 5, '=')) != NULL &&
	    is_prvs_tag(local + 5, (size_t)(p - local - 5)))
		memmove(local, p + 1, strlen(p + 1) + 1);
	n = strlen(local);
	if (n > 16 && strncasecmp(local + n - 16, "+prvs=", 6) == 0 &&
	    is_prvs_tag(local + n - 10, 10))
		local[n - 16] = '\0';
}

/*
 * SRS0=HHHH=TT=domain=local and SRS1=HHHH=fwd==HHHH=TT=domain=local:
 * the hashes and the timestamp change per message.  Every field that
 * sits between '=' signs and is made of letters and digits only up to
 * the original domain becomes '#'; the digit rule below does the rest.
 */
static void
norm_srs(char *local)
{
	char *p, *q;
	int i;

	if (strncasecmp(local, "SRS0=", 5) != 0 &&
	    strncasecmp(local, "SRS1=", 5) != 0)
		return;
	p = local + 5;
	for (i = 0; i < 2 && (q = strchr(p, '=')) != NULL; i++) {
		if (q - p > 0 && q - p <= 8) {
			memmove(p + 1, q, strlen(q) + 1);
			*p = '#';
			q = p + 1;
		}
		p = q + 1;
		if (*p == '=')
			p++;
	}
}

/* Replaces each run of digits with one '#' (VERP and ticket numbers). */
static void
squash_digits(char *s)
{
	char *r, *w;
	int in_run = 0;

	for (r = w = s; *r != '\0'; r++) {
		if (isdigit((unsigned char)*r)) {
			if (!in_run)
				*w++ = '#';
			in_run = 1;
			continue;
		}
		in_run = 0;
		*w++ = *r;
	}
	*w = '\0';
}

static void
lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

/*
 * Splits an address into local part and lower-cased domain.  What
 * addr_parse refuses is kept raw, split at its last '@', so a hostile
 * address still has a key.
 */
static void
split(const char *in, char *local, size_t llen, char *dom, size_t dlen)
{
	struct mailaddr a;
	struct mgerr e;
	const char *at;

	if (addr_parse(in, &a, &e) == 0) {
		strlcpy(local, a.local, llen);
		strlcpy(dom, a.domain, dlen);
		return;
	}
	if ((at = strrchr(in, '@')) == NULL) {
		strlcpy(local, in, llen);
		dom[0] = '\0';
		return;
	}
	snprintf(local, llen, "%.*s", (int)(at - in), in);
	strlcpy(dom, at + 1, dlen);
	lower(dom);
}

static void
join(char *out, size_t len, const char *local, const char *dom)
{
	if (dom[0] != '\0')
		snprintf(out, len, "%s@%s", local, dom);
	else
		strlcpy(out, local, len);
	clean(out);
}

void
sender_norm(const char *from, char *out, size_t len)
{
	char local[ADDR_PATH_MAX * 2], dom[ADDR_PATH_MAX * 2];

	if (from == NULL || from[0] == '\0' || strcmp(from, "<>") == 0) {
		strlcpy(out, "<>", len);
		return;
	}
	split(from, local, sizeof(local), dom, sizeof(dom));
	strip_prvs(local);
	norm_srs(local);
	squash_digits(local);
	join(out, len, local, dom);
}

void
rcpt_norm(const char *rcpt, char *out, size_t len)
{
	char local[ADDR_PATH_MAX * 2], dom[ADDR_PATH_MAX * 2];

	split(rcpt != NULL ? rcpt : "", local, sizeof(local), dom,
	    sizeof(dom));
	join(out, len, local, dom);
}

const char *
norm_domain(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at != NULL ? at + 1 : "";
}

/* Skips blanks and RFC 5322 comments (CFWS, RFC 8601 section 2.2). */
static const char *
skip_cfws(const char *p)
{
	int depth;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p != '(')
			return p;
		for (depth = 0; *p != '\0'; p++) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '(')
				depth++;
			else if (*p == ')' && --depth == 0) {
				p++;
				break;
			}
		}
	}
}

/* Copies a value (token or quoted-string) into out. */
static void
take_value(const char *p, char *out, size_t len)
{
	size_t n = 0;
	int q = *p == '"';

	if (q)
		p++;
	for (; *p != '\0' && n + 1 < len; p++) {
		if (q && *p == '"')
			break;
		if (!q && (*p == ';' || *p == ' ' || *p == '\t' ||
		    *p == '(' || *p == '\r' || *p == '\n'))
			break;
		if (q && *p == '\\' && p[1] != '\0')
			p++;
		out[n++] = *p;
	}
	out[n] = '\0';
}

/*
 * Looks through one resinfo (RFC 8601 section 2.2, "method=result
 * [reason] *propspec") for spf=pass and its smtp.mailfrom.
 */
static int
resinfo_spf(const char *p, const char *end, char *out, size_t len)
{
	char val[ADDR_PATH_MAX * 2];
	const char *at;

	p = skip_cfws(p);
	if (strncasecmp(p, "spf", 3) != 0)
		return 0;
	p = skip_cfws(p + 3);
	if (*p != '=')
		return 0;
	p = skip_cfws(p + 1);
	if (strncasecmp(p, "pass", 4) != 0 || isalnum((unsigned char)p[4]))
		return 0;
	for (; p < end; p++) {
		if (strncasecmp(p, "smtp.mailfrom", 13) != 0)
			continue;
		p = skip_cfws(p + 13);
		if (*p != '=')
			continue;
		take_value(skip_cfws(p + 1), val, sizeof(val));
		at = strrchr(val, '@');
		strlcpy(out, at != NULL ? at + 1 : val, len);
		lower(out);
		return out[0] != '\0';
	}
	return 0;
}

int
authres_spf_pass(const char *text, char *out, size_t len)
{
	const char *p, *end;

	if (text == NULL)
		return 0;
	for (p = text; *p != '\0'; p = *end == ';' ? end + 1 : end) {
		/* A quoted value may hold ';'; take the segment carefully. */
		for (end = p; *end != '\0' && *end != ';'; end++) {
			if (*end != '"')
				continue;
			while (end[1] != '\0' && end[1] != '"')
				end += end[1] == '\\' && end[2] != '\0' ? 2 : 1;
			end++;	/* the closing quote, or the NUL */
			if (*end == '\0')
				break;
		}
		if (resinfo_spf(p, end, out, len))
			return 1;
		if (*end == '\0')
			break;
	}
	return 0;
}

size_t
triplet_key(const char *net, const char *sender, const char *rcpt, int hash,
    char *out, size_t len)
{
	char text[GREY_KEY_MAX * 4], hex[SHA256_DIGEST_STRING_LENGTH];
	int n;

	n = snprintf(text, sizeof(text), "t %s %s %s", net, sender, rcpt);
	if (!hash && n > 0 && (size_t)n <= GREY_KEY_MAX) {
		strlcpy(out, text, len);
		return strlen(out);
	}
	/* The text after "t " is hashed; a cut text still hashes stably. */
	SHA256Data((const uint8_t *)text + 2, strlen(text + 2), hex);
	snprintf(out, len, "h %s", hex);
	return strlen(out);
}

void
grey_net(const struct grey *g, const struct ipaddr *ip, char *out,
    size_t len)
{
	struct cidr c;

	cidr_of(ip, (unsigned)g->v4_prefix, (unsigned)g->v6_prefix, &c);
	cidr_format(&c, out, len);
}
