/*
 * state: the key-value store that programs share, GDBM behind a small
 * interface (so a network store can replace it later).
 *
 * Many processes use one file at once.  A handle holds a lock from
 * state_open to state_close: shared for STATE_RDONLY, exclusive for
 * STATE_RDWR, so one open/operate/close is one atomic transaction.  The
 * lock is an fcntl(2) record lock on "PATH.lock", not on the GDBM file:
 * the kernel drops it when a process dies, so a killed writer never
 * leaves a stale lock, and it survives GDBM replacing the data file
 * (gdbm_recover and gdbm_reorganize rename a new file over it).  Because
 * fcntl locks belong to the process, a process must not open the same
 * store twice at once (closing one handle would drop the other's lock).
 *
 * Crash recovery: byte 0 of the lock file is '1' while a writer has
 * changed the data file and not yet closed it cleanly.  The next process
 * that finds it set runs gdbm_recover before it uses the file, and GDBM
 * errors that need recovery on a read-write handle are repaired at once.
 * A new data file is built under a temporary name and renamed into
 * place, so a crash at creation never leaves a half-made file; a
 * zero-length file is treated as new.
 *
 * Values carry a small versioned header (magic, version, updated,
 * expires) before the payload, so records can be merged across hosts
 * later and a foreign or damaged value is an error naming the file.
 *
 * Errors: waiting for a lock past the bound and I/O failures are
 * temporary (e->temp = 1; callers defer with 111); a file that is not a
 * mailguard state file, or misuse, is permanent.  Cost: a read-write
 * session ends with one fsync (gdbm_close), so the data is on disk
 * before the lock is released.
 */
#ifndef MG_STATE_H
#define MG_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct state;				/* opaque */

struct state_rec {
	int64_t		 updated;	/* unix time of the last write (set
					   by state_put from now if 0) */
	int64_t		 expires;	/* unix time after which the record
					   is dead; 0 = never */
	const void	*data;		/* payload (caller's on put; on get,
					   valid until the next call on this
					   handle) */
	size_t		 len;
};

#define STATE_RDONLY	0
#define STATE_RDWR	1

/* state_iter callback results. */
#define STATE_ITER_NEXT	0		/* go on */
#define STATE_ITER_STOP	1		/* stop the walk */
#define STATE_ITER_DEL	2		/* delete this record, go on (RDWR) */

/*
 * Opens (creating with mode 0640 when RDWR) the GDBM file at path,
 * taking a shared (RDONLY) or exclusive (RDWR) lock held until
 * state_close.  Waits at most timeout_ms for the lock, then fails with a
 * temporary error "PATH: locked by another process for N ms".  A missing
 * or empty file opened RDONLY is an empty store.  NULL and e set on error.
 */
struct state	*state_open(const char *path, int mode, unsigned timeout_ms,
		    struct mgerr *e);
/* Flushes (RDWR), closes and unlocks; st may be NULL. */
void		 state_close(struct state *st);
/*
 * Looks key up.  1 found (rec filled; its data lives until the next call
 * on st), 0 not found or expired (0 < expires <= now), -1 error.
 */
int		 state_get(struct state *st, const void *key, size_t klen,
		    int64_t now, struct state_rec *rec, struct mgerr *e);
/* Stores rec under key, replacing any old value.  0, or -1 and e set. */
int		 state_put(struct state *st, const void *key, size_t klen,
		    const struct state_rec *rec, struct mgerr *e);
/* Deletes key.  0 deleted or absent, -1 error. */
int		 state_del(struct state *st, const void *key, size_t klen,
		    struct mgerr *e);
/*
 * Calls fn for each live record (expired ones skipped), in no order.
 * Keys are not NUL-terminated; key and rec live until fn returns.  fn
 * returns STATE_ITER_NEXT, STATE_ITER_STOP, or STATE_ITER_DEL (the
 * record is deleted after the walk; RDWR only); fn must not call other
 * state functions on st.  0, or -1 and e set (fn may return -1 to fail
 * the walk, leaving its own message in e).
 */
int		 state_iter(struct state *st, int64_t now,
		    int (*fn)(void *arg, const void *key, size_t klen,
		    const struct state_rec *rec), void *arg, struct mgerr *e);
/*
 * Deletes every record with 0 < expires <= now and reorganises the file
 * when that removed many.  Returns the count removed, or -1 and e set.
 */
long		 state_expire(struct state *st, int64_t now, struct mgerr *e);
/*
 * Writes "DIR/NAME.db" into buf.  NAME must be a plain file name.
 * 0, or -1 and e set (too long, bad name).
 */
int		 state_path(const char *dir, const char *name, char *buf,
		    size_t len, struct mgerr *e);

/* Where the state files live when --statedir is not given. */
#define STATE_DIR_DEFAULT	"/var/lib/mailguard"
/*
 * The default for --statedir: $MG_STATEDIR when it is set and not empty,
 * else STATE_DIR_DEFAULT.  The string belongs to the environment or is
 * static; never NULL.
 */
const char	*state_default_dir(void);

#endif
