/*
 * fuzz_pat: the pattern matchers.  The input is split at its first NUL
 * or newline into a pattern and a subject.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pat.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Patterns and names longer than pat.c's copies never match anyway. */
#define FUZZ_MAX	2048

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[FUZZ_MAX + 1];
	const char *pat, *subj;
	size_t i;

	if (size > FUZZ_MAX)
		size = FUZZ_MAX;
	memcpy(s, data, size);
	s[size] = '\0';
	for (i = 0; i < size && s[i] != '\0' && s[i] != '\n'; i++)
		;
	pat = s;
	subj = "";
	if (i < size) {
		s[i] = '\0';
		subj = s + i + 1;
	}
	(void)pat_is_glob(pat);
	(void)pat_match_host(pat, subj);
	(void)pat_match_addr(pat, subj);
	/* A pattern without glob characters matches itself as a host. */
	if (pat[0] != '\0' && pat[0] != '*' && pat[0] != '.' &&
	    strlen(pat) < 1000 && !pat_is_glob(pat) &&
	    strchr(pat, '@') == NULL && !pat_match_host(pat, pat))
		abort();
	return 0;
}
