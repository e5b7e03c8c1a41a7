/*
 * t.h: the unit-test harness.  Each tests/unit/test_MODULE.c includes this,
 * calls T_OK/T_STR/T_INT, and returns t_done() from main, which prints the
 * plain summary line "N passed, N failed" and exits non-zero on failure.
 */
#ifndef MG_T_H
#define MG_T_H

#include <dirent.h>
#include <stdio.h>
#include <string.h>

static int t_pass, t_fail;

#define T_OK(cond) do {							\
	if (cond) t_pass++;						\
	else { t_fail++; fprintf(stderr, "%s:%d: failed: %s\n",	\
	    __FILE__, __LINE__, #cond); }				\
} while (0)

#define T_INT(got, want) do {						\
	long long g_ = (long long)(got), w_ = (long long)(want);	\
	if (g_ == w_) t_pass++;						\
	else { t_fail++; fprintf(stderr, "%s:%d: %s: got %lld, want %lld\n", \
	    __FILE__, __LINE__, #got, g_, w_); }			\
} while (0)

#define T_STR(got, want) do {						\
	const char *g_ = (got), *w_ = (want);				\
	if (g_ != NULL && w_ != NULL && strcmp(g_, w_) == 0) t_pass++;	\
	else { t_fail++; fprintf(stderr, "%s:%d: %s: got \"%s\", want \"%s\"\n", \
	    __FILE__, __LINE__, #got, g_ ? g_ : "(null)", w_ ? w_ : "(null)"); } \
} while (0)

static inline int
t_done(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, t_pass, t_fail);
	return t_fail != 0;
}

/* Entries in directory d whose names do not begin with '.', or -1. */
static inline int
t_count_dir(const char *d)
{
	DIR *dp;
	struct dirent *de;
	int n = 0;

	if ((dp = opendir(d)) == NULL)
		return -1;
	while ((de = readdir(dp)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(dp);
	return n;
}

#endif
