/*
 * fuzz_spf_record: one SPF record, any bytes, evaluated by mg-spf's
 * check_host() through libspf2's interpreter and the DNS layer on a
 * zone file (--resolver zone:FILE).  The record is published as the TXT
 * of fuzz.example (split into 255-byte strings), beside names that its
 * a, mx, ptr, include and exists terms can reach.  The result must be
 * one of the seven, the limits must hold, and nothing may crash or hang.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../cmd/mg-spf/check.c"
#include "../cmd/mg-spf/record.c"
#include "../cmd/mg-spf/spfdns.c"
#include "../cmd/mg-spf/match.c"
#include "../cmd/mg-spf/cache.c"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_MAX	2000

static const char zone_tail[] =
    "mail.fuzz.example. 300 IN A 192.0.2.1\n"
    "fuzz.example. 300 IN MX 10 mail.fuzz.example.\n"
    "inc.fuzz.example. 300 IN TXT \"v=spf1 a:mail.fuzz.example -all\"\n"
    "loop.fuzz.example. 300 IN TXT \"v=spf1 include:loop.fuzz.example\"\n"
    "1.2.0.192.in-addr.arpa. 300 IN PTR mail.fuzz.example.\n";

/* Writes the zone with data as the TXT of fuzz.example. */
static int
write_zone(const char *path, const uint8_t *data, size_t size)
{
	FILE *f;
	size_t i;

	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fputs("fuzz.example. 300 IN TXT \"", f);
	for (i = 0; i < size; i++) {
		if (i > 0 && i % 255 == 0)
			fputs("\" \"", f);
		fprintf(f, "\\%03u", data[i]);
	}
	fputs("\"\n", f);
	fputs(zone_tail, f);
	return fclose(f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64], spec[80];
	struct spf s;
	struct spf_answer a;
	struct mgerr e;

	if (size > FUZZ_MAX)
		size = FUZZ_MAX;
	if (path[0] == '\0') {
		snprintf(path, sizeof(path), "/tmp/fuzz_spf.%ld.zone",
		    (long)getpid());
		snprintf(spec, sizeof(spec), "zone:%s", path);
	}
	if (write_zone(path, data, size) == -1)
		return 0;
	memset(&s, 0, sizeof(s));
	s.env.ip_text = "192.0.2.1";
	s.env.helo = "mail.fuzz.example";
	if (ip_parse(s.env.ip_text, &s.env.ip, &e) == -1)
		abort();
	s.env.have_ip = 1;
	s.hostname = "mx.fuzz";
	s.resolver = spec;
	s.dns_timeout = 100;
	s.budget_ms = 2000;
	s.exp_default = "%{o}%_does%_not%_allow%_%{i}";
	if (spf_setup(&s, &e) == -1)
		return 0;	/* a zone file the fuzzer made unreadable */
	spf_check(&s, SCOPE_MFROM, "fuzz.example", "bob@fuzz.example", &a);
	if ((unsigned)a.result >= R_COUNT || s.layer.terms > SPF_LIMIT_TERMS + 1 ||
	    s.layer.voids > SPF_LIMIT_VOID + 1)
		abort();
	spf_release(&s);
	return 0;
}
