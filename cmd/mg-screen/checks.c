/*
 * The list-driven screens of mg-screen: trusted hosts, the IP screen, the
 * host screen and the address blacklist.
 */
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "log.h"
#include "screen.h"

/* A list line's value: "allow" or "deny" ("" means deny). */
static int
is_allow(const char *value)
{
	return strncmp(value, "allow", 5) == 0 &&
	    (value[5] == '\0' || value[5] == ' ' || value[5] == '\t');
}

/*
 * Trusted hosts pass every screen.  An IP or CIDR entry matches the
 * client address; a name entry matches only a forward-confirmed PTR name,
 * since anyone can publish any PTR name for their own addresses.
 */
int
check_trusted(struct screen *s, struct mgerr *e)
{
	const char *value;
	char ipbuf[IP_STRLEN];

	(void)e;
	if (s->trusted == NULL)
		return 0;
	ip_format(&s->env.ip, ipbuf, sizeof(ipbuf));
	if (list_match_ip(s->trusted, &s->env.ip, &value)) {
		log_explain(s->explain, "trusted: %s is listed", ipbuf);
		return 1;
	}
	if (s->dns == NULL)
		return 0;
	rdns_lookup(s);
	if (s->fcrdns[0] != '\0' &&
	    list_match_host(s->trusted, s->fcrdns, &value)) {
		log_explain(s->explain,
		    "trusted: %s (forward-confirmed) is listed", s->fcrdns);
		return 1;
	}
	return 0;
}

/*
 * With --ip-default deny and no --ip-rules the allow list is empty, and
 * the screen still runs: every client is unlisted and denied.
 */
int
ip_screen_on(const struct screen *s)
{
	return s->ip_action != ACT_OFF && (s->ipl != NULL || s->ip_deny);
}

int
host_screen_on(const struct screen *s)
{
	return s->hostl != NULL && s->host_action != ACT_OFF;
}

/* IP screen: longest prefix wins; unlisted clients get --ip-default. */
void
check_ip(struct screen *s, struct outcome *o)
{
	const char *value;
	char ipbuf[IP_STRLEN], why[300];
	int allow;

	if (!ip_screen_on(s))
		return;
	ip_format(&s->env.ip, ipbuf, sizeof(ipbuf));
	if (s->ipl != NULL && list_match_ip(s->ipl, &s->env.ip, &value)) {
		allow = is_allow(value);
		log_explain(s->explain, "ip screen: %s matches a %s rule",
		    ipbuf, allow ? "allow" : "deny");
	} else {
		allow = !s->ip_deny;
		log_explain(s->explain, "ip screen: %s is unlisted, default %s",
		    ipbuf, allow ? "allow" : "deny");
	}
	if (allow)
		return;
	snprintf(why, sizeof(why), "client %s is not welcome here", ipbuf);
	fail_check(s, o, s->ip_action, "ip-screen", why);
}

/* Matches one name against the host rules; 1 deny, 0 allow or none. */
static int
host_denied(struct screen *s, const char *what, const char *name)
{
	const char *value;

	if (name == NULL || *name == '\0' ||
	    !list_match_host(s->hostl, name, &value))
		return 0;
	log_explain(s->explain, "host screen: %s %s matches a %s rule", what,
	    name, is_allow(value) ? "allow" : "deny");
	return !is_allow(value);
}

/*
 * Host screen: patterns against the forward-confirmed PTR name (an
 * unconfirmed name proves nothing) and against the HELO argument.
 */
void
check_host(struct screen *s, struct outcome *o)
{
	char why[300], clean[LOG_FIELD_MAX + 1];

	if (!host_screen_on(s))
		return;
	if (host_denied(s, "client name", s->fcrdns)) {
		snprintf(why, sizeof(why), "client host %s is not welcome "
		    "here", log_sanitize(clean, sizeof(clean), s->fcrdns));
		fail_check(s, o, s->host_action, "host-screen", why);
	} else if (host_denied(s, "HELO", s->env.helo)) {
		snprintf(why, sizeof(why), "HELO %s is not welcome here",
		    log_sanitize(clean, sizeof(clean), s->env.helo));
		fail_check(s, o, s->host_action, "host-screen", why);
	}
}

/*
 * 1 when addr (an envelope address as given) is blacklisted, or does not
 * parse: an address the parser cannot read ("u@spam.test,", a trailing
 * space, "u@spam..test", two @) could be delivered to a listed one by a
 * lenient MTA, so it is refused rather than matched as text.
 */
static int
blacklisted(struct screen *s, const char *addr, char *canon, size_t len,
    int *bad)
{
	struct mailaddr a;
	struct mgerr e;
	const char *value;

	*bad = 0;
	if (addr_parse(addr, &a, &e) == -1) {
		strlcpy(canon, addr, len);
		log_explain(s->explain, "blacklist: <%s> does not parse: %s",
		    canon, e.msg);
		*bad = 1;
		return 1;
	}
	strlcpy(canon, a.addr, len);
	if (!list_match_addr(s->blacklist, canon, &value))
		return 0;
	log_explain(s->explain, "blacklist: <%s> matches a %s entry", canon,
	    is_allow(value) ? "allow" : "deny");
	return !is_allow(value);
}

/* Address blacklist for the envelope sender and each recipient. */
void
check_blacklist(struct screen *s, struct outcome *o)
{
	char canon[ADDR_BUF_MAX], why[700], clean[LOG_FIELD_MAX + 1];
	size_t i;
	int bad;

	if (s->blacklist == NULL || s->blacklist_action == ACT_OFF)
		return;
	if (s->env.from != NULL &&
	    blacklisted(s, s->env.from, canon, sizeof(canon), &bad)) {
		snprintf(why, sizeof(why), bad ? "sender address <%s> is "
		    "not valid" : "sender <%s> is not welcome here",
		    log_sanitize(clean, sizeof(clean), canon));
		fail_check(s, o, s->blacklist_action, "blacklist", why);
	}
	for (i = 0; i < s->env.rcpt.n; i++) {
		if (!blacklisted(s, s->env.rcpt.v[i], canon, sizeof(canon),
		    &bad))
			continue;
		snprintf(why, sizeof(why), bad ? "recipient address <%s> is "
		    "not valid" : "recipient <%s> does not take mail from "
		    "here", log_sanitize(clean, sizeof(clean), canon));
		fail_check(s, o, s->blacklist_action, "blacklist", why);
	}
}
