/*
 * libFuzzer target for the bounded number, duration and dynamic-screen
 * rule parsers: any text must give a value in range or an error.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dyn.h"
#include "num.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[256];
	long long n;
	int64_t d;
	int b;
	struct dyn_rule r;

	if (size >= sizeof(buf))
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	if (num_parse(buf, -100, 100000, &n, NULL) == 0 &&
	    (n < -100 || n > 100000))
		abort();
	if (num_duration(buf, 5, 86400 * 30, &d, NULL) == 0 &&
	    (d < 5 || d > 86400 * 30))
		abort();
	(void)num_bool(buf, &b, NULL);
	if (dyn_rule_parse(buf, &r, NULL) == 0 &&
	    (r.count < 1 || r.count > DYN_RING || r.window < 1 ||
	    strlen(r.event) >= DYN_EVENT_MAX))
		abort();
	return 0;
}
