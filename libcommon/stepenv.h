/*
 * stepenv: the environment a chain step runs with (execve(2)'s envp):
 * the adapter's own environment plus the envelope names of mailguard(7)
 * as the SMTP dialogue sets them.
 */
#ifndef MG_STEPENV_H
#define MG_STEPENV_H

#include <stddef.h>

/*
 * An environment under construction: "NAME=value" strings owned by it,
 * NULL-terminated in v, ready for execve(2).
 */
struct stepenv {
	char	**v;
	size_t	  n, cap;
};

/* Copies base (such as environ; may be NULL).  0, or -1 out of memory. */
int	stepenv_init(struct stepenv *ce, char *const *base);
/* Sets name to value, or removes it when value is NULL.  0 or -1. */
int	stepenv_set(struct stepenv *ce, const char *name,
	    const char *value);
/* The value of name, or NULL. */
const char *stepenv_get(const struct stepenv *ce, const char *name);
/*
 * Sets the names of mailguard(7) that follow the SMTP dialogue, for both
 * adapters: SMTPHELOHOST, SMTPMAILFROM, SMTPRCPTTO, SMTPRCPTCOUNT and
 * MG_AUTHRES.  A NULL helo or from (no HELO yet, no transaction), nrcpt
 * -1, or an empty rcpt or authres removes the name; from "" is the null
 * sender and stays.  0, or -1 out of memory.
 */
int	stepenv_smtp(struct stepenv *ce, const char *helo,
	    const char *from, const char *rcpt, long long nrcpt,
	    const char *authres);
void	stepenv_free(struct stepenv *ce);

#endif
