#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

static void vset(struct mgerr *, int, const char *, va_list)
    __attribute__((format(printf, 3, 0)));

static void
vset(struct mgerr *e, int temp, const char *fmt, va_list ap)
{
	if (e == NULL)
		return;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	e->temp = temp;
}

void
mgerr_set(struct mgerr *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(e, 0, fmt, ap);
	va_end(ap);
}

void
mgerr_temp(struct mgerr *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(e, 1, fmt, ap);
	va_end(ap);
}

void
mgerr_at(struct mgerr *e, const char *file, unsigned long line)
{
	char old[MGERR_MAX];

	if (e == NULL)
		return;
	memcpy(old, e->msg, sizeof(old));
	snprintf(e->msg, sizeof(e->msg), "%s:%lu: ", file, line);
	strlcat(e->msg, old, sizeof(e->msg));
}

void
mgerr_clear(struct mgerr *e)
{
	if (e != NULL) {
		e->msg[0] = '\0';
		e->temp = 0;
	}
}
