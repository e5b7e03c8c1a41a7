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
