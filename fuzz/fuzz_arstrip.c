/*
 * fuzz_arstrip: forged Authentication-Results fields, both forms.  The
 * input is a message; each header field is judged whole by arstrip_field
 * (its body with the line ends, as the stream sees it), and the message
 * is streamed line by line through arstrip_line as an adapter would.
 * Every line of a field must get its field's answer, every other line
 * must be kept, and nothing is held past the end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arstrip.h"

#define ID	"mx.example"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The length of the line at p (through its LF, if any). */
static size_t
line_len(const char *p, size_t n)
{
	const char *nl = memchr(p, '\n', n);

	return nl != NULL ? (size_t)(nl - p) + 1 : n;
}

/* 1 if the field starting at p (n bytes to the end) claims ID. */
static int
field_claims(const char *p, size_t n)
{
	const char *colon, *q = p;
	size_t len = line_len(p, n);

	if ((colon = memchr(p, ':', len)) == NULL)
		return 0;
	/* The field ends before the next line that is no continuation. */
	while (q + len < p + n && (q[len] == ' ' || q[len] == '\t')) {
		q += len;
		len = line_len(q, (size_t)(p + n - q));
	}
	return arstrip_field(p, (size_t)(colon - p), colon + 1,
	    (size_t)(q + len - colon - 1), ID);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	struct arstrip s;
	size_t len, bare;
	int v, h, want = ARSTRIP_KEEP, held = -1, body = 0;

	arstrip_init(&s, ID);
	for (; p < end; p += len) {
		len = line_len(p, (size_t)(end - p));
		bare = len;
		if (bare > 0 && p[bare - 1] == '\n')
			bare--;
		if (bare > 0 && p[bare - 1] == '\r')
			bare--;
		if (!body && bare == 0)
			body = 1;
		if (body)
			want = ARSTRIP_KEEP;
		else if (p[0] != ' ' && p[0] != '\t')
			want = field_claims(p, (size_t)(end - p)) ?
			    ARSTRIP_DROP : ARSTRIP_KEEP;
		v = arstrip_line(&s, p, len);
		h = arstrip_held(&s);
		/* Lines held get their field's answer, once settled. */
		if (h != ARSTRIP_HOLD) {
			if (held != -1 && h != held)
				abort();
			held = -1;
		}
		if (v == ARSTRIP_HOLD) {
			if (body)
				abort();
			held = want;
		} else if (v != want)
			abort();
	}
	v = arstrip_end(&s);
	if (held != -1 ? v != held : v != ARSTRIP_KEEP)
		abort();
	return 0;
}
