/*
 * libFuzzer target for the config file parser (opt.c): the input is a
 * mailguard.conf; parsing must never crash or leak, whatever the bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "opt.h"
#include "outcome.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[] = "/tmp/mg-fuzz-conf.XXXXXX";
	static int fd = -1;
	const char *s = NULL;
	int flag = 0, act = 0;
	long long n = 0;
	int64_t d = 0;
	struct opt_list l = { NULL, 0, 0 };
	const struct opt tab[] = {
		{ "config", 'c', OPT_CONFIG, NULL, 0, 0, "file" },
		{ "hostname", 'H', OPT_STR, &s, 0, 0, "name" },
		{ "spp", 0, OPT_FLAG, &flag, 0, 0, NULL },
		{ "yes", 0, OPT_BOOL, &flag, 0, 0, "yes|no" },
		{ "act", 0, OPT_ACTION, &act, 0, 0, "action" },
		{ "num", 0, OPT_NUM, &n, -5, 1000, "n" },
		{ "time", 0, OPT_DURATION, &d, 0, 86400, "time" },
		{ "list", 0, OPT_LIST, &l, 0, 0, "x" },
		OPT_END
	};
	char arg0[] = "mg-fuzz", arg1[] = "-c";
	char *argv[4];
	struct mgerr e;

	if (fd == -1 && (fd = mkstemp(path)) == -1)
		abort();
	if (ftruncate(fd, 0) == -1 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	argv[0] = arg0;
	argv[1] = arg1;
	argv[2] = path;
	argv[3] = NULL;
	(void)opt_parse("mg-fuzz", tab, 3, argv, &e);
	free(l.v);
	opt_free();
	return 0;
}
