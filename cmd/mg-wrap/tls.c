/*
 * mg-wrap's TLS on OpenSSL: STARTTLS (RFC 3207) and implicit TLS on port
 * 465 (RFC 8314 section 3.3), TLS 1.2 or newer (RFC 8996 retires 1.0
 * and 1.1).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "log.h"
#include "wrap.h"

static const char *
ssl_err(void)
{
	static char buf[256];
	unsigned long e = ERR_get_error();

	if (e == 0)
		return "handshake failed";
	ERR_error_string_n(e, buf, sizeof(buf));
	return buf;
}

int
tls_setup(struct wrap *w, struct mgerr *e)
{
	SSL_CTX *ctx;

	if (w->c.tls_cert == NULL && w->c.tls_key == NULL) {
		if (w->c.smtps) {
			mgerr_set(e, "--smtps needs --tls-cert");
			return -1;
		}
		return 0;
	}
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL ||
	    !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)) {
		mgerr_set(e, "TLS: %s", ssl_err());
		return -1;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, w->c.tls_cert ?
	    w->c.tls_cert : w->c.tls_key) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, w->c.tls_key ? w->c.tls_key :
	    w->c.tls_cert, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		mgerr_set(e, "TLS certificate %s: %s", w->c.tls_cert ?
		    w->c.tls_cert : w->c.tls_key, ssl_err());
		SSL_CTX_free(ctx);
		return -1;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	w->c.tls_ctx = ctx;
	return 0;
}

int
tls_start(struct wrap *w)
{
	SSL *ssl;
	int rc;

	if ((ssl = SSL_new(w->c.tls_ctx)) == NULL ||
	    !SSL_set_rfd(ssl, w->cl.in) || !SSL_set_wfd(ssl, w->cl.out)) {
		log_error("TLS: %s", ssl_err());
		return -1;
	}
	/* The handshake blocks; the alarm bounds it (and ends us). */
	alarm((unsigned)w->c.idle_timeout);
	rc = SSL_accept(ssl);
	alarm(0);
	if (rc != 1) {
		log_error("TLS handshake with %s: %s", w->s.cl.ip, ssl_err());
		SSL_free(ssl);
		return -1;
	}
	w->cl.ssl = ssl;
	snprintf(w->s.cl.tls, sizeof(w->s.cl.tls), "%s:%s",
	    SSL_get_version(ssl), SSL_get_cipher_name(ssl));
	{
		struct logline l;

		log_begin(&l);
		log_kv(&l, "tls", "on");
		log_kv(&l, "ip", w->s.cl.ip);
		log_kv(&l, "protocol", SSL_get_version(ssl));
		log_kv(&l, "cipher", SSL_get_cipher_name(ssl));
		log_kvi(&l, "pid", (long long)getpid());
		log_end(&l);
	}
	return 0;
}

ssize_t
tls_read(struct wrap *w, void *buf, size_t n)
{
	int k;

	alarm((unsigned)w->c.idle_timeout + 5);
	k = SSL_read(w->cl.ssl, buf, n > 65536 ? 65536 : (int)n);
	alarm(0);
	if (k > 0)
		return k;
	return SSL_get_error(w->cl.ssl, k) == SSL_ERROR_ZERO_RETURN ? 0 : -1;
}

ssize_t
tls_write(struct wrap *w, const void *buf, size_t n)
{
	int k;

	alarm((unsigned)w->c.idle_timeout + 5);
	k = SSL_write(w->cl.ssl, buf, n > 65536 ? 65536 : (int)n);
	alarm(0);
	return k > 0 ? k : -1;
}

int
tls_pending(struct wrap *w)
{
	return SSL_pending(w->cl.ssl) > 0;
}
