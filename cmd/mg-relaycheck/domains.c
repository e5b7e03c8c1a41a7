/*
 * The list files of mg-relaycheck: local domains in qmail's rcpthosts
 * format, relay clients as CIDRs, and the IP shield.  Every malformed
 * line fails the whole file with "FILE:LINE: reason", so a typo can
 * never widen what may relay.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay.h"

#define LINE_MAX_LEN	4096
/* RFC 1035 section 2.3.4: 255 octets on the wire, 253 as text. */
#define DOMAIN_TEXT_MAX	253

/* Strips a comment (at the start or after a blank), CR/LF and blanks. */
static char *
clean_line(char *line)
{
	char *p, *end;

	line[strcspn(line, "\r\n")] = '\0';
	for (p = line; *p != '\0'; p++)
		if (*p == '#' && (p == line || isspace((unsigned char)p[-1]))) {
			*p = '\0';
			break;
		}
	while (isspace((unsigned char)*line))
		line++;
	end = line + strlen(line);
	while (end > line && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return line;
}

/* Calls fn for each non-empty line of path. */
static int
each_line(const char *path, int (*fn)(void *, char *, struct mgerr *),
    void *arg, struct mgerr *e)
{
	FILE *fp;
	char buf[LINE_MAX_LEN];
	unsigned long lineno = 0;
	int rc = 0;

	if ((fp = fopen(path, "r")) == NULL) {
		mgerr_set(e, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (rc == 0 && fgets(buf, sizeof(buf), fp) != NULL) {
		char *line;

		lineno++;
		if (strchr(buf, '\n') == NULL && !feof(fp)) {
			mgerr_set(e, "line too long");
			rc = -1;
			break;
		}
		line = clean_line(buf);
		if (*line != '\0')
			rc = fn(arg, line, e);
	}
	if (rc == 0 && ferror(fp)) {
		mgerr_set(e, "read error");
		rc = -1;
	}
	fclose(fp);
	if (rc == -1)
		mgerr_at(e, path, lineno);
	return rc;
}

int
domain_valid(const char *dom)
{
	const char *p;
	size_t label = 0;

	if (*dom == '\0' || strlen(dom) > DOMAIN_TEXT_MAX)
		return 0;
	for (p = dom; *p != '\0'; p++) {
		if (*p == '.') {
			if (label == 0)
				return 0;
			label = 0;
		} else if (isalnum((unsigned char)*p) || *p == '-' ||
		    *p == '_') {
			/* RFC 1035 section 2.3.4: labels of 63 octets. */
			if (++label > 63)
				return 0;
		} else
			return 0;
	}
	return label > 0;
}

static int
domset_add(void *arg, char *line, struct mgerr *e)
{
	struct domset *d = arg;
	char *p, *copy;

	for (p = line; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	if (!domain_valid(line[0] == '.' ? line + 1 : line)) {
		mgerr_set(e, "%s: not a domain (write IDNs as xn-- A-labels)",
		    line);
		return -1;
	}
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		char **nv = reallocarray(d->v, cap, sizeof(*nv));

		if (nv == NULL) {
			mgerr_set(e, "out of memory");
			return -1;
		}
		d->v = nv;
		d->cap = cap;
	}
	if ((copy = strdup(line)) == NULL) {
		mgerr_set(e, "out of memory");
		return -1;
	}
	d->v[d->n++] = copy;
	return 0;
}

int
domset_load(struct domset *d, const char *path, struct mgerr *e)
{
	return each_line(path, domset_add, d, e);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
domset_sort(struct domset *d)
{
	if (d->n > 1)
		qsort(d->v, d->n, sizeof(*d->v), cmp_str);
}

static int
domset_has(const struct domset *d, const char *key)
{
	return d->n > 0 && bsearch(&key, d->v, d->n, sizeof(*d->v),
	    cmp_str) != NULL;
}

int
domset_match(const struct domset *d, const char *dom)
{
	const char *p;

	if (domset_has(d, dom))
		return 1;
	/* qmail-smtpd's addrallowed: ".parent" covers every subdomain. */
	for (p = dom; (p = strchr(p, '.')) != NULL; p++)
		if (domset_has(d, p))
			return 1;
	return 0;
}

static int
cidrtab_add(struct cidrtab *t, const char *text, struct mgerr *e)
{
	struct cidr c;

	if (cidr_parse(text, &c, e) == -1)
		return -1;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct cidr *nv = reallocarray(t->v, cap, sizeof(*nv));

		if (nv == NULL) {
			mgerr_set(e, "out of memory");
			return -1;
		}
		t->v = nv;
		t->cap = cap;
	}
	t->v[t->n++] = c;
	return 0;
}

static int
cidrtab_line(void *arg, char *line, struct mgerr *e)
{
	if (strpbrk(line, " \t") != NULL) {
		mgerr_set(e, "%s: one address or CIDR a line", line);
		return -1;
	}
	return cidrtab_add(arg, line, e);
}

int
cidrtab_load(struct cidrtab *t, const char *path, struct mgerr *e)
{
	return each_line(path, cidrtab_line, t, e);
}

int
cidrtab_match(const struct cidrtab *t, const struct ipaddr *ip)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (cidr_contains(&t->v[i], ip))
			return 1;
	return 0;
}

/* Finds or makes the entry for dom. */
static struct shield *
shield_entry(struct shieldtab *t, const char *dom, struct mgerr *e)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->v[i].domain, dom) == 0)
			return &t->v[i];
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct shield *nv = reallocarray(t->v, cap, sizeof(*nv));

		if (nv == NULL) {
			mgerr_set(e, "out of memory");
			return NULL;
		}
		t->v = nv;
		t->cap = cap;
	}
	memset(&t->v[t->n], 0, sizeof(t->v[t->n]));
	strlcpy(t->v[t->n].domain, dom, sizeof(t->v[t->n].domain));
	return &t->v[t->n++];
}

/* "domain range..." where domain is a name, ".parent" or @local. */
static int
shield_line(void *arg, char *line, struct mgerr *e)
{
	struct shield *s;
	char *dom, *tok, *save = NULL, *p;
	int n = 0;

	dom = strtok_r(line, " \t", &save);
	for (p = dom; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	if (strcmp(dom, SHIELD_LOCAL) != 0 &&
	    !domain_valid(dom[0] == '.' ? dom + 1 : dom)) {
		mgerr_set(e, "%s: not a domain or %s", dom, SHIELD_LOCAL);
		return -1;
	}
	if ((s = shield_entry(arg, dom, e)) == NULL)
		return -1;
	while ((tok = strtok_r(NULL, " \t", &save)) != NULL) {
		if (cidrtab_add(&s->ranges, tok, e) == -1)
			return -1;
		n++;
	}
	if (n == 0) {
		mgerr_set(e, "%s: no address range", dom);
		return -1;
	}
	return 0;
}

int
shield_load(struct shieldtab *t, const char *path, struct mgerr *e)
{
	return each_line(path, shield_line, t, e);
}

static const struct cidrtab *
shield_get(const struct shieldtab *t, const char *key)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->v[i].domain, key) == 0)
			return &t->v[i].ranges;
	return NULL;
}

/*
 * The most specific entry wins: the exact domain, then ".parent" from
 * the nearest parent up, then the @local macro for a local domain.
 */
const struct cidrtab *
shield_find(const struct shieldtab *t, const struct domset *local,
    const char *dom)
{
	const struct cidrtab *c;
	const char *p;

	if ((c = shield_get(t, dom)) != NULL)
		return c;
	for (p = dom; (p = strchr(p, '.')) != NULL; p++)
		if ((c = shield_get(t, p)) != NULL)
			return c;
	if (domset_match(local, dom))
		return shield_get(t, SHIELD_LOCAL);
	return NULL;
}
