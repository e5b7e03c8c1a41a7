/*
 * session: the session engine every adapter uses (mg-wrap, mg-opensmtpd).
 * It holds the client and the transaction, builds the environment a step
 * gets, applies each step's verdict, writes the decision log line and
 * records the dynamic-screen events; the adapter only speaks its
 * protocol.  It tells the engine what the client said (the fields below,
 * session_txn_reset), runs the steps the engine hands out, and sends the
 * reply the engine returns.
 *
 * A stage, blocking (one session a process):
 *
 *	if (session_run_stage(s, CHAIN_RCPT, -1, &env, ms) != SESSION_GO)
 *		send s->ans.reply; if s->ans.what == SESSION_DROP, close;
 *
 * or non-blocking (a poll loop holding many sessions):
 *
 *	session_stage_begin(s, st);
 *	while ((step = session_next_step(s)) != NULL) {
 *		session_env(s, &env); step_start(&run, step, env.v, ...);
 *		... poll until step_check says done ...
 *		step_result(&run, &res); session_step_done(s, step, &res);
 *	}
 *	then s->ans says what to answer.
 *
 * Every refusal a step gives ends its stage.  A refusal with reply code
 * 421 or 521, or 554 before DATA (what a check's `drop' action writes),
 * is a drop: the adapter sends the reply and closes the connection.
 */
#ifndef MG_SESSION_H
#define MG_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "chain.h"
#include "dyn.h"
#include "ip.h"
#include "opt.h"
#include "smtp.h"
#include "step.h"
#include "stepenv.h"

#define SESSION_HDR_MAX		16384	/* header fields kept per scope */
#define SESSION_AUTHRES_MAX	2048	/* MG_AUTHRES */

/* What every session of one adapter shares: its settings. */
struct session_conf {
	const char	*prog;		/* "mg-wrap", for nothing but logs */
	const char	*hostname;	/* the authserv-id */
	const char	*statedir;	/* the dynamic screen's store */
	const char	*relayclient;	/* RELAYCLIENT for an AUTH client */
	long long	 lock_timeout;	/* ms, for the store */
	int		 dyn_action;	/* ACT_*: what a block does */
	const struct opt_list *dyn_record;	/* events; none: defaults */
	const struct dyn_conf *dyn;
	const struct chain *chain;
	int		 log_pid;	/* add pid= to every line */
};

/* The client, as the adapter learns of it. */
struct session_client {
	char		 ip[IP_STRLEN + 8];	/* "unknown" when none */
	struct ipaddr	 ipa;
	int		 have_ip;
	char		 port[8], lip[IP_STRLEN + 8], lport[8];
	char		 host[256];	/* its PTR name; "" unknown */
	char		 helo[256];
	int		 helo_done, ehlo;
	char		 tls[128];	/* "" in the clear */
	char		 auth_user[256];	/* "" not authenticated */
	/* RELAYCLIENT as the client's environment has it (tcprules). */
	const char	*relay_env;
};

/* The transaction, from MAIL to the end of DATA or RSET. */
struct session_txn {
	int		 in_mail;
	char		 from[ADDR_BUF_MAX];	/* "" the null sender */
	char		 rcpt[ADDR_BUF_MAX];	/* the latest */
	long long	 nrcpt;		/* recipients the server took */
	char		 hdr[SESSION_HDR_MAX];	/* fields of mail, rcpt, data */
};

enum session_do {
	SESSION_GO,		/* accepted: go on */
	SESSION_REFUSE,		/* send ans.reply, the session goes on */
	SESSION_DROP		/* send ans.reply and close */
};

/* What the adapter must do once a stage is over. */
struct session_answer {
	enum session_do	 what;
	int		 code;		/* the reply's code; 0 on GO */
	char		 reply[SMTP_REPLY_MAX + 1];	/* no line end */
	int		 rewrote;	/* a step named another address: the
					   rcpt (tx.rcpt) or the sender (tx.from) */
};

struct session {
	const struct session_conf *conf;
	char		 id[32];	/* the adapter's session id, or "" */
	struct session_client cl;
	struct session_txn tx;
	char		 authres[SESSION_AUTHRES_MAX];	/* MG_AUTHRES */
	char		 hdr[SESSION_HDR_MAX];	/* fields of connect, helo, auth */
	int64_t		 start;		/* clock_ms() at the start */
	long long	 ncmd;		/* commands; -1 when the adapter can't count */
	long long	 nerr, nmsg, nrefused;

	/* The stage being run. */
	enum chain_stage stage;
	size_t		 stepi;		/* the next step */
	int		 over;		/* the stage has its answer */
	int64_t		 delay_ms;	/* to wait before the next step */
	struct session_answer ans;
};

/* Starts a session with conf (kept, not copied) and the adapter's id. */
void	session_init(struct session *s, const struct session_conf *conf,
	    const char *id);
/* Sets the client's address from text: 0, or -1 ("unknown", no IP). */
int	session_set_ip(struct session *s, const char *ip);
/* A successful AUTH as user: auth=pass in MG_AUTHRES and a log line. */
void	session_auth_pass(struct session *s, const char *mech,
	    const char *user);
/* Ends the transaction (RSET, HELO, the end of DATA). */
void	session_txn_reset(struct session *s);
/*
 * Sets in e what a step sees (mailguard(7)): TCPREMOTEIP and the other
 * tcpserver names, SMTPHELOHOST ... MG_AUTHRES, and SMTPAUTHUSER with
 * RELAYCLIENT for an AUTH client.  0, or -1 out of memory.
 */
int	session_env(const struct session *s, struct stepenv *e);

/* Begins stage st: the steps of the chain's section, in order. */
void	session_stage_begin(struct session *s, enum chain_stage st);
/* The next step to run, or NULL when the stage is over (see s->ans). */
const struct chain_step *session_next_step(struct session *s);
/*
 * Applies step st's verdict: logs it; on accept keeps its header fields
 * (session scope before MAIL, else the transaction's) and its results
 * for MG_AUTHRES, takes the recipient it names at [rcpt] or the sender
 * it names at [mail], or sets
 * s->delay_ms to the delay it asks for (mg-tarpit --print), which the
 * adapter waits, without blocking other sessions, before it goes on;
 * on a refusal ends the stage with it.
 */
void	session_step_done(struct session *s, const struct chain_step *st,
	    const struct step_result *res);
/* Step st could not be started (why): the stage ends with a 451. */
void	session_step_failed(struct session *s, const struct chain_step *st,
	    const char *why);
/* Ends the stage with a refusal of the adapter's own (reply, why). */
void	session_refuse(struct session *s, const char *step,
	    const char *reply, const char *why);
/*
 * The blocking form: runs every step of stage st with stdin from in_fd
 * (-1: /dev/null) and environment e, each for at most timeout_ms.
 * Returns s->ans.what.
 */
enum session_do session_run_stage(struct session *s, enum chain_stage st,
	    int in_fd, struct stepenv *e, unsigned timeout_ms);

/*
 * The decision log line, the same in every adapter: stage= step=
 * decision= session= ip= helo= auth= from= rcpt= reply= why= (pid=),
 * each present when known.  Of a multi-line reply the last line.
 */
void	session_log(const struct session *s, const char *stage,
	    const char *step, const char *decision, const char *reply,
	    const char *why);
/* The line that ends a session: counts, how long, and end= why. */
void	session_log_end(const struct session *s, const char *end);

/*
 * Records a dynamic-screen event for the client, if the configured
 * events (by default auth-fail, unknown-rcpt and pregreet) name it, and
 * logs it.  1 when it got the client blocked, else 0; a store error is
 * logged as a warning and counts as 0.
 */
int	session_event(struct session *s, const char *event);
/*
 * 1 with the reply in reply (cap bytes) when a block of the dynamic
 * screen covers the client (--dyn-action off: never), or when the store
 * cannot be read (a 451); the block is then logged as a decision of
 * stage ("connect", "auth", "mail") and counted as a refusal.  0 when
 * not blocked.
 */
int	session_blocked(struct session *s, const char *stage, char *reply,
	    size_t cap);
/* 1 when reply (its code) ends the session at stage st (see above). */
int	session_drops(const char *reply, enum chain_stage st);

#endif
