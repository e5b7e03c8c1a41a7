/*
 * Unit tests for libcommon/dyn: rules, thresholds in a window, repeat
 * offenders, aggregation, hand blocks, listing and expiry.  Time is
 * always passed explicitly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dyn.h"
#include "t.h"

#define T0	1700000000

static char dir[64];
static int nfile;

static struct state *
fresh(void)
{
	char name[32], path[256];
	struct state *st;
	struct mgerr e;

	snprintf(name, sizeof(name), "dyn%d", nfile++);
	if (state_path(dir, name, path, sizeof(path), &e) == -1 ||
	    (st = state_open(path, STATE_RDWR, 1000, &e)) == NULL) {
		fprintf(stderr, "%s\n", e.msg);
		exit(2);
	}
	return st;
}

static struct ipaddr
ip(const char *s)
{
	struct ipaddr a;
	struct mgerr e;

	if (ip_parse(s, &a, &e) == -1) {
		fprintf(stderr, "%s\n", e.msg);
		exit(2);
	}
	return a;
}

static struct cidr
net(const char *s)
{
	struct cidr c;
	struct mgerr e;

	if (cidr_parse(s, &c, &e) == -1) {
		fprintf(stderr, "%s\n", e.msg);
		exit(2);
	}
	return c;
}

static int
rec(struct state *st, const struct dyn_conf *c, const char *addr,
    const char *ev, int64_t now, struct dyn_block *b)
{
	struct ipaddr a = ip(addr);
	struct mgerr e;
	int r;

	if ((r = dyn_record(st, c, &a, ev, now, b, &e)) == -1)
		fprintf(stderr, "dyn_record: %s\n", e.msg);
	return r;
}

static int
chk(struct state *st, const struct dyn_conf *c, const char *addr,
    int64_t now, struct dyn_block *b)
{
	struct ipaddr a = ip(addr);
	struct mgerr e;

	return dyn_check(st, c, &a, now, b, &e);
}

static void
test_parse(void)
{
	static const char *bad[] = {
		"auth-fail:65/10m", "Auth:5/1m", ":5/1m", "a:5", "a5/1m",
		"a:0/1m", "a:5/0", "a:5/10x", "a:/1m", "a:5/", "a b:5/1m",
		"abcdefghijabcdefghijabcdefghijab:5/1m", "a:-1/1m",
		"a:5/400d",
	};
	struct dyn_rule r;
	struct mgerr e;
	size_t i;

	T_INT(dyn_rule_parse("auth-fail:5/10m", &r, &e), 0);
	T_STR(r.event, "auth-fail");
	T_INT(r.count, 5);
	T_INT(r.window, 600);
	T_INT(dyn_rule_parse("conn:64/30", &r, &e), 0);
	T_INT(r.count, 64);
	T_INT(r.window, 30);
	T_INT(dyn_rule_parse("rcpt-unknown-2:3/2h", &r, &e), 0);
	T_INT(r.window, 7200);
	T_INT(dyn_rule_parse("x:1/1d", &r, &e), 0);
	T_INT(r.window, 86400);
	T_INT(dyn_rule_parse("abcdefghijabcdefghijabcdefghija:1/1s", &r, &e),
	    0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e.msg[0] = '\0';
		if (dyn_rule_parse(bad[i], &r, &e) != -1)
			fprintf(stderr, "accepted %s\n", bad[i]);
		T_INT(dyn_rule_parse(bad[i], &r, &e), -1);
		T_OK(strncmp(e.msg, bad[i], strlen(bad[i])) == 0);
	}
}

static void
test_window(void)
{
	struct dyn_rule rule = { "auth-fail", 3, 60 };
	struct dyn_conf c;
	struct dyn_block b;
	struct state *st = fresh();

	dyn_conf_defaults(&c);
	c.rules = &rule;
	c.nrules = 1;
	T_INT(rec(st, &c, "192.0.2.1", "auth-fail", T0, &b), 0);
	T_INT(rec(st, &c, "192.0.2.1", "auth-fail", T0 + 30, &b), 0);
	/* The first event is 61 s old: two in the window, no block. */
	T_INT(rec(st, &c, "192.0.2.1", "auth-fail", T0 + 61, &b), 0);
	/* Other addresses and events have their own counters. */
	T_INT(rec(st, &c, "192.0.2.2", "auth-fail", T0 + 62, &b), 0);
	T_INT(rec(st, &c, "192.0.2.1", "conn", T0 + 62, &b), 0);
	T_INT(chk(st, &c, "192.0.2.1", T0 + 62, &b), 0);
	T_INT(rec(st, &c, "192.0.2.1", "auth-fail", T0 + 62, &b), 2);
	T_INT(b.until, T0 + 62 + 3600);
	T_INT(b.offences, 1);
	T_STR(b.net, "192.0.2.1/32");
	T_STR(b.reason, "auth-fail: 3 in 1m");
	T_INT(chk(st, &c, "192.0.2.1", T0 + 100, &b), 1);
	T_INT(b.until, T0 + 62 + 3600);
	T_INT(chk(st, &c, "192.0.2.2", T0 + 100, &b), 0);
	T_INT(rec(st, &c, "192.0.2.1", "auth-fail", T0 + 100, &b), 1);
	T_INT(b.until, T0 + 62 + 3600);
	T_INT(chk(st, &c, "192.0.2.1", T0 + 62 + 3600, &b), 0);
	/* The block started a fresh count. */
	T_INT(rec(st, &c, "192.0.2.1", "auth-fail", T0 + 3700, &b), 0);
	state_close(st);
}

static void
test_repeat(void)
{
	struct dyn_rule rule = { "x", 1, 10 };
	struct dyn_conf c;
	struct dyn_block b;
	struct state *st = fresh();

	dyn_conf_defaults(&c);
	c.rules = &rule;
	c.nrules = 1;
	c.block = 100;
	c.max_block = 350;
	c.memory = 1000;
	T_INT(rec(st, &c, "2001:db8::1", "x", T0, &b), 2);
	T_INT(b.until, T0 + 100);
	T_INT(b.offences, 1);
	T_STR(b.net, "2001:db8::/64");
	T_INT(rec(st, &c, "2001:db8::2", "x", T0 + 200, &b), 2);
	T_INT(b.until, T0 + 200 + 200);
	T_INT(b.offences, 2);
	T_INT(rec(st, &c, "2001:db8::3", "x", T0 + 500, &b), 2);
	T_INT(b.until, T0 + 500 + 350);
	T_INT(b.offences, 3);
	T_INT(rec(st, &c, "2001:db8::3", "x", T0 + 900, &b), 2);
	T_INT(b.until, T0 + 900 + 350);
	T_INT(b.offences, 4);
	/* Offences older than memory are forgotten. */
	T_INT(rec(st, &c, "2001:db8::3", "x", T0 + 2000, &b), 2);
	T_INT(b.until, T0 + 2000 + 100);
	T_INT(b.offences, 1);
	/* Another /64 is a stranger. */
	T_INT(chk(st, &c, "2001:db8:0:1::1", T0 + 2001, &b), 0);
	state_close(st);
}

static void
test_aggregate(void)
{
	struct dyn_rule rule = { "rcpt-unknown", 2, 60 };
	struct dyn_conf c;
	struct dyn_block b;
	struct state *st = fresh();

	dyn_conf_defaults(&c);
	c.rules = &rule;
	c.nrules = 1;
	c.v4_prefix = 24;
	T_INT(rec(st, &c, "192.0.2.1", "rcpt-unknown", T0, &b), 0);
	T_INT(rec(st, &c, "192.0.2.9", "rcpt-unknown", T0 + 1, &b), 2);
	T_STR(b.net, "192.0.2.0/24");
	T_INT(chk(st, &c, "192.0.2.200", T0 + 2, &b), 1);
	T_INT(chk(st, &c, "192.0.3.1", T0 + 2, &b), 0);
	/* A v4-mapped IPv6 address is the same client. */
	T_INT(chk(st, &c, "::ffff:192.0.2.7", T0 + 2, &b), 1);
	state_close(st);
}

struct seen {
	int		blocks, events;
	unsigned long	total;
	char		text[512];
};

static int
list_fn(void *arg, const struct dyn_entry *d)
{
	struct seen *s = arg;
	char line[160];

	if (strcmp(d->kind, "block") == 0)
		s->blocks++;
	else
		s->events++;
	s->total += d->total;
	snprintf(line, sizeof(line), "%s %s %s %u %lu %lld %lld %s;",
	    d->kind, d->net, d->event, d->count, d->total,
	    (long long)(d->until - T0), (long long)(d->last - T0),
	    d->reason);
	strlcat(s->text, line, sizeof(s->text));
	return 0;
}

static void
test_hand_block(void)
{
	struct dyn_rule rule = { "auth-fail", 5, 600 };
	struct dyn_conf c;
	struct dyn_block b;
	struct cidr n = net("198.51.0.0/16"), n24 = net("198.51.100.0/24");
	struct seen s;
	struct mgerr e;
	struct state *st = fresh();

	dyn_conf_defaults(&c);
	c.rules = &rule;
	c.nrules = 1;
	T_INT(dyn_block(st, &c, &n, T0, T0 + 1000, "spam\nrun", &e), 0);
	T_INT(dyn_block(st, &c, &n, T0, T0, "x", &e), -1);
	T_INT(chk(st, &c, "198.51.100.7", T0 + 10, &b), 1);
	T_STR(b.net, "198.51.0.0/16");
	T_STR(b.reason, "spam?run");
	T_INT(b.until, T0 + 1000);
	T_INT(b.offences, 1);
	T_INT(chk(st, &c, "198.52.0.1", T0 + 10, &b), 0);
	/* Events are still counted while blocked. */
	T_INT(rec(st, &c, "198.51.100.7", "auth-fail", T0 + 20, &b), 1);
	T_STR(b.net, "198.51.0.0/16");
	/* The block that ends last wins. */
	T_INT(dyn_block(st, &c, &n24, T0 + 30, T0 + 5000, "later", &e), 0);
	T_INT(chk(st, &c, "198.51.100.7", T0 + 40, &b), 1);
	T_STR(b.net, "198.51.100.0/24");
	T_INT(chk(st, &c, "198.51.1.1", T0 + 40, &b), 1);
	T_STR(b.net, "198.51.0.0/16");

	memset(&s, 0, sizeof(s));
	T_INT(dyn_list(st, &c, T0 + 50, list_fn, &s, &e), 0);
	T_INT(s.blocks, 2);
	T_INT(s.events, 1);
	T_INT(s.total, 1);
	T_OK(strstr(s.text, "block 198.51.0.0/16  1 0 1000 0 spam?run;") !=
	    NULL);
	T_OK(strstr(s.text, "events 198.51.100.7/32 auth-fail 1 1 620 20 ;") !=
	    NULL);

	T_INT(dyn_unblock(st, &n, &e), 1);
	T_INT(dyn_unblock(st, &n, &e), 0);
	T_INT(chk(st, &c, "198.51.1.1", T0 + 40, &b), 0);
	T_INT(chk(st, &c, "198.51.100.7", T0 + 40, &b), 1);
	T_INT(dyn_unblock(st, &n24, &e), 1);
	T_INT(chk(st, &c, "198.51.100.7", T0 + 40, &b), 0);
	/* A hand block counted as an offence: the next one is longer. */
	T_INT(dyn_block(st, &c, &n, T0 + 60, T0 + 70, "again", &e), 0);
	T_INT(chk(st, &c, "198.51.1.1", T0 + 61, &b), 1);
	T_INT(b.offences, 2);
	state_close(st);
}

static void
test_list_expire(void)
{
	struct dyn_rule rules[2] = { { "auth-fail", 2, 600 },
	    { "auth-fail", 10, 3600 } };
	struct dyn_conf c;
	struct dyn_block b;
	struct seen s;
	struct mgerr e;
	struct state *st = fresh();
	int i;

	dyn_conf_defaults(&c);
	c.rules = rules;
	c.nrules = 2;
	c.memory = 86400 * 2;
	/* "conn" has no rule: counted and listed, kept one day. */
	for (i = 0; i < 70; i++)
		T_INT(rec(st, &c, "203.0.113.5", "conn", T0 + i, &b), 0);
	T_INT(rec(st, &c, "203.0.113.6", "auth-fail", T0, &b), 0);
	T_INT(rec(st, &c, "203.0.113.6", "auth-fail", T0 + 1, &b), 2);
	T_INT(rec(st, &c, "203.0.113.7", "auth-fail", T0 + 2, &b), 0);

	memset(&s, 0, sizeof(s));
	T_INT(dyn_list(st, &c, T0 + 100, list_fn, &s, &e), 0);
	T_INT(s.blocks, 1);
	T_INT(s.events, 3);
	T_INT(s.total, 70 + 2 + 1);
	/* The ring holds 64 times, the total all 70. */
	T_OK(strstr(s.text, "events 203.0.113.5/32 conn 64 70 86469 69 ;") !=
	    NULL);
	T_OK(strstr(s.text, "block 203.0.113.6/32  1 0 3601 1 "
	    "auth-fail: 2 in 10m;") != NULL);

	/* Nothing is due yet. */
	T_INT(dyn_expire(st, &c, T0 + 100, &e), 0);
	/* At T0+3603 the block and the auth-fail counters are gone. */
	T_INT(dyn_expire(st, &c, T0 + 3603, &e), 3);
	memset(&s, 0, sizeof(s));
	T_INT(dyn_list(st, &c, T0 + 3603, list_fn, &s, &e), 0);
	T_INT(s.blocks, 0);
	T_INT(s.events, 1);
	/* A shorter window now: expire follows the current rules. */
	c.nrules = 1;
	T_INT(rec(st, &c, "203.0.113.8", "auth-fail", T0 + 4000, &b), 0);
	c.rules = NULL;
	c.nrules = 0;
	T_INT(dyn_expire(st, &c, T0 + 4000 + 86400, &e), 2);
	memset(&s, 0, sizeof(s));
	T_INT(dyn_list(st, &c, T0 + 4000 + 86400, list_fn, &s, &e), 0);
	T_INT(s.blocks + s.events, 0);
	/* The offence record outlives the block until memory ends. */
	T_INT(dyn_expire(st, &c, T0 + 86400 * 2 + 1, &e), 1);
	T_INT(dyn_expire(st, &c, T0 + 86400 * 3, &e), 0);
	state_close(st);
}

static void
test_errors(void)
{
	struct dyn_conf c;
	struct dyn_block b;
	struct mgerr e;
	struct ipaddr a = ip("192.0.2.1");
	struct state *st = fresh();

	dyn_conf_defaults(&c);
	T_INT(dyn_record(st, &c, &a, "Bad Event", T0, &b, &e), -1);
	T_INT(dyn_record(st, &c, &a, "", T0, &b, &e), -1);
	state_close(st);
}

/* dyn_recent counts one event of one network after a time. */
static void
test_recent(void)
{
	struct dyn_conf c;
	struct dyn_block b;
	struct ipaddr a = ip("192.0.2.9");
	struct state *st = fresh();
	struct mgerr e;
	unsigned n = 99;

	dyn_conf_defaults(&c);
	c.v4_prefix = 24;
	T_INT(dyn_recent(st, &c, &a, "auth-fail", T0, T0 - 3600, &n, &e), 0);
	T_INT(n, 0);
	T_INT(rec(st, &c, "192.0.2.1", "auth-fail", T0, &b), 0);
	T_INT(rec(st, &c, "192.0.2.2", "auth-fail", T0 + 100, &b), 0);
	T_INT(rec(st, &c, "192.0.2.2", "unknown-rcpt", T0 + 100, &b), 0);
	T_INT(dyn_recent(st, &c, &a, "auth-fail", T0 + 200, T0 - 1, &n, &e), 0);
	T_INT(n, 2);
	T_INT(dyn_recent(st, &c, &a, "auth-fail", T0 + 200, T0, &n, &e), 0);
	T_INT(n, 1);
	a = ip("198.51.100.1");
	T_INT(dyn_recent(st, &c, &a, "auth-fail", T0 + 200, T0 - 1, &n, &e), 0);
	T_INT(n, 0);
	T_INT(dyn_recent(st, &c, &a, "Bad Event", T0, T0, &n, &e), -1);
	state_close(st);
}

static void
cleanup(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

static void
test_rules_load(void)
{
	const char *good[] = { "auth-fail:5/10m", "connect:60/1m" };
	const char *bad[] = { "auth-fail:5/10m", "connect:99/1m" };
	struct dyn_conf c;
	struct dyn_rule *rules;
	struct mgerr e;

	dyn_conf_defaults(&c);
	T_INT(dyn_rules_load(&c, good, 2, &rules, &e), 0);
	T_INT(c.nrules, 2);
	T_INT(c.rules[1].count, 60);
	T_INT(c.rules[1].window, 60);
	free(rules);
	T_INT(dyn_rules_load(&c, bad, 2, &rules, &e), -1);
	T_OK(strncmp(e.msg, "option --dyn-rule: connect:99/1m", 32) == 0);
	free(rules);
	T_INT(dyn_rules_load(&c, NULL, 0, &rules, &e), 0);
	T_INT(c.nrules, 0);
}

/*
 * With no rule of its own a conf blocks on the default rule, five
 * auth-fail events in ten minutes, longer for a repeat offender; its own
 * rules replace it, and "none" leaves no rule at all.
 */
static void
test_default_rule(void)
{
	const char *other[] = { "unknown-rcpt:3/1h" };
	const char *none[] = { "auth-fail:2/1m", "none", "connect:3/1m" };
	const char *bad[] = { "none", "connect:0/1m" };
	struct dyn_conf c;
	struct dyn_rule *rules;
	struct dyn_block b;
	struct mgerr e;
	struct state *st = fresh();
	int i;

	dyn_conf_defaults(&c);
	for (i = 0; i < 4; i++)
		T_INT(rec(st, &c, "192.0.2.1", "auth-fail", T0 + i * 120, &b),
		    0);
	T_INT(rec(st, &c, "192.0.2.1", "auth-fail", T0 + 599, &b), 2);
	T_INT(b.until, T0 + 599 + 3600);
	T_STR(b.reason, "auth-fail: 5 in 10m");
	/* Spread wider than ten minutes, five do not block. */
	for (i = 0; i < 5; i++)
		T_INT(rec(st, &c, "192.0.2.2", "auth-fail", T0 + i * 151, &b),
		    0);
	/* Other events have no default rule. */
	for (i = 0; i < 10; i++)
		T_INT(rec(st, &c, "192.0.2.3", "unknown-rcpt", T0, &b), 0);
	/* The second offence within the memory: twice as long. */
	for (i = 0; i < 5; i++)
		rec(st, &c, "192.0.2.1", "auth-fail", T0 + 7200 + i, &b);
	T_INT(chk(st, &c, "192.0.2.1", T0 + 7205, &b), 1);
	T_INT(b.until, T0 + 7204 + 7200);
	T_INT(b.offences, 2);

	T_INT(dyn_rules_load(&c, other, 1, &rules, &e), 0);
	for (i = 0; i < 5; i++)
		T_INT(rec(st, &c, "192.0.2.4", "auth-fail", T0, &b), 0);
	free(rules);
	T_INT(dyn_rules_load(&c, none, 3, &rules, &e), 0);
	T_INT(c.nrules, 1);
	T_STR(c.rules[0].event, "connect");
	for (i = 0; i < 6; i++)
		T_INT(rec(st, &c, "192.0.2.5", "auth-fail", T0, &b), 0);
	free(rules);
	T_INT(dyn_rules_load(&c, none + 1, 1, &rules, &e), 0);
	T_INT(c.nrules, 0);
	for (i = 0; i < 6; i++)
		T_INT(rec(st, &c, "192.0.2.6", "auth-fail", T0, &b), 0);
	free(rules);
	T_INT(dyn_rules_load(&c, bad, 2, &rules, &e), -1);
	T_OK(strncmp(e.msg, "option --dyn-rule: connect:0/1m", 31) == 0);
	free(rules);
	state_close(st);
}

/* The shared --dyn-* options: their defaults and the dyn_conf they make. */
static void
test_opts(void)
{
	const char *text[] = { "rset:3/1h" };
	struct dyn_opts o;
	struct dyn_conf c, d;
	struct dyn_rule *rules;
	struct opt tab[] = { DYN_OPTIONS(o), OPT_END };
	struct mgerr e;
	size_t i, n;

	for (n = 0; tab[n].name != NULL; n++)
		T_OK(strncmp(tab[n].name, "dyn-", 4) == 0);
	T_INT(n, 7);
	dyn_opts_defaults(&o);
	T_OK(dyn_opts_load(&o, &c, &rules, &e) == 0);
	free(rules);
	dyn_conf_defaults(&d);
	T_INT(c.block, d.block);
	T_INT(c.max_block, d.max_block);
	T_INT(c.memory, d.memory);
	T_INT(c.factor, d.factor);
	T_INT(c.v4_prefix, d.v4_prefix);
	T_INT(c.v6_prefix, d.v6_prefix);
	T_INT(c.nrules, 0);
	o.block = 60;
	o.factor = 3;
	o.v4 = 24;
	o.rules.v = text;
	o.rules.n = 1;
	T_OK(dyn_opts_load(&o, &c, &rules, &e) == 0);
	T_INT(c.block, 60);
	T_INT(c.factor, 3);
	T_INT(c.v4_prefix, 24);
	T_INT(c.nrules, 1);
	T_STR(c.rules[0].event, "rset");
	T_INT(c.rules[0].window, 3600);
	free(rules);
	for (i = 0; i < n; i++)
		if (strcmp(tab[i].name, "dyn-rule") == 0)
			T_OK(tab[i].dst == &o.rules);
}

int
main(void)
{
	test_opts();
	test_rules_load();
	strlcpy(dir, "/tmp/mg-dyn-XXXXXX", sizeof(dir));
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	test_parse();
	test_window();
	test_repeat();
	test_aggregate();
	test_hand_block();
	test_list_expire();
	test_errors();
	test_recent();
	test_default_rule();
	cleanup();
	return t_done("dyn");
}
