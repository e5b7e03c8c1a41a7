/*
 * The dynamic screen of mg-screen: the check at connect time, and the
 * subcommands that record events and manage blocks (see dyn.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "num.h"
#include "screen.h"

int
dyn_on(const struct screen *s)
{
	return s->dyn_action != ACT_OFF || s->dyn_record.n > 0;
}

int
dyn_setup(struct screen *s, struct mgerr *e)
{
	return dyn_opts_load(&s->dyn_opts, &s->dyn, &s->rules, e);
}

static struct state *
open_store(struct screen *s, struct mgerr *e)
{
	char path[4096];

	if (state_path(s->statedir, "dynamic", path, sizeof(path), e) == -1)
		return NULL;
	return state_open(path, STATE_RDWR, (unsigned)s->lock_timeout, e);
}

static void
log_block(const char *what, const struct dyn_block *b, const char *ip,
    const char *event, int64_t now)
{
	struct logline l;

	log_begin(&l);
	log_kv(&l, "dynamic", what);
	if (ip != NULL)
		log_kv(&l, "ip", ip);
	log_kv(&l, "net", b->net);
	if (event != NULL)
		log_kv(&l, "event", event);
	log_kvi(&l, "left", (long long)(b->until - now));
	log_kvi(&l, "offences", b->offences);
	log_kv(&l, "reason", b->reason);
	log_end(&l);
}

/*
 * At connect time: record this session's events (--dyn-record), then
 * refuse a blocked client with the reason and the time left.
 */
int
check_dynamic(struct screen *s, struct outcome *o, struct mgerr *e)
{
	struct state *st;
	struct dyn_block b;
	size_t i;
	int rc = 0;

	if (!dyn_on(s))
		return 0;
	if ((st = open_store(s, e)) == NULL)
		return -1;
	for (i = 0; i < s->dyn_record.n && rc != -1; i++) {
		rc = dyn_record(st, &s->dyn, &s->env.ip, s->dyn_record.v[i],
		    s->now, &b, e);
		if (rc == 2)
			log_block("blocked", &b, s->env.ip_text,
			    s->dyn_record.v[i], s->now);
	}
	if (rc != -1 && s->dyn_action != ACT_OFF)
		rc = dyn_check(st, &s->dyn, &s->env.ip, s->now, &b, e);
	state_close(st);
	if (rc == -1)
		return -1;
	if (rc >= 1 && s->dyn_action != ACT_OFF) {
		char left[32], why[300];

		num_format_duration(b.until - s->now, left, sizeof(left));
		snprintf(why, sizeof(why), "%s is blocked for %s more (%s)",
		    b.net, left, b.reason);
		fail_check(s, o, s->dyn_action, "dynamic", why);
	} else
		log_explain(s->explain, "dynamic screen: not blocked");
	return 0;
}

static int
need_ip(struct screen *s, struct mgerr *e)
{
	if (env_load(&s->env, e) == -1)
		return -1;
	if (!s->env.have_ip) {
		mgerr_set(e, "no client address: give --ip or set TCPREMOTEIP");
		return -1;
	}
	return 0;
}

/* mg-screen record EVENT: count one event for the client. */
int
cmd_record(struct screen *s, int argc, char **argv)
{
	struct state *st = NULL;
	struct dyn_block b;
	struct mgerr e;
	int rc = -1;

	if (argc != 2) {
		log_error("usage: mg-screen record event --ip addr");
		return EXIT_DEFER;
	}
	if (need_ip(s, &e) == 0 && dyn_setup(s, &e) == 0 &&
	    (st = open_store(s, &e)) != NULL)
		rc = dyn_record(st, &s->dyn, &s->env.ip, argv[1], s->now, &b,
		    &e);
	if (st != NULL)
		state_close(st);
	if (rc == -1) {
		log_error("record %s: %s", argv[1], e.msg);
		return EXIT_DEFER;
	}
	if (rc == 2)
		log_block("blocked", &b, s->env.ip_text, argv[1], s->now);
	else {
		struct logline l;

		log_begin(&l);
		log_kv(&l, "dynamic", rc == 1 ? "recorded-blocked" : "recorded");
		log_kv(&l, "ip", s->env.ip_text);
		log_kv(&l, "event", argv[1]);
		log_end(&l);
	}
	return 0;
}

static int
print_entry(void *arg, const struct dyn_entry *d)
{
	char until[32], last[32];
	int64_t now = *(int64_t *)arg;

	num_format_time(d->until, until, sizeof(until));
	num_format_time(d->last, last, sizeof(last));
	if (strcmp(d->kind, "block") == 0)
		printf("block %s %s %lld %u %s\n", d->net, until,
		    (long long)(d->until - now), d->count, d->reason);
	else
		printf("event %s %s %u %lu %s\n", d->net, d->event, d->count,
		    d->total, last);
	return 0;
}

static int
with_store(struct screen *s, const char *what, struct mgerr *e,
    struct state **st)
{
	if (dyn_setup(s, e) == -1 || (*st = open_store(s, e)) == NULL) {
		log_error("%s: %s", what, e->msg);
		return -1;
	}
	return 0;
}

/* mg-screen list: blocks with time left, then event counters. */
int
cmd_list(struct screen *s, int argc, char **argv)
{
	struct state *st;
	struct mgerr e;
	int rc;

	(void)argv;
	if (argc != 1) {
		log_error("usage: mg-screen list");
		return EXIT_DEFER;
	}
	if (with_store(s, "list", &e, &st) == -1)
		return EXIT_DEFER;
	rc = dyn_list(st, &s->dyn, s->now, print_entry, &s->now, &e);
	state_close(st);
	if (rc == -1 || fflush(stdout) == EOF) {
		log_error("list: %s", rc == -1 ? e.msg : "write error");
		return EXIT_DEFER;
	}
	return 0;
}

static int
parse_net(const char *text, struct cidr *net, struct mgerr *e)
{
	if (cidr_parse(text, net, e) == -1) {
		log_error("%s", e->msg);
		return -1;
	}
	return 0;
}

/* mg-screen block NET [--for TIME] [--reason TEXT] */
int
cmd_block(struct screen *s, int argc, char **argv)
{
	struct state *st;
	struct cidr net;
	struct mgerr e;
	int64_t len = s->block_for ? s->block_for : s->dyn_opts.block;
	const char *reason = s->block_reason ? s->block_reason :
	    "blocked by hand";
	char text[CIDR_STRLEN];
	int rc;

	if (argc != 2) {
		log_error("usage: mg-screen block net [--for time] "
		    "[--reason text]");
		return EXIT_DEFER;
	}
	if (parse_net(argv[1], &net, &e) == -1 ||
	    with_store(s, "block", &e, &st) == -1)
		return EXIT_DEFER;
	rc = dyn_block(st, &s->dyn, &net, s->now, s->now + len, reason, &e);
	state_close(st);
	if (rc == -1) {
		log_error("block %s: %s", argv[1], e.msg);
		return EXIT_DEFER;
	}
	cidr_format(&net, text, sizeof(text));
	printf("blocked %s for %llds\n", text, (long long)len);
	return 0;
}

/* mg-screen unblock NET */
int
cmd_unblock(struct screen *s, int argc, char **argv)
{
	struct state *st;
	struct cidr net;
	struct mgerr e;
	int rc;

	if (argc != 2) {
		log_error("usage: mg-screen unblock net");
		return EXIT_DEFER;
	}
	if (parse_net(argv[1], &net, &e) == -1 ||
	    with_store(s, "unblock", &e, &st) == -1)
		return EXIT_DEFER;
	rc = dyn_unblock(st, &net, &e);
	state_close(st);
	if (rc == -1) {
		log_error("unblock %s: %s", argv[1], e.msg);
		return EXIT_DEFER;
	}
	if (rc == 0) {
		log_error("unblock %s: no such block", argv[1]);
		return 1;
	}
	printf("unblocked %s\n", argv[1]);
	return 0;
}

/* mg-screen expire: from cron, drops dead blocks and counters. */
int
cmd_expire(struct screen *s, int argc, char **argv)
{
	struct state *st;
	struct mgerr e;
	long n;

	(void)argv;
	if (argc != 1) {
		log_error("usage: mg-screen expire");
		return EXIT_DEFER;
	}
	if (with_store(s, "expire", &e, &st) == -1)
		return EXIT_DEFER;
	n = dyn_expire(st, &s->dyn, s->now, &e);
	state_close(st);
	if (n == -1) {
		log_error("expire: %s", e.msg);
		return EXIT_DEFER;
	}
	printf("expired %ld records\n", n);
	return 0;
}
