/*
 * spool: the temporary files that hold a message or a queue envelope
 * while a program works on it.
 *
 * A spool file lives in $TMPDIR, else /tmp, as "DIR/TAG.XXXXXX" made by
 * mkstemp(3) (mode 0600), and is unlinked at once: only the descriptor
 * names it, so nothing is left behind when the process dies, and no
 * other process can open it.  Failures are temporary (e->temp = 1):
 * the caller defers.
 */
#ifndef MG_SPOOL_H
#define MG_SPOOL_H

#include <stdio.h>

#include "err.h"

/* The directory spool files go to: $TMPDIR if set and not empty, else
 * "/tmp".  The string belongs to the environment or is static. */
const char	*spool_dir(void);
/*
 * Makes an unlinked spool file named after tag ("mg-wrap") and returns
 * its descriptor, open for reading and writing; the caller closes it.
 * -1 and e set to "DIR: reason".
 */
int		 spool_fd(const char *tag, struct mgerr *e);
/* As spool_fd, as a stream opened "w+"; the caller fcloses it. */
FILE		*spool_file(const char *tag, struct mgerr *e);

#endif
