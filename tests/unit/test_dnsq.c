/*
 * test_dnsq: a query tool over libcommon/dns.c for tests/dns.bats, and
 * its own small self-check when run without arguments (as every
 * build/unit/test_* is).
 *
 *	test_dnsq [--resolver SPEC] [--timeout MS] [--tries N] NAME TYPE
 *
 * TYPE is a name (A, AAAA, MX, TXT, PTR, CNAME, NS ...), a number, or
 * ADDRS for dns_addrs(); with PTR, a NAME that is an IP address goes
 * through dns_ptr().  Prints "STATUS TTL", then one line per record:
 * an address, "PREF HOST", the TXT text, or a name.  The reason of a
 * failure goes to stderr.  Exit 0 whatever the status, 1 when the
 * resolver cannot be made, 2 for usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ldns/ldns.h>

#include "dns.h"
#include "t.h"

static void
print_result(const struct dns_result *r)
{
	char buf[IP_STRLEN];
	size_t i;

	printf("%s %lu\n", dns_status_str(r->status), (unsigned long)r->ttl);
	for (i = 0; i < r->n; i++) {
		if (r->addrs != NULL) {
			ip_format(&r->addrs[i], buf, sizeof(buf));
			printf("%s\n", buf);
		} else if (r->mx != NULL)
			printf("%u %s\n", r->mx[i].pref, r->mx[i].host);
		else if (r->txt != NULL)
			printf("%s\n", r->txt[i]);
		else if (r->names != NULL)
			printf("%s\n", r->names[i]);
	}
	if (r->status != DNS_OK)
		fprintf(stderr, "test_dnsq: %s\n", r->why);
}

static int
parse_type(const char *s)
{
	char *end;
	long v;

	if (strcasecmp(s, "ADDRS") == 0)
		return -2;
	v = strtol(s, &end, 10);
	if (*s != '\0' && *end == '\0')
		return v > 0 && v <= 65535 ? (int)v : -1;
	v = ldns_get_rr_type_by_name(s);
	return v > 0 ? (int)v : -1;
}

static int
run(const char *spec, unsigned timeout, unsigned tries, const char *name,
    const char *tname)
{
	struct dns_result r;
	struct ipaddr ip;
	struct mgerr e;
	struct dns *d;
	int type, rc;

	if ((type = parse_type(tname)) == -1) {
		fprintf(stderr, "test_dnsq: bad type %s\n", tname);
		return 2;
	}
	if ((d = dns_new(spec, timeout, tries, &e)) == NULL) {
		fprintf(stderr, "test_dnsq: %s\n", e.msg);
		return 1;
	}
	if (type == -2)
		rc = dns_addrs(d, name, &r, &e);
	else if (type == LDNS_RR_TYPE_PTR && ip_parse(name, &ip, NULL) == 0)
		rc = dns_ptr(d, &ip, &r, &e);
	else
		rc = dns_query(d, name, type, &r, &e);
	if (rc == -1)
		fprintf(stderr, "test_dnsq: %s\n", e.msg);
	else
		print_result(&r);
	dns_result_free(&r);
	dns_free(d);
	return rc == -1 ? 2 : 0;
}

/* Self-check: what needs no server. */
static int
selfcheck(void)
{
	struct dns_result r;
	struct mgerr e;
	struct dns *d;

	T_INT(parse_type("TXT"), 16);
	T_INT(parse_type("aaaa"), 28);
	T_INT(parse_type("15"), 15);
	T_INT(parse_type("ADDRS"), -2);
	T_INT(parse_type("NOSUCH"), -1);
	T_INT(parse_type("0"), -1);
	setenv("MG_RESOLVER", "zone:tests/data/dns/test.zone", 1);
	d = dns_new(NULL, 0, 0, &e);
	T_OK(d != NULL);
	T_INT(dns_query(d, "mx1.example.com", LDNS_RR_TYPE_A, &r, &e), 0);
	T_INT(r.status, DNS_OK);
	dns_result_free(&r);
	dns_free(d);
	unsetenv("MG_RESOLVER");
	d = dns_new("[::1]:5353,127.0.0.1:5354", 100, 1, &e);
	T_OK(d != NULL);
	dns_free(d);
	return t_done("test_dnsq");
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "resolver", required_argument, NULL, 'r' },
		{ "timeout", required_argument, NULL, 't' },
		{ "tries", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 }
	};
	const char *spec = NULL;
	unsigned timeout = 3000, tries = 2;
	int c;

	if (argc == 1)
		return selfcheck();
	while ((c = getopt_long(argc, argv, "r:t:n:", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			spec = optarg;
			break;
		case 't':
			timeout = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'n':
			tries = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 2)
		goto usage;
	return run(spec, timeout, tries, argv[optind], argv[optind + 1]);
usage:
	fprintf(stderr, "usage: test_dnsq [--resolver SPEC] [--timeout MS] "
	    "[--tries N] NAME TYPE\n");
	return 2;
}
