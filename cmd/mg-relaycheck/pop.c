/*
 * POP-before-SMTP (after relay-ctrl): pop-record notes the client
 * address of a successful POP3/IMAP login in the state store "pop" and,
 * as a chain-loader, execs the rest of its argv; the relay check treats
 * an address recorded within --pop-age as allowed to relay.  Also the
 * unknown-rcpt event for the dynamic screen (dyn.h), the same store
 * mg-screen reads.
 *
 * A record is keyed by the canonical address text; its value is the
 * user name (possibly empty) and its `updated' time the login time.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "num.h"
#include "relay.h"
#include "state.h"

#define POP_STORE	"pop"
#define POP_USER_MAX	255

static struct state *
open_store(const struct relay *r, const char *name, int mode,
    struct mgerr *e)
{
	char path[4096];

	if (state_path(r->statedir, name, path, sizeof(path), e) == -1)
		return NULL;
	return state_open(path, mode, (unsigned)r->lock_timeout, e);
}

int
pop_lookup(struct relay *r, struct mgerr *e)
{
	struct state *st;
	struct state_rec rec;
	char key[IP_STRLEN];
	int rc;

	if (!r->pop || !r->env.have_ip)
		return 0;
	if (r->pop_ok >= 0)
		return r->pop_ok;
	ip_format(&r->env.ip, key, sizeof(key));
	if ((st = open_store(r, POP_STORE, STATE_RDONLY, e)) == NULL)
		return -1;
	rc = state_get(st, key, strlen(key), r->now, &rec, e);
	state_close(st);
	if (rc == -1)
		return -1;
	r->pop_ok = rc == 1 && r->now - rec.updated <= r->pop_age &&
	    rec.updated <= r->now + 60;
	log_explain(r->explain, "pop-before-smtp: %s %s", key, r->pop_ok ?
	    "recorded" : rc == 1 ? "recorded too long ago" : "not recorded");
	return r->pop_ok;
}

/* Writes the record for ip_text/user.  0, or -1 and e set. */
static int
pop_write(struct relay *r, const char *ip_text, const char *user,
    struct mgerr *e)
{
	struct state *st;
	struct state_rec rec;
	struct ipaddr ip;
	char key[IP_STRLEN];
	int rc;

	if (ip_text == NULL || *ip_text == '\0') {
		mgerr_set(e, "no client address: give --ip or set TCPREMOTEIP");
		return -1;
	}
	if (ip_parse(ip_text, &ip, e) == -1)
		return -1;
	if (strlen(user) > POP_USER_MAX) {
		mgerr_set(e, "user name longer than %d bytes", POP_USER_MAX);
		return -1;
	}
	ip_format(&ip, key, sizeof(key));
	if ((st = open_store(r, POP_STORE, STATE_RDWR, e)) == NULL)
		return -1;
	memset(&rec, 0, sizeof(rec));
	rec.updated = r->now;
	/* No expiry in the store: the age limit is the reader's --pop-age,
	 * so the check and expire decide with the setting they are given. */
	rec.expires = 0;
	rec.data = user;
	rec.len = strlen(user);
	rc = state_put(st, key, strlen(key), &rec, e);
	state_close(st);
	return rc;
}

static void
log_record(const char *ip, const char *user, const struct mgerr *e)
{
	struct logline l;

	log_begin(&l);
	log_kv(&l, "pop-record", e == NULL ? "ok" : "failed");
	log_kv(&l, "ip", ip != NULL ? ip : "");
	log_kv(&l, "user", user);
	if (e != NULL)
		log_kv(&l, "error", e->msg);
	log_kvi(&l, "pid", (long long)getpid());
	log_end(&l);
}

/*
 * Reads pop-record's own options, which come straight after the word
 * pop-record: --ip ADDR, --user NAME, and "--" to end them.  The first
 * other word starts the program to exec; nothing after it is read.
 * Returns the index of that word, or -1 for an unknown option.
 */
static int
pop_args(struct relay *r, int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0)
			return i + 1;
		if (strncmp(a, "--ip=", 5) == 0)
			r->env.ip_text = a + 5;
		else if (strncmp(a, "--user=", 7) == 0)
			r->pop_user = a + 7;
		else if (strcmp(a, "--ip") == 0 && i + 1 < argc)
			r->env.ip_text = argv[++i];
		else if (strcmp(a, "--user") == 0 && i + 1 < argc)
			r->pop_user = argv[++i];
		else if (a[0] == '-' && a[1] != '\0') {
			log_error("pop-record: unknown option %s", a);
			return -1;
		} else
			return i;
	}
	return argc;
}

/*
 * mg-relaycheck pop-record [--ip addr] [--user name] [program arg ...]
 * With a program this is a chain-loader: whatever happens to the record
 * (cfg_ok is 0 when the configuration could not be read), the program
 * runs with its arguments untouched, so a broken store never locks
 * users out of their mailboxes.
 */
int
cmd_pop_record(struct relay *r, int argc, char **argv, int cfg_ok)
{
	struct mgerr e;
	const char *ip, *user;
	int first, ok = 0;

	if ((first = pop_args(r, argc, argv)) == -1)
		return EXIT_DEFER;
	ip = r->env.ip_text ? r->env.ip_text : getenv("TCPREMOTEIP");
	user = r->pop_user;
	if (user == NULL && first < argc)
		user = getenv("USER");
	if (user == NULL)
		user = "";
	mgerr_clear(&e);
	if (!cfg_ok)
		mgerr_set(&e, "configuration error, not recorded");
	else if (pop_write(r, ip, user, &e) == 0)
		ok = 1;
	log_record(ip, user, ok ? NULL : &e);
	if (first >= argc)
		return ok ? 0 : EXIT_DEFER;
	execvp(argv[first], argv + first);
	log_error("exec %s: %s", argv[first], strerror(errno));
	return EXIT_DEFER;
}

static int
print_rec(void *arg, const void *key, size_t klen,
    const struct state_rec *rec)
{
	const struct relay *r = arg;
	char when[32], user[POP_USER_MAX + 1], ip[IP_STRLEN];
	size_t ulen = rec->len < POP_USER_MAX ? rec->len : POP_USER_MAX;

	if (klen >= sizeof(ip))
		return STATE_ITER_NEXT;
	memcpy(ip, key, klen);
	ip[klen] = '\0';
	memcpy(user, rec->data, ulen);
	user[ulen] = '\0';
	num_format_time(rec->updated, when, sizeof(when));
	printf("%s %s %s %llds %s\n", ip, when,
	    r->now - rec->updated <= r->pop_age ? "fresh" : "stale",
	    (long long)(r->now - rec->updated), user[0] ? user : "-");
	return STATE_ITER_NEXT;
}

/* mg-relaycheck list: one line per recorded address. */
int
cmd_pop_list(struct relay *r, int argc, char **argv)
{
	struct state *st;
	struct mgerr e;
	int rc;

	(void)argv;
	if (argc != 1) {
		log_error("usage: mg-relaycheck list");
		return EXIT_DEFER;
	}
	if ((st = open_store(r, POP_STORE, STATE_RDONLY, &e)) == NULL) {
		log_error("list: %s", e.msg);
		return EXIT_DEFER;
	}
	rc = state_iter(st, r->now, print_rec, r, &e);
	state_close(st);
	if (rc == -1 || fflush(stdout) == EOF) {
		log_error("list: %s", rc == -1 ? e.msg : "write error");
		return EXIT_DEFER;
	}
	return 0;
}

struct expire_walk {
	const struct relay	*r;
	long			 n;
};

static int
old_rec(void *arg, const void *key, size_t klen,
    const struct state_rec *rec)
{
	struct expire_walk *w = arg;

	(void)key;
	(void)klen;
	if (w->r->now - rec->updated <= w->r->pop_age)
		return STATE_ITER_NEXT;
	w->n++;
	return STATE_ITER_DEL;
}

/* mg-relaycheck expire: from cron, drops records older than --pop-age. */
int
cmd_pop_expire(struct relay *r, int argc, char **argv)
{
	struct expire_walk w = { r, 0 };
	struct state *st;
	struct mgerr e;
	long n = -1;

	(void)argv;
	if (argc != 1) {
		log_error("usage: mg-relaycheck expire");
		return EXIT_DEFER;
	}
	if ((st = open_store(r, POP_STORE, STATE_RDWR, &e)) != NULL) {
		if (state_iter(st, r->now, old_rec, &w, &e) == 0)
			n = state_expire(st, r->now, &e);
		state_close(st);
	}
	if (n == -1) {
		log_error("expire: %s", e.msg);
		return EXIT_DEFER;
	}
	printf("expired %ld records\n", n + w.n);
	return 0;
}

void
record_unknown(struct relay *r)
{
	struct dyn_conf c;
	struct dyn_rule *rules;
	struct dyn_block b;
	struct state *st;
	struct mgerr e;
	struct logline l;
	int rc = -1;

	if (!r->env.have_ip)
		return;
	if (dyn_opts_load(&r->dyn_opts, &c, &rules, &e) == 0 &&
	    (st = open_store(r, "dynamic", STATE_RDWR, &e)) != NULL) {
		rc = dyn_record(st, &c, &r->env.ip, "unknown-rcpt", r->now,
		    &b, &e);
		state_close(st);
	}
	free(rules);
	if (rc == -1) {
		log_warn("record unknown-rcpt: %s", e.msg);
		return;
	}
	log_begin(&l);
	log_kv(&l, "dynamic", rc == 2 ? "blocked" : "recorded");
	log_kv(&l, "ip", r->env.ip_text);
	log_kv(&l, "event", "unknown-rcpt");
	if (rc == 2)
		log_kv(&l, "net", b.net);
	log_end(&l);
}
