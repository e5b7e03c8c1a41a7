/*
 * dktag: tag=value lists.  See dktag.h.
 */
#include <ctype.h>
#include <string.h>

#include "dktag.h"

static int
is_fws(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Trims FWS at both ends of [s, *end) in place; returns the new start. */
static char *
trim(char *s, char **end)
{
	while (s < *end && is_fws((unsigned char)*s))
		s++;
	while (*end > s && is_fws((unsigned char)(*end)[-1]))
		(*end)--;
	**end = '\0';
	return s;
}

static int
valid_name(const char *s)
{
	if (!isalpha((unsigned char)*s))
		return 0;
	for (s++; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return 0;
	return 1;
}

/* Parses one tag-spec [s, end) into t. */
static int
add_spec(struct dktags *t, char *s, char *end, struct mgerr *e)
{
	char *eq, *name, *nend, *val;
	size_t i;

	if ((eq = memchr(s, '=', (size_t)(end - s))) == NULL) {
		mgerr_set(e, "tag without a value");
		return -1;
	}
	nend = eq;
	name = trim(s, &nend);
	val = trim(eq + 1, &end);
	if (!valid_name(name)) {
		mgerr_set(e, "malformed tag name");
		return -1;
	}
	for (i = 0; i < t->n; i++)
		if (strcmp(t->name[i], name) == 0) {
			mgerr_set(e, "tag %s given twice", name);
			return -1;
		}
	if (t->n == DKTAG_MAX) {
		mgerr_set(e, "more than %d tags", DKTAG_MAX);
		return -1;
	}
	t->name[t->n] = name;
	t->val[t->n++] = val;
	return 0;
}

int
dktags_parse(struct dktags *t, const char *text, size_t len, struct mgerr *e)
{
	char *s, *semi, *end;

	t->n = 0;
	if (len > DKTAG_TEXT_MAX) {
		mgerr_set(e, "tag list longer than %d bytes", DKTAG_TEXT_MAX);
		return -1;
	}
	if (memchr(text, '\0', len) != NULL) {
		mgerr_set(e, "NUL byte in tag list");
		return -1;
	}
	memcpy(t->buf, text, len);
	t->buf[len] = '\0';
	end = t->buf + len;
	for (s = t->buf; s < end; s = semi + 1) {
		if ((semi = memchr(s, ';', (size_t)(end - s))) == NULL)
			semi = end;
		*semi = '\0';
		if (strspn(s, " \t\r\n") == (size_t)(semi - s)) {
			/* Only an empty last tag-spec is allowed. */
			if (semi == end || strspn(semi + 1, " \t\r\n") ==
			    (size_t)(end - semi - 1))
				break;
			mgerr_set(e, "empty tag");
			return -1;
		}
		if (add_spec(t, s, semi, e) == -1)
			return -1;
	}
	return 0;
}

const char *
dktag(const struct dktags *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->name[i], name) == 0)
			return t->val[i];
	return NULL;
}

long
dktag_b64(const char *val, char *out, size_t cap)
{
	size_t n = 0;

	for (; *val != '\0'; val++) {
		if (is_fws((unsigned char)*val))
			continue;
		if (!isalnum((unsigned char)*val) && *val != '+' &&
		    *val != '/' && *val != '=')
			return -1;
		if (n + 1 >= cap)
			return -1;
		out[n++] = *val;
	}
	out[n] = '\0';
	return (long)n;
}
