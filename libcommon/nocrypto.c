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
 * defers (111, one reply line) rather than guess.
 */
#include <stdio.h>
#include <unistd.h>

void	mg_nocrypto(void);

void
mg_nocrypto(void)
{
	static const char msg[] = "mailguard: ldns called OpenSSL, which "
	    "this program is built without (see libcommon/nocrypto.c)\n";

	fputs(msg, stderr);
	fflush(stderr);
	/* The contract's reply for an internal error (reply.h). */
	fputs("451 4.3.0 temporary failure (internal error)\n", stdout);
	fflush(stdout);
	_exit(111);
}
