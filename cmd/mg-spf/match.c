/*
 * Which term decided a check (the "mechanism" of RFC 7208 section 9.1),
 * and the term-by-term trace of --explain.
 *
 * libspf2 reports only that some mechanism matched, not which.  So the
 * DNS layer keeps a memo of every answer it gave during the check, and
 * afterwards each mechanism of the record is compiled and interpreted
 * alone, in order, by libspf2 itself, with the layer in replay mode:
 * answers come from the memo, nothing is counted and nothing is asked.
 * The first term that matches alone is the one that matched in the
 * check, since evaluation stops at the first match (section 4.6.2) and
 * every term before it was evaluated with the same answers.  A redirect=
 * is followed into its record; an include: that matched is the term.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "spf.h"

/* Deepest include/redirect chain the replay follows (section 4.6.4
 * allows 10 DNS-querying terms in all). */
#define MATCH_DEPTH	10

static struct spfmemo *
memo_add(struct spfdns *d, const char *name, int type)
{
	struct spfmemo *m;

	if ((m = reallocarray(d->memo, d->nmemo + 1, sizeof(*m))) == NULL)
		return NULL;
	d->memo = m;
	m = &d->memo[d->nmemo];
	memset(m, 0, sizeof(*m));
	if ((m->name = strdup(name)) == NULL)
		return NULL;
	m->type = type;
	d->nmemo++;
	return m;
}

/* The memo of name (case-insensitive, section 4.3) and type, or NULL. */
static const struct spfmemo *
memo_find(const struct spfdns *d, const char *name, int type, int isrec)
{
	size_t i;

	for (i = 0; i < d->nmemo; i++)
		if (d->memo[i].isrec == isrec && d->memo[i].type == type &&
		    strcasecmp(d->memo[i].name, name) == 0)
			return &d->memo[i];
	return NULL;
}

void
spfmemo_keep(struct spfdns *d, const char *name, int type, SPF_dns_rr_t *rr)
{
	struct spfmemo *m;

	if (d->replay || rr == NULL || memo_find(d, name, type, 0) != NULL)
		return;
	if ((m = memo_add(d, name, type)) != NULL &&
	    SPF_dns_rr_dup(&m->rr, rr) != SPF_E_SUCCESS) {
		/* A failed copy is a memo miss: the replay says "unknown". */
		SPF_dns_rr_free(m->rr);
		m->rr = NULL;
	}
}

void
spfmemo_keep_record(struct spfdns *d, const char *domain, int rc,
    const char *text)
{
	struct spfmemo *m;

	if (d->replay || memo_find(d, domain, ns_t_txt, 1) != NULL ||
	    (m = memo_add(d, domain, ns_t_txt)) == NULL)
		return;
	m->isrec = 1;
	m->rc = rc;
	if (text != NULL && (m->text = strdup(text)) == NULL)
		m->rc = 2;
}

void
spfmemo_clear(struct spfdns *d)
{
	size_t i;

	for (i = 0; i < d->nmemo; i++) {
		free(d->memo[i].name);
		free(d->memo[i].text);
		if (d->memo[i].rr != NULL)
			SPF_dns_rr_free(d->memo[i].rr);
	}
	free(d->memo);
	d->memo = NULL;
	d->nmemo = 0;
	d->replay = 0;
	d->first = NULL;
}

SPF_dns_rr_t *
spfmemo_answer(SPF_dns_server_t *srv, struct spfdns *d, const char *name,
    int type)
{
	const struct spfmemo *m = memo_find(d, name, type, 0);
	SPF_dns_rr_t *rr = NULL;

	if (m != NULL && m->rr != NULL &&
	    SPF_dns_rr_dup(&rr, m->rr) == SPF_E_SUCCESS)
		return rr;
	if (rr != NULL)
		SPF_dns_rr_free(rr);
	return SPF_dns_rr_new_init(srv, name, (ns_type)type, 0, TRY_AGAIN);
}

/* Compiles the memo's record m into *rec; an SPF_errcode_t. */
static SPF_errcode_t
memo_compile(const struct spfdns *d, const struct spfmemo *m,
    SPF_server_t *srv, SPF_response_t *resp, SPF_record_t **rec)
{
	char lib[4096 + 256];

	*rec = NULL;
	if (m->rc != 0)
		return spfdns_errcode(m->rc);
	if (record_rewrite(m->text, d->client.v4, lib, sizeof(lib), NULL) ==
	    -1 || SPF_record_compile(srv, resp, rec, lib) != SPF_E_SUCCESS) {
		if (*rec != NULL)
			SPF_record_free(*rec);
		*rec = NULL;
		return SPF_E_SYNTAX;
	}
	return SPF_E_SUCCESS;
}

SPF_errcode_t
spfmemo_record(struct spfdns *d, SPF_server_t *srv, SPF_response_t *resp,
    const char *domain, SPF_record_t **rec)
{
	const struct spfmemo *m = memo_find(d, domain, ns_t_txt, 1);

	*rec = NULL;
	if (m == NULL)
		return SPF_E_DNS_ERROR;
	if (d->first == NULL)
		d->first = m;
	return memo_compile(d, m, srv, resp, rec);
}

/*
 * Interprets "v=spf1 TERM" (lib, the term as rewritten for libspf2) for
 * req with the layer in replay mode.  0 with *result and *reason set,
 * or -1 when it cannot be compiled.
 */
static int
replay_one(struct spf *s, SPF_request_t *req, const char *term, size_t n,
    SPF_result_t *result, SPF_reason_t *reason)
{
	SPF_response_t *resp;
	SPF_record_t *rec = NULL;
	char text[1200];
	int rc = -1;

	if (n >= sizeof(text) - 8)
		return -1;
	snprintf(text, sizeof(text), "v=spf1 %.*s", (int)n, term);
	if ((resp = SPF_response_new(req)) == NULL)
		return -1;
	if (SPF_record_compile(s->server, resp, &rec, text) ==
	    SPF_E_SUCCESS) {
		resp->spf_record_exp = rec;
		s->layer.replay = 1;
		s->layer.first = NULL;
		SPF_record_interpret(rec, req, resp, 0);
		s->layer.replay = 0;
		*result = SPF_response_result(resp);
		*reason = SPF_response_reason(resp);
		rc = 0;
	}
	if (rec != NULL)
		SPF_record_free(rec);
	SPF_response_free(resp);
	return rc;
}

/*
 * Replays domain's record term by term.  1 with the term that matched
 * in out (when out is not NULL), 0 when none matched, -1 when the replay
 * cannot tell.  With --explain, prints every term it replays, and walks
 * into the records of include: and redirect=.
 */
static int
walk(struct spf *s, SPF_request_t *req, const char *domain, int depth,
    char *out, size_t len)
{
	struct spfdns *d = &s->layer;
	const struct spfmemo *m, *target;
	struct record_map map;
	SPF_result_t result;
	SPF_reason_t reason;
	const char *save = req->cur_dom, *bare;
	char lib[4096 + 256], term[600];
	size_t k;
	int redirect, include, rc = 0;

	if (depth > MATCH_DEPTH ||
	    (m = memo_find(d, domain, ns_t_txt, 1)) == NULL || m->rc != 0 ||
	    record_rewrite(m->text, d->client.v4, lib, sizeof(lib), &map) ==
	    -1 || map.full)
		return -1;
	req->cur_dom = m->name;
	for (k = 0; k < map.n; k++) {
		snprintf(term, sizeof(term), "%.*s", (int)map.t[k].olen,
		    map.t[k].orig);
		bare = term + (strchr("+-?~", term[0]) != NULL);
		redirect = strncasecmp(term, "redirect=", 9) == 0;
		include = strncasecmp(bare, "include:", 8) == 0;
		if (replay_one(s, req, lib + map.t[k].lib, map.t[k].llen,
		    &result, &reason) == -1) {
			rc = -1;
			break;
		}
		target = d->first;
		if (s->explain && include && target != NULL) {
			req->cur_dom = save;
			(void)walk(s, req, target->name, depth + 1, NULL, 0);
			req->cur_dom = m->name;
		}
		log_explain(s->explain, "term %s: %s: %s%s%s", m->name, term,
		    reason == SPF_REASON_MECH ? "match" :
		    result == SPF_RESULT_TEMPERROR ? "stopped" :
		    result == SPF_RESULT_PERMERROR ? "error" :
		    "no match", reason == SPF_REASON_MECH ||
		    result == SPF_RESULT_TEMPERROR ||
		    result == SPF_RESULT_PERMERROR ? ", " : "",
		    reason == SPF_REASON_MECH ||
		    result == SPF_RESULT_TEMPERROR ||
		    result == SPF_RESULT_PERMERROR ?
		    SPF_strresult(result) : "");
		if (result == SPF_RESULT_TEMPERROR ||
		    result == SPF_RESULT_PERMERROR) {
			rc = -1;
			break;
		}
		if (redirect) {
			/* Section 6.1: the result is the target's. */
			req->cur_dom = save;
			rc = target == NULL ? -1 : walk(s, req, target->name,
			    depth + 1, out, len);
			break;
		}
		if (reason == SPF_REASON_MECH) {
			if (out != NULL)
				strlcpy(out, term, len);
			rc = 1;
			break;
		}
	}
	req->cur_dom = save;
	return rc;
}

/*
 * Finds the term that decided the check of domain just made with req;
 * out gets it, or stays as it is when the replay cannot tell.  With out
 * NULL, only traces the terms for --explain.
 */
void
spf_match(struct spf *s, SPF_request_t *req, const char *domain, char *out,
    size_t len)
{
	char term[600];

	term[0] = '\0';
	if (walk(s, req, domain, 0, out != NULL ? term : NULL,
	    sizeof(term)) == 1 && out != NULL)
		strlcpy(out, term, len);
}
