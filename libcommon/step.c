/*
 * step: running one step and mapping its exit to a verdict (step.h).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "num.h"
#include "step.h"

extern char **environ;

#define TEMPFAIL	"451 4.3.0 temporary failure"
#define REJECTED	"550 5.7.1 rejected by policy"

/* In the child: never returns. */
static void
child(const struct chain_step *s, char *const envp[], int in_fd, int out)
{
	setpgid(0, 0);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGALRM, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	if (in_fd < 0 && (in_fd = open("/dev/null", O_RDONLY)) == -1)
		_exit(111);
	/* The spool is shared by the steps: each reads it from the top. */
	lseek(in_fd, 0, SEEK_SET);
	if (in_fd != 0 && (dup2(in_fd, 0) == -1))
		_exit(111);
	if (out != 1 && dup2(out, 1) == -1)
		_exit(111);
	closefrom(3);
	environ = (char **)(uintptr_t)envp;
	execvp(s->argv[0], s->argv);
	fprintf(stderr, "%s: run %s: %s\n", s->name, s->argv[0],
	    strerror(errno));
	_exit(127);
}

int
step_start(struct step_run *r, const struct chain_step *s,
    char *const envp[], int in_fd, unsigned timeout_ms, struct mgerr *e)
{
	int p[2];

	memset(r, 0, offsetof(struct step_run, out));
	r->pid = -1;
	r->fd = -1;
	if (pipe(p) == -1) {
		mgerr_temp(e, "pipe: %s", strerror(errno));
		return -1;
	}
	switch (r->pid = fork()) {
	case -1:
		mgerr_temp(e, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	case 0:
		close(p[0]);
		child(s, envp, in_fd, p[1]);
		break;
	default:
		break;
	}
	/* Both sides, so the kill at the deadline finds the group. */
	setpgid(r->pid, r->pid);
	close(p[1]);
	r->fd = p[0];
	fcntl(r->fd, F_SETFD, FD_CLOEXEC);
	fcntl(r->fd, F_SETFL, fcntl(r->fd, F_GETFL) | O_NONBLOCK);
	r->deadline = clock_ms() + timeout_ms;
	return 0;
}

int
step_fd(const struct step_run *r)
{
	return r->fd;
}

int
step_wait_ms(const struct step_run *r, int64_t now)
{
	int64_t left = r->deadline - now;

	if (left <= 0)
		return 0;
	return left > 60000 ? 60000 : (int)left;
}

static void
close_out(struct step_run *r)
{
	if (r->fd != -1) {
		close(r->fd);
		r->fd = -1;
	}
}

int
step_read(struct step_run *r)
{
	char junk[4096];
	ssize_t n;

	while (r->fd != -1) {
		if (r->outlen < sizeof(r->out))
			n = read(r->fd, r->out + r->outlen,
			    sizeof(r->out) - r->outlen);
		else {
			/* Past the cap: drain, so the step does not block. */
			n = read(r->fd, junk, sizeof(junk));
			if (n > 0)
				r->overflow = 1;
		}
		if (n > 0) {
			if (r->outlen < sizeof(r->out))
				r->outlen += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		close_out(r);
	}
	return 1;
}

int
step_check(struct step_run *r, int64_t now)
{
	int st;

	if (!r->reaped && r->pid > 0 &&
	    waitpid(r->pid, &st, WNOHANG) == r->pid) {
		r->reaped = 1;
		r->status = st;
	}
	if (r->reaped && r->fd == -1)
		return 1;
	if (now < r->deadline)
		return 0;
	/* Past the deadline: the step, or something it left holding
	 * stdout, hangs.  Kill the whole group and stop reading. */
	if (!r->reaped) {
		r->timedout = 1;
		kill(-r->pid, SIGKILL);
		kill(r->pid, SIGKILL);
		if (waitpid(r->pid, &st, 0) == r->pid)
			r->status = st;
		r->reaped = 1;
	}
	close_out(r);
	return 1;
}

void
step_abort(struct step_run *r)
{
	if (r->pid > 0 && !r->reaped) {
		kill(-r->pid, SIGKILL);
		kill(r->pid, SIGKILL);
		waitpid(r->pid, &r->status, 0);
		r->reaped = 1;
	}
	close_out(r);
}

/* The first line of out, control bytes replaced, in reply. */
static size_t
first_line(const char *out, size_t len, char *reply, size_t cap)
{
	size_t i, n = 0;

	for (i = 0; i < len && out[i] != '\n' && n + 1 < cap; i++) {
		if (out[i] == '\r' && (i + 1 == len || out[i + 1] == '\n'))
			continue;
		reply[n++] = (out[i] >= ' ' && out[i] < 0x7f) ? out[i] : '?';
	}
	reply[n] = '\0';
	return n;
}

/* 1 if out is a (possibly empty) series of header fields. */
static int
valid_headers(const char *out, size_t len)
{
	size_t i = 0, n, k;
	int have_field = 0;

	while (i < len) {
		const char *l = out + i;
		const char *nl = memchr(l, '\n', len - i);

		n = nl != NULL ? (size_t)(nl - l) : len - i;
		i += n + 1;
		if (n > 0 && l[n - 1] == '\r')
			n--;
		if (memchr(l, '\0', n) != NULL)
			return 0;
		if (n == 0)
			continue;
		if (l[0] == ' ' || l[0] == '\t') {
			if (!have_field)
				return 0;
			continue;
		}
		/* RFC 5322 section 3.6.8: a field name is printable
		 * US-ASCII other than ':' before the colon. */
		for (k = 0; k < n && l[k] > ' ' && l[k] < 0x7f &&
		    l[k] != ':'; k++)
			;
		if (k == 0 || k == n || l[k] != ':')
			return 0;
		have_field = 1;
	}
	return 1;
}

/* Copies the fields to res->headers with LF ends and no empty lines. */
static void
copy_headers(const char *out, size_t len, struct step_result *res)
{
	size_t i, h = 0;

	for (i = 0; i < len && h + 2 < sizeof(res->headers); i++) {
		if (out[i] == '\r' && i + 1 < len && out[i + 1] == '\n')
			continue;
		if (out[i] == '\n' && (h == 0 || res->headers[h - 1] == '\n'))
			continue;
		res->headers[h++] = out[i];
	}
	if (h > 0 && res->headers[h - 1] != '\n')
		res->headers[h++] = '\n';
	res->headers[h] = '\0';
	res->hlen = h;
}

static void
broke(struct step_result *res, const char *why)
{
	res->verdict = STEP_DEFER;
	res->failed = 1;
	res->code = 451;
	res->hlen = 0;
	res->headers[0] = '\0';
	strlcpy(res->reply, TEMPFAIL, sizeof(res->reply));
	strlcpy(res->why, why, sizeof(res->why));
}

/* A refusal: the step's own line when it has the right class. */
static void
refusal(const struct step_run *r, struct step_result *res, int cls)
{
	int more, code;
	size_t n;

	n = first_line(r->out, r->outlen, res->reply, sizeof(res->reply));
	code = smtp_reply_code(res->reply, n, &more);
	if (code / 100 != cls || more || n < 5) {
		strlcpy(res->reply, cls == 5 ? REJECTED : TEMPFAIL,
		    sizeof(res->reply));
		code = cls == 5 ? 550 : 451;
	}
	res->code = code;
}

/* 1 when out is one bare address alone on its line, copied to addr. */
static int
address_line(const char *out, size_t len, char *addr, size_t cap)
{
	size_t n;

	while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == '\r'))
		len--;
	if (len == 0 || len >= cap || memchr(out, '@', len) == NULL)
		return 0;
	for (n = 0; n < len; n++)
		if (out[n] <= ' ' || out[n] >= 0x7f || out[n] == ':' ||
		    out[n] == '<' || out[n] == '>')
			return 0;
	memcpy(addr, out, len);
	addr[len] = '\0';
	return 1;
}

/* A lone number of seconds, "22.5", in thousandths (milliseconds). */
static int
delay_line(const char *out, size_t len, int64_t *ms)
{
	char buf[32];
	struct mgerr e;
	long long v;

	while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == '\r'))
		len--;
	if (len == 0 || len >= sizeof(buf) || memchr(out, '\n', len) != NULL)
		return 0;
	memcpy(buf, out, len);
	buf[len] = '\0';
	if (num_milli(buf, STEP_DELAY_MAX, &v, &e) == -1)
		return 0;
	*ms = v;
	return 1;
}

void
step_result(const struct step_run *r, struct step_result *res)
{
	int st = r->status;
	char why[64];

	memset(res, 0, offsetof(struct step_result, headers));
	res->headers[0] = '\0';
	if (r->timedout) {
		broke(res, "timeout");
		return;
	}
	if (WIFSIGNALED(st)) {
		snprintf(why, sizeof(why), "signal %d", WTERMSIG(st));
		broke(res, why);
		return;
	}
	if (r->overflow) {
		broke(res, "output too long");
		return;
	}
	snprintf(why, sizeof(why), "exit %d", WEXITSTATUS(st));
	strlcpy(res->why, why, sizeof(res->why));
	switch (WEXITSTATUS(st)) {
	case 0:
		if (address_line(r->out, r->outlen, res->rcpt,
		    sizeof(res->rcpt)) ||
		    delay_line(r->out, r->outlen, &res->delay_ms)) {
			res->verdict = STEP_ACCEPT;
			break;
		}
		if (!valid_headers(r->out, r->outlen)) {
			broke(res, "exit 0 with output that is not "
			    "header fields");
			return;
		}
		res->verdict = STEP_ACCEPT;
		copy_headers(r->out, r->outlen, res);
		break;
	case 100:
		res->verdict = STEP_REJECT;
		refusal(r, res, 5);
		break;
	case 111:
		res->verdict = STEP_DEFER;
		refusal(r, res, 4);
		break;
	default:
		broke(res, why);
		break;
	}
}

int
step_run(const struct chain_step *s, char *const envp[], int in_fd,
    unsigned timeout_ms, struct step_result *res, struct mgerr *e)
{
	struct step_run *r;
	struct pollfd pfd;
	struct timespec nap = { 0, 20000 };
	int64_t now;

	if ((r = malloc(sizeof(*r))) == NULL) {
		mgerr_temp(e, "out of memory");
		broke(res, "out of memory");
		return -1;
	}
	if (step_start(r, s, envp, in_fd, timeout_ms, e) == -1) {
		broke(res, e->msg);
		free(r);
		return -1;
	}
	while (!step_check(r, now = clock_ms())) {
		pfd.fd = step_fd(r);
		pfd.events = POLLIN;
		/* After EOF only the exit is awaited, and it is usually
		 * near: naps from 20 us, doubling up to 5 ms. */
		if (pfd.fd == -1) {
			nanosleep(&nap, NULL);
			if (nap.tv_nsec < 5000000)
				nap.tv_nsec *= 2;
		} else if (poll(&pfd, 1, step_wait_ms(r, now)) > 0)
			step_read(r);
	}
	step_result(r, res);
	free(r);
	return 0;
}
