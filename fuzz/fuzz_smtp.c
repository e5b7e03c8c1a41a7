/*
 * libFuzzer target for the SMTP command reader (smtp.c): the input is a
 * client's byte stream, fed in pieces of varying size; every line that
 * comes out is parsed as a command, a path and a reply.  The reader must
 * stay inside its buffer and hand out every byte exactly once.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t
drain(struct smtp_rd *r)
{
	struct smtp_line ln;
	char line[SMTP_RD_BUF + 1], verb[16], path[300], val[64];
	const char *arg, *params;
	size_t out = 0;
	int more;

	while (smtp_rd_line(r, &ln) == 1) {
		out += ln.len + (ln.eol == SMTP_EOL_CRLF ? 2 :
		    ln.eol == SMTP_EOL_LF ? 1 : 0);
		if (ln.eol == SMTP_EOL_NONE || ln.nul > 0)
			continue;
		memcpy(line, ln.p, ln.len);
		line[ln.len] = '\0';
		smtp_reply_code(line, ln.len, &more);
		if (smtp_verb(line, verb, sizeof(verb), &arg) == -1)
			continue;
		if (smtp_path_arg(arg, "FROM:", path, sizeof(path),
		    &params) == 0)
			smtp_param(params, "SIZE", val, sizeof(val));
		smtp_path_arg(arg, "TO:", path, sizeof(path), &params);
	}
	return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct smtp_rd r;
	size_t i = 0, n, got, out = 0;

	if (size < 1)
		return 0;
	smtp_rd_init(&r, data[0] % 2 ? SMTP_CMD_MAX : 0);
	data++, size--;
	while (i < size) {
		n = (size_t)data[i] % 64 + 1;
		if (n > size - i)
			n = size - i;
		got = smtp_rd_feed(&r, data + i, n);
		i += got;
		out += drain(&r);
		if (got == 0 && smtp_rd_pending(&r) == 0)
			abort();
	}
	out += smtp_rd_pending(&r);
	if (out != size)
		abort();
	return 0;
}
