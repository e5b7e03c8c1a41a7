/*
 * mg-tarpit: growing delays once an SMTP session passes N recipients, as
 * a step in a chain: sleep for this recipient's delay and exit 0, or
 * print the delay (--print) for an adapter that waits without blocking.
 * See mg-tarpit(1).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dyn.h"
#include "env.h"
#include "list.h"
#include "log.h"
#include "num.h"
#include "opt.h"
#include "outcome.h"
#include "state.h"

#define PROG "mg-tarpit"
/* Longest delay any setting may ask for, in milliseconds (an hour). */
#define DELAY_MAX_MS	3600000LL

struct tarpit {
	struct envelope	 env;
	long long	 after;		/* recipients before delays start */
	const char	*delay_s, *factor_s, *max_s, *helo_s, *dyn_s;
	long long	 delay, max, helo, dyn_delay;	/* ms */
	long long	 factor;	/* thousandths */
	int		 print, spp, explain, exempt_auth, exempt_relay;
	const char	*whitelist, *statedir;
	struct opt_list	 dyn_events;
	int64_t		 dyn_window;
	long long	 dyn_v4, dyn_v6, lock_timeout;
};

static struct tarpit P;

static const struct opt options[] = {
	ENV_OPTS(&P.env),
	{ "after", 0, OPT_NUM, &P.after, 0, 1000000, "n" },
	{ "config", 'c', OPT_CONFIG, NULL, 0, 0, "file" },
	{ "delay", 0, OPT_STR, &P.delay_s, 0, 0, "seconds" },
	{ "dyn-delay", 0, OPT_STR, &P.dyn_s, 0, 0, "seconds" },
	{ "dyn-event", 0, OPT_LIST, &P.dyn_events, 0, 0, "event" },
	{ "dyn-v4-prefix", 0, OPT_NUM, &P.dyn_v4, 8, 32, "bits" },
	{ "dyn-v6-prefix", 0, OPT_NUM, &P.dyn_v6, 16, 128, "bits" },
	{ "dyn-window", 0, OPT_DURATION, &P.dyn_window, 1, 366 * 86400, "time" },
	{ "exempt-auth", 0, OPT_BOOL, &P.exempt_auth, 0, 0, "yes|no" },
	{ "exempt-relayclient", 0, OPT_BOOL, &P.exempt_relay, 0, 0, "yes|no" },
	{ "explain", 'x', OPT_FLAG, &P.explain, 0, 0, NULL },
	{ "factor", 0, OPT_STR, &P.factor_s, 0, 0, "x" },
	{ "helo-delay", 0, OPT_STR, &P.helo_s, 0, 0, "seconds" },
	{ "lock-timeout", 0, OPT_NUM, &P.lock_timeout, 0, 60000, "ms" },
	{ "max-delay", 0, OPT_STR, &P.max_s, 0, 0, "seconds" },
	{ "print", 'p', OPT_FLAG, &P.print, 0, 0, NULL },
	{ "spp", 0, OPT_FLAG, &P.spp, 0, 0, NULL },
	{ "statedir", 'd', OPT_STR, &P.statedir, 0, 0, "dir" },
	{ "whitelist", 'w', OPT_STR, &P.whitelist, 0, 0, "file" },
	OPT_END
};

static void
usage(void)
{
	if (opt_usage(
	    "usage: %s [-px] [-c file] [--after n] [--delay seconds] "
	    "[--factor x]\n"
	    "       %*s [--max-delay seconds] [option ...] [rcpt | helo]\n",
	    PROG, (int)strlen(PROG), ""))
		exit(0);
	printf("%s451 4.3.0 temporary failure (usage error)\n",
	    P.spp ? "E" : "");
	exit(P.spp ? 0 : EXIT_DEFER);
}

/* num_milli for the option name, its error prefixed with the option. */
static int
parse_milli(const char *name, const char *s, long long max, long long *out,
    struct mgerr *e)
{
	struct mgerr sub;

	if (num_milli(s, max, out, &sub) == -1) {
		mgerr_set(e, "option --%s: %s", name, sub.msg);
		return -1;
	}
	return 0;
}

static int
settings(struct tarpit *t, struct mgerr *e)
{
	if (parse_milli("delay", t->delay_s, DELAY_MAX_MS, &t->delay, e) ==
	    -1 || parse_milli("factor", t->factor_s, 100000, &t->factor, e) ==
	    -1 || parse_milli("max-delay", t->max_s, DELAY_MAX_MS, &t->max,
	    e) == -1 || parse_milli("helo-delay", t->helo_s, DELAY_MAX_MS,
	    &t->helo, e) == -1 || parse_milli("dyn-delay", t->dyn_s,
	    DELAY_MAX_MS, &t->dyn_delay, e) == -1)
		return -1;
	if (t->factor < 1000) {
		mgerr_set(e, "option --factor: %s: must be at least 1",
		    t->factor_s);
		return -1;
	}
	return env_load(&t->env, e);
}

/* The delay of recipient number k (1-based), in ms, before the cap. */
static long long
rcpt_delay(const struct tarpit *t, long long k)
{
	long long d = t->delay, i;

	if (t->after == 0 || k <= t->after)
		return 0;
	for (i = t->after + 1; i < k && d < t->max; i++)
		d = d * t->factor / 1000;
	return d;
}

/* 1 if the client has recent dynamic-screen events, 0 if not, -1. */
static int
dyn_dirty(struct tarpit *t, struct mgerr *e)
{
	char path[4096];
	struct dyn_conf c;
	struct state *st;
	unsigned n = 0;
	size_t i;
	int r = 0;

	if (t->dyn_events.n == 0 || !t->env.have_ip)
		return 0;
	if (state_path(t->statedir, "dynamic", path, sizeof(path), e) == -1 ||
	    (st = state_open(path, STATE_RDONLY, (unsigned)t->lock_timeout,
	    e)) == NULL)
		return -1;
	dyn_conf_defaults(&c);
	c.v4_prefix = (unsigned)t->dyn_v4;
	c.v6_prefix = (unsigned)t->dyn_v6;
	for (i = 0; i < t->dyn_events.n && r == 0; i++) {
		if (dyn_recent(st, &c, &t->env.ip, t->dyn_events.v[i],
		    time(NULL), time(NULL) - t->dyn_window, &n, e) == -1)
			r = -1;
		else if (n > 0) {
			r = 1;
			log_explain(t->explain, "%u recent %s events", n,
			    t->dyn_events.v[i]);
		}
	}
	state_close(st);
	return r;
}

/* Why the client is exempt, or NULL. */
static const char *
exempt(struct tarpit *t, struct mgerr *e)
{
	struct list *l;
	const char *why = NULL;

	if (t->exempt_auth && t->env.auth_user != NULL)
		return "authenticated";
	if (t->exempt_relay && t->env.relayclient)
		return "relayclient";
	if (t->whitelist == NULL)
		return NULL;
	if (list_load(t->whitelist, 1, &l, log_warn, e) == -1)
		return "";
	if ((t->env.have_ip && list_match_ip(l, &t->env.ip, NULL)) ||
	    (t->env.host != NULL && list_match_host(l, t->env.host, NULL)))
		why = "whitelisted";
	list_close(l);
	return why;
}

/* The delay for this step in ms, or -1 and e set. */
static long long
decide(struct tarpit *t, int helo, const char **why, struct mgerr *e)
{
	long long d, k;
	int dirty;

	if ((*why = exempt(t, e)) != NULL)
		return (*why)[0] == '\0' ? -1 : 0;
	if ((dirty = dyn_dirty(t, e)) == -1)
		return -1;
	k = (t->env.rcpt_count < 0 ? 0 : t->env.rcpt_count) + 1;
	d = helo ? t->helo : rcpt_delay(t, k);
	if (d > t->max)
		d = t->max;
	if (dirty && t->dyn_delay > d) {
		d = t->dyn_delay;
		*why = "recent dynamic-screen events";
	}
	return d;
}

static void
nap(long long ms)
{
	struct timespec ts, rem;

	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	while (nanosleep(&ts, &rem) == -1 && errno == EINTR)
		ts = rem;
}

static void
fmt_ms(long long ms, char *buf, size_t len)
{
	size_t n;

	snprintf(buf, len, "%lld.%03lld", ms / 1000, ms % 1000);
	n = strlen(buf);
	while (buf[n - 1] == '0')
		buf[--n] = '\0';
	if (buf[n - 1] == '.')
		buf[n - 1] = '\0';
}

static void
set_defaults(struct tarpit *t)
{
	env_init(&t->env);
	t->delay_s = "10";
	t->factor_s = "1.5";
	t->max_s = "60";
	t->helo_s = "0";
	t->dyn_s = "0";
	t->dyn_window = 3600;
	t->dyn_v4 = 32;
	t->dyn_v6 = 64;
	t->lock_timeout = 2000;
	t->exempt_auth = t->exempt_relay = 1;
	t->statedir = state_default_dir();
}

int
main(int argc, char **argv)
{
	struct outcome o;
	struct logline l;
	struct mgerr e;
	const char *why = NULL;
	char secs[32];
	long long ms;
	int first, helo = 0, rc;

	log_init(PROG);
	set_defaults(&P);
	if ((first = opt_parse(PROG, options, argc, argv, &e)) == -1) {
		if (!opt_help)
			log_error("%s", e.msg);
		usage();
	}
	if (argc - first > 1)
		usage();
	if (argc - first == 1 && strcmp(argv[first], "helo") == 0)
		helo = 1;
	else if (argc - first == 1 && strcmp(argv[first], "rcpt") != 0)
		usage();
	outcome_init(&o);
	if (settings(&P, &e) == -1 || (ms = decide(&P, helo, &why, &e)) < 0) {
		log_error("%s", e.msg);
		outcome_tempfail(&o, "tarpit error");
		return outcome_emit(&o, P.spp, 0);
	}
	fmt_ms(ms, secs, sizeof(secs));
	log_begin(&l);
	log_kv(&l, "decision", "accept");
	log_kv(&l, "ip", P.env.ip_text != NULL ? P.env.ip_text : "");
	log_kv(&l, "stage", helo ? "helo" : "rcpt");
	if (!helo)
		log_kvi(&l, "rcpt", P.env.rcpt_count < 0 ? 1 :
		    P.env.rcpt_count + 1);
	log_kv(&l, "delay", secs);
	if (why != NULL)
		log_kv(&l, "why", why);
	log_end(&l);
	if (P.print)
		printf("%s\n", secs);
	else if (ms > 0)
		nap(ms);
	rc = outcome_emit(&o, P.spp, 0);
	outcome_free(&o);
	return rc;
}
