/*
 * mg-spf: checks the client against the sender's SPF policy (RFC 7208)
 * for the MAIL FROM and HELO identities, or the message's Purported
 * Responsible Address against its Sender ID policy (RFC 4406, RFC 4407).
 * See mg-spf(1).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "authres.h"
#include "log.h"
#include "policy.h"
#include "spf.h"
#include "state.h"

#define PROG "mg-spf"

static struct spf S;

static const struct opt options[] = {
	ENV_OPTS(&S.env),
	{ "cache", 0, OPT_BOOL, &S.cache, 0, 0, "yes|no" },
	{ "cache-max", 0, OPT_DURATION, &S.cache_max, 1, 7 * 86400, "time" },
	{ "config", 'c', OPT_CONFIG, NULL, 0, 0, "file" },
	{ "default-exp", 0, OPT_STR, &S.exp_default, 0, 0, "text" },
	{ "dns-timeout", 0, OPT_NUM, &S.dns_timeout, 10, 60000, "ms" },
	{ "exempt-auth", 0, OPT_BOOL, &S.exempt_auth, 0, 0, "yes|no" },
	{ "exempt-relayclient", 0, OPT_BOOL, &S.exempt_relay, 0, 0, "yes|no" },
	{ "explain", 'x', OPT_FLAG, &S.explain, 0, 0, NULL },
	{ "fail-action", 0, OPT_ACTION, &S.act[R_FAIL], 0, 0, "action" },
	{ "helo-check", 0, OPT_BOOL, &S.helo_check, 0, 0, "yes|no" },
	{ "hostname", 'H', OPT_STR, &S.hostname, 0, 0, "name" },
	{ "lock-timeout", 0, OPT_NUM, &S.lock_timeout, 0, 60000, "ms" },
	{ "message", 'm', OPT_FLAG, &S.msg_out, 0, 0, NULL },
	{ "neutral-action", 0, OPT_ACTION, &S.act[R_NEUTRAL], 0, 0, "action" },
	{ "none-action", 0, OPT_ACTION, &S.act[R_NONE], 0, 0, "action" },
	{ "permerror-action", 0, OPT_ACTION, &S.act[R_PERMERROR], 0, 0, "action" },
	{ "resolver", 'r', OPT_STR, &S.resolver, 0, 0, "spec" },
	{ "sender-id", 'S', OPT_FLAG, &S.senderid, 0, 0, NULL },
	{ "serve", 0, OPT_FLAG, &S.serve, 0, 0, NULL },
	{ "softfail-action", 0, OPT_ACTION, &S.act[R_SOFTFAIL], 0, 0, "action" },
	{ "spp", 0, OPT_FLAG, &S.spp, 0, 0, NULL },
	{ "statedir", 'd', OPT_STR, &S.statedir, 0, 0, "dir" },
	{ "temperror-action", 0, OPT_ACTION, &S.act[R_TEMPERROR], 0, 0, "action" },
	{ "time-budget", 0, OPT_NUM, &S.budget_ms, 100, 600000, "ms" },
	{ "trusted", 't', OPT_STR, &S.trusted_file, 0, 0, "file" },
	{ "whitelist", 'w', OPT_STR, &S.whitelist_file, 0, 0, "file" },
	OPT_END
};

static void
usage(void)
{
	if (opt_usage(
	    "usage: %s [-x] [-c file] [-r spec] --ip addr [--helo name]"
	    " [--from addr]\n"
	    "       %*s [option ...]\n"
	    "       %s -S [-m] [-x] [-c file] --ip addr [option ...]"
	    " < message\n"
	    "       %s --serve [-c file] [-r spec] [option ...]\n",
	    PROG, (int)strlen(PROG), "", PROG, PROG))
		exit(0);
	printf("%s451 4.3.0 temporary failure (usage error)\n",
	    S.spp ? "E" : "");
	exit(S.spp ? 0 : EXIT_DEFER);
}

static void
set_defaults(struct spf *s)
{
	static char host[256];

	env_init(&s->env);
	if (gethostname(host, sizeof(host) - 1) == -1)
		strlcpy(host, "localhost", sizeof(host));
	s->hostname = host;
	s->dns_timeout = 3000;
	s->lock_timeout = 2000;
	s->budget_ms = 20000;
	s->cache = 1;
	s->cache_max = 3600;
	s->statedir = state_default_dir();
	s->exempt_auth = s->exempt_relay = 1;
	/* RFC 7208 section 8: only fail is a clear "no"; the rest mark. */
	s->act[R_NONE] = s->act[R_NEUTRAL] = s->act[R_PASS] = ACT_HEADER;
	s->act[R_SOFTFAIL] = s->act[R_PERMERROR] = ACT_HEADER;
	s->act[R_FAIL] = ACT_REJECT;
	s->act[R_TEMPERROR] = ACT_DEFER;
	s->exp_default = "%{o}%_does%_not%_allow%_%{i}%_to%_send%_mail%_as%_%{s}";
}

static int
open_list(const struct spf *s, const char *path, struct list **l,
    struct mgerr *e)
{
	if (list_load(path, 1, l, log_warn, e) == -1)
		return -1;
	if (*l != NULL)
		log_explain(s->explain, "list %s: %zu entries", path,
		    list_count(*l));
	return 0;
}

/* The lists and libspf2's server, kept for every decision. */
static int
resources(struct spf *s, struct mgerr *e)
{
	/* A zone file is a draft being tested: never cache its answers. */
	if (s->resolver != NULL && strncmp(s->resolver, "zone:", 5) == 0)
		s->cache = 0;
	if (open_list(s, s->trusted_file, &s->trusted, e) == -1 ||
	    open_list(s, s->whitelist_file, &s->whitelist, e) == -1)
		return -1;
	return spf_setup(s, e);
}

static int
acquire(struct spf *s, struct mgerr *e)
{
	if (env_load(&s->env, e) == -1)
		return -1;
	if (!s->env.have_ip) {
		mgerr_set(e, "no client address: give --ip or set TCPREMOTEIP");
		return -1;
	}
	return resources(s, e);
}

/* Clients not checked at all: trusted, whitelisted, authenticated. */
static const char *
exempt(const struct spf *s)
{
	if (s->trusted != NULL && list_match_ip(s->trusted, &s->env.ip, NULL))
		return "trusted";
	if (s->whitelist != NULL &&
	    list_match_ip(s->whitelist, &s->env.ip, NULL))
		return "whitelisted";
	if (s->exempt_auth && s->env.auth_user != NULL)
		return "authenticated";
	if (s->exempt_relay && s->env.relayclient)
		return "relayclient";
	return NULL;
}

/* One identity: check, act, add Received-SPF; the answer goes in a. */
static void
one(struct spf *s, struct outcome *o, enum spf_scope scope,
    const char *domain, const char *sender, struct spf_answer *a)
{
	char val[HDR_FIELD_MAX];
	struct mgerr e;

	spf_check(s, scope, domain, sender, a);
	spf_act(s, o, a, "SPF");
	spf_received(s, a, val, sizeof(val));
	if (o->code == EXIT_ACCEPT &&
	    outcome_header(o, "Received-SPF", val, &e) == -1)
		outcome_tempfail(o, e.msg);
}

static void
run_spf(struct spf *s, struct outcome *o, struct authres *ar,
    char *logres, size_t loglen)
{
	struct spf_answer h, m;
	const char *from = s->env.from, *helo = s->env.helo, *dom;
	char sender[ADDR_BUF_MAX];
	int have_helo = helo != NULL && *helo != '\0';

	memset(&h, 0, sizeof(h));
	if (have_helo && (s->helo_check || from == NULL)) {
		one(s, o, SCOPE_HELO, helo, NULL, &h);
		authres_add(ar, "spf", spf_result_names[h.result], NULL,
		    "smtp.helo", helo, NULL);
		snprintf(logres, loglen, "helo:%s", spf_result_names[h.result]);
	}
	if (from == NULL)
		return;
	if (*from == '<' && from[strlen(from) - 1] == '>')
		snprintf(sender, sizeof(sender), "%.*s",
		    (int)strlen(from) - 2, from + 1);
	else
		strlcpy(sender, from, sizeof(sender));
	/* RFC 7208 section 2.4: a null sender is postmaster@HELO. */
	if (sender[0] == '\0') {
		if (!have_helo)
			return;
		snprintf(sender, sizeof(sender), "postmaster@%s", helo);
	}
	dom = strrchr(sender, '@') ? strrchr(sender, '@') + 1 : sender;
	one(s, o, SCOPE_MFROM, dom, sender, &m);
	authres_add(ar, "spf", spf_result_names[m.result], NULL,
	    "smtp.mailfrom", sender, have_helo ? "smtp.helo" : NULL, helo,
	    NULL);
	if (logres[0] != '\0')
		strlcat(logres, ",", loglen);
	strlcat(logres, "mailfrom:", loglen);
	strlcat(logres, spf_result_names[m.result], loglen);
}

static void
log_decision(const struct spf *s, const struct outcome *o, const char *res)
{
	struct logline l;
	const char *dec = o->code == EXIT_ACCEPT ? "accept" :
	    o->code == EXIT_REJECT ? (o->drop ? "drop" : "reject") : "defer";

	log_begin(&l);
	log_kv(&l, "decision", dec);
	log_kv(&l, "ip", s->env.ip_text ? s->env.ip_text : "");
	if (s->env.helo != NULL)
		log_kv(&l, "helo", s->env.helo);
	if (s->env.from != NULL)
		log_kv(&l, "from", s->env.from);
	if (res[0] != '\0')
		log_kv(&l, s->senderid ? "sender-id" : "spf", res);
	if (s->senderid && senderid_forged() > 0)
		log_kvi(&l, "forged", (long long)senderid_forged());
	if (o->code != EXIT_ACCEPT)
		log_kv(&l, "reply", o->reply);
	log_kvi(&l, "queries", (long long)s->layer.queries);
	log_kvi(&l, "pid", (long long)getpid());
	log_end(&l);
}

/*
 * The SPF decision (HELO and MAIL FROM) for s->env, both forms': fills
 * o with Received-SPF and Authentication-Results, and logs it.
 */
static void
decide(struct spf *s, struct outcome *o)
{
	struct authres ar;
	struct mgerr e;
	char res[128] = "";
	const char *why;

	authres_init(&ar, s->hostname);
	s->layer.queries = 0;
	if ((why = exempt(s)) != NULL)
		log_explain(s->explain, "client is %s: not checked", why);
	else
		run_spf(s, o, &ar, res, sizeof(res));
	if (o->code == EXIT_ACCEPT && ar.n > 0 && outcome_header(o,
	    "Authentication-Results", authres_value(&ar), &e) == -1)
		outcome_tempfail(o, e.msg);
	log_decision(s, o, res);
}

static int
cmd_check(struct spf *s)
{
	struct outcome o;
	struct authres ar;
	struct mgerr e;
	char res[128] = "";
	int rc, msg = 0;

	outcome_init(&o);
	if (acquire(s, &e) == -1) {
		log_error("%s", e.msg);
		outcome_tempfail(&o, "configuration or input error");
		log_decision(s, &o, res);
	} else if (s->senderid && exempt(s) == NULL) {
		authres_init(&ar, s->hostname);
		msg = senderid_run(s, &o, &ar, res, sizeof(res));
		if (o.code == EXIT_ACCEPT && ar.n > 0 && outcome_header(&o,
		    "Authentication-Results", authres_value(&ar), &e) == -1)
			outcome_tempfail(&o, e.msg);
		log_decision(s, &o, res);
	} else
		decide(s, &o);
	rc = outcome_emit(&o, s->spp, msg && senderid_crlf());
	if (msg && o.code == EXIT_ACCEPT && !s->spp)
		senderid_copy_body();
	outcome_free(&o);
	spf_release(s);
	return rc;
}

/* One request of the served form: its envelope, then the decision. */
static void
serve_one(void *arg, const struct envelope *env, struct outcome *o)
{
	struct spf *s = arg;

	s->env = *env;
	s->now = time(NULL);
	if (!s->env.have_ip) {
		/* As the one-process form says of the same input. */
		log_error("no client address in the policy request");
		outcome_tempfail(o, "configuration or input error");
		log_decision(s, o, "");
		return;
	}
	decide(s, o);
}

/* --serve: Postfix's policy protocol on stdin and stdout (policy.h). */
static int
cmd_serve(struct spf *s)
{
	struct mgerr e;
	int rc;

	if (resources(s, &e) == -1) {
		log_error("%s", e.msg);
		return EXIT_DEFER;
	}
	if ((rc = policy_serve(0, 1, serve_one, s, log_warn)) == -1)
		log_error("policy requests: %s", strerror(errno));
	spf_release(s);
	return rc == 0 ? 0 : EXIT_DEFER;
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
	if (first < argc && strcmp(argv[first], "check") != 0) {
		log_error("unknown command %s", argv[first]);
		usage();
	}
	if (S.msg_out && !S.senderid) {
		log_error("option -m: needs -S (Sender ID reads the message)");
		usage();
	}
	S.now = time(NULL);
	if (S.serve) {
		if (S.senderid) {
			/* Sender ID reads the message: no policy request. */
			log_error("option --serve: not with -S");
			usage();
		}
		return cmd_serve(&S);
	}
	return cmd_check(&S);
}
