/*
 * fuzz_spf_pra: the Purported Responsible Address selection of mg-spf
 * (RFC 4407 section 2) on any header block.  A selected address must
 * hold an '@' with the domain after it; a failure must say why.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../cmd/mg-spf/senderid.c"
#include "../cmd/mg-spf/check.c"
#include "../cmd/mg-spf/record.c"
#include "../cmd/mg-spf/spfdns.c"
#include "../cmd/mg-spf/match.c"
#include "../cmd/mg-spf/cache.c"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pra p;
	char *h;
	const char *at;

	if ((h = malloc(size + 1)) == NULL)
		return 0;
	memcpy(h, data, size);
	h[size] = '\0';
	if (pra_select(h, size, &p) == 0) {
		at = strrchr(p.addr, '@');
		if (at == NULL || at == p.addr || strcmp(at + 1, p.domain) != 0 ||
		    p.error[0] != '\0' || p.field[0] == '\0')
			abort();
	} else if (p.error[0] == '\0')
		abort();
	free(h);
	return 0;
}
