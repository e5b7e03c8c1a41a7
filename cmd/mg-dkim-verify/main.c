/*
 * mg-dkim-verify: verify every DKIM (RFC 6376, RFC 8463) and DomainKeys
 * (RFC 4870) signature of a message and say so in Authentication-Results
 * (RFC 8601).  See mg-dkim-verify(1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arstrip.h"
#include "authres.h"
#include "dk.h"
#include "log.h"
#include "outcome.h"
#include "verify.h"

#define PROG "mg-dkim-verify"

static struct verify V;

static const struct opt options[] = {
	ENV_OPTS(&V.env),
	{ "bad-signature", 0, OPT_ACTION, &V.act_fail, 0, 0, "action" },
	{ "body-length", 0, OPT_BOOL, &V.body_length, 0, 0, "yes|no" },
	{ "config", 'c', OPT_CONFIG, NULL, 0, 0, "file" },
	{ "dns-timeout", 0, OPT_NUM, &V.dns_timeout, 10, 60000, "ms" },
	{ "domainkeys", 0, OPT_BOOL, &V.domainkeys, 0, 0, "yes|no" },
	{ "explain", 'x', OPT_FLAG, &V.explain, 0, 0, NULL },
	{ "hostname", 'H', OPT_STR, &V.hostname, 0, 0, "name" },
	{ "message", 'm', OPT_FLAG, &V.message, 0, 0, NULL },
	{ "min-key-bits", 0, OPT_NUM, &V.min_key_bits, 512, 16384, "bits" },
	{ "must-sign", 0, OPT_LIST, &V.must_sign, 0, 0, "field" },
	{ "no-key", 0, OPT_ACTION, &V.act_nokey, 0, 0, "action" },
	{ "no-signature", 0, OPT_ACTION, &V.act_nosig, 0, 0, "action" },
	{ "resolver", 'r', OPT_STR, &V.resolver, 0, 0, "spec" },
	{ "spp", 0, OPT_FLAG, &V.spp, 0, 0, NULL },
	{ "temperror", 0, OPT_ACTION, &V.act_temp, 0, 0, "action" },
	OPT_END
};

static void
usage(void)
{
	if (opt_usage(
	    "usage: %s [-mx] [-c file] [-H hostname] [-r resolver]\n"
	    "       %*s [--no-signature action] [--bad-signature action]\n"
	    "       %*s [--no-key action] [--temperror action] [option ...]"
	    " < message\n", PROG, (int)strlen(PROG), "", (int)strlen(PROG),
	    ""))
		exit(0);
	printf("%s451 4.3.0 temporary failure (usage error)\n",
	    V.spp ? "E" : "");
	exit(V.spp ? 0 : EXIT_DEFER);
}

void
verify_note(struct verify *v, const char *method, const char *result,
    const char *reason, enum vclass c, const char *d, const char *s,
    const char *a, const char *b)
{
	v->nsig++;
	v->npass += c == V_PASS;
	v->nfail += c == V_FAIL;
	v->nnokey += c == V_NOKEY;
	v->ntemp += c == V_TEMP;
	log_explain(v->explain, "%s: %s d=%s s=%s%s%s", method, result,
	    d ? d : "", s ? s : "", reason ? ": " : "", reason ? reason : "");
	if (d == NULL || *d == '\0')
		authres_add(&v->ar, method, result, reason, NULL);
	else if (a != NULL)
		authres_add(&v->ar, method, result, reason, "header.d", d,
		    "header.s", s, "header.a", a, "header.b", b, NULL);
	else
		authres_add(&v->ar, method, result, reason, "header.d", d,
		    "header.s", s, "header.b", b, NULL);
}

static void
set_defaults(struct verify *v)
{
	static char host[256];

	env_init(&v->env);
	if (gethostname(host, sizeof(host) - 1) == -1)
		strlcpy(host, "localhost", sizeof(host));
	v->hostname = host;
	v->dns_timeout = 3000;
	v->min_key_bits = 1024;
	v->body_length = 1;
	v->domainkeys = 1;
	v->act_nosig = v->act_fail = v->act_nokey = v->act_temp = ACT_HEADER;
}

/* One DomainKeys result, added in the same way as DKIM's. */
static void
dk_note(struct verify *v, const struct dk_result *r)
{
	enum vclass c = V_FAIL;

	if (strcmp(r->result, "pass") == 0)
		c = V_PASS;
	else if (strcmp(r->result, "temperror") == 0)
		c = V_TEMP;
	else if (strstr(r->reason, "no key for") != NULL)
		c = V_NOKEY;
	v->nsig++;
	v->npass += c == V_PASS;
	v->nfail += c == V_FAIL;
	v->nnokey += c == V_NOKEY;
	v->ntemp += c == V_TEMP;
	log_explain(v->explain, "domainkeys: %s d=%s s=%s%s%s", r->result,
	    r->domain, r->selector, *r->reason ? ": " : "", r->reason);
	/* The IANA registry gives domainkeys header.d, header.from and
	 * header.sender only (RFC 8601 section 2.7.1 and RFC 7601 A.5). */
	authres_add(&v->ar, "domainkeys", r->result,
	    *r->reason ? r->reason : NULL, "header.d", r->domain,
	    r->sender_ptype ? r->sender_ptype : "header.from",
	    *r->sender ? r->sender : NULL, NULL);
}

/*
 * RFC 8601 section 5: fields claiming our authserv-id are forged.  They
 * are taken out before the signatures are read, so none counts, and -m
 * does not pass them on.
 */
static void
strip(struct verify *v, struct msg *m)
{
	if ((v->nforged = arstrip_msg(m, v->hostname)) > 0)
		log_explain(v->explain, "removed %zu Authentication-Results "
		    "field%s claiming %s", v->nforged,
		    v->nforged == 1 ? "" : "s", v->hostname);
}

#define MAXDK	16

/* Reads the message once, feeding DKIM and every DomainKeys signature,
 * after the forged fields are gone. */
static int
run(struct verify *v, struct msg *m, struct mgerr *e)
{
	struct dk *dks[MAXDK];
	struct dk_result r;
	struct dkimv *k;
	const char *p;
	size_t i, ndk = 0;
	ssize_t n = 0;
	int want, crlf;
	char last = 0;

	strip(v, m);
	if ((k = dkimv_new(v, e)) == NULL)
		return -1;
	for (i = 0; i < msg_nfields(m); i++) {
		dkimv_header(k, msg_field(m, i));
		if (v->domainkeys && ndk < MAXDK && strcasecmp(msg_field(m,
		    i)->name, "DomainKey-Signature") == 0)
			dks[ndk++] = dk_verify_new(m, i, 0);
	}
	want = dkimv_eoh(k) || ndk > 0;
	crlf = ndk > 0 || !dkimv_raw(k);
	while (want && ((n = msg_body_next(m, crlf, &p, e)) > 0 ||
	    (n == 0 && last != '\n' && last != 0))) {
		/* RFC 6376 section 3.4.3: a final CRLF is added. */
		if (n == 0) {
			p = "\r\n";
			n = 2;
		}
		last = p[n - 1];
		dkimv_body(k, p, (size_t)n);
		for (i = 0; i < ndk; i++)
			dk_body(dks[i], p, (size_t)n);
	}
	if (want && n == -1) {
		for (i = 0; i < ndk; i++)
			dk_free(dks[i]);
		return -1;
	}
	dkimv_end(k, m);
	for (i = 0; i < ndk; i++) {
		dk_verify_end(dks[i], v->dns, &r);
		dk_note(v, &r);
	}
	return 0;
}

/* The policy (the man page's table): any pass accepts. */
static void
decide(struct verify *v, struct outcome *o)
{
	if (v->npass > 0)
		return;
	if (v->nsig == 0)
		outcome_act(o, v->act_nosig, "message has no valid signature");
	else if (v->ntemp > 0)
		outcome_act(o, v->act_temp == ACT_REJECT ? ACT_DEFER :
		    v->act_temp, "cannot verify the signature now");
	else if (v->nnokey > 0)
		outcome_act(o, v->act_nokey, "signature key not found");
	else
		outcome_act(o, v->act_fail, "signature did not verify");
}

/*
 * A message that does not parse (a NUL in the header, an overlong line,
 * too many fields, no empty line) cannot be judged, and could hide any
 * outcome: unsigned, a bad signature, a missing key.  It gets the
 * strictest of those three actions, never a silent pass.
 */
static void
decide_unparsed(const struct verify *v, struct outcome *o)
{
	int act = v->act_nosig;

	if (v->act_fail > act)
		act = v->act_fail;
	if (v->act_nokey > act)
		act = v->act_nokey;
	outcome_act(o, act, "message cannot be parsed for DKIM");
	/* -m must pass every byte on, and these bytes are gone. */
	if (o->code == EXIT_ACCEPT && v->message && !v->spp)
		outcome_tempfail(o, "cannot pass on a message that does "
		    "not parse");
}

static void
log_decision(const struct verify *v, const struct outcome *o,
    const char *err)
{
	struct logline l;

	log_begin(&l);
	log_kv(&l, "decision", o->code == EXIT_ACCEPT ? "accept" :
	    o->code == EXIT_REJECT ? "reject" : "defer");
	log_kvi(&l, "signatures", v->nsig);
	log_kvi(&l, "pass", v->npass);
	log_kvi(&l, "fail", v->nfail);
	log_kvi(&l, "nokey", v->nnokey);
	log_kvi(&l, "temperror", v->ntemp);
	if (v->nforged > 0)
		log_kvi(&l, "forged", (long long)v->nforged);
	if (err != NULL)
		log_kv(&l, "error", err);
	if (o->code != EXIT_ACCEPT)
		log_kv(&l, "reply", o->reply);
	log_end(&l);
}

static int
emit(struct verify *v, struct outcome *o, struct msg *m)
{
	struct mgerr e;

	if (!v->message || o->code != EXIT_ACCEPT || v->spp)
		return outcome_emit(o, v->spp, m != NULL && msg_crlf(m));
	if (msg_write(m, 1, (const char *const *)o->hdr, o->nhdr, &e) == -1) {
		log_error("write message: %s", e.msg);
		return EXIT_DEFER;
	}
	return EXIT_ACCEPT;
}

int
main(int argc, char **argv)
{
	struct outcome o;
	struct mgerr e;
	struct msg *m = NULL;
	const char *err = NULL;
	int rc;

	log_init(PROG);
	set_defaults(&V);
	if ((rc = opt_parse(PROG, options, argc, argv, &e)) != argc) {
		if (!opt_help)
			log_error("%s", rc == -1 ? e.msg :
			    "unexpected argument");
		usage();
	}
	outcome_init(&o);
	authres_init(&V.ar, V.hostname);
	if (env_load(&V.env, &e) == -1 || (V.dns = dns_new(V.resolver,
	    (unsigned)V.dns_timeout, 2, &e)) == NULL) {
		log_error("%s", err = e.msg);
		outcome_tempfail(&o, "configuration error");
	} else if ((m = msg_read(0, NULL, V.message ? MSG_KEEP : 0,
	    &e)) == NULL) {
		log_error("read message: %s", err = e.msg);
		if (e.temp)
			outcome_tempfail(&o, "cannot read the message");
		else {
			authres_add(&V.ar, "dkim", "permerror", e.msg, NULL);
			decide_unparsed(&V, &o);
		}
	} else if (run(&V, m, &e) == -1) {
		log_error("%s", err = e.msg);
		outcome_tempfail(&o, "cannot verify the message");
	}
	if (o.code == EXIT_ACCEPT && m != NULL)
		decide(&V, &o);
	/* RFC 8601 section 2.7.1: DKIM was applied and found no signature,
	 * which is "dkim=none", not the bare "none" of section 2.2 that
	 * says no method was applied at all. */
	if (V.ar.n == 0)
		authres_add(&V.ar, "dkim", "none", NULL, NULL);
	if (o.code == EXIT_ACCEPT && outcome_header(&o,
	    "Authentication-Results", authres_value(&V.ar), &e) == -1)
		outcome_tempfail(&o, e.msg);
	log_decision(&V, &o, err);
	rc = emit(&V, &o, m);
	outcome_free(&o);
	msg_free(m);
	dns_free(V.dns);
	return rc;
}
