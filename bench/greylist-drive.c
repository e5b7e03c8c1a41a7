/*
 * greylist-drive: the load generator of bench/greylist.sh.
 *
 *   greylist-drive exec CLIENTS SECONDS NEWPCT PROG ARGS...
 *	CLIENTS processes each run PROG ARGS --ip I --from S --rcpt R as a
 *	whole process, one after another, for SECONDS.
 *   greylist-drive policy CLIENTS SECONDS NEWPCT HOST PORT
 *	CLIENTS connections each send Postfix policy requests
 *	(SMTPD_POLICY_README) to a policy server and read the answers.
 *
 * Triplet n is "10.a.b.c sender<n>@dom<n%5000>.example
 * user<n%2000>@local.test", as bench/greylist.sh stores a million of
 * them; NEWPCT percent of the checks use a triplet never seen
 * (11.a.b.c ... ).  Prints "checks seconds rate".
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
triplet(unsigned long n, int fresh, char *ip, char *from, char *rcpt)
{
	snprintf(ip, 32, "%d.%lu.%lu.%lu", fresh ? 11 : 10, (n >> 16) & 255,
	    (n >> 8) & 255, n & 255);
	snprintf(from, 128, "sender%lu@dom%lu.example", n, n % 5000);
	snprintf(rcpt, 128, "user%lu@local.test", n % 2000);
}

static void
pick(unsigned *seed, int newpct, unsigned long *n, int *fresh)
{
	*fresh = (int)(rand_r(seed) % 100) < newpct;
	*n = ((unsigned long)rand_r(seed) << 8 ^ (unsigned long)rand_r(seed))
	    % 1000000;
}

static unsigned long
run_exec(unsigned seed, double end, int newpct, int argc, char **argv)
{
	char ip[32], from[128], rcpt[128], *av[64];
	unsigned long n, done = 0;
	int i, fresh, st;
	pid_t pid;

	for (i = 0; i < argc && i < 56; i++)
		av[i] = argv[i];
	av[i] = "--ip"; av[i + 1] = ip;
	av[i + 2] = "--from"; av[i + 3] = from;
	av[i + 4] = "--rcpt"; av[i + 5] = rcpt;
	av[i + 6] = NULL;
	while (now() < end) {
		pick(&seed, newpct, &n, &fresh);
		triplet(n, fresh, ip, from, rcpt);
		if (posix_spawn(&pid, av[0], NULL, NULL, av, environ) != 0)
			exit(2);
		if (waitpid(pid, &st, 0) == -1 || !WIFEXITED(st) ||
		    (WEXITSTATUS(st) != 0 && WEXITSTATUS(st) != 111))
			exit(3);
		done++;
	}
	return done;
}

static unsigned long
run_policy(unsigned seed, double end, int newpct, const char *host,
    int port)
{
	char ip[32], from[128], rcpt[128], req[1024], ans[4096];
	struct sockaddr_in sa;
	unsigned long n, done = 0;
	ssize_t r;
	size_t got;
	int fd, fresh, len;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	inet_pton(AF_INET, host, &sa.sin_addr);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1)
		exit(4);
	while (now() < end) {
		pick(&seed, newpct, &n, &fresh);
		triplet(n, fresh, ip, from, rcpt);
		len = snprintf(req, sizeof(req), "request=smtpd_access_policy\n"
		    "protocol_state=RCPT\nprotocol_name=ESMTP\n"
		    "client_address=%s\nclient_name=unknown\n"
		    "helo_name=client.example\nsender=%s\nrecipient=%s\n"
		    "instance=%lx.%lu\n\n", ip, from, rcpt, (unsigned long)seed,
		    done);
		if (write(fd, req, (size_t)len) != len)
			exit(5);
		/* The answer is "action=...\n\n". */
		for (got = 0; got < 2 || memcmp(ans + got - 2, "\n\n", 2); ) {
			r = read(fd, ans + got, sizeof(ans) - 1 - got);
			if (r <= 0)
				exit(6);
			got += (size_t)r;
		}
		done++;
	}
	close(fd);
	return done;
}

int
main(int argc, char **argv)
{
	int clients, newpct, i, p[2], st;
	unsigned long total = 0, one;
	double secs, t0, end;

	if (argc < 6)
		return 1;
	clients = atoi(argv[2]);
	secs = atof(argv[3]);
	newpct = atoi(argv[4]);
	if (pipe(p) == -1)
		return 1;
	t0 = now();
	end = t0 + secs;
	for (i = 0; i < clients; i++) {
		if (fork() != 0)
			continue;
		close(p[0]);
		/* The checks' reply and log lines are not what is measured. */
		if ((st = open("/dev/null", O_WRONLY)) != -1) {
			dup2(st, 1);
			dup2(st, 2);
		}
		if (strcmp(argv[1], "exec") == 0)
			one = run_exec((unsigned)(i + 1) * 7919, end, newpct,
			    argc - 5, argv + 5);
		else
			one = run_policy((unsigned)(i + 1) * 7919, end, newpct,
			    argv[5], atoi(argv[6]));
		if (write(p[1], &one, sizeof(one)) != sizeof(one))
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	while (read(p[0], &one, sizeof(one)) == sizeof(one))
		total += one;
	while (wait(&st) > 0)
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			return 1;
	secs = now() - t0;
	printf("%lu %.2f %.0f\n", total, secs, (double)total / secs);
	return 0;
}
