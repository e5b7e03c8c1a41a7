/*
 * nocrypto: the OpenSSL entry points of ldns, for programs linked
 * without libcrypto.
 *
 * ldns's objects reference OpenSSL from their DNSSEC, key and TSIG code,
 * which mailguard never uses (dns.c asks for no DNSSEC and signs no
 * query).  Linked statically, those references alone pulled the whole of
 * libcrypto into mg-spf and mg-greylist, and relocating its tables cost
 * about 0.3 ms and 90 page faults of every start (bench/spf.sh).  Those
 * programs are linked with build/nocrypto.ld instead, which
 * scripts/nocrypto-ld.sh writes from the installed libldns.a and
 * libcrypto.a: every OpenSSL function ldns names becomes this one.  It
 * is never reached; if a future ldns ever did reach it, the program
 * defers rather than guess.
 */
#include <unistd.h>

void	mg_nocrypto(void);

void
mg_nocrypto(void)
{
	static const char msg[] = "mailguard: ldns called OpenSSL, which "
	    "this program is built without (see libcommon/nocrypto.c)\n";

	(void)write(2, msg, sizeof(msg) - 1);
	_exit(111);
}
