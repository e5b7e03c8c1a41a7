/*
 * check_host() (RFC 7208 section 4) on libspf2's record interpreter,
 * with the record fetched and checked here and every query through the
 * layer in spfdns.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"
#include "spf.h"

const char *const spf_result_names[R_COUNT] = {
	"none", "neutral", "pass", "fail", "softfail", "temperror",
	"permerror"
};

/* --spp, for the reply written when libspf2 gives up (below). */
static int spp_mode;

/*
 * libspf2 calls this for a failed assertion and must not return.  The
 * filter contract holds: a broken check defers, it never rejects.
 */
static void __attribute__((noreturn))
spf_lib_error(const char *file, int line, const char *msg)
{
	log_error("libspf2: %s:%d: %s", file ? file : "?", line,
	    msg ? msg : "");
	printf("%s451 4.3.0 temporary failure (spf library error)\n",
	    spp_mode ? "E" : "");
	fflush(stdout);
	_exit(spp_mode ? 0 : EXIT_DEFER);
}

static void
spf_lib_quiet(const char *file, int line, const char *msg)
{
	(void)file;
	(void)line;
	(void)msg;
}

int
spf_setup(struct spf *s, struct mgerr *e)
{
	SPF_dns_server_t *ds;
	SPF_response_t *r = NULL;

	spp_mode = s->spp;
	SPF_error_handler = spf_lib_error;
	SPF_warning_handler = spf_lib_quiet;
	SPF_info_handler = spf_lib_quiet;
	SPF_debug_handler = spf_lib_quiet;
	s->layer.dns = dns_new(s->resolver, (unsigned)s->dns_timeout, 2, e);
	if (s->layer.dns == NULL)
		return -1;
	s->layer.explain = s->explain;
	if ((s->ds = ds = spfdns_new(&s->layer)) == NULL ||
	    (s->server = SPF_server_new_dns(ds, 0)) == NULL) {
		mgerr_set(e, "spf: out of memory");
		return -1;
	}
	/*
	 * The layer enforces RFC 7208 section 4.6.4; libspf2's own counts
	 * are wrong (they restart in every include), so they are lifted.
	 * No local policy: trusted-forwarder.org is long gone.
	 */
	SPF_server_set_max_dns_mech(s->server, 1000);
	SPF_server_set_max_dns_mx(s->server, 1000);
	SPF_server_set_max_dns_ptr(s->server, 1000);
	SPF_server_set_rec_dom(s->server, s->hostname);
	if (SPF_server_set_explanation(s->server, s->exp_default, &r) !=
	    SPF_E_SUCCESS) {
		mgerr_set(e, "option --default-exp: %s: not a macro-string",
		    s->exp_default);
		SPF_response_free(r);
		return -1;
	}
	SPF_response_free(r);
	return 0;
}

/* Frees what spf_setup made. */
void
spf_release(struct spf *s)
{
	if (s->server != NULL)
		SPF_server_free(s->server);
	free(s->ds);
	dns_free(s->layer.dns);
	spfdns_reset(&s->layer, 0);
	s->server = NULL;
	s->ds = NULL;
	s->layer.dns = NULL;
}

/*
 * RFC 7208 section 4.3: a domain that is malformed or not multi-label is
 * checked as "none".  0 fine, -1 malformed.  domain_shape checks only
 * the labels (section 4.8: a name a macro made may hold any byte).
 */
int
domain_check(const char *dom)
{
	size_t i;

	for (i = 0; dom[i] != '\0'; i++)
		if ((unsigned char)dom[i] <= ' ' ||
		    (unsigned char)dom[i] >= 0x7f)
			return -1;
	return domain_shape(dom);
}

int
domain_shape(const char *dom)
{
	size_t len = strlen(dom), lab = 0, labels = 0, i;

	if (len == 0 || len > SPF_NAME_MAX + 1 || dom[0] == '[')
		return -1;
	for (i = 0; i <= len; i++) {
		if (dom[i] == '.' || dom[i] == '\0') {
			if (lab == 0 && !(dom[i] == '\0' && i > 0))
				return -1;
			if (lab > SPF_LABEL_MAX)
				return -1;
			if (lab > 0)
				labels++;
			lab = 0;
		} else
			lab++;
	}
	return labels >= 2 ? 0 : -1;
}

static enum spf_result
map_result(SPF_result_t r)
{
	switch (r) {
	case SPF_RESULT_PASS:		return R_PASS;
	case SPF_RESULT_FAIL:		return R_FAIL;
	case SPF_RESULT_SOFTFAIL:	return R_SOFTFAIL;
	case SPF_RESULT_NEUTRAL:	return R_NEUTRAL;
	case SPF_RESULT_NONE:		return R_NONE;
	case SPF_RESULT_TEMPERROR:	return R_TEMPERROR;
	default:			return R_PERMERROR;
	}
}

static int
set_request(struct spf *s, SPF_request_t *req, enum spf_scope scope,
    const char *sender)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (s->env.ip.v4) {
		memcpy(&a4, s->env.ip.b + 12, 4);
		SPF_request_set_ipv4(req, a4);
	} else {
		memcpy(&a6, s->env.ip.b, 16);
		SPF_request_set_ipv6(req, a6);
	}
	if (s->env.helo != NULL && *s->env.helo != '\0' &&
	    SPF_request_set_helo_dom(req, s->env.helo) != SPF_E_SUCCESS)
		return -1;
	/* Section 4.1: for HELO, and a null sender, the sender is
	 * postmaster@ the domain. */
	if (SPF_request_set_env_from(req, scope == SCOPE_HELO ? "" :
	    sender) != 0)
		return -1;
	req->use_helo = scope == SCOPE_HELO;
	return 0;
}

/* Runs the interpreter on the record fetched for a->domain. */
static void
evaluate(struct spf *s, SPF_request_t *req, struct spf_answer *a)
{
	SPF_response_t *resp;
	SPF_record_t *rec;
	const char *x;
	int rc;

	if ((resp = SPF_response_new(req)) == NULL) {
		a->result = R_TEMPERROR;
		strlcpy(a->problem, "out of memory", sizeof(a->problem));
		return;
	}
	req->cur_dom = a->domain;
	s->layer.req = req;
	s->layer.client = s->env.ip;
	rc = spfdns_fetch(&s->layer, s->server, resp, a->domain, &rec,
	    a->problem, sizeof(a->problem));
	if (rc == 0) {
		resp->spf_record_exp = rec;
		SPF_record_interpret(rec, req, resp, 0);
		SPF_record_free(rec);
		a->result = map_result(SPF_response_result(resp));
		if (SPF_response_reason(resp) == SPF_REASON_DEFAULT)
			strlcpy(a->mech, "default", sizeof(a->mech));
		/* Which term matched (match.c); --explain traces them all. */
		if (SPF_response_reason(resp) == SPF_REASON_MECH &&
		    s->layer.stop == STOP_NONE)
			spf_match(s, req, a->domain, a->mech, sizeof(a->mech));
		else if (s->explain)
			spf_match(s, req, a->domain, NULL, 0);
		if (a->result == R_PERMERROR || a->result == R_TEMPERROR)
			snprintf(a->problem, sizeof(a->problem), "%s",
			    SPF_strerror(SPF_response_errcode(resp)));
		x = SPF_response_get_explanation(resp);
		if (a->result == R_FAIL && x != NULL)
			log_sanitize(a->exp, sizeof(a->exp), x);
	} else
		a->result = rc == 1 ? R_NONE : rc == 2 ? R_TEMPERROR :
		    R_PERMERROR;
	if (s->layer.stop != STOP_NONE) {
		a->result = s->layer.stop == STOP_PERM ? R_PERMERROR :
		    R_TEMPERROR;
		strlcpy(a->problem, s->layer.why, sizeof(a->problem));
		a->exp[0] = '\0';
	}
	SPF_response_free(resp);
	s->layer.req = NULL;
}

/*
 * check_host(ip, domain, sender) for one identity; the answer goes in a.
 * sender is the MAIL FROM ("" for a null sender) or NULL for HELO.
 */
void
spf_check(struct spf *s, enum spf_scope scope, const char *domain,
    const char *sender, struct spf_answer *a)
{
	SPF_request_t *req;
	char key[1200];

	memset(a, 0, sizeof(*a));
	strlcpy(a->identity, scope == SCOPE_HELO ? "helo" : scope ==
	    SCOPE_PRA ? "pra" : "mailfrom", sizeof(a->identity));
	strlcpy(a->domain, domain, sizeof(a->domain));
	/* A trailing dot names the same domain (RFC 1034 section 3.1). */
	if (a->domain[0] != '\0' && a->domain[strlen(a->domain) - 1] == '.')
		a->domain[strlen(a->domain) - 1] = '\0';
	if (domain_check(domain) == -1) {
		log_explain(s->explain, "%s %s: not a valid domain: none",
		    a->identity, domain);
		a->result = R_NONE;
		snprintf(a->problem, sizeof(a->problem), "malformed domain");
		return;
	}
	snprintf(key, sizeof(key), "%s|%s|%s|%s|%s", a->identity,
	    s->env.ip_text, a->domain, sender ? sender : "",
	    s->env.helo ? s->env.helo : "");
	if (s->cache && cache_get(s, key, a) == 1) {
		log_explain(s->explain, "%s %s: %s from the cache", a->identity,
		    a->domain, spf_result_names[a->result]);
		return;
	}
	s->layer.scope = scope;
	spfdns_reset(&s->layer, s->budget_ms);
	if ((req = SPF_request_new(s->server)) == NULL ||
	    set_request(s, req, scope, sender ? sender : "") == -1) {
		a->result = R_TEMPERROR;
		strlcpy(a->problem, "out of memory", sizeof(a->problem));
	} else
		evaluate(s, req, a);
	if (req != NULL)
		SPF_request_free(req);
	a->ttl = s->layer.ttl;
	a->have_ttl = s->layer.have_ttl;
	log_explain(s->explain,
	    "%s %s: %s%s%s (%d DNS-querying terms, %d void)", a->identity,
	    a->domain, spf_result_names[a->result], a->problem[0] ? ": " : "",
	    a->problem, s->layer.terms, s->layer.voids);
	if (s->cache && a->result != R_TEMPERROR)
		cache_put(s, key, a);
}

/*
 * Applies the action for a result (RFC 7372: X.7.23 for fail, X.7.24
 * for an SPF error; RFC 3463 X.4.3 for a DNS failure).
 */
void
spf_act(struct spf *s, struct outcome *o, const struct spf_answer *a,
    const char *method)
{
	int act = s->act[a->result], code;
	const char *smtp, *st;
	char text[600];

	if (a->result == R_PASS || act == ACT_OFF || act == ACT_HEADER)
		return;
	if (a->result == R_FAIL && a->exp[0] != '\0')
		snprintf(text, sizeof(text), "%s", a->exp);
	else
		snprintf(text, sizeof(text), "%s %s for %s%s%s", method,
		    spf_result_names[a->result], a->domain,
		    a->problem[0] ? ": " : "", a->problem);
	code = act == ACT_DEFER ? EXIT_DEFER : EXIT_REJECT;
	smtp = act == ACT_DEFER ? "451" : act == ACT_DROP ? "554" : "550";
	if (a->result == R_TEMPERROR && act == ACT_DEFER)
		st = "4.4.3";
	else if (a->result == R_FAIL || a->result == R_SOFTFAIL)
		st = act == ACT_DEFER ? "4.7.23" : "5.7.23";
	else if (a->result == R_PERMERROR || a->result == R_TEMPERROR)
		st = act == ACT_DEFER ? "4.7.24" : "5.7.24";
	else
		st = act == ACT_DEFER ? "4.7.1" : "5.7.1";
	if (act == ACT_DROP && o->code == EXIT_ACCEPT)
		o->drop = 1;
	outcome_refuse(o, code, smtp, st, "%s", text);
}

/* The comment of Received-SPF (RFC 7208 section 9.1). */
static void
comment(const struct spf *s, const struct spf_answer *a, const char *who,
    char *buf, size_t len)
{
	const char *ip = s->env.ip_text;

	switch (a->result) {
	case R_PASS:
		snprintf(buf, len, "%s: %s designates %s as permitted sender",
		    s->hostname, who, ip);
		break;
	case R_FAIL:
		snprintf(buf, len, "%s: %s does not designate %s as permitted "
		    "sender", s->hostname, who, ip);
		break;
	case R_SOFTFAIL:
		snprintf(buf, len, "%s: %s does not designate %s as permitted "
		    "sender, but does not say it fails", s->hostname, who, ip);
		break;
	case R_NEUTRAL:
		snprintf(buf, len, "%s: %s is neither permitted nor denied by "
		    "%s", s->hostname, ip, who);
		break;
	case R_NONE:
		snprintf(buf, len, "%s: %s does not publish an SPF record",
		    s->hostname, who);
		break;
	default:
		snprintf(buf, len, "%s: %s checking %s: %s", s->hostname,
		    a->result == R_TEMPERROR ? "temporary error" :
		    "permanent error", who, a->problem);
		break;
	}
}

/*
 * Writes the value of Received-SPF: "result (comment) key=value; ...".
 * Client-supplied text is sanitised; the from and helo values are
 * quoted (section 9.1 allows a quoted-string for any value).
 */
void
spf_received(const struct spf *s, const struct spf_answer *a, char *buf,
    size_t len)
{
	char who[300], com[700], from[HDR_QUOTED_MAX];
	char helo[HDR_QUOTED_MAX], dom[LOG_FIELD_MAX + 4], pm[sizeof(a->domain) + 12];
	char mech[2 * sizeof(a->mech)];
	const char *f = s->env.from;
	size_t i, n = 0;
	int have_helo;

	/* A term may hold '"' or '\\' (a macro-literal): quoted-pair them. */
	for (i = 0; a->mech[i] != '\0'; i++) {
		if (a->mech[i] == '"' || a->mech[i] == '\\')
			mech[n++] = '\\';
		mech[n++] = a->mech[i];
	}
	mech[n] = '\0';

	log_sanitize(dom, sizeof(dom), a->domain);
	snprintf(who, sizeof(who), "domain of %s", dom);
	comment(s, a, who, com, sizeof(com));
	if (f == NULL || *f == '\0' || strcmp(a->identity, "helo") == 0) {
		snprintf(pm, sizeof(pm), "postmaster@%s", a->domain);
		f = pm;
	}
	hdr_quote(from, f);
	have_helo = s->env.helo != NULL && s->env.helo[0] != '\0';
	if (have_helo)
		hdr_quote(helo, s->env.helo);
	snprintf(buf, len, "%s (%s) client-ip=%s; envelope-from=%s; "
	    "%s%s%sreceiver=%s; identity=%s%s%s%s",
	    spf_result_names[a->result], com, s->env.ip_text, from,
	    have_helo ? "helo=" : "", have_helo ? helo : "",
	    have_helo ? "; " : "",
	    s->hostname, a->identity, mech[0] ? "; mechanism=" : "",
	    mech[0] ? "\"" : "", mech);
	if (mech[0])
		strlcat(buf, "\"", len);
}
