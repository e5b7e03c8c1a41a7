/*
 * dns: mailguard's one DNS layer, on ldns.
 *
 * A resolver is made from a spec (--resolver, else $MG_RESOLVER):
 *   system                     the nameservers of /etc/resolv.conf
 *   IP[:PORT][,IP[:PORT]...]   these servers, tried in order; IPv6 as
 *                              [::1]:5353 or bare ::1 (then port 53)
 *   zone:FILE                  answers from a zone file (RFC 1035 section
 *                              5), so a draft record can be tested offline
 * Servers get recursion desired, no EDNS and no DNSSEC; an answer with the
 * TC bit is asked again over TCP (RFC 7766 section 5).  A timeout, a
 * SERVFAIL and any other failure are temporary and never an answer.
 * NXDOMAIN (the name does not exist) and NODATA (it exists, but has no
 * record of the type) are kept apart, as RFC 2308 does.
 */
#ifndef MG_DNS_H
#define MG_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "ip.h"

/* RFC 1034 section 3.6.2 sets no limit; 8 is what resolvers use. */
#define DNS_MAXCNAME	8

enum dns_status {
	DNS_OK = 0,
	DNS_NXDOMAIN,
	DNS_NODATA,
	DNS_SERVFAIL,
	DNS_TIMEOUT,
	DNS_ERROR	/* REFUSED, FORMERR, malformed answer, network
			   error, CNAME loop */
};

/* 1 for DNS_SERVFAIL, DNS_TIMEOUT and DNS_ERROR, else 0. */
int	dns_temporary(enum dns_status s);
/* "ok" "nxdomain" "nodata" "servfail" "timeout" "error". */
const char *dns_status_str(enum dns_status s);

struct dns;

/*
 * Makes a resolver from spec; NULL or "" means $MG_RESOLVER, else
 * "system".  timeout_ms is the wait for one try (0 means 3000), tries the
 * number of tries per server (0 means 2).  A zone file is read here once;
 * its errors name "FILE:LINE".  NULL and e set on error.
 */
struct dns *dns_new(const char *spec, unsigned timeout_ms, unsigned tries,
	    struct mgerr *e);
void	dns_free(struct dns *d);

struct dns_mx {
	unsigned	 pref;
	char		*host;
};

/* One answer set; every pointer is owned by the result. */
struct dns_result {
	enum dns_status	 status;
	size_t		 n;	/* records of the asked type */
	/*
	 * TXT: each record's character-strings concatenated (RFC 7208
	 * section 3.3), NUL-terminated (a TXT holding a NUL byte reads
	 * short as a C string), and their true lengths.
	 */
	char		**txt;
	size_t		*txtlen;
	/* PTR, CNAME and NS targets, lower case, no trailing dot. */
	char		**names;
	/* A and AAAA (A as v4, and v4-mapped AAAA as v4 too, ip.h). */
	struct ipaddr	*addrs;
	/*
	 * MX sorted by preference, hosts lower case without the trailing
	 * dot; a null MX "." (RFC 7505) is kept as host "".
	 */
	struct dns_mx	*mx;
	/*
	 * Minimum TTL of the answer and its CNAMEs; for NXDOMAIN and
	 * NODATA the negative TTL of the SOA when one came (RFC 2308
	 * section 5), else 0.
	 */
	uint32_t	 ttl;
	char		 why[128];	/* human text when status != DNS_OK */
};

/*
 * Looks up name (with or without the trailing dot) of type: an ldns
 * LDNS_RR_TYPE_ value or its number (A 1, NS 2, CNAME 5, PTR 12, MX 15,
 * TXT 16, AAAA 28).  CNAMEs are followed (at most DNS_MAXCNAME) for every
 * type but CNAME.  Always fills res and returns 0, except for bad
 * arguments (a malformed name, type 0): -1, e set and res->status
 * DNS_ERROR.  Free res with dns_result_free.
 */
int	dns_query(struct dns *d, const char *name, int type,
	    struct dns_result *res, struct mgerr *e);
/* Frees what res holds and zeroes it; safe on a zeroed result. */
void	dns_result_free(struct dns_result *res);

/* PTR lookup of an address (RFC 1035 section 3.5, RFC 3596 section 2.5). */
int	dns_ptr(struct dns *d, const struct ipaddr *ip, struct dns_result *res,
	    struct mgerr *e);

/*
 * A and AAAA of name in one result: DNS_OK if either has data; NXDOMAIN
 * if the name does not exist (then AAAA is not asked, RFC 8020); a
 * temporary status if either failed so and neither had data; else
 * NODATA.
 */
int	dns_addrs(struct dns *d, const char *name, struct dns_result *res,
	    struct mgerr *e);

/*
 * Raw access for the libspf2 and libopendkim hooks: as dns_query, and
 * returns the last answer packet of the CNAME chain (an ldns_pkt, for
 * zone mode one built from the file), which the caller frees with
 * ldns_pkt_free; NULL when no answer came (res->status says why) or
 * for bad arguments (e set).
 */
struct ldns_struct_pkt;
struct ldns_struct_pkt *dns_query_pkt(struct dns *d, const char *name,
	    int type, struct dns_result *res, struct mgerr *e);

#endif
