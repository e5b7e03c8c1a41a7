/*
 * fuzz_zone: the zone-file loader behind the "zone:FILE" resolver
 * (dns_zone.c) and the answers dns.c builds from it.  The input is the
 * zone file.  A file the loader takes must also make a resolver; the
 * names it owns are then asked for (each for its own record's type,
 * which must be found, and for addresses), with the reverse name of an
 * address and a few fixed names.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "dns.h"
#include "dns_zone.h"
#include "fuzzinput.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Records whose owners are asked for, at most. */
#define ASK_MAX	8

/* The types dns.c fills a result for (dns.h). */
static int
filled_type(int t)
{
	return t == LDNS_RR_TYPE_A || t == LDNS_RR_TYPE_NS ||
	    t == LDNS_RR_TYPE_CNAME || t == LDNS_RR_TYPE_PTR ||
	    t == LDNS_RR_TYPE_MX || t == LDNS_RR_TYPE_TXT ||
	    t == LDNS_RR_TYPE_AAAA;
}

static void
ask(struct dns *d, const ldns_rr_list *zone, const ldns_rr *rr)
{
	struct dns_result res;
	struct mgerr e;
	ldns_pkt *p;
	char *name;
	int type = (int)ldns_rr_get_type(rr);

	if ((p = dns_zone_answer(zone, ldns_rr_owner(rr), type)) != NULL)
		ldns_pkt_free(p);
	if ((name = ldns_rdf2str(ldns_rr_owner(rr))) == NULL)
		return;
	if (dns_query(d, name, type, &res, &e) == 0 && filled_type(type) &&
	    (res.status != DNS_OK || res.n == 0))
		abort();
	dns_result_free(&res);
	dns_addrs(d, name, &res, &e);
	dns_result_free(&res);
	free(name);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *names[] = { "example.com", "www.example.com",
	    "a.b.c.example.com", "x._domainkey.example.org", "." };
	static const int types[] = { LDNS_RR_TYPE_A, LDNS_RR_TYPE_MX,
	    LDNS_RR_TYPE_TXT, LDNS_RR_TYPE_CNAME, LDNS_RR_TYPE_SOA };
	char spec[80];
	struct dns_result res;
	struct ipaddr ip;
	struct mgerr e;
	ldns_rr_list *zone;
	struct dns *d;
	const char *path;
	size_t i;

	path = fuzz_file(0, data, size);
	if ((zone = dns_zone_load(path, &e)) == NULL)
		return 0;
	snprintf(spec, sizeof(spec), "zone:%s", path);
	if ((d = dns_new(spec, 0, 1, &e)) == NULL)
		abort();
	for (i = 0; i < ldns_rr_list_rr_count(zone) && i < ASK_MAX; i++)
		ask(d, zone, ldns_rr_list_rr(zone, i));
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		dns_query(d, names[i], types[i], &res, &e);
		dns_result_free(&res);
	}
	if (ip_parse("192.0.2.1", &ip, &e) == 0) {
		dns_ptr(d, &ip, &res, &e);
		dns_result_free(&res);
	}
	dns_free(d);
	ldns_rr_list_deep_free(zone);
	return 0;
}
