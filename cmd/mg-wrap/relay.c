/*
 * mg-wrap's pipelining towards the real server (RFC 2920).  When the
 * server named PIPELINING in its EHLO reply, MAIL, RCPT and DATA go to
 * it in one write and their replies are read later, in order, by
 * srv_drain, which relays them to the client: they are the oldest
 * replies owed.  srv_drain runs before mg-wrap says anything of its own
 * to the client (say, in session.c), before a chain stage runs, before
 * any command but RCPT and DATA, before any other server command
 * (srv_cmd), and before it waits for the client (client_line), so the
 * client hears every reply in the order of its commands, every command
 * sees the transaction as the server left it, and nothing waits on a
 * reply that was never asked for.
 * Without PIPELINING each command is drained at once, one at a time.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "wrap.h"

int
srv_queue(struct wrap *w, char kind, const char *line, const char *addr)
{
	struct pend *p;
	size_t n = strlen(line);

	if (w->srv.npend == WRAP_PEND_MAX)
		srv_drain(w);
	if (!srv_running(w) && srv_start(w) == -1)
		return -1;
	if (n > SMTP_CMD_MAX || srv_send(w, line, n) == -1 ||
	    srv_send(w, "\r\n", 2) == -1)
		return -1;
	p = &w->srv.pend[w->srv.npend++];
	p->kind = kind;
	strlcpy(p->addr, addr != NULL ? addr : "", sizeof(p->addr));
	if (kind == 'R')
		w->srv.nrpend++;
	if (!w->srv.pipelining)
		srv_drain(w);
	return 0;
}

int
srv_data(struct wrap *w)
{
	w->srv.dcode = -1;
	(void)srv_queue(w, 'D', "DATA", NULL);
	srv_drain(w);
	return w->srv.dcode;
}

/* What a reply (code, or -1 when the server is gone) means for us. */
static void
pend_done(struct wrap *w, const struct pend *p, int code)
{
	char save[sizeof(w->s.tx.rcpt)];

	switch (p->kind) {
	case 'M':
		if (code / 100 == 2)
			break;
		session_log(&w->s, "mail", "server", code == -1 ? "defer" :
		    "refused", w->srv.reply, code == -1 ? "server died" : NULL);
		session_txn_reset(&w->s);
		break;
	case 'R':
		if (code / 100 == 2 && w->s.tx.in_mail) {
			w->s.tx.nrcpt++;
			break;
		}
		strlcpy(save, w->s.tx.rcpt, sizeof(save));
		strlcpy(w->s.tx.rcpt, p->addr, sizeof(w->s.tx.rcpt));
		session_log(&w->s, "rcpt", "server", code == -1 ? "defer" :
		    "refused", w->srv.reply, code == -1 ? "server died" : NULL);
		strlcpy(w->s.tx.rcpt, save, sizeof(w->s.tx.rcpt));
		if (code == 550)
			session_event(&w->s, "unknown-rcpt");
		break;
	default:
		w->srv.dcode = code;
		break;
	}
}

void
srv_drain(struct wrap *w)
{
	size_t i;
	int code;

	if (w->srv.npend == 0)
		return;
	for (i = 0; i < w->srv.npend; i++) {
		code = srv_running(w) ? srv_reply(w) : -1;
		/* DATA's reply is for data.c to act on. */
		if (w->srv.pend[i].kind != 'D') {
			if (code == -1)
				cl_put(w, "451 4.3.0 temporary failure "
				    "(server died)");
			else
				srv_relay(w);
		}
		pend_done(w, &w->srv.pend[i], code);
	}
	w->srv.npend = w->srv.nrpend = 0;
}

/* RFC 5321 section 4.1.1.1: "250-KEYWORD params" after the first line. */
void
srv_ehlo_ext(struct wrap *w)
{
	const char *p = strchr(w->srv.reply, '\n');
	size_t n;

	w->srv.pipelining = w->srv.size = w->srv.eightbit = 0;
	while (p != NULL && p[1] != '\0') {
		p++;
		if (strlen(p) > 4) {
			n = strcspn(p + 4, " \n");
			if (n == 10 && strncasecmp(p + 4, "PIPELINING", n) == 0)
				w->srv.pipelining = 1;
			else if (n == 4 && strncasecmp(p + 4, "SIZE", n) == 0)
				w->srv.size = 1;
			else if (n == 8 && strncasecmp(p + 4, "8BITMIME", n)
			    == 0)
				w->srv.eightbit = 1;
		}
		p = strchr(p, '\n');
	}
}
