#include <string.h>

#include "action.h"

static const char *const names[] = {
	"off", "header", "defer", "reject", "drop"
};

int
action_parse(const char *s, int *out, struct mgerr *e)
{
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (s != NULL && strcmp(s, names[i]) == 0) {
			*out = (int)i;
			return 0;
		}
	mgerr_set(e, "%s: not an action (use off, header, defer, reject "
	    "or drop)", s ? s : "");
	return -1;
}

const char *
action_name(int act)
{
	if (act < 0 || act >= (int)(sizeof(names) / sizeof(names[0])))
		return "?";
	return names[act];
}

