#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arstrip.h"
#include "t.h"

#define ID	"mx.example"

static int
ar(const char *value)
{
	return arstrip_field("Authentication-Results", 22, value,
	    strlen(value), ID);
}

static void
test_field(void)
{
	T_INT(ar("mx.example; dkim=pass"), 1);
	T_INT(ar("MX.Example; dkim=pass"), 1);
	T_INT(ar("mx.example;dkim=pass"), 1);
	T_INT(ar("mx.example 1; dkim=pass"), 1);
	T_INT(ar("mx.example(ours) 1; spf=pass"), 1);
	T_INT(ar("mx.example; none"), 1);
	T_INT(ar("  (a (nested \\) comment)) mx.example; dkim=pass"), 1);
	T_INT(ar("\"mx.example\"; dkim=pass"), 1);
	T_INT(ar("\"mx.ex\\ample\" 1; dkim=pass"), 1);
	T_INT(ar("\r\n\tmx.example;\r\n\tdkim=pass"), 1);
	T_INT(ar("\n (folded\n comment) mx.example; dkim=pass"), 1);
	T_INT(ar("mx.example"), 1);
	/* An open quoted-string is read as far as it goes. */
	T_INT(ar("\"mx.example"), 1);
	/* Another host's, a longer or a shorter name, no id at all. */
	T_INT(ar("mx.example.net; dkim=pass"), 0);
	T_INT(ar("other.example; dkim=pass (mx.example)"), 0);
	T_INT(ar("mx.exampl; dkim=pass"), 0);
	T_INT(ar("x.example; dkim=pass"), 0);
	T_INT(ar("\"mx.example \"; dkim=pass"), 0);
	T_INT(ar("; none"), 0);
	T_INT(ar(""), 0);
	T_INT(ar("(mx.example) other.example; none"), 0);
	T_INT(ar("(mx.example"), 0);
	/* The field name, case-insensitive, WSP before the colon. */
	T_INT(arstrip_field("authentication-results", 22, ID ";", 11, ID), 1);
	T_INT(arstrip_field("Authentication-Results \t", 24, ID ";", 11, ID),
	    1);
	T_INT(arstrip_field("X-Authentication-Results", 24, ID ";", 11, ID),
	    0);
	T_INT(arstrip_field("Authentication-Result", 21, ID ";", 11, ID), 0);
	T_INT(arstrip_field("Received", 8, ID ";", 11, ID), 0);
	/* A UTF-8 id (RFC 8601 section 2.2). */
	T_INT(arstrip_field("Authentication-Results", 22,
	    "\xc3\xa9t\xc3\xa9.example; none", 19, "\xc3\xa9t\xc3\xa9.example"),
	    1);
}

/* A wall of comments before the id counts as ours, both ways. */
static void
test_wall(void)
{
	char v[ARSTRIP_HOLD_MAX + 64];

	memset(v, 0, sizeof(v));
	v[0] = '(';
	memset(v + 1, 'x', ARSTRIP_HOLD_MAX - 2);
	strlcat(v, ") other.example; none", sizeof(v));
	T_INT(ar(v), 1);
	v[ARSTRIP_HOLD_MAX - 3] = ')';
	v[ARSTRIP_HOLD_MAX - 2] = 'o';
	v[ARSTRIP_HOLD_MAX - 1] = '\0';
	T_INT(ar(v), 0);
}

/*
 * Streams text through arstrip line by line as an adapter would, holding
 * back what it is told to, and returns what passes.
 */
static const char *
stream(const char *text)
{
	static char out[65536];
	static char hold[65536];
	struct arstrip s;
	const char *p = text, *nl;
	size_t n, on = 0, hn = 0;
	int v, h;

	arstrip_init(&s, ID);
	while (*p != '\0') {
		nl = strchr(p, '\n');
		n = nl != NULL ? (size_t)(nl - p) + 1 : strlen(p);
		v = arstrip_line(&s, p, n);
		h = arstrip_held(&s);
		if (h != ARSTRIP_HOLD) {
			if (h == ARSTRIP_KEEP && hn > 0) {
				memcpy(out + on, hold, hn);
				on += hn;
			}
			hn = 0;
		}
		if (v == ARSTRIP_HOLD) {
			memcpy(hold + hn, p, n);
			hn += n;
		} else if (v == ARSTRIP_KEEP) {
			memcpy(out + on, p, n);
			on += n;
		}
		p += n;
	}
	if (arstrip_end(&s) == ARSTRIP_KEEP && hn > 0) {
		memcpy(out + on, hold, hn);
		on += hn;
	}
	out[on] = '\0';
	return out;
}

static void
test_stream(void)
{
	T_STR(stream("Authentication-Results: mx.example; dkim=pass\n"
	    "From: a@b\n\nbody\n"), "From: a@b\n\nbody\n");
	/* Continuation lines go with their field, ours or not. */
	T_STR(stream("Received: x\nAuthentication-Results: mx.example;\n"
	    "\tdkim=pass\n\tspf=pass\nAuthentication-Results: other.example;\n"
	    "\tdkim=fail\nFrom: a@b\n\n"),
	    "Received: x\nAuthentication-Results: other.example;\n"
	    "\tdkim=fail\nFrom: a@b\n\n");
	T_STR(stream("A: 1\r\nAuthentication-Results: MX.EXAMPLE 1;\r\n"
	    " dkim=pass\r\nB: 2\r\n\r\nAuthentication-Results: mx.example; "
	    "dkim=pass\r\n"), "A: 1\r\nB: 2\r\n\r\nAuthentication-Results: "
	    "mx.example; dkim=pass\r\n");
	/* The id on a continuation line: held, then settled. */
	T_STR(stream("Authentication-Results:\n (c)\n mx.example;\n dkim=pass"
	    "\nA: 1\n\n"), "A: 1\n\n");
	T_STR(stream("Authentication-Results:\n (c)\n other.example;\n none"
	    "\nA: 1\n\n"), "Authentication-Results:\n (c)\n other.example;\n"
	    " none\nA: 1\n\n");
	/* A held field settled by the next, itself held, field. */
	T_STR(stream("Authentication-Results: (\n other\n ) \"mx.example\nAuthen"
	    "tication-Results:\n other.example; none\n\nbody\n"),
	    "Authentication-Results:\n other.example; none\n\nbody\n");
	T_STR(stream("Authentication-Results: (x)\nAuthentication-Results:\n"
	    " mx.example; none\n\n"), "Authentication-Results: (x)\n\n");
	/* Settled by the empty line, and by the end of the message. */
	T_STR(stream("Authentication-Results:\n\"mx.example"),
	    "Authentication-Results:\n\"mx.example");
	T_STR(stream("Authentication-Results:\n \"mx.example\n\nbody\n"),
	    "\nbody\n");
	T_STR(stream("A: 1\nAuthentication-Results:\n (mx.example)"), "A: 1\n"
	    "Authentication-Results:\n (mx.example)");
	T_STR(stream("A: 1\nAuthentication-Results: mx.example"), "A: 1\n");
	/* Lines without their ends, obsolete WSP before the colon. */
	{
		struct arstrip s;

		arstrip_init(&s, ID);
		T_INT(arstrip_line(&s, "Authentication-Results :", 24),
		    ARSTRIP_HOLD);
		T_INT(arstrip_line(&s, " mx.example; none", 17), ARSTRIP_DROP);
		T_INT(arstrip_held(&s), ARSTRIP_DROP);
		T_INT(arstrip_line(&s, "X: y", 4), ARSTRIP_KEEP);
		T_INT(arstrip_held(&s), ARSTRIP_KEEP);
		T_INT(arstrip_line(&s, "", 0), ARSTRIP_KEEP);
		T_INT(arstrip_line(&s, "Authentication-Results: mx.example",
		    34), ARSTRIP_KEEP);
		T_INT(arstrip_end(&s), ARSTRIP_KEEP);
	}
}

/* A held field never holds more than ARSTRIP_HOLD_MAX bytes of body. */
static void
test_stream_wall(void)
{
	struct arstrip s;
	char line[128];
	int i, v = ARSTRIP_HOLD;

	arstrip_init(&s, ID);
	T_INT(arstrip_line(&s, "Authentication-Results: (\n", 26),
	    ARSTRIP_HOLD);
	memset(line, 'x', sizeof(line));
	line[0] = ' ';
	line[sizeof(line) - 1] = '\n';
	for (i = 0; i < ARSTRIP_HOLD_MAX / 128 + 1 && v == ARSTRIP_HOLD; i++)
		v = arstrip_line(&s, line, sizeof(line));
	T_INT(v, ARSTRIP_DROP);
	/* The first line brings 3 bytes of body. */
	T_INT(i, (ARSTRIP_HOLD_MAX - 3) / 128 + 1);
	T_INT(arstrip_held(&s), ARSTRIP_DROP);
	T_INT(arstrip_line(&s, line, sizeof(line)), ARSTRIP_DROP);
}

/*
 * The two forms agree: random fields of the pieces an id is made of,
 * folded anywhere a fold may go, are dropped by the stream exactly when
 * arstrip_field says they claim the id.
 */
static void
test_agree(void)
{
	static const char *const piece[] = { " ", "\t", "(", ")", "\\", "\"",
	    "mx.example", "MX.Example", "mx", ".example", ";", "1", "other",
	    "\n ", "\r\n\t", "=", "\xc3\xa9", NULL };
	static char big[1500], text[65536];
	size_t np, n, vstart, vlen;
	const char *out;
	int i, k, want, bad = 0, ours = 0;

	for (np = 0; piece[np] != NULL; np++)
		;
	/* A long comment: a few of them pass ARSTRIP_HOLD_MAX. */
	memset(big, 'x', sizeof(big) - 2);
	big[0] = '(';
	big[sizeof(big) - 2] = ')';
	srand(1);
	for (i = 0; i < 20000; i++) {
		n = strlcpy(text, rand() % 4 ? "Authentication-Results:" :
		    "Authentication-Results :", sizeof(text));
		vstart = n;
		for (k = rand() % 40; k > 0; k--)
			n = strlcat(text, rand() % 12 ? piece[rand() % np] :
			    big, sizeof(text));
		n = strlcat(text, "\n", sizeof(text));
		vlen = n - vstart;
		want = arstrip_field(text, vstart - 1, text + vstart, vlen, ID);
		strlcat(text, "X: y\n\n", sizeof(text));
		out = stream(text);
		ours += want;
		if (strcmp(out, want ? "X: y\n\n" : text) != 0 && bad++ < 3)
			fprintf(stderr, "disagree (field %d): %s", want, text);
	}
	T_INT(bad, 0);
	/* Both answers came up often enough to count. */
	T_OK(ours > 1000 && ours < 19000);
}

/* Whole messages: ours removed from what a check reads and writes. */
static void
test_msg(void)
{
	static const char text[] = "Authentication-Results: mx.example;\n"
	    "\tdkim=pass\nFrom: a@b\nAuthentication-Results: other.example; "
	    "none\nauthentication-results: \"MX.example\"; spf=pass\n\nbody\n";
	struct mgerr e;
	struct msg *m;
	char out[512];
	FILE *in, *o;
	size_t n;

	in = tmpfile();
	o = tmpfile();
	fputs(text, in);
	fflush(in);
	lseek(fileno(in), 0, SEEK_SET);
	m = msg_read(fileno(in), NULL, MSG_KEEP, &e);
	T_OK(m != NULL);
	if (m == NULL)
		return;
	T_INT(arstrip_msg(m, ID), 2);
	T_INT(msg_nfields(m), 2);
	T_STR(msg_field(m, 0)->name, "From");
	T_INT(msg_find(m, "Authentication-Results", 0), 1);
	T_INT(arstrip_msg(m, ID), 0);
	T_INT(msg_write(m, fileno(o), NULL, 0, &e), 0);
	lseek(fileno(o), 0, SEEK_SET);
	n = (size_t)read(fileno(o), out, sizeof(out) - 1);
	out[n] = '\0';
	T_STR(out, "From: a@b\nAuthentication-Results: other.example; none\n"
	    "\nbody\n");
	msg_free(m);
	fclose(in);
	fclose(o);
}

/* arstrip_buf's emit: appends the piece, and "\n" at a line end. */
static int
collect(void *arg, const char *p, size_t n, int eol)
{
	char *out = arg;
	size_t len = strlen(out);

	if (len + n + 2 > 8192)
		return -1;
	memcpy(out + len, p, n);
	out[len + n] = '\0';
	if (eol)
		strcat(out + len + n, "\n");
	return 0;
}

/* Feeds text's lines to b in pieces of at most piece bytes. */
static void
feed(struct arstrip_buf *b, const char *text, size_t piece, char *out)
{
	const char *p = text, *nl;
	size_t n, k;

	out[0] = '\0';
	while (*p != '\0') {
		nl = strchr(p, '\n');
		n = nl != NULL ? (size_t)(nl - p) : strlen(p);
		for (k = 0; k + piece < n; k += piece)
			T_INT(arstrip_buf_line(b, p + k, piece, 0, collect,
			    out), 0);
		T_INT(arstrip_buf_line(b, p + k, n - k, nl != NULL, collect,
		    out), 0);
		p += n + (nl != NULL);
	}
	T_INT(arstrip_buf_end(b, collect, out), 0);
}

/* n nested comments: "((...))". */
static void
walls(char *w, size_t n)
{
	memset(w, '(', n);
	memset(w + n, ')', n);
	w[2 * n] = '\0';
}

static void
test_buf(void)
{
	static const char msg[] =
	    "Received: from x\n"
	    "Authentication-Results:\n"
	    "\t(folded) mx.test; dkim=pass\n"
	    "Authentication-Results: other.example; spf=pass\n"
	    "Authentication-Results: MX.TEST; spf=pass\n"
	    "  smtp.mailfrom=a@b\n"
	    "Subject: hi\n"
	    "\n"
	    "Authentication-Results: mx.test; body line\n";
	static const char want[] =
	    "Received: from x\n"
	    "Authentication-Results: other.example; spf=pass\n"
	    "Subject: hi\n"
	    "\n"
	    "Authentication-Results: mx.test; body line\n";
	char out[8192], in[8192], wall[4096];
	struct arstrip_buf *b = malloc(sizeof(*b));
	size_t piece;

	T_OK(b != NULL);
	for (piece = 1000; piece >= 30; piece /= 2) {
		arstrip_buf_init(b, "mx.test");
		feed(b, msg, piece, out);
		T_STR(out, want);
		T_INT(b->dropped, 2);
	}
	/* A line in pieces is judged whole: this id is another host's. */
	walls(wall, 600);
	snprintf(in, sizeof(in), "Authentication-Results: %s other.example;"
	    " spf=pass\n\tsmtp.mailfrom=a@b\nSubject: hi\n\nbody\n", wall);
	arstrip_buf_init(b, "mx.test");
	feed(b, in, 512, out);
	T_STR(out, in);
	/* Past ARSTRIP_LINE_MAX before its id, a field counts as ours. */
	walls(wall, 1500);
	snprintf(in, sizeof(in), "Authentication-Results: %s other.example;"
	    " spf=pass\n\tsmtp.mailfrom=a@b\nSubject: hi\n\nbody\n", wall);
	arstrip_buf_init(b, "mx.test");
	feed(b, in, 512, out);
	T_STR(out, "Subject: hi\n\nbody\n");
	free(b);
}

int
main(void)
{
	test_field();
	test_wall();
	test_stream();
	test_stream_wall();
	test_agree();
	test_msg();
	test_buf();
	return t_done("test_arstrip");
}
