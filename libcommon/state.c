/*
 * state: GDBM files shared by many processes.  See state.h for the
 * contract; the comments here say how it is kept.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <gdbm.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bytes.h"
#include "clock.h"
#include "state.h"

/* Value header: magic, version, updated, expires (little-endian). */
#define REC_MAGIC	0x4d		/* 'M' */
#define REC_VERSION	1
#define REC_HDR		18
#define KEY_MAX		4096
#define VALUE_MAX	(1024 * 1024)
#define STATE_PATHMAX	1024
/* state_expire reorganises when it removed at least this many... */
#define REORG_MIN	256
/* ...and at least half of the records. */

#define FLAG_CLEAN	'0'
#define FLAG_DIRTY	'1'

struct state {
	GDBM_FILE	 dbf;		/* NULL: empty read-only store */
	int		 lockfd;	/* -1: unlocked empty store */
	int		 mode;
	int		 dirty;		/* we set the dirty flag */
	int		 recovered;	/* gdbm_recover ran on this handle */
	char		*last;		/* last fetched value */
	unsigned char	*buf;		/* encode buffer */
	size_t		 bufcap;
	char		 path[STATE_PATHMAX];
	char		 lockpath[STATE_PATHMAX + 8];
};

struct keylist {
	datum		*v;
	size_t		 n, cap;
};

/*
 * Reports the GDBM error ge after the operation `what'.  Errors of the
 * system (read, write, sync) are temporary; a bad header means the file
 * is not ours; anything else is permanent.
 */
static int
db_fail(struct state *st, const char *what, int ge, int se, struct mgerr *e)
{
	switch (ge) {
	case GDBM_BAD_MAGIC_NUMBER:
	case GDBM_FILE_EOF:
	case GDBM_BYTE_SWAPPED:
	case GDBM_BAD_HEADER:
	case GDBM_BLOCK_SIZE_ERROR:
		mgerr_set(e, "%s: not a mailguard state file (%s)", st->path,
		    gdbm_strerror(ge));
		break;
	default:
		if (gdbm_check_syserr(ge) && se != 0 && se != EACCES &&
		    se != EPERM && se != EROFS)
			mgerr_temp(e, "%s: %s: %s: %s", st->path, what,
			    gdbm_strerror(ge), strerror(se));
		else if (gdbm_check_syserr(ge) && se != 0)
			mgerr_set(e, "%s: %s: %s: %s", st->path, what,
			    gdbm_strerror(ge), strerror(se));
		else
			mgerr_set(e, "%s: %s: %s", st->path, what,
			    gdbm_strerror(ge));
	}
	return -1;
}

static int
lock_try(int fd, short type)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	return fcntl(fd, F_SETLK, &fl);
}

/*
 * Takes the lock on the lock file, polling with sleeps from 1 ms up to
 * 20 ms until the deadline (a monotonic time in ms).  F_SETLKW would
 * need a signal to bound the wait; polling keeps the library free of
 * signal handlers.
 */
static int
lock_wait(struct state *st, short type, int64_t deadline, unsigned tmo,
    struct mgerr *e)
{
	struct timespec ts;
	int64_t left, ms = 1;

	for (;;) {
		if (lock_try(st->lockfd, type) == 0)
			return 0;
		if (errno != EACCES && errno != EAGAIN && errno != EINTR) {
			mgerr_temp(e, "%s: lock: %s", st->lockpath,
			    strerror(errno));
			return -1;
		}
		left = deadline - clock_ms();
		if (left <= 0) {
			mgerr_temp(e, "%s: locked by another process for %u ms",
			    st->path, tmo);
			return -1;
		}
		if (ms > left)
			ms = left;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)ms * 1000000;
		nanosleep(&ts, NULL);
		ms = ms * 2 > 20 ? 20 : ms * 2;
	}
}

static int
flag_get(struct state *st)
{
	char c;

	return pread(st->lockfd, &c, 1, 0) == 1 && c == FLAG_DIRTY;
}

static int
flag_set(struct state *st, char c, struct mgerr *e)
{
	if (pwrite(st->lockfd, &c, 1, 0) != 1) {
		mgerr_temp(e, "%s: write: %s", st->lockpath, strerror(errno));
		return -1;
	}
	return 0;
}

/* Marks the file dirty before the first change of this session. */
static int
mark_dirty(struct state *st, struct mgerr *e)
{
	if (st->dirty)
		return 0;
	if (flag_set(st, FLAG_DIRTY, e) == -1)
		return -1;
	st->dirty = 1;
	return 0;
}

/*
 * Builds a new, empty GDBM file under a temporary name and renames it
 * into place, so a crash while GDBM writes its first blocks never leaves
 * a half-made file at path.  Called under the exclusive lock.
 */
static int
db_create(struct state *st, struct mgerr *e)
{
	char tmp[sizeof(st->lockpath)];
	GDBM_FILE f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", st->path);
	f = gdbm_open(tmp, 0, GDBM_NEWDB | GDBM_NOLOCK | GDBM_CLOEXEC, 0640,
	    NULL);
	if (f == NULL)
		return db_fail(st, "create", gdbm_errno, errno, e);
	if (gdbm_close(f) != 0) {
		db_fail(st, "create", gdbm_errno, errno, e);
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, st->path) == -1) {
		mgerr_temp(e, "%s: rename: %s", tmp, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/*
 * Opens the data file for reading or writing.  A missing or zero-length
 * file (GDBM reports "Empty database" for the latter) is created when
 * writing and is an empty store when reading.
 */
static int
db_open(struct state *st, int writer, struct mgerr *e)
{
	struct stat sb;

	if (stat(st->path, &sb) == -1) {
		if (errno != ENOENT) {
			mgerr_temp(e, "%s: %s", st->path, strerror(errno));
			return -1;
		}
		sb.st_size = 0;
	}
	if (sb.st_size == 0) {
		if (!writer)
			return 0;
		if (db_create(st, e) == -1)
			return -1;
	}
	st->dbf = gdbm_open(st->path, 0, (writer ? GDBM_WRITER : GDBM_READER) |
	    GDBM_NOLOCK | GDBM_CLOEXEC, 0640, NULL);
	if (st->dbf == NULL)
		return db_fail(st, "open", gdbm_errno, errno, e);
	return 0;
}

/* Rebuilds the data file with gdbm_recover; needs the exclusive lock. */
static int
db_recover(struct state *st, struct mgerr *e)
{
	st->recovered = 1;
	if (mark_dirty(st, e) == -1)
		return -1;
	if (gdbm_recover(st->dbf, NULL, 0) != 0)
		return db_fail(st, "recover", gdbm_last_errno(st->dbf), errno,
		    e);
	return 0;
}

/*
 * A writer died before closing the file cleanly.  A read-write handle
 * repairs it and keeps it open; a reader trades its shared lock for the
 * exclusive one (released first, so two readers cannot deadlock),
 * repairs the file unless someone did meanwhile, and takes the shared
 * lock back (converting a held lock never waits).
 */
static int
repair(struct state *st, int64_t deadline, unsigned tmo, struct mgerr *e)
{
	if (st->mode == STATE_RDWR)
		return db_open(st, 1, e) == -1 ? -1 : db_recover(st, e);
	if ((fcntl(st->lockfd, F_GETFL) & O_ACCMODE) != O_RDWR) {
		mgerr_temp(e, "%s: left unclean by a killed writer and needs "
		    "a read-write open to recover", st->path);
		return -1;
	}
	if (lock_try(st->lockfd, F_UNLCK) == -1 ||
	    lock_wait(st, F_WRLCK, deadline, tmo, e) == -1)
		return -1;
	if (flag_get(st)) {
		if (db_open(st, 1, e) == -1 || db_recover(st, e) == -1)
			return -1;
		if (gdbm_close(st->dbf) != 0) {
			st->dbf = NULL;
			return db_fail(st, "close", gdbm_errno, errno, e);
		}
		st->dbf = NULL;
		if (flag_set(st, FLAG_CLEAN, e) == -1)
			return -1;
		st->dirty = 0;
	}
	if (lock_try(st->lockfd, F_RDLCK) == -1) {
		mgerr_temp(e, "%s: lock: %s", st->lockpath, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Opens the lock file.  A reader that may not create it falls back to
 * reading it; if it does not exist and there is no data file either, no
 * writer ever ran and the store is empty (lockfd stays -1).
 */
static int
lock_open(struct state *st, struct mgerr *e)
{
	st->lockfd = open(st->lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (st->lockfd != -1 || st->mode == STATE_RDWR)
		goto out;
	st->lockfd = open(st->lockpath, O_RDONLY | O_CLOEXEC);
	if (st->lockfd == -1 && errno == ENOENT &&
	    access(st->path, F_OK) == -1 && errno == ENOENT)
		return 1;
out:
	if (st->lockfd == -1) {
		if (errno == EACCES || errno == EPERM || errno == EROFS)
			mgerr_set(e, "%s: %s", st->lockpath, strerror(errno));
		else
			mgerr_temp(e, "%s: %s", st->lockpath, strerror(errno));
		return -1;
	}
	return 0;
}

struct state *
state_open(const char *path, int mode, unsigned timeout_ms, struct mgerr *e)
{
	struct state *st;
	int64_t deadline;
	int r;

	deadline = clock_ms() + timeout_ms;
	if (mode != STATE_RDONLY && mode != STATE_RDWR) {
		mgerr_set(e, "%s: bad open mode %d", path, mode);
		return NULL;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		mgerr_temp(e, "%s: %s", path, strerror(errno));
		return NULL;
	}
	st->mode = mode;
	st->lockfd = -1;
	if (strlen(path) >= sizeof(st->path)) {
		mgerr_set(e, "%.64s...: path too long", path);
		free(st);
		return NULL;
	}
	strlcpy(st->path, path, sizeof(st->path));
	snprintf(st->lockpath, sizeof(st->lockpath), "%s.lock", path);
	if ((r = lock_open(st, e)) == 1)
		return st;
	if (r == -1 || lock_wait(st, mode == STATE_RDWR ? F_WRLCK : F_RDLCK,
	    deadline, timeout_ms, e) == -1)
		goto fail;
	if (flag_get(st) && repair(st, deadline, timeout_ms, e) == -1)
		goto fail;
	if (st->dbf == NULL && db_open(st, mode == STATE_RDWR, e) == -1)
		goto fail;
	return st;
fail:
	state_close(st);
	return NULL;
}

void
state_close(struct state *st)
{
	if (st == NULL)
		return;
	/*
	 * gdbm_close writes the cached buckets and header and fsyncs, so
	 * the data is on disk before the lock goes.  The dirty flag is
	 * cleared only after that succeeded.
	 */
	if (st->dbf != NULL && gdbm_close(st->dbf) == 0 && st->dirty)
		flag_set(st, FLAG_CLEAN, NULL);
	if (st->lockfd != -1)
		close(st->lockfd);
	free(st->last);
	free(st->buf);
	free(st);
}

static int
key_ok(struct state *st, const void *key, size_t klen, struct mgerr *e)
{
	if (key == NULL || klen == 0 || klen > KEY_MAX) {
		mgerr_set(e, "%s: bad key length %zu", st->path, klen);
		return 0;
	}
	return 1;
}

static int
writable(struct state *st, struct mgerr *e)
{
	if (st->mode != STATE_RDWR) {
		mgerr_set(e, "%s: opened read-only", st->path);
		return 0;
	}
	return mark_dirty(st, e) == 0;
}

/*
 * After a failed GDBM call: a read-write handle that GDBM says needs
 * recovery is repaired once, and the caller retries (1).  A reader can
 * only leave the dirty flag for the next opener (best effort).
 */
static int
retry(struct state *st)
{
	if (st->dbf == NULL || !gdbm_needs_recovery(st->dbf))
		return 0;
	if (st->mode != STATE_RDWR || st->recovered) {
		if ((fcntl(st->lockfd, F_GETFL) & O_ACCMODE) == O_RDWR)
			flag_set(st, FLAG_DIRTY, NULL);
		return 0;
	}
	return db_recover(st, NULL) == 0;
}

static int
rec_decode(struct state *st, datum d, struct state_rec *rec,
    struct mgerr *e)
{
	const unsigned char *p = (const unsigned char *)d.dptr;

	if (d.dsize < REC_HDR || p[0] != REC_MAGIC || p[1] != REC_VERSION) {
		mgerr_set(e, "%s: not a mailguard state file (bad record)",
		    st->path);
		return -1;
	}
	rec->updated = (int64_t)get64(p + 2);
	rec->expires = (int64_t)get64(p + 10);
	rec->data = p + REC_HDR;
	rec->len = (size_t)d.dsize - REC_HDR;
	return 0;
}

static int
dead(const struct state_rec *rec, int64_t now)
{
	return rec->expires > 0 && rec->expires <= now;
}

int
state_get(struct state *st, const void *key, size_t klen, int64_t now,
    struct state_rec *rec, struct mgerr *e)
{
	datum k, d;
	int ge;

	if (!key_ok(st, key, klen, e))
		return -1;
	if (st->dbf == NULL)
		return 0;
	k.dptr = (char *)(uintptr_t)key;
	k.dsize = (int)klen;
	for (;;) {
		d = gdbm_fetch(st->dbf, k);
		if (d.dptr != NULL)
			break;
		ge = gdbm_last_errno(st->dbf);
		if (ge == GDBM_ITEM_NOT_FOUND)
			return 0;
		if (!retry(st))
			return db_fail(st, "fetch", ge, errno, e);
	}
	free(st->last);
	st->last = d.dptr;
	if (rec_decode(st, d, rec, e) == -1)
		return -1;
	return dead(rec, now) ? 0 : 1;
}

int
state_put(struct state *st, const void *key, size_t klen,
    const struct state_rec *rec, struct mgerr *e)
{
	datum k, d;
	size_t need;
	unsigned char *p;
	int ge;

	if (!key_ok(st, key, klen, e) || !writable(st, e))
		return -1;
	if (rec->len > VALUE_MAX || (rec->len > 0 && rec->data == NULL)) {
		mgerr_set(e, "%s: bad value length %zu", st->path, rec->len);
		return -1;
	}
	need = REC_HDR + rec->len;
	if (need > st->bufcap) {
		if ((p = realloc(st->buf, need)) == NULL) {
			mgerr_temp(e, "%s: %s", st->path, strerror(errno));
			return -1;
		}
		st->buf = p;
		st->bufcap = need;
	}
	p = st->buf;
	p[0] = REC_MAGIC;
	p[1] = REC_VERSION;
	put64(p + 2, (uint64_t)(rec->updated != 0 ? rec->updated :
	    (int64_t)time(NULL)));
	put64(p + 10, (uint64_t)rec->expires);
	if (rec->len > 0)
		memcpy(p + REC_HDR, rec->data, rec->len);
	k.dptr = (char *)(uintptr_t)key;
	k.dsize = (int)klen;
	d.dptr = (char *)p;
	d.dsize = (int)need;
	while (gdbm_store(st->dbf, k, d, GDBM_REPLACE) != 0) {
		ge = gdbm_last_errno(st->dbf);
		if (!retry(st))
			return db_fail(st, "store", ge, errno, e);
	}
	return 0;
}

static int
del_datum(struct state *st, datum k, struct mgerr *e)
{
	int ge;

	while (gdbm_delete(st->dbf, k) != 0) {
		ge = gdbm_last_errno(st->dbf);
		if (ge == GDBM_ITEM_NOT_FOUND)
			return 0;
		if (!retry(st))
			return db_fail(st, "delete", ge, errno, e);
	}
	return 0;
}

int
state_del(struct state *st, const void *key, size_t klen, struct mgerr *e)
{
	datum k;

	if (!key_ok(st, key, klen, e) || !writable(st, e))
		return -1;
	k.dptr = (char *)(uintptr_t)key;
	k.dsize = (int)klen;
	return del_datum(st, k, e);
}

static int
keys_add(struct state *st, struct keylist *kl, datum k, struct mgerr *e)
{
	datum *v;
	size_t cap;

	if (kl->n == kl->cap) {
		cap = kl->cap ? kl->cap * 2 : 16;
		if ((v = reallocarray(kl->v, cap, sizeof(*v))) == NULL) {
			mgerr_temp(e, "%s: %s", st->path, strerror(errno));
			return -1;
		}
		kl->v = v;
		kl->cap = cap;
	}
	if ((kl->v[kl->n].dptr = malloc((size_t)k.dsize)) == NULL) {
		mgerr_temp(e, "%s: %s", st->path, strerror(errno));
		return -1;
	}
	memcpy(kl->v[kl->n].dptr, k.dptr, (size_t)k.dsize);
	kl->v[kl->n++].dsize = k.dsize;
	return 0;
}

static void
keys_free(struct keylist *kl)
{
	size_t i;

	for (i = 0; i < kl->n; i++)
		free(kl->v[i].dptr);
	free(kl->v);
}

/* Calls fn on the record at k; -1 error, else fn's answer. */
static int
walk_one(struct state *st, datum k, int64_t now, int all,
    int (*fn)(void *, const void *, size_t, const struct state_rec *),
    void *arg, struct mgerr *e)
{
	struct state_rec rec;
	datum d;
	int r;

	d = gdbm_fetch(st->dbf, k);
	if (d.dptr == NULL) {
		if (gdbm_last_errno(st->dbf) == GDBM_ITEM_NOT_FOUND)
			return STATE_ITER_NEXT;
		return db_fail(st, "fetch", gdbm_last_errno(st->dbf), errno,
		    e);
	}
	if (rec_decode(st, d, &rec, e) == -1)
		r = -1;
	else if (!all && dead(&rec, now))
		r = STATE_ITER_NEXT;
	else
		r = fn(arg, k.dptr, (size_t)k.dsize, &rec);
	free(d.dptr);
	return r;
}

/*
 * Walks every record (all: expired ones too).  Deletions wait until the
 * walk is over, since deleting during gdbm_nextkey may skip keys.
 * Returns the number deleted, or -1.
 */
static long
walk(struct state *st, int64_t now, int all,
    int (*fn)(void *, const void *, size_t, const struct state_rec *),
    void *arg, struct mgerr *e)
{
	struct keylist kl = { NULL, 0, 0 };
	datum k, next;
	long n = -1;
	size_t i;
	int r = STATE_ITER_NEXT;

	if (st->dbf == NULL)
		return 0;
	gdbm_clear_error(st->dbf);
	for (k = gdbm_firstkey(st->dbf); k.dptr != NULL; k = next) {
		r = walk_one(st, k, now, all, fn, arg, e);
		if (r == STATE_ITER_DEL &&
		    (!writable(st, e) || keys_add(st, &kl, k, e) == -1))
			r = -1;
		if (r == -1 || r == STATE_ITER_STOP) {
			free(k.dptr);
			break;
		}
		next = gdbm_nextkey(st->dbf, k);
		free(k.dptr);
	}
	if (r != -1 && r != STATE_ITER_STOP &&
	    gdbm_last_errno(st->dbf) != GDBM_ITEM_NOT_FOUND &&
	    gdbm_last_errno(st->dbf) != GDBM_NO_ERROR) {
		db_fail(st, "walk", gdbm_last_errno(st->dbf), errno, e);
		r = -1;
	}
	if (r != -1) {
		for (i = 0; i < kl.n && del_datum(st, kl.v[i], e) == 0; i++)
			;
		if (i == kl.n)
			n = (long)kl.n;
	}
	keys_free(&kl);
	return n;
}

int
state_iter(struct state *st, int64_t now,
    int (*fn)(void *arg, const void *key, size_t klen,
    const struct state_rec *rec), void *arg, struct mgerr *e)
{
	return walk(st, now, 0, fn, arg, e) < 0 ? -1 : 0;
}

struct expire_arg {
	int64_t	now;
	long	total;
};

static int
expire_fn(void *arg, const void *key, size_t klen,
    const struct state_rec *rec)
{
	struct expire_arg *x = arg;

	(void)key;
	(void)klen;
	x->total++;
	return dead(rec, x->now) ? STATE_ITER_DEL : STATE_ITER_NEXT;
}

long
state_expire(struct state *st, int64_t now, struct mgerr *e)
{
	struct expire_arg x;
	long n;

	if (!writable(st, e))
		return -1;
	x.now = now;
	x.total = 0;
	if ((n = walk(st, now, 1, expire_fn, &x, e)) < 0)
		return -1;
	/* GDBM reuses freed space but never shrinks the file by itself. */
	if (n >= REORG_MIN && n * 2 >= x.total &&
	    gdbm_reorganize(st->dbf) != 0)
		return db_fail(st, "reorganize", gdbm_last_errno(st->dbf),
		    errno, e);
	return n;
}

int
state_path(const char *dir, const char *name, char *buf, size_t len,
    struct mgerr *e)
{
	int n;

	if (name[0] == '\0' || name[0] == '.' || strchr(name, '/') != NULL) {
		mgerr_set(e, "%s: bad state name", name);
		return -1;
	}
	if (dir[0] == '\0') {
		mgerr_set(e, "empty state directory");
		return -1;
	}
	n = snprintf(buf, len, "%s/%s.db", dir, name);
	if (n < 0 || (size_t)n >= len || (size_t)n >= STATE_PATHMAX) {
		mgerr_set(e, "%s/%s.db: path too long", dir, name);
		return -1;
	}
	return 0;
}

const char *
state_default_dir(void)
{
	const char *dir = getenv("MG_STATEDIR");

	return dir != NULL && *dir != '\0' ? dir : STATE_DIR_DEFAULT;
}
