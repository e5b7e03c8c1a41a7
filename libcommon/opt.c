#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "num.h"
#include "opt.h"
#include "action.h"

#define OPT_MAX		128	/* options in one table */
#define CONF_LINE_MAX	4096

static char *config_path;
/*
 * Settings that many programs share, so an administrator writes them once
 * before any section; a program that has no use for one ignores it there
 * (mailguard.conf(5)).  Any other unknown key is an error.
 */
static const char *const shared_keys[] = {
	"hostname", "statedir", "resolver", "dns-timeout", "lock-timeout", NULL
};

/* Values read from the config file, owned here until opt_free. */
static struct opt_list owned;

const char *
opt_config_path(void)
{
	return config_path;
}

void
opt_free(void)
{
	size_t i;

	for (i = 0; i < owned.n; i++)
		free((void *)(uintptr_t)owned.v[i]);
	free(owned.v);
	memset(&owned, 0, sizeof(owned));
	free(config_path);
	config_path = NULL;
}

int
opt_list_add(struct opt_list *l, const char *v)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		const char **nv = reallocarray(l->v, cap, sizeof(*nv));

		if (nv == NULL)
			return -1;
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n++] = v;
	return 0;
}

static const struct opt *
find(const struct opt *tab, const char *name)
{
	for (; tab->name != NULL; tab++)
		if (strcmp(tab->name, name) == 0)
			return tab;
	return NULL;
}

/* OPT_CHOICE: *dst is val's place among the words of o->arg, "a|b|c". */
static int
choice(const struct opt *o, const char *val, struct mgerr *e)
{
	const char *p, *bar;
	char words[160] = "";
	size_t n;
	int i;

	for (i = 0, p = o->arg; p != NULL; i++, p = bar ? bar + 1 : NULL) {
		bar = strchr(p, '|');
		n = bar != NULL ? (size_t)(bar - p) : strlen(p);
		if (strlen(val) == n && strncmp(p, val, n) == 0) {
			*(int *)o->dst = i;
			return 0;
		}
		/* "a, b or c" for the message. */
		if (i > 0)
			strlcat(words, bar != NULL ? ", " : " or ", sizeof(words));
		snprintf(words + strlen(words), sizeof(words) - strlen(words),
		    "%.*s", (int)n, p);
	}
	mgerr_set(e, "%s: use %s", val, words);
	return -1;
}

static int
store(const struct opt *o, const char *val, struct mgerr *e)
{
	long long n;
	int64_t d;

	switch (o->type) {
	case OPT_FLAG:
		if (val == NULL) {
			*(int *)o->dst = 1;
			return 0;
		}
		return num_bool(val, (int *)o->dst, e);
	case OPT_BOOL:
		return num_bool(val, (int *)o->dst, e);
	case OPT_STR:
		*(const char **)o->dst = val;
		return 0;
	case OPT_LIST:
		if (opt_list_add(o->dst, val) == -1) {
			mgerr_set(e, "out of memory");
			return -1;
		}
		return 0;
	case OPT_NUM:
		if (num_parse(val, o->min, o->max, &n, e) == -1)
			return -1;
		*(long long *)o->dst = n;
		return 0;
	case OPT_DAYS:
	case OPT_DURATION:
		if (num_duration_in(val, o->type == OPT_DAYS ? 86400 : 1,
		    o->min, o->max, &d, e) == -1)
			return -1;
		*(int64_t *)o->dst = d;
		return 0;
	case OPT_ACTION:
		return action_parse(val, (int *)o->dst, e);
	case OPT_CHOICE:
		return choice(o, val, e);
	case OPT_CONFIG:
		return 0;
	}
	return 0;
}

int
opt_set(const struct opt *tab, const char *name, const char *val,
    struct mgerr *e)
{
	const struct opt *o = find(tab, name);
	struct mgerr sub;

	if (o == NULL || o->type == OPT_CONFIG) {
		mgerr_set(e, "unknown option %s", name);
		return -1;
	}
	if (val == NULL && o->type != OPT_FLAG) {
		mgerr_set(e, "option %s needs a value", name);
		return -1;
	}
	if (store(o, val, &sub) == -1) {
		mgerr_set(e, "option %s: %s", name, sub.msg);
		return -1;
	}
	return 0;
}

/* Splits "key value" in place; trims blanks.  Returns the key. */
static char *
split_line(char *line, char **val)
{
	char *p, *end;

	line[strcspn(line, "\r\n")] = '\0';
	while (isspace((unsigned char)*line))
		line++;
	for (p = line; *p != '\0' && !isspace((unsigned char)*p); p++)
		;
	*val = NULL;
	if (*p != '\0') {
		*p++ = '\0';
		while (isspace((unsigned char)*p))
			p++;
		end = p + strlen(p);
		while (end > p && isspace((unsigned char)end[-1]))
			*--end = '\0';
		if (*p != '\0')
			*val = p;
	}
	return line;
}

static int
is_shared(const char *key)
{
	size_t i;

	for (i = 0; shared_keys[i] != NULL; i++)
		if (strcmp(shared_keys[i], key) == 0)
			return 1;
	return 0;
}

/*
 * Applies one non-comment line; *active follows [sections]: 1 in the
 * shared part, 2 in this program's section, 0 in another's.
 */
static int
conf_line(const char *prog, const struct opt *tab, char *line, int *active,
    struct mgerr *e)
{
	char *key, *val, *end;

	key = split_line(line, &val);
	if (*key == '\0' || *key == '#')
		return 0;
	if (*key == '[') {
		end = strchr(key, ']');
		if (end == NULL || end[1] != '\0' || val != NULL) {
			mgerr_set(e, "bad section header %s", key);
			return -1;
		}
		*end = '\0';
		*active = strcmp(key + 1, prog) == 0 ? 2 : 0;
		return 0;
	}
	if (!*active)
		return 0;
	if (*active == 1 && find(tab, key) == NULL && is_shared(key))
		return 0;
	if (val != NULL && ((val = strdup(val)) == NULL ||
	    opt_list_add(&owned, val) == -1)) {
		free(val);
		mgerr_set(e, "out of memory");
		return -1;
	}
	return opt_set(tab, key, val, e);
}

static int
conf_read(const char *prog, const struct opt *tab, const char *path,
    int must_exist, struct mgerr *e)
{
	FILE *fp;
	char line[CONF_LINE_MAX];
	unsigned long lineno = 0;
	int active = 1, rc = 0;

	if ((fp = fopen(path, "r")) == NULL) {
		if (!must_exist && errno == ENOENT)
			return 0;
		mgerr_set(e, "open %s: %s", path, strerror(errno));
		return -1;
	}
	free(config_path);
	config_path = strdup(path);
	while (rc == 0 && fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(fp)) {
			mgerr_set(e, "line too long");
			rc = -1;
		} else
			rc = conf_line(prog, tab, line, &active, e);
	}
	if (rc == 0 && ferror(fp)) {
		mgerr_set(e, "read: %s", strerror(errno));
		rc = -1;
	}
	if (rc == -1)
		mgerr_at(e, path, lineno);
	fclose(fp);
	return rc;
}

/* Finds -c FILE / --config FILE / --config=FILE before "--". */
static const char *
scan_config(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strncmp(argv[i], "--config=", 9) == 0)
			return argv[i] + 9;
		if ((strcmp(argv[i], "-c") == 0 ||
		    strcmp(argv[i], "--config") == 0) && i + 1 < argc)
			return argv[i + 1];
		if (strncmp(argv[i], "-c", 2) == 0 && argv[i][2] != '\0' &&
		    argv[i][1] != '-')
			return argv[i] + 2;
	}
	return NULL;
}

static int
build_getopt(const struct opt *tab, struct option *lo, char *so, size_t solen)
{
	size_t i, n = 0;

	so[n++] = ':';
	for (i = 0; tab[i].name != NULL && i < OPT_MAX - 1; i++) {
		int has = tab[i].type == OPT_FLAG ? no_argument :
		    required_argument;

		lo[i].name = tab[i].name;
		lo[i].has_arg = has;
		lo[i].flag = NULL;
		lo[i].val = 256 + (int)i;
		if (tab[i].chr != 0 && n + 3 < solen) {
			so[n++] = (char)tab[i].chr;
			if (has == required_argument)
				so[n++] = ':';
		}
	}
	memset(&lo[i], 0, sizeof(lo[i]));
	so[n] = '\0';
	return (int)i;
}

int opt_help;

int
opt_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(opt_help ? stdout : stderr, fmt, ap);
	va_end(ap);
	return opt_help;
}

/* 1 when the words before "--" ask for help. */
static int
help_asked(const struct opt *tab, int argc, char **argv)
{
	int i, h_free = 1;

	for (i = 0; tab[i].name != NULL; i++)
		if (tab[i].chr == 'h')
			h_free = 0;
	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0 ||
		    (h_free && strcmp(argv[i], "-h") == 0))
			return 1;
	return 0;
}

int
opt_parse(const char *prog, const struct opt *tab, int argc, char **argv,
    struct mgerr *e)
{
	struct option lo[OPT_MAX];
	char so[OPT_MAX * 2 + 2];
	const char *cfg;
	int c, n, rc;

	if (help_asked(tab, argc, argv)) {
		opt_help = 1;
		mgerr_set(e, "help");
		return -1;
	}
	if ((cfg = scan_config(argc, argv)) != NULL) {
		if (conf_read(prog, tab, cfg, 1, e) == -1)
			return -1;
	} else if ((cfg = getenv("MG_CONFIG")) != NULL && *cfg != '\0') {
		if (conf_read(prog, tab, cfg, 1, e) == -1)
			return -1;
	} else if (conf_read(prog, tab, OPT_DEFAULT_CONFIG, 0, e) == -1)
		return -1;

	n = build_getopt(tab, lo, so, sizeof(so));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		const struct opt *o = NULL;
		int i;

		if (c == '?' || c == ':') {
			const char *bad = argv[optind - 1];

			if (optopt != 0 && optopt < 256)
				mgerr_set(e, "%s -%c", c == ':' ?
				    "missing argument for" : "unknown option",
				    optopt);
			else
				mgerr_set(e, "%s %s", c == ':' ?
				    "missing argument for" : "unknown option",
				    bad);
			return -1;
		}
		if (c >= 256 && c - 256 < n)
			o = &tab[c - 256];
		for (i = 0; o == NULL && tab[i].name != NULL; i++)
			if (tab[i].chr == c)
				o = &tab[i];
		if (o == NULL || o->type == OPT_CONFIG)
			continue;
		rc = store(o, optarg, e);
		if (rc == -1) {
			struct mgerr sub = *e;

			mgerr_set(e, "option --%s: %s", o->name, sub.msg);
			return -1;
		}
	}
	return optind;
}
