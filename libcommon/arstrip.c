/*
 * arstrip: find forged Authentication-Results fields.  See arstrip.h.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "arstrip.h"

#define AR_NAME		"Authentication-Results"
#define AR_NAMELEN	(sizeof(AR_NAME) - 1)

/* Where the scanner is in the field body. */
enum { SC_LEAD, SC_COMMENT, SC_TOKEN, SC_QUOTED, SC_DONE };

/* Where the stream is in the message. */
enum { ST_START, ST_KEEP, ST_DROP, ST_HOLD, ST_BODY };

/* RFC 2045 section 5.1: token := 1*<any CHAR except SPACE, CTLs or
 * tspecials>.  Octets past US-ASCII count as token octets, as RFC 8601
 * section 2.2 allows a UTF-8 authserv-id (RFC 6532). */
static int
token_octet(unsigned char c)
{
	if (c >= 0x80)
		return 1;
	return c > ' ' && c < 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

static void
scan_init(struct arstrip_scan *sc)
{
	memset(sc, 0, sizeof(*sc));
	sc->st = SC_LEAD;
}

/* One octet of the id: it still matches while it equals id's next. */
static void
scan_add(struct arstrip_scan *sc, unsigned char c, const char *id,
    size_t idlen)
{
	if (sc->pos >= idlen ||
	    tolower(c) != tolower((unsigned char)id[sc->pos]))
		sc->match = 0;
	sc->pos++;
}

static void
scan_done(struct arstrip_scan *sc, size_t idlen)
{
	sc->match = sc->match && sc->pos == idlen;
	sc->st = SC_DONE;
}

/*
 * Feeds n octets of the field body.  The authserv-id is the first value
 * (RFC 8601 section 2.2), after CFWS (RFC 5322 section 3.2.2: comments
 * nest and take quoted-pairs).  A quoted-string is unfolded (CR and LF
 * left out, RFC 5322 section 3.2.4).  Returns 1 once the id is read,
 * or once ARSTRIP_HOLD_MAX octets have passed without it, which counts
 * as ours.
 */
static int
scan(struct arstrip_scan *sc, const char *p, size_t n, const char *id,
    size_t idlen)
{
	unsigned char c;
	size_t i;

	for (i = 0; i < n && sc->st != SC_DONE; i++, sc->seen++) {
		/* No honest host hides its id behind this many octets. */
		if (sc->seen == ARSTRIP_HOLD_MAX) {
			sc->match = 1;
			sc->st = SC_DONE;
			break;
		}
		c = (unsigned char)p[i];
		switch (sc->st) {
		case SC_LEAD:
			if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
				break;
			sc->match = 1;
			if (c == '(') {
				sc->depth = 1;
				sc->st = SC_COMMENT;
			} else if (c == '"')
				sc->st = SC_QUOTED;
			else if (token_octet(c)) {
				sc->st = SC_TOKEN;
				scan_add(sc, c, id, idlen);
			} else {
				sc->match = 0;
				sc->st = SC_DONE;
			}
			break;
		case SC_COMMENT:
			if (sc->esc)
				sc->esc = 0;
			else if (c == '\\')
				sc->esc = 1;
			else if (c == '(')
				sc->depth++;
			else if (c == ')' && --sc->depth == 0)
				sc->st = SC_LEAD;
			break;
		case SC_TOKEN:
			if (token_octet(c))
				scan_add(sc, c, id, idlen);
			else
				scan_done(sc, idlen);
			break;
		case SC_QUOTED:
			if (sc->esc) {
				sc->esc = 0;
				scan_add(sc, c, id, idlen);
			} else if (c == '\\')
				sc->esc = 1;
			else if (c == '"')
				scan_done(sc, idlen);
			else if (c != '\r' && c != '\n')
				scan_add(sc, c, id, idlen);
			break;
		}
	}
	return sc->st == SC_DONE;
}

/*
 * The field body ended.  A token ends there; so does a quoted-string
 * left open, read as far as it goes, since a lenient reader downstream
 * may take it for the id.  Returns 1 if the id is ours.
 */
static int
scan_end(struct arstrip_scan *sc, size_t idlen)
{
	if (sc->st == SC_TOKEN || sc->st == SC_QUOTED)
		scan_done(sc, idlen);
	return sc->st == SC_DONE && sc->match;
}

int
arstrip_field(const char *name, size_t namelen, const char *value,
    size_t valuelen, const char *id)
{
	struct arstrip_scan sc;
	size_t idlen = strlen(id);

	/* RFC 5322 section 4.5.3: obsolete syntax puts WSP before ':'. */
	while (namelen > 0 && (name[namelen - 1] == ' ' ||
	    name[namelen - 1] == '\t'))
		namelen--;
	if (namelen != AR_NAMELEN || strncasecmp(name, AR_NAME, AR_NAMELEN))
		return 0;
	scan_init(&sc);
	scan(&sc, value, valuelen, id, idlen);
	return scan_end(&sc, idlen);
}

size_t
arstrip_msg(struct msg *m, const char *id)
{
	const struct msg_field *f;
	size_t i = 0, n = 0;

	while ((f = msg_field(m, i)) != NULL) {
		if (arstrip_field(f->name, f->namelen, f->value,
		    strlen(f->value), id)) {
			msg_remove(m, i);
			n++;
		} else
			i++;
	}
	return n;
}

void
arstrip_init(struct arstrip *s, const char *id)
{
	memset(s, 0, sizeof(*s));
	s->id = id;
	s->idlen = strlen(id);
	s->st = ST_START;
	s->heldv = ARSTRIP_KEEP;
}

/*
 * Where the body of an Authentication-Results field starts in a field's
 * first line, or NULL for any other field (RFC 5322 section 3.6.8, with
 * the WSP before the colon of section 4.5.3).
 */
static const char *
ar_body(const char *line, size_t n)
{
	size_t i = AR_NAMELEN;

	if (n < AR_NAMELEN || strncasecmp(line, AR_NAME, AR_NAMELEN) != 0)
		return NULL;
	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	return i < n && line[i] == ':' ? line + i + 1 : NULL;
}

/* Feeds n octets of the held field's body; its answer so far. */
static int
feed(struct arstrip *s, const char *p, size_t n)
{
	if (!scan(&s->sc, p, n, s->id, s->idlen))
		return ARSTRIP_HOLD;
	s->st = s->sc.match ? ST_DROP : ST_KEEP;
	return s->sc.match ? ARSTRIP_DROP : ARSTRIP_KEEP;
}

int
arstrip_line(struct arstrip *s, const char *line, size_t len)
{
	const char *body;
	size_t n = len;

	if (s->st == ST_BODY) {
		s->heldv = ARSTRIP_KEEP;
		return ARSTRIP_KEEP;
	}
	if (n > 0 && line[n - 1] == '\n')
		n--;
	if (n > 0 && line[n - 1] == '\r')
		n--;
	if (n > 0 && (line[0] == ' ' || line[0] == '\t')) {
		if (s->st == ST_HOLD)
			return s->heldv = feed(s, line, len);
		s->heldv = ARSTRIP_KEEP;
		return s->st == ST_DROP ? ARSTRIP_DROP : ARSTRIP_KEEP;
	}
	/* A new field or the end of the header settles a held field. */
	s->heldv = arstrip_end(s);
	if (n == 0) {
		s->st = ST_BODY;
		return ARSTRIP_KEEP;
	}
	if ((body = ar_body(line, n)) == NULL) {
		s->st = ST_KEEP;
		return ARSTRIP_KEEP;
	}
	s->st = ST_HOLD;
	scan_init(&s->sc);
	return feed(s, body, len - (size_t)(body - line));
}

int
arstrip_held(const struct arstrip *s)
{
	return s->heldv;
}

int
arstrip_end(struct arstrip *s)
{
	int v;

	if (s->st != ST_HOLD)
		return ARSTRIP_KEEP;
	v = scan_end(&s->sc, s->idlen) ? ARSTRIP_DROP : ARSTRIP_KEEP;
	s->st = v == ARSTRIP_DROP ? ST_DROP : ST_KEEP;
	return v;
}
