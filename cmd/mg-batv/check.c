/*
 * check: which mail BATV judges, whether a tag is valid, and signing.
 * A bounce (null reverse-path, RFC 5321 section 4.5.5, or a sender
 * that only bounces send as) addressed to a BATV domain must carry a
 * tag this host made and that has not expired
 * (draft-levine-smtp-batv-01 section 3); other mail only has its tag
 * removed.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "batv.h"
#include "ip.h"
#include "log.h"
#include "pat.h"

int
batv_domain(const struct batv *b, const char *domain)
{
	size_t i;
	int in = b->domains.n == 0;

	if (*domain == '\0' || *domain == '[')
		return 0;
	for (i = 0; !in && i < b->domains.n; i++)
		in = pat_match_host(b->domains.v[i], domain);
	for (i = 0; in && i < b->exempt_domains.n; i++)
		if (pat_match_host(b->exempt_domains.v[i], domain))
			in = 0;
	return in;
}

int
batv_is_bounce(const char *from)
{
	const char *at;
	size_t len;

	if (*from == '<')
		from++;
	len = strcspn(from, ">");
	if (len == 0 || (len == 4 && strncmp(from, "#@[]", 4) == 0))
		return 1;
	/* Many MTAs send DSNs from these instead of <> (RFC 3834 section
	 * 2 lists them among the senders not to auto-reply to). */
	at = memchr(from, '@', len);
	if (at == NULL)
		at = from + len;
	len = (size_t)(at - from);
	return (len == 13 && strncasecmp(from, "mailer-daemon", 13) == 0) ||
	    (len == 10 && strncasecmp(from, "postmaster", 10) == 0);
}

/*
 * Copies the mailbox s into out with its domain lower-cased: domains are
 * case-insensitive, local parts are not (RFC 5321 section 2.4).
 */
static void
lower_domain(const char *s, char *out, size_t outlen)
{
	size_t i;

	strlcpy(out, s, outlen);
	for (i = (size_t)(addr_domain(out) - out); out[i] != '\0'; i++)
		if (out[i] >= 'A' && out[i] <= 'Z')
			out[i] = (char)(out[i] - 'A' + 'a');
}

/*
 * Writes into out the canonical a->addr with its domain in the case the
 * client wrote it in raw, the argument a was parsed from: a tag's hash
 * covers the address as the tag carries it, as Exim's ${prvs} made it.
 */
static void
as_written(const char *raw, const struct mailaddr *a, char *out,
    size_t outlen)
{
	const char *d = addr_domain(raw);
	size_t n = strlen(a->addr), dl = strlen(a->domain);

	strlcpy(out, a->addr, outlen);
	if (dl > 0 && dl <= n && n < outlen && !a->literal &&
	    strncasecmp(d, a->domain, dl) == 0)
		memcpy(out + n - dl, d, dl);
}

static int
mac_matches(const struct batv_key *k, const struct prvs *p,
    const char *plain)
{
	char mac[7];

	return prvs_mac(k->secret, k->len, p->keynum, p->day, plain,
	    mac) == 0 && prvs_hash_eq(mac, p->hash);
}

const char *
batv_verify(const struct batv *b, const struct prvs *p)
{
	static char why[64];
	const struct batv_key *k;
	char low[sizeof(p->plain)];
	int64_t ret;
	int d, life = (int)(b->lifetime / 86400);

	if ((k = keys_find(&b->ring, p->keynum)) == NULL) {
		snprintf(why, sizeof(why), "unknown key %d", p->keynum);
		return why;
	}
	ret = keys_retired(&b->ring, k);
	if (ret != -1 && (int64_t)b->now > ret + b->lifetime + 86400) {
		snprintf(why, sizeof(why), "key %d retired", p->keynum);
		return why;
	}
	/* Exim hashes the address as it arrives; batv_sign hashes it with
	 * the domain in lower case, which a remote MTA may have re-cased. */
	if (!mac_matches(k, p, p->plain)) {
		lower_domain(p->plain, low, sizeof(low));
		if (strcmp(low, p->plain) == 0 || !mac_matches(k, p, low))
			return "bad signature";
		log_explain(b->explain,
		    "tag matches with the domain in lower case");
	}
	/* Days from today to the tag's expiry day, modulo 1000. */
	d = (p->day - prvs_day(b->now) + PRVS_DAYS) % PRVS_DAYS;
	/* As Exim's prvscheck: valid from today to one lifetime ahead;
	 * a wider window would only widen the replay window. */
	if (d <= life)
		return NULL;
	log_explain(b->explain,
	    "tag expires in %d days, more than the lifetime of %d", d, life);
	return "expired";
}

static int
client_exempt(const struct batv *b, const char **why)
{
	struct cidr c;
	struct mgerr e;
	size_t i;

	if (b->exempt_auth && b->env.auth_user != NULL) {
		*why = "authenticated";
		return 1;
	}
	if (b->exempt_relay && b->env.relayclient) {
		*why = "relayclient";
		return 1;
	}
	for (i = 0; b->env.have_ip && i < b->exempt_clients.n; i++)
		if (cidr_parse(b->exempt_clients.v[i], &c, &e) == 0 &&
		    cidr_contains(&c, &b->env.ip)) {
			*why = "exempt client";
			return 1;
		}
	return 0;
}

/* Judges one recipient of a bounce; NULL when it may pass. */
static const char *
judge(const struct batv *b, const struct mailaddr *a, const struct prvs *p)
{
	const char *why;

	if (!batv_domain(b, a->domain)) {
		log_explain(b->explain, "%s: not a BATV domain", a->domain);
		return NULL;
	}
	if (client_exempt(b, &why)) {
		log_explain(b->explain, "client is %s: bounce passes", why);
		return NULL;
	}
	if (p->form == PRVS_NONE)
		return "no tag";
	return batv_verify(b, p);
}

static void
add_plain(char *plain, size_t len, const char *addr)
{
	if (*plain != '\0')
		strlcat(plain, "\n", len);
	strlcat(plain, addr, len);
}

void
batv_check(struct batv *b, struct outcome *o, char *plain, size_t plainlen)
{
	int bounce = batv_is_bounce(b->env.from);
	const char *why;
	struct mailaddr a;
	struct prvs p;
	struct mgerr e;
	char given[sizeof(p.plain)], canon[sizeof(p.plain)];
	size_t i;

	strlcpy(b->status, bounce ? "bounce" : "mail", sizeof(b->status));
	for (i = 0; i < b->env.rcpt.n; i++) {
		const char *r = b->env.rcpt.v[i];

		if (addr_parse(r, &a, &e) == -1) {
			why = bounce ? "malformed address" : NULL;
			memset(&p, 0, sizeof(p));
		} else {
			as_written(r, &a, given, sizeof(given));
			if (prvs_parse(a.quoted ? "" : given, &p)) {
				lower_domain(p.plain, canon, sizeof(canon));
				add_plain(plain, plainlen, canon);
			}
			why = bounce ? judge(b, &a, &p) : NULL;
		}
		log_explain(b->explain, "recipient %s: %s%s%s", r,
		    p.form != PRVS_NONE ? "tagged" : "untagged",
		    why ? ", fails: " : "", why ? why : "");
		if (why == NULL)
			continue;
		snprintf(b->status, sizeof(b->status), "%s%s",
		    b->log_only ? "would-reject: " : "", why);
		if (!b->log_only)
			outcome_refuse(o, EXIT_REJECT, "550", "5.7.1",
			    "bounce to <%s> refused: not a reply to mail"
			    " from here (BATV: %s)", r, why);
	}
	if (o->code == EXIT_ACCEPT && bounce && b->status[0] == 'b')
		strlcpy(b->status, "bounce-ok", sizeof(b->status));
}

int
batv_sign(const struct batv *b, const char *addr, char *out, size_t outlen,
    struct mgerr *e)
{
	const struct batv_key *k = &b->ring.k[b->ring.n - 1];
	struct mailaddr a;
	struct prvs p;
	char mac[7];
	int day, n;

	strlcpy(out, addr, outlen);
	if (addr_parse(addr, &a, e) == -1 || a.null || a.quoted ||
	    a.literal || !batv_domain(b, a.domain) || prvs_parse(a.addr, &p)) {
		log_explain(b->explain, "%s: left unsigned", addr);
		return 0;
	}
	day = prvs_day(b->now + (time_t)b->lifetime);
	if (prvs_mac(k->secret, k->len, k->num, day, a.addr, mac) == -1) {
		mgerr_set(e, "sign %s: address too long", addr);
		return -1;
	}
	if (b->subaddress != -1)
		n = snprintf(out, outlen, "%s%cprvs=%d%03d%s@%s", a.local,
		    "+-"[b->subaddress], k->num, day, mac, a.domain);
	else
		n = snprintf(out, outlen, "prvs=%d%03d%s=%s", k->num, day,
		    mac, a.addr);
	/* RFC 5321 section 4.5.3.1.3: a path is at most 256 octets with
	 * its angle brackets. */
	if (n < 0 || (size_t)n >= outlen || n > ADDR_PATH_MAX - 2) {
		strlcpy(out, addr, outlen);
		mgerr_set(e, "sign %s: signed address too long", addr);
		return -1;
	}
	return 0;
}
