/*
 * fuzz_backend: how mg-wrap reads the real SMTP server (server.c): the
 * greeting, the EHLO or HELO reply and its extensions (relay.c), then
 * reply after reply to the commands it relays, each one relayed to the
 * client.  The first byte picks EHLO or HELO and how many times the
 * rest, the server's output, is repeated (so replies can outgrow their
 * buffers); the server's output comes from a file.  The server itself
 * is a child that has exited, for srv_stop to reap.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../cmd/mg-wrap/client.c"
#include "../cmd/mg-wrap/server.c"
#include "../cmd/mg-wrap/relay.c"
#include "../cmd/mg-wrap/session.c"
#include "../cmd/mg-wrap/steps.c"
#include "../cmd/mg-wrap/data.c"
#include "../cmd/mg-wrap/auth.c"
#include "../cmd/mg-wrap/tls.c"
#include "../cmd/mg-wrap/qq.c"
#include "fuzzinput.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* main.c's, which the target leaves out for its main(). */
void
wrap_usage(void)
{
	abort();
}

#define REPEAT_MAX	16

static struct wrap W;

/* A server process that is gone: a child that has exited, and is left
 * unreaped (WNOWAIT) so that srv_stop's first waitpid reaps it. */
static pid_t
dead_child(void)
{
	siginfo_t si;
	pid_t pid;

	if ((pid = vfork()) == -1)
		abort();
	if (pid == 0)
		_exit(0);
	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) == -1)
		abort();
	return pid;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *out;
	static int devnull = -1;
	size_t i, n;

	if (size < 1 || size - 1 > SIZE_MAX / REPEAT_MAX)
		return 0;
	if (devnull == -1) {
		log_init("fuzz");
		if ((devnull = open("/dev/null", O_WRONLY)) == -1 ||
		    (out = malloc((size_t)REPEAT_MAX * 65536)) == NULL)
			abort();
	}
	n = (data[0] & 0x0f) + 1;
	if ((size - 1) * n > (size_t)REPEAT_MAX * 65536)
		n = 1;
	for (i = 0; i < n; i++)
		memcpy(out + i * (size - 1), data + 1, size - 1);
	memset(&W, 0, sizeof(W));
	W.c.server_timeout = W.c.idle_timeout = 1;
	W.s.cl.ehlo = data[0] >> 4 & 1;
	strlcpy(W.s.cl.helo, "client.example", sizeof(W.s.cl.helo));
	W.cl.in = W.cl.out = devnull;
	if ((W.srv.out = open(fuzz_file(0, out, (size - 1) * n), O_RDONLY)) ==
	    -1 || (W.srv.in = open("/dev/null", O_WRONLY)) == -1)
		abort();
	smtp_rd_init(&W.srv.rd, 0);
	W.srv.pid = dead_child();
	if (srv_hello(&W) == 0)
		while (srv_cmd(&W, "NOOP") != -1) {
			srv_ehlo_ext(&W);
			srv_relay(&W);
		}
	srv_stop(&W, 0);
	W.cl.olen = 0;
	return 0;
}
