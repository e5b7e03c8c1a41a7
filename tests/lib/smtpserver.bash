# A real SMTP server behind mg-wrap for the tests: qpsmtpd in ucspi mode
# (Debian ships only its daemons, so a short Perl entry point stands in
# for qpsmtpd's own ucspi script), queueing through $QMAILQUEUE into a
# fake qmail-queue that saves each message, its envelope and its
# environment under $QP/queue.  tcpserver listens on a free 127.0.0.1
# port; teardown kills it by its pid.

qp_setup() {
	QP=$T/qp
	mkdir -p "$QP/config" "$QP/spool" "$QP/queue"
	chmod 700 "$QP/spool"
	printf 'relay\nrcpt_ok\nqueue/qmail-queue\n' >"$QP/config/plugins"
	echo example.test >"$QP/config/rcpthosts"
	echo server.example.test >"$QP/config/me"
	echo /usr/share/qpsmtpd/plugins >"$QP/config/plugin_dirs"
	echo "$QP/spool" >"$QP/config/spool_dir"
	echo 1 >"$QP/config/loglevel"
	cat >"$QP/qq" <<-EOF2
	#!/bin/sh
	# fake qmail-queue: message on fd 0, envelope on fd 1
	n=\$\$
	cat >"$QP/queue/tmp.\$n" || exit 54
	cat 0<&1 >"$QP/queue/env.\$n" || exit 54
	env >"$QP/queue/environ.\$n"
	[ -n "\${FAKEQQ_CRASH:-}" ] && { kill -9 \$PPID; exit 81; }
	mv "$QP/queue/tmp.\$n" "$QP/queue/msg.\$n"
	exit \${FAKEQQ_EXIT:-0}
	EOF2
	chmod 755 "$QP/qq"
	cat >"$QP/qpsmtpd-ucspi" <<-'EOF2'
	#!/usr/bin/perl
	use strict; use warnings;
	use IO::Socket::INET;
	use Qpsmtpd::TcpServer;
	package StdioPeer; sub new { bless {}, shift } sub connected { 1 }
	package main;
	$| = 1;
	my $peer = IO::Socket::INET->new_from_fd(0, 'r+');
	$peer = StdioPeer->new unless $peer && getpeername($peer);
	my $s = Qpsmtpd::TcpServer->new();
	$s->load_plugins();
	$s->start_connection();
	$s->run($peer);
	$s->run_hooks('post-connection');
	$s->connection->reset;
	EOF2
	chmod 755 "$QP/qpsmtpd-ucspi"
	export QPSMTPD_CONFIG="$QP/config" QMAILQUEUE="$QP/qq"
}

freeport() {
	local p _
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 40000))
		ss -ltnH "sport = :$p" | grep -q . || { echo "$p"; return 0; }
	done
	return 1
}

# Starts tcpserver on $PORT running "$@" for each connection.
serve() {
	PORT=$(freeport)
	tcpserver -H -R -l mx.test 127.0.0.1 "$PORT" "$@" \
	    >"$T/server.log" 2>&1 &
	SERVER_PID=$!
	local _
	for _ in $(seq 1 50); do
		ss -ltnH "sport = :$PORT" | grep -q . && return 0
		sleep 0.1
	done
	echo "tcpserver did not listen" >&2
	return 1
}

# Starts mg-wrap (options "$@") in front of qpsmtpd.
wrap_start() {
	serve mg-wrap -H mx.test --statedir "$T" "$@" -- "$QP/qpsmtpd-ucspi"
}

server_stop() {
	[ -n "${SERVER_PID:-}" ] && kill "$SERVER_PID" 2>/dev/null
	[ -n "${SERVER_PID:-}" ] && wait "$SERVER_PID" 2>/dev/null
	SERVER_PID=
}

# swaks against the wrapper; the transcript is in $output.
smtp() {
	run swaks --server 127.0.0.1 --port "$PORT" --timeout 20 "$@"
}

# Sends the bytes given on stdin (pipelined, all at once) and prints
# every reply line; waits up to 20 s for the server to close.
rawb() {
	exec 5<>"/dev/tcp/127.0.0.1/$PORT"
	cat >&5
	timeout 20 cat <&5 | tr -d '\r'
	exec 5<&-
}

# The same with the lines on stdin sent with CRLF line ends.
raw() {
	sed 's/\r$//; s/$/\r/' | rawb
}

# The messages the fake qmail-queue received.
delivered() {
	ls "$QP"/queue/msg.* 2>/dev/null | wc -l
}

# Waits until the tcpserver log shows n finished sessions.
sessions_done() {
	local n=$1 _
	for _ in $(seq 1 100); do
		[ "$(grep -c 'session=end' "$T/server.log")" -ge "$n" ] &&
		    return 0
		sleep 0.1
	done
	return 1
}
