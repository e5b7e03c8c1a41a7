/*
 * step: one run of one chain step (chain.h), the child process every
 * adapter starts.
 *
 * A step is one run of one command, as a child process with the
 * environment the caller built (stepenv: the envelope of DESIGN.md plus
 * MG_AUTHRES), stdin from a given fd (the spooled message at [data]) or
 * /dev/null, stdout a pipe, stderr inherited (the log).  It runs in its
 * own process group, so a hanging step and anything it started are
 * killed together at the timeout.  Its exit status maps to a verdict by
 * the filter contract:
 *
 *	exit 0     accept: stdout holds header fields, kept for the message
 *	exit 100   reject: stdout's first line is the reply (5xx)
 *	exit 111   defer: stdout's first line is the reply (4xx)
 *	other, a signal, a timeout, or output that breaks the contract:
 *	           defer with "451 4.3.0 temporary failure", `failed' set
 *
 * Non-blocking use (a poll(2) loop holding many sessions): step_start,
 * then poll step_fd for reading with a timeout of step_wait_ms, call
 * step_read when it is readable and step_check after every wake-up
 * (it reaps with WNOHANG and kills at the deadline) until it returns 1,
 * then step_result.  Blocking use: step_run does all of that.
 * Neither installs signal handlers; a caller that catches SIGCHLD must
 * not reap other children with waitpid(-1, ...).
 */
#ifndef MG_STEP_H
#define MG_STEP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "addr.h"
#include "chain.h"
#include "clock.h"
#include "err.h"
#include "smtp.h"

#define STEP_OUT_MAX	16384	/* stdout kept from one step */
#define STEP_DELAY_MAX	3600000	/* ms: the longest delay a step asks */

enum step_verdict { STEP_ACCEPT, STEP_REJECT, STEP_DEFER };

/* One running step.  Treat as opaque except through the calls below. */
struct step_run {
	pid_t		pid;
	int		fd;		/* stdout pipe, -1 once at EOF */
	int		status;		/* from waitpid, once reaped */
	int		reaped;
	int		timedout;
	int		overflow;	/* stdout passed STEP_OUT_MAX */
	int64_t		deadline;	/* clock_ms() clock */
	size_t		outlen;
	char		out[STEP_OUT_MAX];
};

struct step_result {
	enum step_verdict verdict;
	int		failed;		/* the step broke (a 451 of ours) */
	int		code;		/* the reply's SMTP code, 0 on accept */
	char		reply[SMTP_REPLY_MAX + 1];	/* no line end */
	char		why[96];	/* "exit 100", "timeout after 5000 ms" */
	/*
	 * Exit 0 with one bare address ("user@domain") alone on stdout:
	 * the recipient to use instead of the one given, as mg-batv prints
	 * for a tagged recipient; "" otherwise.
	 */
	char		rcpt[ADDR_BUF_MAX];
	/*
	 * Exit 0 with one number of seconds alone on stdout ("22.5"): the
	 * delay to wait before the session goes on, as mg-tarpit --print
	 * prints it, at most STEP_DELAY_MAX ms; 0 otherwise.
	 */
	int64_t		delay_ms;
	size_t		hlen;
	char		headers[STEP_OUT_MAX];	/* fields, LF line ends */
};

/*
 * Forks and runs step s with envp, stdin from in_fd (-1: /dev/null),
 * to be killed timeout_ms from now.  The child gets no other fd of the
 * caller beyond 0, 1 and 2.  0, or -1 and e set (fork or pipe failed:
 * the caller defers).
 */
int	step_start(struct step_run *r, const struct chain_step *s,
	    char *const envp[], int in_fd, unsigned timeout_ms,
	    struct mgerr *e);
/* The fd to poll for reading, or -1 when there is nothing to read. */
int	step_fd(const struct step_run *r);
/* Milliseconds until the deadline (0 when past); a poll(2) timeout. */
int	step_wait_ms(const struct step_run *r, int64_t now);
/* Reads what stdout holds without blocking.  0, or 1 at EOF. */
int	step_read(struct step_run *r);
/*
 * Reaps the step if it exited and kills its process group at the
 * deadline.  1 when the step is finished (exited and stdout at EOF, or
 * killed), 0 while it still runs.
 */
int	step_check(struct step_run *r, int64_t now);
/* Maps a finished step to its verdict (see above). */
void	step_result(const struct step_run *r, struct step_result *res);
/* Kills and reaps a step that is no longer wanted (session ended). */
void	step_abort(struct step_run *r);
/*
 * The blocking form: runs s to the end (or the timeout) and fills res.
 * 0, or -1 and e set when it could not be started; res then says defer.
 */
int	step_run(const struct chain_step *s, char *const envp[],
	    int in_fd, unsigned timeout_ms, struct step_result *res,
	    struct mgerr *e);

/*
 * Added for mg-opensmtpd, whose mail-from rewrite runs a command that
 * prints an address, not header fields.  For a finished step: points
 * *out at its stdout (*len bytes, not NUL-terminated) and returns its
 * exit status 0..255, or -1 when it was killed, timed out, died of a
 * signal or wrote more than STEP_OUT_MAX.
 */
int	step_raw(const struct step_run *r, const char **out, size_t *len);

#endif
