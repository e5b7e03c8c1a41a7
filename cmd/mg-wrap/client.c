/*
 * mg-wrap's client side: the connection to the client (fd 0 and 1 from
 * tcpserver, or TLS on them).  It knows nothing of the real server: the
 * order of replies is session.c's (say).  Every read has a timeout and
 * every buffer a cap.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdio.h"
#include "log.h"
#include "wrap.h"

/* Writes all of p to the client (TLS once it is up) within ms. */
static int
cl_write_all(struct wrap *w, const char *p, size_t n, int64_t ms)
{
	ssize_t k;

	if (w->cl.ssl == NULL)
		return fdio_write(w->cl.out, p, n, ms);
	for (; n > 0; p += k, n -= (size_t)k)
		if ((k = tls_write(w, p, n)) <= 0)
			return -1;
	return 0;
}

void
cl_init(struct wrap *w)
{
	/* tcpserver's socket, or the pipes of a test. */
	w->cl.in = 0;
	w->cl.out = 1;
}

int
cl_flush(struct wrap *w)
{
	int rc = 0;

	if (w->cl.olen > 0)
		rc = cl_write_all(w, w->cl.obuf, w->cl.olen,
		    w->c.idle_timeout * 1000);
	w->cl.olen = 0;
	return rc;
}

void
cl_put(struct wrap *w, const char *line)
{
	size_t n = strlen(line);

	if (n > SMTP_REPLY_MAX - 2)
		n = SMTP_REPLY_MAX - 2;
	if (w->cl.olen + n + 2 > sizeof(w->cl.obuf))
		cl_flush(w);
	memcpy(w->cl.obuf + w->cl.olen, line, n);
	w->cl.olen += n;
	memcpy(w->cl.obuf + w->cl.olen, "\r\n", 2);
	w->cl.olen += 2;
}

/* Waits until fd 0 is readable: 1, 0 timeout, -1 error. */
static int
wait_in(struct wrap *w, int64_t ms)
{
	struct pollfd pfd;
	int rc;

	if (w->cl.ssl != NULL && tls_pending(w))
		return 1;
	pfd.fd = w->cl.in;
	pfd.events = POLLIN;
	do
		rc = poll(&pfd, 1, ms < 0 ? 0 : (int)ms);
	while (rc == -1 && errno == EINTR);
	return rc;
}

int
cl_talks(struct wrap *w, int64_t ms)
{
	return smtp_rd_pending(&w->cl.rd) > 0 || wait_in(w, ms) > 0;
}

int
cl_buffered(struct wrap *w, struct smtp_line *ln)
{
	return smtp_rd_line(&w->cl.rd, ln);
}

int
cl_fill(struct wrap *w)
{
	size_t room;
	char *p;
	ssize_t n;
	int64_t ms;

	if (cl_flush(w) == -1)
		return -1;
	for (;;) {
		ms = w->c.idle_timeout * 1000;
		if (w->cl.deadline - clock_ms() < ms)
			ms = w->cl.deadline - clock_ms();
		if (wait_in(w, ms) <= 0)
			return -2;
		p = smtp_rd_space(&w->cl.rd, &room);
		if (w->cl.ssl != NULL)
			n = tls_read(w, p, room);
		else
			n = read(w->cl.in, p, room);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == 0)
			return 0;
		if (n < 0)
			return -1;
		smtp_rd_wrote(&w->cl.rd, (size_t)n);
		return 1;
	}
}
