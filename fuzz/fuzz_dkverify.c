/*
 * fuzz_dkverify: DomainKeys verification (dk.c) as mg-dkim-verify runs
 * it: the input is a message; every DomainKey-Signature field in it is
 * parsed, the signed fields and the body canonicalized, and the key
 * fetched from a fixed zone, fuzz/dkverify.zone (the Mail::DKIM key
 * records, so its test messages in the seed corpus can pass).  Run from
 * the top of the tree, as scripts/fuzz.sh does.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "dk.h"
#include "dns.h"
#include "msg.h"
#include "fuzzinput.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define ZONE	"fuzz/dkverify.zone"
/* As many signatures as mg-dkim-verify checks (MAXDK in its main.c). */
#define MAXDK	16

static const char *const results[] = { "pass", "fail", "neutral",
    "permerror", "temperror" };

static void
check_result(const struct dk_result *r)
{
	size_t i;

	for (i = 0; i < sizeof(results) / sizeof(results[0]); i++)
		if (strcmp(r->result, results[i]) == 0)
			break;
	if (i == sizeof(results) / sizeof(results[0]) ||
	    (i == 0 && (r->domain[0] == '\0' || r->selector[0] == '\0')))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dns *dns;
	struct dk *dks[MAXDK];
	struct dk_result r;
	struct mgerr e;
	struct msg *m;
	const char *p;
	ssize_t n;
	size_t i, ndk = 0;
	FILE *in;

	if (dns == NULL && (dns = dns_new("zone:" ZONE, 0, 1, &e)) == NULL) {
		fprintf(stderr, "fuzz_dkverify: %s\n", e.msg);
		abort();
	}
	if ((in = fopen(fuzz_file(0, data, size), "r")) == NULL)
		abort();
	if ((m = msg_read(fileno(in), NULL, 0, &e)) == NULL) {
		fclose(in);
		return 0;
	}
	for (i = 0; i < msg_nfields(m) && ndk < MAXDK; i++)
		if (strcasecmp(msg_field(m, i)->name,
		    "DomainKey-Signature") == 0)
			dks[ndk++] = dk_verify_new(m, i, 0);
	while (ndk > 0 && (n = msg_body_next(m, 1, &p, &e)) > 0)
		for (i = 0; i < ndk; i++)
			dk_body(dks[i], p, (size_t)n);
	for (i = 0; i < ndk; i++) {
		dk_verify_end(dks[i], dns, &r);
		check_result(&r);
	}
	msg_free(m);
	fclose(in);
	return 0;
}
