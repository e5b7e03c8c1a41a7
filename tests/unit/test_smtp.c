/* Unit tests of the SMTP line reader and command parsing (smtp.h). */
#include <string.h>

#include "smtp.h"
#include "t.h"

static void
test_lines(void)
{
	struct smtp_rd r;
	struct smtp_line ln;

	smtp_rd_init(&r, SMTP_CMD_MAX);
	T_INT(smtp_rd_feed(&r, "EHLO a\r\nMAIL FROM:<x>\nRCPT", 26), 26);
	T_INT(smtp_rd_line(&r, &ln), 1);
	T_INT(ln.len, 6);
	T_OK(memcmp(ln.p, "EHLO a", 6) == 0);
	T_INT(ln.eol, SMTP_EOL_CRLF);
	T_INT(smtp_rd_line(&r, &ln), 1);
	T_INT(ln.eol, SMTP_EOL_LF);
	T_INT(ln.len, 13);
	/* A pipelined command cut in the middle waits for the rest. */
	T_INT(smtp_rd_line(&r, &ln), 0);
	T_INT(smtp_rd_pending(&r), 4);
	smtp_rd_feed(&r, " TO:<y>\r", 8);
	T_INT(smtp_rd_line(&r, &ln), 0);
	smtp_rd_feed(&r, "\n", 1);
	T_INT(smtp_rd_line(&r, &ln), 1);
	T_INT(ln.len, 11);
	T_INT(ln.eol, SMTP_EOL_CRLF);
	T_INT(smtp_rd_pending(&r), 0);
}

static void
test_long(void)
{
	struct smtp_rd r;
	struct smtp_line ln;
	char big[2000];
	size_t total = 0;
	int pieces = 0;

	memset(big, 'a', sizeof(big));
	smtp_rd_init(&r, SMTP_CMD_MAX);
	T_INT(smtp_rd_feed(&r, big, sizeof(big)), sizeof(big));
	smtp_rd_feed(&r, "\r\nNOOP\r\n", 8);
	while (smtp_rd_line(&r, &ln) == 1 && ln.eol == SMTP_EOL_NONE) {
		T_OK(ln.len <= SMTP_CMD_MAX);
		total += ln.len;
		pieces++;
	}
	total += ln.len;
	T_INT(total, sizeof(big));
	T_INT(pieces, 3);
	T_INT(ln.eol, SMTP_EOL_CRLF);
	T_INT(smtp_rd_line(&r, &ln), 1);
	T_INT(ln.len, 4);
	/* A CR at a piece boundary stays with its LF. */
	smtp_rd_init(&r, 4);
	smtp_rd_feed(&r, "abc\r\n", 5);
	T_INT(smtp_rd_line(&r, &ln), 1);
	T_INT(ln.len, 3);
	T_INT(ln.eol, SMTP_EOL_CRLF);
	/* NUL bytes are counted. */
	smtp_rd_init(&r, 0);
	smtp_rd_feed(&r, "a\0b\r\n", 5);
	T_INT(smtp_rd_line(&r, &ln), 1);
	T_INT(ln.nul, 1);
	smtp_rd_feed(&r, "x", 1);
	smtp_rd_discard(&r);
	T_INT(smtp_rd_pending(&r), 0);
}

static void
test_parse(void)
{
	char verb[16], path[300], val[32];
	const char *arg, *params, *a2;

	T_INT(smtp_verb("mail FROM:<a@b> SIZE=12", verb, sizeof(verb),
	    &arg), 0);
	T_STR(verb, "MAIL");
	T_STR(arg, "FROM:<a@b> SIZE=12");
	T_INT(smtp_verb("", verb, sizeof(verb), &a2), -1);
	T_INT(smtp_verb("AVERYVERYLONGVERBINDEED", verb, sizeof(verb), &a2),
	    -1);
	T_INT(smtp_path_arg(arg, "FROM:", path, sizeof(path), &params), 0);
	T_STR(path, "<a@b>");
	T_STR(params, "SIZE=12");
	T_INT(smtp_param(params, "size", val, sizeof(val)), 1);
	T_STR(val, "12");
	T_INT(smtp_param(params, "BODY", val, sizeof(val)), 0);
	T_INT(smtp_path_arg("to: <\"a >b\"@c>", "TO:", path, sizeof(path),
	    &params), 0);
	T_STR(path, "<\"a >b\"@c>");
	T_INT(smtp_path_arg("TO:<a@b", "TO:", path, sizeof(path), &params),
	    -1);
	T_INT(smtp_path_arg("FROM:<>", "TO:", path, sizeof(path), &params),
	    -1);
	T_INT(smtp_path_arg("FROM:a@b", "FROM:", path, sizeof(path),
	    &params), 0);
	T_STR(path, "a@b");
}

static void
test_reply(void)
{
	int more;

	T_INT(smtp_reply_code("250-PIPELINING", 14, &more), 250);
	T_INT(more, 1);
	T_INT(smtp_reply_code("550 5.1.1 no", 12, &more), 550);
	T_INT(more, 0);
	T_INT(smtp_reply_code("354", 3, &more), 354);
	T_INT(smtp_reply_code("25x ok", 6, &more), -1);
	T_INT(smtp_reply_code("999 x", 5, &more), -1);
	T_INT(smtp_reply_code("250x", 4, &more), -1);
}

int
main(void)
{
	test_lines();
	test_long();
	test_parse();
	test_reply();
	return t_done("test_smtp");
}
