#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "outcome.h"

void
outcome_init(struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	o->code = EXIT_ACCEPT;
}

void
outcome_free(struct outcome *o)
{
	size_t i;

	for (i = 0; i < o->nhdr; i++)
		free(o->hdr[i]);
	o->nhdr = 0;
}

static void vrefuse(struct outcome *, int, const char *, const char *,
    const char *, va_list) __attribute__((format(printf, 5, 0)));

static void
vrefuse(struct outcome *o, int code, const char *smtp, const char *status,
    const char *fmt, va_list ap)
{
	char text[400], clean[LOG_FIELD_MAX + 1];

	if (o->code != EXIT_ACCEPT)
		return;
	vsnprintf(text, sizeof(text), fmt, ap);
	o->code = code;
	snprintf(o->reply, sizeof(o->reply), "%s %s %s", smtp, status,
	    log_sanitize(clean, sizeof(clean), text));
}

void
outcome_refuse(struct outcome *o, int code, const char *smtp,
    const char *status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vrefuse(o, code, smtp, status, fmt, ap);
	va_end(ap);
}

void
outcome_act(struct outcome *o, int act, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	switch (act) {
	case ACT_DEFER:
		vrefuse(o, EXIT_DEFER, "451", "4.7.1", fmt, ap);
		break;
	case ACT_REJECT:
		vrefuse(o, EXIT_REJECT, "550", "5.7.1", fmt, ap);
		break;
	case ACT_DROP:
		if (o->code == EXIT_ACCEPT)
			o->drop = 1;
		vrefuse(o, EXIT_REJECT, "554", "5.7.1", fmt, ap);
		break;
	default:
		break;
	}
	va_end(ap);
}

void
outcome_tempfail(struct outcome *o, const char *why)
{
	/* An internal error always wins: nothing decided so far counts. */
	o->code = EXIT_ACCEPT;
	o->drop = 0;
	outcome_refuse(o, EXIT_DEFER, "451", "4.3.0",
	    "temporary failure (%s)", why);
}

int
outcome_header(struct outcome *o, const char *name, const char *value,
    struct mgerr *e)
{
	char buf[HDR_FIELD_MAX];

	if (o->nhdr == OUTCOME_MAXHDR) {
		mgerr_set(e, "too many header fields");
		return -1;
	}
	if (hdr_fold(name, value, buf, sizeof(buf), e) == -1)
		return -1;
	if ((o->hdr[o->nhdr] = strdup(buf)) == NULL) {
		mgerr_set(e, "out of memory");
		return -1;
	}
	o->nhdr++;
	return 0;
}

/* Writes a folded field, turning its "\n" joints into the line ending. */
static void
put_field(const char *prefix, const char *field, const char *eol)
{
	const char *p;

	fputs(prefix, stdout);
	for (p = field; *p != '\0'; p++) {
		if (*p == '\n') {
			fputs(eol, stdout);
			/* qmail-spp reads one command a line: each
			 * continuation line is its own H command. */
			fputs(prefix, stdout);
		} else
			putchar(*p);
	}
	fputs(eol, stdout);
}

int
outcome_emit(const struct outcome *o, int spp, int crlf)
{
	const char *eol = crlf ? "\r\n" : "\n";
	size_t i;

	if (o->code != EXIT_ACCEPT) {
		if (spp)
			fputs(o->drop ? "R" : "E", stdout);
		fputs(o->reply, stdout);
		fputs(eol, stdout);
	} else {
		for (i = 0; i < o->nhdr; i++)
			put_field(spp ? "H" : "", o->hdr[i], eol);
	}
	if (fflush(stdout) == EOF && o->code == EXIT_ACCEPT)
		return EXIT_DEFER;
	return spp ? 0 : o->code;
}
