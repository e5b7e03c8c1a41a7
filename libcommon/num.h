/*
 * num: the one bounded parser for numbers and durations in options,
 * config files and list files, in the manner of strtonum(3): the error
 * names the value and the reason ("99999: too large").
 */
#ifndef MG_NUM_H
#define MG_NUM_H

#include <stdint.h>

#include "err.h"

/* Parses a decimal integer in [min, max].  0, or -1 and e set. */
int	num_parse(const char *s, long long min, long long max, long long *out,
	    struct mgerr *e);
/*
 * Parses a decimal with at most three places, "12", "2.5" or "0.125",
 * into thousandths ("2.5" gives 2500) in [0, max].  0, or -1 and e set:
 * "S: not a number of the form 2.5" or "S: too large".
 */
int	num_milli(const char *s, long long max, long long *out,
	    struct mgerr *e);
/*
 * Parses a duration: a number followed by an optional unit, s (the
 * default), m, h, d or w, such as "90", "5m", "35d".  Result in seconds,
 * in [min, max].  0, or -1 and e set.
 */
int	num_duration(const char *s, int64_t min, int64_t max, int64_t *out,
	    struct mgerr *e);
/* As num_duration, but a number without a unit counts bare seconds
 * each (86400: a bare number is days). */
int	num_duration_in(const char *s, int64_t bare, int64_t min, int64_t max,
	    int64_t *out, struct mgerr *e);
/* Parses yes/no/true/false/on/off/1/0 into 1 or 0.  0, or -1 and e set. */
int	num_bool(const char *s, int *out, struct mgerr *e);
/* Writes a duration as the largest unit that divides it: "5m", "2d", "90s". */
void	num_format_duration(int64_t secs, char *buf, unsigned long len);
/* Writes a Unix time as UTC ISO 8601, "2026-11-28T14:52:00Z"; 0 as "-". */
void	num_format_time(int64_t t, char *buf, unsigned long len);

#endif
