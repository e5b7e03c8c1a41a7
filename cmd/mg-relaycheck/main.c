/*
 * mg-relaycheck: relay control, the IP shield, the AUTH policy and
 * POP-before-SMTP, per recipient.  See mg-relaycheck(1).
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
#include "relay.h"
#include "state.h"

#define PROG "mg-relaycheck"
#define DEFAULT_RCPTHOSTS "/var/qmail/control/rcpthosts"

static struct relay R;

static const struct opt options[] = {
	ENV_OPTS(&R.env),
	{ "auth-local-sender", 0, OPT_BOOL, &R.auth_local_sender, 0, 0, "yes|no" },
	{ "auth-local-to-local", 0, OPT_BOOL, &R.auth_local_to_local, 0, 0, "yes|no" },
	{ "auth-match", 0, OPT_CHOICE, &R.auth_match, 0, 0, "off|address|domain" },
	{ "auth-role-senders", 0, OPT_BOOL, &R.auth_roles, 0, 0, "yes|no" },
	{ "config", 'c', OPT_CONFIG, NULL, 0, 0, "file" },
	DYN_OPTIONS(R.dyn_opts),
	{ "explain", 'x', OPT_FLAG, &R.explain, 0, 0, NULL },
	{ "hostname", 'H', OPT_STR, &R.hostname, 0, 0, "name" },
	{ "local-domains", 'l', OPT_STR, &R.local_file, 0, 0, "file" },
	{ "lock-timeout", 0, OPT_NUM, &R.lock_timeout, 0, 60000, "ms" },
	{ "more-local-domains", 0, OPT_STR, &R.more_local_file, 0, 0, "file" },
	{ "pop-age", 0, OPT_DURATION, &R.pop_age, 1, 7 * 86400, "time" },
	{ "pop-before-smtp", 0, OPT_BOOL, &R.pop, 0, 0, "yes|no" },
	{ "record-unknown", 0, OPT_BOOL, &R.record_unknown, 0, 0, "yes|no" },
	{ "relay-clients", 0, OPT_STR, &R.relay_file, 0, 0, "file" },
	/* Shared config lines name a resolver; no DNS is used here. */
	{ "resolver", 'r', OPT_STR, &R.resolver, 0, 0, "spec" },
	{ "role-address", 0, OPT_LIST, &R.role_addr, 0, 0, "local-part" },
	{ "serve", 0, OPT_FLAG, &R.serve, 0, 0, NULL },
	{ "shield", 0, OPT_STR, &R.shield_file, 0, 0, "file" },
	{ "shield-exempt-auth", 0, OPT_BOOL, &R.shield_auth, 0, 0, "yes|no" },
	{ "shield-exempt-local-rcpt", 0, OPT_BOOL, &R.shield_local_rcpt, 0, 0, "yes|no" },
	{ "shield-exempt-relay", 0, OPT_BOOL, &R.shield_relay, 0, 0, "yes|no" },
	{ "shield-exempt-trusted", 0, OPT_BOOL, &R.shield_trusted, 0, 0, "yes|no" },
	{ "spp", 0, OPT_FLAG, &R.spp, 0, 0, NULL },
	{ "statedir", 'd', OPT_STR, &R.statedir, 0, 0, "dir" },
	{ "trusted", 't', OPT_STR, &R.trusted_file, 0, 0, "file" },
	{ "valid-rcpts", 0, OPT_STR, &R.valid_file, 0, 0, "file" },
	OPT_END
};

static void
usage(void)
{
	if (opt_usage(
	    "usage: %s [-x] [-c file] [-l file] [--ip addr] [--from addr]\n"
	    "       %*s [--rcpt addr] [--auth-user name] [option ...]\n"
	    "       %s --serve [-c file] [-l file] [option ...]\n"
	    "       %s [-c file] pop-record [--ip addr] [--user name] "
	    "[program arg ...]\n"
	    "       %s list | expire\n",
	    PROG, (int)strlen(PROG), "", PROG, PROG, PROG))
		exit(0);
	/* The contract holds for usage errors too: a reply line, then 111. */
	printf("%s451 4.3.0 temporary failure (usage error)\n",
	    R.spp ? "E" : "");
	exit(R.spp ? 0 : EXIT_DEFER);
}

static void
set_defaults(struct relay *r)
{
	static char host[256];

	env_init(&r->env);
	if (gethostname(host, sizeof(host) - 1) == -1)
		strlcpy(host, "localhost", sizeof(host));
	r->hostname = host;
	r->lock_timeout = 2000;
	r->statedir = state_default_dir();
	r->local_file = DEFAULT_RCPTHOSTS;
	r->auth_match = AUTH_MATCH_OFF;
	r->record_unknown = 1;
	r->shield_auth = r->shield_trusted = r->shield_relay = 1;
	r->pop_age = 15 * 60;
	r->pop_ok = -1;
	dyn_opts_defaults(&r->dyn_opts);
}

/* The option-table entry a command-line word names (getopt_long takes
 * unambiguous abbreviations of long names, so this does too). */
static const struct opt *
find_opt(const char *word, int *attached)
{
	const struct opt *o, *hit = NULL;
	size_t len;
	int n = 0;

	*attached = 0;
	if (word[1] != '-') {
		for (o = options; o->name != NULL; o++)
			if (o->chr == word[1]) {
				*attached = word[2] != '\0';
				return o;
			}
		return NULL;
	}
	len = strcspn(word + 2, "=");
	*attached = word[2 + len] == '=';
	for (o = options; o->name != NULL; o++) {
		if (strncmp(o->name, word + 2, len) != 0)
			continue;
		if (o->name[len] == '\0')
			return o;
		hit = o;
		n++;
	}
	return n == 1 ? hit : NULL;
}

/*
 * The index of the first word that is not an option or an option's
 * argument: the subcommand.  In chain-loading mode only the words
 * before it are ours; the program after it gets the rest untouched.
 */
static int
first_operand(int argc, char **argv)
{
	const struct opt *o;
	int i, attached;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return i + 1;
		if (argv[i][0] != '-' || argv[i][1] == '\0')
			return i;
		o = find_opt(argv[i], &attached);
		if (o != NULL && o->type != OPT_FLAG && !attached)
			i++;
	}
	return argc;
}

static int
load_domains(struct relay *r, struct mgerr *e)
{
	if (domset_load(&r->local, r->local_file, e) == -1) {
		if (access(r->local_file, F_OK) == -1 && errno == ENOENT) {
			r->local_missing = 1;
			log_error("local domains %s missing: deferring "
			    "every client that may not relay", r->local_file);
		} else
			return -1;
	}
	if (r->more_local_file != NULL &&
	    domset_load(&r->local, r->more_local_file, e) == -1)
		return -1;
	domset_sort(&r->local);
	return 0;
}

/* What every decision reads: the domains, tables and lists. */
static int
resources(struct relay *r, struct mgerr *e)
{
	if (opt_list_add(&r->role_addr, "postmaster") == -1 ||
	    opt_list_add(&r->role_addr, "abuse") == -1) {
		mgerr_set(e, "out of memory");
		return -1;
	}
	if (load_domains(r, e) == -1)
		return -1;
	if (r->relay_file != NULL && cidrtab_load(&r->relayc, r->relay_file,
	    e) == -1)
		return -1;
	if (r->shield_file != NULL && shield_load(&r->shields,
	    r->shield_file, e) == -1)
		return -1;
	if (list_load(r->trusted_file, 0, &r->trusted, log_warn, e) == -1 ||
	    list_load(r->valid_file, 1, &r->valid, log_warn, e) == -1)
		return -1;
	return 0;
}

static int
acquire(struct relay *r, struct mgerr *e)
{
	if (env_load(&r->env, e) == -1)
		return -1;
	return resources(r, e);
}

static void
log_decision(const struct relay *r, const struct outcome *o)
{
	struct logline l;
	const char *dec = o->code == EXIT_ACCEPT ? "accept" :
	    o->code == EXIT_REJECT ? "reject" : "defer";

	log_begin(&l);
	log_kv(&l, "decision", dec);
	log_kv(&l, "ip", r->env.ip_text ? r->env.ip_text : "");
	if (r->env.from != NULL)
		log_kv(&l, "from", r->env.from);
	if (r->env.rcpt.n > 0)
		log_kv(&l, "rcpt", r->env.rcpt.v[r->env.rcpt.n - 1]);
	if (r->env.auth_user != NULL)
		log_kv(&l, "auth", r->env.auth_user);
	if (r->why_relay != NULL)
		log_kv(&l, "relay", r->why_relay);
	if (r->reason[0] != '\0')
		log_kv(&l, "rule", r->reason);
	if (o->code != EXIT_ACCEPT)
		log_kv(&l, "reply", o->reply);
	log_kvi(&l, "pid", (long long)getpid());
	log_end(&l);
}

static void
run_checks(struct relay *r, struct outcome *o)
{
	struct mgerr e;
	size_t i;
	int rc = 0;

	mgerr_clear(&e);
	if (r->env.rcpt.n == 0)
		rc = check_sender(r, -1, o, &e);
	for (i = 0; i < r->env.rcpt.n && rc == 0 &&
	    o->code == EXIT_ACCEPT; i++)
		rc = check_rcpt(r, r->env.rcpt.v[i], o, &e);
	if (rc == -1) {
		log_error("%s", e.msg);
		outcome_tempfail(o, e.temp ? "state store busy" :
		    "state store error");
	}
}

/* Adds "auth=pass smtp.auth=USER" (RFC 8601 section 2.7.4). */
static void
add_authres(struct relay *r, struct outcome *o)
{
	struct authres ar;
	struct mgerr e;

	if (o->code != EXIT_ACCEPT || r->env.auth_user == NULL)
		return;
	authres_init(&ar, r->hostname);
	authres_add(&ar, "auth", "pass", NULL, "smtp.auth",
	    r->env.auth_user, NULL);
	if (outcome_header(o, "Authentication-Results", authres_value(&ar),
	    &e) == -1)
		outcome_tempfail(o, e.msg);
}

/*
 * The decision for r->env, both forms' (one process, --serve): fills o,
 * with auth=pass for an authenticated client, and logs the decision.
 */
static void
decide(struct relay *r, struct outcome *o)
{
	/* What one decision works out must not reach the next. */
	r->is_trusted = r->trusted != NULL && r->env.have_ip &&
	    list_match_ip(r->trusted, &r->env.ip, NULL);
	r->pop_ok = -1;
	r->why_relay = NULL;
	r->reason[0] = '\0';
	r->from_ok = 0;
	run_checks(r, o);
	add_authres(r, o);
	log_decision(r, o);
}

static int
cmd_check(struct relay *r)
{
	struct outcome o;
	struct mgerr e;
	int rc;

	outcome_init(&o);
	if (acquire(r, &e) == -1) {
		log_error("%s", e.msg);
		outcome_tempfail(&o, "configuration or input error");
		log_decision(r, &o);
	} else
		decide(r, &o);
	rc = outcome_emit(&o, r->spp, 0);
	outcome_free(&o);
	return rc;
}

/* One request of the served form: its envelope, then the decision. */
static void
serve_one(void *arg, const struct envelope *env, struct outcome *o)
{
	struct relay *r = arg;

	r->env = *env;
	r->now = time(NULL);
	decide(r, o);
}

/* --serve: Postfix's policy protocol on stdin and stdout (policy.h). */
static int
cmd_serve(struct relay *r)
{
	struct mgerr e;

	if (resources(r, &e) == -1) {
		log_error("%s", e.msg);
		return EXIT_DEFER;
	}
	if (policy_serve(0, 1, serve_one, r, log_warn) == 0)
		return 0;
	log_error("policy requests: %s", strerror(errno));
	return EXIT_DEFER;
}

/* Acquires what list and expire need: only the settings. */
static int
store_cmd(struct relay *r, int argc, char **argv)
{
	if (strcmp(argv[0], "list") == 0)
		return cmd_pop_list(r, argc, argv);
	return cmd_pop_expire(r, argc, argv);
}

int
main(int argc, char **argv)
{
	struct mgerr e;
	int first, sub;

	log_init(PROG);
	set_defaults(&R);
	R.now = time(NULL);
	sub = first_operand(argc, argv);
	if (sub < argc && strcmp(argv[sub], "pop-record") == 0) {
		/* Chain-loading: parse only the words before pop-record. */
		first = opt_parse(PROG, options, sub, argv, &e);
		if (first == -1)
			log_error("%s", e.msg);
		return cmd_pop_record(&R, argc - sub, argv + sub,
		    first == sub);
	}
	if ((first = opt_parse(PROG, options, argc, argv, &e)) == -1) {
		if (!opt_help)
			log_error("%s", e.msg);
		usage();
	}
	argc -= first;
	argv += first;
	if (R.serve && argc == 0)
		return cmd_serve(&R);
	if (argc == 0 || strcmp(argv[0], "check") == 0) {
		if (argc > 1)
			usage();
		return cmd_check(&R);
	}
	if (strcmp(argv[0], "list") == 0 || strcmp(argv[0], "expire") == 0)
		return store_cmd(&R, argc, argv);
	log_error("unknown command %s", argv[0]);
	usage();
	return EXIT_DEFER;
}
