/*
 * fuzz_msg: the message reader.  The input is the message, fed through a
 * pipe-less temporary file with small limits so the caps are reached;
 * the body is read twice (rewind) and written back.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct msg_limits lim = { 512, 64, 4096, 256 };
	static const char *add[] = { "X-Fuzz: a\n\tb" };
	const char *p;
	struct mgerr e;
	struct msg *m;
	FILE *in, *out;
	size_t i;

	if ((in = tmpfile()) == NULL || (out = fopen("/dev/null", "w")) == NULL)
		abort();
	fwrite(data, 1, size, in);
	fflush(in);
	lseek(fileno(in), 0, SEEK_SET);
	if ((m = msg_read(fileno(in), &lim, MSG_KEEP, &e)) != NULL) {
		for (i = 0; i < msg_nfields(m); i++)
			if (strlen(msg_field(m, i)->name) !=
			    msg_field(m, i)->namelen)
				abort();
		while (msg_body_next(m, 1, &p, &e) > 0)
			;
		(void)msg_write(m, fileno(out), add, 1, &e);
		msg_free(m);
	}
	fclose(in);
	fclose(out);
	return 0;
}
