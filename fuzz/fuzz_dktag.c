/*
 * fuzz_dktag: the DomainKeys/DKIM tag=value parser and base64 cleaner.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dktag.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dktags t;
	static char out[DKTAG_TEXT_MAX + 1];
	struct mgerr e;
	size_t i;

	if (dktags_parse(&t, (const char *)data, size, &e) == -1)
		return 0;
	for (i = 0; i < t.n; i++) {
		if (dktag(&t, t.name[i]) == NULL)
			abort();
		(void)dktag_b64(t.val[i], out, sizeof(out));
	}
	return 0;
}
