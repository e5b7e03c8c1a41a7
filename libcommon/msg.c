/*
 * msg: read a message, keep its header, stream its body.  See msg.h.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"
#include "msg.h"
#include "spool.h"

struct fld {
	size_t	name, namelen, raw, rawlen, value;
};

struct msg {
	int		 fd, flags;
	struct msg_limits lim;
	int		 crlf, has_body;
	unsigned long	 lineno;

	/* The header: an arena of "name\0raw\0value\0" per field. */
	char		*h;
	size_t		 hlen, hcap;
	struct fld	*f;
	size_t		 nf, fcap;
	struct msg_field *pub;

	/* Input. */
	char		*ibuf;
	size_t		 ipos, ilen;
	int		 eof;
	char		*line;	/* one header line being assembled */
	size_t		 linelen;

	/* Body. */
	char		*obuf;	/* LF made CRLF */
	int		 prev_cr, started;
	uint64_t	 body_size;
	int		 seekable;
	off_t		 body_off;
	char		*mem;	/* kept body, first spool_mem bytes */
	size_t		 memlen;
	int		 spoolfd;
	int		 replay;	/* reading the kept copy */
	size_t		 mempos;

	/* A large body in a regular file is mapped, not read: no copy. */
	char		*map;
	size_t		 maplen, mappos, mapstart;
};

static const struct msg_limits defaults = {
	MSG_FIELD_MAX, MSG_FIELDS_MAX, MSG_HEADER_MAX, MSG_SPOOL_MEM
};

static ssize_t
read_some(int fd, char *buf, size_t cap, struct mgerr *e)
{
	ssize_t n;

	do
		n = read(fd, buf, cap);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		mgerr_temp(e, "read message: %s", strerror(errno));
	return n;
}

/* Refills the input buffer.  1 with data, 0 at the end, -1 on error. */
static int
fill(struct msg *m, struct mgerr *e)
{
	ssize_t n;

	if (m->eof)
		return 0;
	if ((n = read_some(m->fd, m->ibuf, MSG_BLOCK, e)) == -1)
		return -1;
	m->ipos = 0;
	m->ilen = (size_t)n;
	if (n == 0)
		m->eof = 1;
	return n > 0;
}

/*
 * Reads one line into m->line without its ending; *eol is 2 for CRLF,
 * 1 for LF, 0 for none (the input ended).  1, 0 at the end, -1 on error.
 */
static int
get_line(struct msg *m, int *eol, struct mgerr *e)
{
	char *nl;
	size_t n;
	int r;

	m->linelen = 0;
	*eol = 0;
	for (;;) {
		if (m->ipos == m->ilen) {
			if ((r = fill(m, e)) == -1)
				return -1;
			if (r == 0)
				return m->linelen > 0;
		}
		nl = memchr(m->ibuf + m->ipos, '\n', m->ilen - m->ipos);
		n = nl ? (size_t)(nl - (m->ibuf + m->ipos)) : m->ilen - m->ipos;
		if (m->linelen + n > m->lim.field_max) {
			mgerr_set(e, "line %lu: header line longer than %zu "
			    "bytes", m->lineno, m->lim.field_max);
			return -1;
		}
		memcpy(m->line + m->linelen, m->ibuf + m->ipos, n);
		m->linelen += n;
		m->ipos += n;
		if (nl != NULL) {
			m->ipos++;
			*eol = 1;
			if (m->linelen > 0 && m->line[m->linelen - 1] == '\r') {
				m->linelen--;
				*eol = 2;
			}
			return 1;
		}
	}
}

static int
arena_add(struct msg *m, const char *p, size_t n, struct mgerr *e)
{
	size_t cap;
	char *nh;

	if (m->hlen + n > m->lim.header_max * 2 + 1024) {
		mgerr_set(e, "header section larger than %zu bytes",
		    m->lim.header_max);
		return -1;
	}
	if (m->hlen + n > m->hcap) {
		cap = m->hcap ? m->hcap : 4096;
		while (cap < m->hlen + n)
			cap *= 2;
		if ((nh = realloc(m->h, cap)) == NULL) {
			mgerr_temp(e, "out of memory");
			return -1;
		}
		m->h = nh;
		m->hcap = cap;
	}
	memcpy(m->h + m->hlen, p, n);
	m->hlen += n;
	return 0;
}

/* RFC 5322 section 3.6.8: field-name = 1*ftext, %d33-57 / %d59-126;
 * obsolete syntax (section 4.5) allows WSP before the colon. */
static size_t
field_name_len(const char *p, size_t n)
{
	size_t i, end;

	for (i = 0; i < n && p[i] >= 33 && p[i] <= 126 && p[i] != ':'; i++)
		;
	end = i;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (end == 0 || i == n || p[i] != ':')
		return 0;
	return end;
}

/* Starts a new field from the line in m->line. */
static int
field_start(struct msg *m, struct mgerr *e)
{
	struct fld *nf;
	size_t nl;

	if ((nl = field_name_len(m->line, m->linelen)) == 0) {
		mgerr_set(e, "line %lu: not a header field (no blank line "
		    "between header and body?)", m->lineno);
		return -1;
	}
	if (m->nf == m->lim.fields_max) {
		mgerr_set(e, "more than %zu header fields", m->lim.fields_max);
		return -1;
	}
	if (m->nf == m->fcap) {
		m->fcap = m->fcap ? m->fcap * 2 : 32;
		if ((nf = reallocarray(m->f, m->fcap, sizeof(*nf))) == NULL) {
			mgerr_temp(e, "out of memory");
			return -1;
		}
		m->f = nf;
	}
	nf = &m->f[m->nf++];
	nf->name = m->hlen;
	nf->namelen = nl;
	nf->value = 0;
	if (arena_add(m, m->line, nl, e) == -1 || arena_add(m, "", 1, e) == -1)
		return -1;
	nf->raw = m->hlen;
	nf->rawlen = m->linelen;
	return arena_add(m, m->line, m->linelen, e);
}

static int
field_continue(struct msg *m, struct mgerr *e)
{
	struct fld *f;

	if (m->nf == 0) {
		mgerr_set(e, "line %lu: continuation line before the first "
		    "header field", m->lineno);
		return -1;
	}
	f = &m->f[m->nf - 1];
	if (f->rawlen + 2 + m->linelen > m->lim.field_max) {
		/* The name is the client's text: control bytes replaced and
		 * its length capped before it reaches a log line. */
		char name[65], clean[65];
		size_t n = f->namelen < sizeof(name) - 1 ? f->namelen :
		    sizeof(name) - 1;

		memcpy(name, m->h + f->name, n);
		name[n] = '\0';
		mgerr_set(e, "line %lu: header field %s longer than %zu "
		    "bytes", m->lineno, log_sanitize(clean, sizeof(clean), name),
		    m->lim.field_max);
		return -1;
	}
	f->rawlen += 2 + m->linelen;
	if (arena_add(m, "\r\n", 2, e) == -1)
		return -1;
	return arena_add(m, m->line, m->linelen, e);
}

/* Ends the last field: NUL after raw, then the unfolded value. */
static int
field_end(struct msg *m, struct mgerr *e)
{
	struct fld *f;
	size_t i, start, end;
	char c;

	if (m->nf == 0 || m->f[m->nf - 1].value != 0)
		return 0;
	f = &m->f[m->nf - 1];
	if (arena_add(m, "", 1, e) == -1)
		return -1;
	f->value = m->hlen;
	start = f->raw + (size_t)((char *)memchr(m->h + f->raw, ':',
	    f->rawlen) - (m->h + f->raw)) + 1;
	end = f->raw + f->rawlen;
	while (start < end && (m->h[start] == ' ' || m->h[start] == '\t' ||
	    m->h[start] == '\r' || m->h[start] == '\n'))
		start++;
	for (i = start; i < end; i++) {
		c = m->h[i];
		if (c == '\r' && i + 1 < end && m->h[i + 1] == '\n') {
			i++;
			continue;
		}
		if (arena_add(m, &c, 1, e) == -1)
			return -1;
	}
	return arena_add(m, "", 1, e);
}

static int
header_line(struct msg *m, int eol, struct mgerr *e)
{
	if (memchr(m->line, '\0', m->linelen) != NULL) {
		mgerr_set(e, "line %lu: NUL byte in the header", m->lineno);
		return -1;
	}
	if (m->lineno == 1)
		m->crlf = eol == 2;
	if (m->line[0] == ' ' || m->line[0] == '\t')
		return field_continue(m, e);
	if (field_end(m, e) == -1)
		return -1;
	return field_start(m, e);
}

static int
read_header(struct msg *m, struct mgerr *e)
{
	int eol, r;

	for (;;) {
		m->lineno++;
		if ((r = get_line(m, &eol, e)) == -1)
			return -1;
		if (r == 0)
			break;
		if (m->linelen == 0 && eol != 0) {
			if (m->lineno == 1)
				m->crlf = eol == 2;
			m->has_body = 1;
			break;
		}
		if (header_line(m, eol, e) == -1)
			return -1;
		if (m->hlen > m->lim.header_max) {
			mgerr_set(e, "header section larger than %zu bytes",
			    m->lim.header_max);
			return -1;
		}
	}
	return field_end(m, e);
}

static int
publish(struct msg *m, struct mgerr *e)
{
	size_t i;

	if ((m->pub = calloc(m->nf + 1, sizeof(*m->pub))) == NULL) {
		mgerr_temp(e, "out of memory");
		return -1;
	}
	for (i = 0; i < m->nf; i++) {
		m->pub[i].name = m->h + m->f[i].name;
		m->pub[i].namelen = m->f[i].namelen;
		m->pub[i].raw = m->h + m->f[i].raw;
		m->pub[i].rawlen = m->f[i].rawlen;
		m->pub[i].value = m->h + m->f[i].value;
	}
	return 0;
}

/* Where the body starts in a regular file, for rewinding by seeking. */
static void
note_body_start(struct msg *m)
{
	struct stat st;
	off_t here;

	if (fstat(m->fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (here = lseek(m->fd, 0, SEEK_CUR)) != -1) {
		m->seekable = 1;
		m->body_off = here - (off_t)(m->ilen - m->ipos);
	}
}

/* Linux fills the page table at once, cheaper than a fault per page. */
#ifdef MAP_POPULATE
#define MAP_POP	MAP_POPULATE
#else
#define MAP_POP	0
#endif

/*
 * Maps a regular file whose body is larger than a block, so the body is
 * streamed from the page cache without a copy (and rewound for free).
 * The file must not shrink meanwhile, as no queue file does.
 */
static void
map_body(struct msg *m)
{
	struct stat st;
	off_t here, body;
	void *p;

	if (fstat(m->fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (uintmax_t)st.st_size > SIZE_MAX ||
	    (here = lseek(m->fd, 0, SEEK_CUR)) == -1)
		return;
	body = here - (off_t)(m->ilen - m->ipos);
	if (body < 0 || st.st_size - body <= MSG_BLOCK)
		return;
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POP,
	    m->fd, 0);
	if (p == MAP_FAILED)
		return;
	(void)madvise(p, (size_t)st.st_size, MADV_SEQUENTIAL);
	m->map = p;
	m->maplen = (size_t)st.st_size;
	m->mappos = m->mapstart = (size_t)body;
}

struct msg *
msg_read(int fd, const struct msg_limits *lim, int flags, struct mgerr *e)
{
	struct msg *m;

	if ((m = calloc(1, sizeof(*m))) == NULL) {
		mgerr_temp(e, "out of memory");
		return NULL;
	}
	m->fd = fd;
	m->flags = flags;
	m->lim = lim != NULL ? *lim : defaults;
	m->spoolfd = -1;
	if ((m->ibuf = malloc(MSG_BLOCK)) == NULL ||
	    (m->line = malloc(m->lim.field_max + 1)) == NULL) {
		mgerr_temp(e, "out of memory");
		goto fail;
	}
	if (read_header(m, e) == -1 || publish(m, e) == -1)
		goto fail;
	free(m->line);
	m->line = NULL;
	if (m->has_body)
		map_body(m);
	if ((flags & MSG_KEEP) && m->map == NULL)
		note_body_start(m);
	return m;
fail:
	msg_free(m);
	return NULL;
}

void
msg_free(struct msg *m)
{
	if (m == NULL)
		return;
	if (m->spoolfd != -1)
		close(m->spoolfd);
	if (m->map != NULL)
		munmap(m->map, m->maplen);
	free(m->h);
	free(m->f);
	free(m->pub);
	free(m->ibuf);
	free(m->line);
	free(m->obuf);
	free(m->mem);
	free(m);
}

int
msg_crlf(const struct msg *m)
{
	return m->crlf;
}

int
msg_has_body(const struct msg *m)
{
	return m->has_body;
}

size_t
msg_nfields(const struct msg *m)
{
	return m->nf;
}

const struct msg_field *
msg_field(const struct msg *m, size_t i)
{
	return i < m->nf ? &m->pub[i] : NULL;
}

long
msg_find(const struct msg *m, const char *name, size_t from)
{
	size_t i;

	for (i = from; i < m->nf; i++)
		if (strcasecmp(m->pub[i].name, name) == 0)
			return (long)i;
	return -1;
}

void
msg_remove(struct msg *m, size_t i)
{
	if (i >= m->nf)
		return;
	memmove(&m->f[i], &m->f[i + 1], (m->nf - i - 1) * sizeof(*m->f));
	/* pub has one more entry, all zero, after the last field. */
	memmove(&m->pub[i], &m->pub[i + 1], (m->nf - i) * sizeof(*m->pub));
	m->nf--;
}

uint64_t
msg_body_size(const struct msg *m)
{
	return m->body_size;
}


/* --- the body ---------------------------------------------------------- */

static int
write_all(int fd, const char *p, size_t n, struct mgerr *e)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			mgerr_temp(e, "write: %s", strerror(errno));
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
open_spool(struct msg *m, struct mgerr *e)
{
	struct mgerr se;

	if ((m->spoolfd = spool_fd("mg-msg", &se)) == -1) {
		mgerr_temp(e, "spool message in %s", se.msg);
		return -1;
	}
	return 0;
}

/* Keeps a copy of what was read for a later rewind, when asked to. */
static int
spool(struct msg *m, const char *p, size_t n, struct mgerr *e)
{
	size_t k, cap;
	char *nm;

	if (!(m->flags & MSG_KEEP) || m->seekable)
		return 0;
	if (m->spoolfd == -1 && m->memlen < m->lim.spool_mem) {
		k = m->lim.spool_mem - m->memlen;
		k = n < k ? n : k;
		cap = m->memlen + k;
		if ((nm = realloc(m->mem, cap)) == NULL) {
			mgerr_temp(e, "out of memory");
			return -1;
		}
		m->mem = nm;
		memcpy(m->mem + m->memlen, p, k);
		m->memlen += k;
		p += k;
		n -= k;
	}
	if (n == 0)
		return 0;
	if (m->spoolfd == -1 && open_spool(m, e) == -1)
		return -1;
	return write_all(m->spoolfd, p, n, e);
}

/* The next block of raw body bytes: its length, 0 at the end, -1. */
static ssize_t
raw_next(struct msg *m, const char **p, struct mgerr *e)
{
	size_t n;
	int r;

	if (m->map != NULL) {
		n = m->maplen - m->mappos;
		n = n < MSG_BLOCK ? n : MSG_BLOCK;
		*p = m->map + m->mappos;
		m->mappos += n;
		return (ssize_t)n;
	}
	if (m->replay) {
		if (m->mempos < m->memlen) {
			n = m->memlen - m->mempos;
			n = n < MSG_BLOCK ? n : MSG_BLOCK;
			*p = m->mem + m->mempos;
			m->mempos += n;
			return (ssize_t)n;
		}
		if (m->spoolfd == -1)
			return 0;
		*p = m->ibuf;
		return read_some(m->spoolfd, m->ibuf, MSG_BLOCK, e);
	}
	if (m->ipos == m->ilen && (r = fill(m, e)) <= 0)
		return r;
	*p = m->ibuf + m->ipos;
	n = m->ilen - m->ipos;
	m->ipos = m->ilen;
	if (spool(m, *p, n, e) == -1)
		return -1;
	return (ssize_t)n;
}

/* The byte before nl: from this block, else the last block's end. */
static int
before(const char *raw, const char *nl, int prev_cr)
{
	return nl > raw ? nl[-1] : (prev_cr ? '\r' : 0);
}

/* Makes each LF not preceded by CR a CRLF, into m->obuf when needed. */
static const char *
to_crlf(struct msg *m, const char *raw, size_t *n, int prev_cr)
{
	const char *q = raw, *end = raw + *n, *nl;
	char *o;

	for (nl = raw; (nl = memchr(nl, '\n', (size_t)(end - nl))) != NULL;
	    nl++)
		if (before(raw, nl, prev_cr) != '\r')
			break;
	if (nl == NULL)
		return raw;
	if (m->obuf == NULL && (m->obuf = malloc(MSG_BLOCK * 2)) == NULL)
		return NULL;
	o = m->obuf;
	while ((nl = memchr(q, '\n', (size_t)(end - q))) != NULL) {
		memcpy(o, q, (size_t)(nl - q));
		o += nl - q;
		if (before(raw, nl, prev_cr) != '\r')
			*o++ = '\r';
		*o++ = '\n';
		q = nl + 1;
	}
	memcpy(o, q, (size_t)(end - q));
	o += end - q;
	*n = (size_t)(o - m->obuf);
	return m->obuf;
}

ssize_t
msg_body_next(struct msg *m, int crlf, const char **p, struct mgerr *e)
{
	const char *raw;
	ssize_t r;
	size_t n;
	int prev = m->prev_cr;

	if ((r = raw_next(m, &raw, e)) <= 0)
		return r;
	m->started = 1;
	m->body_size += (uint64_t)r;
	n = (size_t)r;
	m->prev_cr = raw[n - 1] == '\r';
	if (!crlf) {
		*p = raw;
		return r;
	}
	if ((*p = to_crlf(m, raw, &n, prev)) == NULL) {
		mgerr_temp(e, "out of memory");
		return -1;
	}
	return (ssize_t)n;
}

int
msg_body_rewind(struct msg *m, struct mgerr *e)
{
	const char *p;
	ssize_t r = 0;

	m->prev_cr = 0;
	m->body_size = 0;
	if (m->map != NULL) {
		m->mappos = m->mapstart;
		return 0;
	}
	if (!m->started)
		return 0;
	if (!(m->flags & MSG_KEEP)) {
		mgerr_set(e, "message body was not kept");
		return -1;
	}
	if (m->seekable) {
		if (lseek(m->fd, m->body_off, SEEK_SET) == -1) {
			mgerr_temp(e, "rewind message: %s", strerror(errno));
			return -1;
		}
		m->ipos = m->ilen = 0;
		m->eof = 0;
		return 0;
	}
	while (!m->replay && (r = raw_next(m, &p, e)) > 0)
		;
	if (!m->replay && r == -1)
		return -1;
	m->replay = 1;
	m->mempos = 0;
	if (m->spoolfd != -1 && lseek(m->spoolfd, 0, SEEK_SET) == -1) {
		mgerr_temp(e, "rewind spool: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* A write buffer, so a message leaves in few large writes. */
struct wbuf {
	int	fd;
	size_t	n;
	char	b[64 * 1024];
};

static int
wput(struct wbuf *w, const char *p, size_t n, struct mgerr *e)
{
	if (w->n + n > sizeof(w->b)) {
		if (write_all(w->fd, w->b, w->n, e) == -1)
			return -1;
		w->n = 0;
		if (n > sizeof(w->b))
			return write_all(w->fd, p, n, e);
	}
	memcpy(w->b + w->n, p, n);
	w->n += n;
	return 0;
}

/* The first occurrence of sep (1 or 2 bytes, ending in LF) in p. */
static const char *
find_sep(const char *p, size_t n, const char *sep, size_t sl)
{
	const char *q = p, *nl;

	while ((nl = memchr(q, '\n', n - (size_t)(q - p))) != NULL) {
		if (sl == 1 || (nl > p && nl[-1] == sep[0]))
			return nl - (sl - 1);
		q = nl + 1;
	}
	return NULL;
}

/* Writes text whose line breaks are sep ("\n" or "\r\n") with eol. */
static int
wlines(struct wbuf *w, const char *p, size_t n, const char *sep,
    const char *eol, struct mgerr *e)
{
	size_t sl = strlen(sep);
	const char *q;

	while ((q = find_sep(p, n, sep, sl)) != NULL) {
		if (wput(w, p, (size_t)(q - p), e) == -1 ||
		    wput(w, eol, strlen(eol), e) == -1)
			return -1;
		n -= (size_t)(q - p) + sl;
		p = q + sl;
	}
	if (wput(w, p, n, e) == -1)
		return -1;
	return wput(w, eol, strlen(eol), e);
}

int
msg_write(struct msg *m, int fd, const char *const *add, size_t nadd,
    struct mgerr *e)
{
	static struct wbuf w;
	const char *eol = m->crlf ? "\r\n" : "\n", *p;
	ssize_t r;
	size_t i;

	w.fd = fd;
	w.n = 0;
	for (i = 0; i < nadd; i++)
		if (wlines(&w, add[i], strlen(add[i]), "\n", eol, e) == -1)
			return -1;
	for (i = 0; i < m->nf; i++)
		if (wlines(&w, m->pub[i].raw, m->pub[i].rawlen, "\r\n", eol,
		    e) == -1)
			return -1;
	if (m->has_body) {
		if (wput(&w, eol, strlen(eol), e) == -1 ||
		    msg_body_rewind(m, e) == -1)
			return -1;
		while ((r = msg_body_next(m, 0, &p, e)) > 0)
			if (wput(&w, p, (size_t)r, e) == -1)
				return -1;
		if (r == -1)
			return -1;
	}
	return write_all(fd, w.b, w.n, e);
}
