#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static const char *progname = "mailguard";

void
log_init(const char *prog)
{
	progname = prog;
}

const char *
log_prog(void)
{
	return progname;
}

char *
log_sanitize(char *dst, size_t cap, const char *src)
{
	size_t i, n = 0, max;

	if (cap == 0)
		return dst;
	max = cap - 1 < LOG_FIELD_MAX ? cap - 1 : LOG_FIELD_MAX;
	for (i = 0; src != NULL && src[i] != '\0'; i++) {
		unsigned char c = (unsigned char)src[i];

		if (n == max) {
			/* Mark the cut so a reader knows text was lost. */
			if (max >= 3)
				memcpy(dst + max - 3, "...", 3);
			break;
		}
		dst[n++] = (c < 0x20 || c > 0x7e || c == '"' || c == '\\') ?
		    '?' : (char)c;
	}
	dst[n] = '\0';
	return dst;
}

static void
append(struct logline *l, const char *s)
{
	size_t n = strlen(s);

	if (l->len + n >= sizeof(l->buf) - 1)
		n = sizeof(l->buf) - 2 - l->len;
	memcpy(l->buf + l->len, s, n);
	l->len += n;
	l->buf[l->len] = '\0';
}

void
log_begin(struct logline *l)
{
	l->len = 0;
	l->buf[0] = '\0';
	append(l, progname);
	append(l, ":");
}

void
log_kv(struct logline *l, const char *key, const char *val)
{
	char clean[LOG_FIELD_MAX + 1];
	int quote;

	log_sanitize(clean, sizeof(clean), val);
	quote = clean[0] == '\0' || strpbrk(clean, " =") != NULL;
	append(l, " ");
	append(l, key);
	append(l, quote ? "=\"" : "=");
	append(l, clean);
	if (quote)
		append(l, "\"");
}

void
log_kvi(struct logline *l, const char *key, long long val)
{
	char num[32];

	snprintf(num, sizeof(num), "%lld", val);
	log_kv(l, key, num);
}

void
log_end(struct logline *l)
{
	ssize_t r;

	l->buf[l->len++] = '\n';
	r = write(STDERR_FILENO, l->buf, l->len);
	(void)r;
	l->len--;
	l->buf[l->len] = '\0';
}

static void vlog(const char *, const char *, va_list)
    __attribute__((format(printf, 2, 0)));

static void
vlog(const char *what, const char *fmt, va_list ap)
{
	char msg[1024];
	struct logline l;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_begin(&l);
	append(&l, " ");
	if (what != NULL)
		append(&l, what);
	append(&l, msg);
	log_end(&l);
}

void
log_explain(int on, const char *fmt, ...)
{
	va_list ap;

	if (!on)
		return;
	va_start(ap, fmt);
	vlog("explain: ", fmt, ap);
	va_end(ap);
}

void
log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(NULL, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warning: ", fmt, ap);
	va_end(ap);
}
