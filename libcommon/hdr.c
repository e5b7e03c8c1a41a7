#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hdr.h"
#include "log.h"

int
hdr_fold(const char *name, const char *value, char *out, size_t outlen,
    struct mgerr *e)
{
	size_t n = 0, col, i, word;

	col = (size_t)snprintf(out, outlen, "%s:", name);
	if (col >= outlen)
		goto toolong;
	n = col;
	for (i = 0; value[i] != '\0';) {
		/* A word with the whitespace run before it. */
		word = strspn(value + i, " \t");
		word += strcspn(value + i + word, " \t");
		if (n == col && i == 0 && value[0] != ' ' && value[0] != '\t') {
			/* The first word follows "Name:" after one space. */
			if (n + 1 >= outlen)
				goto toolong;
			out[n++] = ' ';
			col++;
		} else if (col + word > HDR_LINE_SOFT && col > 1 &&
		    (value[i] == ' ' || value[i] == '\t')) {
			/* Fold: the break replaces the whitespace run. */
			if (n + 2 >= outlen)
				goto toolong;
			out[n++] = '\n';
			out[n++] = '\t';
			col = 1;
			while (value[i] == ' ' || value[i] == '\t') {
				i++;
				word--;
			}
		}
		if (n + word >= outlen)
			goto toolong;
		memcpy(out + n, value + i, word);
		n += word;
		col += word;
		i += word;
	}
	out[n] = '\0';
	return 0;
toolong:
	mgerr_set(e, "%s: header field too long", name);
	return -1;
}

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

static void
put_value(struct authres *a, const char *v)
{
	char clean[LOG_FIELD_MAX + 1];

	log_sanitize(clean, sizeof(clean), v);
	/* RFC 8601 section 2.2: pvalue is a value (token or quoted) or an
	 * addr-spec / domain, which may hold '@' and '.'. */
	if (is_token(clean) || (strchr(clean, '@') != NULL &&
	    strpbrk(clean, " ;()\"") == NULL && clean[0] != '@')) {
		put(a, clean);
		return;
	}
	put(a, "\"");
	put(a, clean);
	put(a, "\"");
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
