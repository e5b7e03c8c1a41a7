/*
 * mg-greylist's maintenance commands: list, pass, delete, expire and
 * stats.  Their output is for people and scripts; each prints
 * "mg-greylist: verb: reason" and exits 111 on failure.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "greylist.h"
#include "log.h"
#include "num.h"

/* Longest line of `pass -' input. */
#define IMPORT_LINE_MAX	2048

static int
fail(const char *what, const struct mgerr *e)
{
	log_error("%s: %s", what, e->msg);
	return EXIT_DEFER;
}

struct stats {
	unsigned long	pending, passed, counting, listed, other;
	uint32_t	awl;		/* --auto-whitelist */
	int		print;
};

static int
list_fn(void *arg, const void *key, size_t klen, const struct state_rec *rec)
{
	struct stats *s = arg;
	const char *k = key;
	char f[32], p[32], x[32];
	struct trec t;
	struct nrec n;

	num_format_time(rec->expires, x, sizeof(x));
	if (klen > 2 && (k[0] == 't' || k[0] == 'h') && k[1] == ' ' &&
	    trec_decode(rec, &t) == 0) {
		num_format_time(t.first, f, sizeof(f));
		num_format_time(t.passed, p, sizeof(p));
		*(t.passed ? &s->passed : &s->pending) += 1;
		if (s->print)
			printf("%s %s %s %s %u %.*s\n", t.passed ? "passed" :
			    "pending", f, p, x, t.count, (int)klen - 2, k + 2);
	} else if (klen > 2 && k[0] == 'n' && k[1] == ' ' &&
	    nrec_decode(rec, &n) == 0) {
		num_format_time(n.listed, p, sizeof(p));
		*(s->awl > 0 && n.passes >= s->awl ? &s->listed :
		    &s->counting) += 1;
		if (s->print)
			printf("network - %s %s %u %.*s\n", p, x, n.passes,
			    (int)klen - 2, k + 2);
	} else
		s->other++;
	return STATE_ITER_NEXT;
}

static int
walk(struct grey *g, struct stats *s)
{
	struct state *st;
	struct mgerr e;
	int r;

	if ((st = grey_open(g, STATE_RDONLY, &e)) == NULL)
		return fail("open store", &e);
	r = state_iter(st, g->now, list_fn, s, &e);
	state_close(st);
	return r == -1 ? fail("list", &e) : 0;
}

int
cmd_list(struct grey *g, int argc, char **argv)
{
	struct stats s;

	(void)argv;
	if (argc != 1)
		usage();
	memset(&s, 0, sizeof(s));
	s.print = 1;
	return walk(g, &s);
}

int
cmd_stats(struct grey *g, int argc, char **argv)
{
	struct stats s;
	int rc;

	(void)argv;
	if (argc != 1)
		usage();
	memset(&s, 0, sizeof(s));
	s.awl = (uint32_t)g->auto_whitelist;
	if ((rc = walk(g, &s)) != 0)
		return rc;
	printf("pending %lu\npassed %lu\nnetworks-counting %lu\n"
	    "networks-whitelisted %lu\n", s.pending, s.passed, s.counting,
	    s.listed);
	if (s.other > 0)
		printf("unknown %lu\n", s.other);
	return 0;
}

/* Marks one triplet passed, keeping its first attempt if known. */
static int
mark_passed(struct grey *g, struct state *st, struct mgerr *e)
{
	char key[GREY_KEY_MAX + 8], net[CIDR_STRLEN];
	struct trec t;
	int64_t exp;
	size_t klen;

	klen = envelope_key(g, 0, key, sizeof(key), net, sizeof(net));
	if (trec_get(st, key, klen, g->now, &t, &exp, e) == -1)
		return -1;
	if (t.first == 0 || t.first > g->now)
		t.first = g->now;
	if (t.passed == 0)
		t.passed = g->now;
	return trec_put(st, key, klen, g->now, g->now + g->lifetime, &t, e);
}

/* Reads "IP SENDER RCPT" lines ("<>" for the null sender). */
static int
import(struct grey *g, struct state *st, long *n, struct mgerr *e)
{
	char line[IMPORT_LINE_MAX], ip[IP_STRLEN + 1], from[1024];
	char rcpt[1024];
	const char *rp = rcpt;
	unsigned long ln = 0;

	g->env.rcpt.v = &rp;
	g->env.rcpt.n = 1;
	while (fgets(line, sizeof(line), stdin) != NULL) {
		ln++;
		if (line[0] == '#' || line[strspn(line, " \t\r\n")] == '\0')
			continue;
		if (sscanf(line, "%46s %1023s %1023s", ip, from, rcpt) != 3 ||
		    ip_parse(ip, &g->env.ip, e) == -1) {
			mgerr_set(e, "stdin:%lu: want IP SENDER RCPT", ln);
			return -1;
		}
		g->env.have_ip = 1;
		g->env.from = strcmp(from, "<>") == 0 ? "" : from;
		if (mark_passed(g, st, e) == -1)
			return -1;
		(*n)++;
	}
	return 0;
}

int
cmd_pass(struct grey *g, int argc, char **argv)
{
	struct state *st;
	struct mgerr e;
	long n = 0;
	int r;

	if (argc > 2 || (argc == 2 && strcmp(argv[1], "-") != 0))
		usage();
	if (argc == 1 && (g->env.from == NULL || g->env.rcpt.n != 1 ||
	    (!g->env.have_ip && g->keynet != KEYNET_NONE)))
		usage();
	if ((st = grey_open(g, STATE_RDWR, &e)) == NULL)
		return fail("open store", &e);
	if (argc == 2)
		r = import(g, st, &n, &e);
	else
		r = mark_passed(g, st, &e);
	state_close(st);
	if (r == -1)
		return fail("pass", &e);
	if (argc == 2)
		printf("passed %ld\n", n);
	return 0;
}

/* The store key of delete's operands, as `list' prints them. */
static size_t
operand_key(int argc, char **argv, char *key, size_t len)
{
	struct cidr c;
	struct mgerr e;
	int i;

	if (argc == 2 && cidr_parse(argv[1], &c, &e) == 0 &&
	    strchr(argv[1], '/') != NULL) {
		snprintf(key, len, "n %s", argv[1]);
		return strlen(key);
	}
	if (argc == 2 && strlen(argv[1]) == 64) {
		snprintf(key, len, "h %s", argv[1]);
		return strlen(key);
	}
	strlcpy(key, "t", len);
	for (i = 1; i < argc; i++) {
		strlcat(key, " ", len);
		strlcat(key, argv[i], len);
	}
	return strlen(key);
}

int
cmd_delete(struct grey *g, int argc, char **argv)
{
	char key[GREY_KEY_MAX + 8], net[CIDR_STRLEN];
	struct state *st;
	struct mgerr e;
	size_t klen;
	int r;

	if (argc == 1 && g->env.from != NULL && g->env.rcpt.n == 1 &&
	    (g->env.have_ip || g->keynet == KEYNET_NONE))
		klen = envelope_key(g, 0, key, sizeof(key), net, sizeof(net));
	else if (argc == 2 || argc == 4)
		klen = operand_key(argc, argv, key, sizeof(key));
	else
		usage();
	if ((st = grey_open(g, STATE_RDWR, &e)) == NULL)
		return fail("open store", &e);
	r = state_del(st, key, klen, &e);
	state_close(st);
	if (r == -1)
		return fail("delete", &e);
	return 0;
}

int
cmd_expire(struct grey *g, int argc, char **argv)
{
	struct state *st;
	struct mgerr e;
	long n;

	(void)argv;
	if (argc != 1)
		usage();
	if ((st = grey_open(g, STATE_RDWR, &e)) == NULL)
		return fail("open store", &e);
	n = state_expire(st, g->now, &e);
	state_close(st);
	if (n == -1)
		return fail("expire", &e);
	printf("expired %ld\n", n);
	return 0;
}
