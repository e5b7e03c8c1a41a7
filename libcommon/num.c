#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "num.h"

int
num_parse(const char *s, long long min, long long max, long long *out,
    struct mgerr *e)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0') {
		mgerr_set(e, "empty number");
		return -1;
	}
	if (!isdigit((unsigned char)*s) && !(*s == '-' && min < 0 &&
	    isdigit((unsigned char)s[1]))) {
		mgerr_set(e, "%s: invalid number", s);
		return -1;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0') {
		mgerr_set(e, "%s: invalid number", s);
		return -1;
	}
	if ((errno == ERANGE && v == LLONG_MAX) || v > max) {
		mgerr_set(e, "%s: too large (at most %lld)", s, max);
		return -1;
	}
	if ((errno == ERANGE && v == LLONG_MIN) || v < min) {
		mgerr_set(e, "%s: too small (at least %lld)", s, min);
		return -1;
	}
	*out = v;
	return 0;
}

int
num_milli(const char *s, long long max, long long *out, struct mgerr *e)
{
	const char *digits = "0123456789", *dot;
	char whole[24];
	long long v, frac = 0;
	size_t n, places = 0, i;

	if (s == NULL)
		s = "";
	if ((dot = strchr(s, '.')) != NULL)
		places = strlen(dot + 1);
	n = dot != NULL ? (size_t)(dot - s) : strlen(s);
	if (n == 0 || strspn(s, digits) != n || (dot != NULL &&
	    (places == 0 || places > 3 || strspn(dot + 1, digits) != places))) {
		mgerr_set(e, "%s: not a number of the form 2.5", s);
		return -1;
	}
	for (i = 0; i < 3; i++)
		frac = frac * 10 + (i < places ? dot[1 + i] - '0' : 0);
	/* The whole part goes through the bounded parser above. */
	if (n < sizeof(whole)) {
		memcpy(whole, s, n);
		whole[n] = '\0';
	}
	if (n >= sizeof(whole) ||
	    num_parse(whole, 0, max / 1000, &v, NULL) == -1 ||
	    (v = v * 1000 + frac) > max) {
		mgerr_set(e, "%s: too large", s);
		return -1;
	}
	*out = v;
	return 0;
}

static int64_t
unit_seconds(char c)
{
	switch (c) {
	case 's': return 1;
	case 'm': return 60;
	case 'h': return 3600;
	case 'd': return 86400;
	case 'w': return 7 * 86400;
	default: return 0;
	}
}

int
num_duration(const char *s, int64_t min, int64_t max, int64_t *out,
    struct mgerr *e)
{
	return num_duration_in(s, 1, min, max, out, e);
}

int
num_duration_in(const char *s, int64_t bare, int64_t min, int64_t max,
    int64_t *out, struct mgerr *e)
{
	char digits[32];
	size_t n;
	int64_t unit = bare;
	long long v;

	if (s == NULL || (n = strlen(s)) == 0 || n >= sizeof(digits)) {
		mgerr_set(e, "%s: invalid duration", s ? s : "");
		return -1;
	}
	memcpy(digits, s, n + 1);
	if (isalpha((unsigned char)digits[n - 1])) {
		if ((unit = unit_seconds(digits[n - 1])) == 0) {
			mgerr_set(e, "%s: invalid duration unit "
			    "(use s, m, h, d or w)", s);
			return -1;
		}
		digits[n - 1] = '\0';
	}
	if (num_parse(digits, 0, LLONG_MAX / (7 * 86400), &v, NULL) == -1) {
		mgerr_set(e, "%s: invalid duration", s);
		return -1;
	}
	v *= unit;
	if (v > max) {
		mgerr_set(e, "%s: too long (at most %llds)", s, (long long)max);
		return -1;
	}
	if (v < min) {
		mgerr_set(e, "%s: too short (at least %llds)", s,
		    (long long)min);
		return -1;
	}
	*out = v;
	return 0;
}

int
num_bool(const char *s, int *out, struct mgerr *e)
{
	static const char *yes[] = { "yes", "true", "on", "1" };
	static const char *no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; s != NULL && i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	mgerr_set(e, "%s: not a boolean (use yes or no)", s ? s : "");
	return -1;
}

void
num_format_duration(int64_t secs, char *buf, unsigned long len)
{
	static const char units[] = "wdhm";
	size_t i;

	for (i = 0; i < sizeof(units) - 1; i++) {
		int64_t u = unit_seconds(units[i]);

		if (secs != 0 && secs % u == 0) {
			snprintf(buf, len, "%lld%c", (long long)(secs / u),
			    units[i]);
			return;
		}
	}
	snprintf(buf, len, "%llds", (long long)secs);
}

void
num_format_time(int64_t t, char *buf, unsigned long len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL) {
		snprintf(buf, len, "-");
		return;
	}
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
