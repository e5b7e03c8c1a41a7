/*
 * The decision for one recipient: is it local, may this client relay,
 * do the IP shield and the AUTH policy accept the sender, and does the
 * recipient exist.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "relay.h"

/* The raw path ends in a dot ("user@example.com." or "<...com.>"). */
static int
trailing_dot(const char *raw)
{
	const char *end = raw + strlen(raw);

	while (end > raw && isspace((unsigned char)end[-1]))
		end--;
	if (end > raw && end[-1] == '>')
		end--;
	return end > raw && end[-1] == '.';
}

static int
non_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return 1;
	return 0;
}

/*
 * Classifies a recipient.  Anything that routes mail onwards through
 * this host (the %-hack, bang paths, source routes, an @ inside a quoted
 * local part, address literals) or that the MTA might read differently
 * (a trailing dot, a U-label IDN) is not local, so only a client allowed
 * to relay may use it.  RFC 5321 appendix C and section 3.6.1 let a
 * server refuse source routes and relaying it does not offer.
 */
enum rcpt_kind
rcpt_classify(struct relay *r, const char *raw, struct mailaddr *a,
    const char **why, struct mgerr *e)
{
	*why = "";
	if (addr_parse(raw, a, e) == -1)
		return RCPT_BAD;
	if (a->null) {
		mgerr_set(e, "empty recipient address");
		return RCPT_BAD;
	}
	if (a->route)
		*why = "source route";
	else if (a->literal)
		*why = "address literal";
	else if (strpbrk(a->local, "@%!") != NULL)
		*why = a->quoted ? "quoted local part routes mail" :
		    "routing character in local part";
	else if (a->domain[0] == '\0') {
		/* RFC 5321 section 4.5.1: bare "postmaster" is ours. */
		if (strcasecmp(a->local, "postmaster") == 0)
			return RCPT_LOCAL;
		*why = "no domain";
	} else if (trailing_dot(raw))
		*why = "trailing dot";
	else if (non_ascii(a->domain))
		*why = "non-ASCII domain";
	else if (r->local_missing || !domset_match(&r->local, a->domain))
		*why = "not a local domain";
	else
		return RCPT_LOCAL;
	return RCPT_REMOTE;
}

/* 1 if the client may relay (r->why_relay says why), 0 if not, -1. */
int
relay_allowed(struct relay *r, struct mgerr *e)
{
	if (r->env.relayclient)
		r->why_relay = "relayclient";
	else if (r->env.auth_user != NULL)
		r->why_relay = "auth";
	else if (r->env.have_ip && cidrtab_match(&r->relayc, &r->env.ip))
		r->why_relay = "relay-clients";
	else if (r->is_trusted)
		r->why_relay = "trusted";
	else {
		int rc = pop_lookup(r, e);

		if (rc == -1)
			return -1;
		r->why_relay = rc == 1 ? "pop-before-smtp" : NULL;
	}
	return r->why_relay != NULL;
}

static void
decide(struct relay *r, const char *reason)
{
	if (r->reason[0] == '\0')
		strlcpy(r->reason, reason, sizeof(r->reason));
}

/* RFC 4954 section 6: 530 5.7.0 asks the client to authenticate. */
static void
need_auth(struct relay *r, struct outcome *o, const char *reason,
    const char *what)
{
	decide(r, reason);
	outcome_refuse(o, EXIT_REJECT, "530", "5.7.0",
	    "authentication required to send as %s", what);
}

static int
exempt(const struct relay *r, const char *why)
{
	log_explain(r->explain, "shield: %s is exempt: %s", r->from.domain,
	    why);
	return 1;
}

/* 1 if an exemption lets the sender through the shield, 0, or -1. */
static int
shield_exempt(struct relay *r, int rcpt_local, struct mgerr *e)
{
	if (r->shield_auth && r->env.auth_user != NULL)
		return exempt(r, "authenticated");
	if (r->shield_trusted && r->is_trusted)
		return exempt(r, "trusted host");
	if (r->shield_local_rcpt && rcpt_local == 1)
		return exempt(r, "local recipient");
	if (r->shield_local_rcpt && rcpt_local == -1)
		return exempt(r, "no recipient yet, left for RCPT");
	if (r->shield_relay && r->env.auth_user == NULL) {
		int allowed = relay_allowed(r, e);

		/* Trusted hosts have their own switch, above. */
		if (allowed == 1 && strcmp(r->why_relay, "trusted") != 0)
			return exempt(r, r->why_relay);
		return allowed == -1 ? -1 : 0;
	}
	return 0;
}

/* The IP shield: a listed sender domain must come from its ranges. */
static int
check_shield(struct relay *r, int rcpt_local, struct outcome *o,
    struct mgerr *e)
{
	const struct cidrtab *ranges;
	char ip[IP_STRLEN] = "unknown address";
	int ex;

	ranges = shield_find(&r->shields, &r->local, r->from.domain);
	if (ranges == NULL)
		return 0;
	if (r->env.have_ip && cidrtab_match(ranges, &r->env.ip)) {
		log_explain(r->explain, "shield: %s is in a range of %s",
		    r->env.ip_text, r->from.domain);
		return 0;
	}
	if ((ex = shield_exempt(r, rcpt_local, e)) != 0)
		return ex == -1 ? -1 : 0;
	if (r->env.have_ip)
		ip_format(&r->env.ip, ip, sizeof(ip));
	if (r->shield_auth)
		need_auth(r, o, "shield", r->from.domain);
	else {
		decide(r, "shield");
		outcome_refuse(o, EXIT_REJECT, "550", "5.7.1",
		    "%s does not send mail from %s", r->from.domain, ip);
	}
	return 0;
}

static int
is_role(const struct relay *r, const char *local)
{
	size_t i;

	for (i = 0; i < r->role_addr.n; i++)
		if (strcasecmp(r->role_addr.v[i], local) == 0)
			return 1;
	return 0;
}

/* The authenticated identity owns the sender address (or its domain). */
static int
auth_owns(const struct relay *r, int from_local)
{
	const char *id = r->env.auth_user, *at = strrchr(id, '@');

	if (r->auth_match == AUTH_MATCH_DOMAIN)
		return at == NULL ? from_local :
		    strcasecmp(at + 1, r->from.domain) == 0;
	if (at == NULL)
		return from_local && strcasecmp(id, r->from.local) == 0;
	return strcasecmp(id, r->from.addr) == 0;
}

/* The AUTH policy options, each off by default. */
static int
check_auth_policy(struct relay *r, int rcpt_local, int from_local,
    struct outcome *o, struct mgerr *e)
{
	int allowed;

	if (r->auth_local_sender && from_local &&
	    !(r->auth_local_to_local && rcpt_local != 0)) {
		if ((allowed = relay_allowed(r, e)) == -1)
			return -1;
		if (!allowed)
			need_auth(r, o, "auth-local-sender", r->from.domain);
	}
	if (r->auth_roles && from_local && is_role(r, r->from.local) &&
	    r->env.auth_user == NULL && !r->is_trusted)
		need_auth(r, o, "auth-role-sender", r->from.addr);
	if (r->auth_match != AUTH_MATCH_OFF && r->env.auth_user != NULL &&
	    !auth_owns(r, from_local)) {
		decide(r, "auth-match");
		outcome_refuse(o, EXIT_REJECT, "550", "5.7.1",
		    "sender %s does not belong to %s", r->from.addr,
		    r->env.auth_user);
	}
	return 0;
}

/*
 * Sender rules for one recipient; rcpt_local is 1, 0, or -1 when no
 * recipient is known yet (checks exempting local recipients wait).
 */
int
check_sender(struct relay *r, int rcpt_local, struct outcome *o,
    struct mgerr *e)
{
	int from_local;

	if (r->env.from == NULL || r->from.null)
		return 0;
	if (!r->from_ok) {
		if (addr_parse(r->env.from, &r->from, e) == -1) {
			log_error("bad sender: %s", e->msg);
			decide(r, "bad-sender");
			outcome_refuse(o, EXIT_DEFER, "451", "4.1.7",
			    "cannot parse sender address");
			return 0;
		}
		r->from_ok = 1;
		if (r->from.null)
			return 0;
	}
	/* A literal or a bare local part claims no domain: no shield, and
	 * not local, so --auth-match finds it owned by no one. */
	from_local = !r->from.literal && r->from.domain[0] != '\0' &&
	    !r->local_missing && domset_match(&r->local, r->from.domain);
	if (!r->from.literal && r->from.domain[0] != '\0' &&
	    check_shield(r, rcpt_local, o, e) == -1)
		return -1;
	return check_auth_policy(r, rcpt_local, from_local, o, e);
}

/* Recipient verification: the address or its domain is listed. */
static void
check_known(struct relay *r, const struct mailaddr *a, struct outcome *o)
{
	/* RFC 5321 section 4.5.1: postmaster must always be accepted. */
	if (r->valid == NULL || strcasecmp(a->local, "postmaster") == 0)
		return;
	if (list_match_addr(r->valid, a->addr, NULL)) {
		log_explain(r->explain, "recipient %s is listed", a->addr);
		return;
	}
	decide(r, "unknown-rcpt");
	outcome_refuse(o, EXIT_REJECT, "550", "5.1.1",
	    "%s: no such user here", a->addr);
	if (r->record_unknown)
		record_unknown(r);
}

int
check_rcpt(struct relay *r, const char *raw, struct outcome *o,
    struct mgerr *e)
{
	struct mailaddr a;
	const char *why;
	enum rcpt_kind k;
	int allowed;

	/*
	 * A missing local-domains file is a configuration error: mail waits
	 * (the contract's 111) and nothing bounces, while a client that may
	 * relay anyway (RELAYCLIENT, AUTH, a relay rule) still relays.
	 */
	if (r->local_missing) {
		if ((allowed = relay_allowed(r, e)) == -1)
			return -1;
		if (allowed) {
			log_explain(r->explain,
			    "no local domains, but the client may relay: %s",
			    r->why_relay);
			return 0;
		}
		decide(r, "no-local-domains");
		outcome_refuse(o, EXIT_DEFER, "451", "4.3.0",
		    "temporary failure (no local domains configured)");
		return 0;
	}
	if ((k = rcpt_classify(r, raw, &a, &why, e)) == RCPT_BAD) {
		log_error("bad recipient: %s", e->msg);
		decide(r, "bad-rcpt");
		outcome_refuse(o, EXIT_DEFER, "451", "4.1.3",
		    "cannot parse recipient address");
		return 0;
	}
	log_explain(r->explain, "recipient %s: %s%s", a.addr,
	    k == RCPT_LOCAL ? "local" : "not local, ", why);
	if (k == RCPT_REMOTE) {
		if ((allowed = relay_allowed(r, e)) == -1)
			return -1;
		if (!allowed) {
			decide(r, "relay");
			outcome_refuse(o, EXIT_REJECT, "550", "5.7.1",
			    "relaying denied (%s)", why);
			return 0;
		}
		log_explain(r->explain, "client may relay: %s", r->why_relay);
	}
	if (check_sender(r, k == RCPT_LOCAL, o, e) == -1)
		return -1;
	if (o->code == EXIT_ACCEPT && k == RCPT_LOCAL)
		check_known(r, &a, o);
	return 0;
}
