/*
 * Sender ID (RFC 4406): the Purported Responsible Address of RFC 4407
 * section 2, taken from the header block on stdin, checked against the
 * domain's spf2.0/pra record (or its v=spf1 record, RFC 4406 section
 * 3.4) by the same interpreter and DNS layer as SPF.
 *
 * The header reading here is this program's own until libcommon has a
 * message module: fields are unfolded (RFC 5322 section 2.2.3), the
 * block ends at the first empty line.  A block past HDR_BLOCK_MAX bytes
 * is not judged, since the field that would decide may lie past what
 * was read, and not passed on cut: the message is deferred.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "arstrip.h"
#include "authres.h"
#include "log.h"
#include "spf.h"

#define HDR_BLOCK_MAX	(1024 * 1024)
#define HDR_FIELDS_MAX	2000
#define VALUE_MAX	4096

static char	*block;		/* the header block as read, with its end */
static size_t	 blocklen;
static int	 crlf;
static size_t	 forged;	/* fields claiming our authserv-id, left out */

int
senderid_crlf(void)
{
	return crlf;
}

size_t
senderid_forged(void)
{
	return forged;
}

/* Cuts a forged field, held from mark on, off the end of the block. */
static void
cut(size_t mark)
{
	blocklen = mark;
	if (block != NULL)
		block[blocklen] = '\0';
	forged++;
}

/* Appends one line of n bytes to the block; 0, or -1 with why. */
static int
append(const char *line, size_t n, const char **why)
{
	char *nb;

	if ((nb = realloc(block, blocklen + n + 1)) == NULL) {
		*why = "out of memory";
		return -1;
	}
	block = nb;
	memcpy(block + blocklen, line, n);
	blocklen += n;
	block[blocklen] = '\0';
	return 0;
}

/*
 * Reads the header block, through its empty line, from stdin.  Returns 0,
 * or -1 with why: a block too large to judge whole, no memory, or a read
 * error.  Nothing read is dropped without the message being deferred,
 * but for Authentication-Results fields that claim our authserv-id: RFC
 * 8601 section 5 has them removed before any check, and -m passes the
 * block on without them.  A field is held in the block until its id is
 * seen, from mark on, and cut off again if it claims ours.
 */
static int
read_block(const struct spf *s, const char **why)
{
	struct arstrip ar;
	char *line = NULL;
	size_t cap = 0, total = 0, mark = 0;
	ssize_t n;
	int v, h;

	*why = NULL;
	arstrip_init(&ar, s->hostname);
	while ((n = getline(&line, &cap, stdin)) > 0) {
		if (total == 0 && n >= 2 && line[n - 2] == '\r')
			crlf = 1;
		if ((total += (size_t)n) > HDR_BLOCK_MAX) {
			*why = "header block over 1 MiB";
			break;
		}
		v = arstrip_line(&ar, line, (size_t)n);
		if ((h = arstrip_held(&ar)) == ARSTRIP_DROP)
			cut(mark);
		if (v == ARSTRIP_HOLD && h != ARSTRIP_HOLD)
			mark = blocklen;
		if (v == ARSTRIP_DROP && line[0] != ' ' && line[0] != '\t')
			forged++;
		else if (v != ARSTRIP_DROP &&
		    append(line, (size_t)n, why) == -1)
			break;
		if (strcmp(line, "\n") == 0 || strcmp(line, "\r\n") == 0)
			break;
	}
	free(line);
	if (*why == NULL && ferror(stdin))
		*why = "read error";
	if (*why == NULL && arstrip_end(&ar) == ARSTRIP_DROP)
		cut(mark);
	if (*why == NULL && total == 0)
		*why = "no header block on stdin";
	if (forged > 0)
		log_explain(s->explain, "removed %zu Authentication-Results "
		    "field%s claiming %s", forged, forged == 1 ? "" : "s",
		    s->hostname);
	return *why == NULL ? 0 : -1;
}

/* Writes the block read and copies the rest of stdin to stdout (-m). */
void
senderid_copy_body(void)
{
	char buf[65536];
	size_t n;

	if (block != NULL)
		fwrite(block, 1, blocklen, stdout);
	while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
		fwrite(buf, 1, n, stdout);
	fflush(stdout);
}

/* A field; only those RFC 4407 reads keep a value (else NULL). */
struct field {
	char	 name[64];
	char	*value;
};

static int
wanted(const char *name)
{
	static const char *const names[] = { "resent-sender", "resent-from",
	    "sender", "from", NULL };
	size_t i;

	for (i = 0; names[i] != NULL; i++)
		if (strcasecmp(name, names[i]) == 0)
			return 1;
	return 0;
}

/*
 * Splits the block into unfolded fields.  Returns the count; a line that
 * is neither a field nor a continuation ends the block there.
 */
static size_t
split(const char *h, size_t len, struct field *f, size_t max)
{
	size_t i = 0, n = 0, e, nl, vl;
	const char *colon;

	while (i < len && n < max) {
		e = i;
		while (e < len && h[e] != '\n')
			e++;
		nl = e - i;
		if (nl > 0 && h[i + nl - 1] == '\r')
			nl--;
		if (nl == 0)
			break;
		if ((h[i] == ' ' || h[i] == '\t') && n > 0) {
			if (f[n - 1].value != NULL) {
				vl = strlen(f[n - 1].value);
				snprintf(f[n - 1].value + vl, VALUE_MAX - vl,
				    " %.*s", (int)nl, h + i);
			}
		} else {
			colon = memchr(h + i, ':', nl);
			if (colon == NULL || colon == h + i ||
			    (size_t)(colon - (h + i)) >= sizeof(f[n].name))
				break;
			snprintf(f[n].name, sizeof(f[n].name), "%.*s",
			    (int)(colon - (h + i)), h + i);
			f[n].value = wanted(f[n].name) ? malloc(VALUE_MAX) :
			    NULL;
			if (f[n].value != NULL)
				snprintf(f[n].value, VALUE_MAX, "%.*s", (int)(nl -
				    (size_t)(colon - (h + i)) - 1), colon + 1);
			n++;
		}
		i = e + 1;
	}
	return n;
}

static int
is(const struct field *f, const char *name)
{
	return strcasecmp(f->name, name) == 0;
}

static int
empty(const char *v)
{
	return v == NULL || v[strspn(v, " \t")] == '\0';
}

/*
 * Strips comments (RFC 5322 section 3.2.2) and checks that value holds
 * one mailbox with a domain name (RFC 4407 section 2, step 5); the
 * address goes in out.  0, or -1 when malformed.
 */
static int
mailbox(const char *v, char *out, size_t outlen, char *dom, size_t domlen)
{
	char buf[VALUE_MAX], *at, *lt, *gt, *a;
	size_t i, n = 0;
	int depth = 0, quote = 0;

	for (i = 0; v[i] != '\0' && n + 1 < sizeof(buf); i++) {
		if (v[i] == '\\' && v[i + 1] != '\0') {
			if (depth == 0) {
				buf[n++] = v[i];
				buf[n++] = v[i + 1];
			}
			i++;
		} else if (!quote && v[i] == '(')
			depth++;
		else if (!quote && v[i] == ')' && depth > 0)
			depth--;
		else if (depth == 0) {
			if (v[i] == '"')
				quote = !quote;
			else if (!quote && (v[i] == ',' || v[i] == ';' ||
			    v[i] == ':') && strchr(v + i, '<') == NULL)
				return -1;	/* a list or a group */
			buf[n++] = v[i];
		}
	}
	buf[n] = '\0';
	if (depth != 0 || quote)
		return -1;
	lt = strchr(buf, '<');
	if (lt != NULL) {
		if ((gt = strchr(lt, '>')) == NULL || strchr(gt + 1, '<') ||
		    !empty(gt + 1) || strchr(lt + 1, '<') != NULL)
			return -1;
		*gt = '\0';
		a = lt + 1;
		if (*a == '@' && strchr(a, ':') != NULL)	/* a route */
			a = strchr(a, ':') + 1;
	} else
		a = buf;
	a += strspn(a, " \t");
	for (i = strlen(a); i > 0 && (a[i - 1] == ' ' || a[i - 1] == '\t');)
		a[--i] = '\0';
	if ((at = strrchr(a, '@')) == NULL || at == a || at[1] == '\0')
		return -1;
	/* RFC 5322 section 3.4.1: a quoted local part may hold spaces and
	 * specials; outside the quotes none may appear. */
	if (*a == '"') {
		for (i = 1; a + i < at && a[i] != '"'; i++)
			if (a[i] == '\\' && a + i + 1 < at)
				i++;
		if (a + i + 1 != at || strpbrk(at, " \t,<>;") != NULL)
			return -1;
	} else if (strpbrk(a, " \t,<>;\"") != NULL)
		return -1;
	for (i = 1; at[i] != '\0'; i++)
		if (!isalnum((unsigned char)at[i]) && at[i] != '-' &&
		    at[i] != '.')
			return -1;	/* a literal, or no domain name */
	if (strlen(a) >= outlen || strlen(at + 1) >= domlen)
		return -1;
	strlcpy(out, a, outlen);
	strlcpy(dom, at + 1, domlen);
	return 0;
}

/* Steps 1 and 2: the Resent- blocks. -1 none found, else an index. */
static long
resent(const struct field *f, size_t n)
{
	size_t i, rs = n, rf = n;
	int between = 0;

	for (i = 0; i < n; i++)
		if (is(&f[i], "resent-sender") && !empty(f[i].value)) {
			rs = i;
			break;
		}
	for (i = 0; i < n; i++)
		if (is(&f[i], "resent-from") && !empty(f[i].value)) {
			rf = i;
			break;
		}
	if (rs < n) {
		/* Step 1: a Resent-From, then Received or Return-Path, then
		 * the Resent-Sender: that sender is of an older block. */
		if (rf < rs)
			for (i = rf + 1; i < rs; i++)
				if (is(&f[i], "received") ||
				    is(&f[i], "return-path"))
					between = 1;
		if (!between)
			return (long)rs;
	}
	return rf < n ? (long)rf : -1;
}

/* Steps 3 and 4: exactly one non-empty Sender, else one From. */
static long
single(const struct field *f, size_t n, const char *name, int *many)
{
	size_t i;
	long found = -1;

	*many = 0;
	for (i = 0; i < n; i++)
		if (is(&f[i], name) && !empty(f[i].value)) {
			if (found >= 0)
				*many = 1;
			else
				found = (long)i;
		}
	return found;
}

/*
 * Selects the Purported Responsible Address (RFC 4407 section 2).
 * 0 with p filled, or -1 with p->error saying why (step 6).
 */
int
pra_select(const char *hdrs, size_t len, struct pra *p)
{
	struct field *f;
	size_t n, i;
	long k;
	int many = 0;

	memset(p, 0, sizeof(*p));
	if ((f = calloc(HDR_FIELDS_MAX, sizeof(*f))) == NULL) {
		strlcpy(p->error, "out of memory", sizeof(p->error));
		return -1;
	}
	n = split(hdrs, len, f, HDR_FIELDS_MAX);
	if ((k = resent(f, n)) < 0 &&
	    (k = single(f, n, "sender", &many)) < 0 && !many)
		k = single(f, n, "from", &many);
	if (many)
		snprintf(p->error, sizeof(p->error), "more than one %s field",
		    k >= 0 && is(&f[k], "sender") ? "Sender" : "From");
	else if (k < 0)
		strlcpy(p->error, "no Resent-Sender, Resent-From, Sender or "
		    "From field", sizeof(p->error));
	else {
		snprintf(p->field, sizeof(p->field), "%s", f[k].name);
		for (i = 0; p->field[i] != '\0'; i++)
			p->field[i] = (char)tolower((unsigned char)p->field[i]);
		if (mailbox(f[k].value, p->addr, sizeof(p->addr), p->domain,
		    sizeof(p->domain)) == -1)
			snprintf(p->error, sizeof(p->error),
			    "malformed %s field", f[k].name);
	}
	while (n > 0)
		free(f[--n].value);
	free(f);
	return p->error[0] != '\0' ? -1 : 0;
}

/*
 * Reads the headers, selects the PRA, checks it and acts.  Returns 1 when
 * the message is to be written back (-m), else 0.
 */
int
senderid_run(struct spf *s, struct outcome *o, struct authres *ar,
    char *logres, size_t loglen)
{
	struct spf_answer a;
	struct pra p;
	char prop[96];
	const char *why;

	if (read_block(s, &why) == -1) {
		log_error("read message: %s", why);
		outcome_tempfail(o, why);
		return 0;
	}
	if (pra_select(block, blocklen, &p) == -1) {
		/* RFC 4406 section 4: no PRA is a permanent error. */
		memset(&a, 0, sizeof(a));
		a.result = R_PERMERROR;
		strlcpy(a.domain, "the message", sizeof(a.domain));
		strlcpy(a.problem, p.error, sizeof(a.problem));
		log_explain(s->explain, "pra: %s", p.error);
		authres_add(ar, "sender-id", "permerror", p.error, NULL);
	} else {
		log_explain(s->explain, "pra: %s from %s", p.addr, p.field);
		spf_check(s, SCOPE_PRA, p.domain, p.addr, &a);
		snprintf(prop, sizeof(prop), "header.%s", p.field);
		authres_add(ar, "sender-id", spf_result_names[a.result], NULL,
		    prop, p.addr, NULL);
	}
	snprintf(logres, loglen, "%s", spf_result_names[a.result]);
	spf_act(s, o, &a, "Sender ID");
	return s->msg_out;
}
