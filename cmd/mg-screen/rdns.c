/*
 * Reverse lookups of mg-screen: PTR present, forward-confirmed PTR
 * (iprev, RFC 8601 section 3), HELO syntax, HELO claiming to be us, HELO
 * resolving and matching the client, and the sender domain's MX or A.
 */
#include <ctype.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "addr.h"
#include "authres.h"
#include "log.h"
#include "screen.h"

/* RFC 5321 section 4.5.3.1.2: 64 PTR names are plenty; 10 is common. */
#define PTR_MAX_NAMES	10

int
rdns_needed(const struct screen *s)
{
	return s->require_ptr != ACT_OFF || s->require_fcrdns != ACT_OFF ||
	    s->hostl != NULL || s->trusted != NULL ||
	    s->helo_resolves != ACT_OFF || s->helo_match != ACT_OFF ||
	    s->sender_domain != ACT_OFF;
}

static int
ip_in(const struct ipaddr *ip, const struct dns_result *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (ip_cmp(ip, &r->addrs[i]) == 0)
			return 1;
	return 0;
}

/* Looks up the PTR names once, then confirms them forward. */
void
rdns_lookup(struct screen *s)
{
	struct dns_result ptr, fwd;
	struct mgerr e;
	char ipbuf[IP_STRLEN];
	size_t i;
	int temp = 0;

	if (s->iprev_done || s->dns == NULL || !s->env.have_ip)
		return;
	s->iprev_done = 1;
	ip_format(&s->env.ip, ipbuf, sizeof(ipbuf));
	dns_ptr(s->dns, &s->env.ip, &ptr, &e);
	s->ptr_status = ptr.status;
	log_explain(s->explain, "PTR %s: %s, %zu names", ipbuf,
	    dns_status_str(ptr.status), ptr.n);
	if (ptr.status == DNS_OK && ptr.n > 0)
		strlcpy(s->ptr_name, ptr.names[0], sizeof(s->ptr_name));
	for (i = 0; ptr.status == DNS_OK && i < ptr.n && i < PTR_MAX_NAMES;
	    i++) {
		dns_addrs(s->dns, ptr.names[i], &fwd, &e);
		log_explain(s->explain, "forward %s: %s%s", ptr.names[i],
		    dns_status_str(fwd.status),
		    ip_in(&s->env.ip, &fwd) ? ", matches" : "");
		if (fwd.status == DNS_OK && ip_in(&s->env.ip, &fwd)) {
			strlcpy(s->fcrdns, ptr.names[i], sizeof(s->fcrdns));
			dns_result_free(&fwd);
			break;
		}
		temp |= dns_temporary(fwd.status);
		dns_result_free(&fwd);
	}
	if (s->fcrdns[0] != '\0')
		s->iprev = "pass";
	else if (dns_temporary(ptr.status) || temp)
		s->iprev = "temperror";
	else
		s->iprev = "fail";
	authres_add(&s->ar, "iprev", s->iprev,
	    s->fcrdns[0] ? s->fcrdns : s->ptr_name[0] ? s->ptr_name : NULL,
	    "policy.iprev", ipbuf, (char *)NULL);	/* RFC 8601 2.7.3 */
	dns_result_free(&ptr);
}

/* A DNS failure defers whatever the action: it proves nothing. */
static void
temp_fail(struct screen *s, struct outcome *o, int act, const char *check,
    const char *why)
{
	log_explain(s->explain, "%s: temporary DNS failure: %s", check, why);
	if (act == ACT_HEADER)
		mark(s, check, "temporary DNS failure");
	else if (act != ACT_OFF)
		outcome_refuse(o, EXIT_DEFER, "451", "4.4.3",
		    "temporary DNS failure (%s), try again later", why);
}

void
check_rdns(struct screen *s, struct outcome *o)
{
	char ipbuf[IP_STRLEN], why[300];

	ip_format(&s->env.ip, ipbuf, sizeof(ipbuf));
	if (s->require_ptr != ACT_OFF && s->ptr_name[0] == '\0') {
		if (dns_temporary(s->ptr_status))
			temp_fail(s, o, s->require_ptr, "ptr", ipbuf);
		else {
			snprintf(why, sizeof(why), "client %s has no PTR "
			    "record", ipbuf);
			fail_check(s, o, s->require_ptr, "ptr", why);
		}
	}
	if (s->require_fcrdns != ACT_OFF && s->fcrdns[0] == '\0') {
		if (strcmp(s->iprev, "temperror") == 0)
			temp_fail(s, o, s->require_fcrdns, "fcrdns", ipbuf);
		else {
			snprintf(why, sizeof(why), "client %s has no "
			    "forward-confirmed PTR name", ipbuf);
			fail_check(s, o, s->require_fcrdns, "fcrdns", why);
		}
	}
}

/*
 * RFC 5321 section 4.1.1.1: HELO takes a domain, or an address literal
 * (section 4.1.3) when the client has no name.  A domain needs two
 * labels of letters, digits and hyphens, and a top label that is not
 * all digits (so "1.2.3.4" is not a name).
 */
static int
helo_literal(const char *h, struct ipaddr *ip)
{
	char inner[IP_STRLEN + 8];
	size_t n = strlen(h);
	const char *a;

	if (n < 3 || h[0] != '[' || h[n - 1] != ']' || n - 2 >= sizeof(inner))
		return 0;
	memcpy(inner, h + 1, n - 2);
	inner[n - 2] = '\0';
	a = inner;
	if (strncasecmp(a, "IPv6:", 5) == 0)
		a += 5;
	else if (strchr(a, ':') != NULL)
		return 0;
	return ip_parse(a, ip, NULL) == 0;
}

static int
helo_fqdn(const char *h)
{
	size_t label = 0, labels = 0, i, n = strlen(h);
	int digits = 1;

	if (n > 0 && h[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return 0;
	for (i = 0; i <= n; i++) {
		if (i == n || h[i] == '.') {
			if (label == 0 || label > 63 || h[i - 1] == '-')
				return 0;
			labels++;
			label = 0;
			if (i < n)
				digits = 1;
			continue;
		}
		if (!isalnum((unsigned char)h[i]) && h[i] != '-' && h[i] != '_')
			return 0;
		if (label == 0 && h[i] == '-')
			return 0;
		if (!isdigit((unsigned char)h[i]))
			digits = 0;
		label++;
	}
	return labels >= 2 && !digits;
}

/* This host's own addresses: --local-ip, else every interface's. */
static int
is_local_ip(const struct screen *s, const struct ipaddr *ip)
{
	struct ifaddrs *ifa, *p;
	struct ipaddr a;
	char buf[IP_STRLEN];
	size_t i;
	int found = 0;

	for (i = 0; i < s->local_ips.n; i++)
		if (ip_parse(s->local_ips.v[i], &a, NULL) == 0 &&
		    ip_cmp(&a, ip) == 0)
			return 1;
	if (s->local_ips.n > 0 || getifaddrs(&ifa) == -1)
		return 0;
	for (p = ifa; p != NULL && !found; p = p->ifa_next) {
		if (p->ifa_addr == NULL)
			continue;
		if (p->ifa_addr->sa_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)
			    p->ifa_addr)->sin_addr, buf, sizeof(buf));
		else if (p->ifa_addr->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)
			    p->ifa_addr)->sin6_addr, buf, sizeof(buf));
		else
			continue;
		found = ip_parse(buf, &a, NULL) == 0 && ip_cmp(&a, ip) == 0;
	}
	freeifaddrs(ifa);
	return found;
}

static void
helo_dns(struct screen *s, struct outcome *o, const char *h, char *clean)
{
	struct dns_result r;
	struct mgerr e;
	char why[300];

	dns_addrs(s->dns, h, &r, &e);
	log_explain(s->explain, "HELO %s: %s, %zu addresses", clean,
	    dns_status_str(r.status), r.n);
	if (dns_temporary(r.status)) {
		temp_fail(s, o, s->helo_resolves != ACT_OFF ?
		    s->helo_resolves : s->helo_match, "helo-resolves", clean);
	} else if (r.status != DNS_OK) {
		snprintf(why, sizeof(why), "HELO %s does not resolve", clean);
		if (s->helo_resolves != ACT_OFF)
			fail_check(s, o, s->helo_resolves, "helo-resolves",
			    why);
		else
			fail_check(s, o, s->helo_match, "helo-matches", why);
	} else if (s->helo_match != ACT_OFF && s->env.have_ip &&
	    !ip_in(&s->env.ip, &r)) {
		snprintf(why, sizeof(why), "HELO %s does not match your "
		    "address", clean);
		fail_check(s, o, s->helo_match, "helo-matches", why);
	}
	dns_result_free(&r);
}

void
check_helo(struct screen *s, struct outcome *o)
{
	const char *h = s->env.helo;
	char clean[LOG_FIELD_MAX + 1], why[300];
	struct ipaddr lit;
	int is_lit;

	if (h == NULL)
		return;
	log_sanitize(clean, sizeof(clean), h);
	is_lit = helo_literal(h, &lit);
	if (s->helo_syntax != ACT_OFF && !is_lit && !helo_fqdn(h)) {
		snprintf(why, sizeof(why), "HELO %s is not a fully qualified "
		    "domain name or address literal (RFC 5321 4.1.1.1)", clean);
		fail_check(s, o, s->helo_syntax, "helo-syntax", why);
	}
	if (s->helo_self != ACT_OFF &&
	    ((is_lit && is_local_ip(s, &lit)) ||
	    strcasecmp(h, s->hostname) == 0)) {
		snprintf(why, sizeof(why), "HELO %s claims to be this host",
		    clean);
		fail_check(s, o, s->helo_self, "helo-self", why);
	}
	if (is_lit) {
		if (s->helo_match != ACT_OFF && s->env.have_ip &&
		    ip_cmp(&lit, &s->env.ip) != 0) {
			snprintf(why, sizeof(why), "HELO %s does not match "
			    "your address", clean);
			fail_check(s, o, s->helo_match, "helo-matches", why);
		}
		return;
	}
	if (s->dns != NULL && helo_fqdn(h) &&
	    (s->helo_resolves != ACT_OFF || s->helo_match != ACT_OFF))
		helo_dns(s, o, h, clean);
	else if (s->helo_resolves != ACT_OFF && !helo_fqdn(h)) {
		snprintf(why, sizeof(why), "HELO %s does not resolve", clean);
		fail_check(s, o, s->helo_resolves, "helo-resolves", why);
	}
}

/*
 * The sender domain must be able to receive replies: an MX, or else an
 * A or AAAA record (the implicit MX of RFC 5321 section 5.1).  A null MX
 * (RFC 7505) says the domain takes no mail.  NXDOMAIN is permanent; a
 * failed lookup is temporary.
 */
void
check_sender_domain(struct screen *s, struct outcome *o)
{
	struct mailaddr a;
	struct dns_result r;
	struct mgerr e;
	char why[400], clean[LOG_FIELD_MAX + 1];
	int ok = 0;

	if (s->sender_domain == ACT_OFF || s->env.from == NULL)
		return;
	/* An address that does not parse has no domain to look up, and
	 * must not pass for one that does: it fails the check. */
	if (addr_parse(s->env.from, &a, &e) == -1) {
		snprintf(why, sizeof(why), "sender address <%s> is not valid",
		    log_sanitize(clean, sizeof(clean), s->env.from));
		log_explain(s->explain, "sender-domain: %s", e.msg);
		fail_check(s, o, s->sender_domain, "sender-domain", why);
		return;
	}
	if (s->dns == NULL || a.null || a.domain[0] == '\0' || a.literal)
		return;
	log_sanitize(clean, sizeof(clean), a.domain);
	dns_query(s->dns, a.domain, 15, &r, &e);
	log_explain(s->explain, "MX %s: %s, %zu records", clean,
	    dns_status_str(r.status), r.n);
	if (r.status == DNS_OK)
		ok = !(r.n == 1 && r.mx[0].host[0] == '\0');
	else if (r.status == DNS_NODATA) {
		dns_result_free(&r);
		dns_addrs(s->dns, a.domain, &r, &e);
		log_explain(s->explain, "A/AAAA %s: %s", clean,
		    dns_status_str(r.status));
		ok = r.status == DNS_OK;
	}
	if (dns_temporary(r.status))
		temp_fail(s, o, s->sender_domain, "sender-domain", clean);
	else if (!ok) {
		snprintf(why, sizeof(why), "sender domain %s %s", clean,
		    r.status == DNS_NXDOMAIN ? "does not exist" :
		    "accepts no mail");
		log_explain(s->explain, "sender-domain: fail, action %s: %s",
		    action_name(s->sender_domain), why);
		if (s->sender_domain == ACT_HEADER)
			mark(s, "sender-domain", why);
		else if (s->sender_domain == ACT_DEFER)
			outcome_refuse(o, EXIT_DEFER, "451", "4.1.8", "%s", why);
		else
			outcome_refuse(o, EXIT_REJECT, "550", "5.1.8", "%s",
			    why);
	}
	dns_result_free(&r);
}
