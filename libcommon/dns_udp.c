/*
 * dns_udp: one UDP DNS exchange on a long-lived socket.  See dns_udp.h.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "dns_udp.h"

/* RFC 5452 section 9.1: only an answer from the address asked counts. */
static int
same_peer(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	const struct sockaddr_in *a4, *b4;
	const struct sockaddr_in6 *a6, *b6;

	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET) {
		a4 = (const struct sockaddr_in *)a;
		b4 = (const struct sockaddr_in *)b;
		return a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	}
	a6 = (const struct sockaddr_in6 *)a;
	b6 = (const struct sockaddr_in6 *)b;
	return a6->sin6_port == b6->sin6_port &&
	    memcmp(&a6->sin6_addr, &b6->sin6_addr, sizeof(a6->sin6_addr)) == 0;
}

static int
open_socket(int *fd, int family)
{
	if (*fd != -1)
		return 0;
	*fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	return *fd == -1 ? -1 : 0;
}

/* The length of the question section of the wire query q, 0 if none. */
static size_t
question_len(const uint8_t *q, size_t qlen)
{
	size_t i = 12;

	if (qlen < 12 || q[4] != 0 || q[5] != 1)
		return 0;
	while (i < qlen && q[i] != 0) {
		if (q[i] > 63)
			return 0;
		i += (size_t)q[i] + 1;
	}
	if (i + 5 > qlen)
		return 0;
	return i + 5 - 12;
}

/*
 * 1 when the datagram a answers the query q: the same ID, QR set, one
 * question, and that question the query's own, the name compared without
 * regard to case (RFC 5452 section 9.1).  Anything else is dropped,
 * never believed and never taken as the end of the lookup, so a spoofed
 * packet can neither forge an answer nor cut the wait short.
 */
static int
answers(const uint8_t *q, size_t qlen, const uint8_t *a, size_t alen)
{
	size_t i, n = question_len(q, qlen);
	unsigned char x, y;

	if (alen < 12 || a[0] != q[0] || a[1] != q[1] || !(a[2] & 0x80))
		return 0;
	if (n == 0)
		return 1;
	if (a[4] != 0 || a[5] != 1 || alen < 12 + n)
		return 0;
	for (i = 12; i < 12 + n; i++) {
		x = q[i];
		y = a[i];
		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y - 'A' + 'a');
		/* Length octets are below 64, so folding leaves them be. */
		if (x != y)
			return 0;
	}
	return 1;
}

/*
 * Waits up to timeout_ms for the answer to q from sa, dropping every
 * other datagram: 1, 0 timeout, -1.
 */
static int
await(int fd, const struct sockaddr_storage *sa, const uint8_t *q,
    size_t qlen, uint8_t *ans, size_t *anslen, unsigned timeout_ms)
{
	struct sockaddr_storage from;
	struct pollfd pfd;
	int64_t t0;
	socklen_t flen;
	ssize_t n;
	long left;

	t0 = clock_ms();
	for (;;) {
		if ((left = (long)(timeout_ms - (clock_ms() - t0))) <= 0)
			return 0;
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)left) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		flen = sizeof(from);
		n = recvfrom(fd, ans, DNS_UDP_MAX, 0, (struct sockaddr *)&from,
		    &flen);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				continue;
			return -1;
		}
		if (same_peer(&from, sa) && answers(q, qlen, ans, (size_t)n)) {
			*anslen = (size_t)n;
			return 1;
		}
	}
}

int
dns_udp_exchange(int *fd, const struct sockaddr_storage *sa,
    socklen_t salen, const uint8_t *q, size_t qlen, uint8_t *ans,
    size_t *anslen, unsigned timeout_ms, unsigned tries)
{
	unsigned t;
	int rc;

	if (open_socket(fd, sa->ss_family) == -1)
		return -1;
	while (recv(*fd, ans, DNS_UDP_MAX, MSG_DONTWAIT) >= 0)
		continue;	/* stale answers to earlier queries */
	for (t = 0; t < tries; t++) {
		if (sendto(*fd, q, qlen, 0, (const struct sockaddr *)sa,
		    salen) == -1)
			return -1;
		if ((rc = await(*fd, sa, q, qlen, ans, anslen,
		    timeout_ms)) != 0)
			return rc;
	}
	return 0;
}
