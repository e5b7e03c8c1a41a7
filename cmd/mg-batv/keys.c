/*
 * keys: the BATV key file, one key a line, oldest first:
 *
 *	NUMBER CREATED SECRET	# comment
 *
 * NUMBER is the key digit written into tags, CREATED when the key began
 * to sign (seconds since the epoch), SECRET 1 to 64 printable bytes
 * without blanks, used as they are (so the same line serves Exim's
 * ${prvs}).  The newest key signs; an older one verifies until one
 * lifetime after the next key replaced it.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "batv.h"
#include "num.h"

#define KEYS_LINE_MAX	256
/* How long rotate waits for another rotate to finish. */
#define KEYS_LOCK_WAIT_MS	5000

static int
parse_line(char *line, struct keyring *r, struct mgerr *e)
{
	char *f[4], *p, *save = NULL;
	long long num, created;
	struct batv_key *k;
	size_t n = 0, i;

	if ((p = strchr(line, '#')) != NULL)
		*p = '\0';
	for (p = strtok_r(line, " \t\r\n", &save); p != NULL && n < 4;
	    p = strtok_r(NULL, " \t\r\n", &save))
		f[n++] = p;
	if (n == 0)
		return 0;
	if (n != 3) {
		mgerr_set(e, "expected NUMBER CREATED SECRET");
		return -1;
	}
	if (num_parse(f[0], 0, 9, &num, e) == -1 ||
	    num_parse(f[1], 0, 1LL << 40, &created, e) == -1)
		return -1;
	if (strlen(f[2]) > PRVS_SECRET_MAX) {
		mgerr_set(e, "secret longer than %d bytes", PRVS_SECRET_MAX);
		return -1;
	}
	for (i = 0; i < r->n; i++)
		if (r->k[i].num == (int)num) {
			mgerr_set(e, "key %lld listed twice", num);
			return -1;
		}
	if (r->n > 0 && created < r->k[r->n - 1].created) {
		mgerr_set(e, "keys out of order: oldest first");
		return -1;
	}
	k = &r->k[r->n++];
	k->num = (int)num;
	k->created = created;
	k->len = strlcpy(k->secret, f[2], sizeof(k->secret));
	return 0;
}

/* Reads an open key file; the caller checked its mode. */
static int
read_keys(FILE *fp, const char *path, struct keyring *r, int empty_ok,
    struct mgerr *e)
{
	char line[KEYS_LINE_MAX];
	unsigned long lineno = 0;

	while (fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(fp)) {
			mgerr_set(e, "line too long");
			goto bad;
		}
		if (r->n == PRVS_NKEYS && strspn(line, " \t\r\n") !=
		    strlen(line) && line[strspn(line, " \t")] != '#') {
			mgerr_set(e, "more than %d keys", PRVS_NKEYS);
			goto bad;
		}
		if (parse_line(line, r, e) == -1)
			goto bad;
	}
	if (ferror(fp)) {
		mgerr_temp(e, "read key file %s: %s", path, strerror(errno));
		return -1;
	}
	if (r->n == 0 && !empty_ok) {
		mgerr_set(e, "key file %s: no keys (run mg-batv rotate)", path);
		return -1;
	}
	return 0;
bad:
	mgerr_at(e, path, lineno);
	return -1;
}

static int
load(const char *path, struct keyring *r, int empty_ok, struct mgerr *e)
{
	struct stat st;
	FILE *fp;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((fp = fopen(path, "r")) == NULL) {
		mgerr_temp(e, "open key file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(fp), &st) == -1 || !S_ISREG(st.st_mode)) {
		mgerr_set(e, "key file %s: not a regular file", path);
		fclose(fp);
		return -1;
	}
	/* A secret others can read lets them forge tags. */
	if ((st.st_mode & 077) != 0) {
		mgerr_set(e, "key file %s: mode %03o, must be 0600 or stricter",
		    path, (unsigned)(st.st_mode & 0777));
		fclose(fp);
		return -1;
	}
	rc = read_keys(fp, path, r, empty_ok, e);
	fclose(fp);
	return rc;
}

int
keys_load(const char *path, struct keyring *r, struct mgerr *e)
{
	return load(path, r, 0, e);
}

const struct batv_key *
keys_find(const struct keyring *r, int num)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->k[i].num == num)
			return &r->k[i];
	return NULL;
}

int64_t
keys_retired(const struct keyring *r, const struct batv_key *k)
{
	size_t i = (size_t)(k - r->k);

	return i + 1 < r->n ? r->k[i + 1].created : -1;
}

/* Takes the rotate lock, PATH.lock, waiting a bounded time. */
static int
lock_keys(const char *path, struct mgerr *e)
{
	char lpath[1024];
	int fd, waited;

	if ((size_t)snprintf(lpath, sizeof(lpath), "%s.lock", path) >=
	    sizeof(lpath)) {
		mgerr_set(e, "key file %s: name too long", path);
		return -1;
	}
	if ((fd = open(lpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		mgerr_temp(e, "open %s: %s", lpath, strerror(errno));
		return -1;
	}
	for (waited = 0; flock(fd, LOCK_EX | LOCK_NB) == -1; waited += 50) {
		if (errno != EWOULDBLOCK || waited >= KEYS_LOCK_WAIT_MS) {
			mgerr_temp(e, "lock %s: %s", lpath, errno ==
			    EWOULDBLOCK ? "held by another rotate" :
			    strerror(errno));
			close(fd);
			return -1;
		}
		usleep(50000);
	}
	return fd;
}

/* Writes r to path through a temporary file and rename(2). */
static int
write_keys(const char *path, const struct keyring *r, struct mgerr *e)
{
	char tmp[1024];
	FILE *fp;
	size_t i;
	int fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >=
	    sizeof(tmp)) {
		mgerr_set(e, "key file %s: name too long", path);
		return -1;
	}
	if ((fd = mkstemp(tmp)) == -1 || (fp = fdopen(fd, "w")) == NULL) {
		mgerr_temp(e, "create %s: %s", tmp, strerror(errno));
		if (fd != -1) {
			close(fd);
			unlink(tmp);
		}
		return -1;
	}
	fprintf(fp, "# mg-batv keys: NUMBER CREATED SECRET, oldest first;"
	    " the last one signs.\n");
	for (i = 0; i < r->n; i++)
		fprintf(fp, "%d %lld %s\n", r->k[i].num,
		    (long long)r->k[i].created, r->k[i].secret);
	if (fflush(fp) == EOF || fsync(fileno(fp)) == -1 ||
	    fclose(fp) == EOF || rename(tmp, path) == -1) {
		mgerr_temp(e, "write %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* Drops keys whose tags can no longer be valid. */
static void
prune(struct keyring *r, int64_t now, int64_t lifetime)
{
	struct keyring keep;
	int64_t ret;
	size_t i;

	memset(&keep, 0, sizeof(keep));
	for (i = 0; i < r->n; i++) {
		ret = keys_retired(r, &r->k[i]);
		if (ret == -1 || now <= ret + lifetime + 86400)
			keep.k[keep.n++] = r->k[i];
	}
	*r = keep;
}

/* Appends a key with a fresh random secret: 32 bytes as 64 hex digits. */
static int
add_key(struct keyring *r, int64_t now, struct mgerr *e)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[PRVS_SECRET_MAX / 2];
	struct batv_key *k;
	int num, i;

	num = r->n > 0 ? (r->k[r->n - 1].num + 1) % PRVS_NKEYS : 0;
	for (i = 0; i < PRVS_NKEYS && keys_find(r, num) != NULL; i++)
		num = (num + 1) % PRVS_NKEYS;
	if (r->n == PRVS_NKEYS) {
		mgerr_set(e, "all %d key numbers are still valid: rotate less"
		    " often than once a lifetime / %d", PRVS_NKEYS, PRVS_NKEYS);
		return -1;
	}
	arc4random_buf(rnd, sizeof(rnd));
	k = &r->k[r->n++];
	k->num = num;
	k->created = now;
	for (i = 0; i < (int)sizeof(rnd); i++) {
		k->secret[2 * i] = hex[rnd[i] >> 4];
		k->secret[2 * i + 1] = hex[rnd[i] & 0xf];
	}
	k->secret[2 * sizeof(rnd)] = '\0';
	k->len = 2 * sizeof(rnd);
	return num;
}

int
keys_rotate(const char *path, int64_t now, int64_t lifetime,
    struct mgerr *e)
{
	struct keyring r;
	int lfd, num = -1;

	if ((lfd = lock_keys(path, e)) == -1)
		return -1;
	memset(&r, 0, sizeof(r));
	/* A file that exists but is unreadable or corrupt is never
	 * overwritten: its keys may still verify tags. */
	if (access(path, F_OK) == 0 && load(path, &r, 1, e) == -1)
		goto out;
	if (r.n > 0 && now < r.k[r.n - 1].created) {
		mgerr_set(e, "clock is behind the newest key (created %lld,"
		    " now %lld): not rotating", (long long)r.k[r.n - 1].created,
		    (long long)now);
		goto out;
	}
	prune(&r, now, lifetime);
	if ((num = add_key(&r, now, e)) != -1 && write_keys(path, &r, e) == -1)
		num = -1;
out:
	close(lfd);
	return num;
}
