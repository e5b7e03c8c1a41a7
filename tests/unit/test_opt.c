/* Unit tests for opt (options and config file) and num. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "num.h"
#include "opt.h"
#include "outcome.h"
#include "t.h"

static const char *s_host;
static int f_spp, a_ptr, c_net = 1;
static long long n_timeout = 5;
static int64_t d_window = 60;
static struct opt_list l_rcpt;
static const struct opt tab[] = {
	{ "config", 'c', OPT_CONFIG, NULL, 0, 0, "file" },
	{ "hostname", 'H', OPT_STR, &s_host, 0, 0, "name" },
	{ "spp", 0, OPT_FLAG, &f_spp, 0, 0, NULL },
	{ "require-ptr", 0, OPT_ACTION, &a_ptr, 0, 0, "action" },
	{ "dns-timeout", 0, OPT_NUM, &n_timeout, 1, 60, "secs" },
	{ "window", 0, OPT_DURATION, &d_window, 1, 86400 * 30, "time" },
	{ "rcpt", 0, OPT_LIST, &l_rcpt, 0, 0, "addr" },
	{ "key-net", 0, OPT_CHOICE, &c_net, 0, 0, "prefix|ip|none" },
	OPT_END
};

/* argv strings must be writable; the literals stay untouched. */
#define S(x) strdup(x)

static const char *
write_conf(const char *text)
{
	static char path[64];
	int fd;

	strlcpy(path, "/tmp/mg-test-opt-XXXXXX", sizeof(path));
	fd = mkstemp(path);
	FILE *fp = fdopen(fd, "w");

	fputs(text, fp);
	fclose(fp);
	return path;
}

static void
test_num(void)
{
	long long v;
	int64_t d;
	int b;
	struct mgerr e;
	char buf[32];

	T_INT(num_parse("42", 0, 100, &v, &e), 0);
	T_INT(v, 42);
	T_INT(num_parse("101", 0, 100, &v, &e), -1);
	T_STR(e.msg, "101: too large (at most 100)");
	T_INT(num_parse("4x", 0, 100, &v, &e), -1);
	T_INT(num_parse("", 0, 100, &v, &e), -1);
	T_INT(num_parse("-1", 0, 100, &v, &e), -1);
	T_INT(num_parse("99999999999999999999999", 0, 100, &v, &e), -1);
	T_INT(num_milli("2.5", 60000, &v, &e), 0);
	T_INT(v, 2500);
	T_INT(num_milli("0.125", 60000, &v, &e), 0);
	T_INT(v, 125);
	T_INT(num_milli("60", 60000, &v, &e), 0);
	T_INT(v, 60000);
	T_INT(num_milli("60.001", 60000, &v, &e), -1);
	T_STR(e.msg, "60.001: too large");
	T_INT(num_milli("99999999999999999999999", 60000, &v, &e), -1);
	T_STR(e.msg, "99999999999999999999999: too large");
	T_INT(num_milli("1.2345", 60000, &v, &e), -1);
	T_STR(e.msg, "1.2345: not a number of the form 2.5");
	T_INT(num_milli(".5", 60000, &v, &e), -1);
	T_INT(num_milli("5.", 60000, &v, &e), -1);
	T_INT(num_milli("-1", 60000, &v, &e), -1);
	T_INT(num_milli("", 60000, &v, &e), -1);
	T_INT(num_milli("1.2.3", 60000, &v, &e), -1);
	T_INT(num_duration("5m", 0, 1000, &d, &e), 0);
	T_INT(d, 300);
	T_INT(num_duration("35d", 0, 86400 * 40, &d, &e), 0);
	T_INT(d, 35 * 86400);
	T_INT(num_duration("90", 0, 100, &d, &e), 0);
	T_INT(d, 90);
	T_INT(num_duration("5y", 0, 100, &d, &e), -1);
	T_INT(num_duration("m", 0, 100, &d, &e), -1);
	T_INT(num_duration("2h", 0, 100, &d, &e), -1);
	/* A bare number in another unit: days for --lifetime. */
	T_INT(num_duration_in("7", 86400, 0, 86400 * 400, &d, &e), 0);
	T_INT(d, 7 * 86400);
	T_INT(num_duration_in("2w", 86400, 0, 86400 * 400, &d, &e), 0);
	T_INT(d, 14 * 86400);
	T_INT(num_duration_in("3600s", 86400, 0, 86400 * 400, &d, &e), 0);
	T_INT(d, 3600);
	T_INT(num_duration_in("401", 86400, 0, 86400 * 400, &d, &e), -1);
	T_INT(num_bool("Yes", &b, &e), 0);
	T_INT(b, 1);
	T_INT(num_bool("off", &b, &e), 0);
	T_INT(b, 0);
	T_INT(num_bool("maybe", &b, &e), -1);
	num_format_duration(300, buf, sizeof(buf));
	T_STR(buf, "5m");
	num_format_duration(90, buf, sizeof(buf));
	T_STR(buf, "90s");
	num_format_duration(172800, buf, sizeof(buf));
	T_STR(buf, "2d");
	num_format_time(1795867560, buf, sizeof(buf));
	T_STR(buf, "2026-11-28T12:06:00Z");
	num_format_time(0, buf, sizeof(buf));
	T_STR(buf, "-");
}

static void
test_parse(void)
{
	struct mgerr e;
	const char *conf;
	char *argv[12];
	int argc = 0, rc;

	conf = write_conf("# comment\nhostname mx.example.com\n"
	    "rcpt a@example.com\n[mg-other]\nunknown-key x\n"
	    "[mg-test]\ndns-timeout 7\nwindow 2h\nspp\n"
	    "require-ptr   reject  \nkey-net none\n");
	argv[argc++] = S("mg-test");
	argv[argc++] = S("-c");
	argv[argc++] = S(conf);
	argv[argc++] = S("--rcpt");
	argv[argc++] = S("b@example.com");
	argv[argc++] = S("list");
	argv[argc++] = S("--hostname=cmd.example.com");
	argv[argc] = NULL;
	rc = opt_parse("mg-test", tab, argc, argv, &e);
	T_OK(rc > 0);
	if (rc < 0)
		fprintf(stderr, "error: %s\n", e.msg);
	T_STR(s_host, "cmd.example.com");
	T_INT(n_timeout, 7);
	T_INT(d_window, 7200);
	T_INT(f_spp, 1);
	T_INT(a_ptr, ACT_REJECT);
	T_INT(c_net, 2);
	T_INT(l_rcpt.n, 2);
	T_STR(argv[rc], "list");
	unlink(conf);
}

static void
test_errors(void)
{
	struct mgerr e;
	const char *conf;
	char *argv[6];
	int rc;

	/* A shared key this program does not use is ignored before any
	 * section, and an error in the program's own section. */
	conf = write_conf("statedir /x\n[mg-test]\nstatedir /y\n");
	argv[0] = S("mg-test");
	argv[1] = S("-c");
	argv[2] = S(conf);
	argv[3] = NULL;
	rc = opt_parse("mg-test", tab, 3, argv, &e);
	T_INT(rc, -1);
	T_OK(strstr(e.msg, ":3: unknown option statedir") != NULL);
	unlink(conf);

	conf = write_conf("hostname a\nbogus 1\n");
	argv[0] = S("mg-test");
	argv[1] = S("-c");
	argv[2] = S(conf);
	argv[3] = NULL;
	rc = opt_parse("mg-test", tab, 3, argv, &e);
	T_INT(rc, -1);
	T_OK(strstr(e.msg, ":2: unknown option bogus") != NULL);
	unlink(conf);

	conf = write_conf("dns-timeout 100\n");
	argv[2] = S(conf);
	rc = opt_parse("mg-test", tab, 3, argv, &e);
	T_INT(rc, -1);
	T_OK(strstr(e.msg, ":1: option dns-timeout: 100: too large") != NULL);
	unlink(conf);

	argv[1] = S("--dns-timeout");
	argv[2] = S("0");
	rc = opt_parse("mg-test", tab, 3, argv, &e);
	T_INT(rc, -1);
	T_STR(e.msg, "option --dns-timeout: 0: too small (at least 1)");

	argv[1] = S("--nope");
	rc = opt_parse("mg-test", tab, 2, argv, &e);
	T_INT(rc, -1);
	T_STR(e.msg, "unknown option --nope");

	argv[1] = S("-c");
	argv[2] = S("/nonexistent/mg.conf");
	rc = opt_parse("mg-test", tab, 3, argv, &e);
	T_INT(rc, -1);
	T_OK(strstr(e.msg, "/nonexistent/mg.conf") != NULL);

	argv[1] = S("--require-ptr");
	argv[2] = S("bounce");
	rc = opt_parse("mg-test", tab, 3, argv, &e);
	T_INT(rc, -1);
	T_OK(strstr(e.msg, "not an action") != NULL);

	argv[1] = S("--key-net");
	argv[2] = S("ip");
	rc = opt_parse("mg-test", tab, 3, argv, &e);
	T_INT(rc, 3);
	T_INT(c_net, 1);
	argv[2] = S("pre");
	rc = opt_parse("mg-test", tab, 3, argv, &e);
	T_INT(rc, -1);
	T_STR(e.msg, "option --key-net: pre: use prefix, ip or none");
}

int
main(void)
{
	/* The default config must not leak in from the test machine. */
	setenv("MG_CONFIG", "/dev/null", 1);
	test_num();
	test_parse();
	test_errors();
	return t_done("opt");
}
