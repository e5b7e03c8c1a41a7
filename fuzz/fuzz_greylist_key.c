/*
 * Fuzzes mg-greylist's sender and recipient normalisation, the RFC 8601
 * SPF reader and the key builder with arbitrary bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../cmd/mg-greylist/greylist.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, a[GREY_KEY_MAX], b[GREY_KEY_MAX], d[300];
	char key[GREY_KEY_MAX + 8];

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	sender_norm(s, a, sizeof(a));
	rcpt_norm(s, b, sizeof(b));
	if (authres_spf_pass(s, d, sizeof(d)) && strlen(d) >= sizeof(d))
		abort();
	triplet_key(d, a, b, size & 1, key, sizeof(key));
	if (strlen(key) < 3 || (key[0] != 't' && key[0] != 'h'))
		abort();
	free(s);
	return 0;
}
