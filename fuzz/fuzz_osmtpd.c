/*
 * Fuzzes mg-opensmtpd's reading of smtpd's filter protocol: the
 * handshake, reports and requests (proto.c, session.c), and data-line
 * pass-through (data.c), with no chain, so no step is started.  The
 * input is split into lines as the poll loop does.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../cmd/mg-opensmtpd/proto.c"
#include "../cmd/mg-opensmtpd/session.c"
#include "../cmd/mg-opensmtpd/steps.c"
#include "../cmd/mg-opensmtpd/data.c"

struct osmtpd O;

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	char *buf, *p, *nl;
	struct sess *s;
	size_t i;

	if (!init) {
		log_init("fuzz");
		O.statedir = "/nonexistent";
		O.relayclient = "";
		O.step_timeout = 1;
		O.add_headers = 1;
		O.want_data = 1;
		O.outbound = OUT_NONE;
		dyn_conf_defaults(&O.dyn);
		stepenv_init(&O.env, NULL);
		init = 1;
	}
	O.ready = 0;
	if ((buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (p = buf; p < buf + size; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(buf + size - p))) == NULL)
			nl = buf + size;
		*nl = '\0';
		if (memchr(p, '\0', (size_t)(nl - p)) == NULL)
			proto_line(&O, p, (size_t)(nl - p));
		proto_drain(&O);
	}
	free(buf);
	O.olen = 0;
	for (i = 0; i < sizeof(O.tab) / sizeof(O.tab[0]); i++)
		while ((s = O.tab[i]) != NULL)
			sess_free(&O, s);
	return 0;
}
