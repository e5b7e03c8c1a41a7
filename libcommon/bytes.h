/*
 * bytes: fixed-width little-endian integers in byte buffers, for the
 * on-disk records of the state store and the dynamic screen, so their
 * files read the same whatever the host's byte order.
 */
#ifndef MG_BYTES_H
#define MG_BYTES_H

#include <stdint.h>

static inline void
put32(unsigned char *p, uint32_t u)
{
	p[0] = (unsigned char)u;
	p[1] = (unsigned char)(u >> 8);
	p[2] = (unsigned char)(u >> 16);
	p[3] = (unsigned char)(u >> 24);
}

static inline uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static inline void
put64(unsigned char *p, uint64_t u)
{
	put32(p, (uint32_t)u);
	put32(p + 4, (uint32_t)(u >> 32));
}

static inline uint64_t
get64(const unsigned char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

#endif
