/* Unit tests for reply, hdr and log. */
#include <stdio.h>
#include <string.h>

#include "authres.h"
#include "hdr.h"
#include "log.h"
#include "outcome.h"
#include "t.h"

static void
test_fold(void)
{
	char out[HDR_FIELD_MAX];
	struct mgerr e;
	const char *p, *line;
	int ok = 1;

	T_INT(hdr_fold("X-Test", "short value", out, sizeof(out), &e), 0);
	T_STR(out, "X-Test: short value");
	T_INT(hdr_fold("Authentication-Results", "mx.example.com; "
	    "iprev=pass smtp.remote-ip=192.0.2.1 policy.iprev=192.0.2.1 "
	    "(mail.example.org); spf=pass smtp.mailfrom=user@example.org "
	    "smtp.helo=mail.example.org", out, sizeof(out), &e), 0);
	for (line = out; line != NULL; line = p ? p + 1 : NULL) {
		p = strchr(line, '\n');
		if ((p ? (size_t)(p - line) : strlen(line)) > HDR_LINE_SOFT)
			ok = 0;
		if (line != out && *line != '\t')
			ok = 0;
	}
	T_OK(ok);
	T_OK(strchr(out, '\n') != NULL);
	/* A word longer than a line cannot be broken, and is kept whole. */
	T_INT(hdr_fold("X", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa b", out, sizeof(out), &e), 0);
	T_OK(strstr(out, "\n\tb") != NULL);
	T_INT(hdr_fold("X", "value", out, 8, &e), -1);
}

static void
test_authres(void)
{
	struct authres a;

	authres_init(&a, "mx.example.com");
	T_STR(authres_value(&a), "mx.example.com; none");
	T_STR(authres_value(&a), "mx.example.com; none");
	authres_add(&a, "iprev", "pass", NULL, "smtp.remote-ip", "192.0.2.1",
	    "policy.iprev", "mail (bad)", (char *)NULL);
	T_STR(authres_value(&a), "mx.example.com; iprev=pass "
	    "smtp.remote-ip=192.0.2.1 policy.iprev=\"mail (bad)\"");
	authres_init(&a, "mx");
	authres_add(&a, "spf", "fail", "no (really)", "smtp.mailfrom",
	    "user@example.org", (char *)NULL);
	T_STR(authres_value(&a), "mx; spf=fail (no ?really?) "
	    "smtp.mailfrom=user@example.org");
}

static void
test_outcome(void)
{
	struct outcome o;
	struct mgerr e;
	int act;

	outcome_init(&o);
	T_INT(o.code, EXIT_ACCEPT);
	outcome_act(&o, ACT_HEADER, "x");
	T_INT(o.code, EXIT_ACCEPT);
	outcome_act(&o, ACT_DEFER, "client %s has no PTR", "192.0.2.1");
	T_INT(o.code, EXIT_DEFER);
	T_STR(o.reply, "451 4.7.1 client 192.0.2.1 has no PTR");
	/* The first refusal decides. */
	outcome_act(&o, ACT_REJECT, "later");
	T_INT(o.code, EXIT_DEFER);
	outcome_tempfail(&o, "state file locked");
	T_STR(o.reply, "451 4.3.0 temporary failure (state file locked)");
	outcome_free(&o);

	outcome_init(&o);
	outcome_act(&o, ACT_DROP, "go away\r\nEVIL");
	T_INT(o.code, EXIT_REJECT);
	T_INT(o.drop, 1);
	T_STR(o.reply, "554 5.7.1 go away??EVIL");
	T_INT(outcome_header(&o, "X-A", "b", &e), 0);
	T_INT(o.nhdr, 1);
	outcome_free(&o);

	T_INT(action_parse("reject", &act, &e), 0);
	T_INT(act, ACT_REJECT);
	T_STR(action_name(ACT_HEADER), "header");
	T_INT(action_parse("REJECT", &act, &e), -1);
}

static void
test_log(void)
{
	char buf[LOG_FIELD_MAX + 1], big[600];
	struct logline l;

	T_STR(log_sanitize(buf, sizeof(buf), "a\tb\"c\\d\x80"), "a?b?c?d?");
	T_STR(log_sanitize(buf, sizeof(buf), NULL), "");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_sanitize(buf, sizeof(buf), big);
	T_INT(strlen(buf), LOG_FIELD_MAX);
	T_OK(strcmp(buf + LOG_FIELD_MAX - 3, "...") == 0);
	log_init("mg-test");
	log_begin(&l);
	log_kv(&l, "ip", "192.0.2.1");
	log_kv(&l, "helo", "evil host\n=x");
	log_kv(&l, "from", "");
	log_kvi(&l, "n", 3);
	T_STR(l.buf, "mg-test: ip=192.0.2.1 helo=\"evil host?=x\" from=\"\" n=3");
}

int
main(void)
{
	test_fold();
	test_authres();
	test_outcome();
	test_log();
	return t_done("reply");
}
