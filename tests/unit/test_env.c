/* Unit tests for env: the envelope from options and the environment. */
#include <stdlib.h>

#include "env.h"
#include "t.h"

static void
test_from_environ(void)
{
	struct envelope env;
	struct mgerr e;
	char ip[IP_STRLEN];

	setenv("TCPREMOTEIP", "::ffff:192.0.2.5", 1);
	setenv("TCPREMOTEHOST", "", 1);
	setenv("SMTPHELOHOST", "mail.example.org", 1);
	setenv("SMTPMAILFROM", "", 1);
	setenv("SMTPRCPTTO", "bob@example.com", 1);
	setenv("SMTPRCPTCOUNT", "3", 1);
	setenv("SMTPAUTHUSER", "", 1);
	setenv("RELAYCLIENT", "", 1);
	setenv("MG_AUTHRES", "spf=pass smtp.mailfrom=example.org", 1);
	env_init(&env);
	T_INT(env_load(&env, &e), 0);
	T_INT(env.have_ip, 1);
	ip_format(&env.ip, ip, sizeof(ip));
	T_STR(ip, "192.0.2.5");
	/* An empty TCPREMOTEHOST or SMTPAUTHUSER is unset. */
	T_OK(env.host == NULL);
	T_OK(env.auth_user == NULL);
	T_STR(env.helo, "mail.example.org");
	/* An empty SMTPMAILFROM is the null sender, not unset. */
	T_STR(env.from, "");
	T_INT(env.rcpt.n, 1);
	T_STR(env.rcpt.v[0], "bob@example.com");
	T_INT(env.rcpt_count, 3);
	T_INT(env.relayclient, 1);
	T_STR(env.authres, "spf=pass smtp.mailfrom=example.org");
	free(env.rcpt.v);
}

static void
test_options_win(void)
{
	struct envelope env;
	struct mgerr e;

	setenv("TCPREMOTEIP", "192.0.2.5", 1);
	setenv("SMTPRCPTTO", "bob@example.com", 1);
	unsetenv("RELAYCLIENT");
	env_init(&env);
	env.ip_text = "2001:db8::1";
	env.helo = "cmd.example";
	opt_list_add(&env.rcpt, "carol@example.com");
	T_INT(env_load(&env, &e), 0);
	T_INT(env.ip.v4, 0);
	T_STR(env.helo, "cmd.example");
	T_INT(env.rcpt.n, 1);
	T_STR(env.rcpt.v[0], "carol@example.com");
	T_INT(env.relayclient, 0);
	free(env.rcpt.v);

	env_init(&env);
	env.ip_text = "192.0.2.256";
	T_INT(env_load(&env, &e), -1);
	free(env.rcpt.v);

	unsetenv("TCPREMOTEIP");
	env_init(&env);
	T_INT(env_load(&env, &e), 0);
	T_INT(env.have_ip, 0);
	free(env.rcpt.v);
}

int
main(void)
{
	test_from_environ();
	test_options_win();
	return t_done("env");
}
