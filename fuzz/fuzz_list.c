/*
 * fuzz_list: list files from arbitrary bytes.  The input is written to a
 * temporary file, parsed by list_open (no compiled form) and looked up.
 * A parsed list must answer lookups of every kind without faults.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "list.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	path[64];
static int	fd = -1;

static void
cleanup(void)
{
	unlink(path);
}

/* Looks up the first word of the input's first lines as every kind. */
static void
lookup_words(const struct list *l, const uint8_t *data, size_t size)
{
	char w[LIST_ENTRY_MAX + 16];
	struct ipaddr ip;
	const char *v;
	size_t i = 0, n, lines;

	for (lines = 0; lines < 4 && i < size; lines++) {
		for (n = 0; i < size && data[i] != '\n'; i++)
			if (n + 1 < sizeof(w) && data[i] != '\0' &&
			    data[i] != ' ' && data[i] != '\t')
				w[n++] = (char)data[i];
		w[n] = '\0';
		i++;
		list_match_host(l, w, &v);
		list_match_addr(l, w, &v);
		if (ip_parse(w, &ip, NULL) == 0)
			list_match_ip(l, &ip, &v);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *names[] = { "mail.example.com", "example.com",
	    "a.b.c.d.example.net", "MAIL.EXAMPLE.COM.", "", "." };
	static const char *addrs[] = { "user@example.com", "",
	    "x@a.b.example.com", "postmaster@example.org", "noat" };
	static const char *ips[] = { "192.0.2.1", "10.1.2.3",
	    "::ffff:10.1.2.3", "2001:db8::1", "::" };
	struct mgerr e;
	struct ipaddr ip;
	struct list *l;
	const char *v;
	size_t i;

	if (fd == -1) {
		snprintf(path, sizeof(path), "/tmp/fuzz_list.XXXXXX");
		if ((fd = mkstemp(path)) == -1)
			abort();
		atexit(cleanup);
	}
	if (ftruncate(fd, 0) == -1 || pwrite(fd, data, size, 0) !=
	    (ssize_t)size)
		abort();
	if ((l = list_open(path, 0, NULL, 0, &e)) == NULL)
		return 0;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (list_match_host(l, names[i], &v) && v == NULL)
			abort();
	for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++)
		if (list_match_addr(l, addrs[i], &v) && v == NULL)
			abort();
	for (i = 0; i < sizeof(ips) / sizeof(ips[0]); i++)
		if (ip_parse(ips[i], &ip, NULL) == 0)
			list_match_ip(l, &ip, &v);
	lookup_words(l, data, size);
	if (list_count(l) > size)
		abort();
	list_close(l);
	return 0;
}
