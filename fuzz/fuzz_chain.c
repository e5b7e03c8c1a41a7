/*
 * libFuzzer target for the chain file parser (chain_parse.c) and the
 * Authentication-Results merge: whatever the bytes, no crash, no leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authres.h"
#include "chain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct chain c;
	struct mgerr e;
	char dst[512] = "", *h;

	memset(&c, 0, sizeof(c));
	if (chain_parse(&c, (const char *)data, size, "fuzz", &e) == 0)
		chain_free(&c);
	if ((h = malloc(size + 1)) != NULL) {
		memcpy(h, data, size);
		h[size] = '\0';
		authres_merge(dst, sizeof(dst), h);
		free(h);
	}
	return 0;
}
