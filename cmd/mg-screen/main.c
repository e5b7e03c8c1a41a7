/*
 * mg-screen: IP and host screens, address blacklist, trusted hosts,
 * reverse lookups and the dynamic screen, in front of an SMTP server.
 * See mg-screen(1).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "authres.h"
#include "log.h"
#include "num.h"
#include "policy.h"
#include "screen.h"
#include "state.h"

#define PROG "mg-screen"

static struct screen S;

static const struct opt options[] = {
	ENV_OPTS(&S.env),
	{ "auto-compile", 0, OPT_BOOL, &S.compile, 0, 0, "yes|no" },
	{ "blacklist", 'b', OPT_STR, &S.blacklist_file, 0, 0, "file" },
	{ "blacklist-action", 0, OPT_ACTION, &S.blacklist_action, 0, 0, "action" },
	{ "config", 'c', OPT_CONFIG, NULL, 0, 0, "file" },
	{ "dns-timeout", 0, OPT_NUM, &S.dns_timeout, 10, 60000, "ms" },
	{ "dyn-action", 0, OPT_ACTION, &S.dyn_action, 0, 0, "action" },
	DYN_OPTIONS(S.dyn_opts),
	{ "dyn-record", 0, OPT_LIST, &S.dyn_record, 0, 0, "event" },
	{ "exempt-auth", 0, OPT_BOOL, &S.exempt_auth, 0, 0, "yes|no" },
	{ "exempt-relayclient", 0, OPT_BOOL, &S.exempt_relay, 0, 0, "yes|no" },
	{ "explain", 'x', OPT_FLAG, &S.explain, 0, 0, NULL },
	{ "for", 0, OPT_DURATION, &S.block_for, 1, 3650 * 86400LL, "time" },
	{ "helo-matches", 0, OPT_ACTION, &S.helo_match, 0, 0, "action" },
	{ "helo-resolves", 0, OPT_ACTION, &S.helo_resolves, 0, 0, "action" },
	{ "helo-self", 0, OPT_ACTION, &S.helo_self, 0, 0, "action" },
	{ "helo-syntax", 0, OPT_ACTION, &S.helo_syntax, 0, 0, "action" },
	{ "host-action", 0, OPT_ACTION, &S.host_action, 0, 0, "action" },
	{ "host-rules", 0, OPT_STR, &S.host_file, 0, 0, "file" },
	{ "hostname", 'H', OPT_STR, &S.hostname, 0, 0, "name" },
	{ "ip-action", 0, OPT_ACTION, &S.ip_action, 0, 0, "action" },
	{ "ip-default", 0, OPT_CHOICE, &S.ip_deny, 0, 0, "allow|deny" },
	{ "ip-rules", 0, OPT_STR, &S.ip_file, 0, 0, "file" },
	{ "local-ip", 0, OPT_LIST, &S.local_ips, 0, 0, "addr" },
	{ "lock-timeout", 0, OPT_NUM, &S.lock_timeout, 0, 60000, "ms" },
	{ "require-fcrdns", 0, OPT_ACTION, &S.require_fcrdns, 0, 0, "action" },
	{ "require-ptr", 0, OPT_ACTION, &S.require_ptr, 0, 0, "action" },
	{ "reason", 0, OPT_STR, &S.block_reason, 0, 0, "text" },
	{ "resolver", 'r', OPT_STR, &S.resolver, 0, 0, "spec" },
	{ "sender-domain", 0, OPT_ACTION, &S.sender_domain, 0, 0, "action" },
	{ "serve", 0, OPT_FLAG, &S.serve, 0, 0, NULL },
	{ "spp", 0, OPT_FLAG, &S.spp, 0, 0, NULL },
	{ "statedir", 'd', OPT_STR, &S.statedir, 0, 0, "dir" },
	{ "trusted", 't', OPT_STR, &S.trusted_file, 0, 0, "file" },
	OPT_END
};

static void
usage(void)
{
	if (opt_usage(
	    "usage: %s [-x] [-c file] [--ip addr] [--helo name] [--from addr]\n"
	    "       %*s [--rcpt addr] [option ...]\n"
	    "       %s --serve [option ...]\n"
	    "       %s record event --ip addr\n"
	    "       %s list | expire\n"
	    "       %s block net [--for time] [--reason text] | unblock net\n"
	    "       %s compile file ...\n",
	    PROG, (int)strlen(PROG), "", PROG, PROG, PROG, PROG, PROG))
		exit(0);
	/* The contract holds for usage errors too: a reply line, then 111. */
	printf("%s451 4.3.0 temporary failure (usage error)\n",
	    S.spp ? "E" : "");
	exit(S.spp ? 0 : EXIT_DEFER);
}

void
mark(struct screen *s, const char *check, const char *why)
{
	char item[300];

	snprintf(item, sizeof(item), "%s%s=fail (%s)",
	    s->marks[0] != '\0' ? "; " : "", check, why);
	strlcat(s->marks, item, sizeof(s->marks));
}

void
fail_check(struct screen *s, struct outcome *o, int act, const char *check,
    const char *why)
{
	log_explain(s->explain, "%s: fail, action %s: %s", check,
	    action_name(act), why);
	if (act == ACT_HEADER)
		mark(s, check, why);
	else
		outcome_act(o, act, "%s", why);
}

static void
set_defaults(struct screen *s)
{
	static char host[256];

	env_init(&s->env);
	if (gethostname(host, sizeof(host) - 1) == -1)
		strlcpy(host, "localhost", sizeof(host));
	s->hostname = host;
	s->dns_timeout = 3000;
	s->lock_timeout = 2000;
	s->statedir = state_default_dir();
	s->compile = 1;
	s->exempt_auth = s->exempt_relay = 1;
	s->ip_action = s->host_action = s->blacklist_action = ACT_REJECT;
	s->dyn_action = ACT_OFF;
	s->ip_deny = 0;
	dyn_opts_defaults(&s->dyn_opts);
}

/* Opens one list; a warning from the compiler is logged, not fatal. */
static int
open_list(struct screen *s, const char *path, struct list **l,
    struct mgerr *e)
{
	if (list_load(path, s->compile, l, log_warn, e) == -1)
		return -1;
	if (*l != NULL)
		log_explain(s->explain, "list %s: %zu entries%s", path,
		    list_count(*l), list_is_compiled(*l) ? ", compiled" : "");
	return 0;
}

/* The lists, the dynamic store's rules, and a resolver when dns is set. */
static int
resources(struct screen *s, int dns, struct mgerr *e)
{
	if (open_list(s, s->trusted_file, &s->trusted, e) == -1 ||
	    open_list(s, s->ip_file, &s->ipl, e) == -1 ||
	    open_list(s, s->host_file, &s->hostl, e) == -1 ||
	    open_list(s, s->blacklist_file, &s->blacklist, e) == -1)
		return -1;
	if (dyn_setup(s, e) == -1)
		return -1;
	if (dns && rdns_needed(s) && (s->dns_all = dns_new(s->resolver,
	    (unsigned)s->dns_timeout, 2, e)) == NULL)
		return -1;
	s->dns = s->dns_all;
	return 0;
}

static int
acquire(struct screen *s, struct mgerr *e)
{
	if (env_load(&s->env, e) == -1)
		return -1;
	return resources(s, s->env.have_ip, e);
}

static void
release(struct screen *s)
{
	list_close(s->trusted);
	list_close(s->ipl);
	list_close(s->hostl);
	list_close(s->blacklist);
	dns_free(s->dns_all);
	free(s->rules);
}

/* Clients the screens leave alone: authenticated or allowed to relay. */
static int
exempt(const struct screen *s, const char **why)
{
	if (s->exempt_auth && s->env.auth_user != NULL) {
		*why = "authenticated";
		return 1;
	}
	if (s->exempt_relay && s->env.relayclient) {
		*why = "relayclient";
		return 1;
	}
	return 0;
}

/*
 * The checks that judge the client address itself.  Without an address
 * they cannot say yes, so the answer is a defer, as mg-spf gives: an
 * empty TCPREMOTEIP must never pass a screen that would have refused.
 */
static int
ip_checks_enabled(const struct screen *s)
{
	return ip_screen_on(s) || host_screen_on(s) || dyn_on(s) ||
	    s->require_ptr != ACT_OFF || s->require_fcrdns != ACT_OFF ||
	    s->helo_match != ACT_OFF;
}

static void
run_checks(struct screen *s, struct outcome *o, struct mgerr *e)
{
	const char *why;

	if (!s->env.have_ip && !exempt(s, &why) && ip_checks_enabled(s)) {
		log_explain(s->explain,
		    "no client address: the address checks cannot pass");
		outcome_tempfail(o,
		    "no client address: give --ip or set TCPREMOTEIP");
		return;
	}
	if (s->env.have_ip && check_trusted(s, e)) {
		log_explain(s->explain, "trusted client: every screen passes");
		return;
	}
	if (!exempt(s, &why)) {
		if (s->env.have_ip && check_dynamic(s, o, e) == -1) {
			outcome_tempfail(o, e->msg);
			return;
		}
		if (s->env.have_ip)
			check_ip(s, o);
		if (s->dns != NULL) {
			rdns_lookup(s);
			check_rdns(s, o);
			check_host(s, o);
		}
		check_helo(s, o);
		check_sender_domain(s, o);
	} else
		log_explain(s->explain, "client is %s: screens skipped", why);
	check_blacklist(s, o);
}

static void
log_decision(const struct screen *s, const struct outcome *o)
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
	if (s->env.rcpt.n > 0)
		log_kv(&l, "rcpt", s->env.rcpt.v[s->env.rcpt.n - 1]);
	if (s->iprev != NULL)
		log_kv(&l, "iprev", s->iprev);
	if (s->marks[0] != '\0')
		log_kv(&l, "marks", s->marks);
	if (o->code != EXIT_ACCEPT)
		log_kv(&l, "reply", o->reply);
	log_kvi(&l, "pid", (long long)getpid());
	log_end(&l);
}

/*
 * The decision for s->env, both forms' (one process, --serve): fills o,
 * with the header fields of an accept, and logs the decision line.
 */
static void
decide(struct screen *s, struct outcome *o)
{
	struct mgerr e;

	/* What one decision leaves behind must not reach the next. */
	s->iprev_done = 0;
	s->iprev = NULL;
	s->ptr_name[0] = s->fcrdns[0] = s->marks[0] = '\0';
	authres_init(&s->ar, s->hostname);
	mgerr_clear(&e);
	run_checks(s, o, &e);
	if (o->code == EXIT_ACCEPT && s->iprev != NULL &&
	    outcome_header(o, "Authentication-Results",
	    authres_value(&s->ar), &e) == -1)
		outcome_tempfail(o, e.msg);
	if (o->code == EXIT_ACCEPT && s->marks[0] != '\0' &&
	    outcome_header(o, "X-Mailguard-Screen", s->marks, &e) == -1)
		outcome_tempfail(o, e.msg);
	log_decision(s, o);
}

static int
cmd_check(struct screen *s)
{
	struct outcome o;
	struct mgerr e;
	int rc;

	outcome_init(&o);
	if (acquire(s, &e) == -1) {
		log_error("%s", e.msg);
		authres_init(&s->ar, s->hostname);
		outcome_tempfail(&o, "configuration or input error");
		log_decision(s, &o);
	} else
		decide(s, &o);
	rc = outcome_emit(&o, s->spp, 0);
	outcome_free(&o);
	release(s);
	return rc;
}

/* One request of the served form: its envelope, then the decision. */
static void
serve_one(void *arg, const struct envelope *env, struct outcome *o)
{
	struct screen *s = arg;

	s->env = *env;
	s->now = time(NULL);
	/* As the one-process form: no client address, no reverse lookups. */
	s->dns = env->have_ip ? s->dns_all : NULL;
	decide(s, o);
}

/* --serve: Postfix's policy protocol on stdin and stdout (policy.h). */
static int
cmd_serve(struct screen *s)
{
	struct mgerr e;
	int rc;

	if (resources(s, 1, &e) == -1) {
		log_error("%s", e.msg);
		return EXIT_DEFER;
	}
	rc = policy_serve(0, 1, serve_one, s, log_warn);
	if (rc == -1)
		log_error("policy requests: %s", strerror(errno));
	release(s);
	return rc == 0 ? 0 : EXIT_DEFER;
}

static int
cmd_compile(int argc, char **argv)
{
	struct mgerr e;
	int i, rc = 0;
	long n;

	if (argc < 2)
		usage();
	for (i = 1; i < argc; i++) {
		if ((n = list_compile(argv[i], &e)) == -1) {
			log_error("compile %s: %s", argv[i], e.msg);
			rc = EXIT_DEFER;
		} else
			printf("%s: %ld entries\n", argv[i], n);
	}
	return rc;
}

int
main(int argc, char **argv)
{
	struct mgerr e;
	const char *cmd;
	int first;

	log_init(PROG);
	set_defaults(&S);
	if ((first = opt_parse(PROG, options, argc, argv, &e)) == -1) {
		if (!opt_help)
			log_error("%s", e.msg);
		usage();
	}
	argc -= first;
	argv += first;
	S.now = time(NULL);
	if (S.serve && argc == 0)
		return cmd_serve(&S);
	if (argc == 0 || strcmp(argv[0], "check") == 0)
		return cmd_check(&S);
	cmd = argv[0];
	if (strcmp(cmd, "record") == 0)
		return cmd_record(&S, argc, argv);
	if (strcmp(cmd, "list") == 0)
		return cmd_list(&S, argc, argv);
	if (strcmp(cmd, "block") == 0)
		return cmd_block(&S, argc, argv);
	if (strcmp(cmd, "unblock") == 0)
		return cmd_unblock(&S, argc, argv);
	if (strcmp(cmd, "expire") == 0)
		return cmd_expire(&S, argc, argv);
	if (strcmp(cmd, "compile") == 0)
		return cmd_compile(argc, argv);
	log_error("unknown command %s", cmd);
	usage();
	return EXIT_DEFER;
}
