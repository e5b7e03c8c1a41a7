#include <sys/stat.h>
#include <sys/types.h>

#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "list.h"
#include "t.h"

static char dir[64];
static char path[128];
static char mgc[160];

static void
write_file(const char *p, const char *text)
{
	FILE *f;

	if ((f = fopen(p, "w")) == NULL) {
		perror(p);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
}

/* Sets the mtime of p to now + delta seconds. */
static void
set_mtime(const char *p, long delta)
{
	struct timespec ts[2];

	ts[0].tv_sec = ts[1].tv_sec = time(NULL) + delta;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	utimensat(AT_FDCWD, p, ts, 0);
}

static struct list *
open_text(const char *text)
{
	struct mgerr e;
	struct list *l;

	write_file(path, text);
	unlink(mgc);
	if ((l = list_open(path, 0, NULL, 0, &e)) == NULL)
		fprintf(stderr, "list_open: %s\n", e.msg);
	return l;
}

/* The error of parsing text, without the "PATH:" prefix, or "OK". */
static const char *
parse_err(const char *text)
{
	static struct mgerr e;
	struct list *l;
	size_t n = strlen(path);

	write_file(path, text);
	mgerr_clear(&e);
	if ((l = list_open(path, 0, NULL, 0, &e)) != NULL) {
		list_close(l);
		return "OK";
	}
	if (strncmp(e.msg, path, n) != 0 || e.msg[n] != ':')
		return e.msg;
	return e.msg + n + 1;
}

static const char *
ipv(const struct list *l, const char *s)
{
	struct ipaddr ip;
	const char *v;

	if (ip_parse(s, &ip, NULL) == -1)
		return "BADIP";
	return list_match_ip(l, &ip, &v) ? v : "NONE";
}

static const char *
hostv(const struct list *l, const char *s)
{
	const char *v;

	return list_match_host(l, s, &v) ? v : "NONE";
}

static const char *
addrv(const struct list *l, const char *s)
{
	const char *v;

	return list_match_addr(l, s, &v) ? v : "NONE";
}

static void
test_parse(void)
{
	struct list *l;

	l = open_text("# a comment\n"
	    "   # indented comment\n"
	    "\n"
	    " \t \n"
	    "192.0.2.0/24 deny\n"
	    "192.0.2.7\tallow   # why\n"
	    "2001:db8::/32  550 5.7.1 go away  \n"
	    "mail.example.com\n"
	    "*.dyn.example.net dyn\r\n"
	    ".example.org org#not a comment\n"
	    "user@example.com u\n"
	    "@example.com d\n"
	    "<> null\n"
	    "a#b hash\n"
	    "mail*.example.net glob\n"
	    "10.9.9.9 last");
	T_OK(l != NULL);
	if (l == NULL)
		return;
	T_INT(list_count(l), 12);
	T_INT(list_is_compiled(l), 0);
	T_STR(ipv(l, "192.0.2.7"), "allow");
	T_STR(ipv(l, "192.0.2.8"), "deny");
	T_STR(ipv(l, "2001:db8::1"), "550 5.7.1 go away");
	T_STR(ipv(l, "10.9.9.9"), "last");
	T_STR(ipv(l, "192.0.3.1"), "NONE");
	T_STR(hostv(l, "mail.example.com"), "");
	T_STR(hostv(l, "a.dyn.example.net"), "dyn");
	T_STR(hostv(l, "example.org"), "org#not a comment");
	T_STR(hostv(l, "a#b"), "hash");
	T_STR(hostv(l, "mail7.example.net"), "glob");
	T_STR(hostv(l, "example.net"), "NONE");
	T_STR(addrv(l, "user@example.com"), "u");
	T_STR(addrv(l, "x@example.com"), "d");
	T_STR(addrv(l, ""), "null");
	T_STR(addrv(l, "x@example.org"), "NONE");
	/* Kinds do not leak into each other's lookups. */
	T_STR(hostv(l, "<>"), "NONE");
	T_STR(addrv(l, "mail.example.com"), "NONE");
	T_INT(list_match_host(l, "mail.example.com", NULL), 1);
	list_close(l);

	l = open_text("");
	T_OK(l != NULL);
	if (l != NULL) {
		T_INT(list_count(l), 0);
		T_STR(ipv(l, "192.0.2.1"), "NONE");
		T_STR(hostv(l, "a.b"), "NONE");
		T_STR(addrv(l, ""), "NONE");
		list_close(l);
	}
}

static void
test_errors(void)
{
	char big[LIST_LINE_MAX + 64];
	struct mgerr e;

	T_STR(parse_err("# ok\n10.0.0.0/8\n10.0.0.0/33 deny\n"),
	    "3: 10.0.0.0/33: bad prefix length");
	T_STR(parse_err("10.0.0.1/24\n"), "1: 10.0.0.1/24: host bits set");
	T_OK(strstr(parse_err("\n1.2.3.400\n"), "2: ") != NULL);
	T_OK(strstr(parse_err("2001:db8::g\n"), "1: ") != NULL);
	T_STR(parse_err("a\nuser@\n"), "2: bad address: user@");
	T_STR(parse_err("a@b@c\n"), "1: bad address: a@b@c");
	T_STR(parse_err("<user@example.com>\n"),
	    "1: bad address: <user@example.com>");
	T_STR(parse_err("user@a..example\n"), "1: bad address: user@a..example");
	T_STR(parse_err("foo..example.com\n"),
	    "1: bad host pattern: foo..example.com");
	T_STR(parse_err("*.\n"), "OK");	/* "*" is a glob */
	T_STR(parse_err("@\n"), "1: bad address: @");
	T_STR(parse_err("ok\nbad\001line\n"), "2: control character in line");
	write_file(path, "ok\nbad");
	{
		FILE *f = fopen(path, "a");

		fputc('\0', f);
		fputs("x\n", f);
		fclose(f);
	}
	mgerr_clear(&e);
	T_OK(list_open(path, 0, NULL, 0, &e) == NULL);
	T_OK(strstr(e.msg, ":2: NUL byte in line") != NULL);
	memset(big, 'a', sizeof(big) - 2);
	big[sizeof(big) - 2] = '\n';
	big[sizeof(big) - 1] = '\0';
	T_STR(parse_err(big), "1: line too long");
	memset(big, 'a', LIST_ENTRY_MAX + 1);
	snprintf(big + LIST_ENTRY_MAX + 1, 8, " v\n");
	T_STR(parse_err(big), "1: entry too long");
	mgerr_clear(&e);
	T_OK(list_open("/nonexistent/list", 0, NULL, 0, &e) == NULL);
	T_OK(strstr(e.msg, "/nonexistent/list") != NULL);
	T_INT(list_compile("/nonexistent/list", &e), -1);
}

static void
test_cidr(void)
{
	struct list *l;

	l = open_text("0.0.0.0/0 any4\n"
	    "10.0.0.0/8 a\n"
	    "10.1.0.0/16 b\n"
	    "10.1.2.3 d\n"
	    "10.1.2.0/24 c\n"
	    "10.1.2.0/24 dup\n"
	    "::ffff:192.0.2.0/120 mapped\n"
	    "2001:db8::/32 x\n"
	    "2001:db8:1::/48 y\n"
	    "2001:db8:1:2::/64 z\n"
	    "2001:db8:1:2::1/128 host6\n");
	T_OK(l != NULL);
	if (l == NULL)
		return;
	T_STR(ipv(l, "10.1.2.3"), "d");
	T_STR(ipv(l, "10.1.2.4"), "c");
	T_STR(ipv(l, "10.1.3.4"), "b");
	T_STR(ipv(l, "10.2.0.1"), "a");
	T_STR(ipv(l, "11.0.0.1"), "any4");
	T_STR(ipv(l, "::ffff:10.1.2.3"), "d");
	T_STR(ipv(l, "::ffff:10.1.2.9"), "c");
	T_STR(ipv(l, "192.0.2.200"), "mapped");
	T_STR(ipv(l, "2001:db8:1:2::1"), "host6");
	T_STR(ipv(l, "2001:db8:1:2::2"), "z");
	T_STR(ipv(l, "2001:db8:1:3::1"), "y");
	T_STR(ipv(l, "2001:db8:2::1"), "x");
	T_STR(ipv(l, "2001:db9::1"), "NONE");
	T_STR(ipv(l, "::1"), "NONE");
	list_close(l);
	l = open_text("::/0 all6\n2001:db8::/32 x\n");
	if (l != NULL) {
		/* IPv4 lives in ::ffff:0:0/96, inside ::/0. */
		T_STR(ipv(l, "192.0.2.1"), "all6");
		T_STR(ipv(l, "2001:db8::5"), "x");
		list_close(l);
	}
}

static void
test_hosts(void)
{
	struct list *l;

	l = open_text("*.example.com star\n"
	    ".example.com dot\n"
	    "mail.example.com exact\n"
	    ".b.example.com b\n"
	    "*.c.b.example.com cb\n"
	    "m*.example.com globm\n"
	    "mail?.net first\n"
	    "*mail* second\n"
	    "Upper.Example.NET. upper\n");
	T_OK(l != NULL);
	if (l == NULL)
		return;
	T_STR(hostv(l, "mail.example.com"), "exact");
	T_STR(hostv(l, "MAIL.Example.COM."), "exact");
	T_STR(hostv(l, "example.com"), "dot");
	T_STR(hostv(l, "x.example.com"), "star");
	T_STR(hostv(l, "mx.example.com"), "star");
	T_STR(hostv(l, "b.example.com"), "b");
	T_STR(hostv(l, "a.b.example.com"), "b");
	T_STR(hostv(l, "c.b.example.com"), "b");
	T_STR(hostv(l, "x.c.b.example.com"), "cb");
	T_STR(hostv(l, "y.x.c.b.example.com"), "cb");
	T_STR(hostv(l, "mailx.net"), "first");
	T_STR(hostv(l, "mymail.org"), "second");
	T_STR(hostv(l, "upper.example.net"), "upper");
	T_STR(hostv(l, "example.net"), "NONE");
	T_STR(hostv(l, "com"), "NONE");
	T_STR(hostv(l, ""), "NONE");
	T_STR(hostv(l, "."), "NONE");
	T_STR(hostv(l, "xexample.com"), "NONE");
	list_close(l);
}

static void
test_addrs(void)
{
	struct list *l;

	l = open_text("user@example.com exact\n"
	    "*@example.com dom\n"
	    "*@*.example.com sub\n"
	    "@*.b.example.com subb\n"
	    "postmaster@* pm\n"
	    "<> null\n"
	    "spam*@* glob\n"
	    "*@*.example.org suborg\n");
	T_OK(l != NULL);
	if (l == NULL)
		return;
	T_STR(addrv(l, "user@example.com"), "exact");
	T_STR(addrv(l, "USER@Example.Com."), "exact");
	T_STR(addrv(l, "other@example.com"), "dom");
	T_STR(addrv(l, "x@a.example.com"), "sub");
	T_STR(addrv(l, "x@b.example.com"), "sub");
	T_STR(addrv(l, "x@a.b.example.com"), "subb");
	T_STR(addrv(l, "postmaster@foo.net"), "pm");
	T_STR(addrv(l, "postmaster@example.com"), "dom");
	T_STR(addrv(l, "spammer@foo.net"), "glob");
	T_STR(addrv(l, "spammer@example.com"), "dom");
	T_STR(addrv(l, ""), "null");
	T_STR(addrv(l, "<>"), "null");
	T_STR(addrv(l, "x@example.org"), "NONE");
	T_STR(addrv(l, "nobody@foo.net"), "NONE");
	T_STR(addrv(l, "nobody"), "NONE");
	T_STR(addrv(l, "x@"), "NONE");
	list_close(l);
	/* "@*" is a glob for any address with a domain, not a key. */
	l = open_text("@* any\n");
	if (l != NULL) {
		T_STR(addrv(l, "nobody@foo.net"), "any");
		T_STR(addrv(l, ""), "NONE");
		list_close(l);
	}
}

/* Rewrites path in place with text of the same size, keeping its mtime. */
static void
rewrite_same(const char *text)
{
	struct stat st;
	struct timespec ts[2];

	stat(path, &st);
	write_file(path, text);
	ts[0] = st.st_atim;
	ts[1] = st.st_mtim;
	utimensat(AT_FDCWD, path, ts, 0);
}

static void
test_compiled(void)
{
	struct mgerr e;
	struct list *l;
	char warn[256];
	const char *text = "192.0.2.0/24 old\nhost.example old\n";

	unlink(mgc);
	write_file(path, text);
	set_mtime(path, -100);
	T_INT(list_compile(path, &e), 2);
	T_OK(access(mgc, R_OK) == 0);
	l = list_open(path, 0, warn, sizeof(warn), &e);
	T_OK(l != NULL && list_is_compiled(l));
	if (l != NULL) {
		T_STR(ipv(l, "192.0.2.1"), "old");
		T_STR(hostv(l, "host.example"), "old");
		T_INT(list_count(l), 2);
		list_close(l);
	}
	/* Same size, mtime and inode: trusted without reading the text. */
	rewrite_same("192.0.2.0/24 NEW\nhost.example NEW\n");
	l = list_open(path, 0, NULL, 0, &e);
	T_OK(l != NULL && list_is_compiled(l));
	if (l != NULL) {
		T_STR(ipv(l, "192.0.2.1"), "old");
		list_close(l);
	}
	/* A newer text is parsed, and compiled again when asked. */
	set_mtime(path, -50);
	l = list_open(path, 1, warn, sizeof(warn), &e);
	T_OK(l != NULL && !list_is_compiled(l));
	T_STR(warn, "");
	if (l != NULL) {
		T_STR(ipv(l, "192.0.2.1"), "NEW");
		list_close(l);
	}
	l = list_open(path, 0, NULL, 0, &e);
	T_OK(l != NULL && list_is_compiled(l));
	if (l != NULL) {
		T_STR(hostv(l, "host.example"), "NEW");
		list_close(l);
	}
}

/* Text compiled within the mtime clock's reach is checked by hash. */
static void
test_racy(void)
{
	struct mgerr e;
	struct list *l;
	struct stat st, st2;
	char warn[256];
	const char *text = "192.0.2.0/24 old\nhost.example old\n";

	write_file(path, text);
	T_INT(list_compile(path, &e), 2);
	l = list_open(path, 0, NULL, 0, &e);
	T_OK(l != NULL && list_is_compiled(l));
	list_close(l);
	rewrite_same("192.0.2.0/24 NEW\nhost.example NEW\n");
	l = list_open(path, 0, NULL, 0, &e);
	T_OK(l != NULL && !list_is_compiled(l));
	if (l != NULL) {
		T_STR(ipv(l, "192.0.2.1"), "NEW");
		list_close(l);
	}
	/* Once the mtime is old enough, compile=1 stamps it trusted. */
	write_file(path, text);
	set_mtime(path, -1);
	T_INT(list_compile(path, &e), 2);
	stat(mgc, &st);
	sleep(2);
	l = list_open(path, 1, warn, sizeof(warn), &e);
	T_OK(l != NULL && list_is_compiled(l));
	list_close(l);
	stat(mgc, &st2);
	T_OK(st.st_ino != st2.st_ino);	/* rewritten */
	rewrite_same("192.0.2.0/24 NEW\nhost.example NEW\n");
	l = list_open(path, 0, NULL, 0, &e);
	T_OK(l != NULL && list_is_compiled(l));	/* trusted by stat alone */
	if (l != NULL) {
		T_STR(ipv(l, "192.0.2.1"), "old");
		list_close(l);
	}
}

/* Opens path after mgc was damaged: must not crash, must answer right. */
static void
check_damaged(const char *what)
{
	struct mgerr e;
	struct list *l;

	l = list_open(path, 0, NULL, 0, &e);
	T_OK(l != NULL);
	if (l == NULL)
		return;
	if (list_is_compiled(l)) {
		/* Only the records were damaged: lookups stay in bounds. */
		ipv(l, "192.0.2.1");
		hostv(l, "a.example.com");
		addrv(l, "x@example.com");
	} else {
		T_STR(ipv(l, "192.0.2.1"), "v4");
		T_STR(hostv(l, "a.example.com"), "host");
		T_STR(addrv(l, "x@example.com"), "addr");
	}
	if (getenv("TEST_LIST_DEBUG") != NULL)
		fprintf(stderr, "%s: compiled %d\n", what, list_is_compiled(l));
	list_close(l);
}

static void
test_corrupt(void)
{
	struct list_hdr h;
	struct mgerr e;
	struct stat st;
	unsigned char *buf;
	FILE *f;
	size_t i;

	write_file(path, "192.0.2.0/24 v4\n*.example.com host\n"
	    "@example.com addr\nmail*.glob g\n");
	set_mtime(path, -100);
	T_INT(list_compile(path, &e), 4);
	stat(mgc, &st);
	buf = malloc((size_t)st.st_size);
	f = fopen(mgc, "rb");
	T_INT(fread(buf, 1, (size_t)st.st_size, f), st.st_size);
	fclose(f);
	memcpy(&h, buf, sizeof(h));
	/* Truncated. */
	T_INT(truncate(mgc, st.st_size / 2), 0);
	check_damaged("truncated");
	T_INT(truncate(mgc, 10), 0);
	check_damaged("header only");
	/* A bad magic number, then a wild section offset. */
	f = fopen(mgc, "wb");
	buf[0] ^= 0xff;
	fwrite(buf, 1, (size_t)st.st_size, f);
	fclose(f);
	check_damaged("magic");
	buf[0] ^= 0xff;
	((struct list_hdr *)(void *)buf)->keys_off = 0xfffffff0;
	f = fopen(mgc, "wb");
	fwrite(buf, 1, (size_t)st.st_size, f);
	fclose(f);
	check_damaged("offset");
	memcpy(buf, &h, sizeof(h));
	/* Every record overwritten, header and strings intact. */
	for (i = sizeof(h); i < h.str_off; i++)
		buf[i] = 0xff;
	f = fopen(mgc, "wb");
	fwrite(buf, 1, (size_t)st.st_size, f);
	fclose(f);
	check_damaged("records");
	free(buf);
	/* A directory where the compiled file should be. */
	unlink(mgc);
	mkdir(mgc, 0755);
	check_damaged("directory");
	rmdir(mgc);
}

static void
test_readonly(void)
{
	char ro[128], rpath[160], rmgc[170], warn[256];
	struct mgerr e;
	struct list *l;

	snprintf(ro, sizeof(ro), "%s/ro", dir);
	snprintf(rpath, sizeof(rpath), "%s/list", ro);
	snprintf(rmgc, sizeof(rmgc), "%s/list.mgc", ro);
	mkdir(ro, 0755);
	write_file(rpath, "192.0.2.0/24 deny\n");
	/* root writes anyway, so let rename(2) fail on a directory. */
	if (geteuid() == 0)
		mkdir(rmgc, 0755);
	chmod(ro, 0555);
	l = list_open(rpath, 1, warn, sizeof(warn), &e);
	T_OK(l != NULL);
	T_OK(strstr(warn, "cannot write ") != NULL &&
	    strstr(warn, "list.mgc") != NULL);
	if (l != NULL) {
		T_INT(list_is_compiled(l), 0);
		T_STR(ipv(l, "192.0.2.9"), "deny");
		list_close(l);
	}
	T_INT(t_count_dir(ro), geteuid() == 0 ? 2 : 1);	/* no temp file left */
	T_INT(list_compile(rpath, &e), -1);
	T_OK(strstr(e.msg, "cannot write ") != NULL);
	chmod(ro, 0755);
	rmdir(rmgc);
	unlink(rpath);
	rmdir(ro);
}

static uint64_t rnd_state = 42;

static uint32_t
rnd(void)
{
	rnd_state = rnd_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(rnd_state >> 33);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Writes n mixed entries: v4 and v6 CIDRs, host patterns, addresses. */
static void
write_big(const char *p, unsigned n)
{
	FILE *f = fopen(p, "w");
	unsigned i, len;
	uint32_t a;

	for (i = 0; i < n; i++) {
		switch (i % 5) {
		case 0:
		case 1:
			len = 8 + rnd() % 25;
			a = rnd() & (uint32_t)(0xffffffffULL << (32 - len));
			fprintf(f, "%u.%u.%u.%u/%u deny\n", a >> 24,
			    (a >> 16) & 255, (a >> 8) & 255, a & 255, len);
			break;
		case 2:
			a = rnd();
			fprintf(f, "2001:db8:%x:%x::/64 v6\n", a & 0xffff,
			    rnd() & 0xffff);
			break;
		case 3:
			a = rnd();
			len = rnd() % 100000;
			fprintf(f, "%sh%u.example%u.net host\n",
			    a % 2 ? "*." : "", len, rnd() % 100);
			break;
		default:
			a = rnd() % 1000;
			fprintf(f, "u%u@d%u.example addr\n", a, rnd() % 100000);
		}
	}
	fclose(f);
}

static void
test_big(void)
{
	char ip[64], name[128], addr[128];
	struct mgerr e;
	struct list *l;
	struct ipaddr q;
	double t0, t1, t2;
	unsigned i, hits = 0;
	uint32_t a;
	const unsigned n = 100000, nq = 10000;

	write_big(path, n);
	set_mtime(path, -100);
	t0 = now();
	T_INT(list_compile(path, &e), n);
	t1 = now();
	l = list_open(path, 0, NULL, 0, &e);
	t2 = now();
	T_OK(l != NULL && list_is_compiled(l));
	if (l == NULL)
		return;
	printf("test_list: %u entries: compile %.1f ms, open %.3f ms\n", n,
	    (t1 - t0) * 1e3, (t2 - t1) * 1e3);
	t0 = now();
	for (i = 0; i < nq; i++) {
		a = rnd();
		snprintf(ip, sizeof(ip), "%u.%u.%u.%u", a >> 24,
		    (a >> 16) & 255, (a >> 8) & 255, a & 255);
		ip_parse(ip, &q, NULL);
		hits += (unsigned)list_match_ip(l, &q, NULL);
		a = rnd() % 100000;
		snprintf(name, sizeof(name), "x.h%u.example%u.net", a,
		    rnd() % 100);
		hits += (unsigned)list_match_host(l, name, NULL);
		a = rnd() % 1000;
		snprintf(addr, sizeof(addr), "u%u@d%u.example", a,
		    rnd() % 100000);
		hits += (unsigned)list_match_addr(l, addr, NULL);
	}
	t1 = now();
	printf("test_list: %u lookups (%u hits): %.2f us per lookup\n",
	    3 * nq, hits, (t1 - t0) * 1e6 / (3 * nq));
	T_OK((t1 - t0) * 1e6 / (3 * nq) < 50);
	T_OK(hits > 0);
	list_close(l);
}

static void
cleanup(void)
{
	unlink(mgc);
	unlink(path);
	rmdir(dir);
}

static char load_warning[256];
static int load_warnings;

static void load_warn(const char *, ...) __attribute__((format(printf, 1, 2)));

static void
load_warn(const char *fmt, ...)
{
	va_list ap;

	load_warnings++;
	va_start(ap, fmt);
	vsnprintf(load_warning, sizeof(load_warning), fmt, ap);
	va_end(ap);
}

/*
 * list_load: no path opens nothing; a bad file is an error; a compiled
 * form that cannot be written is a warning to the callback, not printed.
 */
static void
test_load(void)
{
	char keep[sizeof(mgc) + 8];
	struct mgerr e;
	struct list *l = (struct list *)&e;
	struct ipaddr ip;

	T_INT(list_load(NULL, 1, &l, load_warn, &e), 0);
	T_OK(l == NULL);
	write_file(path, "192.0.2.0/24\n");
	unlink(mgc);
	T_INT(list_load(path, 0, &l, load_warn, &e), 0);
	T_OK(l != NULL && ip_parse("192.0.2.9", &ip, &e) == 0 &&
	    list_match_ip(l, &ip, NULL));
	list_close(l);
	T_INT(load_warnings, 0);
	/* A directory in the place of PATH.mgc: rename(2) cannot replace it. */
	snprintf(keep, sizeof(keep), "%s/keep", mgc);
	T_INT(mkdir(mgc, 0700), 0);
	write_file(keep, "x\n");
	T_INT(list_load(path, 1, &l, load_warn, &e), 0);
	T_OK(l != NULL);
	list_close(l);
	T_INT(load_warnings, 1);
	T_OK(strstr(load_warning, ".mgc") != NULL);
	T_INT(list_load(path, 1, &l, NULL, &e), 0);
	list_close(l);
	T_INT(load_warnings, 1);
	unlink(keep);
	rmdir(mgc);
	write_file(path, "192.0.2.0/99\n");
	T_INT(list_load(path, 0, &l, load_warn, &e), -1);
	T_OK(l == NULL && strstr(e.msg, ":1:") != NULL);
}

int
main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_list.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/list", dir);
	snprintf(mgc, sizeof(mgc), "%s%s", path, LIST_SUFFIX);
	test_parse();
	test_errors();
	test_cidr();
	test_hosts();
	test_addrs();
	test_compiled();
	test_racy();
	test_corrupt();
	test_readonly();
	test_big();
	test_load();
	cleanup();
	return t_done("test_list");
}
