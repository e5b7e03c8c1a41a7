/*
 * fields: the header fields a session's steps add, kept per scope (the
 * session, the transaction) without repeats.
 */
#ifndef MG_FIELDS_H
#define MG_FIELDS_H

#include <stddef.h>

/* The longest field fields_merge keeps whole (a step's whole stdout). */
#define FIELDS_MAX	16384

/*
 * Appends the LF-ended header fields in `fields' to buf (NUL-terminated,
 * capacity cap), skipping a field already in buf or in `also' (may be
 * NULL): the same step run at several stages or for each recipient
 * must not add its field twice.  Returns the fields dropped for lack of
 * room.
 */
int	fields_merge(char *buf, size_t cap, const char *also,
	    const char *fields);

#endif
