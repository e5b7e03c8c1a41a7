/*
 * chain: the chain file every adapter reads (mg-wrap, mg-opensmtpd).
 *
 * A chain file lists, per SMTP stage, the programs to run, one command a
 * line, in the sections [connect] [helo] [mail] [rcpt] [data]:
 *
 *	[rcpt]
 *	/usr/local/bin/mg-screen --blacklist /etc/mailguard/blacklist
 *	: mg-greylist | logger    # ':' runs the rest through /bin/sh -c
 *
 * A command is split at blanks; '...' quotes literally and "..." quotes
 * with \" and \\ escapes.  '#' after a blank starts a comment.
 */
#ifndef MG_CHAIN_H
#define MG_CHAIN_H

#include <stddef.h>

#include "err.h"

enum chain_stage {
	CHAIN_CONNECT, CHAIN_HELO, CHAIN_MAIL, CHAIN_RCPT, CHAIN_DATA,
	CHAIN_NSTAGES
};

#define CHAIN_LINE_MAX	4096	/* longest line of a chain file */
#define CHAIN_ARGS_MAX	64	/* words of one command */
#define CHAIN_STEPS_MAX	64	/* commands in one stage */

struct chain_step {
	char		**argv;		/* NULL-terminated; argv[0] is run */
	char		 *text;		/* the command as written */
	char		  name[64];	/* short name for logs: basename */
	unsigned	  line;		/* line in the chain file */
};

struct chain {
	struct chain_step	*step[CHAIN_NSTAGES];
	size_t			 n[CHAIN_NSTAGES];
};

/* "connect", "helo", "mail", "rcpt", "data". */
const char	*chain_stage_name(enum chain_stage st);
/*
 * Parses a chain file's text (len bytes, need not be NUL-terminated)
 * into c, which must be zeroed.  name is used in messages.  0, or -1
 * with e naming "NAME:LINE" and the problem; c is then freed.
 */
int	chain_parse(struct chain *c, const char *text, size_t len,
	    const char *name, struct mgerr *e);
/* Reads and parses the file at path.  0, or -1 and e set. */
int	chain_load(struct chain *c, const char *path, struct mgerr *e);
void	chain_free(struct chain *c);

#endif
