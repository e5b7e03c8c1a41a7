/*
 * action: what a check does when it fails, as a user configures it
 * (--ACTION options and the config file: off, header, defer, reject,
 * drop).
 */
#ifndef MG_ACTION_H
#define MG_ACTION_H

#include "err.h"

/* What to do when a check fails (config value names in action_names). */
enum action {
	ACT_OFF = 0,	/* the check does not run */
	ACT_HEADER,	/* accept, and say so in a header field */
	ACT_DEFER,	/* 451: try again later */
	ACT_REJECT,	/* 550: refuse */
	ACT_DROP	/* 554: refuse and close the connection */
};

/* Parses an action's name into *out.  0, or -1 and e set. */
int	 action_parse(const char *s, int *out, struct mgerr *e);
/* The name of act, or "?". */
const char *action_name(int act);

#endif
