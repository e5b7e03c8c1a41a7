#include <string.h>

#include "ip.h"
#include "t.h"

/* Parses s and returns its canonical text, or "ERR" on failure. */
static const char *
fmt(const char *s)
{
	static char buf[IP_STRLEN];
	struct ipaddr ip;

	if (ip_parse(s, &ip, NULL) == -1)
		return "ERR";
	ip_format(&ip, buf, sizeof(buf));
	return buf;
}

static const char *
cfmt(const char *s)
{
	static char buf[CIDR_STRLEN];
	struct cidr c;

	if (cidr_parse(s, &c, NULL) == -1)
		return "ERR";
	cidr_format(&c, buf, sizeof(buf));
	return buf;
}

static const char *
cerr(const char *s)
{
	static struct mgerr e;
	struct cidr c;

	mgerr_clear(&e);
	if (cidr_parse(s, &c, &e) == 0)
		return "OK";
	return e.msg;
}

static int
contains(const char *net, const char *addr)
{
	struct cidr c;
	struct ipaddr ip;

	if (cidr_parse(net, &c, NULL) == -1 || ip_parse(addr, &ip, NULL) == -1)
		return -1;
	return cidr_contains(&c, &ip);
}

static int
cmp(const char *a, const char *b)
{
	struct ipaddr x, y;
	int r;

	if (ip_parse(a, &x, NULL) == -1 || ip_parse(b, &y, NULL) == -1)
		return 99;
	r = ip_cmp(&x, &y);
	return r < 0 ? -1 : r > 0;
}

static const char *
ptr(const char *s)
{
	static char buf[80];
	struct ipaddr ip;

	if (ip_parse(s, &ip, NULL) == -1)
		return "ERR";
	ip_ptr_name(&ip, buf, sizeof(buf));
	return buf;
}

static const char *
of(const char *s, unsigned v4len, unsigned v6len)
{
	static char buf[CIDR_STRLEN];
	struct ipaddr ip;
	struct cidr c;

	if (ip_parse(s, &ip, NULL) == -1)
		return "ERR";
	cidr_of(&ip, v4len, v6len, &c);
	cidr_format(&c, buf, sizeof(buf));
	return buf;
}

static void
test_parse(void)
{
	struct ipaddr ip;
	struct mgerr e;

	T_STR(fmt("192.0.2.1"), "192.0.2.1");
	T_STR(fmt("0.0.0.0"), "0.0.0.0");
	T_STR(fmt("255.255.255.255"), "255.255.255.255");
	T_STR(fmt("2001:db8::1"), "2001:db8::1");
	T_STR(fmt("2001:DB8:0:0:0:0:0:1"), "2001:db8::1");
	T_STR(fmt("2001:db8:0:0:1:0:0:1"), "2001:db8::1:0:0:1");
	T_STR(fmt("2001:0db8:0000:0000:0000:0000:0000:0001"), "2001:db8::1");
	T_STR(fmt("::"), "::");
	T_STR(fmt("::1"), "::1");
	T_STR(fmt("fe80::"), "fe80::");
	/* RFC 5952 section 4.2.2: a single zero field is not compressed. */
	T_STR(fmt("2001:db8:0:1:1:1:1:1"), "2001:db8:0:1:1:1:1:1");
	/* v4-mapped input normalises to IPv4. */
	T_STR(fmt("::ffff:192.0.2.1"), "192.0.2.1");
	T_STR(fmt("::FFFF:c000:0201"), "192.0.2.1");
	T_OK(ip_parse("::ffff:192.0.2.1", &ip, NULL) == 0 && ip.v4 == 1);
	T_OK(ip_parse("192.0.2.1", &ip, NULL) == 0 && ip.v4 == 1);
	T_OK(ip_parse("2001:db8::1", &ip, NULL) == 0 && ip.v4 == 0);
	T_OK(ip_parse("::192.0.2.1", &ip, NULL) == 0 && ip.v4 == 0);

	T_STR(fmt(""), "ERR");
	T_STR(fmt("192.0.2"), "ERR");
	T_STR(fmt("192.0.2.256"), "ERR");
	T_STR(fmt("192.0.2.1.5"), "ERR");
	T_STR(fmt(" 192.0.2.1"), "ERR");
	T_STR(fmt("192.0.2.1 "), "ERR");
	T_STR(fmt("192.0.2.1/32"), "ERR");
	T_STR(fmt("[2001:db8::1]"), "ERR");
	T_STR(fmt("fe80::1%eth0"), "ERR");
	T_STR(fmt("2001:db8:::1"), "ERR");
	T_STR(fmt("2001:db8::1::2"), "ERR");
	T_STR(fmt("1:2:3:4:5:6:7:8:9"), "ERR");
	T_STR(fmt("12345::1"), "ERR");
	T_STR(fmt("g::1"), "ERR");
	T_STR(fmt("localhost"), "ERR");
	T_STR(fmt("0x7f.0.0.1"), "ERR");
	T_STR(fmt("1111111111111111111111111111111111111111111111111111"), "ERR");

	T_INT(ip_parse("192.0.2.x", &ip, &e), -1);
	T_STR(e.msg, "192.0.2.x: bad IPv4 address");
	T_INT(ip_parse("2001:db8::x", &ip, &e), -1);
	T_STR(e.msg, "2001:db8::x: bad IPv6 address");
	T_INT(ip_parse("", &ip, &e), -1);
	T_STR(e.msg, "empty address");
	T_INT(ip_parse("1.2.3.4\n", &ip, &e), -1);
	T_STR(e.msg, "1.2.3.4?: bad IPv4 address");

	/* A short buffer gives "" rather than a truncated address. */
	{
		char small[4] = "xyz";

		ip_parse("192.0.2.1", &ip, NULL);
		ip_format(&ip, small, sizeof(small));
		T_STR(small, "");
	}
}

static void
test_cidr(void)
{
	struct cidr c;
	struct mgerr e;

	T_STR(cfmt("192.0.2.0/24"), "192.0.2.0/24");
	T_STR(cfmt("192.0.2.1"), "192.0.2.1/32");
	T_STR(cfmt("192.0.2.1/32"), "192.0.2.1/32");
	T_STR(cfmt("0.0.0.0/0"), "0.0.0.0/0");
	T_STR(cfmt("10.0.0.0/8"), "10.0.0.0/8");
	T_STR(cfmt("172.16.0.0/12"), "172.16.0.0/12");
	T_STR(cfmt("2001:db8::/32"), "2001:db8::/32");
	T_STR(cfmt("2001:DB8:0::/48"), "2001:db8::/48");
	T_STR(cfmt("2001:db8::1"), "2001:db8::1/128");
	T_STR(cfmt("::/0"), "::/0");
	T_STR(cfmt("::ffff:192.0.2.0/120"), "192.0.2.0/24");
	T_STR(cfmt("::ffff:0:0/96"), "0.0.0.0/0");
	T_OK(cidr_parse("192.0.2.0/24", &c, NULL) == 0 && c.len == 120 &&
	    c.net.v4 == 1);
	T_OK(cidr_parse("2001:db8::/32", &c, NULL) == 0 && c.len == 32 &&
	    c.net.v4 == 0);

	T_STR(cerr("192.0.2.1/24"), "192.0.2.1/24: host bits set");
	T_STR(cerr("2001:db8::1/64"), "2001:db8::1/64: host bits set");
	T_STR(cerr("::ffff:0:0/80"), "::ffff:0:0/80: host bits set");
	T_STR(cerr("192.0.2.0/33"), "192.0.2.0/33: bad prefix length");
	T_STR(cerr("2001:db8::/129"), "2001:db8::/129: bad prefix length");
	T_STR(cerr("192.0.2.0/"), "192.0.2.0/: bad prefix length");
	T_STR(cerr("192.0.2.0/+24"), "192.0.2.0/+24: bad prefix length");
	T_STR(cerr("192.0.2.0/-1"), "192.0.2.0/-1: bad prefix length");
	T_STR(cerr("192.0.2.0/24x"), "192.0.2.0/24x: bad prefix length");
	T_STR(cerr("192.0.2.0/ 24"), "192.0.2.0/ 24: bad prefix length");
	T_STR(cerr("192.0.2.0/24 "), "192.0.2.0/24 : bad prefix length");
	T_STR(cerr("192.0.2.0/0024"), "192.0.2.0/0024: bad prefix length");
	T_STR(cerr("192.0.2.0/24/24"), "192.0.2.0/24/24: bad prefix length");
	T_STR(cerr("192.0.2.0 /24"), "192.0.2.0 : bad IPv4 address");
	T_STR(cerr("/24"), "empty address");
	T_STR(cerr(""), "empty address");
	T_STR(cerr("1111111111111111111111111111111111111111111111111/8"),
	    "1111111111111111111111111111111111111111111111111/8: "
	    "address too long");
	T_STR(cfmt("192.0.2.0/024"), "192.0.2.0/24");

	T_INT(cidr_parse("192.0.2.1/24", &c, &e), -1);
	T_STR(e.msg, "192.0.2.1/24: host bits set");
}

static void
test_contains(void)
{
	T_INT(contains("192.0.2.0/24", "192.0.2.1"), 1);
	T_INT(contains("192.0.2.0/24", "192.0.2.255"), 1);
	T_INT(contains("192.0.2.0/24", "192.0.3.0"), 0);
	T_INT(contains("192.0.2.0/24", "::ffff:192.0.2.7"), 1);
	T_INT(contains("::ffff:192.0.2.0/120", "192.0.2.7"), 1);
	T_INT(contains("192.0.2.1", "192.0.2.1"), 1);
	T_INT(contains("192.0.2.1", "192.0.2.2"), 0);
	T_INT(contains("0.0.0.0/0", "203.0.113.9"), 1);
	T_INT(contains("0.0.0.0/0", "2001:db8::1"), 0);
	T_INT(contains("2001:db8::/32", "2001:db8:ffff::1"), 1);
	T_INT(contains("2001:db8::/32", "2001:db9::1"), 0);
	T_INT(contains("2001:db8::/32", "192.0.2.1"), 0);
	T_INT(contains("2001:db8::/33", "2001:db8:8000::"), 0);
	T_INT(contains("2001:db8::/33", "2001:db8:7fff::"), 1);
	T_INT(contains("10.0.0.0/9", "10.127.255.255"), 1);
	T_INT(contains("10.0.0.0/9", "10.128.0.0"), 0);
}

static void
test_mask(void)
{
	struct ipaddr ip;
	char buf[IP_STRLEN];

	ip_parse("192.0.2.255", &ip, NULL);
	ip_mask(&ip, 96 + 24);
	ip_format(&ip, buf, sizeof(buf));
	T_STR(buf, "192.0.2.0");
	T_INT(ip.v4, 1);

	ip_parse("192.0.2.255", &ip, NULL);
	ip_mask(&ip, 96 + 25);
	ip_format(&ip, buf, sizeof(buf));
	T_STR(buf, "192.0.2.128");

	ip_parse("192.0.2.255", &ip, NULL);
	ip_mask(&ip, 128);
	ip_format(&ip, buf, sizeof(buf));
	T_STR(buf, "192.0.2.255");

	ip_parse("192.0.2.255", &ip, NULL);
	ip_mask(&ip, 200);
	ip_format(&ip, buf, sizeof(buf));
	T_STR(buf, "192.0.2.255");

	ip_parse("2001:db8:1:2:3:4:5:6", &ip, NULL);
	ip_mask(&ip, 64);
	ip_format(&ip, buf, sizeof(buf));
	T_STR(buf, "2001:db8:1:2::");

	ip_parse("2001:db8:ffff::", &ip, NULL);
	ip_mask(&ip, 36);
	ip_format(&ip, buf, sizeof(buf));
	T_STR(buf, "2001:db8:f000::");

	ip_parse("2001:db8::1", &ip, NULL);
	ip_mask(&ip, 0);
	ip_format(&ip, buf, sizeof(buf));
	T_STR(buf, "::");
}

static void
test_cidr_of(void)
{
	T_STR(of("192.0.2.77", 24, 64), "192.0.2.0/24");
	T_STR(of("::ffff:192.0.2.77", 24, 64), "192.0.2.0/24");
	T_STR(of("2001:db8:1:2:3:4:5:6", 24, 64), "2001:db8:1:2::/64");
	T_STR(of("2001:db8:1:2:3:4:5:6", 24, 48), "2001:db8:1::/48");
	T_STR(of("192.0.2.77", 32, 128), "192.0.2.77/32");
	T_STR(of("192.0.2.77", 99, 999), "192.0.2.77/32");
	T_STR(of("2001:db8::1", 99, 999), "2001:db8::1/128");
	T_STR(of("192.0.2.77", 0, 0), "0.0.0.0/0");
	T_STR(of("2001:db8::1", 0, 0), "::/0");
}

static void
test_ptr(void)
{
	char small[10];
	struct ipaddr ip;

	T_STR(ptr("192.0.2.1"), "1.2.0.192.in-addr.arpa");
	T_STR(ptr("::ffff:192.0.2.1"), "1.2.0.192.in-addr.arpa");
	T_STR(ptr("10.0.0.255"), "255.0.0.10.in-addr.arpa");
	/* RFC 3596 section 2.5's own example. */
	T_STR(ptr("4321:0:1:2:3:4:567:89ab"),
	    "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4"
	    ".ip6.arpa");
	T_STR(ptr("2001:db8::1"),
	    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"
	    ".ip6.arpa");
	T_INT(strlen(ptr("::")), 72);
	ip_parse("192.0.2.1", &ip, NULL);
	ip_ptr_name(&ip, small, sizeof(small));
	T_STR(small, "1.2.0.192");
}

static void
test_cmp(void)
{
	T_INT(cmp("192.0.2.1", "192.0.2.1"), 0);
	T_INT(cmp("192.0.2.1", "::ffff:192.0.2.1"), 0);
	T_INT(cmp("192.0.2.1", "192.0.2.2"), -1);
	T_INT(cmp("192.0.2.10", "192.0.2.9"), 1);
	T_INT(cmp("9.255.255.255", "10.0.0.0"), -1);
	/* v4 sorts as ::ffff:0:0/96: after ::1, before global v6. */
	T_INT(cmp("::1", "0.0.0.0"), -1);
	T_INT(cmp("255.255.255.255", "2001:db8::"), -1);
	T_INT(cmp("2001:db8::", "192.0.2.1"), 1);
	T_INT(cmp("2001:db8::1", "2001:db8::2"), -1);
	T_INT(cmp("fe80::", "2001:db8::"), 1);
}

int
main(void)
{
	test_parse();
	test_cidr();
	test_contains();
	test_mask();
	test_cidr_of();
	test_ptr();
	test_cmp();
	return t_done("ip");
}
