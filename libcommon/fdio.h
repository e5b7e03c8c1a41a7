/*
 * fdio: whole writes to a pipe or socket with a time limit, for the
 * adapters' peers (the client, the real server).
 */
#ifndef MG_FDIO_H
#define MG_FDIO_H

#include <stddef.h>
#include <stdint.h>

/*
 * Writes all n bytes of p to fd, waiting at most ms for each chance to
 * write (poll(2)); EINTR is retried.  0, or -1 with errno set (ETIMEDOUT
 * when the peer took no bytes in time).
 */
int	fdio_write(int fd, const void *p, size_t n, int64_t ms);

#endif
