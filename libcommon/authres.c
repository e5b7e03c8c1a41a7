#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "authres.h"

static void
put(struct authres *a, const char *s)
{
	size_t n = strlen(s);

	if (a->len + n >= sizeof(a->buf))
		n = sizeof(a->buf) - 1 - a->len;
	memcpy(a->buf + a->len, s, n);
	a->len += n;
	a->buf[a->len] = '\0';
}

/* RFC 2045 section 5.1 token: no tspecials, no space, no controls. */
static int
is_token(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s <= ' ' || *s >= 0x7f || strchr("()<>@,;:\\\"/[]?=", *s))
			return 0;
	return 1;
}

void
authres_init(struct authres *a, const char *authserv_id)
{
	char clean[LOG_FIELD_MAX + 1];

	a->len = 0;
	a->n = 0;
	a->buf[0] = '\0';
	put(a, log_sanitize(clean, sizeof(clean), authserv_id));
}

/* A dot-atom local part "@" a domain: written bare (RFC 8601 2.2). */
static int
is_plain_addr(const char *s)
{
	const char *at = strrchr(s, '@');

	if (at == NULL || at == s || at[1] == '\0' || strchr(s, '@') != at ||
	    s[0] == '.' || at[-1] == '.' || strstr(s, "..") != NULL)
		return 0;
	for (; *s != '\0'; s++)
		if (*s <= ' ' || *s >= 0x7f || strchr("()<>,;:\\\"[]", *s))
			return 0;
	return 1;
}

/*
 * RFC 8601 section 2.2: a pvalue is a value (token or quoted-string) or
 * an addr-spec; anything else, a quoted local part included, is written
 * as a quoted-string, its quotes as quoted-pairs.
 */
static void
put_value(struct authres *a, const char *v)
{
	char q[HDR_QUOTED_MAX];

	if (strlen(v) <= LOG_FIELD_MAX && (is_token(v) || is_plain_addr(v)))
		put(a, v);
	else
		put(a, hdr_quote(q, v));
}

void
authres_add(struct authres *a, const char *method, const char *result,
    const char *reason, ...)
{
	char clean[LOG_FIELD_MAX + 1];
	const char *k, *v;
	va_list ap;

	if (a->n < 0) {
		/* Drop the "; none" written by authres_value. */
		a->len -= strlen("; none");
		a->buf[a->len] = '\0';
		a->n = 0;
	}
	put(a, "; ");
	put(a, method);
	put(a, "=");
	put(a, result);
	if (reason != NULL) {
		put(a, " (");
		/* Parentheses would end the comment early. */
		log_sanitize(clean, sizeof(clean), reason);
		for (char *p = clean; *p != '\0'; p++)
			if (*p == '(' || *p == ')')
				*p = '?';
		put(a, clean);
		put(a, ")");
	}
	va_start(ap, reason);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		if (v == NULL)
			break;
		put(a, " ");
		put(a, k);
		put(a, "=");
		put_value(a, v);
	}
	va_end(ap);
	a->n++;
}

const char *
authres_value(struct authres *a)
{
	if (a->n == 0) {
		put(a, "; none");
		a->n = -1;	/* "none" only once */
	}
	return a->buf;
}

/* 1 if the "; "-list dst holds item already. */
static int
has_item(const char *dst, const char *item, size_t len)
{
	const char *p = dst;

	while ((p = strstr(p, item)) != NULL) {
		if ((p == dst || (p >= dst + 2 && p[-2] == ';')) &&
		    (p[len] == '\0' || p[len] == ';'))
			return 1;
		p++;
	}
	return 0;
}

/* Adds the results of one unfolded field value after its authserv-id. */
static int
merge_value(char *dst, size_t cap, char *v)
{
	char *item, *next;
	int added = 0;

	if ((v = strchr(v, ';')) == NULL)
		return 0;
	for (item = v + 1; item != NULL; item = next) {
		size_t n;

		if ((next = strchr(item, ';')) != NULL)
			*next++ = '\0';
		while (*item == ' ' || *item == '\t')
			item++;
		n = strlen(item);
		while (n > 0 && (item[n - 1] == ' ' || item[n - 1] == '\t'))
			item[--n] = '\0';
		if (n == 0 || strcasecmp(item, "none") == 0 ||
		    has_item(dst, item, n))
			continue;
		if (strlen(dst) + n + 3 > cap)
			break;
		if (dst[0] != '\0')
			strlcat(dst, "; ", cap);
		strlcat(dst, item, cap);
		added++;
	}
	return added;
}

int
authres_merge(char *dst, size_t cap, const char *headers)
{
	static const char name[] = "Authentication-Results:";
	char v[AUTHRES_MERGE_MAX];
	const char *p = headers;
	int added = 0;

	while (*p != '\0') {
		size_t n = 0;

		if (strncasecmp(p, name, sizeof(name) - 1) != 0) {
			p += strcspn(p, "\n");
			if (*p == '\n')
				p++;
			continue;
		}
		/* Unfold: continuation lines join with one blank. */
		for (p += sizeof(name) - 1; *p != '\0'; p++) {
			if (*p == '\n') {
				if (p[1] != ' ' && p[1] != '\t')
					break;
				continue;
			}
			if (n + 1 < sizeof(v))
				v[n++] = *p == '\t' ? ' ' : *p;
		}
		v[n] = '\0';
		added += merge_value(dst, cap, v);
	}
	return added;
}
