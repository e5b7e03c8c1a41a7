/*
 * fuzz_prvs: the BATV tag reader of mg-batv.  Whatever an address holds,
 * prvs_parse must not overrun; a tag it finds must describe the address
 * it came from, and a tag made for the plain address must read back to
 * the same key, day, hash and address.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../cmd/mg-batv/prvs.c"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_MAX	700

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[FUZZ_MAX + 1], again[1024], mac[7];
	struct prvs p, q;

	if (size > FUZZ_MAX)
		size = FUZZ_MAX;
	memcpy(s, data, size);
	s[size] = '\0';

	if (!prvs_parse(s, &p)) {
		if (p.form != PRVS_NONE || strncmp(p.plain, s,
		    sizeof(p.plain) - 1) != 0)
			abort();
		return 0;
	}
	if (strlen(p.plain) + 16 != strlen(s) || p.keynum < 0 ||
	    p.keynum > 9 || p.day < 0 || p.day > 999 ||
	    !prvs_hash_eq(p.hash, p.hash))
		abort();
	if (prvs_mac("k", 1, p.keynum, p.day, p.plain, mac) == -1)
		abort();
	snprintf(again, sizeof(again), "prvs=%d%03d%s=%s", p.keynum, p.day,
	    mac, p.plain);
	if (!prvs_parse(again, &q) || q.form != PRVS_STD ||
	    q.keynum != p.keynum || q.day != p.day ||
	    strcmp(q.hash, mac) != 0 || strcmp(q.plain, p.plain) != 0)
		abort();
	return 0;
}
