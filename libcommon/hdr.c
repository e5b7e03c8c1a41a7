#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hdr.h"
#include "log.h"

/*
 * The length of the word at w: up to whitespace outside a quoted-string
 * (RFC 5322 section 3.2.4), so a fold never lands between the quotes.
 */
static size_t
word_len(const char *w)
{
	size_t n;
	int q = 0;

	for (n = 0; w[n] != '\0'; n++) {
		if (w[n] == '"')
			q = !q;
		else if (q && w[n] == '\\' && w[n + 1] != '\0')
			n++;
		else if (!q && (w[n] == ' ' || w[n] == '\t'))
			break;
	}
	return n;
}

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
		word += word_len(value + i + word);
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

char *
hdr_quote(char *dst, const char *src)
{
	size_t i, n = 0;
	unsigned char c;

	dst[n++] = '"';
	for (i = 0; src != NULL && src[i] != '\0'; i++) {
		if (i == LOG_FIELD_MAX) {
			memcpy(dst + n, "...", 3);
			n += 3;
			break;
		}
		c = (unsigned char)src[i];
		if (c == '"' || c == '\\')
			dst[n++] = '\\';
		dst[n++] = (c < 0x20 || c > 0x7e) ? '?' : (char)c;
	}
	dst[n++] = '"';
	dst[n] = '\0';
	return dst;
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
