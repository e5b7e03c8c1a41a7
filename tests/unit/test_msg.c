#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "t.h"

/* A file descriptor reading text: a pipe fed by a child, or a file. */
static int
src(const char *text, size_t n, int file)
{
	char path[] = "/tmp/test_msg.XXXXXX";
	int fd, p[2];

	if (file) {
		fd = mkstemp(path);
		unlink(path);
		if (write(fd, text, n) != (ssize_t)n)
			abort();
		lseek(fd, 0, SEEK_SET);
		return fd;
	}
	if (pipe(p) == -1)
		abort();
	if (fork() == 0) {
		close(p[0]);
		if (write(p[1], text, n) != (ssize_t)n)
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	return p[0];
}

static struct msg *
rd(const char *text, int file, const struct msg_limits *lim, int flags,
    struct mgerr *e)
{
	struct msg *m;
	int fd = src(text, strlen(text), file);

	m = msg_read(fd, lim, flags, e);
	if (m == NULL)
		close(fd);
	return m;
}

/* The whole body, as CRLF (crlf 1) or raw, into buf. */
static size_t
body(struct msg *m, int crlf, char *buf, size_t cap)
{
	struct mgerr e;
	const char *p;
	ssize_t r;
	size_t n = 0;

	while ((r = msg_body_next(m, crlf, &p, &e)) > 0) {
		if (n + (size_t)r < cap)
			memcpy(buf + n, p, (size_t)r);
		n += (size_t)r;
	}
	buf[n < cap ? n : cap - 1] = '\0';
	return n;
}

static void
test_fields(void)
{
	struct mgerr e;
	struct msg *m;
	char b[256];

	m = rd("From: a@b\nSubject: hello\n  world\nX-E:\n\nline1\nline2\n",
	    0, NULL, 0, &e);
	T_OK(m != NULL);
	T_INT(msg_crlf(m), 0);
	T_INT(msg_nfields(m), 3);
	T_STR(msg_field(m, 1)->name, "Subject");
	T_INT(msg_field(m, 1)->rawlen, strlen("Subject: hello\r\n  world"));
	T_OK(memcmp(msg_field(m, 1)->raw, "Subject: hello\r\n  world", 23) == 0);
	T_STR(msg_field(m, 1)->value, "hello  world");
	T_STR(msg_field(m, 2)->value, "");
	T_INT(msg_find(m, "subject", 0), 1);
	T_INT(msg_find(m, "from", 1), -1);
	T_INT(body(m, 1, b, sizeof(b)), 14);
	T_STR(b, "line1\r\nline2\r\n");
	T_INT(msg_body_size(m), 12);
	msg_free(m);

	m = rd("From : x\r\nTo: y\r\n\r\nbody\r\nbare\nend", 1, NULL, 0, &e);
	T_OK(m != NULL);
	T_INT(msg_crlf(m), 1);
	T_STR(msg_field(m, 0)->name, "From");
	T_INT(body(m, 1, b, sizeof(b)), 15);
	T_STR(b, "body\r\nbare\r\nend");
	msg_free(m);

	/* Removed fields are gone from the lookups; the rest move up. */
	m = rd("A: 1\nB: 2\nC: 3\nB: 4\n\nbody\n", 0, NULL, 0, &e);
	T_OK(m != NULL);
	msg_remove(m, 1);
	msg_remove(m, 9);
	T_INT(msg_nfields(m), 3);
	T_STR(msg_field(m, 1)->value, "3");
	T_INT(msg_find(m, "b", 0), 2);
	msg_remove(m, 2);
	msg_remove(m, 0);
	T_INT(msg_nfields(m), 1);
	T_STR(msg_field(m, 0)->name, "C");
	T_OK(msg_field(m, 1) == NULL);
	msg_free(m);

	/* A message that ends in its header has no body. */
	m = rd("From: x\nTo: y", 0, NULL, 0, &e);
	T_OK(m != NULL);
	T_INT(msg_has_body(m), 0);
	T_STR(msg_field(m, 1)->value, "y");
	T_INT(body(m, 1, b, sizeof(b)), 0);
	msg_free(m);
}

static void
test_errors(void)
{
	struct msg_limits lim = { 100, 3, 1000, 10 };
	struct mgerr e;
	char *big;

	T_OK(rd("From: x\nnot a field\n\nbody\n", 0, NULL, 0, &e) == NULL);
	T_OK(strstr(e.msg, "line 2: not a header field") != NULL);
	T_OK(rd(" cont\nFrom: x\n\n", 0, NULL, 0, &e) == NULL);
	T_OK(strstr(e.msg, "continuation") != NULL);
	T_OK(rd("A: 1\nB: 2\nC: 3\nD: 4\n\n", 0, &lim, 0, &e) == NULL);
	T_OK(strstr(e.msg, "more than 3 header fields") != NULL);
	big = malloc(2 * 1024 * 1024);
	memset(big, 'a', 2 * 1024 * 1024 - 1);
	memcpy(big, "Subject: ", 9);
	big[2 * 1024 * 1024 - 1] = '\0';
	T_OK(rd(big, 0, NULL, 0, &e) == NULL);
	T_OK(strstr(e.msg, "longer than") != NULL);
	free(big);
	{
		static const char nul[] = "From: a\0b\n\nx\n";
		int fd = src(nul, sizeof(nul) - 1, 0);

		T_OK(msg_read(fd, NULL, 0, &e) == NULL);
		T_OK(strstr(e.msg, "NUL byte") != NULL);
		close(fd);
	}
}

/* Keeps the body past spool_mem in a file and reads it twice. */
static void
test_spool(void)
{
	struct msg_limits lim = { 1000, 100, 10000, 16 };
	struct mgerr e;
	struct msg *m;
	char b[256], *out;
	size_t n;
	int fd, file;
	FILE *f;

	for (file = 0; file < 2; file++) {
		m = rd("From: x\n\n0123456789\nabcdefghij\nlast\n", file, &lim,
		    MSG_KEEP, &e);
		T_OK(m != NULL);
		T_INT(body(m, 0, b, sizeof(b)), 27);
		T_INT(msg_body_rewind(m, &e), 0);
		T_INT(body(m, 1, b, sizeof(b)), 30);
		T_STR(b, "0123456789\r\nabcdefghij\r\nlast\r\n");
		f = tmpfile();
		fd = fileno(f);
		{
			const char *add[] = { "X-A: one\n\ttwo" };
			T_INT(msg_write(m, fd, add, 1, &e), 0);
		}
		lseek(fd, 0, SEEK_SET);
		out = calloc(1, 256);
		n = (size_t)read(fd, out, 255);
		T_INT(n, strlen("X-A: one\n\ttwo\nFrom: x\n\n") + 27);
		T_STR(out, "X-A: one\n\ttwo\nFrom: x\n\n0123456789\n"
		    "abcdefghij\nlast\n");
		free(out);
		fclose(f);
		msg_free(m);
	}
}

/* A body larger than a block in a regular file is mapped: the same
 * bytes, LF made CRLF across block edges, rewound, and written out. */
static void
test_mapped(void)
{
	static char text[900 * 1024], b1[1024 * 1024], b2[1024 * 1024];
	char out[] = "/tmp/test_msg_out.XXXXXX";
	size_t i, hl, n;
	struct mgerr e;
	struct msg *m;
	int fd, ofd;

	hl = strlcpy(text, "From: a@b\nSubject: big\n\n", sizeof(text));
	for (i = hl; i < sizeof(text) - 1; i++)
		text[i] = i % 61 == 0 ? '\n' : (char)('a' + i % 26);
	text[sizeof(text) - 1] = '\0';
	fd = src(text, strlen(text), 1);
	m = msg_read(fd, NULL, MSG_KEEP, &e);
	T_OK(m != NULL);
	if (m == NULL)
		return;
	n = body(m, 0, b1, sizeof(b1));
	T_INT(n, strlen(text) - hl);
	T_OK(memcmp(b1, text + hl, n) == 0);
	T_INT(msg_body_rewind(m, &e), 0);
	n = body(m, 1, b2, sizeof(b2));
	T_INT(n, strlen(text) - hl + (strlen(text) - hl) / 61 + 1);
	for (i = 0; i < n && (b2[i] != '\n' || (i > 0 && b2[i - 1] == '\r'));
	    i++)
		;
	T_INT(i, n);
	ofd = mkstemp(out);
	unlink(out);
	T_INT(msg_write(m, ofd, NULL, 0, &e), 0);
	T_INT(lseek(ofd, 0, SEEK_END), (off_t)strlen(text));
	close(ofd);
	msg_free(m);
	close(fd);
}

int
main(void)
{
	test_fields();
	test_errors();
	test_spool();
	test_mapped();
	while (wait(NULL) > 0)
		;
	return t_done("test_msg");
}
