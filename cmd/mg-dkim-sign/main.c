/*
 * mg-dkim-sign: sign a message with DKIM (RFC 6376; rsa-sha256 and
 * ed25519-sha256, RFC 8463) and optionally DomainKeys (RFC 4870); make
 * and check keys.  See mg-dkim-sign(1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "outcome.h"
#include "sign.h"

#define PROG "mg-dkim-sign"

static struct sign S;

static const struct opt options[] = {
	ENV_OPTS(&S.env),
	{ "algorithm", 'a', OPT_LIST, &S.algorithm, 0, 0, "alg" },
	{ "bits", 'b', OPT_NUM, &S.bits, 1024, 4096, "n" },
	{ "body-length", 'l', OPT_FLAG, &S.body_length, 0, 0, NULL },
	{ "canon", 'C', OPT_STR, &S.canon, 0, 0, "header/body" },
	{ "config", 'c', OPT_CONFIG, NULL, 0, 0, "file" },
	{ "copy-headers", 'z', OPT_FLAG, &S.copy_headers, 0, 0, NULL },
	{ "dk-canon", 0, OPT_CHOICE, &S.dk_nofws, 0, 0, "simple|nofws" },
	{ "dk-headers", 0, OPT_STR, &S.dk_headers, 0, 0, "list" },
	{ "dns-timeout", 0, OPT_NUM, &S.dns_timeout, 10, 60000, "ms" },
	{ "domain", 'd', OPT_LIST, &S.domain, 0, 0, "domain" },
	{ "domainkeys", 0, OPT_BOOL, &S.domainkeys, 0, 0, "yes|no" },
	{ "expire", 'e', OPT_DURATION, &S.expire, 1, 3650 * 86400LL, "time" },
	{ "explain", 'x', OPT_FLAG, &S.explain, 0, 0, NULL },
	{ "headers", 'h', OPT_STR, &S.headers, 0, 0, "list" },
	{ "key", 'k', OPT_LIST, &S.key, 0, 0, "file" },
	{ "key-table", 'K', OPT_STR, &S.key_table, 0, 0, "file" },
	{ "message", 'm', OPT_FLAG, &S.message, 0, 0, NULL },
	{ "oversign", 'o', OPT_STR, &S.oversign, 0, 0, "list" },
	{ "resolver", 'r', OPT_STR, &S.resolver, 0, 0, "spec" },
	{ "selector", 's', OPT_LIST, &S.selector, 0, 0, "selector" },
	{ "sender", 0, OPT_CHOICE, &S.by_envelope, 0, 0, "from|envelope" },
	{ "signing-table", 'S', OPT_STR, &S.signing_table, 0, 0, "file" },
	{ "spp", 0, OPT_FLAG, &S.spp, 0, 0, NULL },
	{ "time", 't', OPT_NUM, &S.sign_time, 1, 4102444800LL, "epoch" },
	OPT_END
};

static void
usage(void)
{
	if (opt_usage(
	    "usage: %s [-lmxz] [-c file] -d domain -s selector -k keyfile\n"
	    "       %*s [-a alg] [-C header/body] [-h list] [-o list]"
	    " [-e time] [-t epoch] < message\n"
	    "       %s [-m] -K keytable -S signingtable"
	    " [--sender from|envelope] < message\n"
	    "       %s genkey [-a alg] [-b bits] -d domain -s selector"
	    " -k keyfile\n"
	    "       %s testkey [-r resolver] -d domain -s selector"
	    " -k keyfile\n", PROG, (int)strlen(PROG), "", PROG, PROG, PROG))
		exit(0);
	printf("%s451 4.3.0 temporary failure (usage error)\n",
	    S.spp ? "E" : "");
	exit(S.spp ? 0 : EXIT_DEFER);
}

static void
set_defaults(struct sign *s)
{
	env_init(&s->env);
	s->canon = "relaxed/relaxed";
	s->oversign = "From";
	s->by_envelope = 0;
	s->dk_nofws = 1;
	s->bits = 2048;
	s->dns_timeout = 3000;
}

/* The i-th of a list that is either one value for all or one per key. */
static const char *
nth(const struct opt_list *l, size_t i)
{
	if (l->n == 0)
		return NULL;
	return l->v[l->n == 1 ? 0 : i];
}

/* Signatures from --domain, --selector, --key and --algorithm. */
static int
specs_from_options(struct sign *s, int need_key, struct mgerr *e)
{
	size_t i, n = s->key.n;
	const char *a;
	int t;

	if (n == 0 || n > MAXSIG || s->domain.n == 0 ||
	    s->selector.n == 0 || (s->domain.n != 1 && s->domain.n != n) ||
	    (s->selector.n != 1 && s->selector.n != n)) {
		mgerr_set(e, "give --domain, --selector and --key (once, or "
		    "once per key)");
		return -1;
	}
	for (i = 0; i < n; i++) {
		strlcpy(s->sig[i].domain, nth(&s->domain, i),
		    sizeof(s->sig[i].domain));
		strlcpy(s->sig[i].selector, nth(&s->selector, i),
		    sizeof(s->sig[i].selector));
		strlcpy(s->sig[i].key, s->key.v[i], sizeof(s->sig[i].key));
		a = nth(&s->algorithm, i);
		if (a != NULL && strcmp(a, "rsa-sha256") != 0 &&
		    strcmp(a, "ed25519-sha256") != 0) {
			mgerr_set(e, "option --algorithm: %s: use rsa-sha256 "
			    "or ed25519-sha256", a);
			return -1;
		}
		if (!need_key) {
			s->sig[i].ed25519 = a != NULL && *a == 'e';
			continue;
		}
		if ((t = key_type(s->sig[i].key, &s->sig[i].pkey,
		    e)) == -1)
			return -1;
		if (a != NULL && t != (*a == 'e')) {
			mgerr_set(e, "key %s does not suit %s", s->key.v[i], a);
			return -1;
		}
		s->sig[i].ed25519 = t;
	}
	s->nsig = n;
	return 0;
}

/* The sender address: From's, or the envelope's (--sender). */
static int
sender_of(const struct sign *s, const struct msg *m, char *out, size_t cap,
    struct mgerr *e)
{
	const char *v, *p;
	long f;

	if (s->by_envelope) {
		if (s->env.from == NULL || *s->env.from == '\0') {
			mgerr_set(e, "no envelope sender to look up");
			return -1;
		}
		v = s->env.from;
	} else if ((f = msg_find(m, "From", 0)) == -1) {
		mgerr_set(e, "message has no From field");
		return -1;
	} else
		v = msg_field(m, (size_t)f)->value;
	if ((p = strrchr(v, '<')) != NULL)
		v = p + 1;
	strlcpy(out, v + strspn(v, " \t"), cap);
	out[strcspn(out, "> \t\r\n")] = '\0';
	return 0;
}

static int
plan(struct sign *s, const struct msg *m, struct mgerr *e)
{
	char sender[512];

	if (s->signing_table == NULL)
		return specs_from_options(s, 1, e);
	if (sender_of(s, m, sender, sizeof(sender), e) == -1 ||
	    tables_lookup(s, sender, e) == -1)
		return -1;
	return 0;
}

/* Both tables, read and checked before any message is. */
static int
load_tables(struct sign *s, struct mgerr *e)
{
	if (s->signing_table == NULL)
		return 0;
	if (s->key_table == NULL) {
		mgerr_set(e, "--signing-table needs --key-table");
		return -1;
	}
	if (keytable_load(&s->kt, s->key_table, e) == -1)
		return -1;
	return signtable_load(&s->st, s->signing_table, &s->kt, e);
}

static void
log_decision(const struct sign *s, const char *err)
{
	struct logline l;
	size_t i;

	log_begin(&l);
	log_kv(&l, "decision", err ? "defer" : "signed");
	log_kvi(&l, "signatures", err ? 0 : (long long)s->nsig);
	for (i = 0; i < s->nsig && err == NULL; i++)
		log_kv(&l, "d", s->sig[i].domain);
	if (err != NULL)
		log_kv(&l, "error", err);
	log_end(&l);
}

static int
cmd_sign(struct sign *s)
{
	char *fields[MAXSIG * 2];
	struct outcome o;
	struct mgerr e;
	struct msg *m;
	size_t n = 0, i;
	int rc, crlf = 0;

	outcome_init(&o);
	if (load_tables(s, &e) == -1) {
		log_error("%s", e.msg);
		log_decision(s, "configuration error");
		outcome_tempfail(&o, "configuration error");
		rc = outcome_emit(&o, s->spp, 0);
		outcome_free(&o);
		return rc;
	}
	if (env_load(&s->env, &e) == -1 || (m = msg_read(0, NULL,
	    s->message ? MSG_KEEP : 0, &e)) == NULL) {
		log_decision(s, e.msg);
		outcome_tempfail(&o, "cannot sign the message");
		return outcome_emit(&o, s->spp, 0);
	}
	crlf = msg_crlf(m);
	if (plan(s, m, &e) == -1 || (s->nsig > 0 &&
	    sign_message(s, m, fields, &n, &e) == -1)) {
		log_decision(s, e.msg);
		outcome_tempfail(&o, "cannot sign the message");
		rc = outcome_emit(&o, s->spp, crlf);
	} else {
		log_decision(s, NULL);
		for (i = 0; i < n && o.nhdr < OUTCOME_MAXHDR; i++)
			o.hdr[o.nhdr++] = fields[i];
		n = 0;
		if (s->message && !s->spp) {
			rc = EXIT_ACCEPT;
			if (msg_write(m, 1, (const char *const *)o.hdr, o.nhdr,
			    &e) == -1) {
				log_error("write message: %s", e.msg);
				rc = EXIT_DEFER;
			}
		} else
			rc = outcome_emit(&o, s->spp, crlf);
	}
	for (i = 0; i < n; i++)
		free(fields[i]);
	outcome_free(&o);
	msg_free(m);
	table_free(&s->kt);
	table_free(&s->st);
	return rc;
}

int
main(int argc, char **argv)
{
	struct mgerr e;
	int first;

	log_init(PROG);
	set_defaults(&S);
	if ((first = opt_parse(PROG, options, argc, argv, &e)) == -1) {
		if (!opt_help)
			log_error("%s", e.msg);
		usage();
	}
	if (first < argc && (strcmp(argv[first], "genkey") == 0 ||
	    strcmp(argv[first], "testkey") == 0)) {
		if (first + 1 != argc || specs_from_options(&S, 0, &e) == -1) {
			log_error("%s", first + 1 != argc ?
			    "unexpected argument" : e.msg);
			usage();
		}
		return argv[first][0] == 'g' ? cmd_genkey(&S) :
		    cmd_testkey(&S);
	}
	if (first != argc) {
		log_error("unknown command %s", argv[first]);
		usage();
	}
	return cmd_sign(&S);
}
