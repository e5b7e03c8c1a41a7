/*
 * fuzz_dkimtables: mg-dkim-sign's KeyTable and SigningTable loaders and
 * lookup (tables.c): keytable_load, signtable_load, tables_lookup.  The
 * input is NUL-separated parts: the sender, the SigningTable (read as
 * refile: when its first byte is 'R'), the KeyTable.  Two lines follow the
 * KeyTable, naming keys "rsa" and "ed" of the test data, so a table can
 * pick real keys (from the top of the tree, as scripts/fuzz.sh runs).
 * An input naming a device or /proc file is skipped: a key file is read
 * to its end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "../cmd/mg-dkim-sign/keys.c"
#include "../cmd/mg-dkim-sign/tables.c"
#include "fuzzinput.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char keys[] =
    "rsa example.com:rsa:tests/data/conformance/dkim/rfc8463/test-rsa.pem\n"
    "ed example.com:ed:tests/data/conformance/dkim/rfc8463/"
    "brisbane-ed25519.pem\n";

/* 1 if a key file named in the table could be a device or /proc file. */
static int
unsafe(const char *table)
{
	static const char *const bad[] = { "/dev", "/proc", "/sys", "/run" };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (strstr(table, bad[i]) != NULL)
			return 1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sign s;
	struct fuzz_parts fp;
	struct mgerr e;
	const char *sender, *st, *kt;
	char *table, spec[4096];
	size_t i, n;

	fuzz_parts_init(&fp, data, size);
	sender = fuzz_part(&fp);
	st = fuzz_part(&fp);
	kt = fuzz_part(&fp);
	if (unsafe(kt)) {
		fuzz_parts_free(&fp);
		return 0;
	}
	n = strlen(kt);
	if ((table = malloc(n + sizeof(keys))) == NULL)
		abort();
	memcpy(table, kt, n);
	memcpy(table + n, keys, sizeof(keys));
	memset(&s, 0, sizeof(s));
	snprintf(spec, sizeof(spec), "%s%s", st[0] == 'R' ? "refile:" : "",
	    fuzz_file(0, st, strlen(st)));
	s.signing_table = spec;
	s.key_table = fuzz_file(1, table, strlen(table));
	if (keytable_load(&s.kt, s.key_table, &e) == 0 &&
	    signtable_load(&s.st, s.signing_table, &s.kt, &e) == 0 &&
	    tables_lookup(&s, sender, &e) == 0 && s.nsig > MAXSIG)
		abort();
	table_free(&s.kt);
	table_free(&s.st);
	for (i = 0; i < MAXSIG; i++) {
		if (i < s.nsig && (s.sig[i].pkey == NULL ||
		    strlen(s.sig[i].domain) >= sizeof(s.sig[i].domain)))
			abort();
		EVP_PKEY_free(s.sig[i].pkey);
	}
	free(table);
	fuzz_parts_free(&fp);
	return 0;
}
