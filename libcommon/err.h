/*
 * err: how library functions report failure.
 *
 * Library functions never print and never exit.  A function that can fail
 * takes a struct mgerr * as its last argument, fills it on failure and
 * returns -1 (or NULL).  The caller turns it into a message and an exit
 * code.  `temp' tells a temporary failure (DNS timeout, lock wait, I/O)
 * from a permanent one (bad syntax); callers map both to 111 in the
 * filter contract, but some (DNS answers) need the difference.
 */
#ifndef MG_ERR_H
#define MG_ERR_H

#include <stddef.h>

#define MGERR_MAX 512

struct mgerr {
	char	msg[MGERR_MAX];	/* one line, no trailing newline */
	int	temp;		/* 1 for a temporary failure */
};

/* Sets e->msg from a printf format and e->temp to 0; e may be NULL. */
void	mgerr_set(struct mgerr *e, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* As mgerr_set, and marks the failure temporary. */
void	mgerr_temp(struct mgerr *e, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Prefixes e->msg with "FILE:LINE: " so a parse error names its place. */
void	mgerr_at(struct mgerr *e, const char *file, unsigned long line);
/* Clears e. */
void	mgerr_clear(struct mgerr *e);

#endif
