/*
 * ip: IPv4 and IPv6 addresses and CIDR prefixes.
 *
 * Every address is held as 16 bytes.  An IPv4 address is stored in its
 * v4-mapped form (::ffff:a.b.c.d, RFC 4291 section 2.5.5.2) with `v4' set,
 * and an IPv6 address written in the v4-mapped form is normalised to IPv4,
 * so "::ffff:192.0.2.1" and "192.0.2.1" compare equal everywhere.
 * Prefix lengths are kept in the 128-bit space: an IPv4 /24 is len 120.
 */
#ifndef MG_IP_H
#define MG_IP_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct ipaddr {
	uint8_t	b[16];
	int	v4;		/* 1 when b holds ::ffff:a.b.c.d */
};

struct cidr {
	struct ipaddr	net;	/* host bits are zero */
	unsigned	len;	/* 0..128, in the 128-bit space */
};

/* Longest text form, with room for the NUL: INET6_ADDRSTRLEN. */
#define IP_STRLEN	46
#define CIDR_STRLEN	(IP_STRLEN + 4)

/* Parses a v4 or v6 address (no brackets, no zone).  0 or -1 and e set. */
int	ip_parse(const char *s, struct ipaddr *ip, struct mgerr *e);
/* Writes the canonical text form (dotted quad for v4) into buf. */
void	ip_format(const struct ipaddr *ip, char *buf, size_t len);
/* Compares two addresses as unsigned 128-bit numbers: <0, 0, >0. */
int	ip_cmp(const struct ipaddr *a, const struct ipaddr *b);
/* Zeroes the bits of ip past the first len (128-bit space) bits. */
void	ip_mask(struct ipaddr *ip, unsigned len);

/*
 * Parses "ADDR" or "ADDR/LEN", where LEN counts in the address's own
 * family (0..32 for v4, 0..128 for v6).  A bare address is a /32 or /128.
 * Host bits set below the prefix are an error, so typos are caught.
 */
int	cidr_parse(const char *s, struct cidr *c, struct mgerr *e);
/* Writes "ADDR/LEN" with LEN in the address's own family. */
void	cidr_format(const struct cidr *c, char *buf, size_t len);
/* 1 if ip lies inside c, else 0. */
int	cidr_contains(const struct cidr *c, const struct ipaddr *ip);
/*
 * Makes the prefix of ip of v4len bits (IPv4) or v6len bits (IPv6), for
 * aggregating clients by network (greylisting /24, dynamic screen /64).
 */
void	cidr_of(const struct ipaddr *ip, unsigned v4len, unsigned v6len,
	    struct cidr *c);

/*
 * Writes the reverse-lookup name, "4.3.2.1.in-addr.arpa" or the 32-nibble
 * ".ip6.arpa" form (RFC 3596 section 2.5), into buf (at least 74 bytes).
 */
void	ip_ptr_name(const struct ipaddr *ip, char *buf, size_t len);

#endif
