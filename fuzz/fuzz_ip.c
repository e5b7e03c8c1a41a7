/*
 * fuzz_ip: ip_parse, cidr_parse and their formatters.  A parsed value
 * must format to text that parses back to the same value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ip.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Inputs longer than any address or prefix only exercise the length cap. */
#define FUZZ_MAX	256

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[FUZZ_MAX + 1], buf[CIDR_STRLEN], ptr[80];
	struct ipaddr ip, ip2;
	struct cidr c, c2;
	struct mgerr e;

	if (size > FUZZ_MAX)
		size = FUZZ_MAX;
	memcpy(s, data, size);
	s[size] = '\0';

	if (ip_parse(s, &ip, &e) == 0) {
		ip_format(&ip, buf, sizeof(buf));
		if (ip_parse(buf, &ip2, &e) == -1 || ip_cmp(&ip, &ip2) != 0 ||
		    ip.v4 != ip2.v4)
			abort();
		ip_ptr_name(&ip, ptr, sizeof(ptr));
		if (strlen(ptr) > 72)
			abort();
		cidr_of(&ip, 24, 64, &c);
		if (!cidr_contains(&c, &ip))
			abort();
	}
	if (cidr_parse(s, &c, &e) == 0) {
		cidr_format(&c, buf, sizeof(buf));
		if (cidr_parse(buf, &c2, &e) == -1 || c.len != c2.len ||
		    ip_cmp(&c.net, &c2.net) != 0 || !cidr_contains(&c, &c.net))
			abort();
	}
	return 0;
}
