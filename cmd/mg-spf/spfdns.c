/*
 * The DNS layer libspf2 talks through (its SPF_dns_server_t hook), on
 * libcommon's resolver, so --resolver zone:FILE and IP:PORT serve SPF
 * too.  libspf2 alone miscounts the limits of RFC 7208 section 4.6.4
 * (an include starts its count again; void lookups are not counted), so
 * this layer counts them itself: every A/AAAA, MX, PTR query that is not
 * for a name an MX or PTR answer just gave is one term, and so is every
 * record fetched for include or redirect.  Past a limit, or past the time
 * budget, the layer sets stop and answers TRY_AGAIN to everything, which
 * ends libspf2's evaluation at once; the caller turns stop into permerror
 * or temperror.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "log.h"
#include "spf.h"

static void
pending_clear(struct spfdns *d)
{
	size_t i;

	for (i = 0; i < d->npending; i++)
		free(d->pending[i]);
	d->npending = 0;
}

void
spfdns_reset(struct spfdns *d, int64_t budget_ms)
{
	pending_clear(d);
	spfmemo_clear(d);
	d->terms = d->voids = 0;
	d->stop = STOP_NONE;
	d->why[0] = '\0';
	d->have_ttl = 0;
	d->ttl = 0;
	d->deadline = budget_ms > 0 ? clock_ms() + budget_ms : 0;
}

static void
stop(struct spfdns *d, enum spfdns_stop how, const char *why)
{
	if (d->stop != STOP_NONE)
		return;
	d->stop = how;
	strlcpy(d->why, why, sizeof(d->why));
	log_explain(d->explain, "stop: %s", why);
}

/* 1 if name came in the last MX or PTR answer (and forgets it). */
static int
pending_take(struct spfdns *d, const char *name)
{
	size_t i;

	for (i = 0; i < d->npending; i++)
		if (strcasecmp(d->pending[i], name) == 0) {
			free(d->pending[i]);
			d->pending[i] = d->pending[--d->npending];
			return 1;
		}
	return 0;
}

static void
pending_set(struct spfdns *d, char **names, size_t n, int ptr, int cidr0)
{
	size_t i;

	pending_clear(d);
	d->pending_ptr = ptr;
	d->pending_cidr0 = cidr0;
	for (i = 0; i < n && i < SPF_LIMIT_NAMES; i++)
		if ((d->pending[d->npending] = strdup(names[i])) != NULL)
			d->npending++;
}

static void
pending_mx(struct spfdns *d, const struct dns_result *res, int cidr0)
{
	char *names[SPF_LIMIT_NAMES];
	size_t i, n = 0;

	for (i = 0; i < res->n && n < SPF_LIMIT_NAMES; i++)
		if (res->mx[i].host[0] != '\0')
			names[n++] = res->mx[i].host;
	pending_set(d, names, n, 0, cidr0);
}

/* Counts one DNS-querying term (RFC 7208 section 4.6.4); 0 or -1. */
static int
count_term(struct spfdns *d, const char *what)
{
	char why[200];

	if (++d->terms <= SPF_LIMIT_TERMS)
		return 0;
	snprintf(why, sizeof(why), "more than %d DNS-querying terms (at %s)",
	    SPF_LIMIT_TERMS, what);
	stop(d, STOP_PERM, why);
	return -1;
}

/* Checks the time budget; 0, or -1 with stop set. */
static int
budget(struct spfdns *d)
{
	if (d->stop != STOP_NONE)
		return -1;
	if (d->deadline != 0 && clock_ms() > d->deadline) {
		stop(d, STOP_TEMP, "time budget exceeded");
		return -1;
	}
	return 0;
}

static const char *
type_name(int type)
{
	switch (type) {
	case ns_t_a:	return "A";
	case ns_t_aaaa:	return "AAAA";
	case ns_t_mx:	return "MX";
	case ns_t_ptr:	return "PTR";
	case ns_t_txt:	return "TXT";
	default:	return "other";
	}
}

static void
note_ttl(struct spfdns *d, uint32_t ttl)
{
	if (!d->have_ttl || ttl < d->ttl)
		d->ttl = ttl;
	d->have_ttl = 1;
}

/*
 * Copies the answer's records into rr, at most max; a null MX (RFC
 * 7505) names no host.  0, or -1 out of memory.
 */
static int
fill_rr(SPF_dns_rr_t *rr, const struct dns_result *res, int type,
    size_t max)
{
	size_t i, j = 0, len;
	const char *s;

	for (i = 0; i < res->n && j < max; i++) {
		s = NULL;
		if (type == ns_t_mx)
			s = res->mx[i].host;
		else if (type == ns_t_ptr)
			s = res->names[i];
		else if (type == ns_t_txt)
			s = res->txt[i];
		if (s != NULL && *s == '\0')
			continue;
		len = s != NULL ? strlen(s) + 1 : sizeof(SPF_dns_rr_data_t);
		if (SPF_dns_rr_buf_realloc(rr, (int)j, len) != SPF_E_SUCCESS)
			return -1;
		if (s != NULL)
			memcpy(rr->rr[j]->txt, s, len);
		else if (type == ns_t_a)
			memcpy(&rr->rr[j]->a, res->addrs[i].b + 12, 4);
		else
			memcpy(&rr->rr[j]->aaaa, res->addrs[i].b, 16);
		j++;
	}
	rr->num_rr = (int)j;
	return 0;
}

static SPF_dns_rr_t *
answer(SPF_dns_server_t *srv, const char *domain, int type, int herrno)
{
	return SPF_dns_rr_new_init(srv, domain, (ns_type)type, 0, herrno);
}

/*
 * Classifies a query libspf2 asks for: *kind is 'P' for a term's own
 * query, 'M' or 'R' for an address of an MX or PTR name, 'X' for exp=
 * (never counted, section 6.2).  -1 when a limit stops it.
 */
static int
classify(struct spfdns *d, const char *domain, int type, int *kind,
    int *cidr0)
{
	*cidr0 = 0;
	if (type == ns_t_txt) {
		*kind = 'X';
		return 0;
	}
	if ((type == ns_t_a || type == ns_t_aaaa) &&
	    pending_take(d, domain)) {
		*kind = d->pending_ptr ? 'R' : 'M';
		*cidr0 = d->pending_cidr0;
		return 0;
	}
	pending_clear(d);
	*kind = 'P';
	return count_term(d, domain);
}

/* Strips CIDR0_SUFFIX (record.c) from name; 1 if it was there. */
static int
strip_cidr0(const char *domain, char *name, size_t len)
{
	size_t n = strlen(domain), sn = strlen(CIDR0_SUFFIX);

	if (n > sn && strcasecmp(domain + n - sn, CIDR0_SUFFIX) == 0 &&
	    n - sn < len) {
		memcpy(name, domain, n - sn);
		name[n - sn] = '\0';
		return 1;
	}
	strlcpy(name, domain, len);
	return 0;
}

/* "mx/0" and "a/0": any address at all matches, so answer the client's. */
static void
cidr0_answer(const struct spfdns *d, struct dns_result *res, int type)
{
	if (res->status != DNS_OK || res->n == 0 || res->addrs == NULL)
		return;
	if ((type == ns_t_a) == (d->client.v4 != 0))
		res->addrs[0] = d->client;
	res->n = 1;
}

static int
herrno_of(enum dns_status st)
{
	switch (st) {
	case DNS_OK:		return NETDB_SUCCESS;
	case DNS_NXDOMAIN:	return HOST_NOT_FOUND;
	case DNS_NODATA:	return NO_DATA;
	default:		return TRY_AGAIN;
	}
}

/* Asks the resolver; a name that cannot be one (section 4.8) does not
 * exist, and is asked nowhere. */
static void
ask(struct spfdns *d, const char *name, int type, struct dns_result *res)
{
	struct mgerr e;

	memset(res, 0, sizeof(*res));
	/* Section 7.3: a name past 253 octets loses labels on the left. */
	while (strlen(name) > SPF_NAME_MAX && strchr(name, '.') != NULL)
		name = strchr(name, '.') + 1;
	if (domain_shape(name) == -1 && type != ns_t_ptr) {
		res->status = DNS_NXDOMAIN;
		return;
	}
	d->queries++;
	dns_query(d->dns, name, type, res, &e);
}

static SPF_dns_rr_t *
layer_lookup(SPF_dns_server_t *srv, const char *domain, ns_type ns_type,
    int should_cache)
{
	struct spfdns *d = srv->hook;
	struct dns_result res;
	SPF_dns_rr_t *rr;
	char name[300];
	int type = ns_type, kind, herrno, c0, void_ok;

	(void)should_cache;
	if (type != ns_t_a && type != ns_t_aaaa && type != ns_t_mx &&
	    type != ns_t_ptr && type != ns_t_txt)
		/* The SPF RR type is gone (RFC 7208 section 3.1). */
		return answer(srv, domain, type, NO_DATA);
	if (d->replay)
		return spfmemo_answer(srv, d, domain, type);
	if (budget(d) == -1 || classify(d, domain, type, &kind, &c0) == -1)
		return answer(srv, domain, type, TRY_AGAIN);
	c0 |= strip_cidr0(domain, name, sizeof(name));
	ask(d, name, type, &res);
	log_explain(d->explain, "dns %s %s: %s, %zu record(s)", name,
	    type_name(type), dns_status_str(res.status), res.n);
	if (!dns_temporary(res.status))
		note_ttl(d, res.ttl);
	/* Section 5.5: an error on a PTR name's address skips the name. */
	if (kind == 'R' && dns_temporary(res.status))
		res.status = DNS_NODATA;
	if (c0 && (type == ns_t_a || type == ns_t_aaaa))
		cidr0_answer(d, &res, type);
	herrno = herrno_of(res.status);
	void_ok = herrno == NETDB_SUCCESS && res.n > 0;
	if (kind == 'P' && !void_ok && herrno != TRY_AGAIN &&
	    ++d->voids > SPF_LIMIT_VOID) {
		stop(d, STOP_PERM, "more than 2 void lookups");
		herrno = TRY_AGAIN;
	}
	if (herrno == NETDB_SUCCESS && type == ns_t_mx &&
	    res.n > SPF_LIMIT_NAMES) {
		/* Section 4.6.4: more than 10 MX names is a permerror. */
		stop(d, STOP_PERM, "more than 10 MX names");
		herrno = TRY_AGAIN;
	}
	if ((rr = answer(srv, name, type, herrno)) == NULL) {
		dns_result_free(&res);
		return NULL;
	}
	rr->ttl = res.ttl;
	if (herrno == NETDB_SUCCESS) {
		/* Section 4.6.4: PTR names past the tenth are ignored. */
		if (fill_rr(rr, &res, type, type == ns_t_ptr ?
		    SPF_LIMIT_NAMES : res.n) == -1)
			rr->herrno = TRY_AGAIN;
		if (type == ns_t_mx)
			pending_mx(d, &res, c0);
		else if (type == ns_t_ptr)
			pending_set(d, res.names, res.n, 1, 0);
	}
	dns_result_free(&res);
	spfmemo_keep(d, domain, type, rr);
	return rr;
}

/*
 * 1 if text is a record of the version this scope reads: "v=spf1" alone
 * or followed by a space (RFC 7208 section 4.5), or for Sender ID
 * "spf2.0/" with "pra" among its scopes (RFC 4406 section 3); *skip is
 * the length of the version.
 */
static int
is_record(const char *t, enum spf_scope scope, size_t *skip)
{
	const char *p, *end;
	size_t n;

	if (scope != SCOPE_PRA) {
		if (strncasecmp(t, "v=spf1", 6) != 0 ||
		    (t[6] != '\0' && t[6] != ' '))
			return 0;
		*skip = 6;
		return 1;
	}
	if (strncasecmp(t, "spf2.0/", 7) != 0)
		return 0;
	end = t + strcspn(t, " ");
	for (p = t + 7; p < end; p += n + (p[n] == ',')) {
		n = strcspn(p, ", ");
		if (n == 3 && strncasecmp(p, "pra", 3) == 0) {
			*skip = (size_t)(end - t);
			return 1;
		}
		if (n == 0)
			break;
	}
	return 0;
}

/* 1 if any record is an spf2.0 record, whatever its scopes. */
static int
has_spf2(const struct dns_result *res)
{
	size_t i;

	for (i = 0; i < res->n; i++)
		if (strncasecmp(res->txt[i], "spf2.0/", 7) == 0)
			return 1;
	return 0;
}

/*
 * Picks the one record; 0 found, 1 none, 3 more than one or one holding
 * a NUL byte (no valid record can).
 */
static int
select_record(const struct dns_result *res, enum spf_scope scope,
    size_t *idx, size_t *skip)
{
	size_t i, found = 0, sk;
	int nul = 0;

	for (i = 0; i < res->n; i++) {
		if (!is_record(res->txt[i], scope, &sk))
			continue;
		found++;
		*idx = i;
		*skip = sk;
		if (strlen(res->txt[i]) != res->txtlen[i])
			nul = 1;
	}
	/* RFC 4406 section 3.4: v=spf1 stands in only when the domain has
	 * no spf2.0 record at all; one for other scopes (spf2.0/mfrom)
	 * says pra is not published, and the result is none. */
	if (found == 0 && scope == SCOPE_PRA && !has_spf2(res))
		return select_record(res, SCOPE_MFROM, idx, skip);
	return found == 0 ? 1 : found == 1 && !nul ? 0 : 3;
}

/*
 * Fetches, selects, checks and compiles domain's record (RFC 7208
 * section 4.4 and 4.5).  0 with *rec set, 1 none (no such domain or no
 * record), 2 temperror, 3 permerror; why says what went wrong.
 */
int
spfdns_fetch(struct spfdns *d, SPF_server_t *srv, SPF_response_t *resp,
    const char *domain, SPF_record_t **rec, char *why, size_t whylen)
{
	struct dns_result res;
	struct mgerr e;
	char text[4096], lib[4096 + 256];
	size_t idx = 0, skip = 0;
	int rc;

	*rec = NULL;
	if (budget(d) == -1) {
		snprintf(why, whylen, "%s", d->why);
		return 2;
	}
	memset(&res, 0, sizeof(res));
	d->queries++;
	dns_query(d->dns, domain, ns_t_txt, &res, &e);
	log_explain(d->explain, "dns %s TXT: %s, %zu record(s)", domain,
	    dns_status_str(res.status), res.n);
	if (dns_temporary(res.status)) {
		snprintf(why, whylen, "DNS %s for %s", dns_status_str(
		    res.status), domain);
		dns_result_free(&res);
		return 2;
	}
	note_ttl(d, res.ttl);
	rc = res.status != DNS_OK ? 1 : select_record(&res, d->scope, &idx,
	    &skip);
	if (rc == 1)
		snprintf(why, whylen, "no SPF record at %s", domain);
	else if (rc == 3)
		snprintf(why, whylen, "more than one SPF record, or a NUL "
		    "byte in it, at %s", domain);
	else {
		/* libspf2 compiles only "v=spf1"; the terms are the same. */
		snprintf(text, sizeof(text), "v=spf1%s", res.txt[idx] + skip);
		log_explain(d->explain, "record %s: %s", domain, res.txt[idx]);
		if (res.txtlen[idx] >= sizeof(text) - 8) {
			snprintf(why, whylen, "record at %s too long", domain);
			rc = 3;
		} else if (record_check(text, why, whylen) == -1)
			rc = 3;
		else if (record_rewrite(text, d->client.v4, lib,
		    sizeof(lib), NULL) == -1) {
			snprintf(why, whylen, "record at %s too long", domain);
			rc = 3;
		} else if (SPF_record_compile(srv, resp, rec, lib) !=
		    SPF_E_SUCCESS) {
			snprintf(why, whylen, "syntax error in the record at %s",
			    domain);
			if (*rec != NULL)
				SPF_record_free(*rec);
			*rec = NULL;
			rc = 3;
		}
	}
	dns_result_free(&res);
	spfmemo_keep_record(d, domain, rc, rc == 0 ? text : NULL);
	return rc;
}

/* libspf2 asks this for include: and redirect= (RFC 7208 sections 5.2
 * and 6.1): each is one DNS-querying term. */
static SPF_errcode_t
layer_get_spf(SPF_server_t *srv, SPF_request_t *req, SPF_response_t *resp,
    SPF_record_t **rec)
{
	SPF_dns_server_t *ds = srv->resolver;
	struct spfdns *d = ds->hook;
	char why[200];
	int rc;

	*rec = NULL;
	if (d->replay)
		return spfmemo_record(d, srv, resp, req->cur_dom, rec);
	pending_clear(d);
	if (budget(d) == -1 || count_term(d, req->cur_dom) == -1)
		return SPF_E_DNS_ERROR;
	rc = spfdns_fetch(d, srv, resp, req->cur_dom, rec, why, sizeof(why));
	if (rc != 0)
		log_explain(d->explain, "%s", why);
	return spfdns_errcode(rc);
}

SPF_errcode_t
spfdns_errcode(int rc)
{
	switch (rc) {
	case 0:
		return SPF_E_SUCCESS;
	case 1:
		return SPF_E_NOT_SPF;
	case 2:
		return SPF_E_DNS_ERROR;
	default:
		return SPF_E_SYNTAX;
	}
}

/* The data of a compiled macro follows its header (spf_record.h). */
#define MACRO_DATA(m)	((SPF_data_t *)(void *)((char *)(m) + \
			    sizeof(SPF_macro_t)))

/* Compiles and expands a macro-string with libspf2 into *bufp. */
static SPF_errcode_t
expand_macro(SPF_server_t *srv, struct spfdns *d, const char *mtext,
    char **bufp, size_t *buflenp)
{
	SPF_macro_t *mac = NULL;
	SPF_response_t *resp;
	SPF_errcode_t err;

	if ((resp = SPF_response_new(d->req)) == NULL)
		return SPF_E_NO_MEMORY;
	err = SPF_record_compile_macro(srv, resp, &mac, mtext);
	if (err == SPF_E_SUCCESS)
		err = SPF_record_expand_data(srv, d->req, resp,
		    MACRO_DATA(mac), mac->macro_len, bufp, buflenp);
	if (mac != NULL)
		SPF_macro_free(mac);
	SPF_response_free(resp);
	return err;
}

/* Appends c to out as macro text: '%' is "%%", ' ' is "%_". */
static void
put(char *out, size_t *n, size_t cap, char c)
{
	if (*n + 3 >= cap)
		return;
	if (c == '%' || c == ' ') {
		out[(*n)++] = '%';
		out[(*n)++] = c == ' ' ? '_' : '%';
	} else
		out[(*n)++] = c;
	out[*n] = '\0';
}

/*
 * A macro of an explain-string that libspf2 would write otherwise than
 * RFC 7208 and its test suite: an upper-case one, "%{L...}" (section
 * 7.3), is expanded as its lower-case self and URL-encoded here with
 * upper-case hex (RFC 3986 section 2.1), since libspf2 writes lower-case
 * hex; and an IPv6 client's "i" gets its nibbles in upper case, as the
 * suite's v-macro-ip6 test and pyspf write them (libspf2 writes lower
 * case; in a domain-spec the case is the same to DNS).  Returns the
 * length of the macro in text, or 0 to leave it to libspf2.
 */
static size_t
own_macro(SPF_server_t *srv, struct spfdns *d, const char *text,
    char *out, size_t *n, size_t cap)
{
	char low[64], *buf = NULL;
	size_t len = strcspn(text, "}"), blen = 0, i;
	static const char hex[] = "0123456789ABCDEF";
	int url = isupper((unsigned char)text[2]);
	int nibbles = tolower((unsigned char)text[2]) == 'i' && !d->client.v4;
	unsigned char c;

	if (text[len] != '}' || len + 2 > sizeof(low) || (!url && !nibbles))
		return 0;
	snprintf(low, sizeof(low), "%.*s", (int)len + 1, text);
	low[2] = (char)tolower((unsigned char)low[2]);
	if (expand_macro(srv, d, low, &buf, &blen) != SPF_E_SUCCESS) {
		free(buf);
		return 0;
	}
	for (i = 0; buf != NULL && buf[i] != '\0'; i++) {
		c = (unsigned char)buf[i];
		if (nibbles)
			c = (unsigned char)toupper(c);
		if (!url || isalnum(c) || strchr("-._~", c) != NULL)
			put(out, n, cap, (char)c);
		else {
			put(out, n, cap, '%');
			put(out, n, cap, hex[c >> 4]);
			put(out, n, cap, hex[c & 15]);
		}
	}
	free(buf);
	return len + 1;
}

/* Expands text as an explain-string (RFC 7208 section 6.2) into *bufp. */
static SPF_errcode_t
expand_exp(SPF_server_t *srv, struct spfdns *d, const char *text,
    char **bufp, size_t *buflenp)
{
	char mtext[2048];
	size_t i, n = 0, used;

	/* libspf2 takes a space for the end of the string: say "%_". */
	mtext[0] = '\0';
	for (i = 0; text[i] != '\0' && n + 4 < sizeof(mtext); i++) {
		if (text[i] == '%' && text[i + 1] == '{' &&
		    (used = own_macro(srv, d, text + i, mtext, &n,
		    sizeof(mtext))) > 0) {
			i += used - 1;
			continue;
		}
		if (text[i] == '%' && text[i + 1] != '\0') {
			mtext[n++] = text[i++];
			mtext[n++] = text[i];
			mtext[n] = '\0';
		} else
			put(mtext, &n, sizeof(mtext), text[i] == ' ' ? ' ' :
			    text[i]);
	}
	return expand_macro(srv, d, mtext, bufp, buflenp);
}

/*
 * libspf2 asks this for the text of exp=domain (RFC 7208 section 6.2):
 * one TXT record, ASCII, expanded; anything else gives the default.
 * The query is not a term and no void lookup.
 */
static SPF_errcode_t
layer_get_exp(SPF_server_t *srv, const char *domain, char **bufp,
    size_t *buflenp)
{
	struct spfdns *d = srv->resolver->hook;
	struct dns_result res;
	const char *t = NULL;
	size_t i;
	SPF_errcode_t err = SPF_E_NOT_SPF;
	SPF_response_t *resp;

	if (d->stop == STOP_NONE && d->req != NULL && !d->replay) {
		ask(d, domain, ns_t_txt, &res);
		log_explain(d->explain, "dns %s TXT (exp): %s, %zu record(s)",
		    domain, dns_status_str(res.status), res.n);
		if (res.status == DNS_OK && res.n == 1 &&
		    strlen(res.txt[0]) == res.txtlen[0]) {
			t = res.txt[0];
			for (i = 0; t[i] != '\0'; i++)
				if ((unsigned char)t[i] >= 0x7f ||
				    (unsigned char)t[i] < ' ')
					break;
			if (t[i] != '\0')
				t = NULL;	/* ASCII only (section 6.2) */
		}
		if (t != NULL)
			err = expand_exp(srv, d, t, bufp, buflenp);
		dns_result_free(&res);
	}
	if (err != SPF_E_SUCCESS && srv->explanation != NULL && d->req &&
	    (resp = SPF_response_new(d->req)) != NULL) {
		err = SPF_record_expand_data(srv, d->req, resp,
		    MACRO_DATA(srv->explanation), srv->explanation->macro_len,
		    bufp, buflenp);
		SPF_response_free(resp);
	}
	return err;
}

/*
 * Makes the layer.  It has no destroy hook: SPF_server_free leaves a
 * layer given to SPF_server_new_dns alone, so the caller frees it after.
 */
SPF_dns_server_t *
spfdns_new(struct spfdns *d)
{
	SPF_dns_server_t *srv;

	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return NULL;
	srv->lookup = layer_lookup;
	srv->get_spf = layer_get_spf;
	srv->get_exp = layer_get_exp;
	srv->name = "mailguard";
	srv->hook = d;
	return srv;
}
