/*
 * Unit tests for libcommon/dns.c, offline: answers come from the zone
 * files in tests/data/dns/ (run from the top of the tree).  The
 * real-server cases (UDP, TCP fallback, timeouts, SERVFAIL) are in
 * tests/dns.bats through build/unit/test_dnsq.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "dns.h"
#include "t.h"

#define ZONE	"zone:tests/data/dns/test.zone"

static struct dns *d;

/* Queries and returns the status; the result stays in *r. */
static int
q(const char *name, int type, struct dns_result *r)
{
	struct mgerr e;

	if (dns_query(d, name, type, r, &e) == -1)
		return -1;
	return (int)r->status;
}

static const char *
addr(const struct dns_result *r, size_t i)
{
	static char buf[IP_STRLEN];

	if (i >= r->n || r->addrs == NULL)
		return "";
	ip_format(&r->addrs[i], buf, sizeof(buf));
	return buf;
}

static void
test_status(void)
{
	T_STR(dns_status_str(DNS_OK), "ok");
	T_STR(dns_status_str(DNS_NXDOMAIN), "nxdomain");
	T_STR(dns_status_str(DNS_NODATA), "nodata");
	T_STR(dns_status_str(DNS_SERVFAIL), "servfail");
	T_STR(dns_status_str(DNS_TIMEOUT), "timeout");
	T_STR(dns_status_str(DNS_ERROR), "error");
	T_INT(dns_temporary(DNS_OK), 0);
	T_INT(dns_temporary(DNS_NXDOMAIN), 0);
	T_INT(dns_temporary(DNS_NODATA), 0);
	T_INT(dns_temporary(DNS_SERVFAIL), 1);
	T_INT(dns_temporary(DNS_TIMEOUT), 1);
	T_INT(dns_temporary(DNS_ERROR), 1);
}

static void
test_addr(void)
{
	struct dns_result r;

	T_INT(q("mx1.example.com", 1, &r), DNS_OK);
	T_INT(r.n, 1);
	T_STR(addr(&r, 0), "192.0.2.1");
	T_INT(r.addrs[0].v4, 1);
	T_INT(r.ttl, 300);
	dns_result_free(&r);
	/* Trailing dot, and names compare case-insensitively. */
	T_INT(q("MX1.Example.COM.", 28, &r), DNS_OK);
	T_STR(addr(&r, 0), "2001:db8::1");
	T_INT(r.addrs[0].v4, 0);
	dns_result_free(&r);
	T_INT(q("mx2.example.com", 1, &r), DNS_OK);
	T_INT(r.ttl, 60);
	dns_result_free(&r);
	/* A v4-mapped AAAA reads as IPv4, as ip.h holds addresses. */
	T_INT(q("mapped.example.com", 28, &r), DNS_OK);
	T_STR(addr(&r, 0), "192.0.2.9");
	T_INT(r.addrs[0].v4, 1);
	dns_result_free(&r);
	T_INT(q("v6only.example.com", 1, &r), DNS_NODATA);
	T_INT(r.n, 0);
	T_INT(r.ttl, 60);	/* SOA minimum, RFC 2308 section 5 */
	T_OK(r.why[0] != '\0');
	dns_result_free(&r);
	T_INT(q("ns1.example.com", 28, &r), DNS_NODATA);
	dns_result_free(&r);
	T_INT(q("nosuch.example.com", 1, &r), DNS_NXDOMAIN);
	T_INT(r.n, 0);
	T_INT(r.ttl, 60);
	T_OK(strstr(r.why, "NXDOMAIN") != NULL);
	dns_result_free(&r);
	T_INT(q("nosuch.example.com", 28, &r), DNS_NXDOMAIN);
	dns_result_free(&r);
	/* Outside every zone of the file: NXDOMAIN, no SOA, TTL 0. */
	T_INT(q("www.example.net", 1, &r), DNS_NXDOMAIN);
	T_INT(r.ttl, 0);
	dns_result_free(&r);
}

static void
test_mx(void)
{
	struct dns_result r;

	T_INT(q("example.com", 15, &r), DNS_OK);
	T_INT(r.n, 2);
	T_INT(r.mx[0].pref, 5);
	T_STR(r.mx[0].host, "mx1.example.com");
	T_INT(r.mx[1].pref, 10);
	T_STR(r.mx[1].host, "mx2.example.com");
	dns_result_free(&r);
	/* RFC 7505 null MX kept as host "". */
	T_INT(q("nomail.example.com", 15, &r), DNS_OK);
	T_INT(r.n, 1);
	T_INT(r.mx[0].pref, 0);
	T_STR(r.mx[0].host, "");
	dns_result_free(&r);
	T_INT(q("mx1.example.com", 15, &r), DNS_NODATA);
	dns_result_free(&r);
	T_INT(q("nosuch.example.com", 15, &r), DNS_NXDOMAIN);
	dns_result_free(&r);
}

static void
test_txt(void)
{
	struct dns_result r;
	char want[700];

	T_INT(q("example.com", 16, &r), DNS_OK);
	T_INT(r.n, 1);
	T_STR(r.txt[0], "v=spf1 ip4:192.0.2.0/24 -all");
	T_INT(r.txtlen[0], 28);
	dns_result_free(&r);
	memset(want, 'a', 255);
	memset(want + 255, 'b', 255);
	memset(want + 510, 'c', 100);
	want[610] = '\0';
	T_INT(q("long.example.com", 16, &r), DNS_OK);
	T_INT(r.txtlen[0], 610);
	T_STR(r.txt[0], want);
	dns_result_free(&r);
	T_INT(q("empty.example.com", 16, &r), DNS_OK);
	T_INT(r.n, 1);
	T_STR(r.txt[0], "");
	T_INT(r.txtlen[0], 0);
	dns_result_free(&r);
	T_INT(q("mx1.example.com", 16, &r), DNS_NODATA);
	dns_result_free(&r);
	T_INT(q("nosuch.example.com", 16, &r), DNS_NXDOMAIN);
	dns_result_free(&r);
}

static void
test_ptr(void)
{
	struct dns_result r;
	struct ipaddr ip;
	struct mgerr e;

	T_INT(ip_parse("192.0.2.1", &ip, &e), 0);
	T_INT(dns_ptr(d, &ip, &r, &e), 0);
	T_INT(r.status, DNS_OK);
	T_INT(r.n, 1);
	T_STR(r.names[0], "mx1.example.com");
	dns_result_free(&r);
	T_INT(q("2.2.0.192.in-addr.arpa", 12, &r), DNS_OK);
	T_INT(r.n, 2);
	T_STR(r.names[0], "mx2.example.com");
	T_STR(r.names[1], "alias.example.net");
	dns_result_free(&r);
	T_INT(ip_parse("2001:db8::1", &ip, &e), 0);
	T_INT(dns_ptr(d, &ip, &r, &e), 0);
	T_INT(r.status, DNS_OK);
	T_STR(r.names[0], "mx1.example.com");
	dns_result_free(&r);
	T_INT(ip_parse("192.0.2.99", &ip, &e), 0);
	T_INT(dns_ptr(d, &ip, &r, &e), 0);
	T_INT(r.status, DNS_NXDOMAIN);
	dns_result_free(&r);
	T_INT(q("1.2.0.192.in-addr.arpa", 1, &r), DNS_NODATA);
	dns_result_free(&r);
}

static void
test_cname(void)
{
	struct dns_result r;

	/* c1 -> c2 -> mx1; the TTL is the chain's minimum. */
	T_INT(q("c1.example.com", 1, &r), DNS_OK);
	T_STR(addr(&r, 0), "192.0.2.1");
	T_INT(r.ttl, 30);
	dns_result_free(&r);
	T_INT(q("c1.example.com", 28, &r), DNS_OK);
	T_STR(addr(&r, 0), "2001:db8::1");
	dns_result_free(&r);
	T_INT(q("c1.example.com", 15, &r), DNS_NODATA);
	dns_result_free(&r);
	/* Asked for CNAME, the CNAME itself is the answer. */
	T_INT(q("c1.example.com", 5, &r), DNS_OK);
	T_INT(r.n, 1);
	T_STR(r.names[0], "c2.example.com");
	dns_result_free(&r);
	T_INT(q("mx1.example.com", 5, &r), DNS_NODATA);
	dns_result_free(&r);
	/* RFC 6604: the rcode is that of the chain's last name. */
	T_INT(q("dangling.example.com", 1, &r), DNS_NXDOMAIN);
	dns_result_free(&r);
	T_INT(q("loop1.example.com", 1, &r), DNS_ERROR);
	T_OK(strstr(r.why, "CNAME") != NULL);
	T_INT(dns_temporary(r.status), 1);
	dns_result_free(&r);
}

static void
test_wildcard(void)
{
	struct dns_result r;

	T_INT(q("anything.wild.example.com", 1, &r), DNS_OK);
	T_STR(addr(&r, 0), "192.0.2.100");
	dns_result_free(&r);
	T_INT(q("x.y.wild.example.com", 16, &r), DNS_OK);
	T_STR(r.txt[0], "wild");
	dns_result_free(&r);
	T_INT(q("anything.wild.example.com", 28, &r), DNS_NODATA);
	dns_result_free(&r);
	/* A name with records of its own is not covered by the wildcard. */
	T_INT(q("own.wild.example.com", 1, &r), DNS_OK);
	T_STR(addr(&r, 0), "192.0.2.101");
	dns_result_free(&r);
	T_INT(q("own.wild.example.com", 16, &r), DNS_NODATA);
	dns_result_free(&r);
	/* Closest encloser own.wild has no "*": RFC 4592 section 2.2.1. */
	T_INT(q("x.own.wild.example.com", 1, &r), DNS_NXDOMAIN);
	dns_result_free(&r);
	T_INT(q("wild.example.com", 1, &r), DNS_NODATA);
	dns_result_free(&r);
}

static void
test_ent(void)
{
	struct dns_result r;

	T_INT(q("b.ent.example.com", 1, &r), DNS_NODATA);
	dns_result_free(&r);
	T_INT(q("ent.example.com", 16, &r), DNS_NODATA);
	dns_result_free(&r);
	T_INT(q("a.b.ent.example.com", 1, &r), DNS_OK);
	dns_result_free(&r);
	T_INT(q("c.b.ent.example.com", 1, &r), DNS_NXDOMAIN);
	dns_result_free(&r);
}

static void
test_addrs(void)
{
	struct dns_result r;
	struct mgerr e;

	T_INT(dns_addrs(d, "mx1.example.com", &r, &e), 0);
	T_INT(r.status, DNS_OK);
	T_INT(r.n, 2);
	T_STR(addr(&r, 0), "192.0.2.1");
	T_STR(addr(&r, 1), "2001:db8::1");
	dns_result_free(&r);
	T_INT(dns_addrs(d, "v6only.example.com", &r, &e), 0);
	T_INT(r.status, DNS_OK);
	T_INT(r.n, 1);
	T_STR(addr(&r, 0), "2001:db8::6");
	dns_result_free(&r);
	T_INT(dns_addrs(d, "example.com", &r, &e), 0);
	T_INT(r.status, DNS_NODATA);
	dns_result_free(&r);
	T_INT(dns_addrs(d, "nosuch.example.com", &r, &e), 0);
	T_INT(r.status, DNS_NXDOMAIN);
	dns_result_free(&r);
	T_INT(dns_addrs(d, "loop1.example.com", &r, &e), 0);
	T_INT(r.status, DNS_ERROR);
	dns_result_free(&r);
}

static void
test_badargs(void)
{
	struct dns_result r;
	struct mgerr e;

	T_INT(dns_query(d, "", 1, &r, &e), -1);
	T_INT(r.status, DNS_ERROR);
	T_INT(dns_query(d, "a..b", 1, &r, &e), -1);
	T_INT(dns_query(d, "example.com", 0, &r, &e), -1);
	T_INT(dns_query(d, NULL, 1, &r, &e), -1);
	T_INT(dns_query(NULL, "example.com", 1, &r, &e), -1);
	T_INT(dns_ptr(d, NULL, &r, &e), -1);
	dns_result_free(&r);
}

static void
test_raw(void)
{
	struct dns_result r;
	struct mgerr e;
	struct ldns_struct_pkt *p;

	p = dns_query_pkt(d, "c1.example.com", 1, &r, &e);
	T_OK(p != NULL);
	T_INT(r.status, DNS_OK);
	if (p != NULL)
		ldns_pkt_free(p);
	dns_result_free(&r);
}

static void
test_origin(void)
{
	struct dns_result r;
	struct dns *o;
	struct mgerr e;

	o = dns_new("zone:tests/data/dns/noorigin.zone", 0, 0, &e);
	T_OK(o != NULL);
	if (o == NULL)
		return;
	T_INT(dns_query(o, "www", 1, &r, &e), 0);
	T_INT(r.status, DNS_OK);
	T_STR(addr(&r, 0), "192.0.2.7");
	dns_result_free(&r);
	T_INT(dns_query(o, "host.example", 1, &r, &e), 0);
	T_STR(addr(&r, 0), "192.0.2.8");
	dns_result_free(&r);
	dns_free(o);
}

static int
bad_spec(const char *spec, const char *want)
{
	struct mgerr e;
	struct dns *x;

	memset(&e, 0, sizeof(e));
	if ((x = dns_new(spec, 0, 0, &e)) != NULL) {
		dns_free(x);
		fprintf(stderr, "spec \"%s\" accepted\n", spec);
		return 0;
	}
	if (strstr(e.msg, want) == NULL) {
		fprintf(stderr, "spec \"%s\": \"%s\" lacks \"%s\"\n", spec,
		    e.msg, want);
		return 0;
	}
	return 1;
}

static void
test_specs(void)
{
	static const char *good[] = { "127.0.0.1", "127.0.0.1:5353",
	    "[::1]:5353", "::1", "[::1]", "192.0.2.1,192.0.2.2:53,[::1]:54",
	    "system" };
	struct mgerr e;
	struct dns *x;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		x = dns_new(good[i], 500, 1, &e);
		T_OK(x != NULL);
		if (x == NULL)
			fprintf(stderr, "spec \"%s\": %s\n", good[i], e.msg);
		dns_free(x);
	}
	T_OK(bad_spec("zone:", "missing file name"));
	T_OK(bad_spec("zone:tests/data/dns/nosuch.zone",
	    "tests/data/dns/nosuch.zone"));
	T_OK(bad_spec("999.1.1.1", "\"999.1.1.1\": not an IP address"));
	T_OK(bad_spec("127.0.0.1:99999", "bad port"));
	T_OK(bad_spec("127.0.0.1:0", "bad port"));
	T_OK(bad_spec("127.0.0.1:", "bad port"));
	T_OK(bad_spec("127.0.0.1:53x", "bad port"));
	T_OK(bad_spec("[::1]:x", "bad port"));
	T_OK(bad_spec("[::1", "missing ']'"));
	T_OK(bad_spec("127.0.0.1,,127.0.0.2", "empty"));
	T_OK(bad_spec("localhost", "not an IP address"));
	T_OK(bad_spec("zone:tests/data/dns/bad-addr.zone",
	    "tests/data/dns/bad-addr.zone:2: "));
	T_OK(bad_spec("zone:tests/data/dns/bad-mx.zone",
	    "tests/data/dns/bad-mx.zone:5: "));
	/* $MG_RESOLVER stands in for a NULL or empty spec. */
	setenv("MG_RESOLVER", "zone:tests/data/dns/bad-mx.zone", 1);
	T_OK(bad_spec(NULL, "bad-mx.zone:5"));
	T_OK(bad_spec("", "bad-mx.zone:5"));
	unsetenv("MG_RESOLVER");
}

int
main(void)
{
	struct mgerr e;

	test_status();
	test_specs();
	if ((d = dns_new(ZONE, 0, 0, &e)) == NULL) {
		fprintf(stderr, "dns_new: %s\n", e.msg);
		return 1;
	}
	test_addr();
	test_mx();
	test_txt();
	test_ptr();
	test_cname();
	test_wildcard();
	test_ent();
	test_addrs();
	test_badargs();
	test_raw();
	test_origin();
	dns_free(d);
	return t_done("test_dns");
}
