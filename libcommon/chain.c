/*
 * chain: the chain file parser (chain.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"

static const char *const stage_names[CHAIN_NSTAGES] = {
	"connect", "helo", "mail", "rcpt", "data"
};

const char *
chain_stage_name(enum chain_stage st)
{
	return (unsigned)st < CHAIN_NSTAGES ? stage_names[st] : "?";
}

/* Section names; qmail-spp's "[connection]" is accepted too. */
static int
stage_of(const char *s, size_t n)
{
	int i;

	if (n == 10 && strncmp(s, "connection", 10) == 0)
		return CHAIN_CONNECT;
	for (i = 0; i < CHAIN_NSTAGES; i++)
		if (strlen(stage_names[i]) == n &&
		    strncmp(s, stage_names[i], n) == 0)
			return i;
	return -1;
}

static void
free_step(struct chain_step *s)
{
	size_t i;

	if (s->argv != NULL)
		for (i = 0; s->argv[i] != NULL; i++)
			free(s->argv[i]);
	free(s->argv);
	free(s->text);
}

void
chain_free(struct chain *c)
{
	size_t i;
	int st;

	for (st = 0; st < CHAIN_NSTAGES; st++) {
		for (i = 0; i < c->n[st]; i++)
			free_step(&c->step[st][i]);
		free(c->step[st]);
		c->step[st] = NULL;
		c->n[st] = 0;
	}
}

/*
 * Takes one word from *pp into w (capacity CHAIN_LINE_MAX).  1 for a
 * word, 0 at the end of the line or a comment, -1 for an open quote.
 */
static int
word(const char **pp, char *w)
{
	const char *p = *pp;
	size_t n = 0;
	char q;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	while (*p != '\0' && *p != ' ' && *p != '\t') {
		if (*p == '\'' || *p == '"') {
			q = *p++;
			while (*p != q) {
				if (*p == '\0')
					return -1;
				if (q == '"' && *p == '\\' &&
				    (p[1] == '"' || p[1] == '\\'))
					p++;
				w[n++] = *p++;
			}
			p++;
		} else
			w[n++] = *p++;
	}
	w[n] = '\0';
	*pp = p;
	return 1;
}

static int
split(const char *line, struct chain_step *s, struct mgerr *e)
{
	char w[CHAIN_LINE_MAX];
	size_t n = 0;
	int rc;

	if ((s->argv = calloc(CHAIN_ARGS_MAX + 1, sizeof(char *))) == NULL)
		goto nomem;
	if (*line == ':') {
		/* qmail-spp's convention: the rest goes to the shell. */
		if ((s->argv[0] = strdup("/bin/sh")) == NULL ||
		    (s->argv[1] = strdup("-c")) == NULL ||
		    (s->argv[2] = strdup(line + 1)) == NULL)
			goto nomem;
		strlcpy(s->name, "sh", sizeof(s->name));
		return 0;
	}
	while ((rc = word(&line, w)) == 1) {
		if (n == CHAIN_ARGS_MAX) {
			mgerr_set(e, "more than %d words", CHAIN_ARGS_MAX);
			return -1;
		}
		if ((s->argv[n++] = strdup(w)) == NULL)
			goto nomem;
	}
	if (rc == -1) {
		mgerr_set(e, "unbalanced quote");
		return -1;
	}
	if (n == 0) {
		mgerr_set(e, "empty command");
		return -1;
	}
	{
		const char *b = strrchr(s->argv[0], '/');

		strlcpy(s->name, b != NULL && b[1] != '\0' ? b + 1 :
		    s->argv[0], sizeof(s->name));
	}
	return 0;
nomem:
	mgerr_set(e, "out of memory");
	return -1;
}

static int
add_step(struct chain *c, int st, const char *line, unsigned lineno,
    struct mgerr *e)
{
	struct chain_step *s;

	if (c->n[st] == CHAIN_STEPS_MAX) {
		mgerr_set(e, "more than %d commands in [%s]", CHAIN_STEPS_MAX,
		    stage_names[st]);
		return -1;
	}
	if (c->n[st] % 8 == 0) {
		s = reallocarray(c->step[st], c->n[st] + 8, sizeof(*s));
		if (s == NULL) {
			mgerr_set(e, "out of memory");
			return -1;
		}
		c->step[st] = s;
	}
	s = &c->step[st][c->n[st]++];
	memset(s, 0, sizeof(*s));
	s->line = lineno;
	if ((s->text = strdup(line)) == NULL) {
		mgerr_set(e, "out of memory");
		return -1;
	}
	return split(line, s, e);
}

/* One line, trimmed, NUL-terminated, no NUL inside. */
static int
one_line(struct chain *c, char *line, int *st, unsigned lineno,
    struct mgerr *e)
{
	size_t n;
	char *end;

	while (*line == ' ' || *line == '\t')
		line++;
	n = strlen(line);
	while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t' ||
	    line[n - 1] == '\r'))
		line[--n] = '\0';
	if (n == 0 || *line == '#')
		return 0;
	if (*line == '[') {
		end = strchr(line, ']');
		if (end == NULL || end[1] != '\0' ||
		    (*st = stage_of(line + 1, (size_t)(end - line - 1))) == -1) {
			mgerr_set(e, "unknown section %s (use [connect] "
			    "[helo] [mail] [rcpt] [data])", line);
			return -1;
		}
		return 0;
	}
	if (*st == -1) {
		mgerr_set(e, "command before any section");
		return -1;
	}
	return add_step(c, *st, line, lineno, e);
}

int
chain_parse(struct chain *c, const char *text, size_t len, const char *name,
    struct mgerr *e)
{
	char line[CHAIN_LINE_MAX];
	const char *p = text, *end = text + len, *nl;
	unsigned lineno = 0;
	int st = -1;
	size_t n;

	while (p < end) {
		lineno++;
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl != NULL ? nl : end) - p);
		if (n >= sizeof(line)) {
			mgerr_set(e, "line too long");
			goto fail;
		}
		if (memchr(p, '\0', n) != NULL) {
			mgerr_set(e, "NUL byte");
			goto fail;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		if (one_line(c, line, &st, lineno, e) == -1)
			goto fail;
		p += n + 1;
	}
	return 0;
fail:
	mgerr_at(e, name, lineno);
	chain_free(c);
	return -1;
}

int
chain_load(struct chain *c, const char *path, struct mgerr *e)
{
	FILE *fp;
	char *buf = NULL;
	size_t len = 0, cap = 0, got;
	int rc;

	if ((fp = fopen(path, "r")) == NULL) {
		mgerr_set(e, "open %s: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (len + 4096 > cap) {
			char *nb;

			/* A chain file is small; 1 MB is far past sane. */
			if (cap >= 1024 * 1024 || (nb = realloc(buf,
			    cap + 65536)) == NULL) {
				mgerr_set(e, "%s: too large", path);
				rc = -1;
				goto out;
			}
			buf = nb;
			cap += 65536;
		}
		if ((got = fread(buf + len, 1, cap - len, fp)) == 0)
			break;
		len += got;
	}
	if (ferror(fp)) {
		mgerr_set(e, "read %s: %s", path, strerror(errno));
		rc = -1;
	} else
		rc = chain_parse(c, buf, len, path, e);
out:
	free(buf);
	fclose(fp);
	return rc;
}
