/*
 * chain: the chain runner both adapters use (mg-wrap, mg-opensmtpd).
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
 *
 * A step is one run of one command, as a child process with the
 * environment the caller built (chain_env: the envelope of DESIGN.md plus
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
 * Non-blocking use (a poll(2) loop holding many sessions): chain_start,
 * then poll chain_fd for reading with a timeout of chain_wait_ms, call
 * chain_read when it is readable and chain_check after every wake-up
 * (it reaps with WNOHANG and kills at the deadline) until it returns 1,
 * then chain_result.  Blocking use: chain_run_step does all of that.
 * Neither installs signal handlers; a caller that catches SIGCHLD must
 * not reap other children with waitpid(-1, ...).
 */
#ifndef MG_CHAIN_H
#define MG_CHAIN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "smtp.h"

enum chain_stage {
	CHAIN_CONNECT, CHAIN_HELO, CHAIN_MAIL, CHAIN_RCPT, CHAIN_DATA,
	CHAIN_NSTAGES
};

#define CHAIN_LINE_MAX	4096	/* longest line of a chain file */
#define CHAIN_ARGS_MAX	64	/* words of one command */
#define CHAIN_STEPS_MAX	64	/* commands in one stage */
#define CHAIN_OUT_MAX	16384	/* stdout kept from one step */

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

/*
 * An environment under construction: "NAME=value" strings owned by it,
 * NULL-terminated in v, ready for execve(2).
 */
struct chain_env {
	char	**v;
	size_t	  n, cap;
};

/* Copies base (such as environ; may be NULL).  0, or -1 out of memory. */
int	chain_env_init(struct chain_env *ce, char *const *base);
/* Sets name to value, or removes it when value is NULL.  0 or -1. */
int	chain_env_set(struct chain_env *ce, const char *name,
	    const char *value);
/* The value of name, or NULL. */
const char *chain_env_get(const struct chain_env *ce, const char *name);
/*
 * Sets the names of mailguard(7) that follow the SMTP dialogue, for both
 * adapters: SMTPHELOHOST, SMTPMAILFROM, SMTPRCPTTO, SMTPRCPTCOUNT and
 * MG_AUTHRES.  A NULL helo or from (no HELO yet, no transaction), nrcpt
 * -1, or an empty rcpt or authres removes the name; from "" is the null
 * sender and stays.  0, or -1 out of memory.
 */
int	chain_env_smtp(struct chain_env *ce, const char *helo,
	    const char *from, const char *rcpt, long long nrcpt,
	    const char *authres);
void	chain_env_free(struct chain_env *ce);

enum chain_verdict { CHAIN_ACCEPT, CHAIN_REJECT, CHAIN_DEFER };

/* One running step.  Treat as opaque except through the calls below. */
struct chain_run {
	pid_t		pid;
	int		fd;		/* stdout pipe, -1 once at EOF */
	int		status;		/* from waitpid, once reaped */
	int		reaped;
	int		timedout;
	int		overflow;	/* stdout passed CHAIN_OUT_MAX */
	int64_t		deadline;	/* chain_now_ms() clock */
	size_t		outlen;
	char		out[CHAIN_OUT_MAX];
};

struct chain_result {
	enum chain_verdict verdict;
	int		failed;		/* the step broke (a 451 of ours) */
	int		code;		/* the reply's SMTP code, 0 on accept */
	char		reply[SMTP_REPLY_MAX + 1];	/* no line end */
	char		why[96];	/* "exit 100", "timeout after 5000 ms" */
	/*
	 * Exit 0 with one bare address ("user@domain") alone on stdout:
	 * the recipient to use instead of the one given, as mg-batv prints
	 * for a tagged recipient; "" otherwise.
	 */
	char		rcpt[600];
	size_t		hlen;
	char		headers[CHAIN_OUT_MAX];	/* fields, LF line ends */
};

/* Milliseconds on the monotonic clock. */
int64_t	chain_now_ms(void);
/*
 * Forks and runs step s with envp, stdin from in_fd (-1: /dev/null),
 * to be killed timeout_ms from now.  The child gets no other fd of the
 * caller beyond 0, 1 and 2.  0, or -1 and e set (fork or pipe failed:
 * the caller defers).
 */
int	chain_start(struct chain_run *r, const struct chain_step *s,
	    char *const envp[], int in_fd, unsigned timeout_ms,
	    struct mgerr *e);
/* The fd to poll for reading, or -1 when there is nothing to read. */
int	chain_fd(const struct chain_run *r);
/* Milliseconds until the deadline (0 when past); a poll(2) timeout. */
int	chain_wait_ms(const struct chain_run *r, int64_t now);
/* Reads what stdout holds without blocking.  0, or 1 at EOF. */
int	chain_read(struct chain_run *r);
/*
 * Reaps the step if it exited and kills its process group at the
 * deadline.  1 when the step is finished (exited and stdout at EOF, or
 * killed), 0 while it still runs.
 */
int	chain_check(struct chain_run *r, int64_t now);
/* Maps a finished step to its verdict (see above). */
void	chain_result(const struct chain_run *r, struct chain_result *res);
/* Kills and reaps a step that is no longer wanted (session ended). */
void	chain_abort(struct chain_run *r);
/*
 * The blocking form: runs s to the end (or the timeout) and fills res.
 * 0, or -1 and e set when it could not be started; res then says defer.
 */
int	chain_run_step(const struct chain_step *s, char *const envp[],
	    int in_fd, unsigned timeout_ms, struct chain_result *res,
	    struct mgerr *e);

/*
 * Appends the results of the Authentication-Results fields in headers
 * (RFC 8601 section 2.2: what follows the authserv-id, unfolded) to the
 * "; "-separated list in dst (capacity cap), for MG_AUTHRES.  A result
 * already present is not repeated.  Returns the results added.
 */
int	chain_authres_merge(char *dst, size_t cap, const char *headers);

/*
 * Added for mg-opensmtpd, whose mail-from rewrite runs a command that
 * prints an address, not header fields.  For a finished step: points
 * *out at its stdout (*len bytes, not NUL-terminated) and returns its
 * exit status 0..255, or -1 when it was killed, timed out, died of a
 * signal or wrote more than CHAIN_OUT_MAX.
 */
int	chain_raw(const struct chain_run *r, const char **out, size_t *len);
/*
 * Appends the LF-ended header fields in `fields' to buf (NUL-terminated,
 * capacity cap), skipping a field already in buf or in `also' (may be
 * NULL): the same step run at several stages or for each recipient
 * must not add its field twice.  Returns the fields dropped for lack of
 * room.
 */
int	chain_hdr_merge(char *buf, size_t cap, const char *also,
	    const char *fields);

#endif
