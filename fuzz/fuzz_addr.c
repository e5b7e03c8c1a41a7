/*
 * fuzz_addr: addr_parse.  A parsed path's canonical form must parse back
 * to itself, and addr_domain must find the parsed domain in it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Past the path limit every input fails on length alone. */
#define FUZZ_MAX	1024

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[FUZZ_MAX + 1];
	struct mailaddr a, b;
	struct mgerr e;

	if (size > FUZZ_MAX)
		size = FUZZ_MAX;
	memcpy(s, data, size);
	s[size] = '\0';

	if (addr_parse(s, &a, &e) == -1) {
		if (e.msg[0] == '\0' || strchr(e.msg, '\n') != NULL)
			abort();
		return 0;
	}
	if (addr_parse(a.addr, &b, &e) == -1)
		abort();
	if (strcmp(a.addr, b.addr) != 0 || strcmp(a.local, b.local) != 0 ||
	    strcmp(a.domain, b.domain) != 0 || a.null != b.null ||
	    a.literal != b.literal || b.route)
		abort();
	if (strcmp(addr_domain(a.addr), a.domain) != 0)
		abort();
	if (strlen(a.local) > ADDR_LOCAL_MAX ||
	    strlen(a.domain) > ADDR_DOMAIN_MAX)
		abort();
	return 0;
}
