/*
 * smtp: the bounded SMTP line reader and command parsing (see smtp.h).
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "smtp.h"

void
smtp_rd_init(struct smtp_rd *r, size_t max)
{
	r->off = r->len = 0;
	r->max = (max == 0 || max > SMTP_RD_BUF) ? SMTP_RD_BUF : max;
}

/* Moves the unread bytes to the front so the free room is contiguous. */
static void
compact(struct smtp_rd *r)
{
	if (r->off == 0)
		return;
	if (r->len > 0)
		memmove(r->buf, r->buf + r->off, r->len);
	r->off = 0;
}

char *
smtp_rd_space(struct smtp_rd *r, size_t *room)
{
	compact(r);
	*room = SMTP_RD_BUF - r->len;
	return *room > 0 ? r->buf + r->len : NULL;
}

void
smtp_rd_wrote(struct smtp_rd *r, size_t n)
{
	if (n > SMTP_RD_BUF - r->off - r->len)
		n = SMTP_RD_BUF - r->off - r->len;
	r->len += n;
}

size_t
smtp_rd_feed(struct smtp_rd *r, const void *p, size_t n)
{
	size_t room;
	char *dst;

	if ((dst = smtp_rd_space(r, &room)) == NULL)
		return 0;
	if (n > room)
		n = room;
	memcpy(dst, p, n);
	r->len += n;
	return n;
}

static void
take(struct smtp_rd *r, struct smtp_line *ln, size_t len, size_t used,
    enum smtp_eol eol)
{
	ln->p = r->buf + r->off;
	ln->len = len;
	ln->eol = eol;
	ln->nul = 0;
	for (size_t i = 0; i < len; i++)
		if (ln->p[i] == '\0')
			ln->nul++;
	r->off += used;
	r->len -= used;
	if (r->len == 0)
		r->off = 0;
}

int
smtp_rd_line(struct smtp_rd *r, struct smtp_line *ln)
{
	const char *s = r->buf + r->off, *nl;
	size_t n;

	nl = memchr(s, '\n', r->len);
	if (nl != NULL) {
		n = (size_t)(nl - s);
		if (n <= r->max) {
			if (n > 0 && s[n - 1] == '\r')
				take(r, ln, n - 1, n + 1, SMTP_EOL_CRLF);
			else
				take(r, ln, n, n + 1, SMTP_EOL_LF);
			return 1;
		}
	} else if (r->len < r->max)
		return 0;
	/* A piece of an overlong line; a CR stays with its LF. */
	n = r->max;
	if (n > 1 && s[n - 1] == '\r')
		n--;
	take(r, ln, n, n, SMTP_EOL_NONE);
	return 1;
}

size_t
smtp_rd_pending(const struct smtp_rd *r)
{
	return r->len;
}

void
smtp_rd_discard(struct smtp_rd *r)
{
	r->off = r->len = 0;
}

int
smtp_verb(const char *line, char *verb, size_t verblen, const char **arg)
{
	size_t n = 0;

	while (*line == ' ')
		line++;
	while (*line != '\0' && *line != ' ') {
		if (n + 1 >= verblen)
			return -1;
		verb[n++] = (char)toupper((unsigned char)*line++);
	}
	verb[n] = '\0';
	while (*line == ' ')
		line++;
	*arg = line;
	return n == 0 ? -1 : 0;
}

/*
 * RFC 5321 section 4.1.2: the path is "<...>"; many clients omit the
 * brackets or put a blank after the colon, which qmail-smtpd accepts,
 * so this does too.  A quoted local part may hold '>' and blanks.
 */
int
smtp_path_arg(const char *arg, const char *kw, char *path, size_t pathlen,
    const char **params)
{
	size_t kl = strlen(kw), n = 0;
	int quoted = 0, angle;
	const char *p;

	path[0] = '\0';
	if (strncasecmp(arg, kw, kl) != 0)
		return -1;
	p = arg + kl;
	while (*p == ' ')
		p++;
	angle = *p == '<';
	for (; *p != '\0'; p++) {
		if (*p == '"' && (n == 0 || p[-1] != '\\'))
			quoted = !quoted;
		if (!quoted && ((angle && *p == '>') ||
		    (!angle && *p == ' ')))
			break;
		if (n + 2 >= pathlen)
			return -1;
		path[n++] = *p;
	}
	if (angle) {
		if (*p != '>')
			return -1;
		path[n++] = *p++;
	}
	path[n] = '\0';
	if (*p != '\0' && *p != ' ')
		return -1;
	while (*p == ' ')
		p++;
	*params = p;
	return 0;
}

int
smtp_param(const char *params, const char *name, char *val, size_t vallen)
{
	size_t nl = strlen(name), n;
	const char *p = params;

	while (*p != '\0') {
		while (*p == ' ')
			p++;
		n = strcspn(p, " ");
		if (n > nl && strncasecmp(p, name, nl) == 0 && p[nl] == '=') {
			size_t vl = n - nl - 1;

			if (vl >= vallen)
				vl = vallen - 1;
			memcpy(val, p + nl + 1, vl);
			val[vl] = '\0';
			return 1;
		}
		if (n == nl && strncasecmp(p, name, nl) == 0) {
			val[0] = '\0';
			return 1;
		}
		p += n;
	}
	return 0;
}

int
smtp_reply_code(const char *line, size_t len, int *more)
{
	int code;

	if (len < 3 || !isdigit((unsigned char)line[0]) ||
	    !isdigit((unsigned char)line[1]) ||
	    !isdigit((unsigned char)line[2]))
		return -1;
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (code < 200 || code > 599)
		return -1;
	if (len > 3 && line[3] != ' ' && line[3] != '-')
		return -1;
	*more = len > 3 && line[3] == '-';
	return code;
}
