/*
 * mg-wrap's SMTP AUTH (RFC 4954): PLAIN (RFC 4616) and LOGIN, checked
 * by a checkpassword program (fd 3: "login\0password\0timestamp\0";
 * exit 0 good, 1 or 2 bad, 111 or anything else temporary).  With
 * --auth-cram, CRAM-MD5 (RFC 2195) too, for a checkpassword program that
 * follows cmd5checkpw's convention, the one of qmail-smtpd's AUTH patch:
 * fd 3 gets "login\0challenge\0response\0", the response being the hex
 * HMAC-MD5 digest the client sent.  Passwords are never logged and are
 * wiped from memory after use.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "log.h"
#include "wrap.h"

extern char **environ;

/* The checkpassword interface takes at most 512 bytes on fd 3. */
#define CHECKPW_MAX	512
/* A decoded user name or password; checkpassword takes 512 bytes for
 * both (CHECKPW_MAX), so a longer one fails there anyway. */
#define AUTH_CRED_MAX	600

/* PLAIN and LOGIN send the password itself: TLS first, by default. */
static int
plain_ok(const struct wrap *w)
{
	return w->cl.ssl != NULL || w->c.auth_plain_ok;
}

int
auth_offered(const struct wrap *w)
{
	return w->c.checkpassword != NULL && w->s.cl.auth_user[0] == '\0' &&
	    (plain_ok(w) || w->c.auth_cram);
}

/* The mechanisms for EHLO's AUTH line. */
const char *
auth_mechs(const struct wrap *w)
{
	if (!plain_ok(w))
		return "CRAM-MD5";
	return w->c.auth_cram ? "PLAIN LOGIN CRAM-MD5" : "PLAIN LOGIN";
}

/* Decodes base64 text into out; the length, or -1 when malformed. */
static int
b64(const char *in, char *out, size_t cap)
{
	size_t n = strlen(in);
	int k;

	if (n == 0 || n % 4 != 0 || n / 4 * 3 + 1 > cap)
		return -1;
	if ((k = EVP_DecodeBlock((unsigned char *)out,
	    (const unsigned char *)in, (int)n)) < 0)
		return -1;
	k -= (in[n - 1] == '=') + (in[n - 2] == '=');
	out[k] = '\0';
	return k;
}

/* Sends a 334 challenge and reads the client's answer; -1 cancelled. */
static int
challenge(struct wrap *w, const char *c, char *out, size_t cap)
{
	struct smtp_line ln;
	int rc;

	sayf(w, "334 %s", c);
	if ((rc = client_line(w, &ln)) <= 0)
		bye(w, rc == -2 ? "timeout" : "eof");
	if (ln.eol == SMTP_EOL_NONE || ln.len >= cap ||
	    (ln.len == 1 && ln.p[0] == '*'))
		return -1;
	memcpy(out, ln.p, ln.len);
	out[ln.len] = '\0';
	return 0;
}

static void
checkpw_child(struct wrap *w, int fd)
{
	char *argv[17], buf[1024], *p, *save = NULL;
	int n = 0, null;

	strlcpy(buf, w->c.checkpassword, sizeof(buf));
	for (p = strtok_r(buf, " \t", &save); p != NULL && n < 16;
	    p = strtok_r(NULL, " \t", &save))
		argv[n++] = p;
	argv[n] = NULL;
	if (n == 0 || (null = open("/dev/null", O_RDWR)) == -1 ||
	    dup2(null, 0) == -1 || dup2(2, 1) == -1 || dup2(fd, 3) == -1)
		_exit(111);
	closefrom(4);
	signal(SIGPIPE, SIG_DFL);
	environ = w->env.v;
	execvp(argv[0], argv);
	log_error("run %s: %s", argv[0], strerror(errno));
	_exit(111);
}

/* 0 good, 1 bad, 2 temporary failure; f3 NULL: a timestamp. */
static int
checkpw(struct wrap *w, const char *user, const char *f2, const char *f3)
{
	char buf[CHECKPW_MAX];
	int p[2], st, n, i;
	pid_t pid;

	if (f3 != NULL)
		n = snprintf(buf, sizeof(buf), "%s%c%s%c%s", user, 0, f2, 0,
		    f3);
	else
		n = snprintf(buf, sizeof(buf), "%s%c%s%c<%ld.%ld@%s>", user,
		    0, f2, 0, (long)getpid(), (long)time(NULL), w->c.hostname);
	if (n < 0 || (size_t)n + 1 >= sizeof(buf))
		return 1;
	if (pipe(p) == -1 || (pid = fork()) == -1)
		return 2;
	if (pid == 0) {
		close(p[1]);
		checkpw_child(w, p[0]);
	}
	close(p[0]);
	signal(SIGPIPE, SIG_IGN);
	if (write(p[1], buf, (size_t)n + 1) != n + 1)
		log_warn("checkpassword did not read its input");
	explicit_bzero(buf, sizeof(buf));
	close(p[1]);
	for (i = 0; waitpid(pid, &st, WNOHANG) != pid; i++) {
		if (i >= w->c.step_timeout * 100) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return 2;
		}
		poll(NULL, 0, 10);
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFEXITED(st) && (WEXITSTATUS(st) == 1 || WEXITSTATUS(st) == 2))
		return 1;
	return 2;
}

static void
auth_pass(struct wrap *w, const char *user, const char *mech)
{
	session_auth_pass(&w->s, mech, user);
	/* A server started before AUTH lacks RELAYCLIENT: start anew. */
	srv_stop(w, 1);
	say(w, "235 2.7.0 authentication successful");
}

/*
 * A refused AUTH: logged (never with the user name, which may be a
 * password), counted for the dynamic screen, delayed, answered 535.
 */
static void
auth_fail(struct wrap *w, const char *mech, const char *why)
{
	session_log(&w->s, "auth", mech, "fail", NULL, why);
	w->s.nrefused++;
	/* Should this make a block, the next AUTH or MAIL ends the session. */
	session_event(&w->s, "auth-fail");
	if (w->c.auth_delay > 0) {
		cl_flush(w);
		sleep((unsigned)w->c.auth_delay);
	}
	/* A failed AUTH is an error like any other (--max-errors). */
	bad(w, "535 5.7.8 authentication credentials invalid");
}

static void
verify(struct wrap *w, const char *user, char *pass, const char *chal,
    const char *mech)
{
	int rc;
	size_t i;

	for (i = 0; user[i] != '\0'; i++)
		if ((unsigned char)user[i] < ' ' || user[i] == 0x7f)
			break;
	if (user[i] != '\0' || user[0] == '\0')
		rc = 1;
	else if (chal != NULL)	/* CRAM-MD5: login, challenge, digest */
		rc = checkpw(w, user, chal, pass);
	else
		rc = checkpw(w, user, pass, NULL);
	explicit_bzero(pass, strlen(pass));
	if (rc == 0) {
		auth_pass(w, user, mech);
		return;
	}
	if (rc == 2) {
		session_log(&w->s, "auth", mech, "defer", NULL,
		    "checkpassword failed");
		say(w, "454 4.7.0 temporary authentication failure");
		return;
	}
	auth_fail(w, mech, NULL);
}

static int
auth_plain(struct wrap *w, const char *init, char *user, size_t ucap,
    char *pass, size_t pcap)
{
	char enc[1024], dec[800];
	const char *authc, *pw;
	int n, rc = 0;

	if (*init == '\0') {
		if (challenge(w, "", enc, sizeof(enc)) == -1)
			return -1;
	} else
		strlcpy(enc, init, sizeof(enc));
	/* RFC 4616 section 2: [authzid] NUL authcid NUL passwd. */
	if ((n = b64(enc, dec, sizeof(dec))) == -1 ||
	    (authc = memchr(dec, '\0', (size_t)n)) == NULL ||
	    (pw = memchr(authc + 1, '\0', (size_t)(dec + n - authc - 1)))
	    == NULL)
		return -2;
	authc++;
	pw++;
	/*
	 * Exactly three fields, none but the authzid empty; and only the
	 * authentication identity is checked by checkpassword, so an
	 * authzid that names anyone else is refused: "bob NUL alice NUL
	 * secret" must not log bob in as alice, nor alice in as bob.
	 */
	if (memchr(pw, '\0', (size_t)(dec + n - pw)) != NULL ||
	    *authc == '\0' || *pw == '\0')
		rc = -2;
	else if (dec[0] != '\0' && strcmp(dec, authc) != 0)
		rc = -3;
	else {
		strlcpy(user, authc, ucap);
		strlcpy(pass, pw, pcap);
	}
	explicit_bzero(dec, sizeof(dec));
	return rc;
}

static int
auth_login(struct wrap *w, const char *init, char *user, size_t ucap,
    char *pass, size_t pcap)
{
	char enc[1024];

	if (*init == '\0') {
		if (challenge(w, "VXNlcm5hbWU6", enc, sizeof(enc)) == -1)
			return -1;
	} else
		strlcpy(enc, init, sizeof(enc));
	if (b64(enc, user, ucap) == -1)
		return -2;
	if (challenge(w, "UGFzc3dvcmQ6", enc, sizeof(enc)) == -1)
		return -1;
	if (b64(enc, pass, pcap) == -1)
		return -2;
	explicit_bzero(enc, sizeof(enc));
	return 0;
}

/*
 * RFC 2195: the challenge is a msg-id, the answer "user digest" with the
 * digest as 32 lowercase hex digits.  The digest goes into pass.
 */
static int
auth_cram(struct wrap *w, const char *init, char *chal, size_t ccap,
    char *user, size_t ucap, char *pass, size_t pcap)
{
	char enc[1024], dec[800], *sp;
	int n;

	if (*init != '\0')
		return -2;
	n = snprintf(chal, ccap, "<%u.%ld.%ld@%s>", arc4random(),
	    (long)getpid(), (long)time(NULL), w->c.hostname);
	if (n < 0 || (size_t)n >= ccap || (size_t)n * 4 / 3 + 4 >= sizeof(enc))
		return -2;
	EVP_EncodeBlock((unsigned char *)enc, (const unsigned char *)chal, n);
	if (challenge(w, enc, enc, sizeof(enc)) == -1)
		return -1;
	if ((n = b64(enc, dec, sizeof(dec))) == -1 ||
	    (sp = strrchr(dec, ' ')) == NULL || strlen(sp + 1) != 32 ||
	    strspn(sp + 1, "0123456789abcdef") != 32)
		return -2;
	*sp = '\0';
	strlcpy(user, dec, ucap);
	strlcpy(pass, sp + 1, pcap);
	return 0;
}

void
cmd_auth(struct wrap *w, const char *arg)
{
	char mech[16], user[AUTH_CRED_MAX], pass[AUTH_CRED_MAX], chal[320];
	const char *init;
	int rc;

	chal[0] = '\0';
	if (!auth_offered(w)) {
		say(w, w->c.checkpassword != NULL && w->s.cl.auth_user[0] ==
		    '\0' ? "538 5.7.11 encryption required for requested "
		    "authentication mechanism" : "503 5.5.1 AUTH not "
		    "available");
		return;
	}
	blocked_now(w, "auth");
	if (w->s.tx.in_mail) {
		/* RFC 4954 section 4: not during a mail transaction. */
		say(w, "503 5.5.1 AUTH not permitted during a mail "
		    "transaction");
		return;
	}
	if (smtp_verb(arg, mech, sizeof(mech), &init) == -1) {
		say(w, "501 5.5.4 syntax: AUTH mechanism");
		return;
	}
	if (strcmp(mech, "CRAM-MD5") == 0 && w->c.auth_cram)
		rc = auth_cram(w, init, chal, sizeof(chal), user,
		    sizeof(user), pass, sizeof(pass));
	else if ((strcmp(mech, "PLAIN") == 0 || strcmp(mech, "LOGIN") == 0) &&
	    !plain_ok(w)) {
		say(w, "538 5.7.11 encryption required for requested "
		    "authentication mechanism");
		return;
	} else if (strcmp(mech, "PLAIN") == 0)
		rc = auth_plain(w, strcmp(init, "=") == 0 ? "" : init, user,
		    sizeof(user), pass, sizeof(pass));
	else if (strcmp(mech, "LOGIN") == 0)
		rc = auth_login(w, init, user, sizeof(user), pass,
		    sizeof(pass));
	else {
		say(w, "504 5.5.4 unrecognized authentication type");
		return;
	}
	if (rc == -1)
		say(w, "501 5.0.0 authentication cancelled");
	else if (rc == -2)
		say(w, "501 5.5.2 cannot decode the response");
	else if (rc == -3)	/* RFC 4954 section 6: not for that identity */
		auth_fail(w, "plain", "authorization identity differs");
	else
		verify(w, user, pass, chal[0] != '\0' ? chal : NULL,
		    strcmp(mech, "PLAIN") == 0 ? "plain" : strcmp(mech,
		    "LOGIN") == 0 ? "login" : "cram-md5");
	explicit_bzero(pass, sizeof(pass));
}
