/*
 * fields: collecting the header fields that a session's steps print,
 * for both adapters.
 */
#include <string.h>

#include "fields.h"

/* 1 if the field f (n bytes, with its continuation lines) is in buf. */
static int
has_field(const char *buf, const char *f, size_t n)
{
	const char *p = buf;

	if (buf == NULL)
		return 0;
	while ((p = strstr(p, f)) != NULL) {
		if ((p == buf || p[-1] == '\n') && strncmp(p, f, n) == 0 &&
		    (p[n] == '\0' || (p[n] != ' ' && p[n] != '\t')))
			return 1;
		p++;
	}
	return 0;
}

int
fields_merge(char *buf, size_t cap, const char *also, const char *fields)
{
	const char *p = fields, *q;
	size_t n, len = strlen(buf);
	char f[FIELDS_MAX];
	int dropped = 0;

	while (*p != '\0') {
		for (q = p; (q = strchr(q, '\n')) != NULL && (q[1] == ' ' ||
		    q[1] == '\t'); q++)
			;
		n = q != NULL ? (size_t)(q - p) + 1 : strlen(p);
		if (n >= sizeof(f))
			n = sizeof(f) - 1;
		memcpy(f, p, n);
		f[n] = '\0';
		p += n;
		if (has_field(buf, f, n) || has_field(also, f, n))
			continue;
		if (len + n + 1 > cap) {
			dropped++;
			continue;
		}
		memcpy(buf + len, f, n + 1);
		len += n;
	}
	return dropped;
}
