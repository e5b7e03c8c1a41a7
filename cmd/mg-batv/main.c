/*
 * mg-batv: Bounce Address Tag Validation (draft-levine-smtp-batv-01,
 * the prvs scheme): sign envelope senders, strip tags, and refuse
 * bounces to addresses this host never signed.  See mg-batv(1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "batv.h"
#include "log.h"

#define PROG "mg-batv"

static struct batv B;

static const struct opt options[] = {
	ENV_OPTS(&B.env),
	{ "config", 'c', OPT_CONFIG, NULL, 0, 0, "file" },
	{ "domain", 'D', OPT_LIST, &B.domains, 0, 0, "pattern" },
	{ "exempt-auth", 0, OPT_BOOL, &B.exempt_auth, 0, 0, "yes|no" },
	{ "exempt-client", 0, OPT_LIST, &B.exempt_clients, 0, 0, "cidr" },
	{ "exempt-domain", 0, OPT_LIST, &B.exempt_domains, 0, 0, "pattern" },
	{ "exempt-relayclient", 0, OPT_BOOL, &B.exempt_relay, 0, 0, "yes|no" },
	{ "explain", 'x', OPT_FLAG, &B.explain, 0, 0, NULL },
	{ "hostname", 'H', OPT_STR, &B.hostname, 0, 0, "name" },
	{ "keys", 'k', OPT_STR, &B.keys_file, 0, 0, "file" },
	{ "lifetime", 'l', OPT_DAYS, &B.lifetime, 86400, 400 * 86400LL, "days" },
	{ "log-only", 0, OPT_BOOL, &B.log_only, 0, 0, "yes|no" },
	{ "resolver", 'r', OPT_STR, &B.resolver, 0, 0, "spec" },
	{ "spp", 0, OPT_FLAG, &B.spp, 0, 0, NULL },
	{ "statedir", 'd', OPT_STR, &B.statedir, 0, 0, "dir" },
	{ "subaddress", 0, OPT_CHOICE, &B.subaddress, 0, 0, "+|-" },
	OPT_END
};

static void
usage(void)
{
	if (opt_usage(
	    "usage: %s [-x] [-c file] [-k keys] [--from addr] [--rcpt addr]\n"
	    "       %*s [--ip addr] [option ...] [check]\n"
	    "       %s [-k keys] [-D domain] [--subaddress +|-] sign addr ...\n"
	    "       %s strip addr ...\n"
	    "       %s [-k keys] [-l days] rotate | keys\n",
	    PROG, (int)strlen(PROG), "", PROG, PROG, PROG))
		exit(0);
	printf("%s451 4.3.0 temporary failure (usage error)\n",
	    B.spp ? "E" : "");
	exit(B.spp ? 0 : EXIT_DEFER);
}

static void
set_defaults(struct batv *b)
{
	env_init(&b->env);
	b->lifetime = 7 * 86400;
	b->exempt_auth = b->exempt_relay = 1;
	b->subaddress = -1;
}

/* Settings that must hold together; keys are read only when needed. */
static int
validate(struct batv *b, struct mgerr *e)
{
	struct cidr c;
	size_t i;

	if (b->lifetime % 86400 != 0) {
		mgerr_set(e, "option --lifetime: tags count whole days");
		return -1;
	}
	for (i = 0; i < b->exempt_clients.n; i++)
		if (cidr_parse(b->exempt_clients.v[i], &c, e) == -1)
			return -1;
	return 0;
}

static int
need_keys(struct batv *b, struct mgerr *e)
{
	if (b->keys_file == NULL) {
		mgerr_set(e, "no key file: set --keys");
		return -1;
	}
	return keys_load(b->keys_file, &b->ring, e);
}

/* A bounce to a BATV domain is the only mail that needs the keys. */
static int
check_needs_keys(const struct batv *b)
{
	struct mailaddr a;
	struct mgerr e;
	size_t i;

	if (!batv_is_bounce(b->env.from))
		return 0;
	for (i = 0; i < b->env.rcpt.n; i++)
		if (addr_parse(b->env.rcpt.v[i], &a, &e) == 0 &&
		    batv_domain(b, a.domain))
			return 1;
	return 0;
}

static void
log_decision(const struct batv *b, const struct outcome *o)
{
	struct logline l;

	log_begin(&l);
	log_kv(&l, "decision", o->code == EXIT_ACCEPT ? "accept" :
	    o->code == EXIT_REJECT ? "reject" : "defer");
	log_kv(&l, "batv", b->status);
	log_kv(&l, "ip", b->env.ip_text ? b->env.ip_text : "");
	log_kv(&l, "from", b->env.from ? b->env.from : "");
	if (b->env.rcpt.n > 0)
		log_kv(&l, "rcpt", b->env.rcpt.v[b->env.rcpt.n - 1]);
	if (o->code != EXIT_ACCEPT)
		log_kv(&l, "reply", o->reply);
	log_kvi(&l, "pid", (long long)getpid());
	log_end(&l);
}

static void
run_check(struct batv *b, struct outcome *o, char *plain, size_t len)
{
	struct mgerr e;

	if (env_load(&b->env, &e) == -1 || validate(b, &e) == -1) {
		log_error("%s", e.msg);
		strlcpy(b->status, "error", sizeof(b->status));
		outcome_tempfail(o, "configuration or input error");
		return;
	}
	if (b->env.from == NULL || b->env.rcpt.n == 0) {
		log_error("check: no %s (--from/SMTPMAILFROM,"
		    " --rcpt/SMTPRCPTTO)", b->env.from ? "recipient" : "sender");
		strlcpy(b->status, "error", sizeof(b->status));
		outcome_tempfail(o, "usage error");
		return;
	}
	if (b->keys_file == NULL) {
		strlcpy(b->status, "disabled", sizeof(b->status));
		return;
	}
	if (check_needs_keys(b) && need_keys(b, &e) == -1) {
		log_error("%s", e.msg);
		strlcpy(b->status, "error", sizeof(b->status));
		outcome_tempfail(o, "BATV keys unavailable");
		return;
	}
	batv_check(b, o, plain, len);
}

static int
cmd_check(struct batv *b)
{
	char plain[4096] = "";
	struct outcome o;
	char *line, *save = NULL;
	int rc;

	outcome_init(&o);
	run_check(b, &o, plain, sizeof(plain));
	log_decision(b, &o);
	rc = outcome_emit(&o, b->spp, 0);
	/* The recipients without their tags, for the adapters; as qmail-spp
	 * "C" commands, which replace the RCPT address. */
	if (o.code == EXIT_ACCEPT)
		for (line = strtok_r(plain, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save))
			printf("%s%s\n", b->spp ? "C" : "", line);
	if (fflush(stdout) == EOF && rc == EXIT_ACCEPT)
		rc = EXIT_DEFER;
	outcome_free(&o);
	return rc;
}

static int
cmd_sign(struct batv *b, int argc, char **argv)
{
	char out[1024];
	struct mgerr e;
	int i, rc = 0;

	if (argc < 2)
		usage();
	if (validate(b, &e) == -1 || need_keys(b, &e) == -1) {
		log_error("%s", e.msg);
		return EXIT_DEFER;
	}
	for (i = 1; i < argc; i++) {
		if (batv_sign(b, argv[i], out, sizeof(out), &e) == -1) {
			log_error("%s", e.msg);
			rc = EXIT_DEFER;
		}
		printf("%s\n", out);
	}
	if (fflush(stdout) == EOF)
		rc = EXIT_DEFER;
	return rc;
}

static int
cmd_strip(int argc, char **argv)
{
	struct mailaddr a;
	struct prvs p;
	struct mgerr e;
	int i;

	if (argc < 2)
		usage();
	for (i = 1; i < argc; i++) {
		if (addr_parse(argv[i], &a, &e) == 0 && !a.quoted &&
		    prvs_parse(a.addr, &p))
			printf("%s\n", p.plain);
		else
			printf("%s\n", argv[i]);
	}
	return fflush(stdout) == EOF ? EXIT_DEFER : 0;
}

static int
cmd_rotate(struct batv *b)
{
	struct mgerr e;
	int num;

	if (validate(b, &e) == -1 || b->keys_file == NULL) {
		log_error("%s", b->keys_file ? e.msg : "rotate: set --keys");
		return EXIT_DEFER;
	}
	if ((num = keys_rotate(b->keys_file, (int64_t)b->now, b->lifetime,
	    &e)) == -1) {
		log_error("rotate %s: %s", b->keys_file, e.msg);
		return EXIT_DEFER;
	}
	printf("key %d signs from now on\n", num);
	return 0;
}

/* Lists the keys without their secrets. */
static int
cmd_keys(struct batv *b)
{
	struct mgerr e;
	int64_t ret;
	size_t i;

	if (need_keys(b, &e) == -1) {
		log_error("%s", e.msg);
		return EXIT_DEFER;
	}
	for (i = 0; i < b->ring.n; i++) {
		ret = keys_retired(&b->ring, &b->ring.k[i]);
		if (ret == -1)
			printf("%d created=%lld signing\n", b->ring.k[i].num,
			    (long long)b->ring.k[i].created);
		else
			printf("%d created=%lld verifies-until=%lld\n",
			    b->ring.k[i].num, (long long)b->ring.k[i].created,
			    (long long)(ret + b->lifetime + 86400));
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct mgerr e;
	const char *cmd;
	int first;

	log_init(PROG);
	set_defaults(&B);
	if ((first = opt_parse(PROG, options, argc, argv, &e)) == -1) {
		if (!opt_help)
			log_error("%s", e.msg);
		usage();
	}
	argc -= first;
	argv += first;
	B.now = time(NULL);
	if (argc == 0 || strcmp(argv[0], "check") == 0)
		return cmd_check(&B);
	cmd = argv[0];
	if (strcmp(cmd, "sign") == 0)
		return cmd_sign(&B, argc, argv);
	if (strcmp(cmd, "strip") == 0)
		return cmd_strip(argc, argv);
	if (strcmp(cmd, "rotate") == 0 && argc == 1)
		return cmd_rotate(&B);
	if (strcmp(cmd, "keys") == 0 && argc == 1)
		return cmd_keys(&B);
	log_error("unknown command %s", cmd);
	usage();
	return EXIT_DEFER;
}
