/*
 * mg-dkim-sign: private keys, and the genkey and testkey commands.
 */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dns.h"
#include "dktag.h"
#include "log.h"
#include "outcome.h"
#include "sign.h"

EVP_PKEY *
key_load(const char *file, struct mgerr *e)
{
	EVP_PKEY *k;
	FILE *f;

	if ((f = fopen(file, "r")) == NULL) {
		mgerr_set(e, "open key %s: %s", file, strerror(errno));
		return NULL;
	}
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (k == NULL)
		mgerr_set(e, "key %s: not a PEM private key", file);
	return k;
}

int
key_type(const char *file, EVP_PKEY **keep, struct mgerr *e)
{
	EVP_PKEY *k;
	int t;

	if ((k = key_load(file, e)) == NULL)
		return -1;
	t = EVP_PKEY_base_id(k);
	if (t != EVP_PKEY_ED25519 && t != EVP_PKEY_RSA) {
		EVP_PKEY_free(k);
		mgerr_set(e, "key %s: neither RSA nor Ed25519", file);
		return -1;
	}
	if (keep != NULL) {
		EVP_PKEY_free(*keep);
		*keep = k;
	} else
		EVP_PKEY_free(k);
	return t == EVP_PKEY_ED25519;
}

/* p= of a key record: SubjectPublicKeyInfo for RSA (RFC 6376 section
 * 3.6.1), the raw 32-octet key for Ed25519 (RFC 8463 section 4.2). */
static int
public_b64(EVP_PKEY *k, char *out, size_t cap)
{
	unsigned char der[4096], *p = der;
	size_t n = sizeof(der);
	int len;

	if (EVP_PKEY_base_id(k) == EVP_PKEY_ED25519) {
		if (EVP_PKEY_get_raw_public_key(k, der, &n) != 1)
			return -1;
	} else {
		if ((len = i2d_PUBKEY(k, NULL)) <= 0 || len > (int)sizeof(der))
			return -1;
		n = (size_t)i2d_PUBKEY(k, &p);
	}
	if (cap < (n + 2) / 3 * 4 + 1)
		return -1;
	EVP_EncodeBlock((unsigned char *)out, der, (int)n);
	return 0;
}

static EVP_PKEY *
generate(int ed25519, long long bits, struct mgerr *e)
{
	EVP_PKEY_CTX *c;
	EVP_PKEY *k = NULL;

	c = EVP_PKEY_CTX_new_id(ed25519 ? EVP_PKEY_ED25519 : EVP_PKEY_RSA,
	    NULL);
	if (c == NULL || EVP_PKEY_keygen_init(c) != 1 || (!ed25519 &&
	    EVP_PKEY_CTX_set_rsa_keygen_bits(c, (int)bits) != 1) ||
	    EVP_PKEY_keygen(c, &k) != 1)
		mgerr_set(e, "cannot generate the key");
	EVP_PKEY_CTX_free(c);
	return k;
}

/* Writes the key, readable by its owner only; never over a file. */
static int
write_key(EVP_PKEY *k, const char *path, struct mgerr *e)
{
	FILE *f;
	int fd, ok;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) == -1) {
		mgerr_set(e, "create %s: %s", path, strerror(errno));
		return -1;
	}
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		mgerr_set(e, "create %s: %s", path, strerror(errno));
		return -1;
	}
	ok = PEM_write_PKCS8PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1;
	if (fclose(f) != 0 || !ok) {
		mgerr_set(e, "write %s: failed", path);
		return -1;
	}
	return 0;
}

/* Prints the TXT record in zone-file form, in strings of at most 255
 * octets (RFC 1035 section 3.3.14; RFC 6376 section 3.6.2.2). */
static void
print_record(const struct sigspec *sp, const char *rec)
{
	size_t n = strlen(rec), i;

	printf("%s._domainkey.%s.\tIN\tTXT\t(", sp->selector, sp->domain);
	for (i = 0; i < n; i += 255)
		printf(" \"%.*s\"", (int)(n - i < 255 ? n - i : 255), rec + i);
	printf(" )\n");
}

int
cmd_genkey(struct sign *s)
{
	char b64[4096], rec[4200];
	struct mgerr e;
	EVP_PKEY *k;
	int ed = s->algorithm.n > 0 &&
	    strcmp(s->algorithm.v[0], "ed25519-sha256") == 0;

	if (s->nsig != 1) {
		log_error("genkey: give --domain, --selector and --key once");
		return EXIT_DEFER;
	}
	if ((k = generate(ed, s->bits, &e)) == NULL ||
	    write_key(k, s->sig[0].key, &e) == -1 ||
	    public_b64(k, b64, sizeof(b64)) == -1) {
		log_error("genkey: %s", e.msg);
		EVP_PKEY_free(k);
		return EXIT_DEFER;
	}
	snprintf(rec, sizeof(rec), "v=DKIM1; k=%s; p=%s",
	    ed ? "ed25519" : "rsa", b64);
	print_record(&s->sig[0], rec);
	EVP_PKEY_free(k);
	return 0;
}

/* Compares p= of the published record with the private key's public
 * half.  0 same, 100 different or missing, 111 DNS trouble. */
int
cmd_testkey(struct sign *s)
{
	char name[512], mine[4096], theirs[4096];
	struct dns_result res;
	struct dktags *t;
	struct mgerr e;
	struct dns *d;
	EVP_PKEY *k;
	const char *p;
	int rc = 100;

	if (s->nsig != 1 || (k = key_load(s->sig[0].key, &e)) == NULL) {
		log_error("testkey: %s", s->nsig != 1 ?
		    "give --domain, --selector and --key once" : e.msg);
		return EXIT_DEFER;
	}
	if (public_b64(k, mine, sizeof(mine)) == -1 || (d = dns_new(
	    s->resolver, (unsigned)s->dns_timeout, 2, &e)) == NULL) {
		EVP_PKEY_free(k);
		log_error("testkey: cannot set up");
		return EXIT_DEFER;
	}
	EVP_PKEY_free(k);
	snprintf(name, sizeof(name), "%s._domainkey.%s", s->sig[0].selector,
	    s->sig[0].domain);
	t = malloc(sizeof(*t));
	if (t == NULL || dns_query(d, name, 16, &res, &e) == -1 ||
	    dns_temporary(res.status)) {
		printf("%s: cannot look up the record now\n", name);
		rc = EXIT_DEFER;
	} else if (res.n == 0)
		printf("%s: no key record (%s)\n", name,
		    dns_status_str(res.status));
	else if (dktags_parse(t, res.txt[0], res.txtlen[0], &e) == -1 ||
	    (p = dktag(t, "p")) == NULL || dktag_b64(p, theirs,
	    sizeof(theirs)) < 0)
		printf("%s: malformed key record\n", name);
	else if (strcmp(mine, theirs) != 0)
		printf("%s: the published key does not match %s\n", name,
		    s->sig[0].key);
	else {
		printf("%s: key ok\n", name);
		rc = 0;
	}
	dns_result_free(&res);
	free(t);
	dns_free(d);
	return rc;
}
