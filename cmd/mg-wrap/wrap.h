/*
 * mg-wrap's state, one struct per owner: the settings (struct
 * wrap_conf, main.c), the client connection (struct client, client.c
 * and tls.c), the real SMTP server (struct server, server.c and
 * relay.c), and the session with its transaction (struct session, the
 * engine of session.h, driven by session.c, auth.c, data.c and relay.c).
 *
 * The client side (client.c, tls.c) never calls the server side
 * (server.c, relay.c), which relays to the client only the replies it
 * owes; session.c, auth.c and data.c run the dialogue and call both,
 * and say() is the one path of mg-wrap's own replies.  steps.c runs the
 * chain on the engine; qq.c is the QMAILQUEUE mode.
 */
#ifndef MG_WRAP_H
#define MG_WRAP_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "arstrip.h"
#include "chain.h"
#include "dyn.h"
#include "opt.h"
#include "session.h"
#include "smtp.h"

#define WRAP_PEND_MAX	32	/* commands sent ahead of their replies */

/* A command relayed to the real server whose reply is still to come. */
struct pend {
	char	 kind;		/* 'M' MAIL, 'R' RCPT, 'D' DATA */
	char	 addr[ADDR_BUF_MAX];	/* the RCPT, for the log */
};

/* The settings and what they acquired: main.c (tls.c the TLS context). */
struct wrap_conf {
	const char	*hostname, *statedir, *resolver, *chain_file;
	const char	*checkpassword, *relayclient;
	const char	*tls_cert, *tls_key;
	int		 auth_cram;
	int64_t		 step_timeout, server_timeout, idle_timeout;
	int64_t		 session_timeout, greet_delay, auth_delay;
	long long	 max_commands, max_rcpt, max_errors, databytes;
	long long	 lock_timeout;
	int		 auth_plain_ok, smtps, qmail_queue, wait_rcpt;
	int		 dyn_action;
	struct opt_list	 dyn_record;
	struct dyn_opts	 dyn_opts;
	char		**server_argv;

	struct chain	 chain;
	struct session_conf sc;
	struct dyn_conf	 dyn;
	struct dyn_rule	*rules;
	void		*tls_ctx;	/* SSL_CTX */
};

/* The connection to the client: client.c (tls.c the TLS session). */
struct client {
	int		 in, out;
	void		*ssl;		/* SSL, once TLS is up */
	struct smtp_rd	 rd;
	char		 obuf[8192];
	size_t		 olen;
	int64_t		 deadline;	/* clock_ms() the session must end */
};

/* The real server: server.c, relay.c (the commands sent ahead). */
struct server {
	pid_t		 pid;
	int		 in, out;	/* its stdin (we write), stdout */
	struct smtp_rd	 rd;
	char		 reply[4096];	/* its last reply, LF lines */
	size_t		 replylen;
	int		 pipelining, size, eightbit;	/* EHLO extensions */
	char		 obuf[16384];	/* what we send it, buffered */
	size_t		 olen;
	struct pend	 pend[WRAP_PEND_MAX];	/* RFC 2920 */
	size_t		 npend, nrpend;
	int		 dcode;		/* DATA's reply, sent ahead */
};

struct wrap {
	struct wrap_conf c;
	/*
	 * The environment of the steps and the server: main.c makes it of
	 * its own, the engine sets the envelope's names for each step
	 * (session_env), server.c the AUTH names for the server.
	 */
	struct stepenv	 env;
	struct client	 cl;
	struct server	 srv;
	/* The session and its transaction: session.c and the engine. */
	struct session	 s;
	const char	*end;		/* why the session ended */
};


/* main.c */
void	wrap_usage(void) __attribute__((noreturn));

/* client.c: the client, and nothing but the client. */
/* Sets up the client on fd 0 and 1. */
void	cl_init(struct wrap *w);
/* Buffers a reply line for the client; say() keeps the order. */
void	cl_put(struct wrap *w, const char *line);
int	cl_flush(struct wrap *w);
/* 1 with a whole line (or a piece of a long one) buffered, else 0. */
int	cl_buffered(struct wrap *w, struct smtp_line *ln);
/* Flushes, waits and reads: 1 read, 0 EOF, -1 error, -2 timeout. */
int	cl_fill(struct wrap *w);
/* 1 if the client sends within ms, 0 if not. */
int	cl_talks(struct wrap *w, int64_t ms);

/* server.c: the real server. */
/* No server yet. */
void	srv_init(struct wrap *w);
int	srv_running(const struct wrap *w);
/* Starts it and replays HELO/EHLO; 0, or -1 (logged). */
int	srv_start(struct wrap *w);
/*
 * Sends a line and reads the reply (after any pending ones): its code,
 * or -1 if the server is gone.
 */
int	srv_cmd(struct wrap *w, const char *line);
/* Buffers bytes for the server (flushed by srv_flush/srv_reply). */
int	srv_send(struct wrap *w, const char *buf, size_t len);
int	srv_flush(struct wrap *w);
/* Reads one reply, after flushing what is buffered. */
int	srv_reply(struct wrap *w);
/* Relays the server's last reply to the client. */
void	srv_relay(struct wrap *w);
void	srv_stop(struct wrap *w, int polite);
/* Kills the server mid-transaction so nothing it holds is queued. */
void	srv_abort(struct wrap *w);

/* relay.c: MAIL, RCPT and DATA sent ahead of their replies. */
/* Queues a command (kind as in struct pend) for the server. */
int	srv_queue(struct wrap *w, char kind, const char *line,
	    const char *addr);
/* Reads every pending reply and relays it to the client, in order. */
void	srv_drain(struct wrap *w);
/*
 * Sends DATA after what was sent ahead and reads every reply: DATA's
 * code (354 to go on), or -1 when the server is gone.
 */
int	srv_data(struct wrap *w);
/* Notes the extensions the server named in its EHLO reply. */
void	srv_ehlo_ext(struct wrap *w);

/* steps.c */
/*
 * Runs a stage: SESSION_GO, or the refusal in w->s.ans, which the
 * caller sends with refuse_stage.
 */
enum session_do run_stage(struct wrap *w, enum chain_stage st, int spool);
/* Sends the stage's refusal; a drop ends the session. */
void	refuse_stage(struct wrap *w);

/* session.c */
int	client_session(struct wrap *w);
/* Every reply of mg-wrap's own, in the order of the commands. */
void	say(struct wrap *w, const char *line);
void	sayf(struct wrap *w, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* The client's next line: 1, 0 EOF, -1 error, -2 timeout. */
int	client_line(struct wrap *w, struct smtp_line *ln);
/* Flushes, logs the end of the session and exits 0. */
void	bye(struct wrap *w, const char *end) __attribute__((noreturn));
/*
 * Ends the session with the block reply when the dynamic screen blocks
 * the client now (checked at stage, such as "auth" or "mail").
 */
void	blocked_now(struct wrap *w, const char *stage);
/* A command refused for its syntax or sequence: counts to --max-errors. */
void	bad(struct wrap *w, const char *reply);

/* data.c */
void	cmd_data(struct wrap *w);
/* Logs the Authentication-Results fields ab left out, if any. */
void	forged_log(struct wrap *w, const struct arstrip_buf *ab);

/* auth.c */
int	auth_offered(const struct wrap *w);
const char *auth_mechs(const struct wrap *w);
void	cmd_auth(struct wrap *w, const char *arg);

/* tls.c */
int	tls_setup(struct wrap *w, struct mgerr *e);
int	tls_start(struct wrap *w);
ssize_t	tls_read(struct wrap *w, void *buf, size_t n);
ssize_t	tls_write(struct wrap *w, const void *buf, size_t n);
int	tls_pending(struct wrap *w);

/* qq.c */
int	qq_main(struct wrap *w);

#endif
