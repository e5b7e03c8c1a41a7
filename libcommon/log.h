/*
 * log: the one place that writes to stderr.
 *
 * Every program writes one line per decision, "mg-NAME: key=value ...",
 * and error messages "mg-NAME: verb object: reason".  Client-supplied text
 * (HELO, addresses, PTR names, DNS text) passes through log_sanitize
 * before it reaches a log line or a header: control bytes, non-ASCII bytes
 * and quotes become '?', and the length is capped.
 */
#ifndef MG_LOG_H
#define MG_LOG_H

#include <stddef.h>

/* Longest piece of client text kept in a log line or header. */
#define LOG_FIELD_MAX	200

/* Sets the program name used as the prefix of every line. */
void	log_init(const char *prog);
/* The program name given to log_init. */
const char *log_prog(void);

/*
 * Copies src into dst (capacity cap) with bytes outside printable ASCII,
 * '"' and '\\' replaced by '?', cut at LOG_FIELD_MAX with "..." appended.
 * Returns dst.  A NULL src gives "".
 */
char	*log_sanitize(char *dst, size_t cap, const char *src);

/* A decision line under construction. */
struct logline {
	char	buf[2048];
	size_t	len;
};

void	log_begin(struct logline *l);
/*
 * Appends " key=value"; the value is sanitised and quoted with "" when it
 * is empty or holds a space or '='.
 */
void	log_kv(struct logline *l, const char *key, const char *val);
void	log_kvi(struct logline *l, const char *key, long long val);
/* Writes "prog: ...\n" to stderr in one write(2). */
void	log_end(struct logline *l);

/*
 * One line of the --explain trace, "prog: explain: message" on stderr,
 * written only when on is not 0 (a program passes its --explain flag),
 * so no call site tests the flag itself.
 */
void	log_explain(int on, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* "prog: message" and "prog: warning: message" on stderr. */
void	log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
