/*
 * outcome: the outcome of a check and how it leaves the program (the filter
 * contract in mailguard(7)).
 *
 *   exit 0    accept; stdout holds zero or more header fields
 *   exit 100  reject; stdout holds one SMTP reply line ("550 5.7.1 ...")
 *   exit 111  defer, and every internal error; one line ("451 4.7.1 ...")
 *
 * With --spp the same outcome is written as qmail-spp plugin commands
 * (E + reply to refuse the command, R + reply to refuse and drop the
 * connection, H + header line to add) and the exit status is 0.
 */
#ifndef MG_OUTCOME_H
#define MG_OUTCOME_H

#include <stddef.h>

#include "action.h"
#include "err.h"
#include "hdr.h"

#define EXIT_ACCEPT	0
#define EXIT_REJECT	100
#define EXIT_DEFER	111

#define OUTCOME_MAXHDR	16

struct outcome {
	int	 code;		/* EXIT_ACCEPT, EXIT_REJECT or EXIT_DEFER */
	int	 drop;		/* close the connection after the reply */
	char	 reply[512];	/* one SMTP reply line, no line break */
	char	*hdr[OUTCOME_MAXHDR];	/* folded header fields, "\n" joined */
	size_t	 nhdr;
};

void	outcome_init(struct outcome *o);
void	outcome_free(struct outcome *o);
/*
 * Sets a refusal unless one is already set (the first refusal decides).
 * code is EXIT_REJECT or EXIT_DEFER; smtp and status are the reply code
 * and RFC 3463 enhanced status ("550", "5.7.1"); text is sanitised.
 */
void	outcome_refuse(struct outcome *o, int code, const char *smtp,
	    const char *status, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));
/* Applies an action: ACT_DEFER/REJECT/DROP refuse with the default codes
 * (451 4.7.1, 550 5.7.1, 554 5.7.1); ACT_OFF and ACT_HEADER do nothing. */
void	outcome_act(struct outcome *o, int act, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Defers for an internal error: "451 4.3.0 temporary failure (...)". */
void	outcome_tempfail(struct outcome *o, const char *why);
/* Adds a header field (folded here).  0, or -1 and e set. */
int	outcome_header(struct outcome *o, const char *name, const char *value,
	    struct mgerr *e);
/*
 * Writes the outcome to stdout as the contract says (or as qmail-spp
 * commands when spp is set; crlf ends lines with CRLF) and returns the
 * exit status.
 */
int	outcome_emit(const struct outcome *o, int spp, int crlf);

#endif
