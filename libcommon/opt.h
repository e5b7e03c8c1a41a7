/*
 * opt: one table per program drives both getopt_long(3) and the config
 * file (mailguard.conf(5)).
 *
 * A config file holds "option value" lines, where option is a long option
 * name; lines before any section apply to every program, lines in a
 * "[mg-NAME]" section only to that program.  A key the program does not
 * know is an error naming FILE:LINE, except inside another program's
 * section, which this program skips unread.  The file is read first and
 * the command line second, so the command line wins; repeatable options
 * accumulate from both.
 */
#ifndef MG_OPT_H
#define MG_OPT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum opt_type {
	OPT_FLAG,	/* no argument (a bool in the file): int *, set to 1 */
	OPT_BOOL,	/* yes/no argument: int * */
	OPT_STR,	/* const char **: the last one given wins */
	OPT_LIST,	/* struct opt_list *: repeatable, accumulates */
	OPT_NUM,	/* long long *, bounded by min and max */
	OPT_DURATION,	/* int64_t * seconds, bounded by min and max */
	OPT_DAYS,	/* as OPT_DURATION, but a bare number counts days */
	OPT_ACTION,	/* int * holding an enum action (reply.h) */
	OPT_CHOICE,	/* int *: the place of the word among arg's
			   "a|b|c"; any other word is an error */
	OPT_CONFIG	/* -c FILE itself: handled by opt_parse */
};

struct opt_list {
	const char	**v;
	size_t		  n, cap;
};

struct opt {
	const char	*name;	/* long name, and the config file key */
	int		 chr;	/* short alias, 0 for none */
	enum opt_type	 type;
	void		*dst;
	long long	 min, max;	/* OPT_NUM and OPT_DURATION bounds */
	const char	*arg;	/* argument name in usage, NULL for flags */
};

#define OPT_END	{ NULL, 0, OPT_FLAG, NULL, 0, 0, NULL }

/* Default config path when neither -c nor $MG_CONFIG names one. */
#define OPT_DEFAULT_CONFIG	"/etc/mailguard/mailguard.conf"

/*
 * Parses the config file and then argv for program prog (the section
 * name, "mg-screen").  Option arguments are stored through each entry's
 * dst; strings point into argv or into memory owned for the process's
 * life.  On success returns the index of the first operand in argv.  On
 * error returns -1 with e naming the option, or FILE:LINE for the file.
 */
/*
 * Set by opt_parse when the words hold --help (or -h, where no option
 * of the table takes that letter): opt_parse then returns -1, and the
 * program prints its usage on standard output and exits 0.
 */
extern int opt_help;
/*
 * Writes a program's usage text, printf-style: on standard output when
 * opt_parse saw --help, and returns 1 (the program then exits 0); else
 * on standard error, and returns 0 (the program goes on to its usage
 * error reply and 111).
 */
int	opt_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int	opt_parse(const char *prog, const struct opt *tab, int argc,
	    char **argv, struct mgerr *e);
/* Sets one option by its long name from text, as a config line would. */
int	opt_set(const struct opt *tab, const char *name, const char *val,
	    struct mgerr *e);
/* Appends a value to a list option's storage. 0 or -1 (out of memory). */
int	opt_list_add(struct opt_list *l, const char *v);
/*
 * Frees the values opt_parse read from the config file; every string and
 * list entry they set is invalid afterwards.  Programs need not call it:
 * the values live for the process.
 */
void	opt_free(void);
/* The path of the config file opt_parse read, or NULL if none. */
const char *opt_config_path(void);

#endif
