/*
 * Fuzz target for dkcanon: any body, split into blocks at any places,
 * simple and relaxed, with and without l=: no crash, and the same hash
 * and length whatever the split.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dkcanon.h"

static void
hash(const uint8_t *p, size_t n, int relaxed, int64_t limit, size_t step,
    unsigned char *md, uint64_t *len)
{
	struct dkcanon *c;
	struct mgerr e;
	unsigned mdlen = 0;
	size_t i, k;

	memset(md, 0, DKCANON_MDMAX);
	if ((c = dkcanon_new(relaxed, limit, "sha256", &e)) == NULL)
		abort();
	for (i = 0; i < n; i += k) {
		k = step == 0 || step > n - i ? n - i : step;
		dkcanon_update(c, (const char *)p + i, k);
	}
	if (dkcanon_final(c, md, &mdlen, len, &e) == -1)
		abort();
	dkcanon_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char a[DKCANON_MDMAX], b[DKCANON_MDMAX];
	uint64_t la, lb;
	size_t step;
	int relaxed;
	int64_t limit;

	if (size < 2)
		return 0;
	relaxed = data[0] & 1;
	step = 1 + data[0] % 17;
	limit = data[1] == 0 ? -1 : (int64_t)data[1] * 3;
	hash(data + 2, size - 2, relaxed, limit, 0, a, &la);
	hash(data + 2, size - 2, relaxed, limit, step, b, &lb);
	if (memcmp(a, b, sizeof(a)) != 0 || la != lb)
		abort();
	return 0;
}
