/*
 * mg-opensmtpd's state: its settings, the filter protocol with smtpd
 * (smtpd-filters(7), protocol 0.6 and 0.7), and one record per SMTP
 * session.  main.c (options, the poll loop), proto.c (lines in and
 * out, the handshake), session.c (sessions and reports), steps.c (the
 * chain at each phase, answers), data.c (data-line filtering).
 */
#ifndef MG_OSMTPD_H
#define MG_OSMTPD_H

#include <poll.h>
#include <stdint.h>
#include <stdio.h>

#include "arstrip.h"
#include "chain.h"
#include "dyn.h"
#include "opt.h"
#include "session.h"
#include "smtp.h"

#define OS_LINE_MAX	(70 * 1024)	/* smtpd sends lines up to 64 KB */
#define OS_ID_LEN	16	/* session and token: 16 hex digits */
/*
 * OpenSMTPD 6.7 to 7.3 read a filter's answer into a 2048-byte buffer,
 * so a data line past this length comes back cut (issue OpenSMTPD#1192,
 * fixed in 7.4).
 */
#define OS_CUT_LEN	1997

enum os_outbound { OUT_AUTH, OUT_ALL, OUT_NONE };

/* What a session's running step is for. */
enum run_kind { RUN_CHAIN, RUN_BATV, RUN_DKIM };

/* A line of smtpd's kept while the session's request is open. */
struct qline {
	struct qline	*next;
	size_t		 len;
	int		 cut;		/* the line was too long: its head */
	char		 text[];
};

struct sess {
	struct sess	*next;		/* hash chain */
	struct qline	*qhead, **qtail;	/* lines waiting */
	char		 id[OS_ID_LEN + 1];

	/* The session and its transaction (session.h). */
	struct session	 ss;
	char		 rdns[256], fcrdns[8];	/* as link-connect says */
	int		 rcpt_refused;	/* we refused the last RCPT */

	/* The open request (one per session; data-line aside). */
	int		 busy;
	char		 phase[16];
	char		 token[OS_ID_LEN + 1];
	enum chain_stage stage;
	size_t		 stepi;
	enum run_kind	 kind;
	const struct chain_step *cur;	/* the step that runs */
	int64_t		 wake;		/* clock_ms() to go on at, or 0 */
	struct step_run	*run;
	struct chain_step xstep;	/* RUN_BATV: argv with the address */

	/* The message (data-line). */
	int		 in_data;	/* lines are coming */
	int		 passthru;	/* echo lines as they come */
	int		 data_done;	/* the lines (or "." alone) went back */
	char		 dtoken[OS_ID_LEN + 1];
	FILE		*spool;		/* unstuffed, LF ends */
	struct arstrip_buf *ar;		/* forged fields left out */
	long long	 dbytes, dlines, dcut;
	int		 dspool_err;
	int		 dverdict;	/* 0 proceed, else the reply's code */
	int		 ddrop;		/* the refusal closes the session */
	int		 dsteps;	/* a step refused (already counted) */
	char		 dreply[SMTP_REPLY_MAX + 1];
	int		 commit_wait;	/* commit came before the verdict */
	char		 ctoken[OS_ID_LEN + 1];
};

struct osmtpd {
	/* Settings. */
	const char	*chain_file, *hostname, *statedir, *relayclient;
	const char	*batv_sign, *dkim_sign;
	int64_t		 step_timeout;
	long long	 lock_timeout;
	int		 outbound;	/* enum os_outbound */
	int		 add_headers;
	int		 dyn_action;	/* ACT_*: a block, at connect and MAIL */
	struct opt_list	 dyn_record;
	struct dyn_opts	 dyn_opts;

	/* Acquired. */
	struct chain	 chain;
	struct chain	 batv, dkim;	/* one step each, in [mail]/[data] */
	struct stepenv env;
	struct session_conf sc;
	struct dyn_conf	 dyn;
	struct dyn_rule	*rules;
	int		 want[CHAIN_NSTAGES];	/* phases registered */
	int		 want_data;

	/* The protocol. */
	int		 ready;		/* config|ready seen, registered */
	int		 proto_major, proto_minor;	/* from the lines */
	int		 cut_lines;	/* smtpd < 7.4 cuts long data lines */
	char		 admd[256];
	char		 version[64];

	/* Output to smtpd: a growing buffer drained by poll. */
	char		*obuf;
	size_t		 olen, ocap;
	int		 ofail;

	struct sess	*tab[256];
	size_t		 nsess;
};

extern struct osmtpd O;

/* proto.c */
/*
 * One line from smtpd.  A line for a session whose request is still
 * open waits in the session's queue (smtpd sends the next request only
 * after the answer; a transcript piped in does not wait), except
 * link-disconnect, which ends the session at once.
 */
void	proto_line(struct osmtpd *o, char *line, size_t len);
/*
 * The head of a line too long to keep (its fields up to the token): the
 * request is answered with a temporary failure, a data line makes the
 * message deferred at commit.
 */
void	proto_cut_line(struct osmtpd *o, char *head, size_t len);
/* Handles the queued lines of sessions that are no longer busy. */
void	proto_drain(struct osmtpd *o);
void	out_line(struct osmtpd *o, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	out_raw(struct osmtpd *o, const char *a, size_t n);
/* Writes what it can without blocking; -1 when smtpd is gone. */
int	out_flush(struct osmtpd *o);
void	answer(struct osmtpd *o, const struct sess *s, const char *token,
	    const char *decision, const char *arg);

/* session.c */
struct sess *sess_get(struct osmtpd *o, const char *id, int create);
void	sess_free(struct osmtpd *o, struct sess *s);
void	report(struct osmtpd *o, char **f, size_t nf, int minor);
int	is_outbound(const struct osmtpd *o, const struct sess *s);

/* steps.c */
void	request(struct osmtpd *o, struct sess *s, const char *phase,
	    const char *token, const char *param);
/* Adds the fds of running steps to the poll set; returns the count. */
size_t	steps_poll(struct osmtpd *o, struct pollfd *pfd, size_t cap,
	    int *timeout);
/* Reads, reaps and times out running steps; answers finished stages. */
void	steps_work(struct osmtpd *o);
/* 1 while any step runs. */
int	steps_busy(const struct osmtpd *o);
void	start_stage(struct osmtpd *o, struct sess *s, enum chain_stage st);

/* data.c */
/* A data line too long to keep: the message is deferred at commit. */
void	data_line_cut(struct osmtpd *o, struct sess *s, const char *token);
void	data_line(struct osmtpd *o, struct sess *s, const char *token,
	    const char *line);
void	data_steps_done(struct osmtpd *o, struct sess *s);
void	commit(struct osmtpd *o, struct sess *s, const char *token);
void	data_close(struct sess *s);

#endif
