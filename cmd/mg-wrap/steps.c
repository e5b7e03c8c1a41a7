/*
 * mg-wrap's chain stages, on the session engine (session.h): the steps
 * run in this process's session, one after the other.
 */
#include "wrap.h"

enum session_do
run_stage(struct wrap *w, enum chain_stage st, int spool)
{
	if (w->c.chain.n[st] > 0)
		/* The steps see the transaction as the server left it. */
		srv_drain(w);
	return session_run_stage(&w->s, st, spool, &w->env,
	    (unsigned)(w->c.step_timeout * 1000));
}

void
refuse_stage(struct wrap *w)
{
	say(w, w->s.ans.reply);
	if (w->s.ans.what == SESSION_DROP)
		bye(w, "drop");
}
