/*
 * Unit tests for libcommon/state: records, expiry, locking between
 * processes, damaged and empty files, concurrency and killed writers.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <gdbm.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "state.h"
#include "t.h"

static char dir[64];

static void
mkpath(const char *name, char *buf, size_t len)
{
	struct mgerr e;

	if (state_path(dir, name, buf, len, &e) == -1) {
		fprintf(stderr, "%s\n", e.msg);
		exit(2);
	}
}

static int
put_str(struct state *st, const char *k, const char *v, int64_t exp)
{
	struct state_rec r;
	struct mgerr e;

	r.updated = 0;
	r.expires = exp;
	r.data = v;
	r.len = strlen(v);
	if (state_put(st, k, strlen(k), &r, &e) == -1) {
		fprintf(stderr, "put %s: %s\n", k, e.msg);
		return -1;
	}
	return 0;
}

/* Returns the value of k as a string in buf, or NULL. */
static const char *
get_str(struct state *st, const char *k, int64_t now, char *buf, size_t len)
{
	struct state_rec r;
	struct mgerr e;

	if (state_get(st, k, strlen(k), now, &r, &e) != 1 || r.len >= len)
		return NULL;
	memcpy(buf, r.data, r.len);
	buf[r.len] = '\0';
	return buf;
}

static int
count_fn(void *arg, const void *key, size_t klen, const struct state_rec *r)
{
	(void)key;
	(void)klen;
	(void)r;
	(*(int *)arg)++;
	return STATE_ITER_NEXT;
}

static int
del_b_fn(void *arg, const void *key, size_t klen, const struct state_rec *r)
{
	(void)arg;
	(void)r;
	return klen == 1 && *(const char *)key == 'b' ? STATE_ITER_DEL :
	    STATE_ITER_NEXT;
}

static int
del_all_fn(void *arg, const void *key, size_t klen, const struct state_rec *r)
{
	(void)arg;
	(void)key;
	(void)klen;
	(void)r;
	return STATE_ITER_DEL;
}

static void
test_path(void)
{
	char buf[64];
	struct mgerr e;

	T_INT(state_path("/var/lib/mailguard", "dyn", buf, sizeof(buf), &e),
	    0);
	T_STR(buf, "/var/lib/mailguard/dyn.db");
	setenv("MG_STATEDIR", "/srv/mg", 1);
	T_STR(state_default_dir(), "/srv/mg");
	setenv("MG_STATEDIR", "", 1);
	T_STR(state_default_dir(), STATE_DIR_DEFAULT);
	unsetenv("MG_STATEDIR");
	T_STR(state_default_dir(), "/var/lib/mailguard");
	T_INT(state_path("/x", "a/b", buf, sizeof(buf), &e), -1);
	T_INT(state_path("/x", "", buf, sizeof(buf), &e), -1);
	T_INT(state_path("/a/very/long/directory/name/indeed", "store", buf,
	    16, &e), -1);
}

static void
test_basic(void)
{
	char path[256], buf[64];
	struct state *st;
	struct state_rec r;
	struct mgerr e;
	int n;

	mkpath("basic", path, sizeof(path));
	/* A missing file opened read-only is an empty store. */
	st = state_open(path, STATE_RDONLY, 100, &e);
	T_OK(st != NULL);
	T_INT(state_get(st, "a", 1, 1000, &r, &e), 0);
	T_INT(state_put(st, "a", 1, &r, &e), -1);
	state_close(st);

	st = state_open(path, STATE_RDWR, 100, &e);
	T_OK(st != NULL);
	if (st == NULL)
		return;
	T_INT(put_str(st, "a", "apple", 0), 0);
	T_INT(put_str(st, "b", "banana", 2000), 0);
	T_INT(put_str(st, "c", "cherry", 1500), 0);
	T_STR(get_str(st, "a", 1000, buf, sizeof(buf)), "apple");
	T_STR(get_str(st, "b", 1999, buf, sizeof(buf)), "banana");
	T_OK(get_str(st, "b", 2000, buf, sizeof(buf)) == NULL);
	T_INT(state_get(st, "c", 1, 1500, &r, &e), 0);
	T_INT(state_get(st, "zz", 2, 1000, &r, &e), 0);
	T_INT(state_get(st, "c", 1, 1000, &r, &e), 1);
	T_INT(r.expires, 1500);
	T_OK(r.updated > 1600000000);
	n = 0;
	T_INT(state_iter(st, 1000, count_fn, &n, &e), 0);
	T_INT(n, 3);
	n = 0;
	T_INT(state_iter(st, 1700, count_fn, &n, &e), 0);
	T_INT(n, 2);
	T_INT(state_del(st, "a", 1, &e), 0);
	T_INT(state_del(st, "a", 1, &e), 0);
	T_INT(state_get(st, "a", 1, 1000, &r, &e), 0);
	T_INT(state_expire(st, 1700, &e), 1);
	T_INT(state_get(st, "c", 1, 0, &r, &e), 0);
	T_INT(state_get(st, "b", 1, 0, &r, &e), 1);
	T_INT(state_iter(st, 0, del_b_fn, NULL, &e), 0);
	T_INT(state_get(st, "b", 1, 0, &r, &e), 0);
	T_INT(put_str(st, "k", "kept", 0), 0);
	state_close(st);

	st = state_open(path, STATE_RDONLY, 100, &e);
	T_OK(st != NULL);
	if (st == NULL)
		return;
	T_STR(get_str(st, "k", 5000, buf, sizeof(buf)), "kept");
	T_INT(state_del(st, "k", 1, &e), -1);
	T_INT(state_iter(st, 0, del_all_fn, NULL, &e), -1);
	T_STR(get_str(st, "k", 5000, buf, sizeof(buf)), "kept");
	state_close(st);
}

/* A child holds a lock until told to go; the parent's open must wait. */
static void
test_lock(int child_mode, int mode)
{
	char path[256], c;
	struct state *st;
	struct mgerr e;
	int go[2], ready[2];
	int64_t t0, ms;
	pid_t pid;

	mkpath("lock", path, sizeof(path));
	if (pipe(go) == -1 || pipe(ready) == -1)
		exit(2);
	if ((pid = fork()) == 0) {
		st = state_open(path, child_mode, 1000, &e);
		c = st != NULL ? 'y' : 'n';
		if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(2);
		state_close(st);
		_exit(0);
	}
	T_INT(read(ready[0], &c, 1), 1);
	T_INT(c, 'y');
	t0 = clock_ms();
	memset(&e, 0, sizeof(e));
	st = state_open(path, mode, 200, &e);
	ms = clock_ms() - t0;
	T_OK(st == NULL);
	T_INT(e.temp, 1);
	T_OK(strstr(e.msg, "locked by another process for 200 ms") != NULL);
	T_OK(ms >= 195 && ms < 2000);
	state_close(st);
	T_INT(write(go[1], "x", 1), 1);
	waitpid(pid, NULL, 0);
	st = state_open(path, mode, 200, &e);
	T_OK(st != NULL);
	state_close(st);
	close(go[0]);
	close(go[1]);
	close(ready[0]);
	close(ready[1]);
}

/* Readers share the lock. */
static void
test_shared(void)
{
	char path[256];
	struct state *a;
	struct mgerr e;
	pid_t pid;
	int status;

	mkpath("shared", path, sizeof(path));
	a = state_open(path, STATE_RDONLY, 100, &e);
	T_OK(a != NULL);
	if ((pid = fork()) == 0) {
		struct state *b = state_open(path, STATE_RDONLY, 100, &e);

		state_close(b);
		_exit(b != NULL ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	T_OK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	state_close(a);
}

static void
write_file(const char *path, const void *data, size_t len)
{
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	if (fd == -1 || write(fd, data, len) != (ssize_t)len)
		exit(2);
	close(fd);
}

static void
test_corrupt(void)
{
	char path[256], junk[8192];
	struct state *st;
	struct state_rec r;
	struct mgerr e;
	GDBM_FILE f;
	datum k, v;
	size_t i;
	int n = 0;

	mkpath("junk", path, sizeof(path));
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 7 + 13);
	write_file(path, junk, sizeof(junk));
	memset(&e, 0, sizeof(e));
	T_OK(state_open(path, STATE_RDWR, 100, &e) == NULL);
	T_OK(strstr(e.msg, "not a mailguard state file") != NULL);
	T_OK(strstr(e.msg, path) != NULL);
	T_INT(e.temp, 0);
	T_OK(state_open(path, STATE_RDONLY, 100, &e) == NULL);
	write_file(path, "short junk", 10);
	T_OK(state_open(path, STATE_RDONLY, 100, &e) == NULL);
	T_OK(strstr(e.msg, "not a mailguard state file") != NULL);

	/* A GDBM file with a foreign value. */
	mkpath("foreign", path, sizeof(path));
	f = gdbm_open(path, 0, GDBM_NEWDB, 0640, NULL);
	T_OK(f != NULL);
	if (f == NULL)
		return;
	k.dptr = (char *)(uintptr_t)"key";
	k.dsize = 3;
	v.dptr = (char *)(uintptr_t)"value";
	v.dsize = 5;
	gdbm_store(f, k, v, GDBM_REPLACE);
	gdbm_close(f);
	st = state_open(path, STATE_RDWR, 100, &e);
	T_OK(st != NULL);
	if (st == NULL)
		return;
	T_INT(state_get(st, "key", 3, 0, &r, &e), -1);
	T_OK(strstr(e.msg, "not a mailguard state file (bad record)") !=
	    NULL);
	T_INT(state_iter(st, 0, count_fn, &n, &e), -1);
	state_close(st);
}

static void
test_empty_file(void)
{
	char path[256], buf[16];
	struct state *st;
	struct state_rec r;
	struct mgerr e;

	mkpath("empty", path, sizeof(path));
	write_file(path, "", 0);
	st = state_open(path, STATE_RDONLY, 100, &e);
	T_OK(st != NULL);
	T_INT(state_get(st, "x", 1, 0, &r, &e), 0);
	state_close(st);
	st = state_open(path, STATE_RDWR, 100, &e);
	T_OK(st != NULL);
	if (st == NULL)
		return;
	T_INT(put_str(st, "x", "y", 0), 0);
	state_close(st);
	st = state_open(path, STATE_RDONLY, 100, &e);
	T_OK(st != NULL);
	if (st == NULL)
		return;
	T_STR(get_str(st, "x", 0, buf, sizeof(buf)), "y");
	state_close(st);
}

/* One read-modify-write cycle on the counter; 0 or -1. */
static int
bump(const char *path)
{
	struct state *st;
	struct state_rec r;
	struct mgerr e;
	uint32_t v = 0;

	if ((st = state_open(path, STATE_RDWR, 30000, &e)) == NULL) {
		fprintf(stderr, "child: %s\n", e.msg);
		return -1;
	}
	if (state_get(st, "n", 1, 0, &r, &e) == 1 && r.len == sizeof(v))
		memcpy(&v, r.data, sizeof(v));
	v++;
	r.updated = 0;
	r.expires = 0;
	r.data = &v;
	r.len = sizeof(v);
	if (state_put(st, "n", 1, &r, &e) == -1) {
		fprintf(stderr, "child: %s\n", e.msg);
		state_close(st);
		return -1;
	}
	state_close(st);
	return 0;
}

static void
test_concurrency(void)
{
	char path[256];
	struct state *st;
	struct state_rec r;
	struct mgerr e;
	pid_t pids[32];
	uint32_t v = 0;
	int i, j, status, bad = 0;

	mkpath("counter", path, sizeof(path));
	for (i = 0; i < 32; i++) {
		if ((pids[i] = fork()) == 0) {
			for (j = 0; j < 50; j++)
				if (bump(path) == -1)
					_exit(1);
			_exit(0);
		}
	}
	for (i = 0; i < 32; i++) {
		waitpid(pids[i], &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			bad++;
	}
	T_INT(bad, 0);
	st = state_open(path, STATE_RDWR, 1000, &e);
	T_OK(st != NULL);
	if (st == NULL)
		return;
	T_INT(state_get(st, "n", 1, 0, &r, &e), 1);
	if (r.len == sizeof(v))
		memcpy(&v, r.data, sizeof(v));
	T_INT(v, 1600);
	state_close(st);
}

/* Writes and deletes many records forever, until killed. */
static void
writer_loop(const char *path, unsigned seed)
{
	char key[32], val[600];
	struct state *st;
	struct state_rec r;
	struct mgerr e;
	unsigned i, n = seed;

	memset(val, 'v', sizeof(val));
	for (;;) {
		if ((st = state_open(path, STATE_RDWR, 30000, &e)) == NULL)
			continue;
		for (i = 0; i < 50; i++) {
			n = n * 1103515245 + 12345;
			snprintf(key, sizeof(key), "k%u", n % 2000);
			r.updated = 0;
			r.expires = 0;
			r.data = val;
			r.len = 1 + n % sizeof(val);
			if (n % 3 == 0)
				state_del(st, key, strlen(key), &e);
			else
				state_put(st, key, strlen(key), &r, &e);
		}
		state_close(st);
	}
}

static void
test_crash(void)
{
	char path[256];
	struct state *st;
	struct state_rec r;
	struct mgerr e;
	struct timespec ts = { 0, 0 };
	char lock[300], flag;
	pid_t pids[8];
	int fd, i, round, n, ok = 1, dirty = 0;

	mkpath("crash", path, sizeof(path));
	snprintf(lock, sizeof(lock), "%s.lock", path);
	for (round = 0; round < 10; round++) {
		for (i = 0; i < 8; i++)
			if ((pids[i] = fork()) == 0)
				writer_loop(path, (unsigned)(round * 8 + i));
		ts.tv_nsec = 20000000 + round * 7000000;
		nanosleep(&ts, NULL);
		for (i = 0; i < 8; i++)
			kill(pids[i], SIGKILL);
		for (i = 0; i < 8; i++)
			waitpid(pids[i], NULL, 0);
		/* Count the rounds that killed a writer inside a session. */
		if ((fd = open(lock, O_RDONLY)) != -1) {
			if (read(fd, &flag, 1) == 1 && flag == '1')
				dirty++;
			close(fd);
		}
		memset(&e, 0, sizeof(e));
		st = state_open(path, STATE_RDWR, 5000, &e);
		if (st == NULL) {
			fprintf(stderr, "crash round %d: %s\n", round, e.msg);
			ok = 0;
			continue;
		}
		n = 0;
		if (state_get(st, "k1", 2, 0, &r, &e) == -1 ||
		    put_str(st, "after", "crash", 0) == -1 ||
		    state_iter(st, 0, count_fn, &n, &e) == -1 || n < 1) {
			fprintf(stderr, "crash round %d: %s\n", round, e.msg);
			ok = 0;
		}
		state_close(st);
	}
	T_OK(ok);
	T_OK(dirty > 0);
	st = state_open(path, STATE_RDONLY, 1000, &e);
	T_OK(st != NULL);
	if (st != NULL)
		T_INT(state_get(st, "after", 5, 0, &r, &e), 1);
	state_close(st);
}

static void
cleanup(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

int
main(void)
{
	strlcpy(dir, "/tmp/mg-state-XXXXXX", sizeof(dir));
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	test_path();
	test_basic();
	test_lock(STATE_RDWR, STATE_RDWR);
	test_lock(STATE_RDWR, STATE_RDONLY);
	test_lock(STATE_RDONLY, STATE_RDWR);
	test_shared();
	test_corrupt();
	test_empty_file();
	test_concurrency();
	test_crash();
	cleanup();
	return t_done("state");
}
