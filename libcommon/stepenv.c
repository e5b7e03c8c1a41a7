#include <stdlib.h>
#include <string.h>

#include "stepenv.h"

int
stepenv_init(struct stepenv *ce, char *const *base)
{
	size_t i;

	ce->v = NULL;
	ce->n = ce->cap = 0;
	for (i = 0; base != NULL && base[i] != NULL; i++) {
		const char *eq = strchr(base[i], '=');
		char name[256];

		if (eq == NULL || (size_t)(eq - base[i]) >= sizeof(name))
			continue;
		memcpy(name, base[i], (size_t)(eq - base[i]));
		name[eq - base[i]] = '\0';
		if (stepenv_set(ce, name, eq + 1) == -1)
			return -1;
	}
	if (ce->v == NULL && stepenv_set(ce, "MG_CHAIN", NULL) == -1)
		return -1;
	return 0;
}

static ssize_t
env_find(const struct stepenv *ce, const char *name)
{
	size_t i, nl = strlen(name);

	for (i = 0; i < ce->n; i++)
		if (strncmp(ce->v[i], name, nl) == 0 && ce->v[i][nl] == '=')
			return (ssize_t)i;
	return -1;
}

/* value, or NULL for "" (stepenv_smtp). */
static const char *
set_or_null(const char *value)
{
	return value != NULL && value[0] != '\0' ? value : NULL;
}

int
stepenv_smtp(struct stepenv *ce, const char *helo, const char *from,
    const char *rcpt, long long nrcpt, const char *authres)
{
	char n[32];

	snprintf(n, sizeof(n), "%lld", nrcpt);
	if (stepenv_set(ce, "SMTPHELOHOST", helo) == -1 ||
	    stepenv_set(ce, "SMTPMAILFROM", from) == -1 ||
	    stepenv_set(ce, "SMTPRCPTTO", set_or_null(rcpt)) == -1 ||
	    stepenv_set(ce, "SMTPRCPTCOUNT", nrcpt >= 0 ? n : NULL) == -1 ||
	    stepenv_set(ce, "MG_AUTHRES", set_or_null(authres)) == -1)
		return -1;
	return 0;
}

int
stepenv_set(struct stepenv *ce, const char *name, const char *value)
{
	ssize_t i = env_find(ce, name);
	char *kv = NULL;
	size_t len;

	if (ce->v == NULL || ce->n + 2 > ce->cap) {
		char **nv = reallocarray(ce->v, ce->cap + 32, sizeof(char *));

		if (nv == NULL)
			return -1;
		ce->v = nv;
		ce->cap += 32;
		ce->v[ce->n] = NULL;
	}
	if (value != NULL) {
		len = strlen(name) + strlen(value) + 2;
		if ((kv = malloc(len)) == NULL)
			return -1;
		snprintf(kv, len, "%s=%s", name, value);
	}
	if (i >= 0) {
		free(ce->v[i]);
		if (kv != NULL)
			ce->v[i] = kv;
		else {
			ce->v[i] = ce->v[ce->n - 1];
			ce->v[--ce->n] = NULL;
		}
	} else if (kv != NULL) {
		ce->v[ce->n++] = kv;
		ce->v[ce->n] = NULL;
	}
	return 0;
}

const char *
stepenv_get(const struct stepenv *ce, const char *name)
{
	ssize_t i = env_find(ce, name);

	return i < 0 ? NULL : ce->v[i] + strlen(name) + 1;
}

void
stepenv_free(struct stepenv *ce)
{
	size_t i;

	for (i = 0; i < ce->n; i++)
		free(ce->v[i]);
	free(ce->v);
	ce->v = NULL;
	ce->n = ce->cap = 0;
}
