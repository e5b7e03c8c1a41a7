#include <string.h>

#include "addr.h"
#include "t.h"

static struct mailaddr a;
static struct mgerr e;

/* Parses s; returns the canonical address or "ERR: message". */
static const char *
canon(const char *s)
{
	static char buf[MGERR_MAX + 8];

	mgerr_clear(&e);
	if (addr_parse(s, &a, &e) == -1) {
		snprintf(buf, sizeof(buf), "ERR: %s", e.msg);
		return buf;
	}
	return a.addr;
}

static void
test_plain(void)
{
	T_STR(canon("<user@example.com>"), "user@example.com");
	T_STR(a.local, "user");
	T_STR(a.domain, "example.com");
	T_INT(a.null + a.quoted + a.literal + a.route, 0);
	T_STR(canon("user@example.com"), "user@example.com");
	T_STR(canon("<User.Name+tag@Mail.EXAMPLE.com>"),
	    "User.Name+tag@mail.example.com");
	T_STR(a.local, "User.Name+tag");
	T_STR(a.domain, "mail.example.com");
	T_STR(canon("<user@example.com.>"), "user@example.com");
	T_STR(a.domain, "example.com");
	T_STR(canon("a!#$%&'*+-/=?^_`{|}~@x.example"),
	    "a!#$%&'*+-/=?^_`{|}~@x.example");
	T_STR(canon("u@xn--bcher-kva.example"), "u@xn--bcher-kva.example");
	T_STR(canon("u@a-b.c_d.example"), "u@a-b.c_d.example");
	T_STR(canon("j\xc3\xb6rg@b\xc3\xbc" "cher.example"),
	    "j\xc3\xb6rg@b\xc3\xbc" "cher.example");
	/* Deviation: dots as Japanese carriers write them (qmail, Postfix). */
	T_STR(canon("a..b.@example.com"), "a..b.@example.com");
}

static void
test_null_and_bare(void)
{
	T_STR(canon("<>"), "");
	T_INT(a.null, 1);
	T_STR(a.local, "");
	T_STR(a.domain, "");
	T_STR(canon(""), "");
	T_INT(a.null, 1);
	T_STR(canon("postmaster"), "postmaster");
	T_INT(a.null, 0);
	T_STR(a.local, "postmaster");
	T_STR(a.domain, "");
	T_STR(canon("<Postmaster>"), "Postmaster");
	T_STR(canon("<\"post master\">"), "\"post master\"");
	T_INT(a.quoted, 1);
}

static void
test_quoted(void)
{
	T_STR(canon("\"john doe\"@example.com"), "\"john doe\"@example.com");
	T_STR(a.local, "john doe");
	T_INT(a.quoted, 1);
	T_STR(canon("<\"user@other\"@local.example>"),
	    "\"user@other\"@local.example");
	T_STR(a.local, "user@other");
	T_STR(a.domain, "local.example");
	T_INT(a.quoted, 1);
	T_STR(addr_domain(a.addr), "local.example");
	/* Needless quotes are dropped from the canonical form. */
	T_STR(canon("\"abc\"@example.com"), "abc@example.com");
	T_STR(a.local, "abc");
	T_INT(a.quoted, 1);
	T_STR(canon("\"a\\\"b\\\\c\"@x.example"), "\"a\\\"b\\\\c\"@x.example");
	T_STR(a.local, "a\"b\\c");
	T_STR(canon("\"\\a\\b\"@x.example"), "ab@x.example");
	T_STR(canon("\"a>b\"@x.example"), "\"a>b\"@x.example");
	T_STR(canon("<\"a<b\"@x.example>"), "\"a<b\"@x.example");
	T_STR(canon("\"\"@x.example"), "ERR: \"\"@x.example: empty local part");
	T_STR(canon("\"abc@x.example"),
	    "ERR: \"abc@x.example: unterminated quoted string");
	T_STR(canon("\"abc\\"), "ERR: \"abc\\: unterminated quoted string");
	T_STR(canon("\"a\tb\"@x.example"),
	    "ERR: \"a?b\"@x.example: control character in quoted string");
	T_STR(canon("\"a\"b@x.example"),
	    "ERR: \"a\"b@x.example: text after quoted string");
	T_STR(canon("a\"b\"@x.example"),
	    "ERR: a\"b\"@x.example: misplaced quote");
}

static void
test_literal(void)
{
	T_STR(canon("<user@[192.0.2.1]>"), "user@[192.0.2.1]");
	T_INT(a.literal, 1);
	T_STR(a.domain, "[192.0.2.1]");
	T_STR(canon("user@[IPv6:2001:db8::1]"), "user@[IPv6:2001:db8::1]");
	T_INT(a.literal, 1);
	T_STR(canon("user@[ipv6:2001:DB8::1]"), "user@[ipv6:2001:DB8::1]");
	T_STR(canon("user@[192.0.2.256]"),
	    "ERR: user@[192.0.2.256]: bad address literal");
	T_STR(canon("user@[2001:db8::1]"),
	    "ERR: user@[2001:db8::1]: bad address literal");
	T_STR(canon("user@[IPv6:192.0.2.1]"),
	    "ERR: user@[IPv6:192.0.2.1]: bad address literal");
	T_STR(canon("user@[192.0.2.1"),
	    "ERR: user@[192.0.2.1: unterminated address literal");
	T_STR(canon("user@[192.0.2.1]."),
	    "ERR: user@[192.0.2.1].: unterminated address literal");
	T_STR(canon("user@[]"), "ERR: user@[]: bad address literal");
	T_STR(canon("user@[x:y]"), "ERR: user@[x:y]: bad address literal");
}

static void
test_route(void)
{
	T_STR(canon("<@a.example,@b.example:user@dom.example>"),
	    "user@dom.example");
	T_INT(a.route, 1);
	T_STR(canon("@local:user@other"), "user@other");
	T_STR(a.domain, "other");
	T_INT(a.route, 1);
	T_STR(canon("<@a:\"x:y\"@b>"), "\"x:y\"@b");
	T_STR(canon("<@a:>"), "ERR: <@a:>: empty mailbox after source route");
	T_STR(canon("<@:u@b>"), "ERR: <@:u@b>: bad source route");
	T_STR(canon("<@a,:u@b>"), "ERR: <@a,:u@b>: bad source route");
	T_STR(canon("<@a,b:u@b>"), "ERR: <@a,b:u@b>: bad source route");
	T_STR(canon("<@a..b:u@b>"), "ERR: <@a..b:u@b>: bad source route");
	T_STR(canon("<@a>"), "ERR: <@a>: empty local part");
}

static void
test_relay_tricks(void)
{
	T_STR(canon("user%other@local"), "user%other@local");
	T_STR(a.local, "user%other");
	T_STR(a.domain, "local");
	T_STR(canon("other!user@local"), "other!user@local");
	T_STR(a.local, "other!user");
	T_STR(a.domain, "local");
	T_STR(canon("user@other@local"),
	    "ERR: user@other@local: more than one @");
	T_STR(canon("user@local%other"),
	    "ERR: user@local%other: bad character in domain");
	T_STR(canon("user@local!other"),
	    "ERR: user@local!other: bad character in domain");
	T_STR(addr_domain("user@local"), "local");
	T_STR(addr_domain("\"a@b\"@c"), "c");
	T_STR(addr_domain("\"a\\\"@b\"@c"), "c");
	T_STR(addr_domain("\"a@b\""), "");
	T_STR(addr_domain("postmaster"), "");
	T_STR(addr_domain(""), "");
	T_STR(addr_domain("a@b@c"), "c");
}

static void
test_errors(void)
{
	char buf[400];

	T_STR(canon("<a@b"), "ERR: <a@b: unbalanced angle bracket");
	T_STR(canon("a@b>"), "ERR: a@b>: unbalanced angle bracket");
	T_STR(canon("<"), "ERR: <: unbalanced angle bracket");
	T_STR(canon(">"), "ERR: >: unbalanced angle bracket");
	T_STR(canon("<<a@b>>"), "ERR: <<a@b>>: unbalanced angle bracket");
	T_STR(canon("<a@b> SIZE=100"), "ERR: <a@b> SIZE=100: text after path");
	T_STR(canon("<a@b>x"), "ERR: <a@b>x: text after path");
	T_STR(canon(" <a@b>"), "ERR:  <a@b>: unbalanced angle bracket");
	T_STR(canon(" a@b"), "ERR:  a@b: bad character in local part");
	T_STR(canon("a b@c"), "ERR: a b@c: bad character in local part");
	T_STR(canon("a@b c"), "ERR: a@b c: bad character in domain");
	T_STR(canon("a\r\n@b"), "ERR: a??@b: bad character in local part");
	T_STR(canon("a(x)@b"), "ERR: a(x)@b: bad character in local part");
	T_STR(canon("a\\b@c"), "ERR: a\\b@c: bad character in local part");
	T_STR(canon("@b"), "ERR: @b: empty local part");
	T_STR(canon("<@b>"), "ERR: <@b>: empty local part");
	T_STR(canon("a@"), "ERR: a@: empty domain");
	T_STR(canon("a@."), "ERR: a@.: empty domain");
	T_STR(canon("a@a..b"), "ERR: a@a..b: empty label in domain");
	T_STR(canon("a@.a"), "ERR: a@.a: empty label in domain");
	T_STR(canon("a@b.."), "ERR: a@b..: empty label in domain");
	T_STR(canon("a@-b.c"), "ERR: a@-b.c: label starts with a hyphen");
	T_STR(canon("a@b-.c"), "ERR: a@b-.c: label ends with a hyphen");
	T_STR(canon("a@b.c-"), "ERR: a@b.c-: label ends with a hyphen");
	T_INT(addr_parse("<a@b", &a, NULL), -1);
	T_STR(a.addr, "");

	/* RFC 5321 section 4.5.3.1.1: 64 octets in a local part. */
	memset(buf, 'l', 64);
	strlcpy(buf + 64, "@example.com", sizeof(buf) - 64);
	T_OK(addr_parse(buf, &a, NULL) == 0 && strlen(a.local) == 64);
	buf[0] = '"';
	buf[63] = '"';
	T_OK(addr_parse(buf, &a, NULL) == 0 && strlen(a.local) == 62);
	memset(buf, 'l', 65);
	strlcpy(buf + 65, "@example.com", sizeof(buf) - 65);
	T_INT(addr_parse(buf, &a, &e), -1);
	T_OK(strstr(e.msg, ": local part too long") != NULL);
	buf[0] = '"';
	buf[64] = '"';
	T_INT(addr_parse(buf, &a, &e), -1);
	T_OK(strstr(e.msg, ": local part too long") != NULL);

	/* RFC 1035 section 2.3.4: 63 octets in a label. */
	memcpy(buf, "u@", 2);
	memset(buf + 2, 'd', 63);
	strlcpy(buf + 65, ".example", sizeof(buf) - 65);
	T_INT(addr_parse(buf, &a, NULL), 0);
	memset(buf + 2, 'd', 64);
	strlcpy(buf + 66, ".example", sizeof(buf) - 66);
	T_INT(addr_parse(buf, &a, &e), -1);
	T_OK(strstr(e.msg, ": domain label too long") != NULL);
}

/* Builds "<u@" + a domain of dlen octets + ">" into buf. */
static void
long_path(char *buf, size_t len, size_t dlen)
{
	size_t i;

	strlcpy(buf, "<u@", len);
	for (i = 0; i < dlen; i++)
		buf[3 + i] = (i % 10 == 9) ? '.' : 'd';
	if (buf[3 + dlen - 1] == '.')
		buf[3 + dlen - 1] = 'd';
	buf[3 + dlen] = '>';
	buf[4 + dlen] = '\0';
}

static void
test_lengths(void)
{
	char buf[700];

	/* RFC 5321 section 4.5.3.1.3: 256 octets, brackets included. */
	long_path(buf, sizeof(buf), 252);
	T_INT(strlen(buf), 256);
	T_INT(addr_parse(buf, &a, &e), 0);
	T_INT(strlen(a.domain), 252);
	long_path(buf, sizeof(buf), 253);
	T_INT(addr_parse(buf, &a, &e), -1);
	T_OK(strstr(e.msg, ": path too long") != NULL);
	/* Without brackets the same limit counts them. */
	long_path(buf, sizeof(buf), 252);
	buf[strlen(buf) - 1] = '\0';
	T_INT(addr_parse(buf + 1, &a, &e), 0);
	long_path(buf, sizeof(buf), 253);
	buf[strlen(buf) - 1] = '\0';
	T_INT(addr_parse(buf + 1, &a, &e), -1);
	T_OK(strstr(e.msg, ": path too long") != NULL);
	/* The message quotes a capped prefix of the input. */
	long_path(buf, sizeof(buf), 600);
	T_INT(addr_parse(buf, &a, &e), -1);
	T_OK(strlen(e.msg) < 160);
}

int
main(void)
{
	test_plain();
	test_null_and_bare();
	test_quoted();
	test_literal();
	test_route();
	test_relay_tricks();
	test_errors();
	test_lengths();
	return t_done("addr");
}
