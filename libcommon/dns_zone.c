/*
 * dns_zone: answers from a zone file; see dns_zone.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "dns.h"
#include "dns_zone.h"

/*
 * Reads a zone file (RFC 1035 section 5.1) once, record by record, so
 * that a file may hold several zones, each with its SOA.  Relative names
 * before any $ORIGIN hang off the root; a record without a TTL gets the
 * last $TTL, else 3600.
 */
ldns_rr_list *
dns_zone_load(const char *file, struct mgerr *e)
{
	ldns_rr_list *zone = NULL;
	ldns_rdf *origin, *prev = NULL;
	uint32_t ttl = 3600;
	ldns_status s = LDNS_STATUS_OK;
	ldns_rr *rr;
	FILE *fp;
	int line = 0;

	if (*file == '\0') {
		mgerr_set(e, "bad resolver \"zone:\": missing file name");
		return NULL;
	}
	if ((fp = fopen(file, "r")) == NULL) {
		mgerr_set(e, "cannot open %s: %s", file, strerror(errno));
		return NULL;
	}
	origin = ldns_dname_new_frm_str(".");
	if ((zone = ldns_rr_list_new()) == NULL || origin == NULL)
		s = LDNS_STATUS_MEM_ERR;
	while (s == LDNS_STATUS_OK && !feof(fp)) {
		rr = NULL;
		s = ldns_rr_new_frm_fp_l(&rr, fp, &ttl, &origin, &prev, &line);
		if (s == LDNS_STATUS_SYNTAX_EMPTY || s == LDNS_STATUS_SYNTAX_TTL ||
		    s == LDNS_STATUS_SYNTAX_ORIGIN) {
			s = LDNS_STATUS_OK;
			continue;
		}
		if (s == LDNS_STATUS_SYNTAX_INCLUDE)
			s = LDNS_STATUS_SYNTAX_INCLUDE_ERR_NOTIMPL;
		if (s != LDNS_STATUS_OK)
			break;
		ldns_dname2canonical(ldns_rr_owner(rr));
		if (!ldns_rr_list_push_rr(zone, rr)) {
			ldns_rr_free(rr);
			s = LDNS_STATUS_MEM_ERR;
		}
	}
	fclose(fp);
	ldns_rdf_deep_free(origin);
	ldns_rdf_deep_free(prev);
	if (s != LDNS_STATUS_OK) {
		mgerr_set(e, "%s", ldns_get_errorstr_by_id(s));
		mgerr_at(e, file, (unsigned long)line);
		if (zone != NULL)
			ldns_rr_list_deep_free(zone);
		return NULL;
	}
	return zone;
}

/* The records owned by name (pointers into the zone, not copies). */
static ldns_rr_list *
zone_rrset(const ldns_rr_list *z, const ldns_rdf *name)
{
	ldns_rr_list *l;
	size_t i;

	if ((l = ldns_rr_list_new()) == NULL)
		return NULL;
	for (i = 0; i < ldns_rr_list_rr_count(z); i++)
		if (ldns_dname_compare(ldns_rr_owner(ldns_rr_list_rr(z, i)),
		    name) == 0)
			ldns_rr_list_push_rr(l, ldns_rr_list_rr(z, i));
	return l;
}

/* 1 if some record is owned by a name strictly below name. */
static int
zone_below(const ldns_rr_list *z, const ldns_rdf *name)
{
	size_t i;

	for (i = 0; i < ldns_rr_list_rr_count(z); i++)
		if (ldns_dname_is_subdomain(ldns_rr_owner(
		    ldns_rr_list_rr(z, i)), name))
			return 1;
	return 0;
}

/*
 * The wildcard records that answer for a name that does not exist: those
 * of "*.CE", CE the closest encloser, the longest existing ancestor
 * (RFC 4592 sections 3.3.1 and 4).  NULL when there are none.
 */
static ldns_rr_list *
zone_wildcard(const ldns_rr_list *z, const ldns_rdf *name)
{
	ldns_rdf *ce, *next, *w;
	ldns_rr_list *l = NULL, *own;
	char buf[LDNS_MAX_DOMAINLEN + 8], *s;

	for (ce = ldns_dname_left_chop(name); ce != NULL; ce = next) {
		own = zone_rrset(z, ce);
		if (own != NULL && (ldns_rr_list_rr_count(own) > 0 ||
		    zone_below(z, ce))) {
			s = ldns_rdf2str(ce);
			snprintf(buf, sizeof(buf), "*.%s",
			    s && strcmp(s, ".") != 0 ? s : "");
			free(s);
			if ((w = ldns_dname_new_frm_str(buf)) != NULL) {
				l = zone_rrset(z, w);
				ldns_rdf_deep_free(w);
			}
			ldns_rr_list_free(own);
			ldns_rdf_deep_free(ce);
			break;
		}
		ldns_rr_list_free(own);
		next = ldns_dname_label_count(ce) > 0 ?
		    ldns_dname_left_chop(ce) : NULL;
		ldns_rdf_deep_free(ce);
	}
	if (l != NULL && ldns_rr_list_rr_count(l) == 0) {
		ldns_rr_list_free(l);
		l = NULL;
	}
	return l;
}

/* Copies rr into section of p with owner name (wildcard synthesis). */
static int
push_as(ldns_pkt *p, ldns_pkt_section sec, const ldns_rr *rr,
    const ldns_rdf *name)
{
	ldns_rr *c;

	if ((c = ldns_rr_clone(rr)) == NULL)
		return -1;
	ldns_rdf_deep_free(ldns_rr_owner(c));
	ldns_rr_set_owner(c, ldns_rdf_clone(name));
	return ldns_pkt_push_rr(p, sec, c) ? 0 : -1;
}

/*
 * Answers name/type into p as an authoritative server would: its records
 * of the type, or its CNAME and what the target answers (RFC 1034 section
 * 4.3.2), NXDOMAIN when the name and its wildcard are absent, and NODATA
 * (for empty non-terminals too, RFC 4592 section 2.2.2) otherwise.
 * Returns the last name of the chain (the caller frees it).
 */
static ldns_rdf *
zone_chain(const ldns_rr_list *z, ldns_rdf *cur, int type, ldns_pkt *p)
{
	ldns_rr_list *set;
	ldns_rr *rr, *cname;
	size_t i, n;
	int hop;

	for (hop = 0; hop <= DNS_MAXCNAME; hop++) {
		set = zone_rrset(z, cur);
		if (set != NULL && ldns_rr_list_rr_count(set) == 0) {
			ldns_rr_list_free(set);
			if (zone_below(z, cur))
				return cur;
			set = zone_wildcard(z, cur);
			if (set == NULL) {
				ldns_pkt_set_rcode(p, LDNS_RCODE_NXDOMAIN);
				return cur;
			}
		}
		if (set == NULL)
			return cur;
		cname = NULL;
		for (i = n = 0; i < ldns_rr_list_rr_count(set); i++) {
			rr = ldns_rr_list_rr(set, i);
			if ((int)ldns_rr_get_type(rr) == type) {
				push_as(p, LDNS_SECTION_ANSWER, rr, cur);
				n++;
			} else if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME)
				cname = rr;
		}
		if (n == 0 && cname != NULL) {
			push_as(p, LDNS_SECTION_ANSWER, cname, cur);
			ldns_rdf_deep_free(cur);
			cur = ldns_rdf_clone(ldns_rr_rdf(cname, 0));
			ldns_dname2canonical(cur);
		}
		ldns_rr_list_free(set);
		if (n > 0 || cname == NULL || cur == NULL)
			return cur;
	}
	return cur;
}

ldns_pkt *
dns_zone_answer(const ldns_rr_list *zone, const ldns_rdf *qname, int type)
{
	const ldns_rr *rr, *soa = NULL;
	const ldns_rr_list *an;
	ldns_rdf *cur;
	ldns_pkt *p;
	size_t i;

	if ((p = ldns_pkt_new()) == NULL)
		return NULL;
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_aa(p, true);
	ldns_pkt_set_rcode(p, LDNS_RCODE_NOERROR);
	cur = zone_chain(zone, ldns_rdf_clone(qname), type, p);
	an = ldns_pkt_answer(p);
	for (i = 0; cur != NULL && i < ldns_rr_list_rr_count(an); i++)
		if ((int)ldns_rr_get_type(ldns_rr_list_rr(an, i)) == type) {
			ldns_rdf_deep_free(cur);
			return p;
		}
	/* A negative answer carries the SOA of its zone (RFC 2308 sec. 3). */
	for (i = 0; cur != NULL && i < ldns_rr_list_rr_count(zone); i++) {
		rr = ldns_rr_list_rr(zone, i);
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA &&
		    (ldns_dname_compare(ldns_rr_owner(rr), cur) == 0 ||
		    ldns_dname_is_subdomain(cur, ldns_rr_owner(rr))) &&
		    (soa == NULL || ldns_dname_is_subdomain(ldns_rr_owner(rr),
		    ldns_rr_owner(soa))))
			soa = rr;
	}
	if (soa != NULL)
		push_as(p, LDNS_SECTION_AUTHORITY, soa, ldns_rr_owner(soa));
	ldns_rdf_deep_free(cur);
	return p;
}
