/*
 * step_raw: the raw output of a finished step, for the callers whose
 * command prints something other than header fields (step.h).
 */
#include <sys/wait.h>

#include "step.h"

int
step_raw(const struct step_run *r, const char **out, size_t *len)
{
	*out = r->out;
	*len = r->outlen;
	if (!r->reaped || r->timedout || r->overflow ||
	    !WIFEXITED(r->status))
		return -1;
	return WEXITSTATUS(r->status);
}
