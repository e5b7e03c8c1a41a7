/*
 * list: list files and their compiled form.  See list.h for the file
 * syntax, the matching order and the layout of PATH.mgc.
 *
 * A parse (list_parse.c) builds exactly the byte image that PATH.mgc
 * holds, in memory, so one set of lookup functions serves both a parsed
 * and a mapped list.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "list_impl.h"
#include "pat.h"

#define RACY_SEC	2	/* coarser than any file system's mtime clock */

struct list {
	void			*mem;	/* malloc'd image or mapping */
	size_t			 size;
	int			 mapped;
	const struct list_hdr	*h;
	const struct rec_len	*lens;
	const struct rec_cidr	*cidr;
	const struct rec_key	*keys;
	const struct rec_glob	*globs;
	const char		*str;
};

/* The text of a list, opened and (once needed) read. */
struct src {
	const char	*path;
	int		 fd;
	struct stat	 st;
	char		*text;		/* NUL-terminated; NULL until read */
	size_t		 len;
	int64_t		 read_sec;
	uint64_t	 hash;
};

/* FNV-1a, 64 bits: cheap, and enough to tell an edit from none. */
static uint64_t
fnv1a(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (n-- > 0) {
		h ^= (unsigned char)*p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static int
src_open(struct src *s, const char *path, struct mgerr *e)
{
	memset(s, 0, sizeof(*s));
	s->path = path;
	if ((s->fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		mgerr_temp(e, "open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(s->fd, &s->st) == -1 || !S_ISREG(s->st.st_mode)) {
		mgerr_temp(e, "open %s: %s", path,
		    S_ISREG(s->st.st_mode) ? strerror(errno) :
		    "not a regular file");
		close(s->fd);
		return -1;
	}
	return 0;
}

static void
src_close(struct src *s)
{
	close(s->fd);
	free(s->text);
}

/* Reads the whole text, which may have grown since fstat, and hashes it. */
static int
src_read(struct src *s, struct mgerr *e)
{
	char *p, *np;
	size_t cap, n = 0;
	ssize_t r;

	if ((uint64_t)s->st.st_size >= LIST_SIZE_MAX) {
		mgerr_set(e, "%s: larger than %lu bytes", s->path,
		    (unsigned long)LIST_SIZE_MAX);
		return -1;
	}
	s->read_sec = (int64_t)time(NULL);
	cap = (size_t)s->st.st_size + 1;
	if ((p = malloc(cap + 1)) == NULL) {
		mgerr_temp(e, "out of memory");
		return -1;
	}
	for (;;) {
		if (n == cap) {
			if (cap >= LIST_SIZE_MAX ||
			    (np = realloc(p, cap * 2 + 1)) == NULL) {
				free(p);
				mgerr_temp(e, "read %s: too large", s->path);
				return -1;
			}
			p = np;
			cap *= 2;
		}
		if ((r = read(s->fd, p + n, cap - n)) == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			mgerr_temp(e, "read %s: %s", s->path, strerror(errno));
			free(p);
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	p[n] = '\0';
	s->text = p;
	s->len = n;
	s->hash = fnv1a(p, n);
	return 0;
}

static struct list *list_new(void *, size_t, int);

/* Parses the text of s into a list in memory. */
static struct list *
src_parse(struct src *s, struct mgerr *e)
{
	struct list_hdr h;
	struct list *l;
	void *img;
	size_t size;

	if (s->text == NULL && src_read(s, e) == -1)
		return NULL;
	memset(&h, 0, sizeof(h));
	h.src_size = (uint64_t)s->st.st_size;
	h.src_ino = (uint64_t)s->st.st_ino;
	h.src_sec = (int64_t)s->st.st_mtim.tv_sec;
	h.src_nsec = (int64_t)s->st.st_mtim.tv_nsec;
	h.read_sec = s->read_sec;
	h.src_hash = s->hash;
	if ((img = list_build(s->text, s->len, s->path, &h, &size, e)) ==
	    NULL)
		return NULL;
	if ((l = list_new(img, size, 0)) == NULL) {
		free(img);
		mgerr_temp(e, "out of memory");
	}
	return l;
}

/* Wraps a checked image; mem is freed or unmapped by list_close. */
static struct list *
list_new(void *mem, size_t size, int mapped)
{
	const unsigned char *base = mem;
	struct list *l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->mem = mem;
	l->size = size;
	l->mapped = mapped;
	l->h = mem;
	l->lens = (const void *)(base + l->h->lens_off);
	l->cidr = (const void *)(base + l->h->cidr_off);
	l->keys = (const void *)(base + l->h->keys_off);
	l->globs = (const void *)(base + l->h->globs_off);
	l->str = (const char *)(base + l->h->str_off);
	return l;
}

static int
section_ok(uint32_t off, uint32_t n, size_t recsz, size_t size)
{
	return off % 4 == 0 && off >= sizeof(struct list_hdr) &&
	    off <= size && n <= (size - off) / recsz;
}

/* Checks the header and section bounds, in constant time. */
static int
image_ok(const void *mem, size_t size)
{
	const struct list_hdr *h = mem;
	const char *str;

	if (size < sizeof(*h) ||
	    memcmp(h->magic, LIST_MAGIC, sizeof(h->magic)) != 0 ||
	    h->version != LIST_VERSION || h->endian != LIST_ENDIAN ||
	    h->hdrsize != sizeof(*h) || h->total != size || h->nlens > 129)
		return 0;
	if (!section_ok(h->lens_off, h->nlens, sizeof(struct rec_len), size) ||
	    !section_ok(h->cidr_off, h->ncidr, sizeof(struct rec_cidr), size) ||
	    !section_ok(h->keys_off, h->nkeys, sizeof(struct rec_key), size) ||
	    !section_ok(h->globs_off, h->nglobs, sizeof(struct rec_glob),
	    size) || h->str_len == 0 || h->str_off > size ||
	    h->str_len > size - h->str_off)
		return 0;
	str = (const char *)mem + h->str_off;
	return str[0] == '\0' && str[h->str_len - 1] == '\0';
}

/* 1 if the image h was built from the text as s finds it now. */
static int
is_current(const struct list_hdr *h, struct src *s)
{
	if (h->src_size != (uint64_t)s->st.st_size ||
	    h->src_ino != (uint64_t)s->st.st_ino ||
	    h->src_sec != (int64_t)s->st.st_mtim.tv_sec ||
	    h->src_nsec != (int64_t)s->st.st_mtim.tv_nsec)
		return 0;
	/* An edit in the same clock tick as the compiled text keeps mtime. */
	if (h->src_sec < INT64_MAX - RACY_SEC &&
	    h->read_sec > h->src_sec + RACY_SEC)
		return 1;
	if (s->text == NULL && src_read(s, NULL) == -1)
		return 0;
	return s->len == h->src_size && s->hash == h->src_hash;
}

/* Maps PATH.mgc if it is sound and current for s, else NULL. */
static struct list *
map_mgc(const char *mgc, struct src *s)
{
	struct stat st;
	struct list *l;
	void *mem;
	size_t size;
	int fd;

	if ((fd = open(mgc, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size < (off_t)sizeof(struct list_hdr) ||
	    (uint64_t)st.st_size > UINT32_MAX) {
		close(fd);
		return NULL;
	}
	size = (size_t)st.st_size;
	mem = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (mem == MAP_FAILED)
		return NULL;
	if (!image_ok(mem, size) || !is_current(mem, s) ||
	    (l = list_new(mem, size, 1)) == NULL) {
		munmap(mem, size);
		return NULL;
	}
	return l;
}

static int
write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	ssize_t r;

	while (n > 0) {
		if ((r = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/*
 * Writes an image to mgc through a temporary file and rename(2), so a
 * reader maps either the old file or the new one, never half of one.
 * The file gets the text's group and permission bits, so whoever may
 * read the list may read its compiled form.
 */
static int
write_mgc(const char *mgc, const void *mem, size_t size,
    const struct stat *st, struct mgerr *e)
{
	char tmp[PATH_MAX];
	int fd, saved;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", mgc) >=
	    sizeof(tmp)) {
		mgerr_set(e, "cannot write %s: path too long", mgc);
		return -1;
	}
	if ((fd = mkstemp(tmp)) == -1) {
		mgerr_temp(e, "cannot write %s: %s", mgc, strerror(errno));
		return -1;
	}
	if (fchown(fd, (uid_t)-1, st->st_gid) == -1) {
		/* Not in the text's group: the file keeps ours. */
	}
	if (fchmod(fd, st->st_mode & 0666) == -1 ||
	    write_all(fd, mem, size) == -1 || fsync(fd) == -1) {
		saved = errno;
		close(fd);
		goto fail;
	}
	if (close(fd) == -1 || rename(tmp, mgc) == -1) {
		saved = errno;
		goto fail;
	}
	return 0;
fail:
	unlink(tmp);
	mgerr_temp(e, "cannot write %s: %s", mgc, strerror(saved));
	return -1;
}

/*
 * Rewrites PATH.mgc that is_current had to verify by hash, stamped as
 * read now, once the text's mtime is old enough that a later edit must
 * change it: later opens then need not read the text.
 */
static int
refresh_mgc(const char *mgc, const struct list *l, const struct src *s,
    struct mgerr *e)
{
	struct list_hdr *h;
	void *img;
	int rv;

	if (s->text == NULL || l->h->src_sec >= INT64_MAX - RACY_SEC ||
	    s->read_sec <= l->h->src_sec + RACY_SEC)
		return 0;
	if ((img = malloc(l->size)) == NULL) {
		mgerr_temp(e, "out of memory");
		return -1;
	}
	memcpy(img, l->mem, l->size);
	h = img;
	h->read_sec = s->read_sec;
	rv = write_mgc(mgc, img, l->size, &s->st, e);
	free(img);
	return rv;
}

static int
mgc_name(const char *path, char *buf, size_t len, struct mgerr *e)
{
	int n;

	n = snprintf(buf, len, "%s%s", path, LIST_SUFFIX);
	if (n < 0 || (size_t)n + sizeof(".XXXXXX") > len) {
		mgerr_set(e, "%s: path too long", path);
		return -1;
	}
	return 0;
}

struct list *
list_open(const char *path, int compile, char *warn, size_t warnlen,
    struct mgerr *e)
{
	char mgc[PATH_MAX];
	struct mgerr we;
	struct src s;
	struct list *l;

	if (warn != NULL && warnlen > 0)
		warn[0] = '\0';
	if (mgc_name(path, mgc, sizeof(mgc), e) == -1 ||
	    src_open(&s, path, e) == -1)
		return NULL;
	if ((l = map_mgc(mgc, &s)) != NULL) {
		if (compile && refresh_mgc(mgc, l, &s, &we) == -1 &&
		    warn != NULL)
			snprintf(warn, warnlen, "%s", we.msg);
	} else if ((l = src_parse(&s, e)) != NULL && compile &&
	    write_mgc(mgc, l->mem, l->size, &s.st, &we) == -1 &&
	    warn != NULL)
		snprintf(warn, warnlen, "%s", we.msg);
	src_close(&s);
	return l;
}

long
list_compile(const char *path, struct mgerr *e)
{
	char mgc[PATH_MAX];
	struct src s;
	struct list *l;
	long n = -1;

	if (mgc_name(path, mgc, sizeof(mgc), e) == -1 ||
	    src_open(&s, path, e) == -1)
		return -1;
	if ((l = src_parse(&s, e)) != NULL &&
	    write_mgc(mgc, l->mem, l->size, &s.st, e) == 0)
		n = (long)l->h->count;
	list_close(l);
	src_close(&s);
	return n;
}

int
list_load(const char *path, int compile, struct list **l, list_warn_fn *warn,
    struct mgerr *e)
{
	char msg[256] = "";

	*l = NULL;
	if (path == NULL)
		return 0;
	if ((*l = list_open(path, compile, msg, sizeof(msg), e)) == NULL)
		return -1;
	if (msg[0] != '\0' && warn != NULL)
		warn("%s", msg);
	return 0;
}

void
list_close(struct list *l)
{
	if (l == NULL)
		return;
	if (l->mapped)
		munmap(l->mem, l->size);
	else
		free(l->mem);
	free(l);
}

size_t
list_count(const struct list *l)
{
	return (size_t)l->h->count;
}

int
list_is_compiled(const struct list *l)
{
	return l->mapped;
}

/* Hands out the value at off; a corrupt offset counts as no match. */
static int
found(const struct list *l, uint32_t off, const char **value)
{
	if (off >= l->h->str_len)
		return 0;
	if (value != NULL)
		*value = l->str + off;
	return 1;
}

int
list_match_ip(const struct list *l, const struct ipaddr *ip,
    const char **value)
{
	const struct rec_len *r;
	struct ipaddr q;
	uint32_t i, lo, hi, mid;
	int c;

	for (i = 0; i < l->h->nlens; i++) {
		r = &l->lens[i];
		if (r->len > 128 || r->start > l->h->ncidr ||
		    r->count > l->h->ncidr - r->start)
			continue;
		q = *ip;
		ip_mask(&q, r->len);
		lo = r->start;
		hi = r->start + r->count;
		while (lo < hi) {
			mid = lo + (hi - lo) / 2;
			c = memcmp(l->cidr[mid].net, q.b, sizeof(q.b));
			if (c == 0)
				return found(l, l->cidr[mid].val, value);
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	return 0;
}

/* Looks up the key kind + pre + s[0..n) lower-cased. */
static int
try_key(const struct list *l, int kind, const char *pre, const char *s,
    size_t n, const char **value)
{
	char key[KEY_MAX];
	size_t i, pl = strlen(pre);
	uint32_t lo = 0, hi = l->h->nkeys, mid, off;
	int c;

	if (1 + pl + n >= sizeof(key))
		return 0;	/* longer than any entry */
	key[0] = (char)kind;
	memcpy(key + 1, pre, pl);
	for (i = 0; i < n; i++)
		key[1 + pl + i] = (s[i] >= 'A' && s[i] <= 'Z') ?
		    (char)(s[i] - 'A' + 'a') : s[i];
	key[1 + pl + n] = '\0';
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((off = l->keys[mid].key) >= l->h->str_len)
			return 0;
		if ((c = strcmp(l->str + off, key)) == 0)
			return found(l, l->keys[mid].val, value);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* Tries the globs of one kind in file order: a linear scan. */
static int
try_globs(const struct list *l, uint32_t kind, const char *s,
    const char **value)
{
	const struct rec_glob *g;
	uint32_t i;

	for (i = 0; i < l->h->nglobs; i++) {
		g = &l->globs[i];
		if (g->kind != kind || g->pat >= l->h->str_len)
			continue;
		if (kind == KIND_HOST ? pat_match_host(l->str + g->pat, s) :
		    pat_match_addr(l->str + g->pat, s))
			return found(l, g->val, value);
	}
	return 0;
}

int
list_match_host(const struct list *l, const char *name, const char **value)
{
	size_t i, n = strlen(name);

	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n > 0 && (try_key(l, KIND_HOST, "", name, n, value) ||
	    try_key(l, KIND_HOST, ".", name, n, value)))
		return 1;
	/* Parent domains, nearest first: a.b.c tries b.c, then c. */
	for (i = 0; i + 1 < n; i++)
		if (name[i] == '.' &&
		    (try_key(l, KIND_HOST, "*.", name + i + 1, n - i - 1,
		    value) ||
		    try_key(l, KIND_HOST, ".", name + i + 1, n - i - 1, value)))
			return 1;
	return try_globs(l, KIND_HOST, name, value);
}

int
list_match_addr(const struct list *l, const char *addr, const char **value)
{
	const char *at, *dom;
	size_t i, n = strlen(addr);

	if (n == 0 || strcmp(addr, "<>") == 0)
		return try_key(l, KIND_ADDR, "", "<>", 2, value) ||
		    try_globs(l, KIND_ADDR, "", value);
	if (addr[n - 1] == '.')
		n--;
	if (try_key(l, KIND_ADDR, "", addr, n, value))
		return 1;
	if ((at = strrchr(addr, '@')) != NULL) {
		dom = at + 1;
		if (dom < addr + n &&
		    try_key(l, KIND_ADDR, "@", dom, (size_t)(addr + n - dom),
		    value))
			return 1;
		for (i = 0; dom + i + 1 < addr + n; i++)
			if (dom[i] == '.' && try_key(l, KIND_ADDR, "@*.",
			    dom + i + 1, (size_t)(addr + n - dom - i - 1), value))
				return 1;
		if (try_key(l, KIND_ADDR, "", addr, (size_t)(dom - addr), value))
			return 1;
	}
	return try_globs(l, KIND_ADDR, addr, value);
}
