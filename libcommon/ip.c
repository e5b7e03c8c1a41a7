/*
 * ip: IPv4 and IPv6 addresses and CIDR prefixes, held in the 128-bit
 * space with IPv4 as v4-mapped IPv6 (RFC 4291 section 2.5.5.2).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "ip.h"

/* Caps how much of a caller's text is quoted back in an error message. */
#define IP_ERRTEXT	64

static const uint8_t v4prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/* Copies s into buf for an error message, control bytes replaced. */
static const char *
errtext(const char *s, char *buf, size_t len)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < len; i++) {
		unsigned char c = (unsigned char)s[i];

		buf[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	buf[i] = '\0';
	return buf;
}

static void
ip_fail(struct mgerr *e, const char *s, const char *why)
{
	char t[IP_ERRTEXT];

	mgerr_set(e, "%s: %s", errtext(s, t, sizeof(t)), why);
}

/* 1 if b holds ::ffff:a.b.c.d, the v4-mapped form. */
static int
is_mapped(const uint8_t *b)
{
	return memcmp(b, v4prefix, sizeof(v4prefix)) == 0;
}

int
ip_parse(const char *s, struct ipaddr *ip, struct mgerr *e)
{
	memset(ip, 0, sizeof(*ip));
	if (s[0] == '\0') {
		mgerr_set(e, "empty address");
		return -1;
	}
	if (strnlen(s, IP_STRLEN) >= IP_STRLEN) {
		ip_fail(e, s, "address too long");
		return -1;
	}
	if (strchr(s, ':') == NULL) {
		if (inet_pton(AF_INET, s, ip->b + 12) != 1) {
			ip_fail(e, s, "bad IPv4 address");
			return -1;
		}
		memcpy(ip->b, v4prefix, sizeof(v4prefix));
		ip->v4 = 1;
		return 0;
	}
	if (inet_pton(AF_INET6, s, ip->b) != 1) {
		memset(ip, 0, sizeof(*ip));
		ip_fail(e, s, "bad IPv6 address");
		return -1;
	}
	ip->v4 = is_mapped(ip->b);
	return 0;
}

void
ip_format(const struct ipaddr *ip, char *buf, size_t len)
{
	const char *r;

	if (len == 0)
		return;
	if (ip->v4)
		r = inet_ntop(AF_INET, ip->b + 12, buf, len);
	else
		r = inet_ntop(AF_INET6, ip->b, buf, len);
	if (r == NULL)
		buf[0] = '\0';
}

int
ip_cmp(const struct ipaddr *a, const struct ipaddr *b)
{
	return memcmp(a->b, b->b, sizeof(a->b));
}

void
ip_mask(struct ipaddr *ip, unsigned len)
{
	unsigned i;

	if (len >= 128)
		return;
	i = len / 8;
	if (len % 8 != 0) {
		ip->b[i] &= (uint8_t)(0xff << (8 - len % 8));
		i++;
	}
	for (; i < 16; i++)
		ip->b[i] = 0;
	ip->v4 = len >= 96 && is_mapped(ip->b);
}

/*
 * Parses the digits after '/': no sign, no space, at most three digits,
 * at most max.  Returns the value or -1.
 */
static long
prefix_len(const char *s, unsigned max)
{
	long v = 0;
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 3)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (i == 0 || v > (long)max)
		return -1;
	return v;
}

int
cidr_parse(const char *s, struct cidr *c, struct mgerr *e)
{
	char a[IP_STRLEN];
	const char *slash;
	struct ipaddr masked;
	size_t n;
	long len;
	int v6text;

	memset(c, 0, sizeof(*c));
	slash = strchr(s, '/');
	n = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (n >= sizeof(a)) {
		ip_fail(e, s, "address too long");
		return -1;
	}
	memcpy(a, s, n);
	a[n] = '\0';
	if (ip_parse(a, &c->net, e) == -1)
		return -1;
	/*
	 * The length counts in the family as written, so a v4-mapped
	 * "::ffff:192.0.2.0/120" is the same prefix as "192.0.2.0/24".
	 */
	v6text = strchr(a, ':') != NULL;
	if (slash == NULL)
		len = 128;
	else if ((len = prefix_len(slash + 1, v6text ? 128 : 32)) == -1) {
		ip_fail(e, s, "bad prefix length");
		return -1;
	} else if (!v6text)
		len += 96;
	masked = c->net;
	ip_mask(&masked, (unsigned)len);
	if (ip_cmp(&masked, &c->net) != 0) {
		memset(c, 0, sizeof(*c));
		ip_fail(e, s, "host bits set");
		return -1;
	}
	c->net = masked;
	c->len = (unsigned)len;
	return 0;
}

void
cidr_format(const struct cidr *c, char *buf, size_t len)
{
	char a[IP_STRLEN];
	unsigned n = c->len;

	if (len == 0)
		return;
	if (c->net.v4 && n >= 96) {
		ip_format(&c->net, a, sizeof(a));
		n -= 96;
	} else if (inet_ntop(AF_INET6, c->net.b, a, sizeof(a)) == NULL)
		a[0] = '\0';
	snprintf(buf, len, "%s/%u", a, n);
}

int
cidr_contains(const struct cidr *c, const struct ipaddr *ip)
{
	struct ipaddr m = *ip;

	ip_mask(&m, c->len);
	return memcmp(m.b, c->net.b, sizeof(m.b)) == 0;
}

void
cidr_of(const struct ipaddr *ip, unsigned v4len, unsigned v6len,
    struct cidr *c)
{
	if (ip->v4)
		c->len = 96 + (v4len > 32 ? 32 : v4len);
	else
		c->len = v6len > 128 ? 128 : v6len;
	c->net = *ip;
	ip_mask(&c->net, c->len);
}

void
ip_ptr_name(const struct ipaddr *ip, char *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char name[80];
	size_t n = 0;
	int i;

	if (len == 0)
		return;
	if (ip->v4) {
		/* RFC 1035 section 3.5: octets in reverse order. */
		snprintf(buf, len, "%u.%u.%u.%u.in-addr.arpa", ip->b[15],
		    ip->b[14], ip->b[13], ip->b[12]);
		return;
	}
	/* RFC 3596 section 2.5: nibbles, lowest-order first. */
	for (i = 15; i >= 0; i--) {
		name[n++] = hex[ip->b[i] & 0x0f];
		name[n++] = '.';
		name[n++] = hex[ip->b[i] >> 4];
		name[n++] = '.';
	}
	memcpy(name + n, "ip6.arpa", sizeof("ip6.arpa"));
	strlcpy(buf, name, len);
}
