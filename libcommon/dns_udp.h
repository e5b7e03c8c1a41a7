/*
 * dns_udp: one DNS exchange over UDP on a socket kept for the process's
 * life (dns.c keeps one per server), as glibc's resolver does, instead
 * of ldns's socket per query.
 *
 * dns_udp_exchange() sends the wire query q to sa up to tries times,
 * waiting timeout_ms after each, and copies the first datagram that
 * comes back from sa's address and port and answers q (the same ID, QR
 * set, the same question; RFC 5452 section 9.1) into ans; any other
 * datagram is dropped and the wait goes on.  *fd is -1 before the
 * first call and is opened then; the caller closes it.  Datagrams left
 * over from an earlier query (a late answer after a timeout) are thrown
 * away before sending.  Returns 1 with *anslen set, 0 on timeout, -1 on
 * a socket error with errno set.
 */
#ifndef MG_DNS_UDP_H
#define MG_DNS_UDP_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#define DNS_UDP_MAX	65535

int	dns_udp_exchange(int *fd, const struct sockaddr_storage *sa,
	    socklen_t salen, const uint8_t *q, size_t qlen, uint8_t *ans,
	    size_t *anslen, unsigned timeout_ms, unsigned tries);

#endif
