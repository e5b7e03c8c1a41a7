/*
 * mg-greylist: greylisting on (client network, sender, recipient) in
 * front of an SMTP server, with its store in the shared GDBM state.
 * See mg-greylist(1).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "greylist.h"
#include "log.h"
#include "policy.h"

#define PROG "mg-greylist"

static struct grey G;

static const struct opt options[] = {
	ENV_OPTS(&G.env),
	{ "auto-compile", 0, OPT_BOOL, &G.compile, 0, 0, "yes|no" },
	{ "auto-whitelist", 0, OPT_NUM, &G.auto_whitelist, 0, 1000000, "n" },
	{ "client-whitelist", 0, OPT_STR, &G.client_wl, 0, 0, "file" },
	{ "config", 'c', OPT_CONFIG, NULL, 0, 0, "file" },
	{ "delay", 0, OPT_DURATION, &G.delay, 0, 86400, "time" },
	{ "dns-timeout", 0, OPT_NUM, &G.dns_timeout, 10, 60000, "ms" },
	{ "enable", 0, OPT_BOOL, &G.enable, 0, 0, "yes|no" },
	{ "exempt-auth", 0, OPT_BOOL, &G.exempt_auth, 0, 0, "yes|no" },
	{ "exempt-relayclient", 0, OPT_BOOL, &G.exempt_relay, 0, 0, "yes|no" },
	{ "explain", 'x', OPT_FLAG, &G.explain, 0, 0, NULL },
	{ "hash", 0, OPT_BOOL, &G.hash, 0, 0, "yes|no" },
	{ "hostname", 'H', OPT_STR, &G.hostname, 0, 0, "name" },
	{ "key-net", 0, OPT_CHOICE, &G.keynet, 0, 0, "prefix|ip|none" },
	{ "lifetime", 0, OPT_DURATION, &G.lifetime, 3600, 3650 * 86400LL, "time" },
	{ "lock-timeout", 0, OPT_NUM, &G.lock_timeout, 0, 60000, "ms" },
	{ "rcpt-whitelist", 0, OPT_STR, &G.rcpt_wl, 0, 0, "file" },
	{ "resolver", 'r', OPT_STR, &G.resolver, 0, 0, "spec" },
	{ "retry-window", 0, OPT_DURATION, &G.window, 60, 365 * 86400, "time" },
	{ "sender-whitelist", 0, OPT_STR, &G.sender_wl, 0, 0, "file" },
	{ "serve", 0, OPT_FLAG, &G.serve, 0, 0, NULL },
	{ "spf-aware", 0, OPT_BOOL, &G.spf_aware, 0, 0, "yes|no" },
	{ "spf-pass", 0, OPT_STR, &G.spf_pass, 0, 0, "domain" },
	{ "spp", 0, OPT_FLAG, &G.spp, 0, 0, NULL },
	{ "statedir", 'd', OPT_STR, &G.statedir, 0, 0, "dir" },
	{ "v4-prefix", 0, OPT_NUM, &G.v4_prefix, 8, 32, "bits" },
	{ "v6-prefix", 0, OPT_NUM, &G.v6_prefix, 16, 128, "bits" },
	OPT_END
};

void
usage(void)
{
	if (opt_usage(
	    "usage: %s [-x] [-c file] [--enable yes] --ip addr --from addr "
	    "--rcpt addr\n"
	    "       %*s [option ...]\n"
	    "       %s --serve [-c file] [--enable yes] [option ...]\n"
	    "       %s list | stats | expire\n"
	    "       %s pass [--ip addr --from addr --rcpt addr | -]\n"
	    "       %s delete [--ip addr --from addr --rcpt addr | key ...]\n",
	    PROG, (int)strlen(PROG), "", PROG, PROG, PROG, PROG))
		exit(0);
	/* The contract holds for usage errors too: a reply line, then 111. */
	printf("%s451 4.3.0 temporary failure (usage error)\n",
	    G.spp ? "E" : "");
	exit(G.spp ? 0 : EXIT_DEFER);
}

static void
set_defaults(struct grey *g)
{
	static char host[256];

	env_init(&g->env);
	if (gethostname(host, sizeof(host) - 1) == -1)
		strlcpy(host, "localhost", sizeof(host));
	g->hostname = host;
	g->statedir = state_default_dir();
	g->lock_timeout = 2000;
	g->dns_timeout = 3000;
	g->exempt_auth = g->exempt_relay = 1;
	g->keynet = KEYNET_PREFIX;
	g->v4_prefix = 24;
	g->v6_prefix = 64;
	g->delay = 300;
	g->window = 2 * 86400;
	g->lifetime = 35 * 86400;
	g->auto_whitelist = 5;
	g->spf_aware = 1;
	g->compile = 1;
}

/* Validates the settings and opens the lists.  0, or -1 and e set. */
static int
acquire(struct grey *g, struct mgerr *e)
{
	if (g->window <= g->delay) {
		mgerr_set(e, "option --retry-window: must be longer than "
		    "--delay");
		return -1;
	}
	if (!g->serve && env_load(&g->env, e) == -1)
		return -1;
	if (list_load(g->client_wl, g->compile, &g->clients, log_warn, e) ==
	    -1 || list_load(g->sender_wl, g->compile, &g->senders, log_warn,
	    e) == -1 || list_load(g->rcpt_wl, g->compile, &g->rcpts, log_warn,
	    e) == -1)
		return -1;
	return 0;
}

/* The network part of the key: SPF domain, network, address or "*". */
static void
key_origin(struct grey *g, const char *sender, char *out, size_t len)
{
	const char *dom = norm_domain(sender);

	if (g->spf_aware && grey_spf_passed(g, dom)) {
		snprintf(out, len, "spf:%s", dom);
		return;
	}
	if (g->keynet == KEYNET_NONE || !g->env.have_ip)
		strlcpy(out, "*", len);
	else if (g->keynet == KEYNET_IP)
		ip_format(&g->env.ip, out, len);
	else
		grey_net(g, &g->env.ip, out, len);
}

size_t
envelope_key(struct grey *g, size_t i, char *key, size_t len, char *net,
    size_t netlen)
{
	char snd[GREY_KEY_MAX], rcpt[GREY_KEY_MAX], origin[300];

	sender_norm(g->env.from, snd, sizeof(snd));
	rcpt_norm(g->env.rcpt.v[i], rcpt, sizeof(rcpt));
	net[0] = '\0';
	if (g->env.have_ip)
		grey_net(g, &g->env.ip, net, netlen);
	key_origin(g, snd, origin, sizeof(origin));
	return triplet_key(origin, snd, rcpt, g->hash, key, len);
}

/* One request of the served form: its envelope, then the decision. */
static void
serve_one(void *arg, const struct envelope *env, struct outcome *o)
{
	struct grey *g = arg;

	g->env = *env;
	g->now = time(NULL);
	grey_decide(g, o);
}

/* --serve: Postfix's policy protocol on stdin and stdout (policy.h). */
static int
cmd_serve(struct grey *g)
{
	if (policy_serve(0, 1, serve_one, g, log_warn) == 0)
		return 0;
	log_error("policy requests: %s", strerror(errno));
	return EXIT_DEFER;
}

int
main(int argc, char **argv)
{
	struct mgerr e;
	const char *cmd;
	int first;

	log_init(PROG);
	set_defaults(&G);
	if ((first = opt_parse(PROG, options, argc, argv, &e)) == -1) {
		if (!opt_help)
			log_error("%s", e.msg);
		usage();
	}
	argc -= first;
	argv += first;
	G.now = time(NULL);
	if (acquire(&G, &e) == -1) {
		log_error("%s", e.msg);
		printf("%s451 4.3.0 temporary failure (configuration or input "
		    "error)\n", G.spp ? "E" : "");
		return G.spp ? 0 : EXIT_DEFER;
	}
	if (G.serve && argc == 0)
		return cmd_serve(&G);
	cmd = argc == 0 ? "check" : argv[0];
	if (strcmp(cmd, "check") == 0)
		return cmd_check(&G);
	if (strcmp(cmd, "list") == 0)
		return cmd_list(&G, argc, argv);
	if (strcmp(cmd, "pass") == 0)
		return cmd_pass(&G, argc, argv);
	if (strcmp(cmd, "delete") == 0)
		return cmd_delete(&G, argc, argv);
	if (strcmp(cmd, "expire") == 0)
		return cmd_expire(&G, argc, argv);
	if (strcmp(cmd, "stats") == 0)
		return cmd_stats(&G, argc, argv);
	log_error("unknown command %s", cmd);
	usage();
}
