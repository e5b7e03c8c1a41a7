/*
 * dns: lookups through ldns, from DNS servers or from a zone file.
 *
 * Both modes produce an ldns_pkt (zone mode, in dns_zone.c, builds one
 * the way an authoritative server would), and one walker turns the packet into a
 * struct dns_result, following CNAMEs.  See dns.h for the contract.
 */
#include <sys/time.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "clock.h"
#include "dns.h"
#include "dns_udp.h"
#include "dns_zone.h"

#define DNS_MAXSERVERS	16	/* glibc reads 3; room for a long --resolver */
#define DNS_ITEMLEN	64	/* one "[v6addr]:port" item of a spec */
#define DNS_TIMEOUT_MS	3000
#define DNS_TRIES	2
#define DNS_TTL_NONE	UINT32_MAX

struct dns_server {
	ldns_resolver	*res;		/* one nameserver: ports may differ */
	struct sockaddr_storage sa;	/* the same, for UDP (dns_udp.c) */
	socklen_t	 salen;
	int		 fd;		/* UDP socket, -1 until first use */
	char		 label[IP_STRLEN + 8];	/* "192.0.2.1:53", "[::1]:53" */
};

struct dns {
	struct dns_server	*srv;
	size_t			 nsrv;
	ldns_rr_list		*zone;	/* zone mode: every record, owners
					   in canonical (lower) case */
	char			 zlabel[64];	/* "zone FILE" for why */
	unsigned		 timeout_ms;
	unsigned		 tries;
};

int
dns_temporary(enum dns_status s)
{
	return s == DNS_SERVFAIL || s == DNS_TIMEOUT || s == DNS_ERROR;
}

const char *
dns_status_str(enum dns_status s)
{
	switch (s) {
	case DNS_OK:
		return "ok";
	case DNS_NXDOMAIN:
		return "nxdomain";
	case DNS_NODATA:
		return "nodata";
	case DNS_SERVFAIL:
		return "servfail";
	case DNS_TIMEOUT:
		return "timeout";
	default:
		return "error";
	}
}

/*
 * Resolver set-up.
 */

static int
add_server(struct dns *d, const ldns_rdf *ns, unsigned port, struct mgerr *e)
{
	struct dns_server *s;
	struct sockaddr_storage *sa;
	ldns_resolver *r = NULL;
	struct timeval tv;
	size_t salen;
	char *a;

	if (d->nsrv == DNS_MAXSERVERS) {
		mgerr_set(e, "too many resolvers (at most %d)", DNS_MAXSERVERS);
		return -1;
	}
	sa = ldns_rdf2native_sockaddr_storage(ns, (uint16_t)port, &salen);
	if (sa == NULL || (r = ldns_resolver_new()) == NULL ||
	    ldns_resolver_push_nameserver(r, ns) != LDNS_STATUS_OK) {
		if (sa != NULL && r != NULL)
			ldns_resolver_deep_free(r);
		free(sa);
		mgerr_temp(e, "cannot make resolver: out of memory");
		return -1;
	}
	ldns_resolver_set_port(r, (uint16_t)port);
	ldns_resolver_set_recursive(r, true);
	ldns_resolver_set_dnssec(r, false);
	ldns_resolver_set_edns_udp_size(r, 0);
	/* Truncation is handled in net_try(): straight to TCP, no EDNS. */
	ldns_resolver_set_fallback(r, false);
	ldns_resolver_set_retry(r, (uint8_t)d->tries);
	ldns_resolver_set_retrans(r, 0);
	ldns_resolver_set_fail(r, false);
	ldns_resolver_set_random(r, false);
	ldns_resolver_set_defnames(r, false);
	ldns_resolver_set_dnsrch(r, false);
	tv.tv_sec = d->timeout_ms / 1000;
	tv.tv_usec = (d->timeout_ms % 1000) * 1000;
	ldns_resolver_set_timeout(r, tv);

	s = &d->srv[d->nsrv++];
	s->res = r;
	s->sa = *sa;
	s->salen = (socklen_t)salen;
	s->fd = -1;
	free(sa);
	a = ldns_rdf2str(ns);
	if (ldns_rdf_get_type(ns) == LDNS_RDF_TYPE_AAAA)
		snprintf(s->label, sizeof(s->label), "[%s]:%u", a ? a : "?",
		    port);
	else
		snprintf(s->label, sizeof(s->label), "%s:%u", a ? a : "?",
		    port);
	free(a);
	return 0;
}

static int
parse_port(const char *s, unsigned *port)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0 || v > 65535)
		return -1;
	*port = (unsigned)v;
	return 0;
}

/*
 * Splits one spec item, "A.B.C.D[:PORT]", "[V6][:PORT]" or a bare V6,
 * into addr and port (53 when absent).  Returns a reason or NULL.
 */
static const char *
split_item(char *item, char **addr, unsigned *port)
{
	char *p, *q;

	*port = 53;
	*addr = item;
	if (item[0] == '[') {
		if ((q = strchr(item, ']')) == NULL)
			return "missing ']'";
		*q++ = '\0';
		*addr = item + 1;
		if (*q == ':')
			return parse_port(q + 1, port) ? "bad port" : NULL;
		return *q != '\0' ? "junk after ']'" : NULL;
	}
	if ((p = strchr(item, ':')) != NULL && strchr(p + 1, ':') == NULL) {
		*p = '\0';
		return parse_port(p + 1, port) ? "bad port" : NULL;
	}
	return NULL;
}

static int
parse_servers(struct dns *d, const char *spec, struct mgerr *e)
{
	char item[DNS_ITEMLEN], *addr;
	const char *p, *why;
	unsigned port;
	ldns_rdf *ns;
	size_t len;

	for (p = spec; ; p += len + 1) {
		len = strcspn(p, ",");
		if (len == 0 || len >= sizeof(item)) {
			mgerr_set(e, "bad resolver \"%.*s\": %s", (int)len, p,
			    len ? "too long" : "empty");
			return -1;
		}
		memcpy(item, p, len);
		item[len] = '\0';
		ns = NULL;
		if ((why = split_item(item, &addr, &port)) == NULL &&
		    (ns = ldns_rdf_new_frm_str(strchr(addr, ':') ?
		    LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A, addr)) == NULL)
			why = "not an IP address";
		if (why != NULL) {
			mgerr_set(e, "bad resolver \"%.*s\": %s", (int)len, p,
			    why);
			return -1;
		}
		if (add_server(d, ns, port, e) == -1) {
			ldns_rdf_deep_free(ns);
			return -1;
		}
		ldns_rdf_deep_free(ns);
		if (p[len] == '\0')
			return 0;
	}
}

/* "system": the nameservers of resolv.conf(5), each on its own. */
static int
load_system(struct dns *d, struct mgerr *e)
{
	ldns_resolver *r = NULL;
	ldns_rdf **ns;
	ldns_status s;
	size_t i, n;
	int rc = 0;

	s = ldns_resolver_new_frm_file(&r, NULL);
	if (s != LDNS_STATUS_OK) {
		mgerr_temp(e, "cannot read /etc/resolv.conf: %s",
		    ldns_get_errorstr_by_id(s));
		return -1;
	}
	ns = ldns_resolver_nameservers(r);
	n = ldns_resolver_nameserver_count(r);
	for (i = 0; rc == 0 && i < n; i++)
		rc = add_server(d, ns[i], ldns_resolver_port(r), e);
	if (n == 0) {
		mgerr_temp(e, "no nameserver in /etc/resolv.conf");
		rc = -1;
	}
	ldns_resolver_deep_free(r);
	return rc;
}

struct dns *
dns_new(const char *spec, unsigned timeout_ms, unsigned tries,
    struct mgerr *e)
{
	struct dns *d;
	int rc;

	if (spec == NULL || *spec == '\0')
		spec = getenv("MG_RESOLVER");
	if (spec == NULL || *spec == '\0')
		spec = "system";
	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (d->srv = calloc(DNS_MAXSERVERS, sizeof(*d->srv))) == NULL) {
		free(d);
		mgerr_temp(e, "cannot make resolver: out of memory");
		return NULL;
	}
	d->timeout_ms = timeout_ms ? timeout_ms : DNS_TIMEOUT_MS;
	d->tries = tries == 0 ? DNS_TRIES : tries > 255 ? 255 : tries;
	if (strcmp(spec, "system") == 0)
		rc = load_system(d, e);
	else if (strncmp(spec, "zone:", 5) == 0) {
		snprintf(d->zlabel, sizeof(d->zlabel), "zone %s", spec + 5);
		d->zone = dns_zone_load(spec + 5, e);
		rc = d->zone == NULL ? -1 : 0;
	}
	else
		rc = parse_servers(d, spec, e);
	if (rc == -1) {
		dns_free(d);
		return NULL;
	}
	return d;
}

void
dns_free(struct dns *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->nsrv; i++) {
		ldns_resolver_deep_free(d->srv[i].res);
		if (d->srv[i].fd != -1)
			close(d->srv[i].fd);
	}
	free(d->srv);
	if (d->zone != NULL)
		ldns_rr_list_deep_free(d->zone);
	free(d);
}

/*
 * Server mode.
 */

/*
 * 1 when the answer a carries q's one question: the name compared
 * without regard to case, the type and the class (RFC 5452 section 9.1).
 */
static int
same_question(const ldns_pkt *q, const ldns_pkt *a)
{
	const ldns_rr *qq, *aq;

	if (ldns_pkt_qdcount(a) != 1 || ldns_rr_list_rr_count(
	    ldns_pkt_question(a)) != 1)
		return 0;
	qq = ldns_rr_list_rr(ldns_pkt_question(q), 0);
	aq = ldns_rr_list_rr(ldns_pkt_question(a), 0);
	return ldns_rr_get_type(qq) == ldns_rr_get_type(aq) &&
	    ldns_rr_get_class(qq) == ldns_rr_get_class(aq) &&
	    ldns_dname_compare(ldns_rr_owner(qq), ldns_rr_owner(aq)) == 0;
}

/*
 * Sends q to one server (ldns does the tries).  ldns reports a silent
 * server and a refused TCP connection alike, so the time taken tells a
 * timeout from a network error.
 */
static enum dns_status
net_send(const struct dns *d, struct dns_server *s, ldns_pkt *q,
    ldns_pkt **a, char *why, size_t len)
{
	int64_t t0;
	ldns_status ls;
	int tcp = ldns_resolver_usevc(s->res);

	*a = NULL;
	/* ldns marks a server that failed once as dead for good. */
	ldns_resolver_set_nameserver_rtt(s->res, 0, LDNS_RESOLV_RTT_MIN);
	t0 = clock_ms();
	ls = ldns_resolver_send_pkt(a, s->res, q);
	if (ls != LDNS_STATUS_OK || *a == NULL) {
		if (*a != NULL)
			ldns_pkt_free(*a);
		*a = NULL;
		if (clock_ms() - t0 >= d->timeout_ms) {
			snprintf(why, len, "timeout after %u ms from %s%s",
			    d->timeout_ms, s->label, tcp ? " over TCP" : "");
			return DNS_TIMEOUT;
		}
		snprintf(why, len, "%s from %s%s", ldns_get_errorstr_by_id(ls),
		    s->label, tcp ? " over TCP" : "");
		return DNS_ERROR;
	}
	/* Over TCP the stream is the server's: a reply to another
	 * question there is an error, not a packet to wait past. */
	if (ldns_pkt_id(*a) != ldns_pkt_id(q) || !ldns_pkt_qr(*a) ||
	    !same_question(q, *a)) {
		ldns_pkt_free(*a);
		*a = NULL;
		snprintf(why, len, "mismatched answer from %s%s", s->label,
		    tcp ? " over TCP" : "");
		return DNS_ERROR;
	}
	return DNS_OK;
}

/*
 * Sends q to one server over UDP on the server's long-lived socket
 * (dns_udp.c): a socket per query, as ldns makes, cost more than the
 * rest of a check's DNS work.
 */
static enum dns_status
net_udp(const struct dns *d, struct dns_server *s, ldns_pkt *q,
    ldns_pkt **a, char *why, size_t len)
{
	enum dns_status st = DNS_ERROR;
	uint8_t *wire = NULL, *ans;
	size_t wlen, alen;
	int rc;

	*a = NULL;
	if ((ans = malloc(DNS_UDP_MAX)) == NULL ||
	    ldns_pkt2wire(&wire, q, &wlen) != LDNS_STATUS_OK) {
		snprintf(why, len, "cannot make query: out of memory");
		goto out;
	}
	rc = dns_udp_exchange(&s->fd, &s->sa, s->salen, wire, wlen, ans,
	    &alen, d->timeout_ms, d->tries);
	if (rc == 0) {
		snprintf(why, len, "timeout after %u ms from %s",
		    d->timeout_ms, s->label);
		st = DNS_TIMEOUT;
	} else if (rc == -1)
		snprintf(why, len, "%s from %s", strerror(errno), s->label);
	else if (ldns_wire2pkt(a, ans, alen) != LDNS_STATUS_OK) {
		*a = NULL;
		snprintf(why, len, "malformed answer from %s", s->label);
	} else if (ldns_pkt_id(*a) != ldns_pkt_id(q) || !ldns_pkt_qr(*a)) {
		ldns_pkt_free(*a);
		*a = NULL;
		snprintf(why, len, "mismatched answer from %s", s->label);
	} else
		st = DNS_OK;
out:
	free(wire);
	free(ans);
	return st;
}

/* One server: DNS_OK with an answer whose rcode is NOERROR or NXDOMAIN. */
static enum dns_status
net_try(const struct dns *d, struct dns_server *s, const ldns_rdf *qname,
    int type, ldns_pkt **out, char *why, size_t len)
{
	ldns_lookup_table *lt;
	enum dns_status st;
	ldns_pkt *q = NULL, *a = NULL;
	ldns_rdf *qcopy = NULL;
	int rc;

	/*
	 * The query is built here rather than by
	 * ldns_resolver_prepare_query_pkt, whose random ID comes from
	 * OpenSSL's RAND_bytes: initialising OpenSSL for it cost 1.5 ms of
	 * CPU in every process.  arc4random(3) draws from getrandom(2), as
	 * unpredictable an ID as RFC 5452 section 4.3 asks.
	 */
	if ((qcopy = ldns_rdf_clone(qname)) == NULL ||
	    (q = ldns_pkt_query_new(qcopy, (ldns_rr_type)type,
	    LDNS_RR_CLASS_IN, LDNS_RD)) == NULL) {
		ldns_rdf_deep_free(qcopy);
		snprintf(why, len, "cannot make query: out of memory");
		return DNS_ERROR;
	}
	ldns_pkt_set_id(q, (uint16_t)arc4random_uniform(65536));
	st = net_udp(d, s, q, &a, why, len);
	if (st == DNS_OK && ldns_pkt_tc(a)) {
		/* RFC 7766 section 5: ask a truncated answer again by TCP. */
		ldns_pkt_free(a);
		ldns_resolver_set_usevc(s->res, true);
		st = net_send(d, s, q, &a, why, len);
		ldns_resolver_set_usevc(s->res, false);
		if (st == DNS_OK && ldns_pkt_tc(a)) {
			snprintf(why, len, "truncated answer over TCP from %s",
			    s->label);
			st = DNS_ERROR;
		}
	}
	ldns_pkt_free(q);
	if (st == DNS_OK) {
		rc = ldns_pkt_get_rcode(a);
		if (rc == LDNS_RCODE_SERVFAIL)
			st = DNS_SERVFAIL;
		else if (rc != LDNS_RCODE_NOERROR && rc != LDNS_RCODE_NXDOMAIN)
			st = DNS_ERROR;
		if (st != DNS_OK) {
			lt = ldns_lookup_by_id(ldns_rcodes, rc);
			snprintf(why, len, "%s from %s", lt ? lt->name : "RCODE",
			    s->label);
		}
	}
	if (st != DNS_OK && a != NULL)
		ldns_pkt_free(a);
	else
		*out = a;
	return st;
}

/* Asks the servers in order until one answers NOERROR or NXDOMAIN. */
static enum dns_status
fetch(const struct dns *d, const ldns_rdf *qname, int type, ldns_pkt **p,
    char *why, size_t len, const char **from)
{
	enum dns_status st = DNS_ERROR;
	size_t i;

	*p = NULL;
	if (d->zone != NULL) {
		*from = d->zlabel;
		if ((*p = dns_zone_answer(d->zone, qname, type)) != NULL)
			return DNS_OK;
		snprintf(why, len, "out of memory");
		return DNS_ERROR;
	}
	for (i = 0; i < d->nsrv; i++) {
		*from = d->srv[i].label;
		st = net_try(d, &d->srv[i], qname, type, p, why, len);
		if (st == DNS_OK)
			break;
	}
	return st;
}

/*
 * Answers to results.
 */

static uint32_t
min_ttl(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* A name as text: lower case, without the trailing dot; root is "". */
static char *
name_str(const ldns_rdf *rdf)
{
	char *s, *p;
	size_t n;

	if (rdf == NULL || (s = ldns_rdf2str(rdf)) == NULL)
		return NULL;
	for (p = s; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	n = strlen(s);
	if (n > 0 && s[n - 1] == '.' && (n < 2 || s[n - 2] != '\\'))
		s[n - 1] = '\0';
	return s;
}

/* RFC 7208 section 3.3: the character-strings of one TXT, joined. */
static int
txt_join(const ldns_rr *rr, char **out, size_t *outlen)
{
	const uint8_t *data;
	size_t i, n, len, total = 0;
	char *s;

	for (i = 0; i < ldns_rr_rd_count(rr); i++)
		total += ldns_rdf_size(ldns_rr_rdf(rr, i));
	if ((s = malloc(total + 1)) == NULL)
		return -1;
	for (i = n = 0; i < ldns_rr_rd_count(rr); i++) {
		data = ldns_rdf_data(ldns_rr_rdf(rr, i));
		len = ldns_rdf_size(ldns_rr_rdf(rr, i));
		if (len == 0 || data[0] > len - 1)
			continue;
		memcpy(s + n, data + 1, data[0]);
		n += data[0];
	}
	s[n] = '\0';
	*out = s;
	*outlen = n;
	return 0;
}

static void
addr_of(const ldns_rdf *rdf, struct ipaddr *ip)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };

	memset(ip, 0, sizeof(*ip));
	if (ldns_rdf_size(rdf) == 4) {
		memcpy(ip->b, mapped, sizeof(mapped));
		memcpy(ip->b + 12, ldns_rdf_data(rdf), 4);
		ip->v4 = 1;
	} else if (ldns_rdf_size(rdf) == 16) {
		memcpy(ip->b, ldns_rdf_data(rdf), 16);
		ip->v4 = memcmp(ip->b, mapped, sizeof(mapped)) == 0;
	}
}

static int
mx_cmp(const void *a, const void *b)
{
	const struct dns_mx *x = a, *y = b;

	if (x->pref != y->pref)
		return x->pref < y->pref ? -1 : 1;
	return strcmp(x->host, y->host);
}

static int
fill_one(struct dns_result *res, size_t i, const ldns_rr *rr, int type)
{
	switch (type) {
	case LDNS_RR_TYPE_A:
	case LDNS_RR_TYPE_AAAA:
		addr_of(ldns_rr_rdf(rr, 0), &res->addrs[i]);
		return 0;
	case LDNS_RR_TYPE_MX:
		res->mx[i].pref = ldns_rdf2native_int16(ldns_rr_rdf(rr, 0));
		res->mx[i].host = name_str(ldns_rr_rdf(rr, 1));
		return res->mx[i].host ? 0 : -1;
	case LDNS_RR_TYPE_TXT:
		return txt_join(rr, &res->txt[i], &res->txtlen[i]);
	case LDNS_RR_TYPE_PTR:
	case LDNS_RR_TYPE_CNAME:
	case LDNS_RR_TYPE_NS:
		res->names[i] = name_str(ldns_rr_rdf(rr, 0));
		return res->names[i] ? 0 : -1;
	default:
		return 0;
	}
}

/* Converts the records of l into res; -1 when out of memory. */
static int
fill(struct dns_result *res, const ldns_rr_list *l, int type)
{
	size_t i, n = ldns_rr_list_rr_count(l);
	int bad = 0;

	if (type == LDNS_RR_TYPE_A || type == LDNS_RR_TYPE_AAAA)
		bad = (res->addrs = calloc(n, sizeof(*res->addrs))) == NULL;
	else if (type == LDNS_RR_TYPE_MX)
		bad = (res->mx = calloc(n, sizeof(*res->mx))) == NULL;
	else if (type == LDNS_RR_TYPE_TXT)
		bad = (res->txt = calloc(n, sizeof(*res->txt))) == NULL ||
		    (res->txtlen = calloc(n, sizeof(*res->txtlen))) == NULL;
	else if (type == LDNS_RR_TYPE_PTR || type == LDNS_RR_TYPE_CNAME ||
	    type == LDNS_RR_TYPE_NS)
		bad = (res->names = calloc(n, sizeof(*res->names))) == NULL;
	res->n = n;
	for (i = 0; !bad && i < n; i++)
		bad = fill_one(res, i, ldns_rr_list_rr(l, i), type) == -1;
	if (!bad && res->mx != NULL)
		qsort(res->mx, n, sizeof(*res->mx), mx_cmp);
	return bad ? -1 : 0;
}

/*
 * Follows the CNAMEs from *cur through the answer section of p (RFC 1034
 * section 3.6.2), moving *cur to the end of the chain and collecting the
 * records of type it owns into out.  Returns the hop count, -1 past
 * DNS_MAXCNAME.
 */
static int
walk(const ldns_pkt *p, ldns_rdf **cur, int type, ldns_rr_list *out,
    uint32_t *ttl, int hops)
{
	const ldns_rr_list *an = ldns_pkt_answer(p);
	ldns_rr *rr, *cname;
	ldns_rdf *next;
	size_t i, n;

	for (;;) {
		cname = NULL;
		for (i = n = 0; i < ldns_rr_list_rr_count(an); i++) {
			rr = ldns_rr_list_rr(an, i);
			if (ldns_dname_compare(ldns_rr_owner(rr), *cur) != 0)
				continue;
			if ((int)ldns_rr_get_type(rr) == type) {
				ldns_rr_list_push_rr(out, rr);
				*ttl = min_ttl(*ttl, ldns_rr_ttl(rr));
				n++;
			} else if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME)
				cname = rr;
		}
		if (n > 0 || cname == NULL || type == LDNS_RR_TYPE_CNAME)
			return hops;
		if (++hops > DNS_MAXCNAME ||
		    (next = ldns_rdf_clone(ldns_rr_rdf(cname, 0))) == NULL)
			return -1;
		*ttl = min_ttl(*ttl, ldns_rr_ttl(cname));
		ldns_dname2canonical(next);
		ldns_rdf_deep_free(*cur);
		*cur = next;
	}
}

/* The negative TTL of an answer: its SOA's (RFC 2308 section 5), or 0. */
static uint32_t
neg_ttl(const ldns_pkt *p)
{
	const ldns_rr_list *au = ldns_pkt_authority(p);
	const ldns_rr *rr;
	size_t i;

	for (i = 0; i < ldns_rr_list_rr_count(au); i++) {
		rr = ldns_rr_list_rr(au, i);
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA &&
		    ldns_rr_rd_count(rr) == 7)
			return min_ttl(ldns_rr_ttl(rr),
			    ldns_rdf2native_int32(ldns_rr_rdf(rr, 6)));
	}
	return 0;
}

/*
 * Asks for cur and follows its CNAMEs, asking again for the end of a
 * chain that leaves the answer (RFC 1034 section 4.3.2, step 3a).
 * Fills res; returns the last answer (with out pointing into it).
 */
static ldns_pkt *
resolve(const struct dns *d, ldns_rdf *cur, int type, struct dns_result *res,
    ldns_rr_list *out)
{
	const char *from = "";
	uint32_t ttl = DNS_TTL_NONE;
	ldns_pkt *p = NULL;
	ldns_rdf *start;
	int hops = 0;

	for (;;) {
		if (p != NULL)
			ldns_pkt_free(p);
		res->status = fetch(d, cur, type, &p, res->why,
		    sizeof(res->why), &from);
		if (res->status != DNS_OK)
			break;
		start = ldns_rdf_clone(cur);
		hops = walk(p, &cur, type, out, &ttl, hops);
		if (hops == -1) {
			res->status = DNS_ERROR;
			snprintf(res->why, sizeof(res->why),
			    "CNAME chain longer than %d from %s", DNS_MAXCNAME,
			    from);
		} else if (ldns_rr_list_rr_count(out) > 0) {
			if (fill(res, out, type) == -1) {
				res->status = DNS_ERROR;
				snprintf(res->why, sizeof(res->why),
				    "out of memory");
			}
		} else if (ldns_pkt_get_rcode(p) == LDNS_RCODE_NXDOMAIN) {
			res->status = DNS_NXDOMAIN;
			snprintf(res->why, sizeof(res->why), "NXDOMAIN from %s",
			    from);
			ttl = min_ttl(ttl, neg_ttl(p));
		} else if (start != NULL &&
		    ldns_dname_compare(start, cur) != 0) {
			ldns_rdf_deep_free(start);
			continue;
		} else {
			res->status = DNS_NODATA;
			snprintf(res->why, sizeof(res->why),
			    "no record of the type from %s", from);
			ttl = min_ttl(ttl, neg_ttl(p));
		}
		ldns_rdf_deep_free(start);
		break;
	}
	ldns_rdf_deep_free(cur);
	res->ttl = ttl == DNS_TTL_NONE ? 0 : ttl;
	return p;
}

/* Checks the arguments and resolves; -1 for bad arguments. */
static int
query(struct dns *d, const char *name, int type, struct dns_result *res,
    ldns_pkt **p, struct mgerr *e)
{
	ldns_rr_list *out;
	ldns_rdf *qname;

	*p = NULL;
	if (res == NULL) {
		mgerr_set(e, "bad DNS query: no result");
		return -1;
	}
	memset(res, 0, sizeof(*res));
	res->status = DNS_ERROR;
	if (d == NULL || name == NULL || *name == '\0' || type <= 0 ||
	    type > 65535 || (qname = ldns_dname_new_frm_str(name)) == NULL) {
		mgerr_set(e, "bad DNS query \"%.*s\" type %d", 256,
		    name ? name : "(null)", type);
		snprintf(res->why, sizeof(res->why), "bad query");
		return -1;
	}
	ldns_dname2canonical(qname);
	if ((out = ldns_rr_list_new()) == NULL) {
		ldns_rdf_deep_free(qname);
		snprintf(res->why, sizeof(res->why), "out of memory");
		return 0;
	}
	*p = resolve(d, qname, type, res, out);
	ldns_rr_list_free(out);
	return 0;
}

int
dns_query(struct dns *d, const char *name, int type, struct dns_result *res,
    struct mgerr *e)
{
	ldns_pkt *p;
	int rc;

	rc = query(d, name, type, res, &p, e);
	if (p != NULL)
		ldns_pkt_free(p);
	return rc;
}

struct ldns_struct_pkt *
dns_query_pkt(struct dns *d, const char *name, int type,
    struct dns_result *res, struct mgerr *e)
{
	ldns_pkt *p;

	query(d, name, type, res, &p, e);
	return p;
}

void
dns_result_free(struct dns_result *res)
{
	size_t i;

	if (res == NULL)
		return;
	for (i = 0; i < res->n; i++) {
		if (res->txt != NULL)
			free(res->txt[i]);
		if (res->names != NULL)
			free(res->names[i]);
		if (res->mx != NULL)
			free(res->mx[i].host);
	}
	free(res->txt);
	free(res->txtlen);
	free(res->names);
	free(res->addrs);
	free(res->mx);
	memset(res, 0, sizeof(*res));
}

int
dns_ptr(struct dns *d, const struct ipaddr *ip, struct dns_result *res,
    struct mgerr *e)
{
	char name[LDNS_MAX_DOMAINLEN + 1];

	if (ip == NULL) {
		if (res != NULL) {
			memset(res, 0, sizeof(*res));
			res->status = DNS_ERROR;
		}
		mgerr_set(e, "bad DNS query: no address");
		return -1;
	}
	ip_ptr_name(ip, name, sizeof(name));
	return dns_query(d, name, LDNS_RR_TYPE_PTR, res, e);
}

/* Appends the addresses of b to a; a keeps its status. */
static int
addrs_merge(struct dns_result *a, struct dns_result *b)
{
	struct ipaddr *n;

	if (b->n == 0)
		return 0;
	n = reallocarray(a->addrs, a->n + b->n, sizeof(*n));
	if (n == NULL)
		return -1;
	memcpy(n + a->n, b->addrs, b->n * sizeof(*n));
	a->addrs = n;
	a->n += b->n;
	return 0;
}

int
dns_addrs(struct dns *d, const char *name, struct dns_result *res,
    struct mgerr *e)
{
	struct dns_result r6;
	enum dns_status s4;

	if (dns_query(d, name, LDNS_RR_TYPE_A, res, e) == -1)
		return -1;
	/* RFC 8020: NXDOMAIN means no type at all exists there. */
	if (res->status == DNS_NXDOMAIN)
		return 0;
	dns_query(d, name, LDNS_RR_TYPE_AAAA, &r6, e);
	s4 = res->status;
	if (addrs_merge(res, &r6) == -1) {
		res->status = DNS_ERROR;
		snprintf(res->why, sizeof(res->why), "out of memory");
	} else if (res->n > 0) {
		res->status = DNS_OK;
		res->ttl = s4 == DNS_OK && r6.status == DNS_OK ?
		    min_ttl(res->ttl, r6.ttl) : s4 == DNS_OK ? res->ttl : r6.ttl;
	} else if (!dns_temporary(s4) && r6.status != DNS_NODATA) {
		/* A said NODATA: AAAA's failure or NXDOMAIN tells more. */
		res->status = r6.status;
		res->ttl = r6.ttl;
		memcpy(res->why, r6.why, sizeof(res->why));
	}
	dns_result_free(&r6);
	return 0;
}
