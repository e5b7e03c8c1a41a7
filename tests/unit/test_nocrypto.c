/*
 * test_nocrypto: a program linked with build/nocrypto.ld instead of
 * libcrypto, as mg-spf and mg-greylist are, that does reach an OpenSSL
 * function ldns names defers: exit 111, the internal-error reply line
 * on stdout and the reason on stderr.
 */
#include <sys/wait.h>

#include <stdlib.h>
#include <unistd.h>

#include "t.h"

/* Two of the OpenSSL functions libldns.a references (tsig.c, util.c). */
int	RAND_bytes(unsigned char *, int);
unsigned char *HMAC(const void *, const void *, int, const unsigned char *,
	    size_t, unsigned char *, unsigned int *);

/* Runs which in a child; its exit status, stdout and stderr. */
static int
child(int which, char *out, size_t outsz, char *err, size_t errsz)
{
	int po[2], pe[2], st;
	unsigned char b[2];
	ssize_t n;
	pid_t pid;

	if (pipe(po) == -1 || pipe(pe) == -1 || (pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		if (which == 0)
			RAND_bytes(b, sizeof(b));
		else
			HMAC(NULL, "k", 1, b, sizeof(b), NULL, NULL);
		_exit(0);	/* not reached if the stub works */
	}
	close(po[1]);
	close(pe[1]);
	n = read(po[0], out, outsz - 1);
	out[n > 0 ? n : 0] = '\0';
	n = read(pe[0], err, errsz - 1);
	err[n > 0 ? n : 0] = '\0';
	close(po[0]);
	close(pe[0]);
	if (waitpid(pid, &st, 0) == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

int
main(void)
{
	char out[256], err[256];
	int i;

	for (i = 0; i < 2; i++) {
		T_INT(child(i, out, sizeof(out), err, sizeof(err)), 111);
		T_STR(out, "451 4.3.0 temporary failure (internal error)\n");
		T_OK(strstr(err, "ldns called OpenSSL") != NULL);
	}
	return t_done("test_nocrypto");
}
