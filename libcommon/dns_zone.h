/*
 * dns_zone: answers from a zone file, for dns.c's "zone:FILE" resolver
 * (private to the dns module; callers use dns.h).
 *
 * The file is read once into one list of records, so that it may hold
 * several zones, with or without SOA.  An answer is built as an
 * authoritative server would build it: exact owner match, CNAME at the
 * owner followed, wildcards by closest encloser (RFC 4592), empty
 * non-terminals as NODATA, names compared case-insensitively.  Zone cuts
 * (NS below an apex) and DNAME are not interpreted.
 */
#ifndef MG_DNS_ZONE_H
#define MG_DNS_ZONE_H

#include <ldns/ldns.h>

#include "err.h"

/*
 * Reads file (RFC 1035 section 5.1: $ORIGIN, $TTL; no $INCLUDE).
 * Returns every record, owners in lower case, for ldns_rr_list_deep_free;
 * NULL with e set to "FILE:LINE: reason" on error.
 */
ldns_rr_list	*dns_zone_load(const char *file, struct mgerr *e);

/*
 * Answers qname/type from zone: an answer section with the records (and
 * the CNAMEs that led to them), the rcode NOERROR or NXDOMAIN, and the
 * enclosing SOA in the authority section of a negative answer.  The
 * caller frees it with ldns_pkt_free; NULL when out of memory.
 */
ldns_pkt	*dns_zone_answer(const ldns_rr_list *zone, const ldns_rdf *qname,
		    int type);

#endif
