/*
 * mg-wrap as $QMAILQUEUE (qmail-queue(8)): the message on fd 0, the
 * envelope on fd 1 ("Fsender\0Trcpt\0...\0").  The [data] steps judge
 * the message; on accept their header fields go on top and the next
 * qmail-queue is exec'd with the same interface.  Exit codes are
 * qmail-queue's: 31 permanent refusal (554), 71 temporary refusal (451),
 * 54 unable to read the message or envelope, 81 internal error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arstrip.h"
#include "log.h"
#include "spool.h"
#include "wrap.h"

#define QQ_ENVELOPE_MAX	(1024 * 1024)
#define QQ_TAG		"mg-wrap"	/* of the spool files */

static int
copy(int from, int to, const char *head)
{
	char buf[16384];
	ssize_t n;
	size_t hl = head != NULL ? strlen(head) : 0;

	if (hl > 0 && write(to, head, hl) != (ssize_t)hl)
		return -1;
	while ((n = read(from, buf, sizeof(buf))) > 0)
		if (write(to, buf, (size_t)n) != n)
			return -1;
	return n == 0 ? 0 : -1;
}

static int
to_fd(void *arg, const char *p, size_t n, int eol)
{
	int fd = *(int *)arg;

	if (write(fd, p, n) != (ssize_t)n || (eol && write(fd, "\n", 1) != 1))
		return -1;
	return 0;
}

/*
 * Copies the message from fd 0 to fd, without the Authentication-Results
 * fields forged in our name (RFC 8601 section 5).
 */
static int
copy_message(struct wrap *w, int fd)
{
	static struct arstrip_buf ab;
	char buf[16384];
	const char *p, *nl;
	ssize_t n;
	size_t k;

	arstrip_buf_init(&ab, w->c.hostname);
	while ((n = read(0, buf, sizeof(buf))) > 0)
		for (p = buf; p < buf + n; p += k + (nl != NULL)) {
			nl = memchr(p, '\n', (size_t)(buf + n - p));
			k = (size_t)((nl != NULL ? nl : buf + n) - p);
			if (arstrip_buf_line(&ab, p, k, nl != NULL, to_fd,
			    &fd) == -1)
				return -1;
		}
	if (n == -1 || arstrip_buf_end(&ab, to_fd, &fd) == -1)
		return -1;
	forged_log(w, &ab);
	return 0;
}

/* Reads the envelope into env (len bytes); -1 when short or malformed. */
static char *
read_envelope(size_t *len)
{
	char *env = malloc(QQ_ENVELOPE_MAX);
	size_t n = 0;
	ssize_t k;

	if (env == NULL)
		return NULL;
	while (n < QQ_ENVELOPE_MAX && (k = read(1, env + n,
	    QQ_ENVELOPE_MAX - n)) > 0)
		n += (size_t)k;
	/* It must end in the empty entry: "...\0\0". */
	if (n < 3 || env[0] != 'F' || env[n - 1] != '\0' ||
	    env[n - 2] != '\0') {
		free(env);
		return NULL;
	}
	*len = n;
	return env;
}

static void
envelope_fields(struct wrap *w, const char *env, size_t len)
{
	const char *p = env;

	strlcpy(w->s.tx.from, p + 1, sizeof(w->s.tx.from));
	w->s.tx.in_mail = 1;
	for (p += strlen(p) + 1; p < env + len && *p == 'T';
	    p += strlen(p) + 1) {
		strlcpy(w->s.tx.rcpt, p + 1, sizeof(w->s.tx.rcpt));
		w->s.tx.nrcpt++;
	}
}

int
qq_main(struct wrap *w)
{
	char *env;
	size_t envlen;
	struct mgerr e;
	int msg, out, efd;

	if ((msg = spool_fd(QQ_TAG, &e)) == -1 || copy_message(w, msg) == -1 ||
	    (env = read_envelope(&envlen)) == NULL) {
		log_error("read the message or envelope: %s",
		    strerror(errno));
		return 54;
	}
	envelope_fields(w, env, envlen);
	/* No client to tell: the refusal was logged. */
	if (run_stage(w, CHAIN_DATA, msg) != SESSION_GO)
		return w->s.ans.code / 100 == 5 ? 31 : 71;
	if ((out = spool_fd(QQ_TAG, &e)) == -1 ||
	    (efd = spool_fd(QQ_TAG, &e)) == -1 ||
	    lseek(msg, 0, SEEK_SET) == -1 ||
	    copy(msg, out, w->s.tx.hdr) == -1 ||
	    write(efd, env, envlen) != (ssize_t)envlen ||
	    lseek(out, 0, SEEK_SET) == -1 || lseek(efd, 0, SEEK_SET) == -1 ||
	    dup2(out, 0) == -1 || dup2(efd, 1) == -1) {
		log_error("spool: %s", strerror(errno));
		return 81;
	}
	closefrom(3);
	session_log(&w->s, "data", "qmail-queue", "accept", NULL, NULL);
	execvp(w->c.server_argv[0], w->c.server_argv);
	log_error("run %s: %s", w->c.server_argv[0], strerror(errno));
	return 81;
}
