/*
 * addr: parsing of RFC 5321 paths.  See addr.h for the contract.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <string.h>
#include <strings.h>

#include "addr.h"

/* Caps how much of a client's text is quoted back in an error message. */
#define ADDR_ERRTEXT	128
/* RFC 1035 section 2.3.4: at most 63 octets in a label. */
#define ADDR_LABEL_MAX	63

/* Sets e to "INPUT: why", control bytes replaced and length capped. */
static int
fail(struct mgerr *e, const char *s, const char *why)
{
	char t[ADDR_ERRTEXT];
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < sizeof(t); i++) {
		unsigned char c = (unsigned char)s[i];

		t[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	t[i] = '\0';
	mgerr_set(e, "%s: %s", t, why);
	return -1;
}

static int
is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/*
 * RFC 5321 section 4.1.2 atext and '.', plus UTF-8 bytes (RFC 6531
 * section 3.3).  '%' and '!' are atext: the relay checker, not the
 * parser, decides what they mean.
 */
static int
is_local_char(unsigned char c)
{
	return c >= 0x80 || is_alnum(c) ||
	    (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~.", c) != NULL);
}

static int
is_label_char(unsigned char c)
{
	return c >= 0x80 || is_alnum(c) || c == '-' || c == '_';
}

/*
 * Checks the domain d (len octets, trailing dot already removed) and
 * writes it lower-cased into out (ADDR_DOMAIN_MAX + 1 bytes).  Returns
 * NULL or the reason it is bad.
 */
static const char *
check_domain(const char *d, size_t len, char *out)
{
	size_t i, label = 0;

	if (len == 0)
		return "empty domain";
	if (len > ADDR_DOMAIN_MAX)
		return "domain too long";
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)d[i];

		if (c == '.') {
			if (label == 0)
				return "empty label in domain";
			if (d[i - 1] == '-')
				return "label ends with a hyphen";
			label = 0;
		} else if (!is_label_char(c))
			return c == '@' ? "more than one @" :
			    "bad character in domain";
		else if (++label > ADDR_LABEL_MAX)
			return "domain label too long";
		else if (label == 1 && c == '-')
			return "label starts with a hyphen";
		out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') :
		    (char)c;
	}
	if (label == 0)
		return "empty label in domain";
	if (d[len - 1] == '-')
		return "label ends with a hyphen";
	out[len] = '\0';
	return NULL;
}

/*
 * Checks an address literal "[a.b.c.d]" or "[IPv6:...]" (RFC 5321
 * section 4.1.3) and copies it as written into out.  Returns NULL or the
 * reason it is bad.
 */
static const char *
check_literal(const char *d, char *out)
{
	char ip[48];
	unsigned char bin[16];
	size_t len = strlen(d), n;
	const char *p = d + 1;
	int af = AF_INET;

	if (len < 2 || d[len - 1] != ']')
		return "unterminated address literal";
	if (len > ADDR_DOMAIN_MAX)
		return "domain too long";
	n = len - 2;
	if (n >= 5 && strncasecmp(p, "IPv6:", 5) == 0) {
		af = AF_INET6;
		p += 5;
		n -= 5;
	}
	if (n >= sizeof(ip))
		return "bad address literal";
	memcpy(ip, p, n);
	ip[n] = '\0';
	if (inet_pton(af, ip, bin) != 1)
		return "bad address literal";
	memcpy(out, d, len + 1);
	return NULL;
}

/* Checks "@a,@b" (RFC 5321 section 4.1.2 A-d-l), which is then dropped. */
static const char *
check_route(const char *r, size_t len)
{
	char dom[ADDR_DOMAIN_MAX + 1];
	size_t i = 0, start;

	while (i < len) {
		if (r[i] != '@')
			return "bad source route";
		start = ++i;
		while (i < len && r[i] != ',')
			i++;
		if (check_domain(r + start, i - start, dom) != NULL)
			return "bad source route";
		if (i < len && ++i == len)
			return "bad source route";
	}
	return NULL;
}

/*
 * Reads the local part at m into a->local: a Quoted-string (unquoted,
 * quoted-pairs resolved) or a Dot-string.  Returns the number of octets
 * read as written, or 0 with *why set.
 */
static size_t
parse_local(const char *m, struct mailaddr *a, const char **why)
{
	size_t i, n = 0;

	if (m[0] != '"') {
		for (i = 0; m[i] != '\0' && m[i] != '@'; i++) {
			if (!is_local_char((unsigned char)m[i])) {
				*why = m[i] == '"' ? "misplaced quote" :
				    "bad character in local part";
				return 0;
			}
			if (i < ADDR_LOCAL_MAX)
				a->local[n++] = m[i];
		}
		a->local[n] = '\0';
		return i;
	}
	a->quoted = 1;
	for (i = 1; m[i] != '"'; i++) {
		unsigned char c = (unsigned char)m[i];

		if (c == '\\')
			c = (unsigned char)m[++i];
		if (c == '\0') {
			*why = "unterminated quoted string";
			return 0;
		}
		/* RFC 5321 section 4.1.2: qtextSMTP and quoted-pairSMTP. */
		if (c < 0x20 || c == 0x7f) {
			*why = "control character in quoted string";
			return 0;
		}
		if (i < ADDR_LOCAL_MAX)
			a->local[n++] = (char)c;
	}
	a->local[n] = '\0';
	return i + 1;
}

/* Writes the canonical a->addr, quoting the local part if it needs it. */
static void
make_canonical(struct mailaddr *a)
{
	const char *l;
	size_t n = 0, cap = sizeof(a->addr) - 1;
	int quote = 0;

	for (l = a->local; *l != '\0'; l++)
		if (!is_local_char((unsigned char)*l))
			quote = 1;
	if (quote)
		a->addr[n++] = '"';
	for (l = a->local; *l != '\0' && n + 4 < cap; l++) {
		if (quote && (*l == '"' || *l == '\\'))
			a->addr[n++] = '\\';
		a->addr[n++] = *l;
	}
	if (quote)
		a->addr[n++] = '"';
	a->addr[n] = '\0';
	if (a->domain[0] != '\0') {
		strlcat(a->addr, "@", sizeof(a->addr));
		strlcat(a->addr, a->domain, sizeof(a->addr));
	}
}

/* Parses the Mailbox m (RFC 5321 section 4.1.2) into a. */
static int
parse_mailbox(const char *m, struct mailaddr *a, const char *s,
    struct mgerr *e)
{
	const char *why = NULL, *d;
	size_t n, dlen;

	if ((n = parse_local(m, a, &why)) == 0)
		return fail(e, s, why != NULL ? why : "empty local part");
	if (n > ADDR_LOCAL_MAX)
		return fail(e, s, "local part too long");
	if (m[n] != '\0' && m[n] != '@')
		return fail(e, s, "text after quoted string");
	if (a->local[0] == '\0')
		return fail(e, s, "empty local part");
	if (m[n] == '\0') {
		/* RFC 5321 section 4.5.1: "postmaster" without a domain. */
		make_canonical(a);
		return 0;
	}
	d = m + n + 1;
	if (d[0] == '[') {
		a->literal = 1;
		why = check_literal(d, a->domain);
	} else {
		/* A trailing dot names the root; RFC 5321 has no such form. */
		dlen = strlen(d);
		if (dlen > 0 && d[dlen - 1] == '.')
			dlen--;
		why = check_domain(d, dlen, a->domain);
	}
	if (why != NULL)
		return fail(e, s, why);
	make_canonical(a);
	return 0;
}

/* 1 if b has an angle bracket outside a quoted string. */
static int
has_bracket(const char *b)
{
	int quoted = 0;

	for (; *b != '\0'; b++) {
		if (quoted && *b == '\\' && b[1] != '\0')
			b++;
		else if (*b == '"')
			quoted = !quoted;
		else if (!quoted && (*b == '<' || *b == '>'))
			return 1;
	}
	return 0;
}

static int
parse_path(const char *s, struct mailaddr *a, struct mgerr *e)
{
	char body[ADDR_PATH_MAX + 1];
	const char *m, *colon, *why;
	size_t n = strnlen(s, ADDR_PATH_MAX + 1);

	if (n > ADDR_PATH_MAX)
		return fail(e, s, "path too long");
	if (s[0] == '<') {
		if (n < 2 || s[n - 1] != '>')
			return fail(e, s, strchr(s, '>') != NULL ?
			    "text after path" : "unbalanced angle bracket");
		memcpy(body, s + 1, n - 2);
		body[n - 2] = '\0';
	} else {
		if (n > 0 && s[n - 1] == '>')
			return fail(e, s, "unbalanced angle bracket");
		if (n + 2 > ADDR_PATH_MAX)
			return fail(e, s, "path too long");
		memcpy(body, s, n + 1);
	}
	if (has_bracket(body))
		return fail(e, s, "unbalanced angle bracket");
	if (body[0] == '\0') {
		a->null = 1;
		return 0;
	}
	m = body;
	if (body[0] == '@') {
		/* RFC 5321 section 4.1.2 and appendix C: drop the route. */
		if ((colon = strchr(body, ':')) == NULL)
			return fail(e, s, "empty local part");
		if ((why = check_route(body, (size_t)(colon - body))) != NULL)
			return fail(e, s, why);
		a->route = 1;
		m = colon + 1;
		if (*m == '\0')
			return fail(e, s, "empty mailbox after source route");
	}
	return parse_mailbox(m, a, s, e);
}

int
addr_parse(const char *s, struct mailaddr *a, struct mgerr *e)
{
	memset(a, 0, sizeof(*a));
	if (parse_path(s, a, e) == -1) {
		memset(a, 0, sizeof(*a));
		return -1;
	}
	return 0;
}

const char *
addr_domain(const char *addr)
{
	const char *p, *at = NULL;
	int quoted = 0;

	for (p = addr; *p != '\0'; p++) {
		if (quoted && *p == '\\' && p[1] != '\0')
			p++;
		else if (*p == '"')
			quoted = !quoted;
		else if (!quoted && *p == '@')
			at = p;
	}
	return at != NULL ? at + 1 : "";
}
