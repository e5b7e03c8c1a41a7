/*
 * arstrip_buf: the streaming form of arstrip with its hold buffer
 * (arstrip.h).
 */
#include <string.h>

#include "arstrip.h"

void
arstrip_buf_init(struct arstrip_buf *b, const char *id)
{
	memset(b, 0, sizeof(*b));
	arstrip_init(&b->s, id);
	b->cur = ARSTRIP_KEEP;
}

/* Passes the held lines on (keep) or forgets them. */
static int
settle(struct arstrip_buf *b, int keep, arstrip_emit_fn *emit, void *arg)
{
	const char *p = b->hold, *end = b->hold + b->len, *nl;
	int rc = 0;

	if (b->len == 0)
		return 0;
	if (!keep)
		b->dropped++;
	while (keep && rc == 0 && p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		rc = emit(arg, p, (size_t)((nl != NULL ? nl : end) - p),
		    nl != NULL);
		p = nl != NULL ? nl + 1 : end;
	}
	b->len = 0;
	return rc;
}

static int
hold(struct arstrip_buf *b, const char *p, size_t n, int eol)
{
	if (b->len + n + 1 > sizeof(b->hold))
		return -1;
	memcpy(b->hold + b->len, p, n);
	b->len += n;
	if (eol)
		b->hold[b->len++] = '\n';
	return 0;
}

/* Judges the line in b->line (eol: it is whole) and passes it on. */
static int
judge(struct arstrip_buf *b, int eol, arstrip_emit_fn *emit, void *arg)
{
	const char *p = b->line;
	size_t n = b->llen;
	int v, held, cont = n > 0 && (p[0] == ' ' || p[0] == '\t');

	v = arstrip_line(&b->s, p, n);
	held = arstrip_held(&b->s);
	if (held != ARSTRIP_HOLD &&
	    settle(b, held == ARSTRIP_KEEP, emit, arg) == -1)
		return -1;
	if (!cont)
		b->force = 0;
	if (b->force)
		v = ARSTRIP_DROP;
	else if (v == ARSTRIP_DROP && !cont)
		b->dropped++;
	if (v == ARSTRIP_HOLD && (!eol || hold(b, p, n, eol) == -1)) {
		/* Too long to judge: ours, with the rest of its field. */
		b->len = 0;
		b->dropped++;
		b->force = 1;
		v = ARSTRIP_DROP;
	}
	/* RFC 5322 section 2.1: the empty line ends the header. */
	if (eol && (n == 0 || (n == 1 && p[0] == '\r')))
		b->body = 1;
	b->judged = 1;
	b->cur = v;
	b->llen = 0;
	return v == ARSTRIP_KEEP ? emit(arg, p, n, eol) : 0;
}

int
arstrip_buf_line(struct arstrip_buf *b, const char *p, size_t n, int eol,
    arstrip_emit_fn *emit, void *arg)
{
	int rc = 0;

	if (b->body)
		return emit(arg, p, n, eol);
	if (b->in_line && b->judged) {
		/* The rest of a line judged on its head. */
		b->in_line = !eol;
		return b->cur == ARSTRIP_KEEP ? emit(arg, p, n, eol) : 0;
	}
	if (!b->in_line) {
		b->llen = 0;
		b->judged = 0;
	}
	if (b->llen + n > sizeof(b->line)) {
		/* Judge the head; this piece follows its answer. */
		if (judge(b, 0, emit, arg) == -1)
			return -1;
		b->in_line = !eol;
		return b->cur == ARSTRIP_KEEP ? emit(arg, p, n, eol) : 0;
	}
	memcpy(b->line + b->llen, p, n);
	b->llen += n;
	b->in_line = !eol;
	if (eol)
		rc = judge(b, 1, emit, arg);
	return rc;
}

int
arstrip_buf_end(struct arstrip_buf *b, arstrip_emit_fn *emit, void *arg)
{
	/* A last line with no line end is judged as it is. */
	if (!b->body && b->in_line && !b->judged &&
	    judge(b, 1, emit, arg) == -1)
		return -1;
	return settle(b, arstrip_end(&b->s) == ARSTRIP_KEEP, emit, arg);
}
