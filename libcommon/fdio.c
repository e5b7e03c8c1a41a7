/*
 * fdio: whole writes with a time limit (fdio.h).
 */
#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include "fdio.h"

int
fdio_write(int fd, const void *buf, size_t n, int64_t ms)
{
	const char *p = buf;
	struct pollfd pfd;
	ssize_t k;
	int rc;

	while (n > 0) {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if ((rc = poll(&pfd, 1, ms > 0x7fffffff ? 0x7fffffff :
		    (int)ms)) == -1 && errno == EINTR)
			continue;
		if (rc <= 0) {
			if (rc == 0)
				errno = ETIMEDOUT;
			return -1;
		}
		if ((k = write(fd, p, n)) == -1 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}
