/*
 * list_impl: what list.c (opening, mapping, lookups) and list_parse.c
 * (text to image) share.  Private to the list module; see list.h.
 */
#ifndef MG_LIST_IMPL_H
#define MG_LIST_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "list.h"

#define KIND_HOST	'H'
#define KIND_ADDR	'A'
#define KEY_MAX		(LIST_ENTRY_MAX + 8)
#define GLOB_CHARS	"*?[\\"

/* Records of the compiled image; all fields 32-bit, 4-byte aligned. */
struct rec_len {
	uint32_t	len, start, count;
};
struct rec_cidr {
	uint8_t		net[16];
	uint32_t	val;
};
struct rec_key {
	uint32_t	key, val;
};
struct rec_glob {
	uint32_t	pat, val, kind;
};

/*
 * Parses text (len bytes and a NUL, modified in place) read from path
 * into the image list.h describes, in memory.  The header's src_* and
 * read_sec fields are copied from src.  Returns the image, to free(3),
 * and its size in *size; or NULL and e ("PATH:LINE: reason").
 */
void	*list_build(char *text, size_t len, const char *path,
	    const struct list_hdr *src, size_t *size, struct mgerr *e);

#endif
