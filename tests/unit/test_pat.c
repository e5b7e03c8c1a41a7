#include <string.h>

#include "pat.h"
#include "t.h"

static void
test_host(void)
{
	char big[1200];

	T_INT(pat_match_host("mail.example.com", "mail.example.com"), 1);
	T_INT(pat_match_host("mail.example.com", "MAIL.Example.COM"), 1);
	T_INT(pat_match_host("Mail.Example.com", "mail.example.com"), 1);
	T_INT(pat_match_host("mail.example.com", "mail.example.com."), 1);
	T_INT(pat_match_host("mail.example.com.", "mail.example.com"), 1);
	T_INT(pat_match_host("mail.example.com", "x.mail.example.com"), 0);
	T_INT(pat_match_host("mail.example.com", "mail.example.co"), 0);
	T_INT(pat_match_host("mail.example.com", "mail.example.com.."), 0);

	T_INT(pat_match_host("*.example.com", "a.example.com"), 1);
	T_INT(pat_match_host("*.example.com", "a.b.example.com"), 1);
	T_INT(pat_match_host("*.example.com", "A.EXAMPLE.COM."), 1);
	T_INT(pat_match_host("*.example.com", "example.com"), 0);
	T_INT(pat_match_host("*.example.com", "badexample.com"), 0);
	T_INT(pat_match_host("*.example.com", ".example.com"), 0);

	T_INT(pat_match_host(".example.com", "example.com"), 1);
	T_INT(pat_match_host(".example.com", "a.example.com"), 1);
	T_INT(pat_match_host(".example.com", "a.b.Example.com."), 1);
	T_INT(pat_match_host(".example.com", "badexample.com"), 0);
	T_INT(pat_match_host(".example.com", "example.org"), 0);

	/* Other globs: fnmatch(3), `*' matching dots too. */
	T_INT(pat_match_host("*.dyn.example.net", "1-2-3-4.dyn.example.net"), 1);
	T_INT(pat_match_host("*dyn*.example.net", "a.b.dynamic.example.net"), 1);
	T_INT(pat_match_host("*dyn*.example.net", "a.static.example.net"), 0);
	T_INT(pat_match_host("*.dsl.*", "x.dsl.isp.example"), 1);
	T_INT(pat_match_host("*.dsl.*", "dsl.isp.example"), 0);
	T_INT(pat_match_host("host?.example.com", "host1.example.com"), 1);
	T_INT(pat_match_host("host?.example.com", "host12.example.com"), 0);
	T_INT(pat_match_host("host[0-9].example.com", "host7.example.com"), 1);
	T_INT(pat_match_host("host[0-9].example.com", "hostx.example.com"), 0);
	T_INT(pat_match_host("HOST[A-C].example.com", "hostb.example.com"), 1);
	T_INT(pat_match_host("*", "anything.example"), 1);
	T_INT(pat_match_host("*", ""), 1);

	T_INT(pat_match_host("", "example.com"), 0);
	T_INT(pat_match_host("", ""), 0);
	T_INT(pat_match_host(".", ""), 0);
	T_INT(pat_match_host("example.com", ""), 0);
	/* fnmatch(3) takes an unclosed bracket literally. */
	T_INT(pat_match_host("a[", "a["), 1);
	T_INT(pat_match_host("a[", "ab"), 0);

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	T_INT(pat_match_host("*", big), 0);
	T_INT(pat_match_host(big, big), 0);
}

static void
test_addr(void)
{
	T_INT(pat_match_addr("user@example.com", "user@example.com"), 1);
	T_INT(pat_match_addr("user@example.com", "User@Example.COM"), 1);
	T_INT(pat_match_addr("USER@example.com", "user@example.com"), 1);
	T_INT(pat_match_addr("user@example.com", "user2@example.com"), 0);
	T_INT(pat_match_addr("user@example.com", "use@example.com"), 0);
	T_INT(pat_match_addr("user@example.com", "user@a.example.com"), 0);
	T_INT(pat_match_addr("user@example.com", "user@example.org"), 0);

	T_INT(pat_match_addr("@example.com", "anyone@example.com"), 1);
	T_INT(pat_match_addr("@example.com", "anyone@Example.Com"), 1);
	T_INT(pat_match_addr("@example.com", "anyone@a.example.com"), 0);
	T_INT(pat_match_addr("*@example.com", "anyone@example.com"), 1);
	T_INT(pat_match_addr("*@example.com", "anyone@example.org"), 0);

	T_INT(pat_match_addr("*@*.example.com", "x@mx.example.com"), 1);
	T_INT(pat_match_addr("*@*.example.com", "x@a.b.example.com"), 1);
	T_INT(pat_match_addr("*@*.example.com", "x@example.com"), 0);
	T_INT(pat_match_addr("@.example.com", "x@example.com"), 1);
	T_INT(pat_match_addr("@.example.com", "x@a.example.com"), 1);

	T_INT(pat_match_addr("postmaster@*", "postmaster@example.com"), 1);
	T_INT(pat_match_addr("postmaster@*", "PostMaster@example.org"), 1);
	T_INT(pat_match_addr("postmaster@*", "postmaster"), 1);
	T_INT(pat_match_addr("postmaster@*", "abuse@example.com"), 0);

	/* Other globs run fnmatch(3) on the whole address. */
	T_INT(pat_match_addr("*-bounces@*", "list-bounces@example.com"), 1);
	T_INT(pat_match_addr("*-bounces@*", "list@example.com"), 0);
	T_INT(pat_match_addr("info@example.*", "info@example.org"), 1);
	T_INT(pat_match_addr("info@example.*", "info@example"), 0);
	T_INT(pat_match_addr("u?er@example.com", "USER@example.com"), 1);
	T_INT(pat_match_addr("*", "user@example.com"), 1);
	T_INT(pat_match_addr("postmaster", "postmaster"), 1);
	T_INT(pat_match_addr("postmaster", "postmaster@example.com"), 0);

	/* Quoted local parts and relay tricks compare as written. */
	T_INT(pat_match_addr("\"user@other\"@local", "\"user@other\"@local"), 1);
	T_INT(pat_match_addr("@local", "\"user@other\"@local"), 1);
	T_INT(pat_match_addr("@other", "\"user@other\"@local"), 0);
	T_INT(pat_match_addr("user%other@local", "user%other@local"), 1);
	T_INT(pat_match_addr("user@other", "user%other@local"), 0);

	/* The null reverse-path. */
	T_INT(pat_match_addr("<>", ""), 1);
	T_INT(pat_match_addr("<>", "user@example.com"), 0);
	T_INT(pat_match_addr("*", ""), 0);
	T_INT(pat_match_addr("@example.com", ""), 0);
	T_INT(pat_match_addr("", ""), 0);
	T_INT(pat_match_addr("", "user@example.com"), 0);
}

static void
test_is_glob(void)
{
	T_INT(pat_is_glob("mail.example.com"), 0);
	T_INT(pat_is_glob("*.example.com"), 0);
	T_INT(pat_is_glob(".example.com"), 0);
	T_INT(pat_is_glob("*dyn*.example.com"), 1);
	T_INT(pat_is_glob("*.dsl.*"), 1);
	T_INT(pat_is_glob("host?.example.com"), 1);
	T_INT(pat_is_glob("host[0-9].example.com"), 1);
	T_INT(pat_is_glob("*"), 1);
	T_INT(pat_is_glob("user@example.com"), 0);
	T_INT(pat_is_glob("@example.com"), 0);
	T_INT(pat_is_glob("*@example.com"), 0);
	T_INT(pat_is_glob("*@*.example.com"), 0);
	T_INT(pat_is_glob("@.example.com"), 0);
	T_INT(pat_is_glob("user@*"), 0);
	T_INT(pat_is_glob("<>"), 0);
	T_INT(pat_is_glob("*-bounces@*"), 1);
	T_INT(pat_is_glob("info@example.*"), 1);
	T_INT(pat_is_glob("u?er@example.com"), 1);
	T_INT(pat_is_glob("*@*"), 0);
}

int
main(void)
{
	test_host();
	test_addr();
	test_is_glob();
	return t_done("pat");
}
