/*
 * fuzz_relay: mg-relaycheck's decision for one recipient (rules.c) over
 * its list files (domains.c).  The input is two bytes of switches, then
 * NUL-separated parts: the recipient, the client IP, the sender, the AUTH
 * user, and the local-domains, relay-clients and shield files.  Besides
 * not crashing, the decision must never relay: an accepted recipient is
 * local, or the client may relay.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../cmd/mg-relaycheck/rules.c"
#include "../cmd/mg-relaycheck/domains.c"
#include "../cmd/mg-relaycheck/pop.c"
#include "fuzzinput.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
relay_free(struct relay *r)
{
	size_t i;

	for (i = 0; i < r->local.n; i++)
		free(r->local.v[i]);
	free(r->local.v);
	free(r->relayc.v);
	for (i = 0; i < r->shields.n; i++)
		free(r->shields.v[i].ranges.v);
	free(r->shields.v);
}

/* The switches: bit by bit what the options and environment set. */
static void
relay_flags(struct relay *r, uint8_t a, uint8_t b)
{
	r->env.relayclient = a & 1;
	r->is_trusted = (a >> 1) & 1;
	r->shield_auth = (a >> 2) & 1;
	r->shield_trusted = (a >> 3) & 1;
	r->shield_relay = (a >> 4) & 1;
	r->shield_local_rcpt = (a >> 5) & 1;
	r->auth_local_sender = (a >> 6) & 1;
	r->auth_local_to_local = (a >> 7) & 1;
	r->auth_match = b % 3;
	r->auth_roles = (b >> 2) & 1;
}

/* Loads a list unless its part is empty; 0, or -1 for a bad file. */
static int
load(int slot, const char *text, int (*fn)(void *, const char *,
    struct mgerr *), void *t)
{
	struct mgerr e;

	if (*text == '\0')
		return 0;
	return fn(t, fuzz_file(slot, text, strlen(text)), &e);
}

static int
load_domset(void *t, const char *path, struct mgerr *e)
{
	return domset_load(t, path, e);
}

static int
load_cidrtab(void *t, const char *path, struct mgerr *e)
{
	return cidrtab_load(t, path, e);
}

static int
load_shields(void *t, const char *path, struct mgerr *e)
{
	return shield_load(t, path, e);
}

/* An accepted recipient that is not local needs a reason to relay. */
static void
check_no_relay(struct relay *r, const char *rcpt)
{
	struct mailaddr a;
	const char *why;
	struct mgerr e;

	switch (rcpt_classify(r, rcpt, &a, &why, &e)) {
	case RCPT_LOCAL:
		if (a.domain[0] == '\0' ? strcasecmp(a.local, "postmaster")
		    != 0 : !domset_match(&r->local, a.domain))
			abort();
		break;
	case RCPT_REMOTE:
		if (r->why_relay == NULL)
			abort();
		break;
	case RCPT_BAD:
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct opt_list roles;
	struct fuzz_parts fp;
	struct relay r;
	struct outcome o;
	struct mgerr e;
	const char *rcpt;
	int rc;

	if (size < 2)
		return 0;
	if (roles.n == 0 && (opt_list_add(&roles, "postmaster") == -1 ||
	    opt_list_add(&roles, "abuse") == -1))
		abort();
	memset(&r, 0, sizeof(r));
	env_init(&r.env);
	r.role_addr = roles;
	r.pop_ok = -1;
	relay_flags(&r, data[0], data[1]);
	fuzz_parts_init(&fp, data + 2, size - 2);
	rcpt = fuzz_part(&fp);
	r.env.ip_text = fuzz_part(&fp);
	r.env.from = fuzz_part(&fp);
	r.env.auth_user = fuzz_part(&fp);
	if (*r.env.auth_user == '\0')
		r.env.auth_user = NULL;
	if (*r.env.ip_text != '\0' && ip_parse(r.env.ip_text, &r.env.ip,
	    &e) == 0)
		r.env.have_ip = 1;
	if (load(0, fuzz_part(&fp), load_domset, &r.local) == 0 &&
	    load(1, fuzz_part(&fp), load_cidrtab, &r.relayc) == 0 &&
	    load(2, fuzz_part(&fp), load_shields, &r.shields) == 0) {
		domset_sort(&r.local);
		outcome_init(&o);
		if (*rcpt == '\0')
			rc = check_sender(&r, -1, &o, &e);
		else
			rc = check_rcpt(&r, rcpt, &o, &e);
		if (rc == 0 && o.code == EXIT_ACCEPT && *rcpt != '\0')
			check_no_relay(&r, rcpt);
		outcome_free(&o);
	}
	relay_free(&r);
	fuzz_parts_free(&fp);
	return 0;
}
